/* Tests of the load generator (tests/tools/loadgen) against the real
 * `stowage serve` syncing from the test API server. A few seconds at a low
 * rate on a small cluster must end with zero errors and counts that match
 * the pods sent. Failures (no server, wrong responses, a URL that is not
 * loopback) must be counted or rejected. bench/soak.sh runs the same tools
 * at full size. */
#include "tests/inf_apiserver.h"

#include <fcntl.h>

#include <glib/gstdio.h>
#include "tests/run.h"
#include "tests/tempdir.h"

#define CLUSTER_NODES 50
#define PODS_PER_NODE 2
#define NAMES 10
#define RATE 50
#define DURATION_S 3
#define START_MS 10000
#define READY_MS 15000
#define STOP_MS 5000

static char *dir;
static GPid serve_pid;

static void make_dir(void)
{
	dir = test_make_temp_dir("stowage-load-XXXXXX");
}

static void remove_dir(void)
{
	if (serve_pid != 0) {
		kill(serve_pid, SIGKILL);
		waitpid(serve_pid, NULL, 0);
		serve_pid = 0;
	}
	test_remove_tree(dir);
	g_free(dir);
}

TestSuite(load, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* Runs loadgen with `args` (NULL-terminated), its standard output going to
 * `stdout_text` when not NULL; returns its exit status. */
static int run_loadgen(const char *const *args, char **stdout_text)
{
	char *tool = test_tool_path("loadgen");
	test_run_result r;

	cr_assert(g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE),
		  "loadgen %s is missing: build it with make build/release/tests/tools/loadgen",
		  tool);
	test_run_program(tool, args, &r);
	if (stdout_text != NULL) {
		*stdout_text = r.out;
		r.out = NULL;
	}
	test_run_result_release(&r);
	g_free(tool);
	return r.exit_status;
}

/* Writes the generated cluster and loads it into the API server as ADDED
 * changes. */
static void load_cluster(const test_apiserver *server)
{
	char *path = g_build_filename(dir, "cluster.json", NULL);
	char nodes[16], pods[16];
	const char *args[] = {"--write-cluster", path, "--cluster-nodes", nodes,
			      "--pods-per-node", pods, NULL};
	cJSON *list, *changes;
	const cJSON *item;
	char *text = NULL, *body;

	g_snprintf(nodes, sizeof(nodes), "%d", CLUSTER_NODES);
	g_snprintf(pods, sizeof(pods), "%d", PODS_PER_NODE);
	cr_assert_eq(run_loadgen(args, NULL), 0, "loadgen --write-cluster failed");
	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
	list = cJSON_Parse(text);
	cr_assert_not_null(list, "loadgen wrote a cluster that is not JSON");
	changes = cJSON_CreateArray();
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
	{
		cJSON *change = cJSON_CreateObject();

		cJSON_AddStringToObject(change, "type", "ADDED");
		cJSON_AddItemToObject(change, "object", cJSON_Duplicate(item, true));
		cJSON_AddItemToArray(changes, change);
	}
	cr_assert_eq(cJSON_GetArraySize(changes), 1 + CLUSTER_NODES * (1 + PODS_PER_NODE),
		     "the cluster has a namespace, %d nodes and %d pods: %d items",
		     CLUSTER_NODES, CLUSTER_NODES * PODS_PER_NODE, cJSON_GetArraySize(changes));
	body = cJSON_PrintUnformatted(changes);
	test_control(server, "/control/objects", body);
	cJSON_free(body);
	cJSON_Delete(changes);
	cJSON_Delete(list);
	g_free(text);
	g_free(path);
}

/* Copies the address from the "listening address=" log line. */
static bool read_address(const char *log_path, char *address, size_t size)
{
	static const char key[] = "listening address=";
	char *log = NULL;
	const char *start;
	size_t length = 0;

	if (!g_file_get_contents(log_path, &log, NULL, NULL))
		return false;
	start = strstr(log, key);
	if (start != NULL) {
		start += strlen(key);
		length = strcspn(start, " \n");
		if (start[length] == '\0' || length >= size)
			length = 0;
		else
			g_strlcpy(address, start, length + 1);
	}
	g_free(log);
	return length > 0;
}

