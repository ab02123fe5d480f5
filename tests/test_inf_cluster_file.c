/* Tests for informer/cluster_file.c: YAML to cJSON conversion, cluster
 * files in the shape kubectl writes, their error messages, and the built-in
 * demo cluster. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "informer/cluster_file.h"

#define MiB (1024LL * 1024)
#define GiB (1024LL * MiB)

static const char *fixtures_dir(void)
{
	const char *dir = getenv("STOWAGE_FIXTURES");

	return dir != NULL && dir[0] != '\0' ? dir : "tests/fixtures";
}

/* Converts `yaml` and fails the test on error. */
static cJSON *yaml(const char *text)
{
	score_error err = {0};
	cJSON *root = NULL;
	int rc = inf_yaml_to_json(text, strlen(text), &root, &err);

	cr_assert_eq(rc, 0, "converting failed with %d: %s\ninput:\n%s", rc,
		     err.message, text);
	cr_assert_not_null(root, "no tree for:\n%s", text);
	return root;
}

/* Converts `text`, expects failure, and checks the message start. */
static void assert_yaml_error(const char *text, const char *message_start)
{
	score_error err = {0};
	cJSON *root = (cJSON *)1;
	int rc = inf_yaml_to_json(text, strlen(text), &root, &err);

	cr_assert_eq(rc, -EINVAL, "input %s: expected -EINVAL, got %d", text, rc);
	cr_assert_null(root, "input %s: no tree on failure", text);
	cr_assert(strncmp(err.message, message_start, strlen(message_start)) == 0,
		  "input %s: expected message starting with\n  %s\ngot\n  %s",
		  text, message_start, err.message);
}

static void assert_number(const cJSON *object, const char *key, double expected)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	cr_assert(cJSON_IsNumber(item), "%s: expected a number", key);
	cr_assert_eq(item->valuedouble, expected, "%s: expected %g, got %g", key,
		     expected, item->valuedouble);
}

static void assert_json_string(const cJSON *object, const char *key,
			       const char *expected)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	cr_assert(cJSON_IsString(item), "%s: expected a string", key);
	cr_assert_str_eq(item->valuestring, expected,
			 "%s: expected \"%s\", got \"%s\"", key, expected,
			 item->valuestring);
}

/* ---- YAML conversion ----------------------------------------------------- */

Test(yaml, core_schema_scalars)
{
	cJSON *root = yaml(
		"int: 42\n"
		"negative: -3\n"
		"plus: +7\n"
		"leading_zero: 012\n"
		"hex: 0x1F\n"
		"octal: 0o17\n"
		"float: 1.5\n"
		"dot_float: .5\n"
		"exponent: 1e3\n"
		"yes_true: true\n"
		"capital_true: True\n"
		"no_false: FALSE\n"
		"tilde: ~\n"
		"null_word: null\n"
		"empty:\n"
		"word: hello\n"
		"yaml11_bool: yes\n"
		"underscored: 1_000\n"
		"quoted_int: '1'\n"
		"quoted_bool: \"true\"\n"
		"quoted_null: 'null'\n"
		"cpu: 500m\n");

	assert_number(root, "int", 42);
	assert_number(root, "negative", -3);
	assert_number(root, "plus", 7);
	assert_number(root, "leading_zero", 12);
	assert_number(root, "hex", 31);
	assert_number(root, "octal", 15);
	assert_number(root, "float", 1.5);
	assert_number(root, "dot_float", 0.5);
	assert_number(root, "exponent", 1000);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "yes_true")), "true");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "capital_true")), "True");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(root, "no_false")), "FALSE");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "tilde")), "~");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "null_word")), "null");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "empty")), "empty value");
	assert_json_string(root, "word", "hello");
	/* YAML 1.1 booleans and digit separators are strings in 1.2. */
	assert_json_string(root, "yaml11_bool", "yes");
	assert_json_string(root, "underscored", "1_000");
	assert_json_string(root, "quoted_int", "1");
	assert_json_string(root, "quoted_bool", "true");
	assert_json_string(root, "quoted_null", "null");
	assert_json_string(root, "cpu", "500m");
	cJSON_Delete(root);
}

Test(yaml, collections_and_block_scalars)
{
	cJSON *root = yaml(
		"items:\n"
		"- a\n"
		"- {b: [1, 2], c: {}}\n"
		"- []\n"
		"script: |\n"
		"  line 1\n"
		"  line 2\n"
		"folded: >-\n"
		"  one\n"
		"  two\n"
		"80: http\n");
	const cJSON *items = cJSON_GetObjectItem(root, "items");
	const cJSON *second = cJSON_GetArrayItem(items, 1);

	cr_assert(cJSON_IsArray(items), "items: expected an array");
	cr_assert_eq(cJSON_GetArraySize(items), 3, "items: expected 3, got %d",
		     cJSON_GetArraySize(items));
	cr_assert_str_eq(cJSON_GetArrayItem(items, 0)->valuestring, "a");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(second, "b")), 2,
		     "b: expected 2 elements");
	cr_assert(cJSON_IsObject(cJSON_GetObjectItem(second, "c")), "c: {}");
	cr_assert(cJSON_IsArray(cJSON_GetArrayItem(items, 2)), "[]");
	assert_json_string(root, "script", "line 1\nline 2\n");
	assert_json_string(root, "folded", "one two");
	/* JSON keys are strings, so the key 80 keeps its text. */
	assert_json_string(root, "80", "http");
	cJSON_Delete(root);
}

Test(yaml, tags)
{
	cJSON *root = yaml(
		"str: !!str 123\n"
		"nonspecific: ! 12\n"
		"int: !!int \"7\"\n"
		"float: !!float 1\n"
		"null: !!null ~\n");

	assert_json_string(root, "str", "123");
	assert_json_string(root, "nonspecific", "12");
	assert_number(root, "int", 7);
	assert_number(root, "float", 1);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "null")), "!!null");
	cJSON_Delete(root);

	assert_yaml_error("x: !!int abc", "line 1, column 4: invalid !!int value \"abc\"");
	assert_yaml_error("x: !custom 1", "line 1, column 4: unsupported tag !custom");
	assert_yaml_error("x: !!binary aGk=", "line 1, column 4: unsupported tag !!binary");
}

Test(yaml, json_input_is_yaml)
{
	cJSON *root = yaml("{\"kind\": \"List\", \"items\": [1, \"b\", null]}");

	assert_json_string(root, "kind", "List");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "items")), 3,
		     "items: expected 3 elements");
	cJSON_Delete(root);
}

Test(yaml, anchors_and_aliases)
{
	cJSON *root = yaml(
		"defaults: &requests {cpu: 100m, memory: 64Mi}\n"
		"web: *requests\n"
		"name: &n web\n"
		"again: *n\n");
	const cJSON *web = cJSON_GetObjectItem(root, "web");

	assert_json_string(web, "cpu", "100m");
	assert_json_string(web, "memory", "64Mi");
	assert_json_string(root, "again", "web");
	cJSON_Delete(root);

	assert_yaml_error("x: *nope",
			  "line 1, column 4: alias *nope refers to no complete anchor &nope");
	assert_yaml_error("a: &x [1, *x]", "line 1, column 11: alias *x");
	assert_yaml_error("b: &b {c: 1}\nm:\n  <<: *b\n",
			  "line 3, column 3: merge keys (<<) are not supported");
}

