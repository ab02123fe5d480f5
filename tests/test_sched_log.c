/* Tests for scheduler/log.c: text and JSON-lines output, quoting, level
 * filtering, and whole lines under concurrent writers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "scheduler/log.h"

/* A logger writing into memory; capture_text() returns what it wrote. */
typedef struct capture {
	char *buf;
	size_t size;
	FILE *out;
	sched_log *log;
} capture;

static void capture_open(capture *c, sched_log_format format,
			 sched_log_level level)
{
	memset(c, 0, sizeof(*c));
	c->out = open_memstream(&c->buf, &c->size);
	cr_assert_not_null(c->out, "open_memstream failed");
	c->log = sched_log_new(c->out, format, level);
}

static const char *capture_text(capture *c)
{
	fflush(c->out);
	return c->buf != NULL ? c->buf : "";
}

static void capture_close(capture *c)
{
	sched_log_free(c->log);
	fclose(c->out);
	free(c->buf);
}

/* Returns the part of a text line after the time stamp and its space. */
static const char *after_time(const char *line)
{
	const char *space = strchr(line, ' ');

	cr_assert_not_null(space, "no space in line: %s", line);
	return space + 1;
}

static cJSON *parse_line(const char *text)
{
	cJSON *root = cJSON_Parse(text);

	cr_assert_not_null(root, "line is not JSON: %s", text);
	return root;
}

static const char *json_string(const cJSON *root, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);

	cr_assert(cJSON_IsString(item), "member %s is not a string", key);
	return item->valuestring;
}

Test(log, text_line_layout)
{
	capture c;
	const char *text;
	GRegex *regex;

	capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_INFO);
	SCHED_LOG(c.log, SCHED_LOG_INFO, "extender", "decision",
		  SCHED_STR("pod", "default/web-1"), SCHED_INT("nodes", 3));
	text = capture_text(&c);

	regex = g_regex_new("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			    "[0-9]{2}\\.[0-9]{3}Z INFO extender: decision "
			    "pod=default/web-1 nodes=3\n$",
			    0, 0, NULL);
	cr_assert(g_regex_match(regex, text, 0, NULL),
		  "expected \"<time> INFO extender: decision "
		  "pod=default/web-1 nodes=3\", got \"%s\"",
		  text);
	g_regex_unref(regex);
	capture_close(&c);
}

Test(log, text_level_labels)
{
	static const struct {
		sched_log_level level;
		const char *label;
	} cases[] = {
		{SCHED_LOG_DEBUG, "DEBUG"},
		{SCHED_LOG_INFO, "INFO"},
		{SCHED_LOG_WARN, "WARN"},
		{SCHED_LOG_ERROR, "ERROR"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		capture c;
		char *expected;
		const char *rest;

		capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_DEBUG);
		sched_log_write(c.log, cases[i].level, "model", "loaded", NULL,
				0);
		rest = after_time(capture_text(&c));
		expected = g_strdup_printf("%s model: loaded\n",
					   cases[i].label);
		cr_assert_str_eq(rest, expected, "expected \"%s\", got \"%s\"",
				 expected, rest);
		g_free(expected);
		capture_close(&c);
	}
}

Test(log, text_quotes_values)
{
	static const struct {
		const char *value;
		const char *expected;
	} cases[] = {
		{"plain", " k=plain\n"},
		{"two words", " k=\"two words\"\n"},
		{"say \"hi\"", " k=\"say \\\"hi\\\"\"\n"},
		{"line\nbreak", " k=\"line\\nbreak\"\n"},
		{"cr\rtab\t", " k=\"cr\\rtab\\t\"\n"},
		{"back\\slash", " k=\"back\\\\slash\"\n"},
		{"a=b", " k=\"a=b\"\n"},
		{"", " k=\"\"\n"},
		{"bell\a", " k=\"bell\\x07\"\n"},
		{"caf\xc3\xa9", " k=caf\xc3\xa9\n"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		capture c;
		const char *text;
		const char *fields;

		capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_INFO);
		SCHED_LOG(c.log, SCHED_LOG_INFO, "t", "m",
			  SCHED_STR("k", cases[i].value));
		text = capture_text(&c);
		fields = strstr(text, "t: m");
		cr_assert_not_null(fields, "no message in \"%s\"", text);
		cr_assert_str_eq(fields + strlen("t: m"), cases[i].expected,
				 "value \"%s\": expected \"%s\", got \"%s\"",
				 cases[i].value, cases[i].expected,
				 fields + strlen("t: m"));
		cr_assert_eq(strchr(text, '\n'), text + strlen(text) - 1,
			     "expected one line for value %zu, got \"%s\"", i,
			     text);
		capture_close(&c);
	}
}

