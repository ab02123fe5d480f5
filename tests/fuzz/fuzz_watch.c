/* libFuzzer target: the watch-stream line splitter and event decoder of
 * informer/reflector.c, through inf_reflector_replay_watch(). Bits 0-1 of
 * the first byte pick the resource (nodes, pods, namespaces, network
 * policies). Bits 2-7 pick the size of the pieces the body arrives in: 1
 * to 63 bytes, or 0 for all at once. The rest is the body of a watch
 * response. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "informer/reflector.h"
#include "scoring/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	score_resource_table *resources;
	score_model *model;
	GRWLock lock;
	inf_watch_replay replay;
	score_error err = {0};
	inf_resource resource;
	size_t chunk;

	if (size == 0)
		return 0;
	resource = (inf_resource)((data[0] & 3) % INF_RESOURCE_COUNT);
	chunk = (size_t)(data[0] >> 2);

	resources = score_resource_table_new();
	model = score_model_new(resources);
	g_rw_lock_init(&lock);
	if (inf_reflector_replay_watch(resource, model, &lock,
				       (const char *)data + 1, size - 1, chunk,
				       &replay, &err) < 0)
		abort();
	if (replay.pending_bytes > size)
		abort();
	g_rw_lock_clear(&lock);
	score_model_free(model);
	score_resource_table_free(resources);
	return 0;
}
