/* The scheduler-extender verbs on kube-scheduler's wire format; see
 * extender.h.
 *
 * HTTP status policy. kube-scheduler (pkg/scheduler/extender.go, send())
 * turns any status other than 200 into the error "failed <verb> with
 * extender at URL <url>, code <status>" and never reads the body. A message
 * reaches kube-scheduler's log and the pod's events only in a 200 response
 * whose result type has an Error field, which filter and bind have.
 *   - 400: the body is not a request at all: not JSON, not an object, Pod
 *     missing, no candidate list, a member of the wrong JSON type. The body
 *     still carries {"Error": ...} for a person reading it with curl, and
 *     stowage logs a warning with the same message.
 *   - filter with a Pod that cannot be decoded (an invalid quantity): 200
 *     with Error, so kube-scheduler reports stowage's message for the pod.
 *     prioritize and preempt reject such a pod with 400, because their
 *     result types (HostPriorityList, ExtenderPreemptionResult) have no
 *     Error field and a 200 would read as "no scores" or "no candidates".
 *   - bind: 200 with an empty Error when bound, and with the reason in
 *     Error when binding failed or no API server is configured.
 *   - 500: cJSON could not allocate the response.
 */
#include "scheduler/extender.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "informer/decode.h"

/* How long an assumed pod counts on its node before the guard drops it. */
#define DEFAULT_ASSUMED_TTL_MS 30000

/* Rejected nodes listed by name on a decision line; the rest are counted. */
#define DECISION_REJECTED_MAX 20

/* How often the same ignored value of the same pod is logged again. */
#define POD_WARNING_INTERVAL_MS (10 * 60 * 1000)

const char *sched_verb_name(sched_verb verb)
{
	switch (verb) {
	case SCHED_VERB_FILTER:
		return "filter";
	case SCHED_VERB_PRIORITIZE:
		return "prioritize";
	case SCHED_VERB_PREEMPT:
		return "preempt";
	case SCHED_VERB_BIND:
		return "bind";
	case SCHED_VERB_COUNT:
		break;
	}
	return "unknown";
}

/* ---- Cluster ------------------------------------------------------------- */

void sched_cluster_init(sched_cluster *cluster)
{
	score_error err = {0};

	memset(cluster, 0, sizeof(*cluster));
	g_rw_lock_init(&cluster->lock);
	cluster->resources = score_resource_table_new();
	cluster->model = score_model_new(cluster->resources);
	score_contention_defaults(&cluster->contention);
	cluster->assumed_ttl_ms = DEFAULT_ASSUMED_TTL_MS;

	/* The defaults are fixed at build time, so failing here is a bug. */
	if (sched_cluster_rebuild_pipeline(cluster, &err) < 0)
		g_error("cannot build the default scoring pipeline: %s",
			err.message);
}

void sched_cluster_release(sched_cluster *cluster)
{
	score_model_free(cluster->model);
	score_resource_table_free(cluster->resources);
	g_rw_lock_clear(&cluster->lock);
	memset(cluster, 0, sizeof(*cluster));
}

int sched_cluster_rebuild_pipeline(sched_cluster *cluster, score_error *err)
{
	score_pipeline pipeline;
	int rc;

	rc = score_contention_validate(&cluster->contention, err);
	if (rc < 0)
		return rc;

	/* The filters and scorers point at cluster->contention, so the
	 * cluster must stay where it is while the pipeline is in use. */
	score_pipeline_init(&pipeline);
	rc = score_pipeline_add_contention(&pipeline, &cluster->contention, 1,
					   1, err);
	if (rc < 0)
		return rc;

	cluster->pipeline = pipeline;
	return 0;
}

/* ---- One request ---------------------------------------------------------- */

typedef enum request_problem {
	PROBLEM_NONE = 0,
	PROBLEM_MALFORMED_JSON, /* 400, "malformed_json" */
	PROBLEM_SHAPE,          /* 400, "invalid_request" */
	PROBLEM_CONTENT,        /* filter: 200 with Error; else 400 */
	PROBLEM_NO_MEMORY,      /* 500, "internal" */
} request_problem;

/* A request being handled: the parsed body, the problem that stopped it,
 * and what its decision line reports. */
typedef struct call {
	const sched_extender *extender;
	sched_verb verb;
	gint64 started_us;
	cJSON *root; /* owned */

	request_problem problem;
	score_error err;

	/* Decision line; `rejected` and `top` are NULL when the line is off. */
	char *pod_label; /* owned, "namespace/name" */
	const char *pod_uid;
	const char *mode;
	size_t n_candidates;
	size_t n_passed;
	cJSON *rejected; /* owned */
	size_t n_rejected;
	cJSON *top; /* owned */
	/* Scorer name -> the scorer's explanation object; owned. */
	cJSON *explain;

	/* The policy this request scores with (a reference, or NULL) and
	 * its pipeline, or the cluster's default pipeline. */
	pol_policy *policy;
	const score_pipeline *pipeline;

	/* A response body written without cJSON (prioritize); owned. */
	char *text;
	bool bind_failed; /* the /bind response carries an Error */
} call;

static bool call_logs_decision(const call *c)
{
	return sched_log_enabled(c->extender->log, SCHED_LOG_INFO);
}

static int call_fail(call *c, request_problem problem, const char *format,
		     ...) G_GNUC_PRINTF(3, 4);

static int call_fail(call *c, request_problem problem, const char *format,
		     ...)
{
	va_list args;

	c->problem = problem;
	c->err.code = -EINVAL;
	va_start(args, format);
	g_vsnprintf(c->err.message, sizeof(c->err.message), format, args);
	va_end(args);
	return -EINVAL;
}

/* Records one rejected node for the decision line: the first
 * DECISION_REJECTED_MAX by name and reason, the rest only counted. */
static void call_reject(call *c, const char *node, const char *reason,
			bool unresolvable)
{
	cJSON *entry;

	c->n_rejected++;
	if (c->rejected == NULL ||
	    cJSON_GetArraySize(c->rejected) >= DECISION_REJECTED_MAX)
		return;

	entry = cJSON_CreateObject();
	if (entry == NULL)
		return;
	if (cJSON_AddStringToObject(entry, "node", node) == NULL ||
	    cJSON_AddStringToObject(entry, "reason", reason) == NULL ||
	    cJSON_AddBoolToObject(entry, "unresolvable", unresolvable) == NULL ||
	    !cJSON_AddItemToArray(c->rejected, entry))
		cJSON_Delete(entry);
}

static int64_t monotonic_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* Parses `body` as one JSON object. Go's json.Unmarshal rejects trailing
 * data after the value, so this does too. */
