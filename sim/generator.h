/* A seeded generator of synthetic churn: pod arrivals over time, each with
 * a lifetime, a resource shape, a tenant (namespace) and an app label.
 *
 * Arrivals form a Poisson process of `rate_per_hour`. With
 * SIM_ARRIVALS_DIURNAL they form a non-homogeneous one whose rate follows a
 * day-long cosine, rate * (1 + amplitude * cos(2 pi (hour - peak_hour) /
 * 24)). It is drawn by thinning (Lewis and Shedler): candidates come at the
 * peak rate, and each is kept with probability rate(t) / peak rate.
 *
 * Lifetimes come from a mix of classes, each a lognormal distribution with
 * the class's median and a shared sigma (of the underlying normal). The
 * default mix: 46% with median 1 h, 27% with median 5 min, 27% with median
 * 2 days, sigma 0.5, so that about 95% of each class falls within a factor
 * e^(2 * 0.5) = 2.7 of its median. Shapes come from a weighted table;
 * tenants are drawn with Zipf weights (tenant k has weight 1 / (k + 1)), and
 * apps uniformly within a tenant.
 *
 * Randomness: one glib GRand (Mersenne Twister) created with
 * g_rand_new_with_seed(seed). For each pod it draws, in this order: the
 * arrival gap (and, for diurnal arrivals, the thinning draws), the shape,
 * the lifetime class, two draws for the lognormal (Box-Muller), the tenant
 * and the app. The same configuration and seed give the same pods.
 */
#ifndef STOWAGE_SIM_GENERATOR_H
#define STOWAGE_SIM_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring/error.h"

#define SIM_GENERATOR_MAX_SHAPES 16
#define SIM_GENERATOR_MAX_LIFETIMES 8

typedef enum sim_arrival_process {
	SIM_ARRIVALS_POISSON = 0,
	SIM_ARRIVALS_DIURNAL,
} sim_arrival_process;

/* One row of the shape table: a pod's requests and its share of pods. */
typedef struct sim_pod_shape {
	double weight;
	int64_t cpu_milli;
	int64_t memory;    /* bytes */
	int32_t gpu_count; /* 0 for pods without GPUs */
	int32_t gpu_milli; /* per GPU: 1..999 shares one GPU, 1000 whole GPUs */
} sim_pod_shape;

typedef struct sim_lifetime_class {
	double weight;
	double median_s;
} sim_lifetime_class;

typedef struct sim_generator_config {
	uint32_t seed;
	sim_arrival_process process;
	double rate_per_hour; /* mean arrival rate */
	double amplitude;     /* diurnal: 0 to 1 */
	double peak_hour;     /* diurnal: 0 to 24, hour of the highest rate */
	int64_t duration_ms;  /* no arrivals at or after this time */
	uint64_t max_pods;    /* stop after this many; 0 for no limit */
	sim_lifetime_class lifetimes[SIM_GENERATOR_MAX_LIFETIMES];
	size_t n_lifetimes;
	double lifetime_sigma;
	sim_pod_shape shapes[SIM_GENERATOR_MAX_SHAPES];
	size_t n_shapes;
	uint32_t tenants;
	uint32_t apps_per_tenant;
} sim_generator_config;

/* The defaults of `stowage sim`: 24 h of diurnal arrivals at 190 pods per
 * hour, amplitude 0.5, peak at 14:00, the lifetime mix above, the shapes of
 * SIM_DEFAULT_SHAPES, 8 tenants with 4 apps each, seed 42. */
void sim_generator_defaults(sim_generator_config *config);

#define SIM_DEFAULT_SHAPES "40:250m/512Mi,30:500m/1Gi,20:1/2Gi,8:2/8Gi,2:4/16Gi"
#define SIM_DEFAULT_LIFETIMES "46:1h,27:5m,27:2d"

/* Parses a shape table, "WEIGHT:CPU/MEMORY[/GPU],...": weights are
 * positive numbers (relative), CPU and memory Kubernetes quantities, and
 * GPU "500m" for half of one GPU or "2" for two whole GPUs. */
int sim_generator_parse_shapes(const char *text, sim_generator_config *config,
			       score_error *err);

/* Parses a lifetime mix, "WEIGHT:MEDIAN,...", medians as durations
 * ("90s", "5m", "1h", "2d"). */
int sim_generator_parse_lifetimes(const char *text,
				  sim_generator_config *config,
				  score_error *err);

/* Parses a duration: a number with an optional unit ms, s, m, h or d
 * (seconds without one), or a sum of them such as "1h30m". Fails for
 * negative, empty or overflowing values. */
int sim_parse_duration(const char *text, int64_t *ms, score_error *err);

/* Checks ranges: rate above 0, amplitude 0..1, peak hour 0..24, duration
 * above 0, weights above 0, sigma 0..5, tenants and apps 1..10000. */
int sim_generator_validate(const sim_generator_config *config,
			   score_error *err);

/* Returns the arrival rate in pods per second at `time_s`. */
double sim_generator_rate(const sim_generator_config *config, double time_s);

/* One generated pod. */
typedef struct sim_generated_pod {
	uint64_t index;
	int64_t time_ms;
	int64_t run_ms;        /* lifetime, at least 1 ms */
	size_t shape;          /* index into config->shapes */
	size_t lifetime_class; /* index into config->lifetimes */
	uint32_t tenant;       /* 0 .. tenants - 1 */
	uint32_t app;          /* 0 .. apps_per_tenant - 1 */
} sim_generated_pod;

typedef struct sim_generator sim_generator;

/* Returns a generator over a copy of `config`, which must be valid; the
 * caller frees it with sim_generator_free(). */
sim_generator *sim_generator_new(const sim_generator_config *config);
void sim_generator_free(sim_generator *generator);

/* Draws the next pod. Returns false once the duration or max_pods is
 * reached; the generator then stays at its end. */
bool sim_generator_next(sim_generator *generator, sim_generated_pod *pod);

/* Returns the configuration the generator copied. Borrowed. */
const sim_generator_config *sim_generator_config_of(const sim_generator *generator);

#endif
