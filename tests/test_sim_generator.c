/* Tests for sim/generator.c: the parsers, and the distributions of a
 * seeded run against their expected values. Each count is checked to lie
 * within 4.5 standard deviations of its mean, so a correct generator fails
 * a check with probability below 1e-5, and a wrong rate or weight fails. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sim/generator.h"

/* Asserts |count - n p| <= 4.5 sqrt(n p (1 - p)). */
static void assert_binomial(uint64_t count, uint64_t n, double p, const char *what)
{
	double mean = (double)n * p;
	double sd = sqrt((double)n * p * (1 - p));

	cr_assert(fabs((double)count - mean) <= 4.5 * sd,
		  "%s: expected %.0f +- %.0f, got %llu", what, mean, 4.5 * sd,
		  (unsigned long long)count);
}

Test(generator, durations_parse)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
		{"90", 90000}, {"90s", 90000}, {"250ms", 250}, {"5m", 300000},
		{"1h", 3600000}, {"2d", 172800000}, {"1h30m", 5400000}, {"1.5h", 5400000},
	};
	static const char *const bad[] = {"", "-5s", "5x", "h", "1e400", "5 m"};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int64_t ms = 0;

		cr_assert_eq(sim_parse_duration(cases[i].text, &ms, NULL), 0, "\"%s\" parses",
			     cases[i].text);
		cr_assert_eq(ms, cases[i].ms, "\"%s\": expected %lld ms, got %lld",
			     cases[i].text, (long long)cases[i].ms, (long long)ms);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		int64_t ms = 0;
		score_error err = {0};

		cr_assert_lt(sim_parse_duration(bad[i], &ms, &err), 0, "\"%s\" is rejected", bad[i]);
		cr_assert(strstr(err.message, "invalid duration") != NULL, "message: %s",
			  err.message);
	}
}

Test(generator, shapes_and_lifetimes_parse)
{
	sim_generator_config config;
	score_error err = {0};

	sim_generator_defaults(&config);
	cr_assert_eq(sim_generator_parse_shapes("3:500m/1Gi,1:4/16Gi/500m,1:8/64Gi/2", &config,
						&err), 0, "%s", err.message);
	cr_assert_eq(config.n_shapes, 3);
	cr_assert_eq(config.shapes[0].cpu_milli, 500);
	cr_assert_eq(config.shapes[0].memory, 1LL << 30);
	cr_assert_eq(config.shapes[1].gpu_count, 1, "500m is a share of one GPU");
	cr_assert_eq(config.shapes[1].gpu_milli, 500);
	cr_assert_eq(config.shapes[2].gpu_count, 2, "2 is two whole GPUs");
	cr_assert_eq(config.shapes[2].gpu_milli, 1000);

	cr_assert_lt(sim_generator_parse_shapes("0:1/1Gi", &config, &err), 0, "zero weight");
	cr_assert_lt(sim_generator_parse_shapes("1:1", &config, &err), 0, "no memory");
	cr_assert_lt(sim_generator_parse_shapes("1:1/1Gi/1500m", &config, &err), 0,
		     "1.5 GPUs is neither a share nor whole GPUs");
	cr_assert(strstr(err.message, "1:1/1Gi/1500m") != NULL, "message quotes the entry: %s",
		  err.message);

	cr_assert_eq(sim_generator_parse_lifetimes("1:10m,3:2h", &config, &err), 0, "%s",
		     err.message);
	cr_assert_eq(config.n_lifetimes, 2);
	cr_assert_float_eq(config.lifetimes[1].median_s, 7200.0, 1e-9);
	cr_assert_lt(sim_generator_parse_lifetimes("1:0s", &config, &err), 0, "zero median");
	cr_assert_lt(sim_generator_parse_lifetimes("abc", &config, &err), 0, "no colon");
}

Test(generator, validate_rejects_bad_ranges)
{
	sim_generator_config config;
	score_error err = {0};

	sim_generator_defaults(&config);
	cr_assert_eq(sim_generator_validate(&config, &err), 0, "defaults are valid: %s",
		     err.message);
	config.amplitude = 1.5;
	cr_assert_lt(sim_generator_validate(&config, &err), 0);
	cr_assert(strstr(err.message, "amplitude") != NULL, "message: %s", err.message);
	sim_generator_defaults(&config);
	config.rate_per_hour = 0;
	cr_assert_lt(sim_generator_validate(&config, &err), 0, "zero rate");
}

/* Draws every pod of `config` and counts them. */
typedef struct counts {
	uint64_t pods;
	uint64_t per_shape[SIM_GENERATOR_MAX_SHAPES];
	uint64_t per_class[SIM_GENERATOR_MAX_LIFETIMES];
	uint64_t below_median[SIM_GENERATOR_MAX_LIFETIMES];
	uint64_t per_tenant[8];
	uint64_t first_half_day; /* arrivals in hours 8-20 of each day */
	int64_t last_time;
	bool ordered;
} counts;

static void count_pods(const sim_generator_config *config, counts *c)
{
	sim_generator *generator = sim_generator_new(config);
	sim_generated_pod pod;

	memset(c, 0, sizeof(*c));
	c->ordered = true;
	while (sim_generator_next(generator, &pod)) {
		double hour = fmod((double)pod.time_ms / 3600e3, 24.0);

		c->ordered = c->ordered && pod.time_ms >= c->last_time;
		c->last_time = pod.time_ms;
		c->pods++;
		c->per_shape[pod.shape]++;
		c->per_class[pod.lifetime_class]++;
		if ((double)pod.run_ms / 1000.0 < config->lifetimes[pod.lifetime_class].median_s)
			c->below_median[pod.lifetime_class]++;
		if (pod.tenant < 8)
			c->per_tenant[pod.tenant]++;
		if (hour >= 8 && hour < 20)
			c->first_half_day++;
	}
	cr_assert_not(sim_generator_next(generator, &pod), "stays at its end");
	sim_generator_free(generator);
}

