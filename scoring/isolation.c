/* Isolation filters and scorer; see isolation.h for the rules. */
#include "scoring/isolation.h"

#include <errno.h>
#include <string.h>

/* The label the API server puts on every namespace (Kubernetes 1.22 and
 * later), whose value is the namespace's name. */
#define NAMESPACE_NAME_LABEL "kubernetes.io/metadata.name"

/* The scorer counts distinct conflicting tenants in a fixed array; past
 * this many on one node each further conflict counts as new. */
#define MAX_DISTINCT_TENANTS 64

/* ---- Config -------------------------------------------------------------- */

static void trust_set_free(gpointer data)
{
	g_hash_table_destroy(data);
}

static void unintern_item(gpointer data)
{
	score_unintern(data);
}

void score_isolation_init(score_isolation_config *config)
{
	memset(config, 0, sizeof(*config));
	config->tenancy = SCORE_TENANCY_NONE;
	config->tenant_label = score_intern(SCORE_DEFAULT_TENANT_LABEL);
	config->tenant_source = SCORE_TENANT_FROM_NAMESPACE_THEN_POD;
	config->trust = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					      unintern_item, trust_set_free);
	config->infrastructure_namespaces =
		g_ptr_array_new_with_free_func(unintern_item);
	g_ptr_array_add(config->infrastructure_namespaces,
			(gpointer)score_intern("kube-system"));
	config->sandbox_runtime_classes =
		g_ptr_array_new_with_free_func(unintern_item);
}

void score_isolation_release(score_isolation_config *config)
{
	score_unintern(config->tenant_label);
	if (config->trust != NULL)
		g_hash_table_destroy(config->trust);
	if (config->infrastructure_namespaces != NULL)
		g_ptr_array_unref(config->infrastructure_namespaces);
	if (config->sandbox_runtime_classes != NULL)
		g_ptr_array_unref(config->sandbox_runtime_classes);

	for (uint32_t i = 0; i < config->n_pools; i++) {
		score_unintern(config->pools[i].tenant);
		score_selector_release(&config->pools[i].node_selector);
		g_free(config->pools[i].rule);
	}
	g_free(config->pools);

	for (uint32_t i = 0; i < config->n_groups; i++) {
		g_free(config->groups[i].name);
		score_selector_release(&config->groups[i].pod_selector);
		score_selector_release(&config->groups[i].namespace_selector);
	}
	g_free(config->groups);

	for (uint32_t i = 0; i < config->n_separations; i++)
		g_free(config->separations[i].rule);
	g_free(config->separations);
	memset(config, 0, sizeof(*config));
}

void score_isolation_add_trust(score_isolation_config *config,
			       const char *tenant, const char *trusted)
{
	const char *key = score_intern(tenant);
	GHashTable *set = g_hash_table_lookup(config->trust, key);

	if (set == NULL) {
		set = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					    unintern_item, NULL);
		g_hash_table_insert(config->trust, (gpointer)key, set);
	} else {
		score_unintern(key);
	}
	trusted = score_intern(trusted);
	if (g_hash_table_contains(set, trusted)) {
		score_unintern(trusted);
		return;
	}
	g_hash_table_add(set, (gpointer)trusted);
}

bool score_isolation_trusts(const score_isolation_config *config,
			    const char *tenant, const char *trusted)
{
	GHashTable *set = g_hash_table_lookup(config->trust, tenant);

	return set != NULL && g_hash_table_contains(set, trusted);
}

int score_isolation_add_group(score_isolation_config *config,
			      const char *name, score_security_group **out,
			      score_error *err)
{
	score_security_group *group;

	*out = NULL;
	if (config->n_groups >= SCORE_MAX_SECURITY_GROUPS)
		return score_fail(err, -ENOSPC,
				  "cannot add security group %s: a policy holds at most %d groups",
				  name, SCORE_MAX_SECURITY_GROUPS);
	config->groups = g_renew(score_security_group, config->groups,
				 config->n_groups + 1);
	group = &config->groups[config->n_groups++];
	memset(group, 0, sizeof(*group));
	group->name = g_strdup(name);
	*out = group;
	return 0;
}

