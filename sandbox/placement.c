/*
 * placement.c - reject a workspace or HOME placed over a system path.
 *
 * The workspace is bound read-write, so a workspace of /etc would let
 * the agent rewrite the host's /etc, and as root that is the host's
 * real /etc/passwd. HOME is a fresh tmpfs, so a HOME over the workspace
 * would hide the workspace and the agent's changes would be lost.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"
#include "sandbox/policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Paths that neither the workspace nor HOME may be, contain or lie
 * inside, even when a policy leaves them out of filesystem.read_only.
 */
static const char *const system_paths[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc", "/boot", "/proc", "/sys", "/dev",
};

/*
 * Paths that the workspace and HOME may lie inside but not be or
 * contain: a project under /tmp is common, and the private /tmp inside
 * does not cover it.
 */
static const char *const top_paths[] = { "/", "/tmp" };

bool sandbox_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

/* Whether path equals dir, lies inside it or contains it. */
static bool paths_overlap(const char *path, const char *dir)
{
	return sandbox_path_within(path, dir) ||
	       sandbox_path_within(dir, path);
}

/*
 * Whether path overlaps dir as written or, when dir exists on the host,
 * as resolved: /lib is a symlink to /usr/lib on merged-/usr systems.
 */
static bool overlaps_resolved(const char *path, const char *dir,
			      bool resolve)
{
	char real[PATH_MAX];

	if (paths_overlap(path, dir))
		return true;
	return resolve && realpath(dir, real) && paths_overlap(path, real);
}

/* Whether path is or contains dir, as written or as resolved. */
static bool contains_resolved(const char *path, const char *dir,
			      bool resolve)
{
	char real[PATH_MAX];

	if (sandbox_path_within(dir, path))
		return true;
	return resolve && realpath(dir, real) &&
	       sandbox_path_within(real, path);
}

/* Whether dir is one of the system paths or, before index ro_end, of
 * the policy's read-only paths. Those were checked for overlap already,
 * and overlap includes containment, so a second check finds nothing. */
static bool checked_before(const char *dir, const struct sandbox_strings *ro,
			   size_t ro_end)
{
	for (size_t i = 0; i < N(system_paths); i++) {
		if (strcmp(dir, system_paths[i]) == 0)
			return true;
	}
	for (size_t i = 0; i < ro_end; i++) {
		if (strcmp(dir, ro->items[i]) == 0)
			return true;
	}
	return false;
}

/* A path listed twice is checked and resolved once. Most default
 * read-only paths are system paths too, and realpath() costs one
 * readlink() per component. */
const char *sandbox_placement_conflict(const char *path,
				       const struct sandbox_policy *p,
				       bool resolve, bool hidden_too)
{
	const struct sandbox_strings *ro = &p->read_only;
	const struct sandbox_strings *hidden = &p->hidden;

	for (size_t i = 0; i < N(system_paths); i++) {
		if (overlaps_resolved(path, system_paths[i], resolve))
			return system_paths[i];
	}
	for (size_t i = 0; i < N(top_paths); i++) {
		if (sandbox_path_within(top_paths[i], path))
			return top_paths[i];
	}
	for (size_t i = 0; i < ro->count; i++) {
		if (!checked_before(ro->items[i], ro, i) &&
		    overlaps_resolved(path, ro->items[i], resolve))
			return ro->items[i];
	}
	/* A project under /home or /root lies inside a hidden path, which
	 * is allowed; only a path that uncovers a hidden one is not. */
	for (size_t i = 0; hidden_too && i < hidden->count; i++) {
		if (!checked_before(hidden->items[i], ro, ro->count) &&
		    contains_resolved(path, hidden->items[i], resolve))
			return hidden->items[i];
	}
	return NULL;
}

static int reject_workspace(const struct sandbox_policy *p, const char *path,
			    const char *conflict)
{
	bool listed = false;

	for (size_t i = 0; i < p->read_only.count; i++)
		listed |= p->read_only.items[i] == conflict;
	sandbox_set_error("cannot start the sandbox: '%s': the workspace "
			  "would be, contain or lie inside the system or "
			  "policy path '%s'", path, conflict);
	if (listed)
		sandbox_set_hint("use a project directory outside '%s' as "
				 "the workspace, or take '%s' out of the "
				 "policy's filesystem.read_only",
				 conflict, conflict);
	else
		sandbox_set_hint("use a project directory as the workspace, "
				 "for example a directory of its own below "
				 "/home, /srv or /tmp");
	return -1;
}

/* Return a HOME for the hint that neither overlaps the workspace nor
 * conflicts with the policy, or NULL when no candidate fits. */
static const char *home_outside(const struct sandbox_policy *p,
				const char *inside)
{
	static const char *const homes[] = {
		"/home/agent", "/home/runbundle-agent", "/srv/agent", NULL,
	};

	for (size_t i = 0; homes[i]; i++) {
		if (!paths_overlap(homes[i], inside) &&
		    !sandbox_placement_conflict(homes[i], p, false, false))
			return homes[i];
	}
	return NULL;
}

static int reject_home(const struct sandbox_policy *p, const char *inside)
{
	const char *home = home_outside(p, inside);

	sandbox_set_error("cannot start the sandbox: '%s': HOME would be, "
			  "contain or lie inside the workspace '%s', whose "
			  "files its tmpfs would hide", p->home_path, inside);
	if (home)
		sandbox_set_hint("set home.path in the policy to a path "
				 "outside the workspace, such as %s", home);
	else
		sandbox_set_hint("set home.path in the policy to a path "
				 "outside the workspace");
	return -1;
}

int sandbox_placement_check(const struct sandbox_plan *plan)
{
	const struct sandbox_policy *p = plan->policy;
	const char *conflict;

	conflict = sandbox_placement_conflict(plan->workspace, p, true,
					      true);
	if (conflict)
		return reject_workspace(p, plan->workspace, conflict);
	conflict = sandbox_placement_conflict(plan->inside, p, false, true);
	if (conflict)
		return reject_workspace(p, plan->inside, conflict);
	if (paths_overlap(p->home_path, plan->inside))
		return reject_home(p, plan->inside);
	return 0;
}
