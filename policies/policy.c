/* Policy files: the top level, weights, contention, the pipeline, and the
 * reference-counted result; see policy.h. The isolation sections are read
 * in isolation.c, topology and locality in topology.c. */
#include "policies/policy.h"

#include <errno.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policies/internal.h"

struct pol_policy {
	char *name;
	char *source;
	char *digest;
	pol_weights weights;
	score_contention_config contention;
	score_isolation_config isolation;
	pol_exposure *exposures;
	size_t n_exposures;
	pol_topology topology;
	pol_locality locality;
	score_locality_config locality_config; /* borrows `isolation` */
	score_bandwidth_config bandwidth;
	score_spread_config spread;
	bool spread_present;
	bool bandwidth_present;
	/* Filters and scorers point at `contention` and `isolation`, which
	 * never move: the policy lives in one heap block. */
	score_pipeline pipeline;
};

/* ---- Diagnostics ----------------------------------------------------------- */

void pol_diagnostics_init(pol_diagnostics *diagnostics)
{
	diagnostics->errors = g_ptr_array_new_with_free_func(g_free);
	diagnostics->warnings = g_ptr_array_new_with_free_func(g_free);
}

void pol_diagnostics_release(pol_diagnostics *diagnostics)
{
	if (diagnostics->errors != NULL)
		g_ptr_array_unref(diagnostics->errors);
	if (diagnostics->warnings != NULL)
		g_ptr_array_unref(diagnostics->warnings);
	memset(diagnostics, 0, sizeof(*diagnostics));
}

/* ---- Lifetime -------------------------------------------------------------- */

static void policy_clear(gpointer data)
{
	pol_policy *policy = data;

	g_free(policy->name);
	g_free(policy->source);
	g_free(policy->digest);
	score_isolation_release(&policy->isolation);
	g_free(policy->exposures);
	pol_topology_release(&policy->topology);
	pol_locality_release(&policy->locality);
	score_locality_release(&policy->locality_config);
	score_bandwidth_release(&policy->bandwidth);
	score_spread_release(&policy->spread);
}

static pol_policy *policy_new(const char *source, const char *text,
			      size_t length)
{
	pol_policy *policy = g_atomic_rc_box_new0(pol_policy);

	policy->source = g_strdup(source);
	policy->digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
						     (const guchar *)text, length);
	policy->weights = (pol_weights){.contention = 1, .isolation = 1,
					.locality = 1, .spread = 1,
					.bandwidth = 1};
	score_contention_defaults(&policy->contention);
	score_isolation_init(&policy->isolation);
	score_locality_init(&policy->locality_config);
	score_bandwidth_init(&policy->bandwidth);
	score_spread_init(&policy->spread);
	score_pipeline_init(&policy->pipeline);
	return policy;
}

pol_policy *pol_policy_ref(pol_policy *policy)
{
	return g_atomic_rc_box_acquire(policy);
}

void pol_policy_unref(pol_policy *policy)
{
	if (policy != NULL)
		g_atomic_rc_box_release_full(policy, policy_clear);
}

/* ---- spec.weights ---------------------------------------------------------- */

