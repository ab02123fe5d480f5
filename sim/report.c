/* The HTML report of a churn run; see report.h. */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

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
	"p.note{color:#555;font-size:13px}svg{display:block;margin:12px 0}";

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

/* The CDF on a log axis of seconds; pods that did not wait sit at its
 * left edge. */
static void plot_cdf(const sim_metrics *metrics, GString *out)
{
	sim_svg_plot plot;
	double *x = NULL;
	double *y = NULL;
	size_t n = sim_histogram_cdf(&metrics->pending, &x, &y);
	double smallest = INFINITY;

	for (size_t i = 0; i < n; i++) {
		y[i] *= 100.0;
		if (x[i] > 0)
			smallest = MIN(smallest, x[i]);
	}

	sim_svg_plot_init(&plot);
	plot.title = "Pending time distribution (CDF)";
	plot.x_label = "time from arrival to start (log scale); pods that did not wait sit at the left edge";
	plot.y_label = "pods started within";
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
	g_free(x);
	g_free(y);
}

/* ---- Tables -------------------------------------------------------------- */

/* A row; `numeric` right-aligns the value. */
static void table_row_aligned(GString *out, const char *name, const char *value,
			      bool numeric)
{
	char *name_escaped = g_markup_escape_text(name, -1);
	char *value_escaped = g_markup_escape_text(value, -1);

	g_string_append_printf(out, "<tr><th>%s</th><td%s>%s</td></tr>\n",
			       name_escaped, numeric ? " class=\"n\"" : "",
			       value_escaped);
	g_free(name_escaped);
	g_free(value_escaped);
}

static void table_row(GString *out, const char *name, const char *value)
{
	table_row_aligned(out, name, value, true);
}

static void summary_table(const sim_summary *summary, GString *out)
{
	char value[128];
	char a[32];
	char b[32];
	char c[32];

	g_string_append(out, "<table>\n");
	g_snprintf(value, sizeof(value), "%s / %s / %s",
		   sim_format_seconds(summary->pending_p50_s, a, sizeof(a)),
		   sim_format_seconds(summary->pending_p90_s, b, sizeof(b)),
		   sim_format_seconds(summary->pending_p99_s, c, sizeof(c)));
	table_row(out, "pending time p50 / p90 / p99", value);
	table_row(out, "max pending time",
		  sim_format_seconds(summary->pending_max_s, value, sizeof(value)));
	g_snprintf(value, sizeof(value), "%.1f%%", summary->started_without_wait_pct);
	table_row(out, "pods started without waiting", value);
	g_snprintf(value, sizeof(value), "%llu", (unsigned long long)summary->pending_at_end);
	table_row(out, "pods never scheduled (still pending at the end)", value);
	g_snprintf(value, sizeof(value), "%llu at %s",
		   (unsigned long long)summary->peak_pending,
		   sim_format_seconds(summary->peak_pending_s, a, sizeof(a)));
	table_row(out, "peak pending pods", value);
	g_snprintf(value, sizeof(value), "cpu %.1f%%, memory %.1f%%",
		   summary->cpu_mean_pct, summary->memory_mean_pct);
	if (summary->gpus)
		g_snprintf(value + strlen(value), sizeof(value) - strlen(value),
			   ", gpu %.1f%% (%.1f%% fragmented)", summary->gpu_mean_pct,
			   summary->gpu_frag_mean_pct);
	table_row(out, "mean allocation", value);
	g_snprintf(value, sizeof(value), "%.1f of %u", summary->nodes_used_mean,
		   summary->nodes_at_end);
	table_row(out, "mean nodes used", value);
	g_snprintf(value, sizeof(value), "%llu arrived, %llu started, %llu completed, %llu running at the end",
		   (unsigned long long)summary->arrived, (unsigned long long)summary->started,
		   (unsigned long long)summary->completed,
		   (unsigned long long)summary->running_at_end);
	table_row(out, "pods", value);
	g_snprintf(value, sizeof(value), "%llu (%llu failed), %llu evictions",
		   (unsigned long long)summary->attempts,
		   (unsigned long long)summary->failed_attempts,
		   (unsigned long long)summary->evictions);
	table_row(out, "scheduling attempts", value);
	g_snprintf(value, sizeof(value), "%s simulated in %.2f s",
		   sim_format_seconds(summary->simulated_s, a, sizeof(a)), summary->wall_s);
	table_row(out, "run", value);
	g_string_append(out, "</table>\n");
}

static void params_table(const sim_params *params, GString *out)
{
	g_string_append(out, "<table>\n");
	for (guint i = 0; i < params->names->len; i++)
		table_row_aligned(out, params->names->pdata[i], params->values->pdata[i],
				  false);
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
	g_string_append(out, "<h2>Summary</h2>\n");
	summary_table(summary, out);
	g_string_append(out,
			"<p class=\"note\">Pending time runs from a pod's arrival to its first start. "
			"Allocation is the sum of the running pods' requests over the allocatable "
			"resources of the nodes present, sampled over time. The files next to this "
			"page hold the numbers: summary.json, timeseries.csv and pods.csv.</p>\n");

	g_string_append(out, "<h2>Allocation</h2>\n");
	plot_allocation(summary, &data, out);
	g_string_append(out, "<h2>Pending pods</h2>\n");
	plot_pending(&data, out);
	plot_cdf(metrics, out);
	g_string_append(out, "<h2>Nodes</h2>\n");
	plot_nodes(&data, out);
	if (summary->gpus) {
		g_string_append(out, "<h2>GPUs</h2>\n");
		plot_fragmentation(&data, out);
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
