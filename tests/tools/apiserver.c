/* A stand-in Kubernetes API server for stowage's integration tests.
 *
 *   apiserver [--fixture FILE] [--token TOKEN] [--tls-cert PEM --tls-key PEM]
 *
 * Listens on 127.0.0.1 on a free port, writes that port as one line on
 * stdout, and runs until its standard input reaches end of file (so it also
 * ends when the test that started it dies) or it gets SIGTERM.
 *
 * FILE is a v1 List of Node, Pod, Namespace, NetworkPolicy and Service
 * objects, as `kubectl get nodes,pods,namespaces,networkpolicies,services
 * -A -o json` writes it. Each gets its own resourceVersion in file order, and a random
 * uid when it has none. With --token, every /api and /apis request must carry
 * "Authorization: Bearer TOKEN" or gets 401. With --tls-cert and --tls-key
 * it serves HTTPS instead of HTTP.
 *
 * The API, with the real API server's shapes and status codes. PREFIX is
 * /api/v1 for nodes, pods, namespaces and services and
 * /apis/networking.k8s.io/v1 for networkpolicies:
 *   GET  PREFIX/RESOURCE, PREFIX/namespaces/NS/RESOURCE (namespaced ones)
 *        lists, with limit and continue; a continue token whose snapshot was
 *        compacted gets 410 Expired. Lists always serve the latest state:
 *        the resourceVersion parameter is accepted and ignored.
 *   GET  the same with watch=true: a chunked stream of one JSON event per
 *        line. resourceVersion absent or "0" starts with an ADDED event per
 *        object; resourceVersion=N streams the events after N, or a single
 *        ERROR event with a 410 Expired Status when N is older than the
 *        last compaction, as kube-apiserver's watch cache does (HTTP 200,
 *        then the ERROR event). allowWatchBookmarks=true enables BOOKMARK
 *        events; timeoutSeconds=N ends the stream after N seconds, with a
 *        bookmark first when bookmarks are enabled.
 *   GET  PREFIX/nodes/NAME, PREFIX/namespaces/NAME,
 *        PREFIX/namespaces/NS/RESOURCE/NAME
 *   POST /api/v1/namespaces/NS/pods/NAME/binding with a v1.Binding: 201 and
 *        a MODIFIED event; 409 when metadata.uid does not match the pod
 *        (precondition) or the pod already has spec.nodeName; 404 when the
 *        pod does not exist.
 *
 * Control endpoints for tests (JSON bodies, no authentication):
 *   POST /control/objects  {"type":"ADDED|MODIFIED|DELETED","object":{...}}
 *                          or an array of them; each change gets the next
 *                          resourceVersion. Returns {"resourceVersion":"N"}.
 *   POST /control/compact  drops the event history: watches from an older
 *                          resourceVersion and continue tokens taken before
 *                          now get 410. Open watches lose nothing.
 *   POST /control/faults   {"method":"GET","path":"/api/v1/pods",
 *                          "watch":true,"times":1, and one of:
 *                            "status":429,"retryAfter":1,"message":"..."
 *                            "delayMs":500 (alone: a slow response)
 *                            "cutAfterEvents":N (watch: cut the connection
 *                              halfway through event N+1; list: halfway
 *                              through the body)
 *                            "close":true (close without a response)}
 *                          Faults apply in the order added; "times" -1 means
 *                          every matching request; "continue":true matches
 *                          only list pages after the first.
 *   POST /control/clear-faults  drops the faults not yet used up.
 *   POST /control/settings {"watchGoneAsHTTP":true} responds to a watch from a
 *                          compacted resourceVersion with HTTP 410 instead;
 *                          {"token":"T"} requires the bearer token T from
 *                          the next request on, {"token":null} none. Open
 *                          watches keep streaming, as kube-apiserver's do
 *                          when a token is revoked.
 *   POST /control/inject   {"resource":"pods","line":"TEXT","then":[...]}
 *                          sends TEXT and a newline on every open watch of
 *                          the resource, after the events so far and
 *                          before any later one, so a test can break a
 *                          stream with a line that is not an event; 409
 *                          when no such watch is open. The optional "then"
 *                          changes (as for /control/objects) are applied
 *                          under the same lock, so their events follow the
 *                          line at once, usually in the same chunk.
 *   POST /control/bookmark every watch with bookmarks enabled sends one.
 *   POST /control/close-watches  ends every open watch cleanly.
 *   GET  /control/stats    resourceVersion, open watches, request counts
 *                          and the 401 responses sent ("unauthorized").
 *
 * Objects are kept as serialized JSON, so that lists of 100,000 objects are
 * served by copying text; a change parses only the object it changes.
 * Only for tests: the server keeps every snapshot and event in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>
#include <glib.h>
#include <microhttpd.h>

/* Bodies of POST requests: a Binding is a few hundred bytes, a batch of
 * objects for /control/objects a few MiB. */
#define MAX_BODY_BYTES (64 * 1024 * 1024)

/* How often a waiting watch wakes to check its deadline and shutdown. */
#define WATCH_POLL_US (100 * 1000)

typedef enum resource_id {
	RES_NODES = 0,
	RES_PODS,
	RES_NAMESPACES,
	RES_NETWORKPOLICIES,
	RES_SERVICES,
	RES_COUNT,
} resource_id;

typedef struct resource_info {
	const char *name; /* the URL segment */
	const char *kind;
	const char *list_kind;
	const char *api_version;
	bool namespaced;
} resource_info;

static const resource_info resources[RES_COUNT] = {
	[RES_NODES] = {"nodes", "Node", "NodeList", "v1", false},
	[RES_PODS] = {"pods", "Pod", "PodList", "v1", true},
	[RES_NAMESPACES] = {"namespaces", "Namespace", "NamespaceList", "v1", false},
	[RES_NETWORKPOLICIES] = {"networkpolicies", "NetworkPolicy",
				 "NetworkPolicyList", "networking.k8s.io/v1", true},
	[RES_SERVICES] = {"services", "Service", "ServiceList", "v1", true},
};

/* One stored object, shared by the store, list snapshots and events. */
typedef struct stored {
	gint refs;       /* atomic */
	char *item;      /* the object without kind and apiVersion */
	size_t length;
	char *namespace; /* NULL for cluster-scoped objects */
	char *uid;       /* NULL when the object has none */
} stored;

typedef struct event {
	uint64_t rv;
	resource_id resource;
	char *namespace;  /* NULL for cluster-scoped objects */
	char *line;       /* the serialized event with its newline */
} event;

/* A paginated list in progress: the objects as of `rv`. */
typedef struct snapshot {
	uint64_t rv;
	GPtrArray *objects; /* stored *, one reference each */
} snapshot;

typedef enum fault_kind {
	FAULT_STATUS = 0,
	FAULT_DELAY,
	FAULT_CUT,
	FAULT_CLOSE,
} fault_kind;

typedef struct fault {
	fault_kind kind;
	char *method;     /* NULL matches every method */
	char *path;       /* path prefix; NULL matches every API path */
	int watch;        /* -1 any request, 0 not a watch, 1 only a watch */
	bool need_continue; /* only list pages after the first */
	int status;
	char *message;    /* NULL for the usual message of `status` */
	int retry_after;  /* seconds, -1 for no Retry-After header */
	int delay_ms;     /* before anything is sent */
	int cut_after;    /* full events sent before the cut */
	int times;        /* -1 for unlimited */
} fault;

/* A line a test injected into a watch, with the resourceVersion it
 * follows. */
typedef struct injected_line {
	uint64_t after_rv;
	char *text; /* with its newline */
} injected_line;

/* One streamed response body: a watch, or a list body cut halfway. The
 * reader runs on the connection's own thread and may block. */
typedef struct watch_stream {
	struct server *srv;
	uint64_t cursor; /* the last resourceVersion sent */
	resource_id resource;
	char *namespace;      /* NULL: every namespace */
	bool is_watch;
	bool bookmarks;
	gint64 deadline_us;   /* monotonic; 0: none */
	uint64_t bookmark_generation;
	uint64_t close_generation;
	int cut_after;        /* -1: no cut */
	unsigned sent_events;
	GQueue injected;      /* injected_line *, guarded by the server lock */
	GString *pending;
	size_t pending_offset;
	bool cut_now;         /* end with an error once pending is sent */
	bool done;            /* end cleanly once pending is sent */
} watch_stream;

