/* Benchmark of policy criteria: the time one filter + prioritize of 500
 * candidates takes through the scoring pipeline. It times contention only,
 * then tenant isolation added, then locality from NetworkPolicies added as
 * well, and locality without isolation. Each policy's digests are built
 * first, as serve's policy loader does, and the time it takes is printed.
 * The last rows move pods between calls, as binds and deletions do, so
 * that digests go stale and are rebuilt on the request path.
 *
 * The synthetic cluster has 5,000 nodes in 3 zones with racks of 40, and
 * 150,000 pods of 200 tenants: one namespace each, with 10 apps of 75 pods.
 * Its 2,000 NetworkPolicies let each app receive from the previous app, and
 * the first app of each tenant also from a monitoring namespace. Each
 * request is a pending pod of a random tenant and app, whose NetworkPolicy
 * peers are the 150 pods of the two neighbouring apps.
 *
 * The calls run on one thread the way the extender runs them: filter and
 * score on one request with a shared cache, without HTTP or JSON.
 *
 * Usage: bench_policy [CALLS]   (default 3000)
 * Results are printed as Markdown table rows for docs/benchmarks.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "informer/network_policy.h"
#include "policies/policy.h"
#include "scoring/netpol.h"

#define N_NODES 5000
#define N_TENANTS 200
#define APPS_PER_TENANT 10
#define PODS_PER_APP 75
#define N_CANDIDATES 500
/* Pods moved between two calls in the churn rows. A cluster in steady
 * state binds one pod and deletes another per scheduling decision, which
 * changes two or three nodes, about as much as MOVES_STEADY moves. The
 * stress rows change ten times as much, so that most candidates' digests
 * go stale and the cache folds them often. */
#define MOVES_STEADY 2
#define MOVES_STRESS 20
#define N_ROWS 8
#define MiB (1024LL * 1024)
#define GiB (1024 * MiB)

static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Synthetic cluster --------------------------------------------------- */

static void add_nodes(score_model *model)
{
	char buf[128];

	for (int i = 0; i < N_NODES; i++) {
		score_node *node = score_node_new();

		snprintf(buf, sizeof(buf), "node-%05d", i);
		node->name = score_intern(buf);
		node->allocatable.v[SCORE_RES_CPU] = 15890;
		node->allocatable.v[SCORE_RES_MEMORY] = 62 * GiB;
		node->allocatable.v[SCORE_RES_PODS] = 110;
		score_labels_set(&node->labels, "kubernetes.io/hostname", buf);
		score_labels_set(&node->labels, "topology.kubernetes.io/region", "us-east-1");
		score_labels_set(&node->labels, "topology.kubernetes.io/zone", zones[i % 3]);
		snprintf(buf, sizeof(buf), "rack-%03d", i / 40);
		score_labels_set(&node->labels, "topology.stowage.io/rack", buf);
		score_model_put_node(model, node);
	}
}

static void add_namespaces(score_model *model)
{
	char name[32], tenant[32];

	for (int t = 0; t <= N_TENANTS; t++) {
		score_labels labels = {0};

		if (t == N_TENANTS) {
			snprintf(name, sizeof(name), "monitoring");
			score_labels_set(&labels, "stowage.io/role", "monitoring");
		} else {
			snprintf(name, sizeof(name), "tenant-%03d", t);
			snprintf(tenant, sizeof(tenant), "t%03d", t);
			score_labels_set(&labels, "stowage.io/tenant", tenant);
		}
		score_labels_set(&labels, "kubernetes.io/metadata.name", name);
		score_model_put_namespace(model, name, &labels);
		score_labels_release(&labels);
	}
}

