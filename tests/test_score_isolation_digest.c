/* Tests that the isolation filter and scorer give the same fit, reason
 * and score with their per-node digests (scoring/isolation.c) as when
 * walking every pod. Clusters and configs are random from fixed seeds.
 * Pods, namespaces and Services change between rounds, so a stale digest
 * would show. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/isolation.h"

#define N_TENANTS 6
#define N_NAMESPACES 8
#define N_NODES 5
#define N_APPS 4

typedef struct world {
	GRand *rand;
	score_resource_table *resources;
	score_model *model;
	score_isolation_config config;
	GPtrArray *uids; /* interned uids of the pods put in the model */
	int next_uid;
} world;

TestSuite(isolation_digest, .timeout = 60);

static bool chance(world *w, double p)
{
	return g_rand_double(w->rand) < p;
}

static int pick(world *w, int n)
{
	return g_rand_int_range(w->rand, 0, n);
}

static void name_of(char *buf, size_t size, const char *prefix, int i)
{
	g_snprintf(buf, size, "%s%d", prefix, i);
}

/* Namespace ns0..ns5 of tenants, ns6 without a tenant, ns7 the second
 * infrastructure namespace; kube-system is the default one. */
static const char *namespace_name(int i, char *buf, size_t size)
{
	if (i == N_NAMESPACES - 1)
		return "kube-system";
	name_of(buf, size, "ns", i);
	return buf;
}

static void put_namespace(world *w, int i)
{
	score_labels labels = {0};
	char buf[16], tenant[16];
	const char *name = namespace_name(i, buf, sizeof(buf));

	score_labels_set(&labels, "kubernetes.io/metadata.name", name);
	if (i < N_TENANTS && chance(w, 0.8)) {
		name_of(tenant, sizeof(tenant), "t", chance(w, 0.8) ? i : pick(w, N_TENANTS));
		score_labels_set(&labels, SCORE_DEFAULT_TENANT_LABEL, tenant);
	}
	if (chance(w, 0.5))
		score_labels_set(&labels, "env", chance(w, 0.5) ? "prod" : "dev");
	score_model_put_namespace(w->model, name, &labels);
	score_labels_release(&labels);
}

static void put_node(world *w, int i)
{
	score_node *node = score_node_new();
	char name[16];

	name_of(name, sizeof(name), "n", i);
	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 64000;
	node->allocatable.v[SCORE_RES_PODS] = 250;
	if (i == 0)
		score_labels_set(&node->labels, "pool", "t0");
	score_model_put_node(w->model, node);
}

static score_pod *random_pod(world *w)
{
	score_pod *pod = score_pod_new();
	char buf[32];

	g_snprintf(buf, sizeof(buf), "uid-%d", ++w->next_uid);
	pod->uid = score_intern(buf);
	pod->name = score_intern(buf + 4);
	pod->namespace = score_intern(namespace_name(pick(w, N_NAMESPACES), buf,
						     sizeof(buf)));
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	name_of(buf, sizeof(buf), "app", pick(w, N_APPS));
	score_labels_set(&pod->labels, "app", buf);
	if (chance(w, 0.3)) {
		name_of(buf, sizeof(buf), "t", pick(w, N_TENANTS));
		score_labels_set(&pod->labels, SCORE_DEFAULT_TENANT_LABEL, buf);
	}
	if (chance(w, 0.1)) {
		name_of(buf, sizeof(buf), "t", pick(w, N_TENANTS));
		score_pod_set_tenant(pod, buf);
	}
	pod->host_network = chance(w, 0.06);
	pod->privileged = chance(w, 0.06);
	pod->uses_host_path = chance(w, 0.04);
	if (chance(w, 0.3))
		pod->runtime_class_name = score_intern(chance(w, 0.7) ? "gvisor" : "runc");
	if (chance(w, 0.1)) {
		pod->host_ports = g_new(score_host_port, 1);
		pod->host_ports[0] = (score_host_port){NULL, 8000 + pick(w, 3),
						       SCORE_PROTOCOL_TCP};
		pod->n_host_ports = 1;
	}
	return pod;
}

