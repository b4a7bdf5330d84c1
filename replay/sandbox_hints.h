/*
 * sandbox_hints.h - the cause and the fix of the differences between a
 * recorded sandbox and a replay's that the replay cannot rebuild.
 */
#ifndef REPLAY_SANDBOX_HINTS_H
#define REPLAY_SANDBOX_HINTS_H

#include <cjson/cJSON.h>

/*
 * Return one "hint: ..." line, with the cause and the fix, for each
 * difference between the recorded and the present sandbox description
 * that comes from the host or the replaying user, not from the policy.
 * These are a limit that one side enforced with a cgroup and the other
 * with an rlimit, vm.memfd_noexec, which only host root can set, and an
 * older Landlock ABI. Return "" when there is none, and NULL when out
 * of memory. The caller frees.
 */
char *replay_sandbox_hints(const cJSON *recorded, const cJSON *present);

#endif
