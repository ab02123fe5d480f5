/* Tests for sim/engine.c and sim/queue.c: event order, the backoff
 * schedule, retries of unschedulable pods after a departure and after the
 * periodic flush, evictions from failed and removed nodes, determinism, and
 * the errors a run stops on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "sim/engine.h"
#include "sim/queue.h"

/* ---- Event heap ---------------------------------------------------------- */

Test(engine, heap_orders_by_time_then_push_order)
{
	sim_event_heap heap;
	sim_event event;
	/* Pushed out of order; equal times must come out in push order. */
	static const int64_t times[] = {50, 10, 30, 10, 50, 0, 30, 10};
	static const int expected_order[] = {5, 1, 3, 7, 2, 6, 0, 4};

	sim_event_heap_init(&heap);
	for (size_t i = 0; i < G_N_ELEMENTS(times); i++)
		sim_event_heap_push(&heap, times[i], SIM_EVENT_FLUSH, NULL, (uint32_t)i);
	for (size_t i = 0; i < G_N_ELEMENTS(expected_order); i++) {
		cr_assert(sim_event_heap_pop(&heap, &event), "event %zu present", i);
		cr_assert_eq(event.generation, (uint32_t)expected_order[i],
			     "position %zu: expected push #%d, got #%u", i,
			     expected_order[i], event.generation);
	}
	cr_assert_not(sim_event_heap_pop(&heap, &event), "heap empty at the end");
	sim_event_heap_release(&heap);
}

Test(engine, heap_survives_many_random_events)
{
	sim_event_heap heap;
	sim_event event;
	GRand *rand = g_rand_new_with_seed(7);
	int64_t last_time = -1;
	uint64_t last_seq = 0;

	sim_event_heap_init(&heap);
	for (int i = 0; i < 5000; i++)
		sim_event_heap_push(&heap, g_rand_int_range(rand, 0, 100), SIM_EVENT_FLUSH,
				    NULL, 0);
	for (int i = 0; i < 5000; i++) {
		cr_assert(sim_event_heap_pop(&heap, &event));
		cr_assert(event.time_ms > last_time ||
				  (event.time_ms == last_time && event.seq > last_seq),
			  "event %d out of order: (%lld, %llu) after (%lld, %llu)", i,
			  (long long)event.time_ms, (unsigned long long)event.seq,
			  (long long)last_time, (unsigned long long)last_seq);
		last_time = event.time_ms;
		last_seq = event.seq;
	}
	g_rand_free(rand);
	sim_event_heap_release(&heap);
}

/* ---- Queue --------------------------------------------------------------- */

Test(queue, backoff_doubles_to_the_cap)
{
	sim_queue_config config;
	static const int64_t expected_ms[] = {0, 1000, 2000, 4000, 8000, 10000, 10000, 10000};

	sim_queue_defaults(&config);
	for (uint32_t attempts = 0; attempts < G_N_ELEMENTS(expected_ms); attempts++)
		cr_assert_eq(sim_queue_backoff_ms(&config, attempts), expected_ms[attempts],
			     "after %u attempts: expected %lld ms, got %lld ms", attempts,
			     (long long)expected_ms[attempts],
			     (long long)sim_queue_backoff_ms(&config, attempts));
	cr_assert_eq(sim_queue_backoff_ms(&config, 1000), 10000,
		     "many attempts stay at the cap");
}

static void record_wake(void *data, sim_pod *pod, int64_t at_ms)
{
	(void)pod;
	g_array_append_val((GArray *)data, at_ms);
}

Test(queue, pops_oldest_timestamp_first)
{
	sim_queue_config config;
	sim_queue queue;
	GArray *wakes = g_array_new(FALSE, FALSE, sizeof(int64_t));
	sim_pod pods[3] = {{.index = 0}, {.index = 1}, {.index = 2}};

	sim_queue_defaults(&config);
	sim_queue_init(&queue, &config, record_wake, wakes);
	sim_queue_add(&queue, &pods[2], 30);
	sim_queue_add(&queue, &pods[0], 10);
	sim_queue_add(&queue, &pods[1], 10);
	cr_assert_eq(sim_queue_pop(&queue), &pods[0], "oldest, lowest index first");
	cr_assert_eq(sim_queue_pop(&queue), &pods[1], "same time, next index");
	cr_assert_eq(sim_queue_pop(&queue), &pods[2], "newest last");
	cr_assert_null(sim_queue_pop(&queue), "empty");
	cr_assert_eq(pods[0].attempts, 1, "a pop counts an attempt");
	sim_queue_release(&queue);
	g_array_free(wakes, TRUE);
}

