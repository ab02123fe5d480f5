/* Generic pod traces: a CSV or JSON-lines file whose rows are pods, read
 * through a mapping spec (YAML) that names the column or field of each
 * value and its unit, so that a new trace needs no code.
 *
 * A spec (docs/simulator.md has the full reference and examples for the
 * Alibaba 2018, Google 2019 and Azure VM traces under sim/mappings/):
 *
 *   format: csv                  # csv or jsonl
 *   csv: {header: false, delimiter: ",", columns: [name, job, start, end]}
 *   fields:
 *     arrival:   {from: start, unit: s}       # s, ms, us or rfc3339
 *     departure: {from: end, unit: s}         # or duration: {from, unit}
 *     cpu:       {from: cpu, unit: centicores}
 *     memory:    {from: mem, unit: fraction}  # needs reference.memory
 *     name:      {template: "{job}-{name}"}
 *     owner:     {from: job, kind: Job}
 *     labels:    {job: stowage.io/job}        # field -> label key
 *   time: {origin: first}
 *   reference: {cpu: "96", memory: 512Gi}
 *   defaults: {namespace: default, duration: 1h}
 *   filter: [{field: status, in: [Terminated]}]
 *
 * Two optional parts change how many records a row makes:
 *
 *   fields: {replicas: {from: instance_num}}   # a row is N pods, NAME-0 ...
 *   end:                                       # rows that end a started pod
 *     filter: [{field: type, in: [FINISH, KILL]}]
 *     key: {template: "{job}-{index}"}         # joins an end row to its start
 *
 * With replicas, one row makes N pods (1 to SIM_MAPPING_MAX_REPLICAS),
 * named NAME-0 to NAME-(N-1), all with the row's times and requests. They
 * are returned one at a time from a copy of the row's pod. With end, a row
 * that passes end.filter is an end row: it ends the open pod with the same
 * key (by default the pod's namespace and name) at the row's arrival time,
 * and comes back as a SIM_MAPPED_END record. Pods get run_ms -1 until then.
 * End rows that match no open pod are counted, not returned. The open
 * pods are kept in a map, so memory grows with the pods that have started
 * and not ended.
 *
 * Rows are read one at a time, so memory does not otherwise grow with the
 * trace. Arrivals must not go backwards: a row that arrives before the previous
 * kept row is malformed. Malformed rows fail the read with the file, line,
 * column and value, or are counted and skipped with skip_bad_rows. Rows
 * that the filter rejects are counted apart and are not errors.
 *
 * Threads: none; a spec may be shared by readers that run one at a time.
 */
#ifndef STOWAGE_SIM_MAPPING_H
#define STOWAGE_SIM_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "sim/trace.h"

/* Specs larger than this are rejected before parsing. */
#define SIM_MAPPING_MAX_SPEC_BYTES (1 << 20)

/* The maximum number of pods one row may represent: 100,000, the largest
 * parallelism Kubernetes accepts for an Indexed Job (maxParallelismForIndexedJob in
 * pkg/apis/batch/validation/validation.go). A larger value makes the row
 * malformed. */
#define SIM_MAPPING_MAX_REPLICAS 100000

typedef struct sim_mapping sim_mapping;

/* Parses a mapping spec from `path`, or from a buffer (`name` is used in
 * messages). Errors carry FILE:LINE:COLUMN and the field path of the
 * spec. The caller frees `*out` with sim_mapping_free(). */
int sim_mapping_load(const char *path, sim_mapping **out, score_error *err);
int sim_mapping_parse(const char *name, const char *text, size_t length,
		      sim_mapping **out, score_error *err);
void sim_mapping_free(sim_mapping *mapping);

typedef enum sim_mapped_kind {
	SIM_MAPPED_START = 0, /* a pod arrives */
	SIM_MAPPED_END,       /* an end row: a pod read before ends */
} sim_mapped_kind;

/* One pod as the mapping reads it from a row. An end record has only its
 * kind, the name and namespace of the pod it ends, arrival_ms (the end
 * row's time), run_ms (that time minus the pod's arrival) and line. */
