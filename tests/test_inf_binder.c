/* Integration tests for informer/binder.c against the test API server:
 * a successful binding and its assumption in the model, the 409 cases
 * (already bound to the same node, to another node, another pod with the
 * same name), a deleted pod, retries of 429/5xx/closed connections within
 * the deadline, slow responses against the deadline and the per-attempt
 * timeout, 401, 403 with the RBAC rule it needs, and one binding in
 * flight per pod.
 *
 * The model is loaded from the same fixture as the server
 * (tests/fixtures/informer/cluster.json): web-1 (500m) is bound to node-a,
 * pending-2 (250m, namespace default) is unbound. Pod uids are "uid-" +
 * name.
 */
#include "tests/inf_apiserver.h"

#include "informer/binder.h"
#include "informer/client.h"
#include "informer/cluster_file.h"
#include "informer/informer.h"
#include "scheduler/extender.h"

#define FIXTURE "informer/cluster.json"

/* inf_binder_bind() and inf_informer_bind() must fit the extender's bind
 * hook; the build fails otherwise. */
static const sched_bind_fn bind_fn_checks[] = {inf_binder_bind,
					       inf_informer_bind};

typedef struct fixture {
	test_apiserver server;
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
	inf_rest_config rest;
	inf_client *client;
	inf_binder *binder;
} fixture;

static fixture fx;

static void make_binder_with(int64_t deadline_ms, int64_t attempt_timeout_ms)
{
	inf_binder_config config = {
		.client = fx.client,
		.model = fx.model,
		.lock = &fx.lock,
		.deadline_ms = deadline_ms,
		.attempt_timeout_ms = attempt_timeout_ms,
		.backoff_initial_ms = 10,
		.backoff_max_ms = 50,
	};
	score_error err = {0};

	inf_binder_free(fx.binder);
	cr_assert_eq(inf_binder_new(&config, &fx.binder, &err), 0,
		     "inf_binder_new: %s", err.message);
}

/* A binder whose attempts may each take the whole deadline. */
static void make_binder(int64_t deadline_ms)
{
	make_binder_with(deadline_ms, deadline_ms);
}

static void setup(void)
{
	char *fixture_path = test_fixture_path(FIXTURE);
	score_error err = {0};

	(void)bind_fn_checks;
	memset(&fx, 0, sizeof(fx));
	test_apiserver_start(&fx.server, FIXTURE, NULL);
	fx.resources = score_resource_table_new();
	fx.model = score_model_new(fx.resources);
	g_rw_lock_init(&fx.lock);
	cr_assert_eq(inf_load_cluster_file(fixture_path, fx.model, &err), 0,
		     "loading %s: %s", fixture_path, err.message);
	g_free(fixture_path);
	fx.rest.server = fx.server.url;
	cr_assert_eq(inf_client_new(&fx.rest, &fx.client, &err), 0,
		     "inf_client_new: %s", err.message);
	make_binder(2000);
}

static void teardown(void)
{
	inf_binder_free(fx.binder);
	inf_client_free(fx.client);
	score_model_free(fx.model);
	score_resource_table_free(fx.resources);
	g_rw_lock_clear(&fx.lock);
	test_apiserver_stop(&fx.server);
}

TestSuite(binder, .init = setup, .fini = teardown, .timeout = 60);

static int bind_pod(const char *namespace, const char *name, const char *uid,
		const char *node, score_error *err)
{
	return inf_binder_bind(fx.binder, namespace, name, uid, node, err);
}

/* Returns the server's spec.nodeName of default/NAME; the caller frees it. */
static char *server_node_of(const char *name)
{
	char *url = g_strdup_printf("%s/api/v1/namespaces/default/pods/%s",
				    fx.server.url, name);
	test_response response;
	cJSON *pod;
	const cJSON *node;
	char *result;

	test_http("GET", url, NULL, 0, &response);
	cr_assert_eq(response.status, 200, "GET %s: HTTP %ld", url, response.status);
	pod = cJSON_Parse(response.body->str);
	node = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pod, "spec"), "nodeName");
	result = g_strdup(cJSON_IsString(node) ? node->valuestring : "");
	cJSON_Delete(pod);
	test_response_release(&response);
	g_free(url);
	return result;
}