Test(yaml, alias_expansion_is_bounded)
{
	/* Each line contains ten aliases of the line before, so the tree grows
	 * tenfold per line and line 6 passes one million alias nodes. */
	const char *text =
		"a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
	score_error err = {0};
	cJSON *root = NULL;
	int rc = inf_yaml_to_json(text, strlen(text), &root, &err);

	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_not_null(strstr(err.message, "aliases expand to more than"),
			   "unexpected message: %s", err.message);
	cr_assert(g_str_has_prefix(err.message, "line 6,"),
		  "expected the error on line 6: %s", err.message);
}

Test(yaml, duplicate_keys)
{
	assert_yaml_error("a: 1\nb: 2\na: 3\n",
			  "line 3, column 1: duplicate key \"a\" in this mapping");
	assert_yaml_error("spec:\n  containers: []\n  nodeName: x\n  containers: []\n",
			  "line 4, column 3: duplicate key \"containers\"");
	assert_yaml_error("{x: 1, x: 2}", "line 1, column 8: duplicate key \"x\"");
}

Test(yaml, duplicate_keys_in_long_mapping)
{
	/* Past 16 keys the check uses a hash set; it must still see every
	 * earlier key. */
	GString *text = g_string_new(NULL);
	cJSON *root;

	for (int i = 0; i < 40; i++)
		g_string_append_printf(text, "key%d: %d\n", i, i);
	root = yaml(text->str);
	cr_assert_eq(cJSON_GetArraySize(root), 40, "expected 40 keys, got %d",
		     cJSON_GetArraySize(root));
	cJSON_Delete(root);

	g_string_append(text, "key3: again\n");
	assert_yaml_error(text->str, "line 41, column 1: duplicate key \"key3\"");
	g_string_truncate(text, 0);
	for (int i = 0; i < 40; i++)
		g_string_append_printf(text, "key%d: %d\n", i, i);
	g_string_append(text, "key39: again\n");
	assert_yaml_error(text->str, "line 41, column 1: duplicate key \"key39\"");
	g_string_free(text, TRUE);
}

Test(yaml, duplicate_keys_in_separate_mappings)
{
	cJSON *root = yaml("- {a: 1}\n- {a: 2}\n");

	cr_assert_eq(cJSON_GetArraySize(root), 2, "expected 2 mappings");
	cJSON_Delete(root);
}

Test(yaml, invalid_yaml_has_line_and_column)
{
	assert_yaml_error("a: [1, 2\nb: 3\n", "line 2, column 2: did not find expected ','");
	assert_yaml_error("a:\n\tb: 1\n",
			  "line 2, column 1: found character that cannot start any token");
	assert_yaml_error("a: b: c\n", "line 1, column 5: mapping values are not allowed");
	assert_yaml_error("? [a]\n: 1\n",
			  "line 1, column 3: a mapping key must be a scalar");
	assert_yaml_error("a: \xff\n", "byte offset 3: invalid leading UTF-8 octet");
	assert_yaml_error("a: \"x\\0y\"\n",
			  "line 1, column 4: the scalar contains a NUL character");
}

Test(yaml, numbers_without_json_equivalent)
{
	cJSON *root = yaml("max: 9007199254740992\nquoted: '9007199254740993'\n"
			   "inf: '.inf'\nsigned_hex: -0x10\n");

	assert_number(root, "max", 9007199254740992.0);
	/* The core schema's hex and octal forms take no sign. */
	assert_json_string(root, "signed_hex", "-0x10");
	assert_json_string(root, "quoted", "9007199254740993");
	assert_json_string(root, "inf", ".inf");
	cJSON_Delete(root);

	assert_yaml_error("n: 9007199254740993",
			  "line 1, column 4: integer 9007199254740993 does not fit a JSON number exactly");
	assert_yaml_error("n: 0x20000000000001",
			  "line 1, column 4: integer 0x20000000000001 does not fit");
	assert_yaml_error("n: 1e999", "line 1, column 4: number 1e999 is out of range");
	assert_yaml_error("n: -.inf", "line 1, column 4: -.inf has no JSON equivalent");
	assert_yaml_error("n: .NaN", "line 1, column 4: .NaN has no JSON equivalent");
}

Test(yaml, empty_and_null_documents)
{
	cJSON *root;

	assert_yaml_error("", "the YAML input is empty: it contains no document");
	assert_yaml_error("# just a comment\n\n",
			  "the YAML input is empty: it contains no document");

	root = yaml("---\n");
	cr_assert(cJSON_IsNull(root), "an empty document is null");
	cJSON_Delete(root);
}

Test(yaml, one_document_only)
{
	cJSON *root = yaml("---\na: 1\n...\n");

	assert_number(root, "a", 1);
	cJSON_Delete(root);
	assert_yaml_error("a: 1\n---\nb: 2\n",
			  "line 2, column 1: a second YAML document starts here");
}