Test(log, text_typed_fields)
{
	capture c;
	cJSON *compact = cJSON_Parse("{\"node-a\":87,\"node-b\":40}");
	cJSON *spaced = cJSON_Parse("{\"reason\":\"too few cpus\"}");
	const char *text;
	const char *expected =
		"t: m s= i=-9223372036854775807 big=9223372036854775807 "
		"d=0.25 nan=NaN inf=+Inf yes=true no=false "
		"scores={\"node-a\":87,\"node-b\":40} "
		"why=\"{\\\"reason\\\":\\\"too few cpus\\\"}\"\n";

	cr_assert_not_null(compact, "fixture JSON did not parse");
	cr_assert_not_null(spaced, "fixture JSON did not parse");
	capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_INFO);
	SCHED_LOG(c.log, SCHED_LOG_INFO, "t", "m", SCHED_STR("s", NULL),
		  SCHED_INT("i", -INT64_MAX), SCHED_INT("big", INT64_MAX),
		  SCHED_DOUBLE("d", 0.25), SCHED_DOUBLE("nan", NAN),
		  SCHED_DOUBLE("inf", INFINITY), SCHED_BOOL("yes", true),
		  SCHED_BOOL("no", false), SCHED_JSON("scores", compact),
		  SCHED_JSON("why", spaced));
	text = strstr(capture_text(&c), "t: m");
	cr_assert_not_null(text, "no message in \"%s\"", capture_text(&c));
	cr_assert_str_eq(text, expected, "expected \"%s\", got \"%s\"",
			 expected, text);

	cJSON_Delete(compact);
	cJSON_Delete(spaced);
	capture_close(&c);
}

Test(log, text_message_newline_quoted)
{
	capture c;
	const char *text;

	capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_INFO);
	sched_log_write(c.log, SCHED_LOG_INFO, "t", "first\nsecond", NULL, 0);
	text = after_time(capture_text(&c));
	cr_assert_str_eq(text, "INFO t: \"first\\nsecond\"\n",
			 "expected the message quoted on one line, got \"%s\"",
			 text);
	capture_close(&c);
}

Test(log, level_filtering)
{
	capture c;

	capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_WARN);
	cr_assert_not(sched_log_enabled(c.log, SCHED_LOG_DEBUG),
		      "debug enabled at minimum level warn");
	cr_assert_not(sched_log_enabled(c.log, SCHED_LOG_INFO),
		      "info enabled at minimum level warn");
	cr_assert(sched_log_enabled(c.log, SCHED_LOG_WARN),
		  "warn disabled at minimum level warn");
	cr_assert(sched_log_enabled(c.log, SCHED_LOG_ERROR),
		  "error disabled at minimum level warn");

	SCHED_LOG(c.log, SCHED_LOG_DEBUG, "t", "dropped debug",
		  SCHED_INT("n", 1));
	sched_log_write(c.log, SCHED_LOG_INFO, "t", "dropped info", NULL, 0);
	cr_assert_str_eq(capture_text(&c), "",
			 "expected no output below warn, got \"%s\"",
			 capture_text(&c));

	sched_log_write(c.log, SCHED_LOG_ERROR, "t", "kept", NULL, 0);
	cr_assert_not_null(strstr(capture_text(&c), "ERROR t: kept\n"),
			   "expected the error line, got \"%s\"",
			   capture_text(&c));
	capture_close(&c);
}

Test(log, null_logger_writes_nothing)
{
	cr_assert_not(sched_log_enabled(NULL, SCHED_LOG_ERROR),
		      "a NULL logger reports a level enabled");
	sched_log_write(NULL, SCHED_LOG_ERROR, "t", "m", NULL, 0);
	SCHED_LOG(NULL, SCHED_LOG_ERROR, "t", "m", SCHED_INT("n", 1));
}

