/* Prometheus counters for the extender service; see scheduler/metrics.h. */
#include "scheduler/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <glib.h>

/* Upper bounds in seconds. A filter or prioritize call over 500 node names
 * takes a fraction of a millisecond, so the buckets start at 100 us. The
 * upper ones catch a request that parsed thousands of full Node objects,
 * and a /bind that retried against the API server for up to its 4 s
 * deadline. */
static const double duration_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,
};
#define N_BUCKETS G_N_ELEMENTS(duration_buckets)

/* The error kinds with their own series; anything else is "other". */
static const char *const error_kinds[] = {
	"malformed_json", "invalid_request",    "bind",
	"body_too_large", "method_not_allowed", "internal",
	"other",
};
#define N_ERROR_KINDS G_N_ELEMENTS(error_kinds)
#define OTHER_KIND (N_ERROR_KINDS - 1)

#define MIN_CODE 100
#define MAX_CODE 599
#define N_CODES (MAX_CODE - MIN_CODE + 1)

typedef struct verb_metrics {
	atomic_uint_fast64_t requests[N_CODES]; /* by HTTP status - 100 */
	/* Per bucket, not cumulative: buckets[N_BUCKETS] is above the last
	 * bound. The renderer adds them up. */
	atomic_uint_fast64_t buckets[N_BUCKETS + 1];
	atomic_uint_fast64_t duration_sum_ns;
	atomic_uint_fast64_t errors[N_ERROR_KINDS];
} verb_metrics;

typedef struct collector {
	sched_metrics_collector_fn fn;
	void *data;
} collector;

/* Behind a pointer, so that rendering through a const sched_metrics * can
 * still take the mutex. */
typedef struct collector_list {
	GMutex mutex;      /* held while collectors run, so removal waits */
	GArray *items;     /* collector */
} collector_list;

struct sched_metrics {
	verb_metrics verbs[SCHED_VERB_COUNT];
	double start_time_s; /* Unix time of sched_metrics_new() */
	collector_list *collectors;
};

sched_metrics *sched_metrics_new(void)
{
	sched_metrics *metrics = g_new0(sched_metrics, 1);

	/* g_new0() already zeroes the memory. C11 does not promise that
	 * all-zero bytes make a valid atomic zero, so initialize anyway. */
	for (size_t v = 0; v < SCHED_VERB_COUNT; v++) {
		verb_metrics *vm = &metrics->verbs[v];

		for (size_t i = 0; i < N_CODES; i++)
			atomic_init(&vm->requests[i], 0);
		for (size_t i = 0; i <= N_BUCKETS; i++)
			atomic_init(&vm->buckets[i], 0);
		atomic_init(&vm->duration_sum_ns, 0);
		for (size_t i = 0; i < N_ERROR_KINDS; i++)
			atomic_init(&vm->errors[i], 0);
	}
	metrics->start_time_s = (double)g_get_real_time() / G_USEC_PER_SEC;
	metrics->collectors = g_new0(collector_list, 1);
	g_mutex_init(&metrics->collectors->mutex);
	metrics->collectors->items = g_array_new(false, false, sizeof(collector));
	return metrics;
}

void sched_metrics_free(sched_metrics *metrics)
{
	if (metrics == NULL)
		return;
	g_array_unref(metrics->collectors->items);
	g_mutex_clear(&metrics->collectors->mutex);
	g_free(metrics->collectors);
	g_free(metrics);
}

void sched_metrics_add_collector(sched_metrics *metrics,
				 sched_metrics_collector_fn fn, void *data)
{
	collector item = {fn, data};

	g_mutex_lock(&metrics->collectors->mutex);
	g_array_append_val(metrics->collectors->items, item);
	g_mutex_unlock(&metrics->collectors->mutex);
}

bool sched_metrics_remove_collector(sched_metrics *metrics,
				    sched_metrics_collector_fn fn, void *data)
{
	GArray *items = metrics->collectors->items;
	bool removed = false;

	g_mutex_lock(&metrics->collectors->mutex);
	for (guint i = 0; i < items->len && !removed; i++) {
		const collector *item = &g_array_index(items, collector, i);

		if (item->fn == fn && item->data == data) {
			g_array_remove_index(items, i);
			removed = true;
		}
	}
	g_mutex_unlock(&metrics->collectors->mutex);
	return removed;
}

