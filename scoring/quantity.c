/* Kubernetes resource quantities; see quantity.h.
 *
 * The grammar and its corner cases follow resource.ParseQuantity() in
 * k8s.io/apimachinery (quantity.go and suffix.go). The value is computed
 * exactly: the digits are kept as a decimal digit array, multiplied by the
 * binary suffix if there is one, and only the final result is reduced to
 * int64, so "0.1" is exactly 100m and "100Pi" is exact in bytes.
 *
 * Where stowage differs from Kubernetes:
 * - Kubernetes never reports overflow. It caps a binary-suffixed quantity at
 *   2^63-1 while parsing ("9Ei" becomes 9223372036854775807), and Value() and
 *   MilliValue() saturate or wrap, depending on how the quantity is stored
 *   internally, when the result does not fit in int64 ("12E", or MilliValue()
 *   of "9Ei"). Stowage fails with -ERANGE instead, so that it never schedules
 *   with a value other than the one in the spec.
 * - The accepted range is [-INT64_MAX, INT64_MAX]. INT64_MIN is rejected
 *   too, so that a caller can negate any result.
 */
#include "scoring/quantity.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <glib.h>

/* Decimal digits of INT64_MAX, 9223372036854775807. */
#define INT64_MAX_DIGITS 19

/* Characters that Kubernetes's scanner lets into a suffix before an
 * optional sign and exponent digits. */
#define SUFFIX_LETTERS "eEinumkKMGTP"

/* Maximum length of the escaped input quoted in an error message. */
#define QUOTE_MAX 64

enum suffix_kind {
	SUFFIX_DECIMAL,  /* "", n, u, m, k, M, G, T, P, E */
	SUFFIX_BINARY,   /* Ki, Mi, Gi, Ti, Pi, Ei */
	SUFFIX_EXPONENT, /* e3, E-6, e+2 */
};

/* A quantity split as Kubernetes's scanner splits it. `integer` has its
 * leading zeros removed, so "007.50" gives integer "7" and fraction "50". */
typedef struct number_parts {
	bool negative;
	bool has_digits;     /* any digit before the suffix, zeros included */
	const char *integer; /* borrowed from the input, not NUL-terminated */
	size_t integer_len;
	const char *fraction; /* digits after '.', borrowed like `integer` */
	size_t fraction_len;
	const char *suffix; /* the rest of the input, possibly "" */
} number_parts;

typedef struct suffix_value {
	enum suffix_kind kind;
	int64_t exponent; /* power of 10, or of 2 for SUFFIX_BINARY */
} suffix_value;

/* Exact digits of |quantity| * 10^exponent, least significant first. */
typedef struct digit_array {
	guint8 *digits;
	size_t len;
	size_t capacity;
	int64_t exponent;
} digit_array;

enum parse_failure {
	PARSE_OK = 0,
	PARSE_MALFORMED,
	PARSE_UNKNOWN_SUFFIX,
	PARSE_EXPONENT_RANGE,
	PARSE_TOO_MANY_DIGITS,
};

static const struct {
	const char *text;
	enum suffix_kind kind;
	int exponent;
} suffix_table[] = {
	{ "", SUFFIX_DECIMAL, 0 },   { "n", SUFFIX_DECIMAL, -9 },
	{ "u", SUFFIX_DECIMAL, -6 }, { "m", SUFFIX_DECIMAL, -3 },
	{ "k", SUFFIX_DECIMAL, 3 },  { "M", SUFFIX_DECIMAL, 6 },
	{ "G", SUFFIX_DECIMAL, 9 },  { "T", SUFFIX_DECIMAL, 12 },
	{ "P", SUFFIX_DECIMAL, 15 }, { "E", SUFFIX_DECIMAL, 18 },
	{ "Ki", SUFFIX_BINARY, 10 }, { "Mi", SUFFIX_BINARY, 20 },
	{ "Gi", SUFFIX_BINARY, 30 }, { "Ti", SUFFIX_BINARY, 40 },
	{ "Pi", SUFFIX_BINARY, 50 }, { "Ei", SUFFIX_BINARY, 60 },
};

static size_t span_digits(const char *text)
{
	size_t n = 0;

	while (g_ascii_isdigit(text[n]))
		n++;
	return n;
}

/* Splits `text` into sign, integer digits, fraction digits and the rest.
 * Any string splits, so the suffix check decides what is malformed. */
