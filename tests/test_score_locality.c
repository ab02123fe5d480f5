/* Tests for scoring/locality.c: the cost between nodes, peers from each
 * source, the hard filter and the scorer, alone and against isolation. */
#include <criterion/criterion.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/network_policy.h"
#include "scoring/isolation.h"
#include "scoring/locality.h"
#include "scoring/netpol.h"
#include "tests/score_model.h"

#define RACK "topology.stowage.io/rack"
#define ZONE "topology.kubernetes.io/zone"
#define REGION "topology.kubernetes.io/region"

static score_resource_table *resources;
static score_model *model;
static score_locality_config config;
static int next_uid;

static void setup(void)
{
	resources = score_resource_table_new();
	model = score_model_new(resources);
	score_locality_init(&config);
	score_locality_add_level(&config, RACK, 1);
	score_locality_add_level(&config, ZONE, 4);
	score_locality_add_level(&config, REGION, 20);
	config.default_cost = 100;
	next_uid = 0;
}

static void teardown(void)
{
	score_locality_release(&config);
	score_model_free(model);
	score_resource_table_free(resources);
}

TestSuite(locality, .init = setup, .fini = teardown, .timeout = 60);

static void add_node(const char *name, const char *rack, const char *zone,
		     const char *region)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 8000;
	node->allocatable.v[SCORE_RES_MEMORY] = 32LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	if (rack != NULL)
		score_labels_set(&node->labels, RACK, rack);
	if (zone != NULL)
		score_labels_set(&node->labels, ZONE, zone);
	if (region != NULL)
		score_labels_set(&node->labels, REGION, region);
	score_model_put_node(model, node);
}

/* Adds a pod on `node` (NULL: pending) and returns the model's copy. */
static score_pod *add_pod(const char *namespace, const char *name,
			  const char *node, const char *labels)
{
	score_pod *pod;
	char uid[32];

	g_snprintf(uid, sizeof(uid), "uid-%d", next_uid++);
	pod = test_pod_new(uid, namespace, name, node);
	test_labels_parse(&pod->labels, labels);
	score_model_put_pod(model, pod);
	return score_model_pod(model, uid);
}

static void add_namespace(const char *name, const char *labels)
{
	test_model_put_namespace(model, name, labels);
}

static void add_network_policy(const char *json)
{
	test_model_put_network_policy(model, json);
}

static const score_node *node_of(const char *name)
{
	const score_node *node = score_model_node(model, name);

	cr_assert_not_null(node, "node %s is in the model", name);
	return node;
}

static int64_t cost(const char *a, const char *b)
{
	return score_locality_cost(&config, a, &node_of(a)->labels, b,
				   &node_of(b)->labels);
}

/* Returns the names of the peers, sorted and joined with commas. */
static char *peers_of(const score_pod *pod)
{
	GHashTable *peers = score_locality_peers(&config, model, pod);
	char *names = test_pod_list(peers, TEST_POD_NAME);

	g_hash_table_unref(peers);
	return names;
}

static void assert_peers(const score_pod *pod, const char *expected)
{
	char *got = peers_of(pod);

	cr_assert_str_eq(got, expected, "peers of %s: expected \"%s\", got \"%s\"",
			 pod->name, expected, got);
	g_free(got);
}

/* ---- Cost ------------------------------------------------------------------- */

Test(locality, cost_by_shared_level)
{
	add_node("a1", "r1", "z1", "eu");
	add_node("a2", "r1", "z1", "eu");
	add_node("b1", "r2", "z1", "eu");
	add_node("c1", "r3", "z2", "eu");
	add_node("d1", "r4", "z9", "us");
	add_node("bare", NULL, NULL, NULL);

	cr_assert_eq(cost("a1", "a1"), 0, "same node: got %lld", (long long)cost("a1", "a1"));
	cr_assert_eq(cost("a1", "a2"), 1, "same rack: got %lld", (long long)cost("a1", "a2"));
	cr_assert_eq(cost("a1", "b1"), 4, "same zone: got %lld", (long long)cost("a1", "b1"));
	cr_assert_eq(cost("a1", "c1"), 20, "same region: got %lld", (long long)cost("a1", "c1"));
	cr_assert_eq(cost("a1", "d1"), 100, "nothing shared: got %lld",
		     (long long)cost("a1", "d1"));
	cr_assert_eq(cost("bare", "a1"), 100, "a node without labels: got %lld",
		     (long long)cost("bare", "a1"));
	cr_assert_eq(cost("bare", "bare"), 0, "a node to itself is 0");
}

