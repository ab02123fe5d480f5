/* Tests for scoring/exposure.c and the model's Service index. They cover
 * which pods are reachable from outside through host ports, NodePort,
 * LoadBalancer and externalIPs Services, and port filters. A hard
 * separation rule keeps exposed pods away from restricted data and names
 * the reason. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/exposure.h"
#include "scoring/isolation.h"

static score_resource_table *resources;
static score_model *model;
static int next_uid;

static void setup(void)
{
	resources = score_resource_table_new();
	model = score_model_new(resources);
	next_uid = 0;
}

static void teardown(void)
{
	score_model_free(model);
	score_resource_table_free(resources);
}

TestSuite(exposure, .init = setup, .fini = teardown, .timeout = 60);

static const score_port_filter any_port = {.any_protocol = true};

static score_pod *new_pod(const char *namespace, const char *name,
			  const char *app)
{
	score_pod *pod = score_pod_new();
	char uid[32];

	g_snprintf(uid, sizeof(uid), "uid-%d", ++next_uid);
	pod->uid = score_intern(uid);
	pod->namespace = score_intern(namespace);
	pod->name = score_intern(name);
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_PODS] = 1;
	if (app != NULL)
		score_labels_set(&pod->labels, "app", app);
	return pod;
}

/* Adds a Service selecting app=`app` with one port. */
static void add_service(const char *namespace, const char *name,
			score_service_type type, const char *app, int32_t port,
			int32_t node_port)
{
	score_service *service = score_service_new();

	service->namespace = score_intern(namespace);
	service->name = score_intern(name);
	service->type = type;
	if (app != NULL)
		score_labels_set(&service->selector, "app", app);
	service->ports = g_new0(score_service_port, 1);
	service->ports[0] = (score_service_port){SCORE_PROTOCOL_TCP, port,
						 node_port};
	service->n_ports = 1;
	score_model_put_service(model, service);
}

/* Returns the reason text, or NULL when the pod is not exposed. */
static char *exposure_of(const score_pod *pod, const score_port_filter *filter)
{
	GString *reason = g_string_new(NULL);

	if (!score_pod_exposed(model, pod, filter, reason)) {
		g_string_free(reason, TRUE);
		return NULL;
	}
	return g_string_free(reason, FALSE);
}

static void expect_exposed(const score_pod *pod,
			   const score_port_filter *filter,
			   const char *expected)
{
	char *reason = exposure_of(pod, filter);

	cr_assert_not_null(reason, "%s/%s should be exposed (%s)", pod->namespace,
			   pod->name, expected);
	cr_assert_str_eq(reason, expected, "reason:\n  got      %s\n  expected %s",
			 reason, expected);
	g_free(reason);
}

static void expect_hidden(const score_pod *pod, const score_port_filter *filter)
{
	char *reason = exposure_of(pod, filter);

	cr_assert_null(reason, "%s/%s should not be exposed, got: %s",
		       pod->namespace, pod->name, reason);
}

Test(exposure, service_index_by_namespace)
{
	const GPtrArray *shop;

	add_service("shop", "web", SCORE_SERVICE_CLUSTER_IP, "web", 80, 0);
	add_service("shop", "api", SCORE_SERVICE_NODE_PORT, "api", 80, 30080);
	add_service("data", "db", SCORE_SERVICE_CLUSTER_IP, "db", 5432, 0);
	shop = score_model_namespace_services(model, "shop");
	cr_assert_not_null(shop, "shop has Services");
	cr_assert_eq(shop->len, 2, "shop: got %u", shop->len);
	cr_assert_eq(score_model_service_count(model), 3, "count %zu",
		     score_model_service_count(model));

	/* Replacing keeps one entry; removing drops the namespace. */
	add_service("shop", "web", SCORE_SERVICE_LOAD_BALANCER, "web", 443, 31443);
	shop = score_model_namespace_services(model, "shop");
	cr_assert_eq(shop->len, 2, "shop after replace: got %u", shop->len);
	cr_assert(score_model_remove_service(model, "data", "db"), "db exists");
	cr_assert_not(score_model_remove_service(model, "data", "db"),
		      "a second remove finds nothing");
	cr_assert_null(score_model_namespace_services(model, "data"),
		       "data has no Services left");
	cr_assert_eq(score_model_service_count(model), 2, "count %zu",
		     score_model_service_count(model));
}

