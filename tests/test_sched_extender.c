/* Tests for scheduler/extender.c: kube-scheduler's recorded requests, the
 * filter/prioritize/preempt/bind responses on clusters built with the model
 * API, lowercase keys from older kube-schedulers, malformed bodies, large
 * requests, and the decision log line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "scheduler/extender.h"
#include "scheduler/log.h"
#include "scoring/isolation.h"

#define GIB (1024LL * 1024 * 1024)

static sched_cluster cluster;
static sched_extender extender;
static sched_log *test_log;
static FILE *log_stream;
static char *log_text;
static size_t log_size;

static void setup(void)
{
	sched_cluster_init(&cluster);
	log_stream = open_memstream(&log_text, &log_size);
	cr_assert_not_null(log_stream, "open_memstream failed");
	test_log = sched_log_new(log_stream, SCHED_LOG_JSON, SCHED_LOG_DEBUG);
	extender = (sched_extender){
		.cluster = &cluster,
		.log = test_log,
		.top_scores = 3,
	};
}

static void teardown(void)
{
	sched_log_free(test_log);
	fclose(log_stream);
	free(log_text);
	sched_cluster_release(&cluster);
}

TestSuite(extender, .init = setup, .fini = teardown, .timeout = 60);

/* ---- Cluster builders ------------------------------------------------------ */

static void add_node_tainted(const char *name, int64_t cpu_milli,
			     int64_t memory, const char *taint_key,
			     const char *taint_value)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = cpu_milli;
	node->allocatable.v[SCORE_RES_MEMORY] = memory;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	node->ready = true;
	if (taint_key != NULL) {
		node->taints = g_new0(score_taint, 1);
		node->taints[0].key = score_intern(taint_key);
		node->taints[0].value = score_intern(taint_value);
		node->taints[0].effect = SCORE_EFFECT_NO_SCHEDULE;
		node->n_taints = 1;
	}
	score_model_put_node(cluster.model, node);
}

static void add_node(const char *name, int64_t cpu_milli, int64_t memory)
{
	add_node_tainted(name, cpu_milli, memory, NULL, NULL);
}

/* Adds a running pod bound to `node` (NULL: pending). */
static void add_pod(const char *uid, const char *node, int64_t cpu_milli,
		    int64_t memory)
{
	score_container container = {0};
	score_pod *pod = score_pod_new();

	container.requests.v[SCORE_RES_CPU] = cpu_milli;
	container.requests.v[SCORE_RES_MEMORY] = memory;
	container.present = (1u << SCORE_RES_CPU) | (1u << SCORE_RES_MEMORY);
	score_pod_compute_request(&container, 1, NULL, 0, NULL, &pod->request,
				  &pod->nonzero_request);
	pod->uid = score_intern(uid);
	pod->name = score_intern(uid);
	pod->namespace = score_intern("batch");
	pod->node_name = score_intern(node);
	pod->phase = node != NULL ? SCORE_POD_RUNNING : SCORE_POD_PENDING;
	score_model_put_pod(cluster.model, pod);
}

/* The cluster of the recorded requests: fake-node-1..3 with 4 CPUs and
 * 8Gi, each running one 2-CPU pod whose UID the preempt fixture lists. */
static void build_recorded_cluster(void)
{
	static const char *const victims[] = {
		"537d02f9-4b4e-4ad2-ab34-effaf2310430",
		"8c9dee31-80cd-4dbf-8d6a-e9e632bc1ec7",
		"78e43e89-8cb6-42f8-81d5-5319f8b46a37",
	};

	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "fake-node-%d", i + 1);
		add_node(name, 4000, 8 * GIB);
		add_pod(victims[i], name, 2000, GIB / 4);
	}
}

/* The acceptance cluster: node-full has 1500m CPU free, node-tainted has
 * an untolerated dedicated=gpu:NoSchedule taint, node-free is empty. The
 * same names appear in tests/fixtures/extender. */
static void build_acceptance_cluster(void)
{
	add_node("node-full", 4000, 8 * GIB);
	add_pod("victim-full-0", "node-full", 2500, GIB);
	add_node_tainted("node-tainted", 4000, 8 * GIB, "dedicated", "gpu");
	add_pod("victim-tainted-0", "node-tainted", 500, 0);
	add_node("node-free", 4000, 8 * GIB);
}

/* ---- Request builders ------------------------------------------------------- */

static char *pod_json(const char *name, const char *uid, const char *cpu,
		      const char *memory)
{
	return g_strdup_printf(
		"{\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\",\"uid\":\"%s\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.invalid/c:1\","
		"\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}}}]},"
		"\"status\":{\"phase\":\"Pending\"}}",
		name, uid, cpu, memory);
}

/* A v1.Node with allocatable cpu/memory/pods, Ready, and an optional
 * NoSchedule taint `taint_key`=gpu. */
static char *node_json(const char *name, const char *cpu, const char *memory,
		       const char *taint_key)
{
	char *taints = taint_key != NULL
			       ? g_strdup_printf(
					 "\"taints\":[{\"key\":\"%s\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]",
					 taint_key)
			       : g_strdup("");
	char *text = g_strdup_printf(
		"{\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\"}},"
		"\"spec\":{%s},"
		"\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},"
		"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		name, name, taints, cpu, memory);

	g_free(taints);
	return text;
}

static char *names_request(const char *pod, const char *const *names,
			   size_t n)
{
	GString *body = g_string_new("{\"Pod\":");

	g_string_append(body, pod);
	g_string_append(body, ",\"Nodes\":null,\"NodeNames\":[");
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(body, "%s\"%s\"", i > 0 ? "," : "",
				       names[i]);
	g_string_append(body, "]}");
	return g_string_free(body, FALSE);
}

static char *nodes_request(const char *pod, char *const *nodes, size_t n)
{
	GString *body = g_string_new("{\"Pod\":");

	g_string_append(body, pod);
	g_string_append(body, ",\"Nodes\":{\"metadata\":{\"resourceVersion\":\"42\"},\"items\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(body, ',');
		g_string_append(body, nodes[i]);
	}
	g_string_append(body, "]},\"NodeNames\":null}");
	return g_string_free(body, FALSE);
}

static char *read_fixture(const char *relative)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");
	GError *error = NULL;
	char *path;
	char *text = NULL;

	if (dir == NULL || dir[0] == '\0')
		dir = "tests/fixtures";
	path = g_build_filename(dir, relative, NULL);
	cr_assert(g_file_get_contents(path, &text, NULL, &error),
		  "cannot read fixture %s: %s", path,
		  error != NULL ? error->message : "unknown error");
	g_free(path);
	return text;
}

/* ---- Calling the extender ----------------------------------------------------- */

typedef struct answer {
	sched_extender_response response;
	cJSON *json; /* the parsed body */
} answer;

static answer handle(sched_verb verb, const char *body)
{
	answer a = {0};

	sched_extender_handle(&extender, verb, body, body != NULL ? strlen(body) : 0,
			      &a.response);
	cr_assert_not_null(a.response.body, "%s: no response body",
			   sched_verb_name(verb));
	a.json = cJSON_Parse(a.response.body);
	cr_assert_not_null(a.json, "%s: response body is not JSON: %s",
			   sched_verb_name(verb), a.response.body);
	return a;
}

static answer handle_fixture(sched_verb verb, const char *relative)
{
	char *body = read_fixture(relative);
	answer a = handle(verb, body);

	g_free(body);
	return a;
}

static void answer_release(answer *a)
{
	cJSON_Delete(a->json);
	g_free(a->response.body);
}

/* ---- Assertions ------------------------------------------------------------------ */

/* Asserts that `object` has exactly the members `keys`, spelled exactly. */
static void assert_keys(const cJSON *object, const char *const *keys,
			size_t n, const char *what)
{
	const cJSON *item;
	size_t count = 0;

	cr_assert(cJSON_IsObject(object), "%s: expected an object", what);
	cJSON_ArrayForEach(item, object) {
		bool known = false;

		for (size_t i = 0; i < n; i++)
			known = known || strcmp(item->string, keys[i]) == 0;
		cr_assert(known, "%s: unexpected member \"%s\"", what,
			  item->string);
		count++;
	}
	cr_assert_eq(count, n, "%s: expected %zu members, got %zu", what, n,
		     count);
}

