/* Tests for scoring/bandwidth.c: node capacity from labels and defaults,
 * the model's per-node totals, the filter's messages, victims, and the
 * headroom scorer. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/bandwidth.h"

#define M INT64_C(1000000)
#define G INT64_C(1000000000)

static score_resource_table *resources;
static score_model *model;
static score_bandwidth_config config;
static int next_uid;

static void setup(void)
{
	resources = score_resource_table_new();
	model = score_model_new(resources);
	score_bandwidth_init(&config);
	next_uid = 0;
}

static void teardown(void)
{
	score_bandwidth_release(&config);
	score_model_free(model);
	score_resource_table_free(resources);
}

TestSuite(bandwidth, .init = setup, .fini = teardown, .timeout = 60);

/* Adds a node; `label` and `value` may be NULL for a node without one. */
static void add_node(const char *name, const char *label, const char *value)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 4000;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	if (label != NULL)
		score_labels_set(&node->labels, label, value);
	score_model_put_node(model, node);
}

static score_pod *new_pod(const char *name, int64_t ingress, int64_t egress)
{
	score_pod *pod = score_pod_new();
	char uid[32];

	g_snprintf(uid, sizeof(uid), "uid-%d", ++next_uid);
	pod->uid = score_intern(uid);
	pod->namespace = score_intern("shop");
	pod->name = score_intern(name);
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->ingress_bandwidth = ingress;
	pod->egress_bandwidth = egress;
	return pod;
}

static const score_pod *place(score_pod *pod, const char *node)
{
	const char *uid = pod->uid;

	pod->node_name = score_intern(node);
	score_model_put_pod(model, pod);
	return score_model_pod(model, uid);
}

/* Runs the filter; the caller frees the returned reason. */
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
	*fit = score_filter_bandwidth(&config, &request, candidate.node, &usage,
				      reason);
	return g_string_free(reason, FALSE);
}

static int64_t run_scorer(const score_pod *pod, const char *node_name)
{
	score_request request = {.model = model, .pod = pod};
	score_candidate candidate = {
		.name = node_name,
		.node = score_model_node(model, node_name),
	};
	score_usage usage;

	score_candidate_usage(&candidate, &usage);
	return score_bandwidth(&config, &request, candidate.node, &usage);
}

static void expect_fit(const score_pod *pod, const char *node_name)
{
	score_fit fit;
	char *reason = run_filter(pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, SCORE_FIT, "expected a fit on %s, got %d: %s",
		     node_name, fit, reason);
	cr_assert_str_empty(reason, "a fit has no reason, got \"%s\"", reason);
	g_free(reason);
}

static void expect_reject(const score_pod *pod, const char *node_name,
			  score_fit expected_fit, const char *expected)
{
	score_fit fit;
	char *reason = run_filter(pod, node_name, NULL, 0, &fit);

	cr_assert_eq(fit, expected_fit, "expected fit %d on %s, got %d (%s)",
		     expected_fit, node_name, fit, reason);
	cr_assert_str_eq(reason, expected,
			 "reason:\n  got      %s\n  expected %s", reason,
			 expected);
	g_free(reason);
}

Test(bandwidth, format_picks_largest_exact_suffix)
{
	static const struct {
		int64_t bits;
		const char *text;
	} cases[] = {
		{400 * M, "400M"}, {G, "1G"},      {1500000, "1500k"},
		{0, "0"},          {1234567, "1234567"}, {2000 * G, "2T"},
	};
	char buf[32];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		cr_assert_str_eq(score_bandwidth_format(cases[i].bits, buf,
							sizeof(buf)),
				 cases[i].text, "%" G_GINT64_FORMAT " bits: got %s, expected %s",
				 cases[i].bits, buf, cases[i].text);
}