static void read_weights(pol_reader *reader, const pol_yaml_node *spec,
			 pol_weights *weights)
{
	static const char *const fields[] = {"contention", "isolation",
					     "locality", "spread", "bandwidth",
					     NULL};
	const char *path = "spec.weights";
	const pol_yaml_node *node = pol_field(spec, "weights");
	int64_t *slots[] = {&weights->contention, &weights->isolation,
			    &weights->locality, &weights->spread,
			    &weights->bandwidth};
	char field[POL_PATH_MAX];

	if (node == NULL || !pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	for (size_t i = 0; fields[i] != NULL; i++) {
		const pol_yaml_node *value = pol_field(node, fields[i]);

		pol_path_key(field, path, fields[i]);
		if (value != NULL)
			pol_read_int(reader, value, field, 0, 100, slots[i]);
	}

	/* Legal for a filter-only policy, but easy to write by mistake. */
	if (weights->contention == 0 && weights->isolation == 0)
		pol_warning(reader, node, path,
			    "the contention and isolation weights are both 0, so prioritize gives every node 0 for pods without bandwidth annotations, outside spec.spread and without locality peers, and only the filters apply; set a weight above 0 unless that is intended");
}

/* Warns when the file sets spec.weights.`name` above 0 but has no
 * spec.`name` section: the pipeline adds the bandwidth and spread criteria
 * only with their section, so the weight would change nothing. */
static void warn_unused_weight(pol_reader *reader, const pol_yaml_node *spec,
			       const char *name, int64_t weight,
			       bool section_present)
{
	const pol_yaml_node *node = pol_field(pol_field(spec, "weights"), name);
	char path[POL_PATH_MAX];

	if (node == NULL || weight == 0 || section_present)
		return;
	/* An invalid value has its own error and leaves the default in
	 * `weight`, so warn only when the file contains this very value. */
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_INT ||
	    node->int_overflow || node->int_value != weight)
		return;
	pol_path_key(path, "spec.weights", name);
	pol_warning(reader, node, path,
		    "weight %" G_GINT64_FORMAT " has no effect because the policy has no spec.%s; add spec.%s (%s: {} keeps its defaults) or remove the weight",
		    weight, name, name, name);
}

/* ---- spec.contention ------------------------------------------------------- */

static const char *const strategy_names[] = {
	"LeastAllocated", "MostAllocated", "RequestedToCapacityRatio", NULL};

/* Resolves a resource name to its slot in the table. */
static bool read_resource(pol_reader *reader, const pol_yaml_node *node,
			  const char *path, int *slot)
{
	score_error err = {0};
	char why[256];
	const char *name;

	if (!pol_read_string(reader, node, path, &name))
		return false;
	if (!pol_label_key_valid(name, why, sizeof(why))) {
		pol_error(reader, node, path,
			  "invalid resource name \"%s\": %s", name, why);
		return false;
	}
	*slot = score_resource_index(reader->resources, name, &err);
	if (*slot < 0) {
		pol_error(reader, node, path, "%s", err.message);
		return false;
	}
	return true;
}

/* Reads [{name, weight}] into `weights`; an absent weight is 1. */
static void read_resource_weights(pol_reader *reader,
				  const pol_yaml_node *node, const char *path,
				  score_resource_weight *weights, size_t *n)
{
	static const char *const fields[] = {"name", "weight", NULL};
	char item_path[POL_PATH_MAX];
	char field[POL_PATH_MAX];

	*n = 0;
	if (!pol_expect_sequence(reader, node, path))
		return;
	if (node->items->len == 0)
		pol_error(reader, node, path,
			  "the list is empty; give at least one resource, e.g. {name: cpu, weight: 1}");

	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *entry = g_ptr_array_index(node->items, i);
		const pol_yaml_node *name;
		const pol_yaml_node *weight;
		score_resource_weight item = {.weight = 1};
		bool ok;

		pol_path_index(item_path, path, i);
		if (!pol_expect_mapping(reader, entry, item_path))
			continue;
		pol_check_fields(reader, entry, item_path, fields);
		name = pol_require(reader, entry, item_path, "name",
				   "name the resource, e.g. cpu, memory or nvidia.com/gpu");
		weight = pol_field(entry, "weight");

		pol_path_key(field, item_path, "name");
		ok = name != NULL && read_resource(reader, name, field, &item.index);
		pol_path_key(field, item_path, "weight");
		if (weight != NULL)
			ok = pol_read_int(reader, weight, field, 1, 100,
					  &item.weight) && ok;
		if (!ok)
			continue;

		for (size_t k = 0; k < *n; k++) {
			if (weights[k].index == item.index) {
				pol_path_key(field, item_path, "name");
				pol_error(reader, name, field,
					  "resource \"%s\" is listed twice",
					  name->text);
				ok = false;
			}
		}
		if (ok && *n >= SCORE_RES_MAX) {
			pol_error(reader, entry, item_path,
				  "too many resources: at most %d", SCORE_RES_MAX);
			ok = false;
		}
		if (ok)
			weights[(*n)++] = item;
	}
}

