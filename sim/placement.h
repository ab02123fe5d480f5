/* Node choice for the churn simulator, through the shared scoring pipeline
 * (scoring/pipeline.h).
 *
 * Policies:
 *   kube-default         kube-scheduler's default scoring: the taint,
 *                        unschedulable and resource-fit filters, then
 *                        NodeResourcesFit with LeastAllocated and
 *                        BalancedAllocation, weight 1 each
 *                        (score_pipeline_add_contention());
 *   kube-most-allocated  the same with the MostAllocated strategy;
 *   Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD
 *                        the GPU policies of scoring/gpu.h, after the same
 *                        filters and the GPU filter;
 *   a policy file        the pipeline that pol_policy_pipeline() builds
 *                        from a SchedulingPolicy, the one `stowage serve`
 *                        runs: its contention filters and scorers, host
 *                        ports, and its isolation filter and scorer.
 * On a cluster with GPUs the kube policies and policy files get the GPU
 * filter too, so that pods only land where their GPU share fits.
 *
 * Like kube-scheduler, a placement does not look at every node on a large
 * cluster. It walks its node list from where the previous pod stopped and
 * stops once it has found numFeasibleNodesToFind() nodes that pass the
 * filters: every node below 100 nodes, else the percentage
 * percentageOfNodesToScore of them, 50 - nodes / 125 percent (at least 5%)
 * when that is 0, and never fewer than 100 (pkg/scheduler/schedule_one.go,
 * kubernetes/kubernetes commit 003b4460edb5). The node list interleaves the
 * zones as kube-scheduler's node tree does (pkg/scheduler/internal/cache/
 * node_tree.go): the first node of each zone, then the second of each, and
 * so on, zones in the order first seen. kube-scheduler checks nodes in
 * parallel and may check a few more before it stops; the simulator checks
 * them one at a time.
 *
 * The feasible nodes are scored and the pod goes to the highest total.
 * Equal totals go to the smallest node name (kube-scheduler picks one of
 * them at random). With a single feasible node, it is chosen without
 * scoring, as kube-scheduler does.
 *
 * Two shortcuts make attempts that fail cheaper without changing any
 * choice. On the retry of a pod that failed before, a node whose free
 * resources are below the pod's requests is rejected before the pipeline,
 * by the same rule as NodeResourcesFit, so the pipeline does not format a
 * reason for it. And the placement logs
 * the nodes that gained room: a pod left, or the node was added or became
 * Ready. The filters reject a node more often, never less, as its free
 * resources shrink. So a pod that fit no node at log position p can only
 * fit a node logged at p or later, and a retry of that pod checks those
 * nodes alone. When none fits, the retry fails as a full walk would. A
 * failed walk looks at every node and leaves the rotating start where it
 * was, so skipping it changes nothing for the next pod. Removing a node
 * clears the log, and a pod whose position is no longer in it walks all
 * nodes.
 * The isolation filters of a policy file keep the proof valid: a tenant,
 * pool or group conflict only ends when a pod leaves the node, which the
 * log records. Hard locality rules do not (a node may fit once a distant
 * peer leaves), so with them every retry walks the nodes
 * (sim_placement_config.nonlocal_filters).
 *
 * Threads: none. The placement borrows the model and must not outlive it.
 */
#ifndef STOWAGE_SIM_PLACEMENT_H
#define STOWAGE_SIM_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/gpu.h"
#include "scoring/model.h"
#include "scoring/pipeline.h"
#include "sim/queue.h"

typedef enum sim_policy_kind {
	SIM_POLICY_KUBE_DEFAULT = 0,
	SIM_POLICY_KUBE_MOST_ALLOCATED,
	SIM_POLICY_GPU,
	SIM_POLICY_FILE, /* a SchedulingPolicy or ConfigMap file */
} sim_policy_kind;

typedef struct sim_policy {
	sim_policy_kind kind;
	score_gpu_policy gpu; /* for SIM_POLICY_GPU */
	const char *path;     /* for SIM_POLICY_FILE; borrowed */
} sim_policy;

/* Parses "kube-default", "kube-most-allocated" or a GPU policy name (any
 * case). Any other name that is an existing file, contains a '/' or ends
 * in .yaml or .yml is a policy file; `policy->path` then borrows `name`,
 * and the file is read later (sim/policyfile.h). The message lists the
 * names. */
