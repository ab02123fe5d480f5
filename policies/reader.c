/* Field-by-field reading of a policy's YAML tree; see internal.h. */
#include "policies/internal.h"

#include <stdarg.h>
#include <string.h>

/* ---- Messages ------------------------------------------------------------ */

/* Maps a position in the parsed text to the file; `note` gets a suffix
 * when the position cannot be mapped. */
static pol_position file_position(const pol_reader *reader,
				  pol_position position, char *note,
				  size_t size)
{
	pol_position mapped = position;

	note[0] = '\0';
	if (mapped.line == 0) {
		mapped.line = 1;
		mapped.column = 1;
	}
	switch (reader->embedding) {
	case POL_EMBED_LITERAL:
		mapped.line += reader->base_line;
		mapped.column += reader->indent;
		break;
	case POL_EMBED_OPAQUE:
		g_snprintf(note, size,
			   " (at line %zu, column %zu of the policy text in data.\"%s\")",
			   mapped.line, mapped.column, POL_CONFIGMAP_KEY);
		mapped = reader->value_position;
		break;
	case POL_EMBED_NONE:
		break;
	}
	return mapped;
}

static pol_message *format_message(const pol_reader *reader,
				   pol_position position,
				   const char *severity, const char *path,
				   const char *format, va_list args)
{
	char note[160];
	pol_position mapped = file_position(reader, position, note,
					    sizeof(note));
	GString *text = g_string_new(NULL);
	pol_message *message = g_new(pol_message, 1);

	g_string_append_printf(text, "%s:%zu:%zu: %s", reader->file,
			       mapped.line, mapped.column, severity);
	if (path != NULL && path[0] != '\0')
		g_string_append_printf(text, "%s: ", path);
	g_string_append_vprintf(text, format, args);
	g_string_append(text, note);
	message->position = mapped;
	message->text = g_string_free(text, FALSE);
	return message;
}

void pol_message_free(gpointer data)
{
	pol_message *message = data;

	g_free(message->text);
	g_free(message);
}

static gint compare_messages(gconstpointer a, gconstpointer b)
{
	const pol_message *left = *(const pol_message *const *)a;
	const pol_message *right = *(const pol_message *const *)b;

	if (left->position.line != right->position.line)
		return left->position.line < right->position.line ? -1 : 1;
	if (left->position.column != right->position.column)
		return left->position.column < right->position.column ? -1 : 1;
	return 0;
}

void pol_messages_move_sorted(GPtrArray *messages, GPtrArray *texts)
{
	/* g_ptr_array_sort() is stable, so messages at one place keep the
	 * order they were found in. */
	g_ptr_array_sort(messages, compare_messages);
	for (guint i = 0; i < messages->len; i++) {
		pol_message *message = g_ptr_array_index(messages, i);

		g_ptr_array_add(texts, message->text);
		message->text = NULL;
	}
	g_ptr_array_set_size(messages, 0);
}

static void add_error(pol_reader *reader, pol_position position,
		      const char *path, const char *format, va_list args)
{
	reader->n_errors++;
	if (reader->errors->len >= POL_MAX_ERRORS)
		return;
	g_ptr_array_add(reader->errors,
			format_message(reader, position, "", path, format, args));
}

void pol_error(pol_reader *reader, const pol_yaml_node *at, const char *path,
	       const char *format, ...)
{
	pol_position position = {0, 0};
	va_list args;

	if (at != NULL)
		position = at->position;
	va_start(args, format);
	add_error(reader, position, path, format, args);
	va_end(args);
}

void pol_error_at(pol_reader *reader, pol_position position,
		  const char *path, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	add_error(reader, position, path, format, args);
	va_end(args);
}

void pol_warning(pol_reader *reader, const pol_yaml_node *at,
		 const char *path, const char *format, ...)
{
	pol_position position = {0, 0};
	va_list args;

	if (at != NULL)
		position = at->position;
	va_start(args, format);
	g_ptr_array_add(reader->warnings,
			format_message(reader, position, "warning: ", path,
				       format, args));
	va_end(args);
}

