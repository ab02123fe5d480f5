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

static score_isolation_cache *cache_new(void);
static void cache_free(score_isolation_cache *cache);

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
	config->cache = cache_new();
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
	cache_free(config->cache);
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

/* Appends a reason per violated separation rule: the hard rules when
 * `hard` is set, else the soft ones. */
static void check_separation(const score_isolation_config *config,
			     const score_request *request,
			     const score_pod *self, const score_node *node,
			     const score_usage *usage, bool hard,
			     GString *reason, size_t start)
{
	uint64_t self_groups = pod_groups(config, request->model, self,
					  all_separated_groups(config));
	uint64_t needed = 0;

	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (config->separations[r].hard == hard)
			needed |= opposing_groups(&config->separations[r],
						  self_groups);
	}
	if (needed == 0)
		return;

	/* One reason per violated rule, naming the first pod found. */
	for (uint32_t r = 0; r < config->n_separations; r++) {
		const score_separation *rule = &config->separations[r];
		uint64_t opposing = opposing_groups(rule, self_groups);

		if (rule->hard != hard || opposing == 0)
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

/* ---- Per-request state --------------------------------------------------- */

/* Bits of tenant_summary.kinds: which kinds of pods a tenant has on a
 * node. A tenant's conflict with the incoming pod depends only on these,
 * on trust, and on the incoming pod. */
enum {
	KIND_HOST_ACCESS = 1, /* a pod with host access */
	KIND_SANDBOXED = 2,   /* a sandboxed pod without host access */
	KIND_UNSANDBOXED = 4, /* an unsandboxed pod without host access */
	N_KIND_SETS = 8,
};

/* What the filter and scorer derive from the incoming pod, once per
 * request. */
typedef struct isolation_request {
	const score_isolation_config *config;
	pod_view self;
	uint64_t separated_groups; /* groups named by any separation rule */
	uint64_t self_groups;      /* the pod's groups among those */
	uint64_t hard_opposing;    /* groups a hard rule keeps off the pod's node */
	bool soft_tenancy;
	bool soft_separation;

	bool use_digests;
	/* Tenant rules apply to the pod: tenancy is on, the pod is not in an
	 * infrastructure namespace, and it has a tenant or host access. */
	bool tenant_rules;
	/* Bit k set: another tenant whose kinds equal k conflicts with the
	 * pod unless the two tenants trust each other both ways. */
	uint8_t untrusted_kinds;
	/* Bit k set: the same for a tenant that trusts the pod's both ways. */
	uint8_t trusted_kinds;
	/* Tenants that the pod's tenant trusts and that trust it back, the
	 * pod's own tenant excepted, sorted by pointer. Borrowed from the
	 * config. */
	GPtrArray *mutual;
	/* Interned, borrowed from the model: the node the pod itself counts
	 * on, where the digest would count it as its own neighbour. */
	const char *self_node;
	/* A reference to the cache's snapshot when it describes this
	 * request's model, else NULL. */
	struct digest_snapshot *snapshot;
} isolation_request;

static uint64_t hard_opposing_groups(const score_isolation_config *config,
				     uint64_t self_groups)
{
	uint64_t opposing = 0;

	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (config->separations[r].hard)
			opposing |= opposing_groups(&config->separations[r],
						    self_groups);
	}
	return opposing;
}

static bool has_soft_separation(const score_isolation_config *config,
				uint64_t self_groups)
{
	for (uint32_t r = 0; r < config->n_separations; r++) {
		if (!config->separations[r].hard &&
		    opposing_groups(&config->separations[r], self_groups) != 0)
			return true;
	}
	return false;
}

static gint compare_pointers(gconstpointer a, gconstpointer b)
{
	uintptr_t left = (uintptr_t)*(const void *const *)a;
	uintptr_t right = (uintptr_t)*(const void *const *)b;

	return left < right ? -1 : left > right;
}

static GPtrArray *mutual_trust(const score_isolation_config *config,
			       const char *tenant)
{
	GPtrArray *mutual = g_ptr_array_new();
	GHashTable *trusted;
	GHashTableIter iter;
	gpointer other;

	trusted = tenant != NULL ? g_hash_table_lookup(config->trust, tenant)
				 : NULL;
	if (trusted == NULL)
		return mutual;
	g_hash_table_iter_init(&iter, trusted);
	while (g_hash_table_iter_next(&iter, &other, NULL)) {
		if (other != tenant &&
		    score_isolation_trusts(config, other, tenant))
			g_ptr_array_add(mutual, other);
	}
	g_ptr_array_sort(mutual, compare_pointers);
	return mutual;
}

