/* Arrival sources and node event files; see sources.h. */
#include "sim/sources.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "sim/csv.h"
#include "sim/metrics.h"
#include "sim/workload.h"

#define LABEL_APP "app"

/* Fills the requests of `pod` the way kube-scheduler would see a container
 * with these requests, a value of 0 counting as not set. */
static void set_requests(score_pod *pod, int64_t cpu_milli, int64_t memory)
{
	score_container container = {0};

	container.requests.v[SCORE_RES_CPU] = cpu_milli;
	container.requests.v[SCORE_RES_MEMORY] = memory;
	if (cpu_milli > 0)
		container.present |= 1u << SCORE_RES_CPU;
	if (memory > 0)
		container.present |= 1u << SCORE_RES_MEMORY;
	score_pod_compute_request(&container, 1, NULL, 0, NULL, &pod->request,
				  &pod->nonzero_request);
}

static sim_gpu_binding *gpu_binding(int64_t cpu_milli, int64_t memory,
				    int32_t count, int32_t milli, uint64_t models)
{
	sim_gpu_binding *gpu;

	if (count == 0)
		return NULL;
	gpu = g_new0(sim_gpu_binding, 1);
	gpu->shape.cpu_milli = cpu_milli;
	gpu->shape.memory = memory;
	gpu->shape.gpu_count = count;
	gpu->shape.gpu_milli = milli;
	gpu->shape.gpu_models = models;
	return gpu;
}

/* ---- Generator ----------------------------------------------------------- */

static int generator_next(void *data, sim_arrival *out, score_error *err)
{
	sim_generator *generator = data;
	const sim_generator_config *config = sim_generator_config_of(generator);
	const sim_pod_shape *shape;
	sim_generated_pod drawn;
	score_pod *pod;
	char text[64];

	(void)err;
	memset(out, 0, sizeof(*out));
	if (!sim_generator_next(generator, &drawn))
		return 0;
	shape = &config->shapes[drawn.shape];

	pod = score_pod_new();
	g_snprintf(text, sizeof(text), "pod-%07llu", (unsigned long long)drawn.index + 1);
	pod->uid = score_intern(text);
	pod->name = score_intern(text);
	g_snprintf(text, sizeof(text), "tenant-%02u", drawn.tenant);
	pod->namespace = score_intern(text);
	g_snprintf(text, sizeof(text), "app-%u", drawn.app);
	score_labels_set(&pod->labels, LABEL_APP, text);
	set_requests(pod, shape->cpu_milli, shape->memory);

	out->pod = pod;
	out->gpu = gpu_binding(shape->cpu_milli, shape->memory, shape->gpu_count,
			       shape->gpu_milli, 0);
	out->time_ms = drawn.time_ms;
	out->run_ms = drawn.run_ms;
	return 1;
}

static double generator_fraction(void *data)
{
	(void)data;
	return -1.0;
}

void sim_generator_source(sim_generator *generator, sim_source *source)
{
	memset(source, 0, sizeof(*source));
	source->next = generator_next;
	source->fraction = generator_fraction;
	source->data = generator;
	source->name = "generator";
}

score_gpu_typical *sim_generator_typical(const sim_generator_config *config)
{
	/* A thousand pods split by weight stand for the shape table. */
	const size_t scale = 1000;
	GArray *pods = g_array_new(FALSE, TRUE, sizeof(score_gpu_pod));
	score_gpu_typical *typical = NULL;
	double total = 0;
	bool gpus = false;

	for (size_t s = 0; s < config->n_shapes; s++) {
		total += config->shapes[s].weight;
		gpus = gpus || config->shapes[s].gpu_count > 0;
	}
	for (size_t s = 0; s < config->n_shapes && gpus; s++) {
		const sim_pod_shape *shape = &config->shapes[s];
		size_t count = MAX(1, (size_t)llround(shape->weight / total * (double)scale));
		score_gpu_pod pod = {
			.cpu_milli = shape->cpu_milli,
			.gpu_count = shape->gpu_count,
			.gpu_milli = shape->gpu_milli,
		};

		for (size_t i = 0; i < count; i++)
			g_array_append_val(pods, pod);
	}
	if (gpus)
		score_gpu_typical_new((const score_gpu_pod *)(void *)pods->data,
				      pods->len, SIM_TYPICAL_COVERAGE_PCT, &typical, NULL);
	g_array_free(pods, TRUE);
	return typical;
}