typedef struct server {
	GMutex lock;
	GCond changed;
	uint64_t rv;           /* the last resourceVersion handed out */
	uint64_t compacted_rv; /* watches from below this get 410 */
	GTree *objects[RES_COUNT]; /* "ns/name" or "name" -> stored * */
	GPtrArray *history;        /* event *, ascending rv */
	GHashTable *snapshots;     /* id -> snapshot * */
	unsigned next_snapshot;
	GQueue faults;             /* fault * */
	GPtrArray *watches;        /* open watch_stream *, borrowed */
	char *token;
	bool watch_gone_as_http;
	uint64_t bookmark_generation;
	uint64_t close_generation;
	bool stopping;

	unsigned lists[RES_COUNT];
	unsigned watch_requests[RES_COUNT];
	unsigned gets[RES_COUNT];
	unsigned binding_requests;
	unsigned bindings;
	unsigned faults_applied;
	unsigned unauthorized;
	unsigned bindings_in_flight;     /* binding requests being handled */
	unsigned bindings_in_flight_max;
} server;

/* ---- Small helpers ------------------------------------------------------- */

static void *must(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "apiserver: out of memory\n");
		abort();
	}
	return p;
}

static cJSON *object_member(cJSON *object, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(object, key);
}

static const char *string_member(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static void set_string(cJSON *object, const char *key, const char *value)
{
	cJSON *item = must(cJSON_CreateString(value));

	if (cJSON_HasObjectItem(object, key))
		cJSON_ReplaceItemInObjectCaseSensitive(object, key, item);
	else
		cJSON_AddItemToObject(object, key, item);
}

/* Returns metadata of `object`, adding an empty one when absent. */
static cJSON *metadata_of(cJSON *object)
{
	cJSON *metadata = object_member(object, "metadata");

	if (!cJSON_IsObject(metadata)) {
		cJSON_DeleteItemFromObjectCaseSensitive(object, "metadata");
		metadata = must(cJSON_AddObjectToObject(object, "metadata"));
	}
	return metadata;
}

static char *print_json(const cJSON *json)
{
	return must(cJSON_PrintUnformatted(json));
}

static bool parse_bool_arg(const char *text)
{
	/* Go's strconv.ParseBool, which the API server uses, accepts these. */
	return text != NULL &&
	       (strcmp(text, "true") == 0 || strcmp(text, "1") == 0 ||
		strcmp(text, "t") == 0 || strcmp(text, "T") == 0 ||
		strcmp(text, "TRUE") == 0 || strcmp(text, "True") == 0);
}

static bool parse_u64(const char *text, uint64_t *out)
{
	char *end;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	*out = g_ascii_strtoull(text, &end, 10);
	return errno == 0 && *end == '\0';
}

static int resource_by_kind(const char *kind)
{
	for (int i = 0; i < RES_COUNT; i++)
		if (kind != NULL && strcmp(resources[i].kind, kind) == 0)
			return i;
	return -1;
}

/* Returns the resource `name` served under the group version
 * `api_version`, or -1. */
static int resource_by_name(const char *name, const char *api_version)
{
	for (int i = 0; i < RES_COUNT; i++)
		if (strcmp(resources[i].name, name) == 0 &&
		    strcmp(resources[i].api_version, api_version) == 0)
			return i;
	return -1;
}

/* Returns the store key, "namespace/name" or "name"; the caller frees it. */
static char *object_key(resource_id resource, const cJSON *object)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	const char *name = string_member(metadata, "name");
	const char *namespace = string_member(metadata, "namespace");

	if (name == NULL || name[0] == '\0')
		return NULL;
	if (!resources[resource].namespaced)
		return g_strdup(name);
	return g_strdup_printf("%s/%s", namespace != NULL ? namespace : "",
			       name);
}

/* ---- Stored objects ------------------------------------------------------ */

/* Serializes `object` (consumed) without kind and apiVersion, which typed
 * list items lack, and keeps the fields the server looks up. */
static stored *stored_new(cJSON *object)
{
	stored *s = g_new0(stored, 1);
	const cJSON *metadata;
	char *text;

	cJSON_DeleteItemFromObjectCaseSensitive(object, "kind");
	cJSON_DeleteItemFromObjectCaseSensitive(object, "apiVersion");
	metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	s->refs = 1;
	s->namespace = g_strdup(string_member(metadata, "namespace"));
	s->uid = g_strdup(string_member(metadata, "uid"));
	text = print_json(object);
	s->item = g_strdup(text);
	s->length = strlen(s->item);
	cJSON_free(text);
	cJSON_Delete(object);
	return s;
}

static stored *stored_ref(stored *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

static void stored_unref(gpointer data)
{
	stored *s = data;

	if (s == NULL || !g_atomic_int_dec_and_test(&s->refs))
		return;
	g_free(s->item);
	g_free(s->namespace);
	g_free(s->uid);
	g_free(s);
}

/* Appends the whole object, kind and apiVersion first. */
static void append_full(GString *out, resource_id resource, const stored *s)
{
	g_string_append_printf(out, "{\"kind\":\"%s\",\"apiVersion\":\"%s\"",
			       resources[resource].kind,
			       resources[resource].api_version);
	/* s->item is "{...}": splice its members after ours. */
	if (s->length > 2)
		g_string_append_c(out, ',');
	g_string_append_len(out, s->item + 1, (gssize)(s->length - 1));
}

/* Returns the whole object parsed; the caller frees it. */
static cJSON *stored_parse(resource_id resource, const stored *s)
{
	GString *text = g_string_sized_new(s->length + 64);
	cJSON *object;

	append_full(text, resource, s);
	object = must(cJSON_ParseWithLength(text->str, text->len));
	g_string_free(text, true);
	return object;
}

/* ---- Responses ----------------------------------------------------------- */

/* Sends `body` (g_malloc'ed; the response frees it). */
static enum MHD_Result send_text(struct MHD_Connection *connection,
				 unsigned status, char *body, int retry_after)
{
	struct MHD_Response *response;
	enum MHD_Result result;

	response = MHD_create_response_from_buffer_with_free_callback(
		strlen(body), body, g_free);
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (retry_after >= 0) {
		char value[32];

		g_snprintf(value, sizeof(value), "%d", retry_after);
		MHD_add_response_header(response, "Retry-After", value);
	}
	result = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return result;
}

/* Sends `json` and frees it. */
static enum MHD_Result send_json(struct MHD_Connection *connection,
				 unsigned status, cJSON *json)
{
	char *text = print_json(json);
	char *body = g_strdup(text);

	cJSON_free(text);
	cJSON_Delete(json);
	return send_text(connection, status, body, -1);
}

static const char *default_reason(int code)
{
	switch (code) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 410: return "Expired";
	case 413: return "RequestEntityTooLarge";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return "";
	}
}

static const char *default_message(int code)
{
	switch (code) {
	case 401: return "Unauthorized";
	case 403: return "forbidden: the test API server rejects this request";
	case 429: return "Too many requests, please try again later.";
	case 500: return "Internal error occurred: injected by the test API server";
	case 503: return "the server is currently unable to handle the request";
	case 504: return "Timeout: request did not complete within the allowed duration";
	default: return "injected by the test API server";
	}
}

/* Builds a metav1.Status with status Failure, as the API server sends with
 * every error. `details_kind`, `details_name` and `retry_after` (< 0: none)
 * fill details. */
static cJSON *failure_status(int code, const char *reason, const char *message,
			     const char *details_kind, const char *details_name,
			     int retry_after)
{
	cJSON *status = must(cJSON_CreateObject());

	must(cJSON_AddStringToObject(status, "kind", "Status"));
	must(cJSON_AddStringToObject(status, "apiVersion", "v1"));
	must(cJSON_AddObjectToObject(status, "metadata"));
	must(cJSON_AddStringToObject(status, "status", "Failure"));
	must(cJSON_AddStringToObject(status, "message", message));
	must(cJSON_AddStringToObject(status, "reason",
				     reason != NULL ? reason : default_reason(code)));
	if (details_kind != NULL || details_name != NULL || retry_after >= 0) {
		cJSON *details = must(cJSON_AddObjectToObject(status, "details"));

		if (details_name != NULL)
			must(cJSON_AddStringToObject(details, "name", details_name));
		if (details_kind != NULL)
			must(cJSON_AddStringToObject(details, "kind", details_kind));
		if (retry_after >= 0)
			must(cJSON_AddNumberToObject(details, "retryAfterSeconds",
						     retry_after));
	}
	must(cJSON_AddNumberToObject(status, "code", code));
	return status;
}

