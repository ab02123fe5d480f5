/* Tests for policies/loader.c: atomic reload, keeping the old policy when
 * the new file is broken, references across swaps, and the inotify watch on
 * a directory laid out like a Kubernetes ConfigMap volume. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policies/loader.h"
#include "tests/tempdir.h"

static score_resource_table *resources;
static char *directory;

static void setup(void)
{
	resources = score_resource_table_new();
	directory = test_make_temp_dir("stowage-loader-XXXXXX");
}

static void teardown(void)
{
	test_remove_tree(directory);
	g_free(directory);
	score_resource_table_free(resources);
}

TestSuite(loader, .init = setup, .fini = teardown, .timeout = 60);

static char *policy_text(const char *name)
{
	return g_strdup_printf("apiVersion: stowage.io/v1alpha1\n"
			       "kind: SchedulingPolicy\n"
			       "metadata: {name: %s}\n"
			       "spec: {weights: {isolation: 2}}\n",
			       name);
}

static const char broken_text[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: broken}\n"
	"spec: {weights: {isolation: lots}}\n";

static void write_file(const char *path, const char *text)
{
	GError *error = NULL;

	cr_assert(g_file_set_contents(path, text, -1, &error),
		  "cannot write %s: %s", path, error != NULL ? error->message : "?");
}

static void write_policy(const char *path, const char *name)
{
	char *text = policy_text(name);

	write_file(path, text);
	g_free(text);
}

static void expect_current(pol_loader *loader, const char *name)
{
	pol_policy *policy = pol_loader_current(loader);

	cr_assert_not_null(policy, "expected policy %s, got none", name);
	cr_assert_str_eq(pol_policy_name(policy), name,
			 "expected policy %s, got %s", name,
			 pol_policy_name(policy));
	pol_policy_unref(policy);
}

Test(loader, no_policy_before_first_load)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);

	cr_assert_null(pol_loader_current(loader));
	cr_assert_eq(pol_loader_generation(loader), 0);
	cr_assert_str_eq(pol_loader_path(loader), path);
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, broken_reload_keeps_old_policy)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	pol_diagnostics diagnostics;
	score_error err = {0};
	char *expected;
	bool changed = false;
	int rc;

	write_policy(path, "first");
	rc = pol_loader_reload(loader, &changed, NULL, &err);
	cr_assert_eq(rc, 0, "first load failed: %s", err.message);
	cr_assert(changed);
	expect_current(loader, "first");
	cr_assert_eq(pol_loader_generation(loader), 1);

	write_file(path, broken_text);
	pol_diagnostics_init(&diagnostics);
	rc = pol_loader_reload(loader, &changed, &diagnostics, &err);
	cr_assert_eq(rc, -EINVAL, "a broken file must fail, got %d", rc);
	cr_assert(!changed, "a failed reload changes nothing");
	expected = g_strdup_printf("%s:4:29: spec.weights.isolation: expected an integer from 0 to 100, got a string",
				   path);
	cr_assert_str_eq(err.message, expected);
	cr_assert_eq(diagnostics.errors->len, 1);
	expect_current(loader, "first");
	cr_assert_eq(pol_loader_generation(loader), 1);

	write_policy(path, "second");
	rc = pol_loader_reload(loader, &changed, NULL, &err);
	cr_assert_eq(rc, 0, "reload failed: %s", err.message);
	cr_assert(changed);
	expect_current(loader, "second");
	cr_assert_eq(pol_loader_generation(loader), 2);

	g_free(expected);
	pol_diagnostics_release(&diagnostics);
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, missing_file_fails_first_load)
{
	char *path = g_build_filename(directory, "absent.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	score_error err = {0};

	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, &err), -ENOENT);
	cr_assert_null(pol_loader_current(loader));
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, same_content_is_not_swapped)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	pol_policy *before;
	pol_policy *after;
	bool changed = true;

	write_policy(path, "steady");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	before = pol_loader_current(loader);
	cr_assert_eq(pol_loader_reload(loader, &changed, NULL, NULL), 0);
	after = pol_loader_current(loader);
	cr_assert(!changed, "identical content must not count as a change");
	cr_assert_eq(before, after, "the same policy object stays current");
	cr_assert_eq(pol_loader_generation(loader), 1);
	pol_policy_unref(before);
	pol_policy_unref(after);
	pol_loader_free(loader);
	g_free(path);
}

typedef struct prepared {
	pol_loader *loader;
	GPtrArray *names; /* policy names passed to prepare, in order */
	bool was_current; /* prepare saw its policy already current */
} prepared;

