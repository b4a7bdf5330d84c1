/*
 * test_seccomp.c - the system call filter, loaded in real child
 * processes, with the supervisor on the test's side of a socketpair.
 *
 * Each case forks a child that loads the filter, hands the listener
 * over with SCM_RIGHTS, makes one system call and writes back the errno
 * it got. Only the parent asserts. tests/sandbox/seccomp_unpriv.sh runs
 * this program again as the unprivileged test user.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "sandbox/error.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_internal.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* What a child reports: the return value and errno of its call. */
struct outcome {
	long rc;
	int error;
};

/* A finished child run: its report, how it ended, what was counted. */
struct run {
	bool reported;
	struct outcome outcome;
	int status;
	pid_t pid;
	uint64_t count;
	struct sandbox_seccomp_violation *violations;
	ssize_t stored;
	int callbacks;		/* calls of the violation callback */
	int attempts;		/* reported attempts */
	struct sandbox_seccomp_attempt attempt;	/* the last one */
	char attempt_syscall[32];
};

typedef long (*probe_fn)(void *arg);

static int send_fd(int sock, int fd)
{
	char data = 'L';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* The child's side: load, hand the listener over, probe, report. */
static void child_main(int sock, const struct sandbox_seccomp_options *opts,
		       probe_fn probe, void *arg)
{
	struct outcome out = { 0 };
	int listener = -1;

	if (sandbox_seccomp_load(opts, opts->notify ? &listener : NULL) < 0) {
		fprintf(stderr, "child: %s\n", sandbox_error());
		_exit(100);
	}
	if (opts->notify) {
		if (send_fd(sock, listener) < 0)
			_exit(101);
		close(listener);
	}
	errno = 0;
	out.rc = probe(arg);
	out.error = errno;
	if (write(sock, &out, sizeof(out)) != sizeof(out))
		_exit(102);
	_exit(0);
}

static void count_callback(const struct sandbox_seccomp_violation *v,
			   void *arg)
{
	struct run *run = arg;

	if (v->attempt) {
		assert_int_equal(v->error, 0);
		run->attempts++;
		run->attempt = *v->attempt;
		snprintf(run->attempt_syscall, sizeof(run->attempt_syscall),
			 "%s", v->syscall);
	} else if (v->error == EPERM) {
		run->callbacks++;
	}
}

/*
 * Run probe in a filtered child. With supervise false and notify on,
 * the parent closes the listener unanswered.
 */
static void run_probe_with(const struct sandbox_seccomp_options *opts,
			   probe_fn probe, void *arg, bool supervise,
			   struct run *run)
{
	struct sandbox_seccomp_supervisor *sup = NULL;
	int sv[2];

	memset(run, 0, sizeof(*run));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	run->pid = fork();
	assert_true(run->pid >= 0);
	if (run->pid == 0) {
		close(sv[0]);
		child_main(sv[1], opts, probe, arg);
	}
	close(sv[1]);

	if (opts->notify) {
		int listener = recv_fd(sv[0]);

		assert_true(listener >= 0);
		if (supervise) {
			sup = sandbox_seccomp_supervisor_start(
				listener, count_callback, run);
			assert_non_null(sup);
		} else {
			close(listener);
		}
	}
	run->reported = read(sv[0], &run->outcome, sizeof(run->outcome)) ==
			sizeof(run->outcome);
	assert_int_equal(waitpid(run->pid, &run->status, 0), run->pid);
	close(sv[0]);

	if (sup) {
		run->count = sandbox_seccomp_supervisor_count(sup);
		run->stored = sandbox_seccomp_supervisor_violations(
			sup, &run->violations);
		sandbox_seccomp_supervisor_free(sup);
	}
}

static void run_probe(const struct sandbox_seccomp_options *opts,
		      probe_fn probe, void *arg, struct run *run)
{
	run_probe_with(opts, probe, arg, true, run);
}

static const struct sandbox_seccomp_options notify_opts = { .notify = true };

/* A system call with up to six arguments, for the table below. */
struct call {
	const char *name;	/* as the supervisor must name it */
	long nr;
	long args[6];
	int expected;		/* errno */
};

static long probe_call(void *arg)
{
	const struct call *c = arg;
	long rc = syscall(c->nr, c->args[0], c->args[1], c->args[2],
			  c->args[3], c->args[4], c->args[5]);

	/* A clone that went through must not run the rest of the test. */
	if (rc == 0 && c->nr == SYS_clone)
		_exit(0);
	return rc;
}

static void assert_denied_with(const struct sandbox_seccomp_options *opts,
			       const struct call *c)
{
	struct run run;

	run_probe(opts, probe_call, (void *)c, &run);
	if (!run.reported || run.outcome.error != c->expected)
		print_error("%s: rc %ld, errno %d (%s), status %#x\n", c->name,
			    run.outcome.rc, run.outcome.error,
			    strerror(run.outcome.error), run.status);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, c->expected);
	assert_int_equal(run.count, 1);
	assert_int_equal(run.stored, 1);
	assert_int_equal(run.callbacks, 1);
	assert_string_equal(run.violations[0].syscall, c->name);
	assert_int_equal(run.violations[0].pid, run.pid);
	assert_int_equal(run.violations[0].error, EPERM);
	for (int i = 0; i < 6; i++)
		assert_int_equal(run.violations[0].args[i],
				 (uint64_t)c->args[i]);
	free(run.violations);
}