static enum MHD_Result send_failure(struct MHD_Connection *connection,
				    int code, const char *reason,
				    const char *message,
				    const char *details_kind,
				    const char *details_name, int retry_after)
{
	cJSON *status = failure_status(code, reason, message, details_kind,
				       details_name, retry_after);
	char *text = print_json(status);
	char *body = g_strdup(text);

	cJSON_free(text);
	cJSON_Delete(status);
	return send_text(connection, (unsigned)code, body, retry_after);
}

/* ---- State changes ------------------------------------------------------- */

static gint compare_keys(gconstpointer a, gconstpointer b, gpointer data)
{
	(void)data;
	return strcmp(a, b);
}

static void event_free(gpointer data)
{
	event *e = data;

	g_free(e->namespace);
	g_free(e->line);
	g_free(e);
}

static void snapshot_free(gpointer data)
{
	snapshot *s = data;

	g_ptr_array_unref(s->objects);
	g_free(s);
}

static void fault_free(gpointer data)
{
	fault *f = data;

	g_free(f->method);
	g_free(f->path);
	g_free(f->message);
	g_free(f);
}

static void server_init(server *srv)
{
	memset(srv, 0, sizeof(*srv));
	g_mutex_init(&srv->lock);
	g_cond_init(&srv->changed);
	for (int i = 0; i < RES_COUNT; i++)
		srv->objects[i] = g_tree_new_full(compare_keys, NULL, g_free,
						  stored_unref);
	srv->history = g_ptr_array_new_with_free_func(event_free);
	srv->snapshots = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					       NULL, snapshot_free);
	g_queue_init(&srv->faults);
	srv->watches = g_ptr_array_new();
}

static void server_release(server *srv)
{
	for (int i = 0; i < RES_COUNT; i++)
		g_tree_destroy(srv->objects[i]);
	g_ptr_array_unref(srv->history);
	g_hash_table_destroy(srv->snapshots);
	g_queue_clear_full(&srv->faults, fault_free);
	g_ptr_array_unref(srv->watches);
	g_free(srv->token);
	g_cond_clear(&srv->changed);
	g_mutex_clear(&srv->lock);
}

static void record_event(server *srv, resource_id resource, const char *type,
			 const stored *s)
{
	event *e = g_new0(event, 1);
	GString *line = g_string_sized_new(s->length + 96);

	g_string_append_printf(line, "{\"type\":\"%s\",\"object\":", type);
	append_full(line, resource, s);
	g_string_append(line, "}\n");
	e->rv = srv->rv;
	e->resource = resource;
	e->namespace = g_strdup(s->namespace);
	e->line = g_string_free(line, false);
	g_ptr_array_add(srv->history, e);
	g_cond_broadcast(&srv->changed);
}

static void stamp_new_object(cJSON *object)
{
	cJSON *metadata = metadata_of(object);
	const char *uid = string_member(metadata, "uid");

	if (uid == NULL || uid[0] == '\0') {
		char *random = g_uuid_string_random();

		set_string(metadata, "uid", random);
		g_free(random);
	}
	if (string_member(metadata, "creationTimestamp") == NULL) {
		GDateTime *now = g_date_time_new_now_utc();
		char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");

		set_string(metadata, "creationTimestamp", stamp);
		g_free(stamp);
		g_date_time_unref(now);
	}
}

static const char *event_type(const char *type)
{
	if (strcmp(type, "ADDED") == 0)
		return "ADDED";
	if (strcmp(type, "MODIFIED") == 0)
		return "MODIFIED";
	if (strcmp(type, "DELETED") == 0)
		return "DELETED";
	return NULL;
}

/* Applies one change with the lock held. Takes ownership of `object`.
 * Returns 0, or an HTTP status with `message` set. */
static int apply_change(server *srv, const char *type, cJSON *object,
			char **message)
{
	const char *kind = string_member(object, "kind");
	int resource = resource_by_kind(kind);
	const char *static_type = event_type(type);
	char *key = NULL;
	stored *old, *s;
	char rv_text[32];
	int status = 0;

	if (resource < 0) {
		*message = g_strdup_printf("object kind %s is not Node, Pod, Namespace or NetworkPolicy",
					   kind != NULL ? kind : "(missing)");
		status = 400;
		goto out;
	}
	if (static_type == NULL) {
		*message = g_strdup_printf("change type %s is not ADDED, MODIFIED or DELETED",
					   type);
		status = 400;
		goto out;
	}
	if (resources[resource].namespaced &&
	    string_member(metadata_of(object), "namespace") == NULL)
		set_string(metadata_of(object), "namespace", "default");
	key = object_key(resource, object);
	if (key == NULL) {
		*message = g_strdup("object has no metadata.name");
		status = 400;
		goto out;
	}
	old = g_tree_lookup(srv->objects[resource], key);

	if (strcmp(static_type, "ADDED") == 0) {
		if (old != NULL) {
			*message = g_strdup_printf("%s %s already exists",
						   resources[resource].kind, key);
			status = 409;
			goto out;
		}
		stamp_new_object(object);
	} else {
		if (old == NULL) {
			*message = g_strdup_printf("%s %s not found",
						   resources[resource].kind, key);
			status = 404;
			goto out;
		}
		if (strcmp(static_type, "DELETED") == 0) {
			/* The DELETED event carries the last state. */
			cJSON_Delete(object);
			object = stored_parse((resource_id)resource, old);
		} else if (string_member(metadata_of(object), "uid") == NULL &&
			   old->uid != NULL) {
			set_string(metadata_of(object), "uid", old->uid);
		}
	}

	srv->rv++;
	g_snprintf(rv_text, sizeof(rv_text), "%" PRIu64, srv->rv);
	set_string(metadata_of(object), "resourceVersion", rv_text);
	s = stored_new(object);
	object = NULL;
	record_event(srv, (resource_id)resource, static_type, s);
	if (strcmp(static_type, "DELETED") == 0) {
		g_tree_remove(srv->objects[resource], key);
		stored_unref(s);
	} else {
		g_tree_replace(srv->objects[resource], key, s);
		key = NULL;
	}

out:
	g_free(key);
	cJSON_Delete(object);
	return status;
}

/* Drops the history up to now with the lock held, keeping the events that
 * an open watch has not sent yet. */
static void compact(server *srv)
{
	uint64_t keep_after = srv->rv;
	guint drop = 0;

	srv->compacted_rv = srv->rv;
	for (guint i = 0; i < srv->watches->len; i++) {
		const watch_stream *w = g_ptr_array_index(srv->watches, i);

		if (w->cursor < keep_after)
			keep_after = w->cursor;
	}
	while (drop < srv->history->len &&
	       ((event *)g_ptr_array_index(srv->history, drop))->rv <= keep_after)
		drop++;
	g_ptr_array_remove_range(srv->history, 0, drop);
	g_hash_table_remove_all(srv->snapshots);
}

/* ---- Faults -------------------------------------------------------------- */

/* Takes the first fault matching the request, with the lock held. Returns
 * a copy the caller frees with fault_free(), or NULL. */
static fault *take_fault(server *srv, const char *method, const char *url,
			 bool watch, bool has_continue)
{
	for (GList *link = srv->faults.head; link != NULL; link = link->next) {
		fault *f = link->data;
		fault *copy;

		if (f->method != NULL && strcmp(f->method, method) != 0)
			continue;
		if (f->path != NULL && !g_str_has_prefix(url, f->path))
			continue;
		if (f->watch >= 0 && f->watch != (int)watch)
			continue;
		if (f->need_continue && !has_continue)
			continue;

		copy = g_memdup2(f, sizeof(*f));
		copy->method = g_strdup(f->method);
		copy->path = g_strdup(f->path);
		copy->message = g_strdup(f->message);
		srv->faults_applied++;
		if (f->times > 0 && --f->times == 0) {
			g_queue_delete_link(&srv->faults, link);
			fault_free(f);
		}
		return copy;
	}
	return NULL;
}

