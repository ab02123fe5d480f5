/* End-to-end tests of `stowage serve` against the test API server: the
 * real binary ($STOWAGE_BIN, else build/<mode>/stowage beside the test)
 * with a kubeconfig written to a temporary directory. It must sync, handle
 * filter and bind as kube-scheduler calls them, bind through the API
 * server exactly once, show the bind on /metrics, stop on SIGTERM with
 * status 0, and never log the token. With rejected credentials /readyz
 * stays 503 and the log says why. */
#include "tests/inf_apiserver.h"

#include <fcntl.h>

#include <glib/gstdio.h>
#include "tests/run.h"
#include "tests/tempdir.h"

#define FIXTURE "informer/cluster.json"
#define TOKEN "e2e-token-6f1c2d3e"
/* Bounds for the waits; the happy path takes well under a second. */
#define START_MS 10000
#define READY_MS 15000
#define STOP_MS 5000

typedef struct serve_process {
	GPid pid;
	char *log_path;
	char address[64]; /* "127.0.0.1:PORT" once known */
	bool exited;
	int wait_status;
} serve_process;

static char *dir;
/* The process a failed assertion leaves running, for the suite's fini. */
static serve_process *running;

static void make_dir(void)
{
	dir = test_make_temp_dir("stowage-e2e-XXXXXX");
}

static void remove_dir(void)
{
	if (running != NULL && !running->exited) {
		kill(running->pid, SIGKILL);
		waitpid(running->pid, NULL, 0);
		running->exited = true;
	}
	running = NULL;
	test_remove_tree(dir);
	g_free(dir);
}

TestSuite(serve_e2e, .init = make_dir, .fini = remove_dir, .timeout = 60);

static char *write_kubeconfig(const char *server_url, const char *token)
{
	char *path = g_build_filename(dir, "kubeconfig", NULL);
	char *text = g_strdup_printf("apiVersion: v1\nkind: Config\ncurrent-context: e2e\n"
				     "clusters:\n- name: test\n  cluster:\n    server: %s\n"
				     "users:\n- name: scheduler\n  user:\n    token: %s\n"
				     "contexts:\n- name: e2e\n  context: {cluster: test, user: scheduler}\n",
				     server_url, token);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "cannot write %s", path);
	g_free(text);
	return path;
}

static char *read_log(const serve_process *p)
{
	char *text = NULL;

	return g_file_get_contents(p->log_path, &text, NULL, NULL) ? text : g_strdup("");
}

/* Copies the value after `address=` on the "listening" line, if logged. */
static bool find_address(serve_process *p)
{
	static const char key[] = "listening address=";
	char *log = read_log(p);
	char *start = strstr(log, key);
	size_t length = 0;

	if (start != NULL) {
		start += strlen(key);
		length = strcspn(start, " \n");
		/* A line still being written has no end yet. */
		if (start[length] == '\0' || length >= sizeof(p->address))
			length = 0;
		if (length > 0)
			g_strlcpy(p->address, start, length + 1);
	}
	g_free(log);
	return length > 0;
}

static bool reap(serve_process *p)
{
	if (!p->exited && waitpid(p->pid, &p->wait_status, WNOHANG) == p->pid)
		p->exited = true;
	return p->exited;
}

/* Starts `stowage serve` on a free port and waits until it logs the
 * address it listens on. */
static void serve_start(serve_process *p, const char *kubeconfig)
{
	char *bin = test_stowage_path();
	const char *argv[] = {bin, "serve", "--kubeconfig", kubeconfig,
			      "--listen", "127.0.0.1:0", NULL};
	gint64 deadline = g_get_monotonic_time() + START_MS * 1000;

	memset(p, 0, sizeof(*p));
	p->log_path = g_build_filename(dir, "serve.log", NULL);
	p->pid = test_child_start_logged(argv, p->log_path);
	running = p;
	while (!find_address(p)) {
		char *log;

		if (!reap(p) && g_get_monotonic_time() < deadline) {
			g_usleep(10 * 1000);
			continue;
		}
		log = read_log(p);
		cr_assert_fail("stowage serve did not log its address within %d ms; log:\n%s",
			       START_MS, log);
		g_free(log);
	}
	g_free(bin);
}

/* Sends SIGTERM and returns the wait status, failing the test when the
 * process does not exit within STOP_MS. */
static int serve_stop(serve_process *p)
{
	int status = test_child_stop(p->pid, STOP_MS);

	p->exited = true;
	running = NULL;
	cr_assert_neq(status, -1, "stowage serve did not exit within %d ms of SIGTERM", STOP_MS);
	return status;
}

static void serve_release(serve_process *p)
{
	if (!p->exited) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		g_spawn_close_pid(p->pid);
		p->exited = true;
	}
	running = NULL;
	g_free(p->log_path);
}

