/* Tests for sim/placement.c: kube-scheduler's number of feasible nodes to
 * find, policy names, the zone-interleaved node order and the rotating
 * start, and GPU-aware placement. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/placement.h"
#include "sim/template.h"

Test(placement, feasible_nodes_to_find)
{
	static const struct {
		uint32_t nodes;
		int percentage;
		uint32_t expected;
	} cases[] = {
		{50, 0, 50},        /* under 100 nodes: all */
		{100, 0, 100},      /* 49% of 100 is 49, raised to 100 */
		{1000, 0, 420},     /* 50 - 8 = 42% */
		{5000, 0, 500},     /* 50 - 40 = 10% */
		{10000, 0, 500},    /* 50 - 80 < 5: 5% */
		{10000, 30, 3000},  /* a fixed percentage */
		{10000, 100, 10000},
		{1000, 1, 100},     /* never fewer than 100 */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		cr_assert_eq(sim_feasible_nodes_to_find(cases[i].nodes, cases[i].percentage),
			     cases[i].expected, "%u nodes at %d%%: expected %u, got %u",
			     cases[i].nodes, cases[i].percentage, cases[i].expected,
			     sim_feasible_nodes_to_find(cases[i].nodes, cases[i].percentage));
}

Test(placement, policy_names)
{
	sim_policy policy;
	score_error err = {0};

	cr_assert_eq(sim_policy_parse("kube-default", &policy, &err), 0);
	cr_assert_eq(policy.kind, SIM_POLICY_KUBE_DEFAULT);
	cr_assert_eq(sim_policy_parse("KUBE-MOST-ALLOCATED", &policy, &err), 0, "any case");
	cr_assert_str_eq(sim_policy_name(&policy), "kube-most-allocated");
	cr_assert_eq(sim_policy_parse("fgd", &policy, &err), 0);
	cr_assert_str_eq(sim_policy_name(&policy), "FGD");
	cr_assert_lt(sim_policy_parse("spread", &policy, &err), 0);
	cr_assert(strstr(err.message, "kube-default") != NULL, "message lists names: %s",
		  err.message);
}

typedef struct fixture {
	score_resource_table *resources;
	score_model *model;
	sim_placement *placement;
} fixture;

static void add_node(fixture *f, const char *name, const char *zone,
		     int64_t cpu_milli, int32_t gpus)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = cpu_milli;
	node->allocatable.v[SCORE_RES_MEMORY] = 64LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	if (zone != NULL)
		score_labels_set(&node->labels, SIM_LABEL_ZONE, zone);
	score_model_put_node(f->model, node);
	sim_placement_add_node(f->placement, name, gpus, gpus > 0 ? 0 : -1);
}

static void fixture_init(fixture *f, const sim_placement_config *config)
{
	score_error err = {0};

	f->resources = score_resource_table_new();
	f->model = score_model_new(f->resources);
	cr_assert_eq(sim_placement_new(config, f->model, &f->placement, &err), 0, "%s",
		     err.message);
}

static void fixture_release(fixture *f)
{
	sim_placement_free(f->placement);
	score_model_free(f->model);
	score_resource_table_free(f->resources);
}

static score_pod *make_pod(const char *name, int64_t cpu_milli)
{
	score_pod *pod = score_pod_new();

	pod->uid = score_intern(name);
	pod->name = score_intern(name);
	pod->request.v[SCORE_RES_CPU] = cpu_milli;
	pod->request.v[SCORE_RES_MEMORY] = 1 << 20;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	return pod;
}

Test(placement, most_allocated_packs_and_ties_by_name)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_MOST_ALLOCATED};
	fixture f;
	score_pod *first = make_pod("first", 500);
	score_pod *second = make_pod("second", 500);
	score_node *node;

	fixture_init(&f, &config);
	add_node(&f, "b", NULL, 4000, 0);
	add_node(&f, "a", NULL, 4000, 0);
	add_node(&f, "c", NULL, 4000, 0);

	node = sim_placement_choose(f.placement, first, NULL, 0, NULL);
	cr_assert_not_null(node);
	cr_assert_str_eq(node->name, "a", "equal empty nodes: the smallest name");
	first->node_name = score_intern(node->name);
	score_model_put_pod(f.model, first);

	node = sim_placement_choose(f.placement, second, NULL, 0, NULL);
	cr_assert_str_eq(node->name, "a", "MostAllocated packs onto the used node");
	score_pod_free(second);
	fixture_release(&f);
}

