/* Pod shapes that fit no node; see fitcheck.h. */
#include "sim/fitcheck.h"

#include <string.h>

#include "scoring/bandwidth.h"
#include "sim/progress.h"

/* Warnings listed one by one for a pod list; the rest are counted in one
 * more warning. */
#define MAX_LISTED_SHAPES 10

/* One distinct node shape and the first node that has it. */
typedef struct node_kind {
	int64_t cpu_milli;
	int64_t memory;
	int32_t gpus;
	char *gpu_model;  /* owned, NULL without GPUs */
	char *node;       /* owned: the first node of this shape */
	char *shape_name; /* owned: the instance-type label */
} node_kind;

/* Pods of one shape that fit no node. */
typedef struct unfit_shape {
	score_gpu_pod pod;
	uint64_t count;
	int first_line;
} unfit_shape;

/* The pods of a list with one bandwidth request in one direction. */
typedef struct bandwidth_request {
	int64_t bits; /* bits per second */
	uint64_t count;
	int first_line;
} bandwidth_request;

struct sim_fit_check {
	const score_gpu_models *models; /* borrowed, may be NULL */
	GArray *kinds;                  /* node_kind */
	GHashTable *unfit;              /* shape key -> unfit_shape *, both owned */
	/* Per direction (0 ingress, 1 egress): bits -> bandwidth_request *,
	 * both owned, for the pods with that annotation. */
	GHashTable *bandwidth[2];
};

sim_fit_check *sim_fit_check_new(const score_gpu_models *models)
{
	sim_fit_check *check = g_new0(sim_fit_check, 1);

	check->models = models;
	check->kinds = g_array_new(FALSE, TRUE, sizeof(node_kind));
	check->unfit = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (int d = 0; d < 2; d++)
		check->bandwidth[d] = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
							    g_free);
	return check;
}

void sim_fit_check_free(sim_fit_check *check)
{
	if (check == NULL)
		return;
	for (guint i = 0; i < check->kinds->len; i++) {
		node_kind *kind = &g_array_index(check->kinds, node_kind, i);

		g_free(kind->gpu_model);
		g_free(kind->node);
		g_free(kind->shape_name);
	}
	g_array_free(check->kinds, TRUE);
	g_hash_table_destroy(check->unfit);
	for (int d = 0; d < 2; d++)
		g_hash_table_destroy(check->bandwidth[d]);
	g_free(check);
}

void sim_fit_check_add_node(sim_fit_check *check, const char *name,
			    const sim_node_shape *shape)
{
	node_kind added = {0};

	for (guint i = 0; i < check->kinds->len; i++) {
		const node_kind *kind = &g_array_index(check->kinds, node_kind, i);

		if (kind->cpu_milli == shape->cpu_milli && kind->memory == shape->memory &&
		    kind->gpus == shape->gpus &&
		    g_strcmp0(kind->gpu_model, shape->gpu_model) == 0)
			return;
	}
	added.cpu_milli = shape->cpu_milli;
	added.memory = shape->memory;
	added.gpus = shape->gpus;
	added.gpu_model = g_strdup(shape->gpu_model);
	added.node = g_strdup(name);
	added.shape_name = g_strdup(shape->name != NULL ? shape->name : "");
	g_array_append_val(check->kinds, added);
}

/* ---- Fit ----------------------------------------------------------------- */

/* True when the node's GPU model is one the pod allows. Models are
 * compared by name, so the check adds no names to the shared numbering. */
static bool model_allowed(const sim_fit_check *check, const score_gpu_pod *pod,
			  const node_kind *kind)
{
	if (pod->gpu_models == 0)
		return true;
	if (kind->gpu_model == NULL || check->models == NULL)
		return false;
	for (int b = 0; b < check->models->count && b < 64; b++) {
		if ((pod->gpu_models & (UINT64_C(1) << b)) != 0 &&
		    strcmp(check->models->names[b], kind->gpu_model) == 0)
			return true;
	}
	return false;
}

static bool fits_kind(const sim_fit_check *check, const score_gpu_pod *pod,
		      const node_kind *kind)
{
	if (pod->cpu_milli > kind->cpu_milli || pod->memory > kind->memory)
		return false;
	if (pod->gpu_count == 0)
		return true;
	return kind->gpus >= pod->gpu_count && model_allowed(check, pod, kind);
}

