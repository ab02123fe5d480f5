/* Scheduling policies: a YAML file (apiVersion stowage.io/v1alpha1, kind
 * SchedulingPolicy, or a ConfigMap holding one under data."policy.yaml")
 * parsed into validated, typed rules and the scoring pipeline they build.
 * docs/policies.md describes every field.
 *
 * Errors name the place and the field: "FILE:LINE:COLUMN: PATH: message",
 * where PATH is the field path such as spec.tenants.trust[2].trusts[0].
 * Parsing goes on after a semantic error, so one run reports every error
 * it can; a YAML syntax error ends it.
 *
 * Ownership and threads: a pol_policy is immutable once parsed and counted
 * by references. Any thread may read it or take a reference; the last
 * pol_policy_unref() frees it. Its pipeline's filters and scorers point
 * into the policy, so hold a reference while running the pipeline.
 */
#ifndef STOWAGE_POL_POLICY_H
#define STOWAGE_POL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/bandwidth.h"
#include "scoring/contention.h"
#include "scoring/error.h"
#include "scoring/isolation.h"
#include "scoring/locality.h"
#include "scoring/model.h"
#include "scoring/pipeline.h"
#include "scoring/selector.h"
#include "scoring/spread.h"

#define POL_API_VERSION "stowage.io/v1alpha1"
#define POL_KIND "SchedulingPolicy"
/* The ConfigMap data key that contains the policy. */
#define POL_CONFIGMAP_KEY "policy.yaml"
/* Larger files are rejected unread. A ConfigMap is limited to 1 MiB. */
#define POL_MAX_FILE_SIZE (1024 * 1024)

/* Messages from one parse. Embedded: init and release. */
typedef struct pol_diagnostics {
	GPtrArray *errors;   /* char *: "FILE:LINE:COLUMN: PATH: message" */
	GPtrArray *warnings; /* char *: "FILE:LINE:COLUMN: warning: PATH: ..." */
} pol_diagnostics;

void pol_diagnostics_init(pol_diagnostics *diagnostics);
void pol_diagnostics_release(pol_diagnostics *diagnostics);

/* Criterion weights, 0..100; 0 leaves that criterion's scorer out while its
 * filters still run. */
typedef struct pol_weights {
	int64_t contention; /* LeastAllocated (or the chosen strategy) and
			       BalancedAllocation, each with this weight */
	int64_t isolation;
	int64_t locality;
	int64_t spread;   /* the spread scorer, when spec.spread is soft */
	int64_t bandwidth; /* the bandwidth headroom scorer */
} pol_weights;

/* ---- Topology and locality ---------------------------------------------- */

/* Two nodes that share the value of a level's label, and of no finer
 * level, are `cost` apart. Levels go from finest to coarsest, with costs
 * that do not decrease. */
typedef struct pol_topology_level {
	char *key; /* node label key */
	int64_t cost;
} pol_topology_level;

/* The cost between two zones or two regions, overriding the level costs
 * for nodes in those two. */
typedef struct pol_pair_cost {
	char *first;
	char *second;
	int64_t cost;
} pol_pair_cost;

typedef struct pol_topology {
	bool present;
	pol_topology_level *levels;
	size_t n_levels;
	int64_t default_cost; /* nodes that share no level */
	char *zone_label;     /* default topology.kubernetes.io/zone */
	char *region_label;   /* default topology.kubernetes.io/region */
	pol_pair_cost *zone_pairs;
	size_t n_zone_pairs;
	pol_pair_cost *region_pairs;
	size_t n_region_pairs;
} pol_topology;

/* A member of a locality group: the pods of a security group, or the pods
 * matching selectors. */
typedef struct pol_locality_member {
	int security_group; /* index into the isolation groups, or -1 */
	bool has_pod_selector;
	score_selector pod_selector;
	bool has_namespace_selector;
	score_selector namespace_selector;
} pol_locality_member;

