/* Progress of a long churn run on stderr.
 *
 * On a terminal, once a run has taken a second of wall time, one line is
 * redrawn at most ten times a second:
 *
 *   [########............]  41.7%  sim 10:00:00 of 1d 00:00:00  pods 1,802  95,310 pods/s
 *
 * The bar and percentage are left out when the share done is unknown, and
 * "of ..." when the end time is. Off a terminal (a Job's log, CI, a sweep
 * cell's run.log) a plain line is printed every 10 s instead, so a run
 * shorter than that prints none:
 *
 *   stowage sim: progress: 41.7% done, simulated 10:00:00 of 1d 00:00:00, 1,802 pods, 95,310 pods/s
 *
 * Every run ends with one line, terminal or not:
 *
 *   stowage sim: simulated 1d 00:00:00 in 0.41 s: 4,310 pods, 10,512 pods/s
 */
#ifndef STOWAGE_SIM_PROGRESS_H
#define STOWAGE_SIM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sim_progress {
	FILE *out;       /* borrowed */
	bool terminal;   /* draw the bar */
	bool enabled;    /* false: print nothing at all */
	int64_t end_ms;  /* simulated end, -1 when unknown */
	int64_t start_us;     /* wall clock, g_get_monotonic_time() */
	int64_t last_draw_us;
	/* Wall time between plain lines off a terminal; init sets 10 s. */
	int64_t plain_interval_us;
	bool drawn;      /* a bar is on the terminal line */
} sim_progress;

/* Starts timing. `terminal` is true when `out` is a terminal, as isatty()
 * reports it; `enabled` false silences everything. */
void sim_progress_init(sim_progress *progress, FILE *out, bool terminal,
		       bool enabled, int64_t end_ms);

/* Redraws the bar, or prints a plain line off a terminal, when due.
 * `fraction` is the share done, 0 to 1, or negative when unknown. */
void sim_progress_update(sim_progress *progress, int64_t now_ms,
			 uint64_t pods, double fraction);

/* Clears the bar and prints the final line. */
void sim_progress_finish(sim_progress *progress, int64_t now_ms, uint64_t pods);

/* Formats the bar line for the given values (no line break); returns
 * `buf`. `elapsed_s` is the wall time, for the rate. */
const char *sim_progress_format(char *buf, size_t size, int64_t now_ms,
				int64_t end_ms, uint64_t pods, double fraction,
				double elapsed_s);

/* Formats the plain progress line (no line break); returns `buf`. */
const char *sim_progress_format_plain(char *buf, size_t size, int64_t now_ms,
				      int64_t end_ms, uint64_t pods, double fraction,
				      double elapsed_s);

/* Formats the final line (no line break); returns `buf`. */
const char *sim_progress_format_final(char *buf, size_t size, int64_t now_ms,
				      uint64_t pods, double elapsed_s);

/* Formats simulated milliseconds as "H:MM:SS", or "Dd HH:MM:SS" from one
 * day on; returns `buf`. */
const char *sim_format_clock(int64_t ms, char *buf, size_t size);

/* Formats a count with thousands separators, "1,234,567"; returns `buf`. */
const char *sim_format_count(uint64_t value, char *buf, size_t size);

/* Formats a count and the noun that goes with it: "1 pod", "0 pods",
 * "1,234 pods". Returns `buf`. */
const char *sim_format_count_noun(uint64_t value, const char *singular,
				  const char *plural, char *buf, size_t size);

#endif
