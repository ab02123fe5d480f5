/* The isolation sections of a policy: spec.tenants, spec.sandbox,
 * spec.securityGroups and spec.separation, read into a
 * score_isolation_config (scoring/isolation.h states the rules). */
#include "policies/internal.h"

#include <string.h>

/* Tenant names declared in spec.tenants.names: name -> its node. */
typedef struct tenant_table {
	GHashTable *names; /* borrowed keys and values from the tree */
	bool declared;     /* spec.tenants.names was present */
} tenant_table;

/* ---- spec.tenants ---------------------------------------------------------- */

static void read_tenant_names(pol_reader *reader, const pol_yaml_node *node,
			      const char *path, tenant_table *tenants)
{
	char field[POL_PATH_MAX];

	tenants->declared = true;
	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(node->items, i);
		const pol_yaml_node *earlier;
		const char *name;

		pol_path_index(field, path, i);
		if (!pol_read_label_value(reader, item, field, &name))
			continue;
		if (name[0] == '\0') {
			pol_error(reader, item, field,
				  "a tenant name must not be empty: pods with an empty tenant label have no tenant");
			continue;
		}
		earlier = g_hash_table_lookup(tenants->names, name);
		if (earlier != NULL) {
			pol_error(reader, item, field,
				  "tenant \"%s\" is declared twice; the first is at line %zu, column %zu",
				  name, earlier->position.line,
				  earlier->position.column);
			continue;
		}
		g_hash_table_insert(tenants->names, (gpointer)name,
				    (gpointer)item);
	}
}

/* Reads a tenant reference and checks that it was declared. */
static bool read_tenant_ref(pol_reader *reader, const pol_yaml_node *node,
			    const char *path, const tenant_table *tenants,
			    const char **out)
{
	if (!pol_read_string(reader, node, path, out))
		return false;
	if (g_hash_table_contains(tenants->names, *out))
		return true;
	if (tenants->declared)
		pol_error(reader, node, path,
			  "unknown tenant \"%s\": declare it in spec.tenants.names or fix the name",
			  *out);
	else
		pol_error(reader, node, path,
			  "unknown tenant \"%s\": declare the tenants in spec.tenants.names, e.g. names: [%s]",
			  *out, *out);
	return false;
}

static void read_infrastructure(pol_reader *reader, const pol_yaml_node *node,
				const char *path,
				score_isolation_config *isolation)
{
	char field[POL_PATH_MAX];
	char why[256];

	/* An explicit list replaces the default kube-system. */
	g_ptr_array_set_size(isolation->infrastructure_namespaces, 0);
	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(node->items, i);
		const char *name;

		pol_path_index(field, path, i);
		if (!pol_read_string(reader, item, field, &name))
			continue;
		if (!pol_dns_label_valid(name, why, sizeof(why))) {
			pol_error(reader, item, field,
				  "invalid namespace name \"%s\": %s", name, why);
			continue;
		}
		g_ptr_array_add(isolation->infrastructure_namespaces,
				(gpointer)score_intern(name));
	}
}

