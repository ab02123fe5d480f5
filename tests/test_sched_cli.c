/* Tests for scheduler/main.c: the `stowage` command as a user runs it,
 * through the built binary ($STOWAGE_BIN). */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

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

/* ---- A running `stowage serve` ------------------------------------------ */

typedef struct server_process {
	GPid pid;
	int err_fd;
	GString *log; /* everything read from stderr so far */
} server_process;

static server_process start_serve(const char *const *args)
{
	const char *bin = g_getenv("STOWAGE_BIN");
	GPtrArray *argv = g_ptr_array_new();
	GError *error = NULL;
	server_process p = {0};

	if (bin == NULL || bin[0] == '\0')
		bin = "./stowage";
	g_ptr_array_add(argv, (gpointer)bin);
	g_ptr_array_add(argv, (gpointer) "serve");
	for (size_t i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
					   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &p.pid, NULL,
					   NULL, &p.err_fd, &error),
		  "cannot start %s serve: %s", bin, error != NULL ? error->message : "");
	g_ptr_array_unref(argv);
	p.log = g_string_new(NULL);
	return p;
}

/* Reads stderr until `pattern` appears after byte `from` of the log, for
 * at most `timeout_ms`. Returns the offset just past the match. */
static size_t wait_for_log(server_process *p, size_t from, const char *pattern,
			   int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		const char *found = p->log->len > from ? strstr(p->log->str + from, pattern) : NULL;
		struct pollfd fd = {.fd = p->err_fd, .events = POLLIN};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char buf[4096];
		ssize_t n;

		if (found != NULL)
			return (size_t)(found - p->log->str) + strlen(pattern);
		cr_assert_gt(left, 0, "no \"%s\" in the log within %d ms:\n%s", pattern,
			     timeout_ms, p->log->str);
		if (poll(&fd, 1, (int)left) <= 0)
			continue;
		n = read(p->err_fd, buf, sizeof(buf));
		cr_assert_gt(n, 0, "stowage serve closed stderr before \"%s\":\n%s", pattern,
			     p->log->str);
		g_string_append_len(p->log, buf, n);
	}
}

/* Sends SIGTERM and returns the exit status. */
static int stop_serve(server_process *p)
{
	int status = 0;

	kill(p->pid, SIGTERM);
	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid, "waitpid failed");
	g_spawn_close_pid(p->pid);
	close(p->err_fd);
	g_string_free(p->log, TRUE);
	cr_assert(WIFEXITED(status), "stowage serve did not exit normally");
	return WEXITSTATUS(status);
}

static char *write_policy(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "cannot write %s", path);
	return path;
}

static const char valid_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata:\n  name: first\n"
	"spec:\n  weights:\n    contention: 1\n";

Test(cli, serve_reloads_policy_and_keeps_it_on_error)
{
	static const char second[] = "apiVersion: stowage.io/v1alpha1\n"
				     "kind: SchedulingPolicy\n"
				     "metadata:\n  name: second\n"
				     "spec:\n  weights:\n    contention: 2\n";
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *path = write_policy(dir, "policy.yaml", valid_policy);
	const char *args[] = {"--listen", "127.0.0.1:0", "--policy", path, NULL};
	server_process p = start_serve(args);
	size_t at;

	at = wait_for_log(&p, 0, "loaded the policy", 10000);
	at = wait_for_log(&p, at, "ready", 10000);

	/* A broken edit: the running policy stays. */
	g_free(write_policy(dir, "policy.yaml", "spec: [\n"));
	at = wait_for_log(&p, at, "reload failed; keeping the running policy", 10000);

	/* A valid edit is swapped in by the file watch. */
	g_free(write_policy(dir, "policy.yaml", second));
	at = wait_for_log(&p, at, "name=second", 10000);

	/* SIGHUP with unchanged content reloads without a swap and must not
	 * stop the process: stop_serve() checks it still exits normally. */
	kill(p.pid, SIGHUP);
	g_usleep(200000);

	cr_assert_eq(stop_serve(&p), 0, "serve must exit 0 on SIGTERM");
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(cli, serve_rejects_broken_policy_at_start)
{
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *path = write_policy(dir, "policy.yaml",
				  "apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\n"
				  "metadata: {name: x}\nspec:\n  weights: {contention: many}\n");
	const char *args[] = {"serve", "--listen", "127.0.0.1:0", "--policy", path, NULL};
	run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "policy.yaml:5:", "stderr");
	assert_contains(r.err, "failed to load the policy", "stderr");
	run_result_release(&r);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(cli, check_reports_file_line_column)
{
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *good = write_policy(dir, "good.yaml", valid_policy);
	char *bad = write_policy(dir, "bad.yaml",
				 "apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\n"
				 "metadata: {name: x}\nspec:\n  bogus: 1\n");
	const char *both[] = {"check", good, bad, NULL};
	const char *only_good[] = {"check", good, NULL};
	run_result r = run_stowage(both);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.out, "good.yaml", "stdout");
	assert_contains(r.err, "bad.yaml:5:3:", "stderr");
	assert_contains(r.err, "bogus", "stderr");
	run_result_release(&r);

	r = run_stowage(only_good);
	cr_assert_eq(r.exit_status, 0, "exit status %d: %s", r.exit_status, r.err);
	run_result_release(&r);

	g_unlink(good);
	g_unlink(bad);
	g_rmdir(dir);
	g_free(good);
	g_free(bad);
	g_free(dir);
}

Test(cli, serve_without_policy_ignores_sighup)
{
	const char *args[] = {"--listen", "127.0.0.1:0", NULL};
	server_process p = start_serve(args);
	size_t at = wait_for_log(&p, 0, "ready", 10000);

	kill(p.pid, SIGHUP);
	wait_for_log(&p, at, "SIGHUP ignored", 10000);
	cr_assert_eq(stop_serve(&p), 0, "serve must exit 0 on SIGTERM");
}
