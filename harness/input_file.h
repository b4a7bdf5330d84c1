/*
 * input_file.h - opening a file that the user named as input (a policy,
 * gate rules, a fingerprint, recorded exchanges, an archive).
 */
#ifndef HARNESS_INPUT_FILE_H
#define HARNESS_INPUT_FILE_H

#include <stdio.h>

/*
 * Open path read-only when it is a regular file. The open does not
 * block, so a FIFO with no writer cannot hang the caller, and fstat()
 * of the open file then rejects everything but a regular file. Returns
 * the descriptor (close-on-exec), or -1 with *reason set to
 * strerror(errno), or "not a regular file". The descriptor keeps
 * O_NONBLOCK, which reads of a regular file ignore.
 */
int harness_open_input(const char *path, const char **reason);

/* harness_open_input() as a stdio stream, or NULL with *reason set. */
FILE *harness_fopen_input(const char *path, const char **reason);

#endif
