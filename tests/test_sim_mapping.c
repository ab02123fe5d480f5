/* Tests for sim/mapping.c: the example specs of sim/mappings/ on the
 * sample traces in tests/fixtures/traces/, every unit, templates, maps,
 * filters and defaults, spec errors with their positions, malformed rows
 * with and without skip_bad_rows, and arrivals going backwards. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "sim/mapping.h"
#include "tests/sim_mapping.h"

TestSuite(mapping, .timeout = 60);

static char *fixture_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	return g_build_filename(dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures",
				"traces", name, NULL);
}

/* The example specs sit in sim/mappings/, two levels above the fixtures. */
static char *example_spec_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	if (dir == NULL || dir[0] == '\0')
		return g_build_filename("sim", "mappings", name, NULL);
	return g_build_filename(dir, "..", "..", "sim", "mappings", name, NULL);
}


static const char *label_of(const sim_mapped_pod *pod, const char *key)
{
	for (guint i = 0; pod->labels != NULL && i + 1 < pod->labels->len; i += 2) {
		if (strcmp(pod->labels->pdata[i], key) == 0)
			return pod->labels->pdata[i + 1];
	}
	return NULL;
}

/* Reads a sample trace with an example spec, both from files. */
static int read_example(const char *spec_name, const char *trace_name,
			read_result *result, score_error *err)
{
	char *spec_path = example_spec_path(spec_name);
	char *trace_path = fixture_path(trace_name);
	sim_mapping *mapping = NULL;
	sim_mapped_reader *reader = NULL;
	int ret = sim_mapping_load(spec_path, &mapping, err);

	memset(result, 0, sizeof(*result));
	result->records = g_array_new(FALSE, TRUE, sizeof(sim_mapped_pod));
	if (ret == 0)
		ret = sim_mapped_reader_open(trace_path, mapping, NULL, &reader, err);
	while (ret == 0) {
		sim_mapped_pod pod;

		ret = sim_mapped_reader_next(reader, &pod, err);
		if (ret <= 0)
			break;
		g_array_append_val(result->records, pod);
		ret = 0;
	}
	if (reader != NULL) {
		result->filtered = sim_mapped_reader_filtered(reader);
		cr_assert_float_eq(sim_mapped_reader_fraction(reader), 1.0, 1e-9,
				   "the whole file was read");
	}
	sim_mapped_reader_free(reader);
	sim_mapping_free(mapping);
	g_free(spec_path);
	g_free(trace_path);
	return ret;
}

/* ---- Example specs on sample traces --------------------------------------- */

