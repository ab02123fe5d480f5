/* YAML documents as trees with positions; see yaml.h. */
#include "policies/yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <yaml.h>

/* Mappings with more keys than this get a key index. */
#define KEY_SCAN_MAX 16

typedef struct tree_builder {
	GPtrArray *open; /* pol_yaml_node, innermost collection last */
	pol_yaml_node *root;
	int documents;
} tree_builder;

/* Fills `where` from a libyaml mark, whose line and column count from 0. */
static int fail_at(pol_position *where, const yaml_mark_t *mark,
		   score_error *err, const char *format, ...)
	G_GNUC_PRINTF(4, 5);

static int fail_at(pol_position *where, const yaml_mark_t *mark,
		   score_error *err, const char *format, ...)
{
	char message[SCORE_ERROR_MESSAGE_MAX];
	va_list args;

	va_start(args, format);
	g_vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	where->line = mark->line + 1;
	where->column = mark->column + 1;
	return score_fail(err, -EINVAL, "%s", message);
}

static pol_position offset_position(const char *text, size_t length,
				    size_t offset)
{
	pol_position position = {1, 1};

	for (size_t i = 0; i < offset && i < length; i++) {
		if (text[i] == '\n') {
			position.line++;
			position.column = 1;
		} else {
			position.column++;
		}
	}
	return position;
}

static int parser_fail(const yaml_parser_t *parser, const char *text,
		       size_t length, pol_position *where, score_error *err)
{
	const char *problem = parser->problem ? parser->problem : "invalid YAML";

	if (parser->error == YAML_MEMORY_ERROR)
		return score_fail(err, -ENOMEM, "out of memory while parsing YAML");
	if (parser->error == YAML_READER_ERROR) {
		*where = offset_position(text, length, parser->problem_offset);
		return score_fail(err, -EINVAL,
				  "%s; a policy file must be UTF-8 or UTF-16 text",
				  problem);
	}
	if (parser->context != NULL)
		return fail_at(where, &parser->problem_mark, err,
			       "invalid YAML: %s (%s at line %zu, column %zu)",
			       problem, parser->context,
			       parser->context_mark.line + 1,
			       parser->context_mark.column + 1);
	return fail_at(where, &parser->problem_mark, err, "invalid YAML: %s",
		       problem);
}

/* ---- Scalars ------------------------------------------------------------- */