void score_isolation_add_separation(score_isolation_config *config,
				    uint64_t groups, bool hard,
				    const char *rule)
{
	score_separation *separation;

	config->separations = g_renew(score_separation, config->separations,
				      config->n_separations + 1);
	separation = &config->separations[config->n_separations++];
	separation->groups = groups;
	separation->hard = hard;
	separation->rule = g_strdup(rule);
}

score_dedicated_pool *score_isolation_add_pool(score_isolation_config *config,
					       const char *tenant,
					       const char *rule)
{
	score_dedicated_pool *pool;

	config->pools = g_renew(score_dedicated_pool, config->pools,
				config->n_pools + 1);
	pool = &config->pools[config->n_pools++];
	pool->tenant = score_intern(tenant);
	score_selector_init(&pool->node_selector);
	pool->rule = g_strdup(rule);
	return pool;
}

/* ---- Pod facts ----------------------------------------------------------- */

static const char *nonempty(const char *value)
{
	return value != NULL && value[0] != '\0' ? value : NULL;
}

const char *score_isolation_pod_tenant(const score_isolation_config *config,
				       const score_model *model,
				       const score_pod *pod)
{
	const score_labels *namespace_labels = NULL;
	const char *tenant;

	if (pod->tenant != NULL)
		return pod->tenant;

	if (config->tenant_source != SCORE_TENANT_FROM_POD) {
		if (model != NULL && pod->namespace != NULL)
			namespace_labels = score_model_namespace_labels(
				model, pod->namespace);
		if (namespace_labels != NULL) {
			tenant = nonempty(score_labels_get(namespace_labels,
							   config->tenant_label));
			if (tenant != NULL)
				return tenant;
		}
		if (config->tenant_source == SCORE_TENANT_FROM_NAMESPACE)
			return NULL;
	}
	return nonempty(score_labels_get(&pod->labels, config->tenant_label));
}

static bool namespace_selector_matches(const score_selector *selector,
				       const score_model *model,
				       const score_pod *pod)
{
	const score_labels *labels = NULL;
	score_label name_label;
	score_labels only_name;

	if (model != NULL && pod->namespace != NULL)
		labels = score_model_namespace_labels(model, pod->namespace);
	if (labels != NULL)
		return score_selector_matches(selector, labels);

	/* A namespace the model has not seen still has the name label the
	 * API server sets. Lookups compare keys with strcmp() and values by
	 * pointer, so the key need not be interned here. */
	name_label.key = NAMESPACE_NAME_LABEL;
	name_label.value = pod->namespace;
	only_name.items = &name_label;
	only_name.count = pod->namespace != NULL ? 1 : 0;
	return score_selector_matches(selector, &only_name);
}

bool score_isolation_pod_in_group(const score_isolation_config *config,
				  const score_model *model,
				  const score_pod *pod, uint32_t index)
{
	const score_security_group *group = &config->groups[index];

	if (group->has_pod_selector &&
	    !score_selector_matches(&group->pod_selector, &pod->labels))
		return false;
	if (group->has_namespace_selector &&
	    !namespace_selector_matches(&group->namespace_selector, model, pod))
		return false;
	if (group->has_exposure &&
	    !score_pod_exposed(model, pod, &group->exposure, NULL))
		return false;
	return true;
}

/* The groups among `interest` that the pod belongs to. */
static uint64_t pod_groups(const score_isolation_config *config,
			   const score_model *model, const score_pod *pod,
			   uint64_t interest)
{
	uint64_t groups = 0;

	for (uint32_t i = 0; i < config->n_groups; i++) {
		uint64_t bit = UINT64_C(1) << i;

		if ((interest & bit) &&
		    score_isolation_pod_in_group(config, model, pod, i))
			groups |= bit;
	}
	return groups;
}

static bool listed(const GPtrArray *interned, const char *value)
{
	if (value == NULL)
		return false;
	for (guint i = 0; i < interned->len; i++) {
		if (g_ptr_array_index(interned, i) == value)
			return true;
	}
	return false;
}

