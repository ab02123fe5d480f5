/* Tests for scoring/pipeline.c with stand-in criteria, so the pipeline's own
 * rules (every filter runs, worst verdict wins, skipped criteria leave the
 * mean, normalization, weights) are checked apart from any real criterion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "scoring/pipeline.h"

static score_fit reject_named_b(const void *config, const score_request *request,
				const score_node *node, const score_usage *usage,
				GString *reason)
{
	(void)config;
	(void)request;
	(void)usage;
	if (strcmp(node->name, "b") != 0)
		return SCORE_FIT;
	g_string_append(reason, "b is resolvable");
	return SCORE_REJECT_RESOLVABLE;
}

static score_fit reject_b_and_c_hard(const void *config, const score_request *request,
				     const score_node *node, const score_usage *usage,
				     GString *reason)
{
	(void)config;
	(void)request;
	(void)usage;
	if (strcmp(node->name, "a") == 0)
		return SCORE_FIT;
	g_string_append_printf(reason, "%s is hard", node->name);
	return SCORE_REJECT_UNRESOLVABLE;
}

/* Scores from the node's allocatable CPU slot, so tests choose them. */
static int64_t score_from_cpu(const void *config, const score_request *request,
			      const score_node *node, const score_usage *usage)
{
	(void)config;
	(void)request;
	(void)usage;
	return node->allocatable.v[SCORE_RES_CPU];
}

static int64_t score_from_memory(const void *config, const score_request *request,
				 const score_node *node, const score_usage *usage)
{
	(void)config;
	(void)request;
	(void)usage;
	return node->allocatable.v[SCORE_RES_MEMORY];
}

/* Rescales so the best node gets 100, ignoring skipped entries. */
static void normalize_to_max(const void *config, int64_t *scores, size_t n)
{
	int64_t max = 0;

	(void)config;
	for (size_t i = 0; i < n; i++) {
		if (scores[i] > max)
			max = scores[i];
	}
	for (size_t i = 0; i < n && max > 0; i++) {
		if (scores[i] != SCORE_SKIP)
			scores[i] = scores[i] * 100 / max;
	}
}

static score_node nodes[3];

static void setup(void)
{
	static const char *const names[] = {"a", "b", "c"};

	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < 3; i++)
		nodes[i].name = names[i];
}

static void candidates_for(score_candidate *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (score_candidate){.name = nodes[i].name, .node = &nodes[i]};
}

TestSuite(pipeline, .init = setup);

Test(pipeline, worst_verdict_and_all_reasons)
{
	score_pipeline pipeline;
	score_filter soft = {"soft", reject_named_b, NULL};
	score_filter hard = {"hard", reject_b_and_c_hard, NULL};
	score_request request = {0};
	score_candidate candidates[3];
	score_result result;

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_filter(&pipeline, &soft, NULL), 0);
	cr_assert_eq(score_pipeline_add_filter(&pipeline, &hard, NULL), 0);
	candidates_for(candidates, 3);
	score_pipeline_filter(&pipeline, &request, candidates, 3, &result);

	cr_assert_eq(result.n_fit, 1, "n_fit %zu", result.n_fit);
	cr_assert_eq(result.nodes[0].fit, SCORE_FIT);
	cr_assert_eq(result.nodes[1].fit, SCORE_REJECT_UNRESOLVABLE,
		     "worst verdict must win, got %d", result.nodes[1].fit);
	cr_assert_str_eq(result.nodes[1].reason, "b is resolvable; b is hard");
	cr_assert_str_eq(result.nodes[2].reason, "c is hard");
	score_result_release(&result);
}

Test(pipeline, unknown_node_is_resolvable)
{
	score_pipeline pipeline;
	score_request request = {0};
	score_candidate candidate = {.name = "ghost", .node = NULL};
	score_result result;

	score_pipeline_init(&pipeline);
	score_pipeline_filter(&pipeline, &request, &candidate, 1, &result);
	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	cr_assert(strstr(result.nodes[0].reason, "ghost") != NULL, "reason: %s",
		  result.nodes[0].reason);
	score_result_release(&result);
}

Test(pipeline, unreadable_node_gives_its_problem)
{
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	score_pipeline pipeline;
	score_request request = {.model = model};
	score_candidate candidate = {.name = "ghost", .node = NULL};
	score_node *node;
	score_result result;

	score_model_set_node_problem(model, "ghost",
				     "status.allocatable.cpu: invalid quantity \"lots\"");
	score_pipeline_init(&pipeline);
	score_pipeline_filter(&pipeline, &request, &candidate, 1, &result);
	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	cr_assert_str_eq(result.nodes[0].reason,
			 "node ghost is not in stowage's cluster view: its Node object could not be read (status.allocatable.cpu: invalid quantity \"lots\")");
	score_result_release(&result);

	/* A good copy of the node clears the problem. */
	node = score_node_new();
	node->name = score_intern("ghost");
	score_model_put_node(model, node);
	cr_assert_null(score_model_node_problem(model, "ghost"),
		       "putting the node clears its problem");
	score_model_set_node_problem(model, "other", "bad");
	cr_assert_str_eq(score_model_node_problem(model, "other"), "bad");
	score_model_remove_node(model, "other");
	cr_assert_null(score_model_node_problem(model, "other"),
		       "removing the node clears its problem");
	score_model_free(model);
	score_resource_table_free(resources);
}

