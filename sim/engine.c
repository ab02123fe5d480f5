/* The discrete-event engine of churn runs; see engine.h. */
#include "sim/engine.h"

#include <errno.h>
#include <string.h>

/* Events between two progress callbacks. */
#define PROGRESS_EVERY 4096

/* ---- Event heap ---------------------------------------------------------- */

void sim_event_heap_init(sim_event_heap *heap)
{
	heap->items = g_array_new(FALSE, FALSE, sizeof(sim_event));
	heap->next_seq = 0;
}

void sim_event_heap_release(sim_event_heap *heap)
{
	if (heap->items != NULL)
		g_array_free(heap->items, TRUE);
	heap->items = NULL;
}

static bool event_before(const sim_event *a, const sim_event *b)
{
	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms;
	return a->seq < b->seq;
}

void sim_event_heap_push(sim_event_heap *heap, int64_t time_ms,
			 sim_event_kind kind, void *subject, uint32_t generation)
{
	sim_event event = {
		.time_ms = time_ms,
		.seq = heap->next_seq++,
		.subject = subject,
		.kind = kind,
		.generation = generation,
	};
	sim_event *items;
	guint i;

	g_array_append_val(heap->items, event);
	items = (sim_event *)(void *)heap->items->data;
	i = heap->items->len - 1;
	while (i > 0) {
		guint parent = (i - 1) / 2;

		if (!event_before(&items[i], &items[parent]))
			break;
		event = items[i];
		items[i] = items[parent];
		items[parent] = event;
		i = parent;
	}
}

bool sim_event_heap_pop(sim_event_heap *heap, sim_event *out)
{
	sim_event *items = (sim_event *)(void *)heap->items->data;
	guint n = heap->items->len;
	guint i = 0;

	if (n == 0)
		return false;
	*out = items[0];
	items[0] = items[n - 1];
	g_array_set_size(heap->items, --n);

	for (;;) {
		guint left = 2 * i + 1;
		guint right = left + 1;
		guint first = i;
		sim_event swap;

		if (left < n && event_before(&items[left], &items[first]))
			first = left;
		if (right < n && event_before(&items[right], &items[first]))
			first = right;
		if (first == i)
			break;
		swap = items[i];
		items[i] = items[first];
		items[first] = swap;
		i = first;
	}
	return true;
}

const sim_event *sim_event_heap_peek(const sim_event_heap *heap)
{
	if (heap->items->len == 0)
		return NULL;
	return &g_array_index(heap->items, sim_event, 0);
}

size_t sim_event_heap_size(const sim_event_heap *heap)
{
	return heap->items->len;
}

/* ---- Inputs -------------------------------------------------------------- */

void sim_arrival_release(sim_arrival *arrival)
{
	score_pod_free(arrival->pod);
	g_free(arrival->gpu);
	g_free(arrival->end_uid);
	memset(arrival, 0, sizeof(*arrival));
}

void sim_node_event_release(sim_node_event *event)
{
	g_free(event->node);
	g_free(event->zone);
	g_free(event->rack);
	g_free(event->file);
	sim_node_shape_release(&event->shape);
	memset(event, 0, sizeof(*event));
}

/* ---- Engine state -------------------------------------------------------- */

/* What the engine keeps per node beyond the model. */
typedef struct node_info {
	uint32_t generation; /* changes on recovery, cancelling an eviction */
	bool pending_eviction;
} node_info;

struct sim_engine {
	sim_engine_config config;
	score_resource_table *resources;
	bool own_resources;
	score_model *model;
	sim_placement *placement;
	sim_queue queue;
	sim_event_heap heap;

	GHashTable *live;  /* interned uid -> sim_pod, every pod in the run */
	/* Pods whose end came while they waited (a set of sim_pod, owned),
	 * no longer in `live`. The queue has no way to remove a pod, so they
	 * stay in it until popped and are dropped then. */
	GHashTable *ended_in_queue;
	GHashTable *nodes; /* interned name -> node_info, owned */
	GPtrArray *node_events; /* sim_node_event, owned */

	const sim_source *source;
	const sim_observer *observer;
	sim_arrival next_arrival;
	bool have_arrival;
	int64_t last_arrival_ms;
	score_error *error; /* where a failure inside an event goes */
	int failed;         /* its code, 0 while the run is fine */

	int64_t now_ms;
	uint64_t events_at_progress;
	int64_t next_sample_ms;
	size_t samples_taken;
	bool flush_scheduled;
	/* Events whose absence ends a run without end_ms: all but flushes. */
	size_t real_events;

	/* Cluster totals for the allocation percentages. */
	int64_t allocatable[SCORE_RES_FIRST_EXTENDED];
	int64_t requested[SCORE_RES_FIRST_EXTENDED];
	uint32_t nodes_used;
	bool gpus;

