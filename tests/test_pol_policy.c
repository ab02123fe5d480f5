/* Tests for the policy parser (policies/policy.c, reader.c, isolation.c,
 * topology.c, yaml.c): typed results of valid policies, and the exact
 * FILE:LINE:COLUMN messages for malformed ones. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policies/policy.h"

static score_resource_table *resources;

static void setup(void)
{
	resources = score_resource_table_new();
}

static void teardown(void)
{
	score_resource_table_free(resources);
}

TestSuite(policy, .init = setup, .fini = teardown);

#define HEADER \
	"apiVersion: stowage.io/v1alpha1\n" \
	"kind: SchedulingPolicy\n" \
	"metadata:\n" \
	"  name: test\n"

static void print_lines(const char *title, const GPtrArray *lines)
{
	for (guint i = 0; i < lines->len; i++)
		cr_log_info("%s: %s", title,
			    (const char *)g_ptr_array_index(lines, i));
}

static pol_policy *parse_ok(const char *text)
{
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	score_error err = {0};
	int rc;

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text, strlen(text), resources, &policy,
			      &diagnostics, &err);
	print_lines("error", diagnostics.errors);
	cr_assert_eq(rc, 0, "parse failed with %d: %s", rc, err.message);
	cr_assert_not_null(policy);
	pol_diagnostics_release(&diagnostics);
	return policy;
}

/* Parses `text`, expects failure, and compares every error in order. */
static void expect_errors(const char *text, const char *const *expected)
{
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	score_error err = {0};
	size_t n = 0;
	int rc;

	while (expected[n] != NULL)
		n++;
	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text, strlen(text), resources, &policy,
			      &diagnostics, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_null(policy, "a failed parse must not return a policy");
	print_lines("got", diagnostics.errors);
	cr_assert_eq(diagnostics.errors->len, n, "expected %zu errors, got %u", n,
		     diagnostics.errors->len);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(g_ptr_array_index(diagnostics.errors, i),
				 expected[i], "error %zu:\n  got      %s\n  expected %s",
				 i, (const char *)g_ptr_array_index(diagnostics.errors, i),
				 expected[i]);
	if (n == 1) {
		cr_assert_str_eq(err.message, expected[0],
				 "err must hold the only error");
	} else {
		char *summary = g_strdup_printf("%s (and %zu more errors)",
						expected[0], n - 1);

		cr_assert_str_eq(err.message, summary,
				 "err must hold the first error and the count");
		g_free(summary);
	}
	pol_diagnostics_release(&diagnostics);
}

static void expect_error(const char *text, const char *expected)
{
	const char *const list[] = {expected, NULL};

	expect_errors(text, list);
}

/* ---- Valid policies -------------------------------------------------------- */

Test(policy, minimal_policy_keeps_defaults)
{
	pol_policy *policy = parse_ok(HEADER "spec: {}\n");
	const pol_weights *weights = pol_policy_weights(policy);
	const score_contention_config *contention = pol_policy_contention(policy);
	const score_pipeline *pipeline = pol_policy_pipeline(policy);

	cr_assert_str_eq(pol_policy_name(policy), "test");
	cr_assert_str_eq(pol_policy_source(policy), "p.yaml");
	cr_assert_eq(strlen(pol_policy_digest(policy)), 64, "SHA-256 in hex");
	cr_assert_eq(weights->contention, 1, "contention weight %lld",
		     (long long)weights->contention);
	cr_assert_eq(weights->isolation, 1);
	cr_assert_eq(contention->strategy, SCORE_LEAST_ALLOCATED);
	cr_assert(contention->reject_not_ready);
	cr_assert(!pol_policy_isolation(policy)->tenants_enabled);
	cr_assert(!pol_policy_topology(policy)->present);

	/* NodeUnschedulable, TaintToleration, NodeResourcesFit, NodePorts;
	 * LeastAllocated and BalancedAllocation. */
	cr_assert_eq(pipeline->n_filters, 4, "filters %zu", pipeline->n_filters);
	cr_assert_str_eq(pipeline->filters[3].name, "NodePorts");
	cr_assert_eq(pipeline->n_scorers, 2, "scorers %zu", pipeline->n_scorers);
	pol_policy_unref(policy);
}

static const char full_policy[] =
	HEADER
	"spec:\n"
	"  weights: {contention: 2, isolation: 5, locality: 0, spread: 3}\n"
	"  contention:\n"
	"    strategy: RequestedToCapacityRatio\n"
	"    resources:\n"
	"    - {name: cpu, weight: 3}\n"
	"    - {name: nvidia.com/gpu}\n"
	"    shape:\n"
	"    - {utilization: 0, score: 10}\n"
	"    - {utilization: 80, score: 2}\n"
	"    balancedResources: [{name: cpu}, {name: memory, weight: 2}]\n"
	"    ceilings: {cpu: 90, memory: 85}\n"
	"    rejectNotReady: false\n"
	"  tenants:\n"
	"    tenantLabel: example.com/team\n"
	"    tenantSource: pod\n"
	"    mode: preferred\n"
	"    names: [alpha, beta, pci]\n"
	"    infrastructureNamespaces: [kube-system, monitoring]\n"
	"    trust:\n"
	"    - {tenant: alpha, trusts: [beta]}\n"
	"    - {tenant: beta, trusts: [alpha]}\n"
	"    dedicatedPools:\n"
	"    - tenant: pci\n"
	"      nodeSelector:\n"
	"        matchLabels: {pool: pci}\n"
	"        matchExpressions:\n"
	"        - {key: zone, operator: NotIn, values: [z9]}\n"
	"  sandbox:\n"
	"    runtimeClassNames: [gvisor, kata-qemu]\n"
	"    allowSharingWithUnsandboxed: true\n"
	"  securityGroups:\n"
	"  - name: web\n"
	"    podSelector: {matchLabels: {app: web}}\n"
	"    exposure:\n"
	"    - {protocol: TCP, ports: 443, from: world}\n"
	"    - {protocol: UDP, ports: \"8000-8100\", from: [api]}\n"
	"  - name: api\n"
	"    podSelector: {}\n"
	"    namespaceSelector: {matchExpressions: [{key: env, operator: Exists}]}\n"
	"  - name: db\n"
	"    podSelector: {matchLabels: {app: db}}\n"
	"  separation:\n"
	"  - {groups: [web, db], mode: hard}\n"
	"  - {groups: [api, db, web], mode: soft}\n"
	"  topology:\n"
	"    levels:\n"
	"    - {key: topology.stowage.io/rack, cost: 1}\n"
	"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
	"    - {key: topology.kubernetes.io/region, cost: 20}\n"
	"    defaultCost: 100\n"
	"    zonePairs: [{zones: [a, b], cost: 6}]\n"
	"    regionPairs: [{regions: [eu, us], cost: 80}]\n"
	"  locality:\n"
	"    groups:\n"
	"    - name: storefront\n"
	"      members:\n"
	"      - securityGroup: web\n"
	"      - podSelector: {matchLabels: {app: cart}}\n"
	"      maxCost: 4\n"
	"      mode: hard\n"
	"    networkPolicies: {maxCost: 20}\n";

