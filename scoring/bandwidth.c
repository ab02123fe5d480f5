/* Bandwidth filter and scorer; see bandwidth.h. */
#include "scoring/bandwidth.h"

#include <string.h>

#include "scoring/quantity.h"

/* ---- Config -------------------------------------------------------------- */

void score_bandwidth_init(score_bandwidth_config *config)
{
	memset(config, 0, sizeof(*config));
	config->capacity_label = score_intern(SCORE_DEFAULT_BANDWIDTH_LABEL);
}

void score_bandwidth_release(score_bandwidth_config *config)
{
	score_unintern(config->capacity_label);
	score_unintern(config->ingress_capacity_label);
	score_unintern(config->egress_capacity_label);
	memset(config, 0, sizeof(*config));
}

bool score_pod_has_bandwidth(const score_pod *pod)
{
	return pod->ingress_bandwidth > 0 || pod->egress_bandwidth > 0;
}

bool score_bandwidth_capacity(const score_bandwidth_config *config,
			      const score_node *node, bool ingress,
			      int64_t *capacity)
{
	const char *label = ingress ? config->ingress_capacity_label
				    : config->egress_capacity_label;
	const char *text;

	if (label == NULL)
		label = config->capacity_label;
	text = label != NULL ? score_labels_get(&node->labels, label) : NULL;
	if (text != NULL && score_quantity_parse_value(text, capacity, NULL) == 0 &&
	    *capacity >= 0)
		return true;

	*capacity = config->default_capacity;
	return config->default_capacity > 0;
}