/* A pod of tenant `t`, app `app`; on `node`, or pending when NULL. */
static score_pod *make_pod(int t, int app, int index, const char *node)
{
	score_pod *pod = score_pod_new();
	score_container container = {0};
	char buf[96];

	snprintf(buf, sizeof(buf), "%s-t%03d-a%d-%d", node != NULL ? "uid" : "new", t,
		 app, index);
	pod->uid = score_intern(buf);
	snprintf(buf, sizeof(buf), "app%d-%d", app, index);
	pod->name = score_intern(buf);
	snprintf(buf, sizeof(buf), "tenant-%03d", t);
	pod->namespace = score_intern(buf);
	snprintf(buf, sizeof(buf), "app%d", app);
	score_labels_set(&pod->labels, "app", buf);
	snprintf(buf, sizeof(buf), "%08x", (unsigned)(t * 40503u + app));
	score_labels_set(&pod->labels, "pod-template-hash", buf);
	pod->node_name = score_intern(node);
	pod->phase = node != NULL ? SCORE_POD_RUNNING : SCORE_POD_PENDING;
	container.requests.v[SCORE_RES_CPU] = 100 + (index % 5) * 50;
	container.requests.v[SCORE_RES_MEMORY] = (128 + (index % 4) * 64) * MiB;
	container.present = (1u << SCORE_RES_CPU) | (1u << SCORE_RES_MEMORY);
	score_pod_compute_request(&container, 1, NULL, 0, NULL, &pod->request,
				  &pod->nonzero_request);
	return pod;
}

static void add_pods(score_model *model, GRand *rand)
{
	char node[32];

	for (int t = 0; t < N_TENANTS; t++) {
		for (int app = 0; app < APPS_PER_TENANT; app++) {
			for (int i = 0; i < PODS_PER_APP; i++) {
				snprintf(node, sizeof(node), "node-%05d",
					 g_rand_int_range(rand, 0, N_NODES));
				score_model_put_pod(model, make_pod(t, app, i, node));
			}
		}
	}
}

static void add_network_policy(score_model *model, const char *json)
{
	cJSON *object = cJSON_Parse(json);
	score_network_policy *policy = NULL;
	score_error err = {0};

	if (object == NULL || inf_network_policy_decode(object, &policy, &err) < 0) {
		fprintf(stderr, "bench: invalid NetworkPolicy %s: %s\n", json, err.message);
		exit(1);
	}
	cJSON_Delete(object);
	score_model_put_network_policy(model, policy);
}

static void add_network_policies(score_model *model)
{
	char json[1024];

	for (int t = 0; t < N_TENANTS; t++) {
		for (int app = 0; app < APPS_PER_TENANT; app++) {
			int from = (app + APPS_PER_TENANT - 1) % APPS_PER_TENANT;

			snprintf(json, sizeof(json),
				 "{\"metadata\":{\"name\":\"app%d-in\",\"namespace\":\"tenant-%03d\"},"
				 "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"app%d\"}},"
				 "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"app%d\"}}}%s],"
				 "\"ports\":[{\"protocol\":\"TCP\",\"port\":8080}]}]}}",
				 app, t, app, from,
				 app == 0 ? ",{\"namespaceSelector\":{\"matchLabels\":"
					    "{\"stowage.io/role\":\"monitoring\"}},"
					    "\"podSelector\":{\"matchLabels\":{\"app\":\"prometheus\"}}}"
					  : "");
			add_network_policy(model, json);
		}
	}
}

/* ---- Policies ------------------------------------------------------------ */

static const char contention_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: contention}\n"
	"spec: {}\n";

static const char isolation_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: isolation}\n"
	"spec:\n"
	"  tenants: {mode: preferred, tenantSource: namespace}\n";

static const char locality_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: locality}\n"
	"spec:\n"
	"  weights: {contention: 1, isolation: 1, locality: 2}\n"
	"  tenants: {mode: preferred, tenantSource: namespace}\n"
	"  topology:\n"
	"    levels:\n"
	"    - {key: topology.stowage.io/rack, cost: 1}\n"
	"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
	"    - {key: topology.kubernetes.io/region, cost: 20}\n"
	"    defaultCost: 100\n"
	"    zonePairs:\n"
	"    - {zones: [us-east-1a, us-east-1b], cost: 3}\n"
	"  locality:\n"
	"    networkPolicies: {enabled: true, maxCost: 20, mode: soft}\n";