static void read_trust_entry(pol_reader *reader, const pol_yaml_node *node,
			     const char *path, const tenant_table *tenants,
			     GHashTable *seen, score_isolation_config *isolation)
{
	static const char *const fields[] = {"tenant", "trusts", NULL};
	const pol_yaml_node *tenant_node;
	const pol_yaml_node *trusts;
	const pol_yaml_node *earlier;
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];
	const char *tenant;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	tenant_node = pol_require(reader, node, path, "tenant",
				  "name the tenant whose trust this entry lists");
	trusts = pol_require(reader, node, path, "trusts",
			     "list the tenants this tenant accepts on its nodes");

	pol_path_key(field, path, "tenant");
	if (tenant_node == NULL ||
	    !read_tenant_ref(reader, tenant_node, field, tenants, &tenant))
		return;
	earlier = g_hash_table_lookup(seen, tenant);
	if (earlier != NULL) {
		pol_error(reader, tenant_node, field,
			  "tenant \"%s\" already has a trust entry at line %zu, column %zu; merge the two lists",
			  tenant, earlier->position.line,
			  earlier->position.column);
		return;
	}
	g_hash_table_insert(seen, (gpointer)tenant, (gpointer)tenant_node);

	pol_path_key(field, path, "trusts");
	if (trusts == NULL || !pol_expect_sequence(reader, trusts, field))
		return;
	tenant = score_intern(tenant);
	for (guint i = 0; i < trusts->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(trusts->items, i);
		const char *trusted;

		pol_path_index(item_path, field, i);
		if (!read_tenant_ref(reader, item, item_path, tenants, &trusted))
			continue;
		if (strcmp(trusted, tenant) == 0) {
			pol_error(reader, item, item_path,
				  "tenant \"%s\" lists itself: pods of one tenant always share nodes, so remove it",
				  tenant);
			continue;
		}
		/* Trust sets compare interned pointers. */
		trusted = score_intern(trusted);
		if (score_isolation_trusts(isolation, tenant, trusted))
			pol_error(reader, item, item_path,
				  "tenant \"%s\" is listed twice", trusted);
		else
			score_isolation_add_trust(isolation, tenant, trusted);
		score_unintern(trusted);
	}
	score_unintern(tenant);
}

/* Warns about trust declared by one side only: sharing needs both. */
static void warn_one_sided_trust(pol_reader *reader,
				 const pol_yaml_node *trust_list,
				 const score_isolation_config *isolation)
{
	char path[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];

	for (guint i = 0; i < trust_list->items->len; i++) {
		const pol_yaml_node *entry = g_ptr_array_index(trust_list->items, i);
		const pol_yaml_node *tenant_node = pol_field(entry, "tenant");
		const pol_yaml_node *trusts = pol_field(entry, "trusts");

		if (entry->kind != POL_YAML_MAPPING || tenant_node == NULL ||
		    tenant_node->kind != POL_YAML_SCALAR || trusts == NULL ||
		    trusts->kind != POL_YAML_SEQUENCE)
			continue;
		g_snprintf(path, sizeof(path), "spec.tenants.trust[%u].trusts", i);
		for (guint k = 0; k < trusts->items->len; k++) {
			const pol_yaml_node *item = g_ptr_array_index(trusts->items, k);
			const char *tenant;
			const char *trusted;
			bool one_sided;

			if (item->kind != POL_YAML_SCALAR)
				continue;
			tenant = score_intern(tenant_node->text);
			trusted = score_intern(item->text);
			one_sided = score_isolation_trusts(isolation, tenant, trusted) &&
				    !score_isolation_trusts(isolation, trusted, tenant);
			score_unintern(tenant);
			score_unintern(trusted);
			if (!one_sided)
				continue;
			pol_path_index(item_path, path, k);
			pol_warning(reader, item, item_path,
				    "tenant \"%s\" trusts \"%s\", but \"%s\" does not trust \"%s\"; two tenants share a node only when each trusts the other, so this entry has no effect yet",
				    tenant_node->text, item->text, item->text,
				    tenant_node->text);
		}
	}
}

static void read_trust(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, const tenant_table *tenants,
		       score_isolation_config *isolation)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	char item_path[POL_PATH_MAX];

	if (pol_expect_sequence(reader, node, path)) {
		for (guint i = 0; i < node->items->len; i++) {
			pol_path_index(item_path, path, i);
			read_trust_entry(reader, g_ptr_array_index(node->items, i),
					 item_path, tenants, seen, isolation);
		}
		warn_one_sided_trust(reader, node, isolation);
	}
	g_hash_table_destroy(seen);
}

