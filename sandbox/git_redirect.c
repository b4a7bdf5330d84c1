/*
 * git_redirect.c - watch the files by which a git directory takes its
 * config and hooks from elsewhere.
 *
 * The default policy binds .git/config and .git/hooks read-only, so that
 * the agent cannot make the user's git run a program of its choosing
 * after the run. Two files in the git directory route around that when
 * present: commondir names another directory whose config and hooks git
 * uses, as a linked worktree's does, and config.worktree adds to the
 * config when extensions.worktreeConfig is set. A plain repository has
 * neither, and a missing file cannot be bound read-only without binding
 * its directory, all of .git, which would stop every git command that
 * writes. So the caller notes both before the run and reports after it
 * the first that the run created or changed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/internal.h"

static const char *const watched[SANDBOX_GIT_WATCHED] = {
	".git/commondir",
	".git/config.worktree",
};

/* Whether the policy protects the workspace's git config or hooks. */
static bool protects_git(const struct sandbox_policy *policy)
{
	const struct sandbox_strings *parts = &policy->workspace_read_only;

	for (size_t i = 0; i < parts->count; i++) {
		if (strcmp(parts->items[i], ".git/config") == 0 ||
		    strcmp(parts->items[i], ".git/hooks") == 0)
			return true;
	}
	return false;
}

/* The state of one file, as far as a change shows in it. */
static void note(const char *workspace, const char *rel,
		 struct sandbox_file_state *f)
{
	char path[4200];
	struct stat st;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/%s", workspace, rel);
	if (lstat(path, &st) < 0)
		return;
	f->exists = true;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->ctime = st.st_ctim;
}

static bool same(const struct sandbox_file_state *a,
		 const struct sandbox_file_state *b)
{
	if (a->exists != b->exists)
		return false;
	return !a->exists ||
	       (a->ino == b->ino && a->size == b->size &&
		a->ctime.tv_sec == b->ctime.tv_sec &&
		a->ctime.tv_nsec == b->ctime.tv_nsec);
}

void sandbox_git_watch_start(struct sandbox_child *child,
			     const struct sandbox_policy *policy,
			     const char *workspace)
{
	snprintf(child->workspace, sizeof(child->workspace), "%s",
		 workspace);
	child->git_watched = protects_git(policy);
	for (size_t i = 0; child->git_watched && i < SANDBOX_GIT_WATCHED;
	     i++)
		note(workspace, watched[i], &child->git_before[i]);
}

void sandbox_git_watch_check(const struct sandbox_child *child,
			     struct sandbox_result *r)
{
	struct sandbox_file_state now;

	for (size_t i = 0; child->git_watched && i < SANDBOX_GIT_WATCHED;
	     i++) {
		const struct sandbox_file_state *before =
			&child->git_before[i];

		note(child->workspace, watched[i], &now);
		if (!now.exists || same(before, &now))
			continue;
		snprintf(r->git_redirect, sizeof(r->git_redirect), "%s",
			 watched[i]);
		r->git_redirect_change = before->exists ? "changed" : "created";
		return;
	}
}

const char *sandbox_git_redirect_reason(const char *file)
{
	if (strcmp(file, ".git/commondir") == 0)
		return "git takes config and hooks from the directory that "
		       "it names, and runs the programs that they name";
	return "git adds it to the repository's config when "
	       "extensions.worktreeConfig is set, and runs the programs "
	       "that it names";
}