static int parse_fault(const cJSON *json, fault **out, char **message)
{
	fault *f = g_new0(fault, 1);
	const cJSON *item;

	f->watch = -1;
	f->retry_after = -1;
	f->times = 1;
	f->method = g_strdup(string_member(json, "method"));
	f->path = g_strdup(string_member(json, "path"));
	f->message = g_strdup(string_member(json, "message"));
	item = cJSON_GetObjectItemCaseSensitive(json, "watch");
	if (cJSON_IsBool(item))
		f->watch = cJSON_IsTrue(item);
	f->need_continue = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "continue"));
	item = cJSON_GetObjectItemCaseSensitive(json, "times");
	if (cJSON_IsNumber(item))
		f->times = item->valueint;
	item = cJSON_GetObjectItemCaseSensitive(json, "retryAfter");
	if (cJSON_IsNumber(item))
		f->retry_after = item->valueint;
	item = cJSON_GetObjectItemCaseSensitive(json, "delayMs");
	if (cJSON_IsNumber(item))
		f->delay_ms = item->valueint;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "close"))) {
		f->kind = FAULT_CLOSE;
	} else if (cJSON_IsNumber(item = cJSON_GetObjectItemCaseSensitive(
					  json, "cutAfterEvents"))) {
		f->kind = FAULT_CUT;
		f->cut_after = item->valueint;
	} else if (cJSON_IsNumber(item = cJSON_GetObjectItemCaseSensitive(
					  json, "status"))) {
		f->kind = FAULT_STATUS;
		f->status = item->valueint;
	} else if (f->delay_ms > 0) {
		f->kind = FAULT_DELAY;
	} else {
		*message = g_strdup("a fault needs status, delayMs, cutAfterEvents or close");
		fault_free(f);
		return 400;
	}
	if (f->times == 0) {
		*message = g_strdup("times must be -1 or positive");
		fault_free(f);
		return 400;
	}
	*out = f;
	return 0;
}

/* ---- Streaming responses ------------------------------------------------- */

static void bookmark_line(const watch_stream *w, uint64_t rv, GString *out)
{
	g_string_append_printf(out,
			       "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\",\"creationTimestamp\":null}}}\n",
			       resources[w->resource].kind,
			       resources[w->resource].api_version, rv);
}

/* Appends `line`, or half of it when the cut is due. */
static void append_event(watch_stream *w, const char *line, size_t length)
{
	if (w->cut_after >= 0 && w->sent_events == (unsigned)w->cut_after) {
		g_string_append_len(w->pending, line, (gssize)(length / 2));
		w->cut_now = true;
		return;
	}
	g_string_append_len(w->pending, line, (gssize)length);
	w->sent_events++;
}

static void injected_line_free(gpointer data)
{
	injected_line *line = data;

	g_free(line->text);
	g_free(line);
}

/* Moves the injected lines that precede resourceVersion `before_rv` into
 * pending, with the lock held. */
static void flush_injected(watch_stream *w, uint64_t before_rv)
{
	injected_line *line;

	while ((line = g_queue_peek_head(&w->injected)) != NULL &&
	       line->after_rv < before_rv) {
		g_queue_pop_head(&w->injected);
		g_string_append(w->pending, line->text);
		injected_line_free(line);
	}
}

/* Moves the events after the cursor, and the lines injected between them,
 * into pending, with the lock held. */
static void collect_events(watch_stream *w)
{
	server *srv = w->srv;
	guint low = 0, high = srv->history->len;

	while (low < high) {
		guint mid = low + (high - low) / 2;

		if (((event *)g_ptr_array_index(srv->history, mid))->rv <= w->cursor)
			low = mid + 1;
		else
			high = mid;
	}
	for (guint i = low; i < srv->history->len && !w->cut_now; i++) {
		event *e = g_ptr_array_index(srv->history, i);

		flush_injected(w, e->rv);
		w->cursor = e->rv;
		if (e->resource != w->resource)
			continue;
		if (w->namespace != NULL &&
		    g_strcmp0(e->namespace, w->namespace) != 0)
			continue;
		append_event(w, e->line, strlen(e->line));
	}
	if (!w->cut_now)
		flush_injected(w, UINT64_MAX);
}

/* Waits for something to send, with the lock held. */
static void refill(watch_stream *w)
{
	server *srv = w->srv;

	for (;;) {
		gint64 now = g_get_monotonic_time();
		gint64 wake = now + WATCH_POLL_US;

		if (srv->stopping || srv->close_generation != w->close_generation) {
			w->done = true;
			return;
		}
		collect_events(w);
		if (w->cut_now || w->pending->len > 0)
			return;
		if (w->bookmarks &&
		    srv->bookmark_generation != w->bookmark_generation) {
			w->bookmark_generation = srv->bookmark_generation;
			w->cursor = srv->rv;
			bookmark_line(w, srv->rv, w->pending);
			return;
		}
		if (w->deadline_us != 0 && now >= w->deadline_us) {
			if (w->bookmarks)
				bookmark_line(w, srv->rv, w->pending);
			w->done = true;
			return;
		}
		if (w->deadline_us != 0 && wake > w->deadline_us)
			wake = w->deadline_us;
		g_cond_wait_until(&srv->changed, &srv->lock, wake);
	}
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	watch_stream *w = cls;
	size_t available;

	(void)pos;
	if (w->pending_offset == w->pending->len) {
		g_string_truncate(w->pending, 0);
		w->pending_offset = 0;
		if (w->cut_now)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (w->done || !w->is_watch)
			return MHD_CONTENT_READER_END_OF_STREAM;
		g_mutex_lock(&w->srv->lock);
		refill(w);
		g_mutex_unlock(&w->srv->lock);
		if (w->pending->len == 0)
			return w->cut_now ? MHD_CONTENT_READER_END_WITH_ERROR :
					    MHD_CONTENT_READER_END_OF_STREAM;
	}
	available = w->pending->len - w->pending_offset;
	if (available > max)
		available = max;
	memcpy(buf, w->pending->str + w->pending_offset, available);
	w->pending_offset += available;
	return (ssize_t)available;
}

static void stream_free(void *cls)
{
	watch_stream *w = cls;

	if (w->is_watch) {
		g_mutex_lock(&w->srv->lock);
		g_ptr_array_remove_fast(w->srv->watches, w);
		g_mutex_unlock(&w->srv->lock);
	}
	g_queue_clear_full(&w->injected, injected_line_free);
	g_string_free(w->pending, true);
	g_free(w->namespace);
	g_free(w);
}

static enum MHD_Result send_stream(struct MHD_Connection *connection,
				   watch_stream *w)
{
	struct MHD_Response *response;
	enum MHD_Result result;

	response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
						     stream_reader, w,
						     stream_free);
	MHD_add_response_header(response, "Content-Type", "application/json");
	result = MHD_queue_response(connection, MHD_HTTP_OK, response);
	MHD_destroy_response(response);
	return result;
}

/* ---- List, get, watch ---------------------------------------------------- */

typedef struct list_walk {
	const char *namespace;
	GPtrArray *objects;
} list_walk;

static gboolean collect_object(gpointer key, gpointer value, gpointer data)
{
	list_walk *walk = data;
	stored *s = value;

	(void)key;
	if (walk->namespace == NULL || g_strcmp0(s->namespace, walk->namespace) == 0)
		g_ptr_array_add(walk->objects, stored_ref(s));
	return false;
}

/* Returns the snapshot a continue token names, with the lock held, or
 * NULL when it is malformed or was compacted away. */
static snapshot *snapshot_of_token(server *srv, const char *token,
				   uint64_t *id, uint64_t *offset)
{
	gsize length = 0;
	guchar *decoded = g_base64_decode(token, &length);
	char *text = g_strndup((const char *)decoded, length);
	char **parts = g_strsplit(text, ":", 2);
	snapshot *snap = NULL;

	if (g_strv_length(parts) == 2 && parse_u64(parts[0], id) &&
	    parse_u64(parts[1], offset))
		snap = g_hash_table_lookup(srv->snapshots,
					   GUINT_TO_POINTER((guint)*id));
	g_strfreev(parts);
	g_free(text);
	g_free(decoded);
	return snap;
}

