/* The `stowage` command: `serve` runs the scheduler extender over HTTP,
 * `demo` shows one filter and prioritize exchange against the built-in demo
 * cluster, `sim` runs the simulator (sim/sim.h), `check` validates policy
 * files (policies/check.h), `version` prints the version.
 *
 * Exit status: 0 on success, 1 when the command fails at run time (a port
 * in use, a cluster file that does not load), 2 for a bad command line.
 * `serve` stopped by SIGTERM or SIGINT exits 0 when every request in
 * progress finished, and 1 when --shutdown-timeout ran out first and
 * requests were closed without a response. */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>

#include "informer/cluster_file.h"
#include "informer/informer.h"
#include "informer/kubeconfig.h"
#include "policies/check.h"
#include "policies/loader.h"
#include "scheduler/extender.h"
#include "scheduler/log.h"
#include "scheduler/metrics.h"
#include "scheduler/server.h"
#include "scoring/quantity.h"
#include "sim/sim.h"

#define EXIT_USAGE 2

/* Scores shown on each decision log line. */
#define DECISION_TOP_SCORES 3

static const char top_usage[] =
	"Usage: stowage COMMAND [OPTION...]\n"
	"\n"
	"Kubernetes scheduler extender that scores nodes by resource "
	"contention.\n"
	"\n"
	"Commands:\n"
	"  serve     run the extender HTTP service for kube-scheduler\n"
	"  demo      send one filter and one prioritize request to an "
	"in-process\n"
	"            server over the built-in demo cluster and print them\n"
	"  sim       replay a workload through the same scoring code "
	"(`stowage sim --help`)\n"
	"  check     validate scheduling policy files: stowage check FILE...\n"
	"  version   print the version\n"
	"  help      print this text, or `stowage help COMMAND` for a "
	"command's\n"
	"            options\n";

/* ---- Command-line options ----------------------------------------------- */

typedef struct cli_options {
	char *listen;
	char *cluster;
	char *kubeconfig;
	char *context;
	char *policy;
	char *url_prefix;
	char *log_format;
	char *log_level;
	char *max_body_bytes;
	int read_timeout_s;
	int threads;
	char *tls_cert;
	char *tls_key;
	char *client_ca;
	int max_connections;
	int max_connections_per_ip;
	char *max_header_bytes;
	int header_timeout_s;
	int shutdown_timeout_s;
} cli_options;

/* What the options parse to. */
typedef struct cli_config {
	sched_server_config server;
	char *url_prefix; /* owned, normalized */
	sched_log_format log_format;
	sched_log_level log_level;
	const char *cluster; /* borrowed from cli_options, NULL for the demo */
	const char *kubeconfig; /* borrowed, NULL when not given */
	const char *context;    /* borrowed, NULL when not given */
	const char *policy;     /* borrowed, NULL when not given */
} cli_config;

static void cli_options_init(cli_options *options)
{
	memset(options, 0, sizeof(*options));
	options->read_timeout_s = SCHED_SERVER_DEFAULT_READ_TIMEOUT_S;
	options->threads = SCHED_SERVER_DEFAULT_THREADS;
	options->max_connections = SCHED_SERVER_DEFAULT_MAX_CONNECTIONS;
	options->max_connections_per_ip = SCHED_SERVER_DEFAULT_MAX_CONNECTIONS_PER_IP;
	options->header_timeout_s = SCHED_SERVER_DEFAULT_HEADER_TIMEOUT_S;
	options->shutdown_timeout_s = SCHED_SERVER_DEFAULT_SHUTDOWN_TIMEOUT_S;
}

static void cli_options_release(cli_options *options)
{
	g_free(options->listen);
	g_free(options->cluster);
	g_free(options->kubeconfig);
	g_free(options->context);
	g_free(options->policy);
	g_free(options->url_prefix);
	g_free(options->log_format);
	g_free(options->log_level);
	g_free(options->max_body_bytes);
	g_free(options->tls_cert);
	g_free(options->tls_key);
	g_free(options->client_ca);
	g_free(options->max_header_bytes);
}

