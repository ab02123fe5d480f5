/* SVG line plots; see svg.h. */
#include "sim/svg.h"

#include <math.h>
#include <string.h>

/* Margins around the plot area, in pixels. */
#define MARGIN_LEFT 70
#define MARGIN_RIGHT 20
#define MARGIN_TOP 44
#define MARGIN_BOTTOM 50

void sim_svg_plot_init(sim_svg_plot *plot)
{
	memset(plot, 0, sizeof(*plot));
	plot->x_min = NAN;
	plot->x_max = NAN;
	plot->y_min = NAN;
	plot->y_max = NAN;
	plot->width = 760;
	plot->height = 300;
}

void sim_svg_plot_add(sim_svg_plot *plot, const char *name, const char *color,
		      const double *x, const double *y, size_t n, bool step)
{
	sim_svg_series *series;

	if (plot->n_series >= SIM_SVG_MAX_SERIES)
		return;
	series = &plot->series[plot->n_series++];
	series->name = name;
	series->color = color;
	series->x = x;
	series->y = y;
	series->n = n;
	series->step = step;
}

/* ---- Ticks --------------------------------------------------------------- */

size_t sim_svg_linear_ticks(double min, double max_value, size_t target,
			    double *ticks, size_t max)
{
	double range = max_value - min;
	double rough;
	double magnitude;
	double residual;
	double step;
	size_t n = 0;

	if (!(range > 0) || target == 0) {
		if (max > 0) {
			ticks[0] = min;
			return 1;
		}
		return 0;
	}
	rough = range / (double)target;
	magnitude = pow(10.0, floor(log10(rough)));
	residual = rough / magnitude;
	if (residual < 1.5)
		step = magnitude;
	else if (residual < 3)
		step = 2 * magnitude;
	else if (residual < 7)
		step = 5 * magnitude;
	else
		step = 10 * magnitude;

	for (double t = ceil(min / step - 1e-9) * step;
	     t <= max_value + step * 1e-9 && n < max; t += step) {
		/* Avoid printing -0 and 1e-17 for zero. */
		ticks[n++] = fabs(t) < step * 1e-9 ? 0.0 : t;
	}
	return n;
}

size_t sim_svg_time_ticks(double min, double max_value, size_t target,
			  double *ticks, size_t max)
{
	static const double steps[] = {
		1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
		10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000,
	};
	double range = max_value - min;
	double step = steps[G_N_ELEMENTS(steps) - 1];
	size_t n = 0;

	if (!(range > 0) || target == 0)
		return sim_svg_linear_ticks(min, max_value, target, ticks, max);
	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
		if (range / steps[i] <= (double)target) {
			step = steps[i];
			break;
		}
	}
	if (range / step > (double)target)
		return sim_svg_linear_ticks(min, max_value, target, ticks, max);
	for (double t = ceil(min / step) * step; t <= max_value && n < max; t += step)
		ticks[n++] = t;
	return n;
}

/* Tick values of a log axis of seconds: decades up to 10 s, then the
 * minute, hour and day with ten times each, which read better than 100 s
 * or 1000 s. */
static const struct {
	double seconds;
	const char *label;
} log_marks[] = {
	{0.001, "1 ms"}, {0.01, "10 ms"}, {0.1, "100 ms"}, {1, "1 s"},
	{10, "10 s"}, {60, "1 min"}, {600, "10 min"}, {3600, "1 h"},
	{36000, "10 h"}, {86400, "1 d"}, {864000, "10 d"}, {8640000, "100 d"},
};

static size_t log_ticks(double min, double max_value, double *ticks,
			size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(log_marks) && n < max; i++) {
		double t = log_marks[i].seconds;

		if (t >= min * (1 - 1e-9) && t <= max_value * (1 + 1e-9))
			ticks[n++] = t;
	}
	return n;
}

/* ---- Labels -------------------------------------------------------------- */

