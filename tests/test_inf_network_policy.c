/* Tests for informer/network_policy.c: decoding NetworkPolicies into their
 * typed form with the API server's defaults, rejecting objects the API
 * server would reject, and keeping them in the cluster model. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/cluster_file.h"
#include "informer/network_policy.h"

/* Decodes `json`, asserting success. */
static score_network_policy *decode_ok(const char *json)
{
	cJSON *object = cJSON_Parse(json);
	score_network_policy *policy = NULL;
	score_error err = {0};
	int rc;

	cr_assert_not_null(object, "test JSON does not parse: %s", json);
	rc = inf_network_policy_decode(object, &policy, &err);
	cJSON_Delete(object);
	cr_assert_eq(rc, 0, "decode failed: %s", err.message);
	cr_assert_not_null(policy, "decode returned no policy");
	return policy;
}

/* Decodes `json`, asserting -EINVAL with `fragment` in the message. */
static void decode_fails(const char *json, const char *fragment)
{
	cJSON *object = cJSON_Parse(json);
	score_network_policy *policy = NULL;
	score_error err = {0};
	int rc;

	cr_assert_not_null(object, "test JSON does not parse: %s", json);
	rc = inf_network_policy_decode(object, &policy, &err);
	cJSON_Delete(object);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL for %s, got %d", json, rc);
	cr_assert_null(policy, "no policy on failure");
	cr_assert_not_null(strstr(err.message, fragment),
			   "expected \"%s\" in the message, got: %s", fragment,
			   err.message);
}

static score_labels labels_of(const char *key, const char *value)
{
	score_labels labels = {0};

	if (key != NULL)
		score_labels_set(&labels, key, value);
	return labels;
}

static const char full_policy[] =
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
	"\"metadata\":{\"name\":\"api-allow\",\"namespace\":\"shop\",\"uid\":\"np-1\","
	"\"managedFields\":[{\"manager\":\"kubectl\"}]},"
	"\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
	"\"policyTypes\":[\"Ingress\",\"Egress\"],"
	"\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}},"
	"{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"team\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},"
	"\"podSelector\":{}},"
	"{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\"]}}],"
	"\"ports\":[{\"protocol\":\"TCP\",\"port\":8080},{\"port\":\"metrics\"},"
	"{\"protocol\":\"UDP\",\"port\":5000,\"endPort\":5010}]}],"
	"\"egress\":[{\"to\":[{\"namespaceSelector\":{}}]},{}]}}";

