/* Cluster snapshots from YAML or JSON files; see cluster_file.h.
 *
 * A file is read whole. JSON text is parsed into one cJSON tree; YAML is
 * converted through libyaml's event API one document at a time. Every
 * object in the file is decoded with inf_decode_node(), inf_decode_pod()
 * and the other decoders before any of them enters the model, so a file
 * with one bad item changes nothing.
 */
#include "informer/cluster_file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "informer/decode.h"
#include "informer/network_policy.h"

/* ---- YAML to cJSON ------------------------------------------------------- */

/* The nesting limit cJSON applies to JSON text (CJSON_NESTING_LIMIT), so a
 * tree from YAML is no deeper than one cJSON would parse, and the recursive
 * cJSON_Delete() and cJSON_Duplicate() stay within the stack. */
#define YAML_MAX_DEPTH 1000

/* At most this many nodes may be created by expanding aliases, which stops
 * a few nested aliases from building a tree of billions of nodes. Files
 * written by kubectl contain no aliases at all. */
#define YAML_MAX_ALIAS_NODES 1000000

/* A mapping with more keys than this gets a hash set for the duplicate-key
 * check, so that a huge mapping is not scanned once per key. */
#define YAML_KEY_SCAN_MAX 16

/* JSON numbers are doubles, which hold every integer up to 2^53 exactly. */
#define JSON_MAX_EXACT_INTEGER 9007199254740992LL

typedef struct yaml_frame {
	cJSON *node;       /* object or array, already attached to its parent */
	char *key;         /* in a mapping: the key whose value comes next */
	char *anchor;      /* anchor of this collection, registered at its end */
	size_t first_node; /* converter node count when the collection began */
	size_t n_keys;     /* keys seen in a mapping */
	GHashTable *keys;  /* key set of a long mapping; borrows cJSON's keys */
	bool items;        /* the "items" sequence of the root mapping */
} yaml_frame;

typedef struct yaml_anchor {
	const cJSON *node; /* borrowed from the tree being built */
	size_t nodes;      /* number of cJSON nodes in the subtree */
} yaml_anchor;

typedef struct yaml_converter {
	GArray *stack;       /* yaml_frame, innermost collection last */
	GHashTable *anchors; /* anchor name -> yaml_anchor, both owned */
	cJSON *root;
	size_t nodes;       /* cJSON nodes created, alias copies included */
	size_t alias_nodes; /* cJSON nodes created by alias copies */
	int documents;

	/* Set by inf_yaml_for_each_document(), which passes each document to
	 * `fn` at its end; otherwise a second document is an error. */
	inf_yaml_document_fn fn;
	void *fn_data;
	bool explicit_start; /* the current document began with "---" */
	bool empty_root;     /* its root is the empty scalar of an empty document */
	size_t start_line;   /* of the current document, from 1 */
	GArray *item_lines;  /* size_t, one per element of the items sequence */
} yaml_converter;

/* Fills `err` with -EINVAL and the message formatted from `format` and
 * `args`, and returns -EINVAL. The variadic *_fail() functions below call
 * it and then prefix where the failure happened. */
static int fail_with_args(score_error *err, const char *format, va_list args)
	G_GNUC_PRINTF(2, 0);

static int fail_with_args(score_error *err, const char *format, va_list args)
{
	char message[SCORE_ERROR_MESSAGE_MAX];

	g_vsnprintf(message, sizeof(message), format, args);
	return score_fail(err, -EINVAL, "%s", message);
}

/* Fails with -EINVAL and "line L, column C: message" for a libyaml mark,
 * whose line and column count from 0. */
static int mark_fail(score_error *err, const yaml_mark_t *mark,
		     const char *format, ...) G_GNUC_PRINTF(3, 4);

static int mark_fail(score_error *err, const yaml_mark_t *mark,
		     const char *format, ...)
{
	va_list args;

	va_start(args, format);
	fail_with_args(err, format, args);
	va_end(args);
	score_error_prefix(err, "line %zu, column %zu", mark->line + 1, mark->column + 1);
	return -EINVAL;
}

static int parser_fail(const yaml_parser_t *parser, score_error *err)
{
	const char *problem = parser->problem ? parser->problem : "invalid YAML";
	const yaml_mark_t *mark = &parser->problem_mark;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return score_fail(err, -ENOMEM,
				  "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		/* Encoding errors have a byte offset but no line. */
		return score_fail(err, -EINVAL,
				  "byte offset %zu: %s; the YAML input must be UTF-8 or UTF-16",
				  parser->problem_offset, problem);
	default:
		break;
	}

	if (parser->context != NULL)
		return mark_fail(err, mark, "%s (%s at line %zu, column %zu)",
				 problem, parser->context,
				 parser->context_mark.line + 1,
				 parser->context_mark.column + 1);
	return mark_fail(err, mark, "%s", problem);
}

static void converter_init(yaml_converter *conv)
{
	memset(conv, 0, sizeof(*conv));
	conv->stack = g_array_new(FALSE, TRUE, sizeof(yaml_frame));
	conv->anchors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	conv->item_lines = g_array_new(FALSE, FALSE, sizeof(size_t));
}

static void converter_release(yaml_converter *conv)
{
	for (guint i = 0; i < conv->stack->len; i++) {
		yaml_frame *frame = &g_array_index(conv->stack, yaml_frame, i);

		g_free(frame->key);
		g_free(frame->anchor);
		if (frame->keys != NULL)
			g_hash_table_destroy(frame->keys);
	}
	g_array_free(conv->stack, TRUE);
	g_hash_table_destroy(conv->anchors);
	g_array_free(conv->item_lines, TRUE);
	cJSON_Delete(conv->root);
}

static yaml_frame *converter_top(yaml_converter *conv)
{
	if (conv->stack->len == 0)
		return NULL;
	return &g_array_index(conv->stack, yaml_frame, conv->stack->len - 1);
}

/* True when the next node is a key of the innermost mapping. */
static bool converter_wants_key(yaml_converter *conv)
{
	yaml_frame *top = converter_top(conv);

	return top != NULL && cJSON_IsObject(top->node) && top->key == NULL;
}

/* Records the line where the node at `mark` starts when it is an element
 * of the root mapping's "items" sequence. Called before the node is
 * attached. */
static void converter_note_line(yaml_converter *conv, const yaml_mark_t *mark)
{
	yaml_frame *top = converter_top(conv);
	size_t line = mark->line + 1;

	if (top != NULL && top->items)
		g_array_append_val(conv->item_lines, line);
}

static void converter_add_anchor(yaml_converter *conv, const char *name,
				 const cJSON *node, size_t nodes)
{
	yaml_anchor *anchor = g_new(yaml_anchor, 1);

	/* YAML lets a later anchor of the same name replace an earlier one. */
	anchor->node = node;
	anchor->nodes = nodes;
	g_hash_table_replace(conv->anchors, g_strdup(name), anchor);
}

/* Attaches `item` as the root, the next array element or the value of the
 * pending key. Takes ownership of `item`, even on failure. */
static int converter_attach(yaml_converter *conv, cJSON *item,
			    score_error *err)
{
	yaml_frame *top = converter_top(conv);
	cJSON_bool added;

	if (top == NULL) {
		conv->root = item;
		return 0;
	}

	if (cJSON_IsArray(top->node)) {
		added = cJSON_AddItemToArray(top->node, item);
	} else {
		added = cJSON_AddItemToObject(top->node, top->key, item);
		g_free(top->key);
		top->key = NULL;
		if (added && top->keys != NULL)
			g_hash_table_add(top->keys, item->string);
	}
	if (!added) {
		cJSON_Delete(item);
		return score_fail(err, -ENOMEM,
				  "out of memory while building the JSON tree");
	}
	return 0;
}

static bool is_decimal_integer(const char *text)
{
	size_t digits;

	if (*text == '-' || *text == '+')
		text++;
	digits = strspn(text, "0123456789");
	return digits > 0 && text[digits] == '\0';
}

static bool has_prefix_and_digits(const char *text, const char *prefix,
				  const char *digits)
{
	size_t length = strlen(prefix);
	size_t count;

	if (strncmp(text, prefix, length) != 0)
		return false;
	count = strspn(text + length, digits);
	return count > 0 && text[length + count] == '\0';
}

/* YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *text)
{
	const char *digits = "0123456789";
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

static bool is_one_of(const char *text, const char *const *words)
{
	for (; *words != NULL; words++) {
		if (strcmp(text, *words) == 0)
			return true;
	}
	return false;
}

static const char *const core_null_words[] = {"", "~", "null", "Null",
					       "NULL", NULL};
static const char *const core_true_words[] = {"true", "True", "TRUE", NULL};
static const char *const core_false_words[] = {"false", "False", "FALSE",
						NULL};
static const char *const core_special_float_words[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
	"-.INF", ".nan", ".NaN", ".NAN", NULL};

static int integer_to_json(const char *text, int base, const char *digits,
			   const yaml_mark_t *mark, cJSON **out,
			   score_error *err)
{
	gint64 value;

	errno = 0;
	value = g_ascii_strtoll(digits, NULL, base);
	if (errno == ERANGE || value > JSON_MAX_EXACT_INTEGER ||
	    value < -JSON_MAX_EXACT_INTEGER)
		return mark_fail(err, mark,
				 "integer %s does not fit a JSON number exactly (magnitude above 2^53); quote it to keep it as a string",
				 text);
	*out = cJSON_CreateNumber((double)value);
	return 0;
}

/* Types a plain scalar by the YAML 1.2 core schema. */
static int plain_scalar_to_json(const char *text, const yaml_mark_t *mark,
				cJSON **out, score_error *err)
{
	double value;

	if (is_one_of(text, core_null_words)) {
		*out = cJSON_CreateNull();
	} else if (is_one_of(text, core_true_words)) {
		*out = cJSON_CreateTrue();
	} else if (is_one_of(text, core_false_words)) {
		*out = cJSON_CreateFalse();
	} else if (is_decimal_integer(text)) {
		return integer_to_json(text, 10, text, mark, out, err);
	} else if (has_prefix_and_digits(text, "0o", "01234567")) {
		return integer_to_json(text, 8, text + 2, mark, out, err);
	} else if (has_prefix_and_digits(text, "0x",
					 "0123456789abcdefABCDEF")) {
		return integer_to_json(text, 16, text + 2, mark, out, err);
	} else if (is_core_float(text)) {
		value = g_ascii_strtod(text, NULL);
		if (!isfinite(value))
			return mark_fail(err, mark,
					 "number %s is out of range for a JSON number",
					 text);
		*out = cJSON_CreateNumber(value);
	} else if (is_one_of(text, core_special_float_words)) {
		return mark_fail(err, mark,
				 "%s has no JSON equivalent; quote it to keep it as a string",
				 text);
	} else {
		*out = cJSON_CreateString(text);
	}
	return 0;
}

/* Converts a scalar with an explicit tag such as !!str or !!int. */
static int tagged_scalar_to_json(const char *tag, const char *text,
				 const yaml_mark_t *mark, cJSON **out,
				 score_error *err)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *name;
	int rc;

	if (!g_str_has_prefix(tag, prefix))
		return mark_fail(err, mark,
				 "unsupported tag %s; only the standard tags !!str, !!int, !!float, !!bool and !!null have a JSON equivalent",
				 tag);
	name = tag + strlen(prefix);

	if (strcmp(name, "str") == 0) {
		*out = cJSON_CreateString(text);
		return 0;
	}
	if (strcmp(name, "int") != 0 && strcmp(name, "float") != 0 &&
	    strcmp(name, "bool") != 0 && strcmp(name, "null") != 0)
		return mark_fail(err, mark,
				 "unsupported tag !!%s; only !!str, !!int, !!float, !!bool and !!null have a JSON equivalent",
				 name);

	rc = plain_scalar_to_json(text, mark, out, err);
	if (rc < 0)
		return rc;
	if ((strcmp(name, "null") == 0 && cJSON_IsNull(*out)) ||
	    (strcmp(name, "bool") == 0 && cJSON_IsBool(*out)) ||
	    (strcmp(name, "int") == 0 && cJSON_IsNumber(*out) &&
	     (*out)->valuedouble == floor((*out)->valuedouble)) ||
	    (strcmp(name, "float") == 0 && cJSON_IsNumber(*out)))
		return 0;

	cJSON_Delete(*out);
	*out = NULL;
	return mark_fail(err, mark, "invalid !!%s value \"%s\"", name, text);
}

/* Quoted and block scalars, and plain ones tagged "!", are strings. */
static int string_to_json(const char *text, cJSON **out)
{
	*out = cJSON_CreateString(text);
	return 0;
}

