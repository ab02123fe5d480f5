/* Tests for sim/svg.c, sim/metrics.c and sim/report.c: tick choice, the
 * SVG elements of a plot, the pending-time histogram, and a report page
 * with one <svg> per plot and the summary numbers. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/metrics.h"
#include "sim/report.h"
#include "sim/svg.h"

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(svg, linear_ticks_are_nice)
{
	double ticks[SIM_SVG_MAX_TICKS];
	size_t n = sim_svg_linear_ticks(0, 100, 5, ticks, SIM_SVG_MAX_TICKS);

	cr_assert_eq(n, 6, "0, 20, ..., 100: got %zu ticks", n);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(ticks[i], 20.0 * (double)i, 1e-9, "tick %zu is %g", i, ticks[i]);
	n = sim_svg_linear_ticks(0.3, 0.9, 4, ticks, SIM_SVG_MAX_TICKS);
	cr_assert_float_eq(ticks[0], 0.4, 1e-9, "first tick 0.4, got %g", ticks[0]);
	cr_assert_eq(n, 3, "0.4, 0.6, 0.8: got %zu", n);
}

Test(svg, time_ticks_use_whole_hours)
{
	double ticks[SIM_SVG_MAX_TICKS];
	size_t n = sim_svg_time_ticks(0, 86400, 8, ticks, SIM_SVG_MAX_TICKS);

	cr_assert_eq(n, 9, "every 3 hours over a day: got %zu", n);
	cr_assert_float_eq(ticks[1], 10800, 1e-9);
	n = sim_svg_time_ticks(0, 14 * 86400, 8, ticks, SIM_SVG_MAX_TICKS);
	cr_assert_float_eq(ticks[1], 2 * 86400.0, 1e-9, "two-day steps over two weeks, got %g",
			   ticks[1]);
}

Test(svg, plot_has_title_axes_legend_and_lines)
{
	static const double x[] = {0, 3600, 7200};
	static const double y[] = {10, 50, 30};
	sim_svg_plot plot;
	GString *out = g_string_new(NULL);

	sim_svg_plot_init(&plot);
	plot.title = "CPU & memory <test>";
	plot.x_label = "time";
	plot.y_label = "percent";
	plot.y_suffix = "%";
	plot.x_axis = SIM_SVG_TIME;
	sim_svg_plot_add(&plot, "cpu", "#111", x, y, 3, false);
	sim_svg_plot_add(&plot, "memory", "#222", x, y, 3, false);
	sim_svg_write(&plot, out);

	cr_assert(g_str_has_prefix(out->str, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	cr_assert(g_str_has_suffix(out->str, "</svg>\n"));
	cr_assert(strstr(out->str, "CPU &amp; memory &lt;test&gt;") != NULL, "title escaped");
	cr_assert_eq(count_of(out->str, "<polyline"), 2, "one line per series");
	cr_assert(strstr(out->str, ">cpu</text>") != NULL, "legend entry");
	cr_assert(strstr(out->str, ">01:00</text>") != NULL, "hour tick label");
	cr_assert(strstr(out->str, ">50%</text>") != NULL, "y tick with suffix");
	cr_assert(strstr(out->str, ">percent</text>") != NULL, "y label");
	g_string_free(out, TRUE);
}

Test(svg, long_series_is_decimated)
{
	size_t n = 100000;
	double *x = g_new(double, n);
	double *y = g_new(double, n);
	sim_svg_plot plot;
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < n; i++) {
		x[i] = (double)i;
		y[i] = i == 54321 ? 1000 : 1;
	}
	sim_svg_plot_init(&plot);
	plot.y_max = 1000;
	sim_svg_plot_add(&plot, "spiky", "#000", x, y, n, false);
	sim_svg_write(&plot, out);
	cr_assert_lt(out->len, 100000, "much smaller than one point per value: %zu bytes", out->len);
	/* The spike reaches the top of the plot area, y = MARGIN_TOP 44. */
	cr_assert(strstr(out->str, ",44.0 ") != NULL, "the spike survives decimation");
	g_string_free(out, TRUE);
	g_free(x);
	g_free(y);
}