static void request(const serve_process *p, const char *method, const char *path,
		    const char *body, test_response *response)
{
	char *url = g_strdup_printf("http://%s%s", p->address, path);

	test_http(method, url, body, 0, response);
	g_free(url);
}

static long readyz_status(const serve_process *p)
{
	test_response response;
	long status;

	request(p, "GET", "/readyz", NULL, &response);
	status = response.status;
	test_response_release(&response);
	return status;
}

static bool ready(const void *data)
{
	return readyz_status(data) == 200;
}

static bool log_contains(const void *data)
{
	const void *const *args = data;
	char *log = read_log(args[0]);
	bool found = strstr(log, args[1]) != NULL;

	g_free(log);
	return found;
}

/* Returns the value of the sample `series` in `text`, or -1. */
static double sample(const char *text, const char *series)
{
	const char *found = strstr(text, series);

	while (found != NULL && (found != text && found[-1] != '\n'))
		found = strstr(found + 1, series);
	if (found == NULL || found[strlen(series)] != ' ')
		return -1;
	return g_ascii_strtod(found + strlen(series) + 1, NULL);
}

/* Returns pending-2 as the API server has it, the Pod kube-scheduler
 * would send. */
static char *pending_pod(const test_apiserver *server)
{
	char *url = g_strconcat(server->url, "/api/v1/namespaces/default/pods/pending-2", NULL);
	test_response response;
	char *pod;

	test_http("GET", url, NULL, 0, &response);
	cr_assert_eq(response.status, 200, "GET pending-2 from the API server: %ld",
		     response.status);
	pod = g_strdup(response.body->str);
	test_response_release(&response);
	g_free(url);
	return pod;
}

Test(serve_e2e, filter_bind_metrics_and_sigterm)
{
	test_apiserver server;
	serve_process p;
	test_response response;
	char *kubeconfig, *pod, *body, *log;
	const void *bound_logged[2];
	cJSON *json;
	const cJSON *names;

	test_apiserver_start(&server, FIXTURE, NULL);
	/* The token is not checked here; it is only looked for in the log. */
	kubeconfig = write_kubeconfig(server.url, TOKEN);
	serve_start(&p, kubeconfig);
	cr_assert(test_wait_until(ready, &p, READY_MS), "/readyz did not turn 200 within %d ms",
		  READY_MS);

	pod = pending_pod(&server);
	body = g_strdup_printf("{\"Pod\":%s,\"Nodes\":null,\"NodeNames\":[\"node-a\",\"node-b\",\"node-c\"]}",
			       pod);
	request(&p, "POST", "/filter", body, &response);
	cr_assert_eq(response.status, 200, "filter: HTTP %ld: %s", response.status,
		     response.body->str);
	json = cJSON_Parse(response.body->str);
	cr_assert_not_null(json, "filter response is not JSON: %s", response.body->str);
	names = cJSON_GetObjectItemCaseSensitive(json, "NodeNames");
	cr_assert(cJSON_IsArray(names) && cJSON_GetArraySize(names) >= 1,
		  "the filter passes at least one node: %s", response.body->str);
	cr_assert_str_eq(cJSON_GetArrayItem(names, 0)->valuestring, "node-a",
			 "node-a (4 CPUs, 500m used) fits 250m: %s", response.body->str);
	cJSON_Delete(json);
	test_response_release(&response);
	g_free(body);

	request(&p, "POST", "/bind",
		"{\"PodName\":\"pending-2\",\"PodNamespace\":\"default\","
		"\"PodUID\":\"uid-pending-2\",\"Node\":\"node-a\"}",
		&response);
	cr_assert_eq(response.status, 200, "bind: HTTP %ld: %s", response.status,
		     response.body->str);
	json = cJSON_Parse(response.body->str);
	cr_assert_not_null(json, "bind response is not JSON: %s", response.body->str);
	cr_assert(!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "Error")) ||
			  cJSON_GetObjectItemCaseSensitive(json, "Error")->valuestring[0] == '\0',
		  "bind succeeded without an Error: %s", response.body->str);
	cJSON_Delete(json);
	test_response_release(&response);
	cr_assert_eq(test_stat(&server, NULL, "bindingRequests"), 1,
		     "the API server saw exactly one binding request, got %ld",
		     test_stat(&server, NULL, "bindingRequests"));
	cr_assert_eq(test_stat(&server, NULL, "bindings"), 1, "and made one binding");

	request(&p, "GET", "/metrics", NULL, &response);
	cr_assert_eq(response.status, 200, "metrics: HTTP %ld", response.status);
	cr_assert_eq(sample(response.body->str,
			    "stowage_extender_requests_total{verb=\"bind\",code=\"200\"}"), 1,
		     "/metrics counts the bind request:\n%s", response.body->str);
	cr_assert_eq(sample(response.body->str,
			    "stowage_informer_binds_total{outcome=\"bound\"}"), 1,
		     "/metrics counts the binding as bound:\n%s", response.body->str);
	cr_assert_eq(sample(response.body->str, "stowage_informer_synced{resource=\"pods\"}"), 1,
		     "/metrics shows the pods synced");
	test_response_release(&response);

	bound_logged[0] = &p;
	bound_logged[1] = "pod bound";
	cr_assert(test_wait_until(log_contains, bound_logged, START_MS), "the binding is logged");
	test_assert_exit_status(serve_stop(&p), 0, "stowage serve after SIGTERM");
	log = read_log(&p);
	cr_assert_null(strstr(log, TOKEN), "no log line contains the token:\n%s", log);
	cr_assert_not_null(strstr(log, "stopped"), "the stop is logged:\n%s", log);
	g_free(log);
	serve_release(&p);
	test_apiserver_stop(&server);
	g_free(pod);
	g_free(kubeconfig);
}