static bool is_one_of(const char *text, const char *const *words)
{
	for (; *words != NULL; words++) {
		if (strcmp(text, *words) == 0)
			return true;
	}
	return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const special_float_words[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
	"-.INF", ".nan", ".NaN", ".NAN", NULL};

static bool all_of(const char *text, const char *set)
{
	return text[0] != '\0' && text[strspn(text, set)] == '\0';
}

/* YAML 1.2 core schema: [-+]?[0-9]+, 0o[0-7]+ or 0x[0-9a-fA-F]+. Stores
 * the base and where the digits start. */
static bool is_core_int(const char *text, int *base, const char **digits)
{
	if (g_str_has_prefix(text, "0o") && all_of(text + 2, "01234567")) {
		*base = 8;
		*digits = text + 2;
		return true;
	}
	if (g_str_has_prefix(text, "0x") &&
	    all_of(text + 2, "0123456789abcdefABCDEF")) {
		*base = 16;
		*digits = text + 2;
		return true;
	}
	*base = 10;
	*digits = text;
	if (*text == '-' || *text == '+')
		text++;
	return all_of(text, "0123456789");
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *text)
{
	static const char digits[] = "0123456789";
	size_t count;

	if (*text == '-' || *text == '+')
		text++;
	if (*text == '.') {
		count = strspn(text + 1, digits);
		if (count == 0)
			return false;
		text += 1 + count;
	} else {
		count = strspn(text, digits);
		if (count == 0)
			return false;
		text += count;
		if (*text == '.')
			text += 1 + strspn(text + 1, digits);
	}
	if (*text == 'e' || *text == 'E') {
		text++;
		if (*text == '-' || *text == '+')
			text++;
		count = strspn(text, digits);
		if (count == 0)
			return false;
		text += count;
	}
	return *text == '\0';
}

static void type_plain_scalar(pol_yaml_node *node)
{
	const char *digits;
	int base;

	if (is_one_of(node->text, null_words)) {
		node->type = POL_SCALAR_NULL;
	} else if (is_one_of(node->text, true_words)) {
		node->type = POL_SCALAR_BOOL;
		node->bool_value = true;
	} else if (is_one_of(node->text, false_words)) {
		node->type = POL_SCALAR_BOOL;
	} else if (is_core_int(node->text, &base, &digits)) {
		node->type = POL_SCALAR_INT;
		errno = 0;
		node->int_value = g_ascii_strtoll(digits, NULL, base);
		node->int_overflow = errno == ERANGE;
	} else if (is_core_float(node->text) ||
		   is_one_of(node->text, special_float_words)) {
		node->type = POL_SCALAR_FLOAT;
	} else {
		node->type = POL_SCALAR_STRING;
	}
}

static int type_scalar(pol_yaml_node *node, const yaml_event_t *event,
		       pol_position *where, score_error *err)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *tag = (const char *)event->data.scalar.tag;
	const char *name;

	node->literal = event->data.scalar.style == YAML_LITERAL_SCALAR_STYLE;
	if (tag == NULL) {
		if (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			type_plain_scalar(node);
		else
			node->type = POL_SCALAR_STRING;
		return 0;
	}
	if (strcmp(tag, "!") == 0) {
		node->type = POL_SCALAR_STRING;
		return 0;
	}
	if (!g_str_has_prefix(tag, prefix))
		return fail_at(where, &event->start_mark, err,
			       "unsupported tag %s: a policy file uses only the standard tags !!str, !!int, !!float, !!bool and !!null",
			       tag);

	name = tag + strlen(prefix);
	if (strcmp(name, "str") == 0) {
		node->type = POL_SCALAR_STRING;
		return 0;
	}
	type_plain_scalar(node);
	if ((strcmp(name, "int") == 0 && node->type == POL_SCALAR_INT) ||
	    (strcmp(name, "float") == 0 && (node->type == POL_SCALAR_FLOAT ||
					    node->type == POL_SCALAR_INT)) ||
	    (strcmp(name, "bool") == 0 && node->type == POL_SCALAR_BOOL) ||
	    (strcmp(name, "null") == 0 && node->type == POL_SCALAR_NULL)) {
		if (strcmp(name, "float") == 0)
			node->type = POL_SCALAR_FLOAT;
		return 0;
	}
	return fail_at(where, &event->start_mark, err,
		       "invalid !!%s value \"%s\"", name, node->text);
}

/* ---- Tree ---------------------------------------------------------------- */

static void pair_free(gpointer data)
{
	pol_yaml_pair *pair = data;

	pol_yaml_free(pair->key);
	pol_yaml_free(pair->value);
	g_free(pair);
}

void pol_yaml_free(pol_yaml_node *node)
{
	if (node == NULL)
		return;
	g_free(node->text);
	if (node->key_index != NULL)
		g_hash_table_destroy(node->key_index);
	if (node->items != NULL)
		g_ptr_array_unref(node->items);
	g_free(node);
}

static pol_yaml_node *node_new(pol_yaml_kind kind, const yaml_mark_t *mark)
{
	pol_yaml_node *node = g_new0(pol_yaml_node, 1);

	node->kind = kind;
	node->position.line = mark->line + 1;
	node->position.column = mark->column + 1;
	node->offset = mark->index;
	if (kind == POL_YAML_MAPPING)
		node->items = g_ptr_array_new_with_free_func(pair_free);
	else if (kind == POL_YAML_SEQUENCE)
		node->items = g_ptr_array_new_with_free_func(
			(GDestroyNotify)pol_yaml_free);
	return node;
}

static pol_yaml_node *builder_top(const tree_builder *builder)
{
	if (builder->open->len == 0)
		return NULL;
	return g_ptr_array_index(builder->open, builder->open->len - 1);
}

/* True when the next node is a key of the innermost mapping. */
static bool builder_wants_key(const tree_builder *builder)
{
	const pol_yaml_node *top = builder_top(builder);
	const pol_yaml_pair *last;

	if (top == NULL || top->kind != POL_YAML_MAPPING)
		return false;
	if (top->items->len == 0)
		return true;
	last = g_ptr_array_index(top->items, top->items->len - 1);
	return last->value != NULL;
}

static int add_key(pol_yaml_node *mapping, pol_yaml_node *key,
		   pol_position *where, score_error *err)
{
	const pol_yaml_pair *earlier = pol_yaml_get_pair(mapping, key->text);
	pol_yaml_pair *pair;

	if (earlier != NULL) {
		*where = key->position;
		score_fail(err, -EINVAL,
			   "duplicate key \"%s\": it first appears at line %zu, column %zu, and keys of a mapping must be unique",
			   key->text, earlier->key->position.line,
			   earlier->key->position.column);
		pol_yaml_free(key);
		return -EINVAL;
	}
	pair = g_new0(pol_yaml_pair, 1);
	pair->key = key;
	g_ptr_array_add(mapping->items, pair);

	if (mapping->key_index == NULL && mapping->items->len > KEY_SCAN_MAX) {
		mapping->key_index = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < mapping->items->len; i++) {
			pol_yaml_pair *item = g_ptr_array_index(mapping->items, i);

			g_hash_table_insert(mapping->key_index, item->key->text,
					    item);
		}
	} else if (mapping->key_index != NULL) {
		g_hash_table_insert(mapping->key_index, key->text, pair);
	}
	return 0;
}

