/* `stowage sim run`; see churn.h. */
#include "sim/churn.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "scoring/bandwidth.h"
#include "sim/engine.h"
#include "sim/fitcheck.h"
#include "sim/kube_input.h"
#include "sim/policyfile.h"
#include "sim/progress.h"
#include "sim/report.h"
#include "sim/sources.h"
#include "sim/template.h"

#define EXIT_USAGE 2

/* Samples kept before the interval doubles, when it was not given. */
#define AUTO_MAX_SAMPLES 4000
/* Samples over the generator's duration, when the interval was not given. */
#define AUTO_SAMPLES 1440

void sim_churn_defaults(sim_churn_config *config)
{
	memset(config, 0, sizeof(*config));
	config->out_dir = SIM_DEFAULT_OUT_DIR;
	config->template_text = SIM_DEFAULT_TEMPLATE;
	config->zones = 3;
	config->racks = 2;
	config->max_pods = SIM_DEFAULT_MAX_PODS;
	sim_generator_defaults(&config->generator);
	config->end_ms = -1;
	config->policy.kind = SIM_POLICY_KUBE_DEFAULT;
	config->progress = true;
}

void sim_churn_result_release(sim_churn_result *result)
{
	g_free(result->report_path);
	g_free(result->workload);
	if (result->warnings != NULL)
		g_ptr_array_free(result->warnings, TRUE);
	memset(result, 0, sizeof(*result));
}

/* The smallest round interval that gives at most AUTO_SAMPLES samples. */
static int64_t auto_sample_ms(int64_t duration_ms)
{
	static const int64_t steps_s[] = {
		1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
		10800, 21600, 43200, 86400,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(steps_s); i++) {
		if (duration_ms / (steps_s[i] * 1000) <= AUTO_SAMPLES)
			return steps_s[i] * 1000;
	}
	return 86400 * 1000;
}

/* ---- Cluster ------------------------------------------------------------- */

/* A run's cluster before it goes into the engine. */
typedef struct cluster_plan {
	sim_kube_nodes *kube; /* owned; set for a Kubernetes Node list */
	GPtrArray *names;  /* char *, owned */
	GPtrArray *shapes; /* sim_node_shape *, owned */
	bool gpus;
	char *description; /* owned */
} cluster_plan;

static void cluster_plan_release(cluster_plan *plan)
{
	if (plan->names != NULL)
		g_ptr_array_free(plan->names, TRUE);
	for (guint i = 0; plan->shapes != NULL && i < plan->shapes->len; i++) {
		sim_node_shape_release(plan->shapes->pdata[i]);
		g_free(plan->shapes->pdata[i]);
	}
	if (plan->shapes != NULL)
		g_ptr_array_free(plan->shapes, TRUE);
	g_free(plan->description);
	sim_kube_nodes_free(plan->kube);
	memset(plan, 0, sizeof(*plan));
}

static void plan_add(cluster_plan *plan, char *name, sim_node_shape *shape)
{
	g_ptr_array_add(plan->names, name);
	g_ptr_array_add(plan->shapes, shape);
	plan->gpus = plan->gpus || shape->gpus > 0;
}

static int plan_from_template(const sim_churn_config *config, cluster_plan *plan,
			      score_error *err)
{
	sim_template tmpl;
	size_t n;
	int ret = sim_template_parse(config->template_text, &tmpl, err);

	if (ret < 0)
		return ret;
	n = sim_template_node_count(&tmpl);
	for (size_t i = 0; i < n; i++) {
		sim_node_shape *shape = g_new0(sim_node_shape, 1);

		sim_node_shape_copy(sim_template_shape(&tmpl, i), shape);
		plan_add(plan, g_strdup_printf("node-%04zu", i), shape);
	}
	plan->description = g_strdup(config->template_text);
	sim_template_release(&tmpl);
	return 0;
}

static void print_skipped(const char *path, size_t skipped, const char *first)
{
	char rows[48];

	fprintf(stderr, "stowage sim: %s: skipped %s; the first: %s\n", path,
		sim_format_count_noun(skipped, "bad row", "bad rows", rows, sizeof(rows)),
		first);
}

/* Reports the rows that --skip-bad-rows skipped on stderr and in the
 * warnings of summary.json. */
static void note_skipped(const char *path, size_t skipped, const char *first,
			 sim_metrics *metrics)
{
	char rows[48];
	char *warning;

	warning = g_strdup_printf("%s: skipped %s; the first: %s", path,
				  sim_format_count_noun(skipped, "bad row", "bad rows", rows,
							sizeof(rows)),
				  first);
	fprintf(stderr, "stowage sim: %s\n", warning);
	g_ptr_array_add(metrics->warnings, warning);
}

/* Reports the pods that --skip-bad-rows skipped because a live pod had
 * their name. */
static void note_skipped_duplicates(const char *path, const sim_engine_stats *stats,
				    sim_metrics *metrics)
{
	char pods[48];
	char *warning;

	if (stats->skipped_duplicates == 0)
		return;
	warning = g_strdup_printf("%s: skipped %s whose name a live pod had; the first at line %d",
				  path,
				  sim_format_count_noun(stats->skipped_duplicates, "pod", "pods", pods,
							sizeof(pods)),
				  stats->first_skipped_duplicate_line);
	fprintf(stderr, "stowage sim: %s\n", warning);
	g_ptr_array_add(metrics->warnings, warning);
}

/* A Kubernetes Node list: the nodes keep their labels and taints, which
 * sim_kube_nodes_add() gives the engine. */
static int plan_from_kube_nodes(const sim_churn_config *config,
				cluster_plan *plan, score_error *err)
{
	int ret = sim_kube_nodes_read(config->node_list, config->max_pods, &plan->kube, err);
	const GPtrArray *warnings = ret == 0 ? sim_kube_nodes_warnings(plan->kube) : NULL;

	/* Printed as the file is read: the run's own warnings come later. */
	for (guint i = 0; warnings != NULL && i < warnings->len; i++)
		fprintf(stderr, "stowage sim run: warning: %s\n",
			(const char *)warnings->pdata[i]);
	for (size_t i = 0; ret == 0 && i < sim_kube_nodes_count(plan->kube); i++) {
		sim_node_shape *shape = g_new0(sim_node_shape, 1);

		sim_node_shape_copy(sim_kube_nodes_shape(plan->kube, i), shape);
		plan_add(plan, g_strdup(sim_kube_nodes_name(plan->kube, i)), shape);
	}
	if (ret == 0)
		plan->description = g_strdup(config->node_list);
	return ret;
}

static int plan_from_node_list(const sim_churn_config *config,
			       cluster_plan *plan, score_error *err)
{
	sim_trace_nodes rows;
	bool manifest = false;
	int ret = sim_kube_sniff(config->node_list, &manifest, err);

	if (ret == 0 && manifest)
		return plan_from_kube_nodes(config, plan, err);
	if (ret == 0)
		ret = sim_trace_read_nodes(config->node_list, &config->read, &rows, err);
	if (ret < 0)
		return ret;
	if (rows.skipped > 0)
		print_skipped(config->node_list, rows.skipped, rows.first_skipped);
	for (size_t i = 0; i < rows.n; i++) {
		const sim_trace_node *row = &rows.items[i];
		sim_node_shape *shape = g_new0(sim_node_shape, 1);

		shape->cpu_milli = row->cpu_milli;
		shape->memory = row->memory_mib << 20;
		shape->pods = config->max_pods;
		shape->gpus = row->gpu;
		shape->gpu_model = g_strdup(row->model);
		shape->name = row->gpu > 0 ?
				      g_strdup_printf("%lldm-%lldMi-%dx%s",
						      (long long)row->cpu_milli,
						      (long long)row->memory_mib, row->gpu,
						      row->model != NULL ? row->model : "gpu") :
				      g_strdup_printf("%lldm-%lldMi", (long long)row->cpu_milli,
						      (long long)row->memory_mib);
		plan_add(plan, g_strdup(row->name), shape);
	}
	plan->description = g_strdup(config->node_list);
	sim_trace_nodes_release(&rows);
	return 0;
}

