/*
 * attack.c - escape attempts that the sandbox tests run inside
 * "runbundle sandbox". Each attack prints "blocked: <what stopped it>"
 * and exits 0 when the sandbox stopped it, or prints "ESCAPED: ..." and
 * exits 1 when it worked. Usage: attack NAME [ARG...].
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int blocked(const char *what, int err)
{
	printf("blocked: %s: %s\n", what, strerror(err));
	return 0;
}

static int escaped(const char *what)
{
	printf("ESCAPED: %s\n", what);
	return 1;
}

static int tiocsti(unsigned long extra)
{
	char c = 'x';

	if (ioctl(0, TIOCSTI | extra, &c) < 0)
		return blocked("TIOCSTI", errno);
	return escaped("TIOCSTI pushed a byte into the terminal");
}

static int x32(void)
{
	/* The x32 bit with getpid: the filter kills the process, so
	 * reaching the next line means it failed. */
	long r = syscall(0x40000000 | SYS_getpid);

	if (r < 0)
		return blocked("x32 getpid", errno);
	return escaped("x32 system call ran");
}

static int io_uring(void)
{
	struct io_uring_params p = { 0 };
	long fd = syscall(SYS_io_uring_setup, 4, &p);

	/* Without a ring neither IORING_OP_OPENAT nor IORING_OP_CONNECT
	 * can be submitted. */
	if (fd < 0)
		return blocked("io_uring_setup", errno);
	return escaped("io_uring ring created");
}

static int vsock(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return blocked("socket(AF_VSOCK)", errno);
	return escaped("AF_VSOCK socket created");
}

static int abstract_unix(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path + 1, name, len);
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				len)) < 0)
		return blocked("connect to the abstract socket", errno);
	return escaped("connected to the host's abstract socket");
}

static int tcp(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)atoi(port)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return blocked("connect to 127.0.0.1", errno);
	return escaped("connected to the host's loopback server");
}

static int dns(const char *name)
{
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, "443", NULL, &res);

	if (rc != 0) {
		printf("blocked: getaddrinfo: %s\n", gai_strerror(rc));
		return 0;
	}
	freeaddrinfo(res);
	return escaped("a name resolved");
}

static int ptrace_sibling(void)
{
	pid_t child = fork();
	int rc;

	if (child == 0) {
		pause();
		_exit(0);
	}
	if (ptrace(PTRACE_ATTACH, child, 0, 0) < 0)
		rc = blocked("ptrace of a sibling", errno);
	else
		rc = escaped("attached to a sandbox process");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return rc;
}

static int ptrace_parent(void)
{
	if (ptrace(PTRACE_ATTACH, getppid(), 0, 0) < 0)
		return blocked("ptrace of the parent", errno);
	return escaped("attached to the parent");
}

static int proc1_mem(void)
{
	int fd = open("/proc/1/mem", O_RDWR);

	if (fd < 0)
		return blocked("open /proc/1/mem", errno);
	return escaped("opened /proc/1/mem for writing");
}

/*
 * Lower a limit of init (PID 1), also through a pid with upper bits
 * that the kernel drops. Setting the attack's own limits and its
 * child's must still work, or the attack exits 2.
 */
