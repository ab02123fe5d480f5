/* Spread filter and scorer; see spread.h for the rule. */
#include "scoring/spread.h"

#include <math.h>
#include <string.h>

/* The raw score of a node without the level's label; the normalizer
 * turns it into 0, as PodTopologySpread does for its ignored nodes. */
#define NO_DOMAIN (-2)

/* ---- Config -------------------------------------------------------------- */

void score_spread_init(score_spread_config *config)
{
	memset(config, 0, sizeof(*config));
	config->level = score_intern(SCORE_DEFAULT_SPREAD_LEVEL);
	config->max_skew = 1;
}

void score_spread_release(score_spread_config *config)
{
	score_unintern(config->level);
	memset(config, 0, sizeof(*config));
}

void score_spread_set_level(score_spread_config *config, const char *key)
{
	const char *old = config->level;

	config->level = score_intern(key);
	score_unintern(old);
}

/* ---- Counting replicas --------------------------------------------------- */

static bool same_pod(const score_pod *a, const score_pod *b)
{
	if (a == b)
		return true;
	return a->uid != NULL && b->uid != NULL && strcmp(a->uid, b->uid) == 0;
}

/* A replica that counts: running or assumed on a node, not the incoming
 * pod itself, and not a victim of the preemption being evaluated. */
static bool counts_as_replica(const score_usage *usage, const score_pod *self,
			      const score_pod *pod)
{
	if (same_pod(pod, self) || !score_pod_counts(pod))
		return false;
	return !score_usage_is_victim(usage, pod);
}

/* Returns the interned label value naming the pod's domain, or NULL when
 * its node is gone or lacks the label. */
static const char *pod_domain(const score_spread_config *config,
			      const score_model *model, const score_pod *pod)
{
	const score_node *node = score_model_node(model, pod->node_name);

	return node != NULL ? score_labels_get(&node->labels, config->level)
			    : NULL;
}

/* Counts the workload's replicas in `domain` and in all. */
static void count_replicas(const score_spread_config *config,
			   const score_request *request,
			   const score_usage *usage, const char *domain,
			   int64_t *in_domain, int64_t *total)
{
	const GPtrArray *pods = score_model_owner_pods(request->model,
						       request->pod->owner.uid);

	*in_domain = 0;
	*total = 0;
	for (guint i = 0; pods != NULL && i < pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(pods, i);

		if (!counts_as_replica(usage, request->pod, pod))
			continue;
		(*total)++;
		if (pod_domain(config, request->model, pod) == domain)
			(*in_domain)++;
	}
}

/* Returns the fewest replicas in any domain of the level; a domain that
 * no replica occupies has 0. */
static int64_t min_replicas(const score_spread_config *config,
			    const score_request *request,
			    const score_usage *usage)
{
	const GPtrArray *pods = score_model_owner_pods(request->model,
						       request->pod->owner.uid);
	size_t domains = score_model_label_domains(request->model,
						   config->level);
	GHashTable *counts = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTableIter iter;
	gpointer value;
	int64_t min = 0;

	for (guint i = 0; pods != NULL && i < pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(pods, i);
		const char *domain;
		guint count;

		if (!counts_as_replica(usage, request->pod, pod))
			continue;
		domain = pod_domain(config, request->model, pod);
		if (domain == NULL)
			continue;
		count = GPOINTER_TO_UINT(g_hash_table_lookup(counts, domain));
		g_hash_table_insert(counts, (gpointer)domain,
				    GUINT_TO_POINTER(count + 1));
	}

	if (g_hash_table_size(counts) >= domains) {
		min = INT64_MAX;
		g_hash_table_iter_init(&iter, counts);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			min = MIN(min, (int64_t)GPOINTER_TO_UINT(value));
		if (min == INT64_MAX)
			min = 0;
	}
	g_hash_table_destroy(counts);
	return min;
}

/* ---- Messages ------------------------------------------------------------ */

/* The word for a domain of the well-known levels, or NULL. */
static const char *level_noun(const char *level)
{
	if (strcmp(level, "kubernetes.io/hostname") == 0)
		return "node";
	if (strcmp(level, "topology.kubernetes.io/zone") == 0)
		return "zone";
	if (strcmp(level, "topology.kubernetes.io/region") == 0)
		return "region";
	return NULL;
}

static void append_domain(GString *out, const char *level, const char *value)
{
	const char *noun = level_noun(level);

	if (noun != NULL)
		g_string_append_printf(out, "%s %s", noun, value);
	else
		g_string_append_printf(out, "domain %s=%s", level, value);
}

static void append_workload(GString *out, const score_pod *pod)
{
	g_string_append_printf(out, "%s %s/%s", pod->owner.kind,
			       pod->namespace != NULL ? pod->namespace : "",
			       pod->owner.name != NULL ? pod->owner.name
						       : pod->owner.uid);
}

