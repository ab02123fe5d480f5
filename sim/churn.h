/* `stowage sim run`: one churn simulation from the command line to its
 * report. It builds the cluster from a template or an openb node list, and
 * the workload from the synthetic generator or an openb pod list replayed
 * at its creation and deletion times. Then it runs the engine and writes
 * summary.json, timeseries.csv, pods.csv and report.html into the output
 * directory.
 *
 * With no options it runs the built-in default: 50 nodes of three shapes
 * in three zones (SIM_DEFAULT_TEMPLATE) under 24 hours of diurnal synthetic
 * churn (sim_generator_defaults()), policy kube-default, seed 42, into
 * ./stowage-sim-report.
 *
 * Randomness: the generator draws from GRand seeded with the seed, and the
 * Random GPU policy from a second GRand seeded with seed + 1, so that every
 * policy sees the same workload for a given seed.
 */
#ifndef STOWAGE_SIM_CHURN_H
#define STOWAGE_SIM_CHURN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "scoring/error.h"
#include "sim/generator.h"
#include "sim/metrics.h"
#include "sim/placement.h"
#include "sim/trace.h"

#define SIM_DEFAULT_OUT_DIR "stowage-sim-report"

typedef struct sim_churn_config {
	const char *out_dir;
	/* Cluster: an openb node list when set, else the template. */
	const char *node_list;
	const char *template_text;
	uint32_t zones; /* 0: no zone or rack labels */
	uint32_t racks; /* per zone */
	int64_t max_pods; /* pod capacity of node-list nodes */
	const char *node_events; /* may be NULL */
	/* Workload: a pod file when set, else the generator. The pod file is
	 * an openb pod list or Kubernetes Pod manifests (distinguished
	 * by content), or, with `mapping_path`, a generic trace read through
	 * that mapping spec (sim/mapping.h). */
	const char *pods_path;
	const char *mapping_path;
	sim_generator_config generator;
	/* Stop time for pod lists; -1 runs until the list is done. The
	 * generator stops at its duration. */
	int64_t end_ms;
	sim_policy policy;
	int percentage_of_nodes_to_score;
	int64_t sample_ms; /* 0 picks one from the duration */
	sim_read_options read;
	bool progress;          /* print progress and the final line */
	bool progress_terminal; /* stderr is a terminal: draw the bar */
	const char *command_line; /* for the report; may be NULL */
	/* NULL, or a flag a signal handler sets to end the run early; see
	 * sim_engine_config.stop. */
	const volatile sig_atomic_t *stop;
} sim_churn_config;

typedef struct sim_churn_result {
	sim_summary summary;
	char *report_path;   /* owned */
	char *workload;      /* owned: what ran, for people */
	uint32_t nodes;      /* at the start */
	GPtrArray *warnings; /* char *, owned; printed on stderr when found */
} sim_churn_result;

/* Fills `config` with the built-in default run. */
void sim_churn_defaults(sim_churn_config *config);

/* Runs one simulation and writes its outputs. Warnings about the inputs,
 * such as pod shapes that fit no node, go to stderr before the run starts
 * and into the report. They do not fail the run. A stop request during
 * the first pass over a pod list or trace fails with -EINTR, before any
 * output file is written. On success the caller
 * releases `result` with sim_churn_result_release(). */
int sim_churn_run(const sim_churn_config *config, sim_churn_result *result,
		  score_error *err);
void sim_churn_result_release(sim_churn_result *result);

/* Prints the summary, the warnings and the report's path. */
void sim_churn_print_summary(const sim_churn_config *config,
			     const sim_churn_result *result, FILE *out);

/* Runs `stowage sim run`; argv[0] is "run". Returns the exit status: 0, 1
 * when the run failed, 2 for a usage error. */
int sim_churn_command(int argc, char **argv);

/* Checks `args` (char *, the options after "run") as `stowage sim run`
 * parses and checks them, without running: unknown options, invalid
 * values and invalid policy files fail with -EINVAL and a message in
 * `err`. Input files other than a policy file are not opened. */
int sim_churn_check_args(const GPtrArray *args, score_error *err);

#endif