static void read_shape(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, score_contention_config *contention)
{
	static const char *const fields[] = {"utilization", "score", NULL};
	char item_path[POL_PATH_MAX];
	char field[POL_PATH_MAX];
	size_t n = 0;

	if (!pol_expect_sequence(reader, node, path))
		return;
	if (node->items->len == 0 || node->items->len > SCORE_MAX_SHAPE_POINTS) {
		pol_error(reader, node, path,
			  "the shape has %u points: give 1 to %d", node->items->len,
			  SCORE_MAX_SHAPE_POINTS);
		return;
	}

	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *entry = g_ptr_array_index(node->items, i);
		const pol_yaml_node *utilization;
		const pol_yaml_node *score;
		score_shape_point point = {0};
		bool ok;

		pol_path_index(item_path, path, i);
		if (!pol_expect_mapping(reader, entry, item_path))
			continue;
		pol_check_fields(reader, entry, item_path, fields);
		utilization = pol_require(reader, entry, item_path, "utilization",
					  "give the utilization in percent, 0 to 100");
		score = pol_require(reader, entry, item_path, "score",
				    "give the score at that utilization, 0 to 10");

		pol_path_key(field, item_path, "utilization");
		ok = utilization != NULL &&
		     pol_read_int(reader, utilization, field, 0, 100,
				  &point.utilization);
		pol_path_key(field, item_path, "score");
		ok = score != NULL &&
		     pol_read_int(reader, score, field, 0, 10, &point.score) && ok;
		if (!ok)
			continue;
		if (n > 0 && point.utilization <= contention->shape[n - 1].utilization) {
			pol_path_key(field, item_path, "utilization");
			pol_error(reader, utilization, field,
				  "utilization %" G_GINT64_FORMAT " is not above the previous point's %" G_GINT64_FORMAT "; list points in increasing utilization",
				  point.utilization,
				  contention->shape[n - 1].utilization);
			continue;
		}
		contention->shape[n++] = point;
	}
	contention->n_shape = n;
}

