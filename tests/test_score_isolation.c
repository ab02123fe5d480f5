/* Tests for scoring/isolation.c: each rule on a small cluster built here,
 * the exact rejection messages, the scorer's values, host ports, victims,
 * and rules that pull in opposite directions inside one pipeline. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/contention.h"
#include "scoring/isolation.h"
#include "tests/score_model.h"

typedef struct cluster {
	score_resource_table *resources;
	score_model *model;
	score_isolation_config config;
	int next_uid;
} cluster;

static cluster c;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	c.resources = score_resource_table_new();
	c.model = score_model_new(c.resources);
	score_isolation_init(&c.config);
	c.config.tenants_enabled = true;
	c.config.tenancy = SCORE_TENANCY_STRICT;
}

static void teardown(void)
{
	score_isolation_release(&c.config);
	score_model_free(c.model);
	score_resource_table_free(c.resources);
}

TestSuite(isolation, .init = setup, .fini = teardown, .timeout = 60);

static score_node *add_node(const char *name, const char *labels)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 4000;
	node->allocatable.v[SCORE_RES_MEMORY] = 8LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	test_labels_parse(&node->labels, labels);
	score_model_put_node(c.model, node);
	return score_model_node(c.model, name);
}

/* A pod "namespace/name" with labels; the caller adds flags before
 * binding it with place() or using it as the incoming pod. */
static score_pod *new_pod(const char *namespace, const char *name,
			  const char *labels)
{
	score_pod *pod = score_pod_new();
	char uid[32];

	g_snprintf(uid, sizeof(uid), "uid-%d", ++c.next_uid);
	pod->uid = score_intern(uid);
	pod->namespace = score_intern(namespace);
	pod->name = score_intern(name);
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_CPU] = 500;
	pod->request.v[SCORE_RES_MEMORY] = 1LL << 30;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	test_labels_parse(&pod->labels, labels);
	return pod;
}

static const score_pod *place(score_pod *pod, const char *node)
{
	const char *uid = pod->uid;

	pod->node_name = score_intern(node);
	score_model_put_pod(c.model, pod);
	return score_model_pod(c.model, uid);
}

static void add_host_port(score_pod *pod, const char *ip, int32_t port,
			  score_protocol protocol)
{
	pod->host_ports = g_renew(score_host_port, pod->host_ports,
				  pod->n_host_ports + 1);
	pod->host_ports[pod->n_host_ports++] = (score_host_port){
		score_intern(ip), port, protocol};
}

static void trust(const char *tenant, const char *trusted)
{
	score_isolation_add_trust(&c.config, tenant, trusted);
}

/* Runs `filter` for `pod` on `node`, with optional victims. The caller
 * frees the returned reason. */
static char *run_filter(score_filter_fn filter, const score_pod *pod,
			const char *node_name, const score_pod *const *victims,
			size_t n_victims, score_fit *fit)
{
	score_request request = {.model = c.model, .pod = pod};
	score_candidate candidate = {
		.name = node_name,
		.node = score_model_node(c.model, node_name),
		.victims = victims,
		.n_victims = n_victims,
	};
	GString *reason = g_string_new(NULL);
	score_usage usage;

	cr_assert_not_null(candidate.node, "node %s is missing", node_name);
	score_candidate_usage(&candidate, &usage);
	*fit = filter(&c.config, &request, candidate.node, &usage, reason);
	return g_string_free(reason, FALSE);
}

static void expect_fit(score_filter_fn filter, const score_pod *pod,
		       const char *node_name)
{
	score_fit fit;
	char *reason = run_filter(filter, pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, SCORE_FIT,
		     "expected %s/%s to fit on %s, got verdict %d: %s",
		     pod->namespace, pod->name, node_name, fit, reason);
	g_free(reason);
}

static void expect_reject(score_filter_fn filter, const score_pod *pod,
			  const char *node_name, score_fit verdict,
			  const char *expected)
{
	score_fit fit;
	char *reason = run_filter(filter, pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, verdict, "expected verdict %d on %s, got %d (%s)",
		     verdict, node_name, fit, reason);
	cr_assert_str_eq(reason, expected, "reason on %s:\n  got      %s\n  expected %s",
			 node_name, reason, expected);
	g_free(reason);
}

