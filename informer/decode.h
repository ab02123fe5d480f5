/* Kubernetes API objects (v1 Pod, v1 Node) decoded from cJSON into the
 * cluster model's compact form. Used by the extender for request bodies, by
 * --cluster files and by the informer's list and watch streams, so every
 * path reads objects the same way.
 *
 * Only the fields scoring needs are kept. Everything else in the object is
 * ignored, as a client of a newer API server must.
 */
#ifndef STOWAGE_INF_DECODE_H
#define STOWAGE_INF_DECODE_H

#include <cjson/cJSON.h>

#include "scoring/error.h"
#include "scoring/model.h"

/* Decodes a v1.Pod into a new pod: metadata (uid, name, namespace,
 * labels, the controller ownerReference), spec (containers, initContainers
 * with restartPolicy, overhead, tolerations, nodeName) and status.phase.
 * For isolation it also reads hostNetwork, hostPID, hostIPC, privileged
 * containers, hostPath volumes, runtimeClassName and host ports. A pod without metadata.uid gets
 * "namespace/name" as its key. Fails with -EINVAL and a message naming the
 * field path and the bad value (e.g. an invalid quantity). On success the
 * caller owns `*out` and frees it with score_pod_free(). */
int inf_decode_pod(const cJSON *object, score_resource_table *resources,
		   score_pod **out, score_error *err);

/* Decodes a v1.Node: metadata.name and labels, spec.taints and
 * spec.unschedulable, status.allocatable (status.capacity when allocatable
 * is absent) and the Ready condition. Same error and ownership rules. */
int inf_decode_node(const cJSON *object, score_resource_table *resources,
		    score_node **out, score_error *err);

/* Decodes a v1.Namespace: metadata.name and labels, adding the
 * kubernetes.io/metadata.name label the API server sets when the object
 * lacks it. On success `*name` is interned (release it with
 * score_unintern()) and the caller releases `labels` with
 * score_labels_release(); on failure both are empty. */
int inf_decode_namespace(const cJSON *object, const char **name,
			 score_labels *labels, score_error *err);

/* Returns the JSON type of `item` for error messages: "an object",
 * "an array", "a string", "a number", "a boolean", "null", or "nothing"
 * for NULL. */
const char *inf_json_type_name(const cJSON *item);

/* Returns the member `name` of `object` matched case-insensitively, as Go's
 * encoding/json matches struct fields, or NULL. Borrowed. */
const cJSON *inf_json_member(const cJSON *object, const char *name);

#endif
