/* Tenant co-residency of churn runs; see tenancy.h. */
#include "sim/tenancy.h"

#include <string.h>

/* The label the API server sets on every namespace. */
#define NAMESPACE_NAME_LABEL "kubernetes.io/metadata.name"

/* One tenant's pods on one node. */
typedef struct tenant_count {
	const char *tenant; /* interned, owned */
	uint32_t pods;
} tenant_count;

/* Two tenants, `first` before `second` by strcmp(). */
typedef struct tenant_pair {
	const char *first;  /* interned, owned */
	const char *second; /* interned, owned */
	uint32_t nodes;     /* nodes where both have pods now */
	bool untrusted;
} tenant_pair;

struct sim_tenancy {
	const score_isolation_config *isolation; /* borrowed or `defaults` */
	score_isolation_config defaults;
	score_model *model; /* borrowed */
	bool synthetic;

	/* Node name (interned, owned) -> GArray of tenant_count. */
	GHashTable *nodes;
	/* Pair -> itself; a pair stays once seen, with nodes 0. */
	GHashTable *pairs;
	GHashTable *tenants; /* set of interned tenants, owned */
	uint32_t shared_nodes;
	uint32_t tenant_pairs;
	uint32_t untrusted_pairs;
	uint32_t untrusted_seen;

	const sim_source *inner; /* for sim_tenancy_source() */
};

static guint pair_hash(gconstpointer key)
{
	const tenant_pair *pair = key;

	return g_direct_hash(pair->first) * 31u + g_direct_hash(pair->second);
}

static gboolean pair_equal(gconstpointer a, gconstpointer b)
{
	const tenant_pair *left = a;
	const tenant_pair *right = b;

	return left->first == right->first && left->second == right->second;
}

static void pair_free(gpointer data)
{
	tenant_pair *pair = data;

	score_unintern(pair->first);
	score_unintern(pair->second);
	g_free(pair);
}

static void counts_free(gpointer data)
{
	GArray *counts = data;

	for (guint i = 0; i < counts->len; i++)
		score_unintern(g_array_index(counts, tenant_count, i).tenant);
	g_array_free(counts, TRUE);
}

sim_tenancy *sim_tenancy_new(const score_isolation_config *isolation,
			     score_model *model, bool synthetic)
{
	sim_tenancy *tenancy = g_new0(sim_tenancy, 1);

	score_isolation_init(&tenancy->defaults);
	tenancy->isolation = isolation != NULL ? isolation : &tenancy->defaults;
	tenancy->model = model;
	tenancy->synthetic = synthetic;
	tenancy->nodes = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					       (GDestroyNotify)score_unintern,
					       counts_free);
	tenancy->pairs = g_hash_table_new_full(pair_hash, pair_equal, pair_free, NULL);
	tenancy->tenants = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 (GDestroyNotify)score_unintern, NULL);
	return tenancy;
}

void sim_tenancy_free(sim_tenancy *tenancy)
{
	if (tenancy == NULL)
		return;
	g_hash_table_destroy(tenancy->nodes);
	g_hash_table_destroy(tenancy->pairs);
	g_hash_table_destroy(tenancy->tenants);
	score_isolation_release(&tenancy->defaults);
	g_free(tenancy);
}

/* ---- Source -------------------------------------------------------------- */

/* Gives a synthetic pod's namespace its labels once, and the pod its
 * tenant label. */
static void label_synthetic(sim_tenancy *tenancy, score_pod *pod)
{
	const char *label = tenancy->isolation->tenant_label;
	const char *ns = pod->namespace;

	if (ns == NULL || label == NULL)
		return;
	if (score_model_namespace_labels(tenancy->model, ns) == NULL) {
		score_labels labels = {0};

		score_labels_set(&labels, NAMESPACE_NAME_LABEL, ns);
		score_labels_set(&labels, label, ns);
		score_model_put_namespace(tenancy->model, ns, &labels);
		score_labels_release(&labels);
	}
	if (score_labels_get(&pod->labels, label) == NULL)
		score_labels_set(&pod->labels, label, ns);
}

static int tenancy_next(void *data, sim_arrival *out, score_error *err)
{
	sim_tenancy *tenancy = data;
	int ret = tenancy->inner->next(tenancy->inner->data, out, err);

	if (ret > 0 && tenancy->synthetic)
		label_synthetic(tenancy, out->pod);
	return ret;
}

static double tenancy_fraction(void *data)
{
	sim_tenancy *tenancy = data;

	if (tenancy->inner->fraction == NULL)
		return -1.0;
	return tenancy->inner->fraction(tenancy->inner->data);
}

void sim_tenancy_source(sim_tenancy *tenancy, const sim_source *inner,
			sim_source *out)
{
	tenancy->inner = inner;
	memset(out, 0, sizeof(*out));
	out->next = tenancy_next;
	out->fraction = inner->fraction != NULL ? tenancy_fraction : NULL;
	out->data = tenancy;
	out->name = inner->name;
}

/* ---- Tracking ------------------------------------------------------------ */

const char *sim_tenancy_pod_tenant(const sim_tenancy *tenancy,
				   const score_pod *pod)
{
	const GPtrArray *infrastructure = tenancy->isolation->infrastructure_namespaces;

	for (guint i = 0; infrastructure != NULL && i < infrastructure->len; i++) {
		if (g_ptr_array_index(infrastructure, i) == pod->namespace)
			return NULL;
	}
	return score_isolation_pod_tenant(tenancy->isolation, tenancy->model, pod);
}

