/* Mapping specs and the generic trace reader; see mapping.h. */
#include "sim/mapping.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "policies/yaml.h"
#include "scoring/quantity.h"
#include "sim/csv.h"
#include "sim/generator.h"
#include "sim/progress.h"

/* ---- Units --------------------------------------------------------------- */

typedef enum unit_kind {
	UNIT_SCALE = 0, /* the number times `factor` */
	UNIT_FRACTION,  /* of the reference node, 0 to 1 */
	UNIT_PERCENT,   /* of the reference node, 0 to 100 */
	UNIT_QUANTITY,  /* a Kubernetes quantity such as 500m or 4Gi */
	UNIT_RFC3339,   /* a timestamp such as 2019-05-01T00:00:00Z */
	UNIT_DURATION,  /* a duration such as 90s or 1h30m */
	UNIT_COUNT,     /* whole GPUs */
	UNIT_MILLI,     /* thousandths of a GPU */
} unit_kind;

typedef struct unit {
	const char *name;
	unit_kind kind;
	double factor;
	const char *meaning; /* for messages */
} unit;

/* Times convert to milliseconds. */
static const unit time_units[] = {
	{"s", UNIT_SCALE, 1000.0, "seconds"},
	{"ms", UNIT_SCALE, 1.0, "milliseconds"},
	{"us", UNIT_SCALE, 0.001, "microseconds"},
	{"rfc3339", UNIT_RFC3339, 0, "an RFC 3339 timestamp"},
	{NULL, 0, 0, NULL},
};

static const unit duration_units[] = {
	{"s", UNIT_SCALE, 1000.0, "seconds"},
	{"ms", UNIT_SCALE, 1.0, "milliseconds"},
	{"us", UNIT_SCALE, 0.001, "microseconds"},
	{"duration", UNIT_DURATION, 0, "a duration such as 90s or 1h30m"},
	{NULL, 0, 0, NULL},
};

/* CPU converts to millicores. */
static const unit cpu_units[] = {
	{"cores", UNIT_SCALE, 1000.0, "cores"},
	{"millicores", UNIT_SCALE, 1.0, "millicores"},
	{"centicores", UNIT_SCALE, 10.0, "hundredths of a core"},
	{"fraction", UNIT_FRACTION, 0, "a fraction of the reference node's CPU"},
	{"percent", UNIT_PERCENT, 0, "a percentage of the reference node's CPU"},
	{"quantity", UNIT_QUANTITY, 0, "a Kubernetes quantity such as 500m"},
	{NULL, 0, 0, NULL},
};

/* Memory converts to bytes. */
static const unit memory_units[] = {
	{"bytes", UNIT_SCALE, 1.0, "bytes"},
	{"KiB", UNIT_SCALE, 1024.0, "KiB"},
	{"MiB", UNIT_SCALE, 1048576.0, "MiB"},
	{"GiB", UNIT_SCALE, 1073741824.0, "GiB"},
	{"TiB", UNIT_SCALE, 1099511627776.0, "TiB"},
	{"KB", UNIT_SCALE, 1e3, "kilobytes"},
	{"MB", UNIT_SCALE, 1e6, "megabytes"},
	{"GB", UNIT_SCALE, 1e9, "gigabytes"},
	{"TB", UNIT_SCALE, 1e12, "terabytes"},
	{"fraction", UNIT_FRACTION, 0, "a fraction of the reference node's memory"},
	{"percent", UNIT_PERCENT, 0, "a percentage of the reference node's memory"},
	{"quantity", UNIT_QUANTITY, 0, "a Kubernetes quantity such as 4Gi"},
	{NULL, 0, 0, NULL},
};

static const unit gpu_units[] = {
	{"count", UNIT_COUNT, 0, "whole GPUs"},
	{"milli", UNIT_MILLI, 0, "thousandths of a GPU (500 is half of one, 2000 two whole GPUs)"},
	{NULL, 0, 0, NULL},
};

static GString *unit_names(const unit *units)
{
	GString *names = g_string_new(NULL);

	for (const unit *u = units; u->name != NULL; u++)
		g_string_append_printf(names, "%s%s", u == units ? "" : ", ", u->name);
	return names;
}

/* The largest memory a pod may request: SIM_TRACE_MAX_MEMORY_MIB. */
#define MAX_MEMORY_BYTES ((double)SIM_TRACE_MAX_MEMORY_MIB * 1048576.0)
#define MAX_TIME_MS ((double)SIM_TRACE_MAX_SECONDS * 1000.0)
#define MAX_GPU_MILLI (SIM_TRACE_MAX_GPUS * 1000)
/* The name template placeholder for the row's line number. */
#define LINE_PLACEHOLDER "#"

/* ---- The spec ------------------------------------------------------------ */

/* Where a value comes from: a column or JSON field, a template of them,
 * or a literal piece of a template. */
typedef struct field_ref {
	int id;             /* index into the mapping's refs */
	const char *role;   /* spec path for messages, e.g. "fields.cpu" */
	char *from;         /* column name or JSON path; NULL for a template */
	int position;       /* CSV: 0-based field index; -1 until resolved */
	char **path;        /* JSON lines: the path split at dots */
	GPtrArray *parts;   /* template: field_ref *, borrowed from refs */
	char *literal;      /* a literal template part */
	bool line;          /* the row's line number ({#} in a template) */
	GHashTable *map;    /* raw text -> replacement text; may be NULL */
	const unit *unit;   /* NULL for text fields */
	char *label_key;    /* labels: the key the value goes to */
	char *owner_kind;   /* owner: the controller kind */
	pol_position where; /* in the spec */
} field_ref;

typedef struct row_filter {
	field_ref *field; /* borrowed from refs */
	GPtrArray *in;     /* char *; NULL when not given */
	GPtrArray *not_in; /* char *; NULL when not given */
	bool has_min;
	bool has_max;
	double min;
	double max;
} row_filter;

enum {
	ROLE_ARRIVAL,
	ROLE_DEPARTURE,
	ROLE_DURATION,
	ROLE_CPU,
	ROLE_MEMORY,
	ROLE_GPU,
	ROLE_NAME,
	ROLE_NAMESPACE,
	ROLE_TENANT,
	ROLE_OWNER,
	ROLE_REPLICAS,
	ROLE_END_KEY, /* end.key, not under fields */
	ROLE_COUNT,
};

static const char *const role_keys[ROLE_COUNT] = {
	[ROLE_ARRIVAL] = "arrival",
	[ROLE_DEPARTURE] = "departure",
	[ROLE_DURATION] = "duration",
	[ROLE_CPU] = "cpu",
	[ROLE_MEMORY] = "memory",
	[ROLE_GPU] = "gpu",
	[ROLE_NAME] = "name",
	[ROLE_NAMESPACE] = "namespace",
	[ROLE_TENANT] = "tenant",
	[ROLE_OWNER] = "owner",
	[ROLE_REPLICAS] = "replicas",
	[ROLE_END_KEY] = "key",
};

static const char *const role_paths[ROLE_COUNT] = {
	[ROLE_ARRIVAL] = "fields.arrival",
	[ROLE_DEPARTURE] = "fields.departure",
	[ROLE_DURATION] = "fields.duration",
	[ROLE_CPU] = "fields.cpu",
	[ROLE_MEMORY] = "fields.memory",
	[ROLE_GPU] = "fields.gpu",
	[ROLE_NAME] = "fields.name",
	[ROLE_NAMESPACE] = "fields.namespace",
	[ROLE_TENANT] = "fields.tenant",
	[ROLE_OWNER] = "fields.owner",
	[ROLE_REPLICAS] = "fields.replicas",
	[ROLE_END_KEY] = "end.key",
};

static const unit *const role_units[ROLE_COUNT] = {
	[ROLE_ARRIVAL] = time_units,
	[ROLE_DEPARTURE] = time_units,
	[ROLE_DURATION] = duration_units,
	[ROLE_CPU] = cpu_units,
	[ROLE_MEMORY] = memory_units,
	[ROLE_GPU] = gpu_units,
};

/* Constant values for rows whose field is unmapped or empty. */
typedef struct mapping_defaults {
	bool has_cpu, has_memory, has_gpu, has_duration;
	int64_t cpu_milli;
	int64_t memory;
	int32_t gpu_count, gpu_milli;
	int64_t run_ms; /* -1: runs until the end */
	char *namespace;
	char *tenant;
} mapping_defaults;

struct sim_mapping {
	char *name;
	bool jsonl;
	bool header;
	char delimiter;
	GPtrArray *columns; /* char *: csv.columns; NULL when not given */
	GPtrArray *refs;    /* field_ref *, owned: every reference */
	field_ref *roles[ROLE_COUNT]; /* borrowed from refs; NULL when unmapped */
	GPtrArray *labels;  /* field_ref *, borrowed */
	GPtrArray *filters; /* row_filter *, owned */
	bool has_end;
	GPtrArray *end_filters; /* row_filter *, owned: what makes an end row */
	bool origin_first;
	double origin_ms; /* in the arrival unit's time line, as milliseconds */
	int64_t reference_cpu_milli; /* 0 when not given */
	int64_t reference_memory;
	mapping_defaults defaults;
};

static void field_ref_free(field_ref *ref)
{
	g_free(ref->from);
	g_strfreev(ref->path);
	if (ref->parts != NULL)
		g_ptr_array_free(ref->parts, TRUE);
	g_free(ref->literal);
	if (ref->map != NULL)
		g_hash_table_destroy(ref->map);
	g_free(ref->label_key);
	g_free(ref->owner_kind);
	g_free(ref);
}

static void row_filter_free(row_filter *filter)
{
	if (filter->in != NULL)
		g_ptr_array_free(filter->in, TRUE);
	if (filter->not_in != NULL)
		g_ptr_array_free(filter->not_in, TRUE);
	g_free(filter);
}

void sim_mapping_free(sim_mapping *mapping)
{
	if (mapping == NULL)
		return;
	g_free(mapping->name);
	if (mapping->columns != NULL)
		g_ptr_array_free(mapping->columns, TRUE);
	g_ptr_array_free(mapping->refs, TRUE);
	g_ptr_array_free(mapping->labels, TRUE);
	g_ptr_array_free(mapping->filters, TRUE);
	g_ptr_array_free(mapping->end_filters, TRUE);
	g_free(mapping->defaults.namespace);
	g_free(mapping->defaults.tenant);
	g_free(mapping);
}

/* ---- Spec parsing helpers ------------------------------------------------ */

typedef struct spec_parser {
	const char *name; /* the spec file, for messages */
	sim_mapping *mapping;
	score_error *err;
	int failed; /* the first error's code, 0 while none */
} spec_parser;

/* Records the first error, at `node` (the start of the file when NULL). */
static bool G_GNUC_PRINTF(4, 5)
spec_fail(spec_parser *parser, const pol_yaml_node *node, const char *path,
	  const char *format, ...)
{
	char message[SCORE_ERROR_MESSAGE_MAX];
	va_list args;

	if (parser->failed != 0)
		return false;
	va_start(args, format);
	g_vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	parser->failed = score_fail(parser->err, -EINVAL, "%s:%zu:%zu: %s: %s",
				    parser->name, node != NULL ? node->position.line : 1,
				    node != NULL ? node->position.column : 1, path, message);
	return false;
}

static bool expect_mapping(spec_parser *parser, const pol_yaml_node *node,
			   const char *path)
{
	if (node->kind == POL_YAML_MAPPING)
		return true;
	return spec_fail(parser, node, path, "expected a mapping, found %s",
			 pol_yaml_describe(node));
}

/* Rejects keys of `node` not in the NULL-terminated `allowed`, to catch
 * misspelled keys. */