static int parse_body(call *c, const char *body, size_t length)
{
	const char *end = NULL;
	cJSON *root;

	if (body == NULL || length == 0)
		return call_fail(c, PROBLEM_MALFORMED_JSON,
				 "request body is empty; kube-scheduler sends a JSON object");

	/* NOTE: on a syntax error cJSON 1.7 also writes its process-wide
	 * error position (cJSON_GetErrorPtr), unsynchronized. This file reads
	 * `end` instead, so concurrent failures only race inside cJSON. */
	root = cJSON_ParseWithLengthOpts(body, length, &end, false);
	if (root == NULL) {
		size_t offset = end != NULL && end >= body ? (size_t)(end - body)
							 : 0;

		return call_fail(c, PROBLEM_MALFORMED_JSON,
				 "request body is not valid JSON: syntax error at byte %zu of %zu",
				 offset, length);
	}
	while (end != NULL && (size_t)(end - body) < length &&
	       g_ascii_isspace(*end))
		end++;
	if (end != NULL && (size_t)(end - body) < length) {
		cJSON_Delete(root);
		return call_fail(c, PROBLEM_MALFORMED_JSON,
				 "request body is not valid JSON: unexpected data after the value at byte %zu",
				 (size_t)(end - body));
	}
	if (!cJSON_IsObject(root)) {
		const char *kind = cJSON_IsArray(root) ? "an array" : "a scalar";

		cJSON_Delete(root);
		return call_fail(c, PROBLEM_SHAPE,
				 "request body is %s; the %s verb expects a JSON object",
				 kind, sched_verb_name(c->verb));
	}
	c->root = root;
	return 0;
}

/* Returns a member of `object` that is present and not null, matched
 * case-insensitively, or NULL. `object` may be NULL. */
static const cJSON *member(const cJSON *object, const char *name)
{
	const cJSON *item;

	if (object == NULL)
		return NULL;
	item = inf_json_member(object, name);
	return item == NULL || cJSON_IsNull(item) ? NULL : item;
}

/* Same as member(), for a tree the caller may change: returns the child of
 * `object` that member() picks. */
static cJSON *mutable_member(cJSON *object, const char *name)
{
	const cJSON *found = member(object, name);
	cJSON *child;

	cJSON_ArrayForEach(child, object) {
		if (child == found)
			return child;
	}
	return NULL;
}

static const char *string_member(const cJSON *object, const char *name)
{
	const cJSON *item = member(object, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Logs each value the pod decoder ignored, at most once per pod and
 * message every POD_WARNING_INTERVAL_MS, because kube-scheduler retries an
 * unschedulable pod every few seconds. */
static void log_pod_warnings(const call *c, const GPtrArray *warnings)
{
	for (guint i = 0; i < warnings->len; i++) {
		const char *warning = g_ptr_array_index(warnings, i);
		char *key = g_strdup_printf("extender pod %s %s",
					    c->pod_uid != NULL ? c->pod_uid : c->pod_label,
					    warning);

		SCHED_LOG_LIMITED(c->extender->log, SCHED_LOG_WARN, "extender",
				  "pod value ignored", key,
				  POD_WARNING_INTERVAL_MS,
				  SCHED_STR("pod", c->pod_label),
				  SCHED_STR("warning", warning));
		g_free(key);
	}
}

/* Decodes the request's Pod into `*out`. Sets c->pod_label and
 * c->pod_uid (borrowed from the request) for the log. */
static int decode_request_pod(call *c, score_pod **out)
{
	const cJSON *pod = member(c->root, "Pod");
	const cJSON *metadata;
	const char *name;
	const char *namespace;
	GPtrArray *warnings;
	score_error err = {0};
	int rc;

	if (pod == NULL)
		return call_fail(c, PROBLEM_SHAPE,
				 "request has no Pod; the %s verb needs the pod being scheduled",
				 sched_verb_name(c->verb));
	if (!cJSON_IsObject(pod))
		return call_fail(c, PROBLEM_SHAPE,
				 "request member Pod is %s; expected a v1.Pod object",
				 inf_json_type_name(pod));

	metadata = member(pod, "metadata");
	name = string_member(metadata, "name");
	namespace = string_member(metadata, "namespace");
	c->pod_uid = string_member(metadata, "uid");
	c->pod_label = g_strdup_printf("%s/%s",
				       namespace != NULL ? namespace : "",
				       name != NULL ? name : "");

	warnings = g_ptr_array_new_with_free_func(g_free);
	rc = inf_decode_pod_with_warnings(pod, c->extender->cluster->resources,
					  out, warnings, &err);
	if (rc == 0)
		log_pod_warnings(c, warnings);
	g_ptr_array_unref(warnings);
	if (rc < 0)
		return call_fail(c, PROBLEM_CONTENT,
				 "cannot evaluate pod %s: invalid Pod: %s",
				 c->pod_label, err.message);
	return 0;
}

/* Returns the incoming pod's own entry in the model when the model counts
 * it on a node (stowage assumed it earlier and the binding failed), so the
 * candidates evaluate it as gone from there instead of counting it twice. */
static const score_pod *counted_self(const score_model *model,
				     const score_pod *pod)
{
	const score_pod *self = score_model_pod(model, pod->uid);

	return self != NULL && score_pod_counts(self) ? self : NULL;
}

/* ---- filter and prioritize: candidates ----------------------------------- */

/* The candidate nodes of an ExtenderArgs request, in request order. */
typedef struct node_set {
	bool by_name;     /* NodeNames given (nodeCacheCapable: true) */
	cJSON *node_list; /* Nodes mode: the request's v1.NodeList, borrowed */
	cJSON *items;     /* Nodes mode: its items array, borrowed or NULL */
	size_t n;
	cJSON **entries;   /* owned array; each a NodeNames string or a Node */
	const char **names; /* owned array of names borrowed from `entries` */
	/* Nodes mode: the decoded Node objects, owned, NULL where decoding
	 * failed. `invalid` contains that failure's message, owned. */
	score_node **decoded;
	char **invalid;
	score_candidate *candidates; /* owned */
} node_set;

static void node_set_release(node_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->decoded != NULL && set->decoded[i] != NULL) {
			/* `pods` is borrowed from the model node. */
			set->decoded[i]->pods = NULL;
			score_node_free(set->decoded[i]);
		}
		if (set->invalid != NULL)
			g_free(set->invalid[i]);
	}
	g_free(set->decoded);
	g_free(set->invalid);
	g_free(set->entries);
	g_free(set->names);
	g_free(set->candidates);
	memset(set, 0, sizeof(*set));
}

static int parse_node_names(call *c, node_set *set, cJSON *names)
{
	cJSON *name;
	size_t i = 0;

	if (!cJSON_IsArray(names))
		return call_fail(c, PROBLEM_SHAPE,
				 "request member NodeNames is %s; expected an array of node names",
				 inf_json_type_name(names));

	set->by_name = true;
	set->n = (size_t)cJSON_GetArraySize(names);
	set->entries = g_new0(cJSON *, set->n);
	set->names = g_new0(const char *, set->n);
	cJSON_ArrayForEach(name, names) {
		if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
			return call_fail(c, PROBLEM_SHAPE,
					 "NodeNames[%zu] is %s; expected a non-empty node name string",
					 i, cJSON_IsString(name) ? "an empty string"
								 : inf_json_type_name(name));
		set->entries[i] = name;
		set->names[i] = name->valuestring;
		i++;
	}
	return 0;
}