static int64_t run_scorer(const score_pod *pod, const char *node_name)
{
	score_request request = {.model = c.model, .pod = pod};
	score_candidate candidate = {
		.name = node_name,
		.node = score_model_node(c.model, node_name),
	};
	score_usage usage;

	score_candidate_usage(&candidate, &usage);
	return score_isolation(&c.config, &request, candidate.node, &usage);
}

/* ---- Tenant isolation ---------------------------------------------------- */

Test(isolation, strict_rejects_untrusting_tenants)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");

	add_node("n1", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-b/web-2 of tenant \"beta\"; tenants \"alpha\" and \"beta\" do not trust each other");
	score_pod_free(incoming);
}

Test(isolation, trust_must_be_mutual)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");

	add_node("n1", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");

	/* Only beta trusts alpha: alpha's own trust is missing. */
	trust("beta", "alpha");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-b/web-2 of tenant \"beta\", which tenant \"alpha\" does not trust");

	/* Both directions: they share. */
	trust("alpha", "beta");
	expect_fit(score_filter_isolation, incoming, "n1");
	score_pod_free(incoming);
}

Test(isolation, one_sided_trust_names_the_other_side)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");

	add_node("n1", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	trust("alpha", "beta");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-b/web-2 of tenant \"beta\", which does not trust tenant \"alpha\"");
	score_pod_free(incoming);
}

Test(isolation, same_and_missing_tenants_share)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *untenanted = new_pod("tools", "lint", NULL);

	add_node("n1", NULL);
	place(new_pod("shop-a", "web-0", "stowage.io/tenant=alpha"), "n1");
	place(new_pod("tools", "cron", NULL), "n1");
	expect_fit(score_filter_isolation, incoming, "n1");

	/* A pod without a tenant and without host access conflicts with
	 * nobody, in either direction. */
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	expect_fit(score_filter_isolation, untenanted, "n1");
	score_pod_free(incoming);
	score_pod_free(untenanted);
}

Test(isolation, multiple_conflicts_are_counted)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_fit fit;
	char *reason;

	add_node("n1", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	place(new_pod("shop-b", "web-3", "stowage.io/tenant=beta"), "n1");
	place(new_pod("shop-c", "api-1", "stowage.io/tenant=gamma"), "n1");
	reason = run_filter(score_filter_isolation, incoming, "n1", NULL, 0, &fit);
	cr_assert_eq(fit, SCORE_REJECT_UNRESOLVABLE, "verdict %d", fit);
	cr_assert(g_str_has_suffix(reason, " (and 2 more pods in conflict)"),
		  "the count of further conflicts is missing: %s", reason);
	g_free(reason);
	score_pod_free(incoming);
}

Test(isolation, host_access_neighbour_rejects_every_other_tenant)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *agent = new_pod("monitoring", "node-agent-x1", NULL);

	agent->privileged = true;
	agent->uses_host_path = true;
	add_node("n1", NULL);
	place(agent, "n1");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod monitoring/node-agent-x1 (no tenant) with host access (privileged, hostPath); a pod with host access may not share a node with another tenant's pods");
	score_pod_free(incoming);
}

Test(isolation, host_access_ignores_trust_but_not_own_tenant)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *own = new_pod("shop-a", "ingress", "stowage.io/tenant=alpha");
	score_pod *trusted = new_pod("shop-b", "ingress", "stowage.io/tenant=beta");

	own->host_network = true;
	trusted->host_network = true;
	trust("alpha", "beta");
	trust("beta", "alpha");
	add_node("n1", NULL);
	add_node("n2", NULL);
	place(own, "n1");
	place(trusted, "n2");

	expect_fit(score_filter_isolation, incoming, "n1");
	expect_reject(score_filter_isolation, incoming, "n2",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-b/ingress of tenant \"beta\" with host access (hostNetwork); a pod with host access may not share a node with another tenant's pods");
	score_pod_free(incoming);
}

