/* Tests for sim/sim.c: the `stowage sim` command line, its exit statuses
 * for usage and run errors, and a successful run of each command on traces
 * written here. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/sim.h"
#include "tests/run.h"
#include "tests/tempdir.h"

TestSuite(sim, .timeout = 60);

/* Captures the JSON on stdout. stderr stays visible, so the usage errors
 * print there, and so do sanitizer reports, which the test log is searched
 * for. */
static void quiet(void)
{
	cr_redirect_stdout();
}

/* Runs sim_main() on a NULL-terminated list of arguments after "sim". */
#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

typedef struct traces {
	char *dir;
	char *nodes;
	char *pods;
	char *out;
} traces;

static void traces_init(traces *t)
{
	t->dir = test_make_temp_dir("stowage-sim-XXXXXX");
	t->nodes = g_build_filename(t->dir, "openb_node_list_gpu_node.csv", NULL);
	t->pods = g_build_filename(t->dir, "openb_pod_list_small.csv", NULL);
	t->out = g_build_filename(t->dir, "out", NULL);
	cr_assert(g_file_set_contents(t->nodes,
				      "sn,cpu_milli,memory_mib,gpu,model\n"
				      "a,32000,65536,4,T4\nb,32000,65536,2,T4\n", -1, NULL));
	cr_assert(g_file_set_contents(t->pods,
				      "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"
				      "p1,4000,1024,1,500\np2,2000,1024,1,1000\n"
				      "p3,1000,1024,0,0\np4,8000,1024,2,1000\n", -1, NULL));
}

static void traces_release(traces *t)
{
	test_remove_tree(t->dir);
	g_free(t->dir);
	g_free(t->nodes);
	g_free(t->pods);
	g_free(t->out);
}

static bool exists(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	bool found = g_file_test(path, G_FILE_TEST_IS_REGULAR);

	g_free(path);
	return found;
}

Test(sim, usage_errors, .init = quiet)
{
	cr_assert_eq(run("replay", NULL), 2, "unknown command");
	cr_assert_eq(run("help", NULL), 0, "help");
	cr_assert_eq(run("inflate", NULL), 2, "inflate without --nodes and --pods");
	cr_assert_eq(run("inflate", "--bogus", NULL), 2, "unknown option");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "extra", NULL), 2,
		     "stray argument");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "--seed", "x", NULL),
		     2, "bad seed");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "--policy", "tetris",
			 NULL), 2, "bad policy");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "--ratio", "-1",
			 NULL), 2, "bad ratio");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "--steps", "50,,90",
			 NULL), 2, "bad steps");
	cr_assert_eq(run("inflate", "--nodes", "n.csv", "--pods", "p.csv", "--tie-break", "first",
			 NULL), 2, "bad tie-break");
	cr_assert_eq(run("fgd-repro", "--out", "/tmp/x", NULL), 2, "fgd-repro without --traces");
	cr_assert_eq(run("fgd-repro", "--traces", "/tmp", "--out", "/tmp/x", "--seeds", "51-42",
			 NULL), 2, "descending seed range");
	cr_assert_eq(run("fgd-repro", "--traces", "/tmp", "--out", "/tmp/x", "--workloads", ",",
			 NULL), 2, "empty workload name");
	cr_assert_eq(run("fgd-repro", "--traces", "/tmp", "--out", "/tmp/x", "--policies",
			 "FGD,Best", NULL), 2, "unknown policy");
}

Test(sim, inflate_missing_file_fails, .init = quiet)
{
	cr_assert_eq(run("inflate", "--nodes", "/nonexistent/n.csv", "--pods",
			 "/nonexistent/p.csv", NULL), 1);
}

Test(sim, inflate_writes_outputs, .init = quiet)
{
	traces t;

	traces_init(&t);
	cr_assert_eq(run("inflate", "--nodes", t.nodes, "--pods", t.pods, "--policy", "BestFit",
			 "--seed", "7", "--steps", "50,100", "--out", t.out, NULL), 0);
	cr_assert(exists(t.out, "summary.json"), "summary.json written");
	cr_assert(exists(t.out, "steps.csv"), "steps.csv written");
	traces_release(&t);
}

Test(sim, fgd_repro_small_run, .init = quiet)
{
	traces t;

	traces_init(&t);
	cr_assert_eq(run("fgd-repro", "--traces", t.dir, "--out", t.out, "--workloads",
			 "openb_pod_list_small.csv", "--policies", "FGD,Random", "--seeds",
			 "42,44-45", "--quiet", NULL), 0);
	cr_assert(exists(t.out, "summary.csv"), "summary.csv written");
	cr_assert(exists(t.out, "runs.csv"), "runs.csv written");
	cr_assert(exists(t.out, "summary.json"), "summary.json written");
	cr_assert_not(exists(t.out, "comparison.csv"), "no comparison without --reference");
	traces_release(&t);
}

Test(sim, fgd_repro_skip_bad_rows, .init = quiet)
{
	traces t;

	traces_init(&t);
	cr_assert(g_file_set_contents(t.pods,
				      "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"
				      "p1,4000,1024,1,500\np2,bad,1024,1,1000\n", -1, NULL));
	cr_assert_eq(run("fgd-repro", "--traces", t.dir, "--out", t.out, "--workloads",
			 "openb_pod_list_small", "--policies", "FGD", "--seeds", "1", "--quiet",
			 NULL), 1, "a bad row fails the run");
	cr_assert_eq(run("fgd-repro", "--traces", t.dir, "--out", t.out, "--workloads",
			 "openb_pod_list_small", "--policies", "FGD", "--seeds", "1", "--quiet",
			 "--skip-bad-rows", NULL), 0, "--skip-bad-rows skips it");
	traces_release(&t);
}