static void place_random_pod(world *w)
{
	score_pod *pod = random_pod(w);
	char node[16];

	name_of(node, sizeof(node), "n", pick(w, N_NODES));
	pod->node_name = score_intern(node);
	g_ptr_array_add(w->uids, (gpointer)score_intern(pod->uid));
	score_model_put_pod(w->model, pod);
}

static void put_service(world *w)
{
	score_service *service = score_service_new();
	char buf[16];

	service->namespace = score_intern(namespace_name(pick(w, N_NAMESPACES), buf,
							 sizeof(buf)));
	name_of(buf, sizeof(buf), "svc", pick(w, 3));
	service->name = score_intern(buf);
	service->type = (score_service_type)pick(w, 3);
	name_of(buf, sizeof(buf), "app", pick(w, N_APPS));
	score_labels_set(&service->selector, "app", buf);
	service->ports = g_new(score_service_port, 1);
	service->ports[0] = (score_service_port){SCORE_PROTOCOL_TCP, 443,
						 service->type == SCORE_SERVICE_CLUSTER_IP ? 0 : 30443};
	service->n_ports = 1;
	service->has_external_ips = chance(w, 0.2);
	score_model_put_service(w->model, service);
}

static void add_group(world *w, int index)
{
	score_security_group *group = NULL;
	score_error err = {0};
	char name[16], app[16];

	name_of(name, sizeof(name), "g", index);
	cr_assert_eq(score_isolation_add_group(&w->config, name, &group, &err), 0,
		     "adding group %s failed: %s", name, err.message);
	if (chance(w, 0.7)) {
		const char *value;

		name_of(app, sizeof(app), "app", pick(w, N_APPS));
		value = app;
		group->has_pod_selector = true;
		score_selector_add(&group->pod_selector, "app", SCORE_SELECTOR_IN,
				   &value, 1);
	}
	if (chance(w, 0.3)) {
		const char *value = "prod";

		group->has_namespace_selector = true;
		score_selector_add(&group->namespace_selector, "env",
				   SCORE_SELECTOR_IN, &value, 1);
	}
	if (chance(w, 0.4) || (!group->has_pod_selector &&
			       !group->has_namespace_selector)) {
		group->has_exposure = true;
		group->exposure.any_protocol = true;
	}
}

static void random_config(world *w)
{
	score_isolation_config *config = &w->config;
	char a[16], b[16];
	int n_groups;

	score_isolation_init(config);
	config->tenants_enabled = chance(w, 0.85);
	config->tenancy = (score_tenancy)pick(w, 3);
	config->tenant_source = (score_tenant_source)pick(w, 3);
	if (chance(w, 0.5))
		g_ptr_array_add(config->infrastructure_namespaces,
				(gpointer)score_intern("ns6"));
	config->sandbox_enabled = chance(w, 0.5);
	g_ptr_array_add(config->sandbox_runtime_classes,
			(gpointer)score_intern("gvisor"));
	config->allow_sharing_with_unsandboxed = chance(w, 0.5);
	for (int i = pick(w, 10); i > 0; i--) {
		name_of(a, sizeof(a), "t", pick(w, N_TENANTS));
		name_of(b, sizeof(b), "t", pick(w, N_TENANTS));
		score_isolation_add_trust(config, a, b);
		if (chance(w, 0.6))
			score_isolation_add_trust(config, b, a);
	}
	if (chance(w, 0.3)) {
		score_dedicated_pool *pool =
			score_isolation_add_pool(config, "t0", "pool-t0");
		const char *value = "t0";

		score_selector_add(&pool->node_selector, "pool",
				   SCORE_SELECTOR_IN, &value, 1);
	}
	n_groups = pick(w, 4);
	for (int i = 0; i < n_groups; i++)
		add_group(w, i);
	for (int i = n_groups >= 2 ? 1 + pick(w, 2) : 0; i > 0; i--) {
		uint64_t groups = 0;

		while (__builtin_popcountll(groups) < 2)
			groups |= UINT64_C(1) << pick(w, n_groups);
		score_isolation_add_separation(config, groups, chance(w, 0.5),
					       "random-rule");
	}
}

