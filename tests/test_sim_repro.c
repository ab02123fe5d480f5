/* Tests for sim/repro.c: the statistics, policy labels, a small experiment
 * on traces written here with its output files and the comparison against
 * a published table, and the errors for unreadable inputs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "sim/repro.h"
#include "tests/tempdir.h"

TestSuite(repro, .timeout = 60);

static const char published_header[] =
	"workload,policy,arrived_pct,unalloc_gpu_pct_mean,unalloc_gpu_pct_sd,"
	"unalloc_gpu_pct_median,alloc_pct_mean,frag_ratio_pct_median,"
	"frag_amount_pct_of_total_gpus_median,n_seeds";

Test(repro, stats_even_count)
{
	double values[] = {4, 1, 3, 2};
	double mean, sd, median;

	sim_repro_stats(values, 4, &mean, &sd, &median);
	cr_assert_float_eq(mean, 2.5, 1e-12, "mean %g", mean);
	cr_assert_float_eq(sd, sqrt(5.0 / 3.0), 1e-12, "sample sd %g", sd);
	cr_assert_float_eq(median, 2.5, 1e-12, "median %g", median);
}

Test(repro, stats_odd_and_single)
{
	double odd[] = {3, 1, 2};
	double one[] = {7};
	double mean, sd, median;

	sim_repro_stats(odd, 3, &mean, &sd, &median);
	cr_assert_float_eq(median, 2, 1e-12, "median %g", median);
	sim_repro_stats(one, 1, &mean, &sd, &median);
	cr_assert_float_eq(sd, 0, 1e-12, "one value: sd 0, got %g", sd);
	cr_assert_float_eq(median, 7, 1e-12, "median %g", median);
}

Test(repro, policy_labels)
{
	char *fgd = sim_repro_policy_label(SCORE_GPU_FGD);
	char *random = sim_repro_policy_label(SCORE_GPU_RANDOM);

	cr_assert_str_eq(fgd, "06-FGD");
	cr_assert_str_eq(random, "01-Random");
	g_free(fgd);
	g_free(random);
}

/* A temporary directory with a node list, a pod list named "small" and a
 * published table covering FGD at 100%. */
typedef struct fixture {
	char *dir;
	char *out;
	char *reference;
} fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "cannot write %s", path);
	g_free(path);
}

static void fixture_init(fixture *f)
{
	GString *pods = g_string_new("name,cpu_milli,memory_mib,num_gpu,gpu_milli\n");

	f->dir = test_make_temp_dir("stowage-repro-XXXXXX");
	for (int i = 0; i < 40; i++)
		g_string_append_printf(pods, "pod-%02d,%d,1024,%d,%d\n", i,
				       1000 + 500 * (i % 4), i % 6 == 0 ? 2 : 1,
				       i % 6 == 0 ? 1000 : 250 * (1 + i % 4));
	write_file(f->dir, "nodes.csv",
		   "sn,cpu_milli,memory_mib,gpu,model\n"
		   "n1,32000,65536,4,T4\nn2,32000,65536,2,T4\nn3,16000,65536,8,G2\n");
	write_file(f->dir, "small.csv", pods->str);
	f->reference = g_build_filename(f->dir, "published.csv", NULL);
	{
		char *text = g_strdup_printf("%s\nsmall,06-FGD,100,5.00,0.10,5.00,95.00,99.00,4.90,10\n",
					     published_header);

		cr_assert(g_file_set_contents(f->reference, text, -1, NULL));
		g_free(text);
	}
	f->out = g_build_filename(f->dir, "out", NULL);
	g_string_free(pods, TRUE);
}

static void fixture_release(fixture *f)
{
	test_remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->out);
	g_free(f->reference);
}

static void small_config(const fixture *f, sim_repro_config *config)
{
	sim_repro_defaults(config);
	config->traces_dir = f->dir;
	config->node_list = "nodes.csv";
	config->out_dir = f->out;
	config->reference_path = f->reference;
	config->workloads[0] = "small";
	config->n_workloads = 1;
	config->policies[0] = SCORE_GPU_BEST_FIT;
	config->policies[1] = SCORE_GPU_FGD;
	config->n_policies = 2;
	config->seeds[0] = 1;
	config->seeds[1] = 2;
	config->seeds[2] = 3;
	config->n_seeds = 3;
}

static char *read_output(const fixture *f, const char *name)
{
	char *path = g_build_filename(f->out, name, NULL);
	char *text = NULL;

	cr_assert(g_file_get_contents(path, &text, NULL, NULL), "missing %s", path);
	g_free(path);
	return text;
}

static int count_lines(const char *text)
{
	int lines = 0;

	for (const char *c = text; *c != '\0'; c++)
		lines += *c == '\n';
	return lines;
}