static void read_ceilings(pol_reader *reader, const pol_yaml_node *node,
			  const char *path, score_contention_config *contention)
{
	char field[POL_PATH_MAX];

	if (!pol_expect_mapping(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(node->items, i);
		int64_t percent;
		int slot;

		pol_path_key(field, path, pair->key->text);
		if (!read_resource(reader, pair->key, field, &slot))
			continue;
		if (pol_read_int(reader, pair->value, field, 1, 100, &percent))
			contention->ceiling_percent[slot] = percent;
	}
}

static void read_contention(pol_reader *reader, const pol_yaml_node *spec,
			    score_contention_config *contention)
{
	static const char *const fields[] = {
		"strategy", "resources", "shape", "balancedResources",
		"ceilings", "rejectNotReady", NULL};
	const char *path = "spec.contention";
	const pol_yaml_node *node = pol_field(spec, "contention");
	const pol_yaml_node *value;
	const pol_yaml_node *shape;
	char field[POL_PATH_MAX];
	size_t errors_before = reader->n_errors;
	score_error err = {0};
	int strategy;

	if (node == NULL || !pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);

	pol_path_key(field, path, "strategy");
	value = pol_field(node, "strategy");
	if (value != NULL &&
	    pol_read_enum(reader, value, field, strategy_names, &strategy))
		contention->strategy = (score_strategy)strategy;

	pol_path_key(field, path, "resources");
	value = pol_field(node, "resources");
	if (value != NULL)
		read_resource_weights(reader, value, field, contention->resources,
				      &contention->n_resources);

	pol_path_key(field, path, "shape");
	shape = pol_field(node, "shape");
	if (shape != NULL && contention->strategy != SCORE_REQUESTED_TO_CAPACITY_RATIO)
		pol_error(reader, shape, field,
			  "shape applies only to strategy RequestedToCapacityRatio; remove it or change the strategy");
	else if (shape != NULL)
		read_shape(reader, shape, field, contention);

	pol_path_key(field, path, "balancedResources");
	value = pol_field(node, "balancedResources");
	if (value != NULL)
		read_resource_weights(reader, value, field,
				      contention->balanced_resources,
				      &contention->n_balanced_resources);

	pol_path_key(field, path, "ceilings");
	value = pol_field(node, "ceilings");
	if (value != NULL)
		read_ceilings(reader, value, field, contention);

	pol_path_key(field, path, "rejectNotReady");
	value = pol_field(node, "rejectNotReady");
	if (value != NULL)
		pol_read_bool(reader, value, field, &contention->reject_not_ready);

	/* The checks above cover what validation checks; this catches a gap
	 * between the two instead of building a pipeline that fails later. */
	if (reader->n_errors == errors_before &&
	    score_contention_validate(contention, &err) < 0)
		pol_error(reader, node, path, "%s", err.message);
}

/* ---- Top level ------------------------------------------------------------- */

static void read_metadata(pol_reader *reader, const pol_yaml_node *root,
			  pol_policy *policy)
{
	static const char *const fields[] = {"name", "labels", "annotations",
					     NULL};
	const pol_yaml_node *metadata;
	const pol_yaml_node *name;
	char why[256];
	const char *text;

	metadata = pol_require(reader, root, "", "metadata",
			       "give metadata.name, the policy's name in logs");
	if (metadata == NULL || !pol_expect_mapping(reader, metadata, "metadata"))
		return;
	pol_check_fields(reader, metadata, "metadata", fields);
	name = pol_require(reader, metadata, "metadata", "name",
			   "name the policy, e.g. saas-production");
	if (name == NULL || !pol_read_string(reader, name, "metadata.name", &text))
		return;
	if (!pol_dns_subdomain_valid(text, why, sizeof(why))) {
		pol_error(reader, name, "metadata.name",
			  "invalid name \"%s\": %s", text, why);
		return;
	}
	policy->name = g_strdup(text);
}

static void read_spec(pol_reader *reader, const pol_yaml_node *root,
		      pol_policy *policy)
{
	static const char *const fields[] = {
		"weights", "contention", "tenants", "sandbox", "securityGroups",
		"separation", "topology", "locality", "bandwidth", "spread",
		NULL};
	GArray *exposures = g_array_new(FALSE, TRUE, sizeof(pol_exposure));
	const pol_yaml_node *spec;

	spec = pol_require(reader, root, "", "spec",
			   "give the policy's rules under spec; spec: {} keeps every default");
	if (spec == NULL || !pol_expect_mapping(reader, spec, "spec"))
		goto out;
	pol_check_fields(reader, spec, "spec", fields);

	read_weights(reader, spec, &policy->weights);
	read_contention(reader, spec, &policy->contention);
	pol_read_isolation(reader, spec, &policy->isolation, exposures);
	pol_read_topology(reader, spec, &policy->topology);
	pol_read_locality(reader, spec, &policy->topology, &policy->isolation,
			  &policy->locality);
	pol_read_bandwidth(reader, spec, &policy->bandwidth,
			   &policy->bandwidth_present);
	pol_read_spread(reader, spec, &policy->topology, &policy->spread,
			&policy->spread_present);
	warn_unused_weight(reader, spec, "bandwidth", policy->weights.bandwidth,
			   policy->bandwidth_present);
	warn_unused_weight(reader, spec, "spread", policy->weights.spread,
			   policy->spread_present);
out:
	policy->n_exposures = exposures->len;
	policy->exposures = (pol_exposure *)(void *)g_array_free(exposures, FALSE);
}

static bool read_header(pol_reader *reader, const pol_yaml_node *root,
			const char *api_version, const char *kind)
{
	const pol_yaml_node *version_node = pol_require(
		reader, root, "", "apiVersion", "write apiVersion: " POL_API_VERSION);
	const char *text;

	if (version_node != NULL &&
	    pol_read_string(reader, version_node, "apiVersion", &text) &&
	    strcmp(text, api_version) != 0)
		pol_error(reader, version_node, "apiVersion",
			  "unsupported apiVersion \"%s\" for kind %s: this stowage reads %s",
			  text, kind, api_version);
	return version_node != NULL;
}

static int parse_text(pol_reader *reader, const char *text, size_t length,
		      bool in_configmap, pol_policy *policy);

/* Returns the literal block's indentation: the leading spaces of its first
 * line with content. NOTE: with an explicit indentation indicator (|2) and
 * a first line indented further, columns are off by the difference. */
static size_t block_indent(const char *text, size_t length, size_t offset)
{
	const char *end = text + length;
	const char *line = memchr(text + offset, '\n', length - offset);

	while (line != NULL && line < end) {
		const char *start = line + 1;
		const char *p = start;

		while (p < end && *p == ' ')
			p++;
		if (p < end && *p != '\n' && *p != '\r')
			return (size_t)(p - start);
		line = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	}
	return 0;
}

/* Picks data."policy.yaml", or the only key, of a ConfigMap. */
static const pol_yaml_pair *configmap_entry(pol_reader *reader,
					    const pol_yaml_node *data)
{
	const pol_yaml_pair *pair = pol_yaml_get_pair(data, POL_CONFIGMAP_KEY);
	GString *keys;

	if (pair != NULL)
		return pair;
	if (data->items->len == 1)
		return g_ptr_array_index(data->items, 0);

	keys = g_string_new(NULL);
	for (guint i = 0; i < data->items->len; i++) {
		const pol_yaml_pair *item = g_ptr_array_index(data->items, i);

		g_string_append_printf(keys, "%s\"%s\"", i > 0 ? ", " : "",
				       item->key->text);
	}
	pol_error(reader, data, "data",
		  "no key \"%s\" among %s; put the policy under data.\"%s\"",
		  POL_CONFIGMAP_KEY, data->items->len > 0 ? keys->str : "no keys",
		  POL_CONFIGMAP_KEY);
	g_string_free(keys, TRUE);
	return NULL;
}

static int read_configmap(pol_reader *reader, const pol_yaml_node *root,
			  const char *text, size_t length, pol_policy *policy)
{
	static const char *const fields[] = {"apiVersion", "kind", "metadata",
					     "data", "binaryData", "immutable",
					     NULL};
	const pol_yaml_node *data;
	const pol_yaml_pair *entry;
	const char *policy_text;
	char path[POL_PATH_MAX];
	pol_reader saved = *reader;
	int rc;

	pol_check_fields(reader, root, "", fields);
	read_header(reader, root, "v1", "ConfigMap");
	data = pol_require(reader, root, "", "data",
			   "put the policy under data.\"" POL_CONFIGMAP_KEY "\"");
	if (data == NULL || !pol_expect_mapping(reader, data, "data"))
		return 0;
	entry = configmap_entry(reader, data);
	if (entry == NULL)
		return 0;

	g_snprintf(path, sizeof(path), "data.\"%s\"", entry->key->text);
	if (entry->value == NULL ||
	    !pol_read_string(reader, entry->value, path, &policy_text))
		return 0;

	if (entry->value->literal) {
		reader->embedding = POL_EMBED_LITERAL;
		reader->base_line = entry->value->position.line;
		reader->indent = block_indent(text, length, entry->value->offset);
	} else {
		reader->embedding = POL_EMBED_OPAQUE;
		reader->value_position = entry->value->position;
	}
	rc = parse_text(reader, policy_text, strlen(policy_text), true, policy);

	/* Errors and counts stay; the position mapping ends here. */
	reader->embedding = saved.embedding;
	reader->base_line = saved.base_line;
	reader->indent = saved.indent;
	reader->value_position = saved.value_position;
	return rc;
}

static int read_root(pol_reader *reader, const pol_yaml_node *root,
		     const char *text, size_t length, bool in_configmap,
		     pol_policy *policy)
{
	static const char *const fields[] = {"apiVersion", "kind", "metadata",
					     "spec", NULL};
	const pol_yaml_node *kind_node;
	const char *kind;

	if (!pol_expect_mapping(reader, root, ""))
		return 0;
	kind_node = pol_require(reader, root, "", "kind",
				"write kind: " POL_KIND);
	if (kind_node == NULL || !pol_read_string(reader, kind_node, "kind", &kind))
		return 0;

	if (strcmp(kind, "ConfigMap") == 0 && !in_configmap)
		return read_configmap(reader, root, text, length, policy);
	if (strcmp(kind, POL_KIND) != 0) {
		pol_error(reader, kind_node, "kind",
			  "unsupported kind \"%s\": expected %s%s", kind, POL_KIND,
			  in_configmap ? "" : ", or a ConfigMap holding one");
		return 0;
	}

	pol_check_fields(reader, root, "", fields);
	read_header(reader, root, POL_API_VERSION, POL_KIND);
	read_metadata(reader, root, policy);
	read_spec(reader, root, policy);
	return 0;
}

static int parse_text(pol_reader *reader, const char *text, size_t length,
		      bool in_configmap, pol_policy *policy)
{
	pol_yaml_node *root = NULL;
	pol_position where;
	score_error err = {0};
	int rc;

	rc = pol_yaml_parse(text, length, &root, &where, &err);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		pol_error_at(reader, where, "", "%s", err.message);
		return 0;
	}
	if (root == NULL) {
		pol_error_at(reader, where, "",
			     "the %s is empty: expected a %s with apiVersion %s%s",
			     in_configmap ? "policy text" : "file", POL_KIND,
			     POL_API_VERSION,
			     in_configmap ? "" : ", or a ConfigMap holding one");
		return 0;
	}
	rc = read_root(reader, root, text, length, in_configmap, policy);
	pol_yaml_free(root);
	return rc;
}

