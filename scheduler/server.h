/* The HTTP listener of `stowage serve` (libmicrohttpd).
 *
 * Routes, with PREFIX from --url-prefix (empty by default):
 *   POST PREFIX/filter, PREFIX/prioritize, PREFIX/preempt, PREFIX/bind
 *        -> sched_extender_handle(); any other method gets 405 and Allow.
 *   GET  /healthz  200 while the server runs.
 *   GET  /readyz   200 once sched_server_set_ready(true), else 503.
 *   GET  /metrics  Prometheus text (scheduler/metrics.h).
 * The probes and /metrics stay at the root whatever the prefix, so that
 * kubelet probes and scrape configs need no prefix. Any other path gets
 * 404 with a JSON Error that names the path and lists the verb paths.
 *
 * Request bodies larger than max_body_bytes get 413 as soon as the
 * Content-Length header shows it, before any of the body is read. A
 * chunked body (no Content-Length) that grows past the limit has its
 * connection closed at that point, because libmicrohttpd cannot queue a
 * response in the middle of an upload. A connection that sends nothing for
 * read_timeout_s seconds, mid-body or idle between requests, is closed.
 *
 * Limits against slow or abusive clients (defaults below, all in
 * sched_server_config):
 *   - at most max_connections connections at once; more wait in the
 *     kernel's listen backlog until one closes;
 *   - at most max_connections_per_ip from one client address; more are
 *     closed as soon as they are accepted;
 *   - the request line and headers must fit in max_header_bytes, or the
 *     request gets 431 (414 for a long URI) and the connection is closed;
 *   - the request line and headers must be complete within
 *     header_timeout_s of the connection being accepted (TLS handshake
 *     included) or of the end of its previous request, or the connection
 *     is closed. This stops clients that send a header byte just often
 *     enough to defeat the read timeout. A keep-alive connection idle for
 *     header_timeout_s is closed the same way;
 *   - bodies are limited by max_body_bytes as above.
 *
 * TLS: with tls_cert_file and tls_key_file the listener speaks HTTPS
 * only (TLS 1.2 and 1.3), and with client_ca_file it requires a client
 * certificate signed by one of those CAs, as kube-scheduler sends with
 * tlsConfig certFile and keyFile. New connections check the three files
 * for changes at most once a second, and changed files are reloaded (see
 * scheduler/tls.h); sched_server_reload_tls() reloads them at once.
 * Connections already open keep the certificate they started with.
 *
 * Threads: requests run on a pool of `threads` libmicrohttpd threads. Each
 * thread polls its own connections, so a stalled client occupies its
 * connection but no thread. One more thread closes connections past the
 * header timeout. The functions here are for the thread that owns the
 * server, except sched_server_set_ready(), sched_server_ready(),
 * sched_server_connections() and sched_server_requests_in_progress(),
 * which any thread may call.
 */
#ifndef STOWAGE_SCHED_SERVER_H
#define STOWAGE_SCHED_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>

#include "scheduler/extender.h"
#include "scheduler/log.h"
#include "scheduler/metrics.h"
#include "scoring/error.h"

/* Loopback, because POST /bind binds pods: exposing it is a choice the
 * operator makes with --listen. */
#define SCHED_SERVER_DEFAULT_LISTEN "127.0.0.1:8888"

/* kube-scheduler with nodeCacheCapable: false sends every candidate as a
 * full v1.Node. A node recorded from kube-scheduler 1.24 (three labels, one
 * managedFields entry, no images) is 1.9 KiB of JSON. A kubelet-managed
 * node adds status.images (50 entries by default, about 200 bytes each),
 * addresses and the kubelet's managedFields. That comes to an estimated
 * 15-20 KiB per node and 75-100 MiB for 5,000 nodes, so 128 MiB leaves
 * room. The buffer grows only as bytes arrive, so small requests pay
 * nothing for the limit. */
