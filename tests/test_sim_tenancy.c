/* Tests for sim/tenancy.c: co-residency counts as pods of trusted and
 * untrusted tenants come and go, tenants from namespace labels, and
 * infrastructure namespaces and pods without a tenant counting for none. */
#include <criterion/criterion.h>

#include <glib.h>

#include "scoring/isolation.h"
#include "scoring/model.h"
#include "sim/tenancy.h"

TestSuite(tenancy, .timeout = 60);

typedef struct fixture {
	score_resource_table *resources;
	score_model *model;
	score_isolation_config isolation;
	sim_tenancy *tenancy;
	GPtrArray *pods; /* score_pod *, owned */
} fixture;

static void fixture_init(fixture *f)
{
	f->resources = score_resource_table_new();
	f->model = score_model_new(f->resources);
	score_isolation_init(&f->isolation);
	/* a and b trust each other, and c trusts no tenant. */
	score_isolation_add_trust(&f->isolation, "a", "b");
	score_isolation_add_trust(&f->isolation, "b", "a");
	f->tenancy = sim_tenancy_new(&f->isolation, f->model, false);
	f->pods = g_ptr_array_new_with_free_func((GDestroyNotify)score_pod_free);
	for (int i = 0; i < 3; i++) {
		score_node *node = score_node_new();
		char name[16];

		g_snprintf(name, sizeof(name), "n%d", i);
		node->name = score_intern(name);
		score_model_put_node(f->model, node);
	}
}

static void fixture_release(fixture *f)
{
	sim_tenancy_free(f->tenancy);
	g_ptr_array_free(f->pods, TRUE);
	score_isolation_release(&f->isolation);
	score_model_free(f->model);
	score_resource_table_free(f->resources);
}

/* A pod in namespace `ns` with the tenant label `tenant` (NULL for none). */
static const score_pod *pod_of(fixture *f, const char *ns, const char *tenant)
{
	score_pod *pod = score_pod_new();

	pod->namespace = score_intern(ns);
	if (tenant != NULL)
		score_labels_set(&pod->labels, SCORE_DEFAULT_TENANT_LABEL, tenant);
	g_ptr_array_add(f->pods, pod);
	return pod;
}

static const score_node *node_of(fixture *f, const char *name)
{
	return score_model_node(f->model, name);
}

static void assert_counts(fixture *f, uint32_t shared, uint32_t pairs, uint32_t untrusted)
{
	sim_tenancy_counts counts;

	sim_tenancy_counts_now(f->tenancy, &counts);
	cr_assert_eq(counts.shared_nodes, shared, "shared nodes: expected %u, got %u", shared,
		     counts.shared_nodes);
	cr_assert_eq(counts.tenant_pairs, pairs, "tenant pairs: expected %u, got %u", pairs,
		     counts.tenant_pairs);
	cr_assert_eq(counts.untrusted_pairs, untrusted, "untrusted pairs: expected %u, got %u",
		     untrusted, counts.untrusted_pairs);
}

Test(tenancy, pairs_follow_binds_and_unbinds)
{
	fixture f;
	const score_pod *a1;
	const score_pod *a2;
	const score_pod *b1;
	const score_pod *c1;

	fixture_init(&f);
	a1 = pod_of(&f, "ns-a", "a");
	a2 = pod_of(&f, "ns-a", "a");
	b1 = pod_of(&f, "ns-b", "b");
	c1 = pod_of(&f, "ns-c", "c");

	cr_assert_eq(sim_tenancy_bind(f.tenancy, a1, node_of(&f, "n0")), 0);
	cr_assert_eq(sim_tenancy_bind(f.tenancy, a2, node_of(&f, "n0")), 0, "same tenant");
	assert_counts(&f, 0, 0, 0);
	cr_assert_eq(sim_tenancy_bind(f.tenancy, b1, node_of(&f, "n0")), 0,
		     "b and a trust each other");
	assert_counts(&f, 1, 1, 0);
	cr_assert_eq(sim_tenancy_bind(f.tenancy, c1, node_of(&f, "n0")), 2,
		     "c meets two untrusted tenants");
	assert_counts(&f, 1, 3, 2);

	sim_tenancy_unbind(f.tenancy, a1, node_of(&f, "n0"));
	assert_counts(&f, 1, 3, 2);
	sim_tenancy_unbind(f.tenancy, a2, node_of(&f, "n0"));
	assert_counts(&f, 1, 1, 1);
	sim_tenancy_unbind(f.tenancy, c1, node_of(&f, "n0"));
	assert_counts(&f, 0, 0, 0);

	cr_assert_eq(sim_tenancy_pairs_seen(f.tenancy), 3, "a-b, a-c, b-c were seen");
	cr_assert_eq(sim_tenancy_untrusted_pairs_seen(f.tenancy), 2);
	cr_assert_eq(sim_tenancy_tenants_seen(f.tenancy), 3);
	fixture_release(&f);
}

