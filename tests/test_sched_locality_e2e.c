/* Acceptance test of locality and tenant isolation through the real
 * binary: `stowage serve --cluster tests/fixtures/locality/cluster.yaml
 * --policy tests/fixtures/locality/policy.yaml --log-format json`, sent
 * requests shaped as kube-scheduler sends them. A strict-tenant pod must
 * be rejected on the node of another tenant's pod. A pod whose
 * NetworkPolicy peers run in zone eu-1b must get its highest priorities
 * there, and the JSON decision log must explain both. */
#include "tests/inf_apiserver.h"

#include <fcntl.h>

#include <glib/gstdio.h>
#include "tests/run.h"
#include "tests/tempdir.h"

#define START_MS 10000
#define STOP_MS 5000

typedef struct serve_process {
	GPid pid;
	char *log_path;
	char address[64]; /* "127.0.0.1:PORT" once known */
	bool exited;
} serve_process;

static char *dir;
static serve_process process;

static void make_dir(void)
{
	memset(&process, 0, sizeof(process));
	dir = test_make_temp_dir("stowage-locality-e2e-XXXXXX");
}

static void stop_and_remove_dir(void)
{
	if (process.pid != 0 && !process.exited) {
		kill(process.pid, SIGKILL);
		waitpid(process.pid, NULL, 0);
		g_spawn_close_pid(process.pid);
	}
	if (process.log_path != NULL)
		g_unlink(process.log_path);
	g_free(process.log_path);
	g_rmdir(dir);
	g_free(dir);
}

TestSuite(locality_e2e, .init = make_dir, .fini = stop_and_remove_dir,
	  .timeout = 60);

static char *read_log(void)
{
	char *text = NULL;

	return g_file_get_contents(process.log_path, &text, NULL, NULL) ? text
									: g_strdup("");
}

/* Returns the complete JSON log lines whose "msg" is `message`, parsed;
 * the caller frees the array with g_ptr_array_unref(). */
static GPtrArray *log_lines(const char *message)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	char *log = read_log();
	char **split = g_strsplit(log, "\n", -1);

	/* The last piece is empty or a line still being written. */
	for (guint i = 0; split[i] != NULL && split[i + 1] != NULL; i++) {
		cJSON *line = cJSON_Parse(split[i]);
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(line, "msg");

		if (cJSON_IsString(msg) && strcmp(msg->valuestring, message) == 0)
			g_ptr_array_add(lines, line);
		else
			cJSON_Delete(line);
	}
	g_strfreev(split);
	g_free(log);
	return lines;
}

static bool find_address(void)
{
	GPtrArray *lines = log_lines("listening");
	const cJSON *address = lines->len > 0
		? cJSON_GetObjectItemCaseSensitive(g_ptr_array_index(lines, 0), "address")
		: NULL;
	bool found = cJSON_IsString(address) &&
		     strlen(address->valuestring) < sizeof(process.address);

	if (found)
		g_strlcpy(process.address, address->valuestring, sizeof(process.address));
	g_ptr_array_unref(lines);
	return found;
}

static void serve_start(void)
{
	char *bin = test_stowage_path();
	char *cluster = test_fixture_path("locality/cluster.yaml");
	char *policy = test_fixture_path("locality/policy.yaml");
	const char *argv[] = {bin, "serve", "--cluster", cluster, "--policy", policy,
			      "--log-format", "json", "--listen", "127.0.0.1:0",
			      NULL};
	gint64 deadline = g_get_monotonic_time() + START_MS * 1000;

	process.log_path = g_build_filename(dir, "serve.log", NULL);
	process.pid = test_child_start_logged(argv, process.log_path);
	while (!find_address()) {
		char *log;

		if (waitpid(process.pid, NULL, WNOHANG) != process.pid &&
		    g_get_monotonic_time() < deadline) {
			g_usleep(10 * 1000);
			continue;
		}
		process.exited = true;
		log = read_log();
		cr_assert_fail("stowage serve did not log its address within %d ms; log:\n%s",
			       START_MS, log);
		g_free(log);
	}
	g_free(bin);
	g_free(cluster);
	g_free(policy);
}