static int scalar_to_json(const yaml_event_t *event, cJSON **out,
			  score_error *err)
{
	const char *text = (const char *)event->data.scalar.value;
	const char *tag = (const char *)event->data.scalar.tag;
	const yaml_mark_t *mark = &event->start_mark;
	int rc;

	*out = NULL;
	if (tag == NULL && event->data.scalar.plain_implicit &&
	    event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		rc = plain_scalar_to_json(text, mark, out, err);
	else if (tag == NULL || strcmp(tag, "!") == 0)
		rc = string_to_json(text, out);
	else
		rc = tagged_scalar_to_json(tag, text, mark, out, err);
	if (rc < 0)
		return rc;
	if (*out == NULL)
		return score_fail(err, -ENOMEM,
				  "out of memory while building the JSON tree");
	return 0;
}

/* cJSON strings end at the first NUL, so a scalar containing one ("\0" in
 * a double-quoted scalar) cannot be kept whole. */
static int check_no_nul(const yaml_event_t *event, score_error *err)
{
	if (memchr(event->data.scalar.value, '\0',
		   event->data.scalar.length) == NULL)
		return 0;
	return mark_fail(err, &event->start_mark,
			 "the scalar contains a NUL character, which a JSON string here cannot hold");
}

static bool mapping_has_key(const yaml_frame *frame, const char *key)
{
	if (frame->keys != NULL)
		return g_hash_table_contains(frame->keys, key);
	return cJSON_GetObjectItemCaseSensitive(frame->node, key) != NULL;
}

/* Counts a new key and builds the key set once the mapping is long. The
 * new key itself joins the set when its value is attached. */
static void mapping_count_key(yaml_frame *frame)
{
	const cJSON *child;

	frame->n_keys++;
	if (frame->keys != NULL || frame->n_keys <= YAML_KEY_SCAN_MAX)
		return;
	frame->keys = g_hash_table_new(g_str_hash, g_str_equal);
	cJSON_ArrayForEach(child, frame->node)
		g_hash_table_add(frame->keys, child->string);
}

static int convert_key(yaml_converter *conv, const yaml_event_t *event,
		       score_error *err)
{
	const char *text = (const char *)event->data.scalar.value;
	yaml_frame *top = converter_top(conv);

	if (event->data.scalar.anchor != NULL)
		return mark_fail(err, &event->start_mark,
				 "anchors on mapping keys are not supported");
	if (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp(text, "<<") == 0)
		return mark_fail(err, &event->start_mark,
				 "merge keys (<<) are not supported; write the keys out in full");
	if (mapping_has_key(top, text))
		return mark_fail(err, &event->start_mark,
				 "duplicate key \"%s\" in this mapping; YAML mapping keys must be unique",
				 text);
	mapping_count_key(top);

	/* JSON object keys are strings, so a key such as 80 or true keeps its
	 * text, as sigs.k8s.io/yaml does when it converts YAML to JSON. */
	top->key = g_strdup(text);
	return 0;
}

static int convert_scalar(yaml_converter *conv, const yaml_event_t *event,
			  score_error *err)
{
	const char *anchor = (const char *)event->data.scalar.anchor;
	cJSON *item;
	int rc;

	rc = check_no_nul(event, err);
	if (rc < 0)
		return rc;
	if (converter_wants_key(conv))
		return convert_key(conv, event, err);

	rc = scalar_to_json(event, &item, err);
	if (rc < 0)
		return rc;
	conv->nodes++;
	if (anchor != NULL)
		converter_add_anchor(conv, anchor, item, 1);
	/* libyaml reports a document with no content as one empty plain
	 * scalar. */
	if (converter_top(conv) == NULL)
		conv->empty_root = event->data.scalar.length == 0 &&
				   event->data.scalar.tag == NULL &&
				   event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	converter_note_line(conv, &event->start_mark);
	return converter_attach(conv, item, err);
}

static int open_collection(yaml_converter *conv, const yaml_event_t *event,
			   bool mapping, score_error *err)
{
	const yaml_char_t *anchor = mapping ? event->data.mapping_start.anchor
					    : event->data.sequence_start.anchor;
	yaml_frame frame = {0};
	int rc;

	if (converter_wants_key(conv))
		return mark_fail(err, &event->start_mark,
				 "a mapping key must be a scalar; sequences and mappings as keys have no JSON equivalent");
	if (conv->stack->len >= YAML_MAX_DEPTH)
		return mark_fail(err, &event->start_mark,
				 "the YAML input nests deeper than %d levels",
				 YAML_MAX_DEPTH);

	frame.node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	if (frame.node == NULL)
		return score_fail(err, -ENOMEM,
				  "out of memory while building the JSON tree");
	frame.anchor = g_strdup((const char *)anchor);
	frame.first_node = conv->nodes;
	conv->nodes++;
	if (!mapping && conv->stack->len == 1) {
		const yaml_frame *root = converter_top(conv);

		frame.items = cJSON_IsObject(root->node) &&
			      strcmp(root->key, "items") == 0;
	}

	converter_note_line(conv, &event->start_mark);
	rc = converter_attach(conv, frame.node, err);
	if (rc < 0) {
		g_free(frame.anchor);
		return rc;
	}
	g_array_append_val(conv->stack, frame);
	return 0;
}

static void close_collection(yaml_converter *conv)
{
	yaml_frame *top = converter_top(conv);

	if (top->anchor != NULL)
		converter_add_anchor(conv, top->anchor, top->node,
				     conv->nodes - top->first_node);
	g_free(top->anchor);
	g_free(top->key);
	if (top->keys != NULL)
		g_hash_table_destroy(top->keys);
	g_array_set_size(conv->stack, conv->stack->len - 1);
}

static int convert_alias(yaml_converter *conv, const yaml_event_t *event,
			 score_error *err)
{
	const char *name = (const char *)event->data.alias.anchor;
	const yaml_anchor *anchor;
	cJSON *copy;

	if (converter_wants_key(conv))
		return mark_fail(err, &event->start_mark,
				 "an alias cannot be a mapping key here; write the key out");

	/* An alias inside the collection it names finds no anchor yet,
	 * because collections register at their end: JSON has no cycles. */
	anchor = g_hash_table_lookup(conv->anchors, name);
	if (anchor == NULL)
		return mark_fail(err, &event->start_mark,
				 "alias *%s refers to no complete anchor &%s before it",
				 name, name);
	if (anchor->nodes > YAML_MAX_ALIAS_NODES - conv->alias_nodes)
		return mark_fail(err, &event->start_mark,
				 "aliases expand to more than %d nodes; write the repeated parts out or use fewer aliases",
				 YAML_MAX_ALIAS_NODES);

	copy = cJSON_Duplicate(anchor->node, true);
	if (copy == NULL)
		return score_fail(err, -ENOMEM,
				  "out of memory while expanding alias *%s", name);
	conv->alias_nodes += anchor->nodes;
	conv->nodes += anchor->nodes;
	converter_note_line(conv, &event->start_mark);
	return converter_attach(conv, copy, err);
}

static void start_document(yaml_converter *conv, const yaml_event_t *event)
{
	conv->documents++;
	conv->explicit_start = !event->data.document_start.implicit;
	conv->empty_root = false;
	/* libyaml marks a document at its "---", or at its first node
	 * without one. */
	conv->start_line = event->start_mark.line + 1;
	g_array_set_size(conv->item_lines, 0);
}

/* Passes the finished document to the callback and drops it, with its
 * anchors, which point into it. */
static int finish_document(yaml_converter *conv, score_error *err)
{
	inf_yaml_document document = {
		.root = conv->root,
		.number = conv->documents,
		.explicit_start = conv->explicit_start,
		.line = conv->start_line,
		.item_lines = (const size_t *)(void *)conv->item_lines->data,
		.n_item_lines = conv->item_lines->len,
	};
	int rc = 0;

	if (conv->root != NULL && !conv->empty_root)
		rc = conv->fn(conv->fn_data, &document, err);
	g_hash_table_remove_all(conv->anchors);
	cJSON_Delete(conv->root);
	conv->root = NULL;
	return rc;
}

static int convert_event(yaml_converter *conv, const yaml_event_t *event,
			 score_error *err)
{
	switch (event->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (conv->fn == NULL && conv->documents > 0)
			return mark_fail(err, &event->start_mark,
					 "a second YAML document starts here; the input must hold one document, so put the objects into one List");
		start_document(conv, event);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return conv->fn != NULL ? finish_document(conv, err) : 0;
	case YAML_SCALAR_EVENT:
		return convert_scalar(conv, event, err);
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(conv, event, false, err);
	case YAML_MAPPING_START_EVENT:
		return open_collection(conv, event, true, err);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		close_collection(conv);
		return 0;
	case YAML_ALIAS_EVENT:
		return convert_alias(conv, event, err);
	default:
		return 0;
	}
}

/* Runs libyaml over `text` and feeds every event to `conv`. Fails like
 * inf_yaml_to_json() for a stream without documents. */
static int convert_stream(yaml_converter *conv, const char *text,
			  size_t length, score_error *err)
{
	yaml_parser_t parser;
	yaml_event_t event;
	bool done = false;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return score_fail(err, -ENOMEM,
				  "out of memory while starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     length);

	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			rc = parser_fail(&parser, err);
			goto out;
		}
		done = event.type == YAML_STREAM_END_EVENT;
		rc = convert_event(conv, &event, err);
		yaml_event_delete(&event);
		if (rc < 0)
			goto out;
	}

	if (conv->documents == 0)
		rc = score_fail(err, -EINVAL,
				"the YAML input is empty: it contains no document");
out:
	yaml_parser_delete(&parser);
	return rc;
}

int inf_yaml_to_json(const char *text, size_t length, cJSON **out,
		     score_error *err)
{
	yaml_converter conv;
	int rc;

	*out = NULL;
	converter_init(&conv);
	rc = convert_stream(&conv, text, length, err);
	if (rc == 0) {
		*out = conv.root;
		conv.root = NULL;
	}
	converter_release(&conv);
	return rc;
}

int inf_yaml_for_each_document(const char *text, size_t length,
			       inf_yaml_document_fn fn, void *data,
			       score_error *err)
{
	yaml_converter conv;
	int rc;

	converter_init(&conv);
	conv.fn = fn;
	conv.fn_data = data;
	rc = convert_stream(&conv, text, length, err);
	converter_release(&conv);
	return rc;
}

/* ---- JSON text ----------------------------------------------------------- */

static void offset_to_line(const char *text, size_t offset, size_t *line,
			   size_t *column)
{
	const char *line_start = text;

	*line = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			line_start = text + i + 1;
		}
	}
	*column = (size_t)(text + offset - line_start) + 1;
}

static int parse_json(const char *text, size_t length, cJSON **out,
		      score_error *err)
{
	const char *end = NULL;
	size_t line;
	size_t column;
	cJSON *root;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(text, length, &end, false);
	if (root == NULL) {
		size_t offset = end != NULL ? (size_t)(end - text) : 0;

		offset_to_line(text, offset, &line, &column);
		return score_fail(err, -EINVAL,
				  "line %zu, column %zu: invalid JSON", line,
				  column);
	}

	for (const char *p = end; p < text + length; p++) {
		if (!g_ascii_isspace(*p)) {
			offset_to_line(text, (size_t)(p - text), &line, &column);
			cJSON_Delete(root);
			return score_fail(err, -EINVAL,
					  "line %zu, column %zu: unexpected data after the JSON object; %s",
					  line, column,
					  inf_json_trailing_data_advice(
						  p, (size_t)(text + length - p)));
		}
	}
	*out = root;
	return 0;
}

