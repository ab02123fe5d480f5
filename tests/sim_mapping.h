/* Helpers of the tests that read traces through mapping specs and run
 * `stowage sim` on them: parsing a spec that must parse or must fail,
 * and a temporary directory for a run's inputs and outputs. */
#ifndef STOWAGE_TESTS_SIM_MAPPING_H
#define STOWAGE_TESTS_SIM_MAPPING_H

#include <criterion/criterion.h>
#include <errno.h>
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