/* Attaches `node` as the root, a sequence element, a mapping key or a
 * mapping value. Takes ownership of `node`, even on failure. */
static int builder_attach(tree_builder *builder, pol_yaml_node *node,
			  pol_position *where, score_error *err)
{
	pol_yaml_node *top = builder_top(builder);
	pol_yaml_pair *last;

	if (top == NULL) {
		pol_yaml_free(builder->root);
		builder->root = node;
		return 0;
	}
	if (top->kind == POL_YAML_SEQUENCE) {
		g_ptr_array_add(top->items, node);
		return 0;
	}
	if (builder_wants_key(builder)) {
		if (node->kind != POL_YAML_SCALAR) {
			*where = node->position;
			pol_yaml_free(node);
			return score_fail(err, -EINVAL,
					  "a mapping key must be a scalar, not a mapping or a sequence");
		}
		return add_key(top, node, where, err);
	}
	last = g_ptr_array_index(top->items, top->items->len - 1);
	last->value = node;
	return 0;
}

static int build_scalar(tree_builder *builder, const yaml_event_t *event,
			pol_position *where, score_error *err)
{
	pol_yaml_node *node;
	int rc;

	if (memchr(event->data.scalar.value, '\0', event->data.scalar.length))
		return fail_at(where, &event->start_mark, err,
			       "the value contains a NUL character, which no policy field accepts");

	node = node_new(POL_YAML_SCALAR, &event->start_mark);
	node->text = g_strndup((const char *)event->data.scalar.value,
			       event->data.scalar.length);
	rc = type_scalar(node, event, where, err);
	if (rc < 0) {
		pol_yaml_free(node);
		return rc;
	}
	return builder_attach(builder, node, where, err);
}

