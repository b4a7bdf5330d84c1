/*
 * sockets.h - the Unix sockets of a recorded workspace.
 *
 * A socket is a name that a listening process bound, not content: a
 * snapshot keeps its path and mode, and a checkout cannot bring back
 * the listener. A replay therefore binds a socket of its own at each
 * recorded path and closes it at once. A listing of the workspace is
 * then as recorded, and a connect() is refused. The comparison of two
 * runs leaves sockets out.
 *
 * Errors: -1 with the message in replay_error(). Nothing here prints.
 */
#ifndef REPLAY_SOCKETS_H
#define REPLAY_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/tree.h"
#include "replay/replay.h"

/* Open the directory of path below dirfd, resolved without leaving it
 * and without following a symlink. Returns -1 when it is not there. */
int replay_open_parent(int dirfd, const char *path);

/* Whether a snapshot entry is a socket. */
bool replay_entry_is_socket(const struct bundle_tree_entry *e);

/* The sockets of the snapshot root of run: their count, and the first
 * ones' paths in names (len bytes), separated by ", ". -1 when the
 * snapshot cannot be read. */
long replay_run_sockets(const struct replay_run *run,
			const struct bundle_id *root, char *names, size_t len);

/*
 * Bind and close a socket at each socket path of the snapshot root in
 * dir, its checkout, with the recorded permission bits. A path that
 * leads through a symlink, or that a socket address cannot hold, is
 * left out, as checkout leaves it out. Returns 0, or -1.
 */
int replay_make_sockets(const struct replay_run *run,
			const struct bundle_id *root, const char *dir);

#endif
