/* Tests for sim/churn.c and sim/sources.c through the command line.
 * They cover `stowage sim` with no command, `run` with options, the exit
 * statuses and the output files. Pod-list replay is tested with its input
 * errors (malformed rows, times going backwards, negative run times, empty
 * lists), with and without --skip-bad-rows. Node event files, GPU clusters
 * and determinism are tested too. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/churn.h"
#include "sim/sim.h"
#include "tests/run.h"

/* Runs sim_main() on a NULL-terminated list of arguments after "sim". */
#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

typedef struct workdir {
	char *dir;
	char *out;
} workdir;

static void workdir_init(workdir *w)
{
	w->dir = g_dir_make_tmp("stowage-churn-XXXXXX", NULL);
	cr_assert_not_null(w->dir);
	w->out = g_build_filename(w->dir, "out", NULL);
}

/* Removes the files the tests write; the directories are temporary. */
static void workdir_release(workdir *w)
{
	const char *outputs[] = {"summary.json", "timeseries.csv", "pods.csv", "report.html"};
	const char *inputs[] = {"pods.csv", "nodes.csv", "events.csv"};

	for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++) {
		char *path = g_build_filename(w->out, outputs[i], NULL);

		g_unlink(path);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		char *path = g_build_filename(w->dir, inputs[i], NULL);

		g_unlink(path);
		g_free(path);
	}
	g_rmdir(w->out);
	g_rmdir(w->dir);
	g_free(w->out);
	g_free(w->dir);
}

static char *write_input(const workdir *w, const char *name, const char *text)
{
	char *path = g_build_filename(w->dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "write %s", path);
	return path;
}

static char *read_output(const workdir *w, const char *name)
{
	char *path = g_build_filename(w->out, name, NULL);
	char *text = NULL;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "%s written", name);
	g_free(path);
	return text;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- The default run and the command line -------------------------------- */

Test(churn, default_run_writes_report_in_current_directory, .init = test_capture_output,
     .timeout = 60)
{
	workdir w;
	char *cwd = g_get_current_dir();
	char *out;
	char *report;

	workdir_init(&w);
	cr_assert_eq(chdir(w.dir), 0);
	cr_assert_eq(run(NULL), 0, "stowage sim with no command runs the default");
	out = test_captured_stdout();
	cr_assert(strstr(out, "stowage sim: 50 nodes, 1d00h of synthetic churn") != NULL,
		  "first summary line: %s", out);
	cr_assert(strstr(out, "\n  never started: ") != NULL, "never-started line: %s", out);
	cr_assert(strstr(out, "\n  pending time of the ") != NULL, "started pods' line: %s", out);
	cr_assert(strstr(out, "\n  pending time of all ") != NULL,
		  "all pods' line, as some pods never start in the default run: %s", out);
	cr_assert(strstr(out, "\n  peak pending: ") != NULL, "peak line: %s", out);
	cr_assert(strstr(out, "\n  mean allocation: cpu ") != NULL, "allocation line: %s", out);
	cr_assert(strstr(out, "\n  mean nodes used: ") != NULL, "nodes line: %s", out);
	cr_assert(strstr(out, "report: stowage-sim-report/report.html\n") != NULL,
		  "report path printed: %s", out);
	cr_assert_eq(count_of(out, "\n"), 8, "seven summary lines and the path: %s", out);

	cr_assert(g_file_get_contents("stowage-sim-report/report.html", &report, NULL, NULL),
		  "report.html written");
	cr_assert_eq(count_of(report, "<svg "), 5, "four plots and tenant co-residency");
	g_free(report);

	g_free(w.out);
	w.out = g_build_filename(w.dir, "stowage-sim-report", NULL);
	cr_assert_eq(chdir(cwd), 0);
	workdir_release(&w);
	g_free(out);
	g_free(cwd);
}

