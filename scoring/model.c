/* Pods, nodes and the model that counts pods on nodes; see model.h. */
#include "scoring/model.h"

#include "scoring/netpol.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct score_model {
	score_resource_table *resources; /* borrowed */
	/* Node name -> score_node. Also contains absent nodes (present ==
	 * false) while pods still name them, so a pod seen before its node
	 * counts as soon as the node arrives. */
	GHashTable *nodes;
	GHashTable *pods;    /* uid -> score_pod, owned */
	GHashTable *assumed; /* uid -> score_pod, borrowed from pods */
	/* Namespace name (interned, owned) -> score_labels (owned). */
	GHashTable *namespaces;
	size_t present_nodes;
	/* Controller uid (interned, owned) -> GPtrArray of the pods it
	 * controls, borrowed from `pods`. */
	GHashTable *owners;
	/* Label key (interned, owned) -> GHashTable of label value
	 * (interned, owned) -> number of present nodes with that value. */
	GHashTable *label_domains;
	/* "namespace/name" (owned) -> score_service (owned). */
	GHashTable *services;
	/* Namespace (interned, owned) -> GPtrArray of score_service,
	 * borrowed from `services`. */
	GHashTable *namespace_services;
	/* Pod indexes: pod_bucket sets keyed by namespace and by label
	 * key=value; buckets own their arrays, the pods are borrowed. */
	GHashTable *namespace_pods;
	GHashTable *label_pods;
	/* The label index split by namespace: buckets keyed by namespace
	 * and label key=value, for selectors confined to one namespace. */
	GHashTable *namespace_label_pods;
	/* Key (borrowed from the policy) -> score_network_policy, one
	 * reference each. */
	GHashTable *network_policies;
	/* Namespace (interned, owned) -> GPtrArray of the policies there,
	 * borrowed from `network_policies`. */
	GHashTable *namespace_network_policies;
	/* Policies with a namespaceSelector peer, borrowed. */
	GPtrArray *cross_namespace_policies;
	uint64_t network_policy_generation;
	uint64_t namespace_generation; /* a stamp, see next_stamp() */
	uint64_t service_generation;   /* a stamp, see next_stamp() */
	/* Node name (owned) -> why its object could not be read (owned),
	 * for nodes the model has no copy of. */
	GHashTable *node_problems;
	/* The same entries as `namespaces`, keyed by the interned name's
	 * address (borrowed from `namespaces`), so that a lookup with an
	 * interned name hashes no string. */
	GHashTable *namespaces_by_address;
	/* score_node.index: every index in use is below node_index_limit,
	 * and those below it not in use are in free_node_indexes
	 * (uint32_t). */
	uint32_t node_index_limit;
	GArray *free_node_indexes;
};

/* Process-wide source of node versions and generations. Sharing one
 * counter between all models makes every stamp unique, so a cache that
 * outlives a model, or serves several, never mistakes one model's node
 * for another's. Atomic because models in different threads draw from
 * it. */
static atomic_uint_fast64_t stamp_counter = 1;

static uint64_t next_stamp(void)
{
	return atomic_fetch_add_explicit(&stamp_counter, 1, memory_order_relaxed);
}

/* ---- Pods ---------------------------------------------------------------- */

/* Sums saturate at the int64 limits: a cluster file may hold quantities
 * near 2^63, and wrapping would turn a huge request into a negative one.
 * Totals are then inexact, but only for such absurd inputs. */
static int64_t saturating_add(int64_t a, int64_t b)
{
	int64_t sum;

	if (!__builtin_add_overflow(a, b, &sum))
		return sum;
	return b > 0 ? INT64_MAX : INT64_MIN;
}

static void resources_add(score_resources *sum, const score_resources *add)
{
	for (int i = 0; i < SCORE_RES_MAX; i++)
		sum->v[i] = saturating_add(sum->v[i], add->v[i]);
}

void score_resources_add(score_resources *sum, const score_resources *add)
{
	resources_add(sum, add);
}

static void resources_sub(score_resources *sum, const score_resources *sub)
{
	for (int i = 0; i < SCORE_RES_MAX; i++) {
		int64_t negated = sub->v[i] == INT64_MIN ? INT64_MAX : -sub->v[i];

		sum->v[i] = saturating_add(sum->v[i], negated);
	}
}

static void resources_max(score_resources *acc, const score_resources *other)
{
	for (int i = 0; i < SCORE_RES_MAX; i++) {
		if (other->v[i] > acc->v[i])
			acc->v[i] = other->v[i];
	}
}

/* A container's requests, with the scoring defaults filled in when
 * `nonzero` is set and CPU or memory is missing from the spec. A request
 * written as 0 stays 0, as in kube-scheduler. */
static void container_requests(const score_container *container, bool nonzero,
			       score_resources *out)
{
	*out = container->requests;
	if (!nonzero)
		return;
	if (!(container->present & (1u << SCORE_RES_CPU)))
		out->v[SCORE_RES_CPU] = SCORE_DEFAULT_MILLI_CPU_REQUEST;
	if (!(container->present & (1u << SCORE_RES_MEMORY)))
		out->v[SCORE_RES_MEMORY] = SCORE_DEFAULT_MEMORY_REQUEST;
}

