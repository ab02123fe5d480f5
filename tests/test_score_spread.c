/* Tests for scoring/spread.c and the model indexes it reads (pods by
 * owner, topology domains): the hard filter's skew and messages, victims,
 * the soft scorer against PodTopologySpread's arithmetic, and spread
 * pulling against contention inside one pipeline. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/contention.h"
#include "scoring/spread.h"

#define ZONE "topology.kubernetes.io/zone"
#define HOSTNAME "kubernetes.io/hostname"

static score_resource_table *resources;
static score_model *model;
static score_spread_config config;
static int next_uid;

static void setup(void)
{
	resources = score_resource_table_new();
	model = score_model_new(resources);
	score_spread_init(&config);
	next_uid = 0;
}

static void teardown(void)
{
	score_spread_release(&config);
	score_model_free(model);
	score_resource_table_free(resources);
}

TestSuite(spread, .init = setup, .fini = teardown, .timeout = 60);

/* Adds a node with its hostname label and, unless `zone` is NULL, a
 * zone label. */
static void add_node(const char *name, const char *zone)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 4000;
	node->allocatable.v[SCORE_RES_MEMORY] = 8LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	score_labels_set(&node->labels, HOSTNAME, name);
	if (zone != NULL)
		score_labels_set(&node->labels, ZONE, zone);
	score_model_put_node(model, node);
}

/* A replica of ReplicaSet shop/web-7d9 (uid rs-1), or of no controller
 * when `owner_uid` is NULL. */
static score_pod *new_pod(const char *owner_uid)
{
	score_pod *pod = score_pod_new();
	char text[32];

	g_snprintf(text, sizeof(text), "uid-%d", ++next_uid);
	pod->uid = score_intern(text);
	g_snprintf(text, sizeof(text), "web-7d9-%d", next_uid);
	pod->name = score_intern(text);
	pod->namespace = score_intern("shop");
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_CPU] = 500;
	pod->request.v[SCORE_RES_MEMORY] = 1LL << 30;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	if (owner_uid != NULL) {
		pod->owner.kind = score_intern("ReplicaSet");
		pod->owner.name = score_intern("web-7d9");
		pod->owner.uid = score_intern(owner_uid);
	}
	return pod;
}

static const score_pod *place(score_pod *pod, const char *node)
{
	const char *uid = pod->uid;

	pod->node_name = score_intern(node);
	score_model_put_pod(model, pod);
	return score_model_pod(model, uid);
}

static void place_replicas(const char *node, int count)
{
	for (int i = 0; i < count; i++)
		place(new_pod("rs-1"), node);
}

static char *run_filter(const score_pod *pod, const char *node_name,
			const score_pod *const *victims, size_t n_victims,
			score_fit *fit)
{
	score_request request = {.model = model, .pod = pod};
	score_candidate candidate = {
		.name = node_name,
		.node = score_model_node(model, node_name),
		.victims = victims,
		.n_victims = n_victims,
	};
	GString *reason = g_string_new(NULL);
	score_usage usage;

	cr_assert_not_null(candidate.node, "node %s is missing", node_name);
	score_candidate_usage(&candidate, &usage);
	*fit = score_filter_spread(&config, &request, candidate.node, &usage,
				   reason);
	return g_string_free(reason, FALSE);
}

static void expect_fit(const score_pod *pod, const char *node_name)
{
	score_fit fit;
	char *reason = run_filter(pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, SCORE_FIT, "expected a fit on %s, got %d: %s",
		     node_name, fit, reason);
	g_free(reason);
}

static void expect_reject(const score_pod *pod, const char *node_name,
			  const char *expected)
{
	score_fit fit;
	char *reason = run_filter(pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, SCORE_REJECT_UNRESOLVABLE,
		     "expected an unresolvable rejection on %s, got %d (%s)",
		     node_name, fit, reason);
	cr_assert_str_eq(reason, expected,
			 "reason:\n  got      %s\n  expected %s", reason,
			 expected);
	g_free(reason);
}

