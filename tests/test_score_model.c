/* Tests for scoring/model.c and scoring/resources.c: pod requests as
 * kube-scheduler computes them, labels, tolerations, the resource table and
 * the model's accounting of pods on nodes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scoring/model.h"

#define MiB (1024LL * 1024)

static score_container container(int64_t milli_cpu, int64_t memory)
{
	score_container c = {0};

	c.requests.v[SCORE_RES_CPU] = milli_cpu;
	c.requests.v[SCORE_RES_MEMORY] = memory;
	c.present = (1u << SCORE_RES_CPU) | (1u << SCORE_RES_MEMORY);
	return c;
}

static void assert_request(const score_resources *got, int64_t milli_cpu,
			   int64_t memory, const char *what)
{
	cr_assert_eq(got->v[SCORE_RES_CPU], milli_cpu, "%s cpu: expected %lld, got %lld",
		     what, (long long)milli_cpu, (long long)got->v[SCORE_RES_CPU]);
	cr_assert_eq(got->v[SCORE_RES_MEMORY], memory,
		     "%s memory: expected %lld, got %lld", what, (long long)memory,
		     (long long)got->v[SCORE_RES_MEMORY]);
	cr_assert_eq(got->v[SCORE_RES_PODS], 1, "%s pods: got %lld", what,
		     (long long)got->v[SCORE_RES_PODS]);
}

Test(pod_request, sums_containers)
{
	score_container containers[] = {container(100, 64 * MiB), container(250, 128 * MiB)};
	score_resources request, nonzero;

	score_pod_compute_request(containers, 2, NULL, 0, NULL, &request, &nonzero);
	assert_request(&request, 350, 192 * MiB, "request");
	assert_request(&nonzero, 350, 192 * MiB, "nonzero");
}

Test(pod_request, init_container_maximum)
{
	/* Containers sum to 300m; the 500m init container dominates CPU
	 * while the containers' memory dominates memory. */
	score_container containers[] = {container(100, 256 * MiB), container(200, 256 * MiB)};
	score_container init[] = {container(500, 64 * MiB), container(50, 600 * MiB)};
	score_resources request, nonzero;

	score_pod_compute_request(containers, 2, init, 2, NULL, &request, &nonzero);
	assert_request(&request, 500, 600 * MiB, "request");
}

Test(pod_request, sidecars_add_to_later_steps)
{
	/* Sidecar 100m starts first; init container 400m runs beside it
	 * (500m); then the app containers (300m) run beside the sidecar
	 * (400m). The maximum is 500m. */
	score_container containers[] = {container(300, 0)};
	score_container init[] = {container(100, 0), container(400, 0)};
	score_resources request, nonzero;

	init[0].restartable = true;
	score_pod_compute_request(containers, 1, init, 2, NULL, &request, &nonzero);
	assert_request(&request, 500, 0, "request");
}

Test(pod_request, sidecar_counts_with_app_containers)
{
	/* Sidecar 200m plus app 300m = 500m, above the 250m init step. */
	score_container containers[] = {container(300, 0)};
	score_container init[] = {container(50, 0), container(200, 0)};
	score_resources request, nonzero;

	init[1].restartable = true;
	score_pod_compute_request(containers, 1, init, 2, NULL, &request, &nonzero);
	assert_request(&request, 500, 0, "request");
}

Test(pod_request, overhead_added_once)
{
	score_container containers[] = {container(100, 64 * MiB)};
	score_resources overhead = {0};
	score_resources request, nonzero;

	overhead.v[SCORE_RES_CPU] = 250;
	overhead.v[SCORE_RES_MEMORY] = 120 * MiB;
	score_pod_compute_request(containers, 1, NULL, 0, &overhead, &request, &nonzero);
	assert_request(&request, 350, 184 * MiB, "request");
}

Test(pod_request, nonzero_defaults_for_missing_requests)
{
	/* One container without requests, one with cpu only, one with an
	 * explicit 0 memory request that stays 0. */
	score_container containers[3];
	score_resources request, nonzero;

	memset(containers, 0, sizeof(containers));
	containers[1].requests.v[SCORE_RES_CPU] = 300;
	containers[1].present = 1u << SCORE_RES_CPU;
	containers[2].present = 1u << SCORE_RES_MEMORY;
	score_pod_compute_request(containers, 3, NULL, 0, NULL, &request, &nonzero);

	assert_request(&request, 300, 0, "request");
	assert_request(&nonzero, 100 + 300 + 100, 200 * MiB * 2, "nonzero");
}

