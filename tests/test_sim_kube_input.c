/* Tests for sim/kube_input.c: Node lists and Pod manifests from the
 * fixtures, content detection, multi-document YAML with line numbers in
 * messages, annotations, GPUs, extended resources, and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "informer/cluster_file.h"
#include "sim/engine.h"
#include "sim/kube_input.h"

TestSuite(kube_input, .timeout = 60);

static char *fixture_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	return g_build_filename(dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures",
				"traces", name, NULL);
}

static void expect_nodes_error(const char *text, const char *expected)
{
	sim_kube_nodes *nodes = NULL;
	score_error err = {0};
	int ret = sim_kube_nodes_parse("nodes.yaml", text, strlen(text), 110, &nodes, &err);

	cr_assert_lt(ret, 0, "expected a failure for:\n%s", text);
	cr_assert_null(nodes, "nothing returned on failure");
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
}

static void expect_pods_error(const char *text, const char *expected)
{
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	int ret = sim_kube_pods_parse("pods.yaml", text, strlen(text), &pods, &err);

	cr_assert_lt(ret, 0, "expected a failure for:\n%s", text);
	cr_assert_null(pods, "nothing returned on failure");
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
}

/* ---- Detection --------------------------------------------------------------- */

Test(kube_input, sniff_tells_manifests_from_csv)
{
	static const struct {
		const char *text;
		bool manifest;
	} cases[] = {
		{"sn,cpu_milli,memory_mib,gpu,model\nn1,1000,1024,0,\n", false},
		{"\xEF\xBB\xBFname,cpu_milli\n", false},
		{"apiVersion: v1\nkind: NodeList\n", true},
		{"# nodes\n\n---\nkind: Node\n", true},
		{"  {\"kind\": \"Node\"}", true},
		{"time,event,node\n0s,add,a\n", false},
		{"", false},
	};
	char *dir = g_dir_make_tmp("stowage-sniff-XXXXXX", NULL);
	char *path = g_build_filename(dir, "input", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		score_error err = {0};
		bool manifest = !cases[i].manifest;

		cr_assert(g_file_set_contents(path, cases[i].text, -1, NULL));
		cr_assert_eq(sim_kube_sniff(path, &manifest, &err), 0, "%s", err.message);
		cr_assert_eq(manifest, cases[i].manifest, "case %zu: expected %d for \"%s\"", i,
			     cases[i].manifest, cases[i].text);
	}
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(kube_input, sniff_missing_file)
{
	bool manifest = true;
	score_error err = {0};

	cr_assert_eq(sim_kube_sniff("/nonexistent/nodes.yaml", &manifest, &err), -ENOENT);
	cr_assert(strstr(err.message, "cannot read /nonexistent/nodes.yaml") != NULL,
		  "message: %s", err.message);
}

/* ---- Nodes ------------------------------------------------------------------- */

Test(kube_input, node_list_fixture)
{
	char *path = fixture_path("kube-nodes.yaml");
	sim_kube_nodes *nodes = NULL;
	score_error err = {0};
	const sim_node_shape *shape;
	const score_node *node;

	cr_assert_eq(sim_kube_nodes_read(path, 110, &nodes, &err), 0, "failed: %s", err.message);
	cr_assert_eq(sim_kube_nodes_count(nodes), 3, "the Pod is skipped, got %zu",
		     sim_kube_nodes_count(nodes));

	cr_assert_str_eq(sim_kube_nodes_name(nodes, 0), "cpu-a1");
	shape = sim_kube_nodes_shape(nodes, 0);
	cr_assert_eq(shape->cpu_milli, 7910, "got %lld", (long long)shape->cpu_milli);
	cr_assert_eq(shape->memory, 30LL << 30, "got %lld", (long long)shape->memory);
	cr_assert_eq(shape->pods, 58, "allocatable pods, got %lld", (long long)shape->pods);
	cr_assert_eq(shape->gpus, 0, "got %d", shape->gpus);
	cr_assert_str_eq(shape->name, "m5.2xlarge", "the instance type names the shape");
	node = sim_kube_nodes_object(nodes, 0);
	cr_assert_str_eq(score_labels_get(&node->labels, "topology.stowage.io/rack"), "rack-7");

	shape = sim_kube_nodes_shape(nodes, 1);
	cr_assert_eq(shape->gpus, 8, "nvidia.com/gpu is the GPU devices, got %d", shape->gpus);
	cr_assert_str_eq(shape->gpu_model, "A100-SXM4-40GB");
	node = sim_kube_nodes_object(nodes, 1);
	cr_assert_eq(node->n_taints, 1, "got %u taints", node->n_taints);
	cr_assert_str_eq(node->taints[0].key, "nvidia.com/gpu");

	shape = sim_kube_nodes_shape(nodes, 2);
	cr_assert_str_eq(sim_kube_nodes_name(nodes, 2), "cpu-a2", "the second document");
	cr_assert_eq(shape->pods, 110, "no allocatable pods takes the default, got %lld",
		     (long long)shape->pods);
	cr_assert_eq(shape->cpu_milli, 4000, "capacity without allocatable, got %lld",
		     (long long)shape->cpu_milli);
	cr_assert(sim_kube_nodes_object(nodes, 2)->unschedulable, "spec.unschedulable kept");
	sim_kube_nodes_free(nodes);
	g_free(path);
}

Test(kube_input, nodes_added_to_engine_keep_objects)
{
	char *path = fixture_path("kube-nodes.yaml");
	sim_kube_nodes *nodes = NULL;
	sim_engine_config config;
	sim_engine *engine = NULL;
	score_gpu_models models;
	score_error err = {0};
	score_model *model;
	const score_node *node;
	int fpga;

	score_gpu_models_init(&models);
	sim_engine_defaults(&config);
	config.placement.gpus = true;
	config.gpu_models = &models;
	cr_assert_eq(sim_kube_nodes_read(path, 110, &nodes, &err), 0, "%s", err.message);
	cr_assert_eq(sim_engine_new(&config, &engine, &err), 0, "%s", err.message);
	cr_assert_eq(sim_kube_nodes_add(nodes, engine, &err), 0, "%s", err.message);

	model = sim_engine_model(engine);
	node = score_model_node(model, "gpu-b1");
	cr_assert_not_null(node, "gpu-b1 in the model");
	cr_assert_str_eq(score_labels_get(&node->labels, "topology.kubernetes.io/zone"), "eu-west-1b");
	cr_assert_eq(node->n_taints, 1, "got %u taints", node->n_taints);
	fpga = score_resource_find(score_model_resources(model), "example.com/fpga");
	cr_assert_geq(fpga, SCORE_RES_FIRST_EXTENDED, "the extended resource has a slot");
	cr_assert_eq(node->allocatable.v[fpga], 2, "got %lld", (long long)node->allocatable.v[fpga]);
	cr_assert_lt(score_resource_find(score_model_resources(model), "nvidia.com/gpu"), 0,
		     "GPUs are devices, not a counted resource");
	node = score_model_node(model, "cpu-a2");
	cr_assert(node->unschedulable, "cpu-a2 is cordoned");
	cr_assert_str_eq(score_labels_get(&node->labels, "kubernetes.io/hostname"), "cpu-a2");

	sim_engine_free(engine);
	score_gpu_models_release(&models);
	sim_kube_nodes_free(nodes);
	g_free(path);
}

Test(kube_input, node_errors)
{
	expect_nodes_error("kind: NodeList\nitems: []\n",
			   "nodes.yaml: no Node objects (0 objects of other kinds)");
	expect_nodes_error("kind: Node\nmetadata: {name: a}\n---\nkind: Node\nmetadata: {name: a}\n",
			   "nodes.yaml:3: document 2: Node a is in the file twice, first at line 1 (document 1); remove one of them");
	expect_nodes_error("kind: Node\nmetadata: {name: a}\nstatus:\n  allocatable: {cpu: lots}\n",
			   "nodes.yaml:1: Node a:");
	expect_nodes_error("kind: Node\nmetadata: {name: a}\nstatus:\n  allocatable: {nvidia.com/gpu: \"17\"}\n",
			   "allocatable nvidia.com/gpu is 17");
	expect_nodes_error("kind: Node\nmetadata: {name: a}\n---\nkind: Node\nmetadata: [\n",
			   "nodes.yaml:6:");
	expect_nodes_error("{\"kind\": \"Node\",", "nodes.yaml:1:");
	expect_nodes_error("kind: NodeList\nitems: 3\n", "items is a number, expected an array");
	expect_nodes_error("- a\n- b\n", "the document is an array");
}

/* ---- Pods -------------------------------------------------------------------- */

typedef struct arrivals {
	GPtrArray *items; /* sim_arrival * */
} arrivals;

static void read_arrivals(sim_kube_pods *pods, arrivals *out)
{
	sim_source source;
	score_error err = {0};
	int ret;

	out->items = g_ptr_array_new();
	sim_kube_pods_source(pods, &source);
	for (;;) {
		sim_arrival *arrival = g_new0(sim_arrival, 1);

		ret = source.next(source.data, arrival, &err);
		if (ret <= 0) {
			g_free(arrival);
			break;
		}
		g_ptr_array_add(out->items, arrival);
	}
	cr_assert_eq(ret, 0, "source failed: %s", err.message);
}

static void arrivals_release(arrivals *list)
{
	for (guint i = 0; i < list->items->len; i++) {
		sim_arrival_release(list->items->pdata[i]);
		g_free(list->items->pdata[i]);
	}
	g_ptr_array_free(list->items, TRUE);
}

Test(kube_input, pod_manifests_fixture)
{
	char *path = fixture_path("kube-pods.yaml");
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	arrivals list;
	const sim_arrival *arrival;

	cr_assert_eq(sim_kube_pods_read(path, &pods, &err), 0, "failed: %s", err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 3, "got %zu", sim_kube_pods_count(pods));
	cr_assert_eq(sim_kube_pods_end_ms(pods), 2 * 3600 * 1000, "train-1 leaves last, got %lld",
		     (long long)sim_kube_pods_end_ms(pods));
	read_arrivals(pods, &list);
	cr_assert_eq(list.items->len, 3, "got %u", list.items->len);

	/* Sorted by arrival: train-1 at 0, batch-1 at 30 s, web-1 at 90 s. */
	arrival = list.items->pdata[0];
	cr_assert_str_eq(arrival->pod->name, "train-1");
	cr_assert_eq(arrival->time_ms, 0, "no annotation arrives at 0, got %lld",
		     (long long)arrival->time_ms);
	cr_assert_eq(arrival->run_ms, 7200000, "got %lld", (long long)arrival->run_ms);
	cr_assert_not_null(arrival->gpu, "nvidia.com/gpu becomes a GPU request");
	cr_assert_eq(arrival->gpu->shape.gpu_count, 2, "got %d", arrival->gpu->shape.gpu_count);
	cr_assert_eq(arrival->gpu->shape.gpu_milli, 1000, "whole GPUs, got %d",
		     arrival->gpu->shape.gpu_milli);
	cr_assert_null(arrival->pod->node_name, "nodeName is ignored");
	cr_assert_eq(arrival->pod->phase, SCORE_POD_PENDING, "status is ignored");
	cr_assert_eq(arrival->pod->n_tolerations, 1, "got %u", arrival->pod->n_tolerations);
	cr_assert_eq(arrival->pod->request.v[SCORE_RES_CPU], 8000, "got %lld",
		     (long long)arrival->pod->request.v[SCORE_RES_CPU]);

	arrival = list.items->pdata[1];
	cr_assert_str_eq(arrival->pod->name, "batch-1");
	cr_assert_str_eq(arrival->pod->namespace, "default");
	cr_assert_eq(arrival->time_ms, 30000, "got %lld", (long long)arrival->time_ms);
	cr_assert_eq(arrival->run_ms, -1, "no lifetime runs until the end, got %lld",
		     (long long)arrival->run_ms);

	arrival = list.items->pdata[2];
	cr_assert_str_eq(arrival->pod->name, "web-1");
	cr_assert_str_eq(arrival->pod->namespace, "team-a");
	cr_assert_str_eq(score_labels_get(&arrival->pod->labels, "app"), "web");
	cr_assert_str_eq(arrival->pod->owner.kind, "ReplicaSet");
	cr_assert_eq(arrival->time_ms, 90000, "got %lld", (long long)arrival->time_ms);
	cr_assert_eq(arrival->line, 8, "its document starts on line 8 with ---, got %d",
		     arrival->line);
	arrivals_release(&list);
	sim_kube_pods_free(pods);
	g_free(path);
}

Test(kube_input, pods_bind_namespaces_and_resources)
{
	char *path = fixture_path("kube-pods.yaml");
	sim_kube_pods *pods = NULL;
	score_resource_table *table = score_resource_table_new();
	score_model *model = score_model_new(table);
	score_error err = {0};
	const score_labels *labels;
	arrivals list;
	const sim_arrival *train;
	int fpga;

	/* A slot taken first, so that the model's slots differ from the
	 * file's. */
	cr_assert_geq(score_resource_index(table, "example.com/other", &err), 0);
	cr_assert_eq(sim_kube_pods_read(path, &pods, &err), 0, "failed: %s", err.message);
	sim_kube_pods_bind(pods, model);
	labels = score_model_namespace_labels(model, "team-a");
	cr_assert_not_null(labels, "the Namespace is in the model");
	cr_assert_str_eq(score_labels_get(labels, "stowage.io/tenant"), "alpha");

	read_arrivals(pods, &list);
	train = list.items->pdata[0];
	fpga = score_resource_find(table, "example.com/fpga");
	cr_assert_geq(fpga, SCORE_RES_FIRST_EXTENDED, "decoded into the model's table");
	cr_assert_eq(train->pod->request.v[fpga], 1, "got %lld",
		     (long long)train->pod->request.v[fpga]);
	arrivals_release(&list);
	sim_kube_pods_free(pods);
	score_model_free(model);
	score_resource_table_free(table);
	g_free(path);
}

Test(kube_input, pod_errors)
{
	expect_pods_error("kind: Namespace\nmetadata: {name: a}\n",
			  "pods.yaml: no Pod objects (0 objects of other kinds)");
	expect_pods_error("kind: Pod\nmetadata:\n  name: a\n  annotations: {stowage.io/sim-arrival: soon}\n",
			  "pods.yaml:1: Pod a: annotation stowage.io/sim-arrival: invalid duration \"soon\"");
	expect_pods_error("kind: Pod\nmetadata:\n  name: a\n  annotations: {stowage.io/sim-lifetime: \"-1h\"}\n",
			  "invalid duration \"-1h\": give one such as 90s or 1h30m, or never");
	expect_pods_error("kind: Pod\nmetadata:\n  name: a\n  annotations: {stowage.io/sim-arrival: 90}\n",
			  "annotation stowage.io/sim-arrival is a number: annotation values are strings");
	expect_pods_error("---\nkind: Pod\nmetadata: {name: a}\n---\nkind: PodList\nitems:\n- kind: Pod\n"
			  "  metadata: {name: b}\n  spec:\n    containers:\n    - name: c\n"
			  "      resources: {requests: {cpu: many}}\n",
			  "pods.yaml:7: document 2, items[0] (Pod b):");
	expect_pods_error("kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\n  bad: indent\n",
			  "pods.yaml:5:");
	expect_pods_error("", "no Pod objects");
}

Test(kube_input, pod_gpu_request_out_of_range)
{
	static const char text[] =
		"kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n"
		"    resources: {limits: {nvidia.com/gpu: \"20\"}}\n";
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	sim_source source;
	sim_arrival arrival;

	cr_assert_eq(sim_kube_pods_parse("pods.yaml", text, strlen(text), &pods, &err), 0, "%s",
		     err.message);
	sim_kube_pods_source(pods, &source);
	cr_assert_eq(source.next(source.data, &arrival, &err), -EINVAL);
	cr_assert(strstr(err.message, "requests 20 nvidia.com/gpu") != NULL, "message: %s",
		  err.message);
	sim_kube_pods_free(pods);
}

/* ---- Namespaces, NetworkPolicies, Services and typed lists ------------------ */

static const char network_objects_yaml[] =
	"apiVersion: v1\n"
	"kind: PodList\n"
	"items:\n"
	"- metadata: {name: db, namespace: shop, labels: {app: db}}\n"
	"  spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicyList\n"
	"items:\n"
	"- metadata: {name: allow-cart, namespace: shop}\n"
	"  spec:\n"
	"    podSelector: {matchLabels: {app: db}}\n"
	"    ingress: [{from: [{podSelector: {matchLabels: {app: cart}}}]}]\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n";

Test(kube_input, pods_file_network_objects_bound)
{
	sim_kube_pods *pods = NULL;
	score_resource_table *table = score_resource_table_new();
	score_model *model = score_model_new(table);
	score_error err = {0};
	int ret = sim_kube_pods_parse("pods.yaml", network_objects_yaml,
				      strlen(network_objects_yaml), &pods, &err);

	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 1, "expected 1 pod from the PodList, got %zu",
		     sim_kube_pods_count(pods));
	sim_kube_pods_bind(pods, model);
	cr_assert_eq(score_model_network_policy_count(model), 1,
		     "expected 1 NetworkPolicy in the model, got %zu",
		     score_model_network_policy_count(model));
	cr_assert_not_null(score_model_network_policy(model, "shop/allow-cart"),
			   "expected the policy under the key shop/allow-cart");
	cr_assert_eq(score_model_service_count(model), 1, "expected 1 Service in the model, got %zu",
		     score_model_service_count(model));
	sim_kube_pods_free(pods);
	score_model_free(model);
	score_resource_table_free(table);
}

