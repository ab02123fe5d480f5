/* Benchmark of the extender service: model memory per node and per pod,
 * and filter/prioritize latency and throughput over loopback HTTP, on a
 * synthetic cluster of 5,000 nodes and 150,000 pods.
 *
 * The server runs in this process with one worker thread, and a client
 * thread sends requests one after another on a keep-alive connection, so
 * each latency is one full HTTP round trip including JSON decoding of the
 * request, the pipeline, the decision log line and encoding the answer.
 * The same verbs are also timed without HTTP (sched_extender_handle()
 * called directly), which is what one core can sustain.
 *
 * Usage: bench_extender [NODES PODS]   (defaults 5000 150000)
 * Results are printed as Markdown table rows for docs/benchmarks.md.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/extender.h"
#include "scheduler/log.h"
#include "scheduler/metrics.h"
#include "scheduler/server.h"

#define MiB (1024LL * 1024)
#define GiB (1024 * MiB)

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return info.uordblks + info.hblkhd;
}

/* ---- Synthetic cluster --------------------------------------------------- */

static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
static const char *const instance_types[] = {"m5.4xlarge", "m5.8xlarge", "c5.9xlarge",
					     "r5.4xlarge"};
static const char *const apps[] = {"checkout", "cart", "search", "auth", "payments",
				   "catalog", "ads", "email", "shipping", "frontend"};

static void add_nodes(score_model *model, int n_nodes)
{
	char buf[128];

	for (int i = 0; i < n_nodes; i++) {
		score_node *node = score_node_new();

		snprintf(buf, sizeof(buf), "ip-10-%d-%d-%d.ec2.internal", i / 65536,
			 (i / 256) % 256, i % 256);
		node->name = score_intern(buf);
		node->allocatable.v[SCORE_RES_CPU] = 15890;
		node->allocatable.v[SCORE_RES_MEMORY] = 62 * GiB;
		node->allocatable.v[SCORE_RES_EPHEMERAL_STORAGE] = 95 * GiB;
		node->allocatable.v[SCORE_RES_PODS] = 110;
		score_labels_set(&node->labels, "kubernetes.io/hostname", buf);
		score_labels_set(&node->labels, "kubernetes.io/os", "linux");
		score_labels_set(&node->labels, "kubernetes.io/arch", "amd64");
		score_labels_set(&node->labels, "topology.kubernetes.io/region", "us-east-1");
		score_labels_set(&node->labels, "topology.kubernetes.io/zone", zones[i % 3]);
		score_labels_set(&node->labels, "node.kubernetes.io/instance-type",
				 instance_types[i % 4]);
		snprintf(buf, sizeof(buf), "rack-%03d", i / 40);
		score_labels_set(&node->labels, "topology.stowage.io/rack", buf);
		score_labels_set(&node->labels, "eks.amazonaws.com/nodegroup", "general");
		if (i % 50 == 0) {
			node->taints = g_new0(score_taint, 1);
			node->taints[0] = (score_taint){score_intern("dedicated"),
							score_intern("batch"),
							SCORE_EFFECT_NO_SCHEDULE};
			node->n_taints = 1;
		}
		score_model_put_node(model, node);
	}
}

