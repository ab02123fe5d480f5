/* libFuzzer target: kubeconfig files. The loader reads files only, so the
 * input goes into a memfd and inf_rest_config_load() reads it as
 * --kubeconfig /proc/self/fd/N. The environment fields stay NULL, so no
 * other file ($KUBECONFIG, ~/.kube/config, the service account) is read,
 * except files that the input itself names. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "informer/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	inf_kubeconfig_options options = {0};
	inf_rest_config *config = NULL;
	score_error err = {0};
	char path[64];
	int fd = memfd_create("kubeconfig", MFD_CLOEXEC);
	int ret;

	if (fd < 0)
		abort();
	write_all(fd, data, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	options.kubeconfig = path;

	ret = inf_rest_config_load(&options, &config, &err);
	if (ret == 0) {
		inf_rest_config *copy;

		size_t length;

		if (config == NULL || config->server == NULL)
			abort();
		/* kubeconfig.h: the server URL never ends with '/'. */
		length = strlen(config->server);
		if (length > 0 && config->server[length - 1] == '/')
			abort();
		copy = inf_rest_config_copy(config);
		inf_rest_config_free(copy);
		inf_rest_config_free(config);
	} else if (config != NULL || err.message[0] == '\0') {
		abort();
	}
	close(fd);
	return 0;
}
