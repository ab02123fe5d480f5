/* Benchmark of the informer against the test API server
 * (tests/tools/apiserver.c, started as a child process on 127.0.0.1):
 * the initial sync of 5,000 nodes and 150,000 pods shaped like real ones,
 * the JSON throughput of that sync against cJSON parsing alone, the memory
 * the model takes up afterwards, and the rate at which a watch applies a
 * burst of MODIFIED pod events.
 *
 * Pods are generated as a Deployment's pods look in `kubectl get pod -o
 * json` on a recent cluster: labels, annotations, an ownerReference,
 * managedFields from kube-controller-manager and the kubelet, one to three
 * containers (an app, half the time an Envoy sidecar, a quarter of the time
 * a log shipper too) with env, ports, a probe and resources, the service
 * account volume, default tolerations, and a Running status with four
 * conditions and container statuses. They are 4.2 to 6.5 KiB of JSON
 * each, 5 KiB on average.
 *
 * Usage: bench_informer [NODES PODS EVENTS]   (defaults 5000 150000 20000)
 * The API server tool is found in $STOWAGE_TEST_TOOLS or in
 * ../tests/tools/ beside this binary (make build/release/tests/tools/apiserver).
 * Results are printed as Markdown table rows.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/decode.h"
#include "informer/informer.h"

#define MiB (1024.0 * 1024.0)
/* Objects per /control/objects request while loading the server. */
#define LOAD_BATCH 1000
/* Pods per LIST page, client-go's default. */
#define PAGE_SIZE 500
#define SYNC_TIMEOUT_MS 120000

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

/* VmRSS of this process, in bytes, from /proc/self/status. */
static size_t rss_bytes(void)
{
	char *status = NULL;
	const char *line;
	size_t kib = 0;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return 0;
	line = strstr(status, "VmRSS:");
	if (line != NULL)
		kib = strtoull(line + strlen("VmRSS:"), NULL, 10);
	g_free(status);
	return kib * 1024;
}

/* ---- Synthetic objects --------------------------------------------------- */

static const char *const apps[] = {"checkout", "cart", "search", "auth", "payments",
				   "catalog", "ads", "email", "shipping", "frontend"};
static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};

static void node_name(int i, char *buf, size_t size)
{
	snprintf(buf, size, "ip-10-%d-%d-%d.ec2.internal", i / 65536, (i / 256) % 256,
		 i % 256);
}

