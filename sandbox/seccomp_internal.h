/*
 * seccomp_internal.h - what seccomp.c, seccomp_supervisor.c,
 * seccomp_report.c and the build-time compiler seccomp_gen.c share. Not
 * part of the public interface (seccomp.h).
 */
#ifndef SANDBOX_SECCOMP_INTERNAL_H
#define SANDBOX_SECCOMP_INTERNAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "sandbox/seccomp.h"

/* One BPF program: the guard followed by libseccomp's instructions. */
struct sandbox_seccomp_program {
	const struct sock_filter *insns;
	size_t len;
};

/* The number of combinations of struct sandbox_seccomp_options. */
#define SANDBOX_SECCOMP_COMBINATIONS 32

/*
 * The program of each combination of options, compiled at build time by
 * seccomp_gen.c, in the order of sandbox_seccomp_option_index(), and the
 * version of libseccomp that compiled them ("2.5.4"). A program with len
 * 0 failed to compile there and is compiled at run time. Defined by the
 * generated seccomp_builtin.c, and by seccomp_builtin_none.c, which
 * has no programs, in seccomp_gen itself.
 */
extern const struct sandbox_seccomp_program
	sandbox_seccomp_builtins[SANDBOX_SECCOMP_COMBINATIONS];
extern const char sandbox_seccomp_builtin_version[];

/* Map options to their index below SANDBOX_SECCOMP_COMBINATIONS and
 * back. */
unsigned int sandbox_seccomp_option_index(
	const struct sandbox_seccomp_options *opts);
void sandbox_seccomp_option_set(unsigned int index,
				struct sandbox_seccomp_options *opts);

/*
 * Compile the program for opts with libseccomp now, whatever was
 * compiled at build time. On success out->insns is malloc()ed and owned
 * by the caller. Returns 0, or -1 with a message.
 */
int sandbox_seccomp_compile(const struct sandbox_seccomp_options *opts,
			    struct sandbox_seccomp_program *out);

/* Return whether the call would give a file the set-user-ID or
 * set-group-ID bit (seccomp.h, rule 4c). It reads only the register
 * values in data, as the filter does, so the two agree. */
bool sandbox_seccomp_sets_id_bits(const struct seccomp_data *data);

/* Return whether data is the notification of a reported call
 * (seccomp.h, rule 4b), which gets "continue" and never EPERM. Some
 * calls are reported or denied (rule 4c) by their arguments. */
bool sandbox_seccomp_is_reported(const struct seccomp_data *data);

/*
 * Inspect the notification of a reported call: read its path or address
 * from the process's memory and decide whether it is an attempt worth
 * reporting. Fills *attempt and returns 1 when it is, 0 when it is not
 * or when the process could not be read (it died, say). listener is
 * used to check that the notification is still valid after the read,
 * so that a reused pid is not blamed.
 */
int sandbox_seccomp_inspect(int listener, const struct seccomp_notif *req,
			    struct sandbox_seccomp_attempt *attempt);

#endif
