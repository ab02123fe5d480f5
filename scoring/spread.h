/* High-availability spread: the replicas of one workload (pods with the
 * same controller uid, score_pod.owner) should be spread over the failure
 * domains of one level, the values of a node label such as
 * topology.kubernetes.io/zone.
 *
 * The rule follows kube-scheduler's PodTopologySpread plugin
 * (pkg/scheduler/framework/plugins/podtopologyspread) with one constraint
 * per pod, whose selector is "same controller":
 *
 *   skew = replicas in the candidate's domain + 1 - min over all domains
 *
 * where a domain is a value of the level's label on any present node, and
 * a domain without replicas counts 0. Mode hard rejects a node where the
 * skew would exceed max_skew, and a node without the label
 * (DoNotSchedule). Mode soft scores the node by the replicas already in
 * its domain, c * ln(domains + 2) + (max_skew - 1) rounded, normalized so
 * that the emptiest domain scores 100 and nodes without the label score 0
 * (ScheduleAnyway).
 *
 * Differences from kube-scheduler: domains come from every present node,
 * not only from the nodes that pass the pod's node affinity, and the
 * normalizing weight uses that same domain count. Replicas are counted
 * through the model's owner index (score_model_owner_pods()), so a check
 * costs O(replicas), not O(pods).
 *
 * Threads: a config is immutable once built; the filter and scorer only
 * read it and the model.
 */
#ifndef STOWAGE_SCORE_SPREAD_H
#define STOWAGE_SCORE_SPREAD_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/pipeline.h"

/* The level when the policy names none: one domain per node. */
#define SCORE_DEFAULT_SPREAD_LEVEL "kubernetes.io/hostname"

/* Embedded: score_spread_init() and score_spread_release(). */
typedef struct score_spread_config {
	const char *level; /* interned node label key */
	int64_t max_skew;  /* >= 1 */
	bool hard;
} score_spread_config;

/* Initializes the defaults: level kubernetes.io/hostname, maxSkew 1,
 * soft. */
void score_spread_init(score_spread_config *config);
void score_spread_release(score_spread_config *config);

/* Replaces the level with an interned copy of `key`. */
void score_spread_set_level(score_spread_config *config, const char *key);

/* Rejects, in mode hard, a node without the level's label or where the
 * pod would make the skew exceed max_skew, naming the workload, the
 * domain and the counts: "spread: zone eu-1a already has 3 of 5 replicas
 * of ReplicaSet shop/web-7d9 and the emptiest zone has 1; one more there
 * makes the skew 3, above maxSkew 1". Unresolvable: evicting other pods
 * does not move replicas. Pods without a controller always fit. */
score_fit score_filter_spread(const void *config,
			      const score_request *request,
			      const score_node *node, const score_usage *usage,
			      GString *reason);

/* Returns the soft mode's raw score before normalization; SCORE_SKIP for
 * a pod without a controller or in mode hard. */
int64_t score_spread(const void *config, const score_request *request,
		     const score_node *node, const score_usage *usage);

/* Maps the raw scores to 0..100 as PodTopologySpread's NormalizeScore
 * does. */
void score_spread_normalize(const void *config, int64_t *scores, size_t n);

/* Adds the spread filter in mode hard, or the scorer with `weight` in
 * mode soft when `weight` is above 0. `config` is borrowed and must
 * outlive the pipeline. */
int score_pipeline_add_spread(score_pipeline *pipeline,
			      const score_spread_config *config, int64_t weight,
			      score_error *err);

#endif