/* The kind sets that conflict with the pod, following
 * find_tenant_conflict() for a neighbour of another tenant: host access on
 * either side wins over trust, and sandboxes matter only between
 * untrusting tenants. */
static void conflicting_kinds(isolation_request *req)
{
	const score_isolation_config *config = req->config;
	bool tenant = req->self.tenant != NULL;
	bool access = req->self.access[0] != '\0';
	bool sandboxed = req->self.sandboxed;
	bool allow = config->allow_sharing_with_unsandboxed;

	req->untrusted_kinds = 0;
	req->trusted_kinds = 0;
	for (unsigned k = 1; k < N_KIND_SETS; k++) {
		bool host = (k & KIND_HOST_ACCESS) && (tenant || access);
		bool plain = (k & (KIND_SANDBOXED | KIND_UNSANDBOXED)) && access;
		bool untrusted = host || plain ||
				 ((k & KIND_SANDBOXED) && tenant &&
				  !(sandboxed || allow)) ||
				 ((k & KIND_UNSANDBOXED) && tenant &&
				  !(sandboxed && allow));

		if (untrusted)
			req->untrusted_kinds |= (uint8_t)(1u << k);
		if (host || plain)
			req->trusted_kinds |= (uint8_t)(1u << k);
	}
}

/* Only tenant and separation rules read the digests. */
static bool reads_digests(const score_isolation_config *config)
{
	return (config->tenants_enabled &&
		config->tenancy != SCORE_TENANCY_NONE) ||
	       config->n_separations > 0;
}

static void refresh_digests(const score_isolation_config *config,
			    const score_model *model);
static struct digest_snapshot *acquire_snapshot(
	const score_isolation_config *config, const score_model *model);
static void snapshot_release(struct digest_snapshot *snapshot);

static void request_init(isolation_request *req,
			 const score_isolation_config *config,
			 const score_request *request, bool use_digests)
{
	const score_model *model = request->model;
	const score_pod *pod = request->pod;

	memset(req, 0, sizeof(*req));
	req->config = config;
	view_pod(config, model, pod, &req->self);
	req->separated_groups = all_separated_groups(config);
	if (config->n_separations > 0)
		req->self_groups = pod_groups(config, model, pod,
					      req->separated_groups);
	req->hard_opposing = hard_opposing_groups(config, req->self_groups);
	req->soft_separation = has_soft_separation(config, req->self_groups);
	req->tenant_rules = config->tenants_enabled &&
			    config->tenancy != SCORE_TENANCY_NONE &&
			    !req->self.infrastructure &&
			    (req->self.tenant != NULL ||
			     req->self.access[0] != '\0');
	req->soft_tenancy = req->tenant_rules &&
			    config->tenancy == SCORE_TENANCY_PREFERRED;

	req->use_digests = use_digests && config->cache != NULL &&
			   model != NULL && reads_digests(config);
	if (!req->use_digests)
		return;
	conflicting_kinds(req);
	req->mutual = mutual_trust(config, req->self.tenant);
	if (pod->uid != NULL) {
		const score_pod *known = score_model_pod(model, pod->uid);

		if (known != NULL && score_pod_counts(known))
			req->self_node = known->node_name;
	}
	refresh_digests(config, model);
	req->snapshot = acquire_snapshot(config, model);
}

static void request_release(isolation_request *req)
{
	if (req->mutual != NULL)
		g_ptr_array_unref(req->mutual);
	req->mutual = NULL;
	if (req->snapshot != NULL)
		snapshot_release(req->snapshot);
	req->snapshot = NULL;
}

/* ---- Per-node digests ---------------------------------------------------- */

typedef struct tenant_summary {
	/* Interned, without a reference: while the digest is valid, pods
	 * or namespace labels on the node hold the string, and a digest is
	 * read only once its stamps prove it valid. */
	const char *tenant;
	uint8_t kinds;      /* KIND_* bits */
} tenant_summary;

/* What the rules need from the pods counted on one node. Infrastructure
 * pods are left out of the tenant fields, as the rules exempt them, but
 * count for groups. */
typedef struct node_digest {
	const char *node_name; /* interned; the digest holds a reference */
	/* The node's stamps and index when the digest was built. */
	uint64_t pods_version;
	uint64_t context_version;
	uint32_t node_index;
	/* Bit tenant_bit(t) set for every tenant t in `tenants`: a clear bit
	 * proves a tenant absent without searching the array. */
	uint64_t tenant_bits;
	uint64_t groups; /* separated groups with a member on the node */
	uint32_t kind_sets[N_KIND_SETS]; /* number of tenants per kinds value */
	uint32_t untenanted_host_access; /* pods with host access, no tenant */
	uint32_t n_tenants;
	/* Sorted by tenant pointer; in the digest's own allocation, so that
	 * reading a digest touches one block of memory. */
	tenant_summary tenants[];
} node_digest;

