/*
 * seccomp_builtin_none.c - no programs compiled at build time, for
 * seccomp_gen itself, which compiles them (seccomp_internal.h).
 */
#include "sandbox/seccomp_internal.h"

const struct sandbox_seccomp_program
	sandbox_seccomp_builtins[SANDBOX_SECCOMP_COMBINATIONS];
const char sandbox_seccomp_builtin_version[] = "";
