/* Sweeps of churn runs; see sweep.h. */
#include "sim/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "policies/yaml.h"
#include "sim/churn.h"
#include "sim/placement.h"
#include "sim/plan.h"
#include "sim/policyfile.h"
#include "sim/template.h"

#define EXIT_USAGE 2
/* Sweep files are small; a larger one is rejected unread. */
#define MAX_SWEEP_FILE (1024 * 1024)
#define MAX_CELLS 1000000

typedef struct workload {
	char *name;
	GPtrArray *options; /* char *, owned */
	/* Borrowed: where the file gives the workload, for the line of a
	 * message; valid only while the file is parsed, NULL for the default
	 * workload. */
	const pol_yaml_node *node;
} workload;

struct sim_sweep {
	char *path;
	char *name;
	GPtrArray *options;   /* char *, owned: for every cell */
	GPtrArray *policies;  /* char *, owned */
	GArray *workloads;    /* workload */
	GArray *seeds;        /* uint32_t */
	GPtrArray *clusters;  /* char * templates, owned; empty: none given */
	GArray *cells;        /* sim_sweep_cell */
};

void sim_sweep_free(sim_sweep *sweep)
{
	if (sweep == NULL)
		return;
	for (guint i = 0; sweep->cells != NULL && i < sweep->cells->len; i++)
		g_ptr_array_free(g_array_index(sweep->cells, sim_sweep_cell, i).args, TRUE);
	if (sweep->cells != NULL)
		g_array_free(sweep->cells, TRUE);
	for (guint i = 0; sweep->workloads != NULL && i < sweep->workloads->len; i++) {
		workload *w = &g_array_index(sweep->workloads, workload, i);

		g_free(w->name);
		g_ptr_array_free(w->options, TRUE);
	}
	if (sweep->workloads != NULL)
		g_array_free(sweep->workloads, TRUE);
	if (sweep->options != NULL)
		g_ptr_array_free(sweep->options, TRUE);
	if (sweep->policies != NULL)
		g_ptr_array_free(sweep->policies, TRUE);
	if (sweep->seeds != NULL)
		g_array_free(sweep->seeds, TRUE);
	if (sweep->clusters != NULL)
		g_ptr_array_free(sweep->clusters, TRUE);
	g_free(sweep->path);
	g_free(sweep->name);
	g_free(sweep);
}

const char *sim_sweep_name(const sim_sweep *sweep)
{
	return sweep->name;
}

size_t sim_sweep_cell_count(const sim_sweep *sweep)
{
	return sweep->cells->len;
}

const sim_sweep_cell *sim_sweep_cell_at(const sim_sweep *sweep, size_t index)
{
	return &g_array_index(sweep->cells, sim_sweep_cell, index);
}

char *sim_sweep_cell_dir(const sim_sweep *sweep, const char *out_dir,
			 size_t index)
{
	int width = 4;
	char name[32];

	for (size_t n = sweep->cells->len; n > 9999; n /= 10)
		width++;
	g_snprintf(name, sizeof(name), "cell-%0*zu", width, index);
	return g_build_filename(out_dir, name, NULL);
}

/* ---- Reading the file ---------------------------------------------------- */

/* Fails with "FILE:LINE:COLUMN: FIELD: message". */
static int fail_at(const sim_sweep *sweep, const pol_yaml_node *node,
		   const char *field, score_error *err, const char *format, ...)
	G_GNUC_PRINTF(5, 6);

static int fail_at(const sim_sweep *sweep, const pol_yaml_node *node,
		   const char *field, score_error *err, const char *format, ...)
{
	va_list args;
	char *message;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	score_fail(err, -EINVAL, "%s:%zu:%zu: %s: %s", sweep->path, node->position.line,
		   node->position.column, field, message);
	g_free(message);
	return -EINVAL;
}

/* True for an option that the sweep sets itself, given as "--out" or
 * "--out=DIR". */