static void assert_filter_shape(const cJSON *json)
{
	static const char *const keys[] = {"Nodes", "NodeNames", "FailedNodes",
					   "FailedAndUnresolvableNodes", "Error"};

	assert_keys(json, keys, G_N_ELEMENTS(keys), "ExtenderFilterResult");
	cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(json, "FailedNodes")),
		  "FailedNodes should be an object");
	cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
			  json, "FailedAndUnresolvableNodes")),
		  "FailedAndUnresolvableNodes should be an object");
	cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "Error")),
		  "Error should be a string");
}

static const char *error_of(const cJSON *json)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "Error");

	cr_assert(cJSON_IsString(error), "response has no Error string");
	return error->valuestring;
}

static void assert_no_error(const answer *a)
{
	cr_assert_eq(a->response.http_status, 200,
		     "expected status 200, got %d: %s", a->response.http_status,
		     a->response.body);
	cr_assert_null(a->response.error_kind, "expected no error kind, got %s",
		       a->response.error_kind);
	cr_assert_str_empty(error_of(a->json), "expected Error \"\", got \"%s\"",
			    error_of(a->json));
}

/* Asserts that the JSON array `array` contains exactly the strings `names`. */
static void assert_names(const cJSON *array, const char *const *names,
			 size_t n)
{
	cr_assert(cJSON_IsArray(array), "NodeNames should be an array");
	cr_assert_eq((size_t)cJSON_GetArraySize(array), n,
		     "expected %zu names, got %d", n, cJSON_GetArraySize(array));
	for (size_t i = 0; i < n; i++) {
		const cJSON *name = cJSON_GetArrayItem(array, (int)i);

		cr_assert(cJSON_IsString(name), "NodeNames[%zu] is not a string", i);
		cr_assert_str_eq(name->valuestring, names[i],
				 "NodeNames[%zu]: expected %s, got %s", i,
				 names[i], name->valuestring);
	}
}

static const char *failed_reason(const cJSON *json, const char *map,
				 const char *node)
{
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(json, map), node);

	return cJSON_IsString(reason) ? reason->valuestring : NULL;
}

static void assert_contains(const char *text, const char *part,
			    const char *what)
{
	cr_assert_not_null(text, "%s: missing", what);
	cr_assert(strstr(text, part) != NULL, "%s: expected \"%s\" in \"%s\"",
		  what, part, text);
}

/* Returns the last line of the test log, parsed. */
static cJSON *last_log_line(void)
{
	char *end;
	char *start;

	fflush(log_stream);
	cr_assert(log_size > 0, "nothing was logged");
	end = log_text + log_size;
	while (end > log_text && end[-1] == '\n')
		end--;
	start = end;
	while (start > log_text && start[-1] != '\n')
		start--;

	cJSON *line = cJSON_ParseWithLength(start, (size_t)(end - start));

	cr_assert_not_null(line, "log line is not JSON: %.*s",
			   (int)(end - start), start);
	return line;
}

/* ---- Recorded kube-scheduler v1.24 requests ------------------------------------ */

Test(extender, verb_names)
{
	cr_assert_str_eq(sched_verb_name(SCHED_VERB_FILTER), "filter");
	cr_assert_str_eq(sched_verb_name(SCHED_VERB_PRIORITIZE), "prioritize");
	cr_assert_str_eq(sched_verb_name(SCHED_VERB_PREEMPT), "preempt");
	cr_assert_str_eq(sched_verb_name(SCHED_VERB_BIND), "bind");
}

Test(extender, recorded_filter_node_names)
{
	static const char *const expected[] = {"fake-node-1", "fake-node-2",
					       "fake-node-3"};
	answer a;

	build_recorded_cluster();
	a = handle_fixture(SCHED_VERB_FILTER,
			   "kube-scheduler-v1.24/filter-request.nodeCacheCapable-true.json");

	assert_no_error(&a);
	assert_filter_shape(a.json);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "Nodes")),
		  "Nodes should be null in NodeNames mode");
	assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"),
		     expected, G_N_ELEMENTS(expected));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a.json, "FailedNodes")), 0,
		     "FailedNodes should be empty");
	answer_release(&a);
}

Test(extender, recorded_filter_nodes)
{
	static const char *const list_keys[] = {"metadata", "items"};
	char *body;
	cJSON *request;
	const cJSON *request_items;
	const cJSON *nodes;
	const cJSON *items;
	answer a;

	build_recorded_cluster();
	body = read_fixture("kube-scheduler-v1.24/filter-request.nodeCacheCapable-false.json");
	request = cJSON_Parse(body);
	cr_assert_not_null(request, "fixture is not JSON");
	request_items = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(request, "Nodes"), "items");
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	assert_filter_shape(a.json);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames")),
		  "NodeNames should be null in Nodes mode");
	nodes = cJSON_GetObjectItemCaseSensitive(a.json, "Nodes");
	assert_keys(nodes, list_keys, G_N_ELEMENTS(list_keys), "Nodes");
	items = cJSON_GetObjectItemCaseSensitive(nodes, "items");
	cr_assert_eq(cJSON_GetArraySize(items), cJSON_GetArraySize(request_items),
		     "expected %d nodes, got %d", cJSON_GetArraySize(request_items),
		     cJSON_GetArraySize(items));
	for (int i = 0; i < cJSON_GetArraySize(items); i++)
		cr_assert(cJSON_Compare(cJSON_GetArrayItem(items, i),
					cJSON_GetArrayItem(request_items, i), true),
			  "Nodes.items[%d] differs from the request's node", i);

	answer_release(&a);
	cJSON_Delete(request);
	g_free(body);
}

static void check_recorded_prioritize(const char *fixture,
				      const char *const *hosts, size_t n)
{
	static const char *const keys[] = {"Host", "Score"};
	answer a = handle_fixture(SCHED_VERB_PRIORITIZE, fixture);

	cr_assert_eq(a.response.http_status, 200, "%s: status %d: %s", fixture,
		     a.response.http_status, a.response.body);
	cr_assert(cJSON_IsArray(a.json), "%s: HostPriorityList should be an array",
		  fixture);
	cr_assert_eq((size_t)cJSON_GetArraySize(a.json), n,
		     "%s: expected %zu entries, got %d", fixture, n,
		     cJSON_GetArraySize(a.json));
	for (size_t i = 0; i < n; i++) {
		const cJSON *entry = cJSON_GetArrayItem(a.json, (int)i);
		const cJSON *score = cJSON_GetObjectItemCaseSensitive(entry, "Score");

		assert_keys(entry, keys, G_N_ELEMENTS(keys), "HostPriority");
		cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(entry, "Host")->valuestring,
				 hosts[i], "%s: entry %zu should be %s", fixture,
				 i, hosts[i]);
		cr_assert(cJSON_IsNumber(score) && score->valuedouble >= 0 &&
				  score->valuedouble <= 10,
			  "%s: Score of %s should be 0..10", fixture, hosts[i]);
	}
	answer_release(&a);
}

Test(extender, recorded_prioritize)
{
	static const char *const by_name[] = {"fake-node-1", "fake-node-2",
					      "fake-node-3"};
	static const char *const by_object[] = {"fake-node-2", "fake-node-1",
						"fake-node-3"};

	build_recorded_cluster();
	check_recorded_prioritize(
		"kube-scheduler-v1.24/prioritize-request.nodeCacheCapable-true.json",
		by_name, G_N_ELEMENTS(by_name));
	check_recorded_prioritize(
		"kube-scheduler-v1.24/prioritize-request.nodeCacheCapable-false.json",
		by_object, G_N_ELEMENTS(by_object));
}