Test(labels, sorted_set_get_replace)
{
	score_labels labels = {0};

	score_labels_set(&labels, "zone", "a");
	score_labels_set(&labels, "app", "web");
	score_labels_set(&labels, "tier", "front");
	score_labels_set(&labels, "zone", "b");

	cr_assert_eq(labels.count, 3, "count %u", labels.count);
	cr_assert_str_eq(labels.items[0].key, "app");
	cr_assert_str_eq(labels.items[2].key, "zone");
	cr_assert_str_eq(score_labels_get(&labels, "zone"), "b");
	cr_assert_str_eq(score_labels_get(&labels, "app"), "web");
	cr_assert_null(score_labels_get(&labels, "missing"));
	score_labels_release(&labels);
	cr_assert_eq(labels.count, 0);
}

Test(intern, equal_strings_share_pointer)
{
	char buf[16];
	const char *a = score_intern("kubernetes.io/hostname");
	const char *b;

	snprintf(buf, sizeof(buf), "%s", "node-1");
	b = score_intern(buf);
	cr_assert_eq(score_intern("node-1"), b, "interned strings differ");
	score_unintern(b);
	score_unintern(b);
	score_unintern(a);
	cr_assert_null(score_intern(NULL));
}

typedef struct toleration_case {
	const char *key;
	const char *value;
	score_toleration_op op;
	score_taint_effect effect;
	bool expected;
} toleration_case;

Test(toleration, matches_like_kubernetes)
{
	/* Taint dedicated=gpu:NoSchedule against tolerations. */
	static const toleration_case cases[] = {
		{"dedicated", "gpu", SCORE_TOLERATION_EQUAL, SCORE_EFFECT_NO_SCHEDULE, true},
		{"dedicated", "gpu", SCORE_TOLERATION_EQUAL, SCORE_EFFECT_ANY, true},
		{"dedicated", "cpu", SCORE_TOLERATION_EQUAL, SCORE_EFFECT_NO_SCHEDULE, false},
		{"dedicated", NULL, SCORE_TOLERATION_EXISTS, SCORE_EFFECT_ANY, true},
		{"dedicated", NULL, SCORE_TOLERATION_EXISTS, SCORE_EFFECT_NO_EXECUTE, false},
		{NULL, NULL, SCORE_TOLERATION_EXISTS, SCORE_EFFECT_ANY, true},
		{"other", NULL, SCORE_TOLERATION_EXISTS, SCORE_EFFECT_ANY, false},
		{"dedicated", NULL, SCORE_TOLERATION_EQUAL, SCORE_EFFECT_ANY, false},
	};
	score_taint taint = {score_intern("dedicated"), score_intern("gpu"),
			     SCORE_EFFECT_NO_SCHEDULE};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_toleration toleration = {score_intern(cases[i].key),
					       score_intern(cases[i].value), cases[i].op,
					       cases[i].effect};
		bool got = score_toleration_matches(&toleration, &taint);

		cr_assert_eq(got, cases[i].expected, "case %zu: expected %d, got %d", i,
			     cases[i].expected, got);
		score_unintern(toleration.key);
		score_unintern(toleration.value);
	}
	score_unintern(taint.key);
	score_unintern(taint.value);
}

Test(toleration, empty_value_taint)
{
	score_taint taint = {score_intern("maintenance"), NULL, SCORE_EFFECT_NO_EXECUTE};
	score_toleration equal_empty = {score_intern("maintenance"), NULL,
					SCORE_TOLERATION_EQUAL, SCORE_EFFECT_ANY};

	cr_assert(score_toleration_matches(&equal_empty, &taint),
		  "Equal with empty value must match a taint without value");
	score_unintern(taint.key);
	score_unintern(equal_empty.key);
}

