/* libFuzzer target: mapping specs and the generic trace reader. The first
 * byte's bit 0 sets skip_bad_rows. The rest is a mapping spec, a line
 * "%%" and the trace. Without that line the whole rest is the spec, read
 * over an empty trace. Every pod read is checked against the ranges that
 * sim/mapping.h promises. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "sim/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEPARATOR "\n%%\n"

static void check_pod(const sim_mapped_pod *pod)
{
	if (pod->name == NULL || pod->namespace == NULL || pod->cpu_milli < 0 ||
	    pod->cpu_milli > SIM_TRACE_MAX_CPU_MILLI || pod->memory < 0 ||
	    pod->memory > SIM_TRACE_MAX_MEMORY_MIB * 1048576LL || pod->gpu_count < 0 ||
	    pod->gpu_count > SIM_TRACE_MAX_GPUS || pod->gpu_milli < 0 || pod->gpu_milli > 1000)
		abort();
	if ((pod->gpu_count == 0) != (pod->gpu_milli == 0) ||
	    (pod->gpu_count > 1 && pod->gpu_milli != 1000))
		abort();
	if (pod->arrival_ms < 0 || pod->arrival_ms > SIM_TRACE_MAX_SECONDS * 1000 ||
	    pod->run_ms < -1)
		abort();
	if ((pod->owner_kind == NULL) != (pod->owner_name == NULL))
		abort();
	if (pod->labels != NULL && pod->labels->len % 2 != 0)
		abort();
}

static void read_trace(const sim_mapping *mapping, const char *text, size_t length,
		       const sim_read_options *options)
{
	sim_mapped_reader *reader = NULL;
	score_error err = {0};
	int64_t previous = -1;
	int ret;

	if (sim_mapped_reader_open_buffer("fuzz.trace", text, length, mapping, options, &reader,
					  &err) < 0) {
		if (reader != NULL || err.message[0] == '\0')
			abort();
		return;
	}
	for (;;) {
		sim_mapped_pod pod;

		ret = sim_mapped_reader_next(reader, &pod, &err);
		if (ret <= 0)
			break;
		check_pod(&pod);
		/* Arrivals never go backwards. */
		if (pod.arrival_ms < previous)
			abort();
		previous = pod.arrival_ms;
		sim_mapped_pod_clear(&pod);
	}
	if (ret < 0 && err.message[0] == '\0')
		abort();
	if (sim_mapped_reader_fraction(reader) < 0 || sim_mapped_reader_fraction(reader) > 1)
		abort();
	sim_mapped_reader_free(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sim_read_options options = {0};
	sim_mapping *mapping = NULL;
	score_error err = {0};
	const char *text;
	const char *separator;
	size_t spec_length;
	size_t length;

	if (size == 0)
		return 0;
	options.skip_bad_rows = (data[0] & 1) != 0;
	text = (const char *)data + 1;
	length = size - 1;
	separator = g_strstr_len(text, (gssize)length, SEPARATOR);
	spec_length = separator != NULL ? (size_t)(separator - text) : length;

	if (sim_mapping_parse("fuzz.yaml", text, spec_length, &mapping, &err) < 0) {
		if (mapping != NULL || err.message[0] == '\0')
			abort();
		return 0;
	}
	if (separator != NULL)
		read_trace(mapping, separator + strlen(SEPARATOR),
			   length - spec_length - strlen(SEPARATOR), &options);
	else
		read_trace(mapping, "", 0, &options);
	sim_mapping_free(mapping);
	return 0;
}
