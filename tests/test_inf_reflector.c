/* Integration tests for informer/reflector.c and informer/informer.c
 * against the test API server (tests/tools/apiserver.c): the initial sync,
 * watch events, a watch cut mid-event, relists after 410 with deletions
 * reconciled, retries of 429/500 with Retry-After, a continue token that
 * expires mid-list, bookmarks, 401, undecodable objects and stopping;
 * namespaces into the model and NetworkPolicies into the policy store.
 *
 * The fixture tests/fixtures/informer/cluster.json holds 3 nodes (node-a
 * 4 CPUs, node-b 8, node-c 2) and 5 pods: web-1 (500m) on node-a, web-2
 * (500m) and batch-1 (2 CPUs) on node-b, pending-1 and pending-2 unbound.
 * Pod uids are "uid-" + name. Pages hold 2 objects, so pods take 3 pages.
 */
#include "tests/inf_apiserver.h"

#include <glib/gstdio.h>

#include "informer/client.h"
#include "informer/informer.h"
#include "informer/reflector.h"

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
	inf_network_policy_store *policies;
	inf_reflector *reflectors[INF_RESOURCE_COUNT];
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
	fx.policies = inf_network_policy_store_new();
	cr_assert_eq(inf_client_new(&fx.rest, &fx.client, &err), 0,
		     "inf_client_new: %s", err.message);
}

static void setup(void)
{
	setup_with(NULL);
}

static void teardown(void)
{
	for (int i = 0; i < INF_RESOURCE_COUNT; i++)
		inf_reflector_free(fx.reflectors[i]);
	inf_network_policy_store_free(fx.policies);
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

static void start(inf_resource resource)
{
	inf_reflector_config config = {
		.resource = resource,
		.client = fx.client,
		.model = fx.model,
		.lock = &fx.lock,
		.log = fx.log,
		.network_policies = fx.policies,
		.page_size = 2,
		.backoff_initial_ms = 20,
		.backoff_max_ms = 200,
		.request_timeout_ms = 5000,
	};
	score_error err = {0};

	cr_assert_eq(inf_reflector_start(&config, &fx.reflectors[resource], &err), 0,
		     "inf_reflector_start: %s", err.message);
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

static bool log_has(const char *first, const char *second)
{
	char *text = NULL;
	bool found = false;

	if (!g_file_get_contents(fx.log_path, &text, NULL, NULL))
		return false;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n');

		if (end != NULL)
			*end = '\0';
		if (strstr(line, first) != NULL && strstr(line, second) != NULL)
			found = true;
		line = end != NULL ? end + 1 : NULL;
	}
	g_free(text);
	return found;
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

static bool policy_present(const void *key)
{
	inf_network_policy *policy = inf_network_policy_store_get(fx.policies, key);

	inf_network_policy_unref(policy);
	return policy != NULL;
}

static bool policy_absent(const void *key)
{
	return !policy_present(key);
}

static bool policy_egress(const void *key)
{
	inf_network_policy *policy = inf_network_policy_store_get(fx.policies, key);
	bool egress = policy != NULL && policy->egress;

	inf_network_policy_unref(policy);
	return egress;
}

static bool policies_synced(const void *data)
{
	(void)data;
	return inf_reflector_synced(fx.reflectors[INF_RESOURCE_NETWORK_POLICIES]);
}

Test(reflector, network_policies_into_store)
{
	inf_network_policy *policy;
	inf_reflector_stats stats;

	control_policy("ADDED", "default", "deny-all", "{\"podSelector\":{}}");
	control_policy("ADDED", "team-a", "allow-web",
		       "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
		       "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}");
	start(INF_RESOURCE_NETWORK_POLICIES);
	cr_assert(test_wait_until(policies_synced, NULL, WAIT_MS), "policies synced");
	cr_assert_eq(inf_network_policy_store_count(fx.policies), 2,
		     "2 policies in the store, got %zu",
		     inf_network_policy_store_count(fx.policies));
	policy = inf_network_policy_store_get(fx.policies, "team-a/allow-web");
	cr_assert_not_null(policy, "team-a/allow-web is stored");
	cr_assert_eq(policy->n_ingress_rules, 1, "with its ingress rule");
	cr_assert_eq(policy->pod_selector.n_requirements, 1, "and its pod selector");
	inf_network_policy_unref(policy);
	cr_assert_eq(score_model_namespace_count(fx.model), 0,
		     "policies do not touch the model");

	control_policy("MODIFIED", "default", "deny-all",
		       "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}");
	cr_assert(test_wait_until(policy_egress, "default/deny-all", WAIT_MS),
		  "the modified policy isolates egress");
	control_policy("DELETED", "team-a", "allow-web", "{}");
	cr_assert(test_wait_until(policy_absent, "team-a/allow-web", WAIT_MS),
		  "the deleted policy left the store");

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
	cr_assert_eq(inf_network_policy_store_count(fx.policies), 1, "one policy left");
	cr_assert(test_wait_until(namespaces_relisted, NULL, WAIT_MS), "namespaces relisted");
	cr_assert(test_wait_until(namespace_label_is, &team_a_gone, WAIT_MS),
		  "the relist removed team-a from the model");
	cr_assert(log_has("relisting", "networkpolicies"), "the relist is logged");
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
