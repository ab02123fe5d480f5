/* Tests for informer/credentials.c: exec credential plugins (a shell script
 * the test writes into a temporary directory) and the service account
 * token file, against the test API server where a request is involved.
 *
 * The plugin script counts its runs in $PLUGIN_DIR/runs, saves its
 * arguments, KUBERNETES_EXEC_INFO and standard input there, and prints an
 * ExecCredential with the token in $PLUGIN_DIR/token and, when
 * $PLUGIN_DIR/expiry exists, that expirationTimestamp.
 */
#include "tests/inf_apiserver.h"

#include <glib/gstdio.h>

#include "informer/credentials.h"
#include "informer/informer.h"
#include "informer/kubeconfig.h"
#include "tests/tempdir.h"

#define WAIT_MS 10000

static char *dir;

static char *path_in_dir(const char *name)
{
	return g_build_filename(dir, name, NULL);
}

/* Writes `text` to `name` in the test directory, replacing it atomically
 * (a new inode) as the kubelet replaces a projected token. */
static void write_in_dir(const char *name, const char *text)
{
	char *path = path_in_dir(name);
	GError *error = NULL;

	cr_assert(g_file_set_contents(path, text, -1, &error), "cannot write %s: %s",
		  path, error != NULL ? error->message : "");
	g_free(path);
}

static char *read_in_dir(const char *name)
{
	char *path = path_in_dir(name);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("");
	g_free(path);
	return text;
}

static const char plugin_script[] =
	"#!/bin/sh\n"
	"runs=$(cat \"$PLUGIN_DIR/runs\" 2>/dev/null || echo 0)\n"
	"echo $((runs + 1)) > \"$PLUGIN_DIR/runs\"\n"
	"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$PLUGIN_DIR/exec-info\"\n"
	"echo \"$@\" > \"$PLUGIN_DIR/args\"\n"
	"cat > \"$PLUGIN_DIR/stdin\"\n"
	"if [ -f \"$PLUGIN_DIR/fail\" ]; then\n"
	"  echo 'error: the session expired; run login again' >&2\n"
	"  exit 3\n"
	"fi\n"
	"expiry=''\n"
	"if [ -f \"$PLUGIN_DIR/expiry\" ]; then\n"
	"  expiry=\",\\\"expirationTimestamp\\\":\\\"$(cat \"$PLUGIN_DIR/expiry\")\\\"\"\n"
	"fi\n"
	"printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\",\"status\":{\"token\":\"%s\"%s}}' \\\n"
	"  \"${PLUGIN_API:-client.authentication.k8s.io/v1}\" \"$(cat \"$PLUGIN_DIR/token\")\" \"$expiry\"\n";

static void setup(void)
{
	char *plugin;

	dir = test_make_temp_dir("stowage-credentials-XXXXXX");
	write_in_dir("plugin.sh", plugin_script);
	plugin = path_in_dir("plugin.sh");
	cr_assert_eq(g_chmod(plugin, 0700), 0, "cannot make the plugin executable");
	g_free(plugin);
	write_in_dir("token", "tok-1");
}

static void teardown(void)
{
	test_remove_tree(dir);
	g_free(dir);
}

TestSuite(credentials, .init = setup, .fini = teardown, .timeout = 60);

static int plugin_runs(void)
{
	char *text = read_in_dir("runs");
	int runs = atoi(text);

	g_free(text);
	return runs;
}

/* Returns a configuration for `server_url` whose user is the plugin
 * script with `args` (YAML list) and `api_version`. */
static inf_rest_config *plugin_config(const char *server_url, const char *command,
				      const char *api_version)
{
	char *text = g_strdup_printf(
		"current-context: c\n"
		"clusters:\n- name: k\n  cluster: {server: '%s'}\n"
		"users:\n- name: u\n  user:\n    exec:\n"
		"      apiVersion: %s\n"
		"      command: %s\n"
		"      args: [--cluster, prod]\n"
		"      env: [{name: PLUGIN_DIR, value: '%s'}]\n"
		"      installHint: 'install the test plugin with make'\n"
		"      provideClusterInfo: true\n"
		"      interactiveMode: Never\n"
		"contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
		server_url, api_version, command, dir);
	char *path = path_in_dir("kubeconfig");
	inf_kubeconfig_options options = {.kubeconfig = path};
	inf_rest_config *config = NULL;
	score_error err = {0};

	write_in_dir("kubeconfig", text);
	cr_assert_eq(inf_rest_config_load(&options, &config, &err), 0,
		     "kubeconfig load failed: %s", err.message);
	g_free(path);
	g_free(text);
	return config;
}

