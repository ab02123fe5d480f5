/* Tests for scheduler/server.c over real HTTP on 127.0.0.1. They cover
 * routing, the verbs, body limits, the read timeout, probes, metrics,
 * concurrency, the URL prefix and graceful stop. They also cover HTTPS with
 * and without client certificates, certificate reload, connection and
 * header limits, and the header timeout against slow clients. Every server
 * listens on an ephemeral port of 127.0.0.1 and is stopped by its test. The
 * certificates come from tests/fixtures/tls. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "scheduler/extender.h"
#include "scheduler/log.h"
#include "scheduler/metrics.h"
#include "scheduler/server.h"

/* Small enough that a test can exceed it cheaply, large enough for every
 * request below. */
#define TEST_MAX_BODY 65536
#define TEST_READ_TIMEOUT_S 1
/* Upper bound for any wait in these tests. */
#define TEST_DEADLINE_S 10

/* A pending pod requesting 1 CPU, in kube-scheduler's ExtenderArgs shape. */
#define TEST_POD                                                              \
	"{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\","       \
	"\"uid\":\"0d6c1f7e-3a2b-4c5d-8e9f-112233445566\"},"                  \
	"\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"pause\","    \
	"\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]," \
	"\"schedulerName\":\"default-scheduler\",\"priority\":0},"            \
	"\"status\":{\"phase\":\"Pending\"}}"

static const char filter_body[] =
	"{\"Pod\":" TEST_POD ",\"Nodes\":null,"
	"\"NodeNames\":[\"node-a\",\"node-b\",\"node-c\"]}";
static const char preempt_body[] =
	"{\"Pod\":" TEST_POD ",\"NodeNameToVictims\":null,"
	"\"NodeNameToMetaVictims\":{\"node-a\":{\"Pods\":[],"
	"\"NumPDBViolations\":0}}}";
static const char bind_body[] =
	"{\"PodName\":\"web-1\",\"PodNamespace\":\"default\","
	"\"PodUID\":\"0d6c1f7e-3a2b-4c5d-8e9f-112233445566\","
	"\"Node\":\"node-a\"}";

/* ---- A server with a three-node cluster --------------------------------- */

typedef struct test_env {
	sched_cluster cluster;
	sched_extender extender;
	sched_metrics *metrics;
	FILE *log_file;
	sched_log *log;
	sched_server *server;
} test_env;

static void add_node(sched_cluster *cluster, const char *name, int64_t cpu_m)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = cpu_m;
	node->allocatable.v[SCORE_RES_MEMORY] = 8LL << 30;
	node->allocatable.v[SCORE_RES_EPHEMERAL_STORAGE] = 50LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	score_model_put_node(cluster->model, node);
}

static void env_start_with(test_env *env, const sched_server_config *config)
{
	score_error err = {0};
	int ret;

	memset(env, 0, sizeof(*env));
	/* Before any client thread: curl_global_init() is not thread-safe. */
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK,
		     "curl_global_init failed");
	sched_cluster_init(&env->cluster);
	add_node(&env->cluster, "node-a", 4000);
	add_node(&env->cluster, "node-b", 8000);
	add_node(&env->cluster, "node-c", 16000);

	env->metrics = sched_metrics_new();
	env->log_file = tmpfile();
	cr_assert_not_null(env->log_file, "tmpfile failed: %s",
			   strerror(errno));
	env->log = sched_log_new(env->log_file, SCHED_LOG_TEXT,
				 SCHED_LOG_DEBUG);
	env->extender.cluster = &env->cluster;
	env->extender.log = env->log;
	env->extender.top_scores = 3;

	ret = sched_server_start(config, &env->extender, env->metrics,
				 env->log, &env->server, &err);
	cr_assert_eq(ret, 0, "server did not start: %s", err.message);
	cr_assert_neq(sched_server_port(env->server), 0,
		      "expected an ephemeral port, got 0");
}

static void test_config(sched_server_config *config)
{
	sched_server_config_init(config);
	config->listen = "127.0.0.1:0";
	config->max_body_bytes = TEST_MAX_BODY;
	config->read_timeout_s = TEST_READ_TIMEOUT_S;
	config->threads = 4;
}

static void env_start(test_env *env)
{
	sched_server_config config;

	test_config(&config);
	env_start_with(env, &config);
}

/* Stops the server and returns everything it logged; the caller frees the
 * text with g_free(). */
static char *env_stop(test_env *env)
{
	GString *text = g_string_new(NULL);
	char buf[4096];
	size_t n;

	sched_server_free(env->server);
	env->server = NULL;

	fflush(env->log_file);
	rewind(env->log_file);
	while ((n = fread(buf, 1, sizeof(buf), env->log_file)) > 0)
		g_string_append_len(text, buf, (gssize)n);
	fclose(env->log_file);

	sched_log_free(env->log);
	sched_metrics_free(env->metrics);
	sched_cluster_release(&env->cluster);
	curl_global_cleanup();
	return g_string_free(text, FALSE);
}

static void env_finish(test_env *env)
{
	g_free(env_stop(env));
}

/* ---- HTTP with libcurl --------------------------------------------------- */

typedef struct http_result {
	long status;
	GString *body;
	GString *headers;
	CURLcode code;
} http_result;

static size_t append_data(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

/* Sends `method` `path` with `body` (NULL for none) and fills `result`;
 * the caller releases it with http_result_release(). */
static void http_send(const test_env *env, const char *method,
		      const char *path, const char *body, size_t body_len,
		      http_result *result)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char *url = g_strdup_printf("http://%s%s",
				    sched_server_address(env->server), path);

	cr_assert_not_null(curl, "curl_easy_init failed");
	memset(result, 0, sizeof(*result));
	result->body = g_string_new(NULL);
	result->headers = g_string_new(NULL);

	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)TEST_DEADLINE_S);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, result->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_data);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, result->headers);

	result->code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->status);

	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	g_free(url);
}

static void http_result_release(http_result *result)
{
	g_string_free(result->body, TRUE);
	g_string_free(result->headers, TRUE);
}

/* Sends and asserts that the transfer itself worked. */
static void http_expect(const test_env *env, const char *method,
			const char *path, const char *body,
			http_result *result)
{
	http_send(env, method, path, body, body != NULL ? strlen(body) : 0,
		  result);
	cr_assert_eq(result->code, CURLE_OK, "%s %s failed: %s", method, path,
		     curl_easy_strerror(result->code));
}

/* Returns the value of response header `name` (case-insensitive), or NULL;
 * the caller frees it with g_free(). */
static char *header_value(const http_result *result, const char *name)
{
	char **lines = g_strsplit(result->headers->str, "\r\n", -1);
	size_t name_len = strlen(name);
	char *value = NULL;

	for (char **line = lines; *line != NULL; line++) {
		if (g_ascii_strncasecmp(*line, name, name_len) == 0 &&
		    (*line)[name_len] == ':') {
			value = g_strstrip(g_strdup(*line + name_len + 1));
			break;
		}
	}
	g_strfreev(lines);
	return value;
}

static void assert_json_content_type(const http_result *result,
				     const char *label)
{
	char *type = header_value(result, "Content-Type");

	cr_assert_not_null(type, "%s: no Content-Type header", label);
	cr_assert_str_eq(type, "application/json",
			 "%s: expected Content-Type application/json, got %s",
			 label, type);
	g_free(type);
}

static cJSON *parse_body(const http_result *result, const char *label)
{
	cJSON *root = cJSON_ParseWithLength(result->body->str,
					    result->body->len);

	cr_assert_not_null(root, "%s: body is not JSON: %s", label,
			   result->body->str);
	return root;
}

/* ---- Raw sockets, for clients that libcurl cannot imitate --------------- */

static int raw_connect(const test_env *env)
{
	struct sockaddr_in addr = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0, "socket failed: %s", strerror(errno));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(sched_server_port(env->server));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0,
		     "connect failed: %s", strerror(errno));
	return fd;
}

static void raw_send(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		cr_assert_gt(n, 0, "send failed: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

/* Reads until the peer closes or `timeout_ms` passes. Returns what was
 * read, and sets `*closed` when the peer closed (EOF or reset). */
static GString *raw_read_until_close(int fd, int timeout_ms, bool *closed)
{
	GString *data = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	*closed = false;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		char buf[4096];
		ssize_t n;

		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			*closed = true;
			break;
		}
		g_string_append_len(data, buf, n);
	}
	return data;
}

/* ---- Tests --------------------------------------------------------------- */

TestSuite(server, .timeout = 60);