static GOptionContext *serve_context(cli_options *o)
{
	const GOptionEntry entries[] = {
		{"listen", 0, 0, G_OPTION_ARG_STRING, &o->listen,
		 "Address and TCP port to listen on; port 0 picks a free one "
		 "(default " SCHED_SERVER_DEFAULT_LISTEN ")",
		 "ADDR:PORT|[ADDR6]:PORT"},
		{"cluster", 0, 0, G_OPTION_ARG_FILENAME, &o->cluster,
		 "Load nodes, pods, namespaces, NetworkPolicies and Services "
		 "once from this file: one or more YAML documents, or a "
		 "Kubernetes List in YAML or JSON, as `kubectl get nodes,pods "
		 "-A -o yaml` writes it; other kinds are skipped (default: the "
		 "API server when run in a pod, else the built-in demo cluster)",
		 "FILE"},
		{"kubeconfig", 0, 0, G_OPTION_ARG_FILENAME, &o->kubeconfig,
		 "Keep the model current by listing and watching nodes, pods, "
		 "namespaces, NetworkPolicies and Services on the API server "
		 "this kubeconfig names, and bind pods through it",
		 "FILE"},
		{"policy", 0, 0, G_OPTION_ARG_FILENAME, &o->policy,
		 "Score with this SchedulingPolicy file (or a ConfigMap holding "
		 "one), reloaded on SIGHUP and when the file changes; a broken "
		 "edit keeps the running policy (default: kube-scheduler's "
		 "resource scoring only)",
		 "FILE"},
		{"context", 0, 0, G_OPTION_ARG_STRING, &o->context,
		 "Kubeconfig context to use (default: its current-context); "
		 "without --kubeconfig, the configuration is searched in "
		 "$KUBECONFIG, then the in-cluster service account, then "
		 "~/.kube/config",
		 "NAME"},
		{"url-prefix", 0, 0, G_OPTION_ARG_STRING, &o->url_prefix,
		 "Path before the verbs, matching urlPrefix in the "
		 "KubeSchedulerConfiguration (default: none, so POST /filter)",
		 "/PREFIX"},
		{"log-format", 0, 0, G_OPTION_ARG_STRING, &o->log_format,
		 "Log line format on standard error: text or json (default "
		 "text)",
		 "FORMAT"},
		{"log-level", 0, 0, G_OPTION_ARG_STRING, &o->log_level,
		 "Lowest level logged: debug, info, warn or error (default "
		 "info; debug adds one line per HTTP request)",
		 "LEVEL"},
		{"max-body-bytes", 0, 0, G_OPTION_ARG_STRING,
		 &o->max_body_bytes,
		 "Largest request body accepted, in bytes; suffixes such as "
		 "Mi and Gi are allowed; larger bodies get 413 (default "
		 "128Mi, sized for about 5,000 full Node objects)",
		 "BYTES"},
		{"read-timeout", 0, 0, G_OPTION_ARG_INT, &o->read_timeout_s,
		 "Seconds a connection may send nothing, mid-request or idle "
		 "between requests, before it is closed (default 30)",
		 "SECONDS"},
		{"threads", 0, 0, G_OPTION_ARG_INT, &o->threads,
		 "HTTP worker threads, 1 to 256 (default 4)", "N"},
		{"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert,
		 "Serve HTTPS with this PEM certificate (the server certificate "
		 "first, then its intermediates); needs --tls-key; read again "
		 "when the file changes and on SIGHUP",
		 "FILE"},
		{"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key,
		 "PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1, "
		 "unencrypted); read again when the file changes and on SIGHUP",
		 "FILE"},
		{"client-ca", 0, 0, G_OPTION_ARG_FILENAME, &o->client_ca,
		 "Require client certificates signed by a CA in this PEM file, "
		 "as kube-scheduler's tlsConfig certFile and keyFile send them; "
		 "needs --tls-cert",
		 "FILE"},
		{"max-connections", 0, 0, G_OPTION_ARG_INT, &o->max_connections,
		 "Maximum number of client connections open at once; more wait "
		 "until one closes (default 512, at least --threads)",
		 "N"},
		{"max-connections-per-ip", 0, 0, G_OPTION_ARG_INT,
		 &o->max_connections_per_ip,
		 "Maximum number of connections from one client address; more "
		 "are closed at once; 0 for no limit (default 128)",
		 "N"},
		{"max-header-bytes", 0, 0, G_OPTION_ARG_STRING, &o->max_header_bytes,
		 "Memory for each connection's request line, headers and I/O "
		 "buffers; suffixes such as Ki are allowed; larger request heads "
		 "get 431 (default 32Ki, from 4Ki to 1Mi)",
		 "BYTES"},
		{"header-timeout", 0, 0, G_OPTION_ARG_INT, &o->header_timeout_s,
		 "Seconds a connection may take to send complete request headers, "
		 "TLS handshake included, counted from accept or from the end of "
		 "its previous request (default 10)",
		 "SECONDS"},
		{"shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &o->shutdown_timeout_s,
		 "Seconds to wait after SIGTERM for requests in progress before "
		 "closing their connections and exiting with status 1; keep it "
		 "below the pod's terminationGracePeriodSeconds (default 20)",
		 "SECONDS"},
		{NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL},
	};
	GOptionContext *context = g_option_context_new("- run the extender");

	g_option_context_set_summary(
		context,
		"Serves kube-scheduler's extender verbs (POST /filter, "
		"/prioritize,\n/preempt, /bind under --url-prefix), plus GET "
		"/healthz, /readyz and /metrics.\nStops on SIGINT or SIGTERM "
		"after the requests in progress finish, or after\n"
		"--shutdown-timeout. SIGHUP reloads the policy file and the TLS "
		"files.");
	g_option_context_add_main_entries(context, entries, NULL);
	return context;
}

static GOptionContext *demo_context(cli_options *o)
{
	const GOptionEntry entries[] = {
		{"log-format", 0, 0, G_OPTION_ARG_STRING, &o->log_format,
		 "Log line format on standard error: text or json (default "
		 "text)",
		 "FORMAT"},
		{"log-level", 0, 0, G_OPTION_ARG_STRING, &o->log_level,
		 "Lowest level logged: debug, info, warn or error (default "
		 "info)",
		 "LEVEL"},
		{NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL},
	};
	GOptionContext *context = g_option_context_new("- show a decision");

	g_option_context_set_summary(
		context,
		"Starts the extender on 127.0.0.1 with a free port and the "
		"built-in demo\ncluster, sends the filter and prioritize "
		"requests kube-scheduler would send\nfor a pod requesting 3 "
		"CPUs, prints each request and response on standard\noutput "
		"and the decision log lines on standard error, then stops.");
	g_option_context_add_main_entries(context, entries, NULL);
	return context;
}

static GOptionContext *command_context(const char *command, cli_options *o)
{
	GOptionContext *context;

	if (strcmp(command, "serve") == 0)
		context = serve_context(o);
	else if (strcmp(command, "demo") == 0)
		context = demo_context(o);
	else
		return NULL;
	g_option_context_set_help_enabled(context, TRUE);
	return context;
}

/* Parses a byte count: plain digits or a Kubernetes quantity ("64Mi"). */
static int parse_byte_count(const char *text, size_t *out, score_error *err)
{
	int64_t value;

	if (score_quantity_parse_value(text, &value, err) < 0)
		return err->code;
	if (value <= 0 || (uint64_t)value > SCHED_SERVER_MAX_BODY_LIMIT)
		return score_fail(err, -ERANGE,
				  "out of range: give a number of bytes from 1 "
				  "to %zu",
				  SCHED_SERVER_MAX_BODY_LIMIT);
	*out = (size_t)value;
	return 0;
}

/* Converts the parsed options; on a bad value prints what is wrong, naming
 * the option and the value, and returns -EINVAL. */