Test(locality, cost_rack_name_reused_in_another_zone)
{
	add_node("a1", "r1", "z1", "eu");
	add_node("x1", "r1", "z2", "eu");

	cr_assert_eq(cost("a1", "x1"), 20,
		     "rack r1 of zone z2 is another rack than r1 of z1, so only the region is shared: got %lld",
		     (long long)cost("a1", "x1"));
}

Test(locality, cost_pair_overrides)
{
	add_node("a1", "r1", "z1", "eu");
	add_node("b1", "r2", "z2", "eu");
	add_node("c1", "r3", "z3", "eu");
	add_node("u1", "r4", "z9", "us");
	add_node("v1", "r5", "z8", "us");
	score_locality_add_zone_pair(&config, "z1", "z2", 3);
	score_locality_add_region_pair(&config, "eu", "us", 60);
	score_locality_add_zone_pair(&config, "z1", "z8", 50);

	cr_assert_eq(cost("a1", "b1"), 3, "zone pair replaces the region cost: got %lld",
		     (long long)cost("a1", "b1"));
	cr_assert_eq(cost("b1", "a1"), 3, "pairs are symmetric: got %lld",
		     (long long)cost("b1", "a1"));
	cr_assert_eq(cost("a1", "c1"), 20, "an unpaired zone keeps the region cost: got %lld",
		     (long long)cost("a1", "c1"));
	cr_assert_eq(cost("a1", "u1"), 60, "region pair replaces the default: got %lld",
		     (long long)cost("a1", "u1"));
	cr_assert_eq(cost("a1", "v1"), 50, "a zone pair wins over a region pair: got %lld",
		     (long long)cost("a1", "v1"));
	cr_assert_eq(cost("u1", "v1"), 20, "two zones of one region without a pair: got %lld",
		     (long long)cost("u1", "v1"));
}

/* The aggregated mean (scorer before normalization) equals the mean of the
 * direct costs, for many random layouts including pairs and missing
 * labels. */