/* What the tenant rules need to know about one pod. */
typedef struct pod_view {
	const score_pod *pod;
	const char *tenant; /* interned, NULL without a tenant */
	bool infrastructure;
	bool sandboxed;
	char access[64]; /* "hostNetwork, privileged"; empty without host access */
} pod_view;

static void describe_access(const score_pod *pod, char *buf, size_t size)
{
	const struct {
		bool set;
		const char *name;
	} kinds[] = {
		{pod->host_network, "hostNetwork"},
		{pod->host_pid, "hostPID"},
		{pod->host_ipc, "hostIPC"},
		{pod->privileged, "privileged"},
		{pod->uses_host_path, "hostPath"},
	};

	buf[0] = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (!kinds[i].set)
			continue;
		if (buf[0] != '\0')
			g_strlcat(buf, ", ", size);
		g_strlcat(buf, kinds[i].name, size);
	}
}

static bool has_host_access(const score_pod *pod)
{
	return pod->host_network || pod->host_pid || pod->host_ipc ||
	       pod->privileged || pod->uses_host_path;
}

static void view_pod(const score_isolation_config *config,
		     const score_model *model, const score_pod *pod,
		     pod_view *view)
{
	view->pod = pod;
	view->tenant = score_isolation_pod_tenant(config, model, pod);
	view->infrastructure = listed(config->infrastructure_namespaces,
				      pod->namespace);
	view->sandboxed = config->sandbox_enabled &&
			  listed(config->sandbox_runtime_classes,
				 pod->runtime_class_name);
	view->access[0] = '\0';
	if (has_host_access(pod))
		describe_access(pod, view->access, sizeof(view->access));
}

/* True for a pod on the node that the rules compare `self` with. */
static bool is_neighbour(const score_usage *usage, const score_pod *self,
			 const score_pod *other)
{
	if (other == self || (self->uid != NULL && other->uid == self->uid))
		return false;
	return !score_usage_is_victim(usage, other);
}

static void append_pod_name(GString *out, const score_pod *pod)
{
	g_string_append_printf(out, "%s/%s",
			       pod->namespace != NULL ? pod->namespace : "",
			       pod->name != NULL ? pod->name
						 : (pod->uid != NULL ? pod->uid : "?"));
}

/* Starts a new reason, separated from earlier ones in this filter. */
static void begin_reason(GString *reason, size_t start)
{
	if (reason->len > start)
		g_string_append(reason, "; ");
}

/* ---- Dedicated pools ----------------------------------------------------- */

static void check_pools(const score_isolation_config *config,
			const pod_view *self, const score_node *node,
			GString *reason, size_t start)
{
	const score_dedicated_pool *own = NULL;
	const score_dedicated_pool *foreign = NULL;
	bool has_own_pool = false;

	if (config->n_pools == 0 || self->infrastructure)
		return;

	for (uint32_t i = 0; i < config->n_pools; i++) {
		const score_dedicated_pool *pool = &config->pools[i];
		bool is_own = self->tenant != NULL && pool->tenant == self->tenant;

		if (is_own)
			has_own_pool = true;
		if (!score_selector_matches(&pool->node_selector, &node->labels))
			continue;
		if (is_own)
			own = pool;
		else if (foreign == NULL)
			foreign = pool;
	}

	if (own != NULL)
		return;
	if (has_own_pool) {
		begin_reason(reason, start);
		g_string_append_printf(reason,
				       "dedicated pool: tenant \"%s\" runs only on the nodes of its dedicated pools",
				       self->tenant);
		for (uint32_t i = 0; i < config->n_pools; i++) {
			if (config->pools[i].tenant != self->tenant)
				continue;
			g_string_append_printf(reason, " (%s: ",
					       config->pools[i].rule);
			score_selector_format(&config->pools[i].node_selector,
					      reason);
			g_string_append_c(reason, ')');
		}
		g_string_append(reason, ", and node matches none of them");
		return;
	}
	if (foreign == NULL)
		return;

	begin_reason(reason, start);
	g_string_append_printf(reason,
			       "dedicated pool: node is in the dedicated pool of tenant \"%s\" (%s), ",
			       foreign->tenant, foreign->rule);
	if (self->tenant != NULL)
		g_string_append_printf(reason,
				       "which keeps the pods of tenant \"%s\" off it",
				       self->tenant);
	else
		g_string_append(reason, "which keeps pods without a tenant off it");
}

