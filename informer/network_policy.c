/* NetworkPolicy decoding; see network_policy.h.
 *
 * Field rules follow the networking.k8s.io/v1 types and the rules the API
 * server enforces on them: a peer sets ipBlock or selectors but not both,
 * endPort needs a numeric port no greater than it, In and NotIn need
 * values, and Exists and DoesNotExist take none. The API server rejects
 * such objects itself, so meeting one here means a broken stream or a
 * hand-written file.
 */
#include "informer/network_policy.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "informer/decode.h"

/* Field paths in messages, such as "spec.ingress[12].from[3].ipBlock". */
#define PATH_MAX_CHARS 160

/* ---- Decoding ------------------------------------------------------------ */

/* Returns the member `key` of `object`, NULL when absent or JSON null, as
 * Go's encoding/json treats null. */
static const cJSON *member(const cJSON *object, const char *key)
{
	const cJSON *item = inf_json_member(object, key);

	return cJSON_IsNull(item) ? NULL : item;
}

static int expect(const cJSON *item, cJSON_bool (*is)(const cJSON *),
		  const char *path, const char *what, score_error *err)
{
	if (item == NULL || is(item))
		return 0;
	return score_fail(err, -EINVAL, "%s: expected %s, got %s", path, what,
			  inf_json_type_name(item));
}

static int decode_requirement(const cJSON *expression, const char *path,
			      score_selector *selector, score_error *err)
{
	const cJSON *key = member(expression, "key");
	const cJSON *op = member(expression, "operator");
	const cJSON *values = member(expression, "values");
	const char **strings = NULL;
	score_selector_op parsed;
	size_t n = 0;
	int rc;

	rc = expect(expression, cJSON_IsObject, path, "an object", err);
	if (rc == 0 && (!cJSON_IsString(key) || key->valuestring[0] == '\0'))
		rc = score_fail(err, -EINVAL, "%s.key: missing; a requirement needs a label key",
				path);
	if (rc == 0 && !cJSON_IsString(op))
		rc = score_fail(err, -EINVAL,
				"%s.operator: missing; use In, NotIn, Exists or DoesNotExist",
				path);
	if (rc == 0)
		rc = expect(values, cJSON_IsArray, path, "a list of values", err);
	if (rc < 0)
		return rc;

	if (strcmp(op->valuestring, "In") == 0)
		parsed = SCORE_SELECTOR_IN;
	else if (strcmp(op->valuestring, "NotIn") == 0)
		parsed = SCORE_SELECTOR_NOT_IN;
	else if (strcmp(op->valuestring, "Exists") == 0)
		parsed = SCORE_SELECTOR_EXISTS;
	else if (strcmp(op->valuestring, "DoesNotExist") == 0)
		parsed = SCORE_SELECTOR_DOES_NOT_EXIST;
	else
		return score_fail(err, -EINVAL,
				  "%s.operator: invalid value \"%s\"; use In, NotIn, Exists or DoesNotExist",
				  path, op->valuestring);

	n = values != NULL ? (size_t)cJSON_GetArraySize(values) : 0;
	if ((parsed == SCORE_SELECTOR_IN || parsed == SCORE_SELECTOR_NOT_IN) && n == 0)
		return score_fail(err, -EINVAL,
				  "%s.values: must not be empty for operator %s",
				  path, op->valuestring);
	if ((parsed == SCORE_SELECTOR_EXISTS || parsed == SCORE_SELECTOR_DOES_NOT_EXIST) &&
	    n > 0)
		return score_fail(err, -EINVAL,
				  "%s.values: must be empty for operator %s", path,
				  op->valuestring);

	strings = g_new0(const char *, n + 1);
	n = 0;
	for (const cJSON *value = values != NULL ? values->child : NULL;
	     value != NULL; value = value->next) {
		if (!cJSON_IsString(value)) {
			g_free(strings);
			return score_fail(err, -EINVAL, "%s.values[%zu]: expected a string, got %s",
					  path, n, inf_json_type_name(value));
		}
		strings[n++] = value->valuestring;
	}
	score_selector_add(selector, key->valuestring, parsed, strings, n);
	g_free(strings);
	return 0;
}

/* Decodes a metav1.LabelSelector at `path` into `selector`, which the
 * caller initialized; on failure the caller releases it. */
