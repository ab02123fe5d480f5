/* Tests for informer/decode.c: pods and nodes from real kube-scheduler
 * requests, pod requests with sidecars, init containers, overhead and
 * pod-level resources, tolerations, taints, Ready, and malformed objects
 * whose errors must name the field path. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "informer/decode.h"

#define MiB (1024LL * 1024)
#define GiB (1024LL * MiB)

TestSuite(decode, .timeout = 60);

static const char *fixtures_dir(void)
{
	const char *dir = getenv("STOWAGE_FIXTURES");

	return dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures";
}

static cJSON *load_fixture(const char *name)
{
	char *path = g_build_filename(fixtures_dir(), "kube-scheduler-v1.24",
				      name, NULL);
	char *text = NULL;
	GError *error = NULL;
	cJSON *root;

	cr_assert(g_file_get_contents(path, &text, NULL, &error),
		  "reading fixture %s failed: %s", path,
		  error ? error->message : "unknown error");
	root = cJSON_Parse(text);
	cr_assert_not_null(root, "fixture %s is not valid JSON", path);
	g_free(text);
	g_free(path);
	return root;
}

static cJSON *parse(const char *json)
{
	cJSON *root = cJSON_Parse(json);

	cr_assert_not_null(root, "test JSON does not parse: %s", json);
	return root;
}

/* Decodes `json` as a pod and fails the test on error. */
static score_pod *pod_from(score_resource_table *table, const char *json)
{
	cJSON *root = parse(json);
	score_error err = {0};
	score_pod *pod = NULL;
	int rc = inf_decode_pod(root, table, &pod, &err);

	cr_assert_eq(rc, 0, "decoding pod failed with %d: %s\ninput: %s", rc,
		     err.message, json);
	cr_assert_not_null(pod);
	cJSON_Delete(root);
	return pod;
}

static score_node *node_from(score_resource_table *table, const char *json)
{
	cJSON *root = parse(json);
	score_error err = {0};
	score_node *node = NULL;
	int rc = inf_decode_node(root, table, &node, &err);

	cr_assert_eq(rc, 0, "decoding node failed with %d: %s\ninput: %s", rc,
		     err.message, json);
	cr_assert_not_null(node);
	cJSON_Delete(root);
	return node;
}

static void assert_resource(const score_resources *got, int slot,
			    int64_t expected, const char *what)
{
	cr_assert_eq(got->v[slot], expected,
		     "%s slot %d: expected %lld, got %lld", what, slot,
		     (long long)expected, (long long)got->v[slot]);
}

static void assert_string(const char *got, const char *expected,
			  const char *what)
{
	if (expected == NULL) {
		cr_assert_null(got, "%s: expected NULL, got \"%s\"", what, got);
		return;
	}
	cr_assert_not_null(got, "%s: expected \"%s\", got NULL", what, expected);
	cr_assert_str_eq(got, expected, "%s: expected \"%s\", got \"%s\"", what,
			 expected, got);
}

/* ---- Recorded kube-scheduler requests ------------------------------------ */

Test(decode, fixture_pods_from_every_verb)
{
	static const struct {
		const char *file;
		const char *name;
		const char *uid;
		int64_t milli_cpu;
	} cases[] = {
		{"filter-request.nodeCacheCapable-false.json", "test-pod-a",
		 "1cffe9cd-13d9-4c72-8495-847bb4d4357e", 100},
		{"prioritize-request.nodeCacheCapable-false.json", "test-pod-a",
		 "1cffe9cd-13d9-4c72-8495-847bb4d4357e", 100},
		{"filter-request.nodeCacheCapable-true.json", NULL, NULL, 100},
		{"prioritize-request.nodeCacheCapable-true.json", NULL, NULL, 100},
		{"preempt-request.nodeCacheCapable-true.json", "high-1",
		 "f2915ddc-b587-469b-ab49-000a0c9ebed6", 3000},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_resource_table *table = score_resource_table_new();
		cJSON *root = load_fixture(cases[i].file);
		const cJSON *object = inf_json_member(root, "pod");
		score_error err = {0};
		score_pod *pod = NULL;
		int rc;

		cr_assert_not_null(object, "%s: no Pod member", cases[i].file);
		rc = inf_decode_pod(object, table, &pod, &err);
		cr_assert_eq(rc, 0, "%s: decode failed with %d: %s",
			     cases[i].file, rc, err.message);

		if (cases[i].name != NULL) {
			assert_string(pod->name, cases[i].name, cases[i].file);
			assert_string(pod->uid, cases[i].uid, cases[i].file);
		}
		assert_string(pod->namespace, "default", cases[i].file);
		assert_string(pod->node_name, NULL, cases[i].file);
		assert_resource(&pod->request, SCORE_RES_CPU,
				cases[i].milli_cpu, cases[i].file);
		assert_resource(&pod->request, SCORE_RES_MEMORY, 64 * MiB,
				cases[i].file);
		assert_resource(&pod->request, SCORE_RES_PODS, 1, cases[i].file);
		assert_resource(&pod->nonzero_request, SCORE_RES_CPU,
				cases[i].milli_cpu, cases[i].file);
		cr_assert_eq(pod->phase, SCORE_POD_PENDING,
			     "%s: expected phase Pending, got %d", cases[i].file,
			     pod->phase);

		/* The API server adds these two to every pod. */
		cr_assert_eq(pod->n_tolerations, 2,
			     "%s: expected 2 tolerations, got %u", cases[i].file,
			     pod->n_tolerations);
		assert_string(pod->tolerations[0].key,
			      "node.kubernetes.io/not-ready", cases[i].file);
		cr_assert_eq(pod->tolerations[0].op, SCORE_TOLERATION_EXISTS,
			     "%s: expected Exists", cases[i].file);
		cr_assert_eq(pod->tolerations[1].effect, SCORE_EFFECT_NO_EXECUTE,
			     "%s: expected NoExecute, got %d", cases[i].file,
			     pod->tolerations[1].effect);

		score_pod_free(pod);
		cJSON_Delete(root);
		score_resource_table_free(table);
	}
}

Test(decode, fixture_nodes)
{
	score_resource_table *table = score_resource_table_new();
	cJSON *root = load_fixture("filter-request.nodeCacheCapable-false.json");
	const cJSON *list = inf_json_member(root, "nodes");
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
	const cJSON *item;
	int count = 0;

	cr_assert(cJSON_IsArray(items), "Nodes.items is not an array");
	cJSON_ArrayForEach(item, items) {
		score_error err = {0};
		score_node *node = NULL;
		int rc = inf_decode_node(item, table, &node, &err);

		cr_assert_eq(rc, 0, "node %d: decode failed with %d: %s", count,
			     rc, err.message);
		cr_assert(g_str_has_prefix(node->name, "fake-node-"),
			  "unexpected node name %s", node->name);
		assert_string(score_labels_get(&node->labels,
					       "kubernetes.io/hostname"),
			      node->name, "hostname label");
		assert_resource(&node->allocatable, SCORE_RES_CPU, 4000, node->name);
		assert_resource(&node->allocatable, SCORE_RES_MEMORY, 8 * GiB,
				node->name);
		assert_resource(&node->allocatable, SCORE_RES_EPHEMERAL_STORAGE,
				50 * GiB, node->name);
		assert_resource(&node->allocatable, SCORE_RES_PODS, 110, node->name);
		cr_assert(node->ready, "%s: expected ready", node->name);
		cr_assert_not(node->unschedulable, "%s: expected schedulable",
			      node->name);
		cr_assert_eq(node->n_taints, 0, "%s: expected no taints, got %u",
			     node->name, node->n_taints);
		score_node_free(node);
		count++;
	}
	cr_assert_eq(count, 3, "expected 3 nodes, got %d", count);

	cJSON_Delete(root);
	score_resource_table_free(table);
}