/* ---- Tenant isolation ---------------------------------------------------- */

typedef enum tenant_conflict {
	CONFLICT_NONE = 0,
	CONFLICT_SELF_HOST_ACCESS,  /* the incoming pod has host access */
	CONFLICT_OTHER_HOST_ACCESS, /* the pod on the node has host access */
	CONFLICT_UNTRUSTED,         /* the tenants do not trust each other */
} tenant_conflict;

static bool sandbox_allows(const score_isolation_config *config,
			   const pod_view *self, const pod_view *other)
{
	if (self->sandboxed && other->sandboxed)
		return true;
	return (self->sandboxed || other->sandboxed) &&
	       config->allow_sharing_with_unsandboxed;
}

static tenant_conflict find_tenant_conflict(const score_isolation_config *config,
					    const pod_view *self,
					    const pod_view *other)
{
	if (other->infrastructure || self->tenant == other->tenant)
		return CONFLICT_NONE;
	if (other->access[0] != '\0' && self->tenant != NULL)
		return CONFLICT_OTHER_HOST_ACCESS;
	if (self->access[0] != '\0' && other->tenant != NULL)
		return CONFLICT_SELF_HOST_ACCESS;
	if (self->tenant == NULL || other->tenant == NULL)
		return CONFLICT_NONE;
	if (score_isolation_trusts(config, self->tenant, other->tenant) &&
	    score_isolation_trusts(config, other->tenant, self->tenant))
		return CONFLICT_NONE;
	if (sandbox_allows(config, self, other))
		return CONFLICT_NONE;
	return CONFLICT_UNTRUSTED;
}

static void append_tenant_of(GString *out, const pod_view *view)
{
	if (view->tenant != NULL)
		g_string_append_printf(out, " of tenant \"%s\"", view->tenant);
	else
		g_string_append(out, " (no tenant)");
}

static void append_untrusted(GString *out, const score_isolation_config *config,
			     const pod_view *self, const pod_view *other)
{
	bool self_trusts = score_isolation_trusts(config, self->tenant,
						  other->tenant);
	bool other_trusts = score_isolation_trusts(config, other->tenant,
						   self->tenant);

	g_string_append(out, "node runs pod ");
	append_pod_name(out, other->pod);
	g_string_append_printf(out, " of tenant \"%s\"", other->tenant);
	if (!self_trusts && !other_trusts)
		g_string_append_printf(out,
				       "; tenants \"%s\" and \"%s\" do not trust each other",
				       self->tenant, other->tenant);
	else if (!self_trusts)
		g_string_append_printf(out, ", which tenant \"%s\" does not trust",
				       self->tenant);
	else
		g_string_append_printf(out, ", which does not trust tenant \"%s\"",
				       self->tenant);
	if (self->sandboxed != other->sandboxed)
		g_string_append(out,
				"; only one of the two pods runs in a sandboxed RuntimeClass, and the policy lets untrusting tenants share a node only when both do");
}

static void append_tenant_conflict(GString *out,
				   const score_isolation_config *config,
				   const pod_view *self, const pod_view *other,
				   tenant_conflict conflict)
{
	g_string_append(out, "tenant isolation: ");
	switch (conflict) {
	case CONFLICT_OTHER_HOST_ACCESS:
		g_string_append(out, "node runs pod ");
		append_pod_name(out, other->pod);
		append_tenant_of(out, other);
		g_string_append_printf(out,
				       " with host access (%s); a pod with host access may not share a node with another tenant's pods",
				       other->access);
		break;
	case CONFLICT_SELF_HOST_ACCESS:
		g_string_append_printf(out,
				       "the pod has host access (%s) and node runs pod ",
				       self->access);
		append_pod_name(out, other->pod);
		g_string_append_printf(out,
				       " of tenant \"%s\"; a pod with host access may not share a node with another tenant's pods",
				       other->tenant);
		break;
	case CONFLICT_UNTRUSTED:
		append_untrusted(out, config, self, other);
		break;
	case CONFLICT_NONE:
		break;
	}
}

