/* kube-scheduler's scheduling queue, as the simulator models it; see
 * queue.h. */
#include "sim/queue.h"

#include <string.h>

void sim_queue_defaults(sim_queue_config *config)
{
	config->initial_backoff_ms = 1000;
	config->max_backoff_ms = 10000;
	config->max_unschedulable_ms = 5 * 60 * 1000;
	config->flush_interval_ms = 30 * 1000;
}

void sim_queue_init(sim_queue *queue, const sim_queue_config *config,
		    sim_queue_wake_fn on_backoff, void *data)
{
	memset(queue, 0, sizeof(*queue));
	queue->config = *config;
	queue->active = g_ptr_array_new();
	queue->on_backoff = on_backoff;
	queue->data = data;
}

void sim_queue_release(sim_queue *queue)
{
	if (queue->active != NULL)
		g_ptr_array_free(queue->active, TRUE);
	memset(queue, 0, sizeof(*queue));
}

int64_t sim_queue_backoff_ms(const sim_queue_config *config, uint32_t attempts)
{
	int64_t duration = config->initial_backoff_ms;

	if (attempts == 0)
		return 0;
	/* Doubling by repeated addition, stopping at the cap, as
	 * calculateBackoffDuration() does. */
	for (uint32_t i = 1; i < attempts; i++) {
		if (duration > config->max_backoff_ms - duration)
			return config->max_backoff_ms;
		duration += duration;
	}
	return duration;
}

/* ---- Active queue: a binary heap by (timestamp, arrival index) ----------- */

static bool pod_before(const sim_pod *a, const sim_pod *b)
{
	if (a->timestamp_ms != b->timestamp_ms)
		return a->timestamp_ms < b->timestamp_ms;
	return a->index < b->index;
}

static void active_push(sim_queue *queue, sim_pod *pod)
{
	GPtrArray *heap = queue->active;
	guint i = heap->len;

	pod->state = SIM_POD_ACTIVE;
	g_ptr_array_add(heap, pod);
	while (i > 0) {
		guint parent = (i - 1) / 2;

		if (!pod_before(heap->pdata[i], heap->pdata[parent]))
			break;
		sim_pod *swap = heap->pdata[i];
		heap->pdata[i] = heap->pdata[parent];
		heap->pdata[parent] = swap;
		i = parent;
	}
}

static sim_pod *active_pop(sim_queue *queue)
{
	GPtrArray *heap = queue->active;
	sim_pod *top;
	guint i = 0;

	if (heap->len == 0)
		return NULL;
	top = heap->pdata[0];
	heap->pdata[0] = heap->pdata[heap->len - 1];
	g_ptr_array_set_size(heap, heap->len - 1);

	for (;;) {
		guint left = 2 * i + 1;
		guint right = left + 1;
		guint smallest = i;

		if (left < heap->len && pod_before(heap->pdata[left], heap->pdata[smallest]))
			smallest = left;
		if (right < heap->len && pod_before(heap->pdata[right], heap->pdata[smallest]))
			smallest = right;
		if (smallest == i)
			break;
		sim_pod *swap = heap->pdata[i];
		heap->pdata[i] = heap->pdata[smallest];
		heap->pdata[smallest] = swap;
		i = smallest;
	}
	return top;
}

/* ---- Unschedulable set: a list in timestamp order ------------------------ */

static void unschedulable_append(sim_queue *queue, sim_pod *pod)
{
	pod->state = SIM_POD_UNSCHEDULABLE;
	pod->next = NULL;
	pod->prev = queue->unschedulable_tail;
	if (queue->unschedulable_tail != NULL)
		queue->unschedulable_tail->next = pod;
	else
		queue->unschedulable_head = pod;
	queue->unschedulable_tail = pod;
	queue->n_unschedulable++;
}

static void unschedulable_unlink(sim_queue *queue, sim_pod *pod)
{
	if (pod->prev != NULL)
		pod->prev->next = pod->next;
	else
		queue->unschedulable_head = pod->next;
	if (pod->next != NULL)
		pod->next->prev = pod->prev;
	else
		queue->unschedulable_tail = pod->prev;
	pod->prev = NULL;
	pod->next = NULL;
	queue->n_unschedulable--;
}

/* ---- Moves --------------------------------------------------------------- */

void sim_queue_add(sim_queue *queue, sim_pod *pod, int64_t now_ms)
{
	pod->attempts = 0;
	pod->timestamp_ms = now_ms;
	active_push(queue, pod);
}

sim_pod *sim_queue_pop(sim_queue *queue)
{
	sim_pod *pod = active_pop(queue);

	if (pod != NULL) {
		pod->attempts++;
		pod->total_attempts++;
	}
	return pod;
}

void sim_queue_add_unschedulable(sim_queue *queue, sim_pod *pod,
				 int64_t now_ms)
{
	/* Timestamps only grow, so appending keeps the list sorted. */
	pod->timestamp_ms = now_ms;
	unschedulable_append(queue, pod);
}

/* Sends one pod that left the unschedulable set to the backoff queue or,
 * when its backoff has ended, to the active queue. */
static void requeue(sim_queue *queue, sim_pod *pod, int64_t now_ms)
{
	int64_t backoff_end = pod->timestamp_ms +
			      sim_queue_backoff_ms(&queue->config, pod->attempts);

	if (backoff_end > now_ms) {
		pod->state = SIM_POD_BACKOFF;
		queue->n_backoff++;
		queue->on_backoff(queue->data, pod, backoff_end);
		return;
	}
	active_push(queue, pod);
}

size_t sim_queue_move_all(sim_queue *queue, int64_t now_ms)
{
	size_t moved = 0;

	while (queue->unschedulable_head != NULL) {
		sim_pod *pod = queue->unschedulable_head;

		unschedulable_unlink(queue, pod);
		requeue(queue, pod, now_ms);
		moved++;
	}
	return moved;
}

size_t sim_queue_flush_unschedulable(sim_queue *queue, int64_t now_ms)
{
	size_t moved = 0;

	/* The list is in timestamp order, so the pods to move are a prefix. */
	while (queue->unschedulable_head != NULL &&
	       now_ms - queue->unschedulable_head->timestamp_ms >
		       queue->config.max_unschedulable_ms) {
		sim_pod *pod = queue->unschedulable_head;

		unschedulable_unlink(queue, pod);
		requeue(queue, pod, now_ms);
		moved++;
	}
	return moved;
}

void sim_queue_backoff_done(sim_queue *queue, sim_pod *pod)
{
	g_return_if_fail(pod->state == SIM_POD_BACKOFF);
	queue->n_backoff--;
	active_push(queue, pod);
}

size_t sim_queue_pending(const sim_queue *queue)
{
	return queue->active->len + queue->n_backoff + queue->n_unschedulable;
}