static void pod_request(const score_container *containers, size_t n_containers,
			const score_container *init_containers, size_t n_init,
			const score_resources *overhead, bool nonzero,
			score_resources *out)
{
	score_resources sum = {0};
	score_resources init_max = {0};
	score_resources sidecars = {0};
	score_resources one;

	for (size_t i = 0; i < n_containers; i++) {
		container_requests(&containers[i], nonzero, &one);
		resources_add(&sum, &one);
	}

	/* Init containers run one at a time, each beside the sidecars
	 * started before it; sidecars keep running with the app containers. */
	for (size_t i = 0; i < n_init; i++) {
		container_requests(&init_containers[i], nonzero, &one);
		if (init_containers[i].restartable) {
			resources_add(&sidecars, &one);
			resources_max(&init_max, &sidecars);
		} else {
			resources_add(&one, &sidecars);
			resources_max(&init_max, &one);
		}
	}
	resources_add(&sum, &sidecars);
	resources_max(&sum, &init_max);

	if (overhead != NULL)
		resources_add(&sum, overhead);
	sum.v[SCORE_RES_PODS] = 1;
	*out = sum;
}

void score_pod_compute_request(const score_container *containers,
			       size_t n_containers,
			       const score_container *init_containers,
			       size_t n_init_containers,
			       const score_resources *overhead,
			       score_resources *request,
			       score_resources *nonzero)
{
	pod_request(containers, n_containers, init_containers,
		    n_init_containers, overhead, false, request);
	pod_request(containers, n_containers, init_containers,
		    n_init_containers, overhead, true, nonzero);
}

score_pod *score_pod_new(void)
{
	return g_new0(score_pod, 1);
}

void score_pod_free(score_pod *pod)
{
	if (pod == NULL)
		return;
	score_unintern(pod->uid);
	score_unintern(pod->name);
	score_unintern(pod->namespace);
	score_unintern(pod->node_name);
	score_labels_release(&pod->labels);
	for (uint32_t i = 0; i < pod->n_tolerations; i++) {
		score_unintern(pod->tolerations[i].key);
		score_unintern(pod->tolerations[i].value);
	}
	g_free(pod->tolerations);
	score_unintern(pod->runtime_class_name);
	for (uint32_t i = 0; i < pod->n_host_ports; i++)
		score_unintern(pod->host_ports[i].host_ip);
	g_free(pod->host_ports);
	score_unintern(pod->owner.kind);
	score_unintern(pod->owner.name);
	score_unintern(pod->owner.uid);
	score_unintern(pod->tenant);
	g_free(pod->index_slots);
	g_free(pod);
}

void score_pod_set_tenant(score_pod *pod, const char *tenant)
{
	const char *old = pod->tenant;

	pod->tenant = score_intern(tenant);
	score_unintern(old);
}

const char *score_protocol_name(score_protocol protocol)
{
	switch (protocol) {
	case SCORE_PROTOCOL_UDP:
		return "UDP";
	case SCORE_PROTOCOL_SCTP:
		return "SCTP";
	case SCORE_PROTOCOL_TCP:
		break;
	}
	return "TCP";
}

bool score_pod_counts(const score_pod *pod)
{
	if (pod->node_name == NULL)
		return false;
	return pod->phase != SCORE_POD_SUCCEEDED && pod->phase != SCORE_POD_FAILED;
}

/* ---- Nodes --------------------------------------------------------------- */

score_node *score_node_new(void)
{
	score_node *node = g_new0(score_node, 1);

	node->ready = true;
	return node;
}

void score_node_free(score_node *node)
{
	if (node == NULL)
		return;
	score_unintern(node->name);
	score_labels_release(&node->labels);
	for (uint32_t i = 0; i < node->n_taints; i++) {
		score_unintern(node->taints[i].key);
		score_unintern(node->taints[i].value);
	}
	g_free(node->taints);
	if (node->pods != NULL)
		g_ptr_array_unref(node->pods);
	g_free(node);
}

/* ---- Model --------------------------------------------------------------- */

static void namespace_labels_free(gpointer data)
{
	score_labels *labels = data;

	score_labels_release(labels);
	g_free(labels);
}

/* ---- Pod indexes --------------------------------------------------------- */

/* The pods of one namespace, of one label key=value, or of one label
 * key=value in one namespace. */
typedef struct pod_bucket {
	const char *scope; /* interned namespace in namespace_label_pods, else NULL */
	const char *key;   /* interned: the namespace, or the label key */
	const char *value; /* interned label value; NULL in the namespace index */
	score_pod **pods;
	uint32_t n;
	uint32_t capacity;
} pod_bucket;

/* Slot 0 of score_pod.index_slots when the pod has no namespace. */
#define NO_SLOT UINT32_MAX

static guint bucket_hash(gconstpointer data)
{
	const pod_bucket *bucket = data;
	guint hash = g_str_hash(bucket->key);

	if (bucket->value != NULL)
		hash = hash * 31 + g_str_hash(bucket->value);
	if (bucket->scope != NULL)
		hash = hash * 31 + g_str_hash(bucket->scope);
	return hash;
}

