/* Node choice through the scoring pipeline; see placement.h. */
#include "sim/placement.h"

#include <errno.h>
#include <string.h>

#include "scoring/contention.h"
#include "sim/template.h"

/* kube-scheduler's minFeasibleNodesToFind and
 * minFeasibleNodesPercentageToFind. */
#define MIN_FEASIBLE_NODES 100
#define MIN_FEASIBLE_PERCENTAGE 5

/* A GPU node with its cached fragmentation. The node comes first, so a
 * pointer to the entry is a pointer to the node for the pipeline's map. */
typedef struct gpu_entry {
	score_gpu_node node;
	double frag;     /* milli-GPU, valid when frag_valid */
	bool frag_valid; /* false while listed in placement->frag_dirty */
} gpu_entry;

/* Nodes of one zone, in the order they were added. */
typedef struct zone_nodes {
	const char *zone; /* interned; NULL for nodes without the label */
	GPtrArray *names; /* interned node names, borrowed from the model */
} zone_nodes;

struct sim_placement {
	sim_placement_config config;
	score_model *model; /* borrowed */
	score_contention_config contention;
	score_gpu_pipeline_config gpu_config;
	score_pipeline pipeline;
	GRand *rand;

	/* Interned node name -> gpu_entry *, both owned. */
	GHashTable *gpu_nodes;
	/* Fragmentation summed over the entries whose cache is valid, and
	 * the entries to recompute, because a pod came or went. */
	double frag_total;
	GPtrArray *frag_dirty;
	GHashTable *gpu_pods;  /* pod uid -> score_gpu_pod *, while choosing */
	int64_t gpu_capacity;
	int64_t gpu_allocated;

	GArray *zones;    /* zone_nodes, zones in the order first seen */
	GPtrArray *order; /* score_node *, the zone-interleaved list */
	bool order_dirty;
	size_t next_start;

	GArray *candidates; /* score_candidate scratch */
	GArray *feasible;   /* score_candidate scratch */
	GArray *scored;     /* score_node_result scratch for scoring */
	uint64_t nodes_evaluated;
	size_t n_nodes;
	/* Most nodes of the last walk were rejected: check room first. */
	bool mostly_full;

	/* The log of nodes that gained room (score_node *, borrowed from the
	 * model): entry i is log position grown_base + i. */
	GPtrArray *grown;
	uint64_t grown_base;
};

/* The log keeps at least this many entries, and twice the nodes. */
#define MIN_LOG_ENTRIES 1024

static const char *const kube_names[] = {
	[SIM_POLICY_KUBE_DEFAULT] = "kube-default",
	[SIM_POLICY_KUBE_MOST_ALLOCATED] = "kube-most-allocated",
};

/* True for a name that can only be meant as a file. */
static bool looks_like_file(const char *name)
{
	return strchr(name, '/') != NULL || g_str_has_suffix(name, ".yaml") ||
	       g_str_has_suffix(name, ".yml") ||
	       g_file_test(name, G_FILE_TEST_IS_REGULAR);
}

int sim_policy_parse(const char *name, sim_policy *policy, score_error *err)
{
	memset(policy, 0, sizeof(*policy));
	if (g_ascii_strcasecmp(name, "kube-default") == 0) {
		policy->kind = SIM_POLICY_KUBE_DEFAULT;
		return 0;
	}
	if (g_ascii_strcasecmp(name, "kube-most-allocated") == 0) {
		policy->kind = SIM_POLICY_KUBE_MOST_ALLOCATED;
		return 0;
	}
	policy->kind = SIM_POLICY_GPU;
	if (score_gpu_policy_parse(name, &policy->gpu, NULL) == 0)
		return 0;
	if (name[0] != '\0' && looks_like_file(name)) {
		policy->kind = SIM_POLICY_FILE;
		policy->path = name;
		return 0;
	}
	return score_fail(err, -EINVAL,
			  "unknown policy \"%s\": use kube-default, kube-most-allocated, for GPU clusters Random, DotProd, GpuClustering, GpuPacking, BestFit or FGD, or the path of a policy file (a SchedulingPolicy or a ConfigMap holding one)",
			  name);
}