/* Scores `pod` on `names` and normalizes, as the pipeline does. */
static void run_scorer(const score_pod *pod, const char *const *names,
		       size_t n, int64_t *scores)
{
	score_request request = {.model = model, .pod = pod};

	for (size_t i = 0; i < n; i++) {
		score_candidate candidate = {
			.name = names[i],
			.node = score_model_node(model, names[i]),
		};
		score_usage usage;

		score_candidate_usage(&candidate, &usage);
		scores[i] = score_spread(&config, &request, candidate.node, &usage);
	}
	score_spread_normalize(&config, scores, n);
}

/* ---- Model indexes ------------------------------------------------------- */

Test(spread, owner_index_follows_puts_and_removes)
{
	const GPtrArray *pods;
	score_pod *moved;

	add_node("n1", "a");
	place_replicas("n1", 2);
	place(new_pod(NULL), "n1");
	pods = score_model_owner_pods(model, "rs-1");
	cr_assert_not_null(pods, "rs-1 has replicas");
	cr_assert_eq(pods->len, 2, "rs-1 replicas: got %u", pods->len);

	/* A new version of uid-1 under another controller moves it. */
	moved = new_pod("rs-2");
	score_unintern(moved->uid);
	moved->uid = score_intern("uid-1");
	place(moved, "n1");
	pods = score_model_owner_pods(model, "rs-1");
	cr_assert_eq(pods->len, 1, "rs-1 after the move: got %u", pods->len);
	pods = score_model_owner_pods(model, "rs-2");
	cr_assert_eq(pods->len, 1, "rs-2 after the move: got %u", pods->len);

	cr_assert(score_model_remove_pod(model, "uid-2"), "uid-2 is present");
	cr_assert_null(score_model_owner_pods(model, "rs-1"),
		       "an owner without pods leaves the index");
	cr_assert_null(score_model_owner_pods(model, NULL),
		       "a NULL owner has no pods");
}

Test(spread, label_domains_follow_nodes)
{
	add_node("n1", "a");
	add_node("n2", "a");
	add_node("n3", "b");
	cr_assert_eq(score_model_label_domains(model, ZONE), 2,
		     "zones: got %zu", score_model_label_domains(model, ZONE));
	cr_assert_eq(score_model_label_domains(model, HOSTNAME), 3,
		     "hosts: got %zu", score_model_label_domains(model, HOSTNAME));

	/* n3 moves to zone a: one zone left. */
	add_node("n3", "a");
	cr_assert_eq(score_model_label_domains(model, ZONE), 1,
		     "zones after relabel: got %zu",
		     score_model_label_domains(model, ZONE));

	cr_assert(score_model_remove_node(model, "n1"), "n1 is present");
	cr_assert_eq(score_model_label_domains(model, HOSTNAME), 2,
		     "hosts after remove: got %zu",
		     score_model_label_domains(model, HOSTNAME));
	cr_assert_eq(score_model_label_domains(model, "missing"), 0,
		     "an unknown label has no domains");
}

/* ---- Hard filter --------------------------------------------------------- */

static void three_zones(void)
{
	score_spread_set_level(&config, ZONE);
	config.hard = true;
	add_node("a1", "eu-1a");
	add_node("a2", "eu-1a");
	add_node("b1", "eu-1b");
	add_node("c1", "eu-1c");
}

Test(spread, hard_rejects_crowded_zone)
{
	score_pod *incoming = new_pod("rs-1");

	three_zones();
	place_replicas("a1", 2);
	place_replicas("a2", 1);
	place_replicas("b1", 1);
	place_replicas("c1", 1);

	expect_reject(incoming, "a1",
		      "spread: zone eu-1a already has 3 of 5 replicas of ReplicaSet shop/web-7d9 and the emptiest zone has 1; one more there makes the skew 3, above maxSkew 1");
	expect_fit(incoming, "b1");
	expect_fit(incoming, "c1");
	score_pod_free(incoming);
}