static void serve_stop(void)
{
	int status = test_child_stop(process.pid, STOP_MS);

	process.exited = true;
	test_assert_exit_status(status, 0, "stowage serve after SIGTERM");
}

/* POSTs an ExtenderArgs for the pending pod acme/web-new over `nodes`. */
static cJSON *call_verb(const char *verb, const char *nodes)
{
	char *url = g_strdup_printf("http://%s/%s", process.address, verb);
	char *body = g_strdup_printf(
		"{\"Pod\":{\"metadata\":{\"name\":\"web-new\",\"namespace\":\"acme\","
		"\"uid\":\"e2e-web-new\",\"labels\":{\"app\":\"web\"}},"
		"\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"registry.invalid/web:1\","
		"\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"}}}]},"
		"\"status\":{\"phase\":\"Pending\"}},\"NodeNames\":[%s]}",
		nodes);
	test_response response;
	cJSON *json;

	test_http("POST", url, body, 0, &response);
	cr_assert_eq(response.status, 200, "%s: HTTP %ld, body %s", verb,
		     response.status, response.body->str);
	json = cJSON_Parse(response.body->str);
	cr_assert_not_null(json, "%s: the response is JSON: %s", verb, response.body->str);
	test_response_release(&response);
	g_free(body);
	g_free(url);
	return json;
}

/* Returns the decision line of `verb` for acme/web-new; the caller frees
 * it with cJSON_Delete(). */
static cJSON *decision(const char *verb)
{
	GPtrArray *lines = log_lines("decision");
	cJSON *found = NULL;

	for (guint i = 0; i < lines->len && found == NULL; i++) {
		cJSON *line = g_ptr_array_index(lines, i);
		const cJSON *line_verb = cJSON_GetObjectItemCaseSensitive(line, "verb");
		const cJSON *pod = cJSON_GetObjectItemCaseSensitive(line, "pod");

		if (cJSON_IsString(line_verb) && strcmp(line_verb->valuestring, verb) == 0 &&
		    cJSON_IsString(pod) && strcmp(pod->valuestring, "acme/web-new") == 0)
			found = cJSON_Duplicate(line, true);
	}
	g_ptr_array_unref(lines);
	cr_assert_not_null(found, "the log has a %s decision for acme/web-new", verb);
	return found;
}

static int64_t priority_of(const cJSON *list, const char *node)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, list) {
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(entry, "Host");

		if (cJSON_IsString(host) && strcmp(host->valuestring, node) == 0)
			return (int64_t)cJSON_GetObjectItemCaseSensitive(entry, "Score")->valuedouble;
	}
	cr_assert_fail("no priority for node %s", node);
	return -1;
}

/* Returns the Locality criterion logged for `node` in the decision's
 * top scores. */
static int64_t logged_locality(const cJSON *top, const char *node)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, top) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "node");
		const cJSON *criteria = cJSON_GetObjectItemCaseSensitive(entry, "criteria");
		const cJSON *locality = cJSON_GetObjectItemCaseSensitive(criteria, "Locality");

		if (cJSON_IsString(name) && strcmp(name->valuestring, node) == 0 &&
		    cJSON_IsNumber(locality))
			return (int64_t)locality->valuedouble;
	}
	cr_assert_fail("node %s has no logged Locality score", node);
	return -1;
}

/* Returns the Locality reason logged for `node` in the decision's top
 * scores, or NULL when it has none. */
static const char *logged_reason(const cJSON *top, const char *node)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, top) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "node");
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(entry, "reasons"), "Locality");

		if (cJSON_IsString(name) && strcmp(name->valuestring, node) == 0)
			return cJSON_IsString(reason) ? reason->valuestring : NULL;
	}
	cr_assert_fail("node %s is not among the top scores", node);
	return NULL;
}

