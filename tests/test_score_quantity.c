/* Tests for scoring/quantity.c: Kubernetes resource quantities parsed as
 * resource.ParseQuantity() accepts them and reduced to Value() and
 * MilliValue(). The first table comes from apimachinery's quantity tests,
 * with the values each input has in whole units and in thousandths. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "scoring/quantity.h"

/* Stored in outputs before each call, to show that a failure leaves them. */
#define SENTINEL INT64_C(-4242)

typedef struct expected {
	int ret;        /* 0 or -ERANGE */
	int64_t result; /* meaningful when ret is 0 */
} expected;

#define OK(n) { 0, (n) }
#define OUT_OF_RANGE { -ERANGE, 0 }

typedef struct quantity_case {
	const char *text;
	expected value; /* score_quantity_parse_value() */
	expected milli; /* score_quantity_parse_milli() */
} quantity_case;

static const quantity_case apimachinery_cases[] = {
	/* zero with every suffix */
	{ "0", OK(0LL), OK(0LL) },
	{ "0n", OK(0LL), OK(0LL) },
	{ "0u", OK(0LL), OK(0LL) },
	{ "0m", OK(0LL), OK(0LL) },
	{ "0Ki", OK(0LL), OK(0LL) },
	{ "0k", OK(0LL), OK(0LL) },
	{ "0Mi", OK(0LL), OK(0LL) },
	{ "0M", OK(0LL), OK(0LL) },
	{ "0Gi", OK(0LL), OK(0LL) },
	{ "0G", OK(0LL), OK(0LL) },
	{ "0Ti", OK(0LL), OK(0LL) },
	{ "0T", OK(0LL), OK(0LL) },
	/* plain numbers and binary suffixes */
	{ "1", OK(1LL), OK(1000LL) },
	{ "1Ki", OK(1024LL), OK(1024000LL) },
	{ "8Ki", OK(8192LL), OK(8192000LL) },
	{ "7Mi", OK(7340032LL), OK(7340032000LL) },
	{ "6Gi", OK(6442450944LL), OK(6442450944000LL) },
	{ "5Ti", OK(5497558138880LL), OK(5497558138880000LL) },
	{ "4Pi", OK(4503599627370496LL), OK(4503599627370496000LL) },
	{ "3Ei", OK(3458764513820540928LL), OUT_OF_RANGE },
	{ "10Ti", OK(10995116277760LL), OK(10995116277760000LL) },
	{ "100Ti", OK(109951162777600LL), OK(109951162777600000LL) },
	/* decimal suffixes */
	{ "5n", OK(1LL), OK(1LL) },
	{ "4u", OK(1LL), OK(1LL) },
	{ "3m", OK(1LL), OK(3LL) },
	{ "9", OK(9LL), OK(9000LL) },
	{ "8k", OK(8000LL), OK(8000000LL) },
	{ "50k", OK(50000LL), OK(50000000LL) },
	{ "7M", OK(7000000LL), OK(7000000000LL) },
	{ "6G", OK(6000000000LL), OK(6000000000000LL) },
	{ "5T", OK(5000000000000LL), OK(5000000000000000LL) },
	{ "40T", OK(40000000000000LL), OK(40000000000000000LL) },
	{ "300T", OK(300000000000000LL), OK(300000000000000000LL) },
	{ "2P", OK(2000000000000000LL), OK(2000000000000000000LL) },
	{ "1E", OK(1000000000000000000LL), OUT_OF_RANGE },
	/* decimal exponents, standard and not */
	{ "1E-3", OK(1LL), OK(1LL) },
	{ "1e3", OK(1000LL), OK(1000000LL) },
	{ "1E6", OK(1000000LL), OK(1000000000LL) },
	{ "1e9", OK(1000000000LL), OK(1000000000000LL) },
	{ "1E12", OK(1000000000000LL), OK(1000000000000000LL) },
	{ "1e15", OK(1000000000000000LL), OK(1000000000000000000LL) },
	{ "1E18", OK(1000000000000000000LL), OUT_OF_RANGE },
	{ "1e14", OK(100000000000000LL), OK(100000000000000000LL) },
	{ "1e13", OK(10000000000000LL), OK(10000000000000000LL) },
	{ "100.035k", OK(100035LL), OK(100035000LL) },
	/* fractions */
	{ "0.001", OK(1LL), OK(1LL) },
	{ "0.0005k", OK(1LL), OK(500LL) },
	{ "0.005", OK(1LL), OK(5LL) },
	{ "0.05", OK(1LL), OK(50LL) },
	{ "0.5", OK(1LL), OK(500LL) },
	{ "0.00050k", OK(1LL), OK(500LL) },
	{ "0.00500", OK(1LL), OK(5LL) },
	{ "0.05000", OK(1LL), OK(50LL) },
	{ "0.50000", OK(1LL), OK(500LL) },
	{ "0.5e0", OK(1LL), OK(500LL) },
	{ "0.5e-1", OK(1LL), OK(50LL) },
	{ "0.5e-2", OK(1LL), OK(5LL) },
	{ "10.035M", OK(10035000LL), OK(10035000000LL) },
	{ "1.2e3", OK(1200LL), OK(1200000LL) },
	{ "1.3E+6", OK(1300000LL), OK(1300000000LL) },
	{ "1.40e9", OK(1400000000LL), OK(1400000000000LL) },
	{ "1.53E12", OK(1530000000000LL), OK(1530000000000000LL) },
	{ "1.6e15", OK(1600000000000000LL), OK(1600000000000000000LL) },
	{ "1.7E18", OK(1700000000000000000LL), OUT_OF_RANGE },
	{ "9.01", OK(10LL), OK(9010LL) },
	{ "8.1k", OK(8100LL), OK(8100000LL) },
	{ "7.123456M", OK(7123456LL), OK(7123456000LL) },
	{ "6.987654321G", OK(6987654321LL), OK(6987654321000LL) },
	{ "5.444T", OK(5444000000000LL), OK(5444000000000000LL) },
	{ "40.1T", OK(40100000000000LL), OK(40100000000000000LL) },
	{ "300.2T", OK(300200000000000LL), OK(300200000000000000LL) },
	{ "2.5P", OK(2500000000000000LL), OK(2500000000000000000LL) },
	{ "1.01E", OK(1010000000000000000LL), OUT_OF_RANGE },
	/* values that round up or exceed int64 */
	{ "3.001n", OK(1LL), OK(1LL) },
	{ "1.1E-9", OK(1LL), OK(1LL) },
	{ "0.0000000001", OK(1LL), OK(1LL) },
	{ "0.0000000005", OK(1LL), OK(1LL) },
	{ "0.00000000050", OK(1LL), OK(1LL) },
	{ "0.5e-9", OK(1LL), OK(1LL) },
	{ "0.9n", OK(1LL), OK(1LL) },
	{ "0.00000012345", OK(1LL), OK(1LL) },
	{ "0.00000012354", OK(1LL), OK(1LL) },
	{ "9Ei", OUT_OF_RANGE, OUT_OF_RANGE },
	{ "9223372036854775807Ki", OUT_OF_RANGE, OUT_OF_RANGE },
	{ "12E", OUT_OF_RANGE, OUT_OF_RANGE },
	/* fractional binary quantities and odd spellings */
	{ "100.035Ki", OK(102436LL), OK(102435840LL) },
	{ "0.5Mi", OK(524288LL), OK(524288000LL) },
	{ "0.05Gi", OK(53687092LL), OK(53687091200LL) },
	{ "0.025Ti", OK(27487790695LL), OK(27487790694400LL) },
	{ "0.000000000001Ki", OK(1LL), OK(1LL) },
	{ ".001", OK(1LL), OK(1LL) },
	{ ".0001k", OK(1LL), OK(100LL) },
	{ "1.", OK(1LL), OK(1000LL) },
	{ "1.G", OK(1000000000LL), OK(1000000000000LL) },
	{ ".001Ki", OK(2LL), OK(1024LL) },
	{ ".000001Ki", OK(1LL), OK(2LL) },
	{ ".000000001Ki", OK(1LL), OK(1LL) },
	{ ".000000000001Ki", OK(1LL), OK(1LL) },
	/* rounding away from zero on both sides of it */
	{ "-.484785E-7466", OK(-1LL), OK(-1LL) },
	{ ".484785E-7466", OK(1LL), OK(1LL) },
	{ "-.484785E-1", OK(-1LL), OK(-49LL) },
	{ ".484785E-1", OK(1LL), OK(49LL) },
	{ "-0.0005", OK(-1LL), OK(-1LL) },
	{ "0.0005", OK(1LL), OK(1LL) },
	{ "-1500m", OK(-2LL), OK(-1500LL) },
	{ "1500m", OK(2LL), OK(1500LL) },
	{ "-9.5000000001Gi", OK(-10200547329LL), OK(-10200547328108LL) },
	{ "9.5000000001Gi", OK(10200547329LL), OK(10200547328108LL) },
	{ "-1", OK(-1LL), OK(-1000LL) },
};

