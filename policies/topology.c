/* spec.topology and spec.locality: parsed and validated into typed form
 * (policy.h), and turned into the locality criterion's config
 * (scoring/locality.h). */
#include "policies/internal.h"

#include <string.h>

/* Costs are abstract units; the bound keeps sums of many hops far from
 * int64 overflow. */
#define MAX_COST 1000000

#define DEFAULT_ZONE_LABEL "topology.kubernetes.io/zone"
#define DEFAULT_REGION_LABEL "topology.kubernetes.io/region"

/* ---- spec.topology --------------------------------------------------------- */

static void read_level(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, GArray *levels)
{
	static const char *const fields[] = {"key", "cost", NULL};
	const pol_yaml_node *key_node;
	const pol_yaml_node *cost_node;
	pol_topology_level level = {0};
	char field[POL_PATH_MAX];
	const char *key;
	bool ok;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	key_node = pol_require(reader, node, path, "key",
			       "name the node label of this level, e.g. topology.kubernetes.io/zone");
	cost_node = pol_require(reader, node, path, "cost",
				"give the cost between two nodes that share this level and no finer one");

	pol_path_key(field, path, "key");
	ok = key_node != NULL && pol_read_label_key(reader, key_node, field, &key);
	pol_path_key(field, path, "cost");
	ok = cost_node != NULL &&
	     pol_read_int(reader, cost_node, field, 0, MAX_COST, &level.cost) && ok;
	if (!ok)
		return;

	for (guint i = 0; i < levels->len; i++) {
		const pol_topology_level *finer =
			&g_array_index(levels, pol_topology_level, i);

		if (strcmp(finer->key, key) == 0) {
			pol_path_key(field, path, "key");
			pol_error(reader, key_node, field,
				  "label %s is already level %u; each level needs its own label",
				  key, i);
			return;
		}
	}
	if (levels->len > 0) {
		const pol_topology_level *finer =
			&g_array_index(levels, pol_topology_level, levels->len - 1);

		if (level.cost < finer->cost) {
			pol_path_key(field, path, "cost");
			pol_error(reader, cost_node, field,
				  "cost %" G_GINT64_FORMAT " is below the cost %" G_GINT64_FORMAT " of the finer level %s; list levels from finest to coarsest with costs that do not decrease",
				  level.cost, finer->cost, finer->key);
			return;
		}
	}
	level.key = g_strdup(key);
	g_array_append_val(levels, level);
}

static bool topology_has_level(const GArray *levels, const char *key)
{
	for (guint i = 0; i < levels->len; i++) {
		if (strcmp(g_array_index(levels, pol_topology_level, i).key, key) == 0)
			return true;
	}
	return false;
}

/* Reads zonePairs or regionPairs: [{<values_key>: [a, b], cost}]. */
static void read_pairs(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, const char *values_key,
		       GArray *pairs)
{
	const char *const fields[] = {values_key, "cost", NULL};
	char item_path[POL_PATH_MAX];
	char field[POL_PATH_MAX];

	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *entry = g_ptr_array_index(node->items, i);
		const pol_yaml_node *values;
		const pol_yaml_node *cost_node;
		pol_pair_cost pair = {0};
		const char *names[2] = {NULL, NULL};
		bool ok;

		pol_path_index(item_path, path, i);
		if (!pol_expect_mapping(reader, entry, item_path))
			continue;
		pol_check_fields(reader, entry, item_path, fields);
		values = pol_require(reader, entry, item_path, values_key,
				     "name the two label values, e.g. [eu-west-1a, eu-west-1b]");
		cost_node = pol_require(reader, entry, item_path, "cost",
					"give the cost between the two");

		pol_path_key(field, item_path, "cost");
		ok = cost_node != NULL &&
		     pol_read_int(reader, cost_node, field, 0, MAX_COST, &pair.cost);
		pol_path_key(field, item_path, values_key);
		if (values == NULL || !pol_expect_sequence(reader, values, field))
			continue;
		if (values->items->len != 2) {
			pol_error(reader, values, field,
				  "expected exactly two values, got %u",
				  values->items->len);
			continue;
		}
		for (guint k = 0; k < 2; k++) {
			char value_path[POL_PATH_MAX];

			pol_path_index(value_path, field, k);
			ok = pol_read_label_value(reader,
						  g_ptr_array_index(values->items, k),
						  value_path, &names[k]) && ok;
		}
		if (!ok)
			continue;
		if (strcmp(names[0], names[1]) == 0) {
			pol_error(reader, values, field,
				  "both values are \"%s\"; a pair names two different places",
				  names[0]);
			continue;
		}
		for (guint k = 0; k < pairs->len; k++) {
			const pol_pair_cost *earlier =
				&g_array_index(pairs, pol_pair_cost, k);

			if ((strcmp(earlier->first, names[0]) == 0 &&
			     strcmp(earlier->second, names[1]) == 0) ||
			    (strcmp(earlier->first, names[1]) == 0 &&
			     strcmp(earlier->second, names[0]) == 0)) {
				pol_error(reader, values, field,
					  "the pair %s, %s already has a cost in entry %u",
					  names[0], names[1], k);
				ok = false;
				break;
			}
		}
		if (!ok)
			continue;
		pair.first = g_strdup(names[0]);
		pair.second = g_strdup(names[1]);
		g_array_append_val(pairs, pair);
	}
}