static void world_init(world *w, guint32 seed)
{
	memset(w, 0, sizeof(*w));
	w->rand = g_rand_new_with_seed(seed);
	w->resources = score_resource_table_new();
	w->model = score_model_new(w->resources);
	w->uids = g_ptr_array_new_with_free_func((GDestroyNotify)score_unintern);
	random_config(w);
	for (int i = 0; i < N_NAMESPACES; i++)
		put_namespace(w, i);
	for (int i = 0; i < N_NODES; i++)
		put_node(w, i);
	for (int i = pick(w, 60); i > 0; i--)
		place_random_pod(w);
	for (int i = pick(w, 4); i > 0; i--)
		put_service(w);
}

static void world_release(world *w)
{
	g_ptr_array_unref(w->uids);
	score_isolation_release(&w->config);
	score_model_free(w->model);
	score_resource_table_free(w->resources);
	g_rand_free(w->rand);
}

/* Returns a random pod of the model, or NULL when it has none. */
static score_pod *random_model_pod(world *w)
{
	for (int tries = 0; tries < 8 && w->uids->len > 0; tries++) {
		const char *uid = g_ptr_array_index(w->uids, pick(w, w->uids->len));
		score_pod *pod = score_model_pod(w->model, uid);

		if (pod != NULL)
			return pod;
	}
	return NULL;
}

/* Replaces a model pod with a copy that differs in node, phase or host
 * access. */
static void change_pod(world *w)
{
	score_pod *old = random_model_pod(w);
	score_pod *pod;
	char node[16];

	if (old == NULL)
		return;
	pod = score_pod_new();
	pod->uid = score_intern(old->uid);
	pod->name = score_intern(old->name);
	pod->namespace = score_intern(old->namespace);
	for (uint32_t i = 0; i < old->labels.count; i++)
		score_labels_set(&pod->labels, old->labels.items[i].key,
				 old->labels.items[i].value);
	score_pod_set_tenant(pod, old->tenant);
	pod->request = old->request;
	pod->nonzero_request = old->request;
	pod->runtime_class_name = score_intern(old->runtime_class_name);
	pod->phase = chance(w, 0.2) ? SCORE_POD_SUCCEEDED : SCORE_POD_RUNNING;
	pod->privileged = chance(w, 0.1);
	if (chance(w, 0.8)) {
		name_of(node, sizeof(node), "n", pick(w, N_NODES));
		pod->node_name = score_intern(node);
	}
	score_model_put_pod(w->model, pod);
}

static void assume_pod(world *w)
{
	score_pod *pod = random_pod(w);
	score_error err = {0};
	char node[16];
	int rc;

	g_ptr_array_add(w->uids, (gpointer)score_intern(pod->uid));
	score_model_put_pod(w->model, pod);
	name_of(node, sizeof(node), "n", pick(w, N_NODES));
	rc = score_model_assume(w->model, g_ptr_array_index(w->uids, w->uids->len - 1),
				node, 1000, &err);
	cr_assert_eq(rc, 0, "assume on %s failed: %s", node, err.message);
}