/* Exactness, rounding and range limits beyond apimachinery's table. */
static const quantity_case edge_cases[] = {
	/* Decimal fractions are exact, with no binary floating point. */
	{ "0.1", OK(1LL), OK(100LL) },
	{ "1.0001m", OK(1LL), OK(2LL) },
	{ "0.3", OK(1LL), OK(300LL) },
	{ "2.675", OK(3LL), OK(2675LL) },
	{ "1e-9", OK(1LL), OK(1LL) },
	{ "12E-3", OK(1LL), OK(12LL) },
	{ "1e+2", OK(100LL), OK(100000LL) },
	{ "1E+2", OK(100LL), OK(100000LL) },
	{ "1e-0010", OK(1LL), OK(1LL) },
	{ "1e007", OK(10000000LL), OK(10000000000LL) },
	{ "123456789012345678901234567890e-20", OK(1234567891LL),
	  OK(1234567890124LL) },
	{ "9223372036854775808e-10", OK(922337204LL), OK(922337203686LL) },
	{ "9300000000000000000000u", OK(9300000000000000LL), OUT_OF_RANGE },

	/* Binary suffixes are exact in bytes, fractions included. */
	{ "100Pi", OK(112589990684262400LL), OUT_OF_RANGE },
	{ "1.5Gi", OK(1610612736LL), OK(1610612736000LL) },
	{ "7Ei", OK(8070450532247928832LL), OUT_OF_RANGE },
	{ "7.99999999999Ei", OK(9223372036843246593LL), OUT_OF_RANGE },
	{ "8Ei", OUT_OF_RANGE, OUT_OF_RANGE },
	{ "-8Ei", OUT_OF_RANGE, OUT_OF_RANGE },

	/* The int64 limits, in units and in thousandths. */
	{ "9223372036854775807", OK(INT64_MAX), OUT_OF_RANGE },
	{ "-9223372036854775807", OK(-INT64_MAX), OUT_OF_RANGE },
	{ "92233720368547758080", OUT_OF_RANGE, OUT_OF_RANGE },
	{ "9223372036854775.807", OK(9223372036854776LL), OK(INT64_MAX) },
	{ "-9223372036854775.807", OK(-9223372036854776LL), OK(-INT64_MAX) },
	{ "9223372036854775.8071", OK(9223372036854776LL), OUT_OF_RANGE },
	{ "0.9999999999999999999e19", OUT_OF_RANGE, OUT_OF_RANGE },

	/* Value() and MilliValue() round away from zero, also below zero. */
	{ "-1.0001m", OK(-1LL), OK(-2LL) },
	{ "-0.1", OK(-1LL), OK(-100LL) },
	{ "-2.5", OK(-3LL), OK(-2500LL) },
	{ "-1n", OK(-1LL), OK(-1LL) },

	/* Exponents at the bounds Kubernetes accepts. */
	{ "1e2147483647", OUT_OF_RANGE, OUT_OF_RANGE },
	{ "1e-2147483647", OK(1LL), OK(1LL) },
	{ "-1e-2147483647", OK(-1LL), OK(-1LL) },
	{ "0e2147483647", OK(0LL), OK(0LL) },
	{ "0e-10", OK(0LL), OK(0LL) },
	{ "-0", OK(0LL), OK(0LL) },
	{ "0000", OK(0LL), OK(0LL) },
	{ "0Pi", OK(0LL), OK(0LL) },
	{ "0Ei", OK(0LL), OK(0LL) },
};

