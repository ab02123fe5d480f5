/* Pod bindings through the API server; see binder.h. */
#include "informer/binder.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#define COMPONENT "informer"

struct inf_binder {
	inf_binder_config config;
	GMutex mutex;
	GCond done;          /* signalled when a binding leaves `in_flight` */
	GHashTable *in_flight; /* pod uids being bound */
};

int inf_binder_new(const inf_binder_config *config, inf_binder **out,
		   score_error *err)
{
	inf_binder *binder;

	*out = NULL;
	if (config->client == NULL)
		return score_fail(err, -EINVAL, "a binder needs an API client");
	if (config->model != NULL && config->lock == NULL)
		return score_fail(err, -EINVAL,
				  "a binder that assumes pods in a model needs the model's lock");
	binder = g_new0(inf_binder, 1);
	binder->config = *config;
	if (binder->config.deadline_ms <= 0)
		binder->config.deadline_ms = INF_BIND_DEFAULT_DEADLINE_MS;
	if (binder->config.attempt_timeout_ms <= 0)
		binder->config.attempt_timeout_ms = INF_BIND_DEFAULT_ATTEMPT_TIMEOUT_MS;
	if (binder->config.backoff_initial_ms <= 0)
		binder->config.backoff_initial_ms = INF_BIND_DEFAULT_BACKOFF_INITIAL_MS;
	if (binder->config.backoff_max_ms <= 0)
		binder->config.backoff_max_ms = INF_BIND_DEFAULT_BACKOFF_MAX_MS;
	g_mutex_init(&binder->mutex);
	g_cond_init(&binder->done);
	binder->in_flight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						  NULL);
	*out = binder;
	return 0;
}

void inf_binder_free(inf_binder *binder)
{
	if (binder == NULL)
		return;
	g_hash_table_unref(binder->in_flight);
	g_cond_clear(&binder->done);
	g_mutex_clear(&binder->mutex);
	g_free(binder);
}