/* Digests by score_node.index, so that finding a candidate's reads one
 * pointer from a compact array rather than probing a hash table spread
 * over memory. Immutable once published in the cache, so requests read
 * it without the cache lock; each holds a reference (g_atomic_rc_box)
 * from request_init() to request_release(). */
typedef struct digest_snapshot {
	/* A reference to each digest, or NULL where no node has one. An
	 * entry may belong to a node that had the index before, so compare
	 * names. */
	node_digest **digests;
	uint32_t n_indexes; /* the length of `digests` */
	uint32_t count;     /* entries not NULL */
	/* Compared, never dereferenced. */
	const score_model *built_for;
} digest_snapshot;

/* Nodes change one by one (a pod bound, a namespace relabelled), so the
 * cache keeps the snapshot and, beside it, the digests rebuilt since it
 * was published. Once those are many, the next request folds them into a
 * new snapshot, so lookups stay lock-free under steady churn. A digest
 * is reference counted because a fold shares it between tables. */
struct score_isolation_cache {
	GMutex lock;
	/* The cache holds a reference. Swapped under `lock`. NULL before
	 * the first build. */
	digest_snapshot *snapshot;
	/* Digests rebuilt since the snapshot, for nodes whose stamps moved;
	 * from digest_table_new(). Read and written only under `lock`. */
	GHashTable *digests;
	/* A request is building or folding a snapshot outside the lock. */
	bool building;
	uint64_t full_builds;
	uint64_t folds;
};

/* Returns how many rebuilt digests a request lets pile up before it folds
 * them in: enough that a fold, which copies every entry of the snapshot,
 * costs little per rebuilt digest. */
static guint fold_threshold(const digest_snapshot *snapshot)
{
	return 4 + snapshot->count / 8;
}

static void digest_clear(gpointer data)
{
	node_digest *digest = data;

	score_unintern(digest->node_name);
}

static void digest_release(gpointer data)
{
	g_atomic_rc_box_release_full(data, digest_clear);
}

static guint digest_hash(gconstpointer data)
{
	return g_direct_hash(((const node_digest *)data)->node_name);
}

static gboolean digest_equal(gconstpointer a, gconstpointer b)
{
	return ((const node_digest *)a)->node_name ==
	       ((const node_digest *)b)->node_name;
}

/* Returns a set of digests keyed by node name, holding a reference to
 * each. A set because the key is the digest itself. */
static GHashTable *digest_table_new(void)
{
	return g_hash_table_new_full(digest_hash, digest_equal, digest_release,
				     NULL);
}

static const node_digest *digest_lookup(GHashTable *digests,
					const char *node_name)
{
	node_digest probe = {.node_name = node_name};

	return g_hash_table_lookup(digests, &probe);
}

static void snapshot_clear(gpointer data)
{
	digest_snapshot *snapshot = data;

	for (uint32_t i = 0; i < snapshot->n_indexes; i++) {
		if (snapshot->digests[i] != NULL)
			digest_release(snapshot->digests[i]);
	}
	g_free(snapshot->digests);
}

static void snapshot_release(digest_snapshot *snapshot)
{
	g_atomic_rc_box_release_full(snapshot, snapshot_clear);
}

/* Returns an empty snapshot with room for every node of `model`. */
static digest_snapshot *snapshot_new(const score_model *model)
{
	digest_snapshot *snapshot = g_atomic_rc_box_new0(digest_snapshot);

	snapshot->n_indexes = score_model_node_index_limit(model);
	snapshot->digests = g_new0(node_digest *, snapshot->n_indexes);
	snapshot->built_for = model;
	return snapshot;
}

/* Stores `digest`, taking over its reference, at `node`'s index, which
 * must be free. */
static void snapshot_put(digest_snapshot *snapshot, const score_node *node,
			 node_digest *digest)
{
	snapshot->digests[node->index] = digest;
	snapshot->count++;
}

static const node_digest *snapshot_lookup(const digest_snapshot *snapshot,
					  const score_node *node)
{
	const node_digest *digest;

	if (node->index >= snapshot->n_indexes)
		return NULL;
	digest = snapshot->digests[node->index];
	return digest != NULL && digest->node_name == node->name ? digest : NULL;
}

static score_isolation_cache *cache_new(void)
{
	score_isolation_cache *cache = g_new0(score_isolation_cache, 1);

	g_mutex_init(&cache->lock);
	cache->digests = digest_table_new();
	return cache;
}

static void cache_free(score_isolation_cache *cache)
{
	if (cache == NULL)
		return;
	if (cache->snapshot != NULL)
		snapshot_release(cache->snapshot);
	g_hash_table_destroy(cache->digests);
	g_mutex_clear(&cache->lock);
	g_free(cache);
}

