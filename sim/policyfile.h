/* Policy files in churn runs: `stowage sim run --policy FILE` places pods
 * through the pipeline that pol_policy_pipeline() builds from a
 * SchedulingPolicy (or a ConfigMap holding one), the code `stowage serve
 * --policy FILE` runs, and measures tenant co-residency (sim/tenancy.h)
 * with the policy's tenant rules.
 *
 * A run with a built-in policy measures co-residency too, with the default
 * tenant rules of scoring/isolation.h and no trust between tenants, so
 * that a sweep can compare it with policy files.
 *
 * Ownership: a sim_policy_run is embedded in the run's state; it owns the
 * resource table, the policy reference and the tracker until
 * sim_policy_run_release(). The engine and the placement borrow them.
 */
#ifndef STOWAGE_SIM_POLICYFILE_H
#define STOWAGE_SIM_POLICYFILE_H

#include <stdbool.h>

#include "policies/policy.h"
#include "scoring/error.h"
#include "scoring/model.h"
#include "sim/engine.h"
#include "sim/metrics.h"
#include "sim/tenancy.h"

/* Parses the policy file at `path` into `resources` (borrowed: it must
 * outlive the policy). Prints every error and warning of the parser on
 * stderr, one per line as "FILE:LINE:COLUMN: PATH: message". On an
 * invalid file returns -EINVAL with `err` naming the file; an unreadable
 * file fails as pol_policy_load() does, with its message in `err`.
 * `*out` gets one reference on success. */
int sim_policy_file_load(const char *path, score_resource_table *resources,
			 pol_policy **out, score_error *err);

/* Checks the policy file at `path` without keeping it, printing what
 * sim_policy_file_load() prints: the early check of the command line. */
int sim_policy_file_check(const char *path, score_error *err);

/* What a run keeps for its policy. Zero it before sim_policy_run_init(). */
typedef struct sim_policy_run {
	score_resource_table *resources; /* owned */
	pol_policy *policy;   /* one reference; NULL for built-in policies */
	sim_tenancy *tenancy; /* owned; NULL until attached */
} sim_policy_run;

/* Creates the run's resource table and, for SIM_POLICY_FILE, loads the
 * policy into it. Sets `engine_config->resources` and, for a policy file,
 * `engine_config->placement.pipeline`. Call it before sim_engine_new(). */
int sim_policy_run_init(sim_policy_run *run, const sim_policy *policy,
			sim_engine_config *engine_config, score_error *err);

/* Starts the co-residency tracker over the engine's model, hands it to
 * `metrics`, and fills `out` with a source that reads `inner` and labels
 * synthetic pods with their tenants. `synthetic` is true when `inner` is
 * the generator. `inner` is borrowed until the run ends. */
void sim_policy_run_attach(sim_policy_run *run, sim_engine *engine,
			   bool synthetic, sim_metrics *metrics,
			   const sim_source *inner, sim_source *out);

/* Returns a warning when the policy has locality rules (groups,
 * NetworkPolicy peers or exposures) but no pod of the run had a placed
 * peer, so that locality could not affect any score; NULL otherwise.
 * `summary` is the finished run's and `model` the engine's. The caller
 * frees the text with g_free(). */
char *sim_policy_run_unused_locality(const sim_policy_run *run,
				     const sim_summary *summary,
				     const score_model *model);

void sim_policy_run_release(sim_policy_run *run);

#endif
