/* The `stowage sim` command line; see sim.h. */
#include "sim/sim.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/churn.h"
#include "sim/inflate.h"
#include "sim/merge.h"
#include "sim/plan.h"
#include "sim/progress.h"
#include "sim/repro.h"
#include "sim/sweep.h"
#include "sim/trace.h"
#include "sim/workload.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: stowage sim [COMMAND] [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  run         simulate pod churn on a cluster and write a report (the default:\n"
	"              'stowage sim' alone runs 24 h of synthetic churn on 50 nodes)\n"
	"  plan        find the smallest cluster that meets a pending-time or\n"
	"              unschedulable-pod objective (also 'run --min-nodes')\n"
	"  sweep       run policies x workloads x seeds x clusters from a sweep file\n"
	"  merge       compare the cells of a sweep in one report\n"
	"  inflate     run one inflation experiment and print its summary as JSON\n"
	"  fgd-repro   run the FGD paper's experiment: 4 workloads x 6 policies x 10 seeds\n"
	"\n"
	"Run 'stowage sim COMMAND --help' for the options of a command.\n";

/* ---- Option values ------------------------------------------------------- */

/* Parses a whole number in [min, max]. */
static int parse_long(const char *text, long long min, long long max,
		      long long *out)
{
	char *end = NULL;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return -EINVAL;
	*out = value;
	return 0;
}

/* Parses "42-51" or "42,43,50" (or a mix) into `seeds`. */
static int parse_seeds(const char *text, uint32_t *seeds, size_t max,
		       size_t *n, score_error *err)
{
	gchar **parts = g_strsplit(text, ",", -1);
	int ret = 0;

	*n = 0;
	for (gchar **part = parts; *part != NULL; part++) {
		gchar **range = g_strsplit(*part, "-", 2);
		long long first = 0;
		long long last = 0;
		bool bad = parse_long(range[0], 0, UINT32_MAX, &first) < 0;

		if (!bad)
			bad = parse_long(range[1] != NULL ? range[1] : range[0],
					 first, UINT32_MAX, &last) < 0;
		g_strfreev(range);
		if (bad || (size_t)(last - first + 1) > max - *n) {
			ret = score_fail(err, -EINVAL,
					 "invalid seeds \"%s\": give numbers or ranges such as 42-51 or 42,45, at most %zu seeds",
					 text, max);
			goto out;
		}
		for (long long s = first; s <= last; s++)
			seeds[(*n)++] = (uint32_t)s;
	}
	if (*n == 0)
		ret = score_fail(err, -EINVAL, "no seeds in \"%s\"", text);

out:
	g_strfreev(parts);
	return ret;
}

static int parse_steps(const char *text, sim_inflate_config *config,
		       score_error *err)
{
	gchar **parts = g_strsplit(text, ",", -1);
	int ret = 0;

	config->n_steps = 0;
	for (gchar **part = parts; *part != NULL; part++) {
		long long step = 0;

		if (config->n_steps >= SIM_MAX_STEPS ||
		    parse_long(*part, 0, 998, &step) < 0) {
			ret = score_fail(err, -EINVAL,
					 "invalid steps \"%s\": give up to %d percentages from 0 to 998 separated by commas, such as 50,100",
					 text, SIM_MAX_STEPS);
			goto out;
		}
		config->steps[config->n_steps++] = (int)step;
	}

out:
	g_strfreev(parts);
	return ret;
}

static int parse_tie_break(const char *text, sim_tie_break *out,
			   score_error *err)
{
	if (strcmp(text, "shuffled") == 0)
		*out = SIM_TIE_SHUFFLED;
	else if (strcmp(text, "name") == 0)
		*out = SIM_TIE_NAME;
	else
		return score_fail(err, -EINVAL,
				  "invalid tie-break \"%s\": use shuffled or name", text);
	return 0;
}

