/* The scheduler-extender verbs (filter, prioritize, preempt, bind) on
 * kube-scheduler's wire format, independent of HTTP: a request body goes
 * in, a response body comes out. The HTTP listener (server.h) and the tests
 * call this directly.
 *
 * Wire format: k8s.io/kube-scheduler/extender/v1 types. Those Go structs
 * have no json tags, so kube-scheduler writes the Go field names (Pod,
 * Nodes, NodeNames, ...) and decodes responses case-insensitively; requests
 * from older kube-schedulers use lowercase keys, so request keys are matched
 * case-insensitively and responses use the Go field names.
 *
 * Threads: sched_extender_handle() may run on many threads at once. Each
 * call holds the cluster's read lock for the whole evaluation, so it sees
 * one consistent model.
 */
#ifndef STOWAGE_SCHED_EXTENDER_H
#define STOWAGE_SCHED_EXTENDER_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "policies/loader.h"
#include "scheduler/log.h"
#include "scoring/contention.h"
#include "scoring/model.h"
#include "scoring/pipeline.h"

typedef enum sched_verb {
	SCHED_VERB_FILTER = 0,
	SCHED_VERB_PRIORITIZE,
	SCHED_VERB_PREEMPT,
	SCHED_VERB_BIND,
	SCHED_VERB_COUNT,
} sched_verb;

/* Returns "filter", "prioritize", "preempt" or "bind". */
const char *sched_verb_name(sched_verb verb);

/* The model, the lock that guards it and the pipeline that scores it.
 * Writers (the informer, /bind) take `lock` for writing. */
typedef struct sched_cluster {
	GRWLock lock;
	score_resource_table *resources; /* owned */
	score_model *model;              /* owned */
	score_contention_config contention;
	score_pipeline pipeline; /* built from `contention` */
	int64_t assumed_ttl_ms;  /* hot-spot guard window */
	/* The policy file's loader, or NULL to score with `pipeline`. Each
	 * request takes the current policy once and scores with its
	 * pipeline, so a reload never changes a request halfway. Borrowed. */
	pol_loader *policy;
} sched_cluster;

/* Initializes an empty cluster with the default contention settings and
 * pipeline; release it with sched_cluster_release(). */
void sched_cluster_init(sched_cluster *cluster);
void sched_cluster_release(sched_cluster *cluster);

/* Rebuilds the pipeline from cluster->contention; call with the write lock
 * held or before the cluster is shared. */
int sched_cluster_rebuild_pipeline(sched_cluster *cluster, score_error *err);

typedef struct sched_extender_response {
	/* 200; 400 for a body that is not a request of this verb; 500 when
	 * the response cannot be built. */
	int http_status;
	char *body;      /* owned JSON text; free with g_free() */
	/* For metrics: the kind of failure, NULL when the verb succeeded.
	 * Static strings: "malformed_json", "invalid_request", "bind". */
	const char *error_kind;
} sched_extender_response;

/* Binds a pod through the API server. Returns 0 when the pod is bound to
 * `node` (already bound there counts), or a negative errno with `err`
 * saying why. Called without the cluster lock held. */
typedef int (*sched_bind_fn)(void *data, const char *pod_namespace,
			     const char *pod_name, const char *pod_uid,
			     const char *node, score_error *err);

typedef struct sched_extender {
	sched_cluster *cluster; /* borrowed */
	sched_log *log;         /* borrowed, may be NULL */
	size_t top_scores;      /* how many scores a decision line shows */
	/* NULL until an API server connection exists. /bind then returns
	 * an Error stating that binding is not configured. */
	sched_bind_fn bind;
	void *bind_data;
} sched_extender;

/* Handles one request body for `verb` and fills `response`. Malformed JSON
 * or a body of the wrong shape gives HTTP 400 with an Error field that
 * names the problem. kube-scheduler treats any status but 200 as a failed
 * call without reading the body, so the Error text is for people and logs.
 * Writes one decision line to the log for filter, prioritize and preempt. */
void sched_extender_handle(const sched_extender *extender, sched_verb verb,
			   const char *body, size_t length,
			   sched_extender_response *response);

#endif
