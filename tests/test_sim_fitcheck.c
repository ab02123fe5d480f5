/* Tests for sim/fitcheck.c: which pod shapes fit no node of a cluster,
 * by CPU, memory, GPU count and GPU model, and the warnings that name
 * the shape and the largest node. */
#include <criterion/criterion.h>
#include <string.h>

#include <glib.h>

#include "sim/fitcheck.h"

static sim_node_shape node_shape(const char *text)
{
	sim_node_shape shape;
	score_error err = {0};

	cr_assert_eq(sim_node_shape_parse(text, &shape, &err), 0, "%s: %s", text, err.message);
	return shape;
}

static void add_node(sim_fit_check *check, const char *name, const char *text)
{
	sim_node_shape shape = node_shape(text);

	sim_fit_check_add_node(check, name, &shape);
	sim_node_shape_release(&shape);
}

static score_gpu_pod pod_of(int64_t cpu_milli, int64_t memory_gib, int32_t gpus,
			    int32_t gpu_milli, uint64_t models)
{
	score_gpu_pod pod = {
		.cpu_milli = cpu_milli,
		.memory = memory_gib << 30,
		.gpu_count = gpus,
		.gpu_milli = gpu_milli,
		.gpu_models = models,
	};

	return pod;
}

/* Returns the warnings for the pods added so far, as from pods.csv. */
static GPtrArray *list_warnings(const sim_fit_check *check)
{
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);

	sim_fit_check_warnings(check, "pods.csv", NULL, warnings);
	return warnings;
}

Test(fitcheck, fits_by_each_resource)
{
	score_gpu_models models;
	sim_fit_check *check;
	uint64_t t4 = 0;
	uint64_t a100 = 0;

	score_gpu_models_init(&models);
	cr_assert_eq(score_gpu_models_parse(&models, "T4", &t4, NULL), 0);
	cr_assert_eq(score_gpu_models_parse(&models, "A100", &a100, NULL), 0);
	check = sim_fit_check_new(&models);
	add_node(check, "small", "8/32Gi");
	add_node(check, "gpu", "16/64Gi/110/2/T4");

	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){0}), "an empty request fits");
	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){.cpu_milli = 16000}),
		  "CPU equal to the largest node fits");
	cr_assert_not(sim_fit_check_fits(check, &(score_gpu_pod){.cpu_milli = 16001}),
		      "CPU above every node");
	cr_assert_not(sim_fit_check_fits(check, &(score_gpu_pod){.memory = 65LL << 30}),
		      "memory above every node");
	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){.gpu_count = 1, .gpu_milli = 500}),
		  "a GPU share fits the GPU node");
	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){.gpu_count = 2, .gpu_milli = 1000}),
		  "two whole GPUs fit two devices");
	cr_assert_not(sim_fit_check_fits(check, &(score_gpu_pod){.gpu_count = 3, .gpu_milli = 1000}),
		      "three GPUs fit no node");
	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){.gpu_count = 1, .gpu_milli = 1000,
							      .gpu_models = t4}),
		  "the allowed model is there");
	cr_assert_not(sim_fit_check_fits(check, &(score_gpu_pod){.gpu_count = 1, .gpu_milli = 1000,
								  .gpu_models = a100}),
		      "no node has the allowed model");
	cr_assert(sim_fit_check_fits(check, &(score_gpu_pod){.cpu_milli = 12000,
							      .memory = 48LL << 30}),
		  "CPU and memory fit the GPU node together");
	cr_assert_not(sim_fit_check_fits(check, &(score_gpu_pod){.cpu_milli = 12000,
								  .gpu_count = 2, .gpu_milli = 1000,
								  .memory = 65LL << 30}),
		      "memory too large for the only node with two GPUs");
	sim_fit_check_free(check);
	score_gpu_models_release(&models);
}

Test(fitcheck, warning_names_shape_and_largest_node)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	score_gpu_pod cpu = pod_of(100000, 1, 0, 0, 0);
	score_gpu_pod memory = pod_of(1000, 512, 0, 0, 0);
	GPtrArray *warnings;

	add_node(check, "node-0000", "8/32Gi");
	add_node(check, "node-0001", "8/32Gi");
	add_node(check, "node-0040", "32/128Gi");
	sim_fit_check_add_pods(check, &cpu, 1, 7);
	sim_fit_check_add_pods(check, &cpu, 1, 9);
	sim_fit_check_add_pods(check, &memory, 1, 3);
	warnings = list_warnings(check);

	cr_assert_eq(warnings->len, 2, "one warning per shape, got %u", warnings->len);
	cr_assert_str_eq(warnings->pdata[0],
			 "pods.csv: pod shape 1/512Gi fits no node: it requests 512Gi of memory, "
			 "and the largest node, node-0040 (32c-128Gi), has 128Gi; 1 pod of the list, "
			 "on line 3, will never start",
			 "in line order: %s", (char *)warnings->pdata[0]);
	cr_assert_str_eq(warnings->pdata[1],
			 "pods.csv: pod shape 100/1Gi fits no node: it requests 100 CPU, and the "
			 "largest node, node-0040 (32c-128Gi), has 32; 2 pods of the list, the first "
			 "on line 7, will never start",
			 "pods counted per shape: %s", (char *)warnings->pdata[1]);
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}

