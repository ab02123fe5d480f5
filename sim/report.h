/* report.html of a churn run: one self-contained HTML page, without
 * scripts or external files. It shows the summary numbers, the run's
 * parameters, and inline SVG plots of allocation per resource, pending
 * pods, the pending-time distribution and nodes used over time, plus GPU
 * fragmentation on clusters with GPUs. */
#ifndef STOWAGE_SIM_REPORT_H
#define STOWAGE_SIM_REPORT_H

#include <glib.h>

#include "scoring/error.h"
#include "sim/metrics.h"

/* Appends the page to `out`. */
void sim_report_html(const sim_metrics *metrics, const sim_summary *summary,
		     const sim_params *params, GString *out);

/* Writes the page to `path`; the message names the path on failure. */
int sim_report_write(const char *path, const sim_metrics *metrics,
		     const sim_summary *summary, const sim_params *params,
		     score_error *err);

#endif
