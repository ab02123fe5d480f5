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
 * Threads: requests run on a pool of `threads` libmicrohttpd threads. Each
 * thread polls its own connections, so a stalled client occupies its
 * connection but no thread. The functions here are for the thread that owns the
 * server, except sched_server_set_ready(), which any thread may call.
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

typedef struct sched_server_config {
	const char *listen;     /* "ADDR:PORT" or "[ADDR]:PORT"; port 0 picks
				   a free port, see sched_server_port() */
	const char *url_prefix; /* e.g. "/scheduler"; NULL or "" for none */
	size_t max_body_bytes;  /* 1..SCHED_SERVER_MAX_BODY_LIMIT */
	unsigned read_timeout_s; /* > 0 */
	unsigned threads;        /* 1..SCHED_SERVER_MAX_THREADS */
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

/* Binds, starts the threads and returns the running server in `*out`. It
 * starts not ready: /readyz gives 503 until sched_server_set_ready().
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

/* Stops gracefully: closes the listening socket, waits for requests in
 * progress to finish (at most read_timeout_s + 1 seconds, since a stalled
 * one is dropped by then), then stops the threads. Responses sent while
 * stopping carry "Connection: close". Safe to call more than once. */
void sched_server_stop(sched_server *server);

/* Stops the server if it still runs and frees it. */
void sched_server_free(sched_server *server);

#endif
