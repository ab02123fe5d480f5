/* GPU sharing, fragmentation and the six GPU policies; see gpu.h, which
 * names the FGD paper and the simulator whose rules this follows. */
#include "scoring/gpu.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Normalizers of DotProd and BestFit: the largest node the paper's
 * simulator expects, 128 cores and 8 GPUs (MaxSpecCpu, MaxSpecGpu). */
#define MAX_SPEC_CPU_MILLI 128000.0
#define MAX_SPEC_GPU_MILLI 8000.0

/* ---- GPU models ---------------------------------------------------------- */

void score_gpu_models_init(score_gpu_models *models)
{
	memset(models, 0, sizeof(*models));
}

void score_gpu_models_release(score_gpu_models *models)
{
	for (int i = 0; i < models->count; i++)
		g_free(models->names[i]);
	memset(models, 0, sizeof(*models));
}

int score_gpu_models_index(score_gpu_models *models, const char *name,
			   score_error *err)
{
	if (name == NULL || name[0] == '\0')
		return score_fail(err, -EINVAL,
				  "empty GPU model name: give a model such as T4");

	for (int i = 0; i < models->count; i++) {
		if (strcmp(models->names[i], name) == 0)
			return i;
	}
	if (models->count >= SCORE_GPU_MAX_MODELS)
		return score_fail(err, -ENOSPC,
				  "too many GPU models: \"%s\" would be model %d, stowage supports %d",
				  name, models->count + 1, SCORE_GPU_MAX_MODELS);

	models->names[models->count] = g_strdup(name);
	return models->count++;
}

int score_gpu_models_parse(score_gpu_models *models, const char *list,
			   uint64_t *mask, score_error *err)
{
	gchar **names;
	uint64_t bits = 0;
	int ret = 0;

	*mask = 0;
	if (list == NULL)
		return 0;

	names = g_strsplit(list, "|", -1);
	for (gchar **name = names; *name != NULL; name++) {
		int index;

		if ((*name)[0] == '\0')
			continue;
		index = score_gpu_models_index(models, *name, err);
		if (index < 0) {
			ret = index;
			goto out;
		}
		bits |= UINT64_C(1) << index;
	}
	*mask = bits;

out:
	g_strfreev(names);
	return ret;
}

/* ---- Pods and nodes ------------------------------------------------------ */

bool score_gpu_pod_is_sharing(const score_gpu_pod *pod)
{
	return pod->gpu_count == 1 && pod->gpu_milli < SCORE_GPU_MILLI;
}

int score_gpu_pod_validate(const score_gpu_pod *pod, score_error *err)
{
	if (pod->cpu_milli < 0 || pod->memory < 0)
		return score_fail(err, -EINVAL,
				  "negative request: cpu %lldm, memory %lld bytes",
				  (long long)pod->cpu_milli, (long long)pod->memory);
	if (pod->gpu_count == 0) {
		if (pod->gpu_milli != 0)
			return score_fail(err, -EINVAL,
					  "gpu_milli %d on a pod without GPUs: set a GPU count or gpu_milli 0",
					  (int)pod->gpu_milli);
		return 0;
	}
	if (pod->gpu_count < 0 || pod->gpu_count > SCORE_GPU_MAX_DEVICES)
		return score_fail(err, -ERANGE,
				  "GPU count %d out of range 0..%d",
				  (int)pod->gpu_count, SCORE_GPU_MAX_DEVICES);
	if (pod->gpu_milli < 1 || pod->gpu_milli > SCORE_GPU_MILLI)
		return score_fail(err, -ERANGE,
				  "gpu_milli %d out of range 1..%d for a GPU pod",
				  (int)pod->gpu_milli, SCORE_GPU_MILLI);
	if (pod->gpu_count > 1 && pod->gpu_milli != SCORE_GPU_MILLI)
		return score_fail(err, -EINVAL,
				  "%d GPUs of %d milli each: a pod may share one GPU or take whole GPUs (gpu_milli %d)",
				  (int)pod->gpu_count, (int)pod->gpu_milli,
				  SCORE_GPU_MILLI);
	return 0;
}

