/* The cluster model: nodes, the pods counted on them, and their resources.
 *
 * One model serves both `stowage serve` (filled by the informer or a
 * --cluster file) and `stowage sim` (filled by the event loop). It stores
 * only what scoring needs, in a compact form: strings are interned with
 * g_ref_string_new_intern(), so equal strings share one pointer and can be
 * compared with ==, and resources are fixed-width integer vectors.
 *
 * Threads: a model is not locked. Writers (informer, simulator, /bind) must
 * be serialized by the owner, and readers may run concurrently only while no
 * writer runs. scheduler/ wraps the model in a GRWLock for that. The
 * resource table is the exception: it is append-only and safe to use from
 * any thread, because request decoding may meet a new extended resource.
 *
 * Units: CPU in millicores, memory and storage in bytes, every other
 * resource in the integer units of resource.Quantity.Value().
 */
#ifndef STOWAGE_SCORE_MODEL_H
#define STOWAGE_SCORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"

/* Fixed slots of a resource vector. Extended resources such as
 * nvidia.com/gpu or hugepages-2Mi take the slots after SCORE_RES_PODS in the
 * order the resource table first meets them. */
enum {
	SCORE_RES_CPU = 0,
	SCORE_RES_MEMORY = 1,
	SCORE_RES_EPHEMERAL_STORAGE = 2,
	SCORE_RES_PODS = 3,
	SCORE_RES_FIRST_EXTENDED = 4,
	SCORE_RES_MAX = 16,
};

/* kube-scheduler's defaults for containers without a CPU or memory
 * request, used only for scoring (pkg/scheduler/util DefaultMilliCPURequest
 * and DefaultMemoryRequest). */
#define SCORE_DEFAULT_MILLI_CPU_REQUEST 100
#define SCORE_DEFAULT_MEMORY_REQUEST (200LL * 1024 * 1024)

typedef struct score_resources {
	int64_t v[SCORE_RES_MAX];
} score_resources;

/* Adds `add` to `sum` slot by slot, saturating at the int64 limits as
 * every total in the model does: a wrapped sum would turn a huge request
 * into a negative one that fits anywhere. */
void score_resources_add(score_resources *sum, const score_resources *add);

/* ---- Resource table ------------------------------------------------------ */

typedef struct score_resource_table score_resource_table;

/* Returns a table holding the four fixed resources; the caller frees it with
 * score_resource_table_free(). */
score_resource_table *score_resource_table_new(void);
void score_resource_table_free(score_resource_table *table);

/* Returns the slot of resource `name` ("cpu", "memory", "nvidia.com/gpu"),
 * adding it when `name` is new. Fails with -ENOSPC and a message naming the
 * resource once SCORE_RES_MAX slots are taken. Safe from any thread. */
int score_resource_index(score_resource_table *table, const char *name,
			 score_error *err);

/* Returns the slot of `name`, or -ENOENT when the table has not met it. */
int score_resource_find(const score_resource_table *table, const char *name);

/* Returns the name in slot `index`, or NULL past the last used slot. */
const char *score_resource_name(const score_resource_table *table, int index);

/* Returns the number of slots in use. */
int score_resource_count(const score_resource_table *table);

/* Writes `value` of resource slot `index` to `buf` in the unit a person
 * reads in kubectl: "3500m" for CPU, "512Mi" for memory when exact, plain
 * integers otherwise. Returns `buf`. */
const char *score_resource_format(int index, int64_t value, char *buf,
				  size_t size);

/* ---- Interned strings ---------------------------------------------------- */

/* Returns an interned reference to `s`, or NULL when `s` is NULL. The caller
 * releases it with score_unintern(). */
const char *score_intern(const char *s);
void score_unintern(const char *s);

/* ---- Labels, taints, tolerations ---------------------------------------- */

typedef struct score_label {
	const char *key;   /* interned */
	const char *value; /* interned */
} score_label;

/* Labels sorted by strcmp() on key, so lookups can bisect. */
typedef struct score_labels {
	score_label *items;
	uint32_t count;
} score_labels;

/* Adds or replaces `key`; takes no ownership of the arguments. */
void score_labels_set(score_labels *labels, const char *key,
		      const char *value);
/* Returns the interned value of `key`, or NULL. Borrowed. */
const char *score_labels_get(const score_labels *labels, const char *key);
void score_labels_release(score_labels *labels);