	sim_engine_stats stats;
};

void sim_engine_defaults(sim_engine_config *config)
{
	memset(config, 0, sizeof(*config));
	config->placement.policy.kind = SIM_POLICY_KUBE_DEFAULT;
	sim_queue_defaults(&config->queue);
	config->end_ms = -1;
	config->sample_ms = 60 * 1000;
	config->eviction_timeout_ms = 300 * 1000;
}

static void push_event(sim_engine *engine, int64_t time_ms, sim_event_kind kind,
		       void *subject, uint32_t generation)
{
	if (kind == SIM_EVENT_DEPARTURE || kind == SIM_EVENT_BACKOFF) {
		sim_pod *pod = subject;

		pod->events++;
	}
	if (kind != SIM_EVENT_FLUSH)
		engine->real_events++;
	sim_event_heap_push(&engine->heap, time_ms, kind, subject, generation);
}

static void on_backoff(void *data, sim_pod *pod, int64_t at_ms)
{
	sim_engine *engine = data;

	push_event(engine, at_ms, SIM_EVENT_BACKOFF, pod, pod->generation);
}

int sim_engine_new(const sim_engine_config *config, sim_engine **out,
		   score_error *err)
{
	sim_engine *engine;
	int ret;

	*out = NULL;
	if (config->sample_ms <= 0)
		return score_fail(err, -EINVAL,
				  "invalid sample interval %lld ms: give a positive interval",
				  (long long)config->sample_ms);

	engine = g_new0(sim_engine, 1);
	engine->config = *config;
	engine->resources = config->resources;
	engine->own_resources = config->resources == NULL;
	if (engine->own_resources)
		engine->resources = score_resource_table_new();
	engine->model = score_model_new(engine->resources);
	sim_queue_init(&engine->queue, &config->queue, on_backoff, engine);
	sim_event_heap_init(&engine->heap);
	engine->live = g_hash_table_new(g_str_hash, g_str_equal);
	engine->ended_in_queue = g_hash_table_new(g_direct_hash, g_direct_equal);
	engine->nodes = g_hash_table_new_full(g_str_hash, g_str_equal,
					      (GDestroyNotify)score_unintern, g_free);
	engine->node_events = g_ptr_array_new();
	engine->gpus = config->placement.gpus;

	ret = sim_placement_new(&config->placement, engine->model,
				&engine->placement, err);
	if (ret < 0) {
		sim_engine_free(engine);
		return ret;
	}
	*out = engine;
	return 0;
}

static void pod_record_free(sim_pod *pod)
{
	/* A running pod's score_pod belongs to the model. */
	if (pod->state != SIM_POD_RUNNING)
		score_pod_free(pod->pod);
	g_free(pod->gpu);
	g_free(pod);
}

void sim_engine_free(sim_engine *engine)
{
	GHashTableIter iter;
	gpointer value;
	sim_event event;

	if (engine == NULL)
		return;

	/* Ended pods still queued: freed now, or below by the last event
	 * that names them. */
	g_hash_table_iter_init(&iter, engine->ended_in_queue);
	while (g_hash_table_iter_next(&iter, &value, NULL)) {
		sim_pod *pod = value;

		pod->state = SIM_POD_DONE;
		if (pod->events == 0)
			pod_record_free(pod);
	}
	g_hash_table_destroy(engine->ended_in_queue);

	/* Records of finished pods that stale events still name. */
	while (sim_event_heap_pop(&engine->heap, &event)) {
		if (event.kind == SIM_EVENT_EVICT)
			score_unintern(event.subject);
		if (event.kind != SIM_EVENT_DEPARTURE && event.kind != SIM_EVENT_BACKOFF)
			continue;
		sim_pod *pod = event.subject;

		if (--pod->events == 0 && pod->state == SIM_POD_DONE)
			pod_record_free(pod);
	}
	g_hash_table_iter_init(&iter, engine->live);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		sim_pod *pod = value;

		g_hash_table_iter_remove(&iter);
		pod_record_free(pod);
	}
	g_hash_table_destroy(engine->live);

	for (guint i = 0; i < engine->node_events->len; i++) {
		sim_node_event_release(engine->node_events->pdata[i]);
		g_free(engine->node_events->pdata[i]);
	}
	g_ptr_array_free(engine->node_events, TRUE);
	if (engine->have_arrival)
		sim_arrival_release(&engine->next_arrival);

	sim_placement_free(engine->placement);
	g_hash_table_destroy(engine->nodes);
	sim_event_heap_release(&engine->heap);
	sim_queue_release(&engine->queue);
	score_model_free(engine->model);
	if (engine->own_resources)
		score_resource_table_free(engine->resources);
	g_free(engine);
}