/* Strings without a digit that ParseQuantity() accepts as zero, because its
 * int64 path reads the missing number as "0". */
static const char *const digitless_zeros[] = {
	"+", "-", ".", "+.", "-.", "Ki", "Mi", "Gi", "Ti", "-Ti", ".Gi",
	"m", "n", "k", "E", "e5", "e-9",
};

/* Strings that ParseQuantity() rejects. */
static const char *const malformed[] = {
	/* from apimachinery's quantity tests */
	"1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i",
	"-3.01e-", "1e4294967297", " 1", "1 ", "Non-Numeric",

	/* whitespace, separators and repeated parts */
	"", " ", "\t1", "1\n", "1 Gi", "1,000", "1_000", "1.2.3", "1..", "..",
	"--1", "+-1", "1-", "1+", "1e3.5", "1e3e3", "1ee3", "1e++3", "1e",
	"1e+", "1e-", "1E3Ki",

	/* suffixes that are not Kubernetes suffixes, in any case */
	"1gi", "1ki", "1mi", "1KI", "1KiB", "1Kib", "1B", "1kB", "1Kb", "1g",
	"1K", "1I", "1mm", "1kM", "1Ki3", "1m5", "i", "ki",

	/* other number syntaxes */
	"0x10", "0b1", "1/2", "inf", "NaN", "\xef\xbc\x91",

	/* no digits, taking ParseQuantity()'s inf.Dec path */
	"Pi", "Ei", ".Pi", "e-10", ".e-10", "+e-10",

	/* exponents outside +-2147483647 */
	"1e2147483648", "1e-2147483648", "0e99999999999999999999",

	/* 19 digits above INT64_MAX on ParseQuantity()'s int64 path */
	"9223372036854775808", "-9223372036854775808", "9300000000000000000m",
	"9999999999999999999e-1",
};

