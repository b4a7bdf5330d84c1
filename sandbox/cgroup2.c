/*
 * cgroup2.c - making room for the run's cgroup in a delegated cgroup v2.
 *
 * A cgroup v2 enables controllers for its children only while no
 * process is in it (writes fail with EBUSY otherwise). A caller in a
 * delegated cgroup, as under `systemd-run --scope -p Delegate=yes` or as
 * a container's only program, sits in that very cgroup, so pids and
 * memory cannot be enabled for a child while it stays there.
 *
 * So runbundle's own processes leave the cgroup when they are the only
 * ones in it: this one, the parent that a recording leaves behind to
 * relay signals, and the sandbox's init, cloned already. They move into
 * a child, "runbundle-PID.caller", and the cgroup enables pids and
 * memory. The run's cgroup is then made beside that child as usual. At
 * exit this process turns off what it turned on, moves the processes
 * back and removes the child, so that the delegated cgroup is left as
 * it was found. A parent that forks workers, each with a sandbox, makes
 * the move before it forks (sandbox_limits_make_room()).
 *
 * NOTE: the undo runs at exit(). A runbundle killed by a signal that it
 * does not handle (SIGKILL, SIGUSR1) leaves the child and the
 * controllers enabled. No process can enter the cgroup again, until a
 * systemd scope or a container removes it as it ends. The undo also
 * stops when another child of the cgroup has enabled the controllers
 * for its own children, which the kernel then refuses to turn off.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/internal.h"

/* What this process changed, for the undo at exit. */
static struct {
	bool moved;
	pid_t owner;	   /* the process that moved, and undoes it */
	char dir[256];	   /* the delegated cgroup */
	char child[300];   /* where runbundle's processes went */
	char enabled[32];  /* the controllers turned on, "+pids +memory" */
	pid_t pids[4];	   /* the processes moved */
	int n_pids;
} room;

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool starts = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';

		if (starts && ends)
			return true;
	}
	return false;
}

static bool read_file(const char *dir, const char *name, char *buf,
		      size_t len)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sandbox_read_text(path, buf, len) >= 0;
}

/* Return whether pid runs this process's executable: runbundle. */
static bool is_runbundle(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Return the parent of pid, from /proc/PID/stat, or 0. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *end;
	int ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (sandbox_read_text(path, buf, sizeof(buf)) < 0)
		return 0;
	/* The name in parentheses may contain anything, so the fields are
	 * read after its last ')': the state, then the parent. */
	end = strrchr(buf, ')');
	if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* Return whether pid is this process, or a runbundle process next to
 * it: its parent or a child. */
static bool is_ours(pid_t pid)
{
	if (pid == getpid())
		return true;
	return (pid == getppid() || parent_of(pid) == getpid()) &&
	       is_runbundle(pid);
}

/* Collect the processes of dir into room.pids, and return whether all
 * of them are ours. */
static bool only_ours(const char *dir)
{
	char buf[256], *line, *save = NULL;
	size_t max = sizeof(room.pids) / sizeof(room.pids[0]);

	if (!read_file(dir, "cgroup.procs", buf, sizeof(buf)))
		return false;
	room.n_pids = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		pid_t pid = (pid_t)atoi(line);

		if (!is_ours(pid) || (size_t)room.n_pids == max)
			return false;
		room.pids[room.n_pids++] = pid;
	}
	return room.n_pids > 0;
}

/*
 * Move the processes of room.pids to dir. With known_only, move only
 * those that are still what they were: this one, its parent, its
 * children. A PID that no longer names this process's parent or child,
 * such as a reaped init's, may belong to another process by now.
 */
static int move_all(const char *dir, bool known_only)
{
	char path[320], pid[16];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int i = 0; i < room.n_pids; i++) {
		pid_t p = room.pids[i];

		if (known_only && p != getpid() && p != getppid() &&
		    parent_of(p) != getpid())
			continue;
		snprintf(pid, sizeof(pid), "%d", (int)p);
		/* One that has exited since is in no cgroup. */
		if (sandbox_write_file(path, pid) < 0 && errno != ESRCH)
			rc = -1;
	}
	return rc;
}

/* Write into out the controllers of "pids memory" that dir does not
 * enable yet, in the form "+pids +memory". */
static void missing(const char *dir, char *out, size_t len)
{
	char buf[256] = "";

	read_file(dir, "cgroup.subtree_control", buf, sizeof(buf));
	snprintf(out, len, "%s%s%s", has_word(buf, "pids") ? "" : "+pids",
		 !has_word(buf, "pids") && !has_word(buf, "memory") ? " " : "",
		 has_word(buf, "memory") ? "" : "+memory");
}

static void undo(void)
{
	char path[320], off[32];

	/* A process cloned later (the sandbox's init of a later run)
	 * inherits the handler, and must not undo the move for its
	 * parent. */
	if (!room.moved || getpid() != room.owner)
		return;
	room.moved = false;
	snprintf(off, sizeof(off), "%s", room.enabled);
	for (char *p = off; (p = strchr(p, '+')); p++)
		*p = '-';
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", room.dir);
	if (sandbox_write_file(path, off) == 0 &&
	    move_all(room.dir, true) == 0)
		rmdir(room.child);
}

static int move_out(const char *dir)
{
	char path[320];

	snprintf(room.child, sizeof(room.child), "%s/runbundle-%d.caller",
		 dir, (int)getpid());
	if (mkdir(room.child, 0755) < 0)
		return -1;
	if (move_all(room.child, false) < 0)
		goto back;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (sandbox_write_file(path, room.enabled) < 0)
		goto back;
	return 0;
back:
	move_all(dir, false);
	rmdir(room.child);
	return -1;
}

const char *sandbox_cgroup2_room(const char *own)
{
	char buf[256];

	/* Moved already, for an earlier run of this process. */
	if (room.moved && strcmp(own, room.child) == 0)
		return room.dir;
	if (room.moved || access(own, W_OK) < 0)
		return NULL;
	if (!read_file(own, "cgroup.controllers", buf, sizeof(buf)) ||
	    !has_word(buf, "pids") || !has_word(buf, "memory"))
		return NULL;
	missing(own, room.enabled, sizeof(room.enabled));
	if (!room.enabled[0])
		return own;
	if (!only_ours(own) || move_out(own) < 0)
		return NULL;

	snprintf(room.dir, sizeof(room.dir), "%s", own);
	room.owner = getpid();
	room.moved = true;
	atexit(undo);
	return own;
}