static int init_limits(void)
{
	struct rlimit zero = { 0, 0 }, old;
	long wide = 1L | 1L << 32;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	if (prlimit(1, RLIMIT_CORE, NULL, &old) < 0 ||
	    prlimit(0, RLIMIT_CORE, &zero, NULL) < 0 ||
	    prlimit(child, RLIMIT_CORE, &zero, NULL) < 0) {
		perror("attack: prlimit");
		return 2;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (syscall(SYS_prlimit64, 1L, (long)RLIMIT_CORE, &zero, NULL) == 0)
		return escaped("lowered a limit of init");
	if (syscall(SYS_prlimit64, wide, (long)RLIMIT_CORE, &zero, NULL) == 0)
		return escaped("lowered a limit of init through a wide pid");
	return blocked("prlimit of init", errno);
}

/*
 * Lower the priority of the caller's process group, which the agent
 * shares without a terminal. The call fails when init refuses, even
 * after it changed the others, so the test checks the caller too.
 */
static int group_priority(void)
{
	if (setpriority(PRIO_PGRP, 0, 19) == 0)
		return escaped("lowered the priority of the process group");
	if (syscall(SYS_ioprio_set, 2, 0, 3 << 13) == 0)
		return escaped("lowered the I/O priority of the process group");
	return blocked("setpriority and ioprio_set of the group", errno);
}

static int userns(void)
{
	if (unshare(CLONE_NEWUSER) < 0)
		return blocked("unshare(CLONE_NEWUSER)", errno);
	return escaped("created a nested user namespace");
}

/*
 * With nested_userns the filter lets unshare() and mount() through, but
 * Landlock rejects every mount by a restricted process, and a write to
 * the new namespace's uid_map in /proc, whatever the namespace grants.
 */
static int nested_mount(void)
{
	int fd;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return blocked("unshare(CLONE_NEWUSER | CLONE_NEWNS)", errno);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd >= 0)
		return escaped("opened the nested namespace's uid_map");
	if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) == 0)
		return escaped("mounted a tmpfs in a nested mount namespace");
	return blocked("mount in a nested mount namespace", errno);
}

static int do_mount(void)
{
	if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) < 0)
		return blocked("mount", errno);
	return escaped("mounted a tmpfs");
}

/* From the kernel's include/uapi/linux/memfd.h (Linux 6.3). */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* Copy the program at path into out, and make it executable. Returns
 * 0, or -1 with errno set and *what naming the step that failed. */
static int copy_program(const char *path, int out, const char **what)
{
	char buf[65536];
	ssize_t n;
	int in = open(path, O_RDONLY);

	*what = "reading the denied program";
	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			*what = "writing the copy";
			return -1;
		}
	}
	if (n < 0)
		return -1;
	close(in);
	*what = "chmod of the copy";
	return fchmod(out, 0755);
}

/* Run the program in fd: with execveat(AT_EMPTY_PATH), or through its
 * /proc/self/fd link. Returns only on failure. */
static int exec_fd(int fd, const char *path, bool via_proc,
		   const char *what)
{
	char *const argv[] = { (char *)path, NULL };
	char link[64];

	if (via_proc) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		execve(link, argv, NULL);
	} else {
		syscall(SYS_execveat, fd, "", argv, NULL, AT_EMPTY_PATH);
	}
	return blocked(what, errno);
}

/*
 * Copy a denied program into a memfd and run it. flags are those of
 * memfd_create: 0 or MFD_EXEC ask for an executable memfd, and with
 * MFD_NOEXEC_SEAL the chmod must fail, so the exec must too.
 */
static int memfd_exec(const char *path, unsigned int flags, bool via_proc)
{
	const char *what;
	int mfd = (int)syscall(SYS_memfd_create, "x", flags);

	if (mfd < 0)
		return blocked("memfd_create", errno);
	if (copy_program(path, mfd, &what) < 0 && errno != EPERM)
		return blocked(what, errno);
	return exec_fd(mfd, path, via_proc,
		       via_proc ? "exec of the memfd's /proc/self/fd link" :
				  "execveat of the memfd");
}

/* The same with an unnamed file (O_TMPFILE) in dir, or with a file in
 * /dev/shm as shm_open() makes them. */
static int tmpfile_exec(const char *dir, const char *path)
{
	const char *what;
	int fd = open(dir, O_TMPFILE | O_RDWR, 0700);

	if (fd < 0)
		return blocked("O_TMPFILE", errno);
	if (copy_program(path, fd, &what) < 0)
		return blocked(what, errno);
	return exec_fd(fd, path, false, "execveat of the O_TMPFILE file");
}

