/* Tests for sim/sweep.c and sim/merge.c: sweep files and their errors,
 * the numbering of cells, a tiny sweep run with --jobs 2 and merged, one
 * cell from --cell and from $JOB_COMPLETION_INDEX, and a failing cell
 * that leaves the others running. */
#include <criterion/criterion.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/sim.h"
#include "sim/sweep.h"
#include "tests/run.h"
#include "tests/tempdir.h"

TestSuite(sweep, .timeout = 60);

/* Runs sim_main() on a NULL-terminated list of arguments after "sim". */
#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

/* A temporary directory, removed with everything in it. */
static char *make_dir(void)
{
	return test_make_temp_dir("stowage-sweep-XXXXXX");
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "cannot write %s", path);
	return path;
}

static char *read_file(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "missing %s", path);
	g_free(path);
	return text;
}

static const char strict_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: strict}\n"
	"spec:\n"
	"  weights: {contention: 1, isolation: 1}\n"
	"  tenants: {mode: strict}\n";

/* ---- Loading ------------------------------------------------------------- */

Test(sweep, cells_numbered_policy_first)
{
	char *dir = make_dir();
	char *path = write_file(dir, "sweep.yaml",
				"policies: [kube-default, kube-most-allocated]\n"
				"workloads:\n"
				"- {name: a, options: [--rate, \"10\"]}\n"
				"- {name: b, options: \"--rate 20\"}\n"
				"seeds: \"7-8\"\n"
				"cluster: 2x4/8Gi,2x8/16Gi\n"
				"clusters: [2, 1x4/8Gi]\n");
	sim_sweep *sweep = NULL;
	score_error err = {0};
	const sim_sweep_cell *cell;

	cr_assert_eq(sim_sweep_load(path, &sweep, &err), 0, "load: %s", err.message);
	cr_assert_eq(sim_sweep_cell_count(sweep), 16, "2 x 2 x 2 x 2 cells, got %zu",
		     sim_sweep_cell_count(sweep));
	cell = sim_sweep_cell_at(sweep, 0);
	cr_assert_str_eq(cell->policy, "kube-default");
	cr_assert_str_eq(cell->workload, "a");
	cr_assert_eq(cell->seed, 7);
	cr_assert_str_eq(cell->cluster, "1x4/8Gi,1x8/16Gi", "2 nodes scale both entries: %s",
			 cell->cluster);
	cell = sim_sweep_cell_at(sweep, 1);
	cr_assert_str_eq(cell->cluster, "1x4/8Gi", "the cluster varies fastest");
	cell = sim_sweep_cell_at(sweep, 2);
	cr_assert_eq(cell->seed, 8, "then the seed, got %u", cell->seed);
	cell = sim_sweep_cell_at(sweep, 4);
	cr_assert_str_eq(cell->workload, "b", "then the workload");
	cell = sim_sweep_cell_at(sweep, 8);
	cr_assert_str_eq(cell->policy, "kube-most-allocated", "the policy varies slowest");
	cell = sim_sweep_cell_at(sweep, 13);
	cr_assert_eq(cell->index, 13);
	cr_assert_str_eq(cell->workload, "b");
	cr_assert_str_eq(g_ptr_array_index(cell->args, cell->args->len - 1), "20",
			 "the workload's options come last");

	sim_sweep_free(sweep);
	test_remove_tree(dir);
	g_free(path);
	g_free(dir);
}

Test(sweep, defaults_give_one_cell)
{
	char *dir = make_dir();
	char *path = write_file(dir, "sweep.yaml", "options: [--duration, 1h]\n");
	sim_sweep *sweep = NULL;
	score_error err = {0};
	const sim_sweep_cell *cell;

	cr_assert_eq(sim_sweep_load(path, &sweep, &err), 0, "load: %s", err.message);
	cr_assert_eq(sim_sweep_cell_count(sweep), 1);
	cell = sim_sweep_cell_at(sweep, 0);
	cr_assert_str_eq(cell->policy, "kube-default");
	cr_assert_str_eq(cell->workload, "default");
	cr_assert_eq(cell->seed, 42);
	cr_assert_null(cell->cluster, "no --cluster without clusters");
	sim_sweep_free(sweep);
	test_remove_tree(dir);
	g_free(path);
	g_free(dir);
}