static void assert_denied(const struct call *c)
{
	assert_denied_with(&notify_opts, c);
}

#define HIGH_BITS (1L << 32)

static const struct call denied[] = {
	{ "ptrace", SYS_ptrace, { PTRACE_TRACEME }, EPERM },
	{ "process_vm_readv", SYS_process_vm_readv, { 1 }, EPERM },
	{ "process_vm_writev", SYS_process_vm_writev, { 1 }, EPERM },
	{ "pidfd_getfd", SYS_pidfd_getfd, { -1, 0, 0 }, EPERM },
	{ "mount", SYS_mount, { 0 }, EPERM },
	{ "umount2", SYS_umount2, { 0 }, EPERM },
	{ "pivot_root", SYS_pivot_root, { 0 }, EPERM },
	{ "fsopen", SYS_fsopen, { 0 }, EPERM },
	{ "fsmount", SYS_fsmount, { -1 }, EPERM },
	{ "fsconfig", SYS_fsconfig, { -1 }, EPERM },
	{ "move_mount", SYS_move_mount, { -1 }, EPERM },
	{ "open_tree", SYS_open_tree, { -1 }, EPERM },
	{ "fspick", SYS_fspick, { -1 }, EPERM },
	{ "mount_setattr", SYS_mount_setattr, { -1 }, EPERM },
	{ "setns", SYS_setns, { -1, 0 }, EPERM },
	{ "unshare", SYS_unshare, { CLONE_NEWUSER }, EPERM },
	{ "unshare", SYS_unshare, { CLONE_NEWNS }, EPERM },
	{ "unshare", SYS_unshare, { CLONE_NEWNET | CLONE_FILES }, EPERM },
	{ "unshare", SYS_unshare, { CLONE_NEWTIME }, EPERM },
	{ "clone", SYS_clone, { CLONE_NEWUSER | SIGCHLD }, EPERM },
	{ "clone", SYS_clone, { CLONE_NEWPID | SIGCHLD }, EPERM },
	{ "bpf", SYS_bpf, { 0 }, EPERM },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 }, EPERM },
	{ "kexec_load", SYS_kexec_load, { 0 }, EPERM },
	{ "kexec_file_load", SYS_kexec_file_load, { -1, -1 }, EPERM },
	{ "init_module", SYS_init_module, { 0 }, EPERM },
	{ "finit_module", SYS_finit_module, { -1 }, EPERM },
	{ "delete_module", SYS_delete_module, { 0 }, EPERM },
	{ "keyctl", SYS_keyctl, { 0 }, EPERM },
	{ "add_key", SYS_add_key, { 0 }, EPERM },
	{ "request_key", SYS_request_key, { 0 }, EPERM },
	{ "io_uring_setup", SYS_io_uring_setup, { 1, 0 }, EPERM },
	{ "io_uring_enter", SYS_io_uring_enter, { -1 }, EPERM },
	{ "io_uring_register", SYS_io_uring_register, { -1 }, EPERM },
	{ "userfaultfd", SYS_userfaultfd, { 0 }, EPERM },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 }, EPERM },
	{ "ioctl", SYS_ioctl, { 0, TIOCSTI, 0 }, EPERM },
	{ "ioctl", SYS_ioctl, { 0, TIOCSTI | HIGH_BITS, 0 }, EPERM },
	{ "ioctl", SYS_ioctl, { 0, TIOCSTI | 0x7fffffff00000000L }, EPERM },
	{ "ioctl", SYS_ioctl, { 0, TIOCLINUX, 0 }, EPERM },
	{ "ioctl", SYS_ioctl, { 0, TIOCLINUX | HIGH_BITS, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_VSOCK, SOCK_STREAM, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_PACKET, SOCK_RAW, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_UNSPEC, SOCK_STREAM, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_KEY, SOCK_RAW, 2 }, EPERM },
	{ "socket", SYS_socket, { AF_BLUETOOTH, SOCK_STREAM, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_ALG, SOCK_SEQPACKET, 0 }, EPERM },
	{ "socket", SYS_socket, { AF_INET | HIGH_BITS, SOCK_STREAM }, EPERM },
	{ "socket", SYS_socket, { AF_VSOCK | HIGH_BITS, SOCK_STREAM }, EPERM },
	{ "socket", SYS_socket, { AF_NETLINK, SOCK_RAW, NETLINK_AUDIT },
	  EPERM },
	{ "socket", SYS_socket,
	  { AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT }, EPERM },
	{ "socketpair", SYS_socketpair, { AF_VSOCK, SOCK_STREAM, 0, 0 },
	  EPERM },
};

