/* Integration tests for informer/reflector.c and informer/informer.c
 * against the test API server (tests/tools/apiserver.c): the initial sync,
 * watch events, a watch cut mid-event, relists after 410 with deletions
 * reconciled, retries of 429/500 with Retry-After, a continue token that
 * expires mid-list, bookmarks, 401, undecodable objects and stopping;
 * namespaces into the model and NetworkPolicies into the policy store.
 * Then the failures a stream can bring: invalid and oversized watch lines
 * (relisted, with the model checked against the server's pods), oversized
 * list pages, lists slower than and within the request timeout, and 403
 * on lists and watches, also as `stowage serve` shows it on /readyz. The
 * reflector_replay suite drives the line splitter without a server.
 *
 * The fixture tests/fixtures/informer/cluster.json holds 3 nodes (node-a
 * 4 CPUs, node-b 8, node-c 2) and 5 pods: web-1 (500m) on node-a, web-2
 * (500m) and batch-1 (2 CPUs) on node-b, pending-1 and pending-2 unbound.
 * Pod uids are "uid-" + name. Pages hold 2 objects, so pods take 3 pages.
 */
#include "tests/inf_apiserver.h"

#include <fcntl.h>

#include <glib/gstdio.h>

#include "informer/client.h"
#include "informer/informer.h"
#include "informer/reflector.h"
#include "tests/run.h"

#define FIXTURE "informer/cluster.json"
#define WAIT_MS 10000

typedef struct fixture {
	test_apiserver server;
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
	char *log_path;
	FILE *log_file;
	sched_log *log;
	inf_rest_config rest;
	inf_client *client;
	inf_reflector *reflectors[INF_RESOURCE_COUNT];
	inf_informer *informer; /* for the tests through the informer handle */
} fixture;

static fixture fx;

static void setup_with(const char *token)
{
	GError *error = NULL;
	score_error err = {0};
	int fd;

	memset(&fx, 0, sizeof(fx));
	test_apiserver_start(&fx.server, FIXTURE, token);
	fx.resources = score_resource_table_new();
	fx.model = score_model_new(fx.resources);
	g_rw_lock_init(&fx.lock);
	fd = g_file_open_tmp("stowage-reflector-log-XXXXXX", &fx.log_path, &error);
	cr_assert_geq(fd, 0, "cannot make a log file: %s",
		      error != NULL ? error->message : "");
	fx.log_file = fdopen(fd, "w");
	fx.log = sched_log_new(fx.log_file, SCHED_LOG_TEXT, SCHED_LOG_DEBUG);
	fx.rest.server = fx.server.url;
	cr_assert_eq(inf_client_new(&fx.rest, &fx.client, &err), 0,
		     "inf_client_new: %s", err.message);
}

static void setup(void)
{
	setup_with(NULL);
}

static void teardown(void)
{
	inf_informer_free(fx.informer);
	for (int i = 0; i < INF_RESOURCE_COUNT; i++)
		inf_reflector_free(fx.reflectors[i]);
	inf_client_free(fx.client);
	sched_log_free(fx.log);
	fclose(fx.log_file);
	g_unlink(fx.log_path);
	g_free(fx.log_path);
	score_model_free(fx.model);
	score_resource_table_free(fx.resources);
	g_rw_lock_clear(&fx.lock);
	test_apiserver_stop(&fx.server);
}

TestSuite(reflector, .init = setup, .fini = teardown, .timeout = 60);

/* The configuration the tests start reflectors with: pages of 2 objects
 * and short backoffs. */
static inf_reflector_config test_config(inf_resource resource)
{
	inf_reflector_config config = {
		.resource = resource,
		.client = fx.client,
		.model = fx.model,
		.lock = &fx.lock,
		.log = fx.log,
		.page_size = 2,
		.backoff_initial_ms = 20,
		.backoff_max_ms = 200,
		.request_timeout_ms = 5000,
	};

	return config;
}

static void start_with(const inf_reflector_config *config)
{
	score_error err = {0};

	cr_assert_eq(inf_reflector_start(config, &fx.reflectors[config->resource], &err),
		     0, "inf_reflector_start: %s", err.message);
}

static void start(inf_resource resource)
{
	inf_reflector_config config = test_config(resource);

	start_with(&config);
}

static bool both_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_NODES]) &&
	       inf_reflector_synced(fx.reflectors[INF_RESOURCE_PODS]);
}

static void start_both_and_sync(void)
{
	start(INF_RESOURCE_NODES);
	start(INF_RESOURCE_PODS);
	cr_assert(test_wait_until(both_synced, NULL, WAIT_MS),
		  "reflectors did not sync within %d ms", WAIT_MS);
}

static inf_reflector_stats stats_of(inf_resource resource)
{
	inf_reflector_stats stats;

	inf_reflector_get_stats(fx.reflectors[resource], &stats);
	return stats;
}

/* ---- Model queries under the read lock ----------------------------------- */

static bool has_node(const char *name)
{
	bool found;

	g_rw_lock_reader_lock(&fx.lock);
	found = score_model_node(fx.model, name) != NULL;
	g_rw_lock_reader_unlock(&fx.lock);
	return found;
}

static bool has_pod(const char *uid)
{
	bool found;

	g_rw_lock_reader_lock(&fx.lock);
	found = score_model_pod(fx.model, uid) != NULL;
	g_rw_lock_reader_unlock(&fx.lock);
	return found;
}

/* Returns the pod's node name, "" when unbound, NULL when absent; the
 * caller frees it. */
static char *pod_node(const char *uid)
{
	score_pod *pod;
	char *node = NULL;

	g_rw_lock_reader_lock(&fx.lock);
	pod = score_model_pod(fx.model, uid);
	if (pod != NULL)
		node = g_strdup(pod->node_name != NULL ? pod->node_name : "");
	g_rw_lock_reader_unlock(&fx.lock);
	return node;
}

static int64_t node_requested_cpu(const char *name)
{
	score_node *node;
	int64_t cpu = -1;

	g_rw_lock_reader_lock(&fx.lock);
	node = score_model_node(fx.model, name);
	if (node != NULL)
		cpu = node->requested.v[SCORE_RES_CPU];
	g_rw_lock_reader_unlock(&fx.lock);
	return cpu;
}

static size_t pod_count(void)
{
	size_t count;

	g_rw_lock_reader_lock(&fx.lock);
	count = score_model_pod_count(fx.model);
	g_rw_lock_reader_unlock(&fx.lock);
	return count;
}

static bool pod_present(const void *uid)
{
	return has_pod(uid);
}

static bool pod_absent(const void *uid)
{
	return !has_pod(uid);
}

static bool node_present(const void *name)
{
	return has_node(name);
}

static bool node_absent(const void *name)
{
	return !has_node(name);
}

/* Returns the number of log lines that contain both `first` and
 * `second`. */
static unsigned log_count(const char *first, const char *second)
{
	char *text = NULL;
	unsigned found = 0;

	if (!g_file_get_contents(fx.log_path, &text, NULL, NULL))
		return 0;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n');

		if (end != NULL)
			*end = '\0';
		if (strstr(line, first) != NULL && strstr(line, second) != NULL)
			found++;
		line = end != NULL ? end + 1 : NULL;
	}
	g_free(text);
	return found;
}

static bool log_has(const char *first, const char *second)
{
	return log_count(first, second) > 0;
}

/* A pod in the shape of the fixture's pods. */
static char *pod_change(const char *type, const char *name, const char *node,
			const char *cpu)
{
	return g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\"},"
		"\"spec\":{%s%s%s\"containers\":[{\"name\":\"main\",\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]},"
		"\"status\":{\"phase\":\"%s\"}}}",
		type, name, name, node != NULL ? "\"nodeName\":\"" : "",
		node != NULL ? node : "", node != NULL ? "\"," : "", cpu,
		node != NULL ? "Running" : "Pending");
}

static void control_pod(const char *type, const char *name, const char *node,
			const char *cpu)
{
	char *body = pod_change(type, name, node, cpu);

	test_control(&fx.server, "/control/objects", body);
	g_free(body);
}

/* ---- Tests --------------------------------------------------------------- */

Test(reflector, initial_sync_matches_server)
{
	char *node;
	inf_reflector_stats stats;

	start_both_and_sync();
	cr_assert_eq(score_model_node_count(fx.model), 3,
		     "nodes: expected 3, got %zu", score_model_node_count(fx.model));
	cr_assert_eq(pod_count(), 5, "pods: expected 5, got %zu", pod_count());
	cr_assert(has_node("node-c"), "node-c is in the model");
	node = pod_node("uid-web-1");
	cr_assert_str_eq(node, "node-a", "web-1 is on node-a, got %s", node);
	g_free(node);
	node = pod_node("uid-pending-1");
	cr_assert_str_eq(node, "", "pending-1 is unbound, got %s", node);
	g_free(node);
	cr_assert_eq(node_requested_cpu("node-b"), 2500,
		     "node-b requests 2500m, got %lld",
		     (long long)node_requested_cpu("node-b"));

	stats = stats_of(INF_RESOURCE_PODS);
	cr_assert_eq(stats.lists, 1, "one list, got %llu", (unsigned long long)stats.lists);
	cr_assert_eq(stats.objects, 5, "five pods tracked, got %llu",
		     (unsigned long long)stats.objects);
	cr_assert_str_eq(stats.resource_version, "10",
			 "list resourceVersion 10, got %s", stats.resource_version);
	cr_assert_eq(test_stat(&fx.server, "lists", "pods"), 3,
		     "5 pods in pages of 2 take 3 requests, got %ld",
		     test_stat(&fx.server, "lists", "pods"));
	cr_assert(log_has("listed", "pods"), "the list is logged");
}

