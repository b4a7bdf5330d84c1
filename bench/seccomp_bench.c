/*
 * seccomp_bench.c - the cost of the sandbox's system call filter.
 *
 * Prints the fastest of 11 runs of the time per call, because on a
 * shared machine the other runs measure the neighbours as well:
 *
 *	getpid   allowed: bare, then under the filter
 *	ptrace   denied: EPERM from the filter itself, then through the
 *		 supervisor's listener (a round trip to another thread)
 *
 * and, as root, the number of BPF instructions the kernel runs for a few
 * common calls, which the load of the machine cannot blur. For that it
 * reads the loaded program back with PTRACE_SECCOMP_GET_FILTER and runs
 * it in a small classic BPF interpreter.
 *
 * Usage: seccomp_bench [CALLS]   (default 2000000 allowed calls; denied
 * calls through the supervisor run CALLS / 100 times)
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/seccomp.h"

#define RUNS 11

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The minimum nanoseconds per call of syscall nr over RUNS runs. */
static double time_call(long nr, long calls)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double start = now_ns();

		for (long i = 0; i < calls; i++)
			syscall(nr, 0, 0, 0, 0);
		runs[r] = (now_ns() - start) / (double)calls;
	}
	qsort(runs, RUNS, sizeof(runs[0]), compare);
	return runs[0];
}

static int send_fd(int sock, int fd)
{
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(cmsg) = fd;
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	return cmsg ? *(int *)CMSG_DATA(cmsg) : -1;
}

static void child(int sock, long calls)
{
	struct sandbox_seccomp_options opts = { .notify = true };
	double bare = time_call(SYS_getpid, calls);
	double filtered, denied;
	int listener;

	if (sandbox_seccomp_load(&opts, &listener) < 0) {
		fprintf(stderr, "seccomp_bench: %s\n", sandbox_error());
		_exit(1);
	}
	if (send_fd(sock, listener) < 0)
		_exit(1);
	close(listener);
	filtered = time_call(SYS_getpid, calls);
	denied = time_call(SYS_ptrace, calls / 100);
	printf("getpid, no filter          %8.1f ns\n", bare);
	printf("getpid, filter             %8.1f ns\n", filtered);
	printf("ptrace denied, supervisor  %8.1f ns\n", denied);
	fflush(stdout);
	_exit(0);
}

static void child_errno(long calls)
{
	struct sandbox_seccomp_options opts = { .notify = false };

	if (sandbox_seccomp_load(&opts, NULL) < 0)
		_exit(1);
	printf("ptrace denied, filter only %8.1f ns\n",
	       time_call(SYS_ptrace, calls));
	fflush(stdout);
	_exit(0);
}

/* Run prog on data and return the number of instructions executed, or
 * -1 for an instruction this interpreter does not know. */
static int count_insns(const struct sock_filter *prog, long len,
		       const struct seccomp_data *data)
{
	uint32_t a = 0;
	int count = 0;

	for (long pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		bool taken;

		count++;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&a, (const char *)data + f->k, 4);
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			continue;
		case BPF_RET | BPF_K:
			return count;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			continue;
		case BPF_JMP | BPF_JEQ | BPF_K:
			taken = a == f->k;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			taken = a > f->k;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			taken = a >= f->k;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			taken = (a & f->k) != 0;
			break;
		default:
			return -1;
		}
		pc += taken ? f->jt : f->jf;
	}
	return -1;
}

static void print_path_lengths(void)
{
	static const struct {
		const char *name;
		int nr;
	} calls[] = {
		{ "read", SYS_read }, { "write", SYS_write },
		{ "openat", SYS_openat }, { "futex", SYS_futex },
		{ "getpid", SYS_getpid }, { "ioctl", SYS_ioctl },
		{ "ptrace", SYS_ptrace },
	};
	static struct sock_filter prog[4096];
	struct sandbox_seccomp_options opts = { .notify = true };
	int go[2];
	long len;
	char byte;
	pid_t pid;

	if (geteuid() != 0 || pipe(go) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int listener;

		if (sandbox_seccomp_load(&opts, &listener) < 0 ||
		    write(go[1], "l", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(go[0], &byte, 1) != 1 ||
	    ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, NULL, 0) != pid)
		return;
	len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, prog);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (len <= 0)
		return;

	printf("program                    %8ld instructions\n", len);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct seccomp_data data = {
			.nr = calls[i].nr,
			.arch = AUDIT_ARCH_X86_64,
		};

		printf("path of %-18s %8d instructions\n", calls[i].name,
		       count_insns(prog, len, &data));
	}
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 2000000;
	struct sandbox_seccomp_supervisor *sup;
	int sv[2];
	pid_t pid;

	if (calls < 100 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 2;
	pid = fork();
	if (pid == 0)
		child(sv[1], calls);
	sup = sandbox_seccomp_supervisor_start(recv_fd(sv[0]), NULL, NULL);
	if (!sup) {
		fprintf(stderr, "seccomp_bench: %s\n", sandbox_error());
		return 1;
	}
	waitpid(pid, NULL, 0);
	sandbox_seccomp_supervisor_free(sup);

	pid = fork();
	if (pid == 0)
		child_errno(calls);
	waitpid(pid, NULL, 0);

	print_path_lengths();
	return 0;
}
