/* Tests for scheduler/main.c: the `stowage` command as a user runs it,
 * through the built binary ($STOWAGE_BIN, else build/<mode>/stowage beside
 * the test binary's directory). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tests/run.h"

/* Runs the stowage binary with `args` (NULL-terminated) and waits. */
static test_run_result run_stowage(const char *const *args)
{
	char *bin = test_stowage_path();
	test_run_result r;

	test_run_program(bin, args, &r);
	g_free(bin);
	return r;
}

static void assert_contains(const char *text, const char *part, const char *what)
{
	cr_assert(strstr(text, part) != NULL, "%s should contain \"%s\":\n%s", what, part, text);
}

TestSuite(cli, .timeout = 60);

Test(cli, demo_shows_filter_and_prioritize)
{
	static const char *const args[] = {"demo", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 0, "exit status %d; stderr:\n%s", r.exit_status, r.err);
	assert_contains(r.out, "POST http://127.0.0.1:", "stdout");
	assert_contains(r.out, "/filter", "stdout");
	assert_contains(r.out, "/prioritize", "stdout");
	assert_contains(r.out, "\"FailedAndUnresolvableNodes\"", "stdout");
	assert_contains(r.out, "untolerated taint", "stdout");
	assert_contains(r.out, "\"Score\"", "stdout");
	assert_contains(r.err, "decision", "stderr");
	test_run_result_release(&r);
}

Test(cli, unknown_option_is_usage_error)
{
	static const char *const args[] = {"serve", "--no-such-option", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "--no-such-option", "stderr");
	assert_contains(r.err, "stowage help serve", "stderr");
	test_run_result_release(&r);
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
		/* A byte count, but outside 4Ki to 1Mi. */
		{"--max-header-bytes", "1"},
		{"--max-header-bytes", "2Mi"},
		{"--threads", "0"},
		{"--url-prefix", "no-slash"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *args[] = {"serve", cases[i].option, cases[i].value, NULL};
		test_run_result r = run_stowage(args);

		cr_assert_eq(r.exit_status, 2, "%s %s: exit status %d", cases[i].option,
			     cases[i].value, r.exit_status);
		assert_contains(r.err, cases[i].option, "stderr");
		test_run_result_release(&r);
	}
}

Test(cli, cluster_and_kubeconfig_conflict)
{
	static const char *const args[] = {"serve", "--cluster", "a.yaml", "--kubeconfig",
					   "b.yaml", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "--cluster cannot be combined", "stderr");
	test_run_result_release(&r);
}

Test(cli, missing_cluster_file_fails)
{
	static const char *const args[] = {"serve", "--listen", "127.0.0.1:0", "--cluster",
					   "/nonexistent/cluster.yaml", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "/nonexistent/cluster.yaml", "stderr");
	test_run_result_release(&r);
}

Test(cli, missing_kubeconfig_fails)
{
	static const char *const args[] = {"serve", "--listen", "127.0.0.1:0", "--kubeconfig",
					   "/nonexistent/kubeconfig", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "/nonexistent/kubeconfig", "stderr");
	test_run_result_release(&r);
}

Test(cli, help_lists_commands_and_options)
{
	static const char *const top[] = {"help", NULL};
	static const char *const serve[] = {"help", "serve", NULL};
	test_run_result r = run_stowage(top);

	cr_assert_eq(r.exit_status, 0);
	assert_contains(r.out, "serve", "help");
	assert_contains(r.out, "sim", "help");
	test_run_result_release(&r);

	r = run_stowage(serve);
	cr_assert_eq(r.exit_status, 0);
	assert_contains(r.out, "--kubeconfig", "help serve");
	assert_contains(r.out, "--url-prefix", "help serve");
	/* Both cluster sources name every kind the model keeps. */
	assert_contains(r.out, "watching nodes, pods, namespaces, NetworkPolicies and Services",
			"help serve");
	assert_contains(r.out, "Load nodes, pods, namespaces, NetworkPolicies and Services",
			"help serve");
	assert_contains(r.out, "one or more YAML documents", "help serve");
	test_run_result_release(&r);
}

