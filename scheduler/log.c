/* Logging: one line per call, as text (for a terminal) or JSON lines (for
 * Logstash, Elasticsearch, Loki). See scheduler/log.h for the contract. */
#include "scheduler/log.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <glib.h>

struct sched_log {
	FILE *out; /* borrowed */
	sched_log_format format;
	sched_log_level min_level;
	GMutex lock; /* serializes writes to `out` */
	/* sched_log_write_limited(): key (owned) -> limited_key (owned),
	 * guarded by `limited_lock`. */
	GHashTable *limited;
	GMutex limited_lock;
};

/* When a rate-limited key last wrote a line, and the lines dropped since. */
typedef struct limited_key {
	gint64 written_us; /* monotonic */
	int64_t suppressed;
} limited_key;

static const char *const level_names[] = {
	[SCHED_LOG_DEBUG] = "debug",
	[SCHED_LOG_INFO] = "info",
	[SCHED_LOG_WARN] = "warn",
	[SCHED_LOG_ERROR] = "error",
};

static const char *const level_labels[] = {
	[SCHED_LOG_DEBUG] = "DEBUG",
	[SCHED_LOG_INFO] = "INFO",
	[SCHED_LOG_WARN] = "WARN",
	[SCHED_LOG_ERROR] = "ERROR",
};

/* Keys the JSON line writes itself; a field with one of these names is
 * written as "field_<name>" so that no key appears twice. */
static const char *const reserved_keys[] = {"time", "level", "component",
					    "msg"};

static bool level_valid(sched_log_level level)
{
	return level >= SCHED_LOG_DEBUG && level <= SCHED_LOG_ERROR;
}

/* Appends the current UTC time as RFC 3339 with milliseconds, e.g.
 * 2026-12-04T20:14:30.123Z. */
static void append_time(GString *line)
{
	gint64 now_us = g_get_real_time();
	time_t seconds = (time_t)(now_us / G_USEC_PER_SEC);
	int millis = (int)(now_us % G_USEC_PER_SEC / 1000);
	struct tm utc;
	char buf[32];

	if (gmtime_r(&seconds, &utc) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc) == 0) {
		g_string_append(line, "1970-01-01T00:00:00");
	} else {
		g_string_append(line, buf);
	}
	g_string_append_printf(line, ".%03dZ", millis);
}

/* A text value needs quotes when a reader splitting on spaces and '='
 * would cut it, or when it is empty. Bytes >= 0x80 (UTF-8) pass as they
 * are. */
static bool text_needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    *p == 0x7f)
			return true;
	}
	return false;
}

/* Appends `s` in double quotes, escaping quotes, backslashes and control
 * characters so that the line stays one line. */
static void append_quoted(GString *line, const char *s)
{
	g_string_append_c(line, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			g_string_append(line, "\\\"");
			break;
		case '\\':
			g_string_append(line, "\\\\");
			break;
		case '\n':
			g_string_append(line, "\\n");
			break;
		case '\r':
			g_string_append(line, "\\r");
			break;
		case '\t':
			g_string_append(line, "\\t");
			break;
		default:
			if (*p < ' ' || *p == 0x7f)
				g_string_append_printf(line, "\\x%02x", *p);
			else
				g_string_append_c(line, (char)*p);
		}
	}
	g_string_append_c(line, '"');
}

/* Compact JSON is written unquoted unless a string inside it contains a
 * space, which would split the field for a reader. */
static bool json_needs_quotes(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return true;
	}
	return false;
}

static void append_text_value(GString *line, const char *s)
{
	if (text_needs_quotes(s))
		append_quoted(line, s);
	else
		g_string_append(line, s);
}

/* Appends a double the way Go's strconv and Prometheus spell the special
 * values, and otherwise with 15 significant digits when they read back
 * exactly (0.042, not 0.042000000000000003), else 17. */