static const char locality_only_policy[] =
	"apiVersion: stowage.io/v1alpha1\n"
	"kind: SchedulingPolicy\n"
	"metadata: {name: locality-only}\n"
	"spec:\n"
	"  weights: {contention: 1, isolation: 0, locality: 2}\n"
	"  topology:\n"
	"    levels:\n"
	"    - {key: topology.stowage.io/rack, cost: 1}\n"
	"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
	"    - {key: topology.kubernetes.io/region, cost: 20}\n"
	"    defaultCost: 100\n"
	"    zonePairs:\n"
	"    - {zones: [us-east-1a, us-east-1b], cost: 3}\n"
	"  locality:\n"
	"    networkPolicies: {enabled: true, maxCost: 20, mode: soft}\n";

static pol_policy *parse(const char *text, score_resource_table *resources)
{
	pol_policy *policy = NULL;
	score_error err = {0};

	if (pol_policy_parse("bench.yaml", text, strlen(text), resources, &policy,
			     NULL, &err) < 0) {
		fprintf(stderr, "bench: invalid policy: %s\n", err.message);
		exit(1);
	}
	return policy;
}

/* ---- Timing -------------------------------------------------------------- */

static int compare_int64(const void *a, const void *b)
{
	int64_t left = *(const int64_t *)a;
	int64_t right = *(const int64_t *)b;

	return left < right ? -1 : left > right;
}

static double percentile_ms(int64_t *sorted, int n, double p)
{
	int index = (int)(p * (n - 1) + 0.5);

	return sorted[index] / 1e6;
}

typedef struct timing {
	double p50_ms;
	double p99_ms;
	double max_ms;
	/* p99 of the first WARM_UP_CALLS calls alone: the first call of an
	 * isolation policy builds every node's digest, and the calls right
	 * after it run on caches that build evicted. */
	double early_p99_ms;
} timing;

#define WARM_UP_CALLS 300

/* Moves `n` random pods of the cluster to random nodes, as binds and
 * deletions do between two scheduling calls. */
static void churn(score_model *model, GRand *rand, int n)
{
	char node[32];

	for (int i = 0; i < n; i++) {
		int t = g_rand_int_range(rand, 0, N_TENANTS);
		int app = g_rand_int_range(rand, 0, APPS_PER_TENANT);
		int index = g_rand_int_range(rand, 0, PODS_PER_APP);

		snprintf(node, sizeof(node), "node-%05d",
			 g_rand_int_range(rand, 0, N_NODES));
		score_model_put_pod(model, make_pod(t, app, index, node));
	}
}

/* Times `calls` filter + prioritize calls of `policy`'s pipeline, with
 * `moves` pods moved between two calls (untimed). Every policy draws its
 * pods and candidates from a generator with the same seed, so all
 * policies see the same requests. */
static void run(const pol_policy *policy, score_model *model, int calls,
		int moves, timing *out)
{
	const score_pipeline *pipeline = pol_policy_pipeline(policy);
	GPtrArray *nodes = score_model_sorted_nodes(model);
	score_candidate *candidates = g_new(score_candidate, N_CANDIDATES);
	int64_t *samples = g_new(int64_t, calls);
	GRand *rand = g_rand_new_with_seed(7);
	GRand *churn_rand = g_rand_new_with_seed(11);
	int early;

	for (int c = 0; c < calls; c++) {
		int t = g_rand_int_range(rand, 0, N_TENANTS);
		int app = g_rand_int_range(rand, 0, APPS_PER_TENANT);
		score_pod *pod = make_pod(t, app, c, NULL);
		score_request request = {.model = model, .pod = pod};
		score_result result = {0};
		int64_t start;

		for (int i = 0; i < N_CANDIDATES; i++) {
			const score_node *node = g_ptr_array_index(
				nodes, g_rand_int_range(rand, 0, N_NODES));

			candidates[i] = (score_candidate){node->name, node, NULL, 0};
		}
		churn(model, churn_rand, moves);
		start = now_ns();
		request.cache = score_request_cache_new();
		score_pipeline_filter(pipeline, &request, candidates, N_CANDIDATES,
				      &result);
		score_pipeline_score(pipeline, &request, candidates, &result);
		score_request_cache_free(request.cache);
		samples[c] = now_ns() - start;
		score_result_release(&result);
		score_pod_free(pod);
	}
	early = MIN(calls, WARM_UP_CALLS);
	qsort(samples, (size_t)early, sizeof(samples[0]), compare_int64);
	out->early_p99_ms = percentile_ms(samples, early, 0.99);
	qsort(samples, (size_t)calls, sizeof(samples[0]), compare_int64);
	out->p50_ms = percentile_ms(samples, calls, 0.50);
	out->p99_ms = percentile_ms(samples, calls, 0.99);
	out->max_ms = samples[calls - 1] / 1e6;
	g_rand_free(rand);
	g_rand_free(churn_rand);
	g_free(samples);
	g_free(candidates);
	g_ptr_array_unref(nodes);
}