typedef enum score_taint_effect {
	SCORE_EFFECT_ANY = 0, /* tolerations only: an empty effect */
	SCORE_EFFECT_NO_SCHEDULE,
	SCORE_EFFECT_PREFER_NO_SCHEDULE,
	SCORE_EFFECT_NO_EXECUTE,
} score_taint_effect;

typedef struct score_taint {
	const char *key;   /* interned */
	const char *value; /* interned, NULL when empty */
	score_taint_effect effect;
} score_taint;

typedef enum score_toleration_op {
	SCORE_TOLERATION_EQUAL = 0,
	SCORE_TOLERATION_EXISTS,
} score_toleration_op;

typedef struct score_toleration {
	const char *key;   /* interned, NULL when empty: matches every key */
	const char *value; /* interned, NULL when empty */
	score_toleration_op op;
	score_taint_effect effect; /* SCORE_EFFECT_ANY matches every effect */
} score_toleration;

/* Applies Kubernetes' Toleration.ToleratesTaint() rule. */
bool score_toleration_matches(const score_toleration *toleration,
			      const score_taint *taint);

/* ---- Pods ---------------------------------------------------------------- */

typedef enum score_pod_phase {
	SCORE_POD_PENDING = 0,
	SCORE_POD_RUNNING,
	SCORE_POD_SUCCEEDED,
	SCORE_POD_FAILED,
	SCORE_POD_UNKNOWN,
} score_pod_phase;

/* Protocols of a container port, as in v1.ContainerPort. */
typedef enum score_protocol {
	SCORE_PROTOCOL_TCP = 0,
	SCORE_PROTOCOL_UDP,
	SCORE_PROTOCOL_SCTP,
} score_protocol;

/* Returns "TCP", "UDP" or "SCTP". */
const char *score_protocol_name(score_protocol protocol);

/* A port a pod binds on its node: a container port with hostPort set, or
 * any container port of a hostNetwork pod. */
typedef struct score_host_port {
	const char *host_ip; /* interned; NULL for every address (0.0.0.0) */
	int32_t port;        /* 1..65535 */
	score_protocol protocol;
} score_host_port;

/* The pod's controller: the ownerReference with controller: true. */
typedef struct score_owner {
	const char *kind; /* interned, NULL when the pod has no controller */
	const char *name; /* interned */
	const char *uid;  /* interned */
} score_owner;

/* One container's requests as written in its spec, before defaults. */
typedef struct score_container {
	score_resources requests;
	uint32_t present; /* bit i set when requests.v[i] was in the spec */
	bool restartable; /* init container with restartPolicy: Always */
} score_container;

typedef struct score_pod {
	/* The fields that walking a node's pods reads (score_pod_counts(),
	 * the isolation rules) come first, so that they share a cache line. */
	const char *uid;       /* interned, the model's key */
	const char *name;      /* interned */
	const char *namespace; /* interned */
	const char *node_name; /* interned; NULL while unbound */
	/* Interned tenant, set with score_pod_set_tenant() by the code that
	 * builds the model when the tenant does not come from labels (a
	 * trace's user column). NULL means the isolation criterion resolves
	 * it from the namespace's or the pod's tenant label. */
	const char *tenant;
	const char *runtime_class_name; /* interned, NULL when unset */
	score_pod_phase phase;
	/* Isolation inputs from the pod spec. `privileged` covers containers,
	 * init containers and ephemeral containers; `uses_host_path` is set
	 * when any volume is a hostPath. */
	bool host_network;
	bool host_pid;
	bool host_ipc;
	bool privileged;
	bool uses_host_path;
	/* Set while stowage has decided the node but the cluster has not yet
	 * confirmed the binding. */
	bool assumed;
	int64_t assumed_at_ms; /* monotonic milliseconds */

	/* Effective request as NodeResourcesFit computes it, with the pods
	 * slot set to 1; and the same with kube-scheduler's non-zero CPU and
	 * memory defaults, as its scoring plugins use. */
	score_resources request;
	score_resources nonzero_request;

	score_labels labels;
	score_toleration *tolerations;
	uint32_t n_tolerations;

	score_host_port *host_ports;    /* owned */
	uint32_t n_host_ports;
	score_owner owner;
	/* Bits per second from the annotations kubernetes.io/ingress-bandwidth
	 * and kubernetes.io/egress-bandwidth; 0 when the pod has none. */
	int64_t ingress_bandwidth;
	int64_t egress_bandwidth;
	/* Private to the model: the pod's positions in the namespace index
	 * (slot 0) and the label index (slot 1 + i for labels.items[i]),
	 * so that a remove takes constant time. NULL while outside a model. */
	uint32_t *index_slots;
} score_pod;