/* ---- Parse and load -------------------------------------------------------- */

static void build_pipeline(pol_reader *reader, pol_policy *policy)
{
	score_error err = {0};
	int rc;

	rc = score_pipeline_add_contention(&policy->pipeline,
					   &policy->contention,
					   policy->weights.contention,
					   policy->weights.contention, &err);
	if (rc == 0)
		rc = score_pipeline_add_isolation(&policy->pipeline,
						  &policy->isolation,
						  policy->weights.isolation, &err);
	if (rc == 0) {
		pol_build_locality(&policy->topology, &policy->locality,
				   policy->exposures, policy->n_exposures,
				   &policy->isolation, &policy->locality_config);
		rc = score_pipeline_add_locality(&policy->pipeline,
						 &policy->locality_config,
						 policy->weights.locality, &err);
	}
	if (rc == 0 && policy->bandwidth_present)
		rc = score_pipeline_add_bandwidth(&policy->pipeline,
						  &policy->bandwidth,
						  policy->weights.bandwidth, &err);
	if (rc == 0 && policy->spread_present)
		rc = score_pipeline_add_spread(&policy->pipeline,
					       &policy->spread,
					       policy->weights.spread, &err);
	if (rc < 0)
		pol_error(reader, NULL, "spec",
			  "cannot build the scoring pipeline: %s", err.message);
}

