/* Tests for the test API server (tests/tools/apiserver.c) itself: the
 * informer tests trust it to respond as kube-apiserver does, so its list
 * pages, watch streams, 410 cases, bindings and injected faults are
 * checked here against the real server's shapes, and so is the placement
 * of lines injected into open watches. The fixture
 * tests/fixtures/informer/cluster.json holds 2 namespaces, 3 nodes and 5
 * pods, loaded as resourceVersions 1 to 10. */
#include "tests/inf_apiserver.h"

#define FIXTURE "informer/cluster.json"

static test_apiserver server;

static void start(void)
{
	test_apiserver_start(&server, FIXTURE, NULL);
}

static void stop(void)
{
	test_apiserver_stop(&server);
}

static cJSON *parse_body(const test_response *response)
{
	cJSON *json = cJSON_Parse(response->body->str);

	cr_assert_not_null(json, "response body is not JSON: %s",
			   response->body->str);
	return json;
}

static const char *json_string(const cJSON *object, const char *path)
{
	char **parts = g_strsplit(path, ".", -1);
	const cJSON *item = object;
	const char *value;

	for (int i = 0; parts[i] != NULL; i++)
		item = cJSON_GetObjectItemCaseSensitive(item, parts[i]);
	g_strfreev(parts);
	value = cJSON_IsString(item) ? item->valuestring : NULL;
	return value;
}

