/* The churn simulator's discrete-event engine. Pods arrive from a source,
 * wait in a model of kube-scheduler's queue (sim/queue.h), are placed
 * through the scoring pipeline (sim/placement.h), run in the cluster model
 * (scoring/model.h) and leave. Nodes can be added, removed, fail and
 * recover.
 *
 * Time is simulated milliseconds from 0. Events sit in a binary heap keyed
 * by (time, sequence number), the sequence number counting pushes, so
 * events at equal times come out in the order they were pushed and every
 * run is repeated exactly. After all events of one instant, the engine
 * empties the active queue, trying each pod in turn; scheduling takes no
 * simulated time.
 *
 * Memory grows with the pods in the simulation, not with the length of the
 * workload: the source is read one arrival ahead, and a pod's record is
 * freed when it leaves.
 *
 * A pod runs for its run time from the moment it starts, so a pod that
 * waits leaves later. A pod evicted from a node (the node was removed, or
 * stayed NotReady for the eviction timeout) is queued again as a new pod
 * with the run time it had left, as a controller would recreate it.
 *
 * A source may also deliver ends (sim_arrival.end_uid set), in time order
 * with its arrivals: the live pod with that uid leaves at the end's time,
 * whatever its run time. A running pod leaves its node. A waiting pod
 * leaves the queue, and the observer's `finished` callback reports it as
 * completed with no node. An end for a uid that is not live is counted in
 * stats.unmatched_ends and changes nothing. A pod with run time -1 whose
 * end never comes runs until the end of the simulation.
 *
 * Threads: none.
 */
#ifndef STOWAGE_SIM_ENGINE_H
#define STOWAGE_SIM_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/model.h"
#include "sim/placement.h"
#include "sim/queue.h"
#include "sim/template.h"

/* ---- Event heap ---------------------------------------------------------- */

typedef enum sim_event_kind {
	SIM_EVENT_ARRIVAL = 0,
	SIM_EVENT_DEPARTURE,
	SIM_EVENT_BACKOFF, /* a pod's backoff ends */
	SIM_EVENT_FLUSH,   /* the periodic flush of unschedulable pods */
	SIM_EVENT_NODE,    /* a node event from the configuration */
	SIM_EVENT_EVICT,   /* a NotReady node's eviction timeout ends */
} sim_event_kind;

typedef struct sim_event {
	int64_t time_ms;
	uint64_t seq;
	void *subject; /* borrowed: a sim_pod, a sim_node_event or a node name */
	uint32_t kind;
	uint32_t generation; /* the subject's generation when pushed */
} sim_event;

typedef struct sim_event_heap {
	GArray *items; /* sim_event, heap-ordered */
	uint64_t next_seq;
} sim_event_heap;

void sim_event_heap_init(sim_event_heap *heap);
void sim_event_heap_release(sim_event_heap *heap);
void sim_event_heap_push(sim_event_heap *heap, int64_t time_ms,
			 sim_event_kind kind, void *subject, uint32_t generation);
/* Removes the earliest event into `out`; false when the heap is empty. */
bool sim_event_heap_pop(sim_event_heap *heap, sim_event *out);
/* Returns the earliest event without removing it, or NULL. Borrowed. */
const sim_event *sim_event_heap_peek(const sim_event_heap *heap);
size_t sim_event_heap_size(const sim_event_heap *heap);

/* ---- Inputs -------------------------------------------------------------- */

/* One pod as a source delivers it. */
typedef struct sim_arrival {
	score_pod *pod;       /* owned; uid, name, namespace, labels, requests set */
	sim_gpu_binding *gpu; /* owned; NULL for pods without GPUs */
	int64_t time_ms;
	int64_t run_ms; /* run time; -1 runs until the end of the simulation */
	int line;       /* source line for messages; 0 when generated */
	/* Owned. Not NULL for an end rather than an arrival: the live pod
	 * with this uid ends at time_ms. `pod` and `gpu` are then NULL, and
	 * run_ms is the time from its arrival to its end in the trace. */
	char *end_uid;
} sim_arrival;

/* A stream of arrivals in time order. */
typedef struct sim_source {
	/* Fills `out` and returns 1, returns 0 at the end, or a negative
	 * errno with `err` filled. */
	int (*next)(void *data, sim_arrival *out, score_error *err);
	/* Share of the source read, 0 to 1; NULL when unknown. */
	double (*fraction)(void *data);
	void *data;
	const char *name; /* for messages: a file name or "generator" */
} sim_source;