Test(bandwidth, model_keeps_node_totals)
{
	score_pod *pod;
	const score_node *node;

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	place(new_pod("a", 100 * M, 10 * M), "n1");
	place(new_pod("b", 200 * M, 0), "n1");
	node = score_model_node(model, "n1");
	cr_assert_eq(node->ingress_bandwidth_requested, 300 * M,
		     "ingress total: got %" G_GINT64_FORMAT,
		     node->ingress_bandwidth_requested);
	cr_assert_eq(node->egress_bandwidth_requested, 10 * M,
		     "egress total: got %" G_GINT64_FORMAT,
		     node->egress_bandwidth_requested);

	/* Replacing pod "b" with a new version moves its share. */
	pod = new_pod("b", 50 * M, 5 * M);
	score_unintern(pod->uid);
	pod->uid = score_intern("uid-2");
	place(pod, "n1");
	cr_assert_eq(node->ingress_bandwidth_requested, 150 * M,
		     "ingress after replace: got %" G_GINT64_FORMAT,
		     node->ingress_bandwidth_requested);
	cr_assert_eq(node->egress_bandwidth_requested, 15 * M,
		     "egress after replace: got %" G_GINT64_FORMAT,
		     node->egress_bandwidth_requested);

	cr_assert(score_model_remove_pod(model, "uid-1"), "pod a is in the model");
	cr_assert_eq(node->ingress_bandwidth_requested, 50 * M,
		     "ingress after remove: got %" G_GINT64_FORMAT,
		     node->ingress_bandwidth_requested);

	/* A node object replaced by a new version keeps the totals. */
	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "2G");
	node = score_model_node(model, "n1");
	cr_assert_eq(node->ingress_bandwidth_requested, 50 * M,
		     "ingress after node update: got %" G_GINT64_FORMAT,
		     node->ingress_bandwidth_requested);
}

Test(bandwidth, finished_pods_do_not_count)
{
	score_pod *done = new_pod("job", 500 * M, 0);
	const score_node *node;

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	done->phase = SCORE_POD_SUCCEEDED;
	place(done, "n1");
	node = score_model_node(model, "n1");
	cr_assert_eq(node->ingress_bandwidth_requested, 0,
		     "a Succeeded pod counts nothing, got %" G_GINT64_FORMAT,
		     node->ingress_bandwidth_requested);
}

Test(bandwidth, capacity_from_label_default_or_none)
{
	score_node *node;
	int64_t capacity = -1;

	add_node("labelled", SCORE_DEFAULT_BANDWIDTH_LABEL, "10G");
	add_node("bare", NULL, NULL);
	add_node("garbage", SCORE_DEFAULT_BANDWIDTH_LABEL, "fast");

	node = score_model_node(model, "labelled");
	cr_assert(score_bandwidth_capacity(&config, node, true, &capacity),
		  "a labelled node is limited");
	cr_assert_eq(capacity, 10 * G, "capacity %" G_GINT64_FORMAT, capacity);

	node = score_model_node(model, "bare");
	cr_assert_not(score_bandwidth_capacity(&config, node, true, &capacity),
		      "without label or default the node is not limited");

	config.default_capacity = 1 * G;
	cr_assert(score_bandwidth_capacity(&config, node, false, &capacity),
		  "the default capacity limits a bare node");
	cr_assert_eq(capacity, G, "default capacity %" G_GINT64_FORMAT, capacity);

	node = score_model_node(model, "garbage");
	cr_assert(score_bandwidth_capacity(&config, node, true, &capacity),
		  "an invalid label falls back to the default");
	cr_assert_eq(capacity, G, "fallback capacity %" G_GINT64_FORMAT, capacity);
}

