/* The HTTP listener: routing, body limits, connection limits, the header
 * timeout, TLS, probes, metrics and graceful stop on top of
 * libmicrohttpd. See scheduler/server.h for the routes and limits. */
#include "scheduler/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "scheduler/tls.h"

#define JSON_CONTENT_TYPE "application/json"

/* TLS 1.2 and 1.3 only, as Kubernetes components accept by default; the
 * rest of GnuTLS's NORMAL set (ciphers, groups) is kept. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* How often the sweeper looks for connections past the header timeout,
 * so a connection is closed at most this much after its deadline. */
#define SWEEP_INTERVAL_MS 250

/* Warnings that a client can trigger at will (rejected certificates,
 * libmicrohttpd's messages about refused connections) are logged at most
 * this many times a second each. The next line logged reports how many
 * were dropped. */
#define LOG_BURST_PER_SECOND 10

/* Counts messages logged in the current one-second window. */
typedef struct log_limiter {
	gint64 window_end_us;
	unsigned logged;
	unsigned dropped; /* in this window and the ones before the next line */
} log_limiter;

typedef enum route {
	ROUTE_VERB = 0,
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_NOT_FOUND,
} route;

struct sched_server {
	struct MHD_Daemon *daemon;
	const sched_extender *extender; /* borrowed */
	sched_metrics *metrics;         /* borrowed */
	sched_log *log;                 /* borrowed, may be NULL */

	char *prefix;  /* normalized, "" for none */
	char *address; /* bound address, "127.0.0.1:8888" */
	uint16_t port;
	size_t max_body_bytes;
	unsigned read_timeout_s;
	unsigned shutdown_timeout_s;
	unsigned abandoned; /* written by sched_server_stop() */

	atomic_bool ready;
	atomic_bool stopping;

	/* Requests between the first call of the access handler and the
	 * completion callback; sched_server_stop() waits for zero. */
	GMutex lock;
	GCond idle;
	unsigned in_flight;

	/* The first message libmicrohttpd logged while starting, for the
	 * error of sched_server_start(). Guarded by `lock`. */
	char *start_message;
	log_limiter mhd_messages;     /* guarded by `lock` */
	log_limiter rejected_clients; /* guarded by `lock` */

	sched_tls *tls; /* NULL for plain HTTP */
	unsigned header_timeout_s;

	/* Open connections (connection_state *), for the header timeout.
	 * The sweeper shuts down sockets only under `connections_lock`, and
	 * a connection leaves the set under it before libmicrohttpd closes
	 * its socket, so the sweeper never touches a reused descriptor. */
	GMutex connections_lock;
	GHashTable *connections;
	GThread *sweeper;
	GCond sweeper_wake;  /* guarded by `connections_lock` */
	bool sweeper_stop;   /* guarded by `connections_lock` */
};

/* State of one client connection, from accept to close: libmicrohttpd's
 * socket context. The fields are guarded by the server's
 * `connections_lock`, except `credentials`, which only the connection's
 * own thread uses. */
typedef struct connection_state {
	sched_server *server;
	int fd;
	char *remote;           /* "127.0.0.1:41234" */
	/* Monotonic time since which the connection waits for request
	 * headers: accept, or the end of its previous request. */
	gint64 waiting_since_us;
	bool in_request;        /* headers complete, request not finished */
	bool timed_out;         /* shut down by the sweeper */
	/* The certificate this connection's TLS session presented; held
	 * until the connection closes because GnuTLS keeps pointers into it. */
	sched_tls_credentials *credentials;
} connection_state;

/* State of one request, from the first call of the access handler to the
 * completion callback. */
typedef struct request_state {
	route route;
	sched_verb verb;    /* for ROUTE_VERB */
	GByteArray *body;   /* ROUTE_VERB only */
	size_t received;    /* body bytes read so far, on any route */
	gint64 start_us;    /* monotonic */
	bool responded;     /* a response is queued */
} request_state;

/* ---- Parsing the configuration ----------------------------------------- */

static int parse_port(const char *text, const char *listen, uint16_t *port,
		      score_error *err)
{
	guint64 value;

	if (*text == '\0' ||
	    !g_ascii_string_to_unsigned(text, 10, 0, 65535, &value, NULL))
		return score_fail(err, -EINVAL,
				  "invalid port \"%s\" in listen address "
				  "\"%s\": give a number from 0 to 65535 (0 "
				  "picks a free port)",
				  text, listen);
	*port = (uint16_t)value;
	return 0;
}

int sched_server_parse_listen(const char *text, struct sockaddr_storage *addr,
			      socklen_t *addr_len, score_error *err)
{
	char *host = NULL;
	const char *port_text;
	uint16_t port = 0;
	int ret;

	if (text == NULL || *text == '\0')
		return score_fail(err, -EINVAL,
				  "missing listen address: give ADDR:PORT, "
				  "e.g. 127.0.0.1:8888 or [::1]:8888");

	if (text[0] == '[') {
		const char *close = strstr(text, "]:");

		if (close == NULL) {
			ret = score_fail(err, -EINVAL,
					 "invalid listen address \"%s\": an "
					 "IPv6 address is written "
					 "[ADDR]:PORT, e.g. [::1]:8888",
					 text);
			goto out;
		}
		host = g_strndup(text + 1, (gsize)(close - text - 1));
		port_text = close + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon == NULL) {
			ret = score_fail(err, -EINVAL,
					 "invalid listen address \"%s\": the "
					 "port is missing; give ADDR:PORT, "
					 "e.g. 127.0.0.1:8888",
					 text);
			goto out;
		}
		host = g_strndup(text, (gsize)(colon - text));
		port_text = colon + 1;
		if (strchr(host, ':') != NULL) {
			ret = score_fail(err, -EINVAL,
					 "invalid listen address \"%s\": put "
					 "an IPv6 address in brackets, e.g. "
					 "[::1]:8888",
					 text);
			goto out;
		}
	}

	if (*host == '\0') {
		ret = score_fail(err, -EINVAL,
				 "invalid listen address \"%s\": the address "
				 "is missing; use 0.0.0.0%s to listen on every "
				 "IPv4 interface",
				 text, port_text - 1);
		goto out;
	}
	ret = parse_port(port_text, text, &port, err);
	if (ret < 0)
		goto out;

	memset(addr, 0, sizeof(*addr));
	if (text[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			ret = score_fail(err, -EINVAL,
					 "invalid IPv6 address \"%s\" in "
					 "listen address \"%s\"",
					 host, text);
			goto out;
		}
		*addr_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)addr;

		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) {
			ret = score_fail(err, -EINVAL,
					 "invalid IPv4 address \"%s\" in "
					 "listen address \"%s\": give a "
					 "numeric address such as 127.0.0.1; "
					 "host names are not resolved",
					 host, text);
			goto out;
		}
		*addr_len = sizeof(*in4);
	}
	ret = 0;

