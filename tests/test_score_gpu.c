/* Tests for scoring/gpu.c: GPU models, fit, device choice, typical pods,
 * fragmentation and the six policies' scores on hand-computed cases, and
 * the pipeline adapters against the direct functions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "scoring/gpu.h"

#define MIB (1024LL * 1024)

static score_gpu_pod make_pod(int64_t cpu, int32_t count, int32_t milli)
{
	score_gpu_pod pod = {0};

	pod.cpu_milli = cpu;
	pod.memory = 1024 * MIB;
	pod.gpu_count = count;
	pod.gpu_milli = milli;
	return pod;
}

static score_gpu_node make_node(const char *name, int64_t cpu, int32_t devices)
{
	score_gpu_node node;

	score_gpu_node_init(&node, name, cpu, 64 * 1024 * MIB, devices, 0);
	return node;
}

/* ---- Models -------------------------------------------------------------- */

Test(gpu, models_parse_list)
{
	score_gpu_models models;
	score_error err = {0};
	uint64_t mask = 0;
	int ret;

	score_gpu_models_init(&models);
	cr_assert_eq(score_gpu_models_index(&models, "T4", &err), 0, "T4 is model 0");
	ret = score_gpu_models_parse(&models, "P100||T4|", &mask, &err);
	cr_assert_eq(ret, 0, "parse failed: %s", err.message);
	cr_assert_eq(mask, 0x3, "expected bits of T4 (0) and P100 (1), got %#llx",
		     (unsigned long long)mask);
	cr_assert_eq(models.count, 2, "expected 2 models, got %d", models.count);
	score_gpu_models_release(&models);
}

Test(gpu, models_empty_list_allows_all)
{
	score_gpu_models models;
	uint64_t mask = 99;

	score_gpu_models_init(&models);
	cr_assert_eq(score_gpu_models_parse(&models, "|", &mask, NULL), 0);
	cr_assert_eq(mask, 0, "expected 0, got %llu", (unsigned long long)mask);
	cr_assert_eq(score_gpu_models_parse(&models, NULL, &mask, NULL), 0);
	cr_assert_eq(mask, 0, "NULL list: expected 0, got %llu", (unsigned long long)mask);
	score_gpu_models_release(&models);
}

Test(gpu, models_table_full)
{
	score_gpu_models models;
	score_error err = {0};
	char name[16];
	int ret;

	score_gpu_models_init(&models);
	for (int i = 0; i < SCORE_GPU_MAX_MODELS; i++) {
		g_snprintf(name, sizeof(name), "M%d", i);
		cr_assert_eq(score_gpu_models_index(&models, name, NULL), i);
	}
	ret = score_gpu_models_index(&models, "one-more", &err);
	cr_assert_eq(ret, -ENOSPC, "expected -ENOSPC, got %d", ret);
	cr_assert(strstr(err.message, "one-more") != NULL, "message: %s", err.message);
	score_gpu_models_release(&models);
}

/* ---- Pods and fit -------------------------------------------------------- */

Test(gpu, pod_validate_cases)
{
	struct {
		int32_t count, milli;
		int expected;
	} cases[] = {
		{0, 0, 0},       {1, 500, 0},  {1, 1000, 0},  {8, 1000, 0},
		{0, 500, -EINVAL}, {2, 500, -EINVAL}, {1, 0, -ERANGE},
		{1, 1001, -ERANGE}, {17, 1000, -ERANGE},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_gpu_pod pod = make_pod(1000, cases[i].count, cases[i].milli);
		int ret = score_gpu_pod_validate(&pod, NULL);

		cr_expect_eq(ret, cases[i].expected, "count %d milli %d: expected %d, got %d",
			     cases[i].count, cases[i].milli, cases[i].expected, ret);
	}
}

