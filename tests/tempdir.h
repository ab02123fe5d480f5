/* Temporary directories for tests: made under the system's temporary
 * directory (g_get_tmp_dir()) and removed with everything in them.
 *
 * Header-only, because the Makefile links each tests/test_*.c alone into
 * its own binary as well as all of them into one. */
#ifndef STOWAGE_TESTS_TEMPDIR_H
#define STOWAGE_TESTS_TEMPDIR_H

#include <criterion/criterion.h>

#include <glib.h>
#include <glib/gstdio.h>

/* Makes a new directory from `template`, a file name whose last six
 * characters are XXXXXX (see g_dir_make_tmp()), and returns its path.
 * Fails the test when the directory cannot be made. The caller removes it
 * with test_remove_tree() and frees the path with g_free(). */
static inline char *test_make_temp_dir(const char *template)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp(template, &error);

	cr_assert_not_null(dir, "cannot make a temporary directory from %s: %s", template,
			   error != NULL ? error->message : "");
	return dir;
}

/* Removes `path` and, when it is a directory, everything in it. A symbolic
 * link is removed and never followed, so a link inside the tree (such as
 * the ..data link of a ConfigMap volume's layout) cannot lead the removal
 * outside it. Does nothing when `path` is NULL. Errors are ignored because
 * this runs as cleanup, often after the test has already failed. */
static inline void test_remove_tree(const char *path)
{
	const char *name;
	GDir *dir;

	if (path == NULL)
		return;
	if (g_file_test(path, G_FILE_TEST_IS_SYMLINK) ||
	    !g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_unlink(path);
		return;
	}

	dir = g_dir_open(path, 0, NULL);
	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			char *child = g_build_filename(path, name, NULL);

			test_remove_tree(child);
			g_free(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

#endif