static void format_number(double value, char *buf, size_t size)
{
	if (fabs(value) >= 1e6 || (fabs(value) < 1e-3 && value != 0))
		g_snprintf(buf, size, "%.3g", value);
	else
		g_snprintf(buf, size, "%.10g", round(value * 1e6) / 1e6);
}

/* Seconds from the start as "06:00" (hours:minutes) up to two days,
 * "3d" or "3d12h" beyond. */
static void format_time(double seconds, double span, char *buf, size_t size)
{
	long long whole = llround(seconds);

	if (span <= 2 * 86400)
		g_snprintf(buf, size, "%02lld:%02lld", whole / 3600, whole % 3600 / 60);
	else if (whole % 86400 == 0)
		g_snprintf(buf, size, "%lldd", whole / 86400);
	else
		g_snprintf(buf, size, "%lldd%02lldh", whole / 86400, whole % 86400 / 3600);
}

static void format_log_seconds(double seconds, char *buf, size_t size)
{
	for (size_t i = 0; i < G_N_ELEMENTS(log_marks); i++) {
		if (fabs(seconds - log_marks[i].seconds) <= seconds * 1e-9) {
			g_strlcpy(buf, log_marks[i].label, size);
			return;
		}
	}
	g_snprintf(buf, size, "%g s", seconds);
}

static void append_text(GString *out, double x, double y, const char *anchor,
			const char *extra, const char *text)
{
	char *escaped = g_markup_escape_text(text, -1);

	g_string_append_printf(out,
			       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>%s</text>\n",
			       x, y, anchor, extra != NULL ? extra : "", escaped);
	g_free(escaped);
}

/* ---- Geometry ------------------------------------------------------------ */

typedef struct frame {
	double left, right, top, bottom; /* plot area in pixels */
	double x_min, x_max, y_min, y_max;
	sim_svg_axis x_axis;
} frame;

static double frame_x(const frame *f, double x)
{
	double position;

	if (f->x_axis == SIM_SVG_LOG) {
		x = MAX(x, f->x_min);
		position = (log10(x) - log10(f->x_min)) /
			   (log10(f->x_max) - log10(f->x_min));
	} else {
		position = (x - f->x_min) / (f->x_max - f->x_min);
	}
	return f->left + CLAMP(position, 0.0, 1.0) * (f->right - f->left);
}

static double frame_y(const frame *f, double y)
{
	double position = (y - f->y_min) / (f->y_max - f->y_min);

	return f->bottom - CLAMP(position, 0.0, 1.0) * (f->bottom - f->top);
}

/* Fills unset ranges from the data and widens empty ones. */
static void compute_ranges(const sim_svg_plot *plot, frame *f)
{
	double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;

	for (size_t s = 0; s < plot->n_series; s++) {
		const sim_svg_series *series = &plot->series[s];

		for (size_t i = 0; i < series->n; i++) {
			double x = series->x[i];

			if (plot->x_axis == SIM_SVG_LOG && !(x > 0))
				continue;
			x_lo = MIN(x_lo, x);
			x_hi = MAX(x_hi, x);
			y_lo = MIN(y_lo, series->y[i]);
			y_hi = MAX(y_hi, series->y[i]);
		}
	}
	if (!isfinite(x_lo)) {
		x_lo = plot->x_axis == SIM_SVG_LOG ? 1 : 0;
		x_hi = x_lo * 10 + 1;
	}
	if (!isfinite(y_lo)) {
		y_lo = 0;
		y_hi = 1;
	}
	f->x_min = isnan(plot->x_min) ? x_lo : plot->x_min;
	f->x_max = isnan(plot->x_max) ? x_hi : plot->x_max;
	f->y_min = isnan(plot->y_min) ? MIN(0.0, y_lo) : plot->y_min;
	f->y_max = isnan(plot->y_max) ? y_hi : plot->y_max;
	if (plot->x_axis == SIM_SVG_LOG) {
		f->x_min = f->x_min > 0 ? f->x_min : 1e-3;
		if (!(f->x_max > f->x_min))
			f->x_max = f->x_min * 10;
	} else if (!(f->x_max > f->x_min)) {
		f->x_max = f->x_min + 1;
	}
	if (!(f->y_max > f->y_min))
		f->y_max = f->y_min + 1;
	/* Headroom above the highest point, unless the range was given. */
	if (isnan(plot->y_max))
		f->y_max += (f->y_max - f->y_min) * 0.05;
}

