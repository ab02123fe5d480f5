/* Tests for scoring/contention.c: kube-scheduler's formulas on hand-computed
 * cases, and the filters' verdicts and reasons. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/contention.h"

#define GiB (1024LL * 1024 * 1024)

/* ---- Formulas on plain vectors ------------------------------------------ */

Test(contention, least_allocated_hand_computed)
{
	/* cpu: (4000-3000)*100/4000 = 25; memory: (8Gi-2Gi)*100/8Gi = 75;
	 * mean with weights 1,1 = 50. */
	int64_t requested[] = {3000, 2 * GiB};
	int64_t allocatable[] = {4000, 8 * GiB};
	int64_t weights[] = {1, 1};

	cr_assert_eq(score_least_allocated(requested, allocatable, weights, 2), 50,
		     "got %lld", (long long)score_least_allocated(requested, allocatable, weights, 2));
}

Test(contention, least_allocated_integer_division)
{
	/* cpu: (3000-1000)*100/3000 = 66 (66.67 truncated); weights 2 and 1
	 * with memory 100: (66*2 + 100)/3 = 77 (77.33 truncated). */
	int64_t requested[] = {1000, 0};
	int64_t allocatable[] = {3000, GiB};
	int64_t weights[] = {2, 1};
	int64_t got = score_least_allocated(requested, allocatable, weights, 2);

	cr_assert_eq(got, 77, "expected 77, got %lld", (long long)got);
}

Test(contention, least_allocated_overcommitted_scores_zero)
{
	int64_t requested[] = {5000};
	int64_t allocatable[] = {4000};
	int64_t weights[] = {1};
	int64_t got = score_least_allocated(requested, allocatable, weights, 1);

	cr_assert_eq(got, 0, "expected 0, got %lld", (long long)got);
}

Test(contention, least_allocated_skips_zero_allocatable)
{
	/* The second resource is absent from the node: only cpu counts. */
	int64_t requested[] = {1000, 5};
	int64_t allocatable[] = {4000, 0};
	int64_t weights[] = {1, 1};
	int64_t got = score_least_allocated(requested, allocatable, weights, 2);

	cr_assert_eq(got, 75, "expected 75, got %lld", (long long)got);
}

Test(contention, most_allocated_hand_computed)
{
	/* cpu: 3000*100/4000 = 75; memory: 2Gi*100/8Gi = 25 -> 50. */
	int64_t requested[] = {3000, 2 * GiB};
	int64_t allocatable[] = {4000, 8 * GiB};
	int64_t weights[] = {1, 1};
	int64_t got = score_most_allocated(requested, allocatable, weights, 2);

	cr_assert_eq(got, 50, "expected 50, got %lld", (long long)got);
}

Test(contention, most_allocated_caps_at_capacity)
{
	int64_t requested[] = {6000};
	int64_t allocatable[] = {4000};
	int64_t weights[] = {1};
	int64_t got = score_most_allocated(requested, allocatable, weights, 1);

	cr_assert_eq(got, 100, "expected 100, got %lld", (long long)got);
}

Test(contention, requested_to_capacity_ratio_default_shape)
{
	/* Shape {0,0},{100,10} scaled to 0..100: utilization 30% -> 30,
	 * 70% -> 70; mean 50. */
	score_shape_point shape[] = {{0, 0}, {100, 10}};
	int64_t requested[] = {300, 7 * GiB};
	int64_t allocatable[] = {1000, 10 * GiB};
	int64_t weights[] = {1, 1};
	int64_t got = score_requested_to_capacity_ratio(requested, allocatable,
							 weights, 2, shape, 2);

	cr_assert_eq(got, 50, "expected 50, got %lld", (long long)got);
}

Test(contention, requested_to_capacity_ratio_broken_line_and_rounding)
{
	/* Shape {0,10},{50,4},{100,0}: 25% -> 100 + (40-100)*25/50 = 70;
	 * 75% -> 40 + (0-40)*25/50 = 20. Weights 1 and 2: (70 + 40)/3 =
	 * 36.67, which rounds to 37. */
	score_shape_point shape[] = {{0, 10}, {50, 4}, {100, 0}};
	int64_t requested[] = {250, 750};
	int64_t allocatable[] = {1000, 1000};
	int64_t weights[] = {1, 2};
	int64_t got = score_requested_to_capacity_ratio(requested, allocatable,
							 weights, 2, shape, 3);

	cr_assert_eq(got, 37, "expected 37, got %lld", (long long)got);
}