static inf_rest_config *script_config(const char *server_url)
{
	char *plugin = path_in_dir("plugin.sh");
	inf_rest_config *config = plugin_config(server_url, plugin,
						"client.authentication.k8s.io/v1");

	g_free(plugin);
	return config;
}

/* ---- ExecCredential parsing ---------------------------------------------- */

Test(credentials, parse_valid_outputs)
{
	static const char with_cert[] =
		"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"spec\":{},\"status\":{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n\","
		"\"clientKeyData\":\"-----BEGIN EC PRIVATE KEY-----\\nMHc\\n\","
		"\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}";
	inf_exec_credential credential;
	score_error err = {0};
	gsize size = 0;
	const char *data;
	int rc;

	rc = inf_exec_credential_parse("client.authentication.k8s.io/v1beta1", with_cert,
				       strlen(with_cert), &credential, &err);
	cr_assert_eq(rc, 0, "parse failed: %s", err.message);
	cr_assert_null(credential.token, "no token in this credential");
	cr_assert_not_null(credential.client_cert, "the certificate is kept");
	data = g_bytes_get_data(credential.client_cert, &size);
	cr_assert(size > 10 && strncmp(data, "-----BEGIN CERTIFICATE", 22) == 0,
		  "the certificate is PEM as given");
	cr_assert_not_null(credential.client_key, "the key is kept");
	cr_assert_eq(credential.expires_us, (int64_t)1893553445 * G_USEC_PER_SEC,
		     "expiry 2030-01-02T03:04:05Z, got %lld",
		     (long long)credential.expires_us);
	inf_exec_credential_release(&credential);
}

Test(credentials, parse_rejects_bad_outputs)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{"token: abc", "not a JSON ExecCredential"},
		{"{\"kind\":\"Status\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		 "kind Status, expected ExecCredential"},
		{"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"t\"}}",
		 "returned apiVersion client.authentication.k8s.io/v1beta1, but the kubeconfig configures client.authentication.k8s.io/v1"},
		{"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		 "has no status"},
		{"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{\"token\":\"\"}}",
		 "neither a token nor"},
		{"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{\"clientCertificateData\":\"PEM\"}}",
		 "only one of clientCertificateData and clientKeyData"},
		{"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"tomorrow\"}}",
		 "\"tomorrow\" is not an RFC 3339 time"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		inf_exec_credential credential;
		score_error err = {0};
		int rc = inf_exec_credential_parse("client.authentication.k8s.io/v1",
						   cases[i].text, strlen(cases[i].text),
						   &credential, &err);

		cr_assert_eq(rc, -EPROTO, "case %zu: expected -EPROTO, got %d", i, rc);
		cr_assert_not_null(strstr(err.message, cases[i].message),
				   "case %zu: expected \"%s\" in: %s", i, cases[i].message,
				   err.message);
		cr_assert_null(credential.token, "case %zu: nothing returned", i);
	}
}

/* ---- Running the plugin -------------------------------------------------- */

Test(credentials, plugin_receives_args_env_and_exec_info)
{
	inf_rest_config *config = script_config("https://127.0.0.1:6443");
	inf_credentials *credentials = inf_credentials_new(config);
	inf_credential_set set;
	score_error err = {0};
	char *info, *args, *input;
	cJSON *json;
	const cJSON *spec, *cluster;

	cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get failed: %s",
		     err.message);
	cr_assert_str_eq(set.token, "tok-1", "the plugin's token, got %s", set.token);
	inf_credential_set_release(&set);

	args = read_in_dir("args");
	cr_assert_str_eq(args, "--cluster prod\n", "the plugin got the args, got %s", args);
	input = read_in_dir("stdin");
	cr_assert_str_eq(input, "", "standard input is empty (/dev/null), got %s", input);
	info = read_in_dir("exec-info");
	json = cJSON_Parse(info);
	cr_assert_not_null(json, "KUBERNETES_EXEC_INFO is JSON: %s", info);
	cr_assert_str_eq(cJSON_GetObjectItem(json, "kind")->valuestring, "ExecCredential",
			 "exec info kind");
	cr_assert_str_eq(cJSON_GetObjectItem(json, "apiVersion")->valuestring,
			 "client.authentication.k8s.io/v1", "exec info apiVersion");
	spec = cJSON_GetObjectItem(json, "spec");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(spec, "interactive")),
		  "spec.interactive is false with interactiveMode Never: %s", info);
	cluster = cJSON_GetObjectItem(spec, "cluster");
	cr_assert_not_null(cluster, "provideClusterInfo sends spec.cluster: %s", info);
	cr_assert_str_eq(cJSON_GetObjectItem(cluster, "server")->valuestring,
			 "https://127.0.0.1:6443", "spec.cluster.server");
	cJSON_Delete(json);
	g_free(info);
	g_free(args);
	g_free(input);
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
}

