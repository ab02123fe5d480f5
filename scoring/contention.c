/* Resource contention filters and scorers; see contention.h. */
#include "scoring/contention.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* 128-bit products keep byte counts times 100 exact. */
__extension__ typedef __int128 wide_int;

#define TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"

void score_contention_defaults(score_contention_config *config)
{
	memset(config, 0, sizeof(*config));
	config->strategy = SCORE_LEAST_ALLOCATED;
	config->resources[0] = (score_resource_weight){SCORE_RES_CPU, 1};
	config->resources[1] = (score_resource_weight){SCORE_RES_MEMORY, 1};
	config->n_resources = 2;
	config->balanced_resources[0] = (score_resource_weight){SCORE_RES_CPU, 1};
	config->balanced_resources[1] = (score_resource_weight){SCORE_RES_MEMORY, 1};
	config->n_balanced_resources = 2;
	/* kube-scheduler's default RequestedToCapacityRatio shape favours
	 * packing: 0% used scores 0, 100% used scores 10. */
	config->shape[0] = (score_shape_point){0, 0};
	config->shape[1] = (score_shape_point){100, 10};
	config->n_shape = 2;
	config->reject_not_ready = true;
}

static int validate_weights(const score_resource_weight *weights, size_t n,
			    const char *what, score_error *err)
{
	if (n == 0)
		return score_fail(err, -EINVAL,
				  "%s lists no resources: give at least one, e.g. cpu with weight 1",
				  what);
	for (size_t i = 0; i < n; i++) {
		if (weights[i].index < 0 || weights[i].index >= SCORE_RES_MAX)
			return score_fail(err, -EINVAL,
					  "%s resource %zu has invalid slot %d",
					  what, i, weights[i].index);
		/* KubeSchedulerConfiguration accepts weights 1..100. */
		if (weights[i].weight < 1 || weights[i].weight > 100)
			return score_fail(err, -EINVAL,
					  "%s resource %zu has weight %lld: weights must be 1 to 100",
					  what, i, (long long)weights[i].weight);
	}
	return 0;
}

static int validate_shape(const score_contention_config *config,
			  score_error *err)
{
	if (config->n_shape == 0 || config->n_shape > SCORE_MAX_SHAPE_POINTS)
		return score_fail(err, -EINVAL,
				  "requestedToCapacityRatio shape has %zu points: give 1 to %d",
				  config->n_shape, SCORE_MAX_SHAPE_POINTS);
	for (size_t i = 0; i < config->n_shape; i++) {
		const score_shape_point *point = &config->shape[i];

		if (point->utilization < 0 || point->utilization > 100)
			return score_fail(err, -EINVAL,
					  "shape point %zu has utilization %lld: use 0 to 100",
					  i, (long long)point->utilization);
		if (point->score < 0 || point->score > 10)
			return score_fail(err, -EINVAL,
					  "shape point %zu has score %lld: use 0 to 10",
					  i, (long long)point->score);
		if (i > 0 && point->utilization <= config->shape[i - 1].utilization)
			return score_fail(err, -EINVAL,
					  "shape point %zu has utilization %lld, not above the previous point's %lld: list points in increasing utilization",
					  i, (long long)point->utilization,
					  (long long)config->shape[i - 1].utilization);
	}
	return 0;
}

int score_contention_validate(const score_contention_config *config,
			      score_error *err)
{
	int rc;

	rc = validate_weights(config->resources, config->n_resources,
			      "scoring strategy", err);
	if (rc < 0)
		return rc;
	rc = validate_weights(config->balanced_resources,
			      config->n_balanced_resources,
			      "balanced allocation", err);
	if (rc < 0)
		return rc;
	if (config->strategy == SCORE_REQUESTED_TO_CAPACITY_RATIO) {
		rc = validate_shape(config, err);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < SCORE_RES_MAX; i++) {
		if (config->ceiling_percent[i] < 0 || config->ceiling_percent[i] > 100)
			return score_fail(err, -EINVAL,
					  "utilization ceiling %lld%% for resource slot %d is invalid: use 1 to 100, or 0 for none",
					  (long long)config->ceiling_percent[i], i);
	}
	return 0;
}