static bool is_option(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int check_options(const sim_sweep *sweep, const pol_yaml_node *node,
			 const char *field, const GPtrArray *options, bool clusters,
			 score_error *err)
{
	static const char *const reserved[] = {"--out", "--policy", "--seed"};

	for (guint i = 0; i < options->len; i++) {
		const char *arg = options->pdata[i];

		for (size_t r = 0; r < G_N_ELEMENTS(reserved); r++) {
			if (is_option(arg, reserved[r]))
				return fail_at(sweep, node, field, err,
					       "%s is set by the sweep for each cell: list values under policies or seeds instead",
					       reserved[r]);
		}
		if (clusters && (is_option(arg, "--cluster") || is_option(arg, "--nodes")))
			return fail_at(sweep, node, field, err,
				       "%s conflicts with the clusters of the sweep: list templates under clusters instead",
				       is_option(arg, "--cluster") ? "--cluster" : "--nodes");
	}
	return 0;
}

/* Reads OPTIONS: a sequence of scalars, or one string split as a shell
 * splits it. */
static int read_options(const sim_sweep *sweep, const pol_yaml_node *node,
			const char *field, GPtrArray *out, score_error *err)
{
	GError *error = NULL;
	char **words = NULL;
	int n = 0;

	if (node->kind == POL_YAML_SEQUENCE) {
		for (guint i = 0; i < node->items->len; i++) {
			const pol_yaml_node *item = node->items->pdata[i];

			if (item->kind != POL_YAML_SCALAR)
				return fail_at(sweep, item, field, err,
					       "expected an option or a value, got %s",
					       pol_yaml_describe(item));
			g_ptr_array_add(out, g_strdup(item->text));
		}
		return 0;
	}
	if (node->kind != POL_YAML_SCALAR)
		return fail_at(sweep, node, field, err,
			       "expected a list of options or a string, got %s",
			       pol_yaml_describe(node));
	if (node->text[0] == '\0')
		return 0;
	if (!g_shell_parse_argv(node->text, &n, &words, &error)) {
		int ret = fail_at(sweep, node, field, err, "cannot split \"%s\": %s",
				  node->text, error->message);

		g_error_free(error);
		return ret;
	}
	for (int i = 0; i < n; i++)
		g_ptr_array_add(out, g_strdup(words[i]));
	g_strfreev(words);
	return 0;
}

static int read_policies(sim_sweep *sweep, const pol_yaml_node *node,
			 score_error *err)
{
	if (node->kind != POL_YAML_SEQUENCE || node->items->len == 0)
		return fail_at(sweep, node, "policies", err,
			       "expected a non-empty list of policy names or files, got %s",
			       pol_yaml_describe(node));
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = node->items->pdata[i];
		score_error policy_err = {0};
		sim_policy policy;

		if (item->kind != POL_YAML_SCALAR || item->type != POL_SCALAR_STRING)
			return fail_at(sweep, item, "policies", err,
				       "expected a policy name or file, got %s",
				       pol_yaml_describe(item));
		if (sim_policy_parse(item->text, &policy, &policy_err) < 0 ||
		    (policy.kind == SIM_POLICY_FILE &&
		     sim_policy_file_check(item->text, &policy_err) < 0))
			return fail_at(sweep, item, "policies", err, "%s", policy_err.message);
		g_ptr_array_add(sweep->policies, g_strdup(item->text));
	}
	return 0;
}

static int read_workload(sim_sweep *sweep, const pol_yaml_node *node,
			 score_error *err)
{
	const pol_yaml_node *name;
	const pol_yaml_node *options;
	workload added = {0};
	int ret;

	if (node->kind != POL_YAML_MAPPING)
		return fail_at(sweep, node, "workloads", err,
			       "expected a mapping with name and options, got %s",
			       pol_yaml_describe(node));
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_pair *pair = node->items->pdata[i];

		if (strcmp(pair->key->text, "name") != 0 && strcmp(pair->key->text, "options") != 0)
			return fail_at(sweep, pair->key, "workloads", err,
				       "unknown field \"%s\": a workload has name and options",
				       pair->key->text);
	}
	name = pol_yaml_get(node, "name");
	if (name == NULL || name->kind != POL_YAML_SCALAR || name->text[0] == '\0')
		return fail_at(sweep, name != NULL ? name : node, "workloads.name", err,
			       "missing or empty name: give each workload a name for the report");
	for (guint i = 0; i < sweep->workloads->len; i++) {
		if (strcmp(g_array_index(sweep->workloads, workload, i).name, name->text) == 0)
			return fail_at(sweep, name, "workloads.name", err,
				       "workload \"%s\" is listed twice; names must be unique",
				       name->text);
	}
	added.name = g_strdup(name->text);
	added.options = g_ptr_array_new_with_free_func(g_free);
	options = pol_yaml_get(node, "options");
	added.node = options != NULL ? options : node;
	ret = options != NULL ? read_options(sweep, options, "workloads.options",
					     added.options, err) : 0;
	g_array_append_val(sweep->workloads, added);
	return ret;
}

/* Adds the seeds of "1-5" or "7" to the sweep. Returns 0, -EINVAL for
 * text that is not a seed or range of seeds, or -E2BIG when the sweep
 * would have more than MAX_CELLS seeds. */
static int add_seed_range(sim_sweep *sweep, const char *text)
{
	char **range = g_strsplit(text, "-", 2);
	guint64 first = 0;
	guint64 last = 0;
	bool ok = g_ascii_string_to_unsigned(g_strstrip(range[0]), 10, 0, UINT32_MAX - 1,
					     &first, NULL) &&
		  g_ascii_string_to_unsigned(g_strstrip(range[1] != NULL ? range[1] : range[0]),
					     10, first, UINT32_MAX - 1, &last, NULL);

	g_strfreev(range);
	if (!ok)
		return -EINVAL;
	if (last - first + 1 > MAX_CELLS - sweep->seeds->len)
		return -E2BIG;
	for (guint64 seed = first; seed <= last; seed++) {
		uint32_t value = (uint32_t)seed;

		g_array_append_val(sweep->seeds, value);
	}
	return 0;
}

