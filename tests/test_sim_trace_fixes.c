/* Tests for `stowage sim run --trace FILE --mapping SPEC` on cases that a
 * run stopped early, a replicated row, an input that is not a regular
 * file and the conflicting options make hard. They run the command in
 * this process on small traces written to a temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/churn.h"
#include "sim/fitcheck.h"
#include "sim/mapping.h"
#include "sim/sim.h"
#include "sim/sources.h"
#include "tests/run.h"
#include "tests/sim_mapping.h"
#include "tests/tempdir.h"

TestSuite(trace_fixes, .timeout = 60);

/* More rows than the scan reads between two checks of the stop flag and
 * the progress. */
#define SIM_SCAN_TEST_ROWS 10000

#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

/* Returns summary.json of the run in d->out, parsed. */
static cJSON *read_summary(const run_dir *d)
{
	char *path = g_build_filename(d->out, "summary.json", NULL);
	char *text = NULL;
	cJSON *summary;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "summary.json written at %s",
		  path);
	summary = cJSON_Parse(text);
	cr_assert_not_null(summary, "summary.json parses: %s", text);
	g_free(text);
	g_free(path);
	return summary;
}

static double summary_number(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	cr_assert(cJSON_IsNumber(item), "expected a number %s in summary.json", name);
	return item->valuedouble;
}

/* ---- End-row counts of a run stopped early -------------------------------- */

static const char ends_spec[] =
	"format: csv\n"
	"fields:\n"
	"  arrival: {from: t, unit: s}\n"
	"  name: {from: k}\n"
	"  cpu: {from: c, unit: cores}\n"
	"filter: [{field: ev, in: [S]}]\n"
	"end: {filter: [{field: ev, in: [E]}]}\n";

/* a and b start, a ends at 20 s, x ends a pod that never started at 30 s,
 * c starts at 40 s and b ends at 50 s. */
static const char ends_trace[] =
	"k,t,ev,c\n"
	"a,0,S,1\n"
	"b,10,S,1\n"
	"a,20,E,\n"
	"x,30,E,\n"
	"c,40,S,1\n"
	"b,50,E,\n";

typedef struct end_case {
	const char *duration; /* NULL: the whole trace */
	double ended;
	double unmatched;
	double never_ended;
} end_case;

static void expect_end_rows(const end_case *c)
{
	run_dir d;
	char *spec;
	char *trace;
	cJSON *summary;
	const cJSON *end_rows;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", ends_spec);
	trace = run_dir_write(&d, "trace.csv", ends_trace);
	if (c->duration != NULL)
		status = run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			     "2x8/32Gi", "--duration", c->duration, "--out", d.out, NULL);
	else
		status = run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			     "2x8/32Gi", "--out", d.out, NULL);
	cr_assert_eq(status, 0, "the run with duration %s succeeds: %s",
		     c->duration ? c->duration : "(none)", test_captured_stderr());

	summary = read_summary(&d);
	end_rows = cJSON_GetObjectItemCaseSensitive(summary, "end_rows");
	cr_assert(cJSON_IsObject(end_rows), "summary.json has end_rows");
	cr_assert_eq(summary_number(end_rows, "ended_pods"), c->ended,
		     "duration %s: expected %g ended pods, got %g", c->duration, c->ended,
		     summary_number(end_rows, "ended_pods"));
	cr_assert_eq(summary_number(end_rows, "unmatched"), c->unmatched,
		     "duration %s: expected %g unmatched end rows, got %g", c->duration,
		     c->unmatched, summary_number(end_rows, "unmatched"));
	cr_assert_eq(summary_number(end_rows, "pods_never_ended"), c->never_ended,
		     "duration %s: expected %g pods never ended, got %g", c->duration,
		     c->never_ended, summary_number(end_rows, "pods_never_ended"));
	cJSON_Delete(summary);
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

Test(trace_fixes, end_counts_whole_trace, .init = test_capture_output)
{
	expect_end_rows(&(end_case){NULL, 2, 1, 1});
}