Test(resource_table, fixed_slots_and_growth)
{
	score_resource_table *table = score_resource_table_new();
	score_error err = {0};
	char name[32];
	int index;

	cr_assert_eq(score_resource_find(table, "cpu"), SCORE_RES_CPU);
	cr_assert_eq(score_resource_find(table, "pods"), SCORE_RES_PODS);
	cr_assert_eq(score_resource_find(table, "nvidia.com/gpu"), -ENOENT);

	index = score_resource_index(table, "nvidia.com/gpu", &err);
	cr_assert_eq(index, SCORE_RES_FIRST_EXTENDED, "got %d", index);
	cr_assert_eq(score_resource_index(table, "nvidia.com/gpu", &err), index);
	cr_assert_str_eq(score_resource_name(table, index), "nvidia.com/gpu");

	for (int i = score_resource_count(table); i < SCORE_RES_MAX; i++) {
		snprintf(name, sizeof(name), "example.com/r%d", i);
		cr_assert_eq(score_resource_index(table, name, &err), i);
	}
	cr_assert_eq(score_resource_index(table, "example.com/one-too-many", &err), -ENOSPC);
	cr_assert(strstr(err.message, "example.com/one-too-many") != NULL,
		  "message: %s", err.message);
	cr_assert_null(score_resource_name(table, SCORE_RES_MAX));
	score_resource_table_free(table);
}

Test(resource_table, format_like_kubectl)
{
	char buf[32];

	cr_assert_str_eq(score_resource_format(SCORE_RES_CPU, 3500, buf, sizeof(buf)), "3500m");
	cr_assert_str_eq(score_resource_format(SCORE_RES_CPU, 2000, buf, sizeof(buf)), "2");
	cr_assert_str_eq(score_resource_format(SCORE_RES_MEMORY, 512 * MiB, buf, sizeof(buf)), "512Mi");
	cr_assert_str_eq(score_resource_format(SCORE_RES_MEMORY, 8 * 1024 * MiB, buf, sizeof(buf)), "8Gi");
	cr_assert_str_eq(score_resource_format(SCORE_RES_MEMORY, 1000, buf, sizeof(buf)), "1000");
	cr_assert_str_eq(score_resource_format(SCORE_RES_MEMORY, 0, buf, sizeof(buf)), "0");
	cr_assert_str_eq(score_resource_format(SCORE_RES_FIRST_EXTENDED, 4, buf, sizeof(buf)), "4");
}

/* ---- Model accounting ---------------------------------------------------- */

static score_resource_table *table;
static score_model *model;

static void setup(void)
{
	table = score_resource_table_new();
	model = score_model_new(table);
}

static void teardown(void)
{
	score_model_free(model);
	score_resource_table_free(table);
}

static score_node *node_named(const char *name, int64_t milli_cpu)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = milli_cpu;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	return node;
}

static score_pod *pod_on(const char *uid, const char *node, int64_t milli_cpu)
{
	score_pod *pod = score_pod_new();
	score_container c = container(milli_cpu, 0);

	pod->uid = score_intern(uid);
	pod->name = score_intern(uid);
	pod->namespace = score_intern("default");
	pod->node_name = score_intern(node);
	pod->phase = node ? SCORE_POD_RUNNING : SCORE_POD_PENDING;
	score_pod_compute_request(&c, 1, NULL, 0, NULL, &pod->request, &pod->nonzero_request);
	return pod;
}

static int64_t cpu_on(const char *node)
{
	const score_node *n = score_model_node(model, node);

	cr_assert_not_null(n, "node %s missing", node);
	return n->requested.v[SCORE_RES_CPU];
}

TestSuite(model, .init = setup, .fini = teardown);

Test(model, pods_count_on_their_node)
{
	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("p1", "a", 500));
	score_model_put_pod(model, pod_on("p2", "a", 250));

	cr_assert_eq(cpu_on("a"), 750, "cpu %lld", (long long)cpu_on("a"));
	cr_assert_eq(score_model_node(model, "a")->requested.v[SCORE_RES_PODS], 2);
	cr_assert_eq(score_model_node(model, "a")->pods->len, 2);
	cr_assert_eq(score_model_pod_count(model), 2);
	cr_assert_eq(score_model_node_count(model), 1);
}

Test(model, pod_before_node_counts_when_node_arrives)
{
	score_model_put_pod(model, pod_on("early", "late-node", 300));
	cr_assert_null(score_model_node(model, "late-node"));
	cr_assert_eq(score_model_node_count(model), 0);

	score_model_put_node(model, node_named("late-node", 4000));
	cr_assert_eq(cpu_on("late-node"), 300, "cpu %lld", (long long)cpu_on("late-node"));
}

Test(model, node_update_keeps_pods)
{
	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("p1", "a", 500));
	score_model_put_node(model, node_named("a", 8000));

	cr_assert_eq(score_model_node(model, "a")->allocatable.v[SCORE_RES_CPU], 8000);
	cr_assert_eq(cpu_on("a"), 500);
	cr_assert_eq(score_model_node_count(model), 1);
}