out:
	g_free(host);
	return ret;
}

int sched_server_normalize_prefix(const char *text, char **out,
				  score_error *err)
{
	size_t len;

	if (text == NULL || *text == '\0') {
		*out = g_strdup("");
		return 0;
	}
	if (text[0] != '/')
		return score_fail(err, -EINVAL,
				  "invalid URL prefix \"%s\": it must start "
				  "with '/', e.g. /scheduler",
				  text);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#')
			return score_fail(err, -EINVAL,
					  "invalid URL prefix \"%s\": it may "
					  "not contain spaces, control "
					  "characters, '?' or '#'",
					  text);
	}

	/* kube-scheduler joins urlPrefix and the verb with one '/' after
	 * trimming the prefix's trailing slashes; do the same here. */
	len = strlen(text);
	while (len > 0 && text[len - 1] == '/')
		len--;
	*out = g_strndup(text, len);
	return 0;
}

void sched_server_config_init(sched_server_config *config)
{
	config->listen = SCHED_SERVER_DEFAULT_LISTEN;
	config->url_prefix = NULL;
	config->max_body_bytes = SCHED_SERVER_DEFAULT_MAX_BODY_BYTES;
	config->read_timeout_s = SCHED_SERVER_DEFAULT_READ_TIMEOUT_S;
	config->threads = SCHED_SERVER_DEFAULT_THREADS;
	config->max_connections = SCHED_SERVER_DEFAULT_MAX_CONNECTIONS;
	config->max_connections_per_ip =
		SCHED_SERVER_DEFAULT_MAX_CONNECTIONS_PER_IP;
	config->max_header_bytes = SCHED_SERVER_DEFAULT_MAX_HEADER_BYTES;
	config->header_timeout_s = SCHED_SERVER_DEFAULT_HEADER_TIMEOUT_S;
	config->shutdown_timeout_s = SCHED_SERVER_DEFAULT_SHUTDOWN_TIMEOUT_S;
	config->tls_cert_file = NULL;
	config->tls_key_file = NULL;
	config->client_ca_file = NULL;
}

/* ---- Responses ---------------------------------------------------------- */

/* Returns {"Error": message} as text; the caller frees it with g_free().
 * kube-scheduler reads the Error field of any extender response. */
static char *error_body(const char *message)
{
	cJSON *root = cJSON_CreateObject();
	char *printed = NULL;
	char *body;

	if (root != NULL && cJSON_AddStringToObject(root, "Error", message))
		printed = cJSON_PrintUnformatted(root);
	body = g_strdup(printed != NULL ? printed
					: "{\"Error\":\"out of memory\"}");
	cJSON_free(printed);
	cJSON_Delete(root);
	return body;
}

/* Queues `body` (owned: freed with g_free() even on failure) with `status`
 * and `content_type`, and an Allow header when `allow` is not NULL. */
static enum MHD_Result send_response(sched_server *server,
				     struct MHD_Connection *connection,
				     request_state *req, unsigned status,
				     char *body, const char *content_type,
				     const char *allow)
{
	struct MHD_Response *response;
	enum MHD_Result result;

	response = MHD_create_response_from_buffer_with_free_callback(
		strlen(body), body, g_free);
	if (response == NULL) {
		g_free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type);
	if (allow != NULL)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
	/* While stopping, tell keep-alive clients to reconnect elsewhere. */
	if (atomic_load(&server->stopping))
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION,
					"close");

	result = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	req->responded = true;
	return result;
}

static gint64 elapsed_us(const request_state *req)
{
	return g_get_monotonic_time() - req->start_us;
}

static double elapsed_s(const request_state *req)
{
	return (double)elapsed_us(req) / 1e6;
}

static char *client_address(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "";

	if (info == NULL || info->client_addr == NULL)
		return g_strdup("unknown");
	if (info->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in4 =
			(const struct sockaddr_in *)(const void *)info->client_addr;

		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		return g_strdup_printf("%s:%u", host, ntohs(in4->sin_port));
	}
	if (info->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)(const void *)info->client_addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		return g_strdup_printf("[%s]:%u", host, ntohs(in6->sin6_port));
	}
	return g_strdup("unknown");
}

/* Writes the debug line of one request once its response is queued. */
static void log_request(sched_server *server, struct MHD_Connection *connection,
			const request_state *req, const char *method,
			const char *url, unsigned status)
{
	char *remote;

	if (!sched_log_enabled(server->log, SCHED_LOG_DEBUG))
		return;
	remote = client_address(connection);
	SCHED_LOG(server->log, SCHED_LOG_DEBUG, "http", "request",
		  SCHED_STR("method", method), SCHED_STR("path", url),
		  SCHED_INT("status", status),
		  SCHED_INT("body_bytes",
			    req->body != NULL ? (int64_t)req->body->len : 0),
		  SCHED_DOUBLE("duration_ms", (double)elapsed_us(req) / 1000.0),
		  SCHED_STR("remote", remote));
	g_free(remote);
}

/* Responds to a verb request that never reaches the extender (405, 413)
 * and counts it. */
static enum MHD_Result reject_verb_request(sched_server *server,
					   struct MHD_Connection *connection,
					   request_state *req,
					   const char *method, const char *url,
					   unsigned status, const char *kind,
					   char *message, const char *allow)
{
	enum MHD_Result result;

	result = send_response(server, connection, req, status,
			       error_body(message), JSON_CONTENT_TYPE, allow);
	sched_metrics_observe(server->metrics, req->verb, status,
			      elapsed_s(req));
	sched_metrics_count_error(server->metrics, req->verb, kind);
	log_request(server, connection, req, method, url, status);
	g_free(message);
	return result;
}

