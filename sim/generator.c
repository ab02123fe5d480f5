/* Synthetic churn; see generator.h. */
#include "sim/generator.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "scoring/gpu.h"
#include "scoring/quantity.h"

struct sim_generator {
	sim_generator_config config;
	GRand *rand;
	double time_s;   /* time of the last candidate arrival */
	double peak_rate; /* pods per second */
	double shape_total;
	double lifetime_total;
	double tenant_total;
	uint64_t next_index;
	bool done;
};

/* ---- Parsing ------------------------------------------------------------- */

static int parse_weight(const char *text, double *out)
{
	char *end = NULL;
	double value = g_ascii_strtod(text, &end);

	if (end == text || *end != '\0' || !isfinite(value) || value <= 0)
		return -EINVAL;
	*out = value;
	return 0;
}

/* The maximum duration accepted, in milliseconds. */
#define MAX_DURATION_MS 3.2e14

int sim_parse_duration(const char *text, int64_t *ms, score_error *err)
{
	const char *p = text;
	double total = 0.0;

	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		char *end = NULL;
		double value;
		double unit = 1000.0;

		if (!g_ascii_isdigit(*p) && *p != '.')
			goto bad;
		value = g_ascii_strtod(p, &end);
		if (end == p || value < 0)
			goto bad;
		/* An overflow gives infinity, which the limit below rejects. */
		p = end;
		if (g_str_has_prefix(p, "ms")) {
			unit = 1.0;
			p += 2;
		} else if (*p == 's') {
			p++;
		} else if (*p == 'm') {
			unit = 60e3;
			p++;
		} else if (*p == 'h') {
			unit = 3600e3;
			p++;
		} else if (*p == 'd') {
			unit = 86400e3;
			p++;
		} else if (*p != '\0') {
			goto bad;
		}
		total += value * unit;
	}
	/* Ten thousand years is far past any trace. */
	if (total > MAX_DURATION_MS)
		return score_fail(err, -ERANGE,
				  "invalid duration \"%s\": too large, the maximum is %.0fd (3.2e14 ms, about ten thousand years)",
				  text, floor(MAX_DURATION_MS / 86400e3));
	*ms = (int64_t)llround(total);
	return 0;

bad:
	return score_fail(err, -EINVAL,
			  "invalid duration \"%s\": give a number with a unit ms, s, m, h or d, such as 90s, 5m, 24h or 1h30m",
			  text);
}

/* Parses "500m" (a share of one GPU) or "2" (whole GPUs). */
static int parse_gpu(const char *text, sim_pod_shape *shape)
{
	int64_t milli = 0;

	if (score_quantity_parse_milli(text, &milli, NULL) < 0 || milli <= 0)
		return -EINVAL;
	if (milli < SCORE_GPU_MILLI) {
		shape->gpu_count = 1;
		shape->gpu_milli = (int32_t)milli;
		return 0;
	}
	if (milli % SCORE_GPU_MILLI != 0 ||
	    milli / SCORE_GPU_MILLI > SCORE_GPU_MAX_DEVICES)
		return -EINVAL;
	shape->gpu_count = (int32_t)(milli / SCORE_GPU_MILLI);
	shape->gpu_milli = SCORE_GPU_MILLI;
	return 0;
}

static int parse_shape(const char *item, sim_pod_shape *shape)
{
	const char *colon = strchr(item, ':');
	gchar **parts = NULL;
	char *weight = NULL;
	int ret = -EINVAL;

	memset(shape, 0, sizeof(*shape));
	if (colon == NULL)
		return -EINVAL;
	weight = g_strndup(item, (gsize)(colon - item));
	parts = g_strsplit(colon + 1, "/", -1);
	if (parse_weight(weight, &shape->weight) < 0)
		goto out;
	if (g_strv_length(parts) < 2 || g_strv_length(parts) > 3)
		goto out;
	if (score_quantity_parse_milli(parts[0], &shape->cpu_milli, NULL) < 0 ||
	    shape->cpu_milli < 0)
		goto out;
	if (score_quantity_parse_value(parts[1], &shape->memory, NULL) < 0 ||
	    shape->memory < 0)
		goto out;
	if (parts[2] != NULL && parse_gpu(parts[2], shape) < 0)
		goto out;
	ret = 0;

out:
	g_free(weight);
	g_strfreev(parts);
	return ret;
}