Test(queue, move_respects_backoff)
{
	sim_queue_config config;
	sim_queue queue;
	GArray *wakes = g_array_new(FALSE, FALSE, sizeof(int64_t));
	sim_pod early = {.index = 0};
	sim_pod late = {.index = 1};

	sim_queue_defaults(&config);
	sim_queue_init(&queue, &config, record_wake, wakes);
	sim_queue_add(&queue, &early, 0);
	sim_queue_add(&queue, &late, 0);
	sim_queue_pop(&queue);
	sim_queue_pop(&queue);
	sim_queue_add_unschedulable(&queue, &early, 0);
	sim_queue_add_unschedulable(&queue, &late, 5000);

	/* At 5.5 s the first pod's 1 s backoff is over, the second's not. */
	cr_assert_eq(sim_queue_move_all(&queue, 5500), 2, "both moved");
	cr_assert_eq(early.state, SIM_POD_ACTIVE, "backoff over: active");
	cr_assert_eq(late.state, SIM_POD_BACKOFF, "backoff running: backoff queue");
	cr_assert_eq(wakes->len, 1, "one wake-up asked for, got %u", wakes->len);
	cr_assert_eq(g_array_index(wakes, int64_t, 0), 6000,
		     "wake at 5 s + 1 s, got %lld", (long long)g_array_index(wakes, int64_t, 0));
	cr_assert_eq(sim_queue_pending(&queue), 2, "both still pending");
	sim_queue_backoff_done(&queue, &late);
	cr_assert_eq(late.state, SIM_POD_ACTIVE, "active after its backoff");
	sim_queue_release(&queue);
	g_array_free(wakes, TRUE);
}

Test(queue, flush_moves_only_old_pods)
{
	sim_queue_config config;
	sim_queue queue;
	GArray *wakes = g_array_new(FALSE, FALSE, sizeof(int64_t));
	sim_pod old = {.index = 0};
	sim_pod young = {.index = 1};

	sim_queue_defaults(&config);
	sim_queue_init(&queue, &config, record_wake, wakes);
	sim_queue_add(&queue, &old, 0);
	sim_queue_add(&queue, &young, 0);
	sim_queue_pop(&queue);
	sim_queue_pop(&queue);
	sim_queue_add_unschedulable(&queue, &old, 0);
	sim_queue_add_unschedulable(&queue, &young, 100000);

	cr_assert_eq(sim_queue_flush_unschedulable(&queue, 300000), 0,
		     "exactly 5 minutes is not longer than 5 minutes");
	cr_assert_eq(sim_queue_flush_unschedulable(&queue, 300001), 1, "the old pod moves");
	cr_assert_eq(old.state, SIM_POD_ACTIVE, "old pod active");
	cr_assert_eq(young.state, SIM_POD_UNSCHEDULABLE, "young pod stays");
	sim_queue_release(&queue);
	g_array_free(wakes, TRUE);
}

/* ---- Engine runs over a list of pods ------------------------------------- */

typedef struct pod_spec {
	const char *name;
	double time_s;
	double run_s; /* < 0: runs to the end */
	int64_t cpu_milli;
} pod_spec;

typedef struct list_source {
	const pod_spec *pods;
	size_t n;
	size_t next;
} list_source;

