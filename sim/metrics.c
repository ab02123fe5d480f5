/* Metrics and output files of churn runs; see metrics.h. */
#include "sim/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/progress.h"

/* Bucket b >= 1 contains values in [GROWTH^(b-1), GROWTH^b) milliseconds; the
 * values are kept in milliseconds so that sub-second waits have buckets. */
#define GROWTH 1.01
#define MAX_VALUE_MS 1e15
#define N_BUCKETS 3500

/* ---- Histogram ----------------------------------------------------------- */

void sim_histogram_init(sim_histogram *histogram)
{
	memset(histogram, 0, sizeof(*histogram));
	histogram->n_buckets = N_BUCKETS;
	histogram->counts = g_new0(uint64_t, N_BUCKETS);
	histogram->sums = g_new0(double, N_BUCKETS);
}

void sim_histogram_release(sim_histogram *histogram)
{
	g_free(histogram->counts);
	g_free(histogram->sums);
	memset(histogram, 0, sizeof(*histogram));
}

static size_t bucket_of(double value_ms)
{
	double b;

	if (value_ms <= 0)
		return 0;
	if (value_ms < 1.0)
		return 1;
	b = floor(log(value_ms) / log(GROWTH)) + 1;
	return (size_t)MIN(b, N_BUCKETS - 1);
}

void sim_histogram_add(sim_histogram *histogram, double value)
{
	double ms;
	size_t b;

	if (!(value > 0))
		value = 0;
	if (value > 1e12)
		value = 1e12;
	ms = value * 1000.0;
	b = bucket_of(MIN(ms, MAX_VALUE_MS));
	histogram->counts[b]++;
	histogram->sums[b] += value;
	histogram->total++;
	histogram->sum += value;
	histogram->max = MAX(histogram->max, value);
}

double sim_histogram_quantile(const sim_histogram *histogram, double q)
{
	uint64_t rank;
	uint64_t seen = 0;

	if (histogram->total == 0)
		return 0.0;
	rank = (uint64_t)ceil(q * (double)histogram->total);
	rank = CLAMP(rank, 1, histogram->total);
	for (size_t b = 0; b < histogram->n_buckets; b++) {
		seen += histogram->counts[b];
		if (seen >= rank)
			return histogram->sums[b] / (double)histogram->counts[b];
	}
	return histogram->max;
}

void sim_histogram_merge(sim_histogram *into, const sim_histogram *from)
{
	for (size_t b = 0; b < into->n_buckets && b < from->n_buckets; b++) {
		into->counts[b] += from->counts[b];
		into->sums[b] += from->sums[b];
	}
	into->total += from->total;
	into->sum += from->sum;
	into->max = MAX(into->max, from->max);
}

size_t sim_histogram_cdf(const sim_histogram *histogram, double **x,
			 double **y)
{
	size_t n = 0;
	uint64_t seen = 0;

	*x = g_new(double, histogram->n_buckets);
	*y = g_new(double, histogram->n_buckets);
	for (size_t b = 0; b < histogram->n_buckets; b++) {
		if (histogram->counts[b] == 0)
			continue;
		seen += histogram->counts[b];
		/* The bucket's largest value is not kept, so its mean is used,
		 * except that the last point is the true maximum. */
		(*x)[n] = seen == histogram->total ?
				  histogram->max :
				  histogram->sums[b] / (double)histogram->counts[b];
		(*y)[n] = (double)seen / (double)histogram->total;
		n++;
	}
	return n;
}

/* ---- Parameters ---------------------------------------------------------- */

void sim_params_init(sim_params *params)
{
	params->names = g_ptr_array_new_with_free_func(g_free);
	params->values = g_ptr_array_new_with_free_func(g_free);
}

void sim_params_release(sim_params *params)
{
	if (params->names != NULL)
		g_ptr_array_free(params->names, TRUE);
	if (params->values != NULL)
		g_ptr_array_free(params->values, TRUE);
	memset(params, 0, sizeof(*params));
}