static void append_double(GString *line, double d)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(d)) {
		g_string_append(line, "NaN");
		return;
	}
	if (isinf(d)) {
		g_string_append(line, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	g_ascii_formatd(buf, sizeof(buf), "%.15g", d);
	if (g_ascii_strtod(buf, NULL) != d)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
	g_string_append(line, buf);
}

static void append_text_field(GString *line, const sched_log_field *field)
{
	g_string_append_c(line, ' ');
	g_string_append(line, field->key != NULL ? field->key : "field");
	g_string_append_c(line, '=');

	switch (field->type) {
	case SCHED_FIELD_STRING:
		/* NULL is written as nothing after '=', unlike "" which
		 * is written as a pair of quotes. */
		if (field->value.s != NULL)
			append_text_value(line, field->value.s);
		break;
	case SCHED_FIELD_INT:
		g_string_append_printf(line, "%" PRId64, field->value.i);
		break;
	case SCHED_FIELD_DOUBLE:
		append_double(line, field->value.d);
		break;
	case SCHED_FIELD_BOOL:
		g_string_append(line, field->value.b ? "true" : "false");
		break;
	case SCHED_FIELD_JSON: {
		char *json = field->value.json != NULL
				     ? cJSON_PrintUnformatted(field->value.json)
				     : NULL;

		if (json == NULL) {
			g_string_append(line, "null");
			break;
		}
		if (json_needs_quotes(json))
			append_quoted(line, json);
		else
			g_string_append(line, json);
		cJSON_free(json);
		break;
	}
	}
}

static void format_text(GString *line, sched_log_level level,
			const char *component, const char *message,
			const sched_log_field *fields, size_t n_fields)
{
	append_time(line);
	g_string_append_c(line, ' ');
	g_string_append(line, level_labels[level]);
	g_string_append_c(line, ' ');
	g_string_append(line, component != NULL ? component : "stowage");
	g_string_append(line, ": ");

	/* The message is a fixed sentence in the code, but a newline in it
	 * must still not break the line. */
	if (strpbrk(message, "\n\r") != NULL)
		append_quoted(line, message);
	else
		g_string_append(line, message);

	for (size_t i = 0; i < n_fields; i++)
		append_text_field(line, &fields[i]);
	g_string_append_c(line, '\n');
}

static cJSON *json_field_value(const sched_log_field *field)
{
	char buf[32];

	switch (field->type) {
	case SCHED_FIELD_STRING:
		if (field->value.s == NULL)
			return cJSON_CreateNull();
		return cJSON_CreateString(field->value.s);
	case SCHED_FIELD_INT:
		/* Raw text keeps all 64 bits; a cJSON number is a double. */
		g_snprintf(buf, sizeof(buf), "%" PRId64, field->value.i);
		return cJSON_CreateRaw(buf);
	case SCHED_FIELD_DOUBLE:
		/* JSON has no NaN or infinity; cJSON writes them as null. */
		return cJSON_CreateNumber(field->value.d);
	case SCHED_FIELD_BOOL:
		return cJSON_CreateBool(field->value.b);
	case SCHED_FIELD_JSON:
		if (field->value.json == NULL)
			return cJSON_CreateNull();
		return cJSON_Duplicate(field->value.json, true);
	}
	return cJSON_CreateNull();
}

static char *json_field_key(const char *key)
{
	if (key == NULL)
		return g_strdup("field");
	for (size_t i = 0; i < G_N_ELEMENTS(reserved_keys); i++) {
		if (strcmp(key, reserved_keys[i]) == 0)
			return g_strconcat("field_", key, NULL);
	}
	return g_strdup(key);
}

/* Fills `line` with one JSON object and a newline; returns -ENOMEM when
 * cJSON could not allocate. */
static int format_json(GString *line, sched_log_level level,
		       const char *component, const char *message,
		       const sched_log_field *fields, size_t n_fields)
{
	GString *time = g_string_new(NULL);
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	int ret = -ENOMEM;

	if (root == NULL)
		goto out;

	append_time(time);
	if (cJSON_AddStringToObject(root, "time", time->str) == NULL ||
	    cJSON_AddStringToObject(root, "level", level_names[level]) == NULL ||
	    cJSON_AddStringToObject(root, "component",
				    component != NULL ? component
						      : "stowage") == NULL ||
	    cJSON_AddStringToObject(root, "msg", message) == NULL)
		goto out;

	for (size_t i = 0; i < n_fields; i++) {
		cJSON *value = json_field_value(&fields[i]);
		char *key;

		if (value == NULL)
			goto out;
		key = json_field_key(fields[i].key);
		cJSON_AddItemToObject(root, key, value);
		g_free(key);
	}

	text = cJSON_PrintUnformatted(root);
	if (text == NULL)
		goto out;
	g_string_append(line, text);
	g_string_append_c(line, '\n');
	ret = 0;

out:
	cJSON_free(text);
	cJSON_Delete(root);
	g_string_free(time, TRUE);
	return ret;
}

sched_log *sched_log_new(FILE *out, sched_log_format format,
			 sched_log_level min_level)
{
	sched_log *log = g_new0(sched_log, 1);

	log->out = out;
	log->format = format;
	log->min_level = min_level;
	g_mutex_init(&log->lock);
	log->limited = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     g_free);
	g_mutex_init(&log->limited_lock);
	return log;
}

void sched_log_free(sched_log *log)
{
	if (log == NULL)
		return;
	g_mutex_clear(&log->lock);
	g_hash_table_unref(log->limited);
	g_mutex_clear(&log->limited_lock);
	g_free(log);
}