Test(policy, full_policy_typed)
{
	pol_policy *policy = parse_ok(full_policy);
	const pol_weights *weights = pol_policy_weights(policy);
	const score_contention_config *contention = pol_policy_contention(policy);
	int gpu = score_resource_find(resources, "nvidia.com/gpu");

	cr_assert_eq(weights->contention, 2);
	cr_assert_eq(weights->isolation, 5);
	cr_assert_eq(weights->locality, 0);
	cr_assert_eq(weights->spread, 3);

	cr_assert_eq(contention->strategy, SCORE_REQUESTED_TO_CAPACITY_RATIO);
	cr_assert_eq(contention->n_resources, 2, "resources %zu",
		     contention->n_resources);
	cr_assert_eq(contention->resources[0].index, SCORE_RES_CPU);
	cr_assert_eq(contention->resources[0].weight, 3);
	cr_assert_geq(gpu, SCORE_RES_FIRST_EXTENDED, "gpu slot %d", gpu);
	cr_assert_eq(contention->resources[1].index, gpu);
	cr_assert_eq(contention->resources[1].weight, 1, "absent weight is 1");
	cr_assert_eq(contention->n_shape, 2);
	cr_assert_eq(contention->shape[1].utilization, 80);
	cr_assert_eq(contention->shape[1].score, 2);
	cr_assert_eq(contention->n_balanced_resources, 2);
	cr_assert_eq(contention->balanced_resources[1].index, SCORE_RES_MEMORY);
	cr_assert_eq(contention->balanced_resources[1].weight, 2);
	cr_assert_eq(contention->ceiling_percent[SCORE_RES_CPU], 90);
	cr_assert_eq(contention->ceiling_percent[SCORE_RES_MEMORY], 85);
	cr_assert(!contention->reject_not_ready);
	pol_policy_unref(policy);
}

Test(policy, full_policy_isolation)
{
	pol_policy *policy = parse_ok(full_policy);
	const score_isolation_config *isolation = pol_policy_isolation(policy);
	const score_pipeline *pipeline = pol_policy_pipeline(policy);
	const char *alpha = score_intern("alpha");
	const char *beta = score_intern("beta");
	const pol_exposure *exposures;
	GString *text = g_string_new(NULL);
	size_t n_exposures;

	cr_assert(isolation->tenants_enabled);
	cr_assert_eq(isolation->tenancy, SCORE_TENANCY_PREFERRED);
	cr_assert_str_eq(isolation->tenant_label, "example.com/team");
	cr_assert_eq(isolation->tenant_source, SCORE_TENANT_FROM_POD);
	cr_assert_eq(isolation->infrastructure_namespaces->len, 2);
	cr_assert(score_isolation_trusts(isolation, alpha, beta));
	cr_assert(score_isolation_trusts(isolation, beta, alpha));

	cr_assert_eq(isolation->n_pools, 1);
	cr_assert_str_eq(isolation->pools[0].tenant, "pci");
	cr_assert_str_eq(isolation->pools[0].rule, "spec.tenants.dedicatedPools[0]");
	score_selector_format(&isolation->pools[0].node_selector, text);
	cr_assert_str_eq(text->str, "pool=pci,zone notin (z9)");

	cr_assert(isolation->sandbox_enabled);
	cr_assert_eq(isolation->sandbox_runtime_classes->len, 2);
	cr_assert(isolation->allow_sharing_with_unsandboxed);

	cr_assert_eq(isolation->n_groups, 3);
	cr_assert_str_eq(isolation->groups[2].name, "db");
	cr_assert(isolation->groups[1].has_namespace_selector);
	cr_assert_eq(isolation->n_separations, 2);
	cr_assert_eq(isolation->separations[0].groups, 0x5, "web|db, got %#llx",
		     (unsigned long long)isolation->separations[0].groups);
	cr_assert(isolation->separations[0].hard);
	cr_assert_eq(isolation->separations[1].groups, 0x7);
	cr_assert(!isolation->separations[1].hard);

	exposures = pol_policy_exposures(policy, &n_exposures);
	cr_assert_eq(n_exposures, 2, "exposures %zu", n_exposures);
	cr_assert(exposures[0].from_world);
	cr_assert_eq(exposures[0].first_port, 443);
	cr_assert_eq(exposures[0].last_port, 443);
	cr_assert_eq(exposures[1].protocol, SCORE_PROTOCOL_UDP);
	cr_assert_eq(exposures[1].first_port, 8000);
	cr_assert_eq(exposures[1].last_port, 8100);
	cr_assert_eq(exposures[1].from_groups, 0x2, "from api");

	/* Contention's 4 filters (with the ceiling), NodePorts, Isolation
	 * (pools and hard separation), Locality (a hard group); 2 contention
	 * scorers and Isolation, since the locality weight is 0. */
	cr_assert_eq(pipeline->n_filters, 7, "filters %zu", pipeline->n_filters);
	cr_assert_str_eq(pipeline->filters[5].name, "Isolation");
	cr_assert_str_eq(pipeline->filters[6].name, "Locality");
	cr_assert_eq(pipeline->n_scorers, 3, "scorers %zu", pipeline->n_scorers);
	cr_assert_eq(pipeline->scorers[0].weight, 2);
	cr_assert_eq(pipeline->scorers[2].weight, 5);

	score_unintern(alpha);
	score_unintern(beta);
	g_string_free(text, TRUE);
	pol_policy_unref(policy);
}

Test(policy, full_policy_topology_and_locality)
{
	pol_policy *policy = parse_ok(full_policy);
	const pol_topology *topology = pol_policy_topology(policy);
	const pol_locality *locality = pol_policy_locality(policy);

	cr_assert(topology->present);
	cr_assert_eq(topology->n_levels, 3);
	cr_assert_str_eq(topology->levels[0].key, "topology.stowage.io/rack");
	cr_assert_eq(topology->levels[2].cost, 20);
	cr_assert_eq(topology->default_cost, 100);
	cr_assert_str_eq(topology->zone_label, "topology.kubernetes.io/zone");
	cr_assert_eq(topology->n_zone_pairs, 1);
	cr_assert_str_eq(topology->zone_pairs[0].second, "b");
	cr_assert_eq(topology->region_pairs[0].cost, 80);

	cr_assert_eq(locality->n_groups, 1);
	cr_assert_str_eq(locality->groups[0].name, "storefront");
	cr_assert_eq(locality->groups[0].n_members, 2);
	cr_assert_eq(locality->groups[0].members[0].security_group, 0);
	cr_assert_eq(locality->groups[0].members[1].security_group, -1);
	cr_assert(locality->groups[0].members[1].has_pod_selector);
	cr_assert(locality->groups[0].hard);
	cr_assert_eq(locality->groups[0].max_cost, 4);
	cr_assert(locality->network_policies);
	cr_assert_eq(locality->network_policy_max_cost, 20);
	pol_policy_unref(policy);
}

Test(policy, summary_line)
{
	pol_policy *policy = parse_ok(full_policy);
	GString *summary = g_string_new(NULL);

	pol_policy_summary(policy, summary);
	cr_assert_str_eq(summary->str,
			 "policy \"test\" is valid: tenants in mode preferred (label example.com/team) with 1 dedicated pool; 2 sandboxed RuntimeClasses; 3 security groups, 2 separation rules (1 hard); topology 3 levels, 1 locality group, peers from NetworkPolicies; weights contention 2, isolation 5, locality 0, spread 3, bandwidth 1");
	g_string_free(summary, TRUE);
	pol_policy_unref(policy);
}