/* ---- Routing ------------------------------------------------------------ */

static route find_route(const sched_server *server, const char *url,
			sched_verb *verb)
{
	size_t prefix_len = strlen(server->prefix);

	if (strcmp(url, "/healthz") == 0)
		return ROUTE_HEALTHZ;
	if (strcmp(url, "/readyz") == 0)
		return ROUTE_READYZ;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;

	if (strncmp(url, server->prefix, prefix_len) != 0 ||
	    url[prefix_len] != '/')
		return ROUTE_NOT_FOUND;
	for (int v = 0; v < SCHED_VERB_COUNT; v++) {
		if (strcmp(url + prefix_len + 1,
			   sched_verb_name((sched_verb)v)) == 0) {
			*verb = (sched_verb)v;
			return ROUTE_VERB;
		}
	}
	return ROUTE_NOT_FOUND;
}

static bool is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result respond_not_found(sched_server *server,
					struct MHD_Connection *connection,
					request_state *req, const char *method,
					const char *url)
{
	GString *message = g_string_new(NULL);
	enum MHD_Result result;

	g_string_append_printf(message,
			       "no route for %s %s; the extender serves",
			       method, url);
	for (int v = 0; v < SCHED_VERB_COUNT; v++)
		g_string_append_printf(message, "%s POST %s/%s",
				       v == 0 ? "" : ",", server->prefix,
				       sched_verb_name((sched_verb)v));
	g_string_append(message, ", and GET /healthz, /readyz, /metrics");

	result = send_response(server, connection, req, MHD_HTTP_NOT_FOUND,
			       error_body(message->str), JSON_CONTENT_TYPE,
			       NULL);
	log_request(server, connection, req, method, url, MHD_HTTP_NOT_FOUND);
	g_string_free(message, TRUE);
	return result;
}

/* Serves GET /healthz, /readyz and /metrics. */
static enum MHD_Result serve_probe(sched_server *server,
				    struct MHD_Connection *connection,
				    request_state *req, const char *method,
				    const char *url)
{
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result result;

	if (!is_get(method)) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		result = send_response(
			server, connection, req, status,
			error_body("only GET and HEAD are allowed here"),
			JSON_CONTENT_TYPE, "GET, HEAD");
	} else if (req->route == ROUTE_HEALTHZ) {
		result = send_response(server, connection, req, status,
				       g_strdup("{\"status\":\"ok\"}"),
				       JSON_CONTENT_TYPE, NULL);
	} else if (req->route == ROUTE_READYZ) {
		bool ready = atomic_load(&server->ready);

		status = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
		result = send_response(
			server, connection, req, status,
			g_strdup(ready ? "{\"status\":\"ready\"}"
				       : "{\"status\":\"not ready\"}"),
			JSON_CONTENT_TYPE, NULL);
	} else {
		result = send_response(
			server, connection, req, status,
			sched_metrics_render(server->metrics,
					     server->extender->cluster),
			SCHED_METRICS_CONTENT_TYPE, NULL);
	}
	log_request(server, connection, req, method, url, status);
	return result;
}

/* ---- Verb requests ------------------------------------------------------ */

/* Returns the Content-Length header, or -1 when it is absent or not a
 * number (libmicrohttpd itself rejects a malformed one with 400). */
static int64_t content_length(struct MHD_Connection *connection)
{
	const char *text = MHD_lookup_connection_value(
		connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	guint64 value;

	if (text == NULL ||
	    !g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, &value, NULL))
		return -1;
	return (int64_t)value;
}

/* The first call for a verb path: checks the method and the declared
 * length before any of the body is read. */
static enum MHD_Result start_verb_request(sched_server *server,
					  struct MHD_Connection *connection,
					  request_state *req,
					  const char *method, const char *url)
{
	int64_t length;

	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reject_verb_request(
			server, connection, req, method, url,
			MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
			g_strdup_printf("method %s is not allowed on %s; "
					"kube-scheduler sends POST",
					method, url),
			MHD_HTTP_METHOD_POST);

	length = content_length(connection);
	if (length >= 0 && (uint64_t)length > server->max_body_bytes) {
		SCHED_LOG(server->log, SCHED_LOG_WARN, "http",
			  "rejected request body over the limit",
			  SCHED_STR("path", url),
			  SCHED_INT("content_length", length),
			  SCHED_INT("max_body_bytes",
				    (int64_t)server->max_body_bytes));
		return reject_verb_request(
			server, connection, req, method, url,
			MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
			g_strdup_printf("request body of %" G_GINT64_FORMAT
					" bytes exceeds the limit of %zu "
					"bytes; raise --max-body-bytes or set "
					"nodeCacheCapable: true so that "
					"kube-scheduler sends node names only",
					length, server->max_body_bytes),
			NULL);
	}

	req->body = g_byte_array_sized_new(
		length > 0 ? (guint)MIN(length, 1 << 20) : 4096);
	return MHD_YES;
}

static enum MHD_Result receive_body(sched_server *server,
				    request_state *req, const char *url,
				    const char *data, size_t *size)
{
	size_t n = *size;

	*size = 0;
	if (req->responded)
		return MHD_YES;

	/* Content-Length was checked on the first call, so only a chunked
	 * body gets past the limit here. A response cannot be queued before
	 * the upload ends, and reading on to send 413 would let a client
	 * stream without end, so the connection is closed. */
	if (n > server->max_body_bytes - req->received) {
		if (req->route == ROUTE_VERB)
			sched_metrics_count_error(server->metrics, req->verb,
						  "body_too_large");
		SCHED_LOG(server->log, SCHED_LOG_WARN, "http",
			  "closed connection: chunked request body over the "
			  "limit",
			  SCHED_STR("path", url),
			  SCHED_INT("max_body_bytes",
				    (int64_t)server->max_body_bytes));
		return MHD_NO;
	}
	req->received += n;

	/* Bodies sent to the probes are read and dropped. */
	if (req->body != NULL)
		g_byte_array_append(req->body, (const guint8 *)data, (guint)n);
	return MHD_YES;
}

