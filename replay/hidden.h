/*
 * hidden.h - the hidden parts of a recorded workspace.
 *
 * No snapshot has the parts that the policy's workspace.hidden covers:
 * the bundle must not reveal what the agent could not read. The sandbox
 * covers only a part that exists, so a checkout without it would show
 * the agent no part at all where the recording showed an empty,
 * unreadable one. The "record" event lists the parts that existed when
 * the run started, with their types, and a replay makes an empty file
 * or directory at each for its sandbox to cover.
 *
 * Errors: -1 with the message in replay_error(). Nothing here prints.
 */
#ifndef REPLAY_HIDDEN_H
#define REPLAY_HIDDEN_H

#include "replay/replay.h"

/*
 * Make an empty file or directory at each hidden part that the record
 * event of run lists, in dir, a checkout. A part whose directory is not
 * there, or lies through a symlink, is left out, as is one that the
 * checkout has already. Returns 0, or -1 when dir cannot be opened.
 */
int replay_make_hidden(const struct replay_run *run, const char *dir);

#endif
