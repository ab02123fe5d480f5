/* What a churn run measures and the files it writes: the time series of
 * sim_sample, the distribution of pending times, one row per pod, and the
 * summary.
 *
 * Pending time is the wait from a pod's arrival to its first start. Its
 * distribution is kept in a histogram of logarithmic buckets 1% wide (plus
 * one bucket for 0), so memory does not grow with the number of pods; a
 * percentile is the mean of the values in the bucket that contains it, exact
 * when those values are equal and within 1% otherwise.
 *
 * Files (sim_metrics_write()):
 *   timeseries.csv  one row per sample;
 *   pods.csv        one row per pod, written as pods leave and, at the end,
 *                   for pods still running or waiting, so rows are in the
 *                   order pods left the simulation;
 *   summary.json    the parameters, counts, pending-time percentiles and
 *                   mean allocation.
 */
#ifndef STOWAGE_SIM_METRICS_H
#define STOWAGE_SIM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "scoring/error.h"
#include "sim/engine.h"

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

typedef struct sim_summary {
	uint64_t arrived;
	uint64_t started;
	uint64_t completed;
	uint64_t running_at_end;
	uint64_t pending_at_end; /* never scheduled */
	uint64_t evictions;
	uint64_t attempts;
	uint64_t failed_attempts;
	double pending_p50_s;
	double pending_p90_s;
	double pending_p99_s;
	double pending_max_s;
	double pending_mean_s;
	double started_without_wait_pct;
	double longest_wait_at_end_s; /* of the pods never scheduled */
	double cpu_mean_pct;
	double memory_mean_pct;
	double gpu_mean_pct;
	double gpu_frag_mean_pct;
	double nodes_used_mean;
	uint32_t nodes_at_end;
	uint64_t peak_pending;
	double peak_pending_s;
	double simulated_s;
	double wall_s;
	bool gpus;
} sim_summary;

typedef struct sim_metrics {
	GArray *samples; /* sim_sample */
	sim_histogram pending;
	FILE *pods_csv;  /* owned; NULL when no file is written */
	char *pods_csv_path;
	int write_error; /* errno of the first failed write, 0 when none */
	uint64_t running_at_end;
	uint64_t pending_at_end;
	double longest_wait_at_end_s;
	bool gpus;
} sim_metrics;

/* Starts collecting. With `pods_csv_path`, opens that file and writes its
 * header; fails with the path in the message when it cannot. */
int sim_metrics_init(sim_metrics *metrics, const char *pods_csv_path,
		     bool gpus, score_error *err);
/* Closes pods.csv and reports a failed write. */
int sim_metrics_close(sim_metrics *metrics, score_error *err);
void sim_metrics_release(sim_metrics *metrics);

/* Fills `observer` with callbacks that feed `metrics`; `progress` is left
 * for the caller. */
void sim_metrics_observer(sim_metrics *metrics, sim_observer *observer);

/* Computes the summary after a run. */
void sim_metrics_summarize(const sim_metrics *metrics,
			   const sim_engine_stats *stats, double wall_s,
			   sim_summary *summary);

/* Writes timeseries.csv and summary.json into `dir`, which must exist. */
int sim_metrics_write(const sim_metrics *metrics, const sim_summary *summary,
		      const sim_params *params, const char *dir,
		      score_error *err);

/* Formats seconds for people: "0 s", "850 ms", "12.5 s", "5m31s",
 * "2h05m", "3d04h". Returns `buf`. */
const char *sim_format_seconds(double seconds, char *buf, size_t size);

#endif
