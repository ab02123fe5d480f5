/* Reflectors and binder behind one handle; see informer.h. */
#include "informer/informer.h"

#include <errno.h>
#include <string.h>

#include "informer/binder.h"
#include "informer/client.h"

/* inf_metrics_resource.events is indexed by inf_event_type. */
G_STATIC_ASSERT(G_N_ELEMENTS(((inf_metrics_resource *)NULL)->events) ==
		INF_EVENT_TYPE_COUNT);

/* How often inf_informer_wait_synced() checks the reflectors. */
#define SYNC_POLL_US (20 * 1000)

struct inf_informer {
	inf_client *client;
	inf_reflector *reflectors[INF_RESOURCE_COUNT];
	inf_binder *binder;
	inf_metrics *metrics;
	sched_log *log;
};

int inf_informer_start(const inf_informer_config *config, inf_informer **out,
		       score_error *err)
{
	inf_informer *informer = g_new0(inf_informer, 1);
	inf_binder_config binder_config = {0};
	int rc;

	*out = NULL;
	informer->log = config->log;
	informer->metrics = inf_metrics_new();
	rc = inf_client_new(config->rest, &informer->client, err);
	if (rc < 0)
		goto fail;
	inf_client_set_observers(informer->client, config->log, informer->metrics);

	binder_config.client = informer->client;
	binder_config.model = config->model;
	binder_config.lock = config->lock;
	binder_config.log = config->log;
	binder_config.metrics = informer->metrics;
	binder_config.deadline_ms = config->bind_deadline_ms;
	rc = inf_binder_new(&binder_config, &informer->binder, err);
	if (rc < 0)
		goto fail;

	for (int i = 0; i < INF_RESOURCE_COUNT; i++) {
		inf_reflector_config rc_config = {
			.resource = (inf_resource)i,
			.client = informer->client,
			.model = config->model,
			.lock = config->lock,
			.log = config->log,
			.metrics = informer->metrics,
			.page_size = config->page_size,
			.watch_timeout_s = config->watch_timeout_s,
			.backoff_initial_ms = config->backoff_initial_ms,
			.backoff_max_ms = config->backoff_max_ms,
			.request_timeout_ms = config->request_timeout_ms,
			.max_event_bytes = config->max_event_bytes,
			.max_list_page_bytes = config->max_list_page_bytes,
		};

		rc = inf_reflector_start(&rc_config, &informer->reflectors[i], err);
		if (rc < 0)
			goto fail;
	}
	SCHED_LOG(config->log, SCHED_LOG_INFO, "informer", "informer started",
		  SCHED_STR("server", inf_client_server(informer->client)),
		  SCHED_STR("source", inf_client_source(informer->client)));
	*out = informer;
	return 0;
fail:
	inf_informer_free(informer);
	return rc;
}

bool inf_informer_synced(inf_informer *informer)
{
	for (int i = 0; i < INF_RESOURCE_COUNT; i++)
		if (!inf_reflector_synced(informer->reflectors[i]))
			return false;
	return true;
}

int inf_informer_wait_synced(inf_informer *informer, int64_t timeout_ms,
			     score_error *err)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;
	GString *reasons;

	while (!inf_informer_synced(informer)) {
		if (g_get_monotonic_time() >= deadline)
			goto timed_out;
		g_usleep(SYNC_POLL_US);
	}
	return 0;

timed_out:
	reasons = g_string_new(NULL);
	for (int i = 0; i < INF_RESOURCE_COUNT; i++) {
		score_error last = {0};

		if (inf_reflector_synced(informer->reflectors[i]))
			continue;
		g_string_append_printf(reasons, "%s%s: ", reasons->len > 0 ? "; " : "",
				       inf_resource_name((inf_resource)i));
		if (inf_reflector_last_error(informer->reflectors[i], &last))
			g_string_append(reasons, last.message);
		else
			g_string_append(reasons, "the first list has not finished");
	}
	/* A zero timeout is a status check, so no duration is claimed. */
	if (timeout_ms <= 0)
		score_fail(err, -ETIMEDOUT, "the cluster model has not synced from %s yet: %s",
			   inf_client_server(informer->client), reasons->str);
	else
		score_fail(err, -ETIMEDOUT,
			   "the cluster model did not sync from %s within %lld ms: %s",
			   inf_client_server(informer->client), (long long)timeout_ms,
			   reasons->str);
	g_string_free(reasons, true);
	return -ETIMEDOUT;
}

inf_reflector *inf_informer_reflector(inf_informer *informer,
				      inf_resource resource)
{
	return resource < INF_RESOURCE_COUNT ? informer->reflectors[resource] : NULL;
}

inf_metrics *inf_informer_metrics(inf_informer *informer)
{
	return informer->metrics;
}

void inf_informer_render_metrics(void *data, GString *out)
{
	inf_informer *informer = data;
	inf_metrics_resource resources[INF_RESOURCE_COUNT];
	gint64 now = g_get_monotonic_time();

	for (int i = 0; i < INF_RESOURCE_COUNT; i++) {
		inf_reflector_stats stats;
		inf_metrics_resource *m = &resources[i];

		inf_reflector_get_stats(informer->reflectors[i], &stats);
		memset(m, 0, sizeof(*m));
		m->name = inf_resource_name((inf_resource)i);
		m->synced = stats.synced;
		m->lists = stats.lists;
		m->relists = stats.relists;
		m->watch_restarts = stats.watch_restarts;
		m->watch_failures = stats.watch_failures;
		m->decode_failures = stats.decode_failures;
		m->objects = stats.objects;
		for (int t = 0; t < INF_EVENT_TYPE_COUNT; t++)
			m->events[t] = stats.events_by_type[t];
		for (int reason = 0; reason < INF_INVALID_REASON_COUNT; reason++)
			m->invalid[reason] = stats.invalid_responses[reason];
		m->seconds_since_event = (double)(now - stats.last_event_us) / 1e6;
		m->seconds_since_sync = (double)(now - stats.last_sync_us) / 1e6;
	}
	inf_metrics_render(informer->metrics, resources, INF_RESOURCE_COUNT, out);
}

int inf_informer_bind(void *data, const char *pod_namespace,
		      const char *pod_name, const char *pod_uid,
		      const char *node, score_error *err)
{
	inf_informer *informer = data;

	return inf_binder_bind(informer->binder, pod_namespace, pod_name, pod_uid,
			       node, err);
}

void inf_informer_free(inf_informer *informer)
{
	if (informer == NULL)
		return;
	for (int i = 0; i < INF_RESOURCE_COUNT; i++)
		inf_reflector_free(informer->reflectors[i]);
	inf_binder_free(informer->binder);
	inf_client_free(informer->client);
	inf_metrics_free(informer->metrics);
	g_free(informer);
}