Test(log, json_line_fields)
{
	capture c;
	cJSON *nested = cJSON_Parse("{\"node-a\":87}");
	cJSON *root;
	const cJSON *item;
	const char *text;

	cr_assert_not_null(nested, "fixture JSON did not parse");
	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_DEBUG);
	SCHED_LOG(c.log, SCHED_LOG_WARN, "extender", "decision",
		  SCHED_STR("pod", "default/web-1"),
		  SCHED_STR("note", "say \"hi\"\nbye\t\x01"),
		  SCHED_STR("missing", NULL), SCHED_INT("big", INT64_MAX),
		  SCHED_DOUBLE("ratio", 0.5), SCHED_DOUBLE("nan", NAN),
		  SCHED_BOOL("fits", true), SCHED_JSON("scores", nested));
	text = capture_text(&c);
	cr_assert_eq(strchr(text, '\n'), text + strlen(text) - 1,
		     "expected exactly one line, got \"%s\"", text);

	root = parse_line(text);
	cr_assert_str_eq(json_string(root, "level"), "warn",
			 "expected level warn, got %s",
			 json_string(root, "level"));
	cr_assert_str_eq(json_string(root, "component"), "extender",
			 "expected component extender, got %s",
			 json_string(root, "component"));
	cr_assert_str_eq(json_string(root, "msg"), "decision",
			 "expected msg decision, got %s",
			 json_string(root, "msg"));
	cr_assert_str_eq(json_string(root, "pod"), "default/web-1",
			 "expected pod default/web-1, got %s",
			 json_string(root, "pod"));
	cr_assert_str_eq(json_string(root, "note"), "say \"hi\"\nbye\t\x01",
			 "string with quotes and control characters did not "
			 "read back: got \"%s\"",
			 json_string(root, "note"));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "missing")),
		  "expected null for a NULL string");
	cr_assert_not_null(strstr(text, "\"big\":9223372036854775807"),
			   "expected all 64 bits of big, got %s", text);
	item = cJSON_GetObjectItem(root, "ratio");
	cr_assert(cJSON_IsNumber(item) && item->valuedouble == 0.5,
		  "expected ratio 0.5");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "nan")),
		  "expected null for NaN, got %s", text);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "fits")),
		  "expected fits true");
	item = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "scores"),
				   "node-a");
	cr_assert(cJSON_IsNumber(item) && item->valueint == 87,
		  "expected nested scores.node-a 87, got %s", text);

	cJSON_Delete(root);
	cJSON_Delete(nested);
	capture_close(&c);
}

Test(log, json_time_is_utc_now)
{
	capture c;
	cJSON *root;
	GDateTime *stamp;
	GDateTime *now = g_date_time_new_now_utc();
	const char *time_text;
	GTimeSpan skew;

	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_INFO);
	sched_log_write(c.log, SCHED_LOG_INFO, "t", "m", NULL, 0);
	root = parse_line(capture_text(&c));
	time_text = json_string(root, "time");

	cr_assert_eq(strlen(time_text), strlen("2026-12-04T20:14:30.123Z"),
		     "expected RFC 3339 with milliseconds, got %s", time_text);
	cr_assert_eq(time_text[strlen(time_text) - 1], 'Z',
		     "expected a UTC time ending in Z, got %s", time_text);
	stamp = g_date_time_new_from_iso8601(time_text, NULL);
	cr_assert_not_null(stamp, "time %s does not parse", time_text);
	skew = g_date_time_difference(now, stamp);
	cr_assert(skew > -60 * G_TIME_SPAN_SECOND &&
			  skew < 60 * G_TIME_SPAN_SECOND,
		  "time %s is %" G_GINT64_FORMAT " us away from now",
		  time_text, skew);

	g_date_time_unref(stamp);
	g_date_time_unref(now);
	cJSON_Delete(root);
	capture_close(&c);
}

Test(log, json_reserved_key_renamed)
{
	capture c;
	cJSON *root;
	int n_msg = 0;
	const cJSON *item;

	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_INFO);
	SCHED_LOG(c.log, SCHED_LOG_INFO, "t", "real message",
		  SCHED_STR("msg", "from a field"));
	root = parse_line(capture_text(&c));

	cJSON_ArrayForEach(item, root)
	{
		if (strcmp(item->string, "msg") == 0)
			n_msg++;
	}
	cr_assert_eq(n_msg, 1, "expected one msg key, got %d", n_msg);
	cr_assert_str_eq(json_string(root, "msg"), "real message",
			 "expected the message in msg, got %s",
			 json_string(root, "msg"));
	cr_assert_str_eq(json_string(root, "field_msg"), "from a field",
			 "expected the field in field_msg, got %s",
			 json_string(root, "field_msg"));
	cJSON_Delete(root);
	capture_close(&c);
}

Test(log, parse_level_and_format)
{
	sched_log_level level = SCHED_LOG_ERROR;
	sched_log_format format = SCHED_LOG_TEXT;
	int ret;

	ret = sched_log_parse_level("debug", &level);
	cr_assert_eq(ret, 0, "expected debug to parse, got %d", ret);
	cr_assert_eq(level, SCHED_LOG_DEBUG, "expected debug, got %d", level);
	ret = sched_log_parse_level("WARN", &level);
	cr_assert_eq(ret, 0, "expected WARN to parse, got %d", ret);
	cr_assert_eq(level, SCHED_LOG_WARN, "expected warn, got %d", level);
	ret = sched_log_parse_level("verbose", &level);
	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for verbose, got %d",
		     ret);
	ret = sched_log_parse_level("", &level);
	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for \"\", got %d", ret);

	ret = sched_log_parse_format("json", &format);
	cr_assert_eq(ret, 0, "expected json to parse, got %d", ret);
	cr_assert_eq(format, SCHED_LOG_JSON, "expected json, got %d", format);
	ret = sched_log_parse_format("xml", &format);
	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for xml, got %d", ret);
	ret = sched_log_parse_format(NULL, &format);
	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for NULL, got %d", ret);
}

