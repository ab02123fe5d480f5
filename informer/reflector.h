/* A reflector keeps one resource of the cluster in step with the API
 * server, as client-go's Reflector does. Nodes, pods, namespaces,
 * NetworkPolicies (decoded by network_policy.h) and Services go into the
 * cluster model.
 *
 *   1. LIST the resource (/api/v1/nodes, /api/v1/pods, /api/v1/namespaces,
 *      /apis/networking.k8s.io/v1/networkpolicies, /api/v1/services) in
 *      pages of page_size (limit/continue), a
 *      consistent read of the latest state. A continue token that expires
 *      mid-list (410) restarts the list.
 *   2. Replace: under the model's write lock, put every listed object and
 *      remove the objects this reflector put earlier that the list no
 *      longer has.
 *   3. WATCH from the list's resourceVersion with allowWatchBookmarks and a
 *      timeoutSeconds drawn from [watch_timeout_s, 2 * watch_timeout_s).
 *      Events are applied under the write lock as they arrive; BOOKMARK
 *      events only advance the resourceVersion.
 *   4. When the watch ends normally, watch again from the last
 *      resourceVersion. When it fails (connection error, cut mid-event,
 *      HTTP error, ERROR event), log it and watch again after a backoff, or
 *      after Retry-After when the server sent one. When the server says the
 *      resourceVersion is too old (410 Gone/Expired, as an HTTP status or an
 *      ERROR event), list again (step 1).
 *   5. A watch line that is not JSON, not an event object, an event of an
 *      unknown type, or longer than max_event_bytes ends the watch: it is
 *      logged with a short excerpt, counted (inf_invalid_reason), and the
 *      reflector lists again after a backoff step, since the events after
 *      it in the same stream cannot be trusted.
 *
 * A failed LIST is retried the same way. A list page longer than
 * max_list_page_bytes is requested again with half the page size, down to
 * one object; a single object over the limit fails the LIST. An object
 * that fails to decode is logged and skipped; the model keeps its previous
 * version, if any. A 403 names the RBAC rule the identity lacks.
 *
 * The model is keyed as inf_decode_pod() and inf_decode_node() key it:
 * pods by metadata.uid (namespace/name without one), nodes and namespaces
 * by name, NetworkPolicies and Services by namespace/name. A reflector
 * removes only objects it put there itself.
 *
 * Threads: each reflector runs its own thread. The functions here may be
 * called from any thread.
 */
#ifndef STOWAGE_INF_REFLECTOR_H
#define STOWAGE_INF_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "informer/client.h"
#include "informer/metrics.h"
#include "informer/network_policy.h"
#include "scheduler/log.h"
#include "scoring/error.h"
#include "scoring/model.h"

/* client-go's pager default page size. */
#define INF_DEFAULT_PAGE_SIZE 500
/* client-go's minimum watch timeout (5 minutes). */
#define INF_DEFAULT_WATCH_TIMEOUT_S 300
/* client-go's reflector backoff: 800 ms doubling to 30 s. */
#define INF_DEFAULT_BACKOFF_INITIAL_MS 800
#define INF_DEFAULT_BACKOFF_MAX_MS 30000
/* kube-apiserver ends non-watch requests after 60 s (--request-timeout);
 * a list page taking longer has failed. */
#define INF_DEFAULT_REQUEST_TIMEOUT_MS 60000
/* etcd stores objects up to 1.5 MiB by default (--max-request-bytes) and
 * kube-apiserver rejects requests over 3 MiB, so a watch event of 16 MiB
 * leaves room for clusters that raised both. A longer line is rejected
 * without buffering more of it. */
#define INF_DEFAULT_MAX_EVENT_BYTES ((size_t)16 * 1024 * 1024)
/* A page of 500 objects of 128 KiB each, where real pods and nodes
 * typically take a few KiB. A longer page is fetched again in smaller
 * pages. */
#define INF_DEFAULT_MAX_LIST_PAGE_BYTES ((size_t)64 * 1024 * 1024)

typedef enum inf_resource {
	INF_RESOURCE_NODES = 0,
	INF_RESOURCE_PODS,
	INF_RESOURCE_NAMESPACES,
	INF_RESOURCE_NETWORK_POLICIES,
	INF_RESOURCE_SERVICES,
	INF_RESOURCE_COUNT,
} inf_resource;

/* Returns "nodes", "pods", "namespaces", "networkpolicies" or
 * "services". */
const char *inf_resource_name(inf_resource resource);

