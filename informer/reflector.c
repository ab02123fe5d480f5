/* List and watch of one resource into the cluster model; see reflector.h.
 *
 * The thread runs transfers through its own curl multi handle, so that
 * inf_reflector_free() can interrupt a watch that is waiting for events
 * with curl_multi_wakeup() instead of waiting for it to end.
 */
#include "informer/reflector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "informer/decode.h"

#define COMPONENT "informer"

/* The body of a failed request is kept for its Status message only. */
#define MAX_ERROR_BODY_BYTES (64 * 1024)
/* A watch that ends sooner than this without an event counts as a failure,
 * as in client-go, so a server that closes every watch at once gets
 * backoff instead of a request loop. */
#define SHORT_WATCH_US G_USEC_PER_SEC
/* A list whose continue token expired restarts at most this many times in
 * a row before the attempt counts as failed and backs off. */
#define MAX_LIST_RESTARTS 3
/* The client gives up on a watch this long after its timeoutSeconds, in
 * case the server never ends it. */
#define WATCH_GRACE_S 60
/* Bytes of a rejected watch line or list page quoted in logs. */
#define EXCERPT_BYTES 64

/* How often the same ignored value of the same object is logged again. */
#define OBJECT_WARNING_INTERVAL_MS (10 * 60 * 1000)

/* ---- Resource operations ------------------------------------------------- */

typedef struct resource_ops {
	const char *name;
	const char *path; /* the collection's URL path */
	const char *api_group; /* for RBAC rules: "" is the core group */
	/* True when put and remove change the cluster model, so they run
	 * under its write lock. */
	bool in_model;
	/* Returns the store key of a raw object, or NULL; caller frees. */
	char *(*key)(const cJSON *object);
	/* Decodes into `*out` and `*key` (the key the model uses). */
	int (*decode)(const cJSON *object, score_resource_table *resources,
		      void **out, char **key, score_error *err);
	void (*put)(inf_reflector *r, void *object);
	void (*remove)(inf_reflector *r, const char *key);
	void (*free)(void *object);
	/* Optional: decodes like `decode` and appends the values it ignored
	 * to `warnings` (char *), which the reflector logs. */
	int (*decode_with_warnings)(const cJSON *object,
				    score_resource_table *resources, void **out,
				    char **key, GPtrArray *warnings,
				    score_error *err);
	/* Optional: records in the model that the object with `key` could
	 * not be decoded, under the write lock. */
	void (*reject)(inf_reflector *r, const char *key, const char *problem);
} resource_ops;

static const char *metadata_string(const cJSON *object, const char *key)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(metadata, key);

	return cJSON_IsString(item) && item->valuestring[0] != '\0' ?
		       item->valuestring : NULL;
}

static char *name_key(const cJSON *object)
{
	return g_strdup(metadata_string(object, "name"));
}

static char *namespaced_key(const cJSON *object)
{
	const char *name = metadata_string(object, "name");
	const char *namespace = metadata_string(object, "namespace");

	if (name == NULL)
		return NULL;
	return g_strdup_printf("%s/%s", namespace != NULL ? namespace : "default",
			       name);
}

/* The rule of inf_decode_pod(): the uid, else "namespace/name". */
static char *pod_key(const cJSON *object)
{
	const char *uid = metadata_string(object, "uid");

	if (uid != NULL)
		return g_strdup(uid);
	return namespaced_key(object);
}

static int decode_node(const cJSON *object, score_resource_table *resources,
		       void **out, char **key, score_error *err)
{
	score_node *node = NULL;
	int rc = inf_decode_node(object, resources, &node, err);

	if (rc < 0)
		return rc;
	*key = g_strdup(node->name);
	*out = node;
	return 0;
}

static int decode_pod_with_warnings(const cJSON *object,
				    score_resource_table *resources,
				    void **out, char **key,
				    GPtrArray *warnings, score_error *err)
{
	score_pod *pod = NULL;
	int rc = inf_decode_pod_with_warnings(object, resources, &pod,
					      warnings, err);

	if (rc < 0)
		return rc;
	*key = g_strdup(pod->uid);
	*out = pod;
	return 0;
}

static int decode_pod(const cJSON *object, score_resource_table *resources,
		      void **out, char **key, score_error *err)
{
	return decode_pod_with_warnings(object, resources, out, key, NULL, err);
}

/* A decoded namespace: the model stores only its labels. */
typedef struct namespace_object {
	const char *name; /* interned */
	score_labels labels;
} namespace_object;

static int decode_namespace(const cJSON *object, score_resource_table *resources,
			    void **out, char **key, score_error *err)
{
	namespace_object *ns = g_new0(namespace_object, 1);
	int rc = inf_decode_namespace(object, &ns->name, &ns->labels, err);

	(void)resources;
	if (rc < 0) {
		g_free(ns);
		return rc;
	}
	*key = g_strdup(ns->name);
	*out = ns;
	return 0;
}

static int decode_network_policy(const cJSON *object,
				 score_resource_table *resources, void **out,
				 char **key, score_error *err)
{
	score_network_policy *policy = NULL;
	int rc = inf_network_policy_decode(object, &policy, err);

	(void)resources;
	if (rc < 0)
		return rc;
	*key = g_strdup(policy->key);
	*out = policy;
	return 0;
}

static score_model *model_of(const inf_reflector *r);

static void put_node(inf_reflector *r, void *object)
{
	score_model_put_node(model_of(r), object);
}

static void put_pod(inf_reflector *r, void *object)
{
	score_model_put_pod(model_of(r), object);
}

static void put_namespace(inf_reflector *r, void *object)
{
	namespace_object *ns = object;

	/* The model copies the labels; the object is freed as usual. */
	score_model_put_namespace(model_of(r), ns->name, &ns->labels);
}

static void put_network_policy(inf_reflector *r, void *object)
{
	score_model_put_network_policy(model_of(r), object);
}

static void remove_node(inf_reflector *r, const char *key)
{
	score_model_remove_node(model_of(r), key);
}

/* Records why a node that was never decoded is missing from the model, so
 * filters give this reason instead of "not in the cluster view yet". A
 * node decoded before keeps its last good copy, with nothing to record. */
static void reject_node(inf_reflector *r, const char *key, const char *problem)
{
	if (score_model_node(model_of(r), key) == NULL ||
	    !score_model_node(model_of(r), key)->present)
		score_model_set_node_problem(model_of(r), key, problem);
}

static void remove_pod(inf_reflector *r, const char *key)
{
	score_model_remove_pod(model_of(r), key);
}

static void remove_namespace(inf_reflector *r, const char *key)
{
	score_model_remove_namespace(model_of(r), key);
}

static void remove_network_policy(inf_reflector *r, const char *key)
{
	score_model_remove_network_policy(model_of(r), key);
}

static void free_node(void *object)
{
	score_node_free(object);
}

static void free_pod(void *object)
{
	score_pod_free(object);
}

static void free_namespace(void *object)
{
	namespace_object *ns = object;

	score_unintern(ns->name);
	score_labels_release(&ns->labels);
	g_free(ns);
}

static void free_network_policy(void *object)
{
	score_network_policy_unref(object);
}

/* Services are keyed "namespace/name", as namespaced_key() writes it. */
static int decode_service(const cJSON *object, score_resource_table *resources,
			  void **out, char **key, score_error *err)
{
	score_service *service = NULL;
	int rc = inf_decode_service(object, &service, err);

	(void)resources;
	if (rc < 0)
		return rc;
	*key = g_strdup_printf("%s/%s", service->namespace, service->name);
	*out = service;
	return 0;
}

