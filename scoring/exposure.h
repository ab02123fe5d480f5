/* Exposure: whether a pod is reachable from outside the cluster, derived
 * from the cluster itself instead of labels. A pod is reachable
 *
 *   (a) on its host ports (score_pod.host_ports, which include every
 *       container port of a hostNetwork pod),
 *   (b) on the node ports of the NodePort and LoadBalancer Services that
 *       select it,
 *   (c) on the ports of the LoadBalancer Services that select it, and of
 *       the Services with spec.externalIPs that select it.
 *
 * Services are found through the model's per-namespace index
 * (score_model_namespace_services()), so a check walks only the Services
 * of the pod's namespace. The pod need not be in the model: a pod being
 * scheduled is matched by its namespace and labels like any other.
 *
 * Security groups select members by exposure with this (isolation.h), so
 * that a separation rule can keep internet-reachable pods apart from
 * restricted data without labelling pods.
 *
 * Nothing is cached here. A check costs O(S) selector matches for a pod
 * in a namespace with S Services. The isolation criterion keeps the
 * result per node in its digests until a pod there or a Service of its
 * pods' namespaces changes.
 */
#ifndef STOWAGE_SCORE_EXPOSURE_H
#define STOWAGE_SCORE_EXPOSURE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/model.h"

/* Which external ports count: every port of every protocol, or only
 * `protocol` (when any_protocol is false) and ports first_port..last_port
 * (when first_port is above 0). */
typedef struct score_port_filter {
	bool any_protocol;
	score_protocol protocol;
	int32_t first_port; /* 0: every port */
	int32_t last_port;
} score_port_filter;

/* Returns true when `pod` is reachable from outside the cluster on a port
 * that `filter` admits, and appends the first such way to `reason` (may be
 * NULL), e.g. "Service shop/web type LoadBalancer port 443/TCP" or
 * "host port 8080/TCP". `model` supplies the Services; with NULL only
 * host ports count. */
bool score_pod_exposed(const score_model *model, const score_pod *pod,
		       const score_port_filter *filter, GString *reason);

#endif