/* The last call of a verb request: the whole body is in. */
static enum MHD_Result finish_verb_request(sched_server *server,
					   struct MHD_Connection *connection,
					   request_state *req,
					   const char *method, const char *url)
{
	sched_extender_response response = {0};
	enum MHD_Result result;
	const char *kind;
	char *body;
	size_t length = req->body->len;
	unsigned status;

	/* A terminating NUL, not counted in `length`, for parsers that want
	 * a C string. */
	g_byte_array_append(req->body, (const guint8 *)"", 1);
	sched_extender_handle(server->extender, req->verb,
			      (const char *)req->body->data, length, &response);

	status = (unsigned)response.http_status;
	kind = response.error_kind;
	body = response.body;
	if (body == NULL || status < 100 || status > 599) {
		SCHED_LOG(server->log, SCHED_LOG_ERROR, "http",
			  "extender returned no response",
			  SCHED_STR("path", url),
			  SCHED_INT("status", response.http_status));
		g_free(body);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		kind = "internal";
		body = error_body("internal error: the extender produced no "
				  "response");
	}

	result = send_response(server, connection, req, status, body,
			       JSON_CONTENT_TYPE, NULL);
	sched_metrics_observe(server->metrics, req->verb, status,
			      elapsed_s(req));
	sched_metrics_count_error(server->metrics, req->verb, kind);
	log_request(server, connection, req, method, url, status);
	return result;
}

/* ---- Log rate limits ---------------------------------------------------- */

/* Returns true when a message may be logged now, with `*dropped` set to
 * the number of messages dropped since the last one logged. */
static bool log_limiter_allow(sched_server *server, log_limiter *limiter,
			      unsigned *dropped)
{
	gint64 now = g_get_monotonic_time();
	bool allow;

	g_mutex_lock(&server->lock);
	if (now >= limiter->window_end_us) {
		limiter->window_end_us = now + G_USEC_PER_SEC;
		limiter->logged = 0;
	}
	allow = limiter->logged < LOG_BURST_PER_SECOND;
	if (allow) {
		limiter->logged++;
		*dropped = limiter->dropped;
		limiter->dropped = 0;
	} else {
		limiter->dropped++;
	}
	g_mutex_unlock(&server->lock);
	return allow;
}

/* ---- Connections and the header timeout -------------------------------- */

/* Returns the state handle_connection() attached to `connection`, or NULL
 * after it was released. Call it from the connection's own thread only,
 * because libmicrohttpd stores the result in the connection. */
static connection_state *connection_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info != NULL ? info->socket_context : NULL;
}

/* Marks the connection of a request as past its headers (`in_request`)
 * or, at the end of the request, as waiting for the next one. */
static void mark_request(sched_server *server,
			 struct MHD_Connection *connection, bool in_request)
{
	connection_state *state = connection_of(connection);

	if (state == NULL)
		return;
	g_mutex_lock(&server->connections_lock);
	state->in_request = in_request;
	if (!in_request)
		state->waiting_since_us = g_get_monotonic_time();
	g_mutex_unlock(&server->connections_lock);
}

static void prepare_tls_session(sched_server *server,
				struct MHD_Connection *connection,
				connection_state *state);

static void handle_connection(void *cls, struct MHD_Connection *connection,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	sched_server *server = cls;
	connection_state *state = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(
			connection, MHD_CONNECTION_INFO_CONNECTION_FD);

		state = g_new0(connection_state, 1);
		state->server = server;
		state->fd = info != NULL ? (int)info->connect_fd : -1;
		state->remote = client_address(connection);
		state->waiting_since_us = g_get_monotonic_time();
		*socket_context = state;
		g_mutex_lock(&server->connections_lock);
		g_hash_table_add(server->connections, state);
		g_mutex_unlock(&server->connections_lock);
		if (server->tls != NULL)
			prepare_tls_session(server, connection, state);
		return;
	}

	if (state == NULL)
		return;
	/* libmicrohttpd closes the socket after this returns, so once the
	 * state is out of the set the sweeper cannot reach the descriptor. */
	g_mutex_lock(&server->connections_lock);
	g_hash_table_remove(server->connections, state);
	g_mutex_unlock(&server->connections_lock);
	*socket_context = NULL;
	sched_tls_credentials_unref(state->credentials);
	g_free(state->remote);
	g_free(state);
}

/* Shuts down the sockets of connections that have waited longer than
 * header_timeout_s for complete request headers. libmicrohttpd then reads
 * end-of-file and closes the connection in its own thread. Returns how
 * many, and the remote address of the first in `*first` (freed by the
 * caller). Called with `connections_lock` held. */
static unsigned sweep_connections(sched_server *server, char **first)
{
	gint64 deadline = g_get_monotonic_time() -
			  (gint64)server->header_timeout_s * G_USEC_PER_SEC;
	GHashTableIter iter;
	gpointer key;
	unsigned closed = 0;

	g_hash_table_iter_init(&iter, server->connections);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		connection_state *state = key;

		if (state->in_request || state->timed_out ||
		    state->waiting_since_us > deadline || state->fd < 0)
			continue;
		shutdown(state->fd, SHUT_RDWR);
		state->timed_out = true;
		if (closed++ == 0)
			*first = g_strdup(state->remote);
	}
	return closed;
}

static gpointer run_sweeper(gpointer data)
{
	sched_server *server = data;

	g_mutex_lock(&server->connections_lock);
	while (!server->sweeper_stop) {
		char *first = NULL;
		unsigned closed = sweep_connections(server, &first);

		if (closed > 0) {
			g_mutex_unlock(&server->connections_lock);
			SCHED_LOG(server->log, SCHED_LOG_WARN, "http",
				  "closed connections whose request headers "
				  "did not arrive within the header timeout",
				  SCHED_INT("connections", closed),
				  SCHED_INT("header_timeout_s",
					    server->header_timeout_s),
				  SCHED_STR("first_remote", first));
			g_free(first);
			g_mutex_lock(&server->connections_lock);
		}
		g_cond_wait_until(&server->sweeper_wake,
				  &server->connections_lock,
				  g_get_monotonic_time() +
					  SWEEP_INTERVAL_MS * 1000);
	}
	g_mutex_unlock(&server->connections_lock);
	return NULL;
}