Test(kube_input, nodes_file_network_objects_added)
{
	static const char text[] =
		"{\"kind\":\"List\",\"items\":["
		"{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\"},"
		"\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\"}}},"
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"deny\",\"namespace\":\"shop\"},"
		"\"spec\":{\"podSelector\":{}}},"
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"namespace\":\"shop\"},"
		"\"spec\":{\"selector\":{\"app\":\"x\"},\"ports\":[{\"port\":80}]}}]}";
	sim_kube_nodes *nodes = NULL;
	sim_engine_config config;
	sim_engine *engine = NULL;
	score_error err = {0};
	int ret = sim_kube_nodes_parse("nodes.json", text, strlen(text), 110, &nodes, &err);

	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	sim_engine_defaults(&config);
	cr_assert_eq(sim_engine_new(&config, &engine, &err), 0, "engine: %s", err.message);
	cr_assert_eq(sim_kube_nodes_add(nodes, engine, &err), 0, "add: %s", err.message);
	cr_assert_eq(score_model_network_policy_count(sim_engine_model(engine)), 1,
		     "expected 1 NetworkPolicy in the model, got %zu",
		     score_model_network_policy_count(sim_engine_model(engine)));
	cr_assert_eq(score_model_service_count(sim_engine_model(engine)), 1,
		     "expected 1 Service in the model, got %zu",
		     score_model_service_count(sim_engine_model(engine)));
	sim_engine_free(engine);
	sim_kube_nodes_free(nodes);
}