static void append_skew(GString *out, const score_spread_config *config,
			const score_pod *pod, const char *domain,
			int64_t in_domain, int64_t total, int64_t min)
{
	const char *noun = level_noun(config->level);

	g_string_append(out, "spread: ");
	append_domain(out, config->level, domain);
	g_string_append_printf(out, " already has %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " replicas of ",
			       in_domain, total);
	append_workload(out, pod);
	g_string_append_printf(out,
			       " and the emptiest %s has %" G_GINT64_FORMAT "; one more there makes the skew %" G_GINT64_FORMAT ", above maxSkew %" G_GINT64_FORMAT,
			       noun != NULL ? noun : "domain", min,
			       in_domain + 1 - min, config->max_skew);
}

/* ---- Filter, scorer, normalizer ------------------------------------------ */

score_fit score_filter_spread(const void *config,
			      const score_request *request,
			      const score_node *node, const score_usage *usage,
			      GString *reason)
{
	const score_spread_config *spread = config;
	const char *domain;
	int64_t in_domain;
	int64_t total;
	int64_t min;

	if (!spread->hard || request->pod->owner.uid == NULL)
		return SCORE_FIT;

	domain = score_labels_get(&node->labels, spread->level);
	if (domain == NULL) {
		g_string_append_printf(reason,
				       "spread: node has no label %s, and spec.spread in mode hard places replicas only on nodes with one",
				       spread->level);
		return SCORE_REJECT_UNRESOLVABLE;
	}

	count_replicas(spread, request, usage, domain, &in_domain, &total);
	/* The minimum is at least 0, so this count alone cannot break the
	 * rule, and the walk over every domain is skipped. */
	if (in_domain + 1 <= spread->max_skew)
		return SCORE_FIT;
	min = min_replicas(spread, request, usage);
	if (in_domain + 1 - min <= spread->max_skew)
		return SCORE_FIT;

	append_skew(reason, spread, request->pod, domain, in_domain, total, min);
	return SCORE_REJECT_UNRESOLVABLE;
}

int64_t score_spread(const void *config, const score_request *request,
		     const score_node *node, const score_usage *usage)
{
	const score_spread_config *spread = config;
	const char *domain;
	size_t domains;
	int64_t in_domain;
	int64_t total;
	double raw;

	if (spread->hard || request->pod->owner.uid == NULL)
		return SCORE_SKIP;
	domain = score_labels_get(&node->labels, spread->level);
	if (domain == NULL)
		return NO_DOMAIN;

	count_replicas(spread, request, usage, domain, &in_domain, &total);
	domains = score_model_label_domains(request->model, spread->level);
	raw = (double)in_domain * log((double)domains + 2.0) +
	      (double)(spread->max_skew - 1);
	return (int64_t)llround(raw);
}

void score_spread_normalize(const void *config, int64_t *scores, size_t n)
{
	int64_t min = INT64_MAX;
	int64_t max = 0;

	(void)config;
	for (size_t i = 0; i < n; i++) {
		if (scores[i] == SCORE_SKIP || scores[i] == NO_DOMAIN)
			continue;
		min = MIN(min, scores[i]);
		max = MAX(max, scores[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (scores[i] == SCORE_SKIP)
			continue;
		if (scores[i] == NO_DOMAIN)
			scores[i] = 0;
		else if (max == 0)
			scores[i] = SCORE_MAX_NODE_SCORE;
		else
			scores[i] = SCORE_MAX_NODE_SCORE * (max + min - scores[i]) / max;
	}
}

/* Explains a soft spread score with the replicas already in the node's
 * domain, or the missing label that scores the node 0. */
static void explain_spread_node(const void *config, const score_request *request,
				const score_node *node, const score_usage *usage,
				GString *out)
{
	const score_spread_config *spread = config;
	const char *domain;
	int64_t in_domain;
	int64_t total;

	if (spread->hard || request->pod->owner.uid == NULL)
		return;
	domain = score_labels_get(&node->labels, spread->level);
	if (domain == NULL) {
		g_string_append_printf(out, "spread: node has no label %s, so it scores 0",
				       spread->level);
		return;
	}
	count_replicas(spread, request, usage, domain, &in_domain, &total);
	if (in_domain == 0)
		return;
	g_string_append(out, "spread: ");
	append_domain(out, spread->level, domain);
	g_string_append_printf(out, " already has %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " replicas of ",
			       in_domain, total);
	append_workload(out, request->pod);
}

int score_pipeline_add_spread(score_pipeline *pipeline,
			      const score_spread_config *config, int64_t weight,
			      score_error *err)
{
	const score_filter filter = {"Spread", score_filter_spread, config};
	const score_scorer scorer = {"Spread", score_spread,
				     score_spread_normalize, config, weight};
	const score_hooks hooks = {.explain_node = explain_spread_node};

	if (config->hard)
		return score_pipeline_add_filter(pipeline, &filter, err);
	if (weight <= 0)
		return 0;
	return score_pipeline_add_scorer_with_hooks(pipeline, &scorer, &hooks, err);
}