static int list_next(void *data, sim_arrival *out, score_error *err)
{
	list_source *list = data;
	const pod_spec *spec;
	score_pod *pod;

	(void)err;
	memset(out, 0, sizeof(*out));
	if (list->next >= list->n)
		return 0;
	spec = &list->pods[list->next++];
	pod = score_pod_new();
	pod->uid = score_intern(spec->name);
	pod->name = score_intern(spec->name);
	pod->namespace = score_intern("default");
	pod->request.v[SCORE_RES_CPU] = spec->cpu_milli;
	pod->request.v[SCORE_RES_MEMORY] = 1 << 20;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	out->pod = pod;
	out->time_ms = (int64_t)(spec->time_s * 1000);
	out->run_ms = spec->run_s < 0 ? -1 : (int64_t)(spec->run_s * 1000);
	out->line = (int)list->next + 1;
	return 1;
}

/* What a run reported about each pod. */
typedef struct pod_result {
	char name[32];
	double arrival_s;
	double start_s; /* -1 when never started */
	double pending_s;
	char node[32];
	sim_pod_outcome outcome;
	uint32_t attempts;
	uint32_t evictions;
} pod_result;

typedef struct run_log {
	GArray *pods;    /* pod_result */
	GArray *samples; /* sim_sample */
} run_log;

static void log_finished(void *data, const sim_pod *pod, const char *node,
			 sim_pod_outcome outcome, int64_t now_ms)
{
	run_log *log = data;
	pod_result result = {0};

	g_strlcpy(result.name, pod->pod->name, sizeof(result.name));
	result.arrival_s = (double)pod->arrival_ms / 1000.0;
	result.start_s = pod->first_start_ms < 0 ? -1 : (double)pod->first_start_ms / 1000.0;
	result.pending_s = (double)(pod->pending_ms +
				    (outcome == SIM_OUTCOME_PENDING ?
					     now_ms - pod->waiting_since_ms : 0)) / 1000.0;
	g_strlcpy(result.node, node != NULL ? node : "", sizeof(result.node));
	result.outcome = outcome;
	result.attempts = pod->total_attempts;
	result.evictions = pod->evictions;
	g_array_append_val(log->pods, result);
}

static void log_sample(void *data, const sim_sample *sample)
{
	run_log *log = data;

	g_array_append_val(log->samples, *sample);
}

static const pod_result *find_pod(const run_log *log, const char *name)
{
	for (guint i = 0; i < log->pods->len; i++) {
		const pod_result *pod = &g_array_index(log->pods, pod_result, i);

		if (strcmp(pod->name, name) == 0)
			return pod;
	}
	cr_assert_fail("pod %s not reported", name);
	return NULL;
}

static sim_node_shape shape_of(int64_t cpu_milli)
{
	sim_node_shape shape = {
		.name = (char *)"test",
		.cpu_milli = cpu_milli,
		.memory = 64LL << 30,
		.pods = 110,
	};

	return shape;
}

/* Runs pods on `n_nodes` nodes of `cpu_milli` each named n0, n1, ... */
static int run_pods(const pod_spec *pods, size_t n_pods, size_t n_nodes,
		    int64_t cpu_milli, int64_t end_ms, GPtrArray *node_events,
		    run_log *log, score_error *err)
{
	sim_engine_config config;
	sim_engine *engine = NULL;
	list_source list = {.pods = pods, .n = n_pods};
	sim_source source = {.next = list_next, .data = &list, .name = "list"};
	sim_observer observer = {.finished = log_finished, .sample = log_sample, .data = log};
	sim_node_shape shape = shape_of(cpu_milli);
	int ret;

	log->pods = g_array_new(FALSE, TRUE, sizeof(pod_result));
	log->samples = g_array_new(FALSE, TRUE, sizeof(sim_sample));
	sim_engine_defaults(&config);
	config.end_ms = end_ms;
	config.sample_ms = 10000;
	ret = sim_engine_new(&config, &engine, err);
	for (size_t i = 0; ret == 0 && i < n_nodes; i++) {
		char name[16];

		g_snprintf(name, sizeof(name), "n%zu", i);
		ret = sim_engine_add_node(engine, name, &shape, NULL, NULL, err);
	}
	for (guint i = 0; ret == 0 && node_events != NULL && i < node_events->len; i++)
		sim_engine_add_node_event(engine, node_events->pdata[i]);
	if (node_events != NULL)
		g_ptr_array_set_size(node_events, 0);
	if (ret == 0)
		ret = sim_engine_run(engine, &source, &observer, err);
	sim_engine_free(engine);
	return ret;
}

