/* Locality: place a pod close to the pods it talks to. A filter and a
 * scorer built from a policy's spec.topology and spec.locality
 * (policies/topology.c).
 *
 * Cost between two nodes. 0 on the same node. Otherwise the cost of the
 * finest topology level the two nodes share, or default_cost when they
 * share none. Two nodes share level i when both have the level's label
 * with the same value and agree on every coarser level's label (equal
 * values, or both without it). So a rack name reused in two zones names
 * two racks. A zone pair replaces that cost for two nodes in those two
 * zones, and a region pair for two nodes in those two regions when no
 * zone pair applies.
 *
 * Peers of a pod, counted only while placed (score_pod_counts()) and never
 * the pod itself:
 *   - NetworkPolicies that select the pod: the pods their ingress rules'
 *     peers match (they may send to it) and their egress rules' peers
 *     match (it may reach them);
 *   - NetworkPolicies whose ingress peers match the pod: the pods they
 *     select (the pod may send to them); and whose egress peers match it:
 *     the pods they select (they may reach it);
 *   - the other members of the locality groups the pod belongs to;
 *   - exposure: when group G accepts traffic from group F, the pods of F
 *     are peers of G's pods and the other way round.
 * Only a direction a policy isolates counts (spec.policyTypes). A rule
 * without peers allows everything and an ipBlock peer names addresses,
 * not pods, so neither gives peers. Nor does a peer with an empty
 * namespaceSelector and no or an empty podSelector, because it matches
 * every pod of the cluster. Selectors are resolved through the model's label
 * and namespace indexes.
 *
 * Work per request: score_locality_prepare() finds the peers once and
 * counts them per node and per topology domain, so each candidate then
 * costs O(levels + pairs) whatever the number of peers. The policies of
 * other namespaces that may name the pod as a peer come from an index
 * per namespace: those with a peer whose namespaceSelector matches the
 * pod's namespace. A namespace's list is built on the first request
 * from that namespace, and every list is dropped when the model's
 * namespace or NetworkPolicy generation changes. So a request tests only
 * those policies instead of every policy with a namespaceSelector.
 *
 * Scorer: the mean cost from the candidate to the pod's peers, normalized
 * over the candidates as 100 * (worst - mean) / worst, where worst is the
 * highest mean among them: 100 for a candidate with mean 0, 0 for the
 * worst candidate. Skipped for a pod without placed peers.
 *
 * Filter: a hard group, or hard NetworkPolicy derivation, rejects a node
 * whose cost to any placed peer from that source exceeds its max cost.
 * The rejection is unresolvable: preemption on the candidate cannot move
 * the peers.
 *
 * Threads: a config is immutable once built, except for its index of
 * cross-namespace NetworkPolicies. The index keeps one immutable,
 * reference-counted list per namespace in a table under its mutex. A
 * request takes a reference to its namespace's list under the lock and
 * reads the list after unlocking. It builds a missing list without the
 * lock. Any number of threads may run the filter and scorer at once over
 * a model they hold for reading. Requests that alternate between two
 * models through one config stay correct but rebuild the lists on each
 * switch.
 */
#ifndef STOWAGE_SCORE_LOCALITY_H
#define STOWAGE_SCORE_LOCALITY_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/isolation.h"
#include "scoring/model.h"
#include "scoring/pipeline.h"
#include "scoring/selector.h"

/* Sources of a peer, as bits. */
#define SCORE_PEER_NETWORK_POLICY 1u
#define SCORE_PEER_GROUP 2u
#define SCORE_PEER_EXPOSURE 4u

/* No max cost: the group only scores. */
#define SCORE_LOCALITY_NO_MAX_COST (-1)

typedef struct score_topology_level {
	const char *key; /* interned node label key */
	int64_t cost;
} score_topology_level;

typedef struct score_pair_cost {
	const char *first;  /* interned label value */
	const char *second; /* interned label value */
	int64_t cost;
} score_pair_cost;

/* The pods of a security group (security_group >= 0), or the pods that
 * match the selectors present. */
typedef struct score_locality_member {
	int security_group; /* index into isolation->groups, or -1 */
	bool has_pod_selector;
	score_selector pod_selector;
	bool has_namespace_selector;
	score_selector namespace_selector;
} score_locality_member;

typedef struct score_locality_group {
	char *name; /* owned */
	score_locality_member *members; /* owned */
	uint32_t n_members;
	int64_t max_cost; /* SCORE_LOCALITY_NO_MAX_COST or 0 and more */
	bool hard;        /* reject nodes over max_cost instead of scoring */
} score_locality_group;

/* Group `group` accepts traffic from the groups whose bits are set. */
typedef struct score_locality_exposure {
	uint32_t group;
	uint64_t from_groups;
} score_locality_exposure;