static double json_number(const cJSON *object, const char *path)
{
	char **parts = g_strsplit(path, ".", -1);
	const cJSON *item = object;

	for (int i = 0; parts[i] != NULL; i++)
		item = cJSON_GetObjectItemCaseSensitive(item, parts[i]);
	g_strfreev(parts);
	return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

static void get(const char *path, unsigned max_lines, test_response *response)
{
	char *url = g_strconcat(server.url, path, NULL);

	test_http("GET", url, NULL, max_lines, response);
	g_free(url);
}

static void post(const char *path, const char *body, test_response *response)
{
	char *url = g_strconcat(server.url, path, NULL);

	test_http("POST", url, body, 0, response);
	g_free(url);
}

/* Checks that `json` is a failure Status with `code` and `reason`. */
static void assert_status(const cJSON *json, int code, const char *reason)
{
	cr_assert_str_eq(json_string(json, "kind"), "Status",
			 "kind: expected Status");
	cr_assert_str_eq(json_string(json, "apiVersion"), "v1",
			 "apiVersion: expected v1");
	cr_assert_str_eq(json_string(json, "status"), "Failure",
			 "status: expected Failure");
	cr_assert_str_eq(json_string(json, "reason"), reason,
			 "reason: expected %s, got %s", reason,
			 json_string(json, "reason"));
	cr_assert_eq((int)json_number(json, "code"), code,
		     "code: expected %d, got %d", code,
		     (int)json_number(json, "code"));
	cr_assert_not_null(json_string(json, "message"), "Status has no message");
}

TestSuite(apiserver, .init = start, .fini = stop, .timeout = 60);

Test(apiserver, list_pages_share_one_resource_version)
{
	test_response response;
	char *path = g_strdup("/api/v1/pods?limit=2");
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	int pages = 0;

	while (path != NULL) {
		cJSON *list;
		const cJSON *items;
		const char *next;

		get(path, 0, &response);
		cr_assert_eq(response.status, 200, "GET %s: HTTP %ld", path,
			     response.status);
		list = parse_body(&response);
		cr_assert_str_eq(json_string(list, "kind"), "PodList",
				 "kind: expected PodList");
		cr_assert_str_eq(json_string(list, "metadata.resourceVersion"), "10",
				 "page %d resourceVersion: expected 10, got %s",
				 pages, json_string(list, "metadata.resourceVersion"));
		items = cJSON_GetObjectItemCaseSensitive(list, "items");
		for (const cJSON *item = items->child; item != NULL; item = item->next)
			g_ptr_array_add(names, g_strdup(json_string(item, "metadata.name")));
		next = json_string(list, "metadata.continue");
		g_free(path);
		path = next != NULL ? g_strdup_printf("/api/v1/pods?limit=2&continue=%s", next)
				    : NULL;
		if (next != NULL)
			cr_assert_gt(json_number(list, "metadata.remainingItemCount"), 0,
				     "a page with continue has remainingItemCount > 0");
		pages++;
		cJSON_Delete(list);
		test_response_release(&response);
	}
	cr_assert_eq(pages, 3, "expected 3 pages of 2, got %d", pages);
	cr_assert_eq(names->len, 5, "expected 5 pods, got %u", names->len);
	cr_assert_str_eq(g_ptr_array_index(names, 0), "pending-2",
			 "pods come in namespace/name order");
	g_ptr_array_unref(names);
}

Test(apiserver, continue_token_expires_on_compaction)
{
	test_response response;
	cJSON *list, *status;
	char *path;

	get("/api/v1/pods?limit=2", 0, &response);
	list = parse_body(&response);
	path = g_strdup_printf("/api/v1/pods?limit=2&continue=%s",
			       json_string(list, "metadata.continue"));
	cJSON_Delete(list);
	test_response_release(&response);

	test_control(&server, "/control/compact", NULL);
	get(path, 0, &response);
	cr_assert_eq(response.status, 410, "expected HTTP 410, got %ld", response.status);
	status = parse_body(&response);
	assert_status(status, 410, "Expired");
	cJSON_Delete(status);
	test_response_release(&response);
	g_free(path);
}

Test(apiserver, watch_streams_changes_after_rv)
{
	test_response response;
	cJSON *event;

	test_control(&server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-d\"}}}");
	get("/api/v1/nodes?watch=true&resourceVersion=10", 1, &response);
	cr_assert_eq(response.status, 200, "watch: HTTP %ld", response.status);
	event = parse_body(&response);
	cr_assert_str_eq(json_string(event, "type"), "ADDED", "type: expected ADDED");
	cr_assert_str_eq(json_string(event, "object.metadata.name"), "node-d",
			 "object: expected node-d");
	cr_assert_str_eq(json_string(event, "object.metadata.resourceVersion"), "11",
			 "resourceVersion: expected 11");
	cr_assert_not_null(json_string(event, "object.metadata.uid"),
			   "a new object gets a uid");
	cJSON_Delete(event);
	test_response_release(&response);
}

Test(apiserver, watch_from_zero_starts_with_state)
{
	test_response response;
	unsigned lines = 0;

	get("/api/v1/nodes?watch=true&resourceVersion=0", 3, &response);
	for (const char *p = response.body->str; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 3, "expected one ADDED event per node (3), got %u", lines);
	cr_assert_not_null(strstr(response.body->str, "\"type\":\"ADDED\""),
			   "initial events are ADDED");
	test_response_release(&response);
}

Test(apiserver, watch_too_old_gives_error_event)
{
	test_response response;
	cJSON *event;

	test_control(&server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-c\"}}}");
	test_control(&server, "/control/compact", NULL);
	get("/api/v1/nodes?watch=true&resourceVersion=10", 0, &response);
	cr_assert_eq(response.status, 200,
		     "kube-apiserver answers a too old watch with 200, got %ld",
		     response.status);
	event = parse_body(&response);
	cr_assert_str_eq(json_string(event, "type"), "ERROR", "type: expected ERROR");
	assert_status(cJSON_GetObjectItemCaseSensitive(event, "object"), 410, "Expired");
	cr_assert_str_eq(json_string(event, "object.message"),
			 "too old resource version: 10 (11)",
			 "message: got %s", json_string(event, "object.message"));
	cJSON_Delete(event);
	test_response_release(&response);
}

Test(apiserver, watch_too_old_as_http_410)
{
	test_response response;
	cJSON *status;

	test_control(&server, "/control/settings", "{\"watchGoneAsHTTP\":true}");
	test_control(&server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-c\"}}}");
	test_control(&server, "/control/compact", NULL);
	get("/api/v1/nodes?watch=true&resourceVersion=10", 0, &response);
	cr_assert_eq(response.status, 410, "expected HTTP 410, got %ld", response.status);
	status = parse_body(&response);
	assert_status(status, 410, "Expired");
	cJSON_Delete(status);
	test_response_release(&response);
}

Test(apiserver, watch_from_compaction_point)
{
	test_response response;
	cJSON *event;

	/* Compaction at RV 11: a watch from 11 is valid, one from 10 is not. */
	test_control(&server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"}}}");
	test_control(&server, "/control/compact", NULL);
	get("/api/v1/namespaces/default/pods?watch=1&resourceVersion=11&timeoutSeconds=1",
	    0, &response);
	cr_assert_eq(response.status, 200, "watch from the compacted RV: HTTP %ld",
		     response.status);
	cr_assert_eq(response.result, CURLE_OK, "a watch that times out ends cleanly: %s",
		     curl_easy_strerror(response.result));
	cr_assert_eq(response.body->len, 0, "no events after RV 11, got %s",
		     response.body->str);
	test_response_release(&response);

	get("/api/v1/pods?watch=true&resourceVersion=10", 1, &response);
	event = parse_body(&response);
	cr_assert_str_eq(json_string(event, "type"), "ERROR",
			 "RV 10 is older than the compaction at 11");
	cJSON_Delete(event);
	test_response_release(&response);
}

Test(apiserver, bookmarks_on_request_and_timeout)
{
	test_response response;
	cJSON *event;
	const char *last;

	get("/api/v1/nodes?watch=true&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=1",
	    0, &response);
	cr_assert_eq(response.result, CURLE_OK, "watch ends cleanly at its timeout: %s",
		     curl_easy_strerror(response.result));
	last = response.body->str;
	event = parse_body(&response);
	cr_assert_str_eq(json_string(event, "type"), "BOOKMARK",
			 "a watch with bookmarks ends with one: %s", last);
	cr_assert_str_eq(json_string(event, "object.kind"), "Node",
			 "bookmark kind: expected Node");
	cr_assert_str_eq(json_string(event, "object.metadata.resourceVersion"), "10",
			 "bookmark resourceVersion: expected 10");
	cJSON_Delete(event);
	test_response_release(&response);
}

Test(apiserver, get_single_objects)
{
	test_response response;
	cJSON *json;

	get("/api/v1/namespaces/team-a/pods/batch-1", 0, &response);
	cr_assert_eq(response.status, 200, "GET pod: HTTP %ld", response.status);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "metadata.uid"), "uid-batch-1",
			 "uid: expected uid-batch-1");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/nodes/node-x", 0, &response);
	cr_assert_eq(response.status, 404, "GET missing node: HTTP %ld", response.status);
	json = parse_body(&response);
	assert_status(json, 404, "NotFound");
	cJSON_Delete(json);
	test_response_release(&response);
}