Test(spread, empty_zone_counts_as_zero)
{
	score_pod *incoming = new_pod("rs-1");

	three_zones();
	place_replicas("a1", 1);
	place_replicas("b1", 1);

	expect_reject(incoming, "a1",
		      "spread: zone eu-1a already has 1 of 2 replicas of ReplicaSet shop/web-7d9 and the emptiest zone has 0; one more there makes the skew 2, above maxSkew 1");
	expect_fit(incoming, "c1");
	score_pod_free(incoming);
}

Test(spread, max_skew_allows_imbalance)
{
	score_pod *incoming = new_pod("rs-1");

	three_zones();
	config.max_skew = 2;
	place_replicas("a1", 1);
	place_replicas("b1", 1);

	expect_fit(incoming, "a1");
	place_replicas("a2", 1);
	expect_reject(incoming, "a1",
		      "spread: zone eu-1a already has 2 of 3 replicas of ReplicaSet shop/web-7d9 and the emptiest zone has 0; one more there makes the skew 3, above maxSkew 2");
	score_pod_free(incoming);
}

Test(spread, hard_rejects_node_without_level_label)
{
	score_pod *incoming = new_pod("rs-1");

	three_zones();
	add_node("edge", NULL);
	expect_reject(incoming, "edge",
		      "spread: node has no label topology.kubernetes.io/zone, and spec.spread in mode hard places replicas only on nodes with one");
	score_pod_free(incoming);
}

Test(spread, pods_without_controller_are_free)
{
	score_pod *incoming = new_pod(NULL);
	const char *names[] = {"a1"};
	int64_t score;

	three_zones();
	add_node("edge", NULL);
	place_replicas("a1", 4);
	expect_fit(incoming, "a1");
	expect_fit(incoming, "edge");

	config.hard = false;
	run_scorer(incoming, names, 1, &score);
	cr_assert_eq(score, SCORE_SKIP, "no controller: skipped, got %" G_GINT64_FORMAT,
		     score);
	score_pod_free(incoming);
}

Test(spread, unbound_finished_and_self_do_not_count)
{
	score_pod *incoming = new_pod("rs-1");
	score_pod *pending = new_pod("rs-1");
	score_pod *done = new_pod("rs-1");
	score_pod *self_copy;

	three_zones();
	place_replicas("b1", 1);
	place_replicas("c1", 1);
	score_model_put_pod(model, pending);
	done->phase = SCORE_POD_FAILED;
	place(done, "a1");
	/* The model's copy of the incoming pod, assumed on a1. */
	self_copy = new_pod("rs-1");
	score_unintern(self_copy->uid);
	self_copy->uid = score_intern(incoming->uid);
	place(self_copy, "a1");

	expect_fit(incoming, "a1");
	score_pod_free(incoming);
}

Test(spread, victims_are_not_counted)
{
	score_pod *incoming = new_pod("rs-1");
	const score_pod *victims[1];
	score_fit fit;
	char *reason;

	three_zones();
	place_replicas("a1", 1);
	victims[0] = place(new_pod("rs-1"), "a1");
	place_replicas("b1", 1);
	place_replicas("c1", 1);

	reason = run_filter(incoming, "a1", victims, 1, &fit);
	cr_assert_eq(fit, SCORE_FIT,
		     "without the victim zone eu-1a has 1 replica: got %d (%s)",
		     fit, reason);
	g_free(reason);
	score_pod_free(incoming);
}

/* ---- Soft scorer --------------------------------------------------------- */