void sim_params_add(sim_params *params, const char *name, const char *format,
		    ...)
{
	va_list args;

	va_start(args, format);
	g_ptr_array_add(params->names, g_strdup(name));
	g_ptr_array_add(params->values, g_strdup_vprintf(format, args));
	va_end(args);
}

/* ---- Collecting ---------------------------------------------------------- */

static void note_write(sim_metrics *metrics, int written)
{
	if (written < 0 && metrics->write_error == 0)
		metrics->write_error = errno != 0 ? errno : EIO;
}

int sim_metrics_init(sim_metrics *metrics, const char *pods_csv_path,
		     bool gpus, score_error *err)
{
	memset(metrics, 0, sizeof(*metrics));
	metrics->samples = g_array_new(FALSE, FALSE, sizeof(sim_sample));
	sim_histogram_init(&metrics->pending);
	sim_histogram_init(&metrics->never_started);
	metrics->warnings = g_ptr_array_new_with_free_func(g_free);
	metrics->gpus = gpus;
	metrics->untrusted_met = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						       g_free, NULL);
	metrics->peer_cost = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
						   g_free);
	sim_histogram_init(&metrics->peer_costs);
	if (pods_csv_path == NULL)
		return 0;

	metrics->pods_csv_path = g_strdup(pods_csv_path);
	metrics->pods_csv = fopen(pods_csv_path, "w");
	if (metrics->pods_csv == NULL)
		return score_fail(err, -errno, "cannot write %s: %s", pods_csv_path,
				  g_strerror(errno));
	note_write(metrics, fputs("name,namespace,app,arrival_s,start_s,pending_s,"
				  "node,end_s,outcome,attempts,evictions,tenant,"
				  "untrusted_tenants_on_node,peers,peer_cost\n",
				  metrics->pods_csv));
	return 0;
}

int sim_metrics_close(sim_metrics *metrics, score_error *err)
{
	int ret = 0;

	if (metrics->pods_csv != NULL) {
		if (fclose(metrics->pods_csv) != 0)
			note_write(metrics, -1);
		metrics->pods_csv = NULL;
	}
	if (metrics->write_error != 0)
		ret = score_fail(err, -metrics->write_error, "cannot write %s: %s",
				 metrics->pods_csv_path,
				 g_strerror(metrics->write_error));
	return ret;
}

void sim_metrics_release(sim_metrics *metrics)
{
	if (metrics->pods_csv != NULL)
		fclose(metrics->pods_csv);
	if (metrics->samples != NULL)
		g_array_free(metrics->samples, TRUE);
	sim_histogram_release(&metrics->pending);
	sim_histogram_release(&metrics->never_started);
	if (metrics->warnings != NULL)
		g_ptr_array_free(metrics->warnings, TRUE);
	if (metrics->untrusted_met != NULL)
		g_hash_table_destroy(metrics->untrusted_met);
	if (metrics->peer_cost != NULL)
		g_hash_table_destroy(metrics->peer_cost);
	sim_histogram_release(&metrics->peer_costs);
	g_free(metrics->pods_csv_path);
	memset(metrics, 0, sizeof(*metrics));
}

void sim_metrics_track_tenants(sim_metrics *metrics, sim_tenancy *tenancy)
{
	metrics->tenancy = tenancy;
}

void sim_metrics_track_peer_cost(sim_metrics *metrics,
				 const score_locality_config *locality,
				 const score_model *model)
{
	metrics->locality = locality;
	metrics->model = model;
}

/* Stores a placed pod's number of placed peers and its mean cost to them
 * as two doubles. */
static void record_peer_cost(sim_metrics *metrics, const sim_pod *pod,
			     const score_node *node)
{
	GHashTable *peers = score_locality_peers(metrics->locality, metrics->model, pod->pod);
	GHashTableIter iter;
	gpointer key;
	double total = 0;
	double *value;
	guint n = 0;
	int64_t index = (int64_t)pod->index;

	g_hash_table_iter_init(&iter, peers);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const score_pod *peer = key;
		const score_node *peer_node = peer->node_name != NULL ?
						      score_model_node(metrics->model, peer->node_name) :
						      NULL;

		if (peer_node == NULL)
			continue;
		total += (double)score_locality_cost(metrics->locality, node->name, &node->labels,
						     peer_node->name, &peer_node->labels);
		n++;
	}
	g_hash_table_unref(peers);
	if (n == 0) {
		g_hash_table_remove(metrics->peer_cost, &index);
		return;
	}
	value = g_new(double, 2);
	value[0] = n;
	value[1] = total / n;
	g_hash_table_insert(metrics->peer_cost, g_memdup2(&index, sizeof(index)), value);
}