static bool check_keys(spec_parser *parser, const pol_yaml_node *node,
		       const char *path, const char *const *allowed)
{
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(node->items, i);
		GString *list;
		bool found = false;

		for (const char *const *a = allowed; *a != NULL && !found; a++)
			found = strcmp(pair->key->text, *a) == 0;
		if (found)
			continue;
		list = g_string_new(NULL);
		for (const char *const *a = allowed; *a != NULL; a++)
			g_string_append_printf(list, "%s%s", a == allowed ? "" : ", ", *a);
		spec_fail(parser, pair->key, path, "unknown key \"%s\": the keys are %s",
			  pair->key->text, list->str);
		g_string_free(list, TRUE);
		return false;
	}
	return true;
}

/* Reads a scalar as text: strings, numbers and booleans alike. */
static bool read_text(spec_parser *parser, const pol_yaml_node *node,
		      const char *path, const char **out)
{
	if (node->kind != POL_YAML_SCALAR || node->type == POL_SCALAR_NULL)
		return spec_fail(parser, node, path, "expected a string, found %s",
				 pol_yaml_describe(node));
	*out = node->text;
	return true;
}

static bool read_bool(spec_parser *parser, const pol_yaml_node *node,
		      const char *path, bool *out)
{
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_BOOL)
		return spec_fail(parser, node, path, "expected true or false, found %s",
				 pol_yaml_describe(node));
	*out = node->bool_value;
	return true;
}

static bool read_number(spec_parser *parser, const pol_yaml_node *node,
			const char *path, double *out)
{
	char *end = NULL;

	if (node->kind == POL_YAML_SCALAR &&
	    (node->type == POL_SCALAR_INT || node->type == POL_SCALAR_FLOAT)) {
		*out = g_ascii_strtod(node->text, &end);
		if (end != node->text && *end == '\0' && isfinite(*out))
			return true;
		if (end != node->text && *end == '\0')
			return spec_fail(parser, node, path,
					 "the number \"%s\" is out of range: give a number of magnitude below 1e308",
					 node->text);
	}
	return spec_fail(parser, node, path, "expected a number, found %s \"%s\"",
			 pol_yaml_describe(node), node->text != NULL ? node->text : "");
}

static GPtrArray *read_string_list(spec_parser *parser, const pol_yaml_node *node,
				   const char *path)
{
	GPtrArray *list;

	if (node->kind != POL_YAML_SEQUENCE) {
		spec_fail(parser, node, path, "expected a list, found %s",
			  pol_yaml_describe(node));
		return NULL;
	}
	list = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < node->items->len; i++) {
		const char *text = NULL;

		if (!read_text(parser, g_ptr_array_index(node->items, i), path, &text)) {
			g_ptr_array_free(list, TRUE);
			return NULL;
		}
		g_ptr_array_add(list, g_strdup(text));
	}
	return list;
}

static const unit *find_unit(const unit *units, const char *name)
{
	for (const unit *u = units; u->name != NULL; u++) {
		if (strcmp(u->name, name) == 0)
			return u;
	}
	return NULL;
}

/* ---- Label keys and values ------------------------------------------------ */

static bool is_alnum(char c)
{
	return g_ascii_isalnum(c);
}

/* A name part of a label key or a label value: 1 to 63 characters of
 * letters, digits, '-', '_' and '.', starting and ending with a letter or
 * digit. */
static bool qualified_token(const char *text, size_t length)
{
	if (length == 0 || length > 63 || !is_alnum(text[0]) ||
	    !is_alnum(text[length - 1]))
		return false;
	for (size_t i = 0; i < length; i++) {
		if (!is_alnum(text[i]) && text[i] != '-' && text[i] != '_' && text[i] != '.')
			return false;
	}
	return true;
}

/* A DNS subdomain, the prefix of a label key: lowercase letters, digits,
 * '-' and '.', at most 253 characters. */
static bool dns_subdomain(const char *text, size_t length)
{
	if (length == 0 || length > 253)
		return false;
	for (size_t i = 0; i < length; i++) {
		char c = text[i];

		if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '-' && c != '.')
			return false;
	}
	return g_ascii_isalnum(text[0]) && g_ascii_isalnum(text[length - 1]);
}

static bool label_key_valid(const char *key)
{
	const char *slash = strchr(key, '/');

	if (slash == NULL)
		return qualified_token(key, strlen(key));
	return dns_subdomain(key, (size_t)(slash - key)) &&
	       qualified_token(slash + 1, strlen(slash + 1));
}

static bool label_value_valid(const char *value)
{
	return value[0] == '\0' || qualified_token(value, strlen(value));
}

/* ---- Field references ---------------------------------------------------- */

static field_ref *new_ref(sim_mapping *mapping, const char *role,
			  const pol_yaml_node *where)
{
	field_ref *ref = g_new0(field_ref, 1);

	ref->id = (int)mapping->refs->len;
	ref->role = role;
	ref->position = -1;
	if (where != NULL)
		ref->where = where->position;
	g_ptr_array_add(mapping->refs, ref);
	return ref;
}

/* Fills `ref->from` and, by format, its position or JSON path. `node` is
 * the value of `from`: a name, a JSON path, or a 1-based CSV position. */
static bool set_source(spec_parser *parser, field_ref *ref,
		       const pol_yaml_node *node, const char *path)
{
	sim_mapping *mapping = parser->mapping;
	const char *text = NULL;

	if (!read_text(parser, node, path, &text))
		return false;
	if (text[0] == '\0')
		return spec_fail(parser, node, path, "empty column or field name");
	ref->from = g_strdup(text);
	ref->where = node->position;

	if (mapping->jsonl) {
		ref->path = g_strsplit(text, ".", -1);
		for (char **segment = ref->path; *segment != NULL; segment++) {
			if ((*segment)[0] == '\0')
				return spec_fail(parser, node, path,
						 "invalid JSON path \"%s\": an empty name between dots",
						 text);
		}
		return true;
	}

	if (node->type == POL_SCALAR_INT) {
		if (node->int_overflow || node->int_value < 1 || node->int_value > 100000)
			return spec_fail(parser, node, path,
					 "invalid column position %s: give 1 for the first column",
					 text);
		ref->position = (int)node->int_value - 1;
		if (mapping->columns != NULL && ref->position >= (int)mapping->columns->len)
			return spec_fail(parser, node, path,
					 "column %s is past the %u names of csv.columns",
					 text, mapping->columns->len);
		return true;
	}
	if (mapping->columns != NULL) {
		for (guint i = 0; i < mapping->columns->len; i++) {
			if (strcmp(mapping->columns->pdata[i], text) == 0) {
				ref->position = (int)i;
				return true;
			}
		}
		return spec_fail(parser, node, path,
				 "column \"%s\" is not in csv.columns: add it there or fix the name",
				 text);
	}
	if (!mapping->header)
		return spec_fail(parser, node, path,
				 "column \"%s\" has no name to match, because csv.header is false and csv.columns is not set: give its position (from: 3) or name the columns in csv.columns",
				 text);
	return true;
}

/* Splits a name template "{job}-{task}" into parts; "{#}" is the row's
 * line number. */
static bool parse_template(spec_parser *parser, field_ref *ref,
			   const pol_yaml_node *node, const char *path)
{
	const char *text = NULL;
	const char *p;

	if (!read_text(parser, node, path, &text))
		return false;
	ref->parts = g_ptr_array_new();
	p = text;
	while (*p != '\0') {
		const char *open = strchr(p, '{');
		const char *close;
		field_ref *part;

		if (open != p) {
			size_t length = open != NULL ? (size_t)(open - p) : strlen(p);

			if (memchr(p, '}', length) != NULL)
				return spec_fail(parser, node, path,
						 "invalid template \"%s\": a '}' without '{'", text);
			part = new_ref(parser->mapping, ref->role, node);
			part->literal = g_strndup(p, length);
			g_ptr_array_add(ref->parts, part);
			p += length;
			continue;
		}
		close = strchr(open, '}');
		if (close == NULL || close == open + 1)
			return spec_fail(parser, node, path,
					 "invalid template \"%s\": write fields as {name}, and {#} for the line number",
					 text);
		part = new_ref(parser->mapping, ref->role, node);
		g_ptr_array_add(ref->parts, part);
		if ((size_t)(close - open - 1) == strlen(LINE_PLACEHOLDER) &&
		    strncmp(open + 1, LINE_PLACEHOLDER, strlen(LINE_PLACEHOLDER)) == 0) {
			part->line = true;
		} else {
			/* A scalar node for set_source(): digits are a CSV
			 * position, anything else a name. */
			pol_yaml_node name = *node;
			char *field = g_strndup(open + 1, (size_t)(close - open - 1));
			bool digits = strspn(field, "0123456789") == strlen(field);
			bool ok;

			name.type = digits ? POL_SCALAR_INT : POL_SCALAR_STRING;
			name.int_overflow = strlen(field) > 6;
			name.int_value = digits ? g_ascii_strtoll(field, NULL, 10) : 0;
			name.text = field;
			ok = set_source(parser, part, &name, path);
			g_free(field);
			if (!ok)
				return false;
		}
		p = close + 1;
	}
	return true;
}

static bool read_map(spec_parser *parser, field_ref *ref,
		     const pol_yaml_node *node, const char *path)
{
	if (!expect_mapping(parser, node, path))
		return false;
	ref->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(node->items, i);
		const char *value = NULL;

		if (pair->value->kind == POL_YAML_SCALAR &&
		    pair->value->type == POL_SCALAR_NULL)
			value = "";
		else if (!read_text(parser, pair->value, path, &value))
			return false;
		g_hash_table_replace(ref->map, g_strdup(pair->key->text), g_strdup(value));
	}
	return true;
}

/* Reads one entry of `fields`: {from | template, unit, map, kind}. */
static bool read_role(spec_parser *parser, int role, const pol_yaml_node *node)
{
	static const char *const keys[] = {"from", "template", "unit", "map", "kind", NULL};
	const char *path = role_paths[role];
	const pol_yaml_node *from;
	const pol_yaml_node *template_node;
	const pol_yaml_node *value;
	field_ref *ref;
	bool takes_template;

	if (!expect_mapping(parser, node, path) || !check_keys(parser, node, path, keys))
		return false;
	ref = new_ref(parser->mapping, path, node);
	parser->mapping->roles[role] = ref;

	from = pol_yaml_get(node, "from");
	template_node = pol_yaml_get(node, "template");
	takes_template = role == ROLE_NAME || role == ROLE_NAMESPACE || role == ROLE_TENANT ||
			 role == ROLE_OWNER || role == ROLE_END_KEY;
	if (from == NULL && template_node == NULL && !takes_template)
		return spec_fail(parser, node, path, "missing from: name a column or field");
	if ((from == NULL) == (template_node == NULL))
		return spec_fail(parser, node, path,
				 "give either from (a column or field) or template");
	if (template_node != NULL && !takes_template)
		return spec_fail(parser, template_node, path,
				 "template is for name, namespace, tenant and owner only: use from");
	if (from != NULL && !set_source(parser, ref, from, path))
		return false;
	if (template_node != NULL && !parse_template(parser, ref, template_node, path))
		return false;

	value = pol_yaml_get(node, "unit");
	if (role_units[role] != NULL) {
		const char *name = NULL;
		GString *names;

		if (value == NULL) {
			names = unit_names(role_units[role]);
			spec_fail(parser, node, path, "missing unit: use one of %s", names->str);
			g_string_free(names, TRUE);
			return false;
		}
		if (!read_text(parser, value, path, &name))
			return false;
		ref->unit = find_unit(role_units[role], name);
		if (ref->unit == NULL) {
			names = unit_names(role_units[role]);
			spec_fail(parser, value, path, "unknown unit \"%s\": use one of %s",
				  name, names->str);
			g_string_free(names, TRUE);
			return false;
		}
	} else if (value != NULL && role == ROLE_REPLICAS) {
		return spec_fail(parser, value, path,
				 "replicas is a number of pods and has no unit: remove it");
	} else if (value != NULL) {
		return spec_fail(parser, value, path, "a text field has no unit: remove it");
	}

	value = pol_yaml_get(node, "kind");
	if (role == ROLE_OWNER) {
		const char *kind = "Job";

		if (value != NULL && !read_text(parser, value, path, &kind))
			return false;
		ref->owner_kind = g_strdup(kind);
	} else if (value != NULL) {
		return spec_fail(parser, value, path, "kind is for the owner only: remove it");
	}

	value = pol_yaml_get(node, "map");
	if (value != NULL && !read_map(parser, ref, value, path))
		return false;
	return true;
}