Test(isolation, incoming_host_access_pod_is_rejected)
{
	score_pod *incoming = new_pod("shop-a", "debug", "stowage.io/tenant=alpha");

	incoming->host_pid = true;
	add_node("n1", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: the pod has host access (hostPID) and node runs pod shop-b/web-2 of tenant \"beta\"; a pod with host access may not share a node with another tenant's pods");
	score_pod_free(incoming);
}

Test(isolation, infrastructure_namespaces_are_exempt)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *proxy = new_pod("kube-system", "kube-proxy-abc", NULL);
	score_pod *daemon = new_pod("kube-system", "cni-xyz", NULL);

	proxy->privileged = true;
	proxy->host_network = true;
	daemon->host_network = true;
	add_node("n1", NULL);
	add_node("n2", NULL);
	place(proxy, "n1");
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n2");

	/* The tenant's pod ignores kube-proxy, and a DaemonSet pod with host
	 * access may join a node of any tenant. */
	expect_fit(score_filter_isolation, incoming, "n1");
	expect_fit(score_filter_isolation, daemon, "n2");

	/* Without the exemption kube-proxy is a host-access neighbour. A
	 * config is immutable once used, so the test builds a new one. */
	score_isolation_release(&c.config);
	score_isolation_init(&c.config);
	c.config.tenants_enabled = true;
	c.config.tenancy = SCORE_TENANCY_STRICT;
	g_ptr_array_set_size(c.config.infrastructure_namespaces, 0);
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod kube-system/kube-proxy-abc (no tenant) with host access (hostNetwork, privileged); a pod with host access may not share a node with another tenant's pods");
	score_pod_free(incoming);
	score_pod_free(daemon);
}

Test(isolation, sandboxed_pods_share_only_with_sandboxed)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *sandboxed = new_pod("shop-b", "web-2", "stowage.io/tenant=beta");

	c.config.sandbox_enabled = true;
	g_ptr_array_add(c.config.sandbox_runtime_classes,
			(gpointer)score_intern("gvisor"));
	incoming->runtime_class_name = score_intern("gvisor");
	sandboxed->runtime_class_name = score_intern("gvisor");
	add_node("n1", NULL);
	add_node("n2", NULL);
	place(sandboxed, "n1");
	place(new_pod("shop-c", "api-1", "stowage.io/tenant=gamma"), "n2");

	expect_fit(score_filter_isolation, incoming, "n1");
	expect_reject(score_filter_isolation, incoming, "n2",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-c/api-1 of tenant \"gamma\"; tenants \"alpha\" and \"gamma\" do not trust each other; only one of the two pods runs in a sandboxed RuntimeClass, and the policy lets untrusting tenants share a node only when both do");

	c.config.allow_sharing_with_unsandboxed = true;
	expect_fit(score_filter_isolation, incoming, "n2");
	score_pod_free(incoming);
}

Test(isolation, sandbox_does_not_cover_host_access)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *privileged = new_pod("shop-b", "agent", "stowage.io/tenant=beta");

	c.config.sandbox_enabled = true;
	c.config.allow_sharing_with_unsandboxed = true;
	g_ptr_array_add(c.config.sandbox_runtime_classes,
			(gpointer)score_intern("kata"));
	incoming->runtime_class_name = score_intern("kata");
	privileged->privileged = true;
	add_node("n1", NULL);
	place(privileged, "n1");
	expect_reject(score_filter_isolation, incoming, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "tenant isolation: node runs pod shop-b/agent of tenant \"beta\" with host access (privileged); a pod with host access may not share a node with another tenant's pods");
	score_pod_free(incoming);
}

/* ---- Where the tenant comes from ----------------------------------------- */