/* Per-namespace lists of cross-namespace NetworkPolicies; defined in
 * locality.c. */
typedef struct score_locality_index score_locality_index;

/* Embedded: score_locality_init() and score_locality_release(). */
typedef struct score_locality_config {
	score_topology_level *levels; /* owned, finest first */
	uint32_t n_levels;
	int64_t default_cost;
	const char *zone_label;   /* interned */
	const char *region_label; /* interned */
	score_pair_cost *zone_pairs; /* owned */
	uint32_t n_zone_pairs;
	score_pair_cost *region_pairs; /* owned */
	uint32_t n_region_pairs;

	score_locality_group *groups; /* owned */
	uint32_t n_groups;

	/* Peers from NetworkPolicies, with their own limit and mode. */
	bool network_policies;
	int64_t network_policy_max_cost; /* or SCORE_LOCALITY_NO_MAX_COST */
	bool network_policy_hard;

	score_locality_exposure *exposures; /* owned */
	uint32_t n_exposures;

	/* Borrowed: the security groups members and exposures name. May be
	 * NULL when neither does. */
	const score_isolation_config *isolation;

	/* Owned; created by score_locality_init(). NULL turns the index off
	 * (score_locality_use_index()), and each request then tests every
	 * policy with a namespaceSelector. */
	score_locality_index *cross_namespace_index;
} score_locality_config;

/* Initializes an empty config: no levels, default cost 0, the standard
 * zone and region labels, no groups, no NetworkPolicy peers. */
void score_locality_init(score_locality_config *config);
void score_locality_release(score_locality_config *config);

/* Turns the index of cross-namespace NetworkPolicies on (the default) or
 * off. Both give the same peers, and off serves tests and measurements.
 * Call it before the config is shared between threads. */
void score_locality_use_index(score_locality_config *config, bool use);

/* Appends a level; call from finest to coarsest. */
void score_locality_add_level(score_locality_config *config, const char *key,
			      int64_t cost);
void score_locality_add_zone_pair(score_locality_config *config,
				  const char *first, const char *second,
				  int64_t cost);
void score_locality_add_region_pair(score_locality_config *config,
				    const char *first, const char *second,
				    int64_t cost);

/* Appends a group and returns it; `name` is copied. Borrowed: valid until
 * the next group is added. */
score_locality_group *score_locality_add_group(score_locality_config *config,
					       const char *name,
					       int64_t max_cost, bool hard);

/* Appends a member: security group `security_group` (>= 0), or the
 * selectors given (copied; NULL for an absent one). */
void score_locality_group_add_member(score_locality_group *group,
				     int security_group,
				     const score_selector *pod_selector,
				     const score_selector *namespace_selector);

void score_locality_add_exposure(score_locality_config *config,
				 uint32_t group, uint64_t from_groups);

/* Returns the cost between two nodes as described above; either may be
 * NULL for a node the model does not have, which shares no level. */
int64_t score_locality_cost(const score_locality_config *config,
			    const char *name_a, const score_labels *labels_a,
			    const char *name_b, const score_labels *labels_b);

/* Finds the placed peers of `pod`. Returns a table of score_pod (borrowed
 * from the model) -> source bits (GUINT_TO_POINTER); the caller frees it
 * with g_hash_table_unref(). */
GHashTable *score_locality_peers(const score_locality_config *config,
				 const score_model *model,
				 const score_pod *pod);

/* Per-request state (score_hooks.prepare and release). */
void *score_locality_prepare(const void *config, const score_request *request);
void score_locality_release_state(void *state);

/* The filter and scorer; `state` comes from score_locality_prepare(). The
 * scorer returns the mean cost in thousandths, which
 * score_locality_normalize() maps to 0..100. */
score_fit score_filter_locality(const void *state,
				const score_request *request,
				const score_node *node,
				const score_usage *usage, GString *reason);
int64_t score_locality(const void *state, const score_request *request,
		       const score_node *node, const score_usage *usage);
void score_locality_normalize(const void *state, int64_t *scores, size_t n);

/* Adds members to `out` such as "peers": 12, "nodes": 4, "sources": {...},
 * "domains": {"topology.kubernetes.io/zone": {"eu-1b": 12}} describing the
 * pod's peers, or nothing when it has none. */
void score_locality_explain(const void *state, const score_request *request,
			    cJSON *out);

/* Adds the Locality filter when a hard group or hard NetworkPolicy
 * derivation exists, and the Locality scorer with `weight` when `weight`
 * is above 0 and some source of peers exists. `config` is borrowed and
 * must outlive the pipeline. */
int score_pipeline_add_locality(score_pipeline *pipeline,
				const score_locality_config *config,
				int64_t weight, score_error *err);

#endif