Test(exposure, selector_semantics)
{
	score_pod *web = new_pod("shop", "web-1", "web");
	score_pod *other_ns = new_pod("test", "web-1", "web");
	score_service *service = score_service_new();
	score_service *empty = score_service_new();

	service->namespace = score_intern("shop");
	service->name = score_intern("web");
	score_labels_set(&service->selector, "app", "web");
	score_labels_set(&service->selector, "tier", "front");
	empty->namespace = score_intern("shop");
	empty->name = score_intern("external");

	cr_assert_not(score_service_selects(service, web),
		      "every selector label must match");
	score_labels_set(&web->labels, "tier", "front");
	cr_assert(score_service_selects(service, web), "all labels match");
	score_labels_set(&other_ns->labels, "tier", "front");
	cr_assert_not(score_service_selects(service, other_ns),
		      "a Service selects only its own namespace");
	cr_assert_not(score_service_selects(empty, web),
		      "a Service without a selector selects no pods");
	score_service_free(service);
	score_service_free(empty);
	score_pod_free(web);
	score_pod_free(other_ns);
}

Test(exposure, load_balancer_port)
{
	score_pod *web = new_pod("shop", "web-1", "web");

	add_service("shop", "web", SCORE_SERVICE_LOAD_BALANCER, "web", 443, 0);
	expect_exposed(web, &any_port,
		       "Service shop/web type LoadBalancer port 443/TCP");
	score_pod_free(web);
}

Test(exposure, node_port)
{
	score_pod *api = new_pod("shop", "api-1", "api");

	add_service("shop", "api", SCORE_SERVICE_NODE_PORT, "api", 80, 30080);
	expect_exposed(api, &any_port,
		       "Service shop/api type NodePort node port 30080/TCP");
	score_pod_free(api);
}

Test(exposure, external_ips)
{
	score_pod *legacy = new_pod("shop", "legacy-1", "legacy");
	score_service *service = score_service_new();

	service->namespace = score_intern("shop");
	service->name = score_intern("legacy");
	score_labels_set(&service->selector, "app", "legacy");
	service->has_external_ips = true;
	service->ports = g_new0(score_service_port, 1);
	service->ports[0] = (score_service_port){SCORE_PROTOCOL_UDP, 53, 0};
	service->n_ports = 1;
	score_model_put_service(model, service);

	expect_exposed(legacy, &any_port,
		       "Service shop/legacy type ClusterIP with externalIPs port 53/UDP");
	score_pod_free(legacy);
}

Test(exposure, host_port)
{
	score_pod *agent = new_pod("monitoring", "agent-x", NULL);

	agent->host_ports = g_new0(score_host_port, 1);
	agent->host_ports[0] = (score_host_port){NULL, 9100, SCORE_PROTOCOL_TCP};
	agent->n_host_ports = 1;
	expect_exposed(agent, &any_port, "host port 9100/TCP");
	score_pod_free(agent);
}

Test(exposure, cluster_ip_and_unselected_are_hidden)
{
	score_pod *db = new_pod("data", "db-0", "db");
	score_pod *lone = new_pod("shop", "lone", "lone");

	add_service("data", "db", SCORE_SERVICE_CLUSTER_IP, "db", 5432, 0);
	add_service("shop", "web", SCORE_SERVICE_LOAD_BALANCER, "web", 443, 31443);
	expect_hidden(db, &any_port);
	expect_hidden(lone, &any_port);
	cr_assert_not(score_pod_exposed(NULL, db, &any_port, NULL),
		      "without a model only host ports count");
	score_pod_free(db);
	score_pod_free(lone);
}

Test(exposure, port_filter)
{
	score_pod *web = new_pod("shop", "web-1", "web");
	const score_port_filter https = {.protocol = SCORE_PROTOCOL_TCP,
					 .first_port = 443, .last_port = 443};
	const score_port_filter udp = {.protocol = SCORE_PROTOCOL_UDP};
	const score_port_filter node_ports = {.any_protocol = true,
					      .first_port = 30000,
					      .last_port = 32767};

	add_service("shop", "web", SCORE_SERVICE_LOAD_BALANCER, "web", 443, 31443);
	expect_exposed(web, &https,
		       "Service shop/web type LoadBalancer port 443/TCP");
	expect_hidden(web, &udp);
	expect_exposed(web, &node_ports,
		       "Service shop/web type LoadBalancer node port 31443/TCP");
	score_pod_free(web);
}