static void read_pair_section(pol_reader *reader, const pol_yaml_node *node,
			      const char *path, const char *pairs_key,
			      const char *values_key, const char *label,
			      const GArray *levels, GArray *pairs)
{
	const pol_yaml_node *list = pol_field(node, pairs_key);
	char field[POL_PATH_MAX];

	if (list == NULL)
		return;
	pol_path_key(field, path, pairs_key);
	if (!topology_has_level(levels, label)) {
		pol_error(reader, list, field,
			  "pair costs apply to nodes that differ in label %s, but no level uses that label; add it to spec.topology.levels or set the label field",
			  label);
		return;
	}
	read_pairs(reader, list, field, values_key, pairs);
}

static void read_label_field(pol_reader *reader, const pol_yaml_node *node,
			     const char *path, const char *key,
			     const char *fallback, char **out)
{
	const pol_yaml_node *value = pol_field(node, key);
	char field[POL_PATH_MAX];
	const char *text = fallback;

	pol_path_key(field, path, key);
	if (value != NULL && !pol_read_label_key(reader, value, field, &text))
		text = fallback;
	*out = g_strdup(text);
}

static int level_index(const GArray *levels, const char *key)
{
	for (guint i = 0; i < levels->len; i++) {
		if (strcmp(g_array_index(levels, pol_topology_level, i).key, key) == 0)
			return (int)i;
	}
	return -1;
}

/* A zone pair takes precedence over a region pair, which assumes zones
 * lie inside regions: the zone level must be the finer one. */
static void check_zone_below_region(pol_reader *reader,
				    const pol_yaml_node *node, const char *path,
				    const pol_topology *topology,
				    const GArray *levels)
{
	int zone = level_index(levels, topology->zone_label);
	int region = level_index(levels, topology->region_label);

	if (zone >= 0 && region >= 0 && zone > region)
		pol_error(reader, node, path,
			  "the zone level %s comes after the region level %s; list levels from finest to coarsest, zones before regions",
			  topology->zone_label, topology->region_label);
}

void pol_read_topology(pol_reader *reader, const pol_yaml_node *spec,
		       pol_topology *topology)
{
	static const char *const fields[] = {
		"levels", "defaultCost", "zoneLabel", "regionLabel",
		"zonePairs", "regionPairs", NULL};
	const char *path = "spec.topology";
	const pol_yaml_node *node = pol_field(spec, "topology");
	const pol_yaml_node *levels_node;
	const pol_yaml_node *default_node;
	GArray *levels = g_array_new(FALSE, TRUE, sizeof(pol_topology_level));
	GArray *zone_pairs = g_array_new(FALSE, TRUE, sizeof(pol_pair_cost));
	GArray *region_pairs = g_array_new(FALSE, TRUE, sizeof(pol_pair_cost));
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];

	if (node == NULL || !pol_expect_mapping(reader, node, path))
		goto out;
	pol_check_fields(reader, node, path, fields);
	topology->present = true;
	levels_node = pol_require(reader, node, path, "levels",
				  "list node labels from finest to coarsest, each with a cost");
	default_node = pol_require(reader, node, path, "defaultCost",
				   "give the cost between nodes that share no level");

	pol_path_key(field, path, "levels");
	if (levels_node != NULL && pol_expect_sequence(reader, levels_node, field)) {
		if (levels_node->items->len == 0)
			pol_error(reader, levels_node, field,
				  "the list is empty; give at least one level, e.g. topology.kubernetes.io/zone");
		for (guint i = 0; i < levels_node->items->len; i++) {
			pol_path_index(item_path, field, i);
			read_level(reader, g_ptr_array_index(levels_node->items, i),
				   item_path, levels);
		}
	}

	pol_path_key(field, path, "defaultCost");
	if (default_node != NULL &&
	    pol_read_int(reader, default_node, field, 0, MAX_COST,
			 &topology->default_cost) &&
	    levels->len > 0) {
		const pol_topology_level *coarsest = &g_array_index(
			levels, pol_topology_level, levels->len - 1);

		if (topology->default_cost < coarsest->cost)
			pol_error(reader, default_node, field,
				  "defaultCost %" G_GINT64_FORMAT " is below the cost %" G_GINT64_FORMAT " of the coarsest level %s; nodes that share nothing cannot be closer",
				  topology->default_cost, coarsest->cost,
				  coarsest->key);
	}

	read_label_field(reader, node, path, "zoneLabel", DEFAULT_ZONE_LABEL,
			 &topology->zone_label);
	read_label_field(reader, node, path, "regionLabel",
			 DEFAULT_REGION_LABEL, &topology->region_label);
	read_pair_section(reader, node, path, "zonePairs", "zones",
			  topology->zone_label, levels, zone_pairs);
	read_pair_section(reader, node, path, "regionPairs", "regions",
			  topology->region_label, levels, region_pairs);
	check_zone_below_region(reader, node, path, topology, levels);