static void denied_calls_fail_counted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		assert_denied(&denied[i]);
}

/* Calls the filter must let through, each with a file descriptor or a
 * child to clean up. */
static long probe_allowed(void *arg)
{
	static const int families[][3] = {
		{ AF_UNIX, SOCK_STREAM, 0 },
		{ AF_INET, SOCK_STREAM, 0 },
		{ AF_INET6, SOCK_DGRAM, 0 },
		{ AF_NETLINK, SOCK_RAW, NETLINK_ROUTE },
	};
	int pipefd[2];
	int avail;
	pid_t pid;

	(void)arg;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int fd = socket(families[i][0], families[i][1] | SOCK_CLOEXEC,
				families[i][2]);

		if (fd < 0)
			return -10 - (long)i;
		close(fd);
	}
	if (pipe(pipefd) < 0 || ioctl(pipefd[0], FIONREAD, &avail) < 0)
		return -20;
	if (unshare(CLONE_FILES) < 0)
		return -21;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		return -22;
	return 0;
}

static void allowed_calls_pass_uncounted(void **state)
{
	struct run run;

	(void)state;
	run_probe(&notify_opts, probe_allowed, NULL, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, 0);
	assert_int_equal(run.count, 0);
	assert_int_equal(run.stored, 0);
}

static void clone3_fails_enosys_uncounted(void **state)
{
	struct call c = { "clone3", SYS_clone3, { 0, 0 }, ENOSYS };
	struct run run;

	(void)state;
	run_probe(&notify_opts, probe_call, &c, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, ENOSYS);
	assert_int_equal(run.count, 0);
}

static void errno_mode_denies_without_listener(void **state)
{
	struct sandbox_seccomp_options opts = { .notify = false };
	struct call c = { "ptrace", SYS_ptrace, { PTRACE_TRACEME }, EPERM };
	struct run run;

	(void)state;
	run_probe(&opts, probe_call, &c, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, EPERM);
}

static void closed_listener_fails_enosys(void **state)
{
	struct call c = { "ptrace", SYS_ptrace, { PTRACE_TRACEME }, EPERM };
	struct run run;

	(void)state;
	run_probe_with(&notify_opts, probe_call, &c, false, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, ENOSYS);
}

#define MANY_DENIALS (SANDBOX_SECCOMP_MAX_STORED + 76)

static long probe_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < MANY_DENIALS; i++) {
		if (syscall(SYS_ptrace, PTRACE_TRACEME, i, 0, 0) != -1 ||
		    errno != EPERM)
			return -1;
	}
	return 0;
}

static void stored_violations_are_bounded(void **state)
{
	struct run run;

	(void)state;
	run_probe(&notify_opts, probe_many, NULL, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, 0);
	assert_int_equal(run.count, MANY_DENIALS);
	assert_int_equal(run.callbacks, MANY_DENIALS);
	assert_int_equal(run.stored, SANDBOX_SECCOMP_MAX_STORED);
	assert_int_equal(run.violations[7].args[1], 7);
	free(run.violations);
}

