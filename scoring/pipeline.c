/* The filter -> score -> normalize -> weighted sum pipeline; see pipeline.h. */
#include "scoring/pipeline.h"

#include <errno.h>
#include <string.h>

/* ---- Prepared states ----------------------------------------------------- */

typedef struct prepared_state {
	score_prepare_fn prepare;
	const void *config;
	score_release_fn release;
	void *state;
} prepared_state;

struct score_request_cache {
	prepared_state states[2 * SCORE_MAX_CRITERIA];
	size_t n;
};

score_request_cache *score_request_cache_new(void)
{
	return g_new0(score_request_cache, 1);
}

static void cache_release(score_request_cache *cache)
{
	for (size_t i = 0; i < cache->n; i++) {
		if (cache->states[i].release != NULL)
			cache->states[i].release(cache->states[i].state);
	}
	cache->n = 0;
}

void score_request_cache_free(score_request_cache *cache)
{
	if (cache == NULL)
		return;
	cache_release(cache);
	g_free(cache);
}

/* Returns what a criterion's functions receive as their first argument:
 * its config, or its prepared state for this request, taken from the
 * request's cache or from `local` when the request has none. */
static const void *criterion_argument(const score_hooks *hooks,
				      const void *config,
				      const score_request *request,
				      score_request_cache *local)
{
	score_request_cache *cache = request->cache != NULL ? request->cache : local;
	score_prepare_fn prepare = hooks->prepare;
	prepared_state *entry;

	if (prepare == NULL)
		return config;
	for (size_t i = 0; i < cache->n; i++) {
		if (cache->states[i].prepare == prepare &&
		    cache->states[i].config == config)
			return cache->states[i].state;
	}
	/* Two entries per criterion at most, so the array never fills. */
	g_return_val_if_fail(cache->n < G_N_ELEMENTS(cache->states), config);
	entry = &cache->states[cache->n++];
	entry->prepare = prepare;
	entry->config = config;
	entry->release = hooks->release;
	entry->state = prepare(config, request);
	return entry->state;
}

/* ---- Pipeline ------------------------------------------------------------ */

void score_pipeline_init(score_pipeline *pipeline)
{
	memset(pipeline, 0, sizeof(*pipeline));
}

int score_pipeline_add_filter(score_pipeline *pipeline,
			      const score_filter *filter, score_error *err)
{
	if (pipeline->n_filters >= SCORE_MAX_CRITERIA)
		return score_fail(err, -ENOSPC,
				  "cannot add filter %s: a pipeline holds at most %d filters",
				  filter->name, SCORE_MAX_CRITERIA);
	pipeline->filters[pipeline->n_filters++] = *filter;
	return 0;
}

int score_pipeline_add_filter_with_hooks(score_pipeline *pipeline,
					 const score_filter *filter,
					 const score_hooks *hooks,
					 score_error *err)
{
	int rc = score_pipeline_add_filter(pipeline, filter, err);

	if (rc == 0 && hooks != NULL)
		pipeline->filter_hooks[pipeline->n_filters - 1] = *hooks;
	return rc;
}

int score_pipeline_add_scorer(score_pipeline *pipeline,
			      const score_scorer *scorer, score_error *err)
{
	if (scorer->weight < 1)
		return score_fail(err, -EINVAL,
				  "invalid weight %lld for scorer %s: weights must be 1 or more",
				  (long long)scorer->weight, scorer->name);
	if (pipeline->n_scorers >= SCORE_MAX_CRITERIA)
		return score_fail(err, -ENOSPC,
				  "cannot add scorer %s: a pipeline holds at most %d scorers",
				  scorer->name, SCORE_MAX_CRITERIA);
	pipeline->scorers[pipeline->n_scorers++] = *scorer;
	return 0;
}

int score_pipeline_add_scorer_with_hooks(score_pipeline *pipeline,
					 const score_scorer *scorer,
					 const score_hooks *hooks,
					 score_error *err)
{
	int rc = score_pipeline_add_scorer(pipeline, scorer, err);

	if (rc == 0 && hooks != NULL)
		pipeline->scorer_hooks[pipeline->n_scorers - 1] = *hooks;
	return rc;
}

