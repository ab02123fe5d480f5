/* Tests for rows that represent several pods (fields.replicas) and for
 * end rows joined to their start rows (the end section of a mapping
 * spec). They cover the reader in sim/mapping.c, ends in sim/engine.c, and
 * `stowage sim run` with the example specs of sim/mappings/ on small
 * traces. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/engine.h"
#include "sim/mapping.h"
#include "sim/sim.h"
#include "sim/sources.h"
#include "tests/run.h"
#include "tests/sim_mapping.h"
#include "tests/tempdir.h"

TestSuite(trace_ends, .timeout = 60);

/* ---- Reading a trace ------------------------------------------------------ */

/* Reads `trace` with `spec` and fails the test on any error. */
static void read_or_fail(const char *spec, const char *trace, bool skip, read_result *result)
{
	sim_mapping *mapping = spec_or_fail(spec);
	score_error err = {0};
	int ret = read_all(mapping, trace, skip, result, &err);

	cr_assert_eq(ret, 0, "expected the trace to read, got %d: %s\ntrace:\n%s", ret,
		     err.message, trace);
	sim_mapping_free(mapping);
}

static void expect_start(read_result *result, guint i, const char *name, int64_t arrival_ms)
{
	const sim_mapped_pod *record = record_at(result, i);

	cr_assert_eq(record->kind, SIM_MAPPED_START, "record %u: expected a start, got kind %d",
		     i, record->kind);
	cr_assert_str_eq(record->name, name, "record %u: expected pod %s, got %s", i, name,
			 record->name);
	cr_assert_eq(record->arrival_ms, arrival_ms, "record %u: expected arrival %lld ms, got %lld",
		     i, (long long)arrival_ms, (long long)record->arrival_ms);
}

static void expect_end(read_result *result, guint i, const char *name, int64_t end_ms,
		       int64_t run_ms)
{
	const sim_mapped_pod *record = record_at(result, i);

	cr_assert_eq(record->kind, SIM_MAPPED_END, "record %u: expected an end, got kind %d", i,
		     record->kind);
	cr_assert_str_eq(record->name, name, "record %u: expected the end of %s, got %s", i,
			 name, record->name);
	cr_assert_eq(record->arrival_ms, end_ms, "record %u: expected the end at %lld ms, got %lld",
		     i, (long long)end_ms, (long long)record->arrival_ms);
	cr_assert_eq(record->run_ms, run_ms, "record %u: expected %lld ms since the arrival, got %lld",
		     i, (long long)run_ms, (long long)record->run_ms);
}

static void expect_end_counts(const read_result *result, size_t matched, size_t unmatched,
			      size_t open)
{
	cr_assert_eq(result->ends.matched, matched, "expected %zu matched end rows, got %zu",
		     matched, result->ends.matched);
	cr_assert_eq(result->ends.unmatched, unmatched,
		     "expected %zu unmatched end rows, got %zu", unmatched, result->ends.unmatched);
	cr_assert_eq(result->ends.open, open, "expected %zu open pods, got %zu", open,
		     result->ends.open);
}

/* ---- Replicas ------------------------------------------------------------- */

static const char replicas_spec[] =
	"format: csv\n"
	"fields:\n"
	"  arrival: {from: t, unit: s}\n"
	"  departure: {from: e, unit: s}\n"
	"  cpu: {from: c, unit: cores}\n"
	"  name: {template: \"{job}-{task}\"}\n"
	"  owner: {from: job}\n"
	"  replicas: {from: n}\n"
	"  labels: {kind: example.com/kind}\n";

Test(trace_ends, replicas_make_one_pod_per_instance)
{
	read_result result;
	const sim_mapped_pod *pod;

	read_or_fail(replicas_spec,
		     "t,e,c,job,task,n,kind\n"
		     "0,60,1,j1,M1,3,batch\n"
		     "10,20,2,j1,R2,1,batch\n",
		     false, &result);
	cr_assert_eq(result.records->len, 4, "expected 3 + 1 pods, got %u", result.records->len);
	expect_start(&result, 0, "j1-M1-0", 0);
	expect_start(&result, 1, "j1-M1-1", 0);
	expect_start(&result, 2, "j1-M1-2", 0);
	expect_start(&result, 3, "j1-R2-0", 10000);

	for (guint i = 0; i < 3; i++) {
		pod = record_at(&result, i);
		cr_assert_eq(pod->run_ms, 60000, "pod %u: expected the row's 60 s, got %lld", i,
			     (long long)pod->run_ms);
		cr_assert_eq(pod->cpu_milli, 1000, "pod %u: expected 1 core, got %lld m", i,
			     (long long)pod->cpu_milli);
		cr_assert_str_eq(pod->owner_name, "j1", "pod %u: owner copied", i);
		cr_assert_not_null(pod->labels, "pod %u: labels copied", i);
		cr_assert_eq(pod->labels->len, 2, "pod %u: expected one label, got %u strings", i,
			     pod->labels->len);
		cr_assert_str_eq(g_ptr_array_index(pod->labels, 1), "batch", "pod %u: label value", i);
		cr_assert_eq(pod->line, 2, "pod %u: expected the row's line 2, got %d", i, pod->line);
	}
	pod = record_at(&result, 3);
	cr_assert_eq(pod->run_ms, 10000, "expected 10 s, got %lld", (long long)pod->run_ms);
	read_result_release(&result);
}

Test(trace_ends, replicas_in_json_lines)
{
	static const char spec[] =
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  name: {from: id}\n"
		"  replicas: {from: task.instances}\n"
		"defaults: {duration: 1h}\n";
	read_result result;

	read_or_fail(spec,
		     "{\"t\": 5, \"id\": \"a\", \"task\": {\"instances\": 2}}\n"
		     "{\"t\": 6, \"id\": \"b\", \"task\": {\"instances\": \"1\"}}\n",
		     false, &result);
	cr_assert_eq(result.records->len, 3, "expected 2 + 1 pods, got %u", result.records->len);
	expect_start(&result, 0, "a-0", 5000);
	expect_start(&result, 1, "a-1", 5000);
	expect_start(&result, 2, "b-0", 6000);
	read_result_release(&result);
}

