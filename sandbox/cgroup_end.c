/*
 * cgroup_end.c - the end of a run's cgroup: how many forks its process
 * limit refused, and its removal.
 *
 * Init does both. It has reaped every process of the run when it
 * reports the agent's status, so it reads the count then and sends it
 * with the status, and removes the cgroup after that, while the caller
 * goes on with the status. In the caller, reading the count and
 * removing the cgroup put 30 to 80 us between the status and its exit
 * (medians of 300 to 400 interleaved runs as root). Init reaches the
 * host's cgroup file system through the parent directory's descriptor,
 * which the caller opened for it, because its own root no longer shows
 * that file system.
 *
 * The caller keeps the path: it reads the count and removes the cgroup
 * itself when init ended without a report, because the caller killed
 * it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

/* How often, and how many microseconds apart, a removal is tried: the
 * kernel may free a cgroup a moment after its last process was reaped,
 * and returns EBUSY until then. */
#define REMOVE_TRIES 100
#define REMOVE_PAUSE_US 1000

/* The count of refused forks in fd, an open pids.events: its "max"
 * line. A read at offset 0 gives the current count. */
static uint64_t read_hits(int fd)
{
	char buf[256];
	const char *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "max ");
	return p ? strtoull(p + 4, NULL, 10) : 0;
}

static void remove_at(int dirfd, const char *path)
{
	for (int i = 0; i < REMOVE_TRIES; i++) {
		if (unlinkat(dirfd, path, AT_REMOVEDIR) == 0 ||
		    errno != EBUSY)
			return;
		usleep(REMOVE_PAUSE_US);
	}
}

uint64_t sandbox_limits_process_hits(const char *cgroup)
{
	char path[320];
	uint64_t hits;
	int fd;

	if (!cgroup[0])
		return 0;
	snprintf(path, sizeof(path), "%s/pids.events", cgroup);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	hits = read_hits(fd);
	close(fd);
	return hits;
}

void sandbox_limits_remove(const char *cgroup)
{
	if (cgroup[0])
		remove_at(AT_FDCWD, cgroup);
}

int sandbox_cgroup_end_open(const struct sandbox_plan *plan, int *fd)
{
	char parent[sizeof(plan->cgroup)];
	char *slash;

	*fd = -1;
	if (!plan->cgroup[0])
		return 0;
	snprintf(parent, sizeof(parent), "%s", plan->cgroup);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	*fd = open(slash ? parent : ".",
		   O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		sandbox_set_error("cannot open the cgroup's parent: '%s': %s",
				  parent, strerror(errno));
		return -1;
	}
	return 0;
}

void sandbox_cgroup_end_take(struct sandbox_cgroup_end *end,
			     const char *cgroup, int parent)
{
	const char *slash = strrchr(cgroup, '/');

	end->parent = parent;
	end->events = -1;
	snprintf(end->name, sizeof(end->name), "%s",
		 slash ? slash + 1 : cgroup);
}

void sandbox_cgroup_end_watch(struct sandbox_cgroup_end *end)
{
	char path[sizeof(end->name) + 16];

	if (end->parent < 0)
		return;
	snprintf(path, sizeof(path), "%s/pids.events", end->name);
	end->events = openat(end->parent, path, O_RDONLY | O_CLOEXEC);
}

uint64_t sandbox_cgroup_end_hits(const struct sandbox_cgroup_end *end)
{
	return end->events >= 0 ? read_hits(end->events) : 0;
}

void sandbox_cgroup_end_remove(struct sandbox_cgroup_end *end)
{
	if (end->events >= 0)
		close(end->events);
	end->events = -1;
	if (end->parent < 0)
		return;
	remove_at(end->parent, end->name);
	close(end->parent);
	end->parent = -1;
}