Test(isolation, namespace_label_wins_over_pod_label)
{
	score_pod *claimer = new_pod("shop-a", "web-1", "stowage.io/tenant=beta");
	const char *tenant;

	test_model_put_namespace(c.model, "shop-a", "stowage.io/tenant=alpha");

	tenant = score_isolation_pod_tenant(&c.config, c.model, claimer);
	cr_assert_str_eq(tenant, "alpha", "namespace label must win, got %s",
			 tenant);

	c.config.tenant_source = SCORE_TENANT_FROM_POD;
	tenant = score_isolation_pod_tenant(&c.config, c.model, claimer);
	cr_assert_str_eq(tenant, "beta", "source pod reads the pod, got %s", tenant);

	c.config.tenant_source = SCORE_TENANT_FROM_NAMESPACE;
	score_pod *other = new_pod("elsewhere", "x", "stowage.io/tenant=beta");
	cr_assert_null(score_isolation_pod_tenant(&c.config, c.model, other),
		       "source namespace must ignore the pod's own label");

	score_pod_set_tenant(other, "gamma");
	tenant = score_isolation_pod_tenant(&c.config, c.model, other);
	cr_assert_str_eq(tenant, "gamma", "an explicit tenant wins, got %s", tenant);
	score_pod_free(claimer);
	score_pod_free(other);
}

Test(isolation, custom_tenant_label_and_empty_value)
{
	score_pod *pod = new_pod("shop-a", "web-1", "team=alpha,stowage.io/tenant=beta");
	score_pod *empty = new_pod("shop-a", "web-2", "team=");

	score_unintern(c.config.tenant_label);
	c.config.tenant_label = score_intern("team");
	cr_assert_str_eq(score_isolation_pod_tenant(&c.config, c.model, pod), "alpha");
	cr_assert_null(score_isolation_pod_tenant(&c.config, c.model, empty),
		       "an empty label value means no tenant");
	score_pod_free(pod);
	score_pod_free(empty);
}

/* ---- Dedicated pools ----------------------------------------------------- */

static void add_pci_pool(void)
{
	score_dedicated_pool *pool = score_isolation_add_pool(
		&c.config, "pci", "spec.tenants.dedicatedPools[0]");
	const char *value = "pci";

	score_selector_add(&pool->node_selector, "pool", SCORE_SELECTOR_IN,
			   &value, 1);
}

Test(isolation, pool_tenant_only_on_pool_nodes)
{
	score_pod *payment = new_pod("payments", "api-1", "stowage.io/tenant=pci");

	add_pci_pool();
	add_node("pool-1", "pool=pci");
	add_node("general-1", NULL);
	expect_fit(score_filter_isolation, payment, "pool-1");
	expect_reject(score_filter_isolation, payment, "general-1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "dedicated pool: tenant \"pci\" runs only on the nodes of its dedicated pools (spec.tenants.dedicatedPools[0]: pool=pci), and node matches none of them");
	score_pod_free(payment);
}

Test(isolation, pool_keeps_others_off)
{
	score_pod *alpha = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *untenanted = new_pod("tools", "lint", NULL);
	score_pod *daemon = new_pod("kube-system", "kube-proxy-1", NULL);

	c.config.tenancy = SCORE_TENANCY_NONE;
	add_pci_pool();
	add_node("pool-1", "pool=pci");
	expect_reject(score_filter_isolation, alpha, "pool-1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "dedicated pool: node is in the dedicated pool of tenant \"pci\" (spec.tenants.dedicatedPools[0]), which keeps the pods of tenant \"alpha\" off it");
	expect_reject(score_filter_isolation, untenanted, "pool-1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "dedicated pool: node is in the dedicated pool of tenant \"pci\" (spec.tenants.dedicatedPools[0]), which keeps pods without a tenant off it");
	expect_fit(score_filter_isolation, daemon, "pool-1");
	score_pod_free(alpha);
	score_pod_free(untenanted);
	score_pod_free(daemon);
}

