/* Informer metrics; see metrics.h. */
#include "informer/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>

/* Upper bounds in seconds, from 5 ms for a binding on a quiet server up to
 * the 60 s request timeout, so that throttled requests land in a bucket of
 * their own. */
static const double request_buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
};
#define N_BUCKETS G_N_ELEMENTS(request_buckets)

static const char *const event_type_names[] = {"ADDED", "MODIFIED", "DELETED",
						"BOOKMARK"};

typedef struct histogram {
	/* Per bucket, not cumulative: buckets[N_BUCKETS] is above the last
	 * bound. The renderer adds them up. */
	atomic_uint_fast64_t buckets[N_BUCKETS + 1];
	atomic_uint_fast64_t sum_ns;
} histogram;

struct inf_metrics {
	histogram requests[INF_API_VERB_COUNT];
	atomic_uint_fast64_t binds[INF_BIND_OUTCOME_COUNT];
	atomic_uint_fast64_t exec_runs[2]; /* error, ok */
};

const char *inf_api_verb_name(inf_api_verb verb)
{
	static const char *const names[] = {"list", "watch", "get", "bind"};

	return verb < INF_API_VERB_COUNT ? names[verb] : "unknown";
}

const char *inf_bind_outcome_name(inf_bind_outcome outcome)
{
	static const char *const names[] = {"bound", "already_bound", "conflict",
					    "not_found", "error"};

	return outcome < INF_BIND_OUTCOME_COUNT ? names[outcome] : "unknown";
}

const char *inf_invalid_reason_name(inf_invalid_reason reason)
{
	static const char *const names[] = {"not_json", "not_an_event",
					    "unknown_type", "not_a_list",
					    "too_large"};

	G_STATIC_ASSERT(G_N_ELEMENTS(names) == INF_INVALID_REASON_COUNT);
	return reason < INF_INVALID_REASON_COUNT ? names[reason] : "unknown";
}

inf_metrics *inf_metrics_new(void)
{
	inf_metrics *metrics = g_new0(inf_metrics, 1);

	/* C11 does not promise that zero bytes are a valid atomic zero. */
	for (size_t v = 0; v < INF_API_VERB_COUNT; v++) {
		for (size_t b = 0; b <= N_BUCKETS; b++)
			atomic_init(&metrics->requests[v].buckets[b], 0);
		atomic_init(&metrics->requests[v].sum_ns, 0);
	}
	for (size_t i = 0; i < INF_BIND_OUTCOME_COUNT; i++)
		atomic_init(&metrics->binds[i], 0);
	atomic_init(&metrics->exec_runs[0], 0);
	atomic_init(&metrics->exec_runs[1], 0);
	return metrics;
}

void inf_metrics_free(inf_metrics *metrics)
{
	g_free(metrics);
}

void inf_metrics_observe_request(inf_metrics *metrics, inf_api_verb verb,
				 double seconds)
{
	histogram *h;
	size_t bucket = 0;

	if (metrics == NULL || verb >= INF_API_VERB_COUNT)
		return;
	h = &metrics->requests[verb];
	if (!(seconds >= 0.0)) /* negative or NaN */
		seconds = 0.0;
	while (bucket < N_BUCKETS && seconds > request_buckets[bucket])
		bucket++;
	atomic_fetch_add_explicit(&h->buckets[bucket], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, (uint_fast64_t)llround(seconds * 1e9),
				  memory_order_relaxed);
}

void inf_metrics_count_bind(inf_metrics *metrics, inf_bind_outcome outcome)
{
	if (metrics == NULL || outcome >= INF_BIND_OUTCOME_COUNT)
		return;
	atomic_fetch_add_explicit(&metrics->binds[outcome], 1, memory_order_relaxed);
}

