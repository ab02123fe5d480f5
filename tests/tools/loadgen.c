/* Load generator for `stowage serve`: sends the extender calls that
 * kube-scheduler sends, at a fixed rate, over loopback.
 *
 *   loadgen --write-cluster FILE [--cluster-nodes N] [--pods-per-node K]
 *           [--tenants N]
 *   loadgen --url http://127.0.0.1:PORT --rate PODS_PER_S --duration S
 *           [--connections N] [--names N] [--cluster-nodes N]
 *           [--apiserver http://127.0.0.1:PORT --churn-rate CHANGES_PER_S] [--tenants N]
 *           [--watch NAME=PID]... [--json FILE] [--markdown]
 *
 * The first form writes a v1 List of nodes and running pods for the test
 * API server (tests/tools/apiserver --fixture FILE) and exits.
 *
 * The second form simulates pods arriving at `--rate` per second, open
 * loop: pod i is due at start + i / rate whatever happened to the pods
 * before it, so a server that falls behind shows up as growing latency
 * instead of a lower send rate. For each pod it sends POST /filter with
 * the pod and `--names` node names (nodeCacheCapable: true), then, when
 * more than one node passed, POST /prioritize with the names that passed,
 * as kube-scheduler does. At most `--connections` requests are in flight,
 * on keep-alive connections; the rest wait in a queue. A verb's latency
 * runs from the moment it was due (the pod's arrival for filter, the end
 * of filter for prioritize) to the end of its response, so time spent in
 * that queue counts. A call not finished within `--timeout-ms` of being
 * due (kube-scheduler's extender httpTimeout, 5 s by default) counts as a
 * timeout, whether it was sent or still queued.
 *
 * With --apiserver, it also streams pod churn into the test API server
 * through POST /control/objects, --churn-rate changes per second in
 * batches every 100 ms. Each change ADDs a running pod on a random node,
 * or DELETEs the oldest once --churn-pods of them exist. POST
 * /control/compact runs every --compact-seconds so that the server's event
 * history stays bounded. After the last arrival the churn pods still alive
 * are deleted, so consecutive runs start from the same cluster.
 *
 * Every --interval seconds it prints a progress line on standard error
 * and samples VmRSS from /proc/PID/status of each --watch process. At the
 * end it prints a report on standard output and, with --json, writes it
 * as JSON. With --rss-flat PCT (or NAME=PID:PCT for one process), the
 * samples taken after --warmup seconds must stay within PCT percent of
 * their minimum.
 *
 * Exit status: 0 when every call succeeded (and the RSS check passed),
 * 1 when any failed, 2 for a bad command line or a failed setup.
 *
 * Every URL must name a loopback address (127.0.0.0/8 or ::1): the tool
 * exists to test a server started on this machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>

#define EXIT_CHECK_FAILED 1
#define EXIT_USAGE 2

/* kube-scheduler's MaxExtenderPriority: prioritize scores are 0..10. */
#define MAX_EXTENDER_SCORE 10
/* Maximum number of changes in one POST /control/objects. */
#define MAX_CHURN_BATCH 2000
/* Churn changes are batched: one POST /control/objects at most this often. */
#define CHURN_SEND_INTERVAL_MS 100
#define NAMESPACE "loadgen"

typedef enum verb {
	VERB_FILTER = 0,
	VERB_PRIORITIZE,
	VERB_COUNT,
} verb;

static const char *const verb_names[VERB_COUNT] = {"filter", "prioritize"};

/* ---- Options ---------------------------------------------------------- */

typedef struct options {
	char *url;
	char *apiserver;
	char *write_cluster;
	char *json_path;
	char **watch;
	double rate;
	int duration_s;
	int connections;
	int names;
	int cluster_nodes;
	int pods_per_node;
	int tenants;
	int timeout_ms;
	double churn_rate;
	int churn_pods;
	int compact_s;
	int interval_s;
	int warmup_s;
	double rss_flat_pct;
	gboolean markdown;
	gboolean quiet;
} options;

/* ---- Measurements ----------------------------------------------------- */

typedef struct verb_stats {
	GArray *latency_us; /* guint32, one per call that returned 200 */
	guint64 sent;
	guint64 ok;
	guint64 bad_status; /* a response other than 200 */
	guint64 timeouts;   /* not finished within the timeout of being due */
	guint64 malformed;  /* 200 with a body that is not a valid response */
	guint64 transport;  /* connection refused or reset, no response */
} verb_stats;

typedef struct watched {
	char *name;
	int pid;
	double flat_pct; /* allowed spread after the warm-up; 0: not checked */
	GArray *samples_kib; /* guint64 VmRSS */
	GArray *sample_s;    /* double, seconds since the start */
} watched;

/* One simulated pod, from arrival to the end of its last call. */
typedef struct pod_task {
	guint64 index;
	verb verb;
	gint64 due_us;     /* when the current verb became due */
	gint64 arrival_us;
	char *pod_json;    /* owned */
	char *body;        /* owned: the current request */
	GString *response;
	size_t names_sent; /* node names in the current request */
	CURL *easy;        /* while in flight */
} pod_task;

typedef struct churn_state {
	CURL *easy;
	bool in_flight;
	bool compacting;
	GString *response;
	char *body;
	GQueue live;          /* char *: names of churn pods that exist */
	char *name_prefix;    /* unique per run, so runs never collide */
	guint64 next_name;
	gint64 next_send_us;
	guint64 changes_due_done; /* changes accounted for so far */
	guint64 changes_sent;
	guint64 requests;
	guint64 compactions;
	guint64 errors;
	gint64 next_compact_us;
	char *first_error;
} churn_state;

typedef struct run {
	const options *options;
	CURLM *multi;
	struct curl_slist *headers;
	char *filter_url;
	char *prioritize_url;
	char *objects_url;
	char *compact_url;
	GPtrArray *name_windows; /* char *: JSON arrays of node names */
	GQueue waiting;          /* pod_task *: due, not sent yet */
	GPtrArray *idle_handles; /* CURL * */
	unsigned in_flight;
	gint64 start_us;
	gint64 end_arrivals_us;
	guint64 pods_total;
	guint64 pods_arrived;
	guint64 pods_done;
	guint64 pods_unschedulable;
	guint64 pods_one_feasible;
	guint64 pods_failed;
	gint64 last_done_us;
	verb_stats verbs[VERB_COUNT];
	GArray *pod_latency_us;  /* guint32, pods whose calls all succeeded */
	GPtrArray *watched;      /* watched * */
	churn_state churn;
	gint64 next_sample_us;
	char *first_error;       /* the first failed call, for the report */
	GRand *rand;
} run;

static gint64 now_us(void)
{
	return g_get_monotonic_time();
}

/* ---- Loopback URLs ---------------------------------------------------- */

static bool is_loopback_host(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;
	char *bare = NULL;
	bool loopback = false;

	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (host[0] == '[')
		bare = g_strndup(host + 1, strlen(host) - 2);
	if (inet_pton(AF_INET6, bare != NULL ? bare : host, &v6) == 1)
		loopback = IN6_IS_ADDR_LOOPBACK(&v6);
	g_free(bare);
	return loopback;
}

/* Checks that `url` is http:// on a numeric loopback address, and returns
 * it without a trailing slash; the caller frees it with g_free(). */