const char *sim_policy_name(const sim_policy *policy)
{
	if (policy->kind == SIM_POLICY_FILE)
		return policy->path;
	if (policy->kind == SIM_POLICY_GPU)
		return score_gpu_policy_name(policy->gpu);
	return kube_names[policy->kind];
}

uint32_t sim_feasible_nodes_to_find(uint32_t n_nodes, int percentage)
{
	uint32_t found;

	if (n_nodes < MIN_FEASIBLE_NODES)
		return n_nodes;
	if (percentage <= 0) {
		percentage = 50 - (int)(n_nodes / 125);
		if (percentage < MIN_FEASIBLE_PERCENTAGE)
			percentage = MIN_FEASIBLE_PERCENTAGE;
	}
	if (percentage >= 100)
		return n_nodes;
	found = (uint32_t)((uint64_t)n_nodes * (uint64_t)percentage / 100);
	return found < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : found;
}

/* ---- Construction -------------------------------------------------------- */

static void fill_gpu_config(sim_placement *placement)
{
	const sim_placement_config *config = &placement->config;

	placement->gpu_config.policy = config->policy.kind == SIM_POLICY_GPU ?
					       config->policy.gpu : SCORE_GPU_RANDOM;
	placement->gpu_config.typical = config->typical;
	placement->gpu_config.nodes = placement->gpu_nodes;
	placement->gpu_config.pods = placement->gpu_pods;
	placement->gpu_config.rand = placement->rand;
}

/* Adds the GPU filter alone on a cluster with GPUs, for the policies that
 * do not score GPUs. */
static int add_gpu_filter(sim_placement *placement, score_error *err)
{
	const score_filter gpu_filter = {
		.name = "GpuShare",
		.run = score_gpu_filter,
		.config = &placement->gpu_config,
	};

	if (!placement->config.gpus)
		return 0;
	fill_gpu_config(placement);
	return score_pipeline_add_filter(&placement->pipeline, &gpu_filter, err);
}

static int build_pipeline(sim_placement *placement, score_error *err)
{
	const sim_placement_config *config = &placement->config;
	int64_t allocation_weight = 1;
	int64_t balanced_weight = 1;
	int ret;

	if (config->policy.kind == SIM_POLICY_FILE) {
		/* The policy's filters and scorers point into the policy,
		 * which outlives the placement, so a copy of the array is
		 * enough. */
		placement->pipeline = *config->pipeline;
		return add_gpu_filter(placement, err);
	}

	score_contention_defaults(&placement->contention);
	if (config->policy.kind == SIM_POLICY_KUBE_MOST_ALLOCATED)
		placement->contention.strategy = SCORE_MOST_ALLOCATED;
	if (config->policy.kind == SIM_POLICY_GPU) {
		/* The GPU policies score alone, as in the FGD paper's runs. */
		allocation_weight = 0;
		balanced_weight = 0;
	}

	score_pipeline_init(&placement->pipeline);
	ret = score_pipeline_add_contention(&placement->pipeline,
					    &placement->contention,
					    allocation_weight, balanced_weight, err);
	if (ret < 0)
		return ret;
	if (config->policy.kind == SIM_POLICY_GPU) {
		fill_gpu_config(placement);
		return score_pipeline_add_gpu(&placement->pipeline,
					      &placement->gpu_config, 1, err);
	}
	return add_gpu_filter(placement, err);
}

