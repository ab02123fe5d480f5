/* The current policy, reloaded atomically; see loader.h. */
#include "policies/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* The symlink Kubernetes' atomic writer swaps in a ConfigMap volume. */
#define CONFIGMAP_DATA_LINK "..data"

struct pol_loader {
	char *path;
	char *directory;
	char *basename;
	score_resource_table *resources; /* borrowed */

	GMutex reload_lock; /* serializes reloads */
	GMutex current_lock; /* guards `current`, `generation` and `reloads` */
	pol_policy *current; /* one reference, NULL before the first load */
	uint64_t generation;
	uint64_t reloads[POL_RELOAD_RESULT_COUNT];

	int watch_fd; /* -1 until pol_loader_watch() */

	pol_prepare_fn prepare; /* NULL: none */
	void *prepare_data;
};

pol_loader *pol_loader_new(const char *path, score_resource_table *resources)
{
	pol_loader *loader = g_new0(pol_loader, 1);

	loader->path = g_strdup(path);
	loader->directory = g_path_get_dirname(path);
	loader->basename = g_path_get_basename(path);
	loader->resources = resources;
	g_mutex_init(&loader->reload_lock);
	g_mutex_init(&loader->current_lock);
	loader->watch_fd = -1;
	return loader;
}

void pol_loader_free(pol_loader *loader)
{
	if (loader == NULL)
		return;
	if (loader->watch_fd >= 0)
		close(loader->watch_fd);
	pol_policy_unref(loader->current);
	g_mutex_clear(&loader->reload_lock);
	g_mutex_clear(&loader->current_lock);
	g_free(loader->path);
	g_free(loader->directory);
	g_free(loader->basename);
	g_free(loader);
}

const char *pol_loader_path(const pol_loader *loader)
{
	return loader->path;
}

pol_policy *pol_loader_current(pol_loader *loader)
{
	pol_policy *policy = NULL;

	g_mutex_lock(&loader->current_lock);
	if (loader->current != NULL)
		policy = pol_policy_ref(loader->current);
	g_mutex_unlock(&loader->current_lock);
	return policy;
}

uint64_t pol_loader_generation(pol_loader *loader)
{
	uint64_t generation;

	g_mutex_lock(&loader->current_lock);
	generation = loader->generation;
	g_mutex_unlock(&loader->current_lock);
	return generation;
}

uint64_t pol_loader_reloads(pol_loader *loader, pol_reload_result result)
{
	uint64_t count = 0;

	if (result < 0 || result >= POL_RELOAD_RESULT_COUNT)
		return 0;
	g_mutex_lock(&loader->current_lock);
	count = loader->reloads[result];
	g_mutex_unlock(&loader->current_lock);
	return count;
}

const char *pol_reload_result_name(pol_reload_result result)
{
	switch (result) {
	case POL_RELOAD_SUCCESS:
		return "success";
	case POL_RELOAD_UNCHANGED:
		return "unchanged";
	case POL_RELOAD_FAILURE:
		return "failure";
	default:
		return "unknown";
	}
}

static void count_reload(pol_loader *loader, pol_reload_result result)
{
	g_mutex_lock(&loader->current_lock);
	loader->reloads[result]++;
	g_mutex_unlock(&loader->current_lock);
}

/* Makes `policy` current unless the current one has the same text. Takes
 * ownership of `policy`. Returns true when it swapped. */
static bool swap_in(pol_loader *loader, pol_policy *policy)
{
	pol_policy *old = NULL;
	bool swapped = false;

	g_mutex_lock(&loader->current_lock);
	if (loader->current == NULL ||
	    strcmp(pol_policy_digest(loader->current),
		   pol_policy_digest(policy)) != 0) {
		old = loader->current;
		loader->current = policy;
		loader->generation++;
		policy = NULL;
		swapped = true;
	}
	g_mutex_unlock(&loader->current_lock);

	/* Freed outside the lock; readers may still hold references. */
	pol_policy_unref(old);
	pol_policy_unref(policy);
	return swapped;
}

void pol_loader_set_prepare(pol_loader *loader, pol_prepare_fn prepare,
			    void *data)
{
	g_mutex_lock(&loader->reload_lock);
	loader->prepare = prepare;
	loader->prepare_data = data;
	g_mutex_unlock(&loader->reload_lock);
}