Test(server, verbs_answer_200)
{
	static const struct {
		const char *path;
		const char *body;
	} cases[] = {
		{"/filter", filter_body},
		{"/prioritize", filter_body},
		{"/preempt", preempt_body},
		{"/bind", bind_body},
	};
	test_env env;

	env_start(&env);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		http_result r;
		cJSON *root;

		http_expect(&env, "POST", cases[i].path, cases[i].body, &r);
		cr_assert_eq(r.status, 200, "POST %s: expected 200, got %ld: %s",
			     cases[i].path, r.status, r.body->str);
		assert_json_content_type(&r, cases[i].path);
		root = parse_body(&r, cases[i].path);
		if (strcmp(cases[i].path, "/prioritize") == 0)
			cr_assert(cJSON_IsArray(root),
				  "prioritize: expected a HostPriorityList "
				  "array, got %s",
				  r.body->str);
		else
			cr_assert(cJSON_IsObject(root),
				  "%s: expected an object, got %s",
				  cases[i].path, r.body->str);
		if (strcmp(cases[i].path, "/filter") == 0)
			cr_assert(cJSON_IsArray(cJSON_GetObjectItem(
					  root, "NodeNames")),
				  "filter: expected NodeNames, got %s",
				  r.body->str);
		cJSON_Delete(root);
		http_result_release(&r);
	}
	env_finish(&env);
}

Test(server, malformed_body_400)
{
	test_env env;
	http_result r;
	cJSON *root;

	env_start(&env);
	http_expect(&env, "POST", "/filter", "{not json", &r);
	cr_assert_eq(r.status, 400, "expected 400, got %ld", r.status);
	assert_json_content_type(&r, "malformed body");
	root = parse_body(&r, "malformed body");
	cr_assert(cJSON_IsString(cJSON_GetObjectItem(root, "Error")),
		  "expected an Error string, got %s", r.body->str);
	cJSON_Delete(root);
	http_result_release(&r);
	env_finish(&env);
}

Test(server, get_on_verb_405_with_allow)
{
	test_env env;
	http_result r;
	char *allow;

	env_start(&env);
	http_expect(&env, "GET", "/filter", NULL, &r);
	cr_assert_eq(r.status, 405, "expected 405, got %ld", r.status);
	allow = header_value(&r, "Allow");
	cr_assert_not_null(allow, "no Allow header in: %s", r.headers->str);
	cr_assert_str_eq(allow, "POST", "expected Allow: POST, got %s", allow);
	assert_json_content_type(&r, "405");
	g_free(allow);
	http_result_release(&r);

	http_expect(&env, "POST", "/healthz", "{}", &r);
	cr_assert_eq(r.status, 405, "POST /healthz: expected 405, got %ld",
		     r.status);
	allow = header_value(&r, "Allow");
	cr_assert_not_null(allow, "no Allow header on /healthz");
	cr_assert_str_eq(allow, "GET, HEAD", "expected Allow: GET, HEAD, got %s",
			 allow);
	g_free(allow);
	http_result_release(&r);
	env_finish(&env);
}

Test(server, unknown_path_404_lists_verbs)
{
	test_env env;
	http_result r;
	cJSON *root;
	const cJSON *error;

	env_start(&env);
	http_expect(&env, "POST", "/filterx", filter_body, &r);
	cr_assert_eq(r.status, 404, "expected 404, got %ld", r.status);
	assert_json_content_type(&r, "404");
	root = parse_body(&r, "404");
	error = cJSON_GetObjectItem(root, "Error");
	cr_assert(cJSON_IsString(error), "expected Error, got %s",
		  r.body->str);
	cr_assert_not_null(strstr(error->valuestring, "/filterx"),
			   "Error does not name the path: %s",
			   error->valuestring);
	cr_assert_not_null(strstr(error->valuestring, "POST /prioritize"),
			   "Error does not list the verbs: %s",
			   error->valuestring);
	cJSON_Delete(root);
	http_result_release(&r);
	env_finish(&env);
}

Test(server, body_over_limit_413_then_serves)
{
	test_env env;
	http_result r;
	size_t big_len = TEST_MAX_BODY + 1;
	char *big = g_malloc(big_len + 1);

	memset(big, ' ', big_len);
	big[big_len] = '\0';
	env_start(&env);

	http_send(&env, "POST", "/filter", big, big_len, &r);
	cr_assert_eq(r.code, CURLE_OK, "oversized POST failed: %s",
		     curl_easy_strerror(r.code));
	cr_assert_eq(r.status, 413, "expected 413, got %ld", r.status);
	assert_json_content_type(&r, "413");
	http_result_release(&r);

	/* A body of exactly the limit is accepted (and is not JSON). */
	http_send(&env, "POST", "/filter", big, big_len - 1, &r);
	cr_assert_eq(r.status, 400,
		     "body at the limit: expected 400 from the extender, "
		     "got %ld",
		     r.status);
	http_result_release(&r);

	http_expect(&env, "POST", "/filter", filter_body, &r);
	cr_assert_eq(r.status, 200, "after 413: expected 200, got %ld",
		     r.status);
	http_result_release(&r);

	g_free(big);
	env_finish(&env);
}

Test(server, content_length_over_limit_rejected_before_body)
{
	test_env env;
	int fd;
	GString *reply;
	bool closed;
	const char *request = "POST /filter HTTP/1.1\r\n"
			      "Host: 127.0.0.1\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 1000000000\r\n\r\n";

	env_start(&env);
	fd = raw_connect(&env);
	/* Headers only: the server must respond without waiting for 1 GB. */
	raw_send(fd, request, strlen(request));
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 413"),
		  "expected an immediate 413, got \"%.80s\"", reply->str);
	cr_assert(closed, "expected the connection closed after 413");
	g_string_free(reply, TRUE);
	close(fd);
	env_finish(&env);
}

#define CHUNKED_BODY_BYTES (16 * 1024 * 1024)

/* libcurl read callback: `left` bytes of spaces. */
static size_t read_spaces(char *buf, size_t size, size_t n, void *user)
{
	size_t *left = user;
	size_t count = MIN(size * n, *left);

	memset(buf, ' ', count);
	*left -= count;
	return count;
}

Test(server, chunked_body_over_limit_closed_then_serves)
{
	test_env env;
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	/* More than the loopback socket buffers hold, so that the client
	 * notices the server stopped reading. */
	size_t left = CHUNKED_BODY_BYTES;
	char *url;
	CURLcode code;
	long status = 0;
	http_result r;
	char *log;

	env_start(&env);
	url = g_strdup_printf("http://%s/filter",
			      sched_server_address(env.server));
	headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_spaces);
	curl_easy_setopt(curl, CURLOPT_READDATA, &left);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)TEST_DEADLINE_S);
	code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

	cr_log_info("chunked upload: curl %d (%s), HTTP %ld, %zu bytes unsent",
		    code, curl_easy_strerror(code), status, left);
	cr_assert(code != CURLE_OK || status == 413,
		  "expected the upload cut off or 413, got curl %d, HTTP %ld",
		  code, status);
	cr_assert_gt(left, 0,
		     "expected the server to stop reading before the end of "
		     "the %d-byte body",
		     CHUNKED_BODY_BYTES);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	g_free(url);

	http_expect(&env, "POST", "/filter", filter_body, &r);
	cr_assert_eq(r.status, 200, "after the cut: expected 200, got %ld",
		     r.status);
	http_result_release(&r);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "chunked request body over the limit"),
			   "expected a warning in the log, got:\n%s", log);
	g_free(log);
}

Test(server, stalled_client_dropped_others_served)
{
	test_env env;
	int fd;
	GString *reply;
	bool closed = false;
	http_result r;
	gint64 start_us;
	gint64 served_us;
	gint64 dropped_us;
	char *log;
	const char *request = "POST /filter HTTP/1.1\r\n"
			      "Host: 127.0.0.1\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 1000\r\n\r\n"
			      "{\"Pod\":{\"metadata\":{\"name\":\"half";

	env_start(&env);
	fd = raw_connect(&env);
	raw_send(fd, request, strlen(request));
	start_us = g_get_monotonic_time();

	/* Another client is served while the first one stalls. */
	http_expect(&env, "POST", "/filter", filter_body, &r);
	served_us = g_get_monotonic_time() - start_us;
	cr_assert_eq(r.status, 200, "expected 200 while a client stalls, "
				    "got %ld",
		     r.status);
	cr_assert_lt(served_us, TEST_READ_TIMEOUT_S * G_USEC_PER_SEC,
		     "the other client waited %" G_GINT64_FORMAT " us, not "
		     "less than the read timeout",
		     served_us);
	http_result_release(&r);

	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	dropped_us = g_get_monotonic_time() - start_us;
	cr_assert(closed, "stalled connection still open after %d s",
		  TEST_DEADLINE_S);
	cr_assert_geq(dropped_us, TEST_READ_TIMEOUT_S * G_USEC_PER_SEC / 2,
		      "connection closed after %" G_GINT64_FORMAT " us, "
		      "before the read timeout",
		      dropped_us);
	cr_assert_eq(reply->len, 0,
		     "expected no response to a stalled request, got "
		     "\"%.80s\"",
		     reply->str);
	g_string_free(reply, TRUE);
	close(fd);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "no data within the read timeout"),
			   "expected a timeout warning in the log, got:\n%s",
			   log);
	g_free(log);
}

