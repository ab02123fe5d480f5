/* GPU sharing: per-device GPU state, the fit and device-choice rules for
 * pods that take a share of one GPU, the GPU fragmentation measure, and the
 * six node-scoring policies compared in "Beware of Fragmentation: Scheduling
 * GPU-Sharing Workloads with Fragmentation Gradient Descent" (Weng et al.,
 * USENIX ATC 2023): Random, DotProd, GpuClustering, GpuPacking, BestFit and
 * FGD.
 *
 * The arithmetic follows that paper's simulator (github.com/hkust-adsl/
 * kubernetes-scheduler-simulator, pkg/simulator/plugin and pkg/utils):
 * integer truncation where it converts a float score to int64, the same
 * order of floating-point sums, and the same device order, so that a node
 * gets the score the simulator gives it. Where stowage differs, the
 * function says so.
 *
 * Units: GPU in thousandths of one device ("milli-GPU", 1000 is a whole
 * device), CPU in millicores, memory in bytes.
 *
 * A GPU-sharing pod requests one GPU with gpu_milli below 1000 and takes
 * that share on a single device. A pod of whole GPUs requests gpu_count
 * devices with gpu_milli 1000 each and takes fully free devices.
 *
 * Threads: everything here is a pure function of its arguments except the
 * functions taking a GRand, which advance it.
 */
#ifndef STOWAGE_SCORE_GPU_H
#define STOWAGE_SCORE_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/pipeline.h"

#define SCORE_GPU_MILLI 1000
#define SCORE_GPU_MAX_DEVICES 16
#define SCORE_GPU_MAX_MODELS 64

/* ---- GPU models ---------------------------------------------------------- */

/* GPU model names ("T4", "V100M32") numbered in the order first met, so a
 * pod's allowed models fit in a bit mask. */
typedef struct score_gpu_models {
	char *names[SCORE_GPU_MAX_MODELS]; /* owned */
	int count;
} score_gpu_models;

void score_gpu_models_init(score_gpu_models *models);
void score_gpu_models_release(score_gpu_models *models);

/* Returns the number of model `name`, adding it when new. Fails with
 * -ENOSPC past SCORE_GPU_MAX_MODELS and -EINVAL for an empty name. */
int score_gpu_models_index(score_gpu_models *models, const char *name,
			   score_error *err);

/* Parses a list of allowed models separated by '|' ("T4|P100") into a mask
 * of model bits; empty entries are ignored and a list without names gives
 * 0, which allows every model. */
int score_gpu_models_parse(score_gpu_models *models, const char *list,
			   uint64_t *mask, score_error *err);

/* ---- Pods and nodes ------------------------------------------------------ */

typedef struct score_gpu_pod {
	int64_t cpu_milli;
	int64_t memory;      /* bytes */
	int32_t gpu_count;   /* devices; 0 for a pod without GPUs */
	int32_t gpu_milli;   /* per device, 1..1000; 0 when gpu_count is 0 */
	uint64_t gpu_models; /* allowed model bits; 0 allows every model */
} score_gpu_pod;

/* Returns true for a pod that takes a share of one GPU: gpu_count 1 and
 * gpu_milli below 1000. */
bool score_gpu_pod_is_sharing(const score_gpu_pod *pod);

/* Checks that a pod's GPU request is one stowage can place: gpu_count 0
 * with gpu_milli 0, one GPU with gpu_milli 1..1000, or up to
 * SCORE_GPU_MAX_DEVICES whole GPUs with gpu_milli 1000. */
int score_gpu_pod_validate(const score_gpu_pod *pod, score_error *err);

/* GpuClustering's pod classes: GPU-sharing pods, then pods of k whole GPUs
 * in slot k. Pods without GPUs have no class. */
#define SCORE_GPU_CLASSES (SCORE_GPU_MAX_DEVICES + 1)

typedef struct score_gpu_node {
	const char *name; /* borrowed */
	int64_t cpu_capacity;    /* millicores */
	int64_t cpu_free;
	int64_t memory_capacity; /* bytes */
	int64_t memory_free;
	int32_t gpu_model; /* number in score_gpu_models, -1 when unknown */
	int32_t n_devices;
	int32_t device_free[SCORE_GPU_MAX_DEVICES]; /* milli-GPU per device */
	/* Pods of each GpuClustering class placed here. */
	uint32_t class_pods[SCORE_GPU_CLASSES];
} score_gpu_node;

/* Fills `node` as an empty node with all devices free. `n_devices` must be
 * 0..SCORE_GPU_MAX_DEVICES; `name` is borrowed. */
void score_gpu_node_init(score_gpu_node *node, const char *name,
			 int64_t cpu_milli, int64_t memory, int32_t n_devices,
			 int32_t gpu_model);

/* Returns the milli-GPU free on all devices of the node. */
int64_t score_gpu_node_free_milli(const score_gpu_node *node);

