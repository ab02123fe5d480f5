/* Child processes of the tests: stowage, the test API server and the load
 * generator started through g_spawn_*(). */
#ifndef STOWAGE_TESTS_CHILD_H
#define STOWAGE_TESTS_CHILD_H

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib.h>

/* A GSpawnChildSetupFunc that makes the child get SIGKILL when the test
 * process ends. A failed assertion ends the test before its own cleanup
 * runs, and the child would otherwise outlive the test run. */
static inline void test_child_dies_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A GSpawnChildSetupFunc that also sends the child's standard error to the
 * file named by `log_path` and its standard output to /dev/null. */
static inline void test_child_log_stderr(gpointer log_path)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int null_fd = open("/dev/null", O_WRONLY);

	test_child_dies_with_parent(NULL);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	if (null_fd >= 0) {
		dup2(null_fd, STDOUT_FILENO);
		close(null_fd);
	}
}

#endif
