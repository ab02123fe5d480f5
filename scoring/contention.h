/* Resource contention: kube-scheduler's NodeResourcesFit filter and its
 * scoring strategies (LeastAllocated, MostAllocated,
 * RequestedToCapacityRatio), NodeResourcesBalancedAllocation, the taint and
 * unschedulable filters, and stowage's utilization ceiling.
 *
 * The arithmetic follows kube-scheduler v1.33 (pkg/scheduler/framework/
 * plugins/noderesources): integer division where it divides integers,
 * float64 where BalancedAllocation does, so that a node gets the same score
 * from stowage as from the plugin it models.
 */
#ifndef STOWAGE_SCORE_CONTENTION_H
#define STOWAGE_SCORE_CONTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "scoring/pipeline.h"

typedef enum score_strategy {
	SCORE_LEAST_ALLOCATED = 0,
	SCORE_MOST_ALLOCATED,
	SCORE_REQUESTED_TO_CAPACITY_RATIO,
} score_strategy;

typedef struct score_resource_weight {
	int index;      /* slot in the resource table */
	int64_t weight; /* >= 1 */
} score_resource_weight;

/* One point of RequestedToCapacityRatio's shape, in the units of
 * KubeSchedulerConfiguration: utilization 0..100, score 0..10. */
typedef struct score_shape_point {
	int64_t utilization;
	int64_t score;
} score_shape_point;

#define SCORE_MAX_SHAPE_POINTS 16

typedef struct score_contention_config {
	score_strategy strategy;
	score_resource_weight resources[SCORE_RES_MAX];
	size_t n_resources;
	score_shape_point shape[SCORE_MAX_SHAPE_POINTS]; /* ascending */
	size_t n_shape;

	score_resource_weight balanced_resources[SCORE_RES_MAX];
	size_t n_balanced_resources;

	/* Reject a node when placing the pod would take a resource above
	 * this percentage of allocatable; 0 disables the ceiling. */
	int64_t ceiling_percent[SCORE_RES_MAX];

	/* Reject nodes whose Ready condition is not True. */
	bool reject_not_ready;
} score_contention_config;

/* Fills `config` with kube-scheduler's defaults: LeastAllocated over CPU
 * and memory with weight 1 each, BalancedAllocation over CPU and memory,
 * no ceilings, and Ready required. */
void score_contention_defaults(score_contention_config *config);

/* Checks weights, shape and ceilings; the message names the bad value. */
int score_contention_validate(const score_contention_config *config,
			      score_error *err);

/* Filters, in the order they run. `config` is borrowed and must outlive
 * the pipeline. */
score_fit score_filter_unschedulable(const void *config,
				     const score_request *request,
				     const score_node *node,
				     const score_usage *usage, GString *reason);
score_fit score_filter_taints(const void *config, const score_request *request,
			      const score_node *node, const score_usage *usage,
			      GString *reason);
score_fit score_filter_fit(const void *config, const score_request *request,
			   const score_node *node, const score_usage *usage,
			   GString *reason);
score_fit score_filter_ceiling(const void *config,
			       const score_request *request,
			       const score_node *node,
			       const score_usage *usage, GString *reason);

/* Scorers, 0..100. */
int64_t score_allocation(const void *config, const score_request *request,
			 const score_node *node, const score_usage *usage);
int64_t score_balanced(const void *config, const score_request *request,
		       const score_node *node, const score_usage *usage);

/* The per-node formulas on plain vectors, for tests and the simulator:
 * requested includes the incoming pod, allocatable 0 skips a resource. */
int64_t score_least_allocated(const int64_t *requested,
			      const int64_t *allocatable,
			      const int64_t *weights, size_t n);
int64_t score_most_allocated(const int64_t *requested,
			     const int64_t *allocatable,
			     const int64_t *weights, size_t n);
int64_t score_requested_to_capacity_ratio(const int64_t *requested,
					  const int64_t *allocatable,
					  const int64_t *weights, size_t n,
					  const score_shape_point *shape,
					  size_t n_shape);
int64_t score_balanced_allocation(const int64_t *requested,
				  const int64_t *allocatable, size_t n);

/* Adds the contention filters and scorers to `pipeline` with the given
 * criterion weights; a weight of 0 leaves that scorer out. */
int score_pipeline_add_contention(score_pipeline *pipeline,
				  const score_contention_config *config,
				  int64_t allocation_weight,
				  int64_t balanced_weight, score_error *err);

#endif