int sim_generator_parse_shapes(const char *text, sim_generator_config *config,
			       score_error *err)
{
	gchar **items = g_strsplit(text, ",", -1);
	guint n = g_strv_length(items);
	int ret = 0;

	if (n == 0 || n > SIM_GENERATOR_MAX_SHAPES) {
		ret = score_fail(err, -EINVAL,
				 "invalid shape table \"%s\": give 1 to %d entries WEIGHT:CPU/MEMORY[/GPU] separated by commas",
				 text, SIM_GENERATOR_MAX_SHAPES);
		goto out;
	}
	for (guint i = 0; i < n; i++) {
		if (parse_shape(items[i], &config->shapes[i]) < 0) {
			ret = score_fail(err, -EINVAL,
					 "invalid pod shape \"%s\": expected WEIGHT:CPU/MEMORY[/GPU] with a positive weight, such as 40:250m/512Mi or 5:4/16Gi/500m",
					 items[i]);
			goto out;
		}
	}
	config->n_shapes = n;

out:
	g_strfreev(items);
	return ret;
}

int sim_generator_parse_lifetimes(const char *text,
				  sim_generator_config *config,
				  score_error *err)
{
	gchar **items = g_strsplit(text, ",", -1);
	guint n = g_strv_length(items);
	int ret = 0;

	if (n == 0 || n > SIM_GENERATOR_MAX_LIFETIMES) {
		ret = score_fail(err, -EINVAL,
				 "invalid lifetime mix \"%s\": give 1 to %d entries WEIGHT:MEDIAN separated by commas, such as 46:1h,27:5m,27:2d",
				 text, SIM_GENERATOR_MAX_LIFETIMES);
		goto out;
	}
	for (guint i = 0; i < n; i++) {
		const char *colon = strchr(items[i], ':');
		char *weight = colon != NULL ? g_strndup(items[i], (gsize)(colon - items[i])) :
					       NULL;
		int64_t median_ms = 0;
		bool bad = colon == NULL ||
			   parse_weight(weight, &config->lifetimes[i].weight) < 0 ||
			   sim_parse_duration(colon + 1, &median_ms, NULL) < 0 ||
			   median_ms <= 0;

		g_free(weight);
		if (bad) {
			ret = score_fail(err, -EINVAL,
					 "invalid lifetime class \"%s\": expected WEIGHT:MEDIAN with a positive weight and duration, such as 46:1h",
					 items[i]);
			goto out;
		}
		config->lifetimes[i].median_s = (double)median_ms / 1000.0;
	}
	config->n_lifetimes = n;

out:
	g_strfreev(items);
	return ret;
}

void sim_generator_defaults(sim_generator_config *config)
{
	memset(config, 0, sizeof(*config));
	config->seed = 42;
	config->process = SIM_ARRIVALS_DIURNAL;
	config->rate_per_hour = 190.0;
	config->amplitude = 0.5;
	config->peak_hour = 14.0;
	config->duration_ms = 24LL * 3600 * 1000;
	config->lifetime_sigma = 0.5;
	config->tenants = 8;
	config->apps_per_tenant = 4;
	/* The defaults parse: they are constants of this file. */
	sim_generator_parse_shapes(SIM_DEFAULT_SHAPES, config, NULL);
	sim_generator_parse_lifetimes(SIM_DEFAULT_LIFETIMES, config, NULL);
}

int sim_generator_validate(const sim_generator_config *config,
			   score_error *err)
{
	if (!(config->rate_per_hour > 0) || !isfinite(config->rate_per_hour))
		return score_fail(err, -EINVAL,
				  "invalid arrival rate %g pods per hour: give a positive number",
				  config->rate_per_hour);
	if (!(config->amplitude >= 0 && config->amplitude <= 1))
		return score_fail(err, -EINVAL,
				  "invalid diurnal amplitude %g: give a fraction from 0 to 1",
				  config->amplitude);
	if (!(config->peak_hour >= 0 && config->peak_hour <= 24))
		return score_fail(err, -EINVAL,
				  "invalid peak hour %g: give an hour from 0 to 24",
				  config->peak_hour);
	if (config->duration_ms <= 0)
		return score_fail(err, -EINVAL,
				  "invalid duration %lld ms: give a positive duration such as 24h",
				  (long long)config->duration_ms);
	if (!(config->lifetime_sigma >= 0 && config->lifetime_sigma <= 5))
		return score_fail(err, -EINVAL,
				  "invalid lifetime sigma %g: give a number from 0 to 5",
				  config->lifetime_sigma);
	if (config->n_shapes == 0 || config->n_lifetimes == 0)
		return score_fail(err, -EINVAL,
				  "the generator needs at least one pod shape and one lifetime class");
	if (config->tenants < 1 || config->tenants > 10000 ||
	    config->apps_per_tenant < 1 || config->apps_per_tenant > 10000)
		return score_fail(err, -EINVAL,
				  "invalid tenants %u or apps per tenant %u: give 1 to 10000",
				  config->tenants, config->apps_per_tenant);
	return 0;
}