Test(extender, recorded_preempt)
{
	static const char *const keys[] = {"NodeNameToMetaVictims"};
	static const char *const victim_keys[] = {"Pods", "NumPDBViolations"};
	static const char *const nodes[] = {"fake-node-1", "fake-node-2",
					    "fake-node-3"};
	static const char *const uids[] = {
		"537d02f9-4b4e-4ad2-ab34-effaf2310430",
		"8c9dee31-80cd-4dbf-8d6a-e9e632bc1ec7",
		"78e43e89-8cb6-42f8-81d5-5319f8b46a37",
	};
	const cJSON *map;
	answer a;

	build_recorded_cluster();
	a = handle_fixture(SCHED_VERB_PREEMPT,
			   "kube-scheduler-v1.24/preempt-request.nodeCacheCapable-true.json");

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	assert_keys(a.json, keys, G_N_ELEMENTS(keys), "ExtenderPreemptionResult");
	map = cJSON_GetObjectItemCaseSensitive(a.json, "NodeNameToMetaVictims");
	cr_assert_eq(cJSON_GetArraySize(map), 3, "expected 3 nodes, got %d",
		     cJSON_GetArraySize(map));
	for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++) {
		const cJSON *victims = cJSON_GetObjectItemCaseSensitive(map, nodes[i]);
		const cJSON *pods = cJSON_GetObjectItemCaseSensitive(victims, "Pods");
		const cJSON *pod = cJSON_GetArrayItem(pods, 0);

		assert_keys(victims, victim_keys, G_N_ELEMENTS(victim_keys),
			    "MetaVictims");
		cr_assert_eq(cJSON_GetArraySize(pods), 1,
			     "%s: expected 1 victim, got %d", nodes[i],
			     cJSON_GetArraySize(pods));
		cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(pod, "UID")->valuestring,
				 uids[i], "%s: wrong victim UID", nodes[i]);
	}
	answer_release(&a);
}

Test(extender, recorded_bind)
{
	static const char *const keys[] = {"Error"};
	answer a = handle_fixture(SCHED_VERB_BIND,
				  "kube-scheduler-v1.24/bind-request.json");

	cr_assert_eq(a.response.http_status, 200, "status %d",
		     a.response.http_status);
	cr_assert_str_eq(a.response.error_kind, "bind",
			 "error kind: expected bind, got %s",
			 a.response.error_kind);
	assert_keys(a.json, keys, G_N_ELEMENTS(keys), "ExtenderBindingResult");
	assert_contains(error_of(a.json), "default/test-pod-b", "bind Error");
	assert_contains(error_of(a.json), "fake-node-1", "bind Error");
	assert_contains(error_of(a.json), "bindVerb", "bind Error");
	answer_release(&a);
}

/* ---- Acceptance: full, tainted and free nodes ------------------------------------ */

static void check_acceptance_failures(const cJSON *json)
{
	char requested[32];
	char free_cpu[32];
	char *expected;
	const char *full = failed_reason(json, "FailedNodes", "node-full");
	const char *tainted = failed_reason(json, "FailedAndUnresolvableNodes",
					    "node-tainted");

	score_resource_format(SCORE_RES_CPU, 3000, requested, sizeof(requested));
	score_resource_format(SCORE_RES_CPU, 1500, free_cpu, sizeof(free_cpu));
	expected = g_strdup_printf("cpu: requested %s, free %s", requested,
				   free_cpu);
	assert_contains(full, expected, "FailedNodes[node-full]");
	g_free(expected);
	assert_contains(tainted, "dedicated=gpu:NoSchedule",
			"FailedAndUnresolvableNodes[node-tainted]");

	cr_assert_null(failed_reason(json, "FailedAndUnresolvableNodes", "node-full"),
		       "node-full must not be unresolvable");
	cr_assert_null(failed_reason(json, "FailedNodes", "node-tainted"),
		       "node-tainted must not be resolvable");
	cr_assert_null(failed_reason(json, "FailedNodes", "node-free"),
		       "node-free must not fail");
	cr_assert_null(failed_reason(json, "FailedAndUnresolvableNodes", "node-free"),
		       "node-free must not fail");
}

Test(extender, filter_node_names_keeps_free_node)
{
	static const char *const names[] = {"node-full", "node-tainted",
					    "node-free"};
	static const char *const expected[] = {"node-free"};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	assert_filter_shape(a.json);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "Nodes")),
		  "Nodes should be null in NodeNames mode");
	assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"),
		     expected, G_N_ELEMENTS(expected));
	check_acceptance_failures(a.json);

	answer_release(&a);
	g_free(body);
	g_free(pod);
}

Test(extender, filter_nodes_keeps_free_node)
{
	char *nodes[] = {
		node_json("node-full", "4", "8Gi", NULL),
		node_json("node-tainted", "4", "8Gi", "dedicated"),
		node_json("node-free", "4", "8Gi", NULL),
	};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = nodes_request(pod, nodes, G_N_ELEMENTS(nodes));
	cJSON *free_node = cJSON_Parse(nodes[2]);
	const cJSON *list;
	const cJSON *items;
	const cJSON *version;
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	assert_filter_shape(a.json);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames")),
		  "NodeNames should be null in Nodes mode");
	list = cJSON_GetObjectItemCaseSensitive(a.json, "Nodes");
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1, "expected 1 node, got %d",
		     cJSON_GetArraySize(items));
	cr_assert(cJSON_Compare(cJSON_GetArrayItem(items, 0), free_node, true),
		  "the returned node should be the request's node-free object");
	version = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(list, "metadata"),
		"resourceVersion");
	cr_assert(cJSON_IsString(version) && strcmp(version->valuestring, "42") == 0,
		  "Nodes.metadata should be kept from the request");
	check_acceptance_failures(a.json);

	answer_release(&a);
	cJSON_Delete(free_node);
	g_free(body);
	g_free(pod);
	for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++)
		g_free(nodes[i]);
}

Test(extender, filter_lowercase_node_names)
{
	static const char *const expected[] = {"node-free"};
	answer a;

	build_acceptance_cluster();
	a = handle_fixture(SCHED_VERB_FILTER, "extender/filter-lowercase.json");

	assert_no_error(&a);
	assert_filter_shape(a.json);
	assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"),
		     expected, G_N_ELEMENTS(expected));
	check_acceptance_failures(a.json);
	answer_release(&a);
}

Test(extender, filter_lowercase_nodes)
{
	const cJSON *list;
	const cJSON *items;
	const cJSON *name;
	answer a;

	build_acceptance_cluster();
	a = handle_fixture(SCHED_VERB_FILTER, "extender/filter-lowercase-nodes.json");

	assert_no_error(&a);
	assert_filter_shape(a.json);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames")),
		  "NodeNames should be null in Nodes mode");
	list = cJSON_GetObjectItemCaseSensitive(a.json, "Nodes");
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1, "expected 1 node, got %d",
		     cJSON_GetArraySize(items));
	name = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, 0),
						 "metadata"),
		"name");
	cr_assert_str_eq(name->valuestring, "node-free",
			 "expected node-free, got %s", name->valuestring);
	cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(list, "metadata"),
				   "resourceVersion"),
			   "Nodes.metadata.resourceVersion should be kept");
	check_acceptance_failures(a.json);
	answer_release(&a);
}

Test(extender, filter_unknown_node_names)
{
	static const char *const names[] = {"node-free", "node-ghost"};
	static const char *const expected[] = {"node-free"};
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"),
		     expected, G_N_ELEMENTS(expected));
	assert_contains(failed_reason(a.json, "FailedNodes", "node-ghost"),
			"node-ghost", "FailedNodes[node-ghost]");
	assert_contains(failed_reason(a.json, "FailedNodes", "node-ghost"),
			"yet", "FailedNodes[node-ghost]");
	cr_assert_null(failed_reason(a.json, "FailedAndUnresolvableNodes", "node-ghost"),
		       "an unknown node must stay resolvable");

	answer_release(&a);
	g_free(body);
	g_free(pod);
}

Test(extender, filter_nodes_unknown_to_model_count_empty)
{
	char *nodes[] = {node_json("node-new", "4", "8Gi", NULL)};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = nodes_request(pod, nodes, G_N_ELEMENTS(nodes));
	const cJSON *items;
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	items = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(a.json, "Nodes"), "items");
	cr_assert_eq(cJSON_GetArraySize(items), 1,
		     "a node the model lacks should count as empty and pass, got %d nodes",
		     cJSON_GetArraySize(items));

	answer_release(&a);
	g_free(body);
	g_free(pod);
	g_free(nodes[0]);
}