static int parse_node_list(call *c, node_set *set, cJSON *list)
{
	cJSON *node;
	size_t i = 0;

	if (!cJSON_IsObject(list))
		return call_fail(c, PROBLEM_SHAPE,
				 "request member Nodes is %s; expected a v1.NodeList object",
				 inf_json_type_name(list));

	set->node_list = list;
	set->items = mutable_member(list, "items");
	if (set->items == NULL)
		return 0; /* Go writes an empty NodeList's items as null. */
	if (!cJSON_IsArray(set->items))
		return call_fail(c, PROBLEM_SHAPE,
				 "Nodes.items is %s; expected an array of v1.Node objects",
				 inf_json_type_name(set->items));

	set->n = (size_t)cJSON_GetArraySize(set->items);
	set->entries = g_new0(cJSON *, set->n);
	set->names = g_new0(const char *, set->n);
	cJSON_ArrayForEach(node, set->items) {
		const char *name;

		if (!cJSON_IsObject(node))
			return call_fail(c, PROBLEM_SHAPE,
					 "Nodes.items[%zu] is %s; expected a v1.Node object",
					 i, inf_json_type_name(node));
		name = string_member(member(node, "metadata"), "name");
		if (name == NULL || name[0] == '\0')
			return call_fail(c, PROBLEM_SHAPE,
					 "Nodes.items[%zu] has no metadata.name",
					 i);
		set->entries[i] = node;
		set->names[i] = name;
		i++;
	}
	return 0;
}

/* Reads the candidate list of an ExtenderArgs body. kube-scheduler sets
 * exactly one of NodeNames (nodeCacheCapable: true) and Nodes. */
static int parse_node_set(call *c, node_set *set)
{
	cJSON *names = mutable_member(c->root, "NodeNames");
	cJSON *list = mutable_member(c->root, "Nodes");

	if (names == NULL && list == NULL)
		return call_fail(c, PROBLEM_SHAPE,
				 "request has neither NodeNames nor Nodes; kube-scheduler sends NodeNames when the extender is nodeCacheCapable and Nodes otherwise");
	if (names != NULL && list != NULL)
		return call_fail(c, PROBLEM_SHAPE,
				 "request has both NodeNames and Nodes; send only one, as kube-scheduler does");

	if (names != NULL) {
		c->mode = "NodeNames";
		return parse_node_names(c, set, names);
	}
	c->mode = "Nodes";
	return parse_node_list(c, set, list);
}

/* Decodes each Node object of a Nodes-mode request. A node that does not
 * decode is rejected alone, as unresolvable, with the decoder's message. */
static void decode_node_set(call *c, node_set *set)
{
	if (set->by_name)
		return;

	set->decoded = g_new0(score_node *, set->n);
	set->invalid = g_new0(char *, set->n);
	for (size_t i = 0; i < set->n; i++) {
		score_error err = {0};
		score_node *node = NULL;

		if (inf_decode_node(set->entries[i],
				    c->extender->cluster->resources, &node,
				    &err) < 0) {
			set->invalid[i] = g_strdup_printf(
				"stowage cannot read Node %s: %s",
				set->names[i], err.message);
			continue;
		}
		/* The model supplies the pods; see attach_node_set(). */
		g_clear_pointer(&node->pods, g_ptr_array_unref);
		set->decoded[i] = node;
	}
}

/* Fills the candidates from the model. Call with the read lock held.
 *
 * NodeNames mode evaluates the model's node of each name. The pipeline
 * rejects a name the model does not have as not seen yet, and as
 * resolvable, because the informer may not have caught up.
 *
 * Nodes mode evaluates each Node object as sent (allocatable, taints,
 * labels, unschedulable, Ready) with the pods the model counts on the node
 * of that name. When the model has no node of that name, the node counts
 * as empty: pods the model holds for a node it has not seen as a Node
 * object are not counted. */
static void attach_node_set(node_set *set, const score_model *model,
			    const score_pod *const *self)
{
	set->candidates = g_new0(score_candidate, set->n);
	for (size_t i = 0; i < set->n; i++) {
		score_candidate *candidate = &set->candidates[i];
		const score_node *known = score_model_node(model, set->names[i]);
		score_node *node;

		candidate->name = set->names[i];
		if (*self != NULL) {
			candidate->victims = self;
			candidate->n_victims = 1;
		}
		if (set->by_name) {
			candidate->node = known;
			continue;
		}

		node = set->decoded[i];
		if (node == NULL)
			continue;
		node->present = true;
		if (known != NULL) {
			node->requested = known->requested;
			node->nonzero_requested = known->nonzero_requested;
			node->pods = known->pods;
			node->assumed_pods = known->assumed_pods;
		}
		candidate->node = node;
	}
}

/* Replaces the pipeline's "not seen yet" verdict for Node objects that did
 * not decode. The fault is in the object, so eviction cannot fix it. */
static void apply_invalid_nodes(const node_set *set, score_result *result)
{
	if (set->invalid == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		if (set->invalid[i] == NULL)
			continue;
		if (result->nodes[i].fit == SCORE_FIT)
			result->n_fit--;
		result->nodes[i].fit = SCORE_REJECT_UNRESOLVABLE;
		g_free(result->nodes[i].reason);
		result->nodes[i].reason = g_strdup(set->invalid[i]);
	}
}

static void record_rejections(call *c, const node_set *set,
			      const score_result *result)
{
	c->n_candidates = set->n;
	c->n_passed = result->n_fit;
	for (size_t i = 0; i < set->n; i++) {
		const score_node_result *node = &result->nodes[i];

		if (node->fit != SCORE_FIT)
			call_reject(c, set->names[i],
				    node->reason != NULL ? node->reason : "",
				    node->fit == SCORE_REJECT_UNRESOLVABLE);
	}
}

/* ---- filter and prioritize: responses ------------------------------------ */

/* Adds `name: reason` unless `seen` has `name` already (a name listed
 * twice in the request). A set, because cJSON's lookup is a linear scan
 * and thousands of rejected nodes would make it quadratic. */
static bool add_failed(cJSON *map, GHashTable *seen, const char *name,
		       const char *reason)
{
	if (!g_hash_table_add(seen, (gpointer)name))
		return true;
	return cJSON_AddStringToObject(map, name, reason) != NULL;
}

/* Builds the Nodes member of a Nodes-mode response: the request's NodeList
 * with every member kept and items cut to the nodes that passed. The
 * passing Node objects move from the request tree unchanged. */
