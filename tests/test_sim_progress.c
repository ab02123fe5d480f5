/* Tests for sim/progress.c: the bar line, the final line, the number
 * formats, and that nothing but the final line reaches a non-terminal. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "sim/progress.h"

Test(progress, bar_line_format)
{
	char line[256];

	sim_progress_format(line, sizeof(line), 36000 * 1000LL, 86400 * 1000LL, 1802, 0.4166,
			    2.0);
	cr_assert_str_eq(line,
			 "[########............]  41.7%  sim 10:00:00 of 1d 00:00:00  pods 1,802  901 pods/s");
}

Test(progress, unknown_share_and_end)
{
	char line[256];

	sim_progress_format(line, sizeof(line), 90061 * 1000LL, -1, 1234567, -1, 0.5);
	cr_assert_str_eq(line, "sim 1d 01:01:01  pods 1,234,567  2,469,134 pods/s");
}

Test(progress, final_line_format)
{
	char line[256];

	sim_progress_format_final(line, sizeof(line), 86400 * 1000LL, 4310, 0.5);
	cr_assert_str_eq(line, "stowage sim: simulated 1d 00:00:00 in 0.50 s: 4,310 pods, 8,620 pods/s");
}

Test(progress, counts_and_clock)
{
	char buf[32];

	cr_assert_str_eq(sim_format_count(0, buf, sizeof(buf)), "0");
	cr_assert_str_eq(sim_format_count(999, buf, sizeof(buf)), "999");
	cr_assert_str_eq(sim_format_count(1000, buf, sizeof(buf)), "1,000");
	cr_assert_str_eq(sim_format_count(12345678, buf, sizeof(buf)), "12,345,678");
	cr_assert_str_eq(sim_format_clock(59999, buf, sizeof(buf)), "0:00:59");
	cr_assert_str_eq(sim_format_clock(3 * 86400000LL + 3600000, buf, sizeof(buf)),
			 "3d 01:00:00");
}

/* Reads what was written to `file` from the start. */
static char *contents(FILE *file)
{
	long size;
	char *text;

	fflush(file);
	size = ftell(file);
	text = g_malloc0((gsize)size + 1);
	rewind(file);
	cr_assert_eq(fread(text, 1, (size_t)size, file), (size_t)size);
	return text;
}

Test(progress, not_a_terminal_prints_only_the_final_line)
{
	FILE *out = tmpfile();
	sim_progress progress;
	char *text;

	cr_assert_not_null(out);
	sim_progress_init(&progress, out, false, true, 1000);
	/* Pretend the run has taken two seconds, so a terminal would draw. */
	progress.start_us -= 2000000;
	sim_progress_update(&progress, 500, 10, 0.5);
	sim_progress_finish(&progress, 1000, 20);
	text = contents(out);
	cr_assert(g_str_has_prefix(text, "stowage sim: simulated 0:00:01 in "),
		  "only the final line: %s", text);
	cr_assert_null(strchr(text, '\r'), "no bar redraws: %s", text);
	cr_assert_eq(strchr(text, '\n'), text + strlen(text) - 1, "one line: %s", text);
	g_free(text);
	fclose(out);
}

Test(progress, terminal_draws_bar_after_a_second)
{
	FILE *out = tmpfile();
	sim_progress progress;
	char *text;

	cr_assert_not_null(out);
	sim_progress_init(&progress, out, true, true, 1000);
	sim_progress_update(&progress, 100, 1, 0.1);
	text = contents(out);
	cr_assert_str_eq(text, "", "nothing in the first second");
	g_free(text);

	progress.start_us -= 2000000;
	sim_progress_update(&progress, 500, 10, 0.5);
	sim_progress_finish(&progress, 1000, 20);
	text = contents(out);
	cr_assert(g_str_has_prefix(text, "\r[##########..........]  50.0%  sim 0:00:00 of 0:00:01"),
		  "bar drawn: %s", text);
	cr_assert(strstr(text, "\r\033[Kstowage sim: simulated") != NULL,
		  "bar cleared before the final line: %s", text);
	g_free(text);
	fclose(out);
}

Test(progress, quiet_prints_nothing)
{
	FILE *out = tmpfile();
	sim_progress progress;
	char *text;

	sim_progress_init(&progress, out, true, false, 1000);
	progress.start_us -= 2000000;
	sim_progress_update(&progress, 500, 10, 0.5);
	sim_progress_finish(&progress, 1000, 20);
	text = contents(out);
	cr_assert_str_eq(text, "");
	g_free(text);
	fclose(out);
}

Test(progress, plain_line_format, .timeout = 60)
{
	char line[256];

	sim_progress_format_plain(line, sizeof(line), 36000 * 1000LL, 86400 * 1000LL, 1802,
				  0.4166, 2.0);
	cr_assert_str_eq(line,
			 "stowage sim: progress: 41.7% done, simulated 10:00:00 of 1d 00:00:00, 1,802 pods, 901 pods/s");
	sim_progress_format_plain(line, sizeof(line), 60 * 1000LL, -1, 1, -1, 0);
	cr_assert_str_eq(line, "stowage sim: progress: simulated 0:01:00, 1 pod, 0 pods/s");
}

Test(progress, not_a_terminal_prints_plain_lines_when_due, .timeout = 60)
{
	FILE *out = tmpfile();
	sim_progress progress;
	char *text;

	cr_assert_not_null(out);
	sim_progress_init(&progress, out, false, true, 1000);
	cr_assert_eq(progress.plain_interval_us, 10000000,
		     "expected plain lines every 10 s, got every %lld us",
		     (long long)progress.plain_interval_us);
	/* The interval has passed since the start. */
	progress.start_us -= progress.plain_interval_us;
	sim_progress_update(&progress, 500, 10, 0.5);
	/* Not due again right after. */
	sim_progress_update(&progress, 600, 12, 0.6);
	sim_progress_finish(&progress, 1000, 20);
	text = contents(out);
	cr_assert(g_str_has_prefix(text, "stowage sim: progress: 50.0% done, simulated 0:00:00 of 0:00:01, 10 pods, "),
		  "expected one plain line first, got: %s", text);
	cr_assert_null(strstr(text, "60.0% done"), "expected no second plain line, got: %s", text);
	cr_assert(strstr(text, "\nstowage sim: simulated 0:00:01 in ") != NULL,
		  "expected the final line after it, got: %s", text);
	cr_assert_null(strchr(text, '\r'), "expected no bar redraws: %s", text);
	g_free(text);
	fclose(out);
}