Test(fitcheck, no_single_node_has_everything)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	score_gpu_pod pod = pod_of(16000, 100, 0, 0, 0);
	GPtrArray *warnings;

	add_node(check, "wide", "32/64Gi");
	add_node(check, "deep", "8/128Gi");
	sim_fit_check_add_pods(check, &pod, 1, 2);
	warnings = list_warnings(check);
	cr_assert_eq(warnings->len, 1);
	cr_assert(strstr(warnings->pdata[0],
			 "no single node has all it requests; the largest node by CPU is wide "
			 "(32c-64Gi), by memory deep (8c-128Gi)") != NULL,
		  "names both largest nodes: %s", (char *)warnings->pdata[0]);
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}

Test(fitcheck, gpu_pods_without_gpu_nodes)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	sim_generator_config generator;
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	score_error err = {0};

	add_node(check, "node-0000", "8/32Gi");
	sim_generator_defaults(&generator);
	cr_assert_eq(sim_generator_parse_shapes("3:1/2Gi,1:2/4Gi/2", &generator, &err), 0, "%s",
		     err.message);
	sim_fit_check_warnings(check, NULL, &generator, warnings);
	cr_assert_eq(warnings->len, 1, "only the GPU shape, got %u", warnings->len);
	cr_assert_str_eq(warnings->pdata[0],
			 "pod shape 2/4Gi/2 (weight 1, 25.0% of pods) fits no node: it requests "
			 "GPUs, and the cluster has no GPU nodes; its pods will never start");
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}

Test(fitcheck, many_shapes_summarized)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	GPtrArray *warnings;

	add_node(check, "n", "4/16Gi");
	for (int i = 0; i < 14; i++) {
		score_gpu_pod pod = pod_of(5000 + i, 1, 0, 0, 0);

		sim_fit_check_add_pods(check, &pod, 2, 10 + i);
	}
	warnings = list_warnings(check);
	cr_assert_eq(warnings->len, 11, "10 listed and one for the rest, got %u", warnings->len);
	cr_assert_str_eq(warnings->pdata[10],
			 "pods.csv: 4 more pod shapes fit no node; their 8 pods will never start");
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}

Test(fitcheck, pod_shape_text)
{
	char buf[64];

	cr_assert_str_eq(sim_format_pod_shape(&(score_gpu_pod){.cpu_milli = 500,
							       .memory = 1LL << 30},
					      buf, sizeof(buf)),
			 "500m/1Gi");
	cr_assert_str_eq(sim_format_pod_shape(&(score_gpu_pod){.cpu_milli = 4000,
							       .memory = 16LL << 30,
							       .gpu_count = 2,
							       .gpu_milli = 1000},
					      buf, sizeof(buf)),
			 "4/16Gi/2");
	cr_assert_str_eq(sim_format_pod_shape(&(score_gpu_pod){.cpu_milli = 1000,
							       .memory = 512LL << 20,
							       .gpu_count = 1,
							       .gpu_milli = 250},
					      buf, sizeof(buf)),
			 "1/512Mi/250m");
	cr_assert_str_eq(sim_format_pod_shape(&(score_gpu_pod){.cpu_milli = 1000,
							       .memory = 1000,
							       .gpu_count = 1,
							       .gpu_milli = 1000},
					      buf, sizeof(buf)),
			 "1/1000/1");
}

Test(fitcheck, memory_without_unit_named_in_bytes, .timeout = 60)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	score_gpu_pod pod = pod_of(1000, 1, 0, 0, 0);
	GPtrArray *warnings;
	const char *expected = "it requests 1Gi of memory, and the largest node, small (4c-16), has 16 bytes "
			       "(the node's memory is 16 bytes: was 16Gi meant? Quantities without a unit are bytes)";

	add_node(check, "small", "4/16");
	sim_fit_check_add_pods(check, &pod, 1, 2);
	warnings = list_warnings(check);
	cr_assert_eq(warnings->len, 1, "expected 1 warning, got %u", warnings->len);
	cr_assert(strstr(warnings->pdata[0], expected) != NULL, "expected \"%s\" in: %s", expected,
		  (const char *)warnings->pdata[0]);
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}

Test(fitcheck, bandwidth_over_largest_capacity, .timeout = 60)
{
	sim_fit_check *check = sim_fit_check_new(NULL);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	const char *expected = "pods.yaml: 2 pods request ingress bandwidth above every node's capacity "
			       "(up to 3G bits/s, the first on line 4), and the largest capacity, on node b, "
			       "is 1G bits/s; they will never start";

	sim_fit_check_add_bandwidth(check, 0, 0, 2);
	sim_fit_check_add_bandwidth(check, 500000000, 0, 3);
	sim_fit_check_add_bandwidth(check, 2000000000, 7000000000, 4);
	sim_fit_check_add_bandwidth(check, 3000000000, 0, 9);
	sim_fit_check_bandwidth_warnings(check, "pods.yaml", true, 1000000000, "b", warnings);
	cr_assert_eq(warnings->len, 1, "expected 1 ingress warning, got %u", warnings->len);
	cr_assert_str_eq(warnings->pdata[0], expected);
	sim_fit_check_bandwidth_warnings(check, "pods.yaml", false, 10000000000, "b", warnings);
	cr_assert_eq(warnings->len, 1, "expected no egress warning under 10G, got %u",
		     warnings->len);
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(check);
}