static void assert_killed_by_sigsys(const struct run *run)
{
	assert_false(run->reported);
	assert_true(WIFSIGNALED(run->status));
	assert_int_equal(WTERMSIG(run->status), SIGSYS);
}

static long probe_x32(void *arg)
{
	long bits = (long)(intptr_t)arg;

	return syscall(0x40000000L | bits | SYS_getpid);
}

static void x32_syscall_kills_process(void **state)
{
	struct run run;

	(void)state;
	run_probe(&notify_opts, probe_x32, NULL, &run);
	assert_killed_by_sigsys(&run);

	/* Upper bits do not hide the x32 bit: the kernel and the filter
	 * read the number as 32 bits. */
	run_probe(&notify_opts, probe_x32, (void *)(intptr_t)(1L << 40), &run);
	assert_killed_by_sigsys(&run);
	assert_int_equal(run.count, 0);
}

/* getpid through the i386 entry point, which a 64-bit process can still
 * use when the kernel has IA-32 emulation. */
static long i386_getpid(void)
{
	long rc = 20;	/* __NR_getpid in the i386 table */

	__asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
	return rc;
}

static long probe_i386(void *arg)
{
	(void)arg;
	return i386_getpid();
}

static bool i386_entry_works(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(i386_getpid() == getpid() ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void foreign_arch_kills_process(void **state)
{
	struct run run;

	(void)state;
	if (!i386_entry_works())
		skip();
	run_probe(&notify_opts, probe_i386, NULL, &run);
	assert_killed_by_sigsys(&run);
}

static long probe_nested(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	return mount("none", "/tmp", "tmpfs", 0, NULL);
}

static bool userns_works(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void nested_userns_allowed_on_request(void **state)
{
	struct sandbox_seccomp_options opts = {
		.notify = true,
		.allow_nested_userns = true,
	};
	struct run run;

	(void)state;
	if (!userns_works())
		skip();
	run_probe(&opts, probe_nested, NULL, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, 0);
	assert_int_equal(run.count, 0);

	/* The option opens namespaces and mounts, nothing else. */
	assert_denied(&denied[0]);
}

static void trace_exec_without_tracer_fails(void **state)
{
	struct sandbox_seccomp_options opts = { .trace_exec = true };
	char *argv[] = { "true", NULL };
	struct call c = { "execve", SYS_execve,
			  { (long)"/bin/true", (long)argv, 0 }, ENOSYS };
	struct run run;

	(void)state;
	run_probe(&opts, probe_call, &c, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, ENOSYS);
}

/* Wait for the traced child's next stop; returns its status. */
static int wait_stop(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void trace_exec_stops_tracer_at_exec(void **state)
{
	struct sandbox_seccomp_options opts = { .trace_exec = true };
	struct __ptrace_syscall_info info;
	int go[2];
	int status;
	int seccomp_stops = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char byte;

		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(100);
		if (sandbox_seccomp_load(&opts, NULL) < 0)
			_exit(101);
		getpid();
		execl("/bin/true", "true", (char *)NULL);
		_exit(102);
	}
	close(go[0]);
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, 0,
				PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);

	for (;;) {
		status = wait_stop(pid);
		if (!WIFSTOPPED(status))
			break;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
			seccomp_stops++;
			assert_true(ptrace(PTRACE_GET_SYSCALL_INFO, pid,
					   sizeof(info), &info) > 0);
			assert_int_equal(info.op, PTRACE_SYSCALL_INFO_SECCOMP);
			assert_int_equal(info.seccomp.nr, SYS_execve);
		}
		assert_int_equal(ptrace(PTRACE_CONT, pid, 0, 0), 0);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(seccomp_stops, 1);
}

static void digest_depends_on_options(void **state)
{
	struct sandbox_seccomp_options plain = { .notify = true };
	struct sandbox_seccomp_options nested = { .notify = true,
						  .allow_nested_userns = true };
	struct sandbox_seccomp_options traced = { .notify = true,
						  .trace_exec = true };
	char a[65], b[65], c[65], d[65];

	(void)state;
	assert_int_equal(sandbox_seccomp_digest(&plain, a), 0);
	assert_int_equal(sandbox_seccomp_digest(&plain, b), 0);
	assert_int_equal(sandbox_seccomp_digest(&nested, c), 0);
	assert_int_equal(sandbox_seccomp_digest(&traced, d), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
}

/*
 * Read the loaded program back from the kernel and hash it: the digest
 * must be the one of the program that runs. PTRACE_SECCOMP_GET_FILTER
 * needs CAP_SYS_ADMIN, so this case runs only as root.
 */
static void digest_matches_loaded_program(void **state)
{
	struct sock_filter insns[4096];
	unsigned char md[32];
	unsigned int md_len = 0;
	char expected[65], got[65];
	long count;
	int go[2];
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(sandbox_seccomp_digest(&notify_opts, expected), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_seccomp_options opts = notify_opts;
		int listener;

		close(go[0]);
		if (sandbox_seccomp_load(&opts, &listener) < 0)
			_exit(100);
		close(listener);
		if (write(go[1], "l", 1) != 1)
			_exit(101);
		pause();
		_exit(0);
	}
	close(go[1]);
	{
		char byte;

		assert_int_equal(read(go[0], &byte, 1), 1);
	}
	close(go[0]);
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL), 0);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, pid, 0, 0), 0);
	assert_true(WIFSTOPPED(wait_stop(pid)));
	count = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, insns);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	assert_true(count > 0);
	assert_true(EVP_Digest(insns, (size_t)count * sizeof(insns[0]), md,
			       &md_len, EVP_sha256(), NULL));
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(got, expected);
}

