/* NetworkPolicies (networking.k8s.io/v1) in the typed, immutable form the
 * cluster model keeps and the locality criterion reads. The informer
 * decodes them from JSON (informer/network_policy.h); scoring only reads.
 *
 * Shape of one policy, with the API's meaning of each part:
 *
 *   namespace, name, uid
 *   pod_selector        the pods of `namespace` the policy applies to; no
 *                       requirements selects every pod of the namespace
 *   ingress, egress     spec.policyTypes: which directions the policy
 *                       isolates. When the field is absent, ingress is
 *                       always true and egress is true when spec.egress
 *                       has rules, as the API server defaults it.
 *   ingress_rules[]     traffic allowed in: from the rule's peers on the
 *   egress_rules[]      rule's ports (to the peers for egress). A
 *                       direction that is isolated with no rules allows
 *                       nothing; a rule without peers allows every peer,
 *                       and a rule without ports every port.
 *   peer                either pods or an ipBlock. Pods: with only
 *                       pod_selector, the matching pods of the policy's
 *                       namespace; with only namespace_selector, every pod
 *                       of the matching namespaces; with both, the matching
 *                       pods of the matching namespaces. Namespace
 *                       selectors match the namespace labels in the model
 *                       (score_model_namespace_labels()).
 *   port                protocol, then a number (with end_port for a
 *                       range), a named container port, or neither for
 *                       every port of the protocol.
 *
 * Threads: a policy is immutable once built and reference-counted, so any
 * thread may read it and take or drop references.
 */
#ifndef STOWAGE_SCORE_NETPOL_H
#define STOWAGE_SCORE_NETPOL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/model.h"
#include "scoring/selector.h"

/* The label the API server puts on every namespace (Kubernetes 1.22 and
 * later), whose value is the namespace's name. */
#define SCORE_NAMESPACE_NAME_LABEL "kubernetes.io/metadata.name"

typedef struct score_network_policy_port {
	score_protocol protocol; /* TCP when the policy leaves it out */
	int32_t port;            /* 0 with port_name NULL: every port */
	int32_t end_port;        /* 0 unless the ports port..end_port */
	const char *port_name;   /* interned named port, or NULL */
} score_network_policy_port;

typedef struct score_network_policy_peer {
	bool has_pod_selector;
	score_selector pod_selector;
	bool has_namespace_selector;
	score_selector namespace_selector;
	char *ip_block_cidr;    /* owned; NULL unless the peer is an ipBlock */
	char **ip_block_except; /* owned NULL-terminated CIDRs, or NULL */
} score_network_policy_peer;

typedef struct score_network_policy_rule {
	score_network_policy_peer *peers; /* owned; n_peers 0: every peer */
	uint32_t n_peers;
	score_network_policy_port *ports; /* owned; n_ports 0: every port */
	uint32_t n_ports;
} score_network_policy_rule;

typedef struct score_network_policy {
	const char *namespace; /* interned */
	const char *name;      /* interned */
	char *uid;             /* owned, "" when absent */
	char *key;             /* owned, "namespace/name" */
	score_selector pod_selector;
	bool ingress;
	bool egress;
	score_network_policy_rule *ingress_rules; /* owned */
	uint32_t n_ingress_rules;
	score_network_policy_rule *egress_rules; /* owned */
	uint32_t n_egress_rules;
	gint refs; /* private: use _ref() and _unref() */
} score_network_policy;

/* Returns a zeroed policy holding one reference, for a decoder to fill.
 * The caller drops it with score_network_policy_unref(). */
score_network_policy *score_network_policy_new(void);

score_network_policy *score_network_policy_ref(score_network_policy *policy);
/* Drops one reference and frees the policy with the last. NULL is
 * ignored. */
void score_network_policy_unref(score_network_policy *policy);

/* Releases what a peer owns; the decoder uses it on a half-built peer. */
void score_network_policy_peer_release(score_network_policy_peer *peer);

/* Returns true when `policy` applies to a pod with `labels` in namespace
 * `pod_namespace` (interned or not). */
bool score_network_policy_selects(const score_network_policy *policy,
				  const char *pod_namespace,
				  const score_labels *labels);

/* Returns true when the peer stands for pods (not an ipBlock). */
bool score_network_policy_peer_has_pods(const score_network_policy_peer *peer);

/* Returns true when `peer` of a policy in `policy_namespace` matches `pod`.
 * Namespace labels come from `model`; a namespace the model has not seen
 * has only the kubernetes.io/metadata.name label, as the API server sets
 * it. An ipBlock peer matches no pod. */
bool score_network_policy_peer_matches(const score_network_policy_peer *peer,
				       const char *policy_namespace,
				       const score_model *model,
				       const score_pod *pod);

/* Returns true when `selector` matches the labels of namespace `name` in
 * `model`, or only its kubernetes.io/metadata.name label when the model has
 * not seen the namespace. */
bool score_namespace_selector_matches(const score_selector *selector,
				      const score_model *model,
				      const char *name);

#endif