void score_gpu_node_init(score_gpu_node *node, const char *name,
			 int64_t cpu_milli, int64_t memory, int32_t n_devices,
			 int32_t gpu_model)
{
	memset(node, 0, sizeof(*node));
	node->name = name;
	node->cpu_capacity = cpu_milli;
	node->cpu_free = cpu_milli;
	node->memory_capacity = memory;
	node->memory_free = memory;
	node->gpu_model = gpu_model;
	node->n_devices = CLAMP(n_devices, 0, SCORE_GPU_MAX_DEVICES);
	for (int i = 0; i < node->n_devices; i++)
		node->device_free[i] = SCORE_GPU_MILLI;
}

int64_t score_gpu_node_free_milli(const score_gpu_node *node)
{
	int64_t total = 0;

	for (int i = 0; i < node->n_devices; i++)
		total += node->device_free[i];
	return total;
}

static bool model_bits_allow(uint64_t allowed, int32_t model)
{
	if (allowed == 0)
		return true;
	if (model < 0)
		return false;
	return (allowed & (UINT64_C(1) << model)) != 0;
}

bool score_gpu_model_allowed(const score_gpu_node *node,
			     const score_gpu_pod *pod)
{
	if (pod->gpu_count == 0)
		return true;
	return model_bits_allow(pod->gpu_models, node->gpu_model);
}

/* Devices with at least `milli` free. */
static int devices_with(const score_gpu_node *node, int32_t milli)
{
	int count = 0;

	for (int i = 0; i < node->n_devices; i++) {
		if (node->device_free[i] >= milli)
			count++;
	}
	return count;
}

static bool gpus_fit(const score_gpu_node *node, const score_gpu_pod *pod)
{
	if (pod->gpu_count == 0)
		return true;
	return devices_with(node, pod->gpu_milli) >= pod->gpu_count;
}

bool score_gpu_fits(const score_gpu_node *node, const score_gpu_pod *pod,
		    GString *reason)
{
	bool fits = true;

	if (pod->cpu_milli > node->cpu_free) {
		fits = false;
		if (reason != NULL)
			g_string_append_printf(reason,
					       "cpu: requested %lldm, free %lldm; ",
					       (long long)pod->cpu_milli,
					       (long long)node->cpu_free);
	}
	if (pod->memory > node->memory_free) {
		fits = false;
		if (reason != NULL)
			g_string_append_printf(reason,
					       "memory: requested %lld bytes, free %lld bytes; ",
					       (long long)pod->memory,
					       (long long)node->memory_free);
	}
	if (!score_gpu_model_allowed(node, pod)) {
		fits = false;
		if (reason != NULL)
			g_string_append(reason, "gpu: model not allowed by the pod; ");
	} else if (!gpus_fit(node, pod)) {
		fits = false;
		if (reason != NULL)
			g_string_append_printf(reason,
					       "gpu: %d devices with %d milli free, %d requested; ",
					       devices_with(node, pod->gpu_milli),
					       (int)pod->gpu_milli, (int)pod->gpu_count);
	}

	if (!fits && reason != NULL && reason->len >= 2)
		g_string_truncate(reason, reason->len - 2);
	return fits;
}

/* ---- Typical pods -------------------------------------------------------- */

/* The shape key of a pod: what the fragmentation measure looks at. */
static bool shape_equal(const score_gpu_pod *a, const score_gpu_pod *b)
{
	return a->cpu_milli == b->cpu_milli && a->gpu_milli == b->gpu_milli &&
	       a->gpu_count == b->gpu_count && a->gpu_models == b->gpu_models;
}

static guint shape_hash(gconstpointer key)
{
	const score_gpu_pod *pod = key;
	uint64_t h = (uint64_t)pod->cpu_milli * 1000003u;

	h ^= (uint64_t)pod->gpu_milli * 7919u + (uint64_t)pod->gpu_count;
	h ^= pod->gpu_models * 31u;
	return (guint)(h ^ (h >> 32));
}

static gboolean shape_equal_cb(gconstpointer a, gconstpointer b)
{
	return shape_equal(a, b);
}

/* The order of the paper simulator's PodResource.Less: CPU, GPU milli,
 * GPU count, then models. */
static int shape_compare(const score_gpu_pod *a, const score_gpu_pod *b)
{
	if (a->cpu_milli != b->cpu_milli)
		return a->cpu_milli < b->cpu_milli ? -1 : 1;
	if (a->gpu_milli != b->gpu_milli)
		return a->gpu_milli < b->gpu_milli ? -1 : 1;
	if (a->gpu_count != b->gpu_count)
		return a->gpu_count < b->gpu_count ? -1 : 1;
	if (a->gpu_models != b->gpu_models)
		return a->gpu_models < b->gpu_models ? -1 : 1;
	return 0;
}

