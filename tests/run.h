/* Test support for running the programs under test and reading what they
 * print:
 *
 *   - an entry point such as sim_main() called in the test process, its
 *     standard output and standard error captured through Criterion's
 *     redirect (test_capture_output(), test_run_main(), test_captured_*());
 *   - a built program (stowage, a tool under tests/tools) run to completion
 *     as a child, both outputs read to the end (test_run_program());
 *   - a long-running child such as `stowage serve`, its standard error
 *     written to a log file (test_child_start_logged(), test_child_stop()).
 *
 * Every child gets SIGKILL when the test process ends (tests/child.h), so a
 * failed assertion leaves no process behind. A child that a signal ends is
 * reported with the signal's number and name, never as an exit code.
 *
 * Header-only, because the Makefile links each tests/test_*.c alone into
 * its own binary as well as all of them into one. The functions fail the
 * test with a Criterion assertion instead of returning errors.
 */
#ifndef STOWAGE_TESTS_RUN_H
#define STOWAGE_TESTS_RUN_H

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "tests/child.h"

/* ---- Finding the stowage binary ------------------------------------------ */

/* Returns the path of the stowage binary: $STOWAGE_BIN when set, else
 * build/<mode>/stowage, found from this test binary's own path
 * (build/<mode>/tests/test_X or build/<mode>/tests/unit). Fails the test
 * when that file is not executable. The caller frees the path with
 * g_free(). */
static inline char *test_stowage_path(void)
{
	const char *bin = g_getenv("STOWAGE_BIN");
	char *self, *self_dir, *path;

	if (bin != NULL && bin[0] != '\0') {
		path = g_strdup(bin);
	} else {
		self = g_file_read_link("/proc/self/exe", NULL);
		cr_assert_not_null(self, "cannot read /proc/self/exe to find the stowage binary");
		self_dir = g_path_get_dirname(self);
		path = g_build_filename(self_dir, "..", "stowage", NULL);
		g_free(self_dir);
		g_free(self);
	}
	cr_assert(g_file_test(path, G_FILE_TEST_IS_EXECUTABLE),
		  "stowage binary %s is missing: build it with make build/release/stowage "
		  "(or make SANITIZE=address,undefined build/sanitize/stowage), or set "
		  "STOWAGE_BIN", path);
	return path;
}

/* ---- Wait statuses ---------------------------------------------------------- */

/* Writes how a child ended into `buffer` for an assertion message: "exited
 * with status 3", "was killed by signal 11 (Segmentation fault)", or, for
 * the -1 of test_child_stop(), that it did not exit in time. Returns
 * `buffer`. */
static inline const char *test_describe_wait_status(int wait_status, char *buffer, size_t size)
{
	if (wait_status == -1)
		g_snprintf(buffer, size, "did not exit in time (killed with SIGKILL) or could "
			   "not be waited for");
	else if (WIFEXITED(wait_status))
		g_snprintf(buffer, size, "exited with status %d", WEXITSTATUS(wait_status));
	else if (WIFSIGNALED(wait_status))
		g_snprintf(buffer, size, "was killed by signal %d (%s)", WTERMSIG(wait_status),
			   strsignal(WTERMSIG(wait_status)));
	else
		g_snprintf(buffer, size, "ended with wait status 0x%x", (unsigned)wait_status);
	return buffer;
}

/* Fails the test unless `wait_status` (from waitpid() or test_child_stop())
 * is an exit with status `expected`. `context` names the process and the
 * occasion in the message, e.g. "stowage serve after SIGTERM". */
static inline void test_assert_exit_status(int wait_status, int expected, const char *context)
{
	char how[96];

	cr_assert(wait_status != -1 && WIFEXITED(wait_status) &&
			  WEXITSTATUS(wait_status) == expected,
		  "%s: expected exit status %d, but it %s", context, expected,
		  test_describe_wait_status(wait_status, how, sizeof(how)));
}

/* ---- Programs run to completion ---------------------------------------------- */

/* What a program run by test_run_program() left behind. */
typedef struct test_run_result {
	int exit_status; /* the status it passed to exit() */
	char *out;       /* all of its standard output, NUL-terminated */
	char *err;       /* all of its standard error, NUL-terminated */
} test_run_result;

/* Runs `program` with the arguments `args` (NULL-terminated, after argv[0])
 * and waits for it, reading its standard output and standard error to the
 * end. Standard input is the test's own. Fails the test when the program
 * cannot start or a signal ends it, with its standard error in the
 * message. The caller frees the output with test_run_result_release(). */
static inline void test_run_program(const char *program, const char *const *args,
				    test_run_result *result)
{
	GPtrArray *argv = g_ptr_array_new();
	GError *error = NULL;
	int wait_status = 0;
	char how[96];

	memset(result, 0, sizeof(*result));
	g_ptr_array_add(argv, (gpointer)program);
	for (size_t i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);

	cr_assert(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
			       test_child_dies_with_parent, NULL, &result->out, &result->err,
			       &wait_status, &error),
		  "cannot run %s: %s", program, error != NULL ? error->message : "");
	g_ptr_array_unref(argv);
	cr_assert(WIFEXITED(wait_status), "%s %s; stderr:\n%s", program,
		  test_describe_wait_status(wait_status, how, sizeof(how)), result->err);
	result->exit_status = WEXITSTATUS(wait_status);
}