const char *inf_json_trailing_data_advice(const char *rest, size_t length)
{
	/* "---" between JSON objects makes a YAML stream, but text that
	 * starts with "{" is read as JSON, which contains one value. */
	if ((length >= 3 && memcmp(rest, "---", 3) == 0) ||
	    (length >= 1 && rest[0] == '{'))
		return "the file looks like several JSON documents: put the objects into the items of one List, or write them as YAML";
	return "JSON text contains one object or List";
}

/* ---- Kubernetes objects -------------------------------------------------- */

typedef enum object_kind {
	OBJECT_NODE,
	OBJECT_POD,
	OBJECT_NAMESPACE,
	OBJECT_NETWORK_POLICY,
	OBJECT_SERVICE,
	OBJECT_OTHER,
	OBJECT_NO_KIND, /* no kind and none implied: skipped with a warning */
} object_kind;

/* A decoded Namespace: the model keeps only its labels. */
typedef struct decoded_namespace {
	const char *name; /* interned */
	score_labels labels;
} decoded_namespace;

/* Decoded objects, held until the whole file has decoded. */
typedef struct cluster_batch {
	GPtrArray *nodes;      /* score_node, owned */
	GPtrArray *pods;       /* score_pod, owned */
	GPtrArray *namespaces; /* decoded_namespace, owned */
	GPtrArray *network_policies; /* score_network_policy, one reference */
	GPtrArray *services;   /* score_service, owned */
	/* "Kind namespace/name" -> object_place where the object was first
	 * seen, both owned, to reject an object listed twice. */
	GHashTable *seen;
	size_t skipped;
	const char *file;        /* for warnings */
	GPtrArray *warnings;     /* borrowed, may be NULL */
	GPtrArray *pod_warnings; /* one pod's warnings before they are kept */
	/* Warnings of each kind, listed or not. */
	size_t value_warnings;   /* ignored pod values */
	size_t ready_warnings;   /* nodes without a Ready condition */
	size_t pods_warnings;    /* nodes without allocatable pods */
	size_t kind_warnings;    /* objects without a kind */
} cluster_batch;

/* Where an object sits in the file, for messages. */
typedef struct object_place {
	const char *file;
	int document;        /* from 1 */
	bool name_document;  /* messages name the document */
	size_t line;         /* from 1; 0 when unknown, as in JSON input */
	int index;           /* in the List's items, or -1 at the top level */
} object_place;

static void decoded_namespace_free(gpointer data)
{
	decoded_namespace *namespace = data;

	score_unintern(namespace->name);
	score_labels_release(&namespace->labels);
	g_free(namespace);
}

static const char *string_member(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Classifies an object by kind and apiVersion. Items of a NodeList or
 * PodList carry no kind when they come straight from an API server, so
 * `implied_kind` names the kind to assume then. It is NULL in a List and
 * at the top level, where every object must carry its kind. */
static object_kind classify_object(const cJSON *object, const char *implied_kind)
{
	const char *name = string_member(object, "kind");
	const char *api_version = string_member(object, "apiVersion");
	object_kind kind;

	if (name == NULL)
		name = implied_kind;
	if (name == NULL)
		return OBJECT_NO_KIND;

	/* Only the core group's Node, Pod, Namespace and Service and the
	 * networking.k8s.io group's NetworkPolicy are cluster objects,
	 * because a custom resource may reuse the kind name in its own
	 * group. */
	if (strcmp(name, "NetworkPolicy") == 0)
		kind = api_version == NULL ||
				strcmp(api_version, "networking.k8s.io/v1") == 0
			? OBJECT_NETWORK_POLICY
			: OBJECT_OTHER;
	else if (api_version != NULL && strcmp(api_version, "v1") != 0)
		kind = OBJECT_OTHER;
	else if (strcmp(name, "Node") == 0)
		kind = OBJECT_NODE;
	else if (strcmp(name, "Pod") == 0)
		kind = OBJECT_POD;
	else if (strcmp(name, "Namespace") == 0)
		kind = OBJECT_NAMESPACE;
	else if (strcmp(name, "Service") == 0)
		kind = OBJECT_SERVICE;
	else
		kind = OBJECT_OTHER;
	return kind;
}

/* Writes "Pod NAMESPACE/NAME" or "Node NAME" from the raw object, for error
 * messages about objects that failed to decode. */
static void describe_object(const cJSON *object, object_kind kind, char *buf,
			    size_t size)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object,
								  "metadata");
	const char *name = string_member(metadata, "name");
	const char *namespace = string_member(metadata, "namespace");

	if (kind == OBJECT_NETWORK_POLICY || kind == OBJECT_SERVICE) {
		if (namespace == NULL || namespace[0] == '\0')
			namespace = "default";
		g_snprintf(buf, size, "%s%s%s%s%s",
			   kind == OBJECT_SERVICE ? "Service" : "NetworkPolicy",
			   name ? " " : "", name ? namespace : "", name ? "/" : "",
			   name ? name : "");
		return;
	}
	if (kind == OBJECT_NODE || kind == OBJECT_NAMESPACE) {
		const char *kind_name = kind == OBJECT_NODE ? "Node" : "Namespace";

		g_snprintf(buf, size, "%s%s%s", kind_name, name ? " " : "",
			   name ? name : "");
		return;
	}
	if (namespace == NULL || namespace[0] == '\0')
		namespace = "default";
	if (name == NULL)
		g_snprintf(buf, size, "Pod");
	else
		g_snprintf(buf, size, "Pod %s/%s", namespace, name);
}

/* Writes "document 2, items[3]", the part of it that applies, or "". */
static void format_place(const object_place *place, bool name_document,
			 char *buf, size_t size)
{
	char document[32] = "";
	char item[32] = "";

	if (name_document)
		g_snprintf(document, sizeof(document), "document %d",
			   place->document);
	if (place->index >= 0)
		g_snprintf(item, sizeof(item), "items[%d]", place->index);
	g_snprintf(buf, size, "%s%s%s", document,
		   document[0] != '\0' && item[0] != '\0' ? ", " : "", item);
}

/* Prepends "FILE:LINE: PLACE (DESCRIPTION)" to the message in `err`,
 * leaving out the parts that are unknown or empty. */
static void prefix_place(score_error *err, const object_place *place,
			 const char *description)
{
	GString *prefix = g_string_new(place->file);
	char where[64];

	format_place(place, place->name_document, where, sizeof(where));
	/* The line adds nothing for the one object of a one-document file. */
	if (place->line > 0 && (place->index >= 0 || place->name_document))
		g_string_append_printf(prefix, ":%zu", place->line);
	if (where[0] != '\0' && description[0] != '\0')
		g_string_append_printf(prefix, ": %s (%s)", where, description);
	else if (where[0] != '\0' || description[0] != '\0')
		g_string_append_printf(prefix, ": %s%s", where, description);
	score_error_prefix(err, "%s", prefix->str);
	g_string_free(prefix, TRUE);
}

/* Fails with a message about the document or List at `place`. */
static int place_fail(score_error *err, const object_place *place,
		      const char *format, ...) G_GNUC_PRINTF(3, 4);

static int place_fail(score_error *err, const object_place *place,
		      const char *format, ...)
{
	va_list args;

	va_start(args, format);
	fail_with_args(err, format, args);
	va_end(args);
	prefix_place(err, place, "");
	return -EINVAL;
}

/* Fails when the batch already contains the object described as
 * `description` ("Node node-a", "Pod shop/web-1"). A file that lists an
 * object twice is usually two files joined by mistake, and loading one
 * copy silently would hide which one stowage uses. */
static int check_unique(cluster_batch *batch, const char *description,
			const object_place *place, score_error *err)
{
	const object_place *first = g_hash_table_lookup(batch->seen, description);
	object_place *copy;
	char where[64];

	if (first == NULL) {
		copy = g_new(object_place, 1);
		*copy = *place;
		g_hash_table_insert(batch->seen, g_strdup(description), copy);
		return 0;
	}

	/* A copy in another document names both documents. */
	format_place(first, first->name_document || place->name_document, where,
		     sizeof(where));
	if (first->line > 0 && where[0] != '\0')
		return score_fail(err, -EINVAL,
				  "%s is in the file twice, first at line %zu (%s); remove one of them",
				  description, first->line, where);
	if (first->line > 0)
		return score_fail(err, -EINVAL,
				  "%s is in the file twice, first at line %zu; remove one of them",
				  description, first->line);
	return score_fail(err, -EINVAL,
			  "%s is in the file twice, first at %s; remove one of them",
			  description, where[0] != '\0' ? where : "the top level");
}