Test(kube_input, typed_list_items_without_kind)
{
	static const char node_list[] =
		"{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"a\"},"
		"\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\"}}}]}";
	static const char pod_list[] =
		"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\"}]}}]}";
	sim_kube_nodes *nodes = NULL;
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	int ret = sim_kube_nodes_parse("nl.json", node_list, strlen(node_list), 110, &nodes, &err);

	cr_assert_eq(ret, 0, "NodeList without item kinds: expected success, got %s", err.message);
	cr_assert_eq(sim_kube_nodes_count(nodes), 1, "expected 1 node, got %zu",
		     sim_kube_nodes_count(nodes));
	ret = sim_kube_pods_parse("pl.json", pod_list, strlen(pod_list), &pods, &err);
	cr_assert_eq(ret, 0, "PodList without item kinds: expected success, got %s", err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 1, "expected 1 pod, got %zu",
		     sim_kube_pods_count(pods));
	sim_kube_pods_free(pods);
	sim_kube_nodes_free(nodes);
	/* A plain List implies no kind, so its items without one are skipped. */
	expect_nodes_error("{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"a\"}}]}",
			   "nodes.yaml: no Node objects (0 objects of other kinds and 1 object without a "
			   "kind)");
}

Test(kube_input, objects_without_kind_skipped_with_warning)
{
	static const char text[] =
		"kind: List\nitems:\n"
		"- {kind: Node, metadata: {name: a}}\n"
		"- metadata: {name: b}\n"
		"---\n"
		"metadata: {name: c}\n"
		"---\n"
		"kind: DeploymentList\nitems:\n"
		"- metadata: {name: d}\n";
	sim_kube_nodes *nodes = NULL;
	score_error err = {0};
	const GPtrArray *warnings;
	int ret = sim_kube_nodes_parse("nodes.yaml", text, strlen(text), 110, &nodes, &err);

	cr_assert_eq(ret, 0, "objects without a kind are skipped: expected success, got %d: %s",
		     ret, err.message);
	cr_assert_eq(sim_kube_nodes_count(nodes), 1, "expected only Node a, got %zu",
		     sim_kube_nodes_count(nodes));
	warnings = sim_kube_nodes_warnings(nodes);
	cr_assert_eq(warnings->len, 2, "expected 2 warnings (not for the DeploymentList item), got %u",
		     warnings->len);
	cr_assert_str_eq(g_ptr_array_index(warnings, 0),
			 "nodes.yaml:4: items[1]: the object named b has no kind, so it is skipped; "
			 "every item of a List needs one, such as kind: Node or kind: Pod");
	cr_assert_str_eq(g_ptr_array_index(warnings, 1),
			 "nodes.yaml:5: document 2: the object named c has no kind, so it is skipped; "
			 "give it one, such as kind: Node, or kind: List with the objects in items");
	sim_kube_nodes_free(nodes);
}

