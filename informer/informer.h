/* The informer: stowage's connection to a live API server, behind one
 * handle. It keeps the cluster model current with a reflector per resource
 * (see reflector.h): nodes, pods, namespaces, NetworkPolicies and
 * Services. It also binds pods (see binder.h).
 *
 * Wiring for `stowage serve --kubeconfig FILE`:
 *
 *     inf_kubeconfig_options options;
 *     inf_rest_config *rest;
 *     inf_kubeconfig_options_from_env(&options);
 *     options.kubeconfig = path;                 // NULL to search
 *     inf_rest_config_load(&options, &rest, &err);
 *     inf_informer_config config = {.rest = rest, .model = cluster.model,
 *                                   .lock = &cluster.lock, .log = log};
 *     inf_informer_start(&config, &informer, &err);
 *     extender.bind = inf_informer_bind;         // a sched_bind_fn
 *     extender.bind_data = informer;
 *     sched_metrics_add_collector(metrics, inf_informer_render_metrics,
 *                                 informer);     // its families on /metrics
 *     inf_informer_wait_synced(informer, timeout_ms, &err);
 *     sched_server_set_ready(server, true);
 *
 * Readiness waits for all five resources, so the service account needs
 * list and watch on networkpolicies and services too
 * (manifests/10-rbac.yaml).
 *
 * Threads: the functions may be called from any thread; inf_informer_free()
 * once nothing else uses the informer.
 */
#ifndef STOWAGE_INF_INFORMER_H
#define STOWAGE_INF_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "informer/kubeconfig.h"
#include "informer/metrics.h"
#include "informer/network_policy.h"
#include "informer/reflector.h"
#include "scheduler/log.h"
#include "scoring/error.h"
#include "scoring/model.h"

typedef struct inf_informer_config {
	const inf_rest_config *rest; /* copied */
	score_model *model;          /* borrowed */
	GRWLock *lock;               /* borrowed: guards `model` */
	sched_log *log;              /* borrowed, may be NULL */
	/* Tuning for tests and large clusters; zero selects the defaults in
	 * reflector.h and binder.h. */
	unsigned page_size;
	unsigned watch_timeout_s;
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	int64_t request_timeout_ms;
	size_t max_event_bytes;
	size_t max_list_page_bytes;
	int64_t bind_deadline_ms;
} inf_informer_config;

typedef struct inf_informer inf_informer;

/* Starts the reflectors; they list and watch in the background. Returns an
 * error only for a configuration that cannot work (no server URL); an
 * unreachable server is retried and reported by inf_informer_wait_synced().
 * The caller stops and frees the informer with inf_informer_free(). */
int inf_informer_start(const inf_informer_config *config, inf_informer **out,
		       score_error *err);

/* Returns true once every reflector has applied its first LIST. */
bool inf_informer_synced(inf_informer *informer);

/* Waits up to `timeout_ms` for inf_informer_synced(). On timeout returns
 * -ETIMEDOUT with each unsynced resource's last error in `err` (a 401
 * names the credentials, a connection failure the server). */
int inf_informer_wait_synced(inf_informer *informer, int64_t timeout_ms,
			     score_error *err);

/* Returns the reflector of `resource`, for its stats. Borrowed. */
inf_reflector *inf_informer_reflector(inf_informer *informer,
				      inf_resource resource);

/* Returns the informer's request and bind counters. Borrowed. */
inf_metrics *inf_informer_metrics(inf_informer *informer);

/* Appends the informer's metric families (informer/metrics.h) to `out`.
 * `informer` is an inf_informer *; the signature is
 * sched_metrics_collector_fn's, for sched_metrics_add_collector(). */
void inf_informer_render_metrics(void *informer, GString *out);

/* Binds a pod; see inf_binder_bind(). `informer` is an inf_informer *, so
 * this is a sched_bind_fn for sched_extender.bind. */
int inf_informer_bind(void *informer, const char *pod_namespace,
		      const char *pod_name, const char *pod_uid,
		      const char *node, score_error *err);

/* Stops the reflectors and frees the informer. NULL is ignored. */
void inf_informer_free(inf_informer *informer);

#endif