/* The run stops before x and c: the row x, past the stop, and the start
 * of c, read ahead, are not counted. */
Test(trace_fixes, end_counts_skip_rows_past_stop, .init = test_capture_output)
{
	expect_end_rows(&(end_case){"25s", 1, 0, 1});
}

Test(trace_fixes, end_counts_skip_start_read_ahead, .init = test_capture_output)
{
	expect_end_rows(&(end_case){"35s", 1, 1, 1});
}

/* The end of b at 50 s was read ahead but never applied: b never ended. */
Test(trace_fixes, end_counts_skip_end_read_ahead, .init = test_capture_output)
{
	expect_end_rows(&(end_case){"45s", 1, 1, 2});
}

/* ---- The scan before a run ------------------------------------------------ */

static const char replicas_spec[] =
	"format: csv\n"
	"fields:\n"
	"  arrival: {from: t, unit: s}\n"
	"  departure: {from: e, unit: s}\n"
	"  cpu: {from: c, unit: cores}\n"
	"  name: {from: k}\n"
	"  replicas: {from: n}\n";

/* A source that counts the records its inner source returns. */
typedef struct counting_source {
	sim_source inner;
	uint64_t calls;
} counting_source;

static int counting_next(void *data, sim_arrival *out, score_error *err)
{
	counting_source *counting = data;

	counting->calls++;
	return counting->inner.next(counting->inner.data, out, err);
}

typedef struct scan_run {
	run_dir dir;
	sim_mapping *mapping;
	sim_mapped_source *mapped;
	counting_source counting;
	sim_source source;
} scan_run;

static void scan_run_open(scan_run *scan, const char *trace)
{
	score_error err = {0};
	char *path;

	memset(scan, 0, sizeof(*scan));
	run_dir_init(&scan->dir, "stowage-trace-fixes-XXXXXX");
	path = run_dir_write(&scan->dir, "trace.csv", trace);
	cr_assert_eq(sim_mapping_parse("spec.yaml", replicas_spec, strlen(replicas_spec),
				       &scan->mapping, &err),
		     0, "the spec parses: %s", err.message);
	cr_assert_eq(sim_mapped_source_open(path, scan->mapping, NULL, &scan->mapped,
					    &scan->counting.inner, &err),
		     0, "open: %s", err.message);
	scan->source = scan->counting.inner;
	scan->source.next = counting_next;
	scan->source.data = &scan->counting;
	g_free(path);
}

static void scan_run_close(scan_run *scan)
{
	sim_mapped_source_free(scan->mapped);
	sim_mapping_free(scan->mapping);
	run_dir_release(&scan->dir);
}

/* Two rows of 100,000 pods each: the scan reads each row once. */
Test(trace_fixes, scan_reads_replicated_row_once)
{
	scan_run scan;
	sim_scan_control control = {0};
	score_error err = {0};
	int64_t end_ms = -1;

	scan_run_open(&scan, "t,e,c,k,n\n0,60,1,a,100000\n10,90,2,b,100000\n");
	control.mapped = scan.mapped;
	cr_assert_eq(sim_source_scan_controlled(&scan.source, &control, NULL, NULL, &end_ms, &err),
		     0, "scan: %s", err.message);
	cr_assert_eq(scan.counting.calls, 3, "expected 2 records and the end, got %llu calls",
		     (unsigned long long)scan.counting.calls);
	cr_assert_eq(end_ms, 90000, "expected the last departure at 90 s, got %lld",
		     (long long)end_ms);
	scan_run_close(&scan);
}

static void record_pods(void *data, uint64_t pods, double fraction)
{
	(void)fraction;
	*(uint64_t *)data = pods;
}