/* Computes a pod's effective request the way kube-scheduler's
 * resourcehelper.PodRequests() does: the sum of the containers, then the
 * maximum with each init container (a restartable init container, a
 * sidecar, adds to every later step and to the sum), then the overhead.
 * `nonzero` gets the same with 100m CPU and 200Mi memory in place of each
 * container's missing CPU or memory request. Both get SCORE_RES_PODS = 1.
 * `overhead` may be NULL. */
void score_pod_compute_request(const score_container *containers,
			       size_t n_containers,
			       const score_container *init_containers,
			       size_t n_init_containers,
			       const score_resources *overhead,
			       score_resources *request,
			       score_resources *nonzero);

/* Returns a zeroed pod; the caller frees it with score_pod_free(). */
score_pod *score_pod_new(void);
void score_pod_free(score_pod *pod);

/* Replaces the pod's tenant with an interned copy of `tenant`, which may
 * be NULL to clear it. */
void score_pod_set_tenant(score_pod *pod, const char *tenant);

/* Returns true for pods whose resources count on a node: bound or assumed,
 * and not Succeeded or Failed. */
bool score_pod_counts(const score_pod *pod);

/* ---- Nodes --------------------------------------------------------------- */

typedef struct score_node {
	const char *name; /* interned */
	score_resources allocatable;
	score_labels labels;
	score_taint *taints;
	uint32_t n_taints;
	bool unschedulable;
	bool ready;
	/* status.conditions has no Ready entry, so `ready` is false because
	 * the kubelet never reported rather than because it reported NotReady. */
	bool ready_unreported;

	/* Maintained by the model: totals of the pods counted here. */
	score_resources requested;
	score_resources nonzero_requested;
	GPtrArray *pods; /* borrowed score_pod pointers */
	uint32_t assumed_pods;
	/* Sums of the counted pods' bandwidth annotations, bits per second. */
	int64_t ingress_bandwidth_requested;
	int64_t egress_bandwidth_requested;
	/* Maintained by the model: a stamp that changes whenever a pod starts
	 * or stops counting here or a pod counted here is replaced. Stamps
	 * come from one counter shared by every model in the process, so a
	 * (node name, stamp) pair never recurs and a cache may key on it.
	 * 0 for a node that no model maintains. */
	uint64_t pods_version;
	/* Maintained by the model: a stamp that changes whenever the labels
	 * of a counted pod's namespace or the Services of its namespace
	 * change, drawn like pods_version. Caches of what a node's pods are
	 * (tenant, exposure) key on both stamps. 0 until the first change. */
	uint64_t context_version;
	/* Maintained by the model: a number below
	 * score_model_node_index_limit(), unique among its nodes and kept
	 * by a node update. A removed node's index goes to a later node.
	 * Caches keep per-node entries in arrays by this index. */
	uint32_t index;

	bool present; /* false while only pods name this node */
} score_node;

/* Returns a zeroed node; the caller frees it with score_node_free() unless
 * it hands it to score_model_put_node(). */
score_node *score_node_new(void);
void score_node_free(score_node *node);

/* ---- Model --------------------------------------------------------------- */

typedef struct score_model score_model;

/* Returns an empty model using `resources` (borrowed: it must outlive the
 * model). The caller frees it with score_model_free(). */
score_model *score_model_new(score_resource_table *resources);
void score_model_free(score_model *model);

/* Returns a bound on score_node.index: every node's index is below it. It
 * grows to the most nodes the model has held at once. */
uint32_t score_model_node_index_limit(const score_model *model);

score_resource_table *score_model_resources(const score_model *model);

/* Adds `node`, or replaces the node of the same name while keeping the pods
 * counted on it. Takes ownership of `node`. */
void score_model_put_node(score_model *model, score_node *node);

/* Removes the node; its pods stay in the model and count again if a node
 * of that name returns. Returns false when there was no such node. */
bool score_model_remove_node(score_model *model, const char *name);

/* Returns the node, or NULL when absent. Borrowed: valid until the next
 * write to the model. */
score_node *score_model_node(const score_model *model, const char *name);