static void split_number(const char *text, number_parts *parts)
{
	const char *p = text;
	size_t zeros;

	memset(parts, 0, sizeof(*parts));
	if (*p == '+' || *p == '-') {
		parts->negative = *p == '-';
		p++;
	}

	zeros = strspn(p, "0");
	parts->has_digits = zeros > 0;
	p += zeros;
	parts->integer = p;
	parts->integer_len = span_digits(p);
	p += parts->integer_len;

	parts->fraction = p;
	if (*p == '.') {
		p++;
		parts->fraction = p;
		parts->fraction_len = span_digits(p);
		p += parts->fraction_len;
	}

	if (parts->integer_len > 0 || parts->fraction_len > 0)
		parts->has_digits = true;
	parts->suffix = p;
}

/* Checks the shape Kubernetes's scanner accepts after the number:
 * suffix letters, then an optional sign, then optional digits. */
static bool suffix_is_well_formed(const char *suffix)
{
	const char *p = suffix + strspn(suffix, SUFFIX_LETTERS);

	if (*p == '+' || *p == '-')
		p++;
	p += span_digits(p);
	return *p == '\0';
}

static bool suffix_is_letters(const char *suffix)
{
	if (*suffix == '\0')
		return false;
	for (const char *p = suffix; *p != '\0'; p++) {
		if (!g_ascii_isalpha(*p))
			return false;
	}
	return true;
}

/* Reads "e<exponent>": a sign and digits after 'e' or 'E', as Go's
 * strconv.ParseInt reads them. Exponents beyond +-INT32_MAX fail with
 * PARSE_EXPONENT_RANGE, as apimachinery's quantity tests require. Earlier
 * releases truncated the exponent to int32, so "1e4294967297" meant 1e1. */
static enum parse_failure read_exponent(const char *suffix, int64_t *exponent)
{
	const char *digits = suffix + 1;
	gint64 parsed = 0;

	if (*digits == '+' || *digits == '-')
		digits++;
	if (*digits == '\0' || digits[span_digits(digits)] != '\0')
		return PARSE_UNKNOWN_SUFFIX;

	/* The text is known to be a well-formed number, so a failure here can
	 * only mean that it is out of bounds. */
	if (!g_ascii_string_to_signed(suffix + 1, 10, -G_MAXINT32, G_MAXINT32,
				      &parsed, NULL))
		return PARSE_EXPONENT_RANGE;
	*exponent = parsed;
	return PARSE_OK;
}

static enum parse_failure interpret_suffix(const char *suffix,
					   suffix_value *value)
{
	for (size_t i = 0; i < G_N_ELEMENTS(suffix_table); i++) {
		if (strcmp(suffix, suffix_table[i].text) == 0) {
			value->kind = suffix_table[i].kind;
			value->exponent = suffix_table[i].exponent;
			return PARSE_OK;
		}
	}

	if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix[1] != '\0') {
		value->kind = SUFFIX_EXPONENT;
		return read_exponent(suffix, &value->exponent);
	}
	return PARSE_UNKNOWN_SUFFIX;
}

/* Applies two rules that come from how ParseQuantity() is built, not from
 * its grammar, so that stowage rejects exactly what Kubernetes rejects.
 *
 * A number without digits ("+", ".", "-." or nothing before the suffix)
 * counts as zero when Kubernetes's int64 path handles it, so "Gi", "." and
 * "e-9" are 0. Its inf.Dec path finds no digits and fails, and it takes
 * that path for Pi and Ei and for scales below 10^-9 ("Pi", "e-10").
 *
 * Kubernetes takes its int64 path for a decimal suffix when there are at
 * most 19 digits and the scale is at least 10^-9. That path parses the
 * digits with strconv.ParseInt() and fails when they exceed INT64_MAX, so
 * "9300000000000000000m" is rejected even though its value, 9.3e15, fits. */