int main(int argc, char **argv)
{
	int calls = argc > 1 ? atoi(argv[1]) : 3000;
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	GRand *rand = g_rand_new_with_seed(1);
	const char *labels[] = {"contention only", "contention + isolation",
				"contention + isolation + locality",
				"contention + locality",
				"contention only, " G_STRINGIFY(MOVES_STEADY) " pods moved per call",
				"contention + isolation + locality, " G_STRINGIFY(MOVES_STEADY) " pods moved per call",
				"contention only, " G_STRINGIFY(MOVES_STRESS) " pods moved per call",
				"contention + isolation + locality, " G_STRINGIFY(MOVES_STRESS) " pods moved per call"};
	const char *texts[] = {contention_policy, isolation_policy, locality_policy,
			       locality_only_policy, contention_policy,
			       locality_policy, contention_policy, locality_policy};
	const int moves[] = {0, 0, 0, 0, MOVES_STEADY, MOVES_STEADY,
			     MOVES_STRESS, MOVES_STRESS};
	timing timings[N_ROWS];
	double warm_ms[N_ROWS];
	int64_t t0;

	if (calls < 2) {
		fprintf(stderr, "usage: bench_policy [CALLS]   (CALLS at least 2)\n");
		return 2;
	}
	t0 = now_ns();
	add_nodes(model);
	add_namespaces(model);
	add_pods(model, rand);
	add_network_policies(model);
	fprintf(stderr, "bench: built %zu nodes, %zu pods, %zu NetworkPolicies in %.0f ms\n",
		score_model_node_count(model), score_model_pod_count(model),
		score_model_network_policy_count(model), (now_ns() - t0) / 1e6);

	printf("## Policy criteria, filter + prioritize of %d candidates (%d calls)\n\n",
	       N_CANDIDATES, calls);
	printf("| pipeline | p50 ms | p99 ms | max ms | p99 of the first %d calls ms | policy load: digests built ms |\n|---|---|---|---|---|---|\n",
	       MIN(calls, WARM_UP_CALLS));
	for (int i = 0; i < N_ROWS; i++) {
		pol_policy *policy = parse(texts[i], resources);

		/* As serve's policy loader does before a policy takes
		 * requests. */
		t0 = now_ns();
		pol_policy_warm(policy, model);
		warm_ms[i] = (now_ns() - t0) / 1e6;
		run(policy, model, calls, moves[i], &timings[i]);
		printf("| %s | %.3f | %.3f | %.3f | %.3f | %.1f |\n", labels[i],
		       timings[i].p50_ms, timings[i].p99_ms, timings[i].max_ms,
		       timings[i].early_p99_ms, warm_ms[i]);
		pol_policy_unref(policy);
	}
	printf("\nadded p99 over contention only: isolation + locality %.3f ms (target <= 0.2 ms), isolation %.3f ms, locality %.3f ms\n",
	       timings[2].p99_ms - timings[0].p99_ms, timings[1].p99_ms - timings[0].p99_ms,
	       timings[3].p99_ms - timings[0].p99_ms);
	printf("added p99 over the first %d calls alone: isolation + locality %.3f ms\n",
	       MIN(calls, WARM_UP_CALLS),
	       timings[2].early_p99_ms - timings[0].early_p99_ms);
	printf("added p99 with %d pods moved per call: isolation + locality %.3f ms\n",
	       MOVES_STEADY, timings[5].p99_ms - timings[4].p99_ms);
	printf("added p99 with %d pods moved per call: isolation + locality %.3f ms\n",
	       MOVES_STRESS, timings[7].p99_ms - timings[6].p99_ms);

	g_rand_free(rand);
	score_model_free(model);
	score_resource_table_free(resources);
	return 0;
}
