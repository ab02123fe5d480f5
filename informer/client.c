/* libcurl plumbing for API server requests; see client.h. */
#include "informer/client.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "informer/credentials.h"

/* TCP keepalive, as client-go's dialer sets it (30 s), so a watch on a
 * connection whose peer vanished fails instead of waiting forever. */
#define KEEPALIVE_S 30L

struct inf_client {
	inf_rest_config *config;
	inf_credentials *credentials;
	char *base_url;                 /* server, host replaced by tls_server_name */
	struct curl_slist *connect_to;  /* NULL unless tls_server_name is set */
	CURLSH *share;
	GMutex share_locks[CURL_LOCK_DATA_LAST];
};

static void share_lock(CURL *handle, curl_lock_data data,
		       curl_lock_access access, void *user)
{
	inf_client *client = user;

	(void)handle;
	(void)access;
	g_mutex_lock(&client->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *user)
{
	inf_client *client = user;

	(void)handle;
	g_mutex_unlock(&client->share_locks[data]);
}

static void global_init_once(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&done, 1);
	}
}

/* Makes the URL point at tls_server_name and the connection go to the real
 * host: libcurl then sends tls_server_name as SNI and verifies the
 * certificate against it, which is what client-go's tls-server-name does.
 * The Host header carries tls_server_name too, which the API server
 * ignores. */
