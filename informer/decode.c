/* Kubernetes v1 Pod and Node objects into the cluster model; see decode.h.
 *
 * Field paths in error messages join object keys with '.' and array
 * indexes with [i], for example spec.containers[1].resources.requests.cpu.
 * Kubernetes field names are case-sensitive, so object members are looked up
 * with cJSON_GetObjectItemCaseSensitive(). A member that is JSON null reads
 * as absent, as Go's encoding/json leaves the zero value in place for null.
 */
#include "informer/decode.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scoring/bandwidth.h"
#include "scoring/quantity.h"

/* Field paths longer than this are cut in error messages. */
#define FIELD_PATH_MAX 256

/* ---- JSON helpers -------------------------------------------------------- */

const char *inf_json_type_name(const cJSON *item)
{
	if (item == NULL)
		return "nothing";
	if (cJSON_IsObject(item))
		return "an object";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	return "an unknown JSON type";
}

static void path_member(char *buf, size_t size, const char *path,
			const char *key)
{
	if (path[0] == '\0')
		g_snprintf(buf, size, "%s", key);
	else
		g_snprintf(buf, size, "%s.%s", path, key);
}

static void path_element(char *buf, size_t size, const char *path, int index)
{
	g_snprintf(buf, size, "%s[%d]", path, index);
}

/* Fails with -EINVAL and "PATH: message". */
static int field_fail(score_error *err, const char *path, const char *format,
		      ...) G_GNUC_PRINTF(3, 4);

static int field_fail(score_error *err, const char *path, const char *format,
		      ...)
{
	char message[SCORE_ERROR_MESSAGE_MAX];
	va_list args;

	va_start(args, format);
	g_vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	return score_fail(err, -EINVAL, "%s: %s", path, message);
}

/* Returns member `key` of `object`, or NULL when it is absent or null. */
static const cJSON *member(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsNull(item) ? NULL : item;
}

/* The member_* helpers read `key` of `object`, whose own path is `path`,
 * store NULL (or false) when it is absent and fail naming "path.key" when
 * it has another JSON type. */
static int member_object(const cJSON *object, const char *path,
			 const char *key, const cJSON **out, score_error *err)
{
	const cJSON *item = member(object, key);
	char field[FIELD_PATH_MAX];

	*out = NULL;
	if (item == NULL)
		return 0;
	if (!cJSON_IsObject(item)) {
		path_member(field, sizeof(field), path, key);
		return field_fail(err, field, "expected an object, got %s",
				  inf_json_type_name(item));
	}
	*out = item;
	return 0;
}

static int member_array(const cJSON *object, const char *path, const char *key,
			const cJSON **out, score_error *err)
{
	const cJSON *item = member(object, key);
	char field[FIELD_PATH_MAX];

	*out = NULL;
	if (item == NULL)
		return 0;
	if (!cJSON_IsArray(item)) {
		path_member(field, sizeof(field), path, key);
		return field_fail(err, field, "expected an array, got %s",
				  inf_json_type_name(item));
	}
	*out = item;
	return 0;
}

/* Stores NULL for an absent member and for the empty string. */
static int member_string(const cJSON *object, const char *path,
			 const char *key, const char **out, score_error *err)
{
	const cJSON *item = member(object, key);
	char field[FIELD_PATH_MAX];

	*out = NULL;
	if (item == NULL)
		return 0;
	if (!cJSON_IsString(item)) {
		path_member(field, sizeof(field), path, key);
		return field_fail(err, field, "expected a string, got %s",
				  inf_json_type_name(item));
	}
	if (item->valuestring[0] != '\0')
		*out = item->valuestring;
	return 0;
}

static int member_bool(const cJSON *object, const char *path, const char *key,
		       bool *out, score_error *err)
{
	const cJSON *item = member(object, key);
	char field[FIELD_PATH_MAX];

	*out = false;
	if (item == NULL)
		return 0;
	if (!cJSON_IsBool(item)) {
		path_member(field, sizeof(field), path, key);
		return field_fail(err, field, "expected true or false, got %s",
				  inf_json_type_name(item));
	}
	*out = cJSON_IsTrue(item);
	return 0;
}

static int expect_object(const cJSON *item, const char *path,
			 score_error *err)
{
	if (cJSON_IsObject(item))
		return 0;
	return field_fail(err, path, "expected an object, got %s",
			  inf_json_type_name(item));
}

/* ---- Quantities and resource lists -------------------------------------- */

/* Writes a JSON number as quantity text. Kubernetes parses an unquoted
 * quantity from its JSON text, but cJSON keeps only a double, so integers
 * are written exactly and other values with the fewest digits that read
 * back as the same double ("0.1", not "0.10000000000000001").
 * NOTE: integers above 2^53 were already rounded by the JSON parser. */
static bool number_to_quantity_text(double number, char *buf, size_t size)
{
	static const char *const formats[] = {"%.15g", "%.16g", "%.17g"};

	if (!isfinite(number))
		return false;

	if (number == floor(number) && fabs(number) < 9.2e18) {
		g_snprintf(buf, size, "%" PRId64, (int64_t)number);
		return true;
	}

	/* The g_ascii_ functions ignore the locale's decimal separator. */
	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_ascii_formatd(buf, (gint)size, formats[i], number);
		if (g_ascii_strtod(buf, NULL) == number)
			break;
	}
	return true;
}

/* Returns the unit the model counts `resource` in, for messages: "" for
 * a resource counted in plain numbers, such as an extended resource. */
static const char *resource_unit(const char *resource)
{
	if (strcmp(resource, "cpu") == 0)
		return " cores";
	if (strcmp(resource, "memory") == 0 ||
	    strcmp(resource, "ephemeral-storage") == 0 ||
	    g_str_has_prefix(resource, "hugepages-"))
		return " bytes";
	if (strcmp(resource, "pods") == 0)
		return " pods";
	return "";
}