Test(yaml, nesting_is_bounded)
{
	size_t depth = 1001;
	char *text = g_malloc(depth + 1);
	score_error err = {0};
	cJSON *root = NULL;
	int rc;

	memset(text, '[', depth);
	text[depth] = '\0';
	rc = inf_yaml_to_json(text, depth, &root, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_not_null(strstr(err.message, "nests deeper than 1000 levels"),
			   "unexpected message: %s", err.message);
	g_free(text);
}

Test(yaml, length_bounds_input)
{
	/* Only the first `length` bytes count, so no NUL is needed. */
	const char text[] = "a: 1\nb: 2\n";
	score_error err = {0};
	cJSON *root = NULL;
	int rc = inf_yaml_to_json(text, 5, &root, &err);

	cr_assert_eq(rc, 0, "failed: %s", err.message);
	cr_assert_null(cJSON_GetObjectItem(root, "b"), "b is past the length");
	assert_number(root, "a", 1);
	cJSON_Delete(root);
}

/* What the callback of inf_yaml_for_each_document() saw of one document. */
typedef struct seen_document {
	int number;
	bool explicit_start;
	size_t line;
	char *root; /* printed without spaces, owned */
	GArray *item_lines; /* size_t */
} seen_document;

typedef struct seen_documents {
	GArray *documents; /* seen_document */
	int fail_at;       /* the callback fails at this document number */
} seen_documents;

static int record_document(void *data, const inf_yaml_document *document,
			   score_error *err)
{
	seen_documents *seen = data;
	seen_document record = {
		.number = document->number,
		.explicit_start = document->explicit_start,
		.line = document->line,
		.root = cJSON_PrintUnformatted(document->root),
		.item_lines = g_array_new(FALSE, FALSE, sizeof(size_t)),
	};

	g_array_append_vals(record.item_lines, document->item_lines,
			    (guint)document->n_item_lines);
	g_array_append_val(seen->documents, record);
	if (document->number == seen->fail_at)
		return score_fail(err, -EPERM, "stop at document %d", document->number);
	return 0;
}

static void seen_documents_init(seen_documents *seen)
{
	seen->documents = g_array_new(FALSE, TRUE, sizeof(seen_document));
	seen->fail_at = -1;
}

static void seen_documents_release(seen_documents *seen)
{
	for (guint i = 0; i < seen->documents->len; i++) {
		seen_document *record = &g_array_index(seen->documents, seen_document, i);

		cJSON_free(record->root);
		g_array_free(record->item_lines, TRUE);
	}
	g_array_free(seen->documents, TRUE);
}

static const seen_document *seen_at(const seen_documents *seen, guint i)
{
	return &g_array_index(seen->documents, seen_document, i);
}

Test(yaml, each_document_in_order)
{
	const char *text =
		"# a comment before the first document\n" /* line 1 */
		"kind: NodeList\n"                           /* 2 */
		"items:\n"                                   /* 3 */
		"- metadata: {name: a}\n"                    /* 4 */
		"- metadata:\n"                              /* 5 */
		"    name: b\n"                              /* 6 */
		"- &c {metadata: {name: c}}\n"               /* 7 */
		"- *c\n"                                     /* 8 */
		"---\n"                                      /* 9 */
		"...\n"                                      /* 10 */
		"--- {kind: Node}\n"                         /* 11 */
		"---\n"                                      /* 12 */
		"\n"                                         /* 13 */
		"kind: List\n"                               /* 14 */
		"items: [{a: 1}, {b: 2}]\n";                 /* 15 */
	seen_documents seen;
	score_error err = {0};
	const seen_document *record;
	int rc;

	seen_documents_init(&seen);
	rc = inf_yaml_for_each_document(text, strlen(text), record_document, &seen, &err);
	cr_assert_eq(rc, 0, "expected success, got %d: %s", rc, err.message);
	cr_assert_eq(seen.documents->len, 3, "expected 3 documents with content, got %u",
		     seen.documents->len);

	record = seen_at(&seen, 0);
	cr_assert_eq(record->number, 1, "first: expected number 1, got %d", record->number);
	cr_assert_not(record->explicit_start, "first: expected no \"---\" before it");
	cr_assert_eq(record->line, 2, "first: expected its first node's line, 2, got %zu",
		     record->line);
	cr_assert_eq(record->item_lines->len, 4, "first: expected 4 item lines, got %u",
		     record->item_lines->len);
	for (guint i = 0; i < 4; i++) {
		static const size_t expected[] = {4, 5, 7, 8};
		size_t line = g_array_index(record->item_lines, size_t, i);

		cr_assert_eq(line, expected[i], "items[%u]: expected line %zu, got %zu", i,
			     expected[i], line);
	}

	record = seen_at(&seen, 1);
	cr_assert_eq(record->number, 3, "the empty second document is counted: expected 3, got %d",
		     record->number);
	cr_assert(record->explicit_start, "second: expected \"---\" before it");
	cr_assert_eq(record->line, 11, "second: expected line 11, got %zu", record->line);
	cr_assert_str_eq(record->root, "{\"kind\":\"Node\"}");
	cr_assert_eq(record->item_lines->len, 0, "a Node has no items, got %u lines",
		     record->item_lines->len);

	record = seen_at(&seen, 2);
	cr_assert_eq(record->number, 4, "third: expected number 4, got %d", record->number);
	cr_assert_eq(record->line, 12, "third: expected the line of its ---, 12, got %zu",
		     record->line);
	cr_assert_eq(record->item_lines->len, 2, "flow items: expected 2 lines, got %u",
		     record->item_lines->len);
	cr_assert_eq(g_array_index(record->item_lines, size_t, 1), 15,
		     "flow items: expected line 15, got %zu",
		     g_array_index(record->item_lines, size_t, 1));
	seen_documents_release(&seen);
}

Test(yaml, each_document_stops_at_failure)
{
	const char *text = "a: 1\n---\nb: 2\n---\nc: 3\n";
	seen_documents seen;
	score_error err = {0};
	int rc;

	seen_documents_init(&seen);
	seen.fail_at = 2;
	rc = inf_yaml_for_each_document(text, strlen(text), record_document, &seen, &err);
	cr_assert_eq(rc, -EPERM, "expected the callback's -EPERM, got %d", rc);
	cr_assert_str_eq(err.message, "stop at document 2");
	cr_assert_eq(seen.documents->len, 2, "expected no call after the failure, got %u calls",
		     seen.documents->len);
	seen_documents_release(&seen);

	seen_documents_init(&seen);
	text = "a: 1\n---\nb: [\n";
	rc = inf_yaml_for_each_document(text, strlen(text), record_document, &seen, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL for invalid YAML, got %d", rc);
	cr_assert(g_str_has_prefix(err.message, "line 4, column 1: "),
		  "expected the line in the whole text, got: %s", err.message);
	cr_assert_eq(seen.documents->len, 1, "expected the first document passed, got %u",
		     seen.documents->len);
	seen_documents_release(&seen);
}

Test(yaml, each_document_empty_input)
{
	seen_documents seen;
	score_error err = {0};
	int rc;

	seen_documents_init(&seen);
	rc = inf_yaml_for_each_document("# nothing\n", 10, record_document, &seen, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_str_eq(err.message, "the YAML input is empty: it contains no document");
	rc = inf_yaml_for_each_document("---\n---\n", 8, record_document, &seen, &err);
	cr_assert_eq(rc, 0, "empty documents: expected success, got %d: %s", rc, err.message);
	cr_assert_eq(seen.documents->len, 0, "expected no call for empty documents, got %u",
		     seen.documents->len);
	seen_documents_release(&seen);
}

/* ---- Cluster files ------------------------------------------------------- */

typedef struct cluster {
	score_resource_table *resources;
	score_model *model;
} cluster;

static void cluster_init(cluster *c)
{
	c->resources = score_resource_table_new();
	c->model = score_model_new(c->resources);
}

static void cluster_release(cluster *c)
{
	score_model_free(c->model);
	score_resource_table_free(c->resources);
}

static char *fixture_path(const char *name)
{
	return g_build_filename(fixtures_dir(), "cluster", name, NULL);
}

static score_node *must_node(const cluster *c, const char *name)
{
	score_node *node = score_model_node(c->model, name);

	cr_assert_not_null(node, "node %s is not in the model", name);
	return node;
}

static void assert_value(int64_t got, int64_t expected, const char *what)
{
	cr_assert_eq(got, expected, "%s: expected %lld, got %lld", what,
		     (long long)expected, (long long)got);
}

/* Loads the fixture `name` into a new cluster `c`, counting what it
 * contains into `counts`, and fails the test when loading fails. */
static void load_fixture_counted(cluster *c, const char *name, inf_cluster_counts *counts)
{
	char *path = fixture_path(name);
	score_error err = {0};
	int rc;

	cluster_init(c);
	rc = inf_load_cluster_file_counted(path, c->model, counts, &err);
	cr_assert_eq(rc, 0, "loading %s failed with %d: %s", path, rc, err.message);
	g_free(path);
}

/* Loads `text` as the file `name` into a new cluster `c`, counting into
 * `counts` (may be NULL) and collecting warnings into `warnings`, and
 * fails the test when loading fails. */
static void load_text_with_warnings(cluster *c, const char *name, const char *text,
				    inf_cluster_counts *counts, GPtrArray *warnings)
{
	score_error err = {0};
	int rc;

	cluster_init(c);
	rc = inf_load_cluster_buffer_with_warnings(name, text, strlen(text), c->model, counts,
						   warnings, &err);
	cr_assert_eq(rc, 0, "loading %s failed with %d: %s", name, rc, err.message);
}

Test(cluster_file, kubectl_yaml_list)
{
	cluster c;
	inf_cluster_counts counts = {0};
	score_node *node;
	score_pod *pod;
	int gpu;

	load_fixture_counted(&c, "kind-nodes-pods.yaml", &counts);
	assert_value((int64_t)counts.nodes, 3, "counted nodes");
	assert_value((int64_t)counts.pods, 5, "counted pods");
	assert_value((int64_t)counts.skipped, 0, "skipped items");
	assert_value((int64_t)score_model_node_count(c.model), 3, "model nodes");
	assert_value((int64_t)score_model_pod_count(c.model), 5, "model pods");

	node = must_node(&c, "kind-control-plane");
	cr_assert(node->ready, "control plane: expected ready");
	cr_assert_eq(node->n_taints, 1, "control plane: expected 1 taint, got %u",
		     node->n_taints);
	cr_assert_str_eq(node->taints[0].key, "node-role.kubernetes.io/control-plane");
	assert_value(node->allocatable.v[SCORE_RES_MEMORY], 8039156LL * 1024,
		     "control plane memory");
	/* coredns tolerates the control-plane taint and requests 100m/70Mi. */
	assert_value(node->requested.v[SCORE_RES_CPU], 100, "control plane cpu");
	assert_value(node->requested.v[SCORE_RES_MEMORY], 70 * MiB,
		     "control plane memory requested");

	/* web-2xkqp: app 250m/256Mi plus the istio-proxy sidecar 100m/128Mi;
	 * istio-init (10m/40Mi) runs before and stays below. The pi pod
	 * Succeeded and counts nowhere. */
	node = must_node(&c, "kind-worker");
	assert_value(node->allocatable.v[SCORE_RES_CPU], 8000, "worker cpu");
	assert_value(node->allocatable.v[SCORE_RES_MEMORY], 32779564LL * 1024,
		     "worker memory");
	assert_value(node->requested.v[SCORE_RES_CPU], 350, "worker cpu requested");
	assert_value(node->requested.v[SCORE_RES_MEMORY], 384 * MiB,
		     "worker memory requested");
	assert_value(node->requested.v[SCORE_RES_PODS], 1, "worker pods");
	cr_assert_str_eq(score_labels_get(&node->labels, "topology.kubernetes.io/zone"),
			 "zone-a");

	/* Ready is Unknown; kube-proxy requests CPU only, so its non-zero
	 * memory is the 200Mi default. */
	node = must_node(&c, "kind-worker2");
	cr_assert_not(node->ready, "worker2: Ready Unknown must not be ready");
	cr_assert_eq(node->n_taints, 2, "worker2: expected 2 taints, got %u",
		     node->n_taints);
	gpu = score_resource_find(c.resources, "nvidia.com/gpu");
	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "gpu slot: got %d", gpu);
	assert_value(node->allocatable.v[gpu], 2, "worker2 gpus");
	assert_value(node->allocatable.v[SCORE_RES_CPU], 7800, "worker2 cpu");
	assert_value(node->requested.v[SCORE_RES_MEMORY], 0, "worker2 memory");
	assert_value(node->nonzero_requested.v[SCORE_RES_MEMORY],
		     SCORE_DEFAULT_MEMORY_REQUEST, "worker2 non-zero memory");

	pod = score_model_pod(c.model, "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e");
	cr_assert_not_null(pod, "the pending pod is in the model");
	cr_assert_null(pod->node_name, "the pending pod has no node");
	cr_assert_eq(pod->phase, SCORE_POD_PENDING, "pending pod phase: %d",
		     pod->phase);

	pod = score_model_pod(c.model, "9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c");
	cr_assert_not_null(pod, "the Succeeded pod is in the model");
	cr_assert_eq(pod->phase, SCORE_POD_SUCCEEDED, "pi phase: %d", pod->phase);

	cluster_release(&c);
}

Test(cluster_file, json_pod_list_without_item_kinds)
{
	/* An API server's PodList leaves kind out of its items. */
	const char *text =
		"  {\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"metadata\": {},\n"
		"   \"items\": [{\"metadata\": {\"name\": \"a\", \"namespace\": \"ns\", \"uid\": \"u1\"},\n"
		"     \"spec\": {\"nodeName\": \"n1\", \"containers\": [{\"resources\":\n"
		"       {\"requests\": {\"cpu\": \"1\"}}}]}, \"status\": {\"phase\": \"Running\"}}]}\n";
	inf_cluster_counts counts = {0};
	score_error err = {0};
	score_pod *pod;
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer_counted("pods.json", text, strlen(text),
					     c.model, &counts, &err);
	cr_assert_eq(rc, 0, "failed with %d: %s", rc, err.message);
	assert_value((int64_t)counts.pods, 1, "pods");
	assert_value((int64_t)counts.nodes, 0, "nodes");
	pod = score_model_pod(c.model, "u1");
	cr_assert_not_null(pod, "pod u1 is in the model");
	assert_value(pod->request.v[SCORE_RES_CPU], 1000, "pod cpu");
	cr_assert_null(score_model_node(c.model, "n1"),
		       "a node only named by a pod is not present");
	cluster_release(&c);
}

Test(cluster_file, node_list_and_single_objects)
{
	const char *node_list =
		"kind: NodeList\napiVersion: v1\nitems:\n"
		"- metadata: {name: n1}\n  status: {allocatable: {cpu: \"2\"}}\n"
		"- metadata: {name: n2}\n";
	const char *single_node = "apiVersion: v1\nkind: Node\nmetadata: {name: n3}\n";
	const char *single_pod =
		"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},"
		" \"spec\": {\"nodeName\": \"n3\"}}";
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer("nodes.yaml", node_list, strlen(node_list),
				     c.model, &err);
	cr_assert_eq(rc, 0, "NodeList failed with %d: %s", rc, err.message);
	rc = inf_load_cluster_buffer("node.yaml", single_node,
				     strlen(single_node), c.model, &err);
	cr_assert_eq(rc, 0, "Node failed with %d: %s", rc, err.message);
	rc = inf_load_cluster_buffer("pod.json", single_pod, strlen(single_pod),
				     c.model, &err);
	cr_assert_eq(rc, 0, "Pod failed with %d: %s", rc, err.message);

	assert_value((int64_t)score_model_node_count(c.model), 3, "nodes");
	assert_value(must_node(&c, "n1")->allocatable.v[SCORE_RES_CPU], 2000,
		     "n1 cpu");
	assert_value(must_node(&c, "n3")->requested.v[SCORE_RES_PODS], 1,
		     "n3 pods");
	cr_assert_not_null(score_model_pod(c.model, "default/p"),
			   "the uid-less pod is keyed by namespace/name");
	cluster_release(&c);
}

Test(cluster_file, other_kinds_skipped_at_top_level)
{
	/* `stowage sim run` reads the same file, so serve skips what it
	 * skips: single objects and whole Lists of other kinds. */
	const char *text =
		"apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
		"status: {allocatable: {pods: '110'}, conditions: [{type: Ready, status: 'True'}]}\n"
		"---\n"
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
		"---\n"
		"apiVersion: apps/v1\nkind: DeploymentList\nitems:\n"
		"- metadata: {name: d1}\n- metadata: {name: d2}\n"
		"---\n"
		"apiVersion: example.com/v1\nkind: Pod\nmetadata: {name: custom}\n";
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	inf_cluster_counts counts = {0};
	cluster c;

	load_text_with_warnings(&c, "otherkinds.yaml", text, &counts, warnings);
	assert_value((int64_t)counts.nodes, 1, "nodes");
	assert_value((int64_t)counts.skipped, 4,
		     "skipped: the Deployment, two DeploymentList items and the custom Pod");
	assert_value((int64_t)warnings->len, 0, "warnings: objects of other kinds warn nothing");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
}

Test(cluster_file, objects_without_kind_skipped_with_warning)
{
	const char *text =
		"kind: List\nitems:\n"
		"- {kind: Node, metadata: {name: n1}, status: {allocatable: {pods: '110'},"
		" conditions: [{type: Ready, status: 'True'}]}}\n"
		"- metadata: {name: web-0, namespace: shop}\n"
		"- {spec: {}}\n"
		"---\n"
		"metadata: {name: lost}\n";
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	inf_cluster_counts counts = {0};
	cluster c;

	load_text_with_warnings(&c, "f.yaml", text, &counts, warnings);
	assert_value((int64_t)counts.nodes, 1, "nodes");
	assert_value((int64_t)counts.skipped, 3, "skipped objects without a kind");
	assert_value((int64_t)warnings->len, 3, "warnings: one per object without a kind");
	cr_assert_str_eq(g_ptr_array_index(warnings, 0),
			 "f.yaml:4: items[1]: the object named web-0 has no kind, so it is skipped; "
			 "every item of a List needs one, such as kind: Node or kind: Pod");
	cr_assert_str_eq(g_ptr_array_index(warnings, 1),
			 "f.yaml:5: items[2]: the object has no kind, so it is skipped; "
			 "every item of a List needs one, such as kind: Node or kind: Pod");
	cr_assert_str_eq(g_ptr_array_index(warnings, 2),
			 "f.yaml:6: document 2: the object named lost has no kind, so it is skipped; "
			 "give it one, such as kind: Node, or kind: List with the objects in items");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
}

Test(cluster_file, node_without_allocatable_pods_warns)
{
	const char *text =
		"kind: NodeList\nitems:\n"
		"- metadata: {name: hand}\n"
		"  status:\n"
		"    allocatable: {cpu: '4', memory: 8Gi}\n"
		"    conditions: [{type: Ready, status: 'True'}]\n"
		"- metadata: {name: zero}\n"
		"  status:\n"
		"    allocatable: {cpu: '4', memory: 8Gi, pods: '0'}\n"
		"    conditions: [{type: Ready, status: 'True'}]\n"
		"- metadata: {name: old}\n"
		"  status:\n"
		"    capacity: {cpu: '4', memory: 8Gi, pods: '110'}\n"
		"    conditions: [{type: Ready, status: 'True'}]\n";
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	cluster c;

	load_text_with_warnings(&c, "nodes.yaml", text, NULL, warnings);
	assert_value((int64_t)warnings->len, 1,
		     "warnings: only the node without pods (an explicit 0 is meant)");
	cr_assert_str_eq(g_ptr_array_index(warnings, 0),
			 "nodes.yaml:3: node hand has no status.allocatable.pods, so it admits no "
			 "pods and filters reject every pod with \"too many pods: 0 of 0 already (the node's status.allocatable.pods is 0 or missing)\"; "
			 "the kubelet always reports it, so add pods: \"110\", its default, to "
			 "status.allocatable");
	assert_value(must_node(&c, "hand")->allocatable.v[SCORE_RES_PODS], 0,
		     "allocatable pods of the node without them, as kube-scheduler reads it");
	assert_value(must_node(&c, "old")->allocatable.v[SCORE_RES_PODS], 110,
		     "allocatable pods from capacity");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
}

Test(cluster_file, file_without_nodes_warns)
{
	static const char *const texts[] = {
		"kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
		"apiVersion: v1\nkind: List\nitems: []\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
		cluster c;

		load_text_with_warnings(&c, "pods.yaml", texts[i], NULL, warnings);
		assert_value((int64_t)warnings->len, 1, "warnings of a file without nodes");
		cr_assert_str_eq(g_ptr_array_index(warnings, 0),
				 "pods.yaml: no Node objects in the file, so every node kube-scheduler "
				 "sends is unknown to stowage; did you mean kubectl get nodes,pods -A "
				 "-o yaml?",
				 "case %zu", i);
		g_ptr_array_unref(warnings);
		cluster_release(&c);
	}
}

Test(cluster_file, left_out_count_has_digit_groups)
{
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	size_t count = 0;

	for (int i = 0; i < INF_FILE_WARNINGS_LISTED + 1; i++)
		inf_file_warning_add(warnings, &count, "f.json", (size_t)i,
				     g_strdup_printf("warning %d", i));
	assert_value((int64_t)count, INF_FILE_WARNINGS_LISTED + 1, "counted warnings");
	assert_value((int64_t)warnings->len, INF_FILE_WARNINGS_LISTED, "listed warnings");
	cr_assert_str_eq(g_ptr_array_index(warnings, 0), "f.json: warning 0",
			 "line 0 is unknown, as in JSON text, and left out");
	cr_assert_str_eq(g_ptr_array_index(warnings, 1), "f.json:1: warning 1");

	inf_file_warnings_add_left_out(warnings, INF_FILE_WARNINGS_LISTED + 2286, "f.json",
				       "ignored pod values", "fix them");
	inf_file_warnings_add_left_out(warnings, INF_FILE_WARNINGS_LISTED + 1234567, "f.json",
				       "objects without a kind", "they are skipped too");
	cr_assert_str_eq(g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED),
			 "f.json: 2,286 more ignored pod values are not listed; fix them");
	cr_assert_str_eq(g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED + 1),
			 "f.json: 1,234,567 more objects without a kind are not listed; they are "
			 "skipped too");
	inf_file_warnings_add_left_out(warnings, INF_FILE_WARNINGS_LISTED, "f.json",
				       "ignored pod values", "fix them");
	assert_value((int64_t)warnings->len, INF_FILE_WARNINGS_LISTED + 2,
		     "no count when none was left out");
	g_ptr_array_unref(warnings);
}