bool sim_fit_check_fits(const sim_fit_check *check, const score_gpu_pod *pod)
{
	for (guint i = 0; i < check->kinds->len; i++) {
		if (fits_kind(check, pod, &g_array_index(check->kinds, node_kind, i)))
			return true;
	}
	return false;
}

void sim_fit_check_add_pods(sim_fit_check *check, const score_gpu_pod *pod,
			    uint64_t count, int line)
{
	char *key;
	unfit_shape *shape;

	if (sim_fit_check_fits(check, pod))
		return;
	key = g_strdup_printf("%lld/%lld/%d/%d/%llx", (long long)pod->cpu_milli,
			      (long long)pod->memory, pod->gpu_count, pod->gpu_milli,
			      (unsigned long long)pod->gpu_models);
	shape = g_hash_table_lookup(check->unfit, key);
	if (shape != NULL) {
		shape->count += count;
		g_free(key);
		return;
	}
	shape = g_new0(unfit_shape, 1);
	shape->pod = *pod;
	shape->count = count;
	shape->first_line = line;
	g_hash_table_insert(check->unfit, key, shape);
}

void sim_fit_check_add_bandwidth(sim_fit_check *check, int64_t ingress,
				 int64_t egress, int line)
{
	const int64_t bits[2] = {ingress, egress};

	for (int d = 0; d < 2; d++) {
		bandwidth_request *request;

		if (bits[d] <= 0)
			continue;
		request = g_hash_table_lookup(check->bandwidth[d], &bits[d]);
		if (request == NULL) {
			request = g_new0(bandwidth_request, 1);
			request->bits = bits[d];
			request->first_line = line;
			/* The key points into the value, so both go together. */
			g_hash_table_insert(check->bandwidth[d], &request->bits, request);
		}
		request->count++;
	}
}

/* ---- Messages ------------------------------------------------------------ */

static void append_cpu(GString *out, int64_t milli)
{
	if (milli % 1000 == 0)
		g_string_append_printf(out, "%lld", (long long)(milli / 1000));
	else
		g_string_append_printf(out, "%lldm", (long long)milli);
}