static int plan_cluster(const sim_churn_config *config, cluster_plan *plan,
			score_error *err)
{
	plan->names = g_ptr_array_new_with_free_func(g_free);
	plan->shapes = g_ptr_array_new();
	if (config->node_list != NULL)
		return plan_from_node_list(config, plan, err);
	return plan_from_template(config, plan, err);
}

static int add_nodes(const sim_churn_config *config, const cluster_plan *plan,
		     sim_engine *engine, score_error *err)
{
	if (plan->kube != NULL)
		return sim_kube_nodes_add(plan->kube, engine, err);
	for (guint i = 0; i < plan->names->len; i++) {
		char zone[32];
		char rack[48];
		bool labels = config->zones > 0;
		int ret;

		if (labels)
			sim_topology_labels(i, config->zones, MAX(config->racks, 1), zone,
					    sizeof(zone), rack, sizeof(rack));
		ret = sim_engine_add_node(engine, plan->names->pdata[i],
					  plan->shapes->pdata[i], labels ? zone : NULL,
					  labels ? rack : NULL, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- Run ----------------------------------------------------------------- */

/* Everything one run holds, released in one place. */
typedef struct run_state {
	cluster_plan plan;
	GPtrArray *node_events; /* sim_node_event *, until the engine takes them */
	score_gpu_models models;
	score_gpu_typical *typical;
	sim_generator *generator;
	sim_trace_source *trace;
	sim_mapping *mapping;        /* with a generic trace */
	sim_mapped_source *mapped;   /* with a generic trace */
	sim_kube_pods *kube_pods;    /* with Pod manifests */
	int64_t trace_end_ms; /* last departure if no pod waited */
	sim_source source;
	sim_engine *engine;
	sim_metrics metrics;
	bool metrics_ready;
	sim_progress progress;
	sim_params params;
	sim_fit_check *fit;
	GPtrArray *warnings; /* char *, owned */
	sim_policy_run policy_run; /* the engine borrows its resources */
} run_state;

static void run_state_release(run_state *state)
{
	sim_engine_free(state->engine);
	if (state->metrics_ready)
		sim_metrics_release(&state->metrics);
	sim_trace_source_free(state->trace);
	sim_mapped_source_free(state->mapped);
	sim_mapping_free(state->mapping);
	sim_kube_pods_free(state->kube_pods);
	sim_generator_free(state->generator);
	score_gpu_typical_free(state->typical);
	score_gpu_models_release(&state->models);
	for (guint i = 0; state->node_events != NULL && i < state->node_events->len; i++) {
		sim_node_event_release(state->node_events->pdata[i]);
		g_free(state->node_events->pdata[i]);
	}
	if (state->node_events != NULL)
		g_ptr_array_free(state->node_events, TRUE);
	cluster_plan_release(&state->plan);
	sim_params_release(&state->params);
	sim_fit_check_free(state->fit);
	if (state->warnings != NULL)
		g_ptr_array_free(state->warnings, TRUE);
	sim_policy_run_release(&state->policy_run);
}

static bool events_have_gpus(const GPtrArray *events)
{
	for (guint i = 0; i < events->len; i++) {
		const sim_node_event *event = events->pdata[i];

		if (event->kind == SIM_NODE_ADD && event->shape.gpus > 0)
			return true;
	}
	return false;
}

/* Wall time between two progress lines of the scan before a run. */
#define SCAN_PROGRESS_US (10 * G_USEC_PER_SEC)

/* Progress of the scan that reads a trace before its run. */
typedef struct scan_progress {
	const char *path;
	int64_t last_us; /* wall clock of the last line, or of the start */
} scan_progress;

static void on_scan_progress(void *data, uint64_t pods, double fraction)
{
	scan_progress *scan = data;
	int64_t now_us = g_get_monotonic_time();
	char count[48];

	if (now_us - scan->last_us < SCAN_PROGRESS_US)
		return;
	scan->last_us = now_us;
	sim_format_count_noun(pods, "pod", "pods", count, sizeof(count));
	if (fraction >= 0)
		fprintf(stderr, "stowage sim: reading %s before the run: %.1f%% read, %s so far\n",
			scan->path, 100.0 * fraction, count);
	else
		fprintf(stderr, "stowage sim: reading %s before the run: %s so far\n",
			scan->path, count);
}

/* Fills `control` to stop the scan before a run on SIGINT or SIGTERM and
 * to report its progress through `progress`. */
static void scan_control_init(const sim_churn_config *config, scan_progress *progress,
			      sim_scan_control *control)
{
	progress->path = config->pods_path;
	progress->last_us = g_get_monotonic_time();
	memset(control, 0, sizeof(*control));
	control->stop = config->stop;
	control->progress = config->progress ? on_scan_progress : NULL;
	control->progress_data = progress;
}

/* A generic trace is read twice, like a pod list: once for the typical
 * pods, the fit check and the sample interval, then for the replay. */
static int open_mapped_trace(const sim_churn_config *config, run_state *state,
			     bool gpus, score_error *err)
{
	sim_mapped_source *scan = NULL;
	sim_source source;
	scan_progress progress;
	sim_scan_control control;
	int ret = sim_mapping_load(config->mapping_path, &state->mapping, err);

	scan_control_init(config, &progress, &control);

	if (ret == 0)
		ret = sim_mapped_source_open(config->pods_path, state->mapping, &config->read,
					     &scan, &source, err);
	control.mapped = scan;
	if (ret == 0)
		ret = sim_source_scan_controlled(&source, &control,
						 gpus ? &state->typical : NULL, state->fit,
						 &state->trace_end_ms, err);
	sim_mapped_source_free(scan);
	if (ret == 0)
		ret = sim_mapped_source_open(config->pods_path, state->mapping, &config->read,
					     &state->mapped, &state->source, err);
	return ret;
}

/* Opens Pod manifests; returns 1 without doing anything when the pod
 * file is a CSV pod list. */
static int open_kube_pods(const sim_churn_config *config, run_state *state,
			  bool gpus, score_error *err)
{
	bool manifest = false;
	int ret = sim_kube_sniff(config->pods_path, &manifest, err);

	if (ret < 0)
		return ret;
	if (!manifest)
		return 1;
	ret = sim_kube_pods_read(config->pods_path, &state->kube_pods, err);
	if (ret < 0)
		return ret;
	/* Printed with the fit check's warnings, before the run starts. */
	for (guint i = 0; i < sim_kube_pods_warnings(state->kube_pods)->len; i++)
		g_ptr_array_add(state->warnings,
				g_strdup(sim_kube_pods_warnings(state->kube_pods)->pdata[i]));
	sim_kube_pods_source(state->kube_pods, &state->source);
	ret = sim_source_scan(&state->source, gpus ? &state->typical : NULL, state->fit,
			      &state->trace_end_ms, err);
	/* The replay starts from the first pod again. */
	sim_kube_pods_source(state->kube_pods, &state->source);
	return ret;
}

/* Checks that the pod list or trace is a regular file: it is read twice,
 * once to size the run and once to replay it, and a pipe gives its rows
 * only once. A path that does not exist is left to the reader's message. */
static int check_regular_file(const sim_churn_config *config, score_error *err)
{
	const char *option = config->mapping_path != NULL ? "--trace" : "--pods";
	struct stat info;

	if (stat(config->pods_path, &info) != 0)
		return 0;
	if (S_ISDIR(info.st_mode))
		return score_fail(err, -EISDIR, "%s %s: is a directory: give the file inside it",
				  option, config->pods_path);
	if (!S_ISREG(info.st_mode))
		return score_fail(err, -EINVAL,
				  "%s %s: not a regular file but a pipe, terminal or device, and the file is read twice (to size the run, then to replay it): write it to a file first, e.g. zcat trace.csv.gz > trace.csv",
				  option, config->pods_path);
	return 0;
}

static int open_workload(const sim_churn_config *config, run_state *state,
			 bool gpus, score_error *err)
{
	sim_trace_source *scan = NULL;
	sim_source scan_source;
	scan_progress progress;
	sim_scan_control control;
	int ret;

	if (config->pods_path != NULL) {
		ret = check_regular_file(config, err);
		if (ret < 0)
			return ret;
	}
	if (config->pods_path == NULL) {
		state->generator = sim_generator_new(&config->generator);
		sim_generator_source(state->generator, &state->source);
		if (gpus)
			state->typical = sim_generator_typical(&config->generator);
		return 0;
	}
	if (config->mapping_path != NULL)
		return open_mapped_trace(config, state, gpus, err);
	ret = open_kube_pods(config, state, gpus, err);
	if (ret <= 0)
		return ret;
	/* One pass first, for the typical pods, the pods that fit no node
	 * and the sample interval. */
	scan_control_init(config, &progress, &control);
	ret = sim_trace_source_open(config->pods_path, &config->read, &state->models, &scan,
				    &scan_source, err);
	if (ret == 0)
		ret = sim_source_scan_controlled(&scan_source, &control,
						 gpus ? &state->typical : NULL, state->fit,
						 &state->trace_end_ms, err);
	sim_trace_source_free(scan);
	if (ret < 0)
		return ret;
	return sim_trace_source_open(config->pods_path, &config->read, &state->models,
				     &state->trace, &state->source, err);
}

/* Checks every pod shape against the node shapes of the cluster, those
 * added by node events included. */
static void check_fit_start(run_state *state)
{
	state->fit = sim_fit_check_new(&state->models);
	for (guint i = 0; i < state->plan.names->len; i++)
		sim_fit_check_add_node(state->fit, state->plan.names->pdata[i],
				       state->plan.shapes->pdata[i]);
	for (guint i = 0; i < state->node_events->len; i++) {
		const sim_node_event *event = state->node_events->pdata[i];

		if (event->kind == SIM_NODE_ADD)
			sim_fit_check_add_node(state->fit, event->node, &event->shape);
	}
}

/* True when the policy's pipeline has the bandwidth filter, which it has
 * only with spec.bandwidth. */
static bool policy_filters_bandwidth(const sim_policy_run *run)
{
	const score_pipeline *pipeline;

	if (run->policy == NULL)
		return false;
	pipeline = pol_policy_pipeline(run->policy);
	for (size_t i = 0; i < pipeline->n_filters; i++) {
		if (pipeline->filters[i].run == score_filter_bandwidth)
			return true;
	}
	return false;
}

/* Warns about pods whose bandwidth annotations exceed every node's
 * capacity in one direction. Nodes that node events add have no labels,
 * so the policy's default capacity applies to them. */
static void check_bandwidth_fit(const sim_churn_config *config, run_state *state)
{
	const score_bandwidth_config *bandwidth;
	const score_model *model = sim_engine_model(state->engine);
	score_node unlabeled = {0};

	if (!policy_filters_bandwidth(&state->policy_run))
		return;
	bandwidth = pol_policy_bandwidth(state->policy_run.policy);
	for (int d = 0; d < 2; d++) {
		bool ingress = d == 0;
		bool limited = true;
		int64_t largest = -1;
		const char *largest_node = NULL;
		int64_t capacity;

		for (guint i = 0; limited && i < state->plan.names->len; i++) {
			const score_node *node = score_model_node(model, state->plan.names->pdata[i]);

			if (node == NULL)
				continue;
			limited = score_bandwidth_capacity(bandwidth, node, ingress, &capacity);
			if (limited && capacity > largest) {
				largest = capacity;
				largest_node = node->name;
			}
		}
		for (guint i = 0; limited && i < state->node_events->len; i++) {
			const sim_node_event *event = state->node_events->pdata[i];

			if (event->kind != SIM_NODE_ADD)
				continue;
			limited = score_bandwidth_capacity(bandwidth, &unlabeled, ingress, &capacity);
			if (limited && capacity > largest) {
				largest = capacity;
				largest_node = event->node;
			}
		}
		if (limited && largest_node != NULL)
			sim_fit_check_bandwidth_warnings(state->fit, config->pods_path, ingress,
							 largest, largest_node, state->warnings);
	}
}

/* Collects the warnings of the fit check and prints them at once, so
 * that a long run that cannot place some pods can be stopped early. */
static void check_fit_finish(const sim_churn_config *config, run_state *state)
{
	sim_fit_check_warnings(state->fit, config->pods_path,
			       config->pods_path == NULL ? &config->generator : NULL,
			       state->warnings);
	check_bandwidth_fit(config, state);
	for (guint i = 0; i < state->warnings->len; i++)
		fprintf(stderr, "stowage sim run: warning: %s\n",
			(const char *)state->warnings->pdata[i]);
}

/* FGD scores nodes by their fragmentation against the workload's typical
 * pods, which only a workload with GPU pods has. */
static int check_fgd_workload(const sim_churn_config *config,
			      const run_state *state, bool gpus, score_error *err)
{
	if (config->policy.kind != SIM_POLICY_GPU || config->policy.gpu != SCORE_GPU_FGD ||
	    !gpus || state->typical != NULL)
		return 0;
	if (config->pods_path != NULL)
		return score_fail(err, -EINVAL,
				  "policy FGD places pods by GPU fragmentation, and the pod list %s has no pod with GPUs: replay a list with GPU pods or use another policy",
				  config->pods_path);
	return score_fail(err, -EINVAL,
			  "policy FGD places pods by GPU fragmentation, and no pod shape requests GPUs: add GPU shapes to --shapes, such as --shapes 60:1/4Gi,30:2/8Gi/500m,10:8/32Gi/2 (the third field: 500m is half a GPU, 2 is two GPUs)");
}

static void on_progress(void *data, int64_t now_ms, uint64_t arrivals,
			double fraction)
{
	sim_progress_update(data, now_ms, arrivals, fraction);
}

static char *describe_workload(const sim_churn_config *config,
			       const sim_engine_stats *stats)
{
	char duration[32];
	char pods[48];

	sim_format_count_noun(stats->arrivals, "pod", "pods", pods, sizeof(pods));
	if (config->pods_path != NULL)
		return g_strdup_printf("replay of %s (%s)", config->pods_path, pods);
	return g_strdup_printf("%s of synthetic churn (%s)",
			       sim_format_seconds((double)stats->end_ms / 1000.0, duration,
						  sizeof(duration)),
			       pods);
}

static void add_generator_params(const sim_generator_config *generator,
				 sim_params *params)
{
	GString *text = g_string_new(NULL);

	if (generator->process == SIM_ARRIVALS_DIURNAL)
		sim_params_add(params, "arrivals",
			       "diurnal, mean %g pods/h, amplitude %g, peak at %g:00",
			       generator->rate_per_hour, generator->amplitude,
			       generator->peak_hour);
	else
		sim_params_add(params, "arrivals", "Poisson, %g pods/h",
			       generator->rate_per_hour);
	for (size_t i = 0; i < generator->n_lifetimes; i++) {
		char median[32];

		g_string_append_printf(text, "%s%g:%s", i > 0 ? ", " : "",
				       generator->lifetimes[i].weight,
				       sim_format_seconds(generator->lifetimes[i].median_s,
							  median, sizeof(median)));
	}
	sim_params_add(params, "lifetimes (weight:median, lognormal)", "%s, sigma %g",
		       text->str, generator->lifetime_sigma);
	g_string_truncate(text, 0);
	for (size_t i = 0; i < generator->n_shapes; i++) {
		const sim_pod_shape *shape = &generator->shapes[i];

		g_string_append_printf(text, "%s%g:%lldm/%lldMi", i > 0 ? ", " : "",
				       shape->weight, (long long)shape->cpu_milli,
				       (long long)(shape->memory >> 20));
		if (shape->gpu_count > 0)
			g_string_append_printf(text, "/%dx%dm", shape->gpu_count,
					       shape->gpu_milli);
	}
	sim_params_add(params, "pod shapes (weight:cpu/memory[/gpu])", "%s", text->str);
	sim_params_add(params, "tenants", "%u, %u apps each", generator->tenants,
		       generator->apps_per_tenant);
	if (generator->max_pods > 0)
		sim_params_add(params, "max arrivals", "%llu",
			       (unsigned long long)generator->max_pods);
	g_string_free(text, TRUE);
}

static void fill_params(const sim_churn_config *config, const run_state *state,
			const sim_engine_config *engine_config,
			const sim_engine_stats *stats, sim_params *params)
{
	char text[64];

	if (config->command_line != NULL)
		sim_params_add(params, "command", "%s", config->command_line);
	if (state->policy_run.policy != NULL)
		sim_params_add(params, "policy", "file %s: policy \"%s\", sha256 %s",
			       config->policy.path, pol_policy_name(state->policy_run.policy),
			       pol_policy_digest(state->policy_run.policy));
	else
		sim_params_add(params, "policy", "%s", sim_policy_name(&config->policy));
	sim_params_add(params, "seed", "%u", config->generator.seed);
	sim_params_add(params, "random numbers",
		       "glib GRand (Mersenne Twister): the workload from seed %u, Random's draws from seed %u",
		       config->generator.seed, config->generator.seed + 1);
	sim_params_add(params, "cluster", "%s (%s)", state->plan.description,
		       sim_format_count_noun(state->plan.names->len, "node", "nodes", text,
					     sizeof(text)));
	if (config->zones > 0)
		sim_params_add(params, "topology", "%u zones, %u racks per zone",
			       config->zones, MAX(config->racks, 1));
	if (config->node_events != NULL)
		sim_params_add(params, "node events", "%s", config->node_events);
	if (config->mapping_path != NULL)
		sim_params_add(params, "workload", "trace %s read with the mapping spec %s",
			       config->pods_path, config->mapping_path);
	else if (config->pods_path != NULL)
		sim_params_add(params, "workload", "pod list %s", config->pods_path);
	else
		add_generator_params(&config->generator, params);
	sim_params_add(params, "simulated time", "%s",
		       sim_format_seconds((double)stats->end_ms / 1000.0, text, sizeof(text)));
	if (config->percentage_of_nodes_to_score > 0)
		sim_params_add(params, "percentage of nodes to score", "%d",
			       config->percentage_of_nodes_to_score);
	else
		sim_params_add(params, "percentage of nodes to score",
			       "adaptive (kube-scheduler's default)");
	sim_params_add(params, "scheduling queue",
		       "backoff %lld s doubling to %lld s; unschedulable pods flushed after %lld s, checked every %lld s",
		       (long long)engine_config->queue.initial_backoff_ms / 1000,
		       (long long)engine_config->queue.max_backoff_ms / 1000,
		       (long long)engine_config->queue.max_unschedulable_ms / 1000,
		       (long long)engine_config->queue.flush_interval_ms / 1000);
	sim_params_add(params, "NotReady eviction timeout", "%lld s",
		       (long long)engine_config->eviction_timeout_ms / 1000);
	sim_params_add(params, "sample interval", "%s",
		       sim_format_seconds((double)stats->sample_ms / 1000.0, text, sizeof(text)));
}

static int engine_setup(const sim_churn_config *config, run_state *state,
			bool gpus, sim_engine_config *engine_config,
			score_error *err)
{
	int ret;

	sim_engine_defaults(engine_config);
	engine_config->placement.policy = config->policy;
	engine_config->placement.percentage_of_nodes_to_score =
		config->percentage_of_nodes_to_score;
	engine_config->placement.gpus = gpus;
	engine_config->placement.typical = state->typical;
	engine_config->placement.seed = config->generator.seed + 1;
	engine_config->gpu_models = &state->models;
	engine_config->stop = config->stop;
	engine_config->skip_duplicate_names = config->read.skip_bad_rows;
	engine_config->end_ms = config->pods_path == NULL ? config->generator.duration_ms :
							    config->end_ms;
	if (config->sample_ms > 0) {
		engine_config->sample_ms = config->sample_ms;
	} else {
		/* A pod list runs past its last departure only when pods wait;
		 * the interval doubles then if the samples grow too many. */
		int64_t planned = engine_config->end_ms > 0 ? engine_config->end_ms :
							      state->trace_end_ms;

		engine_config->sample_ms = auto_sample_ms(MAX(planned, 1000));
		engine_config->max_samples = AUTO_MAX_SAMPLES;
	}

	ret = sim_policy_run_init(&state->policy_run, &config->policy, engine_config, err);
	if (ret == 0)
		ret = sim_engine_new(engine_config, &state->engine, err);
	if (ret == 0)
		ret = add_nodes(config, &state->plan, state->engine, err);
	for (guint i = 0; ret == 0 && i < state->node_events->len; i++)
		sim_engine_add_node_event(state->engine, state->node_events->pdata[i]);
	if (ret == 0)
		g_ptr_array_set_size(state->node_events, 0);
	return ret;
}

static int write_outputs(const sim_churn_config *config, run_state *state,
			 sim_churn_result *result, score_error *err)
{
	char *report = g_build_filename(config->out_dir, "report.html", NULL);
	int ret;

	ret = sim_metrics_write(&state->metrics, &result->summary, &state->params,
				config->out_dir, err);
	if (ret == 0)
		ret = sim_report_write(report, &state->metrics, &result->summary,
				       &state->params, err);
	if (ret == 0)
		result->report_path = g_steal_pointer(&report);
	g_free(report);
	return ret;
}

/* Warns, on stderr and in the outputs, when the policy's locality rules
 * found no peer: a run whose selectors match nothing otherwise looks
 * like one under the default scheduler. */
static void add_unused_locality_warning(run_state *state, const sim_summary *summary)
{
	char *warning = sim_policy_run_unused_locality(&state->policy_run, summary,
						       sim_engine_model(state->engine));

	if (warning == NULL)
		return;
	fprintf(stderr, "stowage sim run: warning: %s\n", warning);
	g_ptr_array_add(state->metrics.warnings, g_strdup(warning));
	g_ptr_array_add(state->warnings, warning);
}

int sim_churn_run(const sim_churn_config *config, sim_churn_result *result,
		  score_error *err)
{
	run_state state = {0};
	sim_engine_config engine_config;
	sim_observer observer;
	sim_source run_source;
	const sim_engine_stats *stats;
	const char *first_skipped = NULL;
	char *pods_csv = NULL;
	bool gpus;
	int ret;

	memset(result, 0, sizeof(*result));
	score_gpu_models_init(&state.models);
	sim_params_init(&state.params);
	state.node_events = g_ptr_array_new();
	state.warnings = g_ptr_array_new_with_free_func(g_free);

	ret = plan_cluster(config, &state.plan, err);
	if (ret == 0 && config->node_events != NULL)
		ret = sim_node_events_read(config->node_events, state.node_events, err);
	if (ret == 0)
		ret = sim_node_events_check(state.node_events, state.plan.names, err);
	if (ret < 0)
		goto out;
	gpus = state.plan.gpus || events_have_gpus(state.node_events);

	if (g_mkdir_with_parents(config->out_dir, 0755) != 0) {
		ret = score_fail(err, -errno, "cannot create the output directory %s: %s",
				 config->out_dir, g_strerror(errno));
		goto out;
	}
	check_fit_start(&state);
	ret = open_workload(config, &state, gpus, err);
	if (ret == 0)
		ret = check_fgd_workload(config, &state, gpus, err);
	if (ret == 0)
		ret = engine_setup(config, &state, gpus, &engine_config, err);
	if (ret < 0)
		goto out;
	if (state.kube_pods != NULL)
		sim_kube_pods_bind(state.kube_pods, sim_engine_model(state.engine));
	check_fit_finish(config, &state);

	pods_csv = g_build_filename(config->out_dir, "pods.csv", NULL);
	ret = sim_metrics_init(&state.metrics, pods_csv, gpus, err);
	state.metrics_ready = true;
	if (ret < 0)
		goto out;
	for (guint i = 0; i < state.warnings->len; i++)
		g_ptr_array_add(state.metrics.warnings, g_strdup(state.warnings->pdata[i]));
	sim_metrics_observer(&state.metrics, &observer);
	observer.progress = on_progress;
	observer.progress_data = &state.progress;
	sim_progress_init(&state.progress, stderr, config->progress_terminal,
			  config->progress, engine_config.end_ms);

	sim_policy_run_attach(&state.policy_run, state.engine, config->pods_path == NULL,
			      &state.metrics, &state.source, &run_source);
	ret = sim_engine_run(state.engine, &run_source, &observer, err);
	if (ret == 0)
		ret = sim_metrics_close(&state.metrics, err);
	if (ret < 0)
		goto out;
	stats = sim_engine_stats_of(state.engine);
	sim_progress_finish(&state.progress, stats->end_ms, stats->arrivals);
	if (state.trace != NULL &&
	    sim_trace_source_skipped(state.trace, &first_skipped) > 0)
		note_skipped(config->pods_path, sim_trace_source_skipped(state.trace, NULL),
			     first_skipped, &state.metrics);
	if (state.mapped != NULL &&
	    sim_mapped_source_skipped(state.mapped, &first_skipped) > 0)
		note_skipped(config->pods_path, sim_mapped_source_skipped(state.mapped, NULL),
			     first_skipped, &state.metrics);
	note_skipped_duplicates(config->pods_path, stats, &state.metrics);

	sim_metrics_summarize(&state.metrics, stats,
			      (double)(g_get_monotonic_time() - state.progress.start_us) / 1e6,
			      &result->summary);
	if (state.mapped != NULL) {
		sim_mapped_end_counts ends;

		sim_mapped_source_consumed_end_counts(state.mapped, stats->end_ms, &ends);
		result->summary.ends = ends.matched + ends.unmatched + ends.open > 0;
		result->summary.unmatched_ends += ends.unmatched;
		result->summary.never_ended = ends.open;
	}
	add_unused_locality_warning(&state, &result->summary);
	result->nodes = state.plan.names->len;
	result->workload = describe_workload(config, stats);
	result->warnings = g_steal_pointer(&state.warnings);
	fill_params(config, &state, &engine_config, stats, &state.params);
	ret = write_outputs(config, &state, result, err);

out:
	if (ret < 0)
		sim_churn_result_release(result);
	g_free(pods_csv);
	run_state_release(&state);
	return ret;
}

static double share_pct(uint64_t part, uint64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* "p50 0 s, p90 12 s, p99 5m31s, max 2h05m", or "n/a" without pods. */
static void print_percentiles(const sim_pending_stats *stats, FILE *out)
{
	char p50[32];
	char p90[32];
	char p99[32];
	char max[32];

	if (stats->pods == 0) {
		fputs("n/a", out);
		return;
	}
	fprintf(out, "p50 %s, p90 %s, p99 %s, max %s",
		sim_format_seconds(stats->p50_s, p50, sizeof(p50)),
		sim_format_seconds(stats->p90_s, p90, sizeof(p90)),
		sim_format_seconds(stats->p99_s, p99, sizeof(p99)),
		sim_format_seconds(stats->max_s, max, sizeof(max)));
}

/* The lines about pods that never started and pending times. */
static void print_pending(const sim_summary *s, FILE *out)
{
	char arrived[48];
	char count[48];
	char wait[32];

	sim_format_count_noun(s->arrived, "pod", "pods", arrived, sizeof(arrived));
	fprintf(out, "  never started: %s of %s (%.1f%%)",
		sim_format_count(s->never_started, count, sizeof(count)), arrived,
		share_pct(s->never_started, s->arrived));
	if (s->never_started > 0)
		fprintf(out, ", waiting up to %s at the end",
			sim_format_seconds(s->never_started_longest_s, wait, sizeof(wait)));
	fputc('\n', out);

	if (s->started == 0) {
		fputs("  pending time of started pods: n/a, no pod started\n", out);
	} else {
		fprintf(out, "  pending time of the %s: ",
			sim_format_count_noun(s->started, "started pod", "started pods", count,
					      sizeof(count)));
		print_percentiles(&s->pending_started, out);
		fprintf(out, "; %s of them without waiting\n",
			sim_format_count(s->pending_started.no_wait, count, sizeof(count)));
	}
	if (s->never_started > 0) {
		fprintf(out, "  pending time of all %s, counting never-started ones until the end (lower bounds): ",
			arrived);
		print_percentiles(&s->pending_all, out);
		fputc('\n', out);
	}
}

/* The line about the end rows of a trace with an end section. */
static void print_ends(const sim_summary *s, FILE *out)
{
	char ended[48];
	char waiting[32];
	char unmatched[48];
	char open[48];

	fprintf(out, "  end rows: %s (%s of them waiting), %s matched no pod; %s never ended\n",
		sim_format_count_noun(s->ended, "pod ended", "pods ended", ended, sizeof(ended)),
		sim_format_count(s->ended_waiting, waiting, sizeof(waiting)),
		sim_format_count_noun(s->unmatched_ends, "row", "rows", unmatched, sizeof(unmatched)),
		sim_format_count_noun(s->never_ended, "pod", "pods", open, sizeof(open)));
}

void sim_churn_print_summary(const sim_churn_config *config,
			     const sim_churn_result *result, FILE *out)
{
	const sim_summary *s = &result->summary;
	char nodes[48];
	char peak[48];
	char peak_time[32];
	char waiting[48];
	char attempts[48];
	char failed[32];
	char nodes_used[96];

	fprintf(out, "stowage sim: %s, %s, policy %s, seed %u\n",
		sim_format_count_noun(result->nodes, "node", "nodes", nodes, sizeof(nodes)),
		result->workload, sim_policy_name(&config->policy), config->generator.seed);
	print_pending(s, out);
	fprintf(out, "  peak pending: %s at %s; pending at the end: %s\n",
		sim_format_count_noun(s->peak_pending, "pod", "pods", peak, sizeof(peak)),
		sim_format_seconds(s->peak_pending_s, peak_time, sizeof(peak_time)),
		sim_format_count_noun(s->pending_at_end, "pod", "pods", waiting, sizeof(waiting)));
	fprintf(out, "  mean allocation: cpu %.1f%%, memory %.1f%%", s->cpu_mean_pct,
		s->memory_mean_pct);
	if (s->gpus)
		fprintf(out, ", gpu %.1f%% (%.1f%% of GPUs fragmented)", s->gpu_mean_pct,
			s->gpu_frag_mean_pct);
	fprintf(out, "\n  mean nodes used: %s; %s, %s failed\n",
		sim_format_nodes_used(s, nodes_used, sizeof(nodes_used)),
		sim_format_count_noun(s->attempts, "scheduling attempt", "scheduling attempts",
				      attempts, sizeof(attempts)),
		sim_format_count(s->failed_attempts, failed, sizeof(failed)));
	if (s->ends)
		print_ends(s, out);
	for (guint i = 0; result->warnings != NULL && i < result->warnings->len; i++)
		fprintf(out, "warning: %s\n", (const char *)result->warnings->pdata[i]);
	fprintf(out, "report: %s\n", result->report_path);
}

/* ---- Command line -------------------------------------------------------- */

/* Options of `run`, as strings until checked. */
typedef struct run_options {
	char *out;
	char *nodes;
	char *cluster;
	char *zones;
	char *racks;
	char *max_pods;
	char *node_events;
	char *pods;
	char *trace;
	char *mapping;
	char *policy;
	char *seed;
	char *duration;
	char *arrivals;
	char *rate;
	char *amplitude;
	char *peak_hour;
	char *max_arrivals;
	char *lifetimes;
	char *lifetime_sigma;
	char *shapes;
	char *tenants;
	char *apps;
	char *percentage;
	char *sample_interval;
	gboolean skip_bad_rows;
	gboolean quiet;
} run_options;

static void run_options_release(run_options *options)
{
	char **fields[] = {
		&options->out, &options->nodes, &options->cluster, &options->zones,
		&options->racks, &options->max_pods, &options->node_events,
		&options->pods, &options->trace, &options->mapping,
		&options->policy, &options->seed, &options->duration,
		&options->arrivals, &options->rate, &options->amplitude,
		&options->peak_hour, &options->max_arrivals, &options->lifetimes,
		&options->lifetime_sigma, &options->shapes, &options->tenants,
		&options->apps, &options->percentage, &options->sample_interval,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		g_free(*fields[i]);
}

static int parse_integer(const char *option, const char *text, long long min,
			 long long max, long long *out, score_error *err)
{
	char *end = NULL;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return score_fail(err, -EINVAL,
				  "invalid %s \"%s\": give a whole number from %lld to %lld",
				  option, text, min, max);
	*out = value;
	return 0;
}

static int parse_real(const char *option, const char *text, double min,
		      double max, double *out, score_error *err)
{
	char *end = NULL;
	double value = g_ascii_strtod(text, &end);

	if (end == text || *end != '\0' || !isfinite(value) || value < min || value > max)
		return score_fail(err, -EINVAL,
				  "invalid %s \"%s\": give a number from %g to %g",
				  option, text, min, max);
	*out = value;
	return 0;
}

static int cluster_options(const run_options *options, sim_churn_config *config,
			   score_error *err)
{
	long long number = 0;
	int ret = 0;

	if (options->nodes != NULL && options->cluster != NULL)
		return score_fail(err, -EINVAL,
				  "--nodes and --cluster both give the cluster: use one");
	config->node_list = options->nodes;
	if (options->cluster != NULL) {
		sim_template tmpl;

		/* Parsed here so that a bad template is a usage error; the
		 * run parses it again into nodes. */
		ret = sim_template_parse(options->cluster, &tmpl, err);
		if (ret < 0)
			return ret;
		sim_template_release(&tmpl);
		config->template_text = options->cluster;
	}
	/* Node lists get topology labels only when asked for. */
	if (options->nodes != NULL)
		config->zones = 0;
	if (options->zones != NULL) {
		ret = parse_integer("--zones", options->zones, 0, SIM_MAX_ZONES, &number, err);
		config->zones = (uint32_t)number;
	}
	if (ret == 0 && options->racks != NULL) {
		ret = parse_integer("--racks", options->racks, 1, 10000, &number, err);
		config->racks = (uint32_t)number;
	}
	if (ret == 0 && options->max_pods != NULL) {
		ret = parse_integer("--max-pods", options->max_pods, 1, 100000, &number, err);
		config->max_pods = number;
	}
	config->node_events = options->node_events;
	return ret;
}

/* Rejects the options of the synthetic workload when a pod list or trace
 * gives the workload instead, rather than ignoring them. */
static int check_generator_unused(const run_options *options, score_error *err)
{
	const struct {
		const char *name;
		const char *value;
	} generator_options[] = {
		{"--arrivals", options->arrivals},
		{"--rate", options->rate},
		{"--amplitude", options->amplitude},
		{"--peak-hour", options->peak_hour},
		{"--max-arrivals", options->max_arrivals},
		{"--lifetimes", options->lifetimes},
		{"--lifetime-sigma", options->lifetime_sigma},
		{"--shapes", options->shapes},
		{"--tenants", options->tenants},
		{"--apps", options->apps},
	};
	const char *workload = options->trace != NULL ? "--trace" : "--pods";

	if (options->trace == NULL && options->pods == NULL)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(generator_options); i++)
		if (generator_options[i].value != NULL)
			return score_fail(err, -EINVAL,
					  "%s cannot go with %s: it shapes the synthetic workload, which %s replaces; drop %s",
					  generator_options[i].name, workload, workload,
					  generator_options[i].name);
	return 0;
}

static int workload_options(const run_options *options, sim_churn_config *config,
			    score_error *err)
{
	sim_generator_config *generator = &config->generator;
	long long number = 0;
	int64_t duration = 0;
	int ret = 0;

	if (options->trace != NULL && options->pods != NULL)
		return score_fail(err, -EINVAL,
				  "--pods and --trace both give the workload: use one");
	if ((options->trace == NULL) != (options->mapping == NULL))
		return score_fail(err, -EINVAL,
				  "--trace and --mapping go together: --trace FILE names the trace, --mapping SPEC the mapping spec that describes its columns");
	config->pods_path = options->trace != NULL ? options->trace : options->pods;
	config->mapping_path = options->mapping;
	ret = check_generator_unused(options, err);
	if (ret < 0)
		return ret;
	if (options->duration != NULL) {
		ret = sim_parse_duration(options->duration, &duration, err);
		if (ret == 0 && duration <= 0)
			ret = score_fail(err, -EINVAL,
					 "invalid --duration \"%s\": give a positive duration such as 24h",
					 options->duration);
		generator->duration_ms = duration;
		config->end_ms = duration;
	}
	if (ret == 0 && options->arrivals != NULL) {
		if (strcmp(options->arrivals, "poisson") == 0)
			generator->process = SIM_ARRIVALS_POISSON;
		else if (strcmp(options->arrivals, "diurnal") == 0)
			generator->process = SIM_ARRIVALS_DIURNAL;
		else
			ret = score_fail(err, -EINVAL,
					 "invalid --arrivals \"%s\": use poisson or diurnal",
					 options->arrivals);
	}
	if (ret == 0 && options->rate != NULL)
		ret = parse_real("--rate", options->rate, 1e-6, 1e9,
				 &generator->rate_per_hour, err);
	if (ret == 0 && options->amplitude != NULL)
		ret = parse_real("--amplitude", options->amplitude, 0, 1,
				 &generator->amplitude, err);
	if (ret == 0 && options->peak_hour != NULL)
		ret = parse_real("--peak-hour", options->peak_hour, 0, 24,
				 &generator->peak_hour, err);
	if (ret == 0 && options->max_arrivals != NULL) {
		ret = parse_integer("--max-arrivals", options->max_arrivals, 1,
				    1000000000000LL, &number, err);
		generator->max_pods = (uint64_t)number;
	}
	if (ret == 0 && options->lifetimes != NULL)
		ret = sim_generator_parse_lifetimes(options->lifetimes, generator, err);
	if (ret == 0 && options->lifetime_sigma != NULL)
		ret = parse_real("--lifetime-sigma", options->lifetime_sigma, 0, 5,
				 &generator->lifetime_sigma, err);
	if (ret == 0 && options->shapes != NULL)
		ret = sim_generator_parse_shapes(options->shapes, generator, err);
	if (ret == 0 && options->tenants != NULL) {
		ret = parse_integer("--tenants", options->tenants, 1, 10000, &number, err);
		generator->tenants = (uint32_t)number;
	}
	if (ret == 0 && options->apps != NULL) {
		ret = parse_integer("--apps", options->apps, 1, 10000, &number, err);
		generator->apps_per_tenant = (uint32_t)number;
	}
	if (ret == 0)
		ret = sim_generator_validate(generator, err);
	return ret;
}

static int run_config(const run_options *options, sim_churn_config *config,
		      score_error *err)
{
	long long number = 0;
	int ret;

	sim_churn_defaults(config);
	if (options->out != NULL)
		config->out_dir = options->out;
	config->read.skip_bad_rows = options->skip_bad_rows;
	config->progress = !options->quiet;
	config->progress_terminal = isatty(STDERR_FILENO) != 0;

	ret = cluster_options(options, config, err);
	if (ret == 0)
		ret = workload_options(options, config, err);
	if (ret == 0 && options->policy != NULL)
		ret = sim_policy_parse(options->policy, &config->policy, err);
	/* A policy file is checked here, so that its errors are usage
	 * errors; the run loads it again into its own resource table. */
	if (ret == 0 && config->policy.kind == SIM_POLICY_FILE)
		ret = sim_policy_file_check(config->policy.path, err);
	if (ret == 0 && options->seed != NULL) {
		ret = parse_integer("--seed", options->seed, 0, UINT32_MAX - 1, &number, err);
		config->generator.seed = (uint32_t)number;
	}
	if (ret == 0 && options->percentage != NULL) {
		ret = parse_integer("--percentage-of-nodes-to-score", options->percentage, 0,
				    100, &number, err);
		config->percentage_of_nodes_to_score = (int)number;
	}
	if (ret == 0 && options->sample_interval != NULL) {
		ret = sim_parse_duration(options->sample_interval, &config->sample_ms, err);
		if (ret == 0 && config->sample_ms < 1000)
			ret = score_fail(err, -EINVAL,
					 "invalid --sample-interval \"%s\": give at least 1s",
					 options->sample_interval);
	}
	return ret;
}

/* Parses `argv` (argv[0] is the subcommand) with `entries`. With `help`
 * false, --help is an unknown option instead of printing the help and
 * ending the process. */
static int parse_arguments(GOptionEntry *entries, int argc, char **argv, bool help,
			   score_error *err)
{
	GOptionContext *context = g_option_context_new("- simulate pod churn on a cluster and write a report");
	char **args = g_new0(char *, argc + 1);
	int n_args = argc;
	GError *error = NULL;
	int ret = 0;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_set_help_enabled(context, help);
	g_option_context_set_description(context,
		"Without options: 50 nodes in 3 zones, 24 h of diurnal synthetic churn,\n"
		"policy kube-default, seed 42, outputs in ./" SIM_DEFAULT_OUT_DIR ".\n"
		"docs/simulator.md describes every option and output.");
	memcpy(args, argv, sizeof(*args) * (size_t)argc);
	if (!g_option_context_parse(context, &n_args, &args, &error)) {
		ret = score_fail(err, -EINVAL, "%s", error->message);
		g_error_free(error);
	} else if (n_args > 1) {
		ret = score_fail(err, -EINVAL, "unexpected argument \"%s\"", args[1]);
	}
	g_free(args);
	g_option_context_free(context);
	return ret;
}

/* The command as typed, for the report. */
static char *command_text(int argc, char **argv)
{
	GString *line = g_string_new("stowage sim");

	for (int i = 0; i < argc; i++) {
		char *quoted = g_shell_quote(argv[i]);
		bool plain = argv[i][0] != '\0' && strpbrk(argv[i], " '\"\\$`*?;&|<>()") == NULL;

		g_string_append_printf(line, " %s", plain ? argv[i] : quoted);
		g_free(quoted);
	}
	return g_string_free(line, FALSE);
}

/* Parses the options of `run` (argv[0] is "run") into `config`, which
 * borrows strings from `options`. Fails with -EINVAL and a message in
 * `err`; `help` as parse_arguments() takes it. */
static int parse_run(int argc, char **argv, bool help, run_options *options,
		     sim_churn_config *config, score_error *err)
{
	GOptionEntry entries[] = {
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &options->out,
		 "Output directory, created when missing (default ./" SIM_DEFAULT_OUT_DIR ")", "DIR"},
		{"cluster", 0, 0, G_OPTION_ARG_STRING, &options->cluster,
		 "Cluster template COUNTxCPU/MEMORY[/PODS[/GPUS[/MODEL]]],... (default " SIM_DEFAULT_TEMPLATE ")", "TEMPLATE"},
		{"nodes", 0, 0, G_OPTION_ARG_FILENAME, &options->nodes,
		 "openb node list CSV, or a Kubernetes Node list (YAML or JSON), instead of a template", "FILE"},
		{"zones", 0, 0, G_OPTION_ARG_STRING, &options->zones,
		 "Zones the nodes are spread over, round-robin; 0 for no zone labels (default 3 for templates, 0 for node lists)", "N"},
		{"racks", 0, 0, G_OPTION_ARG_STRING, &options->racks,
		 "Racks per zone (default 2)", "N"},
		{"max-pods", 0, 0, G_OPTION_ARG_STRING, &options->max_pods,
		 "Pod capacity of node-list nodes (default 110)", "N"},
		{"node-events", 0, 0, G_OPTION_ARG_FILENAME, &options->node_events,
		 "CSV of node events: time,event,node[,shape,zone,rack]", "FILE"},
		{"pods", 0, 0, G_OPTION_ARG_FILENAME, &options->pods,
		 "openb pod list CSV, or Kubernetes Pod manifests (YAML or JSON), to replay instead of synthetic churn", "FILE"},
		{"trace", 0, 0, G_OPTION_ARG_FILENAME, &options->trace,
		 "CSV or JSON-lines pod trace to replay, read through --mapping", "FILE"},
		{"mapping", 0, 0, G_OPTION_ARG_FILENAME, &options->mapping,
		 "Mapping spec (YAML) naming the columns and units of --trace", "SPEC"},
		{"policy", 0, 0, G_OPTION_ARG_STRING, &options->policy,
		 "kube-default (default), kube-most-allocated, a GPU policy (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD), or a SchedulingPolicy file", "NAME|FILE"},
		{"seed", 0, 0, G_OPTION_ARG_STRING, &options->seed,
		 "Seed of the random generators (default 42)", "N"},
		{"duration", 0, 0, G_OPTION_ARG_STRING, &options->duration,
		 "Simulated time: arrivals for synthetic churn (default 24h), a stop time for pod lists", "DURATION"},
		{"arrivals", 0, 0, G_OPTION_ARG_STRING, &options->arrivals,
		 "Arrival process: diurnal (default) or poisson", "PROCESS"},
		{"rate", 0, 0, G_OPTION_ARG_STRING, &options->rate,
		 "Mean arrival rate in pods per hour (default 190)", "PODS_PER_HOUR"},
		{"amplitude", 0, 0, G_OPTION_ARG_STRING, &options->amplitude,
		 "Diurnal swing of the rate, 0 to 1 (default 0.5)", "X"},
		{"peak-hour", 0, 0, G_OPTION_ARG_STRING, &options->peak_hour,
		 "Hour of the highest diurnal rate, 0 to 24 (default 14)", "H"},
		{"max-arrivals", 0, 0, G_OPTION_ARG_STRING, &options->max_arrivals,
		 "Stop synthetic arrivals after this many pods", "N"},
		{"lifetimes", 0, 0, G_OPTION_ARG_STRING, &options->lifetimes,
		 "Lifetime mix WEIGHT:MEDIAN,... (default " SIM_DEFAULT_LIFETIMES ")", "MIX"},
		{"lifetime-sigma", 0, 0, G_OPTION_ARG_STRING, &options->lifetime_sigma,
		 "Sigma of the lognormal lifetimes (default 0.5)", "X"},
		{"shapes", 0, 0, G_OPTION_ARG_STRING, &options->shapes,
		 "Pod shapes WEIGHT:CPU/MEMORY[/GPU],... (default " SIM_DEFAULT_SHAPES ")", "TABLE"},
		{"tenants", 0, 0, G_OPTION_ARG_STRING, &options->tenants,
		 "Tenants (namespaces) of synthetic pods (default 8)", "N"},
		{"apps", 0, 0, G_OPTION_ARG_STRING, &options->apps,
		 "App labels per tenant (default 4)", "N"},
		{"percentage-of-nodes-to-score", 0, 0, G_OPTION_ARG_STRING, &options->percentage,
		 "kube-scheduler's percentageOfNodesToScore, 1 to 100; 0 for its adaptive default (default 0)", "N"},
		{"sample-interval", 0, 0, G_OPTION_ARG_STRING, &options->sample_interval,
		 "Time between samples of the time series (default: about 1440 samples)", "DURATION"},
		{"skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &options->skip_bad_rows,
		 "Count and skip malformed trace rows instead of failing", NULL},
		{"quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet,
		 "Print no progress on stderr", NULL},
		G_OPTION_ENTRY_NULL,
	};

	int ret = parse_arguments(entries, argc, argv, help, err);

	if (ret == 0)
		ret = run_config(options, config, err);
	return ret;
}

int sim_churn_check_args(const GPtrArray *args, score_error *err)
{
	run_options options = {0};
	sim_churn_config config;
	GPtrArray *argv = g_ptr_array_new();
	int ret;

	g_ptr_array_add(argv, (gpointer) "run");
	for (guint i = 0; i < args->len; i++)
		g_ptr_array_add(argv, args->pdata[i]);
	g_ptr_array_add(argv, NULL);
	ret = parse_run((int)argv->len - 1, (char **)argv->pdata, false, &options, &config, err);
	g_ptr_array_free(argv, TRUE);
	run_options_release(&options);
	return ret;
}

/* The number of the SIGINT or SIGTERM that asked `run` to stop, else 0. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signal_number)
{
	stop_signal = signal_number;
}

/* Lets SIGINT and SIGTERM end the run early with its outputs written;
 * `old` keeps the previous handlers. A second signal ends the process at
 * once (SA_RESETHAND). */
static void catch_stop_signals(struct sigaction old[2])
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	action.sa_flags = SA_RESTART | SA_RESETHAND;
	stop_signal = 0;
	sigaction(SIGINT, &action, &old[0]);
	sigaction(SIGTERM, &action, &old[1]);
}

static void restore_stop_signals(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* Prints the summary of a finished run, or of one a signal stopped, and
 * returns the exit status: 0, or 128 plus the signal number. */
static int finish_run(const sim_churn_config *config, const sim_churn_result *result)
{
	char clock[32];

	sim_churn_print_summary(config, result, stdout);
	if (!result->summary.interrupted)
		return 0;
	fflush(stdout);
	fprintf(stderr,
		"stowage sim run: interrupted by %s at simulated time %s; the outputs in %s cover the run until then, and summary.json has \"interrupted\": true\n",
		stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
		sim_format_clock((int64_t)(result->summary.simulated_s * 1000), clock, sizeof(clock)),
		config->out_dir);
	return 128 + (stop_signal != 0 ? stop_signal : SIGTERM);
}

int sim_churn_command(int argc, char **argv)
{
	run_options options = {0};
	struct sigaction old_signals[2];
	sim_churn_config config;
	sim_churn_result result;
	score_error err = {0};
	char *command_line = command_text(argc, argv);
	int status = 0;

	/* Every scheduling attempt allocates and frees scratch arrays of
	 * tens of kilobytes. Without these settings glibc gives the heap top
	 * back to the kernel after each, and a large run spends a fifth of
	 * its time in brk() and page faults. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);

	if (parse_run(argc, argv, true, &options, &config, &err) < 0) {
		fprintf(stderr, "stowage sim run: %s\n", err.message);
		status = EXIT_USAGE;
	} else {
		config.command_line = command_line;
		config.stop = &stop_signal;
		catch_stop_signals(old_signals);
		int ret = sim_churn_run(&config, &result, &err);

		if (ret == -EINTR && stop_signal != 0) {
			fprintf(stderr, "stowage sim run: %s\n", err.message);
			status = 128 + stop_signal;
		} else if (ret < 0) {
			fprintf(stderr, "stowage sim run: %s\n", err.message);
			status = 1;
		} else {
			status = finish_run(&config, &result);
			sim_churn_result_release(&result);
		}
		restore_stop_signals(old_signals);
	}

	run_options_release(&options);
	g_free(command_line);
	return status;
}
