/* libFuzzer target: cluster snapshot files (YAML or JSON Lists of Nodes,
 * Pods and Namespaces) loaded with inf_load_cluster_buffer_counted() into
 * a fresh model. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "informer/cluster_file.h"
#include "scoring/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	score_resource_table *resources = score_resource_table_new();
	score_model *model = score_model_new(resources);
	inf_cluster_counts counts = {0};
	score_error err = {0};
	int ret;

	ret = inf_load_cluster_buffer_counted("fuzz.yaml", (const char *)data,
					      size, model, &counts, &err);
	if (ret == 0 && score_model_node_count(model) > counts.nodes)
		abort();
	if (ret < 0 && err.message[0] == '\0')
		abort();

	score_model_free(model);
	score_resource_table_free(resources);
	return 0;
}