/* ---- TLS ------------------------------------------------------------------ */

/* libmicrohttpd stores its connection as the GnuTLS session pointer;
 * prepare_tls_session() checks that before any handshake. */
static connection_state *state_of_session(gnutls_session_t session)
{
	struct MHD_Connection *connection = gnutls_session_get_ptr(session);

	return connection != NULL ? connection_of(connection) : NULL;
}

/* gnutls_certificate_retrieve_function2: picks the server certificate
 * during the handshake. The connection keeps the credentials it got, so a
 * reload in the middle of its session does not change them. */
static int retrieve_certificate(gnutls_session_t session,
				const gnutls_datum_t *req_ca_rdn, int nreqs,
				const gnutls_pk_algorithm_t *pk_algos,
				int pk_algos_length, gnutls_pcert_st **pcert,
				unsigned int *pcert_length,
				gnutls_privkey_t *privkey)
{
	connection_state *state = state_of_session(session);

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (state == NULL)
		return -1;
	if (state->credentials == NULL)
		state->credentials = sched_tls_acquire(state->server->tls);
	sched_tls_credentials_get(state->credentials, pcert, pcert_length,
				  privkey);
	return 0;
}

/* gnutls_certificate_verify_function: runs once the client's certificate
 * has arrived; a nonzero return fails the handshake. */
static int verify_client(gnutls_session_t session)
{
	connection_state *state = state_of_session(session);
	score_error err = {0};
	char *subject = NULL;
	unsigned dropped = 0;
	int ret;

	if (state == NULL || state->credentials == NULL)
		return -1;
	ret = sched_tls_verify_client(state->credentials, session, &subject,
				      &err);
	if (ret < 0 && log_limiter_allow(state->server,
					 &state->server->rejected_clients,
					 &dropped))
		SCHED_LOG(state->server->log, SCHED_LOG_WARN, "http",
			  "rejected TLS client certificate",
			  SCHED_STR("remote", state->remote),
			  SCHED_STR("subject", subject != NULL ? subject : ""),
			  SCHED_STR("error", err.message),
			  SCHED_INT("similar_messages_dropped", dropped));
	g_free(subject);
	return ret < 0 ? -1 : 0;
}

static void prepare_tls_session(sched_server *server,
				struct MHD_Connection *connection,
				connection_state *state)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = info != NULL ? info->tls_session : NULL;

	/* The callbacks above find the connection through the session
	 * pointer, which libmicrohttpd 0.9.75 sets to the connection. If a
	 * build does not, fail closed rather than serve without the checks. */
	if (session == NULL || gnutls_session_get_ptr(session) != connection) {
		SCHED_LOG(server->log, SCHED_LOG_ERROR, "http",
			  "closed TLS connection: libmicrohttpd did not link "
			  "its connection to the TLS session, so the "
			  "certificate cannot be chosen",
			  SCHED_STR("remote", state->remote));
		if (state->fd >= 0)
			shutdown(state->fd, SHUT_RDWR);
		return;
	}
	if (sched_tls_requires_client_cert(server->tls)) {
		gnutls_certificate_server_set_request(session,
						      GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_function(session, verify_client);
	}
}

/* ---- libmicrohttpd callbacks -------------------------------------------- */

static request_state *begin_request(sched_server *server,
				    struct MHD_Connection *connection,
				    const char *url)
{
	request_state *req = g_new0(request_state, 1);

	req->start_us = g_get_monotonic_time();
	req->route = find_route(server, url, &req->verb);
	mark_request(server, connection, true);

	g_mutex_lock(&server->lock);
	server->in_flight++;
	g_mutex_unlock(&server->lock);
	return req;
}

static enum MHD_Result handle_access(void *cls,
				     struct MHD_Connection *connection,
				     const char *url, const char *method,
				     const char *version,
				     const char *upload_data,
				     size_t *upload_data_size, void **con_cls)
{
	sched_server *server = cls;
	request_state *req = *con_cls;

	(void)version;

	/* A response queued on the first call, before the body is read,
	 * makes libmicrohttpd close the connection after it. That suits
	 * rejections. Responses to GET wait for the last call instead, so
	 * that probes and scrapes can keep their connection. */
	if (req == NULL) {
		req = begin_request(server, connection, url);
		*con_cls = req;
		if (req->route == ROUTE_NOT_FOUND)
			return respond_not_found(server, connection, req,
						method, url);
		if (req->route != ROUTE_VERB)
			return is_get(method) ? MHD_YES
					      : serve_probe(server, connection,
							     req, method, url);
		return start_verb_request(server, connection, req, method,
					  url);
	}

	if (*upload_data_size > 0)
		return receive_body(server, req, url, upload_data,
				    upload_data_size);
	if (req->responded)
		return MHD_YES;
	if (req->route != ROUTE_VERB)
		return serve_probe(server, connection, req, method, url);
	return finish_verb_request(server, connection, req, method, url);
}

static void handle_completed(void *cls, struct MHD_Connection *connection,
			     void **con_cls,
			     enum MHD_RequestTerminationCode code)
{
	sched_server *server = cls;
	request_state *req = *con_cls;

	if (req == NULL)
		return;
	mark_request(server, connection, false);

