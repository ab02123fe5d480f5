/* `stowage sim`: the trace-driven simulator's command line.
 *
 *   stowage sim [run] [--out DIR] [--cluster TEMPLATE] [--pods FILE] ...
 *   stowage sim inflate --nodes FILE --pods FILE [--policy FGD] [--seed 42]
 *   stowage sim fgd-repro --traces DIR --out DIR [--reference FILE]
 *
 * `run`, also what `stowage sim` alone or followed by options does, runs
 * one churn simulation and writes its report (sim/churn.h). `inflate` runs
 * one inflation experiment (sim/inflate.h) and prints its summary as JSON;
 * `fgd-repro` runs the whole experiment of the FGD paper (Weng et al.,
 * USENIX ATC 2023; sim/repro.h). docs/simulator.md describes the options.
 */
#ifndef STOWAGE_SIM_SIM_H
#define STOWAGE_SIM_SIM_H

/* Runs `stowage sim`: argv[0] is the command's name ("sim") and argv[1]
 * the subcommand. Returns the process exit status: 0 on success, 1 when
 * the run failed, 2 for a usage error. Messages go to stderr, results to
 * stdout and the output directory. */
int sim_main(int argc, char **argv);

#endif