const char *score_bandwidth_format(int64_t bits, char *buf, size_t size)
{
	static const struct {
		char suffix;
		int64_t factor;
	} units[] = {
		{'E', INT64_C(1000000000000000000)},
		{'P', INT64_C(1000000000000000)},
		{'T', INT64_C(1000000000000)},
		{'G', INT64_C(1000000000)},
		{'M', INT64_C(1000000)},
		{'k', INT64_C(1000)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(units) && bits != 0; i++) {
		if (bits % units[i].factor == 0) {
			g_snprintf(buf, size, "%" G_GINT64_FORMAT "%c",
				   bits / units[i].factor, units[i].suffix);
			return buf;
		}
	}
	g_snprintf(buf, size, "%" G_GINT64_FORMAT, bits);
	return buf;
}

/* ---- One direction ------------------------------------------------------- */

/* What the filter and scorer compare in one direction. */
typedef struct direction {
	const char *name; /* "ingress" or "egress" */
	int64_t requested; /* by the incoming pod, bits per second */
	bool limited;
	int64_t capacity;
	int64_t used; /* by the node's counted pods, less the victims */
} direction;

static int64_t pod_bandwidth(const score_pod *pod, bool ingress)
{
	return ingress ? pod->ingress_bandwidth : pod->egress_bandwidth;
}

/* Victims are counted on the candidate node, so what they requested is
 * free when the node is evaluated without them. */
static int64_t victims_bandwidth(const score_node *node,
				 const score_usage *usage, bool ingress)
{
	int64_t freed = 0;

	for (size_t i = 0; i < usage->n_victims; i++) {
		const score_pod *victim = usage->victims[i];

		if (!score_pod_counts(victim) || victim->node_name == NULL ||
		    strcmp(victim->node_name, node->name) != 0)
			continue;
		freed += pod_bandwidth(victim, ingress);
	}
	return freed;
}

static void read_direction(const score_bandwidth_config *config,
			   const score_request *request, const score_node *node,
			   const score_usage *usage, bool ingress,
			   direction *out)
{
	out->name = ingress ? "ingress" : "egress";
	out->requested = pod_bandwidth(request->pod, ingress);
	out->limited = score_bandwidth_capacity(config, node, ingress,
						&out->capacity);
	out->used = ingress ? node->ingress_bandwidth_requested
			    : node->egress_bandwidth_requested;
	if (out->limited && out->requested > 0)
		out->used -= victims_bandwidth(node, usage, ingress);
	if (out->used < 0)
		out->used = 0;
}

/* Appends the reason and returns the rejection, or SCORE_FIT. */
static score_fit check_direction(const direction *d, GString *reason,
				 size_t start)
{
	char requested[32];
	char free_text[32];
	char capacity[32];
	int64_t free_bits;

	if (d->requested <= 0 || !d->limited ||
	    d->requested <= d->capacity - d->used)
		return SCORE_FIT;

	free_bits = d->capacity > d->used ? d->capacity - d->used : 0;
	if (reason->len > start)
		g_string_append(reason, "; ");
	g_string_append_printf(reason,
			       "%s bandwidth: requested %s, free %s of %s",
			       d->name,
			       score_bandwidth_format(d->requested, requested,
						      sizeof(requested)),
			       score_bandwidth_format(free_bits, free_text,
						      sizeof(free_text)),
			       score_bandwidth_format(d->capacity, capacity,
						      sizeof(capacity)));
	return d->requested > d->capacity ? SCORE_REJECT_UNRESOLVABLE
					  : SCORE_REJECT_RESOLVABLE;
}

/* 0..100: the share of the capacity still free after placing the pod. */
static int64_t headroom_score(const direction *d)
{
	double free_bits;

	if (!d->limited || d->capacity <= 0)
		return SCORE_MAX_NODE_SCORE;
	free_bits = (double)d->capacity - (double)d->used - (double)d->requested;
	if (free_bits <= 0)
		return 0;
	return (int64_t)(free_bits * SCORE_MAX_NODE_SCORE / (double)d->capacity);
}

/* ---- Filter and scorer --------------------------------------------------- */

score_fit score_filter_bandwidth(const void *config,
				 const score_request *request,
				 const score_node *node,
				 const score_usage *usage, GString *reason)
{
	size_t start = reason->len;
	score_fit worst = SCORE_FIT;
	direction ingress;
	direction egress;
	score_fit fit;

	if (!score_pod_has_bandwidth(request->pod))
		return SCORE_FIT;
	read_direction(config, request, node, usage, true, &ingress);
	read_direction(config, request, node, usage, false, &egress);

	fit = check_direction(&ingress, reason, start);
	worst = MAX(worst, fit);
	fit = check_direction(&egress, reason, start);
	worst = MAX(worst, fit);
	return worst;
}

int64_t score_bandwidth(const void *config, const score_request *request,
			const score_node *node, const score_usage *usage)
{
	int64_t score = SCORE_MAX_NODE_SCORE;
	direction ingress;
	direction egress;

	if (!score_pod_has_bandwidth(request->pod))
		return SCORE_SKIP;
	read_direction(config, request, node, usage, true, &ingress);
	read_direction(config, request, node, usage, false, &egress);

	if (ingress.requested > 0)
		score = MIN(score, headroom_score(&ingress));
	if (egress.requested > 0)
		score = MIN(score, headroom_score(&egress));
	return score;
}

/* Appends "egress bandwidth: 1.5G of 2G in use with the pod's 500M" for
 * a direction that the pod uses and the node limits. */
static void explain_direction(const direction *d, GString *out)
{
	char in_use[32];
	char capacity[32];
	char requested[32];
	int64_t with_pod;

	if (d->requested <= 0 || !d->limited || d->capacity <= 0)
		return;
	with_pod = d->used > INT64_MAX - d->requested ? INT64_MAX : d->used + d->requested;
	if (out->len > 0)
		g_string_append(out, "; ");
	g_string_append_printf(out, "%s bandwidth: %s of %s in use with the pod's %s", d->name,
			       score_bandwidth_format(with_pod, in_use, sizeof(in_use)),
			       score_bandwidth_format(d->capacity, capacity, sizeof(capacity)),
			       score_bandwidth_format(d->requested, requested,
						      sizeof(requested)));
}

/* Explains the headroom score with what each direction leaves free. */
static void explain_bandwidth_node(const void *config, const score_request *request,
				   const score_node *node, const score_usage *usage,
				   GString *out)
{
	direction ingress;
	direction egress;

	if (!score_pod_has_bandwidth(request->pod))
		return;
	read_direction(config, request, node, usage, true, &ingress);
	read_direction(config, request, node, usage, false, &egress);
	explain_direction(&ingress, out);
	explain_direction(&egress, out);
}

int score_pipeline_add_bandwidth(score_pipeline *pipeline,
				 const score_bandwidth_config *config,
				 int64_t weight, score_error *err)
{
	const score_filter filter = {"Bandwidth", score_filter_bandwidth,
				     config};
	const score_scorer scorer = {"Bandwidth", score_bandwidth, NULL, config,
				     weight};
	const score_hooks hooks = {.explain_node = explain_bandwidth_node};
	int rc;

	rc = score_pipeline_add_filter(pipeline, &filter, err);
	if (rc < 0 || weight <= 0)
		return rc;
	return score_pipeline_add_scorer_with_hooks(pipeline, &scorer, &hooks, err);
}