Test(decode, json_member_case_insensitive)
{
	cJSON *root = parse("{\"pod\": 1, \"NodeNames\": 2, \"Nodes\": 3, \"nodes\": 4}");
	cJSON *array = parse("[1, 2]");
	const cJSON *item;

	item = inf_json_member(root, "Pod");
	cr_assert_not_null(item, "expected \"pod\" to match Pod");
	cr_assert_eq(item->valueint, 1, "Pod: expected 1, got %d", item->valueint);

	item = inf_json_member(root, "nodenames");
	cr_assert_not_null(item, "expected NodeNames to match nodenames");
	cr_assert_eq(item->valueint, 2, "NodeNames: expected 2, got %d",
		     item->valueint);

	/* Go's decoder lets the last matching key win. */
	item = inf_json_member(root, "Nodes");
	cr_assert_not_null(item);
	cr_assert_eq(item->valueint, 4, "Nodes: expected the last match 4, got %d",
		     item->valueint);

	cr_assert_null(inf_json_member(root, "Node"), "Node must not match Nodes");
	cr_assert_null(inf_json_member(array, "Pod"), "an array has no members");
	cr_assert_null(inf_json_member(NULL, "Pod"), "NULL has no members");

	cJSON_Delete(array);
	cJSON_Delete(root);
}

/* ---- Requests ------------------------------------------------------------ */

Test(decode, sidecar_and_init_requests)
{
	/* Request by hand: init-a alone needs 500m/64Mi. The sidecar raises
	 * the init peak to 500m/128Mi, and init-b runs beside the sidecar at
	 * 400m/160Mi. App containers 300m/256Mi plus the sidecar make
	 * 400m/384Mi. Maximum: 500m/384Mi.
	 * Non-zero: app container "b" lacks memory and counts 200Mi, so the
	 * apps are 300m/456Mi and 400m/584Mi with the sidecar. The init peak
	 * stays 500m/160Mi. Maximum: 500m/584Mi. */
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\", \"uid\": \"u\"},"
		" \"spec\": {"
		"  \"initContainers\": ["
		"   {\"name\": \"init-a\", \"resources\": {\"requests\": {\"cpu\": \"500m\", \"memory\": \"64Mi\"}}},"
		"   {\"name\": \"sidecar\", \"restartPolicy\": \"Always\","
		"    \"resources\": {\"requests\": {\"cpu\": \"100m\", \"memory\": \"128Mi\"}}},"
		"   {\"name\": \"init-b\", \"resources\": {\"requests\": {\"cpu\": \"300m\", \"memory\": \"32Mi\"}}}],"
		"  \"containers\": ["
		"   {\"name\": \"a\", \"resources\": {\"requests\": {\"cpu\": \"200m\", \"memory\": \"256Mi\"}}},"
		"   {\"name\": \"b\", \"resources\": {\"requests\": {\"cpu\": \"100m\"}}}]}}");

	assert_resource(&pod->request, SCORE_RES_CPU, 500, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, 384 * MiB, "request");
	assert_resource(&pod->request, SCORE_RES_PODS, 1, "request");
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU, 500, "nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_MEMORY, 584 * MiB,
			"nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_PODS, 1, "nonzero");

	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, init_restart_policy_other_than_always)
{
	/* Without restartPolicy: Always the second init container is an
	 * ordinary one: the request is max(300m, 200m, 200m) = 300m. As a
	 * sidecar it would add to the app's 200m and make 400m. */
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {"
		"  \"initContainers\": ["
		"   {\"resources\": {\"requests\": {\"cpu\": \"300m\", \"memory\": \"1Mi\"}}},"
		"   {\"restartPolicy\": \"OnFailure\","
		"    \"resources\": {\"requests\": {\"cpu\": \"200m\", \"memory\": \"1Mi\"}}}],"
		"  \"containers\": [{\"resources\": {\"requests\": {\"cpu\": \"200m\", \"memory\": \"1Mi\"}}}]}}");

	assert_resource(&pod->request, SCORE_RES_CPU, 300, "request");
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, overhead_adds_to_request)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"kata\"}, \"spec\": {"
		"  \"overhead\": {\"cpu\": \"250m\", \"memory\": \"120Mi\"},"
		"  \"containers\": [{\"resources\": {\"requests\": {\"cpu\": \"250m\", \"memory\": \"256Mi\"}}}]}}");

	assert_resource(&pod->request, SCORE_RES_CPU, 500, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, 376 * MiB, "request");
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU, 500, "nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_MEMORY, 376 * MiB,
			"nonzero");
	assert_resource(&pod->request, SCORE_RES_PODS, 1, "request");
	score_pod_free(pod);
	score_resource_table_free(table);
}

/* A huge overhead on a huge request must saturate, not wrap to a negative
 * request that every node fits. */