int sim_placement_new(const sim_placement_config *config, score_model *model,
		      sim_placement **out, score_error *err)
{
	sim_placement *placement;
	int ret;

	*out = NULL;
	if (config->policy.kind == SIM_POLICY_GPU && !config->gpus)
		return score_fail(err, -EINVAL,
				  "policy %s needs GPU nodes, and the cluster has none: use kube-default or give nodes with GPUs",
				  sim_policy_name(&config->policy));
	if (config->policy.kind == SIM_POLICY_GPU &&
	    config->policy.gpu == SCORE_GPU_FGD && config->typical == NULL)
		return score_fail(err, -EINVAL,
				  "policy FGD needs the workload's typical pods, and none were given");
	if (config->policy.kind == SIM_POLICY_FILE && config->pipeline == NULL)
		return score_fail(err, -EINVAL,
				  "policy file %s was not loaded: load it with sim_policy_file_load() and pass its pipeline",
				  config->policy.path);
	if (config->percentage_of_nodes_to_score < 0 ||
	    config->percentage_of_nodes_to_score > 100)
		return score_fail(err, -EINVAL,
				  "invalid percentage of nodes to score %d: use 1 to 100, or 0 for kube-scheduler's adaptive default",
				  config->percentage_of_nodes_to_score);

	placement = g_new0(sim_placement, 1);
	placement->config = *config;
	placement->model = model;
	placement->rand = g_rand_new_with_seed(config->seed);
	placement->gpu_nodes = g_hash_table_new_full(g_str_hash, g_str_equal,
						     (GDestroyNotify)score_unintern,
						     g_free);
	placement->gpu_pods = g_hash_table_new(g_str_hash, g_str_equal);
	placement->frag_dirty = g_ptr_array_new();
	placement->zones = g_array_new(FALSE, TRUE, sizeof(zone_nodes));
	placement->order = g_ptr_array_new();
	placement->candidates = g_array_new(FALSE, TRUE, sizeof(score_candidate));
	placement->feasible = g_array_new(FALSE, TRUE, sizeof(score_candidate));
	placement->scored = g_array_new(FALSE, TRUE, sizeof(score_node_result));
	placement->grown = g_ptr_array_new();

	ret = build_pipeline(placement, err);
	if (ret < 0) {
		sim_placement_free(placement);
		return ret;
	}
	*out = placement;
	return 0;
}

void sim_placement_free(sim_placement *placement)
{
	if (placement == NULL)
		return;
	for (guint z = 0; z < placement->zones->len; z++) {
		zone_nodes *zone = &g_array_index(placement->zones, zone_nodes, z);

		score_unintern(zone->zone);
		g_ptr_array_free(zone->names, TRUE);
	}
	g_array_free(placement->zones, TRUE);
	g_ptr_array_free(placement->order, TRUE);
	g_array_free(placement->candidates, TRUE);
	g_array_free(placement->feasible, TRUE);
	g_array_free(placement->scored, TRUE);
	g_ptr_array_free(placement->grown, TRUE);
	g_hash_table_destroy(placement->gpu_nodes);
	g_hash_table_destroy(placement->gpu_pods);
	g_ptr_array_free(placement->frag_dirty, TRUE);
	g_rand_free(placement->rand);
	g_free(placement);
}

/* ---- Log of nodes that gained room --------------------------------------- */

static uint64_t log_end(const sim_placement *placement)
{
	return placement->grown_base + placement->grown->len;
}

static void log_node(sim_placement *placement, score_node *node)
{
	guint keep = (guint)MAX(MIN_LOG_ENTRIES, 2 * placement->n_nodes);

	/* Dropping the older half keeps appends amortized O(1); a pod whose
	 * position was dropped walks all nodes once. */
	if (placement->grown->len >= 2 * keep) {
		guint dropped = placement->grown->len - keep;

		g_ptr_array_remove_range(placement->grown, 0, dropped);
		placement->grown_base += dropped;
	}
	g_ptr_array_add(placement->grown, node);
}

/* Forgets every entry, so that no entry outlives its node. */
static void log_clear(sim_placement *placement)
{
	placement->grown_base = log_end(placement);
	g_ptr_array_set_size(placement->grown, 0);
}

void sim_placement_node_gained_room(sim_placement *placement, const char *name)
{
	score_node *node = score_model_node(placement->model, name);

	if (node != NULL)
		log_node(placement, node);
}

/* ---- Node list ----------------------------------------------------------- */