static bool ready(const void *data)
{
	char *url = g_strdup_printf("http://%s/readyz", (const char *)data);
	test_response response;
	bool ok;

	test_http("GET", url, NULL, 0, &response);
	ok = response.status == 200;
	test_response_release(&response);
	g_free(url);
	return ok;
}

/* Starts `stowage serve` against `server` and waits until it is ready;
 * stores its address ("127.0.0.1:PORT"). */
static void serve_start(const test_apiserver *server, char *address, size_t size)
{
	char *bin = test_stowage_path();
	char *kubeconfig = g_build_filename(dir, "kubeconfig", NULL);
	char *log_path = g_build_filename(dir, "serve.log", NULL);
	char *text = g_strdup_printf("apiVersion: v1\nkind: Config\ncurrent-context: load\n"
				     "clusters:\n- name: test\n  cluster:\n    server: %s\n"
				     "users:\n- name: scheduler\n  user:\n    token: load-token\n"
				     "contexts:\n- name: load\n  context: {cluster: test, user: scheduler}\n",
				     server->url);
	/* Info level, for the address line; the decision lines of a few
	 * hundred calls go to the log file too. */
	const char *argv[] = {bin, "serve", "--kubeconfig", kubeconfig, "--listen",
			      "127.0.0.1:0", "--log-level", "info", NULL};
	gint64 deadline = g_get_monotonic_time() + START_MS * 1000;

	cr_assert(g_file_set_contents(kubeconfig, text, -1, NULL), "cannot write %s", kubeconfig);
	serve_pid = test_child_start_logged(argv, log_path);
	while (!read_address(log_path, address, size)) {
		cr_assert(g_get_monotonic_time() < deadline,
			  "stowage serve did not log its address within %d ms", START_MS);
		g_usleep(10 * 1000);
	}
	cr_assert(test_wait_until(ready, address, READY_MS),
		  "/readyz did not turn 200 within %d ms", READY_MS);
	g_free(text);
	g_free(log_path);
	g_free(kubeconfig);
	g_free(bin);
}

static void serve_stop(void)
{
	int status = test_child_stop(serve_pid, STOP_MS);

	serve_pid = 0;
	cr_assert_neq(status, -1, "stowage serve did not exit within %d ms of SIGTERM", STOP_MS);
	test_assert_exit_status(status, 0, "stowage serve after SIGTERM");
}

static cJSON *read_report(const char *path)
{
	char *text = NULL;
	cJSON *report;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "loadgen wrote no report %s",
		  path);
	report = cJSON_Parse(text);
	cr_assert_not_null(report, "the report is not JSON: %s", text);
	g_free(text);
	return report;
}

static double number(const cJSON *report, const char *group, const char *key)
{
	const cJSON *item = group != NULL ? cJSON_GetObjectItemCaseSensitive(report, group)
					  : report;

	item = cJSON_GetObjectItemCaseSensitive(item, key);
	cr_assert(cJSON_IsNumber(item), "the report has no number %s%s%s", group ? group : "",
		  group ? "." : "", key);
	return item->valuedouble;
}