Test(mapping, alibaba_2018_batch_task_example)
{
	read_result result;
	score_error err = {0};
	sim_mapped_pod *pod;

	cr_assert_eq(read_example("alibaba-2018-batch-task.yaml", "alibaba-2018-batch-task.csv",
				  &result, &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 14,
		     "expected 1 + 4 + 1 + 8 instances of the Terminated tasks, got %u",
		     result.records->len);
	cr_assert_eq(result.filtered, 1, "expected the Running task filtered, got %zu",
		     result.filtered);

	pod = record_at(&result, 0);
	cr_assert_str_eq(pod->name, "j_1-M1-0");
	cr_assert_str_eq(pod->namespace, "batch");
	cr_assert_eq(pod->arrival_ms, 0, "origin is the first row, got %lld",
		     (long long)pod->arrival_ms);
	cr_assert_eq(pod->run_ms, 120000, "expected 120 s, got %lld", (long long)pod->run_ms);
	cr_assert_eq(pod->cpu_milli, 1000, "100 centicores is one core, got %lld",
		     (long long)pod->cpu_milli);
	/* 0.39% of 256 GiB, rounded up to a byte. */
	cr_assert_eq(pod->memory, 1072023838LL, "got %lld bytes", (long long)pod->memory);
	cr_assert_str_eq(pod->owner_kind, "Job");
	cr_assert_str_eq(pod->owner_name, "j_1");
	cr_assert_str_eq(label_of(pod, "alibaba.com/task-type"), "1");
	cr_assert_eq(pod->line, 1, "got line %d", pod->line);

	pod = record_at(&result, 1);
	cr_assert_eq(pod->arrival_ms, 10000, "got %lld", (long long)pod->arrival_ms);
	cr_assert_eq(pod->cpu_milli, 500, "got %lld", (long long)pod->cpu_milli);

	pod = record_at(&result, 13);
	cr_assert_str_eq(pod->name, "j_4-M4-7");
	cr_assert_eq(pod->cpu_milli, 100, "an empty plan_cpu takes defaults.cpu, got %lld",
		     (long long)pod->cpu_milli);
	cr_assert_eq(pod->line, 5, "got line %d", pod->line);
	read_result_release(&result);
}

Test(mapping, google_2019_instance_events_example)
{
	read_result result;
	score_error err = {0};
	sim_mapped_pod *pod;

	cr_assert_eq(read_example("google-2019-instance-events.yaml",
				  "google-2019-instance-events.jsonl", &result, &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 3, "expected 3 SUBMIT events in the trace, got %u",
		     result.records->len);
	cr_assert_eq(result.filtered, 3, "time 0, a SCHEDULE and time 2^63-1 filtered, got %zu",
		     result.filtered);

	pod = record_at(&result, 0);
	cr_assert_str_eq(pod->name, "101-0");
	cr_assert_eq(pod->arrival_ms, 0, "got %lld", (long long)pod->arrival_ms);
	cr_assert_eq(pod->cpu_milli, 2000, "0.03125 of 64 cores, got %lld",
		     (long long)pod->cpu_milli);
	cr_assert_eq(pod->memory, 2LL << 30, "0.0078125 of 256 GiB, got %lld",
		     (long long)pod->memory);
	cr_assert_eq(pod->run_ms, -1, "no end event in the sample, so no run time, got %lld",
		     (long long)pod->run_ms);
	cr_assert_str_eq(label_of(pod, "google.com/scheduling-class"), "2");
	cr_assert_eq(pod->line, 2, "got line %d", pod->line);

	pod = record_at(&result, 1);
	cr_assert_eq(pod->arrival_ms, 1000, "601 s - 600 s, got %lld", (long long)pod->arrival_ms);
	cr_assert_null(label_of(pod, "google.com/priority"), "an absent field adds no label");

	pod = record_at(&result, 2);
	cr_assert_str_eq(pod->name, "102-3");
	cr_assert_eq(pod->memory, 0, "absent memory takes defaults.memory, got %lld",
		     (long long)pod->memory);
	cr_assert_eq(pod->line, 6, "the empty line counts, got %d", pod->line);
	read_result_release(&result);
}

Test(mapping, azure_vmtable_example)
{
	read_result result;
	score_error err = {0};
	sim_mapped_pod *pod;

	cr_assert_eq(read_example("azure-2017-vmtable.yaml", "azure-2017-vmtable.csv", &result,
				  &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 3, "got %u", result.records->len);

	pod = record_at(&result, 0);
	cr_assert_str_eq(pod->name, "x5Jx8LZgPqzKqCM1");
	cr_assert_str_eq(pod->tenant, "OQaSxfMZ+M/HXIU");
	cr_assert_str_eq(pod->owner_kind, "Deployment");
	cr_assert_eq(pod->cpu_milli, 2000, "got %lld", (long long)pod->cpu_milli);
	cr_assert_eq(pod->memory, 4LL << 30, "got %lld", (long long)pod->memory);
	cr_assert_eq(pod->run_ms, 2591700000LL, "got %lld", (long long)pod->run_ms);
	cr_assert_str_eq(label_of(pod, "azure.com/vm-category"), "Delay-insensitive");

	pod = record_at(&result, 2);
	cr_assert_eq(pod->cpu_milli, 30000, "\">24\" maps to 30 cores, got %lld",
		     (long long)pod->cpu_milli);
	cr_assert_eq(pod->memory, 128LL << 30, "\">64\" maps to 128 GiB, got %lld",
		     (long long)pod->memory);
	cr_assert_eq(pod->arrival_ms, 300000, "got %lld", (long long)pod->arrival_ms);
	read_result_release(&result);
}

/* ---- Units, templates, defaults -------------------------------------------- */

Test(mapping, header_columns_tab_delimiter_and_units)
{
	sim_mapping *mapping = spec_or_fail(
		"format: csv\n"
		"csv: {delimiter: \"\\t\"}\n"
		"fields:\n"
		"  arrival: {from: t, unit: ms}\n"
		"  duration: {from: d, unit: duration}\n"
		"  cpu: {from: c, unit: quantity}\n"
		"  memory: {from: m, unit: MiB}\n"
		"  gpu: {from: g, unit: milli}\n"
		"  namespace: {from: ns}\n");
	read_result result;
	score_error err = {0};
	sim_mapped_pod *pod;

	cr_assert_eq(read_all(mapping,
			      "m\tt\tc\td\tg\tns\n"
			      "512\t1500\t250m\t1h30m\t500\tteam-a\n"
			      "1.5\t1500\t2\t90s\t2000\t\n"
			      "0\t2000\t0\t0s\t0\tteam-b\n",
			      false, &result, &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 3, "got %u", result.records->len);

	pod = record_at(&result, 0);
	cr_assert_eq(pod->arrival_ms, 1500, "got %lld", (long long)pod->arrival_ms);
	cr_assert_eq(pod->run_ms, 5400000, "got %lld", (long long)pod->run_ms);
	cr_assert_eq(pod->cpu_milli, 250, "got %lld", (long long)pod->cpu_milli);
	cr_assert_eq(pod->memory, 512LL << 20, "got %lld", (long long)pod->memory);
	cr_assert_eq(pod->gpu_count, 1, "500 milli is a share of one GPU, got %d", pod->gpu_count);
	cr_assert_eq(pod->gpu_milli, 500, "got %d", pod->gpu_milli);
	cr_assert_str_eq(pod->namespace, "team-a");
	cr_assert_str_eq(pod->name, "pod-2", "unnamed pods are named by line");

	pod = record_at(&result, 1);
	cr_assert_eq(pod->memory, 1572864, "1.5 MiB, got %lld", (long long)pod->memory);
	cr_assert_eq(pod->gpu_count, 2, "got %d", pod->gpu_count);
	cr_assert_eq(pod->gpu_milli, 1000, "got %d", pod->gpu_milli);
	cr_assert_str_eq(pod->namespace, "default", "an empty namespace takes the default");

	pod = record_at(&result, 2);
	cr_assert_eq(pod->gpu_count, 0, "got %d", pod->gpu_count);
	cr_assert_eq(pod->run_ms, 0, "got %lld", (long long)pod->run_ms);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

Test(mapping, rfc3339_times_with_origin)
{
	sim_mapping *mapping = spec_or_fail(
		"format: jsonl\n"
		"fields:\n"
		"  arrival: {from: meta.created, unit: rfc3339}\n"
		"  departure: {from: meta.deleted, unit: rfc3339}\n"
		"  cpu: {from: cpu, unit: cores}\n"
		"time: {origin: \"2024-01-01T00:00:00Z\"}\n"
		"defaults: {duration: never, memory: 1Gi}\n");
	read_result result;
	score_error err = {0};

	cr_assert_eq(read_all(mapping,
			      "{\"meta\":{\"created\":\"2024-01-01T00:00:01.250Z\",\"deleted\":\"2024-01-01T01:00:01.250Z\"},\"cpu\":0.5}\n"
			      "{\"meta\":{\"created\":\"2024-01-01T02:00:00+01:00\"},\"cpu\":1}\n",
			      false, &result, &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(record_at(&result, 0)->arrival_ms, 1250, "got %lld",
		     (long long)record_at(&result, 0)->arrival_ms);
	cr_assert_eq(record_at(&result, 0)->run_ms, 3600000, "got %lld",
		     (long long)record_at(&result, 0)->run_ms);
	cr_assert_eq(record_at(&result, 0)->cpu_milli, 500, "got %lld",
		     (long long)record_at(&result, 0)->cpu_milli);
	cr_assert_eq(record_at(&result, 0)->memory, 1LL << 30, "defaults.memory, got %lld",
		     (long long)record_at(&result, 0)->memory);
	cr_assert_eq(record_at(&result, 1)->arrival_ms, 3600000, "02:00+01:00 is 01:00Z, got %lld",
		     (long long)record_at(&result, 1)->arrival_ms);
	cr_assert_eq(record_at(&result, 1)->run_ms, -1, "never: runs until the end, got %lld",
		     (long long)record_at(&result, 1)->run_ms);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

Test(mapping, positions_templates_and_filters)
{
	sim_mapping *mapping = spec_or_fail(
		"format: csv\n"
		"csv: {header: false}\n"
		"fields:\n"
		"  arrival: {from: 1, unit: s}\n"
		"  departure: {from: 2, unit: s}\n"
		"  cpu: {from: 3, unit: percent}\n"
		"  name: {template: \"job-{4}-{#}\"}\n"
		"  tenant: {from: 4, map: {x: tenant-x}}\n"
		"  labels: {5: app}\n"
		"reference: {cpu: \"8\"}\n"
		"filter:\n"
		"  - {field: 3, min: 1, max: 100}\n"
		"  - {field: 5, not_in: [skip]}\n");
	read_result result;
	score_error err = {0};

	cr_assert_eq(read_all(mapping,
			      "10,20,50,x,web\n"
			      "11,20,0,y,web\n"
			      "12,30,25,y,skip\n"
			      "13,30,abc,y,web\n"
			      "14,40,12.5,y,db\n",
			      false, &result, &err),
		     0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 2, "got %u", result.records->len);
	cr_assert_eq(result.filtered, 3, "below min, not_in and a non-number, got %zu",
		     result.filtered);
	cr_assert_str_eq(record_at(&result, 0)->name, "job-x-1");
	cr_assert_str_eq(record_at(&result, 0)->tenant, "tenant-x");
	cr_assert_eq(record_at(&result, 0)->cpu_milli, 4000, "50%% of 8 cores, got %lld",
		     (long long)record_at(&result, 0)->cpu_milli);
	cr_assert_str_eq(label_of(record_at(&result, 0), "app"), "web");
	cr_assert_str_eq(record_at(&result, 1)->name, "job-y-5");
	cr_assert_str_eq(record_at(&result, 1)->tenant, "y", "no map entry keeps the value");
	cr_assert_eq(record_at(&result, 1)->cpu_milli, 1000, "12.5%% of 8 cores, got %lld",
		     (long long)record_at(&result, 1)->cpu_milli);
	cr_assert_eq(record_at(&result, 1)->arrival_ms, 14000, "origin 0 by default, got %lld",
		     (long long)record_at(&result, 1)->arrival_ms);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

/* ---- Spec errors ------------------------------------------------------------ */

#define MINIMAL_FIELDS \
	"fields:\n" \
	"  arrival: {from: t, unit: s}\n" \
	"  duration: {from: d, unit: s}\n"

Test(mapping, spec_errors_name_position_and_fix)
{
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  cpu: {from: c, unit: kores}\n",
			  "spec.yaml:5:24: fields.cpu: unknown unit \"kores\": use one of cores, millicores");
	expect_spec_error("format: xml\n" MINIMAL_FIELDS, "spec.yaml:1:9: format: unknown format \"xml\"");
	expect_spec_error(MINIMAL_FIELDS, "missing format");
	expect_spec_error("format: csv\nfield: {}\n", "unknown key \"field\"");
	expect_spec_error("format: csv\nfields:\n  duration: {from: d, unit: s}\n",
			  "missing arrival");
	expect_spec_error("format: csv\nfields:\n  arrival: {from: t, unit: s}\n",
			  "no lifetime: map departure or duration, or set defaults.duration");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  cpu: {from: c, unit: fraction}\n",
			  "needs the CPU of the reference node: set reference.cpu");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  memory: {from: m, unit: percent}\n",
			  "set reference.memory");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  cpu: {from: c}\n",
			  "fields.cpu: missing unit");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  labels: {app: \"Bad Key\"}\n",
			  "invalid label key \"Bad Key\"");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  name: {template: \"{}x\"}\n",
			  "invalid template");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  cpu: {template: \"{c}\", unit: cores}\n",
			  "template is for name, namespace, tenant and owner only");
	expect_spec_error("format: csv\ncsv: {header: false}\n" MINIMAL_FIELDS,
			  "csv.header is false and csv.columns is not set");
	expect_spec_error("format: csv\ncsv: {header: false, columns: [t]}\n" MINIMAL_FIELDS,
			  "column \"d\" is not in csv.columns");
	expect_spec_error("format: csv\ncsv: {delimiter: \"ab\"}\n" MINIMAL_FIELDS,
			  "invalid delimiter \"ab\"");
	expect_spec_error("format: jsonl\nfields:\n  arrival: {from: a..b, unit: s}\n",
			  "invalid JSON path \"a..b\"");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "defaults: {duration: soon}\n",
			  "invalid duration \"soon\"");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "defaults: {cpu: -1}\n",
			  "out of range");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "filter: [{field: t}]\n",
			  "the condition tests nothing");
	expect_spec_error("format: csv\n" MINIMAL_FIELDS "  departure: {from: e, unit: s}\n",
			  "departure and duration both give the lifetime");
	expect_spec_error("", "the mapping spec is empty");
	expect_spec_error("format: [csv\n", "spec.yaml:");
}

Test(mapping, spec_file_missing)
{
	sim_mapping *mapping = NULL;
	score_error err = {0};
	int ret = sim_mapping_load("/nonexistent/spec.yaml", &mapping, &err);

	cr_assert_eq(ret, -EIO, "got %d", ret);
	cr_assert(strstr(err.message, "cannot read the mapping spec /nonexistent/spec.yaml") != NULL,
		  "message: %s", err.message);
}

Test(mapping, header_missing_mapped_column)
{
	sim_mapping *mapping = spec_or_fail("format: csv\n" MINIMAL_FIELDS
					    "  cpu: {from: plan_cpu, unit: cores}\n");
	read_result result;
	score_error err = {0};
	int ret = read_all(mapping, "t,d,cpu\n1,2,3\n", false, &result, &err);

	cr_assert_eq(ret, -EINVAL, "got %d", ret);
	cr_assert(strstr(err.message,
			 "spec.yaml:5:15: fields.cpu: column \"plan_cpu\" is not in the header of trace (line 1)") !=
			  NULL,
		  "message: %s", err.message);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

/* ---- Bad rows ---------------------------------------------------------------- */

#define CSV_SPEC \
	"format: csv\n" \
	"fields:\n" \
	"  arrival: {from: t, unit: s}\n" \
	"  duration: {from: d, unit: s}\n" \
	"  cpu: {from: c, unit: millicores}\n" \
	"  memory: {from: m, unit: GiB}\n" \
	"  gpu: {from: g, unit: count}\n" \
	"  labels: {app: app}\n"

#define CSV_HEADER "t,d,c,m,g,app\n"

Test(mapping, malformed_values_name_file_line_column)
{
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,1,0,web\n5,10,-1,1,0,web\n",
			 "trace:3: column c: invalid value \"-1\": expected millicores, at least 0");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,1e12,1,0,web\n",
			 "trace:2: column c: invalid value \"1e12\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,2000000,0,web\n",
			 "trace:2: column m: invalid value \"2000000\": expected GiB, at least 0 and at most 1 PiB");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,1,17,web\n",
			 "column g: invalid value \"17\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,1,0.5,web\n",
			 "column g: invalid value \"0.5\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,0x10,1,0,web\n",
			 "column c: invalid value \"0x10\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,nan,1,0,web\n", "invalid value \"nan\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,-5,100,1,0,web\n",
			 "column d: invalid value \"-5\"");
	expect_row_error(CSV_SPEC, CSV_HEADER "abc,10,100,1,0,web\n",
			 "column t: invalid value \"abc\": expected seconds");
	expect_row_error(CSV_SPEC, CSV_HEADER "1e19,10,100,1,0,web\n",
			 "column t: invalid value \"1e19\": out of range: the maximum time is 10^10 seconds");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,1e19,100,1,0,web\n",
			 "column d: invalid value \"1e19\": out of range: the maximum duration is 10^10 seconds");
	expect_row_error(CSV_SPEC, CSV_HEADER ",10,100,1,0,web\n", "empty arrival time");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,,1,0,web\n",
			 "trace:2: column c: empty value: fill it, or set defaults.cpu");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,1,0,web!\n",
			 "column app: invalid value \"web!\": a label value has up to 63");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,100,1,0\n",
			 "trace:2: 5 fields, but the header has 6");
	expect_row_error(CSV_SPEC, CSV_HEADER "0,10,\"100,1,0,web\n", "unterminated quoted field");
	expect_row_error(CSV_SPEC, CSV_HEADER "1e11,10,100,1,0,web\n", "invalid value \"1e11\"");
}