static zone_nodes *zone_for(sim_placement *placement, const char *zone)
{
	zone_nodes added = {0};

	for (guint z = 0; z < placement->zones->len; z++) {
		zone_nodes *known = &g_array_index(placement->zones, zone_nodes, z);

		if (known->zone == zone)
			return known;
	}
	added.zone = score_intern(zone);
	added.names = g_ptr_array_new_with_free_func((GDestroyNotify)score_unintern);
	g_array_append_val(placement->zones, added);
	return &g_array_index(placement->zones, zone_nodes, placement->zones->len - 1);
}

void sim_placement_add_node(sim_placement *placement, const char *name,
			    int32_t gpus, int32_t gpu_model)
{
	score_node *node = score_model_node(placement->model, name);
	const char *zone;

	g_return_if_fail(node != NULL);
	/* Label values are interned, so zones compare by pointer. */
	zone = score_labels_get(&node->labels, SIM_LABEL_ZONE);
	g_ptr_array_add(zone_for(placement, zone)->names, (gpointer)score_intern(name));
	placement->order_dirty = true;
	placement->n_nodes++;
	log_node(placement, node);

	if (gpus > 0) {
		gpu_entry *gpu = g_new0(gpu_entry, 1);
		const char *key = score_intern(name);

		score_gpu_node_init(&gpu->node, key, node->allocatable.v[SCORE_RES_CPU],
				    node->allocatable.v[SCORE_RES_MEMORY], gpus,
				    gpu_model);
		g_hash_table_replace(placement->gpu_nodes, (gpointer)key, gpu);
		g_ptr_array_add(placement->frag_dirty, gpu);
		placement->gpu_capacity += (int64_t)gpus * SCORE_GPU_MILLI;
	}
}

/* Drops an entry's cached fragmentation until the next sum. */
static void frag_invalidate(sim_placement *placement, gpu_entry *gpu)
{
	if (!gpu->frag_valid)
		return;
	placement->frag_total -= gpu->frag;
	gpu->frag_valid = false;
	g_ptr_array_add(placement->frag_dirty, gpu);
}

void sim_placement_remove_node(sim_placement *placement, const char *name)
{
	gpu_entry *entry = g_hash_table_lookup(placement->gpu_nodes, name);
	score_gpu_node *gpu = entry != NULL ? &entry->node : NULL;

	log_clear(placement);
	for (guint z = 0; z < placement->zones->len; z++) {
		zone_nodes *zone = &g_array_index(placement->zones, zone_nodes, z);

		for (guint i = 0; i < zone->names->len; i++) {
			if (strcmp(zone->names->pdata[i], name) == 0) {
				g_ptr_array_remove_index(zone->names, i);
				placement->order_dirty = true;
				placement->n_nodes--;
				break;
			}
		}
	}
	if (gpu != NULL) {
		placement->gpu_capacity -= (int64_t)gpu->n_devices * SCORE_GPU_MILLI;
		placement->gpu_allocated -= (int64_t)gpu->n_devices * SCORE_GPU_MILLI -
					    score_gpu_node_free_milli(gpu);
		if (entry->frag_valid)
			placement->frag_total -= entry->frag;
		else
			g_ptr_array_remove_fast(placement->frag_dirty, entry);
		g_hash_table_remove(placement->gpu_nodes, name);
	}
}

/* Rebuilds the zone-interleaved list after nodes came or went. */
static GPtrArray *node_order(sim_placement *placement)
{
	guint longest = 0;

	if (!placement->order_dirty)
		return placement->order;
	g_ptr_array_set_size(placement->order, 0);
	for (guint z = 0; z < placement->zones->len; z++)
		longest = MAX(longest, g_array_index(placement->zones, zone_nodes, z).names->len);
	for (guint i = 0; i < longest; i++) {
		for (guint z = 0; z < placement->zones->len; z++) {
			zone_nodes *zone = &g_array_index(placement->zones, zone_nodes, z);
			score_node *node;

			if (i >= zone->names->len)
				continue;
			node = score_model_node(placement->model, zone->names->pdata[i]);
			if (node != NULL)
				g_ptr_array_add(placement->order, node);
		}
	}
	placement->order_dirty = false;
	return placement->order;
}

/* ---- Choosing ------------------------------------------------------------ */

/* The positive requests of a pod other than the pod slot, gathered once
 * per attempt for lacks_room(). */