static bool read_labels(spec_parser *parser, const pol_yaml_node *node)
{
	const char *path = "fields.labels";

	if (!expect_mapping(parser, node, path))
		return false;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(node->items, i);
		pol_yaml_node source = *pair->key;
		const char *key = NULL;
		field_ref *ref;

		if (!read_text(parser, pair->value, path, &key))
			return false;
		if (!label_key_valid(key))
			return spec_fail(parser, pair->value, path,
					 "invalid label key \"%s\": use an optional DNS prefix and a name of up to 63 letters, digits, '-', '_' and '.', such as stowage.io/job",
					 key);
		ref = new_ref(parser->mapping, path, pair->key);
		ref->label_key = g_strdup(key);
		/* A key that YAML typed as an integer is a CSV position. */
		if (!set_source(parser, ref, &source, path))
			return false;
		g_ptr_array_add(parser->mapping->labels, ref);
	}
	return true;
}

static bool read_fields(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {
		"arrival", "departure", "duration", "cpu", "memory", "gpu", "name",
		"namespace", "tenant", "owner", "replicas", "labels", NULL,
	};

	if (!expect_mapping(parser, node, "fields") ||
	    !check_keys(parser, node, "fields", keys))
		return false;
	for (int role = 0; role < ROLE_COUNT; role++) {
		const pol_yaml_node *value = role != ROLE_END_KEY ?
						     pol_yaml_get(node, role_keys[role]) : NULL;

		if (value != NULL && !read_role(parser, role, value))
			return false;
	}
	if (pol_yaml_get(node, "labels") != NULL &&
	    !read_labels(parser, pol_yaml_get(node, "labels")))
		return false;
	if (parser->mapping->roles[ROLE_ARRIVAL] == NULL)
		return spec_fail(parser, node, "fields",
				 "missing arrival: every pod needs an arrival time");
	if (parser->mapping->roles[ROLE_DEPARTURE] != NULL &&
	    parser->mapping->roles[ROLE_DURATION] != NULL)
		return spec_fail(parser, pol_yaml_get(node, "duration"), "fields",
				 "departure and duration both give the lifetime: keep one");
	if (parser->mapping->roles[ROLE_DEPARTURE] != NULL &&
	    parser->mapping->roles[ROLE_DEPARTURE]->unit->kind !=
		    parser->mapping->roles[ROLE_ARRIVAL]->unit->kind)
		return spec_fail(parser, pol_yaml_get(node, "departure"), "fields.departure",
				 "the unit must be of the same kind as the arrival's: both numbers or both RFC 3339");
	return true;
}

static bool read_csv_options(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {"header", "delimiter", "columns", NULL};
	sim_mapping *mapping = parser->mapping;
	const pol_yaml_node *value;

	if (!expect_mapping(parser, node, "csv") || !check_keys(parser, node, "csv", keys))
		return false;
	value = pol_yaml_get(node, "header");
	if (value != NULL && !read_bool(parser, value, "csv.header", &mapping->header))
		return false;
	value = pol_yaml_get(node, "delimiter");
	if (value != NULL) {
		const char *text = NULL;

		if (!read_text(parser, value, "csv.delimiter", &text))
			return false;
		if (strlen(text) != 1 || text[0] == '"' || text[0] == '\r' || text[0] == '\n')
			return spec_fail(parser, value, "csv.delimiter",
					 "invalid delimiter \"%s\": give one character other than a quote or line break, such as \",\" or \"\\t\"",
					 text);
		mapping->delimiter = text[0];
	}
	value = pol_yaml_get(node, "columns");
	if (value != NULL) {
		if (mapping->header)
			return spec_fail(parser, value, "csv.columns",
					 "the header names the columns: set header: false to name them here");
		mapping->columns = read_string_list(parser, value, "csv.columns");
		if (mapping->columns == NULL)
			return false;
		if (mapping->columns->len == 0)
			return spec_fail(parser, value, "csv.columns", "the list is empty");
		for (guint i = 1; i < mapping->columns->len; i++)
			for (guint j = 0; j < i; j++)
				if (strcmp(mapping->columns->pdata[i], mapping->columns->pdata[j]) == 0)
					return spec_fail(parser, g_ptr_array_index(value->items, i),
							 "csv.columns",
							 "column \"%s\" appears twice, as column %u and %u: rename one",
							 (const char *)mapping->columns->pdata[i], j + 1,
							 i + 1);
	}
	return true;
}

static bool read_quantity_default(spec_parser *parser, const pol_yaml_node *node,
				  const char *path, bool milli, int64_t max,
				  int64_t *out)
{
	const char *text = NULL;
	score_error error = {0};
	int ret;

	if (!read_text(parser, node, path, &text))
		return false;
	ret = milli ? score_quantity_parse_milli(text, out, &error)
		    : score_quantity_parse_value(text, out, &error);
	if (ret < 0)
		return spec_fail(parser, node, path, "%s", error.message);
	if (*out < 0 || *out > max)
		return spec_fail(parser, node, path, "%s is out of range: give 0 to %lld",
				 text, (long long)max);
	return true;
}

/* Splits a GPU request in thousandths of a GPU into the openb form: a
 * sharing pod takes gpu_milli of one GPU, and a multi-GPU pod whole GPUs
 * (gpu_milli 1000). The caller has rejected fractions above one GPU. */
static void split_gpu_milli(int64_t milli, int32_t *count, int32_t *per_gpu)
{
	if (milli == 0) {
		*count = 0;
		*per_gpu = 0;
	} else if (milli <= 1000) {
		*count = 1;
		*per_gpu = (int32_t)milli;
	} else {
		*count = (int32_t)(milli / 1000);
		*per_gpu = 1000;
	}
}

static bool read_defaults(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {
		"cpu", "memory", "gpu", "duration", "namespace", "tenant", NULL,
	};
	mapping_defaults *defaults = &parser->mapping->defaults;
	const pol_yaml_node *value;
	const char *text = NULL;

	if (!expect_mapping(parser, node, "defaults") ||
	    !check_keys(parser, node, "defaults", keys))
		return false;
	if ((value = pol_yaml_get(node, "cpu")) != NULL) {
		defaults->has_cpu = read_quantity_default(parser, value, "defaults.cpu", true,
							  SIM_TRACE_MAX_CPU_MILLI,
							  &defaults->cpu_milli);
		if (!defaults->has_cpu)
			return false;
	}
	if ((value = pol_yaml_get(node, "memory")) != NULL) {
		defaults->has_memory = read_quantity_default(parser, value, "defaults.memory",
							     false, (int64_t)MAX_MEMORY_BYTES,
							     &defaults->memory);
		if (!defaults->has_memory)
			return false;
	}
	if ((value = pol_yaml_get(node, "gpu")) != NULL) {
		int64_t milli = 0;

		if (!read_quantity_default(parser, value, "defaults.gpu", true, MAX_GPU_MILLI,
					   &milli))
			return false;
		if (milli > 1000 && milli % 1000 != 0)
			return spec_fail(parser, value, "defaults.gpu",
					 "a pod shares one GPU or takes whole GPUs: give 500m, 1, 2, ...");
		defaults->has_gpu = true;
		split_gpu_milli(milli, &defaults->gpu_count, &defaults->gpu_milli);
	}
	if ((value = pol_yaml_get(node, "duration")) != NULL) {
		if (!read_text(parser, value, "defaults.duration", &text))
			return false;
		defaults->has_duration = true;
		defaults->run_ms = -1;
		if (strcmp(text, "never") != 0 &&
		    sim_parse_duration(text, &defaults->run_ms, NULL) < 0)
			return spec_fail(parser, value, "defaults.duration",
					 "invalid duration \"%s\": give one such as 90s or 1h30m, or never for pods that run until the end",
					 text);
	}
	if ((value = pol_yaml_get(node, "namespace")) != NULL) {
		if (!read_text(parser, value, "defaults.namespace", &text))
			return false;
		defaults->namespace = g_strdup(text);
	}
	if ((value = pol_yaml_get(node, "tenant")) != NULL) {
		if (!read_text(parser, value, "defaults.tenant", &text))
			return false;
		defaults->tenant = g_strdup(text);
	}
	return true;
}

static bool read_reference(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {"cpu", "memory", NULL};
	sim_mapping *mapping = parser->mapping;
	const pol_yaml_node *value;

	if (!expect_mapping(parser, node, "reference") ||
	    !check_keys(parser, node, "reference", keys))
		return false;
	if ((value = pol_yaml_get(node, "cpu")) != NULL &&
	    !read_quantity_default(parser, value, "reference.cpu", true,
				   SIM_TRACE_MAX_CPU_MILLI, &mapping->reference_cpu_milli))
		return false;
	if ((value = pol_yaml_get(node, "memory")) != NULL &&
	    !read_quantity_default(parser, value, "reference.memory", false,
				   (int64_t)MAX_MEMORY_BYTES, &mapping->reference_memory))
		return false;
	return true;
}

static bool parse_rfc3339_ms(const char *text, double *ms)
{
	GDateTime *time = g_date_time_new_from_iso8601(text, NULL);

	if (time == NULL)
		return false;
	*ms = (double)g_date_time_to_unix(time) * 1000.0 +
	      (double)(g_date_time_get_microsecond(time) / 1000);
	g_date_time_unref(time);
	return true;
}

static bool read_time_options(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {"origin", NULL};
	sim_mapping *mapping = parser->mapping;
	const field_ref *arrival = mapping->roles[ROLE_ARRIVAL];
	const pol_yaml_node *value;
	const char *text = NULL;

	if (!expect_mapping(parser, node, "time") || !check_keys(parser, node, "time", keys))
		return false;
	value = pol_yaml_get(node, "origin");
	if (value == NULL)
		return true;
	if (!read_text(parser, value, "time.origin", &text))
		return false;
	if (strcmp(text, "first") == 0) {
		mapping->origin_first = true;
		return true;
	}
	if (arrival->unit->kind == UNIT_RFC3339) {
		if (!parse_rfc3339_ms(text, &mapping->origin_ms))
			return spec_fail(parser, value, "time.origin",
					 "invalid origin \"%s\": the arrival is RFC 3339, so give a timestamp such as 2019-05-01T00:00:00Z, or first",
					 text);
		return true;
	}
	if (value->kind == POL_YAML_SCALAR && value->type != POL_SCALAR_INT &&
	    value->type != POL_SCALAR_FLOAT)
		return spec_fail(parser, value, "time.origin",
				 "invalid origin \"%s\": give first (the first pod's arrival) or a number in the arrival's unit, %s; an RFC 3339 time needs fields.arrival in unit rfc3339",
				 text, arrival->unit->name);
	if (!read_number(parser, value, "time.origin", &mapping->origin_ms))
		return false;
	mapping->origin_ms *= arrival->unit->factor;
	return true;
}

/* The spec paths of one filter list and its keys, for messages. */
typedef struct filter_paths {
	const char *list, *in, *not_in, *min, *max;
} filter_paths;