out:
	topology->n_levels = levels->len;
	topology->levels = (pol_topology_level *)(void *)g_array_free(levels, FALSE);
	topology->n_zone_pairs = zone_pairs->len;
	topology->zone_pairs = (pol_pair_cost *)(void *)g_array_free(zone_pairs, FALSE);
	topology->n_region_pairs = region_pairs->len;
	topology->region_pairs =
		(pol_pair_cost *)(void *)g_array_free(region_pairs, FALSE);
}

static void pairs_free(pol_pair_cost *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_free(pairs[i].first);
		g_free(pairs[i].second);
	}
	g_free(pairs);
}

void pol_topology_release(pol_topology *topology)
{
	for (size_t i = 0; i < topology->n_levels; i++)
		g_free(topology->levels[i].key);
	g_free(topology->levels);
	g_free(topology->zone_label);
	g_free(topology->region_label);
	pairs_free(topology->zone_pairs, topology->n_zone_pairs);
	pairs_free(topology->region_pairs, topology->n_region_pairs);
	memset(topology, 0, sizeof(*topology));
}

/* ---- spec.locality --------------------------------------------------------- */

static const char *const locality_modes[] = {"soft", "hard", NULL};

static void read_member(pol_reader *reader, const pol_yaml_node *node,
			const char *path,
			const score_isolation_config *isolation,
			GArray *members)
{
	static const char *const fields[] = {"securityGroup", "podSelector",
					     "namespaceSelector", NULL};
	const pol_yaml_node *group = pol_field(node, "securityGroup");
	const pol_yaml_node *pods = pol_field(node, "podSelector");
	const pol_yaml_node *namespaces = pol_field(node, "namespaceSelector");
	pol_locality_member member = {.security_group = -1};
	char field[POL_PATH_MAX];
	const char *name;
	bool ok = true;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	score_selector_init(&member.pod_selector);
	score_selector_init(&member.namespace_selector);

	if (group != NULL && (pods != NULL || namespaces != NULL)) {
		pol_error(reader, node, path,
			  "give either securityGroup or selectors, not both");
		return;
	}
	if (group == NULL && pods == NULL && namespaces == NULL) {
		pol_error(reader, node, path,
			  "the member selects no pods: give securityGroup, or podSelector and/or namespaceSelector");
		return;
	}

	pol_path_key(field, path, "securityGroup");
	if (group != NULL && pol_read_string(reader, group, field, &name)) {
		member.security_group = pol_find_group(isolation, name);
		if (member.security_group < 0) {
			pol_error(reader, group, field,
				  "unknown security group \"%s\": declare it in spec.securityGroups or fix the name",
				  name);
			ok = false;
		}
	} else if (group != NULL) {
		ok = false;
	}

	pol_path_key(field, path, "podSelector");
	if (pods != NULL) {
		member.has_pod_selector = true;
		ok = pol_read_selector(reader, pods, field, &member.pod_selector) && ok;
	}
	pol_path_key(field, path, "namespaceSelector");
	if (namespaces != NULL) {
		member.has_namespace_selector = true;
		ok = pol_read_selector(reader, namespaces, field,
				       &member.namespace_selector) && ok;
	}

	if (ok) {
		g_array_append_val(members, member);
		return;
	}
	score_selector_release(&member.pod_selector);
	score_selector_release(&member.namespace_selector);
}

