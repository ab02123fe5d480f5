/* `stowage check`; see check.h. */
#include "policies/check.h"

#include <errno.h>
#include <string.h>

#include "policies/policy.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2

static const char check_usage[] =
	"Usage: stowage check FILE...\n"
	"\n"
	"Validates scheduling policy files: a SchedulingPolicy (apiVersion\n"
	"stowage.io/v1alpha1), or a ConfigMap holding one under\n"
	"data.\"policy.yaml\". Prints one summary line per valid file, and each\n"
	"error as FILE:LINE:COLUMN: FIELD: message.\n"
	"\n"
	"Exit status: 0 when every file is valid, 1 when one is not, 2 for a\n"
	"usage error.\n";

static void print_all(FILE *stream, const GPtrArray *lines)
{
	for (guint i = 0; i < lines->len; i++)
		fprintf(stream, "%s\n", (const char *)g_ptr_array_index(lines, i));
}

static int check_one(const char *path, FILE *out, FILE *errors)
{
	score_resource_table *resources = score_resource_table_new();
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	score_error err = {0};
	GString *summary;
	int rc;

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_load(path, resources, &policy, &diagnostics, &err);
	print_all(errors, diagnostics.warnings);
	if (rc < 0 && rc != -EINVAL && rc != -ENOMEM) {
		/* The file could not be read, so there is no position to show,
		 * and the message gets the command's prefix like a usage error. */
		fprintf(errors, "stowage check: %s\n", err.message);
		goto out;
	}
	if (rc < 0) {
		print_all(errors, diagnostics.errors);
		/* Every failure adds to the list; this covers one that did not. */
		if (diagnostics.errors->len == 0)
			fprintf(errors, "%s\n", err.message);
		goto out;
	}

	summary = g_string_new(NULL);
	pol_policy_summary(policy, summary);
	fprintf(out, "%s: %s\n", path, summary->str);
	g_string_free(summary, TRUE);
out:
	pol_policy_unref(policy);
	pol_diagnostics_release(&diagnostics);
	score_resource_table_free(resources);
	return rc;
}

int pol_check_files(const char *const *paths, size_t n, FILE *out,
		    FILE *errors)
{
	int status = 0;

	for (size_t i = 0; i < n; i++) {
		if (check_one(paths[i], out, errors) < 0)
			status = EXIT_INVALID;
	}
	fflush(out);
	fflush(errors);
	return status;
}

int pol_check_main(int argc, char **argv)
{
	int first = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
			 strcmp(argv[1], "-h") == 0)) {
		fputs(check_usage, stdout);
		return 0;
	}
	/* "--" ends the options, for a file whose name starts with '-'. */
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	else if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') {
		fprintf(stderr,
			"stowage check: unknown option \"%s\"; run `stowage check --help`\n",
			argv[1]);
		return EXIT_USAGE;
	}
	if (argc <= first) {
		fputs("stowage check: no policy file given\n\n", stderr);
		fputs(check_usage, stderr);
		return EXIT_USAGE;
	}
	return pol_check_files((const char *const *)(argv + first),
			       (size_t)(argc - first), stdout, stderr);
}