Test(credentials, cached_until_expiry)
{
	inf_rest_config *config = script_config("https://127.0.0.1:6443");
	inf_credentials *credentials = inf_credentials_new(config);
	inf_credential_set set;
	score_error err = {0};

	/* An hour ahead: one run serves every request. */
	write_in_dir("expiry", "2999-01-01T00:00:00Z");
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get: %s",
			     err.message);
		inf_credential_set_release(&set);
	}
	cr_assert_eq(plugin_runs(), 1, "a valid credential is reused, got %d runs",
		     plugin_runs());

	/* Already expired: the next two requests run the plugin each. The
	 * cached credential expires only after the first of them. */
	write_in_dir("expiry", "2000-01-01T00:00:00Z");
	inf_credentials_rejected(credentials, g_get_monotonic_time());
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get: %s",
			     err.message);
		inf_credential_set_release(&set);
	}
	cr_assert_eq(plugin_runs(), 3, "an expired credential is fetched again, got %d runs",
		     plugin_runs());
	cr_assert_eq(inf_credentials_exec_runs(credentials), 3,
		     "the source counts the same 3 runs, got %u",
		     inf_credentials_exec_runs(credentials));

	/* A report about a request set up before the current credential
	 * changes nothing. */
	write_in_dir("expiry", "2999-01-01T00:00:00Z");
	cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get: %s", err.message);
	inf_credential_set_release(&set);
	inf_credentials_rejected(credentials, 0);
	cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get: %s", err.message);
	inf_credential_set_release(&set);
	cr_assert_eq(plugin_runs(), 4, "a stale 401 report does not rerun, got %d runs",
		     plugin_runs());
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
}

Test(credentials, missing_command_shows_install_hint)
{
	inf_rest_config *config = plugin_config("https://127.0.0.1:6443",
						"stowage-test-no-such-plugin",
						"client.authentication.k8s.io/v1");
	inf_credentials *credentials = inf_credentials_new(config);
	inf_credential_set set;
	score_error err = {0};
	int rc = inf_credentials_get(credentials, &set, &err);

	cr_assert_eq(rc, -ENOENT, "a missing plugin gives -ENOENT, got %d", rc);
	cr_assert_not_null(strstr(err.message, "stowage-test-no-such-plugin was not found"),
			   "the message names the command: %s", err.message);
	cr_assert_not_null(strstr(err.message, "install the test plugin with make"),
			   "the message has the installHint: %s", err.message);
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
}

Test(credentials, failing_plugin_reports_stderr)
{
	inf_rest_config *config = script_config("https://127.0.0.1:6443");
	inf_credentials *credentials = inf_credentials_new(config);
	inf_credential_set set;
	score_error err = {0};
	int rc;

	write_in_dir("fail", "");
	rc = inf_credentials_get(credentials, &set, &err);
	cr_assert_eq(rc, -EIO, "a failing plugin gives -EIO, got %d", rc);
	cr_assert_not_null(strstr(err.message, "failed with exit status 3"),
			   "the message has the exit status: %s", err.message);
	cr_assert_not_null(strstr(err.message, "the session expired; run login again"),
			   "the message has the plugin's standard error: %s", err.message);
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
}