static void put_service(inf_reflector *r, void *object)
{
	score_model_put_service(model_of(r), object);
}

static void remove_service(inf_reflector *r, const char *key)
{
	const char *slash = strchr(key, '/');
	char *namespace;

	if (slash == NULL)
		return;
	namespace = g_strndup(key, (gsize)(slash - key));
	score_model_remove_service(model_of(r), namespace, slash + 1);
	g_free(namespace);
}

static void free_service(void *object)
{
	score_service_free(object);
}

/* put_namespace() leaves the object to be freed; the other puts take it. */
static bool put_takes_object(const resource_ops *ops)
{
	return ops->put != put_namespace;
}

static const resource_ops ops_table[INF_RESOURCE_COUNT] = {
	[INF_RESOURCE_NODES] = {
		.name = "nodes", .path = "/api/v1/nodes", .api_group = "",
		.in_model = true, .key = name_key, .decode = decode_node,
		.put = put_node, .remove = remove_node, .free = free_node,
		.reject = reject_node,
	},
	[INF_RESOURCE_PODS] = {
		.name = "pods", .path = "/api/v1/pods", .api_group = "",
		.in_model = true, .key = pod_key, .decode = decode_pod,
		.put = put_pod, .remove = remove_pod, .free = free_pod,
		.decode_with_warnings = decode_pod_with_warnings,
	},
	[INF_RESOURCE_NAMESPACES] = {
		.name = "namespaces", .path = "/api/v1/namespaces",
		.api_group = "", .in_model = true, .key = name_key,
		.decode = decode_namespace, .put = put_namespace,
		.remove = remove_namespace, .free = free_namespace,
	},
	[INF_RESOURCE_NETWORK_POLICIES] = {
		.name = "networkpolicies",
		.path = "/apis/networking.k8s.io/v1/networkpolicies",
		.api_group = "networking.k8s.io", .in_model = true,
		.key = namespaced_key, .decode = decode_network_policy,
		.put = put_network_policy, .remove = remove_network_policy,
		.free = free_network_policy,
	},
	[INF_RESOURCE_SERVICES] = {
		.name = "services", .path = "/api/v1/services", .api_group = "",
		.in_model = true, .key = namespaced_key, .decode = decode_service,
		.put = put_service, .remove = remove_service, .free = free_service,
	},
};

const char *inf_resource_name(inf_resource resource)
{
	return resource < INF_RESOURCE_COUNT ? ops_table[resource].name : "unknown";
}

/* ---- Reflector state ----------------------------------------------------- */

struct inf_reflector {
	inf_reflector_config config;
	const resource_ops *ops;
	GThread *thread;
	CURLM *multi;
	gint stopping; /* atomic */

	GMutex mutex; /* guards the fields below it and `wake` */
	GCond wake;
	inf_reflector_stats stats;
	bool has_error;
	score_error last_error;

	/* Used by the reflector's thread alone. */
	GHashTable *store; /* keys this reflector put into the model */
	char *resource_version;
	inf_backoff backoff;
	/* The start of the last rejected watch line or list page, as
	 * make_excerpt() writes it; "" when the last attempt had none. */
	char excerpt[EXCERPT_BYTES * 4 + 8];
};

static score_model *model_of(const inf_reflector *r)
{
	return r->config.model;
}

/* Takes the model's lock for resources that go into the model. */
static void lock_target(const inf_reflector *r)
{
	if (r->ops->in_model)
		g_rw_lock_writer_lock(r->config.lock);
}

static void unlock_target(const inf_reflector *r)
{
	if (r->ops->in_model)
		g_rw_lock_writer_unlock(r->config.lock);
}

/* Hands a decoded object to its target. */
static void put_object(inf_reflector *r, void *object)
{
	r->ops->put(r, object);
	if (!put_takes_object(r->ops))
		r->ops->free(object);
}

/* One change to apply to the model. */
typedef enum change_kind {
	CHANGE_PUT = 0,
	CHANGE_DELETE,
	CHANGE_KEEP, /* undecodable: remember the key, keep the model as is */
	CHANGE_NONE, /* a bookmark: only the resourceVersion moves */
} change_kind;

typedef struct change {
	change_kind kind;
	inf_event_type event; /* INF_EVENT_TYPE_COUNT for a listed object */
	char *key;
	void *object; /* CHANGE_PUT only, owned until applied */
	char *resource_version;
	char *problem; /* CHANGE_KEEP only: why the object was not decoded */
} change;

static bool stopping(const inf_reflector *r)
{
	return g_atomic_int_get(&r->stopping) != 0;
}

static void set_error(inf_reflector *r, const score_error *err)
{
	g_mutex_lock(&r->mutex);
	r->has_error = true;
	r->last_error = *err;
	g_mutex_unlock(&r->mutex);
}

static void clear_error(inf_reflector *r)
{
	g_mutex_lock(&r->mutex);
	r->has_error = false;
	g_mutex_unlock(&r->mutex);
}

static void set_resource_version(inf_reflector *r, const char *rv)
{
	if (rv == NULL)
		return;
	g_free(r->resource_version);
	r->resource_version = g_strdup(rv);
	g_mutex_lock(&r->mutex);
	g_strlcpy(r->stats.resource_version, rv, sizeof(r->stats.resource_version));
	g_mutex_unlock(&r->mutex);
}

/* Sleeps `delay_ms` unless the reflector is stopped first. */
static void pause_ms(inf_reflector *r, int64_t delay_ms)
{
	gint64 until = g_get_monotonic_time() + delay_ms * 1000;

	g_mutex_lock(&r->mutex);
	while (!stopping(r) && g_get_monotonic_time() < until)
		g_cond_wait_until(&r->wake, &r->mutex, until);
	g_mutex_unlock(&r->mutex);
}

/* Returns the delay before the next attempt: the server's Retry-After when
 * it sent one, else the next backoff step. */
static int64_t retry_delay_ms(inf_reflector *r, int64_t retry_after_s)
{
	int64_t delay = inf_backoff_next(&r->backoff);

	return retry_after_s > 0 ? retry_after_s * 1000 : delay;
}

static void count_invalid(inf_reflector *r, inf_invalid_reason reason)
{
	g_mutex_lock(&r->mutex);
	r->stats.invalid_responses[reason]++;
	g_mutex_unlock(&r->mutex);
}

static bool is_token_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
	       c == '+' || c == '/' || c == '=' || c == '~';
}

/* Returns the length of a credential that starts at `text`, or 0: a bearer
 * token after "Bearer ", or a JSON Web Token (service account tokens are
 * JWTs, and their base64url header always starts with "eyJ"). */
static size_t credential_length(const char *text, size_t length,
				size_t *keep)
{
	static const char bearer[] = "Bearer ";
	size_t n = 0;

	*keep = 0;
	if (length >= sizeof(bearer) - 1 &&
	    g_ascii_strncasecmp(text, bearer, sizeof(bearer) - 1) == 0)
		*keep = sizeof(bearer) - 1;
	else if (length < 3 || strncmp(text, "eyJ", 3) != 0)
		return 0;
	while (*keep + n < length && is_token_char(text[*keep + n]))
		n++;
	return n > 0 ? *keep + n : 0;
}

/* Writes the first EXCERPT_BYTES of `data` into `out` (at least
 * EXCERPT_BYTES * 4 + 8 bytes) for a log line. Bytes outside printable
 * ASCII become \xNN. Credentials become "[redacted]": a line that breaks
 * a stream can hold anything, and a log must never show a token. */