Test(reflector, watch_events_applied)
{
	char *node;

	start_both_and_sync();
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-d\"},"
		     "\"status\":{\"allocatable\":{\"cpu\":\"16\",\"memory\":\"64Gi\",\"pods\":\"110\"},"
		     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}}");
	cr_assert(test_wait_until(node_present, "node-d", WAIT_MS), "node-d was added");

	control_pod("MODIFIED", "pending-2", "node-d", "1");
	control_pod("DELETED", "web-2", NULL, "500m");
	control_pod("ADDED", "new-1", "node-a", "250m");
	cr_assert(test_wait_until(pod_present, "uid-new-1", WAIT_MS), "new-1 was added");
	cr_assert(!has_pod("uid-web-2"), "web-2 was deleted before new-1 was added");
	node = pod_node("uid-pending-2");
	cr_assert_str_eq(node, "node-d", "pending-2 was bound to node-d, got %s", node);
	g_free(node);
	cr_assert_eq(node_requested_cpu("node-d"), 1000,
		     "node-d counts pending-2's new 1 CPU request, got %lld",
		     (long long)node_requested_cpu("node-d"));
	cr_assert_eq(node_requested_cpu("node-b"), 2000,
		     "node-b lost web-2's 500m, got %lld",
		     (long long)node_requested_cpu("node-b"));
	cr_assert_eq(node_requested_cpu("node-a"), 750,
		     "node-a gained new-1's 250m, got %lld",
		     (long long)node_requested_cpu("node-a"));

	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-c\"}}}");
	cr_assert(test_wait_until(node_absent, "node-c", WAIT_MS), "node-c was deleted");
	cr_assert_eq(stats_of(INF_RESOURCE_PODS).relists, 0, "no relist was needed");
	cr_assert_str_eq(stats_of(INF_RESOURCE_PODS).resource_version, "14",
			 "pods are at resourceVersion 14, got %s",
			 stats_of(INF_RESOURCE_PODS).resource_version);
}

static bool pods_watch_failed(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_PODS).watch_failures > 0;
}

Test(reflector, watch_cut_mid_event_loses_nothing)
{
	long lists_before;
	inf_reflector_stats stats;

	start_both_and_sync();
	lists_before = test_stat(&fx.server, "lists", "pods");
	/* The next pods watch sends one event whole and cuts the second in
	 * half; closing the open watches makes the reflector send it. */
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"watch\":true,\"cutAfterEvents\":1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	control_pod("ADDED", "cut-1", NULL, "100m");
	control_pod("ADDED", "cut-2", NULL, "100m");
	control_pod("ADDED", "cut-3", NULL, "100m");

	cr_assert(test_wait_until(pod_present, "uid-cut-3", WAIT_MS), "cut-3 arrived");
	cr_assert(has_pod("uid-cut-1"), "cut-1, before the cut, arrived");
	cr_assert(has_pod("uid-cut-2"), "cut-2, the cut event, arrived on the next watch");
	cr_assert(test_wait_until(pods_watch_failed, NULL, WAIT_MS),
		  "the cut counts as a watch failure");
	stats = stats_of(INF_RESOURCE_PODS);
	cr_assert_eq(stats.relists, 0, "a cut watch resumes without a relist, got %llu",
		     (unsigned long long)stats.relists);
	cr_assert_eq(test_stat(&fx.server, "lists", "pods"), lists_before,
		     "no list request after the cut");
	cr_assert_geq(test_stat(&fx.server, NULL, "faultsApplied"), 1,
		      "the cut fault was applied");
	cr_assert(log_has("watch failed, reconnecting", "pods"),
		  "the reconnect is logged with the resource");
}

static bool pods_relisted(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_PODS).relists > 0 &&
	       stats_of(INF_RESOURCE_PODS).lists > 1;
}

/* Takes the pods watch down, changes pods while it is down, compacts, and
 * lets it back: its resourceVersion is then too old and it must relist. */
static void relist_after_gone(bool gone_as_http)
{
	if (gone_as_http)
		test_control(&fx.server, "/control/settings", "{\"watchGoneAsHTTP\":true}");
	start_both_and_sync();
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"watch\":true,\"status\":500,\"times\":-1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	cr_assert(test_wait_until(pods_watch_failed, NULL, WAIT_MS),
		  "the pods watch is down");
	control_pod("DELETED", "web-2", NULL, "500m");
	control_pod("ADDED", "late-1", "node-a", "100m");
	test_control(&fx.server, "/control/compact", NULL);
	test_control(&fx.server, "/control/clear-faults", NULL);

	cr_assert(test_wait_until(pods_relisted, NULL, WAIT_MS),
		  "the reflector relisted after 410");
	cr_assert(test_wait_until(pod_present, "uid-late-1", WAIT_MS),
		  "the relist added late-1");
	cr_assert(!has_pod("uid-web-2"), "the relist removed web-2, deleted while unwatched");
	cr_assert_eq(pod_count(), 5, "pods: expected 5, got %zu", pod_count());
	cr_assert_eq(node_requested_cpu("node-b"), 2000,
		     "node-b no longer counts web-2, got %lld",
		     (long long)node_requested_cpu("node-b"));
	cr_assert(log_has("relisting", "pods"), "the relist is logged with the resource");
	cr_assert(log_has("relisting", "too old resource version"),
		  "the relist log gives the reason");
}

Test(reflector, relist_after_410_error_event)
{
	relist_after_gone(false);
}

Test(reflector, relist_after_410_http_status)
{
	relist_after_gone(true);
}

Test(reflector, retries_429_and_500_with_retry_after)
{
	gint64 started;
	double elapsed_ms;

	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"status\":429,\"retryAfter\":1}");
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"status\":500}");
	started = g_get_monotonic_time();
	start_both_and_sync();
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;

	cr_assert_geq(elapsed_ms, 1000.0,
		      "the reflector waits Retry-After: 1 s, synced after %.0f ms",
		      elapsed_ms);
	cr_assert_eq(test_stat(&fx.server, NULL, "faultsApplied"), 2,
		     "the 429 and the 500 were both sent");
	cr_assert_eq(test_stat(&fx.server, "lists", "nodes"), 2,
		     "then 2 pages were served, got %ld",
		     test_stat(&fx.server, "lists", "nodes"));
	cr_assert_eq(score_model_node_count(fx.model), 3, "all nodes synced");
	cr_assert(log_has("list failed, retrying", "429"), "the 429 is logged");
	cr_assert(log_has("list failed, retrying", "500"), "the 500 is logged");
}

Test(reflector, list_cut_and_connection_close_retried)
{
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"watch\":false,\"cutAfterEvents\":0}");
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"watch\":false,\"close\":true}");
	start_both_and_sync();
	cr_assert_eq(pod_count(), 5, "pods: expected 5, got %zu", pod_count());
	cr_assert_eq(test_stat(&fx.server, NULL, "faultsApplied"), 2,
		     "both faults were met");
}

static bool fault_applied(const void *data)
{
	(void)data;
	return test_stat(&fx.server, NULL, "faultsApplied") >= 1;
}

static bool pods_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_PODS]);
}

Test(reflector, continue_token_expiry_restarts_list)
{
	/* The second page waits 500 ms; a compaction meanwhile expires its
	 * continue token, so the list starts over. */
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"continue\":true,\"delayMs\":500}");
	start(INF_RESOURCE_PODS);
	cr_assert(test_wait_until(fault_applied, NULL, WAIT_MS),
		  "the second page request arrived");
	control_pod("DELETED", "web-2", NULL, "500m");
	test_control(&fx.server, "/control/compact", NULL);

	cr_assert(test_wait_until(pods_synced, NULL, WAIT_MS),
		  "pods synced after the restart");
	cr_assert_eq(pod_count(), 4, "the restarted list has 4 pods, got %zu", pod_count());
	cr_assert(!has_pod("uid-web-2"), "the restarted list sees the deletion");
	cr_assert_eq(test_stat(&fx.server, "lists", "pods"), 4,
		     "2 requests, then 2 pages of the restart: got %ld",
		     test_stat(&fx.server, "lists", "pods"));
	cr_assert_eq(stats_of(INF_RESOURCE_PODS).lists, 1, "one completed list");
	cr_assert(log_has("list restarting", "continue"), "the restart is logged");
}

static bool nodes_at_server_rv(const void *data)
{
	return strcmp(stats_of(INF_RESOURCE_NODES).resource_version, data) == 0;
}

Test(reflector, bookmark_avoids_relist)
{
	char rv[32];

	start_both_and_sync();
	/* Pod changes move the server's resourceVersion past the nodes'. */
	control_pod("ADDED", "churn-1", NULL, "100m");
	control_pod("ADDED", "churn-2", NULL, "100m");
	test_control(&fx.server, "/control/bookmark", NULL);
	g_snprintf(rv, sizeof(rv), "%ld", test_stat(&fx.server, NULL, "resourceVersion"));
	cr_assert(test_wait_until(nodes_at_server_rv, rv, WAIT_MS),
		  "the nodes bookmark moved their resourceVersion to %s, got %s", rv,
		  stats_of(INF_RESOURCE_NODES).resource_version);

	test_control(&fx.server, "/control/compact", NULL);
	test_control(&fx.server, "/control/close-watches", NULL);
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-e\"}}}");
	cr_assert(test_wait_until(node_present, "node-e", WAIT_MS), "node-e arrived");
	cr_assert_eq(stats_of(INF_RESOURCE_NODES).relists, 0,
		     "nodes resumed from the bookmark without a relist");
	cr_assert_eq(stats_of(INF_RESOURCE_NODES).lists, 1, "nodes listed once");
}