static void append_node(GString *out, int i)
{
	char name[64];

	node_name(i, name, sizeof(name));
	g_string_append_printf(out,
		"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
		"\"uid\":\"node-%08x-0000-4000-8000-%012x\",\"creationTimestamp\":\"2026-11-02T08:14:03Z\","
		"\"labels\":{\"beta.kubernetes.io/arch\":\"amd64\",\"beta.kubernetes.io/instance-type\":\"m5.4xlarge\","
		"\"beta.kubernetes.io/os\":\"linux\",\"eks.amazonaws.com/nodegroup\":\"general\","
		"\"kubernetes.io/arch\":\"amd64\",\"kubernetes.io/hostname\":\"%s\",\"kubernetes.io/os\":\"linux\","
		"\"node.kubernetes.io/instance-type\":\"m5.4xlarge\",\"topology.kubernetes.io/region\":\"us-east-1\","
		"\"topology.kubernetes.io/zone\":\"%s\"},"
		"\"annotations\":{\"alpha.kubernetes.io/provided-node-ip\":\"10.%d.%d.%d\","
		"\"node.alpha.kubernetes.io/ttl\":\"0\",\"volumes.kubernetes.io/controller-managed-attach-detach\":\"true\"}},"
		"\"spec\":{\"providerID\":\"aws:///%s/i-%016x\"},"
		"\"status\":{\"capacity\":{\"cpu\":\"16\",\"ephemeral-storage\":\"104845292Ki\",\"hugepages-1Gi\":\"0\","
		"\"hugepages-2Mi\":\"0\",\"memory\":\"64453364Ki\",\"pods\":\"110\"},"
		"\"allocatable\":{\"cpu\":\"15890m\",\"ephemeral-storage\":\"95551679124\",\"hugepages-1Gi\":\"0\","
		"\"hugepages-2Mi\":\"0\",\"memory\":\"63436532Ki\",\"pods\":\"110\"},"
		"\"conditions\":["
		"{\"type\":\"MemoryPressure\",\"status\":\"False\",\"lastHeartbeatTime\":\"2026-12-04T20:10:11Z\",\"lastTransitionTime\":\"2026-11-02T08:14:03Z\",\"reason\":\"KubeletHasSufficientMemory\",\"message\":\"kubelet has sufficient memory available\"},"
		"{\"type\":\"DiskPressure\",\"status\":\"False\",\"lastHeartbeatTime\":\"2026-12-04T20:10:11Z\",\"lastTransitionTime\":\"2026-11-02T08:14:03Z\",\"reason\":\"KubeletHasNoDiskPressure\",\"message\":\"kubelet has no disk pressure\"},"
		"{\"type\":\"PIDPressure\",\"status\":\"False\",\"lastHeartbeatTime\":\"2026-12-04T20:10:11Z\",\"lastTransitionTime\":\"2026-11-02T08:14:03Z\",\"reason\":\"KubeletHasSufficientPID\",\"message\":\"kubelet has sufficient PID available\"},"
		"{\"type\":\"Ready\",\"status\":\"True\",\"lastHeartbeatTime\":\"2026-12-04T20:10:11Z\",\"lastTransitionTime\":\"2026-11-02T08:14:34Z\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\"}],"
		"\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.%d.%d.%d\"},{\"type\":\"Hostname\",\"address\":\"%s\"}],"
		"\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10250}},"
		"\"nodeInfo\":{\"machineID\":\"ec2%029x\",\"systemUUID\":\"ec2%029x\",\"bootID\":\"%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b\","
		"\"kernelVersion\":\"5.10.226-214.880.amzn2.x86_64\",\"osImage\":\"Amazon Linux 2\",\"containerRuntimeVersion\":\"containerd://1.7.22\","
		"\"kubeletVersion\":\"v1.30.4-eks-a737599\",\"kubeProxyVersion\":\"v1.30.4-eks-a737599\",\"operatingSystem\":\"linux\",\"architecture\":\"amd64\"},"
		"\"images\":[{\"names\":[\"602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni@sha256:5a0d4c5c9e4b1b7f7d2f7c3c8d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e\"],\"sizeBytes\":48012345},"
		"{\"names\":[\"registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097\",\"registry.k8s.io/pause:3.9\"],\"sizeBytes\":321520}]}}",
		name, (unsigned)i, (unsigned)i * 2654435761u, name, zones[i % 3], i / 65536,
		(i / 256) % 256, i % 256, zones[i % 3], (unsigned)i * 40503u, i / 65536,
		(i / 256) % 256, i % 256, name, (unsigned)i, (unsigned)i, (unsigned)i);
}

static void append_container(GString *out, const char *name, const char *image,
			     const char *cpu, const char *memory, int port)
{
	g_string_append_printf(out,
		"{\"name\":\"%s\",\"image\":\"%s\",\"ports\":[{\"name\":\"http\",\"containerPort\":%d,\"protocol\":\"TCP\"}],"
		"\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
		"\"resources\":{\"limits\":{\"memory\":\"%s\"},\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}},"
		"\"volumeMounts\":[{\"name\":\"kube-api-access-x7k2p\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
		"\"readinessProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":%d,\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":5,\"successThreshold\":1,\"failureThreshold\":3},"
		"\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}",
		name, image, port, memory, cpu, memory, port);
}

static void append_container_status(GString *out, const char *name, const char *image,
				    int i)
{
	g_string_append_printf(out,
		"{\"name\":\"%s\",\"state\":{\"running\":{\"startedAt\":\"2026-12-03T11:02:41Z\"}},\"lastState\":{},"
		"\"ready\":true,\"restartCount\":0,\"image\":\"%s\",\"imageID\":\"%s@sha256:%064x\","
		"\"containerID\":\"containerd://%016x%016x%032x\",\"started\":true}",
		name, image, image, (unsigned)i, (unsigned)i, (unsigned)(i * 7), (unsigned)(i * 13));
}

/* Appends pod `i` of `n_nodes` nodes; `generation` varies its status and
 * labels for MODIFIED events. */