Test(binder, success_assumes_pod)
{
	score_error err = {0};
	score_pod *pod;
	score_node *node;
	char *bound;
	int rc = bind_pod("default", "pending-2", "uid-pending-2", "node-a", &err);

	cr_assert_eq(rc, 0, "bind failed: %s", err.message);
	bound = server_node_of("pending-2");
	cr_assert_str_eq(bound, "node-a", "the server has the pod on node-a, got %s", bound);
	g_free(bound);

	g_rw_lock_reader_lock(&fx.lock);
	pod = score_model_pod(fx.model, "uid-pending-2");
	cr_assert_not_null(pod, "pending-2 is in the model");
	cr_assert(pod->assumed, "pending-2 is assumed until the watch confirms it");
	cr_assert_str_eq(pod->node_name, "node-a", "assumed on node-a, got %s",
			 pod->node_name);
	node = score_model_node(fx.model, "node-a");
	cr_assert_eq(node->requested.v[SCORE_RES_CPU], 750,
		     "node-a counts 500m + 250m, got %lld",
		     (long long)node->requested.v[SCORE_RES_CPU]);
	g_rw_lock_reader_unlock(&fx.lock);
	cr_assert_eq(test_stat(&fx.server, NULL, "bindings"), 1, "one binding made");
}

Test(binder, already_bound_same_node_succeeds)
{
	score_error err = {0};
	int rc = bind_pod("default", "web-1", "uid-web-1", "node-a", &err);

	cr_assert_eq(rc, 0, "a pod already on the node counts as bound: %s", err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "bindingRequests"), 1,
		     "one binding request, got %ld",
		     test_stat(&fx.server, NULL, "bindingRequests"));
	cr_assert_eq(test_stat(&fx.server, "gets", "pods"), 1,
		     "the 409 was checked with one GET, got %ld",
		     test_stat(&fx.server, "gets", "pods"));
}

Test(binder, bound_elsewhere_is_conflict)
{
	score_error err = {0};
	int rc = bind_pod("default", "web-1", "uid-web-1", "node-b", &err);

	cr_assert_eq(rc, -EEXIST, "expected -EEXIST, got %d", rc);
	cr_assert_not_null(strstr(err.message, "already assigned to node \"node-a\""),
			   "the API server's reason is kept: %s", err.message);
	cr_assert_not_null(strstr(err.message, "web-1"), "the pod is named: %s",
			   err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "bindingRequests"), 1,
		     "a conflict is not retried");
}

Test(binder, other_pod_same_name_is_conflict)
{
	score_error err = {0};
	int rc = bind_pod("default", "pending-2", "uid-old-pending-2", "node-a", &err);
	char *bound;

	cr_assert_eq(rc, -EEXIST, "expected -EEXIST, got %d", rc);
	cr_assert_not_null(strstr(err.message, "Precondition failed"),
			   "the precondition failure is reported: %s", err.message);
	cr_assert_not_null(strstr(err.message, "now has uid uid-pending-2"),
			   "the current uid is reported: %s", err.message);
	bound = server_node_of("pending-2");
	cr_assert_str_eq(bound, "", "the other pod stays unbound, got %s", bound);
	g_free(bound);
}

Test(binder, deleted_pod_is_not_found)
{
	score_error err = {0};
	int rc = bind_pod("default", "gone", "uid-gone", "node-a", &err);

	cr_assert_eq(rc, -ENOENT, "expected -ENOENT, got %d", rc);
	cr_assert_not_null(strstr(err.message, "not found"), "message: %s", err.message);
}

Test(binder, transient_errors_retried)
{
	score_error err = {0};
	int rc;

	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":500}");
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"close\":true}");
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":429,\"retryAfter\":1}");
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	cr_assert_eq(rc, 0, "bind after 500, a closed connection and 429: %s",
		     err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "faultsApplied"), 3,
		     "all three faults were met");
	cr_assert_eq(test_stat(&fx.server, NULL, "bindings"), 1, "bound once");
}