/* Watch event types, in the order of inf_reflector_stats.events_by_type. */
typedef enum inf_event_type {
	INF_EVENT_ADDED = 0,
	INF_EVENT_MODIFIED,
	INF_EVENT_DELETED,
	INF_EVENT_BOOKMARK,
	INF_EVENT_TYPE_COUNT,
} inf_event_type;

typedef struct inf_reflector_config {
	inf_resource resource;
	const inf_client *client; /* borrowed */
	score_model *model;       /* borrowed */
	GRWLock *lock;            /* borrowed: guards `model` */
	sched_log *log;           /* borrowed, may be NULL */
	inf_metrics *metrics;     /* borrowed, may be NULL */
	/* Zero selects the INF_DEFAULT_* value of the same name. */
	unsigned page_size;
	unsigned watch_timeout_s;
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	int64_t request_timeout_ms; /* bounds each LIST page */
	size_t max_event_bytes;     /* one watch event line */
	size_t max_list_page_bytes; /* one LIST response body, decompressed */
} inf_reflector_config;

/* Counters for logs, metrics and tests. */
typedef struct inf_reflector_stats {
	uint64_t lists;        /* completed LISTs, the first one included */
	/* LISTs started after a 410, or after an invalid or oversized watch
	 * line. */
	uint64_t relists;
	uint64_t watches;      /* watch requests sent */
	uint64_t watch_failures;
	uint64_t watch_restarts; /* watches after the first one of a LIST */
	uint64_t events;       /* ADDED, MODIFIED and DELETED events applied */
	/* Applied (ADDED, MODIFIED, DELETED) or received (BOOKMARK). */
	uint64_t events_by_type[INF_EVENT_TYPE_COUNT];
	uint64_t decode_failures;
	/* Watch lines and list pages rejected, by inf_invalid_reason. */
	uint64_t invalid_responses[INF_INVALID_REASON_COUNT];
	uint64_t objects;      /* objects this reflector has in the model */
	bool synced;
	/* Monotonic microseconds (g_get_monotonic_time()) of the last ADDED,
	 * MODIFIED or DELETED event, and of the last moment the reflector
	 * knew it was current: a LIST done, any watch event, a watch the
	 * server ended. Both start at the reflector's start. */
	int64_t last_event_us;
	int64_t last_sync_us;
	char resource_version[32]; /* last one seen, "" before the first list */
} inf_reflector_stats;

typedef struct inf_reflector inf_reflector;

/* Starts the reflector's thread. The borrowed pointers in `config` must
 * outlive the reflector. The caller stops and frees it with
 * inf_reflector_free(). */
int inf_reflector_start(const inf_reflector_config *config,
			inf_reflector **out, score_error *err);

/* Returns true once the first LIST has been applied to the model. */
bool inf_reflector_synced(inf_reflector *reflector);

void inf_reflector_get_stats(inf_reflector *reflector,
			     inf_reflector_stats *stats);

/* Copies the most recent LIST or WATCH failure into `err` and returns
 * true, or returns false when the last attempt succeeded. */
bool inf_reflector_last_error(inf_reflector *reflector, score_error *err);

/* Stops the thread, interrupting a transfer in progress, and frees the
 * reflector. The objects it put stay in the model. NULL is ignored. */
void inf_reflector_free(inf_reflector *reflector);

/* Counters of one inf_reflector_replay_watch() call. */
typedef struct inf_watch_replay {
	uint64_t events;      /* ADDED, MODIFIED, DELETED and BOOKMARK events */
	uint64_t objects;     /* keys the replaying reflector put in the model */
	bool error_event;     /* the stream stopped at an ERROR event */
	/* It stopped at an invalid line (not JSON, not an event, an unknown
	 * type) or at one longer than INF_DEFAULT_MAX_EVENT_BYTES. */
	bool broken;
	bool too_large;       /* the line it stopped at was too long */
	size_t pending_bytes; /* bytes after the last newline, not decoded */
	size_t consumed;      /* bytes accepted before the stream stopped */
	char resource_version[32]; /* the last one applied, "" for none */
} inf_watch_replay;

/* Feeds `length` bytes of a watch response body (status 200) to the line
 * splitter and event decoder that a running reflector of `resource` uses,
 * in pieces of at most `chunk` bytes (0: all at once) as libcurl would
 * deliver them, and applies the events to `model` under `lock`. Lines are
 * limited to INF_DEFAULT_MAX_EVENT_BYTES. No thread
 * or connection is involved: this is for tests and fuzzing. Objects put
 * into `model` stay there. Fails only for invalid arguments. */
int inf_reflector_replay_watch(inf_resource resource, score_model *model,
			       GRWLock *lock, const char *data, size_t length,
			       size_t chunk, inf_watch_replay *out,
			       score_error *err);

#endif