/* Adds `pod`, or replaces the pod with the same uid, moving its resources
 * between nodes as its node or phase changed. A replaced pod that was
 * assumed and is still unbound keeps its assumption. Takes ownership. */
void score_model_put_pod(score_model *model, score_pod *pod);

/* Removes the pod with `uid`; returns false when there was none. */
bool score_model_remove_pod(score_model *model, const char *uid);

/* Returns the pod, or NULL. Borrowed: valid until the next write. */
score_pod *score_model_pod(const score_model *model, const char *uid);

/* Marks the pod assumed on `node_name` at `now_ms` and counts it there at
 * once. Fails with -ENOENT when the pod is unknown, -EEXIST when it is
 * already bound or assumed to another node. */
int score_model_assume(score_model *model, const char *uid,
		       const char *node_name, int64_t now_ms,
		       score_error *err);

/* Drops assumptions older than `ttl_ms`: such pods stop counting on their
 * node and return to unbound. Returns how many expired. */
size_t score_model_expire_assumed(score_model *model, int64_t now_ms,
				  int64_t ttl_ms);

/* Records why the object of node `name` could not be read (NULL clears
 * it), so that a filter reports it instead of "not in the cluster view".
 * Putting or removing the node clears it. The text is copied. */
void score_model_set_node_problem(score_model *model, const char *name,
				  const char *problem);

/* Returns the problem recorded for node `name`, or NULL. Borrowed: valid
 * until the next write. */
const char *score_model_node_problem(const score_model *model,
				     const char *name);

size_t score_model_node_count(const score_model *model);
size_t score_model_pod_count(const score_model *model);

/* Calls `fn` for each present node, in no particular order. */
void score_model_foreach_node(const score_model *model,
			      void (*fn)(score_node *node, void *data),
			      void *data);

/* Returns the present nodes sorted by name; the caller frees the array with
 * g_ptr_array_unref(). Borrowed elements. */
GPtrArray *score_model_sorted_nodes(const score_model *model);

/* ---- Namespaces ---------------------------------------------------------- */

/* The model keeps only namespace labels, which tenant resolution and
 * namespace selectors read. */

/* Stores a copy of `labels` as the labels of namespace `name`, replacing
 * earlier ones. */
void score_model_put_namespace(score_model *model, const char *name,
			       const score_labels *labels);

/* Forgets namespace `name`; returns false when the model did not have it. */
bool score_model_remove_namespace(score_model *model, const char *name);

/* Returns the labels of namespace `name`, or NULL when the model has not
 * seen that namespace. Borrowed: valid until the next write. */
const score_labels *score_model_namespace_labels(const score_model *model,
						 const char *name);

size_t score_model_namespace_count(const score_model *model);

/* Returns a stamp that changes with every put that changes a namespace's
 * labels and every remove of a namespace. Stamps come from the counter of
 * score_node.pods_version, so two models never return the same one. */
uint64_t score_model_namespace_generation(const score_model *model);

/* ---- Pod indexes --------------------------------------------------------- */

/* The model indexes every pod it holds, bound or not, by namespace, by
 * each label (key=value) and by each label within its namespace, and keeps
 * the indexes on every put and remove, so that selector lookups never scan
 * all pods. */

/* Returns the pods of namespace `name` and stores their number in `*n`;
 * NULL with *n = 0 when there are none. Borrowed: valid until the next
 * write. */
score_pod *const *score_model_namespace_pods(const score_model *model,
					     const char *name, size_t *n);

/* Returns the pods with label `key`=`value` and stores their number in
 * `*n`; NULL with *n = 0 when there are none. Borrowed: valid until the
 * next write. */
score_pod *const *score_model_label_pods(const score_model *model,
					 const char *key, const char *value,
					 size_t *n);

/* Returns the pods of namespace `namespace` with label `key`=`value` and
 * stores their number in `*n`; NULL with *n = 0 when there are none.
 * Borrowed: valid until the next write. */
score_pod *const *score_model_namespace_label_pods(const score_model *model,
						   const char *namespace,
						   const char *key,
						   const char *value, size_t *n);

/* Calls `fn` once per namespace that has pods in the model, with its name
 * and pods, in no particular order. */
void score_model_foreach_pod_namespace(const score_model *model,
				       void (*fn)(const char *name,
						  score_pod *const *pods,
						  size_t n, void *data),
				       void *data);

/* ---- NetworkPolicies ----------------------------------------------------- */

