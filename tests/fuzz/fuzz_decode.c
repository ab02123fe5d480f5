/* libFuzzer target: Kubernetes objects. Parses the input as JSON and, when
 * it is an object, decodes it as a v1.Pod (with the warnings about ignored
 * annotations), a v1.Node, a v1.Namespace, a v1.Service and a
 * networking.k8s.io/v1 NetworkPolicy. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "informer/decode.h"
#include "informer/network_policy.h"
#include "scoring/netpol.h"
#include "scoring/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *object = cJSON_ParseWithLength((const char *)data, size);
	score_resource_table *resources;
	score_pod *pod = NULL;
	score_node *node = NULL;
	const char *name = NULL;
	score_labels labels = {0};
	score_service *service = NULL;
	score_network_policy *policy = NULL;
	GPtrArray *warnings;
	score_error err = {0};

	if (object == NULL)
		return 0;
	resources = score_resource_table_new();

	warnings = g_ptr_array_new_with_free_func(g_free);
	if (inf_decode_pod_with_warnings(object, resources, &pod, warnings,
					 &err) == 0)
		score_pod_free(pod);
	else if (pod != NULL || err.message[0] == '\0')
		abort();
	g_ptr_array_unref(warnings);

	err.message[0] = '\0';
	if (inf_decode_node(object, resources, &node, &err) == 0)
		score_node_free(node);
	else if (node != NULL || err.message[0] == '\0')
		abort();

	if (inf_decode_namespace(object, &name, &labels, &err) == 0) {
		score_unintern(name);
		score_labels_release(&labels);
	}

	err.message[0] = '\0';
	if (inf_decode_service(object, &service, &err) == 0)
		score_service_free(service);
	else if (err.message[0] == '\0')
		abort();

	err.message[0] = '\0';
	if (inf_network_policy_decode(object, &policy, &err) == 0)
		score_network_policy_unref(policy);
	else if (err.message[0] == '\0')
		abort();

	score_resource_table_free(resources);
	cJSON_Delete(object);
	return 0;
}