static void read_pool(pol_reader *reader, const pol_yaml_node *node,
		      const char *path, const tenant_table *tenants,
		      score_isolation_config *isolation)
{
	static const char *const fields[] = {"tenant", "nodeSelector", NULL};
	const pol_yaml_node *tenant_node;
	const pol_yaml_node *selector_node;
	score_selector selector;
	score_dedicated_pool *pool;
	char field[POL_PATH_MAX];
	const char *tenant;
	bool ok;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	tenant_node = pol_require(reader, node, path, "tenant",
				  "name the tenant that owns the pool");
	selector_node = pol_require(reader, node, path, "nodeSelector",
				    "select the pool's nodes, e.g. matchLabels: {stowage.io/pool: pci}");

	pol_path_key(field, path, "tenant");
	ok = tenant_node != NULL &&
	     read_tenant_ref(reader, tenant_node, field, tenants, &tenant);

	score_selector_init(&selector);
	pol_path_key(field, path, "nodeSelector");
	if (selector_node != NULL &&
	    pol_read_selector(reader, selector_node, field, &selector) &&
	    selector.n_requirements == 0) {
		pol_error(reader, selector_node, field,
			  "an empty nodeSelector matches every node, which would make the whole cluster one tenant's pool; select the pool's nodes, e.g. matchLabels: {stowage.io/pool: NAME}");
		ok = false;
	}
	if (!ok || selector_node == NULL) {
		score_selector_release(&selector);
		return;
	}
	pool = score_isolation_add_pool(isolation, tenant, path);
	pool->node_selector = selector;
}

static void read_pools(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, const tenant_table *tenants,
		       score_isolation_config *isolation)
{
	char item_path[POL_PATH_MAX];

	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		pol_path_index(item_path, path, i);
		read_pool(reader, g_ptr_array_index(node->items, i), item_path,
			  tenants, isolation);
	}
}

static const char *const mode_names[] = {"none", "strict", "preferred", NULL};
static const char *const source_names[] = {"namespaceThenPod", "namespace",
					    "pod", NULL};

static void read_tenants(pol_reader *reader, const pol_yaml_node *node,
			 score_isolation_config *isolation)
{
	static const char *const fields[] = {
		"tenantLabel", "tenantSource", "mode", "names",
		"infrastructureNamespaces", "trust", "dedicatedPools", NULL};
	const char *path = "spec.tenants";
	tenant_table tenants = {0};
	const pol_yaml_node *value;
	char field[POL_PATH_MAX];
	const char *text;
	int choice;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	isolation->tenants_enabled = true;
	isolation->tenancy = SCORE_TENANCY_STRICT;
	tenants.names = g_hash_table_new(g_str_hash, g_str_equal);

	pol_path_key(field, path, "tenantLabel");
	value = pol_field(node, "tenantLabel");
	if (value != NULL && pol_read_label_key(reader, value, field, &text)) {
		score_unintern(isolation->tenant_label);
		isolation->tenant_label = score_intern(text);
	}

	pol_path_key(field, path, "tenantSource");
	value = pol_field(node, "tenantSource");
	if (value != NULL &&
	    pol_read_enum(reader, value, field, source_names, &choice))
		isolation->tenant_source = (score_tenant_source)choice;

	pol_path_key(field, path, "mode");
	value = pol_field(node, "mode");
	if (value != NULL && pol_read_enum(reader, value, field, mode_names, &choice))
		isolation->tenancy = (score_tenancy)choice;

	pol_path_key(field, path, "names");
	value = pol_field(node, "names");
	if (value != NULL)
		read_tenant_names(reader, value, field, &tenants);

	pol_path_key(field, path, "infrastructureNamespaces");
	value = pol_field(node, "infrastructureNamespaces");
	if (value != NULL)
		read_infrastructure(reader, value, field, isolation);

	pol_path_key(field, path, "trust");
	value = pol_field(node, "trust");
	if (value != NULL)
		read_trust(reader, value, field, &tenants, isolation);

	pol_path_key(field, path, "dedicatedPools");
	value = pol_field(node, "dedicatedPools");
	if (value != NULL)
		read_pools(reader, value, field, &tenants, isolation);

	g_hash_table_destroy(tenants.names);
}

/* ---- spec.sandbox ---------------------------------------------------------- */

