/* Prometheus metrics of the informer: API request latency by verb, bind
 * outcomes, credential plugin runs, and the reflectors' counters, rendered
 * in the text exposition format 0.0.4 for scheduler/metrics.c to append to
 * GET /metrics (see inf_informer_render_metrics()).
 *
 * Families:
 *   stowage_informer_api_request_duration_seconds{verb}  histogram
 *       verb list: one LIST page, whole response; watch: until the
 *       response headers arrived (a watch then stays open for minutes);
 *       get: a single object; bind: one binding POST, retries counted
 *       apart. Requests that got no response count too.
 *   stowage_informer_binds_total{outcome}  counter, one per bind call:
 *       bound, already_bound (409, then the pod was found on the requested
 *       node), conflict, not_found, error
 *   stowage_informer_exec_plugin_runs_total{result}  counter: ok, error
 *   per resource (nodes, pods, namespaces, networkpolicies):
 *   stowage_informer_lists_total, _relists_total, _watch_restarts_total,
 *   _watch_failures_total, _decode_failures_total  counters
 *   stowage_informer_events_total{resource,type}  counter: ADDED,
 *       MODIFIED, DELETED applied, BOOKMARK received
 *   stowage_informer_invalid_responses_total{resource,reason}  counter:
 *       watch lines and list pages rejected, by inf_invalid_reason
 *   stowage_informer_objects{resource}, _synced{resource}  gauges
 *   stowage_informer_seconds_since_last_event{resource}  gauge: since the
 *       last ADDED, MODIFIED or DELETED event, or since the start
 *   stowage_informer_seconds_since_last_sync{resource}  gauge: since the
 *       reflector last knew it was current (a LIST done, any watch event,
 *       a watch ended by the server), or since the start
 *
 * Threads: the counting functions may run on any number of threads at
 * once; they add to relaxed atomics and take no lock. A NULL `metrics` is
 * ignored, so components may run without metrics.
 */
#ifndef STOWAGE_INF_METRICS_H
#define STOWAGE_INF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef enum inf_api_verb {
	INF_API_LIST = 0,
	INF_API_WATCH,
	INF_API_GET,
	INF_API_BIND,
	INF_API_VERB_COUNT,
} inf_api_verb;

typedef enum inf_bind_outcome {
	INF_BIND_BOUND = 0,
	INF_BIND_ALREADY_BOUND,
	INF_BIND_CONFLICT,
	INF_BIND_NOT_FOUND,
	INF_BIND_ERROR,
	INF_BIND_OUTCOME_COUNT,
} inf_bind_outcome;

/* Why a reflector rejected a watch line or a list page. Each rejection
 * is followed by a relist (watch) or a retry (list). */
typedef enum inf_invalid_reason {
	INF_INVALID_NOT_JSON = 0,   /* a watch line or list page is not JSON */
	INF_INVALID_NOT_EVENT,      /* JSON without a string type and an object */
	INF_INVALID_UNKNOWN_TYPE,   /* an event type the reflector does not know */
	INF_INVALID_NOT_LIST,       /* a list page without an items array */
	INF_INVALID_TOO_LARGE,      /* over max_event_bytes or max_list_page_bytes */
	INF_INVALID_REASON_COUNT,
} inf_invalid_reason;

/* Returns "list", "watch", "get", "bind" / "bound", "already_bound", ...
 * / "not_json", "not_an_event", "unknown_type", "not_a_list",
 * "too_large". */
const char *inf_api_verb_name(inf_api_verb verb);
const char *inf_bind_outcome_name(inf_bind_outcome outcome);
const char *inf_invalid_reason_name(inf_invalid_reason reason);

typedef struct inf_metrics inf_metrics;

/* The caller frees the metrics with inf_metrics_free(). */
inf_metrics *inf_metrics_new(void);
void inf_metrics_free(inf_metrics *metrics);

/* Counts one API request of `verb` that took `seconds`. */
void inf_metrics_observe_request(inf_metrics *metrics, inf_api_verb verb,
				 double seconds);
void inf_metrics_count_bind(inf_metrics *metrics, inf_bind_outcome outcome);
void inf_metrics_count_exec_run(inf_metrics *metrics, bool ok);

/* Returns the number of bind calls with `outcome` so far, for tests. */
uint64_t inf_metrics_binds(const inf_metrics *metrics, inf_bind_outcome outcome);

/* One reflector's figures for rendering. */
typedef struct inf_metrics_resource {
	const char *name; /* "nodes", ... */
	bool synced;
	uint64_t lists, relists, watch_restarts, watch_failures;
	uint64_t decode_failures, objects;
	uint64_t events[4]; /* ADDED, MODIFIED, DELETED, BOOKMARK */
	uint64_t invalid[INF_INVALID_REASON_COUNT]; /* by inf_invalid_reason */
	double seconds_since_event;
	double seconds_since_sync;
} inf_metrics_resource;

/* Appends every family above to `out`; `metrics` may be NULL, which
 * leaves out the request, bind and plugin families. */
void inf_metrics_render(const inf_metrics *metrics,
			const inf_metrics_resource *resources,
			size_t n_resources, GString *out);

#endif