/* The bit of `tenant` in node_digest.tenant_bits: the top 6 bits of the
 * interned pointer times 2^64 / golden ratio (Fibonacci hashing), which
 * spreads aligned pointers over the 64 bits. */
static uint64_t tenant_bit(const char *tenant)
{
	uint64_t hash = (uint64_t)(uintptr_t)tenant * UINT64_C(0x9e3779b97f4a7c15);

	return UINT64_C(1) << (hash >> 58);
}

/* Takes a reference to an interned string without the intern table's
 * lookup: the caller's copy keeps it alive meanwhile. */
static const char *acquire_interned(const char *s)
{
	return g_ref_string_acquire((char *)(uintptr_t)s);
}

typedef struct pod_kind {
	const char *tenant;
	uint8_t kind;
} pod_kind;

/* Sorts by tenant pointer. A node has a few dozen pods, where insertion
 * sort beats qsort's calls through a comparison function. */
static void sort_pod_kinds(pod_kind *kinds, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		pod_kind item = kinds[i];
		size_t j = i;

		for (; j > 0 && (uintptr_t)kinds[j - 1].tenant > (uintptr_t)item.tenant; j--)
			kinds[j] = kinds[j - 1];
		kinds[j] = item;
	}
}

/* Returns a digest with the fields of `head` and one summary per tenant
 * of the per-pod `kinds`, which it sorts and merges in place. */
static node_digest *summarize_tenants(const node_digest *head,
				      pod_kind *kinds, size_t n)
{
	node_digest *digest;
	size_t distinct = 0;

	sort_pod_kinds(kinds, n);
	for (size_t i = 0; i < n; i++) {
		if (distinct > 0 && kinds[distinct - 1].tenant == kinds[i].tenant)
			kinds[distinct - 1].kind |= kinds[i].kind;
		else
			kinds[distinct++] = kinds[i];
	}

	digest = g_atomic_rc_box_alloc(sizeof(*digest) +
				       distinct * sizeof(digest->tenants[0]));
	*digest = *head;
	digest->n_tenants = (uint32_t)distinct;
	for (size_t i = 0; i < distinct; i++) {
		digest->tenants[i] = (tenant_summary){
			kinds[i].tenant, kinds[i].kind};
		digest->tenant_bits |= tenant_bit(kinds[i].tenant);
		digest->kind_sets[kinds[i].kind]++;
	}
	return digest;
}

/* Returns a new digest of `node`, with one reference. `separated` are
 * the groups named by a separation rule. */
static node_digest *digest_new(const score_isolation_config *config,
			       uint64_t separated, const score_model *model,
			       const score_node *node)
{
	bool tenancy = config->tenants_enabled &&
		       config->tenancy != SCORE_TENANCY_NONE;
	node_digest head = {0};
	node_digest *digest;
	/* Nodes admit 110 pods by default: most fit on the stack. */
	pod_kind local[128];
	pod_kind *kinds = node->pods->len <= G_N_ELEMENTS(local)
				  ? local
				  : g_new(pod_kind, node->pods->len);
	size_t n = 0;

	head.node_name = acquire_interned(node->name);
	head.pods_version = node->pods_version;
	head.context_version = node->context_version;
	head.node_index = node->index;

	/* Each pod is a cache miss of its own; asking for all of them first
	 * lets the memory system fetch them in parallel. */
	for (guint i = 0; i < node->pods->len; i++)
		__builtin_prefetch(g_ptr_array_index(node->pods, i));
	for (guint i = 0; i < node->pods->len; i++) {
		const score_pod *pod = g_ptr_array_index(node->pods, i);
		uint64_t unseen = separated & ~head.groups;
		const char *tenant;
		uint8_t kind;

		if (unseen != 0)
			head.groups |= pod_groups(config, model, pod, unseen);
		if (!tenancy || listed(config->infrastructure_namespaces,
				       pod->namespace))
			continue;

		tenant = score_isolation_pod_tenant(config, model, pod);
		if (has_host_access(pod))
			kind = KIND_HOST_ACCESS;
		else if (config->sandbox_enabled &&
			 listed(config->sandbox_runtime_classes,
				pod->runtime_class_name))
			kind = KIND_SANDBOXED;
		else
			kind = KIND_UNSANDBOXED;
		if (tenant == NULL) {
			if (kind == KIND_HOST_ACCESS)
				head.untenanted_host_access++;
			continue;
		}
		kinds[n++] = (pod_kind){tenant, kind};
	}
	digest = summarize_tenants(&head, kinds, n);
	if (kinds != local)
		g_free(kinds);
	return digest;
}

