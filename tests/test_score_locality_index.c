/* Tests that the index of cross-namespace NetworkPolicies in
 * scoring/locality.c gives the same peers, with the same policy named for
 * each, as testing every policy with a namespaceSelector. Random small
 * clusters from fixed seeds change between requests, so a list kept past
 * a namespace or policy change would show. Targeted cases cover
 * namespace relabels, additions and removals, policy changes, two models
 * through one config, and many threads at once. */
#include <criterion/criterion.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/network_policy.h"
#include "scoring/locality.h"
#include "scoring/netpol.h"
#include "tests/score_model.h"

#define RACK "topology.stowage.io/rack"
#define ZONE "topology.kubernetes.io/zone"

#define N_NAMESPACES 6
#define N_NODES 4
#define N_APPS 3
#define N_POLICY_NAMES 6
#define N_SEEDS 200
#define N_ROUNDS 12
#define REQUESTS_PER_ROUND 6

#define N_THREADS 4
#define THREAD_PASSES 25

TestSuite(locality_index, .timeout = 60);

/* ---- Helpers shared by every test ---------------------------------------- */

/* Sets up `config` as the tests use it: peers from NetworkPolicies only,
 * and a hard limit of cost 0, so that the filter rejects every node
 * without all the peers and names the policy of the farthest one. */
static void config_init(score_locality_config *config, bool use_index)
{
	score_locality_init(config);
	score_locality_add_level(config, RACK, 1);
	score_locality_add_level(config, ZONE, 4);
	config->default_cost = 100;
	config->network_policies = true;
	config->network_policy_hard = true;
	config->network_policy_max_cost = 0;
	score_locality_use_index(config, use_index);
}

static void put_node(score_model *model, const char *name, const char *rack,
		     const char *zone)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 8000;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	score_labels_set(&node->labels, RACK, rack);
	score_labels_set(&node->labels, ZONE, zone);
	score_model_put_node(model, node);
}

/* Returns a pod of `namespace` (NULL for none) with label app=`app`
 * (NULL for none), running on `node`, or pending when `node` is NULL.
 * The caller frees it or hands it to the model. */
static score_pod *make_pod(const char *uid, const char *namespace,
			   const char *app, const char *node)
{
	score_pod *pod = test_pod_new(uid, namespace, uid, node);

	if (app != NULL)
		score_labels_set(&pod->labels, "app", app);
	return pod;
}

/* Appends the source bits of each peer to `out` as "uid:bits," in uid
 * order, so that two peer tables compare as strings. */
static void format_peers(GHashTable *peers, GString *out)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer pod, bits;

	g_hash_table_iter_init(&iter, peers);
	while (g_hash_table_iter_next(&iter, &pod, &bits))
		g_ptr_array_add(lines, g_strdup_printf("%s:%u,",
						       ((const score_pod *)pod)->uid,
						       GPOINTER_TO_UINT(bits)));
	g_ptr_array_sort(lines, test_compare_strings);
	for (guint i = 0; i < lines->len; i++)
		g_string_append(out, g_ptr_array_index(lines, i));
	g_ptr_array_unref(lines);
}

/* Returns the peers of `pod` under `config` as format_peers() writes
 * them. The caller frees the string with g_free(). */
static char *peers_text(const score_locality_config *config,
			const score_model *model, const score_pod *pod)
{
	GHashTable *peers = score_locality_peers(config, model, pod);
	GString *out = g_string_new(NULL);

	format_peers(peers, out);
	g_hash_table_unref(peers);
	return g_string_free(out, FALSE);
}

/* Returns the sorted uids of the peers of `pod` joined with ",". The
 * caller frees the string with g_free(). */
static char *peer_uids(const score_locality_config *config,
		       const score_model *model, const score_pod *pod)
{
	GHashTable *peers = score_locality_peers(config, model, pod);
	char *uids = test_pod_list(peers, TEST_POD_UID);

	g_hash_table_unref(peers);
	return uids;
}

/* ---- Random clusters ----------------------------------------------------- */

