/* `stowage sim merge DIR --out REPORT_DIR`: one comparison report over the
 * cells of a sweep (sim/sweep.h).
 *
 * It reads DIR/cell-NNNN/cell.json and, for cells that succeeded, their
 * summary.json. Cells with the same workload and cluster form a
 * scenario; within a scenario each policy's cells differ only by seed.
 * For each scenario, policy and metric it gives the mean, the sample
 * standard deviation, the minimum and the maximum over the seeds. The
 * metrics: pods that never started (count and share), p99 pending time
 * of all pods and of started pods, mean nodes used, mean CPU allocation,
 * mean GPU fragmentation (GPU clusters only), untrusted tenant pairs
 * sharing a node, the share of pods placed next to an untrusted tenant,
 * and the mean and p99 network cost to peers (policy files with a
 * topology only).
 *
 * Outputs in REPORT_DIR: cells.csv (one row per cell, failed cells
 * included with empty metrics), comparison.csv (one row per scenario and
 * policy) and report.html (the comparison table and one bar chart per
 * metric, with whiskers from the minimum to the maximum over seeds).
 */
#ifndef STOWAGE_SIM_MERGE_H
#define STOWAGE_SIM_MERGE_H

#include "scoring/error.h"

/* Merges the cells in `sweep_dir` into `out_dir`, created when missing.
 * Fails when the directory has no cell with a cell.json, or on a file it
 * cannot read or write. A malformed summary.json fails with its path.
 * Failed cells are counted, not fatal. */
int sim_merge_run(const char *sweep_dir, const char *out_dir, score_error *err);

/* Runs `stowage sim merge`; argv[0] is "merge". Returns the exit status:
 * 0, 1 when merging failed, 2 for a usage error. */
int sim_merge_command(int argc, char **argv);

#endif