Test(policy, references_keep_policy_alive)
{
	pol_policy *policy = parse_ok(HEADER "spec: {}\n");
	pol_policy *second = pol_policy_ref(policy);

	cr_assert_eq(second, policy);
	pol_policy_unref(policy);
	cr_assert_str_eq(pol_policy_name(second), "test",
			 "one reference remains");
	pol_policy_unref(second);
	pol_policy_unref(NULL);
}

Test(policy, one_sided_trust_warns)
{
	const char *text = HEADER
		"spec:\n"
		"  tenants:\n"
		"    names: [alpha, beta]\n"
		"    trust:\n"
		"    - {tenant: alpha, trusts: [beta]}\n";
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	int rc;

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text, strlen(text), resources, &policy,
			      &diagnostics, NULL);
	cr_assert_eq(rc, 0, "a warning does not fail the parse");
	cr_assert_eq(diagnostics.warnings->len, 1, "warnings %u",
		     diagnostics.warnings->len);
	cr_assert_str_eq(g_ptr_array_index(diagnostics.warnings, 0),
			 "p.yaml:9:32: warning: spec.tenants.trust[0].trusts[0]: tenant \"alpha\" trusts \"beta\", but \"beta\" does not trust \"alpha\"; two tenants share a node only when each trusts the other, so this entry has no effect yet");
	pol_policy_unref(policy);
	pol_diagnostics_release(&diagnostics);
}

/* ---- ConfigMaps ------------------------------------------------------------ */

static const char configmap_head[] =
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata:\n"
	"  name: stowage-policy\n"
	"  namespace: stowage-system\n"
	"data:\n";

Test(policy, configmap_literal_block)
{
	char *text = g_strconcat(configmap_head,
				 "  policy.yaml: |\n"
				 "    " "apiVersion: stowage.io/v1alpha1\n"
				 "    kind: SchedulingPolicy\n"
				 "    metadata: {name: from-configmap}\n"
				 "    spec: {}\n", NULL);
	pol_policy *policy = parse_ok(text);

	cr_assert_str_eq(pol_policy_name(policy), "from-configmap");
	pol_policy_unref(policy);
	g_free(text);
}

Test(policy, configmap_error_positions_map_to_file)
{
	/* The bad value sits on line 12 of the file, column 30. */
	char *text = g_strconcat(configmap_head,
				 "  other.txt: hello\n"
				 "  policy.yaml: |\n"
				 "    apiVersion: stowage.io/v1alpha1\n"
				 "    kind: SchedulingPolicy\n"
				 "    metadata: {name: p}\n"
				 "    spec: {weights: {spread: 500}}\n", NULL);

	expect_error(text,
		     "p.yaml:12:30: spec.weights.spread: invalid value 500: expected an integer from 0 to 100");
	g_free(text);
}

Test(policy, configmap_quoted_value_points_at_value)
{
	char *text = g_strconcat(configmap_head,
				 "  policy.yaml: \"apiVersion: stowage.io/v1alpha1\\nkind: SchedulingPolicy\\nmetadata: {name: p}\\nspec: {bogus: 1}\\n\"\n",
				 NULL);

	expect_error(text,
		     "p.yaml:7:16: spec: unknown field \"bogus\": expected one of weights, contention, tenants, sandbox, securityGroups, separation, topology, locality, bandwidth, spread (at line 4, column 8 of the policy text in data.\"policy.yaml\")");
	g_free(text);
}

Test(policy, configmap_without_policy_key)
{
	char *text = g_strconcat(configmap_head, "  a: x\n  b: y\n", NULL);

	expect_error(text,
		     "p.yaml:7:3: data: no key \"policy.yaml\" among \"a\", \"b\"; put the policy under data.\"policy.yaml\"");
	g_free(text);
}

Test(policy, configmap_single_other_key_is_used)
{
	char *text = g_strconcat(configmap_head,
				 "  custom.yaml: |\n"
				 "    apiVersion: stowage.io/v1alpha1\n"
				 "    kind: SchedulingPolicy\n"
				 "    metadata: {name: only-key}\n"
				 "    spec: {}\n", NULL);
	pol_policy *policy = parse_ok(text);

	cr_assert_str_eq(pol_policy_name(policy), "only-key");
	pol_policy_unref(policy);
	g_free(text);
}

/* ---- Malformed files ------------------------------------------------------- */

Test(policy, empty_file)
{
	expect_error("", "p.yaml:1:1: the file is empty: expected a SchedulingPolicy with apiVersion stowage.io/v1alpha1, or a ConfigMap holding one");
	expect_error("# nothing here\n\n",
		     "p.yaml:1:1: the file is empty: expected a SchedulingPolicy with apiVersion stowage.io/v1alpha1, or a ConfigMap holding one");
}

Test(policy, yaml_syntax_error)
{
	expect_error(HEADER "spec:\n  weights: {contention: 1\n",
		     "p.yaml:7:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 6, column 12)");
}

Test(policy, duplicate_key)
{
	expect_error(HEADER "spec:\n  weights: {}\n  weights: {}\n",
		     "p.yaml:7:3: duplicate key \"weights\": it first appears at line 6, column 3, and keys of a mapping must be unique");
}

Test(policy, second_document)
{
	expect_error(HEADER "spec: {}\n---\n" HEADER "spec: {}\n",
		     "p.yaml:6:1: a second YAML document starts here, but a policy file holds exactly one");
}

Test(policy, aliases_rejected)
{
	expect_error(HEADER "spec:\n  weights: &w {contention: 1}\n  contention: *w\n",
		     "p.yaml:7:15: aliases (*w) are not supported in a policy file: write the value out");
}

Test(policy, header_errors)
{
	const char *const expected[] = {
		"p.yaml:1:13: apiVersion: unsupported apiVersion \"stowage.io/v1\" for kind SchedulingPolicy: this stowage reads stowage.io/v1alpha1",
		"p.yaml:3:18: metadata.name: invalid name \"Bad_Name\": use lowercase letters, digits, '-' and '.', with a letter or digit at each end of every dot-separated part",
		NULL,
	};

	expect_errors("apiVersion: stowage.io/v1\nkind: SchedulingPolicy\n"
		      "metadata: {name: Bad_Name}\nspec: {}\n",
		      expected);
	expect_error("apiVersion: stowage.io/v1alpha1\nkind: Policy\nspec: {}\n",
		     "p.yaml:2:7: kind: unsupported kind \"Policy\": expected SchedulingPolicy, or a ConfigMap holding one");
	expect_error("apiVersion: stowage.io/v1alpha1\nkind: SchedulingPolicy\nspec: {}\n",
		     "p.yaml:1:1: missing field \"metadata\": give metadata.name, the policy's name in logs");
	expect_error("- a\n- b\n",
		     "p.yaml:1:1: expected a mapping of fields, got a sequence");
}

Test(policy, unknown_fields)
{
	const char *const expected[] = {
		"p.yaml:6:3: spec: unknown field \"weight\": expected one of weights, contention, tenants, sandbox, securityGroups, separation, topology, locality, bandwidth, spread",
		"p.yaml:8:5: spec.tenants: unknown field \"tenantlabel\": did you mean \"tenantLabel\"? Field names are case-sensitive",
		NULL,
	};

	expect_errors(HEADER "spec:\n  weight: {}\n  tenants:\n    tenantlabel: team\n",
		      expected);
}