typedef struct world {
	GRand *rand;
	score_resource_table *resources;
	score_model *model;
	score_locality_config indexed;
	score_locality_config scanned;
	GPtrArray *uids; /* interned uids of the pods put in the model */
	int next_uid;
	/* Filter reasons that name a policy of another namespace than the
	 * pending pod's: peers only the cross-namespace policies give. */
	unsigned cross_reasons;
	unsigned requests;
} world;

static bool chance(world *w, double p)
{
	return g_rand_double(w->rand) < p;
}

static int pick(world *w, int n)
{
	return g_rand_int_range(w->rand, 0, n);
}

static const char *namespace_name(int i, char *buf, size_t size)
{
	g_snprintf(buf, size, "ns%d", i);
	return buf;
}

static const char *app_name(world *w, char *buf, size_t size)
{
	g_snprintf(buf, size, "app%d", pick(w, N_APPS));
	return buf;
}

/* Puts namespace `i` with random labels, or relabels it. The API server
 * sets kubernetes.io/metadata.name on every namespace. The label is left
 * out sometimes to cover models filled from other sources. */
static void random_namespace(world *w, int i)
{
	score_labels labels = {0};
	char name[16];

	namespace_name(i, name, sizeof(name));
	if (chance(w, 0.9))
		score_labels_set(&labels, SCORE_NAMESPACE_NAME_LABEL, name);
	if (chance(w, 0.6))
		score_labels_set(&labels, "env", chance(w, 0.5) ? "prod" : "dev");
	if (chance(w, 0.5))
		score_labels_set(&labels, "team", chance(w, 0.5) ? "a" : "b");
	score_model_put_namespace(w->model, name, &labels);
	score_labels_release(&labels);
}

/* Adds zero to two random requirements to a namespace selector. */
static void random_namespace_selector(world *w, score_selector *selector)
{
	char buf[16];
	const char *values[2];

	for (int n = pick(w, 3); n > 0; n--) {
		switch (pick(w, 6)) {
		case 0:
			values[0] = "prod";
			score_selector_add(selector, "env", SCORE_SELECTOR_IN, values, 1);
			break;
		case 1:
			values[0] = "prod";
			values[1] = "dev";
			score_selector_add(selector, "env", SCORE_SELECTOR_IN, values, 2);
			break;
		case 2:
			values[0] = "dev";
			score_selector_add(selector, "env", SCORE_SELECTOR_NOT_IN, values, 1);
			break;
		case 3:
			score_selector_add(selector, "team", SCORE_SELECTOR_EXISTS, NULL, 0);
			break;
		case 4:
			score_selector_add(selector, "team", SCORE_SELECTOR_DOES_NOT_EXIST,
					   NULL, 0);
			break;
		default:
			values[0] = namespace_name(pick(w, N_NAMESPACES), buf, sizeof(buf));
			score_selector_add(selector, SCORE_NAMESPACE_NAME_LABEL,
					   SCORE_SELECTOR_IN, values, 1);
			break;
		}
	}
}

/* Adds app In (appN) to a pod selector, or leaves it empty. */
static void random_pod_selector(world *w, score_selector *selector)
{
	char buf[16];
	const char *value;

	if (chance(w, 0.25))
		return;
	value = app_name(w, buf, sizeof(buf));
	score_selector_add(selector, "app", SCORE_SELECTOR_IN, &value, 1);
}

/* Fills a peer of a random kind: pods of the policy's namespace, pods of
 * the namespaces a selector matches, or an ipBlock. An empty namespace
 * selector matches every namespace, and with no or an empty pod selector
 * the peer matches every pod. */
static void random_peer(world *w, score_network_policy_peer *peer)
{
	peer->has_namespace_selector = chance(w, 0.7);
	peer->has_pod_selector = chance(w, 0.5);
	if (peer->has_namespace_selector)
		random_namespace_selector(w, &peer->namespace_selector);
	if (peer->has_pod_selector)
		random_pod_selector(w, &peer->pod_selector);
	if (!peer->has_namespace_selector && !peer->has_pod_selector)
		peer->ip_block_cidr = g_strdup("10.0.0.0/8");
}