/* ---- Pod lists ----------------------------------------------------------- */

struct sim_trace_source {
	sim_trace_pod_reader *reader;
	score_gpu_models *models; /* borrowed */
	char *path;
};

/* The GPU request of a row, with its allowed models as a mask. */
static int row_gpu(sim_trace_source *trace, const sim_trace_pod *row,
		   sim_gpu_binding **out, score_error *err)
{
	uint64_t mask = 0;
	int ret;

	*out = NULL;
	if (row->num_gpu == 0)
		return 0;
	if (row->gpu_spec != NULL) {
		ret = score_gpu_models_parse(trace->models, row->gpu_spec, &mask, err);
		if (ret < 0) {
			score_error_prefix(err, "%s:%d", trace->path, row->line);
			return ret;
		}
	}
	*out = gpu_binding(row->cpu_milli, row->memory_mib << 20, row->num_gpu,
			   row->gpu_milli, mask);
	return 0;
}

static int trace_next(void *data, sim_arrival *out, score_error *err)
{
	sim_trace_source *trace = data;
	sim_trace_pod row;
	score_pod *pod;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sim_trace_pod_reader_next(trace->reader, &row, err);
	if (ret <= 0)
		return ret;
	ret = row_gpu(trace, &row, &out->gpu, err);
	if (ret < 0) {
		sim_trace_pod_clear(&row);
		return ret;
	}

	pod = score_pod_new();
	pod->uid = score_intern(row.name);
	pod->name = score_intern(row.name);
	pod->namespace = score_intern("default");
	set_requests(pod, row.cpu_milli, row.memory_mib << 20);
	out->pod = pod;
	out->time_ms = row.creation_time * 1000;
	out->run_ms = (row.deletion_time - row.creation_time) * 1000;
	out->line = row.line;
	sim_trace_pod_clear(&row);
	return 1;
}

static double trace_fraction(void *data)
{
	sim_trace_source *trace = data;

	return sim_trace_pod_reader_fraction(trace->reader);
}

int sim_trace_source_open(const char *path, const sim_read_options *options,
			  score_gpu_models *models, sim_trace_source **out,
			  sim_source *source, score_error *err)
{
	sim_trace_source *trace = g_new0(sim_trace_source, 1);
	int ret;

	*out = NULL;
	trace->models = models;
	trace->path = g_strdup(path);
	ret = sim_trace_pod_reader_open(path, options, true, &trace->reader, err);
	if (ret == 0 && !sim_trace_pod_reader_has_times(trace->reader))
		ret = score_fail(err, -EINVAL,
				 "%s: no creation_time and deletion_time columns: churn replay needs them (use `stowage sim inflate` for pod lists without times)",
				 path);
	if (ret < 0) {
		sim_trace_source_free(trace);
		return ret;
	}

	memset(source, 0, sizeof(*source));
	source->next = trace_next;
	source->fraction = trace_fraction;
	source->data = trace;
	source->name = trace->path;
	*out = trace;
	return 0;
}

void sim_trace_source_free(sim_trace_source *trace)
{
	if (trace == NULL)
		return;
	sim_trace_pod_reader_free(trace->reader);
	g_free(trace->path);
	g_free(trace);
}

size_t sim_trace_source_skipped(const sim_trace_source *trace,
				const char **first)
{
	return sim_trace_pod_reader_skipped(trace->reader, first);
}