Test(kube_input, pods_file_warns_objects_without_kind)
{
	GString *text = g_string_new("kind: List\nitems:\n- {kind: Pod, metadata: {name: p}}\n");
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	const GPtrArray *warnings;
	int ret;

	for (int i = 0; i < INF_FILE_WARNINGS_LISTED + 3; i++)
		g_string_append_printf(text, "- metadata: {name: q-%d}\n", i);
	ret = sim_kube_pods_parse("pods.yaml", text->str, text->len, &pods, &err);
	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 1, "expected 1 pod, got %zu",
		     sim_kube_pods_count(pods));
	warnings = sim_kube_pods_warnings(pods);
	cr_assert_eq(warnings->len, INF_FILE_WARNINGS_LISTED + 1,
		     "expected %d warnings and a count, got %u", INF_FILE_WARNINGS_LISTED,
		     warnings->len);
	cr_assert(g_str_has_prefix(g_ptr_array_index(warnings, 0),
				   "pods.yaml:4: items[1]: the object named q-0 has no kind"),
		  "got: %s", (const char *)g_ptr_array_index(warnings, 0));
	cr_assert_str_eq(g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED),
			 "pods.yaml: 3 more objects without a kind are not listed; they are skipped "
			 "too");
	sim_kube_pods_free(pods);
	g_string_free(text, TRUE);
}