static int validate_options(const char *command, const cli_options *o,
			    cli_config *config)
{
	score_error err = {0};
	struct sockaddr_storage addr;
	socklen_t addr_len;

	sched_server_config_init(&config->server);
	config->log_format = SCHED_LOG_TEXT;
	config->log_level = SCHED_LOG_INFO;
	config->cluster = o->cluster;
	config->kubeconfig = o->kubeconfig;
	config->context = o->context;
	config->policy = o->policy;

	if (o->cluster != NULL && (o->kubeconfig != NULL || o->context != NULL)) {
		fprintf(stderr,
			"stowage %s: --cluster cannot be combined with --kubeconfig or "
			"--context: choose a snapshot file or a live API server\n",
			command);
		return -EINVAL;
	}

	if (o->log_format != NULL &&
	    sched_log_parse_format(o->log_format, &config->log_format) < 0) {
		fprintf(stderr,
			"stowage %s: invalid value \"%s\" for --log-format: "
			"use text or json\n",
			command, o->log_format);
		return -EINVAL;
	}
	if (o->log_level != NULL &&
	    sched_log_parse_level(o->log_level, &config->log_level) < 0) {
		fprintf(stderr,
			"stowage %s: invalid value \"%s\" for --log-level: "
			"use debug, info, warn or error\n",
			command, o->log_level);
		return -EINVAL;
	}
	if (o->listen != NULL) {
		if (sched_server_parse_listen(o->listen, &addr, &addr_len,
					      &err) < 0) {
			fprintf(stderr, "stowage %s: --listen: %s\n", command,
				err.message);
			return -EINVAL;
		}
		config->server.listen = o->listen;
	}
	if (sched_server_normalize_prefix(o->url_prefix, &config->url_prefix,
					  &err) < 0) {
		fprintf(stderr, "stowage %s: --url-prefix: %s\n", command,
			err.message);
		return -EINVAL;
	}
	config->server.url_prefix = config->url_prefix;
	if (o->max_body_bytes != NULL &&
	    parse_byte_count(o->max_body_bytes, &config->server.max_body_bytes,
			     &err) < 0) {
		fprintf(stderr,
			"stowage %s: invalid value \"%s\" for "
			"--max-body-bytes: %s\n",
			command, o->max_body_bytes, err.message);
		return -EINVAL;
	}
	if (o->read_timeout_s <= 0) {
		fprintf(stderr,
			"stowage %s: invalid value %d for --read-timeout: give "
			"a positive number of seconds\n",
			command, o->read_timeout_s);
		return -EINVAL;
	}
	config->server.read_timeout_s = (unsigned)o->read_timeout_s;
	if (o->threads < 1 || o->threads > SCHED_SERVER_MAX_THREADS) {
		fprintf(stderr,
			"stowage %s: invalid value %d for --threads: give a "
			"number from 1 to %d\n",
			command, o->threads, SCHED_SERVER_MAX_THREADS);
		return -EINVAL;
	}
	config->server.threads = (unsigned)o->threads;

	/* sched_server_start() checks the ranges and names these flags;
	 * negative numbers must not reach its unsigned fields. */
	if (o->shutdown_timeout_s <= 0 ||
	    o->shutdown_timeout_s > SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S) {
		fprintf(stderr,
			"stowage %s: invalid value %d for --shutdown-timeout: give "
			"a number of seconds from 1 to %d, below the pod's "
			"terminationGracePeriodSeconds\n",
			command, o->shutdown_timeout_s,
			SCHED_SERVER_MAX_SHUTDOWN_TIMEOUT_S);
		return -EINVAL;
	}
	config->server.shutdown_timeout_s = (unsigned)o->shutdown_timeout_s;
	if (o->max_connections < 0 || o->max_connections_per_ip < 0 ||
	    o->header_timeout_s <= 0) {
		fprintf(stderr,
			"stowage %s: invalid value for --max-connections (%d), "
			"--max-connections-per-ip (%d) or --header-timeout (%d): "
			"give non-negative numbers, and a positive number of seconds "
			"for --header-timeout\n",
			command, o->max_connections, o->max_connections_per_ip,
			o->header_timeout_s);
		return -EINVAL;
	}
	config->server.max_connections = (unsigned)o->max_connections;
	config->server.max_connections_per_ip = (unsigned)o->max_connections_per_ip;
	config->server.header_timeout_s = (unsigned)o->header_timeout_s;
	if (o->max_header_bytes != NULL &&
	    parse_byte_count(o->max_header_bytes, &config->server.max_header_bytes,
			     &err) < 0) {
		fprintf(stderr,
			"stowage %s: invalid value \"%s\" for --max-header-bytes: %s\n",
			command, o->max_header_bytes, err.message);
		return -EINVAL;
	}
	/* sched_server_start() checks this range too, but a bad option is a
	 * usage error, found before anything starts. */
	if (config->server.max_header_bytes < SCHED_SERVER_MIN_HEADER_BYTES ||
	    config->server.max_header_bytes > SCHED_SERVER_MAX_HEADER_LIMIT) {
		fprintf(stderr,
			"stowage %s: invalid value \"%s\" for --max-header-bytes: give a "
			"number of bytes from %zu (4Ki) to %zu (1Mi)\n",
			command, o->max_header_bytes, SCHED_SERVER_MIN_HEADER_BYTES,
			SCHED_SERVER_MAX_HEADER_LIMIT);
		return -EINVAL;
	}
	config->server.tls_cert_file = o->tls_cert;
	config->server.tls_key_file = o->tls_key;
	config->server.client_ca_file = o->client_ca;
	return 0;
}

/* Parses argv (argv[0] is the command name) into `config`. Returns 0, or
 * EXIT_USAGE after printing the problem. */
static int parse_command_line(const char *command, int argc, char **argv,
			      cli_options *options, cli_config *config)
{
	GOptionContext *context = command_context(command, options);
	GError *error = NULL;
	char *prgname = g_strdup_printf("stowage %s", command);
	int ret = EXIT_USAGE;

	/* The usage line of --help names the program and the command. */
	g_set_prgname(prgname);

	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr,
			"stowage %s: %s\nRun `stowage help %s` for the "
			"options.\n",
			command, error->message, command);
		goto out;
	}
	if (argc > 1) {
		fprintf(stderr,
			"stowage %s: unexpected argument \"%s\"; the command "
			"takes options only\n",
			command, argv[1]);
		goto out;
	}
	if (validate_options(command, options, config) < 0)
		goto out;
	ret = 0;

out:
	g_set_prgname("stowage");
	g_free(prgname);
	g_clear_error(&error);
	g_option_context_free(context);
	return ret;
}

/* ---- serve -------------------------------------------------------------- */

/* Loads the cluster into the model under the write lock. */
static int load_cluster(sched_cluster *cluster, const char *path,
			sched_log *log)
{
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	inf_cluster_counts counts = {0};
	score_error err = {0};
	size_t nodes;
	size_t pods;
	int ret;

	g_rw_lock_writer_lock(&cluster->lock);
	if (path != NULL)
		ret = inf_load_cluster_file_with_warnings(path, cluster->model,
							  &counts, warnings, &err);
	else
		ret = inf_load_demo_cluster(cluster->model, &err);
	nodes = score_model_node_count(cluster->model);
	pods = score_model_pod_count(cluster->model);
	g_rw_lock_writer_unlock(&cluster->lock);

	for (guint i = 0; i < warnings->len; i++)
		SCHED_LOG(log, SCHED_LOG_WARN, "model", "cluster file warning",
			  SCHED_STR("source", path),
			  SCHED_STR("warning", g_ptr_array_index(warnings, i)));
	g_ptr_array_unref(warnings);

	if (ret < 0) {
		SCHED_LOG(log, SCHED_LOG_ERROR, "model",
			  "failed to load the cluster",
			  SCHED_STR("source", path != NULL ? path : "demo"),
			  SCHED_STR("error", err.message));
		return ret;
	}
	/* A warning: a kube-scheduler pointed at the demo cluster would see
	 * every real node rejected as unknown. */
	if (path == NULL)
		SCHED_LOG(log, SCHED_LOG_WARN, "model",
			  "serving the built-in demo cluster, not a real one; pass "
			  "--kubeconfig, or --cluster FILE, for real decisions",
			  SCHED_INT("nodes", (int64_t)nodes),
			  SCHED_INT("pods", (int64_t)pods));
	else
		SCHED_LOG(log, SCHED_LOG_INFO, "model", "loaded the cluster",
			  SCHED_STR("source", path),
			  SCHED_INT("nodes", (int64_t)nodes),
			  SCHED_INT("pods", (int64_t)pods),
			  SCHED_INT("namespaces", (int64_t)counts.namespaces),
			  SCHED_INT("network_policies", (int64_t)counts.network_policies),
			  SCHED_INT("services", (int64_t)counts.services),
			  SCHED_INT("skipped_objects", (int64_t)counts.skipped));
	return 0;
}