#define SCHED_SERVER_DEFAULT_MAX_BODY_BYTES ((size_t)128 * 1024 * 1024)
/* The body is kept in a GByteArray, whose length is a guint, plus a NUL. */
#define SCHED_SERVER_MAX_BODY_LIMIT ((size_t)G_MAXUINT32 - 1)

/* Seconds of inactivity, not a total: a slow but steady upload is never
 * cut. kube-scheduler gives up on an extender call after 5 s by default
 * (httpTimeout), so a connection silent for 30 s has no client left. */
#define SCHED_SERVER_DEFAULT_READ_TIMEOUT_S 30

/* One kube-scheduler sends one scheduling cycle's call at a time, plus
 * /bind calls from its binding goroutines, plus kubelet probes and
 * Prometheus scrapes. Each call is CPU-bound and short, so four threads
 * cover that concurrency without one slow body parse stalling the rest. */
#define SCHED_SERVER_DEFAULT_THREADS 4
#define SCHED_SERVER_MAX_THREADS 256

/* One kube-scheduler keeps a few connections for its scheduling cycles
 * plus one per /bind in flight; probes and scrapes add a few more. 512
 * leaves a wide margin while bounding the per-connection memory
 * (max_header_bytes each, 16 MiB at the default) and staying under the
 * common file descriptor limit of 1024 together with the informer's
 * sockets. libmicrohttpd divides the limit evenly among the threads. */
#define SCHED_SERVER_DEFAULT_MAX_CONNECTIONS 512
#define SCHED_SERVER_MAX_CONNECTIONS_LIMIT 65536

/* A quarter of max_connections: one client address (a misbehaving pod, or
 * kube-scheduler binding a burst of pods) cannot take every connection.
 * Behind a proxy or NAT that hides client addresses every client shares
 * one address; raise the limit or set 0 there. */
#define SCHED_SERVER_DEFAULT_MAX_CONNECTIONS_PER_IP 128

/* libmicrohttpd's own default for its per-connection memory pool
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT), which contains the request line,
 * the headers and the I/O buffers. With libmicrohttpd 0.9.75 a request
 * head of up to about 320 bytes less than the pool gets through.
 * kube-scheduler sends about 200 bytes of headers. */
#define SCHED_SERVER_DEFAULT_MAX_HEADER_BYTES ((size_t)32 * 1024)
#define SCHED_SERVER_MIN_HEADER_BYTES ((size_t)4 * 1024)
#define SCHED_SERVER_MAX_HEADER_LIMIT ((size_t)1024 * 1024)

/* kube-scheduler abandons an extender call after httpTimeout (5 s by
 * default), so headers that take longer than 10 s have no client waiting;
 * TLS handshakes on loopback or a cluster network take milliseconds. */
#define SCHED_SERVER_DEFAULT_HEADER_TIMEOUT_S 10

/* Kubernetes kills a container terminationGracePeriodSeconds (30 s by
 * default) after SIGTERM. 20 s leaves 10 s for a handler still running at
 * the deadline (a /bind takes at most 4 s) and for the rest of the stop.
 * Requests need milliseconds, so only a stalled client waits that long. */
#define SCHED_SERVER_DEFAULT_SHUTDOWN_TIMEOUT_S 20
#define SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S 3600

typedef struct sched_server_config {
	const char *listen;     /* "ADDR:PORT" or "[ADDR]:PORT"; port 0 picks
				   a free port, see sched_server_port() */
	const char *url_prefix; /* e.g. "/scheduler"; NULL or "" for none */
	size_t max_body_bytes;  /* 1..SCHED_SERVER_MAX_BODY_LIMIT */
	unsigned read_timeout_s; /* > 0 */
	unsigned threads;        /* 1..SCHED_SERVER_MAX_THREADS */

	/* threads..SCHED_SERVER_MAX_CONNECTIONS_LIMIT */
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0 for no limit */
	/* SCHED_SERVER_MIN_HEADER_BYTES..SCHED_SERVER_MAX_HEADER_LIMIT */
	size_t max_header_bytes;
	unsigned header_timeout_s; /* > 0 */
	/* 1..SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S: how long
	 * sched_server_stop() waits for requests in progress */
	unsigned shutdown_timeout_s;

	/* PEM files; NULL or "" for plain HTTP. The certificate file contains
	 * the server certificate first, then its intermediates. */
	const char *tls_cert_file;
	const char *tls_key_file;
	/* PEM CA certificates; when set, clients must present a certificate
	 * signed by one of them. Needs tls_cert_file. */
	const char *client_ca_file;
} sched_server_config;

