/* Tests for informer/metrics.c and its place on /metrics: an informer runs
 * scenarios against the test API server (events, a relist after 410, an
 * invalid watch line, binds of every outcome) and the exposition text,
 * rendered through scheduler/metrics.c's collector hook, must show them. */
#include "tests/inf_apiserver.h"

#include <math.h>

#include "informer/informer.h"
#include "informer/metrics.h"
#include "scheduler/metrics.h"

#define FIXTURE "informer/cluster.json"
#define WAIT_MS 10000

typedef struct fixture {
	test_apiserver server;
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
	inf_rest_config rest;
	inf_informer *informer;
	sched_metrics *metrics;
} fixture;

static fixture fx;

static void setup(void)
{
	inf_informer_config config = {0};
	score_error err = {0};

	memset(&fx, 0, sizeof(fx));
	test_apiserver_start(&fx.server, FIXTURE, NULL);
	fx.resources = score_resource_table_new();
	fx.model = score_model_new(fx.resources);
	g_rw_lock_init(&fx.lock);
	fx.rest.server = fx.server.url;
	config.rest = &fx.rest;
	config.model = fx.model;
	config.lock = &fx.lock;
	config.backoff_initial_ms = 20;
	config.backoff_max_ms = 100;
	cr_assert_eq(inf_informer_start(&config, &fx.informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	cr_assert_eq(inf_informer_wait_synced(fx.informer, WAIT_MS, &err), 0,
		     "sync: %s", err.message);
	fx.metrics = sched_metrics_new();
	sched_metrics_add_collector(fx.metrics, inf_informer_render_metrics, fx.informer);
}

static void teardown(void)
{
	sched_metrics_free(fx.metrics);
	inf_informer_free(fx.informer);
	score_model_free(fx.model);
	score_resource_table_free(fx.resources);
	g_rw_lock_clear(&fx.lock);
	test_apiserver_stop(&fx.server);
}

TestSuite(informer_metrics, .init = setup, .fini = teardown, .timeout = 60);

/* Returns the value of the sample `series` (name and labels exactly as
 * rendered) in `text`, or NAN when absent. */
static double sample(const char *text, const char *series)
{
	size_t length = strlen(series);

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');

		if (strncmp(line, series, length) == 0 && line[length] == ' ')
			return g_ascii_strtod(line + length + 1, NULL);
		line = end != NULL ? end + 1 : NULL;
	}
	return NAN;
}

static char *render(void)
{
	return sched_metrics_render(fx.metrics, NULL);
}

static void assert_sample(const char *text, const char *series, double expected)
{
	double value = sample(text, series);

	cr_assert(!isnan(value), "%s is missing from /metrics", series);
	cr_assert(fabs(value - expected) < 1e-9, "%s: expected %g, got %g", series,
		  expected, value);
}

static inf_reflector_stats stats_of(inf_resource resource)
{
	inf_reflector_stats stats;

	inf_reflector_get_stats(inf_informer_reflector(fx.informer, resource), &stats);
	return stats;
}

static bool pod_events_at_least(const void *data)
{
	const uint64_t *n = data;

	return stats_of(INF_RESOURCE_PODS).events >= *n;
}

static bool pods_relisted(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_PODS).relists > 0 &&
	       stats_of(INF_RESOURCE_PODS).lists > 1;
}

static bool pods_watch_failed(const void *data)
{
	(void)data;
	return stats_of(INF_RESOURCE_PODS).watch_failures > 0;
}