static char *loopback_url(const char *option, const char *url)
{
	CURLU *parsed = curl_url();
	char *host = NULL;
	char *scheme = NULL;
	char *result = NULL;

	if (parsed == NULL)
		return NULL;
	if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		fprintf(stderr, "loadgen: invalid URL \"%s\" for %s: give http://127.0.0.1:PORT\n",
			url, option);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 || !is_loopback_host(host)) {
		fprintf(stderr,
			"loadgen: %s \"%s\" is not plain HTTP on a loopback address: "
			"this tool only loads servers on this machine, such as "
			"http://127.0.0.1:8888\n",
			option, url);
		goto out;
	}
	result = g_strdup(url);
	while (g_str_has_suffix(result, "/"))
		result[strlen(result) - 1] = '\0';

out:
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(parsed);
	return result;
}

/* ---- Request bodies ---------------------------------------------------- */

static void node_name(GString *out, int index)
{
	g_string_append_printf(out, "node-%05d", index);
}

/* Builds the candidate lists: kube-scheduler with percentageOfNodesToScore
 * evaluates `names` nodes per cycle, starting where the previous cycle
 * stopped, so consecutive pods get consecutive windows of the node list. */
static GPtrArray *build_name_windows(int cluster_nodes, int names)
{
	GPtrArray *windows = g_ptr_array_new_with_free_func(g_free);
	int count = cluster_nodes / names;

	if (count < 1 || cluster_nodes % names != 0)
		count = cluster_nodes;
	for (int w = 0; w < count; w++) {
		GString *json = g_string_new("[");

		for (int i = 0; i < names; i++) {
			if (i > 0)
				g_string_append_c(json, ',');
			g_string_append_c(json, '"');
			node_name(json, (w * names + i) % cluster_nodes);
			g_string_append_c(json, '"');
		}
		g_string_append_c(json, ']');
		g_ptr_array_add(windows, g_string_free(json, FALSE));
	}
	return windows;
}

/* Tenants the pods are spread over with the label stowage.io/tenant
 * (--tenants), so that a policy's tenant rules have work to do; 0 leaves
 * the label out. Set once from the options before any pod is built. */
static int tenant_count;

/* Writes `,"stowage.io/tenant":"tNNN"` for tenant `key` modulo
 * tenant_count into `buf`, or returns an empty string without tenants. */
static const char *tenant_label(guint64 key, char *buf, size_t size)
{
	if (tenant_count <= 0)
		return "";
	g_snprintf(buf, size, ",\"stowage.io/tenant\":\"t%03d\"",
		   (int)(key % (guint64)tenant_count));
	return buf;
}

/* A pending Deployment pod after admission, as kube-scheduler sends it in
 * ExtenderArgs.Pod, with its name, uid, requests and tenant varied by
 * `index`. */
static char *pending_pod_json(guint64 index)
{
	static const char *const cpu[] = {"100m", "250m", "500m", "1"};
	static const char *const memory[] = {"128Mi", "256Mi", "512Mi", "1Gi"};
	char tenant[64];

	return g_strdup_printf(
		"{\"metadata\":{\"name\":\"load-%08" PRIx64 "\",\"generateName\":\"load-\","
		"\"namespace\":\"" NAMESPACE "\",\"uid\":\"6c0ad000-0000-4000-8000-%012" PRIx64 "\","
		"\"resourceVersion\":\"1\",\"creationTimestamp\":\"2026-12-04T20:00:00Z\","
		"\"labels\":{\"app\":\"load\",\"pod-template-hash\":\"5f7d8c9b4\"%s},"
		"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
		"\"name\":\"load-5f7d8c9b4\",\"uid\":\"0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b\","
		"\"controller\":true,\"blockOwnerDeletion\":true}]},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.invalid/app:1\","
		"\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}},"
		"\"terminationMessagePath\":\"/dev/termination-log\","
		"\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"
		"\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
		"\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
		"\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
		"\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
		"\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
		"{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
		"\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
		"\"priority\":0,\"enableServiceLinks\":true,"
		"\"preemptionPolicy\":\"PreemptLowerPriority\"},"
		"\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}",
		index, index, tenant_label(index, tenant, sizeof(tenant)),
		cpu[index % 4], memory[index % 4]);
}

static char *extender_args(const char *pod_json, const char *names_json)
{
	return g_strconcat("{\"Pod\":", pod_json, ",\"Nodes\":null,\"NodeNames\":",
			   names_json, "}", NULL);
}

/* A running pod for the cluster file and the churn, bound to node
 * `node`. */
static void append_running_pod(GString *out, const char *name, int node)
{
	char tenant[64];

	g_string_append_printf(
		out,
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
		"\"namespace\":\"" NAMESPACE "\",\"labels\":{\"app\":\"existing\"%s}},"
		"\"spec\":{\"nodeName\":\"node-%05d\",\"containers\":[{\"name\":\"app\","
		"\"image\":\"registry.invalid/app:1\",\"resources\":{\"requests\":"
		"{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}],\"restartPolicy\":\"Always\"},"
		"\"status\":{\"phase\":\"Running\"}}",
		name, tenant_label(g_str_hash(name), tenant, sizeof(tenant)), node);
}

/* Writes a v1 List of `nodes` nodes (16 CPUs, 64Gi, 110 pods, three
 * zones) with `pods_per_node` running pods each. */
static int write_cluster(const char *path, int nodes, int pods_per_node)
{
	GString *out = g_string_new("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
	GError *error = NULL;
	int ret = 0;

	g_string_append(out, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
			     "\"metadata\":{\"name\":\"" NAMESPACE "\"},"
			     "\"status\":{\"phase\":\"Active\"}}");
	for (int i = 0; i < nodes; i++) {
		g_string_append_printf(
			out,
			",{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%05d\","
			"\"labels\":{\"kubernetes.io/hostname\":\"node-%05d\",\"kubernetes.io/os\":\"linux\","
			"\"topology.kubernetes.io/zone\":\"zone-%d\"}},\"spec\":{},"
			"\"status\":{\"capacity\":{\"cpu\":\"16\",\"memory\":\"64Gi\",\"pods\":\"110\"},"
			"\"allocatable\":{\"cpu\":\"15890m\",\"memory\":\"62Gi\",\"pods\":\"110\"},"
			"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
			i, i, i % 3);
	}
	for (int i = 0; i < nodes; i++) {
		for (int k = 0; k < pods_per_node; k++) {
			char name[64];

			g_snprintf(name, sizeof(name), "existing-%05d-%03d", i, k);
			g_string_append_c(out, ',');
			append_running_pod(out, name, i);
		}
	}
	g_string_append(out, "]}\n");
	if (!g_file_set_contents(path, out->str, (gssize)out->len, &error)) {
		fprintf(stderr, "loadgen: cannot write %s: %s\n", path, error->message);
		g_error_free(error);
		ret = -EIO;
	}
	g_string_free(out, TRUE);
	return ret;
}

/* ---- Statistics --------------------------------------------------------- */

static int compare_u32(const void *a, const void *b)
{
	guint32 x = *(const guint32 *)a;
	guint32 y = *(const guint32 *)b;

	return (x > y) - (x < y);
}

typedef struct summary {
	guint64 count;
	double p50_ms, p90_ms, p99_ms, max_ms;
} summary;

/* Sorts `latency_us` from index `from` on and summarizes it (nearest-rank
 * percentiles). */
static summary summarize(GArray *latency_us, guint from)
{
	summary s = {0};
	guint32 *values = (guint32 *)(void *)latency_us->data + from;
	guint n = latency_us->len - from;

	if (n == 0)
		return s;
	qsort(values, n, sizeof(guint32), compare_u32);
	s.count = n;
	s.p50_ms = values[(guint)ceil(0.50 * n) - 1] / 1000.0;
	s.p90_ms = values[(guint)ceil(0.90 * n) - 1] / 1000.0;
	s.p99_ms = values[(guint)ceil(0.99 * n) - 1] / 1000.0;
	s.max_ms = values[n - 1] / 1000.0;
	return s;
}

static guint64 verb_errors(const verb_stats *v)
{
	return v->bad_status + v->timeouts + v->malformed + v->transport;
}

static guint64 total_errors(const run *r)
{
	guint64 errors = r->churn.errors;

	for (int v = 0; v < VERB_COUNT; v++)
		errors += verb_errors(&r->verbs[v]);
	return errors;
}

static void record_latency(GArray *latency_us, gint64 since_us, gint64 until_us)
{
	gint64 us = until_us - since_us;
	guint32 value = (guint32)CLAMP(us, 0, (gint64)G_MAXUINT32);

	g_array_append_val(latency_us, value);
}

/* ---- RSS sampling -------------------------------------------------------- */

/* Returns VmRSS of `pid` in KiB, or 0 when the process is gone. */
static guint64 read_rss_kib(int pid)
{
	char path[64];
	char *text = NULL;
	const char *line;
	guint64 kib = 0;

	g_snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nVmRSS:");
	if (line != NULL)
		kib = g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10);
	g_free(text);
	return kib;
}

