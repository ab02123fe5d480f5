/* The smallest cluster that meets an objective; see plan.h. */
#include "sim/plan.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/generator.h"
#include "sim/metrics.h"
#include "sim/progress.h"
#include "sim/svg.h"
#include "sim/sweep.h"
#include "sim/template.h"

#define EXIT_USAGE 2
/* The default upper bound, as a multiple of the template's size. */
#define DEFAULT_GROWTH 8

/* ---- Scaling ------------------------------------------------------------- */

/* The shape text of each "COUNTxSHAPE" entry of a valid template. */
static char **template_shapes(const char *template_text)
{
	char **entries = g_strsplit(template_text, ",", -1);

	for (char **entry = entries; *entry != NULL; entry++) {
		char *cross = strchr(*entry, 'x');
		char *shape = g_strstrip(g_strdup(cross != NULL ? cross + 1 : *entry));

		g_free(*entry);
		*entry = shape;
	}
	return entries;
}

char *sim_plan_scale_template(const char *template_text, uint32_t nodes,
			      score_error *err)
{
	sim_template tmpl;
	size_t total;
	uint32_t *counts;
	double *remainders;
	uint32_t assigned = 0;
	char **shapes;
	GString *text;

	if (nodes == 0 || nodes > SIM_TEMPLATE_MAX_NODES) {
		score_fail(err, -EINVAL, "invalid node count %u: give 1 to %d", nodes,
			   SIM_TEMPLATE_MAX_NODES);
		return NULL;
	}
	if (sim_template_parse(template_text, &tmpl, err) < 0)
		return NULL;
	total = sim_template_node_count(&tmpl);
	counts = g_new0(uint32_t, tmpl.n_entries);
	remainders = g_new0(double, tmpl.n_entries);

	/* Largest remainder: the floors first, then one more node to the
	 * entries with the largest fractions, earlier entries on ties. */
	for (size_t i = 0; i < tmpl.n_entries; i++) {
		double exact = (double)tmpl.entries[i].count * nodes / (double)total;

		counts[i] = (uint32_t)floor(exact);
		remainders[i] = exact - counts[i];
		assigned += counts[i];
	}
	while (assigned < nodes) {
		size_t best = 0;

		for (size_t i = 1; i < tmpl.n_entries; i++) {
			if (remainders[i] > remainders[best])
				best = i;
		}
		counts[best]++;
		remainders[best] = -1;
		assigned++;
	}

	shapes = template_shapes(template_text);
	text = g_string_new(NULL);
	for (size_t i = 0; i < tmpl.n_entries; i++) {
		if (counts[i] > 0)
			g_string_append_printf(text, "%s%ux%s", text->len > 0 ? "," : "",
					       counts[i], shapes[i]);
	}
	g_strfreev(shapes);
	g_free(counts);
	g_free(remainders);
	sim_template_release(&tmpl);
	return g_string_free(text, FALSE);
}

/* ---- Options ------------------------------------------------------------- */

typedef struct plan_options {
	char *out;
	char *cluster;
	bool quiet;
	bool slo_pending;
	double slo_pending_s; /* with slo_pending */
	bool slo_unschedulable;
	uint64_t slo_unschedulable_pods;
	uint32_t max_nodes; /* 0: DEFAULT_GROWTH x the template */
	GPtrArray *run_args; /* char *, owned: the options for `run` */
} plan_options;

static void plan_options_release(plan_options *options)
{
	g_free(options->out);
	g_free(options->cluster);
	if (options->run_args != NULL)
		g_ptr_array_free(options->run_args, TRUE);
}

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; moves *i past
 * the value. A missing value is an error. */
static int take_value(int argc, char **argv, int *i, const char *name,
		      const char **value, score_error *err)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	*value = NULL;
	if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (*i + 1 >= argc)
		return score_fail(err, -EINVAL, "missing value after %s", name);
	*value = argv[++*i];
	return 1;
}