static void read_sandbox(pol_reader *reader, const pol_yaml_node *node,
			 score_isolation_config *isolation)
{
	static const char *const fields[] = {"runtimeClassNames",
					     "allowSharingWithUnsandboxed", NULL};
	const char *path = "spec.sandbox";
	const pol_yaml_node *names;
	const pol_yaml_node *allow;
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];
	char why[256];

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	names = pol_require(reader, node, path, "runtimeClassNames",
			    "list the RuntimeClasses that run pods in a sandbox, e.g. [gvisor, kata]");
	isolation->sandbox_enabled = true;

	pol_path_key(field, path, "allowSharingWithUnsandboxed");
	allow = pol_field(node, "allowSharingWithUnsandboxed");
	if (allow != NULL)
		pol_read_bool(reader, allow, field,
			      &isolation->allow_sharing_with_unsandboxed);

	pol_path_key(field, path, "runtimeClassNames");
	if (names == NULL || !pol_expect_sequence(reader, names, field))
		return;
	if (names->items->len == 0)
		pol_error(reader, names, field,
			  "the list is empty; name at least one sandboxed RuntimeClass");
	for (guint i = 0; i < names->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(names->items, i);
		const char *name;

		pol_path_index(item_path, field, i);
		if (!pol_read_string(reader, item, item_path, &name))
			continue;
		if (!pol_dns_subdomain_valid(name, why, sizeof(why))) {
			pol_error(reader, item, item_path,
				  "invalid RuntimeClass name \"%s\": %s", name, why);
			continue;
		}
		g_ptr_array_add(isolation->sandbox_runtime_classes,
				(gpointer)score_intern(name));
	}
}

/* ---- spec.securityGroups ----------------------------------------------------- */

/* Parses "80" or "8000-8080" (or the integer 80). */
static bool read_port_range(pol_reader *reader, const pol_yaml_node *node,
			    const char *path, int32_t *first, int32_t *last)
{
	char **parts = NULL;
	int64_t values[2];
	guint n_parts;
	bool ok = false;

	if (node->kind == POL_YAML_SCALAR && node->type == POL_SCALAR_INT) {
		if (!pol_read_int(reader, node, path, 1, 65535, &values[0]))
			return false;
		*first = *last = (int32_t)values[0];
		return true;
	}
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_STRING) {
		pol_error(reader, node, path,
			  "expected a port such as 443 or a range such as \"8000-8080\", got %s",
			  pol_yaml_describe(node));
		return false;
	}

	parts = g_strsplit(node->text, "-", 3);
	n_parts = g_strv_length(parts);
	for (guint i = 0; i < n_parts && n_parts <= 2; i++) {
		guint64 value;

		if (!g_ascii_string_to_unsigned(parts[i], 10, 1, 65535, &value,
						NULL))
			goto invalid;
		values[i] = (int64_t)value;
	}
	if (n_parts == 0 || n_parts > 2)
		goto invalid;
	if (n_parts == 1)
		values[1] = values[0];
	if (values[0] > values[1]) {
		pol_error(reader, node, path,
			  "invalid port range \"%s\": the first port must not be above the last",
			  node->text);
		goto out;
	}
	*first = (int32_t)values[0];
	*last = (int32_t)values[1];
	ok = true;
	goto out;

invalid:
	pol_error(reader, node, path,
		  "invalid port range \"%s\": expected a port from 1 to 65535, such as \"443\", or two joined by '-', such as \"8000-8080\"",
		  node->text);
out:
	g_strfreev(parts);
	return ok;
}

