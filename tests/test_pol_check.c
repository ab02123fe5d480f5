/* Tests for policies/check.c (`stowage check`) and for the example
 * policies under manifests/policies/, each a ConfigMap whose data key must
 * hold a valid policy. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "informer/cluster_file.h"
#include "policies/check.h"
#include "policies/policy.h"

/* manifests/ sits two levels above tests/fixtures. */
static char *manifests_dir(void)
{
	const char *fixtures = g_getenv("STOWAGE_FIXTURES");

	if (fixtures == NULL || fixtures[0] == '\0')
		return g_strdup("manifests/policies");
	return g_build_filename(fixtures, "..", "..", "manifests", "policies",
				NULL);
}

static char *temp_dir;

static void setup(void)
{
	temp_dir = g_dir_make_tmp("stowage-check-XXXXXX", NULL);
	cr_assert_not_null(temp_dir);
}

static void teardown(void)
{
	GDir *dir = g_dir_open(temp_dir, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		char *path = g_build_filename(temp_dir, name, NULL);

		unlink(path);
		g_free(path);
	}
	if (dir != NULL)
		g_dir_close(dir);
	rmdir(temp_dir);
	g_free(temp_dir);
}

static char *write_temp(const char *name, const char *text)
{
	char *path = g_build_filename(temp_dir, name, NULL);

	cr_assert(g_file_set_contents(path, text, -1, NULL), "cannot write %s",
		  path);
	return path;
}

/* Runs pol_check_files() and captures both streams. */
static int run_check(const char *const *paths, size_t n, char **out,
		     char **errors)
{
	size_t out_size = 0;
	size_t errors_size = 0;
	FILE *out_stream = open_memstream(out, &out_size);
	FILE *errors_stream = open_memstream(errors, &errors_size);
	int status;

	cr_assert_not_null(out_stream);
	cr_assert_not_null(errors_stream);
	status = pol_check_files(paths, n, out_stream, errors_stream);
	fclose(out_stream);
	fclose(errors_stream);
	return status;
}

TestSuite(check, .init = setup, .fini = teardown, .timeout = 60);

Test(check, valid_and_invalid_files)
{
	char *good = write_temp("good.yaml",
				"apiVersion: stowage.io/v1alpha1\n"
				"kind: SchedulingPolicy\n"
				"metadata: {name: good}\n"
				"spec: {}\n");
	char *bad = write_temp("bad.yaml",
			       "apiVersion: stowage.io/v1alpha1\n"
			       "kind: SchedulingPolicy\n"
			       "metadata: {name: bad}\n"
			       "spec:\n"
			       "  separation: [{groups: [a, b], mode: hard}]\n"
			       "  weights: {spread: 200}\n");
	const char *paths[] = {good, bad};
	char *expected_out;
	char *expected_errors;
	char *out = NULL;
	char *errors = NULL;
	int status;

	status = run_check(paths, 2, &out, &errors);
	cr_assert_eq(status, 1, "one invalid file gives status 1, got %d", status);

	expected_out = g_strdup_printf(
		"%s: policy \"good\" is valid: no tenant rules; 0 security groups, 0 separation rules (0 hard); weights contention 1, isolation 1, locality 1, spread 1, bandwidth 1\n",
		good);
	cr_assert_str_eq(out, expected_out);
	expected_errors = g_strdup_printf(
		"%s:5:26: spec.separation[0].groups[0]: unknown security group \"a\": declare it in spec.securityGroups or fix the name\n"
		"%s:5:29: spec.separation[0].groups[1]: unknown security group \"b\": declare it in spec.securityGroups or fix the name\n"
		"%s:6:21: spec.weights.spread: invalid value 200: expected an integer from 0 to 100\n",
		bad, bad, bad);
	cr_assert_str_eq(errors, expected_errors);
	free(out);
	free(errors);

	status = run_check(paths, 1, &out, &errors);
	cr_assert_eq(status, 0, "a valid file alone gives status 0, got %d", status);

	g_free(expected_out);
	g_free(expected_errors);
	free(out);
	free(errors);
	g_free(good);
	g_free(bad);
}

Test(check, unreadable_file)
{
	const char *paths[] = {"/nonexistent/policy.yaml"};
	char *out = NULL;
	char *errors = NULL;

	cr_assert_eq(run_check(paths, 1, &out, &errors), 1);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(errors,
			 "stowage check: cannot read policy file /nonexistent/policy.yaml: No such file or directory\n");
	free(out);
	free(errors);
}

Test(check, warnings_do_not_fail)
{
	char *path = write_temp("warn.yaml",
				"apiVersion: stowage.io/v1alpha1\n"
				"kind: SchedulingPolicy\n"
				"metadata: {name: warn}\n"
				"spec:\n"
				"  tenants:\n"
				"    names: [a, b]\n"
				"    trust: [{tenant: a, trusts: [b]}]\n");
	const char *paths[] = {path};
	char *out = NULL;
	char *errors = NULL;

	cr_assert_eq(run_check(paths, 1, &out, &errors), 0);
	cr_assert(strstr(errors, ":7:34: warning: spec.tenants.trust[0].trusts[0]") != NULL,
		  "warning missing: %s", errors);
	cr_assert(g_str_has_suffix(out, "spread 1, bandwidth 1\n"), "summary missing: %s", out);
	free(out);
	free(errors);
	g_free(path);
}