/* Releases what an arrival owns. */
void sim_arrival_release(sim_arrival *arrival);

typedef enum sim_node_event_kind {
	SIM_NODE_ADD = 0,
	SIM_NODE_REMOVE, /* drain: the pods are evicted at once */
	SIM_NODE_FAIL,   /* NotReady: pods evicted after the eviction timeout */
	SIM_NODE_RECOVER,
} sim_node_event_kind;

typedef struct sim_node_event {
	int64_t time_ms;
	sim_node_event_kind kind;
	char *node;           /* owned */
	sim_node_shape shape; /* owned; SIM_NODE_ADD only */
	char *zone;           /* owned; SIM_NODE_ADD only, may be NULL */
	char *rack;           /* owned; SIM_NODE_ADD only, may be NULL */
	char *file;           /* owned: the node event file, for messages; may be NULL */
	int line;             /* line in that file */
} sim_node_event;

void sim_node_event_release(sim_node_event *event);

/* ---- Outputs ------------------------------------------------------------- */

/* The cluster at one sample time. Percentages are of allocatable on the
 * nodes present; `pending` counts every queued pod, `unschedulable` those
 * whose last attempt failed (backoff queue and unschedulable set). */
typedef struct sim_sample {
	int64_t time_ms;
	double cpu_pct;
	double memory_pct;
	double pods_pct;
	double gpu_pct;      /* 0 without GPUs */
	double gpu_frag_pct; /* fragmented milli-GPU over cluster milli-GPU */
	uint64_t running;
	uint64_t pending;
	uint64_t unschedulable;
	uint32_t nodes;
	uint32_t nodes_used; /* nodes with at least one pod */
	/* Tenant co-residency, filled by the metrics (sim/tenancy.h), not
	 * the engine: nodes with pods of two tenants or more, and the
	 * tenant pairs, and untrusted tenant pairs, with pods on one node. */
	uint32_t shared_nodes;
	uint32_t tenant_pairs;
	uint32_t untrusted_pairs;
} sim_sample;

typedef enum sim_pod_outcome {
	SIM_OUTCOME_COMPLETED = 0, /* ran its run time and left */
	SIM_OUTCOME_RUNNING,       /* still running at the end */
	SIM_OUTCOME_PENDING,       /* still waiting at the end */
	/* ended by the source (sim_arrival.end_uid) while it waited */
	SIM_OUTCOME_ENDED_WAITING,
} sim_pod_outcome;

/* Callbacks for what the engine measures; any may be NULL. */
typedef struct sim_observer {
	void (*sample)(void *data, const sim_sample *sample);
	/* Drop every second sample kept so far: the engine has doubled its
	 * sample interval to stay under max_samples. */
	void (*compact)(void *data);
	/* A pod started for the first time after waiting `pending_ms`. */
	void (*started)(void *data, const sim_pod *pod, int64_t pending_ms);
	/* A pod left, or the simulation ended with it still in. `node` is
	 * the node it ran on last, or NULL. */
	void (*finished)(void *data, const sim_pod *pod, const char *node,
			 sim_pod_outcome outcome, int64_t now_ms);
	/* A pod was placed on `node`, its first start or a later one, and
	 * is counted there already. */
	void (*bound)(void *data, const sim_pod *pod, const score_node *node);
	/* A pod is about to leave `node`: it completed or was evicted. It
	 * is still counted there. */
	void (*unbound)(void *data, const sim_pod *pod, const score_node *node);
	/* Called every few thousand events with `progress_data`. */
	void (*progress)(void *progress_data, int64_t now_ms, uint64_t arrivals,
			 double fraction);
	void *data;
	void *progress_data;
} sim_observer;