/* Returns true when `pod` may use the node's GPU model. A pod without GPUs
 * may use any node, as the paper's Open-Gpu-Share filter only checks GPU
 * pods. A pod with allowed models never fits a node of unknown model. */
bool score_gpu_model_allowed(const score_gpu_node *node,
			     const score_gpu_pod *pod);

/* Returns true when `pod` fits the node's free CPU, memory and GPU devices
 * and GPU model. When it does not and `reason` is not NULL, appends what
 * failed with the numbers that decided, e.g. "gpu: 2 free devices, 4
 * requested". */
bool score_gpu_fits(const score_gpu_node *node, const score_gpu_pod *pod,
		    GString *reason);

/* ---- Typical pods and fragmentation -------------------------------------- */

typedef struct score_gpu_typical_pod {
	score_gpu_pod shape; /* memory is 0: the measure ignores memory */
	double weight;       /* share among the typical pods; they sum to 1 */
	size_t count;        /* pods of this shape in the workload */
} score_gpu_typical_pod;

/* The most frequent pod shapes of a workload, which the fragmentation
 * measure takes as the pods likely to arrive next. */
typedef struct score_gpu_typical {
	score_gpu_typical_pod *pods; /* owned, most frequent first */
	size_t n;
	size_t n_shapes;  /* distinct shapes in the workload */
	size_t n_workload; /* pods counted */
	double covered;   /* fraction of the workload's pods the typical pods cover */
} score_gpu_typical;

/* Groups `pods` by shape (CPU, GPU count, GPU milli, allowed models),
 * sorts the shapes by count, most frequent first (equal counts: larger
 * shape first, comparing CPU, GPU milli, GPU count, then models), and keeps
 * the shortest prefix covering at least `coverage_pct` percent of the pods,
 * with weights renormalized to sum to 1. This is the paper simulator's
 * GetTypicalPods() with CPU pods involved, step 1 and no GPU weighting.
 * Shapes that differ only in the order of their allowed models are one
 * shape here, where the simulator compares the model lists as strings.
 * Fails with -EINVAL when `n` is 0 or `coverage_pct` is outside (0, 100].
 * The caller frees `*out` with score_gpu_typical_free(). */
int score_gpu_typical_new(const score_gpu_pod *pods, size_t n,
			  double coverage_pct, score_gpu_typical **out,
			  score_error *err);

/* The same with `counts[i]` pods of the shape of `pods[i]` (each at least
 * 1), so that a workload of many equal pods needs one entry for them.
 * counts NULL counts each entry once. */
int score_gpu_typical_new_counted(const score_gpu_pod *pods,
				  const uint64_t *counts, size_t n,
				  double coverage_pct, score_gpu_typical **out,
				  score_error *err);
void score_gpu_typical_free(score_gpu_typical *typical);

/* Where a node's free GPUs stand for one typical pod. The names follow the
 * paper's quadrants of (CPU enough?, GPU enough?). */
typedef enum score_gpu_frag_class {
	SCORE_GPU_FRAG_LACK_BOTH = 0, /* Q1 */
	SCORE_GPU_FRAG_LACK_GPU,      /* Q2 */
	SCORE_GPU_FRAG_SATISFIED,     /* Q3: the pod fits */
	SCORE_GPU_FRAG_LACK_CPU,      /* Q4 */
	SCORE_GPU_FRAG_CPU_POD_FITS,  /* pod without GPUs, CPU enough */
	SCORE_GPU_FRAG_CPU_POD_LACKS, /* pod without GPUs, CPU short */
	SCORE_GPU_FRAG_NO_ACCESS,     /* GPU model not allowed */
	SCORE_GPU_FRAG_CLASSES,
} score_gpu_frag_class;

/* Fills `amounts` with the node's free milli-GPU split by class, each
 * typical pod weighted: for a typical pod that fits, the devices too small
 * for it count as LACK_GPU and the rest as SATISFIED; otherwise all free
 * milli-GPU counts in the pod's class. */
void score_gpu_frag_classes(const score_gpu_node *node,
			    const score_gpu_typical *typical,
			    double amounts[SCORE_GPU_FRAG_CLASSES]);

/* Returns the node's fragmented milli-GPU: the sum of every class except
 * SATISFIED, in class order. Free GPUs count as fragmented for typical pods
 * without GPUs too, as in the paper's simulator. */
double score_gpu_frag_amount(const score_gpu_node *node,
			     const score_gpu_typical *typical);

/* ---- Device choice ------------------------------------------------------- */

typedef enum score_gpu_device_rule {
	/* The device with the least free milli-GPU that fits, lowest index
	 * on ties (the simulator's "best" GPU selection). */
	SCORE_GPU_DEVICE_TIGHTEST = 0,
	/* A uniformly random device among those that fit. */
	SCORE_GPU_DEVICE_RANDOM,
	/* The device whose use leaves the least fragmentation, by FGD's
	 * integer score, lowest index on ties. */
	SCORE_GPU_DEVICE_FGD,
} score_gpu_device_rule;

