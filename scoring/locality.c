/* Locality filter and scorer; see locality.h for the rules. */
#include "scoring/locality.h"

#include <errno.h>
#include <string.h>

#include "scoring/netpol.h"

#define DEFAULT_ZONE_LABEL "topology.kubernetes.io/zone"
#define DEFAULT_REGION_LABEL "topology.kubernetes.io/region"

/* Levels beyond this are ignored; a policy has a handful. */
#define MAX_LEVELS 16
/* The explanation lists this many domains per level. */
#define EXPLAIN_DOMAINS 3
/* Label sets up to this size are scanned rather than bisected. */
#define LINEAR_LABEL_SCAN 32
/* The cross-namespace index keeps lists for up to this many namespaces
 * beyond those with labels in the model, and starts afresh past that. */
#define INDEX_EXTRA_NAMESPACES 4096

/* The index of cross-namespace NetworkPolicies; defined below the peer
 * search it serves. */
static score_locality_index *index_new(void);
static void index_free(score_locality_index *index);

/* ---- Config -------------------------------------------------------------- */

void score_locality_init(score_locality_config *config)
{
	memset(config, 0, sizeof(*config));
	config->zone_label = score_intern(DEFAULT_ZONE_LABEL);
	config->region_label = score_intern(DEFAULT_REGION_LABEL);
	config->network_policy_max_cost = SCORE_LOCALITY_NO_MAX_COST;
	config->cross_namespace_index = index_new();
}

static void pairs_release(score_pair_cost *pairs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		score_unintern(pairs[i].first);
		score_unintern(pairs[i].second);
	}
	g_free(pairs);
}

void score_locality_release(score_locality_config *config)
{
	for (uint32_t i = 0; i < config->n_levels; i++)
		score_unintern(config->levels[i].key);
	g_free(config->levels);
	score_unintern(config->zone_label);
	score_unintern(config->region_label);
	pairs_release(config->zone_pairs, config->n_zone_pairs);
	pairs_release(config->region_pairs, config->n_region_pairs);
	for (uint32_t g = 0; g < config->n_groups; g++) {
		score_locality_group *group = &config->groups[g];

		for (uint32_t m = 0; m < group->n_members; m++) {
			score_selector_release(&group->members[m].pod_selector);
			score_selector_release(&group->members[m].namespace_selector);
		}
		g_free(group->members);
		g_free(group->name);
	}
	g_free(config->groups);
	g_free(config->exposures);
	index_free(config->cross_namespace_index);
	memset(config, 0, sizeof(*config));
}

void score_locality_use_index(score_locality_config *config, bool use)
{
	if (use && config->cross_namespace_index == NULL)
		config->cross_namespace_index = index_new();
	if (!use) {
		index_free(config->cross_namespace_index);
		config->cross_namespace_index = NULL;
	}
}

void score_locality_add_level(score_locality_config *config, const char *key,
			      int64_t cost)
{
	config->levels = g_renew(score_topology_level, config->levels,
				 config->n_levels + 1);
	config->levels[config->n_levels].key = score_intern(key);
	config->levels[config->n_levels].cost = cost;
	config->n_levels++;
}

static void add_pair(score_pair_cost **pairs, uint32_t *n, const char *first,
		     const char *second, int64_t cost)
{
	*pairs = g_renew(score_pair_cost, *pairs, *n + 1);
	(*pairs)[*n].first = score_intern(first);
	(*pairs)[*n].second = score_intern(second);
	(*pairs)[*n].cost = cost;
	(*n)++;
}

void score_locality_add_zone_pair(score_locality_config *config,
				  const char *first, const char *second,
				  int64_t cost)
{
	add_pair(&config->zone_pairs, &config->n_zone_pairs, first, second, cost);
}

void score_locality_add_region_pair(score_locality_config *config,
				    const char *first, const char *second,
				    int64_t cost)
{
	add_pair(&config->region_pairs, &config->n_region_pairs, first, second,
		 cost);
}

score_locality_group *score_locality_add_group(score_locality_config *config,
					       const char *name,
					       int64_t max_cost, bool hard)
{
	score_locality_group *group;

	config->groups = g_renew(score_locality_group, config->groups,
				 config->n_groups + 1);
	group = &config->groups[config->n_groups++];
	memset(group, 0, sizeof(*group));
	group->name = g_strdup(name);
	group->max_cost = max_cost;
	group->hard = hard;
	return group;
}

static void copy_selector(score_selector *to, const score_selector *from)
{
	score_selector_init(to);
	for (uint32_t i = 0; i < from->n_requirements; i++) {
		const score_selector_requirement *r = &from->requirements[i];

		score_selector_add(to, r->key, r->op, r->values, r->n_values);
	}
}

void score_locality_group_add_member(score_locality_group *group,
				     int security_group,
				     const score_selector *pod_selector,
				     const score_selector *namespace_selector)
{
	score_locality_member *member;

	group->members = g_renew(score_locality_member, group->members,
				 group->n_members + 1);
	member = &group->members[group->n_members++];
	memset(member, 0, sizeof(*member));
	member->security_group = security_group;
	score_selector_init(&member->pod_selector);
	score_selector_init(&member->namespace_selector);
	if (security_group >= 0)
		return;
	if (pod_selector != NULL) {
		member->has_pod_selector = true;
		copy_selector(&member->pod_selector, pod_selector);
	}
	if (namespace_selector != NULL) {
		member->has_namespace_selector = true;
		copy_selector(&member->namespace_selector, namespace_selector);
	}
}

void score_locality_add_exposure(score_locality_config *config,
				 uint32_t group, uint64_t from_groups)
{
	config->exposures = g_renew(score_locality_exposure, config->exposures,
				    config->n_exposures + 1);
	config->exposures[config->n_exposures].group = group;
	config->exposures[config->n_exposures].from_groups = from_groups;
	config->n_exposures++;
}

/* ---- Cost between two nodes ---------------------------------------------- */

/* Returns the value of `key` (interned) in `labels`, or NULL. Label keys
 * are interned too, so a scan comparing pointers finds the key without
 * the strcmp() calls of score_labels_get()'s bisection, which cost more
 * on the label sets nodes and pods usually have. */
static const char *label_of(const score_labels *labels, const char *key)
{
	if (labels == NULL)
		return NULL;
	if (labels->count > LINEAR_LABEL_SCAN)
		return score_labels_get(labels, key);
	for (uint32_t i = 0; i < labels->count; i++) {
		if (labels->items[i].key == key)
			return labels->items[i].value;
	}
	return NULL;
}

static const score_pair_cost *find_pair(const score_pair_cost *pairs,
					uint32_t n, const char *a, const char *b)
{
	if (a == NULL || b == NULL || a == b)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		if ((pairs[i].first == a && pairs[i].second == b) ||
		    (pairs[i].first == b && pairs[i].second == a))
			return &pairs[i];
	}
	return NULL;
}