static const filter_paths start_filter_paths = {
	"filter", "filter.in", "filter.not_in", "filter.min", "filter.max",
};
static const filter_paths end_filter_paths = {
	"end.filter", "end.filter.in", "end.filter.not_in", "end.filter.min", "end.filter.max",
};

static bool read_filter_entry(spec_parser *parser, const pol_yaml_node *node,
			      GPtrArray *filters, const filter_paths *paths)
{
	static const char *const keys[] = {"field", "in", "not_in", "min", "max", NULL};
	const char *path = paths->list;
	const pol_yaml_node *value;
	row_filter *filter;

	if (!expect_mapping(parser, node, path) || !check_keys(parser, node, path, keys))
		return false;
	filter = g_new0(row_filter, 1);
	g_ptr_array_add(filters, filter);
	value = pol_yaml_get(node, "field");
	if (value == NULL)
		return spec_fail(parser, node, path, "missing field: name the column or field to test");
	filter->field = new_ref(parser->mapping, path, value);
	if (!set_source(parser, filter->field, value, path))
		return false;
	if ((value = pol_yaml_get(node, "in")) != NULL &&
	    (filter->in = read_string_list(parser, value, paths->in)) == NULL)
		return false;
	if ((value = pol_yaml_get(node, "not_in")) != NULL &&
	    (filter->not_in = read_string_list(parser, value, paths->not_in)) == NULL)
		return false;
	if ((value = pol_yaml_get(node, "min")) != NULL) {
		filter->has_min = read_number(parser, value, paths->min, &filter->min);
		if (!filter->has_min)
			return false;
	}
	if ((value = pol_yaml_get(node, "max")) != NULL) {
		filter->has_max = read_number(parser, value, paths->max, &filter->max);
		if (!filter->has_max)
			return false;
	}
	if (filter->in == NULL && filter->not_in == NULL && !filter->has_min &&
	    !filter->has_max)
		return spec_fail(parser, node, path,
				 "the condition tests nothing: give in, not_in, min or max");
	if (filter->in != NULL && filter->in->len == 0)
		return spec_fail(parser, pol_yaml_get(node, "in"), paths->in,
				 "the list is empty, so no row would pass: give at least one value, or remove the condition");
	if (filter->has_min && filter->has_max && filter->min > filter->max)
		return spec_fail(parser, pol_yaml_get(node, "min"), paths->min,
				 "min %g is above max %g, so no row would pass: swap them",
				 filter->min, filter->max);
	return true;
}

static bool read_filter(spec_parser *parser, const pol_yaml_node *node,
			GPtrArray *filters, const filter_paths *paths)
{
	if (node->kind != POL_YAML_SEQUENCE)
		return spec_fail(parser, node, paths->list,
				 "expected a list of conditions, found %s", pol_yaml_describe(node));
	for (guint i = 0; i < node->items->len; i++) {
		if (!read_filter_entry(parser, g_ptr_array_index(node->items, i), filters, paths))
			return false;
	}
	return true;
}

/* Rejects an end.key template made only of text and {#}: an end row's key
 * would then depend on nothing but its line, and never match a start row. */
static bool check_key_has_field(spec_parser *parser, const pol_yaml_node *node)
{
	const field_ref *key = parser->mapping->roles[ROLE_END_KEY];

	if (key == NULL || key->parts == NULL)
		return true;
	for (guint i = 0; i < key->parts->len; i++) {
		const field_ref *part = key->parts->pdata[i];

		if (part->literal == NULL && !part->line)
			return true;
	}
	return spec_fail(parser, node, "end.key",
			 "the template names no field, so no end row would match a start row: name the fields that identify a pod, such as {template: \"{job}-{index}\"}");
}

/* Reads `end: {filter, key}`: which rows end a pod, and how an end row
 * finds the start row of its pod. */
static bool read_end(spec_parser *parser, const pol_yaml_node *node)
{
	static const char *const keys[] = {"filter", "key", NULL};
	sim_mapping *mapping = parser->mapping;
	const pol_yaml_node *value;

	if (!expect_mapping(parser, node, "end") || !check_keys(parser, node, "end", keys))
		return false;
	mapping->has_end = true;
	value = pol_yaml_get(node, "filter");
	if (value == NULL)
		return spec_fail(parser, node, "end",
				 "missing filter: give the conditions that make a row an end row, such as [{field: type, in: [FINISH, KILL]}]");
	if (!read_filter(parser, value, mapping->end_filters, &end_filter_paths))
		return false;
	if (mapping->end_filters->len == 0)
		return spec_fail(parser, value, "end.filter",
				 "the list is empty, so every row would end a pod: give at least one condition");
	value = pol_yaml_get(node, "key");
	if (value == NULL)
		return true;
	if (!read_role(parser, ROLE_END_KEY, value))
		return false;
	return check_key_has_field(parser, value);
}

/* Rejects the parts of a spec that give a pod its lifetime or several
 * pods per row, which an end section cannot go with. */
static bool check_end(spec_parser *parser, const pol_yaml_node *root)
{
	const sim_mapping *mapping = parser->mapping;
	const pol_yaml_node *end = pol_yaml_get(root, "end");
	const pol_yaml_node *fields = pol_yaml_get(root, "fields");

	if (mapping->roles[ROLE_DEPARTURE] != NULL || mapping->roles[ROLE_DURATION] != NULL)
		return spec_fail(parser, end, "end",
				 "end rows give each pod its lifetime, and so does fields.%s: keep one of the two",
				 mapping->roles[ROLE_DEPARTURE] != NULL ? "departure" : "duration");
	if (mapping->defaults.has_duration)
		return spec_fail(parser, end, "end",
				 "defaults.duration does not apply with end: a pod runs until its end row, or until the end of the simulation when none comes; remove defaults.duration");
	if (mapping->roles[ROLE_REPLICAS] != NULL)
		return spec_fail(parser, pol_yaml_get(fields, "replicas"), "fields.replicas",
				 "replicas cannot go with end, because one end row would have to end every pod of its start row: remove one of the two");
	if (mapping->roles[ROLE_END_KEY] == NULL && mapping->roles[ROLE_NAME] == NULL)
		return spec_fail(parser, end, "end",
				 "no key joins an end row to its start row: map fields.name, or give end.key such as {template: \"{job}-{index}\"}");
	return true;
}

static bool read_format(spec_parser *parser, const pol_yaml_node *root)
{
	const pol_yaml_node *value = pol_yaml_get(root, "format");
	const char *text = NULL;

	if (value == NULL)
		return spec_fail(parser, root, "format", "missing format: give csv or jsonl");
	if (!read_text(parser, value, "format", &text))
		return false;
	if (strcmp(text, "jsonl") == 0) {
		parser->mapping->jsonl = true;
		if (pol_yaml_get(root, "csv") != NULL)
			return spec_fail(parser, pol_yaml_get(root, "csv"), "csv",
					 "csv options with format jsonl: remove them");
		return true;
	}
	if (strcmp(text, "csv") != 0)
		return spec_fail(parser, value, "format",
				 "unknown format \"%s\": use csv or jsonl", text);
	parser->mapping->header = true;
	if (pol_yaml_get(root, "csv") != NULL)
		return read_csv_options(parser, pol_yaml_get(root, "csv"));
	return true;
}

/* Rejects fraction and percent units without the reference node. */
static bool check_references(spec_parser *parser, const pol_yaml_node *root)
{
	const field_ref *cpu = parser->mapping->roles[ROLE_CPU];
	const field_ref *memory = parser->mapping->roles[ROLE_MEMORY];

	if (cpu != NULL && (cpu->unit->kind == UNIT_FRACTION || cpu->unit->kind == UNIT_PERCENT) &&
	    parser->mapping->reference_cpu_milli <= 0) {
		pol_yaml_node at = *root;

		at.position = cpu->where;
		return spec_fail(parser, &at, "fields.cpu",
				 "unit %s needs the CPU of the reference node: set reference.cpu, such as \"96\"",
				 cpu->unit->name);
	}
	if (memory != NULL &&
	    (memory->unit->kind == UNIT_FRACTION || memory->unit->kind == UNIT_PERCENT) &&
	    parser->mapping->reference_memory <= 0) {
		pol_yaml_node at = *root;

		at.position = memory->where;
		return spec_fail(parser, &at, "fields.memory",
				 "unit %s needs the memory of the reference node: set reference.memory, such as 512Gi",
				 memory->unit->name);
	}
	return true;
}

static void read_spec(spec_parser *parser, const pol_yaml_node *root)
{
	static const char *const keys[] = {
		"format", "csv", "fields", "time", "reference", "defaults", "filter", "end", NULL,
	};
	const pol_yaml_node *value;

	if (!expect_mapping(parser, root, "spec") || !check_keys(parser, root, "spec", keys))
		return;
	if (!read_format(parser, root))
		return;
	value = pol_yaml_get(root, "fields");
	if (value == NULL) {
		spec_fail(parser, root, "fields", "missing fields: map at least arrival");
		return;
	}
	if (!read_fields(parser, value))
		return;
	if ((value = pol_yaml_get(root, "time")) != NULL && !read_time_options(parser, value))
		return;
	if ((value = pol_yaml_get(root, "reference")) != NULL && !read_reference(parser, value))
		return;
	if ((value = pol_yaml_get(root, "defaults")) != NULL && !read_defaults(parser, value))
		return;
	if ((value = pol_yaml_get(root, "filter")) != NULL &&
	    !read_filter(parser, value, parser->mapping->filters, &start_filter_paths))
		return;
	if ((value = pol_yaml_get(root, "end")) != NULL &&
	    (!read_end(parser, value) || !check_end(parser, root)))
		return;
	if (!check_references(parser, root))
		return;
	if (parser->mapping->roles[ROLE_DEPARTURE] == NULL &&
	    parser->mapping->roles[ROLE_DURATION] == NULL &&
	    !parser->mapping->defaults.has_duration && !parser->mapping->has_end)
		spec_fail(parser, pol_yaml_get(root, "fields"), "fields",
			  "no lifetime: map departure or duration, or set defaults.duration (never for pods that run until the end), or add an end section");
}

int sim_mapping_parse(const char *name, const char *text, size_t length,
		      sim_mapping **out, score_error *err)
{
	spec_parser parser = {.name = name, .err = err};
	sim_mapping *mapping = g_new0(sim_mapping, 1);
	pol_yaml_node *root = NULL;
	pol_position where = {0};
	int ret;

	*out = NULL;
	mapping->name = g_strdup(name);
	mapping->delimiter = ',';
	mapping->refs = g_ptr_array_new_with_free_func((GDestroyNotify)field_ref_free);
	mapping->labels = g_ptr_array_new();
	mapping->filters = g_ptr_array_new_with_free_func((GDestroyNotify)row_filter_free);
	mapping->end_filters = g_ptr_array_new_with_free_func((GDestroyNotify)row_filter_free);
	parser.mapping = mapping;

	if (length > SIM_MAPPING_MAX_SPEC_BYTES) {
		ret = score_fail(err, -EINVAL,
				 "%s: the mapping spec is %zu bytes, over the limit of %d: a spec is a short YAML file",
				 name, length, SIM_MAPPING_MAX_SPEC_BYTES);
		goto out;
	}
	ret = pol_yaml_parse(text, length, &root, &where, err);
	if (ret < 0) {
		score_error_prefix(err, "%s:%zu:%zu", name, where.line, where.column);
		goto out;
	}
	if (root == NULL) {
		ret = score_fail(err, -EINVAL,
				 "%s: the mapping spec is empty: it needs at least format and fields",
				 name);
		goto out;
	}
	read_spec(&parser, root);
	ret = parser.failed;
	if (ret == 0) {
		*out = mapping;
		mapping = NULL;
	}

out:
	pol_yaml_free(root);
	sim_mapping_free(mapping);
	return ret;
}

