/*
 * evade_helper.c - programs that try to run a command out of the
 * tracer's sight: evade_helper CASE PROGRAM. Each prints "blocked: ..."
 * and exits 0 when the attempt failed, and otherwise runs PROGRAM with
 * the one argument "unseen" (the test then looks for it in the tree).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int blocked(const char *what)
{
	printf("blocked: %s: %s\n", what, strerror(errno));
	return 0;
}

static int listener = -1;

/* Let every notified call go on, which skips the tracer's stop. */
static void *answer(void *arg)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	(void)arg;
	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			return NULL;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

/* A filter of this thread's own notifies execve, and a user
 * notification outranks the tracer's SECCOMP_RET_TRACE. */
static int case_notify(const char *program)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	pthread_t thread;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return blocked("no_new_privs");
	/* Without TSYNC, only this thread gets the filter. */
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0)
		return blocked("seccomp listener");
	errno = pthread_create(&thread, NULL, answer, NULL);
	if (errno)
		return blocked("pthread_create");
	execl(program, program, "unseen", (char *)NULL);
	return blocked("execl");
}

/* The child of CLONE_UNTRACED is not attached to the tracer. Its
 * parent seizes it instead and lets its exec's stop through. */
static int untraced_child(long pid, const char *program)
{
	int status;

	if (pid == 0) {
		raise(SIGSTOP);
		execl(program, program, "unseen", (char *)NULL);
		_exit(127);
	}
	if (waitpid((pid_t)pid, &status, WUNTRACED) < 0)
		return blocked("waitpid");
	if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0,
		   PTRACE_O_TRACESECCOMP) < 0) {
		kill((pid_t)pid, SIGKILL);
		return blocked("ptrace");
	}
	kill((pid_t)pid, SIGCONT);
	while (waitpid((pid_t)pid, &status, __WALL) == pid &&
	       WIFSTOPPED(status)) {
		int sig = WSTOPSIG(status);

		if (status >> 16 || sig == SIGTRAP || sig == SIGCONT)
			sig = 0;
		ptrace(PTRACE_CONT, (pid_t)pid, 0, (void *)(long)sig);
	}
	return 0;
}

static int case_untraced(const char *program)
{
	long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);

	if (pid < 0)
		return blocked("clone");
	return untraced_child(pid, program);
}

static int case_untraced3(const char *program)
{
	struct clone_args args = {
		.flags = CLONE_UNTRACED,
		.exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0)
		return blocked("clone3");
	return untraced_child(pid, program);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: evade_helper CASE PROGRAM\n");
		return 2;
	}
	if (!strcmp(argv[1], "notify"))
		return case_notify(argv[2]);
	if (!strcmp(argv[1], "untraced"))
		return case_untraced(argv[2]);
	if (!strcmp(argv[1], "untraced3"))
		return case_untraced3(argv[2]);
	fprintf(stderr, "evade_helper: unknown case: '%s'\n", argv[1]);
	return 2;
}