Test(isolation, pool_and_strict_tenancy_leave_no_node)
{
	score_pod *payment = new_pod("payments", "api-2", "stowage.io/tenant=pci");
	score_pipeline pipeline;
	score_request request = {.model = c.model, .pod = payment};
	score_candidate candidates[2];
	score_result result;
	score_error err = {0};

	/* The pool's only node already runs a pod of an untrusted tenant (it
	 * arrived before the pool existed); the other node is outside the
	 * pool. Both rules are hard, so nothing fits, each node for its own
	 * reason. */
	add_pci_pool();
	add_node("pool-1", "pool=pci");
	add_node("general-1", NULL);
	place(new_pod("shop-a", "legacy", "stowage.io/tenant=alpha"), "pool-1");

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 1, &err), 0,
		     "%s", err.message);
	candidates[0] = (score_candidate){"pool-1", score_model_node(c.model, "pool-1"), NULL, 0};
	candidates[1] = (score_candidate){"general-1", score_model_node(c.model, "general-1"), NULL, 0};
	score_pipeline_filter(&pipeline, &request, candidates, 2, &result);

	cr_assert_eq(result.n_fit, 0, "expected no fit, got %zu", result.n_fit);
	cr_assert_str_eq(result.nodes[0].reason,
			 "tenant isolation: node runs pod shop-a/legacy of tenant \"alpha\"; tenants \"pci\" and \"alpha\" do not trust each other");
	cr_assert(g_str_has_prefix(result.nodes[1].reason, "dedicated pool: tenant \"pci\" runs only"),
		  "general-1: %s", result.nodes[1].reason);
	score_result_release(&result);
	score_pod_free(payment);
}

/* ---- Security-group separation ------------------------------------------- */

/* Groups web (app=web) and db (app=db, in namespaces named data). */
static void add_web_and_db(bool hard)
{
	score_security_group *group;
	const char *web = "web";
	const char *db = "db";
	const char *data = "data";

	cr_assert_eq(score_isolation_add_group(&c.config, "web", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &web, 1);
	cr_assert_eq(score_isolation_add_group(&c.config, "db", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &db, 1);
	group->has_namespace_selector = true;
	score_selector_add(&group->namespace_selector,
			   "kubernetes.io/metadata.name", SCORE_SELECTOR_IN,
			   &data, 1);
	score_isolation_add_separation(&c.config, 0x3, hard, "spec.separation[0]");
}

Test(isolation, hard_separation_rejects)
{
	score_pod *web = new_pod("shop", "web-1", "app=web");

	c.config.tenants_enabled = false;
	add_web_and_db(true);
	add_node("n1", NULL);
	add_node("n2", NULL);
	place(new_pod("data", "postgres-0", "app=db"), "n1");
	/* app=db outside namespace "data" is not in group db. */
	place(new_pod("shop", "fake-db", "app=db"), "n2");

	expect_reject(score_filter_isolation, web, "n1",
		      SCORE_REJECT_UNRESOLVABLE,
		      "security group separation (spec.separation[0], hard): the pod is in group \"web\" and node runs pod data/postgres-0 of group \"db\"");
	expect_fit(score_filter_isolation, web, "n2");
	score_pod_free(web);
}

Test(isolation, namespace_selector_reads_model_labels)
{
	score_pod *web = new_pod("shop", "web-1", "app=web");

	/* A namespace in the model is matched by its stored labels only. */
	c.config.tenants_enabled = false;
	add_web_and_db(true);
	test_model_put_namespace(c.model, "data", "team=storage");
	add_node("n1", NULL);
	place(new_pod("data", "postgres-0", "app=db"), "n1");
	expect_fit(score_filter_isolation, web, "n1");
	score_pod_free(web);
}

Test(isolation, soft_separation_scores)
{
	score_pod *web = new_pod("shop", "web-1", "app=web");
	score_pod *other = new_pod("shop", "batch", "app=batch");
	int64_t score;

	c.config.tenants_enabled = false;
	add_web_and_db(false);
	add_node("n1", NULL);
	add_node("n2", NULL);
	place(new_pod("data", "postgres-0", "app=db"), "n1");

	expect_fit(score_filter_isolation, web, "n1");
	score = run_scorer(web, "n1");
	cr_assert_eq(score, 50, "one violated soft rule scores 50, got %lld",
		     (long long)score);
	score = run_scorer(web, "n2");
	cr_assert_eq(score, 100, "no conflict scores 100, got %lld", (long long)score);
	score = run_scorer(other, "n1");
	cr_assert_eq(score, SCORE_SKIP, "a pod in no group skips, got %lld",
		     (long long)score);
	score_pod_free(web);
	score_pod_free(other);
}

/* ---- Preferred tenancy --------------------------------------------------- */

Test(isolation, preferred_counts_distinct_tenants)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_pod *untenanted = new_pod("tools", "lint", NULL);
	int64_t score;

	c.config.tenancy = SCORE_TENANCY_PREFERRED;
	add_node("empty", NULL);
	add_node("one", NULL);
	add_node("two", NULL);
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "one");
	place(new_pod("shop-b", "web-3", "stowage.io/tenant=beta"), "one");
	place(new_pod("shop-b", "web-4", "stowage.io/tenant=beta"), "two");
	place(new_pod("shop-c", "api-1", "stowage.io/tenant=gamma"), "two");

	expect_fit(score_filter_isolation, incoming, "two");
	score = run_scorer(incoming, "empty");
	cr_assert_eq(score, 100, "empty node: got %lld", (long long)score);
	score = run_scorer(incoming, "one");
	cr_assert_eq(score, 50, "two pods of one tenant are one conflict: got %lld",
		     (long long)score);
	score = run_scorer(incoming, "two");
	cr_assert_eq(score, 33, "two tenants: got %lld", (long long)score);
	score = run_scorer(untenanted, "two");
	cr_assert_eq(score, SCORE_SKIP, "no tenant, no host access: got %lld",
		     (long long)score);
	score_pod_free(incoming);
	score_pod_free(untenanted);
}