/* The fit check and the progress count every pod of a row. */
Test(trace_fixes, scan_counts_replicas_as_pods)
{
	GString *trace = g_string_new("t,e,c,k,n\n0,60,64,big,100000\n");
	scan_run scan;
	sim_scan_control control = {0};
	sim_fit_check *fit;
	sim_node_shape shape = {.cpu_milli = 8000, .memory = 32LL << 30};
	score_error err = {0};
	uint64_t pods_seen = 0;
	int64_t end_ms = -1;
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	const char *warning;

	for (int i = 0; i < SIM_SCAN_TEST_ROWS; i++)
		g_string_append_printf(trace, "1,2,1,p%d,1\n", i);
	scan_run_open(&scan, trace->str);
	fit = sim_fit_check_new(NULL);
	sim_fit_check_add_node(fit, "n0", &shape);
	control.mapped = scan.mapped;
	control.progress = record_pods;
	control.progress_data = &pods_seen;
	cr_assert_eq(sim_source_scan_controlled(&scan.source, &control, NULL, fit, &end_ms, &err),
		     0, "scan: %s", err.message);
	cr_assert_gt(pods_seen, 100000, "progress counts the 100,000 pods of the first row, got %llu",
		     (unsigned long long)pods_seen);
	sim_fit_check_warnings(fit, "trace.csv", NULL, warnings);
	cr_assert_eq(warnings->len, 1, "expected one warning: a 64-core pod fits no 8-core node, got %u",
		     warnings->len);
	warning = warnings->pdata[0];
	cr_assert(strstr(warning, "100,000") != NULL || strstr(warning, "100000") != NULL,
		  "the warning counts the 100,000 pods of the row: %s", warning);
	g_ptr_array_free(warnings, TRUE);
	sim_fit_check_free(fit);
	g_string_free(trace, TRUE);
	scan_run_close(&scan);
}

/* A stop request (SIGINT or SIGTERM) ends a long scan. */
Test(trace_fixes, scan_stops_on_request)
{
	GString *trace = g_string_new("t,e,c,k,n\n");
	scan_run scan;
	volatile sig_atomic_t stop = SIGINT;
	sim_scan_control control = {.stop = &stop};
	score_error err = {0};
	int64_t end_ms = -1;

	for (int i = 0; i < SIM_SCAN_TEST_ROWS; i++)
		g_string_append_printf(trace, "%d,%d,1,p%d,1\n", i, i + 1, i);
	scan_run_open(&scan, trace->str);
	cr_assert_eq(sim_source_scan_controlled(&scan.source, &control, NULL, NULL, &end_ms, &err),
		     -EINTR, "expected -EINTR, got: %s", err.message);
	cr_assert(strstr(err.message, "interrupted while reading") != NULL,
		  "the message says the scan was interrupted: %s", err.message);
	cr_assert_lt(scan.counting.calls, (uint64_t)SIM_SCAN_TEST_ROWS,
		     "the scan stopped before the end, after %llu records",
		     (unsigned long long)scan.counting.calls);
	g_string_free(trace, TRUE);
	scan_run_close(&scan);
}

/* ---- Inputs that are not regular files ------------------------------------ */

/* Runs with `trace` and expects a usage failure whose message has all of
 * `expected` (NULL-terminated). */
static void expect_trace_rejected(const run_dir *d, const char *option, const char *trace,
				  const char *const *expected)
{
	char *spec = run_dir_write(d, "spec.yaml", ends_spec);
	int status;
	char *err;

	if (strcmp(option, "--trace") == 0)
		status = run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			     "2x8/32Gi", "--out", d->out, NULL);
	else
		status = run("run", "--quiet", "--pods", trace, "--cluster", "2x8/32Gi", "--out",
			     d->out, NULL);
	err = test_captured_stderr();
	cr_assert_neq(status, 0, "%s %s fails", option, trace);
	for (const char *const *text = expected; *text != NULL; text++)
		cr_assert(strstr(err, *text) != NULL, "expected \"%s\" in the message, got: %s",
			  *text, err);
	g_free(err);
	g_free(spec);
}

