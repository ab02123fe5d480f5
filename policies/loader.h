/* The current policy of a running service, loaded from a file and replaced
 * whole when the file changes.
 *
 * A reload parses the file into a new policy first and swaps it in only
 * when it is valid, so a broken edit leaves the running policy in place and
 * the reload returns the error. Readers take a reference with
 * pol_loader_current() and keep using that policy, even across a swap,
 * until they drop it.
 *
 * Watching: Kubernetes mounts a ConfigMap as a directory where the key is a
 * symlink through "..data", and updates it by pointing "..data" at a new
 * directory with one rename. pol_loader_watch() watches the directory that
 * contains the policy file with inotify, and pol_loader_dispatch() reloads
 * when "..data" or the file itself changes. SIGHUP handling belongs to the
 * caller, which calls pol_loader_reload().
 *
 * Threads: every function may be called from any thread. Reloads are
 * serialized; pol_loader_current() never waits for a reload's parse.
 */
#ifndef STOWAGE_POL_LOADER_H
#define STOWAGE_POL_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "policies/policy.h"
#include "scoring/error.h"
#include "scoring/model.h"

typedef struct pol_loader pol_loader;

/* Returns a loader for `path` without a policy yet; load one with
 * pol_loader_reload(). `resources` is borrowed and must outlive the loader
 * and every policy it hands out. Free with pol_loader_free(). */
pol_loader *pol_loader_new(const char *path, score_resource_table *resources);

/* Drops the loader's reference to the current policy (readers keep theirs)
 * and closes the watch descriptor. */
void pol_loader_free(pol_loader *loader);

const char *pol_loader_path(const pol_loader *loader);

/* Parses the file and makes it the current policy when it is valid.
 * `*changed` (may be NULL) is set when the current policy was replaced:
 * a file whose content equals the current policy's is not swapped in
 * again. On failure the current policy stays, and `err` and `diagnostics`
 * (may be NULL) give the reason. */
int pol_loader_reload(pol_loader *loader, bool *changed,
		      pol_diagnostics *diagnostics, score_error *err);

/* Returns a new reference to the current policy, or NULL before the first
 * successful load. The caller drops it with pol_policy_unref(). */
pol_policy *pol_loader_current(pol_loader *loader);

/* Called by a reload with a valid policy that differs from the current
 * one, before it becomes current, e.g. to build caches against the
 * cluster model. Runs on the reloading thread inside the reload's lock:
 * it must not reload, but may call pol_loader_current(). */
typedef void (*pol_prepare_fn)(void *data, pol_policy *policy);

/* Sets the function every later reload calls; NULL for none. */
void pol_loader_set_prepare(pol_loader *loader, pol_prepare_fn prepare,
			    void *data);

/* Counts the swaps so far: 0 before the first successful load. */
uint64_t pol_loader_generation(pol_loader *loader);

/* The outcome of one pol_loader_reload(). */
typedef enum pol_reload_result {
	POL_RELOAD_SUCCESS = 0, /* a new policy became current */
	POL_RELOAD_UNCHANGED,   /* valid, and equal to the current policy */
	POL_RELOAD_FAILURE,     /* invalid or unreadable; the current stays */
	POL_RELOAD_RESULT_COUNT,
} pol_reload_result;

/* Returns "success", "unchanged" or "failure". */
const char *pol_reload_result_name(pol_reload_result result);

/* Counts the pol_loader_reload() calls (pol_loader_dispatch()'s included)
 * that ended with `result`. The first load counts as a success. */
uint64_t pol_loader_reloads(pol_loader *loader, pol_reload_result result);

/* Starts watching the policy file's directory. Returns a non-blocking
 * descriptor to poll for input, owned by the loader, or a negative errno
 * with `err` naming the directory. Calling it again returns the same
 * descriptor. */
int pol_loader_watch(pol_loader *loader, score_error *err);

/* Reads the pending inotify events without blocking and reloads when one
 * concerns the policy file or "..data" (or the kernel dropped events).
 * Returns 1 when a new policy became current, 0 when nothing changed, or
 * the negative errno of a failed reload, the current policy staying. */
int pol_loader_dispatch(pol_loader *loader, pol_diagnostics *diagnostics,
			score_error *err);

#endif
