/* Kubeconfig and in-cluster configuration loading; see kubeconfig.h.
 *
 * Field names and rules follow client-go's clientcmd (k8s.io/client-go/
 * tools/clientcmd/api/v1 types): clusters, users and contexts are lists of
 * {name, cluster|user|context} entries.
 */
#include "informer/kubeconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "informer/cluster_file.h"

/* One named entry of clusters, users or contexts, and the file that
 * defined it first. */
typedef struct entry {
	const cJSON *body; /* borrowed from merged.documents */
	const char *path;  /* borrowed from merged.paths */
} entry;

typedef struct merged {
	GPtrArray *documents; /* cJSON *, owned */
	GPtrArray *paths;     /* char *, owned */
	GHashTable *clusters; /* name -> entry *, both borrowed / owned */
	GHashTable *users;
	GHashTable *contexts;
	const char *current_context; /* borrowed, or NULL */
	const char *current_context_path;
} merged;

static void merged_init(merged *m)
{
	m->documents = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	m->paths = g_ptr_array_new_with_free_func(g_free);
	m->clusters = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	m->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	m->contexts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	m->current_context = NULL;
	m->current_context_path = NULL;
}

static void merged_release(merged *m)
{
	g_hash_table_destroy(m->clusters);
	g_hash_table_destroy(m->users);
	g_hash_table_destroy(m->contexts);
	g_ptr_array_unref(m->documents);
	g_ptr_array_unref(m->paths);
}

/* ---- Field access -------------------------------------------------------- */

/* Reads the optional string `key` of `object`; `subject` names the object in
 * errors ("cluster prod in /root/.kube/config"). */
static int opt_string(const cJSON *object, const char *key, const char *subject,
		      const char **out, score_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	*out = NULL;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return score_fail(err, -EINVAL, "%s: %s must be a string", subject,
				  key);
	if (item->valuestring[0] != '\0')
		*out = item->valuestring;
	return 0;
}

static int opt_bool(const cJSON *object, const char *key, const char *subject,
		    bool *out, score_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	*out = false;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsBool(item))
		return score_fail(err, -EINVAL,
				  "%s: %s must be true or false, without quotes",
				  subject, key);
	*out = cJSON_IsTrue(item);
	return 0;
}

/* Resolves `path` against the directory of `origin`, as client-go resolves
 * relative paths in a kubeconfig. */
static char *resolve_path(const char *path, const char *origin)
{
	char *dir, *resolved;

	if (g_path_is_absolute(path))
		return g_strdup(path);
	dir = g_path_get_dirname(origin);
	resolved = g_build_filename(dir, path, NULL);
	g_free(dir);
	return resolved;
}

/* Reads the file path `key` of `object`, resolved and checked readable. */
static int opt_file(const cJSON *object, const char *key, const char *subject,
		    const char *origin, char **out, score_error *err)
{
	const char *value;
	char *path;
	int rc;

	*out = NULL;
	rc = opt_string(object, key, subject, &value, err);
	if (rc < 0 || value == NULL)
		return rc;
	path = resolve_path(value, origin);
	if (access(path, R_OK) != 0) {
		rc = score_fail(err, -errno, "%s: %s %s cannot be read: %s", subject,
				key, path, g_strerror(errno));
		g_free(path);
		return rc;
	}
	*out = path;
	return 0;
}

/* Reads the base64 field `key` of `object` (the *-data fields). */
static int opt_base64(const cJSON *object, const char *key, const char *subject,
		      GBytes **out, score_error *err)
{
	const char *value;
	guchar *decoded;
	gsize length = 0;
	int rc;

	*out = NULL;
	rc = opt_string(object, key, subject, &value, err);
	if (rc < 0 || value == NULL)
		return rc;
	for (const char *p = value; *p != '\0'; p++) {
		if (g_ascii_isalnum(*p) || *p == '+' || *p == '/' || *p == '=' ||
		    g_ascii_isspace(*p))
			continue;
		return score_fail(err, -EINVAL,
				  "%s: %s is not valid base64 (character '%c'); it holds the PEM file encoded with base64 -w0",
				  subject, key, *p);
	}
	decoded = g_base64_decode(value, &length);
	if (length == 0) {
		g_free(decoded);
		return score_fail(err, -EINVAL, "%s: %s decodes to nothing",
				  subject, key);
	}
	*out = g_bytes_new_take(decoded, length);
	return 0;
}

