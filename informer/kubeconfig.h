/* Where the Kubernetes API server is and how to authenticate to it: a
 * kubeconfig file, read as client-go reads one, or the in-cluster
 * configuration of a pod's service account.
 *
 * Search order (inf_rest_config_load()), as controller-runtime's
 * config.GetConfig() orders it:
 *   1. options->kubeconfig (--kubeconfig): that file alone; it must exist.
 *   2. $KUBECONFIG: a ':'-separated list of files, merged as client-go
 *      merges them: for clusters, users and contexts the first file that
 *      defines a name wins, and current-context comes from the first file
 *      that sets one. Missing files in the list are skipped.
 *   3. In-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT with
 *      the token, ca.crt and namespace files of the service account.
 *   4. ~/.kube/config.
 * options->context (--context) overrides current-context. Relative file
 * paths in a kubeconfig resolve against the directory of the file that
 * defines the entry.
 *
 * Supported cluster fields: server, certificate-authority(-data),
 * insecure-skip-tls-verify, tls-server-name, proxy-url and
 * disable-compression. User fields: token, tokenFile,
 * client-certificate(-data), client-key(-data), username/password and exec
 * (credential plugins of client.authentication.k8s.io/v1 and v1beta1, run
 * by credentials.h). Context fields: namespace. The *-data fields take precedence over their file
 * forms and token over tokenFile, as in client-go; an exec plugin runs
 * only when the user sets no token, tokenFile, username or client
 * certificate, as client-go decides. auth-provider and impersonation
 * (as, as-groups, as-uid, as-user-extra) are rejected with an error that
 * says so, because ignoring them would connect as another identity.
 *
 * A loaded inf_rest_config holds secrets (token, password, key data):
 * never log its fields other than `server` and `source`.
 */
#ifndef STOWAGE_INF_KUBECONFIG_H
#define STOWAGE_INF_KUBECONFIG_H

#include <stdbool.h>

#include <glib.h>

#include "scoring/error.h"

#define INF_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The ExecCredential API versions client-go supports (v1alpha1 was removed
 * in Kubernetes 1.24). */
#define INF_EXEC_API_V1 "client.authentication.k8s.io/v1"
#define INF_EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

typedef enum inf_exec_interactive {
	INF_EXEC_INTERACTIVE_NEVER = 0,
	INF_EXEC_INTERACTIVE_IF_AVAILABLE,
	INF_EXEC_INTERACTIVE_ALWAYS,
} inf_exec_interactive;

/* users[].user.exec of a kubeconfig (client-go's ExecConfig). */
typedef struct inf_exec_config {
	char *api_version;   /* INF_EXEC_API_V1 or INF_EXEC_API_V1BETA1 */
	/* Looked up in PATH unless it contains a '/'; a relative path with a
	 * '/' is resolved against the kubeconfig's directory, as in
	 * client-go. */
	char *command;
	char **args;         /* NULL-terminated, never NULL */
	char **env;          /* NULL-terminated "NAME=VALUE", never NULL */
	char *install_hint;  /* or NULL */
	bool provide_cluster_info;
	/* stowage never has a terminal, so Always is rejected when loading
	 * and the other modes run the plugin with interactive: false. */
	inf_exec_interactive interactive_mode;
} inf_exec_config;

typedef struct inf_rest_config {
	char *server; /* "https://10.0.0.1:6443", without a trailing '/' */
	char *tls_server_name; /* NULL: the host name in `server` */
	bool insecure_skip_tls_verify;
	char *ca_file;     /* NULL when ca_data is set or for the system CAs */
	GBytes *ca_data;   /* PEM, or NULL */
	char *client_cert_file;
	GBytes *client_cert_data;
	char *client_key_file;
	GBytes *client_key_data;
	char *token;       /* static bearer token, or NULL */
	char *token_file;  /* reread when it changes, so rotation works */
	char *username;    /* basic authentication, with password */
	char *password;
	inf_exec_config *exec; /* credential plugin, or NULL */
	char *proxy_url;   /* NULL: libcurl's *_proxy environment variables */
	bool disable_compression;
	char *namespace;   /* the context's or the pod's namespace, or NULL */
	/* For logs, e.g. "kubeconfig /root/.kube/config, context kind-kind"
	 * or "in-cluster service account". */
	char *source;
} inf_rest_config;

/* Inputs of inf_rest_config_load(); every field may be NULL. */
typedef struct inf_kubeconfig_options {
	const char *kubeconfig;     /* --kubeconfig */
	const char *context;        /* --context */
	const char *kubeconfig_env; /* value of $KUBECONFIG */
	const char *home;           /* value of $HOME */
	const char *service_host;   /* value of $KUBERNETES_SERVICE_HOST */
	const char *service_port;   /* value of $KUBERNETES_SERVICE_PORT */
	/* NULL for INF_SERVICEACCOUNT_DIR; tests point it elsewhere. */
	const char *serviceaccount_dir;
} inf_kubeconfig_options;

/* Zeroes `options` and fills the environment fields from getenv(). The
 * strings are borrowed from the environment. */
void inf_kubeconfig_options_from_env(inf_kubeconfig_options *options);

/* Finds and loads the configuration in the search order above. Errors name
 * the file and what is wrong in it (unknown context, missing server, an
 * unsupported exec plugin) or, when nothing was found, every place that was
 * searched. On success the caller frees `*out` with inf_rest_config_free(). */
int inf_rest_config_load(const inf_kubeconfig_options *options,
			 inf_rest_config **out, score_error *err);

/* Loads the in-cluster configuration alone (step 3 above). */
int inf_rest_config_in_cluster(const inf_kubeconfig_options *options,
			       inf_rest_config **out, score_error *err);

/* Frees an exec configuration. NULL is ignored. */
void inf_exec_config_free(inf_exec_config *exec);

/* Returns a deep copy; the caller frees it with inf_rest_config_free(). */
inf_rest_config *inf_rest_config_copy(const inf_rest_config *config);

void inf_rest_config_free(inf_rest_config *config);

#endif