static void on_sample(void *data, const sim_sample *sample)
{
	sim_metrics *metrics = data;
	sim_sample kept = *sample;

	if (metrics->tenancy != NULL) {
		sim_tenancy_counts counts;

		sim_tenancy_counts_now(metrics->tenancy, &counts);
		kept.shared_nodes = counts.shared_nodes;
		kept.tenant_pairs = counts.tenant_pairs;
		kept.untrusted_pairs = counts.untrusted_pairs;
	}
	g_array_append_val(metrics->samples, kept);
}

static void on_bound(void *data, const sim_pod *pod, const score_node *node)
{
	sim_metrics *metrics = data;
	uint32_t untrusted;
	gpointer known;
	int64_t index = (int64_t)pod->index;

	if (metrics->locality != NULL)
		record_peer_cost(metrics, pod, node);
	if (metrics->tenancy == NULL)
		return;
	untrusted = sim_tenancy_bind(metrics->tenancy, pod->pod, node);
	if (untrusted == 0)
		return;
	metrics->placements_next_to_untrusted++;
	known = g_hash_table_lookup(metrics->untrusted_met, &index);
	if (known == NULL) {
		metrics->pods_next_to_untrusted++;
		g_hash_table_insert(metrics->untrusted_met, g_memdup2(&index, sizeof(index)),
				    GUINT_TO_POINTER(untrusted));
	} else if (GPOINTER_TO_UINT(known) < untrusted) {
		g_hash_table_insert(metrics->untrusted_met, g_memdup2(&index, sizeof(index)),
				    GUINT_TO_POINTER(untrusted));
	}
}

static void on_unbound(void *data, const sim_pod *pod, const score_node *node)
{
	sim_metrics *metrics = data;

	if (metrics->tenancy != NULL)
		sim_tenancy_unbind(metrics->tenancy, pod->pod, node);
}

static void on_compact(void *data)
{
	sim_metrics *metrics = data;
	guint kept = 0;

	/* Samples sit at multiples of the old interval from 0, so the even
	 * ones are the multiples of the new one. */
	for (guint i = 0; i < metrics->samples->len; i += 2)
		g_array_index(metrics->samples, sim_sample, kept++) =
			g_array_index(metrics->samples, sim_sample, i);
	g_array_set_size(metrics->samples, kept);
}

static void on_started(void *data, const sim_pod *pod, int64_t pending_ms)
{
	sim_metrics *metrics = data;

	(void)pod;
	sim_histogram_add(&metrics->pending, (double)pending_ms / 1000.0);
}

