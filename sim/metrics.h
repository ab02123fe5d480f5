/* What a churn run measures and the files it writes: the time series of
 * sim_sample, the distribution of pending times, one row per pod, and the
 * summary.
 *
 * Pending time is the wait from a pod's arrival to its first start. A pod
 * that never started has no pending time, so the summary gives two
 * distributions: that of the pods that started, and that of every pod that
 * arrived, counting a pod that never started as waiting until the end of
 * the run. The second is censored at the end, so its values are lower
 * bounds. Each distribution is kept in a histogram of logarithmic buckets
 * 1% wide (plus one bucket for 0), so memory does not grow with the number
 * of pods. A percentile is the mean of the values in the bucket that
 * contains it, exact when those values are equal and within 1% otherwise.
 *
 * Files (sim_metrics_write()):
 *   timeseries.csv  one row per sample;
 *   pods.csv        one row per pod, written as pods leave and, at the end,
 *                   for pods still running or waiting, so rows are in the
 *                   order pods left the simulation;
 *   summary.json    the parameters, counts, pending-time percentiles,
 *                   mean allocation, tenant co-residency and the warnings
 *                   of the run.
 *
 * Tenant co-residency (sim/tenancy.h) is measured when a tracker is set
 * with sim_metrics_track_tenants(). Each sample counts the nodes shared by
 * tenants, and the tenant pairs and untrusted pairs sharing a node. Each
 * pod records how many untrusted tenants were on its node when placed.
 *
 * Network cost to peers is measured when a policy's locality config is
 * set with sim_metrics_track_peer_cost(): at each placement, the mean
 * topology cost (score_locality_cost()) from the pod's node to the nodes
 * of its placed peers (score_locality_peers()). A pod keeps the value of
 * its last placement; pods without placed peers have none. Peers placed
 * after the pod are not counted for it, but it counts for them.
 */
#ifndef STOWAGE_SIM_METRICS_H
#define STOWAGE_SIM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "scoring/error.h"
#include "scoring/locality.h"
#include "sim/engine.h"
#include "sim/tenancy.h"

/* ---- Histogram ----------------------------------------------------------- */

typedef struct sim_histogram {
	uint64_t *counts; /* bucket 0 counts zeros */
	double *sums;     /* sum of the values in each bucket */
	size_t n_buckets;
	uint64_t total;
	double sum;
	double max;
} sim_histogram;

void sim_histogram_init(sim_histogram *histogram);
void sim_histogram_release(sim_histogram *histogram);
/* Adds a value >= 0; values above 1e12 count as 1e12. */
void sim_histogram_add(sim_histogram *histogram, double value);
/* Returns the q-quantile (0 < q <= 1) by nearest rank, 0 when empty. */
double sim_histogram_quantile(const sim_histogram *histogram, double q);
/* Adds the values counted in `from` to `into`. */
void sim_histogram_merge(sim_histogram *into, const sim_histogram *from);
/* Returns (value, fraction of values <= value) points of the cumulative
 * distribution, one per non-empty bucket; the caller frees `x` and `y`
 * with g_free(). */
size_t sim_histogram_cdf(const sim_histogram *histogram, double **x,
			 double **y);

/* ---- Run parameters ------------------------------------------------------ */

/* Named parameters of a run in the order added, for summary.json and the
 * report's table. */
typedef struct sim_params {
	GPtrArray *names;  /* char *, owned */
	GPtrArray *values; /* char *, owned */
} sim_params;

void sim_params_init(sim_params *params);
void sim_params_release(sim_params *params);
void sim_params_add(sim_params *params, const char *name, const char *format,
		    ...) G_GNUC_PRINTF(3, 4);

/* ---- Metrics ------------------------------------------------------------- */

/* A pending-time distribution. With `pods` 0 the percentiles are not
 * defined: they are left at 0 and shown as n/a. */
typedef struct sim_pending_stats {
	uint64_t pods;     /* pods in the distribution */
	uint64_t censored; /* of them, pods that never started */
	uint64_t no_wait;  /* of them, pods that started on arrival */
	double p50_s;
	double p90_s;
	double p99_s;
	double max_s;
	double mean_s;
} sim_pending_stats;