Test(trace_ends, replicas_reject_bad_values)
{
	static const struct {
		const char *value;
		const char *expected;
	} cases[] = {
		{"-1", "invalid value \"-1\": expected the number of pods the row represents, a whole number from 1 to 100000"},
		{"0", "invalid value \"0\""},
		{"2.5", "invalid value \"2.5\""},
		{"abc", "invalid value \"abc\""},
		{"100001", "trace:3: column n: invalid value \"100001\": expected the number of pods the row represents, a whole number from 1 to 100000"},
		{"1e12", "invalid value \"1e12\""},
		{"", "trace:3: column n: empty value: expected the number of pods"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *trace = g_strdup_printf("t,e,c,job,task,n,kind\n"
					      "0,60,1,j1,M1,2,batch\n"
					      "1,60,1,j1,M2,%s,batch\n",
					      cases[i].value);

		expect_row_error(replicas_spec, trace, cases[i].expected);
		g_free(trace);
	}
}

Test(trace_ends, replicas_missing_json_member)
{
	static const char spec[] =
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  replicas: {from: n}\n"
		"defaults: {duration: never}\n";

	expect_row_error(spec, "{\"t\": 1, \"n\": 2}\n{\"t\": 2}\n",
			 "trace:2: field n: empty value");
}

Test(trace_ends, replicas_bad_rows_skipped)
{
	read_result result;

	read_or_fail(replicas_spec,
		     "t,e,c,job,task,n,kind\n"
		     "0,60,1,j1,M1,2,batch\n"
		     "1,60,1,j1,M2,-4,batch\n"
		     "2,60,1,j1,M3,1,batch\n",
		     true, &result);
	cr_assert_eq(result.records->len, 3, "expected 2 + 1 pods, got %u", result.records->len);
	cr_assert_eq(result.skipped, 1, "expected the -4 row skipped, got %zu", result.skipped);
	cr_assert(strstr(result.first_skipped, "trace:3: column n: invalid value \"-4\"") != NULL,
		  "the skip names the row: %s", result.first_skipped);
	expect_start(&result, 2, "j1-M3-0", 2000);
	read_result_release(&result);
}

/* The pods of a row come from a copy, so a row of many pods is read
 * without reading the rows after it: the bad next row fails only after
 * the last pod of the row before. */
Test(trace_ends, replicas_stream_without_lookahead)
{
	sim_mapping *mapping = spec_or_fail(replicas_spec);
	static const char trace[] =
		"t,e,c,job,task,n,kind\n"
		"0,60,1,j1,M1,100000,batch\n"
		"1,60,-1,j1,M2,1,batch\n";
	sim_mapped_reader *reader = NULL;
	sim_mapped_pod pod;
	score_error err = {0};
	int ret;

	cr_assert_eq(sim_mapped_reader_open_buffer("trace", trace, strlen(trace), mapping, NULL,
						   &reader, &err),
		     0, "open: %s", err.message);
	for (int i = 0; i < SIM_MAPPING_MAX_REPLICAS; i++) {
		ret = sim_mapped_reader_next(reader, &pod, &err);
		if (ret != 1)
			cr_assert_fail("pod %d: expected 1, got %d: %s", i, ret, err.message);
		if (i == SIM_MAPPING_MAX_REPLICAS - 1)
			cr_assert_str_eq(pod.name, "j1-M1-99999", "the last pod's index");
		sim_mapped_pod_clear(&pod);
	}
	ret = sim_mapped_reader_next(reader, &pod, &err);
	cr_assert_eq(ret, -EINVAL, "expected the next row's error, got %d", ret);
	cr_assert(strstr(err.message, "trace:3: column c: invalid value \"-1\"") != NULL,
		  "message: %s", err.message);
	sim_mapped_reader_free(reader);
	sim_mapping_free(mapping);
}

/* A reader freed in the middle of a row's pods releases the copy. */
Test(trace_ends, replicas_reader_freed_midway)
{
	sim_mapping *mapping = spec_or_fail(replicas_spec);
	static const char trace[] = "t,e,c,job,task,n,kind\n0,60,1,j1,M1,5,batch\n";
	sim_mapped_reader *reader = NULL;
	sim_mapped_pod pod;
	score_error err = {0};

	cr_assert_eq(sim_mapped_reader_open_buffer("trace", trace, strlen(trace), mapping, NULL,
						   &reader, &err),
		     0, "open: %s", err.message);
	cr_assert_eq(sim_mapped_reader_next(reader, &pod, &err), 1, "first pod: %s", err.message);
	sim_mapped_pod_clear(&pod);
	sim_mapped_reader_free(reader);
	sim_mapping_free(mapping);
}

Test(trace_ends, replicas_spec_errors)
{
	expect_spec_error("format: csv\n"
			  "fields:\n"
			  "  arrival: {from: t, unit: s}\n"
			  "  replicas: {from: n, unit: count}\n"
			  "defaults: {duration: 1h}\n",
			  "spec.yaml:4:29: fields.replicas: replicas is a number of pods and has no unit: remove it");
	expect_spec_error("format: csv\n"
			  "fields:\n"
			  "  arrival: {from: t, unit: s}\n"
			  "  replicas: {template: \"{n}\"}\n"
			  "defaults: {duration: 1h}\n",
			  "fields.replicas: template is for name, namespace, tenant and owner only: use from");
	expect_spec_error("format: csv\n"
			  "fields:\n"
			  "  arrival: {from: t, unit: s}\n"
			  "  name: {from: id}\n"
			  "  replicas: {from: n}\n"
			  "end:\n"
			  "  filter: [{field: type, in: [FINISH]}]\n",
			  "spec.yaml:5:13: fields.replicas: replicas cannot go with end");
}

/* ---- End rows --------------------------------------------------------------- */

/* Events of instances: SUBMIT starts a pod, FINISH and KILL end it. */
static const char events_spec[] =
	"format: csv\n"
	"fields:\n"
	"  arrival: {from: t, unit: s}\n"
	"  cpu: {from: c, unit: cores}\n"
	"  name: {template: \"{job}-{index}\"}\n"
	"filter: [{field: type, in: [SUBMIT]}]\n"
	"end:\n"
	"  filter: [{field: type, in: [FINISH, KILL]}]\n";

Test(trace_ends, end_row_ends_its_pod)
{
	read_result result;

	read_or_fail(events_spec,
		     "t,type,job,index,c\n"
		     "100,SUBMIT,j,0,1\n"
		     "101,SUBMIT,j,1,2\n"
		     "105,SCHEDULE,j,0,\n"
		     "130,FINISH,j,0,\n"
		     "150,KILL,j,1,\n",
		     false, &result);
	cr_assert_eq(result.records->len, 4, "expected 2 starts and 2 ends, got %u",
		     result.records->len);
	expect_start(&result, 0, "j-0", 100000);
	cr_assert_eq(record_at(&result, 0)->run_ms, -1, "no run time until the end row, got %lld",
		     (long long)record_at(&result, 0)->run_ms);
	expect_start(&result, 1, "j-1", 101000);
	expect_end(&result, 2, "j-0", 130000, 30000);
	cr_assert_str_eq(record_at(&result, 2)->namespace, "default", "the pod's namespace");
	cr_assert_eq(record_at(&result, 2)->line, 5, "the end row's line, got %d",
		     record_at(&result, 2)->line);
	expect_end(&result, 3, "j-1", 150000, 49000);
	cr_assert_eq(result.filtered, 1, "the SCHEDULE row filtered, got %zu", result.filtered);
	expect_end_counts(&result, 2, 0, 0);
	read_result_release(&result);
}

Test(trace_ends, pod_without_end_stays_open)
{
	read_result result;

	read_or_fail(events_spec,
		     "t,type,job,index,c\n"
		     "0,SUBMIT,j,0,1\n"
		     "5,SUBMIT,j,1,1\n"
		     "9,FINISH,j,1,\n",
		     false, &result);
	cr_assert_eq(result.records->len, 3, "expected 2 starts and 1 end, got %u",
		     result.records->len);
	expect_start(&result, 0, "j-0", 0);
	cr_assert_eq(record_at(&result, 0)->run_ms, -1, "runs until the end, got %lld",
		     (long long)record_at(&result, 0)->run_ms);
	expect_end_counts(&result, 1, 0, 1);
	read_result_release(&result);
}

Test(trace_ends, unknown_duplicate_and_early_ends_counted)
{
	read_result result;

	read_or_fail(events_spec,
		     "t,type,job,index,c\n"
		     "0,SUBMIT,j,0,1\n"
		     "1,FINISH,x,7,\n"  /* unknown */
		     "2,KILL,j,1,\n"    /* before its start */
		     "3,SUBMIT,j,1,1\n"
		     "4,FINISH,j,0,\n"
		     "5,KILL,j,0,\n",   /* already ended */
		     false, &result);
	cr_assert_eq(result.records->len, 3, "expected 2 starts and 1 end, got %u",
		     result.records->len);
	expect_start(&result, 0, "j-0", 0);
	expect_start(&result, 1, "j-1", 3000);
	expect_end(&result, 2, "j-0", 4000, 4000);
	expect_end_counts(&result, 1, 3, 1);
	cr_assert_eq(result.filtered, 0, "end rows are not filtered rows, got %zu",
		     result.filtered);
	read_result_release(&result);
}

Test(trace_ends, name_reused_after_its_end)
{
	read_result result;

	read_or_fail(events_spec,
		     "t,type,job,index,c\n"
		     "0,SUBMIT,j,0,1\n"
		     "10,KILL,j,0,\n"
		     "10,SUBMIT,j,0,3\n"
		     "25,FINISH,j,0,\n",
		     false, &result);
	cr_assert_eq(result.records->len, 4, "expected 2 starts and 2 ends, got %u",
		     result.records->len);
	expect_start(&result, 0, "j-0", 0);
	expect_end(&result, 1, "j-0", 10000, 10000);
	expect_start(&result, 2, "j-0", 10000);
	cr_assert_eq(record_at(&result, 2)->cpu_milli, 3000, "the second pod's own request");
	expect_end(&result, 3, "j-0", 25000, 15000);
	expect_end_counts(&result, 2, 0, 0);
	read_result_release(&result);
}

Test(trace_ends, second_start_before_end_is_malformed)
{
	static const char trace[] =
		"t,type,job,index,c\n"
		"0,SUBMIT,j,0,1\n"
		"5,SUBMIT,j,0,1\n"
		"8,FINISH,j,0,\n";
	read_result result;

	expect_row_error(events_spec, trace,
			 "trace:3: pod \"default/j-0\" starts again, but the pod of that name from line 2 has not ended");

	read_or_fail(events_spec, trace, true, &result);
	cr_assert_eq(result.skipped, 1, "the second SUBMIT skipped, got %zu", result.skipped);
	cr_assert_eq(result.records->len, 2, "the first start and its end, got %u",
		     result.records->len);
	expect_end(&result, 1, "j-0", 8000, 8000);
	read_result_release(&result);
}

Test(trace_ends, end_row_going_backwards_is_malformed)
{
	expect_row_error(events_spec,
			 "t,type,job,index,c\n"
			 "0,SUBMIT,j,0,1\n"
			 "9,SUBMIT,j,1,1\n"
			 "4,FINISH,j,0,\n",
			 "trace:4: column t: invalid value \"4\": the arrival goes backwards from line 3");
}

Test(trace_ends, key_template_joins_rows)
{
	/* The key, not the name, joins the rows. */
	static const char spec[] =
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: time, unit: us}\n"
		"  name: {template: \"task-{c}-{i}\"}\n"
		"  namespace: {from: ns}\n"
		"filter: [{field: type, in: [\"0\"]}]\n"
		"end:\n"
		"  filter: [{field: type, in: [\"6\"]}]\n"
		"  key: {template: \"{c}/{i}\"}\n";
	read_result result;

	read_or_fail(spec,
		     "{\"time\": 1000000, \"type\": 0, \"c\": 7, \"i\": 0, \"ns\": \"a\"}\n"
		     "{\"time\": 2000000, \"type\": 0, \"c\": 7, \"i\": 1, \"ns\": \"b\"}\n"
		     "{\"time\": 4000000, \"type\": 6, \"c\": 7, \"i\": 1}\n",
		     false, &result);
	cr_assert_eq(result.records->len, 3, "expected 2 starts and 1 end, got %u",
		     result.records->len);
	expect_end(&result, 2, "task-7-1", 4000, 2000);
	cr_assert_str_eq(record_at(&result, 2)->namespace, "b",
			 "the end carries its pod's namespace, got %s",
			 record_at(&result, 2)->namespace);
	expect_end_counts(&result, 1, 0, 1);
	read_result_release(&result);
}

