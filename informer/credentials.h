/* Credentials that change while stowage runs: a bearer token file that the
 * kubelet rotates, and exec credential plugins (client-go's
 * client.authentication.k8s.io ExecCredential, as EKS, GKE and AKS
 * kubeconfigs use). The client asks for the current credentials before
 * each request and reports a 401, as client-go's transport does.
 *
 * Token file: read when first needed and again whenever its inode, size,
 * modification or change time differ from the last read, or after a 401.
 * The kubelet replaces a projected service account token by swapping a
 * symlink about every hour, which changes the inode.
 *
 * Exec plugin: used only when the kubeconfig user sets no token, token
 * file, username or client certificate, as in client-go. It runs with the
 * kubeconfig's args and env plus
 * KUBERNETES_EXEC_INFO (an ExecCredential with spec.interactive false and,
 * with provideClusterInfo, spec.cluster), with standard input from
 * /dev/null. Its standard output must be an ExecCredential of the
 * configured apiVersion whose status contains a token or a client
 * certificate and key (PEM), and optionally expirationTimestamp. The
 * result is kept until that time passes, or until a request fails with
 * 401; then the plugin runs again. One run at a time: concurrent requests
 * wait for it and share its result. A plugin that does not exit within
 * INF_EXEC_TIMEOUT_MS is killed.
 *
 * Threads: inf_credentials_get() and inf_credentials_rejected() may be
 * called from any number of threads.
 */
#ifndef STOWAGE_INF_CREDENTIALS_H
#define STOWAGE_INF_CREDENTIALS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "informer/kubeconfig.h"
#include "informer/metrics.h"
#include "scheduler/log.h"
#include "scoring/error.h"

/* client-go waits for a plugin without a limit. A plugin that hangs
 * would stop every request, so stowage gives up after a minute, long
 * enough for a plugin that calls a cloud API. */
#define INF_EXEC_TIMEOUT_MS 60000
/* Standard output larger than this is not a credential. */
#define INF_EXEC_MAX_OUTPUT_BYTES (1024 * 1024)

/* The status of an ExecCredential. */
typedef struct inf_exec_credential {
	char *token;            /* owned, or NULL */
	GBytes *client_cert;    /* PEM, or NULL */
	GBytes *client_key;     /* PEM, or NULL */
	int64_t expires_us;     /* Unix time in microseconds; 0: never */
} inf_exec_credential;

/* Parses a plugin's standard output. `api_version` is the configured one,
 * which the output must repeat. Fails with -EPROTO and a message that
 * describes the problem (not JSON, another kind or apiVersion, no status, neither a
 * token nor a certificate and key, a bad expirationTimestamp). On success
 * the caller releases `out` with inf_exec_credential_release(). */
int inf_exec_credential_parse(const char *api_version, const char *text,
			      size_t length, inf_exec_credential *out,
			      score_error *err);
void inf_exec_credential_release(inf_exec_credential *credential);

/* What to put on one request. */
typedef struct inf_credential_set {
	char *token;          /* owned, zeroed on release; NULL: none */
	GBytes *client_cert;  /* NULL: the configuration's, if any */
	GBytes *client_key;
} inf_credential_set;

void inf_credential_set_release(inf_credential_set *set);

typedef struct inf_credentials inf_credentials;

/* Returns the credential source of `config` (copied). The caller frees it
 * with inf_credentials_free(). */
inf_credentials *inf_credentials_new(const inf_rest_config *config);
void inf_credentials_free(inf_credentials *credentials);

/* Sets where plugin runs are logged and counted; both may be NULL. Call
 * before the first request. */
void inf_credentials_set_observers(inf_credentials *credentials,
				   sched_log *log, inf_metrics *metrics);

/* Returns true when a 401 can be cured by trying again: the credentials
 * come from a token file or a plugin. */
bool inf_credentials_refreshable(const inf_credentials *credentials);

/* Fills `set` with the credentials for the next request, reading the token
 * file or running the plugin when needed. Fails when the file cannot be
 * read or the plugin fails; the message names the file or command and,
 * for a missing command, the kubeconfig's installHint. */
int inf_credentials_get(inf_credentials *credentials, inf_credential_set *set,
			score_error *err);

/* Reports that a request whose credentials were set up at `set_up_us`
 * (monotonic, taken after inf_credentials_get() returned) got 401, so the
 * next inf_credentials_get() reads the file or runs the plugin again.
 * Reports about requests older than the current credentials are ignored,
 * so many requests failing at once cause one refresh. */
void inf_credentials_rejected(inf_credentials *credentials, int64_t set_up_us);

/* Returns how many times the plugin has run, for tests. */
unsigned inf_credentials_exec_runs(inf_credentials *credentials);

#endif
