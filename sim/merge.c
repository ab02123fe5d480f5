/* The comparison report of a sweep; see merge.h. */
#include "sim/merge.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/svg.h"

#define EXIT_USAGE 2

/* A number read from each cell's summary.json. */
typedef struct metric {
	const char *key;   /* CSV column stem */
	const char *label; /* for people */
	const char *path;  /* dotted path in summary.json */
	const char *suffix; /* unit appended in the report; may be NULL */
} metric;

static const metric metrics[] = {
	{"never_started", "pods that never started", "pods.never_started", NULL},
	{"never_started_pct", "pods that never started (share)", "pods.never_started_pct", "%"},
	{"pending_p99_all_s", "p99 pending time of all pods (s)", "pending_seconds.all_pods.p99", NULL},
	{"pending_p99_started_s", "p99 pending time of started pods (s)",
	 "pending_seconds.started_pods.p99", NULL},
	{"mean_nodes_used", "mean nodes used", "mean_nodes_used", NULL},
	{"cpu_allocation_pct", "mean CPU allocation", "mean_allocation_pct.cpu", "%"},
	{"gpu_fragmented_pct", "mean GPU fragmentation", "mean_allocation_pct.gpu_fragmented", "%"},
	{"untrusted_pairs_mean", "untrusted tenant pairs sharing a node (mean over time)",
	 "tenancy.untrusted_pairs_sharing_a_node.mean", NULL},
	{"pods_next_to_untrusted_pct", "pods placed next to an untrusted tenant",
	 "tenancy.pods_next_to_untrusted_pct", "%"},
	{"peer_cost_mean", "mean network cost to peers", "peer_cost.mean", NULL},
	{"peer_cost_p99", "p99 network cost to peers", "peer_cost.p99", NULL},
};
#define N_METRICS G_N_ELEMENTS(metrics)

typedef struct cell {
	int64_t index;
	char *dir_name; /* owned */
	char *policy;   /* owned */
	char *workload; /* owned */
	char *cluster;  /* owned; "" when the sweep set none */
	int64_t seed;
	char *status; /* owned */
	double values[N_METRICS]; /* NAN when missing */
} cell;

/* Statistics of one metric over the seeds of a scenario and policy. */
typedef struct stats {
	size_t n;
	double mean;
	double sd; /* sample standard deviation; NAN below 2 values */
	double min;
	double max;
} stats;

typedef struct merge {
	GArray *cells;       /* cell, in index order */
	GPtrArray *policies; /* char *, borrowed from cells, first-seen order */
	GPtrArray *scenarios; /* char * "workload, cluster", owned */
	GPtrArray *labels;    /* char *, owned: "workload\nN nodes" per scenario */
	GPtrArray *legend;    /* char *, owned: policy file base names */
	size_t failed;
} merge;

static void merge_release(merge *m)
{
	for (guint i = 0; i < m->cells->len; i++) {
		cell *c = &g_array_index(m->cells, cell, i);

		g_free(c->dir_name);
		g_free(c->policy);
		g_free(c->workload);
		g_free(c->cluster);
		g_free(c->status);
	}
	g_array_free(m->cells, TRUE);
	g_ptr_array_free(m->policies, TRUE);
	g_ptr_array_free(m->scenarios, TRUE);
	g_ptr_array_free(m->labels, TRUE);
	g_ptr_array_free(m->legend, TRUE);
}

/* ---- Reading ------------------------------------------------------------- */

static const cJSON *json_at(const cJSON *root, const char *path)
{
	char **names = g_strsplit(path, ".", -1);
	const cJSON *item = root;

	for (char **name = names; item != NULL && *name != NULL; name++)
		item = cJSON_GetObjectItemCaseSensitive(item, *name);
	g_strfreev(names);
	return item;
}

static char *json_text(const cJSON *root, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	return g_strdup(cJSON_IsString(item) ? item->valuestring : "");
}

static cJSON *read_json(const char *path, score_error *err)
{
	char *text = NULL;
	cJSON *root = NULL;
	GError *error = NULL;

	if (!g_file_get_contents(path, &text, NULL, &error)) {
		score_fail(err, -EIO, "cannot read %s: %s", path, error->message);
		g_error_free(error);
		return NULL;
	}
	root = cJSON_Parse(text);
	if (root == NULL || !cJSON_IsObject(root)) {
		score_fail(err, -EINVAL, "invalid JSON in %s: expected an object as stowage writes it",
			   path);
		cJSON_Delete(root);
		root = NULL;
	}
	g_free(text);
	return root;
}