/* How often the serve loop expires stale assumptions and checks the
 * informer's sync. */
#define SERVE_TICK_MS 1000
/* How often an unsynced informer's last error is logged. */
#define SYNC_REPORT_MS 10000
/* How long a POST /bind may take, retries included: below kube-scheduler's
 * default extender httpTimeout of 5 s. */
#define BIND_DEADLINE_MS 4000

/* Picks the API server configuration: --kubeconfig or --context, else the
 * pod's service account when running in a cluster. Sets `*rest` to NULL
 * when neither applies, which selects the demo cluster. */
static int load_rest_config(const cli_config *config, inf_rest_config **rest,
			    score_error *err)
{
	inf_kubeconfig_options options;

	*rest = NULL;
	inf_kubeconfig_options_from_env(&options);
	if (config->kubeconfig != NULL || config->context != NULL) {
		options.kubeconfig = config->kubeconfig;
		options.context = config->context;
		return inf_rest_config_load(&options, rest, err);
	}
	if (config->cluster == NULL && options.service_host != NULL &&
	    options.service_host[0] != '\0')
		return inf_rest_config_in_cluster(&options, rest, err);
	return 0;
}

static int start_informer(sched_cluster *cluster, const inf_rest_config *rest,
			  sched_log *log, inf_informer **out)
{
	inf_informer_config config = {
		.rest = rest,
		.model = cluster->model,
		.lock = &cluster->lock,
		.log = log,
		.bind_deadline_ms = BIND_DEADLINE_MS,
	};
	score_error err = {0};

	SCHED_LOG(log, SCHED_LOG_INFO, "informer", "connecting",
		  SCHED_STR("server", rest->server),
		  SCHED_STR("source", rest->source));
	if (inf_informer_start(&config, out, &err) < 0) {
		SCHED_LOG(log, SCHED_LOG_ERROR, "informer", "failed to start",
			  SCHED_STR("server", rest->server),
			  SCHED_STR("error", err.message));
		return err.code;
	}
	return 0;
}

/* Logs each warning of a policy parse. The errors go on the one line
 * that reports the failed load. */
static void log_policy_warnings(sched_log *log, const pol_diagnostics *diagnostics)
{
	for (guint i = 0; diagnostics->warnings != NULL && i < diagnostics->warnings->len; i++)
		SCHED_LOG(log, SCHED_LOG_WARN, "policy", "policy warning",
			  SCHED_STR("warning", g_ptr_array_index(diagnostics->warnings, i)));
}

/* Logs a failed policy load as one line: `error` is the first error and
 * how many more there are, and `errors` lists them all. */
static void log_policy_failure(sched_log *log, const char *message,
			       const char *path, const char *trigger,
			       const pol_diagnostics *diagnostics,
			       const score_error *err)
{
	cJSON *errors = cJSON_CreateArray();

	for (guint i = 0; errors != NULL && diagnostics->errors != NULL &&
			  i < diagnostics->errors->len; i++)
		cJSON_AddItemToArray(errors, cJSON_CreateString(
					     g_ptr_array_index(diagnostics->errors, i)));
	if (trigger != NULL)
		SCHED_LOG(log, SCHED_LOG_ERROR, "policy", message,
			  SCHED_STR("path", path), SCHED_STR("trigger", trigger),
			  SCHED_STR("error", err->message),
			  SCHED_JSON("errors", errors));
	else
		SCHED_LOG(log, SCHED_LOG_ERROR, "policy", message,
			  SCHED_STR("path", path), SCHED_STR("error", err->message),
			  SCHED_JSON("errors", errors));
	cJSON_Delete(errors);
}

/* Reloads the policy (on SIGHUP, or when the watch fires with
 * `from_watch`) and logs the outcome. A failed reload keeps the running
 * policy. */
static void reload_policy(pol_loader *loader, bool from_watch, sched_log *log)
{
	const char *trigger = from_watch ? "file change" : "SIGHUP";
	uint64_t unchanged = pol_loader_reloads(loader, POL_RELOAD_UNCHANGED);
	pol_diagnostics diagnostics;
	score_error err = {0};
	pol_policy *policy;
	bool changed = false;
	int rc;

	pol_diagnostics_init(&diagnostics);
	if (from_watch) {
		rc = pol_loader_dispatch(loader, &diagnostics, &err);
		changed = rc == 1;
	} else {
		rc = pol_loader_reload(loader, &changed, &diagnostics, &err);
	}
	log_policy_warnings(log, &diagnostics);
	if (rc < 0) {
		log_policy_failure(log, "reload failed; keeping the running policy",
				   pol_loader_path(loader), trigger,
				   &diagnostics, &err);
		goto out;
	}

	/* A watch event that does not concern the policy file reloads
	 * nothing, and logs nothing. */
	if (!changed && pol_loader_reloads(loader, POL_RELOAD_UNCHANGED) == unchanged)
		goto out;
	policy = pol_loader_current(loader);
	SCHED_LOG(log, SCHED_LOG_INFO, "policy",
		  changed ? "policy reloaded" : "policy unchanged",
		  SCHED_STR("path", pol_loader_path(loader)),
		  SCHED_STR("name", pol_policy_name(policy)),
		  SCHED_STR("digest", pol_policy_digest(policy)),
		  SCHED_STR("trigger", trigger));
	pol_policy_unref(policy);

out:
	pol_diagnostics_release(&diagnostics);
}

/* A pol_prepare_fn: builds a new policy's caches against the model before
 * the policy takes requests. */
static void warm_policy(void *data, pol_policy *policy)
{
	sched_cluster *cluster = data;

	g_rw_lock_reader_lock(&cluster->lock);
	pol_policy_warm(policy, cluster->model);
	g_rw_lock_reader_unlock(&cluster->lock);
}