/* The request of an arrival as the fit check takes it. */
static score_gpu_pod fit_pod_of(const sim_arrival *arrival)
{
	score_gpu_pod pod = {0};

	if (arrival->gpu != NULL)
		pod = arrival->gpu->shape;
	pod.cpu_milli = arrival->pod->request.v[SCORE_RES_CPU];
	pod.memory = arrival->pod->request.v[SCORE_RES_MEMORY];
	return pod;
}

/* Records between two checks of the stop flag and the progress. */
#define SCAN_CHECK_EVERY 4096

int sim_source_scan(const sim_source *source, score_gpu_typical **typical,
		    sim_fit_check *fit, int64_t *end_ms, score_error *err)
{
	return sim_source_scan_controlled(source, NULL, typical, fit, end_ms, err);
}

/* Reports progress and checks the stop flag; returns -EINTR to stop. */
static int scan_checkpoint(const sim_source *source, const sim_scan_control *control,
			   uint64_t pods, score_error *err)
{
	double fraction = -1.0;

	if (control->stop != NULL && *control->stop != 0)
		return score_fail(err, -EINTR,
				  "interrupted while reading %s before the run, after %llu pods: no outputs written",
				  source->name, (unsigned long long)pods);
	if (control->progress == NULL)
		return 0;
	if (source->fraction != NULL)
		fraction = source->fraction(source->data);
	control->progress(control->progress_data, pods, fraction);
	return 0;
}

int sim_source_scan_controlled(const sim_source *source,
			       const sim_scan_control *control,
			       score_gpu_typical **typical, sim_fit_check *fit,
			       int64_t *end_ms, score_error *err)
{
	static const sim_scan_control no_control = {0};
	GArray *pods = typical != NULL ? g_array_new(FALSE, TRUE, sizeof(score_gpu_pod)) : NULL;
	/* How many pods each entry of `pods` stands for: a replicated row
	 * is one entry. */
	GArray *counts = typical != NULL ? g_array_new(FALSE, TRUE, sizeof(uint64_t)) : NULL;
	uint64_t records = 0;
	uint64_t pod_count = 0;
	bool gpus = false;
	int ret = 0;

	if (control == NULL)
		control = &no_control;
	if (typical != NULL)
		*typical = NULL;
	*end_ms = 0;
	while (ret == 0) {
		sim_arrival arrival;
		score_gpu_pod pod = {0};
		uint64_t copies = 1;

		if (++records % SCAN_CHECK_EVERY == 0) {
			ret = scan_checkpoint(source, control, pod_count, err);
			if (ret < 0)
				break;
		}
		ret = source->next(source->data, &arrival, err);
		if (ret <= 0)
			break;
		if (arrival.end_uid != NULL) {
			/* An end: its time is the pod's departure. */
			*end_ms = MAX(*end_ms, arrival.time_ms);
			sim_arrival_release(&arrival);
			ret = 0;
			continue;
		}
		/* The other pods of a replicated row are equal to this one but
		 * for the name, which the scan does not use. */
		if (control->mapped != NULL)
			copies += (uint64_t)sim_mapped_source_drop_replicas(control->mapped);
		pod_count += copies;
		*end_ms = MAX(*end_ms, arrival.time_ms + MAX(arrival.run_ms, 0));
		if (fit != NULL) {
			score_gpu_pod request = fit_pod_of(&arrival);

			sim_fit_check_add_pods(fit, &request, copies, arrival.line);
			for (uint64_t i = 0; i < copies && (arrival.pod->ingress_bandwidth > 0 ||
							    arrival.pod->egress_bandwidth > 0);
			     i++)
				sim_fit_check_add_bandwidth(fit, arrival.pod->ingress_bandwidth,
							    arrival.pod->egress_bandwidth,
							    arrival.line);
		}
		pod.cpu_milli = arrival.pod->request.v[SCORE_RES_CPU];
		if (arrival.gpu != NULL) {
			pod = arrival.gpu->shape;
			pod.memory = 0;
			gpus = true;
		}
		if (pods != NULL) {
			g_array_append_val(pods, pod);
			g_array_append_val(counts, copies);
		}
		sim_arrival_release(&arrival);
		ret = 0;
	}
	if (ret == 0 && gpus && pods != NULL)
		ret = score_gpu_typical_new_counted(
			(const score_gpu_pod *)(void *)pods->data,
			(const uint64_t *)(void *)counts->data, pods->len,
			SIM_TYPICAL_COVERAGE_PCT, typical, err);
	if (pods != NULL) {
		g_array_free(pods, TRUE);
		g_array_free(counts, TRUE);
	}
	return ret;
}