Test(policy, wrong_types)
{
	const char *const expected[] = {
		"p.yaml:6:24: spec.weights.isolation: expected an integer from 0 to 100, got a string",
		"p.yaml:8:21: spec.contention.rejectNotReady: expected true or false, got the string \"yes\": YAML 1.2 reads yes, no, on and off as strings",
		"p.yaml:9:17: spec.contention.resources[0]: missing field \"name\": name the resource, e.g. cpu, memory or nvidia.com/gpu",
		"p.yaml:11:11: spec.tenants.mode: expected a string, got an integer; quote the value to make it a string",
		"p.yaml:12:12: spec.tenants.names: expected a sequence (a YAML list), got a string",
		"p.yaml:13:12: spec.tenants.trust: expected a sequence (a YAML list), got a mapping",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  weights: {isolation: \"3\"}\n"
		      "  contention:\n"
		      "    rejectNotReady: yes\n"
		      "    resources: [{name: ~}]\n"
		      "  tenants:\n"
		      "    mode: 3\n"
		      "    names: alpha\n"
		      "    trust: {tenant: alpha}\n",
		      expected);
}

Test(policy, invalid_enum_values)
{
	const char *const expected[] = {
		"p.yaml:7:15: spec.contention.strategy: invalid value \"leastAllocated\": expected LeastAllocated, MostAllocated or RequestedToCapacityRatio",
		"p.yaml:9:11: spec.tenants.mode: invalid value \"hard\": expected none, strict or preferred",
		NULL,
	};

	expect_errors(HEADER "spec:\n  contention:\n    strategy: leastAllocated\n"
		      "  tenants:\n    mode: hard\n",
		      expected);
}

Test(policy, unknown_tenants)
{
	const char *const expected[] = {
		"p.yaml:9:38: spec.tenants.trust[0].trusts[1]: unknown tenant \"gama\": declare it in spec.tenants.names or fix the name",
		"p.yaml:10:16: spec.tenants.trust[1].tenant: unknown tenant \"delta\": declare it in spec.tenants.names or fix the name",
		"p.yaml:12:15: spec.tenants.dedicatedPools[0].tenant: unknown tenant \"pci\": declare it in spec.tenants.names or fix the name",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  tenants:\n"
		      "    names: [alpha, beta]\n"
		      "    trust:\n"
		      "    - {tenant: alpha, trusts: [beta, gama]}\n"
		      "    - {tenant: delta, trusts: [alpha]}\n"
		      "    dedicatedPools:\n"
		      "    - tenant: pci\n"
		      "      nodeSelector: {matchLabels: {pool: pci}}\n",
		      expected);
}

Test(policy, undeclared_tenants_suggest_names)
{
	expect_error(HEADER "spec:\n  tenants:\n    trust: [{tenant: alpha, trusts: []}]\n",
		     "p.yaml:7:22: spec.tenants.trust[0].tenant: unknown tenant \"alpha\": declare the tenants in spec.tenants.names, e.g. names: [alpha]");
}

Test(policy, trust_mistakes)
{
	const char *const expected[] = {
		"p.yaml:7:26: spec.tenants.names[2]: tenant \"alpha\" is declared twice; the first is at line 7, column 13",
		"p.yaml:9:32: spec.tenants.trust[0].trusts[0]: tenant \"alpha\" lists itself: pods of one tenant always share nodes, so remove it",
		"p.yaml:9:45: spec.tenants.trust[0].trusts[2]: tenant \"beta\" is listed twice",
		"p.yaml:10:16: spec.tenants.trust[1].tenant: tenant \"alpha\" already has a trust entry at line 9, column 16; merge the two lists",
		"p.yaml:11:7: spec.tenants.trust[2]: missing field \"trusts\": list the tenants this tenant accepts on its nodes",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  tenants:\n"
		      "    names: [alpha, beta, alpha]\n"
		      "    trust:\n"
		      "    - {tenant: alpha, trusts: [alpha, beta, beta]}\n"
		      "    - {tenant: alpha, trusts: []}\n"
		      "    - {tenant: beta}\n",
		      expected);
}

Test(policy, unknown_security_groups)
{
	const char *const expected[] = {
		"p.yaml:10:27: spec.securityGroups[0].exposure[0].from[0]: unknown security group \"apy\": declare it in spec.securityGroups or fix the name",
		"p.yaml:14:20: spec.separation[0].groups[1]: unknown security group \"dbs\": declare it in spec.securityGroups or fix the name",
		"p.yaml:15:13: spec.separation[1].groups: a separation rule needs at least two different groups, got 1",
		"p.yaml:17:20: spec.separation[2].groups[1]: security group \"web\" is listed twice",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  securityGroups:\n"
		      "  - name: web\n"
		      "    podSelector: {matchLabels: {app: web}}\n"
		      "    exposure:\n"
		      "    - {ports: 443, from: [apy]}\n"
		      "  - name: api\n"
		      "    podSelector: {matchLabels: {app: api}}\n"
		      "  separation:\n"
		      "  - {groups: [web, dbs], mode: hard}\n"
		      "  - groups: [web]\n"
		      "    mode: soft\n"
		      "  - {groups: [web, web], mode: soft}\n",
		      expected);
}

Test(policy, invalid_port_ranges)
{
	const char *const expected[] = {
		"p.yaml:10:15: spec.securityGroups[0].exposure[0].ports: invalid value 0: expected an integer from 1 to 65535",
		"p.yaml:11:15: spec.securityGroups[0].exposure[1].ports: invalid port range \"70000\": expected a port from 1 to 65535, such as \"443\", or two joined by '-', such as \"8000-8080\"",
		"p.yaml:12:15: spec.securityGroups[0].exposure[2].ports: invalid port range \"80-\": expected a port from 1 to 65535, such as \"443\", or two joined by '-', such as \"8000-8080\"",
		"p.yaml:13:15: spec.securityGroups[0].exposure[3].ports: invalid port range \"9090-8080\": the first port must not be above the last",
		"p.yaml:14:15: spec.securityGroups[0].exposure[4].ports: invalid port range \"1-2-3\": expected a port from 1 to 65535, such as \"443\", or two joined by '-', such as \"8000-8080\"",
		"p.yaml:15:15: spec.securityGroups[0].exposure[5].ports: expected a port such as 443 or a range such as \"8000-8080\", got a sequence",
		"p.yaml:16:25: spec.securityGroups[0].exposure[6].from: expected world or a list of security group names, got a string \"internet\"",
		"p.yaml:17:18: spec.securityGroups[0].exposure[7].protocol: invalid value \"HTTP\": expected TCP, UDP or SCTP",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  securityGroups:\n"
		      "  - name: web\n"
		      "    podSelector: {}\n"
		      "    exposure:\n"
		      "    - {ports: 0, from: world}\n"
		      "    - {ports: \"70000\", from: world}\n"
		      "    - {ports: 80-, from: world}\n"
		      "    - {ports: 9090-8080, from: world}\n"
		      "    - {ports: 1-2-3, from: world}\n"
		      "    - {ports: [80], from: world}\n"
		      "    - {ports: 80, from: internet}\n"
		      "    - {protocol: HTTP, ports: 80, from: world}\n",
		      expected);
}

Test(policy, selector_errors)
{
	const char *const expected[] = {
		"p.yaml:10:30: spec.securityGroups[0].podSelector.matchExpressions[0].operator: invalid value \"Equals\": expected In, NotIn, Exists or DoesNotExist",
		"p.yaml:11:9: spec.securityGroups[0].podSelector.matchExpressions[1]: operator In needs at least one value in \"values\"",
		"p.yaml:12:46: spec.securityGroups[0].podSelector.matchExpressions[2].values: operator Exists takes no values; remove \"values\" or use In or NotIn",
		"p.yaml:13:14: spec.securityGroups[0].podSelector.matchExpressions[3].key: invalid label key \"-bad\": the name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with an optional DNS prefix and '/'",
		"p.yaml:15:26: spec.securityGroups[0].podSelector.matchLabels.app: expected a string, got an integer; quote the value to make it a string",
		"p.yaml:16:5: spec.securityGroups[1]: the group selects no pods: give podSelector, namespaceSelector, exposedTo, or a combination ({} selects all)",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  securityGroups:\n"
		      "  - name: web\n"
		      "    podSelector:\n"
		      "      matchExpressions:\n"
		      "      - {key: app, operator: Equals, values: [web]}\n"
		      "      - {key: app, operator: In}\n"
		      "      - {key: app, operator: Exists, values: [web]}\n"
		      "      - key: -bad\n"
		      "        operator: Exists\n"
		      "      matchLabels: {app: 5}\n"
		      "  - name: empty\n",
		      expected);
}

Test(policy, contention_errors)
{
	const char *const expected[] = {
		"p.yaml:9:14: spec.contention.resources[1].name: resource \"cpu\" is listed twice",
		"p.yaml:10:12: spec.contention.shape: shape applies only to strategy RequestedToCapacityRatio; remove it or change the strategy",
		"p.yaml:11:21: spec.contention.ceilings.cpu: invalid value 0: expected an integer from 1 to 100",
		"p.yaml:11:24: spec.contention.ceilings.Bad Name: invalid resource name \"Bad Name\": the name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with an optional DNS prefix and '/'",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  contention:\n"
		      "    resources:\n"
		      "    - {name: cpu}\n"
		      "    - {name: cpu, weight: 2}\n"
		      "    shape: [{utilization: 0, score: 0}]\n"
		      "    ceilings: {cpu: 0, Bad Name: 50}\n",
		      expected);
}

Test(policy, shape_must_increase)
{
	expect_error(HEADER
		     "spec:\n"
		     "  contention:\n"
		     "    strategy: RequestedToCapacityRatio\n"
		     "    shape:\n"
		     "    - {utilization: 50, score: 5}\n"
		     "    - {utilization: 50, score: 9}\n",
		     "p.yaml:10:21: spec.contention.shape[1].utilization: utilization 50 is not above the previous point's 50; list points in increasing utilization");
}

Test(policy, isolation_section_errors)
{
	expect_error(HEADER "spec:\n  sandbox:\n    runtimeClassNames: [gvisor]\n",
		     "p.yaml:7:5: spec.sandbox: sandbox rules relax tenant isolation, so they need spec.tenants; add spec.tenants with the tenants and their mode");
	expect_error(HEADER
		     "spec:\n"
		     "  tenants:\n"
		     "    names: [pci]\n"
		     "    dedicatedPools: [{tenant: pci, nodeSelector: {}}]\n",
		     "p.yaml:8:50: spec.tenants.dedicatedPools[0].nodeSelector: an empty nodeSelector matches every node, which would make the whole cluster one tenant's pool; select the pool's nodes, e.g. matchLabels: {stowage.io/pool: NAME}");
	expect_error(HEADER
		     "spec:\n"
		     "  tenants: {mode: strict}\n"
		     "  sandbox: {runtimeClassNames: []}\n",
		     "p.yaml:7:32: spec.sandbox.runtimeClassNames: the list is empty; name at least one sandboxed RuntimeClass");
}

Test(policy, topology_errors)
{
	const char *const expected[] = {
		"p.yaml:9:50: spec.topology.levels[1].cost: cost 2 is below the cost 4 of the finer level topology.kubernetes.io/zone; list levels from finest to coarsest with costs that do not decrease",
		"p.yaml:10:13: spec.topology.levels[2].key: label topology.kubernetes.io/zone is already level 0; each level needs its own label",
		"p.yaml:11:18: spec.topology.defaultCost: defaultCost 1 is below the cost 4 of the coarsest level topology.kubernetes.io/zone; nodes that share nothing cannot be closer",
		"p.yaml:12:25: spec.topology.zonePairs[0].zones: both values are \"a\"; a pair names two different places",
		"p.yaml:13:18: spec.topology.regionPairs: pair costs apply to nodes that differ in label topology.kubernetes.io/region, but no level uses that label; add it to spec.topology.levels or set the label field",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  topology:\n"
		      "    levels:\n"
		      "    - {key: topology.kubernetes.io/zone, cost: 4}\n"
		      "    - {key: topology.kubernetes.io/region, cost: 2}\n"
		      "    - {key: topology.kubernetes.io/zone, cost: 9}\n"
		      "    defaultCost: 1\n"
		      "    zonePairs: [{zones: [a, a], cost: 5}]\n"
		      "    regionPairs: [{regions: [eu, us], cost: 5}]\n",
		      expected);
}

Test(policy, locality_errors)
{
	const char *const expected[] = {
		"p.yaml:8:5: spec.locality: locality measures distance with topology costs, so it needs spec.topology; add spec.topology with levels and defaultCost",
		"p.yaml:10:33: spec.locality.groups[0].members[0].securityGroup: unknown security group \"wbe\": declare it in spec.securityGroups or fix the name",
		"p.yaml:10:39: spec.locality.groups[0].members[1]: give either securityGroup or selectors, not both",
		"p.yaml:12:22: spec.locality.networkPolicies: missing field \"maxCost\": give the largest topology cost allowed between pods a NetworkPolicy lets talk",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  securityGroups: [{name: web, podSelector: {}}]\n"
		      "  locality:\n"
		      "    groups:\n"
		      "    - name: shop\n"
		      "      members: [{securityGroup: wbe}, {securityGroup: web, podSelector: {}}]\n"
		      "      maxCost: 4\n"
		      "    networkPolicies: {enabled: true}\n",
		      expected);
}

Test(policy, error_summary_in_err)
{
	const char *text = HEADER "spec:\n  weights: {contention: -1, isolation: 101}\n";
	score_error err = {0};
	pol_policy *policy = NULL;
	int rc;

	rc = pol_policy_parse("p.yaml", text, strlen(text), resources, &policy,
			      NULL, &err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(err.message,
			 "p.yaml:6:25: spec.weights.contention: invalid value -1: expected an integer from 0 to 100 (and 1 more errors)");
}

Test(policy, error_count_is_capped)
{
	GString *text = g_string_new(HEADER "spec:\n  weights:\n");
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	int rc;

	for (int i = 0; i < 60; i++)
		g_string_append_printf(text, "    unknown%d: 1\n", i);
	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text->str, text->len, resources, &policy,
			      &diagnostics, NULL);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(diagnostics.errors->len, 51, "50 errors and a count, got %u",
		     diagnostics.errors->len);
	cr_assert_str_eq(g_ptr_array_index(diagnostics.errors, 50),
			 "p.yaml: 10 more errors not shown");
	pol_diagnostics_release(&diagnostics);
	g_string_free(text, TRUE);
}

Test(policy, deep_nesting_rejected)
{
	GString *text = g_string_new(HEADER "spec: ");
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	int rc;

	for (int i = 0; i < 100; i++)
		g_string_append_c(text, '[');
	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text->str, text->len, resources, &policy,
			      &diagnostics, NULL);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(diagnostics.errors->len, 1);
	cr_assert(strstr(g_ptr_array_index(diagnostics.errors, 0),
			 "nests deeper than 64 levels") != NULL,
		  "got %s", (const char *)g_ptr_array_index(diagnostics.errors, 0));
	pol_diagnostics_release(&diagnostics);
	g_string_free(text, TRUE);
}