static void add_pods(score_model *model, int n_nodes, int n_pods)
{
	char buf[128];

	for (int i = 0; i < n_pods; i++) {
		score_pod *pod = score_pod_new();
		score_container containers[2];
		const char *app = apps[i % G_N_ELEMENTS(apps)];

		memset(containers, 0, sizeof(containers));
		snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-8%03x-%012x", i * 2654435761u,
			 i % 65536, i % 4096, (i * 7) % 4096, i);
		pod->uid = score_intern(buf);
		snprintf(buf, sizeof(buf), "%s-%05x-%05x", app, (i / 10) % 1048576, i % 1048576);
		pod->name = score_intern(buf);
		snprintf(buf, sizeof(buf), "team-%02d", i % 40);
		pod->namespace = score_intern(buf);
		score_labels_set(&pod->labels, "app.kubernetes.io/name", app);
		score_labels_set(&pod->labels, "app.kubernetes.io/part-of", "shop");
		snprintf(buf, sizeof(buf), "%08x", (i / 30) * 40503u);
		score_labels_set(&pod->labels, "pod-template-hash", buf);
		score_labels_set(&pod->labels, "tier", i % 3 ? "backend" : "frontend");

		containers[0].requests.v[SCORE_RES_CPU] = 100 + (i % 5) * 50;
		containers[0].requests.v[SCORE_RES_MEMORY] = (128 + (i % 4) * 64) * MiB;
		containers[0].present = (1u << SCORE_RES_CPU) | (1u << SCORE_RES_MEMORY);
		containers[1].requests.v[SCORE_RES_CPU] = 50;
		containers[1].requests.v[SCORE_RES_MEMORY] = 64 * MiB;
		containers[1].present = containers[0].present;
		score_pod_compute_request(containers, 2, NULL, 0, NULL, &pod->request,
					  &pod->nonzero_request);

		snprintf(buf, sizeof(buf), "ip-10-%d-%d-%d.ec2.internal",
			 (i % n_nodes) / 65536, ((i % n_nodes) / 256) % 256,
			 (i % n_nodes) % 256);
		pod->node_name = score_intern(buf);
		pod->phase = SCORE_POD_RUNNING;
		score_model_put_pod(model, pod);
	}
}

/* ---- Request bodies ------------------------------------------------------ */

static cJSON *bench_pod(void)
{
	/* A Deployment pod as kube-scheduler sends it, trimmed of nothing
	 * that the API server would include. */
	static const char pod_json[] =
		"{\"metadata\":{\"name\":\"checkout-7d9f8c6b5-x2k4p\",\"generateName\":\"checkout-7d9f8c6b5-\","
		"\"namespace\":\"team-07\",\"uid\":\"2f1d7a9e-5b0c-4d3e-9a8f-1c2b3d4e5f60\","
		"\"resourceVersion\":\"4812345\",\"creationTimestamp\":\"2026-12-04T19:26:01Z\","
		"\"labels\":{\"app.kubernetes.io/name\":\"checkout\",\"app.kubernetes.io/part-of\":\"shop\","
		"\"pod-template-hash\":\"7d9f8c6b5\",\"tier\":\"backend\"},"
		"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"checkout-7d9f8c6b5\","
		"\"uid\":\"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
		"\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-kmkt7\",\"projected\":{\"sources\":["
		"{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
		"{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},"
		"{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],"
		"\"defaultMode\":420}}],"
		"\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/checkout:1.42.0\","
		"\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],"
		"\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"},\"limits\":{\"memory\":\"512Mi\"}},"
		"\"volumeMounts\":[{\"name\":\"kube-api-access-kmkt7\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
		"\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"},"
		"{\"name\":\"proxy\",\"image\":\"registry.example/envoy:1.31\",\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"}}}],"
		"\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
		"\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\",\"securityContext\":{},"
		"\"schedulerName\":\"default-scheduler\",\"tolerations\":["
		"{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
		"{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
		"\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
		"\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}";

	return cJSON_Parse(pod_json);
}

static char *node_name(int i, char *buf, size_t size)
{
	snprintf(buf, size, "ip-10-%d-%d-%d.ec2.internal", i / 65536, (i / 256) % 256, i % 256);
	return buf;
}