/* ---- Filters ------------------------------------------------------------- */

static bool pod_tolerates(const score_pod *pod, const score_taint *taint)
{
	for (uint32_t i = 0; i < pod->n_tolerations; i++) {
		if (score_toleration_matches(&pod->tolerations[i], taint))
			return true;
	}
	return false;
}

/* Tolerating a condition taint with either effect admits the pod, as the
 * DaemonSet controller's tolerations do. */
static bool pod_tolerates_condition(const score_pod *pod, const char *key)
{
	score_taint taint = {.key = key, .value = NULL};

	taint.effect = SCORE_EFFECT_NO_SCHEDULE;
	if (pod_tolerates(pod, &taint))
		return true;
	taint.effect = SCORE_EFFECT_NO_EXECUTE;
	return pod_tolerates(pod, &taint);
}

score_fit score_filter_unschedulable(const void *config,
				     const score_request *request,
				     const score_node *node,
				     const score_usage *usage, GString *reason)
{
	const score_contention_config *contention = config;
	const score_pod *pod = request->pod;

	(void)usage;
	if (node->unschedulable &&
	    !pod_tolerates_condition(pod, TAINT_UNSCHEDULABLE)) {
		g_string_append(reason, "node is cordoned (spec.unschedulable is true)");
		return SCORE_REJECT_UNRESOLVABLE;
	}
	if (contention->reject_not_ready && !node->ready &&
	    !pod_tolerates_condition(pod, TAINT_NOT_READY)) {
		g_string_append(reason, node->ready_unreported
					? "node is not Ready: status.conditions has no Ready condition, so the kubelet has not reported yet"
					: "node is not Ready");
		return SCORE_REJECT_UNRESOLVABLE;
	}
	return SCORE_FIT;
}

static const char *effect_name(score_taint_effect effect)
{
	switch (effect) {
	case SCORE_EFFECT_NO_SCHEDULE:
		return "NoSchedule";
	case SCORE_EFFECT_PREFER_NO_SCHEDULE:
		return "PreferNoSchedule";
	case SCORE_EFFECT_NO_EXECUTE:
		return "NoExecute";
	case SCORE_EFFECT_ANY:
		break;
	}
	return "";
}

score_fit score_filter_taints(const void *config, const score_request *request,
			      const score_node *node, const score_usage *usage,
			      GString *reason)
{
	(void)config;
	(void)usage;

	/* PreferNoSchedule only lowers kube-scheduler's own score. */
	for (uint32_t i = 0; i < node->n_taints; i++) {
		const score_taint *taint = &node->taints[i];

		if (taint->effect != SCORE_EFFECT_NO_SCHEDULE &&
		    taint->effect != SCORE_EFFECT_NO_EXECUTE)
			continue;
		if (pod_tolerates(request->pod, taint))
			continue;
		g_string_append_printf(reason, "untolerated taint %s%s%s:%s",
				       taint->key, taint->value ? "=" : "",
				       taint->value ? taint->value : "",
				       effect_name(taint->effect));
		return SCORE_REJECT_UNRESOLVABLE;
	}
	return SCORE_FIT;
}

static const char *resource_label(const score_request *request, int index)
{
	const char *name =
		score_resource_name(score_model_resources(request->model), index);

	return name != NULL ? name : "unknown resource";
}

/* Appends "cpu: requested 3500m, free 2000m". */
static void append_shortage(GString *reason, const score_request *request,
			    int index, int64_t wanted, int64_t free_amount)
{
	char wanted_text[32];
	char free_text[32];

	g_string_append_printf(reason, "%s: requested %s, free %s",
			       resource_label(request, index),
			       score_resource_format(index, wanted, wanted_text,
						     sizeof(wanted_text)),
			       score_resource_format(index, free_amount, free_text,
						     sizeof(free_text)));
}