Test(binder, deadline_ends_retries)
{
	score_error err = {0};
	gint64 started;
	double elapsed_ms;
	int rc;

	make_binder(300);
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":503,\"times\":-1}");
	started = g_get_monotonic_time();
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(rc, -ETIMEDOUT, "expected -ETIMEDOUT, got %d", rc);
	cr_assert_not_null(strstr(err.message, "timed out after 300 ms"),
			   "the message gives the deadline: %s", err.message);
	cr_assert_not_null(strstr(err.message, "HTTP 503"), "the last error is kept: %s",
			   err.message);
	cr_assert_lt(elapsed_ms, 1000.0, "the 300 ms deadline held: %.0f ms", elapsed_ms);
	cr_assert_geq(test_stat(&fx.server, NULL, "faultsApplied"), 2,
		      "it retried before giving up");
}

Test(binder, retry_after_past_deadline_fails_fast)
{
	score_error err = {0};
	gint64 started;
	double elapsed_ms;
	int rc;

	make_binder(1000);
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":429,\"retryAfter\":5}");
	started = g_get_monotonic_time();
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(rc, -ETIMEDOUT, "expected -ETIMEDOUT, got %d", rc);
	cr_assert_lt(elapsed_ms, 500.0,
		     "no point waiting 5 s with a 1 s deadline: took %.0f ms", elapsed_ms);
	cr_assert_not_null(strstr(err.message, "asked to retry after 5 s"),
			   "the message names the requested wait: %s", err.message);
	cr_assert_not_null(strstr(err.message, "of the 1000 ms bind deadline"),
			   "the message names the deadline: %s", err.message);
	cr_assert_not_null(strstr(err.message, "429"),
			   "the message keeps the last response: %s", err.message);
}

Test(binder, slow_response_past_deadline_times_out)
{
	score_error err = {0};
	gint64 started;
	double elapsed_ms;
	int rc;

	make_binder(300);
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"delayMs\":1500}");
	started = g_get_monotonic_time();
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(rc, -ETIMEDOUT, "expected -ETIMEDOUT, got %d: %s", rc, err.message);
	cr_assert_not_null(strstr(err.message, "timed out after 300 ms"),
			   "the message gives the deadline: %s", err.message);
	cr_assert_not_null(strstr(err.message, "pending-2"), "the pod is named: %s",
			   err.message);
	cr_assert_geq(elapsed_ms, 250.0, "the binder waited for the response: %.0f ms",
		      elapsed_ms);
	cr_assert_lt(elapsed_ms, 1000.0,
		     "the 300 ms deadline held against a 1500 ms response: %.0f ms",
		     elapsed_ms);
}

static bool binding_requests_reach(const void *data)
{
	return test_stat(&fx.server, NULL, "bindingRequests") >= *(const long *)data;
}

Test(binder, slow_first_attempt_then_fast_one_binds)
{
	score_error err = {0};
	long two = 2;
	gint64 started;
	double elapsed_ms;
	char *bound;
	int rc;

	/* Attempts get 300 ms each of a 3 s deadline. The first request is
	 * held 1500 ms, so the binder must give up on it and send another. */
	make_binder_with(3000, 300);
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"delayMs\":1500}");
	started = g_get_monotonic_time();
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	elapsed_ms = (double)(g_get_monotonic_time() - started) / 1000.0;
	cr_assert_eq(rc, 0, "the second attempt binds: %s", err.message);
	cr_assert_lt(elapsed_ms, 1400.0,
		     "the binder did not wait for the slow first response: %.0f ms",
		     elapsed_ms);
	cr_assert_eq(test_stat(&fx.server, NULL, "faultsApplied"), 1,
		     "the first request met the delay");
	bound = server_node_of("pending-2");
	cr_assert_str_eq(bound, "node-b", "the server has the pod on node-b, got %s", bound);
	g_free(bound);

	/* The held request arrives late and must not bind a second time. */
	cr_assert(test_wait_until(binding_requests_reach, &two, 5000),
		  "the held request reached the server");
	cr_assert_eq(test_stat(&fx.server, NULL, "bindings"), 1,
		     "the pod was bound once, got %ld",
		     test_stat(&fx.server, NULL, "bindings"));
}