void pol_path_key(char *buf, const char *parent, const char *key)
{
	if (parent[0] == '\0')
		g_snprintf(buf, POL_PATH_MAX, "%s", key);
	else
		g_snprintf(buf, POL_PATH_MAX, "%s.%s", parent, key);
}

void pol_path_index(char *buf, const char *parent, guint index)
{
	g_snprintf(buf, POL_PATH_MAX, "%s[%u]", parent, index);
}

/* ---- Typed reads ----------------------------------------------------------- */

const pol_yaml_node *pol_field(const pol_yaml_node *mapping, const char *key)
{
	const pol_yaml_node *value = pol_yaml_get(mapping, key);

	if (value != NULL && value->kind == POL_YAML_SCALAR &&
	    value->type == POL_SCALAR_NULL)
		return NULL;
	return value;
}

bool pol_expect_mapping(pol_reader *reader, const pol_yaml_node *node,
			const char *path)
{
	if (node->kind == POL_YAML_MAPPING)
		return true;
	pol_error(reader, node, path, "expected a mapping of fields, got %s",
		  pol_yaml_describe(node));
	return false;
}

bool pol_expect_sequence(pol_reader *reader, const pol_yaml_node *node,
			 const char *path)
{
	if (node->kind == POL_YAML_SEQUENCE)
		return true;
	pol_error(reader, node, path, "expected a sequence (a YAML list), got %s",
		  pol_yaml_describe(node));
	return false;
}

static const char *case_variant(const char *key, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++) {
		if (g_ascii_strcasecmp(key, *allowed) == 0)
			return *allowed;
	}
	return NULL;
}

bool pol_check_fields(pol_reader *reader, const pol_yaml_node *mapping,
		      const char *path, const char *const *allowed)
{
	bool known_only = true;

	for (guint i = 0; i < mapping->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(mapping->items, i);
		const char *key = pair->key->text;
		const char *variant;
		GString *expected;
		size_t k;

		for (k = 0; allowed[k] != NULL; k++) {
			if (strcmp(key, allowed[k]) == 0)
				break;
		}
		if (allowed[k] != NULL)
			continue;

		known_only = false;
		variant = case_variant(key, allowed);
		if (variant != NULL) {
			pol_error(reader, pair->key, path,
				  "unknown field \"%s\": did you mean \"%s\"? Field names are case-sensitive",
				  key, variant);
			continue;
		}
		expected = g_string_new(NULL);
		for (k = 0; allowed[k] != NULL; k++)
			g_string_append_printf(expected, "%s%s", k > 0 ? ", " : "",
					       allowed[k]);
		pol_error(reader, pair->key, path,
			  "unknown field \"%s\": expected one of %s", key,
			  expected->str);
		g_string_free(expected, TRUE);
	}
	return known_only;
}

const pol_yaml_node *pol_require(pol_reader *reader,
				 const pol_yaml_node *mapping,
				 const char *path, const char *key,
				 const char *hint)
{
	const pol_yaml_node *value = pol_field(mapping, key);

	if (value == NULL)
		pol_error(reader, mapping, path, "missing field \"%s\": %s", key,
			  hint);
	return value;
}

static void wrong_type(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, const char *expected)
{
	/* A plain 80, true or null is typed by YAML; quoting makes it a
	 * string, which is the usual fix where a name is expected. */
	bool quote_hint = node->kind == POL_YAML_SCALAR &&
			  node->type != POL_SCALAR_STRING &&
			  strcmp(expected, "a string") == 0;

	pol_error(reader, node, path, "expected %s, got %s%s", expected,
		  pol_yaml_describe(node),
		  quote_hint ? "; quote the value to make it a string" : "");
}

