/* Inputs of churn runs: arrival sources over the synthetic generator and
 * over openb pod lists read as a stream, the typical pods of each for GPU
 * fragmentation, and node event files.
 *
 * Pods from the generator are named pod-0000001, pod-0000002, ... in
 * namespaces tenant-00, tenant-01, ... with the label app=app-N. Pods from a
 * pod list keep their names, go to namespace "default", arrive at
 * creation_time and run for deletion_time - creation_time seconds once
 * started. Their qos, pod_phase and scheduled_time are read but not used,
 * so pods that were never scheduled in the trace arrive like the others. A CPU or
 * memory request of 0 counts as not set: kube-scheduler's scoring then uses
 * 100m and 200Mi for it.
 *
 * Node event files are CSV with the header time,event,node and optionally
 * shape, zone and rack. The time is a duration from the start ("90s",
 * "2h"), the event one of add, remove, fail and recover, and the rows are
 * in time order (equal times keep their order). An added node needs a
 * shape, written as sim/template.h describes.
 */
#ifndef STOWAGE_SIM_SOURCES_H
#define STOWAGE_SIM_SOURCES_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/gpu.h"
#include "sim/engine.h"
#include "sim/fitcheck.h"
#include "sim/generator.h"
#include "sim/mapping.h"
#include "sim/trace.h"

/* ---- Generator ----------------------------------------------------------- */

/* Fills `source` to draw from `generator` (borrowed). */
void sim_generator_source(sim_generator *generator, sim_source *source);

/* Typical pods of the generator's shape table for GPU fragmentation: the
 * shapes in proportion to their weights. Returns NULL when no shape has
 * GPUs. The caller frees the result with score_gpu_typical_free(). */
score_gpu_typical *sim_generator_typical(const sim_generator_config *config);

/* ---- Pod lists ----------------------------------------------------------- */

typedef struct sim_trace_source sim_trace_source;

/* Opens a pod list for churn replay; it must have creation_time and
 * deletion_time and be sorted by creation_time. GPU model names in gpu_spec
 * are added to `models` (borrowed; it must outlive the source). Fills
 * `source`; the caller frees `*out` with sim_trace_source_free(). */
int sim_trace_source_open(const char *path, const sim_read_options *options,
			  score_gpu_models *models, sim_trace_source **out,
			  sim_source *source, score_error *err);
void sim_trace_source_free(sim_trace_source *trace);

/* Rows skipped so far, and why the first was (borrowed). */
size_t sim_trace_source_skipped(const sim_trace_source *trace,
				const char **first);

/* Reads the whole pod list once, before a replay. Stores the time the last
 * pod would leave if every pod started at once (the largest deletion_time)
 * in `*end_ms`, and with `typical` not NULL the typical pods (95%
 * coverage), NULL when no pod requests GPUs. With `fit` not NULL, passes
 * every pod to sim_fit_check_add_pods(). Memory grows with the list only
 * for the typical pods: 32 bytes a pod while it runs. The caller frees
 * `*typical` with score_gpu_typical_free(). */
int sim_trace_scan(const char *path, const sim_read_options *options,
		   score_gpu_models *models, score_gpu_typical **typical,
		   sim_fit_check *fit, int64_t *end_ms, score_error *err);

/* Reads `source` to its end once, before a replay, as sim_trace_scan()
 * does for a pod list: the latest departure in `*end_ms` (the arrival for
 * pods that never leave, the time of an end), the typical pods when
 * `typical` is not NULL, and every pod passed to `fit` when not NULL. */
int sim_source_scan(const sim_source *source, score_gpu_typical **typical,
		    sim_fit_check *fit, int64_t *end_ms, score_error *err);

typedef struct sim_mapped_source sim_mapped_source;

/* What a long scan may do besides reading: stop on a signal, report
 * progress, and count the pods of a replicated row at once. */
typedef struct sim_scan_control {
	/* Borrowed; when it turns nonzero the scan stops with -EINTR. */
	const volatile sig_atomic_t *stop;
	/* Called every few thousand records with the pods read so far and
	 * the share of the source read (negative when unknown); may be NULL. */
	void (*progress)(void *data, uint64_t pods, double fraction);
	void *progress_data;
	/* The trace behind the source when it is a generic trace, else NULL:
	 * a row of N pods then counts as N pods of one shape, read once. */
	sim_mapped_source *mapped;
} sim_scan_control;

/* sim_source_scan() with `control` (borrowed; NULL acts as all zero). */
int sim_source_scan_controlled(const sim_source *source,
			       const sim_scan_control *control,
			       score_gpu_typical **typical, sim_fit_check *fit,
			       int64_t *end_ms, score_error *err);

/* ---- Generic traces ------------------------------------------------------ */

/* A CSV or JSON-lines trace read through a mapping spec (sim/mapping.h).
 * Pods get the uid NAMESPACE/NAME, their labels, tenant and owner. The end
 * records of a spec with an end section become ends (sim_arrival.end_uid)
 * of the pod with that uid. */

/* Opens `path` for replay with `mapping` (borrowed: it must outlive the
 * source). Fills `source`; the caller frees `*out` with
 * sim_mapped_source_free(). */
int sim_mapped_source_open(const char *path, const sim_mapping *mapping,
			   const sim_read_options *options,
			   sim_mapped_source **out, sim_source *source,
			   score_error *err);
void sim_mapped_source_free(sim_mapped_source *trace);

/* Drops the pods of the row returned last that have not been returned yet
 * (fields.replicas), and returns how many there were. */
int32_t sim_mapped_source_drop_replicas(sim_mapped_source *trace);

/* Rows skipped as malformed so far, and why the first was (borrowed);
 * rows the spec's filter rejected so far. */
size_t sim_mapped_source_skipped(const sim_mapped_source *trace,
				 const char **first);
size_t sim_mapped_source_filtered(const sim_mapped_source *trace);

/* End rows read so far, as sim_mapped_reader_end_counts() counts them. */
void sim_mapped_source_end_counts(const sim_mapped_source *trace,
				  sim_mapped_end_counts *out);

/* End rows that a run of sim_engine_run() over `trace` consumed, when it
 * stopped at `end_ms`. The engine reads one record ahead, so a run that
 * stopped before the end of the trace (at the --duration or on a signal)
 * has read a record that it never applied. That record and the unmatched
 * end rows after `end_ms` are left out. */
void sim_mapped_source_consumed_end_counts(const sim_mapped_source *trace,
					   int64_t end_ms,
					   sim_mapped_end_counts *out);

/* ---- Node events --------------------------------------------------------- */

/* Reads a node event file into `events` (sim_node_event *, owned by the
 * array's caller). Errors name the file, line and column; a time before
 * the previous row's is an error. */
int sim_node_events_read(const char *path, GPtrArray *events,
			 score_error *err);

/* Checks `events` (sim_node_event *, in time order) against a cluster that
 * starts with the node names `nodes` (char *). A removed, failed or
 * recovered node must be in the cluster at that time, and an added name
 * must not. A fail needs a Ready node and a recover a failed one. A
 * removed node's name may be added again. Messages start with FILE:LINE. */
int sim_node_events_check(const GPtrArray *events, const GPtrArray *nodes,
			  score_error *err);

#endif
