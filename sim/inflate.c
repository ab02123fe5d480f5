/* Inflation mode of the simulator; see inflate.h. "The paper's simulator"
 * below is github.com/hkust-adsl/kubernetes-scheduler-simulator, which
 * produced the FGD paper's published results. */
#include "sim/inflate.h"

#include <errno.h>
#include <math.h>
#include <string.h>

const int sim_default_steps[7] = {50, 80, 90, 100, 110, 120, 130};

/* Arrived-load bins of one percent; arrivals past the last bin are not
 * summarized. */
#define MAX_BINS 1000

/* FGD scores are cached per node and pod shape while the cache stays below
 * this many entries (16 bytes each). */
#define MAX_CACHE_ENTRIES (1u << 24)

void sim_inflate_defaults(sim_inflate_config *config)
{
	memset(config, 0, sizeof(*config));
	config->policy = SCORE_GPU_FGD;
	config->seed = 42;
	config->ratio = 1.3;
	config->tie_break = SIM_TIE_SHUFFLED;
	config->n_steps = G_N_ELEMENTS(sim_default_steps);
	memcpy(config->steps, sim_default_steps, sizeof(sim_default_steps));
}

static void shuffle(GRand *rand, uint32_t *items, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)g_rand_int_range(rand, 0, (gint32)i);
		uint32_t swap = items[i - 1];

		items[i - 1] = items[j];
		items[j] = swap;
	}
}

static int64_t pod_gpu_milli(const score_gpu_pod *pod)
{
	return (int64_t)pod->gpu_count * pod->gpu_milli;
}

void sim_inflate_arrivals(const sim_workload *workload,
			  int64_t cluster_gpu_milli, double ratio,
			  GRand *rand, GArray *order)
{
	double target = ratio * (double)cluster_gpu_milli;
	int64_t total = workload->requested_gpu_milli;
	size_t n = workload->n_pods;

	g_array_set_size(order, n);
	for (size_t i = 0; i < n; i++)
		g_array_index(order, uint32_t, i) = (uint32_t)i;
	shuffle(rand, (uint32_t *)(void *)order->data, n);

	while ((double)total > target && order->len > 0) {
		guint i = (guint)g_rand_int_range(rand, 0, (gint32)order->len);

		total -= pod_gpu_milli(&workload->pods[g_array_index(order, uint32_t, i)]);
		g_array_remove_index(order, i);
	}
	if ((double)total >= target || workload->requested_gpu_milli <= 0)
		return;

	for (;;) {
		uint32_t i = (uint32_t)g_rand_int_range(rand, 0, (gint32)n);
		const score_gpu_pod *pod = &workload->pods[i];

		/* The paper's simulator tests the per-GPU share here. */
		if ((double)(total + pod->gpu_milli) > target)
			break;
		total += pod_gpu_milli(pod);
		g_array_append_val(order, i);
	}
}

/* Sums of the per-arrival records in one arrived-load bin. */
typedef struct load_bin {
	size_t count;
	double alloc_pct;  /* each rounded to 2 decimals first */
	double frag_milli;
	double frag_ratio_pct;
	size_t frag_ratio_count; /* arrivals with idle GPUs */
} load_bin;

/* State of one run. */
typedef struct run_state {
	const sim_cluster *cluster;
	const sim_workload *workload;
	const sim_inflate_config *config;
	GRand *rand;
	score_gpu_node *nodes; /* owned copy */
	uint32_t *rank;        /* tie order: lower wins */
	double *frag;          /* per node, milli-GPU */
	double cluster_frag;
	int64_t cluster_free;
	size_t *feasible;
	int64_t *scores;
	/* FGD cache: entry (node, shape) is valid while its stamp equals the
	 * node's stamp, which changes whenever the node does. */
	int64_t *cache_score;
	uint32_t *cache_stamp;
	uint32_t *node_stamp;
	load_bin *bins;
} run_state;

static double round2(double value)
{
	return nearbyint(value * 100.0) / 100.0;
}

static int check_config(const sim_cluster *cluster,
			const sim_workload *workload,
			const sim_inflate_config *config, score_error *err)
{
	if ((int)config->policy < 0 || config->policy >= SCORE_GPU_POLICIES)
		return score_fail(err, -EINVAL, "invalid GPU policy %d",
				  (int)config->policy);
	if (!isfinite(config->ratio) || config->ratio <= 0 || config->ratio > 100)
		return score_fail(err, -EINVAL,
				  "inflation ratio %g out of range: give a multiple of the cluster's GPUs above 0 and at most 100",
				  config->ratio);
	if (config->n_steps > SIM_MAX_STEPS)
		return score_fail(err, -EINVAL, "%zu steps: at most %d are supported",
				  config->n_steps, SIM_MAX_STEPS);
	for (size_t i = 0; i < config->n_steps; i++) {
		if (config->steps[i] < 0 || config->steps[i] > MAX_BINS - 2)
			return score_fail(err, -EINVAL,
					  "arrived-load step %d%% out of range 0..%d",
					  config->steps[i], MAX_BINS - 2);
	}
	if (cluster->n_nodes == 0 || cluster->total_gpus == 0)
		return score_fail(err, -EINVAL,
				  "the cluster has no GPUs: inflation mode measures GPU allocation, give a node list with GPU nodes");
	if (workload->n_pods == 0 || workload->requested_gpu_milli <= 0)
		return score_fail(err, -EINVAL,
				  "the workload requests no GPUs: inflation mode needs pods with num_gpu above 0");
	return 0;
}