/* ---- Drawing ------------------------------------------------------------- */

/* Y axis: grid lines, tick labels and the axis label. */
static void draw_y_axis(const sim_svg_plot *plot, const frame *f, GString *out)
{
	double ticks[SIM_SVG_MAX_TICKS];
	size_t n;
	char label[64];

	n = sim_svg_linear_ticks(f->y_min, f->y_max, 5, ticks, SIM_SVG_MAX_TICKS);
	for (size_t i = 0; i < n; i++) {
		double y = frame_y(f, ticks[i]);

		g_string_append_printf(out,
				       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n",
				       f->left, y, f->right, y);
		format_number(ticks[i], label, sizeof(label) - 4);
		if (plot->y_suffix != NULL)
			g_strlcat(label, plot->y_suffix, sizeof(label));
		append_text(out, f->left - 6, y + 4, "end", NULL, label);
	}
	if (plot->y_label != NULL) {
		char transform[80];
		double cy = (f->top + f->bottom) / 2;

		g_snprintf(transform, sizeof(transform),
			   " transform=\"rotate(-90 16 %.1f)\"", cy);
		append_text(out, 16, cy, "middle", transform, plot->y_label);
	}
}

static void draw_axes(const sim_svg_plot *plot, const frame *f, GString *out)
{
	double ticks[SIM_SVG_MAX_TICKS];
	size_t n;
	char label[64];

	draw_y_axis(plot, f, out);

	/* X axis: ticks and labels. */
	if (plot->x_axis == SIM_SVG_LOG)
		n = log_ticks(f->x_min, f->x_max, ticks, SIM_SVG_MAX_TICKS);
	else if (plot->x_axis == SIM_SVG_TIME)
		n = sim_svg_time_ticks(f->x_min, f->x_max, 8, ticks, SIM_SVG_MAX_TICKS);
	else
		n = sim_svg_linear_ticks(f->x_min, f->x_max, 8, ticks, SIM_SVG_MAX_TICKS);
	for (size_t i = 0; i < n; i++) {
		double x = frame_x(f, ticks[i]);

		g_string_append_printf(out,
				       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n"
				       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>\n",
				       x, f->top, x, f->bottom, x, f->bottom, x,
				       f->bottom + 5);
		if (plot->x_axis == SIM_SVG_LOG)
			format_log_seconds(ticks[i], label, sizeof(label));
		else if (plot->x_axis == SIM_SVG_TIME)
			format_time(ticks[i], f->x_max - f->x_min, label, sizeof(label));
		else
			format_number(ticks[i], label, sizeof(label));
		append_text(out, x, f->bottom + 18, "middle", NULL, label);
	}

	/* The frame of the plot area. */
	g_string_append_printf(out,
			       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#555\"/>\n",
			       f->left, f->top, f->right - f->left, f->bottom - f->top);

	if (plot->x_label != NULL)
		append_text(out, (f->left + f->right) / 2, plot->height - 10, "middle",
			    NULL, plot->x_label);
}

static void append_point(GString *out, const frame *f, double x, double y)
{
	g_string_append_printf(out, "%.1f,%.1f ", frame_x(f, x), frame_y(f, y));
}

