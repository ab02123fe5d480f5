/* Kubernetes label selectors (metav1.LabelSelector) matched against the
 * model's label sets, as k8s.io/apimachinery labels.Selector matches them:
 * every requirement must hold (matchLabels and matchExpressions are ANDed),
 * and a selector without requirements matches every label set.
 *
 * Keys and values are interned (see model.h), so matching compares
 * pointers. The caller that builds a selector checks the syntax of keys
 * and values; policies/ does so with file positions.
 */
#ifndef STOWAGE_SCORE_SELECTOR_H
#define STOWAGE_SCORE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/model.h"

typedef enum score_selector_op {
	SCORE_SELECTOR_IN = 0,
	SCORE_SELECTOR_NOT_IN,
	SCORE_SELECTOR_EXISTS,
	SCORE_SELECTOR_DOES_NOT_EXIST,
} score_selector_op;

typedef struct score_selector_requirement {
	const char *key; /* interned */
	score_selector_op op;
	const char **values; /* interned, owned array; empty for (Does)Exist */
	uint32_t n_values;
} score_selector_requirement;

/* Embedded: initialize with score_selector_init() or zero it, release with
 * score_selector_release(). */
typedef struct score_selector {
	score_selector_requirement *requirements; /* owned */
	uint32_t n_requirements;
} score_selector;

void score_selector_init(score_selector *selector);
void score_selector_release(score_selector *selector);

/* Appends a requirement, interning `key` and `values`. A matchLabels entry
 * key: value is the requirement `key` In (value). */
void score_selector_add(score_selector *selector, const char *key,
			score_selector_op op, const char *const *values,
			size_t n_values);

/* Returns true when `labels` meets every requirement. NotIn and
 * DoesNotExist hold for a label set without the key, as in Kubernetes. */
bool score_selector_matches(const score_selector *selector,
			    const score_labels *labels);

/* Appends the selector in kubectl's syntax, such as
 * "app=web,tier in (a,b),!legacy", or "(everything)" when it has no
 * requirements. */
void score_selector_format(const score_selector *selector, GString *out);

#endif