static bool digest_valid(const node_digest *digest, const score_node *node)
{
	return digest->pods_version == node->pods_version &&
	       digest->context_version == node->context_version;
}

/* Returns true when `node` exists and the model maintains its pods, the
 * nodes that get a digest. */
static bool node_has_digest(const score_node *node)
{
	return node != NULL && node->pods != NULL && node->pods_version != 0;
}

typedef struct build_all {
	const score_isolation_config *config;
	uint64_t separated;
	const score_model *model;
	digest_snapshot *snapshot;
} build_all;

static void build_node_digest(score_node *node, void *data)
{
	build_all *all = data;

	if (node_has_digest(node))
		snapshot_put(all->snapshot, node,
			     digest_new(all->config, all->separated, all->model,
					node));
}

/* Returns a snapshot of every present node's digest. It walks every
 * counted pod once: about 11 ms for the 150,000 pods of
 * bench/bench_policy.c on a two-core development machine. */
static digest_snapshot *build_snapshot(const score_isolation_config *config,
				       const score_model *model)
{
	build_all all = {config, all_separated_groups(config), model,
			 snapshot_new(model)};

	score_model_foreach_node(model, build_node_digest, &all);
	return all.snapshot;
}

/* Returns a snapshot of `base`'s digests with the rebuilt ones in
 * `recent` in place of theirs. It copies references, not digests, and
 * reads nothing from the model: an entry whose node went away stays until
 * its index is reused, and lookups compare names and stamps anyway. */
static digest_snapshot *fold_snapshot(const digest_snapshot *base,
				      GPtrArray *recent,
				      const score_model *model)
{
	digest_snapshot *snapshot = g_atomic_rc_box_new0(digest_snapshot);

	snapshot->n_indexes = base->n_indexes;
	for (guint i = 0; i < recent->len; i++) {
		const node_digest *digest = g_ptr_array_index(recent, i);

		snapshot->n_indexes = MAX(snapshot->n_indexes, digest->node_index + 1);
	}
	snapshot->digests = g_new0(node_digest *, snapshot->n_indexes);
	snapshot->built_for = model;
	for (uint32_t i = 0; i < base->n_indexes; i++) {
		if (base->digests[i] != NULL) {
			snapshot->digests[i] = g_atomic_rc_box_acquire(base->digests[i]);
			snapshot->count++;
		}
	}
	for (guint i = 0; i < recent->len; i++) {
		node_digest *digest = g_ptr_array_index(recent, i);
		node_digest **slot = &snapshot->digests[digest->node_index];

		if (*slot != NULL)
			digest_release(*slot);
		else
			snapshot->count++;
		*slot = g_atomic_rc_box_acquire(digest);
	}
	return snapshot;
}

static void collect_digest(gpointer digest, gpointer value, gpointer data)
{
	(void)value;
	g_ptr_array_add(data, g_atomic_rc_box_acquire(digest));
}

/* Publishes `snapshot` and drops the rebuilt digests it covers: all of
 * them after a full build, else those in `folded` that no request
 * replaced meanwhile. */
static void publish(score_isolation_cache *cache, digest_snapshot *snapshot,
		    GPtrArray *folded)
{
	digest_snapshot *old;

	g_mutex_lock(&cache->lock);
	old = cache->snapshot;
	cache->snapshot = snapshot;
	if (folded == NULL) {
		cache->full_builds++;
		g_hash_table_remove_all(cache->digests);
	} else {
		cache->folds++;
		for (guint i = 0; i < folded->len; i++) {
			gpointer digest = g_ptr_array_index(folded, i);
			gpointer stored = NULL;

			if (g_hash_table_lookup_extended(cache->digests, digest,
							 &stored, NULL) &&
			    stored == digest)
				g_hash_table_remove(cache->digests, digest);
		}
	}
	cache->building = false;
	g_mutex_unlock(&cache->lock);
	if (old != NULL)
		snapshot_release(old);
}

/* Keeps the snapshot current for `model`: a full build when the cache has
 * none for it (a new policy, another model), a fold when enough digests
 * were rebuilt since. One request does the work while the others go on
 * with the digests they have. Called without the cache lock. */