Test(churn, usage_errors_exit_2, .init = test_capture_output)
{
	static const char *const cases[][4] = {
		{"run", "--policy", "tetris", NULL},
		{"run", "--seed", "x", NULL},
		{"run", "--rate", "-1", NULL},
		{"run", "--rate", "abc", NULL},
		{"run", "--duration", "5 days", NULL},
		{"run", "--duration", "0s", NULL},
		{"run", "--shapes", "1:1", NULL},
		{"run", "--lifetimes", "x:1h", NULL},
		{"run", "--amplitude", "2", NULL},
		{"run", "--arrivals", "bursty", NULL},
		{"run", "--percentage-of-nodes-to-score", "101", NULL},
		{"run", "--sample-interval", "10ms", NULL},
		{"run", "--zones", "27", NULL},
		{"run", "--cluster", "bogus", NULL},
		{"run", "--cluster", "0x8/32Gi", NULL},
		{"run", "--cluster", "2x8/lots", NULL},
		{"run", "--bogus", NULL, NULL},
		{"run", "stray", NULL, NULL},
		{"run", "--nodes", "n.csv", "--cluster"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int status;

		if (cases[i][3] != NULL)
			status = run(cases[i][0], cases[i][1], cases[i][2], cases[i][3], "1x1/1Gi",
				     NULL);
		else
			status = run(cases[i][0], cases[i][1], cases[i][2], NULL);
		cr_assert_eq(status, 2, "case %zu (%s %s): expected exit 2, got %d", i,
			     cases[i][1], cases[i][2] != NULL ? cases[i][2] : "", status);
	}
	cr_assert_eq(run("--policy", "tetris", NULL), 2, "options right after sim are run's");
	cr_assert_eq(run("help", NULL), 0, "help");
	cr_assert_eq(run("nosuchcommand", NULL), 2, "unknown command");
}

Test(churn, run_errors_exit_1, .init = test_capture_output)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(run("run", "--pods", "/nonexistent/pods.csv", "--out", w.out, "--quiet",
			 NULL), 1, "missing pod list");
	cr_assert_eq(run("run", "--nodes", "/nonexistent/nodes.csv", "--out", w.out, "--quiet",
			 NULL), 1, "missing node list");
	cr_assert_eq(run("run", "--out", "/proc/version/out", "--quiet", NULL), 1,
		     "output directory that cannot be created");
	cr_assert_eq(run("run", "--policy", "FGD", "--out", w.out, "--quiet", NULL), 1,
		     "GPU policy on a cluster without GPUs");
	err = test_captured_stderr();
	cr_assert(strstr(err, "/nonexistent/pods.csv") != NULL, "names the file: %s", err);
	cr_assert(strstr(err, "needs GPU nodes") != NULL, "explains the policy: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, outputs_and_progress_line, .init = test_capture_output)
{
	workdir w;
	char *pods;
	char *json;
	char *err;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--duration", "3h", "--cluster", "5x4/16Gi",
			 "--rate", "300", "--seed", "9", NULL), 0);
	pods = read_output(&w, "pods.csv");
	json = read_output(&w, "summary.json");
	cr_assert(g_str_has_prefix(pods, "name,namespace,app,arrival_s,start_s,pending_s,node,"
					 "end_s,outcome,attempts,evictions,tenant,"
					 "untrusted_tenants_on_node,peers,peer_cost\n"),
		  "pods.csv header");
	cr_assert(strstr(pods, ",tenant-0") != NULL, "namespaces are tenants");
	cr_assert(strstr(json, "\"seed\":\t\"9\"") != NULL, "seed recorded: %s", json);
	cr_assert(strstr(json, "\"pending_seconds\"") != NULL);
	/* stderr is not a terminal here: only the final line. */
	err = test_captured_stderr();
	cr_assert(g_str_has_prefix(err, "stowage sim: simulated 3:00:00 in "), "final line: %s",
		  err);
	cr_assert_eq(count_of(err, "\n"), 1, "one line: %s", err);
	cr_assert_null(strchr(err, '\r'), "no bar: %s", err);
	g_free(pods);
	g_free(json);
	g_free(err);
	workdir_release(&w);
}

Test(churn, same_seed_same_outputs, .init = test_capture_output)
{
	workdir w;
	char *first_pods;
	char *first_series;
	char *second_pods;
	char *second_series;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--duration", "6h", "--cluster", "4x4/16Gi",
			 "--rate", "400", "--quiet", NULL), 0);
	first_pods = read_output(&w, "pods.csv");
	first_series = read_output(&w, "timeseries.csv");
	cr_assert_eq(run("run", "--out", w.out, "--duration", "6h", "--cluster", "4x4/16Gi",
			 "--rate", "400", "--quiet", NULL), 0);
	second_pods = read_output(&w, "pods.csv");
	second_series = read_output(&w, "timeseries.csv");
	cr_assert_str_eq(first_pods, second_pods, "pods.csv repeats");
	cr_assert_str_eq(first_series, second_series, "timeseries.csv repeats");
	cr_assert(strstr(first_pods, ",pending\n") != NULL || strstr(first_pods, ",running,") != NULL,
		  "an overloaded cluster leaves pods waiting or running");
	g_free(first_pods);
	g_free(first_series);
	g_free(second_pods);
	g_free(second_series);
	workdir_release(&w);
}

/* ---- Pods that never start ---------------------------------------------- */