Test(reflector, undecodable_object_skipped)
{
	inf_reflector_stats stats;

	start_both_and_sync();
	control_pod("ADDED", "bad-1", NULL, "lots");
	control_pod("ADDED", "good-1", NULL, "100m");
	cr_assert(test_wait_until(pod_present, "uid-good-1", WAIT_MS),
		  "events after a bad one still apply");
	cr_assert(!has_pod("uid-bad-1"), "the undecodable pod is not in the model");
	stats = stats_of(INF_RESOURCE_PODS);
	cr_assert_eq(stats.decode_failures, 1, "one decode failure, got %llu",
		     (unsigned long long)stats.decode_failures);
	cr_assert(log_has("could not be decoded", "uid-bad-1"),
		  "the skipped object is logged with its key");

	/* Deleting it later is harmless. */
	control_pod("DELETED", "bad-1", NULL, "lots");
	control_pod("DELETED", "good-1", NULL, "100m");
	cr_assert(test_wait_until(pod_absent, "uid-good-1", WAIT_MS), "good-1 deleted");
}

static bool node_has_problem(const void *name)
{
	bool found;

	g_rw_lock_reader_lock(&fx.lock);
	found = score_model_node_problem(fx.model, name) != NULL;
	g_rw_lock_reader_unlock(&fx.lock);
	return found;
}

static bool node_problem_cleared(const void *name)
{
	return !node_has_problem(name) && has_node(name);
}

Test(reflector, undecodable_node_problem_recorded)
{
	char *problem;

	start_both_and_sync();
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-bad\"},"
		     "\"status\":{\"allocatable\":{\"cpu\":\"lots\"}}}}");
	cr_assert(test_wait_until(node_has_problem, "node-bad", WAIT_MS),
		  "the model records why node-bad is missing");
	g_rw_lock_reader_lock(&fx.lock);
	problem = g_strdup(score_model_node_problem(fx.model, "node-bad"));
	g_rw_lock_reader_unlock(&fx.lock);
	cr_assert(strstr(problem, "lots") != NULL,
		  "the problem names the bad value: %s", problem);
	g_free(problem);
	cr_assert(!has_node("node-bad"), "the undecodable node is not in the model");

	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-bad\"},"
		     "\"status\":{\"allocatable\":{\"cpu\":\"2\"}}}}");
	cr_assert(test_wait_until(node_problem_cleared, "node-bad", WAIT_MS),
		  "a good copy replaces the problem");
}

Test(reflector, stop_interrupts_open_watch)
{
	gint64 started;
	double elapsed_ms;

	start_both_and_sync();
	started = g_get_monotonic_time();
	inf_reflector_free(fx.reflectors[INF_RESOURCE_PODS]);
	fx.reflectors[INF_RESOURCE_PODS] = NULL;
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_lt(elapsed_ms, 500.0, "stopping took %.0f ms, expected < 500",
		     elapsed_ms);
	cr_assert_eq(pod_count(), 5, "the pods stay in the model");
}

Test(reflector, rejects_bad_config)
{
	inf_reflector_config config = {.resource = INF_RESOURCE_COUNT};
	inf_reflector *r = NULL;
	score_error err = {0};

	cr_assert_eq(inf_reflector_start(&config, &r, &err), -EINVAL,
		     "an unknown resource is rejected");
	config.resource = INF_RESOURCE_PODS;
	cr_assert_eq(inf_reflector_start(&config, &r, &err), -EINVAL,
		     "a reflector without client and model is rejected");
	cr_assert_null(r, "nothing is returned on failure");
}

/* ---- Invalid, oversized and slow responses ------------------------------- */

/* Checks that the model contains the server's pods: the same uids, each
 * on the same node. */
static void assert_pods_match_server(void)
{
	char *url = g_strconcat(fx.server.url, "/api/v1/pods", NULL);
	test_response response;
	const cJSON *items, *item;
	cJSON *list;
	size_t count = 0;

	test_http("GET", url, NULL, 0, &response);
	cr_assert_eq(response.status, 200, "GET %s: HTTP %ld", url, response.status);
	list = cJSON_Parse(response.body->str);
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	cr_assert(cJSON_IsArray(items), "the server's pod list has items: %s",
		  response.body->str);
	cJSON_ArrayForEach(item, items) {
		const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(item, "metadata");
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(item, "spec");
		const char *uid = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(metadata, "uid"));
		const char *node = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(spec, "nodeName"));
		char *model_node;

		cr_assert_not_null(uid, "a pod of the server has no uid");
		model_node = pod_node(uid);
		cr_assert_not_null(model_node, "pod %s of the server is missing from the model",
				   uid);
		cr_assert_str_eq(model_node, node != NULL ? node : "",
				 "pod %s: the server has it on \"%s\", the model on \"%s\"",
				 uid, node != NULL ? node : "", model_node);
		g_free(model_node);
		count++;
	}
	cr_assert_eq(pod_count(), count, "the model has the server's %zu pods, got %zu",
		     count, pod_count());
	cJSON_Delete(list);
	test_response_release(&response);
	g_free(url);
}

static bool pods_watch_open(const void *data)
{
	(void)data;
	return test_stat(&fx.server, "watches", "pods") >= 1;
}

static bool pods_listed_twice(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_PODS).lists >= 2;
}

/* Sends `line` on the open pods watch, followed at once by the changes in
 * `then` (a JSON array, or NULL). */
static void inject(const char *line, const char *then)
{
	cJSON *body = cJSON_CreateObject();
	char *text;

	cr_assert_not_null(body, "cJSON_CreateObject failed");
	cr_assert(test_wait_until(pods_watch_open, NULL, WAIT_MS),
		  "the pods watch is open before the injection");
	cr_assert_not_null(cJSON_AddStringToObject(body, "resource", "pods"),
			   "cannot build the injection");
	cr_assert_not_null(cJSON_AddStringToObject(body, "line", line),
			   "cannot build the injection");
	if (then != NULL) {
		cJSON *changes = cJSON_Parse(then);

		cr_assert_not_null(changes, "the changes are not JSON: %s", then);
		cJSON_AddItemToObject(body, "then", changes);
	}
	text = cJSON_PrintUnformatted(body);
	cr_assert_not_null(text, "cannot print the injection");
	test_control(&fx.server, "/control/inject", text);
	cJSON_free(text);
	cJSON_Delete(body);
}

/* Returns a JSON array that deletes web-2 and adds after-1 to node-a. */
static char *changes_after_line(void)
{
	char *deleted = pod_change("DELETED", "web-2", NULL, "500m");
	char *added = pod_change("ADDED", "after-1", "node-a", "100m");
	char *changes = g_strdup_printf("[%s,%s]", deleted, added);

	g_free(deleted);
	g_free(added);
	return changes;
}

/* Breaks the pods watch with `line`, directly followed by a deletion and
 * an addition, and checks that the reflector counts the line as `reason`,
 * logs `logged`, relists once, and ends with the server's pods. */
static void assert_invalid_line_relists(const char *line,
					inf_invalid_reason reason,
					const char *logged)
{
	char *changes = changes_after_line();
	inf_reflector_stats stats;

	start_both_and_sync();
	inject(line, changes);
	g_free(changes);
	cr_assert(test_wait_until(pods_listed_twice, NULL, WAIT_MS),
		  "the pods reflector listed again after the invalid line");

	assert_pods_match_server();
	cr_assert(has_pod("uid-after-1"), "after-1, sent right after the invalid line, arrived");
	cr_assert(!has_pod("uid-web-2"), "web-2, deleted right after the invalid line, is gone");
	cr_assert_eq(node_requested_cpu("node-b"), 2000,
		     "node-b no longer counts web-2's 500m, got %lld",
		     (long long)node_requested_cpu("node-b"));
	stats = stats_of(INF_RESOURCE_PODS);
	for (int r = 0; r < INF_INVALID_REASON_COUNT; r++)
		cr_assert_eq(stats.invalid_responses[r], r == (int)reason ? 1u : 0u,
			     "invalid responses of reason %s: expected %d, got %llu",
			     inf_invalid_reason_name((inf_invalid_reason)r),
			     r == (int)reason, (unsigned long long)stats.invalid_responses[r]);
	cr_assert_eq(stats.relists, 1, "one relist, got %llu",
		     (unsigned long long)stats.relists);
	cr_assert(log_has("watch stream invalid, relisting", "resource=pods"),
		  "the invalid line is logged with the resource");
	cr_assert(log_has("watch stream invalid, relisting", logged),
		  "the log shows \"%s\"", logged);

	/* The watch after the relist works: an event needs no further list. */
	control_pod("ADDED", "later-1", NULL, "100m");
	cr_assert(test_wait_until(pod_present, "uid-later-1", WAIT_MS), "later-1 arrived");
	cr_assert_eq(stats_of(INF_RESOURCE_PODS).lists, 2, "no third list, got %llu",
		     (unsigned long long)stats_of(INF_RESOURCE_PODS).lists);
	cr_assert_eq(stats_of(INF_RESOURCE_NODES).lists, 1, "the nodes watch was not touched");
}