Test(mapping, arrivals_going_backwards)
{
	expect_row_error(CSV_SPEC, CSV_HEADER "10,1,1,1,0,a\n10,1,1,1,0,a\n5,1,1,1,0,a\n",
			 "trace:4: column t: invalid value \"5\": the arrival goes backwards from line 3: sort the trace by arrival time");
}

Test(mapping, departure_before_arrival)
{
	expect_row_error("format: csv\nfields:\n  arrival: {from: a, unit: s}\n"
			 "  departure: {from: b, unit: s}\n",
			 "a,b\n10,5\n",
			 "trace:2: column b: invalid value \"5\": the departure is before the arrival");
}

Test(mapping, before_origin)
{
	expect_row_error("format: csv\nfields:\n  arrival: {from: a, unit: s}\n"
			 "  duration: {from: b, unit: s}\ntime: {origin: 100}\n",
			 "a,b\n50,5\n", "the time is before time.origin");
}

Test(mapping, empty_traces)
{
	expect_row_error(CSV_SPEC, "", "trace: empty file");
	expect_row_error(CSV_SPEC, CSV_HEADER, "trace: no data rows: the trace is empty");
	expect_row_error(CSV_SPEC "filter: [{field: app, in: [db]}]\n", CSV_HEADER "0,1,1,1,0,web\n",
			 "no pods: the filter of spec.yaml rejected all 1 rows");
	expect_row_error("format: jsonl\nfields:\n  arrival: {from: t, unit: s}\n"
			 "defaults: {duration: 1h}\n",
			 "\n\n", "no data rows");
}