static void draw_series(const sim_svg_plot *plot, const frame *f,
			const sim_svg_series *series, GString *out)
{
	size_t columns = (size_t)MAX(1.0, f->right - f->left);
	bool decimate = series->n > 2 * columns;
	size_t i = 0;

	if (series->n == 0)
		return;
	g_string_append_printf(out,
			       "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\"%s points=\"",
			       series->color,
			       series->dashed ? " stroke-dasharray=\"6 3\"" : "");

	while (i < series->n) {
		double x = series->x[i];
		double y = series->y[i];

		if (plot->x_axis == SIM_SVG_LOG && !(x > 0))
			x = f->x_min;
		if (!decimate) {
			if (series->step && i > 0)
				append_point(out, f, x, series->y[i - 1]);
			append_point(out, f, x, y);
			i++;
			continue;
		}

		/* The points of one pixel column: first, lowest, highest. */
		long column = lround(frame_x(f, x));
		double low = y;
		double high = y;
		size_t j = i + 1;

		while (j < series->n && lround(frame_x(f, series->x[j])) == column) {
			low = MIN(low, series->y[j]);
			high = MAX(high, series->y[j]);
			j++;
		}
		append_point(out, f, x, y);
		append_point(out, f, x, low);
		append_point(out, f, x, high);
		append_point(out, f, series->x[j - 1], series->y[j - 1]);
		i = j;
	}
	g_string_append(out, "\"/>\n");
	for (i = 0; series->markers && !decimate && i < series->n; i++)
		g_string_append_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
				       frame_x(f, series->x[i]), frame_y(f, series->y[i]),
				       series->color);
}

static void draw_legend(const sim_svg_plot *plot, const frame *f, GString *out)
{
	double x = f->right;

	/* Right-aligned entries, laid out from the right edge leftwards. */
	for (size_t s = plot->n_series; s-- > 0;) {
		const sim_svg_series *series = &plot->series[s];
		double width = 26 + 7.0 * (double)g_utf8_strlen(series->name, -1);

		x -= width;
		g_string_append_printf(out,
				       "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>\n",
				       x, MARGIN_TOP - 14, x + 16, MARGIN_TOP - 14,
				       series->color,
				       series->dashed ? " stroke-dasharray=\"4 2\"" : "");
		append_text(out, x + 20, MARGIN_TOP - 10, "start", NULL, series->name);
		x -= 10;
	}
}

void sim_svg_write(const sim_svg_plot *plot, GString *out)
{
	frame f = {
		.left = MARGIN_LEFT,
		.right = plot->width - MARGIN_RIGHT,
		.top = MARGIN_TOP,
		.bottom = plot->height - MARGIN_BOTTOM,
		.x_axis = plot->x_axis,
	};
	char *title = g_markup_escape_text(plot->title != NULL ? plot->title : "", -1);

	compute_ranges(plot, &f);
	g_string_append_printf(out,
			       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\" font-family=\"sans-serif\" font-size=\"12\">\n"
			       "<title>%s</title>\n"
			       "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
			       "<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
			       plot->width, plot->height, plot->width, plot->height,
			       title, title, MARGIN_LEFT, title);
	g_free(title);

	draw_axes(plot, &f, out);
	for (size_t s = 0; s < plot->n_series; s++)
		draw_series(plot, &f, &plot->series[s], out);
	draw_legend(plot, &f, out);
	g_string_append(out, "</svg>\n");
}

/* ---- Bar charts ---------------------------------------------------------- */

const char *sim_svg_color(size_t index)
{
	static const char *const palette[] = {
		"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
		"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
	};

	return palette[index % G_N_ELEMENTS(palette)];
}

/* The top of the y range: the highest mean or whisker, plus headroom. */
static double bars_top(const sim_svg_bars *chart)
{
	double highest = 0;

	for (size_t i = 0; i < chart->n_groups * chart->n_series; i++) {
		if (!isnan(chart->mean[i]))
			highest = MAX(highest, chart->mean[i]);
		if (chart->high != NULL && !isnan(chart->high[i]))
			highest = MAX(highest, chart->high[i]);
	}
	return highest > 0 ? highest * 1.08 : 1.0;
}

