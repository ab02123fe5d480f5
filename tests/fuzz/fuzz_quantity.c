/* libFuzzer target: Kubernetes quantities. Runs score_quantity_parse_milli()
 * and score_quantity_parse_value() on the input as a C string and checks
 * that they agree: both round away from zero, so for any quantity x that
 * both accept, value == ceil(milli / 1000) for x >= 0, and the mirror image
 * for x < 0. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "scoring/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t value_from_milli(int64_t milli)
{
	int64_t whole = milli / 1000;

	if (milli % 1000 > 0)
		return whole + 1;
	if (milli % 1000 < 0)
		return whole - 1;
	return whole;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size);
	score_error err_milli = {0};
	score_error err_value = {0};
	int64_t milli = 0;
	int64_t value = 0;
	int ret_milli = score_quantity_parse_milli(text, &milli, &err_milli);
	int ret_value = score_quantity_parse_value(text, &value, &err_value);

	if (ret_milli != 0 && ret_milli != -EINVAL && ret_milli != -ERANGE)
		abort();
	if (ret_value != 0 && ret_value != -EINVAL && ret_value != -ERANGE)
		abort();
	/* Syntax does not depend on the scale. */
	if ((ret_milli == -EINVAL) != (ret_value == -EINVAL)) {
		fprintf(stderr, "\"%s\": milli returned %d, value %d\n", text,
			ret_milli, ret_value);
		abort();
	}
	if (ret_milli < 0 && err_milli.message[0] == '\0')
		abort();
	if (ret_milli == 0 && ret_value == 0 &&
	    value_from_milli(milli) != value) {
		fprintf(stderr,
			"\"%s\": milli %" PRId64 " implies value %" PRId64
			", parsed %" PRId64 "\n",
			text, milli, value_from_milli(milli), value);
		abort();
	}
	g_free(text);
	return 0;
}