Test(extender, filter_nodes_uses_model_pods)
{
	/* The request's object has 4 CPUs and the model counts 2500m on the
	 * node of that name, so a 3-CPU pod does not fit. */
	char *nodes[] = {node_json("node-full", "4", "8Gi", NULL),
			 node_json("node-free", "2", "8Gi", NULL)};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = nodes_request(pod, nodes, G_N_ELEMENTS(nodes));
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			     cJSON_GetObjectItemCaseSensitive(a.json, "Nodes"), "items")),
		     0, "no node should pass");
	assert_contains(failed_reason(a.json, "FailedNodes", "node-full"),
			"free 1500m", "FailedNodes[node-full]");
	/* node-free's own object has 2 CPUs, which wins over the model's 4.
	 * A request above allocatable is unresolvable. */
	assert_contains(failed_reason(a.json, "FailedAndUnresolvableNodes",
				      "node-free"),
			"free 2", "FailedAndUnresolvableNodes[node-free]");

	answer_release(&a);
	g_free(body);
	g_free(pod);
	for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++)
		g_free(nodes[i]);
}

Test(extender, filter_nodes_invalid_node_rejected_alone)
{
	char *nodes[] = {node_json("node-bad", "lots", "8Gi", NULL),
			 node_json("node-free", "4", "8Gi", NULL)};
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body = nodes_request(pod, nodes, G_N_ELEMENTS(nodes));
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			     cJSON_GetObjectItemCaseSensitive(a.json, "Nodes"), "items")),
		     1, "node-free should still pass");
	assert_contains(failed_reason(a.json, "FailedAndUnresolvableNodes", "node-bad"),
			"lots", "FailedAndUnresolvableNodes[node-bad]");

	answer_release(&a);
	g_free(body);
	g_free(pod);
	for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++)
		g_free(nodes[i]);
}

Test(extender, filter_pod_assumed_on_node_not_counted_twice)
{
	static const char *const names[] = {"node-x"};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	score_error err = {0};
	answer a;

	add_node("node-x", 4000, 8 * GIB);
	add_pod("web-0-uid", NULL, 3000, GIB);
	cr_assert_eq(score_model_assume(cluster.model, "web-0-uid", "node-x", 0, &err),
		     0, "assume failed: %s", err.message);
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"),
		     names, G_N_ELEMENTS(names));

	answer_release(&a);
	g_free(body);
	g_free(pod);
}

/* ---- prioritize -------------------------------------------------------------------- */

static int64_t score_of(const cJSON *list, const char *host)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "Host");

		if (cJSON_IsString(name) && strcmp(name->valuestring, host) == 0)
			return (int64_t)cJSON_GetObjectItemCaseSensitive(entry, "Score")
				->valuedouble;
	}
	cr_assert_fail("no HostPriority for %s", host);
	return -1;
}

Test(extender, prioritize_prefers_emptier_node)
{
	static const char *const names[] = {"node-busy", "node-tainted",
					    "node-empty", "node-ghost"};
	char *pod = pod_json("web-0", "web-0-uid", "500m", "512Mi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	int64_t busy;
	int64_t empty;
	answer a;

	add_node("node-busy", 4000, 8 * GIB);
	add_pod("busy-0", "node-busy", 3000, 6 * GIB);
	add_node_tainted("node-tainted", 4000, 8 * GIB, "dedicated", "gpu");
	add_node("node-empty", 4000, 8 * GIB);
	a = handle(SCHED_VERB_PRIORITIZE, body);

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	cr_assert_eq(cJSON_GetArraySize(a.json), 4, "expected 4 entries, got %d",
		     cJSON_GetArraySize(a.json));
	for (int i = 0; i < 4; i++) {
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(a.json, i), "Host");

		cr_assert_str_eq(host->valuestring, names[i],
				 "entry %d: expected %s, got %s", i, names[i],
				 host->valuestring);
	}
	busy = score_of(a.json, "node-busy");
	empty = score_of(a.json, "node-empty");
	cr_assert(empty >= 0 && empty <= 10, "node-empty score %lld not in 0..10",
		  (long long)empty);
	cr_assert(busy >= 0 && busy <= 10, "node-busy score %lld not in 0..10",
		  (long long)busy);
	cr_assert_gt(empty, busy, "node-empty (%lld) should beat node-busy (%lld)",
		     (long long)empty, (long long)busy);
	cr_assert_eq(score_of(a.json, "node-tainted"), 0,
		     "a node that fails the filters should score 0");
	cr_assert_eq(score_of(a.json, "node-ghost"), 0,
		     "an unknown node should score 0");

	answer_release(&a);
	g_free(body);
	g_free(pod);
}

Test(extender, prioritize_logs_top_scores_with_criteria)
{
	static const char *const names[] = {"node-busy", "node-empty"};
	char *pod = pod_json("web-0", "web-0-uid", "500m", "512Mi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	const cJSON *top;
	const cJSON *first;
	const cJSON *criteria;
	cJSON *line;
	answer a;

	add_node("node-busy", 4000, 8 * GIB);
	add_pod("busy-0", "node-busy", 3000, 6 * GIB);
	add_node("node-empty", 4000, 8 * GIB);
	a = handle(SCHED_VERB_PRIORITIZE, body);
	line = last_log_line();

	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "msg")->valuestring,
			 "decision", "expected a decision line");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "verb")->valuestring,
			 "prioritize", "verb should be prioritize");
	top = cJSON_GetObjectItemCaseSensitive(line, "top");
	cr_assert_eq(cJSON_GetArraySize(top), 2, "expected 2 top scores, got %d",
		     cJSON_GetArraySize(top));
	first = cJSON_GetArrayItem(top, 0);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "node")->valuestring,
			 "node-empty", "the best node should come first");
	criteria = cJSON_GetObjectItemCaseSensitive(first, "criteria");
	cr_assert_eq((size_t)cJSON_GetArraySize(criteria), cluster.pipeline.n_scorers,
		     "expected one criterion per scorer");
	for (size_t s = 0; s < cluster.pipeline.n_scorers; s++)
		cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(
					   criteria, cluster.pipeline.scorers[s].name),
				   "criterion %s missing", cluster.pipeline.scorers[s].name);
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(line, "duration_ms")),
		  "duration_ms missing");

	cJSON_Delete(line);
	answer_release(&a);
	g_free(body);
	g_free(pod);
}

/* Returns the entry of `node` in the decision line's top scores. */
static const cJSON *top_entry(const cJSON *line, const char *node)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(line, "top")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "node");

		if (cJSON_IsString(name) && strcmp(name->valuestring, node) == 0)
			return entry;
	}
	cr_assert_fail("node %s is not among the top scores", node);
	return NULL;
}

/* A preferred rule lowers a node's score without rejecting it, so the
 * decision line gives the reason next to the score. */
Test(extender, prioritize_logs_reasons_of_lowered_scores)
{
	static const char *const names[] = {"node-busy", "node-empty"};
	char *pod = pod_json("web-0", "web-0-uid", "500m", "512Mi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	score_isolation_config isolation;
	score_labels shop = {0}, batch = {0};
	score_error err = {0};
	const cJSON *reasons;
	const cJSON *text;
	cJSON *line;
	answer a;

	score_isolation_init(&isolation);
	isolation.tenants_enabled = true;
	isolation.tenancy = SCORE_TENANCY_PREFERRED;
	cr_assert_eq(score_pipeline_add_isolation(&cluster.pipeline, &isolation, 1, &err),
		     0, "add isolation: %s", err.message);
	score_labels_set(&shop, SCORE_DEFAULT_TENANT_LABEL, "shop");
	score_labels_set(&batch, SCORE_DEFAULT_TENANT_LABEL, "batch");
	score_model_put_namespace(cluster.model, "shop", &shop);
	score_model_put_namespace(cluster.model, "batch", &batch);
	add_node("node-busy", 4000, 8 * GIB);
	add_pod("busy-0", "node-busy", 500, GIB);
	add_node("node-empty", 4000, 8 * GIB);
	a = handle(SCHED_VERB_PRIORITIZE, body);
	line = last_log_line();

	reasons = cJSON_GetObjectItemCaseSensitive(top_entry(line, "node-busy"), "reasons");
	text = cJSON_GetObjectItemCaseSensitive(reasons, "Isolation");
	cr_assert(cJSON_IsString(text), "node-busy has an isolation reason");
	assert_contains(text->valuestring, "node runs pod batch/busy-0 of tenant \"batch\"",
			"the reason");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(top_entry(line, "node-empty"),
							"reasons"),
		       "node-empty scored its best and needs no reason");

	cJSON_Delete(line);
	answer_release(&a);
	score_labels_release(&shop);
	score_labels_release(&batch);
	/* The pipeline borrows the config: rebuild it before the release. */
	cr_assert_eq(sched_cluster_rebuild_pipeline(&cluster, &err), 0, "%s", err.message);
	score_isolation_release(&isolation);
	g_free(body);
	g_free(pod);
}