static int read_summary(const char *cell_dir, cell *c, score_error *err)
{
	char *path = g_build_filename(cell_dir, "summary.json", NULL);
	cJSON *root = read_json(path, err);

	g_free(path);
	if (root == NULL)
		return -EINVAL;
	for (size_t k = 0; k < N_METRICS; k++) {
		const cJSON *item = json_at(root, metrics[k].path);

		c->values[k] = cJSON_IsNumber(item) ? item->valuedouble : NAN;
	}
	cJSON_Delete(root);
	return 0;
}

static int read_cell(const char *sweep_dir, const char *name, merge *m,
		     score_error *err)
{
	char *cell_dir = g_build_filename(sweep_dir, name, NULL);
	char *path = g_build_filename(cell_dir, "cell.json", NULL);
	cJSON *root = NULL;
	cell c = {0};
	int ret = 0;

	for (size_t k = 0; k < N_METRICS; k++)
		c.values[k] = NAN;
	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		goto out; /* not run yet, or still running */
	root = read_json(path, err);
	if (root == NULL) {
		ret = -EINVAL;
		goto out;
	}
	c.index = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "index"));
	c.seed = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "seed"));
	c.dir_name = g_strdup(name);
	c.policy = json_text(root, "policy");
	c.workload = json_text(root, "workload");
	c.cluster = json_text(root, "cluster");
	c.status = json_text(root, "status");
	if (strcmp(c.status, "succeeded") == 0)
		ret = read_summary(cell_dir, &c, err);
	else
		m->failed++;
	g_array_append_val(m->cells, c);

out:
	cJSON_Delete(root);
	g_free(path);
	g_free(cell_dir);
	return ret;
}

static gint compare_cells(gconstpointer a, gconstpointer b)
{
	const cell *left = a;
	const cell *right = b;

	return left->index < right->index ? -1 : left->index > right->index;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *scenario_of(const cell *c)
{
	if (c->cluster[0] == '\0')
		return g_strdup(c->workload);
	return g_strdup_printf("%s, %s", c->workload, c->cluster);
}

/* The chart label of a scenario: the workload over the node count of
 * its template, which is shorter than the template. */
static char *scenario_label(const cell *c)
{
	char **entries;
	guint64 nodes = 0;

	if (c->cluster[0] == '\0')
		return g_strdup(c->workload);
	entries = g_strsplit(c->cluster, ",", -1);
	for (char **entry = entries; *entry != NULL; entry++)
		nodes += g_ascii_strtoull(*entry, NULL, 10);
	g_strfreev(entries);
	return g_strdup_printf("%s\n%" G_GUINT64_FORMAT " nodes", c->workload, nodes);
}

static bool listed(const GPtrArray *list, const char *text)
{
	for (guint i = 0; i < list->len; i++) {
		if (strcmp(list->pdata[i], text) == 0)
			return true;
	}
	return false;
}

static int read_cells(const char *sweep_dir, merge *m, score_error *err)
{
	GError *error = NULL;
	GDir *dir = g_dir_open(sweep_dir, 0, &error);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	int ret = 0;

	if (dir == NULL) {
		ret = score_fail(err, -ENOENT, "cannot open the sweep directory %s: %s", sweep_dir,
				 error->message);
		g_error_free(error);
		goto out;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "cell-"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_dir_close(dir);
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; ret == 0 && i < names->len; i++)
		ret = read_cell(sweep_dir, names->pdata[i], m, err);
	if (ret == 0 && m->cells->len == 0)
		ret = score_fail(err, -ENOENT,
				 "no cells in %s: run `stowage sim sweep FILE --out %s` first",
				 sweep_dir, sweep_dir);
	g_array_sort(m->cells, compare_cells);
	for (guint i = 0; ret == 0 && i < m->cells->len; i++) {
		const cell *c = &g_array_index(m->cells, cell, i);
		char *scenario = scenario_of(c);

		if (!listed(m->policies, c->policy)) {
			g_ptr_array_add(m->policies, c->policy);
			g_ptr_array_add(m->legend, g_path_get_basename(c->policy));
		}
		if (!listed(m->scenarios, scenario)) {
			g_ptr_array_add(m->scenarios, scenario);
			g_ptr_array_add(m->labels, scenario_label(c));
		} else {
			g_free(scenario);
		}
	}

out:
	g_ptr_array_free(names, TRUE);
	return ret;
}

/* ---- Statistics ---------------------------------------------------------- */

static void stats_of(const merge *m, const char *scenario, const char *policy,
		     size_t k, stats *out)
{
	double sum = 0;
	double squares = 0;

	memset(out, 0, sizeof(*out));
	out->mean = out->sd = out->min = out->max = NAN;
	for (guint i = 0; i < m->cells->len; i++) {
		const cell *c = &g_array_index(m->cells, cell, i);
		char *name = scenario_of(c);
		bool match = strcmp(name, scenario) == 0 && strcmp(c->policy, policy) == 0;
		double value = c->values[k];

		g_free(name);
		if (!match || isnan(value))
			continue;
		out->min = out->n == 0 ? value : MIN(out->min, value);
		out->max = out->n == 0 ? value : MAX(out->max, value);
		sum += value;
		out->n++;
	}
	if (out->n == 0)
		return;
	out->mean = sum / (double)out->n;
	for (guint i = 0; out->n > 1 && i < m->cells->len; i++) {
		const cell *c = &g_array_index(m->cells, cell, i);
		char *name = scenario_of(c);

		if (strcmp(name, scenario) == 0 && strcmp(c->policy, policy) == 0 &&
		    !isnan(c->values[k]))
			squares += (c->values[k] - out->mean) * (c->values[k] - out->mean);
		g_free(name);
	}
	if (out->n > 1)
		out->sd = sqrt(squares / (double)(out->n - 1));
}

/* Counts the cells of a scenario and policy, and those that failed. */
static void count_cells(const merge *m, const char *scenario, const char *policy,
			size_t *cells, size_t *failed)
{
	*cells = 0;
	*failed = 0;
	for (guint i = 0; i < m->cells->len; i++) {
		const cell *c = &g_array_index(m->cells, cell, i);
		char *name = scenario_of(c);

		if (strcmp(name, scenario) == 0 && strcmp(c->policy, policy) == 0) {
			(*cells)++;
			*failed += strcmp(c->status, "succeeded") != 0;
		}
		g_free(name);
	}
}

static bool metric_present(const merge *m, size_t k)
{
	for (guint i = 0; i < m->cells->len; i++) {
		if (!isnan(g_array_index(m->cells, cell, i).values[k]))
			return true;
	}
	return false;
}

/* ---- CSV ----------------------------------------------------------------- */

static void csv_field(GString *out, const char *text)
{
	if (strpbrk(text, ",\"\n") == NULL) {
		g_string_append(out, text);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *c);
	}
	g_string_append_c(out, '"');
}