Test(repro, small_experiment_writes_outputs)
{
	fixture f;
	sim_repro_config config;
	score_error err = {0};
	char *summary;
	char *runs;
	char *comparison;
	char *json_text;
	cJSON *json;
	cJSON *cells;

	fixture_init(&f);
	small_config(&f, &config);
	cr_assert_eq(sim_repro_run(&config, &err), 0, "failed: %s", err.message);

	summary = read_output(&f, "summary.csv");
	cr_assert(g_str_has_prefix(summary, published_header),
		  "summary.csv has the published columns: %.80s", summary);
	cr_assert_eq(count_lines(summary), 1 + 2 * 7, "header + 2 policies x 7 steps, got %d",
		     count_lines(summary));
	cr_assert(strstr(summary, "small,06-FGD,100,") != NULL, "FGD row at 100");

	runs = read_output(&f, "runs.csv");
	cr_assert_eq(count_lines(runs), 1 + 2 * 3 * 7, "header + 2 x 3 seeds x 7 steps, got %d",
		     count_lines(runs));

	comparison = read_output(&f, "comparison.csv");
	cr_assert_eq(count_lines(comparison), 2, "header + the one published cell, got %d",
		     count_lines(comparison));
	cr_assert(strstr(comparison, "small,06-FGD,100,5.00,0.10,") != NULL,
		  "comparison: %s", comparison);

	json_text = read_output(&f, "summary.json");
	json = cJSON_Parse(json_text);
	cr_assert_not_null(json, "summary.json parses");
	cells = cJSON_GetObjectItem(json, "cells");
	cr_assert_eq(cJSON_GetArraySize(cells), 14, "14 cells, got %d", cJSON_GetArraySize(cells));
	cr_assert_not_null(cJSON_GetObjectItem(json, "comparison_at_100_pct"));
	cr_assert_not_null(cJSON_GetObjectItem(json, "machine"));

	cJSON_Delete(json);
	g_free(json_text);
	g_free(comparison);
	g_free(runs);
	g_free(summary);
	fixture_release(&f);
}

Test(repro, same_config_same_summary)
{
	fixture f;
	sim_repro_config config;
	char *first;
	char *second;

	fixture_init(&f);
	small_config(&f, &config);
	config.reference_path = NULL;
	cr_assert_eq(sim_repro_run(&config, NULL), 0);
	first = read_output(&f, "summary.csv");
	cr_assert_eq(sim_repro_run(&config, NULL), 0);
	second = read_output(&f, "summary.csv");
	cr_assert_str_eq(first, second, "a run is reproducible from its seeds");
	g_free(first);
	g_free(second);
	fixture_release(&f);
}

Test(repro, bad_published_table)
{
	fixture f;
	sim_repro_config config;
	score_error err = {0};

	fixture_init(&f);
	small_config(&f, &config);
	cr_assert(g_file_set_contents(f.reference, "workload,policy\nx,y\n", -1, NULL));
	cr_assert_eq(sim_repro_run(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "published.csv:1:") != NULL, "message: %s", err.message);

	cr_assert(g_file_set_contents(f.reference, published_header, -1, NULL));
	{
		char *text = g_strdup_printf("%s\nsmall,06-FGD,abc,1,1,1,1,1,1,10\n",
					     published_header);

		cr_assert(g_file_set_contents(f.reference, text, -1, NULL));
		g_free(text);
	}
	cr_assert_eq(sim_repro_run(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "published.csv:2: malformed row") != NULL,
		  "message: %s", err.message);
	fixture_release(&f);
}

Test(repro, missing_trace_names_path)
{
	fixture f;
	sim_repro_config config;
	score_error err = {0};

	fixture_init(&f);
	small_config(&f, &config);
	config.workloads[0] = "absent";
	cr_assert_eq(sim_repro_run(&config, &err), -ENOENT);
	cr_assert(strstr(err.message, " lacks absent.csv: --traces needs the node list and pod lists of the Alibaba GPU cluster trace 2023") != NULL,
		  "expected the missing file and the trace set named, got: %s", err.message);
	fixture_release(&f);
}

Test(repro, missing_trace_directory_lists_files, .timeout = 60)
{
	fixture f;
	sim_repro_config config;
	score_error err = {0};
	char *absent;

	fixture_init(&f);
	small_config(&f, &config);
	absent = g_build_filename(f.dir, "absent-dir", NULL);
	config.traces_dir = absent;
	cr_assert_eq(sim_repro_run(&config, &err), -ENOENT);
	cr_assert(strstr(err.message, "absent-dir is not a directory; expected one with small.csv, nodes.csv") != NULL,
		  "expected the expected files listed, got: %s", err.message);
	g_free(absent);
	fixture_release(&f);
}

Test(repro, missing_directories_rejected)
{
	sim_repro_config config;
	score_error err = {0};

	sim_repro_defaults(&config);
	cr_assert_eq(sim_repro_run(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "--traces") != NULL, "message: %s", err.message);
	config.traces_dir = "/tmp";
	cr_assert_eq(sim_repro_run(&config, &err), -EINVAL);
	cr_assert(strstr(err.message, "--out") != NULL, "message: %s", err.message);
}