void score_candidate_usage(const score_candidate *candidate,
			   score_usage *usage)
{
	/* Every field is assigned below, so only an unknown node needs the
	 * zeroing; on this hot path the extra memset showed in profiles. */
	if (candidate->node == NULL) {
		memset(usage, 0, sizeof(*usage));
		return;
	}

	usage->requested = candidate->node->requested;
	usage->nonzero_requested = candidate->node->nonzero_requested;
	usage->victims = candidate->victims;
	usage->n_victims = candidate->n_victims;
	for (size_t i = 0; i < candidate->n_victims; i++) {
		const score_pod *victim = candidate->victims[i];

		if (!score_pod_counts(victim) || victim->node_name == NULL ||
		    strcmp(victim->node_name, candidate->node->name) != 0)
			continue;
		for (int r = 0; r < SCORE_RES_MAX; r++) {
			usage->requested.v[r] -= victim->request.v[r];
			usage->nonzero_requested.v[r] -=
				victim->nonzero_request.v[r];
		}
	}
}

bool score_usage_is_victim(const score_usage *usage, const score_pod *pod)
{
	for (size_t i = 0; i < usage->n_victims; i++) {
		if (usage->victims[i] == pod)
			return true;
	}
	return false;
}

static void filter_one(const score_pipeline *pipeline,
		       const score_request *request,
		       const void *const *arguments,
		       const score_candidate *candidate,
		       score_node_result *out, GString *reason)
{
	score_usage usage;
	score_fit worst = SCORE_FIT;

	out->name = candidate->name;
	out->node = candidate->node;

	if (candidate->node == NULL) {
		const char *problem = request->model != NULL
			? score_model_node_problem(request->model, candidate->name)
			: NULL;

		out->fit = SCORE_REJECT_RESOLVABLE;
		if (problem != NULL)
			out->reason = g_strdup_printf(
				"node %s is not in stowage's cluster view: its Node object could not be read (%s)",
				candidate->name, problem);
		else
			out->reason = g_strdup_printf(
				"node %s is not in stowage's cluster view yet", candidate->name);
		return;
	}

	score_candidate_usage(candidate, &usage);
	g_string_truncate(reason, 0);

	/* Every filter runs, so a rejection lists all its reasons. */
	for (size_t i = 0; i < pipeline->n_filters; i++) {
		const score_filter *filter = &pipeline->filters[i];
		size_t before = reason->len;
		score_fit fit;

		if (before > 0)
			g_string_append(reason, "; ");
		fit = filter->run(arguments[i], request, candidate->node,
				  &usage, reason);
		if (fit == SCORE_FIT) {
			g_string_truncate(reason, before);
			continue;
		}
		if (fit > worst)
			worst = fit;
	}

	out->fit = worst;
	if (worst != SCORE_FIT)
		out->reason = g_strndup(reason->str, reason->len);
}

void score_pipeline_filter(const score_pipeline *pipeline,
			   const score_request *request,
			   const score_candidate *candidates, size_t n,
			   score_result *result)
{
	GString *reason = g_string_sized_new(128);
	const void *arguments[SCORE_MAX_CRITERIA];
	score_request_cache local = {0};

	result->nodes = g_new0(score_node_result, n);
	result->n_nodes = n;
	result->n_fit = 0;

	for (size_t f = 0; f < pipeline->n_filters && n > 0; f++) {
		const score_filter *filter = &pipeline->filters[f];

		arguments[f] = criterion_argument(&pipeline->filter_hooks[f],
						  filter->config, request, &local);
	}
	for (size_t i = 0; i < n; i++) {
		filter_one(pipeline, request, arguments, &candidates[i],
			   &result->nodes[i], reason);
		if (result->nodes[i].fit == SCORE_FIT)
			result->n_fit++;
	}
	cache_release(&local);
	g_string_free(reason, TRUE);
}

/* Runs every scorer on `candidate`, which fits, and stores the raw
 * scores in `out->criteria`. One candidate at a time, so that its node's
 * data is read into the cache once for all criteria. The usage lives on
 * the stack: an array of one per candidate (about 136 KB for 500) made
 * glibc's malloc map fresh pages on every call of bench/bench_policy.c. */
static void score_one(const score_pipeline *pipeline,
		      const score_request *request,
		      const void *const *arguments,
		      const score_candidate *candidate, score_node_result *out)
{
	score_usage usage;

	score_candidate_usage(candidate, &usage);
	for (size_t s = 0; s < pipeline->n_scorers; s++)
		out->criteria[s] = pipeline->scorers[s].run(
			arguments[s], request, candidate->node, &usage);
}

/* Normalizes and clamps scorer `s`'s raw scores of the fitting
 * candidates `fit_index`, using `scores` (n_fit entries) as scratch. */
