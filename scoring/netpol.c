/* NetworkPolicy objects and their matching rules; see netpol.h. */
#include "scoring/netpol.h"

#include <string.h>

score_network_policy *score_network_policy_new(void)
{
	score_network_policy *policy = g_new0(score_network_policy, 1);

	policy->refs = 1;
	return policy;
}

score_network_policy *score_network_policy_ref(score_network_policy *policy)
{
	g_atomic_int_inc(&policy->refs);
	return policy;
}

void score_network_policy_peer_release(score_network_policy_peer *peer)
{
	score_selector_release(&peer->pod_selector);
	score_selector_release(&peer->namespace_selector);
	g_free(peer->ip_block_cidr);
	g_strfreev(peer->ip_block_except);
	memset(peer, 0, sizeof(*peer));
}

static void rule_release(score_network_policy_rule *rule)
{
	for (uint32_t i = 0; i < rule->n_peers; i++)
		score_network_policy_peer_release(&rule->peers[i]);
	g_free(rule->peers);
	for (uint32_t i = 0; i < rule->n_ports; i++)
		score_unintern(rule->ports[i].port_name);
	g_free(rule->ports);
}

void score_network_policy_unref(score_network_policy *policy)
{
	if (policy == NULL || !g_atomic_int_dec_and_test(&policy->refs))
		return;
	score_unintern(policy->namespace);
	score_unintern(policy->name);
	g_free(policy->uid);
	g_free(policy->key);
	score_selector_release(&policy->pod_selector);
	for (uint32_t i = 0; i < policy->n_ingress_rules; i++)
		rule_release(&policy->ingress_rules[i]);
	g_free(policy->ingress_rules);
	for (uint32_t i = 0; i < policy->n_egress_rules; i++)
		rule_release(&policy->egress_rules[i]);
	g_free(policy->egress_rules);
	g_free(policy);
}

bool score_network_policy_selects(const score_network_policy *policy,
				  const char *pod_namespace,
				  const score_labels *labels)
{
	static const score_labels none = {0};

	if (pod_namespace == NULL || policy->namespace == NULL ||
	    strcmp(pod_namespace, policy->namespace) != 0)
		return false;
	return score_selector_matches(&policy->pod_selector,
				      labels != NULL ? labels : &none);
}

bool score_network_policy_peer_has_pods(const score_network_policy_peer *peer)
{
	return peer->ip_block_cidr == NULL &&
	       (peer->has_pod_selector || peer->has_namespace_selector);
}

bool score_namespace_selector_matches(const score_selector *selector,
				      const score_model *model,
				      const char *name)
{
	const score_labels *labels = NULL;
	score_label name_label;
	score_labels only_name;

	if (model != NULL && name != NULL)
		labels = score_model_namespace_labels(model, name);
	if (labels != NULL)
		return score_selector_matches(selector, labels);

	/* Lookups compare keys with strcmp() and values by pointer, so the
	 * key need not be interned, but the value must be: pod and policy
	 * namespaces are. */
	name_label.key = SCORE_NAMESPACE_NAME_LABEL;
	name_label.value = name;
	only_name.items = &name_label;
	only_name.count = name != NULL ? 1 : 0;
	return score_selector_matches(selector, &only_name);
}

bool score_network_policy_peer_matches(const score_network_policy_peer *peer,
				       const char *policy_namespace,
				       const score_model *model,
				       const score_pod *pod)
{
	if (!score_network_policy_peer_has_pods(peer) || pod->namespace == NULL)
		return false;
	if (peer->has_namespace_selector) {
		if (!score_namespace_selector_matches(&peer->namespace_selector,
						      model, pod->namespace))
			return false;
	} else if (policy_namespace == NULL ||
		   strcmp(policy_namespace, pod->namespace) != 0) {
		return false;
	}
	return !peer->has_pod_selector ||
	       score_selector_matches(&peer->pod_selector, &pod->labels);
}