static void state_init(run_state *state, const sim_cluster *cluster,
		       const sim_workload *workload,
		       const sim_inflate_config *config)
{
	size_t n = cluster->n_nodes;
	size_t entries = n * workload->n_shapes;

	memset(state, 0, sizeof(*state));
	state->cluster = cluster;
	state->workload = workload;
	state->config = config;
	state->rand = g_rand_new_with_seed(config->seed);
	state->nodes = g_memdup2(cluster->nodes, n * sizeof(*cluster->nodes));
	state->rank = g_new(uint32_t, n);
	state->frag = g_new(double, n);
	state->feasible = g_new(size_t, n);
	state->scores = g_new(int64_t, n);
	state->bins = g_new0(load_bin, MAX_BINS);

	if (config->policy == SCORE_GPU_FGD && entries > 0 &&
	    entries <= MAX_CACHE_ENTRIES) {
		state->cache_score = g_new(int64_t, entries);
		state->cache_stamp = g_new0(uint32_t, entries);
		state->node_stamp = g_new(uint32_t, n);
		for (size_t i = 0; i < n; i++)
			state->node_stamp[i] = 1;
	}

	for (size_t i = 0; i < n; i++) {
		state->frag[i] = score_gpu_frag_amount(&state->nodes[i],
						       workload->typical);
		state->cluster_frag += state->frag[i];
		state->cluster_free += score_gpu_node_free_milli(&state->nodes[i]);
	}
}

static void state_release(run_state *state)
{
	g_rand_free(state->rand);
	g_free(state->nodes);
	g_free(state->rank);
	g_free(state->frag);
	g_free(state->feasible);
	g_free(state->scores);
	g_free(state->cache_score);
	g_free(state->cache_stamp);
	g_free(state->node_stamp);
	g_free(state->bins);
	memset(state, 0, sizeof(*state));
}

/* The tie order of nodes, which are sorted by name: the name order itself,
 * or the seeded permutation the paper's simulator writes into node names. */
static void make_ranks(run_state *state)
{
	size_t n = state->cluster->n_nodes;

	for (size_t i = 0; i < n; i++)
		state->rank[i] = (uint32_t)i;
	if (state->config->tie_break == SIM_TIE_SHUFFLED)
		shuffle(state->rand, state->rank, n);
}

static int64_t node_score(run_state *state, size_t node, uint32_t pod_index)
{
	const score_gpu_pod *pod = &state->workload->pods[pod_index];
	size_t entry;

	if (state->cache_score == NULL)
		return score_gpu_score(state->config->policy, &state->nodes[node],
				       pod, state->workload->typical);

	entry = node * state->workload->n_shapes + state->workload->shapes[pod_index];
	if (state->cache_stamp[entry] != state->node_stamp[node]) {
		state->cache_score[entry] =
			score_gpu_score(state->config->policy, &state->nodes[node],
					pod, state->workload->typical);
		state->cache_stamp[entry] = state->node_stamp[node];
	}
	return state->cache_score[entry];
}

/* Chooses among `n` feasible nodes: the highest score, ties to the lowest
 * rank; Random draws uniformly. */
static size_t choose_node(run_state *state, uint32_t pod_index, size_t n)
{
	size_t best = 0;

	if (n == 1)
		return state->feasible[0];
	if (state->config->policy == SCORE_GPU_RANDOM)
		return state->feasible[g_rand_int_range(state->rand, 0, (gint32)n)];

	for (size_t k = 0; k < n; k++)
		state->scores[k] = node_score(state, state->feasible[k], pod_index);
	if (state->config->policy == SCORE_GPU_BEST_FIT)
		score_gpu_normalize_min_max(state->scores, n);

	for (size_t k = 1; k < n; k++) {
		if (state->scores[k] > state->scores[best] ||
		    (state->scores[k] == state->scores[best] &&
		     state->rank[state->feasible[k]] < state->rank[state->feasible[best]]))
			best = k;
	}
	return state->feasible[best];
}

static void place(run_state *state, size_t node_index, uint32_t pod_index)
{
	score_gpu_node *node = &state->nodes[node_index];
	const score_gpu_pod *pod = &state->workload->pods[pod_index];
	int devices[SCORE_GPU_MAX_DEVICES];
	int n_devices;
	double frag;

	n_devices = score_gpu_choose_devices(
		node, pod, score_gpu_policy_device_rule(state->config->policy),
		state->workload->typical, state->rand, devices);
	if (n_devices < 0)
		return; /* unreachable: the node passed the fit check */

	score_gpu_node_add_pod(node, pod, devices, n_devices);
	state->cluster_free -= pod_gpu_milli(pod);
	frag = score_gpu_frag_amount(node, state->workload->typical);
	state->cluster_frag += frag - state->frag[node_index];
	state->frag[node_index] = frag;
	if (state->node_stamp != NULL)
		state->node_stamp[node_index]++;
}

