/* HTTP requests to the Kubernetes API server over libcurl: TLS and
 * authentication from an inf_rest_config, API error decoding, retry
 * classification and backoff. The reflectors and the binder build on it.
 *
 * Credentials come from credentials.h: a token file is read again when
 * it changes, so a rotated service account token is used from the next
 * request on, and an exec plugin runs when its credential expires. A 401
 * drops them (inf_client_unauthorized()), so the next request reads or
 * runs them afresh. Easy handles set up by one client share DNS results and TLS
 * sessions, so a new connection resumes the TLS session of an earlier
 * one; connections themselves are reused only within one easy or multi
 * handle.
 *
 * Threads: a client may be used from any number of threads at once; each
 * thread uses its own easy handles.
 */
#ifndef STOWAGE_INF_CLIENT_H
#define STOWAGE_INF_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <glib.h>

#include "informer/kubeconfig.h"
#include "informer/metrics.h"
#include "scheduler/log.h"
#include "scoring/error.h"

/* client-go's dialer timeout (k8s.io/client-go/transport). */
#define INF_CONNECT_TIMEOUT_MS 30000

typedef struct inf_client inf_client;

/* Returns a client for `config` (copied). Fails with -EINVAL when the
 * server URL cannot be parsed. The caller frees it with inf_client_free(). */
int inf_client_new(const inf_rest_config *config, inf_client **out,
		   score_error *err);
void inf_client_free(inf_client *client);

/* Returns the server URL. Borrowed: valid until inf_client_free(). */
const char *inf_client_server(const inf_client *client);

/* Sets where exec plugin runs are logged and counted; both may be NULL.
 * Call before the first request. */
void inf_client_set_observers(inf_client *client, sched_log *log,
			      inf_metrics *metrics);

/* Reports that a request whose inf_client_setup() returned at `set_up_us`
 * (monotonic) got 401. The next request then reads the token file or runs
 * the exec plugin again (see inf_credentials_rejected()). */
void inf_client_unauthorized(const inf_client *client, int64_t set_up_us);

/* Returns how many times the exec plugin has run, for tests. */
unsigned inf_client_exec_runs(const inf_client *client);

/* Returns where the configuration came from, for logs. Borrowed. */
const char *inf_client_source(const inf_client *client);

/* Sets the URL (server + `path`, which starts with "/api"), TLS,
 * authentication, proxy and timeouts on `easy`. `*headers` receives the
 * request headers; the caller may append to it and frees it with
 * curl_slist_free_all() after the transfer. Fails when the token file
 * cannot be read or the exec plugin fails; the plugin may run here, which
 * takes up to INF_EXEC_TIMEOUT_MS. */
int inf_client_setup(const inf_client *client, CURL *easy, const char *path,
		     struct curl_slist **headers, score_error *err);

typedef struct inf_response {
	CURLcode result;  /* CURLE_OK when a whole response arrived */
	long status;      /* HTTP status, 0 when no response arrived */
	GString *body;
	int64_t retry_after_s; /* from Retry-After, -1 when absent */
	char curl_error[CURL_ERROR_SIZE];
} inf_response;

void inf_response_init(inf_response *response);
void inf_response_release(inf_response *response);

/* Performs one request and fills `response` (initialized by the caller).
 * `body` (JSON, may be NULL) is sent with Content-Type application/json.
 * `timeout_ms` bounds the whole request. A 401 with credentials from a
 * token file or exec plugin is sent once more with fresh ones. Returns 0
 * whenever the request was sent, whatever the outcome; check
 * response->result and ->status. Fails only when the request could not be
 * set up. */
int inf_client_request(const inf_client *client, const char *method,
		       const char *path, const char *body, int64_t timeout_ms,
		       inf_response *response, score_error *err);

/* The fields of a metav1.Status that decide what a client does. */
typedef struct inf_api_status {
	int code;          /* HTTP status in the Status, 0 when absent */
	char reason[64];   /* "Expired", "Conflict", ... or "" */
	char message[320]; /* "" when absent */
} inf_api_status;

/* Parses a metav1.Status from `text`. Returns false when `text` is not a
 * Status object. */
bool inf_api_status_parse(const char *text, size_t length,
			  inf_api_status *status);

/* Returns true for failures worth retrying: no response (connection
 * refused, reset, timed out, cut mid-body), 429 and 5xx. */
bool inf_response_retryable(const inf_response *response);

/* Fills `err` with one sentence about a failed response, starting with
 * `what` ("listing pods from https://..."), and returns the errno for it:
 * -ECONNREFUSED and friends become -EIO, 401/403 -EACCES, 404 -ENOENT,
 * 409 -EEXIST, 410 -ESTALE, 429 and 5xx -EAGAIN, anything else -EPROTO. */
int inf_response_fail(const inf_response *response, const char *action,
		      score_error *err);

/* Exponential backoff with jitter: each delay is drawn from
 * [current/2, current], then current doubles up to max_ms. */
typedef struct inf_backoff {
	int64_t initial_ms;
	int64_t max_ms;
	int64_t current_ms;
} inf_backoff;

void inf_backoff_init(inf_backoff *backoff, int64_t initial_ms,
		      int64_t max_ms);
int64_t inf_backoff_next(inf_backoff *backoff);
void inf_backoff_reset(inf_backoff *backoff);

#endif
