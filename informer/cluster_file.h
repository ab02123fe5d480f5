/* Cluster snapshots from files: a Kubernetes List in YAML or JSON, as
 * `kubectl get nodes,pods -A -o yaml` writes it, and the built-in demo
 * cluster used when no cluster source is given. */
#ifndef STOWAGE_INF_CLUSTER_FILE_H
#define STOWAGE_INF_CLUSTER_FILE_H

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

/* Loads every Node and Pod of the List (kind: List, NodeList or PodList; a
 * single Node or Pod object is accepted too) in `path` into `model`. The
 * labels of every Namespace are loaded too, also from a NamespaceList or a
 * single Namespace, and every networking.k8s.io/v1 NetworkPolicy, also
 * from a NetworkPolicyList or a single NetworkPolicy, and every v1
 * Service, also from a ServiceList or a single Service.
 * YAML or JSON is detected from the content. Objects of other kinds are
 * skipped. Errors name the file, the item index and the field. */
int inf_load_cluster_file(const char *path, score_model *model,
			  score_error *err);

/* Same, from a buffer; `name` is used in error messages. */
int inf_load_cluster_buffer(const char *name, const char *text, size_t length,
			    score_model *model, score_error *err);

/* Numbers of objects one file put into the model. */
typedef struct inf_cluster_counts {
	size_t nodes;
	size_t pods;
	size_t skipped; /* items of other kinds or API groups */
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

/* Work like the _counted functions, and also append messages (char *,
 * which the array frees with g_free()) to `warnings`, which may be NULL.
 * A message is added for each value a pod decoder ignored instead of
 * failing, as inf_decode_pod_with_warnings() does, and for each Node
 * without a Ready condition, which counts as not Ready. On failure `warnings` may already hold
 * messages for pods read before the error. */
int inf_load_cluster_file_with_warnings(const char *path, score_model *model,
					inf_cluster_counts *counts,
					GPtrArray *warnings, score_error *err);
int inf_load_cluster_buffer_with_warnings(const char *name, const char *text,
					  size_t length, score_model *model,
					  inf_cluster_counts *counts,
					  GPtrArray *warnings, score_error *err);

/* Loads the built-in demo cluster: a few nodes of different sizes and
 * states (one tainted, one nearly full) with pods, so that `stowage serve`
 * and `stowage demo` show real decisions without a cluster. */
int inf_load_demo_cluster(score_model *model, score_error *err);

#endif