Test(cli, max_header_bytes_checked_before_start)
{
	static const char *const args[] = {"serve", "--listen", "127.0.0.1:0",
					   "--max-header-bytes", "1", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "a value out of range is a usage error: exit status %d",
		     r.exit_status);
	assert_contains(r.err, "invalid value \"1\" for --max-header-bytes: give a number of "
			"bytes from 4096 (4Ki) to 1048576 (1Mi)", "stderr");
	cr_assert_null(strstr(r.err, "starting"), "nothing starts before the check:\n%s", r.err);
	test_run_result_release(&r);
}

Test(cli, unknown_command)
{
	static const char *const args[] = {"launch", NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 2, "exit status %d", r.exit_status);
	assert_contains(r.err, "unknown command \"launch\"", "stderr");
	test_run_result_release(&r);
}

/* ---- A running `stowage serve` ------------------------------------------ */

typedef struct server_process {
	GPid pid;
	int err_fd;
	GString *log; /* everything read from stderr so far */
} server_process;

static server_process start_serve(const char *const *args)
{
	char *bin = test_stowage_path();
	GPtrArray *argv = g_ptr_array_new();
	GError *error = NULL;
	server_process p = {0};

	g_ptr_array_add(argv, bin);
	g_ptr_array_add(argv, (gpointer) "serve");
	for (size_t i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
					   G_SPAWN_DO_NOT_REAP_CHILD,
					   test_child_dies_with_parent, NULL, &p.pid, NULL,
					   NULL, &p.err_fd, &error),
		  "cannot start %s serve: %s", bin, error != NULL ? error->message : "");
	g_ptr_array_unref(argv);
	g_free(bin);
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
	char how[96];

	kill(p->pid, SIGTERM);
	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid, "waitpid failed");
	g_spawn_close_pid(p->pid);
	close(p->err_fd);
	g_string_free(p->log, TRUE);
	cr_assert(WIFEXITED(status), "stowage serve %s after SIGTERM",
		  test_describe_wait_status(status, how, sizeof(how)));
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
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.err, "policy.yaml:5:", "stderr");
	assert_contains(r.err, "failed to load the policy", "stderr");
	test_run_result_release(&r);
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
	test_run_result r = run_stowage(both);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	assert_contains(r.out, "good.yaml", "stdout");
	assert_contains(r.err, "bad.yaml:5:3:", "stderr");
	assert_contains(r.err, "bogus", "stderr");
	test_run_result_release(&r);

	r = run_stowage(only_good);
	cr_assert_eq(r.exit_status, 0, "exit status %d: %s", r.exit_status, r.err);
	test_run_result_release(&r);

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

/* ---- Stopping within --shutdown-timeout, and SIGHUP for TLS ------------- */

/* Copies ADDR:PORT from the "listening address=" line into `address`. */
static void read_listen_address(server_process *p, char *address, size_t size)
{
	size_t at = wait_for_log(p, 0, "listening address=", 10000);
	size_t length = strcspn(p->log->str + at, " \n");

	cr_assert(length > 0 && length < size, "no address after \"listening address=\":\n%s",
		  p->log->str);
	g_strlcpy(address, p->log->str + at, length + 1);
}

/* Connects to ADDR:PORT (IPv4) and returns the socket. */
static int connect_to(const char *address)
{
	char *colon = strrchr(address, ':');
	char *host = g_strndup(address, (gsize)(colon - address));
	struct sockaddr_in addr = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0, "socket failed: %s", strerror(errno));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	cr_assert_eq(inet_pton(AF_INET, host, &addr.sin_addr), 1, "bad address %s", address);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "connect to %s: %s",
		     address, strerror(errno));
	g_free(host);
	return fd;
}