static void make_excerpt(const char *data, size_t length, char *out,
			 size_t size)
{
	size_t excerpt_length = MIN(length, (size_t)EXCERPT_BYTES);
	GString *text = g_string_sized_new(excerpt_length * 4 + 8);

	for (size_t i = 0; i < excerpt_length;) {
		size_t keep, secret = credential_length(data + i, length - i, &keep);
		unsigned char c = (unsigned char)data[i];

		if (secret > 0) {
			g_string_append_len(text, data + i, (gssize)keep);
			g_string_append(text, "[redacted]");
			i += secret;
		} else if (c >= 0x20 && c < 0x7f) {
			g_string_append_c(text, (char)c);
			i++;
		} else {
			g_string_append_printf(text, "\\x%02x", c);
			i++;
		}
	}
	if (length > excerpt_length)
		g_string_append(text, "...");
	g_strlcpy(out, text->str, size);
	g_string_free(text, true);
}


/* ---- Applying changes ---------------------------------------------------- */

static void unintern_key(gpointer key)
{
	score_unintern(key);
}

/* Returns an empty set of interned keys. Pod keys are the uids the model
 * interned already, so the set costs no string copies. */
static GHashTable *new_key_set(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, unintern_key, NULL);
}

static void change_free(gpointer data)
{
	change *c = data;

	g_free(c->key);
	g_free(c->resource_version);
	g_free(c->problem);
	g_free(c);
}

/* Returns an empty change array; free it with changes_free(), which also
 * frees the objects not applied. */
static GPtrArray *changes_new(void)
{
	return g_ptr_array_new_with_free_func(change_free);
}

static void changes_free(const inf_reflector *r, GPtrArray *changes)
{
	for (guint i = 0; i < changes->len; i++) {
		change *c = g_ptr_array_index(changes, i);

		if (c->object != NULL)
			r->ops->free(c->object);
		c->object = NULL;
	}
	g_ptr_array_unref(changes);
}

/* Decodes one ADDED or MODIFIED object into a change; a failure is logged
 * and becomes CHANGE_KEEP, or is dropped when the object has no key. */
static change *decode_change(inf_reflector *r, const cJSON *object,
			     inf_event_type event)
{
	score_resource_table *resources = score_model_resources(r->config.model);
	change *c = g_new0(change, 1);
	score_error err = {0};
	int rc;

	c->event = event;
	c->resource_version = g_strdup(metadata_string(object, "resourceVersion"));
	if (r->ops->decode_with_warnings != NULL) {
		GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);

		rc = r->ops->decode_with_warnings(object, resources, &c->object,
						  &c->key, warnings, &err);
		/* Every status change of a pod brings the same warning
		 * again, so each message (it names the pod and the value) is
		 * logged at most once per OBJECT_WARNING_INTERVAL_MS. */
		for (guint i = 0; i < warnings->len; i++) {
			const char *warning = g_ptr_array_index(warnings, i);
			char *limit_key = g_strdup_printf("informer %s %s",
							  r->ops->name, warning);

			SCHED_LOG_LIMITED(r->config.log, SCHED_LOG_WARN,
					  COMPONENT, "object value ignored",
					  limit_key, OBJECT_WARNING_INTERVAL_MS,
					  SCHED_STR("resource", r->ops->name),
					  SCHED_STR("warning", warning));
			g_free(limit_key);
		}
		g_ptr_array_unref(warnings);
	} else {
		rc = r->ops->decode(object, resources, &c->object, &c->key, &err);
	}
	if (rc == 0) {
		c->kind = CHANGE_PUT;
		return c;
	}

	c->kind = CHANGE_KEEP;
	c->key = r->ops->key(object);
	c->problem = g_strdup(err.message);
	g_mutex_lock(&r->mutex);
	r->stats.decode_failures++;
	g_mutex_unlock(&r->mutex);
	SCHED_LOG(r->config.log, SCHED_LOG_WARN, COMPONENT,
		  "object skipped: it could not be decoded",
		  SCHED_STR("resource", r->ops->name),
		  SCHED_STR("key", c->key != NULL ? c->key : ""),
		  SCHED_STR("error", err.message));
	if (c->key == NULL)
		c->kind = CHANGE_NONE;
	return c;
}

/* Applies `changes` in order under the write lock and moves the
 * resourceVersion to the last one. Consumes the objects. */
static void apply_changes(inf_reflector *r, GPtrArray *changes)
{
	uint64_t by_type[INF_EVENT_TYPE_COUNT] = {0};
	const char *last_rv = NULL;
	uint64_t applied = 0;
	gint64 now;

	if (changes->len == 0)
		return;
	lock_target(r);
	for (guint i = 0; i < changes->len; i++) {
		change *c = g_ptr_array_index(changes, i);

		switch (c->kind) {
		case CHANGE_PUT:
			put_object(r, c->object);
			c->object = NULL;
			g_hash_table_add(r->store, (gpointer)score_intern(c->key));
			applied++;
			break;
		case CHANGE_DELETE:
			r->ops->remove(r, c->key);
			g_hash_table_remove(r->store, c->key);
			applied++;
			break;
		case CHANGE_KEEP:
			g_hash_table_add(r->store, (gpointer)score_intern(c->key));
			if (r->ops->reject != NULL)
				r->ops->reject(r, c->key, c->problem);
			break;
		case CHANGE_NONE:
			break;
		}
		if (c->event == INF_EVENT_BOOKMARK ||
		    (c->event < INF_EVENT_TYPE_COUNT &&
		     (c->kind == CHANGE_PUT || c->kind == CHANGE_DELETE)))
			by_type[c->event]++;
		if (c->resource_version != NULL)
			last_rv = c->resource_version;
	}
	unlock_target(r);

	set_resource_version(r, last_rv);
	now = g_get_monotonic_time();
	g_mutex_lock(&r->mutex);
	r->stats.events += applied;
	for (int t = 0; t < INF_EVENT_TYPE_COUNT; t++)
		r->stats.events_by_type[t] += by_type[t];
	if (applied > 0)
		r->stats.last_event_us = now;
	r->stats.last_sync_us = now;
	r->stats.objects = g_hash_table_size(r->store);
	g_mutex_unlock(&r->mutex);
}

/* Replaces everything this reflector put into the model with the listed
 * objects: removes the keys the list no longer has, then puts the rest. */
static void replace_all(inf_reflector *r, GPtrArray *changes, const char *rv)
{
	GHashTable *listed = new_key_set();
	GHashTableIter iter;
	gpointer key;
	uint64_t removed = 0;

	for (guint i = 0; i < changes->len; i++) {
		const change *c = g_ptr_array_index(changes, i);

		if (c->key != NULL)
			g_hash_table_add(listed, (gpointer)score_intern(c->key));
	}

	lock_target(r);
	g_hash_table_iter_init(&iter, r->store);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (g_hash_table_contains(listed, key))
			continue;
		r->ops->remove(r, key);
		g_hash_table_iter_remove(&iter);
		removed++;
	}
	for (guint i = 0; i < changes->len; i++) {
		change *c = g_ptr_array_index(changes, i);

		if (c->kind == CHANGE_PUT) {
			put_object(r, c->object);
			c->object = NULL;
		} else if (c->kind == CHANGE_KEEP && r->ops->reject != NULL) {
			r->ops->reject(r, c->key, c->problem);
		}
	}
	unlock_target(r);

	g_hash_table_unref(r->store);
	r->store = listed;
	set_resource_version(r, rv);
	g_mutex_lock(&r->mutex);
	r->stats.objects = g_hash_table_size(r->store);
	r->stats.last_sync_us = g_get_monotonic_time();
	g_mutex_unlock(&r->mutex);
	if (removed > 0)
		SCHED_LOG(r->config.log, SCHED_LOG_INFO, COMPONENT,
			  "list removed objects that were deleted while unwatched",
			  SCHED_STR("resource", r->ops->name),
			  SCHED_INT("removed", (int64_t)removed));
}