static void expect_result(const char *function, const char *text, int ret,
			  int64_t got, const score_error *err,
			  const expected *want)
{
	cr_expect_eq(ret, want->ret,
		     "%s(\"%s\"): expected return %d, got %d (%s)", function,
		     text, want->ret, ret, err->message);
	if (ret == 0 && want->ret == 0)
		cr_expect_eq(got, want->result,
			     "%s(\"%s\"): expected %" PRId64 ", got %" PRId64,
			     function, text, want->result, got);
	if (ret != 0)
		cr_expect_eq(got, SENTINEL,
			     "%s(\"%s\") failed but changed the output to %" PRId64,
			     function, text, got);
}

static void check_case(const char *text, const expected *value,
		       const expected *milli)
{
	score_error err = { 0 };
	int64_t got = SENTINEL;
	int ret;

	ret = score_quantity_parse_value(text, &got, &err);
	expect_result("score_quantity_parse_value", text, ret, got, &err, value);

	memset(&err, 0, sizeof(err));
	got = SENTINEL;
	ret = score_quantity_parse_milli(text, &got, &err);
	expect_result("score_quantity_parse_milli", text, ret, got, &err, milli);
}

static expected negated(const expected *e)
{
	expected result = *e;

	result.result = -e->result;
	return result;
}

Test(quantity, apimachinery_table)
{
	for (size_t i = 0; i < G_N_ELEMENTS(apimachinery_cases); i++) {
		const quantity_case *c = &apimachinery_cases[i];

		check_case(c->text, &c->value, &c->milli);
	}
}