Test(reflector, watch_line_not_json_relists)
{
	assert_invalid_line_relists("this is not JSON {", INF_INVALID_NOT_JSON,
				    "this is not JSON {");
}

Test(reflector, watch_value_not_event_relists)
{
	assert_invalid_line_relists("[\"ADDED\",{\"kind\":\"Pod\"}]", INF_INVALID_NOT_EVENT,
				    "is not an event");
}

Test(reflector, watch_unknown_event_type_relists)
{
	assert_invalid_line_relists(
		"{\"type\":\"RENAMED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\"}}}",
		INF_INVALID_UNKNOWN_TYPE, "unknown type \\\"RENAMED\\\"");
}

Test(reflector, watch_line_excerpt_hides_tokens)
{
	const char *jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdG93YWdlIn0.c2lnbmF0dXJl";
	char *line = g_strdup_printf("oops Authorization: Bearer s3cr3t-t0ken id=%s", jwt);

	start_both_and_sync();
	inject(line, NULL);
	g_free(line);
	cr_assert(test_wait_until(pods_listed_twice, NULL, WAIT_MS),
		  "the pods reflector listed again after the invalid line");
	cr_assert(log_has("watch stream invalid", "Bearer [redacted]"),
		  "the bearer token is redacted in the excerpt");
	cr_assert(log_has("watch stream invalid", "id=[redacted]"),
		  "the JSON Web Token is redacted in the excerpt");
	cr_assert(!log_has("s3cr3t-t0ken", "s3cr3t-t0ken"), "no log line has the token");
	cr_assert(!log_has("eyJhbGciOi", "eyJhbGciOi"), "no log line has the JWT");
}

Test(reflector, watch_line_over_limit_relists)
{
	inf_reflector_config nodes = test_config(INF_RESOURCE_NODES);
	inf_reflector_config pods = test_config(INF_RESOURCE_PODS);
	char *changes = changes_after_line();
	char *line = g_strnfill(10000, 'x');
	inf_reflector_stats stats;
	char *run;

	pods.max_event_bytes = 4096;
	start_with(&nodes);
	start_with(&pods);
	cr_assert(test_wait_until(both_synced, NULL, WAIT_MS), "reflectors synced");
	inject(line, changes);
	g_free(line);
	g_free(changes);
	cr_assert(test_wait_until(pods_listed_twice, NULL, WAIT_MS),
		  "the pods reflector listed again after the long line");

	assert_pods_match_server();
	cr_assert(has_pod("uid-after-1"), "after-1, sent right after the long line, arrived");
	stats = stats_of(INF_RESOURCE_PODS);
	cr_assert_eq(stats.invalid_responses[INF_INVALID_TOO_LARGE], 1,
		     "one line over the limit, got %llu",
		     (unsigned long long)stats.invalid_responses[INF_INVALID_TOO_LARGE]);
	cr_assert_eq(stats.invalid_responses[INF_INVALID_NOT_JSON], 0,
		     "the line was rejected for its length before parsing");
	cr_assert(log_has("watch stream invalid, relisting", "the 4096-byte limit"),
		  "the log gives the limit");
	cr_assert(log_has("watch stream invalid, relisting", "resource=pods"),
		  "the log names the resource");
	cr_assert(log_has("watch stream invalid, relisting", "xxxxxxxx..."),
		  "the log shows the start of the line, cut short");
	run = g_strnfill(65, 'x');
	cr_assert(!log_has("watch stream invalid", run),
		  "the excerpt holds at most 64 bytes of the line");
	g_free(run);
}

/* A pod of `name` with an annotation of `bytes` bytes. */
static char *big_pod_change(const char *type, const char *name, size_t bytes)
{
	char *note = g_strnfill(bytes, 'n');
	char *change = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\","
		"\"annotations\":{\"note\":\"%s\"}},"
		"\"spec\":{\"containers\":[{\"name\":\"main\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]},"
		"\"status\":{\"phase\":\"Pending\"}}}",
		type, name, name, note);

	g_free(note);
	return change;
}

static void control_big_pod(const char *type, const char *name, size_t bytes)
{
	char *body = big_pod_change(type, name, bytes);

	test_control(&fx.server, "/control/objects", body);
	g_free(body);
}

Test(reflector, object_over_event_limit_arrives_by_relist)
{
	inf_reflector_config pods = test_config(INF_RESOURCE_PODS);
	inf_reflector_stats stats;

	pods.max_event_bytes = 4096;
	start_with(&pods);
	cr_assert(test_wait_until(pods_synced, NULL, WAIT_MS), "pods synced");
	cr_assert(test_wait_until(pods_watch_open, NULL, WAIT_MS), "the pods watch is open");
	control_big_pod("ADDED", "big-1", 6000);

	cr_assert(test_wait_until(pod_present, "uid-big-1", WAIT_MS),
		  "the relist brought big-1, whose event was too long");
	assert_pods_match_server();
	stats = stats_of(INF_RESOURCE_PODS);
	cr_assert_eq(stats.invalid_responses[INF_INVALID_TOO_LARGE], 1,
		     "one event over the limit, got %llu",
		     (unsigned long long)stats.invalid_responses[INF_INVALID_TOO_LARGE]);
	cr_assert_eq(stats.relists, 1, "one relist, got %llu",
		     (unsigned long long)stats.relists);
	cr_assert(log_has("watch stream invalid, relisting", "the 4096-byte limit"),
		  "the log gives the limit");
	cr_assert(log_has("watch stream invalid, relisting", "{\\\"type\\\":\\\"ADDED\\\""),
		  "the excerpt shows the start of the event");
}

Test(reflector, list_page_over_limit_uses_smaller_pages)
{
	inf_reflector_config pods = test_config(INF_RESOURCE_PODS);

	/* The two big pods sort first, so the first page of 2 contains both
	 * (about 6.8 KiB). One of them alone fits in 5000 bytes. */
	control_big_pod("ADDED", "aa-big-1", 3000);
	control_big_pod("ADDED", "aa-big-2", 3000);
	pods.max_list_page_bytes = 5000;
	start_with(&pods);
	cr_assert(test_wait_until(pods_synced, NULL, WAIT_MS), "pods synced");

	cr_assert_eq(pod_count(), 7, "pods: expected 7, got %zu", pod_count());
	cr_assert_eq(stats_of(INF_RESOURCE_PODS).invalid_responses[INF_INVALID_TOO_LARGE], 1,
		     "one page over the limit");
	cr_assert(log_has("list page too large", "page_size=1"),
		  "the log gives the smaller page size");
	cr_assert(log_has("list page too large", "a page of 2 objects is"),
		  "the log gives the page's object count");
	cr_assert(log_has("list page too large", "over the 5000-byte limit"),
		  "the log gives the limit");
	/* Pages: [big-1, big-2] rejected, [big-1], then pages of 2 again:
	 * [big-2, pending-2], [web-1, web-2], [batch-1, pending-1]. */
	cr_assert_eq(test_stat(&fx.server, "lists", "pods"), 5,
		     "5 list requests as the page size grew back, got %ld",
		     test_stat(&fx.server, "lists", "pods"));
	assert_pods_match_server();
}

typedef struct error_expectation {
	inf_resource resource;
	const char *text;
} error_expectation;

static bool last_error_has(const void *data)
{
	const error_expectation *e = data;
	score_error err = {0};

	return inf_reflector_last_error(fx.reflectors[e->resource], &err) &&
	       strstr(err.message, e->text) != NULL;
}

Test(reflector, list_object_over_limit_fails_until_deleted)
{
	inf_reflector_config pods = test_config(INF_RESOURCE_PODS);
	error_expectation single = {INF_RESOURCE_PODS, "a single object is"};
	score_error err = {0};
	const char *size;
	long bytes;

	control_big_pod("ADDED", "aa-big-1", 6000);
	pods.max_list_page_bytes = 5000;
	start_with(&pods);
	cr_assert(test_wait_until(last_error_has, &single, WAIT_MS),
		  "the list fails on the object alone");
	cr_assert(!inf_reflector_synced(fx.reflectors[INF_RESOURCE_PODS]),
		  "pods are not synced while the object is over the limit");
	cr_assert(inf_reflector_last_error(fx.reflectors[INF_RESOURCE_PODS], &err),
		  "the error is kept");
	cr_assert_not_null(strstr(err.message, "listing pods from"),
			   "the error names the resource: %s", err.message);
	cr_assert_not_null(strstr(err.message, fx.server.url),
			   "the error names the server: %s", err.message);
	cr_assert_not_null(strstr(err.message, "over the 5000-byte list page limit"),
			   "the error gives the limit: %s", err.message);
	size = strstr(err.message, "a single object is ");
	cr_assert_not_null(size, "the error says one object is too large: %s", err.message);
	/* A page of the object alone: its 6000-byte annotation and the rest. */
	bytes = strtol(size + strlen("a single object is "), NULL, 10);
	cr_assert(bytes > 6000 && bytes < 8000,
		  "the error gives the page's size, about 6.5 KB: %s", err.message);
	cr_assert(log_has("list failed, retrying", "a single object is"),
		  "the failure is logged and retried");

	control_big_pod("DELETED", "aa-big-1", 0);
	cr_assert(test_wait_until(pods_synced, NULL, WAIT_MS),
		  "pods sync once the object is gone");
	cr_assert_eq(pod_count(), 5, "pods: expected 5, got %zu", pod_count());
	cr_assert_geq(stats_of(INF_RESOURCE_PODS).invalid_responses[INF_INVALID_TOO_LARGE], 2,
		      "every oversized page is counted");
}

