/* TLS credentials from PEM files, reloaded when the files change; see
 * scheduler/tls.h. */
#include "scheduler/tls.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#define COMPONENT "tls"

enum { FILE_CERT = 0, FILE_KEY, FILE_CLIENT_CA, FILE_COUNT };

/* What stat() shows of one file; two identities differ when the file was
 * replaced (new inode, as a Secret volume update does) or rewritten. */
typedef struct file_identity {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
} file_identity;

struct sched_tls_credentials {
	gint refs; /* atomic */
	gnutls_pcert_st chain[SCHED_TLS_MAX_CHAIN];
	unsigned chain_length;
	gnutls_privkey_t key;
	gnutls_x509_trust_list_t client_cas; /* NULL without mutual TLS */
};

struct sched_tls {
	char *paths[FILE_COUNT]; /* paths[FILE_CLIENT_CA] may be NULL */
	sched_log *log;          /* borrowed, may be NULL */

	GMutex lock; /* guards everything below */
	sched_tls_credentials *current;
	file_identity loaded[FILE_COUNT];  /* the files `current` came from */
	file_identity rejected[FILE_COUNT]; /* the last files that failed */
	bool has_rejected;
	gint64 next_check_us; /* monotonic */
	uint64_t generation;
};

static const char *const file_roles[FILE_COUNT] = {
	"TLS certificate", "TLS private key", "client CA"};

/* ---- Credentials -------------------------------------------------------- */

static sched_tls_credentials *credentials_new(void)
{
	sched_tls_credentials *c = g_new0(sched_tls_credentials, 1);

	c->refs = 1;
	return c;
}

void sched_tls_credentials_unref(sched_tls_credentials *credentials)
{
	if (credentials == NULL ||
	    !g_atomic_int_dec_and_test(&credentials->refs))
		return;
	for (unsigned i = 0; i < credentials->chain_length; i++)
		gnutls_pcert_deinit(&credentials->chain[i]);
	if (credentials->key != NULL)
		gnutls_privkey_deinit(credentials->key);
	if (credentials->client_cas != NULL)
		gnutls_x509_trust_list_deinit(credentials->client_cas, 1);
	g_free(credentials);
}

void sched_tls_credentials_get(sched_tls_credentials *credentials,
			       gnutls_pcert_st **chain, unsigned *chain_length,
			       gnutls_privkey_t *key)
{
	*chain = credentials->chain;
	*chain_length = credentials->chain_length;
	*key = credentials->key;
}

/* Reads `path` into `*data`; the caller frees it with free_file(). */
static int read_file(const char *path, const char *role, gnutls_datum_t *data,
		     score_error *err)
{
	GError *error = NULL;
	gchar *contents = NULL;
	gsize length = 0;
	int ret;

	if (!g_file_get_contents(path, &contents, &length, &error)) {
		ret = score_fail(err,
				 error->domain == G_FILE_ERROR &&
						 error->code == G_FILE_ERROR_NOENT
					 ? -ENOENT
					 : -EIO,
				 "cannot read the %s file: %s", role,
				 error->message);
		g_error_free(error);
		return ret;
	}
	if (length > G_MAXUINT) {
		g_free(contents);
		return score_fail(err, -EFBIG, "the %s file %s is too large",
				  role, path);
	}
	data->data = (unsigned char *)contents;
	data->size = (unsigned)length;
	return 0;
}

/* Frees a file read by read_file(), wiping it first: it may be a key. */
static void free_file(gnutls_datum_t *data)
{
	if (data->data == NULL)
		return;
	gnutls_memset(data->data, 0, data->size);
	g_free(data->data);
	data->data = NULL;
	data->size = 0;
}

