/* Rotating bearer tokens and exec credential plugins; see credentials.h.
 *
 * Plugin protocol: k8s.io/client-go/plugin/pkg/client/auth/exec (Kubernetes
 * 1.24 and later), with the ExecCredential types of
 * k8s.io/client-go/pkg/apis/clientauthentication/v1 and v1beta1.
 */
#include "informer/credentials.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define COMPONENT "informer"

/* The tail of a failed plugin's standard error shown in the message. */
#define STDERR_TAIL_BYTES 240

/* Identity of the token file's contents as stat() reports it. */
typedef struct file_identity {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
} file_identity;

struct inf_credentials {
	inf_rest_config *config;
	sched_log *log;
	inf_metrics *metrics;

	GMutex mutex; /* guards everything below; held while a plugin runs */
	char *file_token;
	file_identity file_id;
	bool file_valid;
	inf_exec_credential exec;
	bool exec_valid;
	int64_t obtained_us; /* monotonic time of the current credentials */
	unsigned exec_runs;
};

/* ---- ExecCredential output ----------------------------------------------- */

static void free_secret(char *secret)
{
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

void inf_exec_credential_release(inf_exec_credential *credential)
{
	free_secret(credential->token);
	if (credential->client_cert != NULL)
		g_bytes_unref(credential->client_cert);
	if (credential->client_key != NULL)
		g_bytes_unref(credential->client_key);
	memset(credential, 0, sizeof(*credential));
}

static const char *status_string(const cJSON *status, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(status, key);

	return cJSON_IsString(item) && item->valuestring[0] != '\0' ?
		       item->valuestring : NULL;
}

static GBytes *pem_bytes(const char *text)
{
	return text != NULL ? g_bytes_new(text, strlen(text)) : NULL;
}

static int parse_expiry(const cJSON *status, int64_t *expires_us,
			score_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(status,
							     "expirationTimestamp");
	GDateTime *time;

	*expires_us = 0;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return score_fail(err, -EPROTO,
				  "status.expirationTimestamp must be an RFC 3339 time string");
	time = g_date_time_new_from_iso8601(item->valuestring, NULL);
	if (time == NULL)
		return score_fail(err, -EPROTO,
				  "status.expirationTimestamp \"%s\" is not an RFC 3339 time such as 2026-01-02T15:04:05Z",
				  item->valuestring);
	*expires_us = g_date_time_to_unix(time) * G_USEC_PER_SEC +
		      g_date_time_get_microsecond(time);
	g_date_time_unref(time);
	return 0;
}

/* Wipes the token in a parsed status before it goes back to malloc. */
static void wipe_token(const cJSON *status)
{
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(status, "token");

	if (cJSON_IsString(token))
		explicit_bzero(token->valuestring, strlen(token->valuestring));
}

int inf_exec_credential_parse(const char *api_version, const char *text,
			      size_t length, inf_exec_credential *out,
			      score_error *err)
{
	cJSON *json = cJSON_ParseWithLength(text, length);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(json, "kind");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(json, "apiVersion");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(json, "status");
	const char *token, *cert, *key;
	int rc = -EPROTO;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(json)) {
		score_fail(err, rc, "the output is not a JSON ExecCredential (%zu bytes)",
			   length);
		goto out;
	}
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0) {
		score_fail(err, rc, "the output has kind %s, expected ExecCredential",
			   cJSON_IsString(kind) ? kind->valuestring : "(none)");
		goto out;
	}
	if (!cJSON_IsString(version) || strcmp(version->valuestring, api_version) != 0) {
		score_fail(err, rc,
			   "the plugin returned apiVersion %s, but the kubeconfig configures %s",
			   cJSON_IsString(version) ? version->valuestring : "(none)",
			   api_version);
		goto out;
	}
	if (!cJSON_IsObject(status)) {
		score_fail(err, rc, "the output has no status");
		goto out;
	}
	token = status_string(status, "token");
	cert = status_string(status, "clientCertificateData");
	key = status_string(status, "clientKeyData");
	if (token == NULL && cert == NULL && key == NULL) {
		score_fail(err, rc,
			   "status has neither a token nor clientCertificateData and clientKeyData");
		goto out;
	}
	if ((cert == NULL) != (key == NULL)) {
		score_fail(err, rc,
			   "status has only one of clientCertificateData and clientKeyData; a client certificate needs both");
		goto out;
	}
	if (parse_expiry(status, &out->expires_us, err) < 0)
		goto out;

	out->token = g_strdup(token);
	out->client_cert = pem_bytes(cert);
	out->client_key = pem_bytes(key);
	rc = 0;
