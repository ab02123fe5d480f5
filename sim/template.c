/* Node shapes and cluster templates; see template.h. */
#include "sim/template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "scoring/gpu.h"
#include "scoring/quantity.h"

#define SHAPE_FORM "CPU/MEMORY[/PODS[/GPUS[/MODEL]]], e.g. 16/64Gi or 32/256Gi/110/8/V100M32"

void sim_node_shape_release(sim_node_shape *shape)
{
	g_free(shape->name);
	g_free(shape->gpu_model);
	memset(shape, 0, sizeof(*shape));
}

void sim_node_shape_copy(const sim_node_shape *from, sim_node_shape *to)
{
	*to = *from;
	to->name = g_strdup(from->name);
	to->gpu_model = g_strdup(from->gpu_model);
}

static int parse_count(const char *text, long long min, long long max,
		       long long *out)
{
	char *end = NULL;
	long long value;

	if (!g_ascii_isdigit(text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return -EINVAL;
	*out = value;
	return 0;
}

static int fail_shape(const char *text, const char *what, score_error *err)
{
	return score_fail(err, -EINVAL, "invalid node shape \"%s\": %s; the form is %s",
			  text, what, SHAPE_FORM);
}

/* The instance-type label: "16c-64Gi", "500mc-1Gi-8xV100". */
static char *shape_name(const char *cpu, const char *memory, int32_t gpus,
			const char *model)
{
	if (gpus > 0)
		return g_strdup_printf("%sc-%s-%dx%s", cpu, memory, gpus,
				       model != NULL ? model : "gpu");
	return g_strdup_printf("%sc-%s", cpu, memory);
}

int sim_node_shape_parse(const char *text, sim_node_shape *shape,
			 score_error *err)
{
	gchar **parts = g_strsplit(text, "/", -1);
	guint n = g_strv_length(parts);
	long long number = 0;
	int ret = 0;

	memset(shape, 0, sizeof(*shape));
	shape->pods = SIM_DEFAULT_MAX_PODS;
	if (n < 2 || n > 5) {
		ret = fail_shape(text, "expected 2 to 5 fields separated by '/'", err);
		goto out;
	}
	if (score_quantity_parse_milli(parts[0], &shape->cpu_milli, NULL) < 0 ||
	    shape->cpu_milli <= 0) {
		ret = fail_shape(text, "CPU must be a positive quantity such as 16 or 3500m", err);
		goto out;
	}
	if (score_quantity_parse_value(parts[1], &shape->memory, NULL) < 0 ||
	    shape->memory <= 0) {
		ret = fail_shape(text, "memory must be a positive quantity such as 64Gi", err);
		goto out;
	}
	if (n > 2) {
		if (parse_count(parts[2], 1, 100000, &number) < 0) {
			ret = fail_shape(text, "pods must be a whole number from 1 to 100000", err);
			goto out;
		}
		shape->pods = number;
	}
	if (n > 3) {
		if (parse_count(parts[3], 0, SCORE_GPU_MAX_DEVICES, &number) < 0) {
			ret = fail_shape(text, "GPUs must be a whole number from 0 to 16", err);
			goto out;
		}
		shape->gpus = (int32_t)number;
	}
	if (n > 4) {
		if (parts[4][0] == '\0' || strchr(parts[4], '|') != NULL ||
		    shape->gpus == 0) {
			ret = fail_shape(text, "a GPU model needs GPUS above 0 and is one name without '|'", err);
			goto out;
		}
		shape->gpu_model = g_strdup(parts[4]);
	}
	shape->name = shape_name(parts[0], parts[1], shape->gpus, shape->gpu_model);

out:
	if (ret < 0)
		sim_node_shape_release(shape);
	g_strfreev(parts);
	return ret;
}

void sim_template_release(sim_template *tmpl)
{
	for (size_t i = 0; i < tmpl->n_entries; i++)
		sim_node_shape_release(&tmpl->entries[i].shape);
	g_free(tmpl->entries);
	memset(tmpl, 0, sizeof(*tmpl));
}

int sim_template_parse(const char *text, sim_template *tmpl, score_error *err)
{
	gchar **items = g_strsplit(text, ",", -1);
	guint n = g_strv_length(items);
	size_t total = 0;
	int ret = 0;

	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->entries = g_new0(sim_template_entry, MAX(n, 1));
	if (n == 0)
		ret = score_fail(err, -EINVAL,
				 "empty cluster template: give COUNTxSHAPE entries such as 20x8/32Gi,10x32/128Gi");

	for (guint i = 0; i < n && ret == 0; i++) {
		const char *item = items[i];
		const char *x = strchr(item, 'x');
		sim_template_entry *entry = &tmpl->entries[tmpl->n_entries];
		long long count = 0;
		char *count_text;

		if (x == NULL) {
			ret = score_fail(err, -EINVAL,
					 "invalid cluster template entry \"%s\": expected COUNTxSHAPE such as 20x8/32Gi",
					 item);
			break;
		}
		count_text = g_strndup(item, (gsize)(x - item));
		ret = parse_count(count_text, 1, SIM_TEMPLATE_MAX_NODES, &count);
		g_free(count_text);
		if (ret < 0) {
			ret = score_fail(err, -EINVAL,
					 "invalid node count in cluster template entry \"%s\": give a whole number from 1 to %d",
					 item, SIM_TEMPLATE_MAX_NODES);
			break;
		}
		ret = sim_node_shape_parse(x + 1, &entry->shape, err);
		if (ret < 0)
			break;
		entry->count = (uint32_t)count;
		tmpl->n_entries++;
		total += (size_t)count;
		if (total > SIM_TEMPLATE_MAX_NODES)
			ret = score_fail(err, -EINVAL,
					 "cluster template \"%s\" has more than %d nodes",
					 text, SIM_TEMPLATE_MAX_NODES);
	}

	if (ret < 0)
		sim_template_release(tmpl);
	g_strfreev(items);
	return ret;
}

size_t sim_template_node_count(const sim_template *tmpl)
{
	size_t total = 0;

	for (size_t i = 0; i < tmpl->n_entries; i++)
		total += tmpl->entries[i].count;
	return total;
}

const sim_node_shape *sim_template_shape(const sim_template *tmpl, size_t i)
{
	for (size_t e = 0; e < tmpl->n_entries; e++) {
		if (i < tmpl->entries[e].count)
			return &tmpl->entries[e].shape;
		i -= tmpl->entries[e].count;
	}
	return NULL;
}

void sim_topology_labels(size_t i, uint32_t zones, uint32_t racks,
			 char *zone, size_t zone_size, char *rack,
			 size_t rack_size)
{
	uint32_t z = (uint32_t)(i % zones);
	uint32_t r = (uint32_t)((i / zones) % racks);

	g_snprintf(zone, zone_size, "zone-%c", 'a' + (int)z);
	g_snprintf(rack, rack_size, "zone-%c-rack-%u", 'a' + (int)z, r + 1);
}