/* With no pod able to start, percentiles of started pods do not exist:
 * they read n/a, and the never-started share leads the summary. */
Test(churn, shape_larger_than_every_node, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *out;
	char *err;
	char *report;
	char *json;
	const char *warning = "pod shape 100/1Gi (weight 1, 100.0% of pods) fits no node: "
			      "it requests 100 CPU, and the largest node, node-0040 (32c-128Gi), "
			      "has 32; its pods will never start";

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--shapes", "1:100/1Gi", "--duration", "1h",
			 "--rate", "100", "--quiet", NULL), 0, "the run still succeeds");
	out = test_captured_stdout();
	err = test_captured_stderr();
	cr_assert(strstr(out, "  never started: ") != NULL && strstr(out, " pods (100.0%)") != NULL,
		  "every pod never started: %s", out);
	cr_assert(strstr(out, "  pending time of started pods: n/a, no pod started\n") != NULL,
		  "no percentiles of started pods: %s", out);
	cr_assert_null(strstr(out, "p50 0 s"), "no pending time of 0 s: %s", out);
	cr_assert(strstr(err, "stowage sim run: warning: ") != NULL && strstr(err, warning) != NULL,
		  "warning on stderr: %s", err);
	cr_assert(strstr(out, warning) != NULL, "warning repeated with the summary: %s", out);

	report = read_output(&w, "report.html");
	cr_assert(strstr(report, "<strong>Warning:</strong> pod shape 100/1Gi") != NULL,
		  "warning in the report");
	cr_assert(strstr(report, "n/a: no pod started") != NULL, "n/a in the report");
	cr_assert(strstr(report, "<tr class=\"alert\"><th>pods that never started</th>") != NULL,
		  "never-started row highlighted");
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"p50\":\tnull") != NULL, "p50 of started pods is null: %s", json);
	cr_assert(strstr(json, "fits no node") != NULL, "warning in summary.json: %s", json);
	cr_assert(strstr(json, "\"never_started_pct\":\t100") != NULL, "share in summary.json: %s",
		  json);
	g_free(out);
	g_free(err);
	g_free(report);
	g_free(json);
	workdir_release(&w);
}

/* The overload case: most pods never start, and the pending time of the
 * few that did must not pass for the whole workload's. */
Test(churn, overload_reports_never_started_share, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *out;
	char *json;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--cluster", "2x2/8Gi", "--duration", "2h",
			 "--rate", "400", "--lifetimes", "1:1d", "--quiet", NULL), 0);
	out = test_captured_stdout();
	cr_assert(strstr(out, "  never started: ") != NULL, "never-started line: %s", out);
	cr_assert_null(strstr(out, "(0.0%)"), "some pods never start: %s", out);
	cr_assert(strstr(out, ", waiting up to ") != NULL, "longest wait shown: %s", out);
	cr_assert(strstr(out, "  pending time of all ") != NULL &&
			  strstr(out, "counting never-started ones until the end (lower bounds): p50 ") != NULL,
		  "censored percentiles labelled: %s", out);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"started_pods\":") != NULL && strstr(json, "\"all_pods\":") != NULL,
		  "both distributions in summary.json: %s", json);
	g_free(out);
	g_free(json);
	workdir_release(&w);
}

Test(churn, gpu_shapes_on_cluster_without_gpus, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--shapes", "1:1/1Gi,1:1/1Gi/500m", "--duration",
			 "30m", "--rate", "60", "--quiet", NULL), 0);
	err = test_captured_stderr();
	cr_assert(strstr(err, "warning: pod shape 1/1Gi/500m (weight 1, 50.0% of pods) fits no node: "
			      "it requests GPUs, and the cluster has no GPU nodes") != NULL,
		  "GPU shape warned about: %s", err);
	cr_assert_null(strstr(err, "pod shape 1/1Gi ("), "the CPU shape fits: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, fgd_without_gpu_shapes_explains, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--policy", "FGD", "--cluster",
			 "4x32/256Gi/110/8/V100M32", "--duration", "30m", "--quiet", NULL), 1);
	err = test_captured_stderr();
	cr_assert(strstr(err, "no pod shape requests GPUs: add GPU shapes to --shapes") != NULL,
		  "says what to add: %s", err);
	g_free(err);
	cr_assert_eq(run("run", "--out", w.out, "--policy", "FGD", "--cluster",
			 "4x32/256Gi/110/8/V100M32", "--shapes", "60:1/4Gi,40:2/8Gi/500m",
			 "--duration", "30m", "--quiet", NULL), 0, "with a GPU shape FGD runs");
	workdir_release(&w);
}