Test(kube_input, node_pod_limit_absent_or_zero)
{
	static const char text[] =
		"kind: NodeList\nitems:\n"
		"- metadata: {name: absent}\n"
		"  status: {allocatable: {cpu: '4', memory: 8Gi}}\n"
		"- metadata: {name: zero}\n"
		"  status: {allocatable: {cpu: '4', memory: 8Gi, pods: '0'}}\n"
		"- metadata: {name: capacity}\n"
		"  status: {capacity: {cpu: '4', memory: 8Gi, pods: '30'}}\n";
	sim_kube_nodes *nodes = NULL;
	score_error err = {0};
	int ret = sim_kube_nodes_parse("nodes.yaml", text, strlen(text), 64, &nodes, &err);

	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	cr_assert_eq(sim_kube_nodes_shape(nodes, 0)->pods, 64,
		     "absent pods: expected --max-pods (64), got %lld",
		     (long long)sim_kube_nodes_shape(nodes, 0)->pods);
	cr_assert_eq(sim_kube_nodes_shape(nodes, 1)->pods, 0,
		     "pods: '0' admits no pod, as in kube-scheduler: expected 0, got %lld",
		     (long long)sim_kube_nodes_shape(nodes, 1)->pods);
	cr_assert_eq(sim_kube_nodes_shape(nodes, 2)->pods, 30,
		     "capacity without allocatable: expected 30, got %lld",
		     (long long)sim_kube_nodes_shape(nodes, 2)->pods);
	sim_kube_nodes_free(nodes);
}