/* Fills `err` with the error earliest in the file and how many more
 * there are. */
static int report_failure(const pol_reader *reader, score_error *err)
{
	const pol_message *earliest = g_ptr_array_index(reader->errors, 0);
	const char *first;

	for (guint i = 1; i < reader->errors->len; i++) {
		const pol_message *message = g_ptr_array_index(reader->errors, i);

		if (message->position.line < earliest->position.line ||
		    (message->position.line == earliest->position.line &&
		     message->position.column < earliest->position.column))
			earliest = message;
	}
	first = earliest->text;

	if (reader->n_errors == 1)
		return score_fail(err, -EINVAL, "%s", first);
	return score_fail(err, -EINVAL, "%s (and %zu more errors)", first,
			  reader->n_errors - 1);
}

int pol_policy_parse(const char *name, const char *text, size_t length,
		     score_resource_table *resources, pol_policy **out,
		     pol_diagnostics *diagnostics, score_error *err)
{
	pol_policy *policy = policy_new(name, text, length);
	pol_reader reader = {
		.file = name,
		.errors = g_ptr_array_new_with_free_func(pol_message_free),
		.warnings = g_ptr_array_new_with_free_func(pol_message_free),
		.resources = resources,
	};
	int rc;

	*out = NULL;
	rc = parse_text(&reader, text, length, false, policy);
	if (rc < 0) {
		score_fail(err, rc, "%s: out of memory while parsing the policy",
			   name);
		goto out;
	}
	if (reader.n_errors == 0)
		build_pipeline(&reader, policy);
	if (reader.n_errors > 0) {
		rc = report_failure(&reader, err);
		goto out;
	}

	*out = policy;
	policy = NULL;
out:
	if (diagnostics != NULL) {
		pol_messages_move_sorted(reader.errors, diagnostics->errors);
		pol_messages_move_sorted(reader.warnings, diagnostics->warnings);
		if (reader.n_errors > POL_MAX_ERRORS)
			g_ptr_array_add(diagnostics->errors,
					g_strdup_printf("%s: %zu more errors not shown",
							name,
							reader.n_errors - POL_MAX_ERRORS));
	}
	g_ptr_array_unref(reader.errors);
	g_ptr_array_unref(reader.warnings);
	pol_policy_unref(policy);
	return rc;
}