int64_t score_locality_cost(const score_locality_config *config,
			    const char *name_a, const score_labels *labels_a,
			    const char *name_b, const score_labels *labels_b)
{
	const score_pair_cost *pair;
	uint32_t n = MIN(config->n_levels, MAX_LEVELS);
	const char *values_a[MAX_LEVELS];
	const char *values_b[MAX_LEVELS];
	int64_t cost = config->default_cost;

	if (name_a != NULL && name_b != NULL && strcmp(name_a, name_b) == 0)
		return 0;

	pair = find_pair(config->zone_pairs, config->n_zone_pairs,
			 label_of(labels_a, config->zone_label),
			 label_of(labels_b, config->zone_label));
	if (pair == NULL)
		pair = find_pair(config->region_pairs, config->n_region_pairs,
				 label_of(labels_a, config->region_label),
				 label_of(labels_b, config->region_label));
	if (pair != NULL)
		return pair->cost;

	for (uint32_t i = 0; i < n; i++) {
		values_a[i] = label_of(labels_a, config->levels[i].key);
		values_b[i] = label_of(labels_b, config->levels[i].key);
	}
	/* From coarsest to finest, the nodes agree on every level so far;
	 * the last level they share on that path is the finest. */
	for (uint32_t k = n; k > 0; k--) {
		uint32_t i = k - 1;

		if (values_a[i] != values_b[i])
			break;
		if (values_a[i] != NULL)
			cost = config->levels[i].cost;
	}
	return cost;
}

/* ---- Peer counts per node and topology domain ---------------------------- */

/* A topology domain: the nodes with `value` for level `level` that agree
 * on every coarser level, which domain `parent` is (-1 above the
 * coarsest). `value` is NULL for nodes without the label. */
typedef struct domain {
	int32_t level;
	int32_t parent;
	const char *value; /* interned, borrowed from a node */
	uint32_t count;    /* placed peers on its nodes */
	int32_t id;
	/* The id of the previous domain with the same value, at any level,
	 * or -1. */
	int32_t same_value;
} domain;

/* The peers of one source (all peers, or one hard group) and where they
 * run. */
typedef struct peer_counts {
	GHashTable *seen;   /* score_pod -> source bits */
	GPtrArray *peers;   /* score_pod, borrowed, in the order found */
	GPtrArray *reasons; /* const char *, parallel to peers: what made it
			       a peer (a NetworkPolicy key), or NULL */
	GHashTable *nodes;  /* node name (interned) -> peers there */
	GArray *domains;    /* domain, indexed by id */
	/* Label value (interned, or NULL) -> 1 + the id of the last domain
	 * with that value; domain.same_value links the others. Keyed by
	 * pointer alone, so a lookup calls no hash or equality function
	 * of ours. */
	GHashTable *domains_by_value;
	/* Zone and region label value -> GArray of the ids of the domains
	 * at the zone (region) level with that value, for pair costs. */
	GHashTable *zone_domains;
	GHashTable *region_domains;
	int zone_level;   /* the level of the zone label, or -1 */
	int region_level; /* the level of the region label, or -1 */
	uint32_t n;
} peer_counts;

static void free_id_array(gpointer data)
{
	g_array_free(data, TRUE);
}

static void counts_init(peer_counts *counts)
{
	/* A NULL equality function makes GHashTable compare keys with ==
	 * inline, as g_direct_equal() would through a call. */
	counts->seen = g_hash_table_new(g_direct_hash, NULL);
	counts->peers = g_ptr_array_new();
	counts->reasons = g_ptr_array_new();
	counts->nodes = g_hash_table_new(g_direct_hash, NULL);
	counts->domains = g_array_new(FALSE, FALSE, sizeof(domain));
	counts->domains_by_value = g_hash_table_new(g_direct_hash, NULL);
	counts->zone_domains = g_hash_table_new_full(g_direct_hash, NULL, NULL,
						     free_id_array);
	counts->region_domains = g_hash_table_new_full(g_direct_hash, NULL,
						       NULL, free_id_array);
	counts->zone_level = -1;
	counts->region_level = -1;
	counts->n = 0;
}

static void counts_release(peer_counts *counts)
{
	if (counts->seen == NULL)
		return;
	g_hash_table_unref(counts->seen);
	g_ptr_array_unref(counts->peers);
	g_ptr_array_unref(counts->reasons);
	g_hash_table_unref(counts->nodes);
	g_array_unref(counts->domains);
	g_hash_table_unref(counts->domains_by_value);
	g_hash_table_unref(counts->zone_domains);
	g_hash_table_unref(counts->region_domains);
	memset(counts, 0, sizeof(*counts));
}

/* Records `pod` from `source`; returns true when it was not a peer yet. */
static bool counts_add_peer(peer_counts *counts, score_pod *pod,
			    unsigned source, const char *reason)
{
	gpointer bits;

	if (g_hash_table_lookup_extended(counts->seen, pod, NULL, &bits)) {
		g_hash_table_insert(counts->seen, pod,
				    GUINT_TO_POINTER(GPOINTER_TO_UINT(bits) | source));
		return false;
	}
	g_hash_table_insert(counts->seen, pod, GUINT_TO_POINTER(source));
	g_ptr_array_add(counts->peers, pod);
	g_ptr_array_add(counts->reasons, (gpointer)reason);
	return true;
}

static const domain *domain_at(const peer_counts *counts, int32_t id)
{
	return &g_array_index(counts->domains, domain, id);
}

static int32_t domain_find(const peer_counts *counts, int32_t level,
			   const char *value, int32_t parent)
{
	int32_t id = (int32_t)GPOINTER_TO_INT(
		g_hash_table_lookup(counts->domains_by_value, value)) - 1;

	while (id >= 0) {
		const domain *d = domain_at(counts, id);

		if (d->level == level && d->parent == parent)
			return id;
		id = d->same_value;
	}
	return -1;
}

static int32_t domain_add(peer_counts *counts, int32_t level,
			  const char *value, int32_t parent, uint32_t count)
{
	int32_t id = domain_find(counts, level, value, parent);
	domain added;

	if (id < 0) {
		id = (int32_t)counts->domains->len;
		added = (domain){
			.level = level,
			.parent = parent,
			.value = value,
			.count = 0,
			.id = id,
			.same_value = (int32_t)GPOINTER_TO_INT(g_hash_table_lookup(
				counts->domains_by_value, value)) - 1,
		};
		g_array_append_val(counts->domains, added);
		g_hash_table_insert(counts->domains_by_value, (gpointer)value,
				    GINT_TO_POINTER(id + 1));
	}
	g_array_index(counts->domains, domain, id).count += count;
	return id;
}

static int level_of(const score_locality_config *config, const char *key)
{
	for (uint32_t i = 0; i < MIN(config->n_levels, MAX_LEVELS); i++) {
		if (config->levels[i].key == key)
			return (int)i;
	}
	return -1;
}

static void index_domain(GHashTable *by_value, const domain *d)
{
	GArray *ids = g_hash_table_lookup(by_value, d->value);

	if (ids == NULL) {
		ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
		g_hash_table_insert(by_value, (gpointer)d->value, ids);
	}
	g_array_append_val(ids, d->id);
}