const sim_engine_stats *sim_engine_stats_of(const sim_engine *engine)
{
	return &engine->stats;
}

score_model *sim_engine_model(sim_engine *engine)
{
	return engine->model;
}

/* Stops the run with an error raised inside an event. */
static void fail_run(sim_engine *engine, int code, const char *message)
{
	if (engine->failed != 0)
		return;
	engine->failed = code;
	score_fail(engine->error, code, "%s", message);
}

/* ---- Nodes --------------------------------------------------------------- */

static int32_t gpu_model_number(sim_engine *engine, const sim_node_shape *shape,
				score_error *err)
{
	if (shape->gpus == 0 || shape->gpu_model == NULL)
		return -1;
	if (engine->config.gpu_models == NULL)
		return -1;
	return score_gpu_models_index(engine->config.gpu_models, shape->gpu_model, err);
}

/* Copies what a Kubernetes Node object adds to a shape: its labels,
 * taints, unschedulable flag and extended resources. */
static void copy_node_object(score_node *node, const score_node *from)
{
	for (uint32_t i = 0; i < from->labels.count; i++)
		score_labels_set(&node->labels, from->labels.items[i].key,
				 from->labels.items[i].value);
	if (from->n_taints > 0) {
		node->taints = g_new0(score_taint, from->n_taints);
		node->n_taints = from->n_taints;
		for (uint32_t i = 0; i < from->n_taints; i++) {
			node->taints[i] = from->taints[i];
			node->taints[i].key = score_intern(from->taints[i].key);
			node->taints[i].value = score_intern(from->taints[i].value);
		}
	}
	node->unschedulable = from->unschedulable;
	for (int r = SCORE_RES_FIRST_EXTENDED; r < SCORE_RES_MAX; r++)
		node->allocatable.v[r] = from->allocatable.v[r];
}

/* `from` may be NULL; see sim_engine_add_node_object(). */
static int put_node(sim_engine *engine, const char *name,
		    const sim_node_shape *shape, const char *zone,
		    const char *rack, const score_node *from, score_error *err)
{
	score_node *node;
	int32_t gpu_model;

	if (score_model_node(engine->model, name) != NULL)
		return score_fail(err, -EEXIST,
				  "node %s is already in the cluster: node names must be unique",
				  name);
	if (shape->gpus > 0 && !engine->gpus)
		return score_fail(err, -EINVAL,
				  "node %s has GPUs, but the run was set up for a cluster without GPUs",
				  name);
	gpu_model = gpu_model_number(engine, shape, err);
	if (gpu_model < -1)
		return gpu_model;

	node = score_node_new();
	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = shape->cpu_milli;
	node->allocatable.v[SCORE_RES_MEMORY] = shape->memory;
	node->allocatable.v[SCORE_RES_PODS] = shape->pods;
	score_labels_set(&node->labels, SIM_LABEL_HOSTNAME, name);
	if (shape->name != NULL)
		score_labels_set(&node->labels, SIM_LABEL_INSTANCE_TYPE, shape->name);
	if (zone != NULL)
		score_labels_set(&node->labels, SIM_LABEL_ZONE, zone);
	if (rack != NULL)
		score_labels_set(&node->labels, SIM_LABEL_RACK, rack);
	if (from != NULL)
		copy_node_object(node, from);
	score_model_put_node(engine->model, node);

	sim_placement_add_node(engine->placement, name, shape->gpus, gpu_model);
	g_hash_table_replace(engine->nodes, (gpointer)score_intern(name),
			     g_new0(node_info, 1));
	for (int r = 0; r < SCORE_RES_FIRST_EXTENDED; r++)
		engine->allocatable[r] += node->allocatable.v[r];
	return 0;
}

int sim_engine_add_node(sim_engine *engine, const char *name,
			const sim_node_shape *shape, const char *zone,
			const char *rack, score_error *err)
{
	return put_node(engine, name, shape, zone, rack, NULL, err);
}

int sim_engine_add_node_object(sim_engine *engine, const score_node *node,
			       const sim_node_shape *shape, score_error *err)
{
	return put_node(engine, node->name, shape, NULL, NULL, node, err);
}

void sim_engine_add_node_event(sim_engine *engine, sim_node_event *event)
{
	g_ptr_array_add(engine->node_events, event);
}

/* ---- Pods ---------------------------------------------------------------- */

static void count_on_node(sim_engine *engine, const score_pod *pod, int sign)
{
	for (int r = 0; r < SCORE_RES_FIRST_EXTENDED; r++)
		engine->requested[r] += sign * pod->request.v[r];
}

/* A pending copy of a running pod, for queueing it again, with every
 * field that filters read. */