score_fit score_filter_fit(const void *config, const score_request *request,
			   const score_node *node, const score_usage *usage,
			   GString *reason)
{
	const score_pod *pod = request->pod;
	score_fit fit = SCORE_FIT;
	size_t start = reason->len;

	(void)config;

	/* NodeResourcesFit counts pods first: len(pods) + 1 > allowed. */
	if (usage->requested.v[SCORE_RES_PODS] + 1 > node->allocatable.v[SCORE_RES_PODS]) {
		g_string_append_printf(reason, "too many pods: %lld of %lld already",
				       (long long)usage->requested.v[SCORE_RES_PODS],
				       (long long)node->allocatable.v[SCORE_RES_PODS]);
		/* The kubelet reports its maxPods (110 by default), so 0
		 * comes, in practice, from a hand-written node. */
		if (node->allocatable.v[SCORE_RES_PODS] == 0)
			g_string_append(reason,
					" (the node's status.allocatable.pods is 0 or missing)");
		fit = SCORE_REJECT_RESOLVABLE;
	}

	for (int r = 0; r < SCORE_RES_MAX; r++) {
		int64_t wanted = pod->request.v[r];
		int64_t allocatable = node->allocatable.v[r];
		int64_t free_amount = allocatable - usage->requested.v[r];

		if (r == SCORE_RES_PODS || wanted <= 0 || wanted <= free_amount)
			continue;
		if (reason->len > start)
			g_string_append(reason, "; ");
		append_shortage(reason, request, r, wanted,
				free_amount > 0 ? free_amount : 0);
		/* No eviction frees more than the node has. */
		if (wanted > allocatable)
			fit = SCORE_REJECT_UNRESOLVABLE;
		else if (fit == SCORE_FIT)
			fit = SCORE_REJECT_RESOLVABLE;
	}
	return fit;
}

score_fit score_filter_ceiling(const void *config,
			       const score_request *request,
			       const score_node *node,
			       const score_usage *usage, GString *reason)
{
	const score_contention_config *contention = config;
	const score_pod *pod = request->pod;
	score_fit fit = SCORE_FIT;
	size_t start = reason->len;

	for (int r = 0; r < SCORE_RES_MAX; r++) {
		int64_t ceiling = contention->ceiling_percent[r];
		int64_t allocatable = node->allocatable.v[r];
		int64_t after = usage->requested.v[r] + pod->request.v[r];

		if (ceiling == 0 || allocatable <= 0 || pod->request.v[r] <= 0)
			continue;
		/* after / allocatable > ceiling / 100, in integers; 128-bit
		 * products so byte counts cannot overflow. */
		if ((wide_int)after * 100 <= (wide_int)ceiling * allocatable)
			continue;
		if (reason->len > start)
			g_string_append(reason, "; ");
		g_string_append_printf(reason,
				       "%s: would reach %lld%% of allocatable, above the %lld%% ceiling",
				       resource_label(request, r),
				       (long long)((wide_int)after * 100 / allocatable),
				       (long long)ceiling);
		fit = SCORE_REJECT_RESOLVABLE;
	}
	return fit;
}

/* ---- Scoring formulas ---------------------------------------------------- */

static int64_t least_requested(int64_t requested, int64_t capacity)
{
	if (capacity == 0 || requested > capacity)
		return 0;
	return (capacity - requested) * SCORE_MAX_NODE_SCORE / capacity;
}

static int64_t most_requested(int64_t requested, int64_t capacity)
{
	if (capacity == 0)
		return 0;
	if (requested > capacity)
		requested = capacity;
	return requested * SCORE_MAX_NODE_SCORE / capacity;
}

int64_t score_least_allocated(const int64_t *requested,
			      const int64_t *allocatable,
			      const int64_t *weights, size_t n)
{
	int64_t sum = 0;
	int64_t weight_sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (allocatable[i] == 0)
			continue;
		sum += least_requested(requested[i], allocatable[i]) * weights[i];
		weight_sum += weights[i];
	}
	return weight_sum == 0 ? 0 : sum / weight_sum;
}

int64_t score_most_allocated(const int64_t *requested,
			     const int64_t *allocatable,
			     const int64_t *weights, size_t n)
{
	int64_t sum = 0;
	int64_t weight_sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (allocatable[i] == 0)
			continue;
		sum += most_requested(requested[i], allocatable[i]) * weights[i];
		weight_sum += weights[i];
	}
	return weight_sum == 0 ? 0 : sum / weight_sum;
}