int sim_trace_scan(const char *path, const sim_read_options *options,
		   score_gpu_models *models, score_gpu_typical **typical,
		   sim_fit_check *fit, int64_t *end_ms, score_error *err)
{
	sim_trace_source *trace = NULL;
	sim_source source;
	int ret;

	if (typical != NULL)
		*typical = NULL;
	*end_ms = 0;
	ret = sim_trace_source_open(path, options, models, &trace, &source, err);
	if (ret == 0)
		ret = sim_source_scan(&source, typical, fit, end_ms, err);
	sim_trace_source_free(trace);
	return ret;
}

/* ---- Generic traces ------------------------------------------------------ */

struct sim_mapped_source {
	sim_mapped_reader *reader;
	char *path;
	bool exhausted;            /* the reader returned its end */
	sim_mapped_kind last_kind; /* of the record returned last */
};

static int mapped_next(void *data, sim_arrival *out, score_error *err)
{
	sim_mapped_source *trace = data;
	sim_mapped_pod row;
	score_pod *pod;
	char *uid;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sim_mapped_reader_next(trace->reader, &row, err);
	if (ret == 0)
		trace->exhausted = true;
	if (ret <= 0)
		return ret;
	trace->last_kind = row.kind;
	if (row.kind == SIM_MAPPED_END) {
		out->end_uid = g_strdup_printf("%s/%s", row.namespace, row.name);
		out->time_ms = row.arrival_ms;
		out->run_ms = row.run_ms;
		out->line = row.line;
		sim_mapped_pod_clear(&row);
		return 1;
	}

	pod = score_pod_new();
	uid = g_strdup_printf("%s/%s", row.namespace, row.name);
	pod->uid = score_intern(uid);
	g_free(uid);
	pod->name = score_intern(row.name);
	pod->namespace = score_intern(row.namespace);
	for (guint i = 0; row.labels != NULL && i + 1 < row.labels->len; i += 2)
		score_labels_set(&pod->labels, row.labels->pdata[i], row.labels->pdata[i + 1]);
	if (row.tenant != NULL)
		score_pod_set_tenant(pod, row.tenant);
	if (row.owner_name != NULL) {
		char *owner_uid = g_strdup_printf("%s/%s/%s", row.namespace, row.owner_kind,
						  row.owner_name);

		pod->owner.kind = score_intern(row.owner_kind);
		pod->owner.name = score_intern(row.owner_name);
		pod->owner.uid = score_intern(owner_uid);
		g_free(owner_uid);
	}
	set_requests(pod, row.cpu_milli, row.memory);

	out->pod = pod;
	out->gpu = gpu_binding(row.cpu_milli, row.memory, row.gpu_count, row.gpu_milli, 0);
	out->time_ms = row.arrival_ms;
	out->run_ms = row.run_ms;
	out->line = row.line;
	sim_mapped_pod_clear(&row);
	return 1;
}

static double mapped_fraction(void *data)
{
	sim_mapped_source *trace = data;

	return sim_mapped_reader_fraction(trace->reader);
}

