/* `stowage check FILE...`: validates policy files (a SchedulingPolicy, or a
 * ConfigMap holding one under data."policy.yaml") and reports each error
 * as FILE:LINE:COLUMN: PATH: message. */
#ifndef STOWAGE_POL_CHECK_H
#define STOWAGE_POL_CHECK_H

#include <stddef.h>
#include <stdio.h>

/* Checks each of `paths`: a valid file gets one summary line on `out`,
 * its warnings go to `errors`, and an invalid file gets each error on
 * `errors`. Returns 0 when every file is valid, else 1. */
int pol_check_files(const char *const *paths, size_t n, FILE *out,
		    FILE *errors);

/* The command: argv[0] is "check", the files follow. Returns the process
 * exit status: 0 when every file is valid, 1 when one is not, 2 for a
 * usage error. */
int pol_check_main(int argc, char **argv);

#endif