/* helper.BuildBrokenLinearFunction over points scaled to 0..100. */
static int64_t broken_linear(const score_shape_point *shape, size_t n,
			     int64_t utilization)
{
	for (size_t i = 0; i < n; i++) {
		int64_t x1 = shape[i].utilization;
		int64_t y1 = shape[i].score * (SCORE_MAX_NODE_SCORE / 10);

		if (utilization > x1)
			continue;
		if (i == 0)
			return y1;

		int64_t x0 = shape[i - 1].utilization;
		int64_t y0 = shape[i - 1].score * (SCORE_MAX_NODE_SCORE / 10);

		return y0 + (y1 - y0) * (utilization - x0) / (x1 - x0);
	}
	return shape[n - 1].score * (SCORE_MAX_NODE_SCORE / 10);
}

/* requested * 100 / capacity for 0 < requested < capacity, exact. */
static int64_t scaled_utilization(int64_t requested, int64_t capacity)
{
	if (capacity <= 0 || requested <= 0)
		return 0;
	if (requested >= capacity)
		return 100;
	return (int64_t)((wide_int)requested * 100 / capacity);
}

int64_t score_requested_to_capacity_ratio(const int64_t *requested,
					  const int64_t *allocatable,
					  const int64_t *weights, size_t n,
					  const score_shape_point *shape,
					  size_t n_shape)
{
	int64_t sum = 0;
	int64_t weight_sum = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t score;

		if (allocatable[i] == 0)
			continue;
		if (requested[i] > allocatable[i])
			score = broken_linear(shape, n_shape, 100);
		else
			score = broken_linear(shape, n_shape,
					      scaled_utilization(requested[i], allocatable[i]));
		/* kube-scheduler leaves resources scoring 0 out of the mean. */
		if (score > 0) {
			sum += score * weights[i];
			weight_sum += weights[i];
		}
	}
	if (weight_sum == 0)
		return 0;
	return (int64_t)llround((double)sum / (double)weight_sum);
}

int64_t score_balanced_allocation(const int64_t *requested,
				  const int64_t *allocatable, size_t n)
{
	double fractions[SCORE_RES_MAX];
	double total = 0.0;
	size_t count = 0;
	double deviation = 0.0;

	for (size_t i = 0; i < n && count < SCORE_RES_MAX; i++) {
		double fraction;

		if (allocatable[i] == 0)
			continue;
		fraction = (double)requested[i] / (double)allocatable[i];
		if (fraction > 1.0)
			fraction = 1.0;
		total += fraction;
		fractions[count++] = fraction;
	}

	if (count == 2) {
		deviation = fabs((fractions[0] - fractions[1]) / 2.0);
	} else if (count > 2) {
		double mean = total / (double)count;
		double sum = 0.0;

		for (size_t i = 0; i < count; i++)
			sum += (fractions[i] - mean) * (fractions[i] - mean);
		deviation = sqrt(sum / (double)count);
	}
	return (int64_t)((1.0 - deviation) * SCORE_MAX_NODE_SCORE);
}

/* ---- Scorers on the model ------------------------------------------------ */

/* kube-scheduler's resourceAllocationScorer inputs for one resource. With
 * `use_requested` false (the NodeResourcesFit strategies) CPU and memory
 * use the non-zero defaults on both sides. Extended resources the pod does
 * not request are skipped by returning allocatable 0. */
static void allocation_inputs(const score_request *request,
			      const score_node *node, const score_usage *usage,
			      int index, bool use_requested, int64_t *requested,
			      int64_t *allocatable)
{
	const score_pod *pod = request->pod;
	bool default_backed = index == SCORE_RES_CPU || index == SCORE_RES_MEMORY;
	int64_t pod_request;
	int64_t node_requested;

	*requested = 0;
	*allocatable = 0;

	if (index == SCORE_RES_PODS)
		return;
	if (default_backed && !use_requested) {
		pod_request = pod->nonzero_request.v[index];
		node_requested = usage->nonzero_requested.v[index];
	} else {
		pod_request = pod->request.v[index];
		node_requested = usage->requested.v[index];
	}
	if (index >= SCORE_RES_FIRST_EXTENDED && pod_request == 0)
		return;

	*allocatable = node->allocatable.v[index];
	*requested = *allocatable == 0 ? 0 : node_requested + pod_request;
}