Test(decode, overhead_sum_saturates)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"huge\"}, \"spec\": {"
		"  \"overhead\": {\"cpu\": \"5000000000000000\", \"memory\": \"5Ei\"},"
		"  \"containers\": [{\"resources\": {\"requests\":"
		"   {\"cpu\": \"5000000000000000\", \"memory\": \"5Ei\"}}}]}}");

	assert_resource(&pod->request, SCORE_RES_CPU, INT64_MAX, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, INT64_MAX, "request");
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU, INT64_MAX, "nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_MEMORY, INT64_MAX,
			"nonzero");
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, limits_default_missing_requests)
{
	/* Container a has limits only: both become requests. Container b
	 * requests 200m CPU, so only its memory limit fills in. */
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": ["
		"  {\"name\": \"a\", \"resources\": {\"limits\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}},"
		"  {\"name\": \"b\", \"resources\": {\"requests\": {\"cpu\": \"200m\"},"
		"   \"limits\": {\"cpu\": \"1\", \"memory\": \"512Mi\"}}}]}}");

	assert_resource(&pod->request, SCORE_RES_CPU, 1200, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, GiB + 512 * MiB,
			"request");
	/* Defaulted requests count as written, so no 100m/200Mi stand-ins. */
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU, 1200, "nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_MEMORY, GiB + 512 * MiB,
			"nonzero");
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, pod_level_requests_replace_containers)
{
	/* spec.resources.requests replaces the containers' CPU and memory;
	 * the GPU still comes from the container, and overhead is added
	 * last. */
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {"
		"  \"resources\": {\"requests\": {\"cpu\": \"2\", \"memory\": \"1Gi\"}},"
		"  \"overhead\": {\"cpu\": \"100m\"},"
		"  \"containers\": [{\"resources\": {\"requests\": {\"cpu\": \"500m\","
		"   \"memory\": \"256Mi\", \"nvidia.com/gpu\": \"1\"}}}]}}");
	int gpu = score_resource_find(table, "nvidia.com/gpu");

	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "gpu slot: got %d", gpu);
	assert_resource(&pod->request, SCORE_RES_CPU, 2100, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, GiB, "request");
	assert_resource(&pod->request, gpu, 1, "request");
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU, 2100, "nonzero");
	assert_resource(&pod->nonzero_request, SCORE_RES_MEMORY, GiB, "nonzero");
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, numeric_quantities)
{
	/* Kubernetes reads an unquoted JSON number as quantity text. */
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": ["
		"  {\"resources\": {\"requests\": {\"cpu\": 0.1, \"memory\": 1073741824,"
		"   \"example.com/dongle\": 2}}},"
		"  {\"resources\": {\"requests\": {\"cpu\": 2}}}]}}");
	int dongle = score_resource_find(table, "example.com/dongle");

	cr_assert_geq(dongle, SCORE_RES_FIRST_EXTENDED, "dongle slot: got %d",
		      dongle);
	assert_resource(&pod->request, SCORE_RES_CPU, 2100, "request");
	assert_resource(&pod->request, SCORE_RES_MEMORY, GiB, "request");
	assert_resource(&pod->request, dongle, 2, "request");
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, full_resource_table)
{
	score_resource_table *table = score_resource_table_new();
	const char *json =
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": ["
		"  {\"resources\": {\"requests\": {\"example.com/zero\": \"0\","
		"   \"example.com/new\": \"1\"}}}]}}";
	cJSON *root = parse(json);
	score_error err = {0};
	score_pod *pod = NULL;
	int rc;

	for (int i = SCORE_RES_FIRST_EXTENDED; i < SCORE_RES_MAX; i++) {
		char name[64];

		g_snprintf(name, sizeof(name), "example.com/filler-%d", i);
		rc = score_resource_index(table, name, NULL);
		cr_assert_eq(rc, i, "filling slot %d returned %d", i, rc);
	}

	/* The zero amount takes no slot; the non-zero one finds none. */
	rc = inf_decode_pod(root, table, &pod, &err);
	cr_assert_eq(rc, -ENOSPC, "expected -ENOSPC, got %d (%s)", rc, err.message);
	cr_assert_null(pod, "no pod on failure");
	cr_assert(strstr(err.message,
			 "spec.containers[0].resources.requests.example.com/new: ") ==
			  err.message,
		  "message must start with the field path: %s", err.message);
	cr_assert_eq(score_resource_find(table, "example.com/zero"), -ENOENT,
		     "a zero amount must not take a slot");

	cJSON_Delete(root);
	score_resource_table_free(table);
}

/* ---- Metadata, tolerations, phase --------------------------------------- */

Test(decode, metadata_defaults)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"web-1\", \"labels\": {\"app\": \"web\","
		" \"empty\": \"\", \"nulled\": null}}}");

	assert_string(pod->namespace, "default", "namespace");
	assert_string(pod->uid, "default/web-1", "uid fallback");
	assert_string(score_labels_get(&pod->labels, "app"), "web", "app label");
	assert_string(score_labels_get(&pod->labels, "empty"), "", "empty label");
	assert_string(score_labels_get(&pod->labels, "nulled"), "", "null label");
	cr_assert_eq(pod->labels.count, 3, "expected 3 labels, got %u",
		     pod->labels.count);
	assert_resource(&pod->request, SCORE_RES_PODS, 1, "request");
	assert_resource(&pod->nonzero_request, SCORE_RES_CPU,
			0, "nonzero without containers");
	score_pod_free(pod);

	pod = pod_from(table,
		"{\"metadata\": {\"name\": \"a\", \"namespace\": \"shop\", \"uid\": \"\"},"
		" \"spec\": {\"nodeName\": \"n1\"}, \"status\": {\"phase\": \"Running\"}}");
	assert_string(pod->uid, "shop/a", "uid fallback for an empty uid");
	assert_string(pod->node_name, "n1", "nodeName");
	cr_assert_eq(pod->phase, SCORE_POD_RUNNING, "expected Running, got %d",
		     pod->phase);
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, interned_strings_share_pointers)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *a = pod_from(table,
		"{\"metadata\": {\"name\": \"a\", \"namespace\": \"shop\"},"
		" \"spec\": {\"nodeName\": \"n1\"}}");
	score_pod *b = pod_from(table,
		"{\"metadata\": {\"name\": \"b\", \"namespace\": \"shop\"},"
		" \"spec\": {\"nodeName\": \"n1\"}}");

	cr_assert_eq(a->namespace, b->namespace, "namespaces must be interned");
	cr_assert_eq(a->node_name, b->node_name, "node names must be interned");
	score_pod_free(a);
	score_pod_free(b);
	score_resource_table_free(table);
}

Test(decode, phases)
{
	static const struct {
		const char *status;
		score_pod_phase phase;
	} cases[] = {
		{"{}", SCORE_POD_PENDING},
		{"{\"phase\": \"Pending\"}", SCORE_POD_PENDING},
		{"{\"phase\": \"Running\"}", SCORE_POD_RUNNING},
		{"{\"phase\": \"Succeeded\"}", SCORE_POD_SUCCEEDED},
		{"{\"phase\": \"Failed\"}", SCORE_POD_FAILED},
		{"{\"phase\": \"Unknown\"}", SCORE_POD_UNKNOWN},
		{"{\"phase\": \"Hibernating\"}", SCORE_POD_UNKNOWN},
	};
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *json = g_strdup_printf(
			"{\"metadata\": {\"name\": \"p\"}, \"status\": %s}",
			cases[i].status);
		score_pod *pod = pod_from(table, json);

		cr_assert_eq(pod->phase, cases[i].phase,
			     "status %s: expected phase %d, got %d",
			     cases[i].status, cases[i].phase, pod->phase);
		score_pod_free(pod);
		g_free(json);
	}
	score_resource_table_free(table);
}

