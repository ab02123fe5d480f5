/* Tests for informer/kubeconfig.c: the kubeconfig search order, merging
 * of $KUBECONFIG files, context, cluster and user fields, the in-cluster
 * configuration, and the errors for broken or unsupported files. Each test
 * writes its files into a fresh temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "informer/informer.h"
#include "informer/kubeconfig.h"
#include "tests/inf_apiserver.h"
#include "tests/tempdir.h"

static char *dir;

static void make_dir(void)
{
	dir = test_make_temp_dir("stowage-kubeconfig-XXXXXX");
}

static void remove_dir(void)
{
	test_remove_tree(dir);
	g_free(dir);
}

TestSuite(kubeconfig, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* Writes `text` to `name` under the test directory; returns the path,
 * which the caller frees. */
static char *write_file(const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);
	char *parent = g_path_get_dirname(path);
	GError *error = NULL;

	g_mkdir_with_parents(parent, 0700);
	cr_assert(g_file_set_contents(path, text, -1, &error),
		  "cannot write %s: %s", path, error != NULL ? error->message : "");
	g_free(parent);
	return path;
}

static const char basic_config[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: dev\n"
	"clusters:\n"
	"- name: dev-cluster\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:6443/\n"
	"    insecure-skip-tls-verify: true\n"
	"- name: prod-cluster\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:7443\n"
	"    tls-server-name: kubernetes.default\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"users:\n"
	"- name: dev-user\n"
	"  user:\n"
	"    token: dev-token\n"
	"- name: prod-user\n"
	"  user:\n"
	"    username: admin\n"
	"    password: hunter2\n"
	"contexts:\n"
	"- name: dev\n"
	"  context:\n"
	"    cluster: dev-cluster\n"
	"    user: dev-user\n"
	"    namespace: team-a\n"
	"- name: prod\n"
	"  context:\n"
	"    cluster: prod-cluster\n"
	"    user: prod-user\n";

/* Loads with only --kubeconfig `path` and --context `context`. */
static int load_path(const char *path, const char *context,
		     inf_rest_config **out, score_error *err)
{
	inf_kubeconfig_options options = {.kubeconfig = path, .context = context};

	return inf_rest_config_load(&options, out, err);
}

static void assert_error(int rc, const score_error *err, const char *part)
{
	cr_assert_lt(rc, 0, "expected an error mentioning \"%s\", got success", part);
	cr_assert_not_null(strstr(err->message, part),
			   "error should mention \"%s\": %s", part, err->message);
}

Test(kubeconfig, current_context_with_token)
{
	char *path = write_file("config", basic_config);
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://127.0.0.1:6443",
			 "server without the trailing slash, got %s", c->server);
	cr_assert(c->insecure_skip_tls_verify, "insecure-skip-tls-verify is true");
	cr_assert_str_eq(c->token, "dev-token", "token: got %s", c->token);
	cr_assert_str_eq(c->namespace, "team-a", "namespace: got %s", c->namespace);
	cr_assert_null(c->ca_data, "the dev cluster has no CA");
	cr_assert_not_null(strstr(c->source, path), "source names the file: %s",
			   c->source);
	cr_assert_not_null(strstr(c->source, "context dev"),
			   "source names the context: %s", c->source);
	inf_rest_config_free(c);
	g_free(path);
}

Test(kubeconfig, context_override_and_ca_data)
{
	char *path = write_file("config", basic_config);
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, "prod", &c, &err);
	gsize size = 0;
	const char *pem;

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://127.0.0.1:7443", "server: got %s", c->server);
	cr_assert_str_eq(c->tls_server_name, "kubernetes.default",
			 "tls-server-name: got %s", c->tls_server_name);
	cr_assert_not_null(c->ca_data, "certificate-authority-data is decoded");
	pem = g_bytes_get_data(c->ca_data, &size);
	cr_assert_eq(size, 28, "decoded CA length: expected 28, got %zu", size);
	cr_assert_eq(strncmp(pem, "-----BEGIN CERTIFICATE-----", 27), 0,
		     "decoded CA starts with the PEM header");
	cr_assert_str_eq(c->username, "admin", "username: got %s", c->username);
	cr_assert_str_eq(c->password, "hunter2", "password is loaded");
	cr_assert_null(c->token, "the prod user has no token");
	cr_assert_null(c->namespace, "the prod context has no namespace");
	inf_rest_config_free(c);
	g_free(path);
}