Test(cluster_file, other_kinds_are_skipped)
{
	const char *text =
		"apiVersion: v1\nkind: List\nitems:\n"
		"- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}\n"
		"- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n"
		"- {apiVersion: example.com/v1, kind: Node, metadata: {name: custom}}\n"
		"- {apiVersion: v1, kind: Node, metadata: {name: real}}\n";
	inf_cluster_counts counts = {0};
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer_counted("mixed.yaml", text, strlen(text),
					     c.model, &counts, &err);
	cr_assert_eq(rc, 0, "failed with %d: %s", rc, err.message);
	assert_value((int64_t)counts.skipped, 3, "skipped");
	assert_value((int64_t)counts.nodes, 1, "nodes");
	cr_assert_null(score_model_node(c.model, "custom"),
		       "a Node of another API group is not a cluster node");
	cluster_release(&c);
}

Test(cluster_file, services_loaded)
{
	const char *text =
		"apiVersion: v1\nkind: List\nitems:\n"
		"- apiVersion: v1\n"
		"  kind: Service\n"
		"  metadata: {name: web, namespace: shop}\n"
		"  spec:\n"
		"    type: LoadBalancer\n"
		"    selector: {app: web}\n"
		"    ports: [{port: 443, nodePort: 31443}]\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: db, namespace: data}}\n";
	const char *list = "{\"kind\": \"ServiceList\", \"items\": ["
			   "{\"metadata\": {\"name\": \"api\", \"namespace\": \"shop\"}}]}";
	const char *bad = "kind: Service\nmetadata: {name: s}\nspec: {type: Ingress}\n";
	inf_cluster_counts counts = {0};
	const GPtrArray *shop;
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer_counted("services.yaml", text, strlen(text),
					     c.model, &counts, &err);
	cr_assert_eq(rc, 0, "failed with %d: %s", rc, err.message);
	assert_value((int64_t)counts.services, 2, "services");
	assert_value((int64_t)counts.skipped, 0, "skipped");
	rc = inf_load_cluster_buffer_counted("services.json", list, strlen(list),
					     c.model, &counts, &err);
	cr_assert_eq(rc, 0, "ServiceList failed with %d: %s", rc, err.message);
	shop = score_model_namespace_services(c.model, "shop");
	cr_assert_not_null(shop, "shop has Services");
	assert_value(shop->len, 2, "Services in shop");

	rc = inf_load_cluster_buffer("bad.yaml", bad, strlen(bad), c.model, &err);
	cr_assert_eq(rc, -EINVAL, "an invalid Service fails the file, got %d", rc);
	cr_assert_str_eq(err.message,
			 "bad.yaml: Service default/s: spec.type: invalid type \"Ingress\": expected ClusterIP, NodePort, LoadBalancer or ExternalName",
			 "got %s", err.message);
	cluster_release(&c);
}