/* Appends one page of `snap` as a typed list, from `offset` up to
 * `limit` items (0: all). Returns the index after the last item sent. */
static uint64_t append_page(GString *body, resource_id resource,
			    const snapshot *snap, uint64_t id, uint64_t offset,
			    uint64_t limit)
{
	uint64_t end = snap->objects->len;

	if (limit > 0 && offset + limit < end)
		end = offset + limit;
	g_string_append_printf(body,
			       "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"",
			       resources[resource].list_kind,
			       resources[resource].api_version, snap->rv);
	if (end < snap->objects->len) {
		char *plain = g_strdup_printf("%" PRIu64 ":%" PRIu64, id, end);
		char *next = g_base64_encode((const guchar *)plain, strlen(plain));

		g_string_append_printf(body,
				       ",\"continue\":\"%s\",\"remainingItemCount\":%" PRIu64,
				       next, (uint64_t)snap->objects->len - end);
		g_free(next);
		g_free(plain);
	}
	g_string_append(body, "},\"items\":[");
	for (uint64_t i = offset; i < end; i++) {
		const stored *s = g_ptr_array_index(snap->objects, i);

		if (i > offset)
			g_string_append_c(body, ',');
		g_string_append_len(body, s->item, (gssize)s->length);
	}
	g_string_append(body, "]}");
	return end;
}

static enum MHD_Result handle_list(server *srv,
				   struct MHD_Connection *connection,
				   resource_id resource, const char *namespace,
				   const fault *f)
{
	const char *limit_text = MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "limit");
	const char *token = MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "continue");
	uint64_t limit = 0, offset = 0, id = 0, end;
	snapshot *snap = NULL;
	GString *body;

	if (limit_text != NULL && !parse_u64(limit_text, &limit))
		return send_failure(connection, 400, NULL, "limit must be a non-negative integer",
				    NULL, NULL, -1);

	g_mutex_lock(&srv->lock);
	srv->lists[resource]++;
	if (token != NULL && token[0] != '\0') {
		snap = snapshot_of_token(srv, token, &id, &offset);
		if (snap == NULL) {
			g_mutex_unlock(&srv->lock);
			return send_failure(connection, 410, "Expired",
					    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
					    NULL, NULL, -1);
		}
	} else {
		list_walk walk = {namespace, g_ptr_array_new_with_free_func(stored_unref)};

		g_tree_foreach(srv->objects[resource], collect_object, &walk);
		snap = g_new0(snapshot, 1);
		snap->rv = srv->rv;
		snap->objects = walk.objects;
		id = ++srv->next_snapshot;
		g_hash_table_insert(srv->snapshots, GUINT_TO_POINTER((guint)id),
				    snap);
	}

	/* A page holds `limit` objects of a few KiB each, so it is built
	 * under the lock; the snapshot may be dropped right after. */
	body = g_string_sized_new(4096);
	end = append_page(body, resource, snap, id, offset, limit);
	if (end >= snap->objects->len)
		g_hash_table_remove(srv->snapshots, GUINT_TO_POINTER((guint)id));
	g_mutex_unlock(&srv->lock);

	if (f != NULL && f->kind == FAULT_CUT) {
		watch_stream *w = g_new0(watch_stream, 1);

		w->srv = srv;
		w->cut_after = -1;
		w->pending = g_string_new_len(body->str, (gssize)(body->len / 2));
		w->cut_now = true;
		g_string_free(body, true);
		return send_stream(connection, w);
	}
	return send_text(connection, MHD_HTTP_OK, g_string_free(body, false), -1);
}

static enum MHD_Result handle_get(server *srv, struct MHD_Connection *connection,
				  resource_id resource, const char *namespace,
				  const char *name)
{
	char *key = namespace != NULL ? g_strdup_printf("%s/%s", namespace, name)
				      : g_strdup(name);
	GString *text = NULL;
	stored *s;
	char *message;
	enum MHD_Result result;

	g_mutex_lock(&srv->lock);
	srv->gets[resource]++;
	s = g_tree_lookup(srv->objects[resource], key);
	if (s != NULL) {
		text = g_string_sized_new(s->length + 64);
		append_full(text, resource, s);
	}
	g_mutex_unlock(&srv->lock);
	g_free(key);

	if (text != NULL)
		return send_text(connection, MHD_HTTP_OK, g_string_free(text, false), -1);
	message = g_strdup_printf("%s \"%s\" not found", resources[resource].name,
				  name);
	result = send_failure(connection, 404, "NotFound", message,
			      resources[resource].name, name, -1);
	g_free(message);
	return result;
}

static void add_initial_events(watch_stream *w)
{
	list_walk walk = {w->namespace, g_ptr_array_new_with_free_func(stored_unref)};
	GString *line = g_string_new(NULL);

	g_tree_foreach(w->srv->objects[w->resource], collect_object, &walk);
	for (guint i = 0; i < walk.objects->len && !w->cut_now; i++) {
		g_string_assign(line, "{\"type\":\"ADDED\",\"object\":");
		append_full(line, w->resource, g_ptr_array_index(walk.objects, i));
		g_string_append(line, "}\n");
		append_event(w, line->str, line->len);
	}
	g_string_free(line, true);
	g_ptr_array_unref(walk.objects);
}

/* Starts the stream of a watch from a compacted resourceVersion: one
 * ERROR event, or HTTP 410 with watchGoneAsHTTP. Consumes `w`; called
 * with the lock held and releases it. */
static enum MHD_Result send_gone(server *srv, struct MHD_Connection *connection,
				 watch_stream *w, uint64_t rv)
{
	char *message = g_strdup_printf("too old resource version: %" PRIu64 " (%" PRIu64 ")",
					rv, srv->compacted_rv);
	bool as_http = srv->watch_gone_as_http;
	cJSON *wrapper, *status;
	char *text;

	g_mutex_unlock(&srv->lock);
	if (as_http) {
		enum MHD_Result result = send_failure(connection, 410, "Expired",
						      message, NULL, NULL, -1);

		g_free(message);
		stream_free(w);
		return result;
	}
	status = failure_status(410, "Expired", message, NULL, NULL, -1);
	wrapper = must(cJSON_CreateObject());
	must(cJSON_AddStringToObject(wrapper, "type", "ERROR"));
	cJSON_AddItemToObject(wrapper, "object", status);
	text = print_json(wrapper);
	g_string_append_printf(w->pending, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(wrapper);
	g_free(message);
	w->is_watch = false; /* ends after the ERROR event */
	return send_stream(connection, w);
}

static enum MHD_Result handle_watch(server *srv,
				    struct MHD_Connection *connection,
				    resource_id resource, const char *namespace,
				    const fault *f)
{
	const char *rv_text = MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "resourceVersion");
	const char *timeout_text = MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "timeoutSeconds");
	const char *bookmarks_text = MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "allowWatchBookmarks");
	uint64_t rv = 0, timeout_s = 0;
	watch_stream *w;

	if (rv_text != NULL && rv_text[0] != '\0' && !parse_u64(rv_text, &rv))
		return send_failure(connection, 400, NULL,
				    "resourceVersion: Invalid value: not a resource version",
				    NULL, NULL, -1);
	if (timeout_text != NULL && !parse_u64(timeout_text, &timeout_s))
		return send_failure(connection, 400, NULL,
				    "timeoutSeconds must be a non-negative integer",
				    NULL, NULL, -1);

	w = g_new0(watch_stream, 1);
	w->srv = srv;
	w->resource = resource;
	w->namespace = g_strdup(namespace);
	w->is_watch = true;
	w->bookmarks = parse_bool_arg(bookmarks_text);
	w->cut_after = f != NULL && f->kind == FAULT_CUT ? f->cut_after : -1;
	w->pending = g_string_new(NULL);
	if (timeout_s > 0)
		w->deadline_us = g_get_monotonic_time() +
				 (gint64)timeout_s * G_USEC_PER_SEC;

	g_mutex_lock(&srv->lock);
	srv->watch_requests[resource]++;
	w->bookmark_generation = srv->bookmark_generation;
	w->close_generation = srv->close_generation;
	if (rv != 0 && rv < srv->compacted_rv)
		return send_gone(srv, connection, w, rv);
	if (rv == 0) {
		add_initial_events(w);
		w->cursor = srv->rv;
	} else {
		w->cursor = rv;
	}
	g_ptr_array_add(srv->watches, w);
	g_mutex_unlock(&srv->lock);
	return send_stream(connection, w);
}