/* Counts in the summary carry thousands separators and agree in number. */
Test(churn, summary_counts_and_plurals, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *out;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--cluster", "1200x8/32Gi", "--duration", "10m",
			 "--max-arrivals", "1", "--rate", "60", "--quiet", NULL), 0);
	out = test_captured_stdout();
	cr_assert(g_str_has_prefix(out, "stowage sim: 1,200 nodes, "), "separators: %s", out);
	cr_assert(strstr(out, " of 1,200; ") != NULL, "separators in nodes used: %s", out);
	cr_assert(strstr(out, "(1 pod)") != NULL, "one pod: %s", out);
	cr_assert(strstr(out, "never started: 0 of 1 pod (0.0%)") != NULL, "one pod: %s", out);
	cr_assert(strstr(out, "pending time of the 1 started pod: ") != NULL, "one pod: %s", out);
	cr_assert(strstr(out, "; 1 scheduling attempt, 0 failed") != NULL, "one attempt: %s", out);
	cr_assert_null(strstr(out, "1 pods"), "no \"1 pods\": %s", out);
	cr_assert_null(strstr(out, "1 attempts"), "no \"1 attempts\": %s", out);
	g_free(out);
	workdir_release(&w);
}

/* ---- Pod-list replay ----------------------------------------------------- */

#define POD_HEADER "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase," \
		   "creation_time,deletion_time,scheduled_time\n"
#define NODE_LIST "sn,cpu_milli,memory_mib,gpu,model\n" \
		  "node-a,8000,32768,2,T4\nnode-b,8000,32768,0,\n"

static int replay(const workdir *w, const char *pods_text, bool skip, char **err_text)
{
	char *pods = write_input(w, "pods.csv", pods_text);
	char *nodes = write_input(w, "nodes.csv", NODE_LIST);
	int status;

	if (skip)
		status = run("run", "--pods", pods, "--nodes", nodes, "--out", w->out, "--quiet",
			     "--skip-bad-rows", NULL);
	else
		status = run("run", "--pods", pods, "--nodes", nodes, "--out", w->out, "--quiet",
			     NULL);
	*err_text = test_captured_stderr();
	g_free(pods);
	g_free(nodes);
	return status;
}

Test(churn, replay_runs_pods_at_their_times, .init = test_capture_output)
{
	workdir w;
	char *err;
	char *pods;

	workdir_init(&w);
	cr_assert_eq(replay(&w, POD_HEADER
			    "p1,4000,1024,1,500,,LS,Running,0,100,0\n"
			    "p2,4000,1024,1,1000,T4,LS,Running,10,50,10\n"
			    "p3,8000,1024,0,0,,BE,Failed,20,30,\n"
			    "p4,9000,1024,0,0,,BE,Pending,25,90,\n",
			    false, &err), 0, "replay succeeds: %s", err);
	pods = read_output(&w, "pods.csv");
	cr_assert(strstr(pods, "p1,default,,0.000,0.000,0.000,node-a,100.000,completed,1,0") != NULL,
		  "p1 shares a GPU on node-a: %s", pods);
	cr_assert(strstr(pods, "p2,default,,10.000,10.000,0.000,node-a,50.000,completed") != NULL,
		  "p2 takes the other T4: %s", pods);
	cr_assert(strstr(pods, "p3,default,,20.000,20.000,0.000,node-b,30.000,completed") != NULL,
		  "a pod without scheduled_time still arrives: %s", pods);
	cr_assert(strstr(pods, "p4,default,,25.000,,") != NULL,
		  "a pod larger than every node never starts: %s", pods);
	cr_assert(strstr(err, "stowage sim run: warning: ") != NULL &&
			  strstr(err, "pods.csv: pod shape 9/1Gi fits no node: it requests 9 CPU, "
				      "and the largest node, node-a (8000m-32768Mi-2xT4), has 8; "
				      "1 pod of the list, on line 5, will never start") != NULL,
		  "warning names the shape, the largest node and the line: %s", err);
	g_free(pods);
	g_free(err);
	workdir_release(&w);
}

