/* The simulator's pod record and its model of kube-scheduler's scheduling
 * queue: an active queue, a backoff queue and a set of unschedulable pods.
 *
 * The rules follow kube-scheduler's PriorityQueue
 * (pkg/scheduler/internal/queue/scheduling_queue.go at kubernetes/kubernetes
 * commit 96c20d8e02cb, with the SchedulerQueueingHints feature gate off):
 *
 * - a new pod enters the active queue, which pops the pod with the oldest
 *   queue timestamp first (PrioritySort with every pod at priority 0);
 * - each pop counts an attempt; a pod that fits no node goes to the
 *   unschedulable set with its timestamp set to the time of the failure;
 * - a cluster event that may make pods schedulable (a pod leaving a node, a
 *   node added or becoming Ready) moves every unschedulable pod to the
 *   backoff queue if its backoff has not ended, else to the active queue;
 * - the backoff after attempt n is 1 s doubled n - 1 times, at most 10 s
 *   (podInitialBackoffSeconds, podMaxBackoffSeconds), counted from the
 *   timestamp;
 * - every 30 s, pods that have stayed in the unschedulable set longer than
 *   5 minutes (podMaxInUnschedulablePodsDuration) are moved the same way.
 *
 * kube-scheduler moves pods whose backoff has ended from the backoff queue
 * once a second; the simulator moves each at the exact end of its backoff,
 * so its retries can come up to 1 s earlier. Queueing hints, which let a
 * plugin skip events that cannot help a pod, are not modelled: every event
 * above moves every unschedulable pod. With hints, NodeResourcesFit still
 * queues the pods it rejected on every deletion of a bound pod
 * (isSchedulableAfterPodEvent in pkg/scheduler/framework/plugins/
 * noderesources/fit.go), so only node additions would move fewer pods.
 * sim/placement.h makes the retries that cannot succeed cheap instead.
 *
 * Threads: none; the engine owns the queue.
 */
#ifndef STOWAGE_SIM_QUEUE_H
#define STOWAGE_SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/gpu.h"
#include "scoring/model.h"

typedef enum sim_pod_state {
	SIM_POD_ACTIVE = 0,
	SIM_POD_BACKOFF,
	SIM_POD_UNSCHEDULABLE,
	SIM_POD_RUNNING,
	SIM_POD_DONE,
} sim_pod_state;

/* The GPU share a pod requests and, while it runs, the devices it holds. */
typedef struct sim_gpu_binding {
	score_gpu_pod shape;
	int devices[SCORE_GPU_MAX_DEVICES];
	int n_devices;
} sim_gpu_binding;

/* One pod from arrival to departure. Times are simulated milliseconds. */
typedef struct sim_pod {
	/* Owned by the record while the pod waits; while it runs the model
	 * owns it and this pointer is borrowed. */
	score_pod *pod;
	sim_gpu_binding *gpu; /* owned; NULL for pods without GPUs */
	uint64_t index;       /* arrival number, from 0 */
	int line;             /* source line, 0 for generated pods */
	sim_pod_state state;

	int64_t arrival_ms;
	int64_t run_ms;           /* run time left; -1 runs until the end */
	int64_t first_start_ms;   /* -1 until the pod first starts */
	int64_t end_ms;           /* planned departure while running */
	int64_t waiting_since_ms; /* start of the current wait */
	int64_t pending_ms;       /* all waits so far */

	/* The placement's memo of the last failed attempt
	 * (sim_placement_choose()); 0 when there is none. */
	uint64_t unfit_mark;

	/* Queue state: QueuedPodInfo.Timestamp and Attempts. Attempts count
	 * from 0 again when an evicted pod is queued as a new pod. */
	int64_t timestamp_ms;
	uint32_t attempts;
	uint32_t total_attempts;
	uint32_t evictions;

	/* Events in the engine's heap that name this record, and a number
	 * that changes whenever those events become stale. */
	uint32_t events;
	uint32_t generation;

	struct sim_pod *prev; /* unschedulable list links */
	struct sim_pod *next;
} sim_pod;

typedef struct sim_queue_config {
	int64_t initial_backoff_ms;   /* 1 s */
	int64_t max_backoff_ms;       /* 10 s */
	int64_t max_unschedulable_ms; /* 5 min */
	int64_t flush_interval_ms;    /* 30 s */
} sim_queue_config;

/* Called when a pod enters the backoff queue: the engine wakes it at
 * `at_ms` with sim_queue_backoff_done(). */
typedef void (*sim_queue_wake_fn)(void *data, sim_pod *pod, int64_t at_ms);

typedef struct sim_queue {
	sim_queue_config config;
	GPtrArray *active; /* binary heap of sim_pod *, borrowed */
	sim_pod *unschedulable_head; /* oldest timestamp first */
	sim_pod *unschedulable_tail;
	size_t n_unschedulable;
	size_t n_backoff;
	sim_queue_wake_fn on_backoff;
	void *data;
} sim_queue;

/* Fills `config` with kube-scheduler's defaults listed above. */
void sim_queue_defaults(sim_queue_config *config);

/* `on_backoff` is required. The queue borrows the pods it holds. */
void sim_queue_init(sim_queue *queue, const sim_queue_config *config,
		    sim_queue_wake_fn on_backoff, void *data);
void sim_queue_release(sim_queue *queue);

/* Returns the backoff after `attempts` attempts (1 s, 2 s, 4 s, 8 s, 10 s,
 * 10 s, ... with the defaults); 0 attempts have no backoff. */
int64_t sim_queue_backoff_ms(const sim_queue_config *config, uint32_t attempts);

/* Queues a new pod, or one queued again as new after an eviction: no
 * attempts, timestamp `now_ms`, in the active queue. */
void sim_queue_add(sim_queue *queue, sim_pod *pod, int64_t now_ms);

/* Removes the next pod from the active queue and counts an attempt;
 * returns NULL when the active queue is empty. */
sim_pod *sim_queue_pop(sim_queue *queue);

/* Puts a popped pod that fit no node into the unschedulable set. */
void sim_queue_add_unschedulable(sim_queue *queue, sim_pod *pod,
				 int64_t now_ms);

/* Moves every unschedulable pod to the backoff or active queue, for a
 * cluster event. Returns the number moved. */
size_t sim_queue_move_all(sim_queue *queue, int64_t now_ms);

/* Moves the pods that have been unschedulable longer than
 * max_unschedulable_ms, for the periodic flush. Returns the number moved. */
size_t sim_queue_flush_unschedulable(sim_queue *queue, int64_t now_ms);

/* Moves a pod whose backoff has ended to the active queue. */
void sim_queue_backoff_done(sim_queue *queue, sim_pod *pod);

/* Returns the pods waiting in all three parts. */
size_t sim_queue_pending(const sim_queue *queue);

#endif