Test(cluster_file, error_names_file_and_item)
{
	char *path = fixture_path("bad-quantity.yaml");
	char *expected = g_strdup_printf(
		"%s:26: items[3] (Pod default/web-1): spec.containers[0].resources.requests.cpu: ",
		path);
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_file(path, c.model, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d (%s)", rc, err.message);
	cr_assert(g_str_has_prefix(err.message, expected),
		  "expected message starting with\n  %s\ngot\n  %s", expected,
		  err.message);
	cr_assert_not_null(strstr(err.message, "\"x\""),
			   "message must quote the value: %s", err.message);
	/* The valid node and pod before the bad item are not loaded either. */
	assert_value((int64_t)score_model_node_count(c.model), 0, "nodes");
	assert_value((int64_t)score_model_pod_count(c.model), 0, "pods");
	cluster_release(&c);
	g_free(expected);
	g_free(path);
}

typedef struct load_error_case {
	const char *text;
	const char *message_start;
} load_error_case;

static const load_error_case load_error_cases[] = {
	{"", "f.yaml: the file is empty"},
	{" \n\t\n", "f.yaml: the file is empty"},
	{"# comment only\n", "f.yaml: the YAML input is empty"},
	{"---\n...\n---\n# nothing\n",
	 "f.yaml: every YAML document in the file is empty"},
	{"- a\n- b\n", "f.yaml: expected a Kubernetes object"},
	{"kind: List\nitems: {a: 1}\n",
	 "f.yaml: items: expected an array of objects, got an object"},
	{"kind: List\nitems:\n- 42\n", "f.yaml:3: items[0]: expected an object"},
	{"kind: List\nitems:\n- {kind: Node, metadata: {}}\n",
	 "f.yaml:3: items[0] (Node): metadata.name: missing"},
	{"kind: NodeList\nitems:\n- {metadata: {name: n1}}\n- {metadata: {name: n2}, spec: {taints: [{key: k}]}}\n",
	 "f.yaml:4: items[1] (Node n2): spec.taints[0].effect: missing"},
	{"kind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: {}}\n",
	 "f.yaml: Pod shop/p: spec.containers: expected an array"},
	{"kind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n  metadata: {name: b}\n",
	 "f.yaml: line 5, column 3: duplicate key \"metadata\""},
	{"{\"kind\": \"List\",\n \"items\": [}\n", "f.yaml: line 2, column 12: invalid JSON"},
	{"{\"kind\": \"Node\", \"metadata\": {\"name\": \"n\"}} x\n",
	 "f.yaml: line 1, column 45: unexpected data after the JSON object; JSON text contains one object or List"},
	{"{\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"}}\n---\n{\"kind\": \"Node\", \"metadata\": {\"name\": \"b\"}}\n",
	 "f.yaml: line 2, column 1: unexpected data after the JSON object; the file looks like several JSON documents: put the objects into the items of one List, or write them as YAML"},
	{"kind: NodeList\nitems:\n- {metadata: {name: n1}}\n- {metadata: {name: n2}}\n- {metadata: {name: n1}}\n",
	 "f.yaml:5: items[2]: Node n1 is in the file twice, first at line 3 (items[0]); remove one of them"},
	{"kind: List\nitems:\n- {kind: Pod, metadata: {name: p, namespace: shop}, spec: {containers: []}}\n"
	 "- {kind: Pod, metadata: {name: p, namespace: other}, spec: {containers: []}}\n"
	 "- {kind: Pod, metadata: {name: p, namespace: shop}, spec: {containers: []}}\n",
	 "f.yaml:5: items[2]: Pod shop/p is in the file twice, first at line 3 (items[0]); remove one of them"},
	/* JSON text has no line numbers. */
	{"{\"kind\": \"NodeList\", \"items\": [{\"metadata\": {\"name\": \"n1\"}},"
	 " {\"metadata\": {\"name\": \"n1\"}}]}",
	 "f.yaml: items[1]: Node n1 is in the file twice, first at items[0]; remove one of them"},
	{"kind: Node\nmetadata: {name: n1}\n---\nkind: NodeList\nitems:\n- metadata: {name: n2}\n- metadata: {name: n1}\n",
	 "f.yaml:7: document 2, items[1]: Node n1 is in the file twice, first at line 1 (document 1); remove one of them"},
	{"---\nkind: List\nitems:\n- {kind: Namespace, metadata: {name: shop}}\n---\n"
	 "kind: Namespace\nmetadata: {name: shop}\n",
	 "f.yaml:5: document 2: Namespace shop is in the file twice, first at line 4 (document 1, items[0]); remove one of them"},
	{"kind: Node\nmetadata: {name: n1}\n---\nkind: Pod\nmetadata: {name: p}\nspec: {containers: {}}\n",
	 "f.yaml:3: document 2 (Pod default/p): spec.containers: expected an array"},
	{"kind: Node\nmetadata: {name: n1}\n---\n---\nkind: PodList\nitems:\n- metadata: {name: a}\n"
	 "- metadata: {name: b}\n  spec: {containers: [{name: c, resources: {requests: {cpu: x}}}]}\n",
	 "f.yaml:8: document 3, items[1] (Pod default/b): spec.containers[0].resources.requests.cpu: invalid quantity \"x\""},
	{"kind: Node\nmetadata: {name: n1}\n---\nkind: Node\nmetadata: [\n",
	 "f.yaml: line 6, column 1: "},
	{"kind: Node\nmetadata: &m {name: n1}\n---\nkind: Node\nmetadata: *m\n",
	 "f.yaml: line 5, column 11: alias *m refers to no complete anchor &m before it"},
	{"kind: Node\nmetadata: {name: n1}\n---\n- a\n",
	 "f.yaml:3: document 2: expected a Kubernetes object"},
};