Test(placement, no_node_fits_returns_null)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("huge", 9000);

	fixture_init(&f, &config);
	add_node(&f, "a", NULL, 4000, 0);
	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 0, NULL));
	score_pod_free(pod);
	fixture_release(&f);
}

Test(placement, gpu_policy_needs_gpus)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_GPU,
				       .policy.gpu = SCORE_GPU_BEST_FIT};
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	sim_placement *placement = NULL;
	score_error err = {0};

	cr_assert_lt(sim_placement_new(&config, model, &placement, &err), 0);
	cr_assert(strstr(err.message, "GPU") != NULL, "message: %s", err.message);
	score_model_free(model);
	score_resource_table_free(resources);
}

Test(placement, gpu_pod_lands_where_its_share_fits)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT, .gpus = true};
	fixture f;
	score_pod *pod = make_pod("gpu-pod", 1000);
	sim_gpu_binding gpu = {
		.shape = {.cpu_milli = 1000, .gpu_count = 2, .gpu_milli = 1000},
	};
	score_node *node;

	fixture_init(&f, &config);
	add_node(&f, "a-cpu", NULL, 32000, 0);
	add_node(&f, "b-one-gpu", NULL, 32000, 1);
	add_node(&f, "c-four-gpus", NULL, 32000, 4);

	node = sim_placement_choose(f.placement, pod, &gpu, 0, NULL);
	cr_assert_not_null(node);
	cr_assert_str_eq(node->name, "c-four-gpus", "only the 4-GPU node has 2 free GPUs");
	sim_placement_bind_gpu(f.placement, node->name, &gpu);
	cr_assert_eq(gpu.n_devices, 2, "two devices taken, got %d", gpu.n_devices);
	cr_assert_eq(sim_placement_gpu_capacity(f.placement), 5000);
	cr_assert_eq(sim_placement_gpu_allocated(f.placement), 2000);
	sim_placement_unbind_gpu(f.placement, node->name, &gpu);
	cr_assert_eq(sim_placement_gpu_allocated(f.placement), 0);
	score_pod_free(pod);
	fixture_release(&f);
}

Test(placement, large_cluster_checks_a_sample_and_rotates)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("p", 100);
	score_node *node;
	char name[32];

	fixture_init(&f, &config);
	/* 1000 equal nodes in two zones: 420 are checked per pod. */
	for (int i = 0; i < 1000; i++) {
		g_snprintf(name, sizeof(name), "n%04d", i);
		add_node(&f, name, i < 500 ? "zone-a" : "zone-b", 4000, 0);
	}
	node = sim_placement_choose(f.placement, pod, NULL, 0, NULL);
	cr_assert_str_eq(node->name, "n0000", "the first window holds n0000");
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement), 420);
	node = sim_placement_choose(f.placement, pod, NULL, 0, NULL);
	/* The list interleaves zones (n0000, n0500, n0001, n0501, ...), so
	 * the second window starts at position 420, n0210, and contains n0210
	 * to n0419 with n0710 to n0919; the smallest name wins the tie. */
	cr_assert_str_eq(node->name, "n0210", "the window moved on: got %s", node->name);
	score_pod_free(pod);
	fixture_release(&f);
}

Test(placement, gpu_pod_never_fits_cpu_cluster)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("gpu-pod", 1000);
	sim_gpu_binding gpu = {
		.shape = {.cpu_milli = 1000, .gpu_count = 1, .gpu_milli = 500},
	};

	fixture_init(&f, &config);
	add_node(&f, "a", NULL, 32000, 0);
	cr_assert_null(sim_placement_choose(f.placement, pod, &gpu, 0, NULL),
		       "no GPU node, no place for a GPU pod");
	score_pod_free(pod);
	fixture_release(&f);
}

/* Puts a running pod of `cpu_milli` on node `node` in the model. */
static score_pod *run_on(fixture *f, const char *name, const char *node, int64_t cpu_milli)
{
	score_pod *pod = make_pod(name, cpu_milli);

	pod->node_name = score_intern(node);
	pod->phase = SCORE_POD_RUNNING;
	score_model_put_pod(f->model, pod);
	return pod;
}

/* A pod that fit no node is retried against the nodes that gained room
 * since, and only those, with the result a full walk gives. */