Test(churn, malformed_row_names_file_line_column_value, .init = test_capture_output)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(replay(&w, POD_HEADER
			    "p1,4000,1024,0,0,,LS,Running,0,100,0\n"
			    "p2,lots,1024,0,0,,LS,Running,5,100,5\n",
			    false, &err), 1);
	cr_assert(strstr(err, "pods.csv:3: column cpu_milli: invalid value \"lots\"") != NULL,
		  "file, line, column and value: %s", err);
	g_free(err);

	cr_assert_eq(replay(&w, POD_HEADER
			    "p1,4000,1024,0,0,,LS,Running,0,100,0\n"
			    "p2,lots,1024,0,0,,LS,Running,5,100,5\n",
			    true, &err), 0, "skipped with --skip-bad-rows: %s", err);
	cr_assert(strstr(err, "skipped 1 bad row; the first: ") != NULL, "skip counted: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, times_going_backwards, .init = test_capture_output)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(replay(&w, POD_HEADER
			    "p1,1000,1024,0,0,,LS,Running,50,100,50\n"
			    "p2,1000,1024,0,0,,LS,Running,20,100,20\n",
			    false, &err), 1);
	cr_assert(strstr(err, "pods.csv:3: column creation_time: invalid value \"20\": "
			      "creation_time goes backwards from 50 on line 2") != NULL,
		  "explains the order: %s", err);
	g_free(err);
	cr_assert_eq(replay(&w, POD_HEADER
			    "p1,1000,1024,0,0,,LS,Running,50,100,50\n"
			    "p2,1000,1024,0,0,,LS,Running,20,100,20\n"
			    "p3,1000,1024,0,0,,LS,Running,60,100,60\n",
			    true, &err), 0, "the late row is skipped: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, negative_run_time, .init = test_capture_output)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(replay(&w, POD_HEADER "p1,1000,1024,0,0,,LS,Running,100,40,\n", false, &err),
		     1);
	cr_assert(strstr(err, "column deletion_time: invalid value \"40\": deletion before "
			      "creation_time 100") != NULL, "explains: %s", err);
	g_free(err);
	cr_assert_eq(replay(&w, POD_HEADER "p1,1000,1024,0,0,,LS,Running,-5,40,\n", false, &err), 1,
		     "negative times are malformed");
	g_free(err);
	workdir_release(&w);
}

Test(churn, empty_and_timeless_lists, .init = test_capture_output)
{
	workdir w;
	char *err;

	workdir_init(&w);
	cr_assert_eq(replay(&w, "", false, &err), 1, "empty file");
	cr_assert(strstr(err, "empty file") != NULL, "%s", err);
	g_free(err);
	cr_assert_eq(replay(&w, POD_HEADER, false, &err), 1, "header only");
	cr_assert(strstr(err, "no data rows") != NULL, "%s", err);
	g_free(err);
	cr_assert_eq(replay(&w, POD_HEADER "p1,bad,1,0,0,,LS,Running,1,2,\n", true, &err), 1,
		     "every row skipped");
	cr_assert(strstr(err, "no valid data rows: the only one was skipped: ") != NULL, "%s", err);
	g_free(err);
	cr_assert_eq(replay(&w, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1,1,0,0\n", false,
			    &err), 1, "no times");
	cr_assert(strstr(err, "no creation_time and deletion_time columns") != NULL, "%s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, gpu_replay_with_fgd_reports_fragmentation, .init = test_capture_output)
{
	workdir w;
	char *pods = NULL;
	char *nodes = NULL;
	char *report;

	workdir_init(&w);
	pods = write_input(&w, "pods.csv", POD_HEADER
			   "p1,2000,1024,1,500,,LS,Running,0,600,0\n"
			   "p2,2000,1024,1,250,,LS,Running,60,600,60\n"
			   "p3,1000,1024,0,0,,LS,Running,120,600,120\n");
	nodes = write_input(&w, "nodes.csv", NODE_LIST);
	cr_assert_eq(run("run", "--pods", pods, "--nodes", nodes, "--policy", "FGD", "--out",
			 w.out, "--quiet", NULL), 0);
	report = read_output(&w, "report.html");
	cr_assert(strstr(report, "GPU fragmentation") != NULL, "GPU plot present");
	cr_assert_eq(count_of(report, "<svg "), 5);
	g_free(report);
	g_free(pods);
	g_free(nodes);
	workdir_release(&w);
}

/* ---- Node events --------------------------------------------------------- */

Test(churn, node_events_file, .init = test_capture_output)
{
	workdir w;
	char *events;
	char *json;
	char *err;

	workdir_init(&w);
	events = write_input(&w, "events.csv",
			     "time,event,node,shape\n"
			     "1h,add,extra-0,8/32Gi\n"
			     "2h,fail,node-0000,\n"
			     "2h30m,recover,node-0000,\n"
			     "3h,remove,node-0001,\n");
	cr_assert_eq(run("run", "--out", w.out, "--duration", "4h", "--cluster", "3x4/16Gi",
			 "--node-events", events, "--quiet", NULL), 0);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"nodes_at_end\":\t3") != NULL, "3 + 1 - 1 nodes: %s", json);
	g_free(json);
	g_free(events);

	events = write_input(&w, "events.csv", "time,event,node\n1h,explode,node-0000\n");
	cr_assert_eq(run("run", "--out", w.out, "--duration", "4h", "--node-events", events,
			 "--quiet", NULL), 1);
	err = test_captured_stderr();
	cr_assert(strstr(err, "events.csv:2: column event: invalid value \"explode\"") != NULL,
		  "names file, line, column and value: %s", err);
	g_free(err);
	g_free(events);

	events = write_input(&w, "events.csv", "time,event,node\n1h,fail,ghost\n");
	cr_assert_eq(run("run", "--out", w.out, "--duration", "4h", "--node-events", events,
			 "--quiet", NULL), 1, "an unknown node fails the run");
	g_free(events);
	workdir_release(&w);
}

