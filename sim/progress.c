/* The progress line of churn runs; see progress.h. */
#include "sim/progress.h"

#include <string.h>

#include <glib.h>

#define BAR_WIDTH 20
#define FIRST_DRAW_US 1000000 /* runs shorter than a second show no bar */
#define REDRAW_US 100000
#define PLAIN_INTERVAL_US 10000000 /* plain lines off a terminal */

const char *sim_format_count(uint64_t value, char *buf, size_t size)
{
	char digits[32];
	size_t n = (size_t)g_snprintf(digits, sizeof(digits), "%llu",
				      (unsigned long long)value);
	size_t out = 0;

	for (size_t i = 0; i < n && out + 1 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0 && out + 2 < size)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	if (size > 0)
		buf[MIN(out, size - 1)] = '\0';
	return buf;
}

const char *sim_format_count_noun(uint64_t value, const char *singular,
				  const char *plural, char *buf, size_t size)
{
	char digits[32];

	g_snprintf(buf, size, "%s %s", sim_format_count(value, digits, sizeof(digits)),
		   value == 1 ? singular : plural);
	return buf;
}

const char *sim_format_clock(int64_t ms, char *buf, size_t size)
{
	int64_t seconds = ms / 1000;
	int64_t days = seconds / 86400;

	if (days > 0)
		g_snprintf(buf, size, "%lldd %02lld:%02lld:%02lld", (long long)days,
			   (long long)(seconds % 86400 / 3600),
			   (long long)(seconds % 3600 / 60), (long long)(seconds % 60));
	else
		g_snprintf(buf, size, "%lld:%02lld:%02lld", (long long)(seconds / 3600),
			   (long long)(seconds % 3600 / 60), (long long)(seconds % 60));
	return buf;
}

const char *sim_progress_format(char *buf, size_t size, int64_t now_ms,
				int64_t end_ms, uint64_t pods, double fraction,
				double elapsed_s)
{
	GString *line = g_string_new(NULL);
	char now_text[32];
	char end_text[32];
	char pods_text[32];
	char rate_text[32];

	if (fraction >= 0) {
		int filled = (int)(MIN(fraction, 1.0) * BAR_WIDTH + 0.5);

		g_string_append_c(line, '[');
		for (int i = 0; i < BAR_WIDTH; i++)
			g_string_append_c(line, i < filled ? '#' : '.');
		g_string_append_printf(line, "] %5.1f%%  ", MIN(fraction, 1.0) * 100.0);
	}
	g_string_append_printf(line, "sim %s", sim_format_clock(now_ms, now_text,
								 sizeof(now_text)));
	if (end_ms >= 0)
		g_string_append_printf(line, " of %s",
				       sim_format_clock(end_ms, end_text, sizeof(end_text)));
	g_string_append_printf(line, "  pods %s  %s pods/s",
			       sim_format_count(pods, pods_text, sizeof(pods_text)),
			       sim_format_count(elapsed_s > 0 ? (uint64_t)((double)pods / elapsed_s) : 0,
						rate_text, sizeof(rate_text)));
	g_strlcpy(buf, line->str, size);
	g_string_free(line, TRUE);
	return buf;
}

const char *sim_progress_format_plain(char *buf, size_t size, int64_t now_ms,
				      int64_t end_ms, uint64_t pods, double fraction,
				      double elapsed_s)
{
	GString *line = g_string_new("stowage sim: progress: ");
	char now_text[32];
	char end_text[32];
	char pods_text[48];
	char rate_text[32];

	if (fraction >= 0)
		g_string_append_printf(line, "%.1f%% done, ", MIN(fraction, 1.0) * 100.0);
	g_string_append_printf(line, "simulated %s",
			       sim_format_clock(now_ms, now_text, sizeof(now_text)));
	if (end_ms >= 0)
		g_string_append_printf(line, " of %s",
				       sim_format_clock(end_ms, end_text, sizeof(end_text)));
	g_string_append_printf(line, ", %s, %s pods/s",
			       sim_format_count_noun(pods, "pod", "pods", pods_text,
						     sizeof(pods_text)),
			       sim_format_count(elapsed_s > 0 ? (uint64_t)((double)pods / elapsed_s) : 0,
						rate_text, sizeof(rate_text)));
	g_strlcpy(buf, line->str, size);
	g_string_free(line, TRUE);
	return buf;
}

const char *sim_progress_format_final(char *buf, size_t size, int64_t now_ms,
				      uint64_t pods, double elapsed_s)
{
	char now_text[32];
	char pods_text[32];
	char rate_text[32];

	g_snprintf(buf, size, "stowage sim: simulated %s in %.2f s: %s pods, %s pods/s",
		   sim_format_clock(now_ms, now_text, sizeof(now_text)), elapsed_s,
		   sim_format_count(pods, pods_text, sizeof(pods_text)),
		   sim_format_count(elapsed_s > 0 ? (uint64_t)((double)pods / elapsed_s) : 0,
				    rate_text, sizeof(rate_text)));
	return buf;
}

void sim_progress_init(sim_progress *progress, FILE *out, bool terminal,
		       bool enabled, int64_t end_ms)
{
	memset(progress, 0, sizeof(*progress));
	progress->out = out;
	progress->terminal = terminal;
	progress->enabled = enabled;
	progress->end_ms = end_ms;
	progress->start_us = g_get_monotonic_time();
	progress->plain_interval_us = PLAIN_INTERVAL_US;
}

/* Prints a plain line every plain_interval_us, for logs. */
static void print_plain(sim_progress *progress, int64_t now_ms, uint64_t pods,
			double fraction)
{
	int64_t now_us = g_get_monotonic_time();
	int64_t last_us = progress->last_draw_us != 0 ? progress->last_draw_us : progress->start_us;
	char line[256];

	if (now_us - last_us < progress->plain_interval_us)
		return;
	progress->last_draw_us = now_us;
	sim_progress_format_plain(line, sizeof(line), now_ms, progress->end_ms, pods, fraction,
				  (double)(now_us - progress->start_us) / 1e6);
	fprintf(progress->out, "%s\n", line);
	fflush(progress->out);
}

void sim_progress_update(sim_progress *progress, int64_t now_ms,
			 uint64_t pods, double fraction)
{
	int64_t now_us;
	char line[256];

	if (!progress->enabled)
		return;
	if (!progress->terminal) {
		print_plain(progress, now_ms, pods, fraction);
		return;
	}
	now_us = g_get_monotonic_time();
	if (now_us - progress->start_us < FIRST_DRAW_US ||
	    now_us - progress->last_draw_us < REDRAW_US)
		return;
	progress->last_draw_us = now_us;
	sim_progress_format(line, sizeof(line), now_ms, progress->end_ms, pods,
			    fraction, (double)(now_us - progress->start_us) / 1e6);
	/* "\r" returns to the line start and ESC [K clears the rest. */
	fprintf(progress->out, "\r%s\033[K", line);
	fflush(progress->out);
	progress->drawn = true;
}

void sim_progress_finish(sim_progress *progress, int64_t now_ms, uint64_t pods)
{
	char line[256];
	double elapsed = (double)(g_get_monotonic_time() - progress->start_us) / 1e6;

	if (!progress->enabled)
		return;
	if (progress->drawn)
		fputs("\r\033[K", progress->out);
	sim_progress_format_final(line, sizeof(line), now_ms, pods, elapsed);
	fprintf(progress->out, "%s\n", line);
	fflush(progress->out);
}
