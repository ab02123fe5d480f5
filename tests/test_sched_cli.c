/* Tests for scheduler/main.c: the `stowage` command as a user runs it,
 * through the built binary ($STOWAGE_BIN). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

typedef struct run_result {
	int exit_status;
	char *out;
	char *err;
} run_result;

/* Runs the stowage binary with `args` (NULL-terminated) and waits. */
static run_result run_stowage(const char *const *args)
{
	const char *bin = g_getenv("STOWAGE_BIN");
	GPtrArray *argv = g_ptr_array_new();
	GError *error = NULL;
	run_result r = {0};
	int wait_status = 0;

	if (bin == NULL || bin[0] == '\0')
		bin = "./stowage";
	g_ptr_array_add(argv, (gpointer)bin);
	for (size_t i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);

	cr_assert(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
			       &r.out, &r.err, &wait_status, &error),
		  "cannot run %s: %s", bin, error != NULL ? error->message : "");
	cr_assert(WIFEXITED(wait_status), "%s did not exit normally", bin);
	r.exit_status = WEXITSTATUS(wait_status);
	g_ptr_array_unref(argv);
	return r;
}

static void run_result_release(run_result *r)
{
	g_free(r->out);
	g_free(r->err);
}

static void assert_contains(const char *text, const char *part, const char *what)
{
	cr_assert(strstr(text, part) != NULL, "%s should contain \"%s\":\n%s", what, part, text);
}

TestSuite(cli, .timeout = 60);

Test(cli, demo_shows_filter_and_prioritize)
{
	static const char *const args[] = {"demo", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 0, "exit status %d; stderr:\n%s", r.exit_status, r.err);
	assert_contains(r.out, "POST http://127.0.0.1:", "stdout");
	assert_contains(r.out, "/filter", "stdout");
	assert_contains(r.out, "/prioritize", "stdout");
	assert_contains(r.out, "\"FailedAndUnresolvableNodes\"", "stdout");
	assert_contains(r.out, "untolerated taint", "stdout");
	assert_contains(r.out, "\"Score\"", "stdout");
	assert_contains(r.err, "decision", "stderr");
	run_result_release(&r);
}

Test(cli, unknown_option_is_usage_error)
{
	static const char *const args[] = {"serve", "--no-such-option", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "--no-such-option", "stderr");
	assert_contains(r.err, "stowage help serve", "stderr");
	run_result_release(&r);
}

Test(cli, invalid_values_name_option_and_value)
{
	static const struct {
		const char *option;
		const char *value;
	} cases[] = {
		{"--listen", "example.com:80"},
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--max-body-bytes", "lots"},
		{"--threads", "0"},
		{"--url-prefix", "no-slash"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *args[] = {"serve", cases[i].option, cases[i].value, NULL};
		run_result r = run_stowage(args);

		cr_assert_eq(r.exit_status, 2, "%s %s: exit status %d", cases[i].option,
			     cases[i].value, r.exit_status);
		assert_contains(r.err, cases[i].option, "stderr");
		run_result_release(&r);
	}
}

Test(cli, cluster_and_kubeconfig_conflict)
{
	static const char *const args[] = {"serve", "--cluster", "a.yaml", "--kubeconfig",
					   "b.yaml", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "--cluster cannot be combined", "stderr");
	run_result_release(&r);
}

Test(cli, missing_cluster_file_fails)
{
	static const char *const args[] = {"serve", "--listen", "127.0.0.1:0", "--cluster",
					   "/nonexistent/cluster.yaml", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "/nonexistent/cluster.yaml", "stderr");
	run_result_release(&r);
}

Test(cli, missing_kubeconfig_fails)
{
	static const char *const args[] = {"serve", "--listen", "127.0.0.1:0", "--kubeconfig",
					   "/nonexistent/kubeconfig", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "/nonexistent/kubeconfig", "stderr");
	run_result_release(&r);
}

Test(cli, help_lists_commands_and_options)
{
	static const char *const top[] = {"help", NULL};
	static const char *const serve[] = {"help", "serve", NULL};
	run_result r = run_stowage(top);

	cr_assert_eq(r.exit_status, 0);
	assert_contains(r.out, "serve", "help");
	assert_contains(r.out, "sim", "help");
	run_result_release(&r);

	r = run_stowage(serve);
	cr_assert_eq(r.exit_status, 0);
	assert_contains(r.out, "--kubeconfig", "help serve");
	assert_contains(r.out, "--url-prefix", "help serve");
	run_result_release(&r);
}

Test(cli, unknown_command)
{
	static const char *const args[] = {"launch", NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "unknown command \"launch\"", "stderr");
	run_result_release(&r);
}