Test(cluster_file, load_errors)
{
	for (size_t i = 0; i < G_N_ELEMENTS(load_error_cases); i++) {
		const load_error_case *e = &load_error_cases[i];
		score_error err = {0};
		cluster c;
		int rc;

		cluster_init(&c);
		rc = inf_load_cluster_buffer("f.yaml", e->text, strlen(e->text),
					     c.model, &err);
		cr_assert_eq(rc, -EINVAL, "case %zu (%s): expected -EINVAL, got %d",
			     i, e->text, rc);
		cr_assert(g_str_has_prefix(err.message, e->message_start),
			  "case %zu (%s): expected message starting with\n  %s\ngot\n  %s",
			  i, e->text, e->message_start, err.message);
		assert_value((int64_t)score_model_node_count(c.model), 0,
			     "nodes after a failed load");
		cluster_release(&c);
	}
}

Test(cluster_file, missing_file)
{
	const char *path = "tests/fixtures/cluster/no-such-file.yaml";
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_file(path, c.model, &err);
	cr_assert_eq(rc, -ENOENT, "expected -ENOENT, got %d", rc);
	cr_assert(g_str_has_prefix(err.message, path),
		  "message must start with the path: %s", err.message);
	cr_assert_not_null(strstr(err.message, g_strerror(ENOENT)),
			   "message must carry the errno text: %s", err.message);
	cluster_release(&c);
}