/* Returns true when `policy` has the current policy's text. */
static bool same_as_current(pol_loader *loader, const pol_policy *policy)
{
	bool same;

	g_mutex_lock(&loader->current_lock);
	same = loader->current != NULL &&
	       strcmp(pol_policy_digest(loader->current),
		      pol_policy_digest(policy)) == 0;
	g_mutex_unlock(&loader->current_lock);
	return same;
}

int pol_loader_reload(pol_loader *loader, bool *changed,
		      pol_diagnostics *diagnostics, score_error *err)
{
	pol_policy *policy = NULL;
	bool swapped = false;
	int rc;

	g_mutex_lock(&loader->reload_lock);
	rc = pol_policy_load(loader->path, loader->resources, &policy,
			     diagnostics, err);
	/* Prepared before the swap, so no request waits for it. Reloads are
	 * serialized, so the current policy cannot change meanwhile. */
	if (rc == 0 && loader->prepare != NULL &&
	    !same_as_current(loader, policy))
		loader->prepare(loader->prepare_data, policy);
	if (rc == 0)
		swapped = swap_in(loader, policy);
	count_reload(loader, rc < 0      ? POL_RELOAD_FAILURE
			     : swapped ? POL_RELOAD_SUCCESS
				       : POL_RELOAD_UNCHANGED);
	g_mutex_unlock(&loader->reload_lock);

	if (changed != NULL)
		*changed = swapped;
	return rc;
}

/* ---- Watching ---------------------------------------------------------------- */

int pol_loader_watch(pol_loader *loader, score_error *err)
{
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_CREATE | IN_DELETE | IN_ATTRIB;
	int fd;

	if (loader->watch_fd >= 0)
		return loader->watch_fd;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return score_fail(err, -errno,
				  "cannot start watching policy file %s: inotify_init1 failed: %s",
				  loader->path, g_strerror(errno));
	if (inotify_add_watch(fd, loader->directory, mask) < 0) {
		int code = -errno;

		close(fd);
		return score_fail(err, code,
				  "cannot watch directory %s of policy file %s: %s",
				  loader->directory, loader->path,
				  g_strerror(-code));
	}
	loader->watch_fd = fd;
	return fd;
}

static bool is_symlink(const pol_loader *loader, const char *name)
{
	char *path = g_build_filename(loader->directory, name, NULL);
	struct stat status;
	bool link = lstat(path, &status) == 0 && S_ISLNK(status.st_mode);

	g_free(path);
	return link;
}

/* True when the event may have changed what the policy path reads. A new
 * regular file may still be half written, and its IN_CLOSE_WRITE follows;
 * a new symlink is complete at once. */
static bool event_matters(const pol_loader *loader,
			  const struct inotify_event *event)
{
	if (event->mask & (IN_Q_OVERFLOW | IN_IGNORED))
		return true;
	if (event->len == 0)
		return false;
	if (strcmp(event->name, loader->basename) != 0 &&
	    strcmp(event->name, CONFIGMAP_DATA_LINK) != 0)
		return false;
	if (event->mask & IN_CREATE)
		return is_symlink(loader, event->name);
	return true;
}

/* Drains the descriptor; sets `*matters` when any event matters. */
static int read_events(pol_loader *loader, bool *matters, score_error *err)
{
	/* Room for many events: the kernel never splits one across reads. */
	_Alignas(struct inotify_event) char
		buffer[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];

	*matters = false;
	for (;;) {
		ssize_t length = read(loader->watch_fd, buffer, sizeof(buffer));

		if (length < 0 && errno == EINTR)
			continue;
		if (length < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (length <= 0)
			return score_fail(err, length < 0 ? -errno : -EIO,
					  "cannot read inotify events for %s: %s",
					  loader->directory,
					  length < 0 ? g_strerror(errno)
						     : "unexpected end of file");

		for (char *p = buffer; p < buffer + length;) {
			const struct inotify_event *event =
				(const struct inotify_event *)(void *)p;

			if (event_matters(loader, event))
				*matters = true;
			p += sizeof(struct inotify_event) + event->len;
		}
	}
}

int pol_loader_dispatch(pol_loader *loader, pol_diagnostics *diagnostics,
			score_error *err)
{
	bool matters;
	bool changed;
	int rc;

	if (loader->watch_fd < 0)
		return score_fail(err, -EBADF,
				  "policy file %s is not watched: call pol_loader_watch() first",
				  loader->path);
	rc = read_events(loader, &matters, err);
	if (rc < 0 || !matters)
		return rc;

	rc = pol_loader_reload(loader, &changed, diagnostics, err);
	if (rc < 0)
		return rc;
	return changed ? 1 : 0;
}
