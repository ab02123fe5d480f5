/* libFuzzer target: openb trace CSV. The first byte picks the reader. Bits
 * 0-1 choose the node list, the pod list, the pod list read as a stream
 * (through a memfd) or the bare CSV reader (line by line and as a buffer).
 * Bit 2 sets skip_bad_rows, and bit 3 sets `sorted` for the stream. The
 * rest is the file. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "sim/csv.h"
#include "sim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the ranges that sim/trace.h promises for a node row. */
static void check_node(const sim_trace_node *node)
{
	if (node->name == NULL || node->cpu_milli < 0 ||
	    node->cpu_milli > SIM_TRACE_MAX_CPU_MILLI || node->memory_mib < 0 ||
	    node->memory_mib > SIM_TRACE_MAX_MEMORY_MIB || node->gpu < 0 ||
	    node->gpu > SIM_TRACE_MAX_GPUS)
		abort();
}

static bool valid_time(int64_t seconds)
{
	return seconds == -1 || (seconds >= 0 && seconds <= SIM_TRACE_MAX_SECONDS);
}

/* Checks the ranges and rules that the reader enforces for a pod row: a
 * GPU share needs GPUs, GPUs need a share, several GPUs are whole, and a
 * pod is deleted no earlier than it was created. */
static void check_pod(const sim_trace_pod *pod)
{
	if (pod->name == NULL || pod->cpu_milli < 0 ||
	    pod->cpu_milli > SIM_TRACE_MAX_CPU_MILLI || pod->memory_mib < 0 ||
	    pod->memory_mib > SIM_TRACE_MAX_MEMORY_MIB || pod->num_gpu < 0 ||
	    pod->num_gpu > SIM_TRACE_MAX_GPUS || pod->gpu_milli < 0 ||
	    pod->gpu_milli > 1000)
		abort();
	if ((pod->num_gpu == 0) != (pod->gpu_milli == 0) ||
	    (pod->num_gpu > 1 && pod->gpu_milli != 1000))
		abort();
	if (!valid_time(pod->creation_time) || !valid_time(pod->deletion_time) ||
	    !valid_time(pod->scheduled_time))
		abort();
	if (pod->creation_time >= 0 && pod->deletion_time >= 0 &&
	    pod->deletion_time < pod->creation_time)
		abort();
}

static void read_nodes(const char *text, size_t length,
		       const sim_read_options *options)
{
	sim_trace_nodes nodes = {0};
	score_error err = {0};

	if (sim_trace_parse_nodes("fuzz.csv", text, length, options, &nodes,
				  &err) == 0) {
		for (size_t i = 0; i < nodes.n; i++)
			check_node(&nodes.items[i]);
		sim_trace_nodes_release(&nodes);
	} else if (nodes.items != NULL || err.message[0] == '\0') {
		abort();
	}
}

static void read_pods(const char *text, size_t length,
		      const sim_read_options *options)
{
	sim_trace_pods pods = {0};
	score_error err = {0};

	if (sim_trace_parse_pods("fuzz.csv", text, length, options, &pods,
				 &err) == 0) {
		for (size_t i = 0; i < pods.n; i++)
			check_pod(&pods.items[i]);
		sim_trace_pods_release(&pods);
	} else if (pods.items != NULL || err.message[0] == '\0') {
		abort();
	}
}

static void stream_pods(const char *text, size_t length,
			const sim_read_options *options, bool sorted)
{
	sim_trace_pod_reader *reader = NULL;
	score_error err = {0};
	char path[64];
	int fd = memfd_create("trace", MFD_CLOEXEC);

	if (fd < 0 || (length > 0 && write(fd, text, length) != (ssize_t)length))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (sim_trace_pod_reader_open(path, options, sorted, &reader, &err) ==
	    0) {
		sim_trace_pod pod = {0};
		int ret;

		while ((ret = sim_trace_pod_reader_next(reader, &pod, &err)) >
		       0) {
			check_pod(&pod);
			sim_trace_pod_clear(&pod);
		}
		sim_trace_pod_clear(&pod);
		(void)sim_trace_pod_reader_fraction(reader);
		sim_trace_pod_reader_free(reader);
	}
	close(fd);
}

static void read_csv(const char *text, size_t length)
{
	sim_csv csv;
	score_error err = {0};
	const char *line = text;
	const char *end = text + length;

	/* As a buffer: every line, continuing past malformed ones. */
	sim_csv_init(&csv, "fuzz.csv", text, length);
	for (int ret; (ret = sim_csv_next(&csv, &err)) != 0;) {
		if (ret > 0 && csv.fields->len == 0)
			abort();
	}
	sim_csv_release(&csv);

	/* Line by line, as the stream reader feeds it. */
	sim_csv_init(&csv, "fuzz.csv", NULL, 0);
	while (line < end) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t n = newline != NULL ? (size_t)(newline - line) + 1
					   : (size_t)(end - line);

		(void)sim_csv_feed_line(&csv, line, n, &err);
		line += n;
	}
	sim_csv_release(&csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sim_read_options options = {0};
	const char *text;
	size_t length;

	if (size == 0)
		return 0;
	options.skip_bad_rows = (data[0] & 4) != 0;
	text = (const char *)data + 1;
	length = size - 1;

	switch (data[0] & 3) {
	case 0:
		read_nodes(text, length, &options);
		break;
	case 1:
		read_pods(text, length, &options);
		break;
	case 2:
		stream_pods(text, length, &options, (data[0] & 8) != 0);
		break;
	default:
		read_csv(text, length);
		break;
	}
	return 0;
}