Test(spread, soft_scores_follow_pod_topology_spread)
{
	static const char *const names[] = {"a1", "b1", "c1", "edge"};
	score_pod *incoming = new_pod("rs-1");
	int64_t scores[4];
	score_fit fit;
	char *reason;

	three_zones();
	config.hard = false;
	add_node("edge", NULL);
	place_replicas("a1", 2);
	place_replicas("b1", 1);

	/* 3 zones: weight ln(5) = 1.609. Raw a = round(2 * 1.609) = 3,
	 * b = 2, c = 0; normalized 100 * (3 + 0 - raw) / 3. */
	run_scorer(incoming, names, 4, scores);
	cr_assert_eq(scores[0], 0, "eu-1a: got %" G_GINT64_FORMAT, scores[0]);
	cr_assert_eq(scores[1], 33, "eu-1b: got %" G_GINT64_FORMAT, scores[1]);
	cr_assert_eq(scores[2], 100, "eu-1c: got %" G_GINT64_FORMAT, scores[2]);
	cr_assert_eq(scores[3], 0, "no zone label: got %" G_GINT64_FORMAT,
		     scores[3]);

	/* Soft mode never filters. */
	reason = run_filter(incoming, "a1", NULL, 0, &fit);
	cr_assert_eq(fit, SCORE_FIT, "soft mode fits, got %d (%s)", fit, reason);
	g_free(reason);
	score_pod_free(incoming);
}

/* Returns the soft scorer's explanation for `pod` on `node_name`, from a
 * pipeline, as the decision log gets it. The caller frees it. */
static char *explain(const score_pod *pod, const char *node_name)
{
	score_request request = {.model = model, .pod = pod};
	score_candidate candidate = {.name = node_name,
				     .node = score_model_node(model, node_name)};
	score_pipeline pipeline;
	score_error err = {0};
	GString *out = g_string_new(NULL);

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_spread(&pipeline, &config, 1, &err), 0,
		     "add spread: %s", err.message);
	score_pipeline_explain_node(&pipeline, &request, 0, &candidate, out);
	return g_string_free(out, FALSE);
}

Test(spread, soft_score_explained_per_node)
{
	score_pod *incoming = new_pod("rs-1");
	char *text;

	three_zones();
	config.hard = false;
	add_node("edge", NULL);
	place_replicas("a1", 2);
	place_replicas("b1", 1);

	text = explain(incoming, "a2");
	cr_assert_str_eq(text, "spread: zone eu-1a already has 2 of 3 replicas of ReplicaSet shop/web-7d9",
			 "a2: %s", text);
	g_free(text);
	text = explain(incoming, "c1");
	cr_assert_str_eq(text, "", "c1's zone has no replica: %s", text);
	g_free(text);
	text = explain(incoming, "edge");
	cr_assert_str_eq(text, "spread: node has no label " ZONE ", so it scores 0",
			 "edge: %s", text);
	g_free(text);
	score_pod_free(incoming);
}

Test(spread, soft_max_skew_waters_down_differences)
{
	static const char *const names[] = {"a1", "b1", "c1"};
	score_pod *incoming = new_pod("rs-1");
	int64_t scores[3];

	three_zones();
	config.hard = false;
	config.max_skew = 2;
	place_replicas("a1", 2);
	place_replicas("b1", 1);

	/* Raw values gain maxSkew - 1: 4, 3, 1; 100 * (4 + 1 - raw) / 4. */
	run_scorer(incoming, names, 3, scores);
	cr_assert_eq(scores[0], 25, "eu-1a: got %" G_GINT64_FORMAT, scores[0]);
	cr_assert_eq(scores[1], 50, "eu-1b: got %" G_GINT64_FORMAT, scores[1]);
	cr_assert_eq(scores[2], 100, "eu-1c: got %" G_GINT64_FORMAT, scores[2]);
	score_pod_free(incoming);
}

Test(spread, soft_first_replica_scores_all_full)
{
	static const char *const names[] = {"a1", "b1"};
	score_pod *incoming = new_pod("rs-1");
	int64_t scores[2];

	three_zones();
	config.hard = false;
	run_scorer(incoming, names, 2, scores);
	cr_assert_eq(scores[0], 100, "a1: got %" G_GINT64_FORMAT, scores[0]);
	cr_assert_eq(scores[1], 100, "b1: got %" G_GINT64_FORMAT, scores[1]);
	score_pod_free(incoming);
}