Test(generator, poisson_counts_match_rate)
{
	sim_generator_config config;
	counts c;
	/* 10 days at 1,000 pods per hour: 240,000 expected. */
	double mean = 240000;

	sim_generator_defaults(&config);
	config.seed = 7;
	config.process = SIM_ARRIVALS_POISSON;
	config.rate_per_hour = 1000;
	config.duration_ms = 10LL * 86400 * 1000;
	count_pods(&config, &c);

	cr_assert(c.ordered, "arrivals in time order");
	cr_assert(fabs((double)c.pods - mean) <= 4.5 * sqrt(mean),
		  "Poisson count: expected %.0f +- %.0f, got %llu", mean, 4.5 * sqrt(mean),
		  (unsigned long long)c.pods);
	cr_assert_lt(c.last_time, config.duration_ms, "no arrival at or after the duration");

	/* Default mix: 46% / 27% / 27%, and each class's median splits it. */
	assert_binomial(c.per_class[0], c.pods, 0.46, "1 h class");
	assert_binomial(c.per_class[1], c.pods, 0.27, "5 min class");
	assert_binomial(c.per_class[2], c.pods, 0.27, "2 d class");
	for (size_t k = 0; k < config.n_lifetimes; k++)
		assert_binomial(c.below_median[k], c.per_class[k], 0.5, "below the class median");

	/* Shapes 40:30:20:8:2. */
	assert_binomial(c.per_shape[0], c.pods, 0.40, "shape 0");
	assert_binomial(c.per_shape[1], c.pods, 0.30, "shape 1");
	assert_binomial(c.per_shape[4], c.pods, 0.02, "shape 4");

	/* Tenants with Zipf weights 1/(k+1) over 8 tenants. */
	{
		double harmonic = 0;

		for (int k = 1; k <= 8; k++)
			harmonic += 1.0 / k;
		assert_binomial(c.per_tenant[0], c.pods, 1.0 / harmonic, "tenant 0");
		assert_binomial(c.per_tenant[7], c.pods, 1.0 / (8 * harmonic), "tenant 7");
	}
	/* Poisson: a 12-hour window contains half of the arrivals. */
	assert_binomial(c.first_half_day, c.pods, 0.5, "hours 8-20");
}

Test(generator, diurnal_rate_follows_cosine)
{
	sim_generator_config config;
	counts c;
	double share;

	sim_generator_defaults(&config);
	config.seed = 3;
	config.rate_per_hour = 2000;
	config.amplitude = 0.8;
	config.peak_hour = 14;
	config.duration_ms = 5LL * 86400 * 1000;
	count_pods(&config, &c);

	/* Over whole days the mean rate is the base rate. */
	cr_assert(fabs((double)c.pods - 240000) <= 4.5 * sqrt(240000),
		  "expected 240000 +- %.0f, got %llu", 4.5 * sqrt(240000),
		  (unsigned long long)c.pods);
	/* Share of hours 8-20, centred on the peak: the integral of
	 * 1 + a cos(2 pi (h - 14) / 24) over it, divided by 24, is
	 * 1/2 + a sin(pi / 2) / pi = 0.5 + 0.8 / pi. */
	share = 0.5 + 0.8 / G_PI;
	assert_binomial(c.first_half_day, c.pods, share, "hours 8-20 under a 14:00 peak");
	cr_assert_float_eq(sim_generator_rate(&config, 14 * 3600.0), 2000 * 1.8 / 3600, 1e-9,
			   "peak rate");
	cr_assert_float_eq(sim_generator_rate(&config, 2 * 3600.0), 2000 * 0.2 / 3600, 1e-9,
			   "trough rate");
}

Test(generator, same_seed_same_pods)
{
	sim_generator_config config;
	sim_generator *a;
	sim_generator *b;
	sim_generated_pod pa;
	sim_generated_pod pb;
	int differ = 0;

	sim_generator_defaults(&config);
	config.max_pods = 2000;
	a = sim_generator_new(&config);
	b = sim_generator_new(&config);
	for (int i = 0; i < 2000; i++) {
		cr_assert(sim_generator_next(a, &pa));
		cr_assert(sim_generator_next(b, &pb));
		cr_assert_eq(memcmp(&pa, &pb, sizeof(pa)), 0, "pod %d differs", i);
	}
	cr_assert_not(sim_generator_next(a, &pa), "max_pods stops the generator");
	sim_generator_free(a);
	sim_generator_free(b);

	config.seed = 43;
	a = sim_generator_new(&config);
	config.seed = 42;
	b = sim_generator_new(&config);
	for (int i = 0; i < 100; i++) {
		sim_generator_next(a, &pa);
		sim_generator_next(b, &pb);
		differ += pa.time_ms != pb.time_ms;
	}
	cr_assert_gt(differ, 90, "another seed gives other times");
	sim_generator_free(a);
	sim_generator_free(b);
}

Test(generator, duration_too_large_names_maximum, .timeout = 60)
{
	static const char *const large[] = {"99999999999d", "1e999s", "3703704d"};
	int64_t ms = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(large); i++) {
		score_error err = {0};
		int ret = sim_parse_duration(large[i], &ms, &err);

		cr_assert_lt(ret, 0, "expected \"%s\" rejected, got %d", large[i], ret);
		cr_assert(strstr(err.message, "too large, the maximum is 3703703d") != NULL,
			  "expected the maximum named for \"%s\", got: %s", large[i], err.message);
	}
	cr_assert_eq(sim_parse_duration("3703703d", &ms, NULL), 0, "expected the maximum accepted");
}