static cJSON *filtered_node_list(node_set *set, const score_result *result)
{
	cJSON *list = cJSON_CreateObject();
	cJSON *items;
	cJSON *field;

	if (list == NULL)
		return NULL;
	cJSON_ArrayForEach(field, set->node_list) {
		cJSON *copy;

		if (field->string == NULL ||
		    g_ascii_strcasecmp(field->string, "items") == 0)
			continue;
		copy = cJSON_Duplicate(field, true);
		if (copy == NULL ||
		    !cJSON_AddItemToObject(list, field->string, copy)) {
			cJSON_Delete(copy);
			cJSON_Delete(list);
			return NULL;
		}
	}

	items = cJSON_AddArrayToObject(list, "items");
	if (items == NULL) {
		cJSON_Delete(list);
		return NULL;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (result->nodes[i].fit != SCORE_FIT)
			continue;
		/* cJSON_AddItemToArray() fails only for a NULL argument. */
		cJSON_DetachItemViaPointer(set->items, set->entries[i]);
		cJSON_AddItemToArray(items, set->entries[i]);
	}
	return list;
}

static void append_json_string(GString *out, const char *text);

/* Appends the rejections of one kind as a JSON object. */
static void append_failed_map(GString *out, const node_set *set,
			      const score_result *result, score_fit kind,
			      GHashTable *seen)
{
	bool first = true;

	g_string_append_c(out, '{');
	for (size_t i = 0; i < set->n; i++) {
		const score_node_result *node = &result->nodes[i];

		if (node->fit != kind || !g_hash_table_add(seen, (gpointer)set->names[i]))
			continue;
		if (!first)
			g_string_append_c(out, ',');
		first = false;
		append_json_string(out, set->names[i]);
		g_string_append_c(out, ':');
		append_json_string(out, node->reason != NULL ? node->reason : "");
	}
	g_string_append_c(out, '}');
}

/* Writes a NodeNames-mode ExtenderFilterResult directly, for the same
 * reason as prioritize_response(): this is the hot path with thousands of
 * names. Nodes-mode responses carry whole Node objects and use cJSON. */
static char *filter_names_response(const node_set *set,
				   const score_result *result)
{
	GString *out = g_string_sized_new(set->n * 32 + 128);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	bool first = true;

	g_string_append(out, "{\"Nodes\":null,\"NodeNames\":[");
	for (size_t i = 0; i < set->n; i++) {
		if (result->nodes[i].fit != SCORE_FIT)
			continue;
		if (!first)
			g_string_append_c(out, ',');
		first = false;
		append_json_string(out, set->names[i]);
	}
	/* Go decodes {} and null alike; {} is what a Go extender writes for
	 * an empty map it made. */
	g_string_append(out, "],\"FailedNodes\":");
	append_failed_map(out, set, result, SCORE_REJECT_RESOLVABLE, seen);
	g_string_append(out, ",\"FailedAndUnresolvableNodes\":");
	append_failed_map(out, set, result, SCORE_REJECT_UNRESOLVABLE, seen);
	g_string_append(out, ",\"Error\":\"\"}");
	g_hash_table_destroy(seen);
	return g_string_free(out, FALSE);
}

/* Builds a Nodes-mode ExtenderFilterResult: the passing Node objects in
 * Nodes, and NodeNames null. */
static cJSON *filter_response(node_set *set, const score_result *result)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *failed;
	cJSON *unresolvable;
	cJSON *list;
	GHashTable *seen;
	bool ok = out != NULL;

	if (!ok)
		return NULL;

	list = filtered_node_list(set, result);
	ok = list != NULL && cJSON_AddItemToObject(out, "Nodes", list) &&
	     cJSON_AddNullToObject(out, "NodeNames") != NULL;

	/* Go decodes {} and null alike; {} is what a Go extender writes for
	 * an empty map it made. */
	failed = ok ? cJSON_AddObjectToObject(out, "FailedNodes") : NULL;
	unresolvable = failed != NULL ? cJSON_AddObjectToObject(
						out, "FailedAndUnresolvableNodes")
				      : NULL;
	ok = unresolvable != NULL;
	seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; ok && i < set->n; i++) {
		const score_node_result *node = &result->nodes[i];
		const char *reason = node->reason != NULL ? node->reason : "";

		if (node->fit == SCORE_REJECT_RESOLVABLE)
			ok = add_failed(failed, seen, set->names[i], reason);
		else if (node->fit == SCORE_REJECT_UNRESOLVABLE)
			ok = add_failed(unresolvable, seen, set->names[i], reason);
	}
	g_hash_table_destroy(seen);
	ok = ok && cJSON_AddStringToObject(out, "Error", "") != NULL;

	if (!ok) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Appends `text` as a JSON string. Bytes of 0x80 and above pass through:
 * names come from a parsed request, so they are as valid UTF-8 as it was. */
static void append_json_string(GString *out, const char *text)
{
	const char *run = text;
	const char *p;

	g_string_append_c(out, '"');
	for (p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* Copy the plain run before the byte that needs escaping. */
		g_string_append_len(out, run, p - run);
		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)c);
		} else {
			g_string_append_printf(out, "\\u%04x", c);
		}
		run = p + 1;
	}
	g_string_append_len(out, run, p - run);
	g_string_append_c(out, '"');
}
/* Writes a HostPriorityList with one entry per requested node, in request
 * order; nodes that did not pass get 0. Written directly rather than
 * through cJSON, because with thousands of nodes the per-entry allocations
 * and cJSON's number printing were most of the verb's time. */