/* Runs a short simulation on 3 nodes with the node event file `text` and
 * returns the exit status; `*err_text` gets stderr. */
static int run_node_events(const workdir *w, const char *text, char **err_text)
{
	char *events = write_input(w, "events.csv", text);
	int status = run("run", "--out", w->out, "--duration", "4h", "--cluster", "3x4/16Gi",
			 "--rate", "20", "--node-events", events, "--quiet", NULL);

	*err_text = test_captured_stderr();
	g_free(events);
	return status;
}

/* Every node-event error starts with FILE:LINE, as the trace readers'
 * errors do, and is found before the run starts. */
Test(churn, node_event_errors_name_file_and_line, .init = test_capture_output, .timeout = 60)
{
	static const struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{"time,event,node\n2h,fail,node-0000\n1h,recover,node-0000\n",
		 "events.csv:3: column time: invalid value \"1h\": the time goes backwards from 2h on line 2: sort the events by time"},
		{"time,event,node\n1h,fail,ghost\n",
		 "events.csv:2: node ghost is not in the cluster at 1h00m: add it first or fix the name"},
		{"time,event,node\n1h,recover,node-0001\n",
		 "events.csv:2: node node-0001 recovers at 1h00m, but it has not failed"},
		{"time,event,node\n1h,fail,node-0001\n2h,recover,node-0001\n3h,recover,node-0001\n",
		 "events.csv:4: node node-0001 recovers at 3h00m, but it has not failed"},
		{"time,event,node\n1h,fail,node-0002\n2h,fail,node-0002\n",
		 "events.csv:3: node node-0002 fails at 2h00m, but it failed on line 2 and has not recovered"},
		{"time,event,node,shape\n1h,add,node-0002,4/16Gi\n",
		 "events.csv:2: node node-0002 is already in the cluster at 1h00m"},
		{"time,event,node\n1h,remove,node-0002\n2h,fail,node-0002\n",
		 "events.csv:3: node node-0002 is not in the cluster at 2h00m: it was removed on line 2"},
	};
	workdir w;

	workdir_init(&w);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *err = NULL;
		int status = run_node_events(&w, cases[i].text, &err);
		char *path = g_build_filename(w.dir, cases[i].expected, NULL);

		cr_assert_eq(status, 1, "case %zu: expected exit 1, got %d: %s", i, status, err);
		cr_assert(strstr(err, path) != NULL, "case %zu: expected \"%s\" in: %s", i, path,
			  err);
		cr_assert_null(strstr(err, "stowage sim: simulated"),
			       "case %zu: the run does not start: %s", i, err);
		g_free(path);
		g_free(err);
	}
	workdir_release(&w);
}

Test(churn, node_events_in_order_are_accepted, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *err = NULL;

	workdir_init(&w);
	cr_assert_eq(run_node_events(&w, "\xEF\xBB\xBFtime,event,node,shape\n"
					 "1h,fail,node-0000,\n"
					 "1h,fail,node-0001,\n"
					 "1h30m,recover,node-0000,\n"
					 "2h,remove,node-0001,\n"
					 "2h,add,node-0001,4/16Gi\n"
					 "3h,fail,node-0001,\n",
				     &err), 0, "equal times, a failed node removed and added again: %s",
		     err);
	g_free(err);
	workdir_release(&w);
}

/* ---- Policy rules that select nothing -------------------------------------- */

static const char locality_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: loc}\n"
	"spec:\n"
	"  weights: {locality: 5}\n"
	"  topology:\n"
	"    levels:\n"
	"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
	"    defaultCost: 100\n"
	"  locality:\n"
	"    groups:\n"
	"    - name: path\n"
	"      members:\n"
	"      - podSelector: {matchLabels: {app: cart}}\n"
	"      - podSelector: {matchLabels: {app: db}}\n"
	"      maxCost: 4\n"
	"      mode: soft\n";

