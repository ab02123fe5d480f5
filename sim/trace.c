/* Node and pod list readers for the openb traces; see trace.h. */
#include "sim/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "sim/csv.h"

typedef struct column_spec {
	const char *name;
	bool required;
} column_spec;

enum {
	NODE_NAME,
	NODE_CPU,
	NODE_MEMORY,
	NODE_GPU,
	NODE_MODEL,
	NODE_COLUMNS,
};

static const column_spec node_columns[NODE_COLUMNS] = {
	[NODE_NAME] = {"sn", true},
	[NODE_CPU] = {"cpu_milli", true},
	[NODE_MEMORY] = {"memory_mib", true},
	[NODE_GPU] = {"gpu", true},
	[NODE_MODEL] = {"model", true},
};

enum {
	POD_NAME,
	POD_CPU,
	POD_MEMORY,
	POD_NUM_GPU,
	POD_GPU_MILLI,
	POD_GPU_SPEC,
	POD_QOS,
	POD_PHASE,
	POD_CREATION,
	POD_DELETION,
	POD_SCHEDULED,
	POD_COLUMNS,
};

static const column_spec pod_columns[POD_COLUMNS] = {
	[POD_NAME] = {"name", true},
	[POD_CPU] = {"cpu_milli", true},
	[POD_MEMORY] = {"memory_mib", true},
	[POD_NUM_GPU] = {"num_gpu", true},
	[POD_GPU_MILLI] = {"gpu_milli", true},
	[POD_GPU_SPEC] = {"gpu_spec", false},
	[POD_QOS] = {"qos", false},
	[POD_PHASE] = {"pod_phase", false},
	[POD_CREATION] = {"creation_time", false},
	[POD_DELETION] = {"deletion_time", false},
	[POD_SCHEDULED] = {"scheduled_time", false},
};

static const char *const qos_names[] = {
	[SIM_QOS_LS] = "LS",
	[SIM_QOS_BE] = "BE",
	[SIM_QOS_BURSTABLE] = "Burstable",
	[SIM_QOS_GUARANTEED] = "Guaranteed",
};

static const char *const phase_names[] = {
	[SIM_PHASE_RUNNING] = "Running",
	[SIM_PHASE_SUCCEEDED] = "Succeeded",
	[SIM_PHASE_FAILED] = "Failed",
	[SIM_PHASE_PENDING] = "Pending",
};

/* The header of one file: where each known column sits. */
typedef struct csv_header {
	const column_spec *specs;
	int n_specs;
	int position[POD_COLUMNS]; /* field index per spec, -1 when absent */
	guint n_fields;
} csv_header;

/* The row being parsed, for messages. */
typedef struct row_context {
	const sim_csv *csv;
	const csv_header *header;
	int spec;
} row_context;

static GString *expected_columns(const column_spec *specs, int n_specs)
{
	GString *list = g_string_new(NULL);

	for (int s = 0; s < n_specs; s++) {
		if (s > 0)
			g_string_append(list, ", ");
		g_string_append(list, specs[s].name);
		if (!specs[s].required)
			g_string_append(list, " (optional)");
	}
	return list;
}

/* Maps the header line last read by `csv` to the columns of `specs`. */
static int parse_header(const sim_csv *csv, const column_spec *specs,
			int n_specs, csv_header *out, score_error *err)
{
	GString *expected = expected_columns(specs, n_specs);
	int ret;

	memset(out, 0, sizeof(*out));
	out->specs = specs;
	out->n_specs = n_specs;
	for (int s = 0; s < n_specs; s++)
		out->position[s] = -1;

	out->n_fields = csv->fields->len;
	for (guint f = 0; f < csv->fields->len; f++) {
		const char *name = sim_csv_field(csv, f);
		int found = -1;

		for (int s = 0; s < n_specs && found < 0; s++) {
			if (strcmp(name, specs[s].name) == 0)
				found = s;
		}
		if (found < 0) {
			ret = score_fail(err, -EINVAL,
					 "%s:%d: unknown column \"%s\" (field %u): the columns are %s",
					 csv->name, csv->line, name, f + 1, expected->str);
			goto out;
		}
		if (out->position[found] >= 0) {
			ret = score_fail(err, -EINVAL,
					 "%s:%d: column \"%s\" appears twice, as fields %d and %u: remove one",
					 csv->name, csv->line, name,
					 out->position[found] + 1, f + 1);
			goto out;
		}
		out->position[found] = (int)f;
	}
	for (int s = 0; s < n_specs; s++) {
		if (specs[s].required && out->position[s] < 0) {
			ret = score_fail(err, -EINVAL,
					 "%s:%d: missing column \"%s\": the columns are %s",
					 csv->name, csv->line, specs[s].name, expected->str);
			goto out;
		}
	}
	ret = 0;

out:
	g_string_free(expected, TRUE);
	return ret;
}