static int parse_ratio(const char *text, double *out, score_error *err)
{
	char *end = NULL;
	double value = g_ascii_strtod(text, &end);

	if (end == text || *end != '\0' || !isfinite(value) || value <= 0 ||
	    value > 100)
		return score_fail(err, -EINVAL,
				  "invalid ratio \"%s\": give a multiple of the cluster's GPUs above 0 and at most 100, such as 1.3",
				  text);
	*out = value;
	return 0;
}

/* Parses a context's options from `argv` (argv[0] is the subcommand). */
static int parse_options(GOptionContext *context, int argc, char **argv)
{
	char **args = g_new0(char *, argc + 1);
	int n_args = argc;
	GError *error = NULL;
	int ret = 0;

	memcpy(args, argv, sizeof(*args) * argc);
	if (!g_option_context_parse(context, &n_args, &args, &error)) {
		fprintf(stderr, "stowage sim %s: %s\n", argv[0], error->message);
		g_error_free(error);
		ret = -EINVAL;
	} else if (n_args > 1) {
		fprintf(stderr, "stowage sim %s: unexpected argument \"%s\"\n",
			argv[0], args[1]);
		ret = -EINVAL;
	}
	g_free(args);
	return ret;
}

/* The command as typed, for the record in summary.json. */
static char *join_command(int argc, char **argv)
{
	GString *line = g_string_new("stowage sim");

	for (int i = 0; i < argc; i++) {
		bool plain = argv[i][0] != '\0';

		for (const char *c = argv[i]; *c != '\0' && plain; c++)
			plain = g_ascii_isalnum(*c) || strchr("_./=:,+-", *c) != NULL;
		g_string_append_c(line, ' ');
		if (plain) {
			g_string_append(line, argv[i]);
		} else {
			char *quoted = g_shell_quote(argv[i]);

			g_string_append(line, quoted);
			g_free(quoted);
		}
	}
	return g_string_free(line, FALSE);
}

/* ---- inflate ------------------------------------------------------------- */

static cJSON *inflate_json(const sim_cluster *cluster,
			   const sim_workload *workload,
			   const sim_inflate_config *config,
			   const sim_inflate_result *result)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *steps;

	cJSON_AddStringToObject(root, "policy", score_gpu_policy_name(config->policy));
	cJSON_AddNumberToObject(root, "seed", config->seed);
	cJSON_AddNumberToObject(root, "inflation_ratio", config->ratio);
	cJSON_AddStringToObject(root, "tie_break",
				config->tie_break == SIM_TIE_NAME ? "name" : "shuffled");
	cJSON_AddNumberToObject(root, "nodes", (double)cluster->n_nodes);
	cJSON_AddNumberToObject(root, "cluster_gpus", (double)cluster->total_gpus);
	cJSON_AddNumberToObject(root, "trace_pods", (double)workload->n_pods);
	cJSON_AddNumberToObject(root, "pod_shapes", (double)workload->n_shapes);
	cJSON_AddNumberToObject(root, "typical_pods", (double)workload->typical->n);
	cJSON_AddNumberToObject(root, "pods_arrived", (double)result->pods_arrived);
	cJSON_AddNumberToObject(root, "pods_failed", (double)result->pods_failed);
	cJSON_AddNumberToObject(root, "pods_sampled", (double)result->pods_sampled);
	cJSON_AddNumberToObject(root, "arrived_gpu_milli", (double)result->arrived_gpu_milli);
	cJSON_AddNumberToObject(root, "allocated_gpu_milli",
				(double)result->allocated_gpu_milli);
	cJSON_AddNumberToObject(root, "seconds", result->seconds);

	steps = cJSON_AddArrayToObject(root, "steps");
	for (size_t k = 0; k < result->n_steps; k++) {
		const sim_step *step = &result->steps[k];
		cJSON *step_json = cJSON_CreateObject();

		cJSON_AddNumberToObject(step_json, "arrived_pct", step->arrived_pct);
		cJSON_AddBoolToObject(step_json, "measured", step->measured);
		cJSON_AddNumberToObject(step_json, "arrivals", (double)step->arrivals);
		if (step->measured) {
			cJSON_AddNumberToObject(step_json, "unalloc_gpu_pct", step->unalloc_pct);
			cJSON_AddNumberToObject(step_json, "alloc_pct", step->alloc_pct);
			cJSON_AddNumberToObject(step_json, "frag_ratio_pct", step->frag_ratio_pct);
			cJSON_AddNumberToObject(step_json, "frag_amount_pct_of_total_gpus",
						step->frag_amount_pct);
		}
		cJSON_AddItemToArray(steps, step_json);
	}
	return root;
}