static int fail_seeds(const sim_sweep *sweep, const pol_yaml_node *node, int ret,
		      const char *text, score_error *err)
{
	const char *form = "expected seeds from 0 to 4294967294 as a list, or ranges such as \"1-5,9\"";

	if (ret == -E2BIG)
		return fail_at(sweep, node, "seeds", err,
			       "\"%s\" makes more than %d seeds, the limit of cells in a sweep: split the sweep into several files",
			       text, MAX_CELLS);
	if (text != NULL)
		return fail_at(sweep, node, "seeds", err, "%s, got \"%s\"", form, text);
	return fail_at(sweep, node, "seeds", err, "%s, got %s", form, pol_yaml_describe(node));
}

static int read_seeds(sim_sweep *sweep, const pol_yaml_node *node,
		      score_error *err)
{
	if (node->kind == POL_YAML_SCALAR) {
		char **parts = g_strsplit(node->text, ",", -1);
		int ret = parts[0] != NULL ? 0 : -EINVAL;

		for (char **part = parts; ret == 0 && *part != NULL; part++)
			ret = add_seed_range(sweep, *part);
		g_strfreev(parts);
		return ret == 0 ? 0 : fail_seeds(sweep, node, ret, node->text, err);
	}
	if (node->kind != POL_YAML_SEQUENCE || node->items->len == 0)
		return fail_seeds(sweep, node, -EINVAL, NULL, err);
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = node->items->pdata[i];
		int ret = item->kind == POL_YAML_SCALAR ? add_seed_range(sweep, item->text) : -EINVAL;

		if (ret < 0)
			return fail_seeds(sweep, item, ret,
					  item->kind == POL_YAML_SCALAR ? item->text : NULL, err);
	}
	return 0;
}

static int read_clusters(sim_sweep *sweep, const pol_yaml_node *node,
			 const char *base, score_error *err)
{
	if (node->kind != POL_YAML_SEQUENCE || node->items->len == 0)
		return fail_at(sweep, node, "clusters", err,
			       "expected a non-empty list of templates or node counts, got %s",
			       pol_yaml_describe(node));
	for (guint i = 0; i < node->items->len; i++) {
		const pol_yaml_node *item = node->items->pdata[i];
		score_error template_err = {0};
		char *text;

		if (item->kind != POL_YAML_SCALAR)
			return fail_at(sweep, item, "clusters", err,
				       "expected a template such as 20x8/32Gi or a node count, got %s",
				       pol_yaml_describe(item));
		if (item->type == POL_SCALAR_INT) {
			text = item->int_overflow || item->int_value <= 0 ||
					       item->int_value > SIM_TEMPLATE_MAX_NODES ?
				       NULL :
				       sim_plan_scale_template(base, (uint32_t)item->int_value,
							       &template_err);
			if (text == NULL)
				return fail_at(sweep, item, "clusters", err,
					       "invalid node count %s: give 1 to %d nodes, scaling the template %s%s%s",
					       item->text, SIM_TEMPLATE_MAX_NODES, base,
					       template_err.code != 0 ? ": " : "",
					       template_err.message);
		} else {
			sim_template parsed;

			if (sim_template_parse(item->text, &parsed, &template_err) < 0)
				return fail_at(sweep, item, "clusters", err, "%s",
					       template_err.message);
			sim_template_release(&parsed);
			text = g_strdup(item->text);
		}
		g_ptr_array_add(sweep->clusters, text);
	}
	return 0;
}

static int check_fields(const sim_sweep *sweep, const pol_yaml_node *root,
			score_error *err)
{
	static const char *const known[] = {"name", "options", "policies", "workloads",
					    "seeds", "cluster", "clusters"};

	for (guint i = 0; i < root->items->len; i++) {
		const pol_yaml_pair *pair = root->items->pdata[i];
		bool found = false;

		for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
			found = found || strcmp(pair->key->text, known[k]) == 0;
		if (!found)
			return fail_at(sweep, pair->key, pair->key->text, err,
				       "unknown field: a sweep file has name, options, policies, workloads, seeds, cluster and clusters");
	}
	return 0;
}

static int read_root(sim_sweep *sweep, const pol_yaml_node *root, score_error *err)
{
	const pol_yaml_node *node;
	const char *base = SIM_DEFAULT_TEMPLATE;
	int ret;

	ret = check_fields(sweep, root, err);
	if (ret == 0 && (node = pol_yaml_get(root, "name")) != NULL) {
		if (node->kind != POL_YAML_SCALAR)
			return fail_at(sweep, node, "name", err, "expected a string, got %s",
				       pol_yaml_describe(node));
		g_free(sweep->name);
		sweep->name = g_strdup(node->text);
	}
	if (ret == 0 && (node = pol_yaml_get(root, "options")) != NULL)
		ret = read_options(sweep, node, "options", sweep->options, err);
	if (ret == 0 && (node = pol_yaml_get(root, "policies")) != NULL)
		ret = read_policies(sweep, node, err);
	if (ret == 0 && (node = pol_yaml_get(root, "workloads")) != NULL) {
		if (node->kind != POL_YAML_SEQUENCE || node->items->len == 0)
			return fail_at(sweep, node, "workloads", err,
				       "expected a non-empty list of workloads, got %s",
				       pol_yaml_describe(node));
		for (guint i = 0; ret == 0 && i < node->items->len; i++)
			ret = read_workload(sweep, node->items->pdata[i], err);
	}
	if (ret == 0 && (node = pol_yaml_get(root, "seeds")) != NULL)
		ret = read_seeds(sweep, node, err);
	if (ret == 0 && (node = pol_yaml_get(root, "cluster")) != NULL) {
		if (node->kind != POL_YAML_SCALAR)
			return fail_at(sweep, node, "cluster", err,
				       "expected a template such as 20x8/32Gi, got %s",
				       pol_yaml_describe(node));
		base = node->text;
	}
	if (ret == 0 && (node = pol_yaml_get(root, "clusters")) != NULL)
		ret = read_clusters(sweep, node, base, err);
	return ret;
}