/* Reads `groups` names into a mask of known groups. */
static bool read_group_refs(pol_reader *reader, const pol_yaml_node *node,
			    const char *path,
			    const score_isolation_config *isolation,
			    uint64_t *mask, guint *count)
{
	char item_path[POL_PATH_MAX];
	bool ok = true;

	*mask = 0;
	*count = 0;
	if (!pol_expect_sequence(reader, node, path))
		return false;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(node->items, i);
		const char *name;
		uint64_t bit;
		int index;

		pol_path_index(item_path, path, i);
		if (!pol_read_string(reader, item, item_path, &name)) {
			ok = false;
			continue;
		}
		index = pol_find_group(isolation, name);
		if (index < 0) {
			pol_error(reader, item, item_path,
				  "unknown security group \"%s\": declare it in spec.securityGroups or fix the name",
				  name);
			ok = false;
			continue;
		}
		bit = UINT64_C(1) << index;
		if (*mask & bit) {
			pol_error(reader, item, item_path,
				  "security group \"%s\" is listed twice", name);
			ok = false;
			continue;
		}
		*mask |= bit;
		(*count)++;
	}
	return ok;
}

static const char *const protocol_names[] = {"TCP", "UDP", "SCTP", NULL};

static void read_exposure(pol_reader *reader, const pol_yaml_node *node,
			  const char *path, uint32_t group,
			  const score_isolation_config *isolation,
			  GArray *exposures)
{
	static const char *const fields[] = {"protocol", "ports", "from", NULL};
	pol_exposure exposure = {.group = group};
	const pol_yaml_node *value;
	char field[POL_PATH_MAX];
	guint count;
	int choice;
	bool ok = true;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);

	pol_path_key(field, path, "protocol");
	value = pol_field(node, "protocol");
	if (value != NULL) {
		ok = pol_read_enum(reader, value, field, protocol_names, &choice);
		exposure.protocol = (score_protocol)choice;
	}

	pol_path_key(field, path, "ports");
	value = pol_require(reader, node, path, "ports",
			    "give a port such as 443 or a range such as \"8000-8080\"");
	ok = value != NULL &&
	     read_port_range(reader, value, field, &exposure.first_port,
			     &exposure.last_port) && ok;

	pol_path_key(field, path, "from");
	value = pol_require(reader, node, path, "from",
			    "write world, or list the security groups that may connect");
	if (value == NULL)
		return;
	if (value->kind == POL_YAML_SCALAR) {
		if (value->type == POL_SCALAR_STRING &&
		    strcmp(value->text, "world") == 0) {
			exposure.from_world = true;
		} else {
			pol_error(reader, value, field,
				  "expected world or a list of security group names, got %s%s%s%s",
				  pol_yaml_describe(value),
				  value->type == POL_SCALAR_STRING ? " \"" : "",
				  value->type == POL_SCALAR_STRING ? value->text : "",
				  value->type == POL_SCALAR_STRING ? "\"" : "");
			ok = false;
		}
	} else {
		ok = read_group_refs(reader, value, field, isolation,
				     &exposure.from_groups, &count) && ok;
	}
	if (ok)
		g_array_append_val(exposures, exposure);
}

/* Reads exposedTo: the string world, or {from: world, protocol, ports}. */
static bool read_exposed_to(pol_reader *reader, const pol_yaml_node *node,
			    const char *path, score_port_filter *filter)
{
	static const char *const fields[] = {"from", "protocol", "ports", NULL};
	const pol_yaml_node *value;
	char field[POL_PATH_MAX];
	const char *text;
	int choice;
	bool ok = true;

	memset(filter, 0, sizeof(*filter));
	filter->any_protocol = true;
	if (node->kind == POL_YAML_SCALAR) {
		if (node->type == POL_SCALAR_STRING && strcmp(node->text, "world") == 0)
			return true;
		if (node->type == POL_SCALAR_STRING)
			pol_error(reader, node, path,
				  "invalid value \"%s\": expected world, or a mapping such as {from: world, protocol: TCP, ports: \"443\"}",
				  node->text);
		else
			pol_error(reader, node, path,
				  "expected world, or a mapping such as {from: world, protocol: TCP, ports: \"443\"}, got %s",
				  pol_yaml_describe(node));
		return false;
	}
	if (!pol_expect_mapping(reader, node, path))
		return false;
	pol_check_fields(reader, node, path, fields);

	pol_path_key(field, path, "from");
	value = pol_require(reader, node, path, "from",
			    "write from: world, the only audience stowage derives so far");
	if (value != NULL && pol_read_string(reader, value, field, &text) &&
	    strcmp(text, "world") != 0) {
		pol_error(reader, value, field,
			  "invalid value \"%s\": expected world", text);
		ok = false;
	} else if (value == NULL) {
		ok = false;
	}

	pol_path_key(field, path, "protocol");
	value = pol_field(node, "protocol");
	if (value != NULL) {
		if (pol_read_enum(reader, value, field, protocol_names, &choice)) {
			filter->any_protocol = false;
			filter->protocol = (score_protocol)choice;
		} else {
			ok = false;
		}
	}

	pol_path_key(field, path, "ports");
	value = pol_field(node, "ports");
	if (value != NULL)
		ok = read_port_range(reader, value, field, &filter->first_port,
				     &filter->last_port) && ok;
	return ok;
}