Test(trace_fixes, trace_directory_rejected, .init = test_capture_output)
{
	run_dir d;
	const char *const expected[] = {"is a directory", NULL};

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	expect_trace_rejected(&d, "--trace", d.dir, expected);
	expect_trace_rejected(&d, "--pods", d.dir, expected);
	run_dir_release(&d);
}

Test(trace_fixes, trace_pipe_rejected, .init = test_capture_output)
{
	run_dir d;
	char *fifo;
	const char *expected[] = {NULL, "not a regular file", "read twice", "zcat", NULL};

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	fifo = g_build_filename(d.dir, "trace.fifo", NULL);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo %s", fifo);
	expected[0] = fifo;
	expect_trace_rejected(&d, "--trace", fifo, expected);
	g_free(fifo);
	run_dir_release(&d);
}

/* ---- Names ---------------------------------------------------------------- */

static const char named_spec[] =
	"format: csv\n"
	"fields:\n"
	"  arrival: {from: t, unit: s}\n"
	"  duration: {from: d, unit: s}\n"
	"  name: {from: k}\n"
	"  cpu: {from: c, unit: cores}\n";

/* Reads `trace` with `spec` to its end; returns the last result and
 * counts the pods. */
static int read_trace(const char *spec, const char *trace, bool skip, size_t *pods,
		      size_t *skipped, score_error *err)
{
	sim_read_options options = {.skip_bad_rows = skip};
	sim_mapping *mapping = NULL;
	sim_mapped_reader *reader = NULL;
	int ret = sim_mapping_parse("spec.yaml", spec, strlen(spec), &mapping, err);

	*pods = 0;
	*skipped = 0;
	cr_assert_eq(ret, 0, "the spec parses: %s", err->message);
	ret = sim_mapped_reader_open_buffer("trace.csv", trace, strlen(trace), mapping, &options,
					    &reader, err);
	while (ret == 0) {
		sim_mapped_pod pod;

		ret = sim_mapped_reader_next(reader, &pod, err);
		if (ret <= 0)
			break;
		(*pods)++;
		sim_mapped_pod_clear(&pod);
		ret = 0;
	}
	if (reader != NULL)
		*skipped = sim_mapped_reader_skipped(reader, NULL);
	sim_mapped_reader_free(reader);
	sim_mapping_free(mapping);
	return ret;
}

Test(trace_fixes, empty_start_name_malformed)
{
	static const char trace[] = "k,t,d,c\na,0,10,1\n,5,10,1\n";
	score_error err = {0};
	size_t pods;
	size_t skipped;
	int ret = read_trace(named_spec, trace, false, &pods, &skipped, &err);

	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for an empty name, got %d", ret);
	cr_assert(strstr(err.message, "trace.csv:3: the pod name is empty") != NULL,
		  "the message names the line: %s", err.message);
	cr_assert(strstr(err.message, "{#}") != NULL, "the message suggests {#}: %s",
		  err.message);

	ret = read_trace(named_spec, trace, true, &pods, &skipped, &err);
	cr_assert_eq(ret, 0, "--skip-bad-rows reads on: %s", err.message);
	cr_assert_eq(pods, 1, "expected the one named pod, got %zu", pods);
	cr_assert_eq(skipped, 1, "expected the unnamed row skipped, got %zu", skipped);
}

/* Without fields.name, pods are still named pod-LINE. */
Test(trace_fixes, unmapped_name_uses_line)
{
	static const char spec[] =
		"format: csv\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  cpu: {from: c, unit: cores}\n"
		"defaults: {duration: 1h}\n";
	score_error err = {0};
	size_t pods;
	size_t skipped;
	int ret = read_trace(spec, "t,c\n0,1\n1,1\n", false, &pods, &skipped, &err);

	cr_assert_eq(ret, 0, "unnamed rows read: %s", err.message);
	cr_assert_eq(pods, 2, "expected 2 pods, got %zu", pods);
}

