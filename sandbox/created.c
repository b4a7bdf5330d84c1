/*
 * created.c - remove after the run the read-only parts that the sandbox
 * created in the host's workspace (mounts.c describes when it does).
 *
 * The mounts that init reports carry "covers", the part, and "created",
 * the first directory made for it. After the run, every directory from
 * the part up to that one is removed, deepest first, while it is empty.
 * The agent may have renamed or replaced them, so each step opens the
 * parent beneath the workspace without following a symlink, and
 * rmdir() removes only an empty directory.
 *
 * Runs may share a workspace. A second run finds the parts that the
 * first created and binds them read-only as parts that exist, and
 * rmdir() of them would detach that run's mounts too (see
 * sandbox_created_remove_early()), so that its agent could write there.
 * So every run holds a shared flock() on the workspace directory, and
 * removes its parts only when it can make that lock exclusive. A run
 * that cannot leaves them in place, empty.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/internal.h"

int sandbox_created_collect(struct sandbox_child *child, const cJSON *mounts,
			    const char *workspace)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, mounts) {
		const cJSON *covers = cJSON_GetObjectItemCaseSensitive(m,
								      "covers");
		const cJSON *created = cJSON_GetObjectItemCaseSensitive(
			m, "created");
		cJSON *entry;

		if (!cJSON_IsString(covers) || !cJSON_IsString(created))
			continue;
		if (!child->created)
			child->created = cJSON_CreateArray();
		entry = cJSON_CreateObject();
		if (!child->created || !entry) {
			cJSON_Delete(entry);
			return -1;
		}
		cJSON_AddStringToObject(entry, "covers", covers->valuestring);
		cJSON_AddStringToObject(entry, "created",
					created->valuestring);
		cJSON_AddItemToArray(child->created, entry);
	}
	snprintf(child->workspace, sizeof(child->workspace), "%s", workspace);
	return 0;
}

/* Remove the empty directory rel below ws. Returns 0, or -1 when it is
 * not there, not empty or not a directory. */
static int remove_empty(int ws, char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	char *slash = strrchr(rel, '/');
	int parent = ws, rc;

	if (slash) {
		*slash = '\0';
		parent = (int)syscall(SYS_openat2, ws, rel, &how, sizeof(how));
		*slash = '/';
		if (parent < 0)
			return -1;
	}
	rc = unlinkat(parent, slash ? slash + 1 : rel, AT_REMOVEDIR);
	if (parent != ws)
		close(parent);
	return rc;
}

/* Remove the chain of one part. Returns -1 when a directory was busy
 * (EBUSY), and 0 when the chain is gone or stops at a directory that is
 * not empty or no longer there. */
static int remove_chain(int ws, const char *covers, const char *created)
{
	char rel[PATH_MAX];
	size_t stop = strlen(created);

	snprintf(rel, sizeof(rel), "%s", covers);
	while (strlen(rel) >= stop) {
		char *slash;

		if (remove_empty(ws, rel) < 0)
			return errno == EBUSY ? -1 : 0;
		slash = strrchr(rel, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
	return 0;
}

/* workspace_lock of a run whose workspace could not be locked. */
#define UNLOCKABLE (-2)

/* The tries of the shared lock, and the pause between them in
 * microseconds: another run holds it exclusively only while it removes
 * its parts. */
#define LOCK_TRIES 100
#define LOCK_PAUSE_US 10000

void sandbox_created_lock(struct sandbox_child *child, const char *workspace)
{
	int fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* A workspace that the caller cannot read cannot be locked, nor
	 * one that another process keeps locked for more than a second.
	 * The run goes on, and its parts then stay after it, because
	 * removing them could detach another run's mounts. */
	child->workspace_lock = UNLOCKABLE;
	if (fd < 0)
		return;
	for (int i = 0; i < LOCK_TRIES; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			child->workspace_lock = fd;
			return;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		usleep(LOCK_PAUSE_US);
	}
	close(fd);
}

void sandbox_created_unlock(struct sandbox_child *child)
{
	if (child->workspace_lock >= 0)
		close(child->workspace_lock);
	child->workspace_lock = -1;
}

bool sandbox_workspace_shared(const char *workspace)
{
	int fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool shared;

	if (fd < 0)
		return false;
	shared = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return shared;
}

/* Whether no other run uses the workspace: the lock became exclusive,
 * or the run took none (--sandbox none creates no part). */
static bool sole_run(const struct sandbox_child *child)
{
	if (child->workspace_lock == UNLOCKABLE)
		return false;
	if (child->workspace_lock < 0)
		return true;
	return flock(child->workspace_lock, LOCK_EX | LOCK_NB) == 0;
}

/* Remove every chain. Returns -1 when one was busy, 0 otherwise. */
static int remove_chains(const struct sandbox_child *child)
{
	const cJSON *entry;
	int ws, rc = 0;

	if (!sole_run(child))
		return 0;
	ws = open(child->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws < 0)
		return 0;
	cJSON_ArrayForEach(entry, child->created) {
		const char *covers = cJSON_GetStringValue(
			cJSON_GetObjectItem(entry, "covers"));
		const char *created = cJSON_GetStringValue(
			cJSON_GetObjectItem(entry, "created"));

		if (remove_chain(ws, covers, created) < 0)
			rc = -1;
	}
	close(ws);
	return rc;
}

/* The sandbox is gone, so its parts no longer need protecting, and the
 * lock goes with them. */
void sandbox_created_remove(struct sandbox_child *child)
{
	if (child->created)
		remove_chains(child);
	cJSON_Delete(child->created);
	child->created = NULL;
	sandbox_created_unlock(child);
}

/*
 * Before the teardown, the parts are still mount points in the
 * sandbox's mount namespace, but not in the caller's. rmdir() of a
 * directory that is a mount point only in another namespace removes it
 * and detaches those mounts (Linux 3.18 and later). The agent's
 * processes are all gone by then, so nothing can change the parts.
 */
int sandbox_created_remove_early(struct sandbox_child *child)
{
	if (child->created && remove_chains(child) < 0)
		return -1;
	cJSON_Delete(child->created);
	child->created = NULL;
	sandbox_created_unlock(child);
	return 0;
}
