/*
 * commands.h - the subcommands that re-run recorded runs and compare
 * runs. Each takes the argument vector from its own name on and returns
 * an exit status from enum cli_exit: 0 identical or volatile differences
 * only, 1 diverged, 2 usage, 3 error.
 */
#ifndef REPLAY_COMMANDS_H
#define REPLAY_COMMANDS_H

#include "cli/cli.h"

int cmd_replay(int argc, char **argv, const struct cli_command *self);
int cmd_diff(int argc, char **argv, const struct cli_command *self);

#endif