/* Fails for the amount `text` of `resource`, which does not fit the
 * model's int64 count (millicores for CPU), with the largest amount
 * accepted and its unit. */
static int resource_range_fail(score_error *err, const char *path,
			       const char *resource, bool milli, const char *text)
{
	/* INT64_MAX millicores, and INT64_MAX in plain units (8Ei bytes). */
	return field_fail(err, path,
			  "quantity \"%s\" is out of range: the largest %s amount accepted is %s%s%s",
			  text, resource,
			  milli ? "9223372036854775.807" : "9223372036854775807",
			  resource_unit(resource),
			  milli ? " (2^63-1 millicores)" : " (2^63-1)");
}

/* Parses the quantity at `path`, the amount of `resource`, in millicores
 * for CPU and in plain units (Quantity.Value()) for everything else. */
static int parse_quantity(const cJSON *item, const char *resource, bool milli,
			  const char *path, int64_t *out, score_error *err)
{
	char number[64];
	const char *text;
	int rc;

	if (cJSON_IsString(item)) {
		text = item->valuestring;
	} else if (cJSON_IsNumber(item)) {
		if (!number_to_quantity_text(item->valuedouble, number,
					     sizeof(number)))
			return field_fail(err, path,
					  "invalid quantity: the number is not finite");
		text = number;
	} else {
		return field_fail(err, path,
				  "expected a quantity such as \"500m\" or \"2Gi\", got %s",
				  inf_json_type_name(item));
	}

	if (milli)
		rc = score_quantity_parse_milli(text, out, err);
	else
		rc = score_quantity_parse_value(text, out, err);
	/* The API server rejects negative requests and capacities, so a
	 * negative amount here comes from a hand-written file. */
	if ((rc == 0 && *out < 0) || (rc == -ERANGE && text[0] == '-'))
		return field_fail(err, path,
				  "invalid quantity \"%s\": a resource amount must not be negative",
				  text);
	if (rc == -ERANGE)
		return resource_range_fail(err, path, resource, milli, text);
	if (rc < 0) {
		score_error_prefix(err, "%s", path);
		return rc;
	}
	return 0;
}

/* Decodes a v1.ResourceList (resource name -> quantity) at `path` into
 * `out` and sets bit i of `*present` for each slot it writes. With
 * `only_missing`, resources whose bit is already set are left alone, which
 * is how limits fill in requests. A zero amount of a resource the table has
 * not met takes no slot: an absent slot already reads as zero, and slots
 * are few. */
static int decode_resource_list(const cJSON *list, const char *path,
				bool only_missing,
				score_resource_table *resources,
				score_resources *out, uint32_t *present,
				score_error *err)
{
	const cJSON *item;
	char field[FIELD_PATH_MAX];

	cJSON_ArrayForEach(item, list) {
		const char *name = item->string;
		bool milli = strcmp(name, "cpu") == 0;
		int64_t amount;
		int slot;
		int rc;

		slot = score_resource_find(resources, name);
		if (only_missing && slot >= 0 && (*present & (1u << slot)))
			continue;

		path_member(field, sizeof(field), path, name);
		rc = parse_quantity(item, name, milli, field, &amount, err);
		if (rc < 0)
			return rc;

		if (slot < 0) {
			if (amount == 0)
				continue;
			slot = score_resource_index(resources, name, err);
			if (slot < 0) {
				score_error_prefix(err, "%s", field);
				return slot;
			}
		}
		out->v[slot] = amount;
		*present |= 1u << slot;
	}
	return 0;
}

/* ---- Labels, taints, tolerations ---------------------------------------- */

/* Reads the string map `key` of `object` (metadata.labels, a Service's
 * spec.selector) into `labels`. */
static int decode_labels_member(const cJSON *object, const char *path,
				const char *key, score_labels *labels,
				score_error *err)
{
	const cJSON *map;
	const cJSON *item;
	char map_path[FIELD_PATH_MAX];
	char field[FIELD_PATH_MAX];
	int rc;

	rc = member_object(object, path, key, &map, err);
	if (rc < 0)
		return rc;

	cJSON_ArrayForEach(item, map) {
		if (cJSON_IsNull(item)) {
			score_labels_set(labels, item->string, "");
			continue;
		}
		if (!cJSON_IsString(item)) {
			path_member(map_path, sizeof(map_path), path, key);
			path_member(field, sizeof(field), map_path, item->string);
			return field_fail(err, field,
					  "expected a string label value, got %s",
					  inf_json_type_name(item));
		}
		score_labels_set(labels, item->string, item->valuestring);
	}
	return 0;
}

static int decode_labels(const cJSON *object, const char *path,
			 score_labels *labels, score_error *err)
{
	return decode_labels_member(object, path, "labels", labels, err);
}

static int parse_effect(const char *text, bool allow_empty, const char *path,
			score_taint_effect *out, score_error *err)
{
	if (text == NULL) {
		if (allow_empty) {
			*out = SCORE_EFFECT_ANY;
			return 0;
		}
		return field_fail(err, path,
				  "missing; a taint needs the effect NoSchedule, PreferNoSchedule or NoExecute");
	}
	if (strcmp(text, "NoSchedule") == 0)
		*out = SCORE_EFFECT_NO_SCHEDULE;
	else if (strcmp(text, "PreferNoSchedule") == 0)
		*out = SCORE_EFFECT_PREFER_NO_SCHEDULE;
	else if (strcmp(text, "NoExecute") == 0)
		*out = SCORE_EFFECT_NO_EXECUTE;
	else
		return field_fail(err, path,
				  "invalid effect \"%s\": expected NoSchedule, PreferNoSchedule or NoExecute%s",
				  text, allow_empty ? " or empty for all effects" : "");
	return 0;
}