typedef struct bad_sweep {
	const char *text;
	const char *message; /* expected in the error */
} bad_sweep;

Test(sweep, invalid_files_rejected)
{
	static const bad_sweep cases[] = {
		{"policies: [kube-default]\nsurprise: 1\n", "sweep.yaml:2:1: surprise: unknown field"},
		{"options: [--out, x]\n", "--out is set by the sweep"},
		{"options: \"--seed=4\"\n", "--seed is set by the sweep"},
		{"clusters: [4]\noptions: [--cluster, 2x4/8Gi]\n", "--cluster conflicts"},
		{"seeds: \"5-2\"\n", "seeds: expected seeds"},
		{"seeds: [x]\n", "seeds: expected seeds"},
		{"clusters: [0]\n", "invalid node count 0"},
		{"clusters: [2x]\n", "clusters:"},
		{"policies: [spread]\n", "unknown policy \"spread\""},
		{"policies: [missing.yaml]\n", "missing.yaml"},
		{"workloads: [{options: [--rate, \"1\"]}]\n", "missing or empty name"},
		{"workloads: [{name: a}, {name: a}]\n", "listed twice"},
		{"policies: [kube-default, [b]]\n", "expected a policy name or file"},
		{"- just a list\n", "expected a mapping"},
		{"policies: [unclosed\n", "sweep.yaml:"},
		{"options: [--rat, \"5\"]\n",
		 "sweep.yaml:1:1: options: invalid run options for workload default: Unknown option --rat"},
		{"workloads: [{name: w, options: [--rate, \"-5\"]}]\n",
		 "invalid run options for workload w: invalid --rate \"-5\""},
		{"seeds: \"1-1000001\"\n",
		 "\"1-1000001\" makes more than 1000000 seeds, the limit of cells in a sweep"},
		{"seeds: [\"1-600000\", \"700000-1200000\"]\n", "makes more than 1000000 seeds"},
	};
	char *dir = make_dir();

	test_capture_output();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = write_file(dir, "sweep.yaml", cases[i].text);
		sim_sweep *sweep = NULL;
		score_error err = {0};

		cr_assert_lt(sim_sweep_load(path, &sweep, &err), 0, "case %zu: %s", i,
			     cases[i].text);
		cr_assert_null(sweep);
		cr_assert(strstr(err.message, cases[i].message) != NULL,
			  "case %zu: expected \"%s\" in \"%s\"", i, cases[i].message,
			  err.message);
		g_free(path);
	}
	test_remove_tree(dir);
	g_free(dir);
}

Test(sweep, invalid_policy_file_is_usage_error)
{
	char *dir = make_dir();
	char *policy = write_file(dir, "bad.yaml",
				  "apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\n"
				  "metadata: {name: bad}\nspec:\n  tenants: {mode: sometimes}\n");
	char *text = g_strdup_printf("policies: [%s]\n", policy);
	char *path = write_file(dir, "sweep.yaml", text);
	char *out = g_build_filename(dir, "out", NULL);
	char *errors;

	test_capture_output();
	cr_assert_eq(run("sweep", path, "--out", out, NULL), 2);
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "bad.yaml:5:") != NULL,
		  "the parser's FILE:LINE:COLUMN message: %s", errors);
	cr_assert_not(g_file_test(out, G_FILE_TEST_EXISTS), "nothing ran");
	g_free(errors);
	test_remove_tree(dir);
	g_free(policy);
	g_free(text);
	g_free(path);
	g_free(out);
	g_free(dir);
}

/* ---- Running ------------------------------------------------------------- */

