/* libFuzzer target: YAML to JSON with inf_yaml_to_json(). JSON is YAML, so
 * for an input that is a single valid JSON text (UTF-8, no control
 * characters) the converted tree must equal the one cJSON parses. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/cluster_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the tree of `text` when it is one JSON text and nothing else,
 * in the character set YAML accepts; else NULL. */
static cJSON *parse_strict_json(const char *text, size_t length)
{
	const char *end = NULL;
	cJSON *json;

	bool in_string = false;

	/* cJSON accepts raw control characters inside strings, which JSON
	 * and YAML do not: leave such inputs out. */
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 && (in_string || (c != '\n' && c != '\r' &&
					       c != '\t')))
			return NULL;
		if (in_string && c == '\\')
			i++;
		else if (c == '"')
			in_string = !in_string;
	}
	if (!g_utf8_validate(text, (gssize)length, NULL))
		return NULL;
	json = cJSON_ParseWithLengthOpts(text, length, &end, false);
	if (json == NULL)
		return NULL;
	while (end < text + length && g_ascii_isspace(*end))
		end++;
	if (end != text + length) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	cJSON *json = NULL;
	cJSON *expected;
	score_error err = {0};
	int ret = inf_yaml_to_json(text, size, &json, &err);

	if (ret < 0) {
		if (json != NULL || err.message[0] == '\0')
			abort();
		return 0;
	}
	if (json == NULL)
		abort();

	/* The tree must print: no dangling or cyclic nodes. */
	cJSON_free(cJSON_PrintUnformatted(json));

	expected = parse_strict_json(text, size);
	if (expected != NULL && !cJSON_Compare(expected, json, true)) {
		char *a = cJSON_PrintUnformatted(expected);
		char *b = cJSON_PrintUnformatted(json);

		fprintf(stderr, "JSON parsed as %s\nYAML converted to %s\n", a,
			b);
		abort();
	}
	cJSON_Delete(expected);
	cJSON_Delete(json);
	return 0;
}