/* Returns the isolation scorer's explanation for `pod` on `node_name`
 * from a pipeline, as the decision log shows it. The caller frees it. */
static char *explain_in_pipeline(const score_pod *pod, const char *node_name)
{
	score_request request = {.model = c.model, .pod = pod};
	score_candidate candidate = {.name = node_name,
				     .node = score_model_node(c.model, node_name)};
	score_pipeline pipeline;
	score_error err = {0};
	GString *out = g_string_new(NULL);

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 1, &err), 0,
		     "add isolation: %s", err.message);
	cr_assert_eq(pipeline.n_scorers, 1, "expected the isolation scorer, got %zu scorers",
		     pipeline.n_scorers);
	request.cache = score_request_cache_new();
	score_pipeline_explain_node(&pipeline, &request, 0, &candidate, out);
	score_request_cache_free(request.cache);
	return g_string_free(out, FALSE);
}

Test(isolation, preferred_score_explained_per_node)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	char *text;

	c.config.tenancy = SCORE_TENANCY_PREFERRED;
	add_node("empty", NULL);
	add_node("two", NULL);
	place(new_pod("shop-b", "web-4", "stowage.io/tenant=beta"), "two");
	place(new_pod("shop-c", "api-1", "stowage.io/tenant=gamma"), "two");

	text = explain_in_pipeline(incoming, "two");
	cr_assert_str_eq(text,
			 "tenant isolation: node runs pod shop-b/web-4 of tenant \"beta\"; tenants \"alpha\" and \"beta\" do not trust each other (and 1 more pods in conflict)",
			 "explanation on two: %s", text);
	g_free(text);
	text = explain_in_pipeline(incoming, "empty");
	cr_assert_str_eq(text, "", "a node without conflict needs no explanation: %s", text);
	g_free(text);
	score_pod_free(incoming);
}

Test(isolation, soft_separation_explained_per_node)
{
	score_pod *web = new_pod("shop", "web-1", "app=web");
	char *text;

	c.config.tenants_enabled = false;
	add_web_and_db(false);
	add_node("n1", NULL);
	place(new_pod("data", "postgres-0", "app=db"), "n1");

	text = explain_in_pipeline(web, "n1");
	cr_assert_str_eq(text,
			 "security group separation (spec.separation[0], soft): the pod is in group \"web\" and node runs pod data/postgres-0 of group \"db\"",
			 "explanation on n1: %s", text);
	g_free(text);
	score_pod_free(web);
}