Test(credentials, wrong_api_version_rejected)
{
	char *plugin = path_in_dir("plugin.sh");
	inf_rest_config *config = plugin_config("https://127.0.0.1:6443", plugin,
						"client.authentication.k8s.io/v1beta1");
	inf_credentials *credentials = inf_credentials_new(config);
	inf_credential_set set;
	score_error err = {0};
	int rc;

	/* The script prints apiVersion v1 unless PLUGIN_API is set. */
	rc = inf_credentials_get(credentials, &set, &err);
	cr_assert_eq(rc, -EPROTO, "a version mismatch gives -EPROTO, got %d", rc);
	cr_assert_not_null(strstr(err.message, "returned an invalid credential"),
			   "message: %s", err.message);
	cr_assert_not_null(strstr(err.message, "configures client.authentication.k8s.io/v1beta1"),
			   "message: %s", err.message);
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
	g_free(plugin);
}

/* ---- Against the test API server ----------------------------------------- */

typedef struct live {
	test_apiserver server;
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
	inf_informer *informer;
} live;

static void live_start(live *l, inf_rest_config *config)
{
	inf_informer_config informer_config = {0};
	score_error err = {0};

	l->resources = score_resource_table_new();
	l->model = score_model_new(l->resources);
	g_rw_lock_init(&l->lock);
	informer_config.rest = config;
	informer_config.model = l->model;
	informer_config.lock = &l->lock;
	informer_config.backoff_initial_ms = 20;
	informer_config.backoff_max_ms = 100;
	cr_assert_eq(inf_informer_start(&informer_config, &l->informer, &err), 0,
		     "inf_informer_start: %s", err.message);
	cr_assert_eq(inf_informer_wait_synced(l->informer, WAIT_MS, &err), 0,
		     "sync failed: %s", err.message);
}

static void live_stop(live *l)
{
	inf_informer_free(l->informer);
	score_model_free(l->model);
	score_resource_table_free(l->resources);
	g_rw_lock_clear(&l->lock);
	test_apiserver_stop(&l->server);
}

static bool model_has_node(live *l, const char *name)
{
	bool found;

	g_rw_lock_reader_lock(&l->lock);
	found = score_model_node(l->model, name) != NULL;
	g_rw_lock_reader_unlock(&l->lock);
	return found;
}

static live *current;

static bool node_x_present(const void *data)
{
	(void)data;
	return model_has_node(current, "node-x");
}

static void add_node_x(live *l)
{
	test_control(&l->server, "/control/objects",
		     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-x\"}}}");
}

Test(credentials, plugin_rerun_after_401)
{
	live l = {0};
	inf_rest_config *config;
	score_error err = {0};
	int rc;

	test_apiserver_start(&l.server, "informer/cluster.json", "tok-1");
	config = script_config(l.server.url);
	live_start(&l, config);
	cr_assert_eq(plugin_runs(), 1, "four reflectors' requests share one run, got %d",
		     plugin_runs());
	cr_assert_eq(test_stat(&l.server, NULL, "unauthorized"), 0, "no 401 so far");

	/* The server now wants tok-2 and the plugin hands it out. The open
	 * watches end; the next ones get 401 once, and the plugin runs again. */
	write_in_dir("token", "tok-2");
	test_control(&l.server, "/control/settings", "{\"token\":\"tok-2\"}");
	test_control(&l.server, "/control/close-watches", NULL);
	add_node_x(&l);
	current = &l;
	cr_assert(test_wait_until(node_x_present, NULL, WAIT_MS),
		  "the informer recovered with the new token");
	cr_assert_geq(test_stat(&l.server, NULL, "unauthorized"), 1,
		      "the old token met a 401");
	cr_assert_eq(plugin_runs(), 2, "the 401s caused one more run, got %d", plugin_runs());

	/* A binding meets 401 and is sent again with a fresh credential. */
	write_in_dir("token", "tok-3");
	test_control(&l.server, "/control/settings", "{\"token\":\"tok-3\"}");
	rc = inf_informer_bind(l.informer, "default", "pending-2", "uid-pending-2", "node-a",
			       &err);
	cr_assert_eq(rc, 0, "the binding succeeds after one refresh: %s", err.message);
	cr_assert_eq(test_stat(&l.server, NULL, "bindings"), 1, "one binding made");
	cr_assert_eq(plugin_runs(), 3, "the binding's 401 caused one run, got %d",
		     plugin_runs());
	live_stop(&l);
	inf_rest_config_free(config);
}