static void draw_bar(const sim_svg_bars *chart, const frame *f, size_t group,
		     size_t series, double x, double width, GString *out)
{
	size_t i = group * chart->n_series + series;
	double mean = chart->mean[i];
	double low = chart->low != NULL ? chart->low[i] : NAN;
	double high = chart->high != NULL ? chart->high[i] : NAN;
	bool whisker = !isnan(low) && !isnan(high);
	char *tooltip;
	char *escaped;

	if (isnan(mean))
		return;
	if (whisker)
		tooltip = g_strdup_printf("%s, %s: %.4g (%.4g to %.4g)", chart->groups[group],
					  chart->series[series], mean, low, high);
	else
		tooltip = g_strdup_printf("%s, %s: %.4g", chart->groups[group],
					  chart->series[series], mean);
	escaped = g_markup_escape_text(tooltip, -1);
	g_string_append_printf(out,
			       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>\n",
			       x, frame_y(f, mean), width, frame_y(f, 0) - frame_y(f, mean),
			       sim_svg_color(series), escaped);
	if (whisker) {
		double center = x + width / 2;

		g_string_append_printf(out,
				       "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#222\" fill=\"none\"/>\n",
				       center, frame_y(f, low), frame_y(f, high),
				       center - 4, frame_y(f, low), center + 4,
				       center - 4, frame_y(f, high), center + 4);
	}
	g_free(escaped);
	g_free(tooltip);
}

static void draw_bars_legend(const sim_svg_bars *chart, const frame *f, GString *out)
{
	double x = f->right;

	/* Right-aligned entries, laid out from the right edge leftwards. */
	for (size_t s = chart->n_series; s-- > 0;) {
		double width = 26 + 7.0 * (double)g_utf8_strlen(chart->series[s], -1);

		x -= width;
		g_string_append_printf(out,
				       "<rect x=\"%.1f\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
				       x, MARGIN_TOP - 19, sim_svg_color(s));
		append_text(out, x + 20, MARGIN_TOP - 10, "start", NULL, chart->series[s]);
		x -= 10;
	}
}

/* A category label, one line per '\n'-separated part. */
static void append_group_label(GString *out, double x, double y, const char *label)
{
	char **lines = g_strsplit(label, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		append_text(out, x, y + 14.0 * i, "middle", NULL, lines[i]);
	g_strfreev(lines);
}

void sim_svg_bars_write(const sim_svg_bars *chart, GString *out)
{
	sim_svg_plot axes;
	frame f;
	double slot;
	char *title = g_markup_escape_text(chart->title != NULL ? chart->title : "", -1);

	/* The y axis comes from the line plots' code. */
	sim_svg_plot_init(&axes);
	axes.y_label = chart->y_label;
	axes.y_suffix = chart->y_suffix;
	axes.width = chart->width > 0 ? chart->width : 760;
	axes.height = chart->height > 0 ? chart->height : 320;
	f.left = MARGIN_LEFT;
	f.right = axes.width - MARGIN_RIGHT;
	f.top = MARGIN_TOP;
	f.bottom = axes.height - MARGIN_BOTTOM;
	f.x_axis = SIM_SVG_LINEAR;
	f.x_min = 0;
	f.x_max = 1;
	f.y_min = 0;
	f.y_max = bars_top(chart);

	g_string_append_printf(out,
			       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\" font-family=\"sans-serif\" font-size=\"12\">\n"
			       "<title>%s</title>\n"
			       "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
			       "<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
			       axes.width, axes.height, axes.width, axes.height, title, title,
			       MARGIN_LEFT, title);
	g_free(title);
	draw_y_axis(&axes, &f, out);

	slot = (f.right - f.left) / (double)MAX(chart->n_groups, 1);
	for (size_t g = 0; g < chart->n_groups; g++) {
		double left = f.left + slot * (double)g;
		double bar = slot * 0.8 / (double)MAX(chart->n_series, 1);

		for (size_t s = 0; s < chart->n_series; s++)
			draw_bar(chart, &f, g, s, left + slot * 0.1 + bar * (double)s, bar, out);
		append_group_label(out, left + slot / 2, f.bottom + 18, chart->groups[g]);
	}
	g_string_append_printf(out,
			       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#555\"/>\n",
			       f.left, f.top, f.right - f.left, f.bottom - f.top);
	draw_bars_legend(chart, &f, out);
	g_string_append(out, "</svg>\n");
}