Test(model, node_removed_and_back)
{
	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("p1", "a", 500));
	cr_assert(score_model_remove_node(model, "a"));
	cr_assert_null(score_model_node(model, "a"));
	cr_assert_not(score_model_remove_node(model, "a"), "second removal must fail");
	score_model_put_node(model, node_named("a", 4000));
	cr_assert_eq(cpu_on("a"), 500);
}

Test(model, pod_update_moves_and_releases)
{
	score_pod *done;

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_node(model, node_named("b", 4000));
	score_model_put_pod(model, pod_on("p1", "a", 500));

	/* Rebound elsewhere (a watch can show that after a delete and
	 * recreate with the same uid in tests). */
	score_model_put_pod(model, pod_on("p1", "b", 500));
	cr_assert_eq(cpu_on("a"), 0);
	cr_assert_eq(cpu_on("b"), 500);

	/* A finished pod releases its resources but stays known. */
	done = pod_on("p1", "b", 500);
	done->phase = SCORE_POD_SUCCEEDED;
	score_model_put_pod(model, done);
	cr_assert_eq(cpu_on("b"), 0);
	cr_assert_eq(score_model_node(model, "b")->pods->len, 0);
	cr_assert_not_null(score_model_pod(model, "p1"));

	cr_assert(score_model_remove_pod(model, "p1"));
	cr_assert_not(score_model_remove_pod(model, "p1"));
	cr_assert_eq(score_model_pod_count(model), 0);
}

Test(model, assume_counts_then_confirm)
{
	score_error err = {0};

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("p1", NULL, 700));
	cr_assert_eq(cpu_on("a"), 0);

	cr_assert_eq(score_model_assume(model, "p1", "a", 1000, &err), 0, "%s", err.message);
	cr_assert_eq(cpu_on("a"), 700);
	cr_assert_eq(score_model_node(model, "a")->assumed_pods, 1);

	/* An update that still shows the pod unbound keeps the assumption. */
	score_model_put_pod(model, pod_on("p1", NULL, 700));
	cr_assert_eq(cpu_on("a"), 700);
	cr_assert(score_model_pod(model, "p1")->assumed);

	/* The watch confirms the binding. */
	score_model_put_pod(model, pod_on("p1", "a", 700));
	cr_assert_not(score_model_pod(model, "p1")->assumed);
	cr_assert_eq(score_model_node(model, "a")->assumed_pods, 0);
	cr_assert_eq(score_model_expire_assumed(model, 1000000, 10), 0);
	cr_assert_eq(cpu_on("a"), 700);
}

Test(model, assume_conflicts_and_unknown)
{
	score_error err = {0};

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("bound", "a", 100));
	cr_assert_eq(score_model_assume(model, "missing", "a", 0, &err), -ENOENT);
	cr_assert(strstr(err.message, "missing") != NULL, "message: %s", err.message);
	cr_assert_eq(score_model_assume(model, "bound", "b", 0, &err), -EEXIST);
	cr_assert(strstr(err.message, "bound to node a") != NULL, "message: %s", err.message);
	cr_assert_eq(score_model_assume(model, "bound", "a", 0, &err), 0,
		     "assuming the node a pod is bound to must succeed");
}

Test(model, assumptions_expire_after_ttl)
{
	score_error err = {0};

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_pod(model, pod_on("old", NULL, 100));
	score_model_put_pod(model, pod_on("new", NULL, 200));
	cr_assert_eq(score_model_assume(model, "old", "a", 1000, &err), 0);
	cr_assert_eq(score_model_assume(model, "new", "a", 20000, &err), 0);

	cr_assert_eq(score_model_expire_assumed(model, 31001, 30000), 1);
	cr_assert_eq(cpu_on("a"), 200, "cpu %lld", (long long)cpu_on("a"));
	cr_assert_null(score_model_pod(model, "old")->node_name);
	cr_assert_not(score_model_pod(model, "old")->assumed);
}

Test(model, sorted_nodes)
{
	GPtrArray *nodes;

	score_model_put_node(model, node_named("c", 1));
	score_model_put_node(model, node_named("a", 1));
	score_model_put_node(model, node_named("b", 1));
	score_model_put_pod(model, pod_on("ghost", "absent-node", 1));

	nodes = score_model_sorted_nodes(model);
	cr_assert_eq(nodes->len, 3, "absent nodes must not be listed");
	cr_assert_str_eq(((score_node *)nodes->pdata[0])->name, "a");
	cr_assert_str_eq(((score_node *)nodes->pdata[2])->name, "c");
	g_ptr_array_unref(nodes);
}