static void sample_rss(run *r, gint64 at_us)
{
	double t = (double)(at_us - r->start_us) / 1e6;

	for (guint i = 0; i < r->watched->len; i++) {
		watched *w = g_ptr_array_index(r->watched, i);
		guint64 kib = read_rss_kib(w->pid);

		g_array_append_val(w->samples_kib, kib);
		g_array_append_val(w->sample_s, t);
	}
}

static guint64 last_rss_kib(const watched *w)
{
	return w->samples_kib->len > 0
		       ? g_array_index(w->samples_kib, guint64, w->samples_kib->len - 1)
		       : 0;
}

/* Minimum and maximum of the samples taken at or after `warmup_s`. */
static bool rss_range(const watched *w, double warmup_s, guint64 *min, guint64 *max)
{
	bool any = false;

	for (guint i = 0; i < w->samples_kib->len; i++) {
		guint64 kib = g_array_index(w->samples_kib, guint64, i);

		if (g_array_index(w->sample_s, double, i) < warmup_s)
			continue;
		if (!any || kib < *min)
			*min = kib;
		if (!any || kib > *max)
			*max = kib;
		any = true;
	}
	return any;
}

static void print_progress(run *r, gint64 at_us)
{
	const verb_stats *f = &r->verbs[VERB_FILTER];
	GString *line = g_string_new(NULL);

	g_string_append_printf(line,
			       "loadgen: t=%.0fs pods due %" PRIu64 " done %" PRIu64
			       " in flight %u queued %u, errors %" PRIu64,
			       (double)(at_us - r->start_us) / 1e6, r->pods_arrived,
			       r->pods_done, r->in_flight, g_queue_get_length(&r->waiting),
			       total_errors(r));
	if (f->latency_us->len > 0)
		g_string_append_printf(line, ", last filter %.2f ms",
				       g_array_index(f->latency_us, guint32,
						     f->latency_us->len - 1) / 1000.0);
	for (guint i = 0; i < r->watched->len; i++) {
		const watched *w = g_ptr_array_index(r->watched, i);

		g_string_append_printf(line, ", %s RSS %.1f MiB", w->name,
				       (double)last_rss_kib(w) / 1024.0);
	}
	if (r->options->apiserver != NULL)
		g_string_append_printf(line, ", churn %" PRIu64 " changes",
				       r->churn.changes_sent);
	fprintf(stderr, "%s\n", line->str);
	g_string_free(line, TRUE);
}

/* ---- Pod calls ----------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

static CURL *take_handle(run *r)
{
	CURL *easy;

	if (r->idle_handles->len > 0)
		return g_ptr_array_steal_index_fast(r->idle_handles,
						    r->idle_handles->len - 1);
	easy = curl_easy_init();
	if (easy == NULL) {
		fprintf(stderr, "loadgen: curl_easy_init failed\n");
		abort();
	}
	return easy;
}

static void pod_task_free(pod_task *task)
{
	g_free(task->pod_json);
	g_free(task->body);
	if (task->response != NULL)
		g_string_free(task->response, TRUE);
	g_free(task);
}

static void note_error(run *r, const pod_task *task, const char *problem)
{
	if (r->first_error == NULL)
		r->first_error = g_strdup_printf("%s for pod %" PRIu64 ": %s",
						 verb_names[task->verb], task->index, problem);
}

/* Ends a pod; `ok` when every call it made succeeded. */
static void finish_pod(run *r, pod_task *task, bool ok, gint64 at_us)
{
	if (ok)
		record_latency(r->pod_latency_us, task->arrival_us, at_us);
	else
		r->pods_failed++;
	r->pods_done++;
	r->last_done_us = at_us;
	pod_task_free(task);
}

static void send_call(run *r, pod_task *task, gint64 at_us)
{
	const options *o = r->options;
	long left_ms = o->timeout_ms - (long)((at_us - task->due_us) / 1000);
	CURL *easy = take_handle(r);

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL,
			 task->verb == VERB_FILTER ? r->filter_url : r->prioritize_url);
	curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, task->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(task->body));
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, MAX(left_ms, 1L));
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, task->response);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, task);
	g_string_truncate(task->response, 0);
	task->easy = easy;
	r->verbs[task->verb].sent++;
	r->in_flight++;
	curl_multi_add_handle(r->multi, easy);
}

/* Sends queued calls while connections are free; calls that waited past
 * the timeout count as timeouts without being sent. */
static void dispatch(run *r, gint64 at_us)
{
	while (r->in_flight < (unsigned)r->options->connections &&
	       !g_queue_is_empty(&r->waiting)) {
		pod_task *task = g_queue_pop_head(&r->waiting);

		if (at_us - task->due_us >= (gint64)r->options->timeout_ms * 1000) {
			r->verbs[task->verb].timeouts++;
			note_error(r, task, "timed out in the queue before it was sent");
			finish_pod(r, task, false, at_us);
			continue;
		}
		send_call(r, task, at_us);
	}
}

static void arrive_pods(run *r, gint64 at_us)
{
	const options *o = r->options;

	while (r->pods_arrived < r->pods_total) {
		gint64 due = r->start_us +
			     (gint64)((double)r->pods_arrived * 1e6 / o->rate);
		pod_task *task;

		if (due > at_us)
			break;
		task = g_new0(pod_task, 1);
		task->index = r->pods_arrived;
		task->verb = VERB_FILTER;
		task->arrival_us = due;
		task->due_us = due;
		task->pod_json = pending_pod_json(task->index);
		task->body = extender_args(
			task->pod_json,
			g_ptr_array_index(r->name_windows,
					  task->index % r->name_windows->len));
		task->names_sent = (size_t)o->names;
		task->response = g_string_new(NULL);
		g_queue_push_tail(&r->waiting, task);
		r->pods_arrived++;
	}
}