Test(cluster_file, directory_is_not_a_file)
{
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_file(fixtures_dir(), c.model, &err);
	cr_assert_lt(rc, 0, "expected an error for a directory, got %d", rc);
	cr_assert(g_str_has_prefix(err.message, fixtures_dir()),
		  "message must start with the path: %s", err.message);
	cluster_release(&c);
}

/* ---- Demo cluster -------------------------------------------------------- */

static int64_t free_cpu(const cluster *c, const char *name)
{
	const score_node *node = must_node(c, name);

	return node->allocatable.v[SCORE_RES_CPU] - node->requested.v[SCORE_RES_CPU];
}

Test(demo, loads_nodes_and_pods)
{
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_demo_cluster(c.model, &err);
	cr_assert_eq(rc, 0, "demo failed with %d: %s", rc, err.message);
	assert_value((int64_t)score_model_node_count(c.model), 6, "demo nodes");
	assert_value((int64_t)score_model_pod_count(c.model), 16, "demo pods");

	/* Loading again replaces every object by name and uid. */
	rc = inf_load_demo_cluster(c.model, &err);
	cr_assert_eq(rc, 0, "second demo load failed with %d: %s", rc, err.message);
	assert_value((int64_t)score_model_node_count(c.model), 6, "demo nodes");
	assert_value((int64_t)score_model_pod_count(c.model), 16, "demo pods");
	assert_value(must_node(&c, "demo-node-a")->requested.v[SCORE_RES_PODS], 3,
		     "demo-node-a counted pods after reload");
	cluster_release(&c);
}

Test(demo, three_cpu_pod_outcomes)
{
	score_error err = {0};
	const score_node *node;
	cluster c;
	int gpu;
	int rc;

	cluster_init(&c);
	rc = inf_load_demo_cluster(c.model, &err);
	cr_assert_eq(rc, 0, "demo failed with %d: %s", rc, err.message);

	/* demo-node-a: kube-proxy 100m, web 1000m (with sidecar), redis
	 * 500m; the Succeeded report pod does not count. */
	assert_value(must_node(&c, "demo-node-a")->requested.v[SCORE_RES_CPU], 1600,
		     "demo-node-a cpu requested");
	cr_assert_geq(free_cpu(&c, "demo-node-a"), 3000, "demo-node-a fits 3 CPUs");
	cr_assert_geq(free_cpu(&c, "demo-node-e"), 3000, "demo-node-e fits 3 CPUs");
	cr_assert_geq(free_cpu(&c, "demo-node-gpu"), 3000, "demo-node-gpu fits 3 CPUs");
	assert_value(free_cpu(&c, "demo-node-b"), 1310, "demo-node-b free cpu");

	node = must_node(&c, "demo-node-c");
	cr_assert_geq(free_cpu(&c, "demo-node-c"), 3000, "demo-node-c has room");
	cr_assert_eq(node->n_taints, 1, "demo-node-c: expected 1 taint");
	cr_assert_str_eq(node->taints[0].key, "dedicated");
	cr_assert_eq(node->taints[0].effect, SCORE_EFFECT_NO_SCHEDULE,
		     "demo-node-c taint effect: %d", node->taints[0].effect);

	node = must_node(&c, "demo-node-d");
	cr_assert(node->unschedulable, "demo-node-d is cordoned");
	cr_assert_geq(free_cpu(&c, "demo-node-d"), 3000,
		      "demo-node-d has room, so only the cordon rejects");

	node = must_node(&c, "demo-node-gpu");
	gpu = score_resource_find(c.resources, "nvidia.com/gpu");
	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "gpu slot: got %d", gpu);
	assert_value(node->allocatable.v[gpu], 4, "gpu allocatable");
	assert_value(node->requested.v[gpu], 2, "gpu requested");

	for (int i = 0; i < 6; i++) {
		static const char *const names[] = {
			"demo-node-a", "demo-node-b", "demo-node-c",
			"demo-node-d", "demo-node-e", "demo-node-gpu"};

		node = must_node(&c, names[i]);
		cr_assert(node->ready, "%s: expected ready", names[i]);
		cr_assert_not_null(score_labels_get(&node->labels,
						    "topology.kubernetes.io/zone"),
				   "%s: expected a zone label", names[i]);
	}
	cluster_release(&c);
}