static cJSON *full_node(int i)
{
	char name[64];
	char json[2048];

	node_name(i, name, sizeof(name));
	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"%s\",\"uid\":\"3ec58c6f-c119-49ff-a713-%012d\","
		 "\"resourceVersion\":\"200\",\"labels\":{\"kubernetes.io/hostname\":\"%s\","
		 "\"kubernetes.io/os\":\"linux\",\"kubernetes.io/arch\":\"amd64\","
		 "\"topology.kubernetes.io/zone\":\"%s\",\"node.kubernetes.io/instance-type\":\"m5.4xlarge\"}},"
		 "\"spec\":{\"providerID\":\"aws:///us-east-1a/i-0123456789abcdef0\"},"
		 "\"status\":{\"capacity\":{\"cpu\":\"16\",\"memory\":\"64Gi\",\"ephemeral-storage\":\"100Gi\",\"pods\":\"110\"},"
		 "\"allocatable\":{\"cpu\":\"15890m\",\"memory\":\"62Gi\",\"ephemeral-storage\":\"95Gi\",\"pods\":\"110\"},"
		 "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastHeartbeatTime\":\"2026-12-04T19:00:00Z\","
		 "\"lastTransitionTime\":\"2026-12-01T00:00:00Z\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\"}],"
		 "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"%s\"}],"
		 "\"nodeInfo\":{\"kubeletVersion\":\"v1.31.2\",\"containerRuntimeVersion\":\"containerd://1.7.22\","
		 "\"operatingSystem\":\"linux\",\"architecture\":\"amd64\"}}}",
		 name, i, name, zones[i % 3], name);
	return cJSON_Parse(json);
}

/* Builds an ExtenderArgs body with `n` candidates, as names or objects. */
static char *request_body(int n, int n_nodes, bool full_nodes)
{
	cJSON *args = cJSON_CreateObject();
	char name[64];
	char *text;

	cJSON_AddItemToObject(args, "Pod", bench_pod());
	if (full_nodes) {
		cJSON *list = cJSON_AddObjectToObject(args, "Nodes");
		cJSON *items = cJSON_AddArrayToObject(list, "items");

		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(items, full_node((i * 7) % n_nodes));
		cJSON_AddNullToObject(args, "NodeNames");
	} else {
		cJSON *names = cJSON_AddArrayToObject(args, "NodeNames");

		cJSON_AddNullToObject(args, "Nodes");
		/* Spread like kube-scheduler's rotating start index. */
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(names, cJSON_CreateString(
							    node_name((i * 7) % n_nodes, name, sizeof(name))));
	}
	text = cJSON_PrintUnformatted(args);
	cJSON_Delete(args);
	return text;
}

/* ---- Timing -------------------------------------------------------------- */

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

typedef struct case_result {
	double p50_ms, p99_ms, max_ms, calls_per_s;
} case_result;

static void summarize(int64_t *samples, int n, int64_t total_ns, case_result *out)
{
	qsort(samples, (size_t)n, sizeof(samples[0]), compare_i64);
	out->p50_ms = samples[n / 2] / 1e6;
	out->p99_ms = samples[(n * 99) / 100] / 1e6;
	out->max_ms = samples[n - 1] / 1e6;
	out->calls_per_s = n / (total_ns / 1e9);
}

static int run_http(const char *url, const char *body, int warmup, int n, case_result *out)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	int64_t *samples = g_new(int64_t, n);
	int64_t start;
	int rc = 0;

	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");

	start = now_ns();
	for (int i = 0; i < warmup + n; i++) {
		int64_t t0 = now_ns();
		long status = 0;

		if (curl_easy_perform(curl) != CURLE_OK) {
			rc = -1;
			break;
		}
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			fprintf(stderr, "bench: %s returned HTTP %ld, expected 200\n", url, status);
			rc = -1;
			break;
		}
		if (i == warmup)
			start = t0;
		if (i >= warmup)
			samples[i - warmup] = now_ns() - t0;
	}
	if (rc == 0)
		summarize(samples, n, now_ns() - start, out);

	g_free(samples);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc;
}

static void run_direct(const sched_extender *extender, sched_verb verb, const char *body,
		       int n, case_result *out)
{
	int64_t *samples = g_new(int64_t, n);
	size_t length = strlen(body);
	int64_t start = now_ns();

	for (int i = 0; i < n; i++) {
		sched_extender_response response = {0};
		int64_t t0 = now_ns();

		sched_extender_handle(extender, verb, body, length, &response);
		samples[i] = now_ns() - t0;
		g_free(response.body);
	}
	summarize(samples, n, now_ns() - start, out);
	g_free(samples);
}