static char *prioritize_response(const node_set *set,
				 const score_result *result)
{
	GString *out = g_string_sized_new(set->n * 48 + 2);

	g_string_append_c(out, '[');
	for (size_t i = 0; i < set->n; i++) {
		const score_node_result *node = &result->nodes[i];
		int64_t score = node->fit == SCORE_FIT
					? score_to_extender_priority(node->total)
					: 0;

		if (i > 0)
			g_string_append_c(out, ',');
		score = CLAMP(score, 0, SCORE_MAX_EXTENDER_PRIORITY);
		g_string_append(out, "{\"Host\":");
		append_json_string(out, set->names[i]);
		/* 0..10: no printf on the hot path. */
		g_string_append(out, ",\"Score\":");
		if (score == 10)
			g_string_append(out, "10");
		else
			g_string_append_c(out, (char)('0' + score));
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	return g_string_free(out, FALSE);
}

typedef struct ranked_node {
	size_t index;
	int64_t total;
	const char *name;
} ranked_node;

static gint compare_ranked(gconstpointer a, gconstpointer b)
{
	const ranked_node *left = a;
	const ranked_node *right = b;

	if (left->total != right->total)
		return left->total > right->total ? -1 : 1;
	return strcmp(left->name, right->name);
}

/* Adds to `item` a "reasons" object with each scorer's explanation of
 * its score on the candidate, when a scorer gives one. Returns false when
 * out of memory. */
static bool add_node_reasons(const score_pipeline *pipeline,
			     const score_request *request,
			     const score_candidate *candidate, cJSON *item)
{
	cJSON *reasons = NULL;
	GString *text = g_string_new(NULL);
	bool ok = true;

	for (size_t s = 0; ok && s < pipeline->n_scorers; s++) {
		g_string_truncate(text, 0);
		score_pipeline_explain_node(pipeline, request, s, candidate, text);
		if (text->len == 0)
			continue;
		if (reasons == NULL)
			reasons = cJSON_AddObjectToObject(item, "reasons");
		ok = reasons != NULL &&
		     cJSON_AddStringToObject(reasons, pipeline->scorers[s].name,
					     text->str) != NULL;
	}
	g_string_free(text, TRUE);
	return ok;
}

/* Fills c->top with the best `top_scores` nodes, each criterion's score
 * and the reasons scorers give for them, for the decision line. */
static void record_top_scores(call *c, const node_set *set,
			      const score_request *request,
			      const score_result *result)
{
	const score_pipeline *pipeline = c->pipeline;
	size_t limit = c->extender->top_scores;
	GArray *ranked;

	if (c->top == NULL || limit == 0 || result->n_fit == 0)
		return;

	/* Keeps the best `limit` in order by insertion: cheaper than sorting
	 * thousands of candidates to show five. */
	ranked = g_array_sized_new(FALSE, FALSE, sizeof(ranked_node),
				   (guint)limit + 1);
	for (size_t i = 0; i < set->n; i++) {
		ranked_node entry = {i, result->nodes[i].total, set->names[i]};
		guint at = ranked->len;

		if (result->nodes[i].fit != SCORE_FIT)
			continue;
		while (at > 0 && compare_ranked(&entry, &g_array_index(ranked, ranked_node,
									 at - 1)) < 0)
			at--;
		if (at >= limit)
			continue;
		g_array_insert_val(ranked, at, entry);
		if (ranked->len > limit)
			g_array_set_size(ranked, (guint)limit);
	}

	for (size_t k = 0; k < ranked->len && k < limit; k++) {
		const ranked_node *entry = &g_array_index(ranked, ranked_node, k);
		const score_node_result *node = &result->nodes[entry->index];
		cJSON *item = cJSON_CreateObject();
		cJSON *criteria = NULL;
		bool ok = item != NULL &&
			  cJSON_AddStringToObject(item, "node", entry->name) != NULL &&
			  cJSON_AddNumberToObject(
				  item, "score",
				  (double)score_to_extender_priority(node->total)) != NULL &&
			  cJSON_AddNumberToObject(item, "total",
						  (double)node->total) != NULL &&
			  (criteria = cJSON_AddObjectToObject(item, "criteria")) != NULL;

		/* A criterion that did not apply to the pod shows as null. */
		for (size_t s = 0; ok && s < pipeline->n_scorers; s++) {
			const char *name = pipeline->scorers[s].name;

			if (node->criteria[s] == SCORE_SKIP)
				ok = cJSON_AddNullToObject(criteria, name) != NULL;
			else
				ok = cJSON_AddNumberToObject(
					     criteria, name,
					     (double)node->criteria[s]) != NULL;
		}
		ok = ok && add_node_reasons(pipeline, request,
					    &set->candidates[entry->index], item);
		if (!ok || !cJSON_AddItemToArray(c->top, item)) {
			cJSON_Delete(item);
			break;
		}
	}
	g_array_free(ranked, TRUE);
}

/* Fills c->explain with the explanations of the scorers that give one,
 * for the decision line. */
static void record_explanations(call *c, const score_request *request)
{
	const score_pipeline *pipeline = c->pipeline;

	if (c->explain == NULL)
		return;
	for (size_t s = 0; s < pipeline->n_scorers; s++) {
		cJSON *object = score_pipeline_explain(pipeline, request, s);

		if (object != NULL &&
		    !cJSON_AddItemToObject(c->explain, pipeline->scorers[s].name,
					   object))
			cJSON_Delete(object);
	}
}

/* Handles filter and prioritize, which share ExtenderArgs. Returns the
 * response body, or NULL with c->problem set. */
static cJSON *handle_node_verb(call *c)
{
	sched_cluster *cluster = c->extender->cluster;
	score_pod *pod = NULL;
	const score_pod *self = NULL;
	node_set set = {0};
	score_request request = {0};
	score_result result = {0};
	cJSON *out = NULL;

	if (decode_request_pod(c, &pod) < 0 || parse_node_set(c, &set) < 0)
		goto out;
	decode_node_set(c, &set);

	g_rw_lock_reader_lock(&cluster->lock);
	request.model = cluster->model;
	request.pod = pod;
	request.now_ms = monotonic_ms();
	/* Criteria that find the pod's peers do it once for filter and
	 * score. */
	request.cache = score_request_cache_new();
	self = counted_self(cluster->model, pod);
	attach_node_set(&set, cluster->model, &self);
	score_pipeline_filter(c->pipeline, &request, set.candidates,
			      set.n, &result);
	apply_invalid_nodes(&set, &result);
	if (c->verb == SCHED_VERB_PRIORITIZE)
		score_pipeline_score(c->pipeline, &request,
				     set.candidates, &result);

	record_rejections(c, &set, &result);
	if (c->verb == SCHED_VERB_PRIORITIZE) {
		record_top_scores(c, &set, &request, &result);
		record_explanations(c, &request);
		c->text = prioritize_response(&set, &result);
	} else if (set.by_name) {
		c->text = filter_names_response(&set, &result);
	} else {
		out = filter_response(&set, &result);
	}
	score_request_cache_free(request.cache);
	request.cache = NULL;
	g_rw_lock_reader_unlock(&cluster->lock);

	if (out == NULL && c->text == NULL)
		call_fail(c, PROBLEM_NO_MEMORY,
			  "stowage could not allocate the %s response for %zu nodes",
			  sched_verb_name(c->verb), set.n);

out:
	score_result_release(&result);
	node_set_release(&set);
	score_pod_free(pod);
	return out;
}

/* ---- preempt -------------------------------------------------------------- */

/* One node of an ExtenderPreemptionArgs victim map. */
typedef struct preempt_node {
	const char *name; /* borrowed: the map key */
	GArray *uids;     /* const char *, borrowed: every listed victim's UID */
	int64_t pdb_violations;
} preempt_node;

typedef struct preempt_set {
	bool meta;          /* NodeNameToMetaVictims, else NodeNameToVictims */
	GArray *nodes;      /* preempt_node */
	GPtrArray *decoded; /* NodeNameToVictims: owned decoded victim pods */
	score_candidate *candidates; /* owned */
	GPtrArray *victim_arrays;    /* owned arrays behind the candidates */
} preempt_set;

static void preempt_set_release(preempt_set *set)
{
	if (set->nodes != NULL) {
		for (guint i = 0; i < set->nodes->len; i++) {
			preempt_node *node =
				&g_array_index(set->nodes, preempt_node, i);

			g_array_free(node->uids, TRUE);
		}
		g_array_free(set->nodes, TRUE);
	}
	if (set->decoded != NULL)
		g_ptr_array_unref(set->decoded);
	if (set->victim_arrays != NULL)
		g_ptr_array_unref(set->victim_arrays);
	g_free(set->candidates);
	memset(set, 0, sizeof(*set));
}

/* Reads one victim of NodeNameToVictims: a full v1.Pod, decoded so that
 * its model key (uid, or namespace/name without one) is known. */
static int parse_full_victim(call *c, preempt_set *set, preempt_node *node,
			     const cJSON *victim, size_t index)
{
	score_error err = {0};
	score_pod *pod = NULL;
	const char *uid;

	if (!cJSON_IsObject(victim))
		return call_fail(c, PROBLEM_SHAPE,
				 "NodeNameToVictims[\"%s\"].Pods[%zu] is %s; expected a v1.Pod object",
				 node->name, index, inf_json_type_name(victim));
	if (inf_decode_pod(victim, c->extender->cluster->resources, &pod,
			   &err) < 0)
		return call_fail(c, PROBLEM_CONTENT,
				 "NodeNameToVictims[\"%s\"].Pods[%zu] is not a valid Pod: %s",
				 node->name, index, err.message);

	g_ptr_array_add(set->decoded, pod);
	uid = string_member(member(victim, "metadata"), "uid");
	if (uid == NULL)
		uid = pod->uid;
	g_array_append_val(node->uids, uid);
	return 0;
}

static int parse_meta_victim(call *c, preempt_node *node,
			     const cJSON *victim, size_t index)
{
	const char *uid = string_member(victim, "UID");

	if (!cJSON_IsObject(victim) || uid == NULL || uid[0] == '\0')
		return call_fail(c, PROBLEM_SHAPE,
				 "NodeNameToMetaVictims[\"%s\"].Pods[%zu] has no UID; expected {\"UID\": \"...\"}",
				 node->name, index);
	g_array_append_val(node->uids, uid);
	return 0;
}

static int parse_victims(call *c, preempt_set *set, preempt_node *node,
			 const cJSON *victims)
{
	const char *map = set->meta ? "NodeNameToMetaVictims"
				    : "NodeNameToVictims";
	const cJSON *pods;
	const cJSON *violations;
	const cJSON *victim;
	size_t index = 0;

	/* A null entry is a node with no victims. */
	if (victims == NULL)
		return 0;
	if (!cJSON_IsObject(victims))
		return call_fail(c, PROBLEM_SHAPE,
				 "%s[\"%s\"] is %s; expected an object with Pods and NumPDBViolations",
				 map, node->name, inf_json_type_name(victims));

	violations = member(victims, "NumPDBViolations");
	if (violations != NULL && !cJSON_IsNumber(violations))
		return call_fail(c, PROBLEM_SHAPE,
				 "%s[\"%s\"].NumPDBViolations is %s; expected an integer",
				 map, node->name, inf_json_type_name(violations));
	/* The field is an int64 in Go. A value outside that range, or with a
	 * fraction, cannot come from kube-scheduler, and converting it to
	 * int64_t would be undefined behaviour. 2^63 itself is out of range. */
	if (violations != NULL &&
	    (!(violations->valuedouble >= -9223372036854775808.0 &&
	       violations->valuedouble < 9223372036854775808.0) ||
	     violations->valuedouble != floor(violations->valuedouble)))
		return call_fail(c, PROBLEM_SHAPE,
				 "%s[\"%s\"].NumPDBViolations is %g; expected an integer that fits in int64",
				 map, node->name, violations->valuedouble);
	if (violations != NULL)
		node->pdb_violations = (int64_t)violations->valuedouble;

	pods = member(victims, "Pods");
	if (pods == NULL)
		return 0;
	if (!cJSON_IsArray(pods))
		return call_fail(c, PROBLEM_SHAPE,
				 "%s[\"%s\"].Pods is %s; expected an array",
				 map, node->name, inf_json_type_name(pods));

	cJSON_ArrayForEach(victim, pods) {
		int rc = set->meta ? parse_meta_victim(c, node, victim, index)
				   : parse_full_victim(c, set, node, victim,
						       index);

		if (rc < 0)
			return rc;
		index++;
	}
	return 0;
}

/* Reads the victim map. kube-scheduler sends NodeNameToMetaVictims to a
 * nodeCacheCapable extender and NodeNameToVictims otherwise. Older
 * kube-schedulers, whose extender types had json tags, wrote
 * NodeNameToVictims as "nodeToVictims". A case-insensitive match does not
 * find that key, so it is read as well. */
static int parse_preempt_set(call *c, preempt_set *set)
{
	const cJSON *meta = member(c->root, "NodeNameToMetaVictims");
	const cJSON *full = member(c->root, "NodeNameToVictims");
	const cJSON *map;
	const cJSON *entry;

	if (full == NULL)
		full = member(c->root, "nodeToVictims");

	if (meta == NULL && full == NULL)
		return call_fail(c, PROBLEM_SHAPE,
				 "request has neither NodeNameToMetaVictims nor NodeNameToVictims; the preempt verb needs the candidate nodes and their victims");
	if (meta != NULL && full != NULL)
		return call_fail(c, PROBLEM_SHAPE,
				 "request has both NodeNameToMetaVictims and NodeNameToVictims; send only one, as kube-scheduler does");

	set->meta = meta != NULL;
	map = set->meta ? meta : full;
	c->mode = set->meta ? "NodeNameToMetaVictims" : "NodeNameToVictims";
	if (!cJSON_IsObject(map))
		return call_fail(c, PROBLEM_SHAPE,
				 "request member %s is %s; expected an object keyed by node name",
				 c->mode, inf_json_type_name(map));

	set->nodes = g_array_new(FALSE, TRUE, sizeof(preempt_node));
	set->decoded = g_ptr_array_new_with_free_func(
		(GDestroyNotify)score_pod_free);
	cJSON_ArrayForEach(entry, map) {
		preempt_node node = {
			.name = entry->string,
			.uids = g_array_new(FALSE, FALSE, sizeof(const char *)),
		};

		g_array_append_val(set->nodes, node);
		if (parse_victims(c, set,
				  &g_array_index(set->nodes, preempt_node,
						 set->nodes->len - 1),
				  cJSON_IsNull(entry) ? NULL : entry) < 0)
			return -EINVAL;
	}
	return 0;
}

/* Appends `pod` unless it is already listed, because the pipeline would
 * subtract a duplicate twice. Victim lists are at most a node's pods. */
static void add_victim(const score_pod **victims, size_t *n,
		       const score_pod *pod)
{
	for (size_t i = 0; i < *n; i++) {
		if (victims[i] == pod)
			return;
	}
	victims[(*n)++] = pod;
}

/* Looks up each node's victims in the model and fills the candidates.
 * Call with the read lock held.
 *
 * A victim the model does not know stays in the response, because
 * kube-scheduler chose it and maps the UID back to its own pod. It frees
 * nothing in the evaluation, because the model's totals never included it.
 * score_candidate_usage() likewise skips a known victim that the model
 * counts on another node. */
static void attach_preempt_set(preempt_set *set, const score_model *model,
			       const score_pod *self)
{
	guint n = set->nodes->len;

	set->candidates = g_new0(score_candidate, n);
	set->victim_arrays = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < n; i++) {
		preempt_node *node = &g_array_index(set->nodes, preempt_node, i);
		score_candidate *candidate = &set->candidates[i];
		const score_pod **victims;
		size_t n_victims = 0;

		victims = g_new0(const score_pod *, node->uids->len + 1);
		g_ptr_array_add(set->victim_arrays, victims);
		for (guint v = 0; v < node->uids->len; v++) {
			const score_pod *pod = score_model_pod(
				model, g_array_index(node->uids, const char *, v));

			if (pod != NULL)
				add_victim(victims, &n_victims, pod);
		}
		if (self != NULL)
			add_victim(victims, &n_victims, self);

		candidate->name = node->name;
		candidate->node = score_model_node(model, node->name);
		candidate->victims = victims;
		candidate->n_victims = n_victims;
	}
}