static void refresh_digests(const score_isolation_config *config,
			    const score_model *model)
{
	score_isolation_cache *cache = config->cache;
	digest_snapshot *base = NULL;
	GPtrArray *recent = NULL;
	bool full;

	g_mutex_lock(&cache->lock);
	if (cache->building) {
		g_mutex_unlock(&cache->lock);
		return;
	}
	full = cache->snapshot == NULL || cache->snapshot->built_for != model;
	if (!full && g_hash_table_size(cache->digests) <=
			     fold_threshold(cache->snapshot)) {
		g_mutex_unlock(&cache->lock);
		return;
	}
	cache->building = true;
	if (!full) {
		base = g_atomic_rc_box_acquire(cache->snapshot);
		recent = g_ptr_array_new_with_free_func(digest_release);
		g_hash_table_foreach(cache->digests, collect_digest, recent);
	}
	g_mutex_unlock(&cache->lock);

	if (full) {
		publish(cache, build_snapshot(config, model), NULL);
		return;
	}
	publish(cache, fold_snapshot(base, recent, model), recent);
	snapshot_release(base);
	g_ptr_array_unref(recent);
}

void score_isolation_warm(const score_isolation_config *config,
			  const score_model *model)
{
	score_isolation_cache *cache = config->cache;

	if (cache == NULL || model == NULL || !reads_digests(config))
		return;
	g_mutex_lock(&cache->lock);
	if (cache->building) {
		g_mutex_unlock(&cache->lock);
		return;
	}
	cache->building = true;
	g_mutex_unlock(&cache->lock);
	publish(cache, build_snapshot(config, model), NULL);
}

void score_isolation_cache_stats(const score_isolation_config *config,
				 score_isolation_stats *stats)
{
	score_isolation_cache *cache = config->cache;

	memset(stats, 0, sizeof(*stats));
	if (cache == NULL)
		return;
	g_mutex_lock(&cache->lock);
	stats->full_builds = cache->full_builds;
	stats->folds = cache->folds;
	stats->snapshot_digests = cache->snapshot != NULL ? cache->snapshot->count : 0;
	stats->rebuilt_digests = g_hash_table_size(cache->digests);
	g_mutex_unlock(&cache->lock);
}

/* Returns a reference to the cache's snapshot when it was built for
 * `model`, else NULL. */
static digest_snapshot *acquire_snapshot(const score_isolation_config *config,
					 const score_model *model)
{
	score_isolation_cache *cache = config->cache;
	digest_snapshot *snapshot = NULL;

	g_mutex_lock(&cache->lock);
	if (cache->snapshot != NULL && cache->snapshot->built_for == model)
		snapshot = g_atomic_rc_box_acquire(cache->snapshot);
	g_mutex_unlock(&cache->lock);
	return snapshot;
}

/* Drops the rebuilt digests of nodes the model no longer has, once they
 * could outnumber the present ones. Called with the cache lock held. */
static void prune_digests(score_isolation_cache *cache,
			  const score_model *model)
{
	GHashTableIter iter;
	gpointer digest;

	if (g_hash_table_size(cache->digests) <=
	    2 * score_model_node_count(model) + 64)
		return;
	g_hash_table_iter_init(&iter, cache->digests);
	while (g_hash_table_iter_next(&iter, &digest, NULL)) {
		if (score_model_node(model, ((const node_digest *)digest)->node_name) == NULL)
			g_hash_table_iter_remove(&iter);
	}
}

/* ---- Decisions from a digest --------------------------------------------- */

/* The facts a digest gives about one node for the incoming pod. */
typedef struct node_facts {
	uint32_t conflicting_tenants; /* distinct tenants */
	bool untenanted_conflict;     /* a pod without tenant, with host access */
	uint64_t groups;
} node_facts;

static bool kinds_in(uint8_t set, uint8_t kinds)
{
	return (set >> kinds) & 1u;
}

static gint compare_summary(gconstpointer key, gconstpointer item)
{
	uintptr_t tenant = (uintptr_t)key;
	uintptr_t other = (uintptr_t)((const tenant_summary *)item)->tenant;

	return tenant < other ? -1 : tenant > other;
}

static const tenant_summary *find_summary(const node_digest *digest,
					  const char *tenant)
{
	if (tenant == NULL || !(digest->tenant_bits & tenant_bit(tenant)))
		return NULL;
	return bsearch(tenant, digest->tenants, digest->n_tenants,
		       sizeof(digest->tenants[0]), compare_summary);
}

static gint compare_with_pointer(gconstpointer key, gconstpointer item)
{
	uintptr_t left = (uintptr_t)key;
	uintptr_t right = (uintptr_t)*(const void *const *)item;

	return left < right ? -1 : left > right;
}

static bool is_mutual(const isolation_request *req, const char *tenant)
{
	return bsearch(tenant, req->mutual->pdata, req->mutual->len,
		       sizeof(gpointer), compare_with_pointer) != NULL;
}

/* How much counting `summary` as untrusting overstates its conflict. */
static uint32_t trust_correction(const isolation_request *req,
				 const tenant_summary *summary)
{
	return kinds_in(req->untrusted_kinds, summary->kinds) -
	       kinds_in(req->trusted_kinds, summary->kinds);
}