/* True when the Node object lists a condition of type Ready, whatever its
 * status. */
static bool has_ready_condition(const cJSON *object)
{
	const cJSON *status = inf_json_member(object, "status");
	const cJSON *conditions = inf_json_member(status, "conditions");
	const cJSON *item;

	if (!cJSON_IsArray(conditions))
		return false;
	cJSON_ArrayForEach(item, conditions) {
		const cJSON *type = inf_json_member(item, "type");

		if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
			return true;
	}
	return false;
}

/* ---- Warnings ------------------------------------------------------------ */

/* Writes `value` with a comma between groups of three digits, as counts
 * in messages are written ("2,286"). */
static void format_count(size_t value, char *buf, size_t size)
{
	char digits[32];
	size_t n = (size_t)g_snprintf(digits, sizeof(digits), "%zu", value);
	GString *text = g_string_sized_new(n + n / 3);

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			g_string_append_c(text, ',');
		g_string_append_c(text, digits[i]);
	}
	g_strlcpy(buf, text->str, size);
	g_string_free(text, TRUE);
}

void inf_file_warning_add(GPtrArray *warnings, size_t *count, const char *file,
			  size_t line, char *message)
{
	size_t seen = (*count)++;

	if (warnings != NULL && seen < INF_FILE_WARNINGS_LISTED) {
		if (line > 0)
			g_ptr_array_add(warnings, g_strdup_printf("%s:%zu: %s", file,
								  line, message));
		else
			g_ptr_array_add(warnings, g_strdup_printf("%s: %s", file, message));
	}
	g_free(message);
}

void inf_file_warnings_add_left_out(GPtrArray *warnings, size_t count,
				    const char *file, const char *what,
				    const char *advice)
{
	char left_out[32];

	if (warnings == NULL || count <= INF_FILE_WARNINGS_LISTED)
		return;
	format_count(count - INF_FILE_WARNINGS_LISTED, left_out, sizeof(left_out));
	g_ptr_array_add(warnings, g_strdup_printf("%s: %s more %s are not listed; %s",
						  file, left_out, what, advice));
}

char *inf_missing_kind_warning(const char *where, const cJSON *object, bool in_list)
{
	const cJSON *metadata = inf_json_member(object, "metadata");
	const cJSON *name = inf_json_member(metadata, "name");
	GString *text = g_string_new(NULL);

	if (where[0] != '\0')
		g_string_append_printf(text, "%s: ", where);
	if (cJSON_IsString(name))
		g_string_append_printf(text, "the object named %s", name->valuestring);
	else
		g_string_append(text, "the object");
	g_string_append(text, " has no kind, so it is skipped; ");
	if (in_list)
		g_string_append(text, "every item of a List needs one, such as kind: Node or kind: Pod");
	else
		g_string_append(text, "give it one, such as kind: Node, or kind: List with the objects in items");
	return g_string_free(text, FALSE);
}

bool inf_node_lists_pods(const cJSON *object)
{
	const cJSON *status = inf_json_member(object, "status");
	const cJSON *list = inf_json_member(status, "allocatable");

	/* As inf_decode_node() reads it: capacity when allocatable is absent. */
	if (list == NULL || cJSON_IsNull(list))
		list = inf_json_member(status, "capacity");
	return cJSON_IsObject(list) &&
	       cJSON_GetObjectItemCaseSensitive(list, "pods") != NULL;
}

/* A hand-written Node often lacks status.conditions. The node then counts
 * as not Ready, as inf_decode_node() documents, and the filter's reason
 * ("node is not Ready") does not say why, so the load warns. */
static void warn_no_ready_condition(cluster_batch *batch, const object_place *place,
				    const score_node *node)
{
	inf_file_warning_add(batch->warnings, &batch->ready_warnings, batch->file,
			     place->line,
			     g_strdup_printf("node %s has no Ready condition in status.conditions, so it counts as not Ready and filters reject it; add {type: Ready, status: \"True\"} to status.conditions",
					     node->name));
}

/* A hand-written Node also often lacks status.allocatable.pods. Its
 * allocatable pods are then 0, and kube-scheduler's NodeResourcesFit
 * admits no pod on it. The filter's reason ("too many pods: 0 of 0
 * already") does not say why, and the model does not record that the
 * field was absent, so the load warns. */
static void warn_no_allocatable_pods(cluster_batch *batch, const object_place *place,
				     const score_node *node)
{
	inf_file_warning_add(batch->warnings, &batch->pods_warnings, batch->file,
			     place->line,
			     g_strdup_printf("node %s has no status.allocatable.pods, so it admits no pods and filters reject every pod with \"too many pods: 0 of 0 already (the node's status.allocatable.pods is 0 or missing)\"; the kubelet always reports it, so add pods: \"110\", its default, to status.allocatable",
					     node->name));
}

/* Moves the warnings of the pod just decoded to the caller's array, up to
 * INF_FILE_WARNINGS_LISTED for the file, and counts the rest. */
static void keep_pod_warnings(cluster_batch *batch, const object_place *place)
{
	for (guint i = 0; i < batch->pod_warnings->len; i++) {
		inf_file_warning_add(batch->warnings, &batch->value_warnings, batch->file,
				     place->line, batch->pod_warnings->pdata[i]);
		batch->pod_warnings->pdata[i] = NULL;
	}
	g_ptr_array_set_size(batch->pod_warnings, 0);
}

/* Closes the list of warnings with a count of those left out, and warns
 * about a file without nodes. */
static void add_closing_warnings(const cluster_batch *batch)
{
	char *listed = g_strdup_printf("fix the first %d and load the file again to see the rest",
				       INF_FILE_WARNINGS_LISTED);

	inf_file_warnings_add_left_out(batch->warnings, batch->value_warnings, batch->file,
				       "ignored pod values", listed);
	inf_file_warnings_add_left_out(batch->warnings, batch->ready_warnings, batch->file,
				       "nodes without a Ready condition in status.conditions",
				       "they count as not Ready too");
	inf_file_warnings_add_left_out(batch->warnings, batch->pods_warnings, batch->file,
				       "nodes without status.allocatable.pods",
				       "they admit no pods either");
	inf_file_warnings_add_left_out(batch->warnings, batch->kind_warnings, batch->file,
				       "objects without a kind", "they are skipped too");
	g_free(listed);

	/* Every node kube-scheduler names would then be unknown: rejected
	 * with nodeCacheCapable: true, and without its pods otherwise. */
	if (batch->warnings != NULL && batch->nodes->len == 0)
		g_ptr_array_add(batch->warnings,
				g_strdup_printf("%s: no Node objects in the file, so every node kube-scheduler sends is unknown to stowage; did you mean kubectl get nodes,pods -A -o yaml?",
						batch->file));
}

/* ---- Collecting objects -------------------------------------------------- */

static int decode_pod_into(const cJSON *object, const object_place *place,
			   score_resource_table *resources, cluster_batch *batch,
			   score_error *err)
{
	GPtrArray *warnings = batch->warnings != NULL ? batch->pod_warnings : NULL;
	score_pod *pod;
	int rc;

	rc = inf_decode_pod_with_warnings(object, resources, &pod, warnings, err);
	if (rc < 0) {
		g_ptr_array_set_size(batch->pod_warnings, 0);
		return rc;
	}
	g_ptr_array_add(batch->pods, pod);
	if (warnings != NULL)
		keep_pod_warnings(batch, place);
	return 0;
}

static int decode_node_into(const cJSON *object, const object_place *place,
			    score_resource_table *resources, cluster_batch *batch,
			    score_error *err)
{
	score_node *node;
	int rc;

	rc = inf_decode_node(object, resources, &node, err);
	if (rc < 0)
		return rc;
	if (!has_ready_condition(object))
		warn_no_ready_condition(batch, place, node);
	if (!inf_node_lists_pods(object))
		warn_no_allocatable_pods(batch, place, node);
	g_ptr_array_add(batch->nodes, node);
	return 0;
}