static void render_collectors(const sched_metrics *metrics, GString *out)
{
	collector_list *list = metrics->collectors;

	g_mutex_lock(&list->mutex);
	for (guint i = 0; i < list->items->len; i++) {
		const collector *item = &g_array_index(list->items, collector, i);

		item->fn(item->data, out);
	}
	g_mutex_unlock(&list->mutex);
}

static bool verb_valid(sched_verb verb)
{
	return verb >= SCHED_VERB_FILTER && verb < SCHED_VERB_COUNT;
}

void sched_metrics_observe(sched_metrics *metrics, sched_verb verb,
			   unsigned http_status, double seconds)
{
	verb_metrics *vm;
	size_t bucket = 0;

	if (metrics == NULL || !verb_valid(verb))
		return;
	vm = &metrics->verbs[verb];

	if (http_status < MIN_CODE || http_status > MAX_CODE)
		http_status = 500;
	atomic_fetch_add_explicit(&vm->requests[http_status - MIN_CODE], 1,
				  memory_order_relaxed);

	if (!(seconds >= 0.0)) /* negative or NaN */
		seconds = 0.0;
	while (bucket < N_BUCKETS && seconds > duration_buckets[bucket])
		bucket++;
	atomic_fetch_add_explicit(&vm->buckets[bucket], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&vm->duration_sum_ns,
				  (uint_fast64_t)llround(seconds * 1e9),
				  memory_order_relaxed);
}

