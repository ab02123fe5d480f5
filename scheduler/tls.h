/* TLS credentials of the HTTP listener, read from PEM files and read again
 * when the files change (cert-manager and kubelet replace Secret files in
 * place when a certificate is renewed).
 *
 * A sched_tls contains the current credentials: the server certificate chain,
 * its private key and, for mutual TLS, the CAs that client certificates
 * must chain to. sched_tls_acquire() returns them with a reference, after
 * checking the files for changes at most once per
 * SCHED_TLS_CHECK_INTERVAL_MS. A change is noticed by stat(): device,
 * inode, size, mtime or ctime of any of the files differ from the last
 * load. The new files are loaded and checked (the key must match the
 * certificate) before they replace the old credentials; when that fails,
 * the old credentials stay in use, the failure is logged once, and the
 * next check tries again. Connections keep the credentials they acquired
 * until they close, so a reload never changes a session in progress.
 *
 * Threads: every function may be called from any thread.
 */
#ifndef STOWAGE_SCHED_TLS_H
#define STOWAGE_SCHED_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "scheduler/log.h"
#include "scoring/error.h"

/* How often the files are checked, at most: a stat() of three files per
 * second costs nothing, and a renewed certificate is in use within a
 * second of the first handshake after the files changed. */
#define SCHED_TLS_CHECK_INTERVAL_MS 1000

/* Maximum number of certificates read from the certificate file. */
#define SCHED_TLS_MAX_CHAIN 16

typedef struct sched_tls sched_tls;
typedef struct sched_tls_credentials sched_tls_credentials;

/* Loads `cert_file` (PEM: the server certificate first, then any
 * intermediates) and `key_file` (PEM: PKCS#8, PKCS#1 or SEC1), and the CA
 * certificates in `client_ca_file` when it is not NULL, which makes client
 * certificates required. Fails with -EINVAL or a negative errno and a
 * message naming the file when a file cannot be read or parsed, or the key
 * does not match the certificate. `log` is borrowed and may be NULL. The
 * caller frees `*out` with sched_tls_free(). */
int sched_tls_new(const char *cert_file, const char *key_file,
		  const char *client_ca_file, sched_log *log, sched_tls **out,
		  score_error *err);

/* Frees the store. Credentials still acquired stay valid until their last
 * reference goes. */
void sched_tls_free(sched_tls *tls);

/* True when clients must present a certificate signed by a CA of
 * client_ca_file. */
bool sched_tls_requires_client_cert(const sched_tls *tls);

/* Returns the current credentials, first reloading them when the files
 * changed and the check interval has passed. The caller releases them with
 * sched_tls_credentials_unref(). */
sched_tls_credentials *sched_tls_acquire(sched_tls *tls);

/* Loads the files now, even when the check interval has not passed or
 * stat() shows no change, and switches to them when they load and the key
 * matches. Logs "reloaded TLS certificate" on success. Returns 0, or a
 * negative errno with `err` naming the file and the problem. Then the
 * previous credentials stay in use, and the periodic check does not retry
 * the same files. */
int sched_tls_reload(sched_tls *tls, score_error *err);

/* Returns how many times the credentials were loaded: 1 after
 * sched_tls_new(), plus one per successful reload. */
uint64_t sched_tls_generation(sched_tls *tls);

void sched_tls_credentials_unref(sched_tls_credentials *credentials);

/* Stores the certificate chain and key in the form that a
 * gnutls_certificate_retrieve_function2 returns them. Borrowed: valid while
 * the caller holds its reference. */
void sched_tls_credentials_get(sched_tls_credentials *credentials,
			       gnutls_pcert_st **chain, unsigned *chain_length,
			       gnutls_privkey_t *key);

/* Verifies the certificate chain the peer of `session` sent against the
 * client CAs of `credentials`, for TLS client authentication (extended key
 * usage clientAuth, when the certificate restricts it), and checks the
 * validity period. Returns 0 when it chains to a client CA, else a negative
 * errno with `err` naming the reason. Sets `*subject` (when not NULL) to
 * the subject DN of the client certificate, or NULL when there is none;
 * the caller frees it with g_free(). */
int sched_tls_verify_client(const sched_tls_credentials *credentials,
			    gnutls_session_t session, char **subject,
			    score_error *err);

#endif
