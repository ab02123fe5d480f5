/* A reflector keeps one resource (nodes or pods) of the cluster model in
 * step with the API server, as client-go's Reflector does:
 *
 *   1. LIST /api/v1/RESOURCE in pages of page_size (limit/continue), a
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
 *
 * A failed LIST is retried the same way. An object that fails to decode is
 * logged and skipped; the model keeps its previous version, if any.
 *
 * The model is keyed as inf_decode_pod() and inf_decode_node() key it:
 * pods by metadata.uid (namespace/name without one), nodes by name. A
 * reflector removes only objects it put there itself.
 *
 * Threads: each reflector runs its own thread. The functions here may be
 * called from any thread.
 */
#ifndef STOWAGE_INF_REFLECTOR_H
#define STOWAGE_INF_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "informer/client.h"
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

typedef enum inf_resource {
	INF_RESOURCE_NODES = 0,
	INF_RESOURCE_PODS,
	INF_RESOURCE_COUNT,
} inf_resource;

/* Returns "nodes" or "pods". */
const char *inf_resource_name(inf_resource resource);

typedef struct inf_reflector_config {
	inf_resource resource;
	const inf_client *client; /* borrowed */
	score_model *model;       /* borrowed */
	GRWLock *lock;            /* borrowed: guards `model` */
	sched_log *log;           /* borrowed, may be NULL */
	/* Zero selects the INF_DEFAULT_* value of the same name. */
	unsigned page_size;
	unsigned watch_timeout_s;
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	int64_t request_timeout_ms;
} inf_reflector_config;

/* Counters for logs, metrics and tests. */
typedef struct inf_reflector_stats {
	uint64_t lists;        /* completed LISTs, the first one included */
	uint64_t relists;      /* LISTs after a 410 */
	uint64_t watches;      /* watch requests sent */
	uint64_t watch_failures;
	uint64_t events;       /* ADDED, MODIFIED and DELETED events applied */
	uint64_t decode_failures;
	uint64_t objects;      /* objects this reflector has in the model */
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

#endif