static void read_group(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, score_isolation_config *isolation)
{
	static const char *const fields[] = {"name", "podSelector",
					     "namespaceSelector", "exposure",
					     "exposedTo", NULL};
	const pol_yaml_node *name_node;
	const pol_yaml_node *pods;
	const pol_yaml_node *namespaces;
	const pol_yaml_node *exposed_to;
	score_security_group *group;
	score_error err = {0};
	char field[POL_PATH_MAX];
	char why[256];
	const char *name;
	int earlier;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	name_node = pol_require(reader, node, path, "name",
				"name the group, e.g. web; rules refer to it by this name");
	pods = pol_field(node, "podSelector");
	namespaces = pol_field(node, "namespaceSelector");
	exposed_to = pol_field(node, "exposedTo");

	pol_path_key(field, path, "name");
	if (name_node == NULL || !pol_read_string(reader, name_node, field, &name))
		return;
	if (!pol_dns_label_valid(name, why, sizeof(why))) {
		pol_error(reader, name_node, field,
			  "invalid security group name \"%s\": %s", name, why);
		return;
	}
	earlier = pol_find_group(isolation, name);
	if (earlier >= 0) {
		pol_error(reader, name_node, field,
			  "security group \"%s\" is declared twice; names must be unique",
			  name);
		return;
	}
	if (pods == NULL && namespaces == NULL && exposed_to == NULL)
		pol_error(reader, node, path,
			  "the group selects no pods: give podSelector, namespaceSelector, exposedTo, or a combination ({} selects all)");

	if (score_isolation_add_group(isolation, name, &group, &err) < 0) {
		pol_error(reader, name_node, field, "%s", err.message);
		return;
	}
	pol_path_key(field, path, "podSelector");
	if (pods != NULL) {
		group->has_pod_selector = true;
		pol_read_selector(reader, pods, field, &group->pod_selector);
	}
	pol_path_key(field, path, "namespaceSelector");
	if (namespaces != NULL) {
		group->has_namespace_selector = true;
		pol_read_selector(reader, namespaces, field,
				  &group->namespace_selector);
	}
	pol_path_key(field, path, "exposedTo");
	if (exposed_to != NULL)
		group->has_exposure = read_exposed_to(reader, exposed_to, field,
						      &group->exposure);
}

/* Exposure entries name groups, possibly later ones, so they are read
 * after every group is known. */
static void read_exposures(pol_reader *reader, const pol_yaml_node *list,
			   const score_isolation_config *isolation,
			   GArray *exposures)
{
	char path[POL_PATH_MAX];
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];

	for (guint i = 0; i < list->items->len; i++) {
		const pol_yaml_node *node = g_ptr_array_index(list->items, i);
		const pol_yaml_node *name = pol_field(node, "name");
		const pol_yaml_node *exposure = pol_field(node, "exposure");
		int group;

		if (node->kind != POL_YAML_MAPPING || name == NULL ||
		    name->kind != POL_YAML_SCALAR || exposure == NULL)
			continue;
		group = pol_find_group(isolation, name->text);
		g_snprintf(path, sizeof(path), "spec.securityGroups[%u]", i);
		pol_path_key(field, path, "exposure");
		if (group < 0 || !pol_expect_sequence(reader, exposure, field))
			continue;
		for (guint k = 0; k < exposure->items->len; k++) {
			pol_path_index(item_path, field, k);
			read_exposure(reader, g_ptr_array_index(exposure->items, k),
				      item_path, (uint32_t)group, isolation,
				      exposures);
		}
	}
}