static void append_pod(GString *out, int i, int n_nodes, int generation)
{
	const char *app = apps[i % G_N_ELEMENTS(apps)];
	unsigned hash = (unsigned)(i / 10) * 2654435761u;
	char node[64], image[96], sidecar_image[] = "docker.io/envoyproxy/envoy:v1.31.2";
	/* Half the pods carry a sidecar, a quarter a log shipper too. */
	int containers = i % 2 == 0 ? 1 : (i % 4 == 1 ? 2 : 3);

	node_name((int)((unsigned)i * 7919u % (unsigned)n_nodes), node, sizeof(node));
	snprintf(image, sizeof(image), "123456789012.dkr.ecr.us-east-1.amazonaws.com/%s:v2.%d.%d",
		 app, i % 7, i % 13);
	g_string_append_printf(out,
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s-%08x-%05x\","
		"\"generateName\":\"%s-%08x-\",\"namespace\":\"team-%02d\",\"uid\":\"%08x-%04x-4%03x-8%03x-%012x\","
		"\"creationTimestamp\":\"2026-12-03T11:02:35Z\","
		"\"labels\":{\"app\":\"%s\",\"app.kubernetes.io/version\":\"v2.%d\",\"pod-template-hash\":\"%08x\",\"team\":\"team-%02d\",\"generation\":\"g%d\"},"
		"\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-12-01T09:00:00Z\"},"
		"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"%s-%08x\",\"uid\":\"%08x-aaaa-4bbb-8ccc-%012x\",\"controller\":true,\"blockOwnerDeletion\":true}],"
		"\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-12-03T11:02:35Z\",\"fieldsType\":\"FieldsV1\","
		"\"fieldsV1\":{\"f:metadata\":{\"f:annotations\":{\".\":{},\"f:kubectl.kubernetes.io/restartedAt\":{}},\"f:generateName\":{},\"f:labels\":{\".\":{},\"f:app\":{},\"f:pod-template-hash\":{}},"
		"\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"%08x-aaaa-4bbb-8ccc-%012x\\\"}\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"%s\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:resources\":{}}}}}},"
		"{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-12-03T11:02:42Z\",\"fieldsType\":\"FieldsV1\",\"subresource\":\"status\","
		"\"fieldsV1\":{\"f:status\":{\"f:conditions\":{\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}}},"
		"\"f:containerStatuses\":{},\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{},\"f:startTime\":{}}}}]},",
		app, hash, i % 1048576, app, hash, i % 40, (unsigned)i * 2654435761u, i % 65536,
		i % 4096, (i / 7) % 4096, (unsigned)i, app, i % 7, hash, i % 40, generation,
		app, hash, hash, (unsigned)i / 10, hash, (unsigned)i / 10, app);

	g_string_append(out, "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-x7k2p\",\"projected\":{\"sources\":["
			     "{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
			     "{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},"
			     "{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],"
			     "\"defaultMode\":420}}],\"containers\":[");
	append_container(out, app, image, i % 5 == 0 ? "1" : "250m", "512Mi", 8080);
	if (containers >= 2) {
		g_string_append_c(out, ',');
		append_container(out, "envoy", sidecar_image, "100m", "128Mi", 9901);
	}
	if (containers == 3) {
		g_string_append_c(out, ',');
		append_container(out, "log-shipper", "docker.io/fluent/fluent-bit:3.1.9",
				 "50m", "64Mi", 2020);
	}
	g_string_append_printf(out,
		"],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
		"\"serviceAccountName\":\"%s\",\"serviceAccount\":\"%s\",\"nodeName\":\"%s\",\"securityContext\":{},"
		"\"schedulerName\":\"default-scheduler\",\"tolerations\":["
		"{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
		"{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
		"\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},",
		app, app, node);

	g_string_append_printf(out,
		"\"status\":{\"phase\":\"Running\",\"conditions\":["
		"{\"type\":\"Initialized\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-12-03T11:02:35Z\"},"
		"{\"type\":\"Ready\",\"status\":\"%s\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-12-03T11:02:%02dZ\"},"
		"{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-12-03T11:02:42Z\"},"
		"{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-12-03T11:02:35Z\"}],"
		"\"hostIP\":\"10.0.%d.%d\",\"hostIPs\":[{\"ip\":\"10.0.%d.%d\"}],\"podIP\":\"10.1.%d.%d\",\"podIPs\":[{\"ip\":\"10.1.%d.%d\"}],"
		"\"startTime\":\"2026-12-03T11:02:35Z\",\"containerStatuses\":[",
		generation % 2 == 0 ? "True" : "False", generation % 60, (i / 256) % 256, i % 256,
		(i / 256) % 256, i % 256, (i / 256) % 256, i % 256, (i / 256) % 256, i % 256);
	append_container_status(out, app, image, i);
	if (containers >= 2) {
		g_string_append_c(out, ',');
		append_container_status(out, "envoy", sidecar_image, i);
	}
	if (containers == 3) {
		g_string_append_c(out, ',');
		append_container_status(out, "log-shipper", "docker.io/fluent/fluent-bit:3.1.9", i);
	}
	g_string_append(out, "],\"qosClass\":\"Burstable\"}}");
}