Test(mapping, json_line_errors)
{
	static const char spec[] = "format: jsonl\nfields:\n  arrival: {from: t, unit: s}\n"
				   "  cpu: {from: r.cpu, unit: cores}\ndefaults: {duration: 1h}\n";

	expect_row_error(spec, "{\"t\": 1, \"r\": {\"cpu\": 1}}\n{\"t\": 2,\n",
			 "trace:2: invalid JSON near column");
	expect_row_error(spec, "[1, 2]\n", "trace:1: the line is not a JSON object");
	expect_row_error(spec, "{\"t\": 1, \"r\": {\"cpu\": 1}} {}\n", "text after the JSON object");
	expect_row_error(spec, "{\"t\": 1, \"r\": {\"cpu\": [1]}}\n",
			 "trace:1: field r.cpu: found an array, expected a string or a number");
	expect_row_error(spec, "{\"t\": 1}\n", "field r.cpu: empty value");
}

Test(mapping, skip_bad_rows_counts_them)
{
	sim_mapping *mapping = spec_or_fail(CSV_SPEC);
	read_result result;
	score_error err = {0};
	int ret = read_all(mapping,
			   CSV_HEADER "5,10,100,1,0,web\n6,10,-1,1,0,web\n"
				      "1,10,100,1,0,web\n7,10,100,1,0,db\n",
			   true, &result, &err);

	cr_assert_eq(ret, 0, "failed: %s", err.message);
	cr_assert_eq(result.records->len, 2, "got %u", result.records->len);
	cr_assert_eq(result.skipped, 2, "a bad value and a backwards arrival, got %zu",
		     result.skipped);
	cr_assert(strstr(result.first_skipped, "trace:3: column c") != NULL, "first: %s",
		  result.first_skipped);
	cr_assert_eq(record_at(&result, 1)->line, 5, "got %d", record_at(&result, 1)->line);
	read_result_release(&result);

	ret = read_all(mapping, CSV_HEADER "0,10,-1,1,0,web\n", true, &result, &err);
	cr_assert_eq(ret, -EINVAL, "all rows skipped fails, got %d", ret);
	cr_assert(strstr(err.message, "no valid rows: all 1 were skipped") != NULL,
		  "message: %s", err.message);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

/* A trace many times longer than a reader's buffers reads with the same
 * reader state: nothing is kept per row. */
Test(mapping, long_trace_streams)
{
	sim_mapping *mapping = spec_or_fail(CSV_SPEC);
	GString *trace = g_string_new(CSV_HEADER);
	sim_mapped_reader *reader = NULL;
	score_error err = {0};
	size_t pods = 0;
	int ret;

	for (int i = 0; i < 100000; i++)
		g_string_append_printf(trace, "%d,60,250,1,0,app-%d\n", i / 10, i % 7);
	ret = sim_mapped_reader_open_buffer("trace", trace->str, trace->len, mapping, NULL,
					    &reader, &err);
	cr_assert_eq(ret, 0, "failed: %s", err.message);
	for (;;) {
		sim_mapped_pod pod;

		ret = sim_mapped_reader_next(reader, &pod, &err);
		if (ret <= 0)
			break;
		pods++;
		sim_mapped_pod_clear(&pod);
	}
	cr_assert_eq(ret, 0, "failed: %s", err.message);
	cr_assert_eq(pods, 100000, "got %zu", pods);
	sim_mapped_reader_free(reader);
	g_string_free(trace, TRUE);
	sim_mapping_free(mapping);
}