Test(decode, tolerations)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"tolerations\": ["
		"  {\"operator\": \"Exists\"},"
		"  {\"key\": \"dedicated\", \"operator\": \"Equal\", \"value\": \"db\","
		"   \"effect\": \"PreferNoSchedule\"},"
		"  {\"key\": \"gpu\", \"value\": \"yes\", \"effect\": \"NoSchedule\"},"
		"  {\"key\": \"spot\", \"operator\": \"\", \"effect\": \"\"}]}}");
	score_taint db = {score_intern("dedicated"), score_intern("db"),
			  SCORE_EFFECT_PREFER_NO_SCHEDULE};

	cr_assert_eq(pod->n_tolerations, 4, "expected 4 tolerations, got %u",
		     pod->n_tolerations);

	assert_string(pod->tolerations[0].key, NULL, "[0].key");
	cr_assert_eq(pod->tolerations[0].op, SCORE_TOLERATION_EXISTS, "[0].op");
	cr_assert_eq(pod->tolerations[0].effect, SCORE_EFFECT_ANY,
		     "[0].effect: expected any, got %d", pod->tolerations[0].effect);

	assert_string(pod->tolerations[1].key, "dedicated", "[1].key");
	assert_string(pod->tolerations[1].value, "db", "[1].value");
	cr_assert_eq(pod->tolerations[1].op, SCORE_TOLERATION_EQUAL, "[1].op");
	cr_assert_eq(pod->tolerations[1].effect, SCORE_EFFECT_PREFER_NO_SCHEDULE,
		     "[1].effect: got %d", pod->tolerations[1].effect);
	cr_assert(score_toleration_matches(&pod->tolerations[1], &db),
		  "[1] must tolerate dedicated=db:PreferNoSchedule");

	cr_assert_eq(pod->tolerations[2].op, SCORE_TOLERATION_EQUAL,
		     "[2]: a missing operator means Equal");
	cr_assert_eq(pod->tolerations[2].effect, SCORE_EFFECT_NO_SCHEDULE,
		     "[2].effect: got %d", pod->tolerations[2].effect);

	cr_assert_eq(pod->tolerations[3].op, SCORE_TOLERATION_EQUAL,
		     "[3]: an empty operator means Equal");
	cr_assert_eq(pod->tolerations[3].effect, SCORE_EFFECT_ANY,
		     "[3]: an empty effect matches all effects");
	assert_string(pod->tolerations[3].value, NULL, "[3].value");

	score_unintern(db.key);
	score_unintern(db.value);
	score_pod_free(pod);
	score_resource_table_free(table);
}

/* ---- Nodes --------------------------------------------------------------- */

Test(decode, node_taints_and_cordon)
{
	score_resource_table *table = score_resource_table_new();
	score_node *node = node_from(table,
		"{\"metadata\": {\"name\": \"n1\", \"labels\": {\"topology.kubernetes.io/zone\": \"a\"}},"
		" \"spec\": {\"unschedulable\": true, \"taints\": ["
		"   {\"key\": \"node.kubernetes.io/unschedulable\", \"effect\": \"NoSchedule\"},"
		"   {\"key\": \"dedicated\", \"value\": \"db\", \"effect\": \"NoExecute\","
		"    \"timeAdded\": \"2024-05-03T10:58:07Z\"}]},"
		" \"status\": {\"allocatable\": {\"cpu\": \"3920m\", \"memory\": \"14Gi\","
		"   \"hugepages-2Mi\": \"0\", \"pods\": \"110\"},"
		"  \"conditions\": [{\"type\": \"MemoryPressure\", \"status\": \"False\"},"
		"   {\"type\": \"Ready\", \"status\": \"True\"}]}}");

	assert_string(node->name, "n1", "name");
	assert_string(score_labels_get(&node->labels, "topology.kubernetes.io/zone"),
		      "a", "zone label");
	cr_assert(node->unschedulable, "expected unschedulable");
	cr_assert(node->ready, "expected ready");
	cr_assert_eq(node->n_taints, 2, "expected 2 taints, got %u", node->n_taints);
	assert_string(node->taints[0].key, "node.kubernetes.io/unschedulable",
		      "taint[0].key");
	assert_string(node->taints[0].value, NULL, "taint[0].value");
	cr_assert_eq(node->taints[0].effect, SCORE_EFFECT_NO_SCHEDULE,
		     "taint[0].effect: got %d", node->taints[0].effect);
	assert_string(node->taints[1].value, "db", "taint[1].value");
	cr_assert_eq(node->taints[1].effect, SCORE_EFFECT_NO_EXECUTE,
		     "taint[1].effect: got %d", node->taints[1].effect);
	assert_resource(&node->allocatable, SCORE_RES_CPU, 3920, "allocatable");
	assert_resource(&node->allocatable, SCORE_RES_MEMORY, 14 * GiB,
			"allocatable");
	assert_resource(&node->allocatable, SCORE_RES_PODS, 110, "allocatable");
	cr_assert_eq(score_resource_find(table, "hugepages-2Mi"), -ENOENT,
		     "a zero hugepages amount must not take a slot");
	score_node_free(node);
	score_resource_table_free(table);
}

Test(decode, node_capacity_fallback)
{
	score_resource_table *table = score_resource_table_new();
	score_node *node = node_from(table,
		"{\"metadata\": {\"name\": \"n2\"}, \"status\": {"
		"  \"capacity\": {\"cpu\": \"8\", \"memory\": \"32Gi\", \"nvidia.com/gpu\": \"4\"}}}");
	int gpu = score_resource_find(table, "nvidia.com/gpu");

	assert_resource(&node->allocatable, SCORE_RES_CPU, 8000, "capacity");
	assert_resource(&node->allocatable, SCORE_RES_MEMORY, 32 * GiB, "capacity");
	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "gpu slot: got %d", gpu);
	assert_resource(&node->allocatable, gpu, 4, "capacity");
	score_node_free(node);

	/* allocatable wins over capacity when both are present. */
	node = node_from(table,
		"{\"metadata\": {\"name\": \"n3\"}, \"status\": {"
		"  \"capacity\": {\"cpu\": \"8\"}, \"allocatable\": {\"cpu\": \"7500m\"}}}");
	assert_resource(&node->allocatable, SCORE_RES_CPU, 7500, "allocatable");
	score_node_free(node);
	score_resource_table_free(table);
}

Test(decode, node_ready_condition)
{
	static const struct {
		const char *status;
		bool ready;
		bool unreported;
	} cases[] = {
		{"{\"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}", true, false},
		{"{\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\"}]}", false, false},
		{"{\"conditions\": [{\"type\": \"Ready\", \"status\": \"Unknown\"}]}", false, false},
		{"{\"conditions\": [{\"type\": \"DiskPressure\", \"status\": \"True\"}]}", false, true},
		{"{\"conditions\": []}", false, true},
		{"{}", false, true},
	};
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *json = g_strdup_printf(
			"{\"metadata\": {\"name\": \"n\"}, \"status\": %s}",
			cases[i].status);
		score_node *node = node_from(table, json);

		cr_assert_eq(node->ready, cases[i].ready,
			     "status %s: expected ready=%d, got %d",
			     cases[i].status, cases[i].ready, node->ready);
		cr_assert_eq(node->ready_unreported, cases[i].unreported,
			     "status %s: expected ready_unreported=%d, got %d",
			     cases[i].status, cases[i].unreported,
			     node->ready_unreported);
		score_node_free(node);
		g_free(json);
	}
	score_resource_table_free(table);
}

/* ---- Malformed objects --------------------------------------------------- */

typedef struct malformed_case {
	bool node;
	const char *json;
	const char *message_start; /* the error message must begin with it */
} malformed_case;