static void run_log_release(run_log *log)
{
	g_array_free(log->pods, TRUE);
	g_array_free(log->samples, TRUE);
}

Test(engine, unschedulable_pod_retried_after_departure)
{
	/* One 2-core node. "b" cannot fit until "a" leaves at 100 s. */
	static const pod_spec pods[] = {
		{"a", 0, 100, 2000},
		{"b", 10, 50, 2000},
	};
	run_log log;
	score_error err = {0};
	const pod_result *b;

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	b = find_pod(&log, "b");
	cr_assert_float_eq(b->start_s, 100.0, 1e-9, "b starts when a leaves: got %g", b->start_s);
	cr_assert_float_eq(b->pending_s, 90.0, 1e-9, "b waited 90 s, got %g", b->pending_s);
	cr_assert_eq(b->attempts, 2, "one failed attempt, one success: got %u", b->attempts);
	cr_assert_eq(b->outcome, SIM_OUTCOME_COMPLETED, "b completed");
	cr_assert_str_eq(b->node, "n0");
	run_log_release(&log);
}

Test(engine, departure_during_backoff_waits_for_backoff)
{
	/* "b" fails at 10 s. "a" leaves 0.5 s later, inside b's 1 s
	 * backoff, so b is tried again when the backoff ends, at 11 s. */
	static const pod_spec pods[] = {
		{"a", 0, 10.5, 2000},
		{"b", 10, 50, 2000},
	};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	cr_assert_float_eq(find_pod(&log, "b")->start_s, 11.0, 1e-9,
			   "b starts at the end of its backoff: got %g",
			   find_pod(&log, "b")->start_s);
	run_log_release(&log);
}

Test(engine, flush_retries_unschedulable_after_five_minutes)
{
	/* Nothing changes in the cluster, so "b" is retried only by the
	 * flush: the first 30 s tick more than 5 minutes after its failure
	 * at 10 s is 330 s. It fails again; "a" leaves at 400 s. */
	static const pod_spec pods[] = {
		{"a", 0, 400, 2000},
		{"b", 10, 50, 2000},
	};
	run_log log;
	score_error err = {0};
	const pod_result *b;

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	b = find_pod(&log, "b");
	cr_assert_eq(b->attempts, 3, "tried at 10 s, 330 s and 400 s: got %u attempts",
		     b->attempts);
	cr_assert_float_eq(b->start_s, 400.0, 1e-9, "started at 400 s, got %g", b->start_s);
	run_log_release(&log);
}

Test(engine, never_scheduled_pods_reported_pending)
{
	static const pod_spec pods[] = {
		{"big", 5, 10, 4000},
		{"small", 6, 10, 500},
	};
	run_log log;
	score_error err = {0};
	const pod_result *big;

	cr_assert_eq(run_pods(pods, 2, 2, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	big = find_pod(&log, "big");
	cr_assert_eq(big->outcome, SIM_OUTCOME_PENDING, "a pod larger than every node stays pending");
	cr_assert_float_eq(big->start_s, -1, 1e-9, "never started");
	cr_assert_eq(find_pod(&log, "small")->outcome, SIM_OUTCOME_COMPLETED);
	run_log_release(&log);
}

Test(engine, ties_go_to_smallest_node_name)
{
	/* Equal empty nodes: every first pod lands on n0. */
	static const pod_spec pods[] = {{"p", 0, 10, 100}};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 1, 5, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	cr_assert_str_eq(find_pod(&log, "p")->node, "n0");
	run_log_release(&log);
}

Test(engine, least_allocated_spreads_pods)
{
	static const pod_spec pods[] = {
		{"p1", 0, -1, 500},
		{"p2", 1, -1, 500},
		{"p3", 2, -1, 500},
	};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 3, 3, 2000, 60000, NULL, &log, &err), 0, "%s", err.message);
	cr_assert_str_eq(find_pod(&log, "p1")->node, "n0");
	cr_assert_str_eq(find_pod(&log, "p2")->node, "n1", "LeastAllocated avoids the used node");
	cr_assert_str_eq(find_pod(&log, "p3")->node, "n2");
	cr_assert_eq(find_pod(&log, "p3")->outcome, SIM_OUTCOME_RUNNING,
		     "a pod without run time is running at the end");
	run_log_release(&log);
}