/* ---- Pod indexes ----------------------------------------------------------- */

/* A pod in namespace `namespace` with label app=`app` and, when `tier` is
 * set, tier=`tier`. */
static score_pod *labelled_pod(const char *uid, const char *namespace,
			       const char *node, const char *app,
			       const char *tier)
{
	score_pod *pod = pod_on(uid, node, 10);

	score_unintern(pod->namespace);
	pod->namespace = score_intern(namespace);
	score_labels_set(&pod->labels, "app", app);
	if (tier != NULL)
		score_labels_set(&pod->labels, "tier", tier);
	return pod;
}

/* Checks that the label bucket key=value contains exactly the pods of the
 * model with that label, each once. */
static void assert_label_bucket(const char *key, const char *value,
				size_t expected)
{
	size_t n;
	score_pod *const *pods = score_model_label_pods(model, key, value, &n);

	cr_assert_eq(n, expected, "%s=%s: expected %zu pods, got %zu", key, value,
		     expected, n);
	for (size_t i = 0; i < n; i++) {
		const char *got = score_labels_get(&pods[i]->labels, key);

		cr_assert(got != NULL && strcmp(got, value) == 0,
			  "%s=%s holds pod %s with value %s", key, value, pods[i]->uid,
			  got != NULL ? got : "(none)");
		cr_assert_eq(score_model_pod(model, pods[i]->uid), pods[i],
			     "%s=%s holds the model's current pod %s", key, value,
			     pods[i]->uid);
		for (size_t k = 0; k < i; k++)
			cr_assert_neq(pods[k], pods[i], "pod %s listed twice", pods[i]->uid);
	}
}

static void assert_namespace_bucket(const char *name, size_t expected)
{
	size_t n;
	score_pod *const *pods = score_model_namespace_pods(model, name, &n);

	cr_assert_eq(n, expected, "namespace %s: expected %zu pods, got %zu", name,
		     expected, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(pods[i]->namespace, name, "namespace %s holds pod %s of %s",
				 name, pods[i]->uid, pods[i]->namespace);
}

Test(model, indexes_follow_updates_relabels_moves_deletes)
{
	char uid[16];

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_node(model, node_named("b", 4000));
	for (int i = 0; i < 40; i++) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		score_model_put_pod(model, labelled_pod(uid, i % 2 ? "odd" : "even",
							i % 3 ? "a" : "b",
							i % 4 ? "web" : "db",
							i < 10 ? "front" : NULL));
	}
	assert_label_bucket("app", "web", 30);
	assert_label_bucket("app", "db", 10);
	assert_label_bucket("tier", "front", 10);
	assert_namespace_bucket("odd", 20);
	assert_namespace_bucket("even", 20);

	/* A status update keeps namespace and labels: entries stay. */
	score_model_put_pod(model, labelled_pod("p5", "odd", "a", "web", "front"));
	assert_label_bucket("app", "web", 30);
	assert_namespace_bucket("odd", 20);

	/* A relabel moves the pod between buckets. */
	score_model_put_pod(model, labelled_pod("p1", "odd", "a", "db", NULL));
	assert_label_bucket("app", "web", 29);
	assert_label_bucket("app", "db", 11);
	assert_label_bucket("tier", "front", 9);

	/* A move to another node changes no index. */
	score_model_put_pod(model, labelled_pod("p2", "even", "b", "web", "front"));
	assert_label_bucket("app", "web", 29);
	assert_label_bucket("tier", "front", 9);

	/* Deletes, from the front, middle and end of the buckets. */
	for (int i = 0; i < 40; i += 3) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		cr_assert(score_model_remove_pod(model, uid), "pod %s removed", uid);
	}
	assert_label_bucket("app", "web", 19);
	assert_label_bucket("app", "db", 7);
	assert_label_bucket("tier", "front", 5);
	assert_namespace_bucket("odd", 13);
	assert_namespace_bucket("even", 13);

	for (int i = 0; i < 40; i++) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		score_model_remove_pod(model, uid);
	}
	assert_label_bucket("app", "web", 0);
	assert_namespace_bucket("odd", 0);
	cr_assert_null(score_model_label_pods(model, "app", "db", &(size_t){0}),
		       "an empty bucket is dropped");
}