/* ---- Loading and merging files ------------------------------------------- */

/* Adds the entries of list `key` ("clusters") of `doc` to `table`, keeping
 * entries defined by earlier files. `body_key` is "cluster", "user" or
 * "context". */
static int merge_list(const cJSON *doc, const char *path,
		      const char *key, const char *body_key, GHashTable *table,
		      score_error *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, key);
	int index = 0;

	if (list == NULL || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return score_fail(err, -EINVAL, "%s: %s must be a list", path, key);
	for (const cJSON *item = list->child; item != NULL;
	     item = item->next, index++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(item, body_key);
		entry *e;

		if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
			return score_fail(err, -EINVAL,
					  "%s: %s[%d] has no name", path, key,
					  index);
		if (body != NULL && !cJSON_IsObject(body) && !cJSON_IsNull(body))
			return score_fail(err, -EINVAL,
					  "%s: %s %s: %s must be a mapping", path,
					  body_key, name->valuestring, body_key);
		if (g_hash_table_contains(table, name->valuestring))
			continue;
		e = g_new0(entry, 1);
		e->body = cJSON_IsObject(body) ? body : NULL;
		e->path = path;
		g_hash_table_insert(table, name->valuestring, e);
	}
	return 0;
}

static bool blank(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		if (!g_ascii_isspace(text[i]))
			return false;
	return true;
}

static int merge_file(merged *m, const char *path, score_error *err)
{
	GError *error = NULL;
	char *text = NULL;
	gsize length = 0;
	cJSON *doc = NULL;
	char *owned_path;
	const char *current;
	int rc;

	if (!g_file_get_contents(path, &text, &length, &error)) {
		rc = score_fail(err, -EIO, "cannot read kubeconfig %s: %s", path,
				error->message);
		g_error_free(error);
		return rc;
	}
	if (blank(text, length)) {
		/* client-go reads an empty file as an empty configuration. */
		g_free(text);
		return 0;
	}
	rc = inf_yaml_to_json(text, length, &doc, err);
	g_free(text);
	if (rc < 0) {
		score_error_prefix(err, "kubeconfig %s", path);
		return rc;
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return score_fail(err, -EINVAL,
				  "kubeconfig %s is not a YAML mapping with clusters, users and contexts",
				  path);
	}

	owned_path = g_strdup(path);
	g_ptr_array_add(m->documents, doc);
	g_ptr_array_add(m->paths, owned_path);
	rc = merge_list(doc, owned_path, "clusters", "cluster", m->clusters, err);
	if (rc == 0)
		rc = merge_list(doc, owned_path, "users", "user", m->users, err);
	if (rc == 0)
		rc = merge_list(doc, owned_path, "contexts", "context",
				m->contexts, err);
	if (rc == 0)
		rc = opt_string(doc, "current-context", owned_path, &current, err);
	if (rc == 0 && current != NULL && m->current_context == NULL) {
		m->current_context = current;
		m->current_context_path = owned_path;
	}
	return rc;
}

/* ---- Building the configuration ------------------------------------------ */

/* Returns the sorted names of `table` joined by ", ", or "none". */
static char *names_of(GHashTable *table)
{
	GList *keys = g_list_sort(g_hash_table_get_keys(table),
				  (GCompareFunc)strcmp);
	GString *out = g_string_new(NULL);

	for (GList *l = keys; l != NULL; l = l->next)
		g_string_append_printf(out, "%s%s", out->len > 0 ? ", " : "",
				       (const char *)l->data);
	g_list_free(keys);
	if (out->len == 0)
		g_string_append(out, "none");
	return g_string_free(out, false);
}