static void print_row(const char *what, const case_result *r)
{
	printf("| %s | %.3f | %.3f | %.3f | %.0f |\n", what, r->p50_ms, r->p99_ms, r->max_ms,
	       r->calls_per_s);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int n_nodes = argc > 2 ? atoi(argv[1]) : 5000;
	int n_pods = argc > 2 ? atoi(argv[2]) : 150000;
	sched_cluster cluster;
	sched_extender extender = {0};
	sched_server_config config;
	sched_metrics *metrics;
	sched_server *server = NULL;
	sched_log *log;
	score_error err = {0};
	FILE *devnull = fopen("/dev/null", "w");
	size_t heap0, heap1, heap2;
	int64_t t0, t1, t2;
	char url[256];
	case_result r;
	static const struct {
		const char *label;
		sched_verb verb;
		int n;
		bool full;
		int calls;
	} cases[] = {
		{"filter, 500 names", SCHED_VERB_FILTER, 500, false, 5000},
		{"prioritize, 500 names", SCHED_VERB_PRIORITIZE, 500, false, 5000},
		{"filter, 5,000 names", SCHED_VERB_FILTER, 5000, false, 1000},
		{"prioritize, 5,000 names", SCHED_VERB_PRIORITIZE, 5000, false, 1000},
		{"filter, 500 full Nodes", SCHED_VERB_FILTER, 500, true, 500},
		{"prioritize, 500 full Nodes", SCHED_VERB_PRIORITIZE, 500, true, 500},
	};

	if (n_nodes <= 0 || n_pods < 0 || devnull == NULL) {
		fprintf(stderr, "usage: bench_extender [NODES PODS]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sched_cluster_init(&cluster);

	fprintf(stderr, "bench: building %d nodes and %d pods\n", n_nodes, n_pods);
	heap0 = heap_in_use();
	t0 = now_ns();
	add_nodes(cluster.model, n_nodes);
	t1 = now_ns();
	heap1 = heap_in_use();
	add_pods(cluster.model, n_nodes, n_pods);
	t2 = now_ns();
	heap2 = heap_in_use();

	printf("## Model memory (%d nodes, %d pods)\n\n", n_nodes, n_pods);
	printf("| what | bytes each | build time |\n|---|---|---|\n");
	printf("| node | %.0f | %.1f ms for all |\n", (double)(heap1 - heap0) / n_nodes,
	       (t1 - t0) / 1e6);
	if (n_pods > 0)
		printf("| pod | %.0f | %.1f ms for all |\n\n", (double)(heap2 - heap1) / n_pods,
		       (t2 - t1) / 1e6);

	log = sched_log_new(devnull, SCHED_LOG_JSON, SCHED_LOG_INFO);
	metrics = sched_metrics_new();
	extender.cluster = &cluster;
	extender.log = log;
	extender.top_scores = 5;

	printf("## Verb latency, direct calls on one thread (decision log on)\n\n");
	printf("| case | p50 ms | p99 ms | max ms | calls/s |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *body = request_body(cases[i].n, n_nodes, cases[i].full);

		run_direct(&extender, cases[i].verb, body, cases[i].calls, &r);
		print_row(cases[i].label, &r);
		cJSON_free(body);
	}

	sched_server_config_init(&config);
	config.listen = "127.0.0.1:0";
	config.threads = 1;
	if (sched_server_start(&config, &extender, metrics, log, &server, &err) < 0) {
		fprintf(stderr, "bench: cannot start the server: %s\n", err.message);
		return 1;
	}

	printf("\n## Verb latency over loopback HTTP, server on one thread\n\n");
	printf("| case | p50 ms | p99 ms | max ms | calls/s |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *body = request_body(cases[i].n, n_nodes, cases[i].full);

		snprintf(url, sizeof(url), "http://%s/%s", sched_server_address(server),
			 sched_verb_name(cases[i].verb));
		if (run_http(url, body, 50, cases[i].calls, &r) < 0) {
			fprintf(stderr, "bench: HTTP case \"%s\" failed\n", cases[i].label);
			return 1;
		}
		print_row(cases[i].label, &r);
		cJSON_free(body);
	}

	sched_server_free(server);
	sched_metrics_free(metrics);
	sched_log_free(log);
	sched_cluster_release(&cluster);
	fclose(devnull);
	curl_global_cleanup();
	return 0;
}