/* Most frequent first; equal counts put the larger shape first, as the
 * simulator's reverse sort does. */
static gint typical_compare(gconstpointer pa, gconstpointer pb)
{
	const score_gpu_typical_pod *a = pa;
	const score_gpu_typical_pod *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return -shape_compare(&a->shape, &b->shape);
}

int score_gpu_typical_new(const score_gpu_pod *pods, size_t n,
			  double coverage_pct, score_gpu_typical **out,
			  score_error *err)
{
	return score_gpu_typical_new_counted(pods, NULL, n, coverage_pct, out,
					     err);
}

int score_gpu_typical_new_counted(const score_gpu_pod *pods,
				  const uint64_t *pod_counts, size_t n,
				  double coverage_pct, score_gpu_typical **out,
				  score_error *err)
{
	GHashTable *counts;
	GArray *shapes;
	score_gpu_typical *typical;
	GHashTableIter iter;
	gpointer key, value;
	uint64_t workload = 0;
	double total;
	double expected;
	double cumulative = 0;
	size_t kept = 0;

	*out = NULL;
	if (n == 0)
		return score_fail(err, -EINVAL,
				  "no pods to take typical pods from: the workload is empty");
	if (!(coverage_pct > 0 && coverage_pct <= 100))
		return score_fail(err, -EINVAL,
				  "typical-pod coverage %g%% out of range: give a percentage above 0 and at most 100",
				  coverage_pct);

	counts = g_hash_table_new_full(shape_hash, shape_equal_cb, g_free, NULL);
	for (size_t i = 0; i < n; i++) {
		score_gpu_pod *shape = g_new0(score_gpu_pod, 1);
		size_t count = pod_counts != NULL ? (size_t)MAX(pod_counts[i], 1) : 1;
		gpointer old;

		shape->cpu_milli = pods[i].cpu_milli;
		shape->gpu_count = pods[i].gpu_count;
		shape->gpu_milli = pods[i].gpu_count > 0 ? pods[i].gpu_milli : 0;
		shape->gpu_models = pods[i].gpu_count > 0 ? pods[i].gpu_models : 0;
		old = g_hash_table_lookup(counts, shape);
		g_hash_table_replace(counts, shape,
				     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + count));
		workload += count;
	}
	total = (double)workload;

	shapes = g_array_sized_new(FALSE, TRUE, sizeof(score_gpu_typical_pod),
				   g_hash_table_size(counts));
	g_hash_table_iter_init(&iter, counts);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		score_gpu_typical_pod shape_count = {0};

		shape_count.shape = *(const score_gpu_pod *)key;
		shape_count.count = GPOINTER_TO_SIZE(value);
		g_array_append_val(shapes, shape_count);
	}
	g_array_sort(shapes, typical_compare);

	/* Keep adding the next most frequent shape until the coverage is
	 * reached. Weights are count / total, renormalized over the kept
	 * shapes in the simulator's order of float operations. */
	expected = coverage_pct * total / 100.0;
	while (cumulative < expected && kept < shapes->len) {
		score_gpu_typical_pod *next =
			&g_array_index(shapes, score_gpu_typical_pod, kept);

		cumulative += (double)next->count;
		next->weight = (double)next->count / total;
		kept++;
	}
	if (kept < shapes->len) {
		for (size_t i = 0; i < kept; i++)
			g_array_index(shapes, score_gpu_typical_pod, i).weight /=
				cumulative / total;
	}

	typical = g_new0(score_gpu_typical, 1);
	typical->n_shapes = shapes->len;
	typical->n_workload = (size_t)workload;
	typical->n = kept;
	typical->covered = cumulative / total;
	g_array_set_size(shapes, kept);
	typical->pods = (score_gpu_typical_pod *)(void *)g_array_free(shapes, FALSE);
	g_hash_table_destroy(counts);

	*out = typical;
	return 0;
}

void score_gpu_typical_free(score_gpu_typical *typical)
{
	if (typical == NULL)
		return;
	g_free(typical->pods);
	g_free(typical);
}

/* ---- Fragmentation ------------------------------------------------------- */

/* The simulator's GetNodePodFrag(): which class the node's free GPUs fall
 * in for one typical pod. */