out:
	wipe_token(status);
	cJSON_Delete(json);
	return rc;
}

/* ---- Running the plugin -------------------------------------------------- */

/* Builds KUBERNETES_EXEC_INFO. The caller frees it with cJSON_free(). */
static char *exec_info(const inf_rest_config *config)
{
	cJSON *info = cJSON_CreateObject();
	cJSON *spec = cJSON_AddObjectToObject(info, "spec");
	cJSON *cluster;
	char *text = NULL;

	if (info == NULL || spec == NULL ||
	    cJSON_AddStringToObject(info, "kind", "ExecCredential") == NULL ||
	    cJSON_AddStringToObject(info, "apiVersion", config->exec->api_version) == NULL ||
	    cJSON_AddBoolToObject(spec, "interactive", false) == NULL)
		goto out;
	if (config->exec->provide_cluster_info) {
		GBytes *ca = config->ca_data != NULL ? g_bytes_ref(config->ca_data) : NULL;

		cluster = cJSON_AddObjectToObject(spec, "cluster");
		if (cluster == NULL)
			goto out;
		cJSON_AddStringToObject(cluster, "server", config->server);
		if (config->tls_server_name != NULL)
			cJSON_AddStringToObject(cluster, "tls-server-name",
						config->tls_server_name);
		if (config->insecure_skip_tls_verify)
			cJSON_AddBoolToObject(cluster, "insecure-skip-tls-verify", true);
		if (ca == NULL && config->ca_file != NULL) {
			char *data = NULL;
			gsize size = 0;

			if (g_file_get_contents(config->ca_file, &data, &size, NULL))
				ca = g_bytes_new_take(data, size);
		}
		if (ca != NULL) {
			gsize size = 0;
			const guchar *data = g_bytes_get_data(ca, &size);
			char *encoded = g_base64_encode(data, size);

			cJSON_AddStringToObject(cluster, "certificate-authority-data", encoded);
			g_free(encoded);
			g_bytes_unref(ca);
		}
		if (config->proxy_url != NULL)
			cJSON_AddStringToObject(cluster, "proxy-url", config->proxy_url);
		if (config->disable_compression)
			cJSON_AddBoolToObject(cluster, "disable-compression", true);
	}
	text = cJSON_PrintUnformatted(info);
out:
	cJSON_Delete(info);
	return text;
}

/* Runs in the child before exec: stowage serve blocks SIGINT and SIGTERM
 * in all its threads, and a plugin must not inherit that. */
static void unblock_signals(gpointer data)
{
	sigset_t all;

	(void)data;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Reads both pipes until they close or `deadline_us` passes. Returns
 * false on timeout. */
static bool read_pipes(int out_fd, int err_fd, gint64 deadline_us,
		       GString *out, GString *errors)
{
	struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	GString *sinks[2] = {out, errors};
	int open = 2;
	char buf[4096];

	while (open > 0) {
		gint64 left_ms = (deadline_us - g_get_monotonic_time()) / 1000;
		int ready;

		if (left_ms <= 0)
			return false;
		ready = poll(fds, 2, (int)MIN(left_ms, 1000));
		if (ready < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < 2 && ready > 0; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0 && sinks[i]->len < INF_EXEC_MAX_OUTPUT_BYTES)
				g_string_append_len(sinks[i], buf, n);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				fds[i].fd = -1;
				open--;
			}
		}
	}
	return true;
}