static const malformed_case malformed_cases[] = {
	{false, "[]", "expected a pod as a JSON object, got an array"},
	{false, "{\"metadata\": \"p\"}", "metadata: expected an object, got a string"},
	{false, "{}", "metadata: missing"},
	{false, "{\"metadata\": {\"namespace\": \"x\"}}", "metadata.name: missing"},
	{false, "{\"metadata\": {\"name\": 7}}", "metadata.name: expected a string, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\", \"uid\": true}}",
	 "metadata.uid: expected a string, got a boolean"},
	{false, "{\"metadata\": {\"name\": \"p\", \"labels\": [\"a\"]}}",
	 "metadata.labels: expected an object, got an array"},
	{false, "{\"metadata\": {\"name\": \"p\", \"labels\": {\"app\": 3}}}",
	 "metadata.labels.app: expected a string label value, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": []}",
	 "spec: expected an object, got an array"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"nodeName\": 1}}",
	 "spec.nodeName: expected a string, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": {}}}",
	 "spec.containers: expected an array, got an object"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [\"web\"]}}",
	 "spec.containers[0]: expected an object, got a string"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"resources\": 1}]}}",
	 "spec.containers[0].resources: expected an object, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": [\"cpu\"]}}]}}",
	 "spec.containers[0].resources.requests: expected an object, got an array"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{}, {\"resources\": {\"requests\": {\"cpu\": \"abc\"}}}]}}",
	 "spec.containers[1].resources.requests.cpu: "},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"cpu\": true}}}]}}",
	 "spec.containers[0].resources.requests.cpu: expected a quantity"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"memory\": \"-1Gi\"}}}]}}",
	 "spec.containers[0].resources.requests.memory: invalid quantity \"-1Gi\": a resource amount must not be negative"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"limits\": {\"memory\": \"lots\"}}}]}}",
	 "spec.containers[0].resources.limits.memory: "},
	/* Amounts beyond the model's int64 count name the largest accepted
	 * and the unit, and a negative one is negative whatever its size. */
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"cpu\": \"1e30\"}}}]}}",
	 "spec.containers[0].resources.requests.cpu: quantity \"1e30\" is out of range: the largest cpu amount accepted is 9223372036854775.807 cores (2^63-1 millicores)"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"cpu\": 1e30}}}]}}",
	 "spec.containers[0].resources.requests.cpu: quantity \"1e+30\" is out of range: the largest cpu amount accepted is 9223372036854775.807 cores"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"memory\": \"9Ei\"}}}]}}",
	 "spec.containers[0].resources.requests.memory: quantity \"9Ei\" is out of range: the largest memory amount accepted is 9223372036854775807 bytes (2^63-1)"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"limits\": {\"example.com/dongle\": \"1e19\"}}}]}}",
	 "spec.containers[0].resources.limits.example.com/dongle: quantity \"1e19\" is out of range: the largest example.com/dongle amount accepted is 9223372036854775807 (2^63-1)"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{\"resources\": {\"requests\": {\"cpu\": \"-1e30\"}}}]}}",
	 "spec.containers[0].resources.requests.cpu: invalid quantity \"-1e30\": a resource amount must not be negative"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"initContainers\": "
		"[{\"restartPolicy\": 1}]}}",
	 "spec.initContainers[0].restartPolicy: expected a string, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"initContainers\": "
		"[{\"resources\": {\"requests\": {\"cpu\": \"1x\"}}}]}}",
	 "spec.initContainers[0].resources.requests.cpu: "},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"overhead\": {\"memory\": \"?\"}}}",
	 "spec.overhead.memory: "},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"resources\": "
		"{\"requests\": {\"cpu\": []}}}}",
	 "spec.resources.requests.cpu: expected a quantity"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"tolerations\": {}}}",
	 "spec.tolerations: expected an array, got an object"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"tolerations\": "
		"[{\"operator\": \"Exists\"}, {\"key\": \"k\", \"operator\": \"Lt\", \"value\": \"5\"}]}}",
	 "spec.tolerations[1].operator: invalid operator \"Lt\": expected Exists or Equal"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"tolerations\": "
		"[{\"key\": \"k\", \"effect\": \"NoScheduleEver\"}]}}",
	 "spec.tolerations[0].effect: invalid effect \"NoScheduleEver\""},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"tolerations\": [3]}}",
	 "spec.tolerations[0]: expected an object, got a number"},
	{false, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": false}}",
	 "status.phase: expected a string, got a boolean"},

	{true, "\"n\"", "expected a node as a JSON object, got a string"},
	{true, "{}", "metadata.name: missing"},
	{true, "{\"metadata\": {\"name\": \"\"}}", "metadata.name: missing"},
	{true, "{\"metadata\": {\"name\": \"n\", \"labels\": \"a=b\"}}",
	 "metadata.labels: expected an object, got a string"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"unschedulable\": \"yes\"}}",
	 "spec.unschedulable: expected true or false, got a string"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"taints\": {}}}",
	 "spec.taints: expected an array, got an object"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"taints\": "
	       "[{\"key\": \"k\", \"effect\": \"Sometimes\"}]}}",
	 "spec.taints[0].effect: invalid effect \"Sometimes\": expected NoSchedule, PreferNoSchedule or NoExecute"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"taints\": "
	       "[{\"key\": \"a\", \"effect\": \"NoSchedule\"}, {\"key\": \"k\"}]}}",
	 "spec.taints[1].effect: missing"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"taints\": [{\"effect\": \"NoSchedule\"}]}}",
	 "spec.taints[0].key: missing"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"status\": {\"allocatable\": {\"cpu\": \"lots\"}}}",
	 "status.allocatable.cpu: "},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"status\": {\"capacity\": {\"pods\": \"1.5.1\"}}}",
	 "status.capacity.pods: "},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"status\": {\"allocatable\": []}}",
	 "status.allocatable: expected an object, got an array"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"status\": {\"conditions\": {\"Ready\": \"True\"}}}",
	 "status.conditions: expected an array, got an object"},
	{true, "{\"metadata\": {\"name\": \"n\"}, \"status\": {\"conditions\": [{\"type\": 1}]}}",
	 "status.conditions[0].type: expected a string, got a number"},
};

Test(decode, malformed_objects)
{
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(malformed_cases); i++) {
		const malformed_case *c = &malformed_cases[i];
		cJSON *root = parse(c->json);
		score_error err = {0};
		void *out = (void *)1;
		int rc;

		if (c->node) {
			score_node *node = (score_node *)1;

			rc = inf_decode_node(root, table, &node, &err);
			out = node;
		} else {
			score_pod *pod = (score_pod *)1;

			rc = inf_decode_pod(root, table, &pod, &err);
			out = pod;
		}

		cr_assert_lt(rc, 0, "case %zu (%s): expected an error, got %d",
			     i, c->json, rc);
		cr_assert_eq(err.code, rc, "case %zu: err.code %d, rc %d", i,
			     err.code, rc);
		cr_assert_null(out, "case %zu: no object on failure", i);
		cr_assert(strncmp(err.message, c->message_start,
				  strlen(c->message_start)) == 0,
			  "case %zu (%s): expected message starting with\n  %s\ngot\n  %s",
			  i, c->json, c->message_start, err.message);
		cJSON_Delete(root);
	}
	score_resource_table_free(table);
}