int sim_mapping_load(const char *path, sim_mapping **out, score_error *err)
{
	GError *error = NULL;
	gchar *text = NULL;
	gsize length = 0;
	int ret;

	*out = NULL;
	if (!g_file_get_contents(path, &text, &length, &error)) {
		ret = score_fail(err, -EIO, "cannot read the mapping spec %s: %s", path,
				 error->message);
		g_error_free(error);
		return ret;
	}
	ret = sim_mapping_parse(path, text, length, out, err);
	g_free(text);
	return ret;
}

/* ---- Reading rows -------------------------------------------------------- */

struct sim_mapped_reader {
	const sim_mapping *mapping;
	char *name;
	sim_read_options options;

	/* Input: a file read with getline(), or a borrowed buffer. */
	FILE *file;
	const char *text;
	size_t length;
	size_t pos;
	char *line; /* getline() buffer */
	size_t line_capacity;
	int64_t size;
	int64_t bytes_read;

	sim_csv csv;
	int header_fields; /* CSV fields per row; 0 when not fixed */
	int line_number;   /* JSON lines: the line last read */
	cJSON *object;     /* JSON lines: the row being read */
	int *positions;    /* per ref id: the CSV field index, -1 when none */

	bool have_origin;
	double origin_ms;
	bool have_previous;
	int64_t previous_arrival_ms;
	int previous_line;

	size_t pods;
	size_t filtered;
	size_t skipped;
	char first_skipped[SCORE_ERROR_MESSAGE_MAX];

	/* fields.replicas: the pods of one row come from a copy of its pod,
	 * named without an index, one at a time. */
	int32_t row_replicas;   /* of the row read last */
	sim_mapped_pod replica; /* the copy; empty when no pods are left */
	int32_t replicas;       /* pods of the copy's row; 0 when none are left */
	int32_t next_replica;   /* index of the next pod */

	/* end: the key of each pod started and not ended -> open_pod */
	GHashTable *open;
	size_t ends_matched;
	size_t ends_unmatched;
	/* The times (ms from the origin) of the unmatched end rows read by
	 * the last call of sim_mapped_reader_next(), so that a caller can leave out the rows past
	 * the time it stopped at. */
	GArray *unmatched_ms;
};

/* A pod whose start row was read and whose end row was not. */
typedef struct open_pod {
	char *name;      /* owned */
	char *namespace; /* owned */
	int64_t arrival_ms;
	int line;
} open_pod;

static void open_pod_free(open_pod *pod)
{
	g_free(pod->name);
	g_free(pod->namespace);
	g_free(pod);
}

/* What read_row() made of a row, besides errors. */
enum {
	ROW_FILTERED = 0,
	ROW_RECORD = 1,        /* a pod or a matched end row, in the pod */
	ROW_UNMATCHED_END = 2, /* an end row whose key names no open pod */
};

void sim_mapped_pod_clear(sim_mapped_pod *pod)
{
	g_free(pod->name);
	g_free(pod->namespace);
	g_free(pod->tenant);
	g_free(pod->owner_kind);
	g_free(pod->owner_name);
	if (pod->labels != NULL)
		g_ptr_array_free(pod->labels, TRUE);
	memset(pod, 0, sizeof(*pod));
}

void sim_mapped_reader_free(sim_mapped_reader *reader)
{
	if (reader == NULL)
		return;
	if (reader->file != NULL)
		fclose(reader->file);
	free(reader->line);
	sim_csv_release(&reader->csv);
	cJSON_Delete(reader->object);
	g_free(reader->positions);
	g_free(reader->name);
	sim_mapped_pod_clear(&reader->replica);
	if (reader->open != NULL)
		g_hash_table_destroy(reader->open);
	if (reader->unmatched_ms != NULL)
		g_array_free(reader->unmatched_ms, TRUE);
	g_free(reader);
}

/* Returns the next line, without its line break, or NULL at the end. */
static const char *next_input_line(sim_mapped_reader *reader, size_t *length)
{
	if (reader->file != NULL) {
		ssize_t n = getline(&reader->line, &reader->line_capacity, reader->file);

		if (n < 0)
			return NULL;
		reader->bytes_read += n;
		*length = (size_t)n;
		return reader->line;
	}
	if (reader->pos >= reader->length)
		return NULL;
	{
		const char *start = reader->text + reader->pos;
		const char *end = memchr(start, '\n', reader->length - reader->pos);
		size_t n = end != NULL ? (size_t)(end - start) + 1 : reader->length - reader->pos;

		reader->pos += n;
		reader->bytes_read += (int64_t)n;
		*length = n;
		return start;
	}
}

/* Reads the next CSV line into reader->csv. Returns 1, 0 at the end, or
 * -EINVAL for a malformed line, which is counted. */
static int next_csv_line(sim_mapped_reader *reader, score_error *err)
{
	for (;;) {
		size_t length = 0;
		const char *line = next_input_line(reader, &length);
		int ret;

		if (line == NULL)
			return 0;
		ret = sim_csv_feed_line(&reader->csv, line, length, err);
		if (ret != 0)
			return ret;
	}
}

/* Parses the next non-empty JSON line into reader->object. */
static int next_json_line(sim_mapped_reader *reader, score_error *err)
{
	for (;;) {
		size_t length = 0;
		const char *line = next_input_line(reader, &length);
		const char *end = NULL;

		if (line == NULL)
			return 0;
		reader->line_number++;
		while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
			length--;
		if (length == 0)
			continue;
		if (length >= 2 && (unsigned char)line[0] == 0x1f && (unsigned char)line[1] == 0x8b)
			return score_fail(err, -EINVAL,
					  "%s:%d: the file is gzip-compressed: decompress it first, e.g. zcat %s > trace.jsonl",
					  reader->name, reader->line_number, reader->name);
		cJSON_Delete(reader->object);
		reader->object = cJSON_ParseWithLengthOpts(line, length, &end, false);
		if (reader->object == NULL) {
			size_t column = end != NULL && end >= line ? (size_t)(end - line) + 1 : 1;

			return score_fail(err, -EINVAL,
					  "%s:%d: invalid JSON near column %zu: each line must be one JSON object",
					  reader->name, reader->line_number, column);
		}
		if (end != NULL && (size_t)(end - line) < length) {
			size_t rest = (size_t)(end - line);

			while (rest < length && g_ascii_isspace(line[rest]))
				rest++;
			if (rest < length)
				return score_fail(err, -EINVAL,
						  "%s:%d: text after the JSON object at column %zu: put one object on each line",
						  reader->name, reader->line_number, rest + 1);
		}
		if (!cJSON_IsObject(reader->object))
			return score_fail(err, -EINVAL,
					  "%s:%d: the line is not a JSON object: each line must be one object",
					  reader->name, reader->line_number);
		return 1;
	}
}

static int row_line(const sim_mapped_reader *reader)
{
	return reader->mapping->jsonl ? reader->line_number : reader->csv.line;
}

/* Formats a JSON number as exact digits when it is a whole number that a
 * double holds exactly. */
static void format_json_number(double value, char *buf, size_t size)
{
	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		g_snprintf(buf, size, "%lld", (long long)value);
	else
		g_ascii_formatd(buf, (gint)size, "%.17g", value);
}

/* The raw text of `ref` in the current row, before `map`: NULL when the
 * field is absent, which counts as empty. `scratch` holds formatted JSON
 * numbers. Fails for a value that is not a scalar. */
static int raw_value(sim_mapped_reader *reader, const field_ref *ref,
		     char *scratch, size_t size, const char **out, score_error *err)
{
	*out = NULL;
	if (!reader->mapping->jsonl) {
		int position = reader->positions[ref->id];

		if (position >= 0 && (guint)position < reader->csv.fields->len)
			*out = sim_csv_field(&reader->csv, (guint)position);
		else if (position >= 0)
			return score_fail(err, -EINVAL,
					  "%s:%d: %u fields, and column %s is field %d: check for a missing delimiter",
					  reader->name, reader->csv.line, reader->csv.fields->len,
					  ref->from, position + 1);
		return 0;
	}

	{
		const cJSON *item = reader->object;

		for (char **segment = ref->path; *segment != NULL && item != NULL; segment++)
			item = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, *segment)
						    : NULL;
		if (item == NULL || cJSON_IsNull(item))
			return 0;
		if (cJSON_IsString(item)) {
			*out = item->valuestring;
		} else if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) {
			/* cJSON keeps only the double, not the text. */
			return score_fail(err, -EINVAL,
					  "%s:%d: field %s: number out of range: its magnitude is above 1.8e308, the largest a double holds",
					  reader->name, reader->line_number, ref->from);
		} else if (cJSON_IsNumber(item)) {
			format_json_number(item->valuedouble, scratch, size);
			*out = scratch;
		} else if (cJSON_IsBool(item)) {
			*out = cJSON_IsTrue(item) ? "true" : "false";
		} else {
			return score_fail(err, -EINVAL,
					  "%s:%d: field %s: found %s, expected a string or a number",
					  reader->name, reader->line_number, ref->from,
					  cJSON_IsArray(item) ? "an array" : "an object");
		}
		return 0;
	}
}

/* The value of `ref` after its map: "" when absent. The result may point
 * into `scratch`, the row or the map. */
static int mapped_value(sim_mapped_reader *reader, const field_ref *ref,
			char *scratch, size_t size, const char **out, score_error *err)
{
	const char *text = NULL;
	int ret = raw_value(reader, ref, scratch, size, &text, err);

	if (ret < 0)
		return ret;
	if (text == NULL)
		text = "";
	if (ref->map != NULL) {
		const char *replacement = g_hash_table_lookup(ref->map, text);

		if (replacement != NULL)
			text = replacement;
	}
	*out = text;
	return 0;
}

static const char *kind_word(const sim_mapped_reader *reader)
{
	return reader->mapping->jsonl ? "field" : "column";
}

static int fail_value(const sim_mapped_reader *reader, const field_ref *ref,
		      const char *value, const char *expected, score_error *err)
{
	return score_fail(err, -EINVAL, "%s:%d: %s %s: invalid value \"%s\": %s",
			  reader->name, row_line(reader), kind_word(reader),
			  ref->from != NULL ? ref->from : ref->role, value, expected);
}

/* ---- Filter --------------------------------------------------------------- */

static bool list_contains(const GPtrArray *list, const char *text)
{
	for (guint i = 0; i < list->len; i++) {
		if (strcmp(list->pdata[i], text) == 0)
			return true;
	}
	return false;
}

/* Parses a plain decimal number; rejects hex, inf, nan and spaces. */
static bool parse_decimal(const char *text, double *out)
{
	char *end = NULL;

	if (text[0] == '\0')
		return false;
	for (const char *c = text; *c != '\0'; c++) {
		if (!g_ascii_isdigit(*c) && *c != '.' && *c != '-' && *c != '+' && *c != 'e' &&
		    *c != 'E')
			return false;
	}
	*out = g_ascii_strtod(text, &end);
	return end != text && *end == '\0' && isfinite(*out);
}

/* Returns 1 when the row passes every condition of `filters`, 0 when it
 * does not. A value that is not a number fails min and max. */
static int row_passes(sim_mapped_reader *reader, const GPtrArray *filters,
		      score_error *err)
{
	for (guint i = 0; i < filters->len; i++) {
		const row_filter *filter = filters->pdata[i];
		char scratch[64];
		const char *text = NULL;
		double number = 0;
		int ret = raw_value(reader, filter->field, scratch, sizeof(scratch), &text, err);

		if (ret < 0)
			return ret;
		if (text == NULL)
			text = "";
		if (filter->in != NULL && !list_contains(filter->in, text))
			return 0;
		if (filter->not_in != NULL && list_contains(filter->not_in, text))
			return 0;
		if ((filter->has_min || filter->has_max) && !parse_decimal(text, &number))
			return 0;
		if ((filter->has_min && number < filter->min) ||
		    (filter->has_max && number > filter->max))
			return 0;
	}
	return 1;
}

