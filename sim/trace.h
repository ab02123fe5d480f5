/* Readers for the node and pod lists of the Alibaba GPU cluster trace 2023
 * ("openb", alibaba/clusterdata cluster-trace-gpu-v2023), the traces of the
 * FGD paper (Weng et al., USENIX ATC 2023).
 *
 * Node lists have the columns sn, cpu_milli, memory_mib, gpu, model. Pod
 * lists have name, cpu_milli, memory_mib, num_gpu, gpu_milli, and may add
 * gpu_spec, qos, pod_phase, creation_time, deletion_time, scheduled_time
 * (the multigpu lists stop after gpu_milli). Columns may come in any order;
 * a missing required column, an unknown or repeated column, or a file
 * without data rows is an error.
 *
 * Validation is strict: a malformed row fails the read with the file, line,
 * column and value. With skip_bad_rows set, malformed rows are counted and
 * skipped instead; header errors still fail.
 */
#ifndef STOWAGE_SIM_TRACE_H
#define STOWAGE_SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring/error.h"

/* Limits beyond which a value is taken as a mistake rather than a machine:
 * 100,000 cores, 1 PiB of memory, 16 GPUs per node or pod, and times up
 * to 10^10 seconds (over 300 years). */
#define SIM_TRACE_MAX_CPU_MILLI 100000000LL
#define SIM_TRACE_MAX_MEMORY_MIB (1LL << 30)
#define SIM_TRACE_MAX_GPUS 16
#define SIM_TRACE_MAX_SECONDS 10000000000LL

typedef struct sim_read_options {
	bool skip_bad_rows;
} sim_read_options;

typedef struct sim_trace_node {
	char *name; /* owned */
	int64_t cpu_milli;
	int64_t memory_mib;
	int32_t gpu;
	char *model; /* owned; NULL when empty */
	int line;
} sim_trace_node;

typedef struct sim_trace_nodes {
	sim_trace_node *items; /* owned, in file order */
	size_t n;
	size_t skipped;
	char first_skipped[SCORE_ERROR_MESSAGE_MAX]; /* why the first skip */
} sim_trace_nodes;

typedef enum sim_qos {
	SIM_QOS_NONE = 0, /* column absent */
	SIM_QOS_LS,
	SIM_QOS_BE,
	SIM_QOS_BURSTABLE,
	SIM_QOS_GUARANTEED,
} sim_qos;

typedef enum sim_pod_phase {
	SIM_PHASE_NONE = 0, /* column absent */
	SIM_PHASE_RUNNING,
	SIM_PHASE_SUCCEEDED,
	SIM_PHASE_FAILED,
	SIM_PHASE_PENDING,
} sim_pod_phase;

typedef struct sim_trace_pod {
	char *name; /* owned */
	int64_t cpu_milli;
	int64_t memory_mib;
	int32_t num_gpu;
	int32_t gpu_milli; /* per GPU, thousandths */
	char *gpu_spec;    /* owned; NULL when empty or absent */
	sim_qos qos;
	sim_pod_phase phase;
	/* Seconds from the trace start; -1 when absent. */
	int64_t creation_time;
	int64_t deletion_time;
	int64_t scheduled_time;
	int line;
} sim_trace_pod;

typedef struct sim_trace_pods {
	sim_trace_pod *items; /* owned, in file order */
	size_t n;
	size_t skipped;
	char first_skipped[SCORE_ERROR_MESSAGE_MAX];
	bool has_times; /* creation_time and deletion_time columns present */
} sim_trace_pods;

/* Reads a node list from `path` or from a buffer (`name` is used in
 * messages). On success the caller releases `out` with
 * sim_trace_nodes_release(); on failure `out` is left empty. `options` may
 * be NULL. */
int sim_trace_read_nodes(const char *path, const sim_read_options *options,
			 sim_trace_nodes *out, score_error *err);
int sim_trace_parse_nodes(const char *name, const char *text, size_t length,
			  const sim_read_options *options,
			  sim_trace_nodes *out, score_error *err);
void sim_trace_nodes_release(sim_trace_nodes *nodes);

/* Same for pod lists. */
int sim_trace_read_pods(const char *path, const sim_read_options *options,
			sim_trace_pods *out, score_error *err);
int sim_trace_parse_pods(const char *name, const char *text, size_t length,
			 const sim_read_options *options, sim_trace_pods *out,
			 score_error *err);
void sim_trace_pods_release(sim_trace_pods *pods);

/* Releases what a row owns and zeroes it. */
void sim_trace_pod_clear(sim_trace_pod *pod);

/* ---- Pod lists as a stream ----------------------------------------------- */

/* A pod list read one row at a time, so that memory does not grow with the
 * file. Rows are checked as sim_trace_read_pods() checks them, except that
 * names are not checked for uniqueness, which would keep every name. */
typedef struct sim_trace_pod_reader sim_trace_pod_reader;

/* Opens `path` and reads its header; header errors fail here. With
 * `sorted` set, a row whose creation_time is before the previous row's is
 * malformed (skipped with skip_bad_rows, an error otherwise). On success
 * the caller frees `*out` with sim_trace_pod_reader_free(). */
int sim_trace_pod_reader_open(const char *path, const sim_read_options *options,
			      bool sorted, sim_trace_pod_reader **out,
			      score_error *err);

/* Reads the next valid row into `pod`, which the caller releases with
 * sim_trace_pod_clear(). Returns 1 for a row, 0 at the end of the file, or
 * a negative errno: a malformed row without skip_bad_rows, or a file
 * without a single valid row, reported at its end. */
int sim_trace_pod_reader_next(sim_trace_pod_reader *reader, sim_trace_pod *pod,
			      score_error *err);

/* True when the header has creation_time and deletion_time. */
bool sim_trace_pod_reader_has_times(const sim_trace_pod_reader *reader);

/* Returns the number of rows skipped so far and, through `first` when not
 * NULL, why the first was skipped (borrowed from the reader). */
size_t sim_trace_pod_reader_skipped(const sim_trace_pod_reader *reader,
				    const char **first);

/* Returns the share of the file's bytes read so far, 0 to 1. */
double sim_trace_pod_reader_fraction(const sim_trace_pod_reader *reader);

void sim_trace_pod_reader_free(sim_trace_pod_reader *reader);

#endif
