/* The filter -> score -> normalize -> weighted sum pipeline; see pipeline.h. */
#include "scoring/pipeline.h"

#include <errno.h>
#include <string.h>

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
		       const score_candidate *candidate,
		       score_node_result *out, GString *reason)
{
	score_usage usage;
	score_fit worst = SCORE_FIT;

	out->name = candidate->name;
	out->node = candidate->node;

	if (candidate->node == NULL) {
		out->fit = SCORE_REJECT_RESOLVABLE;
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
		fit = filter->run(filter->config, request, candidate->node,
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

	result->nodes = g_new0(score_node_result, n);
	result->n_nodes = n;
	result->n_fit = 0;

	for (size_t i = 0; i < n; i++) {
		filter_one(pipeline, request, &candidates[i], &result->nodes[i],
			   reason);
		if (result->nodes[i].fit == SCORE_FIT)
			result->n_fit++;
	}
	g_string_free(reason, TRUE);
}

void score_pipeline_score(const score_pipeline *pipeline,
			  const score_request *request,
			  const score_candidate *candidates,
			  score_result *result)
{
	size_t n_fit = result->n_fit;
	int64_t *scores;
	size_t *fit_index;
	score_usage *usages;

	if (n_fit == 0 || pipeline->n_scorers == 0)
		return;

	scores = g_new(int64_t, n_fit);
	fit_index = g_new(size_t, n_fit);
	usages = g_new(score_usage, n_fit);
	for (size_t i = 0, k = 0; i < result->n_nodes; i++) {
		if (result->nodes[i].fit != SCORE_FIT)
			continue;
		fit_index[k] = i;
		score_candidate_usage(&candidates[i], &usages[k]);
		k++;
	}

	for (size_t s = 0; s < pipeline->n_scorers; s++) {
		const score_scorer *scorer = &pipeline->scorers[s];

		for (size_t k = 0; k < n_fit; k++)
			scores[k] = scorer->run(scorer->config, request,
						candidates[fit_index[k]].node,
						&usages[k]);
		if (scorer->normalize != NULL)
			scorer->normalize(scorer->config, scores, n_fit);
		for (size_t k = 0; k < n_fit; k++) {
			int64_t score = scores[k];

			if (score != SCORE_SKIP)
				score = CLAMP(score, 0, SCORE_MAX_NODE_SCORE);
			result->nodes[fit_index[k]].criteria[s] = score;
		}
	}

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

	g_free(scores);
	g_free(fit_index);
	g_free(usages);
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