Test(binder, unauthorized_not_retried)
{
	score_error err = {0};
	int rc;

	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":401}");
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	cr_assert_eq(rc, -EACCES, "expected -EACCES, got %d", rc);
	cr_assert_not_null(strstr(err.message, "HTTP 401"), "message: %s", err.message);
	cr_assert_not_null(strstr(err.message, "credentials"), "message: %s", err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "faults"), 0, "the fault was used");

	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	cr_assert_eq(rc, 0, "the next call binds: %s", err.message);
}

Test(binder, forbidden_names_rbac_rule)
{
	score_error err = {0};
	int rc;

	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"status\":403,\"message\":\"pods \\\"pending-2\\\" is forbidden: "
		     "User \\\"system:serviceaccount:stowage:stowage\\\" cannot create resource \\\"pods/binding\\\"\"}");
	rc = bind_pod("default", "pending-2", "uid-pending-2", "node-b", &err);
	cr_assert_eq(rc, -EACCES, "expected -EACCES, got %d", rc);
	cr_assert_not_null(strstr(err.message, "HTTP 403 Forbidden"), "message: %s",
			   err.message);
	cr_assert_not_null(strstr(err.message,
				  "create on pods/binding: apiGroups [\"\"], resources [\"pods/binding\"], verbs [\"create\"]"),
			   "the error gives the RBAC rule: %s", err.message);
	cr_assert_not_null(strstr(err.message, "cannot create resource"),
			   "the server's message is kept: %s", err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "faultsApplied"), 1,
		     "a 403 is not retried");
}

Test(binder, rejects_empty_arguments)
{
	score_error err = {0};

	cr_assert_eq(bind_pod("default", "pending-2", "", "node-a", &err), -EINVAL,
		     "an empty uid is rejected");
	cr_assert_eq(bind_pod("default", "pending-2", "uid-pending-2", NULL, &err), -EINVAL,
		     "a missing node is rejected");
	cr_assert_eq(test_stat(&fx.server, NULL, "bindingRequests"), 0,
		     "nothing was sent");
}

typedef struct concurrent_call {
	int rc;
	score_error err;
} concurrent_call;

static gpointer bind_thread(gpointer data)
{
	concurrent_call *call = data;

	call->rc = bind_pod("default", "pending-2", "uid-pending-2", "node-c", &call->err);
	return NULL;
}

Test(binder, one_binding_in_flight_per_pod)
{
	concurrent_call calls[2] = {{0}};
	GThread *threads[2];

	/* The first request to arrive is held 300 ms, so a second request
	 * sent meanwhile would overlap it. */
	test_control(&fx.server, "/control/faults",
		     "{\"method\":\"POST\",\"delayMs\":300}");
	for (int i = 0; i < 2; i++)
		threads[i] = g_thread_new("bind", bind_thread, &calls[i]);
	for (int i = 0; i < 2; i++)
		g_thread_join(threads[i]);

	for (int i = 0; i < 2; i++)
		cr_assert_eq(calls[i].rc, 0, "call %d: %s", i, calls[i].err.message);
	cr_assert_eq(test_stat(&fx.server, NULL, "bindingsInFlightMax"), 1,
		     "never two binding requests at once, got %ld",
		     test_stat(&fx.server, NULL, "bindingsInFlightMax"));
	cr_assert_eq(test_stat(&fx.server, NULL, "bindingRequests"), 2,
		     "each call sent its request");
	cr_assert_eq(test_stat(&fx.server, NULL, "bindings"), 1,
		     "the pod was bound once");
}

Test(binder, bad_config_rejected)
{
	inf_binder_config config = {0};
	inf_binder *binder = NULL;
	score_error err = {0};

	cr_assert_eq(inf_binder_new(&config, &binder, &err), -EINVAL,
		     "a binder needs a client");
	config.client = fx.client;
	config.model = fx.model;
	cr_assert_eq(inf_binder_new(&config, &binder, &err), -EINVAL,
		     "a model without its lock is rejected");
	cr_assert_null(binder, "nothing is returned on failure");
}