static enum parse_failure check_kubernetes_rules(const number_parts *parts,
						 const suffix_value *suffix)
{
	size_t digit_count;
	int64_t scale;
	char digits[INT64_MAX_DIGITS + 1];

	if (!parts->has_digits) {
		if (suffix->kind == SUFFIX_BINARY) /* Ki, Mi, Gi and Ti */
			return suffix->exponent <= 40 ? PARSE_OK : PARSE_MALFORMED;
		return suffix->exponent >= -9 ? PARSE_OK : PARSE_MALFORMED;
	}
	if (suffix->kind == SUFFIX_BINARY)
		return PARSE_OK;

	/* Kubernetes counts a stripped integer part as the one digit "0". */
	digit_count = MAX(parts->integer_len, 1) + parts->fraction_len;
	/* NOTE: Kubernetes computes decimal scales in int32, where an exponent
	 * within a fraction's length of -2147483647 wraps around. Such inputs
	 * get a different verdict or value there than here. */
	scale = suffix->exponent - (int64_t)parts->fraction_len;
	if (digit_count != INT64_MAX_DIGITS || scale < -9)
		return PARSE_OK;

	if (parts->integer_len == 0)
		return PARSE_OK; /* a leading "0" keeps it below INT64_MAX */
	memcpy(digits, parts->integer, parts->integer_len);
	memcpy(digits + parts->integer_len, parts->fraction,
	       parts->fraction_len);
	digits[INT64_MAX_DIGITS] = '\0';
	if (strcmp(digits, "9223372036854775807") > 0)
		return PARSE_TOO_MANY_DIGITS;
	return PARSE_OK;
}

static enum parse_failure parse_parts(const char *text, number_parts *parts,
				      suffix_value *suffix)
{
	enum parse_failure failure;

	split_number(text, parts);
	if (text[0] == '\0')
		return PARSE_MALFORMED;

	failure = PARSE_MALFORMED;
	if (suffix_is_well_formed(parts->suffix))
		failure = interpret_suffix(parts->suffix, suffix);
	if (failure == PARSE_OK)
		return check_kubernetes_rules(parts, suffix);

	/* Name the suffix only where it is clearly the one mistake, as in
	 * "1gi" or "1KiB", and not in "--1" or "1m5". */
	if (failure == PARSE_EXPONENT_RANGE)
		return failure;
	if (parts->has_digits && suffix_is_letters(parts->suffix))
		return PARSE_UNKNOWN_SUFFIX;
	return PARSE_MALFORMED;
}

/* Fills `array` with the significant digits of the number in `parts`. */
static void digit_array_init(digit_array *array, const number_parts *parts)
{
	size_t total = parts->integer_len + parts->fraction_len;
	size_t n = 0;

	/* Multiplying by 2^60 adds at most 19 digits. */
	array->capacity = total + 20;
	array->digits = g_malloc(array->capacity);
	for (size_t i = parts->fraction_len; i > 0; i--)
		array->digits[n++] = (guint8)(parts->fraction[i - 1] - '0');
	for (size_t i = parts->integer_len; i > 0; i--)
		array->digits[n++] = (guint8)(parts->integer[i - 1] - '0');
	while (n > 0 && array->digits[n - 1] == 0)
		n--;
	array->len = n;
	array->exponent = -(int64_t)parts->fraction_len;
}

static void digit_array_release(digit_array *array)
{
	g_free(array->digits);
	array->digits = NULL;
}

static void digit_array_multiply(digit_array *array, unsigned factor)
{
	unsigned carry = 0;

	for (size_t i = 0; i < array->len; i++) {
		unsigned product = array->digits[i] * factor + carry;

		array->digits[i] = (guint8)(product % 10);
		carry = product / 10;
	}
	while (carry > 0) {
		g_assert(array->len < array->capacity);
		array->digits[array->len++] = (guint8)(carry % 10);
		carry /= 10;
	}
}

/* Returns |array| rounded away from zero to an integer in `*magnitude`, or
 * -ERANGE when that exceeds INT64_MAX. */
static int digit_array_round(const digit_array *array, guint64 *magnitude)
{
	size_t len = array->len;
	size_t skipped = 0;
	bool remainder = false;
	guint64 result = 0;

	if (len == 0) {
		*magnitude = 0;
		return 0;
	}

	if (array->exponent >= 0) {
		/* The value is at least 10^(len - 1 + exponent). */
		if (array->exponent > INT64_MAX_DIGITS ||
		    (int64_t)len + array->exponent > INT64_MAX_DIGITS)
			return -ERANGE;
	} else if ((guint64)(-array->exponent) >= len) {
		*magnitude = 1; /* a non-zero fraction of one unit */
		return 0;
	} else {
		skipped = (size_t)(-array->exponent);
		if (len - skipped > INT64_MAX_DIGITS)
			return -ERANGE;
		for (size_t i = 0; i < skipped; i++)
			remainder = remainder || array->digits[i] != 0;
	}

	/* At most 19 digits, so this cannot overflow a guint64. */
	for (size_t i = len; i > skipped; i--)
		result = result * 10 + array->digits[i - 1];
	for (int64_t i = 0; i < array->exponent; i++) {
		if (!g_uint64_checked_mul(&result, result, 10))
			return -ERANGE;
	}
	if (remainder)
		result++;
	if (result > G_MAXINT64)
		return -ERANGE;
	*magnitude = result;
	return 0;
}