Test(network_policy, full_policy_decoded)
{
	score_network_policy *policy = decode_ok(full_policy);
	const score_network_policy_rule *rule;
	score_labels api = labels_of("app", "api"), web = labels_of("app", "web");

	cr_assert_str_eq(policy->namespace, "shop", "namespace: got %s", policy->namespace);
	cr_assert_str_eq(policy->name, "api-allow", "name: got %s", policy->name);
	cr_assert_str_eq(policy->key, "shop/api-allow", "key: got %s", policy->key);
	cr_assert_str_eq(policy->uid, "np-1", "uid: got %s", policy->uid);
	cr_assert(policy->ingress, "policyTypes has Ingress");
	cr_assert(policy->egress, "policyTypes has Egress");
	cr_assert(score_network_policy_selects(policy, "shop", &api), "selects app=api in shop");
	cr_assert(!score_network_policy_selects(policy, "shop", &web), "does not select app=web");
	cr_assert(!score_network_policy_selects(policy, "other", &api),
		  "does not select pods of another namespace");

	cr_assert_eq(policy->n_ingress_rules, 1, "ingress rules: got %u", policy->n_ingress_rules);
	rule = &policy->ingress_rules[0];
	cr_assert_eq(rule->n_peers, 3, "peers: got %u", rule->n_peers);
	cr_assert(rule->peers[0].has_pod_selector, "peer 0 has a pod selector");
	cr_assert(!rule->peers[0].has_namespace_selector, "peer 0 has no namespace selector");
	cr_assert(score_selector_matches(&rule->peers[0].pod_selector, &web),
		  "peer 0 matches app=web");
	cr_assert(rule->peers[1].has_pod_selector && rule->peers[1].has_namespace_selector,
		  "peer 1 has both selectors");
	cr_assert_eq(rule->peers[1].pod_selector.n_requirements, 0,
		     "peer 1's empty pod selector has no requirements");
	cr_assert_eq(rule->peers[1].namespace_selector.n_requirements, 1,
		     "peer 1's namespace selector has one requirement");
	cr_assert_eq(rule->peers[1].namespace_selector.requirements[0].n_values, 2,
		     "the In requirement has 2 values");
	cr_assert_str_eq(rule->peers[2].ip_block_cidr, "10.0.0.0/8", "ipBlock cidr: got %s",
			 rule->peers[2].ip_block_cidr);
	cr_assert_str_eq(rule->peers[2].ip_block_except[0], "10.1.0.0/16",
			 "ipBlock except: got %s", rule->peers[2].ip_block_except[0]);
	cr_assert_null(rule->peers[2].ip_block_except[1], "one except entry");

	cr_assert_eq(rule->n_ports, 3, "ports: got %u", rule->n_ports);
	cr_assert_eq(rule->ports[0].protocol, SCORE_PROTOCOL_TCP, "port 0 is TCP");
	cr_assert_eq(rule->ports[0].port, 8080, "port 0: got %d", rule->ports[0].port);
	cr_assert_str_eq(rule->ports[1].port_name, "metrics", "port 1 is the named port metrics");
	cr_assert_eq(rule->ports[1].protocol, SCORE_PROTOCOL_TCP, "a port without protocol is TCP");
	cr_assert_eq(rule->ports[2].protocol, SCORE_PROTOCOL_UDP, "port 2 is UDP");
	cr_assert_eq(rule->ports[2].end_port, 5010, "port 2 ends at 5010, got %d",
		     rule->ports[2].end_port);

	cr_assert_eq(policy->n_egress_rules, 2, "egress rules: got %u", policy->n_egress_rules);
	cr_assert_eq(policy->egress_rules[0].n_peers, 1, "egress rule 0 has one peer");
	cr_assert_eq(policy->egress_rules[1].n_peers, 0, "an empty rule allows every peer");
	cr_assert_eq(policy->egress_rules[1].n_ports, 0, "an empty rule allows every port");
	score_labels_release(&api);
	score_labels_release(&web);
	score_network_policy_unref(policy);
}

Test(network_policy, policy_types_defaulted)
{
	score_network_policy *deny_all = decode_ok(
		"{\"metadata\":{\"name\":\"deny\",\"namespace\":\"a\"},\"spec\":{\"podSelector\":{}}}");
	score_network_policy *with_egress = decode_ok(
		"{\"metadata\":{\"name\":\"out\"},\"spec\":{\"egress\":[{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}]}}");
	score_labels none = {0};

	cr_assert(deny_all->ingress, "without policyTypes, ingress is isolated");
	cr_assert(!deny_all->egress, "without egress rules, egress is not");
	cr_assert_eq(deny_all->n_ingress_rules, 0, "no rule: nothing may come in");
	cr_assert(score_network_policy_selects(deny_all, "a", &none),
		  "an empty podSelector selects every pod of the namespace");
	cr_assert(with_egress->ingress, "ingress is always isolated by default");
	cr_assert(with_egress->egress, "egress rules make egress isolated by default");
	cr_assert_str_eq(with_egress->namespace, "default",
			 "a missing namespace is default, got %s", with_egress->namespace);
	score_network_policy_unref(deny_all);
	score_network_policy_unref(with_egress);
}