static int fail_empty_file(const char *name, score_error *err)
{
	return score_fail(err, -EINVAL,
			  "%s: empty file: expected a header line and at least one data row",
			  name);
}

static int read_header(sim_csv *csv, const column_spec *specs, int n_specs,
		       csv_header *out, score_error *err)
{
	int ret = sim_csv_next(csv, err);

	if (ret == 0)
		return fail_empty_file(csv->name, err);
	if (ret < 0)
		return ret;
	return parse_header(csv, specs, n_specs, out, err);
}

static bool has_column(const csv_header *header, int spec)
{
	return header->position[spec] >= 0;
}

static const char *value_of(const row_context *row, int spec)
{
	return sim_csv_field(row->csv, (guint)row->header->position[spec]);
}

static int fail_value(const row_context *row, int spec, const char *value,
		      const char *expected, score_error *err)
{
	return score_fail(err, -EINVAL,
			  "%s:%d: column %s: invalid value \"%s\": %s",
			  row->csv->name, row->csv->line,
			  row->header->specs[spec].name, value, expected);
}

/* Parses a whole number in [min, max] written with digits only. */
static int parse_number(const row_context *row, int spec, int64_t min,
			int64_t max, const char *unit, int64_t *out,
			score_error *err)
{
	const char *text = value_of(row, spec);
	char expected[160];
	int64_t value = 0;

	g_snprintf(expected, sizeof(expected),
		   "expected a whole number of %s from %lld to %lld", unit,
		   (long long)min, (long long)max);
	if (text[0] == '\0')
		return fail_value(row, spec, text, expected, err);
	for (const char *c = text; *c != '\0'; c++) {
		if (!g_ascii_isdigit(*c))
			return fail_value(row, spec, text, expected, err);
		if (value > (max - (*c - '0')) / 10)
			return fail_value(row, spec, text, expected, err);
		value = value * 10 + (*c - '0');
	}
	if (value < min || value > max)
		return fail_value(row, spec, text, expected, err);
	*out = value;
	return 0;
}