Test(bandwidth, direction_labels_override_shared_label)
{
	score_node *node = score_node_new();
	int64_t ingress = 0;
	int64_t egress = 0;

	node->name = score_intern("n1");
	score_labels_set(&node->labels, SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	score_labels_set(&node->labels, "example.com/uplink", "25G");
	score_model_put_node(model, node);
	config.egress_capacity_label = score_intern("example.com/uplink");

	node = score_model_node(model, "n1");
	cr_assert(score_bandwidth_capacity(&config, node, true, &ingress),
		  "ingress limited");
	cr_assert(score_bandwidth_capacity(&config, node, false, &egress),
		  "egress limited");
	cr_assert_eq(ingress, G, "ingress reads the shared label, got %" G_GINT64_FORMAT,
		     ingress);
	cr_assert_eq(egress, 25 * G, "egress reads its own label, got %" G_GINT64_FORMAT,
		     egress);
}

Test(bandwidth, filter_rejects_with_numbers)
{
	score_pod *incoming = new_pod("web-1", 400 * M, 0);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	place(new_pod("video-0", 750 * M, 0), "n1");

	expect_reject(incoming, "n1", SCORE_REJECT_RESOLVABLE,
		      "ingress bandwidth: requested 400M, free 250M of 1G");
	score_pod_free(incoming);
}

Test(bandwidth, filter_reports_both_directions)
{
	score_pod *incoming = new_pod("web-1", 400 * M, 300 * M);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "500M");
	place(new_pod("video-0", 200 * M, 300 * M), "n1");

	expect_reject(incoming, "n1", SCORE_REJECT_RESOLVABLE,
		      "ingress bandwidth: requested 400M, free 300M of 500M; egress bandwidth: requested 300M, free 200M of 500M");
	score_pod_free(incoming);
}

Test(bandwidth, request_above_capacity_is_unresolvable)
{
	score_pod *incoming = new_pod("backup", 0, 2 * G);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	expect_reject(incoming, "n1", SCORE_REJECT_UNRESOLVABLE,
		      "egress bandwidth: requested 2G, free 1G of 1G");
	score_pod_free(incoming);
}

Test(bandwidth, exact_fit_and_unlimited_nodes_pass)
{
	score_pod *incoming = new_pod("web-1", 250 * M, 0);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	add_node("bare", NULL, NULL);
	place(new_pod("video-0", 750 * M, 0), "n1");
	place(new_pod("video-1", 10 * G, 0), "bare");

	expect_fit(incoming, "n1");
	expect_fit(incoming, "bare");
	score_pod_free(incoming);
}

Test(bandwidth, pod_without_annotations_always_fits)
{
	score_pod *incoming = new_pod("plain", 0, 0);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	place(new_pod("video-0", G, G), "n1");

	expect_fit(incoming, "n1");
	cr_assert_eq(run_scorer(incoming, "n1"), SCORE_SKIP,
		     "a pod without annotations is skipped");
	score_pod_free(incoming);
}

Test(bandwidth, victims_free_their_bandwidth)
{
	score_pod *incoming = new_pod("web-1", 400 * M, 0);
	const score_pod *victims[1];
	score_fit fit;
	char *reason;

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	victims[0] = place(new_pod("video-0", 750 * M, 0), "n1");

	reason = run_filter(incoming, "n1", victims, 1, &fit);
	cr_assert_eq(fit, SCORE_FIT, "evicting video-0 frees 750M: got %d (%s)",
		     fit, reason);
	g_free(reason);
	score_pod_free(incoming);
}

Test(bandwidth, default_capacity_limits_bare_nodes)
{
	score_pod *incoming = new_pod("web-1", 0, 600 * M);

	config.default_capacity = G;
	add_node("bare", NULL, NULL);
	place(new_pod("video-0", 0, 500 * M), "bare");

	expect_reject(incoming, "bare", SCORE_REJECT_RESOLVABLE,
		      "egress bandwidth: requested 600M, free 500M of 1G");
	score_pod_free(incoming);
}