int sim_policy_parse(const char *name, sim_policy *policy, score_error *err);

/* Returns the policy's name as sim_policy_parse() accepts it: the path for
 * a policy file. Borrowed. */
const char *sim_policy_name(const sim_policy *policy);

typedef struct sim_placement_config {
	sim_policy policy;
	/* percentageOfNodesToScore: 0 for kube-scheduler's adaptive default,
	 * 1..100 for a fixed share. */
	int percentage_of_nodes_to_score;
	bool gpus;                        /* the cluster has GPU nodes */
	const score_gpu_typical *typical; /* borrowed; FGD and fragmentation */
	uint32_t seed; /* of the GRand behind Random's draws */
	/* For SIM_POLICY_FILE: the policy's pipeline (pol_policy_pipeline()).
	 * Borrowed: the caller holds a reference to the policy while the
	 * placement lives. */
	const score_pipeline *pipeline;
	/* A filter of the pipeline can accept a node after a pod left
	 * another node, as a hard locality rule does when a distant peer
	 * leaves. That breaks the proof behind the retry shortcut, so every
	 * retry walks the nodes. */
	bool nonlocal_filters;
} sim_placement_config;

typedef struct sim_placement sim_placement;

/* Builds the pipeline for `config` over `model` (borrowed). Fails for FGD
 * without typical pods, a GPU policy on a cluster without GPUs, or a
 * policy file without its pipeline. The
 * caller frees it with sim_placement_free(). */
int sim_placement_new(const sim_placement_config *config, score_model *model,
		      sim_placement **out, score_error *err);
void sim_placement_free(sim_placement *placement);

/* Adds node `name`, already in the model, to the node list, with its GPU
 * devices (0 for none) of model number `gpu_model` (-1 when unknown), and
 * removes it. The zone comes from the node's topology.kubernetes.io/zone
 * label. */
void sim_placement_add_node(sim_placement *placement, const char *name,
			    int32_t gpus, int32_t gpu_model);
void sim_placement_remove_node(sim_placement *placement, const char *name);

/* Chooses a node for `pod`, whose GPU request is `gpu` (NULL for none).
 * Returns the node, borrowed from the model, or NULL when no node fits,
 * which is always the case for a GPU pod on a cluster without GPUs.
 * `unfit_mark`, when not NULL, is the pod's memo between attempts. It is
 * 0 before the first attempt, and a failure records the log position in
 * it, so that the next attempt checks only the nodes that gained room
 * since. The pod's requests must stay the same while the mark is kept. */
score_node *sim_placement_choose(sim_placement *placement, const score_pod *pod,
				 const sim_gpu_binding *gpu, int64_t now_ms,
				 uint64_t *unfit_mark);

/* Tells the placement that node `name` gained room: a pod left it or it
 * became Ready. Added nodes are logged by sim_placement_add_node(). */
void sim_placement_node_gained_room(sim_placement *placement, const char *name);

/* Takes devices on `node` for a pod placed there, or gives them back. */
void sim_placement_bind_gpu(sim_placement *placement, const char *node,
			    sim_gpu_binding *gpu);
void sim_placement_unbind_gpu(sim_placement *placement, const char *node,
			      const sim_gpu_binding *gpu);

/* Tells the placement that pods came to or left node `name`, whose free
 * CPU enters its GPU fragmentation. */
void sim_placement_node_changed(sim_placement *placement, const char *name);

/* Cluster GPU totals in milli-GPU: capacity, allocated, and fragmented
 * against the typical pods (0 without typical pods). */
int64_t sim_placement_gpu_capacity(const sim_placement *placement);
int64_t sim_placement_gpu_allocated(const sim_placement *placement);
double sim_placement_gpu_fragmentation(sim_placement *placement);

/* Nodes looked at, over all calls: those of the walks, and those of the
 * log that retries checked. */
uint64_t sim_placement_nodes_evaluated(const sim_placement *placement);

/* kube-scheduler's numFeasibleNodesToFind() for `n_nodes` nodes. */
uint32_t sim_feasible_nodes_to_find(uint32_t n_nodes, int percentage);

#endif