typedef struct room_need {
	int n;
	int resource[SCORE_RES_MAX];
	int64_t amount[SCORE_RES_MAX];
} room_need;

static void room_need_of(const score_pod *pod, room_need *need)
{
	need->n = 0;
	for (int r = 0; r < SCORE_RES_MAX; r++) {
		if (r == SCORE_RES_PODS || pod->request.v[r] <= 0)
			continue;
		need->resource[need->n] = r;
		need->amount[need->n] = pod->request.v[r];
		need->n++;
	}
}

/* True when the node's free resources cannot hold the pod: the rejection
 * rule of NodeResourcesFit (score_filter_fit() in scoring/contention.c),
 * too many pods or a positive request above what is free. The pipeline
 * rejects every such node as well, so skipping it changes no result.
 * NOTE: this must stay as strict as score_filter_fit() or less. */
static bool lacks_room(const score_node *node, const room_need *need)
{
	if (node->requested.v[SCORE_RES_PODS] + 1 > node->allocatable.v[SCORE_RES_PODS])
		return true;
	for (int i = 0; i < need->n; i++) {
		int r = need->resource[i];

		if (need->amount[i] > node->allocatable.v[r] - node->requested.v[r])
			return true;
	}
	return false;
}

static void candidate_init(score_candidate *candidate, const score_node *node)
{
	memset(candidate, 0, sizeof(*candidate));
	candidate->name = node->name;
	candidate->node = node;
}

/* Runs the pipeline's filters on placement->candidates and appends those
 * that pass to placement->feasible. */
static void filter_candidates(sim_placement *placement,
			      const score_request *request)
{
	guint n = placement->candidates->len;
	score_result result;

	score_pipeline_filter(&placement->pipeline, request,
			      (const score_candidate *)(void *)placement->candidates->data,
			      n, &result);
	for (guint k = 0; k < n; k++) {
		if (result.nodes[k].fit == SCORE_FIT)
			g_array_append_val(placement->feasible,
					   g_array_index(placement->candidates,
							 score_candidate, k));
	}
	score_result_release(&result);
}

/* Filters nodes from the rotating start until enough pass; fills
 * placement->feasible and advances the start past the nodes looked at.
 * Nodes go to the pipeline in batches no larger than the feasible nodes
 * still wanted, so the walk stops at the same node as a walk that filters
 * one node at a time. With `skip_full`, or after a walk that rejected most
 * nodes, nodes without room are rejected before the pipeline. That pays
 * on a full cluster and costs about 5% when most nodes fit. */
static void find_feasible(sim_placement *placement, const score_request *request,
			  bool skip_full)
{
	GPtrArray *order = node_order(placement);
	size_t n = order->len;
	size_t wanted = sim_feasible_nodes_to_find((uint32_t)MIN(n, UINT32_MAX),
						   placement->config.percentage_of_nodes_to_score);
	size_t start = n > 0 ? placement->next_start % n : 0;
	size_t checked = 0;
	room_need need;

	room_need_of(request->pod, &need);
	g_array_set_size(placement->feasible, 0);
	while (placement->feasible->len < wanted && checked < n) {
		size_t room = wanted - placement->feasible->len;

		g_array_set_size(placement->candidates, 0);
		while (checked < n && placement->candidates->len < room) {
			const score_node *node = order->pdata[(start + checked) % n];
			score_candidate candidate;

			checked++;
			if ((skip_full || placement->mostly_full) && lacks_room(node, &need))
				continue;
			candidate_init(&candidate, node);
			g_array_append_val(placement->candidates, candidate);
		}
		if (placement->candidates->len > 0)
			filter_candidates(placement, request);
	}
	placement->nodes_evaluated += checked;
	placement->next_start = n > 0 ? (start + checked) % n : 0;
	placement->mostly_full = 2 * (checked - placement->feasible->len) > checked;
}

/* True when a node logged at position `since` or later passes the
 * filters: the only nodes that can fit a pod that fit none at `since`. */