/* ---- Separation by exposure ---------------------------------------------- */

static void add_node(const char *name)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_PODS] = 110;
	score_model_put_node(model, node);
}

/* Groups "internet" (exposedTo: world) and "restricted" (app=vault),
 * separated by a hard rule. */
static void exposure_rule(score_isolation_config *config)
{
	score_security_group *group;
	score_error err = {0};
	const char *vault = "vault";

	score_isolation_init(config);
	cr_assert_eq(score_isolation_add_group(config, "internet", &group, &err),
		     0, "%s", err.message);
	group->has_exposure = true;
	group->exposure.any_protocol = true;
	cr_assert_eq(score_isolation_add_group(config, "restricted", &group, &err),
		     0, "%s", err.message);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN,
			   &vault, 1);
	score_isolation_add_separation(config, 3, true, "spec.separation[0]");
}

static char *run_isolation(const score_isolation_config *config,
			   const score_pod *pod, const char *node_name,
			   score_fit *fit)
{
	score_request request = {.model = model, .pod = pod};
	score_candidate candidate = {.name = node_name,
				     .node = score_model_node(model, node_name)};
	GString *reason = g_string_new(NULL);
	score_usage usage;

	score_candidate_usage(&candidate, &usage);
	*fit = score_filter_isolation(config, &request, candidate.node, &usage,
				      reason);
	return g_string_free(reason, FALSE);
}

Test(exposure, separation_keeps_exposed_pods_off_restricted_nodes)
{
	score_isolation_config config;
	score_pod *incoming = new_pod("shop", "web-1", "web");
	score_pod *vault = new_pod("secrets", "vault-0", "vault");
	score_fit fit;
	char *reason;

	exposure_rule(&config);
	add_node("n1");
	add_node("n2");
	vault->node_name = score_intern("n1");
	score_model_put_pod(model, vault);

	/* Without a Service the web pod is not exposed and may join. */
	reason = run_isolation(&config, incoming, "n1", &fit);
	cr_assert_eq(fit, SCORE_FIT, "an unexposed pod fits, got %d (%s)", fit,
		     reason);
	g_free(reason);

	/* The incoming pod is selected by an existing LoadBalancer. */
	add_service("shop", "web", SCORE_SERVICE_LOAD_BALANCER, "web", 443, 31443);
	reason = run_isolation(&config, incoming, "n1", &fit);
	cr_assert_eq(fit, SCORE_REJECT_UNRESOLVABLE, "exposed: got %d (%s)", fit,
		     reason);
	cr_assert_str_eq(reason,
			 "security group separation (spec.separation[0], hard): the pod is in group \"internet\" and node runs pod secrets/vault-0 of group \"restricted\"; shop/web-1 is reachable from outside: Service shop/web type LoadBalancer port 443/TCP",
			 "got %s", reason);
	g_free(reason);

	reason = run_isolation(&config, incoming, "n2", &fit);
	cr_assert_eq(fit, SCORE_FIT, "n2 runs no restricted pod, got %d (%s)",
		     fit, reason);
	g_free(reason);

	score_pod_free(incoming);
	score_isolation_release(&config);
}

Test(exposure, separation_names_the_exposed_neighbour)
{
	score_isolation_config config;
	score_pod *incoming = new_pod("secrets", "vault-1", "vault");
	score_pod *agent = new_pod("monitoring", "agent-x", NULL);
	score_fit fit;
	char *reason;

	exposure_rule(&config);
	add_node("n1");
	agent->host_ports = g_new0(score_host_port, 1);
	agent->host_ports[0] = (score_host_port){NULL, 9100, SCORE_PROTOCOL_TCP};
	agent->n_host_ports = 1;
	agent->node_name = score_intern("n1");
	score_model_put_pod(model, agent);

	reason = run_isolation(&config, incoming, "n1", &fit);
	cr_assert_eq(fit, SCORE_REJECT_UNRESOLVABLE, "got %d (%s)", fit, reason);
	cr_assert_str_eq(reason,
			 "security group separation (spec.separation[0], hard): the pod is in group \"restricted\" and node runs pod monitoring/agent-x of group \"internet\"; monitoring/agent-x is reachable from outside: host port 9100/TCP",
			 "got %s", reason);
	g_free(reason);
	score_pod_free(incoming);
	score_isolation_release(&config);
}