static bool is_empty_error(const cJSON *json)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "Error");

	return error == NULL || cJSON_IsNull(error) ||
	       (cJSON_IsString(error) && error->valuestring[0] == '\0');
}

static int count_names(const cJSON *value)
{
	if (value == NULL || cJSON_IsNull(value))
		return 0;
	if (cJSON_IsArray(value))
		return cJSON_GetArraySize(value);
	/* FailedNodes is a map from node name to reason. */
	if (cJSON_IsObject(value))
		return cJSON_GetArraySize(value);
	return -1;
}

/* Checks an ExtenderFilterResult: no Error, and every node sent is either
 * in NodeNames or in one of the failed maps. Sets `*passed` to the
 * NodeNames array (borrowed from `json`). */
static const char *check_filter(const cJSON *json, size_t names_sent, const cJSON **passed)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(json, "NodeNames");
	int failed = count_names(cJSON_GetObjectItemCaseSensitive(json, "FailedNodes"));
	int unresolvable = count_names(
		cJSON_GetObjectItemCaseSensitive(json, "FailedAndUnresolvableNodes"));
	const cJSON *name;

	if (!is_empty_error(json))
		return "the response carries an Error";
	if (!cJSON_IsArray(names) || failed < 0 || unresolvable < 0)
		return "NodeNames is not an array, or a failed-node map is not an object";
	cJSON_ArrayForEach(name, names)
	{
		if (!cJSON_IsString(name))
			return "NodeNames holds a value that is not a string";
	}
	if ((size_t)(cJSON_GetArraySize(names) + failed + unresolvable) != names_sent)
		return "passed and failed nodes do not add up to the nodes sent";
	*passed = names;
	return NULL;
}

/* Checks a HostPriorityList: one entry per node sent, each with a Host
 * and a Score from 0 to MAX_EXTENDER_SCORE. */
static const char *check_prioritize(const cJSON *json, size_t names_sent)
{
	const cJSON *entry;

	if (!cJSON_IsArray(json))
		return "the response is not a JSON array";
	if ((size_t)cJSON_GetArraySize(json) != names_sent)
		return "the number of scores differs from the nodes sent";
	cJSON_ArrayForEach(entry, json)
	{
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(entry, "Host");
		const cJSON *score = cJSON_GetObjectItemCaseSensitive(entry, "Score");

		if (!cJSON_IsString(host) || !cJSON_IsNumber(score) ||
		    score->valuedouble < 0 || score->valuedouble > MAX_EXTENDER_SCORE)
			return "an entry lacks a Host or a Score from 0 to 10";
	}
	return NULL;
}

/* Handles a 200 filter response: queues prioritize when more than one
 * node passed. Returns an error message, or NULL. */
static const char *after_filter(run *r, pod_task *task, const cJSON *json,
				gint64 at_us, bool *pod_continues)
{
	const cJSON *passed = NULL;
	const char *problem = check_filter(json, task->names_sent, &passed);
	char *names_json;
	int count;

	*pod_continues = false;
	if (problem != NULL)
		return problem;
	count = cJSON_GetArraySize(passed);
	if (count == 0) {
		r->pods_unschedulable++;
		return NULL;
	}
	if (count == 1) {
		/* kube-scheduler skips prioritize with one feasible node. */
		r->pods_one_feasible++;
		return NULL;
	}
	names_json = cJSON_PrintUnformatted(passed);
	if (names_json == NULL)
		return "cJSON could not print NodeNames (out of memory)";
	g_free(task->body);
	task->body = extender_args(task->pod_json, names_json);
	cJSON_free(names_json);
	task->names_sent = (size_t)count;
	task->verb = VERB_PRIORITIZE;
	task->due_us = at_us;
	/* The pod's next call goes before pods that have not started. */
	g_queue_push_head(&r->waiting, task);
	*pod_continues = true;
	return NULL;
}

static void complete_call(run *r, CURL *easy, CURLcode result, gint64 at_us)
{
	char *private = NULL;
	pod_task *task;
	verb_stats *stats;
	cJSON *json = NULL;
	const char *problem = NULL;
	bool pod_continues = false;
	gint64 due_us;
	long status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private);
	task = (pod_task *)(void *)private;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->multi, easy);
	g_ptr_array_add(r->idle_handles, easy);
	task->easy = NULL;
	r->in_flight--;
	stats = &r->verbs[task->verb];
	/* after_filter() moves the task on to prioritize. */
	due_us = task->due_us;

	if (result == CURLE_OPERATION_TIMEDOUT) {
		stats->timeouts++;
		note_error(r, task, "timed out");
		goto fail;
	}
	if (result != CURLE_OK) {
		stats->transport++;
		note_error(r, task, curl_easy_strerror(result));
		goto fail;
	}
	if (status != 200) {
		char *message = g_strdup_printf("HTTP %ld: %.200s", status, task->response->str);

		stats->bad_status++;
		note_error(r, task, message);
		g_free(message);
		goto fail;
	}
	json = cJSON_ParseWithLength(task->response->str, task->response->len);
	if (json == NULL)
		problem = "the response is not JSON";
	else if (task->verb == VERB_FILTER)
		problem = after_filter(r, task, json, at_us, &pod_continues);
	else
		problem = check_prioritize(json, task->names_sent);
	cJSON_Delete(json);
	if (problem != NULL) {
		stats->malformed++;
		note_error(r, task, problem);
		goto fail;
	}
	stats->ok++;
	record_latency(stats->latency_us, due_us, at_us);
	if (!pod_continues)
		finish_pod(r, task, true, at_us);
	return;

fail:
	finish_pod(r, task, false, at_us);
}

/* ---- Churn in the test API server -------------------------------------- */

static void churn_error(run *r, const char *problem)
{
	r->churn.errors++;
	if (r->churn.first_error == NULL)
		r->churn.first_error = g_strdup(problem);
}

static void churn_send(run *r, const char *url, char *body)
{
	churn_state *c = &r->churn;

	g_free(c->body);
	c->body = body;
	curl_easy_reset(c->easy);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)r->options->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c->response);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, NULL);
	g_string_truncate(c->response, 0);
	c->in_flight = true;
	curl_multi_add_handle(r->multi, c->easy);
}

/* Builds one batch of `changes` changes: ADDED while fewer than
 * --churn-pods churn pods exist, else DELETED of the oldest. */
static char *churn_batch(run *r, guint64 changes)
{
	churn_state *c = &r->churn;
	GString *body = g_string_new("[");

	for (guint64 i = 0; i < changes; i++) {
		char name[64];

		if (i > 0)
			g_string_append_c(body, ',');
		if (g_queue_get_length(&c->live) < (guint)r->options->churn_pods) {
			g_snprintf(name, sizeof(name), "%s-%08" PRIx64, c->name_prefix,
				   c->next_name++);
			g_string_append(body, "{\"type\":\"ADDED\",\"object\":");
			append_running_pod(body, name,
					   g_rand_int_range(r->rand, 0, r->options->cluster_nodes));
			g_string_append_c(body, '}');
			g_queue_push_tail(&c->live, g_strdup(name));
		} else {
			char *oldest = g_queue_pop_head(&c->live);

			g_string_append_printf(body,
					       "{\"type\":\"DELETED\",\"object\":{\"apiVersion\":\"v1\","
					       "\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
					       "\"namespace\":\"" NAMESPACE "\"}}}",
					       oldest);
			g_free(oldest);
		}
	}
	g_string_append_c(body, ']');
	return g_string_free(body, FALSE);
}