Test(locality_e2e, tenant_rejection_and_zone_preference_explained)
{
	cJSON *filtered, *priorities, *line;
	const cJSON *failed, *reason, *rejected, *top, *explain, *peers, *zones;
	int64_t a2, b1, b2, b3;
	char *text = NULL;

	serve_start();

	/* (1) a-1 runs globex/db-0: strict tenants reject it for acme. */
	filtered = call_verb("filter", "\"a-1\",\"a-2\",\"b-1\",\"b-2\",\"b-3\"");
	failed = cJSON_GetObjectItemCaseSensitive(filtered, "FailedAndUnresolvableNodes");
	reason = cJSON_GetObjectItemCaseSensitive(failed, "a-1");
	cr_assert(cJSON_IsString(reason), "a-1 is rejected as unresolvable: %s",
		  (text = cJSON_PrintUnformatted(filtered)));
	cJSON_free(text);
	cr_assert_not_null(strstr(reason->valuestring, "globex/db-0"),
			   "the reason names the other tenant's pod: %s", reason->valuestring);
	cr_assert_not_null(strstr(reason->valuestring, "tenant \"globex\""),
			   "the reason names the tenant: %s", reason->valuestring);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(filtered, "NodeNames")),
		     4, "the other four nodes pass");
	cJSON_Delete(filtered);

	line = decision("filter");
	rejected = cJSON_GetObjectItemCaseSensitive(line, "rejected");
	cr_assert_eq(cJSON_GetArraySize(rejected), 1, "the decision lists one rejection");
	reason = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rejected, 0), "reason");
	cr_assert(cJSON_IsString(reason) && strstr(reason->valuestring, "globex/db-0") != NULL,
		  "the logged reason names globex/db-0");
	cJSON_Delete(line);

	/* (2) The pod's NetworkPolicy peers, acme/cart-0 and cart-1, run on
	 * b-1 in zone eu-1b. */
	priorities = call_verb("prioritize", "\"a-2\",\"b-1\",\"b-2\",\"b-3\"");
	a2 = priority_of(priorities, "a-2");
	b1 = priority_of(priorities, "b-1");
	b2 = priority_of(priorities, "b-2");
	b3 = priority_of(priorities, "b-3");
	cr_assert(b1 > a2 && b2 > a2 && b3 > a2,
		  "every zone eu-1b node beats a-2: b-1 %lld, b-2 %lld, b-3 %lld, a-2 %lld",
		  (long long)b1, (long long)b2, (long long)b3, (long long)a2);
	cJSON_Delete(priorities);

	/* The top three are the zone eu-1b nodes; their locality scores
	 * rank the peers' node, then their rack, then their zone. */
	line = decision("prioritize");
	top = cJSON_GetObjectItemCaseSensitive(line, "top");
	cr_assert_eq(cJSON_GetArraySize(top), 3, "three nodes logged, got %d",
		     cJSON_GetArraySize(top));
	cr_assert_eq(logged_locality(top, "b-1"), 100, "b-1 (the peers' node): %lld",
		     (long long)logged_locality(top, "b-1"));
	cr_assert_eq(logged_locality(top, "b-2"), 95, "b-2 (their rack): %lld",
		     (long long)logged_locality(top, "b-2"));
	cr_assert_eq(logged_locality(top, "b-3"), 80, "b-3 (their zone): %lld",
		     (long long)logged_locality(top, "b-3"));
	/* Each node below the best gives what its peers cost. */
	cr_assert_str_eq(logged_reason(top, "b-2"),
			 "network cost to 2 peers: mean 1.00 (2 at cost 1)",
			 "b-2's locality reason");
	cr_assert_str_eq(logged_reason(top, "b-3"),
			 "network cost to 2 peers: mean 4.00 (2 at cost 4)",
			 "b-3's locality reason");
	cr_assert_null(logged_reason(top, "b-1"),
		       "b-1 runs both peers and needs no locality reason");
	explain = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(line, "explain"), "Locality");
	cr_assert(cJSON_IsObject(explain), "the decision explains locality: %s",
		  (text = cJSON_PrintUnformatted(line)));
	cJSON_free(text);
	peers = cJSON_GetObjectItemCaseSensitive(explain, "peers");
	cr_assert(cJSON_IsNumber(peers) && peers->valuedouble == 2,
		  "two peers explained");
	zones = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(explain, "domains"),
		"topology.kubernetes.io/zone");
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(zones, "eu-1b")) &&
			  cJSON_GetObjectItemCaseSensitive(zones, "eu-1b")->valuedouble == 2,
		  "both peers in zone eu-1b");
	cJSON_Delete(line);

	serve_stop();
}