/* ---- Talking to the test API server --------------------------------------- */

typedef struct apiserver {
	GPid pid;
	int stdin_fd;
	char url[64];
} apiserver;

static size_t discard(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

/* POSTs `body` to the control endpoint `path`; returns 0 on HTTP 200. */
static int control(const apiserver *server, CURL *curl, const char *path,
		   const char *body, size_t length)
{
	char *url = g_strconcat(server->url, path, NULL);
	long status = 0;
	CURLcode result;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)length);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	result = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	g_free(url);
	if (result != CURLE_OK || status != 200) {
		fprintf(stderr, "bench_informer: POST %s failed: %s, HTTP %ld\n", path,
			curl_easy_strerror(result), status);
		return -EIO;
	}
	return 0;
}

static char *tool_path(void)
{
	const char *dir = g_getenv("STOWAGE_TEST_TOOLS");
	char *self, *self_dir, *path;

	if (dir != NULL)
		return g_build_filename(dir, "apiserver", NULL);
	self = g_file_read_link("/proc/self/exe", NULL);
	if (self == NULL)
		return g_strdup("apiserver");
	self_dir = g_path_get_dirname(self);
	path = g_build_filename(self_dir, "..", "tests", "tools", "apiserver", NULL);
	g_free(self_dir);
	g_free(self);
	return path;
}

static int apiserver_start(apiserver *server)
{
	char *tool = tool_path();
	char *argv[] = {tool, NULL};
	GError *error = NULL;
	char line[64] = "";
	int stdout_fd = -1;
	FILE *out;
	int rc = -EIO;

	if (!g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE)) {
		fprintf(stderr, "bench_informer: the test API server %s is missing; build it with make build/release/tests/tools/apiserver\n",
			tool);
		goto out;
	}
	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				      NULL, &server->pid, &server->stdin_fd, &stdout_fd,
				      NULL, &error)) {
		fprintf(stderr, "bench_informer: cannot start %s: %s\n", tool, error->message);
		g_error_free(error);
		goto out;
	}
	out = fdopen(stdout_fd, "r");
	if (out != NULL && fgets(line, sizeof(line), out) != NULL && atoi(line) > 0) {
		g_snprintf(server->url, sizeof(server->url), "http://127.0.0.1:%d", atoi(line));
		rc = 0;
	} else {
		fprintf(stderr, "bench_informer: %s did not print its port\n", tool);
	}
	if (out != NULL)
		fclose(out);
out:
	g_free(tool);
	return rc;
}

static void apiserver_stop(apiserver *server)
{
	if (server->pid == 0)
		return;
	close(server->stdin_fd);
	waitpid(server->pid, NULL, 0);
	g_spawn_close_pid(server->pid);
}

/* Sends `n` objects made by `append` in batches of LOAD_BATCH as `type`
 * changes; counts their JSON bytes into `*bytes`. */
static int load(const apiserver *server, CURL *curl, const char *type, int n,
		void (*append)(GString *, int, int, int), int n_nodes, int generation,
		bool compact, uint64_t *bytes)
{
	GString *body = g_string_sized_new(8 * 1024 * 1024);

	for (int start = 0; start < n; start += LOAD_BATCH) {
		g_string_assign(body, "[");
		for (int i = start; i < n && i < start + LOAD_BATCH; i++) {
			size_t before;

			if (i > start)
				g_string_append_c(body, ',');
			g_string_append_printf(body, "{\"type\":\"%s\",\"object\":", type);
			before = body->len;
			append(body, i, n_nodes, generation);
			*bytes += body->len - before;
			g_string_append_c(body, '}');
		}
		g_string_append_c(body, ']');
		if (control(server, curl, "/control/objects", body->str, body->len) < 0 ||
		    (compact && control(server, curl, "/control/compact", "", 0) < 0)) {
			g_string_free(body, true);
			return -EIO;
		}
	}
	g_string_free(body, true);
	return 0;
}

static void append_node_adapter(GString *out, int i, int n_nodes, int generation)
{
	(void)n_nodes;
	(void)generation;
	append_node(out, i);
}

/* ---- Measurements -------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	g_string_append_len(user, data, (gssize)(size * n));
	return size * n;
}

/* Returns the first LIST page of pods as the server sends it to the
 * reflector, or NULL. */