static int reject_unsupported_user(const cJSON *user, const char *subject,
				   score_error *err)
{
	static const char *const impersonation[] = {"as", "as-uid", "as-groups",
						    "as-user-extra"};

	if (cJSON_GetObjectItemCaseSensitive(user, "auth-provider") != NULL)
		return score_fail(err, -ENOTSUP,
				  "%s uses an auth-provider, which stowage does not support; use an exec credential plugin, a token, tokenFile or client certificate",
				  subject);
	for (size_t i = 0; i < G_N_ELEMENTS(impersonation); i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(user,
								     impersonation[i]);

		if (item != NULL && !cJSON_IsNull(item))
			return score_fail(err, -ENOTSUP,
					  "%s sets %s: stowage does not support impersonation; remove it or use a kubeconfig user that has the scheduler's permissions",
					  subject, impersonation[i]);
	}
	return 0;
}

/* ---- Exec credential plugins --------------------------------------------- */

/* Reads exec.args, a list of strings, as a NULL-terminated vector. */
static int exec_args(const cJSON *exec, const char *subject, char ***out,
		     score_error *err)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(exec, "args");
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	int index = 0;
	int rc = 0;

	if (args != NULL && !cJSON_IsNull(args) && !cJSON_IsArray(args))
		rc = score_fail(err, -EINVAL, "%s: exec.args must be a list of strings",
				subject);
	for (const cJSON *arg = cJSON_IsArray(args) ? args->child : NULL;
	     rc == 0 && arg != NULL; arg = arg->next, index++) {
		if (!cJSON_IsString(arg))
			rc = score_fail(err, -EINVAL,
					"%s: exec.args[%d] must be a string; quote it",
					subject, index);
		else
			g_ptr_array_add(list, g_strdup(arg->valuestring));
	}
	g_ptr_array_add(list, NULL);
	g_ptr_array_set_free_func(list, NULL);
	*out = (char **)g_ptr_array_free(list, false);
	return rc;
}

/* Reads exec.env, a list of {name, value}, as "NAME=VALUE" strings. */
static int exec_env(const cJSON *exec, const char *subject, char ***out,
		    score_error *err)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(exec, "env");
	GPtrArray *list = g_ptr_array_new();
	int index = 0;
	int rc = 0;

	if (env != NULL && !cJSON_IsNull(env) && !cJSON_IsArray(env))
		rc = score_fail(err, -EINVAL,
				"%s: exec.env must be a list of {name, value}", subject);
	for (const cJSON *item = cJSON_IsArray(env) ? env->child : NULL;
	     rc == 0 && item != NULL; item = item->next, index++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(item, "value");

		if (!cJSON_IsString(name) || name->valuestring[0] == '\0' ||
		    strchr(name->valuestring, '=') != NULL)
			rc = score_fail(err, -EINVAL,
					"%s: exec.env[%d] needs a name without '='",
					subject, index);
		else if (value != NULL && !cJSON_IsNull(value) && !cJSON_IsString(value))
			rc = score_fail(err, -EINVAL,
					"%s: exec.env[%d] (%s): value must be a string; quote it",
					subject, index, name->valuestring);
		else
			g_ptr_array_add(list, g_strconcat(name->valuestring, "=",
							  cJSON_IsString(value) ?
								  value->valuestring : "",
							  NULL));
	}
	g_ptr_array_add(list, NULL);
	*out = (char **)g_ptr_array_free(list, false);
	return rc;
}

/* Checks exec.apiVersion and exec.interactiveMode as client-go's
 * validation does. */
