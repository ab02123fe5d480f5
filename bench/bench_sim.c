/* Benchmark of the churn simulator: 1,000,000 synthetic pods on 10,000
 * nodes with policy kube-default, through the same engine, placement and
 * metrics as `stowage sim run` (pods.csv goes to a temporary file).
 *
 * It reports the wall time and the peak resident memory (VmHWM in
 * /proc/self/status). It also reports the resident memory (VmRSS) and the
 * pods alive at 250,000, 500,000 and 1,000,000 arrivals, to show that
 * memory follows the pods alive rather than the pods that arrived.
 *
 * The workload has the default lifetime mix and shapes of sim/generator.h
 * and Poisson arrivals at 1.65 pods/s. So 1,000,000 pods arrive in about 7
 * simulated days, and the pods alive level off near 90,000 once the
 * longest-lived class (median 2 days) reaches its steady state. The
 * cluster: 4,000 nodes of 8 cores, 4,000 of 16 and 2,000 of 4 (104,000
 * cores), about 60% allocated at the steady state.
 *
 * Usage: bench_sim [PODS [NODES_SCALE]]   (defaults 1000000 1)
 * Results are printed as Markdown table rows for docs/benchmarks.md.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/engine.h"
#include "sim/metrics.h"
#include "sim/sources.h"
#include "sim/template.h"

#define CHECKPOINTS 3

typedef struct checkpoint {
	uint64_t arrivals;
	bool taken; /* the values below are filled */
	long rss_kib;
	uint64_t live;
	double wall_s;
} checkpoint;

typedef struct bench_state {
	sim_engine *engine;
	checkpoint points[CHECKPOINTS];
	int64_t start_ns;
} bench_state;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads a "Name:   1234 kB" line of /proc/self/status; -1 when absent. */
static long status_kib(const char *name)
{
	FILE *file = fopen("/proc/self/status", "r");
	char line[256];
	size_t length = strlen(name);
	long value = -1;

	if (file == NULL)
		return -1;
	while (fgets(line, sizeof(line), file) != NULL) {
		if (strncmp(line, name, length) == 0 && line[length] == ':') {
			value = strtol(line + length + 1, NULL, 10);
			break;
		}
	}
	fclose(file);
	return value;
}

/* The processor's model name from /proc/cpuinfo, for the record. */
static void cpu_model(char *buf, size_t size)
{
	FILE *file = fopen("/proc/cpuinfo", "r");
	char line[256];

	g_strlcpy(buf, "unknown processor", size);
	if (file == NULL)
		return;
	while (fgets(line, sizeof(line), file) != NULL) {
		char *colon = strchr(line, ':');

		if (g_str_has_prefix(line, "model name") && colon != NULL) {
			g_strlcpy(buf, g_strstrip(colon + 1), size);
			break;
		}
	}
	fclose(file);
}

static void on_progress(void *data, int64_t now_ms, uint64_t arrivals,
			double fraction)
{
	bench_state *state = data;
	const sim_engine_stats *stats = sim_engine_stats_of(state->engine);

	(void)now_ms;
	(void)fraction;
	for (int i = 0; i < CHECKPOINTS; i++) {
		checkpoint *point = &state->points[i];

		if (point->taken || arrivals < point->arrivals)
			continue;
		point->taken = true;
		point->rss_kib = status_kib("VmRSS");
		point->live = stats->running + (stats->arrivals - stats->started);
		point->wall_s = (double)(now_ns() - state->start_ns) / 1e9;
	}
}