Test(sweep, tiny_sweep_runs_and_merges)
{
	char *dir = make_dir();
	char *policy = write_file(dir, "strict.yaml", strict_policy);
	char *text = g_strdup_printf("name: tiny\n"
				     "options: [--duration, 2h, --rate, \"200\", --tenants, \"3\"]\n"
				     "policies: [kube-default, %s]\n"
				     "seeds: [1, 2]\n"
				     "cluster: 4x4/16Gi\n"
				     "clusters: [2, 4]\n",
				     policy);
	char *path = write_file(dir, "sweep.yaml", text);
	char *out = g_build_filename(dir, "out", NULL);
	char *report = g_build_filename(dir, "report", NULL);
	char *cell_dir = g_build_filename(out, "cell-0007", NULL);
	char *cell_json;
	char *summary;
	char *comparison;
	char *cells;
	char *html;
	char *errors;
	char **lines;

	test_capture_output();
	cr_assert_eq(run("sweep", path, "--out", out, "--jobs", "2", NULL), 0);
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "[8/8]") != NULL, "a progress line per cell: %s", errors);
	cr_assert(strstr(errors, "8 cells: 8 succeeded, 0 failed") != NULL, "%s", errors);

	cell_json = read_file(cell_dir, "cell.json");
	cr_assert(strstr(cell_json, "\"status\":\t\"succeeded\"") != NULL, "%s", cell_json);
	cr_assert(strstr(cell_json, "\"seed\":\t2") != NULL, "cell 7 has seed 2: %s", cell_json);
	cr_assert(strstr(cell_json, "strict.yaml") != NULL, "and the policy file: %s", cell_json);
	summary = read_file(cell_dir, "summary.json");
	cr_assert(strstr(summary, "\"untrusted_pairs_ever_sharing\":\t0") != NULL,
		  "strict isolation keeps untrusted tenants apart: %s", summary);

	cr_assert_eq(run("merge", out, "--out", report, NULL), 0);
	comparison = read_file(report, "comparison.csv");
	cr_assert(g_str_has_prefix(comparison, "scenario,policy,cells,failed,never_started_mean,"),
		  "comparison.csv header: %.200s", comparison);
	cr_assert(strstr(comparison, "\"default, 2x4/16Gi\",kube-default,2,0,") != NULL,
		  "one row per scenario and policy over 2 seeds: %s", comparison);
	cells = read_file(report, "cells.csv");
	lines = g_strsplit(g_strstrip(cells), "\n", -1);
	cr_assert_eq(g_strv_length(lines), 9, "a header and 8 cells, got %u lines",
		     g_strv_length(lines));
	g_strfreev(lines);
	cr_assert(strstr(cells, "7,cell-0007,") != NULL, "%s", cells);
	html = read_file(report, "report.html");
	cr_assert(strstr(html, "<svg") != NULL, "plots in the report");
	cr_assert(strstr(html, "strict.yaml") != NULL, "policies in the legend");

	g_free(errors);
	g_free(cell_json);
	g_free(summary);
	g_free(comparison);
	g_free(cells);
	g_free(html);
	test_remove_tree(dir);
	g_free(policy);
	g_free(text);
	g_free(path);
	g_free(out);
	g_free(report);
	g_free(cell_dir);
	g_free(dir);
}

Test(sweep, failed_cell_leaves_others_running)
{
	char *dir = make_dir();
	char *path = write_file(dir, "sweep.yaml",
				"options: [--duration, 1h, --cluster, 2x4/16Gi]\n"
				"workloads:\n"
				"- {name: good, options: [--rate, \"50\"]}\n"
				"- {name: bad, options: [--pods, missing-pods.csv]}\n"
				"- {name: also-good, options: [--rate, \"60\"]}\n");
	char *out = g_build_filename(dir, "out", NULL);
	char *bad = g_build_filename(out, "cell-0001", NULL);
	char *good = g_build_filename(out, "cell-0002", NULL);
	char *bad_json;
	char *log;
	char *errors;

	test_capture_output();
	cr_assert_eq(run("sweep", path, "--out", out, "--jobs", "2", NULL), 1,
		     "exit status 1 when a cell failed");
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "2 succeeded, 1 failed") != NULL, "%s", errors);
	cr_assert(strstr(errors, "missing-pods.csv") != NULL,
		  "the failed cell's last log line: %s", errors);
	bad_json = read_file(bad, "cell.json");
	cr_assert(strstr(bad_json, "\"status\":\t\"failed\"") != NULL, "%s", bad_json);
	cr_assert(strstr(bad_json, "\"exit_status\":\t1") != NULL, "%s", bad_json);
	log = read_file(bad, "run.log");
	cr_assert(strstr(log, "missing-pods.csv") != NULL, "%s", log);
	cr_assert(g_file_test(good, G_FILE_TEST_IS_DIR), "the cell after it ran");
	g_free(log);
	log = read_file(good, "summary.json");
	g_free(log);

	g_free(errors);
	g_free(bad_json);
	test_remove_tree(dir);
	g_free(path);
	g_free(out);
	g_free(bad);
	g_free(good);
	g_free(dir);
}