/* Builds the current policy's caches once the model contains the cluster,
 * because the policy was loaded, and warmed, while the model was empty. */
static void warm_current_policy(sched_cluster *cluster)
{
	pol_policy *policy;

	if (cluster->policy == NULL)
		return;
	policy = pol_loader_current(cluster->policy);
	if (policy != NULL)
		warm_policy(cluster, policy);
	pol_policy_unref(policy);
}

/* Loads the policy before the server is ready; a broken file stops the
 * start, because there is no running policy to fall back on. */
static int load_policy(sched_cluster *cluster, const char *path, sched_log *log,
		       pol_loader **out)
{
	pol_loader *loader = pol_loader_new(path, cluster->resources);
	pol_diagnostics diagnostics;
	score_error err = {0};
	pol_policy *policy;
	int rc;

	pol_loader_set_prepare(loader, warm_policy, cluster);
	pol_diagnostics_init(&diagnostics);
	rc = pol_loader_reload(loader, NULL, &diagnostics, &err);
	log_policy_warnings(log, &diagnostics);
	if (rc < 0)
		log_policy_failure(log, "failed to load the policy", path, NULL,
				   &diagnostics, &err);
	pol_diagnostics_release(&diagnostics);
	if (rc < 0) {
		pol_loader_free(loader);
		return rc;
	}
	if (pol_loader_watch(loader, &err) < 0)
		SCHED_LOG(log, SCHED_LOG_WARN, "policy",
			  "cannot watch the policy file; reload it with SIGHUP",
			  SCHED_STR("path", path), SCHED_STR("error", err.message));

	policy = pol_loader_current(loader);
	SCHED_LOG(log, SCHED_LOG_INFO, "policy", "loaded the policy",
		  SCHED_STR("path", path), SCHED_STR("name", pol_policy_name(policy)),
		  SCHED_STR("digest", pol_policy_digest(policy)));
	pol_policy_unref(policy);
	*out = loader;
	return 0;
}

/* Drops assumptions older than the hot-spot window. */
static void expire_assumptions(sched_cluster *cluster, sched_log *log)
{
	size_t expired;

	g_rw_lock_writer_lock(&cluster->lock);
	expired = score_model_expire_assumed(cluster->model,
					     g_get_monotonic_time() / 1000,
					     cluster->assumed_ttl_ms);
	g_rw_lock_writer_unlock(&cluster->lock);
	if (expired > 0)
		SCHED_LOG(log, SCHED_LOG_INFO, "model",
			  "dropped assumptions the API server never confirmed",
			  SCHED_INT("pods", (int64_t)expired),
			  SCHED_INT("ttl_ms", cluster->assumed_ttl_ms));
}

/* Turns /readyz on once the informer has synced, and logs the last error
 * every SYNC_REPORT_MS while it has not. */
static void check_sync(sched_cluster *cluster, sched_server *server,
		       inf_informer *informer, int64_t *waited_ms, sched_log *log)
{
	score_error err = {0};

	if (informer == NULL || sched_server_ready(server))
		return;
	if (inf_informer_synced(informer)) {
		warm_current_policy(cluster);
		sched_server_set_ready(server, true);
		SCHED_LOG(log, SCHED_LOG_INFO, "main", "ready: initial lists synced",
			  SCHED_STR("address", sched_server_address(server)));
		return;
	}
	*waited_ms += SERVE_TICK_MS;
	if (*waited_ms % SYNC_REPORT_MS != 0)
		return;
	inf_informer_wait_synced(informer, 0, &err);
	SCHED_LOG(log, SCHED_LOG_WARN, "informer", "not synced yet; /readyz stays 503",
		  SCHED_INT("waited_s", *waited_ms / 1000), SCHED_STR("error", err.message));
}

/* Reloads the TLS files on SIGHUP; a failure keeps the running
 * certificate. */
static void reload_tls(sched_server *server, sched_log *log)
{
	score_error err = {0};

	if (sched_server_reload_tls(server, &err) < 0)
		SCHED_LOG(log, SCHED_LOG_ERROR, "tls",
			  "reload failed; still serving the previous certificate",
			  SCHED_STR("trigger", "SIGHUP"),
			  SCHED_STR("error", err.message));
}

static void handle_sighup(sched_cluster *cluster, sched_server *server, sched_log *log)
{
	if (cluster->policy != NULL)
		reload_policy(cluster->policy, false, log);
	if (sched_server_uses_tls(server))
		reload_tls(server, log);
	if (cluster->policy == NULL && !sched_server_uses_tls(server))
		SCHED_LOG(log, SCHED_LOG_INFO, "main",
			  "SIGHUP ignored: no --policy file and no TLS files to reload",
			  SCHED_STR("signal", "SIGHUP"));
}

/* Returns the name of a signal serve reads from its signalfd. */
static const char *signal_name(int signal_number)
{
	switch (signal_number) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGUSR1:
		return "SIGUSR1";
	case SIGUSR2:
		return "SIGUSR2";
	default:
		return "unknown";
	}
}

/* Runs until SIGINT or SIGTERM and returns it. SIGHUP reloads the policy
 * and the TLS files; SIGUSR1 and SIGUSR2, which would end the process by
 * default, are logged and ignored. A change to the policy file reloads
 * the policy. Once
 * a second it drops stale assumptions and checks the informer's sync. The
 * signals are blocked in every thread and read from a signalfd, so no
 * handler runs. */