/* Builds a batch that deletes up to MAX_CHURN_BATCH of the churn pods
 * still alive, so that the next run starts from the same cluster. */
static char *churn_cleanup_batch(run *r, guint64 *changes)
{
	churn_state *c = &r->churn;
	GString *body = g_string_new("[");

	*changes = 0;
	while (!g_queue_is_empty(&c->live) && *changes < MAX_CHURN_BATCH) {
		char *name = g_queue_pop_head(&c->live);

		g_string_append_printf(body,
				       "%s{\"type\":\"DELETED\",\"object\":{\"apiVersion\":\"v1\","
				       "\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
				       "\"namespace\":\"" NAMESPACE "\"}}}",
				       *changes > 0 ? "," : "", name);
		g_free(name);
		(*changes)++;
	}
	g_string_append_c(body, ']');
	return g_string_free(body, FALSE);
}

/* Starts the next control request when none is in flight: a compaction
 * when one is due, else the changes due by now, at most every
 * CHURN_SEND_INTERVAL_MS. Once the arrivals are over, it deletes the churn
 * pods that remain. */
static void churn_step(run *r, gint64 at_us, bool arrivals_over)
{
	churn_state *c = &r->churn;
	guint64 due;
	guint64 changes;

	if (r->options->apiserver == NULL || c->in_flight)
		return;
	if (at_us >= c->next_compact_us && !arrivals_over) {
		c->next_compact_us = at_us + (gint64)r->options->compact_s * G_USEC_PER_SEC;
		c->compacting = true;
		churn_send(r, r->compact_url, g_strdup("{}"));
		return;
	}
	c->compacting = false;
	if (arrivals_over) {
		if (g_queue_is_empty(&c->live))
			return;
		churn_send(r, r->objects_url, churn_cleanup_batch(r, &changes));
		c->changes_sent += changes;
		return;
	}
	if (at_us < c->next_send_us)
		return;
	due = (guint64)((double)(at_us - r->start_us) / 1e6 * r->options->churn_rate);
	if (due <= c->changes_due_done)
		return;
	changes = MIN(due - c->changes_due_done, (guint64)MAX_CHURN_BATCH);
	c->changes_due_done += changes;
	c->changes_sent += changes;
	c->next_send_us = at_us + CHURN_SEND_INTERVAL_MS * 1000;
	churn_send(r, r->objects_url, churn_batch(r, changes));
}

static void complete_churn(run *r, CURLcode result)
{
	churn_state *c = &r->churn;
	long status = 0;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->multi, c->easy);
	c->in_flight = false;
	if (c->compacting)
		c->compactions++;
	else
		c->requests++;
	if (result != CURLE_OK) {
		char *message = g_strdup_printf("%s: %s", c->compacting ? "compact" : "objects",
						curl_easy_strerror(result));

		churn_error(r, message);
		g_free(message);
	} else if (status != 200) {
		char *message = g_strdup_printf("%s: HTTP %ld: %.200s",
						c->compacting ? "compact" : "objects", status,
						c->response->str);

		churn_error(r, message);
		g_free(message);
	}
}

/* ---- Event loop ---------------------------------------------------------- */

static void drain_messages(run *r, gint64 at_us)
{
	CURLMsg *message;
	int left;

	while ((message = curl_multi_info_read(r->multi, &left)) != NULL) {
		if (message->msg != CURLMSG_DONE)
			continue;
		if (message->easy_handle == r->churn.easy)
			complete_churn(r, message->data.result);
		else
			complete_call(r, message->easy_handle, message->data.result, at_us);
	}
}

/* Returns when the next pod is due, or G_MAXINT64 when all have arrived. */
static gint64 next_arrival_us(const run *r)
{
	if (r->pods_arrived >= r->pods_total)
		return G_MAXINT64;
	return r->start_us + (gint64)((double)r->pods_arrived * 1e6 / r->options->rate);
}