static void describe_lists_rules_and_digest(void **state)
{
	char hex[65];
	cJSON *root = sandbox_seccomp_describe(&notify_opts);
	cJSON *rules, *rule;
	bool saw_ptrace = false, saw_clone3 = false, saw_tiocsti = false;

	(void)state;
	assert_non_null(root);
	assert_int_equal(sandbox_seccomp_digest(&notify_opts, hex), 0);
	assert_string_equal(cJSON_GetStringValue(
		cJSON_GetObjectItem(root, "sha256")), hex);
	assert_string_equal(cJSON_GetStringValue(
		cJSON_GetObjectItem(root, "foreign_arch")), "kill_process");
	assert_string_equal(cJSON_GetStringValue(
		cJSON_GetObjectItem(root, "x32")), "kill_process");
	rules = cJSON_GetObjectItem(root, "rules");
	assert_true(cJSON_IsArray(rules));
	cJSON_ArrayForEach(rule, rules) {
		const char *name = cJSON_GetStringValue(
			cJSON_GetObjectItem(rule, "syscall"));
		const char *err = cJSON_GetStringValue(
			cJSON_GetObjectItem(rule, "errno"));
		const char *when = cJSON_GetStringValue(
			cJSON_GetObjectItem(rule, "when"));

		assert_non_null(name);
		if (strcmp(name, "ptrace") == 0) {
			saw_ptrace = true;
			assert_string_equal(err, "EPERM");
			assert_true(cJSON_IsTrue(
				cJSON_GetObjectItem(rule, "counted")));
		}
		if (strcmp(name, "clone3") == 0) {
			saw_clone3 = true;
			assert_string_equal(err, "ENOSYS");
			assert_true(cJSON_IsFalse(
				cJSON_GetObjectItem(rule, "counted")));
		}
		if (when && strcmp(when, "request == TIOCSTI") == 0)
			saw_tiocsti = true;
	}
	assert_true(saw_ptrace);
	assert_true(saw_clone3);
	assert_true(saw_tiocsti);
	cJSON_Delete(root);
}

static const struct sandbox_seccomp_options report_opts = {
	.notify = true, .report = true,
};

static long probe_write_proc(void *arg)
{
	(void)arg;
	return open("/proc/version", O_WRONLY | O_CLOEXEC);
}

/* The outcome of probe without a filter, in this process. */
static struct outcome unfiltered(probe_fn probe, void *arg)
{
	struct outcome out;

	errno = 0;
	out.rc = probe(arg);
	out.error = errno;
	if (out.rc >= 0)
		close((int)out.rc);
	return out;
}

/* The filtered call returned what the kernel returns without a filter:
 * a report goes on and enforces nothing. */
static void assert_unfiltered(const struct run *run, probe_fn probe,
			      void *arg)
{
	struct outcome out = unfiltered(probe, arg);

	assert_true(run->reported);
	assert_int_equal(run->outcome.rc < 0, out.rc < 0);
	if (out.rc < 0)
		assert_int_equal(run->outcome.error, out.error);
}

