/* A check before a churn run that every pod shape of the workload fits at
 * least one node of the cluster when that node is empty. A pod whose
 * request exceeds every node in some resource, or that requests GPUs on a
 * cluster without them, can never start. The run still goes ahead, and
 * the check returns one warning per such shape, naming the shape and the
 * largest node.
 *
 * A pod fits an empty node when its CPU and memory requests are at most
 * the node's, and, for a pod with GPUs, the node has at least as many
 * devices (one for a GPU-sharing pod) of a model the pod allows. These are
 * the conditions of the resource and GPU filters (scoring/contention.h,
 * scoring/gpu.h) on a node without pods.
 *
 * Under a policy with spec.bandwidth, a pod whose ingress or egress
 * bandwidth annotation exceeds the capacity of every node in that
 * direction can never start either (scoring/bandwidth.h); the check keeps
 * the pods' annotations and warns about those once the capacities are
 * known.
 *
 * Threads: none.
 */
#ifndef STOWAGE_SIM_FITCHECK_H
#define STOWAGE_SIM_FITCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/gpu.h"
#include "sim/generator.h"
#include "sim/template.h"

typedef struct sim_fit_check sim_fit_check;

/* Starts a check. `models` (borrowed, may be NULL) names the bits of the
 * pods' allowed-model masks; it must outlive the check. The caller frees
 * the check with sim_fit_check_free(). */
sim_fit_check *sim_fit_check_new(const score_gpu_models *models);
void sim_fit_check_free(sim_fit_check *check);

/* Adds node `name` of shape `shape`; both are copied. */
void sim_fit_check_add_node(sim_fit_check *check, const char *name,
			    const sim_node_shape *shape);

/* Returns true when `pod` fits at least one node added so far. */
bool sim_fit_check_fits(const sim_fit_check *check, const score_gpu_pod *pod);

/* Records `count` pods of `pod`'s shape from `line` of the pod list (0
 * for generated pods); those that fit no node go into the warnings. */
void sim_fit_check_add_pods(sim_fit_check *check, const score_gpu_pod *pod,
			    uint64_t count, int line);

/* Records a pod of the list with `ingress` and `egress` bandwidth
 * annotations, in bits per second (0: none), from `line`. */
void sim_fit_check_add_bandwidth(sim_fit_check *check, int64_t ingress,
				 int64_t egress, int line);

/* Appends one warning (char *, to be freed with g_free()) when pods
 * request more ingress (or, with `ingress` false, egress) bandwidth than
 * `capacity`, the largest capacity of any node in that direction, which
 * node `node` has. Call it only when every node limits that direction. */
void sim_fit_check_bandwidth_warnings(const sim_fit_check *check,
				      const char *source, bool ingress,
				      int64_t capacity, const char *node,
				      GPtrArray *warnings);

/* Appends one warning (char *, to be freed with g_free()) per pod shape
 * that fits no node to `warnings`. `source` is the pod list's path, or
 * NULL for the generator's shape table `generator` (weights are shown
 * then). */
void sim_fit_check_warnings(const sim_fit_check *check, const char *source,
			    const sim_generator_config *generator,
			    GPtrArray *warnings);

/* Formats a pod shape as the --shapes option writes it: "500m/1Gi",
 * "4/16Gi/2" (two GPUs), "1/2Gi/500m" (half a GPU). Returns `buf`. */
const char *sim_format_pod_shape(const score_gpu_pod *pod, char *buf,
				 size_t size);

#endif
