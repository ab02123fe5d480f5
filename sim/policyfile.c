/* Policy files in churn runs; see policyfile.h. */
#include "sim/policyfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Prints the parser's messages as they are, FILE:LINE:COLUMN first, so
 * that editors can jump to them. */
static void print_messages(const GPtrArray *messages)
{
	for (guint i = 0; i < messages->len; i++)
		fprintf(stderr, "%s\n", (const char *)messages->pdata[i]);
}

int sim_policy_file_load(const char *path, score_resource_table *resources,
			 pol_policy **out, score_error *err)
{
	pol_diagnostics diagnostics;
	score_error parse_error = {0};
	int ret;

	pol_diagnostics_init(&diagnostics);
	ret = pol_policy_load(path, resources, out, &diagnostics, &parse_error);
	print_messages(diagnostics.warnings);
	if (ret == -EINVAL && diagnostics.errors->len > 0) {
		print_messages(diagnostics.errors);
		ret = score_fail(err, -EINVAL,
				 "invalid policy file %s: fix the errors above; `stowage check %s` checks the file alone",
				 path, path);
	} else if (ret < 0) {
		if (err != NULL)
			*err = parse_error;
	}
	pol_diagnostics_release(&diagnostics);
	return ret;
}

int sim_policy_file_check(const char *path, score_error *err)
{
	score_resource_table *resources = score_resource_table_new();
	pol_policy *policy = NULL;
	int ret = sim_policy_file_load(path, resources, &policy, err);

	pol_policy_unref(policy);
	score_resource_table_free(resources);
	return ret;
}

static bool has_hard_locality(const score_locality_config *locality)
{
	if (locality->network_policies && locality->network_policy_hard)
		return true;
	for (uint32_t i = 0; i < locality->n_groups; i++) {
		if (locality->groups[i].hard)
			return true;
	}
	return false;
}

int sim_policy_run_init(sim_policy_run *run, const sim_policy *policy,
			sim_engine_config *engine_config, score_error *err)
{
	int ret;

	run->resources = score_resource_table_new();
	engine_config->resources = run->resources;
	if (policy->kind != SIM_POLICY_FILE)
		return 0;
	ret = sim_policy_file_load(policy->path, run->resources, &run->policy, err);
	if (ret < 0)
		return ret;
	engine_config->placement.pipeline = pol_policy_pipeline(run->policy);
	engine_config->placement.nonlocal_filters =
		has_hard_locality(pol_policy_locality_config(run->policy));
	return 0;
}

void sim_policy_run_attach(sim_policy_run *run, sim_engine *engine,
			   bool synthetic, sim_metrics *metrics,
			   const sim_source *inner, sim_source *out)
{
	const score_isolation_config *isolation =
		run->policy != NULL ? pol_policy_isolation(run->policy) : NULL;

	run->tenancy = sim_tenancy_new(isolation, sim_engine_model(engine), synthetic);
	sim_metrics_track_tenants(metrics, run->tenancy);
	if (run->policy != NULL)
		sim_metrics_track_peer_cost(metrics, pol_policy_locality_config(run->policy),
					    sim_engine_model(engine));
	sim_tenancy_source(run->tenancy, inner, out);
}

char *sim_policy_run_unused_locality(const sim_policy_run *run,
				     const sim_summary *summary,
				     const score_model *model)
{
	const score_locality_config *locality;
	GString *sources;
	char *warning;

	if (run->policy == NULL || !summary->peer_cost || summary->pods_with_peers > 0 ||
	    summary->started == 0)
		return NULL;
	locality = pol_policy_locality_config(run->policy);
	if (locality == NULL ||
	    (locality->n_groups == 0 && !locality->network_policies && locality->n_exposures == 0))
		return NULL;

	sources = g_string_new(NULL);
	if (locality->n_groups > 0)
		g_string_append_printf(sources, "%u locality group%s", locality->n_groups,
				       locality->n_groups == 1 ? "" : "s");
	if (locality->n_exposures > 0)
		g_string_append_printf(sources, "%s%u exposure%s", sources->len > 0 ? ", " : "",
				       locality->n_exposures, locality->n_exposures == 1 ? "" : "s");
	if (locality->network_policies)
		g_string_append_printf(sources, "%snetworkPolicies with %zu NetworkPolicies in the inputs",
				       sources->len > 0 ? ", " : "",
				       score_model_network_policy_count(model));
	warning = g_strdup_printf(
		"the policy's locality rules (%s) gave no pod a placed peer, so locality changed no score in this run: "
		"check that the group selectors match the pods' namespaces and labels, and put NetworkPolicies, "
		"Services and Namespaces in the --pods or --nodes file",
		sources->str);
	g_string_free(sources, TRUE);
	return warning;
}

void sim_policy_run_release(sim_policy_run *run)
{
	sim_tenancy_free(run->tenancy);
	pol_policy_unref(run->policy);
	if (run->resources != NULL)
		score_resource_table_free(run->resources);
	memset(run, 0, sizeof(*run));
}