	if (code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		SCHED_LOG(server->log, SCHED_LOG_WARN, "http",
			  "closed connection: no data within the read timeout",
			  SCHED_INT("read_timeout_s", server->read_timeout_s),
			  SCHED_INT("body_bytes_received",
				    req->body != NULL ? (int64_t)req->body->len
						      : 0));

	if (req->body != NULL)
		g_byte_array_unref(req->body);
	g_free(req);
	*con_cls = NULL;

	g_mutex_lock(&server->lock);
	server->in_flight--;
	if (server->in_flight == 0)
		g_cond_broadcast(&server->idle);
	g_mutex_unlock(&server->lock);
}

static void handle_mhd_log(void *cls, const char *format, va_list args)
{
	sched_server *server = cls;
	char *message = g_strdup_vprintf(format, args);
	unsigned dropped = 0;

	g_strchomp(message);
	g_mutex_lock(&server->lock);
	if (server->daemon == NULL && server->start_message == NULL)
		server->start_message = g_strdup(message);
	g_mutex_unlock(&server->lock);

	/* Clients cause most of these messages (refused connections,
	 * broken handshakes), so a flood of them is rate-limited. */
	if (log_limiter_allow(server, &server->mhd_messages, &dropped))
		SCHED_LOG(server->log, SCHED_LOG_WARN, "http", "libmicrohttpd",
			  SCHED_STR("detail", message),
			  SCHED_INT("similar_messages_dropped", dropped));
	g_free(message);
}

/* ---- Lifecycle ---------------------------------------------------------- */

/* sched_metrics_collector_fn: the connection and request gauges. A scrape
 * counts itself as a request in progress. */
static void render_server_metrics(void *data, GString *out)
{
	sched_server *server = data;

	g_string_append_printf(
		out,
		"# HELP stowage_http_connections Open client connections.\n"
		"# TYPE stowage_http_connections gauge\n"
		"stowage_http_connections %u\n"
		"# HELP stowage_http_requests_in_progress Requests whose headers "
		"have arrived and whose response is not finished.\n"
		"# TYPE stowage_http_requests_in_progress gauge\n"
		"stowage_http_requests_in_progress %u\n",
		sched_server_connections(server),
		sched_server_requests_in_progress(server));
}

static int validate_config(const sched_server_config *config,
			   score_error *err)
{
	if (config->max_body_bytes == 0 ||
	    config->max_body_bytes > SCHED_SERVER_MAX_BODY_LIMIT)
		return score_fail(err, -EINVAL,
				  "invalid maximum body size %zu: give a "
				  "number of bytes from 1 to %zu",
				  config->max_body_bytes,
				  SCHED_SERVER_MAX_BODY_LIMIT);
	if (config->read_timeout_s == 0)
		return score_fail(err, -EINVAL,
				  "invalid read timeout 0: give a positive "
				  "number of seconds");
	if (config->threads == 0 || config->threads > SCHED_SERVER_MAX_THREADS)
		return score_fail(err, -EINVAL,
				  "invalid thread count %u: give a number "
				  "from 1 to %d",
				  config->threads, SCHED_SERVER_MAX_THREADS);
	return 0;
}

static bool is_set(const char *text)
{
	return text != NULL && *text != '\0';
}

static int validate_limits(const sched_server_config *config,
			   score_error *err)
{
	/* libmicrohttpd gives each thread an equal share of the limit, and
	 * a thread with a share of 0 would accept nothing. */
	if (config->max_connections < config->threads ||
	    config->max_connections > SCHED_SERVER_MAX_CONNECTIONS_LIMIT)
		return score_fail(err, -EINVAL,
				  "invalid --max-connections %u: give a "
				  "number from the thread count (%u) to %d",
				  config->max_connections, config->threads,
				  SCHED_SERVER_MAX_CONNECTIONS_LIMIT);
	if (config->max_connections_per_ip > config->max_connections)
		return score_fail(err, -EINVAL,
				  "invalid --max-connections-per-ip %u: give "
				  "a number up to --max-connections (%u), or "
				  "0 for no limit",
				  config->max_connections_per_ip,
				  config->max_connections);
	if (config->max_header_bytes < SCHED_SERVER_MIN_HEADER_BYTES ||
	    config->max_header_bytes > SCHED_SERVER_MAX_HEADER_LIMIT)
		return score_fail(err, -EINVAL,
				  "invalid --max-header-bytes %zu: give a "
				  "number of bytes from %zu to %zu",
				  config->max_header_bytes,
				  SCHED_SERVER_MIN_HEADER_BYTES,
				  SCHED_SERVER_MAX_HEADER_LIMIT);
	if (config->header_timeout_s == 0)
		return score_fail(err, -EINVAL,
				  "invalid --header-timeout 0: give a "
				  "positive number of seconds");
	if (config->shutdown_timeout_s == 0 ||
	    config->shutdown_timeout_s > SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S)
		return score_fail(err, -EINVAL,
				  "invalid --shutdown-timeout %u: give a number "
				  "of seconds from 1 to %d, below the pod's "
				  "terminationGracePeriodSeconds",
				  config->shutdown_timeout_s,
				  SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S);
	return 0;
}

static int validate_tls(const sched_server_config *config, score_error *err)
{
	if (is_set(config->tls_cert_file) != is_set(config->tls_key_file))
		return score_fail(err, -EINVAL,
				  "%s is set without %s: HTTPS needs both a "
				  "certificate and its private key",
				  is_set(config->tls_cert_file) ? "--tls-cert"
								: "--tls-key",
				  is_set(config->tls_cert_file) ? "--tls-key"
								: "--tls-cert");
	if (is_set(config->client_ca_file) && !is_set(config->tls_cert_file))
		return score_fail(err, -EINVAL,
				  "--client-ca is set without --tls-cert and "
				  "--tls-key: client certificates need HTTPS");
	return 0;
}

static char *format_address(const struct sockaddr_storage *addr,
			    uint16_t port)
{
	char host[INET6_ADDRSTRLEN] = "";

	if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)(const void *)addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		return g_strdup_printf("[%s]:%u", host, port);
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)
				   ->sin_addr,
		  host, sizeof(host));
	return g_strdup_printf("%s:%u", host, port);
}

/* Creates, binds and listens on the socket for `listen_text`, so that a
 * failure names the system call and its error. Stores the bound port in
 * `*port`. */
static int open_listen_socket(const struct sockaddr_storage *addr,
			      socklen_t addr_len, const char *listen_text,
			      int *out, uint16_t *port, score_error *err)
{
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	int fd;
	int on = 1;
	int ret;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return score_fail(err, -errno,
				  "could not create a socket for %s: %s",
				  listen_text, g_strerror(errno));

	/* Lets a restarted server bind while connections of the previous
	 * one linger in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* An IPv6 address, even [::], listens on IPv6 only, so that the
	 * listen address alone decides what is exposed. */
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));

	if (bind(fd, (const struct sockaddr *)addr, addr_len) < 0) {
		ret = score_fail(err, -errno,
				 "could not listen on %s: bind failed: %s; "
				 "check that the address belongs to this host "
				 "and that no other process uses the port",
				 listen_text, g_strerror(errno));
		goto fail;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		ret = score_fail(err, -errno,
				 "could not listen on %s: listen failed: %s",
				 listen_text, g_strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
		ret = score_fail(err, -errno,
				 "could not read the bound port of %s: %s",
				 listen_text, g_strerror(errno));
		goto fail;
	}
	*port = ntohs(bound.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&bound)->sin6_port
			      : ((struct sockaddr_in *)&bound)->sin_port);
	*out = fd;
	return 0;