static void csv_number(GString *out, double value)
{
	g_string_append_c(out, ',');
	if (!isnan(value))
		g_string_append_printf(out, "%.6g", value);
}

static GString *cells_csv(const merge *m)
{
	GString *csv = g_string_new("index,cell,policy,workload,cluster,seed,status");

	for (size_t k = 0; k < N_METRICS; k++)
		g_string_append_printf(csv, ",%s", metrics[k].key);
	g_string_append_c(csv, '\n');
	for (guint i = 0; i < m->cells->len; i++) {
		const cell *c = &g_array_index(m->cells, cell, i);

		g_string_append_printf(csv, "%" G_GINT64_FORMAT ",", c->index);
		csv_field(csv, c->dir_name);
		g_string_append_c(csv, ',');
		csv_field(csv, c->policy);
		g_string_append_c(csv, ',');
		csv_field(csv, c->workload);
		g_string_append_c(csv, ',');
		csv_field(csv, c->cluster);
		g_string_append_printf(csv, ",%" G_GINT64_FORMAT ",", c->seed);
		csv_field(csv, c->status);
		for (size_t k = 0; k < N_METRICS; k++)
			csv_number(csv, c->values[k]);
		g_string_append_c(csv, '\n');
	}
	return csv;
}

static GString *comparison_csv(const merge *m)
{
	GString *csv = g_string_new("scenario,policy,cells,failed");

	for (size_t k = 0; k < N_METRICS; k++)
		g_string_append_printf(csv, ",%s_mean,%s_sd,%s_min,%s_max", metrics[k].key,
				       metrics[k].key, metrics[k].key, metrics[k].key);
	g_string_append_c(csv, '\n');
	for (guint s = 0; s < m->scenarios->len; s++) {
		for (guint p = 0; p < m->policies->len; p++) {
			size_t cells;
			size_t failed;

			count_cells(m, m->scenarios->pdata[s], m->policies->pdata[p], &cells,
				    &failed);
			if (cells == 0)
				continue;
			csv_field(csv, m->scenarios->pdata[s]);
			g_string_append_c(csv, ',');
			csv_field(csv, m->policies->pdata[p]);
			g_string_append_printf(csv, ",%zu,%zu", cells, failed);
			for (size_t k = 0; k < N_METRICS; k++) {
				stats st;

				stats_of(m, m->scenarios->pdata[s], m->policies->pdata[p], k, &st);
				csv_number(csv, st.mean);
				csv_number(csv, st.sd);
				csv_number(csv, st.min);
				csv_number(csv, st.max);
			}
			g_string_append_c(csv, '\n');
		}
	}
	return csv;
}

