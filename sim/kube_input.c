/* Kubernetes Node lists and Pod manifests as simulator inputs; see
 * kube_input.h. */
#include "sim/kube_input.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/cluster_file.h"
#include "informer/decode.h"
#include "informer/network_policy.h"
#include "scoring/gpu.h"
#include "sim/generator.h"
#include "sim/progress.h"

/* ---- Content detection ----------------------------------------------------- */

/* Bytes looked at to tell a manifest from a CSV file. */
#define SNIFF_BYTES 4096

static bool yaml_key_line(const char *line, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (line[i] == ',')
			return false;
		if (line[i] == ':' && (i + 1 == length || line[i + 1] == ' ' || line[i + 1] == '\t'))
			return true;
	}
	return false;
}

int sim_kube_sniff(const char *path, bool *manifest, score_error *err)
{
	char buffer[SNIFF_BYTES];
	FILE *file = fopen(path, "r");
	size_t n;
	size_t pos = 0;

	*manifest = false;
	if (file == NULL)
		return score_fail(err, -errno, "cannot read %s: %s", path, g_strerror(errno));
	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
		fclose(file);
		return score_fail(err, -EISDIR, "%s is a directory: give a file", path);
	}
	n = fread(buffer, 1, sizeof(buffer), file);
	fclose(file);
	if (n >= 3 && memcmp(buffer, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;

	/* The first line that is not blank or a comment decides. */
	while (pos < n) {
		const char *line = buffer + pos;
		const char *end = memchr(line, '\n', n - pos);
		size_t length = end != NULL ? (size_t)(end - line) : n - pos;
		size_t start = 0;

		pos += length + 1;
		while (start < length && g_ascii_isspace(line[start]))
			start++;
		if (start == length || line[start] == '#')
			continue;
		*manifest = line[start] == '{' || line[start] == '[' ||
			    g_str_has_prefix(line + start, "---") ||
			    yaml_key_line(line + start, length - start);
		return 0;
	}
	/* Nothing but blank lines and comments: the name decides, so that an
	 * empty YAML file is reported as one. */
	*manifest = g_str_has_suffix(path, ".yaml") || g_str_has_suffix(path, ".yml") ||
		    g_str_has_suffix(path, ".json");
	return 0;
}

/* ---- Documents and objects ----------------------------------------------- */

/* Where an object sits in its file. */
typedef struct kube_place {
	int document;       /* from 1 */
	bool name_document; /* messages name the document */
	size_t line;        /* of the List item, else of the document; 1 in JSON */
	int item;           /* index in a List's items, or -1 */
} kube_place;

/* Called for each object of a file that has a kind. */
typedef int (*object_fn)(void *data, const cJSON *object, const char *kind,
			 const kube_place *place, score_error *err);

/* The warnings about one file, each kind listed up to
 * INF_FILE_WARNINGS_LISTED times, as `stowage serve` lists them. */
typedef struct kube_warnings {
	GPtrArray *list;      /* char *, owned */
	size_t values;        /* ignored pod values, listed or not */
	size_t missing_kinds; /* objects without a kind, skipped */
} kube_warnings;

typedef struct object_walk {
	const char *name;
	object_fn fn;
	void *data;
	kube_warnings *warnings;
	bool object_failed; /* the message of a failure names the file */
} object_walk;

static const char *object_kind(const cJSON *object)
{
	const cJSON *kind = inf_json_member(object, "kind");

	return cJSON_IsString(kind) ? kind->valuestring : "";
}

/* Returns the kind to read `object` as: its kind, or `implied` when it
 * has none, or "" for an object of another API group or version, such as
 * a custom resource that reuses the name Node. The readers take core v1
 * objects and networking.k8s.io/v1 NetworkPolicies, as `stowage serve`
 * does. Returns NULL for an object without a kind when `implied` is
 * NULL. */
static const char *read_kind(const cJSON *object, const char *implied)
{
	const char *kind = object_kind(object);
	const cJSON *api_version = inf_json_member(object, "apiVersion");
	const char *expected;

	if (kind[0] == '\0')
		kind = implied;
	if (kind == NULL || !cJSON_IsString(api_version))
		return kind;
	expected = strcmp(kind, "NetworkPolicy") == 0 ? "networking.k8s.io/v1" : "v1";
	return strcmp(api_version->valuestring, expected) == 0 ? kind : "";
}

/* Returns the kind of the items of a typed list ("Node" for a NodeList),
 * "" for a list of a kind the readers skip ("DeploymentList"), or NULL
 * for a plain List, whose items must each name their kind. The API
 * server leaves out each item's kind in a typed list, so a missing kind
 * means the list's. */
static const char *implied_item_kind(const char *list_kind)
{
	static const char *const kinds[] = {"Node", "Pod", "Namespace", "NetworkPolicy",
					    "Service"};

	if (strcmp(list_kind, "List") == 0)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		size_t n = strlen(kinds[i]);

		if (strncmp(list_kind, kinds[i], n) == 0 && strcmp(list_kind + n, "List") == 0)
			return kinds[i];
	}
	return "";
}

/* Writes "document 2, items[3]", the part of it that applies, or "". */
static void format_place(char *buf, size_t size, const kube_place *place,
			 bool name_document)
{
	char document[32] = "";
	char item[32] = "";

	if (name_document)
		g_snprintf(document, sizeof(document), "document %d", place->document);
	if (place->item >= 0)
		g_snprintf(item, sizeof(item), "items[%d]", place->item);
	g_snprintf(buf, size, "%s%s%s", document,
		   document[0] != '\0' && item[0] != '\0' ? ", " : "", item);
}