static int parse_count(const char *option, const char *text, uint64_t min,
		       uint64_t max, uint64_t *out, score_error *err)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(text, 10, min, max, &value, NULL))
		return score_fail(err, -EINVAL,
				  "invalid %s \"%s\": give a whole number from %llu to %llu",
				  option, text, (unsigned long long)min,
				  (unsigned long long)max);
	*out = value;
	return 0;
}

/* Takes one plan option at argv[*i]; returns 1 when it was one, 0 when
 * it belongs to `run`, or a negative errno. */
static int take_plan_option(int argc, char **argv, int *i, plan_options *options,
			    score_error *err)
{
	const char *value = NULL;
	uint64_t number = 0;
	int64_t ms = 0;
	int ret;

	if (strcmp(argv[*i], "--min-nodes") == 0)
		return 1;
	if (strcmp(argv[*i], "--quiet") == 0 || strcmp(argv[*i], "-q") == 0) {
		options->quiet = true;
		return 1;
	}
	if ((ret = take_value(argc, argv, i, "--out", &value, err)) != 0) {
		if (ret > 0)
			options->out = g_strdup(value);
		return ret;
	}
	if ((ret = take_value(argc, argv, i, "--cluster", &value, err)) != 0) {
		if (ret > 0)
			options->cluster = g_strdup(value);
		return ret;
	}
	if ((ret = take_value(argc, argv, i, "--slo-pending-p99", &value, err)) != 0) {
		if (ret > 0 && (ret = sim_parse_duration(value, &ms, err)) == 0) {
			options->slo_pending = true;
			options->slo_pending_s = (double)ms / 1000.0;
			ret = 1;
		}
		return ret;
	}
	if ((ret = take_value(argc, argv, i, "--slo-unschedulable", &value, err)) != 0) {
		if (ret > 0 && (ret = parse_count("--slo-unschedulable", value, 0,
						  UINT64_MAX / 2, &number, err)) == 0) {
			options->slo_unschedulable = true;
			options->slo_unschedulable_pods = number;
			ret = 1;
		}
		return ret;
	}
	if ((ret = take_value(argc, argv, i, "--max-nodes", &value, err)) != 0) {
		if (ret > 0 && (ret = parse_count("--max-nodes", value, 1,
						  SIM_TEMPLATE_MAX_NODES, &number, err)) == 0) {
			options->max_nodes = (uint32_t)number;
			ret = 1;
		}
		return ret;
	}
	return 0;
}

static int parse_plan_options(int argc, char **argv, plan_options *options,
			      score_error *err)
{
	options->run_args = g_ptr_array_new_with_free_func(g_free);
	for (int i = 1; i < argc; i++) {
		int ret = take_plan_option(argc, argv, &i, options, err);

		if (ret < 0)
			return ret;
		if (ret > 0)
			continue;
		if (strcmp(argv[i], "--nodes") == 0 || g_str_has_prefix(argv[i], "--nodes="))
			return score_fail(err, -EINVAL,
					  "--nodes gives a fixed node list, and a plan scales a cluster template: use --cluster");
		g_ptr_array_add(options->run_args, g_strdup(argv[i]));
	}
	if (options->out == NULL)
		return score_fail(err, -EINVAL,
				  "missing --out: give a directory for the probes and the plan");
	if (!options->slo_pending && !options->slo_unschedulable) {
		options->slo_unschedulable = true;
		options->slo_unschedulable_pods = 0;
	}
	if (options->cluster == NULL)
		options->cluster = g_strdup(SIM_DEFAULT_TEMPLATE);
	return 0;
}

/* ---- Probes -------------------------------------------------------------- */