static score_pod *pod_clone_pending(const score_pod *pod)
{
	score_pod *copy = score_pod_new();

	copy->uid = score_intern(pod->uid);
	copy->name = score_intern(pod->name);
	copy->namespace = score_intern(pod->namespace);
	copy->request = pod->request;
	copy->nonzero_request = pod->nonzero_request;
	for (uint32_t i = 0; i < pod->labels.count; i++)
		score_labels_set(&copy->labels, pod->labels.items[i].key,
				 pod->labels.items[i].value);
	if (pod->n_tolerations > 0) {
		copy->tolerations = g_new0(score_toleration, pod->n_tolerations);
		copy->n_tolerations = pod->n_tolerations;
		for (uint32_t i = 0; i < pod->n_tolerations; i++) {
			copy->tolerations[i] = pod->tolerations[i];
			copy->tolerations[i].key = score_intern(pod->tolerations[i].key);
			copy->tolerations[i].value = score_intern(pod->tolerations[i].value);
		}
	}
	copy->host_network = pod->host_network;
	copy->host_pid = pod->host_pid;
	copy->host_ipc = pod->host_ipc;
	copy->privileged = pod->privileged;
	copy->uses_host_path = pod->uses_host_path;
	copy->runtime_class_name = score_intern(pod->runtime_class_name);
	if (pod->n_host_ports > 0) {
		copy->host_ports = g_new0(score_host_port, pod->n_host_ports);
		copy->n_host_ports = pod->n_host_ports;
		for (uint32_t i = 0; i < pod->n_host_ports; i++) {
			copy->host_ports[i] = pod->host_ports[i];
			copy->host_ports[i].host_ip = score_intern(pod->host_ports[i].host_ip);
		}
	}
	copy->owner.kind = score_intern(pod->owner.kind);
	copy->owner.name = score_intern(pod->owner.name);
	copy->owner.uid = score_intern(pod->owner.uid);
	score_pod_set_tenant(copy, pod->tenant);
	copy->phase = SCORE_POD_PENDING;
	return copy;
}

static void notify_finished(sim_engine *engine, const sim_pod *pod,
			    const char *node, sim_pod_outcome outcome)
{
	if (engine->observer->finished != NULL)
		engine->observer->finished(engine->observer->data, pod, node, outcome,
					   engine->now_ms);
}

static void schedule_flush(sim_engine *engine)
{
	int64_t interval = engine->config.queue.flush_interval_ms;

	if (engine->flush_scheduled)
		return;
	/* Flushes run on a fixed 30 s grid from time 0. */
	push_event(engine, (engine->now_ms / interval + 1) * interval,
		   SIM_EVENT_FLUSH, NULL, 0);
	engine->flush_scheduled = true;
}

static void bind_pod(sim_engine *engine, sim_pod *pod, score_node *node)
{
	score_pod *spec = pod->pod;
	bool was_empty = node->pods->len == 0;
	int64_t waited = engine->now_ms - pod->waiting_since_ms;

	spec->node_name = score_intern(node->name);
	spec->phase = SCORE_POD_RUNNING;
	/* The model takes the pod; `node` stays valid, as the node exists. */
	score_model_put_pod(engine->model, spec);
	if (pod->gpu != NULL)
		sim_placement_bind_gpu(engine->placement, node->name, pod->gpu);
	if (engine->gpus)
		sim_placement_node_changed(engine->placement, node->name);
	count_on_node(engine, spec, 1);
	if (was_empty)
		engine->nodes_used++;
	if (engine->observer->bound != NULL)
		engine->observer->bound(engine->observer->data, pod, node);

	pod->state = SIM_POD_RUNNING;
	pod->pending_ms += waited;
	engine->stats.running++;
	if (pod->first_start_ms < 0) {
		pod->first_start_ms = engine->now_ms;
		engine->stats.started++;
		if (engine->observer->started != NULL)
			engine->observer->started(engine->observer->data, pod, waited);
	}
	if (pod->run_ms >= 0) {
		pod->end_ms = engine->now_ms + pod->run_ms;
		push_event(engine, pod->end_ms, SIM_EVENT_DEPARTURE, pod,
			   pod->generation);
	}
}

/* Takes a running pod off its node. The model frees its score_pod, so the
 * record gets a pending copy when `keep` is set. */
