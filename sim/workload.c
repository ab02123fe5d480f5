/* Cluster and workload records from trace rows; see workload.h. */
#include "sim/workload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024LL * 1024)

static gint compare_node_rows(gconstpointer a, gconstpointer b)
{
	const sim_trace_node *const *x = a;
	const sim_trace_node *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static gint compare_pod_rows(gconstpointer a, gconstpointer b)
{
	const sim_trace_pod *const *x = a;
	const sim_trace_pod *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int sim_cluster_build(const sim_trace_nodes *rows, sim_cluster *cluster,
		      score_error *err)
{
	const sim_trace_node **sorted = g_new(const sim_trace_node *, rows->n);
	int ret = 0;

	memset(cluster, 0, sizeof(*cluster));
	score_gpu_models_init(&cluster->models);
	for (size_t i = 0; i < rows->n; i++)
		sorted[i] = &rows->items[i];
	qsort(sorted, rows->n, sizeof(*sorted), compare_node_rows);

	cluster->nodes = g_new0(score_gpu_node, rows->n);
	cluster->names = g_new0(char *, rows->n);
	for (size_t i = 0; i < rows->n; i++) {
		const sim_trace_node *row = sorted[i];
		int model = -1;

		if (i > 0 && strcmp(sorted[i - 1]->name, row->name) == 0) {
			ret = score_fail(err, -EINVAL,
					 "duplicate node name \"%s\" on lines %d and %d",
					 row->name, sorted[i - 1]->line, row->line);
			goto out;
		}
		if (row->model != NULL) {
			model = score_gpu_models_index(&cluster->models, row->model, err);
			if (model < 0) {
				ret = model;
				goto out;
			}
		}
		cluster->names[i] = g_strdup(row->name);
		score_gpu_node_init(&cluster->nodes[i], cluster->names[i],
				    row->cpu_milli, row->memory_mib * MIB, row->gpu,
				    model);
		cluster->total_gpus += cluster->nodes[i].n_devices;
		cluster->n_nodes = i + 1;
	}

out:
	g_free(sorted);
	if (ret < 0)
		sim_cluster_release(cluster);
	return ret;
}

void sim_cluster_release(sim_cluster *cluster)
{
	for (size_t i = 0; i < cluster->n_nodes; i++)
		g_free(cluster->names[i]);
	g_free(cluster->names);
	g_free(cluster->nodes);
	score_gpu_models_release(&cluster->models);
	memset(cluster, 0, sizeof(*cluster));
}

/* Numbers the distinct shapes in `workload`. */
static void number_shapes(sim_workload *workload)
{
	GHashTable *ids = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
						(GDestroyNotify)g_bytes_unref,
						NULL);

	workload->shapes = g_new(uint32_t, workload->n_pods);
	for (size_t i = 0; i < workload->n_pods; i++) {
		const score_gpu_pod *pod = &workload->pods[i];
		int64_t key[4] = {pod->cpu_milli, pod->gpu_count, pod->gpu_milli,
				  (int64_t)pod->gpu_models};
		GBytes *bytes = g_bytes_new(key, sizeof(key));
		gpointer id;

		if (g_hash_table_lookup_extended(ids, bytes, NULL, &id)) {
			workload->shapes[i] = GPOINTER_TO_UINT(id);
			g_bytes_unref(bytes);
			continue;
		}
		workload->shapes[i] = (uint32_t)workload->n_shapes++;
		g_hash_table_insert(ids, bytes, GUINT_TO_POINTER(workload->shapes[i]));
	}
	g_hash_table_destroy(ids);
}

int sim_workload_build(const sim_trace_pods *rows, sim_cluster *cluster,
		       sim_workload *workload, score_error *err)
{
	const sim_trace_pod **sorted = g_new(const sim_trace_pod *, rows->n);
	int ret = 0;

	memset(workload, 0, sizeof(*workload));
	for (size_t i = 0; i < rows->n; i++)
		sorted[i] = &rows->items[i];
	qsort(sorted, rows->n, sizeof(*sorted), compare_pod_rows);

	workload->pods = g_new0(score_gpu_pod, rows->n);
	workload->names = g_new0(char *, rows->n);
	for (size_t i = 0; i < rows->n; i++) {
		const sim_trace_pod *row = sorted[i];
		score_gpu_pod *pod = &workload->pods[i];

		workload->names[i] = g_strdup(row->name);
		workload->n_pods = i + 1;
		pod->cpu_milli = row->cpu_milli;
		pod->memory = row->memory_mib * MIB;
		pod->gpu_count = row->num_gpu;
		pod->gpu_milli = row->gpu_milli;
		/* A model list on a pod without GPUs restricts nothing: the
		 * GPU filter only looks at GPU pods. */
		if (row->num_gpu > 0) {
			ret = score_gpu_models_parse(&cluster->models, row->gpu_spec,
						     &pod->gpu_models, err);
			if (ret < 0) {
				score_error_prefix(err, "pod %s (line %d)", row->name,
						   row->line);
				goto out;
			}
		}
		ret = score_gpu_pod_validate(pod, err);
		if (ret < 0) {
			score_error_prefix(err, "pod %s (line %d)", row->name, row->line);
			goto out;
		}
		workload->requested_gpu_milli +=
			(int64_t)pod->gpu_count * pod->gpu_milli;
	}

	number_shapes(workload);
	ret = score_gpu_typical_new(workload->pods, workload->n_pods,
				    SIM_TYPICAL_COVERAGE_PCT, &workload->typical,
				    err);

out:
	g_free(sorted);
	if (ret < 0)
		sim_workload_release(workload);
	return ret;
}

void sim_workload_release(sim_workload *workload)
{
	for (size_t i = 0; i < workload->n_pods; i++)
		g_free(workload->names[i]);
	g_free(workload->names);
	g_free(workload->pods);
	g_free(workload->shapes);
	score_gpu_typical_free(workload->typical);
	memset(workload, 0, sizeof(*workload));
}