/* Parses the run options of every cell of `load` as `stowage sim run`
 * would, so that a typo fails before any cell runs. The cells differ
 * from these options only in --policy, --seed and --cluster, which are
 * checked on their own. */
static int check_run_options(const sim_sweep *sweep, const pol_yaml_node *root,
			     const workload *load, score_error *err)
{
	GPtrArray *args = g_ptr_array_new();
	score_error run_err = {0};
	int ret;

	for (guint i = 0; i < sweep->options->len; i++)
		g_ptr_array_add(args, sweep->options->pdata[i]);
	for (guint i = 0; i < load->options->len; i++)
		g_ptr_array_add(args, load->options->pdata[i]);
	ret = sim_churn_check_args(args, &run_err);
	g_ptr_array_free(args, TRUE);
	if (ret < 0)
		return fail_at(sweep, load->node != NULL ? load->node : root,
			       load->options->len > 0 ? "workloads.options" : "options",
			       err, "invalid run options for workload %s: %s; `stowage sim run --help` lists the options",
			       load->name, run_err.message);
	return 0;
}

/* Fills in the one-value defaults of the dimensions the file left out
 * and checks the options. */
static int complete(sim_sweep *sweep, const pol_yaml_node *root, score_error *err)
{
	bool clusters = sweep->clusters->len > 0;
	int ret;

	if (sweep->policies->len == 0)
		g_ptr_array_add(sweep->policies, g_strdup("kube-default"));
	if (sweep->workloads->len == 0) {
		workload only = {
			.name = g_strdup("default"),
			.options = g_ptr_array_new_with_free_func(g_free),
		};

		g_array_append_val(sweep->workloads, only);
	}
	if (sweep->seeds->len == 0) {
		uint32_t seed = 42;

		g_array_append_val(sweep->seeds, seed);
	}
	ret = check_options(sweep, root, "options", sweep->options, clusters, err);
	for (guint i = 0; ret == 0 && i < sweep->workloads->len; i++) {
		const workload *load = &g_array_index(sweep->workloads, workload, i);

		ret = check_options(sweep, load->node != NULL ? load->node : root,
				    "workloads.options", load->options, clusters, err);
	}
	for (guint i = 0; ret == 0 && i < sweep->workloads->len; i++)
		ret = check_run_options(sweep, root, &g_array_index(sweep->workloads, workload, i),
					err);
	return ret;
}

static void append_all(GPtrArray *to, const GPtrArray *from)
{
	for (guint i = 0; i < from->len; i++)
		g_ptr_array_add(to, g_strdup(from->pdata[i]));
}

static int expand(sim_sweep *sweep, score_error *err)
{
	guint n_clusters = MAX(sweep->clusters->len, 1);
	uint64_t total = (uint64_t)sweep->policies->len * sweep->workloads->len *
			 sweep->seeds->len * n_clusters;

	if (total > MAX_CELLS)
		return score_fail(err, -EINVAL,
				  "%s: the sweep has %llu cells, more than %d: list fewer values",
				  sweep->path, (unsigned long long)total, MAX_CELLS);
	for (guint p = 0; p < sweep->policies->len; p++)
		for (guint w = 0; w < sweep->workloads->len; w++)
			for (guint s = 0; s < sweep->seeds->len; s++)
				for (guint c = 0; c < n_clusters; c++) {
					const workload *load = &g_array_index(sweep->workloads, workload, w);
					sim_sweep_cell cell = {
						.index = sweep->cells->len,
						.policy = sweep->policies->pdata[p],
						.workload = load->name,
						.seed = g_array_index(sweep->seeds, uint32_t, s),
						.cluster = sweep->clusters->len > 0 ?
								   sweep->clusters->pdata[c] : NULL,
						.args = g_ptr_array_new_with_free_func(g_free),
					};

					g_ptr_array_add(cell.args, g_strdup("--policy"));
					g_ptr_array_add(cell.args, g_strdup(cell.policy));
					g_ptr_array_add(cell.args, g_strdup("--seed"));
					g_ptr_array_add(cell.args, g_strdup_printf("%u", cell.seed));
					if (cell.cluster != NULL) {
						g_ptr_array_add(cell.args, g_strdup("--cluster"));
						g_ptr_array_add(cell.args, g_strdup(cell.cluster));
					}
					append_all(cell.args, sweep->options);
					append_all(cell.args, load->options);
					g_array_append_val(sweep->cells, cell);
				}
	return 0;
}