Test(policy, long_mapping_finds_duplicates)
{
	GString *text = g_string_new(HEADER "spec: {}\nextra:\n");
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;

	for (int i = 0; i < 40; i++)
		g_string_append_printf(text, "  k%d: 1\n", i);
	g_string_append(text, "  k7: 2\n");
	pol_diagnostics_init(&diagnostics);
	cr_assert_eq(pol_policy_parse("p.yaml", text->str, text->len, resources,
				      &policy, &diagnostics, NULL), -EINVAL);
	cr_assert_str_eq(g_ptr_array_index(diagnostics.errors, 0),
			 "p.yaml:47:3: duplicate key \"k7\": it first appears at line 14, column 3, and keys of a mapping must be unique");
	pol_diagnostics_release(&diagnostics);
	g_string_free(text, TRUE);
}

Test(policy, load_reports_missing_file)
{
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	score_error err = {0};
	int rc;

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_load("/nonexistent/stowage/policy.yaml", resources,
			     &policy, &diagnostics, &err);
	cr_assert_eq(rc, -ENOENT, "got %d", rc);
	cr_assert_str_eq(err.message,
			 "cannot read policy file /nonexistent/stowage/policy.yaml: No such file or directory");
	cr_assert_eq(diagnostics.errors->len, 1);
	pol_diagnostics_release(&diagnostics);
}