static bool same_string(const char *a, const char *b)
{
	if (a == b)
		return true;
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static gboolean bucket_equal(gconstpointer a, gconstpointer b)
{
	const pod_bucket *left = a;
	const pod_bucket *right = b;

	return same_string(left->key, right->key) &&
	       same_string(left->value, right->value) &&
	       same_string(left->scope, right->scope);
}

static void bucket_free(gpointer data)
{
	pod_bucket *bucket = data;

	score_unintern(bucket->scope);
	score_unintern(bucket->key);
	score_unintern(bucket->value);
	g_free(bucket->pods);
	g_free(bucket);
}

static GHashTable *pod_index_new(void)
{
	return g_hash_table_new_full(bucket_hash, bucket_equal, bucket_free,
				     NULL);
}

static pod_bucket *bucket_find_scoped(GHashTable *index, const char *scope,
				      const char *key, const char *value)
{
	pod_bucket probe = {.scope = scope, .key = key, .value = value};

	return g_hash_table_lookup(index, &probe);
}

static pod_bucket *bucket_find(GHashTable *index, const char *key,
			       const char *value)
{
	return bucket_find_scoped(index, NULL, key, value);
}

/* Appends `pod` to the bucket of scope/key/value and returns its
 * position. */
static uint32_t bucket_add_scoped(GHashTable *index, const char *scope,
				  const char *key, const char *value,
				  score_pod *pod)
{
	pod_bucket *bucket = bucket_find_scoped(index, scope, key, value);

	if (bucket == NULL) {
		bucket = g_new0(pod_bucket, 1);
		bucket->scope = score_intern(scope);
		bucket->key = score_intern(key);
		bucket->value = score_intern(value);
		g_hash_table_add(index, bucket);
	}
	if (bucket->n == bucket->capacity) {
		bucket->capacity = bucket->capacity < 4 ? 4 : bucket->capacity * 2;
		bucket->pods = g_renew(score_pod *, bucket->pods, bucket->capacity);
	}
	bucket->pods[bucket->n] = pod;
	return bucket->n++;
}

static uint32_t bucket_add(GHashTable *index, const char *key,
			   const char *value, score_pod *pod)
{
	return bucket_add_scoped(index, NULL, key, value, pod);
}

/* Returns the position of `key` in the sorted labels, or -1. */
static int label_position(const score_labels *labels, const char *key)
{
	uint32_t low = 0;
	uint32_t high = labels->count;

	while (low < high) {
		uint32_t middle = low + (high - low) / 2;
		int order = strcmp(labels->items[middle].key, key);

		if (order == 0)
			return (int)middle;
		if (order < 0)
			low = middle + 1;
		else
			high = middle;
	}
	return -1;
}

/* Removes the entry at `position` by moving the last entry there, and
 * updates the moved pod's slot for this bucket. */
static void bucket_remove_scoped(GHashTable *index, const char *scope,
				 const char *key, const char *value,
				 uint32_t position)
{
	pod_bucket *bucket = bucket_find_scoped(index, scope, key, value);
	score_pod *moved;

	g_return_if_fail(bucket != NULL && position < bucket->n);
	bucket->n--;
	if (position != bucket->n) {
		moved = bucket->pods[bucket->n];
		bucket->pods[position] = moved;
		if (value == NULL)
			moved->index_slots[0] = position;
		else if (scope == NULL)
			moved->index_slots[1 + label_position(&moved->labels, key)] =
				position;
		else
			moved->index_slots[1 + moved->labels.count +
					   label_position(&moved->labels, key)] =
				position;
	}
	if (bucket->n == 0)
		g_hash_table_remove(index, bucket);
	else if (bucket->n < bucket->capacity / 4 && bucket->capacity > 8) {
		bucket->capacity /= 2;
		bucket->pods = g_renew(score_pod *, bucket->pods, bucket->capacity);
	}
}

static void bucket_remove(GHashTable *index, const char *key,
			  const char *value, uint32_t position)
{
	bucket_remove_scoped(index, NULL, key, value, position);
}

/* Slots: 0 for the namespace index, 1 + i for labels.items[i] in the
 * label index, and 1 + count + i for it in the namespace-label index
 * (NO_SLOT for a pod without a namespace). */
static void pod_index_add(score_model *model, score_pod *pod)
{
	uint32_t count = pod->labels.count;

	g_free(pod->index_slots);
	pod->index_slots = g_new(uint32_t, 1 + 2 * count);
	pod->index_slots[0] = NO_SLOT;
	if (pod->namespace != NULL)
		pod->index_slots[0] = bucket_add(model->namespace_pods,
						 pod->namespace, NULL, pod);
	for (uint32_t i = 0; i < count; i++) {
		const score_label *label = &pod->labels.items[i];

		pod->index_slots[1 + i] = bucket_add(model->label_pods, label->key,
						     label->value, pod);
		pod->index_slots[1 + count + i] =
			pod->namespace == NULL
				? NO_SLOT
				: bucket_add_scoped(model->namespace_label_pods,
						    pod->namespace, label->key,
						    label->value, pod);
	}
}

static void pod_index_remove(score_model *model, score_pod *pod)
{
	if (pod->index_slots == NULL)
		return;
	if (pod->index_slots[0] != NO_SLOT)
		bucket_remove(model->namespace_pods, pod->namespace, NULL,
			      pod->index_slots[0]);
	for (uint32_t i = 0; i < pod->labels.count; i++) {
		bucket_remove(model->label_pods, pod->labels.items[i].key,
			      pod->labels.items[i].value, pod->index_slots[1 + i]);
		if (pod->namespace != NULL)
			bucket_remove_scoped(model->namespace_label_pods,
					     pod->namespace,
					     pod->labels.items[i].key,
					     pod->labels.items[i].value,
					     pod->index_slots[1 + pod->labels.count + i]);
	}
	g_free(pod->index_slots);
	pod->index_slots = NULL;
}

static bool same_labels(const score_labels *a, const score_labels *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++) {
		if (a->items[i].key != b->items[i].key ||
		    a->items[i].value != b->items[i].value)
			return false;
	}
	return true;
}

/* Moves the index entries of `old` to its replacement `pod`: in place when
 * the namespace and labels are unchanged (the usual status update), else
 * by removing and adding. */
