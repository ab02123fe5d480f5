/* Tests for sim/churn.c and sim/sources.c through the command line.
 * They cover `stowage sim` with no command, `run` with options, the exit
 * statuses and the output files. Pod-list replay is tested with its input
 * errors (malformed rows, times going backwards, negative run times, empty
 * lists), with and without --skip-bad-rows. Node event files, GPU clusters
 * and determinism are tested too. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/sim.h"

static void redirect(void)
{
	cr_redirect_stdout();
	cr_redirect_stderr();
}

/* Runs sim_main on a NULL-terminated list of arguments after "sim". */
static int run(const char *first, ...)
{
	GPtrArray *args = g_ptr_array_new();
	const char *arg = first;
	va_list list;
	int status;

	g_ptr_array_add(args, (gpointer) "sim");
	va_start(list, first);
	while (arg != NULL) {
		g_ptr_array_add(args, (gpointer)arg);
		arg = va_arg(list, const char *);
	}
	va_end(list);
	g_ptr_array_add(args, NULL);
	status = sim_main((int)args->len - 1, (char **)args->pdata);
	g_ptr_array_free(args, TRUE);
	fflush(stdout);
	fflush(stderr);
	return status;
}

/* What a redirected stream has received so far. */
static char *read_stream(FILE *stream)
{
	GString *text = g_string_new(NULL);
	char buf[4096];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stream)) > 0)
		g_string_append_len(text, buf, (gssize)n);
	return g_string_free(text, FALSE);
}

static char *captured_stderr(void)
{
	return read_stream(cr_get_redirected_stderr());
}

static char *captured_stdout(void)
{
	return read_stream(cr_get_redirected_stdout());
}

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

Test(churn, default_run_writes_report_in_current_directory, .init = redirect, .timeout = 60)
{
	workdir w;
	char *cwd = g_get_current_dir();
	char *out;
	char *report;

	workdir_init(&w);
	cr_assert_eq(chdir(w.dir), 0);
	cr_assert_eq(run(NULL), 0, "stowage sim with no command runs the default");
	out = captured_stdout();
	cr_assert(strstr(out, "stowage sim: 50 nodes, 1d00h of synthetic churn") != NULL,
		  "first summary line: %s", out);
	cr_assert(strstr(out, "  pending time: p50 ") != NULL, "pending line: %s", out);
	cr_assert(strstr(out, "  never scheduled: ") != NULL, "never-scheduled line: %s", out);
	cr_assert(strstr(out, "  mean allocation: cpu ") != NULL, "allocation line: %s", out);
	cr_assert(strstr(out, "  mean nodes used: ") != NULL, "nodes line: %s", out);
	cr_assert(strstr(out, "report: stowage-sim-report/report.html\n") != NULL,
		  "report path printed: %s", out);
	cr_assert_eq(count_of(out, "\n"), 6, "five summary lines and the path: %s", out);

	cr_assert(g_file_get_contents("stowage-sim-report/report.html", &report, NULL, NULL),
		  "report.html written");
	cr_assert_eq(count_of(report, "<svg "), 4, "four plots");
	g_free(report);

	g_free(w.out);
	w.out = g_build_filename(w.dir, "stowage-sim-report", NULL);
	cr_assert_eq(chdir(cwd), 0);
	workdir_release(&w);
	g_free(out);
	g_free(cwd);
}

Test(churn, usage_errors_exit_2, .init = redirect)
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

Test(churn, run_errors_exit_1, .init = redirect)
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
	err = captured_stderr();
	cr_assert(strstr(err, "/nonexistent/pods.csv") != NULL, "names the file: %s", err);
	cr_assert(strstr(err, "needs GPU nodes") != NULL, "explains the policy: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, outputs_and_progress_line, .init = redirect)
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
					 "end_s,outcome,attempts,evictions\n"), "pods.csv header");
	cr_assert(strstr(pods, ",tenant-0") != NULL, "namespaces are tenants");
	cr_assert(strstr(json, "\"seed\":\t\"9\"") != NULL, "seed recorded: %s", json);
	cr_assert(strstr(json, "\"pending_seconds\"") != NULL);
	/* stderr is not a terminal here: only the final line. */
	err = captured_stderr();
	cr_assert(g_str_has_prefix(err, "stowage sim: simulated 3:00:00 in "), "final line: %s",
		  err);
	cr_assert_eq(count_of(err, "\n"), 1, "one line: %s", err);
	cr_assert_null(strchr(err, '\r'), "no bar: %s", err);
	g_free(pods);
	g_free(json);
	g_free(err);
	workdir_release(&w);
}

Test(churn, same_seed_same_outputs, .init = redirect)
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
	*err_text = captured_stderr();
	g_free(pods);
	g_free(nodes);
	return status;
}

Test(churn, replay_runs_pods_at_their_times, .init = redirect)
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
	g_free(pods);
	g_free(err);
	workdir_release(&w);
}

Test(churn, malformed_row_names_file_line_column_value, .init = redirect)
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
	cr_assert(strstr(err, "skipped 1 bad rows; the first: ") != NULL, "skip counted: %s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, times_going_backwards, .init = redirect)
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

Test(churn, negative_run_time, .init = redirect)
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

Test(churn, empty_and_timeless_lists, .init = redirect)
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
	cr_assert(strstr(err, "no valid data rows: all 1 were skipped") != NULL, "%s", err);
	g_free(err);
	cr_assert_eq(replay(&w, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1,1,0,0\n", false,
			    &err), 1, "no times");
	cr_assert(strstr(err, "no creation_time and deletion_time columns") != NULL, "%s", err);
	g_free(err);
	workdir_release(&w);
}

Test(churn, gpu_replay_with_fgd_reports_fragmentation, .init = redirect)
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

Test(churn, node_events_file, .init = redirect)
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
	err = captured_stderr();
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