static sim_node_event *node_event(double time_s, sim_node_event_kind kind,
				  const char *node, int64_t cpu_milli)
{
	sim_node_event *event = g_new0(sim_node_event, 1);

	event->time_ms = (int64_t)(time_s * 1000);
	event->kind = kind;
	event->node = g_strdup(node);
	event->file = g_strdup("events.csv");
	event->line = 2;
	if (kind == SIM_NODE_ADD) {
		sim_node_shape shape = shape_of(cpu_milli);

		sim_node_shape_copy(&shape, &event->shape);
	}
	return event;
}

Test(engine, node_add_retries_unschedulable_pods)
{
	static const pod_spec pods[] = {
		{"a", 0, 1000, 2000},
		{"b", 10, 50, 2000},
	};
	GPtrArray *events = g_ptr_array_new();
	run_log log;
	score_error err = {0};

	g_ptr_array_add(events, node_event(60, SIM_NODE_ADD, "extra", 2000));
	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, events, &log, &err), 0, "%s", err.message);
	cr_assert_float_eq(find_pod(&log, "b")->start_s, 60.0, 1e-9, "b starts on the added node");
	cr_assert_str_eq(find_pod(&log, "b")->node, "extra");
	g_ptr_array_free(events, TRUE);
	run_log_release(&log);
}

Test(engine, failed_node_evicts_after_timeout)
{
	/* n0 fails at 100 s. After the 300 s timeout its pod is evicted and
	 * starts again on n1 with the 600 s it had left. */
	static const pod_spec pods[] = {{"a", 0, 1000, 1500}};
	GPtrArray *events = g_ptr_array_new();
	run_log log;
	score_error err = {0};
	const pod_result *a;

	g_ptr_array_add(events, node_event(100, SIM_NODE_FAIL, "n0", 0));
	cr_assert_eq(run_pods(pods, 1, 2, 2000, -1, events, &log, &err), 0, "%s", err.message);
	a = find_pod(&log, "a");
	cr_assert_eq(a->evictions, 1, "evicted once, got %u", a->evictions);
	cr_assert_str_eq(a->node, "n1", "finished on the healthy node");
	cr_assert_float_eq(a->start_s, 0.0, 1e-9, "first start kept");
	g_ptr_array_free(events, TRUE);
	run_log_release(&log);
}

Test(engine, removed_node_evicts_at_once)
{
	static const pod_spec pods[] = {{"a", 0, 1000, 1500}};
	GPtrArray *events = g_ptr_array_new();
	run_log log;
	score_error err = {0};
	const sim_sample *last;

	g_ptr_array_add(events, node_event(100, SIM_NODE_REMOVE, "n0", 0));
	cr_assert_eq(run_pods(pods, 1, 2, 2000, -1, events, &log, &err), 0, "%s", err.message);
	cr_assert_eq(find_pod(&log, "a")->evictions, 1);
	cr_assert_str_eq(find_pod(&log, "a")->node, "n1");
	last = &g_array_index(log.samples, sim_sample, log.samples->len - 1);
	cr_assert_eq(last->nodes, 1, "one node left, got %u", last->nodes);
	g_ptr_array_free(events, TRUE);
	run_log_release(&log);
}

Test(engine, unknown_node_event_fails)
{
	static const pod_spec pods[] = {{"a", 0, 10, 100}};
	GPtrArray *events = g_ptr_array_new();
	run_log log;
	score_error err = {0};

	g_ptr_array_add(events, node_event(5, SIM_NODE_FAIL, "nope", 0));
	cr_assert_eq(run_pods(pods, 1, 1, 2000, -1, events, &log, &err), -ENOENT);
	cr_assert(g_str_has_prefix(err.message, "events.csv:2: node nope is not in the cluster"),
		  "message names the file, line and node: %s", err.message);
	g_ptr_array_free(events, TRUE);
	run_log_release(&log);
}