int64_t score_allocation(const void *config, const score_request *request,
			 const score_node *node, const score_usage *usage)
{
	const score_contention_config *contention = config;
	int64_t requested[SCORE_RES_MAX];
	int64_t allocatable[SCORE_RES_MAX];
	int64_t weights[SCORE_RES_MAX];
	size_t n = contention->n_resources;

	for (size_t i = 0; i < n; i++) {
		allocation_inputs(request, node, usage,
				  contention->resources[i].index, false,
				  &requested[i], &allocatable[i]);
		weights[i] = contention->resources[i].weight;
	}

	switch (contention->strategy) {
	case SCORE_MOST_ALLOCATED:
		return score_most_allocated(requested, allocatable, weights, n);
	case SCORE_REQUESTED_TO_CAPACITY_RATIO:
		return score_requested_to_capacity_ratio(requested, allocatable,
							 weights, n, contention->shape,
							 contention->n_shape);
	case SCORE_LEAST_ALLOCATED:
		break;
	}
	return score_least_allocated(requested, allocatable, weights, n);
}

int64_t score_balanced(const void *config, const score_request *request,
		       const score_node *node, const score_usage *usage)
{
	const score_contention_config *contention = config;
	int64_t requested[SCORE_RES_MAX];
	int64_t allocatable[SCORE_RES_MAX];
	size_t n = contention->n_balanced_resources;
	bool best_effort = true;

	for (size_t i = 0; i < n; i++) {
		int index = contention->balanced_resources[i].index;

		if (request->pod->request.v[index] != 0)
			best_effort = false;
		allocation_inputs(request, node, usage, index, true,
				  &requested[i], &allocatable[i]);
	}
	/* Recent kube-scheduler releases skip BalancedAllocation for pods
	 * that request none of its resources, so that best-effort pods do
	 * not all pile onto one node (kubernetes/kubernetes#129138). */
	if (best_effort)
		return SCORE_SKIP;
	return score_balanced_allocation(requested, allocatable, n);
}

static const char *strategy_name(score_strategy strategy)
{
	switch (strategy) {
	case SCORE_MOST_ALLOCATED:
		return "MostAllocated";
	case SCORE_REQUESTED_TO_CAPACITY_RATIO:
		return "RequestedToCapacityRatio";
	case SCORE_LEAST_ALLOCATED:
		break;
	}
	return "LeastAllocated";
}

static bool has_ceiling(const score_contention_config *config)
{
	for (int i = 0; i < SCORE_RES_MAX; i++) {
		if (config->ceiling_percent[i] > 0)
			return true;
	}
	return false;
}

int score_pipeline_add_contention(score_pipeline *pipeline,
				  const score_contention_config *config,
				  int64_t allocation_weight,
				  int64_t balanced_weight, score_error *err)
{
	const score_filter filters[] = {
		{"NodeUnschedulable", score_filter_unschedulable, config},
		{"TaintToleration", score_filter_taints, config},
		{"NodeResourcesFit", score_filter_fit, config},
		{"UtilizationCeiling", score_filter_ceiling, config},
	};
	size_t n_filters = G_N_ELEMENTS(filters);
	int rc;

	rc = score_contention_validate(config, err);
	if (rc < 0)
		return rc;

	if (!has_ceiling(config))
		n_filters--;
	for (size_t i = 0; i < n_filters; i++) {
		rc = score_pipeline_add_filter(pipeline, &filters[i], err);
		if (rc < 0)
			return rc;
	}

	if (allocation_weight > 0) {
		const score_scorer scorer = {
			strategy_name(config->strategy), score_allocation, NULL,
			config, allocation_weight,
		};

		rc = score_pipeline_add_scorer(pipeline, &scorer, err);
		if (rc < 0)
			return rc;
	}
	if (balanced_weight > 0) {
		const score_scorer scorer = {
			"BalancedAllocation", score_balanced, NULL, config,
			balanced_weight,
		};

		rc = score_pipeline_add_scorer(pipeline, &scorer, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