static void unbind_pod(sim_engine *engine, sim_pod *pod, bool keep)
{
	score_pod *spec = pod->pod;
	score_node *node = score_model_node(engine->model, spec->node_name);
	score_pod *copy = keep ? pod_clone_pending(spec) : NULL;

	if (node != NULL && engine->observer->unbound != NULL)
		engine->observer->unbound(engine->observer->data, pod, node);
	if (pod->gpu != NULL)
		sim_placement_unbind_gpu(engine->placement, spec->node_name, pod->gpu);
	if (engine->gpus)
		sim_placement_node_changed(engine->placement, spec->node_name);
	sim_placement_node_gained_room(engine->placement, spec->node_name);
	count_on_node(engine, spec, -1);
	engine->stats.running--;
	if (!keep)
		g_hash_table_remove(engine->live, spec->uid);
	score_model_remove_pod(engine->model, spec->uid);
	pod->pod = copy;
	if (node != NULL && node->pods->len == 0)
		engine->nodes_used--;
}

static void try_schedule(sim_engine *engine, sim_pod *pod)
{
	score_node *node;

	engine->stats.attempts++;
	node = sim_placement_choose(engine->placement, pod->pod, pod->gpu,
				    engine->now_ms, &pod->unfit_mark);
	if (node == NULL) {
		engine->stats.failed_attempts++;
		sim_queue_add_unschedulable(&engine->queue, pod, engine->now_ms);
		schedule_flush(engine);
		return;
	}
	bind_pod(engine, pod, node);
}

/* Drops a pod popped from the queue after its end came, or returns
 * false for a pod to schedule. */
static bool drop_ended(sim_engine *engine, sim_pod *pod)
{
	if (!g_hash_table_remove(engine->ended_in_queue, pod))
		return false;
	pod->state = SIM_POD_DONE;
	if (pod->events == 0)
		pod_record_free(pod);
	return true;
}

/* Counts the pods waiting in the queue, less those whose end came. */
static size_t pending_pods(const sim_engine *engine)
{
	return sim_queue_pending(&engine->queue) - g_hash_table_size(engine->ended_in_queue);
}

static void drain_active(sim_engine *engine)
{
	sim_pod *pod;
	size_t pending;

	while ((pod = sim_queue_pop(&engine->queue)) != NULL) {
		if (!drop_ended(engine, pod))
			try_schedule(engine, pod);
	}

	pending = pending_pods(engine);
	if (pending > engine->stats.peak_pending) {
		engine->stats.peak_pending = pending;
		engine->stats.peak_pending_ms = engine->now_ms;
	}
}

static void admit(sim_engine *engine, sim_arrival *arrival)
{
	const sim_pod *live;
	sim_pod *pod;

	live = g_hash_table_lookup(engine->live, arrival->pod->uid);
	if (live != NULL && engine->config.skip_duplicate_names) {
		if (engine->stats.skipped_duplicates++ == 0)
			engine->stats.first_skipped_duplicate_line = arrival->line;
		sim_arrival_release(arrival);
		return;
	}
	if (live != NULL) {
		char *message = g_strdup_printf(
			"%s:%d: pod %s arrives while the pod of that name from line %d is still in the simulation: make names unique among live pods (with a mapping spec, add {#}, the line number, to the fields.name template), or pass --skip-bad-rows to skip such pods",
			engine->source->name, arrival->line, arrival->pod->uid, live->line);

		fail_run(engine, -EINVAL, message);
		g_free(message);
		sim_arrival_release(arrival);
		return;
	}

	pod = g_new0(sim_pod, 1);
	pod->pod = arrival->pod;
	pod->gpu = arrival->gpu;
	pod->index = engine->stats.arrivals++;
	pod->line = arrival->line;
	pod->arrival_ms = engine->now_ms;
	pod->run_ms = arrival->run_ms;
	pod->first_start_ms = -1;
	pod->end_ms = -1;
	pod->waiting_since_ms = engine->now_ms;
	pod->pod->node_name = NULL;
	pod->pod->phase = SCORE_POD_PENDING;
	memset(arrival, 0, sizeof(*arrival));

	g_hash_table_insert(engine->live, (gpointer)pod->pod->uid, pod);
	sim_queue_add(&engine->queue, pod, engine->now_ms);
}

/* Reads the next arrival and schedules it; false at the end or on error. */
static bool pull_arrival(sim_engine *engine)
{
	score_error source_err = {0};
	int ret = engine->source->next(engine->source->data,
				       &engine->next_arrival, &source_err);

	if (ret < 0) {
		fail_run(engine, ret, source_err.message);
		return false;
	}
	if (ret == 0)
		return false;
	if (engine->next_arrival.time_ms < engine->last_arrival_ms) {
		char *message = g_strdup_printf(
			"%s:%d: arrival at %.3f s comes before the previous one at %.3f s: arrivals must be in time order",
			engine->source->name, engine->next_arrival.line,
			(double)engine->next_arrival.time_ms / 1000.0,
			(double)engine->last_arrival_ms / 1000.0);

		fail_run(engine, -EINVAL, message);
		g_free(message);
		sim_arrival_release(&engine->next_arrival);
		return false;
	}
	engine->last_arrival_ms = engine->next_arrival.time_ms;
	engine->have_arrival = true;
	push_event(engine, engine->next_arrival.time_ms, SIM_EVENT_ARRIVAL, NULL, 0);
	return true;
}