static int decode_selector(const cJSON *object, const char *path,
			   score_selector *selector, score_error *err)
{
	const cJSON *labels = member(object, "matchLabels");
	const cJSON *expressions = member(object, "matchExpressions");
	char item_path[PATH_MAX_CHARS];
	int index = 0;
	int rc;

	rc = expect(object, cJSON_IsObject, path, "a label selector object", err);
	if (rc < 0)
		return rc;
	g_snprintf(item_path, sizeof(item_path), "%s.matchLabels", path);
	rc = expect(labels, cJSON_IsObject, item_path, "an object of labels", err);
	for (const cJSON *label = labels != NULL ? labels->child : NULL;
	     rc == 0 && label != NULL; label = label->next) {
		const char *value = label->valuestring;

		if (!cJSON_IsString(label))
			return score_fail(err, -EINVAL, "%s.%s: expected a string, got %s",
					  item_path, label->string, inf_json_type_name(label));
		score_selector_add(selector, label->string, SCORE_SELECTOR_IN, &value, 1);
	}
	g_snprintf(item_path, sizeof(item_path), "%s.matchExpressions", path);
	if (rc == 0)
		rc = expect(expressions, cJSON_IsArray, item_path, "a list", err);
	for (const cJSON *expression = expressions != NULL ? expressions->child : NULL;
	     rc == 0 && expression != NULL; expression = expression->next, index++) {
		g_snprintf(item_path, sizeof(item_path), "%s.matchExpressions[%d]",
			   path, index);
		rc = decode_requirement(expression, item_path, selector, err);
	}
	return rc;
}

static int decode_ip_block(const cJSON *block, const char *path,
			   score_network_policy_peer *peer, score_error *err)
{
	const cJSON *cidr = member(block, "cidr");
	const cJSON *except = member(block, "except");
	GPtrArray *list;
	int rc;

	rc = expect(block, cJSON_IsObject, path, "an object", err);
	if (rc == 0 && (!cJSON_IsString(cidr) || strchr(cidr->valuestring, '/') == NULL))
		rc = score_fail(err, -EINVAL,
				"%s.cidr: expected a CIDR such as 10.0.0.0/16, got %s",
				path, cJSON_IsString(cidr) ? cidr->valuestring : inf_json_type_name(cidr));
	if (rc == 0)
		rc = expect(except, cJSON_IsArray, path, "a list of CIDRs in except", err);
	if (rc < 0)
		return rc;

	peer->ip_block_cidr = g_strdup(cidr->valuestring);
	if (except == NULL)
		return 0;
	list = g_ptr_array_new();
	for (const cJSON *item = except->child; item != NULL; item = item->next) {
		if (!cJSON_IsString(item)) {
			g_ptr_array_set_free_func(list, g_free);
			g_ptr_array_unref(list);
			return score_fail(err, -EINVAL, "%s.except: expected CIDR strings, got %s",
					  path, inf_json_type_name(item));
		}
		g_ptr_array_add(list, g_strdup(item->valuestring));
	}
	g_ptr_array_add(list, NULL);
	peer->ip_block_except = (char **)g_ptr_array_free(list, false);
	return 0;
}

static int decode_peer(const cJSON *object, const char *path,
		       score_network_policy_peer *peer, score_error *err)
{
	const cJSON *pods = member(object, "podSelector");
	const cJSON *namespaces = member(object, "namespaceSelector");
	const cJSON *block = member(object, "ipBlock");
	char field[PATH_MAX_CHARS];
	int rc;

	rc = expect(object, cJSON_IsObject, path, "an object", err);
	if (rc < 0)
		return rc;
	if (block != NULL && (pods != NULL || namespaces != NULL))
		return score_fail(err, -EINVAL,
				  "%s: ipBlock cannot be combined with podSelector or namespaceSelector",
				  path);
	if (block == NULL && pods == NULL && namespaces == NULL)
		return score_fail(err, -EINVAL,
				  "%s: a peer needs podSelector, namespaceSelector or ipBlock",
				  path);
	if (block != NULL) {
		g_snprintf(field, sizeof(field), "%s.ipBlock", path);
		return decode_ip_block(block, field, peer, err);
	}
	if (pods != NULL) {
		peer->has_pod_selector = true;
		g_snprintf(field, sizeof(field), "%s.podSelector", path);
		rc = decode_selector(pods, field, &peer->pod_selector, err);
	}
	if (rc == 0 && namespaces != NULL) {
		peer->has_namespace_selector = true;
		g_snprintf(field, sizeof(field), "%s.namespaceSelector", path);
		rc = decode_selector(namespaces, field, &peer->namespace_selector, err);
	}
	return rc;
}

static int decode_port_number(const cJSON *item, const char *path,
			      int32_t *out, score_error *err)
{
	double value = item->valuedouble;

	if (!cJSON_IsNumber(item) || value != floor(value) || value < 1 || value > 65535)
		return score_fail(err, -EINVAL,
				  "%s: expected a port number from 1 to 65535, got %s",
				  path, cJSON_IsNumber(item) ? "a number out of range" :
							       inf_json_type_name(item));
	*out = (int32_t)value;
	return 0;
}