/* ---- preempt ------------------------------------------------------------------------- */

static const cJSON *meta_victims(const cJSON *json, const char *node)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(json, "NodeNameToMetaVictims"),
		node);
}

static void assert_victim_uids(const cJSON *json, const char *node,
			       const char *const *uids, size_t n)
{
	const cJSON *pods = cJSON_GetObjectItemCaseSensitive(
		meta_victims(json, node), "Pods");

	cr_assert(cJSON_IsArray(pods), "%s: Pods should be an array", node);
	cr_assert_eq((size_t)cJSON_GetArraySize(pods), n,
		     "%s: expected %zu victims, got %d", node, n,
		     cJSON_GetArraySize(pods));
	for (size_t i = 0; i < n; i++) {
		const cJSON *uid = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(pods, (int)i), "UID");

		cr_assert(cJSON_IsString(uid), "%s: victim %zu has no UID", node, i);
		cr_assert_str_eq(uid->valuestring, uids[i],
				 "%s: victim %zu: expected %s, got %s", node, i,
				 uids[i], uid->valuestring);
	}
}

static int64_t pdb_violations(const cJSON *json, const char *node)
{
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(
		meta_victims(json, node), "NumPDBViolations");

	cr_assert(cJSON_IsNumber(count), "%s: NumPDBViolations missing", node);
	return (int64_t)count->valuedouble;
}

Test(extender, preempt_keeps_only_nodes_where_eviction_helps)
{
	static const char *const full_uids[] = {"victim-full-0"};
	static const char *const mixed_uids[] = {"pod-not-in-model",
						 "victim-mixed-0"};
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *body = g_strdup_printf(
		"{\"Pod\":%s,\"NodeNameToVictims\":null,\"NodeNameToMetaVictims\":{"
		"\"node-full\":{\"Pods\":[{\"UID\":\"victim-full-0\"}],\"NumPDBViolations\":2},"
		"\"node-tainted\":{\"Pods\":[{\"UID\":\"victim-tainted-0\"}],\"NumPDBViolations\":0},"
		"\"node-free\":{\"Pods\":[],\"NumPDBViolations\":0},"
		"\"node-small\":{\"Pods\":[{\"UID\":\"victim-small-0\"}],\"NumPDBViolations\":0},"
		"\"node-hidden\":{\"Pods\":[{\"UID\":\"pod-not-in-model\"}],\"NumPDBViolations\":0},"
		"\"node-mixed\":{\"Pods\":[{\"UID\":\"pod-not-in-model\"},{\"UID\":\"victim-mixed-0\"}],\"NumPDBViolations\":0},"
		"\"node-ghost\":{\"Pods\":[{\"UID\":\"victim-ghost-0\"}],\"NumPDBViolations\":0}}}",
		pod);
	const cJSON *map;
	answer a;

	build_acceptance_cluster();
	/* Evicting victim-small-0 frees 500m of the 3500m in use. */
	add_node("node-small", 4000, 8 * GIB);
	add_pod("victim-small-0", "node-small", 500, 0);
	add_pod("keeper-small-0", "node-small", 3000, 0);
	/* The listed pod is unknown, so nothing is freed there. */
	add_node("node-hidden", 4000, 8 * GIB);
	add_pod("keeper-hidden-0", "node-hidden", 2500, 0);
	add_node("node-mixed", 4000, 8 * GIB);
	add_pod("victim-mixed-0", "node-mixed", 2500, 0);
	a = handle(SCHED_VERB_PREEMPT, body);

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	map = cJSON_GetObjectItemCaseSensitive(a.json, "NodeNameToMetaVictims");
	cr_assert_eq(cJSON_GetArraySize(map), 2,
		     "expected node-full and node-mixed only: %s", a.response.body);
	assert_victim_uids(a.json, "node-full", full_uids, G_N_ELEMENTS(full_uids));
	cr_assert_eq(pdb_violations(a.json, "node-full"), 2,
		     "NumPDBViolations should be kept from the request");
	assert_victim_uids(a.json, "node-mixed", mixed_uids,
			   G_N_ELEMENTS(mixed_uids));
	cr_assert_null(meta_victims(a.json, "node-tainted"),
		       "evicting cannot remove a taint");
	cr_assert_null(meta_victims(a.json, "node-free"),
		       "a node with no victims must not be returned");
	cr_assert_null(meta_victims(a.json, "node-small"),
		       "evicting victim-small-0 does not make room");
	cr_assert_null(meta_victims(a.json, "node-hidden"),
		       "an unknown victim frees nothing");
	cr_assert_null(meta_victims(a.json, "node-ghost"),
		       "a node unknown to the model must not be returned");

	answer_release(&a);
	g_free(body);
	g_free(pod);
}

Test(extender, preempt_lowercase_node_to_victims)
{
	static const char *const uids[] = {"victim-full-0"};
	answer a;

	build_acceptance_cluster();
	a = handle_fixture(SCHED_VERB_PREEMPT,
			   "extender/preempt-lowercase-nodeToVictims.json");

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			     a.json, "NodeNameToMetaVictims")),
		     1, "only node-full should be kept: %s", a.response.body);
	assert_victim_uids(a.json, "node-full", uids, G_N_ELEMENTS(uids));
	cr_assert_eq(pdb_violations(a.json, "node-full"), 1,
		     "numPDBViolations should be kept from the request");

	answer_release(&a);
}

Test(extender, preempt_lowercase_meta_with_null_victims)
{
	static const char *const uids[] = {"victim-full-0"};
	answer a;

	build_acceptance_cluster();
	a = handle_fixture(SCHED_VERB_PREEMPT, "extender/preempt-lowercase-meta.json");

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	assert_victim_uids(a.json, "node-full", uids, G_N_ELEMENTS(uids));
	cr_assert_null(meta_victims(a.json, "node-free"),
		       "a node with null victims must not be returned");

	answer_release(&a);
}

Test(extender, preempt_full_victim_unknown_to_model_frees_nothing)
{
	char *pod = pod_json("web-0", "web-0-uid", "3", "1Gi");
	char *victim = pod_json("stranger", "stranger-uid", "2500m", "1Gi");
	char *body = g_strdup_printf(
		"{\"Pod\":%s,\"NodeNameToVictims\":{\"node-hidden\":{\"Pods\":[%s],\"NumPDBViolations\":0}}}",
		pod, victim);
	answer a;

	add_node("node-hidden", 4000, 8 * GIB);
	add_pod("keeper-hidden-0", "node-hidden", 2500, 0);
	a = handle(SCHED_VERB_PREEMPT, body);

	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			     a.json, "NodeNameToMetaVictims")),
		     0, "no node should be kept: %s", a.response.body);

	answer_release(&a);
	g_free(body);
	g_free(victim);
	g_free(pod);
}

/* ---- bind --------------------------------------------------------------------------- */

Test(extender, bind_lowercase_returns_error)
{
	answer a = handle_fixture(SCHED_VERB_BIND, "extender/bind-lowercase.json");

	cr_assert_eq(a.response.http_status, 200, "status %d",
		     a.response.http_status);
	assert_contains(error_of(a.json), "shop/web-0", "bind Error");
	assert_contains(error_of(a.json), "node-free", "bind Error");
	answer_release(&a);
}