Test(engine, arrivals_out_of_order_fail)
{
	static const pod_spec pods[] = {
		{"a", 10, 10, 100},
		{"b", 5, 10, 100},
	};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), -EINVAL);
	cr_assert(strstr(err.message, "time order") != NULL, "message: %s", err.message);
	run_log_release(&log);
}

Test(engine, duplicate_live_name_fails)
{
	static const pod_spec pods[] = {
		{"a", 0, 100, 100},
		{"a", 5, 10, 100},
	};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), -EINVAL);
	cr_assert(strstr(err.message, "pod a arrives") != NULL, "message: %s", err.message);
	run_log_release(&log);
}

Test(engine, name_reused_after_departure_is_fine)
{
	static const pod_spec pods[] = {
		{"a", 0, 1, 100},
		{"a", 5, 10, 100},
	};
	run_log log;
	score_error err = {0};

	cr_assert_eq(run_pods(pods, 2, 1, 2000, -1, NULL, &log, &err), 0, "%s", err.message);
	cr_assert_eq(log.pods->len, 2, "both reported");
	run_log_release(&log);
}

Test(engine, samples_at_fixed_interval)
{
	static const pod_spec pods[] = {{"a", 0, 25, 1000}};
	run_log log;
	score_error err = {0};
	const sim_sample *s;

	cr_assert_eq(run_pods(pods, 1, 1, 2000, 40000, NULL, &log, &err), 0, "%s", err.message);
	cr_assert_eq(log.samples->len, 5, "samples at 0, 10, 20, 30, 40 s: got %u",
		     log.samples->len);
	s = &g_array_index(log.samples, sim_sample, 1);
	cr_assert_eq(s->time_ms, 10000);
	cr_assert_float_eq(s->cpu_pct, 50.0, 1e-9, "1 of 2 cores at 10 s, got %g", s->cpu_pct);
	cr_assert_eq(s->running, 1);
	cr_assert_eq(s->nodes_used, 1);
	s = &g_array_index(log.samples, sim_sample, 3);
	cr_assert_float_eq(s->cpu_pct, 0.0, 1e-9, "empty after the departure at 25 s");
	cr_assert_eq(s->nodes_used, 0);
	run_log_release(&log);
}

/* Many pods with varied sizes, so that placement, queueing and retries
 * all matter; two runs must report the same. */
static void churn_run(run_log *log)
{
	pod_spec *pods = g_new0(pod_spec, 400);
	char *names = g_malloc0(400 * 16);
	GRand *rand = g_rand_new_with_seed(11);
	score_error err = {0};
	double time = 0;

	for (int i = 0; i < 400; i++) {
		g_snprintf(names + 16 * i, 16, "p%03d", i);
		time += g_rand_double_range(rand, 0, 2);
		pods[i] = (pod_spec){names + 16 * i, time, g_rand_double_range(rand, 5, 200),
				     g_rand_int_range(rand, 100, 1500)};
	}
	cr_assert_eq(run_pods(pods, 400, 4, 2000, -1, NULL, log, &err), 0, "%s", err.message);
	g_rand_free(rand);
	g_free(names);
	g_free(pods);
}

Test(engine, runs_are_deterministic)
{
	run_log first;
	run_log second;
	bool waited = false;

	churn_run(&first);
	churn_run(&second);
	cr_assert_eq(first.pods->len, second.pods->len);
	cr_assert_eq(first.pods->len, 400, "every pod reported, got %u", first.pods->len);
	for (guint i = 0; i < first.pods->len; i++) {
		const pod_result *a = &g_array_index(first.pods, pod_result, i);
		const pod_result *b = &g_array_index(second.pods, pod_result, i);

		cr_assert_str_eq(a->name, b->name, "same order at %u", i);
		cr_assert_str_eq(a->node, b->node, "pod %s on the same node", a->name);
		cr_assert_float_eq(a->start_s, b->start_s, 1e-12, "pod %s starts alike", a->name);
		waited = waited || a->pending_s > 0;
	}
	cr_assert(waited, "the workload is heavy enough that some pods wait");
	run_log_release(&first);
	run_log_release(&second);
}