int sim_mapped_source_open(const char *path, const sim_mapping *mapping,
			   const sim_read_options *options,
			   sim_mapped_source **out, sim_source *source,
			   score_error *err)
{
	sim_mapped_source *trace = g_new0(sim_mapped_source, 1);
	int ret;

	*out = NULL;
	trace->path = g_strdup(path);
	ret = sim_mapped_reader_open(path, mapping, options, &trace->reader, err);
	if (ret < 0) {
		sim_mapped_source_free(trace);
		return ret;
	}
	memset(source, 0, sizeof(*source));
	source->next = mapped_next;
	source->fraction = mapped_fraction;
	source->data = trace;
	source->name = trace->path;
	*out = trace;
	return 0;
}

int32_t sim_mapped_source_drop_replicas(sim_mapped_source *trace)
{
	return sim_mapped_reader_drop_replicas(trace->reader);
}

void sim_mapped_source_free(sim_mapped_source *trace)
{
	if (trace == NULL)
		return;
	sim_mapped_reader_free(trace->reader);
	g_free(trace->path);
	g_free(trace);
}

size_t sim_mapped_source_skipped(const sim_mapped_source *trace,
				 const char **first)
{
	return sim_mapped_reader_skipped(trace->reader, first);
}

size_t sim_mapped_source_filtered(const sim_mapped_source *trace)
{
	return sim_mapped_reader_filtered(trace->reader);
}

void sim_mapped_source_end_counts(const sim_mapped_source *trace,
				  sim_mapped_end_counts *out)
{
	sim_mapped_reader_end_counts(trace->reader, out);
}

void sim_mapped_source_consumed_end_counts(const sim_mapped_source *trace,
					   int64_t end_ms,
					   sim_mapped_end_counts *out)
{
	sim_mapped_reader_end_counts(trace->reader, out);
	if (trace->exhausted)
		return;

	/* The run stopped with the record returned last still unread: undo
	 * what reading it did, and leave out the unmatched end rows before
	 * it that lie past the stop. */
	if (trace->last_kind == SIM_MAPPED_END) {
		out->matched -= MIN(out->matched, 1);
		out->open++;
	} else if (out->open > 0) {
		out->open--;
	}
	out->unmatched -= MIN(out->unmatched,
			      sim_mapped_reader_unmatched_after(trace->reader, end_ms));
}

/* ---- Node events --------------------------------------------------------- */

enum {
	EVENT_TIME,
	EVENT_KIND,
	EVENT_NODE,
	EVENT_SHAPE,
	EVENT_ZONE,
	EVENT_RACK,
	EVENT_COLUMNS,
};

static const char *const event_columns[EVENT_COLUMNS] = {
	"time", "event", "node", "shape", "zone", "rack",
};

static const char *const event_kinds[] = {
	[SIM_NODE_ADD] = "add",
	[SIM_NODE_REMOVE] = "remove",
	[SIM_NODE_FAIL] = "fail",
	[SIM_NODE_RECOVER] = "recover",
};

static int event_header(const sim_csv *csv, int *position, score_error *err)
{
	for (int c = 0; c < EVENT_COLUMNS; c++)
		position[c] = -1;
	for (guint f = 0; f < csv->fields->len; f++) {
		int found = -1;

		for (int c = 0; c < EVENT_COLUMNS; c++) {
			if (strcmp(sim_csv_field(csv, f), event_columns[c]) == 0)
				found = c;
		}
		if (found < 0 || position[found] >= 0)
			return score_fail(err, -EINVAL,
					  "%s:%d: unknown or repeated column \"%s\": the columns are time, event, node, and optionally shape, zone, rack",
					  csv->name, csv->line, sim_csv_field(csv, f));
		position[found] = (int)f;
	}
	for (int c = EVENT_TIME; c <= EVENT_NODE; c++) {
		if (position[c] < 0)
			return score_fail(err, -EINVAL,
					  "%s:%d: missing column \"%s\": the columns are time, event, node, and optionally shape, zone, rack",
					  csv->name, csv->line, event_columns[c]);
	}
	return 0;
}

static const char *event_field(const sim_csv *csv, const int *position, int column)
{
	const char *value;

	if (position[column] < 0)
		return NULL;
	value = sim_csv_field(csv, (guint)position[column]);
	return value[0] != '\0' ? value : NULL;
}