/* Writes a CSV field, quoted when it contains a comma or a quote. */
static void write_field(FILE *out, const char *text)
{
	if (text == NULL)
		return;
	if (strpbrk(text, ",\"\n") == NULL) {
		fputs(text, out);
		return;
	}
	fputc('"', out);
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '"')
			fputc('"', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

static const char *const outcome_names[] = {
	[SIM_OUTCOME_COMPLETED] = "completed",
	[SIM_OUTCOME_RUNNING] = "running",
	[SIM_OUTCOME_PENDING] = "pending",
	[SIM_OUTCOME_ENDED_WAITING] = "ended_waiting",
};

/* The tenant and untrusted_tenants_on_node fields of a pod's row; both
 * empty without a tracker. Forgets what the pod met. */
static void write_tenancy(sim_metrics *metrics, const sim_pod *pod, FILE *out)
{
	int64_t index = (int64_t)pod->index;
	gpointer met;

	if (metrics->tenancy == NULL) {
		fputc(',', out);
		return;
	}
	if (pod->pod != NULL)
		write_field(out, sim_tenancy_pod_tenant(metrics->tenancy, pod->pod));
	met = g_hash_table_lookup(metrics->untrusted_met, &index);
	fprintf(out, ",%u", GPOINTER_TO_UINT(met));
	if (met != NULL)
		g_hash_table_remove(metrics->untrusted_met, &index);
}

/* The peers and peer_cost fields; empty for a pod without placed peers.
 * Adds the pod's cost to the distribution and removes its entry. */
static void write_peer_cost(sim_metrics *metrics, const sim_pod *pod, FILE *out)
{
	int64_t index = (int64_t)pod->index;
	const double *value = g_hash_table_lookup(metrics->peer_cost, &index);

	fputc(',', out);
	if (value == NULL) {
		fputc(',', out);
		return;
	}
	fprintf(out, "%.0f,%.3f", value[0], value[1]);
	sim_histogram_add(&metrics->peer_costs, value[1]);
	g_hash_table_remove(metrics->peer_cost, &index);
}

static void on_finished(void *data, const sim_pod *pod, const char *node,
			sim_pod_outcome outcome, int64_t now_ms)
{
	sim_metrics *metrics = data;
	FILE *out = metrics->pods_csv;
	int64_t pending_ms = pod->pending_ms;

	if (outcome == SIM_OUTCOME_PENDING) {
		pending_ms += now_ms - pod->waiting_since_ms;
		metrics->pending_at_end++;
		if (pod->first_start_ms < 0)
			sim_histogram_add(&metrics->never_started,
					  (double)(now_ms - pod->arrival_ms) / 1000.0);
	} else if (outcome == SIM_OUTCOME_RUNNING) {
		metrics->running_at_end++;
	}
	if (out == NULL)
		return;

	write_field(out, pod->pod != NULL ? pod->pod->name : NULL);
	fputc(',', out);
	write_field(out, pod->pod != NULL ? pod->pod->namespace : NULL);
	fputc(',', out);
	write_field(out, pod->pod != NULL ? score_labels_get(&pod->pod->labels, "app") : NULL);
	fprintf(out, ",%.3f,", (double)pod->arrival_ms / 1000.0);
	if (pod->first_start_ms >= 0)
		fprintf(out, "%.3f", (double)pod->first_start_ms / 1000.0);
	fprintf(out, ",%.3f,", (double)pending_ms / 1000.0);
	write_field(out, node);
	fputc(',', out);
	if (outcome == SIM_OUTCOME_COMPLETED || outcome == SIM_OUTCOME_ENDED_WAITING)
		fprintf(out, "%.3f", (double)now_ms / 1000.0);
	fprintf(out, ",%s,%u,%u,", outcome_names[outcome], pod->total_attempts,
		pod->evictions);
	write_tenancy(metrics, pod, out);
	write_peer_cost(metrics, pod, out);
	note_write(metrics, fputc('\n', out) == EOF ? -1 : 0);
}

void sim_metrics_observer(sim_metrics *metrics, sim_observer *observer)
{
	memset(observer, 0, sizeof(*observer));
	observer->sample = on_sample;
	observer->compact = on_compact;
	observer->started = on_started;
	observer->finished = on_finished;
	observer->bound = on_bound;
	observer->unbound = on_unbound;
	observer->data = metrics;
}

/* ---- Summary ------------------------------------------------------------- */

static void pending_stats_of(const sim_histogram *histogram, uint64_t censored,
			     sim_pending_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->pods = histogram->total;
	out->censored = censored;
	if (histogram->total == 0)
		return;
	out->no_wait = histogram->counts[0];
	out->p50_s = sim_histogram_quantile(histogram, 0.50);
	out->p90_s = sim_histogram_quantile(histogram, 0.90);
	out->p99_s = sim_histogram_quantile(histogram, 0.99);
	out->max_s = histogram->max;
	out->mean_s = histogram->sum / (double)histogram->total;
}

static void summarize_tenancy(const sim_metrics *metrics, sim_summary *summary)
{
	guint n = metrics->samples->len;

	summary->tenancy = true;
	summary->tenants = sim_tenancy_tenants_seen(metrics->tenancy);
	summary->tenant_pairs_seen = sim_tenancy_pairs_seen(metrics->tenancy);
	summary->untrusted_pairs_seen = sim_tenancy_untrusted_pairs_seen(metrics->tenancy);
	summary->placements_next_to_untrusted = metrics->placements_next_to_untrusted;
	summary->pods_next_to_untrusted = metrics->pods_next_to_untrusted;
	for (guint i = 0; i < n; i++) {
		const sim_sample *sample = &g_array_index(metrics->samples, sim_sample, i);

		summary->shared_nodes_mean += (double)sample->shared_nodes / n;
		summary->tenant_pairs_mean += (double)sample->tenant_pairs / n;
		summary->untrusted_pairs_mean += (double)sample->untrusted_pairs / n;
		summary->shared_nodes_max = MAX(summary->shared_nodes_max, sample->shared_nodes);
		summary->tenant_pairs_max = MAX(summary->tenant_pairs_max, sample->tenant_pairs);
		summary->untrusted_pairs_max = MAX(summary->untrusted_pairs_max,
						   sample->untrusted_pairs);
	}
}

const char *sim_format_nodes_used(const sim_summary *summary, char *buf, size_t size)
{
	char peak[32];
	char end[32];

	sim_format_count(summary->nodes_peak, peak, sizeof(peak));
	if (summary->nodes_peak == summary->nodes_at_end)
		g_snprintf(buf, size, "%.1f of %s", summary->nodes_used_mean, peak);
	else
		g_snprintf(buf, size, "%.1f of %s at the peak (%s at the end)",
			   summary->nodes_used_mean, peak,
			   sim_format_count(summary->nodes_at_end, end, sizeof(end)));
	return buf;
}

void sim_metrics_summarize(const sim_metrics *metrics,
			   const sim_engine_stats *stats, double wall_s,
			   sim_summary *summary)
{
	sim_histogram all;
	guint n = metrics->samples->len;

	memset(summary, 0, sizeof(*summary));
	summary->arrived = stats->arrivals;
	summary->started = stats->started;
	summary->never_started = metrics->never_started.total;
	summary->never_started_longest_s = metrics->never_started.max;
	summary->completed = stats->completed;
	summary->ended = stats->ends;
	summary->ended_waiting = stats->ended_waiting;
	summary->unmatched_ends = stats->unmatched_ends;
	summary->running_at_end = metrics->running_at_end;
	summary->pending_at_end = metrics->pending_at_end;
	summary->evictions = stats->evictions;
	summary->attempts = stats->attempts;
	summary->failed_attempts = stats->failed_attempts;

	pending_stats_of(&metrics->pending, 0, &summary->pending_started);
	sim_histogram_init(&all);
	sim_histogram_merge(&all, &metrics->pending);
	sim_histogram_merge(&all, &metrics->never_started);
	pending_stats_of(&all, metrics->never_started.total, &summary->pending_all);
	sim_histogram_release(&all);

	summary->peak_pending = stats->peak_pending;
	summary->peak_pending_s = (double)stats->peak_pending_ms / 1000.0;
	summary->simulated_s = (double)stats->end_ms / 1000.0;
	summary->interrupted = stats->interrupted;
	summary->wall_s = wall_s;
	summary->gpus = metrics->gpus;

	for (guint i = 0; i < n; i++) {
		const sim_sample *sample = &g_array_index(metrics->samples, sim_sample, i);

		summary->cpu_mean_pct += sample->cpu_pct / n;
		summary->memory_mean_pct += sample->memory_pct / n;
		summary->gpu_mean_pct += sample->gpu_pct / n;
		summary->gpu_frag_mean_pct += sample->gpu_frag_pct / n;
		summary->nodes_used_mean += (double)sample->nodes_used / n;
		summary->nodes_peak = MAX(summary->nodes_peak, sample->nodes);
	}
	if (n > 0)
		summary->nodes_at_end =
			g_array_index(metrics->samples, sim_sample, n - 1).nodes;
	if (metrics->tenancy != NULL)
		summarize_tenancy(metrics, summary);
	if (metrics->locality != NULL) {
		const sim_histogram *costs = &metrics->peer_costs;

		summary->peer_cost = true;
		summary->pods_with_peers = costs->total;
		summary->peer_cost_mean = costs->total > 0 ? costs->sum / (double)costs->total : 0;
		summary->peer_cost_p50 = sim_histogram_quantile(costs, 0.50);
		summary->peer_cost_p99 = sim_histogram_quantile(costs, 0.99);
		summary->peer_cost_max = costs->max;
	}
}

const char *sim_format_seconds(double seconds, char *buf, size_t size)
{
	long long rounded;

	/* Each form rounds in its own last unit first, so that a value just
	 * below a form's limit that rounds up to it moves to the next form. */
	if (!(seconds > 0))
		g_snprintf(buf, size, "0 s");
	else if ((rounded = llround(seconds * 1000)) < 1000)
		g_snprintf(buf, size, "%lld ms", rounded);
	else if (seconds < 59.95)
		g_snprintf(buf, size, "%.3g s", seconds);
	else if ((rounded = llround(seconds)) < 3600)
		g_snprintf(buf, size, "%lldm%02llds", rounded / 60, rounded % 60);
	else if ((rounded = llround(seconds / 60)) < 24 * 60)
		g_snprintf(buf, size, "%lldh%02lldm", rounded / 60, rounded % 60);
	else
		g_snprintf(buf, size, "%lldd%02lldh", llround(seconds / 3600) / 24,
			   llround(seconds / 3600) % 24);
	return buf;
}

/* ---- Files --------------------------------------------------------------- */

static GString *timeseries_csv(const sim_metrics *metrics)
{
	GString *csv = g_string_new("time_s,cpu_pct,memory_pct,pods_pct,");

	if (metrics->gpus)
		g_string_append(csv, "gpu_pct,gpu_frag_pct,");
	g_string_append(csv, "running,pending,unschedulable,nodes,nodes_used");
	if (metrics->tenancy != NULL)
		g_string_append(csv, ",shared_nodes,tenant_pairs,untrusted_pairs");
	g_string_append_c(csv, '\n');
	for (guint i = 0; i < metrics->samples->len; i++) {
		const sim_sample *s = &g_array_index(metrics->samples, sim_sample, i);

		g_string_append_printf(csv, "%.3f,%.2f,%.2f,%.2f,",
				       (double)s->time_ms / 1000.0, s->cpu_pct,
				       s->memory_pct, s->pods_pct);
		if (metrics->gpus)
			g_string_append_printf(csv, "%.2f,%.2f,", s->gpu_pct,
					       s->gpu_frag_pct);
		g_string_append_printf(csv, "%llu,%llu,%llu,%u,%u",
				       (unsigned long long)s->running,
				       (unsigned long long)s->pending,
				       (unsigned long long)s->unschedulable, s->nodes,
				       s->nodes_used);
		if (metrics->tenancy != NULL)
			g_string_append_printf(csv, ",%u,%u,%u", s->shared_nodes,
					       s->tenant_pairs, s->untrusted_pairs);
		g_string_append_c(csv, '\n');
	}
	return csv;
}

/* Numbers rounded to 3 decimals, so the file reads cleanly. */
static void add_number(cJSON *object, const char *name, double value)
{
	cJSON_AddNumberToObject(object, name, round(value * 1000.0) / 1000.0);
}

/* A pending-time distribution; its percentiles are null without pods. */
static cJSON *pending_json(cJSON *parent, const char *name,
			   const sim_pending_stats *stats)
{
	cJSON *object = cJSON_AddObjectToObject(parent, name);
	static const char *const fields[] = {"p50", "p90", "p99", "max", "mean"};
	const double values[] = {stats->p50_s, stats->p90_s, stats->p99_s,
				 stats->max_s, stats->mean_s};

	if (object == NULL)
		return NULL;
	add_number(object, "pods", (double)stats->pods);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (stats->pods > 0)
			add_number(object, fields[i], values[i]);
		else
			cJSON_AddNullToObject(object, fields[i]);
	}
	return object;
}