/* Waits until no other call binds `uid`, then marks it in flight. */
static int claim(inf_binder *binder, const char *uid, gint64 deadline_us)
{
	int rc = 0;

	g_mutex_lock(&binder->mutex);
	while (g_hash_table_contains(binder->in_flight, uid)) {
		if (!g_cond_wait_until(&binder->done, &binder->mutex, deadline_us)) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (rc == 0)
		g_hash_table_add(binder->in_flight, g_strdup(uid));
	g_mutex_unlock(&binder->mutex);
	return rc;
}

static void release(inf_binder *binder, const char *uid)
{
	g_mutex_lock(&binder->mutex);
	g_hash_table_remove(binder->in_flight, uid);
	g_cond_broadcast(&binder->done);
	g_mutex_unlock(&binder->mutex);
}

static char *binding_body(const char *namespace, const char *name,
			  const char *uid, const char *node)
{
	cJSON *binding = cJSON_CreateObject();
	cJSON *metadata, *target;
	char *text = NULL;

	if (binding == NULL)
		return NULL;
	metadata = cJSON_AddObjectToObject(binding, "metadata");
	target = cJSON_AddObjectToObject(binding, "target");
	if (cJSON_AddStringToObject(binding, "apiVersion", "v1") == NULL ||
	    cJSON_AddStringToObject(binding, "kind", "Binding") == NULL ||
	    metadata == NULL || target == NULL ||
	    cJSON_AddStringToObject(metadata, "name", name) == NULL ||
	    cJSON_AddStringToObject(metadata, "namespace", namespace) == NULL ||
	    cJSON_AddStringToObject(metadata, "uid", uid) == NULL ||
	    cJSON_AddStringToObject(target, "apiVersion", "v1") == NULL ||
	    cJSON_AddStringToObject(target, "kind", "Node") == NULL ||
	    cJSON_AddStringToObject(target, "name", node) == NULL)
		goto out;
	text = cJSON_PrintUnformatted(binding);
out:
	cJSON_Delete(binding);
	return text;
}

/* A binding request and what it learned. */
typedef struct attempt {
	const inf_binder *binder;
	const char *namespace, *name, *uid, *node;
	char *pod_path;     /* /api/v1/namespaces/NS/pods/NAME */
	gint64 deadline_us;
	unsigned attempts;
	bool already_bound; /* a 409 turned out to be our own earlier binding */
} attempt;

static int64_t remaining_ms(const attempt *a)
{
	return (a->deadline_us - g_get_monotonic_time()) / 1000;
}

/* Sends one request, for at most attempt_timeout_ms and never past the
 * deadline, and counts its latency as `verb`. */
static int timed_request(const attempt *a, inf_api_verb verb, const char *method,
			 const char *path, const char *body, inf_response *response,
			 score_error *err)
{
	gint64 started = g_get_monotonic_time();
	int64_t timeout_ms = MIN(remaining_ms(a), a->binder->config.attempt_timeout_ms);
	int rc = inf_client_request(a->binder->config.client, method, path, body,
				    MAX(timeout_ms, 1), response, err);

	if (rc == 0)
		inf_metrics_observe_request(a->binder->config.metrics, verb,
					    (double)(g_get_monotonic_time() - started) / 1e6);
	return rc;
}

/* After a 409: returns true when the pod with our uid is bound to our
 * node, else false with `err` extended by what the pod shows. */
static bool already_bound_here(const attempt *a, score_error *err)
{
	inf_response response;
	score_error get_err = {0};
	cJSON *pod = NULL;
	const cJSON *metadata, *spec, *uid, *node;
	bool bound_here = false;

	if (remaining_ms(a) <= 0)
		return false;
	inf_response_init(&response);
	if (timed_request(a, INF_API_GET, "GET", a->pod_path, NULL, &response,
			  &get_err) < 0 ||
	    response.result != CURLE_OK || response.status != 200)
		goto out;
	pod = cJSON_ParseWithLength(response.body->str, response.body->len);
	metadata = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	uid = cJSON_GetObjectItemCaseSensitive(metadata, "uid");
	node = cJSON_GetObjectItemCaseSensitive(spec, "nodeName");
	if (!cJSON_IsString(uid) || strcmp(uid->valuestring, a->uid) != 0) {
		score_error_prefix(err, "pod %s/%s now has uid %s, not %s",
				   a->namespace, a->name,
				   cJSON_IsString(uid) ? uid->valuestring : "(none)",
				   a->uid);
		goto out;
	}
	bound_here = cJSON_IsString(node) && strcmp(node->valuestring, a->node) == 0;
out:
	cJSON_Delete(pod);
	inf_response_release(&response);
	return bound_here;
}

/* Fills `err` for a 403 with the RBAC rule that binding needs, before the
 * server's message, so a long message cannot cut it. */
static int forbidden_error(const inf_response *response, const char *action,
			   score_error *err)
{
	inf_api_status status;
	bool has_message = inf_api_status_parse(response->body->str,
						 response->body->len, &status) &&
			   status.message[0] != '\0';

	return score_fail(err, -EACCES,
			  "%s failed: HTTP 403 Forbidden; the identity needs an RBAC rule that allows create on pods/binding: apiGroups [\"\"], resources [\"pods/binding\"], verbs [\"create\"] (manifests/10-rbac.yaml grants it)%s%s",
			  action, has_message ? "; the server said: " : "",
			  has_message ? status.message : "");
}

/* Turns the last attempt's error in `err` into the deadline's. */
static int deadline_passed(const attempt *a, score_error *err)
{
	score_error_prefix(err, "timed out after %lld ms (the bind deadline) and %u attempt%s, the last one",
			   (long long)a->binder->config.deadline_ms, a->attempts,
			   a->attempts == 1 ? "" : "s");
	err->code = -ETIMEDOUT;
	return -ETIMEDOUT;
}

/* Fails the bind when the API server's Retry-After ends past the bind
 * deadline. Sleeping would only reach the deadline, and the message names
 * the wait because the last error alone reads like a transient failure. */
static int retry_after_too_long(const attempt *a, int64_t delay_ms,
				score_error *err)
{
	score_error_prefix(err, "gave up after %u attempt%s: the API server asked to retry after %lld s, but only %lld ms of the %lld ms bind deadline were left; the last attempt",
			   a->attempts, a->attempts == 1 ? "" : "s",
			   (long long)(delay_ms / 1000),
			   (long long)(remaining_ms(a) > 0 ? remaining_ms(a) : 0),
			   (long long)a->binder->config.deadline_ms);
	err->code = -ETIMEDOUT;
	return -ETIMEDOUT;
}

/* Sends the binding until it succeeds, fails for good or the deadline
 * passes. */
static int send_binding(attempt *a, const char *body, score_error *err)
{
	char *path = g_strconcat(a->pod_path, "/binding", NULL);
	char *action = g_strdup_printf("binding pod %s/%s (uid %s) to node %s",
				     a->namespace, a->name, a->uid, a->node);
	inf_backoff backoff;
	int rc;

	inf_backoff_init(&backoff, a->binder->config.backoff_initial_ms,
			 a->binder->config.backoff_max_ms);
	for (;;) {
		inf_response response;
		int64_t delay_ms;

		inf_response_init(&response);
		a->attempts++;
		rc = timed_request(a, INF_API_BIND, "POST", path, body, &response, err);
		if (rc == 0 && response.result == CURLE_OK &&
		    (response.status == 201 || response.status == 200)) {
			inf_response_release(&response);
			break;
		}
		if (rc == 0 && response.result == CURLE_OK && response.status == 403)
			rc = forbidden_error(&response, action, err);
		else if (rc == 0)
			rc = inf_response_fail(&response, action, err);
		if (rc == -EEXIST && already_bound_here(a, err)) {
			rc = 0;
			a->already_bound = true;
			inf_response_release(&response);
			break;
		}
		if (!inf_response_retryable(&response)) {
			inf_response_release(&response);
			break;
		}

		delay_ms = response.retry_after_s > 0 ? response.retry_after_s * 1000 :
							inf_backoff_next(&backoff);
		if (delay_ms >= remaining_ms(a)) {
			if (response.retry_after_s > 0)
				rc = retry_after_too_long(a, delay_ms, err);
			else
				rc = deadline_passed(a, err);
			inf_response_release(&response);
			break;
		}
		inf_response_release(&response);
		SCHED_LOG(a->binder->config.log, SCHED_LOG_WARN, COMPONENT,
			  "binding failed, retrying", SCHED_STR("pod", a->name),
			  SCHED_STR("namespace", a->namespace),
			  SCHED_STR("uid", a->uid), SCHED_STR("node", a->node),
			  SCHED_STR("error", err->message),
			  SCHED_INT("delay_ms", delay_ms));
		g_usleep((gulong)delay_ms * 1000);
	}
	g_free(action);
	g_free(path);
	return rc;
}

/* Counts the bound pod on its node at once; the watch confirms it later. */
static void assume(const attempt *a)
{
	score_error err = {0};
	int rc;

	if (a->binder->config.model == NULL)
		return;
	g_rw_lock_writer_lock(a->binder->config.lock);
	rc = score_model_assume(a->binder->config.model, a->uid, a->node,
				g_get_monotonic_time() / 1000, &err);
	g_rw_lock_writer_unlock(a->binder->config.lock);
	/* -ENOENT: the pod watch has not delivered the pod yet; it will
	 * deliver it bound. */
	if (rc < 0 && rc != -ENOENT)
		SCHED_LOG(a->binder->config.log, SCHED_LOG_WARN, COMPONENT,
			  "bound pod could not be assumed in the model",
			  SCHED_STR("pod", a->name), SCHED_STR("uid", a->uid),
			  SCHED_STR("node", a->node), SCHED_STR("error", err.message));
}

static inf_bind_outcome bind_outcome(const attempt *a, int rc)
{
	if (rc == 0)
		return a->already_bound ? INF_BIND_ALREADY_BOUND : INF_BIND_BOUND;
	if (rc == -EEXIST)
		return INF_BIND_CONFLICT;
	if (rc == -ENOENT)
		return INF_BIND_NOT_FOUND;
	return INF_BIND_ERROR;
}

int inf_binder_bind(void *data, const char *pod_namespace,
		    const char *pod_name, const char *pod_uid,
		    const char *node, score_error *err)
{
	inf_binder *binder = data;
	score_error local = {0};
	gint64 started = g_get_monotonic_time();
	attempt a = {0};
	char *body = NULL, *namespace_escaped = NULL, *name_escaped = NULL;
	int rc;

	if (pod_namespace == NULL || pod_namespace[0] == '\0' || pod_name == NULL ||
	    pod_name[0] == '\0' || pod_uid == NULL || pod_uid[0] == '\0' ||
	    node == NULL || node[0] == '\0') {
		inf_metrics_count_bind(binder->config.metrics, INF_BIND_ERROR);
		return score_fail(err, -EINVAL,
				  "binding needs a pod namespace, name and uid and a node, all non-empty");
	}

	if (err == NULL)
		err = &local;
	a.binder = binder;
	a.namespace = pod_namespace;
	a.name = pod_name;
	a.uid = pod_uid;
	a.node = node;
	a.deadline_us = started + binder->config.deadline_ms * 1000;
	if (claim(binder, pod_uid, a.deadline_us) < 0) {
		inf_metrics_count_bind(binder->config.metrics, INF_BIND_ERROR);
		return score_fail(err, -ETIMEDOUT,
				  "binding pod %s/%s to node %s timed out: another binding of the same pod (uid %s) was still in progress after %lld ms",
				  pod_namespace, pod_name, node, pod_uid,
				  (long long)binder->config.deadline_ms);
	}

	body = binding_body(pod_namespace, pod_name, pod_uid, node);
	if (body == NULL) {
		rc = score_fail(err, -ENOMEM, "out of memory building the binding of pod %s/%s",
				pod_namespace, pod_name);
		goto out;
	}
	namespace_escaped = g_uri_escape_string(pod_namespace, NULL, false);
	name_escaped = g_uri_escape_string(pod_name, NULL, false);
	a.pod_path = g_strdup_printf("/api/v1/namespaces/%s/pods/%s",
				     namespace_escaped, name_escaped);

	rc = send_binding(&a, body, err);
	if (rc == 0) {
		assume(&a);
		SCHED_LOG(binder->config.log, SCHED_LOG_INFO, COMPONENT, "pod bound",
			  SCHED_STR("pod", pod_name),
			  SCHED_STR("namespace", pod_namespace),
			  SCHED_STR("uid", pod_uid), SCHED_STR("node", node),
			  SCHED_INT("attempts", a.attempts),
			  SCHED_DOUBLE("duration_ms",
				       (double)(g_get_monotonic_time() - started) / 1000.0));
	} else {
		SCHED_LOG(binder->config.log, SCHED_LOG_WARN, COMPONENT,
			  "binding failed", SCHED_STR("pod", pod_name),
			  SCHED_STR("namespace", pod_namespace),
			  SCHED_STR("uid", pod_uid), SCHED_STR("node", node),
			  SCHED_INT("attempts", a.attempts),
			  SCHED_STR("error", err->message));
	}
out:
	inf_metrics_count_bind(binder->config.metrics, bind_outcome(&a, rc));
	release(binder, pod_uid);
	g_free(a.pod_path);
	g_free(namespace_escaped);
	g_free(name_escaped);
	cJSON_free(body);
	return rc;
}