static void write_outside_reported_and_continued(void **state)
{
	struct run run;

	(void)state;
	run_probe(&report_opts, probe_write_proc, NULL, &run);
	assert_unfiltered(&run, probe_write_proc, NULL);
	assert_int_equal(run.count, 0);
	assert_int_equal(run.attempts, 1);
	assert_int_equal(run.attempt.kind, SANDBOX_SECCOMP_WRITE);
	assert_string_equal(run.attempt.path, "/proc/version");
	assert_string_equal(run.attempt_syscall, "openat");
}

/* A relative path is joined to the directory that its dirfd names. */
static long probe_write_dirfd(void *arg)
{
	int dir = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	(void)arg;
	if (dir < 0)
		return -10;
	return openat(dir, "./version", O_RDWR | O_CLOEXEC);
}

static void write_dirfd_path_resolved(void **state)
{
	struct run run;

	(void)state;
	run_probe(&report_opts, probe_write_dirfd, NULL, &run);
	assert_unfiltered(&run, probe_write_dirfd, NULL);
	assert_int_equal(run.attempts, 1);
	assert_string_equal(run.attempt.path, "/proc/version");
}

/* Reads, and writes where the mount is writable, are not reported. */
static long probe_write_allowed(void *arg)
{
	const char *dir = arg;
	char path[PATH_MAX];
	int fd;

	if (open("/proc/version", O_RDONLY | O_CLOEXEC) < 0)
		return -10;
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -11;
	close(fd);
	if (unlink(path) < 0)
		return -12;
	return 0;
}

static void write_inside_not_reported(void **state)
{
	char dir[] = "/tmp/test_seccomp.XXXXXX";
	struct run run;

	(void)state;
	assert_non_null(mkdtemp(dir));
	run_probe(&report_opts, probe_write_allowed, dir, &run);
	rmdir(dir);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, 0);
	assert_int_equal(run.attempts, 0);
	assert_int_equal(run.count, 0);
}

static long probe_connect(void *arg)
{
	const struct sockaddr_in *sa = arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long rc;

	if (fd < 0)
		return -10;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return rc;
}

/* A loopback port where nothing listens in this network namespace. */
static uint16_t closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void connect_unserved_reported(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(closed_port()),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct run run;

	(void)state;
	run_probe(&report_opts, probe_connect, &sa, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.error, ECONNREFUSED);
	assert_int_equal(run.attempts, 1);
	assert_int_equal(run.attempt.kind, SANDBOX_SECCOMP_NETWORK);
	assert_string_equal(run.attempt.family, "inet");
	assert_string_equal(run.attempt.address, "127.0.0.1");
	assert_int_equal(run.attempt.port, ntohs(sa.sin_port));
	assert_string_equal(run.attempt_syscall, "connect");
}

static void connect_listener_not_reported(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct run run;

	(void)state;
	assert_true(server >= 0);
	assert_int_equal(bind(server, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(server, 4), 0);
	assert_int_equal(getsockname(server, (struct sockaddr *)&sa, &len), 0);
	run_probe(&report_opts, probe_connect, &sa, &run);
	close(server);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, 0);
	assert_int_equal(run.attempts, 0);
}

static long probe_abstract(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *name = arg;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long rc;

	if (fd < 0)
		return -10;
	memcpy(sa.sun_path + 1, name, strlen(name));
	rc = connect(fd, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				 strlen(name)));
	close(fd);
	return rc;
}