/* ---- Transfers ----------------------------------------------------------- */

/* Runs `easy` on the reflector's multi handle until it finishes or the
 * reflector stops (CURLE_ABORTED_BY_CALLBACK). */
static CURLcode perform(inf_reflector *r, CURL *easy)
{
	CURLcode result = CURLE_ABORTED_BY_CALLBACK;
	int running = 1;
	CURLMsg *msg;
	int left;

	if (curl_multi_add_handle(r->multi, easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	while (running > 0 && !stopping(r)) {
		if (curl_multi_perform(r->multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
	}
	while ((msg = curl_multi_info_read(r->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
			result = msg->data.result;
	curl_multi_remove_handle(r->multi, easy);
	return result;
}

/* Fills response->status and ->retry_after_s after a transfer. */
static void read_response_info(CURL *easy, CURLcode result,
			       inf_response *response)
{
	curl_off_t retry_after = 0;

	response->result = result;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response->status);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		response->retry_after_s = (int64_t)retry_after;
	if (response->curl_error[0] == '\0' && result != CURLE_OK)
		g_strlcpy(response->curl_error, curl_easy_strerror(result),
			  sizeof(response->curl_error));
}

/* Fills `err` for a 403 with the RBAC rule the identity lacks. The rule
 * comes before the server's message, so a long message cannot cut it. */
static int forbidden_error(const inf_reflector *r, const inf_response *response,
			   const char *action, score_error *err)
{
	inf_api_status status;
	bool has_message = inf_api_status_parse(response->body->str,
						 response->body->len, &status) &&
			   status.message[0] != '\0';

	return score_fail(err, -EACCES,
			  "%s failed: HTTP 403 Forbidden; the identity needs an RBAC rule that allows get, list and watch on %s: apiGroups [\"%s\"], resources [\"%s\"], verbs [\"get\", \"list\", \"watch\"] (manifests/10-rbac.yaml grants it)%s%s",
			  action, r->ops->name, r->ops->api_group, r->ops->name,
			  has_message ? "; the server said: " : "",
			  has_message ? status.message : "");
}

/* The body of one LIST page, bounded by max_list_page_bytes. */
typedef struct page_transfer {
	CURL *easy;
	GString *body;
	size_t limit;
	bool too_large;     /* the transfer stopped at the limit */
	int64_t declared;   /* the body's full size when known, else -1 */
} page_transfer;

/* Returns the size of the decompressed body from Content-Length, or -1
 * when the response is compressed or has no Content-Length. */
static int64_t declared_body_size(CURL *easy)
{
	struct curl_header *encoding;
	curl_off_t length = -1;

	if (curl_easy_header(easy, "Content-Encoding", 0, CURLH_HEADER, -1,
			     &encoding) == CURLHE_OK)
		return -1;
	if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) !=
	    CURLE_OK)
		return -1;
	return length >= 0 ? (int64_t)length : -1;
}

static size_t collect_page(char *data, size_t size, size_t n, void *user)
{
	page_transfer *page = user;
	size_t total = size * n;
	long status = 0;

	curl_easy_getinfo(page->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		if (page->body->len < MAX_ERROR_BODY_BYTES)
			g_string_append_len(page->body, data, (gssize)total);
		return total;
	}
	if (page->body->len + total > page->limit) {
		page->too_large = true;
		page->declared = declared_body_size(page->easy);
		return 0; /* aborts the transfer */
	}
	g_string_append_len(page->body, data, (gssize)total);
	return total;
}

/* GETs one LIST page at `path` into `response` on the multi handle; see
 * page_transfer for `page`. */
static int get_page(inf_reflector *r, const char *path, inf_response *response,
		    page_transfer *page, score_error *err)
{
	CURL *easy = curl_easy_init();
	struct curl_slist *headers = NULL;
	gint64 set_up_us;
	CURLcode result;
	int rc;

	if (easy == NULL)
		return score_fail(err, -ENOMEM, "curl_easy_init failed");
	rc = inf_client_setup(r->config.client, easy, path, &headers, err);
	set_up_us = g_get_monotonic_time();
	if (rc < 0)
		goto out;
	page->easy = easy;
	page->body = response->body;
	page->limit = r->config.max_list_page_bytes;
	page->too_large = false;
	page->declared = -1;
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)r->config.request_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_page);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, page);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, response->curl_error);
	result = perform(r, easy);
	read_response_info(easy, result, response);
	if (response->status == 401)
		inf_client_unauthorized(r->config.client, set_up_us);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(easy);
	return rc;
}

/* ---- LIST ---------------------------------------------------------------- */

typedef enum list_outcome {
	LIST_DONE = 0,
	LIST_EXPIRED,   /* the continue token expired: start over */
	LIST_TOO_LARGE, /* the page is over max_list_page_bytes */
	LIST_FAILED,
} list_outcome;

/* Fills `err` for a page over max_list_page_bytes. */
static void page_too_large(inf_reflector *r, const page_transfer *page,
			   unsigned page_size, const char *action,
			   score_error *err)
{
	char size[64];

	count_invalid(r, INF_INVALID_TOO_LARGE);
	make_excerpt(page->body->str, page->body->len, r->excerpt,
		     sizeof(r->excerpt));
	if (page->declared >= 0)
		g_snprintf(size, sizeof(size), "%" PRId64 " bytes", page->declared);
	else
		g_snprintf(size, sizeof(size), "more than %zu bytes", page->limit);
	if (page_size == 1)
		score_fail(err, -EMSGSIZE,
			   "%s failed: a single object is %s, over the %zu-byte list page limit (max_list_page_bytes), so it cannot be listed until it shrinks or the limit is raised",
			   action, size, page->limit);
	else
		score_fail(err, -EMSGSIZE,
			   "%s failed: a page of %u objects is %s, over the %zu-byte limit (max_list_page_bytes)",
			   action, page_size, size, page->limit);
}

/* Decodes a LIST page body into `changes`; see list_page(). */
static list_outcome read_page(inf_reflector *r, const GString *body,
			      const char *action, GPtrArray *changes,
			      char **next, char **rv, score_error *err)
{
	cJSON *list = cJSON_ParseWithLength(body->str, body->len);
	const cJSON *items, *metadata, *cont;
	list_outcome outcome = LIST_FAILED;

	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	metadata = cJSON_GetObjectItemCaseSensitive(list, "metadata");
	if (list == NULL || !cJSON_IsObject(list) ||
	    (!cJSON_IsArray(items) && !cJSON_IsNull(items) && items != NULL)) {
		inf_invalid_reason reason = list == NULL ? INF_INVALID_NOT_JSON :
							   INF_INVALID_NOT_LIST;

		count_invalid(r, reason);
		make_excerpt(body->str, body->len, r->excerpt, sizeof(r->excerpt));
		score_fail(err, -EPROTO, "%s failed: the response of %zu bytes is %s",
			   action, body->len,
			   list == NULL ? "not JSON" : "not a list with an items array");
		goto out;
	}
	if (*rv == NULL) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(metadata,
								     "resourceVersion");

		if (cJSON_IsString(item) && item->valuestring[0] != '\0')
			*rv = g_strdup(item->valuestring);
	}
	for (const cJSON *item = cJSON_IsArray(items) ? items->child : NULL;
	     item != NULL; item = item->next)
		g_ptr_array_add(changes, decode_change(r, item, INF_EVENT_TYPE_COUNT));
	cont = cJSON_GetObjectItemCaseSensitive(metadata, "continue");
	if (cJSON_IsString(cont) && cont->valuestring[0] != '\0')
		*next = g_strdup(cont->valuestring);
	outcome = LIST_DONE;