/* Appends the first conflict and how many more pods conflict. */
static void check_tenants(const score_isolation_config *config,
			  const score_request *request, const pod_view *self,
			  const score_node *node, const score_usage *usage,
			  GString *reason, size_t start)
{
	size_t conflicts = 0;

	for (guint i = 0; i < node->pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(node->pods, i);
		tenant_conflict conflict;
		pod_view other;

		if (!is_neighbour(usage, self->pod, pod))
			continue;
		view_pod(config, request->model, pod, &other);
		conflict = find_tenant_conflict(config, self, &other);
		if (conflict == CONFLICT_NONE)
			continue;
		if (conflicts++ == 0) {
			begin_reason(reason, start);
			append_tenant_conflict(reason, config, self, &other,
					       conflict);
		}
	}
	if (conflicts > 1)
		g_string_append_printf(reason, " (and %zu more pods in conflict)",
				       conflicts - 1);
}

/* Counts the distinct tenants the pod conflicts with on the node; pods
 * without a tenant but with host access count as one more. */
static int64_t count_tenant_conflicts(const score_isolation_config *config,
				      const score_request *request,
				      const pod_view *self,
				      const score_node *node,
				      const score_usage *usage)
{
	const char *seen[MAX_DISTINCT_TENANTS];
	size_t n_seen = 0;
	bool untenanted = false;
	int64_t conflicts = 0;

	for (guint i = 0; i < node->pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(node->pods, i);
		bool known = false;
		pod_view other;

		if (!is_neighbour(usage, self->pod, pod))
			continue;
		view_pod(config, request->model, pod, &other);
		if (find_tenant_conflict(config, self, &other) == CONFLICT_NONE)
			continue;

		if (other.tenant == NULL) {
			known = untenanted;
			untenanted = true;
		} else {
			for (size_t k = 0; k < n_seen && !known; k++)
				known = seen[k] == other.tenant;
			if (!known && n_seen < MAX_DISTINCT_TENANTS)
				seen[n_seen++] = other.tenant;
		}
		if (!known)
			conflicts++;
	}
	return conflicts;
}

/* ---- Security-group separation ------------------------------------------- */

/* The groups a pod on the node must not belong to under `rule`, given the
 * incoming pod's groups. A pod in two groups of one rule opposes all of
 * them. */
static uint64_t opposing_groups(const score_separation *rule,
				uint64_t self_groups)
{
	uint64_t inside = rule->groups & self_groups;

	if (inside == 0)
		return 0;
	if ((inside & (inside - 1)) != 0)
		return rule->groups;
	return rule->groups & ~inside;
}

static uint64_t all_separated_groups(const score_isolation_config *config)
{
	uint64_t groups = 0;

	for (uint32_t r = 0; r < config->n_separations; r++)
		groups |= config->separations[r].groups;
	return groups;
}

static int lowest_bit(uint64_t bits)
{
	return bits == 0 ? -1 : __builtin_ctzll(bits);
}

/* Appends why `pod` is in an exposure group: "; shop/web-1 is reachable
 * from outside: Service shop/web type LoadBalancer port 443/TCP". */
static void append_exposure(GString *out, const score_model *model,
			    const score_security_group *group,
			    const score_pod *pod)
{
	if (!group->has_exposure)
		return;
	g_string_append(out, "; ");
	append_pod_name(out, pod);
	g_string_append(out, " is reachable from outside: ");
	score_pod_exposed(model, pod, &group->exposure, out);
}

static void append_separation(GString *out,
			      const score_isolation_config *config,
			      const score_model *model,
			      const score_separation *rule,
			      const score_pod *self, uint64_t self_groups,
			      const score_pod *other, uint64_t other_groups)
{
	int other_group = lowest_bit(other_groups);
	uint64_t self_candidates = rule->groups & self_groups &
				   ~(UINT64_C(1) << other_group);
	int self_group = lowest_bit(self_candidates);

	/* A pod in two groups of the rule meets itself: name the same one. */
	if (self_group < 0)
		self_group = other_group;
	g_string_append_printf(out,
			       "security group separation (%s, %s): the pod is in group \"%s\" and node runs pod ",
			       rule->rule, rule->hard ? "hard" : "soft",
			       config->groups[self_group].name);
	append_pod_name(out, other);
	g_string_append_printf(out, " of group \"%s\"",
			       config->groups[other_group].name);
	append_exposure(out, model, &config->groups[self_group], self);
	append_exposure(out, model, &config->groups[other_group], other);
}