static int write_inflate_outputs(const char *out_dir, const char *json,
				 const sim_inflate_result *result,
				 score_error *err)
{
	char *json_path = g_build_filename(out_dir, "summary.json", NULL);
	char *csv_path = g_build_filename(out_dir, "steps.csv", NULL);
	GString *csv = g_string_new("arrived_pct,measured,arrivals,unalloc_gpu_pct,"
				    "alloc_pct,frag_ratio_pct,"
				    "frag_amount_pct_of_total_gpus\n");
	GError *error = NULL;
	int ret = 0;

	for (size_t k = 0; k < result->n_steps; k++) {
		const sim_step *step = &result->steps[k];

		g_string_append_printf(csv, "%d,%d,%zu,%.2f,%.2f,%.2f,%.2f\n",
				       step->arrived_pct, step->measured ? 1 : 0,
				       step->arrivals, step->unalloc_pct,
				       step->alloc_pct, step->frag_ratio_pct,
				       step->frag_amount_pct);
	}
	if (g_mkdir_with_parents(out_dir, 0755) != 0) {
		ret = score_fail(err, -errno, "cannot create %s: %s", out_dir,
				 g_strerror(errno));
	} else if (!g_file_set_contents(json_path, json, -1, &error) ||
		   !g_file_set_contents(csv_path, csv->str, (gssize)csv->len, &error)) {
		ret = score_fail(err, -EIO, "cannot write to %s: %s", out_dir,
				 error->message);
		g_error_free(error);
	}
	g_string_free(csv, TRUE);
	g_free(json_path);
	g_free(csv_path);
	return ret;
}

/* Options of `inflate`, as strings until checked. */
typedef struct inflate_options {
	char *nodes;
	char *pods;
	char *policy;
	char *seed;
	char *ratio;
	char *tie_break;
	char *steps;
	char *out;
	gboolean skip_bad_rows;
} inflate_options;

static int inflate_config(const inflate_options *options,
			  sim_inflate_config *config, score_error *err)
{
	long long seed = 0;
	int ret = 0;

	sim_inflate_defaults(config);
	if (options->nodes == NULL || options->pods == NULL)
		return score_fail(err, -EINVAL,
				  "missing --nodes or --pods: give the node and pod list files");
	if (options->policy != NULL)
		ret = score_gpu_policy_parse(options->policy, &config->policy, err);
	if (ret == 0 && options->seed != NULL &&
	    parse_long(options->seed, 0, UINT32_MAX, &seed) < 0)
		ret = score_fail(err, -EINVAL,
				 "invalid seed \"%s\": give a whole number from 0 to %u",
				 options->seed, UINT32_MAX);
	if (ret == 0 && options->seed != NULL)
		config->seed = (uint32_t)seed;
	if (ret == 0 && options->ratio != NULL)
		ret = parse_ratio(options->ratio, &config->ratio, err);
	if (ret == 0 && options->tie_break != NULL)
		ret = parse_tie_break(options->tie_break, &config->tie_break, err);
	if (ret == 0 && options->steps != NULL)
		ret = parse_steps(options->steps, config, err);
	return ret;
}