/* Decodes one object of a known kind into `batch`. */
static int decode_object(const cJSON *object, object_kind kind,
			 const object_place *place, score_resource_table *resources,
			 cluster_batch *batch, score_error *err)
{
	decoded_namespace *namespace;
	score_network_policy *policy;
	score_service *service;
	int rc;

	switch (kind) {
	case OBJECT_NODE:
		return decode_node_into(object, place, resources, batch, err);
	case OBJECT_NAMESPACE:
		namespace = g_new0(decoded_namespace, 1);
		rc = inf_decode_namespace(object, &namespace->name,
					  &namespace->labels, err);
		if (rc == 0)
			g_ptr_array_add(batch->namespaces, namespace);
		else
			decoded_namespace_free(namespace);
		return rc;
	case OBJECT_NETWORK_POLICY:
		rc = inf_network_policy_decode(object, &policy, err);
		if (rc == 0)
			g_ptr_array_add(batch->network_policies, policy);
		return rc;
	case OBJECT_SERVICE:
		rc = inf_decode_service(object, &service, err);
		if (rc == 0)
			g_ptr_array_add(batch->services, service);
		return rc;
	case OBJECT_POD:
		return decode_pod_into(object, place, resources, batch, err);
	default:
		return 0;
	}
}

/* Skips an object without a kind. It is likely a mistake, so the warning
 * names where it is. */
static void skip_without_kind(const cJSON *object, const object_place *place,
			      cluster_batch *batch)
{
	char where[64];

	format_place(place, place->name_document, where, sizeof(where));
	batch->skipped++;
	inf_file_warning_add(batch->warnings, &batch->kind_warnings, batch->file,
			     place->line,
			     inf_missing_kind_warning(where, object, place->index >= 0));
}

/* Decodes one object at `place` into `batch`. Errors start with the place
 * and the object. */
static int collect_object(const cJSON *object, const object_place *place,
			  const char *implied_kind,
			  score_resource_table *resources, cluster_batch *batch,
			  score_error *err)
{
	char description[320] = "";
	object_kind kind;
	int rc;

	if (!cJSON_IsObject(object)) {
		rc = score_fail(err, -EINVAL, "expected an object");
		goto out;
	}
	kind = classify_object(object, implied_kind);
	if (kind == OBJECT_NO_KIND) {
		skip_without_kind(object, place, batch);
		return 0;
	}
	if (kind == OBJECT_OTHER) {
		batch->skipped++;
		return 0;
	}

	describe_object(object, kind, description, sizeof(description));
	if (strchr(description, ' ') != NULL) {
		rc = check_unique(batch, description, place, err);
		if (rc < 0) {
			/* The message names the object already. */
			description[0] = '\0';
			goto out;
		}
	}
	rc = decode_object(object, kind, place, resources, batch, err);
	/* The NetworkPolicy decoder names the policy itself once it has
	 * read its name. */
	if (rc < 0 && kind == OBJECT_NETWORK_POLICY && err != NULL &&
	    g_str_has_prefix(err->message, "NetworkPolicy "))
		description[0] = '\0';

out:
	if (rc < 0)
		prefix_place(err, place, description);
	return rc;
}

static int collect_list(const inf_yaml_document *document,
			const object_place *place, const char *implied_kind,
			score_resource_table *resources, cluster_batch *batch,
			score_error *err)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(document->root,
							      "items");
	object_place item_place = *place;
	const cJSON *item;
	int index = 0;
	int rc;

	/* Go writes a nil items slice as null. */
	if (items == NULL || cJSON_IsNull(items))
		return 0;
	if (!cJSON_IsArray(items))
		return place_fail(err, place,
				  "items: expected an array of objects, got %s",
				  inf_json_type_name(items));

	cJSON_ArrayForEach(item, items) {
		item_place.index = index;
		if ((size_t)index < document->n_item_lines)
			item_place.line = document->item_lines[index];
		rc = collect_object(item, &item_place, implied_kind, resources,
				    batch, err);
		if (rc < 0)
			return rc;
		index++;
	}
	return 0;
}

/* Collects a document: a List, whose items without a kind take the kind
 * its own kind implies ("Node" for a NodeList, none for a List), or a
 * single object. Objects of other kinds are skipped, a List of another
 * kind ("DeploymentList") item by item. */
static int collect_objects(const inf_yaml_document *document,
			   const object_place *place,
			   score_resource_table *resources, cluster_batch *batch,
			   score_error *err)
{
	const cJSON *root = document->root;
	const char *kind;
	char *implied;
	int rc;

	if (!cJSON_IsObject(root))
		return place_fail(err, place,
				  "expected a Kubernetes object (kind List, NodeList, PodList, NamespaceList, NetworkPolicyList, ServiceList, Node, Pod, Namespace, NetworkPolicy or Service) at the top level, got %s",
				  inf_json_type_name(root));

	kind = string_member(root, "kind");
	if (kind == NULL || !g_str_has_suffix(kind, "List"))
		return collect_object(root, place, NULL, resources, batch, err);

	implied = strcmp(kind, "List") == 0 ? NULL
					    : g_strndup(kind, strlen(kind) - strlen("List"));
	rc = collect_list(document, place, implied, resources, batch, err);
	g_free(implied);
	return rc;
}

/* One file's load, through its documents. */
typedef struct cluster_load {
	const char *name;
	score_resource_table *resources;
	cluster_batch *batch;
	int documents;      /* documents with content */
	bool object_failed; /* the error message names the file already */
} cluster_load;

static int collect_document(void *data, const inf_yaml_document *document,
			    score_error *err)
{
	cluster_load *load = data;
	object_place place = {
		.file = load->name,
		.document = document->number,
		/* A file of one document needs no number. One that begins
		 * with "---" is often one of several. */
		.name_document = document->number > 1 || document->explicit_start,
		.line = document->line,
		.index = -1,
	};
	int rc;

	load->documents++;
	rc = collect_objects(document, &place, load->resources, load->batch,
			     err);
	if (rc < 0)
		load->object_failed = true;
	return rc;
}

/* ---- Loading ------------------------------------------------------------- */

static bool starts_with_brace(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (!g_ascii_isspace(text[i]))
			return text[i] == '{';
	}
	return false;
}

static bool is_blank(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (!g_ascii_isspace(text[i]))
			return false;
	}
	return true;
}

int inf_load_cluster_buffer_with_warnings(const char *name, const char *text,
					  size_t length, score_model *model,
					  inf_cluster_counts *counts,
					  GPtrArray *warnings, score_error *err)
{
	cluster_batch batch = {.file = name, .warnings = warnings};
	cluster_load load = {
		.name = name,
		.resources = score_model_resources(model),
		.batch = &batch,
	};
	cJSON *root = NULL;
	int rc;

	batch.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	batch.pod_warnings = g_ptr_array_new_with_free_func(g_free);
	batch.nodes = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_node_free);
	batch.pods = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_pod_free);
	batch.namespaces = g_ptr_array_new_with_free_func(
		decoded_namespace_free);
	batch.network_policies = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_network_policy_unref);
	batch.services = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_service_free);

	if (is_blank(text, length)) {
		rc = score_fail(err, -EINVAL,
				"%s: the file is empty; expected a List of Nodes and Pods in YAML or JSON, as kubectl get nodes,pods -A -o yaml writes",
				name);
		goto out;
	}

	if (starts_with_brace(text, length)) {
		rc = parse_json(text, length, &root, err);
		if (rc == 0) {
			/* JSON text gives no line numbers. */
			inf_yaml_document document = {.root = root, .number = 1};

			rc = collect_document(&load, &document, err);
		}
	} else {
		rc = inf_yaml_for_each_document(text, length, collect_document,
						&load, err);
	}
	if (rc == 0 && load.documents == 0)
		rc = score_fail(err, -EINVAL,
				"every YAML document in the file is empty; expected a List of Nodes and Pods, as kubectl get nodes,pods -A -o yaml writes");
	if (rc < 0) {
		if (!load.object_failed)
			score_error_prefix(err, "%s", name);
		goto out;
	}
	add_closing_warnings(&batch);

	for (guint i = 0; i < batch.namespaces->len; i++) {
		const decoded_namespace *namespace =
			g_ptr_array_index(batch.namespaces, i);

		score_model_put_namespace(model, namespace->name,
					  &namespace->labels);
	}

	for (guint i = 0; i < batch.network_policies->len; i++) {
		score_model_put_network_policy(
			model, g_ptr_array_index(batch.network_policies, i));
		batch.network_policies->pdata[i] = NULL;
	}

	for (guint i = 0; i < batch.services->len; i++) {
		score_model_put_service(model, g_ptr_array_index(batch.services, i));
		batch.services->pdata[i] = NULL;
	}

	/* Nodes first, so that each pod is counted on a present node. */
	for (guint i = 0; i < batch.nodes->len; i++) {
		score_model_put_node(model, g_ptr_array_index(batch.nodes, i));
		batch.nodes->pdata[i] = NULL;
	}
	for (guint i = 0; i < batch.pods->len; i++) {
		score_model_put_pod(model, g_ptr_array_index(batch.pods, i));
		batch.pods->pdata[i] = NULL;
	}
	if (counts != NULL) {
		counts->nodes = batch.nodes->len;
		counts->pods = batch.pods->len;
		counts->skipped = batch.skipped;
		counts->namespaces = batch.namespaces->len;
		counts->network_policies = batch.network_policies->len;
		counts->services = batch.services->len;
	}