/* ---- Binding ------------------------------------------------------------- */

/* Checks and applies a binding with the lock held. Returns 0, or an HTTP
 * status with `message` set. */
static int bind_pod(server *srv, const char *namespace, const char *name,
		    const cJSON *binding, const char **details_kind,
		    char **message)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(binding, "metadata");
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(binding, "target");
	const char *binding_name = string_member(metadata, "name");
	const char *uid = string_member(metadata, "uid");
	const char *node = string_member(target, "name");
	char *key = g_strdup_printf("%s/%s", namespace, name);
	const char *bound_to;
	cJSON *pod = NULL, *spec;
	stored *s;
	int code = 0;

	if (!cJSON_IsObject(binding)) {
		code = 400;
		*message = g_strdup("the request body is not a JSON object");
		goto out;
	}
	if (binding_name != NULL && strcmp(binding_name, name) != 0) {
		code = 400;
		*message = g_strdup("name in URL does not match name in Binding object");
		goto out;
	}
	if (node == NULL || node[0] == '\0') {
		code = 422;
		*message = g_strdup_printf("Binding.core \"%s\" is invalid: target.name: Required value",
					   name);
		goto out;
	}
	s = g_tree_lookup(srv->objects[RES_PODS], key);
	if (s == NULL) {
		code = 404;
		*message = g_strdup_printf("pods \"%s\" not found", name);
		goto out;
	}
	if (uid != NULL && uid[0] != '\0' && g_strcmp0(uid, s->uid) != 0) {
		code = 409;
		*message = g_strdup_printf("Operation cannot be fulfilled on pods \"%s\": Precondition failed: UID in precondition: %s, UID in object meta: %s",
					   name, uid, s->uid != NULL ? s->uid : "");
		goto out;
	}
	pod = stored_parse(RES_PODS, s);
	spec = object_member(pod, "spec");
	bound_to = string_member(spec, "nodeName");
	if (bound_to != NULL && bound_to[0] != '\0') {
		code = 409;
		*details_kind = "pods/binding";
		*message = g_strdup_printf("Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already assigned to node \"%s\"",
					   name, name, bound_to);
		goto out;
	}

	if (!cJSON_IsObject(spec)) {
		cJSON_DeleteItemFromObjectCaseSensitive(pod, "spec");
		spec = must(cJSON_AddObjectToObject(pod, "spec"));
	}
	set_string(spec, "nodeName", node);
	code = apply_change(srv, "MODIFIED", pod, message);
	pod = NULL;
	if (code == 0)
		srv->bindings++;
out:
	cJSON_Delete(pod);
	g_free(key);
	return code;
}

static enum MHD_Result handle_binding(server *srv,
				      struct MHD_Connection *connection,
				      const char *namespace, const char *name,
				      const GString *body)
{
	cJSON *binding = cJSON_ParseWithLength(body->str, body->len);
	const char *details_kind = "pods";
	char *message = NULL;
	enum MHD_Result result;
	int code;

	g_mutex_lock(&srv->lock);
	srv->binding_requests++;
	code = bind_pod(srv, namespace, name, binding, &details_kind, &message);
	g_mutex_unlock(&srv->lock);
	cJSON_Delete(binding);

	if (code == 0) {
		cJSON *status = must(cJSON_CreateObject());

		must(cJSON_AddStringToObject(status, "kind", "Status"));
		must(cJSON_AddStringToObject(status, "apiVersion", "v1"));
		must(cJSON_AddObjectToObject(status, "metadata"));
		must(cJSON_AddStringToObject(status, "status", "Success"));
		must(cJSON_AddNumberToObject(status, "code", 201));
		return send_json(connection, MHD_HTTP_CREATED, status);
	}
	result = send_failure(connection, code, NULL, message, details_kind,
			      name, -1);
	g_free(message);
	return result;
}

/* ---- Control ------------------------------------------------------------- */

static cJSON *stats_json(server *srv)
{
	cJSON *stats = must(cJSON_CreateObject());
	cJSON *watches, *lists, *watch_requests, *gets, *objects;
	unsigned open[RES_COUNT] = {0};
	char rv_text[32];

	g_snprintf(rv_text, sizeof(rv_text), "%" PRIu64, srv->rv);
	must(cJSON_AddStringToObject(stats, "resourceVersion", rv_text));
	g_snprintf(rv_text, sizeof(rv_text), "%" PRIu64, srv->compacted_rv);
	must(cJSON_AddStringToObject(stats, "compactedResourceVersion", rv_text));
	for (guint i = 0; i < srv->watches->len; i++)
		open[((watch_stream *)g_ptr_array_index(srv->watches, i))->resource]++;
	watches = must(cJSON_AddObjectToObject(stats, "watches"));
	lists = must(cJSON_AddObjectToObject(stats, "lists"));
	watch_requests = must(cJSON_AddObjectToObject(stats, "watchRequests"));
	gets = must(cJSON_AddObjectToObject(stats, "gets"));
	objects = must(cJSON_AddObjectToObject(stats, "objects"));
	for (int i = 0; i < RES_COUNT; i++) {
		must(cJSON_AddNumberToObject(watches, resources[i].name, open[i]));
		must(cJSON_AddNumberToObject(lists, resources[i].name, srv->lists[i]));
		must(cJSON_AddNumberToObject(watch_requests, resources[i].name,
					     srv->watch_requests[i]));
		must(cJSON_AddNumberToObject(gets, resources[i].name, srv->gets[i]));
		must(cJSON_AddNumberToObject(objects, resources[i].name,
					     g_tree_nnodes(srv->objects[i])));
	}
	must(cJSON_AddNumberToObject(stats, "bindingRequests", srv->binding_requests));
	must(cJSON_AddNumberToObject(stats, "bindings", srv->bindings));
	must(cJSON_AddNumberToObject(stats, "faults", srv->faults.length));
	must(cJSON_AddNumberToObject(stats, "faultsApplied", srv->faults_applied));
	must(cJSON_AddNumberToObject(stats, "unauthorized", srv->unauthorized));
	must(cJSON_AddNumberToObject(stats, "bindingsInFlightMax",
				     srv->bindings_in_flight_max));
	return stats;
}

/* Applies an array of changes with the lock held. With `move`, the
 * objects move out of `changes` instead of being copied. */
static int apply_change_array(server *srv, cJSON *changes, bool move,
			      char **message)
{
	int status = 0;

	for (cJSON *change = changes->child; change != NULL && status == 0;
	     change = change->next) {
		const char *type = string_member(change, "type");
		cJSON *object = cJSON_GetObjectItemCaseSensitive(change, "object");

		if (type == NULL || !cJSON_IsObject(object)) {
			*message = g_strdup("a change needs a type and an object");
			status = 400;
			break;
		}
		if (move)
			object = cJSON_DetachItemViaPointer(change, object);
		else
			object = must(cJSON_Duplicate(object, true));
		status = apply_change(srv, type, object, message);
	}
	return status;
}

static int control_objects(server *srv, cJSON *json, char **message)
{
	cJSON *changes = json;
	int status;

	if (cJSON_IsObject(json)) {
		changes = must(cJSON_CreateArray());
		cJSON_AddItemReferenceToArray(changes, json);
	}
	if (!cJSON_IsArray(changes)) {
		*message = g_strdup("the body must be a change object or an array of them");
		return 400;
	}
	/* Batches can be large, so the objects move over instead of being
	 * copied. A reference wrapper (a single change) still needs the
	 * copy. */
	g_mutex_lock(&srv->lock);
	status = apply_change_array(srv, changes, changes == json, message);
	g_mutex_unlock(&srv->lock);
	if (changes != json)
		cJSON_Delete(changes);
	return status;
}

/* Queues `text` and a newline on every open watch of `resource`, to be
 * sent after the events up to now and before any later one. Called with
 * the lock held; returns the number of watches. */
static unsigned inject_line(server *srv, resource_id resource, const char *text)
{
	unsigned count = 0;

	for (guint i = 0; i < srv->watches->len; i++) {
		watch_stream *w = g_ptr_array_index(srv->watches, i);
		injected_line *line;

		if (w->resource != resource)
			continue;
		line = g_new0(injected_line, 1);
		line->after_rv = srv->rv;
		line->text = g_strconcat(text, "\n", NULL);
		g_queue_push_tail(&w->injected, line);
		count++;
	}
	g_cond_broadcast(&srv->changed);
	return count;
}