static bool watches_reopened(const void *data)
{
	const long *before = data;

	return test_stat(&current->server, "watchRequests", "nodes") > *before &&
	       test_stat(&current->server, "watches", "nodes") > 0;
}

Test(credentials, service_account_token_reread_during_watch)
{
	live l = {0};
	char *ca = test_fixture_path("informer/tls/ca.crt");
	char *ca_text = NULL, *sa_dir;
	char port[16];
	inf_kubeconfig_options options = {0};
	inf_rest_config *config = NULL;
	score_error err = {0};
	long watches_before;

	/* An in-cluster configuration: token, ca.crt and namespace files. */
	cr_assert(g_file_get_contents(ca, &ca_text, NULL, NULL), "cannot read %s", ca);
	sa_dir = path_in_dir("serviceaccount");
	g_mkdir(sa_dir, 0700);
	write_in_dir("serviceaccount/ca.crt", ca_text);
	write_in_dir("serviceaccount/namespace", "stowage");
	write_in_dir("serviceaccount/token", "sa-token-1\n");
	test_apiserver_start_with(&l.server, "informer/cluster.json", "sa-token-1", true);
	g_snprintf(port, sizeof(port), "%u", l.server.port);
	options.service_host = "127.0.0.1";
	options.service_port = port;
	options.serviceaccount_dir = sa_dir;
	cr_assert_eq(inf_rest_config_in_cluster(&options, &config, &err), 0,
		     "in-cluster config: %s", err.message);
	/* The test certificate is for kubernetes.default only. */
	config->tls_server_name = g_strdup("kubernetes.default");
	live_start(&l, config);

	/* The kubelet rotates the token while the watches are open; the API
	 * server stops accepting the old one. */
	write_in_dir("serviceaccount/token", "sa-token-2\n");
	test_control(&l.server, "/control/settings", "{\"token\":\"sa-token-2\"}");
	watches_before = test_stat(&l.server, "watchRequests", "nodes");
	test_control(&l.server, "/control/close-watches", NULL);
	current = &l;
	cr_assert(test_wait_until(watches_reopened, &watches_before, WAIT_MS),
		  "the nodes watch reopened");
	add_node_x(&l);
	cr_assert(test_wait_until(node_x_present, NULL, WAIT_MS),
		  "events flow on the watch opened with the new token");
	cr_assert_eq(test_stat(&l.server, NULL, "unauthorized"), 0,
		     "the next requests carried the new token: no 401, got %ld",
		     test_stat(&l.server, NULL, "unauthorized"));
	live_stop(&l);
	inf_rest_config_free(config);
	g_free(sa_dir);
	g_free(ca_text);
	g_free(ca);
}

Test(credentials, static_token_wins_over_plugin)
{
	inf_rest_config *config = script_config("https://127.0.0.1:6443");
	inf_credentials *credentials;
	inf_credential_set set;
	score_error err = {0};

	/* client-go leaves the plugin out when the user has a token. */
	config->token = g_strdup("static-token");
	credentials = inf_credentials_new(config);
	cr_assert_eq(inf_credentials_get(credentials, &set, &err), 0, "get: %s", err.message);
	cr_assert_str_eq(set.token, "static-token", "the static token is sent, got %s",
			 set.token);
	cr_assert_null(set.client_cert, "no plugin certificate");
	cr_assert_eq(plugin_runs(), 0, "the plugin did not run, got %d runs", plugin_runs());
	cr_assert(!inf_credentials_refreshable(credentials),
		  "a static token cannot be refreshed");
	inf_credential_set_release(&set);
	inf_credentials_free(credentials);
	inf_rest_config_free(config);
}