/* Counts the peers per node, then each node's count into its domains. */
static void counts_aggregate(peer_counts *counts,
			     const score_locality_config *config,
			     const score_model *model)
{
	uint32_t n_levels = MIN(config->n_levels, MAX_LEVELS);
	GHashTableIter iter;
	gpointer key, value;
	int zone_level, region_level;

	for (guint i = 0; i < counts->peers->len; i++) {
		const score_pod *pod = g_ptr_array_index(counts->peers, i);
		guint on_node = GPOINTER_TO_UINT(
			g_hash_table_lookup(counts->nodes, pod->node_name));

		g_hash_table_insert(counts->nodes, (gpointer)pod->node_name,
				    GUINT_TO_POINTER(on_node + 1));
	}
	counts->n = counts->peers->len;

	g_hash_table_iter_init(&iter, counts->nodes);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const score_node *node = score_model_node(model, key);
		const score_labels *labels = node != NULL ? &node->labels : NULL;
		int32_t parent = -1;

		for (uint32_t k = n_levels; k > 0; k--) {
			int32_t level = (int32_t)(k - 1);

			parent = domain_add(counts, level,
					    label_of(labels, config->levels[level].key),
					    parent, GPOINTER_TO_UINT(value));
		}
	}

	zone_level = level_of(config, config->zone_label);
	region_level = level_of(config, config->region_label);
	counts->zone_level = zone_level;
	counts->region_level = region_level;
	for (guint id = 0; id < counts->domains->len; id++) {
		const domain *d = domain_at(counts, (int32_t)id);

		if (d->value != NULL && d->level == zone_level)
			index_domain(counts->zone_domains, d);
		else if (d->value != NULL && d->level == region_level)
			index_domain(counts->region_domains, d);
	}
}

/* ---- Evaluating one candidate ---------------------------------------------- */

/* How the peers of one source split by cost from one candidate. */
typedef struct cost_split {
	int64_t cost[MAX_LEVELS + 8];
	int64_t count[MAX_LEVELS + 8];
	size_t n;
} cost_split;

static void split_add(cost_split *split, int64_t cost, int64_t count)
{
	if (count == 0)
		return;
	for (size_t i = 0; i < split->n; i++) {
		if (split->cost[i] == cost) {
			split->count[i] += count;
			return;
		}
	}
	if (split->n < G_N_ELEMENTS(split->cost)) {
		split->cost[split->n] = cost;
		split->count[split->n] = count;
		split->n++;
	}
}

/* The candidate's place: its domain at each level (-1 where no peer's
 * node agrees) and the cost of peers first met at each level. */
typedef struct candidate_place {
	int32_t ids[MAX_LEVELS];
	int64_t level_cost[MAX_LEVELS];
	const char *zone;
	const char *region;
	int zone_level;
	int region_level;
} candidate_place;

static void place_candidate(const score_locality_config *config,
			    const peer_counts *counts, const score_node *node,
			    candidate_place *place)
{
	uint32_t n_levels = MIN(config->n_levels, MAX_LEVELS);
	const char *values[MAX_LEVELS];
	int64_t next_cost = config->default_cost;
	int32_t parent = -1;

	for (uint32_t i = 0; i < n_levels; i++)
		values[i] = label_of(&node->labels, config->levels[i].key);
	/* Peers whose nodes agree with the candidate from level i upwards
	 * but not below share the first level from i up that the candidate
	 * has a value for. */
	for (uint32_t k = n_levels; k > 0; k--) {
		uint32_t i = k - 1;

		if (values[i] != NULL)
			next_cost = config->levels[i].cost;
		place->level_cost[i] = next_cost;
		parent = parent < 0 && k != n_levels
				 ? -1
				 : domain_find(counts, (int32_t)i, values[i], parent);
		place->ids[i] = parent;
	}
	/* Pair costs need the zone or region to be a level (policies/
	 * checks that), so the values are already at hand. */
	place->zone_level = counts->zone_level;
	place->region_level = counts->region_level;
	place->zone = place->zone_level >= 0 ? values[place->zone_level] : NULL;
	place->region = place->region_level >= 0 ? values[place->region_level]
						 : NULL;
}

static int32_t ancestor(const peer_counts *counts, int32_t id, int32_t level)
{
	while (id >= 0) {
		const domain *d = domain_at(counts, id);

		if (d->level == level)
			return id;
		id = d->parent;
	}
	return -1;
}

/* The cost, from the candidate, of the peers in domain `id`, which does
 * not contain the candidate, before pair costs. */
static int64_t outside_cost(const score_locality_config *config,
			    const peer_counts *counts,
			    const candidate_place *place, int32_t id)
{
	const domain *d = domain_at(counts, id);
	uint32_t n_levels = MIN(config->n_levels, MAX_LEVELS);

	for (int32_t parent = d->parent; parent >= 0;
	     parent = domain_at(counts, parent)->parent) {
		int32_t level = domain_at(counts, parent)->level;

		if ((uint32_t)level < n_levels && place->ids[level] == parent)
			return place->level_cost[level];
	}
	return config->default_cost;
}

/* Returns the other value of `pair` when one of its values is `value`. */
static const char *paired_value(const score_pair_cost *pair, const char *value)
{
	if (pair->first == value)
		return pair->second;
	if (pair->second == value)
		return pair->first;
	return NULL;
}

/* Applies the pair costs of the candidate's zone and region: the peers in
 * a paired zone or region move from their level cost to the pair's.
 * Each pair costs a lookup, whatever the number of domains. */
static void split_pairs(const score_locality_config *config,
			const peer_counts *counts, const candidate_place *place,
			cost_split *split)
{
	GArray *zone_overridden = NULL; /* domain ids at the zone level */

	for (uint32_t p = 0; place->zone_level >= 0 && place->zone != NULL &&
			     p < config->n_zone_pairs; p++) {
		const score_pair_cost *pair = &config->zone_pairs[p];
		const char *other = paired_value(pair, place->zone);
		GArray *ids = other != NULL ? g_hash_table_lookup(counts->zone_domains, other)
					    : NULL;

		for (guint k = 0; ids != NULL && k < ids->len; k++) {
			const domain *d = domain_at(counts, g_array_index(ids, int32_t, k));
			int64_t old = outside_cost(config, counts, place, d->id);

			split_add(split, old, -(int64_t)d->count);
			split_add(split, pair->cost, d->count);
			/* Only region pairs read the list. */
			if (config->n_region_pairs == 0)
				continue;
			if (zone_overridden == NULL)
				zone_overridden = g_array_new(FALSE, FALSE, sizeof(int32_t));
			g_array_append_val(zone_overridden, d->id);
		}
	}

	for (uint32_t p = 0; place->region_level >= 0 && place->region != NULL &&
			     p < config->n_region_pairs; p++) {
		const score_pair_cost *pair = &config->region_pairs[p];
		const char *other = paired_value(pair, place->region);
		GArray *ids = other != NULL
				      ? g_hash_table_lookup(counts->region_domains, other)
				      : NULL;

		for (guint k = 0; ids != NULL && k < ids->len; k++) {
			const domain *d = domain_at(counts, g_array_index(ids, int32_t, k));
			int64_t moved = d->count;
			int64_t old;

			/* Peers already given a zone pair's cost keep it. */
			for (guint z = 0; zone_overridden != NULL &&
					  z < zone_overridden->len; z++) {
				int32_t zone_id = g_array_index(zone_overridden,
								int32_t, z);

				if (ancestor(counts, zone_id, d->level) == d->id)
					moved -= domain_at(counts, zone_id)->count;
			}
			old = outside_cost(config, counts, place, d->id);
			split_add(split, old, -moved);
			split_add(split, pair->cost, moved);
		}
	}
	if (zone_overridden != NULL)
		g_array_free(zone_overridden, TRUE);
}