static const char locality_pods_template[] =
	"kind: Pod\n"
	"metadata: {name: a, namespace: shop, labels: {app: %s}}\n"
	"spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}\n"
	"---\n"
	"kind: Pod\n"
	"metadata: {name: b, namespace: shop, labels: {app: db}}\n"
	"spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}\n";

/* Runs the locality policy on two pods, the first labeled app=`app`, and
 * returns stderr and summary.json. */
static void run_locality(const char *app, char **err, char **json)
{
	workdir w;
	char *pods_text = g_strdup_printf(locality_pods_template, app);
	char *policy;
	char *pods;
	int status;

	workdir_init(&w);
	policy = write_input(&w, "policy.yaml", locality_policy);
	pods = write_input(&w, "pods.yaml", pods_text);
	status = run("run", "--out", w.out, "--cluster", "2x4/16Gi", "--pods", pods, "--policy",
		     policy, "--quiet", NULL);
	*err = test_captured_stderr();
	cr_assert_eq(status, 0, "expected exit 0, got %d: %s", status, *err);
	*json = read_output(&w, "summary.json");
	g_unlink(policy);
	g_unlink(pods);
	g_free(policy);
	g_free(pods);
	g_free(pods_text);
	workdir_release(&w);
}

Test(churn, locality_selecting_no_pod_warns, .init = test_capture_output, .timeout = 60)
{
	const char *warning = "the policy's locality rules (1 locality group) gave no pod a placed peer";
	char *err;
	char *json;

	run_locality("web", &err, &json);
	cr_assert(strstr(err, "stowage sim run: warning: ") != NULL && strstr(err, warning) != NULL,
		  "expected \"%s\" on stderr, got: %s", warning, err);
	cr_assert(strstr(json, warning) != NULL, "expected the warning in summary.json, got: %s",
		  json);
	g_free(err);
	g_free(json);
}

Test(churn, locality_with_peers_does_not_warn, .init = test_capture_output, .timeout = 60)
{
	char *err;
	char *json;

	run_locality("cart", &err, &json);
	cr_assert_null(strstr(err, "placed peer"), "expected no locality warning, got: %s", err);
	cr_assert(strstr(json, "\"pods_with_peers\":\t1") != NULL ||
			  strstr(json, "\"pods_with_peers\":\t2") != NULL,
		  "expected pods with peers in summary.json, got: %s", json);
	g_free(err);
	g_free(json);
}

/* ---- Bandwidth in the fit check --------------------------------------------- */

/* The node file's own warnings reach stderr, not only the pod file's. */
Test(churn, node_file_warnings_printed, .init = test_capture_output, .timeout = 60)
{
	static const char nodes_text[] =
		"kind: List\n"
		"items:\n"
		"- kind: Node\n"
		"  metadata: {name: a}\n"
		"  status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}\n"
		"- metadata: {name: b}\n"
		"  status: {allocatable: {cpu: '4', memory: 8Gi}}\n";
	const char *warning = "stowage sim run: warning: ";
	workdir w;
	char *nodes;
	char *err;
	int status;

	workdir_init(&w);
	nodes = write_input(&w, "nodes.yaml", nodes_text);
	status = run("run", "--out", w.out, "--nodes", nodes, "--quiet", NULL);
	err = test_captured_stderr();
	cr_assert_eq(status, 0, "expected exit 0, got %d: %s", status, err);
	cr_assert(strstr(err, warning) != NULL && strstr(err, "nodes.yaml:6: items[1]") != NULL &&
			  strstr(err, "has no kind") != NULL,
		  "expected the kindless item's warning on stderr, got: %s", err);
	g_unlink(nodes);
	g_free(nodes);
	g_free(err);
	workdir_release(&w);
}