static score_gpu_frag_class frag_class(const score_gpu_node *node,
				       const score_gpu_pod *shape)
{
	bool cpu_enough = node->cpu_free >= shape->cpu_milli;

	if (shape->gpu_milli == 0)
		return cpu_enough ? SCORE_GPU_FRAG_CPU_POD_FITS :
				    SCORE_GPU_FRAG_CPU_POD_LACKS;
	if (!model_bits_allow(shape->gpu_models, node->gpu_model))
		return SCORE_GPU_FRAG_NO_ACCESS;
	if (devices_with(node, shape->gpu_milli) >= shape->gpu_count &&
	    shape->gpu_count > 0)
		return cpu_enough ? SCORE_GPU_FRAG_SATISFIED :
				    SCORE_GPU_FRAG_LACK_CPU;
	return cpu_enough ? SCORE_GPU_FRAG_LACK_GPU : SCORE_GPU_FRAG_LACK_BOTH;
}

void score_gpu_frag_classes(const score_gpu_node *node,
			    const score_gpu_typical *typical,
			    double amounts[SCORE_GPU_FRAG_CLASSES])
{
	int64_t free_total = score_gpu_node_free_milli(node);

	for (int c = 0; c < SCORE_GPU_FRAG_CLASSES; c++)
		amounts[c] = 0;

	for (size_t t = 0; t < typical->n; t++) {
		const score_gpu_typical_pod *typical_pod = &typical->pods[t];
		score_gpu_frag_class class = frag_class(node, &typical_pod->shape);
		int64_t too_small = 0;

		if (class != SCORE_GPU_FRAG_SATISFIED) {
			amounts[class] += typical_pod->weight * (double)free_total;
			continue;
		}
		/* The pod fits, but devices with less free than its request
		 * cannot serve it. */
		for (int i = 0; i < node->n_devices; i++) {
			if (node->device_free[i] < typical_pod->shape.gpu_milli)
				too_small += node->device_free[i];
		}
		amounts[SCORE_GPU_FRAG_LACK_GPU] += typical_pod->weight * (double)too_small;
		amounts[SCORE_GPU_FRAG_SATISFIED] +=
			typical_pod->weight * (double)(free_total - too_small);
	}
}

double score_gpu_frag_amount(const score_gpu_node *node,
			     const score_gpu_typical *typical)
{
	double amounts[SCORE_GPU_FRAG_CLASSES];
	double sum = 0;

	score_gpu_frag_classes(node, typical, amounts);
	for (int c = 0; c < SCORE_GPU_FRAG_CLASSES; c++) {
		if (c != SCORE_GPU_FRAG_SATISFIED)
			sum += amounts[c];
	}
	return sum;
}

/* ---- Device choice ------------------------------------------------------- */

/* Writes the lowest-index fully free devices the pod needs; returns their
 * number or -ENOSPC. */
static int whole_devices(const score_gpu_node *node, const score_gpu_pod *pod,
			 int *devices)
{
	int found = 0;

	for (int i = 0; i < node->n_devices && found < pod->gpu_count; i++) {
		if (node->device_free[i] == SCORE_GPU_MILLI)
			devices[found++] = i;
	}
	return found == pod->gpu_count ? found : -ENOSPC;
}

static int tightest_device(const score_gpu_node *node, int32_t milli)
{
	int best = -1;

	for (int i = 0; i < node->n_devices; i++) {
		if (node->device_free[i] < milli)
			continue;
		if (best < 0 || node->device_free[i] < node->device_free[best])
			best = i;
	}
	return best;
}

static int random_device(const score_gpu_node *node, int32_t milli,
			 GRand *rand)
{
	int candidates[SCORE_GPU_MAX_DEVICES];
	int n = 0;

	for (int i = 0; i < node->n_devices; i++) {
		if (node->device_free[i] >= milli)
			candidates[n++] = i;
	}
	if (n == 0)
		return -1;
	if (n == 1 || rand == NULL)
		return candidates[0];
	return candidates[g_rand_int_range(rand, 0, n)];
}

static double sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* Computes the node as it would be after taking `pod`: its CPU, and its GPU
 * share on `device`. For device -1 it follows the simulator's
 * NodeResource.Sub(), which takes each GPU from the device with the least
 * free milli-GPU that fits, lowest index on ties. */