static inline void test_run_result_release(test_run_result *result)
{
	g_free(result->out);
	g_free(result->err);
	result->out = NULL;
	result->err = NULL;
}

/* ---- Long-running children ------------------------------------------------- */

/* Starts `argv` (argv[0] the program path, NULL-terminated) without
 * waiting for it. Its standard error goes to the file `log_path`, truncated
 * first, and its standard output to /dev/null. Fails the test when the
 * program cannot start. The caller stops the child with test_child_stop(),
 * or kills it and reaps it with waitpid() and g_spawn_close_pid(). */
static inline GPid test_child_start_logged(const char *const *argv, const char *log_path)
{
	GError *error = NULL;
	GPid pid = 0;

	cr_assert(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
				test_child_log_stderr, (gpointer)log_path, &pid, &error),
		  "cannot start %s: %s", argv[0], error != NULL ? error->message : "");
	return pid;
}

/* Sends SIGTERM to `pid`, a child started with G_SPAWN_DO_NOT_REAP_CHILD,
 * and waits up to `timeout_ms` for it to exit, then sends SIGKILL. Reaps
 * the child and closes `pid`. Returns the wait status, or -1 when the child
 * did not exit within `timeout_ms` or could not be waited for. */
static inline int test_child_stop(GPid pid, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	int status = -1;
	pid_t done;

	kill(pid, SIGTERM);
	while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
	       g_get_monotonic_time() < deadline)
		g_usleep(10 * 1000); /* polling interval for the exit */
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (done != pid)
		status = -1;
	g_spawn_close_pid(pid);
	return status;
}

/* ---- Entry points called in the test process --------------------------------- */

/* Criterion 2.4.1 redirects a stream into a non-blocking pipe. A read
 * returns what the pipe contains, and a write that finds the pipe full is
 * lost. test_capture_output() raises the capacity to this many bytes, which
 * /proc/sys/fs/pipe-max-size allows unprivileged processes unless an
 * administrator lowered it, and test_run_main() fails the test when output
 * was lost all the same. */
#define TEST_CAPTURE_BYTES (1 << 20)

/* Redirects the test process's standard output and standard error into
 * Criterion's pipes, which test_captured_stdout() and
 * test_captured_stderr() read. Usable as a Criterion .init function or as
 * a call at the start of a test. */
static inline void test_capture_output(void)
{
	cr_redirect_stdout();
	cr_redirect_stderr();
	/* On failure the capacity stays at the default 64 KiB. */
	(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, TEST_CAPTURE_BYTES);
	(void)fcntl(STDERR_FILENO, F_SETPIPE_SZ, TEST_CAPTURE_BYTES);
}

/* Calls `main_function` the way main() is called, with argv[0] = `name`
 * and the NULL-terminated string arguments that follow, and returns what it
 * returns. Flushes both standard streams afterwards, so that
 * test_captured_stdout() reads all of the output, and fails the test when a
 * write to either stream failed, as happens when the output overflows the
 * capture pipe. */
G_GNUC_NULL_TERMINATED
static inline int test_run_main(int (*main_function)(int argc, char **argv), const char *name,
				...)
{
	GPtrArray *argv = g_ptr_array_new();
	const char *arg;
	va_list list;
	int status;
	bool lost;

	g_ptr_array_add(argv, (gpointer)name);
	va_start(list, name);
	while ((arg = va_arg(list, const char *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(list);
	g_ptr_array_add(argv, NULL);

	clearerr(stdout);
	clearerr(stderr);
	status = main_function((int)argv->len - 1, (char **)argv->pdata);
	lost = fflush(stdout) != 0 || ferror(stdout) || fflush(stderr) != 0 || ferror(stderr);
	g_ptr_array_unref(argv);
	cr_assert(!lost,
		  "%s wrote more output than fits in the capture pipe and part of it was "
		  "lost: make the run print less, e.g. with --quiet",
		  name);
	return status;
}

/* Returns what the redirected `stream` contains so far and empties it. The
 * caller frees the text with g_free(). */
static inline char *test_read_captured(FILE *stream)
{
	GString *text = g_string_new(NULL);
	char buffer[4096];
	size_t n;

	while ((n = fread(buffer, 1, sizeof(buffer), stream)) > 0)
		g_string_append_len(text, buffer, (gssize)n);
	/* Reading the empty non-blocking pipe fails with EAGAIN and sets the
	 * stream's error flag, which the next read must not find. */
	clearerr(stream);
	return g_string_free(text, FALSE);
}

/* Returns the standard output captured since test_capture_output() or the
 * last call. The caller frees it with g_free(). */
static inline char *test_captured_stdout(void)
{
	return test_read_captured(cr_get_redirected_stdout());
}

/* Returns the standard error captured since test_capture_output() or the
 * last call. The caller frees it with g_free(). */
static inline char *test_captured_stderr(void)
{
	return test_read_captured(cr_get_redirected_stderr());
}

#endif