out:
	cJSON_Delete(list);
	return outcome;
}

/* Fetches one page of up to `page_size` objects into `changes`. Sets
 * `*next` to the continue token (NULL on the last page) and `*rv` to the
 * list's resourceVersion. */
static list_outcome list_page(inf_reflector *r, const char *token,
			      unsigned page_size, GPtrArray *changes,
			      char **next, char **rv, int64_t *retry_after_s,
			      score_error *err)
{
	GString *path = g_string_new(NULL);
	page_transfer page = {0};
	inf_response response;
	list_outcome outcome = LIST_FAILED;
	gint64 started;
	char *action;

	*next = NULL;
	inf_response_init(&response);
	g_string_printf(path, "%s?limit=%u", r->ops->path, page_size);
	if (token != NULL) {
		char *escaped = g_uri_escape_string(token, NULL, false);

		g_string_append_printf(path, "&continue=%s", escaped);
		g_free(escaped);
	}
	action = g_strdup_printf("listing %s from %s", r->ops->name,
			       inf_client_server(r->config.client));
	started = g_get_monotonic_time();
	if (get_page(r, path->str, &response, &page, err) < 0)
		goto out;
	inf_metrics_observe_request(r->config.metrics, INF_API_LIST,
				    (double)(g_get_monotonic_time() - started) / 1e6);
	*retry_after_s = response.retry_after_s;

	if (page.too_large) {
		outcome = LIST_TOO_LARGE;
		page_too_large(r, &page, page_size, action, err);
	} else if (response.result == CURLE_OPERATION_TIMEDOUT) {
		score_fail(err, -ETIMEDOUT,
			   "%s timed out after %" PRId64 " ms (the request timeout)",
			   action, r->config.request_timeout_ms);
	} else if (response.result == CURLE_OK && response.status == 403) {
		forbidden_error(r, &response, action, err);
	} else if (response.result != CURLE_OK || response.status != 200) {
		if (response.result == CURLE_OK && response.status == 410 && token != NULL)
			outcome = LIST_EXPIRED;
		inf_response_fail(&response, action, err);
	} else {
		outcome = read_page(r, response.body, action, changes, next, rv, err);
	}
out:
	g_free(action);
	inf_response_release(&response);
	g_string_free(path, true);
	return outcome;
}

/* Returns the page size after a page that succeeded: pages grow back
 * toward the configured size after an oversized one made them smaller. */
static unsigned grow_page_size(const inf_reflector *r, unsigned page_size)
{
	return page_size <= r->config.page_size / 2 ? page_size * 2 :
						     r->config.page_size;
}

/* Lists every page and replaces the model's objects. Returns 0, or a
 * negative errno with `err` set and `*retry_after_s` from the server. */
static int list_and_replace(inf_reflector *r, int64_t *retry_after_s,
			    score_error *err)
{
	gint64 started = g_get_monotonic_time();
	GPtrArray *changes = changes_new();
	char *token = NULL, *rv = NULL;
	unsigned pages = 0, restarts = 0, page_size = r->config.page_size;
	int rc = 0;

	*retry_after_s = -1;
	r->excerpt[0] = '\0';
	for (;;) {
		char *next = NULL;
		list_outcome outcome = list_page(r, token, page_size, changes, &next,
						 &rv, retry_after_s, err);

		if (outcome == LIST_TOO_LARGE && page_size > 1 && !stopping(r)) {
			page_size /= 2;
			SCHED_LOG(r->config.log, SCHED_LOG_WARN, COMPONENT,
				  "list page too large, fetching it in smaller pages",
				  SCHED_STR("resource", r->ops->name),
				  SCHED_INT("page_size", page_size),
				  SCHED_STR("error", err->message));
			continue;
		}
		g_free(token);
		token = next;
		if (outcome == LIST_EXPIRED && restarts < MAX_LIST_RESTARTS &&
		    !stopping(r)) {
			restarts++;
			SCHED_LOG(r->config.log, SCHED_LOG_WARN, COMPONENT,
				  "list restarting: its continue token expired",
				  SCHED_STR("resource", r->ops->name),
				  SCHED_INT("restart", restarts),
				  SCHED_STR("error", err->message));
			changes_free(r, changes);
			changes = changes_new();
			g_free(rv);
			rv = NULL;
			pages = 0;
			continue;
		}
		if (outcome != LIST_DONE) {
			rc = err->code < 0 ? err->code : -EIO;
			goto out;
		}
		pages++;
		page_size = grow_page_size(r, page_size);
		if (token == NULL)
			break;
	}
	if (rv == NULL) {
		rc = score_fail(err, -EPROTO,
				"listing %s from %s failed: the list has no metadata.resourceVersion to watch from",
				r->ops->name, inf_client_server(r->config.client));
		goto out;
	}

	replace_all(r, changes, rv);
	g_mutex_lock(&r->mutex);
	r->stats.lists++;
	r->stats.synced = true;
	g_mutex_unlock(&r->mutex);
	SCHED_LOG(r->config.log, SCHED_LOG_INFO, COMPONENT, "listed",
		  SCHED_STR("resource", r->ops->name),
		  SCHED_INT("objects", (int64_t)changes->len),
		  SCHED_INT("pages", pages),
		  SCHED_STR("resource_version", rv),
		  SCHED_DOUBLE("duration_ms",
			       (double)(g_get_monotonic_time() - started) / 1000.0));
out:
	changes_free(r, changes);
	g_free(token);
	g_free(rv);
	return rc;
}

/* ---- WATCH --------------------------------------------------------------- */

typedef enum watch_outcome {
	WATCH_ENDED = 0, /* the server closed it normally: watch again */
	WATCH_EXPIRED,   /* 410: list again */
	WATCH_FAILED,    /* back off, then watch again from the same RV */
	WATCH_INVALID,   /* an invalid or oversized line: back off, list again */
	WATCH_STOPPED,
} watch_outcome;

typedef struct watch_stream {
	inf_reflector *r;
	CURL *easy;
	long status;          /* read at the first byte of the body */
	GString *line;        /* bytes after the last newline */
	GString *error_body;  /* the body when status is not 200 */
	bool error_event;     /* an ERROR event arrived */
	inf_api_status error_status;
	bool invalid;         /* a line was rejected for `reason` */
	inf_invalid_reason reason;
	char problem[256];    /* what was wrong with the rejected line */
	char curl_error[CURL_ERROR_SIZE];
	uint64_t events;
} watch_stream;

static void read_status_object(const cJSON *object, inf_api_status *status)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(object, "code");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(object, "reason");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(object, "message");

	memset(status, 0, sizeof(*status));
	if (cJSON_IsNumber(code))
		status->code = code->valueint;
	if (cJSON_IsString(reason))
		g_strlcpy(status->reason, reason->valuestring, sizeof(status->reason));
	if (cJSON_IsString(message))
		g_strlcpy(status->message, message->valuestring,
			  sizeof(status->message));
}