static void random_rules(world *w, score_network_policy_rule **rules,
			 uint32_t *n_rules)
{
	*n_rules = (uint32_t)pick(w, 3);
	*rules = g_new0(score_network_policy_rule, *n_rules);
	for (uint32_t r = 0; r < *n_rules; r++) {
		score_network_policy_rule *rule = &(*rules)[r];

		rule->n_peers = (uint32_t)pick(w, 3);
		rule->peers = g_new0(score_network_policy_peer, rule->n_peers);
		for (uint32_t p = 0; p < rule->n_peers; p++)
			random_peer(w, &rule->peers[p]);
	}
}

/* Puts a random policy. Its key may be that of a policy in the model,
 * which it then replaces. */
static void random_policy(world *w)
{
	score_network_policy *policy = score_network_policy_new();
	char namespace[16], name[16];

	namespace_name(pick(w, N_NAMESPACES), namespace, sizeof(namespace));
	g_snprintf(name, sizeof(name), "p%d", pick(w, N_POLICY_NAMES));
	policy->namespace = score_intern(namespace);
	policy->name = score_intern(name);
	policy->uid = g_strdup("");
	policy->key = g_strdup_printf("%s/%s", namespace, name);
	random_pod_selector(w, &policy->pod_selector);
	policy->ingress = chance(w, 0.85);
	policy->egress = chance(w, 0.5);
	random_rules(w, &policy->ingress_rules, &policy->n_ingress_rules);
	random_rules(w, &policy->egress_rules, &policy->n_egress_rules);
	score_model_put_network_policy(w->model, policy);
}

static void remove_random_policy(world *w)
{
	char key[32];

	g_snprintf(key, sizeof(key), "ns%d/p%d", pick(w, N_NAMESPACES),
		   pick(w, N_POLICY_NAMES));
	score_model_remove_network_policy(w->model, key);
}

static void place_random_pod(world *w)
{
	char uid[16], namespace[16], app[16], node[16];
	score_pod *pod;

	g_snprintf(uid, sizeof(uid), "uid-%d", ++w->next_uid);
	g_snprintf(node, sizeof(node), "n%d", pick(w, N_NODES));
	pod = make_pod(uid, namespace_name(pick(w, N_NAMESPACES), namespace,
					   sizeof(namespace)),
		       app_name(w, app, sizeof(app)), node);
	g_ptr_array_add(w->uids, (gpointer)score_intern(uid));
	score_model_put_pod(w->model, pod);
}

/* Makes one random change to the namespaces, the policies or the pods.
 * A pod change must leave every list as it was. */
static void mutate(world *w)
{
	char name[16];

	switch (pick(w, 8)) {
	case 0:
	case 1:
		random_namespace(w, pick(w, N_NAMESPACES));
		break;
	case 2:
		score_model_remove_namespace(
			w->model, namespace_name(pick(w, N_NAMESPACES), name, sizeof(name)));
		break;
	case 3:
	case 4:
		random_policy(w);
		break;
	case 5:
		remove_random_policy(w);
		break;
	case 6:
		place_random_pod(w);
		break;
	default:
		if (w->uids->len > 0)
			score_model_remove_pod(w->model,
					       g_ptr_array_index(w->uids, pick(w, w->uids->len)));
		break;
	}
}

static void world_init(world *w, guint32 seed)
{
	char name[16];

	memset(w, 0, sizeof(*w));
	w->rand = g_rand_new_with_seed(seed);
	w->resources = score_resource_table_new();
	w->model = score_model_new(w->resources);
	w->uids = g_ptr_array_new_with_free_func((GDestroyNotify)score_unintern);
	config_init(&w->indexed, true);
	config_init(&w->scanned, false);
	for (int i = 0; i < N_NODES; i++) {
		char rack[16];

		g_snprintf(name, sizeof(name), "n%d", i);
		g_snprintf(rack, sizeof(rack), "r%d", i / 2);
		put_node(w->model, name, rack, "z0");
	}
	/* The last namespace starts unknown to the model. */
	for (int i = 0; i < N_NAMESPACES - 1; i++) {
		if (chance(w, 0.8))
			random_namespace(w, i);
	}
	for (int i = 8 + pick(w, 30); i > 0; i--)
		place_random_pod(w);
	for (int i = 2 + pick(w, 8); i > 0; i--)
		random_policy(w);
}

static void world_release(world *w)
{
	g_ptr_array_unref(w->uids);
	score_locality_release(&w->indexed);
	score_locality_release(&w->scanned);
	score_model_free(w->model);
	score_resource_table_free(w->resources);
	g_rand_free(w->rand);
}

