/* Error reporting shared by every stowage module.
 *
 * Convention: a function that can fail returns 0 on success or a negative
 * errno value (-EINVAL for bad input, -ENOENT for something not found,
 * -ERANGE for a value out of range, -EIO for I/O). Where the caller needs to
 * tell a person what went wrong, the function also takes a `score_error *`
 * out-parameter and fills it with one sentence that names what failed, on
 * which value, and what to do about it. The out-parameter may be NULL.
 */
#ifndef STOWAGE_SCORE_ERROR_H
#define STOWAGE_SCORE_ERROR_H

#include <glib.h>

#define SCORE_ERROR_MESSAGE_MAX 512

typedef struct score_error {
	int code;                              /* negative errno, 0 when unset */
	char message[SCORE_ERROR_MESSAGE_MAX]; /* NUL-terminated, may be cut */
} score_error;

/* Fills `err` (when not NULL) with `code` and a printf-style message and
 * returns `code`, so a failing path can end with `return score_fail(...)`. */
int score_fail(score_error *err, int code, const char *format, ...)
	G_GNUC_PRINTF(3, 4);

/* Prepends "prefix: " to the message already in `err`, for adding context
 * such as a file name or a field path while an error travels up. */
void score_error_prefix(score_error *err, const char *format, ...)
	G_GNUC_PRINTF(2, 3);

#endif
