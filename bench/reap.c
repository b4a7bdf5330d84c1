/*
 * reap.c - run a command as a child subreaper and wait for every
 * process it leaves behind.
 *
 * `runbundle sandbox` exits when the sandbox's init reports the
 * command's status, and init, reparented, exits later. Its CPU time,
 * and that of everything it reaped, would then reach the system's init
 * instead of /usr/bin/time. Under this wrapper it reaches the wrapper,
 * and so /usr/bin/time, which counts the CPU time of the children a
 * process has waited for.
 *
 * usage: reap COMMAND [ARG...]
 * Exits with the command's exit status, or 128 plus its signal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid, done;
	int status, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: reap COMMAND [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "reap: prctl: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "reap: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "reap: '%s': %s\n", argv[1], strerror(errno));
		_exit(127);
	}

	while ((done = wait(&status)) > 0 || errno == EINTR) {
		if (done != pid)
			continue;
		rc = WIFEXITED(status) ? WEXITSTATUS(status)
				       : 128 + WTERMSIG(status);
	}
	return rc;
}
