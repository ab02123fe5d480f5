/* Tests for sim/template.c: node shapes, cluster templates and the zone
 * and rack rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/template.h"

Test(template, shape_parses_all_fields)
{
	sim_node_shape shape;
	score_error err = {0};

	cr_assert_eq(sim_node_shape_parse("32/256Gi/64/8/V100M32", &shape, &err), 0, "%s",
		     err.message);
	cr_assert_eq(shape.cpu_milli, 32000);
	cr_assert_eq(shape.memory, 256LL << 30);
	cr_assert_eq(shape.pods, 64);
	cr_assert_eq(shape.gpus, 8);
	cr_assert_str_eq(shape.gpu_model, "V100M32");
	cr_assert_str_eq(shape.name, "32c-256Gi-8xV100M32");
	sim_node_shape_release(&shape);

	cr_assert_eq(sim_node_shape_parse("3500m/8Gi", &shape, &err), 0, "%s", err.message);
	cr_assert_eq(shape.cpu_milli, 3500);
	cr_assert_eq(shape.pods, SIM_DEFAULT_MAX_PODS, "pods default to 110");
	cr_assert_eq(shape.gpus, 0);
	cr_assert_null(shape.gpu_model);
	sim_node_shape_release(&shape);
}

Test(template, shape_rejects_bad_fields)
{
	static const char *const bad[] = {
		"16", "0/64Gi", "16/-1Gi", "16/64Gi/0", "16/64Gi/110/17",
		"16/64Gi/110/0/T4", "16/64Gi/110/2/a|b", "16/64Gi/110/2/T4/x", "x/64Gi",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		sim_node_shape shape;
		score_error err = {0};

		cr_assert_lt(sim_node_shape_parse(bad[i], &shape, &err), 0, "\"%s\" is rejected",
			     bad[i]);
		cr_assert(strstr(err.message, bad[i]) != NULL, "message quotes \"%s\": %s", bad[i],
			  err.message);
	}
}

Test(template, template_counts_and_shapes)
{
	sim_template tmpl;
	score_error err = {0};

	cr_assert_eq(sim_template_parse("2x8/32Gi,3x16/64Gi", &tmpl, &err), 0, "%s",
		     err.message);
	cr_assert_eq(sim_template_node_count(&tmpl), 5);
	cr_assert_eq(sim_template_shape(&tmpl, 1)->cpu_milli, 8000, "node 1 of the first entry");
	cr_assert_eq(sim_template_shape(&tmpl, 2)->cpu_milli, 16000, "node 2 of the second");
	cr_assert_null(sim_template_shape(&tmpl, 5), "past the end");
	sim_template_release(&tmpl);

	cr_assert_lt(sim_template_parse("8/32Gi", &tmpl, &err), 0, "no count");
	cr_assert_lt(sim_template_parse("0x8/32Gi", &tmpl, &err), 0, "zero count");
	cr_assert_lt(sim_template_parse("2x8/32Gi,", &tmpl, &err), 0, "empty entry");
	cr_assert_lt(sim_template_parse("2000000x8/32Gi", &tmpl, &err), 0, "too many nodes");
	cr_assert_eq(sim_template_parse(SIM_DEFAULT_TEMPLATE, &tmpl, &err), 0,
		     "the default parses: %s", err.message);
	cr_assert_eq(sim_template_node_count(&tmpl), 50, "the default has 50 nodes");
	sim_template_release(&tmpl);
}

Test(template, zones_and_racks_round_robin)
{
	static const struct {
		size_t node;
		const char *zone;
		const char *rack;
	} cases[] = {
		{0, "zone-a", "zone-a-rack-1"}, {1, "zone-b", "zone-b-rack-1"},
		{2, "zone-c", "zone-c-rack-1"}, {3, "zone-a", "zone-a-rack-2"},
		{5, "zone-c", "zone-c-rack-2"}, {6, "zone-a", "zone-a-rack-1"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char zone[32];
		char rack[48];

		sim_topology_labels(cases[i].node, 3, 2, zone, sizeof(zone), rack, sizeof(rack));
		cr_assert_str_eq(zone, cases[i].zone, "node %zu zone", cases[i].node);
		cr_assert_str_eq(rack, cases[i].rack, "node %zu rack", cases[i].node);
	}
}
