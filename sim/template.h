/* Cluster templates for churn runs: node shapes written as
 *
 *   CPU/MEMORY[/PODS[/GPUS[/MODEL]]]      e.g. 16/64Gi, 32/256Gi/110/8/V100M32
 *
 * with CPU and MEMORY as Kubernetes quantities ("500m", "64Gi"), PODS the
 * pod capacity (110, kubelet's default, when left out), GPUS the number of
 * GPU devices and MODEL their model; and templates as a comma-separated
 * list of COUNTxSHAPE ("20x8/32Gi,10x32/128Gi").
 *
 * Topology labels follow a fixed rule: node i, counted over the whole
 * template from 0, is in zone i mod Z ("zone-a", "zone-b", ...) and, within
 * it, rack (i div Z) mod R ("zone-a-rack-1", ...). Neighbouring nodes thus
 * land in different zones, and each zone gets each shape in turn.
 */
#ifndef STOWAGE_SIM_TEMPLATE_H
#define STOWAGE_SIM_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/error.h"

#define SIM_DEFAULT_MAX_PODS 110
#define SIM_MAX_ZONES 26
#define SIM_TEMPLATE_MAX_NODES 1000000

/* The labels a simulated node carries. */
#define SIM_LABEL_HOSTNAME "kubernetes.io/hostname"
#define SIM_LABEL_ZONE "topology.kubernetes.io/zone"
#define SIM_LABEL_RACK "topology.stowage.io/rack"
#define SIM_LABEL_INSTANCE_TYPE "node.kubernetes.io/instance-type"

typedef struct sim_node_shape {
	char *name;        /* owned: "16c-64Gi", the instance-type label */
	int64_t cpu_milli;
	int64_t memory;    /* bytes */
	int64_t pods;
	int32_t gpus;      /* devices, 0..SCORE_GPU_MAX_DEVICES */
	char *gpu_model;   /* owned; NULL without GPUs */
} sim_node_shape;

typedef struct sim_template_entry {
	uint32_t count;
	sim_node_shape shape;
} sim_template_entry;

typedef struct sim_template {
	sim_template_entry *entries; /* owned */
	size_t n_entries;
} sim_template;

/* The default cluster of `stowage sim`: 50 nodes of three shapes. */
#define SIM_DEFAULT_TEMPLATE "20x8/32Gi,20x16/64Gi,10x32/128Gi"

/* Parses one shape. The message quotes the text and shows the form. On
 * success release it with sim_node_shape_release(). */
int sim_node_shape_parse(const char *text, sim_node_shape *shape,
			 score_error *err);
void sim_node_shape_release(sim_node_shape *shape);
void sim_node_shape_copy(const sim_node_shape *from, sim_node_shape *to);

/* Parses a template; at most SIM_TEMPLATE_MAX_NODES nodes in all. On
 * success release it with sim_template_release(). */
int sim_template_parse(const char *text, sim_template *tmpl, score_error *err);
void sim_template_release(sim_template *tmpl);

/* Returns the number of nodes in the template. */
size_t sim_template_node_count(const sim_template *tmpl);

/* Returns the shape of node `i`: the template lists its entries in order,
 * so node 0 has the first entry's shape. Borrowed. */
const sim_node_shape *sim_template_shape(const sim_template *tmpl, size_t i);

/* Writes the zone and rack label values of node `i` in a cluster of
 * `zones` zones (1..SIM_MAX_ZONES) and `racks` racks per zone (>= 1). */
void sim_topology_labels(size_t i, uint32_t zones, uint32_t racks,
			 char *zone, size_t zone_size, char *rack,
			 size_t rack_size);

#endif