Test(trace_ends, default_key_includes_namespace)
{
	static const char spec[] =
		"format: csv\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  name: {from: pod}\n"
		"  namespace: {from: ns}\n"
		"filter: [{field: type, in: [start]}]\n"
		"end:\n"
		"  filter: [{field: type, in: [stop]}]\n";
	read_result result;

	read_or_fail(spec,
		     "t,type,ns,pod\n"
		     "0,start,a,web\n"
		     "1,stop,b,web\n"
		     "2,stop,a,web\n",
		     false, &result);
	cr_assert_eq(result.records->len, 2, "expected 1 start and 1 end, got %u",
		     result.records->len);
	expect_end(&result, 1, "web", 2000, 2000);
	expect_end_counts(&result, 1, 1, 0);
	read_result_release(&result);
}

/* A row that passes end.filter is an end row even when filter would take
 * it as a start. */
Test(trace_ends, end_filter_comes_first)
{
	static const char spec[] =
		"format: csv\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  name: {from: id}\n"
		"end:\n"
		"  filter: [{field: done, in: [\"1\"]}]\n";
	read_result result;

	read_or_fail(spec, "t,id,done\n0,a,0\n3,a,1\n", false, &result);
	cr_assert_eq(result.records->len, 2, "expected 1 start and 1 end, got %u",
		     result.records->len);
	expect_end(&result, 1, "a", 3000, 3000);
	read_result_release(&result);
}