static bool add_meta_victims(cJSON *map, const preempt_node *node)
{
	cJSON *entry;
	cJSON *pods;
	bool ok;

	if (cJSON_GetObjectItemCaseSensitive(map, node->name) != NULL)
		return true;
	entry = cJSON_AddObjectToObject(map, node->name);
	pods = entry != NULL ? cJSON_AddArrayToObject(entry, "Pods") : NULL;
	ok = pods != NULL;
	for (guint v = 0; ok && v < node->uids->len; v++) {
		cJSON *pod = cJSON_CreateObject();

		ok = pod != NULL &&
		     cJSON_AddStringToObject(pod, "UID",
					     g_array_index(node->uids,
							   const char *, v)) != NULL;
		if (!ok || !cJSON_AddItemToArray(pods, pod)) {
			cJSON_Delete(pod);
			ok = false;
		}
	}
	return ok && cJSON_AddNumberToObject(entry, "NumPDBViolations",
					     (double)node->pdb_violations) != NULL;
}

/* Decides each node and builds the ExtenderPreemptionResult, always as
 * NodeNameToMetaVictims: kube-scheduler decodes only that member and maps
 * the UIDs back to its own pods in either mode. */
static cJSON *preempt_response(call *c, const preempt_set *set,
			       const score_result *result)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *map = out != NULL ? cJSON_AddObjectToObject(
					   out, "NodeNameToMetaVictims")
				 : NULL;
	bool ok = map != NULL;

	c->n_candidates = set->nodes->len;
	for (guint i = 0; ok && i < set->nodes->len; i++) {
		const preempt_node *node =
			&g_array_index(set->nodes, preempt_node, i);
		const score_node_result *verdict = &result->nodes[i];

		/* kube-scheduler fails the whole preemption (or, for an
		 * ignorable extender, drops the node) when a returned node
		 * has no victims, so such a node is never returned. */
		if (node->uids->len == 0) {
			call_reject(c, node->name,
				    "no victims listed for this node; stowage returns only nodes where evicting listed victims makes room",
				    false);
			continue;
		}
		if (verdict->fit != SCORE_FIT) {
			char *reason = g_strdup_printf(
				"pod does not fit even with the %u listed victims evicted: %s",
				node->uids->len,
				verdict->reason != NULL ? verdict->reason : "");

			call_reject(c, node->name, reason,
				    verdict->fit == SCORE_REJECT_UNRESOLVABLE);
			g_free(reason);
			continue;
		}
		c->n_passed++;
		ok = add_meta_victims(map, node);
	}

	if (!ok) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