/* Records the cluster after one arrival into its arrived-load bin, in the
 * units and rounding of the paper's analysis scripts. */
static void record(run_state *state, int64_t arrived_milli)
{
	double total_gpus = (double)state->cluster->total_gpus;
	int64_t used = state->cluster->total_gpus * SCORE_GPU_MILLI -
		       state->cluster_free;
	double bin_pct = nearbyint((double)arrived_milli / total_gpus / 10.0);
	load_bin *bin;

	if (!(bin_pct >= 0 && bin_pct < MAX_BINS))
		return;
	bin = &state->bins[(size_t)bin_pct];
	bin->count++;
	bin->alloc_pct += round2((double)used / total_gpus / 10.0);
	bin->frag_milli += state->cluster_frag;
	if (state->cluster_free > 0) {
		/* The simulator logs the ratio with two decimals. */
		bin->frag_ratio_pct += round2(100.0 * state->cluster_frag /
					      (double)state->cluster_free);
		bin->frag_ratio_count++;
	}
}

static void summarize_step(const run_state *state, int step, sim_step *out)
{
	load_bin sum = {0};
	int first = step;
	int last = step;

	memset(out, 0, sizeof(*out));
	out->arrived_pct = step;
	if (state->bins[step].count == 0) {
		first = MAX(step - 1, 0);
		last = step + 1;
	}
	for (int b = first; b <= last; b++) {
		const load_bin *bin = &state->bins[b];

		sum.count += bin->count;
		sum.alloc_pct += bin->alloc_pct;
		sum.frag_milli += bin->frag_milli;
		sum.frag_ratio_pct += bin->frag_ratio_pct;
		sum.frag_ratio_count += bin->frag_ratio_count;
	}
	out->arrivals = sum.count;
	out->measured = sum.count > 0;
	if (!out->measured)
		return;

	out->alloc_pct = round2(sum.alloc_pct / (double)sum.count);
	out->unalloc_pct = round2(100.0 - out->alloc_pct);
	out->frag_amount_pct = round2(100.0 * (sum.frag_milli / (double)sum.count) /
				      1000.0 / (double)state->cluster->total_gpus);
	if (sum.frag_ratio_count > 0)
		out->frag_ratio_pct = round2(sum.frag_ratio_pct /
					     (double)sum.frag_ratio_count);
}

int sim_inflate_run(const sim_cluster *cluster, const sim_workload *workload,
		    const sim_inflate_config *config, sim_inflate_result *result,
		    score_error *err)
{
	GArray *order = NULL;
	run_state state;
	int64_t arrived_milli = 0;
	int64_t started;
	int ret;

	memset(result, 0, sizeof(*result));
	ret = check_config(cluster, workload, config, err);
	if (ret < 0)
		return ret;

	state_init(&state, cluster, workload, config);
	order = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	sim_inflate_arrivals(workload, cluster->total_gpus * SCORE_GPU_MILLI,
			     config->ratio, state.rand, order);
	make_ranks(&state);

	started = g_get_monotonic_time();
	for (guint a = 0; a < order->len; a++) {
		uint32_t pod_index = g_array_index(order, uint32_t, a);
		const score_gpu_pod *pod = &workload->pods[pod_index];
		size_t n_feasible = 0;
		long chosen = -1;

		arrived_milli += pod_gpu_milli(pod);
		for (size_t i = 0; i < cluster->n_nodes; i++) {
			if (score_gpu_fits(&state.nodes[i], pod, NULL))
				state.feasible[n_feasible++] = i;
		}
		if (n_feasible == 0) {
			result->pods_failed++;
		} else {
			chosen = (long)choose_node(&state, pod_index, n_feasible);
			place(&state, (size_t)chosen, pod_index);
		}
		record(&state, arrived_milli);
		if (config->on_placement != NULL)
			config->on_placement(config->placement_data, pod_index, chosen);
	}
	result->seconds = (double)(g_get_monotonic_time() - started) / 1e6;

	result->pods_arrived = order->len;
	result->pods_sampled = order->len > workload->n_pods ?
				       order->len - workload->n_pods : 0;
	result->arrived_gpu_milli = arrived_milli;
	result->allocated_gpu_milli = cluster->total_gpus * SCORE_GPU_MILLI -
				      state.cluster_free;
	result->n_steps = config->n_steps;
	for (size_t s = 0; s < config->n_steps; s++)
		summarize_step(&state, config->steps[s], &result->steps[s]);

	g_array_free(order, TRUE);
	state_release(&state);
	return 0;
}