static void members_free(pol_locality_member *members, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		score_selector_release(&members[i].pod_selector);
		score_selector_release(&members[i].namespace_selector);
	}
	g_free(members);
}

static void read_locality_group(pol_reader *reader, const pol_yaml_node *node,
				const char *path,
				const score_isolation_config *isolation,
				GArray *groups)
{
	static const char *const fields[] = {"name", "members", "maxCost",
					     "mode", NULL};
	const pol_yaml_node *name_node;
	const pol_yaml_node *members_node;
	const pol_yaml_node *cost_node;
	const pol_yaml_node *mode_node;
	GArray *members = g_array_new(FALSE, TRUE, sizeof(pol_locality_member));
	pol_locality_group group = {0};
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];
	char why[256];
	const char *name = NULL;
	int hard = 0;
	bool ok;

	if (!pol_expect_mapping(reader, node, path))
		goto out;
	pol_check_fields(reader, node, path, fields);
	name_node = pol_require(reader, node, path, "name",
				"name the group, e.g. checkout");
	members_node = pol_require(reader, node, path, "members",
				   "list the pods that should run close together");
	cost_node = pol_require(reader, node, path, "maxCost",
				"give the largest topology cost allowed between members");
	mode_node = pol_field(node, "mode");

	pol_path_key(field, path, "name");
	ok = name_node != NULL && pol_read_string(reader, name_node, field, &name);
	if (ok && !pol_dns_label_valid(name, why, sizeof(why))) {
		pol_error(reader, name_node, field,
			  "invalid locality group name \"%s\": %s", name, why);
		ok = false;
	}
	for (guint i = 0; ok && i < groups->len; i++) {
		if (strcmp(g_array_index(groups, pol_locality_group, i).name,
			   name) == 0) {
			pol_error(reader, name_node, field,
				  "locality group \"%s\" is declared twice; names must be unique",
				  name);
			ok = false;
		}
	}

	pol_path_key(field, path, "maxCost");
	ok = cost_node != NULL &&
	     pol_read_int(reader, cost_node, field, 0, MAX_COST, &group.max_cost) &&
	     ok;
	pol_path_key(field, path, "mode");
	if (mode_node != NULL)
		ok = pol_read_enum(reader, mode_node, field, locality_modes, &hard) &&
		     ok;

	pol_path_key(field, path, "members");
	if (members_node != NULL &&
	    pol_expect_sequence(reader, members_node, field)) {
		if (members_node->items->len == 0) {
			pol_error(reader, members_node, field,
				  "the list is empty; give at least one member");
			ok = false;
		}
		for (guint i = 0; i < members_node->items->len; i++) {
			pol_path_index(item_path, field, i);
			read_member(reader, g_ptr_array_index(members_node->items, i),
				    item_path, isolation, members);
		}
	}
	if (!ok || members->len == 0)
		goto out;

	group.name = g_strdup(name);
	group.hard = hard == 1;
	group.n_members = members->len;
	group.members = (pol_locality_member *)(void *)g_array_free(members, FALSE);
	members = NULL;
	g_array_append_val(groups, group);
out:
	if (members != NULL) {
		members_free((pol_locality_member *)(void *)members->data,
			     members->len);
		g_array_free(members, FALSE);
	}
}

static void read_network_policies(pol_reader *reader, const pol_yaml_node *node,
				  const char *path, pol_locality *locality)
{
	static const char *const fields[] = {"enabled", "maxCost", "mode", NULL};
	const pol_yaml_node *enabled = pol_field(node, "enabled");
	const pol_yaml_node *cost = pol_field(node, "maxCost");
	const pol_yaml_node *mode = pol_field(node, "mode");
	char field[POL_PATH_MAX];
	int hard = 0;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);

	locality->network_policies = true;
	pol_path_key(field, path, "enabled");
	if (enabled != NULL)
		pol_read_bool(reader, enabled, field, &locality->network_policies);
	pol_path_key(field, path, "mode");
	if (mode != NULL && pol_read_enum(reader, mode, field, locality_modes, &hard))
		locality->network_policy_hard = hard == 1;
	pol_path_key(field, path, "maxCost");
	if (cost != NULL)
		pol_read_int(reader, cost, field, 0, MAX_COST,
			     &locality->network_policy_max_cost);
	else if (locality->network_policies)
		pol_error(reader, node, path,
			  "missing field \"maxCost\": give the largest topology cost allowed between pods a NetworkPolicy lets talk");
}