/* Returns a pending pod of a random namespace, sometimes of none. The
 * caller frees it with score_pod_free(). */
static score_pod *random_pending_pod(world *w)
{
	char uid[16], namespace[16], app[16];

	g_snprintf(uid, sizeof(uid), "new-%d", ++w->next_uid);
	return make_pod(uid,
			chance(w, 0.05) ? NULL
					: namespace_name(pick(w, N_NAMESPACES), namespace,
							 sizeof(namespace)),
			chance(w, 0.9) ? app_name(w, app, sizeof(app)) : NULL, NULL);
}

/* Counts in `w` the rejections whose reason names a policy of another
 * namespace than `pod`'s. */
static void count_cross_reason(world *w, const score_pod *pod,
			       const char *reason)
{
	const char *key = strstr(reason, "NetworkPolicy ");
	size_t length;

	if (key == NULL || pod->namespace == NULL)
		return;
	key += strlen("NetworkPolicy ");
	length = strlen(pod->namespace);
	if (strncmp(key, pod->namespace, length) != 0 || key[length] != '/')
		w->cross_reasons++;
}

/* Checks that both configs give `pod` the same peers with the same
 * sources, and the same fit and reason on every node. */
static void assert_same_result(world *w, const score_pod *pod, guint32 seed,
			       int round)
{
	score_request request = {.model = w->model, .pod = pod};
	const score_usage usage = {0};
	char *indexed_peers = peers_text(&w->indexed, w->model, pod);
	char *scanned_peers = peers_text(&w->scanned, w->model, pod);
	void *indexed_state, *scanned_state;

	cr_assert_str_eq(indexed_peers, scanned_peers,
			 "seed %u round %d pod %s in %s: peers with the index %s, by testing every policy %s",
			 seed, round, pod->uid, pod->namespace ? pod->namespace : "(none)",
			 indexed_peers, scanned_peers);
	g_free(indexed_peers);
	g_free(scanned_peers);

	indexed_state = score_locality_prepare(&w->indexed, &request);
	scanned_state = score_locality_prepare(&w->scanned, &request);
	for (int i = 0; i < N_NODES; i++) {
		char name[16];
		const score_node *node;
		GString *indexed_reason = g_string_new(NULL);
		GString *scanned_reason = g_string_new(NULL);
		score_fit indexed_fit, scanned_fit;

		g_snprintf(name, sizeof(name), "n%d", i);
		node = score_model_node(w->model, name);
		indexed_fit = score_filter_locality(indexed_state, &request, node,
						    &usage, indexed_reason);
		scanned_fit = score_filter_locality(scanned_state, &request, node,
						    &usage, scanned_reason);
		cr_assert_eq(indexed_fit, scanned_fit,
			     "seed %u round %d pod %s node %s: fit with the index %d, by testing every policy %d",
			     seed, round, pod->uid, name, indexed_fit, scanned_fit);
		cr_assert_str_eq(indexed_reason->str, scanned_reason->str,
				 "seed %u round %d pod %s node %s: reason with the index \"%s\", by testing every policy \"%s\"",
				 seed, round, pod->uid, name, indexed_reason->str,
				 scanned_reason->str);
		count_cross_reason(w, pod, indexed_reason->str);
		g_string_free(indexed_reason, TRUE);
		g_string_free(scanned_reason, TRUE);
	}
	score_locality_release_state(indexed_state);
	score_locality_release_state(scanned_state);
	w->requests++;
}

Test(locality_index, random_clusters_match_scan)
{
	unsigned cross_reasons = 0, requests = 0;

	for (guint32 seed = 1; seed <= N_SEEDS; seed++) {
		world w;

		world_init(&w, seed);
		for (int round = 0; round < N_ROUNDS; round++) {
			for (int r = 0; r < REQUESTS_PER_ROUND; r++) {
				score_pod *pod = random_pending_pod(&w);

				assert_same_result(&w, pod, seed, round);
				score_pod_free(pod);
			}
			/* A request for a pod of the model, which is never
			 * its own peer. */
			if (w.uids->len > 0) {
				score_pod *own = score_model_pod(
					w.model, g_ptr_array_index(w.uids, pick(&w, w.uids->len)));

				if (own != NULL)
					assert_same_result(&w, own, seed, round);
			}
			for (int m = 1 + pick(&w, 2); m > 0; m--)
				mutate(&w);
		}
		cross_reasons += w.cross_reasons;
		requests += w.requests;
		world_release(&w);
	}
	/* Without rejections that only cross-namespace policies explain,
	 * the comparison would not reach the index. */
	cr_assert_geq(cross_reasons, 5000,
		      "%u filter reasons over %u requests name a policy of another namespace; expected at least 5000",
		      cross_reasons, requests);
}