/* One random change of the kinds that must invalidate digests. */
static void mutate(world *w)
{
	char namespace[16], name[16];
	int change = pick(w, 10);

	switch (change) {
	case 0:
		place_random_pod(w);
		break;
	case 1:
	case 2:
		change_pod(w);
		break;
	case 3:
		if (w->uids->len > 0)
			score_model_remove_pod(w->model,
					       g_ptr_array_index(w->uids, pick(w, w->uids->len)));
		break;
	case 4:
		put_namespace(w, pick(w, N_NAMESPACES));
		break;
	case 5:
		put_service(w);
		break;
	case 6:
		name_of(name, sizeof(name), "svc", pick(w, 3));
		score_model_remove_service(w->model,
					   namespace_name(pick(w, N_NAMESPACES), namespace,
							  sizeof(namespace)),
					   name);
		break;
	case 8: {
		/* Moves a node without pods to another index: a spare node
		 * takes the freed one, and the snapshot's entry there names
		 * the old node. A node with pods keeps its index. */
		int k = pick(w, N_NODES);
		score_node *spare = score_node_new();

		name_of(name, sizeof(name), "n", k);
		score_model_remove_node(w->model, name);
		spare->name = score_intern("spare");
		score_model_put_node(w->model, spare);
		put_node(w, k);
		score_model_remove_node(w->model, "spare");
		break;
	}
	case 7:
		assume_pod(w);
		if (chance(w, 0.5))
			score_model_expire_assumed(w->model, 5000, 1000);
		break;
	default:
		score_model_remove_namespace(w->model,
					     namespace_name(pick(w, N_NAMESPACES), namespace,
							    sizeof(namespace)));
		break;
	}
}

/* Compares both paths for `pod` on every node; `victim` (may be NULL) is
 * evicted on the node that runs it. */
static void compare_all_nodes(world *w, const score_pod *pod,
			      const score_pod *victim, guint32 seed, int round)
{
	score_request request = {.model = w->model, .pod = pod};

	for (int i = 0; i < N_NODES; i++) {
		char name[16];
		const score_node *node;
		const score_pod *victims[1] = {victim};
		score_candidate candidate = {0};
		score_usage usage;
		GString *fast = g_string_new(NULL);
		GString *walk = g_string_new(NULL);
		score_fit fast_fit, walk_fit;
		int64_t fast_score, walk_score;

		name_of(name, sizeof(name), "n", i);
		node = score_model_node(w->model, name);
		candidate = (score_candidate){name, node, NULL, 0};
		if (victim != NULL && victim->node_name == node->name) {
			candidate.victims = victims;
			candidate.n_victims = 1;
		}
		score_candidate_usage(&candidate, &usage);

		fast_fit = score_filter_isolation(&w->config, &request, node, &usage, fast);
		walk_fit = score_filter_isolation_walk(&w->config, &request, node,
						       &usage, walk);
		fast_score = score_isolation(&w->config, &request, node, &usage);
		walk_score = score_isolation_walk(&w->config, &request, node, &usage);

		cr_assert_eq(fast_fit, walk_fit,
			     "seed %u round %d pod %s node %s: digest fit %d, walk fit %d",
			     seed, round, pod->uid, name, fast_fit, walk_fit);
		cr_assert_str_eq(fast->str, walk->str,
				 "seed %u round %d pod %s node %s:\n  digest %s\n  walk   %s",
				 seed, round, pod->uid, name, fast->str, walk->str);
		cr_assert_eq(fast_score, walk_score,
			     "seed %u round %d pod %s node %s: digest score %lld, walk score %lld",
			     seed, round, pod->uid, name, (long long)fast_score,
			     (long long)walk_score);
		g_string_free(fast, TRUE);
		g_string_free(walk, TRUE);
	}
}

static void compare_round(world *w, guint32 seed, int round)
{
	for (int p = 0; p < 6; p++) {
		score_pod *incoming = random_pod(w);
		const score_pod *victim = chance(w, 0.2) ? random_model_pod(w) : NULL;

		compare_all_nodes(w, incoming, victim, seed, round);
		score_pod_free(incoming);
	}
	/* A pod already counted on a node is its own neighbour nowhere. */
	{
		const score_pod *known = random_model_pod(w);

		if (known != NULL)
			compare_all_nodes(w, known, NULL, seed, round);
	}
}

Test(isolation_digest, random_clusters_match_walk)
{
	for (guint32 seed = 1; seed <= 300; seed++) {
		world w;

		world_init(&w, seed);
		for (int round = 0; round < 8; round++) {
			compare_round(&w, seed, round);
			for (int m = 1 + pick(&w, 3); m > 0; m--)
				mutate(&w);
		}
		world_release(&w);
	}
}