static void pod_index_move(score_model *model, score_pod *old, score_pod *pod)
{
	if (old->index_slots == NULL || old->namespace != pod->namespace ||
	    !same_labels(&old->labels, &pod->labels)) {
		pod_index_remove(model, old);
		pod_index_add(model, pod);
		return;
	}
	g_free(pod->index_slots);
	pod->index_slots = old->index_slots;
	old->index_slots = NULL;
	if (pod->index_slots[0] != NO_SLOT)
		bucket_find(model->namespace_pods, pod->namespace, NULL)
			->pods[pod->index_slots[0]] = pod;
	for (uint32_t i = 0; i < pod->labels.count; i++) {
		bucket_find(model->label_pods, pod->labels.items[i].key,
			    pod->labels.items[i].value)
			->pods[pod->index_slots[1 + i]] = pod;
		if (pod->namespace != NULL)
			bucket_find_scoped(model->namespace_label_pods,
					   pod->namespace, pod->labels.items[i].key,
					   pod->labels.items[i].value)
				->pods[pod->index_slots[1 + pod->labels.count + i]] =
				pod;
	}
}

static score_pod *const *bucket_pods(const pod_bucket *bucket, size_t *n)
{
	*n = bucket != NULL ? bucket->n : 0;
	return bucket != NULL ? bucket->pods : NULL;
}

score_model *score_model_new(score_resource_table *resources)
{
	score_model *model = g_new0(score_model, 1);

	model->resources = resources;
	model->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     (GDestroyNotify)score_node_free);
	model->pods = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    (GDestroyNotify)score_pod_free);
	model->assumed = g_hash_table_new(g_str_hash, g_str_equal);
	model->node_problems = g_hash_table_new_full(g_str_hash, g_str_equal,
						     g_free, g_free);
	model->namespaces_by_address = g_hash_table_new(g_direct_hash,
							g_direct_equal);
	model->namespaces = g_hash_table_new_full(g_str_hash, g_str_equal,
						  (GDestroyNotify)score_unintern,
						  namespace_labels_free);
	model->owners = g_hash_table_new_full(g_str_hash, g_str_equal,
					      (GDestroyNotify)score_unintern,
					      (GDestroyNotify)g_ptr_array_unref);
	model->label_domains = g_hash_table_new_full(
		g_str_hash, g_str_equal, (GDestroyNotify)score_unintern,
		(GDestroyNotify)g_hash_table_destroy);
	model->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						(GDestroyNotify)score_service_free);
	model->namespace_services = g_hash_table_new_full(
		g_str_hash, g_str_equal, (GDestroyNotify)score_unintern,
		(GDestroyNotify)g_ptr_array_unref);
	model->namespace_pods = pod_index_new();
	model->label_pods = pod_index_new();
	model->namespace_label_pods = pod_index_new();
	model->network_policies = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL,
		(GDestroyNotify)score_network_policy_unref);
	model->namespace_network_policies = g_hash_table_new_full(
		g_str_hash, g_str_equal, (GDestroyNotify)score_unintern,
		(GDestroyNotify)g_ptr_array_unref);
	model->cross_namespace_policies = g_ptr_array_new();
	model->free_node_indexes = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	model->namespace_generation = next_stamp();
	model->service_generation = next_stamp();
	return model;
}

void score_model_free(score_model *model)
{
	if (model == NULL)
		return;
	/* Pods point into nodes' arrays only as borrowed entries, so the
	 * order does not matter for correctness. */
	g_hash_table_destroy(model->assumed);
	g_hash_table_destroy(model->pods);
	g_hash_table_destroy(model->nodes);
	g_array_unref(model->free_node_indexes);
	g_hash_table_destroy(model->namespaces_by_address);
	g_hash_table_destroy(model->namespaces);
	g_hash_table_destroy(model->node_problems);
	g_hash_table_destroy(model->owners);
	g_hash_table_destroy(model->label_domains);
	g_hash_table_destroy(model->namespace_services);
	g_hash_table_destroy(model->services);
	g_hash_table_destroy(model->namespace_pods);
	g_hash_table_destroy(model->label_pods);
	g_hash_table_destroy(model->namespace_label_pods);
	g_hash_table_destroy(model->namespace_network_policies);
	g_ptr_array_unref(model->cross_namespace_policies);
	g_hash_table_destroy(model->network_policies);
	g_free(model);
}

score_resource_table *score_model_resources(const score_model *model)
{
	return model->resources;
}

/* ---- Indexes ------------------------------------------------------------- */

static void owner_index_add(score_model *model, score_pod *pod)
{
	GPtrArray *pods;

	if (pod->owner.uid == NULL)
		return;
	pods = g_hash_table_lookup(model->owners, pod->owner.uid);
	if (pods == NULL) {
		pods = g_ptr_array_new();
		g_hash_table_insert(model->owners,
				    (gpointer)score_intern(pod->owner.uid), pods);
	}
	g_ptr_array_add(pods, pod);
}

static void owner_index_remove(score_model *model, score_pod *pod)
{
	GPtrArray *pods;

	if (pod->owner.uid == NULL)
		return;
	pods = g_hash_table_lookup(model->owners, pod->owner.uid);
	if (pods == NULL)
		return;
	g_ptr_array_remove_fast(pods, pod);
	if (pods->len == 0)
		g_hash_table_remove(model->owners, pod->owner.uid);
}