int sim_sweep_load(const char *path, sim_sweep **out, score_error *err)
{
	sim_sweep *sweep = g_new0(sim_sweep, 1);
	pol_yaml_node *root = NULL;
	pol_position where = {0};
	score_error yaml_err = {0};
	GError *error = NULL;
	char *text = NULL;
	gsize length = 0;
	int ret;

	*out = NULL;
	sweep->path = g_strdup(path);
	sweep->name = g_path_get_basename(path);
	sweep->options = g_ptr_array_new_with_free_func(g_free);
	sweep->policies = g_ptr_array_new_with_free_func(g_free);
	sweep->workloads = g_array_new(FALSE, TRUE, sizeof(workload));
	sweep->seeds = g_array_new(FALSE, TRUE, sizeof(uint32_t));
	sweep->clusters = g_ptr_array_new_with_free_func(g_free);
	sweep->cells = g_array_new(FALSE, TRUE, sizeof(sim_sweep_cell));

	if (!g_file_get_contents(path, &text, &length, &error)) {
		ret = score_fail(err, -ENOENT, "cannot read sweep file %s: %s", path,
				 error->message);
		g_error_free(error);
		goto out;
	}
	if (length > MAX_SWEEP_FILE) {
		ret = score_fail(err, -EFBIG, "sweep file %s is larger than %d bytes", path,
				 MAX_SWEEP_FILE);
		goto out;
	}
	ret = pol_yaml_parse(text, length, &root, &where, &yaml_err);
	if (ret < 0) {
		score_fail(err, ret, "%s:%zu:%zu: %s", path, where.line, where.column,
			   yaml_err.message);
		goto out;
	}
	if (root == NULL || root->kind != POL_YAML_MAPPING) {
		ret = score_fail(err, -EINVAL,
				 "%s: expected a mapping with policies, workloads, seeds or clusters",
				 path);
		goto out;
	}
	ret = read_root(sweep, root, err);
	if (ret == 0)
		ret = complete(sweep, root, err);
	if (ret == 0)
		ret = expand(sweep, err);
	if (ret == 0) {
		*out = sweep;
		sweep = NULL;
	}

out:
	pol_yaml_free(root);
	g_free(text);
	sim_sweep_free(sweep);
	return ret;
}

/* ---- Running cells ------------------------------------------------------- */

/* Builds the argv of `run` for a cell, NULL-terminated. */
static GPtrArray *cell_argv(const sim_sweep_cell *cell, const char *cell_dir)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (gpointer) "run");
	g_ptr_array_add(argv, (gpointer) "--out");
	g_ptr_array_add(argv, (gpointer)cell_dir);
	g_ptr_array_add(argv, (gpointer) "--quiet");
	for (guint i = 0; i < cell->args->len; i++)
		g_ptr_array_add(argv, cell->args->pdata[i]);
	g_ptr_array_add(argv, NULL);
	return argv;
}

static int run_in_this_process(const sim_sweep_cell *cell, const char *cell_dir)
{
	GPtrArray *argv = cell_argv(cell, cell_dir);
	int status = sim_churn_command((int)argv->len - 1, (char **)argv->pdata);

	g_ptr_array_free(argv, TRUE);
	fflush(stdout);
	fflush(stderr);
	return status;
}

static const char *status_name(int exit_status, bool interrupted)
{
	if (interrupted)
		return "interrupted";
	return exit_status == 0 ? "succeeded" : "failed";
}

/* Writes cell.json; a failure to write it is printed, because the
 * cell's own outputs are already there. */
static void write_cell_json(const sim_sweep *sweep, const sim_sweep_cell *cell,
			    const char *cell_dir, int exit_status, bool interrupted,
			    double seconds)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *args = cJSON_AddArrayToObject(root, "arguments");
	char *path = g_build_filename(cell_dir, "cell.json", NULL);
	char *text = NULL;
	GError *error = NULL;

	if (root == NULL || args == NULL)
		goto out;
	cJSON_AddStringToObject(root, "sweep", sweep->name);
	cJSON_AddNumberToObject(root, "index", cell->index);
	cJSON_AddStringToObject(root, "policy", cell->policy);
	cJSON_AddStringToObject(root, "workload", cell->workload);
	cJSON_AddNumberToObject(root, "seed", cell->seed);
	if (cell->cluster != NULL)
		cJSON_AddStringToObject(root, "cluster", cell->cluster);
	else
		cJSON_AddNullToObject(root, "cluster");
	for (guint i = 0; i < cell->args->len; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(cell->args->pdata[i]));
	cJSON_AddStringToObject(root, "status", status_name(exit_status, interrupted));
	cJSON_AddNumberToObject(root, "exit_status", exit_status);
	cJSON_AddNumberToObject(root, "seconds", round(seconds * 1000) / 1000);
	text = cJSON_Print(root);