/* Fills `config` with the defaults above. */
void sched_server_config_init(sched_server_config *config);

/* Parses a numeric listen address: "127.0.0.1:8888", "0.0.0.0:80",
 * "[::1]:8888", "[::]:0". Host names are rejected, because a name could
 * resolve to an address the operator did not intend to expose. An IPv6
 * address, [::] included, listens on IPv6 only. */
int sched_server_parse_listen(const char *text, struct sockaddr_storage *addr,
			      socklen_t *addr_len, score_error *err);

/* Normalizes a URL prefix: NULL, "" and "/" give "", "/ext/" gives "/ext".
 * The prefix must start with '/' and hold no '?', '#', space or control
 * character. The caller frees `*out` with g_free(). */
int sched_server_normalize_prefix(const char *text, char **out,
				  score_error *err);

typedef struct sched_server sched_server;

/* Loads the TLS files when configured, binds, starts the threads and
 * returns the running server in `*out`. It starts not ready: /readyz gives 503 until sched_server_set_ready().
 * `extender`, `metrics` and `log` are borrowed and must outlive the server;
 * `log` may be NULL. The caller stops and frees the server with
 * sched_server_free(). */
int sched_server_start(const sched_server_config *config,
		       const sched_extender *extender, sched_metrics *metrics,
		       sched_log *log, sched_server **out, score_error *err);

/* Returns the bound port, the chosen one when the configuration gave 0. */
uint16_t sched_server_port(const sched_server *server);

/* Returns the bound address as "127.0.0.1:41234" or "[::1]:41234".
 * Borrowed: valid until sched_server_free(). */
const char *sched_server_address(const sched_server *server);

/* Returns the URL prefix in use after normalization ("" for none).
 * Borrowed: valid until sched_server_free(). */
const char *sched_server_url_prefix(const sched_server *server);

void sched_server_set_ready(sched_server *server, bool ready);
bool sched_server_ready(const sched_server *server);

/* Returns the number of open client connections. */
unsigned sched_server_connections(sched_server *server);

/* Returns the number of requests whose headers have arrived and whose
 * response is not finished yet. */
unsigned sched_server_requests_in_progress(sched_server *server);

/* Returns true when the server speaks HTTPS. */
bool sched_server_uses_tls(const sched_server *server);

/* Reads the TLS certificate, key and client CA files again now, whether or
 * not they changed (for SIGHUP). Returns 0, -EINVAL when the server speaks
 * plain HTTP, or the load error with `err` naming the file. After an error
 * the previous credentials stay in use. New connections get the new
 * credentials, and open ones keep theirs. */
int sched_server_reload_tls(sched_server *server, score_error *err);

/* Stops gracefully: closes the listening socket and waits for requests in
 * progress to finish, at most shutdown_timeout_s seconds. Then it stops
 * the threads, closing the connections still open. A handler running at
 * that moment (a /bind waiting for the API server) is waited for, so the
 * stop can take that much longer. Responses sent while stopping carry
 * "Connection: close". Safe to call more than once. */
void sched_server_stop(sched_server *server);

/* Returns the number of requests that were still in progress when the
 * shutdown timeout ran out and were closed without a response: 0 until
 * sched_server_stop() and after a clean stop. */
unsigned sched_server_abandoned_requests(const sched_server *server);

/* Stops the server if it still runs and frees it. */
void sched_server_free(sched_server *server);

#endif
