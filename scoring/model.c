/* Pods, nodes and the model that counts pods on nodes; see model.h. */
#include "scoring/model.h"

#include <errno.h>
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
};

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

score_model *score_model_new(score_resource_table *resources)
{
	score_model *model = g_new0(score_model, 1);

	model->resources = resources;
	model->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     (GDestroyNotify)score_node_free);
	model->pods = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    (GDestroyNotify)score_pod_free);
	model->assumed = g_hash_table_new(g_str_hash, g_str_equal);
	model->namespaces = g_hash_table_new_full(g_str_hash, g_str_equal,
						  (GDestroyNotify)score_unintern,
						  namespace_labels_free);
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
	g_hash_table_destroy(model->namespaces);
	g_free(model);
}

score_resource_table *score_model_resources(const score_model *model)
{
	return model->resources;
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
	g_hash_table_insert(model->nodes, (gpointer)node->name, node);
	return node;
}

/* Frees an absent node once no pod names it any more. */
static void node_slot_drop_if_unused(score_model *model, score_node *node)
{
	if (!node->present && node->pods->len == 0)
		g_hash_table_remove(model->nodes, node->name);
}

static void account_pod(score_model *model, score_pod *pod)
{
	score_node *node;

	if (!score_pod_counts(pod))
		return;
	node = node_slot(model, pod->node_name);
	resources_add(&node->requested, &pod->request);
	resources_add(&node->nonzero_requested, &pod->nonzero_request);
	g_ptr_array_add(node->pods, pod);
	if (pod->assumed)
		node->assumed_pods++;
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
	g_ptr_array_remove_fast(node->pods, pod);
	if (pod->assumed)
		node->assumed_pods--;
	node_slot_drop_if_unused(model, node);
}

void score_model_put_node(score_model *model, score_node *node)
{
	score_node *old = g_hash_table_lookup(model->nodes, node->name);

	if (old == node)
		return;
	node->present = true;
	if (node->pods != NULL)
		g_ptr_array_unref(node->pods);

	if (old == NULL) {
		memset(&node->requested, 0, sizeof(node->requested));
		memset(&node->nonzero_requested, 0,
		       sizeof(node->nonzero_requested));
		node->pods = g_ptr_array_new();
		node->assumed_pods = 0;
		model->present_nodes++;
	} else {
		node->requested = old->requested;
		node->nonzero_requested = old->nonzero_requested;
		node->pods = g_ptr_array_ref(old->pods);
		node->assumed_pods = old->assumed_pods;
		if (!old->present)
			model->present_nodes++;
	}
	/* Replaces the key too, so the table never keys on a freed name. */
	g_hash_table_replace(model->nodes, (gpointer)node->name, node);
}

bool score_model_remove_node(score_model *model, const char *name)
{
	score_node *node = g_hash_table_lookup(model->nodes, name);

	if (node == NULL || !node->present)
		return false;
	node->present = false;
	model->present_nodes--;
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
	}

	if (pod->assumed)
		g_hash_table_insert(model->assumed, (gpointer)pod->uid, pod);
	account_pod(model, pod);
}

bool score_model_remove_pod(score_model *model, const char *uid)
{
	score_pod *pod = g_hash_table_lookup(model->pods, uid);

	if (pod == NULL)
		return false;
	unaccount_pod(model, pod);
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

void score_model_put_namespace(score_model *model, const char *name,
			       const score_labels *labels)
{
	score_labels *copy = g_new0(score_labels, 1);

	for (uint32_t i = 0; i < labels->count; i++)
		score_labels_set(copy, labels->items[i].key,
				 labels->items[i].value);
	/* Replaces the key too, so the old interned name is released. */
	g_hash_table_replace(model->namespaces, (gpointer)score_intern(name),
			     copy);
}

bool score_model_remove_namespace(score_model *model, const char *name)
{
	return g_hash_table_remove(model->namespaces, name);
}

const score_labels *score_model_namespace_labels(const score_model *model,
						 const char *name)
{
	return g_hash_table_lookup(model->namespaces, name);
}

size_t score_model_namespace_count(const score_model *model)
{
	return g_hash_table_size(model->namespaces);
}
