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

/* One rounding rule: the nearest value of the last unit shown, moving to
 * the next form when the rounding reaches it. */
Test(metrics, seconds_round_to_nearest)
{
	static const struct {
		double seconds;
		const char *expected;
	} cases[] = {
		{17555.6, "4h53m"}, /* 4h52m35.6s, nearer 4h53m than 4h52m */
		{2893.4, "48m13s"},
		{7529.9, "2h05m"},
		{7530.0, "2h06m"},
		{0.9996, "1 s"},
		{59.94, "59.9 s"},
		{59.96, "1m00s"},
		{3599.4, "59m59s"},
		{3599.6, "1h00m"},
		{86369.0, "23h59m"},
		{86370.0, "1d00h"},
		{86400.0 + 5399.0, "1d01h"},
		{86400.0 + 5400.0, "1d02h"},
		{0.0004, "0 ms"},
	};
	char buf[32];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		cr_assert_str_eq(sim_format_seconds(cases[i].seconds, buf, sizeof(buf)),
				 cases[i].expected, "%g s: expected %s, got %s", cases[i].seconds,
				 cases[i].expected, buf);
}

Test(metrics, histogram_merge_adds_counts)
{
	sim_histogram started;
	sim_histogram waiting;

	sim_histogram_init(&started);
	sim_histogram_init(&waiting);
	for (int i = 0; i < 3; i++)
		sim_histogram_add(&started, 0);
	sim_histogram_add(&waiting, 500);
	sim_histogram_add(&waiting, 700);
	sim_histogram_merge(&started, &waiting);
	cr_assert_eq(started.total, 5, "3 + 2 values, got %llu",
		     (unsigned long long)started.total);
	cr_assert_float_eq(started.sum, 1200, 1e-9, "sums add, got %g", started.sum);
	cr_assert_float_eq(started.max, 700, 1e-9, "max carried, got %g", started.max);
	cr_assert_float_eq(sim_histogram_quantile(&started, 0.8), 500, 1e-9,
			   "rank 4 of 5 is 500, got %g", sim_histogram_quantile(&started, 0.8));
	sim_histogram_release(&started);
	sim_histogram_release(&waiting);
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
	/* 21 pods never started; they waited 1 h at the end. */
	for (int i = 0; i < 21; i++)
		sim_histogram_add(&metrics->never_started, 3600);
	metrics->pending_at_end = 21;
	sim_metrics_summarize(metrics, &stats, 0.42, summary);
}

Test(metrics, summary_separates_never_started)
{
	sim_metrics metrics;
	sim_summary summary;

	fake_metrics(&metrics, &summary, false);
	cr_assert_eq(summary.never_started, 21, "got %llu",
		     (unsigned long long)summary.never_started);
	cr_assert_eq(summary.pending_started.pods, 4300, "started pods only, got %llu",
		     (unsigned long long)summary.pending_started.pods);
	cr_assert_float_eq(summary.pending_started.max_s, 12, 1e-9, "got %g",
			   summary.pending_started.max_s);
	cr_assert_eq(summary.pending_started.no_wait, 3655, "got %llu",
		     (unsigned long long)summary.pending_started.no_wait);
	cr_assert_eq(summary.pending_all.pods, 4321, "every pod, got %llu",
		     (unsigned long long)summary.pending_all.pods);
	cr_assert_eq(summary.pending_all.censored, 21, "got %llu",
		     (unsigned long long)summary.pending_all.censored);
	cr_assert_float_eq(summary.pending_all.max_s, 3600, 1e-9,
			   "never-started pods count until the end, got %g",
			   summary.pending_all.max_s);
	cr_assert_float_eq(summary.never_started_longest_s, 3600, 1e-9, "got %g",
			   summary.never_started_longest_s);
	sim_metrics_release(&metrics);
}

Test(metrics, summary_without_started_pods)
{
	sim_metrics metrics;
	sim_summary summary;
	sim_engine_stats stats = {.arrivals = 2, .end_ms = 60000};

	cr_assert_eq(sim_metrics_init(&metrics, NULL, false, NULL), 0);
	sim_histogram_add(&metrics.never_started, 60);
	sim_histogram_add(&metrics.never_started, 30);
	sim_metrics_summarize(&metrics, &stats, 0.1, &summary);
	cr_assert_eq(summary.pending_started.pods, 0, "no started pods");
	cr_assert_float_eq(summary.pending_started.p50_s, 0, 1e-12, "left at 0");
	cr_assert_eq(summary.pending_all.pods, 2);
	cr_assert_float_eq(summary.pending_all.p50_s, 30, 1e-9, "got %g",
			   summary.pending_all.p50_s);
	sim_metrics_release(&metrics);
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
	cr_assert(strstr(html->str, "pending time of the 4,300 started pods, p50 / p90 / p99 / max"
				    "</th><td class=\"n\">0 s / 12 s / 12 s / 12 s<") != NULL,
		  "started pods' p50 / p90 / p99 / max shown");
	cr_assert(strstr(html->str, "<tr class=\"alert\"><th>pods that never started</th>"
				    "<td class=\"n\">21 of 4,321 (0.5%), waiting up to 1h00m at the end<") != NULL,
		  "never-started share shown and highlighted");
	cr_assert(strstr(html->str, "pending time of all 4,321 arrived pods, never-started ones counted") != NULL,
		  "censored distribution labelled");
	cr_assert(strstr(html->str, "3,655 (84.6% of arrived pods)") != NULL,
		  "share started without waiting is of the arrived pods");
	cr_assert(strstr(html->str, "The curve stops at 99.5%: 21 pods never started.") != NULL,
		  "CDF note");
	cr_assert(strstr(html->str, "57 at 21h14m") != NULL, "peak pending shown");
	cr_assert_null(strstr(html->str, "class=\"warning\""), "no warnings");
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

Test(report, warnings_shown_first)
{
	sim_metrics metrics;
	sim_summary summary;
	sim_params params;
	GString *html = g_string_new(NULL);
	const char *warning;
	const char *table;

	fake_metrics(&metrics, &summary, false);
	g_ptr_array_add(metrics.warnings, g_strdup("pod shape 100/1Gi fits no node: <b>"));
	sim_params_init(&params);
	sim_report_html(&metrics, &summary, &params, html);
	warning = strstr(html->str, "<div class=\"warning\"><strong>Warning:</strong> "
				    "pod shape 100/1Gi fits no node: &lt;b&gt;</div>");
	table = strstr(html->str, "<table>");
	cr_assert_not_null(warning, "warning shown, escaped");
	cr_assert(table != NULL && warning < table, "warning before the summary table");
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
	cr_assert(strstr(json, "\"never_started\":\t21") != NULL, "JSON count: %s", json);
	cr_assert(strstr(json, "\"p90\":\t12") != NULL, "JSON p90 of started pods");
	cr_assert(strstr(json, "\"max\":\t3600") != NULL, "JSON max of all pods: %s", json);
	cr_assert(strstr(json, "\"warnings\":\t[]") != NULL, "no warnings: %s", json);
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