static int exec_versions(const cJSON *exec, const char *subject,
			 inf_exec_config *e, score_error *err)
{
	const char *version = NULL, *mode = NULL;
	int rc;

	rc = opt_string(exec, "apiVersion", subject, &version, err);
	if (rc == 0)
		rc = opt_string(exec, "interactiveMode", subject, &mode, err);
	if (rc < 0)
		return rc;
	if (version == NULL)
		return score_fail(err, -EINVAL,
				  "%s: exec.apiVersion is missing; set it to %s",
				  subject, INF_EXEC_API_V1);
	if (strcmp(version, INF_EXEC_API_V1) != 0 &&
	    strcmp(version, INF_EXEC_API_V1BETA1) != 0)
		return score_fail(err, -EINVAL,
				  "%s: exec.apiVersion %s is not supported; use %s or %s",
				  subject, version, INF_EXEC_API_V1, INF_EXEC_API_V1BETA1);
	e->api_version = g_strdup(version);

	if (mode == NULL && strcmp(version, INF_EXEC_API_V1) == 0)
		return score_fail(err, -EINVAL,
				  "%s: exec.interactiveMode is missing, which %s requires; set it to Never",
				  subject, INF_EXEC_API_V1);
	if (mode == NULL || strcmp(mode, "IfAvailable") == 0)
		e->interactive_mode = INF_EXEC_INTERACTIVE_IF_AVAILABLE;
	else if (strcmp(mode, "Never") == 0)
		e->interactive_mode = INF_EXEC_INTERACTIVE_NEVER;
	else if (strcmp(mode, "Always") == 0)
		return score_fail(err, -ENOTSUP,
				  "%s: exec.interactiveMode is Always, but stowage runs without a terminal; set it to Never with a plugin that needs no prompt",
				  subject);
	else
		return score_fail(err, -EINVAL,
				  "%s: exec.interactiveMode %s is invalid; use Never, IfAvailable or Always",
				  subject, mode);
	return 0;
}

static int load_exec(const cJSON *exec, const char *subject, const char *origin,
		     inf_rest_config *c, score_error *err)
{
	inf_exec_config *e = g_new0(inf_exec_config, 1);
	const char *command = NULL, *hint = NULL;
	int rc;

	if (!cJSON_IsObject(exec)) {
		rc = score_fail(err, -EINVAL, "%s: exec must be a mapping", subject);
		goto out;
	}
	rc = exec_versions(exec, subject, e, err);
	if (rc == 0)
		rc = opt_string(exec, "command", subject, &command, err);
	if (rc == 0 && command == NULL)
		rc = score_fail(err, -EINVAL,
				"%s: exec.command is missing; name the credential plugin to run",
				subject);
	if (rc == 0)
		rc = opt_string(exec, "installHint", subject, &hint, err);
	if (rc == 0)
		rc = opt_bool(exec, "provideClusterInfo", subject,
			      &e->provide_cluster_info, err);
	if (rc == 0)
		rc = exec_args(exec, subject, &e->args, err);
	if (rc == 0)
		rc = exec_env(exec, subject, &e->env, err);
	if (rc < 0)
		goto out;

	/* client-go resolves the command like a file path only when it
	 * contains a separator; a bare name is looked up in PATH. */
	e->command = strchr(command, '/') != NULL ? resolve_path(command, origin) :
						   g_strdup(command);
	e->install_hint = g_strdup(hint);
	c->exec = e;
	e = NULL;
out:
	inf_exec_config_free(e);
	return rc;
}