static void arm_timer(int timer_fd, gint64 at_us)
{
	struct itimerspec spec = {0};

	/* An absolute time of zero would disarm the timer. */
	at_us = MAX(at_us, 1);
	spec.it_value.tv_sec = at_us / G_USEC_PER_SEC;
	spec.it_value.tv_nsec = (at_us % G_USEC_PER_SEC) * 1000;
	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

/* Runs arrivals until the end of the duration, then waits for the calls
 * in progress, which end within the timeout. */
static int run_loop(run *r)
{
	const options *o = r->options;
	int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	gint64 drain_deadline;

	if (timer_fd < 0) {
		fprintf(stderr, "loadgen: timerfd_create failed: %s\n", g_strerror(errno));
		return -errno;
	}
	r->start_us = now_us();
	r->end_arrivals_us = r->start_us + (gint64)o->duration_s * G_USEC_PER_SEC;
	r->next_sample_us = r->start_us;
	r->churn.next_compact_us = r->start_us + (gint64)o->compact_s * G_USEC_PER_SEC;
	drain_deadline = r->end_arrivals_us + (gint64)(o->timeout_ms + 1000) * 1000;

	for (;;) {
		struct curl_waitfd extra = {.fd = timer_fd, .events = CURL_WAIT_POLLIN};
		gint64 at = now_us();
		bool arrivals_over = r->pods_arrived >= r->pods_total;
		gint64 wake;
		int running = 0;
		guint64 expirations;

		arrive_pods(r, at);
		dispatch(r, at);
		churn_step(r, at, arrivals_over);
		if (at >= r->next_sample_us) {
			sample_rss(r, at);
			if (!o->quiet && at > r->start_us)
				print_progress(r, at);
			r->next_sample_us += (gint64)o->interval_s * G_USEC_PER_SEC;
		}
		if (arrivals_over && r->in_flight == 0 && g_queue_is_empty(&r->waiting) &&
		    !r->churn.in_flight && g_queue_is_empty(&r->churn.live))
			break;
		if (at >= drain_deadline) {
			fprintf(stderr, "loadgen: calls still open 1 s after their timeout; "
					"stopping without them\n");
			break;
		}

		wake = MIN(next_arrival_us(r), r->next_sample_us);
		arm_timer(timer_fd, wake);
		curl_multi_poll(r->multi, &extra, 1, 1000, NULL);
		if (read(timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			fprintf(stderr, "loadgen: reading the timer failed: %s\n",
				g_strerror(errno));
		curl_multi_perform(r->multi, &running);
		drain_messages(r, now_us());
	}
	sample_rss(r, now_us());
	close(timer_fd);
	return 0;
}

/* ---- Report -------------------------------------------------------------- */

static double achieved_rate(const run *r)
{
	double seconds = (double)(r->last_done_us - r->start_us) / 1e6;
	guint64 ok = r->pods_done - r->pods_failed;

	return seconds > 0 ? (double)ok / seconds : 0;
}

static void print_verb_row(const char *name, const summary *s, const verb_stats *v)
{
	printf("%-12s %9" PRIu64 " %9" PRIu64 " %8.2f %8.2f %8.2f %8.2f %8" PRIu64 " %8" PRIu64
	       " %9" PRIu64 " %9" PRIu64 "\n",
	       name, v != NULL ? v->sent : s->count, s->count, s->p50_ms, s->p90_ms, s->p99_ms,
	       s->max_ms, v != NULL ? v->bad_status : 0, v != NULL ? v->timeouts : 0,
	       v != NULL ? v->malformed : 0, v != NULL ? v->transport : 0);
}

/* Checks the RSS samples; returns false and prints why when one process
 * grew past --rss-flat. */
static bool check_rss(const run *r)
{
	const options *o = r->options;
	bool flat = true;

	for (guint i = 0; i < r->watched->len; i++) {
		const watched *w = g_ptr_array_index(r->watched, i);
		guint64 min = 0, max = 0;
		double spread;

		if (!rss_range(w, o->warmup_s, &min, &max) || min == 0) {
			printf("rss %s: no samples after the warm-up of %d s\n", w->name, o->warmup_s);
			if (w->flat_pct > 0)
				flat = false;
			continue;
		}
		spread = 100.0 * (double)(max - min) / (double)min;
		printf("rss %s: after %d s of warm-up %.1f to %.1f MiB (spread %.1f%%), "
		       "%u samples in all, last %.1f MiB\n",
		       w->name, o->warmup_s, (double)min / 1024, (double)max / 1024, spread,
		       w->samples_kib->len, (double)last_rss_kib(w) / 1024);
		if (w->flat_pct > 0 && spread > w->flat_pct) {
			printf("rss %s: spread %.1f%% is over the limit of %.1f%%\n", w->name,
			       spread, w->flat_pct);
			flat = false;
		}
	}
	return flat;
}

static void print_report(run *r, summary *verbs, summary *pods)
{
	const options *o = r->options;

	printf("== %.0f pods/s for %d s, %d connections, %d names per call\n", o->rate,
	       o->duration_s, o->connections, o->names);
	printf("pods: offered %" PRIu64 ", completed %" PRIu64 " without error (%.1f/s), "
	       "failed %" PRIu64 ", unschedulable %" PRIu64 ", one feasible node %" PRIu64 "\n",
	       r->pods_total, r->pods_done - r->pods_failed, achieved_rate(r), r->pods_failed,
	       r->pods_unschedulable, r->pods_one_feasible);
	printf("%-12s %9s %9s %8s %8s %8s %8s %8s %8s %9s %9s\n", "verb", "sent", "ok",
	       "p50 ms", "p90 ms", "p99 ms", "max ms", "non-200", "timeout", "malformed",
	       "transport");
	for (int v = 0; v < VERB_COUNT; v++)
		print_verb_row(verb_names[v], &verbs[v], &r->verbs[v]);
	print_verb_row("pod", pods, NULL);
	if (o->apiserver != NULL)
		printf("churn: %" PRIu64 " changes in %" PRIu64 " requests, %" PRIu64
		       " compactions, %" PRIu64 " errors%s%s\n",
		       r->churn.changes_sent, r->churn.requests, r->churn.compactions,
		       r->churn.errors, r->churn.first_error != NULL ? "; first: " : "",
		       r->churn.first_error != NULL ? r->churn.first_error : "");
	if (r->first_error != NULL)
		printf("first failed call: %s\n", r->first_error);
	printf("errors: %" PRIu64 "\n", total_errors(r));
}

/* One Markdown table row: rate offered and achieved, then p50/p99/max of
 * each verb, errors and the first watched process's RSS. */
static void print_markdown(run *r, const summary *verbs)
{
	const watched *w = r->watched->len > 0 ? g_ptr_array_index(r->watched, 0) : NULL;

	printf("| %.0f | %.1f | %.2f / %.2f / %.2f / %.2f | %.2f / %.2f / %.2f / %.2f | %" PRIu64
	       " | %.1f |\n",
	       r->options->rate, achieved_rate(r), verbs[0].p50_ms, verbs[0].p90_ms,
	       verbs[0].p99_ms, verbs[0].max_ms, verbs[1].p50_ms, verbs[1].p90_ms,
	       verbs[1].p99_ms, verbs[1].max_ms, total_errors(r),
	       w != NULL ? (double)last_rss_kib(w) / 1024 : 0.0);
}

static cJSON *summary_json(const summary *s, const verb_stats *v)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	if (v != NULL) {
		cJSON_AddNumberToObject(o, "sent", (double)v->sent);
		cJSON_AddNumberToObject(o, "ok", (double)v->ok);
		cJSON_AddNumberToObject(o, "non200", (double)v->bad_status);
		cJSON_AddNumberToObject(o, "timeouts", (double)v->timeouts);
		cJSON_AddNumberToObject(o, "malformed", (double)v->malformed);
		cJSON_AddNumberToObject(o, "transport", (double)v->transport);
	}
	cJSON_AddNumberToObject(o, "count", (double)s->count);
	cJSON_AddNumberToObject(o, "p50_ms", s->p50_ms);
	cJSON_AddNumberToObject(o, "p90_ms", s->p90_ms);
	cJSON_AddNumberToObject(o, "p99_ms", s->p99_ms);
	cJSON_AddNumberToObject(o, "max_ms", s->max_ms);
	return o;
}

static int write_json(run *r, const summary *verbs, const summary *pods, bool rss_flat)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *rss;
	char *text = NULL;
	GError *error = NULL;
	int ret = -ENOMEM;

	if (root == NULL)
		goto out;
	cJSON_AddNumberToObject(root, "rate", r->options->rate);
	cJSON_AddNumberToObject(root, "duration_s", r->options->duration_s);
	cJSON_AddNumberToObject(root, "achieved_rate", achieved_rate(r));
	cJSON_AddNumberToObject(root, "pods_offered", (double)r->pods_total);
	cJSON_AddNumberToObject(root, "pods_done", (double)r->pods_done);
	cJSON_AddNumberToObject(root, "pods_failed", (double)r->pods_failed);
	cJSON_AddNumberToObject(root, "pods_unschedulable", (double)r->pods_unschedulable);
	cJSON_AddNumberToObject(root, "pods_one_feasible", (double)r->pods_one_feasible);
	for (int v = 0; v < VERB_COUNT; v++)
		cJSON_AddItemToObject(root, verb_names[v], summary_json(&verbs[v], &r->verbs[v]));
	cJSON_AddItemToObject(root, "pod", summary_json(pods, NULL));
	cJSON_AddNumberToObject(root, "churn_changes", (double)r->churn.changes_sent);
	cJSON_AddNumberToObject(root, "churn_compactions", (double)r->churn.compactions);
	cJSON_AddNumberToObject(root, "churn_errors", (double)r->churn.errors);
	cJSON_AddNumberToObject(root, "errors", (double)total_errors(r));
	cJSON_AddBoolToObject(root, "rss_flat", rss_flat);
	rss = cJSON_AddObjectToObject(root, "rss_kib");
	for (guint i = 0; rss != NULL && i < r->watched->len; i++) {
		const watched *w = g_ptr_array_index(r->watched, i);

		cJSON_AddNumberToObject(rss, w->name, (double)last_rss_kib(w));
	}
	text = cJSON_Print(root);
	if (text == NULL)
		goto out;
	if (!g_file_set_contents(r->options->json_path, text, -1, &error)) {
		fprintf(stderr, "loadgen: cannot write %s: %s\n", r->options->json_path,
			error->message);
		g_error_free(error);
		ret = -EIO;
		goto out;
	}
	ret = 0;

out:
	if (ret == -ENOMEM)
		fprintf(stderr, "loadgen: out of memory writing the JSON report\n");
	cJSON_free(text);
	cJSON_Delete(root);
	return ret;
}

/* ---- Setup ----------------------------------------------------------------- */

/* Parses NAME=PID or NAME=PID:PCT, where PCT overrides --rss-flat. */
static int parse_watch(const char *spec, double default_pct, GPtrArray *out)
{
	const char *equals = strchr(spec, '=');
	char **parts = g_strsplit(equals != NULL ? equals + 1 : "", ":", 2);
	double pct = default_pct;
	char *end = NULL;
	guint64 pid = 0;
	watched *w;
	bool valid = equals != NULL && equals != spec &&
		     g_ascii_string_to_unsigned(parts[0], 10, 1, G_MAXINT, &pid, NULL);

	if (valid && parts[0] != NULL && parts[1] != NULL) {
		pct = g_ascii_strtod(parts[1], &end);
		valid = end != parts[1] && *end == '\0' && pct >= 0;
	}
	g_strfreev(parts);
	if (!valid) {
		fprintf(stderr,
			"loadgen: invalid --watch \"%s\": give NAME=PID or NAME=PID:PCT, "
			"e.g. stowage=1234 or apiserver=1235:20\n",
			spec);
		return -EINVAL;
	}
	w = g_new0(watched, 1);
	w->name = g_strndup(spec, (gsize)(equals - spec));
	w->pid = (int)pid;
	w->flat_pct = pct;
	w->samples_kib = g_array_new(FALSE, FALSE, sizeof(guint64));
	w->sample_s = g_array_new(FALSE, FALSE, sizeof(double));
	g_ptr_array_add(out, w);
	return 0;
}

static void watched_free(gpointer data)
{
	watched *w = data;

	g_free(w->name);
	g_array_unref(w->samples_kib);
	g_array_unref(w->sample_s);
	g_free(w);
}

static int validate(const options *o)
{
	if (o->cluster_nodes < 1 || o->pods_per_node < 0 || o->pods_per_node > 110) {
		fprintf(stderr, "loadgen: give --cluster-nodes of at least 1 and "
				"--pods-per-node from 0 to 110\n");
		return -EINVAL;
	}
	if (o->tenants < 0 || o->tenants > 1000) {
		fprintf(stderr, "loadgen: invalid --tenants %d: give 0 (no tenant label) "
				"to 1000\n", o->tenants);
		return -EINVAL;
	}
	if (o->write_cluster != NULL)
		return 0;
	if (o->url == NULL) {
		fprintf(stderr, "loadgen: missing --url (e.g. http://127.0.0.1:8888) or "
				"--write-cluster FILE\n");
		return -EINVAL;
	}
	if (!(o->rate > 0 && o->rate <= 1e6) || o->duration_s < 1 || o->connections < 1 ||
	    o->connections > 1024 || o->timeout_ms < 1) {
		fprintf(stderr, "loadgen: give --rate from 0 to 1000000 pods/s (exclusive of 0), "
				"--duration of at least 1 s, --connections from 1 to 1024 and a "
				"positive --timeout-ms\n");
		return -EINVAL;
	}
	if (o->names < 1 || o->names > o->cluster_nodes) {
		fprintf(stderr, "loadgen: invalid --names %d: give 1 to --cluster-nodes (%d)\n",
			o->names, o->cluster_nodes);
		return -EINVAL;
	}
	if (o->interval_s < 1 || o->compact_s < 1 || o->churn_rate < 0 || o->churn_pods < 1 ||
	    o->warmup_s < 0 || o->rss_flat_pct < 0) {
		fprintf(stderr, "loadgen: give positive --interval, --compact-seconds and "
				"--churn-pods, and non-negative --churn-rate, --warmup and "
				"--rss-flat\n");
		return -EINVAL;
	}
	return 0;
}

static int run_init(run *r, const options *o)
{
	char *base = loopback_url("--url", o->url);
	char *api = NULL;

	memset(r, 0, sizeof(*r));
	r->options = o;
	r->watched = g_ptr_array_new_with_free_func(watched_free);
	if (base == NULL)
		return -EINVAL;
	r->filter_url = g_strconcat(base, "/filter", NULL);
	r->prioritize_url = g_strconcat(base, "/prioritize", NULL);
	g_free(base);
	if (o->apiserver != NULL) {
		api = loopback_url("--apiserver", o->apiserver);
		if (api == NULL)
			return -EINVAL;
		r->objects_url = g_strconcat(api, "/control/objects", NULL);
		r->compact_url = g_strconcat(api, "/control/compact", NULL);
		g_free(api);
	}
	for (char **w = o->watch; w != NULL && *w != NULL; w++) {
		if (parse_watch(*w, o->rss_flat_pct, r->watched) < 0)
			return -EINVAL;
	}

	r->multi = curl_multi_init();
	if (r->multi == NULL) {
		fprintf(stderr, "loadgen: curl_multi_init failed\n");
		return -ENOMEM;
	}
	/* Connections beyond the calls in flight would only sit idle. */
	curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, (long)o->connections + 1);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* Go's HTTP client, which kube-scheduler uses, sends no Expect. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	r->name_windows = build_name_windows(o->cluster_nodes, o->names);
	r->idle_handles = g_ptr_array_new_with_free_func((GDestroyNotify)curl_easy_cleanup);
	r->pods_total = (guint64)ceil(o->rate * o->duration_s);
	for (int v = 0; v < VERB_COUNT; v++)
		r->verbs[v].latency_us = g_array_new(FALSE, FALSE, sizeof(guint32));
	r->pod_latency_us = g_array_new(FALSE, FALSE, sizeof(guint32));
	r->churn.easy = curl_easy_init();
	r->churn.name_prefix = g_strdup_printf("churn-%x-%" PRIx64, (unsigned)getpid(),
					       (guint64)g_get_real_time());
	r->churn.response = g_string_new(NULL);
	g_queue_init(&r->churn.live);
	g_queue_init(&r->waiting);
	r->rand = g_rand_new_with_seed(1);
	if (r->churn.easy == NULL) {
		fprintf(stderr, "loadgen: curl_easy_init failed\n");
		return -ENOMEM;
	}
	return 0;
}

