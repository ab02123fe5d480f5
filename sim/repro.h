/* `stowage sim fgd-repro`: the main experiment of the FGD paper (Weng et
 * al., USENIX ATC 2023), every workload x policy x seed in inflation mode.
 * Runs are summarized per arrived-load step the way the analysis scripts of
 * its simulator (github.com/hkust-adsl/kubernetes-scheduler-simulator,
 * experiments/analysis) do, and optionally compared with the published
 * table of that simulator's results.
 *
 * Outputs in the output directory:
 *   summary.csv     one row per workload, policy and step, with the columns
 *                   of the published table;
 *   runs.csv        one row per run and step;
 *   summary.json    the configuration, the machine, run times and the
 *                   summary rows, with the published values when given;
 *   comparison.csv  and comparison.md, when a published table is given:
 *                   stowage and published side by side with differences.
 */
#ifndef STOWAGE_SIM_REPRO_H
#define STOWAGE_SIM_REPRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring/error.h"
#include "scoring/gpu.h"
#include "sim/inflate.h"
#include "sim/trace.h"

#define SIM_REPRO_MAX_WORKLOADS 16
#define SIM_REPRO_MAX_SEEDS 1000

/* The four workloads of the published table. */
extern const char *const sim_repro_default_workloads[4];

typedef struct sim_repro_config {
	const char *traces_dir;     /* contains the node and pod lists */
	const char *node_list;      /* file name in traces_dir */
	const char *out_dir;        /* created when missing */
	const char *reference_path; /* published table; may be NULL */
	const char *workloads[SIM_REPRO_MAX_WORKLOADS]; /* pod list names, no .csv */
	size_t n_workloads;
	score_gpu_policy policies[SCORE_GPU_POLICIES];
	size_t n_policies;
	uint32_t seeds[SIM_REPRO_MAX_SEEDS];
	size_t n_seeds;
	sim_inflate_config run;     /* policy and seed are set per run */
	sim_read_options read;
	bool progress;              /* print a progress line on stderr */
	const char *command_line;   /* recorded in summary.json; may be NULL */
} sim_repro_config;

/* Fills `config` with the paper's experiment: the four workloads, the six
 * policies, seeds 42..51 and sim_inflate_defaults(). */
void sim_repro_defaults(sim_repro_config *config);

/* Runs every workload x policy x seed and writes the outputs. Fails on the
 * first unreadable trace or unwritable output, with the path in the
 * message. */
int sim_repro_run(const sim_repro_config *config, score_error *err);

/* The label of a policy in the published table, e.g. "06-FGD". The caller
 * frees it with g_free(). */
char *sim_repro_policy_label(score_gpu_policy policy);

/* Mean, sample standard deviation and median of `n` values; `values` is
 * sorted in place. With n 1 the standard deviation is 0. */
void sim_repro_stats(double *values, size_t n, double *mean, double *sd,
		     double *median);

#endif
