/* Cluster snapshots from files: a Kubernetes List in YAML or JSON, as
 * `kubectl get nodes,pods -A -o yaml` writes it, or several YAML
 * documents, and the built-in demo cluster used when no cluster source is
 * given. */
#ifndef STOWAGE_INF_CLUSTER_FILE_H
#define STOWAGE_INF_CLUSTER_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "scoring/error.h"
#include "scoring/model.h"

/* Converts a YAML document to the equivalent cJSON tree (mappings to
 * objects, sequences to arrays, plain scalars typed as YAML 1.2 core schema:
 * null, booleans, integers, floats, else strings). Errors carry
 * line:column. The caller frees `*out` with cJSON_Delete(). */
int inf_yaml_to_json(const char *text, size_t length, cJSON **out,
		     score_error *err);

/* One document of a YAML stream, as inf_yaml_for_each_document() passes it
 * to its callback. Borrowed: valid during the call only. */
typedef struct inf_yaml_document {
	const cJSON *root;
	int number;          /* position in the stream from 1, empty ones counted */
	bool explicit_start; /* the document begins with a "---" marker */
	size_t line;         /* line of its "---", else of its first node; from 1 */
	/* item_lines[i] is the line where items[i] of the root mapping's
	 * "items" sequence starts, for i < n_item_lines. */
	const size_t *item_lines;
	size_t n_item_lines;
} inf_yaml_document;

typedef int (*inf_yaml_document_fn)(void *data,
				    const inf_yaml_document *document,
				    score_error *err);

/* Converts each document of a YAML stream (documents separated by "---")
 * as inf_yaml_to_json() does and calls `fn` with it, one document at a
 * time and in order. An empty document (nothing between two markers) is
 * counted but not passed. Anchors apply within their own document. Stops
 * at the first failure: a parser error, whose message carries "line L,
 * column C" counted from the start of `text`, or a negative return of
 * `fn`, which is returned as it is. Fails like inf_yaml_to_json() when the
 * stream contains no document. */
int inf_yaml_for_each_document(const char *text, size_t length,
			       inf_yaml_document_fn fn, void *data,
			       score_error *err);

/* Loads every Node and Pod of the List (kind: List, NodeList or PodList; a
 * single Node or Pod object is accepted too) in `path` into `model`. The
 * labels of every Namespace are loaded too, also from a NamespaceList or a
 * single Namespace, and every networking.k8s.io/v1 NetworkPolicy, also
 * from a NetworkPolicyList or a single NetworkPolicy, and every v1
 * Service, also from a ServiceList or a single Service.
 * YAML or JSON is detected from the content. YAML may hold several
 * documents separated by "---", each a List or a single object. Objects
 * of other kinds or API groups are skipped, at the top level as in a
 * List, and so are objects without a kind (with a warning, see
 * inf_load_cluster_file_with_warnings()). An object listed twice (same
 * kind, namespace and name) fails the load. Errors name the file, the
 * line of the item or document (YAML only, and left out for the one
 * object of a one-document file), the document when there are several,
 * the item index and the field. */
int inf_load_cluster_file(const char *path, score_model *model,
			  score_error *err);

/* Same, from a buffer; `name` is used in error messages. */
int inf_load_cluster_buffer(const char *name, const char *text, size_t length,
			    score_model *model, score_error *err);

/* Numbers of objects one file put into the model. */
typedef struct inf_cluster_counts {
	size_t nodes;
	size_t pods;
	/* objects of other kinds or API groups, and objects without a kind */
	size_t skipped;
	size_t namespaces;
	size_t network_policies;
	size_t services;
} inf_cluster_counts;

/* Work like inf_load_cluster_file() and inf_load_cluster_buffer(), and on
 * success also fill `counts`, which may be NULL. */
int inf_load_cluster_file_counted(const char *path, score_model *model,
				  inf_cluster_counts *counts, score_error *err);
int inf_load_cluster_buffer_counted(const char *name, const char *text,
				    size_t length, score_model *model,
				    inf_cluster_counts *counts,
				    score_error *err);

/* At most this many warnings of one kind are listed for one file, and one
 * closing message counts the rest. A file of 100,000 pods with the same
 * mistake then prints 11 lines, not 100,000. */
#define INF_FILE_WARNINGS_LISTED 10

/* Work like the _counted functions, and also append messages (char *,
 * which the array frees with g_free()) to `warnings`, which may be NULL.
 * Each message starts with "FILE:LINE: " (JSON text has no lines:
 * "FILE: "). A message is added for each of these, up to
 * INF_FILE_WARNINGS_LISTED of each kind, and a last message per kind
 * counts those left out:
 *   - a value a pod decoder ignored instead of failing, as
 *     inf_decode_pod_with_warnings() does;
 *   - a Node without a Ready condition, which counts as not Ready;
 *   - a Node without pods in status.allocatable, which admits no pod;
 *   - an object without a kind, which is skipped.
 * A file without Node objects gets one more warning. On failure
 * `warnings` may already contain messages for objects read before the
 * error. */
int inf_load_cluster_file_with_warnings(const char *path, score_model *model,
					inf_cluster_counts *counts,
					GPtrArray *warnings, score_error *err);
int inf_load_cluster_buffer_with_warnings(const char *name, const char *text,
					  size_t length, score_model *model,
					  inf_cluster_counts *counts,
					  GPtrArray *warnings, score_error *err);

/* Appends "FILE:LINE: MESSAGE" to `warnings`, or "FILE: MESSAGE" when
 * `line` is 0, unless `*count` has reached INF_FILE_WARNINGS_LISTED, and
 * adds 1 to `*count` either way. `count` counts one kind of warning for
 * one file, for inf_file_warnings_add_left_out(). Takes ownership of
 * `message`, even when it is not listed. */
void inf_file_warning_add(GPtrArray *warnings, size_t *count, const char *file,
			  size_t line, char *message);

/* Appends "FILE: N more WHAT are not listed; ADVICE" to `warnings` when
 * `count` is above INF_FILE_WARNINGS_LISTED, with N, the warnings left
 * out, written in groups of three digits ("2,286"). */
void inf_file_warnings_add_left_out(GPtrArray *warnings, size_t count,
				    const char *file, const char *what,
				    const char *advice);

/* Returns the warning for an object without a kind, which is skipped:
 * "WHERE: the object named NAME has no kind, so it is skipped; ..." with
 * what to add, for an item of a List when `in_list` is set, else for a
 * document. `where` ("document 2, items[3]") may be "". The caller frees
 * the message with g_free(). */
char *inf_missing_kind_warning(const char *where, const cJSON *object, bool in_list);

/* Returns true when the Node object lists `pods` in status.allocatable,
 * or in status.capacity when allocatable is absent. The kubelet always
 * reports it; a node without it has 0 allocatable pods, and
 * kube-scheduler's NodeResourcesFit admits no pod there. */
bool inf_node_lists_pods(const cJSON *object);

/* Returns the advice for JSON text followed by more data, where `rest` is
 * the first byte after the JSON value. When the data starts another
 * document ("---" or "{"), the advice is to put the objects into the items
 * of one List or to write them as YAML. Otherwise it says that JSON text
 * contains one object or List. A static string. */
const char *inf_json_trailing_data_advice(const char *rest, size_t length);

/* Loads the built-in demo cluster: a few nodes of different sizes and
 * states (one tainted, one nearly full) with pods, so that `stowage serve`
 * and `stowage demo` show real decisions without a cluster. */
int inf_load_demo_cluster(score_model *model, score_error *err);

#endif