static void read_groups(pol_reader *reader, const pol_yaml_node *node,
			score_isolation_config *isolation, GArray *exposures)
{
	const char *path = "spec.securityGroups";
	char item_path[POL_PATH_MAX];

	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		pol_path_index(item_path, path, i);
		read_group(reader, g_ptr_array_index(node->items, i), item_path,
			   isolation);
	}
	read_exposures(reader, node, isolation, exposures);
}

/* ---- spec.separation ------------------------------------------------------- */

static const char *const separation_modes[] = {"soft", "hard", NULL};

static void read_separation_rule(pol_reader *reader, const pol_yaml_node *node,
				 const char *path,
				 score_isolation_config *isolation)
{
	static const char *const fields[] = {"groups", "mode", NULL};
	const pol_yaml_node *groups;
	const pol_yaml_node *mode;
	char field[POL_PATH_MAX];
	uint64_t mask;
	guint count;
	int hard = 0;
	bool ok;

	if (!pol_expect_mapping(reader, node, path))
		return;
	pol_check_fields(reader, node, path, fields);
	groups = pol_require(reader, node, path, "groups",
			     "list two or more security groups whose pods must not share a node");
	mode = pol_require(reader, node, path, "mode",
			   "write hard to reject such nodes or soft to score them lower");

	pol_path_key(field, path, "mode");
	ok = mode != NULL &&
	     pol_read_enum(reader, mode, field, separation_modes, &hard);
	pol_path_key(field, path, "groups");
	if (groups == NULL ||
	    !read_group_refs(reader, groups, field, isolation, &mask, &count))
		return;
	if (count < 2) {
		pol_error(reader, groups, field,
			  "a separation rule needs at least two different groups, got %u",
			  count);
		return;
	}
	if (ok)
		score_isolation_add_separation(isolation, mask, hard == 1, path);
}

static void read_separation(pol_reader *reader, const pol_yaml_node *node,
			    score_isolation_config *isolation)
{
	const char *path = "spec.separation";
	char item_path[POL_PATH_MAX];

	if (!pol_expect_sequence(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		pol_path_index(item_path, path, i);
		read_separation_rule(reader, g_ptr_array_index(node->items, i),
				     item_path, isolation);
	}
}

/* ---- All isolation sections ------------------------------------------------ */

int pol_find_group(const score_isolation_config *isolation, const char *name)
{
	for (uint32_t i = 0; i < isolation->n_groups; i++) {
		if (strcmp(isolation->groups[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

void pol_read_isolation(pol_reader *reader, const pol_yaml_node *spec,
			score_isolation_config *isolation, GArray *exposures)
{
	const pol_yaml_node *tenants = pol_field(spec, "tenants");
	const pol_yaml_node *sandbox = pol_field(spec, "sandbox");
	const pol_yaml_node *groups = pol_field(spec, "securityGroups");
	const pol_yaml_node *separation = pol_field(spec, "separation");

	if (tenants != NULL)
		read_tenants(reader, tenants, isolation);
	if (sandbox != NULL) {
		read_sandbox(reader, sandbox, isolation);
		if (tenants == NULL)
			pol_error(reader, sandbox, "spec.sandbox",
				  "sandbox rules relax tenant isolation, so they need spec.tenants; add spec.tenants with the tenants and their mode");
		else if (isolation->tenancy == SCORE_TENANCY_NONE)
			pol_warning(reader, sandbox, "spec.sandbox",
				    "spec.tenants.mode is none, so tenants share nodes anyway and the sandbox rules have no effect");
	}
	if (groups != NULL)
		read_groups(reader, groups, isolation, exposures);
	if (separation != NULL)
		read_separation(reader, separation, isolation);
}