/* Stops the stream at a rejected line: counts it, and keeps what was
 * wrong for the error and the start of the line for the log. */
static void reject_line(watch_stream *w, inf_invalid_reason reason,
			const char *text, size_t length, const char *format, ...)
	G_GNUC_PRINTF(5, 6);

static void reject_line(watch_stream *w, inf_invalid_reason reason,
			const char *text, size_t length, const char *format, ...)
{
	va_list args;

	w->invalid = true;
	w->reason = reason;
	va_start(args, format);
	g_vsnprintf(w->problem, sizeof(w->problem), format, args);
	va_end(args);
	make_excerpt(text, length, w->r->excerpt, sizeof(w->r->excerpt));
	count_invalid(w->r, reason);
}

/* Turns one event line into a change in `changes`, or rejects it. */
static void parse_event(watch_stream *w, const char *text, size_t length,
			GPtrArray *changes)
{
	cJSON *event;
	const cJSON *type, *object;
	change *c;

	while (length > 0 && (text[length - 1] == '\r' || text[length - 1] == ' '))
		length--;
	if (length == 0)
		return;
	event = cJSON_ParseWithLength(text, length);
	if (event == NULL) {
		reject_line(w, INF_INVALID_NOT_JSON, text, length,
			    "a watch line of %zu bytes is not JSON", length);
		return;
	}
	type = cJSON_GetObjectItemCaseSensitive(event, "type");
	object = cJSON_GetObjectItemCaseSensitive(event, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(object)) {
		reject_line(w, INF_INVALID_NOT_EVENT, text, length,
			    "a watch line of %zu bytes is not an event: it needs a string \"type\" and an \"object\"",
			    length);
		goto out;
	}

	if (strcmp(type->valuestring, "ADDED") == 0) {
		g_ptr_array_add(changes, decode_change(w->r, object, INF_EVENT_ADDED));
	} else if (strcmp(type->valuestring, "MODIFIED") == 0) {
		g_ptr_array_add(changes, decode_change(w->r, object, INF_EVENT_MODIFIED));
	} else if (strcmp(type->valuestring, "DELETED") == 0) {
		c = g_new0(change, 1);
		c->kind = CHANGE_DELETE;
		c->event = INF_EVENT_DELETED;
		c->key = w->r->ops->key(object);
		if (c->key == NULL)
			c->kind = CHANGE_NONE;
		c->resource_version = g_strdup(metadata_string(object, "resourceVersion"));
		g_ptr_array_add(changes, c);
	} else if (strcmp(type->valuestring, "BOOKMARK") == 0) {
		c = g_new0(change, 1);
		c->kind = CHANGE_NONE;
		c->event = INF_EVENT_BOOKMARK;
		c->resource_version = g_strdup(metadata_string(object, "resourceVersion"));
		g_ptr_array_add(changes, c);
	} else if (strcmp(type->valuestring, "ERROR") == 0) {
		w->error_event = true;
		read_status_object(object, &w->error_status);
		goto out;
	} else {
		/* The model cannot tell what the event changed, so it may
		 * now differ from the server: only a list can tell. */
		reject_line(w, INF_INVALID_UNKNOWN_TYPE, text, length,
			    "a watch event has the unknown type \"%.40s\", not ADDED, MODIFIED, DELETED, BOOKMARK or ERROR",
			    type->valuestring);
		goto out;
	}
	w->events++;
out:
	cJSON_Delete(event);
}

/* Rejects a line that would exceed max_event_bytes: w->line holds its
 * start, `piece` is what arrived now, and `complete` is true when the
 * newline came too. */
static void reject_long_line(watch_stream *w, const char *piece,
			     size_t piece_length, bool complete)
{
	size_t limit = w->r->config.max_event_bytes;
	size_t seen = w->line->len + piece_length;
	const char *start = w->line->len > 0 ? w->line->str : piece;
	size_t start_length = w->line->len > 0 ? w->line->len : piece_length;

	if (complete)
		reject_line(w, INF_INVALID_TOO_LARGE, start, start_length,
			    "a watch event of %zu bytes is larger than the %zu-byte limit",
			    seen, limit);
	else
		reject_line(w, INF_INVALID_TOO_LARGE, start, start_length,
			    "a watch event is larger than the %zu-byte limit: %zu bytes arrived without its end",
			    limit, seen);
}

static bool stream_stopped(const watch_stream *w)
{
	return w->error_event || w->invalid;
}

/* Splits the received bytes into lines and applies the complete ones at
 * once. Only the unfinished last line is copied, and never past
 * max_event_bytes. Returning less than given aborts the transfer. */
static size_t watch_write(char *data, size_t size, size_t n, void *user)
{
	watch_stream *w = user;
	size_t total = size * n, start = 0;
	GPtrArray *changes;

	if (w->status == 0)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200) {
		if (w->error_body->len < MAX_ERROR_BODY_BYTES)
			g_string_append_len(w->error_body, data, (gssize)total);
		return total;
	}

	changes = changes_new();
	while (start < total && !stream_stopped(w)) {
		const char *begin = data + start;
		const char *newline = memchr(begin, '\n', total - start);
		size_t piece = newline != NULL ? (size_t)(newline - begin) : total - start;

		if (w->line->len + piece > w->r->config.max_event_bytes) {
			reject_long_line(w, begin, piece, newline != NULL);
			break;
		}
		if (newline == NULL) {
			g_string_append_len(w->line, begin, (gssize)piece);
			break;
		}
		if (w->line->len > 0) {
			g_string_append_len(w->line, begin, (gssize)piece);
			parse_event(w, w->line->str, w->line->len, changes);
			g_string_truncate(w->line, 0);
		} else {
			parse_event(w, begin, piece, changes);
		}
		start += piece + 1;
	}
	apply_changes(w->r, changes);
	changes_free(w->r, changes);

	return stream_stopped(w) ? 0 : total;
}

/* Returns true for a Status that means "list again". */
static bool expired(const inf_api_status *status)
{
	return status->code == 410 || strcmp(status->reason, "Expired") == 0 ||
	       strcmp(status->reason, "Gone") == 0;
}

/* Classifies a finished watch; for every outcome but WATCH_ENDED and
 * WATCH_STOPPED, `err` describes the failure. */
static watch_outcome finish_watch(inf_reflector *r, watch_stream *w,
				  CURLcode result, gint64 started,
				  int64_t *retry_after_s, score_error *err)
{
	inf_response response;
	char *action = g_strdup_printf("watching %s from %s", r->ops->name,
				     inf_client_server(r->config.client));
	watch_outcome outcome = WATCH_FAILED;

	inf_response_init(&response);
	g_string_assign(response.body, w->error_body->str);
	g_strlcpy(response.curl_error, w->curl_error, sizeof(response.curl_error));
	read_response_info(w->easy, result, &response);
	*retry_after_s = response.retry_after_s;

	if (stopping(r)) {
		outcome = WATCH_STOPPED;
	} else if (w->error_event) {
		outcome = expired(&w->error_status) ? WATCH_EXPIRED : WATCH_FAILED;
		score_fail(err, outcome == WATCH_EXPIRED ? -ESTALE : -EPROTO,
			   "%s failed: ERROR event %d %s: %s", action,
			   w->error_status.code, w->error_status.reason,
			   w->error_status.message);
	} else if (w->invalid) {
		outcome = WATCH_INVALID;
		score_fail(err, w->reason == INF_INVALID_TOO_LARGE ? -EMSGSIZE : -EPROTO,
			   "%s failed: %s", action, w->problem);
	} else if (response.status == 403) {
		forbidden_error(r, &response, action, err);
	} else if (response.status != 200 || result != CURLE_OK) {
		int rc = inf_response_fail(&response, action, err);

		if (rc == -ESTALE)
			outcome = WATCH_EXPIRED;
	} else if (w->events == 0 &&
		   g_get_monotonic_time() - started < SHORT_WATCH_US) {
		score_fail(err, -EPROTO,
			   "%s failed: the server closed the watch within a second without sending an event",
			   action);
	} else {
		outcome = WATCH_ENDED;
	}
	inf_response_release(&response);
	g_free(action);
	return outcome;
}