static int decode_toleration(const cJSON *item, const char *path,
			     score_toleration *out, score_error *err)
{
	const char *key;
	const char *op;
	const char *value;
	const char *effect;
	char field[FIELD_PATH_MAX];
	int rc;

	rc = expect_object(item, path, err);
	if (rc == 0)
		rc = member_string(item, path, "key", &key, err);
	if (rc == 0)
		rc = member_string(item, path, "operator", &op, err);
	if (rc == 0)
		rc = member_string(item, path, "value", &value, err);
	if (rc == 0)
		rc = member_string(item, path, "effect", &effect, err);
	if (rc < 0)
		return rc;

	/* An empty operator means Equal, as the API documents. */
	if (op == NULL || strcmp(op, "Equal") == 0) {
		out->op = SCORE_TOLERATION_EQUAL;
	} else if (strcmp(op, "Exists") == 0) {
		out->op = SCORE_TOLERATION_EXISTS;
	} else {
		path_member(field, sizeof(field), path, "operator");
		return field_fail(err, field,
				  "invalid operator \"%s\": expected Exists or Equal",
				  op);
	}

	path_member(field, sizeof(field), path, "effect");
	rc = parse_effect(effect, true, field, &out->effect, err);
	if (rc < 0)
		return rc;

	out->key = score_intern(key);
	out->value = score_intern(value);
	return 0;
}