static void connect_abstract_reported(void **state)
{
	char name[64];
	struct run run;

	(void)state;
	snprintf(name, sizeof(name), "test_seccomp-none-%d", (int)getpid());
	run_probe(&report_opts, probe_abstract, name, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.error, ECONNREFUSED);
	assert_int_equal(run.attempts, 1);
	assert_string_equal(run.attempt.family, "unix");
	assert_int_equal(run.attempt.address[0], '@');
	assert_string_equal(run.attempt.address + 1, name);
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#define TMPFILE_FLAG 020000000L	/* the kernel's __O_TMPFILE */

/* Calls that would give a file a set-ID bit (rule 4c). Their paths are
 * NULL, which a denied call never reads. */
static const struct call id_bit_calls[] = {
#ifdef SYS_chmod
	{ "chmod", SYS_chmod, { 0, 04755 }, EPERM },
	{ "creat", SYS_creat, { 0, 02755 }, EPERM },
	{ "mknod", SYS_mknod, { 0, S_IFREG | 04755, 0 }, EPERM },
	{ "open", SYS_open, { 0, O_WRONLY | O_CREAT, 02755 }, EPERM },
#endif
	{ "fchmod", SYS_fchmod, { -1, 04755 }, EPERM },
	{ "fchmod", SYS_fchmod, { -1, 06000 | HIGH_BITS }, EPERM },
	{ "fchmodat", SYS_fchmodat, { AT_FDCWD, 0, 02755 }, EPERM },
	{ "fchmodat2", SYS_fchmodat2, { AT_FDCWD, 0, 04755, 0 }, EPERM },
	{ "mknodat", SYS_mknodat, { AT_FDCWD, 0, S_IFREG | 02755, 0 },
	  EPERM },
	{ "openat", SYS_openat, { AT_FDCWD, 0, O_RDONLY | O_CREAT, 04755 },
	  EPERM },
	{ "openat", SYS_openat,
	  { AT_FDCWD, 0, O_RDWR | O_DIRECTORY | TMPFILE_FLAG, 02700 },
	  EPERM },
};

/* The same calls without a set-ID bit, or with one that the call does
 * not use, fail as the kernel fails them. */
static const struct call id_bit_free[] = {
	{ "fchmod", SYS_fchmod, { -1, 01777 }, EBADF },
	{ "fchmodat", SYS_fchmodat, { AT_FDCWD, 0, 0755 }, EFAULT },
	{ "mknodat", SYS_mknodat, { AT_FDCWD, 0, S_IFREG | 0755, 0 },
	  EFAULT },
	{ "openat", SYS_openat, { AT_FDCWD, 0, O_WRONLY, 04755 }, EFAULT },
};

/* With reports on, chmod and the opens notify for a report as well, and
 * the supervisor must still deny those with a set-ID bit. Without
 * notification the filter denies them itself. */
static void id_bits_denied_counted(void **state)
{
	struct sandbox_seccomp_options plain = { .notify = false };
	size_t count = sizeof(id_bit_calls) / sizeof(id_bit_calls[0]);

	(void)state;
	for (size_t i = 0; i < count; i++) {
		struct run run;

		assert_denied_with(&notify_opts, &id_bit_calls[i]);
		assert_denied_with(&report_opts, &id_bit_calls[i]);
		run_probe(&plain, probe_call, (void *)&id_bit_calls[i], &run);
		assert_true(run.reported);
		assert_int_equal(run.outcome.rc, -1);
		assert_int_equal(run.outcome.error, EPERM);
	}
}

static void id_bit_free_modes_pass(void **state)
{
	const struct sandbox_seccomp_options *opts[] = {
		&notify_opts, &report_opts,
	};
	size_t count = sizeof(id_bit_free) / sizeof(id_bit_free[0]);

	(void)state;
	for (size_t i = 0; i < count; i++) {
		for (size_t o = 0; o < 2; o++) {
			struct run run;

			run_probe(opts[o], probe_call, (void *)&id_bit_free[i],
				  &run);
			assert_true(run.reported);
			assert_int_equal(run.outcome.rc, -1);
			assert_int_equal(run.outcome.error,
					 id_bit_free[i].expected);
			assert_int_equal(run.count, 0);
		}
	}
}

/* Without report, the same write-open is not even notified. */
static void report_off_notifies_nothing(void **state)
{
	struct run run;

	(void)state;
	run_probe(&notify_opts, probe_write_proc, NULL, &run);
	assert_unfiltered(&run, probe_write_proc, NULL);
	assert_int_equal(run.attempts, 0);
}

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static long probe_memfd(void *arg)
{
	unsigned int flags = *(const unsigned int *)arg;

	return syscall(SYS_memfd_create, "test", flags);
}

static void memfd_without_seal_denied(void **state)
{
	struct sandbox_seccomp_options opts = { .notify = true,
						.seal_memfd = true };
	unsigned int plain = MFD_CLOEXEC, sealed = MFD_NOEXEC_SEAL;
	struct run run;

	(void)state;
	run_probe(&opts, probe_memfd, &plain, &run);
	assert_true(run.reported);
	assert_int_equal(run.outcome.rc, -1);
	assert_int_equal(run.outcome.error, EPERM);
	assert_int_equal(run.count, 0);
	run_probe(&opts, probe_memfd, &sealed, &run);
	assert_true(run.reported);
	assert_true(run.outcome.rc >= 0);
	run_probe(&notify_opts, probe_memfd, &plain, &run);
	assert_true(run.outcome.rc >= 0);
}

/* A prepared filter is what the digest and a forked child use. */
static void prepared_filter_reused(void **state)
{
	struct sandbox_seccomp_options opts = { .notify = true, .report = true,
						.seal_memfd = true };
	char a[65], b[65];

	(void)state;
	assert_int_equal(sandbox_seccomp_prepare(&opts), 0);
	assert_int_equal(sandbox_seccomp_digest(&opts, a), 0);
	assert_int_equal(sandbox_seccomp_digest(&report_opts, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(sandbox_seccomp_digest(&opts, b), 0);
	assert_string_equal(a, b);
}

/*
 * The programs compiled by the build must be the ones that libseccomp
 * compiles here, instruction for instruction, for every combination of
 * options, or the digest in a description would depend on whether the
 * build or the run compiled them.
 */
static void builtin_programs_match_compiled(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < SANDBOX_SECCOMP_COMBINATIONS; i++) {
		const struct sandbox_seccomp_program *b =
			&sandbox_seccomp_builtins[i];
		struct sandbox_seccomp_options opts = { 0 };
		struct sandbox_seccomp_program now;

		sandbox_seccomp_option_set(i, &opts);
		assert_int_equal(sandbox_seccomp_option_index(&opts), i);
		assert_int_equal(sandbox_seccomp_compile(&opts, &now), 0);
		assert_int_equal(b->len, now.len);
		assert_memory_equal(b->insns, now.insns,
				    now.len * sizeof(now.insns[0]));
		free((void *)now.insns);
	}
}

/* The digest is the one of the program compiled by the build. */
static void digest_is_of_builtin_program(void **state)
{
	const struct sandbox_seccomp_program *b = &sandbox_seccomp_builtins[
		sandbox_seccomp_option_index(&report_opts)];
	unsigned char md[32];
	unsigned int md_len = 0;
	char expected[65], got[65];

	(void)state;
	assert_true(b->len > 0);
	assert_true(EVP_Digest(b->insns, b->len * sizeof(b->insns[0]), md,
			       &md_len, EVP_sha256(), NULL));
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(expected + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(sandbox_seccomp_digest(&report_opts, got), 0);
	assert_string_equal(got, expected);
}

static void load_without_listener_rejected(void **state)
{
	(void)state;
	assert_int_equal(sandbox_seccomp_load(&notify_opts, NULL), -1);
	assert_non_null(strstr(sandbox_error(), "listener"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(denied_calls_fail_counted),
		cmocka_unit_test(allowed_calls_pass_uncounted),
		cmocka_unit_test(clone3_fails_enosys_uncounted),
		cmocka_unit_test(errno_mode_denies_without_listener),
		cmocka_unit_test(closed_listener_fails_enosys),
		cmocka_unit_test(stored_violations_are_bounded),
		cmocka_unit_test(x32_syscall_kills_process),
		cmocka_unit_test(foreign_arch_kills_process),
		cmocka_unit_test(nested_userns_allowed_on_request),
		cmocka_unit_test(trace_exec_without_tracer_fails),
		cmocka_unit_test(trace_exec_stops_tracer_at_exec),
		cmocka_unit_test(digest_depends_on_options),
		cmocka_unit_test(digest_matches_loaded_program),
		cmocka_unit_test(describe_lists_rules_and_digest),
		cmocka_unit_test(load_without_listener_rejected),
		cmocka_unit_test(builtin_programs_match_compiled),
		cmocka_unit_test(digest_is_of_builtin_program),
		cmocka_unit_test(write_outside_reported_and_continued),
		cmocka_unit_test(write_dirfd_path_resolved),
		cmocka_unit_test(write_inside_not_reported),
		cmocka_unit_test(connect_unserved_reported),
		cmocka_unit_test(connect_listener_not_reported),
		cmocka_unit_test(connect_abstract_reported),
		cmocka_unit_test(report_off_notifies_nothing),
		cmocka_unit_test(id_bits_denied_counted),
		cmocka_unit_test(id_bit_free_modes_pass),
		cmocka_unit_test(memfd_without_seal_denied),
		cmocka_unit_test(prepared_filter_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
