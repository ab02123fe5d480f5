/* The scoring pipeline: filter -> score per criterion -> normalize ->
 * weighted sum. A criterion plugs in as a filter, a scorer, or both. The
 * service and the simulator call the same pipeline and never look inside a
 * criterion.
 *
 * Scores follow kube-scheduler's framework: each scorer returns 0..100
 * (MaxNodeScore), optional normalization keeps that range, and a node's
 * total is the weighted mean of its criteria, 0..100. The extender wire
 * format expects 0..10, and score_to_extender_priority() maps to it.
 *
 * Threads: a pipeline is immutable once built, so any number of threads may
 * run it at once over a model they hold for reading.
 */
#ifndef STOWAGE_SCORE_PIPELINE_H
#define STOWAGE_SCORE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "scoring/model.h"

#define SCORE_MAX_NODE_SCORE 100      /* framework.MaxNodeScore */
#define SCORE_MAX_EXTENDER_PRIORITY 10 /* extenderv1.MaxExtenderPriority */
#define SCORE_MAX_CRITERIA 16

typedef enum score_fit {
	SCORE_FIT = 0,
	/* Rejected, but evicting lower-priority pods could make it fit, or
	 * the node is not in the model yet and may be soon. */
	SCORE_REJECT_RESOLVABLE,
	/* Rejected whatever is evicted (taint, cordon, too small). */
	SCORE_REJECT_UNRESOLVABLE,
} score_fit;

/* Resources in use on one node as filters and scorers see them: the node's
 * totals, less the victims of a preemption being evaluated. */
typedef struct score_usage {
	score_resources requested;
	score_resources nonzero_requested;
	/* The candidate's victims, borrowed from it, so that filters which
	 * look at the node's pods (host ports, isolation) can skip them. */
	const score_pod *const *victims;
	size_t n_victims;
} score_usage;

/* Returns true when `pod` is one of the victims in `usage`. */
bool score_usage_is_victim(const score_usage *usage, const score_pod *pod);

/* Per-request states of criteria with a prepare function; see
 * score_request_cache_new(). */
typedef struct score_request_cache score_request_cache;

/* One scheduling question: where may `pod` go, given `model`. */
typedef struct score_request {
	const score_model *model;
	const score_pod *pod;
	int64_t now_ms; /* monotonic milliseconds */
	/* May be NULL. When set, a criterion's prepared state is computed
	 * once and shared by score_pipeline_filter(), score_pipeline_score()
	 * and score_pipeline_explain() on this request; the model must not
	 * change between those calls. Without it each call prepares and
	 * releases its own. */
	score_request_cache *cache;
} score_request;

/* Returns an empty cache; the caller frees it with
 * score_request_cache_free() once the request is done, which releases
 * every state in it. */
score_request_cache *score_request_cache_new(void);
void score_request_cache_free(score_request_cache *cache);

/* A node to evaluate. `node` is NULL when the name is not in the model:
 * the pipeline rejects it as unknown. `victims` lists pods to evaluate as
 * if they were gone (preemption); they must be counted on `node`. */
typedef struct score_candidate {
	const char *name;                /* borrowed */
	const score_node *node;          /* borrowed, may be NULL */
	const score_pod *const *victims; /* borrowed, may be NULL */
	size_t n_victims;
} score_candidate;

/* A filter appends one reason to `reason` when it rejects, with the
 * numbers that decided, e.g. "cpu: requested 3500m, free 2000m". */
typedef score_fit (*score_filter_fn)(const void *config,
				     const score_request *request,
				     const score_node *node,
				     const score_usage *usage,
				     GString *reason);

/* A scorer returns 0..SCORE_MAX_NODE_SCORE for one node that passed, or
 * SCORE_SKIP when the criterion does not apply to this pod. A skipped
 * criterion is left out of the weighted mean instead of counting as 0.
 * A scorer with a normalizer may instead return any raw value of 0 or
 * more that its normalizer maps to 0..SCORE_MAX_NODE_SCORE, as
 * kube-scheduler's InterPodAffinity returns counts. */
#define SCORE_SKIP (-1)

typedef int64_t (*score_scorer_fn)(const void *config,
				   const score_request *request,
				   const score_node *node,
				   const score_usage *usage);

/* A normalizer rescales one criterion's scores over all passing nodes in
 * place, keeping 0..SCORE_MAX_NODE_SCORE and leaving SCORE_SKIP entries. */
typedef void (*score_normalize_fn)(const void *config, int64_t *scores,
				   size_t n);

typedef struct score_filter {
	const char *name; /* static string, used in logs */
	score_filter_fn run;
	const void *config; /* borrowed: must outlive the pipeline */
} score_filter;

typedef struct score_scorer {
	const char *name; /* static string, used in logs and metrics */
	score_scorer_fn run;
	score_normalize_fn normalize; /* may be NULL */
	const void *config;           /* borrowed: must outlive the pipeline */
	int64_t weight;               /* > 0 */
} score_scorer;