/* Splits the peers of `counts` by their cost from `node`, leaving out
 * `excluded` peers that run on the node (preemption victims). */
static void split_costs(const score_locality_config *config,
			const peer_counts *counts, const score_node *node,
			uint32_t excluded, cost_split *split)
{
	uint32_t n_levels = MIN(config->n_levels, MAX_LEVELS);
	int64_t on_node = GPOINTER_TO_UINT(g_hash_table_lookup(counts->nodes,
							     node->name));
	candidate_place place;
	int64_t previous;

	split->n = 0;
	on_node -= excluded;
	split_add(split, 0, on_node);
	previous = on_node;

	place_candidate(config, counts, node, &place);
	for (uint32_t i = 0; i < n_levels; i++) {
		int64_t within = place.ids[i] >= 0
					 ? (int64_t)domain_at(counts, place.ids[i])->count -
						   excluded
					 : previous;

		/* Without a shared domain at this level (no peer agrees), no
		 * peer is added here. */
		if (within < previous)
			within = previous;
		split_add(split, place.level_cost[i], within - previous);
		previous = within;
	}
	split_add(split, config->default_cost,
		  (int64_t)counts->n - excluded - previous);
	split_pairs(config, counts, &place, split);
}

static int64_t split_total(const cost_split *split, int64_t *sum)
{
	int64_t n = 0;

	*sum = 0;
	for (size_t i = 0; i < split->n; i++) {
		*sum += split->cost[i] * split->count[i];
		n += split->count[i];
	}
	return n;
}

static int64_t split_max(const cost_split *split)
{
	int64_t max = -1;

	for (size_t i = 0; i < split->n; i++) {
		if (split->count[i] > 0 && split->cost[i] > max)
			max = split->cost[i];
	}
	return max;
}

static int64_t split_over(const cost_split *split, int64_t limit)
{
	int64_t over = 0;

	for (size_t i = 0; i < split->n; i++) {
		if (split->cost[i] > limit)
			over += split->count[i];
	}
	return over;
}

/* ---- Resolving selectors to pods ------------------------------------------ */

/* The pods a selector pair selects: those matching `pods` (every pod
 * when NULL) in `namespace`, or in the namespaces matching `namespaces`,
 * or in every namespace when both are NULL. */
typedef struct pod_query {
	const score_selector *pods;
	const char *namespace;
	const score_selector *namespaces;
} pod_query;

typedef void (*pod_visit_fn)(score_pod *pod, void *data);

typedef struct query_run {
	const score_model *model;
	const pod_query *query;
	pod_visit_fn visit;
	void *data;
} query_run;

/* Returns the smallest index bucket of a single-valued In requirement of
 * `selector` (a matchLabels entry), from the namespace-label index when
 * `namespace` is not NULL, or false when it has none. */
static bool narrowest_label(const score_model *model, const char *namespace,
			    const score_selector *selector,
			    score_pod *const **pods, size_t *n)
{
	bool found = false;

	for (uint32_t i = 0; selector != NULL && i < selector->n_requirements; i++) {
		const score_selector_requirement *r = &selector->requirements[i];
		score_pod *const *bucket;
		size_t size;

		if (r->op != SCORE_SELECTOR_IN || r->n_values != 1)
			continue;
		if (namespace != NULL)
			bucket = score_model_namespace_label_pods(
				model, namespace, r->key, r->values[0], &size);
		else
			bucket = score_model_label_pods(model, r->key, r->values[0],
							&size);
		if (!found || size < *n) {
			*pods = bucket;
			*n = size;
			found = true;
		}
	}
	return found;
}

static bool pod_selector_matches(const pod_query *query, const score_pod *pod)
{
	return query->pods == NULL || score_selector_matches(query->pods, &pod->labels);
}

static void visit_namespace(const char *name, score_pod *const *pods,
			    size_t n, void *data)
{
	const query_run *run = data;

	if (run->query->namespaces != NULL &&
	    !score_namespace_selector_matches(run->query->namespaces, run->model,
					      name))
		return;
	for (size_t i = 0; i < n; i++) {
		if (pod_selector_matches(run->query, pods[i]))
			run->visit(pods[i], run->data);
	}
}

static void run_query(const score_model *model, const pod_query *query,
		      pod_visit_fn visit, void *data)
{
	query_run run = {model, query, visit, data};
	score_pod *const *pods = NULL;
	size_t n = 0;
	GHashTable *namespace_matches;

	if (query->namespace != NULL &&
	    narrowest_label(model, query->namespace, query->pods, &pods, &n)) {
		/* Every pod of the bucket meets the requirement it was looked
		 * up by. A selector of only that requirement therefore needs no
		 * check, which skips reading each pod's labels. */
		bool checked = query->pods->n_requirements > 1;

		for (size_t i = 0; i < n; i++) {
			if (!checked || pod_selector_matches(query, pods[i]))
				visit(pods[i], data);
		}
		return;
	}
	if (query->namespace != NULL) {
		pods = score_model_namespace_pods(model, query->namespace, &n);
		visit_namespace(query->namespace, pods, n, &run);
		return;
	}

	if (narrowest_label(model, NULL, query->pods, &pods, &n)) {
		/* Remembers each namespace's match, so the selector runs
		 * once per namespace, not once per pod. */
		namespace_matches = g_hash_table_new(g_direct_hash, g_direct_equal);
		for (size_t i = 0; i < n; i++) {
			score_pod *pod = pods[i];
			gpointer known;
			bool match;

			if (query->namespaces == NULL) {
				match = true;
			} else if (g_hash_table_lookup_extended(namespace_matches,
								pod->namespace, NULL,
								&known)) {
				match = GPOINTER_TO_UINT(known) != 0;
			} else {
				match = score_namespace_selector_matches(
					query->namespaces, model, pod->namespace);
				g_hash_table_insert(namespace_matches,
						    (gpointer)pod->namespace,
						    GUINT_TO_POINTER(match));
			}
			if (match && pod_selector_matches(query, pod))
				visit(pod, data);
		}
		g_hash_table_unref(namespace_matches);
		return;
	}
	/* NOTE: a selector without a matchLabels entry and without a single
	 * namespace walks the pods of every matching namespace; with no
	 * namespaceSelector that is every pod of the cluster. */
	score_model_foreach_pod_namespace(model, visit_namespace, &run);
}