/* ---- Drawing ------------------------------------------------------------- */

double sim_generator_rate(const sim_generator_config *config, double time_s)
{
	double base = config->rate_per_hour / 3600.0;
	double hour;

	if (config->process == SIM_ARRIVALS_POISSON)
		return base;
	hour = time_s / 3600.0;
	return base * (1.0 + config->amplitude *
				     cos(2.0 * G_PI * (hour - config->peak_hour) / 24.0));
}

sim_generator *sim_generator_new(const sim_generator_config *config)
{
	sim_generator *generator = g_new0(sim_generator, 1);

	generator->config = *config;
	generator->rand = g_rand_new_with_seed(config->seed);
	generator->peak_rate = config->rate_per_hour / 3600.0;
	if (config->process == SIM_ARRIVALS_DIURNAL)
		generator->peak_rate *= 1.0 + config->amplitude;
	for (size_t i = 0; i < config->n_shapes; i++)
		generator->shape_total += config->shapes[i].weight;
	for (size_t i = 0; i < config->n_lifetimes; i++)
		generator->lifetime_total += config->lifetimes[i].weight;
	for (uint32_t k = 0; k < config->tenants; k++)
		generator->tenant_total += 1.0 / (k + 1.0);
	return generator;
}

void sim_generator_free(sim_generator *generator)
{
	if (generator == NULL)
		return;
	g_rand_free(generator->rand);
	g_free(generator);
}

const sim_generator_config *sim_generator_config_of(const sim_generator *generator)
{
	return &generator->config;
}

/* A draw in (0, 1], so that its logarithm is finite. */
static double open_uniform(GRand *rand)
{
	return 1.0 - g_rand_double(rand);
}

/* Picks index i with probability weight(i) / total. */
static size_t pick(GRand *rand, double total, size_t n,
		   double (*weight)(const sim_generator_config *, size_t),
		   const sim_generator_config *config)
{
	double u = g_rand_double(rand) * total;

	for (size_t i = 0; i + 1 < n; i++) {
		u -= weight(config, i);
		if (u < 0)
			return i;
	}
	return n - 1;
}

static double shape_weight(const sim_generator_config *config, size_t i)
{
	return config->shapes[i].weight;
}

static double lifetime_weight(const sim_generator_config *config, size_t i)
{
	return config->lifetimes[i].weight;
}

static double tenant_weight(const sim_generator_config *config, size_t i)
{
	(void)config;
	return 1.0 / ((double)i + 1.0);
}

/* Advances to the next arrival time; false past the duration. */
static bool next_arrival(sim_generator *generator)
{
	const sim_generator_config *config = &generator->config;
	double end_s = (double)config->duration_ms / 1000.0;

	for (;;) {
		generator->time_s += -log(open_uniform(generator->rand)) /
				     generator->peak_rate;
		if (generator->time_s >= end_s)
			return false;
		if (config->process == SIM_ARRIVALS_POISSON || config->amplitude == 0)
			return true;
		if (g_rand_double(generator->rand) * generator->peak_rate <
		    sim_generator_rate(config, generator->time_s))
			return true;
	}
}

bool sim_generator_next(sim_generator *generator, sim_generated_pod *pod)
{
	const sim_generator_config *config = &generator->config;
	GRand *rand = generator->rand;
	double u1;
	double u2;
	double normal;
	double lifetime_s;

	if (generator->done)
		return false;
	if ((config->max_pods > 0 && generator->next_index >= config->max_pods) ||
	    !next_arrival(generator)) {
		generator->done = true;
		return false;
	}

	memset(pod, 0, sizeof(*pod));
	pod->index = generator->next_index++;
	pod->time_ms = (int64_t)llround(generator->time_s * 1000.0);
	pod->shape = pick(rand, generator->shape_total, config->n_shapes,
			  shape_weight, config);
	pod->lifetime_class = pick(rand, generator->lifetime_total,
				   config->n_lifetimes, lifetime_weight, config);

	/* Box-Muller: one standard normal from two uniforms. */
	u1 = open_uniform(rand);
	u2 = g_rand_double(rand);
	normal = sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
	lifetime_s = config->lifetimes[pod->lifetime_class].median_s *
		     exp(config->lifetime_sigma * normal);
	pod->run_ms = MAX(1, (int64_t)llround(lifetime_s * 1000.0));

	pod->tenant = (uint32_t)pick(rand, generator->tenant_total,
				     config->tenants, tenant_weight, config);
	pod->app = (uint32_t)g_rand_int_range(rand, 0,
					      (gint32)config->apps_per_tenant);
	return true;
}