/* ---- Conversions ----------------------------------------------------------- */

/* Rounds up to a whole number, as Kubernetes rounds milli-values, but
 * keeps values within a millionth of an integer at that integer, so that
 * 0.07 x 1000 stays 70. */
static int64_t round_up(double value)
{
	double nearest = nearbyint(value);

	if (fabs(value - nearest) < 1e-6)
		return (int64_t)nearest;
	return (int64_t)ceil(value);
}

static int convert_cpu(const sim_mapped_reader *reader, const field_ref *ref,
		       const char *text, int64_t *out, score_error *err)
{
	const unit *u = ref->unit;
	char expected[200];
	double value = 0;

	g_snprintf(expected, sizeof(expected),
		   "expected %s, at least 0 and at most %lld cores", u->meaning,
		   SIM_TRACE_MAX_CPU_MILLI / 1000);
	if (u->kind == UNIT_QUANTITY) {
		if (score_quantity_parse_milli(text, out, NULL) < 0 || *out < 0 ||
		    *out > SIM_TRACE_MAX_CPU_MILLI)
			return fail_value(reader, ref, text, expected, err);
		return 0;
	}
	if (!parse_decimal(text, &value) || value < 0)
		return fail_value(reader, ref, text, expected, err);
	if (u->kind == UNIT_FRACTION)
		value *= (double)reader->mapping->reference_cpu_milli;
	else if (u->kind == UNIT_PERCENT)
		value *= (double)reader->mapping->reference_cpu_milli / 100.0;
	else
		value *= u->factor;
	if (value > (double)SIM_TRACE_MAX_CPU_MILLI)
		return fail_value(reader, ref, text, expected, err);
	*out = round_up(value);
	return 0;
}

static int convert_memory(const sim_mapped_reader *reader, const field_ref *ref,
			  const char *text, int64_t *out, score_error *err)
{
	const unit *u = ref->unit;
	char expected[200];
	double value = 0;

	g_snprintf(expected, sizeof(expected), "expected %s, at least 0 and at most 1 PiB",
		   u->meaning);
	if (u->kind == UNIT_QUANTITY) {
		if (score_quantity_parse_value(text, out, NULL) < 0 || *out < 0 ||
		    (double)*out > MAX_MEMORY_BYTES)
			return fail_value(reader, ref, text, expected, err);
		return 0;
	}
	if (!parse_decimal(text, &value) || value < 0)
		return fail_value(reader, ref, text, expected, err);
	if (u->kind == UNIT_FRACTION)
		value *= (double)reader->mapping->reference_memory;
	else if (u->kind == UNIT_PERCENT)
		value *= (double)reader->mapping->reference_memory / 100.0;
	else
		value *= u->factor;
	if (value > MAX_MEMORY_BYTES)
		return fail_value(reader, ref, text, expected, err);
	*out = round_up(value);
	return 0;
}

static int convert_gpu(const sim_mapped_reader *reader, const field_ref *ref,
		       const char *text, sim_mapped_pod *pod, score_error *err)
{
	char expected[200];
	double value = 0;
	int64_t milli;

	g_snprintf(expected, sizeof(expected),
		   "expected %s: a whole number from 0 to %d GPUs; a share of one GPU only below one",
		   ref->unit->meaning, SIM_TRACE_MAX_GPUS);
	if (!parse_decimal(text, &value) || value < 0 || value != floor(value))
		return fail_value(reader, ref, text, expected, err);
	if (ref->unit->kind == UNIT_COUNT)
		value *= 1000.0;
	if (value > MAX_GPU_MILLI)
		return fail_value(reader, ref, text, expected, err);
	milli = (int64_t)value;
	if (milli > 1000 && milli % 1000 != 0)
		return fail_value(reader, ref, text, expected, err);
	split_gpu_milli(milli, &pod->gpu_count, &pod->gpu_milli);
	return 0;
}

/* Converts a time to milliseconds on the trace's own time line. */
static int convert_time(const sim_mapped_reader *reader, const field_ref *ref,
			const char *text, double *out, score_error *err)
{
	char expected[200];

	g_snprintf(expected, sizeof(expected), "expected %s", ref->unit->meaning);
	if (ref->unit->kind == UNIT_RFC3339) {
		if (!parse_rfc3339_ms(text, out))
			return fail_value(reader, ref, text,
					  "expected an RFC 3339 timestamp such as 2019-05-01T00:00:00Z, with its offset",
					  err);
		return 0;
	}
	if (!parse_decimal(text, out))
		return fail_value(reader, ref, text, expected, err);
	if (fabs(*out * ref->unit->factor) > MAX_TIME_MS) {
		g_snprintf(expected, sizeof(expected),
			   "out of range: the maximum time is 10^10 seconds (about 317 years), and the column is read as %s",
			   ref->unit->meaning);
		return fail_value(reader, ref, text, expected, err);
	}
	*out *= ref->unit->factor;
	return 0;
}

static int convert_duration(const sim_mapped_reader *reader, const field_ref *ref,
			    const char *text, int64_t *out, score_error *err)
{
	char expected[200];
	double value = 0;

	g_snprintf(expected, sizeof(expected), "expected %s, at least 0", ref->unit->meaning);
	if (ref->unit->kind == UNIT_DURATION) {
		if (sim_parse_duration(text, out, NULL) < 0)
			return fail_value(reader, ref, text, expected, err);
		return 0;
	}
	if (!parse_decimal(text, &value) || value < 0)
		return fail_value(reader, ref, text, expected, err);
	if (value * ref->unit->factor > MAX_TIME_MS) {
		g_snprintf(expected, sizeof(expected),
			   "out of range: the maximum duration is 10^10 seconds (about 317 years), and the column is read as %s",
			   ref->unit->meaning);
		return fail_value(reader, ref, text, expected, err);
	}
	*out = llround(value * ref->unit->factor);
	return 0;
}

/* ---- Rows to pods ---------------------------------------------------------- */

static int fail_empty(const sim_mapped_reader *reader, const field_ref *ref,
		      const char *setting, score_error *err)
{
	return score_fail(err, -EINVAL,
			  "%s:%d: %s %s: empty value: fill it, or set %s in the mapping spec for such rows",
			  reader->name, row_line(reader), kind_word(reader),
			  ref->from != NULL ? ref->from : ref->role, setting);
}

/* Reads the row's time into pod->arrival_ms, from the origin, and into
 * `*trace_ms`, on the trace's own time line. */
static int read_arrival(sim_mapped_reader *reader, sim_mapped_pod *pod,
			double *trace_ms, score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	const field_ref *arrival = mapping->roles[ROLE_ARRIVAL];
	char scratch[64];
	const char *text = NULL;
	double arrival_ms = 0;
	double since_origin;
	int ret;

	ret = mapped_value(reader, arrival, scratch, sizeof(scratch), &text, err);
	if (ret == 0 && text[0] == '\0')
		return score_fail(err, -EINVAL,
				  "%s:%d: %s %s: empty arrival time: every row needs one; filter such rows out with {field: %s, not_in: [\"\"]}, or pass --skip-bad-rows",
				  reader->name, row_line(reader), kind_word(reader),
				  arrival->from != NULL ? arrival->from : arrival->role,
				  arrival->from != NULL ? arrival->from : arrival->role);
	if (ret == 0)
		ret = convert_time(reader, arrival, text, &arrival_ms, err);
	if (ret < 0)
		return ret;

	/* The origin is fixed by the first pod read, not by a bad row. */
	if (!reader->have_origin)
		reader->origin_ms = mapping->origin_first ? arrival_ms : mapping->origin_ms;
	since_origin = arrival_ms - reader->origin_ms;
	if (since_origin < 0 || since_origin > MAX_TIME_MS)
		return fail_value(reader, arrival, text,
				  since_origin < 0 ? "the time is before time.origin: set the origin earlier or filter the row out"
						   : "the time is more than 10^10 seconds after time.origin",
				  err);
	pod->arrival_ms = llround(since_origin);
	*trace_ms = arrival_ms;
	return 0;
}

static int read_times(sim_mapped_reader *reader, sim_mapped_pod *pod,
		      score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	const field_ref *departure = mapping->roles[ROLE_DEPARTURE];
	const field_ref *duration = mapping->roles[ROLE_DURATION];
	char scratch[64];
	const char *text = NULL;
	double arrival_ms = 0;
	double departure_ms = 0;
	int ret = read_arrival(reader, pod, &arrival_ms, err);

	if (ret < 0)
		return ret;
	pod->run_ms = mapping->defaults.has_duration ? mapping->defaults.run_ms : -1;
	if (departure != NULL) {
		ret = mapped_value(reader, departure, scratch, sizeof(scratch), &text, err);
		if (ret == 0 && text[0] == '\0' && !mapping->defaults.has_duration)
			return fail_empty(reader, departure, "defaults.duration", err);
		if (ret == 0 && text[0] != '\0')
			ret = convert_time(reader, departure, text, &departure_ms, err);
		if (ret < 0)
			return ret;
		if (text[0] != '\0' && departure_ms < arrival_ms)
			return fail_value(reader, departure, text,
					  "the departure is before the arrival", err);
		if (text[0] != '\0')
			pod->run_ms = llround(departure_ms - arrival_ms);
	} else if (duration != NULL) {
		ret = mapped_value(reader, duration, scratch, sizeof(scratch), &text, err);
		if (ret == 0 && text[0] == '\0' && !mapping->defaults.has_duration)
			return fail_empty(reader, duration, "defaults.duration", err);
		if (ret == 0 && text[0] != '\0')
			ret = convert_duration(reader, duration, text, &pod->run_ms, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int read_resources(sim_mapped_reader *reader, sim_mapped_pod *pod,
			  score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	const mapping_defaults *defaults = &mapping->defaults;
	const field_ref *ref;
	char scratch[64];
	const char *text = NULL;
	int ret = 0;

	pod->cpu_milli = defaults->cpu_milli;
	pod->memory = defaults->memory;
	pod->gpu_count = defaults->gpu_count;
	pod->gpu_milli = defaults->gpu_milli;

	if ((ref = mapping->roles[ROLE_CPU]) != NULL) {
		ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);
		if (ret == 0 && text[0] == '\0' && !defaults->has_cpu)
			return fail_empty(reader, ref, "defaults.cpu", err);
		if (ret == 0 && text[0] != '\0')
			ret = convert_cpu(reader, ref, text, &pod->cpu_milli, err);
	}
	if (ret == 0 && (ref = mapping->roles[ROLE_MEMORY]) != NULL) {
		ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);
		if (ret == 0 && text[0] == '\0' && !defaults->has_memory)
			return fail_empty(reader, ref, "defaults.memory", err);
		if (ret == 0 && text[0] != '\0')
			ret = convert_memory(reader, ref, text, &pod->memory, err);
	}
	if (ret == 0 && (ref = mapping->roles[ROLE_GPU]) != NULL) {
		ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);
		if (ret == 0 && text[0] == '\0' && !defaults->has_gpu)
			return fail_empty(reader, ref, "defaults.gpu", err);
		if (ret == 0 && text[0] != '\0')
			ret = convert_gpu(reader, ref, text, pod, err);
	}
	return ret;
}

/* The text of a text field: its template joined, or its mapped value.
 * Returns NULL through `out` when the value is empty. */