/* b at line 3 arrives while a of line 2 with the same name still runs. */
static const char duplicate_trace[] =
	"k,t,d,c\n"
	"a,0,100,1\n"
	"a,5,100,1\n"
	"b,6,100,1\n";

Test(trace_fixes, duplicate_name_names_both_lines, .init = test_capture_output)
{
	run_dir d;
	char *spec;
	char *trace;
	char *err;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", named_spec);
	trace = run_dir_write(&d, "trace.csv", duplicate_trace);
	status = run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
		     "2x8/32Gi", "--out", d.out, NULL);
	err = test_captured_stderr();
	cr_assert_neq(status, 0, "a duplicate live name fails the run");
	cr_assert(strstr(err, "trace.csv:3: pod default/a arrives while the pod of that name from line 2") != NULL,
		  "the message names both lines: %s", err);
	cr_assert(strstr(err, "{#}") != NULL, "the message suggests {#}: %s", err);
	cr_assert(strstr(err, "--skip-bad-rows") != NULL, "the message names --skip-bad-rows: %s",
		  err);
	g_free(err);
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

static bool warnings_contain(const cJSON *summary, const char *text)
{
	const cJSON *warnings = cJSON_GetObjectItemCaseSensitive(summary, "warnings");
	const cJSON *warning;

	cJSON_ArrayForEach(warning, warnings)
		if (cJSON_IsString(warning) && strstr(warning->valuestring, text) != NULL)
			return true;
	return false;
}