static int serve_until_stopped(int signal_fd, sched_cluster *cluster,
			       sched_server *server, inf_informer *informer,
			       sched_log *log)
{
	int watch_fd = -1;
	int64_t waited_ms = 0;
	int64_t next_tick = g_get_monotonic_time() + SERVE_TICK_MS * 1000;

	if (cluster->policy != NULL)
		watch_fd = pol_loader_watch(cluster->policy, NULL);

	for (;;) {
		struct pollfd fds[2] = {
			{.fd = signal_fd, .events = POLLIN},
			{.fd = watch_fd, .events = POLLIN},
		};
		int64_t left_ms = (next_tick - g_get_monotonic_time()) / 1000;
		int ready = poll(fds, watch_fd >= 0 ? 2 : 1, (int)MAX(left_ms, 0));

		if (ready > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo info;

			if (read(signal_fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
				if (info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM)
					return (int)info.ssi_signo;
				if (info.ssi_signo == SIGHUP)
					handle_sighup(cluster, server, log);
				else
					SCHED_LOG(log, SCHED_LOG_INFO, "main", "ignoring signal",
						  SCHED_STR("signal", signal_name((int)info.ssi_signo)),
						  SCHED_INT("sender_pid", (int64_t)info.ssi_pid));
			}
		}
		if (ready > 0 && watch_fd >= 0 && (fds[1].revents & POLLIN))
			reload_policy(cluster->policy, true, log);

		if (g_get_monotonic_time() < next_tick)
			continue;
		next_tick += SERVE_TICK_MS * 1000;
		expire_assumptions(cluster, log);
		check_sync(cluster, server, informer, &waited_ms, log);
	}
}

/* Seconds the stop may take beyond --shutdown-timeout: a handler still
 * running at the deadline (a /bind, at most BIND_DEADLINE_MS), then
 * stopping the informer. 20 s by default plus this stays under
 * Kubernetes' default grace period of 30 s. */
#define STOP_MARGIN_S 8

/* Ends the process when the stop hangs, so that it exits with a log line
 * before the kubelet's SIGKILL, which would leave no trace. */
typedef struct stop_watchdog {
	GMutex lock;
	GCond finished_cond;
	bool finished;
	gint64 deadline_us; /* monotonic */
	unsigned limit_s;
	sched_log *log;     /* borrowed */
	GThread *thread;
} stop_watchdog;

static gpointer run_stop_watchdog(gpointer data)
{
	stop_watchdog *w = data;
	bool finished;

	g_mutex_lock(&w->lock);
	while (!w->finished) {
		if (!g_cond_wait_until(&w->finished_cond, &w->lock, w->deadline_us))
			break;
	}
	finished = w->finished;
	g_mutex_unlock(&w->lock);
	if (!finished) {
		SCHED_LOG(w->log, SCHED_LOG_ERROR, "main",
			  "stop did not finish in time; exiting without it",
			  SCHED_INT("limit_s", w->limit_s),
			  SCHED_INT("exit_status", EXIT_FAILURE));
		_exit(EXIT_FAILURE);
	}
	return NULL;
}

static void stop_watchdog_start(stop_watchdog *w, unsigned limit_s, sched_log *log)
{
	g_mutex_init(&w->lock);
	g_cond_init(&w->finished_cond);
	w->finished = false;
	w->limit_s = limit_s;
	w->deadline_us = g_get_monotonic_time() + (gint64)limit_s * G_USEC_PER_SEC;
	w->log = log;
	w->thread = g_thread_new("stop-watchdog", run_stop_watchdog, w);
}

/* Call before the log is freed. Does nothing when the watchdog was never
 * started. */
static void stop_watchdog_finish(stop_watchdog *w)
{
	if (w->thread == NULL)
		return;
	g_mutex_lock(&w->lock);
	w->finished = true;
	g_cond_signal(&w->finished_cond);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	w->thread = NULL;
	g_cond_clear(&w->finished_cond);
	g_mutex_clear(&w->lock);
}

static int cmd_serve(int argc, char **argv)
{
	cli_options options;
	cli_config config = {0};
	sched_cluster cluster;
	sched_extender extender = {0};
	sched_metrics *metrics = NULL;
	sched_server *server = NULL;
	sched_log *log = NULL;
	inf_rest_config *rest = NULL;
	inf_informer *informer = NULL;
	pol_loader *policy = NULL;
	score_error err = {0};
	stop_watchdog watchdog = {0};
	sigset_t signals;
	int signal_fd = -1;
	int signal_number = 0;
	int ret;

	cli_options_init(&options);
	ret = parse_command_line("serve", argc, argv, &options, &config);
	if (ret != 0)
		goto out_options;

	/* Block the signals before any thread starts, so that every thread
	 * inherits the mask and only the signalfd receives them. A shell
	 * starts background jobs with SIGINT ignored, and an ignored signal
	 * is discarded even while blocked, so restore the default first. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	/* A write to a closed connection or a closed log pipe then fails with
	 * EPIPE instead of ending the process. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	sigaddset(&signals, SIGUSR1);
	sigaddset(&signals, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (signal_fd < 0) {
		fprintf(stderr, "stowage serve: signalfd failed: %s\n", g_strerror(errno));
		ret = EXIT_FAILURE;
		goto out_options;
	}

	log = sched_log_new(stderr, config.log_format, config.log_level);
	sched_cluster_init(&cluster);
	metrics = sched_metrics_new();
	extender.cluster = &cluster;
	extender.log = log;
	extender.top_scores = DECISION_TOP_SCORES;

	SCHED_LOG(log, SCHED_LOG_INFO, "main", "starting",
		  SCHED_STR("version", STOWAGE_VERSION));
	if (config.policy != NULL) {
		if (load_policy(&cluster, config.policy, log, &policy) < 0) {
			ret = EXIT_FAILURE;
			goto out;
		}
		cluster.policy = policy;
		sched_metrics_add_collector(metrics, sched_metrics_render_policy,
					    policy);
	}
	if (load_rest_config(&config, &rest, &err) < 0) {
		SCHED_LOG(log, SCHED_LOG_ERROR, "main",
			  "failed to load the API server configuration",
			  SCHED_STR("error", err.message));
		ret = EXIT_FAILURE;
		goto out;
	}
	if (sched_server_start(&config.server, &extender, metrics, log,
			       &server, &err) < 0) {
		SCHED_LOG(log, SCHED_LOG_ERROR, "main",
			  "failed to start the HTTP server",
			  SCHED_STR("error", err.message));
		ret = EXIT_FAILURE;
		goto out;
	}

	/* /healthz responds while the model loads, /readyz only after. */
	if (rest != NULL) {
		if (start_informer(&cluster, rest, log, &informer) < 0) {
			ret = EXIT_FAILURE;
			goto out;
		}
		extender.bind = inf_informer_bind;
		extender.bind_data = informer;
		/* No removal needed: the server, which serves /metrics, is
		 * freed before the informer. */
		sched_metrics_add_collector(metrics, inf_informer_render_metrics, informer);
	} else {
		if (load_cluster(&cluster, config.cluster, log) < 0) {
			ret = EXIT_FAILURE;
			goto out;
		}
		warm_current_policy(&cluster);
		sched_server_set_ready(server, true);
		SCHED_LOG(log, SCHED_LOG_INFO, "main", "ready",
			  SCHED_STR("address", sched_server_address(server)));
	}

	signal_number = serve_until_stopped(signal_fd, &cluster, server, informer, log);
	SCHED_LOG(log, SCHED_LOG_INFO, "main",
		  "stopping: no new connections, finishing requests in "
		  "progress",
		  SCHED_STR("signal", signal_name(signal_number)),
		  SCHED_INT("shutdown_timeout_s", config.server.shutdown_timeout_s));
	stop_watchdog_start(&watchdog, config.server.shutdown_timeout_s + STOP_MARGIN_S, log);
	sched_server_stop(server);
	ret = sched_server_abandoned_requests(server) > 0 ? EXIT_FAILURE : EXIT_SUCCESS;

out:
	/* The server first: a /bind in progress may still use the informer. */
	sched_server_free(server);
	inf_informer_free(informer);
	inf_rest_config_free(rest);
	cluster.policy = NULL;
	pol_loader_free(policy);
	if (signal_number != 0)
		SCHED_LOG(log, SCHED_LOG_INFO, "main", "stopped",
			  SCHED_INT("exit_status", ret));
	sched_metrics_free(metrics);
	sched_cluster_release(&cluster);
	stop_watchdog_finish(&watchdog);
	sched_log_free(log);
out_options:
	if (signal_fd >= 0)
		close(signal_fd);
	g_free(config.url_prefix);
	cli_options_release(&options);
	return ret;
}

/* ---- demo --------------------------------------------------------------- */

/* A pending pod as kube-scheduler puts it in ExtenderArgs: the full v1.Pod
 * after admission, with the default tolerations and the service account
 * volume added. It requests 3 CPUs and 2Gi of memory. */
static const char demo_pod_json[] =
	"{\"metadata\":{\"name\":\"web-5f7d8c9b4-x2lqp\",\"generateName\":"
	"\"web-5f7d8c9b4-\",\"namespace\":\"default\",\"uid\":"
	"\"6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f\",\"resourceVersion\":"
	"\"4711\",\"creationTimestamp\":\"2026-12-04T20:14:30Z\",\"labels\":"
	"{\"app\":\"web\",\"pod-template-hash\":\"5f7d8c9b4\"},"
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
	"\"ReplicaSet\",\"name\":\"web-5f7d8c9b4\",\"uid\":"
	"\"0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b\",\"controller\":true,"
	"\"blockOwnerDeletion\":true}]},"
	"\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-7qz2m\","
	"\"projected\":{\"sources\":[{\"serviceAccountToken\":"
	"{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":"
	"{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\","
	"\"path\":\"ca.crt\"}]}}],\"defaultMode\":420}}],"
	"\"containers\":[{\"name\":\"web\",\"image\":"
	"\"registry.k8s.io/pause:3.9\",\"resources\":{\"requests\":"
	"{\"cpu\":\"3\",\"memory\":\"2Gi\"}},\"volumeMounts\":[{\"name\":"
	"\"kube-api-access-7qz2m\",\"readOnly\":true,\"mountPath\":"
	"\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
	"\"terminationMessagePath\":\"/dev/termination-log\","
	"\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
	"\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
	"\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
	"\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\","
	"\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
	"\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
	"\"operator\":\"Exists\",\"effect\":\"NoExecute\","
	"\"tolerationSeconds\":300},{\"key\":"
	"\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
	"\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
	"\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":"
	"\"PreemptLowerPriority\"},"
	"\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}";

static size_t collect_body(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

/* POSTs `body` to `url` the way kube-scheduler's extender client does and
 * stores the status and the response body. Returns 0, or -EIO after
 * printing the curl error. */
static int demo_post(const char *url, const char *body, long *status,
		     GString *response)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char curl_error[CURL_ERROR_SIZE] = "";
	CURLcode code;
	int ret = -EIO;

	if (curl == NULL) {
		fprintf(stderr, "stowage demo: failed to create a curl "
				"handle\n");
		return -EIO;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	/* Go's HTTP client sends no Expect: 100-continue. */
	headers = curl_slist_append(headers, "Expect:");

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* loopback, no proxy */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(body));
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);

	code = curl_easy_perform(curl);
	if (code != CURLE_OK) {
		fprintf(stderr, "stowage demo: POST %s failed: %s\n", url,
			curl_error[0] != '\0' ? curl_error
					      : curl_easy_strerror(code));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	ret = 0;

out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return ret;
}

/* Returns the names of the nodes in the model, sorted, as a JSON array;
 * the caller frees it with cJSON_Delete(). NULL when cJSON fails. */
static cJSON *demo_node_names(sched_cluster *cluster)
{
	cJSON *names = cJSON_CreateArray();
	GPtrArray *nodes;

	if (names == NULL)
		return NULL;
	g_rw_lock_reader_lock(&cluster->lock);
	nodes = score_model_sorted_nodes(cluster->model);
	for (guint i = 0; i < nodes->len; i++) {
		const score_node *node = g_ptr_array_index(nodes, i);

		cJSON_AddItemToArray(names, cJSON_CreateString(node->name));
	}
	g_ptr_array_unref(nodes);
	g_rw_lock_reader_unlock(&cluster->lock);
	return names;
}

static void print_names(const cJSON *names)
{
	const cJSON *name;
	bool first = true;

	cJSON_ArrayForEach(name, names)
	{
		printf("%s%s", first ? "" : ", ",
		       cJSON_IsString(name) ? name->valuestring : "?");
		first = false;
	}
}

/* Sends one ExtenderArgs with `node_names` to `verb`, prints the exchange,
 * and returns the parsed response in `*out` (the caller frees it with
 * cJSON_Delete()). */
static int demo_exchange(const sched_server *server, const char *verb,
			 const cJSON *pod, const cJSON *node_names,
			 cJSON **out)
{
	cJSON *args = cJSON_CreateObject();
	GString *response = g_string_new(NULL);
	char *body = NULL;
	char *url = NULL;
	char *pretty = NULL;
	cJSON *parsed = NULL;
	long status = 0;
	int ret = -ENOMEM;

	if (args == NULL ||
	    !cJSON_AddItemToObject(args, "Pod", cJSON_Duplicate(pod, true)) ||
	    cJSON_AddNullToObject(args, "Nodes") == NULL ||
	    !cJSON_AddItemToObject(args, "NodeNames",
				   cJSON_Duplicate(node_names, true)))
		goto out;
	body = cJSON_PrintUnformatted(args);
	if (body == NULL)
		goto out;

	url = g_strdup_printf("http://%s%s/%s", sched_server_address(server),
			      sched_server_url_prefix(server), verb);
	printf("==> POST %s (%zu bytes)\n", url, strlen(body));
	printf("    ExtenderArgs: Pod default/web-5f7d8c9b4-x2lqp requesting "
	       "cpu 3, memory 2Gi; Nodes null; NodeNames [");
	print_names(node_names);
	printf("] (nodeCacheCapable: true)\n");
	fflush(stdout);

	ret = demo_post(url, body, &status, response);
	if (ret < 0)
		goto out;

	parsed = cJSON_ParseWithLength(response->str, response->len);
	pretty = parsed != NULL ? cJSON_Print(parsed) : NULL;
	printf("<== HTTP %ld\n%s\n\n", status,
	       pretty != NULL ? pretty : response->str);
	fflush(stdout);
	if (status != 200 || parsed == NULL) {
		fprintf(stderr, "stowage demo: %s returned HTTP %ld\n", verb,
			status);
		ret = -EIO;
		goto out;
	}
	*out = parsed;
	parsed = NULL;
	ret = 0;

out:
	if (ret == -ENOMEM)
		fprintf(stderr, "stowage demo: out of memory building the "
				"request\n");
	cJSON_free(pretty);
	cJSON_Delete(parsed);
	g_free(url);
	cJSON_free(body);
	cJSON_Delete(args);
	g_string_free(response, TRUE);
	return ret;
}

/* Sends filter, then prioritize over the nodes that passed, as
 * kube-scheduler does. */
static int demo_run(const sched_server *server, sched_cluster *cluster)
{
	cJSON *pod = cJSON_Parse(demo_pod_json);
	cJSON *names = demo_node_names(cluster);
	cJSON *filtered = NULL;
	cJSON *scores = NULL;
	const cJSON *passed;
	int ret = -ENOMEM;

	if (pod == NULL || names == NULL)
		goto out;

	ret = demo_exchange(server, "filter", pod, names, &filtered);
	if (ret < 0)
		goto out;

	passed = cJSON_GetObjectItemCaseSensitive(filtered, "NodeNames");
	if (!cJSON_IsArray(passed) || cJSON_GetArraySize(passed) == 0) {
		printf("No node passed the filter: kube-scheduler would leave "
		       "the pod pending and try preemption.\n");
		goto out;
	}
	if (cJSON_GetArraySize(passed) == 1)
		printf("Only one node passed: kube-scheduler would skip "
		       "prioritize and bind the pod there. Sending prioritize "
		       "anyway to show it.\n\n");

	ret = demo_exchange(server, "prioritize", pod, passed, &scores);

out:
	if (ret == -ENOMEM)
		fprintf(stderr, "stowage demo: out of memory\n");
	cJSON_Delete(scores);
	cJSON_Delete(filtered);
	cJSON_Delete(names);
	cJSON_Delete(pod);
	return ret;
}

static int cmd_demo(int argc, char **argv)
{
	cli_options options;
	cli_config config = {0};
	sched_cluster cluster;
	sched_extender extender = {0};
	sched_metrics *metrics = NULL;
	sched_server *server = NULL;
	sched_log *log = NULL;
	score_error err = {0};
	int ret;

	cli_options_init(&options);
	ret = parse_command_line("demo", argc, argv, &options, &config);
	if (ret != 0)
		goto out_options;
	config.server.listen = "127.0.0.1:0";
	config.server.threads = 1;

	log = sched_log_new(stderr, config.log_format, config.log_level);
	sched_cluster_init(&cluster);
	metrics = sched_metrics_new();
	extender.cluster = &cluster;
	extender.log = log;
	extender.top_scores = DECISION_TOP_SCORES;
	ret = EXIT_FAILURE;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "stowage demo: failed to initialize libcurl\n");
		goto out;
	}
	if (sched_server_start(&config.server, &extender, metrics, log,
			       &server, &err) < 0) {
		fprintf(stderr, "stowage demo: %s\n", err.message);
		goto out_curl;
	}
	if (load_cluster(&cluster, NULL, log) < 0)
		goto out_curl;
	sched_server_set_ready(server, true);

	if (demo_run(server, &cluster) == 0)
		ret = EXIT_SUCCESS;