void inf_metrics_count_exec_run(inf_metrics *metrics, bool ok)
{
	if (metrics == NULL)
		return;
	atomic_fetch_add_explicit(&metrics->exec_runs[ok ? 1 : 0], 1,
				  memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

uint64_t inf_metrics_binds(const inf_metrics *metrics, inf_bind_outcome outcome)
{
	if (metrics == NULL || outcome >= INF_BIND_OUTCOME_COUNT)
		return 0;
	return load(&metrics->binds[outcome]);
}

/* ---- Rendering ----------------------------------------------------------- */

static void append_header(GString *out, const char *name, const char *type,
			  const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

/* Appends `value` with the fewest digits (up to 17) that read back the
 * same, so bounds print as 0.005 rather than 0.005000000000000000104. */
static void append_double(GString *out, double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value)) {
		g_string_append(out, "NaN");
		return;
	}
	g_ascii_formatd(buf, sizeof(buf), "%.15g", value);
	if (g_ascii_strtod(buf, NULL) != value)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", value);
	g_string_append(out, buf);
}

static void render_requests(const inf_metrics *metrics, GString *out)
{
	const char *name = "stowage_informer_api_request_duration_seconds";

	append_header(out, name, "histogram",
		      "API server request latency by verb: list pages and "
		      "bindings until the whole response, watches until the "
		      "response headers.");
	for (size_t v = 0; v < INF_API_VERB_COUNT; v++) {
		const histogram *h = &metrics->requests[v];
		const char *verb = inf_api_verb_name((inf_api_verb)v);
		uint64_t cumulative = 0;

		for (size_t b = 0; b <= N_BUCKETS; b++) {
			cumulative += load(&h->buckets[b]);
			g_string_append_printf(out, "%s_bucket{verb=\"%s\",le=\"", name,
					       verb);
			if (b < N_BUCKETS)
				append_double(out, request_buckets[b]);
			else
				g_string_append(out, "+Inf");
			g_string_append_printf(out, "\"} %" PRIu64 "\n", cumulative);
		}
		g_string_append_printf(out, "%s_sum{verb=\"%s\"} ", name, verb);
		append_double(out, (double)load(&h->sum_ns) / 1e9);
		/* The count is the +Inf bucket read above, so the two agree. */
		g_string_append_printf(out, "\n%s_count{verb=\"%s\"} %" PRIu64 "\n",
				       name, verb, cumulative);
	}
}

static void render_binds(const inf_metrics *metrics, GString *out)
{
	append_header(out, "stowage_informer_binds_total", "counter",
		      "Bind calls by outcome.");
	for (size_t i = 0; i < INF_BIND_OUTCOME_COUNT; i++)
		g_string_append_printf(out,
				       "stowage_informer_binds_total{outcome=\"%s\"} %" PRIu64 "\n",
				       inf_bind_outcome_name((inf_bind_outcome)i),
				       load(&metrics->binds[i]));
	append_header(out, "stowage_informer_exec_plugin_runs_total", "counter",
		      "Runs of the kubeconfig's exec credential plugin by result.");
	g_string_append_printf(out,
			       "stowage_informer_exec_plugin_runs_total{result=\"ok\"} %" PRIu64 "\n"
			       "stowage_informer_exec_plugin_runs_total{result=\"error\"} %" PRIu64 "\n",
			       load(&metrics->exec_runs[1]), load(&metrics->exec_runs[0]));
}

/* The per-resource families that are one number per resource. */
typedef struct resource_family {
	const char *name;
	const char *type;
	const char *help;
	size_t offset; /* of a uint64_t in inf_metrics_resource */
} resource_family;

static const resource_family resource_families[] = {
	{"stowage_informer_lists_total", "counter",
	 "LISTs completed, the first one included.",
	 offsetof(inf_metrics_resource, lists)},
	{"stowage_informer_relists_total", "counter",
	 "LISTs after the first: after a watch got 410 Gone, or a watch line "
	 "that was invalid or over the size limit.",
	 offsetof(inf_metrics_resource, relists)},
	{"stowage_informer_watch_restarts_total", "counter",
	 "Watches started again from the last resourceVersion after one ended or failed.",
	 offsetof(inf_metrics_resource, watch_restarts)},
	{"stowage_informer_watch_failures_total", "counter",
	 "Watches that failed: connection errors, cut streams, HTTP errors, ERROR "
	 "events, invalid or oversized lines.",
	 offsetof(inf_metrics_resource, watch_failures)},
	{"stowage_informer_decode_failures_total", "counter",
	 "Objects skipped because they could not be decoded.",
	 offsetof(inf_metrics_resource, decode_failures)},
	{"stowage_informer_objects", "gauge",
	 "Objects the reflector has put into the cluster model or store.",
	 offsetof(inf_metrics_resource, objects)},
};

static void render_resources(const inf_metrics_resource *resources, size_t n,
			     GString *out)
{
	for (size_t f = 0; f < G_N_ELEMENTS(resource_families); f++) {
		const resource_family *family = &resource_families[f];

		append_header(out, family->name, family->type, family->help);
		for (size_t i = 0; i < n; i++) {
			const uint64_t *value = (const uint64_t *)(const void *)
				((const char *)&resources[i] + family->offset);

			g_string_append_printf(out, "%s{resource=\"%s\"} %" PRIu64 "\n",
					       family->name, resources[i].name, *value);
		}
	}

	append_header(out, "stowage_informer_events_total", "counter",
		      "Watch events by type: ADDED, MODIFIED and DELETED applied, "
		      "BOOKMARK received.");
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < G_N_ELEMENTS(event_type_names); t++)
			g_string_append_printf(out,
					       "stowage_informer_events_total{resource=\"%s\",type=\"%s\"} %" PRIu64 "\n",
					       resources[i].name, event_type_names[t],
					       resources[i].events[t]);

	append_header(out, "stowage_informer_invalid_responses_total", "counter",
		      "Watch lines and list pages rejected as malformed or over the "
		      "size limit; a watch relists after one, a list retries.");
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < INF_INVALID_REASON_COUNT; r++)
			g_string_append_printf(out,
					       "stowage_informer_invalid_responses_total{resource=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
					       resources[i].name,
					       inf_invalid_reason_name((inf_invalid_reason)r),
					       resources[i].invalid[r]);

	append_header(out, "stowage_informer_synced", "gauge",
		      "1 once the reflector's first LIST is in the model, else 0.");
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(out, "stowage_informer_synced{resource=\"%s\"} %d\n",
				       resources[i].name, resources[i].synced ? 1 : 0);

	append_header(out, "stowage_informer_seconds_since_last_event", "gauge",
		      "Seconds since the last ADDED, MODIFIED or DELETED event, or "
		      "since the informer started.");
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(out,
				       "stowage_informer_seconds_since_last_event{resource=\"%s\"} ",
				       resources[i].name);
		append_double(out, resources[i].seconds_since_event);
		g_string_append_c(out, '\n');
	}
	append_header(out, "stowage_informer_seconds_since_last_sync", "gauge",
		      "Seconds since the reflector last knew it was current: a LIST "
		      "done, a watch event or bookmark, a watch the server ended; or "
		      "since the informer started.");
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(out,
				       "stowage_informer_seconds_since_last_sync{resource=\"%s\"} ",
				       resources[i].name);
		append_double(out, resources[i].seconds_since_sync);
		g_string_append_c(out, '\n');
	}
}

void inf_metrics_render(const inf_metrics *metrics,
			const inf_metrics_resource *resources,
			size_t n_resources, GString *out)
{
	if (metrics != NULL) {
		render_requests(metrics, out);
		render_binds(metrics, out);
	}
	render_resources(resources, n_resources, out);
}
