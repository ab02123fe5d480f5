/* Logging for the service and the command line: one function, levels, and
 * text or JSON-lines output that Logstash and Elasticsearch ingest as is.
 *
 * Each line has a time (RFC 3339, UTC, milliseconds), a level, a component
 * ("extender", "informer", "model"), a message, then key=value fields. The
 * level is checked before anything is formatted. Never pass a secret (a
 * token, a key) as a field value.
 *
 * Threads: a sched_log may be shared; each line is written with one call
 * under a mutex, so lines never interleave.
 */
#ifndef STOWAGE_SCHED_LOG_H
#define STOWAGE_SCHED_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef enum sched_log_level {
	SCHED_LOG_DEBUG = 0,
	SCHED_LOG_INFO,
	SCHED_LOG_WARN,
	SCHED_LOG_ERROR,
} sched_log_level;

typedef enum sched_log_format {
	SCHED_LOG_TEXT = 0,
	SCHED_LOG_JSON,
} sched_log_format;

typedef enum sched_log_field_type {
	SCHED_FIELD_STRING = 0,
	SCHED_FIELD_INT,
	SCHED_FIELD_DOUBLE,
	SCHED_FIELD_BOOL,
	SCHED_FIELD_JSON, /* a cJSON value, written as nested JSON */
} sched_log_field_type;

typedef struct sched_log_field {
	const char *key;
	sched_log_field_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
		const cJSON *json;
	} value;
} sched_log_field;

#define SCHED_STR(k, v) \
	((sched_log_field){.key = (k), .type = SCHED_FIELD_STRING, .value.s = (v)})
#define SCHED_INT(k, v) \
	((sched_log_field){.key = (k), .type = SCHED_FIELD_INT, .value.i = (v)})
#define SCHED_DOUBLE(k, v) \
	((sched_log_field){.key = (k), .type = SCHED_FIELD_DOUBLE, .value.d = (v)})
#define SCHED_BOOL(k, v) \
	((sched_log_field){.key = (k), .type = SCHED_FIELD_BOOL, .value.b = (v)})
#define SCHED_JSON(k, v) \
	((sched_log_field){.key = (k), .type = SCHED_FIELD_JSON, .value.json = (v)})

typedef struct sched_log sched_log;

/* Returns a logger writing to `out` (borrowed, e.g. stderr); the caller frees
 * it with sched_log_free(). */
sched_log *sched_log_new(FILE *out, sched_log_format format,
			 sched_log_level min_level);
void sched_log_free(sched_log *log);

/* Parses "debug", "info", "warn", "error" / "text", "json"; returns -EINVAL
 * for anything else. */
int sched_log_parse_level(const char *text, sched_log_level *level);
int sched_log_parse_format(const char *text, sched_log_format *format);

bool sched_log_enabled(const sched_log *log, sched_log_level level);

/* Writes one line with `n_fields` fields. A NULL `log` writes nothing. */
void sched_log_write(sched_log *log, sched_log_level level,
		     const char *component, const char *message,
		     const sched_log_field *fields, size_t n_fields);

/* Writes one line with the fields given inline, e.g.
 * SCHED_LOG(log, SCHED_LOG_INFO, "extender", "listening",
 *           SCHED_STR("address", addr)); */
#define SCHED_LOG(log, level, component, message, ...)                        \
	do {                                                                  \
		if (sched_log_enabled((log), (level))) {                      \
			const sched_log_field sched_log_fields_[] = {         \
				{.key = NULL}, __VA_ARGS__};                  \
			sched_log_write((log), (level), (component),          \
					(message), sched_log_fields_ + 1,     \
					sizeof(sched_log_fields_) /           \
							sizeof(sched_log_fields_[0]) - 1); \
		}                                                             \
	} while (0)

/* How many keys sched_log_write_limited() remembers. */
#define SCHED_LOG_LIMITED_KEYS 4096

/* Writes one line like sched_log_write(), unless a line with the same
 * `key` was written by this function less than `interval_ms` ago: then
 * the line is only counted. A written line gets an extra field
 * "suppressed" with the number of lines dropped for `key` since the
 * previous one, when that number is above 0. Keys older than `interval_ms`
 * are forgotten once SCHED_LOG_LIMITED_KEYS keys are stored. */
void sched_log_write_limited(sched_log *log, sched_log_level level,
			     const char *component, const char *message,
			     const char *key, int64_t interval_ms,
			     const sched_log_field *fields, size_t n_fields);

/* SCHED_LOG() for sched_log_write_limited(). */
#define SCHED_LOG_LIMITED(log, level, component, message, rate_key,       \
			  interval_ms, ...)                                   \
	do {                                                                  \
		if (sched_log_enabled((log), (level))) {                      \
			const sched_log_field sched_log_fields_[] = {         \
				{.key = NULL}, __VA_ARGS__};                  \
			sched_log_write_limited(                              \
				(log), (level), (component), (message),       \
				(rate_key), (interval_ms),                    \
				sched_log_fields_ + 1,                        \
				sizeof(sched_log_fields_) /                   \
						sizeof(sched_log_fields_[0]) - 1); \
		}                                                             \
	} while (0)

#endif
