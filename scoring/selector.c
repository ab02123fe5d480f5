/* Label selectors; see selector.h. */
#include "scoring/selector.h"

#include <string.h>

void score_selector_init(score_selector *selector)
{
	memset(selector, 0, sizeof(*selector));
}

void score_selector_release(score_selector *selector)
{
	for (uint32_t i = 0; i < selector->n_requirements; i++) {
		score_selector_requirement *requirement =
			&selector->requirements[i];

		score_unintern(requirement->key);
		for (uint32_t v = 0; v < requirement->n_values; v++)
			score_unintern(requirement->values[v]);
		g_free(requirement->values);
	}
	g_free(selector->requirements);
	memset(selector, 0, sizeof(*selector));
}

void score_selector_add(score_selector *selector, const char *key,
			score_selector_op op, const char *const *values,
			size_t n_values)
{
	score_selector_requirement *requirement;

	selector->requirements = g_renew(score_selector_requirement,
					 selector->requirements,
					 selector->n_requirements + 1);
	requirement = &selector->requirements[selector->n_requirements++];
	requirement->key = score_intern(key);
	requirement->op = op;
	requirement->n_values = (uint32_t)n_values;
	requirement->values = n_values > 0 ? g_new(const char *, n_values) : NULL;
	for (size_t i = 0; i < n_values; i++)
		requirement->values[i] = score_intern(values[i]);
}

static bool value_listed(const score_selector_requirement *requirement,
			 const char *value)
{
	for (uint32_t i = 0; i < requirement->n_values; i++) {
		if (requirement->values[i] == value)
			return true;
	}
	return false;
}

static bool requirement_holds(const score_selector_requirement *requirement,
			      const score_labels *labels)
{
	const char *value = score_labels_get(labels, requirement->key);

	switch (requirement->op) {
	case SCORE_SELECTOR_IN:
		return value != NULL && value_listed(requirement, value);
	case SCORE_SELECTOR_NOT_IN:
		return value == NULL || !value_listed(requirement, value);
	case SCORE_SELECTOR_EXISTS:
		return value != NULL;
	case SCORE_SELECTOR_DOES_NOT_EXIST:
		return value == NULL;
	}
	return false;
}

bool score_selector_matches(const score_selector *selector,
			    const score_labels *labels)
{
	for (uint32_t i = 0; i < selector->n_requirements; i++) {
		if (!requirement_holds(&selector->requirements[i], labels))
			return false;
	}
	return true;
}

static void format_values(const score_selector_requirement *requirement,
			  GString *out)
{
	g_string_append(out, " (");
	for (uint32_t v = 0; v < requirement->n_values; v++) {
		if (v > 0)
			g_string_append_c(out, ',');
		g_string_append(out, requirement->values[v]);
	}
	g_string_append_c(out, ')');
}

void score_selector_format(const score_selector *selector, GString *out)
{
	if (selector->n_requirements == 0) {
		g_string_append(out, "(everything)");
		return;
	}
	for (uint32_t i = 0; i < selector->n_requirements; i++) {
		const score_selector_requirement *requirement =
			&selector->requirements[i];

		if (i > 0)
			g_string_append_c(out, ',');
		switch (requirement->op) {
		case SCORE_SELECTOR_IN:
			if (requirement->n_values == 1) {
				g_string_append_printf(out, "%s=%s",
						       requirement->key,
						       requirement->values[0]);
				break;
			}
			g_string_append_printf(out, "%s in", requirement->key);
			format_values(requirement, out);
			break;
		case SCORE_SELECTOR_NOT_IN:
			g_string_append_printf(out, "%s notin", requirement->key);
			format_values(requirement, out);
			break;
		case SCORE_SELECTOR_EXISTS:
			g_string_append(out, requirement->key);
			break;
		case SCORE_SELECTOR_DOES_NOT_EXIST:
			g_string_append_printf(out, "!%s", requirement->key);
			break;
		}
	}
}