Test(trace_fixes, duplicate_name_skipped, .init = test_capture_output)
{
	run_dir d;
	char *spec;
	char *trace;
	cJSON *summary;
	const cJSON *pods;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", named_spec);
	trace = run_dir_write(&d, "trace.csv", duplicate_trace);
	status = run("run", "--quiet", "--skip-bad-rows", "--trace", trace, "--mapping", spec,
		     "--cluster", "2x8/32Gi", "--out", d.out, NULL);
	cr_assert_eq(status, 0, "--skip-bad-rows skips the second a: %s", test_captured_stderr());
	summary = read_summary(&d);
	pods = cJSON_GetObjectItemCaseSensitive(summary, "pods");
	cr_assert_eq(summary_number(pods, "arrived"), 2, "expected a and b to arrive, got %g",
		     summary_number(pods, "arrived"));
	cr_assert(warnings_contain(summary, "skipped 1 pod whose name a live pod had; the first at line 3"),
		  "summary.json warns about the skipped pod");
	cJSON_Delete(summary);
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

Test(trace_fixes, skipped_rows_in_summary_warnings, .init = test_capture_output)
{
	run_dir d;
	char *spec;
	char *trace;
	cJSON *summary;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", named_spec);
	trace = run_dir_write(&d, "trace.csv", "k,t,d,c\na,0,10,1\nb,1,10,x\nc,2,10,y\n");
	status = run("run", "--quiet", "--skip-bad-rows", "--trace", trace, "--mapping", spec,
		     "--cluster", "2x8/32Gi", "--out", d.out, NULL);
	cr_assert_eq(status, 0, "the run skips the two bad rows: %s", test_captured_stderr());
	summary = read_summary(&d);
	cr_assert(warnings_contain(summary, "skipped 2 bad rows; the first: "),
		  "summary.json counts the skipped rows");
	cr_assert(warnings_contain(summary, "trace.csv:3:"),
		  "summary.json names the first skipped line");
	cJSON_Delete(summary);
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

/* ---- Options of the synthetic workload ------------------------------------ */

Test(trace_fixes, generator_options_rejected_with_trace, .init = test_capture_output)
{
	static const char *const options[][2] = {
		{"--rate", "100"},      {"--max-arrivals", "5"}, {"--shapes", "1/1Gi"},
		{"--arrivals", "poisson"}, {"--tenants", "2"},   {"--lifetimes", "1h"},
	};
	run_dir d;
	char *spec;
	char *trace;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", named_spec);
	trace = run_dir_write(&d, "trace.csv", "k,t,d,c\na,0,10,1\n");
	for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
		char *err;
		int status = run("run", "--quiet", "--trace", trace, "--mapping", spec,
				 options[i][0], options[i][1], "--out", d.out, NULL);

		err = test_captured_stderr();
		cr_assert_eq(status, 2, "%s with --trace: expected the usage status 2, got %d",
			     options[i][0], status);
		cr_assert(strstr(err, options[i][0]) != NULL && strstr(err, "cannot go with --trace") != NULL,
			  "%s: the message names the option and --trace: %s", options[i][0], err);
		g_free(err);

		status = run("run", "--quiet", "--pods", trace, options[i][0], options[i][1],
			     "--out", d.out, NULL);
		err = test_captured_stderr();
		cr_assert_eq(status, 2, "%s with --pods: expected the usage status 2, got %d",
			     options[i][0], status);
		cr_assert(strstr(err, "cannot go with --pods") != NULL,
			  "%s: the message names --pods: %s", options[i][0], err);
		g_free(err);
	}
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

/* ---- Replicas ------------------------------------------------------------- */

Test(trace_fixes, replicas_only_plain_digits)
{
	static const char *const rejected[] = {"+3", "1e3", "0.5e1", "2.9999999999999999",
					       "3.0", " 3", "0x10", "00000000100001"};
	score_error err = {0};
	size_t pods;
	size_t skipped;

	for (size_t i = 0; i < G_N_ELEMENTS(rejected); i++) {
		char *trace = g_strdup_printf("t,e,c,k,n\n0,60,1,a,%s\n", rejected[i]);
		char *expected = g_strdup_printf("invalid value \"%s\"", rejected[i]);
		int ret = read_trace(replicas_spec, trace, false, &pods, &skipped, &err);

		cr_assert_eq(ret, -EINVAL, "replicas \"%s\": expected -EINVAL, got %d", rejected[i],
			     ret);
		cr_assert(strstr(err.message, expected) != NULL,
			  "replicas \"%s\": expected %s in the message, got: %s", rejected[i],
			  expected, err.message);
		g_free(expected);
		g_free(trace);
	}

	cr_assert_eq(read_trace(replicas_spec, "t,e,c,k,n\n0,60,1,a,003\n", false, &pods,
				&skipped, &err),
		     0, "replicas 003 reads: %s", err.message);
	cr_assert_eq(pods, 3, "expected 3 pods from 003, got %zu", pods);
	cr_assert_eq(read_trace(replicas_spec, "t,e,c,k,n\n0,60,1,a,100000\n", false, &pods,
				&skipped, &err),
		     0, "replicas 100000 reads: %s", err.message);
	cr_assert_eq(pods, 100000, "expected 100,000 pods, got %zu", pods);
}

/* ---- Spec checks and messages --------------------------------------------- */

#define SPEC_HEAD                                  \
	"format: csv\n"                            \
	"fields:\n"                                \
	"  arrival: {from: t, unit: s}\n"          \
	"  cpu: {from: c, unit: cores}\n"

Test(trace_fixes, spec_number_out_of_range)
{
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "filter: [{field: c, min: 1e400}]\n",
			  "filter.min: the number \"1e400\" is out of range", "fraction");
}

Test(trace_fixes, spec_replicas_without_from)
{
	expect_spec_error_without(SPEC_HEAD "  replicas: {}\n"
				    "defaults: {duration: 1h}\n",
			  "fields.replicas: missing from: name a column or field", "template");
}

Test(trace_fixes, spec_origin_names_choices)
{
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "time: {origin: yesterday}\n",
			  "invalid origin \"yesterday\": give first", NULL);
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "time: {origin: yesterday}\n",
			  "RFC 3339", NULL);
}

Test(trace_fixes, spec_end_key_needs_field)
{
	expect_spec_error_without(SPEC_HEAD "  name: {from: k}\n"
				    "end: {filter: [{field: ev, in: [E]}], key: {template: \"end-{#}\"}}\n",
			  "end.key: the template names no field", NULL);
}