static void record_prepare(void *data, pol_policy *policy)
{
	prepared *seen = data;
	pol_policy *current = pol_loader_current(seen->loader);

	g_ptr_array_add(seen->names, g_strdup(pol_policy_name(policy)));
	seen->was_current = seen->was_current || current == policy;
	pol_policy_unref(current);
}

/* The prepare function gets every new policy before requests do, and
 * nothing else: not an unchanged file, not a broken one. */
Test(loader, prepare_runs_before_each_swap)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	prepared seen = {loader, g_ptr_array_new_with_free_func(g_free), false};

	pol_loader_set_prepare(loader, record_prepare, &seen);
	write_policy(path, "first");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	write_file(path, broken_text);
	cr_assert_lt(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	write_policy(path, "second");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);

	cr_assert_eq(seen.names->len, 2,
		     "expected prepare for first and second only, got %u calls",
		     seen.names->len);
	cr_assert_str_eq(g_ptr_array_index(seen.names, 0), "first");
	cr_assert_str_eq(g_ptr_array_index(seen.names, 1), "second");
	cr_assert_not(seen.was_current,
		      "prepare ran after its policy had become current");
	expect_current(loader, "second");
	g_ptr_array_unref(seen.names);
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, reader_keeps_its_policy_across_swap)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	const score_pipeline *pipeline;
	pol_policy *old_policy;

	write_policy(path, "old");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	old_policy = pol_loader_current(loader);
	pipeline = pol_policy_pipeline(old_policy);

	write_policy(path, "new");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	expect_current(loader, "new");

	/* The loader dropped its reference; ours keeps the old policy and
	 * its pipeline valid (AddressSanitizer would catch a free). */
	cr_assert_str_eq(pol_policy_name(old_policy), "old");
	cr_assert_eq(pipeline->n_filters, 4, "old pipeline filters %zu",
		     pipeline->n_filters);
	pol_loader_free(loader);
	cr_assert_str_eq(pol_policy_name(old_policy), "old",
			 "a reference outlives the loader");
	pol_policy_unref(old_policy);
	g_free(path);
}

/* ---- ConfigMap volume ------------------------------------------------------ */

/* Lays out `directory` as the kubelet mounts a ConfigMap: a timestamped
 * directory with the files, "..data" pointing at it, and the key as a
 * symlink through "..data". */
static void configmap_write_version(const char *version, const char *text)
{
	char *version_dir = g_build_filename(directory, version, NULL);
	char *file = g_build_filename(version_dir, "policy.yaml", NULL);

	cr_assert_eq(mkdir(version_dir, 0755), 0, "mkdir %s: %s", version_dir,
		     g_strerror(errno));
	write_file(file, text);
	g_free(file);
	g_free(version_dir);
}

/* Points "..data" at `version` the way the kubelet's atomic writer does:
 * a new symlink "..data_tmp", renamed over "..data". */
static void configmap_swap(const char *version)
{
	char *tmp_link = g_build_filename(directory, "..data_tmp", NULL);
	char *data_link = g_build_filename(directory, "..data", NULL);

	cr_assert_eq(symlink(version, tmp_link), 0, "symlink: %s",
		     g_strerror(errno));
	cr_assert_eq(rename(tmp_link, data_link), 0, "rename: %s",
		     g_strerror(errno));
	g_free(tmp_link);
	g_free(data_link);
}

static char *configmap_init(const char *version, const char *name)
{
	char *text = policy_text(name);
	char *key_link = g_build_filename(directory, "policy.yaml", NULL);

	configmap_write_version(version, text);
	configmap_swap(version);
	cr_assert_eq(symlink("..data/policy.yaml", key_link), 0, "symlink: %s",
		     g_strerror(errno));
	g_free(text);
	return key_link;
}