Test(server, healthz_and_readyz)
{
	test_env env;
	http_result r;

	env_start(&env);
	http_expect(&env, "GET", "/healthz", NULL, &r);
	cr_assert_eq(r.status, 200, "healthz: expected 200, got %ld",
		     r.status);
	assert_json_content_type(&r, "healthz");
	http_result_release(&r);

	cr_assert_not(sched_server_ready(env.server),
		      "a new server reports ready");
	http_expect(&env, "GET", "/readyz", NULL, &r);
	cr_assert_eq(r.status, 503, "readyz before ready: expected 503, got %ld",
		     r.status);
	http_result_release(&r);

	sched_server_set_ready(env.server, true);
	http_expect(&env, "GET", "/readyz", NULL, &r);
	cr_assert_eq(r.status, 200, "readyz after ready: expected 200, got %ld",
		     r.status);
	http_result_release(&r);

	http_expect(&env, "HEAD", "/readyz", NULL, &r);
	cr_assert_eq(r.status, 200, "HEAD readyz: expected 200, got %ld",
		     r.status);
	http_result_release(&r);
	env_finish(&env);
}

/* Asserts that `text` has a line that is exactly `line`. */
static void assert_has_line(const char *text, const char *line)
{
	char *needle = g_strdup_printf("\n%s\n", line);

	cr_assert_not_null(strstr(text, needle),
			   "expected the line \"%s\" in:\n%s", line, text);
	g_free(needle);
}

Test(server, metrics_count_requests)
{
	test_env env;
	http_result r;
	char *type;

	env_start(&env);
	for (int i = 0; i < 2; i++) {
		http_expect(&env, "POST", "/filter", filter_body, &r);
		http_result_release(&r);
	}
	http_expect(&env, "POST", "/prioritize", "[]", &r);
	http_result_release(&r);
	http_expect(&env, "GET", "/filter", NULL, &r);
	http_result_release(&r);
	http_expect(&env, "POST", "/bind", bind_body, &r);
	http_result_release(&r);

	http_expect(&env, "GET", "/metrics", NULL, &r);
	cr_assert_eq(r.status, 200, "metrics: expected 200, got %ld",
		     r.status);
	type = header_value(&r, "Content-Type");
	cr_assert_str_eq(type, SCHED_METRICS_CONTENT_TYPE,
			 "expected the Prometheus text type, got %s", type);
	g_free(type);

	assert_has_line(r.body->str, "# TYPE stowage_extender_requests_total "
				     "counter");
	assert_has_line(r.body->str, "stowage_extender_requests_total{verb="
				     "\"filter\",code=\"200\"} 2");
	assert_has_line(r.body->str, "stowage_extender_requests_total{verb="
				     "\"filter\",code=\"405\"} 1");
	assert_has_line(r.body->str, "stowage_extender_requests_total{verb="
				     "\"prioritize\",code=\"400\"} 1");
	assert_has_line(r.body->str, "stowage_extender_errors_total{verb="
				     "\"filter\",kind=\"method_not_allowed\"} "
				     "1");
	assert_has_line(r.body->str, "stowage_extender_errors_total{verb="
				     "\"bind\",kind=\"bind\"} 1");
	assert_has_line(r.body->str, "# TYPE stowage_extender_request_"
				     "duration_seconds histogram");
	assert_has_line(r.body->str, "stowage_extender_request_duration_"
				     "seconds_count{verb=\"filter\"} 3");
	assert_has_line(r.body->str, "stowage_extender_request_duration_"
				     "seconds_bucket{verb=\"filter\","
				     "le=\"+Inf\"} 3");
	assert_has_line(r.body->str, "stowage_model_nodes 3");
	assert_has_line(r.body->str, "stowage_model_pods 0");
	cr_assert_not_null(strstr(r.body->str, "stowage_build_info{version="),
			   "no build info in:\n%s", r.body->str);
	cr_assert_not_null(strstr(r.body->str, "\nprocess_start_time_seconds "),
			   "no start time in:\n%s", r.body->str);
	http_result_release(&r);
	env_finish(&env);
}

#define CLIENT_THREADS 4
#define REQUESTS_PER_THREAD 25

typedef struct client_run {
	const test_env *env;
	int ok;
	long last_status;
} client_run;

static gpointer run_client(gpointer data)
{
	client_run *run = data;

	for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
		http_result r;

		http_send(run->env, "POST",
			  i % 2 == 0 ? "/filter" : "/prioritize", filter_body,
			  strlen(filter_body), &r);
		run->last_status = r.status;
		if (r.code == CURLE_OK && r.status == 200)
			run->ok++;
		http_result_release(&r);
	}
	return NULL;
}

Test(server, concurrent_clients_all_served)
{
	test_env env;
	GThread *threads[CLIENT_THREADS];
	client_run runs[CLIENT_THREADS];

	env_start(&env);
	for (int t = 0; t < CLIENT_THREADS; t++) {
		runs[t] = (client_run){.env = &env};
		threads[t] = g_thread_new("client", run_client, &runs[t]);
	}
	for (int t = 0; t < CLIENT_THREADS; t++)
		g_thread_join(threads[t]);
	for (int t = 0; t < CLIENT_THREADS; t++)
		cr_assert_eq(runs[t].ok, REQUESTS_PER_THREAD,
			     "client %d: expected %d responses of 200, got %d "
			     "(last status %ld)",
			     t, REQUESTS_PER_THREAD, runs[t].ok,
			     runs[t].last_status);
	env_finish(&env);
}

Test(server, url_prefix_routes)
{
	test_env env;
	sched_server_config config;
	http_result r;

	test_config(&config);
	config.url_prefix = "/ext/";
	env_start_with(&env, &config);
	cr_assert_str_eq(sched_server_url_prefix(env.server), "/ext",
			 "expected the prefix normalized to /ext, got %s",
			 sched_server_url_prefix(env.server));

	http_expect(&env, "POST", "/ext/filter", filter_body, &r);
	cr_assert_eq(r.status, 200, "POST /ext/filter: expected 200, got %ld",
		     r.status);
	http_result_release(&r);

	http_expect(&env, "POST", "/filter", filter_body, &r);
	cr_assert_eq(r.status, 404, "POST /filter outside the prefix: "
				    "expected 404, got %ld",
		     r.status);
	cr_assert_not_null(strstr(r.body->str, "POST /ext/filter"),
			   "404 does not list the prefixed verbs: %s",
			   r.body->str);
	http_result_release(&r);

	http_expect(&env, "POST", "/ext", filter_body, &r);
	cr_assert_eq(r.status, 404, "POST /ext: expected 404, got %ld",
		     r.status);
	http_result_release(&r);

	http_expect(&env, "GET", "/healthz", NULL, &r);
	cr_assert_eq(r.status, 200, "/healthz stays at the root: expected "
				    "200, got %ld",
		     r.status);
	http_result_release(&r);
	env_finish(&env);
}

typedef struct stop_run {
	sched_server *server;
	gint64 returned_us;
} stop_run;

static gpointer run_stop(gpointer data)
{
	stop_run *run = data;

	sched_server_stop(run->server);
	run->returned_us = g_get_monotonic_time();
	return NULL;
}

/* Returns true once a connection to `port` is refused, trying for at most
 * TEST_DEADLINE_S seconds. */
static bool await_refused(uint16_t port)
{
	gint64 deadline = g_get_monotonic_time() +
			  TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		struct sockaddr_in addr = {0};
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ret;

		addr.sin_family = AF_INET;
		addr.sin_port = htons(port);
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
		close(fd);
		if (ret < 0 && errno == ECONNREFUSED)
			return true;
		g_usleep(1000); /* polling interval, not synchronization */
	}
	return false;
}

/* Waits until the server has `count` requests in progress, for at most
 * TEST_DEADLINE_S. */
static bool await_requests_in_progress(const test_env *env, unsigned count)
{
	gint64 deadline = g_get_monotonic_time() +
			  TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (sched_server_requests_in_progress(env->server) != count) {
		if (g_get_monotonic_time() >= deadline)
			return false;
		g_usleep(1000); /* polling interval, not synchronization */
	}
	return true;
}

Test(server, stop_finishes_request_in_progress)
{
	test_env env;
	stop_run run = {0};
	GThread *stopper;
	GString *reply;
	bool closed;
	int fd;
	char *head;
	char *request;
	size_t half = strlen(filter_body) / 2;
	char *log;

	env_start(&env);
	run.server = env.server;
	head = g_strdup_printf("POST /filter HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			       "Content-Type: application/json\r\n"
			       "Content-Length: %zu\r\n\r\n",
			       strlen(filter_body));
	request = g_strconcat(head, filter_body, NULL);

	fd = raw_connect(&env);
	raw_send(fd, request, strlen(head) + half);
	/* Stop only once the server has the request, or it has nothing to
	 * wait for. */
	cr_assert(await_requests_in_progress(&env, 1),
		  "the server did not start the request within %d s",
		  TEST_DEADLINE_S);
	stopper = g_thread_new("stopper", run_stop, &run);

	cr_assert(await_refused(sched_server_port(env.server)),
		  "new connections still accepted after stop began");
	cr_assert_eq(run.returned_us, 0,
		     "stop returned while a request was in progress");

	raw_send(fd, request + strlen(head) + half,
		 strlen(filter_body) - half);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 200"),
		  "expected a 200 response to the request in progress, got "
		  "\"%.80s\"",
		  reply->str);
	cr_assert(strstr(reply->str, "Connection: close") != NULL ||
			  strstr(reply->str, "connection: close") != NULL,
		  "expected Connection: close while stopping, got \"%s\"",
		  reply->str);
	g_thread_join(stopper);
	cr_assert_neq(run.returned_us, 0, "stop did not return");

	g_string_free(reply, TRUE);
	close(fd);
	g_free(head);
	g_free(request);
	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "http: stopped"),
			   "expected the stop logged, got:\n%s", log);
	g_free(log);
}

