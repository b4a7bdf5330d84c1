/*
 * cmd_trace.c - "runbundle trace".
 */
#include "cli/cli.h"
#include "record/commands.h"

int cmd_trace(int argc, char **argv, const struct cli_command *self)
{
	(void)argc;
	(void)argv;
	cli_error("%s: not implemented yet", self->name);
	return CLI_EXIT_ERROR;
}