static int decode_tolerations(const cJSON *spec, score_pod *pod,
			      score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(spec, "spec", "tolerations", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	pod->tolerations = g_new0(score_toleration, cJSON_GetArraySize(list));
	cJSON_ArrayForEach(item, list) {
		path_element(field, sizeof(field), "spec.tolerations", index++);
		rc = decode_toleration(item, field,
				       &pod->tolerations[pod->n_tolerations], err);
		if (rc < 0)
			return rc;
		pod->n_tolerations++;
	}
	return 0;
}

static int decode_taint(const cJSON *item, const char *path, score_taint *out,
			score_error *err)
{
	const char *key;
	const char *value;
	const char *effect;
	char field[FIELD_PATH_MAX];
	int rc;

	rc = expect_object(item, path, err);
	if (rc == 0)
		rc = member_string(item, path, "key", &key, err);
	if (rc == 0)
		rc = member_string(item, path, "value", &value, err);
	if (rc == 0)
		rc = member_string(item, path, "effect", &effect, err);
	if (rc < 0)
		return rc;

	if (key == NULL) {
		path_member(field, sizeof(field), path, "key");
		return field_fail(err, field, "missing; every taint needs a key");
	}
	path_member(field, sizeof(field), path, "effect");
	rc = parse_effect(effect, false, field, &out->effect, err);
	if (rc < 0)
		return rc;

	out->key = score_intern(key);
	out->value = score_intern(value);
	return 0;
}

static int decode_taints(const cJSON *spec, score_node *node, score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(spec, "spec", "taints", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	node->taints = g_new0(score_taint, cJSON_GetArraySize(list));
	cJSON_ArrayForEach(item, list) {
		path_element(field, sizeof(field), "spec.taints", index++);
		rc = decode_taint(item, field, &node->taints[node->n_taints], err);
		if (rc < 0)
			return rc;
		node->n_taints++;
	}
	return 0;
}

/* ---- Pods ---------------------------------------------------------------- */

/* Decodes one entry of spec.containers or spec.initContainers. A resource
 * with a limit and no request gets the limit as its request, as the API
 * server's defaulting (SetDefaults_Pod) does. Objects read from an API
 * server already carry those requests, but hand-written files may not. */
static int decode_container(const cJSON *item, const char *path, bool init,
			    score_resource_table *resources,
			    score_container *out, score_error *err)
{
	const cJSON *requirements;
	const cJSON *requests;
	const cJSON *limits;
	const char *restart_policy;
	char field[FIELD_PATH_MAX];
	int rc;

	rc = expect_object(item, path, err);
	if (rc == 0)
		rc = member_object(item, path, "resources", &requirements, err);
	if (rc < 0)
		return rc;

	path_member(field, sizeof(field), path, "resources");
	rc = member_object(requirements, field, "requests", &requests, err);
	if (rc == 0)
		rc = member_object(requirements, field, "limits", &limits, err);
	if (rc < 0)
		return rc;

	path_member(field, sizeof(field), path, "resources.requests");
	rc = decode_resource_list(requests, field, false, resources,
				  &out->requests, &out->present, err);
	if (rc < 0)
		return rc;
	path_member(field, sizeof(field), path, "resources.limits");
	rc = decode_resource_list(limits, field, true, resources,
				  &out->requests, &out->present, err);
	if (rc < 0)
		return rc;

	/* Only "Always" is valid on an init container, and it makes the init
	 * container a sidecar. Regular containers' restartPolicy does not
	 * change their requests. */
	if (init) {
		rc = member_string(item, path, "restartPolicy", &restart_policy,
				   err);
		if (rc < 0)
			return rc;
		out->restartable = restart_policy != NULL &&
				   strcmp(restart_policy, "Always") == 0;
	}
	return 0;
}

static int decode_containers(const cJSON *spec, const char *key, bool init,
			     score_resource_table *resources,
			     score_container **out, size_t *count,
			     score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char list_path[FIELD_PATH_MAX];
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	*out = NULL;
	*count = 0;
	rc = member_array(spec, "spec", key, &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	path_member(list_path, sizeof(list_path), "spec", key);
	*out = g_new0(score_container, cJSON_GetArraySize(list));
	cJSON_ArrayForEach(item, list) {
		path_element(field, sizeof(field), list_path, index);
		rc = decode_container(item, field, init, resources,
				      &(*out)[index], err);
		if (rc < 0)
			return rc;
		index++;
	}
	*count = (size_t)index;
	return 0;
}

/* Kubernetes' PodLevelResources feature (beta and on by default since
 * v1.34): spec.resources.requests, when set, replace the containers' sum
 * for CPU, memory and hugepages-* in PodRequests(), before the overhead is
 * added, both for fit and for scoring. Other resources there are ignored. */
static int decode_pod_level_requests(const cJSON *spec,
				     score_resource_table *resources,
				     score_resources *out, uint32_t *present,
				     score_error *err)
{
	const cJSON *requirements;
	const cJSON *requests;
	const cJSON *item;
	score_resources all = {0};
	uint32_t all_present = 0;
	int rc;

	*present = 0;
	rc = member_object(spec, "spec", "resources", &requirements, err);
	if (rc == 0)
		rc = member_object(requirements, "spec.resources", "requests",
				   &requests, err);
	if (rc < 0 || requirements == NULL)
		return rc;

	rc = decode_resource_list(requests, "spec.resources.requests", false,
				  resources, &all, &all_present, err);
	if (rc < 0)
		return rc;

	cJSON_ArrayForEach(item, requests) {
		const char *name = item->string;
		int slot;

		if (strcmp(name, "cpu") != 0 && strcmp(name, "memory") != 0 &&
		    !g_str_has_prefix(name, "hugepages-"))
			continue;
		slot = score_resource_find(resources, name);
		if (slot < 0 || !(all_present & (1u << slot)))
			continue;
		out->v[slot] = all.v[slot];
		*present |= 1u << slot;
	}
	return 0;
}

static int decode_pod_requests(const cJSON *spec,
			       score_resource_table *resources, score_pod *pod,
			       score_error *err)
{
	score_container *containers = NULL;
	score_container *init_containers = NULL;
	size_t n_containers = 0;
	size_t n_init_containers = 0;
	const cJSON *overhead_list;
	score_resources overhead = {0};
	score_resources pod_level = {0};
	uint32_t overhead_present = 0;
	uint32_t pod_level_present = 0;
	int rc;

	rc = decode_containers(spec, "containers", false, resources,
			       &containers, &n_containers, err);
	if (rc < 0)
		goto out;
	rc = decode_containers(spec, "initContainers", true, resources,
			       &init_containers, &n_init_containers, err);
	if (rc < 0)
		goto out;

	rc = member_object(spec, "spec", "overhead", &overhead_list, err);
	if (rc < 0)
		goto out;
	rc = decode_resource_list(overhead_list, "spec.overhead", false,
				  resources, &overhead, &overhead_present, err);
	if (rc < 0)
		goto out;

	rc = decode_pod_level_requests(spec, resources, &pod_level,
				       &pod_level_present, err);
	if (rc < 0)
		goto out;

	score_pod_compute_request(containers, n_containers, init_containers,
				  n_init_containers, NULL, &pod->request,
				  &pod->nonzero_request);
	for (int i = 0; i < SCORE_RES_MAX; i++) {
		if (pod_level_present & (1u << i)) {
			pod->request.v[i] = pod_level.v[i];
			pod->nonzero_request.v[i] = pod_level.v[i];
		}
	}
	score_resources_add(&pod->request, &overhead);
	score_resources_add(&pod->nonzero_request, &overhead);
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request.v[SCORE_RES_PODS] = 1;

out:
	g_free(containers);
	g_free(init_containers);
	return rc;
}

/* ---- Isolation inputs ---------------------------------------------------- */

/* Reads the integer member `key` into `*out`, 0 when absent. A number with
 * a fraction or outside [min, max] fails naming "path.key". */
static int member_int(const cJSON *object, const char *path, const char *key,
		      int64_t min, int64_t max, int64_t *out, score_error *err)
{
	const cJSON *item = member(object, key);
	char field[FIELD_PATH_MAX];
	double value;

	*out = 0;
	if (item == NULL)
		return 0;
	path_member(field, sizeof(field), path, key);
	if (!cJSON_IsNumber(item))
		return field_fail(err, field, "expected an integer, got %s",
				  inf_json_type_name(item));
	value = item->valuedouble;
	if (value != floor(value) || value < (double)min || value > (double)max)
		return field_fail(err, field,
				  "invalid value %g: expected an integer from %" PRId64 " to %" PRId64,
				  value, min, max);
	*out = (int64_t)value;
	return 0;
}

/* Sets `*privileged` when the container's securityContext.privileged is
 * true; leaves it alone otherwise. */
static int decode_privileged(const cJSON *container, const char *path,
			     bool *privileged, score_error *err)
{
	const cJSON *context;
	char field[FIELD_PATH_MAX];
	bool value;
	int rc;

	rc = member_object(container, path, "securityContext", &context, err);
	if (rc < 0 || context == NULL)
		return rc;
	path_member(field, sizeof(field), path, "securityContext");
	rc = member_bool(context, field, "privileged", &value, err);
	if (rc == 0 && value)
		*privileged = true;
	return rc;
}

static int parse_protocol(const char *text, const char *path,
			  score_protocol *out, score_error *err)
{
	/* The API server defaults an empty protocol to TCP. */
	if (text == NULL || strcmp(text, "TCP") == 0)
		*out = SCORE_PROTOCOL_TCP;
	else if (strcmp(text, "UDP") == 0)
		*out = SCORE_PROTOCOL_UDP;
	else if (strcmp(text, "SCTP") == 0)
		*out = SCORE_PROTOCOL_SCTP;
	else
		return field_fail(err, path,
				  "invalid protocol \"%s\": expected TCP, UDP or SCTP",
				  text);
	return 0;
}

static void add_host_port(score_pod *pod, const char *host_ip, int64_t port,
			  score_protocol protocol)
{
	score_host_port *entry;

	pod->host_ports = g_renew(score_host_port, pod->host_ports,
				  pod->n_host_ports + 1);
	entry = &pod->host_ports[pod->n_host_ports++];
	/* An empty hostIP and 0.0.0.0 both bind every address. */
	if (host_ip != NULL && strcmp(host_ip, "0.0.0.0") == 0)
		host_ip = NULL;
	entry->host_ip = score_intern(host_ip);
	entry->port = (int32_t)port;
	entry->protocol = protocol;
}

/* Adds the host ports of one container's ports list. A hostNetwork pod's
 * container ports are host ports: the API server defaults hostPort to
 * containerPort there (SetDefaults_PodSpec), and hand-written files may
 * omit it. */
static int decode_ports(const cJSON *container, const char *path,
			score_pod *pod, score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char list_path[FIELD_PATH_MAX];
	char field[FIELD_PATH_MAX];
	char protocol_path[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(container, path, "ports", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	path_member(list_path, sizeof(list_path), path, "ports");
	cJSON_ArrayForEach(item, list) {
		int64_t container_port;
		int64_t host_port;
		const char *protocol_text;
		const char *host_ip;
		score_protocol protocol = SCORE_PROTOCOL_TCP;

		path_element(field, sizeof(field), list_path, index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = member_int(item, field, "containerPort", 0, 65535,
					&container_port, err);
		if (rc == 0)
			rc = member_int(item, field, "hostPort", 0, 65535,
					&host_port, err);
		if (rc == 0)
			rc = member_string(item, field, "protocol",
					   &protocol_text, err);
		if (rc == 0)
			rc = member_string(item, field, "hostIP", &host_ip, err);
		if (rc < 0)
			return rc;

		path_member(protocol_path, sizeof(protocol_path), field,
			    "protocol");
		rc = parse_protocol(protocol_text, protocol_path, &protocol, err);
		if (rc < 0)
			return rc;

		if (host_port == 0 && pod->host_network)
			host_port = container_port;
		if (host_port > 0)
			add_host_port(pod, host_ip, host_port, protocol);
	}
	return 0;
}

/* Walks spec.containers, spec.initContainers or spec.ephemeralContainers
 * for privileged containers and host ports. kube-scheduler's NodePorts
 * counts the ports of app containers, and of restartable init containers
 * since v1.34 and the v1.33 patch releases. Ephemeral containers cannot
 * declare ports. */
static int decode_container_access(const cJSON *spec, const char *key,
				   score_pod *pod, score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char list_path[FIELD_PATH_MAX];
	char field[FIELD_PATH_MAX];
	bool init = strcmp(key, "initContainers") == 0;
	bool ephemeral = strcmp(key, "ephemeralContainers") == 0;
	int index = 0;
	int rc;

	rc = member_array(spec, "spec", key, &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	path_member(list_path, sizeof(list_path), "spec", key);
	cJSON_ArrayForEach(item, list) {
		const char *restart_policy = NULL;

		path_element(field, sizeof(field), list_path, index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = decode_privileged(item, field, &pod->privileged, err);
		if (rc == 0 && init)
			rc = member_string(item, field, "restartPolicy",
					   &restart_policy, err);
		if (rc < 0)
			return rc;
		if (ephemeral || (init && (restart_policy == NULL ||
					   strcmp(restart_policy, "Always") != 0)))
			continue;
		rc = decode_ports(item, field, pod, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int decode_volumes(const cJSON *spec, score_pod *pod, score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(spec, "spec", "volumes", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	cJSON_ArrayForEach(item, list) {
		const cJSON *host_path;

		path_element(field, sizeof(field), "spec.volumes", index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = member_object(item, field, "hostPath", &host_path,
					   err);
		if (rc < 0)
			return rc;
		if (host_path != NULL)
			pod->uses_host_path = true;
	}
	return 0;
}

static int decode_pod_access(const cJSON *spec, score_pod *pod,
			     score_error *err)
{
	const char *runtime_class;
	int rc;

	rc = member_bool(spec, "spec", "hostNetwork", &pod->host_network, err);
	if (rc == 0)
		rc = member_bool(spec, "spec", "hostPID", &pod->host_pid, err);
	if (rc == 0)
		rc = member_bool(spec, "spec", "hostIPC", &pod->host_ipc, err);
	if (rc == 0)
		rc = member_string(spec, "spec", "runtimeClassName",
				   &runtime_class, err);
	if (rc < 0)
		return rc;
	pod->runtime_class_name = score_intern(runtime_class);

	/* hostNetwork must be known before the ports are read. */
	rc = decode_container_access(spec, "containers", pod, err);
	if (rc == 0)
		rc = decode_container_access(spec, "initContainers", pod, err);
	if (rc == 0)
		rc = decode_container_access(spec, "ephemeralContainers", pod,
					     err);
	if (rc == 0)
		rc = decode_volumes(spec, pod, err);
	return rc;
}

/* Keeps the ownerReference marked controller: true; Kubernetes allows at
 * most one. */
static int decode_owner(const cJSON *metadata, score_pod *pod,
			score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(metadata, "metadata", "ownerReferences", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	cJSON_ArrayForEach(item, list) {
		const char *kind = NULL;
		const char *name = NULL;
		const char *uid = NULL;
		bool controller = false;

		path_element(field, sizeof(field), "metadata.ownerReferences",
			     index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = member_bool(item, field, "controller", &controller,
					 err);
		if (rc == 0)
			rc = member_string(item, field, "kind", &kind, err);
		if (rc == 0)
			rc = member_string(item, field, "name", &name, err);
		if (rc == 0)
			rc = member_string(item, field, "uid", &uid, err);
		if (rc < 0)
			return rc;
		if (!controller || pod->owner.kind != NULL)
			continue;
		if (kind == NULL) {
			char kind_path[FIELD_PATH_MAX];

			path_member(kind_path, sizeof(kind_path), field, "kind");
			return field_fail(err, kind_path,
					  "missing; a controller reference needs the owner's kind");
		}
		pod->owner.kind = score_intern(kind);
		pod->owner.name = score_intern(name);
		pod->owner.uid = score_intern(uid);
	}
	return 0;
}

static int parse_phase(const char *text, score_pod_phase *out)
{
	static const struct {
		const char *name;
		score_pod_phase phase;
	} phases[] = {
		{"Pending", SCORE_POD_PENDING},
		{"Running", SCORE_POD_RUNNING},
		{"Succeeded", SCORE_POD_SUCCEEDED},
		{"Failed", SCORE_POD_FAILED},
		{"Unknown", SCORE_POD_UNKNOWN},
	};

	/* A pod the kubelet has not reported on yet has no phase. */
	if (text == NULL) {
		*out = SCORE_POD_PENDING;
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(phases); i++) {
		if (strcmp(text, phases[i].name) == 0) {
			*out = phases[i].phase;
			return 0;
		}
	}
	return -EINVAL;
}

static int decode_pod_metadata(const cJSON *object, score_pod *pod,
			       score_error *err)
{
	const cJSON *metadata;
	const char *uid;
	const char *name;
	const char *namespace;
	int rc;

	rc = member_object(object, "", "metadata", &metadata, err);
	if (rc < 0)
		return rc;
	if (metadata == NULL)
		return field_fail(err, "metadata",
				  "missing; a pod needs metadata.name");

	rc = member_string(metadata, "metadata", "uid", &uid, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "name", &name, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "namespace", &namespace,
				   err);
	if (rc < 0)
		return rc;
	if (name == NULL)
		return field_fail(err, "metadata.name",
				  "missing; every pod needs a name");
	if (namespace == NULL)
		namespace = "default";

	pod->name = score_intern(name);
	pod->namespace = score_intern(namespace);
	if (uid != NULL) {
		pod->uid = score_intern(uid);
	} else {
		char *key = g_strdup_printf("%s/%s", namespace, name);

		pod->uid = score_intern(key);
		g_free(key);
	}

	rc = decode_owner(metadata, pod, err);
	if (rc < 0)
		return rc;
	return decode_labels(metadata, "metadata", &pod->labels, err);
}

/* ---- Bandwidth annotations ---------------------------------------------- */

/* Appends "pod NS/NAME: annotation KEY: <problem>; the annotation is
 * ignored" to `warnings` unless it is NULL. */
static void add_warning(GPtrArray *warnings, const score_pod *pod,
			const char *annotation, const char *format, ...)
	G_GNUC_PRINTF(4, 5);

static void add_warning(GPtrArray *warnings, const score_pod *pod,
			const char *annotation, const char *format, ...)
{
	va_list args;
	char *problem;

	if (warnings == NULL)
		return;
	va_start(args, format);
	problem = g_strdup_vprintf(format, args);
	va_end(args);
	g_ptr_array_add(warnings,
			g_strdup_printf("pod %s/%s: annotation %s: %s; the annotation is ignored",
					pod->namespace, pod->name, annotation,
					problem));
	g_free(problem);
}

/* Returns a valid quantity (owned) close to the invalid bandwidth `text`:
 * "300M" for "300Mbps" or "300Mbit/s", else "10M". */
static char *suggest_bandwidth(const char *text)
{
	static const char *const units[] = {"bps", "bit/s", "bits/s", "b/s",
					    "bit", "b"};
	score_error parse_error = {0};
	int64_t value;

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		char *stem;

		if (!g_str_has_suffix(text, units[i]) ||
		    strlen(text) == strlen(units[i]))
			continue;
		stem = g_strndup(text, strlen(text) - strlen(units[i]));
		if (score_quantity_parse_value(stem, &value, &parse_error) == 0 &&
		    value >= SCORE_MIN_POD_BANDWIDTH &&
		    value <= SCORE_MAX_POD_BANDWIDTH)
			return stem;
		g_free(stem);
	}
	return g_strdup("10M");
}

/* Reads one bandwidth annotation into `*bits`, leaving it 0 when the
 * annotation is absent or invalid. The kubelet rejects values outside
 * 1k..1P (k8s.io/kubernetes pkg/util/bandwidth), so they are ignored here
 * too, with a warning, instead of failing the whole pod. */
static void decode_bandwidth(const cJSON *annotations, const char *annotation,
			     const score_pod *pod, GPtrArray *warnings,
			     int64_t *bits)
{
	const cJSON *item = member(annotations, annotation);
	score_error parse_error = {0};
	const char *text;
	int64_t value;
	int rc;

	*bits = 0;
	if (item == NULL)
		return;
	if (!cJSON_IsString(item)) {
		add_warning(warnings, pod, annotation,
			    "expected a string such as \"10M\", got %s",
			    inf_json_type_name(item));
		return;
	}

	text = item->valuestring;
	rc = score_quantity_parse_value(text, &value, &parse_error);
	/* A quantity beyond int64, such as 1e20, is out of range too. */
	if (rc == -ERANGE || (rc == 0 && (value < SCORE_MIN_POD_BANDWIDTH ||
					  value > SCORE_MAX_POD_BANDWIDTH))) {
		add_warning(warnings, pod, annotation,
			    "invalid value \"%s\": out of range: the kubelet accepts 1k to 1P bits per second",
			    text);
	} else if (rc < 0) {
		char *suggestion = suggest_bandwidth(text);

		add_warning(warnings, pod, annotation,
			    "invalid value \"%s\": expected a quantity of bits per second; use a quantity such as %s",
			    text, suggestion);
		g_free(suggestion);
	} else {
		*bits = value;
	}
}

static int decode_pod_bandwidth(const cJSON *object, score_pod *pod,
				GPtrArray *warnings, score_error *err)
{
	const cJSON *metadata = member(object, "metadata");
	const cJSON *annotations;
	int rc;

	rc = member_object(metadata, "metadata", "annotations", &annotations,
			   err);
	if (rc < 0 || annotations == NULL)
		return rc;
	decode_bandwidth(annotations, INF_INGRESS_BANDWIDTH_ANNOTATION, pod,
			 warnings, &pod->ingress_bandwidth);
	decode_bandwidth(annotations, INF_EGRESS_BANDWIDTH_ANNOTATION, pod,
			 warnings, &pod->egress_bandwidth);
	return 0;
}

int inf_decode_pod(const cJSON *object, score_resource_table *resources,
		   score_pod **out, score_error *err)
{
	return inf_decode_pod_with_warnings(object, resources, out, NULL, err);
}

int inf_decode_pod_with_warnings(const cJSON *object,
				 score_resource_table *resources,
				 score_pod **out, GPtrArray *warnings,
				 score_error *err)
{
	score_pod *pod = score_pod_new();
	const cJSON *spec;
	const cJSON *status;
	const char *node_name;
	const char *phase;
	int rc;

	*out = NULL;
	if (!cJSON_IsObject(object)) {
		rc = score_fail(err, -EINVAL,
				"expected a pod as a JSON object, got %s",
				inf_json_type_name(object));
		goto out;
	}

	rc = decode_pod_metadata(object, pod, err);
	if (rc == 0)
		rc = decode_pod_bandwidth(object, pod, warnings, err);
	if (rc < 0)
		goto out;

	rc = member_object(object, "", "spec", &spec, err);
	if (rc == 0)
		rc = member_string(spec, "spec", "nodeName", &node_name, err);
	if (rc == 0)
		rc = decode_pod_requests(spec, resources, pod, err);
	if (rc == 0)
		rc = decode_tolerations(spec, pod, err);
	if (rc == 0)
		rc = decode_pod_access(spec, pod, err);
	if (rc < 0)
		goto out;
	pod->node_name = score_intern(node_name);

	rc = member_object(object, "", "status", &status, err);
	if (rc == 0)
		rc = member_string(status, "status", "phase", &phase, err);
	if (rc < 0)
		goto out;
	/* A phase this code does not know counts like Unknown: the pod keeps
	 * its resources on the node, the safe side for fit. */
	if (parse_phase(phase, &pod->phase) < 0)
		pod->phase = SCORE_POD_UNKNOWN;

	*out = pod;
	pod = NULL;
out:
	score_pod_free(pod);
	return rc;
}

/* ---- Nodes --------------------------------------------------------------- */

/* A node counts as ready only when its Ready condition has status "True".
 * A node without a Ready condition is not ready: the node lifecycle
 * controller gives such a node Ready=Unknown ("Kubelet never posted node
 * status") and the node.kubernetes.io/unreachable taint, so kube-scheduler
 * stops placing pods there that do not tolerate it. kube-scheduler itself
 * does not read conditions. */
static int decode_ready(const cJSON *status, bool *ready, bool *unreported,
			score_error *err)
{
	const cJSON *conditions;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	*ready = false;
	*unreported = true;
	rc = member_array(status, "status", "conditions", &conditions, err);
	if (rc < 0)
		return rc;

	cJSON_ArrayForEach(item, conditions) {
		const char *type;
		const char *value;

		path_element(field, sizeof(field), "status.conditions", index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = member_string(item, field, "type", &type, err);
		if (rc == 0)
			rc = member_string(item, field, "status", &value, err);
		if (rc < 0)
			return rc;
		if (type != NULL && strcmp(type, "Ready") == 0) {
			*ready = value != NULL && strcmp(value, "True") == 0;
			*unreported = false;
			return 0;
		}
	}
	return 0;
}

static int decode_node_status(const cJSON *object,
			      score_resource_table *resources,
			      score_node *node, score_error *err)
{
	const cJSON *status;
	const cJSON *list;
	const char *list_path = "status.allocatable";
	uint32_t present = 0;
	int rc;

	rc = member_object(object, "", "status", &status, err);
	if (rc < 0)
		return rc;

	/* The API server defaults allocatable to capacity when a node
	 * reports only capacity (SetDefaults_NodeStatus). */
	rc = member_object(status, "status", "allocatable", &list, err);
	if (rc == 0 && list == NULL) {
		list_path = "status.capacity";
		rc = member_object(status, "status", "capacity", &list, err);
	}
	if (rc < 0)
		return rc;

	rc = decode_resource_list(list, list_path, false, resources,
				  &node->allocatable, &present, err);
	if (rc < 0)
		return rc;

	return decode_ready(status, &node->ready, &node->ready_unreported, err);
}

int inf_decode_node(const cJSON *object, score_resource_table *resources,
		    score_node **out, score_error *err)
{
	score_node *node = score_node_new();
	const cJSON *metadata;
	const cJSON *spec;
	const char *name;
	int rc;

	*out = NULL;
	if (!cJSON_IsObject(object)) {
		rc = score_fail(err, -EINVAL,
				"expected a node as a JSON object, got %s",
				inf_json_type_name(object));
		goto out;
	}

	rc = member_object(object, "", "metadata", &metadata, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "name", &name, err);
	if (rc < 0)
		goto out;
	if (metadata == NULL || name == NULL) {
		rc = field_fail(err, "metadata.name",
				"missing; every node needs a name");
		goto out;
	}
	node->name = score_intern(name);

	rc = decode_labels(metadata, "metadata", &node->labels, err);
	if (rc < 0)
		goto out;

	rc = member_object(object, "", "spec", &spec, err);
	if (rc == 0)
		rc = decode_taints(spec, node, err);
	if (rc == 0)
		rc = member_bool(spec, "spec", "unschedulable",
				 &node->unschedulable, err);
	if (rc == 0)
		rc = decode_node_status(object, resources, node, err);
	if (rc < 0)
		goto out;

	*out = node;
	node = NULL;
out:
	score_node_free(node);
	return rc;
}

/* ---- Namespaces ---------------------------------------------------------- */

/* The label the API server sets on every namespace (Kubernetes 1.22 and
 * later), equal to its name. */
#define NAMESPACE_NAME_LABEL "kubernetes.io/metadata.name"

int inf_decode_namespace(const cJSON *object, const char **name,
			 score_labels *labels, score_error *err)
{
	score_labels decoded = {0};
	const cJSON *metadata;
	const char *text;
	int rc;

	*name = NULL;
	memset(labels, 0, sizeof(*labels));
	if (!cJSON_IsObject(object))
		return score_fail(err, -EINVAL,
				  "expected a namespace as a JSON object, got %s",
				  inf_json_type_name(object));

	rc = member_object(object, "", "metadata", &metadata, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "name", &text, err);
	if (rc < 0)
		return rc;
	if (metadata == NULL || text == NULL)
		return field_fail(err, "metadata.name",
				  "missing; every namespace needs a name");

	rc = decode_labels(metadata, "metadata", &decoded, err);
	if (rc < 0) {
		score_labels_release(&decoded);
		return rc;
	}
	/* Objects from an API server carry the label already; files written
	 * by hand get it as the API server would set it. */
	if (score_labels_get(&decoded, NAMESPACE_NAME_LABEL) == NULL)
		score_labels_set(&decoded, NAMESPACE_NAME_LABEL, text);

	*name = score_intern(text);
	*labels = decoded;
	return 0;
}

/* ---- Services ------------------------------------------------------------ */

static int parse_service_type(const char *text, score_service_type *out,
			      score_error *err)
{
	static const struct {
		const char *name;
		score_service_type type;
	} types[] = {
		{"ClusterIP", SCORE_SERVICE_CLUSTER_IP},
		{"NodePort", SCORE_SERVICE_NODE_PORT},
		{"LoadBalancer", SCORE_SERVICE_LOAD_BALANCER},
		{"ExternalName", SCORE_SERVICE_EXTERNAL_NAME},
	};

	/* The API server defaults an empty type to ClusterIP. */
	if (text == NULL) {
		*out = SCORE_SERVICE_CLUSTER_IP;
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		if (strcmp(text, types[i].name) == 0) {
			*out = types[i].type;
			return 0;
		}
	}
	return field_fail(err, "spec.type",
			  "invalid type \"%s\": expected ClusterIP, NodePort, LoadBalancer or ExternalName",
			  text);
}

static int decode_service_ports(const cJSON *spec, score_service *service,
				score_error *err)
{
	const cJSON *list;
	const cJSON *item;
	char field[FIELD_PATH_MAX];
	char protocol_path[FIELD_PATH_MAX];
	int index = 0;
	int rc;

	rc = member_array(spec, "spec", "ports", &list, err);
	if (rc < 0 || list == NULL)
		return rc;

	service->ports = g_new0(score_service_port, cJSON_GetArraySize(list));
	cJSON_ArrayForEach(item, list) {
		score_service_port *port = &service->ports[service->n_ports];
		const char *protocol_text;
		int64_t number;
		int64_t node_port;

		path_element(field, sizeof(field), "spec.ports", index++);
		rc = expect_object(item, field, err);
		if (rc == 0)
			rc = member_int(item, field, "port", 1, 65535, &number,
					err);
		if (rc == 0)
			rc = member_int(item, field, "nodePort", 0, 65535,
					&node_port, err);
		if (rc == 0)
			rc = member_string(item, field, "protocol",
					   &protocol_text, err);
		if (rc < 0)
			return rc;
		if (number == 0) {
			char port_path[FIELD_PATH_MAX];

			path_member(port_path, sizeof(port_path), field, "port");
			return field_fail(err, port_path,
					  "missing; every Service port needs a port from 1 to 65535");
		}
		path_member(protocol_path, sizeof(protocol_path), field,
			    "protocol");
		rc = parse_protocol(protocol_text, protocol_path,
				    &port->protocol, err);
		if (rc < 0)
			return rc;
		port->port = (int32_t)number;
		port->node_port = (int32_t)node_port;
		service->n_ports++;
	}
	return 0;
}

static int decode_service_spec(const cJSON *object, score_service *service,
			       score_error *err)
{
	const cJSON *spec;
	const cJSON *external_ips;
	const char *type;
	int rc;

	rc = member_object(object, "", "spec", &spec, err);
	if (rc == 0)
		rc = member_string(spec, "spec", "type", &type, err);
	if (rc == 0)
		rc = parse_service_type(type, &service->type, err);
	if (rc == 0)
		rc = decode_labels_member(spec, "spec", "selector",
					  &service->selector, err);
	if (rc == 0)
		rc = member_array(spec, "spec", "externalIPs", &external_ips,
				  err);
	if (rc < 0)
		return rc;
	service->has_external_ips = cJSON_GetArraySize(external_ips) > 0;
	return decode_service_ports(spec, service, err);
}

int inf_decode_service(const cJSON *object, score_service **out,
		       score_error *err)
{
	score_service *service = score_service_new();
	const cJSON *metadata;
	const char *name;
	const char *namespace;
	int rc;

	*out = NULL;
	if (!cJSON_IsObject(object)) {
		rc = score_fail(err, -EINVAL,
				"expected a service as a JSON object, got %s",
				inf_json_type_name(object));
		goto out;
	}

	rc = member_object(object, "", "metadata", &metadata, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "name", &name, err);
	if (rc == 0)
		rc = member_string(metadata, "metadata", "namespace", &namespace,
				   err);
	if (rc < 0)
		goto out;
	if (metadata == NULL || name == NULL) {
		rc = field_fail(err, "metadata.name",
				"missing; every Service needs a name");
		goto out;
	}
	service->name = score_intern(name);
	service->namespace = score_intern(namespace != NULL ? namespace
							    : "default");

	rc = decode_service_spec(object, service, err);
	if (rc < 0)
		goto out;

	*out = service;
	service = NULL;
out:
	score_service_free(service);
	return rc;
}

/* ---- Extender wire keys -------------------------------------------------- */

/* Go's encoding/json assigns every key that matches a field name
 * case-insensitively, so a later duplicate overwrites an earlier one: the
 * last match wins here too. NOTE: Go folds Unicode case (the Kelvin sign
 * matches 'k'); this compares ASCII only, which covers every Go field name
 * in the extender types. */
const cJSON *inf_json_member(const cJSON *object, const char *name)
{
	const cJSON *found = NULL;
	const cJSON *item;

	if (!cJSON_IsObject(object))
		return NULL;
	cJSON_ArrayForEach(item, object) {
		if (item->string != NULL &&
		    g_ascii_strcasecmp(item->string, name) == 0)
			found = item;
	}
	return found;
}