Test(server, listen_ipv6_loopback)
{
	test_env env;
	sched_server_config config;
	score_error err = {0};
	sched_server *probe = NULL;
	sched_extender extender = {0};
	http_result r;

	/* Skip where the kernel has no IPv6 loopback. */
	test_config(&config);
	config.listen = "[::1]:0";
	if (sched_server_start(&config, &extender, NULL, NULL, &probe,
			       &err) < 0)
		cr_skip_test("no IPv6 loopback here: %s", err.message);
	sched_server_free(probe);

	env_start_with(&env, &config);
	cr_assert(g_str_has_prefix(sched_server_address(env.server), "[::1]:"),
		  "expected a [::1] address, got %s",
		  sched_server_address(env.server));
	http_expect(&env, "POST", "/filter", filter_body, &r);
	cr_assert_eq(r.status, 200, "filter over IPv6: expected 200, got %ld",
		     r.status);
	http_result_release(&r);
	env_finish(&env);
}

Test(server, start_fails_on_port_in_use)
{
	test_env env;
	sched_server_config config;
	sched_extender extender = {0};
	sched_server *second = NULL;
	score_error err = {0};
	char *listen;
	int ret;

	env_start(&env);
	listen = g_strdup_printf("127.0.0.1:%u", sched_server_port(env.server));
	test_config(&config);
	config.listen = listen;
	ret = sched_server_start(&config, &extender, NULL, NULL, &second,
				 &err);
	cr_assert_lt(ret, 0, "second server on a used port started");
	cr_assert_null(second, "failed start returned a server");
	cr_assert_not_null(strstr(err.message, listen),
			   "error does not name the address: %s", err.message);
	g_free(listen);
	env_finish(&env);
}

Test(server, parse_listen_addresses)
{
	static const struct {
		const char *text;
		int family;
		uint16_t port;
	} good[] = {
		{"127.0.0.1:8888", AF_INET, 8888},
		{"0.0.0.0:0", AF_INET, 0},
		{"[::1]:65535", AF_INET6, 65535},
		{"[::]:80", AF_INET6, 80},
	};
	static const char *const bad[] = {
		"",           "127.0.0.1",  "127.0.0.1:",    ":8888",
		"localhost:8888", "::1:8888", "[::1]8888",   "[::1]:",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o", "1.2.3:80",
		"[127.0.0.1]:80",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		struct sockaddr_storage addr;
		socklen_t len = 0;
		score_error err = {0};
		uint16_t port;
		int ret;

		ret = sched_server_parse_listen(good[i].text, &addr, &len,
						&err);
		cr_assert_eq(ret, 0, "%s: expected success, got %d: %s",
			     good[i].text, ret, err.message);
		cr_assert_eq(addr.ss_family, good[i].family,
			     "%s: expected family %d, got %d", good[i].text,
			     good[i].family, addr.ss_family);
		port = addr.ss_family == AF_INET
			       ? ntohs(((struct sockaddr_in *)&addr)->sin_port)
			       : ntohs(((struct sockaddr_in6 *)&addr)
					       ->sin6_port);
		cr_assert_eq(port, good[i].port, "%s: expected port %u, got %u",
			     good[i].text, good[i].port, port);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct sockaddr_storage addr;
		socklen_t len = 0;
		score_error err = {0};
		int ret;

		ret = sched_server_parse_listen(bad[i], &addr, &len, &err);
		cr_assert_eq(ret, -EINVAL, "\"%s\": expected -EINVAL, got %d",
			     bad[i], ret);
		cr_assert_neq(err.message[0], '\0', "\"%s\": no message",
			      bad[i]);
	}
}

Test(server, normalize_prefix)
{
	static const struct {
		const char *text;
		const char *expected;
	} good[] = {
		{NULL, ""},   {"", ""},         {"/", ""},
		{"/ext", "/ext"}, {"/ext/", "/ext"}, {"/a/b//", "/a/b"},
	};
	static const char *const bad[] = {"ext", "/a b", "/a?b", "/a#b",
					  "/a\nb"};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		char *out = NULL;
		int ret = sched_server_normalize_prefix(good[i].text, &out,
							NULL);

		cr_assert_eq(ret, 0, "%s: expected success, got %d",
			     good[i].text != NULL ? good[i].text : "NULL",
			     ret);
		cr_assert_str_eq(out, good[i].expected,
				 "%s: expected \"%s\", got \"%s\"",
				 good[i].text != NULL ? good[i].text : "NULL",
				 good[i].expected, out);
		g_free(out);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *out = NULL;
		score_error err = {0};
		int ret = sched_server_normalize_prefix(bad[i], &out, &err);

		cr_assert_eq(ret, -EINVAL, "\"%s\": expected -EINVAL, got %d",
			     bad[i], ret);
		cr_assert_null(out, "\"%s\": output set on failure", bad[i]);
	}
}

Test(server, rejects_bad_config)
{
	sched_server_config config;
	sched_extender extender = {0};
	sched_server *server = NULL;
	score_error err = {0};
	int ret;

	test_config(&config);
	config.threads = 0;
	ret = sched_server_start(&config, &extender, NULL, NULL, &server,
				 &err);
	cr_assert_eq(ret, -EINVAL, "threads 0: expected -EINVAL, got %d", ret);

	test_config(&config);
	config.max_body_bytes = 0;
	ret = sched_server_start(&config, &extender, NULL, NULL, &server,
				 &err);
	cr_assert_eq(ret, -EINVAL, "max body 0: expected -EINVAL, got %d",
		     ret);

	test_config(&config);
	config.url_prefix = "no-slash";
	ret = sched_server_start(&config, &extender, NULL, NULL, &server,
				 &err);
	cr_assert_eq(ret, -EINVAL, "bad prefix: expected -EINVAL, got %d",
		     ret);
	cr_assert_null(server, "failed start returned a server");
}

/* ---- HTTPS ----------------------------------------------------------------- */

static const char *fixtures_dir(void)
{
	const char *dir = getenv("STOWAGE_FIXTURES");

	return dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures";
}

/* Returns the path of tests/fixtures/tls/NAME; the caller frees it. */
static char *tls_fixture(const char *name)
{
	return g_build_filename(fixtures_dir(), "tls", name, NULL);
}

/* What the test client presents and trusts; NULL fields are left out. */
typedef struct tls_client {
	const char *ca;   /* fixture name of the CA to trust */
	const char *cert; /* fixture name of the client certificate */
	const char *key;
} tls_client;

typedef struct https_result {
	http_result http;
	char serial[64]; /* of the server certificate, lowercase hex */
} https_result;

/* Keeps the hex digits of `text`, lowercased: "10:01" becomes "1001". */
static void normalize_serial(const char *text, char *out, size_t size)
{
	size_t n = 0;

	for (; *text != '\0' && n + 1 < size; text++) {
		if (g_ascii_isxdigit(*text))
			out[n++] = g_ascii_tolower(*text);
	}
	out[n] = '\0';
}

/* Reads the serial of the first certificate the server sent. */
static void read_serial(CURL *curl, char *serial, size_t size)
{
	struct curl_certinfo *info = NULL;

	serial[0] = '\0';
	if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) != CURLE_OK ||
	    info == NULL || info->num_of_certs < 1)
		return;
	for (struct curl_slist *item = info->certinfo[0]; item != NULL;
	     item = item->next) {
		if (g_str_has_prefix(item->data, "Serial Number:")) {
			normalize_serial(item->data + strlen("Serial Number:"),
					 serial, size);
			return;
		}
	}
}

/* Sends GET `path` over HTTPS to the server of `env`. */
static void https_get(const test_env *env, const char *path,
		      const tls_client *client, https_result *result)
{
	CURL *curl = curl_easy_init();
	char *url = g_strdup_printf("https://%s%s",
				    sched_server_address(env->server), path);
	char *ca = client->ca != NULL ? tls_fixture(client->ca) : NULL;
	char *cert = client->cert != NULL ? tls_fixture(client->cert) : NULL;
	char *key = client->key != NULL ? tls_fixture(client->key) : NULL;

	cr_assert_not_null(curl, "curl_easy_init failed");
	memset(result, 0, sizeof(*result));
	result->http.body = g_string_new(NULL);
	result->http.headers = g_string_new(NULL);

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
	if (ca != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
	/* No system CA directory: only the fixture CA may verify. */
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	if (cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, key);
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)TEST_DEADLINE_S);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, result->http.body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_data);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, result->http.headers);

	result->http.code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->http.status);
	read_serial(curl, result->serial, sizeof(result->serial));

	curl_easy_cleanup(curl);
	g_free(url);
	g_free(ca);
	g_free(cert);
	g_free(key);
}