static void label_domains_add(score_model *model, const score_labels *labels)
{
	for (uint32_t i = 0; i < labels->count; i++) {
		const score_label *label = &labels->items[i];
		GHashTable *values = g_hash_table_lookup(model->label_domains,
							 label->key);
		gpointer count;

		if (values == NULL) {
			values = g_hash_table_new_full(
				g_str_hash, g_str_equal,
				(GDestroyNotify)score_unintern, NULL);
			g_hash_table_insert(model->label_domains,
					    (gpointer)score_intern(label->key),
					    values);
		}
		/* Each insert passes a new reference: the table keeps it for
		 * a new key and releases it for an existing one. */
		count = g_hash_table_lookup(values, label->value);
		g_hash_table_insert(values, (gpointer)score_intern(label->value),
				    GUINT_TO_POINTER(GPOINTER_TO_UINT(count) + 1));
	}
}

static void label_domains_remove(score_model *model,
				 const score_labels *labels)
{
	for (uint32_t i = 0; i < labels->count; i++) {
		const score_label *label = &labels->items[i];
		GHashTable *values = g_hash_table_lookup(model->label_domains,
							 label->key);
		guint count;

		if (values == NULL)
			continue;
		count = GPOINTER_TO_UINT(g_hash_table_lookup(values, label->value));
		if (count > 1)
			g_hash_table_insert(values,
					    (gpointer)score_intern(label->value),
					    GUINT_TO_POINTER(count - 1));
		else
			g_hash_table_remove(values, label->value);
		if (g_hash_table_size(values) == 0)
			g_hash_table_remove(model->label_domains, label->key);
	}
}

/* Reuses the most recently freed index, so that indexes stay dense. */
static uint32_t take_node_index(score_model *model)
{
	GArray *free_indexes = model->free_node_indexes;
	uint32_t index;

	if (free_indexes->len == 0)
		return model->node_index_limit++;
	index = g_array_index(free_indexes, uint32_t, free_indexes->len - 1);
	g_array_set_size(free_indexes, free_indexes->len - 1);
	return index;
}

static void drop_node(score_model *model, score_node *node)
{
	g_array_append_val(model->free_node_indexes, node->index);
	g_hash_table_remove(model->nodes, node->name);
}

uint32_t score_model_node_index_limit(const score_model *model)
{
	return model->node_index_limit;
}

static score_node *node_slot(score_model *model, const char *name)
{
	score_node *node = g_hash_table_lookup(model->nodes, name);

	if (node != NULL)
		return node;

	node = score_node_new();
	node->name = score_intern(name);
	node->present = false;
	node->pods = g_ptr_array_new();
	node->pods_version = next_stamp();
	node->index = take_node_index(model);
	g_hash_table_insert(model->nodes, (gpointer)node->name, node);
	return node;
}

/* Frees an absent node once no pod names it any more. */
static void node_slot_drop_if_unused(score_model *model, score_node *node)
{
	if (!node->present && node->pods->len == 0)
		drop_node(model, node);
}

static void account_pod(score_model *model, score_pod *pod)
{
	score_node *node;

	if (!score_pod_counts(pod))
		return;
	node = node_slot(model, pod->node_name);
	resources_add(&node->requested, &pod->request);
	resources_add(&node->nonzero_requested, &pod->nonzero_request);
	node->ingress_bandwidth_requested = saturating_add(
		node->ingress_bandwidth_requested, pod->ingress_bandwidth);
	node->egress_bandwidth_requested = saturating_add(
		node->egress_bandwidth_requested, pod->egress_bandwidth);
	g_ptr_array_add(node->pods, pod);
	if (pod->assumed)
		node->assumed_pods++;
	node->pods_version = next_stamp();
}

static void unaccount_pod(score_model *model, score_pod *pod)
{
	score_node *node;

	if (!score_pod_counts(pod))
		return;
	node = g_hash_table_lookup(model->nodes, pod->node_name);
	g_return_if_fail(node != NULL);

	resources_sub(&node->requested, &pod->request);
	resources_sub(&node->nonzero_requested, &pod->nonzero_request);
	node->ingress_bandwidth_requested = saturating_add(
		node->ingress_bandwidth_requested, -pod->ingress_bandwidth);
	node->egress_bandwidth_requested = saturating_add(
		node->egress_bandwidth_requested, -pod->egress_bandwidth);
	g_ptr_array_remove_fast(node->pods, pod);
	if (pod->assumed)
		node->assumed_pods--;
	node->pods_version = next_stamp();
	node_slot_drop_if_unused(model, node);
}

void score_model_put_node(score_model *model, score_node *node)
{
	score_node *old = g_hash_table_lookup(model->nodes, node->name);

	if (old == node)
		return;
	g_hash_table_remove(model->node_problems, node->name);
	node->present = true;
	if (node->pods != NULL)
		g_ptr_array_unref(node->pods);

	if (old == NULL) {
		memset(&node->requested, 0, sizeof(node->requested));
		memset(&node->nonzero_requested, 0,
		       sizeof(node->nonzero_requested));
		node->pods = g_ptr_array_new();
		node->assumed_pods = 0;
		node->ingress_bandwidth_requested = 0;
		node->egress_bandwidth_requested = 0;
		node->pods_version = next_stamp();
		node->index = take_node_index(model);
		model->present_nodes++;
	} else {
		node->requested = old->requested;
		node->nonzero_requested = old->nonzero_requested;
		node->pods = g_ptr_array_ref(old->pods);
		node->assumed_pods = old->assumed_pods;
		node->ingress_bandwidth_requested =
			old->ingress_bandwidth_requested;
		node->egress_bandwidth_requested = old->egress_bandwidth_requested;
		node->pods_version = old->pods_version;
		node->context_version = old->context_version;
		node->index = old->index;
		if (!old->present)
			model->present_nodes++;
		else
			label_domains_remove(model, &old->labels);
	}
	label_domains_add(model, &node->labels);
	/* Replaces the key too, so the table never keys on a freed name. */
	g_hash_table_replace(model->nodes, (gpointer)node->name, node);
}