Test(informer_metrics, families_after_sync)
{
	char *text = render();

	assert_sample(text, "stowage_informer_synced{resource=\"nodes\"}", 1);
	assert_sample(text, "stowage_informer_synced{resource=\"networkpolicies\"}", 1);
	assert_sample(text, "stowage_informer_synced{resource=\"services\"}", 1);
	assert_sample(text, "stowage_informer_objects{resource=\"pods\"}", 5);
	assert_sample(text, "stowage_informer_objects{resource=\"namespaces\"}", 2);
	assert_sample(text, "stowage_informer_lists_total{resource=\"pods\"}", 1);
	assert_sample(text, "stowage_informer_relists_total{resource=\"pods\"}", 0);
	assert_sample(text, "stowage_informer_events_total{resource=\"pods\",type=\"ADDED\"}", 0);
	/* One LIST page per resource at the default page size. */
	assert_sample(text, "stowage_informer_api_request_duration_seconds_count{verb=\"list\"}", 5);
	assert_sample(text, "stowage_informer_binds_total{outcome=\"bound\"}", 0);
	cr_assert_not_null(strstr(text, "# TYPE stowage_informer_api_request_duration_seconds histogram\n"),
			   "the histogram has its TYPE line");
	cr_assert_not_null(strstr(text, "stowage_informer_api_request_duration_seconds_bucket{verb=\"watch\",le=\"+Inf\"}"),
			   "the watch verb has buckets");
	cr_assert_geq(sample(text, "stowage_informer_seconds_since_last_sync{resource=\"pods\"}"), 0.0,
		      "seconds since the last sync is a number");
	cr_assert_not_null(strstr(text, "stowage_extender_requests_total"),
			   "the extender's own families come first");
	g_free(text);

	cr_assert(sched_metrics_remove_collector(fx.metrics, inf_informer_render_metrics,
						 fx.informer),
		  "the collector is removed");
	text = render();
	cr_assert_null(strstr(text, "stowage_informer_"), "no informer family after removal");
	g_free(text);
	cr_assert(!sched_metrics_remove_collector(fx.metrics, inf_informer_render_metrics,
						  fx.informer),
		  "a second removal finds nothing");
}