static void check_separation(const score_isolation_config *config,
			     const score_request *request,
			     const score_pod *self, const score_node *node,
			     const score_usage *usage, GString *reason,
			     size_t start)
{
	uint64_t self_groups = pod_groups(config, request->model, self,
					  all_separated_groups(config));
	uint64_t needed = 0;

	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (config->separations[r].hard)
			needed |= opposing_groups(&config->separations[r],
						  self_groups);
	}
	if (needed == 0)
		return;

	/* One reason per violated rule, naming the first pod found. */
	for (uint32_t r = 0; r < config->n_separations; r++) {
		const score_separation *rule = &config->separations[r];
		uint64_t opposing = opposing_groups(rule, self_groups);

		if (!rule->hard || opposing == 0)
			continue;
		for (guint i = 0; i < node->pods->len; i++) {
			const score_pod *pod = g_ptr_array_index(node->pods, i);
			uint64_t groups;

			if (!is_neighbour(usage, self, pod))
				continue;
			groups = pod_groups(config, request->model, pod, opposing);
			if (groups == 0)
				continue;
			begin_reason(reason, start);
			append_separation(reason, config, request->model, rule,
					  self, self_groups, pod, groups);
			break;
		}
	}
}

static int64_t count_soft_separations(const score_isolation_config *config,
				      const score_request *request,
				      uint64_t self_groups,
				      const score_node *node,
				      const score_usage *usage)
{
	int64_t violated = 0;

	for (uint32_t r = 0; r < config->n_separations; r++) {
		const score_separation *rule = &config->separations[r];
		uint64_t opposing = opposing_groups(rule, self_groups);

		if (rule->hard || opposing == 0)
			continue;
		for (guint i = 0; i < node->pods->len; i++) {
			const score_pod *pod = g_ptr_array_index(node->pods, i);

			if (!is_neighbour(usage, request->pod, pod))
				continue;
			if (pod_groups(config, request->model, pod, opposing) != 0) {
				violated++;
				break;
			}
		}
	}
	return violated;
}

/* ---- Host ports ---------------------------------------------------------- */

/* HostPortInfo.CheckConflict: the same protocol and port, and either
 * address is 0.0.0.0 or both are equal. */
static bool ports_conflict(const score_host_port *a, const score_host_port *b)
{
	if (a->port != b->port || a->protocol != b->protocol)
		return false;
	return a->host_ip == NULL || b->host_ip == NULL || a->host_ip == b->host_ip;
}

static const score_pod *port_holder(const score_node *node,
				    const score_usage *usage,
				    const score_pod *self,
				    const score_host_port *requested)
{
	for (guint i = 0; i < node->pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(node->pods, i);

		if (pod->n_host_ports == 0 || !is_neighbour(usage, self, pod))
			continue;
		for (uint32_t p = 0; p < pod->n_host_ports; p++) {
			if (ports_conflict(requested, &pod->host_ports[p]))
				return pod;
		}
	}
	return NULL;
}

score_fit score_filter_host_ports(const void *config,
				  const score_request *request,
				  const score_node *node,
				  const score_usage *usage, GString *reason)
{
	const score_pod *self = request->pod;
	size_t start = reason->len;

	(void)config;
	if (self->n_host_ports == 0 || node->pods == NULL)
		return SCORE_FIT;

	for (uint32_t p = 0; p < self->n_host_ports; p++) {
		const score_host_port *requested = &self->host_ports[p];
		const score_pod *holder = port_holder(node, usage, self, requested);

		if (holder == NULL)
			continue;
		begin_reason(reason, start);
		g_string_append(reason, "host port ");
		if (requested->host_ip != NULL)
			g_string_append_printf(reason, "%s:", requested->host_ip);
		g_string_append_printf(reason, "%d/%s is already used by pod ",
				       (int)requested->port,
				       score_protocol_name(requested->protocol));
		append_pod_name(reason, holder);
	}
	return reason->len > start ? SCORE_REJECT_RESOLVABLE : SCORE_FIT;
}