Test(gpu, sharing_pod_needs_one_device)
{
	score_gpu_node node = make_node("n", 8000, 2);
	score_gpu_pod pod = make_pod(1000, 1, 600);
	GString *reason = g_string_new(NULL);

	node.device_free[0] = 500;
	node.device_free[1] = 500;
	cr_assert_not(score_gpu_fits(&node, &pod, reason),
		      "1000 milli free in total but no device has 600");
	cr_assert(strstr(reason->str, "gpu:") != NULL, "reason: %s", reason->str);
	node.device_free[1] = 600;
	cr_assert(score_gpu_fits(&node, &pod, NULL), "device 1 has 600 free");
	g_string_free(reason, TRUE);
}

Test(gpu, whole_gpus_need_fully_free_devices)
{
	score_gpu_node node = make_node("n", 8000, 4);
	score_gpu_pod pod = make_pod(1000, 3, 1000);

	node.device_free[2] = 999;
	cr_assert(score_gpu_fits(&node, &pod, NULL), "3 of 4 devices are fully free");
	node.device_free[0] = 0;
	cr_assert_not(score_gpu_fits(&node, &pod, NULL), "only 2 fully free devices");
}

Test(gpu, fit_checks_cpu_and_memory)
{
	score_gpu_node node = make_node("n", 2000, 1);
	score_gpu_pod pod = make_pod(2001, 0, 0);
	GString *reason = g_string_new(NULL);

	cr_assert_not(score_gpu_fits(&node, &pod, reason), "cpu 2001m > 2000m");
	cr_assert(strstr(reason->str, "cpu: requested 2001m, free 2000m") != NULL,
		  "reason: %s", reason->str);
	pod.cpu_milli = 2000;
	pod.memory = node.memory_free + 1;
	cr_assert_not(score_gpu_fits(&node, &pod, NULL), "memory one byte short");
	pod.memory = node.memory_free;
	cr_assert(score_gpu_fits(&node, &pod, NULL), "exact fit");
	g_string_free(reason, TRUE);
}

Test(gpu, model_restriction)
{
	score_gpu_node node = make_node("n", 8000, 1);
	score_gpu_pod pod = make_pod(1000, 1, 1000);

	node.gpu_model = 3;
	pod.gpu_models = UINT64_C(1) << 2;
	cr_assert_not(score_gpu_fits(&node, &pod, NULL), "model 3 not in mask 0b100");
	pod.gpu_models |= UINT64_C(1) << 3;
	cr_assert(score_gpu_fits(&node, &pod, NULL), "model 3 allowed");
	node.gpu_model = -1;
	cr_assert_not(score_gpu_fits(&node, &pod, NULL),
		      "a node of unknown model never fits a pod with allowed models");
	pod = make_pod(1000, 0, 0);
	pod.gpu_models = UINT64_C(1) << 2;
	cr_assert(score_gpu_model_allowed(&node, &pod),
		  "pods without GPUs ignore their model list");
}

/* ---- Device choice ------------------------------------------------------- */

Test(gpu, tightest_device_lowest_index_on_ties)
{
	score_gpu_node node = make_node("n", 8000, 4);
	score_gpu_pod pod = make_pod(1000, 1, 300);
	int devices[SCORE_GPU_MAX_DEVICES];
	int n;

	node.device_free[0] = 1000;
	node.device_free[1] = 400;
	node.device_free[2] = 200;
	node.device_free[3] = 400;
	n = score_gpu_choose_devices(&node, &pod, SCORE_GPU_DEVICE_TIGHTEST, NULL,
				     NULL, devices);
	cr_assert_eq(n, 1, "expected 1 device, got %d", n);
	cr_assert_eq(devices[0], 1, "expected device 1 (400 free, first of two), got %d",
		     devices[0]);
}

Test(gpu, whole_gpus_take_lowest_free_devices)
{
	score_gpu_node node = make_node("n", 8000, 4);
	score_gpu_pod pod = make_pod(1000, 2, 1000);
	int devices[SCORE_GPU_MAX_DEVICES];
	int n;

	node.device_free[0] = 500;
	n = score_gpu_choose_devices(&node, &pod, SCORE_GPU_DEVICE_FGD, NULL, NULL,
				     devices);
	cr_assert_eq(n, 2, "expected 2 devices, got %d", n);
	cr_assert_eq(devices[0], 1, "expected device 1, got %d", devices[0]);
	cr_assert_eq(devices[1], 2, "expected device 2, got %d", devices[1]);
	pod.gpu_count = 4;
	n = score_gpu_choose_devices(&node, &pod, SCORE_GPU_DEVICE_TIGHTEST, NULL,
				     NULL, devices);
	cr_assert_eq(n, -ENOSPC, "expected -ENOSPC with 3 free devices, got %d", n);
}