typedef struct probe {
	uint32_t nodes;
	int exit_status;
	bool measured;      /* summary.json was read */
	double pending_p99_s; /* all pods, never-started ones counted to the end */
	uint64_t never_started;
	uint64_t arrived;
	double nodes_used_mean;
	bool meets;
	/* Owned, NULL when none: the run's first warning about pods that fit
	 * no node of the cluster, which adding nodes of the same shapes
	 * cannot change. */
	char *unfit_warning;
	char *dir; /* owned */
} probe;

static double json_number(const cJSON *object, const char *path)
{
	char **names = g_strsplit(path, ".", -1);
	const cJSON *item = object;

	for (char **name = names; item != NULL && *name != NULL; name++)
		item = cJSON_GetObjectItemCaseSensitive(item, *name);
	g_strfreev(names);
	return cJSON_IsNumber(item) ? item->valuedouble : 0.0;
}

static int read_probe_summary(probe *result, score_error *err)
{
	char *path = g_build_filename(result->dir, "summary.json", NULL);
	char *text = NULL;
	cJSON *root = NULL;
	const cJSON *warning;
	int ret = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    (root = cJSON_Parse(text)) == NULL) {
		ret = score_fail(err, -EIO, "cannot read %s after the probe of %u nodes", path,
				 result->nodes);
		goto out;
	}
	result->pending_p99_s = json_number(root, "pending_seconds.all_pods.p99");
	result->never_started = (uint64_t)json_number(root, "pods.never_started");
	result->arrived = (uint64_t)json_number(root, "pods.arrived");
	result->nodes_used_mean = json_number(root, "mean_nodes_used");
	result->measured = true;
	cJSON_ArrayForEach(warning, cJSON_GetObjectItemCaseSensitive(root, "warnings")) {
		if (cJSON_IsString(warning) && result->unfit_warning == NULL &&
		    (strstr(warning->valuestring, " fits no node") != NULL ||
		     strstr(warning->valuestring, " above every node's capacity") != NULL))
			result->unfit_warning = g_strdup(warning->valuestring);
	}

out:
	cJSON_Delete(root);
	g_free(text);
	g_free(path);
	return ret;
}

static bool probe_meets(const plan_options *options, const probe *result)
{
	if (options->slo_pending && result->pending_p99_s > options->slo_pending_s)
		return false;
	if (options->slo_unschedulable &&
	    result->never_started > options->slo_unschedulable_pods)
		return false;
	return true;
}

static void print_probe(const plan_options *options, const probe *result, size_t number)
{
	char p99[32];
	char count[32];
	char arrived[32];
	char nodes[48];

	if (options->quiet)
		return;
	fprintf(stderr, "stowage sim plan: probe %zu: %s: pending p99 %s, %s of %s pods never started: %s\n",
		number, sim_format_count_noun(result->nodes, "node", "nodes", nodes, sizeof(nodes)),
		sim_format_seconds(result->pending_p99_s, p99, sizeof(p99)),
		sim_format_count(result->never_started, count, sizeof(count)),
		sim_format_count(result->arrived, arrived, sizeof(arrived)),
		result->meets ? "meets the objectives" : "misses");
}