/* ---- Filter and scorer --------------------------------------------------- */

score_fit score_filter_isolation(const void *config,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason)
{
	const score_isolation_config *isolation = config;
	size_t start = reason->len;
	pod_view self;

	view_pod(isolation, request->model, request->pod, &self);
	if (isolation->tenants_enabled)
		check_pools(isolation, &self, node, reason, start);

	/* The remaining rules compare with the pods already on the node. */
	if (node->pods != NULL && isolation->tenants_enabled &&
	    isolation->tenancy == SCORE_TENANCY_STRICT && !self.infrastructure)
		check_tenants(isolation, request, &self, node, usage, reason,
			      start);
	if (node->pods != NULL && isolation->n_separations > 0)
		check_separation(isolation, request, request->pod, node, usage,
				 reason, start);

	return reason->len > start ? SCORE_REJECT_UNRESOLVABLE : SCORE_FIT;
}

int64_t score_isolation(const void *config, const score_request *request,
			const score_node *node, const score_usage *usage)
{
	const score_isolation_config *isolation = config;
	uint64_t self_groups = 0;
	bool soft_tenancy;
	bool soft_separation = false;
	int64_t conflicts = 0;
	pod_view self;

	view_pod(isolation, request->model, request->pod, &self);
	soft_tenancy = isolation->tenants_enabled &&
		       isolation->tenancy == SCORE_TENANCY_PREFERRED &&
		       !self.infrastructure &&
		       (self.tenant != NULL || self.access[0] != '\0');

	if (isolation->n_separations > 0)
		self_groups = pod_groups(isolation, request->model,
					 request->pod,
					 all_separated_groups(isolation));
	for (uint32_t r = 0; r < isolation->n_separations; r++) {
		if (!isolation->separations[r].hard &&
		    opposing_groups(&isolation->separations[r], self_groups) != 0)
			soft_separation = true;
	}
	if (!soft_tenancy && !soft_separation)
		return SCORE_SKIP;
	if (node->pods == NULL)
		return SCORE_MAX_NODE_SCORE;

	if (soft_tenancy)
		conflicts += count_tenant_conflicts(isolation, request, &self,
						    node, usage);
	if (soft_separation)
		conflicts += count_soft_separations(isolation, request,
						    self_groups, node, usage);
	return SCORE_MAX_NODE_SCORE / (1 + conflicts);
}

static bool has_hard_rule(const score_isolation_config *config)
{
	if (config->tenants_enabled &&
	    (config->tenancy == SCORE_TENANCY_STRICT || config->n_pools > 0))
		return true;
	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (config->separations[r].hard)
			return true;
	}
	return false;
}

static bool has_soft_rule(const score_isolation_config *config)
{
	if (config->tenants_enabled &&
	    config->tenancy == SCORE_TENANCY_PREFERRED)
		return true;
	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (!config->separations[r].hard)
			return true;
	}
	return false;
}

int score_pipeline_add_isolation(score_pipeline *pipeline,
				 const score_isolation_config *config,
				 int64_t weight, score_error *err)
{
	const score_filter ports = {"NodePorts", score_filter_host_ports, config};
	const score_filter isolation = {"Isolation", score_filter_isolation,
					config};
	int rc;

	rc = score_pipeline_add_filter(pipeline, &ports, err);
	if (rc < 0)
		return rc;
	if (has_hard_rule(config)) {
		rc = score_pipeline_add_filter(pipeline, &isolation, err);
		if (rc < 0)
			return rc;
	}
	if (weight > 0 && has_soft_rule(config)) {
		const score_scorer scorer = {"Isolation", score_isolation, NULL,
					     config, weight};

		rc = score_pipeline_add_scorer(pipeline, &scorer, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