Test(trace_ends, empty_key_is_malformed)
{
	static const char spec[] =
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: t, unit: s}\n"
		"  name: {from: id}\n"
		"end:\n"
		"  filter: [{field: type, in: [end]}]\n"
		"  key: {from: k}\n";

	expect_row_error(spec, "{\"t\": 0, \"id\": \"a\", \"k\": \"x\"}\n{\"t\": 1, \"type\": \"end\"}\n",
			 "trace:2: end.key is empty");
}

Test(trace_ends, only_end_rows_fail_with_both_counts)
{
	expect_row_error(events_spec, "t,type,job,index,c\n1,FINISH,j,0,\n2,SCHEDULE,j,0,\n",
			 "trace: no pods: 1 row matched end.filter of spec.yaml, which makes them end rows, and filter rejected 1 row; no row started a pod");
}

Test(trace_ends, end_spec_errors)
{
	static const struct {
		const char *spec;
		const char *expected;
	} cases[] = {
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: {key: {from: id}}\n",
		 "spec.yaml:5:6: end: missing filter"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: {filter: []}\n",
		 "end.filter: the list is empty"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: {filter: [{field: type}]}\n",
		 "end.filter: the condition tests nothing"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: {filter: [{field: type, in: [x]}], when: now}\n",
		 "end: unknown key \"when\": the keys are filter, key"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  departure: {from: e, unit: s}\n"
		 "  name: {from: id}\nend: {filter: [{field: type, in: [x]}]}\n",
		 "end: end rows give each pod its lifetime, and so does fields.departure: keep one of the two"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  duration: {from: d, unit: s}\n"
		 "  name: {from: id}\nend: {filter: [{field: type, in: [x]}]}\n",
		 "and so does fields.duration"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "defaults: {duration: 1h}\nend: {filter: [{field: type, in: [x]}]}\n",
		 "defaults.duration does not apply with end"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n"
		 "end: {filter: [{field: type, in: [x]}]}\n",
		 "end: no key joins an end row to its start row: map fields.name, or give end.key"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: {filter: [{field: type, in: [x]}], key: {from: k, unit: s}}\n",
		 "end.key: a text field has no unit: remove it"},
		{"format: csv\ncsv: {header: false, columns: [t, id]}\nfields:\n  arrival: {from: t, unit: s}\n"
		 "  name: {from: id}\nend: {filter: [{field: type, in: [x]}]}\n",
		 "end.filter: column \"type\" is not in csv.columns"},
		{"format: csv\nfields:\n  arrival: {from: t, unit: s}\n  name: {from: id}\n"
		 "end: [{field: type, in: [x]}]\n",
		 "end: expected a mapping, found a sequence"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		expect_spec_error(cases[i].spec, cases[i].expected);
}

/* An end section is a lifetime, so no departure or default is needed. */
Test(trace_ends, end_section_is_a_lifetime)
{
	sim_mapping *mapping = spec_or_fail(events_spec);

	sim_mapping_free(mapping);
}

/* ---- Ends in the engine --------------------------------------------------- */

/* One item of a scripted source: a pod arrives (cpu > 0), or the pod of
 * that name ends (cpu 0). */
typedef struct script_item {
	const char *name;
	double time_s;
	int64_t cpu_milli;
} script_item;

typedef struct script_source {
	const script_item *items;
	size_t n;
	size_t next;
} script_source;

static int script_next(void *data, sim_arrival *out, score_error *err)
{
	script_source *script = data;
	const script_item *item;
	score_pod *pod;

	(void)err;
	memset(out, 0, sizeof(*out));
	if (script->next >= script->n)
		return 0;
	item = &script->items[script->next++];
	out->time_ms = (int64_t)(item->time_s * 1000);
	out->line = (int)script->next;
	if (item->cpu_milli == 0) {
		out->end_uid = g_strdup(item->name);
		return 1;
	}
	pod = score_pod_new();
	pod->uid = score_intern(item->name);
	pod->name = score_intern(item->name);
	pod->namespace = score_intern("default");
	pod->request.v[SCORE_RES_CPU] = item->cpu_milli;
	pod->request.v[SCORE_RES_MEMORY] = 1 << 20;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	out->pod = pod;
	out->run_ms = -1;
	return 1;
}

/* What the observer saw of one pod. */
typedef struct finished_pod {
	char name[32];
	char node[32];
	double start_s; /* -1 when never started */
	double pending_s;
	double end_s;
	sim_pod_outcome outcome;
} finished_pod;

typedef struct run_log {
	GArray *pods;    /* finished_pod, in the order reported */
	GArray *samples; /* sim_sample */
} run_log;

static void log_finished(void *data, const sim_pod *pod, const char *node,
			 sim_pod_outcome outcome, int64_t now_ms)
{
	run_log *log = data;
	finished_pod result = {0};

	g_strlcpy(result.name, pod->pod->name, sizeof(result.name));
	g_strlcpy(result.node, node != NULL ? node : "", sizeof(result.node));
	result.start_s = pod->first_start_ms < 0 ? -1 : (double)pod->first_start_ms / 1000.0;
	result.pending_s = (double)pod->pending_ms / 1000.0;
	result.end_s = (double)now_ms / 1000.0;
	result.outcome = outcome;
	g_array_append_val(log->pods, result);
}

static void log_sample(void *data, const sim_sample *sample)
{
	run_log *log = data;

	g_array_append_val(log->samples, *sample);
}

static const finished_pod *finished_at(const run_log *log, guint i)
{
	cr_assert_lt(i, log->pods->len, "expected a pod %u reported, but there are %u", i,
		     log->pods->len);
	return &g_array_index(log->pods, finished_pod, i);
}

/* Runs `items` on one node of `cpu_milli`; `remove_at_s` >= 0 removes the
 * node then. Fills `stats` and `log`. */
static void run_script(const script_item *items, size_t n, int64_t cpu_milli,
		       double remove_at_s, sim_engine_stats *stats, run_log *log)
{
	sim_engine_config config;
	sim_engine *engine = NULL;
	script_source script = {.items = items, .n = n};
	sim_source source = {.next = script_next, .data = &script, .name = "script"};
	sim_observer observer = {.finished = log_finished, .sample = log_sample, .data = log};
	sim_node_shape shape = {.name = (char *)"test", .cpu_milli = cpu_milli,
				.memory = 64LL << 30, .pods = 110};
	score_error err = {0};

	log->pods = g_array_new(FALSE, TRUE, sizeof(finished_pod));
	log->samples = g_array_new(FALSE, TRUE, sizeof(sim_sample));
	sim_engine_defaults(&config);
	config.sample_ms = 5000;
	cr_assert_eq(sim_engine_new(&config, &engine, &err), 0, "engine: %s", err.message);
	cr_assert_eq(sim_engine_add_node(engine, "n0", &shape, NULL, NULL, &err), 0, "node: %s",
		     err.message);
	if (remove_at_s >= 0) {
		sim_node_event *event = g_new0(sim_node_event, 1);

		event->time_ms = (int64_t)(remove_at_s * 1000);
		event->kind = SIM_NODE_REMOVE;
		event->node = g_strdup("n0");
		sim_engine_add_node_event(engine, event);
	}
	cr_assert_eq(sim_engine_run(engine, &source, &observer, &err), 0, "run: %s", err.message);
	*stats = *sim_engine_stats_of(engine);
	sim_engine_free(engine);
}

static void run_log_release(run_log *log)
{
	g_array_free(log->pods, TRUE);
	g_array_free(log->samples, TRUE);
}

Test(trace_ends, engine_ends_running_and_waiting_pods)
{
	/* One 2-core node: "a" runs, "b" waits for room, then both end; "x"
	 * is not in the run, and "a" ends a second time. */
	static const script_item items[] = {
		{"a", 0, 2000},
		{"b", 5, 2000},
		{"b", 12, 0},
		{"x", 15, 0},
		{"a", 20, 0},
		{"a", 21, 0},
		{"c", 30, 1000},
	};
	sim_engine_stats stats;
	run_log log;
	const finished_pod *pod;

	run_script(items, G_N_ELEMENTS(items), 2000, -1, &stats, &log);

	pod = finished_at(&log, 0);
	cr_assert_str_eq(pod->name, "b", "b ends first, got %s", pod->name);
	cr_assert_eq(pod->outcome, SIM_OUTCOME_ENDED_WAITING,
		     "b leaves as ended while waiting, got outcome %d", pod->outcome);
	cr_assert_str_eq(pod->node, "", "b never had a node, got %s", pod->node);
	cr_assert_float_eq(pod->start_s, -1.0, 1e-9, "b never started, got %g", pod->start_s);
	cr_assert_float_eq(pod->end_s, 12.0, 1e-9, "b leaves at its end, got %g", pod->end_s);
	cr_assert_float_eq(pod->pending_s, 7.0, 1e-9, "b waited 5 s to 12 s, got %g",
			   pod->pending_s);

	pod = finished_at(&log, 1);
	cr_assert_str_eq(pod->name, "a", "a ends next, got %s", pod->name);
	cr_assert_eq(pod->outcome, SIM_OUTCOME_COMPLETED, "a completed");
	cr_assert_str_eq(pod->node, "n0", "a ran on n0, got %s", pod->node);
	cr_assert_float_eq(pod->end_s, 20.0, 1e-9, "a leaves at its end, got %g", pod->end_s);

	pod = finished_at(&log, 2);
	cr_assert_str_eq(pod->name, "c", "c is left, got %s", pod->name);
	cr_assert_eq(pod->outcome, SIM_OUTCOME_RUNNING, "c has no end: running at the end");

	cr_assert_eq(stats.arrivals, 3, "ends are not arrivals: expected 3, got %llu",
		     (unsigned long long)stats.arrivals);
	cr_assert_eq(stats.ends, 2, "expected 2 ends applied, got %llu",
		     (unsigned long long)stats.ends);
	cr_assert_eq(stats.ended_waiting, 1, "expected b ended while waiting, got %llu",
		     (unsigned long long)stats.ended_waiting);
	cr_assert_eq(stats.unmatched_ends, 2, "expected x and the second a unmatched, got %llu",
		     (unsigned long long)stats.unmatched_ends);
	cr_assert_eq(stats.completed, 1, "only a ran and completed, got %llu",
		     (unsigned long long)stats.completed);
	cr_assert_eq(stats.started, 2, "a and c started, got %llu",
		     (unsigned long long)stats.started);
	cr_assert_eq(stats.end_ms, 30000, "the run ends with the last item, got %lld",
		     (long long)stats.end_ms);

	/* The sample at 15 s comes after b's end: b no longer counts as
	 * pending although the queue still contains it. */
	for (guint i = 0; i < log.samples->len; i++) {
		const sim_sample *sample = &g_array_index(log.samples, sim_sample, i);

		if (sample->time_ms == 10000)
			cr_assert_eq(sample->pending, 1, "b pending at 10 s, got %llu",
				     (unsigned long long)sample->pending);
		if (sample->time_ms == 15000) {
			cr_assert_eq(sample->pending, 0, "nothing pending at 15 s, got %llu",
				     (unsigned long long)sample->pending);
			cr_assert_eq(sample->unschedulable, 0,
				     "nothing unschedulable at 15 s, got %llu",
				     (unsigned long long)sample->unschedulable);
		}
	}
	run_log_release(&log);
}

Test(trace_ends, engine_ends_pod_queued_again_after_eviction)
{
	/* The only node goes at 10 s, so "a" waits again until its end. */
	static const script_item items[] = {
		{"a", 0, 1000},
		{"a", 40, 0},
	};
	sim_engine_stats stats;
	run_log log;
	const finished_pod *pod;

	run_script(items, G_N_ELEMENTS(items), 2000, 10, &stats, &log);
	pod = finished_at(&log, 0);
	cr_assert_str_eq(pod->name, "a");
	cr_assert_float_eq(pod->start_s, 0.0, 1e-9, "a started at once, got %g", pod->start_s);
	cr_assert_float_eq(pod->end_s, 40.0, 1e-9, "a leaves at its end, got %g", pod->end_s);
	cr_assert_float_eq(pod->pending_s, 30.0, 1e-9, "a waited 10 s to 40 s, got %g",
			   pod->pending_s);
	cr_assert_eq(stats.evictions, 1, "one eviction, got %llu",
		     (unsigned long long)stats.evictions);
	cr_assert_eq(stats.ended_waiting, 1, "a ended while waiting, got %llu",
		     (unsigned long long)stats.ended_waiting);
	run_log_release(&log);
}

/* A pod that ends while waiting and one that arrives later with its name
 * are two pods. The engine frees the first when the queue hands it out. */
Test(trace_ends, engine_name_reused_while_first_still_queued)
{
	static const script_item items[] = {
		{"big", 0, 2000},
		{"a", 1, 1000},
		{"a", 2, 0},
		{"a", 2, 1000},
		{"big", 3, 0},
	};
	sim_engine_stats stats;
	run_log log;

	run_script(items, G_N_ELEMENTS(items), 2000, -1, &stats, &log);
	cr_assert_eq(log.pods->len, 3, "three pods reported, got %u", log.pods->len);
	cr_assert_eq(stats.arrivals, 3, "three arrivals, got %llu",
		     (unsigned long long)stats.arrivals);
	cr_assert_eq(stats.ends, 2, "two ends, got %llu", (unsigned long long)stats.ends);
	cr_assert_float_eq(finished_at(&log, 2)->start_s, 3.0, 1e-9,
			   "the second a starts when big leaves, got %g",
			   finished_at(&log, 2)->start_s);
	run_log_release(&log);
}

Test(trace_ends, mapped_source_delivers_ends)
{
	sim_mapping *mapping = spec_or_fail(events_spec);
	static const char trace[] =
		"t,type,job,index,c\n"
		"0,SUBMIT,j,0,1\n"
		"4,FINISH,j,0,\n"
		"5,FINISH,j,9,\n";
	char *dir = test_make_temp_dir("stowage-trace-ends-XXXXXX");
	char *path = g_build_filename(dir, "trace.csv", NULL);
	sim_mapped_source *mapped = NULL;
	sim_source source;
	sim_arrival arrival;
	sim_mapped_end_counts counts;
	score_error err = {0};
	int64_t end_ms = 0;

	cr_assert(g_file_set_contents(path, trace, -1, NULL), "write %s", path);
	cr_assert_eq(sim_mapped_source_open(path, mapping, NULL, &mapped, &source, &err), 0,
		     "open: %s", err.message);
	cr_assert_eq(source.next(source.data, &arrival, &err), 1, "the start: %s", err.message);
	cr_assert_not_null(arrival.pod, "a start has a pod");
	cr_assert_null(arrival.end_uid, "a start is no end");
	cr_assert_eq(arrival.run_ms, -1, "no run time yet, got %lld", (long long)arrival.run_ms);
	sim_arrival_release(&arrival);
	cr_assert_eq(source.next(source.data, &arrival, &err), 1, "the end: %s", err.message);
	cr_assert_null(arrival.pod, "an end has no pod");
	cr_assert_str_eq(arrival.end_uid, "default/j-0", "the end names the pod's uid");
	cr_assert_eq(arrival.time_ms, 4000, "ends at 4 s, got %lld", (long long)arrival.time_ms);
	sim_arrival_release(&arrival);
	cr_assert_eq(source.next(source.data, &arrival, &err), 0, "no more: %s", err.message);
	sim_mapped_source_end_counts(mapped, &counts);
	cr_assert_eq(counts.matched, 1, "one matched end, got %zu", counts.matched);
	cr_assert_eq(counts.unmatched, 1, "one unmatched end, got %zu", counts.unmatched);
	sim_mapped_source_free(mapped);

	/* A scan counts the end's time as the pod's departure. */
	cr_assert_eq(sim_mapped_source_open(path, mapping, NULL, &mapped, &source, &err), 0,
		     "open: %s", err.message);
	cr_assert_eq(sim_source_scan(&source, NULL, NULL, &end_ms, &err), 0, "scan: %s",
		     err.message);
	cr_assert_eq(end_ms, 4000, "expected the last departure at 4 s, got %lld",
		     (long long)end_ms);
	sim_mapped_source_free(mapped);

	test_remove_tree(dir);
	g_free(path);
	g_free(dir);
	sim_mapping_free(mapping);
}

/* ---- stowage sim run with the example specs ------------------------------ */

#define run(...) test_run_main(sim_main, "sim", __VA_ARGS__)

static char *example_spec(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	if (dir == NULL || dir[0] == '\0')
		return g_build_filename("sim", "mappings", name, NULL);
	return g_build_filename(dir, "..", "..", "sim", "mappings", name, NULL);
}

/* Returns the rows of pods.csv in `dir` for pod `name`, each split into
 * its fields (char **: name, namespace, app, arrival_s, start_s,
 * pending_s, node, end_s, outcome, ...), which the array frees. */
static GPtrArray *pods_rows(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, "pods.csv", NULL);
	char *text = NULL;
	char **lines;
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "pods.csv written at %s", path);
	lines = g_strsplit(text, "\n", -1);
	cr_assert(g_str_has_prefix(lines[0], "name,namespace,app,arrival_s,start_s,pending_s,node,end_s,outcome,"),
		  "the pods.csv header is unchanged: %s", lines[0]);
	for (char **line = lines + 1; *line != NULL; line++) {
		char **fields = g_strsplit(*line, ",", -1);

		if (g_strv_length(fields) > 8 && strcmp(fields[0], name) == 0)
			g_ptr_array_add(rows, fields);
		else
			g_strfreev(fields);
	}
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	return rows;
}