Test(check, weight_without_section_warns)
{
	char *path = write_temp("weights.yaml",
				"apiVersion: stowage.io/v1alpha1\n"
				"kind: SchedulingPolicy\n"
				"metadata: {name: weights}\n"
				"spec:\n"
				"  weights: {bandwidth: 3, spread: 2, locality: 4}\n");
	char *with_sections = write_temp("sections.yaml",
					 "apiVersion: stowage.io/v1alpha1\n"
					 "kind: SchedulingPolicy\n"
					 "metadata: {name: sections}\n"
					 "spec:\n"
					 "  weights: {bandwidth: 3, spread: 0}\n"
					 "  bandwidth: {}\n");
	const char *paths[] = {path};
	const char *second[] = {with_sections};
	char *expected;
	char *out = NULL;
	char *errors = NULL;

	cr_assert_eq(run_check(paths, 1, &out, &errors), 0,
		     "a weight without its section is a warning, not an error");
	expected = g_strdup_printf(
		"%s:5:24: warning: spec.weights.bandwidth: weight 3 has no effect because the policy has no spec.bandwidth; add spec.bandwidth (bandwidth: {} keeps its defaults) or remove the weight\n"
		"%s:5:35: warning: spec.weights.spread: weight 2 has no effect because the policy has no spec.spread; add spec.spread (spread: {} keeps its defaults) or remove the weight\n",
		path, path);
	cr_assert_str_eq(errors, expected);
	cr_assert(g_str_has_suffix(out, "locality 4, spread 2, bandwidth 3\n"),
		  "summary shows every weight: %s", out);
	g_free(expected);
	free(out);
	free(errors);

	out = NULL;
	errors = NULL;
	cr_assert_eq(run_check(second, 1, &out, &errors), 0);
	cr_assert_str_eq(errors, "", "no warning with spec.bandwidth and spread 0");
	free(out);
	free(errors);
	g_free(path);
	g_free(with_sections);
}

Test(check, main_usage, .init = cr_redirect_stderr)
{
	char *no_files[] = {(char *)"check", NULL};
	char *bad_option[] = {(char *)"check", (char *)"--strict", NULL};

	cr_assert_eq(pol_check_main(1, no_files), 2, "no file is a usage error");
	cr_assert_eq(pol_check_main(2, bad_option), 2,
		     "an unknown option is a usage error");
}

Test(check, main_help, .init = cr_redirect_stdout)
{
	char *help[] = {(char *)"check", (char *)"--help", NULL};

	cr_assert_eq(pol_check_main(2, help), 0);
}

/* ---- Example policies ------------------------------------------------------ */

/* Reads the ConfigMap, checks its shape, and parses data."policy.yaml". */
static void check_example(const char *path, score_resource_table *resources)
{
	const cJSON *data;
	const cJSON *policy_text;
	const cJSON *kind;
	char *text = NULL;
	size_t length = 0;
	cJSON *root = NULL;
	pol_diagnostics diagnostics;
	pol_policy *policy = NULL;
	score_error err = {0};
	int rc;

	cr_assert(g_file_get_contents(path, &text, &length, NULL),
		  "cannot read %s", path);
	rc = inf_yaml_to_json(text, length, &root, &err);
	cr_assert_eq(rc, 0, "%s is not valid YAML: %s", path, err.message);
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	cr_assert(cJSON_IsString(kind) && strcmp(kind->valuestring, "ConfigMap") == 0,
		  "%s: expected a ConfigMap", path);
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	policy_text = cJSON_GetObjectItemCaseSensitive(data, POL_CONFIGMAP_KEY);
	cr_assert(cJSON_IsString(policy_text), "%s: data.\"%s\" is missing", path,
		  POL_CONFIGMAP_KEY);

	pol_diagnostics_init(&diagnostics);
	rc = pol_policy_parse(path, policy_text->valuestring,
			      strlen(policy_text->valuestring), resources,
			      &policy, &diagnostics, &err);
	for (guint i = 0; i < diagnostics.errors->len; i++)
		cr_log_error("%s", (const char *)g_ptr_array_index(diagnostics.errors, i));
	cr_assert_eq(rc, 0, "%s: the policy is invalid: %s", path, err.message);
	cr_assert_eq(diagnostics.warnings->len, 0, "%s: %u warnings", path,
		     diagnostics.warnings->len);

	pol_policy_unref(policy);
	pol_diagnostics_release(&diagnostics);
	cJSON_Delete(root);
	g_free(text);
}

Test(check, example_policies_pass)
{
	score_resource_table *resources = score_resource_table_new();
	char *dir_path = manifests_dir();
	GDir *dir = g_dir_open(dir_path, 0, NULL);
	const char *name;
	size_t checked = 0;

	cr_assert_not_null(dir, "cannot open %s", dir_path);
	while ((name = g_dir_read_name(dir)) != NULL) {
		char *path;
		const char *paths[1];
		char *out = NULL;
		char *errors = NULL;
		int status;

		if (!g_str_has_suffix(name, ".yaml"))
			continue;
		path = g_build_filename(dir_path, name, NULL);
		check_example(path, resources);

		/* `stowage check` reads the ConfigMap itself, too. */
		paths[0] = path;
		status = run_check(paths, 1, &out, &errors);
		cr_assert_eq(status, 0, "stowage check %s failed: %s", path, errors);
		cr_assert_str_eq(errors, "", "%s: %s", path, errors);
		free(out);
		free(errors);
		g_free(path);
		checked++;
	}
	g_dir_close(dir);
	cr_assert_geq(checked, 3, "expected the three example policies, found %zu",
		      checked);
	g_free(dir_path);
	score_resource_table_free(resources);
}