/* Runs the probe of `nodes` nodes, or returns the earlier one. */
static int run_probe(const plan_options *options, GArray *probes, uint32_t nodes,
		     const probe **out, score_error *err)
{
	probe result = {.nodes = nodes};
	GPtrArray *args;
	char *cluster;
	char *log_path;
	char name[48];
	int ret = 0;

	for (guint i = 0; i < probes->len; i++) {
		if (g_array_index(probes, probe, i).nodes == nodes) {
			*out = &g_array_index(probes, probe, i);
			return 0;
		}
	}
	cluster = sim_plan_scale_template(options->cluster, nodes, err);
	if (cluster == NULL)
		return -EINVAL;
	g_snprintf(name, sizeof(name), "probe-%06u-nodes", nodes);
	result.dir = g_build_filename(options->out, name, NULL);
	log_path = g_build_filename(result.dir, "run.log", NULL);
	args = g_ptr_array_new();
	for (guint i = 0; i < options->run_args->len; i++)
		g_ptr_array_add(args, options->run_args->pdata[i]);
	g_ptr_array_add(args, (gpointer) "--cluster");
	g_ptr_array_add(args, cluster);
	g_ptr_array_add(args, (gpointer) "--out");
	g_ptr_array_add(args, result.dir);
	g_ptr_array_add(args, (gpointer) "--quiet");

	if (g_mkdir_with_parents(result.dir, 0755) != 0) {
		ret = score_fail(err, -errno, "cannot create %s: %s", result.dir, g_strerror(errno));
		goto out;
	}
	result.exit_status = sim_sweep_run_child(args, log_path);
	if (result.exit_status != 0) {
		ret = score_fail(err, -EINVAL,
				 "the probe of %u nodes failed with exit status %d; %s has its messages",
				 nodes, result.exit_status, log_path);
		goto out;
	}
	ret = read_probe_summary(&result, err);
	result.meets = ret == 0 && probe_meets(options, &result);
	if (ret == 0)
		print_probe(options, &result, probes->len + 1);

out:
	g_array_append_val(probes, result);
	*out = &g_array_index(probes, probe, probes->len - 1);
	g_ptr_array_free(args, TRUE);
	g_free(log_path);
	g_free(cluster);
	return ret;
}

/* The search of plan.h. `*answer` gets the smallest size that met the
 * objectives with the next smaller probed size failing, 0 when none.
 * `*never_fits` gets the warning (borrowed from `probes`) of a pod that
 * fits no node of the template when that stopped the search, else NULL. */
static int search(const plan_options *options, uint32_t start, uint32_t max_nodes,
		  GArray *probes, uint32_t *answer, const char **never_fits,
		  score_error *err)
{
	const probe *result = NULL;
	uint32_t fail = 0; /* largest size known to miss; 0 misses by definition */
	uint32_t pass = 0; /* smallest size known to meet; 0 when none yet */
	int ret;

	*answer = 0;
	*never_fits = NULL;
	ret = run_probe(options, probes, MIN(start, max_nodes), &result, err);
	if (ret < 0)
		return ret;
	/* At the template's size every node shape is present, and larger
	 * sizes add only nodes of the same shapes, so a pod that fits none
	 * never starts at any size. Without an allowance for such pods, no
	 * size can meet the objectives. */
	if (!result->meets && result->unfit_warning != NULL && result->nodes >= start &&
	    options->slo_unschedulable && options->slo_unschedulable_pods == 0) {
		*never_fits = result->unfit_warning;
		return 0;
	}
	if (result->meets)
		pass = result->nodes;
	else
		fail = result->nodes;
	while (pass == 0 && fail < max_nodes) {
		uint32_t next = (uint32_t)MIN((uint64_t)fail * 2, (uint64_t)max_nodes);

		ret = run_probe(options, probes, next, &result, err);
		if (ret < 0)
			return ret;
		if (result->meets)
			pass = next;
		else
			fail = next;
	}
	if (pass == 0)
		return 0;
	while (pass - fail > 1) {
		uint32_t middle = fail + (pass - fail) / 2;

		ret = run_probe(options, probes, middle, &result, err);
		if (ret < 0)
			return ret;
		if (result->meets)
			pass = middle;
		else
			fail = middle;
	}
	*answer = pass;
	return 0;
}

/* ---- Outputs ------------------------------------------------------------- */

static gint compare_probes(gconstpointer a, gconstpointer b)
{
	const probe *left = a;
	const probe *right = b;

	return left->nodes < right->nodes ? -1 : left->nodes > right->nodes;
}