Test(kube_input, invalid_network_policy_rejected)
{
	expect_pods_error("kind: NetworkPolicy\n"
			  "metadata: {name: bad, namespace: shop}\n"
			  "spec:\n"
			  "  podSelector: {matchExpressions: [{key: a, operator: Near}]}\n",
			  "pods.yaml:1: NetworkPolicy shop/bad: spec.podSelector");
}

Test(kube_input, decode_errors_name_object_once)
{
	static const struct {
		const char *text;
		const char *message_start;
	} cases[] = {
		{"kind: Pod\nmetadata: {name: p}\n---\nkind: NetworkPolicy\n"
		 "metadata: {name: np}\nspec: {podSelector: {matchLabels: [a]}}\n",
		 "pods.yaml:3: document 2: NetworkPolicy default/np: spec.podSelector"},
		{"kind: Pod\nmetadata: {name: p}\n---\nkind: Service\n"
		 "metadata: {name: s}\nspec: {type: Tunnel}\n",
		 "pods.yaml:3: document 2 (Service s): spec.type"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		sim_kube_pods *pods = NULL;
		score_error err = {0};
		int ret = sim_kube_pods_parse("pods.yaml", cases[i].text, strlen(cases[i].text),
					      &pods, &err);
		const char *second;

		cr_assert_lt(ret, 0, "case %zu: expected a failure", i);
		cr_assert(g_str_has_prefix(err.message, cases[i].message_start),
			  "case %zu: expected a message starting with\n  %s\ngot\n  %s", i,
			  cases[i].message_start, err.message);
		second = strstr(strstr(err.message, i == 0 ? "NetworkPolicy" : "Service") + 1,
				i == 0 ? "NetworkPolicy " : "Service ");
		cr_assert_null(second, "case %zu: the object is named twice: %s", i, err.message);
	}
}

/* ---- Messages for unusable files ---------------------------------------------- */

Test(kube_input, sniff_directory_and_empty_yaml)
{
	char *dir = g_dir_make_tmp("stowage-sniff-XXXXXX", NULL);
	char *path = g_build_filename(dir, "nodes.yaml", NULL);
	score_error err = {0};
	bool manifest = false;
	int ret = sim_kube_sniff(dir, &manifest, &err);

	cr_assert_eq(ret, -EISDIR, "expected -EISDIR for a directory, got %d", ret);
	cr_assert(strstr(err.message, "is a directory: give a file") != NULL,
		  "expected the directory named, got: %s", err.message);
	cr_assert(g_file_set_contents(path, "# no nodes yet\n", -1, NULL));
	cr_assert_eq(sim_kube_sniff(path, &manifest, &err), 0, "%s", err.message);
	cr_assert(manifest, "expected an empty .yaml file read as Kubernetes objects");
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(kube_input, json_nested_too_deep)
{
	GString *text = g_string_new(NULL);

	for (int i = 0; i < 1200; i++)
		g_string_append_c(text, '[');
	for (int i = 0; i < 1200; i++)
		g_string_append_c(text, ']');
	expect_nodes_error(text->str, "JSON nested deeper than 1000 levels");
	g_string_free(text, TRUE);
	expect_nodes_error("{\"kind\": \"Node\",", "nodes.yaml:1:");
}

/* ---- Several documents, duplicates and warnings ------------------------------ */

static char *cluster_fixture_path(const char *name)
{
	const char *dir = g_getenv("STOWAGE_FIXTURES");

	return g_build_filename(dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures",
				"cluster", name, NULL);
}

Test(kube_input, multi_document_fixture_read_by_both)
{
	char *path = cluster_fixture_path("multi-document.yaml");
	sim_kube_nodes *nodes = NULL;
	sim_kube_pods *pods = NULL;
	score_resource_table *table = score_resource_table_new();
	score_model *model = score_model_new(table);
	score_error err = {0};
	const score_labels *labels;
	arrivals list;

	cr_assert_eq(sim_kube_nodes_read(path, 110, &nodes, &err), 0, "nodes: %s", err.message);
	cr_assert_eq(sim_kube_nodes_count(nodes), 3, "expected 3 nodes, got %zu",
		     sim_kube_nodes_count(nodes));
	cr_assert_str_eq(sim_kube_nodes_name(nodes, 2), "node-c", "the single Node document");

	cr_assert_eq(sim_kube_pods_read(path, &pods, &err), 0, "pods: %s", err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 2, "expected 2 pods, got %zu",
		     sim_kube_pods_count(pods));
	sim_kube_pods_bind(pods, model);
	labels = score_model_namespace_labels(model, "shop");
	cr_assert_not_null(labels, "expected the Namespace of document 3 in the model");
	read_arrivals(pods, &list);
	cr_assert_eq(((const sim_arrival *)list.items->pdata[1])->line, 46,
		     "web-1 starts on line 46, got %d",
		     ((const sim_arrival *)list.items->pdata[1])->line);
	cr_assert_eq(sim_kube_pods_warnings(pods)->len, 0, "expected no warnings, got %u",
		     sim_kube_pods_warnings(pods)->len);
	arrivals_release(&list);
	sim_kube_pods_free(pods);
	sim_kube_nodes_free(nodes);
	score_model_free(model);
	score_resource_table_free(table);
	g_free(path);
}

Test(kube_input, duplicate_objects_rejected)
{
	expect_nodes_error("kind: NodeList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n"
			   "- metadata: {name: a}\n",
			   "nodes.yaml:5: items[2]: Node a is in the file twice, first at line 3 "
			   "(items[0]); remove one of them");
	expect_nodes_error("{\"kind\": \"NodeList\", \"items\": [{\"metadata\": {\"name\": \"a\"}},"
			   " {\"metadata\": {\"name\": \"a\"}}]}",
			   "nodes.yaml:1: items[1]: Node a is in the file twice, first at line 1 "
			   "(items[0]); remove one of them");
	expect_nodes_error("kind: Node\nmetadata: {name: a}\n---\n"
			   "kind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n---\n"
			   "kind: List\nitems:\n"
			   "- {kind: Service, metadata: {name: s, namespace: default}, spec: {ports: [{port: 81}]}}\n",
			   "nodes.yaml:10: document 3, items[0]: Service default/s is in the file twice, "
			   "first at line 3 (document 2); remove one of them");
	expect_pods_error("kind: Namespace\nmetadata: {name: shop}\n---\n"
			  "kind: Namespace\nmetadata: {name: shop, labels: {a: b}}\n",
			  "pods.yaml:3: document 2: Namespace shop is in the file twice, first at "
			  "line 1 (document 1); remove one of them");
	expect_pods_error("kind: List\nitems:\n"
			  "- {kind: NetworkPolicy, metadata: {name: p, namespace: shop}, spec: {podSelector: {}}}\n"
			  "- {kind: Pod, metadata: {name: a}}\n"
			  "- {kind: NetworkPolicy, metadata: {name: p, namespace: shop}, spec: {podSelector: {}}}\n",
			  "pods.yaml:5: items[2]: NetworkPolicy shop/p is in the file twice, first at "
			  "line 3 (items[0]); remove one of them");
}

Test(kube_input, pod_names_may_repeat)
{
	/* The same pod again after the first has left, as a restarted
	 * StatefulSet pod would. */
	static const char text[] =
		"kind: PodList\nitems:\n"
		"- metadata: {name: db-0, annotations: {stowage.io/sim-lifetime: 1h}}\n"
		"- metadata: {name: db-0, annotations: {stowage.io/sim-arrival: 2h}}\n";
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	int ret = sim_kube_pods_parse("pods.yaml", text, strlen(text), &pods, &err);

	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	cr_assert_eq(sim_kube_pods_count(pods), 2, "expected 2 pods, got %zu",
		     sim_kube_pods_count(pods));
	sim_kube_pods_free(pods);
}

Test(kube_input, errors_name_document_and_item_line)
{
	expect_pods_error("kind: Pod\nmetadata: {name: a}\n---\n---\n# the pods\nkind: PodList\nitems:\n"
			  "- metadata: {name: b}\n"
			  "- metadata: {name: c}\n"
			  "  spec: {containers: [{name: x, resources: {requests: {cpu: many}}}]}\n",
			  "pods.yaml:9: document 3, items[1] (Pod c): spec.containers[0].resources.requests.cpu: invalid quantity \"many\"");
	expect_pods_error("kind: Pod\nmetadata: {name: a}\n---\nkind: PodList\nitems: 3\n",
			  "pods.yaml:3: document 2: PodList items is a number, expected an array");
	expect_pods_error("kind: Pod\nmetadata: {name: a}\n---\nkind: List\nitems:\n"
			  "- {kind: Pod, metadata: {name: b}}\n- 2\n",
			  "pods.yaml:7: document 2: item 1 of the List is a number, expected an object");
	expect_pods_error("kind: Pod\nmetadata: &m {name: a}\n---\nkind: Pod\nmetadata: *m\n",
			  "pods.yaml:5:11: alias *m refers to no complete anchor &m before it");
	expect_pods_error("---\n...\n---\n# nothing here\n", "pods.yaml: no Pod objects");
}

Test(kube_input, bandwidth_annotation_warnings)
{
	static const char text[] =
		"kind: List\nitems:\n"
		"- kind: Pod\n"
		"  metadata:\n"
		"    name: web-0\n"
		"    namespace: shop\n"
		"    annotations:\n"
		"      kubernetes.io/ingress-bandwidth: 300Mbps\n"
		"      kubernetes.io/egress-bandwidth: 20M\n"
		"- kind: Pod\n"
		"  metadata:\n"
		"    name: web-1\n"
		"    namespace: shop\n"
		"    annotations: {kubernetes.io/egress-bandwidth: 5P}\n";
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	const GPtrArray *warnings;
	const sim_arrival *arrival;
	arrivals list;
	int ret = sim_kube_pods_parse("pods.yaml", text, strlen(text), &pods, &err);

	cr_assert_eq(ret, 0, "an invalid annotation is ignored: expected success, got %d: %s", ret,
		     err.message);
	warnings = sim_kube_pods_warnings(pods);
	cr_assert_eq(warnings->len, 2, "expected 2 warnings, got %u", warnings->len);
	cr_assert_str_eq(g_ptr_array_index(warnings, 0),
			 "pods.yaml:3: pod shop/web-0: annotation kubernetes.io/ingress-bandwidth: "
			 "invalid value \"300Mbps\": expected a quantity of bits per second; use a "
			 "quantity such as 300M; the annotation is ignored");
	cr_assert_str_eq(g_ptr_array_index(warnings, 1),
			 "pods.yaml:10: pod shop/web-1: annotation kubernetes.io/egress-bandwidth: "
			 "invalid value \"5P\": out of range: the kubelet accepts 1k to 1P bits per "
			 "second; the annotation is ignored");

	read_arrivals(pods, &list);
	arrival = list.items->pdata[0];
	cr_assert_eq(arrival->pod->ingress_bandwidth, 0, "the invalid ingress is ignored, got %lld",
		     (long long)arrival->pod->ingress_bandwidth);
	cr_assert_eq(arrival->pod->egress_bandwidth, 20000000, "the valid egress is kept, got %lld",
		     (long long)arrival->pod->egress_bandwidth);
	arrivals_release(&list);
	sim_kube_pods_free(pods);
}

Test(kube_input, bandwidth_warnings_capped)
{
	GString *text = g_string_new("kind: PodList\nitems:\n");
	sim_kube_pods *pods = NULL;
	score_error err = {0};
	const GPtrArray *warnings;
	int ret;

	for (int i = 0; i < 25; i++)
		g_string_append_printf(text,
				       "- metadata: {name: p-%d, annotations: "
				       "{kubernetes.io/ingress-bandwidth: \"1\"}}\n",
				       i);
	g_string_append(text, "- metadata: {name: last, annotations: "
			      "{kubernetes.io/egress-bandwidth: 10}}\n");
	ret = sim_kube_pods_parse("pods.yaml", text->str, text->len, &pods, &err);
	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	warnings = sim_kube_pods_warnings(pods);
	cr_assert_eq(warnings->len, INF_FILE_WARNINGS_LISTED + 1,
		     "expected %d warnings and a count, got %u", INF_FILE_WARNINGS_LISTED,
		     warnings->len);
	cr_assert(g_str_has_prefix(g_ptr_array_index(warnings, 0),
				   "pods.yaml:3: pod default/p-0: annotation kubernetes.io/ingress-bandwidth: invalid value \"1\": out of range: the kubelet accepts 1k to 1P"),
		  "got: %s", (const char *)g_ptr_array_index(warnings, 0));
	cr_assert_str_eq(g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED),
			 "pods.yaml: 16 more ignored pod values are not listed; fix the first 10 "
			 "and run again to see the rest");
	sim_kube_pods_free(pods);
	g_string_free(text, TRUE);
}

Test(kube_input, json_holds_one_value)
{
	expect_nodes_error("\n\n{\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"}}\n"
			   "{\"kind\": \"Node\", \"metadata\": {\"name\": \"b\"}}\n",
			   "nodes.yaml:4:1: unexpected data after the JSON value; the file looks like "
			   "several JSON documents: put the objects into the items of one List, or "
			   "write them as YAML");
	expect_nodes_error("{\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"}}\n---\n"
			   "{\"kind\": \"Node\", \"metadata\": {\"name\": \"b\"}}\n",
			   "nodes.yaml:2:1: unexpected data after the JSON value; the file looks like "
			   "several JSON documents");
	expect_nodes_error("{\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"}} x\n",
			   "nodes.yaml:1:45: unexpected data after the JSON value; JSON text contains one "
			   "object or List");
	expect_nodes_error("\n\n{\"kind\": \"Node\", \"metadata\": {\"name\": }}",
			   "nodes.yaml:3:");
}

