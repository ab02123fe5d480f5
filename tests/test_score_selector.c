/* Tests for scoring/selector.c: Kubernetes label selector semantics and the
 * kubectl-style text. */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring/selector.h"

static score_labels labels;
static score_selector selector;

static void setup(void)
{
	memset(&labels, 0, sizeof(labels));
	score_selector_init(&selector);
	score_labels_set(&labels, "app", "web");
	score_labels_set(&labels, "tier", "frontend");
}

static void teardown(void)
{
	score_labels_release(&labels);
	score_selector_release(&selector);
}

TestSuite(selector, .init = setup, .fini = teardown);

static void add(const char *key, score_selector_op op, const char *value1,
		const char *value2)
{
	const char *values[2] = {value1, value2};
	size_t n = value2 != NULL ? 2 : (value1 != NULL ? 1 : 0);

	score_selector_add(&selector, key, op, values, n);
}

static void expect_match(bool expected, const char *description)
{
	bool got = score_selector_matches(&selector, &labels);

	cr_assert_eq(got, expected, "%s: expected %s, got %s", description,
		     expected ? "match" : "no match", got ? "match" : "no match");
}

Test(selector, empty_matches_everything)
{
	score_labels none = {0};

	expect_match(true, "labels");
	cr_assert(score_selector_matches(&selector, &none),
		  "an empty selector matches an empty label set");
}

Test(selector, in_and_not_in)
{
	add("app", SCORE_SELECTOR_IN, "api", "web");
	expect_match(true, "app in (api,web)");
	add("tier", SCORE_SELECTOR_NOT_IN, "backend", NULL);
	expect_match(true, "and tier notin (backend)");
	add("tier", SCORE_SELECTOR_NOT_IN, "frontend", NULL);
	expect_match(false, "and tier notin (frontend)");
}

Test(selector, not_in_matches_missing_key)
{
	add("zone", SCORE_SELECTOR_NOT_IN, "a", NULL);
	expect_match(true, "zone notin (a) without a zone label");
}

Test(selector, in_needs_the_key)
{
	add("zone", SCORE_SELECTOR_IN, "a", NULL);
	expect_match(false, "zone in (a) without a zone label");
}

Test(selector, exists_and_does_not_exist)
{
	add("app", SCORE_SELECTOR_EXISTS, NULL, NULL);
	expect_match(true, "app exists");
	add("legacy", SCORE_SELECTOR_DOES_NOT_EXIST, NULL, NULL);
	expect_match(true, "and legacy does not exist");
	add("tier", SCORE_SELECTOR_DOES_NOT_EXIST, NULL, NULL);
	expect_match(false, "and tier does not exist");
}

Test(selector, empty_value_is_a_value)
{
	score_labels_set(&labels, "canary", "");
	add("canary", SCORE_SELECTOR_IN, "", NULL);
	expect_match(true, "canary in ('') with canary=''");
}

Test(selector, format_like_kubectl)
{
	GString *text = g_string_new(NULL);

	score_selector_format(&selector, text);
	cr_assert_str_eq(text->str, "(everything)");
	g_string_truncate(text, 0);

	add("app", SCORE_SELECTOR_IN, "web", NULL);
	add("tier", SCORE_SELECTOR_IN, "a", "b");
	add("zone", SCORE_SELECTOR_NOT_IN, "x", NULL);
	add("gpu", SCORE_SELECTOR_EXISTS, NULL, NULL);
	add("legacy", SCORE_SELECTOR_DOES_NOT_EXIST, NULL, NULL);
	score_selector_format(&selector, text);
	cr_assert_str_eq(text->str,
			 "app=web,tier in (a,b),zone notin (x),gpu,!legacy");
	g_string_free(text, TRUE);
}
