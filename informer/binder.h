/* Binding pods to nodes through the API server, for the extender's bind
 * verb.
 *
 * inf_binder_bind() POSTs a v1.Binding to
 * /api/v1/namespaces/NS/pods/NAME/binding with metadata.uid set, so the API
 * server rejects the binding (409, "Precondition failed") when the pod of
 * that name is a different pod than the one kube-scheduler scheduled.
 *   - 201: bound.
 *   - 409: the binder reads the pod; when it has the same uid and is bound
 *     to the requested node (an earlier attempt succeeded but its response
 *     was lost), that is success. Otherwise the API server's message is
 *     the error.
 *   - 404: the pod no longer exists: an error.
 *   - 429, 5xx, connection failures and attempts that time out: retried
 *     with backoff, or after Retry-After, until the deadline.
 * Each attempt gets at most attempt_timeout_ms of the deadline, so one
 * slow response does not use up the time a second attempt could succeed
 * in. An attempt that timed out may still have bound the pod; the next
 * attempt then meets 409 and the check above.
 * Only one binding per pod uid is in flight: a second call for the same
 * pod waits for the first to finish, then sends its own request (which
 * meets 409 and the check above when the first one bound the pod).
 *
 * On success the pod is assumed on the node in the model
 * (score_model_assume() under the write lock), so the next scheduling
 * decisions count it before the watch delivers the bound pod.
 *
 * Threads: inf_binder_bind() may run on many threads at once.
 */
#ifndef STOWAGE_INF_BINDER_H
#define STOWAGE_INF_BINDER_H

#include <stdint.h>

#include <glib.h>

#include "informer/client.h"
#include "informer/metrics.h"
#include "scheduler/log.h"
#include "scoring/error.h"
#include "scoring/model.h"

/* kube-scheduler abandons an extender call after 5 s by default
 * (DefaultExtenderTimeout in pkg/scheduler/framework/extender.go), so the
 * binder returns before that. */
#define INF_BIND_DEFAULT_DEADLINE_MS 4000
/* Half the deadline, so a second attempt has time too, and twice the 1 s
 * that Kubernetes' API call latency SLO allows a mutating call on one
 * object at the 99th percentile (kubernetes/community,
 * sig-scalability/slos/api_call_latency.md). */
#define INF_BIND_DEFAULT_ATTEMPT_TIMEOUT_MS 2000
#define INF_BIND_DEFAULT_BACKOFF_INITIAL_MS 100
#define INF_BIND_DEFAULT_BACKOFF_MAX_MS 1000

typedef struct inf_binder_config {
	const inf_client *client; /* borrowed */
	score_model *model;       /* borrowed; NULL: assume nothing */
	GRWLock *lock;            /* borrowed: guards `model` */
	sched_log *log;           /* borrowed, may be NULL */
	/* Borrowed, may be NULL: counts each call's outcome and each
	 * request's latency. */
	inf_metrics *metrics;
	/* Zero selects the INF_BIND_DEFAULT_* value of the same name. */
	int64_t deadline_ms;
	int64_t attempt_timeout_ms; /* one request; capped by the deadline */
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
} inf_binder_config;

typedef struct inf_binder inf_binder;

/* The borrowed pointers in `config` must outlive the binder. The caller
 * frees it with inf_binder_free() once no call is in progress. */
int inf_binder_new(const inf_binder_config *config, inf_binder **out,
		   score_error *err);
void inf_binder_free(inf_binder *binder);

/* Binds the pod `pod_namespace`/`pod_name` with uid `pod_uid` to `node`.
 * Returns 0 when the pod is bound there (already bound there counts), or a
 * negative errno with `err` saying why: -EINVAL for an empty argument,
 * -EEXIST for a conflict, -ENOENT when the pod is gone, -EACCES for 401 or
 * 403, -ETIMEDOUT when the deadline passed while retrying (the message
 * starts "timed out after N ms" and ends with the last attempt's error). `binder` is an
 * inf_binder *; the signature is sched_bind_fn's. */
int inf_binder_bind(void *binder, const char *pod_namespace,
		    const char *pod_name, const char *pod_uid,
		    const char *node, score_error *err);

#endif