static int read_text_field(sim_mapped_reader *reader, const field_ref *ref,
			   char **out, score_error *err)
{
	char scratch[64];
	const char *text = NULL;
	int ret;

	*out = NULL;
	if (ref->parts != NULL) {
		GString *joined = g_string_new(NULL);

		for (guint i = 0; i < ref->parts->len; i++) {
			const field_ref *part = ref->parts->pdata[i];

			if (part->literal != NULL) {
				g_string_append(joined, part->literal);
			} else if (part->line) {
				g_string_append_printf(joined, "%d", row_line(reader));
			} else {
				ret = mapped_value(reader, part, scratch, sizeof(scratch), &text, err);
				if (ret < 0) {
					g_string_free(joined, TRUE);
					return ret;
				}
				g_string_append(joined, text);
			}
		}
		if (ref->map != NULL && g_hash_table_lookup(ref->map, joined->str) != NULL)
			g_string_assign(joined, g_hash_table_lookup(ref->map, joined->str));
		if (joined->len == 0) {
			g_string_free(joined, TRUE);
			return 0;
		}
		*out = g_string_free(joined, FALSE);
		return 0;
	}
	ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);
	if (ret == 0 && text[0] != '\0')
		*out = g_strdup(text);
	return ret;
}

static int read_identity(sim_mapped_reader *reader, sim_mapped_pod *pod,
			 score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	const field_ref *ref;
	int ret = 0;

	if ((ref = mapping->roles[ROLE_NAME]) != NULL) {
		ret = read_text_field(reader, ref, &pod->name, err);
		/* The name has no default, so an empty one makes the row
		 * malformed, as on end rows. */
		if (ret == 0 && pod->name == NULL)
			return score_fail(err, -EINVAL,
					  "%s:%d: the pod name is empty: map fields.name to values that no row leaves empty, or add {#} (the line number) to its template",
					  reader->name, row_line(reader));
	}
	if (ret == 0 && pod->name == NULL)
		pod->name = g_strdup_printf("pod-%d", row_line(reader));
	if (ret == 0 && (ref = mapping->roles[ROLE_NAMESPACE]) != NULL)
		ret = read_text_field(reader, ref, &pod->namespace, err);
	if (ret == 0 && pod->namespace == NULL)
		pod->namespace = g_strdup(mapping->defaults.namespace != NULL ?
						  mapping->defaults.namespace : "default");
	if (ret == 0 && (ref = mapping->roles[ROLE_TENANT]) != NULL)
		ret = read_text_field(reader, ref, &pod->tenant, err);
	if (ret == 0 && pod->tenant == NULL)
		pod->tenant = g_strdup(mapping->defaults.tenant);
	if (ret == 0 && (ref = mapping->roles[ROLE_OWNER]) != NULL) {
		ret = read_text_field(reader, ref, &pod->owner_name, err);
		if (pod->owner_name != NULL)
			pod->owner_kind = g_strdup(ref->owner_kind);
	}
	return ret;
}

static int read_labels_of_row(sim_mapped_reader *reader, sim_mapped_pod *pod,
			      score_error *err)
{
	for (guint i = 0; i < reader->mapping->labels->len; i++) {
		const field_ref *ref = reader->mapping->labels->pdata[i];
		char scratch[64];
		const char *text = NULL;
		int ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);

		if (ret < 0)
			return ret;
		if (text[0] == '\0')
			continue;
		if (!label_value_valid(text))
			return fail_value(reader, ref, text,
					  "a label value has up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit: add a map entry for it",
					  err);
		if (pod->labels == NULL)
			pod->labels = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(pod->labels, g_strdup(ref->label_key));
		g_ptr_array_add(pod->labels, g_strdup(text));
	}
	return 0;
}

/* Rejects an arrival before the previous pod's. */
static int check_order(sim_mapped_reader *reader, const sim_mapped_pod *pod,
		       score_error *err)
{
	const field_ref *arrival = reader->mapping->roles[ROLE_ARRIVAL];
	char scratch[64];
	char expected[200];
	const char *text = NULL;

	if (!reader->have_previous || pod->arrival_ms >= reader->previous_arrival_ms)
		return 0;
	(void)mapped_value(reader, arrival, scratch, sizeof(scratch), &text, NULL);
	g_snprintf(expected, sizeof(expected),
		   "the arrival goes backwards from line %d: sort the trace by arrival time",
		   reader->previous_line);
	return fail_value(reader, arrival, text != NULL ? text : "", expected, err);
}

static int check_field_count(const sim_mapped_reader *reader, score_error *err)
{
	if (reader->mapping->jsonl || reader->header_fields == 0 ||
	    (int)reader->csv.fields->len == reader->header_fields)
		return 0;
	return score_fail(err, -EINVAL,
			  "%s:%d: %u fields, but the %s has %d: check for a missing or extra delimiter",
			  reader->name, reader->csv.line, reader->csv.fields->len,
			  reader->mapping->header ? "header" : "csv.columns list",
			  reader->header_fields);
}

/* Reads fields.replicas, the number of pods the row represents, into
 * `*out`: 1 when unmapped. */
/* True for a non-empty run of the digits 0-9 and nothing else: no sign,
 * exponent, fraction or space. */
static bool plain_digits(const char *text)
{
	if (text[0] == '\0')
		return false;
	for (const char *c = text; *c != '\0'; c++)
		if (!g_ascii_isdigit(*c))
			return false;
	return true;
}

static int read_replicas(sim_mapped_reader *reader, int32_t *out, score_error *err)
{
	const field_ref *ref = reader->mapping->roles[ROLE_REPLICAS];
	char scratch[64];
	char expected[160];
	const char *text = NULL;
	const char *digits;
	double value = 0;
	int ret;

	*out = 1;
	if (ref == NULL)
		return 0;
	ret = mapped_value(reader, ref, scratch, sizeof(scratch), &text, err);
	if (ret < 0)
		return ret;
	g_snprintf(expected, sizeof(expected),
		   "expected the number of pods the row represents, a whole number from 1 to %d",
		   SIM_MAPPING_MAX_REPLICAS);
	if (text[0] == '\0')
		return score_fail(err, -EINVAL, "%s:%d: %s %s: empty value: %s, or filter such rows out",
				  reader->name, row_line(reader), kind_word(reader),
				  ref->from, expected);
	if (!plain_digits(text))
		return fail_value(reader, ref, text, expected, err);
	/* Leading zeros aside, more than 7 digits is above the maximum. */
	digits = text;
	while (digits[0] == '0' && digits[1] != '\0')
		digits++;
	if (strlen(digits) > 7)
		return fail_value(reader, ref, text, expected, err);
	value = g_ascii_strtod(digits, NULL);
	if (value < 1 || value > SIM_MAPPING_MAX_REPLICAS)
		return fail_value(reader, ref, text, expected, err);
	*out = (int32_t)value;
	return 0;
}

/* The key that joins an end row to its start row: by default the pod's
 * uid, NAMESPACE/NAME, as sim/sources.c gives it. */
static char *default_key(const char *namespace, const char *name)
{
	return g_strdup_printf("%s/%s", namespace, name);
}

/* Reads the current row's join key into `*out` (the caller frees it):
 * end.key when given, else the namespace and name that the row's pod
 * would have. */
static int read_key(sim_mapped_reader *reader, char **out, score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	const field_ref *key = mapping->roles[ROLE_END_KEY];
	char *name = NULL;
	char *namespace = NULL;
	int ret;

	*out = NULL;
	if (key != NULL) {
		ret = read_text_field(reader, key, out, err);
		if (ret == 0 && *out == NULL)
			ret = score_fail(err, -EINVAL,
					 "%s:%d: end.key is empty: every row needs a key that names its pod",
					 reader->name, row_line(reader));
		return ret;
	}

	ret = read_text_field(reader, mapping->roles[ROLE_NAME], &name, err);
	if (ret == 0 && name == NULL)
		ret = score_fail(err, -EINVAL,
				 "%s:%d: the pod name is empty: an end row names the pod it ends through fields.name",
				 reader->name, row_line(reader));
	if (ret == 0 && mapping->roles[ROLE_NAMESPACE] != NULL)
		ret = read_text_field(reader, mapping->roles[ROLE_NAMESPACE], &namespace, err);
	if (ret == 0)
		*out = default_key(namespace != NULL ? namespace :
				   mapping->defaults.namespace != NULL ? mapping->defaults.namespace :
									  "default",
				   name);
	g_free(namespace);
	g_free(name);
	return ret;
}

/* Records a start row's pod as open, so that a later end row finds it.
 * A key that is open already makes the row malformed: two pods of one
 * key would both be alive, and an end row could not tell them apart. */
static int open_start(sim_mapped_reader *reader, const sim_mapped_pod *pod,
		      score_error *err)
{
	const open_pod *previous;
	open_pod *started;
	char *key = NULL;
	int ret = 0;

	if (reader->mapping->roles[ROLE_END_KEY] != NULL)
		ret = read_key(reader, &key, err);
	else
		key = default_key(pod->namespace, pod->name);
	if (ret < 0)
		return ret;

	previous = g_hash_table_lookup(reader->open, key);
	if (previous != NULL && reader->mapping->roles[ROLE_END_KEY] != NULL)
		ret = score_fail(err, -EINVAL,
				 "%s:%d: end.key \"%s\" starts a pod again, but the pod of that key from line %d has not ended: add its end row, or make end.key unique per pod",
				 reader->name, row_line(reader), key, previous->line);
	else if (previous != NULL)
		ret = score_fail(err, -EINVAL,
				 "%s:%d: pod \"%s\" starts again, but the pod of that name from line %d has not ended: add its end row, or make fields.name unique per pod",
				 reader->name, row_line(reader), key, previous->line);
	if (ret < 0) {
		g_free(key);
		return ret;
	}
	started = g_new0(open_pod, 1);
	started->name = g_strdup(pod->name);
	started->namespace = g_strdup(pod->namespace);
	started->arrival_ms = pod->arrival_ms;
	started->line = row_line(reader);
	g_hash_table_insert(reader->open, key, started);
	return 0;
}

/* Stores the time of an unmatched end row. Its values are not checked, so
 * a time that does not parse, or comes before the previous record, counts
 * as the previous record's time. */
static void note_unmatched_time(sim_mapped_reader *reader, sim_mapped_pod *pod)
{
	score_error ignored = {0};
	double trace_ms = 0;
	int64_t time_ms = reader->have_previous ? reader->previous_arrival_ms : 0;

	if (reader->have_origin && read_arrival(reader, pod, &trace_ms, &ignored) == 0)
		time_ms = MAX(time_ms, pod->arrival_ms);
	g_array_append_val(reader->unmatched_ms, time_ms);
}

/* Reads an end row: ends the open pod of its key at the row's time. An
 * end row whose key names no open pod is only counted, so its other
 * values are not checked. */
static int read_end_row(sim_mapped_reader *reader, sim_mapped_pod *pod,
			score_error *err)
{
	const open_pod *start;
	char *key = NULL;
	double trace_ms = 0;
	int ret = read_key(reader, &key, err);

	if (ret < 0)
		return ret;
	start = g_hash_table_lookup(reader->open, key);
	if (start == NULL) {
		g_free(key);
		note_unmatched_time(reader, pod);
		return ROW_UNMATCHED_END;
	}
	ret = read_arrival(reader, pod, &trace_ms, err);
	if (ret == 0)
		ret = check_order(reader, pod, err);
	if (ret < 0) {
		g_free(key);
		return ret;
	}

	pod->kind = SIM_MAPPED_END;
	pod->name = g_strdup(start->name);
	pod->namespace = g_strdup(start->namespace);
	pod->run_ms = pod->arrival_ms - start->arrival_ms;
	pod->line = row_line(reader);
	g_hash_table_remove(reader->open, key);
	g_free(key);
	return ROW_RECORD;
}

/* Reads the current row into `pod`. Returns ROW_RECORD for a pod or an
 * end record, ROW_FILTERED for a row the filters reject, ROW_UNMATCHED_END,
 * or a negative errno for a malformed row. An end row is tested against
 * end.filter first, so it need not pass filter. */