static double share_pct(uint64_t part, uint64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static bool add_pending(cJSON *root, const sim_summary *summary)
{
	cJSON *pending = cJSON_AddObjectToObject(root, "pending_seconds");
	cJSON *started;
	cJSON *all;

	if (pending == NULL)
		return false;
	started = pending_json(pending, "started_pods", &summary->pending_started);
	all = pending_json(pending, "all_pods", &summary->pending_all);
	if (started == NULL || all == NULL)
		return false;
	add_number(started, "started_without_wait", (double)summary->pending_started.no_wait);
	add_number(all, "never_started", (double)summary->pending_all.censored);
	if (summary->never_started > 0)
		add_number(all, "longest_wait_never_started", summary->never_started_longest_s);
	else
		cJSON_AddNullToObject(all, "longest_wait_never_started");
	cJSON_AddStringToObject(all, "note",
				"pods that never started count as waiting until the end of the run, so these values are lower bounds");
	return true;
}

/* {"mean": ..., "max": ...} over the samples. */
static bool add_mean_max(cJSON *parent, const char *name, double mean, uint32_t max)
{
	cJSON *object = cJSON_AddObjectToObject(parent, name);

	if (object == NULL)
		return false;
	add_number(object, "mean", mean);
	add_number(object, "max", max);
	return true;
}

static bool add_peer_cost(cJSON *root, const sim_summary *summary)
{
	cJSON *cost = cJSON_AddObjectToObject(root, "peer_cost");
	static const char *const fields[] = {"mean", "p50", "p99", "max"};
	const double values[] = {summary->peer_cost_mean, summary->peer_cost_p50,
				 summary->peer_cost_p99, summary->peer_cost_max};

	if (cost == NULL)
		return false;
	add_number(cost, "pods_with_peers", (double)summary->pods_with_peers);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (summary->pods_with_peers > 0)
			add_number(cost, fields[i], values[i]);
		else
			cJSON_AddNullToObject(cost, fields[i]);
	}
	cJSON_AddStringToObject(cost, "note",
				"mean topology cost from each pod's node to its placed peers at its last placement, in the policy's spec.topology units");
	return true;
}