static int redirect_tls_name(inf_client *client, score_error *err)
{
	CURLU *url = curl_url();
	char *host = NULL, *port = NULL, *rewritten = NULL;
	char *entry;
	int rc = 0;

	if (url == NULL)
		return score_fail(err, -ENOMEM, "out of memory parsing %s",
				  client->config->server);
	if (curl_url_set(url, CURLUPART_URL, client->config->server, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_set(url, CURLUPART_HOST, client->config->tls_server_name, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_URL, &rewritten, 0) != CURLUE_OK) {
		rc = score_fail(err, -EINVAL,
				"server %s with tls-server-name %s is not a valid URL",
				client->config->server,
				client->config->tls_server_name);
		goto out;
	}
	g_free(client->base_url);
	client->base_url = g_strdup(rewritten);
	g_strchomp(client->base_url);
	while (g_str_has_suffix(client->base_url, "/"))
		client->base_url[strlen(client->base_url) - 1] = '\0';
	entry = g_strdup_printf("%s:%s:%s:%s", client->config->tls_server_name,
				port, host, port);
	client->connect_to = curl_slist_append(NULL, entry);
	g_free(entry);
out:
	curl_free(host);
	curl_free(port);
	curl_free(rewritten);
	curl_url_cleanup(url);
	return rc;
}

int inf_client_new(const inf_rest_config *config, inf_client **out,
		   score_error *err)
{
	inf_client *client;
	int rc;

	*out = NULL;
	global_init_once();
	if (config->server == NULL || config->server[0] == '\0')
		return score_fail(err, -EINVAL,
				  "the API server configuration has no server URL");

	client = g_new0(inf_client, 1);
	client->config = inf_rest_config_copy(config);
	client->credentials = inf_credentials_new(config);
	client->base_url = g_strdup(config->server);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		g_mutex_init(&client->share_locks[i]);
	if (config->tls_server_name != NULL) {
		rc = redirect_tls_name(client, err);
		if (rc < 0) {
			inf_client_free(client);
			return rc;
		}
	}
	client->share = curl_share_init();
	if (client->share != NULL) {
		curl_share_setopt(client->share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(client->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(client->share, CURLSHOPT_USERDATA, client);
		curl_share_setopt(client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		/* Not CURL_LOCK_DATA_CONNECT: libcurl does not support
		 * sharing connections between concurrent threads. */
		curl_share_setopt(client->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_SSL_SESSION);
	}
	*out = client;
	return 0;
}

void inf_client_free(inf_client *client)
{
	if (client == NULL)
		return;
	if (client->share != NULL)
		curl_share_cleanup(client->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		g_mutex_clear(&client->share_locks[i]);
	curl_slist_free_all(client->connect_to);
	g_free(client->base_url);
	inf_credentials_free(client->credentials);
	inf_rest_config_free(client->config);
	g_free(client);
}

const char *inf_client_server(const inf_client *client)
{
	return client->config->server;
}

void inf_client_set_observers(inf_client *client, sched_log *log,
			      inf_metrics *metrics)
{
	inf_credentials_set_observers(client->credentials, log, metrics);
}

void inf_client_unauthorized(const inf_client *client, int64_t set_up_us)
{
	inf_credentials_rejected(client->credentials, set_up_us);
}

unsigned inf_client_exec_runs(const inf_client *client)
{
	return inf_credentials_exec_runs(client->credentials);
}

const char *inf_client_source(const inf_client *client)
{
	return client->config->source != NULL ? client->config->source : "";
}

static void set_blob(CURL *easy, CURLoption option, GBytes *bytes)
{
	struct curl_blob blob;
	gsize size = 0;

	blob.data = (void *)g_bytes_get_data(bytes, &size);
	blob.len = size;
	blob.flags = CURL_BLOB_COPY;
	curl_easy_setopt(easy, option, &blob);
}

static void setup_tls(const inf_rest_config *c, const inf_credential_set *set,
		      CURL *easy)
{
	if (c->insecure_skip_tls_verify) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->ca_data != NULL)
		set_blob(easy, CURLOPT_CAINFO_BLOB, c->ca_data);
	else if (c->ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
	/* An exec plugin's certificate replaces the kubeconfig's. */
	if (set->client_cert != NULL) {
		set_blob(easy, CURLOPT_SSLCERT_BLOB, set->client_cert);
		set_blob(easy, CURLOPT_SSLKEY_BLOB, set->client_key);
	} else {
		if (c->client_cert_data != NULL)
			set_blob(easy, CURLOPT_SSLCERT_BLOB, c->client_cert_data);
		else if (c->client_cert_file != NULL)
			curl_easy_setopt(easy, CURLOPT_SSLCERT, c->client_cert_file);
		if (c->client_key_data != NULL)
			set_blob(easy, CURLOPT_SSLKEY_BLOB, c->client_key_data);
		else if (c->client_key_file != NULL)
			curl_easy_setopt(easy, CURLOPT_SSLKEY, c->client_key_file);
	}
	if (set->client_cert != NULL || c->client_cert_data != NULL ||
	    c->client_cert_file != NULL) {
		curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

/* Appends the Authorization header for a bearer token. */
static void add_token(const char *token, struct curl_slist **headers)
{
	char *header;

	if (token == NULL)
		return;
	header = g_strconcat("Authorization: Bearer ", token, NULL);
	*headers = curl_slist_append(*headers, header);
	explicit_bzero(header, strlen(header));
	g_free(header);
}

int inf_client_setup(const inf_client *client, CURL *easy, const char *path,
		     struct curl_slist **headers, score_error *err)
{
	const inf_rest_config *c = client->config;
	inf_credential_set set;
	char *url;
	int rc;

	*headers = NULL;
	rc = inf_credentials_get(client->credentials, &set, err);
	if (rc < 0)
		return rc;
	url = g_strconcat(client->base_url, path, NULL);
	*headers = curl_slist_append(NULL, "Accept: application/json");
	add_token(set.token, headers);

	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "stowage");
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)INF_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, KEEPALIVE_S);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, KEEPALIVE_S);
	if (!c->disable_compression)
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	if (client->connect_to != NULL)
		curl_easy_setopt(easy, CURLOPT_CONNECT_TO, client->connect_to);
	if (c->proxy_url != NULL)
		curl_easy_setopt(easy, CURLOPT_PROXY, c->proxy_url);
	if (c->username != NULL) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(easy, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(easy, CURLOPT_PASSWORD,
				 c->password != NULL ? c->password : "");
	}
	setup_tls(c, &set, easy);
	if (client->share != NULL)
		curl_easy_setopt(easy, CURLOPT_SHARE, client->share);
	inf_credential_set_release(&set);
	g_free(url);
	return 0;
}

/* ---- Requests ------------------------------------------------------------ */

void inf_response_init(inf_response *response)
{
	memset(response, 0, sizeof(*response));
	response->body = g_string_new(NULL);
	response->retry_after_s = -1;
}

void inf_response_release(inf_response *response)
{
	if (response->body != NULL)
		g_string_free(response->body, true);
	response->body = NULL;
}

static size_t collect_body(char *data, size_t size, size_t n, void *user)
{
	GString *body = user;

	g_string_append_len(body, data, (gssize)(size * n));
	return size * n;
}

/* Sends one request; see inf_client_request(). Sets `*set_up_us` to the
 * time its credentials were in place. */
static int request_once(const inf_client *client, const char *method,
			const char *path, const char *body, int64_t timeout_ms,
			inf_response *response, int64_t *set_up_us,
			score_error *err)
{
	CURL *easy = curl_easy_init();
	struct curl_slist *headers = NULL;
	curl_off_t retry_after = 0;
	int rc;

	if (easy == NULL)
		return score_fail(err, -ENOMEM, "curl_easy_init failed");
	rc = inf_client_setup(client, easy, path, &headers, err);
	*set_up_us = g_get_monotonic_time();
	if (rc < 0)
		goto out;
	if (body != NULL) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, response->body);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, response->curl_error);

	response->result = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response->status);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		response->retry_after_s = (int64_t)retry_after;
	if (response->curl_error[0] == '\0' && response->result != CURLE_OK)
		g_strlcpy(response->curl_error, curl_easy_strerror(response->result),
			  sizeof(response->curl_error));
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(easy);
	return rc;
}

