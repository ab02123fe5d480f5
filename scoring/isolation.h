/* Isolation: which pods may share a node. A filter and a scorer built from
 * the rules of a policy (policies/), plus kube-scheduler's NodePorts check.
 *
 * Rules, in the order the filter checks them:
 *
 *   Dedicated pools. A tenant with pools runs only on nodes that match one
 *   of its pools' node selectors, and no other tenant's pods (nor pods
 *   without a tenant) run on a pool node.
 *
 *   Tenant isolation. Two pods of different tenants A and B conflict
 *   unless A trusts B and B trusts A, because sharing a node exposes both
 *   sides. A pod with host access (hostNetwork, hostPID, hostIPC, a
 *   privileged container or a hostPath volume) conflicts with every pod of
 *   every other tenant, trusted or not. A pod without a tenant but with
 *   host access conflicts with every tenant's pods. Pods without a tenant
 *   and without host access conflict with nobody. A conflict between untrusting tenants is lifted when both pods
 *   run in a sandboxed RuntimeClass, or when one of them does and the
 *   policy allows sharing with unsandboxed pods. Mode strict rejects a node
 *   with a conflict; mode preferred scores it lower.
 *
 *   Security-group separation. Pods of two groups named in one rule must
 *   not share a node: hard rules reject, soft rules score lower. A group
 *   may select its members by exposure, and a rejection then names the
 *   reason the pod counts as reachable from outside.
 *
 * Pods in an infrastructure namespace (kube-system by default) are exempt
 * from the tenant rules and pools in both directions, because DaemonSets
 * such as kube-proxy and CNI agents run privileged on every node. Security
 * groups and host ports apply to them as to any pod.
 *
 * Every check looks only at the candidate node's pods (node->pods) and
 * skips the candidate's preemption victims and the pod itself. Walking
 * those pods for every candidate is slow, because each pod costs hash
 * lookups. So the config keeps a digest per node: the tenants there with
 * the kinds of pods each runs, and the security groups with members
 * there. A digest is valid while the node's pods_version and
 * context_version stay the same (a namespace relabel or a Service change
 * moves only the latter, on the nodes of that namespace's pods), and the
 * filter and scorer decide from it in O(tenants trusted by the pod) plus
 * one lookup of the pod's own tenant. They walk the pods instead when
 * the candidate has victims, when the pod itself counts on the node, and,
 * for the scorer, past MAX_DISTINCT_TENANTS conflicting tenants. The
 * filter also walks to write the reason of a rejected node, so reasons
 * are the same either way.
 *
 * Building every node's digest walks every pod, about 11 ms for 150,000
 * pods. A policy loader calls score_isolation_warm() before the policy
 * takes requests; otherwise the first request pays it.
 *
 * Threads: a config is immutable once built, except for its digest cache.
 * The cache publishes the digests as an immutable, reference-counted
 * snapshot that requests read without a lock. Digests rebuilt one by one
 * since then wait in a table under its mutex until a request folds them
 * into a new snapshot. Any number of threads may run the filter and
 * scorer at once over a model they hold for reading.
 */
#ifndef STOWAGE_SCORE_ISOLATION_H
#define STOWAGE_SCORE_ISOLATION_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/exposure.h"
#include "scoring/pipeline.h"
#include "scoring/selector.h"

/* The default tenant label key. */
#define SCORE_DEFAULT_TENANT_LABEL "stowage.io/tenant"

/* Security groups are tracked in 64-bit masks. */
#define SCORE_MAX_SECURITY_GROUPS 64

typedef enum score_tenancy {
	SCORE_TENANCY_NONE = 0, /* tenants share nodes freely; pools apply */
	SCORE_TENANCY_STRICT,   /* a conflict rejects the node */
	SCORE_TENANCY_PREFERRED, /* a conflict lowers the node's score */
} score_tenancy;

/* Where a pod's tenant label is read when score_pod.tenant is NULL. */
typedef enum score_tenant_source {
	/* The namespace's label, else the pod's: a namespace label, set by a
	 * cluster administrator, wins over what the pod claims. */
	SCORE_TENANT_FROM_NAMESPACE_THEN_POD = 0,
	SCORE_TENANT_FROM_NAMESPACE,
	SCORE_TENANT_FROM_POD,
} score_tenant_source;

typedef struct score_dedicated_pool {
	const char *tenant; /* interned */
	score_selector node_selector;
	char *rule; /* owned; names the rule in messages */
} score_dedicated_pool;

/* A pod belongs to a group when both selectors that are present match its
 * labels and its namespace's labels, and, when the group selects by
 * exposure, the pod is reachable from outside the cluster on a port the
 * filter admits (scoring/exposure.h). */
typedef struct score_security_group {
	char *name; /* owned */
	bool has_pod_selector;
	score_selector pod_selector;
	bool has_namespace_selector;
	score_selector namespace_selector;
	bool has_exposure;
	score_port_filter exposure;
} score_security_group;

/* Per-node digests of one config; defined in isolation.c. */
typedef struct score_isolation_cache score_isolation_cache;

typedef struct score_separation {
	uint64_t groups; /* bit i: config->groups[i]; two bits or more */
	bool hard;
	char *rule; /* owned; names the rule in messages */
} score_separation;

/* Embedded: score_isolation_init() and score_isolation_release(). The
 * builder fills the fields directly; strings noted as interned are
 * released with score_unintern(). */