Test(tenancy, pair_counts_nodes_once_each)
{
	fixture f;
	const score_pod *a1;
	const score_pod *a2;
	const score_pod *c1;
	const score_pod *c2;

	fixture_init(&f);
	a1 = pod_of(&f, "ns-a", "a");
	a2 = pod_of(&f, "ns-a", "a");
	c1 = pod_of(&f, "ns-c", "c");
	c2 = pod_of(&f, "ns-c", "c");
	sim_tenancy_bind(f.tenancy, a1, node_of(&f, "n0"));
	sim_tenancy_bind(f.tenancy, c1, node_of(&f, "n0"));
	sim_tenancy_bind(f.tenancy, a2, node_of(&f, "n1"));
	cr_assert_eq(sim_tenancy_bind(f.tenancy, c2, node_of(&f, "n1")), 1);
	assert_counts(&f, 2, 1, 1);
	sim_tenancy_unbind(f.tenancy, c1, node_of(&f, "n0"));
	assert_counts(&f, 1, 1, 1);
	sim_tenancy_unbind(f.tenancy, c2, node_of(&f, "n1"));
	assert_counts(&f, 0, 0, 0);
	fixture_release(&f);
}

Test(tenancy, exempt_pods_count_for_none)
{
	fixture f;
	const score_pod *a1;
	const score_pod *system;
	const score_pod *plain;
	score_labels labels = {0};
	const score_pod *from_namespace;

	fixture_init(&f);
	a1 = pod_of(&f, "ns-a", "a");
	system = pod_of(&f, "kube-system", "c");
	plain = pod_of(&f, "ns-x", NULL);
	score_labels_set(&labels, SCORE_DEFAULT_TENANT_LABEL, "c");
	score_model_put_namespace(f.model, "ns-labelled", &labels);
	score_labels_release(&labels);
	from_namespace = pod_of(&f, "ns-labelled", NULL);

	sim_tenancy_bind(f.tenancy, a1, node_of(&f, "n2"));
	cr_assert_eq(sim_tenancy_bind(f.tenancy, system, node_of(&f, "n2")), 0);
	cr_assert_eq(sim_tenancy_bind(f.tenancy, plain, node_of(&f, "n2")), 0);
	assert_counts(&f, 0, 0, 0);
	cr_assert_null(sim_tenancy_pod_tenant(f.tenancy, system), "kube-system is exempt");
	cr_assert_str_eq(sim_tenancy_pod_tenant(f.tenancy, from_namespace), "c",
			 "the namespace's label names the tenant");
	cr_assert_eq(sim_tenancy_bind(f.tenancy, from_namespace, node_of(&f, "n2")), 1);
	assert_counts(&f, 1, 1, 1);
	fixture_release(&f);
}

Test(tenancy, default_rules_trust_nobody)
{
	fixture f;
	sim_tenancy *plain;
	const score_pod *a1;
	const score_pod *b1;
	sim_tenancy_counts counts;

	fixture_init(&f);
	plain = sim_tenancy_new(NULL, f.model, false);
	a1 = pod_of(&f, "ns-a", "a");
	b1 = pod_of(&f, "ns-b", "b");
	sim_tenancy_bind(plain, a1, node_of(&f, "n0"));
	cr_assert_eq(sim_tenancy_bind(plain, b1, node_of(&f, "n0")), 1);
	sim_tenancy_counts_now(plain, &counts);
	cr_assert_eq(counts.untrusted_pairs, 1, "no trust without a policy, got %u",
		     counts.untrusted_pairs);
	sim_tenancy_free(plain);
	fixture_release(&f);
}