static bool nodes_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_NODES]);
}

Test(reflector, slow_list_within_request_timeout)
{
	gint64 started;
	double elapsed_ms;

	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"delayMs\":400}");
	started = g_get_monotonic_time();
	start(INF_RESOURCE_NODES);
	cr_assert(test_wait_until(nodes_synced, NULL, WAIT_MS), "nodes synced");
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;

	cr_assert_geq(elapsed_ms, 400.0, "the list waited for the slow page: %.0f ms",
		      elapsed_ms);
	cr_assert(!log_has("list failed", "nodes"),
		  "a page slower than usual but within the request timeout is no failure");
	cr_assert(!inf_reflector_last_error(fx.reflectors[INF_RESOURCE_NODES], NULL),
		  "no error is kept");
	cr_assert_eq(test_stat(&fx.server, "lists", "nodes"), 2,
		     "2 pages, neither sent twice: got %ld",
		     test_stat(&fx.server, "lists", "nodes"));
	cr_assert_eq(score_model_node_count(fx.model), 3, "all nodes synced");
}

Test(reflector, slow_list_past_request_timeout_retried)
{
	inf_reflector_config nodes = test_config(INF_RESOURCE_NODES);
	gint64 started;
	double elapsed_ms;

	nodes.request_timeout_ms = 300;
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":false,\"delayMs\":3000}");
	started = g_get_monotonic_time();
	start_with(&nodes);
	cr_assert(test_wait_until(nodes_synced, NULL, WAIT_MS), "nodes synced");
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;

	cr_assert_lt(elapsed_ms, 2000.0,
		     "the reflector gave up on the 3 s page after 300 ms: synced after %.0f ms",
		     elapsed_ms);
	cr_assert(log_has("list failed, retrying", "timed out after 300 ms"),
		  "the timeout is logged with its length");
	cr_assert(log_has("list failed, retrying", "listing nodes from"),
		  "the timeout names the resource");
	cr_assert_eq(score_model_node_count(fx.model), 3, "all nodes synced");
}

/* ---- Namespaces and NetworkPolicies -------------------------------------- */

/* Returns the namespace's label `key`, "" when the namespace has no such
 * label, NULL when the model lacks the namespace; the caller frees it. */
static char *namespace_label(const char *name, const char *key)
{
	const score_labels *labels;
	char *value = NULL;

	g_rw_lock_reader_lock(&fx.lock);
	labels = score_model_namespace_labels(fx.model, name);
	if (labels != NULL)
		value = g_strdup(score_labels_get(labels, key) != NULL ?
					 score_labels_get(labels, key) : "");
	g_rw_lock_reader_unlock(&fx.lock);
	return value;
}

typedef struct label_expectation {
	const char *namespace, *key, *value; /* value NULL: namespace absent */
} label_expectation;

static bool namespace_label_is(const void *data)
{
	const label_expectation *e = data;
	char *value = namespace_label(e->namespace, e->key);
	bool holds = e->value == NULL ? value == NULL :
					value != NULL && strcmp(value, e->value) == 0;

	g_free(value);
	return holds;
}

static void control_namespace(const char *type, const char *name,
			      const char *tenant)
{
	char *body = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Namespace\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"%s\",\"labels\":{\"tenant\":\"%s\"}}}}",
		type, name, tenant);

	test_control(&fx.server, "/control/objects", body);
	g_free(body);
}

static bool namespaces_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_NAMESPACES]);
}

Test(reflector, namespace_labels_follow_events)
{
	label_expectation added = {"team-b", "tenant", "blue"};
	label_expectation modified = {"team-b", "tenant", "green"};
	label_expectation deleted = {"team-b", "tenant", NULL};
	inf_reflector_stats stats;
	char *value;

	start(INF_RESOURCE_NAMESPACES);
	cr_assert(test_wait_until(namespaces_synced, NULL, WAIT_MS), "namespaces synced");
	cr_assert_eq(score_model_namespace_count(fx.model), 2,
		     "the fixture's 2 namespaces, got %zu",
		     score_model_namespace_count(fx.model));
	value = namespace_label("team-a", "kubernetes.io/metadata.name");
	cr_assert_str_eq(value, "team-a", "team-a's name label, got %s", value);
	g_free(value);

	control_namespace("ADDED", "team-b", "blue");
	cr_assert(test_wait_until(namespace_label_is, &added, WAIT_MS),
		  "team-b was added with tenant=blue");
	control_namespace("MODIFIED", "team-b", "green");
	cr_assert(test_wait_until(namespace_label_is, &modified, WAIT_MS),
		  "team-b's label changed to green");
	control_namespace("DELETED", "team-b", "green");
	cr_assert(test_wait_until(namespace_label_is, &deleted, WAIT_MS),
		  "team-b was removed from the model");

	stats = stats_of(INF_RESOURCE_NAMESPACES);
	cr_assert_eq(stats.events_by_type[INF_EVENT_ADDED], 1, "one ADDED, got %llu",
		     (unsigned long long)stats.events_by_type[INF_EVENT_ADDED]);
	cr_assert_eq(stats.events_by_type[INF_EVENT_MODIFIED], 1, "one MODIFIED, got %llu",
		     (unsigned long long)stats.events_by_type[INF_EVENT_MODIFIED]);
	cr_assert_eq(stats.events_by_type[INF_EVENT_DELETED], 1, "one DELETED, got %llu",
		     (unsigned long long)stats.events_by_type[INF_EVENT_DELETED]);
	cr_assert_eq(stats.objects, 2, "2 namespaces tracked, got %llu",
		     (unsigned long long)stats.objects);
	cr_assert_eq(score_model_node_count(fx.model), 0,
		     "the namespaces reflector puts no nodes");
}

static void control_policy(const char *type, const char *namespace,
			   const char *name, const char *spec)
{
	char *body = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"NetworkPolicy\","
		"\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":{\"name\":\"%s\","
		"\"namespace\":\"%s\"},\"spec\":%s}}",
		type, name, namespace, spec);

	test_control(&fx.server, "/control/objects", body);
	g_free(body);
}

/* Returns a reference to the model's policy with `key`, or NULL. */
static score_network_policy *model_policy(const char *key)
{
	score_network_policy *policy;

	g_rw_lock_reader_lock(&fx.lock);
	policy = score_model_network_policy(fx.model, key);
	if (policy != NULL)
		score_network_policy_ref(policy);
	g_rw_lock_reader_unlock(&fx.lock);
	return policy;
}

static size_t model_policy_count(void)
{
	size_t count;

	g_rw_lock_reader_lock(&fx.lock);
	count = score_model_network_policy_count(fx.model);
	g_rw_lock_reader_unlock(&fx.lock);
	return count;
}

static bool policy_present(const void *key)
{
	score_network_policy *policy = model_policy(key);

	score_network_policy_unref(policy);
	return policy != NULL;
}

static bool policy_absent(const void *key)
{
	return !policy_present(key);
}

static bool policy_egress(const void *key)
{
	score_network_policy *policy = model_policy(key);
	bool egress = policy != NULL && policy->egress;

	score_network_policy_unref(policy);
	return egress;
}

static bool policies_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_NETWORK_POLICIES]);
}

Test(reflector, network_policies_into_model)
{
	score_network_policy *policy;
	inf_reflector_stats stats;

	control_policy("ADDED", "default", "deny-all", "{\"podSelector\":{}}");
	control_policy("ADDED", "team-a", "allow-web",
		       "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
		       "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}");
	start(INF_RESOURCE_NETWORK_POLICIES);
	cr_assert(test_wait_until(policies_synced, NULL, WAIT_MS), "policies synced");
	cr_assert_eq(model_policy_count(), 2, "2 policies in the model, got %zu",
		     model_policy_count());
	policy = model_policy("team-a/allow-web");
	cr_assert_not_null(policy, "team-a/allow-web is stored");
	cr_assert_eq(policy->n_ingress_rules, 1, "with its ingress rule");
	cr_assert_eq(policy->pod_selector.n_requirements, 1, "and its pod selector");
	score_network_policy_unref(policy);
	cr_assert_eq(score_model_namespace_count(fx.model), 0,
		     "policies add no namespace to the model");

	control_policy("MODIFIED", "default", "deny-all",
		       "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}");
	cr_assert(test_wait_until(policy_egress, "default/deny-all", WAIT_MS),
		  "the modified policy isolates egress");
	control_policy("DELETED", "team-a", "allow-web", "{}");
	cr_assert(test_wait_until(policy_absent, "team-a/allow-web", WAIT_MS),
		  "the deleted policy left the model");

	control_policy("ADDED", "default", "broken",
		       "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}}");
	control_policy("ADDED", "default", "after", "{}");
	cr_assert(test_wait_until(policy_present, "default/after", WAIT_MS),
		  "a policy after a broken one arrives");
	cr_assert(!policy_present("default/broken"), "the broken policy is not stored");
	cr_assert(log_has("could not be decoded", "default/broken"),
		  "the broken policy is logged with its key");
	stats = stats_of(INF_RESOURCE_NETWORK_POLICIES);
	cr_assert_eq(stats.decode_failures, 1, "one decode failure, got %llu",
		     (unsigned long long)stats.decode_failures);
	cr_assert_eq(stats.events_by_type[INF_EVENT_ADDED], 1,
		     "one ADDED applied (the broken one is not), got %llu",
		     (unsigned long long)stats.events_by_type[INF_EVENT_ADDED]);
}