/* ---- HTML ---------------------------------------------------------------- */

static void html_text(GString *out, const char *text)
{
	char *escaped = g_markup_escape_text(text, -1);

	g_string_append(out, escaped);
	g_free(escaped);
}

/* "12.3 ± 1.2" of a statistic, or "n/a" without values. */
static void append_mean_sd(GString *out, const stats *st)
{
	if (st->n == 0) {
		g_string_append(out, "n/a");
		return;
	}
	g_string_append_printf(out, "%.4g", st->mean);
	if (!isnan(st->sd))
		g_string_append_printf(out, " &plusmn; %.2g", st->sd);
}

static void comparison_table(const merge *m, GString *out)
{
	g_string_append(out, "<table>\n<tr><th>scenario</th><th>policy</th><th>cells (failed)</th>");
	for (size_t k = 0; k < N_METRICS; k++) {
		if (!metric_present(m, k))
			continue;
		g_string_append(out, "<th>");
		html_text(out, metrics[k].label);
		g_string_append(out, "</th>");
	}
	g_string_append(out, "</tr>\n");
	for (guint s = 0; s < m->scenarios->len; s++) {
		for (guint p = 0; p < m->policies->len; p++) {
			size_t cells;
			size_t failed;

			count_cells(m, m->scenarios->pdata[s], m->policies->pdata[p], &cells,
				    &failed);
			if (cells == 0)
				continue;
			g_string_append(out, "<tr><td>");
			html_text(out, m->scenarios->pdata[s]);
			g_string_append(out, "</td><td>");
			html_text(out, m->policies->pdata[p]);
			g_string_append_printf(out, "</td><td class=\"n\">%zu (%zu)</td>", cells,
					       failed);
			for (size_t k = 0; k < N_METRICS; k++) {
				stats st;

				if (!metric_present(m, k))
					continue;
				stats_of(m, m->scenarios->pdata[s], m->policies->pdata[p], k, &st);
				g_string_append(out, "<td class=\"n\">");
				append_mean_sd(out, &st);
				g_string_append(out, "</td>");
			}
			g_string_append(out, "</tr>\n");
		}
	}
	g_string_append(out, "</table>\n");
}

static void metric_chart(const merge *m, size_t k, GString *out)
{
	size_t n = m->scenarios->len * m->policies->len;
	double *mean = g_new(double, n);
	double *low = g_new(double, n);
	double *high = g_new(double, n);
	sim_svg_bars chart = {0};

	for (guint s = 0; s < m->scenarios->len; s++) {
		for (guint p = 0; p < m->policies->len; p++) {
			size_t i = s * m->policies->len + p;
			stats st;

			stats_of(m, m->scenarios->pdata[s], m->policies->pdata[p], k, &st);
			mean[i] = st.mean;
			low[i] = st.n > 1 ? st.min : NAN;
			high[i] = st.n > 1 ? st.max : NAN;
		}
	}
	chart.title = metrics[k].label;
	chart.y_label = metrics[k].label;
	chart.y_suffix = metrics[k].suffix;
	chart.groups = (const char *const *)m->labels->pdata;
	chart.n_groups = m->scenarios->len;
	chart.series = (const char *const *)m->legend->pdata;
	chart.n_series = m->policies->len;
	chart.mean = mean;
	chart.low = low;
	chart.high = high;
	sim_svg_bars_write(&chart, out);
	g_free(mean);
	g_free(low);
	g_free(high);
}