/* Long runs rebuild every node's digest many times, so the cache folds
 * them into new snapshots. Namespace and Service changes must not start
 * a full build again. */
Test(isolation_digest, folds_match_walk_without_full_rebuilds)
{
	uint64_t folds = 0;

	for (guint32 seed = 501; seed <= 540; seed++) {
		world w;
		score_isolation_stats stats;
		bool reads;

		world_init(&w, seed);
		reads = (w.config.tenants_enabled &&
			 w.config.tenancy != SCORE_TENANCY_NONE) ||
			w.config.n_separations > 0;
		for (int round = 0; round < 40; round++) {
			compare_round(&w, seed, round);
			for (int m = 1 + pick(&w, 4); m > 0; m--)
				mutate(&w);
		}
		score_isolation_cache_stats(&w.config, &stats);
		cr_assert_eq(stats.full_builds, reads ? 1u : 0u,
			     "seed %u: expected %d full builds, got %llu", seed,
			     reads ? 1 : 0, (unsigned long long)stats.full_builds);
		folds += stats.folds;
		world_release(&w);
	}
	cr_assert_gt(folds, 0, "40 long runs folded no rebuilt digest into a snapshot");
}

/* A warmed config scores requests from its snapshot: no request builds
 * one, and the results equal the walk's. */
Test(isolation_digest, warm_builds_the_snapshot_once)
{
	world w;
	score_isolation_stats stats;

	world_init(&w, 77);
	w.config.tenants_enabled = true;
	w.config.tenancy = SCORE_TENANCY_STRICT;
	score_isolation_warm(&w.config, w.model);
	score_isolation_cache_stats(&w.config, &stats);
	cr_assert_eq(stats.full_builds, 1, "after warm: expected 1 build, got %llu",
		     (unsigned long long)stats.full_builds);
	cr_assert_eq(stats.snapshot_digests, N_NODES,
		     "expected a digest per node (%d), got %u", N_NODES,
		     stats.snapshot_digests);
	for (int round = 0; round < 4; round++) {
		compare_round(&w, 77, round);
		put_namespace(&w, pick(&w, N_NAMESPACES));
		put_service(&w);
	}
	score_isolation_cache_stats(&w.config, &stats);
	cr_assert_eq(stats.full_builds, 1, "after requests: expected 1 build, got %llu",
		     (unsigned long long)stats.full_builds);
	world_release(&w);
}

/* Digests must not leak across models: with one config, two models with
 * equal node names each get their own result. */
Test(isolation_digest, one_config_two_models)
{
	world a, b;

	world_init(&a, 1001);
	world_init(&b, 1002);
	for (int round = 0; round < 6; round++) {
		score_isolation_config swap = b.config;

		compare_round(&a, 1001, round);
		/* b runs with a's config, whose digests describe a. */
		b.config = a.config;
		compare_round(&b, 1002, round);
		b.config = swap;
		mutate(&a);
		mutate(&b);
	}
	world_release(&a);
	world_release(&b);
}

/* The preferred scorer in the pipeline shares one prepared state between
 * requests' filter and scorer; compare it with the walk. */