Test(trace_fixes, spec_duplicate_columns)
{
	expect_spec_error_without("format: csv\n"
			  "csv: {header: false, columns: [t, c, t]}\n"
			  "fields:\n"
			  "  arrival: {from: t, unit: s}\n"
			  "  cpu: {from: c, unit: cores}\n"
			  "defaults: {duration: 1h}\n",
			  "column \"t\" appears twice, as column 1 and 3", NULL);
}

Test(trace_fixes, spec_filter_passes_nothing)
{
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "filter: [{field: c, in: []}]\n",
			  "filter.in: the list is empty, so no row would pass", NULL);
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "filter: [{field: c, min: 5, max: 1}]\n",
			  "filter.min: min 5 is above max 1", NULL);
	expect_spec_error_without(SPEC_HEAD "defaults: {duration: 1h}\n"
				    "end: {filter: [{field: c, not_in: [x], min: 2, max: 1}]}\n",
			  "end.filter.min: min 2 is above max 1", NULL);
}

static const char plain_spec[] = SPEC_HEAD "defaults: {duration: 1h}\n";

static void expect_read_error(const char *spec, const char *trace, size_t length,
			      const char *expected)
{
	sim_mapping *mapping = NULL;
	sim_mapped_reader *reader = NULL;
	score_error err = {0};
	int ret = sim_mapping_parse("spec.yaml", spec, strlen(spec), &mapping, &err);

	cr_assert_eq(ret, 0, "the spec parses: %s", err.message);
	ret = sim_mapped_reader_open_buffer("trace.csv", trace, length, mapping, NULL, &reader,
					    &err);
	while (ret == 0) {
		sim_mapped_pod pod;

		ret = sim_mapped_reader_next(reader, &pod, &err);
		sim_mapped_pod_clear(&pod);
		if (ret == 0)
			break;
		if (ret > 0)
			ret = 0;
	}
	cr_assert_lt(ret, 0, "expected the trace to fail, got %d", ret);
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
	sim_mapped_reader_free(reader);
	sim_mapping_free(mapping);
}