static GString *report_html(const merge *m, const char *sweep_dir)
{
	GString *out = g_string_new(NULL);

	g_string_append(out,
			"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<title>stowage sim sweep comparison</title>\n<style>"
			"body{font-family:sans-serif;max-width:1000px;margin:24px auto;padding:0 12px;color:#222}"
			"table{border-collapse:collapse;margin:8px 0;font-size:13px}"
			"td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
			"td.n{text-align:right;font-variant-numeric:tabular-nums}"
			"p.note{color:#555;font-size:13px}svg{display:block;margin:12px 0}"
			"</style>\n</head>\n<body>\n<h1>Sweep comparison: ");
	html_text(out, sweep_dir);
	g_string_append_printf(out,
			       "</h1>\n<p>%u cells, %zu failed; %u polic%s over %u scenario%s "
			       "(workload and cluster).</p>\n",
			       m->cells->len, m->failed, m->policies->len,
			       m->policies->len == 1 ? "y" : "ies", m->scenarios->len,
			       m->scenarios->len == 1 ? "" : "s");
	comparison_table(m, out);
	g_string_append(out,
			"<p class=\"note\">Each value is the mean over the seeds that succeeded, "
			"&plusmn; the sample standard deviation. The bars show the mean and the "
			"whiskers the minimum and maximum over seeds. cells.csv and comparison.csv "
			"next to this page hold the numbers.</p>\n");
	for (size_t k = 0; k < N_METRICS; k++) {
		if (metric_present(m, k))
			metric_chart(m, k, out);
	}
	g_string_append(out, "</body>\n</html>\n");
	return out;
}

/* ---- Command ------------------------------------------------------------- */

static int write_text(const char *dir, const char *name, const GString *text,
		      score_error *err)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *error = NULL;
	int ret = 0;

	if (!g_file_set_contents(path, text->str, (gssize)text->len, &error)) {
		ret = score_fail(err, -EIO, "cannot write %s: %s", path, error->message);
		g_error_free(error);
	}
	g_free(path);
	return ret;
}

int sim_merge_run(const char *sweep_dir, const char *out_dir, score_error *err)
{
	merge m = {
		.cells = g_array_new(FALSE, TRUE, sizeof(cell)),
		.policies = g_ptr_array_new(),
		.scenarios = g_ptr_array_new_with_free_func(g_free),
		.labels = g_ptr_array_new_with_free_func(g_free),
		.legend = g_ptr_array_new_with_free_func(g_free),
	};
	GString *cells = NULL;
	GString *comparison = NULL;
	GString *html = NULL;
	int ret = read_cells(sweep_dir, &m, err);

	if (ret < 0)
		goto out;
	if (g_mkdir_with_parents(out_dir, 0755) != 0) {
		ret = score_fail(err, -errno, "cannot create %s: %s", out_dir, g_strerror(errno));
		goto out;
	}
	cells = cells_csv(&m);
	comparison = comparison_csv(&m);
	html = report_html(&m, sweep_dir);
	ret = write_text(out_dir, "cells.csv", cells, err);
	if (ret == 0)
		ret = write_text(out_dir, "comparison.csv", comparison, err);
	if (ret == 0)
		ret = write_text(out_dir, "report.html", html, err);

out:
	if (cells != NULL)
		g_string_free(cells, TRUE);
	if (comparison != NULL)
		g_string_free(comparison, TRUE);
	if (html != NULL)
		g_string_free(html, TRUE);
	merge_release(&m);
	return ret;
}

int sim_merge_command(int argc, char **argv)
{
	char *out = NULL;
	GOptionEntry entries[] = {
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &out,
		 "Directory for cells.csv, comparison.csv and report.html (required)", "DIR"},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *context = g_option_context_new("DIR - compare the cells of a sweep");
	char **args = g_new0(char *, argc + 1);
	int n_args = argc;
	GError *error = NULL;
	score_error err = {0};
	int status = EXIT_USAGE;

	g_option_context_add_main_entries(context, entries, NULL);
	memcpy(args, argv, sizeof(*args) * (size_t)argc);
	if (!g_option_context_parse(context, &n_args, &args, &error)) {
		fprintf(stderr, "stowage sim merge: %s\n", error->message);
		g_error_free(error);
	} else if (n_args != 2 || out == NULL) {
		fprintf(stderr, "stowage sim merge: give the sweep directory and --out, e.g. stowage sim merge results --out comparison\n");
	} else if (sim_merge_run(args[1], out, &err) < 0) {
		fprintf(stderr, "stowage sim merge: %s\n", err.message);
		status = 1;
	} else {
		printf("stowage sim merge: report: %s/report.html\n", out);
		status = 0;
	}
	g_free(args);
	g_free(out);
	g_option_context_free(context);
	return status;
}
