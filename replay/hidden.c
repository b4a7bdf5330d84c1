/*
 * hidden.c - the hidden parts of a recorded workspace (hidden.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/hidden.h"
#include "replay/sockets.h"

/* Make one part: mode 0700 or 0600, since the sandbox shows none of it
 * to the agent. */
static void make_one(int dirfd, const char *path, bool directory)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int parent = replay_open_parent(dirfd, path), fd;

	if (parent < 0)
		return;
	if (directory) {
		mkdirat(parent, name, 0700);
	} else {
		fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL |
						  O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0)
			close(fd);
	}
	close(parent);
}

int replay_make_hidden(const struct replay_run *run, const char *dir)
{
	const cJSON *parts = cJSON_GetObjectItem(run->record, "hidden");
	const cJSON *part;
	int dirfd;

	if (!cJSON_IsArray(parts))
		return 0;
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		replay_set_error("cannot open the workspace: '%s': %s", dir,
				 strerror(errno));
		return -1;
	}
	cJSON_ArrayForEach(part, parts) {
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItem(part, "path"));
		const char *type = cJSON_GetStringValue(
			cJSON_GetObjectItem(part, "type"));

		if (path && type && strcmp(path, ".") != 0)
			make_one(dirfd, path, strcmp(type, "directory") == 0);
	}
	close(dirfd);
	return 0;
}