/* Checks one row: its arrival, start ("" for none), end ("" for none) and
 * outcome. */
static void expect_pods_row(const GPtrArray *rows, guint i, const char *name,
			    const char *arrival_s, const char *start_s, const char *end_s,
			    const char *outcome)
{
	char **fields;

	cr_assert_lt(i, rows->len, "expected row %u of pod %s, but there are %u", i, name,
		     rows->len);
	fields = rows->pdata[i];
	cr_assert_str_eq(fields[3], arrival_s, "%s row %u: expected arrival %s, got %s", name, i,
			 arrival_s, fields[3]);
	cr_assert_str_eq(fields[4], start_s, "%s row %u: expected start \"%s\", got \"%s\"", name,
			 i, start_s, fields[4]);
	cr_assert_str_eq(fields[7], end_s, "%s row %u: expected end \"%s\", got \"%s\"", name, i,
			 end_s, fields[7]);
	cr_assert_str_eq(fields[8], outcome, "%s row %u: expected %s, got %s", name, i, outcome,
			 fields[8]);
}

/* Google 2019 instance events: times in microseconds from the first
 * SUBMIT at 1 s; 0.015625 of 64 cores is one core. */
static const char google_trace[] =
	"{\"time\":\"1000000\",\"type\":\"0\",\"collection_id\":\"1\",\"instance_index\":\"0\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
	"{\"time\":\"2000000\",\"type\":\"0\",\"collection_id\":\"1\",\"instance_index\":\"1\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
	"{\"time\":\"3000000\",\"type\":\"SUBMIT\",\"collection_id\":\"2\",\"instance_index\":\"0\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
	"{\"time\":\"5000000\",\"type\":\"3\",\"collection_id\":\"1\",\"instance_index\":\"0\"}\n"
	"{\"time\":\"31000000\",\"type\":\"6\",\"collection_id\":\"1\",\"instance_index\":\"0\"}\n"
	"{\"time\":\"41000000\",\"type\":\"KILL\",\"collection_id\":\"1\",\"instance_index\":\"1\"}\n"
	"{\"time\":\"42000000\",\"type\":\"7\",\"collection_id\":\"9\",\"instance_index\":\"0\"}\n"
	"{\"time\":\"43000000\",\"type\":\"6\",\"collection_id\":\"1\",\"instance_index\":\"0\"}\n"
	"{\"time\":\"50000000\",\"type\":\"0\",\"collection_id\":\"1\",\"instance_index\":\"0\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
	"{\"time\":\"61000000\",\"type\":\"4\",\"collection_id\":\"1\",\"instance_index\":\"0\"}\n"
	"{\"time\":\"9223372036854775807\",\"type\":\"6\",\"collection_id\":\"2\",\"instance_index\":\"0\"}\n";