bool pol_read_string(pol_reader *reader, const pol_yaml_node *node,
		     const char *path, const char **out)
{
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_STRING) {
		wrong_type(reader, node, path, "a string");
		return false;
	}
	*out = node->text;
	return true;
}

bool pol_read_int(pol_reader *reader, const pol_yaml_node *node,
		  const char *path, int64_t min, int64_t max, int64_t *out)
{
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_INT) {
		pol_error(reader, node, path,
			  "expected an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ", got %s",
			  min, max, pol_yaml_describe(node));
		return false;
	}
	if (node->int_overflow || node->int_value < min ||
	    node->int_value > max) {
		pol_error(reader, node, path,
			  "invalid value %s: expected an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
			  node->text, min, max);
		return false;
	}
	*out = node->int_value;
	return true;
}

/* YAML 1.1 booleans that YAML 1.2, and so this parser, reads as strings. */
static bool is_yaml11_bool(const pol_yaml_node *node)
{
	static const char *const words[] = {"yes", "no", "on", "off", "y", "n",
					    NULL};

	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_STRING)
		return false;
	for (size_t i = 0; words[i] != NULL; i++) {
		if (g_ascii_strcasecmp(node->text, words[i]) == 0)
			return true;
	}
	return false;
}

bool pol_read_bool(pol_reader *reader, const pol_yaml_node *node,
		   const char *path, bool *out)
{
	if (is_yaml11_bool(node)) {
		pol_error(reader, node, path,
			  "expected true or false, got the string \"%s\": YAML 1.2 reads yes, no, on and off as strings",
			  node->text);
		return false;
	}
	if (node->kind != POL_YAML_SCALAR || node->type != POL_SCALAR_BOOL) {
		wrong_type(reader, node, path, "true or false");
		return false;
	}
	*out = node->bool_value;
	return true;
}

bool pol_read_enum(pol_reader *reader, const pol_yaml_node *node,
		   const char *path, const char *const *names, int *out)
{
	const char *text;
	GString *expected;
	size_t count = 0;

	if (!pol_read_string(reader, node, path, &text))
		return false;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return true;
		}
		count++;
	}

	expected = g_string_new(NULL);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			g_string_append(expected, i + 1 == count ? " or " : ", ");
		g_string_append(expected, names[i]);
	}
	pol_error(reader, node, path, "invalid value \"%s\": expected %s", text,
		  expected->str);
	g_string_free(expected, TRUE);
	return false;
}

/* ---- Kubernetes names ------------------------------------------------------ */

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, the name part of a label key
 * and the form of a label value (k8s.io/apimachinery validation). */