/* Checks the namespace-label bucket namespace/key=value against a count
 * over the namespace index: the same pods, each once and current. */
static void assert_namespace_label_bucket(const char *namespace,
					  const char *key, const char *value)
{
	size_t n, in_namespace, expected = 0;
	score_pod *const *pods = score_model_namespace_label_pods(model, namespace,
								  key, value, &n);
	score_pod *const *all = score_model_namespace_pods(model, namespace,
							   &in_namespace);

	for (size_t i = 0; i < in_namespace; i++) {
		const char *got = score_labels_get(&all[i]->labels, key);

		if (got != NULL && strcmp(got, value) == 0)
			expected++;
	}
	cr_assert_eq(n, expected, "%s/%s=%s: expected %zu pods, got %zu", namespace,
		     key, value, expected, n);
	for (size_t i = 0; i < n; i++) {
		const char *got = score_labels_get(&pods[i]->labels, key);

		cr_assert_str_eq(pods[i]->namespace, namespace,
				 "%s/%s=%s holds pod %s of namespace %s", namespace,
				 key, value, pods[i]->uid, pods[i]->namespace);
		cr_assert(got != NULL && strcmp(got, value) == 0,
			  "%s/%s=%s holds pod %s with value %s", namespace, key,
			  value, pods[i]->uid, got != NULL ? got : "(none)");
		cr_assert_eq(score_model_pod(model, pods[i]->uid), pods[i],
			     "%s/%s=%s holds the model's current pod %s", namespace,
			     key, value, pods[i]->uid);
		for (size_t k = 0; k < i; k++)
			cr_assert_neq(pods[k], pods[i], "pod %s listed twice",
				      pods[i]->uid);
	}
}

static void assert_namespace_label_buckets(void)
{
	static const char *const namespaces[] = {"odd", "even", "other"};
	static const char *const labels[][2] = {
		{"app", "web"}, {"app", "db"}, {"tier", "front"}};

	for (size_t i = 0; i < G_N_ELEMENTS(namespaces); i++) {
		for (size_t k = 0; k < G_N_ELEMENTS(labels); k++)
			assert_namespace_label_bucket(namespaces[i], labels[k][0],
						      labels[k][1]);
	}
}

Test(model, namespace_label_index_follows_changes)
{
	char uid[16];
	score_pod *pod;
	size_t n = 1;

	score_model_put_node(model, node_named("a", 4000));
	for (int i = 0; i < 40; i++) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		score_model_put_pod(model, labelled_pod(uid, i % 2 ? "odd" : "even", "a",
							i % 4 ? "web" : "db",
							i < 10 ? "front" : NULL));
	}
	assert_namespace_label_buckets();
	score_model_namespace_label_pods(model, "odd", "app", "web", &n);
	cr_assert_eq(n, 20, "odd/app=web: expected 20 pods, got %zu", n);
	score_model_namespace_label_pods(model, "even", "app", "db", &n);
	cr_assert_eq(n, 10, "even/app=db: expected 10 pods, got %zu", n);

	/* A status update keeps the entries, a relabel moves them. */
	score_model_put_pod(model, labelled_pod("p5", "odd", "a", "web", "front"));
	score_model_put_pod(model, labelled_pod("p1", "odd", "a", "db", NULL));
	assert_namespace_label_buckets();

	/* A namespace change with the same labels moves the pod too. */
	score_model_put_pod(model, labelled_pod("p3", "other", "a", "web", "front"));
	assert_namespace_label_buckets();
	score_model_namespace_label_pods(model, "other", "app", "web", &n);
	cr_assert_eq(n, 1, "other/app=web: expected 1 pod, got %zu", n);

	/* A pod without a namespace is in no namespace-label bucket. */
	pod = labelled_pod("p41", "odd", "a", "web", NULL);
	score_unintern(pod->namespace);
	pod->namespace = NULL;
	score_model_put_pod(model, pod);
	assert_namespace_label_buckets();
	cr_assert(score_model_remove_pod(model, "p41"), "pod p41 removed");

	/* Deletes from the front, middle and end of the buckets. */
	for (int i = 0; i < 40; i += 3) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		cr_assert(score_model_remove_pod(model, uid), "pod %s removed", uid);
		assert_namespace_label_buckets();
	}

	for (int i = 0; i < 40; i++) {
		g_snprintf(uid, sizeof(uid), "p%d", i);
		score_model_remove_pod(model, uid);
	}
	cr_assert_null(score_model_namespace_label_pods(model, "odd", "app", "web", &n),
		       "an empty bucket is dropped");
	cr_assert_eq(n, 0, "odd/app=web: expected 0 pods, got %zu", n);
	cr_assert_null(score_model_namespace_label_pods(model, NULL, "app", "web", &n),
		       "a NULL namespace has no bucket");
}