/* Pods of the members should run at most `max_cost` apart. */
typedef struct pol_locality_group {
	char *name;
	pol_locality_member *members;
	size_t n_members;
	int64_t max_cost;
	bool hard;
} pol_locality_group;

typedef struct pol_locality {
	bool present; /* spec.locality is given */
	pol_locality_group *groups;
	size_t n_groups;
	/* Derive groups from NetworkPolicy peers. */
	bool network_policies;
	int64_t network_policy_max_cost;
	bool network_policy_hard;
} pol_locality;

/* Traffic a security group accepts, from spec.securityGroups[].exposure.
 * Locality counts the pods of the `from_groups` as peers of the group's
 * pods. */
typedef struct pol_exposure {
	uint32_t group; /* index into the isolation groups */
	score_protocol protocol;
	int32_t first_port; /* 1..65535 */
	int32_t last_port;  /* first_port..65535 */
	bool from_world;
	uint64_t from_groups; /* bit i: isolation group i */
} pol_exposure;

/* ---- Policies ------------------------------------------------------------ */

typedef struct pol_policy pol_policy;

/* Parses and validates the policy in `text`; `name` is the file name used
 * in messages. `resources` is borrowed and must outlive the policy: resource
 * names in spec.contention take slots there. Every error and warning goes
 * to `diagnostics` (may be NULL); `err` gets the first error and how many
 * more there are. Returns 0 with `*out` holding one reference, or -EINVAL
 * for an invalid policy (-ENOMEM for an allocation libyaml failed). */
int pol_policy_parse(const char *name, const char *text, size_t length,
		     score_resource_table *resources, pol_policy **out,
		     pol_diagnostics *diagnostics, score_error *err);

/* Reads `path` (at most POL_MAX_FILE_SIZE bytes) and parses it. Fails also
 * with -ENOENT, -EACCES, -EFBIG or -EIO, naming the path. */
int pol_policy_load(const char *path, score_resource_table *resources,
		    pol_policy **out, pol_diagnostics *diagnostics,
		    score_error *err);

/* Adds a reference and returns `policy`. */
pol_policy *pol_policy_ref(pol_policy *policy);
/* Drops a reference; NULL is ignored. */
void pol_policy_unref(pol_policy *policy);

const char *pol_policy_name(const pol_policy *policy);
/* The file name given to the parse. */
const char *pol_policy_source(const pol_policy *policy);
/* SHA-256 of the policy text in hex, for logs and change detection. */
const char *pol_policy_digest(const pol_policy *policy);

const pol_weights *pol_policy_weights(const pol_policy *policy);
const score_contention_config *pol_policy_contention(const pol_policy *policy);
const score_isolation_config *pol_policy_isolation(const pol_policy *policy);
const pol_topology *pol_policy_topology(const pol_policy *policy);
const pol_locality *pol_policy_locality(const pol_policy *policy);
/* The locality criterion's config built from the three above. */
const score_locality_config *pol_policy_locality_config(const pol_policy *policy);
const score_bandwidth_config *pol_policy_bandwidth(const pol_policy *policy);
/* The spread rule, or NULL when the policy has no spec.spread. */
const score_spread_config *pol_policy_spread(const pol_policy *policy);
/* The exposures of all security groups; `*n` gets their number. */
const pol_exposure *pol_policy_exposures(const pol_policy *policy, size_t *n);

/* The pipeline the policy builds: contention filters and scorers, NodePorts,
 * and the isolation filter and scorer where rules need them. Borrowed:
 * valid while the caller holds a reference to `policy`. */
const score_pipeline *pol_policy_pipeline(const pol_policy *policy);

/* Prepares the policy's caches for `model` (the isolation digests), so
 * that the first requests after a load do not build them. Call with the
 * model held for reading. */
void pol_policy_warm(const pol_policy *policy, const score_model *model);

/* Appends a one-line summary such as `policy "saas" is valid: 3 tenants
 * (strict), 1 dedicated pool, ...`. */
void pol_policy_summary(const pol_policy *policy, GString *out);

#endif