Test(network_policy, invalid_objects_rejected)
{
	decode_fails("[]", "expected a NetworkPolicy object");
	decode_fails("{\"spec\":{}}", "metadata.name");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":[]}", "spec: expected an object");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"policyTypes\":[\"Sideways\"]}}",
		     "spec.policyTypes[0]: invalid value Sideways");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"podSelector\":{\"matchExpressions\":"
		     "[{\"key\":\"a\",\"operator\":\"Like\"}]}}}",
		     "spec.podSelector.matchExpressions[0].operator: invalid value \"Like\"");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"podSelector\":{\"matchExpressions\":"
		     "[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}}}",
		     "must not be empty for operator In");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"podSelector\":{\"matchExpressions\":"
		     "[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"b\"]}]}}}",
		     "must be empty for operator Exists");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"a\":1}}}}",
		     "spec.podSelector.matchLabels.a: expected a string");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ingress\":[{\"from\":[{}]}]}}",
		     "spec.ingress[0].from[0]: a peer needs podSelector, namespaceSelector or ipBlock");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ingress\":[{\"from\":[{\"ipBlock\":"
		     "{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}}",
		     "ipBlock cannot be combined");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ingress\":[{\"from\":[{\"ipBlock\":"
		     "{\"cidr\":\"10.0.0.1\"}}]}]}}",
		     "spec.ingress[0].from[0].ipBlock.cidr: expected a CIDR");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"egress\":[{\"ports\":[{\"port\":70000}]}]}}",
		     "spec.egress[0].ports[0].port: expected a port number from 1 to 65535");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"egress\":[{\"ports\":[{\"port\":80,\"endPort\":79}]}]}}",
		     "endPort 79 needs a numeric port no greater than it");
	decode_fails("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"egress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}]}}",
		     "invalid value \"ICMP\"; use TCP, UDP or SCTP");
	decode_fails("{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"spec\":{\"ingress\":{}}}",
		     "NetworkPolicy n/x: spec.ingress: expected a list of rules");
}

Test(network_policy, model_put_replace_remove)
{
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	score_network_policy *first = decode_ok(
		"{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"},\"spec\":{}}");
	score_network_policy *second = decode_ok(
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},\"spec\":{}}");
	score_network_policy *replacement = decode_ok(
		"{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"uid\":\"new\"},"
		"\"spec\":{\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":"
		"[{\"namespaceSelector\":{}}]}]}}");
	uint64_t generation = score_model_network_policy_generation(model);
	score_network_policy *kept;
	const GPtrArray *in_namespace;
	score_network_policy *got;

	score_model_put_network_policy(model, first);
	score_model_put_network_policy(model, second);
	cr_assert_eq(score_model_network_policy_count(model), 2, "two policies stored, got %zu",
		     score_model_network_policy_count(model));
	cr_assert_gt(score_model_network_policy_generation(model), generation,
		     "puts change the generation");
	in_namespace = score_model_namespace_network_policies(model, "n");
	cr_assert_not_null(in_namespace, "namespace n has policies");
	cr_assert_eq(in_namespace->len, 2, "namespace n has 2, got %u", in_namespace->len);
	cr_assert_null(score_model_cross_namespace_network_policies(model),
		       "no policy has a namespaceSelector peer yet");

	/* A reference taken before the replacement keeps the old version. */
	kept = score_network_policy_ref(score_model_network_policy(model, "n/b"));
	score_model_put_network_policy(model, replacement);
	cr_assert_eq(score_model_network_policy_count(model), 2, "a replacement adds nothing");
	cr_assert_str_eq(kept->uid, "", "the kept old version is intact, uid %s", kept->uid);
	score_network_policy_unref(kept);
	got = score_model_network_policy(model, "n/b");
	cr_assert_not_null(got, "n/b is in the model");
	cr_assert_str_eq(got->uid, "new", "the model has the replacement, uid %s", got->uid);
	cr_assert(got->egress && !got->ingress, "the replacement's policyTypes");
	cr_assert_eq(score_model_namespace_network_policies(model, "n")->len, 2,
		     "still 2 policies in namespace n");
	cr_assert_not_null(score_model_cross_namespace_network_policies(model),
			   "the replacement has a namespaceSelector peer");

	cr_assert(score_model_remove_network_policy(model, "n/b"), "n/b removed");
	cr_assert(!score_model_remove_network_policy(model, "n/b"),
		  "a second remove finds nothing");
	cr_assert_null(score_model_network_policy(model, "n/b"), "n/b is gone");
	cr_assert_null(score_model_cross_namespace_network_policies(model),
		       "the cross-namespace list dropped n/b");
	cr_assert_eq(score_model_network_policy_count(model), 1, "one policy left");
	cr_assert(score_model_remove_network_policy(model, "n/a"), "n/a removed");
	cr_assert_null(score_model_namespace_network_policies(model, "n"),
		       "namespace n has no policies left");
	score_model_free(model);
	score_resource_table_free(resources);
}