fail:
	close(fd);
	return ret;
}

/* Starts libmicrohttpd on `listen_fd` with the limits of `config`, and
 * with TLS when server->tls is set. */
static struct MHD_Daemon *start_daemon(sched_server *server,
				       const sched_server_config *config,
				       int listen_fd)
{
	/* poll(), not epoll: with epoll, libmicrohttpd 0.9.75's
	 * MHD_quiesce_daemon() removes the listen socket from each pool
	 * thread's epoll set while that thread may have removed it already,
	 * and then aborts the process ("Failed to remove listen FD from epoll
	 * set"), which a server test hit while stopping. With poll() it only
	 * sets a flag. kube-scheduler keeps a few connections, so poll()
	 * costs nothing measurable. MHD_USE_ITC lets MHD_quiesce_daemon()
	 * wake the pool threads. */
	const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			       MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem options[8];
	size_t n = 0;

	options[n++] = (struct MHD_OptionItem){
		MHD_OPTION_LISTEN_SOCKET, (intptr_t)listen_fd, NULL};
	options[n++] = (struct MHD_OptionItem){
		MHD_OPTION_CONNECTION_TIMEOUT,
		(intptr_t)config->read_timeout_s, NULL};
	options[n++] = (struct MHD_OptionItem){
		MHD_OPTION_CONNECTION_LIMIT, (intptr_t)config->max_connections,
		NULL};
	options[n++] = (struct MHD_OptionItem){
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(intptr_t)config->max_header_bytes, NULL};
	if (config->max_connections_per_ip > 0)
		options[n++] = (struct MHD_OptionItem){
			MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			(intptr_t)config->max_connections_per_ip, NULL};
	/* One thread means the polling thread alone, without a pool option:
	 * libmicrohttpd warns about a pool of size 0 or 1. */
	if (config->threads > 1)
		options[n++] = (struct MHD_OptionItem){
			MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)config->threads,
			NULL};
	options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	g_assert(n <= G_N_ELEMENTS(options));

	/* The logger goes first so that it receives messages about the
	 * options after it. Options that take a function stay out of the
	 * array, which would need them cast to an integer. */
	if (server->tls == NULL)
		return MHD_start_daemon(
			flags, 0, NULL, NULL, handle_access, server,
			MHD_OPTION_EXTERNAL_LOGGER, handle_mhd_log, server,
			MHD_OPTION_ARRAY, options,
			MHD_OPTION_NOTIFY_COMPLETED, handle_completed, server,
			MHD_OPTION_NOTIFY_CONNECTION, handle_connection, server,
			MHD_OPTION_END);
	return MHD_start_daemon(
		flags | MHD_USE_TLS, 0, NULL, NULL, handle_access, server,
		MHD_OPTION_EXTERNAL_LOGGER, handle_mhd_log, server,
		MHD_OPTION_ARRAY, options,
		MHD_OPTION_NOTIFY_COMPLETED, handle_completed, server,
		MHD_OPTION_NOTIFY_CONNECTION, handle_connection, server,
		MHD_OPTION_HTTPS_CERT_CALLBACK, retrieve_certificate,
		MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
		MHD_OPTION_END);
}

static sched_server *server_new(const sched_server_config *config,
				const sched_extender *extender,
				sched_metrics *metrics, sched_log *log)
{
	sched_server *server = g_new0(sched_server, 1);

	server->extender = extender;
	server->metrics = metrics;
	server->log = log;
	server->max_body_bytes = config->max_body_bytes;
	server->read_timeout_s = config->read_timeout_s;
	server->header_timeout_s = config->header_timeout_s;
	server->shutdown_timeout_s = config->shutdown_timeout_s;
	g_mutex_init(&server->lock);
	g_cond_init(&server->idle);
	atomic_init(&server->ready, false);
	atomic_init(&server->stopping, false);
	g_mutex_init(&server->connections_lock);
	g_cond_init(&server->sweeper_wake);
	server->connections = g_hash_table_new(g_direct_hash, g_direct_equal);
	return server;
}

int sched_server_start(const sched_server_config *config,
		       const sched_extender *extender, sched_metrics *metrics,
		       sched_log *log, sched_server **out, score_error *err)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = 0;
	sched_server *server = NULL;
	struct MHD_Daemon *daemon;
	int listen_fd = -1;
	int ret;

	ret = validate_config(config, err);
	if (ret == 0)
		ret = validate_limits(config, err);
	if (ret == 0)
		ret = validate_tls(config, err);
	if (ret < 0)
		goto out;
	ret = sched_server_parse_listen(config->listen, &addr, &addr_len, err);
	if (ret < 0)
		goto out;

	server = server_new(config, extender, metrics, log);
	ret = sched_server_normalize_prefix(config->url_prefix,
					    &server->prefix, err);
	if (ret < 0)
		goto out;
	if (is_set(config->tls_cert_file)) {
		ret = sched_tls_new(config->tls_cert_file, config->tls_key_file,
				    config->client_ca_file, log, &server->tls,
				    err);
		if (ret < 0)
			goto out;
	}
	ret = open_listen_socket(&addr, addr_len, config->listen, &listen_fd,
				 &server->port, err);
	if (ret < 0)
		goto out;

	daemon = start_daemon(server, config, listen_fd);
	if (daemon == NULL) {
		ret = score_fail(err, -EIO,
				 "could not start the HTTP server on %s: %s",
				 config->listen,
				 server->start_message != NULL
					 ? server->start_message
					 : "libmicrohttpd failed to start");
		/* Whether libmicrohttpd closed the socket on failure is not
		 * documented; close it only if it is still open. */
		if (fcntl(listen_fd, F_GETFD) >= 0)
			close(listen_fd);
		goto out;
	}
	g_mutex_lock(&server->lock);
	server->daemon = daemon;
	g_mutex_unlock(&server->lock);
	server->address = format_address(&addr, server->port);
	server->sweeper = g_thread_new("http-sweeper", run_sweeper, server);
	if (metrics != NULL)
		sched_metrics_add_collector(metrics, render_server_metrics, server);

	SCHED_LOG(log, SCHED_LOG_INFO, "http", "listening",
		  SCHED_STR("address", server->address),
		  SCHED_STR("scheme", server->tls != NULL ? "https" : "http"),
		  SCHED_STR("client_certificates",
			    server->tls == NULL ? "not requested"
			    : sched_tls_requires_client_cert(server->tls)
				    ? "required"
				    : "not requested"),
		  SCHED_STR("url_prefix", server->prefix),
		  SCHED_INT("threads", config->threads),
		  SCHED_INT("max_body_bytes", (int64_t)config->max_body_bytes),
		  SCHED_INT("read_timeout_s", config->read_timeout_s),
		  SCHED_INT("header_timeout_s", config->header_timeout_s),
		  SCHED_INT("shutdown_timeout_s", config->shutdown_timeout_s),
		  SCHED_INT("max_connections", config->max_connections),
		  SCHED_INT("max_connections_per_ip",
			    config->max_connections_per_ip),
		  SCHED_INT("max_header_bytes",
			    (int64_t)config->max_header_bytes));

	*out = server;
	server = NULL;
	ret = 0;