Test(bandwidth, scorer_prefers_headroom)
{
	score_pod *incoming = new_pod("web-1", 100 * M, 0);
	int64_t busy;
	int64_t idle;
	int64_t bare;

	add_node("busy", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	add_node("idle", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	add_node("bare", NULL, NULL);
	place(new_pod("video-0", 600 * M, 0), "busy");

	busy = run_scorer(incoming, "busy");
	idle = run_scorer(incoming, "idle");
	bare = run_scorer(incoming, "bare");
	cr_assert_eq(busy, 30, "busy: 300M of 1G free after placing, got %" G_GINT64_FORMAT,
		     busy);
	cr_assert_eq(idle, 90, "idle: 900M of 1G free after placing, got %" G_GINT64_FORMAT,
		     idle);
	cr_assert_eq(bare, SCORE_MAX_NODE_SCORE,
		     "an unlimited node has full headroom, got %" G_GINT64_FORMAT,
		     bare);
	score_pod_free(incoming);
}

Test(bandwidth, scorer_takes_tighter_direction)
{
	score_pod *incoming = new_pod("web-1", 100 * M, 100 * M);
	int64_t score;

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	place(new_pod("upload", 0, 800 * M), "n1");

	score = run_scorer(incoming, "n1");
	cr_assert_eq(score, 10, "egress leaves 100M of 1G free, got %" G_GINT64_FORMAT,
		     score);
	score_pod_free(incoming);
}

/* The decision log's reason for a headroom score names the use after the
 * pod and the capacity of each direction the pod uses. */
Test(bandwidth, score_explained_per_node)
{
	score_pod *incoming = new_pod("web-1", 100 * M, 100 * M);
	score_request request = {.model = model, .pod = incoming};
	score_candidate candidate;
	score_pipeline pipeline;
	score_error err = {0};
	GString *out = g_string_new(NULL);

	add_node("n1", SCORE_DEFAULT_BANDWIDTH_LABEL, "1G");
	add_node("bare", NULL, NULL);
	place(new_pod("upload", 0, 800 * M), "n1");
	score_pipeline_init(&pipeline);
	cr_assert_eq(score_pipeline_add_bandwidth(&pipeline, &config, 1, &err), 0,
		     "add bandwidth: %s", err.message);

	candidate = (score_candidate){.name = "n1", .node = score_model_node(model, "n1")};
	score_pipeline_explain_node(&pipeline, &request, 0, &candidate, out);
	cr_assert_str_eq(out->str,
			 "ingress bandwidth: 100M of 1G in use with the pod's 100M; "
			 "egress bandwidth: 900M of 1G in use with the pod's 100M",
			 "n1: %s", out->str);
	g_string_truncate(out, 0);
	candidate = (score_candidate){.name = "bare", .node = score_model_node(model, "bare")};
	score_pipeline_explain_node(&pipeline, &request, 0, &candidate, out);
	cr_assert_str_eq(out->str, "", "an unlimited node needs no reason: %s", out->str);
	g_string_free(out, TRUE);
	score_pod_free(incoming);
}

Test(bandwidth, pipeline_adds_filter_and_scorer)
{
	score_pipeline pipeline;
	score_error err = {0};
	int rc;

	score_pipeline_init(&pipeline);
	rc = score_pipeline_add_bandwidth(&pipeline, &config, 2, &err);
	cr_assert_eq(rc, 0, "add failed: %s", err.message);
	cr_assert_eq(pipeline.n_filters, 1, "filters: %zu", pipeline.n_filters);
	cr_assert_eq(pipeline.n_scorers, 1, "scorers: %zu", pipeline.n_scorers);
	cr_assert_eq(pipeline.scorers[0].weight, 2, "weight %" G_GINT64_FORMAT,
		     pipeline.scorers[0].weight);

	score_pipeline_init(&pipeline);
	rc = score_pipeline_add_bandwidth(&pipeline, &config, 0, &err);
	cr_assert_eq(rc, 0, "add failed: %s", err.message);
	cr_assert_eq(pipeline.n_scorers, 0, "weight 0 adds no scorer, got %zu",
		     pipeline.n_scorers);
}