Test(isolation, preferred_isolation_against_least_allocated)
{
	score_contention_config contention;
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	score_request request = {.model = c.model, .pod = incoming};
	score_candidate candidates[2];
	score_pipeline pipeline;
	score_result result;
	score_error err = {0};
	score_pod *heavy;

	/* "busy" runs alpha's own big pod; "idle" runs one small pod of
	 * beta. LeastAllocated prefers idle and isolation prefers busy. */
	c.config.tenancy = SCORE_TENANCY_PREFERRED;
	score_contention_defaults(&contention);
	add_node("busy", NULL);
	add_node("idle", NULL);
	heavy = new_pod("shop-a", "batch", "stowage.io/tenant=alpha");
	heavy->request.v[SCORE_RES_CPU] = 3000;
	heavy->request.v[SCORE_RES_MEMORY] = 6LL << 30;
	heavy->nonzero_request = heavy->request;
	place(heavy, "busy");
	place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "idle");
	candidates[0] = (score_candidate){"busy", score_model_node(c.model, "busy"), NULL, 0};
	candidates[1] = (score_candidate){"idle", score_model_node(c.model, "idle"), NULL, 0};

	/* LeastAllocated: busy has cpu 3500m of 4000m and memory 7Gi of
	 * 8Gi after the pod, so 12; idle has 1000m and 2Gi, so 75. Isolation:
	 * busy 100, idle 50 (one untrusted tenant). Equal weights: idle wins,
	 * (75 + 50) / 2 = 62 against (12 + 100) / 2 = 56. */
	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_contention(&pipeline, &contention, 1, 0, &err), 0);
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 1, &err), 0);
	score_pipeline_filter(&pipeline, &request, candidates, 2, &result);
	cr_assert_eq(result.n_fit, 2, "both nodes fit, got %zu", result.n_fit);
	score_pipeline_score(&pipeline, &request, candidates, &result);
	cr_assert_eq(result.nodes[0].total, (12 + 100) / 2, "busy total %lld",
		     (long long)result.nodes[0].total);
	cr_assert_eq(result.nodes[1].total, (75 + 50) / 2, "idle total %lld",
		     (long long)result.nodes[1].total);
	cr_assert_gt(result.nodes[1].total, result.nodes[0].total,
		     "with equal weights contention wins");
	score_result_release(&result);

	/* Isolation weight 3: (12 + 300) / 4 = 78 against (75 + 150) / 4 = 56. */
	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_contention(&pipeline, &contention, 1, 0, &err), 0);
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 3, &err), 0);
	score_pipeline_filter(&pipeline, &request, candidates, 2, &result);
	score_pipeline_score(&pipeline, &request, candidates, &result);
	cr_assert_eq(result.nodes[0].total, 78, "busy total %lld",
		     (long long)result.nodes[0].total);
	cr_assert_eq(result.nodes[1].total, 56, "idle total %lld",
		     (long long)result.nodes[1].total);
	score_result_release(&result);
	score_pod_free(incoming);
}

/* ---- Victims ------------------------------------------------------------- */

Test(isolation, victims_do_not_conflict)
{
	score_pod *incoming = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	const score_pod *victim;
	score_fit fit;
	char *reason;

	add_node("n1", NULL);
	victim = place(new_pod("shop-b", "web-2", "stowage.io/tenant=beta"), "n1");
	reason = run_filter(score_filter_isolation, incoming, "n1", &victim, 1,
			    &fit);
	cr_assert_eq(fit, SCORE_FIT, "a victim must not count: %s", reason);
	g_free(reason);
	score_pod_free(incoming);
}

Test(isolation, pod_does_not_conflict_with_itself)
{
	score_pod *self = new_pod("shop-a", "web-1", "stowage.io/tenant=alpha");
	const score_pod *placed;

	/* An assumed pod asked about again meets its own entry in the node's
	 * pods, with the same uid. */
	self->host_network = true;
	add_host_port(self, NULL, 8080, SCORE_PROTOCOL_TCP);
	add_node("n1", NULL);
	placed = place(self, "n1");
	expect_fit(score_filter_isolation, placed, "n1");
	expect_fit(score_filter_host_ports, placed, "n1");
}

/* ---- Host ports ---------------------------------------------------------- */