Test(gpu, random_device_only_among_fitting)
{
	score_gpu_node node = make_node("n", 8000, 4);
	score_gpu_pod pod = make_pod(1000, 1, 500);
	GRand *rand = g_rand_new_with_seed(7);
	int seen[4] = {0};

	node.device_free[0] = 100;
	node.device_free[2] = 499;
	for (int i = 0; i < 200; i++) {
		int devices[SCORE_GPU_MAX_DEVICES];
		int n = score_gpu_choose_devices(&node, &pod, SCORE_GPU_DEVICE_RANDOM,
						 NULL, rand, devices);

		cr_assert_eq(n, 1, "expected 1 device, got %d", n);
		seen[devices[0]]++;
	}
	cr_assert_eq(seen[0] + seen[2], 0, "devices 0 and 2 are too small: %d, %d",
		     seen[0], seen[2]);
	cr_assert(seen[1] > 0 && seen[3] > 0, "both fitting devices drawn: %d, %d",
		  seen[1], seen[3]);
	g_rand_free(rand);
}

Test(gpu, add_and_remove_pod_restore_node)
{
	score_gpu_node node = make_node("n", 8000, 2);
	score_gpu_node before;
	score_gpu_pod pod = make_pod(1500, 1, 250);
	int devices[] = {1};

	before = node;
	score_gpu_node_add_pod(&node, &pod, devices, 1);
	cr_assert_eq(node.device_free[1], 750, "got %d", node.device_free[1]);
	cr_assert_eq(node.cpu_free, 6500, "got %lld", (long long)node.cpu_free);
	cr_assert_eq(node.class_pods[0], 1, "one sharing pod counted");
	score_gpu_node_remove_pod(&node, &pod, devices, 1);
	cr_assert(memcmp(&node, &before, sizeof(node)) == 0, "node restored");
}

/* ---- Typical pods and fragmentation -------------------------------------- */

Test(gpu, typical_pods_cut_and_renormalize)
{
	score_gpu_pod pods[10];
	score_gpu_typical *typical = NULL;
	score_error err = {0};
	int ret;

	/* A x5, B x3, then C and D once each. */
	for (int i = 0; i < 5; i++)
		pods[i] = make_pod(1000, 1, 500);
	for (int i = 5; i < 8; i++)
		pods[i] = make_pod(2000, 0, 0);
	pods[8] = make_pod(500, 1, 1000);
	pods[9] = make_pod(600, 1, 1000);

	ret = score_gpu_typical_new(pods, 10, 80, &typical, &err);
	cr_assert_eq(ret, 0, "failed: %s", err.message);
	cr_assert_eq(typical->n, 2, "80%% of 10 pods: expected 2 shapes, got %zu", typical->n);
	cr_assert_eq(typical->n_shapes, 4, "expected 4 shapes, got %zu", typical->n_shapes);
	cr_assert_float_eq(typical->pods[0].weight, 5.0 / 8.0, 1e-12, "weight A: %g",
			   typical->pods[0].weight);
	cr_assert_float_eq(typical->pods[1].weight, 3.0 / 8.0, 1e-12, "weight B: %g",
			   typical->pods[1].weight);
	cr_assert_eq(typical->pods[1].shape.cpu_milli, 2000, "B second");
	score_gpu_typical_free(typical);

	/* Equal counts: the larger shape (CPU 600 over 500) comes first. */
	ret = score_gpu_typical_new(pods, 10, 100, &typical, &err);
	cr_assert_eq(ret, 0, "failed: %s", err.message);
	cr_assert_eq(typical->n, 4, "expected all 4, got %zu", typical->n);
	cr_assert_eq(typical->pods[2].shape.cpu_milli, 600, "got %lld",
		     (long long)typical->pods[2].shape.cpu_milli);
	cr_assert_float_eq(typical->pods[3].weight, 0.1, 1e-12, "got %g",
			   typical->pods[3].weight);
	score_gpu_typical_free(typical);
}