static int fail_event(const sim_csv *csv, const char *column, const char *value,
		      const char *expected, score_error *err)
{
	return score_fail(err, -EINVAL, "%s:%d: column %s: invalid value \"%s\": %s",
			  csv->name, csv->line, column, value != NULL ? value : "",
			  expected);
}

static int event_row(const sim_csv *csv, const int *position,
		     sim_node_event *event, score_error *err)
{
	const char *time = event_field(csv, position, EVENT_TIME);
	const char *kind = event_field(csv, position, EVENT_KIND);
	const char *node = event_field(csv, position, EVENT_NODE);
	const char *shape = event_field(csv, position, EVENT_SHAPE);
	int found = -1;

	memset(event, 0, sizeof(*event));
	event->line = csv->line;
	if (time == NULL || sim_parse_duration(time, &event->time_ms, NULL) < 0)
		return fail_event(csv, "time", time,
				  "expected a time from the start such as 90s or 2h", err);
	for (int k = 0; k < (int)G_N_ELEMENTS(event_kinds); k++) {
		if (kind != NULL && strcmp(kind, event_kinds[k]) == 0)
			found = k;
	}
	if (found < 0)
		return fail_event(csv, "event", kind,
				  "expected add, remove, fail or recover", err);
	event->kind = (sim_node_event_kind)found;
	if (node == NULL)
		return fail_event(csv, "node", node, "expected a node name", err);

	if (event->kind == SIM_NODE_ADD) {
		score_error shape_err = {0};

		if (shape == NULL)
			return fail_event(csv, "shape", shape,
					  "an added node needs a shape such as 16/64Gi", err);
		if (sim_node_shape_parse(shape, &event->shape, &shape_err) < 0)
			return fail_event(csv, "shape", shape, shape_err.message, err);
		event->zone = g_strdup(event_field(csv, position, EVENT_ZONE));
		event->rack = g_strdup(event_field(csv, position, EVENT_RACK));
	}
	event->node = g_strdup(node);
	event->file = g_strdup(csv->name);
	return 0;
}

/* Rejects an event that comes before the previous one; `previous` is NULL
 * for the first event. */
static int check_event_order(const sim_csv *csv, const int *position,
			     const sim_node_event *event,
			     const sim_node_event *previous, const char *previous_time,
			     score_error *err)
{
	char expected[160];

	if (previous == NULL || event->time_ms >= previous->time_ms)
		return 0;
	g_snprintf(expected, sizeof(expected),
		   "the time goes backwards from %s on line %d: sort the events by time",
		   previous_time, previous->line);
	return fail_event(csv, "time", event_field(csv, position, EVENT_TIME), expected,
			  err);
}

int sim_node_events_read(const char *path, GPtrArray *events, score_error *err)
{
	gchar *text = NULL;
	gsize length = 0;
	GError *error = NULL;
	sim_csv csv;
	int position[EVENT_COLUMNS];
	guint n_fields = 0;
	const sim_node_event *previous = NULL;
	char *previous_time = NULL;
	int ret;

	if (!g_file_get_contents(path, &text, &length, &error)) {
		ret = score_fail(err, -EIO, "cannot read node events %s: %s", path,
				 error->message);
		g_error_free(error);
		return ret;
	}
	sim_csv_init(&csv, path, text, length);
	ret = sim_csv_next(&csv, err);
	if (ret == 0)
		ret = score_fail(err, -EINVAL,
				 "%s: empty file: expected the header time,event,node", path);
	if (ret > 0) {
		n_fields = csv.fields->len;
		ret = event_header(&csv, position, err);
	}

	while (ret == 0) {
		sim_node_event *event;

		ret = sim_csv_next(&csv, err);
		if (ret <= 0)
			break;
		if (csv.fields->len != n_fields) {
			ret = score_fail(err, -EINVAL,
					 "%s:%d: %u fields, but the header has %u: check for a missing or extra comma",
					 path, csv.line, csv.fields->len, n_fields);
			break;
		}
		event = g_new0(sim_node_event, 1);
		ret = event_row(&csv, position, event, err);
		if (ret == 0)
			ret = check_event_order(&csv, position, event, previous,
						previous_time, err);
		if (ret < 0) {
			sim_node_event_release(event);
			g_free(event);
			break;
		}
		g_ptr_array_add(events, event);
		previous = event;
		g_free(previous_time);
		previous_time = g_strdup(event_field(&csv, position, EVENT_TIME));
	}

	g_free(previous_time);
	sim_csv_release(&csv);
	g_free(text);
	return ret;
}