Test(informer_metrics, events_and_relist_counted)
{
	uint64_t three = 3;
	double since_event;
	char *text;

	test_control(&fx.server, "/control/objects",
		     "[{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"m-1\",\"uid\":\"uid-m-1\"},\"spec\":{\"containers\":[]}}},"
		     "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"m-1\"},\"spec\":{\"containers\":[],\"nodeName\":\"node-a\"}}},"
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-2\",\"namespace\":\"default\"}}}]");
	cr_assert(test_wait_until(pod_events_at_least, &three, WAIT_MS), "3 pod events applied");
	text = render();
	assert_sample(text, "stowage_informer_events_total{resource=\"pods\",type=\"ADDED\"}", 1);
	assert_sample(text, "stowage_informer_events_total{resource=\"pods\",type=\"MODIFIED\"}", 1);
	assert_sample(text, "stowage_informer_events_total{resource=\"pods\",type=\"DELETED\"}", 1);
	assert_sample(text, "stowage_informer_events_total{resource=\"nodes\",type=\"ADDED\"}", 0);
	since_event = sample(text, "stowage_informer_seconds_since_last_event{resource=\"pods\"}");
	cr_assert(since_event >= 0.0 && since_event < 5.0,
		  "the last pod event was just now, got %g s", since_event);
	g_free(text);

	/* Take the pods watch down, change a pod and compact, so that its
	 * resourceVersion is too old when it comes back. */
	test_control(&fx.server, "/control/faults",
		     "{\"path\":\"/api/v1/pods\",\"watch\":true,\"status\":500,\"times\":-1}");
	test_control(&fx.server, "/control/close-watches", NULL);
	cr_assert(test_wait_until(pods_watch_failed, NULL, WAIT_MS), "the pods watch is down");
	test_control(&fx.server, "/control/objects",
		     "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"m-1\"}}}");
	test_control(&fx.server, "/control/compact", NULL);
	test_control(&fx.server, "/control/clear-faults", NULL);
	cr_assert(test_wait_until(pods_relisted, NULL, WAIT_MS), "pods relisted");

	text = render();
	assert_sample(text, "stowage_informer_relists_total{resource=\"pods\"}", 1);
	assert_sample(text, "stowage_informer_lists_total{resource=\"pods\"}", 2);
	cr_assert_geq(sample(text, "stowage_informer_watch_failures_total{resource=\"pods\"}"), 1,
		      "the failed watches are counted");
	cr_assert_geq(sample(text, "stowage_informer_watch_restarts_total{resource=\"pods\"}"), 1,
		      "the restarted watches are counted");
	g_free(text);
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

Test(informer_metrics, invalid_watch_line_counted)
{
	char *text;

	cr_assert(test_wait_until(pods_watch_open, NULL, WAIT_MS), "the pods watch is open");
	test_control(&fx.server, "/control/inject",
		     "{\"resource\":\"pods\",\"line\":\"<html>bad gateway</html>\"}");
	cr_assert(test_wait_until(pods_listed_twice, NULL, WAIT_MS),
		  "pods relisted after the invalid line");

	text = render();
	cr_assert_not_null(strstr(text, "# TYPE stowage_informer_invalid_responses_total counter\n"),
			   "the family has its TYPE line");
	assert_sample(text, "stowage_informer_invalid_responses_total{resource=\"pods\",reason=\"not_json\"}", 1);
	assert_sample(text, "stowage_informer_invalid_responses_total{resource=\"pods\",reason=\"unknown_type\"}", 0);
	assert_sample(text, "stowage_informer_invalid_responses_total{resource=\"pods\",reason=\"too_large\"}", 0);
	assert_sample(text, "stowage_informer_invalid_responses_total{resource=\"nodes\",reason=\"not_json\"}", 0);
	assert_sample(text, "stowage_informer_relists_total{resource=\"pods\"}", 1);
	assert_sample(text, "stowage_informer_lists_total{resource=\"pods\"}", 2);
	assert_sample(text, "stowage_informer_watch_failures_total{resource=\"pods\"}", 1);
	g_free(text);
}

Test(informer_metrics, binds_by_outcome)
{
	score_error err = {0};
	char *text;
	int rc;

	rc = inf_informer_bind(fx.informer, "default", "pending-2", "uid-pending-2",
			       "node-a", &err);
	cr_assert_eq(rc, 0, "bound: %s", err.message);
	rc = inf_informer_bind(fx.informer, "default", "pending-2", "uid-pending-2",
			       "node-a", &err);
	cr_assert_eq(rc, 0, "the same binding again counts as success: %s", err.message);
	rc = inf_informer_bind(fx.informer, "team-a", "pending-1", "uid-someone-else",
			       "node-a", &err);
	cr_assert_eq(rc, -EEXIST, "another pod's uid is a conflict, got %d", rc);
	rc = inf_informer_bind(fx.informer, "default", "gone", "uid-gone", "node-a", &err);
	cr_assert_eq(rc, -ENOENT, "a missing pod is not found, got %d", rc);
	rc = inf_informer_bind(fx.informer, "default", "", "uid-x", "node-a", &err);
	cr_assert_eq(rc, -EINVAL, "an empty name is invalid, got %d", rc);

	text = render();
	assert_sample(text, "stowage_informer_binds_total{outcome=\"bound\"}", 1);
	assert_sample(text, "stowage_informer_binds_total{outcome=\"already_bound\"}", 1);
	assert_sample(text, "stowage_informer_binds_total{outcome=\"conflict\"}", 1);
	assert_sample(text, "stowage_informer_binds_total{outcome=\"not_found\"}", 1);
	assert_sample(text, "stowage_informer_binds_total{outcome=\"error\"}", 1);
	/* POSTs: bound 1, already bound 1, conflict 1, not found 1; the
	 * already-bound and conflict cases read the pod once each. */
	assert_sample(text, "stowage_informer_api_request_duration_seconds_count{verb=\"bind\"}", 4);
	assert_sample(text, "stowage_informer_api_request_duration_seconds_count{verb=\"get\"}", 2);
	cr_assert_eq(inf_metrics_binds(inf_informer_metrics(fx.informer), INF_BIND_BOUND), 1,
		     "the counter read directly agrees");
	g_free(text);
}

Test(informer_metrics, render_without_request_metrics)
{
	inf_metrics_resource resource = {.name = "nodes", .synced = true, .lists = 2,
					 .events = {1, 2, 3, 4},
					 .invalid = {[INF_INVALID_TOO_LARGE] = 6},
					 .seconds_since_event = 1.5,
					 .seconds_since_sync = 0.25};
	GString *out = g_string_new(NULL);

	inf_metrics_render(NULL, &resource, 1, out);
	cr_assert_null(strstr(out->str, "binds_total"), "no bind family without metrics");
	assert_sample(out->str, "stowage_informer_lists_total{resource=\"nodes\"}", 2);
	assert_sample(out->str, "stowage_informer_events_total{resource=\"nodes\",type=\"BOOKMARK\"}", 4);
	assert_sample(out->str, "stowage_informer_invalid_responses_total{resource=\"nodes\",reason=\"too_large\"}", 6);
	assert_sample(out->str, "stowage_informer_invalid_responses_total{resource=\"nodes\",reason=\"not_a_list\"}", 0);
	assert_sample(out->str, "stowage_informer_seconds_since_last_event{resource=\"nodes\"}", 1.5);
	assert_sample(out->str, "stowage_informer_seconds_since_last_sync{resource=\"nodes\"}", 0.25);
	g_string_free(out, true);
}