/* ---- Targeted cases ------------------------------------------------------ */

/* A cluster with a dns pod in namespace "shared" and a pending client in
 * "team-a", and two configs: with the index and without. */
typedef struct fixture {
	score_resource_table *resources;
	score_model *model;
	score_locality_config indexed;
	score_locality_config scanned;
	score_pod *client; /* pending, owned */
} fixture;

static void fixture_init(fixture *f)
{
	f->resources = score_resource_table_new();
	f->model = score_model_new(f->resources);
	config_init(&f->indexed, true);
	config_init(&f->scanned, false);
	put_node(f->model, "n0", "r0", "z0");
	put_node(f->model, "n1", "r1", "z0");
	test_model_put_namespace(f->model, "shared", "kubernetes.io/metadata.name=shared");
	test_model_put_namespace(f->model, "team-a",
				 "kubernetes.io/metadata.name=team-a,tenant=a");
	score_model_put_pod(f->model, make_pod("dns-1", "shared", "dns", "n0"));
	score_model_put_pod(f->model, make_pod("metrics-1", "shared", "metrics", "n1"));
	f->client = make_pod("client", "team-a", "client", NULL);
}

static void fixture_release(fixture *f)
{
	score_pod_free(f->client);
	score_locality_release(&f->indexed);
	score_locality_release(&f->scanned);
	score_model_free(f->model);
	score_resource_table_free(f->resources);
}

/* A policy of "shared" that lets the namespaces with tenant=`tenant`
 * reach the pods with app=`app`. */
static void put_tenant_policy(score_model *model, const char *name,
			      const char *app, const char *tenant)
{
	char *json = g_strdup_printf(
		"{\"metadata\":{\"name\":\"%s\",\"namespace\":\"shared\"},\"spec\":{"
		"\"podSelector\":{\"matchLabels\":{\"app\":\"%s\"}},"
		"\"ingress\":[{\"from\":[{\"namespaceSelector\":"
		"{\"matchLabels\":{\"tenant\":\"%s\"}}}]}]}}",
		name, app, tenant);

	test_model_put_network_policy(model, json);
	g_free(json);
}

/* Checks the client's peers with the index against `expected` (sorted
 * uids joined with ","), and against the config without the index. */
static void assert_client_peers(fixture *f, const char *step,
				const char *expected)
{
	char *indexed = peer_uids(&f->indexed, f->model, f->client);
	char *scanned = peer_uids(&f->scanned, f->model, f->client);

	cr_assert_str_eq(indexed, expected,
			 "%s: peers with the index \"%s\", expected \"%s\"", step,
			 indexed, expected);
	cr_assert_str_eq(scanned, expected,
			 "%s: peers without the index \"%s\", expected \"%s\"", step,
			 scanned, expected);
	g_free(indexed);
	g_free(scanned);
}

Test(locality_index, namespace_relabel)
{
	fixture f;

	fixture_init(&f);
	put_tenant_policy(f.model, "dns", "dns", "a");
	assert_client_peers(&f, "tenant=a", "dns-1");

	test_model_put_namespace(f.model, "team-a", "kubernetes.io/metadata.name=team-a,tenant=b");
	assert_client_peers(&f, "relabelled tenant=b", "");

	test_model_put_namespace(f.model, "team-a", "kubernetes.io/metadata.name=team-a,tenant=a");
	assert_client_peers(&f, "relabelled back to tenant=a", "dns-1");
	fixture_release(&f);
}