/* Counts the conflicting tenants as count_tenant_conflicts() does: every
 * tenant on the node whose kinds conflict as an untrusting tenant, less
 * the pod's own tenant, corrected for the mutually trusted ones present.
 * The correction walks the shorter of the two tenant lists. */
static uint32_t digest_conflicts(const isolation_request *req,
				 const node_digest *digest)
{
	const tenant_summary *own = find_summary(digest, req->self.tenant);
	uint32_t conflicts = 0;

	for (unsigned k = 1; k < N_KIND_SETS; k++) {
		if (kinds_in(req->untrusted_kinds, (uint8_t)k))
			conflicts += digest->kind_sets[k];
	}
	if (own != NULL && kinds_in(req->untrusted_kinds, own->kinds))
		conflicts--;

	if (req->mutual->len <= digest->n_tenants) {
		for (guint i = 0; i < req->mutual->len; i++) {
			const tenant_summary *summary = find_summary(
				digest, g_ptr_array_index(req->mutual, i));

			if (summary != NULL)
				conflicts -= trust_correction(req, summary);
		}
	} else {
		for (uint32_t i = 0; i < digest->n_tenants; i++) {
			if (is_mutual(req, digest->tenants[i].tenant))
				conflicts -= trust_correction(
					req, &digest->tenants[i]);
		}
	}
	return conflicts;
}

static void read_facts(const isolation_request *req, const node_digest *digest,
		       node_facts *facts)
{
	facts->groups = digest->groups;
	facts->conflicting_tenants = 0;
	facts->untenanted_conflict = false;
	if (!req->tenant_rules)
		return;
	facts->conflicting_tenants = digest_conflicts(req, digest);
	facts->untenanted_conflict = req->self.tenant != NULL &&
				     digest->untenanted_host_access > 0;
}

/* Fills `facts` from the node's digest: from the request's full build
 * without a lock, else from the digests built one by one, building it
 * there when missing or stale. Returns false when the digest cannot
 * decide for this candidate and the caller must walk the node's pods. */
static bool node_facts_from_digest(const isolation_request *req,
				   const score_request *request,
				   const score_node *node,
				   const score_usage *usage, node_facts *facts)
{
	score_isolation_cache *cache = req->config->cache;
	const node_digest *digest;
	node_digest *fresh;

	if (!req->use_digests || usage->n_victims > 0 ||
	    !node_has_digest(node) || node->name == NULL ||
	    node->name == req->self_node)
		return false;

	if (req->snapshot != NULL) {
		digest = snapshot_lookup(req->snapshot, node);
		if (digest != NULL && digest_valid(digest, node)) {
			read_facts(req, digest, facts);
			return true;
		}
	}

	g_mutex_lock(&cache->lock);
	digest = digest_lookup(cache->digests, node->name);
	if (digest != NULL && digest_valid(digest, node)) {
		read_facts(req, digest, facts);
		g_mutex_unlock(&cache->lock);
		return true;
	}
	g_mutex_unlock(&cache->lock);

	/* Built outside the lock: it walks the node's pods. */
	fresh = digest_new(req->config, req->separated_groups, request->model,
			   node);
	g_mutex_lock(&cache->lock);
	read_facts(req, fresh, facts);
	/* Replaces, and frees, a stale digest of the node. */
	g_hash_table_add(cache->digests, fresh);
	prune_digests(cache, request->model);
	g_mutex_unlock(&cache->lock);
	return true;
}

static int64_t soft_separations_from_groups(const score_isolation_config *config,
					    uint64_t self_groups,
					    uint64_t node_groups)
{
	int64_t violated = 0;

	for (uint32_t r = 0; r < config->n_separations; r++) {
		const score_separation *rule = &config->separations[r];

		if (!rule->hard &&
		    (opposing_groups(rule, self_groups) & node_groups) != 0)
			violated++;
	}
	return violated;
}

/* ---- Filter and scorer --------------------------------------------------- */

static score_fit filter_prepared(const void *state,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason)
{
	const isolation_request *req = state;
	const score_isolation_config *config = req->config;
	size_t start = reason->len;
	bool tenants = node->pods != NULL && config->tenants_enabled &&
		       config->tenancy == SCORE_TENANCY_STRICT &&
		       !req->self.infrastructure;
	bool separation = node->pods != NULL && config->n_separations > 0;
	bool decided = false;
	node_facts facts;

	if (config->tenants_enabled)
		check_pools(config, &req->self, node, reason, start);
	if (tenants || separation)
		decided = node_facts_from_digest(req, request, node, usage,
						 &facts);

	/* The pods are walked only to write the reason, or when the digest
	 * cannot decide. */
	if (tenants && (!decided || facts.conflicting_tenants > 0 ||
			facts.untenanted_conflict))
		check_tenants(config, request, &req->self, node, usage, reason,
			      start);
	if (separation && (!decided || (req->hard_opposing & facts.groups) != 0))
		check_separation(config, request, request->pod, node, usage, true,
				 reason, start);

	return reason->len > start ? SCORE_REJECT_UNRESOLVABLE : SCORE_FIT;
}