out:
	g_ptr_array_unref(batch.nodes);
	g_ptr_array_unref(batch.pods);
	g_ptr_array_unref(batch.namespaces);
	g_ptr_array_unref(batch.network_policies);
	g_ptr_array_unref(batch.services);
	g_hash_table_unref(batch.seen);
	g_ptr_array_unref(batch.pod_warnings);
	cJSON_Delete(root);
	return rc;
}

int inf_load_cluster_buffer_counted(const char *name, const char *text,
				    size_t length, score_model *model,
				    inf_cluster_counts *counts,
				    score_error *err)
{
	return inf_load_cluster_buffer_with_warnings(name, text, length, model,
						     counts, NULL, err);
}

int inf_load_cluster_buffer(const char *name, const char *text, size_t length,
			    score_model *model, score_error *err)
{
	return inf_load_cluster_buffer_counted(name, text, length, model, NULL,
					       err);
}

static int read_whole_file(const char *path, GString *contents,
			   score_error *err)
{
	char chunk[65536];
	FILE *file;
	size_t n;
	int rc = 0;

	file = fopen(path, "rb");
	if (file == NULL) {
		int saved = errno;

		return score_fail(err, -saved,
				  "%s: failed to open the cluster file: %s", path,
				  g_strerror(saved));
	}

	errno = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0)
		g_string_append_len(contents, chunk, (gssize)n);
	if (ferror(file)) {
		int saved = errno != 0 ? errno : EIO;

		rc = score_fail(err, -EIO,
				"%s: failed to read the cluster file: %s", path,
				g_strerror(saved));
	}
	fclose(file);
	return rc;
}

int inf_load_cluster_file_with_warnings(const char *path, score_model *model,
					inf_cluster_counts *counts,
					GPtrArray *warnings, score_error *err)
{
	GString *contents = g_string_new(NULL);
	int rc;

	rc = read_whole_file(path, contents, err);
	if (rc == 0)
		rc = inf_load_cluster_buffer_with_warnings(path, contents->str,
							   contents->len, model,
							   counts, warnings,
							   err);
	g_string_free(contents, TRUE);
	return rc;
}

int inf_load_cluster_file_counted(const char *path, score_model *model,
				  inf_cluster_counts *counts, score_error *err)
{
	return inf_load_cluster_file_with_warnings(path, model, counts, NULL,
						   err);
}

int inf_load_cluster_file(const char *path, score_model *model,
			  score_error *err)
{
	return inf_load_cluster_file_counted(path, model, NULL, err);
}

/* ---- Demo cluster -------------------------------------------------------- */

/* A small cluster in the shape `kubectl get nodes,pods -A -o yaml` writes,
 * trimmed to the fields scheduling reads. It is sized so that a pod asking
 * for 3 CPUs meets every outcome: demo-node-a, demo-node-e and
 * demo-node-gpu fit it, demo-node-b has only 1310m CPU left, demo-node-c
 * has a dedicated=database:NoSchedule taint, and demo-node-d has room but
 * is cordoned.
 * web-frontend pods run an istio-proxy sidecar (an init container with
 * restartPolicy: Always), and the Succeeded report pod counts on no node.
 * Each string is one list item, because ISO C only guarantees string
 * literals of 4095 characters. */