static bool logged_node_fits(sim_placement *placement,
			     const score_request *request, uint64_t since)
{
	GPtrArray *grown = placement->grown;
	room_need need;

	room_need_of(request->pod, &need);
	g_array_set_size(placement->feasible, 0);
	for (guint i = (guint)(since - placement->grown_base); i < grown->len; i++) {
		const score_node *node = grown->pdata[i];
		score_candidate candidate;

		placement->nodes_evaluated++;
		if (lacks_room(node, &need))
			continue;
		g_array_set_size(placement->candidates, 0);
		candidate_init(&candidate, node);
		g_array_append_val(placement->candidates, candidate);
		filter_candidates(placement, request);
		if (placement->feasible->len > 0)
			return true;
	}
	return false;
}

/* True when the pod's memo proves that no node fits it now: it fit none
 * at a position still in the log, and no node logged since fits. */
static bool known_unfit(sim_placement *placement, const score_request *request,
			uint64_t unfit_mark)
{
	uint64_t since;

	if (unfit_mark == 0 || placement->config.nonlocal_filters)
		return false;
	since = unfit_mark - 1;
	/* With the log dropped past `since`, or more entries to check than
	 * nodes, the walk is the cheaper proof. */
	if (since < placement->grown_base ||
	    log_end(placement) - since >= placement->n_nodes)
		return false;
	return !logged_node_fits(placement, request, since);
}

/* Scores the feasible nodes and returns the best, smallest name on ties.
 * The result array is the placement's scratch rather than one allocated
 * per pod; feasible nodes carry no reason string to free. */
static score_node *best_feasible(sim_placement *placement,
				 const score_request *request)
{
	size_t n = placement->feasible->len;
	const score_candidate *feasible =
		(const score_candidate *)(void *)placement->feasible->data;
	score_result result = {0};
	const score_node_result *best = NULL;

	g_array_set_size(placement->scored, n);
	result.nodes = (score_node_result *)(void *)placement->scored->data;
	result.n_nodes = n;
	result.n_fit = n;
	for (size_t i = 0; i < n; i++) {
		memset(&result.nodes[i], 0, sizeof(result.nodes[i]));
		result.nodes[i].name = feasible[i].name;
		result.nodes[i].node = feasible[i].node;
		result.nodes[i].fit = SCORE_FIT;
	}
	score_pipeline_score(&placement->pipeline, request, feasible, &result);

	for (size_t i = 0; i < n; i++) {
		const score_node_result *node = &result.nodes[i];

		if (best == NULL || node->total > best->total ||
		    (node->total == best->total && strcmp(node->name, best->name) < 0))
			best = node;
	}
	return (score_node *)best->node;
}

score_node *sim_placement_choose(sim_placement *placement, const score_pod *pod,
				 const sim_gpu_binding *gpu, int64_t now_ms,
				 uint64_t *unfit_mark)
{
	score_request request = {
		.model = placement->model,
		.pod = pod,
		.now_ms = now_ms,
	};
	score_node *chosen = NULL;

	/* Without GPU nodes the pipeline has no GPU filter, and no node fits. */
	if (gpu != NULL && gpu->shape.gpu_count > 0 && !placement->config.gpus)
		return NULL;
	if (gpu != NULL)
		g_hash_table_insert(placement->gpu_pods, (gpointer)pod->uid,
				    (gpointer)&gpu->shape);

	/* Criteria with per-request state (a policy's locality finds the
	 * pod's peers) prepare it once per attempt; the model does not
	 * change during one. */
	if (placement->config.policy.kind == SIM_POLICY_FILE)
		request.cache = score_request_cache_new();
	if (unfit_mark == NULL || !known_unfit(placement, &request, *unfit_mark)) {
		find_feasible(placement, &request, unfit_mark != NULL && *unfit_mark != 0);
		if (placement->feasible->len == 1)
			chosen = (score_node *)g_array_index(placement->feasible,
							     score_candidate, 0).node;
		else if (placement->feasible->len > 1)
			chosen = best_feasible(placement, &request);
	}
	if (unfit_mark != NULL)
		*unfit_mark = chosen == NULL ? log_end(placement) + 1 : 0;

	if (gpu != NULL)
		g_hash_table_remove(placement->gpu_pods, pod->uid);
	score_request_cache_free(request.cache);
	return chosen;
}

