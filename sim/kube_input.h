/* Kubernetes objects as simulator inputs: a Node list as the cluster and
 * Pod manifests as the workload, in YAML (one or more documents) or JSON,
 * as `kubectl get nodes -o yaml` or a set of manifests writes them.
 * Objects are decoded by informer/decode.h, so a Node or Pod reads the
 * same in `stowage serve` and in the simulator.
 *
 * Accepted shapes: a List, NodeList, PodList, NamespaceList,
 * NetworkPolicyList or ServiceList with items, or single objects, in any
 * number of YAML documents separated by "---". Items of a typed list may
 * leave out their kind, as the API server writes them. Namespaces,
 * NetworkPolicies and Services in either file go into the engine's
 * model: namespace labels resolve tenants, NetworkPolicies give
 * locality peers, and Services decide exposure. Objects of other kinds
 * are counted and skipped, and so are objects without a kind (an item of
 * a plain List, or a document), with a warning: `stowage serve` skips
 * the same objects.
 *
 * Nodes keep their name, labels (zones, racks, instance types), taints,
 * spec.unschedulable and allocatable resources, extended ones included.
 * nvidia.com/gpu becomes the node's GPU devices for the GPU model, with
 * the model name from the label nvidia.com/gpu.product when present.
 * Conditions are ignored: every node starts Ready.
 *
 * Pods keep their namespace, labels, tolerations, owner and requests.
 * Annotations set the replay: stowage.io/sim-arrival is the arrival as a
 * duration from the start ("90s"; 0 when absent), and
 * stowage.io/sim-lifetime the run time once started ("1h", or "never",
 * the default, for a pod that runs until the end). A request of
 * nvidia.com/gpu requests that many whole GPUs. spec.nodeName and the
 * status are ignored: every pod arrives pending. An invalid
 * kubernetes.io/ingress-bandwidth or egress-bandwidth annotation is
 * ignored with a warning, as `stowage serve` ignores it.
 *
 * A pod file is read into memory whole and its pods sorted by arrival
 * (stable, so equal arrivals keep file order): it is meant for hand-written
 * or exported workloads, not for long traces (use sim/mapping.h there).
 */
#ifndef STOWAGE_SIM_KUBE_INPUT_H
#define STOWAGE_SIM_KUBE_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/model.h"
#include "sim/engine.h"
#include "sim/template.h"

#define SIM_ANNOTATION_ARRIVAL "stowage.io/sim-arrival"
#define SIM_ANNOTATION_LIFETIME "stowage.io/sim-lifetime"
#define SIM_LABEL_GPU_PRODUCT "nvidia.com/gpu.product"
#define SIM_RESOURCE_GPU "nvidia.com/gpu"

/* Input files larger than this are rejected before parsing. */
#define SIM_KUBE_MAX_FILE_BYTES (512LL << 20)

/* Sets `*manifest` to true when the file at `path` contains Kubernetes
 * objects (JSON, or YAML with a "key:" line) and false when it looks like
 * a CSV file. A file of only blank lines and comments counts as objects
 * when its name ends in .yaml, .yml or .json. Fails when the file cannot
 * be read or is a directory. */
int sim_kube_sniff(const char *path, bool *manifest, score_error *err);

/* ---- Nodes --------------------------------------------------------------- */

typedef struct sim_kube_nodes sim_kube_nodes;

/* Reads the Nodes of `path`, every pod slot limit from its allocatable
 * pods (`default_pods` when absent; an explicit 0 is kept). Fails for a file without nodes, an
 * object listed twice (a Node, Namespace, NetworkPolicy or Service of the
 * same namespace and name) or an invalid object, naming the file, line,
 * document and item. The caller frees `*out` with sim_kube_nodes_free(). */
int sim_kube_nodes_read(const char *path, int64_t default_pods,
			sim_kube_nodes **out, score_error *err);
int sim_kube_nodes_parse(const char *name, const char *text, size_t length,
			 int64_t default_pods, sim_kube_nodes **out,
			 score_error *err);
void sim_kube_nodes_free(sim_kube_nodes *nodes);

size_t sim_kube_nodes_count(const sim_kube_nodes *nodes);
/* Returns node `i`'s name and shape (CPU, memory, pods, GPUs and model,
 * named by its instance type label when present). Borrowed. */
const char *sim_kube_nodes_name(const sim_kube_nodes *nodes, size_t i);
const sim_node_shape *sim_kube_nodes_shape(const sim_kube_nodes *nodes,
					   size_t i);
/* Returns node `i` as decoded, in the resource table of `nodes`. */
const score_node *sim_kube_nodes_object(const sim_kube_nodes *nodes, size_t i);

/* Returns the warnings of the read (char *), borrowed: one for each
 * object without a kind, which is skipped, starting with "FILE:LINE: "
 * and naming the document and item. At most INF_FILE_WARNINGS_LISTED
 * are listed; a last message counts the rest. */
const GPtrArray *sim_kube_nodes_warnings(const sim_kube_nodes *nodes);

/* Adds every node to `engine` at time 0 with its labels, taints and
 * extended resources, moved into the engine's resource table, and the
 * file's Namespaces, NetworkPolicies and Services to its model. */
int sim_kube_nodes_add(const sim_kube_nodes *nodes, sim_engine *engine,
		       score_error *err);

/* ---- Pods ---------------------------------------------------------------- */

typedef struct sim_kube_pods sim_kube_pods;

/* Reads the Pods, Namespaces, NetworkPolicies and Services of `path`.
 * Fails for a file without pods, an invalid object or stowage.io/sim-*
 * annotation, or a Namespace, NetworkPolicy or Service listed twice,
 * naming the file, line, document, item and field. Two pods may share a
 * name: the engine fails the run only when both are alive at once. The
 * caller frees `*out` with sim_kube_pods_free(). */
int sim_kube_pods_read(const char *path, sim_kube_pods **out,
		       score_error *err);
int sim_kube_pods_parse(const char *name, const char *text, size_t length,
			sim_kube_pods **out, score_error *err);
void sim_kube_pods_free(sim_kube_pods *pods);

size_t sim_kube_pods_count(const sim_kube_pods *pods);

/* Returns the warnings of the read (char *), borrowed. One names the
 * pod, the annotation and the value for each pod value the decoder
 * ignored instead of failing, as `stowage serve` ignores it, such as a
 * kubernetes.io/ingress-bandwidth annotation that is not a quantity.
 * One more is added for each object without a kind, which is skipped.
 * Each message starts with "FILE:LINE: ". At most
 * INF_FILE_WARNINGS_LISTED of each kind are listed; a last message per
 * kind counts the rest. */
const GPtrArray *sim_kube_pods_warnings(const sim_kube_pods *pods);

/* Fills `source` to deliver the pods in arrival order, each a copy, from
 * the start. Extended resources are dropped until sim_kube_pods_bind()
 * names the engine's table. `pods` must outlive the source. */
void sim_kube_pods_source(sim_kube_pods *pods, sim_source *source);

/* Moves later arrivals' extended resources into the resource table of
 * `model` and stores the file's Namespaces, NetworkPolicies and Services
 * in `model`. */
void sim_kube_pods_bind(sim_kube_pods *pods, score_model *model);

/* Returns the time the last pod would leave if all started at once. */
int64_t sim_kube_pods_end_ms(const sim_kube_pods *pods);

#endif
