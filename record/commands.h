/*
 * commands.h - the subcommands that run things and write bundles. Each
 * takes the argument vector from its own name on and returns an exit
 * status from enum cli_exit, or the child's status where its help states it.
 */
#ifndef RECORD_COMMANDS_H
#define RECORD_COMMANDS_H

#include "cli/cli.h"

int cmd_snapshot(int argc, char **argv, const struct cli_command *self);
int cmd_sandbox(int argc, char **argv, const struct cli_command *self);
int cmd_gateway(int argc, char **argv, const struct cli_command *self);
int cmd_trace(int argc, char **argv, const struct cli_command *self);
int cmd_record(int argc, char **argv, const struct cli_command *self);
int cmd_demo(int argc, char **argv, const struct cli_command *self);

#endif