static int load_user(const entry *user, const char *name, inf_rest_config *c,
		     score_error *err)
{
	char *subject = g_strdup_printf("user %s in %s", name, user->path);
	const char *token = NULL, *username = NULL, *password = NULL;
	const cJSON *exec;
	int rc;

	if (user->body == NULL)
		goto out_ok;
	rc = reject_unsupported_user(user->body, subject, err);
	exec = cJSON_GetObjectItemCaseSensitive(user->body, "exec");
	if (rc == 0 && exec != NULL && !cJSON_IsNull(exec))
		rc = load_exec(exec, subject, user->path, c, err);
	if (rc == 0)
		rc = opt_string(user->body, "token", subject, &token, err);
	if (rc == 0 && token == NULL)
		rc = opt_file(user->body, "tokenFile", subject, user->path,
			      &c->token_file, err);
	if (rc == 0)
		rc = opt_base64(user->body, "client-certificate-data", subject,
				&c->client_cert_data, err);
	if (rc == 0 && c->client_cert_data == NULL)
		rc = opt_file(user->body, "client-certificate", subject, user->path,
			      &c->client_cert_file, err);
	if (rc == 0)
		rc = opt_base64(user->body, "client-key-data", subject,
				&c->client_key_data, err);
	if (rc == 0 && c->client_key_data == NULL)
		rc = opt_file(user->body, "client-key", subject, user->path,
			      &c->client_key_file, err);
	if (rc == 0)
		rc = opt_string(user->body, "username", subject, &username, err);
	if (rc == 0)
		rc = opt_string(user->body, "password", subject, &password, err);
	if (rc < 0)
		goto out;

	if ((c->client_cert_data != NULL || c->client_cert_file != NULL) !=
	    (c->client_key_data != NULL || c->client_key_file != NULL)) {
		rc = score_fail(err, -EINVAL,
				"%s: a client certificate needs both client-certificate(-data) and client-key(-data)",
				subject);
		goto out;
	}
	c->token = g_strdup(token);
	c->username = g_strdup(username);
	c->password = g_strdup(password);
out_ok:
	rc = 0;
out:
	g_free(subject);
	return rc;
}

static bool has_scheme(const char *server)
{
	return strstr(server, "://") != NULL;
}

static int load_cluster(const entry *cluster, const char *name,
			inf_rest_config *c, score_error *err)
{
	char *subject = g_strdup_printf("cluster %s in %s", name, cluster->path);
	const char *server = NULL, *tls_server_name = NULL, *proxy = NULL;
	size_t length;
	int rc;

	rc = opt_string(cluster->body, "server", subject, &server, err);
	if (rc == 0 && server == NULL)
		rc = score_fail(err, -EINVAL,
				"%s has no server; set it to the API server's URL, e.g. https://10.0.0.1:6443",
				subject);
	if (rc == 0)
		rc = opt_base64(cluster->body, "certificate-authority-data", subject,
				&c->ca_data, err);
	if (rc == 0 && c->ca_data == NULL)
		rc = opt_file(cluster->body, "certificate-authority", subject,
			      cluster->path, &c->ca_file, err);
	if (rc == 0)
		rc = opt_bool(cluster->body, "insecure-skip-tls-verify", subject,
			      &c->insecure_skip_tls_verify, err);
	if (rc == 0)
		rc = opt_string(cluster->body, "tls-server-name", subject,
				&tls_server_name, err);
	if (rc == 0)
		rc = opt_string(cluster->body, "proxy-url", subject, &proxy, err);
	if (rc == 0)
		rc = opt_bool(cluster->body, "disable-compression", subject,
			      &c->disable_compression, err);
	if (rc < 0)
		goto out;

	if (c->insecure_skip_tls_verify &&
	    (c->ca_data != NULL || c->ca_file != NULL)) {
		/* client-go rejects this pair in its validation. */
		rc = score_fail(err, -EINVAL,
				"%s sets both insecure-skip-tls-verify and a certificate authority; keep one",
				subject);
		goto out;
	}
	if (has_scheme(server) && !g_str_has_prefix(server, "https://") &&
	    !g_str_has_prefix(server, "http://")) {
		rc = score_fail(err, -EINVAL,
				"%s: server %s must be an https:// or http:// URL",
				subject, server);
		goto out;
	}

	/* client-go's DefaultServerURL: without a scheme, https when TLS is
	 * configured, else http. */
	if (has_scheme(server))
		c->server = g_strdup(server);
	else
		c->server = g_strconcat(c->ca_data != NULL || c->ca_file != NULL ||
						c->insecure_skip_tls_verify ?
					"https://" : "http://",
					server, NULL);
	length = strlen(c->server);
	while (length > 0 && c->server[length - 1] == '/')
		c->server[--length] = '\0';
	c->tls_server_name = g_strdup(tls_server_name);
	c->proxy_url = g_strdup(proxy);
out:
	g_free(subject);
	return rc;
}