Test(trace_ends, google_example_departs_at_end_events, .init = test_capture_output)
{
	char *spec = example_spec("google-2019-instance-events.yaml");
	run_dir d;
	char *trace;
	char *out;
	char *summary_path;
	char *summary_text = NULL;
	cJSON *summary;
	const cJSON *end_rows;
	GPtrArray *rows;

	run_dir_init(&d, "stowage-trace-ends-XXXXXX");
	trace = run_dir_write(&d, "instance_events.json", google_trace);
	cr_assert_eq(run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			 "2x8/32Gi", "--out", d.out, NULL),
		     0, "the run succeeds: %s", test_captured_stderr());
	out = test_captured_stdout();
	cr_assert(strstr(out, "(4 pods)") != NULL,
		  "the summary counts the 4 SUBMIT events, not the end events: %s", out);
	/* 1-0 ends twice and 1-1 once; the end of 1-0 before its second
	 * start and the end of a pod never submitted match nothing. */
	cr_assert(strstr(out, "end rows: 3 pods ended (0 of them waiting), 2 rows matched "
			      "no pod; 1 pod never ended") != NULL,
		  "the summary counts the end rows: %s", out);
	summary_path = g_build_filename(d.out, "summary.json", NULL);
	cr_assert(g_file_get_contents(summary_path, &summary_text, NULL, NULL),
		  "summary.json written at %s", summary_path);
	summary = cJSON_Parse(summary_text);
	end_rows = cJSON_GetObjectItemCaseSensitive(summary, "end_rows");
	cr_assert(cJSON_IsObject(end_rows), "summary.json has end_rows: %s", summary_text);
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(end_rows, "ended_pods")->valuedouble, 3,
		     "3 ended pods in summary.json: %s", summary_text);
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(end_rows, "unmatched")->valuedouble, 2,
		     "2 unmatched end rows in summary.json: %s", summary_text);
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(end_rows, "pods_never_ended")->valuedouble,
		     1, "1 pod never ended in summary.json: %s", summary_text);
	cJSON_Delete(summary);
	g_free(summary_text);
	g_free(summary_path);

	rows = pods_rows(d.out, "1-0");
	cr_assert_eq(rows->len, 2, "1-0 is submitted twice, got %u rows", rows->len);
	expect_pods_row(rows, 0, "1-0", "0.000", "0.000", "30.000", "completed");
	expect_pods_row(rows, 1, "1-0", "49.000", "49.000", "60.000", "completed");
	g_ptr_array_free(rows, TRUE);

	rows = pods_rows(d.out, "1-1");
	expect_pods_row(rows, 0, "1-1", "1.000", "1.000", "40.000", "completed");
	g_ptr_array_free(rows, TRUE);

	/* Its end is at time 2^63 - 1, "after the trace", which end.filter
	 * leaves out. */
	rows = pods_rows(d.out, "2-0");
	expect_pods_row(rows, 0, "2-0", "2.000", "2.000", "", "running");
	g_ptr_array_free(rows, TRUE);

	g_free(out);
	g_free(trace);
	g_free(spec);
	run_dir_release(&d);
}