Test(apiserver, binding_success_and_conflicts)
{
	static const char path[] = "/api/v1/namespaces/default/pods/pending-2/binding";
	test_response response;
	cJSON *json;

	post(path, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"pending-2\",\"namespace\":\"default\",\"uid\":\"uid-other\"},\"target\":{\"kind\":\"Node\",\"name\":\"node-a\"}}",
	     &response);
	cr_assert_eq(response.status, 409, "UID precondition: expected 409, got %ld",
		     response.status);
	json = parse_body(&response);
	assert_status(json, 409, "Conflict");
	cr_assert_not_null(strstr(json_string(json, "message"), "Precondition failed"),
			   "message: %s", json_string(json, "message"));
	cJSON_Delete(json);
	test_response_release(&response);

	post(path, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"pending-2\",\"namespace\":\"default\",\"uid\":\"uid-pending-2\"},\"target\":{\"kind\":\"Node\",\"name\":\"node-a\"}}",
	     &response);
	cr_assert_eq(response.status, 201, "binding: expected 201, got %ld: %s",
		     response.status, response.body->str);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "status"), "Success", "status: expected Success");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/namespaces/default/pods/pending-2", 0, &response);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "spec.nodeName"), "node-a",
			 "the bound pod has spec.nodeName");
	cr_assert_str_eq(json_string(json, "metadata.resourceVersion"), "11",
			 "binding is a new resourceVersion");
	cJSON_Delete(json);
	test_response_release(&response);

	post(path, "{\"metadata\":{\"name\":\"pending-2\",\"uid\":\"uid-pending-2\"},\"target\":{\"name\":\"node-b\"}}",
	     &response);
	cr_assert_eq(response.status, 409, "second binding: expected 409, got %ld",
		     response.status);
	json = parse_body(&response);
	assert_status(json, 409, "Conflict");
	cr_assert_str_eq(json_string(json, "message"),
			 "Operation cannot be fulfilled on pods/binding \"pending-2\": pod pending-2 is already assigned to node \"node-a\"",
			 "message: %s", json_string(json, "message"));
	cJSON_Delete(json);
	test_response_release(&response);

	post("/api/v1/namespaces/default/pods/gone/binding",
	     "{\"metadata\":{\"name\":\"gone\"},\"target\":{\"name\":\"node-b\"}}", &response);
	cr_assert_eq(response.status, 404, "missing pod: expected 404, got %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver, binding_rejects_malformed_bodies)
{
	static const char path[] = "/api/v1/namespaces/default/pods/pending-2/binding";
	test_response response;

	post(path, "{not json", &response);
	cr_assert_eq(response.status, 400, "bad JSON: expected 400, got %ld", response.status);
	test_response_release(&response);

	post(path, "{\"metadata\":{\"name\":\"other\"},\"target\":{\"name\":\"node-a\"}}",
	     &response);
	cr_assert_eq(response.status, 400, "name mismatch: expected 400, got %ld",
		     response.status);
	test_response_release(&response);

	post(path, "{\"metadata\":{\"name\":\"pending-2\"},\"target\":{}}", &response);
	cr_assert_eq(response.status, 422, "no target: expected 422, got %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver, fault_status_with_retry_after)
{
	test_response response;
	cJSON *json;

	test_control(&server, "/control/faults",
		     "{\"method\":\"GET\",\"path\":\"/api/v1/pods\",\"status\":429,\"retryAfter\":1,\"times\":1}");
	get("/api/v1/pods", 0, &response);
	cr_assert_eq(response.status, 429, "expected 429, got %ld", response.status);
	cr_assert_eq(response.retry_after, 1, "Retry-After: expected 1, got %ld",
		     response.retry_after);
	json = parse_body(&response);
	assert_status(json, 429, "TooManyRequests");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/pods", 0, &response);
	cr_assert_eq(response.status, 200, "the fault applied once; then 200, got %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver, fault_cuts_watch_mid_event)
{
	test_response response;

	test_control(&server, "/control/objects",
		     "[{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-d\"}}},"
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-e\"}}}]");
	test_control(&server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":true,\"cutAfterEvents\":1}");
	get("/api/v1/nodes?watch=true&resourceVersion=10", 0, &response);
	cr_assert_neq(response.result, CURLE_OK, "a cut watch is a transfer error");
	cr_assert_not_null(strstr(response.body->str, "node-d"),
			   "the first event arrives whole: %s", response.body->str);
	cr_assert_null(strstr(response.body->str, "\"resourceVersion\":\"12\""),
		       "the second event is cut before its end: %s",
		       response.body->str);
	cr_assert_neq(response.body->str[response.body->len - 1], '\n',
		      "the stream ends inside a line");
	test_response_release(&response);
}

Test(apiserver, fault_cuts_list_and_closes)
{
	test_response response;

	test_control(&server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"cutAfterEvents\":0}");
	get("/api/v1/nodes", 0, &response);
	cr_assert_neq(response.result, CURLE_OK, "a cut list is a transfer error");
	cr_assert_null(cJSON_Parse(response.body->str), "half a list is not JSON");
	test_response_release(&response);

	test_control(&server, "/control/faults", "{\"close\":true}");
	get("/api/v1/nodes", 0, &response);
	cr_assert_eq(response.result, CURLE_GOT_NOTHING,
		     "close gives no response: got %s",
		     curl_easy_strerror(response.result));
	test_response_release(&response);
}

Test(apiserver, fault_delay_holds_list_and_binding)
{
	test_response response;
	gint64 started;
	double elapsed_ms;

	test_control(&server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"delayMs\":300}");
	started = g_get_monotonic_time();
	get("/api/v1/nodes", 0, &response);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(response.status, 200, "a delayed list still succeeds, got %ld",
		     response.status);
	cr_assert_geq(elapsed_ms, 300.0, "the list was held 300 ms, took %.0f ms", elapsed_ms);
	test_response_release(&response);

	test_control(&server, "/control/faults", "{\"method\":\"POST\",\"delayMs\":300}");
	started = g_get_monotonic_time();
	post("/api/v1/namespaces/default/pods/pending-2/binding",
	     "{\"metadata\":{\"name\":\"pending-2\"},\"target\":{\"name\":\"node-a\"}}",
	     &response);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(response.status, 201, "a delayed binding still binds, got %ld",
		     response.status);
	cr_assert_geq(elapsed_ms, 300.0, "the binding was held 300 ms, took %.0f ms",
		      elapsed_ms);
	test_response_release(&response);
}

typedef struct watch_thread {
	test_response response;
} watch_thread;

static gpointer watch_three_lines(gpointer data)
{
	watch_thread *t = data;

	get("/api/v1/nodes?watch=true&resourceVersion=10", 3, &t->response);
	return NULL;
}

static bool nodes_watch_open(const void *data)
{
	(void)data;
	return test_stat(&server, "watches", "nodes") >= 1;
}

Test(apiserver, inject_line_into_open_watch)
{
	watch_thread t;
	GThread *thread;
	char **lines;
	test_response response;

	/* No watch is open yet: nothing to inject into. */
	post("/control/inject", "{\"resource\":\"nodes\",\"line\":\"x\"}", &response);
	cr_assert_eq(response.status, 409, "inject without a watch: expected 409, got %ld",
		     response.status);
	test_response_release(&response);

	thread = g_thread_new("watch", watch_three_lines, &t);
	cr_assert(test_wait_until(nodes_watch_open, NULL, 5000), "the nodes watch is open");
	test_control(&server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-d\"}}}");
	test_control(&server, "/control/inject",
		     "{\"resource\":\"nodes\",\"line\":\"not an event\",\"then\":"
		     "[{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-e\"}}}]}");
	g_thread_join(thread);

	lines = g_strsplit(t.response.body->str, "\n", -1);
	cr_assert_geq(g_strv_length(lines), 3, "three lines arrived: %s", t.response.body->str);
	cr_assert_not_null(strstr(lines[0], "\"name\":\"node-d\""),
			   "first the event from before the injection: %s", lines[0]);
	cr_assert_str_eq(lines[1], "not an event", "then the injected line: %s", lines[1]);
	cr_assert_not_null(strstr(lines[2], "\"name\":\"node-e\""),
			   "then the change sent with it: %s", lines[2]);
	g_strfreev(lines);
	test_response_release(&t.response);

	post("/control/inject", "{\"resource\":\"configmaps\",\"line\":\"x\"}", &response);
	cr_assert_eq(response.status, 400, "unknown resource: expected 400, got %ld",
		     response.status);
	test_response_release(&response);
	post("/control/inject", "{\"resource\":\"nodes\"}", &response);
	cr_assert_eq(response.status, 400, "missing line: expected 400, got %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver, control_rejects_bad_input)
{
	test_response response;

	post("/control/objects", "{oops", &response);
	cr_assert_eq(response.status, 400, "bad JSON: expected 400, got %ld", response.status);
	test_response_release(&response);

	post("/control/objects",
	     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}}",
	     &response);
	cr_assert_eq(response.status, 400, "unknown kind: expected 400, got %ld",
		     response.status);
	test_response_release(&response);

	post("/control/objects",
	     "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-x\"}}}",
	     &response);
	cr_assert_eq(response.status, 404, "modify missing: expected 404, got %ld",
		     response.status);
	test_response_release(&response);

	post("/control/faults", "{\"path\":\"/api\"}", &response);
	cr_assert_eq(response.status, 400, "fault without kind: expected 400, got %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver_token, requires_bearer_token)
{
	test_apiserver secured;
	test_response response;
	char *url;
	cJSON *json;

	test_apiserver_start(&secured, FIXTURE, "secret-token");
	url = g_strconcat(secured.url, "/api/v1/nodes", NULL);
	test_http("GET", url, NULL, 0, &response);
	cr_assert_eq(response.status, 401, "no token: expected 401, got %ld",
		     response.status);
	json = cJSON_Parse(response.body->str);
	cr_assert_not_null(json, "401 body is not JSON");
	assert_status(json, 401, "Unauthorized");
	cJSON_Delete(json);
	test_response_release(&response);
	g_free(url);
	test_apiserver_stop(&secured);
}

/* ---- NetworkPolicies and tokens ------------------------------------------ */

#define NETPOL_PATH "/apis/networking.k8s.io/v1/networkpolicies"

static void add_policy(const char *type, const char *namespace, const char *name)
{
	char *body = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"NetworkPolicy\","
		"\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":{\"name\":\"%s\","
		"\"namespace\":\"%s\"},\"spec\":{\"podSelector\":{}}}}",
		type, name, namespace);

	test_control(&server, "/control/objects", body);
	g_free(body);
}

Test(apiserver, network_policies_list_and_get)
{
	test_response response;
	cJSON *json;
	const cJSON *items;

	add_policy("ADDED", "default", "deny-all");
	add_policy("ADDED", "team-a", "allow-web");
	get(NETPOL_PATH "?limit=1", 0, &response);
	cr_assert_eq(response.status, 200, "list: HTTP %ld", response.status);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "kind"), "NetworkPolicyList",
			 "kind: got %s", json_string(json, "kind"));
	cr_assert_str_eq(json_string(json, "apiVersion"), "networking.k8s.io/v1",
			 "apiVersion: got %s", json_string(json, "apiVersion"));
	cr_assert_str_eq(json_string(json, "metadata.resourceVersion"), "12",
			 "list resourceVersion: got %s",
			 json_string(json, "metadata.resourceVersion"));
	cr_assert_not_null(json_string(json, "metadata.continue"), "limit=1 gives a continue token");
	items = cJSON_GetObjectItemCaseSensitive(json, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1, "one item per page");
	cr_assert_str_eq(json_string(items->child, "metadata.name"), "deny-all",
			 "first by namespace/name");
	cr_assert_null(json_string(items->child, "kind"), "typed list items have no kind");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies", 0, &response);
	json = parse_body(&response);
	items = cJSON_GetObjectItemCaseSensitive(json, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1, "the namespaced list has team-a's only");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/allow-web", 0,
	    &response);
	cr_assert_eq(response.status, 200, "get: HTTP %ld", response.status);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "kind"), "NetworkPolicy", "a single object has its kind");
	cr_assert_str_eq(json_string(json, "apiVersion"), "networking.k8s.io/v1",
			 "and its group's apiVersion");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/networkpolicies", 0, &response);
	cr_assert_eq(response.status, 404, "networkpolicies are not in the core group: %ld",
		     response.status);
	test_response_release(&response);
	get("/apis/networking.k8s.io/v1/nodes", 0, &response);
	cr_assert_eq(response.status, 404, "nodes are not in networking.k8s.io: %ld",
		     response.status);
	test_response_release(&response);
}

Test(apiserver, network_policies_watch_and_410)
{
	test_response response;
	char **lines;

	add_policy("ADDED", "default", "p1");
	add_policy("MODIFIED", "default", "p1");
	add_policy("DELETED", "default", "p1");
	get(NETPOL_PATH "?watch=true&resourceVersion=10", 3, &response);
	lines = g_strsplit(response.body->str, "\n", -1);
	cr_assert_not_null(strstr(lines[0], "\"type\":\"ADDED\""), "event 1: %s", lines[0]);
	cr_assert_not_null(strstr(lines[0], "\"kind\":\"NetworkPolicy\""),
			   "events carry the kind: %s", lines[0]);
	cr_assert_not_null(strstr(lines[1], "\"type\":\"MODIFIED\""), "event 2: %s", lines[1]);
	cr_assert_not_null(strstr(lines[2], "\"type\":\"DELETED\""), "event 3: %s", lines[2]);
	cr_assert_not_null(strstr(lines[2], "\"resourceVersion\":\"13\""),
			   "the DELETED event has the deletion's resourceVersion: %s", lines[2]);
	g_strfreev(lines);
	test_response_release(&response);

	test_control(&server, "/control/compact", NULL);
	get(NETPOL_PATH "?watch=true&resourceVersion=11", 0, &response);
	cr_assert_not_null(strstr(response.body->str, "\"type\":\"ERROR\""),
			   "a compacted resourceVersion gives an ERROR event: %s",
			   response.body->str);
	cr_assert_not_null(strstr(response.body->str, "\"code\":410"), "with code 410");
	test_response_release(&response);
}

/* ---- Services ------------------------------------------------------------ */

static void add_service(const char *type, const char *namespace,
			const char *name)
{
	char *body = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Service\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		"\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30080}]}}}",
		type, name, namespace);

	test_control(&server, "/control/objects", body);
	g_free(body);
}

Test(apiserver, services_list_get_and_watch)
{
	test_response response;
	const cJSON *items;
	cJSON *json;
	char **lines;

	add_service("ADDED", "shop", "web");
	add_service("ADDED", "data", "db");
	get("/api/v1/services", 0, &response);
	cr_assert_eq(response.status, 200, "list: HTTP %ld", response.status);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "kind"), "ServiceList", "kind: got %s",
			 json_string(json, "kind"));
	cr_assert_str_eq(json_string(json, "apiVersion"), "v1", "apiVersion: got %s",
			 json_string(json, "apiVersion"));
	items = cJSON_GetObjectItemCaseSensitive(json, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 2, "both Services, got %d",
		     cJSON_GetArraySize(items));
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/namespaces/shop/services", 0, &response);
	json = parse_body(&response);
	items = cJSON_GetObjectItemCaseSensitive(json, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1, "the namespaced list has shop's only");
	cr_assert_str_eq(json_string(items->child, "metadata.name"), "web",
			 "got %s", json_string(items->child, "metadata.name"));
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/namespaces/shop/services/web", 0, &response);
	cr_assert_eq(response.status, 200, "get: HTTP %ld", response.status);
	json = parse_body(&response);
	cr_assert_str_eq(json_string(json, "kind"), "Service", "a single object has its kind");
	cJSON_Delete(json);
	test_response_release(&response);

	get("/api/v1/namespaces/shop/services/missing", 0, &response);
	cr_assert_eq(response.status, 404, "missing Service: HTTP %ld", response.status);
	test_response_release(&response);

	add_service("MODIFIED", "shop", "web");
	add_service("DELETED", "data", "db");
	get("/api/v1/services?watch=true&resourceVersion=12", 2, &response);
	lines = g_strsplit(response.body->str, "\n", -1);
	cr_assert_not_null(strstr(lines[0], "\"type\":\"MODIFIED\""), "event 1: %s",
			   lines[0]);
	cr_assert_not_null(strstr(lines[0], "\"kind\":\"Service\""),
			   "events carry the kind: %s", lines[0]);
	cr_assert_not_null(strstr(lines[1], "\"type\":\"DELETED\""), "event 2: %s",
			   lines[1]);
	g_strfreev(lines);
	test_response_release(&response);
}