Test(extender, bind_missing_fields)
{
	static const struct {
		const char *body;
		const char *missing;
	} cases[] = {
		{"{\"PodNamespace\":\"ns\",\"PodUID\":\"u\",\"Node\":\"n\"}", "PodName"},
		{"{\"PodName\":\"p\",\"PodUID\":\"u\",\"Node\":\"n\"}", "PodNamespace"},
		{"{\"PodName\":\"p\",\"PodNamespace\":\"ns\",\"Node\":\"n\"}", "PodUID"},
		{"{\"PodName\":\"p\",\"PodNamespace\":\"ns\",\"PodUID\":\"u\",\"Node\":\"\"}", "Node"},
		{"{\"PodName\":7,\"PodNamespace\":\"ns\",\"PodUID\":\"u\",\"Node\":\"n\"}", "PodName"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		answer a = handle(SCHED_VERB_BIND, cases[i].body);
		char *expected = g_strdup_printf("no %s", cases[i].missing);

		cr_assert_eq(a.response.http_status, 400,
			     "case %zu: expected 400, got %d", i,
			     a.response.http_status);
		cr_assert_str_eq(a.response.error_kind, "invalid_request",
				 "case %zu: error kind %s", i,
				 a.response.error_kind);
		assert_contains(error_of(a.json), expected, "bind Error");
		g_free(expected);
		answer_release(&a);
	}
}

/* ---- Malformed requests --------------------------------------------------------- */

typedef struct bad_request {
	sched_verb verb;
	const char *body;
	int status;
	const char *kind;
	const char *message; /* expected inside Error */
} bad_request;

static void check_bad_request(const bad_request *bad, size_t index)
{
	answer a = handle(bad->verb, bad->body);

	cr_assert_eq(a.response.http_status, bad->status,
		     "case %zu (%s): expected status %d, got %d: %s", index,
		     sched_verb_name(bad->verb), bad->status,
		     a.response.http_status, a.response.body);
	cr_assert_str_eq(a.response.error_kind, bad->kind,
			 "case %zu: expected kind %s, got %s", index, bad->kind,
			 a.response.error_kind);
	cr_assert(cJSON_IsObject(a.json), "case %zu: body should be an object",
		  index);
	assert_contains(error_of(a.json), bad->message, "Error");
	if (bad->verb == SCHED_VERB_FILTER)
		assert_filter_shape(a.json);
	answer_release(&a);
}

Test(extender, malformed_requests)
{
	static const char pod[] =
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\"}]}}";
	char *bodies[16];
	size_t n = 0;

	bodies[n++] = g_strdup("{\"Pod\":");
	bodies[n++] = g_strdup("");
	bodies[n++] = g_strdup("{} trailing");
	bodies[n++] = g_strdup("[{\"Pod\":{}}]");
	bodies[n++] = g_strdup("{\"NodeNames\":[\"a\"]}");
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"Nodes\":null,\"NodeNames\":null}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"NodeNames\":[\"a\",3]}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"NodeNames\":\"a\"}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"Nodes\":{\"items\":[{\"metadata\":{}}]}}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"NodeNames\":[\"a\"],\"Nodes\":{\"items\":[]}}", pod);
	bodies[n++] = g_strdup("{\"Pod\":\"web-0\",\"NodeNames\":[\"a\"]}");
	bodies[n++] = g_strdup_printf("{\"Pod\":%s}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"NodeNameToMetaVictims\":{\"a\":{\"Pods\":[{}]}}}", pod);
	bodies[n++] = g_strdup_printf("{\"Pod\":%s,\"NodeNameToMetaVictims\":{\"a\":{\"Pods\":{}}}}", pod);

	const bad_request cases[] = {
		{SCHED_VERB_FILTER, bodies[0], 400, "malformed_json", "not valid JSON"},
		{SCHED_VERB_FILTER, bodies[1], 400, "malformed_json", "empty"},
		{SCHED_VERB_FILTER, bodies[2], 400, "malformed_json", "after the value"},
		{SCHED_VERB_FILTER, bodies[3], 400, "invalid_request", "array"},
		{SCHED_VERB_FILTER, bodies[4], 400, "invalid_request", "no Pod"},
		{SCHED_VERB_FILTER, bodies[5], 400, "invalid_request", "neither NodeNames nor Nodes"},
		{SCHED_VERB_FILTER, bodies[6], 400, "invalid_request", "NodeNames[1]"},
		{SCHED_VERB_PRIORITIZE, bodies[7], 400, "invalid_request", "NodeNames is a string"},
		{SCHED_VERB_FILTER, bodies[8], 400, "invalid_request", "items[0] has no metadata.name"},
		{SCHED_VERB_FILTER, bodies[9], 400, "invalid_request", "both NodeNames and Nodes"},
		{SCHED_VERB_FILTER, bodies[10], 400, "invalid_request", "Pod is a string"},
		{SCHED_VERB_PREEMPT, bodies[11], 400, "invalid_request", "neither NodeNameToMetaVictims"},
		{SCHED_VERB_PREEMPT, bodies[12], 400, "invalid_request", "Pods[0] has no UID"},
		{SCHED_VERB_PREEMPT, bodies[13], 400, "invalid_request", "Pods is an object"},
		{SCHED_VERB_BIND, "not json", 400, "malformed_json", "not valid JSON"},
		{SCHED_VERB_PREEMPT, "[]", 400, "invalid_request", "array"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_bad_request(&cases[i], i);
	for (size_t i = 0; i < n; i++)
		g_free(bodies[i]);
}

Test(extender, malformed_request_logs_warning)
{
	answer a = handle(SCHED_VERB_FILTER, "{\"Pod\":");
	cJSON *line = last_log_line();

	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "level")->valuestring,
			 "warn", "expected a warn line");
	assert_contains(cJSON_GetObjectItemCaseSensitive(line, "error")->valuestring,
			"not valid JSON", "logged error");
	cJSON_Delete(line);
	answer_release(&a);
}

Test(extender, invalid_quantity_filter_answers_error)
{
	static const char *const names[] = {"node-free"};
	char *pod = pod_json("web-0", "web-0-uid", "three", "1Gi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	answer a;

	build_acceptance_cluster();
	a = handle(SCHED_VERB_FILTER, body);

	/* 200, so kube-scheduler reads the Error; see extender.c. */
	cr_assert_eq(a.response.http_status, 200, "status %d: %s",
		     a.response.http_status, a.response.body);
	cr_assert_str_eq(a.response.error_kind, "invalid_request",
			 "error kind %s", a.response.error_kind);
	assert_filter_shape(a.json);
	assert_contains(error_of(a.json), "spec.containers[0].resources.requests.cpu",
			"Error");
	assert_contains(error_of(a.json), "three", "Error");
	assert_contains(error_of(a.json), "shop/web-0", "Error");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames")),
		  "no node may pass on an error");
	answer_release(&a);

	a = handle(SCHED_VERB_PRIORITIZE, body);
	cr_assert_eq(a.response.http_status, 400, "prioritize: status %d",
		     a.response.http_status);
	assert_contains(error_of(a.json), "three", "prioritize Error");
	answer_release(&a);

	g_free(body);
	g_free(pod);
}

/* Counts the occurrences of `part` in the test log. */
static size_t count_in_log(const char *part)
{
	size_t count = 0;

	fflush(log_stream);
	for (const char *p = log_text; p != NULL && (p = strstr(p, part)) != NULL;
	     p += strlen(part))
		count++;
	return count;
}

Test(extender, invalid_bandwidth_warns_once_per_pod)
{
	static const char *const names[] = {"node-free"};
	char *pod = g_strdup_printf(
		"{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"shop\","
		"\"uid\":\"web-0-uid\",\"annotations\":"
		"{\"kubernetes.io/ingress-bandwidth\":\"300Mbps\"}},"
		"\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":"
		"{\"requests\":{\"cpu\":\"100m\",\"memory\":\"1Gi\"}}}]}}");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	answer a;

	build_acceptance_cluster();
	for (int i = 0; i < 3; i++) {
		a = handle(SCHED_VERB_FILTER, body);
		cr_assert_eq(a.response.http_status, 200, "filter %d: status %d",
			     i, a.response.http_status);
		answer_release(&a);
	}

	cr_assert_eq(count_in_log("\"msg\":\"pod value ignored\""), 1,
		     "expected 1 warning for 3 retries of the pod, got %zu\n%s",
		     count_in_log("\"msg\":\"pod value ignored\""), log_text);
	assert_contains(log_text, "\"pod\":\"shop/web-0\"", "log");
	assert_contains(log_text, "kubernetes.io/ingress-bandwidth", "log");
	assert_contains(log_text, "300Mbps", "log");
	assert_contains(log_text, "such as 300M;", "log");
	g_free(body);
	g_free(pod);
}

