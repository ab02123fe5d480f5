/* Tenant co-residency in churn runs: which tenants' pods share nodes, and
 * whether those tenants trust each other.
 *
 * A pod's tenant is resolved as the isolation rules of scoring/isolation.h
 * resolve it (score_isolation_pod_tenant()), with the policy file's tenant
 * label and source, or with the defaults (label stowage.io/tenant, the
 * namespace's label first) when the run has no policy file. Pods in an
 * infrastructure namespace and pods without a tenant count for no tenant.
 * Two tenants trust each other when each trusts the other in the policy
 * (spec.tenants.trust); without a policy file no tenants do.
 *
 * Synthetic pods get their tenant from their namespace. A source wrapped
 * with sim_tenancy_source() labels each generated pod's namespace in the
 * model with kubernetes.io/metadata.name and the tenant label, whose value
 * is the namespace name (tenant-00, tenant-01, ...). It labels the pod
 * with the tenant label too, so every tenant source of a policy finds it.
 *
 * The counts are kept up to date as pods come and go, so a sample costs
 * nothing and a placement costs one step per tenant on the node.
 *
 * Threads: none. The tracker borrows the model and the isolation config
 * and must not outlive them.
 */
#ifndef STOWAGE_SIM_TENANCY_H
#define STOWAGE_SIM_TENANCY_H

#include <stdbool.h>
#include <stdint.h>

#include "scoring/isolation.h"
#include "scoring/model.h"
#include "sim/engine.h"

typedef struct sim_tenancy sim_tenancy;

/* Co-residency at one moment. */
typedef struct sim_tenancy_counts {
	uint32_t shared_nodes;    /* nodes with pods of two tenants or more */
	uint32_t tenant_pairs;    /* tenant pairs with pods on one node */
	uint32_t untrusted_pairs; /* of them, pairs that do not trust each other */
} sim_tenancy_counts;

/* Returns a tracker over `model`. `isolation` (borrowed, may be NULL for
 * the defaults) gives the tenant label, the tenant source, the trust
 * relation and the infrastructure namespaces. `synthetic` is true when the
 * pods come from the generator, whose namespaces are tenants. The caller
 * frees it with sim_tenancy_free(). */
sim_tenancy *sim_tenancy_new(const score_isolation_config *isolation,
			     score_model *model, bool synthetic);
void sim_tenancy_free(sim_tenancy *tenancy);

/* Fills `out` with a source that reads `inner` (borrowed) and, for
 * synthetic pods, labels their namespaces and the pods as described
 * above. The tracker must outlive `out`. */
void sim_tenancy_source(sim_tenancy *tenancy, const sim_source *inner,
			sim_source *out);

/* Returns the pod's tenant, interned and borrowed, or NULL when it counts
 * for no tenant. */
const char *sim_tenancy_pod_tenant(const sim_tenancy *tenancy,
				   const score_pod *pod);

/* Records `pod` on `node`. Returns how many tenants, other than the pod's
 * own, already had pods on the node without trusting the pod's tenant
 * both ways: 0 for a pod without a tenant. */
uint32_t sim_tenancy_bind(sim_tenancy *tenancy, const score_pod *pod,
			  const score_node *node);

/* Records that `pod` left `node`. */
void sim_tenancy_unbind(sim_tenancy *tenancy, const score_pod *pod,
			const score_node *node);

void sim_tenancy_counts_now(const sim_tenancy *tenancy, sim_tenancy_counts *out);

/* Returns the tenant pairs, and the untrusted ones, that had pods on one
 * node at any time of the run. */
uint32_t sim_tenancy_pairs_seen(const sim_tenancy *tenancy);
uint32_t sim_tenancy_untrusted_pairs_seen(const sim_tenancy *tenancy);

/* Returns the number of distinct tenants seen so far. */
uint32_t sim_tenancy_tenants_seen(const sim_tenancy *tenancy);

#endif