int sched_log_parse_level(const char *text, sched_log_level *level)
{
	if (text == NULL)
		return -EINVAL;
	for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++) {
		if (g_ascii_strcasecmp(text, level_names[i]) == 0) {
			*level = (sched_log_level)i;
			return 0;
		}
	}
	if (g_ascii_strcasecmp(text, "warning") == 0) {
		*level = SCHED_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

int sched_log_parse_format(const char *text, sched_log_format *format)
{
	if (text == NULL)
		return -EINVAL;
	if (g_ascii_strcasecmp(text, "text") == 0) {
		*format = SCHED_LOG_TEXT;
		return 0;
	}
	if (g_ascii_strcasecmp(text, "json") == 0) {
		*format = SCHED_LOG_JSON;
		return 0;
	}
	return -EINVAL;
}

bool sched_log_enabled(const sched_log *log, sched_log_level level)
{
	return log != NULL && log->out != NULL && level_valid(level) &&
	       level >= log->min_level;
}

void sched_log_write(sched_log *log, sched_log_level level,
		     const char *component, const char *message,
		     const sched_log_field *fields, size_t n_fields)
{
	GString *line;

	if (!sched_log_enabled(log, level))
		return;
	if (message == NULL)
		message = "";
	if (fields == NULL)
		n_fields = 0;

	/* Format outside the lock; only the write is serialized. */
	line = g_string_sized_new(128);
	if (log->format == SCHED_LOG_JSON) {
		if (format_json(line, level, component, message, fields,
				n_fields) < 0) {
			g_string_truncate(line, 0);
			g_string_append(line, "{\"level\":\"error\",\"component\":"
					      "\"log\",\"msg\":\"out of memory "
					      "while formatting a log line\"}\n");
		}
	} else {
		format_text(line, level, component, message, fields, n_fields);
	}

	g_mutex_lock(&log->lock);
	fwrite(line->str, 1, line->len, log->out);
	fflush(log->out);
	g_mutex_unlock(&log->lock);

	g_string_free(line, TRUE);
}

static gboolean limited_key_expired(gpointer key, gpointer value,
				    gpointer data)
{
	const limited_key *entry = value;
	const gint64 *cutoff_us = data;

	(void)key;
	return entry->written_us < *cutoff_us;
}

/* Decides whether a line for `key` is written now. Returns false, and
 * counts the line, when one was written less than `interval_us` ago.
 * Otherwise returns true and sets `*suppressed` to the lines dropped since
 * the previous one. */
static bool limited_key_allow(sched_log *log, const char *key,
			      gint64 interval_us, int64_t *suppressed)
{
	gint64 now_us = g_get_monotonic_time();
	limited_key *entry;
	bool allow = true;

	*suppressed = 0;
	g_mutex_lock(&log->limited_lock);
	entry = g_hash_table_lookup(log->limited, key);
	if (entry != NULL && now_us - entry->written_us < interval_us) {
		entry->suppressed++;
		allow = false;
		goto out;
	}
	if (entry != NULL) {
		*suppressed = entry->suppressed;
		entry->written_us = now_us;
		entry->suppressed = 0;
		goto out;
	}

	if (g_hash_table_size(log->limited) >= SCHED_LOG_LIMITED_KEYS) {
		gint64 cutoff_us = now_us - interval_us;

		g_hash_table_foreach_remove(log->limited, limited_key_expired,
					    &cutoff_us);
	}
	/* NOTE: with more than SCHED_LOG_LIMITED_KEYS keys inside one
	 * interval, the new keys are written every time, so memory stays
	 * bounded at the cost of repeated lines. */
	if (g_hash_table_size(log->limited) < SCHED_LOG_LIMITED_KEYS) {
		entry = g_new0(limited_key, 1);
		entry->written_us = now_us;
		g_hash_table_insert(log->limited, g_strdup(key), entry);
	}

out:
	g_mutex_unlock(&log->limited_lock);
	return allow;
}

void sched_log_write_limited(sched_log *log, sched_log_level level,
			     const char *component, const char *message,
			     const char *key, int64_t interval_ms,
			     const sched_log_field *fields, size_t n_fields)
{
	sched_log_field *all;
	int64_t suppressed;

	if (!sched_log_enabled(log, level))
		return;
	if (fields == NULL)
		n_fields = 0;
	if (!limited_key_allow(log, key != NULL ? key : "",
			       interval_ms * 1000, &suppressed))
		return;
	if (suppressed == 0) {
		sched_log_write(log, level, component, message, fields,
				n_fields);
		return;
	}

	all = g_new(sched_log_field, n_fields + 1);
	if (n_fields > 0)
		memcpy(all, fields, n_fields * sizeof(*fields));
	all[n_fields] = SCHED_INT("suppressed", suppressed);
	sched_log_write(log, level, component, message, all, n_fields + 1);
	g_free(all);
}