Test(cluster_file, namespaces_keep_labels)
{
	const char *text =
		"apiVersion: v1\nkind: List\nitems:\n"
		"- apiVersion: v1\n"
		"  kind: Namespace\n"
		"  metadata:\n"
		"    name: shop-a\n"
		"    labels: {stowage.io/tenant: alpha}\n"
		"- {apiVersion: v1, kind: Node, metadata: {name: n1}}\n";
	const char *single = "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\","
			     " \"metadata\": {\"name\": \"tools\"}}";
	const char *broken =
		"apiVersion: v1\nkind: NamespaceList\nitems:\n"
		"- metadata: {labels: {a: b}}\n";
	inf_cluster_counts counts = {0};
	const score_labels *labels;
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer_counted("ns.yaml", text, strlen(text),
					     c.model, &counts, &err);
	cr_assert_eq(rc, 0, "failed with %d: %s", rc, err.message);
	assert_value((int64_t)counts.namespaces, 1, "namespaces");
	assert_value((int64_t)counts.skipped, 0, "skipped");
	labels = score_model_namespace_labels(c.model, "shop-a");
	cr_assert_not_null(labels, "namespace shop-a is not in the model");
	cr_assert_str_eq(score_labels_get(labels, "stowage.io/tenant"), "alpha");

	rc = inf_load_cluster_buffer("ns.json", single, strlen(single), c.model,
				     &err);
	cr_assert_eq(rc, 0, "a single Namespace failed: %s", err.message);
	assert_value((int64_t)score_model_namespace_count(c.model), 2,
		     "namespaces in the model");

	rc = inf_load_cluster_buffer("bad.yaml", broken, strlen(broken), c.model,
				     &err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(err.message,
			 "bad.yaml:4: items[0] (Namespace): metadata.name: missing; every namespace needs a name");
	cluster_release(&c);
}

Test(cluster_file, invalid_bandwidth_gives_warning)
{
	const char *text =
		"apiVersion: v1\nkind: List\nitems:\n"
		"- apiVersion: v1\n"
		"  kind: Pod\n"
		"  metadata:\n"
		"    name: web-0\n"
		"    namespace: shop\n"
		"    annotations: {kubernetes.io/ingress-bandwidth: 300Mbps,"
		" kubernetes.io/egress-bandwidth: 20M}\n"
		"  spec: {containers: [{name: c}]}\n";
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	inf_cluster_counts counts = {0};
	score_error err = {0};
	const char *warning;
	cluster c;
	int rc;

	load_text_with_warnings(&c, "pods.yaml", text, &counts, warnings);
	assert_value((int64_t)counts.pods, 1, "pods");
	assert_value((int64_t)warnings->len, 2, "warnings: the annotation and no Node objects");
	cr_assert(g_str_has_prefix(g_ptr_array_index(warnings, 1), "pods.yaml: no Node objects"),
		  "the last warning is about the missing nodes, got: %s",
		  (const char *)g_ptr_array_index(warnings, 1));
	warning = g_ptr_array_index(warnings, 0);
	cr_assert_str_eq(warning,
			 "pods.yaml:4: pod shop/web-0: annotation kubernetes.io/ingress-bandwidth: "
			 "invalid value \"300Mbps\": expected a quantity of bits per "
			 "second; use a quantity such as 300M; the annotation is ignored");

	rc = inf_load_cluster_buffer_counted("again.yaml", text, strlen(text),
					     c.model, NULL, &err);
	cr_assert_eq(rc, 0, "without a warnings array: failed with %d: %s", rc,
		     err.message);
	g_ptr_array_unref(warnings);
	cluster_release(&c);
}

Test(cluster_file, node_without_ready_condition_warns)
{
	const char *text =
		"apiVersion: v1\nkind: NodeList\nitems:\n"
		"- metadata: {name: bare}\n"
		"  status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}\n"
		"- metadata: {name: down}\n"
		"  status:\n"
		"    allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n"
		"    conditions: [{type: Ready, status: 'False'}]\n"
		"- metadata: {name: up}\n"
		"  status:\n"
		"    allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n"
		"    conditions: [{type: MemoryPressure, status: 'False'}, {type: Ready, status: 'True'}]\n";
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	cluster c;

	load_text_with_warnings(&c, "nodes.yaml", text, NULL, warnings);
	assert_value((int64_t)warnings->len, 1, "warnings (only the node without conditions)");
	cr_assert_str_eq(g_ptr_array_index(warnings, 0),
			 "nodes.yaml:4: node bare has no Ready condition in status.conditions, so it counts as not Ready and filters reject it; add {type: Ready, status: \"True\"} to status.conditions");
	cr_assert_not(score_model_node(c.model, "bare")->ready,
		      "a node without a Ready condition stays not Ready");
	cr_assert_not(score_model_node(c.model, "down")->ready, "Ready=False is not Ready");
	cr_assert(score_model_node(c.model, "up")->ready, "Ready=True is Ready");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
}

Test(cluster_file, multi_document_fixture)
{
	inf_cluster_counts counts = {0};
	const score_labels *labels;
	cluster c;

	load_fixture_counted(&c, "multi-document.yaml", &counts);
	assert_value((int64_t)counts.nodes, 3, "nodes from a NodeList and a single Node");
	assert_value((int64_t)counts.pods, 2, "pods from the PodList after an empty document");
	assert_value((int64_t)counts.namespaces, 1, "namespaces");
	assert_value((int64_t)counts.skipped, 0, "skipped objects");
	assert_value(must_node(&c, "node-a")->requested.v[SCORE_RES_CPU], 500,
		     "node-a requested CPU (web-0)");
	assert_value(must_node(&c, "node-c")->requested.v[SCORE_RES_CPU], 500,
		     "node-c requested CPU (web-1)");
	labels = score_model_namespace_labels(c.model, "shop");
	cr_assert_not_null(labels, "expected the Namespace shop in the model");
	cr_assert_str_eq(score_labels_get(labels, "stowage.io/tenant"), "alpha");
	cluster_release(&c);
}

Test(cluster_file, multi_document_json_is_one_document)
{
	/* JSON text contains one value, so a second one is an error, not a
	 * document. */
	const char *text = "{\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"}}\n"
			   "{\"kind\": \"Node\", \"metadata\": {\"name\": \"b\"}}\n";
	score_error err = {0};
	cluster c;
	int rc;

	cluster_init(&c);
	rc = inf_load_cluster_buffer("f.json", text, strlen(text), c.model, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert(g_str_has_prefix(err.message,
				   "f.json: line 2, column 1: unexpected data after the JSON object; the file looks like several JSON documents"),
		  "got: %s", err.message);
	cluster_release(&c);
}

/* A List of `pods` pods whose ingress-bandwidth annotation is invalid,
 * and `nodes` nodes without conditions. */
static char *bad_values_list(int pods, int nodes)
{
	GString *text = g_string_new("apiVersion: v1\nkind: List\nitems:\n");

	for (int i = 0; i < pods; i++)
		g_string_append_printf(text,
				       "- kind: Pod\n"
				       "  metadata:\n"
				       "    name: web-%d\n"
				       "    namespace: shop\n"
				       "    annotations: {kubernetes.io/ingress-bandwidth: 10Mbps}\n"
				       "  spec: {containers: [{name: c}]}\n",
				       i);
	for (int i = 0; i < nodes; i++)
		g_string_append_printf(text,
				       "- kind: Node\n"
				       "  metadata: {name: node-%d}\n"
				       "  status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}\n",
				       i);
	return g_string_free(text, FALSE);
}

Test(cluster_file, warnings_are_capped_per_file)
{
	char *text = bad_values_list(25, 12);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	inf_cluster_counts counts = {0};
	const char *warning;
	cluster c;

	load_text_with_warnings(&c, "big.yaml", text, &counts, warnings);
	assert_value((int64_t)counts.pods, 25, "pods (an invalid annotation is ignored)");
	assert_value((int64_t)warnings->len, 2 * INF_FILE_WARNINGS_LISTED + 2,
		     "warnings: 10 of each kind and 2 counts");

	warning = g_ptr_array_index(warnings, 0);
	cr_assert_str_eq(warning,
			 "big.yaml:4: pod shop/web-0: annotation kubernetes.io/ingress-bandwidth: "
			 "invalid value \"10Mbps\": expected a quantity of bits per "
			 "second; use a quantity such as 10M; the annotation is ignored");
	warning = g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED - 1);
	cr_assert(g_str_has_prefix(warning, "big.yaml:58: pod shop/web-9: "),
		  "the tenth pod warning, got: %s", warning);
	warning = g_ptr_array_index(warnings, INF_FILE_WARNINGS_LISTED);
	cr_assert(g_str_has_prefix(warning, "big.yaml:154: node node-0 has no Ready condition"),
		  "the first node warning follows, got: %s", warning);
	warning = g_ptr_array_index(warnings, 2 * INF_FILE_WARNINGS_LISTED);
	cr_assert_str_eq(warning,
			 "big.yaml: 15 more ignored pod values are not listed; "
			 "fix the first 10 and load the file again to see the rest");
	warning = g_ptr_array_index(warnings, 2 * INF_FILE_WARNINGS_LISTED + 1);
	cr_assert_str_eq(warning,
			 "big.yaml: 2 more nodes without a Ready condition in status.conditions are "
			 "not listed; they count as not Ready too");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
	g_free(text);
}

Test(cluster_file, warnings_at_the_cap_have_no_count)
{
	char *text = bad_values_list(INF_FILE_WARNINGS_LISTED, INF_FILE_WARNINGS_LISTED);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	cluster c;

	load_text_with_warnings(&c, "ten.yaml", text, NULL, warnings);
	assert_value((int64_t)warnings->len, 2 * INF_FILE_WARNINGS_LISTED,
		     "warnings: every one listed, no count");
	g_ptr_array_unref(warnings);
	cluster_release(&c);
	g_free(text);
}
