/* Tests for sim/sources.c and the inputs of `stowage sim run`: generic
 * traces through --trace and --mapping, Kubernetes Node lists through
 * --nodes, Pod manifests through --pods, their errors and exit statuses,
 * and, when $STOWAGE_TRACES is set, a churn replay of the openb default
 * pod list. */
#include <criterion/criterion.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/sim.h"
#include "tests/run.h"
#include "tests/tempdir.h"

TestSuite(sources, .timeout = 60);

/* Runs sim_main() on a NULL-terminated list of arguments after "sim". */
#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

static char *fixture(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	return g_build_filename(dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures",
				"traces", name, NULL);
}

static char *example_spec(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	if (dir == NULL || dir[0] == '\0')
		return g_build_filename("sim", "mappings", name, NULL);
	return g_build_filename(dir, "..", "..", "sim", "mappings", name, NULL);
}

/* A temporary output directory and the files the runs write there. */
typedef struct outdir {
	char *dir;
	char *out;
} outdir;

static void outdir_init(outdir *o)
{
	o->dir = test_make_temp_dir("stowage-sources-XXXXXX");
	o->out = g_build_filename(o->dir, "out", NULL);
}

static char *read_output(const outdir *o, const char *name)
{
	char *path = g_build_filename(o->out, name, NULL);
	char *text = NULL;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "%s written", name);
	g_free(path);
	return text;
}

static char *write_input(const outdir *o, const char *name, const char *text)
{
	char *path = g_build_filename(o->dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "write %s", path);
	return path;
}

static void outdir_release(outdir *o)
{
	test_remove_tree(o->dir);
	g_free(o->out);
	g_free(o->dir);
}

/* ---- Generic traces ----------------------------------------------------------- */

Test(sources, trace_with_mapping_replays, .init = test_capture_output)
{
	char *trace = fixture("alibaba-2018-batch-task.csv");
	char *spec = example_spec("alibaba-2018-batch-task.yaml");
	outdir o;
	char *out;
	char *pods;

	outdir_init(&o);
	cr_assert_eq(run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			 "2x8/32Gi", "--out", o.out, NULL),
		     0, "the run succeeds");
	out = test_captured_stdout();
	cr_assert(strstr(out, "replay of") != NULL && strstr(out, "(14 pods)") != NULL,
		  "the summary counts the 14 instances of the 4 kept rows: %s", out);
	pods = read_output(&o, "pods.csv");
	cr_assert(strstr(pods, "\nj_1-M1-0,batch,") != NULL, "named by the template: %s", pods);
	cr_assert(strstr(pods, "j_3-task_Nzg3ODAwNjgzODAzMjgxMTU4Mg==-0,batch,") != NULL,
		  "pods.csv: %s", pods);
	g_free(pods);
	g_free(out);
	outdir_release(&o);
	g_free(trace);
	g_free(spec);
}

Test(sources, trace_and_mapping_go_together, .init = test_capture_output)
{
	char *trace = fixture("azure-2017-vmtable.csv");
	char *err;

	cr_assert_eq(run("run", "--quiet", "--trace", trace, NULL), 2, "a usage error");
	err = test_captured_stderr();
	cr_assert(strstr(err, "--trace and --mapping go together") != NULL, "stderr: %s", err);
	g_free(err);
	g_free(trace);
}

Test(sources, trace_errors_exit_1, .init = test_capture_output)
{
	static const char spec_text[] =
		"format: csv\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  duration: {from: d, unit: s}\n"
		"  cpu: {from: c, unit: cores}\n";
	outdir o;
	char *spec;
	char *bad;
	char *err;

	outdir_init(&o);
	spec = write_input(&o, "spec.yaml", spec_text);
	bad = write_input(&o, "trace.csv", "t,d,c\n0,60,1\n30,60,-2\n40,60,1\n10,60,1\n");
	cr_assert_eq(run("run", "--quiet", "--trace", bad, "--mapping", spec, "--out", o.out, NULL),
		     1, "a malformed row fails the run");
	err = test_captured_stderr();
	cr_assert(strstr(err, "trace.csv:3: column c: invalid value \"-2\"") != NULL, "stderr: %s",
		  err);
	g_free(err);

	cr_assert_eq(run("run", "--quiet", "--skip-bad-rows", "--trace", bad, "--mapping", spec,
			 "--out", o.out, NULL),
		     0, "skipped with --skip-bad-rows");
	err = test_captured_stderr();
	cr_assert(strstr(err, "skipped 2 bad rows; the first: ") != NULL,
		  "the negative CPU and the arrival going backwards: %s", err);
	g_free(err);
	g_free(bad);

	bad = write_input(&o, "spec.yaml", "format: csv\nfields: {arrival: {from: t, unit: hours}}\n");
	cr_assert_eq(run("run", "--quiet", "--trace", spec, "--mapping", bad, "--out", o.out, NULL),
		     1, "an invalid spec fails the run");
	err = test_captured_stderr();
	cr_assert(strstr(err, "spec.yaml:2:35: fields.arrival: unknown unit \"hours\"") != NULL,
		  "stderr: %s", err);
	g_free(err);
	g_free(bad);
	g_free(spec);
	outdir_release(&o);
}

/* ---- Kubernetes objects ---------------------------------------------------------- */