/* Defined in scoring/netpol.h. */
typedef struct score_network_policy score_network_policy;

/* Adds `policy`, or replaces the policy with the same key
 * ("namespace/name"). Takes the caller's reference. */
void score_model_put_network_policy(score_model *model,
				    score_network_policy *policy);

/* Removes the policy with `key`; returns false when there was none. */
bool score_model_remove_network_policy(score_model *model, const char *key);

/* Returns the policy with `key`, or NULL. Borrowed: valid until the next
 * write; take a reference to keep it longer. */
score_network_policy *score_model_network_policy(const score_model *model,
						 const char *key);

/* Returns the policies of namespace `name` (score_network_policy
 * pointers), or NULL when it has none. Borrowed: valid until the next
 * write. */
const GPtrArray *score_model_namespace_network_policies(const score_model *model,
							const char *name);

/* Returns the policies that have a peer with a namespaceSelector, which
 * may match pods of any namespace, or NULL when there are none. Borrowed:
 * valid until the next write. */
const GPtrArray *score_model_cross_namespace_network_policies(
	const score_model *model);

size_t score_model_network_policy_count(const score_model *model);

/* Returns a number that changes with every put and remove of a policy, so
 * a reader can keep what it derived from them until they change. */
uint64_t score_model_network_policy_generation(const score_model *model);

/* ---- Workloads and topology domains ------------------------------------- */

/* Returns the pods whose controller has uid `owner_uid` (score_pod.owner),
 * bound or not, or NULL when there are none. The model keeps this index
 * on every put and remove, so a lookup never scans all pods. Borrowed:
 * valid until the next write. */
const GPtrArray *score_model_owner_pods(const score_model *model,
					const char *owner_uid);

/* Returns how many distinct values label `key` has over the present
 * nodes: the number of topology domains at that level. 0 when no node
 * has the label. */
size_t score_model_label_domains(const score_model *model, const char *key);

/* ---- Services ------------------------------------------------------------ */

/* The model keeps what exposure needs from v1 Services: which pods a
 * Service selects and on which ports it is reachable. */

typedef enum score_service_type {
	SCORE_SERVICE_CLUSTER_IP = 0,
	SCORE_SERVICE_NODE_PORT,
	SCORE_SERVICE_LOAD_BALANCER,
	SCORE_SERVICE_EXTERNAL_NAME,
} score_service_type;

/* Returns "ClusterIP", "NodePort", "LoadBalancer" or "ExternalName". */
const char *score_service_type_name(score_service_type type);

typedef struct score_service_port {
	score_protocol protocol;
	int32_t port;      /* 1..65535, the Service's (and load balancer's) port */
	int32_t node_port; /* 30000..32767 by default; 0 when none is allocated */
} score_service_port;

typedef struct score_service {
	const char *namespace; /* interned */
	const char *name;      /* interned */
	score_service_type type;
	/* spec.selector: a pod is selected when it has every label with the
	 * same value. A Service without a selector selects no pods. */
	score_labels selector;
	score_service_port *ports; /* owned */
	uint32_t n_ports;
	/* spec.externalIPs is not empty: the cluster accepts traffic to
	 * those addresses on the Service's ports. */
	bool has_external_ips;
} score_service;

/* Returns a zeroed Service; the caller frees it with score_service_free()
 * unless it hands it to score_model_put_service(). */
score_service *score_service_new(void);
void score_service_free(score_service *service);

/* Returns true when the Service's selector selects `pod`: same namespace,
 * a non-empty selector, and every selector label on the pod. */
bool score_service_selects(const score_service *service, const score_pod *pod);

/* Adds `service`, or replaces the Service with the same namespace and
 * name. Takes ownership. */
void score_model_put_service(score_model *model, score_service *service);

/* Removes the Service; returns false when there was none. */
bool score_model_remove_service(score_model *model, const char *namespace,
				const char *name);

/* Returns the Services of `namespace`, or NULL when it has none. Finding
 * the Services that select a pod walks only its namespace's. Borrowed
 * score_service pointers: valid until the next write. */
const GPtrArray *score_model_namespace_services(const score_model *model,
						const char *namespace);

size_t score_model_service_count(const score_model *model);

/* Returns a stamp that changes with every put and remove of a Service,
 * drawn like score_model_namespace_generation()'s. */
uint64_t score_model_service_generation(const score_model *model);

#endif