Test(pipeline, weighted_mean_with_skip_and_normalize)
{
	score_pipeline pipeline;
	score_scorer first = {"first", score_from_cpu, normalize_to_max, NULL, 3};
	score_scorer second = {"second", score_from_memory, NULL, NULL, 1};
	score_request request = {0};
	score_candidate candidates[3];
	score_result result;

	/* first: 20, 40, skip -> normalized 50, 100, skip.
	 * second: 10, 70, 90. Totals: a (50*3+10)/4 = 40,
	 * b (100*3+70)/4 = 92, c 90 alone. */
	nodes[0].allocatable.v[SCORE_RES_CPU] = 20;
	nodes[1].allocatable.v[SCORE_RES_CPU] = 40;
	nodes[2].allocatable.v[SCORE_RES_CPU] = SCORE_SKIP;
	nodes[0].allocatable.v[SCORE_RES_MEMORY] = 10;
	nodes[1].allocatable.v[SCORE_RES_MEMORY] = 70;
	nodes[2].allocatable.v[SCORE_RES_MEMORY] = 90;

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_scorer(&pipeline, &first, NULL), 0);
	cr_assert_eq(score_pipeline_add_scorer(&pipeline, &second, NULL), 0);
	candidates_for(candidates, 3);
	score_pipeline_filter(&pipeline, &request, candidates, 3, &result);
	score_pipeline_score(&pipeline, &request, candidates, &result);

	cr_assert_eq(result.nodes[0].criteria[0], 50, "a first %lld",
		     (long long)result.nodes[0].criteria[0]);
	cr_assert_eq(result.nodes[2].criteria[0], SCORE_SKIP);
	cr_assert_eq(result.nodes[0].total, 40, "a total %lld", (long long)result.nodes[0].total);
	cr_assert_eq(result.nodes[1].total, 92, "b total %lld", (long long)result.nodes[1].total);
	cr_assert_eq(result.nodes[2].total, 90, "c total %lld", (long long)result.nodes[2].total);
	score_result_release(&result);
}

Test(pipeline, scores_clamped_and_rejected_nodes_unscored)
{
	score_pipeline pipeline;
	score_filter soft = {"soft", reject_named_b, NULL};
	score_scorer scorer = {"raw", score_from_cpu, NULL, NULL, 1};
	score_request request = {0};
	score_candidate candidates[3];
	score_result result;

	nodes[0].allocatable.v[SCORE_RES_CPU] = 250;
	nodes[1].allocatable.v[SCORE_RES_CPU] = 50;
	nodes[2].allocatable.v[SCORE_RES_CPU] = -7;
	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_filter(&pipeline, &soft, NULL), 0);
	cr_assert_eq(score_pipeline_add_scorer(&pipeline, &scorer, NULL), 0);
	candidates_for(candidates, 3);
	score_pipeline_filter(&pipeline, &request, candidates, 3, &result);
	score_pipeline_score(&pipeline, &request, candidates, &result);

	cr_assert_eq(result.nodes[0].total, 100, "clamped high: %lld",
		     (long long)result.nodes[0].total);
	cr_assert_eq(result.nodes[1].total, 0, "rejected node scored %lld",
		     (long long)result.nodes[1].total);
	cr_assert_eq(result.nodes[2].total, 0, "clamped low: %lld",
		     (long long)result.nodes[2].total);
	score_result_release(&result);
}

Test(pipeline, limits_and_weights)
{
	score_pipeline pipeline;
	score_scorer zero = {"zero", score_from_cpu, NULL, NULL, 0};
	score_filter filter = {"f", reject_named_b, NULL};
	score_error err = {0};

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_scorer(&pipeline, &zero, &err), -EINVAL);
	cr_assert(strstr(err.message, "zero") != NULL, "message: %s", err.message);
	for (int i = 0; i < SCORE_MAX_CRITERIA; i++)
		cr_assert_eq(score_pipeline_add_filter(&pipeline, &filter, &err), 0);
	cr_assert_eq(score_pipeline_add_filter(&pipeline, &filter, &err), -ENOSPC);
}

Test(pipeline, extender_priority_mapping)
{
	cr_assert_eq(score_to_extender_priority(0), 0);
	cr_assert_eq(score_to_extender_priority(94), 9);
	cr_assert_eq(score_to_extender_priority(95), 10);
	cr_assert_eq(score_to_extender_priority(4), 0);
	cr_assert_eq(score_to_extender_priority(5), 1);
	cr_assert_eq(score_to_extender_priority(100), 10);
	cr_assert_eq(score_to_extender_priority(250), 10);
	cr_assert_eq(score_to_extender_priority(-5), 0);
}