Test(metrics, histogram_quantiles)
{
	sim_histogram histogram;

	sim_histogram_init(&histogram);
	for (int i = 0; i < 90; i++)
		sim_histogram_add(&histogram, 0);
	for (int i = 0; i < 9; i++)
		sim_histogram_add(&histogram, 12.5);
	sim_histogram_add(&histogram, 3600);
	cr_assert_float_eq(sim_histogram_quantile(&histogram, 0.5), 0, 1e-12);
	cr_assert_float_eq(sim_histogram_quantile(&histogram, 0.9), 0, 1e-12,
			   "rank 90 of 100 is the last zero");
	cr_assert_float_eq(sim_histogram_quantile(&histogram, 0.95), 12.5, 1e-9,
			   "equal values come back exactly");
	cr_assert_float_eq(sim_histogram_quantile(&histogram, 1.0), 3600, 1e-9);
	cr_assert_float_eq(histogram.max, 3600, 1e-12);
	sim_histogram_add(&histogram, 100.0);
	sim_histogram_add(&histogram, 100.5);
	cr_assert_float_eq(sim_histogram_quantile(&histogram, 101.0 / 102), 100.25, 1e-9,
			   "values within 1%% share a bucket and its mean");
	sim_histogram_release(&histogram);
}

Test(metrics, seconds_for_people)
{
	char buf[32];

	cr_assert_str_eq(sim_format_seconds(0, buf, sizeof(buf)), "0 s");
	cr_assert_str_eq(sim_format_seconds(0.25, buf, sizeof(buf)), "250 ms");
	cr_assert_str_eq(sim_format_seconds(12.5, buf, sizeof(buf)), "12.5 s");
	cr_assert_str_eq(sim_format_seconds(331, buf, sizeof(buf)), "5m31s");
	cr_assert_str_eq(sim_format_seconds(7500, buf, sizeof(buf)), "2h05m");
	cr_assert_str_eq(sim_format_seconds(3 * 86400 + 4 * 3600, buf, sizeof(buf)), "3d04h");
}

/* A run's worth of metrics, built by hand. */
static void fake_metrics(sim_metrics *metrics, sim_summary *summary, bool gpus)
{
	sim_engine_stats stats = {.arrivals = 4321, .started = 4300, .completed = 4000,
				  .attempts = 4500, .failed_attempts = 200,
				  .peak_pending = 57, .peak_pending_ms = 76440000,
				  .end_ms = 86400000};

	cr_assert_eq(sim_metrics_init(metrics, NULL, gpus, NULL), 0);
	for (int i = 0; i <= 1440; i++) {
		sim_sample sample = {
			.time_ms = i * 60000LL,
			.cpu_pct = 50 + 20 * sin(i / 200.0),
			.memory_pct = 30,
			.gpu_pct = 40,
			.gpu_frag_pct = 5,
			.pending = (uint64_t)(i % 100),
			.nodes = 50,
			.nodes_used = 48,
		};

		g_array_append_val(metrics->samples, sample);
	}
	for (int i = 0; i < 4300; i++)
		sim_histogram_add(&metrics->pending, i % 20 < 3 ? 12.0 : 0);
	metrics->pending_at_end = 21;
	sim_metrics_summarize(metrics, &stats, 0.42, summary);
}