static GString *fetch_page(const apiserver *server, CURL *curl)
{
	char *url = g_strdup_printf("%s/api/v1/pods?limit=%d", server->url, PAGE_SIZE);
	GString *page = g_string_new(NULL);
	long status = 0;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, page);
	if (curl_easy_perform(curl) != CURLE_OK ||
	    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status != 200) {
		g_string_free(page, true);
		page = NULL;
	}
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
	g_free(url);
	return page;
}

typedef struct parse_job {
	const GString *page;
	double parse_mb_s, decode_mb_s;
} parse_job;

/* Times cJSON alone, and cJSON plus inf_decode_pod(), on one LIST page, to
 * compare the sync with. */
static gpointer run_parse_job(gpointer data)
{
	parse_job *job = data;
	const GString *page = job->page;
	score_resource_table *resources = score_resource_table_new();
	int rounds = 20;
	int64_t started;

	started = now_ns();
	for (int r = 0; r < rounds; r++)
		cJSON_Delete(cJSON_ParseWithLength(page->str, page->len));
	job->parse_mb_s = (double)page->len * rounds / MiB / ((now_ns() - started) / 1e9);

	started = now_ns();
	for (int r = 0; r < rounds; r++) {
		cJSON *list = cJSON_ParseWithLength(page->str, page->len);
		const cJSON *item;

		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
			score_pod *pod = NULL;
			score_error err = {0};

			if (inf_decode_pod(item, resources, &pod, &err) == 0)
				score_pod_free(pod);
		}
		cJSON_Delete(list);
	}
	job->decode_mb_s = (double)page->len * rounds / MiB / ((now_ns() - started) / 1e9);
	score_resource_table_free(resources);
	return NULL;
}

/* Runs the parse timing on a thread of its own, as a reflector parses. */
static int measure_parsing(const apiserver *server, CURL *curl, double *parse_mb_s,
			   double *decode_mb_s)
{
	GString *page = fetch_page(server, curl);
	parse_job job = {.page = page};

	if (page == NULL) {
		fprintf(stderr, "bench_informer: cannot fetch a page of pods\n");
		return -EIO;
	}
	g_thread_join(g_thread_new("parse", run_parse_job, &job));
	*parse_mb_s = job.parse_mb_s;
	*decode_mb_s = job.decode_mb_s;
	g_string_free(page, true);
	return 0;
}

static uint64_t pod_events(inf_informer *informer)
{
	inf_reflector_stats stats;

	inf_reflector_get_stats(inf_informer_reflector(informer, INF_RESOURCE_PODS), &stats);
	return stats.events;
}

static uint64_t pod_watch_failures(inf_informer *informer)
{
	inf_reflector_stats stats;

	inf_reflector_get_stats(inf_informer_reflector(informer, INF_RESOURCE_PODS), &stats);
	return stats.watch_failures;
}

/* Holds the pods watch down while `n_events` MODIFIED events pile up in
 * the server's history, then lets it resume and times how long the
 * reflector takes to apply them all. Returns events per second, or -1. */
static double apply_rate(const apiserver *server, CURL *curl, inf_informer *informer,
			 int n_events, int n_nodes, uint64_t *bytes)
{
	static const char down[] =
		"{\"path\":\"/api/v1/pods\",\"watch\":true,\"status\":503,\"times\":-1}";
	uint64_t before = pod_events(informer), failures = pod_watch_failures(informer);
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	int64_t started;

	if (control(server, curl, "/control/faults", down, strlen(down)) < 0 ||
	    control(server, curl, "/control/close-watches", "", 0) < 0)
		return -1;
	while (pod_watch_failures(informer) == failures && g_get_monotonic_time() < deadline)
		g_usleep(1000);
	if (load(server, curl, "MODIFIED", n_events, append_pod, n_nodes, 1, false, bytes) < 0)
		return -1;

	started = now_ns();
	if (control(server, curl, "/control/clear-faults", "", 0) < 0)
		return -1;
	while (pod_events(informer) < before + (uint64_t)n_events &&
	       g_get_monotonic_time() < deadline)
		g_usleep(1000);
	if (pod_events(informer) < before + (uint64_t)n_events) {
		fprintf(stderr, "bench_informer: only %" PRIu64 " of %d events applied within 60 s\n",
			pod_events(informer) - before, n_events);
		return -1;
	}
	return n_events / ((now_ns() - started) / 1e9);
}