static void node_after(const score_gpu_node *node, const score_gpu_pod *pod,
		       int device, score_gpu_node *after)
{
	int order[SCORE_GPU_MAX_DEVICES];
	int left;

	*after = *node;
	after->cpu_free -= pod->cpu_milli;
	if (pod->gpu_count == 0)
		return;
	if (device >= 0) {
		after->device_free[device] -= pod->gpu_milli;
		return;
	}

	/* Stable insertion sort of device indices by free milli-GPU. */
	for (int i = 0; i < node->n_devices; i++) {
		int j = i;

		while (j > 0 && node->device_free[order[j - 1]] > node->device_free[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	left = pod->gpu_count;
	for (int k = 0; k < node->n_devices && left > 0; k++) {
		if (after->device_free[order[k]] >= pod->gpu_milli) {
			after->device_free[order[k]] -= pod->gpu_milli;
			left--;
		}
	}
}

int64_t score_gpu_fgd_score(const score_gpu_node *node,
			    const score_gpu_pod *pod,
			    const score_gpu_typical *typical, int device,
			    double frag_before)
{
	score_gpu_node after;
	double frag_after;

	node_after(node, pod, device, &after);
	frag_after = score_gpu_frag_amount(&after, typical);
	return (int64_t)(sigmoid((frag_before - frag_after) / 1000.0) *
			 (double)SCORE_MAX_NODE_SCORE);
}

/* FGD for a GPU-sharing pod: the best score over the devices that fit, and
 * the first device reaching it. Devices with equal free milli-GPU give
 * the same node after, so only the first of them is scored. */
static int64_t fgd_sharing(const score_gpu_node *node, const score_gpu_pod *pod,
			   const score_gpu_typical *typical, int *device)
{
	double before = score_gpu_frag_amount(node, typical);
	int64_t best = 0;
	int best_device = -1;

	for (int i = 0; i < node->n_devices; i++) {
		bool seen = false;
		int64_t score;

		if (node->device_free[i] < pod->gpu_milli)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = node->device_free[j] == node->device_free[i];
		if (seen)
			continue;
		score = score_gpu_fgd_score(node, pod, typical, i, before);
		if (best_device < 0 || score > best) {
			best = score;
			best_device = i;
		}
	}
	if (device != NULL)
		*device = best_device;
	return best;
}

int score_gpu_choose_devices(const score_gpu_node *node,
			     const score_gpu_pod *pod,
			     score_gpu_device_rule rule,
			     const score_gpu_typical *typical, GRand *rand,
			     int *devices)
{
	int device = -1;

	if (pod->gpu_count == 0)
		return 0;
	if (!score_gpu_pod_is_sharing(pod))
		return whole_devices(node, pod, devices);

	switch (rule) {
	case SCORE_GPU_DEVICE_RANDOM:
		device = random_device(node, pod->gpu_milli, rand);
		break;
	case SCORE_GPU_DEVICE_FGD:
		if (typical != NULL) {
			fgd_sharing(node, pod, typical, &device);
			break;
		}
		device = tightest_device(node, pod->gpu_milli);
		break;
	case SCORE_GPU_DEVICE_TIGHTEST:
	default:
		device = tightest_device(node, pod->gpu_milli);
		break;
	}
	if (device < 0)
		return -ENOSPC;
	devices[0] = device;
	return 1;
}

static int pod_class(const score_gpu_pod *pod)
{
	if (pod->gpu_count == 0)
		return -1;
	if (score_gpu_pod_is_sharing(pod))
		return 0;
	return pod->gpu_count;
}

void score_gpu_node_add_pod(score_gpu_node *node, const score_gpu_pod *pod,
			    const int *devices, int n_devices)
{
	int class = pod_class(pod);

	node->cpu_free -= pod->cpu_milli;
	node->memory_free -= pod->memory;
	for (int i = 0; i < n_devices; i++)
		node->device_free[devices[i]] -= pod->gpu_milli;
	if (class >= 0)
		node->class_pods[class]++;
}

void score_gpu_node_remove_pod(score_gpu_node *node, const score_gpu_pod *pod,
			       const int *devices, int n_devices)
{
	int class = pod_class(pod);

	node->cpu_free += pod->cpu_milli;
	node->memory_free += pod->memory;
	for (int i = 0; i < n_devices; i++)
		node->device_free[devices[i]] += pod->gpu_milli;
	if (class >= 0 && node->class_pods[class] > 0)
		node->class_pods[class]--;
}

/* ---- Policies ------------------------------------------------------------ */

static const char *const policy_names[SCORE_GPU_POLICIES] = {
	[SCORE_GPU_RANDOM] = "Random",
	[SCORE_GPU_DOT_PRODUCT] = "DotProd",
	[SCORE_GPU_CLUSTERING] = "GpuClustering",
	[SCORE_GPU_PACKING] = "GpuPacking",
	[SCORE_GPU_BEST_FIT] = "BestFit",
	[SCORE_GPU_FGD] = "FGD",
};

const char *score_gpu_policy_name(score_gpu_policy policy)
{
	if ((int)policy < 0 || policy >= SCORE_GPU_POLICIES)
		return "unknown";
	return policy_names[policy];
}

int score_gpu_policy_parse(const char *name, score_gpu_policy *policy,
			   score_error *err)
{
	for (int p = 0; p < SCORE_GPU_POLICIES; p++) {
		if (g_ascii_strcasecmp(name, policy_names[p]) == 0) {
			*policy = (score_gpu_policy)p;
			return 0;
		}
	}
	return score_fail(err, -EINVAL,
			  "unknown GPU policy \"%s\": use Random, DotProd, GpuClustering, GpuPacking, BestFit or FGD",
			  name);
}

score_gpu_device_rule score_gpu_policy_device_rule(score_gpu_policy policy)
{
	switch (policy) {
	case SCORE_GPU_RANDOM:
		return SCORE_GPU_DEVICE_RANDOM;
	case SCORE_GPU_FGD:
		return SCORE_GPU_DEVICE_FGD;
	default:
		return SCORE_GPU_DEVICE_TIGHTEST;
	}
}

/* Tetris's dot product of free and requested [CPU, GPU], each divided by
 * the largest node, with "merge" GPU dimensions: lower alignment scores
 * higher. */
static int64_t dot_product_score(const score_gpu_node *node,
				 const score_gpu_pod *pod)
{
	double node_cpu = (double)node->cpu_free / MAX_SPEC_CPU_MILLI;
	double node_gpu = (double)score_gpu_node_free_milli(node) / MAX_SPEC_GPU_MILLI;
	double pod_cpu = (double)pod->cpu_milli / MAX_SPEC_CPU_MILLI;
	double pod_gpu = (double)((int64_t)pod->gpu_milli * pod->gpu_count) /
			 MAX_SPEC_GPU_MILLI;
	double dot = 0;
	double score;

	dot += node_cpu * pod_cpu;
	dot += node_gpu * pod_gpu;
	score = 1.0 - dot / 2.0;
	return (int64_t)((double)SCORE_MAX_NODE_SCORE * score);
}

/* Groups pods of one class. A node that contains only the pod's class
 * scores 75..100, one that contains it among others 50..75, a node without
 * GPU pods 25..50, and any other node 0..25. Within a band, fuller GPUs
 * score higher. */
static int64_t clustering_score(const score_gpu_node *node,
				const score_gpu_pod *pod)
{
	int class = pod_class(pod);
	int classes_here = 0;
	int64_t used;
	int64_t band;

	if (class < 0)
		return 0;
	for (int c = 0; c < SCORE_GPU_CLASSES; c++) {
		if (node->class_pods[c] > 0)
			classes_here++;
	}

	if (node->class_pods[class] > 0)
		band = classes_here == 1 ? 3 : 2;
	else
		band = classes_here == 0 ? 1 : 0;
	used = (int64_t)MAX_SPEC_GPU_MILLI - score_gpu_node_free_milli(node);
	return SCORE_MAX_NODE_SCORE / 4 * used / (int64_t)MAX_SPEC_GPU_MILLI +
	       SCORE_MAX_NODE_SCORE * band / 4;
}

/* Prefers, from high to low: sharing a used GPU (fuller is better), free
 * GPUs on a node already in use (fewer is better), then an idle node. */
static int64_t packing_score(const score_gpu_node *node,
			     const score_gpu_pod *pod)
{
	int order[SCORE_GPU_MAX_DEVICES];
	int used[SCORE_GPU_MAX_DEVICES];
	int n_used = 0;
	int fully_free = 0;
	int fully_free_used = 0;
	int left = pod->gpu_count;
	int64_t free_percent = 0;

	if (pod->gpu_milli <= 0)
		return 0;

	for (int i = 0; i < node->n_devices; i++) {
		if (node->device_free[i] == SCORE_GPU_MILLI)
			fully_free++;
	}
	if (fully_free == node->n_devices)
		return MAX(SCORE_MAX_NODE_SCORE / 3 - fully_free, fully_free);

	for (int i = 0; i < node->n_devices; i++) {
		int j = i;

		while (j > 0 && node->device_free[order[j - 1]] > node->device_free[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (int k = 0; k < node->n_devices && left > 0; k++) {
		int32_t free_milli = node->device_free[order[k]];

		if (pod->gpu_milli > free_milli)
			continue;
		left--;
		used[n_used++] = order[k];
		if (free_milli == SCORE_GPU_MILLI)
			fully_free_used++;
	}
	if (left != 0)
		return 0;
	if (fully_free_used > 0)
		return MAX(SCORE_MAX_NODE_SCORE / 2 - fully_free_used,
			   SCORE_MAX_NODE_SCORE / 3);

	for (int k = 0; k < n_used; k++)
		free_percent += (int64_t)node->device_free[used[k]] * 100 / SCORE_GPU_MILLI;
	return MAX(SCORE_MAX_NODE_SCORE - free_percent / 10,
		   SCORE_MAX_NODE_SCORE / 2);
}

/* Half CPU, half GPU: what stays free after the pod, over the largest
 * node; less left over scores higher. */
static int64_t best_fit_score(const score_gpu_node *node,
			      const score_gpu_pod *pod)
{
	double free_cpu = (double)node->cpu_free;
	double free_gpu = (double)score_gpu_node_free_milli(node);
	double request_gpu = (double)((int64_t)pod->gpu_milli * pod->gpu_count);
	double score = 0;

	score += (free_cpu - (double)pod->cpu_milli) / MAX_SPEC_CPU_MILLI * 0.5;
	score += (free_gpu - request_gpu) / MAX_SPEC_GPU_MILLI * 0.5;
	score = (1.0 - score) * (double)SCORE_MAX_NODE_SCORE;
	return (int64_t)score;
}

static int64_t fgd_score(const score_gpu_node *node, const score_gpu_pod *pod,
			 const score_gpu_typical *typical)
{
	if (typical == NULL || typical->n == 0)
		return 0;
	if (score_gpu_pod_is_sharing(pod))
		return fgd_sharing(node, pod, typical, NULL);
	return score_gpu_fgd_score(node, pod, typical, -1,
				   score_gpu_frag_amount(node, typical));
}

int64_t score_gpu_score(score_gpu_policy policy, const score_gpu_node *node,
			const score_gpu_pod *pod,
			const score_gpu_typical *typical)
{
	switch (policy) {
	case SCORE_GPU_DOT_PRODUCT:
		return dot_product_score(node, pod);
	case SCORE_GPU_CLUSTERING:
		return clustering_score(node, pod);
	case SCORE_GPU_PACKING:
		return packing_score(node, pod);
	case SCORE_GPU_BEST_FIT:
		return best_fit_score(node, pod);
	case SCORE_GPU_FGD:
		return fgd_score(node, pod, typical);
	case SCORE_GPU_RANDOM:
	default:
		return 0;
	}
}

void score_gpu_normalize_min_max(int64_t *scores, size_t n)
{
	int64_t highest = INT64_MIN;
	int64_t lowest = INT64_MAX;

	for (size_t i = 0; i < n; i++) {
		highest = MAX(highest, scores[i]);
		lowest = MIN(lowest, scores[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (highest == lowest)
			scores[i] = 0;
		else
			scores[i] = (scores[i] - lowest) * SCORE_MAX_NODE_SCORE /
				    (highest - lowest);
	}
}

/* ---- Pipeline ------------------------------------------------------------ */

/* The pipeline's view of a node as this module's record: devices from the
 * GPU map, CPU and memory from the pipeline's allocatable and usage. */
static void pipeline_node(const score_gpu_pipeline_config *config,
			  const score_node *node, const score_usage *usage,
			  score_gpu_node *out)
{
	const score_gpu_node *gpu = NULL;

	if (config->nodes != NULL)
		gpu = g_hash_table_lookup(config->nodes, node->name);
	if (gpu != NULL)
		*out = *gpu;
	else
		score_gpu_node_init(out, node->name, 0, 0, 0, -1);

	out->name = node->name;
	out->cpu_capacity = node->allocatable.v[SCORE_RES_CPU];
	out->cpu_free = out->cpu_capacity - usage->requested.v[SCORE_RES_CPU];
	out->memory_capacity = node->allocatable.v[SCORE_RES_MEMORY];
	out->memory_free = out->memory_capacity -
			   usage->requested.v[SCORE_RES_MEMORY];
}

static void pipeline_pod(const score_gpu_pipeline_config *config,
			 const score_pod *pod, score_gpu_pod *out)
{
	const score_gpu_pod *gpu = NULL;

	if (config->pods != NULL && pod->uid != NULL)
		gpu = g_hash_table_lookup(config->pods, pod->uid);
	if (gpu != NULL)
		*out = *gpu;
	else
		memset(out, 0, sizeof(*out));
	out->cpu_milli = pod->request.v[SCORE_RES_CPU];
	out->memory = pod->request.v[SCORE_RES_MEMORY];
}

score_fit score_gpu_filter(const void *config, const score_request *request,
			   const score_node *node, const score_usage *usage,
			   GString *reason)
{
	const score_gpu_pipeline_config *gpu_config = config;
	score_gpu_node gpu_node;
	score_gpu_pod pod;

	pipeline_node(gpu_config, node, usage, &gpu_node);
	pipeline_pod(gpu_config, request->pod, &pod);
	if (pod.gpu_count == 0)
		return SCORE_FIT;

	if (!score_gpu_model_allowed(&gpu_node, &pod)) {
		g_string_append(reason, "gpu: the node's GPU model is not among the pod's allowed models");
		return SCORE_REJECT_UNRESOLVABLE;
	}
	if (!gpus_fit(&gpu_node, &pod)) {
		g_string_append_printf(reason,
				       "gpu: %d devices with %d milli free, %d requested",
				       devices_with(&gpu_node, pod.gpu_milli),
				       (int)pod.gpu_milli, (int)pod.gpu_count);
		return gpu_node.n_devices >= pod.gpu_count ?
			       SCORE_REJECT_RESOLVABLE :
			       SCORE_REJECT_UNRESOLVABLE;
	}
	return SCORE_FIT;
}

int64_t score_gpu_scorer(const void *config, const score_request *request,
			 const score_node *node, const score_usage *usage)
{
	const score_gpu_pipeline_config *gpu_config = config;
	score_gpu_node gpu_node;
	score_gpu_pod pod;

	pipeline_node(gpu_config, node, usage, &gpu_node);
	pipeline_pod(gpu_config, request->pod, &pod);
	return score_gpu_score(gpu_config->policy, &gpu_node, &pod,
			       gpu_config->typical);
}

void score_gpu_normalize(const void *config, int64_t *scores, size_t n)
{
	const score_gpu_pipeline_config *gpu_config = config;

	if (n == 0)
		return;
	if (gpu_config->policy == SCORE_GPU_BEST_FIT) {
		score_gpu_normalize_min_max(scores, n);
		return;
	}
	if (gpu_config->policy == SCORE_GPU_RANDOM) {
		size_t chosen = 0;

		if (n > 1 && gpu_config->rand != NULL)
			chosen = (size_t)g_rand_int_range(gpu_config->rand, 0, (gint32)n);
		for (size_t i = 0; i < n; i++)
			scores[i] = i == chosen ? SCORE_MAX_NODE_SCORE : 0;
	}
}

int score_pipeline_add_gpu(score_pipeline *pipeline,
			   const score_gpu_pipeline_config *config,
			   int64_t weight, score_error *err)
{
	score_filter filter = {
		.name = "GpuShare",
		.run = score_gpu_filter,
		.config = config,
	};
	score_scorer scorer = {
		.name = score_gpu_policy_name(config->policy),
		.run = score_gpu_scorer,
		.normalize = score_gpu_normalize,
		.config = config,
		.weight = weight,
	};
	int ret;

	if ((int)config->policy < 0 || config->policy >= SCORE_GPU_POLICIES)
		return score_fail(err, -EINVAL, "invalid GPU policy %d",
				  (int)config->policy);
	ret = score_pipeline_add_filter(pipeline, &filter, err);
	if (ret < 0)
		return ret;
	return score_pipeline_add_scorer(pipeline, &scorer, err);
}
