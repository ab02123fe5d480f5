/* Test support for the scoring tests: filling a score_model from short
 * text (labels as "k=v,k2=v2", NetworkPolicies as JSON) and printing sets
 * of pods in a fixed order, so that assertions compare plain strings.
 *
 * Header-only, because the Makefile links each tests/test_*.c alone into
 * its own binary as well as all of them into one. The functions fail the
 * test with a Criterion assertion instead of returning errors. */
#ifndef STOWAGE_TESTS_SCORE_MODEL_H
#define STOWAGE_TESTS_SCORE_MODEL_H

#include <criterion/criterion.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "informer/network_policy.h"
#include "scoring/model.h"

/* Adds the labels in `text`, "k=v,k2=v2", to `labels`. A pair without "="
 * gets the empty value. NULL or "" adds none. */
static inline void test_labels_parse(score_labels *labels, const char *text)
{
	char **pairs;

	if (text == NULL || text[0] == '\0')
		return;
	pairs = g_strsplit(text, ",", -1);
	for (char **pair = pairs; *pair != NULL; pair++) {
		char **kv = g_strsplit(*pair, "=", 2);

		score_labels_set(labels, kv[0], kv[1] != NULL ? kv[1] : "");
		g_strfreev(kv);
	}
	g_strfreev(pairs);
}

/* Returns a new pod `namespace`/`name` with `uid`, running on `node`, or
 * pending when `node` is NULL, that requests its pod slot and nothing
 * else. The caller frees it with score_pod_free() or hands it to a model
 * with score_model_put_pod(). */
static inline score_pod *test_pod_new(const char *uid, const char *namespace,
				      const char *name, const char *node)
{
	score_pod *pod = score_pod_new();

	pod->uid = score_intern(uid);
	pod->name = score_intern(name);
	pod->namespace = score_intern(namespace);
	pod->node_name = score_intern(node);
	pod->phase = node != NULL ? SCORE_POD_RUNNING : SCORE_POD_PENDING;
	pod->request.v[SCORE_RES_PODS] = 1;
	pod->nonzero_request = pod->request;
	return pod;
}

/* Stores namespace `name` in `model` with the labels in `labels`
 * ("k=v,k2=v2", NULL or "" for none), replacing its earlier labels. */
static inline void test_model_put_namespace(score_model *model, const char *name,
					    const char *labels)
{
	score_labels parsed = {0};

	test_labels_parse(&parsed, labels);
	score_model_put_namespace(model, name, &parsed);
	score_labels_release(&parsed);
}

/* Decodes the NetworkPolicy in `json` and stores it in `model`, replacing
 * the policy with the same namespace and name. Fails the test when the
 * JSON does not parse or the policy does not decode. */
static inline void test_model_put_network_policy(score_model *model, const char *json)
{
	cJSON *object = cJSON_Parse(json);
	score_network_policy *policy = NULL;
	score_error err = {0};

	cr_assert_not_null(object, "test JSON does not parse: %s", json);
	cr_assert_eq(inf_network_policy_decode(object, &policy, &err), 0,
		     "decoding %s failed: %s", json, err.message);
	cJSON_Delete(object);
	score_model_put_network_policy(model, policy);
}

/* Orders the elements of a GPtrArray of strings for g_ptr_array_sort(),
 * which passes pointers to the elements. */
static inline gint test_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The field of a pod that test_pod_list() prints. */
typedef enum test_pod_field {
	TEST_POD_NAME,
	TEST_POD_UID,
} test_pod_field;

/* Returns the `field` of each pod in `pods`, a hash table whose keys are
 * score_pod pointers (such as the peers from score_locality_peers()),
 * sorted and joined with ",", or "" when `pods` is empty. The caller frees
 * the string with g_free(). */
static inline char *test_pod_list(GHashTable *pods, test_pod_field field)
{
	GPtrArray *values = g_ptr_array_new();
	GString *out = g_string_new(NULL);
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, pods);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const score_pod *pod = key;

		g_ptr_array_add(values,
				(gpointer)(field == TEST_POD_UID ? pod->uid : pod->name));
	}
	g_ptr_array_sort(values, test_compare_strings);
	for (guint i = 0; i < values->len; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? "," : "",
				       (const char *)g_ptr_array_index(values, i));
	g_ptr_array_unref(values);
	return g_string_free(out, FALSE);
}

#endif