static bool is_qualified_token(const char *text)
{
	size_t length = strlen(text);

	if (length == 0 || !g_ascii_isalnum(text[0]) ||
	    !g_ascii_isalnum(text[length - 1]))
		return false;
	for (size_t i = 0; i < length; i++) {
		if (!g_ascii_isalnum(text[i]) && strchr("-_.", text[i]) == NULL)
			return false;
	}
	return true;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? of any length. */
static bool is_dns_token(const char *text, size_t length)
{
	if (length == 0 || !(g_ascii_islower(text[0]) || g_ascii_isdigit(text[0])) ||
	    !(g_ascii_islower(text[length - 1]) ||
	      g_ascii_isdigit(text[length - 1])))
		return false;
	for (size_t i = 0; i < length; i++) {
		if (!g_ascii_islower(text[i]) && !g_ascii_isdigit(text[i]) &&
		    text[i] != '-')
			return false;
	}
	return true;
}

bool pol_dns_label_valid(const char *name, char *why, size_t size)
{
	size_t length = strlen(name);

	if (length > 63) {
		g_snprintf(why, size, "it is %zu characters long, and the limit is 63",
			   length);
		return false;
	}
	if (!is_dns_token(name, length)) {
		g_snprintf(why, size,
			   "use lowercase letters, digits and '-', starting and ending with a letter or digit");
		return false;
	}
	return true;
}

bool pol_dns_subdomain_valid(const char *name, char *why, size_t size)
{
	size_t length = strlen(name);
	const char *part = name;

	if (length > 253) {
		g_snprintf(why, size,
			   "it is %zu characters long, and the limit is 253", length);
		return false;
	}
	for (;;) {
		const char *dot = strchr(part, '.');
		size_t part_length = dot != NULL ? (size_t)(dot - part) : strlen(part);

		if (!is_dns_token(part, part_length)) {
			g_snprintf(why, size,
				   "use lowercase letters, digits, '-' and '.', with a letter or digit at each end of every dot-separated part");
			return false;
		}
		if (dot == NULL)
			return true;
		part = dot + 1;
	}
}

bool pol_label_key_valid(const char *key, char *why, size_t size)
{
	const char *slash = strchr(key, '/');
	const char *name = slash != NULL ? slash + 1 : key;

	if (slash != NULL) {
		char *prefix = g_strndup(key, (size_t)(slash - key));
		char prefix_why[160];
		bool valid = pol_dns_subdomain_valid(prefix, prefix_why,
						     sizeof(prefix_why));

		g_free(prefix);
		if (!valid) {
			g_snprintf(why, size, "the prefix before '/' must be a DNS subdomain: %s",
				   prefix_why);
			return false;
		}
	}
	if (strlen(name) > 63) {
		g_snprintf(why, size,
			   "the name part is %zu characters long, and the limit is 63",
			   strlen(name));
		return false;
	}
	if (!is_qualified_token(name)) {
		g_snprintf(why, size,
			   "the name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with an optional DNS prefix and '/'");
		return false;
	}
	return true;
}

bool pol_label_value_valid(const char *value, char *why, size_t size)
{
	size_t length = strlen(value);

	if (length == 0)
		return true;
	if (length > 63) {
		g_snprintf(why, size, "it is %zu characters long, and the limit is 63",
			   length);
		return false;
	}
	if (!is_qualified_token(value)) {
		g_snprintf(why, size,
			   "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
		return false;
	}
	return true;
}

bool pol_read_label_key(pol_reader *reader, const pol_yaml_node *node,
			const char *path, const char **out)
{
	char why[256];

	if (!pol_read_string(reader, node, path, out))
		return false;
	if (pol_label_key_valid(*out, why, sizeof(why)))
		return true;
	pol_error(reader, node, path, "invalid label key \"%s\": %s", *out, why);
	return false;
}

bool pol_read_label_value(pol_reader *reader, const pol_yaml_node *node,
			  const char *path, const char **out)
{
	char why[256];

	if (!pol_read_string(reader, node, path, out))
		return false;
	if (pol_label_value_valid(*out, why, sizeof(why)))
		return true;
	pol_error(reader, node, path, "invalid label value \"%s\": %s", *out,
		  why);
	return false;
}

/* ---- Label selectors ------------------------------------------------------- */

static void read_match_labels(pol_reader *reader, const pol_yaml_node *node,
			      const char *path, score_selector *selector)
{
	char field[POL_PATH_MAX];

	if (!pol_expect_mapping(reader, node, path))
		return;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = g_ptr_array_index(node->items, i);
		const char *key;
		const char *value;

		pol_path_key(field, path, pair->key->text);
		if (!pol_read_label_key(reader, pair->key, field, &key))
			continue;
		if (pair->value->kind == POL_YAML_SCALAR &&
		    pair->value->type == POL_SCALAR_NULL) {
			pol_error(reader, pair->value, field,
				  "expected a label value, got null; write \"\" for the empty value");
			continue;
		}
		if (!pol_read_label_value(reader, pair->value, field, &value))
			continue;
		score_selector_add(selector, key, SCORE_SELECTOR_IN, &value, 1);
	}
}

static const char *const operator_names[] = {"In", "NotIn", "Exists",
					      "DoesNotExist", NULL};

static bool read_values(pol_reader *reader, const pol_yaml_node *node,
			const char *path, GPtrArray *values)
{
	char field[POL_PATH_MAX];
	bool ok = true;

	if (!pol_expect_sequence(reader, node, path))
		return false;
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = g_ptr_array_index(node->items, i);
		const char *value;

		pol_path_index(field, path, i);
		if (pol_read_label_value(reader, item, field, &value))
			g_ptr_array_add(values, (gpointer)value);
		else
			ok = false;
	}
	return ok;
}