/* Chooses the devices `pod` takes on `node` and writes their indices to
 * `devices` (room for SCORE_GPU_MAX_DEVICES). The rule applies to
 * GPU-sharing pods; pods of whole GPUs always take the lowest-index fully
 * free devices. `typical` is needed for SCORE_GPU_DEVICE_FGD and `rand` for
 * SCORE_GPU_DEVICE_RANDOM. Returns the number of devices (0 for a pod
 * without GPUs), or -ENOSPC when the GPUs do not fit. */
int score_gpu_choose_devices(const score_gpu_node *node,
			     const score_gpu_pod *pod,
			     score_gpu_device_rule rule,
			     const score_gpu_typical *typical, GRand *rand,
			     int *devices);

/* Counts `pod` on `node`: CPU, memory, the devices from
 * score_gpu_choose_devices() and its GpuClustering class. The caller has
 * checked the fit. */
void score_gpu_node_add_pod(score_gpu_node *node, const score_gpu_pod *pod,
			    const int *devices, int n_devices);

/* Undoes score_gpu_node_add_pod() with the same devices. */
void score_gpu_node_remove_pod(score_gpu_node *node, const score_gpu_pod *pod,
			       const int *devices, int n_devices);

/* ---- Policies ------------------------------------------------------------ */

typedef enum score_gpu_policy {
	SCORE_GPU_RANDOM = 0,
	SCORE_GPU_DOT_PRODUCT,
	SCORE_GPU_CLUSTERING,
	SCORE_GPU_PACKING,
	SCORE_GPU_BEST_FIT,
	SCORE_GPU_FGD,
	SCORE_GPU_POLICIES,
} score_gpu_policy;

/* Returns the policy's name as the paper writes it ("FGD", "DotProd"). */
const char *score_gpu_policy_name(score_gpu_policy policy);

/* Parses a policy name, case-insensitive; the message lists the names. */
int score_gpu_policy_parse(const char *name, score_gpu_policy *policy,
			   score_error *err);

/* Returns the device rule the paper's experiments pair with the policy:
 * FGD chooses devices by its own score, Random at random, and the others
 * the tightest device. */
score_gpu_device_rule score_gpu_policy_device_rule(score_gpu_policy policy);

/* Returns the policy's score for `pod` on `node`, which must fit, before
 * normalization: 0..100 for all but BestFit, whose raw score needs
 * score_gpu_normalize_min_max() over the feasible nodes. Random scores
 * every node 0: its choice is a uniform draw among the feasible nodes,
 * which the caller makes. `typical` is needed for FGD. */
int64_t score_gpu_score(score_gpu_policy policy, const score_gpu_node *node,
			const score_gpu_pod *pod,
			const score_gpu_typical *typical);

/* Rescales `scores` in place to 0..100 by (score - min) * 100 / (max -
 * min) in integers; all 0 when every score is equal. */
void score_gpu_normalize_min_max(int64_t *scores, size_t n);

/* The per-node formulas, for tests: FGD's score for taking `pod` with the
 * share on device `device` (-1 for the rule of whole GPUs), and the
 * fragmentation of the node before. */
int64_t score_gpu_fgd_score(const score_gpu_node *node,
			    const score_gpu_pod *pod,
			    const score_gpu_typical *typical, int device,
			    double frag_before);

/* ---- Pipeline ------------------------------------------------------------ */

/* Plugs a policy into the scoring pipeline. The pipeline's score_node and
 * score_pod carry no per-device GPU state, so the configuration maps them
 * to this module's records: a node missing from `nodes` has no GPUs, and a
 * pod missing from `pods` requests no GPUs. CPU and memory come from the
 * pipeline's node and usage, so add the contention fit filter for them.
 * Not thread-safe when `rand` is used: Random advances it. */
typedef struct score_gpu_pipeline_config {
	score_gpu_policy policy;
	const score_gpu_typical *typical; /* borrowed; needed for FGD */
	GHashTable *nodes; /* node name -> score_gpu_node *, borrowed */
	GHashTable *pods;  /* pod uid -> score_gpu_pod *, borrowed */
	GRand *rand;       /* borrowed; needed for Random */
} score_gpu_pipeline_config;

/* Rejects nodes whose GPU model or free devices do not fit the pod. */
score_fit score_gpu_filter(const void *config, const score_request *request,
			   const score_node *node, const score_usage *usage,
			   GString *reason);

/* The policy's score, 0..100 after score_gpu_normalize(). */
int64_t score_gpu_scorer(const void *config, const score_request *request,
			 const score_node *node, const score_usage *usage);

/* BestFit's min-max rescaling; for Random, 100 for one node drawn
 * uniformly and 0 for the others. */
void score_gpu_normalize(const void *config, int64_t *scores, size_t n);

/* Adds the GPU filter and the policy's scorer with `weight`. `config` is
 * borrowed and must outlive the pipeline. */
int score_pipeline_add_gpu(score_pipeline *pipeline,
			   const score_gpu_pipeline_config *config,
			   int64_t weight, score_error *err);

#endif
