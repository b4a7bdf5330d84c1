/*
 * commands.h - the read-only subcommands over bundles and this machine.
 * Each takes the argument vector from its own name on and returns an exit
 * status from enum cli_exit.
 */
#ifndef INSPECT_COMMANDS_H
#define INSPECT_COMMANDS_H

#include "cli/cli.h"

int cmd_verify(int argc, char **argv, const struct cli_command *self);
int cmd_checkout(int argc, char **argv, const struct cli_command *self);
int cmd_fingerprint(int argc, char **argv, const struct cli_command *self);
int cmd_inspect(int argc, char **argv, const struct cli_command *self);
int cmd_log(int argc, char **argv, const struct cli_command *self);
int cmd_show(int argc, char **argv, const struct cli_command *self);
int cmd_patch(int argc, char **argv, const struct cli_command *self);
int cmd_ls(int argc, char **argv, const struct cli_command *self);
int cmd_cat(int argc, char **argv, const struct cli_command *self);
int cmd_export(int argc, char **argv, const struct cli_command *self);
int cmd_export_bundle(int argc, char **argv,
		      const struct cli_command *self);
int cmd_import(int argc, char **argv, const struct cli_command *self);
int cmd_gate(int argc, char **argv, const struct cli_command *self);
int cmd_apply(int argc, char **argv, const struct cli_command *self);
int cmd_report(int argc, char **argv, const struct cli_command *self);

#endif