out_curl:
	sched_server_free(server);
	curl_global_cleanup();
out:
	sched_metrics_free(metrics);
	sched_cluster_release(&cluster);
	sched_log_free(log);
out_options:
	g_free(config.url_prefix);
	cli_options_release(&options);
	return ret;
}

/* ---- Entry point -------------------------------------------------------- */

static int cmd_help(const char *command)
{
	cli_options options;
	GOptionContext *context;
	char *prgname;
	char *help;

	if (command == NULL) {
		fputs(top_usage, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(command, "version") == 0 || strcmp(command, "help") == 0) {
		fputs(top_usage, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(command, "sim") == 0) {
		char *sim_argv[] = {(char *)"sim", (char *)"--help", NULL};

		return sim_main(2, sim_argv);
	}
	if (strcmp(command, "check") == 0) {
		puts("Usage: stowage check FILE...\n\n"
		     "Validates SchedulingPolicy files, or ConfigMaps holding one under\n"
		     "data.\"policy.yaml\". Prints one summary line per valid file and each\n"
		     "error as FILE:LINE:COLUMN: FIELD: message. Exit status: 0 when every\n"
		     "file is valid, 1 when one is not, 2 for a usage error.");
		return EXIT_SUCCESS;
	}

	cli_options_init(&options);
	context = command_context(command, &options);
	if (context == NULL) {
		cli_options_release(&options);
		fprintf(stderr,
			"stowage help: unknown command \"%s\"; the commands are "
			"serve, demo, sim, check, version and help\n",
			command);
		return EXIT_USAGE;
	}
	prgname = g_strdup_printf("stowage %s", command);
	g_set_prgname(prgname);
	help = g_option_context_get_help(context, TRUE, NULL);
	g_free(prgname);
	fputs(help, stdout);
	g_free(help);
	g_option_context_free(context);
	cli_options_release(&options);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *command;

	if (argc < 2) {
		fputs(top_usage, stderr);
		return EXIT_USAGE;
	}
	command = argv[1];
	g_set_prgname("stowage");
	/* Only the character set, for GOption's --help output: LC_NUMERIC
	 * must stay "C" because cJSON formats and parses numbers with it. */
	setlocale(LC_CTYPE, "");

	if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
	    strcmp(command, "-h") == 0)
		return cmd_help(argc > 2 ? argv[2] : NULL);
	if (strcmp(command, "version") == 0 ||
	    strcmp(command, "--version") == 0) {
		printf("stowage %s\n", STOWAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (strcmp(command, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(command, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(command, "sim") == 0) {
		/* The usage line of the simulator's --help names the command. */
		g_set_prgname("stowage sim");
		return sim_main(argc - 1, argv + 1);
	}
	if (strcmp(command, "check") == 0)
		return pol_check_main(argc - 1, argv + 1);

	fprintf(stderr,
		"stowage: unknown command \"%s\"; run `stowage help` for the "
		"list\n",
		command);
	return EXIT_USAGE;
}