bool score_model_remove_node(score_model *model, const char *name)
{
	score_node *node = g_hash_table_lookup(model->nodes, name);

	g_hash_table_remove(model->node_problems, name);
	if (node == NULL || !node->present)
		return false;
	node->present = false;
	model->present_nodes--;
	label_domains_remove(model, &node->labels);
	node_slot_drop_if_unused(model, node);
	return true;
}

score_node *score_model_node(const score_model *model, const char *name)
{
	score_node *node = g_hash_table_lookup(model->nodes, name);

	return node != NULL && node->present ? node : NULL;
}

void score_model_put_pod(score_model *model, score_pod *pod)
{
	score_pod *old = g_hash_table_lookup(model->pods, pod->uid);

	if (old != NULL) {
		unaccount_pod(model, old);
		owner_index_remove(model, old);
		pod_index_move(model, old, pod);
		if (old->assumed && pod->node_name == NULL) {
			/* The cluster has not confirmed the binding yet. */
			pod->node_name = score_intern(old->node_name);
			pod->assumed = true;
			pod->assumed_at_ms = old->assumed_at_ms;
		}
		g_hash_table_remove(model->assumed, old->uid);
		/* Frees `old`; the table keys on the new pod's uid. */
		g_hash_table_replace(model->pods, (gpointer)pod->uid, pod);
	} else {
		g_hash_table_insert(model->pods, (gpointer)pod->uid, pod);
		pod_index_add(model, pod);
	}

	if (pod->assumed)
		g_hash_table_insert(model->assumed, (gpointer)pod->uid, pod);
	owner_index_add(model, pod);
	account_pod(model, pod);
}

bool score_model_remove_pod(score_model *model, const char *uid)
{
	score_pod *pod = g_hash_table_lookup(model->pods, uid);

	if (pod == NULL)
		return false;
	unaccount_pod(model, pod);
	owner_index_remove(model, pod);
	pod_index_remove(model, pod);
	g_hash_table_remove(model->assumed, uid);
	g_hash_table_remove(model->pods, uid);
	return true;
}

score_pod *score_model_pod(const score_model *model, const char *uid)
{
	return g_hash_table_lookup(model->pods, uid);
}

int score_model_assume(score_model *model, const char *uid,
		       const char *node_name, int64_t now_ms, score_error *err)
{
	score_pod *pod = g_hash_table_lookup(model->pods, uid);

	if (pod == NULL)
		return score_fail(err, -ENOENT,
				  "pod with uid %s is not in the model", uid);
	if (pod->node_name != NULL) {
		if (strcmp(pod->node_name, node_name) == 0)
			return 0;
		return score_fail(err, -EEXIST,
				  "pod %s/%s is already %s node %s",
				  pod->namespace ? pod->namespace : "",
				  pod->name ? pod->name : uid,
				  pod->assumed ? "assumed on" : "bound to",
				  pod->node_name);
	}

	pod->node_name = score_intern(node_name);
	pod->assumed = true;
	pod->assumed_at_ms = now_ms;
	g_hash_table_insert(model->assumed, (gpointer)pod->uid, pod);
	account_pod(model, pod);
	return 0;
}

size_t score_model_expire_assumed(score_model *model, int64_t now_ms,
				  int64_t ttl_ms)
{
	GHashTableIter iter;
	gpointer value;
	size_t expired = 0;

	g_hash_table_iter_init(&iter, model->assumed);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		score_pod *pod = value;

		if (now_ms - pod->assumed_at_ms <= ttl_ms)
			continue;
		unaccount_pod(model, pod);
		pod->assumed = false;
		score_unintern(pod->node_name);
		pod->node_name = NULL;
		g_hash_table_iter_remove(&iter);
		expired++;
	}
	return expired;
}

void score_model_set_node_problem(score_model *model, const char *name,
				  const char *problem)
{
	if (problem == NULL)
		g_hash_table_remove(model->node_problems, name);
	else
		g_hash_table_replace(model->node_problems, g_strdup(name),
				     g_strdup(problem));
}

const char *score_model_node_problem(const score_model *model,
				     const char *name)
{
	return g_hash_table_lookup(model->node_problems, name);
}

size_t score_model_node_count(const score_model *model)
{
	return model->present_nodes;
}

size_t score_model_pod_count(const score_model *model)
{
	return g_hash_table_size(model->pods);
}

void score_model_foreach_node(const score_model *model,
			      void (*fn)(score_node *node, void *data),
			      void *data)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, model->nodes);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		score_node *node = value;

		if (node->present)
			fn(node, data);
	}
}

static void collect_node(score_node *node, void *data)
{
	g_ptr_array_add(data, node);
}

static gint compare_node_names(gconstpointer a, gconstpointer b)
{
	const score_node *left = *(const score_node *const *)a;
	const score_node *right = *(const score_node *const *)b;

	return strcmp(left->name, right->name);
}

GPtrArray *score_model_sorted_nodes(const score_model *model)
{
	GPtrArray *nodes = g_ptr_array_sized_new(model->present_nodes);

	score_model_foreach_node(model, collect_node, nodes);
	g_ptr_array_sort(nodes, compare_node_names);
	return nodes;
}

/* ---- Namespaces ---------------------------------------------------------- */

/* Gives every node with a counted pod of `namespace` a new
 * context_version. One stamp serves them all: each node's (name, stamp)
 * pair is still new. */