Test(placement, retry_checks_only_nodes_that_gained_room)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("waiting", 3000);
	uint64_t mark = 0;
	uint64_t before;
	char name[32];

	fixture_init(&f, &config);
	for (int i = 0; i < 200; i++) {
		char pod_name[32];

		g_snprintf(name, sizeof(name), "n%03d", i);
		add_node(&f, name, NULL, 4000, 0);
		g_snprintf(pod_name, sizeof(pod_name), "busy-%03d", i);
		run_on(&f, pod_name, name, 2000);
	}

	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 0, &mark),
		       "2 of 4 cores free everywhere");
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement), 200, "the first attempt walks all");
	cr_assert_neq(mark, 0, "the failure is remembered");

	before = sim_placement_nodes_evaluated(f.placement);
	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 1000, &mark));
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement) - before, 0,
		     "nothing gained room: no node looked at, got %llu",
		     (unsigned long long)(sim_placement_nodes_evaluated(f.placement) - before));

	/* n007 loses half its load: still 1 core short. */
	score_model_remove_pod(f.model, "busy-007");
	run_on(&f, "busy-007b", "n007", 1500);
	sim_placement_node_gained_room(f.placement, "n007");
	before = sim_placement_nodes_evaluated(f.placement);
	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 2000, &mark));
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement) - before, 1,
		     "one node gained room and was checked");

	/* n123 empties: the retry takes the full walk and finds it. */
	score_model_remove_pod(f.model, "busy-123");
	sim_placement_node_gained_room(f.placement, "n123");
	{
		score_node *node = sim_placement_choose(f.placement, pod, NULL, 3000, &mark);

		cr_assert_not_null(node, "the emptied node fits");
		cr_assert_str_eq(node->name, "n123");
		cr_assert_eq(mark, 0, "a success clears the memo, got %llu",
			     (unsigned long long)mark);
	}
	score_pod_free(pod);
	fixture_release(&f);
}

Test(placement, removed_node_forgets_the_log)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("waiting", 8000);
	uint64_t mark = 0;
	uint64_t before;

	fixture_init(&f, &config);
	add_node(&f, "a", NULL, 4000, 0);
	add_node(&f, "b", NULL, 4000, 0);
	add_node(&f, "c", NULL, 4000, 0);
	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 0, &mark));
	sim_placement_node_gained_room(f.placement, "a");
	sim_placement_remove_node(f.placement, "c");
	cr_assert(score_model_remove_node(f.model, "c"));
	before = sim_placement_nodes_evaluated(f.placement);
	cr_assert_null(sim_placement_choose(f.placement, pod, NULL, 1000, &mark));
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement) - before, 2,
		     "after a removal the retry walks the 2 nodes left, got %llu",
		     (unsigned long long)(sim_placement_nodes_evaluated(f.placement) - before));
	score_pod_free(pod);
	fixture_release(&f);
}

/* Nodes too full for the pod are skipped before the pipeline, and the
 * walk still stops at the node where a one-by-one walk stops, so the
 * rotating start moves the same way. */
Test(placement, full_nodes_skipped_walk_unchanged)
{
	sim_placement_config config = {.policy.kind = SIM_POLICY_KUBE_DEFAULT};
	fixture f;
	score_pod *pod = make_pod("p", 1000);
	score_node *node;
	char name[32];

	fixture_init(&f, &config);
	/* 1000 nodes in one zone; every third is full. 420 feasible nodes
	 * are wanted, and the 420th feasible node is n0628. */
	for (int i = 0; i < 1000; i++) {
		g_snprintf(name, sizeof(name), "n%04d", i);
		add_node(&f, name, NULL, 4000, 0);
		if (i % 3 == 2) {
			char pod_name[32];

			g_snprintf(pod_name, sizeof(pod_name), "full-%04d", i);
			run_on(&f, pod_name, name, 4000);
		}
	}
	node = sim_placement_choose(f.placement, pod, NULL, 0, NULL);
	cr_assert_str_eq(node->name, "n0000");
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement), 629,
		     "the walk ends at the 420th feasible node, got %llu",
		     (unsigned long long)sim_placement_nodes_evaluated(f.placement));
	/* The next walk starts at n0629, wraps past n0999 and ends at the
	 * 420th feasible node from there, n0258: 630 nodes again. */
	node = sim_placement_choose(f.placement, pod, NULL, 0, NULL);
	cr_assert_not_null(node);
	cr_assert_eq(sim_placement_nodes_evaluated(f.placement), 629 + 630,
		     "the second walk looks at 630 nodes, got %llu",
		     (unsigned long long)sim_placement_nodes_evaluated(f.placement) - 629);
	score_pod_free(pod);
	fixture_release(&f);
}