Test(contention, requested_to_capacity_ratio_leaves_out_zero_scores)
{
	/* Under the default shape an idle resource scores 0 and kube-scheduler
	 * leaves it out of the mean: only cpu at 40% counts. */
	score_shape_point shape[] = {{0, 0}, {100, 10}};
	int64_t requested[] = {400, 0};
	int64_t allocatable[] = {1000, GiB};
	int64_t weights[] = {1, 1};
	int64_t got = score_requested_to_capacity_ratio(requested, allocatable,
							 weights, 2, shape, 2);

	cr_assert_eq(got, 40, "expected 40, got %lld", (long long)got);
}

Test(contention, balanced_two_resources)
{
	/* Fractions 0.75 and 0.25: std = 0.25, score = 0.75 * 100 = 75. */
	int64_t requested[] = {3000, 2 * GiB};
	int64_t allocatable[] = {4000, 8 * GiB};
	int64_t got = score_balanced_allocation(requested, allocatable, 2);

	cr_assert_eq(got, 75, "expected 75, got %lld", (long long)got);
}

Test(contention, balanced_three_resources)
{
	/* Fractions 0.5, 0.5, 1.0 (capped from 2.0): mean 2/3, variance
	 * ((1/6)^2*2 + (1/3)^2)/3 = 1/18, std 0.2357, score 76. */
	int64_t requested[] = {500, 500, 2000};
	int64_t allocatable[] = {1000, 1000, 1000};
	int64_t got = score_balanced_allocation(requested, allocatable, 3);

	cr_assert_eq(got, 76, "expected 76, got %lld", (long long)got);
}

Test(contention, balanced_single_resource_is_perfect)
{
	int64_t requested[] = {900, 0};
	int64_t allocatable[] = {1000, 0};
	int64_t got = score_balanced_allocation(requested, allocatable, 2);

	cr_assert_eq(got, 100, "expected 100, got %lld", (long long)got);
}

/* ---- Filters and scorers on a model ------------------------------------- */

typedef struct fixture {
	score_resource_table *resources;
	score_model *model;
	score_contention_config config;
	score_pipeline pipeline;
} fixture;

static fixture fx;

static void setup(void)
{
	score_error err = {0};

	fx.resources = score_resource_table_new();
	fx.model = score_model_new(fx.resources);
	score_contention_defaults(&fx.config);
	score_pipeline_init(&fx.pipeline);
	cr_assert_eq(score_pipeline_add_contention(&fx.pipeline, &fx.config, 1, 1, &err), 0,
		     "%s", err.message);
}

static void teardown(void)
{
	score_model_free(fx.model);
	score_resource_table_free(fx.resources);
}

static score_node *add_node(const char *name, int64_t milli_cpu, int64_t memory)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = milli_cpu;
	node->allocatable.v[SCORE_RES_MEMORY] = memory;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	score_model_put_node(fx.model, node);
	return node;
}

static score_pod *make_pod(const char *uid, int64_t milli_cpu, int64_t memory)
{
	score_pod *pod = score_pod_new();
	score_container container = {0};

	pod->uid = score_intern(uid);
	pod->name = score_intern(uid);
	pod->namespace = score_intern("default");
	container.requests.v[SCORE_RES_CPU] = milli_cpu;
	container.requests.v[SCORE_RES_MEMORY] = memory;
	if (milli_cpu > 0)
		container.present |= 1u << SCORE_RES_CPU;
	if (memory > 0)
		container.present |= 1u << SCORE_RES_MEMORY;
	score_pod_compute_request(&container, 1, NULL, 0, NULL, &pod->request,
				  &pod->nonzero_request);
	return pod;
}

static void bind_pod(const char *uid, const char *node, int64_t milli_cpu, int64_t memory)
{
	score_pod *pod = make_pod(uid, milli_cpu, memory);

	pod->node_name = score_intern(node);
	pod->phase = SCORE_POD_RUNNING;
	score_model_put_pod(fx.model, pod);
}