static bool policies_relisted(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_NETWORK_POLICIES).relists > 0 &&
	       stats_of(INF_RESOURCE_NETWORK_POLICIES).lists > 1;
}

static bool policies_watch_failed(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_NETWORK_POLICIES).watch_failures > 0;
}

static bool namespaces_relisted(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_NAMESPACES).relists > 0 &&
	       stats_of(INF_RESOURCE_NAMESPACES).lists > 1;
}

Test(reflector, policies_and_namespaces_relist_after_410)
{
	label_expectation team_a_gone = {"team-a", "tenant", NULL};

	control_policy("ADDED", "default", "old", "{}");
	start(INF_RESOURCE_NAMESPACES);
	start(INF_RESOURCE_NETWORK_POLICIES);
	cr_assert(test_wait_until(policies_synced, NULL, WAIT_MS), "policies synced");
	cr_assert(test_wait_until(namespaces_synced, NULL, WAIT_MS), "namespaces synced");

	/* Both watches go down; changes made meanwhile are compacted away. */
	test_control(&fx.server, "/control/faults",
		     "{\"watch\":true,\"status\":500,\"times\":-1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	cr_assert(test_wait_until(policies_watch_failed, NULL, WAIT_MS),
		  "the policies watch is down");
	control_policy("DELETED", "default", "old", "{}");
	control_policy("ADDED", "default", "new", "{}");
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\"}}}");
	test_control(&fx.server, "/control/compact", NULL);
	test_control(&fx.server, "/control/clear-faults", NULL);

	cr_assert(test_wait_until(policies_relisted, NULL, WAIT_MS), "policies relisted");
	cr_assert(test_wait_until(policy_present, "default/new", WAIT_MS),
		  "the relist added default/new");
	cr_assert(!policy_present("default/old"), "the relist removed default/old");
	cr_assert_eq(model_policy_count(), 1, "one policy left, got %zu",
		     model_policy_count());
	cr_assert(test_wait_until(namespaces_relisted, NULL, WAIT_MS), "namespaces relisted");
	cr_assert(test_wait_until(namespace_label_is, &team_a_gone, WAIT_MS),
		  "the relist removed team-a from the model");
	cr_assert(log_has("relisting", "networkpolicies"), "the relist is logged");
}

/* ---- Services ------------------------------------------------------------ */

static void control_service(const char *type, const char *namespace,
			    const char *name, const char *spec)
{
	char *body = g_strdup_printf(
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Service\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},\"spec\":%s}}",
		type, name, namespace, spec);

	test_control(&fx.server, "/control/objects", body);
	g_free(body);
}

/* Returns the type of the model's Service "namespace/name" (`key`), or -1
 * when the model has none. */
static int model_service_type(const char *key)
{
	char **parts = g_strsplit(key, "/", 2);
	const GPtrArray *services;
	int type = -1;

	g_rw_lock_reader_lock(&fx.lock);
	services = score_model_namespace_services(fx.model, parts[0]);
	for (guint i = 0; services != NULL && i < services->len; i++) {
		const score_service *service = g_ptr_array_index(services, i);

		if (strcmp(service->name, parts[1]) == 0)
			type = (int)service->type;
	}
	g_rw_lock_reader_unlock(&fx.lock);
	g_strfreev(parts);
	return type;
}

static bool service_present(const void *key)
{
	return model_service_type(key) >= 0;
}

static bool service_absent(const void *key)
{
	return model_service_type(key) < 0;
}

static bool service_is_load_balancer(const void *key)
{
	return model_service_type(key) == SCORE_SERVICE_LOAD_BALANCER;
}

static bool services_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_SERVICES]);
}

static bool services_relisted(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_SERVICES).relists > 0 &&
	       stats_of(INF_RESOURCE_SERVICES).lists > 1;
}

Test(reflector, services_into_model)
{
	inf_reflector_stats stats;
	size_t count;

	control_service("ADDED", "shop", "web",
			"{\"type\":\"NodePort\",\"selector\":{\"app\":\"web\"},"
			"\"ports\":[{\"port\":80,\"nodePort\":30080}]}");
	control_service("ADDED", "data", "db",
			"{\"selector\":{\"app\":\"db\"},\"ports\":[{\"port\":5432}]}");
	start(INF_RESOURCE_SERVICES);
	cr_assert(test_wait_until(services_synced, NULL, WAIT_MS), "services synced");
	g_rw_lock_reader_lock(&fx.lock);
	count = score_model_service_count(fx.model);
	g_rw_lock_reader_unlock(&fx.lock);
	cr_assert_eq(count, 2, "2 Services in the model, got %zu", count);
	cr_assert_eq(model_service_type("shop/web"), SCORE_SERVICE_NODE_PORT,
		     "shop/web is a NodePort Service, got %d",
		     model_service_type("shop/web"));

	control_service("MODIFIED", "shop", "web",
			"{\"type\":\"LoadBalancer\",\"selector\":{\"app\":\"web\"},"
			"\"ports\":[{\"port\":443,\"nodePort\":31443}]}");
	cr_assert(test_wait_until(service_is_load_balancer, "shop/web", WAIT_MS),
		  "the modified Service is a LoadBalancer");
	control_service("DELETED", "data", "db", "{}");
	cr_assert(test_wait_until(service_absent, "data/db", WAIT_MS),
		  "the deleted Service left the model");

	control_service("ADDED", "shop", "broken", "{\"type\":\"Ingress\"}");
	control_service("ADDED", "shop", "after", "{}");
	cr_assert(test_wait_until(service_present, "shop/after", WAIT_MS),
		  "a Service after a broken one arrives");
	cr_assert(!service_present("shop/broken"), "the broken Service is not stored");
	cr_assert(log_has("could not be decoded", "shop/broken"),
		  "the broken Service is logged with its key");
	stats = stats_of(INF_RESOURCE_SERVICES);
	cr_assert_eq(stats.decode_failures, 1, "one decode failure, got %llu",
		     (unsigned long long)stats.decode_failures);
}

Test(reflector, services_relist_after_410)
{
	control_service("ADDED", "shop", "old", "{}");
	start(INF_RESOURCE_SERVICES);
	cr_assert(test_wait_until(services_synced, NULL, WAIT_MS), "services synced");

	test_control(&fx.server, "/control/faults",
		     "{\"watch\":true,\"status\":500,\"times\":-1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	control_service("DELETED", "shop", "old", "{}");
	control_service("ADDED", "shop", "new", "{}");
	test_control(&fx.server, "/control/compact", NULL);
	test_control(&fx.server, "/control/clear-faults", NULL);

	cr_assert(test_wait_until(services_relisted, NULL, WAIT_MS), "services relisted");
	cr_assert(test_wait_until(service_present, "shop/new", WAIT_MS),
		  "the relist added shop/new");
	cr_assert(test_wait_until(service_absent, "shop/old", WAIT_MS),
		  "the relist removed shop/old");
}

Test(reflector, pod_with_bad_bandwidth_logged_and_kept)
{
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		     "\"metadata\":{\"name\":\"shaped\",\"namespace\":\"shop\",\"uid\":\"uid-shaped\","
		     "\"annotations\":{\"kubernetes.io/ingress-bandwidth\":\"fast\"}},"
		     "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}");
	start(INF_RESOURCE_PODS);
	cr_assert(test_wait_until(pod_present, "uid-shaped", WAIT_MS),
		  "the pod decodes despite the invalid annotation");
	cr_assert(log_has("pod shop/shaped: annotation kubernetes.io/ingress-bandwidth: invalid value",
			  "fast"),
		  "the ignored annotation is logged with the pod and the value");
}

static bool fast_logged(const void *data)
{
	(void)data;
	return log_has("object value ignored", "invalid value \\\"fast\\\"");
}

static bool pod_on_node_a(const void *uid)
{
	char *node = pod_node(uid);
	bool on_a = node != NULL && strcmp(node, "node-a") == 0;

	g_free(node);
	return on_a;
}

Test(reflector, bad_bandwidth_logged_once_per_value)
{
	static const char pod_format[] =
		"{\"type\":\"%s\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"shaped\",\"namespace\":\"shop\",\"uid\":\"uid-shaped\","
		"\"annotations\":{\"kubernetes.io/ingress-bandwidth\":\"%s\"}},"
		"\"spec\":{%s\"containers\":[{\"name\":\"c\"}]}}}";
	char *added = g_strdup_printf(pod_format, "ADDED", "300Mbps", "");
	char *bound = g_strdup_printf(pod_format, "MODIFIED", "300Mbps",
				      "\"nodeName\":\"node-a\",");
	char *changed = g_strdup_printf(pod_format, "MODIFIED", "fast",
					"\"nodeName\":\"node-a\",");

	test_control(&fx.server, "/control/objects", added);
	start(INF_RESOURCE_PODS);
	cr_assert(test_wait_until(pod_present, "uid-shaped", WAIT_MS), "the pod decodes");

	/* A status or binding change repeats the same value: no new line. */
	test_control(&fx.server, "/control/objects", bound);
	cr_assert(test_wait_until(pod_on_node_a, "uid-shaped", WAIT_MS),
		  "the MODIFIED event was applied");
	cr_assert_eq(log_count("object value ignored", "300Mbps"), 1,
		     "expected 1 line for 300Mbps over 2 events, got %u",
		     log_count("object value ignored", "300Mbps"));

	/* A new value is logged at once. */
	test_control(&fx.server, "/control/objects", changed);
	cr_assert(test_wait_until(fast_logged, NULL, WAIT_MS), "the new value is logged");
	cr_assert_eq(log_count("object value ignored", "300Mbps"), 1,
		     "still 1 line for 300Mbps, got %u",
		     log_count("object value ignored", "300Mbps"));
	g_free(added);
	g_free(bound);
	g_free(changed);
}