static int run_inflate(const inflate_options *options,
		       const sim_inflate_config *config, score_error *err)
{
	sim_read_options read = {.skip_bad_rows = options->skip_bad_rows};
	sim_trace_nodes node_rows = {0};
	sim_trace_pods pod_rows = {0};
	sim_cluster cluster = {0};
	sim_workload workload = {0};
	sim_inflate_result result;
	cJSON *json = NULL;
	char *text = NULL;
	char skipped_text[48];
	int ret;

	ret = sim_trace_read_nodes(options->nodes, &read, &node_rows, err);
	if (ret == 0)
		ret = sim_trace_read_pods(options->pods, &read, &pod_rows, err);
	if (ret < 0)
		goto out;
	if (node_rows.skipped > 0)
		fprintf(stderr, "stowage sim inflate: %s: skipped %s; the first: %s\n",
			options->nodes,
			sim_format_count_noun(node_rows.skipped, "bad row", "bad rows",
					      skipped_text, sizeof(skipped_text)),
			node_rows.first_skipped);
	if (pod_rows.skipped > 0)
		fprintf(stderr, "stowage sim inflate: %s: skipped %s; the first: %s\n",
			options->pods,
			sim_format_count_noun(pod_rows.skipped, "bad row", "bad rows",
					      skipped_text, sizeof(skipped_text)),
			pod_rows.first_skipped);

	ret = sim_cluster_build(&node_rows, &cluster, err);
	if (ret == 0)
		ret = sim_workload_build(&pod_rows, &cluster, &workload, err);
	if (ret == 0)
		ret = sim_inflate_run(&cluster, &workload, config, &result, err);
	if (ret < 0)
		goto out;

	json = inflate_json(&cluster, &workload, config, &result);
	text = json != NULL ? cJSON_Print(json) : NULL;
	if (text == NULL) {
		ret = score_fail(err, -ENOMEM, "cannot format the summary as JSON");
		goto out;
	}
	printf("%s\n", text);
	if (options->out != NULL)
		ret = write_inflate_outputs(options->out, text, &result, err);

out:
	cJSON_free(text);
	cJSON_Delete(json);
	sim_workload_release(&workload);
	sim_cluster_release(&cluster);
	sim_trace_pods_release(&pod_rows);
	sim_trace_nodes_release(&node_rows);
	return ret;
}

static int command_inflate(int argc, char **argv)
{
	inflate_options options = {0};
	GOptionEntry entries[] = {
		{"nodes", 0, 0, G_OPTION_ARG_FILENAME, &options.nodes,
		 "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)", "FILE"},
		{"pods", 0, 0, G_OPTION_ARG_FILENAME, &options.pods,
		 "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli,...)", "FILE"},
		{"policy", 0, 0, G_OPTION_ARG_STRING, &options.policy,
		 "Random, DotProd, GpuClustering, GpuPacking, BestFit or FGD (default FGD)", "NAME"},
		{"seed", 0, 0, G_OPTION_ARG_STRING, &options.seed,
		 "Seed of the run's random generator (default 42)", "N"},
		{"ratio", 0, 0, G_OPTION_ARG_STRING, &options.ratio,
		 "GPUs to arrive, as a multiple of the cluster's GPUs (default 1.3)", "X"},
		{"tie-break", 0, 0, G_OPTION_ARG_STRING, &options.tie_break,
		 "Equal scores go to a seeded node order (shuffled, default) or the smallest name (name)", "RULE"},
		{"steps", 0, 0, G_OPTION_ARG_STRING, &options.steps,
		 "Arrived-load percentages to summarize (default 50,80,90,100,110,120,130)", "LIST"},
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &options.out,
		 "Also write summary.json and steps.csv to this directory", "DIR"},
		{"skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &options.skip_bad_rows,
		 "Count and skip malformed trace rows instead of failing", NULL},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *context = g_option_context_new("- run one inflation experiment");
	sim_inflate_config config;
	score_error err = {0};
	int status = 0;

	g_option_context_add_main_entries(context, entries, NULL);
	if (parse_options(context, argc, argv) < 0) {
		status = EXIT_USAGE;
	} else if (inflate_config(&options, &config, &err) < 0) {
		fprintf(stderr, "stowage sim inflate: %s\n", err.message);
		status = EXIT_USAGE;
	} else if (run_inflate(&options, &config, &err) < 0) {
		fprintf(stderr, "stowage sim inflate: %s\n", err.message);
		status = 1;
	}

	g_option_context_free(context);
	g_free(options.nodes);
	g_free(options.pods);
	g_free(options.policy);
	g_free(options.seed);
	g_free(options.ratio);
	g_free(options.tie_break);
	g_free(options.steps);
	g_free(options.out);
	return status;
}