static int build_config(const merged *m, const char *context_override,
			const char *description, inf_rest_config **out,
			score_error *err)
{
	const char *context_name = context_override != NULL ? context_override :
							      m->current_context;
	const entry *context, *cluster, *user = NULL;
	const char *cluster_name = NULL, *user_name = NULL, *namespace = NULL;
	char *subject = NULL, *names = NULL;
	inf_rest_config *c = g_new0(inf_rest_config, 1);
	int rc;

	if (context_name == NULL) {
		names = names_of(m->contexts);
		rc = score_fail(err, -EINVAL,
				"%s sets no current-context; pass --context with one of its contexts: %s",
				description, names);
		goto out;
	}
	context = g_hash_table_lookup(m->contexts, context_name);
	if (context == NULL) {
		names = names_of(m->contexts);
		rc = score_fail(err, -ENOENT,
				"context %s is not defined in %s; its contexts: %s",
				context_name, description, names);
		goto out;
	}
	subject = g_strdup_printf("context %s in %s", context_name, context->path);
	rc = opt_string(context->body, "cluster", subject, &cluster_name, err);
	if (rc == 0)
		rc = opt_string(context->body, "user", subject, &user_name, err);
	if (rc == 0)
		rc = opt_string(context->body, "namespace", subject, &namespace, err);
	if (rc < 0)
		goto out;
	if (cluster_name == NULL) {
		rc = score_fail(err, -EINVAL, "%s names no cluster", subject);
		goto out;
	}
	cluster = g_hash_table_lookup(m->clusters, cluster_name);
	if (cluster == NULL || cluster->body == NULL) {
		rc = score_fail(err, -ENOENT,
				"%s refers to cluster %s, which %s does not define",
				subject, cluster_name, description);
		goto out;
	}
	if (user_name != NULL) {
		user = g_hash_table_lookup(m->users, user_name);
		if (user == NULL) {
			rc = score_fail(err, -ENOENT,
					"%s refers to user %s, which %s does not define",
					subject, user_name, description);
			goto out;
		}
	}

	rc = load_cluster(cluster, cluster_name, c, err);
	if (rc == 0 && user != NULL)
		rc = load_user(user, user_name, c, err);
	if (rc < 0)
		goto out;
	c->namespace = g_strdup(namespace);
	c->source = g_strdup_printf("kubeconfig %s, context %s", context->path,
				    context_name);
	*out = c;
	c = NULL;
out:
	inf_rest_config_free(c);
	g_free(names);
	g_free(subject);
	return rc;
}

/* Loads and merges `paths` (which must exist) and builds the config. */
static int load_files(char **paths, const char *context,
		      const char *description, inf_rest_config **out,
		      score_error *err)
{
	merged m;
	int rc = 0;

	merged_init(&m);
	for (int i = 0; paths[i] != NULL && rc == 0; i++)
		rc = merge_file(&m, paths[i], err);
	if (rc == 0)
		rc = build_config(&m, context, description, out, err);
	merged_release(&m);
	return rc;
}

/* ---- In-cluster ---------------------------------------------------------- */

static char *read_trimmed(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	g_strstrip(text);
	if (text[0] == '\0') {
		g_free(text);
		return NULL;
	}
	return text;
}

