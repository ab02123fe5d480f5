/* Network bandwidth: pods declare their traffic with the annotations
 * kubernetes.io/ingress-bandwidth and kubernetes.io/egress-bandwidth
 * (quantities in bits per second, as the CNI bandwidth plugin reads them),
 * and each direction counts against the node's network capacity.
 *
 * A node's capacity per direction comes from a node label named by the
 * policy (a quantity such as "10G"), else from the policy's default
 * capacity. A node with neither is not limited in that direction. The
 * model keeps the sums of the counted pods' annotations per node
 * (score_node.ingress_bandwidth_requested and egress_...); a preemption's
 * victims give their bandwidth back.
 *
 * Threads: a config is immutable once built; the filter and scorer only
 * read it and the model.
 */
#ifndef STOWAGE_SCORE_BANDWIDTH_H
#define STOWAGE_SCORE_BANDWIDTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/pipeline.h"

/* The node label read for both directions unless the policy names
 * another. */
#define SCORE_DEFAULT_BANDWIDTH_LABEL "stowage.io/network-bandwidth"

/* The range the kubelet accepts for the annotations (k8s.io/kubernetes
 * pkg/util/bandwidth): at least 1k and at most 1P bits per second. */
#define SCORE_MIN_POD_BANDWIDTH INT64_C(1000)
#define SCORE_MAX_POD_BANDWIDTH INT64_C(1000000000000000)

/* Embedded: score_bandwidth_init() and score_bandwidth_release(). */
typedef struct score_bandwidth_config {
	const char *capacity_label;         /* interned */
	/* Interned; NULL reads capacity_label for that direction. */
	const char *ingress_capacity_label;
	const char *egress_capacity_label;
	/* Bits per second for nodes without the label; 0 leaves them
	 * unlimited. */
	int64_t default_capacity;
} score_bandwidth_config;

/* Initializes the defaults: the label SCORE_DEFAULT_BANDWIDTH_LABEL for
 * both directions and no default capacity. */
void score_bandwidth_init(score_bandwidth_config *config);
void score_bandwidth_release(score_bandwidth_config *config);

/* Returns true when the pod has a bandwidth annotation in either
 * direction. */
bool score_pod_has_bandwidth(const score_pod *pod);

/* Stores the node's ingress (or, with `ingress` false, egress) capacity
 * in `*capacity`, in bits per second. Returns false when the node is not
 * limited in that direction. A label value that is not a non-negative
 * quantity is ignored, and the default capacity applies. */
bool score_bandwidth_capacity(const score_bandwidth_config *config,
			      const score_node *node, bool ingress,
			      int64_t *capacity);

/* Writes `bits` per second as a quantity a person reads: "400M", "1G",
 * "1500k", or plain digits when no decimal suffix divides it. Returns
 * `buf`. */
const char *score_bandwidth_format(int64_t bits, char *buf, size_t size);

/* Rejects a node where the pod's ingress or egress annotation exceeds the
 * free capacity, with the numbers: "ingress bandwidth: requested 400M,
 * free 250M of 1G". Resolvable when evicting pods could free enough,
 * unresolvable when the request exceeds the whole capacity. */
score_fit score_filter_bandwidth(const void *config,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason);

/* Scores the headroom left after placing the pod: 100 * free / capacity
 * in the tighter requested direction, 100 on a node that does not limit
 * it. Returns SCORE_SKIP for a pod without bandwidth annotations. */
int64_t score_bandwidth(const void *config, const score_request *request,
			const score_node *node, const score_usage *usage);

/* Adds the Bandwidth filter, and the scorer with `weight` when it is
 * above 0. `config` is borrowed and must outlive the pipeline. */
int score_pipeline_add_bandwidth(score_pipeline *pipeline,
				 const score_bandwidth_config *config,
				 int64_t weight, score_error *err);

#endif