static int shm_exec(const char *path)
{
	const char *what;
	int fd = open("/dev/shm/attack", O_CREAT | O_RDWR | O_TRUNC, 0700);

	if (fd < 0)
		return blocked("creating /dev/shm/attack", errno);
	if (copy_program(path, fd, &what) < 0)
		return blocked(what, errno);
	close(fd);
	execl("/dev/shm/attack", path, (char *)NULL);
	return blocked("exec of /dev/shm/attack", errno);
}

/* execveat on an fd of the denied path itself. */
static int execveat_path(const char *path)
{
	char *const argv[] = { (char *)path, NULL };
	int fd = open(path, O_PATH);

	if (fd < 0)
		return blocked("opening the denied program", errno);
	syscall(SYS_execveat, fd, "", argv, NULL, AT_EMPTY_PATH);
	return blocked("execveat of the denied program", errno);
}

/* Run as a setuid binary: privilege gained means a changed euid or any
 * effective capability. */
static int setuid_check(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int caps = 0;

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:", 7) == 0)
			caps = strtoull(line + 7, NULL, 16) != 0;
	}
	if (f)
		fclose(f);
	if (geteuid() != getuid() || caps)
		return escaped("the setuid bit gave privileges");
	if (setuid(0) == 0 && getuid() != 0)
		return escaped("setuid(0) worked");
	printf("blocked: setuid: euid %d, no capabilities\n", (int)geteuid());
	return 0;
}

/* fchmodat2 (Linux 6.6) has this number on x86_64 and aarch64. */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* A file made with O_TMPFILE in the cwd and linked in at path, or -1. */
static long tmpfile_at(const char *path, mode_t mode)
{
	char link[64];
	int fd = open(".", O_TMPFILE | O_WRONLY, mode);
	long rc;

	if (fd < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	rc = linkat(AT_FDCWD, link, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
	close(fd);
	return rc;
}

static long fchmod_path(const char *path, mode_t mode)
{
	int fd = open(path, O_RDONLY);
	long rc;

	if (fd < 0)
		return -1;
	rc = fchmod(fd, mode);
	close(fd);
	return rc;
}

/* Create the file at path with mode, or change its mode, with the
 * system call named by call. Returns -1 with errno, or what it returned. */
static long set_mode(const char *call, const char *path, mode_t mode)
{
	int creat_flags = O_WRONLY | O_CREAT | O_EXCL;
	long fd = -2;

#ifdef SYS_chmod
	if (!strcmp(call, "chmod"))
		return syscall(SYS_chmod, path, mode);
	if (!strcmp(call, "open"))
		fd = syscall(SYS_open, path, creat_flags, mode);
	if (!strcmp(call, "creat"))
		fd = syscall(SYS_creat, path, mode);
	if (!strcmp(call, "mknod"))
		return syscall(SYS_mknod, path, S_IFREG | mode, 0);
#endif
	if (!strcmp(call, "fchmod"))
		return fchmod_path(path, mode);
	if (!strcmp(call, "fchmodat"))
		return syscall(SYS_fchmodat, AT_FDCWD, path, mode);
	if (!strcmp(call, "fchmodat2"))
		return syscall(SYS_fchmodat2, AT_FDCWD, path, mode, 0);
	if (!strcmp(call, "openat"))
		fd = syscall(SYS_openat, AT_FDCWD, path, creat_flags, mode);
	if (!strcmp(call, "tmpfile"))
		return tmpfile_at(path, mode);
	if (!strcmp(call, "mknodat"))
		return syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | mode, 0);
	if (fd == -2) {
		errno = ENOSYS;
		return -1;
	}
	if (fd >= 0)
		close((int)fd);
	return fd < 0 ? -1 : 0;
}

/*
 * Give a file the set-user-ID, then the set-group-ID bit, with the
 * system call named by call: the file would keep the bit on the host. The
 * calls that change a mode get an existing file of mode 0755, the
 * others create it. Each must fail with EPERM and leave no such bit.
 */
static int set_id_bits(const char *call)
{
	static const mode_t bits[] = { S_ISUID, S_ISGID };
	bool creates = strstr(call, "open") || strstr(call, "creat") ||
		       strstr(call, "mknod") || !strcmp(call, "tmpfile");
	int escapes = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		char path[64];
		struct stat st;
		long rc;
		int err;

		snprintf(path, sizeof(path), "setid-%s-%o", call,
			 (unsigned int)bits[i]);
		unlink(path);
		if (!creates)
			close(open(path, O_WRONLY | O_CREAT, 0755));
		errno = 0;
		rc = set_mode(call, path, 0755 | bits[i]);
		err = errno;
		if (stat(path, &st) == 0 &&
		    (st.st_mode & (S_ISUID | S_ISGID))) {
			printf("ESCAPED: %s gave %s mode %o\n", call, path,
			       (unsigned int)st.st_mode & 07777);
			escapes++;
		} else if (rc >= 0 || err != EPERM) {
			printf("ESCAPED: %s %o was not denied: %s\n", call,
			       (unsigned int)bits[i], strerror(err));
			escapes++;
		} else {
			printf("blocked: %s %o: %s\n", call,
			       (unsigned int)bits[i], strerror(err));
		}
	}
	return escapes ? 1 : 0;
}