static void finish_criterion(const score_pipeline *pipeline, size_t s,
			     const void *argument, const size_t *fit_index,
			     size_t n_fit, int64_t *scores,
			     score_result *result)
{
	const score_scorer *scorer = &pipeline->scorers[s];

	for (size_t k = 0; k < n_fit; k++)
		scores[k] = result->nodes[fit_index[k]].criteria[s];
	if (scorer->normalize != NULL)
		scorer->normalize(argument, scores, n_fit);
	for (size_t k = 0; k < n_fit; k++) {
		int64_t score = scores[k];

		if (score != SCORE_SKIP)
			score = CLAMP(score, 0, SCORE_MAX_NODE_SCORE);
		result->nodes[fit_index[k]].criteria[s] = score;
	}
}

void score_pipeline_score(const score_pipeline *pipeline,
			  const score_request *request,
			  const score_candidate *candidates,
			  score_result *result)
{
	size_t n_fit = result->n_fit;
	const void *arguments[SCORE_MAX_CRITERIA];
	int64_t *scores;
	size_t *fit_index;
	score_request_cache local = {0};

	if (n_fit == 0 || pipeline->n_scorers == 0)
		return;

	for (size_t s = 0; s < pipeline->n_scorers; s++)
		arguments[s] = criterion_argument(&pipeline->scorer_hooks[s],
						  pipeline->scorers[s].config,
						  request, &local);

	/* Scorers are pure functions of their argument, the request and the
	 * candidate, so running them candidate by candidate gives the
	 * scores that running each scorer over all candidates would. */
	fit_index = g_new(size_t, n_fit);
	for (size_t i = 0, k = 0; i < result->n_nodes; i++) {
		if (result->nodes[i].fit != SCORE_FIT)
			continue;
		fit_index[k++] = i;
		score_one(pipeline, request, arguments, &candidates[i],
			  &result->nodes[i]);
	}

	scores = g_new(int64_t, n_fit);
	for (size_t s = 0; s < pipeline->n_scorers; s++)
		finish_criterion(pipeline, s, arguments[s], fit_index, n_fit,
				 scores, result);

	/* Weighted mean in integers, as kube-scheduler sums weighted plugin
	 * scores; dividing by the weight sum keeps the 0..100 range. */
	for (size_t k = 0; k < n_fit; k++) {
		score_node_result *node = &result->nodes[fit_index[k]];
		int64_t sum = 0;
		int64_t weight_sum = 0;

		for (size_t s = 0; s < pipeline->n_scorers; s++) {
			if (node->criteria[s] == SCORE_SKIP)
				continue;
			sum += node->criteria[s] * pipeline->scorers[s].weight;
			weight_sum += pipeline->scorers[s].weight;
		}
		node->total = weight_sum > 0 ? sum / weight_sum : 0;
	}

	cache_release(&local);
	g_free(scores);
	g_free(fit_index);
}

cJSON *score_pipeline_explain(const score_pipeline *pipeline,
			      const score_request *request, size_t index)
{
	const score_scorer *scorer;
	score_request_cache local = {0};
	const void *argument;
	cJSON *out;

	if (index >= pipeline->n_scorers ||
	    pipeline->scorer_hooks[index].explain == NULL)
		return NULL;
	out = cJSON_CreateObject();
	if (out == NULL)
		return NULL;
	scorer = &pipeline->scorers[index];
	argument = criterion_argument(&pipeline->scorer_hooks[index],
				      scorer->config, request, &local);
	pipeline->scorer_hooks[index].explain(argument, request, out);
	cache_release(&local);
	if (out->child == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

void score_pipeline_explain_node(const score_pipeline *pipeline,
				 const score_request *request, size_t index,
				 const score_candidate *candidate, GString *out)
{
	score_request_cache local = {0};
	const void *argument;
	score_usage usage;

	if (index >= pipeline->n_scorers ||
	    pipeline->scorer_hooks[index].explain_node == NULL ||
	    candidate->node == NULL)
		return;
	argument = criterion_argument(&pipeline->scorer_hooks[index],
				      pipeline->scorers[index].config, request,
				      &local);
	score_candidate_usage(candidate, &usage);
	pipeline->scorer_hooks[index].explain_node(argument, request,
						   candidate->node, &usage, out);
	cache_release(&local);
}

void score_result_release(score_result *result)
{
	for (size_t i = 0; i < result->n_nodes; i++)
		g_free(result->nodes[i].reason);
	g_free(result->nodes);
	memset(result, 0, sizeof(*result));
}

int64_t score_to_extender_priority(int64_t total)
{
	/* Rounded, not truncated: 79 and 70 become 8 and 7 instead of both
	 * 7, which keeps more of the ranking in the extender's 11 levels. */
	int64_t priority = (total * SCORE_MAX_EXTENDER_PRIORITY + SCORE_MAX_NODE_SCORE / 2) /
			   SCORE_MAX_NODE_SCORE;

	return CLAMP(priority, 0, SCORE_MAX_EXTENDER_PRIORITY);
}