Test(decode, bad_quantity_quotes_value)
{
	score_resource_table *table = score_resource_table_new();
	cJSON *root = parse(
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
		"[{}, {\"resources\": {\"requests\": {\"cpu\": \"abc\"}}}]}}");
	score_error err = {0};
	score_pod *pod = NULL;
	int rc = inf_decode_pod(root, table, &pod, &err);

	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_not_null(strstr(err.message, "\"abc\""),
			   "message must quote the value: %s", err.message);
	cJSON_Delete(root);
	score_resource_table_free(table);
}

Test(decode, null_error_out_parameter)
{
	score_resource_table *table = score_resource_table_new();
	cJSON *root = parse("{\"metadata\": {\"name\": \"p\"}, \"spec\": "
			    "{\"containers\": [{\"resources\": {\"requests\": {\"cpu\": \"abc\"}}}]}}");
	score_pod *pod = NULL;
	int rc = inf_decode_pod(root, table, &pod, NULL);

	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cJSON_Delete(root);
	score_resource_table_free(table);
}

/* ---- Isolation inputs ---------------------------------------------------- */

Test(decode, host_access_fields)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *plain = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}]}}");
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"agent\", \"namespace\": \"monitoring\"},"
		" \"spec\": {\"hostNetwork\": true, \"hostPID\": true, \"hostIPC\": true,"
		"  \"runtimeClassName\": \"gvisor\","
		"  \"containers\": [{\"securityContext\": {\"privileged\": false}}],"
		"  \"volumes\": [{\"name\": \"cfg\", \"configMap\": {\"name\": \"c\"}},"
		"               {\"name\": \"root\", \"hostPath\": {\"path\": \"/\"}}]}}");

	cr_assert(!plain->host_network && !plain->host_pid && !plain->host_ipc,
		  "a plain pod has no host namespaces");
	cr_assert(!plain->privileged && !plain->uses_host_path,
		  "a plain pod is not privileged and has no hostPath");
	assert_string(plain->runtime_class_name, NULL, "plain runtimeClassName");

	cr_assert(pod->host_network, "hostNetwork");
	cr_assert(pod->host_pid, "hostPID");
	cr_assert(pod->host_ipc, "hostIPC");
	cr_assert(!pod->privileged, "privileged: false stays false");
	cr_assert(pod->uses_host_path, "a hostPath volume sets uses_host_path");
	assert_string(pod->runtime_class_name, "gvisor", "runtimeClassName");
	score_pod_free(plain);
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, privileged_in_any_container_kind)
{
	static const char *const cases[] = {
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\":"
		" [{}, {\"securityContext\": {\"privileged\": true}}]}}",
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}],"
		" \"initContainers\": [{\"securityContext\": {\"privileged\": true}}]}}",
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}],"
		" \"ephemeralContainers\": [{\"securityContext\": {\"privileged\": true}}]}}",
	};
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_pod *pod = pod_from(table, cases[i]);

		cr_assert(pod->privileged, "case %zu: expected privileged", i);
		score_pod_free(pod);
	}
	score_resource_table_free(table);
}

Test(decode, host_ports)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {"
		" \"containers\": [{\"ports\": ["
		"   {\"containerPort\": 80},"
		"   {\"containerPort\": 8080, \"hostPort\": 80},"
		"   {\"containerPort\": 53, \"hostPort\": 53, \"protocol\": \"UDP\", \"hostIP\": \"10.0.0.1\"},"
		"   {\"containerPort\": 9, \"hostPort\": 9, \"hostIP\": \"0.0.0.0\", \"protocol\": \"SCTP\"}]}],"
		" \"initContainers\": ["
		"   {\"ports\": [{\"containerPort\": 1, \"hostPort\": 1}]},"
		"   {\"restartPolicy\": \"Always\", \"ports\": [{\"containerPort\": 2, \"hostPort\": 2}]}]}}");

	/* The plain init container's port does not count; the sidecar's does. */
	cr_assert_eq(pod->n_host_ports, 4, "expected 4 host ports, got %u",
		     pod->n_host_ports);
	cr_assert_eq(pod->host_ports[0].port, 80);
	cr_assert_eq(pod->host_ports[0].protocol, SCORE_PROTOCOL_TCP);
	assert_string(pod->host_ports[0].host_ip, NULL, "empty hostIP");
	cr_assert_eq(pod->host_ports[1].port, 53);
	cr_assert_eq(pod->host_ports[1].protocol, SCORE_PROTOCOL_UDP);
	assert_string(pod->host_ports[1].host_ip, "10.0.0.1", "hostIP");
	cr_assert_eq(pod->host_ports[2].protocol, SCORE_PROTOCOL_SCTP);
	assert_string(pod->host_ports[2].host_ip, NULL, "0.0.0.0 means every address");
	cr_assert_eq(pod->host_ports[3].port, 2, "the sidecar's port, got %d",
		     pod->host_ports[3].port);
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, host_network_ports_default_to_container_ports)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"hostNetwork\": true,"
		" \"containers\": [{\"ports\": [{\"containerPort\": 9100}]}]}}");

	cr_assert_eq(pod->n_host_ports, 1, "got %u host ports", pod->n_host_ports);
	cr_assert_eq(pod->host_ports[0].port, 9100);
	score_pod_free(pod);
	score_resource_table_free(table);
}

Test(decode, controller_owner)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = pod_from(table,
		"{\"metadata\": {\"name\": \"web-7d9c-x\", \"ownerReferences\": ["
		"  {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"name\": \"c\", \"uid\": \"u0\"},"
		"  {\"apiVersion\": \"apps/v1\", \"kind\": \"ReplicaSet\", \"name\": \"web-7d9c\","
		"   \"uid\": \"u1\", \"controller\": true}]}}");
	score_pod *orphan = pod_from(table, "{\"metadata\": {\"name\": \"lone\"}}");

	assert_string(pod->owner.kind, "ReplicaSet", "owner kind");
	assert_string(pod->owner.name, "web-7d9c", "owner name");
	assert_string(pod->owner.uid, "u1", "owner uid");
	assert_string(orphan->owner.kind, NULL, "no controller");
	assert_string(pod->tenant, NULL, "decoding sets no tenant");
	score_pod_free(pod);
	score_pod_free(orphan);
	score_resource_table_free(table);
}