static score_result run(const score_pod *pod, const char *const *names, size_t n)
{
	score_request request = {.model = fx.model, .pod = pod, .now_ms = 0};
	score_candidate candidates[8];
	score_result result;

	cr_assert_leq(n, 8);
	for (size_t i = 0; i < n; i++) {
		candidates[i] = (score_candidate){
			.name = names[i],
			.node = score_model_node(fx.model, names[i]),
		};
	}
	score_pipeline_filter(&fx.pipeline, &request, candidates, n, &result);
	score_pipeline_score(&fx.pipeline, &request, candidates, &result);
	return result;
}

TestSuite(contention_filters, .init = setup, .fini = teardown);

Test(contention_filters, three_nodes_full_tainted_free)
{
	const char *names[] = {"full", "tainted", "free"};
	score_node *tainted;
	score_pod *pod;
	score_result result;

	add_node("full", 4000, 8 * GiB);
	bind_pod("filler", "full", 2000, GiB);
	tainted = add_node("tainted", 4000, 8 * GiB);
	tainted->taints = g_new0(score_taint, 1);
	tainted->taints[0] = (score_taint){score_intern("dedicated"),
					   score_intern("gpu"),
					   SCORE_EFFECT_NO_SCHEDULE};
	tainted->n_taints = 1;
	add_node("free", 4000, 8 * GiB);

	pod = make_pod("incoming", 3000, 64 * 1024 * 1024);
	result = run(pod, names, 3);

	cr_assert_eq(result.n_fit, 1, "expected 1 fitting node, got %zu", result.n_fit);
	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE,
		     "full node: fit %d", result.nodes[0].fit);
	cr_assert_str_eq(result.nodes[0].reason, "cpu: requested 3, free 2");
	cr_assert_eq(result.nodes[1].fit, SCORE_REJECT_UNRESOLVABLE,
		     "tainted node: fit %d", result.nodes[1].fit);
	cr_assert_str_eq(result.nodes[1].reason,
			 "untolerated taint dedicated=gpu:NoSchedule");
	cr_assert_eq(result.nodes[2].fit, SCORE_FIT, "free node: fit %d",
		     result.nodes[2].fit);
	cr_assert_null(result.nodes[2].reason);

	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, reason_shows_milli_cpu)
{
	const char *names[] = {"n"};
	score_pod *pod;
	score_result result;

	add_node("n", 4000, 8 * GiB);
	bind_pod("filler", "n", 2000, GiB);
	pod = make_pod("incoming", 3500, 0);
	result = run(pod, names, 1);

	cr_assert_str_eq(result.nodes[0].reason, "cpu: requested 3500m, free 2");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, request_above_allocatable_is_unresolvable)
{
	const char *names[] = {"small"};
	score_pod *pod;
	score_result result;

	add_node("small", 2000, 8 * GiB);
	pod = make_pod("big", 3000, 0);
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_UNRESOLVABLE,
		     "fit %d", result.nodes[0].fit);
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, tolerated_taint_and_prefer_no_schedule_pass)
{
	const char *names[] = {"t"};
	score_node *node = add_node("t", 4000, 8 * GiB);
	score_pod *pod = make_pod("p", 100, 0);
	score_result result;

	node->taints = g_new0(score_taint, 2);
	node->taints[0] = (score_taint){score_intern("dedicated"), score_intern("gpu"),
					SCORE_EFFECT_NO_EXECUTE};
	node->taints[1] = (score_taint){score_intern("soft"), NULL,
					SCORE_EFFECT_PREFER_NO_SCHEDULE};
	node->n_taints = 2;
	pod->tolerations = g_new0(score_toleration, 1);
	pod->tolerations[0] = (score_toleration){score_intern("dedicated"), NULL,
						 SCORE_TOLERATION_EXISTS, SCORE_EFFECT_ANY};
	pod->n_tolerations = 1;

	result = run(pod, names, 1);
	cr_assert_eq(result.nodes[0].fit, SCORE_FIT, "reason: %s",
		     result.nodes[0].reason ? result.nodes[0].reason : "");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, cordoned_and_not_ready)
{
	const char *names[] = {"cordoned", "down"};
	score_node *cordoned = add_node("cordoned", 4000, 8 * GiB);
	score_node *down = add_node("down", 4000, 8 * GiB);
	score_pod *pod = make_pod("p", 100, 0);
	score_result result;

	cordoned->unschedulable = true;
	down->ready = false;
	result = run(pod, names, 2);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_UNRESOLVABLE);
	cr_assert(strstr(result.nodes[0].reason, "cordoned") != NULL, "reason: %s",
		  result.nodes[0].reason);
	cr_assert_eq(result.nodes[1].fit, SCORE_REJECT_UNRESOLVABLE);
	cr_assert_str_eq(result.nodes[1].reason, "node is not Ready");
	score_result_release(&result);

	/* A node whose kubelet never reported has no Ready condition. */
	down->ready_unreported = true;
	result = run(pod, names, 2);
	cr_assert_str_eq(result.nodes[1].reason,
			 "node is not Ready: status.conditions has no Ready condition, so the kubelet has not reported yet");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, too_many_pods)
{
	const char *names[] = {"n"};
	score_node *node = add_node("n", 4000, 8 * GiB);
	score_pod *pod = make_pod("p", 100, 0);
	score_result result;

	node->allocatable.v[SCORE_RES_PODS] = 1;
	bind_pod("existing", "n", 100, 0);
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	cr_assert_str_eq(result.nodes[0].reason, "too many pods: 1 of 1 already");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, zero_allocatable_pods_named)
{
	const char *names[] = {"n"};
	score_node *node = add_node("n", 4000, 8 * GiB);
	score_pod *pod = make_pod("p", 100, 0);
	score_result result;

	node->allocatable.v[SCORE_RES_PODS] = 0;
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	cr_assert_str_eq(result.nodes[0].reason,
			 "too many pods: 0 of 0 already (the node's status.allocatable.pods is 0 or missing)");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, extended_resource_missing_on_node)
{
	const char *names[] = {"cpu-only"};
	score_error err = {0};
	int gpu = score_resource_index(fx.resources, "nvidia.com/gpu", &err);
	score_pod *pod = make_pod("p", 100, 0);
	score_result result;

	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "%s", err.message);
	add_node("cpu-only", 4000, 8 * GiB);
	pod->request.v[gpu] = 1;
	pod->nonzero_request.v[gpu] = 1;
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_UNRESOLVABLE);
	cr_assert_str_eq(result.nodes[0].reason, "nvidia.com/gpu: requested 1, free 0");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, several_shortages_in_one_reason)
{
	const char *names[] = {"n"};
	score_pod *pod;
	score_result result;

	add_node("n", 1000, GiB);
	bind_pod("filler", "n", 500, 512 * 1024 * 1024);
	pod = make_pod("p", 600, 600 * 1024 * 1024);
	result = run(pod, names, 1);

	cr_assert_str_eq(result.nodes[0].reason,
			 "cpu: requested 600m, free 500m; memory: requested 600Mi, free 512Mi");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, utilization_ceiling)
{
	const char *names[] = {"n"};
	score_error err = {0};
	score_pod *pod;
	score_result result;

	fx.config.ceiling_percent[SCORE_RES_CPU] = 80;
	score_pipeline_init(&fx.pipeline);
	cr_assert_eq(score_pipeline_add_contention(&fx.pipeline, &fx.config, 1, 1, &err), 0);
	add_node("n", 4000, 8 * GiB);
	bind_pod("filler", "n", 2000, 0);
	pod = make_pod("p", 1500, 0);
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	cr_assert_str_eq(result.nodes[0].reason,
			 "cpu: would reach 87% of allocatable, above the 80% ceiling");
	score_result_release(&result);
	score_pod_free(pod);

	pod = make_pod("q", 1200, 0);
	result = run(pod, names, 1);
	cr_assert_eq(result.nodes[0].fit, SCORE_FIT, "80%% exactly must pass: %s",
		     result.nodes[0].reason ? result.nodes[0].reason : "");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, scores_use_nonzero_defaults)
{
	/* Node 4 CPU / 8Gi with one request-less pod: non-zero usage is
	 * 100m and 200Mi. The incoming pod also has no requests.
	 * LeastAllocated: cpu (4000-200)*100/4000 = 95,
	 * memory (8192-400)*100/8192 = 95 (95.1) -> 95.
	 * BalancedAllocation is skipped for a best-effort pod, so the
	 * total is 95. */
	const char *names[] = {"n"};
	score_pod *pod;
	score_result result;

	add_node("n", 4000, 8 * GiB);
	bind_pod("besteffort", "n", 0, 0);
	pod = make_pod("p", 0, 0);
	result = run(pod, names, 1);

	cr_assert_eq(result.nodes[0].criteria[0], 95, "LeastAllocated %lld",
		     (long long)result.nodes[0].criteria[0]);
	cr_assert_eq(result.nodes[0].criteria[1], SCORE_SKIP, "BalancedAllocation %lld",
		     (long long)result.nodes[0].criteria[1]);
	cr_assert_eq(result.nodes[0].total, 95, "total %lld",
		     (long long)result.nodes[0].total);
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, emptier_node_scores_higher)
{
	/* busy: cpu (4000-3000-500)*100/4000 = 12, memory
	 * (8Gi-1Gi-1Gi)/8Gi = 75 -> 43; balanced |0.875-0.25|/2 = 0.3125 -> 68;
	 * total (43+68)/2 = 55. idle: cpu 87, memory 87 -> 87; balanced
	 * fractions 0.125 and 0.125 -> 100; total 93. */
	const char *names[] = {"busy", "idle"};
	score_pod *pod;
	score_result result;

	add_node("busy", 4000, 8 * GiB);
	add_node("idle", 4000, 8 * GiB);
	bind_pod("filler", "busy", 3000, GiB);
	pod = make_pod("p", 500, GiB);
	result = run(pod, names, 2);

	cr_assert_eq(result.nodes[0].criteria[0], 43, "busy LeastAllocated %lld",
		     (long long)result.nodes[0].criteria[0]);
	cr_assert_eq(result.nodes[0].criteria[1], 68, "busy Balanced %lld",
		     (long long)result.nodes[0].criteria[1]);
	cr_assert_eq(result.nodes[0].total, 55, "busy total %lld",
		     (long long)result.nodes[0].total);
	cr_assert_eq(result.nodes[1].total, 93, "idle total %lld",
		     (long long)result.nodes[1].total);
	cr_assert_eq(score_to_extender_priority(result.nodes[1].total), 9,
		     "93 rounds to 9");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_filters, victims_free_room_for_preemption)
{
	const char *names[] = {"n"};
	score_request request = {.model = fx.model};
	const score_pod *victims[1];
	score_candidate candidate;
	score_result result;
	score_pod *pod;

	add_node("n", 4000, 8 * GiB);
	bind_pod("low", "n", 3000, GiB);
	pod = make_pod("high", 2000, 0);
	request.pod = pod;

	result = run(pod, names, 1);
	cr_assert_eq(result.nodes[0].fit, SCORE_REJECT_RESOLVABLE);
	score_result_release(&result);

	victims[0] = score_model_pod(fx.model, "low");
	candidate = (score_candidate){"n", score_model_node(fx.model, "n"), victims, 1};
	score_pipeline_filter(&fx.pipeline, &request, &candidate, 1, &result);
	cr_assert_eq(result.nodes[0].fit, SCORE_FIT, "reason: %s",
		     result.nodes[0].reason ? result.nodes[0].reason : "");
	score_result_release(&result);
	score_pod_free(pod);
}

Test(contention_validate, rejects_bad_settings)
{
	score_contention_config config;
	score_error err = {0};

	score_contention_defaults(&config);
	cr_assert_eq(score_contention_validate(&config, &err), 0, "%s", err.message);

	config.resources[0].weight = 0;
	cr_assert_eq(score_contention_validate(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "weight 0") != NULL, "message: %s", err.message);

	score_contention_defaults(&config);
	config.strategy = SCORE_REQUESTED_TO_CAPACITY_RATIO;
	config.shape[1].utilization = 0;
	cr_assert_eq(score_contention_validate(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "increasing utilization") != NULL, "message: %s",
		  err.message);

	score_contention_defaults(&config);
	config.ceiling_percent[SCORE_RES_MEMORY] = 120;
	cr_assert_eq(score_contention_validate(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "120%") != NULL, "message: %s", err.message);
}