static size_t append_body(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

/* Returns stowage_http_requests_in_progress from GET /metrics, or -1. The
 * scrape itself counts as one. */
static long requests_in_progress(const char *address)
{
	static const char series[] = "\nstowage_http_requests_in_progress ";
	CURL *curl = curl_easy_init();
	GString *body = g_string_new(NULL);
	char *url = g_strdup_printf("http://%s/metrics", address);
	const char *found;
	long value = -1;

	cr_assert_not_null(curl, "curl_easy_init failed");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	if (curl_easy_perform(curl) == CURLE_OK &&
	    (found = strstr(body->str, series)) != NULL)
		value = strtol(found + strlen(series), NULL, 10);
	curl_easy_cleanup(curl);
	g_string_free(body, TRUE);
	g_free(url);
	return value;
}

Test(cli, serve_shutdown_timeout_abandons_stalled_request)
{
	const char *args[] = {"--listen", "127.0.0.1:0", "--shutdown-timeout", "1", NULL};
	const char *stalled = "POST /filter HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
			      "{\"Pod\":";
	server_process p = start_serve(args);
	char address[64];
	gint64 deadline, sent_us, exited_us;
	int status = 0;
	int fd;

	read_listen_address(&p, address, sizeof(address));
	wait_for_log(&p, 0, "ready", 10000);
	fd = connect_to(address);
	cr_assert_eq(send(fd, stalled, strlen(stalled), MSG_NOSIGNAL), (ssize_t)strlen(stalled),
		     "send failed: %s", strerror(errno));
	/* The scrape counts itself, so 2 means the stalled request is in. */
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (requests_in_progress(address) < 2) {
		cr_assert_lt(g_get_monotonic_time(), deadline,
			     "the stalled request never showed up in /metrics");
		g_usleep(10 * 1000); /* polling interval, not synchronization */
	}

	sent_us = g_get_monotonic_time();
	kill(p.pid, SIGTERM);
	wait_for_log(&p, 0, "stopped exit_status=1", 10000);
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid, "waitpid failed");
	exited_us = g_get_monotonic_time();
	test_assert_exit_status(status, 1, "stowage serve after abandoning a request");
	cr_assert_lt(exited_us - sent_us, 5 * G_USEC_PER_SEC,
		     "stopped %" G_GINT64_FORMAT " us after SIGTERM, not about 1 s",
		     exited_us - sent_us);
	cr_assert_not_null(strstr(p.log->str, "requests_abandoned=1"),
			   "the log counts the abandoned request:\n%s", p.log->str);
	close(fd);
	g_spawn_close_pid(p.pid);
	close(p.err_fd);
	g_string_free(p.log, TRUE);
}

static char *copy_tls_fixture(const char *dir, const char *name, const char *as)
{
	const char *fixtures = g_getenv("STOWAGE_FIXTURES");
	char *source = g_build_filename(fixtures != NULL ? fixtures : "tests/fixtures", "tls", name,
					NULL);
	char *target = g_build_filename(dir, as, NULL);
	char *contents = NULL;
	gsize length = 0;

	cr_assert(g_file_get_contents(source, &contents, &length, NULL), "cannot read %s", source);
	cr_assert(g_file_set_contents(target, contents, (gssize)length, NULL), "cannot write %s",
		  target);
	g_free(contents);
	g_free(source);
	return target;
}