Test(locality, aggregated_mean_matches_direct_costs)
{
	static const char *const racks[] = {"r1", "r2", NULL};
	static const char *const zones[] = {"z1", "z2", "z3", NULL};
	static const char *const regions[] = {"eu", "us", NULL};
	GRand *rand = g_rand_new_with_seed(42);
	score_pod *self;

	score_locality_add_zone_pair(&config, "z1", "z2", 3);
	score_locality_add_zone_pair(&config, "z2", "z3", 30);
	score_locality_add_region_pair(&config, "eu", "us", 60);
	config.network_policies = true;
	for (int i = 0; i < 24; i++) {
		char name[16];

		g_snprintf(name, sizeof(name), "n%d", i);
		add_node(name, racks[g_rand_int_range(rand, 0, 3)],
			 zones[g_rand_int_range(rand, 0, 4)],
			 regions[g_rand_int_range(rand, 0, 3)]);
	}
	for (int i = 0; i < 60; i++) {
		char name[16], node[16];

		g_snprintf(name, sizeof(name), "p%d", i);
		g_snprintf(node, sizeof(node), "n%d", g_rand_int_range(rand, 0, 24));
		add_pod("shop", name, node, "app=cart");
	}
	self = add_pod("shop", "web", NULL, "app=web");
	add_network_policy(
		"{\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"cart\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");

	{
		score_request request = {.model = model, .pod = self};
		void *state = score_locality_prepare(&config, &request);
		score_usage usage = {0};

		for (int i = 0; i < 24; i++) {
			char name[16];
			const score_node *node;
			int64_t sum = 0;
			int64_t n = 0;
			int64_t expected, got;
			GHashTable *peers;
			GHashTableIter iter;
			gpointer key;

			g_snprintf(name, sizeof(name), "n%d", i);
			node = node_of(name);
			peers = score_locality_peers(&config, model, self);
			g_hash_table_iter_init(&iter, peers);
			while (g_hash_table_iter_next(&iter, &key, NULL)) {
				const score_pod *peer = key;

				sum += score_locality_cost(&config, node->name, &node->labels,
							   peer->node_name,
							   &node_of(peer->node_name)->labels);
				n++;
			}
			g_hash_table_unref(peers);
			expected = sum * 1000 / n;
			got = score_locality(state, &request, node, &usage);
			cr_assert_eq(got, expected, "node %s: aggregated %lld, direct %lld",
				     name, (long long)got, (long long)expected);
		}
		score_locality_release_state(state);
	}
	g_rand_free(rand);
}

/* ---- Peers ------------------------------------------------------------------ */

Test(locality, peers_from_ingress_and_egress_rules)
{
	score_pod *api;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_pod("shop", "web-1", "n1", "app=web");
	add_pod("shop", "db-1", "n1", "app=db");
	add_pod("shop", "cache-1", "n1", "app=cache");
	add_pod("other", "web-9", "n1", "app=web");
	add_pod("shop", "web-pending", NULL, "app=web");
	api = add_pod("shop", "api-1", NULL, "app=api");
	add_pod("shop", "api-2", "n1", "app=api");
	add_network_policy(
		"{\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
		"\"policyTypes\":[\"Ingress\",\"Egress\"],"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}],"
		"\"ports\":[{\"port\":8080}]}],"
		"\"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}}}]}]}}");

	/* web-9 is in another namespace, web-pending is not placed, and the
	 * pod itself and its replica api-2 are not peers through this
	 * policy. */
	assert_peers(api, "db-1,web-1");
}

Test(locality, peers_follow_relabels_and_deletes)
{
	score_pod *api, *web;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	api = add_pod("shop", "api-1", NULL, "app=api");
	add_pod("shop", "web-1", "n1", "app=web,tier=front");
	add_pod("shop", "web-2", "n1", "app=web,tier=back");
	add_pod("other", "web-3", "n1", "app=web,tier=front");
	add_network_policy(
		"{\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{"
		"\"matchLabels\":{\"app\":\"web\"},"
		"\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\","
		"\"values\":[\"front\"]}]}}]}]}}");

	/* Every requirement of the selector holds, in the policy's
	 * namespace only. */
	assert_peers(api, "web-1");

	/* A relabel and a new pod change the peers on the next request. */
	web = score_pod_new();
	web->uid = score_intern(score_model_pod(model, "uid-2")->uid);
	web->name = score_intern("web-2");
	web->namespace = score_intern("shop");
	web->node_name = score_intern("n1");
	web->phase = SCORE_POD_RUNNING;
	test_labels_parse(&web->labels, "app=web,tier=front");
	score_model_put_pod(model, web);
	add_pod("shop", "web-4", "n1", "app=web,tier=front");
	assert_peers(api, "web-1,web-2,web-4");

	/* A deleted pod is no peer. */
	cr_assert(score_model_remove_pod(model, "uid-1"), "pod uid-1 removed");
	assert_peers(api, "web-2,web-4");
}

Test(locality, peers_in_reverse_direction)
{
	score_pod *web;
	score_pod *db;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_pod("shop", "api-1", "n1", "app=api");
	add_pod("shop", "api-2", "n1", "app=api");
	add_pod("shop", "metrics-1", "n1", "app=metrics");
	web = add_pod("shop", "web-1", NULL, "app=web");
	db = add_pod("shop", "db-1", NULL, "app=db");
	/* api accepts traffic from web: web may send to the api pods. */
	add_network_policy(
		"{\"metadata\":{\"name\":\"api-in\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");
	/* metrics may reach db: the db pod has metrics as a peer. */
	add_network_policy(
		"{\"metadata\":{\"name\":\"metrics-out\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"metrics\"}},"
		"\"policyTypes\":[\"Egress\"],"
		"\"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}}}]}]}}");

	assert_peers(web, "api-1,api-2");
	assert_peers(db, "metrics-1");
}