static uint64_t version_of(const char *node)
{
	const score_node *n = score_model_node(model, node);

	cr_assert_not_null(n, "node %s missing", node);
	return n->pods_version;
}

Test(model, pods_version_changes_with_counted_pods)
{
	score_error err = {0};
	score_labels labels = {0};
	uint64_t before, after;

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_node(model, node_named("b", 4000));
	before = version_of("a");
	cr_assert_neq(before, 0, "a node in a model has a version");
	cr_assert_neq(before, version_of("b"), "versions of two nodes differ");

	score_model_put_pod(model, pod_on("p1", "a", 500));
	after = version_of("a");
	cr_assert_neq(after, before, "a new pod changes the version");

	/* A node update keeps its pods and so its version. */
	score_model_put_node(model, node_named("a", 8000));
	cr_assert_eq(version_of("a"), after, "expected %llu after a node update, got %llu",
		     (unsigned long long)after, (unsigned long long)version_of("a"));

	before = version_of("b");
	score_model_put_pod(model, pod_on("p1", "b", 500));
	cr_assert_neq(version_of("a"), after, "a pod moving off changes the version");
	cr_assert_neq(version_of("b"), before, "a pod moving on changes the version");

	before = version_of("b");
	score_model_put_pod(model, pod_on("p2", NULL, 100));
	cr_assert_eq(score_model_assume(model, "p2", "b", 0, &err), 0,
		     "assume failed: %s", err.message);
	cr_assert_neq(version_of("b"), before, "an assumed pod changes the version");
	before = version_of("b");
	cr_assert_eq(score_model_expire_assumed(model, 10, 5), 1, "one assumption expires");
	cr_assert_neq(version_of("b"), before, "an expired pod changes the version");

	before = version_of("b");
	cr_assert(score_model_remove_pod(model, "p1"), "p1 removed");
	cr_assert_neq(version_of("b"), before, "a removed pod changes the version");

	before = score_model_namespace_generation(model);
	score_model_put_namespace(model, "shop", &labels);
	cr_assert_neq(score_model_namespace_generation(model), before,
		      "a namespace put changes the generation");
	before = score_model_namespace_generation(model);
	cr_assert_not(score_model_remove_namespace(model, "absent"), "no such namespace");
	cr_assert_eq(score_model_namespace_generation(model), before,
		     "removing an absent namespace keeps the generation");
}

static uint32_t index_of(const char *node)
{
	const score_node *n = score_model_node(model, node);

	cr_assert_not_null(n, "node %s missing", node);
	return n->index;
}

Test(model, node_indexes_are_unique_dense_and_reused)
{
	char name[16];
	bool seen[8] = {false};
	uint32_t index_c;

	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		score_model_put_node(model, node_named(name, 1000));
	}
	cr_assert_eq(score_model_node_index_limit(model), 8,
		     "8 nodes: expected limit 8, got %u",
		     score_model_node_index_limit(model));
	for (int i = 0; i < 8; i++) {
		uint32_t index;

		snprintf(name, sizeof(name), "n%d", i);
		index = index_of(name);
		cr_assert_lt(index, 8, "%s: index %u not below 8", name, index);
		cr_assert_not(seen[index], "%s: index %u given twice", name, index);
		seen[index] = true;
	}

	/* An update keeps the index. */
	index_c = index_of("n2");
	score_model_put_node(model, node_named("n2", 2000));
	cr_assert_eq(index_of("n2"), index_c, "update: expected %u, got %u",
		     index_c, index_of("n2"));

	/* A removed node's index goes to the next node. A node that only
	 * pods name has an index too, until its last pod goes. */
	cr_assert(score_model_remove_node(model, "n2"), "n2 removed");
	score_model_put_node(model, node_named("n9", 1000));
	cr_assert_eq(index_of("n9"), index_c, "reuse: expected %u, got %u",
		     index_c, index_of("n9"));
	score_model_put_pod(model, pod_on("p1", "ghost", 100));
	cr_assert_eq(score_model_node_index_limit(model), 9,
		     "a pod on an unknown node takes index 8: limit %u",
		     score_model_node_index_limit(model));
	cr_assert(score_model_remove_pod(model, "p1"), "p1 removed");
	score_model_put_node(model, node_named("n10", 1000));
	cr_assert_eq(index_of("n10"), 8, "expected the freed index 8, got %u",
		     index_of("n10"));
	cr_assert_eq(score_model_node_index_limit(model), 9, "limit stays 9, got %u",
		     score_model_node_index_limit(model));
}

