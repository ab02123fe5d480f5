/* Tests for sim/plan.c and sim/policyfile.c: template scaling, the
 * search for the smallest cluster with its outputs and usage errors, and
 * churn runs placed by a policy file, with co-residency and peer-cost
 * metrics and the parser's messages for an invalid file. */
#include <criterion/criterion.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "sim/plan.h"
#include "sim/sim.h"
#include "tests/run.h"
#include "tests/tempdir.h"

TestSuite(plan, .timeout = 60);

/* Runs sim_main() on a NULL-terminated list of arguments after "sim". */
#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

static cJSON *read_json(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;
	cJSON *root;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "missing %s", path);
	root = cJSON_Parse(text);
	cr_assert_not_null(root, "invalid JSON in %s", path);
	g_free(text);
	g_free(path);
	return root;
}

static double number_at(const cJSON *root, const char *a, const char *b)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, a);

	if (b != NULL)
		item = cJSON_GetObjectItemCaseSensitive(item, b);
	cr_assert(cJSON_IsNumber(item), "%s.%s is not a number", a, b != NULL ? b : "");
	return item->valuedouble;
}

/* ---- Scaling ------------------------------------------------------------- */

typedef struct scale_case {
	const char *tmpl;
	uint32_t nodes;
	const char *expected;
} scale_case;

Test(plan, scale_template_largest_remainder)
{
	static const scale_case cases[] = {
		{"20x8/32Gi,20x16/64Gi,10x32/128Gi", 50, "20x8/32Gi,20x16/64Gi,10x32/128Gi"},
		{"20x8/32Gi,20x16/64Gi,10x32/128Gi", 10, "4x8/32Gi,4x16/64Gi,2x32/128Gi"},
		{"20x8/32Gi,20x16/64Gi,10x32/128Gi", 7, "3x8/32Gi,3x16/64Gi,1x32/128Gi"},
		{"20x8/32Gi,20x16/64Gi,10x32/128Gi", 1, "1x8/32Gi"},
		{"1x8/32Gi,1x16/64Gi", 3, "2x8/32Gi,1x16/64Gi"},
		{"3x4/16Gi", 17, "17x4/16Gi"},
		{"2x32/256Gi/110/8/V100M32", 5, "5x32/256Gi/110/8/V100M32"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_error err = {0};
		char *text = sim_plan_scale_template(cases[i].tmpl, cases[i].nodes, &err);

		cr_assert_not_null(text, "case %zu: %s", i, err.message);
		cr_assert_str_eq(text, cases[i].expected, "case %zu: %s to %u nodes", i,
				 cases[i].tmpl, cases[i].nodes);
		g_free(text);
	}
}

Test(plan, scale_template_rejects_bad_input)
{
	score_error err = {0};

	cr_assert_null(sim_plan_scale_template("4x8/32Gi", 0, &err));
	cr_assert(strstr(err.message, "invalid node count 0") != NULL, "%s", err.message);
	cr_assert_null(sim_plan_scale_template("4y8/32Gi", 3, &err));
	cr_assert_null(sim_plan_scale_template("4x8/32Gi", 2000000, &err));
}

/* ---- Search -------------------------------------------------------------- */

Test(plan, finds_smallest_cluster)
{
	char *dir = test_make_temp_dir("stowage-plan-XXXXXX");
	char *out = g_build_filename(dir, "plan", NULL);
	const cJSON *probes;
	const cJSON *probe;
	cJSON *plan;
	char *text;
	double nodes;

	test_capture_output();
	cr_assert_eq(run("plan", "--out", out, "--cluster", "8x4/16Gi", "--duration", "3h",
			 "--rate", "400", "--lifetimes", "1:10m", "--shapes", "1:1/2Gi",
			 "--arrivals", "poisson", "--slo-unschedulable", "0", NULL),
		     0);
	text = test_captured_stderr();
	cr_assert(strstr(text, "probe 1: 8 nodes") != NULL, "the template's size first: %s", text);
	g_free(text);
	text = test_captured_stdout();
	cr_assert(strstr(text, " meet the objectives, with 0 of ") != NULL &&
			  strstr(text, " pods never started; ") != NULL,
		  "expected the never-started count on the answer line, got: %s", text);
	g_free(text);
	plan = read_json(out, "plan.json");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(plan, "found")));
	nodes = number_at(plan, "nodes", NULL);
	probes = cJSON_GetObjectItemCaseSensitive(plan, "probes");
	cr_assert_gt(cJSON_GetArraySize(probes), 1, "several probes");
	/* The chosen size meets the objective, and one node fewer, probed, does not. */
	cJSON_ArrayForEach(probe, probes)
	{
		double size = number_at(probe, "nodes", NULL);
		bool meets = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(probe, "meets"));

		if (size == nodes)
			cr_assert(meets, "the answer, %g nodes, meets the objective", nodes);
		if (size == nodes - 1)
			cr_assert_not(meets, "%g nodes miss it", size);
		if (meets)
			cr_assert_eq(number_at(probe, "never_started_pods", NULL), 0);
	}
	cJSON_Delete(plan);
	cr_assert(g_file_test(out, G_FILE_TEST_IS_DIR));
	text = g_build_filename(out, "plan.html", NULL);
	cr_assert(g_file_test(text, G_FILE_TEST_EXISTS), "plan.html written");
	g_free(text);
	test_remove_tree(dir);
	g_free(out);
	g_free(dir);
}