Test(decode, malformed_isolation_fields)
{
	static const struct {
		const char *json;
		const char *message;
	} cases[] = {
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"hostNetwork\": \"yes\"}}",
		 "spec.hostNetwork: expected true or false, got a string"},
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"securityContext\": {\"privileged\": 1}}]}}",
		 "spec.containers[0].securityContext.privileged: expected true or false, got a number"},
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"containerPort\": 80, \"hostPort\": 70000}]}]}}",
		 "spec.containers[0].ports[0].hostPort: invalid value 70000: expected an integer from 0 to 65535"},
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"containerPort\": 80.5}]}]}}",
		 "spec.containers[0].ports[0].containerPort: invalid value 80.5: expected an integer from 0 to 65535"},
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"containerPort\": 80, \"hostPort\": 80, \"protocol\": \"HTTP\"}]}]}}",
		 "spec.containers[0].ports[0].protocol: invalid protocol \"HTTP\": expected TCP, UDP or SCTP"},
		{"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"volumes\": [\"root\"]}}",
		 "spec.volumes[0]: expected an object, got a string"},
		{"{\"metadata\": {\"name\": \"p\", \"ownerReferences\": [{\"controller\": true, \"name\": \"x\"}]}}",
		 "metadata.ownerReferences[0].kind: missing; a controller reference needs the owner's kind"},
	};
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		cJSON *root = parse(cases[i].json);
		score_error err = {0};
		score_pod *pod = NULL;
		int rc = inf_decode_pod(root, table, &pod, &err);

		cr_assert_eq(rc, -EINVAL, "case %zu: expected -EINVAL, got %d", i, rc);
		cr_assert_null(pod, "case %zu: no pod on failure", i);
		cr_assert_str_eq(err.message, cases[i].message,
				 "case %zu:\n  got      %s\n  expected %s", i,
				 err.message, cases[i].message);
		cJSON_Delete(root);
	}
	score_resource_table_free(table);
}

Test(decode, namespace_labels)
{
	cJSON *root = parse("{\"apiVersion\": \"v1\", \"kind\": \"Namespace\","
			    " \"metadata\": {\"name\": \"shop\", \"labels\": {\"stowage.io/tenant\": \"alpha\"}}}");
	score_labels labels = {0};
	const char *name = NULL;
	score_error err = {0};
	int rc;

	rc = inf_decode_namespace(root, &name, &labels, &err);
	cr_assert_eq(rc, 0, "decoding failed: %s", err.message);
	assert_string(name, "shop", "name");
	assert_string(score_labels_get(&labels, "stowage.io/tenant"), "alpha",
		      "tenant label");
	assert_string(score_labels_get(&labels, "kubernetes.io/metadata.name"),
		      "shop", "the name label the API server sets");
	score_unintern(name);
	score_labels_release(&labels);
	cJSON_Delete(root);

	root = parse("{\"kind\": \"Namespace\", \"metadata\": {\"labels\": {}}}");
	rc = inf_decode_namespace(root, &name, &labels, &err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(err.message, "metadata.name: missing; every namespace needs a name");
	cr_assert_null(name);
	cr_assert_eq(labels.count, 0);
	cJSON_Delete(root);
}

/* ---- Bandwidth annotations ----------------------------------------------- */

/* Decodes a pod "shop/web-1" with `annotations` (a JSON object body) and
 * collects the warnings. */
static score_pod *pod_with_annotations(score_resource_table *table,
				       const char *annotations,
				       GPtrArray *warnings)
{
	char *json = g_strdup_printf(
		"{\"metadata\": {\"name\": \"web-1\", \"namespace\": \"shop\","
		" \"annotations\": %s}}", annotations);
	cJSON *root = parse(json);
	score_error err = {0};
	score_pod *pod = NULL;
	int rc = inf_decode_pod_with_warnings(root, table, &pod, warnings, &err);

	cr_assert_eq(rc, 0, "decoding failed with %d: %s\ninput: %s", rc,
		     err.message, json);
	cJSON_Delete(root);
	g_free(json);
	return pod;
}

Test(decode, bandwidth_annotations)
{
	score_resource_table *table = score_resource_table_new();
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	score_pod *pod = pod_with_annotations(table,
		"{\"kubernetes.io/ingress-bandwidth\": \"10M\","
		" \"kubernetes.io/egress-bandwidth\": \"1.5G\","
		" \"example.com/other\": \"x\"}", warnings);
	score_pod *plain = pod_from(table, "{\"metadata\": {\"name\": \"p\"}}");

	cr_assert_eq(pod->ingress_bandwidth, INT64_C(10000000),
		     "ingress: got %" G_GINT64_FORMAT, pod->ingress_bandwidth);
	cr_assert_eq(pod->egress_bandwidth, INT64_C(1500000000),
		     "egress: got %" G_GINT64_FORMAT, pod->egress_bandwidth);
	cr_assert_eq(warnings->len, 0, "valid values warn nothing, got %u",
		     warnings->len);
	cr_assert_eq(plain->ingress_bandwidth, 0, "no annotation: 0");
	cr_assert_eq(plain->egress_bandwidth, 0, "no annotation: 0");
	score_pod_free(pod);
	score_pod_free(plain);
	g_ptr_array_unref(warnings);
	score_resource_table_free(table);
}

Test(decode, bad_bandwidth_annotations_warn)
{
	static const struct {
		const char *annotations;
		const char *warning;
	} cases[] = {
		{"{\"kubernetes.io/ingress-bandwidth\": \"fast\"}",
		 "pod shop/web-1: annotation kubernetes.io/ingress-bandwidth: invalid value \"fast\": expected a quantity of bits per second; use a quantity such as 10M; the annotation is ignored"},
		{"{\"kubernetes.io/ingress-bandwidth\": \"300Mbps\"}",
		 "pod shop/web-1: annotation kubernetes.io/ingress-bandwidth: invalid value \"300Mbps\": expected a quantity of bits per second; use a quantity such as 300M; the annotation is ignored"},
		{"{\"kubernetes.io/egress-bandwidth\": \"1Gbit/s\"}",
		 "pod shop/web-1: annotation kubernetes.io/egress-bandwidth: invalid value \"1Gbit/s\": expected a quantity of bits per second; use a quantity such as 1G; the annotation is ignored"},
		{"{\"kubernetes.io/egress-bandwidth\": \"bps\"}",
		 "pod shop/web-1: annotation kubernetes.io/egress-bandwidth: invalid value \"bps\": expected a quantity of bits per second; use a quantity such as 10M; the annotation is ignored"},
		{"{\"kubernetes.io/egress-bandwidth\": \"5Pbps\"}",
		 "pod shop/web-1: annotation kubernetes.io/egress-bandwidth: invalid value \"5Pbps\": expected a quantity of bits per second; use a quantity such as 10M; the annotation is ignored"},
		{"{\"kubernetes.io/egress-bandwidth\": \"500\"}",
		 "pod shop/web-1: annotation kubernetes.io/egress-bandwidth: invalid value \"500\": out of range: the kubelet accepts 1k to 1P bits per second; the annotation is ignored"},
		{"{\"kubernetes.io/egress-bandwidth\": \"2P\"}",
		 "pod shop/web-1: annotation kubernetes.io/egress-bandwidth: invalid value \"2P\": out of range: the kubelet accepts 1k to 1P bits per second; the annotation is ignored"},
		/* A quantity, but too large for int64. */
		{"{\"kubernetes.io/ingress-bandwidth\": \"1e20\"}",
		 "pod shop/web-1: annotation kubernetes.io/ingress-bandwidth: invalid value \"1e20\": out of range: the kubelet accepts 1k to 1P bits per second; the annotation is ignored"},
		{"{\"kubernetes.io/ingress-bandwidth\": 10000000}",
		 "pod shop/web-1: annotation kubernetes.io/ingress-bandwidth: expected a string such as \"10M\", got a number; the annotation is ignored"},
	};
	score_resource_table *table = score_resource_table_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
		score_pod *pod = pod_with_annotations(table, cases[i].annotations,
						      warnings);

		cr_assert_eq(pod->ingress_bandwidth, 0, "case %zu: ignored", i);
		cr_assert_eq(pod->egress_bandwidth, 0, "case %zu: ignored", i);
		cr_assert_eq(warnings->len, 1, "case %zu: one warning, got %u", i,
			     warnings->len);
		cr_assert_str_eq(g_ptr_array_index(warnings, 0), cases[i].warning,
				 "case %zu:\n  got      %s\n  expected %s", i,
				 (const char *)g_ptr_array_index(warnings, 0),
				 cases[i].warning);
		score_pod_free(pod);
		g_ptr_array_unref(warnings);
	}
	score_resource_table_free(table);
}