/* ---- The policy's pipeline on a cluster ------------------------------------ */

static score_pod *pod_in(const char *namespace, const char *name,
			 const char *tenant, const char *node)
{
	score_pod *pod = score_pod_new();
	char *uid = g_strdup_printf("%s/%s", namespace, name);

	pod->uid = score_intern(uid);
	pod->namespace = score_intern(namespace);
	pod->name = score_intern(name);
	pod->node_name = score_intern(node);
	pod->phase = SCORE_POD_RUNNING;
	pod->request.v[SCORE_RES_CPU] = 100;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	if (tenant != NULL)
		score_labels_set(&pod->labels, "stowage.io/tenant", tenant);
	g_free(uid);
	return pod;
}

static void add_node(score_model *model, const char *name, const char *pool)
{
	score_node *node = score_node_new();

	node->name = score_intern(name);
	node->allocatable.v[SCORE_RES_CPU] = 4000;
	node->allocatable.v[SCORE_RES_MEMORY] = 8LL << 30;
	node->allocatable.v[SCORE_RES_PODS] = 110;
	if (pool != NULL)
		score_labels_set(&node->labels, "stowage.io/pool", pool);
	score_model_put_node(model, node);
}

Test(policy, pipeline_enforces_the_rules)
{
	pol_policy *policy = parse_ok(HEADER
				      "spec:\n"
				      "  tenants:\n"
				      "    names: [alpha, beta, pci]\n"
				      "    dedicatedPools:\n"
				      "    - tenant: pci\n"
				      "      nodeSelector: {matchLabels: {stowage.io/pool: pci}}\n");
	score_model *model = score_model_new(resources);
	score_pod *incoming = pod_in("shop-a", "web-1", "alpha", NULL);
	score_candidate candidates[3];
	score_request request = {.model = model, .pod = incoming};
	score_result result;
	const char *names[] = {"n-beta", "n-free", "n-pci"};

	add_node(model, "n-beta", NULL);
	add_node(model, "n-free", NULL);
	add_node(model, "n-pci", "pci");
	score_model_put_pod(model, pod_in("shop-b", "web-2", "beta", "n-beta"));
	for (int i = 0; i < 3; i++)
		candidates[i] = (score_candidate){names[i],
						  score_model_node(model, names[i]),
						  NULL, 0};

	score_pipeline_filter(pol_policy_pipeline(policy), &request, candidates, 3,
			      &result);
	cr_assert_eq(result.n_fit, 1, "only n-free fits, got %zu", result.n_fit);
	cr_assert_str_eq(result.nodes[0].reason,
			 "tenant isolation: node runs pod shop-b/web-2 of tenant \"beta\"; tenants \"alpha\" and \"beta\" do not trust each other");
	cr_assert_eq(result.nodes[1].fit, SCORE_FIT);
	cr_assert_str_eq(result.nodes[2].reason,
			 "dedicated pool: node is in the dedicated pool of tenant \"pci\" (spec.tenants.dedicatedPools[0]), which keeps the pods of tenant \"alpha\" off it");
	score_result_release(&result);
	score_pod_free(incoming);
	score_model_free(model);
	pol_policy_unref(policy);
}

Test(policy, zero_scoring_weights_warn)
{
	const char *text = HEADER
		"spec:\n"
		"  weights: {contention: 0, isolation: 0, locality: 3}\n";
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	int rc;

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse("p.yaml", text, strlen(text), resources, &policy,
			      &diagnostics, NULL);
	cr_assert_eq(rc, 0, "a filter-only policy is valid");
	cr_assert_eq(diagnostics.warnings->len, 1, "warnings %u", diagnostics.warnings->len);
	cr_assert(strstr(g_ptr_array_index(diagnostics.warnings, 0),
			 "spec.weights: the contention and isolation weights are both 0") != NULL,
		  "warning: %s", (char *)g_ptr_array_index(diagnostics.warnings, 0));
	pol_policy_unref(policy);
	pol_diagnostics_release(&diagnostics);
}

/* ---- spec.bandwidth and spec.spread ---------------------------------------- */

Test(policy, bandwidth_and_spread_typed)
{
	pol_policy *policy = parse_ok(HEADER
		"spec:\n"
		"  weights: {bandwidth: 4, spread: 2}\n"
		"  bandwidth:\n"
		"    capacityLabel: example.com/nic\n"
		"    egressCapacityLabel: example.com/uplink\n"
		"    defaultCapacity: 10G\n"
		"  spread: {level: topology.kubernetes.io/zone, maxSkew: 2, mode: hard}\n");
	const score_bandwidth_config *bandwidth = pol_policy_bandwidth(policy);
	const score_spread_config *spread = pol_policy_spread(policy);
	const score_pipeline *pipeline = pol_policy_pipeline(policy);
	const pol_weights *weights = pol_policy_weights(policy);
	bool has_bandwidth_filter = false;
	bool has_spread_filter = false;
	bool has_bandwidth_scorer = false;

	cr_assert_eq(weights->bandwidth, 4, "bandwidth weight %" G_GINT64_FORMAT,
		     weights->bandwidth);
	cr_assert_str_eq(bandwidth->capacity_label, "example.com/nic");
	cr_assert_null(bandwidth->ingress_capacity_label,
		       "ingress falls back to capacityLabel");
	cr_assert_str_eq(bandwidth->egress_capacity_label, "example.com/uplink");
	cr_assert_eq(bandwidth->default_capacity, INT64_C(10000000000),
		     "defaultCapacity %" G_GINT64_FORMAT, bandwidth->default_capacity);

	cr_assert_not_null(spread, "spec.spread is present");
	cr_assert_str_eq(spread->level, "topology.kubernetes.io/zone");
	cr_assert_eq(spread->max_skew, 2, "maxSkew %" G_GINT64_FORMAT,
		     spread->max_skew);
	cr_assert(spread->hard, "mode hard");

	for (size_t i = 0; i < pipeline->n_filters; i++) {
		has_bandwidth_filter |= strcmp(pipeline->filters[i].name, "Bandwidth") == 0;
		has_spread_filter |= strcmp(pipeline->filters[i].name, "Spread") == 0;
	}
	for (size_t i = 0; i < pipeline->n_scorers; i++)
		has_bandwidth_scorer |= strcmp(pipeline->scorers[i].name, "Bandwidth") == 0 &&
					pipeline->scorers[i].weight == 4;
	cr_assert(has_bandwidth_filter, "the pipeline has the Bandwidth filter");
	cr_assert(has_spread_filter, "hard spread adds the Spread filter");
	cr_assert(has_bandwidth_scorer, "the Bandwidth scorer has weight 4");
	pol_policy_unref(policy);
}

