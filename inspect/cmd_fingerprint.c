/*
 * cmd_fingerprint.c - "runbundle fingerprint".
 */
#include "cli/cli.h"
#include "inspect/commands.h"

int cmd_fingerprint(int argc, char **argv, const struct cli_command *self)
{
	(void)argc;
	(void)argv;
	cli_error("%s: not implemented yet", self->name);
	return CLI_EXIT_ERROR;
}