int main(int argc, char **argv)
{
	uint64_t pods = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int scale = argc > 2 ? atoi(argv[2]) : 1;
	sim_generator_config generator_config;
	sim_engine_config config;
	sim_engine *engine = NULL;
	sim_generator *generator;
	sim_source source;
	sim_metrics metrics;
	sim_observer observer;
	sim_template tmpl;
	sim_summary summary;
	score_error err = {0};
	bench_state state = {0};
	char template_text[128];
	char machine[128];
	char *dir = g_dir_make_tmp("stowage-bench-sim-XXXXXX", NULL);
	char *pods_csv = g_build_filename(dir, "pods.csv", NULL);
	const sim_engine_stats *stats;
	double wall_s;
	size_t n_nodes;
	int status = 1;

	/* As `stowage sim run` does: keep freed heap instead of returning it
	 * to the kernel after every scheduling attempt. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);

	if (pods == 0 || scale < 1) {
		fprintf(stderr, "usage: bench_sim [PODS [NODES_SCALE]]\n");
		return 2;
	}
	g_snprintf(template_text, sizeof(template_text),
		   "%dx8/32Gi,%dx16/64Gi,%dx4/16Gi", 4000 * scale, 4000 * scale,
		   2000 * scale);

	sim_generator_defaults(&generator_config);
	generator_config.process = SIM_ARRIVALS_POISSON;
	generator_config.rate_per_hour = 1.65 * 3600 * scale;
	/* Arrivals stop at the PODS-th pod; the duration leaves 2% of slack
	 * over the expected time, and the run stops there too. */
	generator_config.duration_ms =
		(int64_t)((double)pods / (generator_config.rate_per_hour / 3600.0) * 1020.0);
	generator_config.max_pods = pods;

	sim_engine_defaults(&config);
	config.end_ms = generator_config.duration_ms;
	config.sample_ms = 600 * 1000;
	config.max_samples = 4000;

	state.points[0].arrivals = pods / 4;
	state.points[1].arrivals = pods / 2;
	state.points[2].arrivals = pods;

	if (sim_template_parse(template_text, &tmpl, &err) < 0 ||
	    sim_engine_new(&config, &engine, &err) < 0) {
		fprintf(stderr, "bench_sim: %s\n", err.message);
		goto out;
	}
	n_nodes = sim_template_node_count(&tmpl);
	for (size_t i = 0; i < n_nodes; i++) {
		char name[32];
		char zone[32];
		char rack[48];

		g_snprintf(name, sizeof(name), "node-%05zu", i);
		sim_topology_labels(i, 3, 20, zone, sizeof(zone), rack, sizeof(rack));
		if (sim_engine_add_node(engine, name, sim_template_shape(&tmpl, i), zone,
					rack, &err) < 0) {
			fprintf(stderr, "bench_sim: %s\n", err.message);
			goto out;
		}
	}

	generator = sim_generator_new(&generator_config);
	sim_generator_source(generator, &source);
	if (sim_metrics_init(&metrics, pods_csv, false, &err) < 0) {
		fprintf(stderr, "bench_sim: %s\n", err.message);
		sim_generator_free(generator);
		goto out;
	}
	sim_metrics_observer(&metrics, &observer);
	observer.progress = on_progress;
	observer.progress_data = &state;
	state.engine = engine;

	state.start_ns = now_ns();
	if (sim_engine_run(engine, &source, &observer, &err) < 0 ||
	    sim_metrics_close(&metrics, &err) < 0) {
		fprintf(stderr, "bench_sim: %s\n", err.message);
		sim_metrics_release(&metrics);
		sim_generator_free(generator);
		goto out;
	}
	wall_s = (double)(now_ns() - state.start_ns) / 1e9;
	stats = sim_engine_stats_of(engine);
	/* The last checkpoint: the run's end, after the final arrival. */
	if (!state.points[2].taken) {
		state.points[2].taken = true;
		state.points[2].rss_kib = status_kib("VmRSS");
		state.points[2].live = stats->running + (stats->arrivals - stats->started);
		state.points[2].wall_s = wall_s;
	}
	sim_metrics_summarize(&metrics, stats, wall_s, &summary);

	printf("| nodes | pods | simulated days | wall time (s) | pods/s | peak RSS (MiB) | scheduling attempts | nodes evaluated per attempt |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
	printf("| %zu | %" PRIu64 " | %.1f | %.1f | %.0f | %.0f | %" PRIu64 " | %.0f |\n",
	       n_nodes, stats->arrivals, (double)stats->end_ms / 86400e3, wall_s,
	       (double)stats->arrivals / wall_s, status_kib("VmHWM") / 1024.0,
	       stats->attempts,
	       stats->attempts > 0 ? (double)stats->nodes_evaluated / (double)stats->attempts : 0);
	printf("\n| arrivals | pods alive | RSS (MiB) | wall time so far (s) |\n");
	printf("| --- | --- | --- | --- |\n");
	for (int i = 0; i < CHECKPOINTS; i++)
		printf("| %" PRIu64 " | %" PRIu64 " | %.0f | %.1f |\n", state.points[i].arrivals,
		       state.points[i].live, state.points[i].rss_kib / 1024.0,
		       state.points[i].wall_s);
	printf("\nmean allocation: cpu %.1f%%, memory %.1f%%; pending p99 of started pods %.1f s; never started %" PRIu64 "\n",
	       summary.cpu_mean_pct, summary.memory_mean_pct, summary.pending_started.p99_s,
	       summary.never_started);
	cpu_model(machine, sizeof(machine));
	printf("machine: %s, %ld online processors; one thread; CPU time %.1f s\n", machine,
	       sysconf(_SC_NPROCESSORS_ONLN), (double)clock() / CLOCKS_PER_SEC);

	sim_metrics_release(&metrics);
	sim_generator_free(generator);
	status = 0;

out:
	sim_engine_free(engine);
	sim_template_release(&tmpl);
	g_unlink(pods_csv);
	g_rmdir(dir);
	g_free(pods_csv);
	g_free(dir);
	return status;
}