/* Counted entries give the same typical pods as the pods one by one. */
Test(gpu, typical_pods_counted_match_expanded)
{
	score_gpu_pod expanded[10];
	score_gpu_pod shapes[4];
	const uint64_t counts[4] = {5, 3, 1, 1};
	score_gpu_typical *one_by_one = NULL;
	score_gpu_typical *counted = NULL;
	score_error err = {0};

	shapes[0] = make_pod(1000, 1, 500);
	shapes[1] = make_pod(2000, 0, 0);
	shapes[2] = make_pod(500, 1, 1000);
	shapes[3] = make_pod(600, 1, 1000);
	for (size_t s = 0, k = 0; s < 4; s++)
		for (uint64_t c = 0; c < counts[s]; c++)
			expanded[k++] = shapes[s];

	for (int pct = 50; pct <= 100; pct += 10) {
		cr_assert_eq(score_gpu_typical_new(expanded, 10, pct, &one_by_one, &err), 0,
			     "one by one at %d%%: %s", pct, err.message);
		cr_assert_eq(score_gpu_typical_new_counted(shapes, counts, 4, pct, &counted,
							   &err),
			     0, "counted at %d%%: %s", pct, err.message);
		cr_assert_eq(counted->n, one_by_one->n, "%d%%: %zu shapes, expected %zu", pct,
			     counted->n, one_by_one->n);
		cr_assert_eq(counted->n_workload, 10, "%d%%: workload of %zu pods, expected 10",
			     pct, counted->n_workload);
		cr_assert_float_eq(counted->covered, one_by_one->covered, 1e-12,
				   "%d%%: covered %g, expected %g", pct, counted->covered,
				   one_by_one->covered);
		for (size_t i = 0; i < counted->n; i++) {
			cr_assert_eq(counted->pods[i].shape.cpu_milli,
				     one_by_one->pods[i].shape.cpu_milli,
				     "%d%%: shape %zu differs", pct, i);
			cr_assert_float_eq(counted->pods[i].weight, one_by_one->pods[i].weight,
					   1e-12, "%d%%: weight %zu %g, expected %g", pct, i,
					   counted->pods[i].weight, one_by_one->pods[i].weight);
		}
		score_gpu_typical_free(one_by_one);
		score_gpu_typical_free(counted);
	}
}

Test(gpu, typical_pods_reject_empty_and_bad_coverage)
{
	score_gpu_pod pod = make_pod(1000, 0, 0);
	score_gpu_typical *typical = NULL;
	score_error err = {0};

	cr_assert_eq(score_gpu_typical_new(&pod, 0, 95, &typical, &err), -EINVAL);
	cr_assert(strstr(err.message, "empty") != NULL, "message: %s", err.message);
	cr_assert_eq(score_gpu_typical_new(&pod, 1, 0, &typical, NULL), -EINVAL);
	cr_assert_eq(score_gpu_typical_new(&pod, 1, 101, &typical, NULL), -EINVAL);
	cr_assert_null(typical, "no result on failure");
}

/* Two typical pods of weight 0.5: X (cpu 1000, one GPU share of 500) and
 * Y (cpu 8000, no GPU). */
static score_gpu_typical *two_typical(void)
{
	score_gpu_pod pods[2] = {make_pod(1000, 1, 500), make_pod(8000, 0, 0)};
	score_gpu_typical *typical = NULL;

	cr_assert_eq(score_gpu_typical_new(pods, 2, 100, &typical, NULL), 0);
	return typical;
}