static void tls_config(sched_server_config *config, char **cert, char **key,
		       char **client_ca)
{
	test_config(config);
	*cert = tls_fixture("server.crt");
	*key = tls_fixture("server.key");
	*client_ca = NULL;
	config->tls_cert_file = *cert;
	config->tls_key_file = *key;
}

Test(server, https_with_ca_verifies)
{
	sched_server_config config;
	test_env env;
	https_result r;
	http_result plain;
	char *cert, *key, *client_ca;

	tls_config(&config, &cert, &key, &client_ca);
	env_start_with(&env, &config);
	cr_assert(sched_server_uses_tls(env.server),
		  "server started with a certificate does not use TLS");

	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_eq(r.http.code, CURLE_OK, "HTTPS with the CA failed: %s",
		     curl_easy_strerror(r.http.code));
	cr_assert_eq(r.http.status, 200, "expected 200, got %ld",
		     r.http.status);
	cr_assert_str_eq(r.serial, "1001",
			 "expected the serial of server.crt (1001), got \"%s\"",
			 r.serial);
	http_result_release(&r.http);

	/* Plain HTTP to the HTTPS port gets no HTTP response. */
	http_send(&env, "GET", "/healthz", NULL, 0, &plain);
	cr_assert(plain.code != CURLE_OK || plain.status != 200,
		  "plain HTTP was served on the HTTPS listener");
	http_result_release(&plain);

	env_finish(&env);
	g_free(cert);
	g_free(key);
}

Test(server, https_with_wrong_ca_fails)
{
	sched_server_config config;
	test_env env;
	https_result r;
	char *cert, *key, *client_ca;

	tls_config(&config, &cert, &key, &client_ca);
	env_start_with(&env, &config);
	https_get(&env, "/healthz", &(tls_client){.ca = "other-ca.crt"}, &r);
	cr_assert_eq(r.http.code, CURLE_PEER_FAILED_VERIFICATION,
		     "expected CURLE_PEER_FAILED_VERIFICATION (%d) with "
		     "another CA, got %d (%s)",
		     CURLE_PEER_FAILED_VERIFICATION, r.http.code,
		     curl_easy_strerror(r.http.code));
	cr_assert_eq(r.http.status, 0, "expected no HTTP status, got %ld",
		     r.http.status);
	http_result_release(&r.http);
	env_finish(&env);
	g_free(cert);
	g_free(key);
}

Test(server, mtls_requires_trusted_client_cert)
{
	sched_server_config config;
	test_env env;
	https_result r;
	char *cert, *key, *client_ca;
	char *log;

	tls_config(&config, &cert, &key, &client_ca);
	client_ca = tls_fixture("ca.crt");
	config.client_ca_file = client_ca;
	env_start_with(&env, &config);

	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_neq(r.http.code, CURLE_OK,
		      "a client without a certificate was served (HTTP %ld)",
		      r.http.status);
	cr_assert_eq(r.http.status, 0,
		     "without a client certificate: expected no HTTP status, "
		     "got %ld",
		     r.http.status);
	http_result_release(&r.http);

	https_get(&env, "/healthz",
		  &(tls_client){.ca = "ca.crt",
				.cert = "other-client.crt",
				.key = "other-client.key"},
		  &r);
	cr_assert_neq(r.http.code, CURLE_OK,
		      "a client certificate of another CA was accepted (HTTP "
		      "%ld)",
		      r.http.status);
	cr_assert_eq(r.http.status, 0,
		     "with another CA's client certificate: expected no HTTP "
		     "status, got %ld",
		     r.http.status);
	http_result_release(&r.http);

	https_get(&env, "/healthz",
		  &(tls_client){.ca = "ca.crt",
				.cert = "client.crt",
				.key = "client.key"},
		  &r);
	cr_assert_eq(r.http.code, CURLE_OK,
		     "with the client certificate: expected success, got %s",
		     curl_easy_strerror(r.http.code));
	cr_assert_eq(r.http.status, 200,
		     "with the client certificate: expected 200, got %ld",
		     r.http.status);
	http_result_release(&r.http);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "rejected TLS client certificate"),
			   "expected the rejected certificate logged, got:\n%s",
			   log);
	cr_assert_not_null(strstr(log, "CN=kube-scheduler"),
			   "expected the rejected subject logged, got:\n%s",
			   log);
	g_free(log);
	g_free(cert);
	g_free(key);
	g_free(client_ca);
}

/* Copies fixture `name` to `path` through a new file and rename(), as a
 * Secret volume update replaces files. */
static void install_fixture(const char *name, const char *path)
{
	char *source = tls_fixture(name);
	char *contents = NULL;
	gsize length = 0;
	GError *error = NULL;

	cr_assert(g_file_get_contents(source, &contents, &length, &error),
		  "cannot read %s: %s", source, error->message);
	cr_assert(g_file_set_contents(path, contents, (gssize)length, &error),
		  "cannot write %s: %s", path, error->message);
	g_free(contents);
	g_free(source);
}

/* Reads what the server logged so far without stopping it; the caller
 * frees the text. */
static char *read_log(const test_env *env)
{
	GString *text = g_string_new(NULL);
	char buf[4096];
	size_t n;
	long end;

	fflush(env->log_file);
	end = ftell(env->log_file);
	rewind(env->log_file);
	while ((n = fread(buf, 1, sizeof(buf), env->log_file)) > 0)
		g_string_append_len(text, buf, (gssize)n);
	fseek(env->log_file, end, SEEK_SET);
	return g_string_free(text, FALSE);
}

/* Makes HTTPS requests until the log contains `needle`, for at most
 * TEST_DEADLINE_S: the server checks its certificate files when a
 * connection arrives. */
static bool await_log_connecting(const test_env *env, const char *needle)
{
	gint64 deadline = g_get_monotonic_time() +
			  TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		char *log = read_log(env);
		bool found = strstr(log, needle) != NULL;
		https_result r;

		g_free(log);
		if (found)
			return true;
		https_get(env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
		http_result_release(&r.http);
		g_usleep(50000); /* polling interval, not synchronization */
	}
	return false;
}

/* Connects over HTTPS until the server presents `serial`, for at most
 * TEST_DEADLINE_S; returns the last serial seen (caller frees). */
static char *await_serial(const test_env *env, const char *serial)
{
	gint64 deadline = g_get_monotonic_time() +
			  TEST_DEADLINE_S * G_USEC_PER_SEC;
	char *last = g_strdup("");

	while (g_get_monotonic_time() < deadline) {
		https_result r;

		https_get(env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
		http_result_release(&r.http);
		g_free(last);
		last = g_strdup(r.serial);
		if (strcmp(r.serial, serial) == 0)
			break;
		g_usleep(50000); /* polling interval, not synchronization */
	}
	return last;
}

Test(server, tls_reload_serves_new_certificate)
{
	sched_server_config config;
	test_env env;
	https_result r;
	char *dir = g_dir_make_tmp("stowage-tls-XXXXXX", NULL);
	char *cert = g_build_filename(dir, "tls.crt", NULL);
	char *key = g_build_filename(dir, "tls.key", NULL);
	char *serial;
	char *log;

	cr_assert_not_null(dir, "cannot create a temporary directory");
	install_fixture("server.crt", cert);
	install_fixture("server.key", key);
	test_config(&config);
	config.tls_cert_file = cert;
	config.tls_key_file = key;
	env_start_with(&env, &config);

	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_eq(r.http.status, 200, "before reload: expected 200, got "
					 "%ld (%s)",
		     r.http.status, curl_easy_strerror(r.http.code));
	cr_assert_str_eq(r.serial, "1001",
			 "before reload: expected serial 1001, got \"%s\"",
			 r.serial);
	http_result_release(&r.http);

	/* Half a rotation: the new certificate with the old key. The server
	 * must keep serving the old pair. */
	install_fixture("server2.crt", cert);
	cr_assert(await_log_connecting(&env, "could not be loaded"),
		  "no warning about the mismatched pair within %d s",
		  TEST_DEADLINE_S);
	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_eq(r.http.status, 200,
		     "with a mismatched pair on disk: expected 200, got %ld "
		     "(%s)",
		     r.http.status, curl_easy_strerror(r.http.code));
	cr_assert_str_eq(r.serial, "1001",
			 "with a mismatched pair on disk: expected the old "
			 "serial 1001, got \"%s\"",
			 r.serial);
	http_result_release(&r.http);

	/* The rotation completes. */
	install_fixture("server2.key", key);
	serial = await_serial(&env, "1002");
	cr_assert_str_eq(serial, "1002",
			 "after reload: expected serial 1002 within %d s, got "
			 "\"%s\"",
			 TEST_DEADLINE_S, serial);
	g_free(serial);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "reloaded TLS certificate"),
			   "expected the reload logged, got:\n%s", log);
	g_free(log);
	g_unlink(cert);
	g_unlink(key);
	g_rmdir(dir);
	g_free(cert);
	g_free(key);
	g_free(dir);
}

