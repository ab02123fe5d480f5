/* The FGD paper's experiment and its comparison; see repro.h. */
#include "sim/repro.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "sim/csv.h"
#include "sim/progress.h"
#include "sim/workload.h"

const char *const sim_repro_default_workloads[4] = {
	"openb_pod_list_cpu100",
	"openb_pod_list_default",
	"openb_pod_list_gpushare40",
	"openb_pod_list_multigpu20",
};

/* The published table states results to two decimals; a cell within this
 * many percentage points of it counts as reproduced. */
#define TOLERANCE_PCT 0.5

void sim_repro_defaults(sim_repro_config *config)
{
	memset(config, 0, sizeof(*config));
	config->node_list = "openb_node_list_gpu_node.csv";
	for (size_t i = 0; i < G_N_ELEMENTS(sim_repro_default_workloads); i++)
		config->workloads[i] = sim_repro_default_workloads[i];
	config->n_workloads = G_N_ELEMENTS(sim_repro_default_workloads);
	for (int p = 0; p < SCORE_GPU_POLICIES; p++)
		config->policies[p] = (score_gpu_policy)p;
	config->n_policies = SCORE_GPU_POLICIES;
	for (uint32_t s = 0; s < 10; s++)
		config->seeds[s] = 42 + s;
	config->n_seeds = 10;
	sim_inflate_defaults(&config->run);
}