/* Counters over the whole run. */
typedef struct sim_engine_stats {
	uint64_t arrivals;
	uint64_t started;   /* pods that started at least once */
	uint64_t completed;
	uint64_t running;   /* now */
	uint64_t evictions;
	uint64_t attempts;  /* scheduling attempts */
	uint64_t failed_attempts;
	uint64_t events;
	uint64_t peak_pending;
	int64_t peak_pending_ms; /* time of the first peak */
	uint64_t nodes_evaluated;
	int64_t end_ms;          /* simulated time at the end */
	bool interrupted;        /* ended early by config.stop */
	int64_t sample_ms;       /* the sample interval in the end */
	/* Ends from the source that ended a live pod, and how many of those
	 * pods were waiting in the queue. `completed` leaves the waiting ones
	 * out, and so does `started` unless they ran before an eviction.
	 * unmatched_ends counts the ends whose uid was not live. */
	uint64_t ends;
	uint64_t ended_waiting;
	uint64_t unmatched_ends;
	/* With config.skip_duplicate_names: the arrivals skipped because a
	 * live pod had their name, and the line of the first (0 for none). */
	uint64_t skipped_duplicates;
	int first_skipped_duplicate_line;
} sim_engine_stats;

/* ---- Engine -------------------------------------------------------------- */

typedef struct sim_engine_config {
	sim_placement_config placement;
	sim_queue_config queue;
	/* Stop after the events at this time; -1 to stop when no arrivals,
	 * departures, node events or backoffs remain. */
	int64_t end_ms;
	int64_t sample_ms; /* sample interval, > 0 */
	/* Double the sample interval whenever this many samples have been
	 * taken; 0 for no limit. */
	size_t max_samples;
	/* How long a NotReady node keeps its pods: the 300 s of the
	 * node.kubernetes.io/not-ready toleration that Kubernetes adds to
	 * every pod by default. */
	int64_t eviction_timeout_ms;
	/* GPU model names of nodes and pods; borrowed, may be NULL when no
	 * node has GPUs. */
	score_gpu_models *gpu_models;
	/* The model's resource table; borrowed, and it must outlive the
	 * engine. NULL makes the engine create its own. A policy file
	 * (sim/policyfile.h) must be loaded with the table the model uses,
	 * because its resource names take slots there. */
	score_resource_table *resources;
	/* NULL, or a flag that a signal handler sets: once it is nonzero,
	 * the run ends after the events of the current simulated time, as if
	 * that were its end time, and stats.interrupted is set. */
	const volatile sig_atomic_t *stop;
	/* Skip and count an arrival whose name a live pod has, where the run
	 * would fail otherwise (--skip-bad-rows). */
	bool skip_duplicate_names;
} sim_engine_config;

/* Fills `config` with the defaults: kube-default, the queue defaults,
 * end -1, samples every 60 s without a limit, eviction after 300 s. */
void sim_engine_defaults(sim_engine_config *config);

typedef struct sim_engine sim_engine;

/* The caller frees the engine with sim_engine_free(). */
int sim_engine_new(const sim_engine_config *config, sim_engine **out,
		   score_error *err);
void sim_engine_free(sim_engine *engine);

/* Adds a node at time 0 with the given topology labels (NULL for none).
 * Fails for a duplicate name or too many GPU models. */
int sim_engine_add_node(sim_engine *engine, const char *name,
			const sim_node_shape *shape, const char *zone,
			const char *rack, score_error *err);

/* Schedules a node event; takes ownership of `event`. */
/* Adds a node at time 0 from a Kubernetes Node object (borrowed): CPU,
 * memory, pods and GPUs come from `shape`, and the node's labels (its
 * zone included), taints, unschedulable flag and extended resources from
 * `node`, whose extended resource slots must be those of the engine's
 * resource table. Fails as sim_engine_add_node() does. */
int sim_engine_add_node_object(sim_engine *engine, const score_node *node,
			       const sim_node_shape *shape, score_error *err);

void sim_engine_add_node_event(sim_engine *engine, sim_node_event *event);

/* Runs the simulation: reads the source to its end, or to end_ms.
 * Calls the observer as it goes and, at the end, `finished` for every pod
 * still in. Fails on a source error, arrivals out of time order, two live
 * pods with one name (unless config.skip_duplicate_names), a node event naming an unknown node, or an added
 * node whose name is taken. Node event messages start with FILE:LINE. A
 * fail of a node that is not Ready and a recover of a Ready node change
 * nothing, because sim_node_events_check() rejects both before a run. */
int sim_engine_run(sim_engine *engine, const sim_source *source,
		   const sim_observer *observer, score_error *err);

const sim_engine_stats *sim_engine_stats_of(const sim_engine *engine);

/* The model, for tests and reports. Borrowed. */
score_model *sim_engine_model(sim_engine *engine);

#endif