/* Writes "FILE:LINE" and the document, when messages name it. */
static void format_document(char *buf, size_t size, const char *file,
			    const kube_place *place)
{
	if (place->name_document)
		g_snprintf(buf, size, "%s:%zu: document %d", file, place->line,
			   place->document);
	else
		g_snprintf(buf, size, "%s:%zu", file, place->line);
}

/* Skips an object without a kind with a warning that names where it is,
 * as `stowage serve` does: it is likely a mistake. */
static void skip_without_kind(object_walk *walk, const cJSON *object,
			      const kube_place *place)
{
	char where[64];

	format_place(where, sizeof(where), place, place->name_document);
	inf_file_warning_add(walk->warnings->list, &walk->warnings->missing_kinds, walk->name,
			     place->line, inf_missing_kind_warning(where, object, place->item >= 0));
}

/* Calls the walk's function for an object with a kind. */
static int visit_object(object_walk *walk, const cJSON *object, const char *implied,
			const kube_place *place, score_error *err)
{
	const char *kind = read_kind(object, implied);

	if (kind == NULL) {
		skip_without_kind(walk, object, place);
		return 0;
	}
	return walk->fn(walk->data, object, kind, place, err);
}

/* Visits the object of one document, or each item of a List. The line of
 * items[i] comes from `lines` when it has one. */