/* ---- Large requests ---------------------------------------------------------------- */

Test(extender, filter_500_full_nodes)
{
	enum { N = 500 };
	char **nodes = g_new0(char *, N);
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body;
	cJSON *request;
	const cJSON *request_items;
	const cJSON *items;
	const cJSON *failed;
	answer a;

	for (int i = 0; i < N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "node-%03d", i);
		nodes[i] = node_json(name, "4", "8Gi", NULL);
		/* Even nodes are busy in the model; odd ones are not in it. */
		if (i % 2 == 0) {
			char uid[32];

			snprintf(uid, sizeof(uid), "busy-%03d", i);
			add_node(name, 4000, 8 * GIB);
			add_pod(uid, name, 3500, GIB);
		}
	}
	body = nodes_request(pod, nodes, N);
	request = cJSON_Parse(body);
	request_items = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(request, "Nodes"), "items");
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	items = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(a.json, "Nodes"), "items");
	failed = cJSON_GetObjectItemCaseSensitive(a.json, "FailedNodes");
	cr_assert_eq(cJSON_GetArraySize(items), N / 2, "expected %d nodes, got %d",
		     N / 2, cJSON_GetArraySize(items));
	cr_assert_eq(cJSON_GetArraySize(failed), N / 2,
		     "expected %d failed nodes, got %d", N / 2,
		     cJSON_GetArraySize(failed));
	for (int i = 0; i < N / 2; i++)
		cr_assert(cJSON_Compare(cJSON_GetArrayItem(items, i),
					cJSON_GetArrayItem(request_items, 2 * i + 1),
					true),
			  "items[%d] should be the request's node-%03d", i,
			  2 * i + 1);
	for (int i = 0; i < N; i += 2) {
		char name[32];

		snprintf(name, sizeof(name), "node-%03d", i);
		cr_assert_not_null(failed_reason(a.json, "FailedNodes", name),
				   "%s should be in FailedNodes", name);
	}

	answer_release(&a);
	cJSON_Delete(request);
	g_free(body);
	g_free(pod);
	for (int i = 0; i < N; i++)
		g_free(nodes[i]);
	g_free(nodes);
}

Test(extender, filter_and_prioritize_5000_names)
{
	enum { N = 5000 };
	const char **names = g_new0(const char *, N);
	char **owned = g_new0(char *, N);
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body;
	const cJSON *passed;
	const cJSON *failed;
	int expected_passed = 0;
	answer a;

	for (int i = 0; i < N; i++) {
		owned[i] = g_strdup_printf("node-%04d", i);
		names[i] = owned[i];
		add_node(owned[i], 4000, 8 * GIB);
		if (i % 3 == 0) {
			char uid[32];

			snprintf(uid, sizeof(uid), "busy-%04d", i);
			add_pod(uid, owned[i], 3500, GIB);
		} else {
			expected_passed++;
		}
	}
	body = names_request(pod, names, N);
	a = handle(SCHED_VERB_FILTER, body);

	assert_no_error(&a);
	passed = cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames");
	failed = cJSON_GetObjectItemCaseSensitive(a.json, "FailedNodes");
	cr_assert_eq(cJSON_GetArraySize(passed), expected_passed,
		     "expected %d names, got %d", expected_passed,
		     cJSON_GetArraySize(passed));
	cr_assert_eq(cJSON_GetArraySize(failed), N - expected_passed,
		     "expected %d failed, got %d", N - expected_passed,
		     cJSON_GetArraySize(failed));
	{
		int k = 0;

		for (int i = 0; i < N; i++) {
			if (i % 3 == 0)
				continue;
			cr_assert_str_eq(cJSON_GetArrayItem(passed, k)->valuestring,
					 names[i], "NodeNames[%d]: expected %s", k,
					 names[i]);
			k++;
		}
	}
	answer_release(&a);

	a = handle(SCHED_VERB_PRIORITIZE, body);
	cr_assert_eq(a.response.http_status, 200, "prioritize status %d",
		     a.response.http_status);
	cr_assert_eq(cJSON_GetArraySize(a.json), N, "expected %d entries, got %d",
		     N, cJSON_GetArraySize(a.json));
	for (int i = 0; i < N; i++) {
		const cJSON *entry = cJSON_GetArrayItem(a.json, i);
		double score = cJSON_GetObjectItemCaseSensitive(entry, "Score")->valuedouble;

		cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(entry, "Host")->valuestring,
				 names[i], "entry %d: expected %s", i, names[i]);
		cr_assert(score >= 0 && score <= 10, "%s: score %g not in 0..10",
			  names[i], score);
		if (i % 3 == 0)
			cr_assert(score == 0, "%s fails the filter, score %g",
				  names[i], score);
	}
	answer_release(&a);

	g_free(body);
	g_free(pod);
	for (int i = 0; i < N; i++)
		g_free(owned[i]);
	g_free(owned);
	g_free(names);
}

/* ---- Decision line ------------------------------------------------------------------- */

Test(extender, decision_line_caps_rejected_nodes)
{
	enum { N = 30 };
	const char *names[N];
	char *owned[N];
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body;
	cJSON *line;
	answer a;

	for (int i = 0; i < N; i++) {
		owned[i] = g_strdup_printf("ghost-%02d", i);
		names[i] = owned[i];
	}
	body = names_request(pod, names, N);
	a = handle(SCHED_VERB_FILTER, body);
	line = last_log_line();

	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "msg")->valuestring,
			 "decision", "expected a decision line");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "verb")->valuestring,
			 "filter", "verb");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "pod")->valuestring,
			 "shop/web-0", "pod");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(line, "uid")->valuestring,
			 "web-0-uid", "uid");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(line, "candidates")->valuedouble,
		     N, "candidates");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(line, "passed")->valuedouble,
		     0, "passed");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(line, "rejected")),
		     20, "rejected should list 20 nodes");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(line, "rejected_not_listed")->valuedouble,
		     N - 20, "rejected_not_listed");
	assert_contains(cJSON_GetObjectItemCaseSensitive(
				cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(line, "rejected"), 0),
				"reason")->valuestring,
			"ghost-00", "first rejection reason");

	cJSON_Delete(line);
	answer_release(&a);
	g_free(body);
	g_free(pod);
	for (int i = 0; i < N; i++)
		g_free(owned[i]);
}

/* ---- Concurrency --------------------------------------------------------------------- */

/* Requests per thread: enough that two threads decode the same pod at
 * once many times over, which is what shared interned strings must
 * survive. */
#define CONCURRENT_REQUESTS 1000

static gpointer filter_repeatedly(gpointer data)
{
	const char *body = data;
	int failures = 0;

	for (int i = 0; i < CONCURRENT_REQUESTS; i++) {
		sched_extender_response response;
		cJSON *json;

		sched_extender_handle(&extender, SCHED_VERB_FILTER, body,
				      strlen(body), &response);
		json = cJSON_Parse(response.body);
		if (response.http_status != 200 || json == NULL ||
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(json, "NodeNames")) < 1)
			failures++;
		cJSON_Delete(json);
		g_free(response.body);
	}
	return GINT_TO_POINTER(failures);
}