out:
	sched_server_free(server);
	return ret;
}

uint16_t sched_server_port(const sched_server *server)
{
	return server->port;
}

const char *sched_server_address(const sched_server *server)
{
	return server->address;
}

const char *sched_server_url_prefix(const sched_server *server)
{
	return server->prefix;
}

void sched_server_set_ready(sched_server *server, bool ready)
{
	atomic_store(&server->ready, ready);
}

bool sched_server_ready(const sched_server *server)
{
	return atomic_load(&server->ready);
}

unsigned sched_server_connections(sched_server *server)
{
	unsigned count;

	g_mutex_lock(&server->connections_lock);
	count = g_hash_table_size(server->connections);
	g_mutex_unlock(&server->connections_lock);
	return count;
}

unsigned sched_server_requests_in_progress(sched_server *server)
{
	unsigned count;

	g_mutex_lock(&server->lock);
	count = server->in_flight;
	g_mutex_unlock(&server->lock);
	return count;
}

bool sched_server_uses_tls(const sched_server *server)
{
	return server->tls != NULL;
}

int sched_server_reload_tls(sched_server *server, score_error *err)
{
	if (server->tls == NULL)
		return score_fail(err, -EINVAL,
				  "the server speaks plain HTTP: there are no "
				  "TLS files to reload");
	return sched_tls_reload(server->tls, err);
}

unsigned sched_server_abandoned_requests(const sched_server *server)
{
	return server->abandoned;
}

static void stop_sweeper(sched_server *server)
{
	if (server->sweeper == NULL)
		return;
	g_mutex_lock(&server->connections_lock);
	server->sweeper_stop = true;
	g_cond_signal(&server->sweeper_wake);
	g_mutex_unlock(&server->connections_lock);
	g_thread_join(server->sweeper);
	server->sweeper = NULL;
}

void sched_server_stop(sched_server *server)
{
	MHD_socket listen_fd;
	gint64 deadline;
	unsigned waiting;
	unsigned remaining;

	if (server == NULL || server->daemon == NULL)
		return;

	atomic_store(&server->stopping, true);
	atomic_store(&server->ready, false);
	listen_fd = MHD_quiesce_daemon(server->daemon);
	/* The quiesced socket stays open until MHD_stop_daemon() returns,
	 * and the kernel would keep completing handshakes on it that no
	 * thread ever accepts. Shutting it down makes new clients get
	 * "connection refused" at once. */
	if (listen_fd != MHD_INVALID_SOCKET)
		shutdown(listen_fd, SHUT_RDWR);
	SCHED_LOG(server->log, SCHED_LOG_INFO, "http",
		  "stopped accepting connections",
		  SCHED_STR("address", server->address));

	/* A client that stalls mid-request is dropped by the read timeout,
	 * but that can be longer than the pod's grace period, so the wait
	 * has its own deadline. */
	deadline = g_get_monotonic_time() +
		   (gint64)server->shutdown_timeout_s * G_USEC_PER_SEC;
	g_mutex_lock(&server->lock);
	waiting = server->in_flight;
	while (server->in_flight > 0) {
		if (!g_cond_wait_until(&server->idle, &server->lock, deadline))
			break;
	}
	remaining = server->in_flight;
	g_mutex_unlock(&server->lock);

	/* MHD_stop_daemon() closes the connections still open, and waits for
	 * a handler still running to return first. */
	server->abandoned = remaining;
	if (remaining > 0)
		SCHED_LOG(server->log, SCHED_LOG_WARN, "http",
			  "shutdown timeout reached: closing connections "
			  "with requests still in progress",
			  SCHED_INT("requests_abandoned", remaining),
			  SCHED_INT("shutdown_timeout_s",
				    server->shutdown_timeout_s));
	stop_sweeper(server);
	MHD_stop_daemon(server->daemon);
	server->daemon = NULL;
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);

	SCHED_LOG(server->log, SCHED_LOG_INFO, "http", "stopped",
		  SCHED_STR("address", server->address),
		  SCHED_INT("requests_waited_for", waiting),
		  SCHED_INT("requests_abandoned", remaining));
}

void sched_server_free(sched_server *server)
{
	if (server == NULL)
		return;
	sched_server_stop(server);
	/* Does nothing when the server failed before adding it. */
	if (server->metrics != NULL)
		sched_metrics_remove_collector(server->metrics, render_server_metrics, server);
	/* Every connection, and with it every reference to the TLS
	 * credentials, ended with MHD_stop_daemon(). */
	sched_tls_free(server->tls);
	if (server->connections != NULL)
		g_hash_table_unref(server->connections);
	g_cond_clear(&server->sweeper_wake);
	g_mutex_clear(&server->connections_lock);
	g_free(server->start_message);
	g_free(server->prefix);
	g_free(server->address);
	g_cond_clear(&server->idle);
	g_mutex_clear(&server->lock);
	g_free(server);
}