static int read_row(sim_mapped_reader *reader, sim_mapped_pod *pod,
		    score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	int ret = check_field_count(reader, err);

	if (ret == 0 && mapping->has_end)
		ret = row_passes(reader, mapping->end_filters, err);
	if (ret > 0)
		return read_end_row(reader, pod, err);
	if (ret == 0)
		ret = row_passes(reader, mapping->filters, err);
	if (ret <= 0)
		return ret;
	ret = read_times(reader, pod, err);
	if (ret == 0)
		ret = read_resources(reader, pod, err);
	if (ret == 0)
		ret = read_replicas(reader, &reader->row_replicas, err);
	if (ret == 0)
		ret = read_identity(reader, pod, err);
	if (ret == 0)
		ret = read_labels_of_row(reader, pod, err);
	if (ret == 0)
		ret = check_order(reader, pod, err);
	if (ret == 0 && mapping->has_end)
		ret = open_start(reader, pod, err);
	if (ret < 0)
		return ret;
	pod->line = row_line(reader);
	return ROW_RECORD;
}

/* Fills `pod` with the next pod of the row in reader->replica: its copy
 * named NAME-INDEX. */
static void take_replica(sim_mapped_reader *reader, sim_mapped_pod *pod)
{
	const sim_mapped_pod *row = &reader->replica;

	*pod = *row;
	pod->name = g_strdup_printf("%s-%d", row->name, reader->next_replica);
	pod->namespace = g_strdup(row->namespace);
	pod->tenant = g_strdup(row->tenant);
	pod->owner_kind = g_strdup(row->owner_kind);
	pod->owner_name = g_strdup(row->owner_name);
	pod->labels = NULL;
	if (row->labels != NULL) {
		pod->labels = g_ptr_array_new_full(row->labels->len, g_free);
		for (guint i = 0; i < row->labels->len; i++)
			g_ptr_array_add(pod->labels, g_strdup(row->labels->pdata[i]));
	}
	if (++reader->next_replica == reader->replicas) {
		sim_mapped_pod_clear(&reader->replica);
		reader->replicas = 0;
		reader->next_replica = 0;
	}
}

static int fail_no_pods(const sim_mapped_reader *reader, score_error *err)
{
	if (reader->skipped > 0)
		return score_fail(err, -EINVAL,
				  "%s: no valid rows: all %zu were skipped; the first: %s",
				  reader->name, reader->skipped, reader->first_skipped);
	if (reader->ends_unmatched > 0) {
		char ends[48];
		char rejected[48];

		return score_fail(err, -EINVAL,
				  "%s: no pods: %s matched end.filter of %s, which makes them end rows, and filter rejected %s; no row started a pod: check both filters",
				  reader->name,
				  sim_format_count_noun(reader->ends_unmatched, "row", "rows", ends,
							sizeof(ends)),
				  reader->mapping->name,
				  sim_format_count_noun(reader->filtered, "row", "rows", rejected,
							sizeof(rejected)));
	}
	if (reader->filtered > 0)
		return score_fail(err, -EINVAL,
				  "%s: no pods: the filter of %s rejected all %zu rows",
				  reader->name, reader->mapping->name, reader->filtered);
	return score_fail(err, -EINVAL, "%s: no data rows: the trace is empty",
			  reader->name);
}

int sim_mapped_reader_next(sim_mapped_reader *reader, sim_mapped_pod *pod,
			   score_error *err)
{
	memset(pod, 0, sizeof(*pod));
	if (reader->replicas > 0) {
		take_replica(reader, pod);
		return 1;
	}
	g_array_set_size(reader->unmatched_ms, 0);
	for (;;) {
		score_error row_err = {0};
		int ret = reader->mapping->jsonl ? next_json_line(reader, &row_err)
						 : next_csv_line(reader, &row_err);

		if (ret == 0)
			break;
		if (ret > 0)
			ret = read_row(reader, pod, &row_err);
		if (ret == ROW_FILTERED || ret == ROW_UNMATCHED_END) {
			if (ret == ROW_FILTERED)
				reader->filtered++;
			else
				reader->ends_unmatched++;
			sim_mapped_pod_clear(pod);
			continue;
		}
		if (ret < 0) {
			sim_mapped_pod_clear(pod);
			if (!reader->options.skip_bad_rows) {
				if (err != NULL)
					*err = row_err;
				return ret;
			}
			if (reader->skipped++ == 0)
				g_strlcpy(reader->first_skipped, row_err.message,
					  sizeof(reader->first_skipped));
			continue;
		}
		reader->have_origin = true;
		reader->have_previous = true;
		reader->previous_arrival_ms = pod->arrival_ms;
		reader->previous_line = pod->line;
		if (pod->kind == SIM_MAPPED_END) {
			reader->ends_matched++;
			return 1;
		}
		reader->pods++;
		if (reader->mapping->roles[ROLE_REPLICAS] != NULL) {
			reader->replica = *pod;
			reader->replicas = reader->row_replicas;
			reader->next_replica = 0;
			memset(pod, 0, sizeof(*pod));
			take_replica(reader, pod);
		}
		return 1;
	}
	if (reader->pods == 0)
		return fail_no_pods(reader, err);
	return 0;
}

/* ---- Opening ------------------------------------------------------------- */

/* Maps the header line to the positions of every named reference. */
static int resolve_header(sim_mapped_reader *reader, score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	GHashTable *columns = g_hash_table_new(g_str_hash, g_str_equal);
	int ret = 0;

	for (guint f = 0; f < reader->csv.fields->len; f++) {
		const char *name = sim_csv_field(&reader->csv, f);

		if (!g_hash_table_contains(columns, name))
			g_hash_table_insert(columns, (gpointer)name, GINT_TO_POINTER((int)f + 1));
		else
			g_hash_table_insert(columns, (gpointer)name, GINT_TO_POINTER(-1));
	}
	for (guint i = 0; i < mapping->refs->len && ret == 0; i++) {
		const field_ref *ref = mapping->refs->pdata[i];
		int found;

		if (ref->from == NULL || ref->position >= 0)
			continue;
		found = GPOINTER_TO_INT(g_hash_table_lookup(columns, ref->from));
		if (found == 0)
			ret = score_fail(err, -EINVAL,
					 "%s:%zu:%zu: %s: column \"%s\" is not in the header of %s (line %d): fix the name or the header",
					 mapping->name, ref->where.line, ref->where.column, ref->role,
					 ref->from, reader->name, reader->csv.line);
		else if (found < 0)
			ret = score_fail(err, -EINVAL,
					 "%s:%d: column \"%s\" appears twice in the header, and %s maps it: rename one",
					 reader->name, reader->csv.line, ref->from, mapping->name);
		else
			reader->positions[ref->id] = found - 1;
	}
	g_hash_table_destroy(columns);
	return ret;
}

/* Checks that every column given by position exists in the header. */
static int check_positions(sim_mapped_reader *reader, score_error *err)
{
	const sim_mapping *mapping = reader->mapping;

	for (guint i = 0; i < mapping->refs->len; i++) {
		const field_ref *ref = mapping->refs->pdata[i];

		if (ref->from != NULL && ref->position >= reader->header_fields &&
		    reader->header_fields > 0)
			return score_fail(err, -EINVAL,
					  "%s:%zu:%zu: %s: column %d is past the %d columns of %s",
					  mapping->name, ref->where.line, ref->where.column, ref->role,
					  ref->position + 1, reader->header_fields, reader->name);
	}
	return 0;
}

static int start_reading(sim_mapped_reader *reader, score_error *err)
{
	const sim_mapping *mapping = reader->mapping;
	int ret;

	reader->positions = g_new(int, mapping->refs->len + 1);
	for (guint i = 0; i < mapping->refs->len; i++)
		reader->positions[i] = ((const field_ref *)mapping->refs->pdata[i])->position;
	if (mapping->jsonl)
		return 0;

	sim_csv_set_delimiter(&reader->csv, mapping->delimiter);
	if (mapping->columns != NULL)
		reader->header_fields = (int)mapping->columns->len;
	if (!mapping->header)
		return 0;
	ret = next_csv_line(reader, err);
	if (ret == 0)
		return score_fail(err, -EINVAL,
				  "%s: empty file: %s expects a header line and data rows",
				  reader->name, mapping->name);
	if (ret < 0)
		return ret;
	reader->header_fields = (int)reader->csv.fields->len;
	ret = resolve_header(reader, err);
	if (ret == 0)
		ret = check_positions(reader, err);
	return ret;
}

static sim_mapped_reader *reader_new(const char *name, const sim_mapping *mapping,
				     const sim_read_options *options)
{
	sim_mapped_reader *reader = g_new0(sim_mapped_reader, 1);

	reader->mapping = mapping;
	reader->name = g_strdup(name);
	if (options != NULL)
		reader->options = *options;
	sim_csv_init(&reader->csv, reader->name, NULL, 0);
	reader->unmatched_ms = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (mapping->has_end)
		reader->open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						     (GDestroyNotify)open_pod_free);
	return reader;
}

int sim_mapped_reader_open(const char *path, const sim_mapping *mapping,
			   const sim_read_options *options,
			   sim_mapped_reader **out, score_error *err)
{
	sim_mapped_reader *reader = reader_new(path, mapping, options);
	struct stat info;
	int ret;

	*out = NULL;
	reader->file = fopen(path, "r");
	if (reader->file == NULL) {
		ret = score_fail(err, -errno, "cannot read trace %s: %s", path,
				 g_strerror(errno));
		goto out;
	}
	if (fstat(fileno(reader->file), &info) == 0)
		reader->size = info.st_size;
	ret = start_reading(reader, err);
	if (ret == 0) {
		*out = reader;
		reader = NULL;
	}

out:
	sim_mapped_reader_free(reader);
	return ret;
}

int sim_mapped_reader_open_buffer(const char *name, const char *text,
				  size_t length, const sim_mapping *mapping,
				  const sim_read_options *options,
				  sim_mapped_reader **out, score_error *err)
{
	sim_mapped_reader *reader = reader_new(name, mapping, options);
	int ret;

	*out = NULL;
	reader->text = text;
	reader->length = length;
	reader->size = (int64_t)length;
	ret = start_reading(reader, err);
	if (ret == 0) {
		*out = reader;
		reader = NULL;
	}
	sim_mapped_reader_free(reader);
	return ret;
}

size_t sim_mapped_reader_skipped(const sim_mapped_reader *reader,
				 const char **first)
{
	if (first != NULL)
		*first = reader->first_skipped;
	return reader->skipped;
}

size_t sim_mapped_reader_filtered(const sim_mapped_reader *reader)
{
	return reader->filtered;
}

void sim_mapped_reader_end_counts(const sim_mapped_reader *reader,
				  sim_mapped_end_counts *out)
{
	out->matched = reader->ends_matched;
	out->unmatched = reader->ends_unmatched;
	out->open = reader->open != NULL ? g_hash_table_size(reader->open) : 0;
}

double sim_mapped_reader_fraction(const sim_mapped_reader *reader)
{
	if (reader->size <= 0)
		return 0.0;
	return MIN(1.0, (double)reader->bytes_read / (double)reader->size);
}

size_t sim_mapped_reader_unmatched_after(const sim_mapped_reader *reader,
					 int64_t time_ms)
{
	size_t count = 0;

	for (guint i = 0; i < reader->unmatched_ms->len; i++)
		if (g_array_index(reader->unmatched_ms, int64_t, i) > time_ms)
			count++;
	return count;
}

int32_t sim_mapped_reader_drop_replicas(sim_mapped_reader *reader)
{
	int32_t left = reader->replicas - reader->next_replica;

	if (reader->replicas == 0)
		return 0;
	sim_mapped_pod_clear(&reader->replica);
	reader->replicas = 0;
	reader->next_replica = 0;
	return left;
}