static void touch_namespace_nodes(score_model *model, const char *namespace)
{
	uint64_t stamp = next_stamp();
	score_pod *const *pods;
	size_t n;

	pods = score_model_namespace_pods(model, namespace, &n);
	for (size_t i = 0; i < n; i++) {
		score_node *node;

		if (!score_pod_counts(pods[i]))
			continue;
		node = g_hash_table_lookup(model->nodes, pods[i]->node_name);
		if (node != NULL)
			node->context_version = stamp;
	}
}

static bool labels_equal(const score_labels *a, const score_labels *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++) {
		const char *value = score_labels_get(b, a->items[i].key);

		if (value == NULL || strcmp(value, a->items[i].value) != 0)
			return false;
	}
	return true;
}

void score_model_put_namespace(score_model *model, const char *name,
			       const score_labels *labels)
{
	const score_labels *old = g_hash_table_lookup(model->namespaces, name);
	const char *key;
	score_labels *copy;

	/* A namespace update that leaves the labels alone (an annotation,
	 * a status change, a relist) changes nothing the model keeps. */
	if (old != NULL && labels_equal(old, labels))
		return;
	copy = g_new0(score_labels, 1);
	for (uint32_t i = 0; i < labels->count; i++)
		score_labels_set(copy, labels->items[i].key,
				 labels->items[i].value);
	/* Replaces the key too, so the old interned name is released. Both
	 * are the same address, as the old one is still alive. */
	key = score_intern(name);
	g_hash_table_replace(model->namespaces, (gpointer)key, copy);
	g_hash_table_replace(model->namespaces_by_address, (gpointer)key, copy);
	model->namespace_generation = next_stamp();
	touch_namespace_nodes(model, name);
}

bool score_model_remove_namespace(score_model *model, const char *name)
{
	gpointer key;

	if (!g_hash_table_lookup_extended(model->namespaces, name, &key, NULL))
		return false;
	g_hash_table_remove(model->namespaces_by_address, key);
	g_hash_table_remove(model->namespaces, name);
	model->namespace_generation = next_stamp();
	touch_namespace_nodes(model, name);
	return true;
}

uint64_t score_model_namespace_generation(const score_model *model)
{
	return model->namespace_generation;
}

const score_labels *score_model_namespace_labels(const score_model *model,
						 const char *name)
{
	/* An interned name is found by its address. Another string cannot
	 * share the address of a key, which the table keeps alive. */
	const score_labels *labels =
		g_hash_table_lookup(model->namespaces_by_address, name);

	return labels != NULL ? labels
			      : g_hash_table_lookup(model->namespaces, name);
}

size_t score_model_namespace_count(const score_model *model)
{
	return g_hash_table_size(model->namespaces);
}

/* ---- Workloads and topology domains ------------------------------------- */

const GPtrArray *score_model_owner_pods(const score_model *model,
					const char *owner_uid)
{
	if (owner_uid == NULL)
		return NULL;
	return g_hash_table_lookup(model->owners, owner_uid);
}

size_t score_model_label_domains(const score_model *model, const char *key)
{
	GHashTable *values = g_hash_table_lookup(model->label_domains, key);

	return values != NULL ? g_hash_table_size(values) : 0;
}

/* ---- Services ------------------------------------------------------------ */

const char *score_service_type_name(score_service_type type)
{
	switch (type) {
	case SCORE_SERVICE_NODE_PORT:
		return "NodePort";
	case SCORE_SERVICE_LOAD_BALANCER:
		return "LoadBalancer";
	case SCORE_SERVICE_EXTERNAL_NAME:
		return "ExternalName";
	case SCORE_SERVICE_CLUSTER_IP:
		break;
	}
	return "ClusterIP";
}

score_service *score_service_new(void)
{
	return g_new0(score_service, 1);
}

void score_service_free(score_service *service)
{
	if (service == NULL)
		return;
	score_unintern(service->namespace);
	score_unintern(service->name);
	score_labels_release(&service->selector);
	g_free(service->ports);
	g_free(service);
}

bool score_service_selects(const score_service *service, const score_pod *pod)
{
	if (service->selector.count == 0 || service->namespace != pod->namespace)
		return false;
	for (uint32_t i = 0; i < service->selector.count; i++) {
		const score_label *label = &service->selector.items[i];

		if (score_labels_get(&pod->labels, label->key) != label->value)
			return false;
	}
	return true;
}

static char *service_key(const char *namespace, const char *name)
{
	return g_strdup_printf("%s/%s", namespace != NULL ? namespace : "",
			       name != NULL ? name : "");
}

static void namespace_services_remove(score_model *model,
				      const score_service *service)
{
	GPtrArray *list = g_hash_table_lookup(model->namespace_services,
					      service->namespace);

	if (list == NULL)
		return;
	g_ptr_array_remove_fast(list, (gpointer)service);
	if (list->len == 0)
		g_hash_table_remove(model->namespace_services, service->namespace);
}

void score_model_put_service(score_model *model, score_service *service)
{
	char *key = service_key(service->namespace, service->name);
	score_service *old = g_hash_table_lookup(model->services, key);
	GPtrArray *list;

	if (old == service) {
		g_free(key);
		return;
	}
	if (old != NULL)
		namespace_services_remove(model, old);
	/* Frees `old` and keeps one copy of the key. */
	g_hash_table_replace(model->services, key, service);

	list = g_hash_table_lookup(model->namespace_services, service->namespace);
	if (list == NULL) {
		list = g_ptr_array_new();
		g_hash_table_insert(model->namespace_services,
				    (gpointer)score_intern(service->namespace),
				    list);
	}
	g_ptr_array_add(list, service);
	model->service_generation = next_stamp();
	/* A Service selects pods of its own namespace only, so its old and
	 * new selections are both among them. */
	touch_namespace_nodes(model, service->namespace);
}