Test(plan, reports_no_size_within_limit)
{
	char *dir = test_make_temp_dir("stowage-plan-XXXXXX");
	char *out = g_build_filename(dir, "plan", NULL);
	const char *expected = "no number of nodes can meet the objectives, because a pod fits no node "
			       "of the template 2x4/16Gi: pod shape 8/1Gi";
	cJSON *plan;
	char *text;
	int probes;

	test_capture_output();
	/* A pod shape larger than every node never starts at any size, so
	 * the first probe ends the search. */
	cr_assert_eq(run("run", "--min-nodes", "--out", out, "--cluster", "2x4/16Gi",
			 "--duration", "1h", "--shapes", "1:8/1Gi", "--max-nodes", "4", "-q", NULL),
		     1);
	text = test_captured_stdout();
	cr_assert(strstr(text, expected) != NULL, "expected \"%s\" on stdout, got: %s", expected,
		  text);
	cr_assert(strstr(text, "the largest node, node-0000 (4c-16Gi), has 4") != NULL,
		  "expected the largest node named, got: %s", text);
	cr_assert(strstr(text, "stopped after 1 probe;") != NULL,
		  "expected \"stopped after 1 probe;\", got: %s", text);
	g_free(text);
	plan = read_json(out, "plan.json");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(plan, "found")));
	probes = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(plan, "probes"));
	cr_assert_eq(probes, 1, "expected 1 probe, of the template's 2 nodes, got %d", probes);
	cJSON_Delete(plan);
	test_remove_tree(dir);
	g_free(out);
	g_free(dir);
}

Test(plan, usage_errors)
{
	char *text;

	test_capture_output();
	cr_assert_eq(run("plan", "--duration", "1h", NULL), 2, "--out is required");
	cr_assert_eq(run("plan", "--out", "x", "--nodes", "n.csv", NULL), 2);
	cr_assert_eq(run("plan", "--out", "x", "--slo-pending-p99", "soon", NULL), 2);
	cr_assert_eq(run("plan", "--out", "x", "--max-nodes", "0", NULL), 2);
	cr_assert_eq(run("plan", "--out", "x", "--cluster", "bad", NULL), 2);
	cr_assert_eq(run("plan", "--out", "x", "--slo-unschedulable", NULL), 2);
	text = test_captured_stderr();
	cr_assert(strstr(text, "missing --out") != NULL, "%s", text);
	cr_assert(strstr(text, "plan scales a cluster template") != NULL, "%s", text);
	cr_assert(strstr(text, "missing value after --slo-unschedulable") != NULL, "%s", text);
	g_free(text);
	cr_assert_not(g_file_test("x", G_FILE_TEST_EXISTS), "no output for usage errors");
}

/* ---- Policy files -------------------------------------------------------- */

static const char strict_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: strict}\n"
	"spec:\n"
	"  weights: {contention: 1, isolation: 1}\n"
	"  tenants:\n"
	"    mode: strict\n"
	"    names: [tenant-00, tenant-01, tenant-02]\n"
	"    trust:\n"
	"    - {tenant: tenant-00, trusts: [tenant-01]}\n"
	"    - {tenant: tenant-01, trusts: [tenant-00]}\n";