Test(extender, concurrent_requests_with_writer)
{
	static const char *const names[] = {"node-full", "node-tainted",
					    "node-free", "node-extra"};
	char *pod = pod_json("web-0", "web-0-uid", "1", "1Gi");
	char *body = names_request(pod, names, G_N_ELEMENTS(names));
	GThread *threads[4];

	build_acceptance_cluster();
	for (size_t i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("filter", filter_repeatedly, body);
	/* The writer adds and removes a node under the write lock, as the
	 * informer does. */
	for (int i = 0; i < 50; i++) {
		g_rw_lock_writer_lock(&cluster.lock);
		if (i % 2 == 0) {
			score_node *node = score_node_new();

			node->name = score_intern("node-extra");
			node->allocatable.v[SCORE_RES_CPU] = 4000;
			node->allocatable.v[SCORE_RES_MEMORY] = 8 * GIB;
			node->allocatable.v[SCORE_RES_PODS] = 110;
			score_model_put_node(cluster.model, node);
		} else {
			score_model_remove_node(cluster.model, "node-extra");
		}
		g_rw_lock_writer_unlock(&cluster.lock);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(threads); i++) {
		int failures = GPOINTER_TO_INT(g_thread_join(threads[i]));

		cr_assert_eq(failures, 0, "thread %zu: %d bad answers", i,
			     failures);
	}
	g_free(body);
	g_free(pod);
}

/* Node names reach the response as JSON strings written by hand, so names
 * with quotes, backslashes and control characters must come back intact. */
Test(extender, names_needing_escapes_round_trip)
{
	static const char *const odd[] = {"quote\"node", "back\\slash", "tab\tnode",
					  "caf\xc3\xa9-node"};
	const char *const encoded = "[\"quote\\\"node\",\"back\\\\slash\",\"tab\\tnode\","
				    "\"caf\xc3\xa9-node\"]";
	char *pod = pod_json("web-0", "web-0-uid", "100m", "64Mi");
	char *body = g_strdup_printf("{\"Pod\":%s,\"Nodes\":null,\"NodeNames\":%s}", pod,
				     encoded);
	answer a;

	add_node(odd[0], 4000, 8LL << 30);
	add_node_tainted(odd[1], 4000, 8LL << 30, "dedicated", "gpu");
	add_node(odd[2], 4000, 8LL << 30);

	a = handle(SCHED_VERB_FILTER, body);
	assert_no_error(&a);
	{
		static const char *const passed[] = {"quote\"node", "tab\tnode"};

		assert_names(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames"), passed,
			     G_N_ELEMENTS(passed));
	}
	assert_contains(failed_reason(a.json, "FailedAndUnresolvableNodes", odd[1]),
			"dedicated", "FailedAndUnresolvableNodes[back\\slash]");
	assert_contains(failed_reason(a.json, "FailedNodes", odd[3]), odd[3],
			"FailedNodes[café-node]");
	answer_release(&a);

	a = handle(SCHED_VERB_PRIORITIZE, body);
	cr_assert_eq(cJSON_GetArraySize(a.json), 4, "expected 4 hosts, got %d",
		     cJSON_GetArraySize(a.json));
	for (int i = 0; i < 4; i++) {
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(a.json, i), "Host");

		cr_assert(cJSON_IsString(host), "entry %d has no Host", i);
		cr_assert_str_eq(host->valuestring, odd[i], "entry %d", i);
	}
	answer_release(&a);
	g_free(body);
	g_free(pod);
}

/* Every candidate rejected, each listed once even when the request repeats
 * it: guards the duplicate check that replaced a linear lookup. */
Test(extender, all_rejected_with_repeats)
{
	enum { N = 3000 };
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	char *pod = pod_json("big", "big-uid", "64", "1Gi");
	char *body;
	const cJSON *failed;
	answer a;

	for (int i = 0; i < N; i++) {
		char *name = g_strdup_printf("small-%04d", i);

		add_node(name, 1000, 1LL << 30);
		g_ptr_array_add(names, name);
	}
	g_ptr_array_add(names, g_strdup("small-0000"));
	body = names_request(pod, (const char *const *)names->pdata, names->len);

	a = handle(SCHED_VERB_FILTER, body);
	assert_no_error(&a);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a.json, "NodeNames")),
		     0, "no node can fit 64 CPUs");
	failed = cJSON_GetObjectItemCaseSensitive(a.json, "FailedAndUnresolvableNodes");
	cr_assert_eq(cJSON_GetArraySize(failed), N, "expected %d entries, got %d", N,
		     cJSON_GetArraySize(failed));
	answer_release(&a);
	g_free(body);
	g_free(pod);
	g_ptr_array_unref(names);
}

/* A stand-in for the informer's binder: records the call and answers as
 * `bind_result` says. */
typedef struct bind_record {
	int calls;
	int result;
	char args[4][64];
} bind_record;

static int record_bind(void *data, const char *pod_namespace, const char *pod_name,
		       const char *pod_uid, const char *node, score_error *err)
{
	bind_record *record = data;

	record->calls++;
	g_strlcpy(record->args[0], pod_namespace, sizeof(record->args[0]));
	g_strlcpy(record->args[1], pod_name, sizeof(record->args[1]));
	g_strlcpy(record->args[2], pod_uid, sizeof(record->args[2]));
	g_strlcpy(record->args[3], node, sizeof(record->args[3]));
	if (record->result < 0)
		return score_fail(err, record->result, "pod is already bound to node fake-node-2");
	return 0;
}

Test(extender, bind_calls_binder_on_success)
{
	bind_record record = {0};
	answer a;

	extender.bind = record_bind;
	extender.bind_data = &record;
	a = handle_fixture(SCHED_VERB_BIND, "kube-scheduler-v1.24/bind-request.json");

	cr_assert_eq(record.calls, 1, "binder called %d times", record.calls);
	cr_assert_str_eq(record.args[0], "default");
	cr_assert_str_eq(record.args[1], "test-pod-b");
	cr_assert_str_eq(record.args[2], "839fcf61-1557-46c8-87ac-aee4dd6700f7");
	cr_assert_str_eq(record.args[3], "fake-node-1");
	cr_assert_eq(a.response.http_status, 200, "status %d", a.response.http_status);
	cr_assert_null(a.response.error_kind, "a successful bind is no error: %s",
		       a.response.error_kind);
	cr_assert_str_eq(error_of(a.json), "", "Error must be empty on success");
	answer_release(&a);
}

Test(extender, bind_reports_binder_failure)
{
	bind_record record = {.result = -EEXIST};
	answer a;

	extender.bind = record_bind;
	extender.bind_data = &record;
	a = handle_fixture(SCHED_VERB_BIND, "kube-scheduler-v1.24/bind-request.json");

	cr_assert_eq(record.calls, 1, "binder called %d times", record.calls);
	cr_assert_eq(a.response.http_status, 200, "status %d", a.response.http_status);
	cr_assert_str_eq(a.response.error_kind, "bind");
	assert_contains(error_of(a.json), "default/test-pod-b", "bind Error");
	assert_contains(error_of(a.json), "already bound to node fake-node-2", "bind Error");
	answer_release(&a);
}

/* Found by fuzzing (tests/fuzz/fuzz_extender.c): a NumPDBViolations too
 * large for int64 was converted to int64_t, which is undefined behaviour. */
Test(extender, preempt_pdb_violations_out_of_range)
{
	static const char pod[] =
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\"}]}}";
	static const char *const values[] = {
		"8.88889e+110", "9223372036854775808", "-1e19", "1.5",
	};
	answer a;
	char *body;

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		bad_request bad = {SCHED_VERB_PREEMPT, NULL, 400, "invalid_request",
				   "expected an integer that fits in int64"};

		body = g_strdup_printf("{\"Pod\":%s,\"NodeNameToMetaVictims\":{\"a\":"
				       "{\"Pods\":[],\"NumPDBViolations\":%s}}}",
				       pod, values[i]);
		bad.body = body;
		check_bad_request(&bad, i);
		g_free(body);
	}

	/* The largest count a double holds exactly below 2^63 is accepted. */
	body = g_strdup_printf("{\"Pod\":%s,\"NodeNameToMetaVictims\":{\"a\":"
			       "{\"Pods\":[],\"NumPDBViolations\":9223372036854774784}}}",
			       pod);
	a = handle(SCHED_VERB_PREEMPT, body);
	cr_assert_eq(a.response.http_status, 200,
		     "NumPDBViolations 2^63-1024: expected 200, got %d: %s",
		     a.response.http_status, a.response.body);
	answer_release(&a);
	g_free(body);
}