/* GETs `path` from `srv` with `token` as the bearer token. */
static long status_with_token(const test_apiserver *srv, const char *path,
			      const char *token)
{
	CURL *curl = curl_easy_init();
	char *url = g_strconcat(srv->url, path, NULL);
	char *header = g_strconcat("Authorization: Bearer ", token, NULL);
	struct curl_slist *headers = curl_slist_append(NULL, header);
	FILE *sink = fopen("/dev/null", "w");
	long status = 0;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	fclose(sink);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	g_free(header);
	g_free(url);
	return status;
}

Test(apiserver_token, token_changed_by_settings)
{
	test_apiserver secured;
	test_response response;
	char *url;

	test_apiserver_start(&secured, FIXTURE, "old-token");
	cr_assert_eq(status_with_token(&secured, "/api/v1/nodes", "old-token"), 200,
		     "the configured token works");
	test_control(&secured, "/control/settings", "{\"token\":\"new-token\"}");
	cr_assert_eq(status_with_token(&secured, "/api/v1/nodes", "old-token"), 401,
		     "the old token is rejected after the change");
	cr_assert_eq(status_with_token(&secured, NETPOL_PATH, "new-token"), 200,
		     "the new token works, under /apis too");
	cr_assert_eq(test_stat(&secured, NULL, "unauthorized"), 1,
		     "one 401 counted, got %ld", test_stat(&secured, NULL, "unauthorized"));

	url = g_strconcat(secured.url, "/control/settings", NULL);
	test_http("POST", url, "{\"token\":42}", 0, &response);
	cr_assert_eq(response.status, 400, "a token that is not a string: expected 400, got %ld",
		     response.status);
	test_response_release(&response);
	g_free(url);

	test_control(&secured, "/control/settings", "{\"token\":null}");
	cr_assert_eq(status_with_token(&secured, "/api/v1/pods", "anything"), 200,
		     "a null token turns authentication off");
	test_apiserver_stop(&secured);
}