Test(trace_ends, google_example_ends_waiting_pod, .init = test_capture_output)
{
	/* One 1-core node: 1-1 waits behind 1-0 and is killed while waiting. */
	static const char trace_text[] =
		"{\"time\":\"1000000\",\"type\":\"0\",\"collection_id\":\"1\",\"instance_index\":\"0\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
		"{\"time\":\"2000000\",\"type\":\"0\",\"collection_id\":\"1\",\"instance_index\":\"1\",\"resource_request\":{\"cpus\":0.015625,\"memory\":0.001}}\n"
		"{\"time\":\"11000000\",\"type\":\"7\",\"collection_id\":\"1\",\"instance_index\":\"1\"}\n"
		"{\"time\":\"21000000\",\"type\":\"6\",\"collection_id\":\"1\",\"instance_index\":\"0\"}\n";
	char *spec = example_spec("google-2019-instance-events.yaml");
	run_dir d;
	char *trace;
	GPtrArray *rows;

	run_dir_init(&d, "stowage-trace-ends-XXXXXX");
	trace = run_dir_write(&d, "instance_events.json", trace_text);
	cr_assert_eq(run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			 "1x1/8Gi", "--out", d.out, NULL),
		     0, "the run succeeds: %s", test_captured_stderr());
	rows = pods_rows(d.out, "1-1");
	expect_pods_row(rows, 0, "1-1", "1.000", "", "10.000", "ended_waiting");
	cr_assert_str_eq(((char **)rows->pdata[0])[5], "9.000",
			 "1-1 waited from 1 s to its end at 10 s, got %s",
			 ((char **)rows->pdata[0])[5]);
	cr_assert_str_eq(((char **)rows->pdata[0])[6], "", "1-1 had no node");
	g_ptr_array_free(rows, TRUE);
	rows = pods_rows(d.out, "1-0");
	expect_pods_row(rows, 0, "1-0", "0.000", "0.000", "20.000", "completed");
	g_ptr_array_free(rows, TRUE);

	g_free(trace);
	g_free(spec);
	run_dir_release(&d);
}