/* ---- Finding peers ----------------------------------------------------------- */

/* A collection of one request's peers. */
typedef struct collector {
	const score_locality_config *config;
	const score_model *model;
	const score_pod *self;
	peer_counts *all;
	peer_counts *source;  /* the current hard source's counts, or NULL */
	unsigned source_bit;
	const char *reason;   /* the current NetworkPolicy's key, or NULL */
	uint64_t self_groups; /* isolation groups of the pod */
	const char *self_uid; /* interned, owned; NULL without a uid */
} collector;

/* Model pods have interned uids (score_pod.uid), so comparing with the
 * interned uid of the pod being placed replaces strcmp(). */
static bool is_self(const collector *c, const score_pod *pod)
{
	return pod == c->self || (pod->uid != NULL && pod->uid == c->self_uid);
}

static void collect_pod(score_pod *pod, void *data)
{
	collector *c = data;

	if (!score_pod_counts(pod) || is_self(c, pod))
		return;
	counts_add_peer(c->all, pod, c->source_bit, c->reason);
	if (c->source != NULL)
		counts_add_peer(c->source, pod, c->source_bit, c->reason);
}

/* A peer that matches every pod of every namespace allows all traffic
 * from inside the cluster, like a rule without peers. */
static bool peer_matches_everything(const score_network_policy_peer *peer)
{
	return peer->has_namespace_selector &&
	       peer->namespace_selector.n_requirements == 0 &&
	       (!peer->has_pod_selector || peer->pod_selector.n_requirements == 0);
}

/* (a) The pods that the peers of `rules` select. */
static void collect_rule_peers(collector *c,
			       const score_network_policy *policy,
			       const score_network_policy_rule *rules,
			       uint32_t n_rules)
{
	for (uint32_t r = 0; r < n_rules; r++) {
		for (uint32_t p = 0; p < rules[r].n_peers; p++) {
			const score_network_policy_peer *peer = &rules[r].peers[p];
			pod_query query = {0};

			if (!score_network_policy_peer_has_pods(peer) ||
			    peer_matches_everything(peer))
				continue;
			query.pods = peer->has_pod_selector ? &peer->pod_selector : NULL;
			if (peer->has_namespace_selector)
				query.namespaces = &peer->namespace_selector;
			else
				query.namespace = policy->namespace;
			run_query(c->model, &query, collect_pod, c);
		}
	}
}

/* Returns true when a peer of `rules` matches the pod being placed. */
static bool rules_match_self(const collector *c,
			     const score_network_policy *policy,
			     const score_network_policy_rule *rules,
			     uint32_t n_rules)
{
	for (uint32_t r = 0; r < n_rules; r++) {
		for (uint32_t p = 0; p < rules[r].n_peers; p++) {
			const score_network_policy_peer *peer = &rules[r].peers[p];

			if (!peer_matches_everything(peer) &&
			    score_network_policy_peer_matches(peer, policy->namespace,
							      c->model, c->self))
				return true;
		}
	}
	return false;
}

/* (b) The pods a policy selects, when its rules name the pod as a peer. */
static void collect_reverse(collector *c, const score_network_policy *policy)
{
	pod_query query = {.pods = &policy->pod_selector,
			   .namespace = policy->namespace};

	if ((policy->ingress &&
	     rules_match_self(c, policy, policy->ingress_rules,
			      policy->n_ingress_rules)) ||
	    (policy->egress &&
	     rules_match_self(c, policy, policy->egress_rules,
			      policy->n_egress_rules)))
		run_query(c->model, &query, collect_pod, c);
}

/* ---- Cross-namespace NetworkPolicy index ------------------------------------ */

/* A pod can be a peer of another namespace's policy only through a peer
 * with a namespaceSelector, whose match depends on nothing but the pod's
 * namespace. So the policies worth testing for the pods of one namespace
 * depend only on that namespace's labels and on the policies. They stay
 * valid until the model's namespace or NetworkPolicy generation changes. */
struct score_locality_index {
	GMutex lock;
	/* The model and generations the lists were built for. The model is
	 * compared, never dereferenced. Namespace generations are stamps
	 * unique across models, so a model freed and another allocated at
	 * its address cannot reuse the lists. */
	const score_model *model;
	uint64_t namespace_generation;
	uint64_t network_policy_generation;
	/* Namespace name -> GPtrArray of score_network_policy borrowed from
	 * the model, in the order of
	 * score_model_cross_namespace_network_policies(), or NULL when no
	 * policy qualifies. The table holds a reference to each interned
	 * name. An array is immutable once in the table, and a request reads
	 * it through its own reference. */
	GHashTable *lists;
};

static void list_unref(gpointer list)
{
	if (list != NULL)
		g_ptr_array_unref(list);
}

static score_locality_index *index_new(void)
{
	score_locality_index *index = g_new0(score_locality_index, 1);

	g_mutex_init(&index->lock);
	index->lists = g_hash_table_new_full(g_str_hash, g_str_equal,
					     (GDestroyNotify)score_unintern,
					     list_unref);
	return index;
}

static void index_free(score_locality_index *index)
{
	if (index == NULL)
		return;
	g_hash_table_destroy(index->lists);
	g_mutex_clear(&index->lock);
	g_free(index);
}

/* Returns true when a peer of `rules` has a namespaceSelector that
 * matches `namespace` and could name a pod there: the test of
 * rules_match_self() without the pod's labels. */
static bool rules_name_namespace(const score_network_policy_rule *rules,
				 uint32_t n_rules, const score_model *model,
				 const char *namespace)
{
	for (uint32_t r = 0; r < n_rules; r++) {
		for (uint32_t p = 0; p < rules[r].n_peers; p++) {
			const score_network_policy_peer *peer = &rules[r].peers[p];

			if (!peer->has_namespace_selector ||
			    !score_network_policy_peer_has_pods(peer) ||
			    peer_matches_everything(peer))
				continue;
			if (score_namespace_selector_matches(&peer->namespace_selector,
							     model, namespace))
				return true;
		}
	}
	return false;
}

/* Returns the policies of other namespaces that may name a pod of
 * `namespace` as a peer, or NULL when none may. The caller drops the
 * array with g_ptr_array_unref(). */
static GPtrArray *build_list(const score_model *model, const char *namespace)
{
	const GPtrArray *cross = score_model_cross_namespace_network_policies(model);
	GPtrArray *list = NULL;

	for (guint i = 0; cross != NULL && i < cross->len; i++) {
		const score_network_policy *policy = g_ptr_array_index(cross, i);

		if (strcmp(policy->namespace, namespace) == 0)
			continue;
		if (!(policy->ingress &&
		      rules_name_namespace(policy->ingress_rules,
					   policy->n_ingress_rules, model,
					   namespace)) &&
		    !(policy->egress &&
		      rules_name_namespace(policy->egress_rules,
					   policy->n_egress_rules, model,
					   namespace)))
			continue;
		if (list == NULL)
			list = g_ptr_array_new();
		g_ptr_array_add(list, (gpointer)policy);
	}
	return list;
}