Test(gpu, frag_hand_computed)
{
	score_gpu_typical *typical = two_typical();
	score_gpu_node node = make_node("n", 4000, 2);
	double classes[SCORE_GPU_FRAG_CLASSES];
	double amount;

	/* Free: devices 1000 and 300, cpu 4000. X fits: the 300 device is too
	 * small (0.5 x 300 = 150 lack GPU), 0.5 x 1000 = 500 satisfied. Y lacks
	 * CPU: 0.5 x 1300 = 650. Fragmented: 150 + 650 = 800. */
	node.device_free[1] = 300;
	score_gpu_frag_classes(&node, typical, classes);
	cr_assert_float_eq(classes[SCORE_GPU_FRAG_LACK_GPU], 150, 1e-9, "got %g",
			   classes[SCORE_GPU_FRAG_LACK_GPU]);
	cr_assert_float_eq(classes[SCORE_GPU_FRAG_SATISFIED], 500, 1e-9, "got %g",
			   classes[SCORE_GPU_FRAG_SATISFIED]);
	cr_assert_float_eq(classes[SCORE_GPU_FRAG_CPU_POD_LACKS], 650, 1e-9, "got %g",
			   classes[SCORE_GPU_FRAG_CPU_POD_LACKS]);
	amount = score_gpu_frag_amount(&node, typical);
	cr_assert_float_eq(amount, 800, 1e-9, "expected 800, got %g", amount);

	/* With CPU short for X too, all 1300 of X's half is fragmented. */
	node.cpu_free = 500;
	amount = score_gpu_frag_amount(&node, typical);
	cr_assert_float_eq(amount, 1300, 1e-9, "expected 1300, got %g", amount);
	score_gpu_typical_free(typical);
}

Test(gpu, frag_no_access_counts_all)
{
	score_gpu_pod pods[1] = {make_pod(1000, 1, 500)};
	score_gpu_typical *typical = NULL;
	score_gpu_node node = make_node("n", 4000, 2);
	double amount;

	pods[0].gpu_models = UINT64_C(1) << 5;
	cr_assert_eq(score_gpu_typical_new(pods, 1, 100, &typical, NULL), 0);
	amount = score_gpu_frag_amount(&node, typical);
	cr_assert_float_eq(amount, 2000, 1e-9, "model 0 not allowed: expected 2000, got %g",
			   amount);
	score_gpu_typical_free(typical);
}

/* ---- Policies ------------------------------------------------------------ */

Test(gpu, fgd_score_hand_computed)
{
	score_gpu_typical *typical = two_typical();
	score_gpu_node node = make_node("n", 4000, 2);
	score_gpu_pod pod = make_pod(1000, 1, 200);
	double before;
	int64_t score;
	int devices[SCORE_GPU_MAX_DEVICES];
	int n;

	/* Before: devices 1000 and 300 with cpu 4000: 800 (frag_hand_computed).
	 * On device 1: 1000 and 100, cpu 3000. X: 0.5 x 100 = 50; Y lacks CPU:
	 * 0.5 x 1100 = 550; after 600. Score sigmoid(0.2) x 100 = 54.98 -> 54.
	 * On device 0: 800 and 300. X: 0.5 x 300 = 150; Y: 550; after 700,
	 * sigmoid(0.1) x 100 = 52.5 -> 52. Device 1 wins. */
	node.device_free[1] = 300;
	before = score_gpu_frag_amount(&node, typical);
	score = score_gpu_fgd_score(&node, &pod, typical, 1, before);
	cr_assert_eq(score, 54, "device 1: expected 54, got %lld", (long long)score);
	score = score_gpu_fgd_score(&node, &pod, typical, 0, before);
	cr_assert_eq(score, 52, "device 0: expected 52, got %lld", (long long)score);
	score = score_gpu_score(SCORE_GPU_FGD, &node, &pod, typical);
	cr_assert_eq(score, 54, "node score is the best device's: got %lld", (long long)score);
	n = score_gpu_choose_devices(&node, &pod, SCORE_GPU_DEVICE_FGD, typical, NULL,
				     devices);
	cr_assert_eq(n, 1, "got %d", n);
	cr_assert_eq(devices[0], 1, "FGD picks device 1, got %d", devices[0]);
	score_gpu_typical_free(typical);
}