typedef struct sim_mapped_pod {
	sim_mapped_kind kind;
	char *name;       /* owned; unique per row unless the spec maps it */
	char *namespace;  /* owned; "default" unless mapped */
	char *tenant;     /* owned; NULL when neither mapped nor defaulted */
	char *owner_kind; /* owned; NULL without an owner */
	char *owner_name; /* owned; NULL without an owner */
	GPtrArray *labels; /* owned: key, value, key, value, ... (char *) */
	int64_t cpu_milli;  /* 0 when not set */
	int64_t memory;     /* bytes; 0 when not set */
	int32_t gpu_count;  /* 0 to SIM_TRACE_MAX_GPUS */
	int32_t gpu_milli;  /* per GPU: 1 to 1000 with GPUs, else 0 */
	int64_t arrival_ms; /* from the origin */
	/* -1: runs until the end of the simulation, or, with an end
	 * section, until an end record names the pod */
	int64_t run_ms;
	int line;
} sim_mapped_pod;

/* Releases what `pod` owns and zeroes it. */
void sim_mapped_pod_clear(sim_mapped_pod *pod);

typedef struct sim_mapped_reader sim_mapped_reader;

/* Opens the trace at `path` for reading with `mapping` (borrowed: it must
 * outlive the reader). A CSV header is read here, and a column that the
 * spec names but the header lacks fails here. `options` may be NULL. The
 * caller frees `*out` with sim_mapped_reader_free(). */
int sim_mapped_reader_open(const char *path, const sim_mapping *mapping,
			   const sim_read_options *options,
			   sim_mapped_reader **out, score_error *err);

/* Same over a buffer (borrowed: it must outlive the reader); `name` is
 * used in messages. */
int sim_mapped_reader_open_buffer(const char *name, const char *text,
				  size_t length, const sim_mapping *mapping,
				  const sim_read_options *options,
				  sim_mapped_reader **out, score_error *err);

/* Reads the next record into `pod`, which the caller releases with
 * sim_mapped_pod_clear(). Returns 1 for a pod or an end record (see
 * pod->kind), 0 at the end, or a negative errno: a malformed row without
 * skip_bad_rows, or, at the end, a trace without a single pod (empty,
 * every row skipped or filtered out). Arrivals, end times included, never
 * go backwards. */
int sim_mapped_reader_next(sim_mapped_reader *reader, sim_mapped_pod *pod,
			   score_error *err);

/* Returns the number of malformed rows skipped so far and, through
 * `first` when not NULL, why the first was skipped (borrowed). */
size_t sim_mapped_reader_skipped(const sim_mapped_reader *reader,
				 const char **first);

/* Returns the number of rows the spec's filter rejected so far. */
size_t sim_mapped_reader_filtered(const sim_mapped_reader *reader);

/* End rows read so far, for a spec with an end section; all 0 without. */
typedef struct sim_mapped_end_counts {
	size_t matched;   /* end rows that ended an open pod */
	/* End rows whose key matched no open pod: a pod that never started
	 * (or whose start row was filtered out or skipped), one that has
	 * already ended, or one whose start row comes later. */
	size_t unmatched;
	size_t open; /* pods started and not ended yet; at the end of the
		      * trace, the pods whose end never came */
} sim_mapped_end_counts;

void sim_mapped_reader_end_counts(const sim_mapped_reader *reader,
				  sim_mapped_end_counts *out);

/* Returns how many of the unmatched end rows that the last call of
 * sim_mapped_reader_next() read have a time after `time_ms` (ms from the origin). A row whose time does
 * not parse counts at the previous record's time. */
size_t sim_mapped_reader_unmatched_after(const sim_mapped_reader *reader,
					 int64_t time_ms);

/* Drops the pods of the row read last that have not been returned yet
 * (fields.replicas), and returns how many there were. */
int32_t sim_mapped_reader_drop_replicas(sim_mapped_reader *reader);

/* Returns the share of the input read so far, 0 to 1. */
double sim_mapped_reader_fraction(const sim_mapped_reader *reader);

void sim_mapped_reader_free(sim_mapped_reader *reader);

#endif
