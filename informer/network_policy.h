/* NetworkPolicies (networking.k8s.io/v1) as the informer keeps them: a
 * typed, immutable form of each policy and a store of them keyed by
 * namespace/name, for placement criteria that ask which pods may talk to
 * which. The store lives beside the cluster model rather than in it,
 * because scoring has no use for policies yet.
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
 * Threads: a policy is immutable and reference-counted, so a reader keeps
 * the policies it got from inf_network_policy_store_list() for as long as
 * it needs them, whatever the informer does meanwhile. The store's
 * functions may be called from any thread.
 */
#ifndef STOWAGE_INF_NETWORK_POLICY_H
#define STOWAGE_INF_NETWORK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "scoring/error.h"
#include "scoring/model.h"
#include "scoring/selector.h"

typedef struct inf_network_policy_port {
	score_protocol protocol;  /* TCP when the policy leaves it out */
	int32_t port;             /* 0 with port_name NULL: every port */
	int32_t end_port;         /* 0 unless the ports port..end_port */
	const char *port_name;    /* interned named port, or NULL */
} inf_network_policy_port;

typedef struct inf_network_policy_peer {
	bool has_pod_selector;
	score_selector pod_selector;
	bool has_namespace_selector;
	score_selector namespace_selector;
	char *ip_block_cidr;       /* owned; NULL unless the peer is an ipBlock */
	char **ip_block_except;    /* owned NULL-terminated CIDRs, or NULL */
} inf_network_policy_peer;

typedef struct inf_network_policy_rule {
	inf_network_policy_peer *peers; /* owned; n_peers 0: every peer */
	uint32_t n_peers;
	inf_network_policy_port *ports; /* owned; n_ports 0: every port */
	uint32_t n_ports;
} inf_network_policy_rule;

typedef struct inf_network_policy {
	const char *namespace; /* interned */
	const char *name;      /* interned */
	char *uid;             /* owned, "" when absent */
	char *key;             /* owned, "namespace/name" */
	score_selector pod_selector;
	bool ingress;
	bool egress;
	inf_network_policy_rule *ingress_rules; /* owned */
	uint32_t n_ingress_rules;
	inf_network_policy_rule *egress_rules;  /* owned */
	uint32_t n_egress_rules;
	gint refs; /* private: use _ref() and _unref() */
} inf_network_policy;

/* Decodes a networking.k8s.io/v1 NetworkPolicy. Fails with -EINVAL and a
 * message naming the field path and value (an unknown selector operator, a
 * port out of range, a peer with neither selectors nor ipBlock). On
 * success the caller owns one reference to `*out`. */
int inf_network_policy_decode(const cJSON *object, inf_network_policy **out,
			      score_error *err);

inf_network_policy *inf_network_policy_ref(inf_network_policy *policy);
/* Drops one reference and frees the policy with the last. NULL is
 * ignored. */
void inf_network_policy_unref(inf_network_policy *policy);

/* Returns true when `policy` applies to a pod with `labels` in namespace
 * `pod_namespace` (interned or not). */
bool inf_network_policy_selects(const inf_network_policy *policy,
				const char *pod_namespace,
				const score_labels *labels);

/* ---- Store --------------------------------------------------------------- */

typedef struct inf_network_policy_store inf_network_policy_store;

/* The caller frees the store with inf_network_policy_store_free(). */
inf_network_policy_store *inf_network_policy_store_new(void);
void inf_network_policy_store_free(inf_network_policy_store *store);

/* Adds `policy` or replaces the one with its key. Takes the caller's
 * reference. */
void inf_network_policy_store_put(inf_network_policy_store *store,
				  inf_network_policy *policy);

/* Removes the policy with `key` ("namespace/name"); returns false when
 * there was none. */
bool inf_network_policy_store_remove(inf_network_policy_store *store,
				     const char *key);

/* Returns the policies sorted by key, each with a reference the array
 * drops: the caller frees it with g_ptr_array_unref(). */
GPtrArray *inf_network_policy_store_list(inf_network_policy_store *store);

/* Returns a new reference to the policy with `key`, or NULL. */
inf_network_policy *inf_network_policy_store_get(inf_network_policy_store *store,
						 const char *key);

size_t inf_network_policy_store_count(inf_network_policy_store *store);

/* Returns a number that changes with every put and remove, so a reader can
 * keep what it derived from a list until the store changes. */
uint64_t inf_network_policy_store_generation(inf_network_policy_store *store);

#endif