static int walk_root(object_walk *walk, const cJSON *root, const kube_place *place,
		     const size_t *lines, size_t n_lines, score_error *err)
{
	const char *kind = object_kind(root);
	kube_place item_place = *place;
	char where[SCORE_ERROR_MESSAGE_MAX / 4];
	const char *implied;
	const cJSON *items;
	int index = 0;
	int ret;

	format_document(where, sizeof(where), walk->name, place);
	if (!cJSON_IsObject(root))
		return score_fail(err, -EINVAL,
				  "%s: the document is %s, expected a Kubernetes object or List",
				  where, inf_json_type_name(root));
	if (!g_str_has_suffix(kind, "List"))
		return visit_object(walk, root, NULL, place, err);

	implied = implied_item_kind(kind);
	items = inf_json_member(root, "items");
	if (items != NULL && !cJSON_IsNull(items) && !cJSON_IsArray(items))
		return score_fail(err, -EINVAL, "%s: %s items is %s, expected an array", where,
				  kind, inf_json_type_name(items));
	for (const cJSON *item = items != NULL ? items->child : NULL; item != NULL;
	     item = item->next, index++) {
		item_place.item = index;
		if ((size_t)index < n_lines)
			item_place.line = lines[index];
		if (!cJSON_IsObject(item)) {
			format_document(where, sizeof(where), walk->name, &item_place);
			return score_fail(err, -EINVAL,
					  "%s: item %d of the %s is %s, expected an object",
					  where, index, kind, inf_json_type_name(item));
		}
		ret = visit_object(walk, item, implied, &item_place, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void offset_to_line(const char *text, size_t offset, size_t *line,
			   size_t *column)
{
	size_t line_start = 0;

	*line = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			line_start = i + 1;
		}
	}
	*column = offset - line_start + 1;
}

/* Returns the deepest nesting of arrays and objects in the first
 * `length` bytes of JSON text, skipping strings. */
static size_t json_depth(const char *text, size_t length)
{
	size_t depth = 0;
	size_t deepest = 0;
	bool in_string = false;

	for (size_t i = 0; i < length; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			deepest = MAX(deepest, ++depth);
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

/* Walks the JSON value that starts at `start` in `text`. */
static int walk_json(object_walk *walk, const char *text, size_t length, size_t start,
		     score_error *err)
{
	/* JSON text gives no line numbers: every object is on line 1. */
	kube_place place = {.document = 1, .line = 1, .item = -1};
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text + start, length - start, &end, false);
	size_t offset = end != NULL && end >= text ? (size_t)(end - text) : start;
	size_t line;
	size_t column;
	int ret;

	if (root == NULL) {
		offset_to_line(text, offset, &line, &column);
		if (json_depth(text, MIN(offset + 1, length)) > CJSON_NESTING_LIMIT)
			return score_fail(err, -EINVAL,
					  "%s:%zu:%zu: JSON nested deeper than %d levels, the limit of the JSON parser (cJSON)",
					  walk->name, line, column, CJSON_NESTING_LIMIT);
		return score_fail(err, -EINVAL, "%s:%zu:%zu: invalid JSON", walk->name, line,
				  column);
	}

	/* A second value would otherwise be dropped without a word. */
	while (offset < length && g_ascii_isspace(text[offset]))
		offset++;
	if (offset < length) {
		cJSON_Delete(root);
		offset_to_line(text, offset, &line, &column);
		return score_fail(err, -EINVAL, "%s:%zu:%zu: unexpected data after the JSON value; %s",
				  walk->name, line, column,
				  inf_json_trailing_data_advice(text + offset, length - offset));
	}
	ret = walk_root(walk, root, &place, NULL, 0, err);
	cJSON_Delete(root);
	return ret;
}

static int walk_yaml_document(void *data, const inf_yaml_document *document,
			      score_error *err)
{
	object_walk *walk = data;
	kube_place place = {
		.document = document->number,
		/* A file of one document needs no number. One that begins
		 * with "---" is often one of several. */
		.name_document = document->number > 1 || document->explicit_start,
		.line = document->line,
		.item = -1,
	};
	int ret = walk_root(walk, document->root, &place, document->item_lines,
			    document->n_item_lines, err);

	walk->object_failed = ret < 0;
	return ret;
}

/* True when every line is blank or a comment, so the YAML stream has no
 * document at all. */
static bool yaml_blank(const char *text, size_t length)
{
	size_t pos = 0;

	while (pos < length) {
		const char *line = text + pos;
		const char *end = memchr(line, '\n', length - pos);
		size_t n = end != NULL ? (size_t)(end - line) : length - pos;
		size_t start = 0;

		pos += n + 1;
		while (start < n && g_ascii_isspace(line[start]))
			start++;
		if (start < n && line[start] != '#')
			return false;
	}
	return true;
}

/* Walks every document of a YAML stream. Messages of the converter start
 * with "line L, column C: ", which becomes "FILE:L:C: ". */
static int walk_yaml(object_walk *walk, const char *text, size_t length,
		     score_error *err)
{
	size_t line = 0;
	size_t column = 0;
	int consumed = 0;
	int ret = inf_yaml_for_each_document(text, length, walk_yaml_document, walk, err);

	if (ret == 0 || walk->object_failed || err == NULL)
		return ret;
	if (sscanf(err->message, "line %zu, column %zu: %n", &line, &column, &consumed) == 2 &&
	    consumed > 0) {
		char *message = g_strdup(err->message + consumed);

		score_fail(err, ret, "%s:%zu:%zu: %s", walk->name, line, column, message);
		g_free(message);
		return ret;
	}
	score_error_prefix(err, "%s", walk->name);
	return ret;
}

static int walk_objects(const char *name, const char *text, size_t length,
			object_fn fn, void *data, kube_warnings *warnings,
			score_error *err)
{
	object_walk walk = {.name = name, .fn = fn, .data = data, .warnings = warnings};
	size_t i = 0;

	if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	if (memchr(text, '\0', length) != NULL)
		return score_fail(err, -EINVAL, "%s: NUL byte in the file: it is not text", name);
	while (i < length && g_ascii_isspace(text[i]))
		i++;
	if (i < length && (text[i] == '{' || text[i] == '['))
		return walk_json(&walk, text, length, i, err);
	/* A file of only comments and blank lines contains no objects, and
	 * the callers say which kind they expected. */
	if (yaml_blank(text + i, length - i))
		return 0;
	return walk_yaml(&walk, text, length, err);
}

static int read_whole_file(const char *path, gchar **text, gsize *length,
			   score_error *err)
{
	GError *error = NULL;
	int ret;

	if (!g_file_get_contents(path, text, length, &error)) {
		ret = score_fail(err, -EIO, "cannot read %s: %s", path, error->message);
		g_error_free(error);
		return ret;
	}
	if ((long long)*length > SIM_KUBE_MAX_FILE_BYTES) {
		g_free(*text);
		*text = NULL;
		return score_fail(err, -EFBIG,
				  "%s: %zu bytes, over the limit of %lld MiB for Kubernetes object files: split it or use a CSV trace",
				  path, (size_t)*length, SIM_KUBE_MAX_FILE_BYTES >> 20);
	}
	return 0;
}

static const char *metadata_string(const cJSON *object, const char *key)
{
	const cJSON *metadata = inf_json_member(object, "metadata");
	const cJSON *value = cJSON_IsObject(metadata) ? inf_json_member(metadata, key) : NULL;

	return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* "FILE:LINE: document D, items[I] (KIND NAMESPACE/NAME)", with the parts
 * that apply, for messages about one object. */
static void describe_object(char *buf, size_t size, const char *file,
			    const kube_place *place, const char *kind,
			    const cJSON *object)
{
	const char *name = metadata_string(object, "name");
	const char *ns = metadata_string(object, "namespace");
	char *object_name = g_strdup_printf("%s %s%s%s", kind, ns != NULL ? ns : "",
					    ns != NULL ? "/" : "",
					    name != NULL ? name : "(no name)");
	char where[64];

	format_place(where, sizeof(where), place, place->name_document);
	if (where[0] != '\0')
		g_snprintf(buf, size, "%s:%zu: %s (%s)", file, place->line, where, object_name);
	else
		g_snprintf(buf, size, "%s:%zu: %s", file, place->line, object_name);
	g_free(object_name);
}

/* Fails with the message of a decoder for the object at `place`. The
 * message starts with "FILE:LINE: PLACE (KIND NAMESPACE/NAME): ", or
 * without the object when the decoder's message names it already, as
 * the NetworkPolicy decoder's does. */
static int decode_fail(score_error *err, int code, const char *file, const kube_place *place,
		       const char *kind, const cJSON *object, const char *message)
{
	size_t kind_length = strlen(kind);
	char where[SCORE_ERROR_MESSAGE_MAX / 2];

	if (strncmp(message, kind, kind_length) == 0 && message[kind_length] == ' ') {
		char *prefix = g_strdup_printf("%s:%zu", file, place->line);

		format_place(where, sizeof(where), place, place->name_document);
		score_fail(err, code, "%s%s%s: %s", prefix, where[0] != '\0' ? ": " : "", where,
			   message);
		g_free(prefix);
		return code;
	}
	describe_object(where, sizeof(where), file, place, kind, object);
	return score_fail(err, code, "%s: %s", where, message);
}

/* Writes what a file without the expected objects held instead: "2
 * objects of other kinds", and "and 1 object without a kind" when there
 * were any. */
static void format_skipped(size_t other_kinds, size_t missing_kinds, char *buf, size_t size)
{
	char others[64];
	char kindless[64];

	sim_format_count_noun(other_kinds, "object of another kind", "objects of other kinds",
			      others, sizeof(others));
	if (missing_kinds == 0) {
		g_strlcpy(buf, others, size);
		return;
	}
	sim_format_count_noun(missing_kinds, "object without a kind", "objects without a kind",
			      kindless, sizeof(kindless));
	g_snprintf(buf, size, "%s and %s", others, kindless);
}

/* Closes the warnings of a file with a count of those left out. */
static void kube_warnings_finish(kube_warnings *warnings, const char *file)
{
	char *advice = g_strdup_printf("fix the first %d and run again to see the rest",
				       INF_FILE_WARNINGS_LISTED);

	inf_file_warnings_add_left_out(warnings->list, warnings->values, file,
				       "ignored pod values", advice);
	inf_file_warnings_add_left_out(warnings->list, warnings->missing_kinds, file,
				       "objects without a kind", "they are skipped too");
	g_free(advice);
}

/* ---- Namespaces, NetworkPolicies and Services ------------------------------- */

/* The objects of a node or pod file that the scoring model keeps besides
 * nodes and pods: namespace labels resolve tenants and namespace
 * selectors, NetworkPolicies give locality peers, and Services decide
 * exposure. */
typedef struct kube_namespace {
	const char *name; /* interned */
	score_labels labels;
} kube_namespace;

typedef struct kube_objects {
	GArray *namespaces;   /* kube_namespace */
	GPtrArray *policies;  /* score_network_policy *, one reference each */
	GPtrArray *services;  /* cJSON *, owned: decoded again for each model */
	/* "Kind namespace/name" -> kube_place where the object was first
	 * seen, both owned, to reject an object listed twice in one file. */
	GHashTable *seen;
} kube_objects;

static void kube_objects_init(kube_objects *objects)
{
	objects->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	objects->namespaces = g_array_new(FALSE, TRUE, sizeof(kube_namespace));
	objects->policies = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_network_policy_unref);
	objects->services = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
}

static void kube_objects_release(kube_objects *objects)
{
	for (guint i = 0; objects->namespaces != NULL && i < objects->namespaces->len; i++) {
		kube_namespace *ns = &g_array_index(objects->namespaces, kube_namespace, i);

		score_unintern(ns->name);
		score_labels_release(&ns->labels);
	}
	if (objects->namespaces != NULL)
		g_array_free(objects->namespaces, TRUE);
	if (objects->policies != NULL)
		g_ptr_array_free(objects->policies, TRUE);
	if (objects->services != NULL)
		g_ptr_array_free(objects->services, TRUE);
	if (objects->seen != NULL)
		g_hash_table_destroy(objects->seen);
	memset(objects, 0, sizeof(*objects));
}

/* Returns "Kind namespace/name", the key under which an object must be
 * unique in its file, or NULL for an object without a name, which its
 * decoder rejects. Namespaced objects without a namespace are in
 * "default", as the decoders read them. */
static char *object_key(const char *kind, const cJSON *object)
{
	const char *name = metadata_string(object, "name");
	const char *ns = metadata_string(object, "namespace");

	if (name == NULL)
		return NULL;
	if (strcmp(kind, "Node") == 0 || strcmp(kind, "Namespace") == 0)
		return g_strdup_printf("%s %s", kind, name);
	return g_strdup_printf("%s %s/%s", kind, ns != NULL && ns[0] != '\0' ? ns : "default",
			       name);
}

/* Fails when the file had an object of the same kind, namespace and name
 * before: loading one copy silently would hide which one the run uses.
 * The callers leave Pods out, because a workload may reuse a pod's name
 * once the earlier pod has left. The engine rejects two pods of one name
 * alive at once. */
static int kube_objects_check_unique(kube_objects *objects, const char *file,
				     const kube_place *place, const char *kind,
				     const cJSON *object, score_error *err)
{
	char *key = object_key(kind, object);
	const kube_place *first;
	char here[64];
	char there[64];
	int ret;

	if (key == NULL)
		return 0;
	first = g_hash_table_lookup(objects->seen, key);
	if (first == NULL) {
		g_hash_table_insert(objects->seen, key, g_memdup2(place, sizeof(*place)));
		return 0;
	}

	format_place(here, sizeof(here), place, place->name_document);
	/* A copy in another document names both documents. */
	format_place(there, sizeof(there), first, first->name_document || place->name_document);
	ret = score_fail(err, -EEXIST,
			 "%s:%zu%s%s: %s is in the file twice, first at line %zu%s%s%s; remove one of them",
			 file, place->line, here[0] != '\0' ? ": " : "", here, key, first->line,
			 there[0] != '\0' ? " (" : "", there, there[0] != '\0' ? ")" : "");
	g_free(key);
	return ret;
}

/* Keeps `object` when it is a Namespace, NetworkPolicy or Service and
 * returns 1, or returns 0 for other kinds. Decodes each one here so that
 * errors show before the run. */
static int kube_objects_add(kube_objects *objects, const cJSON *object,
			    const char *kind, const char *file, const kube_place *place,
			    score_error *err)
{
	score_error decode_err = {0};
	int ret;

	if (strcmp(kind, "Namespace") != 0 && strcmp(kind, "NetworkPolicy") != 0 &&
	    strcmp(kind, "Service") != 0)
		return 0;
	ret = kube_objects_check_unique(objects, file, place, kind, object, err);
	if (ret < 0)
		return ret;

	if (strcmp(kind, "Namespace") == 0) {
		kube_namespace ns = {0};

		ret = inf_decode_namespace(object, &ns.name, &ns.labels, &decode_err);
		if (ret < 0)
			return decode_fail(err, ret, file, place, kind, object, decode_err.message);
		g_array_append_val(objects->namespaces, ns);
		return 1;
	}
	if (strcmp(kind, "NetworkPolicy") == 0) {
		score_network_policy *policy = NULL;

		ret = inf_network_policy_decode(object, &policy, &decode_err);
		if (ret < 0)
			return decode_fail(err, ret, file, place, kind, object, decode_err.message);
		g_ptr_array_add(objects->policies, policy);
		return 1;
	}
	if (strcmp(kind, "Service") == 0) {
		score_service *service = NULL;
		cJSON *copy;

		ret = inf_decode_service(object, &service, &decode_err);
		if (ret < 0)
			return decode_fail(err, ret, file, place, kind, object, decode_err.message);
		score_service_free(service);
		copy = cJSON_Duplicate(object, true);
		if (copy == NULL)
			return decode_fail(err, -ENOMEM, file, place, kind, object,
					   "out of memory copying the Service");
		g_ptr_array_add(objects->services, copy);
		return 1;
	}
	return 0;
}

/* Stores the objects in `model`, replacing earlier ones of the same name. */
static void kube_objects_put(const kube_objects *objects, score_model *model)
{
	for (guint i = 0; i < objects->namespaces->len; i++) {
		const kube_namespace *ns = &g_array_index(objects->namespaces, kube_namespace, i);

		score_model_put_namespace(model, ns->name, &ns->labels);
	}
	for (guint i = 0; i < objects->policies->len; i++)
		score_model_put_network_policy(model,
					       score_network_policy_ref(objects->policies->pdata[i]));
	for (guint i = 0; i < objects->services->len; i++) {
		score_service *service = NULL;
		score_error unused = {0};

		/* Decoded once when the file was read, so this cannot fail. */
		if (inf_decode_service(objects->services->pdata[i], &service, &unused) == 0)
			score_model_put_service(model, service);
	}
}

/* ---- Nodes --------------------------------------------------------------- */

typedef struct kube_node {
	score_node *object; /* owned, in the file's resource table */
	sim_node_shape shape;
} kube_node;

struct sim_kube_nodes {
	score_resource_table *resources; /* owned */
	GArray *nodes;                   /* kube_node */
	kube_objects objects;
	int64_t default_pods;
	size_t skipped; /* objects of other kinds or API groups */
	kube_warnings warnings;
};

void sim_kube_nodes_free(sim_kube_nodes *nodes)
{
	if (nodes == NULL)
		return;
	for (guint i = 0; nodes->nodes != NULL && i < nodes->nodes->len; i++) {
		kube_node *node = &g_array_index(nodes->nodes, kube_node, i);

		score_node_free(node->object);
		sim_node_shape_release(&node->shape);
	}
	if (nodes->nodes != NULL)
		g_array_free(nodes->nodes, TRUE);
	kube_objects_release(&nodes->objects);
	if (nodes->warnings.list != NULL)
		g_ptr_array_free(nodes->warnings.list, TRUE);
	score_resource_table_free(nodes->resources);
	g_free(nodes);
}

static int64_t allocatable_of(const sim_kube_nodes *nodes, const score_node *node,
			      const char *resource)
{
	int index = score_resource_find(nodes->resources, resource);

	return index >= 0 ? node->allocatable.v[index] : 0;
}

/* Fills the shape of `object`, decoded from `json`. */
static int node_shape(const sim_kube_nodes *nodes, const score_node *object,
		      const cJSON *json, const char *where, sim_node_shape *shape,
		      score_error *err)
{
	int64_t gpus = allocatable_of(nodes, object, SIM_RESOURCE_GPU);
	const char *type = score_labels_get(&object->labels, SIM_LABEL_INSTANCE_TYPE);
	const char *product = score_labels_get(&object->labels, SIM_LABEL_GPU_PRODUCT);

	memset(shape, 0, sizeof(*shape));
	if (gpus < 0 || gpus > SCORE_GPU_MAX_DEVICES)
		return score_fail(err, -EINVAL,
				  "%s: allocatable %s is %lld: the GPU model takes 0 to %d GPUs per node",
				  where, SIM_RESOURCE_GPU, (long long)gpus, SCORE_GPU_MAX_DEVICES);
	shape->cpu_milli = object->allocatable.v[SCORE_RES_CPU];
	shape->memory = object->allocatable.v[SCORE_RES_MEMORY];
	/* An explicit 0 admits no pod, as in kube-scheduler. */
	shape->pods = inf_node_lists_pods(json) ? object->allocatable.v[SCORE_RES_PODS] :
						  nodes->default_pods;
	shape->gpus = (int32_t)gpus;
	if (gpus > 0)
		shape->gpu_model = g_strdup(product != NULL ? product : "gpu");
	if (type != NULL)
		shape->name = g_strdup(type);
	else if (shape->memory % (INT64_C(1) << 20) == 0)
		shape->name = g_strdup_printf("%lldm-%lldMi", (long long)shape->cpu_milli,
					      (long long)(shape->memory >> 20));
	else
		/* Memory below 1Mi or not in whole Mi, as "memory: 32" gives. */
		shape->name = g_strdup_printf("%lldm-%lldB", (long long)shape->cpu_milli,
					      (long long)shape->memory);
	return 0;
}

/* The file name travels with the walk through this context. */
typedef struct node_context {
	sim_kube_nodes *nodes;
	const char *file;
} node_context;

static int add_node_object(void *data, const cJSON *object, const char *kind,
			   const kube_place *place, score_error *err)
{
	node_context *context = data;
	sim_kube_nodes *nodes = context->nodes;
	kube_node node = {0};
	score_error decode_err = {0};
	char where[SCORE_ERROR_MESSAGE_MAX / 2];
	int ret;

	if (strcmp(kind, "Node") != 0) {
		ret = kube_objects_add(&nodes->objects, object, kind, context->file, place, err);
		if (ret == 0)
			nodes->skipped++;
		return MIN(ret, 0);
	}
	ret = kube_objects_check_unique(&nodes->objects, context->file, place, kind, object,
					err);
	if (ret < 0)
		return ret;

	describe_object(where, sizeof(where), context->file, place, kind, object);
	ret = inf_decode_node(object, nodes->resources, &node.object, &decode_err);
	if (ret < 0)
		return score_fail(err, ret, "%s: %s", where, decode_err.message);
	ret = node_shape(nodes, node.object, object, where, &node.shape, err);
	if (ret < 0) {
		score_node_free(node.object);
		return ret;
	}
	g_array_append_val(nodes->nodes, node);
	return 0;
}

int sim_kube_nodes_parse(const char *name, const char *text, size_t length,
			 int64_t default_pods, sim_kube_nodes **out,
			 score_error *err)
{
	sim_kube_nodes *nodes = g_new0(sim_kube_nodes, 1);
	node_context context = {.nodes = nodes, .file = name};
	int ret;

	*out = NULL;
	nodes->resources = score_resource_table_new();
	nodes->nodes = g_array_new(FALSE, TRUE, sizeof(kube_node));
	kube_objects_init(&nodes->objects);
	nodes->default_pods = default_pods;
	nodes->warnings.list = g_ptr_array_new_with_free_func(g_free);

	ret = walk_objects(name, text, length, add_node_object, &context, &nodes->warnings,
			   err);
	if (ret == 0 && nodes->nodes->len == 0) {
		char skipped[128];

		format_skipped(nodes->skipped, nodes->warnings.missing_kinds, skipped,
			       sizeof(skipped));
		ret = score_fail(err, -EINVAL,
				 "%s: no Node objects (%s): give a NodeList, a List of Nodes or Node documents",
				 name, skipped);
	}
	if (ret == 0)
		kube_warnings_finish(&nodes->warnings, name);
	if (ret < 0) {
		sim_kube_nodes_free(nodes);
		return ret;
	}
	*out = nodes;
	return 0;
}

int sim_kube_nodes_read(const char *path, int64_t default_pods,
			sim_kube_nodes **out, score_error *err)
{
	gchar *text = NULL;
	gsize length = 0;
	int ret = read_whole_file(path, &text, &length, err);

	*out = NULL;
	if (ret == 0)
		ret = sim_kube_nodes_parse(path, text, length, default_pods, out, err);
	g_free(text);
	return ret;
}

size_t sim_kube_nodes_count(const sim_kube_nodes *nodes)
{
	return nodes->nodes->len;
}

const char *sim_kube_nodes_name(const sim_kube_nodes *nodes, size_t i)
{
	return g_array_index(nodes->nodes, kube_node, i).object->name;
}

const sim_node_shape *sim_kube_nodes_shape(const sim_kube_nodes *nodes, size_t i)
{
	return &g_array_index(nodes->nodes, kube_node, i).shape;
}

const score_node *sim_kube_nodes_object(const sim_kube_nodes *nodes, size_t i)
{
	return g_array_index(nodes->nodes, kube_node, i).object;
}

const GPtrArray *sim_kube_nodes_warnings(const sim_kube_nodes *nodes)
{
	return nodes->warnings.list;
}

int sim_kube_nodes_add(const sim_kube_nodes *nodes, sim_engine *engine,
		       score_error *err)
{
	score_resource_table *target = score_model_resources(sim_engine_model(engine));

	for (guint i = 0; i < nodes->nodes->len; i++) {
		const kube_node *node = &g_array_index(nodes->nodes, kube_node, i);
		/* A shallow copy whose extended resources use the engine's
		 * slots; labels and taints are borrowed for the call. */
		score_node object = *node->object;
		int ret;

		for (int r = SCORE_RES_FIRST_EXTENDED; r < SCORE_RES_MAX; r++)
			object.allocatable.v[r] = 0;
		for (int r = SCORE_RES_FIRST_EXTENDED; r < SCORE_RES_MAX; r++) {
			const char *resource = score_resource_name(nodes->resources, r);
			int slot;

			if (resource == NULL)
				break;
			/* GPUs are devices of the GPU model, not a counted resource. */
			if (strcmp(resource, SIM_RESOURCE_GPU) == 0 ||
			    node->object->allocatable.v[r] == 0)
				continue;
			slot = score_resource_index(target, resource, err);
			if (slot < 0)
				return slot;
			object.allocatable.v[slot] = node->object->allocatable.v[r];
		}
		ret = sim_engine_add_node_object(engine, &object, &node->shape, err);
		if (ret < 0)
			return ret;
	}
	kube_objects_put(&nodes->objects, sim_engine_model(engine));
	return 0;
}

/* ---- Pods ---------------------------------------------------------------- */

typedef struct kube_pod {
	cJSON *object; /* owned: the Pod, decoded again on delivery */
	int64_t arrival_ms;
	int64_t run_ms; /* -1: runs until the end */
	kube_place place; /* where it is in the file */
	size_t order;   /* position in the file, for a stable sort */
} kube_pod;

struct sim_kube_pods {
	char *name;
	score_resource_table *own;       /* owned: for checks and scans */
	score_resource_table *resources; /* borrowed after bind, else `own` */
	GArray *pods;                    /* kube_pod, sorted by arrival */
	kube_objects objects;
	size_t skipped; /* objects of other kinds or API groups */
	kube_warnings warnings;
	guint next; /* the source's position */
};

void sim_kube_pods_free(sim_kube_pods *pods)
{
	if (pods == NULL)
		return;
	for (guint i = 0; pods->pods != NULL && i < pods->pods->len; i++)
		cJSON_Delete(g_array_index(pods->pods, kube_pod, i).object);
	if (pods->pods != NULL)
		g_array_free(pods->pods, TRUE);
	kube_objects_release(&pods->objects);
	if (pods->warnings.list != NULL)
		g_ptr_array_free(pods->warnings.list, TRUE);
	score_resource_table_free(pods->own);
	g_free(pods->name);
	g_free(pods);
}

/* Reads a duration annotation into `*out`, and "never" as -1 when `never`
 * is set. Returns 1 when the annotation is absent. */
static int read_annotation(const cJSON *object, const char *key, bool never,
			   const char *where, int64_t *out, score_error *err)
{
	const cJSON *metadata = inf_json_member(object, "metadata");
	const cJSON *annotations = cJSON_IsObject(metadata) ?
					   inf_json_member(metadata, "annotations") : NULL;
	const cJSON *value = cJSON_IsObject(annotations) ?
				     cJSON_GetObjectItemCaseSensitive(annotations, key) : NULL;

	if (value == NULL)
		return 1;
	if (!cJSON_IsString(value))
		return score_fail(err, -EINVAL,
				  "%s: annotation %s is %s: annotation values are strings, so quote it",
				  where, key, inf_json_type_name(value));
	if (never && strcmp(value->valuestring, "never") == 0) {
		*out = -1;
		return 0;
	}
	if (sim_parse_duration(value->valuestring, out, NULL) < 0)
		return score_fail(err, -EINVAL,
				  "%s: annotation %s: invalid duration \"%s\": give one such as 90s or 1h30m%s",
				  where, key, value->valuestring, never ? ", or never" : "");
	return 0;
}

typedef struct pod_context {
	sim_kube_pods *pods;
	const char *file;
} pod_context;

/* Keeps the first INF_FILE_WARNINGS_LISTED warnings of the file, each
 * after the place of its pod, and counts the rest. Takes the messages
 * out of `found`. */
static void keep_warnings(sim_kube_pods *pods, const char *file, const kube_place *place,
			  GPtrArray *found)
{
	for (guint i = 0; i < found->len; i++) {
		inf_file_warning_add(pods->warnings.list, &pods->warnings.values, file,
				     place->line, found->pdata[i]);
		found->pdata[i] = NULL;
	}
	g_ptr_array_set_size(found, 0);
}

/* Decodes the pod once here, so that errors show before the run, and
 * keeps the warnings about values the decoder ignored. */
static int check_pod(sim_kube_pods *pods, const char *file, const kube_place *place,
		     const cJSON *object, const char *where, score_error *err)
{
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	score_pod *decoded = NULL;
	score_error decode_err = {0};
	int ret = inf_decode_pod_with_warnings(object, pods->own, &decoded, found, &decode_err);

	if (ret < 0)
		score_fail(err, ret, "%s: %s", where, decode_err.message);
	else
		keep_warnings(pods, file, place, found);
	score_pod_free(decoded);
	g_ptr_array_free(found, TRUE);
	return ret;
}

static int add_pod_object(void *data, const cJSON *object, const char *kind,
			  const kube_place *place, score_error *err)
{
	pod_context *context = data;
	sim_kube_pods *pods = context->pods;
	kube_pod pod = {.place = *place, .order = pods->pods->len, .run_ms = -1};
	char where[SCORE_ERROR_MESSAGE_MAX / 2];
	int ret;

	if (strcmp(kind, "Pod") != 0) {
		ret = kube_objects_add(&pods->objects, object, kind, context->file, place, err);
		if (ret == 0)
			pods->skipped++;
		return MIN(ret, 0);
	}

	describe_object(where, sizeof(where), context->file, place, kind, object);
	ret = check_pod(pods, context->file, place, object, where, err);
	if (ret < 0)
		return ret;
	ret = read_annotation(object, SIM_ANNOTATION_ARRIVAL, false, where, &pod.arrival_ms, err);
	if (ret > 0)
		pod.arrival_ms = 0;
	if (ret >= 0)
		ret = read_annotation(object, SIM_ANNOTATION_LIFETIME, true, where, &pod.run_ms,
				      err);
	if (ret < 0)
		return ret;
	pod.object = cJSON_Duplicate(object, true);
	if (pod.object == NULL)
		return score_fail(err, -ENOMEM, "%s: out of memory copying the pod", where);
	g_array_append_val(pods->pods, pod);
	return 0;
}

static gint compare_arrival(gconstpointer a, gconstpointer b)
{
	const kube_pod *x = a;
	const kube_pod *y = b;

	if (x->arrival_ms != y->arrival_ms)
		return x->arrival_ms < y->arrival_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int sim_kube_pods_parse(const char *name, const char *text, size_t length,
			sim_kube_pods **out, score_error *err)
{
	sim_kube_pods *pods = g_new0(sim_kube_pods, 1);
	pod_context context = {.pods = pods, .file = name};
	int ret;

	*out = NULL;
	pods->name = g_strdup(name);
	pods->own = score_resource_table_new();
	pods->resources = pods->own;
	pods->pods = g_array_new(FALSE, TRUE, sizeof(kube_pod));
	pods->warnings.list = g_ptr_array_new_with_free_func(g_free);
	kube_objects_init(&pods->objects);

	ret = walk_objects(name, text, length, add_pod_object, &context, &pods->warnings, err);
	if (ret == 0 && pods->pods->len == 0) {
		char skipped[128];

		format_skipped(pods->skipped, pods->warnings.missing_kinds, skipped,
			       sizeof(skipped));
		ret = score_fail(err, -EINVAL,
				 "%s: no Pod objects (%s): give a PodList, a List of Pods or Pod documents",
				 name, skipped);
	}
	if (ret == 0)
		kube_warnings_finish(&pods->warnings, name);
	if (ret < 0) {
		sim_kube_pods_free(pods);
		return ret;
	}
	g_array_sort(pods->pods, compare_arrival);
	*out = pods;
	return 0;
}

int sim_kube_pods_read(const char *path, sim_kube_pods **out, score_error *err)
{
	gchar *text = NULL;
	gsize length = 0;
	int ret = read_whole_file(path, &text, &length, err);

	*out = NULL;
	if (ret == 0)
		ret = sim_kube_pods_parse(path, text, length, out, err);
	g_free(text);
	return ret;
}

size_t sim_kube_pods_count(const sim_kube_pods *pods)
{
	return pods->pods->len;
}

const GPtrArray *sim_kube_pods_warnings(const sim_kube_pods *pods)
{
	return pods->warnings.list;
}

int64_t sim_kube_pods_end_ms(const sim_kube_pods *pods)
{
	int64_t end = 0;

	for (guint i = 0; i < pods->pods->len; i++) {
		const kube_pod *pod = &g_array_index(pods->pods, kube_pod, i);

		end = MAX(end, pod->arrival_ms + MAX(pod->run_ms, 0));
	}
	return end;
}

void sim_kube_pods_bind(sim_kube_pods *pods, score_model *model)
{
	pods->resources = score_model_resources(model);
	kube_objects_put(&pods->objects, model);
}

/* Takes nvidia.com/gpu out of the pod's requests into a GPU binding. */
static int take_gpus(const sim_kube_pods *pods, score_pod *pod, const char *where,
		     sim_gpu_binding **out, score_error *err)
{
	int slot = score_resource_find(pods->resources, SIM_RESOURCE_GPU);
	int64_t count;
	sim_gpu_binding *gpu;

	*out = NULL;
	if (slot < 0 || pod->request.v[slot] == 0)
		return 0;
	count = pod->request.v[slot];
	if (count < 0 || count > SCORE_GPU_MAX_DEVICES)
		return score_fail(err, -EINVAL,
				  "%s: requests %lld %s: the GPU model takes 0 to %d GPUs per pod",
				  where, (long long)count, SIM_RESOURCE_GPU, SCORE_GPU_MAX_DEVICES);
	pod->request.v[slot] = 0;
	pod->nonzero_request.v[slot] = 0;
	gpu = g_new0(sim_gpu_binding, 1);
	gpu->shape.cpu_milli = pod->request.v[SCORE_RES_CPU];
	gpu->shape.memory = pod->request.v[SCORE_RES_MEMORY];
	gpu->shape.gpu_count = (int32_t)count;
	gpu->shape.gpu_milli = 1000;
	*out = gpu;
	return 0;
}

static int kube_next(void *data, sim_arrival *out, score_error *err)
{
	sim_kube_pods *pods = data;
	const kube_pod *entry;
	score_pod *pod = NULL;
	score_error decode_err = {0};
	char where[SCORE_ERROR_MESSAGE_MAX / 2];
	int ret;

	memset(out, 0, sizeof(*out));
	if (pods->next >= pods->pods->len)
		return 0;
	entry = &g_array_index(pods->pods, kube_pod, pods->next);
	pods->next++;
	describe_object(where, sizeof(where), pods->name, &entry->place, "Pod", entry->object);

	ret = inf_decode_pod(entry->object, pods->resources, &pod, &decode_err);
	if (ret < 0)
		return score_fail(err, ret, "%s: %s", where, decode_err.message);
	ret = take_gpus(pods, pod, where, &out->gpu, err);
	if (ret < 0) {
		score_pod_free(pod);
		return ret;
	}
	/* Every pod arrives pending, whatever its nodeName and status. */
	score_unintern(pod->node_name);
	pod->node_name = NULL;
	pod->phase = SCORE_POD_PENDING;
	out->pod = pod;
	out->time_ms = entry->arrival_ms;
	out->run_ms = entry->run_ms;
	out->line = (int)entry->place.line;
	return 1;
}

static double kube_fraction(void *data)
{
	const sim_kube_pods *pods = data;

	return pods->pods->len > 0 ? (double)pods->next / (double)pods->pods->len : 1.0;
}

void sim_kube_pods_source(sim_kube_pods *pods, sim_source *source)
{
	pods->next = 0;
	memset(source, 0, sizeof(*source));
	source->next = kube_next;
	source->fraction = kube_fraction;
	source->data = pods;
	source->name = pods->name;
}