int inf_rest_config_in_cluster(const inf_kubeconfig_options *options,
			       inf_rest_config **out, score_error *err)
{
	const char *dir = options->serviceaccount_dir != NULL ?
				  options->serviceaccount_dir :
				  INF_SERVICEACCOUNT_DIR;
	const char *host = options->service_host, *port = options->service_port;
	char *token_file = NULL, *ca_file = NULL, *namespace_file = NULL;
	inf_rest_config *c;
	int rc;

	*out = NULL;
	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
		return score_fail(err, -ENOENT,
				  "in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets only inside a pod");
	token_file = g_build_filename(dir, "token", NULL);
	if (access(token_file, R_OK) != 0) {
		rc = score_fail(err, -ENOENT,
				"in-cluster service account token %s cannot be read (%s); mount a service account token or pass --kubeconfig",
				token_file, g_strerror(errno));
		g_free(token_file);
		return rc;
	}

	c = g_new0(inf_rest_config, 1);
	/* Go's net.JoinHostPort brackets IPv6 addresses. */
	if (strchr(host, ':') != NULL)
		c->server = g_strdup_printf("https://[%s]:%s", host, port);
	else
		c->server = g_strdup_printf("https://%s:%s", host, port);
	c->token_file = token_file;
	/* Without ca.crt client-go falls back to the system roots too. */
	ca_file = g_build_filename(dir, "ca.crt", NULL);
	if (access(ca_file, R_OK) == 0)
		c->ca_file = g_steal_pointer(&ca_file);
	namespace_file = g_build_filename(dir, "namespace", NULL);
	c->namespace = read_trimmed(namespace_file);
	c->source = g_strdup_printf("in-cluster service account %s", dir);
	g_free(namespace_file);
	g_free(ca_file);
	*out = c;
	return 0;
}

/* ---- Public -------------------------------------------------------------- */

void inf_kubeconfig_options_from_env(inf_kubeconfig_options *options)
{
	memset(options, 0, sizeof(*options));
	options->kubeconfig_env = getenv("KUBECONFIG");
	options->home = getenv("HOME");
	options->service_host = getenv("KUBERNETES_SERVICE_HOST");
	options->service_port = getenv("KUBERNETES_SERVICE_PORT");
}

static int load_env_list(const inf_kubeconfig_options *options,
			 inf_rest_config **out, score_error *err)
{
	char **listed = g_strsplit(options->kubeconfig_env,
				   G_SEARCHPATH_SEPARATOR_S, -1);
	GPtrArray *existing = g_ptr_array_new();
	char *description;
	int rc;

	for (int i = 0; listed[i] != NULL; i++)
		if (listed[i][0] != '\0' && g_file_test(listed[i], G_FILE_TEST_EXISTS))
			g_ptr_array_add(existing, listed[i]);
	g_ptr_array_add(existing, NULL);
	if (existing->len == 1) {
		rc = score_fail(err, -ENOENT,
				"none of the files in KUBECONFIG=%s exists; fix KUBECONFIG or pass --kubeconfig",
				options->kubeconfig_env);
		goto out;
	}
	description = g_strdup_printf("KUBECONFIG=%s", options->kubeconfig_env);
	rc = load_files((char **)existing->pdata, options->context, description,
			out, err);
	g_free(description);
out:
	g_ptr_array_unref(existing);
	g_strfreev(listed);
	return rc;
}

int inf_rest_config_load(const inf_kubeconfig_options *options,
			 inf_rest_config **out, score_error *err)
{
	char *home_config = NULL;
	int rc;

	*out = NULL;
	if (options->kubeconfig != NULL) {
		char *paths[] = {(char *)options->kubeconfig, NULL};

		if (!g_file_test(options->kubeconfig, G_FILE_TEST_EXISTS))
			return score_fail(err, -ENOENT,
					  "kubeconfig %s does not exist; check --kubeconfig",
					  options->kubeconfig);
		return load_files(paths, options->context, options->kubeconfig,
				  out, err);
	}
	if (options->kubeconfig_env != NULL && options->kubeconfig_env[0] != '\0')
		return load_env_list(options, out, err);
	if (options->service_host != NULL && options->service_host[0] != '\0')
		return inf_rest_config_in_cluster(options, out, err);

	if (options->home != NULL && options->home[0] != '\0')
		home_config = g_build_filename(options->home, ".kube", "config",
					       NULL);
	if (home_config != NULL && g_file_test(home_config, G_FILE_TEST_EXISTS)) {
		char *paths[] = {home_config, NULL};

		rc = load_files(paths, options->context, home_config, out, err);
	} else {
		rc = score_fail(err, -ENOENT,
				"no Kubernetes API configuration found: no --kubeconfig, KUBECONFIG is unset, KUBERNETES_SERVICE_HOST is unset (not in a pod) and %s does not exist; pass --kubeconfig FILE",
				home_config != NULL ? home_config : "$HOME/.kube/config");
	}
	g_free(home_config);
	return rc;
}