/* Empties the index when it was built for another model or generation.
 * Called with the lock held. */
static void index_follow(score_locality_index *index, const score_model *model,
			 uint64_t namespace_generation,
			 uint64_t network_policy_generation)
{
	if (index->model == model &&
	    index->namespace_generation == namespace_generation &&
	    index->network_policy_generation == network_policy_generation)
		return;
	g_hash_table_remove_all(index->lists);
	index->model = model;
	index->namespace_generation = namespace_generation;
	index->network_policy_generation = network_policy_generation;
}

/* Returns the list of build_list() for `namespace` from the index, built
 * and stored on a miss, or NULL when no policy qualifies. The caller
 * drops a returned array with g_ptr_array_unref(). The list is built
 * without the lock, so two requests that miss at once both build it. */
static GPtrArray *index_lookup(score_locality_index *index,
			       const score_model *model, const char *namespace)
{
	uint64_t namespace_generation = score_model_namespace_generation(model);
	uint64_t network_policy_generation =
		score_model_network_policy_generation(model);
	size_t limit = score_model_namespace_count(model) + INDEX_EXTRA_NAMESPACES;
	GPtrArray *list = NULL;
	gpointer cached;
	bool found;

	g_mutex_lock(&index->lock);
	index_follow(index, model, namespace_generation, network_policy_generation);
	found = g_hash_table_lookup_extended(index->lists, namespace, NULL, &cached);
	if (found && cached != NULL)
		list = g_ptr_array_ref(cached);
	g_mutex_unlock(&index->lock);
	if (found)
		return list;

	list = build_list(model, namespace);

	g_mutex_lock(&index->lock);
	index_follow(index, model, namespace_generation, network_policy_generation);
	if (g_hash_table_size(index->lists) >= limit)
		g_hash_table_remove_all(index->lists);
	g_hash_table_insert(index->lists, (gpointer)score_intern(namespace),
			    list != NULL ? g_ptr_array_ref(list) : NULL);
	g_mutex_unlock(&index->lock);
	return list;
}

/* (b) for the policies of other namespaces: those the index lists for
 * the pod's namespace, or every cross-namespace policy without the
 * index. */
static void collect_cross_namespace(collector *c)
{
	score_locality_index *index = c->config->cross_namespace_index;
	const char *namespace = c->self->namespace;
	const GPtrArray *cross = score_model_cross_namespace_network_policies(c->model);
	GPtrArray *list;

	/* A pod without a namespace matches no peer
	 * (score_network_policy_peer_matches()). */
	if (cross == NULL || namespace == NULL)
		return;
	if (index == NULL) {
		for (guint i = 0; i < cross->len; i++) {
			const score_network_policy *policy = g_ptr_array_index(cross, i);

			/* The namespace's own policies were handled already. */
			if (strcmp(policy->namespace, namespace) == 0)
				continue;
			c->reason = policy->key;
			collect_reverse(c, policy);
		}
		return;
	}

	list = index_lookup(index, c->model, namespace);
	for (guint i = 0; list != NULL && i < list->len; i++) {
		const score_network_policy *policy = g_ptr_array_index(list, i);

		c->reason = policy->key;
		collect_reverse(c, policy);
	}
	if (list != NULL)
		g_ptr_array_unref(list);
}

static void collect_network_policies(collector *c)
{
	const GPtrArray *local = score_model_namespace_network_policies(
		c->model, c->self->namespace);

	c->source_bit = SCORE_PEER_NETWORK_POLICY;
	for (guint i = 0; local != NULL && i < local->len; i++) {
		const score_network_policy *policy = g_ptr_array_index(local, i);

		c->reason = policy->key;
		if (score_network_policy_selects(policy, c->self->namespace,
						 &c->self->labels)) {
			if (policy->ingress)
				collect_rule_peers(c, policy, policy->ingress_rules,
						   policy->n_ingress_rules);
			if (policy->egress)
				collect_rule_peers(c, policy, policy->egress_rules,
						   policy->n_egress_rules);
		}
		collect_reverse(c, policy);
	}
	collect_cross_namespace(c);
	c->reason = NULL;
}

static bool member_matches(const collector *c,
			   const score_locality_member *member)
{
	const score_isolation_config *isolation = c->config->isolation;

	if (member->security_group >= 0)
		return isolation != NULL &&
		       (uint32_t)member->security_group < isolation->n_groups &&
		       score_isolation_pod_in_group(isolation, c->model, c->self,
						    (uint32_t)member->security_group);
	if (member->has_namespace_selector &&
	    !score_namespace_selector_matches(&member->namespace_selector,
					      c->model, c->self->namespace))
		return false;
	return !member->has_pod_selector ||
	       score_selector_matches(&member->pod_selector, &c->self->labels);
}

/* The pods of security group `index`. */
static void collect_security_group(collector *c, uint32_t index)
{
	const score_isolation_config *isolation = c->config->isolation;
	const score_security_group *group;
	pod_query query = {0};

	if (isolation == NULL || index >= isolation->n_groups)
		return;
	group = &isolation->groups[index];
	query.pods = group->has_pod_selector ? &group->pod_selector : NULL;
	query.namespaces = group->has_namespace_selector ? &group->namespace_selector
							 : NULL;
	run_query(c->model, &query, collect_pod, c);
}

static void collect_member(collector *c, const score_locality_member *member)
{
	pod_query query = {0};

	if (member->security_group >= 0) {
		collect_security_group(c, (uint32_t)member->security_group);
		return;
	}
	query.pods = member->has_pod_selector ? &member->pod_selector : NULL;
	query.namespaces = member->has_namespace_selector
				   ? &member->namespace_selector
				   : NULL;
	run_query(c->model, &query, collect_pod, c);
}

static bool in_group(const score_locality_group *group, const collector *c)
{
	for (uint32_t m = 0; m < group->n_members; m++) {
		if (member_matches(c, &group->members[m]))
			return true;
	}
	return false;
}

static void collect_exposures(collector *c)
{
	const score_locality_config *config = c->config;

	c->source_bit = SCORE_PEER_EXPOSURE;
	for (uint32_t e = 0; e < config->n_exposures; e++) {
		const score_locality_exposure *exposure = &config->exposures[e];
		uint64_t group_bit = UINT64_C(1) << exposure->group;

		if (c->self_groups & group_bit) {
			for (uint32_t g = 0; g < SCORE_MAX_SECURITY_GROUPS; g++) {
				if (exposure->from_groups & (UINT64_C(1) << g))
					collect_security_group(c, g);
			}
		}
		if (c->self_groups & exposure->from_groups)
			collect_security_group(c, exposure->group);
	}
}