static uint64_t context_of(const char *node)
{
	const score_node *n = score_model_node(model, node);

	cr_assert_not_null(n, "node %s missing", node);
	return n->context_version;
}

static score_pod *pod_in(const char *uid, const char *namespace,
			 const char *node)
{
	score_pod *pod = pod_on(uid, node, 100);

	pod->namespace = score_intern(namespace);
	return pod;
}

/* Namespace labels and Services change what a node's pods are to the
 * isolation rules, so they must reach the context_version of exactly the
 * nodes that run pods of that namespace. */
Test(model, context_version_follows_namespaces_and_services)
{
	score_labels labels = {0};
	score_labels same = {0};
	score_service *service;
	uint64_t a, b, c;

	score_model_put_node(model, node_named("a", 4000));
	score_model_put_node(model, node_named("b", 4000));
	score_model_put_node(model, node_named("c", 4000));
	score_model_put_pod(model, pod_in("p1", "shop", "a"));
	score_model_put_pod(model, pod_in("p2", "bank", "b"));
	/* Pending: it counts on no node. */
	score_model_put_pod(model, pod_in("p3", "shop", NULL));
	a = context_of("a");
	b = context_of("b");
	c = context_of("c");

	score_labels_set(&labels, "stowage.io/tenant", "shop");
	score_model_put_namespace(model, "shop", &labels);
	cr_assert_neq(context_of("a"), a, "a runs a shop pod: expected a new stamp");
	cr_assert_eq(context_of("b"), b, "b runs no shop pod: expected %llu, got %llu",
		     (unsigned long long)b, (unsigned long long)context_of("b"));
	cr_assert_eq(context_of("c"), c, "c runs no pod: expected %llu, got %llu",
		     (unsigned long long)c, (unsigned long long)context_of("c"));

	/* The same labels again, as a relist or an annotation edit sends. */
	a = context_of("a");
	score_labels_set(&same, "stowage.io/tenant", "shop");
	score_model_put_namespace(model, "shop", &same);
	cr_assert_eq(context_of("a"), a, "equal labels: expected %llu, got %llu",
		     (unsigned long long)a, (unsigned long long)context_of("a"));

	/* A node update keeps the stamp. */
	score_model_put_node(model, node_named("a", 8000));
	cr_assert_eq(context_of("a"), a, "node update: expected %llu, got %llu",
		     (unsigned long long)a, (unsigned long long)context_of("a"));

	service = score_service_new();
	service->namespace = score_intern("bank");
	service->name = score_intern("web");
	score_model_put_service(model, service);
	cr_assert_neq(context_of("b"), b, "a bank Service: expected a new stamp on b");
	cr_assert_eq(context_of("a"), a, "a bank Service leaves a alone");
	b = context_of("b");
	cr_assert(score_model_remove_service(model, "bank", "web"), "web removed");
	cr_assert_neq(context_of("b"), b, "removing the Service: expected a new stamp on b");

	a = context_of("a");
	cr_assert(score_model_remove_namespace(model, "shop"), "shop removed");
	cr_assert_neq(context_of("a"), a, "removing shop: expected a new stamp on a");
	score_labels_release(&labels);
	score_labels_release(&same);
}

Test(model, service_generation_changes_and_differs_between_models)
{
	score_resource_table *other_table = score_resource_table_new();
	score_model *other = score_model_new(other_table);
	score_service *service = score_service_new();
	uint64_t before = score_model_service_generation(model);

	cr_assert_neq(score_model_service_generation(other), before,
		      "two models never share a generation");
	service->namespace = score_intern("shop");
	service->name = score_intern("web");
	score_model_put_service(model, service);
	cr_assert_neq(score_model_service_generation(model), before,
		      "a Service put changes the generation");
	before = score_model_service_generation(model);
	cr_assert(score_model_remove_service(model, "shop", "web"), "web removed");
	cr_assert_neq(score_model_service_generation(model), before,
		      "a Service remove changes the generation");
	score_model_free(other);
	score_resource_table_free(other_table);
}