Test(decode, bad_bandwidth_keeps_the_other_direction)
{
	score_resource_table *table = score_resource_table_new();
	score_pod *pod = NULL;
	cJSON *root = parse("{\"metadata\": {\"name\": \"web-1\", \"annotations\": {"
			    "\"kubernetes.io/ingress-bandwidth\": \"1k\","
			    "\"kubernetes.io/egress-bandwidth\": \"x\"}}}");
	int rc = inf_decode_pod(root, table, &pod, NULL);

	cr_assert_eq(rc, 0, "without a warnings array the pod still decodes");
	cr_assert_eq(pod->ingress_bandwidth, 1000, "1k is the lowest value, got %" G_GINT64_FORMAT,
		     pod->ingress_bandwidth);
	cr_assert_eq(pod->egress_bandwidth, 0, "the invalid direction is 0");
	score_pod_free(pod);
	cJSON_Delete(root);
	score_resource_table_free(table);
}

Test(decode, annotations_must_be_an_object)
{
	score_resource_table *table = score_resource_table_new();
	cJSON *root = parse("{\"metadata\": {\"name\": \"p\", \"annotations\": [\"a\"]}}");
	score_error err = {0};
	score_pod *pod = NULL;
	int rc = inf_decode_pod(root, table, &pod, &err);

	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_null(pod, "no pod on failure");
	cr_assert_str_eq(err.message,
			 "metadata.annotations: expected an object, got an array",
			 "got %s", err.message);
	cJSON_Delete(root);
	score_resource_table_free(table);
}

/* ---- Services ------------------------------------------------------------ */

static score_service *service_from(const char *json)
{
	cJSON *root = parse(json);
	score_error err = {0};
	score_service *service = NULL;
	int rc = inf_decode_service(root, &service, &err);

	cr_assert_eq(rc, 0, "decoding service failed with %d: %s\ninput: %s", rc,
		     err.message, json);
	cJSON_Delete(root);
	return service;
}

Test(decode, service_load_balancer)
{
	score_service *service = service_from(
		"{\"apiVersion\": \"v1\", \"kind\": \"Service\","
		" \"metadata\": {\"name\": \"web\", \"namespace\": \"shop\"},"
		" \"spec\": {\"type\": \"LoadBalancer\", \"selector\": {\"app\": \"web\"},"
		"  \"ports\": [{\"name\": \"https\", \"port\": 443, \"targetPort\": 8443,"
		"              \"nodePort\": 31443},"
		"             {\"port\": 53, \"protocol\": \"UDP\", \"nodePort\": 30053}]},"
		" \"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"203.0.113.7\"}]}}}");

	assert_string(service->namespace, "shop", "namespace");
	assert_string(service->name, "web", "name");
	cr_assert_eq(service->type, SCORE_SERVICE_LOAD_BALANCER, "type %d",
		     service->type);
	assert_string(score_labels_get(&service->selector, "app"), "web",
		      "selector app");
	cr_assert_eq(service->n_ports, 2, "ports %u", service->n_ports);
	cr_assert_eq(service->ports[0].protocol, SCORE_PROTOCOL_TCP,
		     "protocol defaults to TCP");
	cr_assert_eq(service->ports[0].port, 443, "port %d", service->ports[0].port);
	cr_assert_eq(service->ports[0].node_port, 31443, "nodePort %d",
		     service->ports[0].node_port);
	cr_assert_eq(service->ports[1].protocol, SCORE_PROTOCOL_UDP, "UDP");
	cr_assert_not(service->has_external_ips, "no externalIPs");
	score_service_free(service);
}

Test(decode, service_defaults)
{
	score_service *service = service_from(
		"{\"metadata\": {\"name\": \"headless\"},"
		" \"spec\": {\"clusterIP\": \"None\", \"externalIPs\": [\"198.51.100.4\"]}}");

	assert_string(service->namespace, "default", "namespace defaults");
	cr_assert_eq(service->type, SCORE_SERVICE_CLUSTER_IP,
		     "type defaults to ClusterIP");
	cr_assert_eq(service->selector.count, 0, "no selector");
	cr_assert_eq(service->n_ports, 0, "no ports");
	cr_assert(service->has_external_ips, "externalIPs present");
	score_service_free(service);
}

Test(decode, malformed_services)
{
	static const struct {
		const char *json;
		const char *message;
	} cases[] = {
		{"[]", "expected a service as a JSON object, got an array"},
		{"{\"spec\": {}}", "metadata.name: missing; every Service needs a name"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"type\": \"Ingress\"}}",
		 "spec.type: invalid type \"Ingress\": expected ClusterIP, NodePort, LoadBalancer or ExternalName"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"selector\": {\"app\": 1}}}",
		 "spec.selector.app: expected a string label value, got a number"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": {\"port\": 80}}}",
		 "spec.ports: expected an array, got an object"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": [{\"port\": 0}]}}",
		 "spec.ports[0].port: invalid value 0: expected an integer from 1 to 65535"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": [{\"targetPort\": 80}]}}",
		 "spec.ports[0].port: missing; every Service port needs a port from 1 to 65535"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": [{\"port\": 80, \"nodePort\": 70000}]}}",
		 "spec.ports[0].nodePort: invalid value 70000: expected an integer from 0 to 65535"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": [{\"port\": 80, \"protocol\": \"HTTP\"}]}}",
		 "spec.ports[0].protocol: invalid protocol \"HTTP\": expected TCP, UDP or SCTP"},
		{"{\"metadata\": {\"name\": \"s\"}, \"spec\": {\"externalIPs\": \"1.2.3.4\"}}",
		 "spec.externalIPs: expected an array, got a string"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		cJSON *root = parse(cases[i].json);
		score_error err = {0};
		score_service *service = NULL;
		int rc = inf_decode_service(root, &service, &err);

		cr_assert_eq(rc, -EINVAL, "case %zu: expected -EINVAL, got %d", i, rc);
		cr_assert_null(service, "case %zu: no service on failure", i);
		cr_assert_str_eq(err.message, cases[i].message,
				 "case %zu:\n  got      %s\n  expected %s", i,
				 err.message, cases[i].message);
		cJSON_Delete(root);
	}
}