Test(locality_index, namespace_added)
{
	fixture f;

	fixture_init(&f);
	score_pod_free(f.client);
	f.client = make_pod("client", "team-c", "client", NULL);
	put_tenant_policy(f.model, "dns", "dns", "c");
	/* A namespaceSelector on the name label matches a namespace the
	 * model has not seen, as the API server labels every namespace. */
	test_model_put_network_policy(f.model,
				      "{\"metadata\":{\"name\":\"metrics\","
				      "\"namespace\":\"shared\"},\"spec\":{"
				      "\"podSelector\":{\"matchLabels\":{\"app\":\"metrics\"}},"
				      "\"ingress\":[{\"from\":[{\"namespaceSelector\":"
				      "{\"matchLabels\":"
				      "{\"kubernetes.io/metadata.name\":\"team-c\"}}}]}]}}");
	assert_client_peers(&f, "team-c unknown", "metrics-1");

	test_model_put_namespace(f.model, "team-c", "kubernetes.io/metadata.name=team-c,tenant=c");
	assert_client_peers(&f, "team-c added with tenant=c", "dns-1,metrics-1");
	fixture_release(&f);
}

Test(locality_index, namespace_removed)
{
	fixture f;

	fixture_init(&f);
	put_tenant_policy(f.model, "dns", "dns", "a");
	assert_client_peers(&f, "team-a with tenant=a", "dns-1");

	cr_assert(score_model_remove_namespace(f.model, "team-a"),
		  "removing namespace team-a: expected true, got false");
	assert_client_peers(&f, "team-a removed", "");

	test_model_put_namespace(f.model, "team-a", "tenant=a");
	assert_client_peers(&f, "team-a back without the name label", "dns-1");
	fixture_release(&f);
}

Test(locality_index, policies_come_and_go)
{
	fixture f;

	fixture_init(&f);
	assert_client_peers(&f, "no policies", "");

	put_tenant_policy(f.model, "dns", "dns", "a");
	assert_client_peers(&f, "dns policy added", "dns-1");

	put_tenant_policy(f.model, "metrics", "metrics", "a");
	assert_client_peers(&f, "metrics policy added", "dns-1,metrics-1");

	put_tenant_policy(f.model, "dns", "dns", "z");
	assert_client_peers(&f, "dns policy replaced for tenant=z", "metrics-1");

	cr_assert(score_model_remove_network_policy(f.model, "shared/metrics"),
		  "removing shared/metrics: expected true, got false");
	assert_client_peers(&f, "metrics policy removed", "");

	put_tenant_policy(f.model, "dns", "dns", "a");
	assert_client_peers(&f, "dns policy replaced back for tenant=a", "dns-1");
	fixture_release(&f);
}

/* Peers that name no pod through a namespace: an ipBlock, an empty
 * namespaceSelector with no podSelector (every pod of the cluster), and a
 * direction the policy does not isolate. */
Test(locality_index, peers_without_namespace_match)
{
	fixture f;

	fixture_init(&f);
	test_model_put_network_policy(f.model,
				      "{\"metadata\":{\"name\":\"blocks\","
				      "\"namespace\":\"shared\"},\"spec\":{"
				      "\"podSelector\":{},"
				      "\"ingress\":[{\"from\":["
				      "{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"}},"
				      "{\"namespaceSelector\":{}}]}]}}");
	test_model_put_network_policy(f.model,
				      "{\"metadata\":{\"name\":\"egress-only-rules\","
				      "\"namespace\":\"shared\"},"
				      "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],"
				      "\"egress\":[{\"to\":[{\"namespaceSelector\":"
				      "{\"matchLabels\":{\"tenant\":\"a\"}}}]}]}}");
	assert_client_peers(&f, "ipBlock, match-all and unisolated peers", "");

	/* A pod without a namespace gets no peers from other namespaces. */
	score_pod_free(f.client);
	f.client = make_pod("client", NULL, "client", NULL);
	assert_client_peers(&f, "pod without a namespace", "");
	fixture_release(&f);
}