static void run_release(run *r)
{
	if (r->churn.easy != NULL) {
		if (r->churn.in_flight)
			curl_multi_remove_handle(r->multi, r->churn.easy);
		curl_easy_cleanup(r->churn.easy);
	}
	if (r->churn.response != NULL)
		g_string_free(r->churn.response, TRUE);
	g_free(r->churn.body);
	g_free(r->churn.first_error);
	g_free(r->churn.name_prefix);
	g_queue_clear_full(&r->churn.live, g_free);
	g_queue_clear_full(&r->waiting, (GDestroyNotify)pod_task_free);
	if (r->idle_handles != NULL)
		g_ptr_array_unref(r->idle_handles);
	if (r->multi != NULL)
		curl_multi_cleanup(r->multi);
	curl_slist_free_all(r->headers);
	if (r->name_windows != NULL)
		g_ptr_array_unref(r->name_windows);
	for (int v = 0; v < VERB_COUNT; v++) {
		if (r->verbs[v].latency_us != NULL)
			g_array_unref(r->verbs[v].latency_us);
	}
	if (r->pod_latency_us != NULL)
		g_array_unref(r->pod_latency_us);
	g_ptr_array_unref(r->watched);
	if (r->rand != NULL)
		g_rand_free(r->rand);
	g_free(r->first_error);
	g_free(r->filter_url);
	g_free(r->prioritize_url);
	g_free(r->objects_url);
	g_free(r->compact_url);
}