static int open_collection(tree_builder *builder, const yaml_event_t *event,
			   pol_yaml_kind kind, pol_position *where,
			   score_error *err)
{
	pol_yaml_node *node;
	int rc;

	if (builder->open->len >= POL_YAML_MAX_DEPTH)
		return fail_at(where, &event->start_mark, err,
			       "the document nests deeper than %d levels, far deeper than any policy field",
			       POL_YAML_MAX_DEPTH);

	node = node_new(kind, &event->start_mark);
	rc = builder_attach(builder, node, where, err);
	if (rc < 0)
		return rc;
	g_ptr_array_add(builder->open, node);
	return 0;
}

static int build_event(tree_builder *builder, const yaml_event_t *event,
		       pol_position *where, score_error *err)
{
	switch (event->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (builder->documents++ > 0)
			return fail_at(where, &event->start_mark, err,
				       "a second YAML document starts here, but a policy file holds exactly one");
		return 0;
	case YAML_SCALAR_EVENT:
		return build_scalar(builder, event, where, err);
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(builder, event, POL_YAML_SEQUENCE, where,
				       err);
	case YAML_MAPPING_START_EVENT:
		return open_collection(builder, event, POL_YAML_MAPPING, where,
				       err);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		g_ptr_array_set_size(builder->open, builder->open->len - 1);
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(where, &event->start_mark, err,
			       "aliases (*%s) are not supported in a policy file: write the value out",
			       (const char *)event->data.alias.anchor);
	default:
		return 0;
	}
}

int pol_yaml_parse(const char *text, size_t length, pol_yaml_node **out,
		   pol_position *where, score_error *err)
{
	tree_builder builder = {0};
	yaml_parser_t parser;
	yaml_event_t event;
	bool done = false;
	int rc = 0;

	*out = NULL;
	where->line = 0;
	where->column = 0;
	if (!yaml_parser_initialize(&parser))
		return score_fail(err, -ENOMEM,
				  "out of memory while starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     length);
	/* Borrowed pointers: the nodes belong to the tree under root. */
	builder.open = g_ptr_array_new();

	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			rc = parser_fail(&parser, text, length, where, err);
			goto out;
		}
		done = event.type == YAML_STREAM_END_EVENT;
		rc = build_event(&builder, &event, where, err);
		yaml_event_delete(&event);
		if (rc < 0)
			goto out;
	}

	/* A document holding only a comment or "~" is as empty as none. */
	if (builder.root != NULL && builder.root->kind == POL_YAML_SCALAR &&
	    builder.root->type == POL_SCALAR_NULL) {
		pol_yaml_free(builder.root);
		builder.root = NULL;
	}
	*out = builder.root;
	builder.root = NULL;
out:
	pol_yaml_free(builder.root);
	g_ptr_array_unref(builder.open);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- Lookups ------------------------------------------------------------- */

const pol_yaml_pair *pol_yaml_get_pair(const pol_yaml_node *mapping,
				       const char *key)
{
	if (mapping == NULL || mapping->kind != POL_YAML_MAPPING)
		return NULL;
	if (mapping->key_index != NULL)
		return g_hash_table_lookup(mapping->key_index, key);
	for (guint i = 0; i < mapping->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(mapping->items, i);

		if (strcmp(pair->key->text, key) == 0)
			return pair;
	}
	return NULL;
}

const pol_yaml_node *pol_yaml_get(const pol_yaml_node *mapping,
				  const char *key)
{
	const pol_yaml_pair *pair = pol_yaml_get_pair(mapping, key);

	return pair != NULL ? pair->value : NULL;
}

const char *pol_yaml_describe(const pol_yaml_node *node)
{
	if (node->kind == POL_YAML_MAPPING)
		return "a mapping";
	if (node->kind == POL_YAML_SEQUENCE)
		return "a sequence";
	switch (node->type) {
	case POL_SCALAR_NULL:
		return "null";
	case POL_SCALAR_BOOL:
		return "a boolean";
	case POL_SCALAR_INT:
		return "an integer";
	case POL_SCALAR_FLOAT:
		return "a number with a fraction";
	case POL_SCALAR_STRING:
		break;
	}
	return "a string";
}