Test(locality_index, two_models_one_config)
{
	fixture a, b;

	fixture_init(&a);
	fixture_init(&b);
	put_tenant_policy(a.model, "dns", "dns", "a");
	put_tenant_policy(b.model, "metrics", "metrics", "a");
	for (int i = 0; i < 3; i++) {
		char *from_a = peer_uids(&a.indexed, a.model, a.client);
		char *from_b = peer_uids(&a.indexed, b.model, b.client);

		cr_assert_str_eq(from_a, "dns-1",
				 "pass %d, model a: peers \"%s\", expected \"dns-1\"", i,
				 from_a);
		cr_assert_str_eq(from_b, "metrics-1",
				 "pass %d, model b through a's config: peers \"%s\", expected \"metrics-1\"",
				 i, from_b);
		g_free(from_a);
		g_free(from_b);
	}
	fixture_release(&a);
	fixture_release(&b);
}

Test(locality_index, turned_off_and_on)
{
	fixture f;

	fixture_init(&f);
	put_tenant_policy(f.model, "dns", "dns", "a");
	assert_client_peers(&f, "index on", "dns-1");
	score_locality_use_index(&f.indexed, false);
	cr_assert_null(f.indexed.cross_namespace_index,
		       "index after turning it off: expected NULL, got %p",
		       (void *)f.indexed.cross_namespace_index);
	assert_client_peers(&f, "index off", "dns-1");
	score_locality_use_index(&f.indexed, true);
	score_locality_use_index(&f.indexed, true);
	cr_assert_not_null(f.indexed.cross_namespace_index,
			   "index after turning it on: expected one, got NULL");
	assert_client_peers(&f, "index on again", "dns-1");
	fixture_release(&f);
}

/* ---- Threads ------------------------------------------------------------- */

/* Pending pods, the peers each should get, and a count of the requests
 * that got others, shared by the threads of one pass. */
typedef struct thread_work {
	const score_locality_config *config;
	const score_model *model;
	GPtrArray *pods;     /* score_pod, owned */
	GPtrArray *expected; /* char *, from peers_text(), owned */
	gint mismatches;
	guint offset;
} thread_work;

static gpointer run_requests(gpointer data)
{
	thread_work *work = data;
	guint start = (guint)g_atomic_int_add((gint *)&work->offset, 1);

	for (int pass = 0; pass < THREAD_PASSES; pass++) {
		for (guint i = 0; i < work->pods->len; i++) {
			guint k = (start + i) % work->pods->len;
			char *peers = peers_text(work->config, work->model,
						 g_ptr_array_index(work->pods, k));

			if (strcmp(peers, g_ptr_array_index(work->expected, k)) != 0)
				g_atomic_int_inc(&work->mismatches);
			g_free(peers);
		}
	}
	return NULL;
}

/* Starts N_THREADS threads on the indexed config while the model holds
 * still, as the scheduler's read lock guarantees, and checks that none
 * got other peers than testing every policy gives. */
static void run_threads(world *w, guint32 seed, int phase)
{
	thread_work work = {.config = &w->indexed, .model = w->model};
	GThread *threads[N_THREADS];

	work.pods = g_ptr_array_new_with_free_func((GDestroyNotify)score_pod_free);
	work.expected = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < 24; i++) {
		score_pod *pod = random_pending_pod(w);

		g_ptr_array_add(work.pods, pod);
		g_ptr_array_add(work.expected, peers_text(&w->scanned, w->model, pod));
	}
	for (int t = 0; t < N_THREADS; t++)
		threads[t] = g_thread_new("locality-index", run_requests, &work);
	for (int t = 0; t < N_THREADS; t++)
		g_thread_join(threads[t]);
	cr_assert_eq(g_atomic_int_get(&work.mismatches), 0,
		     "seed %u phase %d: %d of %d threaded requests got other peers than testing every policy; expected 0",
		     seed, phase, g_atomic_int_get(&work.mismatches),
		     N_THREADS * THREAD_PASSES * (int)work.pods->len);
	g_ptr_array_unref(work.pods);
	g_ptr_array_unref(work.expected);
}

/* Each phase starts on lists of the previous generation, so the threads
 * race to replace them. */
Test(locality_index, threads_share_index)
{
	for (guint32 seed = 101; seed <= 104; seed++) {
		world w;

		world_init(&w, seed);
		for (int phase = 0; phase < 4; phase++) {
			run_threads(&w, seed, phase);
			random_namespace(&w, pick(&w, N_NAMESPACES));
			random_policy(&w);
		}
		world_release(&w);
	}
}