bool score_model_remove_service(score_model *model, const char *namespace,
				const char *name)
{
	char *key = service_key(namespace, name);
	score_service *service = g_hash_table_lookup(model->services, key);
	bool found = service != NULL;

	if (found) {
		touch_namespace_nodes(model, namespace);
		namespace_services_remove(model, service);
		g_hash_table_remove(model->services, key);
		model->service_generation = next_stamp();
	}
	g_free(key);
	return found;
}

const GPtrArray *score_model_namespace_services(const score_model *model,
						const char *namespace)
{
	if (namespace == NULL)
		return NULL;
	return g_hash_table_lookup(model->namespace_services, namespace);
}

uint64_t score_model_service_generation(const score_model *model)
{
	return model->service_generation;
}

size_t score_model_service_count(const score_model *model)
{
	return g_hash_table_size(model->services);
}

/* ---- Pod index and NetworkPolicy lookups -------------------------------- */

score_pod *const *score_model_namespace_pods(const score_model *model,
					     const char *name, size_t *n)
{
	if (name == NULL) {
		*n = 0;
		return NULL;
	}
	return bucket_pods(bucket_find(model->namespace_pods, name, NULL), n);
}

score_pod *const *score_model_label_pods(const score_model *model,
					 const char *key, const char *value,
					 size_t *n)
{
	if (key == NULL || value == NULL) {
		*n = 0;
		return NULL;
	}
	return bucket_pods(bucket_find(model->label_pods, key, value), n);
}

score_pod *const *score_model_namespace_label_pods(const score_model *model,
						   const char *namespace,
						   const char *key,
						   const char *value, size_t *n)
{
	if (namespace == NULL || key == NULL || value == NULL) {
		*n = 0;
		return NULL;
	}
	return bucket_pods(bucket_find_scoped(model->namespace_label_pods,
					      namespace, key, value),
			   n);
}

void score_model_foreach_pod_namespace(const score_model *model,
				       void (*fn)(const char *name,
						  score_pod *const *pods,
						  size_t n, void *data),
				       void *data)
{
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, model->namespace_pods);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const pod_bucket *bucket = key;

		fn(bucket->key, bucket->pods, bucket->n, data);
	}
}

/* ---- NetworkPolicies ----------------------------------------------------- */

static bool has_namespace_selector_peer(const score_network_policy *policy)
{
	const score_network_policy_rule *sets[2] = {policy->ingress_rules,
						    policy->egress_rules};
	const uint32_t counts[2] = {policy->n_ingress_rules,
				    policy->n_egress_rules};

	for (int s = 0; s < 2; s++) {
		for (uint32_t r = 0; r < counts[s]; r++) {
			for (uint32_t p = 0; p < sets[s][r].n_peers; p++) {
				if (sets[s][r].peers[p].has_namespace_selector)
					return true;
			}
		}
	}
	return false;
}

static void network_policy_unlink(score_model *model,
				  score_network_policy *policy)
{
	GPtrArray *list = g_hash_table_lookup(model->namespace_network_policies,
					      policy->namespace);

	if (list != NULL) {
		g_ptr_array_remove_fast(list, policy);
		if (list->len == 0)
			g_hash_table_remove(model->namespace_network_policies,
					    policy->namespace);
	}
	g_ptr_array_remove_fast(model->cross_namespace_policies, policy);
}

void score_model_put_network_policy(score_model *model,
				    score_network_policy *policy)
{
	score_network_policy *old = g_hash_table_lookup(model->network_policies,
							policy->key);
	GPtrArray *list;

	if (old == policy) {
		score_network_policy_unref(policy);
		return;
	}
	if (old != NULL) {
		network_policy_unlink(model, old);
		/* Drops the old policy, whose key the table points into. */
		g_hash_table_remove(model->network_policies, old->key);
	}
	g_hash_table_insert(model->network_policies, policy->key, policy);

	list = g_hash_table_lookup(model->namespace_network_policies,
				   policy->namespace);
	if (list == NULL) {
		list = g_ptr_array_new();
		g_hash_table_insert(model->namespace_network_policies,
				    (gpointer)score_intern(policy->namespace), list);
	}
	g_ptr_array_add(list, policy);
	if (has_namespace_selector_peer(policy))
		g_ptr_array_add(model->cross_namespace_policies, policy);
	model->network_policy_generation++;
}

bool score_model_remove_network_policy(score_model *model, const char *key)
{
	score_network_policy *policy = g_hash_table_lookup(model->network_policies,
							   key);

	if (policy == NULL)
		return false;
	network_policy_unlink(model, policy);
	g_hash_table_remove(model->network_policies, key);
	model->network_policy_generation++;
	return true;
}

score_network_policy *score_model_network_policy(const score_model *model,
						 const char *key)
{
	return g_hash_table_lookup(model->network_policies, key);
}

const GPtrArray *score_model_namespace_network_policies(const score_model *model,
							const char *name)
{
	if (name == NULL)
		return NULL;
	return g_hash_table_lookup(model->namespace_network_policies, name);
}

const GPtrArray *score_model_cross_namespace_network_policies(
	const score_model *model)
{
	return model->cross_namespace_policies->len > 0
		       ? model->cross_namespace_policies
		       : NULL;
}

size_t score_model_network_policy_count(const score_model *model)
{
	return g_hash_table_size(model->network_policies);
}

uint64_t score_model_network_policy_generation(const score_model *model)
{
	return model->network_policy_generation;
}