void sched_metrics_count_error(sched_metrics *metrics, sched_verb verb,
			       const char *kind)
{
	size_t index = OTHER_KIND;

	if (metrics == NULL || kind == NULL || !verb_valid(verb))
		return;
	for (size_t i = 0; i < OTHER_KIND; i++) {
		if (strcmp(kind, error_kinds[i]) == 0) {
			index = i;
			break;
		}
	}
	atomic_fetch_add_explicit(&metrics->verbs[verb].errors[index], 1,
				  memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static void append_header(GString *out, const char *name, const char *type,
			  const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

/* Appends `value` with 15 significant digits when they read back exactly
 * (le="0.0001", not 0.00010000000000000000), else 17. */
static void append_double(GString *out, double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_ascii_formatd(buf, sizeof(buf), "%.15g", value);
	if (g_ascii_strtod(buf, NULL) != value)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", value);
	g_string_append(out, buf);
}

static void render_requests(const sched_metrics *metrics, GString *out)
{
	append_header(out, "stowage_extender_requests_total", "counter",
		      "Extender requests handled, by verb and HTTP status.");
	for (size_t v = 0; v < SCHED_VERB_COUNT; v++) {
		const verb_metrics *vm = &metrics->verbs[v];

		for (size_t i = 0; i < N_CODES; i++) {
			uint64_t n = load(&vm->requests[i]);

			/* 200 is always shown so that rate() has a series
			 * from the first scrape. */
			if (n == 0 && i + MIN_CODE != 200)
				continue;
			g_string_append_printf(
				out,
				"stowage_extender_requests_total{verb=\"%s\","
				"code=\"%zu\"} %" PRIu64 "\n",
				sched_verb_name((sched_verb)v), i + MIN_CODE,
				n);
		}
	}
}

static void render_durations(const sched_metrics *metrics, GString *out)
{
	const char *name = "stowage_extender_request_duration_seconds";

	append_header(out, name, "histogram",
		      "Time from the first request byte handled to the "
		      "response queued, by verb.");
	for (size_t v = 0; v < SCHED_VERB_COUNT; v++) {
		const verb_metrics *vm = &metrics->verbs[v];
		const char *verb = sched_verb_name((sched_verb)v);
		uint64_t cumulative = 0;

		for (size_t b = 0; b <= N_BUCKETS; b++) {
			cumulative += load(&vm->buckets[b]);
			g_string_append_printf(out, "%s_bucket{verb=\"%s\",le=\"",
					       name, verb);
			if (b < N_BUCKETS)
				append_double(out, duration_buckets[b]);
			else
				g_string_append(out, "+Inf");
			g_string_append_printf(out, "\"} %" PRIu64 "\n",
					       cumulative);
		}
		g_string_append_printf(out, "%s_sum{verb=\"%s\"} ", name, verb);
		append_double(out, (double)load(&vm->duration_sum_ns) / 1e9);
		/* The count is the +Inf bucket, read above, so that the two
		 * always agree within one scrape. */
		g_string_append_printf(out, "\n%s_count{verb=\"%s\"} %" PRIu64
					    "\n",
				       name, verb, cumulative);
	}
}

static void render_errors(const sched_metrics *metrics, GString *out)
{
	append_header(out, "stowage_extender_errors_total", "counter",
		      "Extender requests that failed, by verb and kind of "
		      "failure.");
	for (size_t v = 0; v < SCHED_VERB_COUNT; v++) {
		for (size_t k = 0; k < N_ERROR_KINDS; k++) {
			g_string_append_printf(
				out,
				"stowage_extender_errors_total{verb=\"%s\","
				"kind=\"%s\"} %" PRIu64 "\n",
				sched_verb_name((sched_verb)v), error_kinds[k],
				load(&metrics->verbs[v].errors[k]));
		}
	}
}

static void render_model(sched_cluster *cluster, GString *out)
{
	size_t nodes = 0;
	size_t pods = 0;

	g_rw_lock_reader_lock(&cluster->lock);
	if (cluster->model != NULL) {
		nodes = score_model_node_count(cluster->model);
		pods = score_model_pod_count(cluster->model);
	}
	g_rw_lock_reader_unlock(&cluster->lock);

	append_header(out, "stowage_model_nodes", "gauge",
		      "Nodes in the cluster model.");
	g_string_append_printf(out, "stowage_model_nodes %zu\n", nodes);
	append_header(out, "stowage_model_pods", "gauge",
		      "Pods in the cluster model, bound, assumed or pending.");
	g_string_append_printf(out, "stowage_model_pods %zu\n", pods);
}

char *sched_metrics_render(const sched_metrics *metrics,
			   sched_cluster *cluster)
{
	GString *out = g_string_sized_new(8192);

	render_requests(metrics, out);
	render_durations(metrics, out);
	render_errors(metrics, out);
	if (cluster != NULL)
		render_model(cluster, out);

	append_header(out, "stowage_build_info", "gauge",
		      "Always 1; the version label names the stowage build.");
	g_string_append_printf(out, "stowage_build_info{version=\"%s\"} 1\n",
			       STOWAGE_VERSION);
	append_header(out, "process_start_time_seconds", "gauge",
		      "Time stowage started, in seconds since the Unix "
		      "epoch.");
	g_string_append(out, "process_start_time_seconds ");
	append_double(out, metrics->start_time_s);
	g_string_append_c(out, '\n');

	render_collectors(metrics, out);
	return g_string_free(out, FALSE);
}

/* Appends `value` as a label value: backslash, double quote and newline
 * escaped, as the text exposition format requires. */
static void append_label_value(GString *out, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

void sched_metrics_render_policy(void *data, GString *out)
{
	pol_loader *loader = data;
	pol_policy *policy = pol_loader_current(loader);

	append_header(out, "stowage_policy_reloads_total", "counter",
		      "Loads of the policy file by result: success (a new "
		      "policy became current, the load at startup included), "
		      "unchanged (same content as the running policy) or "
		      "failure (invalid or unreadable; the running policy "
		      "stays).");
	for (int r = 0; r < POL_RELOAD_RESULT_COUNT; r++)
		g_string_append_printf(out,
				       "stowage_policy_reloads_total{result=\"%s\"} %" PRIu64 "\n",
				       pol_reload_result_name((pol_reload_result)r),
				       pol_loader_reloads(loader, (pol_reload_result)r));

	if (policy == NULL)
		return;
	append_header(out, "stowage_policy_info", "gauge",
		      "Always 1; the labels name the running policy and the "
		      "SHA-256 digest of its file.");
	g_string_append(out, "stowage_policy_info{name=\"");
	append_label_value(out, pol_policy_name(policy));
	g_string_append(out, "\",digest=\"");
	append_label_value(out, pol_policy_digest(policy));
	g_string_append(out, "\"} 1\n");
	pol_policy_unref(policy);
}