static bool add_tenancy(cJSON *root, const sim_summary *summary)
{
	cJSON *tenancy = cJSON_AddObjectToObject(root, "tenancy");

	if (tenancy == NULL ||
	    !add_mean_max(tenancy, "shared_nodes", summary->shared_nodes_mean,
			  summary->shared_nodes_max) ||
	    !add_mean_max(tenancy, "tenant_pairs_sharing_a_node", summary->tenant_pairs_mean,
			  summary->tenant_pairs_max) ||
	    !add_mean_max(tenancy, "untrusted_pairs_sharing_a_node",
			  summary->untrusted_pairs_mean, summary->untrusted_pairs_max))
		return false;
	add_number(tenancy, "tenants", summary->tenants);
	add_number(tenancy, "tenant_pairs_ever_sharing", summary->tenant_pairs_seen);
	add_number(tenancy, "untrusted_pairs_ever_sharing", summary->untrusted_pairs_seen);
	add_number(tenancy, "placements_next_to_untrusted",
		   (double)summary->placements_next_to_untrusted);
	add_number(tenancy, "pods_next_to_untrusted", (double)summary->pods_next_to_untrusted);
	add_number(tenancy, "pods_next_to_untrusted_pct",
		   share_pct(summary->pods_next_to_untrusted, summary->started));
	return true;
}

