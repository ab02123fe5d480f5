/* Error reporting shared by every stowage module; see error.h. */
#include "scoring/error.h"

#include <stdarg.h>
#include <stdio.h>

int score_fail(score_error *err, int code, const char *format, ...)
{
	va_list args;

	if (err == NULL)
		return code;

	err->code = code;
	va_start(args, format);
	vsnprintf(err->message, sizeof(err->message), format, args);
	va_end(args);
	return code;
}

void score_error_prefix(score_error *err, const char *format, ...)
{
	GString *joined;
	va_list args;

	if (err == NULL)
		return;

	joined = g_string_sized_new(sizeof(err->message));
	va_start(args, format);
	g_string_vprintf(joined, format, args);
	va_end(args);
	g_string_append(joined, ": ");
	g_string_append(joined, err->message);
	/* Keep the start, which names the outermost context. */
	g_strlcpy(err->message, joined->str, sizeof(err->message));
	g_string_free(joined, TRUE);
}