out:
	if (text == NULL || !g_file_set_contents(path, text, -1, &error)) {
		fprintf(stderr, "stowage sim sweep: cannot write %s: %s\n", path,
			error != NULL ? error->message : "out of memory");
		g_clear_error(&error);
	}
	cJSON_free(text);
	cJSON_Delete(root);
	g_free(path);
}

static int make_cell_dir(const char *cell_dir)
{
	if (g_mkdir_with_parents(cell_dir, 0755) == 0)
		return 0;
	fprintf(stderr, "stowage sim sweep: cannot create %s: %s\n", cell_dir,
		g_strerror(errno));
	return -errno;
}

int sim_sweep_run_cell(const sim_sweep *sweep, const char *out_dir,
		       size_t index)
{
	const sim_sweep_cell *cell = sim_sweep_cell_at(sweep, index);
	char *cell_dir = sim_sweep_cell_dir(sweep, out_dir, index);
	gint64 start = g_get_monotonic_time();
	int status = 1;

	if (make_cell_dir(cell_dir) == 0) {
		status = run_in_this_process(cell, cell_dir);
		write_cell_json(sweep, cell, cell_dir, status, false,
				(double)(g_get_monotonic_time() - start) / 1e6);
	}
	g_free(cell_dir);
	return status;
}

/* Set by SIGINT and SIGTERM while a sweep runs. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signal_number)
{
	(void)signal_number;
	stop_requested = 1;
}

/* Installs the stop handler without SA_RESTART, so that waitpid()
 * returns EINTR; `old` keeps the previous handlers. */
static void catch_stop_signals(struct sigaction old[2])
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	stop_requested = 0;
	sigaction(SIGINT, &action, &old[0]);
	sigaction(SIGTERM, &action, &old[1]);
}