char *sim_repro_policy_label(score_gpu_policy policy)
{
	return g_strdup_printf("%02d-%s", (int)policy + 1,
			       score_gpu_policy_name(policy));
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

void sim_repro_stats(double *values, size_t n, double *mean, double *sd,
		     double *median)
{
	double sum = 0;
	double squares = 0;

	*mean = *sd = *median = NAN;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		sum += values[i];
	*mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		squares += (values[i] - *mean) * (values[i] - *mean);
	*sd = n > 1 ? sqrt(squares / (double)(n - 1)) : 0;

	qsort(values, n, sizeof(*values), compare_doubles);
	*median = n % 2 == 1 ? values[n / 2] :
			       (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

/* ---- The published table ------------------------------------------------- */

typedef struct published_cell {
	double unalloc_mean;
	double unalloc_sd;
	double unalloc_median;
	double frag_ratio_median;
	double frag_amount_median;
	int n_seeds;
} published_cell;

static char *cell_key(const char *workload, const char *policy_label, int step)
{
	return g_strdup_printf("%s|%s|%d", workload, policy_label, step);
}

static int parse_double(const char *text, double *out)
{
	char *end = NULL;

	*out = g_ascii_strtod(text, &end);
	return (end == text || *end != '\0') ? -EINVAL : 0;
}

/* Reads the published table into `cells` (key -> published_cell). */
static int read_published(const char *path, GHashTable *cells,
			  score_error *err)
{
	static const char *const columns[] = {
		"workload", "policy", "arrived_pct", "unalloc_gpu_pct_mean",
		"unalloc_gpu_pct_sd", "unalloc_gpu_pct_median", "alloc_pct_mean",
		"frag_ratio_pct_median", "frag_amount_pct_of_total_gpus_median",
		"n_seeds",
	};
	gchar *text = NULL;
	gsize length = 0;
	GError *error = NULL;
	sim_csv csv;
	int ret;

	if (!g_file_get_contents(path, &text, &length, &error)) {
		ret = score_fail(err, -EIO, "cannot read the published table %s: %s",
				 path, error->message);
		g_error_free(error);
		return ret;
	}
	sim_csv_init(&csv, path, text, length);

	ret = sim_csv_next(&csv, err);
	if (ret <= 0 || csv.fields->len != G_N_ELEMENTS(columns)) {
		ret = score_fail(err, -EINVAL,
				 "%s:1: expected the header %s,%s,%s,... with %zu columns",
				 path, columns[0], columns[1], columns[2],
				 G_N_ELEMENTS(columns));
		goto out;
	}
	for (size_t c = 0; c < G_N_ELEMENTS(columns); c++) {
		if (strcmp(sim_csv_field(&csv, c), columns[c]) != 0) {
			ret = score_fail(err, -EINVAL,
					 "%s:1: column %zu is \"%s\", expected \"%s\"",
					 path, c + 1, sim_csv_field(&csv, c), columns[c]);
			goto out;
		}
	}

	while ((ret = sim_csv_next(&csv, err)) > 0) {
		published_cell *cell = g_new0(published_cell, 1);
		double step = 0;
		double n_seeds = 0;
		double ignored = 0;
		int bad = csv.fields->len != G_N_ELEMENTS(columns);

		if (!bad) {
			bad |= parse_double(sim_csv_field(&csv, 2), &step);
			bad |= parse_double(sim_csv_field(&csv, 3), &cell->unalloc_mean);
			bad |= parse_double(sim_csv_field(&csv, 4), &cell->unalloc_sd);
			bad |= parse_double(sim_csv_field(&csv, 5), &cell->unalloc_median);
			bad |= parse_double(sim_csv_field(&csv, 6), &ignored);
			bad |= parse_double(sim_csv_field(&csv, 7), &cell->frag_ratio_median);
			bad |= parse_double(sim_csv_field(&csv, 8), &cell->frag_amount_median);
			bad |= parse_double(sim_csv_field(&csv, 9), &n_seeds);
		}
		if (bad) {
			g_free(cell);
			ret = score_fail(err, -EINVAL,
					 "%s:%d: malformed row: expected %zu fields with numbers after the policy",
					 path, csv.line, G_N_ELEMENTS(columns));
			goto out;
		}
		cell->n_seeds = (int)n_seeds;
		g_hash_table_replace(cells,
				     cell_key(sim_csv_field(&csv, 0),
					      sim_csv_field(&csv, 1), (int)step),
				     cell);
	}

out:
	sim_csv_release(&csv);
	g_free(text);
	return ret < 0 ? ret : 0;
}

/* ---- Runs ---------------------------------------------------------------- */

/* All results, indexed [workload][policy][seed]. */
typedef struct repro_results {
	const sim_repro_config *config;
	sim_inflate_result *runs;
	double seconds_total;
} repro_results;

static sim_inflate_result *run_at(const repro_results *results, size_t w,
				  size_t p, size_t s)
{
	const sim_repro_config *config = results->config;

	return &results->runs[(w * config->n_policies + p) * config->n_seeds + s];
}

static void progress(const sim_repro_config *config, size_t done,
		     size_t total, const char *workload,
		     score_gpu_policy policy, uint32_t seed, double seconds)
{
	bool tty = isatty(STDERR_FILENO);

	if (!config->progress)
		return;
	fprintf(stderr, "%sfgd-repro: [%4zu/%zu] %s %s seed %u: %.2f s%s",
		tty ? "\r" : "", done, total, workload,
		score_gpu_policy_name(policy), seed, seconds,
		tty ? "\033[K" : "\n");
	if (tty && done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static int run_workload(const sim_repro_config *config, size_t w,
			sim_cluster *cluster, repro_results *results,
			size_t *done, score_error *err)
{
	size_t total = config->n_workloads * config->n_policies * config->n_seeds;
	char *file = g_strdup_printf("%s.csv", config->workloads[w]);
	char *path = g_build_filename(config->traces_dir, file, NULL);
	sim_trace_pods rows = {0};
	sim_workload workload = {0};
	char skipped_text[48];
	int ret;

	ret = sim_trace_read_pods(path, &config->read, &rows, err);
	if (ret < 0)
		goto out;
	if (rows.skipped > 0)
		fprintf(stderr, "fgd-repro: %s: skipped %s; the first: %s\n",
			path,
			sim_format_count_noun(rows.skipped, "bad row", "bad rows",
					      skipped_text, sizeof(skipped_text)),
			rows.first_skipped);
	ret = sim_workload_build(&rows, cluster, &workload, err);
	if (ret < 0)
		goto out;

	for (size_t p = 0; p < config->n_policies; p++) {
		for (size_t s = 0; s < config->n_seeds; s++) {
			sim_inflate_config run = config->run;
			sim_inflate_result *result = run_at(results, w, p, s);

			run.policy = config->policies[p];
			run.seed = config->seeds[s];
			ret = sim_inflate_run(cluster, &workload, &run, result, err);
			if (ret < 0) {
				score_error_prefix(err, "%s, %s, seed %u",
						   config->workloads[w],
						   score_gpu_policy_name(run.policy),
						   run.seed);
				goto out;
			}
			results->seconds_total += result->seconds;
			progress(config, ++*done, total, config->workloads[w],
				 run.policy, run.seed, result->seconds);
		}
	}

out:
	sim_workload_release(&workload);
	sim_trace_pods_release(&rows);
	g_free(path);
	g_free(file);
	return ret;
}

/* ---- Summaries ----------------------------------------------------------- */

typedef struct cell_summary {
	size_t n; /* seeds with a measurement at this step */
	double unalloc_mean, unalloc_sd, unalloc_median;
	double alloc_mean;
	double frag_ratio_median;
	double frag_amount_median;
} cell_summary;

static void summarize_cell(const repro_results *results, size_t w, size_t p,
			   size_t step, cell_summary *out)
{
	size_t n_seeds = results->config->n_seeds;
	double *unalloc = g_new(double, n_seeds);
	double *alloc = g_new(double, n_seeds);
	double *ratio = g_new(double, n_seeds);
	double *amount = g_new(double, n_seeds);
	double ignored_sd, ignored_median;
	double ignored_mean;

	memset(out, 0, sizeof(*out));
	for (size_t s = 0; s < n_seeds; s++) {
		const sim_step *seed_step = &run_at(results, w, p, s)->steps[step];

		if (!seed_step->measured)
			continue;
		unalloc[out->n] = seed_step->unalloc_pct;
		alloc[out->n] = seed_step->alloc_pct;
		ratio[out->n] = seed_step->frag_ratio_pct;
		amount[out->n] = seed_step->frag_amount_pct;
		out->n++;
	}
	sim_repro_stats(unalloc, out->n, &out->unalloc_mean, &out->unalloc_sd,
			&out->unalloc_median);
	sim_repro_stats(alloc, out->n, &out->alloc_mean, &ignored_sd,
			&ignored_median);
	sim_repro_stats(ratio, out->n, &ignored_mean, &ignored_sd,
			&out->frag_ratio_median);
	sim_repro_stats(amount, out->n, &ignored_mean, &ignored_sd,
			&out->frag_amount_median);
	g_free(unalloc);
	g_free(alloc);
	g_free(ratio);
	g_free(amount);
}

static FILE *open_output(const sim_repro_config *config, const char *name,
			 char **path, score_error *err)
{
	FILE *file;

	*path = g_build_filename(config->out_dir, name, NULL);
	file = fopen(*path, "w");
	if (file == NULL)
		score_fail(err, -errno, "cannot write %s: %s", *path,
			   g_strerror(errno));
	return file;
}

static int close_output(FILE *file, const char *path, score_error *err)
{
	int failed = ferror(file);

	if (fclose(file) != 0 || failed)
		return score_fail(err, -EIO, "cannot write %s: %s", path,
				  g_strerror(errno));
	return 0;
}

static int write_runs_csv(const repro_results *results, score_error *err)
{
	const sim_repro_config *config = results->config;
	char *path = NULL;
	FILE *file = open_output(config, "runs.csv", &path, err);
	int ret;

	if (file == NULL) {
		g_free(path);
		return -EIO;
	}
	fprintf(file, "workload,policy,seed,arrived_pct,measured,arrivals,"
		      "unalloc_gpu_pct,alloc_pct,frag_ratio_pct,"
		      "frag_amount_pct_of_total_gpus,pods_arrived,pods_failed,"
		      "pods_sampled,seconds\n");
	for (size_t w = 0; w < config->n_workloads; w++) {
		for (size_t p = 0; p < config->n_policies; p++) {
			char *label = sim_repro_policy_label(config->policies[p]);

			for (size_t s = 0; s < config->n_seeds; s++) {
				const sim_inflate_result *run = run_at(results, w, p, s);

				for (size_t k = 0; k < run->n_steps; k++) {
					const sim_step *step = &run->steps[k];

					fprintf(file,
						"%s,%s,%u,%d,%d,%zu,%.2f,%.2f,%.2f,%.2f,%zu,%zu,%zu,%.4f\n",
						config->workloads[w], label,
						config->seeds[s], step->arrived_pct,
						step->measured ? 1 : 0, step->arrivals,
						step->unalloc_pct, step->alloc_pct,
						step->frag_ratio_pct, step->frag_amount_pct,
						run->pods_arrived, run->pods_failed,
						run->pods_sampled, run->seconds);
				}
			}
			g_free(label);
		}
	}
	ret = close_output(file, path, err);
	g_free(path);
	return ret;
}

static int write_summary_csv(const repro_results *results, score_error *err)
{
	const sim_repro_config *config = results->config;
	char *path = NULL;
	FILE *file = open_output(config, "summary.csv", &path, err);
	int ret;

	if (file == NULL) {
		g_free(path);
		return -EIO;
	}
	fprintf(file, "workload,policy,arrived_pct,unalloc_gpu_pct_mean,"
		      "unalloc_gpu_pct_sd,unalloc_gpu_pct_median,alloc_pct_mean,"
		      "frag_ratio_pct_median,frag_amount_pct_of_total_gpus_median,"
		      "n_seeds\n");
	for (size_t w = 0; w < config->n_workloads; w++) {
		for (size_t p = 0; p < config->n_policies; p++) {
			char *label = sim_repro_policy_label(config->policies[p]);

			for (size_t k = 0; k < config->run.n_steps; k++) {
				cell_summary cell;

				summarize_cell(results, w, p, k, &cell);
				fprintf(file, "%s,%s,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%zu\n",
					config->workloads[w], label,
					config->run.steps[k], cell.unalloc_mean,
					cell.unalloc_sd, cell.unalloc_median,
					cell.alloc_mean, cell.frag_ratio_median,
					cell.frag_amount_median, cell.n);
			}
			g_free(label);
		}
	}
	ret = close_output(file, path, err);
	g_free(path);
	return ret;
}

/* Writes comparison.csv and comparison.md against `published`, and counts
 * the cells at 100% arrived outside the tolerance. */
static int write_comparison(const repro_results *results, GHashTable *published,
			    size_t *missed, double *worst, score_error *err)
{
	const sim_repro_config *config = results->config;
	char *csv_path = NULL;
	char *md_path = NULL;
	FILE *csv = open_output(config, "comparison.csv", &csv_path, err);
	FILE *md = csv != NULL ? open_output(config, "comparison.md", &md_path, err) : NULL;
	int ret = 0;

	*missed = 0;
	*worst = 0;
	if (csv == NULL || md == NULL) {
		ret = -EIO;
		goto out;
	}
	fprintf(csv, "workload,policy,arrived_pct,published_unalloc_mean,"
		     "published_unalloc_sd,stowage_unalloc_mean,stowage_unalloc_sd,"
		     "diff_pct_points,published_frag_ratio_median,"
		     "stowage_frag_ratio_median,published_frag_amount_median,"
		     "stowage_frag_amount_median\n");
	fprintf(md, "| workload | policy | published | stowage | difference |\n"
		    "|---|---|---:|---:|---:|\n");

	for (size_t w = 0; w < config->n_workloads; w++) {
		for (size_t p = 0; p < config->n_policies; p++) {
			char *label = sim_repro_policy_label(config->policies[p]);

			for (size_t k = 0; k < config->run.n_steps; k++) {
				int step = config->run.steps[k];
				char *key = cell_key(config->workloads[w], label, step);
				const published_cell *ref = g_hash_table_lookup(published, key);
				cell_summary cell;
				double diff;

				g_free(key);
				if (ref == NULL)
					continue;
				summarize_cell(results, w, p, k, &cell);
				diff = cell.unalloc_mean - ref->unalloc_mean;
				fprintf(csv, "%s,%s,%d,%.2f,%.2f,%.2f,%.2f,%+.2f,%.2f,%.2f,%.2f,%.2f\n",
					config->workloads[w], label, step,
					ref->unalloc_mean, ref->unalloc_sd,
					cell.unalloc_mean, cell.unalloc_sd, diff,
					ref->frag_ratio_median, cell.frag_ratio_median,
					ref->frag_amount_median, cell.frag_amount_median);
				if (step != 100)
					continue;
				fprintf(md, "| %s | %s | %.2f ± %.2f | %.2f ± %.2f | %+.2f |\n",
					config->workloads[w], label, ref->unalloc_mean,
					ref->unalloc_sd, cell.unalloc_mean,
					cell.unalloc_sd, diff);
				if (fabs(diff) > TOLERANCE_PCT)
					(*missed)++;
				*worst = MAX(*worst, fabs(diff));
			}
			g_free(label);
		}
	}
	ret = close_output(csv, csv_path, err);
	csv = NULL;
	if (ret == 0)
		ret = close_output(md, md_path, err);
	md = NULL;

out:
	if (csv != NULL)
		fclose(csv);
	if (md != NULL)
		fclose(md);
	g_free(csv_path);
	g_free(md_path);
	return ret;
}

/* ---- summary.json -------------------------------------------------------- */

static char *cpu_model(void)
{
	gchar *text = NULL;
	gchar **lines;
	char *model = NULL;

	if (!g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL))
		return g_strdup("unknown");
	lines = g_strsplit(text, "\n", -1);
	for (gchar **line = lines; *line != NULL && model == NULL; line++) {
		const char *colon = strchr(*line, ':');

		if (g_str_has_prefix(*line, "model name") && colon != NULL)
			model = g_strstrip(g_strdup(colon + 1));
	}
	g_strfreev(lines);
	g_free(text);
	return model != NULL ? model : g_strdup("unknown");
}

static cJSON *machine_json(void)
{
	cJSON *machine = cJSON_CreateObject();
	struct utsname name;
	char *cpu = cpu_model();

	if (uname(&name) == 0) {
		cJSON_AddStringToObject(machine, "system", name.sysname);
		cJSON_AddStringToObject(machine, "release", name.release);
		cJSON_AddStringToObject(machine, "architecture", name.machine);
	}
	cJSON_AddStringToObject(machine, "cpu", cpu);
	cJSON_AddNumberToObject(machine, "processors", g_get_num_processors());
	g_free(cpu);
	return machine;
}

static cJSON *config_json(const sim_repro_config *config)
{
	cJSON *json = cJSON_CreateObject();
	cJSON *workloads = cJSON_AddArrayToObject(json, "workloads");
	cJSON *policies = cJSON_AddArrayToObject(json, "policies");
	cJSON *seeds = cJSON_AddArrayToObject(json, "seeds");
	cJSON *steps = cJSON_AddArrayToObject(json, "arrived_pct_steps");

	cJSON_AddStringToObject(json, "traces_dir", config->traces_dir);
	cJSON_AddStringToObject(json, "node_list", config->node_list);
	for (size_t w = 0; w < config->n_workloads; w++)
		cJSON_AddItemToArray(workloads, cJSON_CreateString(config->workloads[w]));
	for (size_t p = 0; p < config->n_policies; p++)
		cJSON_AddItemToArray(policies,
				     cJSON_CreateString(score_gpu_policy_name(config->policies[p])));
	for (size_t s = 0; s < config->n_seeds; s++)
		cJSON_AddItemToArray(seeds, cJSON_CreateNumber(config->seeds[s]));
	for (size_t k = 0; k < config->run.n_steps; k++)
		cJSON_AddItemToArray(steps, cJSON_CreateNumber(config->run.steps[k]));
	cJSON_AddNumberToObject(json, "inflation_ratio", config->run.ratio);
	cJSON_AddStringToObject(json, "tie_break",
				config->run.tie_break == SIM_TIE_NAME ? "name" : "shuffled");
	cJSON_AddNumberToObject(json, "typical_pod_coverage_pct",
				SIM_TYPICAL_COVERAGE_PCT);
	cJSON_AddStringToObject(json, "random_generator",
				"glib GRand (Mersenne Twister) seeded per run");
	return json;
}

/* Run times per policy, over all workloads and seeds. */
static cJSON *timing_json(const repro_results *results)
{
	const sim_repro_config *config = results->config;
	cJSON *json = cJSON_CreateObject();
	cJSON *per_policy = cJSON_AddObjectToObject(json, "per_run_seconds");

	cJSON_AddNumberToObject(json, "total_seconds", results->seconds_total);
	for (size_t p = 0; p < config->n_policies; p++) {
		cJSON *policy_json = cJSON_AddObjectToObject(
			per_policy, score_gpu_policy_name(config->policies[p]));
		double sum = 0;
		double max = 0;
		size_t n = 0;

		for (size_t w = 0; w < config->n_workloads; w++) {
			for (size_t s = 0; s < config->n_seeds; s++) {
				double seconds = run_at(results, w, p, s)->seconds;

				sum += seconds;
				max = MAX(max, seconds);
				n++;
			}
		}
		cJSON_AddNumberToObject(policy_json, "mean", n > 0 ? sum / (double)n : 0);
		cJSON_AddNumberToObject(policy_json, "max", max);
	}
	return json;
}

static cJSON *cells_json(const repro_results *results, GHashTable *published)
{
	const sim_repro_config *config = results->config;
	cJSON *cells = cJSON_CreateArray();

	for (size_t w = 0; w < config->n_workloads; w++) {
		for (size_t p = 0; p < config->n_policies; p++) {
			char *label = sim_repro_policy_label(config->policies[p]);

			for (size_t k = 0; k < config->run.n_steps; k++) {
				cJSON *cell_json = cJSON_CreateObject();
				int step = config->run.steps[k];
				char *key = cell_key(config->workloads[w], label, step);
				const published_cell *ref =
					published != NULL ? g_hash_table_lookup(published, key) : NULL;
				cell_summary cell;

				g_free(key);
				summarize_cell(results, w, p, k, &cell);
				cJSON_AddStringToObject(cell_json, "workload", config->workloads[w]);
				cJSON_AddStringToObject(cell_json, "policy", label);
				cJSON_AddNumberToObject(cell_json, "arrived_pct", step);
				cJSON_AddNumberToObject(cell_json, "n_seeds", (double)cell.n);
				if (cell.n > 0) {
					cJSON_AddNumberToObject(cell_json, "unalloc_gpu_pct_mean", cell.unalloc_mean);
					cJSON_AddNumberToObject(cell_json, "unalloc_gpu_pct_sd", cell.unalloc_sd);
					cJSON_AddNumberToObject(cell_json, "unalloc_gpu_pct_median", cell.unalloc_median);
					cJSON_AddNumberToObject(cell_json, "alloc_pct_mean", cell.alloc_mean);
					cJSON_AddNumberToObject(cell_json, "frag_ratio_pct_median", cell.frag_ratio_median);
					cJSON_AddNumberToObject(cell_json, "frag_amount_pct_of_total_gpus_median",
								cell.frag_amount_median);
				}
				if (ref != NULL && cell.n > 0) {
					cJSON_AddNumberToObject(cell_json, "published_unalloc_gpu_pct_mean",
								ref->unalloc_mean);
					cJSON_AddNumberToObject(cell_json, "diff_pct_points",
								cell.unalloc_mean - ref->unalloc_mean);
				}
				cJSON_AddItemToArray(cells, cell_json);
			}
			g_free(label);
		}
	}
	return cells;
}

static int write_summary_json(const repro_results *results,
			      GHashTable *published, size_t missed,
			      double worst, score_error *err)
{
	const sim_repro_config *config = results->config;
	cJSON *root = cJSON_CreateObject();
	GDateTime *now = g_date_time_new_now_utc();
	gchar *date = g_date_time_format_iso8601(now);
	char *path = g_build_filename(config->out_dir, "summary.json", NULL);
	char *text = NULL;
	GError *error = NULL;
	int ret = 0;

	if (root == NULL) {
		ret = score_fail(err, -ENOMEM, "cannot build summary.json");
		goto out;
	}
	if (config->command_line != NULL)
		cJSON_AddStringToObject(root, "command", config->command_line);
	cJSON_AddStringToObject(root, "generated_at", date);
	cJSON_AddItemToObject(root, "machine", machine_json());
	cJSON_AddItemToObject(root, "config", config_json(config));
	cJSON_AddItemToObject(root, "timing", timing_json(results));
	if (published != NULL) {
		cJSON *comparison = cJSON_AddObjectToObject(root, "comparison_at_100_pct");

		cJSON_AddStringToObject(comparison, "published", config->reference_path);
		cJSON_AddNumberToObject(comparison, "tolerance_pct_points", TOLERANCE_PCT);
		cJSON_AddNumberToObject(comparison, "cells_outside_tolerance", (double)missed);
		cJSON_AddNumberToObject(comparison, "max_abs_diff_pct_points", worst);
	}
	cJSON_AddItemToObject(root, "cells", cells_json(results, published));

	text = cJSON_Print(root);
	if (text == NULL) {
		ret = score_fail(err, -ENOMEM, "cannot format summary.json");
		goto out;
	}
	if (!g_file_set_contents(path, text, -1, &error)) {
		ret = score_fail(err, -EIO, "cannot write %s: %s", path, error->message);
		g_error_free(error);
	}

out:
	cJSON_free(text);
	cJSON_Delete(root);
	g_free(path);
	g_free(date);
	g_date_time_unref(now);
	return ret;
}

/* ---- Driver -------------------------------------------------------------- */

static int check_config(const sim_repro_config *config, score_error *err)
{
	if (config->traces_dir == NULL)
		return score_fail(err, -EINVAL,
				  "no trace directory: give --traces DIR with the openb CSV files");
	if (config->out_dir == NULL)
		return score_fail(err, -EINVAL, "no output directory: give --out DIR");
	if (config->n_workloads == 0 || config->n_policies == 0 || config->n_seeds == 0)
		return score_fail(err, -EINVAL,
				  "nothing to run: give at least one workload, policy and seed");
	return 0;
}

/* Checks that the trace directory has the node list and every pod list
 * before any run, naming the missing files and where they come from. */
static int check_trace_files(const sim_repro_config *config, score_error *err)
{
	GString *missing = g_string_new(NULL);
	int ret = 0;

	for (size_t w = 0; w <= config->n_workloads; w++) {
		char *file = w < config->n_workloads ?
				     g_strdup_printf("%s.csv", config->workloads[w]) :
				     g_strdup(config->node_list);
		char *path = g_build_filename(config->traces_dir, file, NULL);

		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
			g_string_append_printf(missing, "%s%s", missing->len > 0 ? ", " : "", file);
		g_free(path);
		g_free(file);
	}
	if (missing->len > 0)
		ret = score_fail(err, -ENOENT,
				 "%s %s %s: --traces needs the node list and pod lists of the Alibaba GPU cluster trace 2023 (\"openb\", GitHub alibaba/clusterdata, folder cluster-trace-gpu-v2023/csv/); docs/simulator.md describes them",
				 config->traces_dir,
				 g_file_test(config->traces_dir, G_FILE_TEST_IS_DIR) ?
					 "lacks" : "is not a directory; expected one with",
				 missing->str);
	g_string_free(missing, TRUE);
	return ret;
}

int sim_repro_run(const sim_repro_config *config, score_error *err)
{
	char *node_path = NULL;
	sim_trace_nodes node_rows = {0};
	sim_cluster cluster = {0};
	GHashTable *published = NULL;
	repro_results results = {.config = config};
	size_t done = 0;
	size_t missed = 0;
	double worst = 0;
	char skipped_text[48];
	int ret;

	ret = check_config(config, err);
	if (ret == 0)
		ret = check_trace_files(config, err);
	if (ret < 0)
		return ret;
	if (g_mkdir_with_parents(config->out_dir, 0755) != 0)
		return score_fail(err, -errno, "cannot create %s: %s",
				  config->out_dir, g_strerror(errno));
	if (config->reference_path != NULL) {
		published = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		ret = read_published(config->reference_path, published, err);
		if (ret < 0)
			goto out;
	}

	node_path = g_build_filename(config->traces_dir, config->node_list, NULL);
	ret = sim_trace_read_nodes(node_path, &config->read, &node_rows, err);
	if (ret < 0)
		goto out;
	if (node_rows.skipped > 0)
		fprintf(stderr, "fgd-repro: %s: skipped %s; the first: %s\n",
			node_path,
			sim_format_count_noun(node_rows.skipped, "bad row", "bad rows",
					      skipped_text, sizeof(skipped_text)),
			node_rows.first_skipped);
	ret = sim_cluster_build(&node_rows, &cluster, err);
	if (ret < 0)
		goto out;

	results.runs = g_new0(sim_inflate_result, config->n_workloads *
							  config->n_policies * config->n_seeds);
	for (size_t w = 0; w < config->n_workloads; w++) {
		ret = run_workload(config, w, &cluster, &results, &done, err);
		if (ret < 0)
			goto out;
	}

	ret = write_runs_csv(&results, err);
	if (ret == 0)
		ret = write_summary_csv(&results, err);
	if (ret == 0 && published != NULL)
		ret = write_comparison(&results, published, &missed, &worst, err);
	if (ret == 0)
		ret = write_summary_json(&results, published, missed, worst, err);
	if (ret == 0 && published != NULL && config->progress)
		fprintf(stderr,
			"fgd-repro: at 100%% arrived, %zu of %zu cells differ from the published mean by more than %.1f points (largest %.2f)\n",
			missed, config->n_workloads * config->n_policies,
			TOLERANCE_PCT, worst);

out:
	g_free(results.runs);
	if (published != NULL)
		g_hash_table_destroy(published);
	sim_cluster_release(&cluster);
	sim_trace_nodes_release(&node_rows);
	g_free(node_path);
	return ret;
}