static int control_inject(server *srv, cJSON *json, char **message)
{
	const char *name = string_member(json, "resource");
	const char *text = string_member(json, "line");
	cJSON *then = cJSON_GetObjectItemCaseSensitive(json, "then");
	int resource = -1, status = 0;

	for (int i = 0; i < RES_COUNT && name != NULL; i++)
		if (strcmp(resources[i].name, name) == 0)
			resource = i;
	if (resource < 0 || text == NULL) {
		*message = g_strdup("inject needs a resource (nodes, pods, namespaces, networkpolicies or services) and a line");
		return 400;
	}
	if (then != NULL && !cJSON_IsArray(then)) {
		*message = g_strdup("then must be an array of changes");
		return 400;
	}
	g_mutex_lock(&srv->lock);
	if (inject_line(srv, (resource_id)resource, text) == 0) {
		*message = g_strdup_printf("no open %s watch to inject a line into", name);
		status = 409;
	} else if (then != NULL) {
		status = apply_change_array(srv, then, false, message);
	}
	g_mutex_unlock(&srv->lock);
	return status;
}

static int control_settings(server *srv, const cJSON *json, char **message)
{
	const cJSON *gone = cJSON_GetObjectItemCaseSensitive(json, "watchGoneAsHTTP");
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(json, "token");

	if (token != NULL && !cJSON_IsNull(token) &&
	    (!cJSON_IsString(token) || token->valuestring[0] == '\0')) {
		*message = g_strdup("token must be a non-empty string or null");
		return 400;
	}
	g_mutex_lock(&srv->lock);
	if (cJSON_IsBool(gone))
		srv->watch_gone_as_http = cJSON_IsTrue(gone);
	if (token != NULL) {
		g_free(srv->token);
		srv->token = cJSON_IsString(token) ? g_strdup(token->valuestring) : NULL;
	}
	g_mutex_unlock(&srv->lock);
	return 0;
}

static enum MHD_Result handle_control(server *srv,
				      struct MHD_Connection *connection,
				      const char *method, const char *url,
				      const GString *body)
{
	cJSON *json = NULL, *reply;
	char *message = NULL;
	int status = 0;
	char rv_text[32];

	if (strcmp(method, "GET") == 0 && strcmp(url, "/control/stats") == 0) {
		g_mutex_lock(&srv->lock);
		reply = stats_json(srv);
		g_mutex_unlock(&srv->lock);
		return send_json(connection, MHD_HTTP_OK, reply);
	}
	if (strcmp(method, "POST") != 0)
		return send_failure(connection, 405, NULL, "control endpoints take POST",
				    NULL, NULL, -1);
	if (body->len > 0) {
		json = cJSON_ParseWithLength(body->str, body->len);
		if (json == NULL)
			return send_failure(connection, 400, NULL,
					    "the control request body is not JSON",
					    NULL, NULL, -1);
	}

	if (strcmp(url, "/control/objects") == 0) {
		status = control_objects(srv, json, &message);
	} else if (strcmp(url, "/control/compact") == 0) {
		g_mutex_lock(&srv->lock);
		compact(srv);
		g_mutex_unlock(&srv->lock);
	} else if (strcmp(url, "/control/faults") == 0) {
		fault *f = NULL;

		status = parse_fault(json, &f, &message);
		if (status == 0) {
			g_mutex_lock(&srv->lock);
			g_queue_push_tail(&srv->faults, f);
			g_mutex_unlock(&srv->lock);
		}
	} else if (strcmp(url, "/control/clear-faults") == 0) {
		g_mutex_lock(&srv->lock);
		g_queue_clear_full(&srv->faults, fault_free);
		g_mutex_unlock(&srv->lock);
	} else if (strcmp(url, "/control/settings") == 0) {
		status = control_settings(srv, json, &message);
	} else if (strcmp(url, "/control/inject") == 0) {
		status = control_inject(srv, json, &message);
	} else if (strcmp(url, "/control/bookmark") == 0) {
		g_mutex_lock(&srv->lock);
		srv->bookmark_generation++;
		g_cond_broadcast(&srv->changed);
		g_mutex_unlock(&srv->lock);
	} else if (strcmp(url, "/control/close-watches") == 0) {
		g_mutex_lock(&srv->lock);
		srv->close_generation++;
		g_cond_broadcast(&srv->changed);
		g_mutex_unlock(&srv->lock);
	} else {
		status = 404;
		message = g_strdup_printf("no control endpoint %s", url);
	}
	cJSON_Delete(json);

	if (status != 0) {
		enum MHD_Result result = send_failure(connection, status, NULL,
						      message, NULL, NULL, -1);

		g_free(message);
		return result;
	}
	reply = must(cJSON_CreateObject());
	g_mutex_lock(&srv->lock);
	g_snprintf(rv_text, sizeof(rv_text), "%" PRIu64, srv->rv);
	g_mutex_unlock(&srv->lock);
	must(cJSON_AddStringToObject(reply, "resourceVersion", rv_text));
	return send_json(connection, MHD_HTTP_OK, reply);
}

/* ---- Routing ------------------------------------------------------------- */

typedef struct request {
	GString *body;
	bool too_large;
} request;

/* Checks the bearer token and counts a rejection. */
static bool authorized(server *srv, struct MHD_Connection *connection)
{
	const char *header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 "Authorization");
	bool ok = true;

	g_mutex_lock(&srv->lock);
	if (srv->token != NULL) {
		char *expected = g_strdup_printf("Bearer %s", srv->token);

		ok = header != NULL && strcmp(header, expected) == 0;
		g_free(expected);
	}
	if (!ok)
		srv->unauthorized++;
	g_mutex_unlock(&srv->lock);
	return ok;
}

static enum MHD_Result apply_fault_status(struct MHD_Connection *connection,
					  const fault *f)
{
	return send_failure(connection, f->status, NULL,
			    f->message != NULL ? f->message : default_message(f->status),
			    NULL, NULL, f->retry_after);
}

/* The parts of an API path after the group version. */
typedef struct api_path {
	const char *api_version; /* "v1" or "networking.k8s.io/v1" */
	char **rest;             /* borrowed from the split path */
	guint n;
} api_path;

/* Splits /api/v1/... and /apis/networking.k8s.io/v1/...; returns false
 * for any other group. */
static bool split_api_path(char **parts, api_path *path)
{
	guint n = g_strv_length(parts);

	if (n >= 2 && strcmp(parts[0], "api") == 0 && strcmp(parts[1], "v1") == 0) {
		path->api_version = "v1";
		path->rest = parts + 2;
		path->n = n - 2;
		return true;
	}
	if (n >= 3 && strcmp(parts[0], "apis") == 0 &&
	    strcmp(parts[1], "networking.k8s.io") == 0 && strcmp(parts[2], "v1") == 0) {
		path->api_version = "networking.k8s.io/v1";
		path->rest = parts + 3;
		path->n = n - 3;
		return true;
	}
	return false;
}

/* Serves one authorized API request. */
static enum MHD_Result serve_api(server *srv, struct MHD_Connection *connection,
				 const char *method, const api_path *path,
				 bool watch, const GString *body, const fault *f)
{
	char **rest = path->rest;
	const char *namespace = NULL, *name = NULL;
	int resource = -1;

	/* rest: RESOURCE [NAME] | namespaces NS RESOURCE [NAME [binding]] */
	if (path->n == 0)
		goto not_found;
	if (path->n >= 3 && strcmp(rest[0], "namespaces") == 0) {
		namespace = rest[1];
		resource = resource_by_name(rest[2], path->api_version);
		if (resource < 0 || !resources[resource].namespaced)
			goto not_found;
		if (path->n == 4)
			name = rest[3];
		if (path->n == 5 && resource == RES_PODS &&
		    strcmp(rest[4], "binding") == 0) {
			if (strcmp(method, "POST") != 0)
				goto not_allowed;
			return handle_binding(srv, connection, namespace, rest[3], body);
		}
		if (path->n > 4)
			goto not_found;
	} else {
		resource = resource_by_name(rest[0], path->api_version);
		if (resource < 0 || path->n > 2)
			goto not_found;
		if (path->n == 2) {
			if (resources[resource].namespaced)
				goto not_found;
			name = rest[1];
		}
	}
	if (strcmp(method, "GET") != 0)
		goto not_allowed;
	if (name != NULL)
		return handle_get(srv, connection, resource, namespace, name);
	if (watch)
		return handle_watch(srv, connection, resource, namespace, f);
	return handle_list(srv, connection, resource, namespace, f);

not_allowed:
	return send_failure(connection, 405, NULL, "the test API server does not implement this method here",
			    NULL, NULL, -1);
not_found:
	return send_failure(connection, 404, "NotFound", "the server could not find the requested resource",
			    NULL, NULL, -1);
}