Test(network_policy, cluster_file_loads_policies)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: List\n"
		"items:\n"
		"- apiVersion: networking.k8s.io/v1\n"
		"  kind: NetworkPolicy\n"
		"  metadata: {name: allow-web, namespace: shop}\n"
		"  spec:\n"
		"    podSelector: {matchLabels: {app: api}}\n"
		"    ingress:\n"
		"    - from: [{podSelector: {matchLabels: {app: web}}}]\n"
		"- apiVersion: example.com/v1\n"
		"  kind: NetworkPolicy\n"
		"  metadata: {name: not-kubernetes}\n"
		"- apiVersion: networking.k8s.io/v1\n"
		"  kind: NetworkPolicyList\n"
		"  items: []\n";
	static const char list[] =
		"{\"kind\":\"NetworkPolicyList\",\"apiVersion\":\"networking.k8s.io/v1\","
		"\"items\":[{\"metadata\":{\"name\":\"deny\",\"namespace\":\"a\"},"
		"\"spec\":{\"podSelector\":{}}}]}";
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	inf_cluster_counts counts = {0};
	score_error err = {0};
	int rc;

	rc = inf_load_cluster_buffer_counted("c.yaml", text, strlen(text), model,
					     &counts, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_eq(counts.network_policies, 1, "one policy loaded, got %zu",
		     counts.network_policies);
	cr_assert_eq(counts.skipped, 2, "the other group's kind and the nested list are skipped, got %zu",
		     counts.skipped);
	cr_assert_not_null(score_model_network_policy(model, "shop/allow-web"),
			   "shop/allow-web is in the model");

	rc = inf_load_cluster_buffer_counted("l.json", list, strlen(list), model,
					     &counts, &err);
	cr_assert_eq(rc, 0, "load failed: %s", err.message);
	cr_assert_eq(counts.network_policies, 1, "one policy from the NetworkPolicyList");
	cr_assert_eq(score_model_network_policy_count(model), 2, "two policies in the model");
	score_model_free(model);
	score_resource_table_free(resources);
}

Test(network_policy, cluster_file_rejects_malformed_policy)
{
	static const char text[] =
		"kind: NetworkPolicy\n"
		"apiVersion: networking.k8s.io/v1\n"
		"metadata: {name: broken, namespace: shop}\n"
		"spec:\n"
		"  ingress:\n"
		"  - from: [{}]\n";
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	score_error err = {0};
	int rc;

	rc = inf_load_cluster_buffer("bad.yaml", text, strlen(text), model, &err);
	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, got %d", rc);
	cr_assert_not_null(strstr(err.message,
				  "bad.yaml: NetworkPolicy shop/broken: spec.ingress[0].from[0]: a peer needs"),
			   "message: %s", err.message);
	cr_assert_eq(score_model_network_policy_count(model), 0, "nothing loaded");
	score_model_free(model);
	score_resource_table_free(resources);
}