static int parse_enum(const row_context *row, int spec,
		      const char *const *names, int n_names, int *out,
		      score_error *err)
{
	const char *text = value_of(row, spec);
	GString *expected;
	int ret;

	for (int i = 1; i < n_names; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	expected = g_string_new("expected one of ");
	for (int i = 1; i < n_names; i++)
		g_string_append_printf(expected, "%s%s", i > 1 ? ", " : "", names[i]);
	ret = fail_value(row, spec, text, expected->str, err);
	g_string_free(expected, TRUE);
	return ret;
}

static int check_field_count(const sim_csv *csv, const csv_header *header,
			     score_error *err)
{
	if (csv->fields->len == header->n_fields)
		return 0;
	return score_fail(err, -EINVAL,
			  "%s:%d: %u fields, but the header has %u: check for a missing or extra comma",
			  csv->name, csv->line, csv->fields->len, header->n_fields);
}

static int check_unique(GHashTable *seen, const sim_csv *csv,
			const char *kind, const char *name, score_error *err)
{
	gpointer line = g_hash_table_lookup(seen, name);

	if (line != NULL)
		return score_fail(err, -EINVAL,
				  "%s:%d: duplicate %s name \"%s\", first on line %d: names must be unique",
				  csv->name, csv->line, kind, name,
				  GPOINTER_TO_INT(line));
	return 0;
}

/* ---- Nodes --------------------------------------------------------------- */

static int parse_node_row(const row_context *row, GHashTable *seen,
			  sim_trace_node *node, score_error *err)
{
	const char *name = value_of(row, NODE_NAME);
	const char *model = value_of(row, NODE_MODEL);
	int64_t gpu = 0;
	int ret;

	memset(node, 0, sizeof(*node));
	if (name[0] == '\0')
		return fail_value(row, NODE_NAME, name, "expected a node name", err);
	ret = check_unique(seen, row->csv, "node", name, err);
	if (ret < 0)
		return ret;

	ret = parse_number(row, NODE_CPU, 0, SIM_TRACE_MAX_CPU_MILLI,
			   "millicores", &node->cpu_milli, err);
	if (ret == 0)
		ret = parse_number(row, NODE_MEMORY, 0, SIM_TRACE_MAX_MEMORY_MIB,
				   "MiB", &node->memory_mib, err);
	if (ret == 0)
		ret = parse_number(row, NODE_GPU, 0, SIM_TRACE_MAX_GPUS, "GPUs",
				   &gpu, err);
	if (ret < 0)
		return ret;

	if (strchr(model, '|') != NULL)
		return fail_value(row, NODE_MODEL, model,
				  "expected one GPU model name, without '|'", err);
	if (gpu == 0 && model[0] != '\0')
		return fail_value(row, NODE_MODEL, model,
				  "a GPU model on a node with 0 GPUs: set gpu or clear model",
				  err);

	node->gpu = (int32_t)gpu;
	node->name = g_strdup(name);
	node->model = model[0] != '\0' ? g_strdup(model) : NULL;
	node->line = row->csv->line;
	return 0;
}

static void node_clear(sim_trace_node *node)
{
	g_free(node->name);
	g_free(node->model);
	memset(node, 0, sizeof(*node));
}

void sim_trace_nodes_release(sim_trace_nodes *nodes)
{
	for (size_t i = 0; i < nodes->n; i++)
		node_clear(&nodes->items[i]);
	g_free(nodes->items);
	memset(nodes, 0, sizeof(*nodes));
}

/* Counts a bad row when skipping is on; returns the error otherwise. */
static int skip_or_fail(const sim_read_options *options, int ret,
			const score_error *row_err, size_t *skipped,
			char *first_skipped, score_error *err)
{
	if (options == NULL || !options->skip_bad_rows) {
		if (err != NULL)
			*err = *row_err;
		return ret;
	}
	if (*skipped == 0)
		g_strlcpy(first_skipped, row_err->message, SCORE_ERROR_MESSAGE_MAX);
	(*skipped)++;
	return 0;
}

static int fail_no_rows(const char *name, size_t skipped,
			const char *first_skipped, score_error *err)
{
	if (skipped == 1)
		return score_fail(err, -EINVAL,
				  "%s: no valid data rows: the only one was skipped: %s",
				  name, first_skipped);
	if (skipped > 0)
		return score_fail(err, -EINVAL,
				  "%s: no valid data rows: all %zu were skipped; the first: %s",
				  name, skipped, first_skipped);
	return score_fail(err, -EINVAL,
			  "%s: no data rows after the header: the trace is empty",
			  name);
}

int sim_trace_parse_nodes(const char *name, const char *text, size_t length,
			  const sim_read_options *options,
			  sim_trace_nodes *out, score_error *err)
{
	GArray *items = g_array_new(FALSE, TRUE, sizeof(sim_trace_node));
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	sim_trace_nodes result = {0};
	sim_csv csv;
	csv_header header;
	int ret;

	memset(out, 0, sizeof(*out));
	sim_csv_init(&csv, name, text, length);
	ret = read_header(&csv, node_columns, NODE_COLUMNS, &header, err);
	if (ret < 0)
		goto out;

	for (;;) {
		row_context row = {.csv = &csv, .header = &header};
		score_error row_err = {0};
		sim_trace_node node;

		ret = sim_csv_next(&csv, &row_err);
		if (ret == 0)
			break;
		if (ret > 0)
			ret = check_field_count(&csv, &header, &row_err);
		if (ret == 0)
			ret = parse_node_row(&row, seen, &node, &row_err);
		if (ret < 0) {
			ret = skip_or_fail(options, ret, &row_err, &result.skipped,
					   result.first_skipped, err);
			if (ret < 0)
				goto out;
			continue;
		}
		g_array_append_val(items, node);
		g_hash_table_insert(seen,
				    g_array_index(items, sim_trace_node, items->len - 1).name,
				    GINT_TO_POINTER(node.line));
	}

	if (items->len == 0) {
		ret = fail_no_rows(name, result.skipped, result.first_skipped, err);
		goto out;
	}
	result.n = items->len;
	result.items = (sim_trace_node *)(void *)g_array_free(items, FALSE);
	items = NULL;
	*out = result;
	ret = 0;

out:
	if (items != NULL) {
		for (guint i = 0; i < items->len; i++)
			node_clear(&g_array_index(items, sim_trace_node, i));
		g_array_free(items, TRUE);
	}
	g_hash_table_destroy(seen);
	sim_csv_release(&csv);
	return ret;
}

/* ---- Pods ---------------------------------------------------------------- */

static int parse_pod_gpus(const row_context *row, sim_trace_pod *pod,
			  score_error *err)
{
	int64_t num_gpu = 0;
	int64_t gpu_milli = 0;
	int ret;

	ret = parse_number(row, POD_NUM_GPU, 0, SIM_TRACE_MAX_GPUS, "GPUs",
			   &num_gpu, err);
	if (ret == 0)
		ret = parse_number(row, POD_GPU_MILLI, 0, 1000,
				   "thousandths of a GPU", &gpu_milli, err);
	if (ret < 0)
		return ret;

	if (num_gpu == 0 && gpu_milli != 0)
		return fail_value(row, POD_GPU_MILLI, value_of(row, POD_GPU_MILLI),
				  "a GPU share on a pod with num_gpu 0: set num_gpu or gpu_milli 0",
				  err);
	if (num_gpu > 0 && gpu_milli == 0)
		return fail_value(row, POD_GPU_MILLI, value_of(row, POD_GPU_MILLI),
				  "a pod with GPUs needs gpu_milli from 1 to 1000",
				  err);
	if (num_gpu > 1 && gpu_milli != 1000)
		return fail_value(row, POD_GPU_MILLI, value_of(row, POD_GPU_MILLI),
				  "a pod with several GPUs takes whole GPUs: gpu_milli must be 1000",
				  err);
	pod->num_gpu = (int32_t)num_gpu;
	pod->gpu_milli = (int32_t)gpu_milli;
	return 0;
}

static int parse_time(const row_context *row, int spec, bool may_be_empty,
		      int64_t *out, score_error *err)
{
	*out = -1;
	if (!has_column(row->header, spec))
		return 0;
	if (may_be_empty && value_of(row, spec)[0] == '\0')
		return 0;
	return parse_number(row, spec, 0, SIM_TRACE_MAX_SECONDS,
			    "seconds from the trace start", out, err);
}

static int parse_pod_times(const row_context *row, sim_trace_pod *pod,
			   score_error *err)
{
	char expected[160];
	int ret;

	ret = parse_time(row, POD_CREATION, false, &pod->creation_time, err);
	if (ret == 0)
		ret = parse_time(row, POD_DELETION, false, &pod->deletion_time, err);
	if (ret == 0)
		ret = parse_time(row, POD_SCHEDULED, true, &pod->scheduled_time, err);
	if (ret < 0)
		return ret;

	if (pod->creation_time >= 0 && pod->deletion_time >= 0 &&
	    pod->deletion_time < pod->creation_time) {
		g_snprintf(expected, sizeof(expected),
			   "deletion before creation_time %lld",
			   (long long)pod->creation_time);
		return fail_value(row, POD_DELETION, value_of(row, POD_DELETION),
				  expected, err);
	}
	if (pod->scheduled_time >= 0 &&
	    ((pod->creation_time >= 0 && pod->scheduled_time < pod->creation_time) ||
	     (pod->deletion_time >= 0 && pod->scheduled_time > pod->deletion_time))) {
		g_snprintf(expected, sizeof(expected),
			   "expected a time from creation_time %lld to deletion_time %lld",
			   (long long)pod->creation_time,
			   (long long)pod->deletion_time);
		return fail_value(row, POD_SCHEDULED, value_of(row, POD_SCHEDULED),
				  expected, err);
	}
	return 0;
}

/* `seen` may be NULL to skip the check for unique names. */
static int parse_pod_row(const row_context *row, GHashTable *seen,
			 sim_trace_pod *pod, score_error *err)
{
	const char *name = value_of(row, POD_NAME);
	int value = 0;
	int ret;

	memset(pod, 0, sizeof(*pod));
	if (name[0] == '\0')
		return fail_value(row, POD_NAME, name, "expected a pod name", err);
	if (seen != NULL) {
		ret = check_unique(seen, row->csv, "pod", name, err);
		if (ret < 0)
			return ret;
	}

	ret = parse_number(row, POD_CPU, 0, SIM_TRACE_MAX_CPU_MILLI,
			   "millicores", &pod->cpu_milli, err);
	if (ret == 0)
		ret = parse_number(row, POD_MEMORY, 0, SIM_TRACE_MAX_MEMORY_MIB,
				   "MiB", &pod->memory_mib, err);
	if (ret == 0)
		ret = parse_pod_gpus(row, pod, err);
	if (ret == 0 && has_column(row->header, POD_QOS)) {
		ret = parse_enum(row, POD_QOS, qos_names, G_N_ELEMENTS(qos_names),
				 &value, err);
		pod->qos = (sim_qos)value;
	}
	if (ret == 0 && has_column(row->header, POD_PHASE)) {
		ret = parse_enum(row, POD_PHASE, phase_names,
				 G_N_ELEMENTS(phase_names), &value, err);
		pod->phase = (sim_pod_phase)value;
	}
	if (ret == 0)
		ret = parse_pod_times(row, pod, err);
	if (ret < 0)
		return ret;

	pod->name = g_strdup(name);
	if (has_column(row->header, POD_GPU_SPEC) &&
	    value_of(row, POD_GPU_SPEC)[0] != '\0')
		pod->gpu_spec = g_strdup(value_of(row, POD_GPU_SPEC));
	pod->line = row->csv->line;
	return 0;
}

void sim_trace_pod_clear(sim_trace_pod *pod)
{
	g_free(pod->name);
	g_free(pod->gpu_spec);
	memset(pod, 0, sizeof(*pod));
}

void sim_trace_pods_release(sim_trace_pods *pods)
{
	for (size_t i = 0; i < pods->n; i++)
		sim_trace_pod_clear(&pods->items[i]);
	g_free(pods->items);
	memset(pods, 0, sizeof(*pods));
}

int sim_trace_parse_pods(const char *name, const char *text, size_t length,
			 const sim_read_options *options, sim_trace_pods *out,
			 score_error *err)
{
	GArray *items = g_array_new(FALSE, TRUE, sizeof(sim_trace_pod));
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	sim_trace_pods result = {0};
	sim_csv csv;
	csv_header header;
	int ret;

	memset(out, 0, sizeof(*out));
	sim_csv_init(&csv, name, text, length);
	ret = read_header(&csv, pod_columns, POD_COLUMNS, &header, err);
	if (ret < 0)
		goto out;
	if (has_column(&header, POD_CREATION) != has_column(&header, POD_DELETION)) {
		ret = score_fail(err, -EINVAL,
				 "%s:%d: creation_time and deletion_time come together: add the missing one or remove both",
				 name, csv.line);
		goto out;
	}
	result.has_times = has_column(&header, POD_CREATION);

	for (;;) {
		row_context row = {.csv = &csv, .header = &header};
		score_error row_err = {0};
		sim_trace_pod pod;

		ret = sim_csv_next(&csv, &row_err);
		if (ret == 0)
			break;
		if (ret > 0)
			ret = check_field_count(&csv, &header, &row_err);
		if (ret == 0)
			ret = parse_pod_row(&row, seen, &pod, &row_err);
		if (ret < 0) {
			ret = skip_or_fail(options, ret, &row_err, &result.skipped,
					   result.first_skipped, err);
			if (ret < 0)
				goto out;
			continue;
		}
		g_array_append_val(items, pod);
		g_hash_table_insert(seen,
				    g_array_index(items, sim_trace_pod, items->len - 1).name,
				    GINT_TO_POINTER(pod.line));
	}

	if (items->len == 0) {
		ret = fail_no_rows(name, result.skipped, result.first_skipped, err);
		goto out;
	}
	result.n = items->len;
	result.items = (sim_trace_pod *)(void *)g_array_free(items, FALSE);
	items = NULL;
	*out = result;
	ret = 0;

out:
	if (items != NULL) {
		for (guint i = 0; i < items->len; i++)
			sim_trace_pod_clear(&g_array_index(items, sim_trace_pod, i));
		g_array_free(items, TRUE);
	}
	g_hash_table_destroy(seen);
	sim_csv_release(&csv);
	return ret;
}

/* ---- Files --------------------------------------------------------------- */

static int read_file(const char *path, gchar **text, gsize *length,
		     score_error *err)
{
	GError *error = NULL;

	if (!g_file_get_contents(path, text, length, &error)) {
		int ret = score_fail(err, -EIO, "cannot read %s: %s", path, error->message);

		g_error_free(error);
		return ret;
	}
	return 0;
}

int sim_trace_read_nodes(const char *path, const sim_read_options *options,
			 sim_trace_nodes *out, score_error *err)
{
	gchar *text = NULL;
	gsize length = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_file(path, &text, &length, err);
	if (ret == 0)
		ret = sim_trace_parse_nodes(path, text, length, options, out, err);
	g_free(text);
	return ret;
}

int sim_trace_read_pods(const char *path, const sim_read_options *options,
			sim_trace_pods *out, score_error *err)
{
	gchar *text = NULL;
	gsize length = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_file(path, &text, &length, err);
	if (ret == 0)
		ret = sim_trace_parse_pods(path, text, length, options, out, err);
	g_free(text);
	return ret;
}

/* ---- Pod lists as a stream ----------------------------------------------- */

struct sim_trace_pod_reader {
	char *path;
	FILE *file;
	sim_csv csv;
	csv_header header;
	sim_read_options options;
	bool sorted;
	char *line; /* getline() buffer */
	size_t line_capacity;
	int64_t file_size;
	int64_t bytes_read;
	int64_t previous_creation; /* -1 before the first row */
	int previous_line;
	size_t rows;
	size_t skipped;
	char first_skipped[SCORE_ERROR_MESSAGE_MAX];
};

/* Reads the next line into the csv reader. Returns 1 with fields, 0 at the
 * end of the file, or -EINVAL for a malformed line (already counted). */
static int reader_next_line(sim_trace_pod_reader *reader, score_error *err)
{
	for (;;) {
		ssize_t length = getline(&reader->line, &reader->line_capacity,
					 reader->file);
		int ret;

		if (length < 0)
			return 0;
		reader->bytes_read += length;
		ret = sim_csv_feed_line(&reader->csv, reader->line, (size_t)length,
					err);
		if (ret != 0)
			return ret;
	}
}

void sim_trace_pod_reader_free(sim_trace_pod_reader *reader)
{
	if (reader == NULL)
		return;
	if (reader->file != NULL)
		fclose(reader->file);
	sim_csv_release(&reader->csv);
	free(reader->line);
	g_free(reader->path);
	g_free(reader);
}

int sim_trace_pod_reader_open(const char *path, const sim_read_options *options,
			      bool sorted, sim_trace_pod_reader **out,
			      score_error *err)
{
	sim_trace_pod_reader *reader = g_new0(sim_trace_pod_reader, 1);
	struct stat info;
	int ret;

	*out = NULL;
	reader->path = g_strdup(path);
	reader->sorted = sorted;
	reader->previous_creation = -1;
	if (options != NULL)
		reader->options = *options;
	sim_csv_init(&reader->csv, reader->path, NULL, 0);

	reader->file = fopen(path, "r");
	if (reader->file == NULL) {
		ret = score_fail(err, -errno, "cannot read trace %s: %s", path,
				 g_strerror(errno));
		goto out;
	}
	if (fstat(fileno(reader->file), &info) == 0)
		reader->file_size = info.st_size;

	ret = reader_next_line(reader, err);
	if (ret == 0)
		ret = fail_empty_file(path, err);
	if (ret < 0)
		goto out;
	ret = parse_header(&reader->csv, pod_columns, POD_COLUMNS,
			   &reader->header, err);
	if (ret == 0 && has_column(&reader->header, POD_CREATION) !=
				has_column(&reader->header, POD_DELETION))
		ret = score_fail(err, -EINVAL,
				 "%s:%d: creation_time and deletion_time come together: add the missing one or remove both",
				 path, reader->csv.line);
	if (ret < 0)
		goto out;

	*out = reader;
	reader = NULL;

out:
	sim_trace_pod_reader_free(reader);
	return ret;
}

/* Rejects a row created before the previous one when the list must be
 * sorted by creation_time. */
static int check_sorted(sim_trace_pod_reader *reader, const row_context *row,
			const sim_trace_pod *pod, score_error *err)
{
	char expected[200];

	if (!reader->sorted || pod->creation_time < 0 ||
	    reader->previous_creation < 0 ||
	    pod->creation_time >= reader->previous_creation)
		return 0;
	g_snprintf(expected, sizeof(expected),
		   "creation_time goes backwards from %lld on line %d: sort the list by creation_time",
		   (long long)reader->previous_creation, reader->previous_line);
	return fail_value(row, POD_CREATION, value_of(row, POD_CREATION),
			  expected, err);
}

int sim_trace_pod_reader_next(sim_trace_pod_reader *reader, sim_trace_pod *pod,
			      score_error *err)
{
	memset(pod, 0, sizeof(*pod));
	for (;;) {
		row_context row = {.csv = &reader->csv, .header = &reader->header};
		score_error row_err = {0};
		int ret = reader_next_line(reader, &row_err);

		if (ret == 0)
			break;
		if (ret > 0)
			ret = check_field_count(&reader->csv, &reader->header, &row_err);
		if (ret == 0)
			ret = parse_pod_row(&row, NULL, pod, &row_err);
		if (ret == 0) {
			ret = check_sorted(reader, &row, pod, &row_err);
			if (ret < 0)
				sim_trace_pod_clear(pod);
		}
		if (ret < 0) {
			ret = skip_or_fail(&reader->options, ret, &row_err,
					   &reader->skipped, reader->first_skipped, err);
			if (ret < 0)
				return ret;
			continue;
		}
		if (pod->creation_time >= 0) {
			reader->previous_creation = pod->creation_time;
			reader->previous_line = pod->line;
		}
		reader->rows++;
		return 1;
	}

	if (reader->rows == 0)
		return fail_no_rows(reader->path, reader->skipped,
				    reader->first_skipped, err);
	return 0;
}

bool sim_trace_pod_reader_has_times(const sim_trace_pod_reader *reader)
{
	return has_column(&reader->header, POD_CREATION);
}

size_t sim_trace_pod_reader_skipped(const sim_trace_pod_reader *reader,
				    const char **first)
{
	if (first != NULL)
		*first = reader->first_skipped;
	return reader->skipped;
}

double sim_trace_pod_reader_fraction(const sim_trace_pod_reader *reader)
{
	if (reader->file_size <= 0)
		return 0.0;
	return MIN(1.0, (double)reader->bytes_read / (double)reader->file_size);
}