/* Routes /api/... and /apis/... once the body is complete: faults first,
 * then authentication, then the resource. */
static enum MHD_Result route_api(server *srv, struct MHD_Connection *connection,
				  const char *method, const char *url,
				  const GString *body)
{
	char **parts = g_strsplit(url + 1, "/", -1);
	bool watch = parse_bool_arg(MHD_lookup_connection_value(
		connection, MHD_GET_ARGUMENT_KIND, "watch"));
	api_path path;
	fault *f;
	enum MHD_Result result;

	g_mutex_lock(&srv->lock);
	f = take_fault(srv, method, url, watch,
		       MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND,
						   "continue") != NULL);
	g_mutex_unlock(&srv->lock);
	if (f != NULL && f->delay_ms > 0)
		g_usleep((gulong)f->delay_ms * 1000);
	if (f != NULL && f->kind == FAULT_CLOSE) {
		result = MHD_NO;
	} else if (f != NULL && f->kind == FAULT_STATUS) {
		result = apply_fault_status(connection, f);
	} else if (!authorized(srv, connection)) {
		result = send_failure(connection, 401, "Unauthorized", "Unauthorized",
				      NULL, NULL, -1);
	} else if (MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND,
					       "labelSelector") != NULL ||
		   MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND,
					       "fieldSelector") != NULL) {
		result = send_failure(connection, 400, NULL,
				      "the test API server does not support labelSelector or fieldSelector",
				      NULL, NULL, -1);
	} else if (!split_api_path(parts, &path)) {
		result = send_failure(connection, 404, "NotFound",
				      "the server could not find the requested resource",
				      NULL, NULL, -1);
	} else {
		result = serve_api(srv, connection, method, &path, watch, body, f);
	}
	if (f != NULL)
		fault_free(f);
	g_strfreev(parts);
	return result;
}

/* Counts binding requests in progress, injected delays included, so tests
 * can check that a client never has two in flight. */
static enum MHD_Result handle_api(server *srv, struct MHD_Connection *connection,
				  const char *method, const char *url,
				  const GString *body)
{
	bool binding = g_str_has_suffix(url, "/binding");
	enum MHD_Result result;

	if (binding) {
		g_mutex_lock(&srv->lock);
		srv->bindings_in_flight++;
		if (srv->bindings_in_flight > srv->bindings_in_flight_max)
			srv->bindings_in_flight_max = srv->bindings_in_flight;
		g_mutex_unlock(&srv->lock);
	}
	result = route_api(srv, connection, method, url, body);
	if (binding) {
		g_mutex_lock(&srv->lock);
		srv->bindings_in_flight--;
		g_mutex_unlock(&srv->lock);
	}
	return result;
}

static enum MHD_Result handle_request(void *cls,
				      struct MHD_Connection *connection,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	server *srv = cls;
	request *req = *con_cls;

	(void)version;
	if (req == NULL) {
		req = g_new0(request, 1);
		req->body = g_string_new(NULL);
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (req->body->len + *upload_data_size > MAX_BODY_BYTES)
			req->too_large = true;
		else
			g_string_append_len(req->body, upload_data,
					    (gssize)*upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (req->too_large)
		return send_failure(connection, 413, NULL, "request body too large",
				    NULL, NULL, -1);
	if (g_str_has_prefix(url, "/control/"))
		return handle_control(srv, connection, method, url, req->body);
	if (g_str_has_prefix(url, "/api/") || g_str_has_prefix(url, "/apis/"))
		return handle_api(srv, connection, method, url, req->body);
	return send_failure(connection, 404, "NotFound",
			    "the server could not find the requested resource",
			    NULL, NULL, -1);
}

static void request_completed(void *cls, struct MHD_Connection *connection,
			      void **con_cls,
			      enum MHD_RequestTerminationCode code)
{
	request *req = *con_cls;

	(void)cls;
	(void)connection;
	(void)code;
	if (req == NULL)
		return;
	g_string_free(req->body, true);
	g_free(req);
	*con_cls = NULL;
}

/* ---- Startup ------------------------------------------------------------- */

static int load_fixture(server *srv, const char *path)
{
	char *text = NULL;
	gsize length = 0;
	GError *error = NULL;
	cJSON *list = NULL;
	const cJSON *items;
	int status = -1;

	if (!g_file_get_contents(path, &text, &length, &error)) {
		fprintf(stderr, "apiserver: cannot read fixture: %s\n", error->message);
		g_error_free(error);
		goto out;
	}
	list = cJSON_ParseWithLength(text, length);
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	if (!cJSON_IsArray(items)) {
		fprintf(stderr, "apiserver: %s is not a JSON List with items\n", path);
		goto out;
	}
	for (const cJSON *item = items->child; item != NULL; item = item->next) {
		char *message = NULL;

		if (apply_change(srv, "ADDED", must(cJSON_Duplicate(item, true)),
				 &message) != 0) {
			fprintf(stderr, "apiserver: %s: %s\n", path, message);
			g_free(message);
			goto out;
		}
	}
	/* Loading is not history a watch could ask for. */
	compact(srv);
	status = 0;
out:
	cJSON_Delete(list);
	g_free(text);
	return status;
}

static char *read_pem(const char *path)
{
	char *text = NULL;
	GError *error = NULL;

	if (!g_file_get_contents(path, &text, NULL, &error)) {
		fprintf(stderr, "apiserver: cannot read %s: %s\n", path, error->message);
		g_error_free(error);
	}
	return text;
}

int main(int argc, char **argv)
{
	const char *fixture = NULL, *cert_path = NULL, *key_path = NULL;
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD;
	struct sockaddr_in addr = {0};
	struct MHD_Daemon *daemon;
	const union MHD_DaemonInfo *info;
	server srv;
	char buf[256];

	server_init(&srv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fixture") == 0 && i + 1 < argc) {
			fixture = argv[++i];
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			srv.token = g_strdup(argv[++i]);
		} else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc) {
			cert_path = argv[++i];
		} else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc) {
			key_path = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--fixture FILE] [--token TOKEN] [--tls-cert PEM --tls-key PEM]\n",
				argv[0]);
			return 2;
		}
	}
	if (fixture != NULL && load_fixture(&srv, fixture) != 0)
		return 1;
	if ((cert_path != NULL) != (key_path != NULL)) {
		fprintf(stderr, "apiserver: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cert_path != NULL) {
		cert = read_pem(cert_path);
		key = read_pem(key_path);
		if (cert == NULL || key == NULL)
			return 1;
		flags |= MHD_USE_TLS;
	}
	signal(SIGPIPE, SIG_IGN);

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (cert != NULL)
		daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle_request, &srv,
					  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
					  MHD_OPTION_NOTIFY_COMPLETED,
					  request_completed, NULL,
					  MHD_OPTION_HTTPS_MEM_CERT, cert,
					  MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle_request, &srv,
					  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
					  MHD_OPTION_NOTIFY_COMPLETED,
					  request_completed, NULL, MHD_OPTION_END);
	if (daemon == NULL) {
		fprintf(stderr, "apiserver: cannot start the HTTP server on 127.0.0.1\n");
		return 1;
	}
	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", (unsigned)info->port);
	fflush(stdout);

	/* Runs until the test closes our standard input. */
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;

	g_mutex_lock(&srv.lock);
	srv.stopping = true;
	g_cond_broadcast(&srv.changed);
	g_mutex_unlock(&srv.lock);
	MHD_stop_daemon(daemon);
	server_release(&srv);
	g_free(cert);
	g_free(key);
	return 0;
}