void pol_read_locality(pol_reader *reader, const pol_yaml_node *spec,
		       const pol_topology *topology,
		       const score_isolation_config *isolation,
		       pol_locality *locality)
{
	static const char *const fields[] = {"groups", "networkPolicies", NULL};
	const char *path = "spec.locality";
	const pol_yaml_node *node = pol_field(spec, "locality");
	const pol_yaml_node *groups_node;
	const pol_yaml_node *policies_node;
	GArray *groups = g_array_new(FALSE, TRUE, sizeof(pol_locality_group));
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];

	if (node == NULL || !pol_expect_mapping(reader, node, path))
		goto out;
	pol_check_fields(reader, node, path, fields);
	locality->present = true;
	if (!topology->present)
		pol_error(reader, node, path,
			  "locality measures distance with topology costs, so it needs spec.topology; add spec.topology with levels and defaultCost");

	groups_node = pol_field(node, "groups");
	pol_path_key(field, path, "groups");
	if (groups_node != NULL && pol_expect_sequence(reader, groups_node, field)) {
		for (guint i = 0; i < groups_node->items->len; i++) {
			pol_path_index(item_path, field, i);
			read_locality_group(reader,
					    g_ptr_array_index(groups_node->items, i),
					    item_path, isolation, groups);
		}
	}

	policies_node = pol_field(node, "networkPolicies");
	pol_path_key(field, path, "networkPolicies");
	if (policies_node != NULL)
		read_network_policies(reader, policies_node, field, locality);

out:
	locality->n_groups = groups->len;
	locality->groups = (pol_locality_group *)(void *)g_array_free(groups, FALSE);
}

void pol_locality_release(pol_locality *locality)
{
	for (size_t i = 0; i < locality->n_groups; i++) {
		g_free(locality->groups[i].name);
		members_free(locality->groups[i].members,
			     locality->groups[i].n_members);
	}
	g_free(locality->groups);
	memset(locality, 0, sizeof(*locality));
}

/* ---- The locality criterion ---------------------------------------------- */

static void build_group(const pol_locality_group *parsed,
			score_locality_config *config)
{
	score_locality_group *group = score_locality_add_group(
		config, parsed->name, parsed->max_cost, parsed->hard);

	for (size_t m = 0; m < parsed->n_members; m++) {
		const pol_locality_member *member = &parsed->members[m];

		score_locality_group_add_member(
			group, member->security_group,
			member->has_pod_selector ? &member->pod_selector : NULL,
			member->has_namespace_selector ? &member->namespace_selector
						       : NULL);
	}
}

void pol_build_locality(const pol_topology *topology,
			const pol_locality *locality,
			const pol_exposure *exposures, size_t n_exposures,
			const score_isolation_config *isolation,
			score_locality_config *config)
{
	if (!topology->present || !locality->present)
		return;

	for (size_t i = 0; i < topology->n_levels; i++)
		score_locality_add_level(config, topology->levels[i].key,
					 topology->levels[i].cost);
	config->default_cost = topology->default_cost;
	score_unintern(config->zone_label);
	config->zone_label = score_intern(topology->zone_label);
	score_unintern(config->region_label);
	config->region_label = score_intern(topology->region_label);
	for (size_t i = 0; i < topology->n_zone_pairs; i++)
		score_locality_add_zone_pair(config, topology->zone_pairs[i].first,
					     topology->zone_pairs[i].second,
					     topology->zone_pairs[i].cost);
	for (size_t i = 0; i < topology->n_region_pairs; i++)
		score_locality_add_region_pair(config,
					       topology->region_pairs[i].first,
					       topology->region_pairs[i].second,
					       topology->region_pairs[i].cost);

	for (size_t g = 0; g < locality->n_groups; g++)
		build_group(&locality->groups[g], config);
	config->network_policies = locality->network_policies;
	config->network_policy_max_cost = locality->network_policy_max_cost;
	config->network_policy_hard = locality->network_policy_hard;

	/* Exposure to the world names no pods, so only group sources count. */
	for (size_t e = 0; e < n_exposures; e++) {
		if (exposures[e].from_groups != 0)
			score_locality_add_exposure(config, exposures[e].group,
						    exposures[e].from_groups);
	}
	config->isolation = isolation;
}