Test(cli, serve_sighup_reloads_tls_and_keeps_it_on_error)
{
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *cert = copy_tls_fixture(dir, "server.crt", "tls.crt");
	char *key = copy_tls_fixture(dir, "server.key", "tls.key");
	const char *args[] = {"--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
			      NULL};
	server_process p = start_serve(args);
	size_t at;

	at = wait_for_log(&p, 0, "loaded TLS certificate", 10000);
	at = wait_for_log(&p, at, "ready", 10000);

	/* The rotated pair: SIGHUP loads it. */
	g_free(copy_tls_fixture(dir, "server2.crt", "tls.crt"));
	g_free(copy_tls_fixture(dir, "server2.key", "tls.key"));
	kill(p.pid, SIGHUP);
	at = wait_for_log(&p, at, "reloaded TLS certificate", 10000);
	at = wait_for_log(&p, at, "serial=1002", 10000);

	/* A key that is not PEM: the reload fails, naming the file. */
	cr_assert(g_file_set_contents(key, "not a key\n", -1, NULL), "cannot write %s", key);
	kill(p.pid, SIGHUP);
	at = wait_for_log(&p, at, "reload failed; still serving the previous certificate", 10000);
	wait_for_log(&p, at, key, 10000);

	cr_assert_eq(stop_serve(&p), 0, "serve must exit 0 on SIGTERM");
	g_unlink(cert);
	g_unlink(key);
	g_rmdir(dir);
	g_free(cert);
	g_free(key);
	g_free(dir);
}

Test(cli, serve_rejects_bad_shutdown_timeout)
{
	static const char *const values[] = {"0", "-5", "3601"};

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		const char *args[] = {"serve", "--shutdown-timeout", values[i], NULL};
		test_run_result r = run_stowage(args);

		cr_assert_eq(r.exit_status, 2, "--shutdown-timeout %s: exit status %d", values[i],
			     r.exit_status);
		assert_contains(r.err, "--shutdown-timeout", "stderr");
		test_run_result_release(&r);
	}
}

/* Returns the body of GET /metrics from ADDR:PORT; the caller frees it. */
static char *fetch_metrics(const char *address)
{
	CURL *curl = curl_easy_init();
	GString *body = g_string_new(NULL);
	char *url = g_strdup_printf("http://%s/metrics", address);
	CURLcode code;

	cr_assert_not_null(curl, "curl_easy_init failed");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	code = curl_easy_perform(curl);
	cr_assert_eq(code, CURLE_OK, "GET %s: %s", url, curl_easy_strerror(code));
	curl_easy_cleanup(curl);
	g_free(url);
	return g_string_free(body, FALSE);
}

/* Counts the occurrences of `part` in `text`. */
static size_t count_occurrences(const char *text, const char *part)
{
	size_t count = 0;

	for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part))
		count++;
	return count;
}