Test(trace_ends, alibaba_example_replays_instances, .init = test_capture_output)
{
	char *spec = example_spec("alibaba-2018-batch-task.yaml");
	run_dir d;
	char *trace;
	char *out;
	GPtrArray *rows;

	run_dir_init(&d, "stowage-trace-ends-XXXXXX");
	trace = run_dir_write(&d, "batch_task.csv",
			    "M1,3,j_1,1,Terminated,100,160,100,1\n"
			    "R2_1,1,j_1,1,Terminated,110,200,50,1\n"
			    "M3,2,j_2,1,Running,120,0,50,1\n");
	cr_assert_eq(run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			 "2x8/32Gi", "--out", d.out, NULL),
		     0, "the run succeeds: %s", test_captured_stderr());
	out = test_captured_stdout();
	cr_assert(strstr(out, "(4 pods)") != NULL, "3 + 1 instances of Terminated tasks: %s", out);

	for (int i = 0; i < 3; i++) {
		char name[32];

		g_snprintf(name, sizeof(name), "j_1-M1-%d", i);
		rows = pods_rows(d.out, name);
		cr_assert_eq(rows->len, 1, "one row for %s, got %u", name, rows->len);
		expect_pods_row(rows, 0, name, "0.000", "0.000", "60.000", "completed");
		g_ptr_array_free(rows, TRUE);
	}
	rows = pods_rows(d.out, "j_1-R2_1-0");
	expect_pods_row(rows, 0, "j_1-R2_1-0", "10.000", "10.000", "100.000", "completed");
	g_ptr_array_free(rows, TRUE);

	g_free(out);
	g_free(trace);
	g_free(spec);
	run_dir_release(&d);
}

Test(trace_ends, alibaba_example_rejects_huge_instance_count, .init = test_capture_output)
{
	char *spec = example_spec("alibaba-2018-batch-task.yaml");
	run_dir d;
	char *trace;
	char *err;

	run_dir_init(&d, "stowage-trace-ends-XXXXXX");
	trace = run_dir_write(&d, "batch_task.csv",
			    "M1,3,j_1,1,Terminated,100,160,100,1\n"
			    "M2,5000000,j_1,1,Terminated,110,200,50,1\n");
	cr_assert_eq(run("run", "--quiet", "--trace", trace, "--mapping", spec, "--cluster",
			 "2x8/32Gi", "--out", d.out, NULL),
		     1, "a row over the limit fails the run");
	err = test_captured_stderr();
	cr_assert(strstr(err, "batch_task.csv:2: column instance_num: invalid value \"5000000\": expected the number of pods the row represents, a whole number from 1 to 100000") != NULL,
		  "stderr names the row, the value and the limit: %s", err);
	g_free(err);
	g_free(trace);
	g_free(spec);
	run_dir_release(&d);
}