static void append_memory(GString *out, int64_t bytes)
{
	static const struct {
		const char *suffix;
		int shift;
	} units[] = {{"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10}};

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		int64_t unit = INT64_C(1) << units[i].shift;

		if (bytes >= unit && bytes % unit == 0) {
			g_string_append_printf(out, "%lld%s", (long long)(bytes / unit),
					       units[i].suffix);
			return;
		}
	}
	g_string_append_printf(out, "%lld", (long long)bytes);
}

/* Appends a memory size for a sentence: "16Gi", or "16 bytes" where no
 * binary suffix divides it. */
static void append_memory_text(GString *out, int64_t bytes)
{
	size_t start = out->len;

	append_memory(out, bytes);
	if (g_ascii_isdigit(out->str[out->len - 1]) && out->len > start)
		g_string_append(out, bytes == 1 ? " byte" : " bytes");
}

/* Memory below this is taken for a quantity whose unit was left out. */
#define FORGOTTEN_UNIT_BYTES (INT64_C(1) << 20)

/* Appends a hint when `bytes` looks like a count of Gi written without
 * its unit, as "memory: 16" for 16Gi. */
static void append_unit_hint(GString *out, const char *what, int64_t bytes)
{
	if (bytes <= 0 || bytes >= FORGOTTEN_UNIT_BYTES)
		return;
	g_string_append_printf(out, " (%s memory is %lld bytes: was %lldGi meant? Quantities without a unit are bytes)",
			       what, (long long)bytes, (long long)bytes);
}

const char *sim_format_pod_shape(const score_gpu_pod *pod, char *buf,
				 size_t size)
{
	GString *text = g_string_new(NULL);

	append_cpu(text, pod->cpu_milli);
	g_string_append_c(text, '/');
	append_memory(text, pod->memory);
	if (pod->gpu_count > 1 || (pod->gpu_count == 1 && pod->gpu_milli >= 1000))
		g_string_append_printf(text, "/%d", pod->gpu_count);
	else if (pod->gpu_count == 1)
		g_string_append_printf(text, "/%dm", pod->gpu_milli);
	g_strlcpy(buf, text->str, size);
	g_string_free(text, TRUE);
	return buf;
}

/* The node kind with the largest value of `field`: 0 CPU, 1 memory, 2
 * GPUs; the first such kind on ties. NULL without nodes. */
static const node_kind *largest(const sim_fit_check *check, int field)
{
	const node_kind *best = NULL;

	for (guint i = 0; i < check->kinds->len; i++) {
		const node_kind *kind = &g_array_index(check->kinds, node_kind, i);
		int64_t value = field == 0 ? kind->cpu_milli :
				field == 1 ? kind->memory : kind->gpus;
		int64_t best_value = best == NULL ? -1 :
				     field == 0 ? best->cpu_milli :
				     field == 1 ? best->memory : best->gpus;

		if (value > best_value)
			best = kind;
	}
	return best;
}

static void append_node(GString *out, const node_kind *kind)
{
	g_string_append_printf(out, "%s (%s)", kind->node, kind->shape_name);
}

static void append_separator(GString *out, size_t start)
{
	if (out->len > start)
		g_string_append(out, "; ");
}

/* Appends why `pod` fits no node (none of whose kinds fit it). */
static void describe_misfit(const sim_fit_check *check, const score_gpu_pod *pod,
			    GString *out)
{
	const node_kind *cpu = largest(check, 0);
	const node_kind *memory = largest(check, 1);
	const node_kind *gpus = largest(check, 2);
	size_t start = out->len;

	if (cpu == NULL) {
		g_string_append(out, "the cluster has no nodes");
		return;
	}
	if (pod->cpu_milli > cpu->cpu_milli) {
		g_string_append(out, "it requests ");
		append_cpu(out, pod->cpu_milli);
		g_string_append(out, " CPU, and the largest node, ");
		append_node(out, cpu);
		g_string_append(out, ", has ");
		append_cpu(out, cpu->cpu_milli);
	}
	if (pod->memory > memory->memory) {
		append_separator(out, start);
		g_string_append(out, "it requests ");
		append_memory_text(out, pod->memory);
		g_string_append(out, " of memory, and the largest node, ");
		append_node(out, memory);
		g_string_append(out, ", has ");
		append_memory_text(out, memory->memory);
		append_unit_hint(out, "the node's", memory->memory);
	}
	if (pod->gpu_count > 0 && gpus->gpus == 0) {
		append_separator(out, start);
		g_string_append(out, "it requests GPUs, and the cluster has no GPU nodes");
	} else if (pod->gpu_count > gpus->gpus) {
		append_separator(out, start);
		g_string_append_printf(out, "it requests %d GPUs, and the node with the most, ",
				       pod->gpu_count);
		append_node(out, gpus);
		g_string_append_printf(out, ", has %d", gpus->gpus);
	}
	if (out->len > start)
		return;

	/* Each request fits some node, but no node has them all, or no node
	 * with enough GPUs has a model the pod allows. */
	if (pod->gpu_count > 0 && pod->gpu_models != 0) {
		g_string_append(out, "no node with enough CPU, memory and GPUs has a GPU model the pod allows");
		return;
	}
	g_string_append(out, "no single node has all it requests; the largest node by CPU is ");
	append_node(out, cpu);
	g_string_append(out, ", by memory ");
	append_node(out, memory);
	if (pod->gpu_count > 0) {
		g_string_append(out, ", by GPUs ");
		append_node(out, gpus);
	}
}

static void generator_warnings(const sim_fit_check *check,
			       const sim_generator_config *generator,
			       GPtrArray *warnings)
{
	double total = 0;

	for (size_t s = 0; s < generator->n_shapes; s++)
		total += generator->shapes[s].weight;
	for (size_t s = 0; s < generator->n_shapes; s++) {
		const sim_pod_shape *shape = &generator->shapes[s];
		score_gpu_pod pod = {
			.cpu_milli = shape->cpu_milli,
			.memory = shape->memory,
			.gpu_count = shape->gpu_count,
			.gpu_milli = shape->gpu_milli,
		};
		GString *text;
		char name[96];

		if (sim_fit_check_fits(check, &pod))
			continue;
		text = g_string_new(NULL);
		g_string_append_printf(text, "pod shape %s (weight %g, %.1f%% of pods) fits no node: ",
				       sim_format_pod_shape(&pod, name, sizeof(name)),
				       shape->weight, 100.0 * shape->weight / total);
		describe_misfit(check, &pod, text);
		g_string_append(text, "; its pods will never start");
		g_ptr_array_add(warnings, g_string_free(text, FALSE));
	}
}

static gint compare_first_line(gconstpointer a, gconstpointer b)
{
	const unfit_shape *left = a;
	const unfit_shape *right = b;

	return (left->first_line > right->first_line) - (left->first_line < right->first_line);
}

static void list_warnings(const sim_fit_check *check, const char *source,
			  GPtrArray *warnings)
{
	GList *shapes = g_list_sort(g_hash_table_get_values(check->unfit),
				    compare_first_line);
	guint listed = 0;
	guint rest_shapes = 0;
	uint64_t rest_pods = 0;
	char rest[48];

	for (GList *item = shapes; item != NULL; item = item->next) {
		const unfit_shape *shape = item->data;
		GString *text;
		char name[96];
		char count[32];

		if (listed >= MAX_LISTED_SHAPES) {
			rest_shapes++;
			rest_pods += shape->count;
			continue;
		}
		listed++;
		text = g_string_new(NULL);
		g_string_append_printf(text, "%s: pod shape %s fits no node: ", source,
				       sim_format_pod_shape(&shape->pod, name, sizeof(name)));
		describe_misfit(check, &shape->pod, text);
		if (shape->count == 1)
			g_string_append_printf(text, "; 1 pod of the list, on line %d, will never start",
					       shape->first_line);
		else
			g_string_append_printf(text, "; %s pods of the list, the first on line %d, will never start",
					       sim_format_count(shape->count, count, sizeof(count)),
					       shape->first_line);
		g_ptr_array_add(warnings, g_string_free(text, FALSE));
	}
	if (rest_shapes > 0)
		g_ptr_array_add(warnings,
				g_strdup_printf("%s: %u more pod %s fit no node; their %s will never start",
						source, rest_shapes,
						rest_shapes == 1 ? "shape" : "shapes",
						sim_format_count_noun(rest_pods, "pod", "pods", rest,
								      sizeof(rest))));
	g_list_free(shapes);
}

void sim_fit_check_bandwidth_warnings(const sim_fit_check *check,
				      const char *source, bool ingress,
				      int64_t capacity, const char *node,
				      GPtrArray *warnings)
{
	GHashTableIter iter;
	gpointer value;
	const bandwidth_request *largest_request = NULL;
	uint64_t pods = 0;
	int first_line = 0;
	char requested[32];
	char largest[32];
	char count[48];

	g_hash_table_iter_init(&iter, check->bandwidth[ingress ? 0 : 1]);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const bandwidth_request *request = value;

		if (request->bits <= capacity)
			continue;
		pods += request->count;
		if (first_line == 0 || (request->first_line > 0 && request->first_line < first_line))
			first_line = request->first_line;
		if (largest_request == NULL || request->bits > largest_request->bits)
			largest_request = request;
	}
	if (pods == 0)
		return;
	g_ptr_array_add(warnings,
			g_strdup_printf("%s: %s %s bandwidth above every node's capacity (up to %s bits/s, the first on line %d), and the largest capacity, on node %s, is %s bits/s; %s will never start",
					source != NULL ? source : "the workload",
					sim_format_count_noun(pods, "pod requests", "pods request", count,
							      sizeof(count)),
					ingress ? "ingress" : "egress",
					score_bandwidth_format(largest_request->bits, requested,
							       sizeof(requested)),
					first_line,
					node, score_bandwidth_format(capacity, largest, sizeof(largest)),
					pods == 1 ? "it" : "they"));
}

void sim_fit_check_warnings(const sim_fit_check *check, const char *source,
			    const sim_generator_config *generator,
			    GPtrArray *warnings)
{
	if (source == NULL && generator != NULL)
		generator_warnings(check, generator, warnings);
	else if (source != NULL)
		list_warnings(check, source, warnings);
}