static cJSON *plan_json(const plan_options *options, const GArray *probes,
			uint32_t answer, uint32_t max_nodes)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *objectives = cJSON_AddObjectToObject(root, "objectives");
	cJSON *list = cJSON_AddArrayToObject(root, "probes");
	cJSON *args = cJSON_AddArrayToObject(root, "run_options");

	if (root == NULL || objectives == NULL || list == NULL || args == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	if (options->slo_pending)
		cJSON_AddNumberToObject(objectives, "pending_p99_seconds", options->slo_pending_s);
	if (options->slo_unschedulable)
		cJSON_AddNumberToObject(objectives, "never_started_pods",
					(double)options->slo_unschedulable_pods);
	cJSON_AddStringToObject(root, "template", options->cluster);
	cJSON_AddNumberToObject(root, "max_nodes", max_nodes);
	for (guint i = 0; i < options->run_args->len; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(options->run_args->pdata[i]));
	cJSON_AddBoolToObject(root, "found", answer > 0);
	if (answer > 0) {
		char *cluster = sim_plan_scale_template(options->cluster, answer, NULL);

		cJSON_AddNumberToObject(root, "nodes", answer);
		cJSON_AddStringToObject(root, "cluster", cluster != NULL ? cluster : "");
		g_free(cluster);
	} else {
		cJSON_AddNullToObject(root, "nodes");
		cJSON_AddNullToObject(root, "cluster");
	}
	for (guint i = 0; i < probes->len; i++) {
		const probe *p = &g_array_index(probes, probe, i);
		cJSON *item = cJSON_CreateObject();

		cJSON_AddNumberToObject(item, "nodes", p->nodes);
		cJSON_AddStringToObject(item, "directory", p->dir);
		cJSON_AddNumberToObject(item, "exit_status", p->exit_status);
		if (p->measured) {
			cJSON_AddNumberToObject(item, "pending_p99_seconds",
						round(p->pending_p99_s * 1000) / 1000);
			cJSON_AddNumberToObject(item, "never_started_pods", (double)p->never_started);
			cJSON_AddNumberToObject(item, "arrived_pods", (double)p->arrived);
			cJSON_AddNumberToObject(item, "mean_nodes_used",
						round(p->nodes_used_mean * 1000) / 1000);
		}
		cJSON_AddBoolToObject(item, "meets", p->meets);
		cJSON_AddItemToArray(list, item);
	}
	return root;
}

static void plot_probes(const plan_options *options, const GArray *probes,
			bool pending, GString *out)
{
	sim_svg_plot plot;
	size_t n = probes->len;
	double *x = g_new(double, n + 2);
	double *y = g_new(double, n + 2);
	double line_x[2];
	double line_y[2];
	size_t m = 0;

	for (guint i = 0; i < n; i++) {
		const probe *p = &g_array_index(probes, probe, i);

		if (!p->measured)
			continue;
		x[m] = p->nodes;
		y[m] = pending ? p->pending_p99_s : (double)p->never_started;
		m++;
	}
	sim_svg_plot_init(&plot);
	plot.title = pending ? "p99 pending time by cluster size" :
			       "Pods that never started by cluster size";
	plot.x_label = "nodes";
	plot.y_label = pending ? "p99 pending time of all pods (s)" : "pods";
	plot.y_min = 0;
	sim_svg_plot_add(&plot, pending ? "p99 pending (s)" : "never started", "#1f77b4",
			 x, y, m, false);
	plot.series[0].markers = true;
	if (m > 0 && ((pending && options->slo_pending) ||
		      (!pending && options->slo_unschedulable))) {
		line_x[0] = x[0];
		line_x[1] = x[m - 1];
		line_y[0] = line_y[1] = pending ? options->slo_pending_s :
						  (double)options->slo_unschedulable_pods;
		sim_svg_plot_add(&plot, "objective", "#d62728", line_x, line_y, 2, false);
		plot.series[1].dashed = true;
	}
	sim_svg_write(&plot, out);
	g_free(x);
	g_free(y);
}