/* Queues a node's pods again as new pods with the run time they had
 * left. */
static void evict_pods(sim_engine *engine, score_node *node)
{
	GPtrArray *pods = g_ptr_array_copy(node->pods, NULL, NULL);

	for (guint i = 0; i < pods->len; i++) {
		const score_pod *spec = pods->pdata[i];
		sim_pod *pod = g_hash_table_lookup(engine->live, spec->uid);

		if (pod == NULL)
			continue;
		if (pod->run_ms >= 0)
			pod->run_ms = MAX(0, pod->end_ms - engine->now_ms);
		unbind_pod(engine, pod, true);
		pod->generation++; /* its departure is stale now */
		pod->evictions++;
		pod->unfit_mark = 0;
		pod->end_ms = -1;
		pod->waiting_since_ms = engine->now_ms;
		engine->stats.evictions++;
		sim_queue_add(&engine->queue, pod, engine->now_ms);
	}
	g_ptr_array_free(pods, TRUE);
}

/* ---- Events -------------------------------------------------------------- */

/* Takes a running pod off its node for good. */
static void depart(sim_engine *engine, sim_pod *pod)
{
	/* Reported while the pod is still bound, so that the observer can
	 * read its spec and node. */
	engine->stats.completed++;
	notify_finished(engine, pod, pod->pod->node_name, SIM_OUTCOME_COMPLETED);
	unbind_pod(engine, pod, false);
	pod->state = SIM_POD_DONE;

	/* AssignedPodDelete: the freed room may fit unschedulable pods. */
	sim_queue_move_all(&engine->queue, engine->now_ms);
}

static void on_departure(sim_engine *engine, sim_pod *pod, uint32_t generation)
{
	if (generation != pod->generation || pod->state != SIM_POD_RUNNING)
		return;
	depart(engine, pod);
}

/* Ends a pod that waits in the queue: it finishes now, and drain_active()
 * drops it when the queue hands it out. */
static void end_waiting(sim_engine *engine, sim_pod *pod)
{
	pod->pending_ms += engine->now_ms - pod->waiting_since_ms;
	pod->waiting_since_ms = engine->now_ms;
	engine->stats.ended_waiting++;
	notify_finished(engine, pod, NULL, SIM_OUTCOME_ENDED_WAITING);
	g_hash_table_remove(engine->live, pod->pod->uid);
	g_hash_table_add(engine->ended_in_queue, pod);
}

/* Ends the live pod that an end from the source names, and releases the
 * end. */
static void on_end(sim_engine *engine, sim_arrival *end)
{
	sim_pod *pod = g_hash_table_lookup(engine->live, end->end_uid);

	if (pod == NULL) {
		engine->stats.unmatched_ends++;
	} else if (pod->state == SIM_POD_RUNNING) {
		engine->stats.ends++;
		depart(engine, pod);
		if (pod->events == 0)
			pod_record_free(pod);
	} else {
		engine->stats.ends++;
		end_waiting(engine, pod);
	}
	sim_arrival_release(end);
}

static void on_node_event(sim_engine *engine, sim_node_event *event)
{
	score_node *node = score_model_node(engine->model, event->node);
	node_info *info = g_hash_table_lookup(engine->nodes, event->node);
	const char *file = event->file != NULL ? event->file : "node events";
	score_error err = {0};

	if (event->kind == SIM_NODE_ADD) {
		if (put_node(engine, event->node, &event->shape, event->zone,
			     event->rack, NULL, &err) < 0) {
			char *message = g_strdup_printf("%s:%d: %s", file, event->line,
							err.message);

			fail_run(engine, err.code, message);
			g_free(message);
			return;
		}
		sim_queue_move_all(&engine->queue, engine->now_ms);
		return;
	}

	if (node == NULL || info == NULL) {
		char *message = g_strdup_printf(
			"%s:%d: node %s is not in the cluster at %.3f s: add it first or fix the name",
			file, event->line, event->node, (double)engine->now_ms / 1000.0);

		fail_run(engine, -ENOENT, message);
		g_free(message);
		return;
	}

	switch (event->kind) {
	case SIM_NODE_REMOVE:
		evict_pods(engine, node);
		for (int r = 0; r < SCORE_RES_FIRST_EXTENDED; r++)
			engine->allocatable[r] -= node->allocatable.v[r];
		sim_placement_remove_node(engine->placement, event->node);
		g_hash_table_remove(engine->nodes, event->node);
		score_model_remove_node(engine->model, event->node);
		break;
	case SIM_NODE_FAIL:
		if (!node->ready)
			break;
		node->ready = false;
		info->pending_eviction = true;
		push_event(engine, engine->now_ms + engine->config.eviction_timeout_ms,
			   SIM_EVENT_EVICT, (gpointer)score_intern(event->node),
			   info->generation);
		break;
	case SIM_NODE_RECOVER:
		if (node->ready)
			break;
		node->ready = true;
		info->generation++;
		info->pending_eviction = false;
		sim_placement_node_gained_room(engine->placement, event->node);
		sim_queue_move_all(&engine->queue, engine->now_ms);
		break;
	case SIM_NODE_ADD:
		break;
	}
}