/* ---- GPU devices --------------------------------------------------------- */

/* The stored GPU node with CPU and memory as the model has them now. */
static score_gpu_node *gpu_node_current(sim_placement *placement,
					const char *name)
{
	gpu_entry *entry = g_hash_table_lookup(placement->gpu_nodes, name);
	score_gpu_node *gpu = entry != NULL ? &entry->node : NULL;
	score_node *node = score_model_node(placement->model, name);

	if (gpu == NULL || node == NULL)
		return gpu;
	gpu->cpu_capacity = node->allocatable.v[SCORE_RES_CPU];
	gpu->cpu_free = gpu->cpu_capacity - node->requested.v[SCORE_RES_CPU];
	gpu->memory_capacity = node->allocatable.v[SCORE_RES_MEMORY];
	gpu->memory_free = gpu->memory_capacity - node->requested.v[SCORE_RES_MEMORY];
	return gpu;
}

void sim_placement_bind_gpu(sim_placement *placement, const char *node,
			    sim_gpu_binding *gpu)
{
	score_gpu_node *gpu_node = gpu_node_current(placement, node);
	score_gpu_device_rule rule = SCORE_GPU_DEVICE_TIGHTEST;
	int n;

	gpu->n_devices = 0;
	if (gpu_node == NULL || gpu->shape.gpu_count == 0)
		return;
	if (placement->config.policy.kind == SIM_POLICY_GPU)
		rule = score_gpu_policy_device_rule(placement->config.policy.gpu);
	n = score_gpu_choose_devices(gpu_node, &gpu->shape, rule,
				     placement->config.typical, placement->rand,
				     gpu->devices);
	g_return_if_fail(n >= 0);
	gpu->n_devices = n;
	score_gpu_node_add_pod(gpu_node, &gpu->shape, gpu->devices, n);
	frag_invalidate(placement, (gpu_entry *)gpu_node);
	placement->gpu_allocated += (int64_t)gpu->shape.gpu_count * gpu->shape.gpu_milli;
}

void sim_placement_unbind_gpu(sim_placement *placement, const char *node,
			      const sim_gpu_binding *gpu)
{
	gpu_entry *entry = g_hash_table_lookup(placement->gpu_nodes, node);

	if (entry == NULL || gpu->n_devices == 0)
		return;
	score_gpu_node_remove_pod(&entry->node, &gpu->shape, gpu->devices,
				  gpu->n_devices);
	frag_invalidate(placement, entry);
	placement->gpu_allocated -= (int64_t)gpu->shape.gpu_count * gpu->shape.gpu_milli;
}

int64_t sim_placement_gpu_capacity(const sim_placement *placement)
{
	return placement->gpu_capacity;
}

int64_t sim_placement_gpu_allocated(const sim_placement *placement)
{
	return placement->gpu_allocated;
}

void sim_placement_node_changed(sim_placement *placement, const char *name)
{
	gpu_entry *entry = g_hash_table_lookup(placement->gpu_nodes, name);

	if (entry != NULL)
		frag_invalidate(placement, entry);
}

double sim_placement_gpu_fragmentation(sim_placement *placement)
{
	if (placement->config.typical == NULL)
		return 0.0;
	/* Only nodes whose pods changed since the last call are measured
	 * again; a node's fragmentation depends on nothing else. */
	for (guint i = 0; i < placement->frag_dirty->len; i++) {
		gpu_entry *entry = placement->frag_dirty->pdata[i];

		gpu_node_current(placement, entry->node.name);
		entry->frag = score_gpu_frag_amount(&entry->node, placement->config.typical);
		entry->frag_valid = true;
		placement->frag_total += entry->frag;
	}
	g_ptr_array_set_size(placement->frag_dirty, 0);
	return MAX(placement->frag_total, 0.0);
}

uint64_t sim_placement_nodes_evaluated(const sim_placement *placement)
{
	return placement->nodes_evaluated;
}