Test(gpu, dot_product_hand_computed)
{
	score_gpu_node node = make_node("n", 64000, 2);
	score_gpu_pod pod = make_pod(8000, 1, 1000);
	int64_t score = score_gpu_score(SCORE_GPU_DOT_PRODUCT, &node, &pod, NULL);

	/* node (0.5, 0.25), pod (0.0625, 0.125): dot 0.0625, 1 - 0.03125. */
	cr_assert_eq(score, 96, "expected 96, got %lld", (long long)score);
}

Test(gpu, best_fit_and_normalization)
{
	score_gpu_node node = make_node("n", 64000, 2);
	score_gpu_pod pod = make_pod(8000, 1, 1000);
	int64_t raw = score_gpu_score(SCORE_GPU_BEST_FIT, &node, &pod, NULL);
	int64_t scores[] = {71, 50, 90};
	int64_t equal[] = {7, 7};

	/* (56000/128000)/2 + (1000/8000)/2 = 0.28125 -> 71.875 -> 71. */
	cr_assert_eq(raw, 71, "expected 71, got %lld", (long long)raw);
	score_gpu_normalize_min_max(scores, 3);
	cr_assert_eq(scores[0], 52, "(71-50)*100/40: got %lld", (long long)scores[0]);
	cr_assert_eq(scores[1], 0, "got %lld", (long long)scores[1]);
	cr_assert_eq(scores[2], 100, "got %lld", (long long)scores[2]);
	score_gpu_normalize_min_max(equal, 2);
	cr_assert_eq(equal[0] + equal[1], 0, "equal scores become 0");
}

Test(gpu, packing_cases)
{
	score_gpu_node idle8 = make_node("a", 64000, 8);
	score_gpu_node idle2 = make_node("b", 64000, 2);
	score_gpu_node shared = make_node("c", 64000, 2);
	score_gpu_pod sharing = make_pod(1000, 1, 300);
	score_gpu_pod whole = make_pod(1000, 1, 1000);
	score_gpu_pod cpu = make_pod(1000, 0, 0);
	int64_t score;

	score = score_gpu_score(SCORE_GPU_PACKING, &idle8, &sharing, NULL);
	cr_assert_eq(score, 25, "idle 8-GPU node: 33 - 8, got %lld", (long long)score);
	score = score_gpu_score(SCORE_GPU_PACKING, &idle2, &sharing, NULL);
	cr_assert_eq(score, 31, "idle 2-GPU node: 33 - 2, got %lld", (long long)score);
	shared.device_free[0] = 400;
	score = score_gpu_score(SCORE_GPU_PACKING, &shared, &sharing, NULL);
	cr_assert_eq(score, 96, "shared device with 40%% free: 100 - 4, got %lld",
		     (long long)score);
	score = score_gpu_score(SCORE_GPU_PACKING, &shared, &whole, NULL);
	cr_assert_eq(score, 49, "one free device on a used node: 50 - 1, got %lld",
		     (long long)score);
	score = score_gpu_score(SCORE_GPU_PACKING, &shared, &cpu, NULL);
	cr_assert_eq(score, 0, "pods without GPUs score 0, got %lld", (long long)score);
}

Test(gpu, clustering_bands)
{
	score_gpu_node empty = make_node("a", 64000, 2);
	score_gpu_node only_sharing = make_node("b", 64000, 2);
	score_gpu_node mixed = make_node("c", 64000, 2);
	score_gpu_pod sharing = make_pod(1000, 1, 300);
	score_gpu_pod two = make_pod(1000, 2, 1000);
	int64_t score;

	only_sharing.device_free[0] = 500;
	only_sharing.class_pods[0] = 2;
	mixed.device_free[0] = 500;
	mixed.class_pods[0] = 1;
	mixed.class_pods[1] = 1;

	/* used = 8000 - free; 25 * used / 8000 + band. */
	score = score_gpu_score(SCORE_GPU_CLUSTERING, &only_sharing, &sharing, NULL);
	cr_assert_eq(score, 95, "25*6500/8000 + 75, got %lld", (long long)score);
	score = score_gpu_score(SCORE_GPU_CLUSTERING, &mixed, &sharing, NULL);
	cr_assert_eq(score, 70, "25*6500/8000 + 50, got %lld", (long long)score);
	score = score_gpu_score(SCORE_GPU_CLUSTERING, &empty, &sharing, NULL);
	cr_assert_eq(score, 43, "25*6000/8000 + 25, got %lld", (long long)score);
	score = score_gpu_score(SCORE_GPU_CLUSTERING, &only_sharing, &two, NULL);
	cr_assert_eq(score, 20, "other classes only: 25*6500/8000, got %lld",
		     (long long)score);
}

