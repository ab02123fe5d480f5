/* Kubernetes API objects (v1 Pod, Node, Namespace, Service) decoded from cJSON into the
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

/* The annotations that declare a pod's bandwidth in bits per second, read
 * into score_pod.ingress_bandwidth and egress_bandwidth. */
#define INF_INGRESS_BANDWIDTH_ANNOTATION "kubernetes.io/ingress-bandwidth"
#define INF_EGRESS_BANDWIDTH_ANNOTATION "kubernetes.io/egress-bandwidth"

/* Works like inf_decode_pod(), and appends one message to `warnings` for
 * each value it ignored instead of failing: a bandwidth annotation that is
 * not a quantity, or lies outside the 1k to 1P bits per second the kubelet
 * accepts. Each message (char *, which the array frees with g_free()) names
 * the pod, the annotation and the value. `warnings` may be NULL. */
int inf_decode_pod_with_warnings(const cJSON *object,
				 score_resource_table *resources,
				 score_pod **out, GPtrArray *warnings,
				 score_error *err);

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

/* Decodes a v1.Service: metadata (name, namespace; "default" when
 * absent), spec.type (ClusterIP when absent), spec.selector,
 * spec.externalIPs and spec.ports (protocol, port, nodePort). Fails with
 * -EINVAL naming the field path, e.g. for an unknown type or protocol or
 * a port outside 1..65535. On success the caller owns `*out` and frees it
 * with score_service_free(). */
int inf_decode_service(const cJSON *object, score_service **out,
		       score_error *err);

/* Returns the JSON type of `item` for error messages: "an object",
 * "an array", "a string", "a number", "a boolean", "null", or "nothing"
 * for NULL. */
const char *inf_json_type_name(const cJSON *item);

/* Returns the member `name` of `object` matched case-insensitively, as Go's
 * encoding/json matches struct fields, or NULL. Borrowed. */
const cJSON *inf_json_member(const cJSON *object, const char *name);

#endif