static uint64_t groups_of_self(const collector *c)
{
	const score_isolation_config *isolation = c->config->isolation;
	uint64_t groups = 0;

	if (isolation == NULL || c->config->n_exposures == 0)
		return 0;
	for (uint32_t g = 0; g < isolation->n_groups && g < SCORE_MAX_SECURITY_GROUPS; g++) {
		if (score_isolation_pod_in_group(isolation, c->model, c->self, g))
			groups |= UINT64_C(1) << g;
	}
	return groups;
}

/* ---- Per-request state -------------------------------------------------------- */

/* A hard source: a group or the NetworkPolicy derivation with a max cost
 * that rejects. */
typedef struct hard_source {
	const score_locality_group *group; /* NULL: NetworkPolicies */
	int64_t max_cost;
	peer_counts counts;
} hard_source;

typedef struct locality_state {
	const score_locality_config *config;
	const score_model *model;
	peer_counts all;
	hard_source *hard; /* owned */
	uint32_t n_hard;
} locality_state;

static hard_source *add_hard(locality_state *state,
			     const score_locality_group *group, int64_t max_cost)
{
	hard_source *source = &state->hard[state->n_hard++];

	source->group = group;
	source->max_cost = max_cost;
	counts_init(&source->counts);
	return source;
}

void *score_locality_prepare(const void *config_data, const score_request *request)
{
	const score_locality_config *config = config_data;
	locality_state *state = g_new0(locality_state, 1);
	collector c = {0};

	state->config = config;
	state->model = request->model;
	counts_init(&state->all);
	state->hard = g_new0(hard_source, config->n_groups + 1);

	c.config = config;
	c.model = request->model;
	c.self = request->pod;
	c.self_uid = score_intern(request->pod->uid);
	c.all = &state->all;

	if (config->network_policies) {
		if (config->network_policy_hard &&
		    config->network_policy_max_cost != SCORE_LOCALITY_NO_MAX_COST)
			c.source = &add_hard(state, NULL,
					     config->network_policy_max_cost)->counts;
		collect_network_policies(&c);
		c.source = NULL;
	}
	c.source_bit = SCORE_PEER_GROUP;
	for (uint32_t g = 0; g < config->n_groups; g++) {
		const score_locality_group *group = &config->groups[g];

		if (!in_group(group, &c))
			continue;
		if (group->hard && group->max_cost != SCORE_LOCALITY_NO_MAX_COST)
			c.source = &add_hard(state, group, group->max_cost)->counts;
		for (uint32_t m = 0; m < group->n_members; m++)
			collect_member(&c, &group->members[m]);
		c.source = NULL;
	}
	c.self_groups = groups_of_self(&c);
	if (c.self_groups != 0)
		collect_exposures(&c);

	score_unintern(c.self_uid);

	counts_aggregate(&state->all, config, request->model);
	for (uint32_t h = 0; h < state->n_hard; h++)
		counts_aggregate(&state->hard[h].counts, config, request->model);
	return state;
}

void score_locality_release_state(void *data)
{
	locality_state *state = data;

	if (state == NULL)
		return;
	counts_release(&state->all);
	for (uint32_t h = 0; h < state->n_hard; h++)
		counts_release(&state->hard[h].counts);
	g_free(state->hard);
	g_free(state);
}

GHashTable *score_locality_peers(const score_locality_config *config,
				 const score_model *model,
				 const score_pod *pod)
{
	score_request request = {.model = model, .pod = pod};
	locality_state *state = score_locality_prepare(config, &request);
	GHashTable *peers = g_hash_table_ref(state->all.seen);

	score_locality_release_state(state);
	return peers;
}

/* Counts the preemption victims among the peers in `counts`. */
static uint32_t victim_peers(const peer_counts *counts,
			     const score_usage *usage)
{
	uint32_t n = 0;

	for (size_t i = 0; i < usage->n_victims; i++) {
		if (g_hash_table_contains(counts->seen, usage->victims[i]))
			n++;
	}
	return n;
}

/* ---- Filter ------------------------------------------------------------------- */

static void append_pod(GString *out, const score_pod *pod)
{
	g_string_append_printf(out, "%s/%s", pod->namespace ? pod->namespace : "",
			       pod->name ? pod->name : pod->uid);
}

/* Appends the reason for source `hard`: its farthest peer, by a walk over
 * its peers that runs only for a rejected node. */
static void append_rejection(GString *reason, size_t start,
			     const locality_state *state,
			     const hard_source *hard, const score_node *node,
			     const score_usage *usage, int64_t over, int64_t total)
{
	const score_pod *farthest = NULL;
	const char *policy_key = NULL;
	int64_t farthest_cost = -1;

	for (guint i = 0; i < hard->counts.peers->len; i++) {
		const score_pod *pod = g_ptr_array_index(hard->counts.peers, i);
		const score_node *peer_node;
		int64_t cost;

		if (score_usage_is_victim(usage, pod))
			continue;
		peer_node = score_model_node(state->model, pod->node_name);
		cost = score_locality_cost(state->config, node->name, &node->labels,
					   pod->node_name,
					   peer_node != NULL ? &peer_node->labels : NULL);
		if (cost > farthest_cost) {
			farthest = pod;
			farthest_cost = cost;
			policy_key = g_ptr_array_index(hard->counts.reasons, i);
		}
	}
	if (farthest == NULL)
		return;

	if (reason->len > start)
		g_string_append(reason, "; ");
	if (hard->group != NULL)
		g_string_append_printf(reason, "locality group \"%s\"", hard->group->name);
	else
		g_string_append_printf(reason, "NetworkPolicy %s", policy_key != NULL ? policy_key : "");
	g_string_append_printf(reason, ": cost %" G_GINT64_FORMAT " to ", farthest_cost);
	append_pod(reason, farthest);
	g_string_append_printf(reason, " on %s exceeds maxCost %" G_GINT64_FORMAT,
			       farthest->node_name, hard->max_cost);
	if (over > 1)
		g_string_append_printf(reason, " (%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
				       " peers are over the limit)", over, total);
}

score_fit score_filter_locality(const void *data, const score_request *request,
				const score_node *node,
				const score_usage *usage, GString *reason)
{
	const locality_state *state = data;
	size_t start = reason->len;

	(void)request;
	for (uint32_t h = 0; h < state->n_hard; h++) {
		const hard_source *hard = &state->hard[h];
		uint32_t excluded;
		cost_split split;
		int64_t sum, total, over;

		if (hard->counts.n == 0)
			continue;
		excluded = victim_peers(&hard->counts, usage);
		split_costs(state->config, &hard->counts, node, excluded, &split);
		if (split_max(&split) <= hard->max_cost)
			continue;
		total = split_total(&split, &sum);
		over = split_over(&split, hard->max_cost);
		append_rejection(reason, start, state, hard, node, usage, over,
				 total);
	}
	return reason->len > start ? SCORE_REJECT_UNRESOLVABLE : SCORE_FIT;
}