static cJSON *handle_preempt(call *c)
{
	sched_cluster *cluster = c->extender->cluster;
	score_pod *pod = NULL;
	preempt_set set = {0};
	score_request request = {0};
	score_result result = {0};
	cJSON *out = NULL;

	if (decode_request_pod(c, &pod) < 0 || parse_preempt_set(c, &set) < 0)
		goto out;

	g_rw_lock_reader_lock(&cluster->lock);
	request.model = cluster->model;
	request.pod = pod;
	request.now_ms = monotonic_ms();
	attach_preempt_set(&set, cluster->model,
			   counted_self(cluster->model, pod));
	score_pipeline_filter(c->pipeline, &request, set.candidates,
			      set.nodes->len, &result);
	out = preempt_response(c, &set, &result);
	g_rw_lock_reader_unlock(&cluster->lock);

	if (out == NULL && c->text == NULL)
		call_fail(c, PROBLEM_NO_MEMORY,
			  "stowage could not allocate the preempt response for %u nodes",
			  set.nodes->len);

out:
	score_result_release(&result);
	preempt_set_release(&set);
	score_pod_free(pod);
	return out;
}

/* ---- bind ----------------------------------------------------------------- */

static double elapsed_ms(const call *c)
{
	return (double)(g_get_monotonic_time() - c->started_us) / 1000.0;
}

/* Checks an ExtenderBindingArgs body and binds the pod through
 * extender->bind. The response has an empty Error on success and the reason
 * otherwise. Returns the response body, or NULL with c->problem set. */
static cJSON *handle_bind(call *c)
{
	static const char *const required[] = {"PodName", "PodNamespace",
					       "PodUID", "Node"};
	const char *values[G_N_ELEMENTS(required)];
	char *message;
	cJSON *out;

	for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
		const cJSON *item = member(c->root, required[i]);

		if (item == NULL || !cJSON_IsString(item) ||
		    item->valuestring[0] == '\0') {
			call_fail(c, PROBLEM_SHAPE,
				  "bind request has no %s; ExtenderBindingArgs needs PodName, PodNamespace, PodUID and Node as non-empty strings",
				  required[i]);
			return NULL;
		}
		values[i] = item->valuestring;
	}

	if (c->extender->bind == NULL) {
		message = g_strdup_printf(
			"stowage cannot bind pod %s/%s to node %s: no API server connection is configured; remove bindVerb from the extender configuration or run stowage with --kubeconfig",
			values[1], values[0], values[3]);
	} else {
		score_error err = {0};

		/* Without the cluster lock: the binder takes the write lock
		 * itself once the API server has answered. */
		if (c->extender->bind(c->extender->bind_data, values[1], values[0],
				      values[2], values[3], &err) == 0) {
			message = g_strdup("");
			SCHED_LOG(c->extender->log, SCHED_LOG_INFO, "extender", "bound",
				  SCHED_STR("pod", values[0]),
				  SCHED_STR("namespace", values[1]),
				  SCHED_STR("uid", values[2]), SCHED_STR("node", values[3]),
				  SCHED_DOUBLE("duration_ms", elapsed_ms(c)));
		} else {
			message = g_strdup_printf("stowage could not bind pod %s/%s to node %s: %s",
						  values[1], values[0], values[3],
						  err.message);
		}
	}
	if (message[0] != '\0') {
		c->bind_failed = true;
		SCHED_LOG(c->extender->log, SCHED_LOG_WARN, "extender", "bind failed",
			  SCHED_STR("pod", values[0]), SCHED_STR("namespace", values[1]),
			  SCHED_STR("uid", values[2]), SCHED_STR("node", values[3]),
			  SCHED_STR("error", message));
	}

	out = cJSON_CreateObject();
	if (out != NULL && cJSON_AddStringToObject(out, "Error", message) == NULL) {
		cJSON_Delete(out);
		out = NULL;
	}
	g_free(message);
	if (out == NULL)
		call_fail(c, PROBLEM_NO_MEMORY,
			  "stowage could not allocate the bind response");
	return out;
}