/* ---- Through the informer handle ----------------------------------------- */

static void setup_secured(void)
{
	setup_with("secret-token");
}

TestSuite(reflector_auth, .init = setup_secured, .fini = teardown, .timeout = 60);

Test(reflector_auth, unauthorized_gives_clear_error)
{
	inf_informer_config config = {.rest = &fx.rest, .model = fx.model,
				      .lock = &fx.lock, .log = fx.log,
				      .backoff_initial_ms = 20,
				      .backoff_max_ms = 100};
	inf_informer *informer = NULL;
	char token[] = "secret-token";
	score_error err = {0};
	int rc;

	cr_assert_eq(inf_informer_start(&config, &informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	rc = inf_informer_wait_synced(informer, 500, &err);
	cr_assert_eq(rc, -ETIMEDOUT, "no sync without a token, got %d", rc);
	cr_assert_not_null(strstr(err.message, "HTTP 401"),
			   "the error gives the status: %s", err.message);
	cr_assert_not_null(strstr(err.message, "credentials were rejected"),
			   "the error says what to check: %s", err.message);
	cr_assert_not_null(strstr(err.message, "nodes: "), "nodes are named: %s",
			   err.message);
	cr_assert_null(strstr(err.message, "secret-token"), "no token in the message");
	inf_informer_free(informer);

	fx.rest.token = token;
	cr_assert_eq(inf_informer_start(&config, &informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	rc = inf_informer_wait_synced(informer, WAIT_MS, &err);
	fx.rest.token = NULL;
	cr_assert_eq(rc, 0, "syncs with the token: %s", err.message);
	cr_assert_eq(score_model_node_count(fx.model), 3, "nodes synced");
	inf_informer_free(informer);
}

Test(reflector_auth, token_file_read_per_request)
{
	char *token_path = NULL;
	GError *error = NULL;
	int fd = g_file_open_tmp("stowage-token-XXXXXX", &token_path, &error);
	inf_informer_config config = {.rest = &fx.rest, .model = fx.model,
				      .lock = &fx.lock, .log = fx.log,
				      .backoff_initial_ms = 20,
				      .backoff_max_ms = 50};
	inf_informer *informer = NULL;
	score_error err = {0};

	cr_assert_geq(fd, 0, "cannot make a token file");
	close(fd);
	cr_assert(g_file_set_contents(token_path, "wrong-token\n", -1, NULL),
		  "cannot write the token file");
	fx.rest.token_file = token_path;
	cr_assert_eq(inf_informer_start(&config, &informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	cr_assert_eq(inf_informer_wait_synced(informer, 300, &err), -ETIMEDOUT,
		     "the wrong token does not sync");

	/* A rotated token is picked up by the next retry. */
	cr_assert(g_file_set_contents(token_path, "secret-token\n", -1, NULL),
		  "cannot rewrite the token file");
	cr_assert_eq(inf_informer_wait_synced(informer, WAIT_MS, &err), 0,
		     "syncs once the file has the right token: %s", err.message);
	inf_informer_free(informer);
	fx.rest.token_file = NULL;
	g_unlink(token_path);
	g_free(token_path);
}

/* ---- 403 Forbidden ------------------------------------------------------- */

static const char forbidden_pods_fault[] =
	"{\"path\":\"/api/v1/pods\",\"watch\":false,\"status\":403,\"times\":-1,"
	"\"message\":\"pods is forbidden: User \\\"system:serviceaccount:stowage:stowage\\\" "
	"cannot list resource \\\"pods\\\" in API group \\\"\\\" at the cluster scope\"}";

static const char forbidden_policies_fault[] =
	"{\"path\":\"/apis/networking.k8s.io/v1/networkpolicies\",\"watch\":false,"
	"\"status\":403,\"times\":-1}";

/* Checks that `informer`'s reflector of `resource` failed with a 403 that
 * names the server, the resource and the rule for `group`. */
static void assert_forbidden_error(inf_informer *informer, inf_resource resource,
				   const char *group)
{
	score_error err = {0};
	char *action = g_strdup_printf("listing %s from %s", inf_resource_name(resource),
				       fx.server.url);
	char *rule = g_strdup_printf("get, list and watch on %s: apiGroups [\"%s\"], resources [\"%s\"], verbs [\"get\", \"list\", \"watch\"]",
				     inf_resource_name(resource), group,
				     inf_resource_name(resource));

	cr_assert(inf_reflector_last_error(inf_informer_reflector(informer, resource), &err),
		  "%s keeps its error", inf_resource_name(resource));
	cr_assert_eq(err.code, -EACCES, "a 403 is -EACCES, got %d", err.code);
	cr_assert_not_null(strstr(err.message, action),
			   "the error names the server and the resource (%s): %s", action,
			   err.message);
	cr_assert_not_null(strstr(err.message, "HTTP 403 Forbidden"),
			   "the error gives the status: %s", err.message);
	cr_assert_not_null(strstr(err.message, rule),
			   "the error gives the RBAC rule (%s): %s", rule, err.message);
	g_free(rule);
	g_free(action);
}

static bool informer_synced(const void *informer)
{
	return inf_informer_synced((inf_informer *)informer);
}

Test(reflector, forbidden_list_names_rbac_rule)
{
	inf_informer_config config = {.rest = &fx.rest, .model = fx.model,
				      .lock = &fx.lock, .log = fx.log,
				      .backoff_initial_ms = 20,
				      .backoff_max_ms = 200};
	inf_informer *informer;
	score_error err = {0};
	unsigned attempts;
	int rc;

	test_control(&fx.server, "/control/faults", forbidden_pods_fault);
	test_control(&fx.server, "/control/faults", forbidden_policies_fault);
	cr_assert_eq(inf_informer_start(&config, &fx.informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	informer = fx.informer;
	rc = inf_informer_wait_synced(informer, 1000, &err);
	attempts = log_count("list failed, retrying", "resource=pods");

	cr_assert_eq(rc, -ETIMEDOUT, "no sync while pods are forbidden, got %d", rc);
	cr_assert(!inf_informer_synced(informer), "the informer is not ready");
	cr_assert(inf_reflector_synced(inf_informer_reflector(informer, INF_RESOURCE_NODES)),
		  "nodes, which are allowed, synced");
	assert_forbidden_error(informer, INF_RESOURCE_PODS, "");
	assert_forbidden_error(informer, INF_RESOURCE_NETWORK_POLICIES, "networking.k8s.io");
	cr_assert(log_has("list failed, retrying", "cannot list resource"),
		  "the server's own message is logged too");

	/* Backoff from 20 ms doubling to 200 ms allows about 14 attempts in a
	 * second; retrying without it would make hundreds. */
	cr_assert_geq(attempts, 3, "the list was retried: %u attempts", attempts);
	cr_assert_leq(attempts, 16, "the retries back off: %u attempts in 1 s", attempts);
	cr_assert(log_has("list failed, retrying", "failures=3"),
		  "the log counts the failures in a row");

	test_control(&fx.server, "/control/clear-faults", NULL);
	cr_assert(test_wait_until(informer_synced, informer, WAIT_MS),
		  "the informer syncs once the rule is granted");
	cr_assert_eq(pod_count(), 5, "pods: expected 5, got %zu", pod_count());
}

Test(reflector, forbidden_watch_names_rbac_rule)
{
	error_expectation forbidden = {INF_RESOURCE_NODES, "get, list and watch on nodes"};
	score_error err = {0};

	start(INF_RESOURCE_NODES);
	cr_assert(test_wait_until(nodes_synced, NULL, WAIT_MS), "nodes synced");
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/nodes\",\"watch\":true,\"status\":403,\"times\":-1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	cr_assert(test_wait_until(last_error_has, &forbidden, WAIT_MS),
		  "the forbidden watch names the rule");
	cr_assert(inf_reflector_last_error(fx.reflectors[INF_RESOURCE_NODES], &err),
		  "the error is kept");
	cr_assert_not_null(strstr(err.message, "watching nodes from"),
			   "the error names the request: %s", err.message);
	cr_assert(log_has("watch failed, reconnecting", "apiGroups [\\\"\\\"]"),
		  "the log gives the rule's API group");
}

/* ---- Replaying watch streams --------------------------------------------- */

typedef struct replay_fixture {
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
} replay_fixture;

static replay_fixture rx;

static void replay_setup(void)
{
	rx.resources = score_resource_table_new();
	rx.model = score_model_new(rx.resources);
	g_rw_lock_init(&rx.lock);
}

static void replay_teardown(void)
{
	score_model_free(rx.model);
	score_resource_table_free(rx.resources);
	g_rw_lock_clear(&rx.lock);
}

TestSuite(reflector_replay, .init = replay_setup, .fini = replay_teardown,
	  .timeout = 60);

static inf_watch_replay replay(const char *data, size_t length, size_t chunk)
{
	inf_watch_replay out;
	score_error err = {0};

	cr_assert_eq(inf_reflector_replay_watch(INF_RESOURCE_PODS, rx.model, &rx.lock,
						data, length, chunk, &out, &err),
		     0, "inf_reflector_replay_watch: %s", err.message);
	return out;
}

static bool replayed_pod(const char *uid)
{
	return score_model_pod(rx.model, uid) != NULL;
}

Test(reflector_replay, unfinished_line_stops_at_limit)
{
	size_t length = INF_DEFAULT_MAX_EVENT_BYTES + 1024 * 1024;
	char *data = g_malloc(length);
	inf_watch_replay out;

	memset(data, 'a', length);
	out = replay(data, length, 64 * 1024);
	g_free(data);
	cr_assert(out.broken, "a line over the limit breaks the stream");
	cr_assert(out.too_large, "the line is reported as too large");
	cr_assert_leq(out.pending_bytes, INF_DEFAULT_MAX_EVENT_BYTES,
		      "at most the limit is buffered: %zu bytes", out.pending_bytes);
	cr_assert_lt(out.consumed, length, "the stream stopped before its end: %zu of %zu",
		     out.consumed, length);
	cr_assert_geq(out.consumed, INF_DEFAULT_MAX_EVENT_BYTES - 64 * 1024,
		      "the bytes within the limit were taken: %zu", out.consumed);
}

Test(reflector_replay, complete_line_over_limit_rejected)
{
	size_t length = INF_DEFAULT_MAX_EVENT_BYTES + 2;
	char *data = g_malloc(length);
	inf_watch_replay out;

	memset(data, ' ', length);
	data[length - 1] = '\n';
	out = replay(data, length, 0);
	g_free(data);
	cr_assert(out.too_large, "a line one byte over the limit is rejected");
	cr_assert_eq(out.pending_bytes, 0, "nothing of it is buffered, got %zu",
		     out.pending_bytes);
	cr_assert_eq(out.events, 0, "no event, got %llu", (unsigned long long)out.events);
}

Test(reflector_replay, events_before_invalid_line_applied)
{
	char *first = pod_change("ADDED", "first", NULL, "100m");
	char *second = pod_change("ADDED", "second", NULL, "100m");
	char *stream = g_strdup_printf("%s\nnot JSON\n%s\n", first, second);
	inf_watch_replay out = replay(stream, strlen(stream), 0);

	cr_assert(out.broken, "the stream breaks at the line that is not JSON");
	cr_assert(!out.too_large, "the line is short");
	cr_assert_eq(out.events, 1, "one event before it, got %llu",
		     (unsigned long long)out.events);
	cr_assert(replayed_pod("uid-first"), "the event before the line is applied");
	cr_assert(!replayed_pod("uid-second"), "the event after it is not trusted");
	g_free(stream);
	g_free(second);
	g_free(first);
}

Test(reflector_replay, invalid_values_break_stream)
{
	static const char *const lines[] = {
		"not JSON",
		"42",
		"[{\"type\":\"ADDED\"}]",
		"{\"type\":\"ADDED\"}",
		"{\"type\":7,\"object\":{}}",
		"{\"type\":\"RENAMED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
		char *stream = g_strdup_printf("%s\n", lines[i]);
		inf_watch_replay out = replay(stream, strlen(stream), 3);

		cr_assert(out.broken, "line %s breaks the stream", lines[i]);
		cr_assert(!out.too_large, "line %s is not too large", lines[i]);
		cr_assert_eq(out.events, 0, "line %s is no event", lines[i]);
		g_free(stream);
	}
}

Test(reflector_replay, event_split_into_bytes_applied)
{
	char *event = pod_change("ADDED", "split", NULL, "100m");
	char *stream = g_strdup_printf("%s\r\n%s", event, event);
	inf_watch_replay out = replay(stream, strlen(stream), 1);

	cr_assert(!out.broken, "an event fed a byte at a time is valid");
	cr_assert_eq(out.events, 1, "one whole event, got %llu",
		     (unsigned long long)out.events);
	cr_assert(replayed_pod("uid-split"), "the event is applied");
	cr_assert_eq(out.pending_bytes, strlen(event),
		     "the second event waits for its newline: %zu bytes pending",
		     out.pending_bytes);
	cr_assert_eq(out.consumed, strlen(stream), "every byte was taken");
	g_free(stream);
	g_free(event);
}

/* ---- Through stowage serve ----------------------------------------------- */

/* `stowage serve` started by a test: the binary is $STOWAGE_BIN, else
 * build/<mode>/stowage beside the directory of the test binary. */
typedef struct serve_process {
	GPid pid;       /* 0 once stopped */
	char *dir;      /* contains the kubeconfig and the log */
	char *log_path;
	char address[64]; /* "127.0.0.1:PORT" once logged */
} serve_process;

static serve_process serve;

static void serve_setup(void)
{
	GError *error = NULL;

	setup();
	memset(&serve, 0, sizeof(serve));
	serve.dir = g_dir_make_tmp("stowage-reflector-serve-XXXXXX", &error);
	cr_assert_not_null(serve.dir, "cannot make a temporary directory: %s",
			   error != NULL ? error->message : "");
	serve.log_path = g_build_filename(serve.dir, "serve.log", NULL);
}

/* Stops the process with SIGTERM, or SIGKILL after 5 s; returns its wait
 * status, or -1 when it was not running or needed SIGKILL. */
static int serve_stop(void)
{
	int status;

	if (serve.pid == 0)
		return -1;
	status = test_child_stop(serve.pid, 5000);
	serve.pid = 0;
	return status;
}

static void serve_teardown(void)
{
	char *kubeconfig = g_build_filename(serve.dir, "kubeconfig", NULL);

	serve_stop();
	g_unlink(kubeconfig);
	g_unlink(serve.log_path);
	g_rmdir(serve.dir);
	g_free(kubeconfig);
	g_free(serve.log_path);
	g_free(serve.dir);
	teardown();
}

TestSuite(reflector_serve, .init = serve_setup, .fini = serve_teardown,
	  .timeout = 60);

static char *serve_log(void)
{
	char *text = NULL;

	return g_file_get_contents(serve.log_path, &text, NULL, NULL) ? text : g_strdup("");
}

static bool serve_log_has(const void *text)
{
	char *log = serve_log();
	bool found = strstr(log, text) != NULL;

	g_free(log);
	return found;
}

/* Copies the address from the complete "listening address=..." line. */
static bool serve_listening(const void *data)
{
	static const char key[] = "listening address=";
	char *log = serve_log();
	char *start = strstr(log, key);
	size_t length = 0;

	(void)data;
	if (start != NULL) {
		start += strlen(key);
		length = strcspn(start, " \n");
		if (start[length] == '\0' || length >= sizeof(serve.address))
			length = 0;
		else
			g_strlcpy(serve.address, start, length + 1);
	}
	g_free(log);
	return length > 0;
}

/* Starts `stowage serve` against the test API server on a free port and
 * waits until it logs its address. */
static void serve_start(void)
{
	char *bin = test_stowage_path();
	char *kubeconfig = g_build_filename(serve.dir, "kubeconfig", NULL);
	char *text = g_strdup_printf(
		"apiVersion: v1\nkind: Config\ncurrent-context: test\n"
		"clusters:\n- name: test\n  cluster:\n    server: %s\n"
		"users:\n- name: scheduler\n  user:\n    token: reflector-serve-token\n"
		"contexts:\n- name: test\n  context: {cluster: test, user: scheduler}\n",
		fx.server.url);
	const char *argv[] = {bin, "serve", "--kubeconfig", kubeconfig,
			      "--listen", "127.0.0.1:0", NULL};

	cr_assert(g_file_set_contents(kubeconfig, text, -1, NULL), "cannot write %s",
		  kubeconfig);
	serve.pid = test_child_start_logged(argv, serve.log_path);
	cr_assert(test_wait_until(serve_listening, NULL, WAIT_MS),
		  "stowage serve did not log its address within %d ms", WAIT_MS);
	g_free(text);
	g_free(kubeconfig);
	g_free(bin);
}

static long readyz_status(void)
{
	char *url = g_strdup_printf("http://%s/readyz", serve.address);
	test_response response;
	long status;

	test_http("GET", url, NULL, 0, &response);
	status = response.status;
	test_response_release(&response);
	g_free(url);
	return status;
}

static bool readyz_not_503(const void *data)
{
	(void)data;
	return readyz_status() != 503;
}

static bool readyz_200(const void *data)
{
	(void)data;
	return readyz_status() == 200;
}

Test(reflector_serve, forbidden_list_keeps_readyz_503)
{
	int status;
	char *log;

	test_control(&fx.server, "/control/faults", forbidden_pods_fault);
	serve_start();
	cr_assert(test_wait_until(serve_log_has, "get, list and watch on pods", WAIT_MS),
		  "the 403 is logged with the RBAC rule within %d ms", WAIT_MS);
	cr_assert(!test_wait_until(readyz_not_503, NULL, 1500),
		  "/readyz stays 503 while pods are forbidden");
	log = serve_log();
	cr_assert_not_null(strstr(log, fx.server.url), "the log names the server:\n%s", log);
	cr_assert_not_null(strstr(log, "listing pods from"),
			   "the log names the resource:\n%s", log);
	g_free(log);

	test_control(&fx.server, "/control/clear-faults", NULL);
	cr_assert(test_wait_until(readyz_200, NULL, 20000),
		  "/readyz turns 200 once the list is allowed");
	status = serve_stop();
	test_assert_exit_status(status, 0, "stowage serve after SIGTERM");
}