static bool add_ends(cJSON *root, const sim_summary *summary)
{
	cJSON *ends = cJSON_AddObjectToObject(root, "end_rows");

	if (ends == NULL)
		return false;
	add_number(ends, "ended_pods", (double)summary->ended);
	add_number(ends, "ended_while_waiting", (double)summary->ended_waiting);
	add_number(ends, "unmatched", (double)summary->unmatched_ends);
	add_number(ends, "pods_never_ended", (double)summary->never_ended);
	return true;
}

static cJSON *summary_json(const sim_summary *summary, const sim_params *params,
			   const GPtrArray *warnings)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *parameters = cJSON_AddObjectToObject(root, "parameters");
	cJSON *warning_list = cJSON_AddArrayToObject(root, "warnings");
	cJSON *pods = cJSON_AddObjectToObject(root, "pods");
	cJSON *allocation;

	/* cJSON returns NULL when it runs out of memory. */
	if (root == NULL || parameters == NULL || warning_list == NULL || pods == NULL ||
	    !add_pending(root, summary)) {
		cJSON_Delete(root);
		return NULL;
	}
	allocation = cJSON_AddObjectToObject(root, "mean_allocation_pct");
	if (allocation == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (guint i = 0; i < params->names->len; i++)
		cJSON_AddStringToObject(parameters, params->names->pdata[i],
					params->values->pdata[i]);
	for (guint i = 0; warnings != NULL && i < warnings->len; i++)
		cJSON_AddItemToArray(warning_list, cJSON_CreateString(warnings->pdata[i]));

	add_number(root, "simulated_seconds", summary->simulated_s);
	cJSON_AddBoolToObject(root, "interrupted", summary->interrupted);
	add_number(root, "wall_seconds", summary->wall_s);

	add_number(pods, "arrived", (double)summary->arrived);
	add_number(pods, "started", (double)summary->started);
	add_number(pods, "never_started", (double)summary->never_started);
	add_number(pods, "never_started_pct", share_pct(summary->never_started, summary->arrived));
	add_number(pods, "completed", (double)summary->completed);
	add_number(pods, "running_at_end", (double)summary->running_at_end);
	add_number(pods, "pending_at_end", (double)summary->pending_at_end);
	add_number(pods, "evictions", (double)summary->evictions);
	add_number(pods, "scheduling_attempts", (double)summary->attempts);
	add_number(pods, "failed_attempts", (double)summary->failed_attempts);
	add_number(pods, "peak_pending", (double)summary->peak_pending);
	add_number(pods, "peak_pending_at_seconds", summary->peak_pending_s);

	add_number(allocation, "cpu", summary->cpu_mean_pct);
	add_number(allocation, "memory", summary->memory_mean_pct);
	if (summary->gpus) {
		add_number(allocation, "gpu", summary->gpu_mean_pct);
		add_number(allocation, "gpu_fragmented", summary->gpu_frag_mean_pct);
	}
	add_number(root, "mean_nodes_used", summary->nodes_used_mean);
	add_number(root, "nodes_at_end", summary->nodes_at_end);
	add_number(root, "nodes_peak", summary->nodes_peak);
	if (summary->ends && !add_ends(root, summary)) {
		cJSON_Delete(root);
		return NULL;
	}
	if (summary->peer_cost && !add_peer_cost(root, summary)) {
		cJSON_Delete(root);
		return NULL;
	}
	if (summary->tenancy && !add_tenancy(root, summary)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int write_file(const char *dir, const char *name, const char *text,
		      size_t length, score_error *err)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *error = NULL;
	int ret = 0;

	if (!g_file_set_contents(path, text, (gssize)length, &error)) {
		ret = score_fail(err, -EIO, "cannot write %s: %s", path, error->message);
		g_error_free(error);
	}
	g_free(path);
	return ret;
}

int sim_metrics_write(const sim_metrics *metrics, const sim_summary *summary,
		      const sim_params *params, const char *dir,
		      score_error *err)
{
	GString *csv = timeseries_csv(metrics);
	cJSON *json = summary_json(summary, params, metrics->warnings);
	char *text = json != NULL ? cJSON_Print(json) : NULL;
	int ret;

	ret = write_file(dir, "timeseries.csv", csv->str, csv->len, err);
	if (ret == 0 && text == NULL)
		ret = score_fail(err, -ENOMEM, "cannot format summary.json");
	if (ret == 0)
		ret = write_file(dir, "summary.json", text, strlen(text), err);

	cJSON_free(text);
	cJSON_Delete(json);
	g_string_free(csv, TRUE);
	return ret;
}