Test(spread, hard_mode_adds_no_scorer)
{
	score_pipeline pipeline;
	score_error err = {0};
	int rc;

	config.hard = true;
	score_pipeline_init(&pipeline);
	rc = score_pipeline_add_spread(&pipeline, &config, 3, &err);
	cr_assert_eq(rc, 0, "add failed: %s", err.message);
	cr_assert_eq(pipeline.n_filters, 1, "filters: %zu", pipeline.n_filters);
	cr_assert_eq(pipeline.n_scorers, 0, "scorers: %zu", pipeline.n_scorers);

	config.hard = false;
	score_pipeline_init(&pipeline);
	rc = score_pipeline_add_spread(&pipeline, &config, 3, &err);
	cr_assert_eq(rc, 0, "add failed: %s", err.message);
	cr_assert_eq(pipeline.n_filters, 0, "filters: %zu", pipeline.n_filters);
	cr_assert_eq(pipeline.n_scorers, 1, "scorers: %zu", pipeline.n_scorers);
	cr_assert_eq(pipeline.scorers[0].weight, 3, "weight %" G_GINT64_FORMAT,
		     pipeline.scorers[0].weight);
}

/* ---- Spread against contention ------------------------------------------- */

/* Returns the index of the best node for the incoming pod under the
 * weights, with MostAllocated packing against spread per node. */
static size_t best_node(const score_contention_config *contention,
			const score_pod *incoming, int64_t contention_weight,
			int64_t spread_weight, int64_t *totals)
{
	score_candidate candidates[2] = {
		{.name = "n1", .node = score_model_node(model, "n1")},
		{.name = "n2", .node = score_model_node(model, "n2")},
	};
	score_request request = {.model = model, .pod = incoming};
	score_pipeline pipeline;
	score_result result;
	score_error err = {0};
	size_t best;

	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_contention(&pipeline, contention,
						   contention_weight,
						   contention_weight, &err),
		     0, "contention: %s", err.message);
	cr_assert_eq(score_pipeline_add_spread(&pipeline, &config, spread_weight,
					       &err),
		     0, "spread: %s", err.message);
	score_pipeline_filter(&pipeline, &request, candidates, 2, &result);
	cr_assert_eq(result.n_fit, 2, "both nodes fit, got %zu", result.n_fit);
	score_pipeline_score(&pipeline, &request, candidates, &result);
	totals[0] = result.nodes[0].total;
	totals[1] = result.nodes[1].total;
	best = totals[1] > totals[0] ? 1 : 0;
	score_result_release(&result);
	return best;
}

Test(spread, weights_decide_against_packing)
{
	score_contention_config contention;
	score_pod *incoming = new_pod("rs-1");
	score_pod *busy = new_pod("rs-1");
	int64_t totals[2];
	size_t best;

	/* n1 runs one large replica: MostAllocated prefers n1, spread n2. */
	add_node("n1", "a");
	add_node("n2", "a");
	busy->request.v[SCORE_RES_CPU] = 2000;
	busy->request.v[SCORE_RES_MEMORY] = 4LL << 30;
	busy->nonzero_request = busy->request;
	place(busy, "n1");
	score_contention_defaults(&contention);
	contention.strategy = SCORE_MOST_ALLOCATED;

	best = best_node(&contention, incoming, 3, 1, totals);
	cr_assert_eq(best, 0,
		     "contention 3, spread 1 packs onto n1: totals %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
		     totals[0], totals[1]);
	best = best_node(&contention, incoming, 1, 3, totals);
	cr_assert_eq(best, 1,
		     "contention 1, spread 3 spreads to n2: totals %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
		     totals[0], totals[1]);
	score_pod_free(incoming);
}