/* Computes the quantity times 10^`scale`, rounded away from zero. */
static int compute_scaled(const number_parts *parts,
			  const suffix_value *suffix, int scale, int64_t *out)
{
	digit_array array;
	guint64 magnitude = 0;
	int ret;

	digit_array_init(&array, parts);
	if (suffix->kind == SUFFIX_BINARY) {
		for (int64_t i = 0; i < suffix->exponent; i += 10)
			digit_array_multiply(&array, 1024);
	} else {
		array.exponent += suffix->exponent;
	}
	array.exponent += scale;

	ret = digit_array_round(&array, &magnitude);
	if (ret < 0)
		goto out;
	*out = parts->negative ? -(int64_t)magnitude : (int64_t)magnitude;
out:
	digit_array_release(&array);
	return ret;
}

/* Returns `text` escaped and cut for quoting in a message; the caller
 * frees it with g_free(). */
static char *quote_for_message(const char *text)
{
	char *escaped = g_strescape(text, NULL);
	char *cut;

	if (strlen(escaped) <= QUOTE_MAX)
		return escaped;
	cut = g_strdup_printf("%.*s...", QUOTE_MAX, escaped);
	g_free(escaped);
	return cut;
}

static int fail_parse(score_error *err, const char *text,
		      enum parse_failure failure, const char *suffix)
{
	char *quoted = quote_for_message(text);
	char *quoted_suffix = quote_for_message(suffix);
	int ret = -EINVAL;

	switch (failure) {
	case PARSE_UNKNOWN_SUFFIX:
		score_fail(err, ret,
			   "invalid quantity \"%s\": unknown suffix \"%s\", "
			   "expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, "
			   "Gi, Ti, Pi, Ei or an exponent such as e3",
			   quoted, quoted_suffix);
		break;
	case PARSE_EXPONENT_RANGE:
		score_fail(err, ret,
			   "invalid quantity \"%s\": the exponent must be "
			   "between -2147483647 and 2147483647",
			   quoted);
		break;
	case PARSE_TOO_MANY_DIGITS:
		score_fail(err, ret,
			   "invalid quantity \"%s\": Kubernetes rejects a "
			   "mantissa of 19 digits above 9223372036854775807, "
			   "so write the value with fewer digits, for example "
			   "9.3e15 instead of 9300000000000000000m",
			   quoted);
		break;
	case PARSE_OK:
	case PARSE_MALFORMED:
	default:
		score_fail(err, ret,
			   "invalid quantity \"%s\": expected a number with an "
			   "optional suffix such as 500m, 2Gi or 1e3",
			   quoted);
		break;
	}

	g_free(quoted_suffix);
	g_free(quoted);
	return ret;
}

/* Parses `text` and stores its value times 10^`scale` in `*out`.
 * `limit_text` is the largest magnitude in the caller's unit, INT64_MAX
 * divided by 10^`scale`, for the message. */
static int parse_scaled(const char *text, int scale, const char *limit_text,
			int64_t *out, score_error *err)
{
	number_parts parts;
	suffix_value suffix = { SUFFIX_DECIMAL, 0 };
	enum parse_failure failure;
	char *quoted;
	int ret;

	if (text == NULL)
		return score_fail(err, -EINVAL,
				  "missing quantity: expected a number with an "
				  "optional suffix such as 500m, 2Gi or 1e3");

	failure = parse_parts(text, &parts, &suffix);
	if (failure != PARSE_OK)
		return fail_parse(err, text, failure, parts.suffix);

	ret = compute_scaled(&parts, &suffix, scale, out);
	if (ret == -ERANGE) {
		quoted = quote_for_message(text);
		if (parts.negative)
			score_fail(err, ret,
				   "quantity \"%s\" is out of range: the smallest "
				   "value accepted is -%s",
				   quoted, limit_text);
		else
			score_fail(err, ret,
				   "quantity \"%s\" is out of range: the largest "
				   "value accepted is %s",
				   quoted, limit_text);
		g_free(quoted);
	}
	return ret;
}

int score_quantity_parse_milli(const char *text, int64_t *milli,
			       score_error *err)
{
	return parse_scaled(text, 3, "9223372036854775.807", milli, err);
}

int score_quantity_parse_value(const char *text, int64_t *value,
			       score_error *err)
{
	return parse_scaled(text, 0, "9223372036854775807", value, err);
}