/* Optional per-request preparation of a criterion, for work that depends
 * on the pod but not on the node (such as finding the pod's peers): it
 * runs once per request before any node is evaluated, and its result is
 * passed to the criterion's run, normalize and explain functions in place
 * of its config. A filter and a scorer with the same prepare function and
 * config share one state when the request has a cache. `release` frees the
 * state. */
typedef void *(*score_prepare_fn)(const void *config,
				  const score_request *request);
typedef void (*score_release_fn)(void *state);

/* Adds members to `out`, a JSON object, that explain the criterion's
 * scores for the request (for the decision log), or nothing when the
 * criterion has no explanation for it. */
typedef void (*score_explain_fn)(const void *config,
				 const score_request *request, cJSON *out);

/* Appends to `out` what lowered the criterion's score on `node`, in words
 * like a filter reason's (for the decision log's top nodes). It appends
 * nothing when nothing did. */
typedef void (*score_explain_node_fn)(const void *config,
				      const score_request *request,
				      const score_node *node,
				      const score_usage *usage, GString *out);

/* Optional functions of a filter or scorer; all may be NULL. */
typedef struct score_hooks {
	score_prepare_fn prepare;
	score_release_fn release; /* set when prepare is */
	score_explain_fn explain; /* scorers only */
	score_explain_node_fn explain_node; /* scorers only */
} score_hooks;

typedef struct score_pipeline {
	score_filter filters[SCORE_MAX_CRITERIA];
	size_t n_filters;
	score_scorer scorers[SCORE_MAX_CRITERIA];
	size_t n_scorers;
	/* Hooks of filters[i] and scorers[i]; zeroed for criteria added
	 * without them. */
	score_hooks filter_hooks[SCORE_MAX_CRITERIA];
	score_hooks scorer_hooks[SCORE_MAX_CRITERIA];
} score_pipeline;

/* Per-candidate outcome. */
typedef struct score_node_result {
	const char *name;        /* borrowed from the candidate */
	const score_node *node;  /* borrowed, NULL when unknown */
	score_fit fit;
	char *reason;            /* owned, NULL when the node fits */
	/* Per scorer, 0..100, or SCORE_SKIP where it did not apply. */
	int64_t criteria[SCORE_MAX_CRITERIA];
	int64_t total; /* weighted mean of the applied criteria, 0..100 */
} score_node_result;

typedef struct score_result {
	score_node_result *nodes; /* one per candidate, in request order */
	size_t n_nodes;
	size_t n_fit;
} score_result;

void score_pipeline_init(score_pipeline *pipeline);

/* Appends a filter or scorer; fails with -ENOSPC past SCORE_MAX_CRITERIA
 * and -EINVAL for a scorer weight below 1. */
int score_pipeline_add_filter(score_pipeline *pipeline,
			      const score_filter *filter, score_error *err);
int score_pipeline_add_scorer(score_pipeline *pipeline,
			      const score_scorer *scorer, score_error *err);

/* Same, with hooks; `hooks` is copied. */
int score_pipeline_add_filter_with_hooks(score_pipeline *pipeline,
					 const score_filter *filter,
					 const score_hooks *hooks,
					 score_error *err);
int score_pipeline_add_scorer_with_hooks(score_pipeline *pipeline,
					 const score_scorer *scorer,
					 const score_hooks *hooks,
					 score_error *err);

/* Runs every filter on every candidate. `result` is initialized here and
 * released by the caller with score_result_release(). */
void score_pipeline_filter(const score_pipeline *pipeline,
			   const score_request *request,
			   const score_candidate *candidates, size_t n,
			   score_result *result);

/* Scores the candidates that fit in `result` (from score_pipeline_filter()
 * on the same candidates): each criterion, its normalization, then the
 * weighted total. */
void score_pipeline_score(const score_pipeline *pipeline,
			  const score_request *request,
			  const score_candidate *candidates,
			  score_result *result);

void score_result_release(score_result *result);

/* Returns scorer `index`'s explanation of `request` as a new JSON object
 * the caller frees with cJSON_Delete(), or NULL when the scorer has no
 * explain function or no explanation for the request. */
cJSON *score_pipeline_explain(const score_pipeline *pipeline,
			      const score_request *request, size_t index);

/* Appends scorer `index`'s explanation of its score on `candidate` to
 * `out` (see score_explain_node_fn). It appends nothing when the scorer
 * has no explain_node function. */
void score_pipeline_explain_node(const score_pipeline *pipeline,
				 const score_request *request, size_t index,
				 const score_candidate *candidate, GString *out);

/* Computes the usage a candidate is evaluated with. */
void score_candidate_usage(const score_candidate *candidate,
			   score_usage *usage);

/* Maps a 0..100 total to the extender's 0..10, rounding half up. */
int64_t score_to_extender_priority(int64_t total);

#endif