Test(locality, direction_not_isolated_gives_no_peers)
{
	score_pod *api;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_pod("shop", "web-1", "n1", "app=web");
	api = add_pod("shop", "api-1", NULL, "app=api");
	/* policyTypes lists only Egress, so the ingress rules do not apply. */
	add_network_policy(
		"{\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
		"\"policyTypes\":[\"Egress\"],"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");
	assert_peers(api, "");
}

Test(locality, allow_all_and_ip_block_give_no_peers)
{
	score_pod *api;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_pod("shop", "web-1", "n1", "app=web");
	add_pod("other", "job-1", "n1", "app=job");
	api = add_pod("shop", "api-1", NULL, "app=api");
	add_network_policy(
		"{\"metadata\":{\"name\":\"open\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{},"
		"\"ingress\":[{}],"
		"\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"}}]},"
		"{\"to\":[{\"namespaceSelector\":{}}]},"
		"{\"to\":[{\"namespaceSelector\":{},\"podSelector\":{}}]}]}}");
	assert_peers(api, "");
}

Test(locality, namespace_selectors)
{
	score_pod *api;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_namespace("team-a", "tenant=a,kubernetes.io/metadata.name=team-a");
	add_namespace("team-b", "tenant=b,kubernetes.io/metadata.name=team-b");
	add_pod("team-a", "client-a", "n1", "app=client");
	add_pod("team-b", "client-b", "n1", "app=client");
	add_pod("team-b", "other-b", "n1", "app=other");
	add_pod("unlabelled", "client-u", "n1", "app=client");
	add_pod("monitoring", "prom-1", "n1", "app=prometheus");
	api = add_pod("team-a", "api-1", NULL, "app=api");
	add_network_policy(
		"{\"metadata\":{\"name\":\"api\",\"namespace\":\"team-a\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
		"\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchExpressions\":"
		"[{\"key\":\"tenant\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}]},"
		"{\"from\":[{\"namespaceSelector\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"monitoring\"}}}]}]}}");

	/* The unlabelled namespace has no tenant; monitoring is not in the
	 * model but still has its name label. */
	assert_peers(api, "client-a,client-b,prom-1");
}

Test(locality, reverse_across_namespaces)
{
	score_pod *client;

	config.network_policies = true;
	add_node("n1", "r1", "z1", "eu");
	add_namespace("team-a", "tenant=a");
	add_pod("shared", "dns-1", "n1", "app=dns");
	client = add_pod("team-a", "client-1", NULL, "app=client");
	add_network_policy(
		"{\"metadata\":{\"name\":\"dns\",\"namespace\":\"shared\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"dns\"}},"
		"\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"tenant\":\"a\"}}}]}]}}");
	assert_peers(client, "dns-1");
}