Test(serve_e2e, rejected_credentials_keep_readyz_503)
{
	test_apiserver server;
	serve_process p;
	char *kubeconfig, *log;
	const void *rejected_logged[2];

	test_apiserver_start(&server, FIXTURE, "the-right-token");
	kubeconfig = write_kubeconfig(server.url, TOKEN);
	serve_start(&p, kubeconfig);

	rejected_logged[0] = &p;
	rejected_logged[1] = "credentials were rejected";
	cr_assert(test_wait_until(log_contains, rejected_logged, START_MS),
		  "the 401 is logged within %d ms", START_MS);
	cr_assert_geq(test_stat(&server, NULL, "unauthorized"), 1,
		      "the API server returned 401");
	for (int i = 0; i < 3; i++)
		cr_assert_eq(readyz_status(&p), 503, "/readyz stays 503 without a sync");

	log = read_log(&p);
	cr_assert_not_null(strstr(log, server.url), "the log names the server %s:\n%s",
			   server.url, log);
	cr_assert_not_null(strstr(log, "check the token"),
			   "the log says to check the credentials:\n%s", log);
	cr_assert_null(strstr(log, TOKEN), "no log line contains the token:\n%s", log);
	g_free(log);
	test_assert_exit_status(serve_stop(&p), 0, "stowage serve after SIGTERM while unsynced");
	serve_release(&p);
	test_apiserver_stop(&server);
	g_free(kubeconfig);
}

/* A /bind sent from a thread: no Criterion assertions off the main
 * thread, so the result is only recorded. */
typedef struct bind_call {
	const serve_process *p;
	long status;
	CURLcode result;
} bind_call;

static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

static gpointer send_bind(gpointer data)
{
	bind_call *call = data;
	CURL *curl = curl_easy_init();
	char *url = g_strdup_printf("http://%s/bind", call->p->address);

	if (curl == NULL) {
		call->result = CURLE_FAILED_INIT;
		g_free(url);
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
			 "{\"PodName\":\"pending-2\",\"PodNamespace\":\"default\","
			 "\"PodUID\":\"uid-pending-2\",\"Node\":\"node-a\"}");
	call->result = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &call->status);
	curl_easy_cleanup(curl);
	g_free(url);
	return NULL;
}

static bool binding_started(const void *data)
{
	return test_stat(data, NULL, "bindingRequests") >= 1;
}

Test(serve_e2e, sigterm_waits_for_bind_in_flight)
{
	test_apiserver server;
	serve_process p;
	bind_call call = {0};
	GThread *client;
	char *kubeconfig;

	test_apiserver_start(&server, FIXTURE, NULL);
	kubeconfig = write_kubeconfig(server.url, TOKEN);
	serve_start(&p, kubeconfig);
	cr_assert(test_wait_until(ready, &p, READY_MS), "/readyz did not turn 200 within %d ms",
		  READY_MS);
	/* The API server delays the binding by 1.5 s, so SIGTERM arrives
	 * while the bind is in flight. */
	test_control(&server, "/control/faults",
		     "{\"method\":\"POST\",\"path\":\"/api/v1/namespaces/default/pods/pending-2/binding\","
		     "\"times\":1,\"delayMs\":1500}");
	call.p = &p;
	client = g_thread_new("bind-client", send_bind, &call);
	cr_assert(test_wait_until(binding_started, &server, START_MS),
		  "the binding did not reach the API server within %d ms", START_MS);

	test_assert_exit_status(serve_stop(&p), 0,
				"stowage serve after SIGTERM with a bind in flight");
	g_thread_join(client);
	cr_assert_eq(call.result, CURLE_OK, "the bind call failed: %s",
		     curl_easy_strerror(call.result));
	cr_assert_eq(call.status, 200, "the bind in flight gets 200, got %ld", call.status);
	cr_assert_eq(test_stat(&server, NULL, "bindings"), 1, "the pod was bound once");
	serve_release(&p);
	test_apiserver_stop(&server);
	g_free(kubeconfig);
}