/* ---- fgd-repro ----------------------------------------------------------- */

typedef struct repro_options {
	char *traces;
	char *out;
	char *reference;
	char *node_list;
	char *seeds;
	char *policies;
	char *workloads;
	char *ratio;
	char *tie_break;
	gboolean skip_bad_rows;
	gboolean quiet;
} repro_options;

static int repro_policies(const char *text, sim_repro_config *config,
			  score_error *err)
{
	gchar **names = g_strsplit(text, ",", -1);
	int ret = 0;

	config->n_policies = 0;
	for (gchar **name = names; *name != NULL && ret == 0; name++) {
		score_gpu_policy policy;

		ret = score_gpu_policy_parse(*name, &policy, err);
		if (ret == 0 && config->n_policies >= SCORE_GPU_POLICIES)
			ret = score_fail(err, -EINVAL,
					 "too many policies in \"%s\": list each at most once",
					 text);
		if (ret == 0)
			config->policies[config->n_policies++] = policy;
	}
	g_strfreev(names);
	return ret;
}

/* Workload names point into `storage`, which the caller frees. */
static int repro_workloads(const char *text, sim_repro_config *config,
			   gchar ***storage, score_error *err)
{
	*storage = g_strsplit(text, ",", -1);
	config->n_workloads = 0;
	for (gchar **name = *storage; *name != NULL; name++) {
		if ((*name)[0] == '\0' || config->n_workloads >= SIM_REPRO_MAX_WORKLOADS)
			return score_fail(err, -EINVAL,
					  "invalid workloads \"%s\": give up to %d pod list names without .csv, separated by commas",
					  text, SIM_REPRO_MAX_WORKLOADS);
		if (g_str_has_suffix(*name, ".csv"))
			(*name)[strlen(*name) - 4] = '\0';
		config->workloads[config->n_workloads++] = *name;
	}
	return 0;
}

static int repro_config(const repro_options *options, sim_repro_config *config,
			gchar ***workload_names, score_error *err)
{
	int ret = 0;

	sim_repro_defaults(config);
	config->traces_dir = options->traces;
	config->out_dir = options->out;
	config->reference_path = options->reference;
	config->read.skip_bad_rows = options->skip_bad_rows;
	config->progress = !options->quiet;
	if (options->node_list != NULL)
		config->node_list = options->node_list;
	if (options->seeds != NULL)
		ret = parse_seeds(options->seeds, config->seeds, SIM_REPRO_MAX_SEEDS,
				  &config->n_seeds, err);
	if (ret == 0 && options->policies != NULL)
		ret = repro_policies(options->policies, config, err);
	if (ret == 0 && options->workloads != NULL)
		ret = repro_workloads(options->workloads, config, workload_names, err);
	if (ret == 0 && options->ratio != NULL)
		ret = parse_ratio(options->ratio, &config->run.ratio, err);
	if (ret == 0 && options->tie_break != NULL)
		ret = parse_tie_break(options->tie_break, &config->run.tie_break, err);
	if (ret == 0 && (options->traces == NULL || options->out == NULL))
		ret = score_fail(err, -EINVAL,
				 "missing --traces or --out: give the trace directory and an output directory");
	return ret;
}