static int load_chain(sched_tls_credentials *c, const char *path,
		      score_error *err)
{
	gnutls_datum_t pem = {NULL, 0};
	unsigned length = SCHED_TLS_MAX_CHAIN;
	int ret;

	ret = read_file(path, file_roles[FILE_CERT], &pem, err);
	if (ret < 0)
		return ret;
	ret = gnutls_pcert_list_import_x509_raw(
		c->chain, &length, &pem, GNUTLS_X509_FMT_PEM,
		GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED |
			GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	free_file(&pem);
	if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
		return score_fail(err, -EINVAL,
				  "the TLS certificate file %s contains more than "
				  "%d certificates; keep the server "
				  "certificate and its intermediates only",
				  path, SCHED_TLS_MAX_CHAIN);
	if (ret < 0)
		return score_fail(err, -EINVAL,
				  "invalid TLS certificate file %s: %s; give "
				  "PEM certificates, the server certificate "
				  "first and then its issuers",
				  path, gnutls_strerror(ret));
	if (length == 0)
		return score_fail(err, -EINVAL,
				  "no certificate in the TLS certificate file "
				  "%s",
				  path);
	c->chain_length = length;
	return 0;
}

static int load_key(sched_tls_credentials *c, const char *path,
		    score_error *err)
{
	gnutls_datum_t pem = {NULL, 0};
	int ret;

	ret = read_file(path, file_roles[FILE_KEY], &pem, err);
	if (ret < 0)
		return ret;
	ret = gnutls_privkey_init(&c->key);
	if (ret == 0)
		ret = gnutls_privkey_import_x509_raw(c->key, &pem,
						     GNUTLS_X509_FMT_PEM, NULL,
						     0);
	free_file(&pem);
	if (ret < 0)
		return score_fail(err, -EINVAL,
				  "invalid TLS private key file %s: %s; give "
				  "an unencrypted PEM key (PKCS#8, PKCS#1 or "
				  "SEC1)",
				  path, gnutls_strerror(ret));
	return 0;
}

/* Checks that the key belongs to the first certificate, so that a pair
 * caught halfway through a rotation is never served. */
static int check_key_matches(const sched_tls_credentials *c,
			     const char *cert_path, const char *key_path,
			     score_error *err)
{
	gnutls_pubkey_t from_key = NULL;
	unsigned char cert_id[64];
	unsigned char key_id[64];
	size_t cert_id_size = sizeof(cert_id);
	size_t key_id_size = sizeof(key_id);
	int ret;

	ret = gnutls_pubkey_init(&from_key);
	if (ret == 0)
		ret = gnutls_pubkey_import_privkey(from_key, c->key, 0, 0);
	if (ret == 0)
		ret = gnutls_pubkey_get_key_id(from_key, 0, key_id,
					       &key_id_size);
	if (ret == 0)
		ret = gnutls_pubkey_get_key_id(c->chain[0].pubkey, 0, cert_id,
					       &cert_id_size);
	if (from_key != NULL)
		gnutls_pubkey_deinit(from_key);
	if (ret < 0)
		return score_fail(err, -EINVAL,
				  "cannot compare the TLS private key %s with "
				  "the certificate %s: %s",
				  key_path, cert_path, gnutls_strerror(ret));
	if (cert_id_size != key_id_size ||
	    memcmp(cert_id, key_id, cert_id_size) != 0)
		return score_fail(err, -EINVAL,
				  "the TLS private key %s does not match the "
				  "certificate %s; give the key of that "
				  "certificate",
				  key_path, cert_path);
	return 0;
}

static int load_client_cas(sched_tls_credentials *c, const char *path,
			   score_error *err)
{
	gnutls_datum_t pem = {NULL, 0};
	int ret;

	ret = read_file(path, file_roles[FILE_CLIENT_CA], &pem, err);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_trust_list_init(&c->client_cas, 0);
	if (ret == 0)
		ret = gnutls_x509_trust_list_add_trust_mem(
			c->client_cas, &pem, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	free_file(&pem);
	if (ret < 0)
		return score_fail(err, -EINVAL,
				  "invalid client CA file %s: %s; give PEM CA "
				  "certificates",
				  path, gnutls_strerror(ret));
	if (ret == 0)
		return score_fail(err, -EINVAL,
				  "no certificate in the client CA file %s",
				  path);
	return 0;
}

static int load_credentials(const sched_tls *tls, sched_tls_credentials **out,
			    score_error *err)
{
	sched_tls_credentials *c = credentials_new();
	int ret;

	ret = load_chain(c, tls->paths[FILE_CERT], err);
	if (ret < 0)
		goto out;
	ret = load_key(c, tls->paths[FILE_KEY], err);
	if (ret < 0)
		goto out;
	ret = check_key_matches(c, tls->paths[FILE_CERT], tls->paths[FILE_KEY],
				err);
	if (ret < 0)
		goto out;
	if (tls->paths[FILE_CLIENT_CA] != NULL) {
		ret = load_client_cas(c, tls->paths[FILE_CLIENT_CA], err);
		if (ret < 0)
			goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;

out:
	sched_tls_credentials_unref(c);
	return ret;
}

/* ---- Logging the certificate in use ------------------------------------- */

/* Logs the serial, subject and expiry of the server certificate, and warns
 * when it is outside its validity period. */
static void log_certificate(const sched_tls *tls,
			    const sched_tls_credentials *c,
			    const char *message)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = {NULL, 0};
	unsigned char serial[64];
	size_t serial_size = sizeof(serial);
	char *serial_hex = NULL;
	GDateTime *not_after = NULL;
	char *not_after_text = NULL;
	time_t expires;

	if (!sched_log_enabled(tls->log, SCHED_LOG_INFO))
		return;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &c->chain[0].cert,
				   GNUTLS_X509_FMT_DER) < 0)
		goto out;

	if (gnutls_x509_crt_get_serial(crt, serial, &serial_size) == 0) {
		GString *hex = g_string_new(NULL);

		for (size_t i = 0; i < serial_size; i++)
			g_string_append_printf(hex, "%02x", serial[i]);
		serial_hex = g_string_free(hex, FALSE);
	}
	(void)gnutls_x509_crt_get_dn3(crt, &dn, 0);
	expires = gnutls_x509_crt_get_expiration_time(crt);
	not_after = g_date_time_new_from_unix_utc((gint64)expires);
	if (not_after != NULL)
		not_after_text = g_date_time_format_iso8601(not_after);

	SCHED_LOG(tls->log, SCHED_LOG_INFO, COMPONENT, message,
		  SCHED_STR("file", tls->paths[FILE_CERT]),
		  SCHED_STR("subject", dn.data != NULL ? (char *)dn.data : ""),
		  SCHED_STR("serial", serial_hex != NULL ? serial_hex : ""),
		  SCHED_STR("not_after",
			    not_after_text != NULL ? not_after_text : ""),
		  SCHED_INT("chain_length", c->chain_length),
		  SCHED_STR("client_certificates",
			    c->client_cas != NULL ? "required" : "not requested"));
	if (expires != (time_t)-1 && expires < time(NULL))
		SCHED_LOG(tls->log, SCHED_LOG_WARN, COMPONENT,
			  "the TLS certificate has expired: clients will "
			  "reject it until it is renewed",
			  SCHED_STR("file", tls->paths[FILE_CERT]),
			  SCHED_STR("not_after",
				    not_after_text != NULL ? not_after_text
							   : ""));

out:
	g_free(not_after_text);
	if (not_after != NULL)
		g_date_time_unref(not_after);
	g_free(serial_hex);
	gnutls_free(dn.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
}

/* ---- File identities ---------------------------------------------------- */

static void read_identity(const char *path, file_identity *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (path == NULL || stat(path, &st) < 0)
		return;
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->ctime = st.st_ctim;
}

static bool same_identity(const file_identity *a, const file_identity *b)
{
	return a->present == b->present && a->dev == b->dev &&
	       a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static bool same_identities(const file_identity *a, const file_identity *b)
{
	for (int i = 0; i < FILE_COUNT; i++) {
		if (!same_identity(&a[i], &b[i]))
			return false;
	}
	return true;
}

static void read_identities(const sched_tls *tls, file_identity *ids)
{
	for (int i = 0; i < FILE_COUNT; i++)
		read_identity(tls->paths[i], &ids[i]);
}

/* ---- The store ---------------------------------------------------------- */

int sched_tls_new(const char *cert_file, const char *key_file,
		  const char *client_ca_file, sched_log *log, sched_tls **out,
		  score_error *err)
{
	sched_tls *tls;
	file_identity before[FILE_COUNT];
	int ret;

	*out = NULL;
	if (cert_file == NULL || *cert_file == '\0' || key_file == NULL ||
	    *key_file == '\0')
		return score_fail(err, -EINVAL,
				  "TLS needs both a certificate file and a "
				  "private key file");

	tls = g_new0(sched_tls, 1);
	tls->paths[FILE_CERT] = g_strdup(cert_file);
	tls->paths[FILE_KEY] = g_strdup(key_file);
	if (client_ca_file != NULL && *client_ca_file != '\0')
		tls->paths[FILE_CLIENT_CA] = g_strdup(client_ca_file);
	tls->log = log;
	g_mutex_init(&tls->lock);

	/* The identities are read before the files, so that a change made
	 * while loading is seen at the next check. */
	read_identities(tls, before);
	ret = load_credentials(tls, &tls->current, err);
	if (ret < 0) {
		sched_tls_free(tls);
		return ret;
	}
	memcpy(tls->loaded, before, sizeof(before));
	tls->generation = 1;
	tls->next_check_us = g_get_monotonic_time() +
			     SCHED_TLS_CHECK_INTERVAL_MS * 1000;
	log_certificate(tls, tls->current, "loaded TLS certificate");
	*out = tls;
	return 0;
}

void sched_tls_free(sched_tls *tls)
{
	if (tls == NULL)
		return;
	sched_tls_credentials_unref(tls->current);
	for (int i = 0; i < FILE_COUNT; i++)
		g_free(tls->paths[i]);
	g_mutex_clear(&tls->lock);
	g_free(tls);
}

bool sched_tls_requires_client_cert(const sched_tls *tls)
{
	return tls->paths[FILE_CLIENT_CA] != NULL;
}

/* Loads the files whose identities were read as `now` and switches to
 * them. Called with the lock held; the files are read under it, which
 * delays other handshakes for the few milliseconds a reload takes. On
 * failure the identities are remembered, so that the periodic check does
 * not try the same files again. */
static int reload_locked(sched_tls *tls, const file_identity *now,
			 score_error *err)
{
	sched_tls_credentials *fresh = NULL;
	int ret;

	ret = load_credentials(tls, &fresh, err);
	if (ret < 0) {
		memcpy(tls->rejected, now, sizeof(tls->rejected));
		tls->has_rejected = true;
		return ret;
	}
	sched_tls_credentials_unref(tls->current);
	tls->current = fresh;
	memcpy(tls->loaded, now, sizeof(tls->loaded));
	tls->has_rejected = false;
	tls->generation++;
	log_certificate(tls, fresh, "reloaded TLS certificate");
	return 0;
}

/* Reloads the credentials when the files changed since the last load and
 * since the last failed attempt. Called with the lock held. */
static void reload_if_changed(sched_tls *tls)
{
	file_identity now[FILE_COUNT];
	score_error err = {0};

	read_identities(tls, now);
	if (same_identities(now, tls->loaded))
		return;
	if (tls->has_rejected && same_identities(now, tls->rejected))
		return;

	if (reload_locked(tls, now, &err) < 0)
		SCHED_LOG(tls->log, SCHED_LOG_WARN, COMPONENT,
			  "TLS files changed but could not be loaded; still "
			  "serving the previous certificate",
			  SCHED_STR("error", err.message));
}

int sched_tls_reload(sched_tls *tls, score_error *err)
{
	file_identity now[FILE_COUNT];
	int ret;

	g_mutex_lock(&tls->lock);
	/* Read before the files, so that a change made while loading is
	 * seen at the next check. */
	read_identities(tls, now);
	ret = reload_locked(tls, now, err);
	tls->next_check_us = g_get_monotonic_time() +
			     SCHED_TLS_CHECK_INTERVAL_MS * 1000;
	g_mutex_unlock(&tls->lock);
	return ret;
}

sched_tls_credentials *sched_tls_acquire(sched_tls *tls)
{
	sched_tls_credentials *c;
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&tls->lock);
	if (now >= tls->next_check_us) {
		tls->next_check_us = now + SCHED_TLS_CHECK_INTERVAL_MS * 1000;
		reload_if_changed(tls);
	}
	c = tls->current;
	g_atomic_int_inc(&c->refs);
	g_mutex_unlock(&tls->lock);
	return c;
}

uint64_t sched_tls_generation(sched_tls *tls)
{
	uint64_t generation;

	g_mutex_lock(&tls->lock);
	generation = tls->generation;
	g_mutex_unlock(&tls->lock);
	return generation;
}

/* ---- Client certificates ------------------------------------------------ */

static char *subject_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t dn = {NULL, 0};
	char *subject;

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
		return g_strdup("");
	subject = g_strndup((const char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return subject;
}

int sched_tls_verify_client(const sched_tls_credentials *credentials,
			    gnutls_session_t session, char **subject,
			    score_error *err)
{
	gnutls_x509_crt_t chain[SCHED_TLS_MAX_CHAIN] = {NULL};
	const gnutls_datum_t *peers;
	unsigned peer_count = 0;
	unsigned imported = 0;
	unsigned status = 0;
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	int ret;

	if (subject != NULL)
		*subject = NULL;
	if (credentials->client_cas == NULL)
		return score_fail(err, -EINVAL,
				  "no client CA is configured to verify "
				  "client certificates");

	peers = gnutls_certificate_get_peers(session, &peer_count);
	if (peers == NULL || peer_count == 0)
		return score_fail(err, -EACCES,
				  "the client sent no certificate");
	if (peer_count > SCHED_TLS_MAX_CHAIN)
		return score_fail(err, -EACCES,
				  "the client sent a chain of %u certificates, "
				  "more than %d",
				  peer_count, SCHED_TLS_MAX_CHAIN);

	for (; imported < peer_count; imported++) {
		ret = gnutls_x509_crt_init(&chain[imported]);
		if (ret == 0)
			ret = gnutls_x509_crt_import(chain[imported],
						     &peers[imported],
						     GNUTLS_X509_FMT_DER);
		if (ret < 0) {
			imported++;
			ret = score_fail(err, -EACCES,
					 "client certificate %u is invalid: "
					 "%s",
					 imported, gnutls_strerror(ret));
			goto out;
		}
	}
	if (subject != NULL)
		*subject = subject_of(chain[0]);

	ret = gnutls_x509_trust_list_verify_crt2(credentials->client_cas,
						 chain, peer_count, &purpose,
						 1, 0, &status, NULL);
	if (ret < 0) {
		ret = score_fail(err, -EACCES,
				 "client certificate verification failed: %s",
				 gnutls_strerror(ret));
		goto out;
	}
	if (status != 0) {
		gnutls_datum_t reason = {NULL, 0};

		gnutls_certificate_verification_status_print(
			status, GNUTLS_CRT_X509, &reason, 0);
		ret = score_fail(err, -EACCES,
				 "client certificate rejected: %s",
				 reason.data != NULL ? (char *)reason.data
						     : "not trusted");
		gnutls_free(reason.data);
		goto out;
	}
	ret = 0;

out:
	for (unsigned i = 0; i < imported; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return ret;
}