Test(loader, configmap_symlink_swap_reloads)
{
	char *path = configmap_init("..2024_05_01_10_00_00.000000001", "v1");
	pol_loader *loader = pol_loader_new(path, resources);
	score_error err = {0};
	char *text = policy_text("v2");
	int fd;
	int rc;

	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, &err), 0, "%s",
		     err.message);
	fd = pol_loader_watch(loader, &err);
	cr_assert_geq(fd, 0, "watch failed: %s", err.message);
	cr_assert_eq(pol_loader_watch(loader, &err), fd,
		     "a second watch returns the same descriptor");

	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, 0, "no event yet, got %d", rc);

	/* The kernel queues inotify events during the rename itself, so they
	 * are readable as soon as configmap_swap() returns. */
	configmap_write_version("..2024_05_01_10_05_00.000000002", text);
	configmap_swap("..2024_05_01_10_05_00.000000002");
	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, 1, "the swap must reload, got %d: %s", rc, err.message);
	expect_current(loader, "v2");
	cr_assert_eq(pol_loader_generation(loader), 2);

	/* A broken update keeps v2 and returns the error. */
	configmap_write_version("..2024_05_01_10_10_00.000000003", broken_text);
	configmap_swap("..2024_05_01_10_10_00.000000003");
	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, -EINVAL, "a broken update must fail, got %d", rc);
	cr_assert(strstr(err.message, "spec.weights.isolation") != NULL,
		  "the error names the field: %s", err.message);
	expect_current(loader, "v2");
	cr_assert_eq(pol_loader_generation(loader), 2);

	g_free(text);
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, unrelated_files_are_ignored)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	char *other = g_build_filename(directory, "notes.txt", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	score_error err = {0};
	int rc;

	write_policy(path, "kept");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	cr_assert_geq(pol_loader_watch(loader, &err), 0, "%s", err.message);
	write_file(other, "hello\n");
	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, 0, "an unrelated file must not reload, got %d", rc);
	cr_assert_eq(pol_loader_generation(loader), 1);

	/* g_file_set_contents() writes a temporary file and renames it over
	 * the policy, as editors do. */
	write_policy(path, "edited");
	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, 1, "an edit must reload, got %d: %s", rc, err.message);
	expect_current(loader, "edited");
	pol_loader_free(loader);
	g_free(other);
	g_free(path);
}

Test(loader, in_place_write_reloads)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	pol_loader *loader = pol_loader_new(path, resources);
	char *text = policy_text("rewritten");
	score_error err = {0};
	FILE *file;
	int rc;

	write_policy(path, "original");
	cr_assert_eq(pol_loader_reload(loader, NULL, NULL, NULL), 0);
	cr_assert_geq(pol_loader_watch(loader, &err), 0, "%s", err.message);

	file = fopen(path, "w");
	cr_assert_not_null(file);
	fputs(text, file);
	cr_assert_eq(fclose(file), 0);
	rc = pol_loader_dispatch(loader, NULL, &err);
	cr_assert_eq(rc, 1, "IN_CLOSE_WRITE must reload, got %d: %s", rc,
		     err.message);
	expect_current(loader, "rewritten");
	g_free(text);
	pol_loader_free(loader);
	g_free(path);
}

Test(loader, dispatch_needs_watch)
{
	pol_loader *loader = pol_loader_new("/nonexistent/policy.yaml", resources);
	score_error err = {0};

	cr_assert_eq(pol_loader_dispatch(loader, NULL, &err), -EBADF);
	cr_assert_lt(pol_loader_watch(loader, &err), 0,
		     "a missing directory cannot be watched");
	cr_assert(strstr(err.message, "/nonexistent") != NULL, "%s", err.message);
	pol_loader_free(loader);
}

/* ---- Readers during reloads ------------------------------------------------ */

typedef struct reader_state {
	pol_loader *loader;
	gint stop;
	size_t reads;
	bool saw_bad_name;
} reader_state;

static gpointer read_loop(gpointer data)
{
	reader_state *state = data;

	while (!g_atomic_int_get(&state->stop)) {
		pol_policy *policy = pol_loader_current(state->loader);

		if (!g_str_has_prefix(pol_policy_name(policy), "gen-"))
			state->saw_bad_name = true;
		pol_policy_unref(policy);
		state->reads++;
	}
	return NULL;
}

Test(loader, readers_run_during_reloads)
{
	char *path = g_build_filename(directory, "policy.yaml", NULL);
	reader_state state = {0};
	GThread *thread;

	state.loader = pol_loader_new(path, resources);
	write_policy(path, "gen-0");
	cr_assert_eq(pol_loader_reload(state.loader, NULL, NULL, NULL), 0);
	thread = g_thread_new("reader", read_loop, &state);
	for (int i = 1; i <= 100; i++) {
		char name[32];

		g_snprintf(name, sizeof(name), "gen-%d", i);
		write_policy(path, name);
		cr_assert_eq(pol_loader_reload(state.loader, NULL, NULL, NULL), 0);
	}
	g_atomic_int_set(&state.stop, 1);
	g_thread_join(thread);

	cr_assert(!state.saw_bad_name, "a reader saw a policy it should not");
	cr_assert_eq(pol_loader_generation(state.loader), 101);
	expect_current(state.loader, "gen-100");
	pol_loader_free(state.loader);
	g_free(path);
}