Test(kube_input, other_api_groups_skipped)
{
	/* A custom resource may reuse the name Node in its own group, and
	 * stowage serve skips it too. */
	static const char text[] =
		"apiVersion: example.com/v1\nkind: Node\nmetadata: {name: fake}\n---\n"
		"apiVersion: v1\nkind: List\nitems:\n"
		"- {apiVersion: v1, kind: Node, metadata: {name: real}}\n"
		"- {apiVersion: example.com/v1, kind: NetworkPolicy, metadata: {name: p}}\n"
		"- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: q},"
		" spec: {podSelector: {}}}\n";
	sim_kube_nodes *nodes = NULL;
	score_error err = {0};
	int ret = sim_kube_nodes_parse("nodes.yaml", text, strlen(text), 110, &nodes, &err);

	cr_assert_eq(ret, 0, "expected success, got %d: %s", ret, err.message);
	cr_assert_eq(sim_kube_nodes_count(nodes), 1, "expected only the v1 Node, got %zu",
		     sim_kube_nodes_count(nodes));
	cr_assert_str_eq(sim_kube_nodes_name(nodes, 0), "real");
	sim_kube_nodes_free(nodes);
	expect_nodes_error("apiVersion: apps/v1\nkind: Node\nmetadata: {name: a}\n",
			   "nodes.yaml: no Node objects (1 object of another kind)");
}