/* Reads the whole file into `*text` (NUL-terminated, freed by the caller
 * with g_free()). */
static int read_file(const char *path, char **text, size_t *length,
		     score_error *err)
{
	struct stat status;
	GString *buffer = NULL;
	int fd;
	int rc = 0;

	*text = NULL;
	*length = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return score_fail(err, -errno, "cannot read policy file %s: %s",
				  path, g_strerror(errno));
	if (fstat(fd, &status) < 0) {
		rc = score_fail(err, -errno, "cannot read policy file %s: %s",
				path, g_strerror(errno));
		goto out;
	}
	if (S_ISDIR(status.st_mode)) {
		rc = score_fail(err, -EISDIR,
				"cannot read policy file %s: it is a directory; give the file inside, such as %s/%s",
				path, path, POL_CONFIGMAP_KEY);
		goto out;
	}

	buffer = g_string_sized_new(S_ISREG(status.st_mode) ? (gsize)status.st_size : 4096);
	for (;;) {
		char chunk[8192];
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = score_fail(err, -errno,
					"cannot read policy file %s: %s", path,
					g_strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (buffer->len + (size_t)got > POL_MAX_FILE_SIZE) {
			rc = score_fail(err, -EFBIG,
					"%s: the file is larger than %d bytes, the limit for a policy (a ConfigMap cannot hold more either)",
					path, POL_MAX_FILE_SIZE);
			goto out;
		}
		g_string_append_len(buffer, chunk, got);
	}
	*length = buffer->len;
	*text = g_string_free(buffer, FALSE);
	buffer = NULL;
out:
	if (buffer != NULL)
		g_string_free(buffer, TRUE);
	close(fd);
	return rc;
}

int pol_policy_load(const char *path, score_resource_table *resources,
		    pol_policy **out, pol_diagnostics *diagnostics,
		    score_error *err)
{
	score_error read_error = {0};
	char *text = NULL;
	size_t length = 0;
	int rc;

	*out = NULL;
	rc = read_file(path, &text, &length, &read_error);
	if (rc < 0) {
		if (diagnostics != NULL)
			g_ptr_array_add(diagnostics->errors,
					g_strdup(read_error.message));
		if (err != NULL)
			*err = read_error;
		return rc;
	}
	rc = pol_policy_parse(path, text, length, resources, out, diagnostics,
			      err);
	g_free(text);
	return rc;
}

/* ---- Accessors ------------------------------------------------------------- */

const char *pol_policy_name(const pol_policy *policy)
{
	return policy->name;
}

const char *pol_policy_source(const pol_policy *policy)
{
	return policy->source;
}

const char *pol_policy_digest(const pol_policy *policy)
{
	return policy->digest;
}

const pol_weights *pol_policy_weights(const pol_policy *policy)
{
	return &policy->weights;
}

const score_contention_config *pol_policy_contention(const pol_policy *policy)
{
	return &policy->contention;
}

const score_isolation_config *pol_policy_isolation(const pol_policy *policy)
{
	return &policy->isolation;
}

void pol_policy_warm(const pol_policy *policy, const score_model *model)
{
	score_isolation_warm(&policy->isolation, model);
}

const pol_topology *pol_policy_topology(const pol_policy *policy)
{
	return &policy->topology;
}

const pol_locality *pol_policy_locality(const pol_policy *policy)
{
	return &policy->locality;
}

const score_bandwidth_config *pol_policy_bandwidth(const pol_policy *policy)
{
	return &policy->bandwidth;
}

const score_spread_config *pol_policy_spread(const pol_policy *policy)
{
	return policy->spread_present ? &policy->spread : NULL;
}

const score_locality_config *pol_policy_locality_config(const pol_policy *policy)
{
	return &policy->locality_config;
}

const pol_exposure *pol_policy_exposures(const pol_policy *policy, size_t *n)
{
	*n = policy->n_exposures;
	return policy->exposures;
}

const score_pipeline *pol_policy_pipeline(const pol_policy *policy)
{
	return &policy->pipeline;
}

static const char *tenancy_name(score_tenancy tenancy)
{
	switch (tenancy) {
	case SCORE_TENANCY_STRICT:
		return "strict";
	case SCORE_TENANCY_PREFERRED:
		return "preferred";
	case SCORE_TENANCY_NONE:
		break;
	}
	return "none";
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void pol_policy_summary(const pol_policy *policy, GString *out)
{
	const score_isolation_config *isolation = &policy->isolation;
	uint32_t hard = 0;

	for (uint32_t i = 0; i < isolation->n_separations; i++)
		hard += isolation->separations[i].hard ? 1 : 0;

	g_string_append_printf(out, "policy \"%s\" is valid: ", policy->name);
	if (isolation->tenants_enabled)
		g_string_append_printf(out,
				       "tenants in mode %s (label %s) with %u dedicated pool%s; ",
				       tenancy_name(isolation->tenancy),
				       isolation->tenant_label, isolation->n_pools,
				       plural(isolation->n_pools));
	else
		g_string_append(out, "no tenant rules; ");
	if (isolation->sandbox_enabled)
		g_string_append_printf(out, "%u sandboxed RuntimeClass%s; ",
				       isolation->sandbox_runtime_classes->len,
				       isolation->sandbox_runtime_classes->len == 1 ? "" : "es");
	g_string_append_printf(out,
			       "%u security group%s, %u separation rule%s (%u hard); ",
			       isolation->n_groups, plural(isolation->n_groups),
			       isolation->n_separations,
			       plural(isolation->n_separations), hard);
	if (policy->topology.present || policy->locality.n_groups > 0 ||
	    policy->locality.network_policies)
		g_string_append_printf(out,
				       "topology %zu level%s, %zu locality group%s%s; ",
				       policy->topology.n_levels,
				       plural(policy->topology.n_levels),
				       policy->locality.n_groups,
				       plural(policy->locality.n_groups),
				       policy->locality.network_policies
					       ? ", peers from NetworkPolicies"
					       : "");
	if (policy->spread_present)
		g_string_append_printf(out,
				       "spread over %s (maxSkew %" G_GINT64_FORMAT ", %s); ",
				       policy->spread.level,
				       policy->spread.max_skew,
				       policy->spread.hard ? "hard" : "soft");
	if (policy->bandwidth_present)
		g_string_append_printf(out,
				       "bandwidth capacity from label %s; ",
				       policy->bandwidth.capacity_label);
	g_string_append_printf(out,
			       "weights contention %" G_GINT64_FORMAT ", isolation %" G_GINT64_FORMAT ", locality %" G_GINT64_FORMAT ", spread %" G_GINT64_FORMAT ", bandwidth %" G_GINT64_FORMAT,
			       policy->weights.contention,
			       policy->weights.isolation,
			       policy->weights.locality, policy->weights.spread,
			       policy->weights.bandwidth);
}