Test(sweep, one_cell_from_option_or_job_index)
{
	char *dir = make_dir();
	char *path = write_file(dir, "sweep.yaml",
				"options: [--duration, 1h, --cluster, 2x4/16Gi]\n"
				"seeds: \"1-3\"\n");
	char *out = g_build_filename(dir, "out", NULL);
	char *first = g_build_filename(out, "cell-0001", "summary.json", NULL);
	char *second = g_build_filename(out, "cell-0002", "cell.json", NULL);
	char *other = g_build_filename(out, "cell-0000", NULL);
	char *errors;

	test_capture_output();
	cr_assert_eq(run("sweep", path, "--out", out, "--cell", "1", "-q", NULL), 0);
	cr_assert(g_file_test(first, G_FILE_TEST_EXISTS), "cell 1 ran");
	cr_assert_not(g_file_test(other, G_FILE_TEST_EXISTS), "cell 0 did not");

	g_setenv("JOB_COMPLETION_INDEX", "2", TRUE);
	cr_assert_eq(run("sweep", path, "--out", out, "-q", NULL), 0);
	cr_assert(g_file_test(second, G_FILE_TEST_EXISTS), "cell 2 from the Job index");
	cr_assert_not(g_file_test(other, G_FILE_TEST_EXISTS), "cell 0 still did not");

	g_setenv("JOB_COMPLETION_INDEX", "3", TRUE);
	cr_assert_eq(run("sweep", path, "--out", out, NULL), 2, "past the last cell");
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "invalid JOB_COMPLETION_INDEX \"3\": the sweep has cells 0 to 2") !=
			  NULL,
		  "%s", errors);
	g_unsetenv("JOB_COMPLETION_INDEX");
	cr_assert_eq(run("sweep", path, "--out", out, "--cell", "x", NULL), 2);

	g_free(errors);
	test_remove_tree(dir);
	g_free(path);
	g_free(out);
	g_free(first);
	g_free(second);
	g_free(other);
	g_free(dir);
}

Test(sweep, list_prints_cells)
{
	char *dir = make_dir();
	char *path = write_file(dir, "sweep.yaml", "seeds: [3, 4]\nclusters: [1x4/8Gi]\n");
	char *text;

	test_capture_output();
	cr_assert_eq(run("sweep", path, "--list", NULL), 0);
	text = test_captured_stdout();
	cr_assert_str_eq(text,
			 "index,policy,workload,seed,cluster\n"
			 "0,kube-default,default,3,1x4/8Gi\n"
			 "1,kube-default,default,4,1x4/8Gi\n");
	g_free(text);
	test_remove_tree(dir);
	g_free(path);
	g_free(dir);
}

Test(sweep, merge_without_cells_fails)
{
	char *dir = make_dir();
	char *report = g_build_filename(dir, "report", NULL);
	char *errors;

	test_capture_output();
	cr_assert_eq(run("merge", dir, "--out", report, NULL), 1);
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "no cells in") != NULL, "%s", errors);
	cr_assert_eq(run("merge", dir, NULL), 2, "--out is required");
	g_free(errors);
	test_remove_tree(dir);
	g_free(report);
	g_free(dir);
}

Test(sweep, merge_rejects_malformed_summary)
{
	char *dir = make_dir();
	char *cell = g_build_filename(dir, "cell-0000", NULL);
	char *report = g_build_filename(dir, "report", NULL);
	char *errors;

	g_mkdir(cell, 0755);
	g_free(write_file(cell, "cell.json",
			  "{\"index\": 0, \"policy\": \"p\", \"workload\": \"w\", \"seed\": 1,"
			  " \"cluster\": null, \"status\": \"succeeded\"}"));
	g_free(write_file(cell, "summary.json", "{not json"));
	test_capture_output();
	cr_assert_eq(run("merge", dir, "--out", report, NULL), 1);
	errors = test_captured_stderr();
	cr_assert(strstr(errors, "invalid JSON in") != NULL && strstr(errors, "summary.json") != NULL,
		  "%s", errors);
	g_free(errors);
	test_remove_tree(dir);
	g_free(cell);
	g_free(report);
	g_free(dir);
}