typedef struct sim_summary {
	uint64_t arrived;
	uint64_t started;       /* pods that started at least once */
	uint64_t never_started; /* arrived, and still waiting for a first start at the end */
	double never_started_longest_s; /* the longest of their waits at the end */
	uint64_t completed;
	uint64_t running_at_end;
	/* Waiting at the end: the pods that never started, and evicted pods
	 * that did not start again. */
	uint64_t pending_at_end;
	uint64_t evictions;
	uint64_t attempts;
	uint64_t failed_attempts;
	sim_pending_stats pending_started; /* the pods that started */
	/* Every pod that arrived; never-started pods count as waiting until
	 * the end of the run. */
	sim_pending_stats pending_all;
	double cpu_mean_pct;
	double memory_mean_pct;
	double gpu_mean_pct;
	double gpu_frag_mean_pct;
	double nodes_used_mean;
	/* Network cost to peers; `peer_cost` false without a locality
	 * config. The distribution is over pods with placed peers. */
	bool peer_cost;
	uint64_t pods_with_peers;
	double peer_cost_mean;
	double peer_cost_p50;
	double peer_cost_p99;
	double peer_cost_max;
	uint32_t nodes_at_end;
	/* The maximum number of nodes in any sample; above nodes_at_end when node events
	 * removed nodes. */
	uint32_t nodes_peak;
	/* The run was stopped by a signal; the figures cover it up to
	 * simulated_s. */
	bool interrupted;
	uint64_t peak_pending;
	double peak_pending_s;
	double simulated_s;
	double wall_s;
	bool gpus;

	/* Tenant co-residency; all 0 and `tenancy` false without a tracker.
	 * Means and maxima are over the samples. */
	bool tenancy;
	uint32_t tenants; /* tenants with at least one placed pod */
	double shared_nodes_mean;
	uint32_t shared_nodes_max;
	double tenant_pairs_mean;
	uint32_t tenant_pairs_max;
	double untrusted_pairs_mean;
	uint32_t untrusted_pairs_max;
	uint32_t tenant_pairs_seen;    /* pairs that shared a node at any time */
	uint32_t untrusted_pairs_seen;
	/* Placements onto a node with pods of an untrusted tenant, and the
	 * pods that had at least one such placement. */
	uint64_t placements_next_to_untrusted;
	uint64_t pods_next_to_untrusted;

	/* End rows of a generic trace with an end section; `ends` false
	 * without one. The caller adds what the trace reader counted. */
	bool ends;
	uint64_t ended;          /* pods that left at their end row */
	uint64_t ended_waiting;  /* of those, pods that were waiting */
	uint64_t unmatched_ends; /* end rows that matched no pod in the run */
	uint64_t never_ended;    /* started pods whose end row had not come */
} sim_summary;

typedef struct sim_metrics {
	GArray *samples; /* sim_sample */
	sim_histogram pending;       /* waits of the pods that started */
	sim_histogram never_started; /* waits until the end of the pods that never started */
	FILE *pods_csv;  /* owned; NULL when no file is written */
	char *pods_csv_path;
	int write_error; /* errno of the first failed write, 0 when none */
	uint64_t running_at_end;
	uint64_t pending_at_end;
	/* Messages about the run's inputs for the report and summary.json
	 * (char *, owned), such as pod shapes that fit no node. */
	GPtrArray *warnings;
	bool gpus;

	sim_tenancy *tenancy; /* borrowed; NULL without co-residency metrics */
	/* Pod index -> the most untrusted tenants met at one of its
	 * placements, for pods that met any. */
	GHashTable *untrusted_met;
	uint64_t placements_next_to_untrusted;
	uint64_t pods_next_to_untrusted;

	const score_locality_config *locality; /* borrowed; NULL: no peer cost */
	const score_model *model;              /* borrowed, with `locality` */
	GHashTable *peer_cost; /* pod index -> double *, at its last placement */
	sim_histogram peer_costs; /* over pods that left or were reported */
} sim_metrics;

/* Starts collecting. With `pods_csv_path`, opens that file and writes its
 * header; fails with the path in the message when it cannot. */
int sim_metrics_init(sim_metrics *metrics, const char *pods_csv_path,
		     bool gpus, score_error *err);
/* Closes pods.csv and reports a failed write. */
int sim_metrics_close(sim_metrics *metrics, score_error *err);
void sim_metrics_release(sim_metrics *metrics);

/* Measures tenant co-residency with `tenancy` (borrowed: it must outlive
 * the run). Call it before the run. */
void sim_metrics_track_tenants(sim_metrics *metrics, sim_tenancy *tenancy);

/* Measures each pod's network cost to its peers with `locality` over
 * `model` (both borrowed: they must outlive the run). Call it before the
 * run. */
void sim_metrics_track_peer_cost(sim_metrics *metrics,
				 const score_locality_config *locality,
				 const score_model *model);

/* Fills `observer` with callbacks that feed `metrics`; `progress` is left
 * for the caller. */
void sim_metrics_observer(sim_metrics *metrics, sim_observer *observer);

/* Computes the summary after a run. */
void sim_metrics_summarize(const sim_metrics *metrics,
			   const sim_engine_stats *stats, double wall_s,
			   sim_summary *summary);

/* Formats the mean nodes used against the node count: "2.4 of 50", or
 * "2.4 of 50 at the peak (0 at the end)" when nodes were removed.
 * Returns `buf`. */
const char *sim_format_nodes_used(const sim_summary *summary, char *buf,
				  size_t size);

/* Writes timeseries.csv and summary.json into `dir`, which must exist. */
int sim_metrics_write(const sim_metrics *metrics, const sim_summary *summary,
		      const sim_params *params, const char *dir,
		      score_error *err);

/* Formats seconds for people: "0 s", "850 ms", "12.5 s", "5m31s",
 * "2h05m", "3d04h". Every form rounds to the nearest value of its last
 * unit (17,555.6 s is "4h53m"), and a value that rounds up to the next
 * form takes that form (3,599.6 s is "1h00m"). Returns `buf`. */
const char *sim_format_seconds(double seconds, char *buf, size_t size);

#endif