Test(isolation_digest, pipeline_matches_walk)
{
	for (guint32 seed = 2001; seed <= 2040; seed++) {
		world w;
		score_pipeline pipeline;
		score_error err = {0};
		score_candidate candidates[N_NODES];
		char names[N_NODES][16];

		world_init(&w, seed);
		score_pipeline_init(&pipeline);
		cr_assert_eq(score_pipeline_add_isolation(&pipeline, &w.config, 1, &err), 0,
			     "adding isolation failed: %s", err.message);
		for (int round = 0; round < 4; round++) {
			score_pod *incoming = random_pod(&w);
			score_request request = {.model = w.model, .pod = incoming};
			score_result result = {0};

			request.cache = score_request_cache_new();
			for (int i = 0; i < N_NODES; i++) {
				name_of(names[i], sizeof(names[i]), "n", i);
				candidates[i] = (score_candidate){
					names[i], score_model_node(w.model, names[i]), NULL, 0};
			}
			score_pipeline_filter(&pipeline, &request, candidates, N_NODES, &result);
			score_pipeline_score(&pipeline, &request, candidates, &result);
			for (int i = 0; i < N_NODES; i++) {
				const score_node_result *node = &result.nodes[i];
				score_usage usage;
				int64_t expected;

				score_candidate_usage(&candidates[i], &usage);
				if (node->fit != SCORE_FIT || pipeline.n_scorers == 0)
					continue;
				expected = score_isolation_walk(&w.config, &request,
								candidates[i].node, &usage);
				cr_assert_eq(node->criteria[0], expected,
					     "seed %u round %d node %s: pipeline score %lld, walk %lld",
					     seed, round, names[i], (long long)node->criteria[0],
					     (long long)expected);
			}
			score_result_release(&result);
			score_request_cache_free(request.cache);
			score_pod_free(incoming);
			mutate(&w);
		}
		world_release(&w);
	}
}

/* ---- Two readers and a writer ------------------------------------------- */

#define READER_BATCHES 120
#define BATCH_PODS 4
#define SAMPLE_PODS 16

/* Two reader threads run requests on one config and one model under a
 * GRWLock's read side, as scheduler/ runs extender calls, while the main
 * thread changes the model under the write side between batches. Reader
 * batch b waits for b / 2 changes and change i for i + 1 finished
 * batches, so changes land between batches of both readers. */
typedef struct shared_run {
	world *w;
	const score_pipeline *pipeline;
	score_pod *pods[SAMPLE_PODS]; /* not in the model */
	GRWLock model_lock;
	GMutex progress_lock;
	GCond progress;
	int batches_done;
	int changes_done;
	int mismatches;
	char first_mismatch[256];
} shared_run;

typedef struct reader {
	shared_run *run;
	int index;
} reader;

static void record_mismatch(shared_run *run, const char *what,
			    const char *node, long long digest, long long walk)
{
	g_mutex_lock(&run->progress_lock);
	if (run->mismatches++ == 0)
		g_snprintf(run->first_mismatch, sizeof(run->first_mismatch),
			   "%s on node %s: digest %lld, walk %lld", what, node,
			   digest, walk);
	g_mutex_unlock(&run->progress_lock);
}

/* Compares the pipeline's shared state and the direct calls with the
 * walk for `pod` on every node. Called with the read lock held. */
static void check_request(shared_run *run, const score_pod *pod)
{
	score_request request = {.model = run->w->model, .pod = pod};
	score_candidate candidates[N_NODES];
	char names[N_NODES][16];
	score_result result = {0};

	for (int i = 0; i < N_NODES; i++) {
		name_of(names[i], sizeof(names[i]), "n", i);
		candidates[i] = (score_candidate){
			names[i], score_model_node(run->w->model, names[i]), NULL, 0};
	}
	request.cache = score_request_cache_new();
	score_pipeline_filter(run->pipeline, &request, candidates, N_NODES, &result);
	score_pipeline_score(run->pipeline, &request, candidates, &result);

	for (int i = 0; i < N_NODES; i++) {
		const score_node *node = candidates[i].node;
		GString *fast = g_string_new(NULL);
		GString *walk = g_string_new(NULL);
		score_usage usage;
		score_fit fast_fit, walk_fit;
		int64_t walk_score;

		score_candidate_usage(&candidates[i], &usage);
		fast_fit = score_filter_isolation(&run->w->config, &request, node,
						  &usage, fast);
		walk_fit = score_filter_isolation_walk(&run->w->config, &request,
						       node, &usage, walk);
		walk_score = score_isolation_walk(&run->w->config, &request, node,
						  &usage);
		if (fast_fit != walk_fit || strcmp(fast->str, walk->str) != 0)
			record_mismatch(run, "filter", names[i], fast_fit, walk_fit);
		if (score_isolation(&run->w->config, &request, node, &usage) !=
		    walk_score)
			record_mismatch(run, "score", names[i],
					score_isolation(&run->w->config, &request,
							node, &usage),
					walk_score);
		if (run->pipeline->n_scorers > 0 && result.nodes[i].fit == SCORE_FIT &&
		    result.nodes[i].criteria[0] != walk_score)
			record_mismatch(run, "pipeline score", names[i],
					result.nodes[i].criteria[0], walk_score);
		g_string_free(fast, TRUE);
		g_string_free(walk, TRUE);
	}
	score_result_release(&result);
	score_request_cache_free(request.cache);
}

