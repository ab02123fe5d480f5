/* `stowage sim plan` (also `stowage sim run --min-nodes`): the smallest
 * cluster that meets a service-level objective under a workload.
 *
 * The plan runs the same `stowage sim run` options at different cluster
 * sizes (probes) and keeps the seed, so every probe replays the same
 * workload. A cluster size scales the template's counts in proportion
 * (sim_plan_scale_template()); a single-shape template just changes its
 * count. The objectives:
 *
 *   --slo-pending-p99 DURATION   p99 pending time of all pods, counting
 *                                pods that never started as waiting until
 *                                the end (summary.json
 *                                pending_seconds.all_pods.p99), at most
 *                                DURATION;
 *   --slo-unschedulable N        at most N pods never started
 *                                (pods.never_started). Default 0 when
 *                                --slo-pending-p99 is not given.
 *
 * Search: the template's own size is probed first. When it meets the
 * objectives, sizes below it are bisected down to 1 node; when it does
 * not, the size doubles until one meets them or --max-nodes is passed,
 * and the gap is then bisected. Bisection assumes that more nodes never
 * make the objectives worse. Placement does not guarantee that, so every
 * probe is reported and the answer is the smallest size that met them
 * with the next smaller probe failing.
 *
 * Outputs in --out DIR: probe-NNNNNN-nodes/ with each probe's run, and
 * plan.json and plan.html with the probes, the objective values against
 * node count and the answer.
 */
#ifndef STOWAGE_SIM_PLAN_H
#define STOWAGE_SIM_PLAN_H

#include <stdint.h>

#include "scoring/error.h"

/* Scales a cluster template to `nodes` nodes: each entry gets its share
 * of `nodes` in proportion to its count, rounded by the largest
 * remainder (ties go to the earlier entry), and entries that get 0 nodes
 * are left out. Returns the new template text, which the caller frees
 * with g_free(), or NULL with `err` set for an invalid template or a
 * count of 0 or above SIM_TEMPLATE_MAX_NODES. */
char *sim_plan_scale_template(const char *template_text, uint32_t nodes,
			      score_error *err);

/* Runs `stowage sim plan`; argv[0] is "plan". Returns the exit status: 0
 * when a size meets the objectives, 1 when none up to --max-nodes does
 * or a probe failed, 2 for a usage error. */
int sim_plan_command(int argc, char **argv);

#endif