/* ---- Responses and the decision line ------------------------------------- */


static void log_decision(const call *c)
{
	sched_log_field fields[11];
	size_t n = 0;

	if (!call_logs_decision(c))
		return;

	fields[n++] = SCHED_STR("verb", sched_verb_name(c->verb));
	fields[n++] = SCHED_STR("pod", c->pod_label);
	fields[n++] = SCHED_STR("uid", c->pod_uid != NULL ? c->pod_uid : "");
	fields[n++] = SCHED_STR("mode", c->mode);
	fields[n++] = SCHED_INT("candidates", (int64_t)c->n_candidates);
	fields[n++] = SCHED_INT("passed", (int64_t)c->n_passed);
	if (c->rejected != NULL)
		fields[n++] = SCHED_JSON("rejected", c->rejected);
	if (c->n_rejected > (size_t)cJSON_GetArraySize(c->rejected))
		fields[n++] = SCHED_INT(
			"rejected_not_listed",
			(int64_t)(c->n_rejected -
				  (size_t)cJSON_GetArraySize(c->rejected)));
	if (c->top != NULL && c->verb == SCHED_VERB_PRIORITIZE)
		fields[n++] = SCHED_JSON("top", c->top);
	if (c->explain != NULL && c->verb == SCHED_VERB_PRIORITIZE &&
	    cJSON_GetArraySize(c->explain) > 0)
		fields[n++] = SCHED_JSON("explain", c->explain);
	fields[n++] = SCHED_DOUBLE("duration_ms", elapsed_ms(c));
	sched_log_write(c->extender->log, SCHED_LOG_INFO, "extender",
			"decision", fields, n);
}

static int problem_status(const call *c)
{
	switch (c->problem) {
	case PROBLEM_NONE:
		return 200;
	case PROBLEM_CONTENT:
		return c->verb == SCHED_VERB_FILTER ? 200 : 400;
	case PROBLEM_NO_MEMORY:
		return 500;
	case PROBLEM_MALFORMED_JSON:
	case PROBLEM_SHAPE:
		break;
	}
	return 400;
}

static const char *problem_kind(request_problem problem)
{
	switch (problem) {
	case PROBLEM_NONE:
		return NULL;
	case PROBLEM_MALFORMED_JSON:
		return "malformed_json";
	case PROBLEM_NO_MEMORY:
		return "internal";
	case PROBLEM_SHAPE:
	case PROBLEM_CONTENT:
		break;
	}
	return "invalid_request";
}

/* Returns the error body: an ExtenderFilterResult for filter, so that a
 * 200 response has the shape kube-scheduler decodes, else {"Error": ...}. */
static char *error_body(sched_verb verb, const char *message)
{
	cJSON *out = cJSON_CreateObject();
	bool ok = out != NULL;
	char *text = NULL;
	char *body;

	if (ok && verb == SCHED_VERB_FILTER)
		ok = cJSON_AddNullToObject(out, "Nodes") != NULL &&
		     cJSON_AddNullToObject(out, "NodeNames") != NULL &&
		     cJSON_AddObjectToObject(out, "FailedNodes") != NULL &&
		     cJSON_AddObjectToObject(out, "FailedAndUnresolvableNodes") != NULL;
	ok = ok && cJSON_AddStringToObject(out, "Error", message) != NULL;
	if (ok)
		text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (text == NULL)
		return g_strdup("{\"Error\":\"stowage could not allocate the error response\"}");
	body = g_strdup(text);
	cJSON_free(text);
	return body;
}

static void respond_problem(const call *c, sched_extender_response *response)
{
	response->http_status = problem_status(c);
	response->error_kind = problem_kind(c->problem);
	response->body = error_body(c->verb, c->err.message);

	SCHED_LOG(c->extender->log,
		  c->problem == PROBLEM_NO_MEMORY ? SCHED_LOG_ERROR
						  : SCHED_LOG_WARN,
		  "extender", "invalid request",
		  SCHED_STR("verb", sched_verb_name(c->verb)),
		  SCHED_STR("pod", c->pod_label != NULL ? c->pod_label : ""),
		  SCHED_INT("status", response->http_status),
		  SCHED_STR("error_kind", response->error_kind),
		  SCHED_STR("error", c->err.message),
		  SCHED_DOUBLE("duration_ms", elapsed_ms(c)));
}

void sched_extender_handle(const sched_extender *extender, sched_verb verb,
			   const char *body, size_t length,
			   sched_extender_response *response)
{
	call c = {
		.extender = extender,
		.verb = verb,
		.started_us = g_get_monotonic_time(),
		.mode = "",
	};
	cJSON *out = NULL;
	char *text;

	memset(response, 0, sizeof(*response));
	if (call_logs_decision(&c)) {
		c.rejected = cJSON_CreateArray();
		c.top = cJSON_CreateArray();
		c.explain = cJSON_CreateObject();
	}
	if (extender->cluster->policy != NULL)
		c.policy = pol_loader_current(extender->cluster->policy);
	c.pipeline = c.policy != NULL ? pol_policy_pipeline(c.policy)
				      : &extender->cluster->pipeline;

	if (parse_body(&c, body, length) < 0)
		goto out;
	switch (verb) {
	case SCHED_VERB_FILTER:
	case SCHED_VERB_PRIORITIZE:
		out = handle_node_verb(&c);
		break;
	case SCHED_VERB_PREEMPT:
		out = handle_preempt(&c);
		break;
	case SCHED_VERB_BIND:
		out = handle_bind(&c);
		break;
	case SCHED_VERB_COUNT:
	default:
		call_fail(&c, PROBLEM_SHAPE, "unknown extender verb %d",
			  (int)verb);
		break;
	}
	if (c.text != NULL) {
		response->body = c.text;
		c.text = NULL;
	} else if (out != NULL) {
		text = cJSON_PrintUnformatted(out);
		if (text == NULL) {
			call_fail(&c, PROBLEM_NO_MEMORY,
				  "stowage could not print the %s response",
				  sched_verb_name(verb));
			goto out;
		}
		response->body = g_strdup(text);
		cJSON_free(text);
	} else {
		goto out;
	}
	response->http_status = 200;
	if (verb == SCHED_VERB_BIND) {
		if (c.bind_failed)
			response->error_kind = "bind";
	} else {
		log_decision(&c);
	}

out:
	if (c.problem != PROBLEM_NONE)
		respond_problem(&c, response);
	cJSON_Delete(out);
	cJSON_Delete(c.root);
	cJSON_Delete(c.rejected);
	cJSON_Delete(c.top);
	cJSON_Delete(c.explain);
	g_free(c.text);
	g_free(c.pod_label);
	pol_policy_unref(c.policy);
}