Test(report, page_has_plots_and_numbers)
{
	sim_metrics metrics;
	sim_summary summary;
	sim_params params;
	GString *html = g_string_new(NULL);

	fake_metrics(&metrics, &summary, false);
	sim_params_init(&params);
	sim_params_add(&params, "policy", "%s", "kube-default");
	sim_params_add(&params, "seed", "%d", 42);
	sim_report_html(&metrics, &summary, &params, html);

	cr_assert(g_str_has_prefix(html->str, "<!DOCTYPE html>"));
	cr_assert_eq(count_of(html->str, "<svg "), 4,
		     "allocation, pending, CDF and nodes plots: got %zu",
		     count_of(html->str, "<svg "));
	cr_assert(strstr(html->str, "Allocation per resource") != NULL);
	cr_assert(strstr(html->str, "Pending time distribution (CDF)") != NULL);
	cr_assert(strstr(html->str, "Nodes used") != NULL);
	cr_assert_null(strstr(html->str, "<script"), "no scripts");
	cr_assert_null(strstr(html->str, "src="), "no external files");
	cr_assert_null(strstr(html->str, "href="), "no links to load");
	cr_assert(strstr(html->str, "0 s / 12 s / 12 s") != NULL, "p50 / p90 / p99 shown");
	cr_assert(strstr(html->str, ">21<") != NULL, "never-scheduled count shown");
	cr_assert(strstr(html->str, "57 at 21h14m") != NULL, "peak pending shown");
	{
		char *cpu = g_strdup_printf("cpu %.1f%%", summary.cpu_mean_pct);

		cr_assert(strstr(html->str, cpu) != NULL, "mean cpu allocation \"%s\" shown", cpu);
		g_free(cpu);
	}
	cr_assert(strstr(html->str, "<th>seed</th><td") != NULL, "parameters table");
	g_string_free(html, TRUE);
	sim_params_release(&params);
	sim_metrics_release(&metrics);
}

Test(report, gpu_cluster_adds_fragmentation_plot)
{
	sim_metrics metrics;
	sim_summary summary;
	sim_params params;
	GString *html = g_string_new(NULL);

	fake_metrics(&metrics, &summary, true);
	sim_params_init(&params);
	sim_report_html(&metrics, &summary, &params, html);
	cr_assert_eq(count_of(html->str, "<svg "), 5, "a fifth plot for GPUs");
	cr_assert(strstr(html->str, "GPU fragmentation") != NULL);
	g_string_free(html, TRUE);
	sim_params_release(&params);
	sim_metrics_release(&metrics);
}

Test(report, written_files)
{
	sim_metrics metrics;
	sim_summary summary;
	sim_params params;
	char *dir = g_dir_make_tmp("stowage-report-XXXXXX", NULL);
	char *report = g_build_filename(dir, "report.html", NULL);
	char *json_path = g_build_filename(dir, "summary.json", NULL);
	char *csv_path = g_build_filename(dir, "timeseries.csv", NULL);
	char *json = NULL;
	char *csv = NULL;
	score_error err = {0};

	fake_metrics(&metrics, &summary, false);
	sim_params_init(&params);
	sim_params_add(&params, "seed", "42");
	cr_assert_eq(sim_metrics_write(&metrics, &summary, &params, dir, &err), 0, "%s",
		     err.message);
	cr_assert_eq(sim_report_write(report, &metrics, &summary, &params, &err), 0, "%s",
		     err.message);
	cr_assert(g_file_test(report, G_FILE_TEST_IS_REGULAR), "report.html written");
	cr_assert(g_file_get_contents(json_path, &json, NULL, NULL), "summary.json written");
	cr_assert(strstr(json, "\"never_scheduled\":\t21") != NULL, "JSON count: %s", json);
	cr_assert(strstr(json, "\"p90\":\t12") != NULL, "JSON p90");
	cr_assert(g_file_get_contents(csv_path, &csv, NULL, NULL), "timeseries.csv written");
	cr_assert(g_str_has_prefix(csv, "time_s,cpu_pct,memory_pct,pods_pct,running,pending,"));
	cr_assert_eq(count_of(csv, "\n"), 1442, "header and 1441 samples");

	cr_assert_lt(sim_metrics_write(&metrics, &summary, &params, "/nonexistent/dir", &err), 0,
		     "an unwritable directory fails");
	cr_assert(strstr(err.message, "/nonexistent/dir") != NULL, "message names the path");

	g_unlink(report);
	g_unlink(json_path);
	g_unlink(csv_path);
	g_rmdir(dir);
	g_free(json);
	g_free(csv);
	g_free(report);
	g_free(json_path);
	g_free(csv_path);
	g_free(dir);
	sim_params_release(&params);
	sim_metrics_release(&metrics);
}