static bool trusted_both_ways(const sim_tenancy *tenancy, const char *a,
			      const char *b)
{
	return score_isolation_trusts(tenancy->isolation, a, b) &&
	       score_isolation_trusts(tenancy->isolation, b, a);
}

/* Returns the pair of two different tenants, adding it when new. */
static tenant_pair *pair_of(sim_tenancy *tenancy, const char *a, const char *b)
{
	tenant_pair key;
	tenant_pair *pair;

	if (strcmp(a, b) > 0) {
		const char *swap = a;

		a = b;
		b = swap;
	}
	key.first = a;
	key.second = b;
	pair = g_hash_table_lookup(tenancy->pairs, &key);
	if (pair != NULL)
		return pair;
	pair = g_new0(tenant_pair, 1);
	pair->first = score_intern(a);
	pair->second = score_intern(b);
	pair->untrusted = !trusted_both_ways(tenancy, a, b);
	g_hash_table_add(tenancy->pairs, pair);
	if (pair->untrusted)
		tenancy->untrusted_seen++;
	return pair;
}

/* A pair gains or loses a node where both tenants have pods. */
static void pair_change(sim_tenancy *tenancy, tenant_pair *pair, int delta)
{
	uint32_t before = pair->nodes;

	pair->nodes = (uint32_t)((int64_t)pair->nodes + delta);
	if ((before == 0) == (pair->nodes == 0))
		return;
	if (pair->nodes > 0) {
		tenancy->tenant_pairs++;
		tenancy->untrusted_pairs += pair->untrusted;
	} else {
		tenancy->tenant_pairs--;
		tenancy->untrusted_pairs -= pair->untrusted;
	}
}

static GArray *node_counts(sim_tenancy *tenancy, const score_node *node)
{
	GArray *counts = g_hash_table_lookup(tenancy->nodes, node->name);

	if (counts == NULL) {
		counts = g_array_new(FALSE, FALSE, sizeof(tenant_count));
		g_hash_table_insert(tenancy->nodes, (gpointer)score_intern(node->name),
				    counts);
	}
	return counts;
}

uint32_t sim_tenancy_bind(sim_tenancy *tenancy, const score_pod *pod,
			  const score_node *node)
{
	const char *tenant = sim_tenancy_pod_tenant(tenancy, pod);
	tenant_count *own = NULL;
	tenant_count added;
	uint32_t untrusted = 0;
	GArray *counts;

	if (tenant == NULL)
		return 0;
	if (!g_hash_table_contains(tenancy->tenants, tenant))
		g_hash_table_add(tenancy->tenants, (gpointer)score_intern(tenant));
	counts = node_counts(tenancy, node);
	for (guint i = 0; i < counts->len; i++) {
		tenant_count *count = &g_array_index(counts, tenant_count, i);

		if (count->tenant == tenant)
			own = count;
		else
			untrusted += pair_of(tenancy, tenant, count->tenant)->untrusted;
	}
	if (own != NULL) {
		own->pods++;
		return untrusted;
	}

	/* A new tenant on this node forms a pair with each one there. */
	for (guint i = 0; i < counts->len; i++)
		pair_change(tenancy,
			    pair_of(tenancy, tenant, g_array_index(counts, tenant_count, i).tenant),
			    1);
	if (counts->len == 1)
		tenancy->shared_nodes++;
	added.tenant = score_intern(tenant);
	added.pods = 1;
	g_array_append_val(counts, added);
	return untrusted;
}

void sim_tenancy_unbind(sim_tenancy *tenancy, const score_pod *pod,
			const score_node *node)
{
	const char *tenant = sim_tenancy_pod_tenant(tenancy, pod);
	GArray *counts;
	guint index = G_MAXUINT;

	if (tenant == NULL)
		return;
	counts = g_hash_table_lookup(tenancy->nodes, node->name);
	for (guint i = 0; counts != NULL && i < counts->len; i++) {
		if (g_array_index(counts, tenant_count, i).tenant == tenant)
			index = i;
	}
	g_return_if_fail(index != G_MAXUINT);
	if (--g_array_index(counts, tenant_count, index).pods > 0)
		return;

	/* The tenant's last pod left the node. */
	score_unintern(g_array_index(counts, tenant_count, index).tenant);
	g_array_remove_index_fast(counts, index);
	for (guint i = 0; i < counts->len; i++)
		pair_change(tenancy,
			    pair_of(tenancy, tenant, g_array_index(counts, tenant_count, i).tenant),
			    -1);
	if (counts->len == 1)
		tenancy->shared_nodes--;
	if (counts->len == 0)
		g_hash_table_remove(tenancy->nodes, node->name);
}

void sim_tenancy_counts_now(const sim_tenancy *tenancy, sim_tenancy_counts *out)
{
	out->shared_nodes = tenancy->shared_nodes;
	out->tenant_pairs = tenancy->tenant_pairs;
	out->untrusted_pairs = tenancy->untrusted_pairs;
}

uint32_t sim_tenancy_pairs_seen(const sim_tenancy *tenancy)
{
	return g_hash_table_size(tenancy->pairs);
}

uint32_t sim_tenancy_untrusted_pairs_seen(const sim_tenancy *tenancy)
{
	return tenancy->untrusted_seen;
}

uint32_t sim_tenancy_tenants_seen(const sim_tenancy *tenancy)
{
	return g_hash_table_size(tenancy->tenants);
}
