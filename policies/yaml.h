/* A YAML document as a tree that keeps each node's line and column, built
 * with libyaml's event API for the policy parser.
 *
 * Plain scalars get a type by the YAML 1.2 core schema: null, bool, int,
 * float, else string. Quoted and block scalars are strings, as are plain
 * scalars tagged !!str. The tree rejects what a policy never needs and
 * what would make positions ambiguous: aliases, non-scalar mapping keys,
 * duplicate keys, more than one document, nesting deeper than
 * POL_YAML_MAX_DEPTH.
 */
#ifndef STOWAGE_POL_YAML_H
#define STOWAGE_POL_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "scoring/error.h"

#define POL_YAML_MAX_DEPTH 64

typedef enum pol_yaml_kind {
	POL_YAML_SCALAR = 0,
	POL_YAML_MAPPING,
	POL_YAML_SEQUENCE,
} pol_yaml_kind;

typedef enum pol_scalar_type {
	POL_SCALAR_STRING = 0,
	POL_SCALAR_NULL,
	POL_SCALAR_BOOL,
	POL_SCALAR_INT,
	POL_SCALAR_FLOAT,
} pol_scalar_type;

/* A position in the input, both counted from 1. */
typedef struct pol_position {
	size_t line;
	size_t column;
} pol_position;

typedef struct pol_yaml_node pol_yaml_node;

typedef struct pol_yaml_pair {
	pol_yaml_node *key; /* always a scalar */
	pol_yaml_node *value;
} pol_yaml_pair;

struct pol_yaml_node {
	pol_yaml_kind kind;
	pol_position position;
	size_t offset; /* byte offset of the node's first character */

	/* Scalars. `int_value` is valid for POL_SCALAR_INT unless
	 * `int_overflow` is set; `bool_value` for POL_SCALAR_BOOL. */
	char *text; /* owned, NUL-terminated */
	pol_scalar_type type;
	bool literal; /* a literal block scalar (|) */
	bool bool_value;
	int64_t int_value;
	bool int_overflow;

	/* Mappings hold pol_yaml_pair, sequences pol_yaml_node, both owned. */
	GPtrArray *items;
	/* Key text -> pair, built once a mapping is long, so duplicate checks
	 * and lookups stay linear in the file size. Borrowed entries. */
	GHashTable *key_index;
};

/* Parses `text` into a tree. An input without a document, or whose only
 * document is empty, gives `*out` = NULL and success. On failure returns
 * -EINVAL (or -ENOMEM) with `where` at the problem (0:0 when the input has
 * no position, such as an encoding error without a line) and `err` saying
 * what is wrong. The caller frees `*out` with pol_yaml_free(). */
int pol_yaml_parse(const char *text, size_t length, pol_yaml_node **out,
		   pol_position *where, score_error *err);

void pol_yaml_free(pol_yaml_node *node);

/* Returns the value of `key` in a mapping, or NULL. Borrowed. */
const pol_yaml_node *pol_yaml_get(const pol_yaml_node *mapping,
				  const char *key);

/* Returns the pair whose key is `key`, or NULL. Borrowed. */
const pol_yaml_pair *pol_yaml_get_pair(const pol_yaml_node *mapping,
				       const char *key);

/* Returns "a mapping", "a sequence", "a string", "an integer", ... for
 * messages. */
const char *pol_yaml_describe(const pol_yaml_node *node);

#endif
