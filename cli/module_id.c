/*
 * module_id.c - the build id of the commands module, which the
 * executable compares with its own before it runs a command from the
 * module (cli/main.c).
 */
#include "module_config.h"

extern const char runbundle_module_build[];
const char runbundle_module_build[] = RUNBUNDLE_BUILD_ID;