Test(gpu, policy_names_round_trip)
{
	for (int p = 0; p < SCORE_GPU_POLICIES; p++) {
		score_gpu_policy parsed = SCORE_GPU_POLICIES;
		const char *name = score_gpu_policy_name((score_gpu_policy)p);

		cr_assert_eq(score_gpu_policy_parse(name, &parsed, NULL), 0, "%s", name);
		cr_assert_eq(parsed, (score_gpu_policy)p, "%s parsed as %d", name, parsed);
	}
}

Test(gpu, policy_parse_unknown)
{
	score_gpu_policy policy;
	score_error err = {0};

	cr_assert_eq(score_gpu_policy_parse("tetris", &policy, &err), -EINVAL);
	cr_assert(strstr(err.message, "\"tetris\"") != NULL, "message: %s", err.message);
	cr_assert_eq(score_gpu_policy_parse("fgd", &policy, NULL), 0, "case-insensitive");
}

/* ---- Pipeline ------------------------------------------------------------ */

typedef struct pipeline_fixture {
	score_node nodes[3];
	score_gpu_node gpu[3];
	score_pod pod;
	score_gpu_pod gpu_pod;
	GHashTable *node_map;
	GHashTable *pod_map;
} pipeline_fixture;

static void fixture_init(pipeline_fixture *f)
{
	static const char *const names[] = {"a", "b", "c"};

	memset(f, 0, sizeof(*f));
	f->node_map = g_hash_table_new(g_str_hash, g_str_equal);
	f->pod_map = g_hash_table_new(g_str_hash, g_str_equal);
	for (int i = 0; i < 3; i++) {
		f->nodes[i].name = names[i];
		f->nodes[i].allocatable.v[SCORE_RES_CPU] = 32000;
		f->nodes[i].allocatable.v[SCORE_RES_MEMORY] = 64 * 1024 * MIB;
		f->nodes[i].present = true;
		f->gpu[i] = make_node(names[i], 32000, 2);
		g_hash_table_insert(f->node_map, (gpointer)names[i], &f->gpu[i]);
	}
	f->nodes[1].requested.v[SCORE_RES_CPU] = 8000;
	f->gpu[1].device_free[0] = 500;
	f->gpu[1].class_pods[0] = 1;
	f->gpu[2].device_free[0] = 0;
	f->gpu[2].device_free[1] = 200;

	f->pod.uid = "pod-1";
	f->pod.request.v[SCORE_RES_CPU] = 4000;
	f->pod.request.v[SCORE_RES_MEMORY] = 1024 * MIB;
	f->gpu_pod = make_pod(4000, 1, 400);
	g_hash_table_insert(f->pod_map, (gpointer)f->pod.uid, &f->gpu_pod);
}

static void fixture_release(pipeline_fixture *f)
{
	g_hash_table_destroy(f->node_map);
	g_hash_table_destroy(f->pod_map);
}

