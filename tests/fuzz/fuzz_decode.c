/* libFuzzer target: Kubernetes objects. Parses the input as JSON and, when
 * it is an object, decodes it as a v1.Pod, a v1.Node and a v1.Namespace
 * with inf_decode_pod(), inf_decode_node() and inf_decode_namespace(). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "informer/decode.h"
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
	score_error err = {0};

	if (object == NULL)
		return 0;
	resources = score_resource_table_new();

	if (inf_decode_pod(object, resources, &pod, &err) == 0)
		score_pod_free(pod);
	else if (pod != NULL || err.message[0] == '\0')
		abort();

	err.message[0] = '\0';
	if (inf_decode_node(object, resources, &node, &err) == 0)
		score_node_free(node);
	else if (node != NULL || err.message[0] == '\0')
		abort();

	if (inf_decode_namespace(object, &name, &labels, &err) == 0) {
		score_unintern(name);
		score_labels_release(&labels);
	}

	score_resource_table_free(resources);
	cJSON_Delete(object);
	return 0;
}