Test(load, low_rate_with_churn_has_no_errors)
{
	test_apiserver server;
	char address[64] = "";
	char *url, *api_url, *json_path, *watch, *out = NULL;
	char rate[16], duration[16], nodes[16], names[16];
	cJSON *report;
	double pods, filters_ok, prioritized, unschedulable, one_feasible;

	test_apiserver_start(&server, NULL, NULL);
	load_cluster(&server);
	serve_start(&server, address, sizeof(address));

	url = g_strdup_printf("http://%s", address);
	api_url = g_strdup(server.url);
	json_path = g_build_filename(dir, "report.json", NULL);
	watch = g_strdup_printf("stowage=%d", (int)serve_pid);
	g_snprintf(rate, sizeof(rate), "%d", RATE);
	g_snprintf(duration, sizeof(duration), "%d", DURATION_S);
	g_snprintf(nodes, sizeof(nodes), "%d", CLUSTER_NODES);
	g_snprintf(names, sizeof(names), "%d", NAMES);
	{
		const char *args[] = {"--url", url, "--rate", rate, "--duration", duration,
				      "--connections", "4", "--names", names,
				      "--cluster-nodes", nodes, "--apiserver", api_url,
				      "--churn-rate", "20", "--compact-seconds", "1",
				      "--interval", "1", "--watch", watch, "--json", json_path,
				      "--quiet", NULL};

		cr_assert_eq(run_loadgen(args, &out), 0, "loadgen reports failures:\n%s", out);
	}
	report = read_report(json_path);
	pods = number(report, NULL, "pods_offered");
	cr_assert_eq(pods, RATE * DURATION_S, "pods offered: expected %d, got %.0f",
		     RATE * DURATION_S, pods);
	cr_assert_eq(number(report, NULL, "pods_done"), pods, "every pod finished: %.0f of %.0f",
		     number(report, NULL, "pods_done"), pods);
	cr_assert_eq(number(report, NULL, "errors"), 0, "no errors, got %.0f:\n%s",
		     number(report, NULL, "errors"), out);
	cr_assert_eq(number(report, "filter", "sent"), pods, "one filter per pod: %.0f",
		     number(report, "filter", "sent"));
	filters_ok = number(report, "filter", "ok");
	cr_assert_eq(filters_ok, pods, "every filter returned 200 with a valid answer: %.0f",
		     filters_ok);
	cr_assert_eq(number(report, "filter", "count"), filters_ok,
		     "one latency per successful filter");
	unschedulable = number(report, NULL, "pods_unschedulable");
	one_feasible = number(report, NULL, "pods_one_feasible");
	prioritized = number(report, "prioritize", "sent");
	cr_assert_eq(prioritized, filters_ok - unschedulable - one_feasible,
		     "prioritize follows each filter with two or more nodes: %.0f sent, "
		     "%.0f filters, %.0f unschedulable, %.0f with one node",
		     prioritized, filters_ok, unschedulable, one_feasible);
	cr_assert_gt(prioritized, 0, "the cluster has room, so pods reach prioritize");
	cr_assert_eq(number(report, "prioritize", "ok"), prioritized,
		     "every prioritize returned valid scores");
	cr_assert_gt(number(report, "filter", "p50_ms"), 0, "latencies are measured");
	cr_assert_leq(number(report, "filter", "p50_ms"), number(report, "filter", "p99_ms"),
		      "p50 <= p99");
	cr_assert_leq(number(report, "filter", "p99_ms"), number(report, "filter", "max_ms"),
		      "p99 <= max");
	cr_assert_geq(number(report, NULL, "churn_changes"), 20 * (DURATION_S - 1),
		      "churn ran at about 20 changes/s: %.0f changes",
		      number(report, NULL, "churn_changes"));
	cr_assert_geq(number(report, NULL, "churn_compactions"), 1, "the history was compacted");
	cr_assert_gt(number(report, "rss_kib", "stowage"), 0, "stowage's RSS was sampled");
	cr_assert_eq(test_stat(&server, "objects", "pods"), CLUSTER_NODES * PODS_PER_NODE,
		     "the churn pods were deleted at the end: %ld pods remain",
		     test_stat(&server, "objects", "pods"));

	serve_stop();
	cJSON_Delete(report);
	test_apiserver_stop(&server);
	g_free(out);
	g_free(watch);
	g_free(json_path);
	g_free(api_url);
	g_free(url);
}

/* With nothing listening, every filter fails in transport, the counts
 * still add up, and the exit status is 1. */
Test(load, refused_connections_count_as_errors)
{
	test_apiserver server;
	char *url, *json_path, *out = NULL;
	cJSON *report;

	/* A port that was free a moment ago: the API server's, once stopped. */
	test_apiserver_start(&server, NULL, NULL);
	url = g_strdup(server.url);
	test_apiserver_stop(&server);
	json_path = g_build_filename(dir, "refused.json", NULL);
	{
		const char *args[] = {"--url", url, "--rate", "20", "--duration", "1",
				      "--cluster-nodes", "10", "--names", "5",
				      "--json", json_path, "--quiet", NULL};

		cr_assert_eq(run_loadgen(args, &out), 1, "loadgen exits 1 on failed calls:\n%s",
			     out);
	}
	report = read_report(json_path);
	cr_assert_eq(number(report, NULL, "pods_done"), 20, "all 20 pods finished");
	cr_assert_eq(number(report, "filter", "transport"), 20,
		     "each filter failed to connect: %.0f", number(report, "filter", "transport"));
	cr_assert_eq(number(report, NULL, "errors"), 20, "20 errors in all");
	cr_assert_eq(number(report, "prioritize", "sent"), 0, "no prioritize after a failure");
	cJSON_Delete(report);
	g_free(out);
	g_free(json_path);
	g_free(url);
}

