/* Test support for the informer's integration tests: starts the test API
 * server (tests/tools/apiserver.c) as a child process on 127.0.0.1, sends
 * it control requests, and waits for conditions with a deadline.
 *
 * Header-only, because the Makefile links each tests/test_*.c alone into
 * its own binary as well as all of them into one. Every function is static
 * and marked unused, so a test file includes only what it calls.
 *
 * The tool is found in $STOWAGE_TEST_TOOLS, else in tools/ beside the test
 * binary (build/<mode>/tests/tools/), which `make build/<mode>/tests/tools/apiserver`
 * builds. Fixtures come from $STOWAGE_FIXTURES, else tests/fixtures.
 */
#ifndef STOWAGE_TESTS_INF_APISERVER_H
#define STOWAGE_TESTS_INF_APISERVER_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>

typedef struct test_apiserver {
	GPid pid;
	int stdin_fd;
	unsigned port;
	char url[64]; /* "http://127.0.0.1:PORT" or https:// */
} test_apiserver;

G_GNUC_UNUSED static char *test_fixture_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	return g_build_filename(dir != NULL ? dir : "tests/fixtures", name, NULL);
}

G_GNUC_UNUSED static char *test_tool_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_TEST_TOOLS");
	char *self, *self_dir, *path;

	if (dir != NULL)
		return g_build_filename(dir, name, NULL);
	self = g_file_read_link("/proc/self/exe", NULL);
	cr_assert_not_null(self, "cannot read /proc/self/exe to find the test tools");
	self_dir = g_path_get_dirname(self);
	path = g_build_filename(self_dir, "tools", name, NULL);
	g_free(self_dir);
	g_free(self);
	return path;
}

/* Starts the test API server with `fixture` (a file under the fixtures
 * directory, or NULL for an empty server), when not NULL a required bearer
 * `token`, and with `tls` HTTPS with the certificate in informer/tls/
 * (valid for the name kubernetes.default only). Fails the test when the
 * server does not start. */
G_GNUC_UNUSED static void test_apiserver_start_with(test_apiserver *server,
						    const char *fixture,
						    const char *token, bool tls)
{
	char *tool = test_tool_path("apiserver");
	char *fixture_path = fixture != NULL ? test_fixture_path(fixture) : NULL;
	char *cert = test_fixture_path("informer/tls/server.crt");
	char *key = test_fixture_path("informer/tls/server.key");
	const char *argv[12];
	int argc = 0, stdout_fd = -1;
	GError *error = NULL;
	char line[64] = "";
	FILE *out;

	cr_assert(g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE),
		  "test API server %s is missing: build it with make %s", tool,
		  "build/release/tests/tools/apiserver");
	argv[argc++] = tool;
	if (fixture_path != NULL) {
		argv[argc++] = "--fixture";
		argv[argc++] = fixture_path;
	}
	if (token != NULL) {
		argv[argc++] = "--token";
		argv[argc++] = token;
	}
	if (tls) {
		argv[argc++] = "--tls-cert";
		argv[argc++] = cert;
		argv[argc++] = "--tls-key";
		argv[argc++] = key;
	}
	argv[argc] = NULL;

	memset(server, 0, sizeof(*server));
	cr_assert(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
					   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
					   &server->pid, &server->stdin_fd,
					   &stdout_fd, NULL, &error),
		  "cannot start %s: %s", tool, error != NULL ? error->message : "");
	out = fdopen(stdout_fd, "r");
	cr_assert_not_null(out, "fdopen failed: %s", strerror(errno));
	cr_assert_not_null(fgets(line, sizeof(line), out),
			   "test API server %s exited before printing its port", tool);
	fclose(out);
	server->port = (unsigned)strtoul(line, NULL, 10);
	cr_assert(server->port > 0 && server->port < 65536,
		  "test API server printed %s, expected a port", line);
	g_snprintf(server->url, sizeof(server->url), "%s://127.0.0.1:%u",
		   tls ? "https" : "http", server->port);
	g_free(cert);
	g_free(key);
	g_free(fixture_path);
	g_free(tool);
}

/* Starts the server over HTTP; see test_apiserver_start_with(). */
G_GNUC_UNUSED static void test_apiserver_start(test_apiserver *server,
					       const char *fixture,
					       const char *token)
{
	test_apiserver_start_with(server, fixture, token, false);
}

/* Stops the server by closing its standard input and checks that it
 * exited with status 0 (a sanitizer report makes it exit non-zero). */
