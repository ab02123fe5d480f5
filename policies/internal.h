/* Shared by the policy parser's files (policy.c, reader.c, isolation.c,
 * topology.c); not for other modules.
 *
 * The reader walks a YAML tree field by field. When a value is unusable,
 * a read function records an error at the node with its field path and
 * returns false, so the caller skips the value and goes on. The parse
 * fails at the end when any error was recorded.
 */
#ifndef STOWAGE_POL_INTERNAL_H
#define STOWAGE_POL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "policies/policy.h"
#include "policies/yaml.h"

/* Field paths longer than this are cut in messages. */
#define POL_PATH_MAX 256
/* A parse stops recording errors after this many. */
#define POL_MAX_ERRORS 50

/* How positions in the parsed text map to the file. */
typedef enum pol_embedding {
	POL_EMBED_NONE = 0, /* the text is the file */
	/* The text is a ConfigMap value written as a literal block (|):
	 * line L of the text is line base_line + L of the file, and columns
	 * shift by `indent`. */
	POL_EMBED_LITERAL,
	/* The text is a quoted or folded ConfigMap value. Positions inside
	 * it cannot be mapped, so errors point at the value and add their
	 * line and column in the text. */
	POL_EMBED_OPAQUE,
} pol_embedding;

/* A formatted message and its place in the file, for sorting. */
typedef struct pol_message {
	pol_position position;
	char *text;
} pol_message;

typedef struct pol_reader {
	const char *file;
	GPtrArray *errors;   /* pol_message, owned */
	GPtrArray *warnings; /* pol_message, owned */
	size_t n_errors;     /* including those past POL_MAX_ERRORS */
	pol_embedding embedding;
	size_t base_line;
	size_t indent;
	pol_position value_position; /* POL_EMBED_OPAQUE: the value's place */
	score_resource_table *resources; /* borrowed */
} pol_reader;

/* ---- Messages ------------------------------------------------------------ */

/* Records "FILE:LINE:COLUMN: PATH: message" at `at` (the start of the file
 * when NULL). `path` may be empty. */
void pol_error(pol_reader *reader, const pol_yaml_node *at, const char *path,
	       const char *format, ...) G_GNUC_PRINTF(4, 5);
void pol_error_at(pol_reader *reader, pol_position position,
		  const char *path, const char *format, ...)
	G_GNUC_PRINTF(4, 5);
void pol_warning(pol_reader *reader, const pol_yaml_node *at,
		 const char *path, const char *format, ...)
	G_GNUC_PRINTF(4, 5);

void pol_message_free(gpointer message);

/* Moves the texts of `messages` (pol_message) to `texts` (char *) in file
 * order, emptying `messages`. */
void pol_messages_move_sorted(GPtrArray *messages, GPtrArray *texts);

/* Writes "parent.key" or "parent[index]" into `buf` (POL_PATH_MAX). */
void pol_path_key(char *buf, const char *parent, const char *key);
void pol_path_index(char *buf, const char *parent, guint index);

/* ---- Typed reads ----------------------------------------------------------- */

/* Returns the value of `key`, or NULL when it is absent or null: YAML null
 * means "not set", as in Kubernetes objects. */
const pol_yaml_node *pol_field(const pol_yaml_node *mapping, const char *key);

bool pol_expect_mapping(pol_reader *reader, const pol_yaml_node *node,
			const char *path);
bool pol_expect_sequence(pol_reader *reader, const pol_yaml_node *node,
			 const char *path);

/* Records an error for each key of `mapping` not in `allowed` (NULL
 * ended); returns false when there was one. */
bool pol_check_fields(pol_reader *reader, const pol_yaml_node *mapping,
		      const char *path, const char *const *allowed);

/* Records "missing field" at `mapping` unless `key` is set. `hint`
 * describes what the field contains. */
const pol_yaml_node *pol_require(pol_reader *reader,
				 const pol_yaml_node *mapping,
				 const char *path, const char *key,
				 const char *hint);

/* A string: quoted, or plain and not null, a boolean or a number. */
bool pol_read_string(pol_reader *reader, const pol_yaml_node *node,
		     const char *path, const char **out);
bool pol_read_int(pol_reader *reader, const pol_yaml_node *node,
		  const char *path, int64_t min, int64_t max, int64_t *out);
bool pol_read_bool(pol_reader *reader, const pol_yaml_node *node,
		   const char *path, bool *out);
/* One of the NULL-ended `names`; stores its index. */
bool pol_read_enum(pol_reader *reader, const pol_yaml_node *node,
		   const char *path, const char *const *names, int *out);

/* ---- Kubernetes names and selectors ---------------------------------------- */

/* Check Kubernetes' syntax and write the reason into `why` when invalid. */
bool pol_label_key_valid(const char *key, char *why, size_t size);
bool pol_label_value_valid(const char *value, char *why, size_t size);
bool pol_dns_label_valid(const char *name, char *why, size_t size);
bool pol_dns_subdomain_valid(const char *name, char *why, size_t size);

bool pol_read_label_key(pol_reader *reader, const pol_yaml_node *node,
			const char *path, const char **out);
bool pol_read_label_value(pol_reader *reader, const pol_yaml_node *node,
			  const char *path, const char **out);

/* Reads a metav1.LabelSelector (matchLabels, matchExpressions) into
 * `selector`, which the caller initialized. */
bool pol_read_selector(pol_reader *reader, const pol_yaml_node *node,
		       const char *path, score_selector *selector);

/* ---- Sections ------------------------------------------------------------ */

/* Fill `isolation` from spec.tenants, spec.sandbox, spec.securityGroups and
 * spec.separation of `spec`, and append each group's exposure entries to
 * `exposures` (a GArray of pol_exposure). */
void pol_read_isolation(pol_reader *reader, const pol_yaml_node *spec,
			score_isolation_config *isolation, GArray *exposures);

/* Fill `topology` and `locality` from spec.topology and spec.locality;
 * `isolation` supplies the security group names. */
void pol_read_topology(pol_reader *reader, const pol_yaml_node *spec,
		       pol_topology *topology);
void pol_read_locality(pol_reader *reader, const pol_yaml_node *spec,
		       const pol_topology *topology,
		       const score_isolation_config *isolation,
		       pol_locality *locality);

void pol_topology_release(pol_topology *topology);
void pol_locality_release(pol_locality *locality);

/* Returns the index of the group named `name`, or -1. */
int pol_find_group(const score_isolation_config *isolation, const char *name);

/* Fills `config` (initialized by the caller) from the parsed topology,
 * locality and exposures; `isolation` is borrowed by `config`. Leaves it
 * without sources when the policy has no spec.locality (topology.c). */
void pol_build_locality(const pol_topology *topology,
			const pol_locality *locality,
			const pol_exposure *exposures, size_t n_exposures,
			const score_isolation_config *isolation,
			score_locality_config *config);

/* The largest spec.spread.maxSkew accepted. */
#define POL_MAX_SPREAD_SKEW 1000

/* Fill `bandwidth` from spec.bandwidth and set `*present` when the
 * section is given (placement.c). */
void pol_read_bandwidth(pol_reader *reader, const pol_yaml_node *spec,
			score_bandwidth_config *bandwidth, bool *present);

/* Fill `spread` from spec.spread and set `*present` when the section is
 * given; `topology` supplies the levels it may name (placement.c). */
void pol_read_spread(pol_reader *reader, const pol_yaml_node *spec,
		     const pol_topology *topology, score_spread_config *spread,
		     bool *present);

#endif
