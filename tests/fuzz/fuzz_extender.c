/* libFuzzer target: extender request bodies. The first byte picks the verb
 * (filter, prioritize, preempt, bind), and sched_extender_handle() handles
 * the rest as the body. The cluster is the built-in demo cluster, built
 * once: the extender only reads it, and the stand-in binder below leaves it
 * alone, so every input gets the same model. Each response must be one
 * JSON value that kube-scheduler can decode. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/cluster_file.h"
#include "scheduler/extender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stands in for the API server: every binding succeeds, and the model is
 * not changed. */
static int accept_binding(void *data, const char *pod_namespace,
			  const char *pod_name, const char *pod_uid,
			  const char *node, score_error *err)
{
	(void)data;
	(void)pod_namespace;
	(void)pod_name;
	(void)pod_uid;
	(void)node;
	(void)err;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Checks what kube-scheduler needs to decode a response: one JSON value
 * with no raw control characters (Go's encoding/json rejects them inside
 * strings), and for a successful prioritize a HostPriorityList whose
 * scores are within 0..10. */
static void check_response(sched_verb verb, const sched_extender_response *r)
{
	size_t length = strlen(r->body);
	const char *end = NULL;
	cJSON *json;

	for (size_t i = 0; i < length; i++) {
		if ((unsigned char)r->body[i] < 0x20) {
			fprintf(stderr, "raw control character at byte %zu of %s\n",
				i, r->body);
			abort();
		}
	}
	json = cJSON_ParseWithLengthOpts(r->body, length, &end, false);
	if (json == NULL || end != r->body + length) {
		fprintf(stderr, "response is not one JSON value: %s\n", r->body);
		abort();
	}
	if (verb == SCHED_VERB_PRIORITIZE && r->http_status == 200) {
		const cJSON *entry;

		if (!cJSON_IsArray(json))
			abort();
		cJSON_ArrayForEach(entry, json) {
			const cJSON *host = cJSON_GetObjectItemCaseSensitive(entry, "Host");
			const cJSON *score = cJSON_GetObjectItemCaseSensitive(entry, "Score");

			if (!cJSON_IsString(host) || !cJSON_IsNumber(score) ||
			    score->valuedouble < 0 || score->valuedouble > 10)
				abort();
		}
	}
	cJSON_Delete(json);
}

static sched_cluster cluster;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	score_error err = {0};

	(void)argc;
	(void)argv;
	sched_cluster_init(&cluster);
	if (inf_load_demo_cluster(cluster.model, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sched_extender extender = {0};
	sched_extender_response response = {0};
	sched_verb verb;
	char *body;

	if (size == 0)
		return 0;
	verb = (sched_verb)(data[0] % SCHED_VERB_COUNT);
	extender.cluster = &cluster;
	extender.top_scores = 3;
	extender.bind = accept_binding;

	/* The server hands the extender a NUL-terminated copy; do the same
	 * so that the fuzzer finds reads past `length`, not past the NUL. */
	body = g_malloc(size);
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	sched_extender_handle(&extender, verb, body, size - 1, &response);
	if (response.body == NULL || response.http_status < 100 ||
	    response.http_status > 599)
		abort();
	check_response(verb, &response);

	g_free(response.body);
	g_free(body);
	return 0;
}
