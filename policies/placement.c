/* The placement sections of a policy: spec.bandwidth into a
 * score_bandwidth_config (scoring/bandwidth.h) and spec.spread into a
 * score_spread_config (scoring/spread.h). */
#include "policies/internal.h"

#include <string.h>

#include "scoring/quantity.h"

/* ---- spec.bandwidth -------------------------------------------------------- */

/* Reads a positive quantity of bits per second: "10G", "500M", or a plain
 * integer. */
static bool read_bits(pol_reader *reader, const pol_yaml_node *node,
		      const char *path, int64_t *out)
{
	score_error err = {0};
	int64_t value;

	if (node->kind != POL_YAML_SCALAR ||
	    (node->type != POL_SCALAR_STRING && node->type != POL_SCALAR_INT)) {
		pol_error(reader, node, path,
			  "expected a quantity in bits per second such as 10G or 500M, got %s",
			  pol_yaml_describe(node));
		return false;
	}
	if (score_quantity_parse_value(node->text, &value, &err) < 0) {
		pol_error(reader, node, path,
			  "%s; give bits per second such as 10G or 500M",
			  err.message);
		return false;
	}
	if (value <= 0) {
		pol_error(reader, node, path,
			  "invalid capacity \"%s\": give a positive quantity such as 10G, or leave the field out so that nodes without the label are not limited",
			  node->text);
		return false;
	}
	*out = value;
	return true;
}

static void read_label_field(pol_reader *reader, const pol_yaml_node *mapping,
			     const char *path, const char *key,
			     const char **slot)
{
	const pol_yaml_node *value = pol_field(mapping, key);
	char field[POL_PATH_MAX];
	const char *text;

	if (value == NULL)
		return;
	pol_path_key(field, path, key);
	if (!pol_read_label_key(reader, value, field, &text))
		return;
	score_unintern(*slot);
	*slot = score_intern(text);
}

void pol_read_bandwidth(pol_reader *reader, const pol_yaml_node *spec,
			score_bandwidth_config *bandwidth, bool *present)
{
	static const char *const fields[] = {
		"capacityLabel", "ingressCapacityLabel", "egressCapacityLabel",
		"defaultCapacity", NULL};
	const char *path = "spec.bandwidth";
	const pol_yaml_node *node = pol_field(spec, "bandwidth");
	const pol_yaml_node *value;
	char field[POL_PATH_MAX];

	*present = false;
	if (node == NULL || !pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	*present = true;

	read_label_field(reader, node, path, "capacityLabel",
			 &bandwidth->capacity_label);
	read_label_field(reader, node, path, "ingressCapacityLabel",
			 &bandwidth->ingress_capacity_label);
	read_label_field(reader, node, path, "egressCapacityLabel",
			 &bandwidth->egress_capacity_label);

	pol_path_key(field, path, "defaultCapacity");
	value = pol_field(node, "defaultCapacity");
	if (value != NULL)
		read_bits(reader, value, field, &bandwidth->default_capacity);
}

/* ---- spec.spread ----------------------------------------------------------- */

static const char *const spread_modes[] = {"soft", "hard", NULL};

/* The levels with well-known Kubernetes labels, accepted whether or not
 * spec.topology lists them. */
static const char *const well_known_levels[] = {
	"kubernetes.io/hostname", "topology.kubernetes.io/zone",
	"topology.kubernetes.io/region", NULL};

static bool level_known(const char *key, const pol_topology *topology)
{
	for (size_t i = 0; well_known_levels[i] != NULL; i++) {
		if (strcmp(key, well_known_levels[i]) == 0)
			return true;
	}
	if (topology == NULL || !topology->present)
		return false;
	for (size_t i = 0; i < topology->n_levels; i++) {
		if (strcmp(key, topology->levels[i].key) == 0)
			return true;
	}
	return (topology->zone_label != NULL &&
		strcmp(key, topology->zone_label) == 0) ||
	       (topology->region_label != NULL &&
		strcmp(key, topology->region_label) == 0);
}

static void read_level(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, const pol_topology *topology,
		       score_spread_config *spread)
{
	const char *key;

	if (!pol_read_label_key(reader, node, path, &key))
		return;
	if (!level_known(key, topology)) {
		pol_error(reader, node, path,
			  "unknown level \"%s\": name kubernetes.io/hostname, topology.kubernetes.io/zone, topology.kubernetes.io/region, or a key of spec.topology.levels",
			  key);
		return;
	}
	score_spread_set_level(spread, key);
}

void pol_read_spread(pol_reader *reader, const pol_yaml_node *spec,
		     const pol_topology *topology, score_spread_config *spread,
		     bool *present)
{
	static const char *const fields[] = {"level", "maxSkew", "mode", NULL};
	const char *path = "spec.spread";
	const pol_yaml_node *node = pol_field(spec, "spread");
	const pol_yaml_node *value;
	char field[POL_PATH_MAX];
	int mode;

	*present = false;
	if (node == NULL || !pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	*present = true;

	pol_path_key(field, path, "level");
	value = pol_field(node, "level");
	if (value != NULL)
		read_level(reader, value, field, topology, spread);

	pol_path_key(field, path, "maxSkew");
	value = pol_field(node, "maxSkew");
	if (value != NULL)
		pol_read_int(reader, value, field, 1, POL_MAX_SPREAD_SKEW,
			     &spread->max_skew);

	pol_path_key(field, path, "mode");
	value = pol_field(node, "mode");
	if (value != NULL &&
	    pol_read_enum(reader, value, field, spread_modes, &mode))
		spread->hard = mode == 1;
}