Test(sources, node_list_and_pod_manifests, .init = test_capture_output)
{
	char *nodes = fixture("kube-nodes.yaml");
	char *pods = fixture("kube-pods.yaml");
	outdir o;
	char *csv;

	outdir_init(&o);
	cr_assert_eq(run("run", "--quiet", "--nodes", nodes, "--pods", pods, "--out", o.out, NULL),
		     0, "the run succeeds");
	csv = read_output(&o, "pods.csv");
	/* train-1 tolerates the GPU node's taint and needs its GPUs. */
	cr_assert(strstr(csv, "\ntrain-1,team-a,") != NULL && strstr(csv, ",gpu-b1,") != NULL,
		  "pods.csv: %s", csv);
	cr_assert(strstr(csv, "\nweb-1,team-a,web,90.000,") != NULL, "arrival from the annotation: %s",
		  csv);
	cr_assert(strstr(csv, ",alpha,") != NULL, "tenant from the Namespace labels: %s", csv);
	cr_assert_null(strstr(csv, ",cpu-a2,"), "cordoned cpu-a2 gets nothing: %s", csv);
	g_free(csv);
	outdir_release(&o);
	g_free(nodes);
	g_free(pods);
}

Test(sources, taint_without_toleration_keeps_pod_off, .init = test_capture_output)
{
	outdir o;
	char *nodes;
	char *pods;
	char *csv;

	outdir_init(&o);
	nodes = write_input(&o, "nodes.json",
			    "{\"kind\": \"NodeList\", \"items\": [{\"kind\": \"Node\","
			    " \"metadata\": {\"name\": \"tainted\"},"
			    " \"spec\": {\"taints\": [{\"key\": \"dedicated\", \"value\": \"db\", \"effect\": \"NoSchedule\"}]},"
			    " \"status\": {\"allocatable\": {\"cpu\": \"4\", \"memory\": \"8Gi\", \"pods\": \"10\"}}}]}\n");
	pods = write_input(&o, "pods.yaml",
			   "kind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n"
			   "  - {name: c, resources: {requests: {cpu: 100m}}}\n"
			   "---\nkind: Pod\nmetadata: {name: db}\nspec:\n"
			   "  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]\n"
			   "  containers:\n  - {name: c, resources: {requests: {cpu: 100m}}}\n");
	cr_assert_eq(run("run", "--quiet", "--nodes", nodes, "--pods", pods, "--duration", "10m",
			 "--out", o.out, NULL),
		     0, "the run succeeds");
	csv = read_output(&o, "pods.csv");
	cr_assert(strstr(csv, "\napp,default,,0.000,,") != NULL, "app never starts: %s", csv);
	cr_assert(strstr(csv, "\ndb,default,,0.000,0.000,0.000,tainted,") != NULL,
		  "db tolerates the taint: %s", csv);
	g_free(csv);
	g_free(nodes);
	g_free(pods);
	outdir_release(&o);
}

Test(sources, manifest_errors_exit_1, .init = test_capture_output)
{
	outdir o;
	char *nodes;
	char *err;

	outdir_init(&o);
	nodes = write_input(&o, "nodes.yaml", "kind: Node\nmetadata: {name: a}\nstatus:\n"
					      "  allocatable: {cpu: two}\n");
	cr_assert_eq(run("run", "--quiet", "--nodes", nodes, "--out", o.out, NULL), 1,
		     "an invalid Node fails the run");
	err = test_captured_stderr();
	cr_assert(strstr(err, "nodes.yaml:1: Node a: ") != NULL, "stderr: %s", err);
	g_free(err);
	g_free(nodes);
	outdir_release(&o);
}

/* ---- The openb default trace in churn mode ------------------------------------------ */

Test(sources, openb_default_churn_replay, .init = test_capture_output)
{
	const char *traces = g_getenv("STOWAGE_TRACES");
	char *nodes;
	char *pods;
	outdir o;
	char *out;
	char *summary;
	const char *arrived;
	int thousands = 0;
	int units = 0;

	if (traces == NULL || traces[0] == '\0') {
		fprintf(stderr, "sources::openb_default_churn_replay: skipped: STOWAGE_TRACES is not set\n");
		cr_skip_test("STOWAGE_TRACES is not set");
	}
	nodes = g_build_filename(traces, "openb", "openb_node_list_gpu_node.csv", NULL);
	pods = g_build_filename(traces, "openb", "openb_pod_list_default.csv", NULL);
	outdir_init(&o);
	/* Churn, not inflation: pods arrive at creation_time and leave at
	 * deletion_time. The list spans about 149 days and most pods arrive
	 * after day 124; stopping at day 130 replays about 3,100 of the
	 * 8,152 and keeps the test short under the sanitizers. */
	cr_assert_eq(run("run", "--quiet", "--nodes", nodes, "--pods", pods, "--policy", "FGD",
			 "--duration", "130d", "--out", o.out, NULL),
		     0, "the replay succeeds");
	out = test_captured_stdout();
	cr_assert(strstr(out, "stowage sim: 1,213 nodes, replay of") != NULL, "summary: %s", out);
	arrived = strstr(out, " pods), policy FGD");
	cr_assert_not_null(arrived, "summary: %s", out);
	while (arrived > out && arrived[-1] != '(')
		arrived--;
	cr_assert_eq(sscanf(arrived, "%d,%d", &thousands, &units), 2,
		     "more than 1,000 pods arrived: %s", out);
	cr_assert_gt(thousands * 1000 + units, 2000, "summary: %s", out);
	cr_assert(strstr(out, "gpu ") != NULL, "GPU allocation reported: %s", out);
	summary = read_output(&o, "summary.json");
	cr_assert(strstr(summary, "\"arrived\"") != NULL, "summary.json: %s", summary);
	g_free(summary);
	g_free(out);
	outdir_release(&o);
	g_free(nodes);
	g_free(pods);
}