/* ---- Scorer ------------------------------------------------------------------- */

int64_t score_locality(const void *data, const score_request *request,
		       const score_node *node, const score_usage *usage)
{
	const locality_state *state = data;
	uint32_t excluded;
	cost_split split;
	int64_t sum, total;

	(void)request;
	if (state->all.n == 0)
		return SCORE_SKIP;
	excluded = victim_peers(&state->all, usage);
	split_costs(state->config, &state->all, node, excluded, &split);
	total = split_total(&split, &sum);
	if (total <= 0)
		return 0;
	return sum * 1000 / total;
}

void score_locality_normalize(const void *data, int64_t *scores, size_t n)
{
	int64_t worst = 0;

	(void)data;
	for (size_t i = 0; i < n; i++) {
		if (scores[i] != SCORE_SKIP && scores[i] > worst)
			worst = scores[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (scores[i] == SCORE_SKIP)
			continue;
		scores[i] = worst == 0 ? SCORE_MAX_NODE_SCORE
				       : SCORE_MAX_NODE_SCORE * (worst - scores[i]) / worst;
	}
}

/* ---- Explanation -------------------------------------------------------------- */

static gint compare_costs(gconstpointer a, gconstpointer b)
{
	int64_t left = *(const int64_t *)a;
	int64_t right = *(const int64_t *)b;

	return left < right ? -1 : left > right;
}

/* Explains a node's cost to the peers: "network cost to 5 peers: mean
 * 2.40 (2 at cost 0, 3 at cost 4)". Nothing when every peer is on the
 * node, which no candidate can beat. */
static void explain_locality_node(const void *data, const score_request *request,
				  const score_node *node, const score_usage *usage,
				  GString *out)
{
	const locality_state *state = data;
	int64_t pairs[MAX_LEVELS + 8][2];
	cost_split split;
	int64_t sum, total;
	size_t n = 0;

	(void)request;
	if (state->all.n == 0)
		return;
	split_costs(state->config, &state->all, node,
		    victim_peers(&state->all, usage), &split);
	total = split_total(&split, &sum);
	if (total <= 0 || sum == 0)
		return;
	for (size_t i = 0; i < split.n; i++) {
		if (split.count[i] <= 0)
			continue;
		pairs[n][0] = split.cost[i];
		pairs[n][1] = split.count[i];
		n++;
	}
	qsort(pairs, n, sizeof(pairs[0]), compare_costs);
	g_string_append_printf(out, "network cost to %lld peer%s: mean %.2f (",
			       (long long)total, total == 1 ? "" : "s",
			       (double)sum / (double)total);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(out, "%s%lld at cost %lld", i > 0 ? ", " : "",
				       (long long)pairs[i][1], (long long)pairs[i][0]);
	g_string_append_c(out, ')');
}

/* Adds the EXPLAIN_DOMAINS busiest values of level `level` to `out` as
 * value: peer count. */
static void add_level_domains(cJSON *out, const peer_counts *counts,
			      int32_t level)
{
	const domain *top[EXPLAIN_DOMAINS] = {NULL};

	for (guint id = 0; id < counts->domains->len; id++) {
		const domain *d = domain_at(counts, (int32_t)id);
		int at = EXPLAIN_DOMAINS;

		if (d->level != level || d->value == NULL)
			continue;
		while (at > 0 && (top[at - 1] == NULL || top[at - 1]->count < d->count))
			at--;
		if (at >= EXPLAIN_DOMAINS)
			continue;
		memmove(&top[at + 1], &top[at], sizeof(top[0]) * (EXPLAIN_DOMAINS - 1 - at));
		top[at] = d;
	}
	for (int i = 0; i < EXPLAIN_DOMAINS && top[i] != NULL; i++)
		cJSON_AddNumberToObject(out, top[i]->value, top[i]->count);
}

void score_locality_explain(const void *data, const score_request *request,
			    cJSON *out)
{
	const locality_state *state = data;
	const peer_counts *all = &state->all;
	unsigned by_source[3] = {0};
	cJSON *sources, *domains;
	GHashTableIter iter;
	gpointer bits;

	(void)request;
	if (all->n == 0)
		return;
	g_hash_table_iter_init(&iter, all->seen);
	while (g_hash_table_iter_next(&iter, NULL, &bits)) {
		for (int s = 0; s < 3; s++) {
			if (GPOINTER_TO_UINT(bits) & (1u << s))
				by_source[s]++;
		}
	}
	/* cJSON's Add functions return NULL on allocation failure and then
	 * leave `out` as it was, so a short explanation is the worst case. */
	cJSON_AddNumberToObject(out, "peers", all->n);
	cJSON_AddNumberToObject(out, "nodes", g_hash_table_size(all->nodes));
	sources = cJSON_AddObjectToObject(out, "sources");
	if (sources != NULL) {
		cJSON_AddNumberToObject(sources, "networkPolicies", by_source[0]);
		cJSON_AddNumberToObject(sources, "groups", by_source[1]);
		cJSON_AddNumberToObject(sources, "exposure", by_source[2]);
	}
	domains = cJSON_AddObjectToObject(out, "domains");
	for (uint32_t i = 0; domains != NULL &&
			     i < MIN(state->config->n_levels, MAX_LEVELS); i++) {
		cJSON *level = cJSON_AddObjectToObject(
			domains, state->config->levels[i].key);

		if (level != NULL)
			add_level_domains(level, all, (int32_t)i);
	}
}

/* ---- Pipeline ----------------------------------------------------------------- */

static bool has_hard_source(const score_locality_config *config)
{
	if (config->network_policies && config->network_policy_hard &&
	    config->network_policy_max_cost != SCORE_LOCALITY_NO_MAX_COST)
		return true;
	for (uint32_t g = 0; g < config->n_groups; g++) {
		if (config->groups[g].hard &&
		    config->groups[g].max_cost != SCORE_LOCALITY_NO_MAX_COST)
			return true;
	}
	return false;
}

static bool has_source(const score_locality_config *config)
{
	return config->network_policies || config->n_groups > 0 ||
	       config->n_exposures > 0;
}

int score_pipeline_add_locality(score_pipeline *pipeline,
				const score_locality_config *config,
				int64_t weight, score_error *err)
{
	const score_hooks hooks = {.prepare = score_locality_prepare,
				   .release = score_locality_release_state,
				   .explain = score_locality_explain,
				   .explain_node = explain_locality_node};
	int rc;

	if (has_hard_source(config)) {
		const score_filter filter = {"Locality", score_filter_locality, config};

		rc = score_pipeline_add_filter_with_hooks(pipeline, &filter, &hooks,
							  err);
		if (rc < 0)
			return rc;
	}
	if (weight > 0 && has_source(config)) {
		const score_scorer scorer = {"Locality", score_locality,
					     score_locality_normalize, config,
					     weight};

		rc = score_pipeline_add_scorer_with_hooks(pipeline, &scorer, &hooks,
							  err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
