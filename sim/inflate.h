/* Inflation mode: the experiment of the FGD paper ("Beware of
 * Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation
 * Gradient Descent", Weng et al., USENIX ATC 2023), as its simulator
 * github.com/hkust-adsl/kubernetes-scheduler-simulator runs it with workload
 * tuning and the analysis scripts in its experiments/analysis folder.
 *
 * Pods arrive one at a time and never leave; creation and deletion times
 * are ignored. After each arrival the cluster's GPU allocation and
 * fragmentation are recorded, and the records are summarized at chosen
 * arrived-load steps.
 *
 * The arrival sequence follows the paper's simulator (workload tuning with
 * shufflePod). The workload's pods, sorted by name, are shuffled. Then pods
 * drawn uniformly with replacement from the workload are appended until the
 * next draw would take the requested GPUs past `ratio` times the cluster's
 * GPUs. As in that simulator, the stop test adds the drawn pod's per-GPU
 * share rather than its total, so the last pod of several GPUs may pass the
 * target. A workload already above the target is cut by removing pods at
 * random instead.
 *
 * Randomness: one glib GRand (Mersenne Twister, g_rand_new_with_seed()) per
 * run, drawn in this order: the shuffle, the added pods, the tie-break
 * order of nodes, then Random's node and device draws. The paper's
 * simulator uses Go's math/rand in the same order, so the sequences match
 * in distribution but not draw for draw.
 */
#ifndef STOWAGE_SIM_INFLATE_H
#define STOWAGE_SIM_INFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/gpu.h"
#include "sim/workload.h"

/* How equal scores are broken. */
typedef enum sim_tie_break {
	/* The paper's simulator prefixes each node name with a number from
	 * a seeded permutation ("0412-openb-node-0007") and takes the
	 * smallest name: a random node order fixed for the run. */
	SIM_TIE_SHUFFLED = 0,
	/* The smallest node name as given in the trace. */
	SIM_TIE_NAME,
} sim_tie_break;

#define SIM_MAX_STEPS 64

/* The steps of the paper's tables, in percent of cluster GPUs arrived. */
extern const int sim_default_steps[7];

/* Called after each arrival with the pod (an index into workload->pods)
 * and the node it went to (an index into cluster->nodes), or -1 when no
 * node fit. */
typedef void (*sim_placement_fn)(void *data, uint32_t pod, long node);

typedef struct sim_inflate_config {
	score_gpu_policy policy;
	uint32_t seed;
	double ratio; /* arrived GPUs to reach, as a multiple of cluster GPUs */
	sim_tie_break tie_break;
	int steps[SIM_MAX_STEPS]; /* arrived percentages to summarize */
	size_t n_steps;
	sim_placement_fn on_placement; /* may be NULL */
	void *placement_data;
} sim_inflate_config;

/* Fills `config` with the paper's setting: ratio 1.3, shuffled ties and
 * the steps 50, 80, 90, 100, 110, 120, 130. */
void sim_inflate_defaults(sim_inflate_config *config);

/* The cluster at one arrived-load step, in percent: means over the arrivals
 * whose arrived GPUs round to the step. When no arrival rounds to it, the
 * means cover those within one point, as the paper's analysis scripts do. */
typedef struct sim_step {
	int arrived_pct;
	bool measured; /* false when no arrival was near the step */
	size_t arrivals;
	double alloc_pct;       /* allocated GPU milli over cluster GPU milli */
	double unalloc_pct;     /* 100 - alloc_pct */
	double frag_ratio_pct;  /* fragmented over idle GPU milli */
	double frag_amount_pct; /* fragmented over cluster GPU milli */
} sim_step;

typedef struct sim_inflate_result {
	sim_step steps[SIM_MAX_STEPS];
	size_t n_steps;
	size_t pods_arrived;
	size_t pods_failed;
	size_t pods_sampled;         /* added beyond the workload's own pods */
	int64_t arrived_gpu_milli;   /* requested by all arrivals */
	int64_t allocated_gpu_milli; /* at the end */
	double seconds;              /* time in the arrival loop */
} sim_inflate_result;

/* Builds the arrival sequence into `order` (indices into workload->pods)
 * for a cluster of `cluster_gpu_milli`, drawing from `rand`. */
void sim_inflate_arrivals(const sim_workload *workload,
			  int64_t cluster_gpu_milli, double ratio,
			  GRand *rand, GArray *order);

/* Runs one inflation experiment. `cluster` and `workload` are only read.
 * Fails with -EINVAL for a bad configuration or a cluster without GPUs. */
int sim_inflate_run(const sim_cluster *cluster, const sim_workload *workload,
		    const sim_inflate_config *config, sim_inflate_result *result,
		    score_error *err);

#endif