static gpointer reader_main(gpointer data)
{
	reader *self = data;
	shared_run *run = self->run;

	for (int b = 0; b < READER_BATCHES; b++) {
		g_mutex_lock(&run->progress_lock);
		while (run->changes_done < b / 2)
			g_cond_wait(&run->progress, &run->progress_lock);
		g_mutex_unlock(&run->progress_lock);

		g_rw_lock_reader_lock(&run->model_lock);
		for (int p = 0; p < BATCH_PODS; p++)
			check_request(run, run->pods[(b * BATCH_PODS + p + self->index) %
						     SAMPLE_PODS]);
		g_rw_lock_reader_unlock(&run->model_lock);

		g_mutex_lock(&run->progress_lock);
		run->batches_done++;
		g_cond_broadcast(&run->progress);
		g_mutex_unlock(&run->progress_lock);
	}
	return NULL;
}

Test(isolation_digest, two_readers_with_writer)
{
	for (guint32 seed = 3001; seed <= 3006; seed++) {
		world w;
		score_pipeline pipeline;
		score_error err = {0};
		shared_run run = {0};
		reader readers[2];
		GThread *threads[2];

		world_init(&w, seed);
		/* Tenant rules on, so that the digests decide. */
		w.config.tenants_enabled = true;
		w.config.tenancy = seed % 2 == 0 ? SCORE_TENANCY_PREFERRED
						 : SCORE_TENANCY_STRICT;
		score_pipeline_init(&pipeline);
		cr_assert_eq(score_pipeline_add_isolation(&pipeline, &w.config, 1, &err), 0,
			     "adding isolation failed: %s", err.message);
		run.w = &w;
		run.pipeline = &pipeline;
		for (int i = 0; i < SAMPLE_PODS; i++)
			run.pods[i] = random_pod(&w);
		g_rw_lock_init(&run.model_lock);
		g_mutex_init(&run.progress_lock);
		g_cond_init(&run.progress);

		for (int r = 0; r < 2; r++) {
			readers[r] = (reader){&run, r};
			threads[r] = g_thread_new("isolation-reader", reader_main,
						  &readers[r]);
		}
		for (int i = 0; i < READER_BATCHES; i++) {
			g_mutex_lock(&run.progress_lock);
			while (run.batches_done < i + 1)
				g_cond_wait(&run.progress, &run.progress_lock);
			g_mutex_unlock(&run.progress_lock);

			g_rw_lock_writer_lock(&run.model_lock);
			for (int m = 1 + pick(&w, 2); m > 0; m--)
				mutate(&w);
			g_rw_lock_writer_unlock(&run.model_lock);

			g_mutex_lock(&run.progress_lock);
			run.changes_done++;
			g_cond_broadcast(&run.progress);
			g_mutex_unlock(&run.progress_lock);
		}
		for (int r = 0; r < 2; r++)
			g_thread_join(threads[r]);

		cr_assert_eq(run.mismatches, 0,
			     "seed %u: %d results differ from the walk, first: %s",
			     seed, run.mismatches, run.first_mismatch);
		for (int i = 0; i < SAMPLE_PODS; i++)
			score_pod_free(run.pods[i]);
		g_cond_clear(&run.progress);
		g_mutex_clear(&run.progress_lock);
		g_rw_lock_clear(&run.model_lock);
		world_release(&w);
	}
}