Test(server, tls_config_errors)
{
	static const struct {
		const char *cert;
		const char *key;
		const char *client_ca;
		const char *expected; /* in the message */
	} cases[] = {
		{"server.crt", NULL, NULL, "--tls-key"},
		{NULL, "server.key", NULL, "--tls-cert"},
		{NULL, NULL, "ca.crt", "--client-ca"},
		{"server.crt", "server2.key", NULL, "does not match"},
		{"missing.crt", "server.key", NULL, "missing.crt"},
		{"server.key", "server.key", NULL, "invalid TLS certificate"},
		{"server.crt", "server.crt", NULL, "invalid TLS private key"},
		{"server.crt", "server.key", "server.key", "client CA"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		sched_server_config config;
		sched_extender extender = {0};
		sched_server *server = NULL;
		score_error err = {0};
		char *cert = cases[i].cert ? tls_fixture(cases[i].cert) : NULL;
		char *key = cases[i].key ? tls_fixture(cases[i].key) : NULL;
		char *ca = cases[i].client_ca ? tls_fixture(cases[i].client_ca)
					      : NULL;
		int ret;

		test_config(&config);
		config.tls_cert_file = cert;
		config.tls_key_file = key;
		config.client_ca_file = ca;
		ret = sched_server_start(&config, &extender, NULL, NULL,
					 &server, &err);
		cr_assert_lt(ret, 0, "case %zu: expected a failure, got %d", i,
			     ret);
		cr_assert_null(server, "case %zu: failed start returned a "
				       "server",
			       i);
		cr_assert_not_null(strstr(err.message, cases[i].expected),
				   "case %zu: expected \"%s\" in the message, "
				   "got: %s",
				   i, cases[i].expected, err.message);
		g_free(cert);
		g_free(key);
		g_free(ca);
	}
}

/* ---- Connection limits ------------------------------------------------------- */

/* Connects to the server from loopback address `source` (e.g.
 * "127.0.0.2"); every address of 127.0.0.0/8 is this host. */
static int raw_connect_from(const test_env *env, const char *source)
{
	struct sockaddr_in local = {0};
	int fd;

	if (source == NULL)
		return raw_connect(env);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0, "socket failed: %s", strerror(errno));
	local.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, source, &local.sin_addr), 1,
		     "bad source address %s", source);
	cr_assert_eq(bind(fd, (struct sockaddr *)&local, sizeof(local)), 0,
		     "bind to %s failed: %s", source, strerror(errno));
	{
		struct sockaddr_in addr = {0};

		addr.sin_family = AF_INET;
		addr.sin_port = htons(sched_server_port(env->server));
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(connect(fd, (struct sockaddr *)&addr,
				     sizeof(addr)),
			     0, "connect from %s failed: %s", source,
			     strerror(errno));
	}
	return fd;
}

static const char keepalive_get[] = "GET /healthz HTTP/1.1\r\n"
				    "Host: 127.0.0.1\r\n\r\n";

/* Reads until `timeout_ms` passes, the peer closes, or a whole response
 * to GET /healthz ({"status":"ok"}) has arrived. */
static GString *raw_read_response(int fd, int timeout_ms, bool *closed)
{
	GString *data = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	*closed = false;
	while (strstr(data->str, "\"status\":\"ok\"}") == NULL) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		char buf[4096];
		ssize_t n;

		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			*closed = true;
			break;
		}
		g_string_append_len(data, buf, n);
	}
	return data;
}

/* Opens a connection from `source` and completes one keep-alive request
 * on it, so that the server has certainly accepted it; returns it open. */
static int open_served_connection(const test_env *env, const char *source)
{
	int fd = raw_connect_from(env, source);
	bool closed;
	GString *reply;

	raw_send(fd, keepalive_get, strlen(keepalive_get));
	reply = raw_read_response(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 200"),
		  "holder connection from %s not served: \"%.80s\"",
		  source != NULL ? source : "127.0.0.1", reply->str);
	g_string_free(reply, TRUE);
	return fd;
}

/* Long enough that neither timeout closes a connection while a test
 * keeps it open. */
#define HOLD_TIMEOUT_S 10
/* How long a test waits to see that a connection is not served. */
#define NOT_SERVED_MS 300

Test(server, connection_limit_holds_extra_client)
{
	sched_server_config config;
	test_env env;
	int holders[4];
	int extra;
	GString *reply;
	bool closed;

	test_config(&config);
	config.threads = 2;
	config.max_connections = 4;
	config.max_connections_per_ip = 0;
	config.read_timeout_s = HOLD_TIMEOUT_S;
	config.header_timeout_s = HOLD_TIMEOUT_S;
	env_start_with(&env, &config);

	for (size_t i = 0; i < G_N_ELEMENTS(holders); i++)
		holders[i] = open_served_connection(&env, NULL);
	cr_assert_eq(sched_server_connections(env.server), 4,
		     "expected 4 open connections, got %u",
		     sched_server_connections(env.server));

	extra = raw_connect(&env);
	raw_send(extra, keepalive_get, strlen(keepalive_get));
	reply = raw_read_response(extra, NOT_SERVED_MS, &closed);
	cr_assert_eq(reply->len, 0,
		     "a fifth connection was answered at the limit of 4: "
		     "\"%.80s\"",
		     reply->str);
	cr_assert_not(closed, "a fifth connection was closed at the limit "
			      "of 4 instead of waiting");
	cr_assert_leq(sched_server_connections(env.server), 4,
		      "expected at most 4 open connections, got %u",
		      sched_server_connections(env.server));
	g_string_free(reply, TRUE);

	/* A slot frees up: the waiting client is served. */
	close(holders[0]);
	reply = raw_read_response(extra, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 200"),
		  "the waiting connection was not served once a slot freed "
		  "up: \"%.80s\"",
		  reply->str);
	g_string_free(reply, TRUE);
	close(extra);
	for (size_t i = 1; i < G_N_ELEMENTS(holders); i++)
		close(holders[i]);
	env_finish(&env);
}

Test(server, per_ip_limit_closes_extra_connection)
{
	sched_server_config config;
	test_env env;
	int holders[2];
	int extra;
	int other;
	GString *reply;
	bool closed;

	test_config(&config);
	config.max_connections_per_ip = 2;
	config.read_timeout_s = HOLD_TIMEOUT_S;
	config.header_timeout_s = HOLD_TIMEOUT_S;
	env_start_with(&env, &config);

	for (size_t i = 0; i < G_N_ELEMENTS(holders); i++)
		holders[i] = open_served_connection(&env, "127.0.0.1");

	extra = raw_connect_from(&env, "127.0.0.1");
	raw_send(extra, keepalive_get, strlen(keepalive_get));
	reply = raw_read_response(extra, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(closed, "a third connection from 127.0.0.1 stayed open at "
			  "a per-IP limit of 2");
	cr_assert_eq(reply->len, 0,
		     "a third connection from 127.0.0.1 was answered: "
		     "\"%.80s\"",
		     reply->str);
	g_string_free(reply, TRUE);
	close(extra);

	/* Another address is not affected. */
	other = open_served_connection(&env, "127.0.0.2");
	close(other);

	for (size_t i = 0; i < G_N_ELEMENTS(holders); i++)
		close(holders[i]);
	env_finish(&env);
}

Test(server, oversized_headers_rejected)
{
	sched_server_config config;
	test_env env;
	GString *request = g_string_new(NULL);
	GString *reply;
	bool closed;
	http_result r;
	int fd;

	test_config(&config);
	config.max_header_bytes = 8192;
	env_start_with(&env, &config);

	g_string_append(request, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				 "X-Padding: ");
	for (int i = 0; i < 16384; i++)
		g_string_append_c(request, 'a');
	g_string_append(request, "\r\n\r\n");

	fd = raw_connect(&env);
	raw_send(fd, request->str, request->len);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 431"),
		  "16 KiB of headers at a limit of 8 KiB: expected 431, got "
		  "\"%.80s\"",
		  reply->str);
	cr_assert(closed, "expected the connection closed after 431");
	g_string_free(reply, TRUE);
	close(fd);

	/* Headers well under the limit still work: kube-scheduler sends
	 * about 200 bytes. */
	g_string_assign(request, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				 "Connection: close\r\nX-Padding: ");
	for (int i = 0; i < 2048; i++)
		g_string_append_c(request, 'a');
	g_string_append(request, "\r\n\r\n");
	fd = raw_connect(&env);
	raw_send(fd, request->str, request->len);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 200"),
		  "2 KiB of headers: expected 200, got \"%.80s\"", reply->str);
	g_string_free(reply, TRUE);
	close(fd);

	http_expect(&env, "POST", "/filter", filter_body, &r);
	cr_assert_eq(r.status, 200, "after 431: expected 200, got %ld",
		     r.status);
	http_result_release(&r);
	g_string_free(request, TRUE);
	env_finish(&env);
}