Test(cli, serve_policy_reload_logs_once_and_counts)
{
	static const char two_errors[] = "apiVersion: stowage.io/v1alpha1\n"
					 "kind: SchedulingPolicy\n"
					 "metadata: {name: x}\n"
					 "spec:\n  weights: {contention: many, spread: lots}\n";
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *path = write_policy(dir, "policy.yaml", valid_policy);
	const char *args[] = {"--listen", "127.0.0.1:0", "--policy", path, NULL};
	server_process p = start_serve(args);
	char address[64];
	char *failure_line;
	char *metrics;
	size_t failed_at;
	size_t at;

	read_listen_address(&p, address, sizeof(address));
	at = wait_for_log(&p, 0, "ready", 10000);

	/* SIGHUP with the same file: one line shows that the signal arrived. */
	kill(p.pid, SIGHUP);
	at = wait_for_log(&p, at, "policy unchanged", 10000);
	at = wait_for_log(&p, at, "trigger=SIGHUP", 1000);

	/* A broken file: one error line that lists both errors. */
	g_free(write_policy(dir, "policy.yaml", two_errors));
	failed_at = wait_for_log(&p, at, "reload failed; keeping the running policy", 10000);
	at = wait_for_log(&p, failed_at, "\n", 1000);
	failure_line = g_strndup(p.log->str + failed_at, at - failed_at);
	cr_assert_eq(count_occurrences(p.log->str, "invalid policy"), 0,
		     "expected no separate \"invalid policy\" lines:\n%s", p.log->str);
	assert_contains(failure_line, "policy.yaml:5:25: spec.weights.contention", "failure line");
	assert_contains(failure_line, "policy.yaml:5:39: spec.weights.spread", "failure line");
	g_free(failure_line);

	metrics = fetch_metrics(address);
	assert_contains(metrics, "stowage_policy_reloads_total{result=\"success\"} 1\n", "metrics");
	assert_contains(metrics, "stowage_policy_reloads_total{result=\"unchanged\"} 1\n", "metrics");
	assert_contains(metrics, "stowage_policy_reloads_total{result=\"failure\"} ", "metrics");
	cr_assert_null(strstr(metrics, "stowage_policy_reloads_total{result=\"failure\"} 0\n"),
		       "expected at least one failure counted:\n%s", metrics);
	assert_contains(metrics, "stowage_policy_info{name=\"first\",digest=\"", "metrics");
	g_free(metrics);

	cr_assert_eq(stop_serve(&p), 0, "serve must exit 0 on SIGTERM");
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(cli, serve_broken_policy_logs_once_at_start)
{
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *path = write_policy(dir, "policy.yaml",
				  "apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\n"
				  "metadata: {name: x}\nspec:\n  weights: {contention: many}\n");
	const char *args[] = {"serve", "--listen", "127.0.0.1:0", "--policy", path, NULL};
	test_run_result r = run_stowage(args);

	cr_assert_eq(r.exit_status, 1, "exit status %d", r.exit_status);
	cr_assert_eq(count_occurrences(r.err, "policy.yaml:5:"), 2,
		     "expected the error twice on one line (error and errors):\n%s", r.err);
	cr_assert_eq(count_occurrences(r.err, "\n"), 2,
		     "expected 2 lines (starting, failed to load):\n%s", r.err);
	cr_assert_eq(count_occurrences(r.err, "invalid policy"), 0,
		     "expected no separate \"invalid policy\" line:\n%s", r.err);
	test_run_result_release(&r);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(cli, serve_cluster_file_logs_counts_and_warnings)
{
	/* One file that `stowage sim run` reads too: a Deployment at the top
	 * level is skipped, not an error. */
	static const char cluster_text[] =
		"apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
		"status: {allocatable: {cpu: '4', memory: 8Gi}, conditions: [{type: Ready, status: 'True'}]}\n"
		"---\n"
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
		"---\n"
		"apiVersion: v1\nkind: List\nitems:\n"
		"- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}\n"
		"- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy,"
		" metadata: {name: np, namespace: shop}, spec: {podSelector: {}}}\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: s, namespace: shop}}\n"
		"- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n";
	char *dir = g_dir_make_tmp("stowage-cli-XXXXXX", NULL);
	char *path = write_policy(dir, "cluster.yaml", cluster_text);
	const char *args[] = {"--listen", "127.0.0.1:0", "--cluster", path, NULL};
	server_process p = start_serve(args);
	size_t at;

	at = wait_for_log(&p, 0, "warning=\"", 10000);
	wait_for_log(&p, at, "cluster.yaml:1: node n1 has no status.allocatable.pods", 10000);
	wait_for_log(&p, 0, "loaded the cluster", 10000);
	wait_for_log(&p, 0,
		     "nodes=1 pods=0 namespaces=1 network_policies=1 services=1 skipped_objects=2",
		     10000);
	wait_for_log(&p, 0, "ready", 10000);
	cr_assert_eq(stop_serve(&p), 0, "serve must exit 0 on SIGTERM");
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(cli, serve_logs_and_ignores_sigusr)
{
	const char *args[] = {"--listen", "127.0.0.1:0", NULL};
	server_process p = start_serve(args);
	size_t at;

	at = wait_for_log(&p, 0, "ready", 10000);
	kill(p.pid, SIGUSR1);
	at = wait_for_log(&p, at, "ignoring signal signal=SIGUSR1", 10000);
	kill(p.pid, SIGUSR2);
	wait_for_log(&p, at, "ignoring signal signal=SIGUSR2", 10000);

	cr_assert_eq(stop_serve(&p), 0, "serve must still exit 0 on SIGTERM");
}