static unsigned watch_timeout_s(const inf_reflector *r)
{
	unsigned base = r->config.watch_timeout_s;

	/* client-go draws timeoutSeconds from [min, 2 * min) so that many
	 * clients do not reconnect in step. */
	return base + (unsigned)g_random_int_range(0, (gint32)base);
}

/* Counts the watch's latency: until the response headers arrived, or the
 * whole attempt when none did. */
static void observe_watch(inf_reflector *r, CURL *easy)
{
	curl_off_t headers_us = 0, total_us = 0;

	if (stopping(r) || r->config.metrics == NULL)
		return;
	curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &headers_us);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
	inf_metrics_observe_request(r->config.metrics, INF_API_WATCH,
				    (double)(headers_us > 0 ? headers_us : total_us) / 1e6);
}

static watch_outcome watch_once(inf_reflector *r, int64_t *retry_after_s,
				score_error *err)
{
	watch_stream w = {0};
	struct curl_slist *headers = NULL;
	unsigned timeout_s = watch_timeout_s(r);
	char *escaped = g_uri_escape_string(r->resource_version, NULL, false);
	char *path = g_strdup_printf("%s?watch=true&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%u",
				     r->ops->path, escaped, timeout_s);
	gint64 started = g_get_monotonic_time(), set_up_us;
	watch_outcome outcome = WATCH_FAILED;
	CURLcode result;

	*retry_after_s = -1;
	r->excerpt[0] = '\0';
	w.r = r;
	w.line = g_string_new(NULL);
	w.error_body = g_string_new(NULL);
	w.easy = curl_easy_init();
	if (w.easy == NULL) {
		score_fail(err, -ENOMEM, "curl_easy_init failed");
		goto out;
	}
	if (inf_client_setup(r->config.client, w.easy, path, &headers, err) < 0)
		goto out;
	set_up_us = g_get_monotonic_time();
	curl_easy_setopt(w.easy, CURLOPT_TIMEOUT_MS,
			 (long)(timeout_s + WATCH_GRACE_S) * 1000L);
	curl_easy_setopt(w.easy, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w.easy, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(w.easy, CURLOPT_ERRORBUFFER, w.curl_error);

	g_mutex_lock(&r->mutex);
	r->stats.watches++;
	g_mutex_unlock(&r->mutex);
	SCHED_LOG(r->config.log, SCHED_LOG_DEBUG, COMPONENT, "watch started",
		  SCHED_STR("resource", r->ops->name),
		  SCHED_STR("resource_version", r->resource_version),
		  SCHED_INT("timeout_s", timeout_s));
	result = perform(r, w.easy);
	observe_watch(r, w.easy);
	if (w.status == 0)
		curl_easy_getinfo(w.easy, CURLINFO_RESPONSE_CODE, &w.status);
	if (w.status == 401)
		inf_client_unauthorized(r->config.client, set_up_us);
	outcome = finish_watch(r, &w, result, started, retry_after_s, err);
	/* A watch that delivered events had a working connection, so a
	 * failure after it starts the backoff over. An invalid stream keeps
	 * its backoff, because resetting it would relist without pause. */
	if (w.events > 0 && outcome != WATCH_INVALID)
		inf_backoff_reset(&r->backoff);
out:
	curl_slist_free_all(headers);
	if (w.easy != NULL)
		curl_easy_cleanup(w.easy);
	g_string_free(w.line, true);
	g_string_free(w.error_body, true);
	g_free(path);
	g_free(escaped);
	return outcome;
}

/* ---- Thread -------------------------------------------------------------- */

/* Logs a failure that will be retried; `failures` counts them in a row,
 * so a reader can tell a blip from an outage without counting lines. */
static void log_retry(inf_reflector *r, const char *message,
		      const score_error *err, int64_t delay_ms,
		      unsigned failures)
{
	const char *rv = r->resource_version != NULL ? r->resource_version : "";

	if (r->excerpt[0] != '\0')
		SCHED_LOG(r->config.log, SCHED_LOG_WARN, COMPONENT, message,
			  SCHED_STR("resource", r->ops->name),
			  SCHED_STR("resource_version", rv),
			  SCHED_STR("error", err->message),
			  SCHED_STR("excerpt", r->excerpt),
			  SCHED_INT("failures", failures),
			  SCHED_INT("delay_ms", delay_ms));
	else
		SCHED_LOG(r->config.log, SCHED_LOG_WARN, COMPONENT, message,
			  SCHED_STR("resource", r->ops->name),
			  SCHED_STR("resource_version", rv),
			  SCHED_STR("error", err->message),
			  SCHED_INT("failures", failures),
			  SCHED_INT("delay_ms", delay_ms));
}

static gpointer run(gpointer data)
{
	inf_reflector *r = data;
	bool need_list = true;
	bool listed = false; /* the next watch is the first after a LIST */
	/* The LIST follows an invalid watch stream: its success does not
	 * prove the stream sound, so the backoff keeps growing. */
	bool after_invalid = false;
	unsigned failures = 0;

	while (!stopping(r)) {
		score_error err = {0};
		int64_t retry_after_s = -1, delay_ms;
		watch_outcome outcome;

		if (need_list) {
			if (list_and_replace(r, &retry_after_s, &err) < 0) {
				if (stopping(r))
					break;
				set_error(r, &err);
				delay_ms = retry_delay_ms(r, retry_after_s);
				log_retry(r, "list failed, retrying", &err, delay_ms,
					  ++failures);
				pause_ms(r, delay_ms);
				continue;
			}
			clear_error(r);
			if (!after_invalid) {
				inf_backoff_reset(&r->backoff);
				failures = 0;
			}
			after_invalid = false;
			need_list = false;
			listed = true;
		}

		if (!listed) {
			g_mutex_lock(&r->mutex);
			r->stats.watch_restarts++;
			g_mutex_unlock(&r->mutex);
		}
		listed = false;
		outcome = watch_once(r, &retry_after_s, &err);
		switch (outcome) {
		case WATCH_STOPPED:
			break;
		case WATCH_ENDED:
			clear_error(r);
			inf_backoff_reset(&r->backoff);
			failures = 0;
			g_mutex_lock(&r->mutex);
			r->stats.last_sync_us = g_get_monotonic_time();
			g_mutex_unlock(&r->mutex);
			SCHED_LOG(r->config.log, SCHED_LOG_INFO, COMPONENT,
				  "watch reconnecting",
				  SCHED_STR("resource", r->ops->name),
				  SCHED_STR("reason", "the server ended the watch"),
				  SCHED_STR("resource_version", r->resource_version));
			break;
		case WATCH_EXPIRED:
			need_list = true;
			g_mutex_lock(&r->mutex);
			r->stats.relists++;
			g_mutex_unlock(&r->mutex);
			SCHED_LOG(r->config.log, SCHED_LOG_INFO, COMPONENT,
				  "relisting",
				  SCHED_STR("resource", r->ops->name),
				  SCHED_STR("reason", err.message),
				  SCHED_STR("resource_version", r->resource_version));
			break;
		case WATCH_INVALID:
			set_error(r, &err);
			need_list = true;
			after_invalid = true;
			g_mutex_lock(&r->mutex);
			r->stats.watch_failures++;
			r->stats.relists++;
			g_mutex_unlock(&r->mutex);
			delay_ms = inf_backoff_next(&r->backoff);
			log_retry(r, "watch stream invalid, relisting", &err, delay_ms,
				  ++failures);
			pause_ms(r, delay_ms);
			break;
		case WATCH_FAILED:
			set_error(r, &err);
			g_mutex_lock(&r->mutex);
			r->stats.watch_failures++;
			g_mutex_unlock(&r->mutex);
			delay_ms = retry_delay_ms(r, retry_after_s);
			log_retry(r, "watch failed, reconnecting", &err, delay_ms,
				  ++failures);
			pause_ms(r, delay_ms);
			break;
		}
	}
	return NULL;
}

/* ---- Public -------------------------------------------------------------- */

int inf_reflector_start(const inf_reflector_config *config,
			inf_reflector **out, score_error *err)
{
	inf_reflector *r;
	GError *error = NULL;
	char *name;

	*out = NULL;
	if (config->resource >= INF_RESOURCE_COUNT)
		return score_fail(err, -EINVAL,
				  "reflector resource %d is not nodes, pods, namespaces or networkpolicies",
				  (int)config->resource);
	if (config->client == NULL || config->model == NULL || config->lock == NULL)
		return score_fail(err, -EINVAL,
				  "a reflector needs a client, a model and its lock");

	r = g_new0(inf_reflector, 1);
	r->config = *config;
	if (r->config.page_size == 0)
		r->config.page_size = INF_DEFAULT_PAGE_SIZE;
	if (r->config.watch_timeout_s == 0)
		r->config.watch_timeout_s = INF_DEFAULT_WATCH_TIMEOUT_S;
	if (r->config.backoff_initial_ms <= 0)
		r->config.backoff_initial_ms = INF_DEFAULT_BACKOFF_INITIAL_MS;
	if (r->config.backoff_max_ms <= 0)
		r->config.backoff_max_ms = INF_DEFAULT_BACKOFF_MAX_MS;
	if (r->config.request_timeout_ms <= 0)
		r->config.request_timeout_ms = INF_DEFAULT_REQUEST_TIMEOUT_MS;
	if (r->config.max_event_bytes == 0)
		r->config.max_event_bytes = INF_DEFAULT_MAX_EVENT_BYTES;
	if (r->config.max_list_page_bytes == 0)
		r->config.max_list_page_bytes = INF_DEFAULT_MAX_LIST_PAGE_BYTES;
	r->ops = &ops_table[config->resource];
	r->stats.last_event_us = g_get_monotonic_time();
	r->stats.last_sync_us = r->stats.last_event_us;
	g_mutex_init(&r->mutex);
	g_cond_init(&r->wake);
	r->store = new_key_set();
	inf_backoff_init(&r->backoff, r->config.backoff_initial_ms,
			 r->config.backoff_max_ms);
	r->multi = curl_multi_init();
	if (r->multi == NULL) {
		inf_reflector_free(r);
		return score_fail(err, -ENOMEM, "curl_multi_init failed");
	}

	name = g_strdup_printf("reflector-%s", r->ops->name);
	r->thread = g_thread_try_new(name, run, r, &error);
	g_free(name);
	if (r->thread == NULL) {
		int rc = score_fail(err, -EAGAIN, "cannot start the %s reflector thread: %s",
				    r->ops->name, error->message);

		g_error_free(error);
		inf_reflector_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

bool inf_reflector_synced(inf_reflector *reflector)
{
	bool synced;

	g_mutex_lock(&reflector->mutex);
	synced = reflector->stats.synced;
	g_mutex_unlock(&reflector->mutex);
	return synced;
}

void inf_reflector_get_stats(inf_reflector *reflector,
			     inf_reflector_stats *stats)
{
	g_mutex_lock(&reflector->mutex);
	*stats = reflector->stats;
	g_mutex_unlock(&reflector->mutex);
}

bool inf_reflector_last_error(inf_reflector *reflector, score_error *err)
{
	bool has_error;

	g_mutex_lock(&reflector->mutex);
	has_error = reflector->has_error;
	if (has_error && err != NULL)
		*err = reflector->last_error;
	g_mutex_unlock(&reflector->mutex);
	return has_error;
}

void inf_reflector_free(inf_reflector *reflector)
{
	if (reflector == NULL)
		return;
	g_atomic_int_set(&reflector->stopping, 1);
	g_mutex_lock(&reflector->mutex);
	g_cond_broadcast(&reflector->wake);
	g_mutex_unlock(&reflector->mutex);
	if (reflector->multi != NULL)
		curl_multi_wakeup(reflector->multi);
	if (reflector->thread != NULL)
		g_thread_join(reflector->thread);
	if (reflector->multi != NULL)
		curl_multi_cleanup(reflector->multi);
	g_hash_table_unref(reflector->store);
	g_free(reflector->resource_version);
	g_cond_clear(&reflector->wake);
	g_mutex_clear(&reflector->mutex);
	g_free(reflector);
}

/* ---- Replaying a watch stream ------------------------------------------- */

int inf_reflector_replay_watch(inf_resource resource, score_model *model,
			       GRWLock *lock, const char *data, size_t length,
			       size_t chunk, inf_watch_replay *out,
			       score_error *err)
{
	inf_reflector *r;
	watch_stream w = {0};
	size_t offset = 0;

	memset(out, 0, sizeof(*out));
	if (resource >= INF_RESOURCE_COUNT)
		return score_fail(err, -EINVAL,
				  "reflector resource %d is not nodes, pods, namespaces or networkpolicies",
				  (int)resource);
	if (model == NULL || lock == NULL)
		return score_fail(err, -EINVAL,
				  "a watch replay needs a model and its lock");

	r = g_new0(inf_reflector, 1);
	r->config.resource = resource;
	r->config.model = model;
	r->config.lock = lock;
	r->config.max_event_bytes = INF_DEFAULT_MAX_EVENT_BYTES;
	r->ops = &ops_table[resource];
	g_mutex_init(&r->mutex);
	g_cond_init(&r->wake);
	r->store = new_key_set();

	/* The status is known, so watch_write() never asks libcurl for it. */
	w.r = r;
	w.status = 200;
	w.line = g_string_new(NULL);
	w.error_body = g_string_new(NULL);
	if (chunk == 0)
		chunk = length > 0 ? length : 1;
	while (offset < length) {
		size_t piece = MIN(chunk, length - offset);

		if (watch_write((char *)data + offset, 1, piece, &w) != piece)
			break;
		offset += piece;
	}

	out->events = w.events;
	out->objects = g_hash_table_size(r->store);
	out->error_event = w.error_event;
	out->broken = w.invalid;
	out->too_large = w.invalid && w.reason == INF_INVALID_TOO_LARGE;
	out->pending_bytes = w.line->len;
	out->consumed = offset;
	g_strlcpy(out->resource_version,
		  r->resource_version != NULL ? r->resource_version : "",
		  sizeof(out->resource_version));

	g_string_free(w.line, true);
	g_string_free(w.error_body, true);
	inf_reflector_free(r);
	return 0;
}