Test(server, limits_rejected_when_invalid)
{
	static const struct {
		unsigned max_connections;
		unsigned per_ip;
		size_t header_bytes;
		unsigned header_timeout_s;
		const char *expected;
	} cases[] = {
		{2, 0, 32768, 10, "--max-connections 2"},
		{100, 101, 32768, 10, "--max-connections-per-ip 101"},
		{100, 0, 1024, 10, "--max-header-bytes 1024"},
		{100, 0, 32768, 0, "--header-timeout 0"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		sched_server_config config;
		sched_extender extender = {0};
		sched_server *server = NULL;
		score_error err = {0};
		int ret;

		test_config(&config); /* 4 threads */
		config.max_connections = cases[i].max_connections;
		config.max_connections_per_ip = cases[i].per_ip;
		config.max_header_bytes = cases[i].header_bytes;
		config.header_timeout_s = cases[i].header_timeout_s;
		ret = sched_server_start(&config, &extender, NULL, NULL,
					 &server, &err);
		cr_assert_eq(ret, -EINVAL, "case %zu: expected -EINVAL, got %d",
			     i, ret);
		cr_assert_not_null(strstr(err.message, cases[i].expected),
				   "case %zu: expected \"%s\" in: %s", i,
				   cases[i].expected, err.message);
	}
}

/* ---- Slow clients ------------------------------------------------------------ */

/* Waits until the server has released every connection; the client may
 * see a close slightly before the server's thread finishes with it. */
static bool await_no_connections(const test_env *env)
{
	gint64 deadline = g_get_monotonic_time() +
			  TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (sched_server_connections(env->server) > 0) {
		if (g_get_monotonic_time() >= deadline)
			return false;
		g_usleep(5000); /* polling interval, not synchronization */
	}
	return true;
}

#define SLOW_CLIENTS 64
#define SLOW_HEADER_TIMEOUT_S 1
/* One byte per connection this often: ten times faster than the read
 * timeout below, so only the header timeout can close them. */
#define SLOW_BYTE_INTERVAL_MS 100
#define SLOW_READ_TIMEOUT_S 5

/* The slow header: far longer than the header timeout lets through at one
 * byte per interval. */
static const char slow_request[] =
	"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	"\r\n";

typedef struct slow_attack {
	const test_env *env;
	int fds[SLOW_CLIENTS];
	size_t sent[SLOW_CLIENTS];
	gint64 closed_after_us[SLOW_CLIENTS]; /* 0 while open */
	bool answered[SLOW_CLIENTS];
	gint64 start_us;
	unsigned open;
} slow_attack;

/* Checks whether the server closed connection `i` without blocking. */
static void slow_poll(slow_attack *a, size_t i)
{
	char buf[256];
	ssize_t n = recv(a->fds[i], buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		a->answered[i] = true;
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		a->closed_after_us[i] = g_get_monotonic_time() - a->start_us;
		a->open--;
	}
}

/* Sends one more header byte on every open connection each interval until
 * the server has closed all of them or the deadline passes. */
static gpointer run_slow_attack(gpointer data)
{
	slow_attack *a = data;
	gint64 deadline = a->start_us + TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (a->open > 0 && g_get_monotonic_time() < deadline) {
		for (size_t i = 0; i < SLOW_CLIENTS; i++) {
			if (a->closed_after_us[i] != 0)
				continue;
			if (a->sent[i] < sizeof(slow_request) - 1 &&
			    send(a->fds[i], slow_request + a->sent[i], 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				a->sent[i]++;
			slow_poll(a, i);
		}
		g_usleep(SLOW_BYTE_INTERVAL_MS * 1000); /* the attack's pace */
	}
	return NULL;
}

/* Returns the resident set size of this process in KiB. */
static long rss_kib(void)
{
	char *status = NULL;
	const char *line;
	long kib = -1;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	line = strstr(status, "VmRSS:");
	if (line != NULL)
		kib = strtol(line + strlen("VmRSS:"), NULL, 10);
	g_free(status);
	return kib;
}

Test(server, slow_headers_closed_others_served)
{
	sched_server_config config;
	test_env env;
	slow_attack *attack = g_new0(slow_attack, 1);
	GThread *thread;
	long rss_before;
	long rss_during;
	gint64 slowest_us = 0;
	char *log;

	test_config(&config);
	config.max_connections_per_ip = 0;
	config.read_timeout_s = SLOW_READ_TIMEOUT_S;
	config.header_timeout_s = SLOW_HEADER_TIMEOUT_S;
	env_start_with(&env, &config);
	rss_before = rss_kib();

	attack->env = &env;
	attack->start_us = g_get_monotonic_time();
	for (size_t i = 0; i < SLOW_CLIENTS; i++)
		attack->fds[i] = raw_connect(&env);
	attack->open = SLOW_CLIENTS;
	thread = g_thread_new("slowloris", run_slow_attack, attack);

	/* Normal clients keep being served while the slow ones hold their
	 * connections. */
	for (int i = 0; i < 5; i++) {
		gint64 begin = g_get_monotonic_time();
		http_result r;

		http_expect(&env, "POST", "/filter", filter_body, &r);
		cr_assert_eq(r.status, 200,
			     "request %d during the attack: expected 200, got "
			     "%ld",
			     i, r.status);
		http_result_release(&r);
		slowest_us = MAX(slowest_us, g_get_monotonic_time() - begin);
	}
	rss_during = rss_kib();
	g_thread_join(thread);

	cr_assert_lt(slowest_us, G_USEC_PER_SEC / 2,
		     "a normal request took %" G_GINT64_FORMAT " us during "
		     "the attack, expected under 0.5 s",
		     slowest_us);
	cr_assert_eq(attack->open, 0,
		     "%u of %d slow connections still open after %d s",
		     attack->open, SLOW_CLIENTS, TEST_DEADLINE_S);
	for (size_t i = 0; i < SLOW_CLIENTS; i++) {
		cr_assert_not(attack->answered[i],
			      "slow connection %zu got a response", i);
		cr_assert_lt(attack->sent[i], sizeof(slow_request) - 1,
			     "slow connection %zu finished its headers", i);
		cr_assert_geq(attack->closed_after_us[i],
			      SLOW_HEADER_TIMEOUT_S * G_USEC_PER_SEC / 2,
			      "slow connection %zu closed after %" G_GINT64_FORMAT
			      " us, before the header timeout",
			      i, attack->closed_after_us[i]);
		cr_assert_lt(attack->closed_after_us[i],
			     (SLOW_HEADER_TIMEOUT_S + 2) * G_USEC_PER_SEC,
			     "slow connection %zu closed after %" G_GINT64_FORMAT
			     " us, long after the header timeout of %d s",
			     i, attack->closed_after_us[i],
			     SLOW_HEADER_TIMEOUT_S);
		close(attack->fds[i]);
	}
	cr_assert(await_no_connections(&env),
		  "expected every connection released within %d s, %u open",
		  TEST_DEADLINE_S, sched_server_connections(env.server));
	/* Each connection costs at most its 32 KiB memory pool plus
	 * bookkeeping; 16 MiB for 64 leaves room for allocator noise. */
	cr_assert(rss_before < 0 || rss_during - rss_before < 16 * 1024,
		  "resident memory grew by %ld KiB during the attack",
		  rss_during - rss_before);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "did not arrive within the header "
				       "timeout"),
			   "expected the closed connections logged, got:\n%s",
			   log);
	g_free(log);
	g_free(attack);
}

Test(server, stalled_tls_handshake_closed)
{
	sched_server_config config;
	test_env env;
	char *cert, *key, *client_ca;
	GString *reply;
	bool closed;
	gint64 start_us;
	gint64 closed_us;
	int fd;

	tls_config(&config, &cert, &key, &client_ca);
	config.read_timeout_s = SLOW_READ_TIMEOUT_S;
	config.header_timeout_s = SLOW_HEADER_TIMEOUT_S;
	env_start_with(&env, &config);

	/* Connects and sends no ClientHello. */
	fd = raw_connect(&env);
	start_us = g_get_monotonic_time();
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	closed_us = g_get_monotonic_time() - start_us;
	cr_assert(closed, "a connection without a TLS handshake stayed open "
			  "for %d s",
		  TEST_DEADLINE_S);
	cr_assert_lt(closed_us, (SLOW_HEADER_TIMEOUT_S + 2) * G_USEC_PER_SEC,
		     "closed after %" G_GINT64_FORMAT " us, expected about "
		     "the header timeout of %d s",
		     closed_us, SLOW_HEADER_TIMEOUT_S);
	g_string_free(reply, TRUE);
	close(fd);
	env_finish(&env);
	g_free(cert);
	g_free(key);
}

Test(server, idle_keepalive_closed_after_header_timeout)
{
	sched_server_config config;
	test_env env;
	GString *reply;
	bool closed;
	int fd;

	test_config(&config);
	config.read_timeout_s = SLOW_READ_TIMEOUT_S;
	config.header_timeout_s = SLOW_HEADER_TIMEOUT_S;
	env_start_with(&env, &config);

	fd = open_served_connection(&env, NULL);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	cr_assert(closed, "an idle keep-alive connection stayed open for %d "
			  "s",
		  TEST_DEADLINE_S);
	cr_assert_eq(reply->len, 0, "unexpected data: \"%.80s\"", reply->str);
	g_string_free(reply, TRUE);
	close(fd);
	cr_assert(await_no_connections(&env),
		  "expected no open connection within %d s, got %u",
		  TEST_DEADLINE_S, sched_server_connections(env.server));
	env_finish(&env);
}

/* ---- Shutdown timeout and TLS reload on request ------------------------- */

/* How long slow_bind() takes, in ms. */
#define SLOW_BIND_MS 800

static gint slow_bind_started;

/* A bind that takes SLOW_BIND_MS, as one waiting on a slow API server. */
static int slow_bind(void *data, const char *pod_namespace, const char *pod_name,
		     const char *pod_uid, const char *node, score_error *err)
{
	(void)data;
	(void)pod_namespace;
	(void)pod_name;
	(void)pod_uid;
	(void)node;
	(void)err;
	g_atomic_int_set(&slow_bind_started, 1);
	g_usleep(SLOW_BIND_MS * 1000);
	return 0;
}

static bool await_slow_bind(void)
{
	gint64 deadline = g_get_monotonic_time() + TEST_DEADLINE_S * G_USEC_PER_SEC;

	while (!g_atomic_int_get(&slow_bind_started)) {
		if (g_get_monotonic_time() >= deadline)
			return false;
		g_usleep(1000); /* polling interval, not synchronization */
	}
	return true;
}

Test(server, stop_abandons_stalled_request_at_shutdown_timeout)
{
	sched_server_config config;
	test_env env;
	stop_run run = {0};
	GThread *stopper;
	GString *reply;
	bool closed = false;
	gint64 start_us, took_us;
	int fd;
	char *log;
	const char *request = "POST /filter HTTP/1.1\r\n"
			      "Host: 127.0.0.1\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 1000\r\n\r\n"
			      "{\"Pod\":{\"metadata\":{\"name\":\"half";

	/* The read timeout alone would keep the stop waiting for 30 s. */
	test_config(&config);
	config.read_timeout_s = 30;
	config.shutdown_timeout_s = 1;
	env_start_with(&env, &config);
	run.server = env.server;

	fd = raw_connect(&env);
	raw_send(fd, request, strlen(request));
	cr_assert(await_requests_in_progress(&env, 1),
		  "the server did not start the request within %d s", TEST_DEADLINE_S);
	start_us = g_get_monotonic_time();
	stopper = g_thread_new("stopper", run_stop, &run);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	g_thread_join(stopper);
	took_us = run.returned_us - start_us;

	cr_assert(closed, "the stalled connection is closed by the stop");
	cr_assert_eq(reply->len, 0, "no response to the stalled request, got \"%.80s\"",
		     reply->str);
	cr_assert_geq(took_us, G_USEC_PER_SEC * 9 / 10,
		      "stop waited %" G_GINT64_FORMAT " us, less than the shutdown timeout of 1 s",
		      took_us);
	cr_assert_lt(took_us, 3 * G_USEC_PER_SEC,
		     "stop took %" G_GINT64_FORMAT " us, expected about 1 s", took_us);
	cr_assert_eq(sched_server_abandoned_requests(env.server), 1,
		     "one request abandoned, got %u", sched_server_abandoned_requests(env.server));

	g_string_free(reply, TRUE);
	close(fd);
	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "shutdown timeout reached"),
			   "the log says why connections were closed:\n%s", log);
	cr_assert_not_null(strstr(log, "requests_abandoned=1"),
			   "the log counts the abandoned request:\n%s", log);
	g_free(log);
}