/* The API server returns 404 for /filter, which counts as non-200. */
Test(load, wrong_server_counts_non_200)
{
	test_apiserver server;
	char *json_path, *out = NULL;
	cJSON *report;

	test_apiserver_start(&server, NULL, NULL);
	json_path = g_build_filename(dir, "wrong.json", NULL);
	{
		const char *args[] = {"--url", server.url, "--rate", "10", "--duration", "1",
				      "--cluster-nodes", "10", "--names", "5",
				      "--json", json_path, "--quiet", NULL};

		cr_assert_eq(run_loadgen(args, &out), 1, "loadgen exits 1:\n%s", out);
	}
	report = read_report(json_path);
	cr_assert_eq(number(report, "filter", "non200"), 10, "10 answers other than 200: %.0f",
		     number(report, "filter", "non200"));
	cr_assert_not_null(strstr(out, "HTTP 404"), "the report quotes the status:\n%s", out);
	cJSON_Delete(report);
	test_apiserver_stop(&server);
	g_free(out);
	g_free(json_path);
}

Test(load, rejects_non_loopback_urls)
{
	static const char *const urls[] = {"http://192.0.2.1:8888", "http://localhost:8888",
					   "https://127.0.0.1:8888", "not a url"};

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		const char *args[] = {"--url", urls[i], "--duration", "1", NULL};
		const char *churn_args[] = {"--url", "http://127.0.0.1:1", "--apiserver",
					    urls[i], "--duration", "1", NULL};

		cr_assert_eq(run_loadgen(args, NULL), 2, "--url %s is rejected with status 2",
			     urls[i]);
		cr_assert_eq(run_loadgen(churn_args, NULL), 2,
			     "--apiserver %s is rejected with status 2", urls[i]);
	}
}

Test(load, rejects_bad_options)
{
	static const char *const cases[][3] = {
		{"--rate", "0", "a rate of 0"},
		{"--connections", "0", "0 connections"},
		{"--names", "6000", "more names than nodes"},
		{"--watch", "stowage", "--watch without a PID"},
		{"--watch", "stowage=12:x", "--watch with a bad percentage"},
		{"--tenants", "1001", "more than 1000 tenants"},
		{"--tenants", "-1", "a negative tenant count"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *args[] = {"--url", "http://127.0.0.1:1", cases[i][0], cases[i][1], NULL};

		cr_assert_eq(run_loadgen(args, NULL), 2, "%s is rejected with status 2",
			     cases[i][2]);
	}
}

/* --tenants labels the generated pods with tenants t000 to tNNN, so that
 * a soak can exercise a policy's tenant rules. */
Test(load, write_cluster_spreads_tenants)
{
	char *path = g_build_filename(dir, "tenants.json", NULL);
	const char *args[] = {"--write-cluster", path, "--cluster-nodes", "4",
			      "--pods-per-node", "5", "--tenants", "3", NULL};
	GHashTable *tenants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cJSON *list;
	const cJSON *item;
	char *text = NULL;
	int pods = 0;

	cr_assert_eq(run_loadgen(args, NULL), 0, "loadgen --write-cluster --tenants 3 failed");
	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
	list = cJSON_Parse(text);
	cr_assert_not_null(list, "loadgen wrote a cluster that is not JSON");
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
	{
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(item, "kind");
		const cJSON *tenant = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(item, "metadata"), "labels"),
			"stowage.io/tenant");

		if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "Pod") != 0)
			continue;
		pods++;
		cr_assert(cJSON_IsString(tenant), "pod %d has a tenant label", pods);
		cr_assert(g_regex_match_simple("^t00[0-2]$", tenant->valuestring, 0, 0),
			  "tenant %s is one of t000 to t002", tenant->valuestring);
		g_hash_table_add(tenants, g_strdup(tenant->valuestring));
	}
	cr_assert_eq(pods, 20, "expected 20 pods, got %d", pods);
	cr_assert_gt(g_hash_table_size(tenants), 1, "20 pods spread over more than one tenant");
	cJSON_Delete(list);
	g_hash_table_destroy(tenants);
	g_free(text);
	g_free(path);
}