Test(quantity, apimachinery_table_with_sign)
{
	for (size_t i = 0; i < G_N_ELEMENTS(apimachinery_cases); i++) {
		const quantity_case *c = &apimachinery_cases[i];
		char *plus;
		char *minus;
		expected value;
		expected milli;

		if (c->text[0] == '-')
			continue;
		plus = g_strconcat("+", c->text, NULL);
		minus = g_strconcat("-", c->text, NULL);
		value = negated(&c->value);
		milli = negated(&c->milli);

		check_case(plus, &c->value, &c->milli);
		check_case(minus, &value, &milli);
		g_free(plus);
		g_free(minus);
	}
}

Test(quantity, edge_cases)
{
	for (size_t i = 0; i < G_N_ELEMENTS(edge_cases); i++) {
		const quantity_case *c = &edge_cases[i];

		check_case(c->text, &c->value, &c->milli);
	}
}

Test(quantity, digitless_numbers_are_zero)
{
	const expected zero = OK(0LL);

	for (size_t i = 0; i < G_N_ELEMENTS(digitless_zeros); i++)
		check_case(digitless_zeros[i], &zero, &zero);
}

Test(quantity, malformed_rejected)
{
	for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
		const char *text = malformed[i];
		score_error err = { 0 };
		int64_t value = SENTINEL;
		int64_t milli = SENTINEL;
		int value_ret = score_quantity_parse_value(text, &value, &err);
		int milli_ret = score_quantity_parse_milli(text, &milli, NULL);

		cr_expect_eq(value_ret, -EINVAL,
			     "value of \"%s\": expected -EINVAL, got %d (%" PRId64 ")",
			     text, value_ret, value);
		cr_expect_eq(milli_ret, -EINVAL,
			     "milli of \"%s\": expected -EINVAL, got %d (%" PRId64 ")",
			     text, milli_ret, milli);
		cr_expect_eq(err.code, -EINVAL,
			     "error code for \"%s\": expected -EINVAL, got %d", text,
			     err.code);
		cr_expect(g_str_has_prefix(err.message, "invalid quantity \""),
			  "message for \"%s\" should start with 'invalid quantity \"', got: %s",
			  text, err.message);
		cr_expect_eq(value, SENTINEL,
			     "value of \"%s\" changed to %" PRId64 " on failure", text,
			     value);
		cr_expect_eq(milli, SENTINEL,
			     "milli of \"%s\" changed to %" PRId64 " on failure", text,
			     milli);
	}
}

static void expect_message(const char *text, bool milli, int code,
			   const char *message)
{
	score_error err = { 0 };
	int64_t out = SENTINEL;
	int ret = milli ? score_quantity_parse_milli(text, &out, &err)
			: score_quantity_parse_value(text, &out, &err);

	cr_expect_eq(ret, code, "\"%s\": expected return %d, got %d", text, code,
		     ret);
	cr_expect_eq(err.code, code, "\"%s\": expected error code %d, got %d",
		     text, code, err.code);
	cr_expect_str_eq(err.message, message,
			 "\"%s\": expected message\n  %s\ngot\n  %s", text,
			 message, err.message);
}

