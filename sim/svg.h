/* A small SVG line-plot writer for the churn report: one plot per call,
 * with a title, axes with ticks and labels, grid lines, a legend, and one
 * polyline per series. The output is a standalone <svg> element that needs
 * no stylesheet or script, so it can sit inline in an HTML page.
 *
 * Ticks fall on "nice" values (1, 2 or 5 times a power of ten) on linear
 * axes, and on whole seconds, minutes, hours or days on time axes and log
 * axes, whose values are seconds. A series with more
 * points than twice the plot's width in pixels is drawn with the minimum
 * and maximum of each pixel column, which keeps its peaks.
 *
 * Bar charts (sim_svg_bars_write()) compare categories: one group of bars
 * per category, one bar per series in each, with a whisker from a low to
 * a high value, such as the minimum and maximum over seeds.
 */
#ifndef STOWAGE_SIM_SVG_H
#define STOWAGE_SIM_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#define SIM_SVG_MAX_SERIES 8
#define SIM_SVG_MAX_TICKS 16

typedef enum sim_svg_axis {
	SIM_SVG_LINEAR = 0,
	/* Seconds on a log scale, ticks at 1 ms, 10 ms, ... 10 s, 1 min,
	 * 10 min, 1 h, 10 h, 1 d, 10 d; values up to 0 are drawn at the
	 * minimum. */
	SIM_SVG_LOG,
	SIM_SVG_TIME, /* seconds from the start */
} sim_svg_axis;

typedef struct sim_svg_series {
	const char *name;  /* legend text; borrowed */
	const char *color; /* CSS color; borrowed */
	const double *x;   /* borrowed */
	const double *y;   /* borrowed */
	size_t n;
	bool step; /* hold each value until the next x, as a CDF is drawn */
	bool dashed;
	bool markers; /* a dot on each point, unless the series is decimated */
} sim_svg_series;

typedef struct sim_svg_plot {
	const char *title;
	const char *x_label;
	const char *y_label;
	const char *y_suffix; /* appended to y tick labels, e.g. "%"; may be NULL */
	sim_svg_axis x_axis;
	/* Axis ranges; NAN takes the range of the data. */
	double x_min;
	double x_max;
	double y_min;
	double y_max;
	int width; /* pixels */
	int height;
	sim_svg_series series[SIM_SVG_MAX_SERIES];
	size_t n_series;
} sim_svg_plot;

/* Fills `plot` with no series, automatic ranges and a 760 x 300 size. */
void sim_svg_plot_init(sim_svg_plot *plot);

/* Adds a series; ignored past SIM_SVG_MAX_SERIES. */
void sim_svg_plot_add(sim_svg_plot *plot, const char *name, const char *color,
		      const double *x, const double *y, size_t n, bool step);

/* Appends the plot as one <svg> element to `out`. Text is escaped. */
void sim_svg_write(const sim_svg_plot *plot, GString *out);

/* A bar chart: `n_groups` categories along the x axis, each with one bar
 * per series. Values are indexed [group * n_series + series]; a NAN mean
 * leaves its bar out, and NAN low or high its whisker. Every pointer is
 * borrowed. */
typedef struct sim_svg_bars {
	const char *title;
	const char *y_label;
	const char *y_suffix; /* may be NULL */
	const char *const *groups; /* n_groups category labels; '\n' breaks lines */
	size_t n_groups;
	const char *const *series; /* n_series legend names */
	size_t n_series;
	const double *mean;
	const double *low;  /* may be NULL: no whiskers */
	const double *high; /* may be NULL: no whiskers */
	int width;  /* pixels; 0 for 760 */
	int height; /* pixels; 0 for 320 */
} sim_svg_bars;

/* Appends the chart as one <svg> element to `out`. Text is escaped; each
 * bar has a tooltip with its value and whisker. */
void sim_svg_bars_write(const sim_svg_bars *chart, GString *out);

/* Returns a color for series `index` from a fixed palette of 10,
 * repeating after that. Static. */
const char *sim_svg_color(size_t index);

/* Writes up to `max` nice tick values covering [min, max_value] on a
 * linear axis, about `target` of them; returns how many. */
size_t sim_svg_linear_ticks(double min, double max_value, size_t target,
			    double *ticks, size_t max);

/* The same for a time axis in seconds: steps of whole seconds, minutes,
 * hours or days. */
size_t sim_svg_time_ticks(double min, double max_value, size_t target,
			  double *ticks, size_t max);

#endif