Test(policy, bandwidth_and_spread_defaults)
{
	pol_policy *policy = parse_ok(HEADER "spec:\n  bandwidth: {}\n  spread: {}\n");
	const score_bandwidth_config *bandwidth = pol_policy_bandwidth(policy);
	const score_spread_config *spread = pol_policy_spread(policy);
	GString *summary = g_string_new(NULL);

	cr_assert_str_eq(bandwidth->capacity_label, "stowage.io/network-bandwidth");
	cr_assert_eq(bandwidth->default_capacity, 0, "no default capacity");
	cr_assert_not_null(spread, "spread: {} enables spreading");
	cr_assert_str_eq(spread->level, "kubernetes.io/hostname");
	cr_assert_eq(spread->max_skew, 1, "maxSkew %" G_GINT64_FORMAT,
		     spread->max_skew);
	cr_assert_not(spread->hard, "default mode soft");
	pol_policy_summary(policy, summary);
	cr_assert(strstr(summary->str,
			 "spread over kubernetes.io/hostname (maxSkew 1, soft); bandwidth capacity from label stowage.io/network-bandwidth; ") != NULL,
		  "summary: %s", summary->str);
	g_string_free(summary, TRUE);
	pol_policy_unref(policy);

	policy = parse_ok(HEADER "spec: {}\n");
	cr_assert_null(pol_policy_spread(policy), "no spec.spread, no spreading");
	pol_policy_unref(policy);
}

Test(policy, spread_level_from_topology)
{
	pol_policy *policy = parse_ok(HEADER
		"spec:\n"
		"  topology:\n"
		"    levels: [{key: topology.stowage.io/rack, cost: 1}]\n"
		"    defaultCost: 10\n"
		"  spread: {level: topology.stowage.io/rack}\n");

	cr_assert_str_eq(pol_policy_spread(policy)->level,
			 "topology.stowage.io/rack");
	pol_policy_unref(policy);
}

Test(policy, bandwidth_and_spread_wrong_types)
{
	const char *const expected[] = {
		"p.yaml:7:16: spec.weights.bandwidth: expected an integer from 0 to 100, got a string",
		"p.yaml:8:14: spec.bandwidth: expected a mapping of fields, got a sequence",
		"p.yaml:10:14: spec.spread.maxSkew: expected an integer from 1 to 1000, got a string",
		"p.yaml:11:12: spec.spread.level: expected a string, got an integer; quote the value to make it a string",
		"p.yaml:12:11: spec.spread.mode: invalid value \"strict\": expected soft or hard",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  weights:\n"
		      "    bandwidth: high\n"
		      "  bandwidth: [10G]\n"
		      "  spread:\n"
		      "    maxSkew: \"2\"\n"
		      "    level: 7\n"
		      "    mode: strict\n",
		      expected);
}

Test(policy, bandwidth_and_spread_unknown_fields)
{
	const char *const expected[] = {
		"p.yaml:7:5: spec.bandwidth: unknown field \"capacitylabel\": did you mean \"capacityLabel\"? Field names are case-sensitive",
		"p.yaml:8:5: spec.bandwidth: unknown field \"limit\": expected one of capacityLabel, ingressCapacityLabel, egressCapacityLabel, defaultCapacity",
		"p.yaml:10:5: spec.spread: unknown field \"topologyKey\": expected one of level, maxSkew, mode",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  bandwidth:\n"
		      "    capacitylabel: example.com/nic\n"
		      "    limit: 1G\n"
		      "  spread:\n"
		      "    topologyKey: topology.kubernetes.io/zone\n",
		      expected);
}

Test(policy, bandwidth_bad_quantities)
{
	const char *const expected[] = {
		"p.yaml:7:22: spec.bandwidth.defaultCapacity: invalid quantity \"10Gbps\": unknown suffix \"Gbps\", expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3; give bits per second such as 10G or 500M",
		NULL,
	};
	const char *const negative[] = {
		"p.yaml:7:22: spec.bandwidth.defaultCapacity: invalid capacity \"-1G\": give a positive quantity such as 10G, or leave the field out so that nodes without the label are not limited",
		NULL,
	};
	const char *const zero[] = {
		"p.yaml:7:22: spec.bandwidth.defaultCapacity: invalid capacity \"0\": give a positive quantity such as 10G, or leave the field out so that nodes without the label are not limited",
		NULL,
	};
	const char *const wrong_type[] = {
		"p.yaml:7:22: spec.bandwidth.defaultCapacity: expected a quantity in bits per second such as 10G or 500M, got a boolean",
		NULL,
	};
	pol_policy *policy;

	expect_errors(HEADER "spec:\n  bandwidth:\n    defaultCapacity: 10Gbps\n",
		      expected);
	expect_errors(HEADER "spec:\n  bandwidth:\n    defaultCapacity: -1G\n",
		      negative);
	expect_errors(HEADER "spec:\n  bandwidth:\n    defaultCapacity: 0\n",
		      zero);
	expect_errors(HEADER "spec:\n  bandwidth:\n    defaultCapacity: true\n",
		      wrong_type);

	/* A plain integer counts bits per second. */
	policy = parse_ok(HEADER "spec:\n  bandwidth:\n    defaultCapacity: 1000000\n");
	cr_assert_eq(pol_policy_bandwidth(policy)->default_capacity, 1000000,
		     "defaultCapacity %" G_GINT64_FORMAT,
		     pol_policy_bandwidth(policy)->default_capacity);
	pol_policy_unref(policy);
}

Test(policy, bandwidth_invalid_label_keys)
{
	const char *const expected[] = {
		"p.yaml:7:20: spec.bandwidth.capacityLabel: invalid label key \"-nic\": the name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with an optional DNS prefix and '/'",
		NULL,
	};

	expect_errors(HEADER "spec:\n  bandwidth:\n    capacityLabel: -nic\n",
		      expected);
}

Test(policy, spread_unknown_levels)
{
	const char *const expected[] = {
		"p.yaml:6:19: spec.spread.level: unknown level \"topology.stowage.io/rack\": name kubernetes.io/hostname, topology.kubernetes.io/zone, topology.kubernetes.io/region, or a key of spec.topology.levels",
		NULL,
	};
	const char *const out_of_range[] = {
		"p.yaml:6:21: spec.spread.maxSkew: invalid value 0: expected an integer from 1 to 1000",
		NULL,
	};

	expect_errors(HEADER "spec:\n  spread: {level: topology.stowage.io/rack}\n",
		      expected);
	expect_errors(HEADER "spec:\n  spread: {maxSkew: 0}\n", out_of_range);
}