static void plan_html(const plan_options *options, const GArray *probes,
		      uint32_t answer, GString *out)
{
	g_string_append(out,
			"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<title>stowage sim plan</title>\n<style>body{font-family:sans-serif;max-width:820px;margin:24px auto;padding:0 12px}"
			"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}</style>\n"
			"</head>\n<body>\n<h1>stowage sim plan</h1>\n");
	if (answer > 0)
		g_string_append_printf(out, "<p><strong>%u nodes</strong> meet the objectives.</p>\n",
				       answer);
	else
		g_string_append(out, "<p><strong>No probed size meets the objectives.</strong></p>\n");
	g_string_append(out, "<table>\n<tr><th>nodes</th><th>p99 pending (s)</th>"
			     "<th>never started</th><th>arrived</th><th>meets</th></tr>\n");
	for (guint i = 0; i < probes->len; i++) {
		const probe *p = &g_array_index(probes, probe, i);

		g_string_append_printf(out,
				       "<tr><td>%u</td><td>%.1f</td><td>%llu</td><td>%llu</td><td>%s</td></tr>\n",
				       p->nodes, p->pending_p99_s,
				       (unsigned long long)p->never_started,
				       (unsigned long long)p->arrived, p->meets ? "yes" : "no");
	}
	g_string_append(out, "</table>\n");
	if (options->slo_pending)
		plot_probes(options, probes, true, out);
	plot_probes(options, probes, false, out);
	g_string_append(out,
			"<p>Each probe is a `stowage sim run` with the same options and seed on the "
			"template scaled to that many nodes; its directory holds its report.</p>\n"
			"</body>\n</html>\n");
}

static int write_outputs(const plan_options *options, GArray *probes, uint32_t answer,
			 uint32_t max_nodes, score_error *err)
{
	cJSON *json;
	char *text;
	char *json_path = g_build_filename(options->out, "plan.json", NULL);
	char *html_path = g_build_filename(options->out, "plan.html", NULL);
	GString *html = g_string_new(NULL);
	GError *error = NULL;
	int ret = 0;

	g_array_sort(probes, compare_probes);
	json = plan_json(options, probes, answer, max_nodes);
	text = json != NULL ? cJSON_Print(json) : NULL;
	plan_html(options, probes, answer, html);
	if (text == NULL) {
		ret = score_fail(err, -ENOMEM, "cannot format plan.json");
	} else if (!g_file_set_contents(json_path, text, -1, &error) ||
		   !g_file_set_contents(html_path, html->str, (gssize)html->len, &error)) {
		ret = score_fail(err, -EIO, "cannot write the plan into %s: %s", options->out,
				 error->message);
		g_error_free(error);
	}
	cJSON_free(text);
	cJSON_Delete(json);
	g_string_free(html, TRUE);
	g_free(json_path);
	g_free(html_path);
	return ret;
}

/* ---- Command ------------------------------------------------------------- */

static const char plan_help[] =
	"usage: stowage sim plan --out DIR [--slo-pending-p99 DURATION] [--slo-unschedulable N]\n"
	"                        [--max-nodes N] [--cluster TEMPLATE] [RUN OPTIONS]\n"
	"\n"
	"Finds the smallest cluster, scaling the template's counts in proportion, whose\n"
	"`stowage sim run` meets the objectives with the same options and seed.\n"
	"\n"
	"  --slo-pending-p99 DURATION  p99 pending time of all pods at most DURATION\n"
	"  --slo-unschedulable N       at most N pods never started (default 0 when\n"
	"                              --slo-pending-p99 is not given)\n"
	"  --max-nodes N               largest size to probe (default 8 x the template)\n"
	"  --out DIR                   probes, plan.json and plan.html\n"
	"  --quiet, -q                 no line per probe\n"
	"\n"
	"Other options go to each `stowage sim run`; docs/simulator.md describes them.\n";

/* Prints the result line with the never-started pods of the chosen size,
 * which objectives on the pending time can leave above 0. */