static const char *const demo_cluster_parts[] = {
	"apiVersion: v1\n"
	"kind: List\n"
	"items:\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-a\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-a\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: m6i.2xlarge\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1a\n"
	"      topology.stowage.io/rack: rack-1\n"
	"  spec: {}\n"
	"  status:\n"
	"    capacity: {cpu: \"8\", memory: 32Gi, ephemeral-storage: 100Gi, pods: \"110\"}\n"
	"    allocatable: {cpu: 7910m, memory: 29Gi, ephemeral-storage: 92Gi, pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-b\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-b\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: m6i.2xlarge\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1a\n"
	"      topology.stowage.io/rack: rack-2\n"
	"  spec: {}\n"
	"  status:\n"
	"    capacity: {cpu: \"8\", memory: 32Gi, ephemeral-storage: 100Gi, pods: \"110\"}\n"
	"    allocatable: {cpu: 7910m, memory: 29Gi, ephemeral-storage: 92Gi, pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-c\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-c\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: m6i.4xlarge\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1b\n"
	"      topology.stowage.io/rack: rack-1\n"
	"      workload: database\n"
	"  spec:\n"
	"    taints:\n"
	"    - {key: dedicated, value: database, effect: NoSchedule}\n"
	"  status:\n"
	"    capacity: {cpu: \"16\", memory: 64Gi, ephemeral-storage: 200Gi, pods: \"110\"}\n"
	"    allocatable: {cpu: 15890m, memory: 61Gi, ephemeral-storage: 184Gi, pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-d\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-d\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: m6i.2xlarge\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1b\n"
	"      topology.stowage.io/rack: rack-2\n"
	"  spec:\n"
	"    unschedulable: true\n"
	"    taints:\n"
	"    - {key: node.kubernetes.io/unschedulable, effect: NoSchedule}\n"
	"  status:\n"
	"    capacity: {cpu: \"8\", memory: 32Gi, ephemeral-storage: 100Gi, pods: \"110\"}\n"
	"    allocatable: {cpu: 7910m, memory: 29Gi, ephemeral-storage: 92Gi, pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-e\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-e\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: m6i.xlarge\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1c\n"
	"      topology.stowage.io/rack: rack-1\n"
	"  spec: {}\n"
	"  status:\n"
	"    capacity: {cpu: \"4\", memory: 16Gi, ephemeral-storage: 100Gi, pods: \"110\"}\n"
	"    allocatable: {cpu: 3920m, memory: 14Gi, ephemeral-storage: 92Gi, pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Node\n"
	"  metadata:\n"
	"    name: demo-node-gpu\n"
	"    labels:\n"
	"      kubernetes.io/hostname: demo-node-gpu\n"
	"      kubernetes.io/os: linux\n"
	"      kubernetes.io/arch: amd64\n"
	"      node.kubernetes.io/instance-type: g5.12xlarge\n"
	"      nvidia.com/gpu.product: NVIDIA-A10G\n"
	"      topology.kubernetes.io/region: eu-west-1\n"
	"      topology.kubernetes.io/zone: eu-west-1c\n"
	"      topology.stowage.io/rack: rack-2\n"
	"  spec: {}\n"
	"  status:\n"
	"    capacity: {cpu: \"48\", memory: 192Gi, ephemeral-storage: 400Gi, nvidia.com/gpu: \"4\", pods: \"110\"}\n"
	"    allocatable: {cpu: 47810m, memory: 185Gi, ephemeral-storage: 368Gi, nvidia.com/gpu: \"4\", pods: \"110\"}\n"
	"    conditions:\n"
	"    - {type: Ready, status: \"True\", reason: KubeletReady}\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-4xq2n\n"
	"    namespace: kube-system\n"
	"    uid: 6513270e-269e-4d37-b2a7-4de452e6b438\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-a\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: web-frontend-7d9c5b6f4-x2k8p\n"
	"    namespace: shop\n"
	"    uid: d23f0824-128b-4f33-8c5c-7fd0a6a3a450\n"
	"    labels: {app: web-frontend, pod-template-hash: 7d9c5b6f4}\n"
	"  spec:\n"
	"    nodeName: demo-node-a\n"
	"    initContainers:\n"
	"    - name: istio-proxy\n"
	"      image: docker.io/istio/proxyv2:1.22.3\n"
	"      restartPolicy: Always\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 256Mi}\n"
	"    containers:\n"
	"    - name: web\n"
	"      image: registry.example.com/shop/web:2.14.1\n"
	"      resources:\n"
	"        requests: {cpu: 900m, memory: 1792Mi}\n"
	"        limits: {memory: 1792Mi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: redis-cache-0\n"
	"    namespace: shop\n"
	"    uid: 9531985d-5d9d-49f8-9818-e811892f902b\n"
	"    labels: {app: redis-cache}\n"
	"  spec:\n"
	"    nodeName: demo-node-a\n"
	"    containers:\n"
	"    - name: redis\n"
	"      image: docker.io/library/redis:7.2\n"
	"      resources:\n"
	"        requests: {cpu: 500m, memory: 4Gi}\n"
	"        limits: {memory: 4Gi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: nightly-report-28941200-q7zfn\n"
	"    namespace: finance\n"
	"    uid: 36f675cc-81e7-4ef5-a8e2-5d940ed90475\n"
	"    labels: {job-name: nightly-report-28941200}\n"
	"  spec:\n"
	"    nodeName: demo-node-a\n"
	"    containers:\n"
	"    - name: report\n"
	"      image: registry.example.com/finance/report:3.1\n"
	"      resources:\n"
	"        requests: {cpu: \"2\", memory: 1Gi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Succeeded\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-h7m3c\n"
	"    namespace: kube-system\n"
	"    uid: 6b0d549b-6f03-475a-9600-a35a099950d8\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-b\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: batch-ingest-0\n"
	"    namespace: data\n"
	"    uid: 8d116ece-1738-47d9-bd9c-172411e20b8f\n"
	"    labels: {app: batch-ingest}\n"
	"  spec:\n"
	"    nodeName: demo-node-b\n"
	"    containers:\n"
	"    - name: ingest\n"
	"      image: registry.example.com/data/ingest:0.9.4\n"
	"      resources:\n"
	"        requests: {cpu: \"3\", memory: 8Gi}\n"
	"        limits: {cpu: \"4\", memory: 8Gi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: batch-ingest-1\n"
	"    namespace: data\n"
	"    uid: 90c192cf-d3ac-44af-8f21-ddb66cad4a26\n"
	"    labels: {app: batch-ingest}\n"
	"  spec:\n"
	"    nodeName: demo-node-b\n"
	"    containers:\n"
	"    - name: ingest\n"
	"      image: registry.example.com/data/ingest:0.9.4\n"
	"      resources:\n"
	"        requests: {cpu: 2500m, memory: 8Gi}\n"
	"        limits: {cpu: \"4\", memory: 8Gi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: web-frontend-7d9c5b6f4-m4r9t\n"
	"    namespace: shop\n"
	"    uid: a170b338-3926-4059-b28c-105d1fb17c23\n"
	"    labels: {app: web-frontend, pod-template-hash: 7d9c5b6f4}\n"
	"  spec:\n"
	"    nodeName: demo-node-b\n"
	"    initContainers:\n"
	"    - name: istio-proxy\n"
	"      image: docker.io/istio/proxyv2:1.22.3\n"
	"      restartPolicy: Always\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 256Mi}\n"
	"    containers:\n"
	"    - name: web\n"
	"      image: registry.example.com/shop/web:2.14.1\n"
	"      resources:\n"
	"        requests: {cpu: 900m, memory: 1792Mi}\n"
	"        limits: {memory: 1792Mi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-p2w6z\n"
	"    namespace: kube-system\n"
	"    uid: 0fd630f1-f29d-4da9-953f-48f1a09f76b5\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-c\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: postgres-0\n"
	"    namespace: data\n"
	"    uid: 0cb1e29c-658c-4a14-95e6-0af593bd04cf\n"
	"    labels: {app: postgres}\n"
	"  spec:\n"
	"    nodeName: demo-node-c\n"
	"    containers:\n"
	"    - name: postgres\n"
	"      image: docker.io/library/postgres:16.4\n"
	"      resources:\n"
	"        requests: {cpu: \"4\", memory: 16Gi}\n"
	"        limits: {memory: 16Gi}\n"
	"    tolerations:\n"
	"    - {key: dedicated, operator: Equal, value: database, effect: NoSchedule}\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-b9k4d\n"
	"    namespace: kube-system\n"
	"    uid: 8e81973e-0bec-47b0-b898-d190f9ebdacc\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-d\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: web-frontend-7d9c5b6f4-p8d2w\n"
	"    namespace: shop\n"
	"    uid: 6b4cb242-4a23-4596-a217-beaddbc496cb\n"
	"    labels: {app: web-frontend, pod-template-hash: 7d9c5b6f4}\n"
	"  spec:\n"
	"    nodeName: demo-node-d\n"
	"    initContainers:\n"
	"    - name: istio-proxy\n"
	"      image: docker.io/istio/proxyv2:1.22.3\n"
	"      restartPolicy: Always\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 256Mi}\n"
	"    containers:\n"
	"    - name: web\n"
	"      image: registry.example.com/shop/web:2.14.1\n"
	"      resources:\n"
	"        requests: {cpu: 900m, memory: 1792Mi}\n"
	"        limits: {memory: 1792Mi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-t5v8r\n"
	"    namespace: kube-system\n"
	"    uid: 92276658-1e27-41c0-8a6a-63ec24ede6a4\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-e\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: metrics-server-6d94bc8694-wr2lx\n"
	"    namespace: kube-system\n"
	"    uid: ae97ba94-d0ed-482f-8f6d-05584ef8aa38\n"
	"    labels: {k8s-app: metrics-server}\n"
	"  spec:\n"
	"    nodeName: demo-node-e\n"
	"    containers:\n"
	"    - name: metrics-server\n"
	"      image: registry.k8s.io/metrics-server/metrics-server:v0.7.1\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 200Mi}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: kube-proxy-j6n1s\n"
	"    namespace: kube-system\n"
	"    uid: 923a7369-94e3-4f91-9a61-dbe22e44158b\n"
	"    labels: {k8s-app: kube-proxy}\n"
	"  spec:\n"
	"    nodeName: demo-node-gpu\n"
	"    containers:\n"
	"    - name: kube-proxy\n"
	"      image: registry.k8s.io/kube-proxy:v1.30.4\n"
	"      resources:\n"
	"        requests: {cpu: 100m, memory: 64Mi}\n"
	"    tolerations:\n"
	"    - {operator: Exists}\n"
	"  status:\n"
	"    phase: Running\n",
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata:\n"
	"    name: train-resnet-0\n"
	"    namespace: ml\n"
	"    uid: 18f135d2-5f55-4203-b018-50c5a38fd547\n"
	"    labels: {app: train-resnet}\n"
	"  spec:\n"
	"    nodeName: demo-node-gpu\n"
	"    containers:\n"
	"    - name: trainer\n"
	"      image: registry.example.com/ml/trainer:2024.08\n"
	"      resources:\n"
	"        requests: {cpu: \"16\", memory: 64Gi, nvidia.com/gpu: \"2\"}\n"
	"        limits: {memory: 64Gi, nvidia.com/gpu: \"2\"}\n"
	"    tolerations:\n"
	"    - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
	"  status:\n"
	"    phase: Running\n",
};

int inf_load_demo_cluster(score_model *model, score_error *err)
{
	GString *text = g_string_new(NULL);
	int rc;

	for (size_t i = 0; i < G_N_ELEMENTS(demo_cluster_parts); i++)
		g_string_append(text, demo_cluster_parts[i]);
	rc = inf_load_cluster_buffer("built-in demo cluster", text->str,
				     text->len, model, err);
	g_string_free(text, TRUE);
	return rc;
}
