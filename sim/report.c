/* The HTML report of a churn run; see report.h. */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "sim/progress.h"
#include "sim/svg.h"

#define COLOR_CPU "#1f77b4"
#define COLOR_MEMORY "#ff7f0e"
#define COLOR_GPU "#2ca02c"
#define COLOR_PENDING "#d62728"
#define COLOR_UNSCHEDULABLE "#9467bd"
#define COLOR_NODES "#7f7f7f"

static const char page_style[] =
	"body{font-family:sans-serif;max-width:820px;margin:24px auto;padding:0 12px;color:#222}"
	"h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px}"
	"table{border-collapse:collapse;margin:8px 0}"
	"td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;vertical-align:top}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"p.note{color:#555;font-size:13px}svg{display:block;margin:12px 0}"
	"div.warning{border:2px solid #d62728;background:#fdecea;padding:6px 12px;margin:8px 0}"
	"tr.alert th,tr.alert td{color:#b00;font-weight:bold}";

/* The sample columns as arrays the plots can borrow. */
typedef struct series_data {
	size_t n;
	double *time;
	double *cpu;
	double *memory;
	double *gpu;
	double *gpu_frag;
	double *pending;
	double *unschedulable;
	double *nodes;
	double *nodes_used;
	double *shared_nodes;
	double *tenant_pairs;
	double *untrusted_pairs;
} series_data;

static void series_fill(const sim_metrics *metrics, series_data *data)
{
	size_t n = metrics->samples->len;

	data->n = n;
	data->time = g_new(double, n);
	data->cpu = g_new(double, n);
	data->memory = g_new(double, n);
	data->gpu = g_new(double, n);
	data->gpu_frag = g_new(double, n);
	data->pending = g_new(double, n);
	data->unschedulable = g_new(double, n);
	data->nodes = g_new(double, n);
	data->nodes_used = g_new(double, n);
	data->shared_nodes = g_new(double, n);
	data->tenant_pairs = g_new(double, n);
	data->untrusted_pairs = g_new(double, n);
	for (size_t i = 0; i < n; i++) {
		const sim_sample *s = &g_array_index(metrics->samples, sim_sample, i);

		data->time[i] = (double)s->time_ms / 1000.0;
		data->cpu[i] = s->cpu_pct;
		data->memory[i] = s->memory_pct;
		data->gpu[i] = s->gpu_pct;
		data->gpu_frag[i] = s->gpu_frag_pct;
		data->pending[i] = (double)s->pending;
		data->unschedulable[i] = (double)s->unschedulable;
		data->nodes[i] = s->nodes;
		data->nodes_used[i] = s->nodes_used;
		data->shared_nodes[i] = s->shared_nodes;
		data->tenant_pairs[i] = s->tenant_pairs;
		data->untrusted_pairs[i] = s->untrusted_pairs;
	}
}

static void series_free(series_data *data)
{
	g_free(data->time);
	g_free(data->cpu);
	g_free(data->memory);
	g_free(data->gpu);
	g_free(data->gpu_frag);
	g_free(data->pending);
	g_free(data->unschedulable);
	g_free(data->nodes);
	g_free(data->nodes_used);
	g_free(data->shared_nodes);
	g_free(data->tenant_pairs);
	g_free(data->untrusted_pairs);
}

static void time_plot(sim_svg_plot *plot, const char *title, const char *y_label,
		      const series_data *data)
{
	sim_svg_plot_init(plot);
	plot->title = title;
	plot->x_label = data->n > 0 && data->time[data->n - 1] > 2 * 86400 ?
				"simulated time (days and hours)" :
				"simulated time (hours:minutes)";
	plot->y_label = y_label;
	plot->x_axis = SIM_SVG_TIME;
	plot->x_min = 0;
}

static void plot_allocation(const sim_summary *summary, const series_data *data,
			    GString *out)
{
	sim_svg_plot plot;

	time_plot(&plot, "Allocation per resource", "requested / allocatable", data);
	plot.y_min = 0;
	plot.y_max = 100;
	plot.y_suffix = "%";
	sim_svg_plot_add(&plot, "cpu", COLOR_CPU, data->time, data->cpu, data->n, false);
	sim_svg_plot_add(&plot, "memory", COLOR_MEMORY, data->time, data->memory,
			 data->n, false);
	if (summary->gpus)
		sim_svg_plot_add(&plot, "gpu", COLOR_GPU, data->time, data->gpu,
				 data->n, false);
	sim_svg_write(&plot, out);
}

static void plot_pending(const series_data *data, GString *out)
{
	sim_svg_plot plot;

	time_plot(&plot, "Pending pods", "pods", data);
	double highest = 0;

	for (size_t i = 0; i < data->n; i++)
		highest = MAX(highest, data->pending[i]);
	plot.y_min = 0;
	/* A quiet run gets whole-pod ticks rather than 0.2 steps. */
	if (highest < 5)
		plot.y_max = 5;
	sim_svg_plot_add(&plot, "pending", COLOR_PENDING, data->time, data->pending,
			 data->n, false);
	sim_svg_plot_add(&plot, "unschedulable", COLOR_UNSCHEDULABLE, data->time,
			 data->unschedulable, data->n, false);
	/* Dashed, so that the pending line shows where the two coincide. */
	plot.series[plot.n_series - 1].dashed = true;
	sim_svg_write(&plot, out);
}

static void plot_nodes(const series_data *data, GString *out)
{
	sim_svg_plot plot;

	time_plot(&plot, "Nodes used", "nodes", data);
	plot.y_min = 0;
	sim_svg_plot_add(&plot, "nodes with pods", COLOR_CPU, data->time,
			 data->nodes_used, data->n, false);
	sim_svg_plot_add(&plot, "nodes in cluster", COLOR_NODES, data->time,
			 data->nodes, data->n, false);
	sim_svg_write(&plot, out);
}

static void plot_fragmentation(const series_data *data, GString *out)
{
	sim_svg_plot plot;

	time_plot(&plot, "GPU fragmentation", "share of cluster GPUs", data);
	plot.y_min = 0;
	plot.y_suffix = "%";
	sim_svg_plot_add(&plot, "fragmented", COLOR_PENDING, data->time,
			 data->gpu_frag, data->n, false);
	sim_svg_plot_add(&plot, "allocated", COLOR_GPU, data->time, data->gpu,
			 data->n, false);
	sim_svg_write(&plot, out);
}

static void plot_tenancy(const series_data *data, GString *out)
{
	sim_svg_plot plot;
	double highest = 0;

	time_plot(&plot, "Tenant co-residency", "count", data);
	for (size_t i = 0; i < data->n; i++)
		highest = MAX(highest, MAX(data->shared_nodes[i], data->tenant_pairs[i]));
	plot.y_min = 0;
	if (highest < 5)
		plot.y_max = 5;
	sim_svg_plot_add(&plot, "nodes shared by tenants", COLOR_CPU, data->time,
			 data->shared_nodes, data->n, false);
	sim_svg_plot_add(&plot, "tenant pairs sharing a node", COLOR_NODES, data->time,
			 data->tenant_pairs, data->n, false);
	sim_svg_plot_add(&plot, "untrusted pairs sharing a node", COLOR_PENDING,
			 data->time, data->untrusted_pairs, data->n, false);
	plot.series[plot.n_series - 1].dashed = true;
	sim_svg_write(&plot, out);
}

/* The CDF on a log axis of seconds, as a share of every pod that arrived:
 * pods that did not wait sit at its left edge, and the curve stops below
 * 100% by the share of pods that never started. */
static void plot_cdf(const sim_metrics *metrics, const sim_summary *summary,
		     GString *out)
{
	sim_svg_plot plot;
	double *x = NULL;
	double *y = NULL;
	size_t n = sim_histogram_cdf(&metrics->pending, &x, &y);
	double started_share = summary->arrived > 0 ?
				       (double)metrics->pending.total / (double)summary->arrived :
				       0.0;
	double smallest = INFINITY;

	for (size_t i = 0; i < n; i++) {
		y[i] *= 100.0 * started_share;
		if (x[i] > 0)
			smallest = MIN(smallest, x[i]);
	}

	sim_svg_plot_init(&plot);
	plot.title = "Pending time distribution (CDF)";
	plot.x_label = "time from arrival to start (log scale); pods that did not wait sit at the left edge";
	plot.y_label = "arrived pods started within";
	plot.y_suffix = "%";
	plot.y_min = 0;
	plot.y_max = 100;
	plot.x_axis = SIM_SVG_LOG;
	if (isfinite(smallest)) {
		plot.x_min = pow(10.0, floor(log10(smallest)));
		plot.x_max = MAX(plot.x_min * 10, metrics->pending.max * 1.2);
	} else {
		plot.x_min = 0.1;
		plot.x_max = 10;
	}
	/* The distribution stays at its last value to the right edge; this
	 * also draws a line when every pod started at once. */
	if (n > 0) {
		x = g_renew(double, x, n + 1);
		y = g_renew(double, y, n + 1);
		x[n] = plot.x_max;
		y[n] = y[n - 1];
		n++;
	}
	sim_svg_plot_add(&plot, "started pods", COLOR_CPU, x, y, n, true);
	sim_svg_write(&plot, out);
	if (summary->never_started > 0) {
		char count[48];

		g_string_append_printf(out,
				       "<p class=\"note\">The curve stops at %.1f%%: %s never started.</p>\n",
				       100.0 * started_share,
				       sim_format_count_noun(summary->never_started, "pod",
							     "pods", count, sizeof(count)));
	}
	g_free(x);
	g_free(y);
}

/* ---- Tables -------------------------------------------------------------- */

/* A row; `numeric` right-aligns the value, `alert` shows it in red. */
static void table_row_styled(GString *out, const char *name, const char *value,
			     bool numeric, bool alert)
{
	char *name_escaped = g_markup_escape_text(name, -1);
	char *value_escaped = g_markup_escape_text(value, -1);

	g_string_append_printf(out, "<tr%s><th>%s</th><td%s>%s</td></tr>\n",
			       alert ? " class=\"alert\"" : "", name_escaped,
			       numeric ? " class=\"n\"" : "", value_escaped);
	g_free(name_escaped);
	g_free(value_escaped);
}

static void table_row(GString *out, const char *name, const char *value)
{
	table_row_styled(out, name, value, true, false);
}

/* "p50 / p90 / p99 / max" of a distribution, or n/a without pods. */
static void format_percentiles(const sim_pending_stats *stats, char *value,
			       size_t size)
{
	char p50[32];
	char p90[32];
	char p99[32];
	char max[32];

	if (stats->pods == 0) {
		g_snprintf(value, size, "n/a: no pod started");
		return;
	}
	g_snprintf(value, size, "%s / %s / %s / %s",
		   sim_format_seconds(stats->p50_s, p50, sizeof(p50)),
		   sim_format_seconds(stats->p90_s, p90, sizeof(p90)),
		   sim_format_seconds(stats->p99_s, p99, sizeof(p99)),
		   sim_format_seconds(stats->max_s, max, sizeof(max)));
}

static double share_pct(uint64_t part, uint64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void pending_rows(const sim_summary *summary, GString *out)
{
	char name[160];
	char value[160];
	char a[32];
	char b[32];
	char c[48];

	sim_format_count(summary->never_started, a, sizeof(a));
	sim_format_count(summary->arrived, b, sizeof(b));
	if (summary->never_started > 0)
		g_snprintf(value, sizeof(value), "%s of %s (%.1f%%), waiting up to %s at the end",
			   a, b, share_pct(summary->never_started, summary->arrived),
			   sim_format_seconds(summary->never_started_longest_s, c, sizeof(c)));
	else
		g_snprintf(value, sizeof(value), "0 of %s", b);
	table_row_styled(out, "pods that never started", value, true,
			 summary->never_started > 0);

	g_snprintf(name, sizeof(name), "pending time of the %s, p50 / p90 / p99 / max",
		   sim_format_count_noun(summary->started, "started pod", "started pods", c,
					 sizeof(c)));
	format_percentiles(&summary->pending_started, value, sizeof(value));
	table_row(out, name, value);
	if (summary->never_started > 0) {
		g_snprintf(name, sizeof(name),
			   "pending time of all %s arrived pods, never-started ones counted as waiting until the end (lower bounds), p50 / p90 / p99 / max",
			   sim_format_count(summary->arrived, a, sizeof(a)));
		format_percentiles(&summary->pending_all, value, sizeof(value));
		table_row(out, name, value);
	}
	g_snprintf(value, sizeof(value), "%s (%.1f%% of arrived pods)",
		   sim_format_count(summary->pending_started.no_wait, a, sizeof(a)),
		   share_pct(summary->pending_started.no_wait, summary->arrived));
	table_row(out, "pods started without waiting", value);
}

static void summary_table(const sim_summary *summary, GString *out)
{
	char value[256];
	char a[32];
	char b[32];
	char c[32];
	char d[32];
	char e[32];

	g_string_append(out, "<table>\n");
	pending_rows(summary, out);
	g_snprintf(value, sizeof(value), "%s at %s",
		   sim_format_count(summary->peak_pending, a, sizeof(a)),
		   sim_format_seconds(summary->peak_pending_s, b, sizeof(b)));
	table_row(out, "peak pending pods", value);
	g_snprintf(value, sizeof(value), "cpu %.1f%%, memory %.1f%%",
		   summary->cpu_mean_pct, summary->memory_mean_pct);
	if (summary->gpus)
		g_snprintf(value + strlen(value), sizeof(value) - strlen(value),
			   ", gpu %.1f%% (%.1f%% fragmented)", summary->gpu_mean_pct,
			   summary->gpu_frag_mean_pct);
	table_row(out, "mean allocation", value);
	sim_format_nodes_used(summary, value, sizeof(value));
	table_row(out, "mean nodes used", value);
	g_snprintf(value, sizeof(value), "%s arrived, %s started, %s completed",
		   sim_format_count(summary->arrived, a, sizeof(a)),
		   sim_format_count(summary->started, b, sizeof(b)),
		   sim_format_count(summary->completed, c, sizeof(c)));
	/* Pods that an end row ended while waiting neither completed nor
	 * stay at the end, so they make the counts add up to the arrivals. */
	if (summary->ends)
		g_snprintf(value + strlen(value), sizeof(value) - strlen(value),
			   ", %s ended while waiting",
			   sim_format_count(summary->ended_waiting, a, sizeof(a)));
	g_snprintf(value + strlen(value), sizeof(value) - strlen(value),
		   "; at the end %s running, %s pending",
		   sim_format_count(summary->running_at_end, d, sizeof(d)),
		   sim_format_count(summary->pending_at_end, e, sizeof(e)));
	table_row(out, "pods", value);
	if (summary->ends) {
		g_snprintf(value, sizeof(value),
			   "%s ended (%s of them while waiting); %s matched no pod; %s never ended",
			   sim_format_count_noun(summary->ended, "pod", "pods", a, sizeof(a)),
			   sim_format_count(summary->ended_waiting, b, sizeof(b)),
			   sim_format_count_noun(summary->unmatched_ends, "end row", "end rows", c,
						 sizeof(c)),
			   sim_format_count_noun(summary->never_ended, "pod", "pods", d, sizeof(d)));
		table_row(out, "end rows", value);
	}
	g_snprintf(value, sizeof(value), "%s (%s failed), %s",
		   sim_format_count(summary->attempts, a, sizeof(a)),
		   sim_format_count(summary->failed_attempts, b, sizeof(b)),
		   sim_format_count_noun(summary->evictions, "eviction", "evictions", c,
					 sizeof(c)));
	table_row(out, "scheduling attempts", value);
	g_snprintf(value, sizeof(value), "%s simulated in %.2f s",
		   sim_format_seconds(summary->simulated_s, a, sizeof(a)), summary->wall_s);
	table_row(out, "run", value);
	g_string_append(out, "</table>\n");
}

static void tenancy_table(const sim_summary *summary, GString *out)
{
	char value[256];
	char a[32];
	char b[32];

	g_string_append(out, "<table>\n");
	g_snprintf(value, sizeof(value), "%s", sim_format_count(summary->tenants, a, sizeof(a)));
	table_row(out, "tenants with placed pods", value);
	g_snprintf(value, sizeof(value), "mean %.1f, max %u", summary->shared_nodes_mean,
		   summary->shared_nodes_max);
	table_row(out, "nodes with pods of two tenants or more", value);
	g_snprintf(value, sizeof(value), "mean %.1f, max %u; %u at any time",
		   summary->tenant_pairs_mean, summary->tenant_pairs_max,
		   summary->tenant_pairs_seen);
	table_row(out, "tenant pairs sharing a node", value);
	g_snprintf(value, sizeof(value), "mean %.1f, max %u; %u at any time",
		   summary->untrusted_pairs_mean, summary->untrusted_pairs_max,
		   summary->untrusted_pairs_seen);
	table_row_styled(out, "untrusted tenant pairs sharing a node", value, true,
			 summary->untrusted_pairs_seen > 0);
	g_snprintf(value, sizeof(value), "%s pods (%.1f%% of started pods), %s placements",
		   sim_format_count(summary->pods_next_to_untrusted, a, sizeof(a)),
		   share_pct(summary->pods_next_to_untrusted, summary->started),
		   sim_format_count(summary->placements_next_to_untrusted, b, sizeof(b)));
	table_row(out, "placed next to an untrusted tenant", value);
	g_string_append(out, "</table>\n");
	g_string_append(out,
			"<p class=\"note\">Two tenants are untrusted unless each trusts the other in "
			"the policy file's spec.tenants.trust; without a policy file no tenants trust "
			"each other. A pod is placed next to an untrusted tenant when, at one of its "
			"placements, its node already ran a pod of such a tenant.</p>\n");
}

static void peer_cost_table(const sim_summary *summary, GString *out)
{
	char value[160];
	char count[32];

	g_string_append(out, "<table>\n");
	table_row(out, "pods with placed peers",
		  sim_format_count(summary->pods_with_peers, count, sizeof(count)));
	if (summary->pods_with_peers > 0)
		g_snprintf(value, sizeof(value), "%.2f / %.2f / %.2f / %.2f", summary->peer_cost_mean,
			   summary->peer_cost_p50, summary->peer_cost_p99, summary->peer_cost_max);
	else
		g_snprintf(value, sizeof(value), "n/a: no pod had placed peers");
	table_row(out, "cost to peers, mean / p50 / p99 / max", value);
	g_string_append(out, "</table>\n");
	g_string_append(out,
			"<p class=\"note\">A pod's cost is the mean topology cost (the policy's "
			"spec.topology) from its node to the nodes of its placed peers "
			"(NetworkPolicies, locality groups and exposures) at its last placement. "
			"pods.csv gives it per pod.</p>\n");
}

static void warnings_html(const GPtrArray *warnings, GString *out)
{
	for (guint i = 0; warnings != NULL && i < warnings->len; i++) {
		char *escaped = g_markup_escape_text(warnings->pdata[i], -1);

		g_string_append_printf(out, "<div class=\"warning\"><strong>Warning:</strong> %s</div>\n",
				       escaped);
		g_free(escaped);
	}
}

static void params_table(const sim_params *params, GString *out)
{
	g_string_append(out, "<table>\n");
	for (guint i = 0; i < params->names->len; i++)
		table_row_styled(out, params->names->pdata[i], params->values->pdata[i],
				 false, false);
	g_string_append(out, "</table>\n");
}

void sim_report_html(const sim_metrics *metrics, const sim_summary *summary,
		     const sim_params *params, GString *out)
{
	series_data data;

	series_fill(metrics, &data);
	g_string_append_printf(out,
			       "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			       "<title>stowage sim report</title>\n<style>%s</style>\n</head>\n<body>\n"
			       "<h1>stowage sim report</h1>\n",
			       page_style);
	warnings_html(metrics->warnings, out);
	g_string_append(out, "<h2>Summary</h2>\n");
	summary_table(summary, out);
	g_string_append(out,
			"<p class=\"note\">Pending time runs from a pod's arrival to its first start. "
			"A pod that never started has none; counted as waiting until the end of the "
			"run, it makes the percentiles of all pods lower bounds. "
			"Allocation is the sum of the running pods' requests over the allocatable "
			"resources of the nodes present, sampled over time. The files next to this "
			"page hold the numbers: summary.json, timeseries.csv and pods.csv.</p>\n");

	g_string_append(out, "<h2>Allocation</h2>\n");
	plot_allocation(summary, &data, out);
	g_string_append(out, "<h2>Pending pods</h2>\n");
	plot_pending(&data, out);
	plot_cdf(metrics, summary, out);
	g_string_append(out, "<h2>Nodes</h2>\n");
	plot_nodes(&data, out);
	if (summary->gpus) {
		g_string_append(out, "<h2>GPUs</h2>\n");
		plot_fragmentation(&data, out);
	}
	if (summary->peer_cost) {
		g_string_append(out, "<h2>Network cost to peers</h2>\n");
		peer_cost_table(summary, out);
	}
	/* Pods from pod lists have no tenant, so the section would be empty. */
	if (summary->tenancy && summary->tenants > 0) {
		g_string_append(out, "<h2>Tenants</h2>\n");
		tenancy_table(summary, out);
		plot_tenancy(&data, out);
	}

	g_string_append(out, "<h2>Parameters</h2>\n");
	params_table(params, out);
	g_string_append(out, "</body>\n</html>\n");
	series_free(&data);
}

int sim_report_write(const char *path, const sim_metrics *metrics,
		     const sim_summary *summary, const sim_params *params,
		     score_error *err)
{
	GString *html = g_string_new(NULL);
	GError *error = NULL;
	int ret = 0;

	sim_report_html(metrics, summary, params, html);
	if (!g_file_set_contents(path, html->str, (gssize)html->len, &error)) {
		ret = score_fail(err, -EIO, "cannot write %s: %s", path, error->message);
		g_error_free(error);
	}
	g_string_free(html, TRUE);
	return ret;
}
