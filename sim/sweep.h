/* `stowage sim sweep FILE --out DIR`: churn runs over the cartesian
 * product of policies x workloads x seeds x clusters listed in a YAML
 * sweep file, each run (a cell) in its own directory DIR/cell-NNNN.
 *
 * The sweep file (docs/simulator.md has an example):
 *
 *   name: STRING                  title of the merged report; optional
 *   options: OPTIONS              `stowage sim run` options for every cell
 *   policies: [NAME_OR_FILE, ...] default [kube-default]
 *   workloads:                    default one workload named "default"
 *   - name: NAME
 *     options: OPTIONS            run options of this workload
 *   seeds: [N, ...] or "1-5,9"    default [42]
 *   cluster: TEMPLATE             template scaled by node counts in
 *                                 `clusters`; default the run's default
 *   clusters: [TEMPLATE_OR_COUNT, ...]   default: the run's --cluster
 *
 * OPTIONS is a sequence of strings or one string split as a shell would.
 * The sweep sets --out, --policy and --seed, and --cluster when
 * `clusters` is given, so the options must not. A count in `clusters`
 * scales `cluster` to that many nodes (sim_plan_scale_template()).
 *
 * Cells are numbered from 0 in a fixed order: policy, then workload, then
 * seed, then cluster, the last varying fastest, so index =
 * ((p * W + w) * S + s) * C + c. The same file always gives the same
 * numbering, which lets a Kubernetes Indexed Job run cell
 * $JOB_COMPLETION_INDEX in each pod.
 *
 * Each cell runs `stowage sim run` in a child process (fork, no exec), with
 * its stdout and stderr in DIR/cell-NNNN/run.log. The parent writes
 * DIR/cell-NNNN/cell.json with the cell's coordinates, arguments, exit
 * status and run time once the child ends. A failed cell is reported and
 * the others go on. SIGINT or SIGTERM stops the sweep: the parent sends
 * SIGTERM to the running children, waits for them and marks them
 * interrupted.
 *
 * Threads: none. The child processes are forked from a process that must
 * not have other threads, which holds for the stowage binary's sim
 * commands.
 */
#ifndef STOWAGE_SIM_SWEEP_H
#define STOWAGE_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"

/* Exit status of a sweep stopped by a signal, as shells report SIGINT. */
#define SIM_SWEEP_EXIT_INTERRUPTED 130

typedef struct sim_sweep_cell {
	uint32_t index;
	const char *policy;   /* borrowed from the sweep */
	const char *workload; /* borrowed from the sweep */
	uint32_t seed;
	const char *cluster;  /* template; NULL when the sweep sets none */
	GPtrArray *args; /* char *, owned: run options without --out */
} sim_sweep_cell;

typedef struct sim_sweep sim_sweep;

/* Reads and expands a sweep file. Errors name FILE:LINE:COLUMN and the
 * field. Policy files are checked here, their errors printed on stderr.
 * The caller frees the sweep with sim_sweep_free(). */
int sim_sweep_load(const char *path, sim_sweep **out, score_error *err);
void sim_sweep_free(sim_sweep *sweep);

const char *sim_sweep_name(const sim_sweep *sweep);
size_t sim_sweep_cell_count(const sim_sweep *sweep);
/* Borrowed; `index` below sim_sweep_cell_count(). */
const sim_sweep_cell *sim_sweep_cell_at(const sim_sweep *sweep, size_t index);

/* Returns DIR/cell-NNNN, with at least 4 digits and as many as the
 * largest index needs. The caller frees it with g_free(). */
char *sim_sweep_cell_dir(const sim_sweep *sweep, const char *out_dir,
			 size_t index);

/* Runs cell `index` in this process, writing its directory and cell.json.
 * Returns the run's exit status: 0, 1 when it failed, 2 for options that
 * `run` rejects. */
int sim_sweep_run_cell(const sim_sweep *sweep, const char *out_dir,
		       size_t index);

/* Runs every cell, at most `jobs` at a time in child processes, printing
 * a line on stderr as each ends unless `quiet`. Returns 0 when every cell
 * succeeded, 1 when one failed, SIM_SWEEP_EXIT_INTERRUPTED when stopped
 * by SIGINT or SIGTERM. */
int sim_sweep_run(const sim_sweep *sweep, const char *out_dir, unsigned jobs,
		  bool quiet);

/* Runs `stowage sim run` with `args` (char *, the options without "run")
 * in a child process with its stdout and stderr in `log_path`, and waits
 * for it. Returns the exit status, 128 + the signal number when a signal
 * ended it, or a negative errno when fork() failed. */
int sim_sweep_run_child(const GPtrArray *args, const char *log_path);

/* Runs `stowage sim sweep`; argv[0] is "sweep". Returns the exit status:
 * 0, 1 when a cell failed, 2 for a usage error or an invalid sweep file,
 * 130 when interrupted. */
int sim_sweep_command(int argc, char **argv);

#endif