static int64_t score_prepared(const void *state, const score_request *request,
			      const score_node *node, const score_usage *usage)
{
	const isolation_request *req = state;
	const score_isolation_config *config = req->config;
	int64_t conflicts = 0;
	bool decided;
	node_facts facts;

	if (!req->soft_tenancy && !req->soft_separation)
		return SCORE_SKIP;
	if (node->pods == NULL)
		return SCORE_MAX_NODE_SCORE;

	decided = node_facts_from_digest(req, request, node, usage, &facts);
	if (req->soft_tenancy) {
		/* Past MAX_DISTINCT_TENANTS the walk counts differently. */
		if (decided && facts.conflicting_tenants <= MAX_DISTINCT_TENANTS)
			conflicts += facts.conflicting_tenants +
				     (facts.untenanted_conflict ? 1 : 0);
		else
			conflicts += count_tenant_conflicts(config, request,
							    &req->self, node,
							    usage);
	}
	if (req->soft_separation) {
		if (decided)
			conflicts += soft_separations_from_groups(
				config, req->self_groups, facts.groups);
		else
			conflicts += count_soft_separations(
				config, request, req->self_groups, node, usage);
	}
	return SCORE_MAX_NODE_SCORE / (1 + conflicts);
}

/* Explains a score below the best with the filter's words: the first pod
 * of a conflicting tenant and how many more, and a pod of the opposing
 * group for each violated soft rule. It walks the node's pods, which is
 * fine for the few nodes a decision line shows. */
static void explain_node_prepared(const void *state,
				  const score_request *request,
				  const score_node *node,
				  const score_usage *usage, GString *out)
{
	const isolation_request *req = state;
	size_t start = out->len;

	if (node->pods == NULL)
		return;
	if (req->soft_tenancy)
		check_tenants(req->config, request, &req->self, node, usage, out,
			      start);
	if (req->soft_separation)
		check_separation(req->config, request, request->pod, node, usage,
				 false, out, start);
}

static void *prepare_isolation(const void *config,
			       const score_request *request)
{
	isolation_request *req = g_new(isolation_request, 1);

	request_init(req, config, request, true);
	return req;
}

static void release_isolation(void *state)
{
	request_release(state);
	g_free(state);
}

score_fit score_filter_isolation(const void *config,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason)
{
	isolation_request req;
	score_fit fit;

	request_init(&req, config, request, true);
	fit = filter_prepared(&req, request, node, usage, reason);
	request_release(&req);
	return fit;
}

score_fit score_filter_isolation_walk(const void *config,
				      const score_request *request,
				      const score_node *node,
				      const score_usage *usage,
				      GString *reason)
{
	isolation_request req;
	score_fit fit;

	request_init(&req, config, request, false);
	fit = filter_prepared(&req, request, node, usage, reason);
	request_release(&req);
	return fit;
}

int64_t score_isolation(const void *config, const score_request *request,
			const score_node *node, const score_usage *usage)
{
	isolation_request req;
	int64_t score;

	request_init(&req, config, request, true);
	score = score_prepared(&req, request, node, usage);
	request_release(&req);
	return score;
}

int64_t score_isolation_walk(const void *config, const score_request *request,
			     const score_node *node, const score_usage *usage)
{
	isolation_request req;
	int64_t score;

	request_init(&req, config, request, false);
	score = score_prepared(&req, request, node, usage);
	request_release(&req);
	return score;
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
	const score_filter isolation = {"Isolation", filter_prepared, config};
	/* One prepared state per request, shared by the filter and the
	 * scorer when the request has a cache. */
	const score_hooks hooks = {.prepare = prepare_isolation,
				   .release = release_isolation,
				   .explain_node = explain_node_prepared};
	int rc;

	rc = score_pipeline_add_filter(pipeline, &ports, err);
	if (rc < 0)
		return rc;
	if (has_hard_rule(config)) {
		rc = score_pipeline_add_filter_with_hooks(pipeline, &isolation,
							  &hooks, err);
		if (rc < 0)
			return rc;
	}
	if (weight > 0 && has_soft_rule(config)) {
		const score_scorer scorer = {"Isolation", score_prepared, NULL,
					     config, weight};

		rc = score_pipeline_add_scorer_with_hooks(pipeline, &scorer,
							  &hooks, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