/* Runs the load and reports it; returns the exit status. */
static int load(const options *o)
{
	run r;
	summary verbs[VERB_COUNT];
	summary pods;
	bool flat;
	int status = EXIT_USAGE;

	if (run_init(&r, o) < 0)
		goto out;
	if (!o->quiet)
		fprintf(stderr, "loadgen: %.0f pods/s for %d s against %s, %d connections%s\n",
			o->rate, o->duration_s, o->url, o->connections,
			o->apiserver != NULL ? ", with churn" : "");
	if (run_loop(&r) < 0)
		goto out;

	for (int v = 0; v < VERB_COUNT; v++)
		verbs[v] = summarize(r.verbs[v].latency_us, 0);
	pods = summarize(r.pod_latency_us, 0);
	print_report(&r, verbs, &pods);
	flat = check_rss(&r);
	if (o->markdown)
		print_markdown(&r, verbs);
	if (o->json_path != NULL && write_json(&r, verbs, &pods, flat) < 0)
		goto out;
	status = total_errors(&r) == 0 && flat && r.pods_done == r.pods_total
			 ? EXIT_SUCCESS
			 : EXIT_CHECK_FAILED;

out:
	run_release(&r);
	return status;
}

int main(int argc, char **argv)
{
	options o = {
		.rate = 100,
		.duration_s = 10,
		.connections = 8,
		.names = 500,
		.cluster_nodes = 5000,
		.pods_per_node = 10,
		.timeout_ms = 5000,
		.churn_rate = 0,
		.churn_pods = 5000,
		.compact_s = 10,
		.interval_s = 10,
		.warmup_s = 0,
		.rss_flat_pct = 0,
	};
	const GOptionEntry entries[] = {
		{"url", 0, 0, G_OPTION_ARG_STRING, &o.url,
		 "Base URL of stowage serve, on a loopback address", "http://127.0.0.1:PORT"},
		{"rate", 0, 0, G_OPTION_ARG_DOUBLE, &o.rate, "Pods per second (default 100)", "N"},
		{"duration", 0, 0, G_OPTION_ARG_INT, &o.duration_s,
		 "Seconds of arrivals (default 10); calls in progress then finish", "S"},
		{"connections", 0, 0, G_OPTION_ARG_INT, &o.connections,
		 "Maximum number of calls in flight, each on its own keep-alive connection "
		 "(default 8)", "N"},
		{"names", 0, 0, G_OPTION_ARG_INT, &o.names,
		 "Node names per filter call (default 500)", "N"},
		{"cluster-nodes", 0, 0, G_OPTION_ARG_INT, &o.cluster_nodes,
		 "Nodes in the cluster, named node-00000 on (default 5000)", "N"},
		{"pods-per-node", 0, 0, G_OPTION_ARG_INT, &o.pods_per_node,
		 "Running pods per node in --write-cluster (default 10)", "K"},
		{"tenants", 0, 0, G_OPTION_ARG_INT, &o.tenants,
		 "Spread every pod, running, churned or pending, over N tenants with the "
		 "label stowage.io/tenant (default 0: no label); give the same N to "
		 "--write-cluster and to the load", "N"},
		{"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms,
		 "A call not finished this long after it was due is a timeout (default 5000, "
		 "kube-scheduler's httpTimeout)", "MS"},
		{"apiserver", 0, 0, G_OPTION_ARG_STRING, &o.apiserver,
		 "Base URL of the test API server to stream pod churn into", "http://127.0.0.1:PORT"},
		{"churn-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o.churn_rate,
		 "Pod changes (ADDED or DELETED) per second sent to --apiserver (default 0)", "N"},
		{"churn-pods", 0, 0, G_OPTION_ARG_INT, &o.churn_pods,
		 "Churn pods alive at once; beyond that the oldest is deleted (default 5000)", "N"},
		{"compact-seconds", 0, 0, G_OPTION_ARG_INT, &o.compact_s,
		 "Seconds between POST /control/compact to --apiserver (default 10)", "S"},
		{"interval", 0, 0, G_OPTION_ARG_INT, &o.interval_s,
		 "Seconds between progress lines and RSS samples (default 10)", "S"},
		{"watch", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.watch,
		 "Sample VmRSS of this process, and with PCT check it as --rss-flat does; "
		 "repeatable", "NAME=PID[:PCT]"},
		{"warmup", 0, 0, G_OPTION_ARG_INT, &o.warmup_s,
		 "Seconds before RSS samples count for --rss-flat (default 0)", "S"},
		{"rss-flat", 0, 0, G_OPTION_ARG_DOUBLE, &o.rss_flat_pct,
		 "Fail when a watched process's RSS after the warm-up spreads more than this "
		 "percentage above its minimum (default 0: not checked)", "PCT"},
		{"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json_path,
		 "Also write the report as JSON to this file", "FILE"},
		{"markdown", 0, 0, G_OPTION_ARG_NONE, &o.markdown,
		 "Also print the report as one Markdown table row", NULL},
		{"quiet", 0, 0, G_OPTION_ARG_NONE, &o.quiet, "No progress lines", NULL},
		{"write-cluster", 0, 0, G_OPTION_ARG_FILENAME, &o.write_cluster,
		 "Write a v1 List of --cluster-nodes nodes with --pods-per-node pods to FILE "
		 "for the test API server, and exit", "FILE"},
		{NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL},
	};
	GOptionContext *context = g_option_context_new("- drive stowage serve like kube-scheduler");
	GError *error = NULL;
	int status = EXIT_USAGE;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "loadgen: %s\n", error->message);
		g_error_free(error);
		goto out;
	}
	if (argc > 1) {
		fprintf(stderr, "loadgen: unexpected argument \"%s\"\n", argv[1]);
		goto out;
	}
	if (validate(&o) < 0)
		goto out;
	tenant_count = o.tenants;
	if (o.write_cluster != NULL) {
		status = write_cluster(o.write_cluster, o.cluster_nodes, o.pods_per_node) < 0
				 ? EXIT_CHECK_FAILED
				 : EXIT_SUCCESS;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "loadgen: curl_global_init failed\n");
		goto out;
	}
	status = load(&o);
	curl_global_cleanup();

out:
	g_option_context_free(context);
	g_free(o.url);
	g_free(o.apiserver);
	g_free(o.write_cluster);
	g_free(o.json_path);
	g_strfreev(o.watch);
	return status;
}