static inf_exec_config *exec_config_copy(const inf_exec_config *e)
{
	inf_exec_config *copy;

	if (e == NULL)
		return NULL;
	copy = g_new0(inf_exec_config, 1);
	copy->api_version = g_strdup(e->api_version);
	copy->command = g_strdup(e->command);
	copy->args = g_strdupv(e->args);
	copy->env = g_strdupv(e->env);
	copy->install_hint = g_strdup(e->install_hint);
	copy->provide_cluster_info = e->provide_cluster_info;
	copy->interactive_mode = e->interactive_mode;
	return copy;
}

void inf_exec_config_free(inf_exec_config *e)
{
	if (e == NULL)
		return;
	g_free(e->api_version);
	g_free(e->command);
	g_strfreev(e->args);
	/* The environment may hold secrets such as cloud credentials. */
	for (char **variable = e->env; variable != NULL && *variable != NULL;
	     variable++)
		explicit_bzero(*variable, strlen(*variable));
	g_strfreev(e->env);
	g_free(e->install_hint);
	g_free(e);
}

static GBytes *bytes_ref(GBytes *bytes)
{
	return bytes != NULL ? g_bytes_ref(bytes) : NULL;
}

inf_rest_config *inf_rest_config_copy(const inf_rest_config *config)
{
	inf_rest_config *c = g_new0(inf_rest_config, 1);

	c->server = g_strdup(config->server);
	c->tls_server_name = g_strdup(config->tls_server_name);
	c->insecure_skip_tls_verify = config->insecure_skip_tls_verify;
	c->ca_file = g_strdup(config->ca_file);
	c->ca_data = bytes_ref(config->ca_data);
	c->client_cert_file = g_strdup(config->client_cert_file);
	c->client_cert_data = bytes_ref(config->client_cert_data);
	c->client_key_file = g_strdup(config->client_key_file);
	c->client_key_data = bytes_ref(config->client_key_data);
	c->token = g_strdup(config->token);
	c->token_file = g_strdup(config->token_file);
	c->username = g_strdup(config->username);
	c->password = g_strdup(config->password);
	c->exec = exec_config_copy(config->exec);
	c->proxy_url = g_strdup(config->proxy_url);
	c->disable_compression = config->disable_compression;
	c->namespace = g_strdup(config->namespace);
	c->source = g_strdup(config->source);
	return c;
}

static void free_secret(char *secret)
{
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

void inf_rest_config_free(inf_rest_config *config)
{
	if (config == NULL)
		return;
	g_free(config->server);
	g_free(config->tls_server_name);
	g_free(config->ca_file);
	if (config->ca_data != NULL)
		g_bytes_unref(config->ca_data);
	g_free(config->client_cert_file);
	if (config->client_cert_data != NULL)
		g_bytes_unref(config->client_cert_data);
	g_free(config->client_key_file);
	if (config->client_key_data != NULL)
		g_bytes_unref(config->client_key_data);
	free_secret(config->token);
	g_free(config->token_file);
	g_free(config->username);
	free_secret(config->password);
	inf_exec_config_free(config->exec);
	g_free(config->proxy_url);
	g_free(config->namespace);
	g_free(config->source);
	g_free(config);
}