typedef struct score_isolation_config {
	bool tenants_enabled;
	score_tenancy tenancy;
	const char *tenant_label; /* interned */
	score_tenant_source tenant_source;
	/* Tenant -> set of the tenants it trusts; interned keys. Owned. */
	GHashTable *trust;
	GPtrArray *infrastructure_namespaces; /* interned strings */

	score_dedicated_pool *pools; /* owned */
	uint32_t n_pools;

	bool sandbox_enabled;
	GPtrArray *sandbox_runtime_classes; /* interned strings */
	bool allow_sharing_with_unsandboxed;

	score_security_group *groups; /* owned */
	uint32_t n_groups;
	score_separation *separations; /* owned */
	uint32_t n_separations;

	/* Owned; created by score_isolation_init(). NULL turns the digests
	 * off, and every check then walks the node's pods. */
	score_isolation_cache *cache;
} score_isolation_config;

/* Initializes an empty config: no tenant rules, no groups, the default
 * tenant label and kube-system as the infrastructure namespace. */
void score_isolation_init(score_isolation_config *config);
void score_isolation_release(score_isolation_config *config);

/* Builds the digest of every node of `model` now, replacing any the cache
 * has, so that requests scoring this model find them. It does nothing
 * when no tenant or separation rule reads digests. Call with the model
 * held for reading, before the config serves requests or while it does. */
void score_isolation_warm(const score_isolation_config *config,
			  const score_model *model);

/* What the digest cache has done, for tests and metrics. */
typedef struct score_isolation_stats {
	uint64_t full_builds; /* snapshots built by walking every pod */
	uint64_t folds;       /* snapshots made by folding rebuilt digests in */
	uint32_t snapshot_digests; /* nodes in the current snapshot */
	uint32_t rebuilt_digests;  /* digests rebuilt since, not folded yet */
} score_isolation_stats;

void score_isolation_cache_stats(const score_isolation_config *config,
				 score_isolation_stats *stats);

/* Records that `tenant` trusts `trusted` (one direction). */
void score_isolation_add_trust(score_isolation_config *config,
			       const char *tenant, const char *trusted);

/* Returns true when `tenant` trusts `trusted`. Interned arguments. */
bool score_isolation_trusts(const score_isolation_config *config,
			    const char *tenant, const char *trusted);

/* Appends a group and returns it for the caller to fill; the name is
 * copied. Fails with -ENOSPC past SCORE_MAX_SECURITY_GROUPS. */
int score_isolation_add_group(score_isolation_config *config,
			      const char *name, score_security_group **out,
			      score_error *err);

/* Appends a separation rule over the groups whose bits are set. */
void score_isolation_add_separation(score_isolation_config *config,
				    uint64_t groups, bool hard,
				    const char *rule);

/* Appends a dedicated pool and returns it for the caller to fill the node
 * selector. */
score_dedicated_pool *score_isolation_add_pool(score_isolation_config *config,
					       const char *tenant,
					       const char *rule);

/* Returns the pod's tenant: pod->tenant when set, else the tenant label
 * from the source the config names. Interned and borrowed from the pod,
 * the model or the config; NULL when the pod has no tenant. */
const char *score_isolation_pod_tenant(const score_isolation_config *config,
				       const score_model *model,
				       const score_pod *pod);

/* Returns true when the pod belongs to group `index`. */
bool score_isolation_pod_in_group(const score_isolation_config *config,
				  const score_model *model,
				  const score_pod *pod, uint32_t index);

/* Rejects a node where one of the pod's host ports is taken with the same
 * protocol and an overlapping address, as kube-scheduler v1.34's NodePorts
 * does (informer/decode.c states which ports a pod has). Resolvable:
 * evicting the holder frees the port, and kube-scheduler checks ports too.
 * `config` is unused. */
score_fit score_filter_host_ports(const void *config,
				  const score_request *request,
				  const score_node *node,
				  const score_usage *usage, GString *reason);

/* Rejects a node that breaks a dedicated pool, strict tenant isolation or
 * a hard separation rule. Unresolvable: kube-scheduler's preemption does
 * not know these rules, so it would not pick the conflicting pods as
 * victims. */
score_fit score_filter_isolation(const void *config,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason);

/* Scores preferred tenant isolation and soft separation as
 * 100 / (1 + conflicts), where each untrusted tenant on the node and each
 * violated soft rule is one conflict (0 conflicts: 100, 1: 50, 2: 33).
 * Returns SCORE_SKIP when no soft rule applies to the pod. */
int64_t score_isolation(const void *config, const score_request *request,
			const score_node *node, const score_usage *usage);

/* For tests: score_filter_isolation() and score_isolation() computed by
 * walking the node's pods, without the digests. The results must be
 * equal. */
score_fit score_filter_isolation_walk(const void *config,
				      const score_request *request,
				      const score_node *node,
				      const score_usage *usage,
				      GString *reason);
int64_t score_isolation_walk(const void *config, const score_request *request,
			     const score_node *node, const score_usage *usage);

/* Adds the NodePorts filter, the isolation filter when a hard rule exists,
 * and the isolation scorer with `weight` when a soft rule exists and
 * `weight` is above 0. `config` is borrowed and must outlive the
 * pipeline. */
int score_pipeline_add_isolation(score_pipeline *pipeline,
				 const score_isolation_config *config,
				 int64_t weight, score_error *err);

#endif