Test(locality, peers_from_groups_and_exposure)
{
	score_isolation_config isolation;
	score_security_group *group;
	score_locality_group *locality_group;
	score_selector selector;
	const char *value;
	score_pod *cart;
	score_pod *web;

	score_isolation_init(&isolation);
	value = "web";
	cr_assert_eq(score_isolation_add_group(&isolation, "web", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &value, 1);
	value = "cart";
	cr_assert_eq(score_isolation_add_group(&isolation, "cart", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &value, 1);
	config.isolation = &isolation;

	/* The checkout group: cart pods and checkout pods by selector. */
	locality_group = score_locality_add_group(&config, "checkout-path", 4, false);
	score_locality_group_add_member(locality_group, 1, NULL, NULL);
	score_selector_init(&selector);
	value = "checkout";
	score_selector_add(&selector, "app", SCORE_SELECTOR_IN, &value, 1);
	score_locality_group_add_member(locality_group, -1, &selector, NULL);
	score_selector_release(&selector);
	/* cart accepts traffic from web. */
	score_locality_add_exposure(&config, 1, UINT64_C(1) << 0);

	add_node("n1", "r1", "z1", "eu");
	add_pod("shop", "checkout-1", "n1", "app=checkout");
	add_pod("shop", "cart-2", "n1", "app=cart");
	add_pod("shop", "web-1", "n1", "app=web");
	add_pod("shop", "search-1", "n1", "app=search");
	cart = add_pod("shop", "cart-1", NULL, "app=cart");
	web = add_pod("shop", "web-2", NULL, "app=web");

	assert_peers(cart, "cart-2,checkout-1,web-1");
	assert_peers(web, "cart-2");

	config.isolation = NULL;
	score_isolation_release(&isolation);
}

/* ---- Filter and scorer -------------------------------------------------------- */

typedef struct run_result {
	score_result result;
	score_pipeline pipeline;
	score_candidate candidates[8];
	size_t n;
} run_result;

static void run_pipeline(run_result *run, const score_pod *pod,
			 const char *const *names, size_t n)
{
	score_request request = {.model = model, .pod = pod};

	cr_assert_leq(n, G_N_ELEMENTS(run->candidates), "too many candidates");
	request.cache = score_request_cache_new();
	run->n = n;
	for (size_t i = 0; i < n; i++) {
		run->candidates[i] = (score_candidate){names[i], node_of(names[i]),
						       NULL, 0};
	}
	score_pipeline_filter(&run->pipeline, &request, run->candidates, n,
			      &run->result);
	score_pipeline_score(&run->pipeline, &request, run->candidates,
			     &run->result);
	score_request_cache_free(request.cache);
}

Test(locality, hard_group_rejects_far_nodes_with_reason)
{
	run_result run;
	score_locality_group *group;
	score_selector selector;
	const char *value = "checkout";
	static const char *const names[] = {"a2", "b1", "c1"};
	score_pod *self;

	add_node("a1", "r1", "z1", "eu");
	add_node("a2", "r1", "z1", "eu");
	add_node("b1", "r2", "z1", "eu");
	add_node("c1", "r3", "z2", "eu");
	add_pod("shop", "cart-7d9", "a1", "app=checkout");
	self = add_pod("shop", "checkout-new", NULL, "app=checkout");
	group = score_locality_add_group(&config, "checkout-path", 4, true);
	score_selector_init(&selector);
	score_selector_add(&selector, "app", SCORE_SELECTOR_IN, &value, 1);
	score_locality_group_add_member(group, -1, &selector, NULL);
	score_selector_release(&selector);

	score_pipeline_init(&run.pipeline);
	cr_assert_eq(score_pipeline_add_locality(&run.pipeline, &config, 1, NULL), 0);
	cr_assert_eq(run.pipeline.n_filters, 1, "a hard group adds the filter");
	run_pipeline(&run, self, names, 3);

	cr_assert_eq(run.result.nodes[0].fit, SCORE_FIT, "same rack fits");
	cr_assert_eq(run.result.nodes[1].fit, SCORE_FIT, "same zone (cost 4) fits");
	cr_assert_eq(run.result.nodes[2].fit, SCORE_REJECT_UNRESOLVABLE,
		     "another zone (cost 20) is rejected");
	cr_assert_str_eq(run.result.nodes[2].reason,
			 "locality group \"checkout-path\": cost 20 to shop/cart-7d9 on a1 exceeds maxCost 4",
			 "reason: %s", run.result.nodes[2].reason);
	score_result_release(&run.result);
}

Test(locality, hard_network_policy_reason_names_policy)
{
	run_result run;
	static const char *const names[] = {"c1"};
	score_pod *self;

	config.network_policies = true;
	config.network_policy_hard = true;
	config.network_policy_max_cost = 4;
	add_node("a1", "r1", "z1", "eu");
	add_node("c1", "r3", "z2", "eu");
	add_pod("shop", "cart-1", "a1", "app=cart");
	add_pod("shop", "cart-2", "a1", "app=cart");
	self = add_pod("shop", "web-1", NULL, "app=web");
	add_network_policy(
		"{\"metadata\":{\"name\":\"allow-cart\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
		"\"policyTypes\":[\"Egress\"],"
		"\"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cart\"}}}]}]}}");

	score_pipeline_init(&run.pipeline);
	cr_assert_eq(score_pipeline_add_locality(&run.pipeline, &config, 1, NULL), 0);
	run_pipeline(&run, self, names, 1);
	cr_assert_eq(run.result.nodes[0].fit, SCORE_REJECT_UNRESOLVABLE, "c1 rejected");
	cr_assert_not_null(strstr(run.result.nodes[0].reason,
				  "NetworkPolicy shop/allow-cart: cost 20 to shop/cart-"),
			   "reason: %s", run.result.nodes[0].reason);
	cr_assert_not_null(strstr(run.result.nodes[0].reason,
				  "exceeds maxCost 4 (2 of 2 peers are over the limit)"),
			   "reason: %s", run.result.nodes[0].reason);
	score_result_release(&run.result);
}

Test(locality, score_prefers_rack_then_zone_then_other_zone)
{
	run_result run;
	static const char *const names[] = {"far", "zone", "rack", "same"};
	score_pod *self;
	cJSON *explanation;
	char *text;
	score_request request;

	config.network_policies = true;
	add_node("peers", "r1", "z1", "eu");
	add_node("same", "r1", "z1", "eu");
	add_node("rack", "r1", "z1", "eu");
	add_node("zone", "r2", "z1", "eu");
	add_node("far", "r3", "z2", "eu");
	add_pod("shop", "cart-1", "peers", "app=cart");
	add_pod("shop", "cart-2", "peers", "app=cart");
	add_pod("shop", "cart-3", "same", "app=cart");
	self = add_pod("shop", "web-1", NULL, "app=web");
	add_network_policy(
		"{\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"cart\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");

	score_pipeline_init(&run.pipeline);
	cr_assert_eq(score_pipeline_add_locality(&run.pipeline, &config, 1, NULL), 0);
	cr_assert_eq(run.pipeline.n_filters, 0, "a soft source adds no filter");
	run_pipeline(&run, self, names, 4);

	/* Means: far 20, zone 4, rack 1, same 2/3 (two peers one rack away). */
	cr_assert_eq(run.result.nodes[0].criteria[0], 0, "far: got %lld",
		     (long long)run.result.nodes[0].criteria[0]);
	cr_assert_eq(run.result.nodes[1].criteria[0], 80, "zone: got %lld",
		     (long long)run.result.nodes[1].criteria[0]);
	cr_assert_eq(run.result.nodes[2].criteria[0], 95, "rack: got %lld",
		     (long long)run.result.nodes[2].criteria[0]);
	cr_assert_eq(run.result.nodes[3].criteria[0], 96, "same node as one peer: got %lld",
		     (long long)run.result.nodes[3].criteria[0]);

	request = (score_request){.model = model, .pod = self};
	explanation = score_pipeline_explain(&run.pipeline, &request, 0);
	cr_assert_not_null(explanation, "the scorer explains itself");
	text = cJSON_PrintUnformatted(explanation);
	cr_assert_str_eq(text,
			 "{\"peers\":3,\"nodes\":2,\"sources\":{\"networkPolicies\":3,\"groups\":0,\"exposure\":0},"
			 "\"domains\":{\"" RACK "\":{\"r1\":3},\"" ZONE "\":{\"z1\":3},\"" REGION "\":{\"eu\":3}}}",
			 "explanation: %s", text);
	cJSON_free(text);
	cJSON_Delete(explanation);
	score_result_release(&run.result);
}

Test(locality, pod_without_peers_skips)
{
	run_result run;
	static const char *const names[] = {"a1"};
	score_pod *self;
	score_request request;

	config.network_policies = true;
	add_node("a1", "r1", "z1", "eu");
	self = add_pod("shop", "lonely", NULL, "app=lonely");
	score_pipeline_init(&run.pipeline);
	cr_assert_eq(score_pipeline_add_locality(&run.pipeline, &config, 1, NULL), 0);
	run_pipeline(&run, self, names, 1);
	cr_assert_eq(run.result.nodes[0].criteria[0], SCORE_SKIP, "no peers: skipped, got %lld",
		     (long long)run.result.nodes[0].criteria[0]);
	request = (score_request){.model = model, .pod = self};
	cr_assert_null(score_pipeline_explain(&run.pipeline, &request, 0),
		       "nothing to explain without peers");
	score_result_release(&run.result);
}

Test(locality, victims_do_not_count_as_peers)
{
	score_pod *self;
	score_pod *peer;
	const score_pod *victims[1];
	score_request request;
	score_usage usage = {0};
	void *state;

	config.network_policies = true;
	add_node("a1", "r1", "z1", "eu");
	add_node("b1", "r2", "z2", "eu");
	peer = add_pod("shop", "cart-1", "a1", "app=cart");
	add_pod("shop", "cart-2", "b1", "app=cart");
	self = add_pod("shop", "web-1", NULL, "app=web");
	add_network_policy(
		"{\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"cart\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");

	request = (score_request){.model = model, .pod = self};
	state = score_locality_prepare(&config, &request);
	cr_assert_eq(score_locality(state, &request, node_of("a1"), &usage), 10000,
		     "with both peers the mean is (0 + 20) / 2");
	victims[0] = peer;
	usage.victims = victims;
	usage.n_victims = 1;
	cr_assert_eq(score_locality(state, &request, node_of("a1"), &usage), 20000,
		     "without the victim only the far peer counts");
	score_locality_release_state(state);
}

/* Locality pulls the pod to its peers' node; a soft separation rule
 * pushes it away. The weights decide. */
Test(locality, weights_decide_against_soft_separation)
{
	score_isolation_config isolation;
	score_security_group *group;
	const char *value;
	score_pod *self;
	static const char *const names[] = {"peers", "far"};

	score_isolation_init(&isolation);
	value = "web";
	cr_assert_eq(score_isolation_add_group(&isolation, "web", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &value, 1);
	value = "cart";
	cr_assert_eq(score_isolation_add_group(&isolation, "cart", &group, NULL), 0);
	group->has_pod_selector = true;
	score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN, &value, 1);
	score_isolation_add_separation(&isolation, 0x3, false, "spec.separation[0]");

	config.network_policies = true;
	add_node("peers", "r1", "z1", "eu");
	add_node("far", "r9", "z2", "eu");
	add_pod("shop", "cart-1", "peers", "app=cart");
	self = add_pod("shop", "web-1", NULL, "app=web");
	add_network_policy(
		"{\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"cart\"}},"
		"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}");

	for (int heavy_locality = 0; heavy_locality < 2; heavy_locality++) {
		run_result run;

		score_pipeline_init(&run.pipeline);
		cr_assert_eq(score_pipeline_add_isolation(&run.pipeline, &isolation,
							  heavy_locality ? 1 : 3, NULL), 0);
		cr_assert_eq(score_pipeline_add_locality(&run.pipeline, &config,
							 heavy_locality ? 3 : 1, NULL), 0);
		run_pipeline(&run, self, names, 2);
		/* peers: isolation 50, locality 100; far: isolation 100,
		 * locality 0. */
		if (heavy_locality)
			cr_assert_gt(run.result.nodes[0].total, run.result.nodes[1].total,
				     "locality 3 : isolation 1 picks the peers' node (%lld vs %lld)",
				     (long long)run.result.nodes[0].total,
				     (long long)run.result.nodes[1].total);
		else
			cr_assert_lt(run.result.nodes[0].total, run.result.nodes[1].total,
				     "isolation 3 : locality 1 picks the other node (%lld vs %lld)",
				     (long long)run.result.nodes[0].total,
				     (long long)run.result.nodes[1].total);
		score_result_release(&run.result);
	}
	score_isolation_release(&isolation);
}