static void restore_signals(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* In the child: default signals, stdout and stderr to `log_path`. */
static void child_setup(const char *log_path)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

static void run_child(const sim_sweep_cell *cell, const char *cell_dir)
{
	char *log_path = g_build_filename(cell_dir, "run.log", NULL);

	child_setup(log_path);
	g_free(log_path);
	_exit(run_in_this_process(cell, cell_dir));
}

int sim_sweep_run_child(const GPtrArray *args, const char *log_path)
{
	int wait_status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		GPtrArray *argv = g_ptr_array_new();
		int status;

		child_setup(log_path);
		g_ptr_array_add(argv, (gpointer) "run");
		for (guint i = 0; i < args->len; i++)
			g_ptr_array_add(argv, args->pdata[i]);
		g_ptr_array_add(argv, NULL);
		status = sim_churn_command((int)argv->len - 1, (char **)argv->pdata);
		g_ptr_array_free(argv, TRUE);
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	while (waitpid(pid, &wait_status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

/* A cell running in a child process. */
typedef struct running_cell {
	pid_t pid;
	size_t index;
	gint64 start_us;
} running_cell;

/* The last line of a cell's run.log, for the progress line of a failed
 * cell; the caller frees it. */
static char *last_log_line(const char *cell_dir)
{
	char *path = g_build_filename(cell_dir, "run.log", NULL);
	char *text = NULL;
	char *line = NULL;

	if (g_file_get_contents(path, &text, NULL, NULL)) {
		char **lines = g_strsplit(g_strstrip(text), "\n", -1);
		guint n = g_strv_length(lines);

		line = n > 0 ? g_strdup(lines[n - 1]) : NULL;
		g_strfreev(lines);
	}
	g_free(text);
	g_free(path);
	return line;
}

static void print_cell_end(const sim_sweep *sweep, const char *out_dir,
			   const running_cell *run, int exit_status, bool interrupted,
			   size_t done, double seconds)
{
	const sim_sweep_cell *cell = sim_sweep_cell_at(sweep, run->index);
	char *cell_dir = sim_sweep_cell_dir(sweep, out_dir, run->index);

	fprintf(stderr,
		"stowage sim sweep: [%zu/%zu] cell %zu (policy %s, workload %s, seed %u%s%s): %s in %.1f s",
		done, sim_sweep_cell_count(sweep), run->index, cell->policy, cell->workload,
		cell->seed, cell->cluster != NULL ? ", cluster " : "",
		cell->cluster != NULL ? cell->cluster : "",
		status_name(exit_status, interrupted), seconds);
	if (exit_status != 0 && !interrupted) {
		char *line = last_log_line(cell_dir);

		fprintf(stderr, " with exit status %d; %s/run.log ends: %s", exit_status,
			cell_dir, line != NULL ? line : "(empty)");
		g_free(line);
	}
	fputc('\n', stderr);
	g_free(cell_dir);
}

static int start_cell(const sim_sweep *sweep, const char *out_dir, size_t index,
		      running_cell *run)
{
	char *cell_dir = sim_sweep_cell_dir(sweep, out_dir, index);
	pid_t pid;
	int ret = make_cell_dir(cell_dir);

	if (ret == 0) {
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0)
			run_child(sim_sweep_cell_at(sweep, index), cell_dir);
		if (pid < 0) {
			ret = -errno;
			fprintf(stderr, "stowage sim sweep: cannot start cell %zu: fork failed: %s\n",
				index, g_strerror(errno));
		}
		run->pid = pid;
		run->index = index;
		run->start_us = g_get_monotonic_time();
	}
	g_free(cell_dir);
	return ret;
}

/* Records a child that ended: its cell.json and progress line. Returns
 * true when the cell succeeded. */
static bool finish_cell(const sim_sweep *sweep, const char *out_dir,
			const running_cell *run, int wait_status, size_t done, bool quiet)
{
	char *cell_dir = sim_sweep_cell_dir(sweep, out_dir, run->index);
	int exit_status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) :
						   128 + WTERMSIG(wait_status);
	/* A run that catches the stop signal exits with 128 plus its number
	 * after writing its outputs. */
	bool interrupted = WIFSIGNALED(wait_status) ||
			   exit_status == 128 + SIGINT || exit_status == 128 + SIGTERM;
	double seconds = (double)(g_get_monotonic_time() - run->start_us) / 1e6;

	write_cell_json(sweep, sim_sweep_cell_at(sweep, run->index), cell_dir, exit_status,
			interrupted, seconds);
	if (!quiet)
		print_cell_end(sweep, out_dir, run, exit_status, interrupted, done, seconds);
	g_free(cell_dir);
	return exit_status == 0 && !interrupted;
}

/* Stops the running children and waits for them. */
static void stop_children(const sim_sweep *sweep, const char *out_dir,
			  GArray *running, size_t *done, bool quiet)
{
	for (guint i = 0; i < running->len; i++)
		kill(g_array_index(running, running_cell, i).pid, SIGTERM);
	for (guint i = 0; i < running->len; i++) {
		const running_cell *run = &g_array_index(running, running_cell, i);
		int wait_status = 0;

		while (waitpid(run->pid, &wait_status, 0) < 0 && errno == EINTR)
			continue;
		finish_cell(sweep, out_dir, run, wait_status, ++*done, quiet);
	}
	g_array_set_size(running, 0);
}

/* Waits for any child; returns its slot in `running`, or -1 when
 * interrupted by a stop signal. */
static int wait_any(GArray *running, int *wait_status)
{
	for (;;) {
		pid_t pid = waitpid(-1, wait_status, 0);

		if (pid < 0 && errno == EINTR && stop_requested)
			return -1;
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return -1;
		for (guint i = 0; i < running->len; i++) {
			if (g_array_index(running, running_cell, i).pid == pid)
				return (int)i;
		}
	}
}

int sim_sweep_run(const sim_sweep *sweep, const char *out_dir, unsigned jobs,
		  bool quiet)
{
	GArray *running = g_array_new(FALSE, TRUE, sizeof(running_cell));
	struct sigaction old[2];
	size_t next = 0;
	size_t done = 0;
	size_t failed = 0;
	size_t n = sim_sweep_cell_count(sweep);
	int status;

	catch_stop_signals(old);
	while (!stop_requested && (next < n || running->len > 0)) {
		running_cell run = {0};
		int wait_status = 0;
		int slot;

		if (next < n && running->len < MAX(jobs, 1)) {
			if (start_cell(sweep, out_dir, next, &run) < 0) {
				failed++;
				done++;
			} else {
				g_array_append_val(running, run);
			}
			next++;
			continue;
		}
		slot = wait_any(running, &wait_status);
		if (slot < 0)
			break;
		run = g_array_index(running, running_cell, slot);
		g_array_remove_index_fast(running, (guint)slot);
		if (!finish_cell(sweep, out_dir, &run, wait_status, ++done, quiet))
			failed++;
	}
	if (stop_requested) {
		fprintf(stderr, "stowage sim sweep: stopping: %u running cell%s interrupted, %zu not started\n",
			running->len, running->len == 1 ? "" : "s", n - next);
		stop_children(sweep, out_dir, running, &done, quiet);
		status = SIM_SWEEP_EXIT_INTERRUPTED;
	} else {
		status = failed > 0 ? 1 : 0;
	}
	restore_signals(old);
	if (!quiet && status != SIM_SWEEP_EXIT_INTERRUPTED)
		fprintf(stderr, "stowage sim sweep: %zu cell%s: %zu succeeded, %zu failed; outputs in %s\n",
			n, n == 1 ? "" : "s", n - failed, failed, out_dir);
	g_array_free(running, TRUE);
	return status;
}

/* ---- Command line -------------------------------------------------------- */

static void list_cells(const sim_sweep *sweep, FILE *out)
{
	fprintf(out, "index,policy,workload,seed,cluster\n");
	for (size_t i = 0; i < sim_sweep_cell_count(sweep); i++) {
		const sim_sweep_cell *cell = sim_sweep_cell_at(sweep, i);

		fprintf(out, "%u,%s,%s,%u,%s\n", cell->index, cell->policy, cell->workload,
			cell->seed, cell->cluster != NULL ? cell->cluster : "");
	}
}

/* The cell of --cell, else of $JOB_COMPLETION_INDEX; -1 for all cells. */
static int chosen_cell(const char *option, const sim_sweep *sweep, long long *index,
		       score_error *err)
{
	const char *text = option != NULL ? option : g_getenv("JOB_COMPLETION_INDEX");
	const char *source = option != NULL ? "--cell" : "JOB_COMPLETION_INDEX";
	guint64 value = 0;
	size_t n = sim_sweep_cell_count(sweep);

	*index = -1;
	if (text == NULL)
		return 0;
	if (!g_ascii_string_to_unsigned(text, 10, 0, n - 1, &value, NULL))
		return score_fail(err, -EINVAL,
				  "invalid %s \"%s\": the sweep has cells 0 to %zu (`stowage sim sweep FILE --list` lists them)",
				  source, text, n - 1);
	*index = (long long)value;
	return 0;
}

typedef struct sweep_options {
	char *out;
	char *jobs;
	char *cell;
	gboolean list;
	gboolean quiet;
} sweep_options;

static int parse_sweep_arguments(int argc, char **argv, sweep_options *options,
				 char **file)
{
	GOptionEntry entries[] = {
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &options->out,
		 "Output directory, one subdirectory per cell (required unless --list)", "DIR"},
		{"jobs", 'j', 0, G_OPTION_ARG_STRING, &options->jobs,
		 "Cells to run at once (default: the number of processors)", "N"},
		{"cell", 0, 0, G_OPTION_ARG_STRING, &options->cell,
		 "Run only this cell, in this process (default $JOB_COMPLETION_INDEX when set)", "INDEX"},
		{"list", 0, 0, G_OPTION_ARG_NONE, &options->list,
		 "Print the cells as CSV and run nothing", NULL},
		{"quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet,
		 "Print no progress lines", NULL},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *context = g_option_context_new("FILE - run the cells of a sweep file");
	char **args = g_new0(char *, argc + 1);
	int n_args = argc;
	GError *error = NULL;
	int ret = 0;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_set_description(context,
		"Each cell is one `stowage sim run` in DIR/cell-NNNN; docs/simulator.md\n"
		"describes the sweep file. `stowage sim merge DIR --out REPORT` compares them.");
	memcpy(args, argv, sizeof(*args) * (size_t)argc);
	if (!g_option_context_parse(context, &n_args, &args, &error)) {
		fprintf(stderr, "stowage sim sweep: %s\n", error->message);
		g_error_free(error);
		ret = -EINVAL;
	} else if (n_args != 2) {
		fprintf(stderr, "stowage sim sweep: give one sweep file, e.g. stowage sim sweep sweep.yaml --out results\n");
		ret = -EINVAL;
	} else {
		*file = g_strdup(args[1]);
	}
	g_free(args);
	g_option_context_free(context);
	return ret;
}

static int sweep_jobs(const char *text, unsigned *jobs, score_error *err)
{
	guint64 value = 0;

	*jobs = g_get_num_processors();
	if (text == NULL)
		return 0;
	if (!g_ascii_string_to_unsigned(text, 10, 1, 4096, &value, NULL))
		return score_fail(err, -EINVAL,
				  "invalid --jobs \"%s\": give a number of cells from 1 to 4096",
				  text);
	*jobs = (unsigned)value;
	return 0;
}

int sim_sweep_command(int argc, char **argv)
{
	sweep_options options = {0};
	sim_sweep *sweep = NULL;
	score_error err = {0};
	char *file = NULL;
	long long cell = -1;
	unsigned jobs = 1;
	int status = EXIT_USAGE;

	if (parse_sweep_arguments(argc, argv, &options, &file) < 0)
		goto out;
	if (sim_sweep_load(file, &sweep, &err) < 0 ||
	    sweep_jobs(options.jobs, &jobs, &err) < 0 ||
	    chosen_cell(options.cell, sweep, &cell, &err) < 0) {
		fprintf(stderr, "stowage sim sweep: %s\n", err.message);
		goto out;
	}
	if (options.list) {
		list_cells(sweep, stdout);
		status = 0;
		goto out;
	}
	if (options.out == NULL) {
		fprintf(stderr, "stowage sim sweep: missing --out: give the output directory\n");
		goto out;
	}
	if (cell >= 0) {
		if (!options.quiet)
			fprintf(stderr, "stowage sim sweep: running cell %lld of %zu into %s\n", cell,
				sim_sweep_cell_count(sweep), options.out);
		status = sim_sweep_run_cell(sweep, options.out, (size_t)cell);
	} else {
		if (!options.quiet)
			fprintf(stderr, "stowage sim sweep: %zu cells, %u at a time, into %s\n",
				sim_sweep_cell_count(sweep), jobs, options.out);
		status = sim_sweep_run(sweep, options.out, jobs, options.quiet);
	}

out:
	sim_sweep_free(sweep);
	g_free(file);
	g_free(options.out);
	g_free(options.jobs);
	g_free(options.cell);
	return status;
}