Test(trace_fixes, gzip_trace_hints_decompression)
{
	static const char gzip[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03t,c\n";

	expect_read_error(plain_spec, gzip, sizeof(gzip) - 1, "the file is gzip-compressed");
	expect_read_error(plain_spec, gzip, sizeof(gzip) - 1, "zcat");
}

Test(trace_fixes, empty_arrival_gives_fix)
{
	static const char trace[] = "t,c\n0,1\n,1\n";

	expect_read_error(plain_spec, trace, strlen(trace),
			  "trace.csv:3: column t: empty arrival time: every row needs one");
	expect_read_error(plain_spec, trace, strlen(trace), "not_in: [\"\"]");
}

Test(trace_fixes, json_number_out_of_range)
{
	static const char spec[] =
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  cpu: {from: c, unit: cores}\n"
		"defaults: {duration: 1h}\n";
	static const char trace[] = "{\"t\": 0, \"c\": 1e400}\n";

	expect_read_error(spec, trace, strlen(trace), "field c: number out of range");
}

Test(trace_fixes, only_end_rows_message)
{
	static const char spec[] =
		"format: csv\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  name: {from: k}\n"
		"  cpu: {from: c, unit: cores}\n"
		"filter: [{field: ev, in: [S]}]\n"
		"end: {filter: [{field: ev, in: [E]}]}\n";
	GString *trace = g_string_new("k,t,ev,c\n");

	for (int i = 0; i < 1200; i++)
		g_string_append_printf(trace, "p%d,%d,E,\n", i, i);
	g_string_append(trace, "q,2000,X,1\n");
	expect_read_error(spec, trace->str, trace->len,
			  "no pods: 1,200 rows matched end.filter of spec.yaml");
	expect_read_error(spec, trace->str, trace->len, "filter rejected 1 row");
	g_string_free(trace, TRUE);
}

Test(trace_fixes, sweep_error_names_workload_line, .init = test_capture_output)
{
	run_dir d;
	char *sweep;
	char *err;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	sweep = run_dir_write(&d, "sweep.yaml",
			   "workloads:\n"
			   "- name: ok\n"
			   "  options: [--rate, \"10\"]\n"
			   "- name: nomap\n"
			   "  options: [--trace, a.csv]\n");
	status = run("sweep", sweep, "--out", d.out, NULL);
	err = test_captured_stderr();
	cr_assert_neq(status, 0, "the sweep fails");
	cr_assert(strstr(err, "sweep.yaml:5:") != NULL,
		  "the message gives line 5, the workload's options: %s", err);
	g_free(err);
	g_free(sweep);
	run_dir_release(&d);
}

/* ---- Outputs -------------------------------------------------------------- */

Test(trace_fixes, report_shows_end_rows_and_spec, .init = test_capture_output)
{
	run_dir d;
	char *spec;
	char *trace;
	char *report_path;
	char *report = NULL;
	int status;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	spec = run_dir_write(&d, "spec.yaml", ends_spec);
	trace = run_dir_write(&d, "trace.csv", ends_trace);
	status = run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
		     "2x8/32Gi", "--out", d.out, NULL);
	cr_assert_eq(status, 0, "the run succeeds: %s", test_captured_stderr());
	report_path = g_build_filename(d.out, "report.html", NULL);
	cr_assert(g_file_get_contents(report_path, &report, NULL, NULL), "report.html written");
	cr_assert(strstr(report, "3 arrived, 3 started, 2 completed, 0 ended while waiting; "
				 "at the end 1 running, 0 pending") != NULL,
		  "the pods row adds up with the ends");
	cr_assert(strstr(report, "<th>end rows</th><td class=\"n\">2 pods ended (0 of them while "
				 "waiting); 1 end row matched no pod; 1 pod never ended") != NULL,
		  "the report has the end-row counts");
	cr_assert(strstr(report, "read with the mapping spec ") != NULL &&
			  strstr(report, "spec.yaml</td>") != NULL,
		  "the parameters name the mapping spec");
	g_free(report);
	g_free(report_path);
	g_free(spec);
	g_free(trace);
	run_dir_release(&d);
}

/* A stop request during the first pass fails the run with -EINTR and
 * writes no summary. */
Test(trace_fixes, run_stops_during_scan, .init = test_capture_output)
{
	static volatile sig_atomic_t stop = SIGINT;
	GString *text = g_string_new("k,t,d,c\n");
	sim_churn_config config;
	sim_churn_result result;
	score_error err = {0};
	run_dir d;
	char *spec;
	char *trace;
	char *summary;
	int ret;

	run_dir_init(&d, "stowage-trace-fixes-XXXXXX");
	for (int i = 0; i < SIM_SCAN_TEST_ROWS; i++)
		g_string_append_printf(text, "p%d,%d,10,1\n", i, i);
	spec = run_dir_write(&d, "spec.yaml", named_spec);
	trace = run_dir_write(&d, "trace.csv", text->str);
	sim_churn_defaults(&config);
	config.out_dir = d.out;
	config.pods_path = trace;
	config.mapping_path = spec;
	config.progress = false;
	config.stop = &stop;
	ret = sim_churn_run(&config, &result, &err);
	cr_assert_eq(ret, -EINTR, "expected -EINTR, got %d: %s", ret, err.message);
	cr_assert(strstr(err.message, "interrupted while reading") != NULL,
		  "the message says where the run stopped: %s", err.message);
	summary = g_build_filename(d.out, "summary.json", NULL);
	cr_assert(!g_file_test(summary, G_FILE_TEST_EXISTS), "no summary.json at %s", summary);
	g_free(summary);
	g_free(spec);
	g_free(trace);
	g_string_free(text, TRUE);
	run_dir_release(&d);
}