static int decode_port(const cJSON *object, const char *path,
		       score_network_policy_port *port, score_error *err)
{
	const cJSON *protocol = member(object, "protocol");
	const cJSON *number = member(object, "port");
	const cJSON *end = member(object, "endPort");
	char field[PATH_MAX_CHARS];
	int rc;

	rc = expect(object, cJSON_IsObject, path, "an object", err);
	if (rc < 0)
		return rc;
	if (protocol == NULL || (cJSON_IsString(protocol) &&
				 strcmp(protocol->valuestring, "TCP") == 0))
		port->protocol = SCORE_PROTOCOL_TCP;
	else if (cJSON_IsString(protocol) && strcmp(protocol->valuestring, "UDP") == 0)
		port->protocol = SCORE_PROTOCOL_UDP;
	else if (cJSON_IsString(protocol) && strcmp(protocol->valuestring, "SCTP") == 0)
		port->protocol = SCORE_PROTOCOL_SCTP;
	else
		return score_fail(err, -EINVAL,
				  "%s.protocol: invalid value %s%s%s; use TCP, UDP or SCTP",
				  path, cJSON_IsString(protocol) ? "\"" : "",
				  cJSON_IsString(protocol) ? protocol->valuestring :
							     inf_json_type_name(protocol),
				  cJSON_IsString(protocol) ? "\"" : "");

	g_snprintf(field, sizeof(field), "%s.port", path);
	if (cJSON_IsString(number)) {
		/* An IntOrString written as a string is a port name. */
		if (number->valuestring[0] == '\0')
			return score_fail(err, -EINVAL, "%s: an empty port name", field);
		port->port_name = score_intern(number->valuestring);
	} else if (number != NULL) {
		rc = decode_port_number(number, field, &port->port, err);
	}
	if (rc < 0 || end == NULL)
		return rc;

	g_snprintf(field, sizeof(field), "%s.endPort", path);
	rc = decode_port_number(end, field, &port->end_port, err);
	if (rc == 0 && (port->port == 0 || port->end_port < port->port))
		rc = score_fail(err, -EINVAL,
				"%s: endPort %d needs a numeric port no greater than it",
				path, (int)port->end_port);
	return rc;
}

/* Decodes one rule; `peers_key` is "from" for ingress, "to" for egress. */
static int decode_rule(const cJSON *object, const char *path,
		       const char *peers_key, score_network_policy_rule *rule,
		       score_error *err)
{
	const cJSON *peers = member(object, peers_key);
	const cJSON *ports = member(object, "ports");
	char field[PATH_MAX_CHARS];
	int rc;

	rc = expect(object, cJSON_IsObject, path, "an object", err);
	g_snprintf(field, sizeof(field), "%s.%s", path, peers_key);
	if (rc == 0)
		rc = expect(peers, cJSON_IsArray, field, "a list of peers", err);
	g_snprintf(field, sizeof(field), "%s.ports", path);
	if (rc == 0)
		rc = expect(ports, cJSON_IsArray, field, "a list of ports", err);
	if (rc < 0)
		return rc;

	if (peers != NULL && cJSON_GetArraySize(peers) > 0)
		rule->peers = g_new0(score_network_policy_peer, cJSON_GetArraySize(peers));
	for (const cJSON *peer = peers != NULL ? peers->child : NULL;
	     rc == 0 && peer != NULL; peer = peer->next) {
		g_snprintf(field, sizeof(field), "%s.%s[%u]", path, peers_key,
			   rule->n_peers);
		rc = decode_peer(peer, field, &rule->peers[rule->n_peers++], err);
	}
	if (ports != NULL && cJSON_GetArraySize(ports) > 0)
		rule->ports = g_new0(score_network_policy_port, cJSON_GetArraySize(ports));
	for (const cJSON *port = ports != NULL ? ports->child : NULL;
	     rc == 0 && port != NULL; port = port->next) {
		g_snprintf(field, sizeof(field), "%s.ports[%u]", path, rule->n_ports);
		rc = decode_port(port, field, &rule->ports[rule->n_ports++], err);
	}
	return rc;
}