Test(isolation, host_port_conflicts)
{
	score_pod *holder = new_pod("infra", "ingress-1", NULL);
	score_pod *same = new_pod("infra", "ingress-2", NULL);
	score_pod *udp = new_pod("infra", "dns", NULL);
	score_pod *other_ip = new_pod("infra", "pinned", NULL);
	score_pod *wildcard = new_pod("infra", "any", NULL);

	add_host_port(holder, "10.0.0.1", 8080, SCORE_PROTOCOL_TCP);
	add_host_port(same, "10.0.0.1", 8080, SCORE_PROTOCOL_TCP);
	add_host_port(udp, "10.0.0.1", 8080, SCORE_PROTOCOL_UDP);
	add_host_port(other_ip, "10.0.0.2", 8080, SCORE_PROTOCOL_TCP);
	add_host_port(wildcard, NULL, 8080, SCORE_PROTOCOL_TCP);
	add_node("n1", NULL);
	place(holder, "n1");

	expect_reject(score_filter_host_ports, same, "n1",
		      SCORE_REJECT_RESOLVABLE,
		      "host port 10.0.0.1:8080/TCP is already used by pod infra/ingress-1");
	expect_fit(score_filter_host_ports, udp, "n1");
	expect_fit(score_filter_host_ports, other_ip, "n1");
	expect_reject(score_filter_host_ports, wildcard, "n1",
		      SCORE_REJECT_RESOLVABLE,
		      "host port 8080/TCP is already used by pod infra/ingress-1");
	score_pod_free(same);
	score_pod_free(udp);
	score_pod_free(other_ip);
	score_pod_free(wildcard);
}

Test(isolation, host_port_victim_frees_port)
{
	score_pod *holder = new_pod("infra", "ingress-1", NULL);
	score_pod *incoming = new_pod("infra", "ingress-2", NULL);
	const score_pod *victim;
	score_fit fit;
	char *reason;

	add_host_port(holder, NULL, 443, SCORE_PROTOCOL_TCP);
	add_host_port(incoming, NULL, 443, SCORE_PROTOCOL_TCP);
	add_node("n1", NULL);
	victim = place(holder, "n1");
	reason = run_filter(score_filter_host_ports, incoming, "n1", &victim, 1,
			    &fit);
	cr_assert_eq(fit, SCORE_FIT, "evicting the holder frees the port: %s",
		     reason);
	g_free(reason);
	score_pod_free(incoming);
}

/* ---- Pipeline composition ------------------------------------------------ */

Test(isolation, pipeline_adds_what_rules_need)
{
	score_pipeline pipeline;
	score_error err = {0};

	score_pipeline_init(&pipeline);
	c.config.tenancy = SCORE_TENANCY_NONE;
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 2, &err), 0);
	cr_assert_eq(pipeline.n_filters, 1, "only NodePorts, got %zu filters",
		     pipeline.n_filters);
	cr_assert_str_eq(pipeline.filters[0].name, "NodePorts");
	cr_assert_eq(pipeline.n_scorers, 0, "no soft rule, got %zu scorers",
		     pipeline.n_scorers);

	score_pipeline_init(&pipeline);
	c.config.tenancy = SCORE_TENANCY_PREFERRED;
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 2, &err), 0);
	cr_assert_eq(pipeline.n_filters, 1, "preferred adds no filter, got %zu",
		     pipeline.n_filters);
	cr_assert_eq(pipeline.n_scorers, 1, "got %zu scorers", pipeline.n_scorers);
	cr_assert_eq(pipeline.scorers[0].weight, 2, "weight %lld",
		     (long long)pipeline.scorers[0].weight);

	score_pipeline_init(&pipeline);
	c.config.tenancy = SCORE_TENANCY_STRICT;
	cr_assert_eq(score_pipeline_add_isolation(&pipeline, &c.config, 0, &err), 0);
	cr_assert_eq(pipeline.n_filters, 2, "strict adds the filter, got %zu",
		     pipeline.n_filters);
	cr_assert_str_eq(pipeline.filters[1].name, "Isolation");
	cr_assert_eq(pipeline.n_scorers, 0, "weight 0 leaves the scorer out");
}

Test(isolation, trust_is_one_directional)
{
	const char *alpha;
	const char *beta;

	trust("alpha", "beta");
	trust("alpha", "beta");
	alpha = score_intern("alpha");
	beta = score_intern("beta");
	cr_assert(score_isolation_trusts(&c.config, alpha, beta),
		  "alpha trusts beta");
	cr_assert(!score_isolation_trusts(&c.config, beta, alpha),
		  "beta has declared no trust");
	score_unintern(alpha);
	score_unintern(beta);
}