static int command_repro(int argc, char **argv)
{
	repro_options options = {0};
	GOptionEntry entries[] = {
		{"traces", 0, 0, G_OPTION_ARG_FILENAME, &options.traces,
		 "Directory with the openb node and pod lists", "DIR"},
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &options.out,
		 "Directory for summary.csv, runs.csv, summary.json and the comparison", "DIR"},
		{"reference", 0, 0, G_OPTION_ARG_FILENAME, &options.reference,
		 "Published table to compare with (CSV)", "FILE"},
		{"node-list", 0, 0, G_OPTION_ARG_STRING, &options.node_list,
		 "Node list file in the trace directory (default openb_node_list_gpu_node.csv)", "NAME"},
		{"seeds", 0, 0, G_OPTION_ARG_STRING, &options.seeds,
		 "Seeds, as ranges or lists (default 42-51)", "LIST"},
		{"policies", 0, 0, G_OPTION_ARG_STRING, &options.policies,
		 "Policies, separated by commas (default all six)", "LIST"},
		{"workloads", 0, 0, G_OPTION_ARG_STRING, &options.workloads,
		 "Pod lists in the trace directory, without .csv (default the four of the paper)", "LIST"},
		{"ratio", 0, 0, G_OPTION_ARG_STRING, &options.ratio,
		 "GPUs to arrive, as a multiple of the cluster's GPUs (default 1.3)", "X"},
		{"tie-break", 0, 0, G_OPTION_ARG_STRING, &options.tie_break,
		 "shuffled (default, as the paper's simulator) or name", "RULE"},
		{"skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &options.skip_bad_rows,
		 "Count and skip malformed trace rows instead of failing", NULL},
		{"quiet", 'q', 0, G_OPTION_ARG_NONE, &options.quiet,
		 "Do not print progress on stderr", NULL},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *context = g_option_context_new("- run the FGD paper's experiment");
	sim_repro_config config;
	gchar **workload_names = NULL;
	char *command_line = join_command(argc, argv);
	score_error err = {0};
	int status = 0;

	g_option_context_add_main_entries(context, entries, NULL);
	if (parse_options(context, argc, argv) < 0) {
		status = EXIT_USAGE;
	} else if (repro_config(&options, &config, &workload_names, &err) < 0) {
		fprintf(stderr, "stowage sim fgd-repro: %s\n", err.message);
		status = EXIT_USAGE;
	} else {
		config.command_line = command_line;
		if (sim_repro_run(&config, &err) < 0) {
			fprintf(stderr, "stowage sim fgd-repro: %s\n", err.message);
			status = 1;
		}
	}

	g_option_context_free(context);
	g_strfreev(workload_names);
	g_free(command_line);
	g_free(options.traces);
	g_free(options.out);
	g_free(options.reference);
	g_free(options.node_list);
	g_free(options.seeds);
	g_free(options.policies);
	g_free(options.workloads);
	g_free(options.ratio);
	g_free(options.tie_break);
	return status;
}

/* ---- Entry --------------------------------------------------------------- */

/* Runs `run` with the options that followed "sim" directly. */
static int command_run_default(int argc, char **argv)
{
	char **args = g_new0(char *, argc + 1);
	int status;

	args[0] = (char *)"run";
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	status = sim_churn_command(argc, args);
	g_free(args);
	return status;
}

static bool has_argument(int argc, char **argv, const char *expected)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], expected) == 0)
			return true;
	}
	return false;
}

int sim_main(int argc, char **argv)
{
	const char *command = argc > 1 ? argv[1] : NULL;

	if (command != NULL && (strcmp(command, "help") == 0 ||
				strcmp(command, "--help") == 0 ||
				strcmp(command, "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	/* No command, or options right after "sim": the default run. */
	if (command == NULL || command[0] == '-')
		return command_run_default(argc, argv);
	if (strcmp(command, "run") == 0 && has_argument(argc, argv, "--min-nodes"))
		return sim_plan_command(argc - 1, argv + 1);
	if (strcmp(command, "run") == 0)
		return sim_churn_command(argc - 1, argv + 1);
	if (strcmp(command, "plan") == 0)
		return sim_plan_command(argc - 1, argv + 1);
	if (strcmp(command, "sweep") == 0)
		return sim_sweep_command(argc - 1, argv + 1);
	if (strcmp(command, "merge") == 0)
		return sim_merge_command(argc - 1, argv + 1);
	if (strcmp(command, "inflate") == 0)
		return command_inflate(argc - 1, argv + 1);
	if (strcmp(command, "fgd-repro") == 0)
		return command_repro(argc - 1, argv + 1);

	fprintf(stderr, "stowage sim: unknown command \"%s\"\n\n%s", command,
		usage_text);
	return EXIT_USAGE;
}