static void on_evict(sim_engine *engine, const char *name, uint32_t generation)
{
	score_node *node = score_model_node(engine->model, name);
	node_info *info = g_hash_table_lookup(engine->nodes, name);

	if (node == NULL || info == NULL || info->generation != generation ||
	    node->ready)
		return;
	info->pending_eviction = false;
	evict_pods(engine, node);
}

static void on_flush(sim_engine *engine)
{
	engine->flush_scheduled = false;
	sim_queue_flush_unschedulable(&engine->queue, engine->now_ms);
	if (engine->queue.n_unschedulable > 0)
		schedule_flush(engine);
}

/* Frees a finished pod's record once no event names it. */
static void release_pod_event(sim_pod *pod)
{
	if (--pod->events == 0 && pod->state == SIM_POD_DONE)
		pod_record_free(pod);
}

static void handle_event(sim_engine *engine, const sim_event *event)
{
	engine->stats.events++;
	if (event->kind != SIM_EVENT_FLUSH)
		engine->real_events--;

	switch ((sim_event_kind)event->kind) {
	case SIM_EVENT_ARRIVAL:
		engine->have_arrival = false;
		if (engine->next_arrival.end_uid != NULL)
			on_end(engine, &engine->next_arrival);
		else
			admit(engine, &engine->next_arrival);
		if (engine->failed == 0)
			pull_arrival(engine);
		break;
	case SIM_EVENT_DEPARTURE:
		on_departure(engine, event->subject, event->generation);
		release_pod_event(event->subject);
		break;
	case SIM_EVENT_BACKOFF: {
		sim_pod *pod = event->subject;

		if (pod->generation == event->generation &&
		    pod->state == SIM_POD_BACKOFF)
			sim_queue_backoff_done(&engine->queue, pod);
		release_pod_event(pod);
		break;
	}
	case SIM_EVENT_FLUSH:
		on_flush(engine);
		break;
	case SIM_EVENT_NODE:
		on_node_event(engine, event->subject);
		break;
	case SIM_EVENT_EVICT:
		on_evict(engine, event->subject, event->generation);
		score_unintern(event->subject);
		break;
	}
}

/* ---- Samples ------------------------------------------------------------- */

static double percent(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Counts the pods in the backoff queue or the unschedulable set whose end
 * came. */
static size_t ended_unschedulable(const sim_engine *engine)
{
	GHashTableIter iter;
	gpointer key;
	size_t count = 0;

	g_hash_table_iter_init(&iter, engine->ended_in_queue);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const sim_pod *pod = key;

		count += pod->state == SIM_POD_BACKOFF || pod->state == SIM_POD_UNSCHEDULABLE;
	}
	return count;
}

static void take_sample(sim_engine *engine, int64_t time_ms)
{
	sim_sample sample = {.time_ms = time_ms};
	int64_t gpu_capacity = sim_placement_gpu_capacity(engine->placement);

	sample.cpu_pct = percent(engine->requested[SCORE_RES_CPU],
				 engine->allocatable[SCORE_RES_CPU]);
	sample.memory_pct = percent(engine->requested[SCORE_RES_MEMORY],
				    engine->allocatable[SCORE_RES_MEMORY]);
	sample.pods_pct = percent(engine->requested[SCORE_RES_PODS],
				  engine->allocatable[SCORE_RES_PODS]);
	if (gpu_capacity > 0) {
		sample.gpu_pct = percent(sim_placement_gpu_allocated(engine->placement),
					 gpu_capacity);
		sample.gpu_frag_pct = 100.0 *
				      sim_placement_gpu_fragmentation(engine->placement) /
				      (double)gpu_capacity;
	}
	sample.running = engine->stats.running;
	sample.pending = pending_pods(engine);
	sample.unschedulable = engine->queue.n_backoff + engine->queue.n_unschedulable -
			       ended_unschedulable(engine);
	sample.nodes = (uint32_t)score_model_node_count(engine->model);
	sample.nodes_used = engine->nodes_used;

	if (engine->observer->sample != NULL)
		engine->observer->sample(engine->observer->data, &sample);
	engine->samples_taken++;

	if (engine->config.max_samples > 0 &&
	    engine->samples_taken >= engine->config.max_samples) {
		/* Keep the samples at even multiples of the doubled interval. */
		if (engine->observer->compact != NULL)
			engine->observer->compact(engine->observer->data);
		engine->samples_taken = (engine->samples_taken + 1) / 2;
		engine->config.sample_ms *= 2;
		engine->next_sample_ms = (time_ms / engine->config.sample_ms + 1) *
					 engine->config.sample_ms;
		return;
	}
	engine->next_sample_ms = time_ms + engine->config.sample_ms;
}