int main(int argc, char **argv)
{
	int n_nodes = argc > 3 ? atoi(argv[1]) : 5000;
	int n_pods = argc > 3 ? atoi(argv[2]) : 150000;
	int n_events = argc > 3 ? atoi(argv[3]) : 20000;
	score_resource_table *resources = NULL;
	score_model *model = NULL;
	inf_informer *informer = NULL;
	inf_rest_config rest = {0};
	inf_informer_config config = {0};
	apiserver server = {0};
	uint64_t node_bytes = 0, pod_bytes = 0, event_bytes = 0;
	size_t heap0, heap1, rss0, rss1;
	double parse_mb_s, decode_mb_s, sync_s, rate;
	score_error err = {0};
	GRWLock lock;
	CURL *curl;
	int64_t started;
	int status = 1;

	if (argc != 1 && argc != 4) {
		fprintf(stderr, "usage: bench_informer [NODES PODS EVENTS]\n");
		return 2;
	}
	if (n_nodes <= 0 || n_pods <= 0 || n_events <= 0) {
		fprintf(stderr, "bench_informer: NODES, PODS and EVENTS must be positive\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	g_rw_lock_init(&lock);
	if (apiserver_start(&server) < 0)
		goto out;

	fprintf(stderr, "bench_informer: loading %d nodes and %d pods into %s\n", n_nodes,
		n_pods, server.url);
	started = now_ns();
	if (load(&server, curl, "ADDED", n_nodes, append_node_adapter, n_nodes, 0, true,
		 &node_bytes) < 0 ||
	    load(&server, curl, "ADDED", n_pods, append_pod, n_nodes, 0, true, &pod_bytes) < 0)
		goto out;
	fprintf(stderr, "bench_informer: loaded in %.1f s\n", (now_ns() - started) / 1e9);
	if (measure_parsing(&server, curl, &parse_mb_s, &decode_mb_s) < 0)
		goto out;

	resources = score_resource_table_new();
	model = score_model_new(resources);
	malloc_trim(0);
	heap0 = heap_in_use();
	rss0 = rss_bytes();
	rest.server = server.url;
	config.rest = &rest;
	config.model = model;
	config.lock = &lock;
	config.backoff_initial_ms = 20;
	config.backoff_max_ms = 100;
	started = now_ns();
	if (inf_informer_start(&config, &informer, &err) < 0 ||
	    inf_informer_wait_synced(informer, SYNC_TIMEOUT_MS, &err) < 0) {
		fprintf(stderr, "bench_informer: %s\n", err.message);
		goto out;
	}
	sync_s = (now_ns() - started) / 1e9;
	malloc_trim(0);
	heap1 = heap_in_use();
	rss1 = rss_bytes();

	rate = apply_rate(&server, curl, informer, n_events, n_nodes, &event_bytes);
	if (rate < 0)
		goto out;

	printf("## Informer (%d nodes, %d pods)\n\n", n_nodes, n_pods);
	printf("| measure | value |\n|---|---|\n");
	printf("| pod JSON, average | %.0f bytes |\n", (double)pod_bytes / n_pods);
	printf("| node JSON, average | %.0f bytes |\n", (double)node_bytes / n_nodes);
	printf("| initial sync (5 resources, pages of %d) | %.2f s |\n", PAGE_SIZE, sync_s);
	printf("| sync throughput, JSON listed | %.0f MB/s |\n",
	       (double)(pod_bytes + node_bytes) / MiB / sync_s);
	printf("| cJSON parse alone, one page | %.0f MB/s |\n", parse_mb_s);
	printf("| cJSON parse + pod decode, one page | %.0f MB/s |\n", decode_mb_s);
	printf("| VmRSS before the informer | %.0f MiB |\n", rss0 / MiB);
	printf("| VmRSS after the sync | %.0f MiB |\n", rss1 / MiB);
	printf("| VmRSS growth per pod | %.0f bytes |\n", ((double)rss1 - (double)rss0) / n_pods);
	printf("| heap growth per pod (model, keys, nodes) | %.0f bytes |\n",
	       ((double)heap1 - (double)heap0) / n_pods);
	printf("| MODIFIED pod events applied | %.0f events/s (%d events, %.0f MB/s) |\n\n",
	       rate, n_events, rate * ((double)event_bytes / n_events) / MiB);
	fflush(stdout);
	status = 0;
out:
	inf_informer_free(informer);
	score_model_free(model);
	score_resource_table_free(resources);
	apiserver_stop(&server);
	g_rw_lock_clear(&lock);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return status;
}
