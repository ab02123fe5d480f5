/* Helpers of the tests that read traces through mapping specs and run
 * `stowage sim` on them: parsing a spec that must parse or must fail,
 * and a temporary directory for a run's inputs and outputs. */
#ifndef STOWAGE_TESTS_SIM_MAPPING_H
#define STOWAGE_TESTS_SIM_MAPPING_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "sim/mapping.h"
#include "tests/tempdir.h"

/* Returns the spec parsed from `text`, failing the test when it does not
 * parse. The caller frees it with sim_mapping_free(). */
static inline sim_mapping *spec_or_fail(const char *text)
{
	sim_mapping *mapping = NULL;
	score_error err = {0};
	int ret = sim_mapping_parse("spec.yaml", text, strlen(text), &mapping, &err);

	cr_assert_eq(ret, 0, "expected the spec to parse, got %d: %s\nspec:\n%s", ret,
		     err.message, text);
	return mapping;
}

/* Fails the test unless parsing `text` fails with -EINVAL and a message
 * that contains `expected` and, when `absent` is not NULL, not `absent`. */
static inline void expect_spec_error_without(const char *text, const char *expected,
					     const char *absent)
{
	sim_mapping *mapping = NULL;
	score_error err = {0};
	int ret = sim_mapping_parse("spec.yaml", text, strlen(text), &mapping, &err);

	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for the spec:\n%s\ngot %d", text, ret);
	cr_assert_null(mapping, "no spec returned on failure");
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
	if (absent != NULL)
		cr_assert(strstr(err.message, absent) == NULL,
			  "expected no \"%s\" in the message, got: %s", absent, err.message);
}

static inline void expect_spec_error(const char *text, const char *expected)
{
	expect_spec_error_without(text, expected, NULL);
}

/* The records of a trace and the reader's counts. */
typedef struct read_result {
	GArray *records; /* sim_mapped_pod */
	size_t filtered;
	size_t skipped;
	char first_skipped[SCORE_ERROR_MESSAGE_MAX];
	sim_mapped_end_counts ends;
} read_result;

static inline int read_all(const sim_mapping *mapping, const char *trace, bool skip,
		    read_result *result, score_error *err)
{
	sim_read_options options = {.skip_bad_rows = skip};
	sim_mapped_reader *reader = NULL;
	const char *first = NULL;
	int ret;

	memset(result, 0, sizeof(*result));
	result->records = g_array_new(FALSE, TRUE, sizeof(sim_mapped_pod));
	ret = sim_mapped_reader_open_buffer("trace", trace, strlen(trace), mapping, &options,
					    &reader, err);
	while (ret == 0) {
		sim_mapped_pod record;

		ret = sim_mapped_reader_next(reader, &record, err);
		if (ret <= 0)
			break;
		g_array_append_val(result->records, record);
		ret = 0;
	}
	if (reader != NULL) {
		result->filtered = sim_mapped_reader_filtered(reader);
		result->skipped = sim_mapped_reader_skipped(reader, &first);
		g_strlcpy(result->first_skipped, first, sizeof(result->first_skipped));
		sim_mapped_reader_end_counts(reader, &result->ends);
		sim_mapped_reader_free(reader);
	}
	return ret;
}

static inline void read_result_release(read_result *result)
{
	for (guint i = 0; i < result->records->len; i++)
		sim_mapped_pod_clear(&g_array_index(result->records, sim_mapped_pod, i));
	g_array_free(result->records, TRUE);
}

static inline sim_mapped_pod *record_at(read_result *result, guint i)
{
	cr_assert_lt(i, result->records->len, "expected a record %u, but there are %u", i,
		     result->records->len);
	return &g_array_index(result->records, sim_mapped_pod, i);
}

static inline void expect_row_error(const char *spec, const char *trace, const char *expected)
{
	sim_mapping *mapping = spec_or_fail(spec);
	read_result result;
	score_error err = {0};
	int ret = read_all(mapping, trace, false, &result, &err);

	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for the trace:\n%s\ngot %d", trace, ret);
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
	read_result_release(&result);
	sim_mapping_free(mapping);
}

/* A temporary directory for one run: inputs in `dir`, outputs in `out`. */
typedef struct run_dir {
	char *dir; /* owned */
	char *out; /* owned; not created */
} run_dir;

/* `template` ends in XXXXXX, as for g_dir_make_tmp(). */
static inline void run_dir_init(run_dir *d, const char *template)
{
	d->dir = test_make_temp_dir(template);
	d->out = g_build_filename(d->dir, "out", NULL);
}

static inline void run_dir_release(run_dir *d)
{
	test_remove_tree(d->dir);
	g_free(d->out);
	g_free(d->dir);
}

/* Writes `text` to `name` in the run's directory and returns its path,
 * which the caller frees. */
static inline char *run_dir_write(const run_dir *d, const char *name, const char *text)
{
	char *path = g_build_filename(d->dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "write %s", path);
	return path;
}

#endif