static int decode_rules(const cJSON *spec, const char *key,
			const char *peers_key, score_network_policy_rule **out,
			uint32_t *n_out, score_error *err)
{
	const cJSON *rules = member(spec, key);
	char field[PATH_MAX_CHARS];
	int rc;

	g_snprintf(field, sizeof(field), "spec.%s", key);
	rc = expect(rules, cJSON_IsArray, field, "a list of rules", err);
	if (rc < 0 || rules == NULL || cJSON_GetArraySize(rules) == 0)
		return rc;
	*out = g_new0(score_network_policy_rule, cJSON_GetArraySize(rules));
	for (const cJSON *rule = rules->child; rc == 0 && rule != NULL;
	     rule = rule->next) {
		g_snprintf(field, sizeof(field), "spec.%s[%u]", key, *n_out);
		rc = decode_rule(rule, field, peers_key, &(*out)[(*n_out)++], err);
	}
	return rc;
}

/* Reads spec.policyTypes, or applies the API server's default. */
static int decode_policy_types(const cJSON *spec, score_network_policy *policy,
			       score_error *err)
{
	const cJSON *types = member(spec, "policyTypes");
	int index = 0;
	int rc;

	rc = expect(types, cJSON_IsArray, "spec.policyTypes", "a list", err);
	if (rc < 0)
		return rc;
	if (types == NULL || cJSON_GetArraySize(types) == 0) {
		policy->ingress = true;
		policy->egress = policy->n_egress_rules > 0;
		return 0;
	}
	for (const cJSON *type = types->child; type != NULL; type = type->next, index++) {
		if (cJSON_IsString(type) && strcmp(type->valuestring, "Ingress") == 0)
			policy->ingress = true;
		else if (cJSON_IsString(type) && strcmp(type->valuestring, "Egress") == 0)
			policy->egress = true;
		else
			return score_fail(err, -EINVAL,
					  "spec.policyTypes[%d]: invalid value %s; use Ingress or Egress",
					  index, cJSON_IsString(type) ? type->valuestring :
									inf_json_type_name(type));
	}
	return 0;
}

static int decode_metadata(const cJSON *object, score_network_policy *policy,
			   score_error *err)
{
	const cJSON *metadata = member(object, "metadata");
	const cJSON *name = member(metadata, "name");
	const cJSON *namespace = member(metadata, "namespace");
	const cJSON *uid = member(metadata, "uid");
	const char *namespace_text;

	if (!cJSON_IsObject(metadata) || !cJSON_IsString(name) ||
	    name->valuestring[0] == '\0')
		return score_fail(err, -EINVAL,
				  "metadata.name: missing; every NetworkPolicy needs a name");
	if (namespace != NULL && !cJSON_IsString(namespace))
		return score_fail(err, -EINVAL, "metadata.namespace: expected a string, got %s",
				  inf_json_type_name(namespace));
	/* The API server fills in the namespace; a file may leave it out. */
	namespace_text = namespace != NULL && namespace->valuestring[0] != '\0' ?
				 namespace->valuestring : "default";
	policy->name = score_intern(name->valuestring);
	policy->namespace = score_intern(namespace_text);
	policy->uid = g_strdup(cJSON_IsString(uid) ? uid->valuestring : "");
	policy->key = g_strdup_printf("%s/%s", namespace_text, name->valuestring);
	return 0;
}

int inf_network_policy_decode(const cJSON *object, score_network_policy **out,
			      score_error *err)
{
	score_network_policy *policy = score_network_policy_new();
	const cJSON *spec, *selector;
	int rc;

	*out = NULL;
	if (!cJSON_IsObject(object)) {
		rc = score_fail(err, -EINVAL, "expected a NetworkPolicy object, got %s",
				inf_json_type_name(object));
		goto out;
	}
	rc = decode_metadata(object, policy, err);
	if (rc < 0)
		goto out;
	spec = member(object, "spec");
	rc = expect(spec, cJSON_IsObject, "spec", "an object", err);
	if (rc < 0)
		goto out;

	/* podSelector is required by the API; an empty or absent one
	 * selects every pod of the namespace. */
	selector = member(spec, "podSelector");
	if (selector != NULL)
		rc = decode_selector(selector, "spec.podSelector", &policy->pod_selector,
				     err);
	if (rc == 0)
		rc = decode_rules(spec, "ingress", "from", &policy->ingress_rules,
				  &policy->n_ingress_rules, err);
	if (rc == 0)
		rc = decode_rules(spec, "egress", "to", &policy->egress_rules,
				  &policy->n_egress_rules, err);
	if (rc == 0)
		rc = decode_policy_types(spec, policy, err);
	if (rc == 0) {
		*out = policy;
		policy = NULL;
	}
out:
	if (rc < 0 && policy != NULL && policy->key != NULL)
		score_error_prefix(err, "NetworkPolicy %s", policy->key);
	score_network_policy_unref(policy);
	return rc;
}