static int fork_bomb(void)
{
	int n;

	for (n = 0; n < 100000; n++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			pause();
			_exit(0);
		}
	}
	if (n == 100000)
		return escaped("100000 processes started");
	printf("blocked: fork failed after %d processes: %s\n", n,
	       strerror(errno));
	return 0;
}

/* A child that the tracer of runbundle record would not follow. */
static int untraced(void)
{
	long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
	int status;

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return blocked("clone(CLONE_UNTRACED)", errno);
	waitpid((pid_t)pid, &status, 0);
	return escaped("an untraced child ran");
}

static int memory(const char *mib)
{
	size_t len = (size_t)atol(mib) << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return blocked("mmap", errno);
	memset(p, 1, len);
	return escaped("the memory was allocated and touched");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(name, "tiocsti")) return tiocsti(0);
	if (!strcmp(name, "tiocsti-high")) return tiocsti(1UL << 32);
	if (!strcmp(name, "x32")) return x32();
	if (!strcmp(name, "io_uring")) return io_uring();
	if (!strcmp(name, "vsock")) return vsock();
	if (!strcmp(name, "abstract")) return abstract_unix(arg);
	if (!strcmp(name, "tcp")) return tcp(arg);
	if (!strcmp(name, "dns")) return dns(arg);
	if (!strcmp(name, "ptrace-sibling")) return ptrace_sibling();
	if (!strcmp(name, "ptrace-parent")) return ptrace_parent();
	if (!strcmp(name, "proc1-mem")) return proc1_mem();
	if (!strcmp(name, "init-limits")) return init_limits();
	if (!strcmp(name, "group-priority")) return group_priority();
	if (!strcmp(name, "userns")) return userns();
	if (!strcmp(name, "mount")) return do_mount();
	if (!strcmp(name, "nested-mount")) return nested_mount();
	if (!strcmp(name, "memfd-exec")) return memfd_exec(arg, 0, false);
	if (!strcmp(name, "memfd-exec-flag"))
		return memfd_exec(arg, MFD_EXEC, false);
	if (!strcmp(name, "memfd-sealed"))
		return memfd_exec(arg, MFD_NOEXEC_SEAL, false);
	if (!strcmp(name, "memfd-proc")) return memfd_exec(arg, 0, true);
	if (!strcmp(name, "tmpfile-exec"))
		return tmpfile_exec(arg, argc > 3 ? argv[3] : "");
	if (!strcmp(name, "shm-exec")) return shm_exec(arg);
	if (!strcmp(name, "execveat")) return execveat_path(arg);
	if (!strcmp(name, "setuid")) return setuid_check();
	if (!strcmp(name, "set-id-bits")) return set_id_bits(arg);
	if (!strcmp(name, "fork-bomb")) return fork_bomb();
	if (!strcmp(name, "memory")) return memory(arg);
	if (!strcmp(name, "untraced")) return untraced();
	fprintf(stderr, "attack: unknown attack: '%s'\n", name);
	return 2;
}