Test(server, stop_waits_for_bind_in_flight)
{
	sched_server_config config;
	test_env env;
	stop_run run = {0};
	GThread *stopper;
	GString *reply;
	bool closed = false;
	gint64 start_us;
	char *request;
	int fd;

	test_config(&config);
	config.shutdown_timeout_s = 5;
	env_start_with(&env, &config);
	env.extender.bind = slow_bind;
	g_atomic_int_set(&slow_bind_started, 0);
	run.server = env.server;

	request = g_strdup_printf("POST /bind HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Content-Type: application/json\r\n"
				  "Content-Length: %zu\r\n\r\n%s",
				  strlen(bind_body), bind_body);
	fd = raw_connect(&env);
	raw_send(fd, request, strlen(request));
	cr_assert(await_slow_bind(), "the bind did not start within %d s", TEST_DEADLINE_S);
	start_us = g_get_monotonic_time();
	stopper = g_thread_new("stopper", run_stop, &run);
	reply = raw_read_until_close(fd, TEST_DEADLINE_S * 1000, &closed);
	g_thread_join(stopper);

	cr_assert(g_str_has_prefix(reply->str, "HTTP/1.1 200"),
		  "the bind in flight gets its 200, got \"%.120s\"", reply->str);
	cr_assert(strstr(reply->str, "Connection: close") != NULL ||
			  strstr(reply->str, "connection: close") != NULL,
		  "with Connection: close while stopping, got \"%s\"", reply->str);
	cr_assert_lt(run.returned_us - start_us, 5 * G_USEC_PER_SEC,
		     "stop returned once the bind finished, before the shutdown timeout: %"
		     G_GINT64_FORMAT " us", run.returned_us - start_us);
	cr_assert_eq(sched_server_abandoned_requests(env.server), 0,
		     "nothing abandoned, got %u", sched_server_abandoned_requests(env.server));

	g_string_free(reply, TRUE);
	close(fd);
	g_free(request);
	env_finish(&env);
}

Test(server, shutdown_timeout_validated)
{
	static const unsigned bad[] = {0, SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S + 1};
	sched_server_config config;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		score_error err = {0};
		sched_extender extender = {0};
		sched_server *server = NULL;
		int ret;

		test_config(&config);
		config.shutdown_timeout_s = bad[i];
		ret = sched_server_start(&config, &extender, NULL, NULL, &server, &err);
		cr_assert_eq(ret, -EINVAL, "shutdown timeout %u: expected -EINVAL, got %d", bad[i],
			     ret);
		cr_assert_null(server, "no server for shutdown timeout %u", bad[i]);
		cr_assert_not_null(strstr(err.message, "--shutdown-timeout"),
				   "the error names the flag: %s", err.message);
	}
}

Test(server, reload_tls_now_switches_or_keeps_pair)
{
	sched_server_config config;
	test_env env;
	https_result r;
	score_error err = {0};
	char *dir = g_dir_make_tmp("stowage-tls-XXXXXX", NULL);
	char *cert = g_build_filename(dir, "tls.crt", NULL);
	char *key = g_build_filename(dir, "tls.key", NULL);
	char *log;
	int ret;

	cr_assert_not_null(dir, "cannot create a temporary directory");
	install_fixture("server.crt", cert);
	install_fixture("server.key", key);
	test_config(&config);
	config.tls_cert_file = cert;
	config.tls_key_file = key;
	env_start_with(&env, &config);

	/* A handshake first, so that the periodic check has just run and
	 * will not run again within the next second. */
	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_str_eq(r.serial, "1001", "before: serial 1001, got \"%s\"", r.serial);
	http_result_release(&r.http);

	/* Half a rotation: the reload fails and the old pair stays. */
	install_fixture("server2.crt", cert);
	ret = sched_server_reload_tls(env.server, &err);
	cr_assert_lt(ret, 0, "reloading a mismatched pair fails, got %d", ret);
	cr_assert_not_null(strstr(err.message, key),
			   "the error names the key file %s: %s", key, err.message);
	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_eq(r.http.status, 200, "still served after the failed reload: %ld",
		     r.http.status);
	cr_assert_str_eq(r.serial, "1001", "the old serial 1001 stays, got \"%s\"", r.serial);
	http_result_release(&r.http);

	/* The rotation completes: the next handshake gets the new pair at
	 * once, without waiting for the periodic check. */
	install_fixture("server2.key", key);
	memset(&err, 0, sizeof(err));
	ret = sched_server_reload_tls(env.server, &err);
	cr_assert_eq(ret, 0, "reloading the matching pair succeeds: %s", err.message);
	https_get(&env, "/healthz", &(tls_client){.ca = "ca.crt"}, &r);
	cr_assert_str_eq(r.serial, "1002", "the new serial 1002 right after the reload, got \"%s\"",
			 r.serial);
	http_result_release(&r.http);

	log = env_stop(&env);
	cr_assert_not_null(strstr(log, "reloaded TLS certificate"),
			   "the reload is logged:\n%s", log);
	g_free(log);
	g_unlink(cert);
	g_unlink(key);
	g_rmdir(dir);
	g_free(cert);
	g_free(key);
	g_free(dir);
}

Test(server, reload_tls_without_tls_fails)
{
	test_env env;
	score_error err = {0};
	int ret;

	env_start(&env);
	ret = sched_server_reload_tls(env.server, &err);
	cr_assert_eq(ret, -EINVAL, "plain HTTP: expected -EINVAL, got %d", ret);
	cr_assert_not_null(strstr(err.message, "plain HTTP"), "the error says why: %s",
			   err.message);
	env_finish(&env);
}