/* Takes the samples due before `time_ms`: they see every event before. */
static void sample_until(sim_engine *engine, int64_t time_ms, bool inclusive)
{
	while (engine->next_sample_ms < time_ms ||
	       (inclusive && engine->next_sample_ms == time_ms))
		take_sample(engine, engine->next_sample_ms);
}

static void report_progress(sim_engine *engine)
{
	double fraction = -1.0;

	if (engine->observer->progress == NULL)
		return;
	if (engine->config.end_ms > 0)
		fraction = (double)engine->now_ms / (double)engine->config.end_ms;
	else if (engine->source->fraction != NULL)
		fraction = engine->source->fraction(engine->source->data);
	engine->observer->progress(engine->observer->progress_data, engine->now_ms,
				   engine->stats.arrivals, MIN(fraction, 1.0));
}

/* ---- Run ----------------------------------------------------------------- */

static bool run_over(const sim_engine *engine)
{
	const sim_event *next = sim_event_heap_peek(&engine->heap);

	if (engine->failed != 0 || next == NULL)
		return true;
	if (engine->config.end_ms >= 0)
		return next->time_ms > engine->config.end_ms;
	return engine->real_events == 0;
}

static gint compare_index(gconstpointer a, gconstpointer b)
{
	const sim_pod *left = a;
	const sim_pod *right = b;

	return left->index < right->index ? -1 : left->index > right->index;
}

/* Reports every pod still in the run, in arrival order. */
static void report_remaining(sim_engine *engine)
{
	GList *pods = g_list_sort(g_hash_table_get_values(engine->live), compare_index);

	for (GList *item = pods; item != NULL; item = item->next) {
		sim_pod *pod = item->data;

		if (pod->state == SIM_POD_RUNNING)
			notify_finished(engine, pod, pod->pod->node_name,
					SIM_OUTCOME_RUNNING);
		else
			notify_finished(engine, pod, NULL, SIM_OUTCOME_PENDING);
	}
	g_list_free(pods);
}

int sim_engine_run(sim_engine *engine, const sim_source *source,
		   const sim_observer *observer, score_error *err)
{
	static const sim_observer no_observer = {0};
	sim_event event;
	int64_t end_ms;

	engine->source = source;
	engine->observer = observer != NULL ? observer : &no_observer;
	engine->error = err;
	engine->failed = 0;
	engine->next_sample_ms = 0;

	for (guint i = 0; i < engine->node_events->len; i++) {
		sim_node_event *node_event = engine->node_events->pdata[i];

		push_event(engine, node_event->time_ms, SIM_EVENT_NODE, node_event, 0);
	}
	pull_arrival(engine);

	while (!run_over(engine)) {
		int64_t now = sim_event_heap_peek(&engine->heap)->time_ms;

		sample_until(engine, now, false);
		engine->now_ms = now;
		while (engine->failed == 0 && sim_event_heap_size(&engine->heap) > 0 &&
		       sim_event_heap_peek(&engine->heap)->time_ms == now) {
			sim_event_heap_pop(&engine->heap, &event);
			handle_event(engine, &event);
		}
		if (engine->failed != 0)
			break;
		drain_active(engine);
		if (engine->stats.events - engine->events_at_progress >= PROGRESS_EVERY) {
			engine->events_at_progress = engine->stats.events;
			report_progress(engine);
		}
		if (engine->config.stop != NULL && *engine->config.stop != 0) {
			engine->stats.interrupted = true;
			break;
		}
	}
	if (engine->failed != 0)
		return engine->failed;

	end_ms = engine->config.end_ms >= 0 && !engine->stats.interrupted ? engine->config.end_ms :
									      engine->now_ms;
	engine->now_ms = MAX(engine->now_ms, end_ms);
	sample_until(engine, end_ms, true);
	engine->stats.end_ms = end_ms;
	engine->stats.sample_ms = engine->config.sample_ms;
	engine->stats.nodes_evaluated = sim_placement_nodes_evaluated(engine->placement);
	report_remaining(engine);
	return 0;
}