static void read_expression(pol_reader *reader, const pol_yaml_node *node,
			    const char *path, score_selector *selector)
{
	static const char *const fields[] = {"key", "operator", "values", NULL};
	const pol_yaml_node *key_node;
	const pol_yaml_node *operator_node;
	const pol_yaml_node *values_node;
	GPtrArray *values = g_ptr_array_new();
	char field[POL_PATH_MAX];
	const char *key = NULL;
	int op = -1;
	bool ok;

	if (!pol_expect_mapping(reader, node, path))
		goto out;
	pol_check_fields(reader, node, path, fields);
	key_node = pol_require(reader, node, path, "key",
			       "name the label key the expression tests");
	operator_node = pol_require(reader, node, path, "operator",
				    "use In, NotIn, Exists or DoesNotExist");
	values_node = pol_field(node, "values");

	pol_path_key(field, path, "key");
	ok = key_node != NULL && pol_read_label_key(reader, key_node, field, &key);
	pol_path_key(field, path, "operator");
	ok = operator_node != NULL &&
	     pol_read_enum(reader, operator_node, field, operator_names, &op) && ok;
	pol_path_key(field, path, "values");
	if (values_node != NULL)
		ok = read_values(reader, values_node, field, values) && ok;
	if (!ok)
		goto out;

	if ((op == SCORE_SELECTOR_IN || op == SCORE_SELECTOR_NOT_IN) &&
	    values->len == 0) {
		pol_error(reader, values_node != NULL ? values_node : node,
			  values_node != NULL ? field : path,
			  "operator %s needs at least one value in \"values\"",
			  operator_names[op]);
		goto out;
	}
	if ((op == SCORE_SELECTOR_EXISTS || op == SCORE_SELECTOR_DOES_NOT_EXIST) &&
	    values->len > 0) {
		pol_error(reader, values_node, field,
			  "operator %s takes no values; remove \"values\" or use In or NotIn",
			  operator_names[op]);
		goto out;
	}
	score_selector_add(selector, key, (score_selector_op)op,
			   (const char *const *)values->pdata, values->len);
out:
	g_ptr_array_unref(values);
}

bool pol_read_selector(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, score_selector *selector)
{
	static const char *const fields[] = {"matchLabels", "matchExpressions",
					     NULL};
	size_t errors_before = reader->n_errors;
	const pol_yaml_node *labels;
	const pol_yaml_node *expressions;
	char field[POL_PATH_MAX];
	char item_path[POL_PATH_MAX];

	if (!pol_expect_mapping(reader, node, path))
		return false;
	pol_check_fields(reader, node, path, fields);

	labels = pol_field(node, "matchLabels");
	if (labels != NULL) {
		pol_path_key(field, path, "matchLabels");
		read_match_labels(reader, labels, field, selector);
	}

	expressions = pol_field(node, "matchExpressions");
	pol_path_key(field, path, "matchExpressions");
	if (expressions != NULL &&
	    pol_expect_sequence(reader, expressions, field)) {
		for (guint i = 0; i < expressions->items->len; i++) {
			pol_path_index(item_path, field, i);
			read_expression(reader,
					g_ptr_array_index(expressions->items, i),
					item_path, selector);
		}
	}
	return reader->n_errors == errors_before;
}