static void print_answer(const GArray *probes, uint32_t answer, const char *cluster,
			 const char *probe_count, const char *out_dir)
{
	const probe *chosen = NULL;
	char never[32];
	char arrived[48];

	for (guint i = 0; i < probes->len; i++) {
		if (g_array_index(probes, probe, i).nodes == answer)
			chosen = &g_array_index(probes, probe, i);
	}
	printf("stowage sim plan: %u nodes (%s) meet the objectives", answer, cluster);
	if (chosen != NULL)
		printf(", with %s of %s never started",
		       sim_format_count(chosen->never_started, never, sizeof(never)),
		       sim_format_count_noun(chosen->arrived, "pod", "pods", arrived, sizeof(arrived)));
	printf("; %s; plan: %s/plan.html\n", probe_count, out_dir);
}

static void release_probes(GArray *probes)
{
	for (guint i = 0; i < probes->len; i++) {
		g_free(g_array_index(probes, probe, i).dir);
		g_free(g_array_index(probes, probe, i).unfit_warning);
	}
	g_array_free(probes, TRUE);
}

int sim_plan_command(int argc, char **argv)
{
	plan_options options = {0};
	GArray *probes = g_array_new(FALSE, TRUE, sizeof(probe));
	score_error err = {0};
	sim_template tmpl;
	uint32_t start;
	uint32_t max_nodes;
	uint32_t answer = 0;
	const char *never_fits = NULL;
	char *never_fits_text = NULL;
	char probe_count[48];
	int status = EXIT_USAGE;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(plan_help, stdout);
			status = 0;
			goto out;
		}
	}
	if (parse_plan_options(argc, argv, &options, &err) < 0 ||
	    sim_template_parse(options.cluster, &tmpl, &err) < 0) {
		fprintf(stderr, "stowage sim plan: %s\n", err.message);
		goto out;
	}
	start = (uint32_t)sim_template_node_count(&tmpl);
	sim_template_release(&tmpl);
	max_nodes = options.max_nodes > 0 ? options.max_nodes :
			    (uint32_t)MIN((uint64_t)start * DEFAULT_GROWTH, SIM_TEMPLATE_MAX_NODES);
	if (g_mkdir_with_parents(options.out, 0755) != 0) {
		fprintf(stderr, "stowage sim plan: cannot create %s: %s\n", options.out,
			g_strerror(errno));
		status = 1;
		goto out;
	}

	status = 1;
	if (search(&options, start, max_nodes, probes, &answer, &never_fits, &err) < 0) {
		fprintf(stderr, "stowage sim plan: %s\n", err.message);
		goto out;
	}
	/* Copied first: write_outputs() sorts the probes. */
	never_fits_text = g_strdup(never_fits);
	if (write_outputs(&options, probes, answer, max_nodes, &err) < 0) {
		fprintf(stderr, "stowage sim plan: %s\n", err.message);
		goto out;
	}
	sim_format_count_noun(probes->len, "probe", "probes", probe_count, sizeof(probe_count));
	if (never_fits_text != NULL) {
		printf("stowage sim plan: no number of nodes can meet the objectives, because a pod fits no node of the template %s: %s; "
		       "stopped after %s; change the template's node shapes or the workload, or allow never-started pods with --slo-unschedulable; plan: %s/plan.html\n",
		       options.cluster, never_fits_text, probe_count, options.out);
	} else if (answer > 0) {
		char *cluster = sim_plan_scale_template(options.cluster, answer, NULL);

		print_answer(probes, answer, cluster, probe_count, options.out);
		g_free(cluster);
		status = 0;
	} else {
		char limit[48];

		printf("stowage sim plan: no size up to %s meets the objectives; %s; plan: %s/plan.html\n",
		       sim_format_count_noun(max_nodes, "node", "nodes", limit, sizeof(limit)),
		       probe_count, options.out);
	}

out:
	g_free(never_fits_text);
	release_probes(probes);
	plan_options_release(&options);
	return status;
}