Test(churn, bandwidth_over_every_node_warns, .init = test_capture_output, .timeout = 60)
{
	static const char policy_text[] =
		"apiVersion: stowage.io/v1alpha1\n"
		"kind: SchedulingPolicy\n"
		"metadata: {name: bw}\n"
		"spec:\n"
		"  weights: {bandwidth: 1}\n"
		"  bandwidth: {}\n";
	static const char nodes_text[] =
		"kind: Node\n"
		"metadata: {name: a, labels: {stowage.io/network-bandwidth: 1G}}\n"
		"status: {allocatable: {cpu: '4', memory: 8Gi}}\n"
		"---\n"
		"kind: Node\n"
		"metadata: {name: b, labels: {stowage.io/network-bandwidth: 2G}}\n"
		"status: {allocatable: {cpu: '4', memory: 8Gi}}\n";
	static const char pods_text[] =
		"kind: Pod\n"
		"metadata: {name: ok, namespace: x, annotations: {kubernetes.io/egress-bandwidth: 500M}}\n"
		"spec: {containers: [{name: c}]}\n"
		"---\n"
		"kind: Pod\n"
		"metadata: {name: big, namespace: x, annotations: {kubernetes.io/egress-bandwidth: 5G}}\n"
		"spec: {containers: [{name: c}]}\n";
	const char *warning = "1 pod requests egress bandwidth above every node's capacity "
			      "(up to 5G bits/s, the first on line 4), and the largest capacity, "
			      "on node b, is 2G bits/s; it will never start";
	workdir w;
	char *policy;
	char *nodes;
	char *pods;
	char *err;
	char *json;
	int status;

	workdir_init(&w);
	policy = write_input(&w, "policy.yaml", policy_text);
	nodes = write_input(&w, "nodes.yaml", nodes_text);
	pods = write_input(&w, "pods.yaml", pods_text);
	status = run("run", "--out", w.out, "--nodes", nodes, "--pods", pods, "--policy", policy,
		     "--quiet", NULL);
	err = test_captured_stderr();
	cr_assert_eq(status, 0, "expected exit 0, got %d: %s", status, err);
	cr_assert(strstr(err, warning) != NULL, "expected \"%s\" on stderr, got: %s", warning, err);
	cr_assert_null(strstr(err, "ingress bandwidth above"), "no ingress warning expected: %s",
		       err);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, warning) != NULL, "expected the warning in summary.json, got: %s",
		  json);
	g_unlink(policy);
	g_unlink(nodes);
	g_unlink(pods);
	g_free(policy);
	g_free(nodes);
	g_free(pods);
	g_free(err);
	g_free(json);
	workdir_release(&w);
}

/* ---- Nodes used after node removals ----------------------------------------- */

Test(churn, nodes_used_after_removing_all, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *events;
	char *out;
	char *json;

	workdir_init(&w);
	events = write_input(&w, "events.csv",
			     "time,event,node\n"
			     "1h,remove,node-0000\n"
			     "1h,remove,node-0001\n");
	cr_assert_eq(run("run", "--out", w.out, "--duration", "2h", "--cluster", "2x4/16Gi",
			 "--rate", "20", "--node-events", events, "--quiet", NULL), 0);
	out = test_captured_stdout();
	cr_assert(strstr(out, " of 2 at the peak (0 at the end);") != NULL,
		  "expected \"of 2 at the peak (0 at the end)\" in the summary, got: %s", out);
	cr_assert_null(strstr(out, " of 0;"), "expected no \"of 0\", got: %s", out);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"nodes_peak\":\t2") != NULL, "expected nodes_peak 2, got: %s",
		  json);
	g_free(out);
	g_free(json);
	g_free(events);
	workdir_release(&w);
}

/* ---- Stopping early ---------------------------------------------------------- */

Test(churn, stop_flag_ends_run_with_outputs, .init = test_capture_output, .timeout = 60)
{
	static volatile sig_atomic_t stop = 1;
	sim_churn_config config;
	sim_churn_result result;
	score_error err = {0};
	workdir w;
	char *json;
	int ret;

	workdir_init(&w);
	sim_churn_defaults(&config);
	config.out_dir = w.out;
	config.progress = false;
	config.stop = &stop;
	ret = sim_churn_run(&config, &result, &err);
	cr_assert_eq(ret, 0, "expected the run to succeed, got %d: %s", ret, err.message);
	cr_assert(result.summary.interrupted, "expected the summary marked interrupted");
	cr_assert_lt(result.summary.simulated_s, 86400.0,
		     "expected the run to stop before its 24 h, stopped at %g s",
		     result.summary.simulated_s);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"interrupted\":\ttrue") != NULL,
		  "expected \"interrupted\": true in summary.json, got: %s", json);
	g_free(json);
	sim_churn_result_release(&result);
	workdir_release(&w);
}

Test(churn, finished_run_not_interrupted, .init = test_capture_output, .timeout = 60)
{
	workdir w;
	char *json;

	workdir_init(&w);
	cr_assert_eq(run("run", "--out", w.out, "--duration", "1h", "--quiet", NULL), 0);
	json = read_output(&w, "summary.json");
	cr_assert(strstr(json, "\"interrupted\":\tfalse") != NULL,
		  "expected \"interrupted\": false in summary.json, got: %s", json);
	g_free(json);
	workdir_release(&w);
}