Test(policy, security_group_by_exposure)
{
	pol_policy *policy = parse_ok(HEADER
		"spec:\n"
		"  securityGroups:\n"
		"  - {name: internet, exposedTo: world}\n"
		"  - name: public-https\n"
		"    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}\n"
		"    exposedTo: {from: world, protocol: TCP, ports: \"443-8443\"}\n"
		"  - {name: vault, podSelector: {matchLabels: {app: vault}}}\n"
		"  separation:\n"
		"  - {groups: [internet, vault], mode: hard}\n");
	const score_isolation_config *isolation = pol_policy_isolation(policy);
	const score_security_group *internet = &isolation->groups[0];
	const score_security_group *https = &isolation->groups[1];

	cr_assert(internet->has_exposure, "exposedTo: world selects by exposure");
	cr_assert(internet->exposure.any_protocol, "any protocol");
	cr_assert_eq(internet->exposure.first_port, 0, "any port");
	cr_assert_not(internet->has_pod_selector, "no pod selector");
	cr_assert(https->has_exposure, "mapping form selects by exposure");
	cr_assert_not(https->exposure.any_protocol, "protocol given");
	cr_assert_eq(https->exposure.protocol, SCORE_PROTOCOL_TCP, "TCP");
	cr_assert_eq(https->exposure.first_port, 443, "first %d",
		     https->exposure.first_port);
	cr_assert_eq(https->exposure.last_port, 8443, "last %d",
		     https->exposure.last_port);
	cr_assert(https->has_namespace_selector, "selectors combine with exposure");
	cr_assert_not(isolation->groups[2].has_exposure, "vault is selected by labels");
	pol_policy_unref(policy);
}

Test(policy, exposed_to_errors)
{
	const char *const expected[] = {
		"p.yaml:7:26: spec.securityGroups[0].exposedTo: invalid value \"internet\": expected world, or a mapping such as {from: world, protocol: TCP, ports: \"443\"}",
		"p.yaml:8:33: spec.securityGroups[1].exposedTo.from: invalid value \"cluster\": expected world",
		"p.yaml:9:26: spec.securityGroups[2].exposedTo: missing field \"from\": write from: world, the only audience stowage derives so far",
		"p.yaml:9:34: spec.securityGroups[2].exposedTo.ports: invalid port range \"0\": expected a port from 1 to 65535, such as \"443\", or two joined by '-', such as \"8000-8080\"",
		"p.yaml:10:40: spec.securityGroups[3].exposedTo: unknown field \"port\": expected one of from, protocol, ports",
		"p.yaml:11:50: spec.securityGroups[4].exposedTo.protocol: invalid value \"HTTP\": expected TCP, UDP or SCTP",
		NULL,
	};

	expect_errors(HEADER
		      "spec:\n"
		      "  securityGroups:\n"
		      "  - {name: a, exposedTo: internet}\n"
		      "  - {name: b, exposedTo: {from: cluster}}\n"
		      "  - {name: c, exposedTo: {ports: \"0\"}}\n"
		      "  - {name: d, exposedTo: {from: world, port: 443}}\n"
		      "  - {name: e, exposedTo: {from: world, protocol: HTTP}}\n",
		      expected);
}

/* ---- Criteria that pull in opposite directions --------------------------- */

/* Two replicas of ReplicaSet web run on n-a (zone a); n-b (zone b) is
 * empty. The replicas are each other's peers through a locality group, so
 * locality pulls a third replica to n-a, while spread over zones pushes it
 * to n-b. The weights decide; contention is off so only these two score. */
static const char *tug_of_war_winner(int64_t locality, int64_t spread)
{
	char *text = g_strdup_printf(
		HEADER
		"spec:\n"
		"  weights: {contention: 0, isolation: 0, locality: %" G_GINT64_FORMAT
		", spread: %" G_GINT64_FORMAT "}\n"
		"  topology:\n"
		"    levels:\n"
		"    - {key: topology.kubernetes.io/zone, cost: 4}\n"
		"    defaultCost: 100\n"
		"  locality:\n"
		"    groups:\n"
		"    - name: web\n"
		"      members:\n"
		"      - podSelector: {matchLabels: {app: web}}\n"
		"      maxCost: 100\n"
		"  spread: {level: topology.kubernetes.io/zone, maxSkew: 1, mode: soft}\n",
		locality, spread);
	pol_policy *policy = parse_ok(text);
	score_model *model = score_model_new(resources);
	const char *names[] = {"n-a", "n-b"};
	score_candidate candidates[2];
	score_pod *incoming = NULL;
	score_request request;
	score_result result;
	const char *winner;

	for (int i = 0; i < 2; i++) {
		score_node *node = score_node_new();

		node->name = score_intern(names[i]);
		node->allocatable.v[SCORE_RES_CPU] = 4000;
		node->allocatable.v[SCORE_RES_MEMORY] = 8LL << 30;
		node->allocatable.v[SCORE_RES_PODS] = 110;
		score_labels_set(&node->labels, "topology.kubernetes.io/zone",
				 i == 0 ? "a" : "b");
		score_labels_set(&node->labels, "kubernetes.io/hostname", names[i]);
		score_model_put_node(model, node);
	}
	for (int i = 0; i < 3; i++) {
		char name[16];
		score_pod *pod;

		snprintf(name, sizeof(name), "web-%d", i);
		pod = pod_in("shop", name, NULL, i < 2 ? "n-a" : NULL);
		score_labels_set(&pod->labels, "app", "web");
		pod->owner.kind = score_intern("ReplicaSet");
		pod->owner.name = score_intern("web");
		pod->owner.uid = score_intern("rs-web");
		if (i < 2)
			score_model_put_pod(model, pod);
		else
			incoming = pod;
	}
	for (int i = 0; i < 2; i++)
		candidates[i] = (score_candidate){names[i],
						  score_model_node(model, names[i]),
						  NULL, 0};
	request = (score_request){.model = model, .pod = incoming};
	score_pipeline_filter(pol_policy_pipeline(policy), &request, candidates, 2,
			      &result);
	cr_assert_eq(result.n_fit, 2, "both nodes fit, got %zu", result.n_fit);
	score_pipeline_score(pol_policy_pipeline(policy), &request, candidates,
			     &result);
	cr_assert_neq(result.nodes[0].total, result.nodes[1].total,
		      "the weights %lld/%lld must break the tie: both scored %lld",
		      (long long)locality, (long long)spread,
		      (long long)result.nodes[0].total);
	winner = result.nodes[0].total > result.nodes[1].total ? "n-a" : "n-b";

	score_result_release(&result);
	score_pod_free(incoming);
	score_model_free(model);
	pol_policy_unref(policy);
	g_free(text);
	return winner;
}

Test(policy, locality_and_spread_weights_decide)
{
	cr_assert_str_eq(tug_of_war_winner(3, 1), "n-a",
			 "locality 3, spread 1: the replica joins its peers in zone a");
	cr_assert_str_eq(tug_of_war_winner(1, 3), "n-b",
			 "locality 1, spread 3: the replica goes to the empty zone b");
}