Test(plan, policy_file_keeps_untrusted_apart)
{
	char *dir = test_make_temp_dir("stowage-policy-XXXXXX");
	char *policy = g_build_filename(dir, "strict.yaml", NULL);
	char *strict_out = g_build_filename(dir, "strict", NULL);
	char *default_out = g_build_filename(dir, "default", NULL);
	cJSON *strict;
	cJSON *plain;
	const cJSON *parameters;

	cr_assert(g_file_set_contents(policy, strict_policy, -1, NULL));
	test_capture_output();
	cr_assert_eq(run("run", "--policy", policy, "--out", strict_out, "--cluster", "6x8/32Gi",
			 "--duration", "4h", "--tenants", "3", "-q", NULL),
		     0);
	cr_assert_eq(run("run", "--out", default_out, "--cluster", "6x8/32Gi", "--duration", "4h",
			 "--tenants", "3", "-q", NULL),
		     0);
	strict = read_json(strict_out, "summary.json");
	plain = read_json(default_out, "summary.json");
	cr_assert_eq(number_at(strict, "tenancy", "untrusted_pairs_ever_sharing"), 0,
		     "strict isolation never mixes untrusted tenants");
	cr_assert_eq(number_at(strict, "tenancy", "pods_next_to_untrusted"), 0);
	cr_assert_eq(number_at(strict, "tenancy", "tenant_pairs_ever_sharing"), 1,
		     "only the trusted pair tenant-00 and tenant-01 shares");
	cr_assert_gt(number_at(plain, "tenancy", "untrusted_pairs_ever_sharing"), 0,
		     "kube-default mixes tenants");
	cr_assert_gt(number_at(plain, "tenancy", "pods_next_to_untrusted"), 0);
	cr_assert_eq(number_at(strict, "tenancy", "tenants"), 3);
	parameters = cJSON_GetObjectItemCaseSensitive(strict, "parameters");
	cr_assert(strstr(cJSON_GetObjectItemCaseSensitive(parameters, "policy")->valuestring,
			 "policy \"strict\", sha256 ") != NULL,
		  "the policy's name and digest are recorded");
	cr_assert_eq(number_at(strict, "peer_cost", "pods_with_peers"), 0,
		     "no peers without locality sources");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(plain, "peer_cost"),
		       "no peer cost without a policy's topology");
	cJSON_Delete(strict);
	cJSON_Delete(plain);
	test_remove_tree(dir);
	g_free(policy);
	g_free(strict_out);
	g_free(default_out);
	g_free(dir);
}

Test(plan, policy_file_records_peer_cost)
{
	static const char locality_policy[] =
		"apiVersion: stowage.io/v1alpha1\n"
		"kind: SchedulingPolicy\n"
		"metadata: {name: near}\n"
		"spec:\n"
		"  weights: {contention: 1, locality: 2}\n"
		"  topology:\n"
		"    levels:\n"
		"    - {key: topology.stowage.io/rack, cost: 1}\n"
		"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
		"    defaultCost: 20\n"
		"  locality:\n"
		"    groups:\n"
		"    - name: app-0\n"
		"      members: [{podSelector: {matchLabels: {app: app-0}}}]\n"
		"      maxCost: 4\n"
		"      mode: soft\n";
	char *dir = test_make_temp_dir("stowage-policy-XXXXXX");
	char *policy = g_build_filename(dir, "near.yaml", NULL);
	char *out = g_build_filename(dir, "out", NULL);
	char *pods_path = g_build_filename(out, "pods.csv", NULL);
	char *pods = NULL;
	cJSON *summary;

	cr_assert(g_file_set_contents(policy, locality_policy, -1, NULL));
	test_capture_output();
	cr_assert_eq(run("run", "--policy", policy, "--out", out, "--duration", "3h", "--apps",
			 "2", "-q", NULL),
		     0);
	summary = read_json(out, "summary.json");
	cr_assert_gt(number_at(summary, "peer_cost", "pods_with_peers"), 0);
	cr_assert_leq(number_at(summary, "peer_cost", "max"), 20, "at most the default cost");
	cr_assert_leq(number_at(summary, "peer_cost", "p50"), number_at(summary, "peer_cost", "p99"));
	cr_assert(g_file_get_contents(pods_path, &pods, NULL, NULL));
	cr_assert(strstr(pods, ",peers,peer_cost\n") != NULL, "pods.csv columns");
	cJSON_Delete(summary);
	g_free(pods);
	test_remove_tree(dir);
	g_free(policy);
	g_free(out);
	g_free(pods_path);
	g_free(dir);
}

Test(plan, invalid_policy_file_exits_2)
{
	char *dir = test_make_temp_dir("stowage-policy-XXXXXX");
	char *policy = g_build_filename(dir, "bad.yaml", NULL);
	char *out = g_build_filename(dir, "out", NULL);
	char *missing = g_build_filename(dir, "missing.yaml", NULL);
	char *text;

	cr_assert(g_file_set_contents(policy,
				      "apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\n"
				      "metadata: {name: bad}\nspec:\n  weights: {contention: 500}\n"
				      "  tenants: {mode: sometimes}\n",
				      -1, NULL));
	test_capture_output();
	cr_assert_eq(run("run", "--policy", policy, "--out", out, NULL), 2);
	cr_assert_eq(run("run", "--policy", missing, "--out", out, NULL), 2);
	text = test_captured_stderr();
	cr_assert(strstr(text, "bad.yaml:5:25: spec.weights.contention:") != NULL, "%s", text);
	cr_assert(strstr(text, "bad.yaml:6:19: spec.tenants.mode:") != NULL,
		  "every error is printed: %s", text);
	cr_assert(strstr(text, "invalid policy file") != NULL, "%s", text);
	cr_assert(strstr(text, "missing.yaml") != NULL, "%s", text);
	cr_assert_not(g_file_test(out, G_FILE_TEST_EXISTS), "nothing ran");
	g_free(text);
	test_remove_tree(dir);
	g_free(policy);
	g_free(out);
	g_free(missing);
	g_free(dir);
}
