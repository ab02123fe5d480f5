/* Prometheus metrics of the extender service, served on GET /metrics in the
 * text exposition format 0.0.4.
 *
 * Series:
 *   stowage_extender_requests_total{verb,code}          counter
 *   stowage_extender_request_duration_seconds{verb}     histogram
 *   stowage_extender_errors_total{verb,kind}            counter
 *   stowage_model_nodes, stowage_model_pods             gauges
 *   stowage_build_info{version}                         gauge, always 1
 *   stowage_policy_reloads_total{result}                counter, with --policy
 *   stowage_policy_info{name,digest}                    gauge, with --policy
 *   process_start_time_seconds                          gauge
 *
 * Collectors (sched_metrics_add_collector()) append the families of other
 * modules, such as the informer's.
 *
 * Threads: sched_metrics_observe() and sched_metrics_count_error() may run
 * on any number of threads at once. They only add to relaxed atomic
 * counters and take no lock. sched_metrics_render() reads each counter once
 * while requests go on. A scrape may therefore count a request in the
 * histogram before its duration reaches the sum, and the next scrape
 * catches up.
 */
#ifndef STOWAGE_SCHED_METRICS_H
#define STOWAGE_SCHED_METRICS_H

#include "scheduler/extender.h"

/* The version reported by `stowage version` and stowage_build_info. A build
 * may set it with -DSTOWAGE_VERSION='"1.2.3"'. */
#ifndef STOWAGE_VERSION
#define STOWAGE_VERSION "0.1.0-dev"
#endif

/* The Content-Type of sched_metrics_render()'s output. */
#define SCHED_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct sched_metrics sched_metrics;

/* Returns zeroed counters; process_start_time_seconds reports the time of
 * this call, so call it once at startup. The caller frees the metrics with
 * sched_metrics_free(). */
sched_metrics *sched_metrics_new(void);
void sched_metrics_free(sched_metrics *metrics);

/* Counts one finished request on `verb` with its HTTP status (100..599)
 * and its duration in seconds, from the first byte handled to the response
 * queued. */
void sched_metrics_observe(sched_metrics *metrics, sched_verb verb,
			   unsigned http_status, double seconds);

/* Counts one failed request on `verb`. `kind` is one of the error kinds of
 * sched_extender_response ("malformed_json", "invalid_request", "bind") or
 * of the HTTP layer ("body_too_large", "method_not_allowed", "internal");
 * other kinds count as "other". A NULL `kind` counts nothing. */
void sched_metrics_count_error(sched_metrics *metrics, sched_verb verb,
			       const char *kind);

/* Returns the exposition text. The model gauges are read under the
 * cluster's read lock; `cluster` may be NULL, which leaves them out. The
 * collectors' families follow the built-in ones. The caller frees the text
 * with g_free(). */
char *sched_metrics_render(const sched_metrics *metrics,
			   sched_cluster *cluster);

/* Appends whole metric families (# HELP, # TYPE and samples, names unique
 * across collectors) to the exposition text. Runs on the thread that
 * serves GET /metrics, without the cluster lock. */
typedef void (*sched_metrics_collector_fn)(void *data, GString *out);

/* Adds a collector that sched_metrics_render() calls, in the order added,
 * e.g. inf_informer_render_metrics with the informer. `data` is borrowed:
 * remove the collector, or stop serving /metrics, before freeing it. Safe
 * while a scrape runs. */
void sched_metrics_add_collector(sched_metrics *metrics,
				 sched_metrics_collector_fn fn, void *data);

/* Removes the collector added with the same `fn` and `data`; waits for a
 * scrape that is calling it to finish. Returns false when there was none. */
bool sched_metrics_remove_collector(sched_metrics *metrics,
				    sched_metrics_collector_fn fn, void *data);

/* A sched_metrics_collector_fn for the policy file's loader (`data`, a
 * pol_loader): stowage_policy_reloads_total{result} from
 * pol_loader_reloads(), and stowage_policy_info{name,digest} 1 once a
 * policy is loaded. */
void sched_metrics_render_policy(void *data, GString *out);

#endif