/* Returns the end of the plugin's standard error, trimmed, for messages. */
static char *stderr_tail(const GString *errors)
{
	const char *start = errors->str;
	char *tail;

	if (errors->len > STDERR_TAIL_BYTES)
		start += errors->len - STDERR_TAIL_BYTES;
	tail = g_strdup(start);
	g_strstrip(tail);
	for (char *p = tail; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return tail;
}

static int spawn_failure(const inf_exec_config *exec, GError *error,
			 score_error *err)
{
	int rc;

	if (g_error_matches(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
		rc = score_fail(err, -ENOENT,
				"exec credential plugin %s was not found: %s", exec->command,
				exec->install_hint != NULL ? exec->install_hint :
				"install it or fix users[].user.exec.command in the kubeconfig");
	else
		rc = score_fail(err, -EIO, "exec credential plugin %s could not be started: %s",
				exec->command, error->message);
	g_error_free(error);
	return rc;
}

/* Runs the plugin and parses its output into `credential`. */
static int run_plugin(const inf_rest_config *config, inf_exec_credential *credential,
		      score_error *err)
{
	const inf_exec_config *exec = config->exec;
	char **argv = NULL, **envp = g_get_environ();
	GString *out = g_string_new(NULL), *errors = g_string_new(NULL);
	char *info = exec_info(config), *tail = NULL;
	int out_fd = -1, err_fd = -1, status = 0;
	GError *error = NULL;
	GPid pid = 0;
	bool finished;
	int rc;

	for (char **variable = exec->env; *variable != NULL; variable++) {
		char **pair = g_strsplit(*variable, "=", 2);

		envp = g_environ_setenv(envp, pair[0], pair[1] != NULL ? pair[1] : "", true);
		g_strfreev(pair);
	}
	envp = g_environ_setenv(envp, "KUBERNETES_EXEC_INFO", info != NULL ? info : "", true);
	argv = g_new0(char *, g_strv_length(exec->args) + 2);
	argv[0] = exec->command;
	for (guint i = 0; exec->args[i] != NULL; i++)
		argv[i + 1] = exec->args[i];

	if (!g_spawn_async_with_pipes(NULL, argv, envp,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
				      unblock_signals, NULL, &pid, NULL, &out_fd,
				      &err_fd, &error)) {
		rc = spawn_failure(exec, error, err);
		goto out;
	}
	finished = read_pipes(out_fd, err_fd,
			      g_get_monotonic_time() + INF_EXEC_TIMEOUT_MS * 1000, out,
			      errors);
	if (!finished)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	tail = stderr_tail(errors);

	if (!finished) {
		rc = score_fail(err, -ETIMEDOUT,
				"exec credential plugin %s did not finish within %d s and was killed%s%s",
				exec->command, INF_EXEC_TIMEOUT_MS / 1000,
				tail[0] != '\0' ? "; its last output on standard error: " : "", tail);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = score_fail(err, -EIO, "exec credential plugin %s failed with %s %d%s%s",
				exec->command,
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				tail[0] != '\0' ? ": " : "", tail);
		goto out;
	}
	rc = inf_exec_credential_parse(exec->api_version, out->str, out->len,
				       credential, err);
	if (rc < 0)
		score_error_prefix(err, "exec credential plugin %s returned an invalid credential",
				   exec->command);
out:
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	explicit_bzero(out->str, out->len);
	g_string_free(out, true);
	g_string_free(errors, true);
	g_free(tail);
	cJSON_free(info);
	g_free(argv);
	g_strfreev(envp);
	return rc;
}

/* ---- Credential source --------------------------------------------------- */

inf_credentials *inf_credentials_new(const inf_rest_config *config)
{
	inf_credentials *credentials = g_new0(inf_credentials, 1);

	credentials->config = inf_rest_config_copy(config);
	credentials->obtained_us = g_get_monotonic_time();
	g_mutex_init(&credentials->mutex);
	return credentials;
}

void inf_credentials_free(inf_credentials *credentials)
{
	if (credentials == NULL)
		return;
	free_secret(credentials->file_token);
	inf_exec_credential_release(&credentials->exec);
	inf_rest_config_free(credentials->config);
	g_mutex_clear(&credentials->mutex);
	g_free(credentials);
}

void inf_credentials_set_observers(inf_credentials *credentials,
				   sched_log *log, inf_metrics *metrics)
{
	credentials->log = log;
	credentials->metrics = metrics;
}

/* Returns true when the exec plugin supplies the credentials. client-go
 * skips the plugin when the kubeconfig user also sets a token, token file,
 * username or client certificate, taking those as the user's choice. */
static bool exec_active(const inf_rest_config *config)
{
	return config->exec != NULL && config->token == NULL &&
	       config->token_file == NULL && config->username == NULL &&
	       config->client_cert_data == NULL && config->client_cert_file == NULL;
}

bool inf_credentials_refreshable(const inf_credentials *credentials)
{
	const inf_rest_config *config = credentials->config;

	return exec_active(config) ||
	       (config->token == NULL && config->token_file != NULL);
}

static int file_identity_of(const char *path, file_identity *id,
			    score_error *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return score_fail(err, -EACCES, "cannot read the bearer token file %s: %s",
				  path, g_strerror(errno));
	memset(id, 0, sizeof(*id));
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	return 0;
}

/* Rereads the token file when it changed since the last read. Called
 * with the mutex held. */
static int refresh_file_token(inf_credentials *c, score_error *err)
{
	const char *path = c->config->token_file;
	file_identity id;
	GError *error = NULL;
	char *token = NULL;
	int rc;

	rc = file_identity_of(path, &id, err);
	if (rc < 0)
		return rc;
	if (c->file_valid && memcmp(&id, &c->file_id, sizeof(id)) == 0)
		return 0;
	if (!g_file_get_contents(path, &token, NULL, &error)) {
		rc = score_fail(err, -EACCES, "cannot read the bearer token file %s: %s",
				path, error->message);
		g_error_free(error);
		return rc;
	}
	g_strstrip(token);
	free_secret(c->file_token);
	c->file_token = token;
	c->file_id = id;
	c->file_valid = true;
	c->obtained_us = g_get_monotonic_time();
	return 0;
}

/* Runs the plugin when there is no valid credential. Called with the
 * mutex held. */
static int refresh_exec(inf_credentials *c, score_error *err)
{
	inf_exec_credential fresh;
	gint64 started = g_get_monotonic_time();
	int rc;

	if (c->exec_valid && (c->exec.expires_us == 0 ||
			      g_get_real_time() < c->exec.expires_us))
		return 0;
	c->exec_runs++;
	rc = run_plugin(c->config, &fresh, err);
	inf_metrics_count_exec_run(c->metrics, rc == 0);
	if (rc < 0) {
		SCHED_LOG(c->log, SCHED_LOG_WARN, COMPONENT,
			  "exec credential plugin failed",
			  SCHED_STR("command", c->config->exec->command),
			  SCHED_STR("error", err->message));
		return rc;
	}
	inf_exec_credential_release(&c->exec);
	c->exec = fresh;
	c->exec_valid = true;
	c->obtained_us = g_get_monotonic_time();
	SCHED_LOG(c->log, SCHED_LOG_INFO, COMPONENT, "exec credential plugin ran",
		  SCHED_STR("command", c->config->exec->command),
		  SCHED_BOOL("token", fresh.token != NULL),
		  SCHED_BOOL("client_certificate", fresh.client_cert != NULL),
		  SCHED_INT("expires_in_s", fresh.expires_us == 0 ? -1 :
				    (fresh.expires_us - g_get_real_time()) / G_USEC_PER_SEC),
		  SCHED_DOUBLE("duration_ms",
			       (double)(g_get_monotonic_time() - started) / 1000.0));
	return 0;
}

int inf_credentials_get(inf_credentials *credentials, inf_credential_set *set,
			score_error *err)
{
	const inf_rest_config *config = credentials->config;
	const char *token = NULL;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	g_mutex_lock(&credentials->mutex);
	if (exec_active(config)) {
		rc = refresh_exec(credentials, err);
		if (rc < 0)
			goto out;
		token = credentials->exec.token;
		if (credentials->exec.client_cert != NULL) {
			set->client_cert = g_bytes_ref(credentials->exec.client_cert);
			set->client_key = g_bytes_ref(credentials->exec.client_key);
		}
	}
	if (config->token != NULL) {
		token = config->token;
	} else if (config->token_file != NULL) {
		rc = refresh_file_token(credentials, err);
		if (rc < 0)
			goto out;
		token = credentials->file_token;
	}
	set->token = g_strdup(token);
out:
	g_mutex_unlock(&credentials->mutex);
	return rc;
}

void inf_credentials_rejected(inf_credentials *credentials, int64_t set_up_us)
{
	g_mutex_lock(&credentials->mutex);
	if (credentials->obtained_us <= set_up_us) {
		credentials->exec_valid = false;
		credentials->file_valid = false;
	}
	g_mutex_unlock(&credentials->mutex);
}

unsigned inf_credentials_exec_runs(inf_credentials *credentials)
{
	unsigned runs;

	g_mutex_lock(&credentials->mutex);
	runs = credentials->exec_runs;
	g_mutex_unlock(&credentials->mutex);
	return runs;
}

void inf_credential_set_release(inf_credential_set *set)
{
	free_secret(set->token);
	if (set->client_cert != NULL)
		g_bytes_unref(set->client_cert);
	if (set->client_key != NULL)
		g_bytes_unref(set->client_key);
	memset(set, 0, sizeof(*set));
}