G_GNUC_UNUSED static void test_apiserver_stop(test_apiserver *server)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	int status = 0;
	pid_t done = 0;

	if (server->pid == 0)
		return;
	close(server->stdin_fd);
	while (done == 0 && g_get_monotonic_time() < deadline) {
		done = waitpid(server->pid, &status, WNOHANG);
		if (done == 0)
			g_usleep(10 * 1000);
	}
	if (done == 0) {
		kill(server->pid, SIGKILL);
		waitpid(server->pid, &status, 0);
	}
	g_spawn_close_pid(server->pid);
	server->pid = 0;
	cr_assert(done != 0, "test API server did not stop within 10 s");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "test API server exited with status %d", status);
}

/* ---- HTTP from the tests ------------------------------------------------- */

typedef struct test_response {
	long status;        /* HTTP status, 0 when no response came */
	CURLcode result;
	GString *body;
	long retry_after;   /* seconds, -1 when absent */
	unsigned max_lines; /* stop reading after this many lines; 0: all */
} test_response;

G_GNUC_UNUSED static size_t test_collect(char *data, size_t size, size_t n, void *user)
{
	test_response *response = user;
	const char *newline;
	unsigned lines = 0;

	g_string_append_len(response->body, data, (gssize)(size * n));
	if (response->max_lines == 0)
		return size * n;
	for (const char *p = response->body->str;
	     (newline = strchr(p, '\n')) != NULL; p = newline + 1)
		lines++;
	/* Returning less than given aborts the transfer. */
	return lines >= response->max_lines ? 0 : size * n;
}

/* Sends one request to `url` and fills `response`; free its body with
 * test_response_release(). A watch may pass max_lines to stop early. */
G_GNUC_UNUSED static void test_http(const char *method, const char *url,
				    const char *body, unsigned max_lines,
				    test_response *response)
{
	CURL *curl = curl_easy_init();
	curl_off_t retry_after = -1;

	cr_assert_not_null(curl, "curl_easy_init failed");
	memset(response, 0, sizeof(*response));
	response->body = g_string_new(NULL);
	response->max_lines = max_lines;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	/* The test server's certificate names kubernetes.default only; the
	 * tests' own requests go to 127.0.0.1 and need no verification. */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, test_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
	if (body != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	response->result = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
	curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
	response->retry_after = retry_after > 0 ? (long)retry_after : -1;
	curl_easy_cleanup(curl);
}

G_GNUC_UNUSED static void test_response_release(test_response *response)
{
	if (response->body != NULL)
		g_string_free(response->body, true);
	response->body = NULL;
}

/* Sends a control request and asserts that it succeeded. */
G_GNUC_UNUSED static void test_control(const test_apiserver *server,
				       const char *path, const char *body)
{
	char *url = g_strconcat(server->url, path, NULL);
	test_response response;

	test_http("POST", url, body != NULL ? body : "", 0, &response);
	cr_assert_eq(response.status, 200,
		     "control request %s failed: HTTP %ld, body %s", path,
		     response.status, response.body->str);
	test_response_release(&response);
	g_free(url);
}

/* Returns the number under stats.group.key (group NULL: stats.key). */
G_GNUC_UNUSED static long test_stat(const test_apiserver *server,
				    const char *group, const char *key)
{
	char *url = g_strconcat(server->url, "/control/stats", NULL);
	test_response response;
	cJSON *stats;
	const cJSON *item;
	long value;

	test_http("GET", url, NULL, 0, &response);
	cr_assert_eq(response.status, 200, "GET /control/stats: HTTP %ld",
		     response.status);
	stats = cJSON_Parse(response.body->str);
	cr_assert_not_null(stats, "stats are not JSON: %s", response.body->str);
	item = group != NULL ? cJSON_GetObjectItemCaseSensitive(stats, group) : stats;
	item = cJSON_GetObjectItemCaseSensitive(item, key);
	if (cJSON_IsString(item))
		value = strtol(item->valuestring, NULL, 10);
	else
		value = cJSON_IsNumber(item) ? (long)item->valuedouble : -1;
	cJSON_Delete(stats);
	test_response_release(&response);
	g_free(url);
	return value;
}

/* Polls `condition` every 5 ms until it holds or `timeout_ms` passes;
 * returns whether it held. */
G_GNUC_UNUSED static bool test_wait_until(bool (*condition)(const void *data),
					  const void *data, int64_t timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

	for (;;) {
		if (condition(data))
			return true;
		if (g_get_monotonic_time() >= deadline)
			return false;
		g_usleep(5 * 1000);
	}
}

#endif