Test(gpu, pipeline_matches_direct_scores)
{
	pipeline_fixture f;
	score_gpu_typical *typical = two_typical();
	score_gpu_policy policies[] = {SCORE_GPU_DOT_PRODUCT, SCORE_GPU_CLUSTERING,
				       SCORE_GPU_PACKING, SCORE_GPU_FGD};

	fixture_init(&f);
	for (size_t p = 0; p < G_N_ELEMENTS(policies); p++) {
		score_gpu_pipeline_config config = {
			.policy = policies[p],
			.typical = typical,
			.nodes = f.node_map,
			.pods = f.pod_map,
		};
		score_pipeline pipeline;
		score_candidate candidates[3] = {0};
		score_request request = {.pod = &f.pod};
		score_result result;

		score_pipeline_init(&pipeline);
		cr_assert_eq(score_pipeline_add_gpu(&pipeline, &config, 1, NULL), 0);
		for (int i = 0; i < 3; i++) {
			candidates[i].name = f.nodes[i].name;
			candidates[i].node = &f.nodes[i];
		}
		score_pipeline_filter(&pipeline, &request, candidates, 3, &result);
		cr_assert_eq(result.n_fit, 2, "node c has 200 milli free at most: n_fit %zu",
			     result.n_fit);
		cr_assert_eq(result.nodes[2].fit, SCORE_REJECT_RESOLVABLE, "c: %d",
			     result.nodes[2].fit);
		score_pipeline_score(&pipeline, &request, candidates, &result);
		for (int i = 0; i < 2; i++) {
			score_gpu_node direct = f.gpu[i];
			int64_t expected;

			direct.cpu_free = 32000 - f.nodes[i].requested.v[SCORE_RES_CPU];
			expected = score_gpu_score(policies[p], &direct, &f.gpu_pod, typical);
			cr_assert_eq(result.nodes[i].total, CLAMP(expected, 0, 100),
				     "%s on %s: pipeline %lld, direct %lld",
				     score_gpu_policy_name(policies[p]), f.nodes[i].name,
				     (long long)result.nodes[i].total, (long long)expected);
		}
		score_result_release(&result);
	}
	fixture_release(&f);
	score_gpu_typical_free(typical);
}

Test(gpu, pipeline_random_picks_one_node)
{
	pipeline_fixture f;
	GRand *rand = g_rand_new_with_seed(3);
	score_gpu_pipeline_config config = {
		.policy = SCORE_GPU_RANDOM,
		.rand = rand,
	};
	score_pipeline pipeline;
	score_candidate candidates[3] = {0};
	score_request request = {0};
	score_result result;
	int64_t sum = 0;

	fixture_init(&f);
	config.nodes = f.node_map;
	config.pods = f.pod_map;
	request.pod = &f.pod;
	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_gpu(&pipeline, &config, 1, NULL), 0);
	for (int i = 0; i < 3; i++) {
		candidates[i].name = f.nodes[i].name;
		candidates[i].node = &f.nodes[i];
	}
	score_pipeline_filter(&pipeline, &request, candidates, 3, &result);
	score_pipeline_score(&pipeline, &request, candidates, &result);
	for (int i = 0; i < 2; i++)
		sum += result.nodes[i].total;
	cr_assert_eq(sum, 100, "exactly one feasible node scores 100, sum %lld",
		     (long long)sum);
	score_result_release(&result);
	fixture_release(&f);
	g_rand_free(rand);
}

Test(gpu, pipeline_unknown_pod_requests_no_gpus)
{
	pipeline_fixture f;
	score_gpu_pipeline_config config = {.policy = SCORE_GPU_PACKING};
	score_request request = {0};
	score_usage usage = {0};
	GString *reason = g_string_new(NULL);
	score_pod other = {0};
	score_fit fit;

	fixture_init(&f);
	config.nodes = f.node_map;
	config.pods = f.pod_map;
	other.uid = "not-in-map";
	request.pod = &other;
	fit = score_gpu_filter(&config, &request, &f.nodes[2], &usage, reason);
	cr_assert_eq(fit, SCORE_FIT, "a pod without a GPU record fits any node");
	request.pod = &f.pod;
	fit = score_gpu_filter(&config, &request, &f.nodes[2], &usage, reason);
	cr_assert_eq(fit, SCORE_REJECT_RESOLVABLE, "got %d", fit);
	cr_assert(strstr(reason->str, "gpu:") != NULL, "reason: %s", reason->str);
	g_string_free(reason, TRUE);
	fixture_release(&f);
}
