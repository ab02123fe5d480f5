/* A simulated cluster and workload built from trace rows: nodes and pods
 * as scoring/gpu.h records, sorted by name, with the GPU model table they
 * share.
 *
 * Units follow scoring/gpu.h: the traces' MiB become bytes.
 */
#ifndef STOWAGE_SIM_WORKLOAD_H
#define STOWAGE_SIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/error.h"
#include "scoring/gpu.h"
#include "sim/trace.h"

typedef struct sim_cluster {
	score_gpu_models models;
	score_gpu_node *nodes; /* owned, sorted by name (strcmp) */
	char **names;          /* owned; nodes[i].name points here */
	size_t n_nodes;
	int64_t total_gpus; /* devices on all nodes */
} sim_cluster;

typedef struct sim_workload {
	score_gpu_pod *pods; /* owned, sorted by name (strcmp) */
	char **names;        /* owned */
	size_t n_pods;
	/* Shape number of each pod: pods of one shape (CPU, GPU count, GPU
	 * milli, allowed models) score the same on a node. */
	uint32_t *shapes;
	size_t n_shapes;
	int64_t requested_gpu_milli; /* sum over the pods */
	score_gpu_typical *typical;  /* owned; 95% coverage */
} sim_workload;

/* The share of a workload's pods the typical pods cover, in percent. */
#define SIM_TYPICAL_COVERAGE_PCT 95.0

/* Builds the cluster from node rows. Fails when two nodes share a name or
 * there are too many GPU models. Release with sim_cluster_release(). */
int sim_cluster_build(const sim_trace_nodes *rows, sim_cluster *cluster,
		      score_error *err);
void sim_cluster_release(sim_cluster *cluster);

/* Builds the workload from pod rows, adding the models of their gpu_spec to
 * the cluster's model table, and takes its typical pods. Release with
 * sim_workload_release(). */
int sim_workload_build(const sim_trace_pods *rows, sim_cluster *cluster,
		       sim_workload *workload, score_error *err);
void sim_workload_release(sim_workload *workload);

#endif