#define WRITERS 4
#define LINES_PER_WRITER 250

static gpointer write_lines(gpointer data)
{
	sched_log *log = data;
	/* Long enough that an unserialized writer would split it. */
	char *padding = g_strnfill(300, 'x');

	for (int i = 0; i < LINES_PER_WRITER; i++)
		SCHED_LOG(log, SCHED_LOG_INFO, "t", "line", SCHED_INT("i", i),
			  SCHED_STR("padding", padding));
	g_free(padding);
	return NULL;
}

Test(log, concurrent_lines_stay_whole)
{
	capture c;
	GThread *threads[WRITERS];
	char **lines;
	int n_lines = 0;

	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_INFO);
	for (int t = 0; t < WRITERS; t++)
		threads[t] = g_thread_new("writer", write_lines, c.log);
	for (int t = 0; t < WRITERS; t++)
		g_thread_join(threads[t]);

	lines = g_strsplit(capture_text(&c), "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		cJSON *root;

		if (**line == '\0')
			continue;
		root = cJSON_Parse(*line);
		cr_assert_not_null(root, "line %d is not whole JSON: %.80s",
				   n_lines, *line);
		cJSON_Delete(root);
		n_lines++;
	}
	cr_assert_eq(n_lines, WRITERS * LINES_PER_WRITER,
		     "expected %d lines, got %d", WRITERS * LINES_PER_WRITER,
		     n_lines);
	g_strfreev(lines);
	capture_close(&c);
}

static size_t count_lines(const char *text)
{
	size_t lines = 0;

	for (const char *p = text; *p != '\0'; p++)
		lines += *p == '\n';
	return lines;
}

Test(log, limited_writes_key_once_per_interval)
{
	capture c;

	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_INFO);
	for (int i = 0; i < 5; i++)
		SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "extender", "pod value ignored",
				  "pod-a", 60000, SCHED_STR("pod", "shop/a"));
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "extender", "pod value ignored",
			  "pod-b", 60000, SCHED_STR("pod", "shop/b"));

	cr_assert_eq(count_lines(capture_text(&c)), 2,
		     "expected 2 lines (one per key), got %zu:\n%s",
		     count_lines(capture_text(&c)), capture_text(&c));
	cr_assert_null(strstr(capture_text(&c), "suppressed"),
		       "expected no suppressed count on first lines:\n%s",
		       capture_text(&c));
	capture_close(&c);
}

Test(log, limited_counts_suppressed_lines)
{
	capture c;
	const char *text;
	char **lines;
	cJSON *line;
	const cJSON *suppressed;

	capture_open(&c, SCHED_LOG_JSON, SCHED_LOG_INFO);
	/* A zero interval writes every line, each with the count dropped
	 * since the previous one (none). A long interval then drops two. */
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 0,
			  SCHED_INT("n", 1));
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 0,
			  SCHED_INT("n", 2));
	cr_assert_eq(count_lines(capture_text(&c)), 2,
		     "interval 0: expected 2 lines, got %zu", count_lines(capture_text(&c)));
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 3600000,
			  SCHED_INT("n", 3));
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 3600000,
			  SCHED_INT("n", 4));
	cr_assert_eq(count_lines(capture_text(&c)), 2,
		     "long interval: expected still 2 lines, got %zu",
		     count_lines(capture_text(&c)));
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 0,
			  SCHED_INT("n", 5));

	text = capture_text(&c);
	cr_assert_eq(count_lines(text), 3, "expected 3 lines, got %zu:\n%s",
		     count_lines(text), text);
	lines = g_strsplit(text, "\n", -1);
	line = parse_line(lines[2]);
	g_strfreev(lines);
	suppressed = cJSON_GetObjectItemCaseSensitive(line, "suppressed");
	cr_assert(cJSON_IsNumber(suppressed), "expected a suppressed field in %s",
		  text);
	cr_assert_eq(suppressed->valueint, 2, "suppressed: expected 2, got %d",
		     suppressed->valueint);
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(line, "n")->valueint, 5,
		     "expected the line of the fifth call");
	cJSON_Delete(line);
	capture_close(&c);
}

Test(log, limited_below_level_writes_nothing)
{
	capture c;

	capture_open(&c, SCHED_LOG_TEXT, SCHED_LOG_ERROR);
	SCHED_LOG_LIMITED(c.log, SCHED_LOG_WARN, "model", "m", "k", 0,
			  SCHED_INT("n", 1));
	sched_log_write_limited(NULL, SCHED_LOG_ERROR, "model", "m", "k", 0,
				NULL, 0);
	cr_assert_str_eq(capture_text(&c), "", "expected no output");
	capture_close(&c);
}