/* ---- Node event checks --------------------------------------------------- */

/* The state of one node name after the events checked so far. */
typedef struct node_state {
	bool present;
	bool failed;
	int failed_line;  /* line of the fail while failed */
	int removed_line; /* line of the last remove, 0 when none */
} node_state;

static node_state *state_of(GHashTable *states, const char *name)
{
	node_state *state = g_hash_table_lookup(states, name);

	if (state == NULL) {
		state = g_new0(node_state, 1);
		g_hash_table_insert(states, g_strdup(name), state);
	}
	return state;
}

static int check_event_state(const sim_node_event *event, node_state *state,
			     score_error *err)
{
	const char *file = event->file != NULL ? event->file : "node events";
	char at[32];

	sim_format_seconds((double)event->time_ms / 1000.0, at, sizeof(at));
	if (event->kind == SIM_NODE_ADD) {
		if (state->present)
			return score_fail(err, -EEXIST,
					  "%s:%d: node %s is already in the cluster at %s: node names must be unique; remove it first or pick another name",
					  file, event->line, event->node, at);
		return 0;
	}
	if (!state->present && state->removed_line > 0)
		return score_fail(err, -ENOENT,
				  "%s:%d: node %s is not in the cluster at %s: it was removed on line %d",
				  file, event->line, event->node, at, state->removed_line);
	if (!state->present)
		return score_fail(err, -ENOENT,
				  "%s:%d: node %s is not in the cluster at %s: add it first or fix the name",
				  file, event->line, event->node, at);
	if (event->kind == SIM_NODE_FAIL && state->failed)
		return score_fail(err, -EINVAL,
				  "%s:%d: node %s fails at %s, but it failed on line %d and has not recovered: put a recover between the two or remove one",
				  file, event->line, event->node, at, state->failed_line);
	if (event->kind == SIM_NODE_RECOVER && !state->failed)
		return score_fail(err, -EINVAL,
				  "%s:%d: node %s recovers at %s, but it has not failed: a recover must follow a fail of the same node",
				  file, event->line, event->node, at);
	return 0;
}

static void apply_event_state(const sim_node_event *event, node_state *state)
{
	switch (event->kind) {
	case SIM_NODE_ADD:
		state->present = true;
		state->failed = false;
		break;
	case SIM_NODE_REMOVE:
		state->present = false;
		state->failed = false;
		state->removed_line = event->line;
		break;
	case SIM_NODE_FAIL:
		state->failed = true;
		state->failed_line = event->line;
		break;
	case SIM_NODE_RECOVER:
		state->failed = false;
		break;
	}
}

int sim_node_events_check(const GPtrArray *events, const GPtrArray *nodes,
			  score_error *err)
{
	GHashTable *states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						   g_free);
	int ret = 0;

	for (guint i = 0; i < nodes->len; i++)
		state_of(states, nodes->pdata[i])->present = true;
	for (guint i = 0; i < events->len && ret == 0; i++) {
		const sim_node_event *event = events->pdata[i];
		node_state *state = state_of(states, event->node);

		ret = check_event_state(event, state, err);
		if (ret == 0)
			apply_event_state(event, state);
	}
	g_hash_table_destroy(states);
	return ret;
}