int inf_client_request(const inf_client *client, const char *method,
		       const char *path, const char *body, int64_t timeout_ms,
		       inf_response *response, score_error *err)
{
	gint64 deadline_us = g_get_monotonic_time() + timeout_ms * 1000;
	int64_t set_up_us = 0;
	int rc;

	rc = request_once(client, method, path, body, timeout_ms, response,
			  &set_up_us, err);
	if (rc < 0 || response->status != 401)
		return rc;

	/* As client-go's exec and token file sources do: a 401 drops the
	 * credentials. Unlike client-go, the request is sent once more with
	 * fresh ones, since a binding that fails here is not retried. */
	inf_client_unauthorized(client, set_up_us);
	if (!inf_credentials_refreshable(client->credentials) ||
	    g_get_monotonic_time() >= deadline_us)
		return rc;
	g_string_truncate(response->body, 0);
	response->status = 0;
	response->result = CURLE_OK;
	response->retry_after_s = -1;
	response->curl_error[0] = '\0';
	return request_once(client, method, path, body,
			    MAX((deadline_us - g_get_monotonic_time()) / 1000, 1),
			    response, &set_up_us, err);
}

/* ---- Errors and retries -------------------------------------------------- */

bool inf_api_status_parse(const char *text, size_t length,
			  inf_api_status *status)
{
	cJSON *json = cJSON_ParseWithLength(text, length);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(json, "kind");
	const cJSON *code, *reason, *message;
	bool ok = false;

	memset(status, 0, sizeof(*status));
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "Status") != 0)
		goto out;
	code = cJSON_GetObjectItemCaseSensitive(json, "code");
	reason = cJSON_GetObjectItemCaseSensitive(json, "reason");
	message = cJSON_GetObjectItemCaseSensitive(json, "message");
	if (cJSON_IsNumber(code))
		status->code = code->valueint;
	if (cJSON_IsString(reason))
		g_strlcpy(status->reason, reason->valuestring, sizeof(status->reason));
	if (cJSON_IsString(message))
		g_strlcpy(status->message, message->valuestring,
			  sizeof(status->message));
	ok = true;
out:
	cJSON_Delete(json);
	return ok;
}

bool inf_response_retryable(const inf_response *response)
{
	if (response->status == 0 || response->result != CURLE_OK)
		return true;
	return response->status == 429 || response->status >= 500;
}

static int errno_for_status(long status)
{
	switch (status) {
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 410:
		return -ESTALE;
	case 429:
		return -EAGAIN;
	default:
		return status >= 500 ? -EAGAIN : -EPROTO;
	}
}

static const char *hint_for_status(long status)
{
	switch (status) {
	case 401:
		return "; the credentials were rejected: check the token, client certificate or exec plugin in the kubeconfig";
	case 403:
		return "; the identity lacks permission: grant it get, list and watch on nodes, pods, namespaces and networkpolicies.networking.k8s.io, and create on pods/binding";
	default:
		return "";
	}
}

int inf_response_fail(const inf_response *response, const char *action,
		      score_error *err)
{
	inf_api_status status;

	if (response->status == 0)
		return score_fail(err, -EIO, "%s failed: %s", action,
				  response->curl_error[0] != '\0' ?
					  response->curl_error : "no response");
	if (response->result != CURLE_OK)
		return score_fail(err, -EIO,
				  "%s failed after HTTP %ld: %s", action,
				  response->status, response->curl_error);
	if (inf_api_status_parse(response->body->str, response->body->len, &status) &&
	    status.message[0] != '\0')
		return score_fail(err, errno_for_status(response->status),
				  "%s failed: HTTP %ld%s%s: %s%s", action,
				  response->status, status.reason[0] != '\0' ? " " : "",
				  status.reason, status.message,
				  hint_for_status(response->status));
	return score_fail(err, errno_for_status(response->status),
			  "%s failed: HTTP %ld%s", action, response->status,
			  hint_for_status(response->status));
}

/* ---- Backoff ------------------------------------------------------------- */

void inf_backoff_init(inf_backoff *backoff, int64_t initial_ms, int64_t max_ms)
{
	backoff->initial_ms = initial_ms > 0 ? initial_ms : 1;
	backoff->max_ms = max_ms >= backoff->initial_ms ? max_ms : backoff->initial_ms;
	backoff->current_ms = backoff->initial_ms;
}

int64_t inf_backoff_next(inf_backoff *backoff)
{
	int64_t current = backoff->current_ms;
	int64_t delay = current / 2 + g_random_int_range(0, (gint32)MIN(current / 2, G_MAXINT32 - 1) + 1);

	backoff->current_ms = current * 2 <= backoff->max_ms ? current * 2 :
							       backoff->max_ms;
	return delay;
}

void inf_backoff_reset(inf_backoff *backoff)
{
	backoff->current_ms = backoff->initial_ms;
}