Test(quantity, error_messages)
{
	expect_message("1.2.3", false, -EINVAL,
		       "invalid quantity \"1.2.3\": expected a number with an "
		       "optional suffix such as 500m, 2Gi or 1e3");
	expect_message("", true, -EINVAL,
		       "invalid quantity \"\": expected a number with an "
		       "optional suffix such as 500m, 2Gi or 1e3");
	expect_message("1gi", false, -EINVAL,
		       "invalid quantity \"1gi\": unknown suffix \"gi\", "
		       "expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, "
		       "Ti, Pi, Ei or an exponent such as e3");
	expect_message("1e2147483648", false, -EINVAL,
		       "invalid quantity \"1e2147483648\": the exponent must be "
		       "between -2147483647 and 2147483647");
	expect_message("9300000000000000000m", true, -EINVAL,
		       "invalid quantity \"9300000000000000000m\": Kubernetes "
		       "rejects a mantissa of 19 digits above "
		       "9223372036854775807, so write the value with fewer "
		       "digits, for example 9.3e15 instead of "
		       "9300000000000000000m");
	expect_message("12E", false, -ERANGE,
		       "quantity \"12E\" is out of range: the largest value "
		       "accepted is 9223372036854775807");
	expect_message("1E", true, -ERANGE,
		       "quantity \"1E\" is out of range: the largest value "
		       "accepted is 9223372036854775.807");
	expect_message("-1e30", true, -ERANGE,
		       "quantity \"-1e30\" is out of range: the smallest value "
		       "accepted is -9223372036854775.807");
}

Test(quantity, message_escapes_and_cuts_input)
{
	char long_text[200];
	score_error err = { 0 };
	int64_t out = SENTINEL;

	expect_message("1\n\"", false, -EINVAL,
		       "invalid quantity \"1\\n\\\"\": expected a number with an "
		       "optional suffix such as 500m, 2Gi or 1e3");

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	score_quantity_parse_value(long_text, &out, &err);
	cr_expect(strstr(err.message, "xxx...\"") != NULL,
		  "expected the quoted input cut with \"...\", got: %s",
		  err.message);
	cr_expect(strlen(err.message) < 200,
		  "expected a message shorter than the input, got %zu bytes",
		  strlen(err.message));
}

Test(quantity, null_text_rejected)
{
	score_error err = { 0 };
	int64_t out = SENTINEL;
	int ret = score_quantity_parse_value(NULL, &out, &err);

	cr_expect_eq(ret, -EINVAL, "expected -EINVAL for NULL, got %d", ret);
	cr_expect_eq(out, SENTINEL, "NULL text changed the output to %" PRId64,
		     out);
	cr_expect(err.message[0] != '\0', "expected a message for NULL text");
}

Test(quantity, null_error_accepted)
{
	int64_t out = SENTINEL;
	int ret = score_quantity_parse_milli("250m", &out, NULL);

	cr_expect_eq(ret, 0, "expected 0 for \"250m\", got %d", ret);
	cr_expect_eq(out, 250, "expected 250 for \"250m\", got %" PRId64, out);

	ret = score_quantity_parse_milli("9Ei", &out, NULL);
	cr_expect_eq(ret, -ERANGE, "expected -ERANGE for \"9Ei\", got %d", ret);
}

Test(quantity, long_inputs)
{
	/* 0.000...001 with 10000 zeros rounds up to 1 and to 1m. */
	GString *tiny = g_string_new("0.");
	GString *shifted = g_string_new("1");
	GString *huge = g_string_new("1");
	GString *binary = g_string_new("0.");
	expected one = OK(1LL);
	expected thousand = OK(1000LL);
	expected out_of_range = OUT_OF_RANGE;
	expected one_exbibyte = OK(INT64_C(1152921504606846976));

	for (int i = 0; i < 10000; i++)
		g_string_append_c(tiny, '0');
	g_string_append_c(tiny, '1');
	check_case(tiny->str, &one, &one);

	for (int i = 0; i < 5000; i++) {
		g_string_append_c(shifted, '0');
		g_string_append_c(huge, '0');
	}
	g_string_append(shifted, "e-5000");
	check_case(shifted->str, &one, &thousand);
	check_case(huge->str, &out_of_range, &out_of_range);

	/* 0.999...9Ei with 3000 nines is just under 2^60 bytes and rounds up
	 * to it. */
	for (int i = 0; i < 3000; i++)
		g_string_append_c(binary, '9');
	g_string_append(binary, "Ei");
	check_case(binary->str, &one_exbibyte, &out_of_range);

	g_string_free(tiny, TRUE);
	g_string_free(shifted, TRUE);
	g_string_free(huge, TRUE);
	g_string_free(binary, TRUE);
}