Test(kubeconfig, unknown_context_lists_contexts)
{
	char *path = write_file("config", basic_config);
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, "staging", &c, &err);

	assert_error(rc, &err, "context staging is not defined");
	assert_error(rc, &err, "dev, prod");
	cr_assert_null(c, "no config on failure");
	g_free(path);
}

Test(kubeconfig, missing_current_context)
{
	char *path = write_file("config",
				"clusters: []\ncontexts:\n- name: a\n  context: {cluster: x}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "sets no current-context");
	assert_error(rc, &err, "--context");
	g_free(path);
}

Test(kubeconfig, missing_server_names_cluster)
{
	char *path = write_file("config",
				"current-context: c\n"
				"clusters:\n- name: empty\n  cluster:\n    insecure-skip-tls-verify: true\n"
				"contexts:\n- name: c\n  context: {cluster: empty}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "cluster empty");
	assert_error(rc, &err, "has no server");
	assert_error(rc, &err, path);
	g_free(path);
}

Test(kubeconfig, undefined_cluster_and_user)
{
	char *path = write_file("config",
				"current-context: c\n"
				"clusters:\n- name: real\n  cluster: {server: 'https://127.0.0.1:1'}\n"
				"contexts:\n- name: c\n  context: {cluster: ghost}\n"
				"- name: d\n  context: {cluster: real, user: nobody}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "refers to cluster ghost");
	rc = load_path(path, "d", &c, &err);
	assert_error(rc, &err, "refers to user nobody");
	g_free(path);
}

/* A kubeconfig whose user u has the exec block `exec` (YAML lines
 * indented by 6). */
static char *exec_config(const char *exec)
{
	char *text = g_strdup_printf("current-context: c\n"
				     "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
				     "users:\n- name: u\n  user:\n    exec:\n%s"
				     "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
				     exec);
	char *path = write_file("config", text);

	g_free(text);
	return path;
}

Test(kubeconfig, exec_plugin_loaded)
{
	char *path = exec_config("      apiVersion: client.authentication.k8s.io/v1\n"
				 "      command: bin/get-token\n"
				 "      args: [--cluster, prod]\n"
				 "      env: [{name: AWS_PROFILE, value: ops}, {name: EMPTY}]\n"
				 "      installHint: install get-token from example.com\n"
				 "      provideClusterInfo: true\n"
				 "      interactiveMode: Never\n");
	char *resolved = g_build_filename(dir, "bin", "get-token", NULL);
	inf_rest_config *c = NULL, *copy;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_not_null(c->exec, "the exec block is kept");
	cr_assert_str_eq(c->exec->api_version, "client.authentication.k8s.io/v1",
			 "apiVersion: got %s", c->exec->api_version);
	cr_assert_str_eq(c->exec->command, resolved,
			 "a relative command with a '/' resolves against the file's directory: got %s",
			 c->exec->command);
	cr_assert_str_eq(c->exec->args[0], "--cluster", "args[0]: got %s", c->exec->args[0]);
	cr_assert_str_eq(c->exec->args[1], "prod", "args[1]: got %s", c->exec->args[1]);
	cr_assert_null(c->exec->args[2], "two args");
	cr_assert_str_eq(c->exec->env[0], "AWS_PROFILE=ops", "env[0]: got %s", c->exec->env[0]);
	cr_assert_str_eq(c->exec->env[1], "EMPTY=", "env[1]: got %s", c->exec->env[1]);
	cr_assert_str_eq(c->exec->install_hint, "install get-token from example.com",
			 "installHint kept");
	cr_assert(c->exec->provide_cluster_info, "provideClusterInfo kept");
	cr_assert_eq(c->exec->interactive_mode, INF_EXEC_INTERACTIVE_NEVER,
		     "interactiveMode Never");
	copy = inf_rest_config_copy(c);
	inf_rest_config_free(c);
	cr_assert_str_eq(copy->exec->env[0], "AWS_PROFILE=ops", "the copy is deep");
	inf_rest_config_free(copy);
	g_free(resolved);
	g_free(path);

	path = exec_config("      apiVersion: client.authentication.k8s.io/v1beta1\n"
			   "      command: gke-gcloud-auth-plugin\n");
	rc = load_path(path, NULL, &c, &err);
	cr_assert_eq(rc, 0, "v1beta1 without interactiveMode loads: %s", err.message);
	cr_assert_str_eq(c->exec->command, "gke-gcloud-auth-plugin",
			 "a bare command stays for the PATH lookup: got %s", c->exec->command);
	cr_assert_eq(c->exec->interactive_mode, INF_EXEC_INTERACTIVE_IF_AVAILABLE,
		     "v1beta1 defaults interactiveMode to IfAvailable");
	cr_assert_null(c->exec->args[0], "no args");
	inf_rest_config_free(c);
	g_free(path);
}

Test(kubeconfig, exec_plugin_invalid)
{
	static const struct {
		const char *exec;
		const char *message;
	} cases[] = {
		{"      command: aws\n", "exec.apiVersion is missing"},
		{"      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n",
		 "exec.apiVersion client.authentication.k8s.io/v1alpha1 is not supported"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n",
		 "exec.interactiveMode is missing"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Never\n",
		 "exec.command is missing"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
		 "      interactiveMode: Always\n",
		 "stowage runs without a terminal"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
		 "      interactiveMode: Sometimes\n",
		 "exec.interactiveMode Sometimes is invalid"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
		 "      interactiveMode: Never\n      args: [1]\n",
		 "exec.args[0] must be a string"},
		{"      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
		 "      interactiveMode: Never\n      env: [{value: x}]\n",
		 "exec.env[0] needs a name"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = exec_config(cases[i].exec);
		inf_rest_config *c = NULL;
		score_error err = {0};
		int rc = load_path(path, NULL, &c, &err);

		assert_error(rc, &err, cases[i].message);
		assert_error(rc, &err, "user u");
		cr_assert_null(c, "case %zu: no configuration on failure", i);
		g_free(path);
	}
}

Test(kubeconfig, impersonation_and_auth_provider_rejected)
{
	char *path = write_file("config",
				"current-context: c\n"
				"clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
				"users:\n- name: u\n  user: {token: t, as: admin}\n"
				"- name: g\n  user:\n    auth-provider: {name: gcp}\n"
				"contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
				"- name: d\n  context: {cluster: k, user: g}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "impersonation");
	rc = load_path(path, "d", &c, &err);
	assert_error(rc, &err, "auth-provider");
	g_free(path);
}

Test(kubeconfig, relative_paths_resolve_to_file_dir)
{
	char *ca = write_file("conf/certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
	char *cert = write_file("conf/certs/client.pem", "cert");
	char *key = write_file("conf/certs/client-key.pem", "key");
	char *token = write_file("conf/token", "abc\n");
	char *path = write_file("conf/config",
				"current-context: c\n"
				"clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority: certs/ca.pem\n"
				"users:\n- name: u\n  user:\n    tokenFile: token\n    client-certificate: certs/client.pem\n    client-key: certs/client-key.pem\n"
				"contexts:\n- name: c\n  context: {cluster: k, user: u}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->ca_file, ca, "certificate-authority: expected %s, got %s",
			 ca, c->ca_file);
	cr_assert_str_eq(c->client_cert_file, cert, "client-certificate: got %s",
			 c->client_cert_file);
	cr_assert_str_eq(c->client_key_file, key, "client-key: got %s",
			 c->client_key_file);
	cr_assert_str_eq(c->token_file, token, "tokenFile: got %s", c->token_file);
	inf_rest_config_free(c);
	g_free(ca);
	g_free(cert);
	g_free(key);
	g_free(token);
	g_free(path);
}

Test(kubeconfig, unreadable_file_reference)
{
	char *path = write_file("config",
				"current-context: c\n"
				"clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority: missing-ca.pem\n"
				"contexts:\n- name: c\n  context: {cluster: k}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "certificate-authority");
	assert_error(rc, &err, "missing-ca.pem cannot be read");
	g_free(path);
}

Test(kubeconfig, token_wins_over_token_file)
{
	char *token = write_file("token", "from-file");
	char *path = write_file("config",
				"current-context: c\n"
				"clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
				"users:\n- name: u\n  user: {token: inline, tokenFile: token}\n"
				"contexts:\n- name: c\n  context: {cluster: k, user: u}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->token, "inline", "token: got %s", c->token);
	cr_assert_null(c->token_file, "tokenFile is ignored when token is set");
	inf_rest_config_free(c);
	g_free(token);
	g_free(path);
}

Test(kubeconfig, invalid_fields_rejected)
{
	static const struct {
		const char *cluster;
		const char *user;
		const char *expected;
	} cases[] = {
		{"{server: 'https://127.0.0.1:1', insecure-skip-tls-verify: 'true'}", "{}",
		 "insecure-skip-tls-verify must be true or false"},
		{"{server: 'https://127.0.0.1:1', certificate-authority-data: 'not*base64'}", "{}",
		 "not valid base64"},
		{"{server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true, certificate-authority-data: 'QUJD'}",
		 "{}", "both insecure-skip-tls-verify and a certificate authority"},
		{"{server: 'ftp://127.0.0.1:1'}", "{}", "must be an https:// or http:// URL"},
		{"{server: 42}", "{}", "server must be a string"},
		{"{server: 'https://127.0.0.1:1'}", "{client-certificate-data: 'QUJD'}",
		 "needs both client-certificate(-data) and client-key(-data)"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = g_strdup_printf("current-context: c\n"
					     "clusters:\n- name: k\n  cluster: %s\n"
					     "users:\n- name: u\n  user: %s\n"
					     "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
					     cases[i].cluster, cases[i].user);
		char *path = write_file("config", text);
		inf_rest_config *c = NULL;
		score_error err = {0};
		int rc = load_path(path, NULL, &c, &err);

		cr_assert_lt(rc, 0, "case %zu: expected an error", i);
		cr_assert_not_null(strstr(err.message, cases[i].expected),
				   "case %zu: error should mention \"%s\": %s", i,
				   cases[i].expected, err.message);
		cr_assert_null(c, "case %zu: no config on failure", i);
		g_free(path);
		g_free(text);
	}
}

Test(kubeconfig, server_without_scheme)
{
	char *path = write_file("config",
				"current-context: plain\n"
				"clusters:\n- name: a\n  cluster: {server: '127.0.0.1:8080'}\n"
				"- name: b\n  cluster: {server: '127.0.0.1:6443', insecure-skip-tls-verify: true}\n"
				"contexts:\n- name: plain\n  context: {cluster: a}\n- name: tls\n  context: {cluster: b}\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "http://127.0.0.1:8080",
			 "no TLS settings: http, got %s", c->server);
	inf_rest_config_free(c);
	rc = load_path(path, "tls", &c, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://127.0.0.1:6443",
			 "TLS settings: https, got %s", c->server);
	inf_rest_config_free(c);
	g_free(path);
}

Test(kubeconfig, malformed_yaml_names_file_and_line)
{
	char *path = write_file("config", "clusters:\n  - name: a\n   bad: [\n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, path);
	assert_error(rc, &err, "line 3");
	g_free(path);

	path = write_file("list", "- a\n- b\n");
	rc = load_path(path, NULL, &c, &err);
	assert_error(rc, &err, "is not a YAML mapping");
	g_free(path);

	path = write_file("clusters", "clusters: {a: b}\n");
	rc = load_path(path, NULL, &c, &err);
	assert_error(rc, &err, "clusters must be a list");
	g_free(path);

	path = write_file("noname", "clusters:\n- cluster: {server: x}\n");
	rc = load_path(path, NULL, &c, &err);
	assert_error(rc, &err, "clusters[0] has no name");
	g_free(path);
}

Test(kubeconfig, explicit_file_must_exist)
{
	char *path = g_build_filename(dir, "absent", NULL);
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	cr_assert_eq(rc, -ENOENT, "expected -ENOENT, got %d", rc);
	assert_error(rc, &err, "does not exist");
	g_free(path);
}

Test(kubeconfig, env_list_merges_first_wins)
{
	char *first = write_file("first",
				 "current-context: one\n"
				 "clusters:\n- name: shared\n  cluster: {server: 'https://127.0.0.1:1111'}\n"
				 "contexts:\n- name: one\n  context: {cluster: shared, user: u}\n");
	char *second = write_file("second",
				  "current-context: two\n"
				  "clusters:\n- name: shared\n  cluster: {server: 'https://127.0.0.1:2222'}\n"
				  "users:\n- name: u\n  user: {token: second-token}\n"
				  "contexts:\n- name: two\n  context: {cluster: shared}\n");
	char *missing = g_build_filename(dir, "missing", NULL);
	char *env = g_strjoin(":", missing, first, "", second, NULL);
	inf_kubeconfig_options options = {.kubeconfig_env = env,
					  .service_host = "10.0.0.1",
					  .service_port = "443"};
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = inf_rest_config_load(&options, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://127.0.0.1:1111",
			 "the first file's cluster wins, got %s", c->server);
	cr_assert_str_eq(c->token, "second-token",
			 "users come from later files too, got %s", c->token);
	cr_assert_not_null(strstr(c->source, "context one"),
			   "current-context from the first file: %s", c->source);
	inf_rest_config_free(c);

	options.context = "two";
	rc = inf_rest_config_load(&options, &c, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_not_null(strstr(c->source, second),
			   "context two comes from the second file: %s", c->source);
	inf_rest_config_free(c);
	g_free(env);
	g_free(missing);
	g_free(first);
	g_free(second);
}

Test(kubeconfig, env_list_all_missing)
{
	char *env = g_strjoin(":", "/nonexistent/a", "/nonexistent/b", NULL);
	inf_kubeconfig_options options = {.kubeconfig_env = env};
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = inf_rest_config_load(&options, &c, &err);

	assert_error(rc, &err, "none of the files in KUBECONFIG");
	g_free(env);
}

static char *make_serviceaccount(bool with_token)
{
	char *sa = g_build_filename(dir, "sa", NULL);
	char *file;

	g_mkdir_with_parents(sa, 0700);
	if (with_token) {
		file = write_file("sa/token", "sa-token\n");
		g_free(file);
	}
	file = write_file("sa/ca.crt", "-----BEGIN CERTIFICATE-----\n");
	g_free(file);
	file = write_file("sa/namespace", "kube-system\n");
	g_free(file);
	return sa;
}

Test(kubeconfig, in_cluster_config)
{
	char *sa = make_serviceaccount(true);
	char *token = g_build_filename(sa, "token", NULL);
	char *ca = g_build_filename(sa, "ca.crt", NULL);
	char *home_config = write_file("home/.kube/config", basic_config);
	char *home = g_build_filename(dir, "home", NULL);
	inf_kubeconfig_options options = {.service_host = "10.96.0.1",
					  .service_port = "443",
					  .serviceaccount_dir = sa,
					  .home = home};
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = inf_rest_config_load(&options, &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://10.96.0.1:443",
			 "in-cluster wins over ~/.kube/config, got %s", c->server);
	cr_assert_str_eq(c->token_file, token, "token file: got %s", c->token_file);
	cr_assert_null(c->token, "the token is read per request, not stored");
	cr_assert_str_eq(c->ca_file, ca, "ca.crt: got %s", c->ca_file);
	cr_assert_str_eq(c->namespace, "kube-system", "namespace: got %s", c->namespace);
	inf_rest_config_free(c);

	options.service_host = "fd00::1";
	rc = inf_rest_config_load(&options, &c, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->server, "https://[fd00::1]:443",
			 "IPv6 hosts are bracketed, got %s", c->server);
	inf_rest_config_free(c);
	g_free(home);
	g_free(home_config);
	g_free(ca);
	g_free(token);
	g_free(sa);
}

Test(kubeconfig, in_cluster_errors)
{
	char *sa = make_serviceaccount(false);
	inf_kubeconfig_options options = {.service_host = "10.96.0.1",
					  .service_port = "443",
					  .serviceaccount_dir = sa};
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = inf_rest_config_in_cluster(&options, &c, &err);

	assert_error(rc, &err, "token");
	assert_error(rc, &err, "cannot be read");

	options.service_port = NULL;
	rc = inf_rest_config_in_cluster(&options, &c, &err);
	assert_error(rc, &err, "KUBERNETES_SERVICE_PORT");
	g_free(sa);
}

Test(kubeconfig, home_config_and_nothing_found)
{
	char *home = g_build_filename(dir, "home", NULL);
	char *config = NULL;
	inf_kubeconfig_options options = {.home = home};
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = inf_rest_config_load(&options, &c, &err);

	assert_error(rc, &err, "no Kubernetes API configuration found");
	assert_error(rc, &err, ".kube/config does not exist");

	config = write_file("home/.kube/config", basic_config);
	rc = inf_rest_config_load(&options, &c, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_str_eq(c->token, "dev-token", "token from ~/.kube/config, got %s",
			 c->token);
	inf_rest_config_free(c);
	g_free(config);
	g_free(home);
}

Test(kubeconfig, empty_file_is_empty_config)
{
	char *path = write_file("config", "\n  \n");
	inf_rest_config *c = NULL;
	score_error err = {0};
	int rc = load_path(path, NULL, &c, &err);

	assert_error(rc, &err, "sets no current-context");
	assert_error(rc, &err, "none");
	g_free(path);
}

Test(kubeconfig, copy_is_deep)
{
	char *path = write_file("config", basic_config);
	inf_rest_config *c = NULL, *copy;
	score_error err = {0};
	int rc = load_path(path, "prod", &c, &err);

	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	copy = inf_rest_config_copy(c);
	inf_rest_config_free(c);
	cr_assert_str_eq(copy->server, "https://127.0.0.1:7443", "server: got %s",
			 copy->server);
	cr_assert_not_null(copy->ca_data, "ca_data is copied");
	cr_assert_str_eq(copy->password, "hunter2", "password is copied");
	inf_rest_config_free(copy);
	g_free(path);
}

/* ---- Against the test API server ----------------------------------------- */

/* Loads `kubeconfig_text` and starts an informer with it; returns the
 * result of waiting `timeout_ms` for the sync, with `err` set on failure. */
static int sync_with(const char *kubeconfig_text, int64_t timeout_ms,
		     score_error *err)
{
	char *path = write_file("server-config", kubeconfig_text);
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	GRWLock lock;
	inf_rest_config *rest = NULL;
	inf_informer *informer = NULL;
	inf_informer_config config = {0};
	int rc;

	g_rw_lock_init(&lock);
	rc = load_path(path, NULL, &rest, err);
	cr_assert_eq(rc, 0, "load failed: %s", err->message);
	config.rest = rest;
	config.model = model;
	config.lock = &lock;
	config.backoff_initial_ms = 20;
	config.backoff_max_ms = 50;
	rc = inf_informer_start(&config, &informer, err);
	cr_assert_eq(rc, 0, "inf_informer_start: %s", err->message);
	rc = inf_informer_wait_synced(informer, timeout_ms, err);
	if (rc == 0)
		cr_assert_eq(score_model_node_count(model), 3,
			     "the fixture's 3 nodes synced, got %zu",
			     score_model_node_count(model));
	inf_informer_free(informer);
	inf_rest_config_free(rest);
	score_model_free(model);
	score_resource_table_free(resources);
	g_rw_lock_clear(&lock);
	g_free(path);
	return rc;
}

/* Returns the absolute path of fixture `name`; the caller frees it. */
static char *absolute_fixture(const char *name)
{
	char *path = test_fixture_path(name);
	char *absolute = g_canonicalize_filename(path, NULL);

	g_free(path);
	return absolute;
}

/* A kubeconfig for `server_url` with the cluster fields `cluster_extra`
 * (YAML lines indented by 4) and the user fields `user_extra`. */
static char *server_config(const char *server_url, const char *cluster_extra,
			   const char *user_extra)
{
	return g_strdup_printf("current-context: test\n"
			       "clusters:\n- name: test\n  cluster:\n    server: %s\n%s"
			       "users:\n- name: test\n  user:\n%s"
			       "contexts:\n- name: test\n  context: {cluster: test, user: test}\n",
			       server_url, cluster_extra, user_extra);
}

Test(kubeconfig, token_user_reaches_server)
{
	test_apiserver server;
	score_error err = {0};
	char *text;

	test_apiserver_start(&server, "informer/cluster.json", "kube-token");
	text = server_config(server.url, "", "    token: kube-token\n");
	cr_assert_eq(sync_with(text, 10000, &err), 0, "sync: %s", err.message);
	g_free(text);

	text = server_config(server.url, "", "    token: wrong\n");
	cr_assert_eq(sync_with(text, 3000, &err), -ETIMEDOUT, "a wrong token does not sync");
	cr_assert_not_null(strstr(err.message, "HTTP 401"), "message: %s", err.message);
	g_free(text);
	test_apiserver_stop(&server);
}

Test(kubeconfig, tls_ca_file_and_server_name)
{
	test_apiserver server;
	char *ca = absolute_fixture("informer/tls/ca.crt");
	char *cluster = g_strdup_printf("    certificate-authority: %s\n"
					"    tls-server-name: kubernetes.default\n", ca);
	score_error err = {0};
	char *text;

	test_apiserver_start_with(&server, "informer/cluster.json", NULL, true);
	text = server_config(server.url, cluster, "    {}\n");
	cr_assert_eq(sync_with(text, 10000, &err), 0, "sync over TLS: %s", err.message);
	g_free(text);
	test_apiserver_stop(&server);
	g_free(cluster);
	g_free(ca);
}

Test(kubeconfig, tls_ca_data)
{
	test_apiserver server;
	char *ca_path = test_fixture_path("informer/tls/ca.crt");
	char *ca = NULL, *encoded, *cluster, *text;
	gsize length = 0;
	score_error err = {0};

	cr_assert(g_file_get_contents(ca_path, &ca, &length, NULL), "cannot read %s",
		  ca_path);
	encoded = g_base64_encode((const guchar *)ca, length);
	cluster = g_strdup_printf("    certificate-authority-data: %s\n"
				  "    tls-server-name: kubernetes.default\n", encoded);
	test_apiserver_start_with(&server, "informer/cluster.json", NULL, true);
	text = server_config(server.url, cluster, "    {}\n");
	cr_assert_eq(sync_with(text, 10000, &err), 0, "sync with CA data: %s", err.message);
	test_apiserver_stop(&server);
	g_free(text);
	g_free(cluster);
	g_free(encoded);
	g_free(ca);
	g_free(ca_path);
}

Test(kubeconfig, tls_verification_failures)
{
	test_apiserver server;
	char *ca = absolute_fixture("informer/tls/ca.crt");
	char *no_name = g_strdup_printf("    certificate-authority: %s\n", ca);
	score_error err = {0};
	char *text;

	test_apiserver_start_with(&server, "informer/cluster.json", NULL, true);

	/* The certificate is for kubernetes.default, not 127.0.0.1. */
	text = server_config(server.url, no_name, "    {}\n");
	cr_assert_eq(sync_with(text, 3000, &err), -ETIMEDOUT,
		     "a name mismatch does not sync");
	cr_assert_not_null(strstr(err.message, "127.0.0.1"), "message: %s", err.message);
	g_free(text);

	/* Without the CA only the system roots are trusted. */
	text = server_config(server.url, "    tls-server-name: kubernetes.default\n",
			     "    {}\n");
	cr_assert_eq(sync_with(text, 3000, &err), -ETIMEDOUT,
		     "an unknown CA does not sync");
	cr_assert_not_null(strstr(err.message, "certificate"), "message: %s", err.message);
	g_free(text);

	text = server_config(server.url, "    insecure-skip-tls-verify: true\n",
			     "    {}\n");
	cr_assert_eq(sync_with(text, 10000, &err), 0,
		     "insecure-skip-tls-verify syncs: %s", err.message);
	g_free(text);

	test_apiserver_stop(&server);
	g_free(no_name);
	g_free(ca);
}
