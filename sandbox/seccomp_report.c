/*
 * seccomp_report.c - turn the notification of a write-intent or network
 * call into a reported attempt (seccomp.h, rule 4b).
 *
 * The supervisor runs on the host. It reads the call's path or socket
 * address from the process's memory with process_vm_readv(2), which
 * works for the sandbox's owner without ptrace. It looks at the sandbox
 * through /proc/PID. There cwd and fd/N give the base of a relative
 * path, root is the sandbox's root for resolving it with openat2(2) and
 * RESOLVE_IN_ROOT, and net/ lists the sockets of its network namespace.
 * Every read races with the process, which may change its memory or
 * its files meanwhile; a report may then be wrong, but the call is
 * decided by Landlock and the mounts whatever this file concludes.
 *
 * A path is writable when its mount is not read-only and Landlock
 * grants writes there (landlock.c): everywhere on a writable mount but
 * /proc, and in /dev only the writing of existing files. A destination
 * is served when a socket of the sandbox's own network namespace
 * listens on it: the gateway, the egress proxy, or a server the agent
 * started. Connecting anywhere else fails in the empty namespace, so
 * it is an attempt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox/seccomp_internal.h"

/* One path argument of a write-intent call. */
struct path_arg {
	int dirfd_arg;		/* argument holding the dirfd; -1: the cwd */
	int path_arg;
	bool follow;		/* a symbolic link in the last component is
				 * followed */
	bool if_missing;	/* writes only when the last component does
				 * not exist: mkdir fails with EEXIST, and
				 * O_CREAT without a write mode just opens */
};

/* The paths that a write-intent call touches. content is true when it
 * writes an existing file's bytes, which Landlock allows in /dev too. */
struct write_op {
	struct path_arg paths[2];
	size_t count;
	bool content;
};

/* chmod, open and the like are reported calls, but with a set-ID bit
 * in their mode they are denied (rule 4c), and must get EPERM. */
bool sandbox_seccomp_is_reported(const struct seccomp_data *data)
{
	if (sandbox_seccomp_sets_id_bits(data))
		return false;
	switch (data->nr) {
#ifdef __NR_open
	case __NR_open: case __NR_creat: case __NR_mkdir: case __NR_mknod:
	case __NR_unlink: case __NR_rmdir: case __NR_rename: case __NR_link:
	case __NR_symlink: case __NR_chmod: case __NR_chown:
	case __NR_lchown: case __NR_utime: case __NR_utimes:
	case __NR_futimesat:
#endif
	case __NR_openat: case __NR_mkdirat:
	case __NR_mknodat: case __NR_unlinkat: case __NR_renameat:
	case __NR_renameat2: case __NR_linkat: case __NR_symlinkat:
	case __NR_truncate: case __NR_fchmodat: case __NR_fchownat:
	case __NR_utimensat: case __NR_setxattr: case __NR_lsetxattr:
	case __NR_removexattr: case __NR_lremovexattr: case __NR_connect:
	case __NR_sendto:
		return true;
	default:
		return false;
	}
}

static bool open_follows(uint64_t flags)
{
	return !(flags & O_NOFOLLOW) &&
	       (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
}

static struct path_arg at(int dirfd_arg, int path_arg, bool follow)
{
	return (struct path_arg){ dirfd_arg, path_arg, follow, false };
}

/* A path argument that the call creates, and so writes only when it is
 * missing. */
static struct path_arg created(int dirfd_arg, int path_arg)
{
	return (struct path_arg){ dirfd_arg, path_arg, false, true };
}

static struct path_arg opened(int dirfd_arg, int path_arg, uint64_t flags)
{
	bool writes = (flags & (O_WRONLY | O_RDWR | O_TRUNC)) != 0;

	return (struct path_arg){ dirfd_arg, path_arg, open_follows(flags),
				  !writes || (flags & O_EXCL) };
}


static bool open_writes(uint64_t flags)
{
	return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
}

/* Read len bytes at addr in pid, one page at a time so that a read
 * stops at the first unmapped page. Returns the bytes read. */
static size_t read_memory(pid_t pid, uint64_t addr, void *buf, size_t len,
			  bool stop_at_nul)
{
	const uint64_t page = 4096;
	size_t got = 0;

	while (got < len) {
		uint64_t where = addr + got;
		size_t chunk = (size_t)(page - where % page);
		struct iovec local = { (char *)buf + got, 0 };
		struct iovec remote = { (void *)(uintptr_t)where, 0 };
		ssize_t n;

		if (chunk > len - got)
			chunk = len - got;
		local.iov_len = remote.iov_len = chunk;
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			break;
		if (stop_at_nul && memchr((char *)buf + got, '\0', (size_t)n))
			return got + (size_t)n;
		got += (size_t)n;
	}
	return got;
}

static int read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t n = read_memory(pid, addr, buf, size - 1, true);

	buf[n] = '\0';
	/* Without a NUL among the bytes read, the string was cut short. */
	return n > 0 && strlen(buf) < n ? 0 : -1;
}

static int describe_write(const struct seccomp_notif *req,
			  struct write_op *op)
{
	const __u64 *a = req->data.args;

	*op = (struct write_op){ .count = 1 };
	switch (req->data.nr) {
#ifdef __NR_open
	case __NR_open:
		op->paths[0] = opened(-1, 0, a[1]);
		op->content = true;
		return open_writes(a[1]) ? 0 : -1;
	case __NR_creat:
		op->paths[0] = at(-1, 0, true);
		op->content = true;
		return 0;
	case __NR_mkdir: case __NR_mknod:
		op->paths[0] = created(-1, 0);
		return 0;
	case __NR_unlink: case __NR_rmdir:
		op->paths[0] = at(-1, 0, false);
		return 0;
	case __NR_rename:
		op->paths[0] = at(-1, 0, false);
		op->paths[1] = at(-1, 1, false);
		op->count = 2;
		return 0;
	case __NR_link:
		op->paths[0] = at(-1, 0, false);
		op->paths[1] = created(-1, 1);
		op->count = 2;
		return 0;
	case __NR_symlink:
		op->paths[0] = created(-1, 1);
		return 0;
	case __NR_chmod: case __NR_chown: case __NR_utime: case __NR_utimes:
		op->paths[0] = at(-1, 0, true);
		return 0;
	case __NR_lchown:
		op->paths[0] = at(-1, 0, false);
		return 0;
	case __NR_futimesat:
		op->paths[0] = at(0, 1, true);
		return 0;
#endif
	case __NR_openat:
		op->paths[0] = opened(0, 1, a[2]);
		op->content = true;
		return open_writes(a[2]) ? 0 : -1;
	case __NR_mkdirat: case __NR_mknodat:
		op->paths[0] = created(0, 1);
		return 0;
	case __NR_unlinkat:
		op->paths[0] = at(0, 1, false);
		return 0;
	case __NR_renameat: case __NR_renameat2:
		op->paths[0] = at(0, 1, false);
		op->paths[1] = at(2, 3, false);
		op->count = 2;
		return 0;
	case __NR_linkat:
		op->paths[0] = at(0, 1, (a[4] & AT_SYMLINK_FOLLOW) != 0);
		op->paths[1] = created(2, 3);
		op->count = 2;
		return 0;
	case __NR_symlinkat:
		op->paths[0] = created(1, 2);
		return 0;
	case __NR_truncate:
		op->paths[0] = at(-1, 0, true);
		op->content = true;
		return 0;
	case __NR_fchmodat:
		op->paths[0] = at(0, 1, true);
		return 0;
	case __NR_fchownat:
		op->paths[0] = at(0, 1, !(a[4] & AT_SYMLINK_NOFOLLOW));
		return 0;
	case __NR_utimensat:
		op->paths[0] = at(0, 1, !(a[3] & AT_SYMLINK_NOFOLLOW));
		return 0;
	case __NR_setxattr: case __NR_removexattr:
		op->paths[0] = at(-1, 0, true);
		return 0;
	case __NR_lsetxattr: case __NR_lremovexattr:
		op->paths[0] = at(-1, 0, false);
		return 0;
	default:
		return -1;
	}
}

/* Make path absolute inside the sandbox: a relative one is joined to
 * the process's cwd or to the directory its dirfd names. */
static int absolute_path(pid_t pid, int64_t dirfd, const char *path,
			 char *out, size_t size)
{
	char link[64], base[PATH_MAX];
	ssize_t n;

	if (path[0] == '/') {
		snprintf(out, size, "%s", path);
		return 0;
	}
	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid,
			 (int)dirfd);
	n = readlink(link, base, sizeof(base) - 1);
	if (n <= 0 || base[0] != '/')
		return -1;
	base[n] = '\0';
	if ((size_t)snprintf(out, size, "%s/%s",
			     strcmp(base, "/") == 0 ? "" : base, path) >= size)
		return -1;
	return 0;
}

static int open_in_root(int root, const char *path, uint64_t flags)
{
	struct open_how how = {
		.flags = flags | O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT,
	};

	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* The path of an fd opened in the sandbox, as the sandbox sees it. */
static int fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, size - 1);
	if (n <= 0 || out[0] != '/')
		return -1;
	out[n] = '\0';
	return 0;
}

/*
 * Resolve abs in the sandbox's root: the whole path when the call
 * follows the last component and it exists, otherwise the deepest
 * directory that resolves, with the rest appended as written. Returns
 * an O_PATH fd of what resolved, whose mount decides, or -1 when even
 * the root did not open; out receives the path either way.
 */
static int resolve(int root, const char *abs, bool follow, char *out,
		   size_t size)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(out, size, "%s", abs);
	if (follow) {
		fd = open_in_root(root, abs, 0);
		if (fd >= 0) {
			if (fd_path(fd, out, size) < 0)
				snprintf(out, size, "%s", abs);
			return fd;
		}
	}
	snprintf(dir, sizeof(dir), "%s", abs);
	while ((slash = strrchr(dir, '/'))) {
		const char *rest = abs + (slash - dir);

		*slash = '\0';
		fd = open_in_root(root, dir[0] ? dir : "/", O_DIRECTORY);
		if (fd < 0)
			continue;
		if (fd_path(fd, out, size) < 0 ||
		    strlen(out) + strlen(rest) >= size)
			snprintf(out, size, "%s", abs);
		else if (strcmp(out, "/") == 0)
			snprintf(out, size, "%s", rest);
		else
			strcat(out, rest);
		return fd;
	}
	return -1;
}

static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

/* Whether path is /proc/PID/fd/N, /proc/self/fd/N or the like: opening
 * it reopens a file that the process holds open already, as a shell's
 * >/proc/self/fd/1 does, and the open of that file was checked. */
static bool is_proc_fd(const char *path)
{
	const char *rest = path + strlen("/proc/");

	if (!beneath(path, "/proc") || strlen(path) <= strlen("/proc/"))
		return false;
	rest += strcspn(rest, "/");
	return strncmp(rest, "/fd/", 4) == 0;
}

/* Whether Landlock and the mount let the sandbox write at path. */
static bool writable(int fd, const char *path, bool content)
{
	struct statvfs st;
	struct stat node;

	if (content && is_proc_fd(path))
		return true;
	if (fd < 0)
		return false;
	/* A read-only mount does not stop writes to a device node. */
	if (content && beneath(path, "/dev") && fstat(fd, &node) == 0 &&
	    (S_ISCHR(node.st_mode) || S_ISBLK(node.st_mode)))
		return true;
	if (fstatvfs(fd, &st) < 0 || (st.f_flag & ST_RDONLY))
		return false;
	if (beneath(path, "/proc"))
		return false;
	if (beneath(path, "/dev") && !beneath(path, "/dev/shm"))
		return content;
	return true;
}

/* Check one path argument. Returns 1 and fills attempt->path when it
 * lies outside the writable paths, 0 when not, -1 when unreadable. */
static int check_path(const struct seccomp_notif *req, int root,
		      const struct path_arg *arg, bool content,
		      struct sandbox_seccomp_attempt *attempt)
{
	pid_t pid = (pid_t)req->pid;
	int64_t dirfd = arg->dirfd_arg < 0 ?
		AT_FDCWD : (int)req->data.args[arg->dirfd_arg];
	char path[PATH_MAX], abs[PATH_MAX];
	bool ok;
	int fd;

	if (read_string(pid, req->data.args[arg->path_arg], path,
			sizeof(path)) < 0)
		return -1;
	if (path[0] == '\0')
		return 0;	/* AT_EMPTY_PATH: the fd, opened before */
	if (absolute_path(pid, dirfd, path, abs, sizeof(abs)) < 0)
		return -1;
	if (arg->if_missing) {
		fd = open_in_root(root, abs, arg->follow ? 0 : O_NOFOLLOW);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
	}
	fd = resolve(root, abs, arg->follow, attempt->path,
		     sizeof(attempt->path));
	ok = writable(fd, attempt->path, content);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : 1;
}

static int inspect_write(const struct seccomp_notif *req,
			 struct sandbox_seccomp_attempt *attempt)
{
	struct write_op op;
	char link[64];
	int root, rc = 0;

	if (describe_write(req, &op) < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/root", (int)req->pid);
	root = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return 0;
	attempt->kind = SANDBOX_SECCOMP_WRITE;
	for (size_t i = 0; i < op.count && rc == 0; i++)
		rc = check_path(req, root, &op.paths[i], op.content, attempt);
	close(root);
	return rc > 0;
}

/* Whether a socket of the sandbox's network namespace is bound to port
 * in one of /proc/PID/net/{tcp,tcp6,udp,udp6}: listening for TCP, in
 * any state for UDP. The port is the fourth field of a line, in hex
 * after the colon of the local address. */
static bool port_served(pid_t pid, const char *table, int port, bool tcp)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, table);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned int lport, state;

		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %x", local,
			   &lport, &state) != 3)
			continue;
		found = (int)lport == port && (!tcp || state == 0x0A);
	}
	fclose(f);
	return found;
}

static bool abstract_served(pid_t pid, const char *name)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *at = strchr(line, '@');

		if (at) {
			at[strcspn(at, "\n")] = '\0';
			found = strcmp(at, name) == 0;
		}
	}
	fclose(f);
	return found;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *in6 = (const void *)ss;

	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		in6->sin6_addr.s6_addr[12] == 127);
}

/*
 * Loopback TCP ports found listening in the sandbox, per supervisor
 * thread (one thread serves one sandbox). Reading /proc/PID/net/tcp
 * makes the kernel walk every TCP socket of the host, whichever
 * namespace holds it, so on a busy host each connect to the gateway
 * would cost that walk. NOTE: a port stays here after its listener
 * closes, so a later connect to it is not reported. Such a connect
 * reaches nothing outside the sandbox's network namespace anyway.
 */
#define SERVED_CACHE 8
static _Thread_local int served_ports[SERVED_CACHE];
static _Thread_local size_t n_served, next_served;

static bool served_cached(int port)
{
	for (size_t i = 0; i < n_served; i++) {
		if (served_ports[i] == port)
			return true;
	}
	return false;
}

static void served_remember(int port)
{
	served_ports[next_served++ % SERVED_CACHE] = port;
	if (n_served < SERVED_CACHE)
		n_served++;
}

static bool inet_served(pid_t pid, const struct sockaddr_storage *ss,
			int port)
{
	if (!is_loopback(ss))
		return false;
	if (served_cached(port))
		return true;
	if (port_served(pid, "tcp", port, true) ||
	    port_served(pid, "tcp6", port, true)) {
		served_remember(port);
		return true;
	}
	return port_served(pid, "udp", port, false) ||
	       port_served(pid, "udp6", port, false);
}

static int inspect_inet(pid_t pid, const struct sockaddr_storage *ss,
			struct sandbox_seccomp_attempt *attempt)
{
	const void *addr;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		addr = &in->sin_addr;
		attempt->port = ntohs(in->sin_port);
		snprintf(attempt->family, sizeof(attempt->family), "inet");
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		addr = &in6->sin6_addr;
		attempt->port = ntohs(in6->sin6_port);
		snprintf(attempt->family, sizeof(attempt->family), "inet6");
	}
	if (!inet_ntop(ss->ss_family, addr, attempt->address,
		       sizeof(attempt->address)))
		return 0;
	return !inet_served(pid, ss, attempt->port);
}

/*
 * Only abstract names are reported. A path names a file that the mount
 * namespace shows or hides, like any other; and glibc probes paths such
 * as nscd's socket routinely, which would flood the report.
 */
static int inspect_unix(pid_t pid, const struct sockaddr_storage *ss,
			socklen_t len, struct sandbox_seccomp_attempt *attempt)
{
	const struct sockaddr_un *un = (const void *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n, i;

	if (len <= off + 1 || un->sun_path[0] != '\0')
		return 0;
	n = len - off;
	if (n > sizeof(attempt->address) - 1)
		n = sizeof(attempt->address) - 1;
	attempt->address[0] = '@';
	for (i = 1; i < n; i++) {
		char c = un->sun_path[i];

		/* /proc/net/unix prints every NUL of a name as '@'. */
		attempt->address[i] = c == '\0' ? '@' :
				      (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	attempt->address[i] = '\0';
	snprintf(attempt->family, sizeof(attempt->family), "unix");
	return !abstract_served(pid, attempt->address);
}

static int inspect_network(const struct seccomp_notif *req,
			   struct sandbox_seccomp_attempt *attempt)
{
	bool is_connect = req->data.nr == __NR_connect;
	uint64_t addr = req->data.args[is_connect ? 1 : 4];
	uint64_t len = req->data.args[is_connect ? 2 : 5];
	struct sockaddr_storage ss = { 0 };
	size_t got;

	if (len > sizeof(ss))
		len = sizeof(ss);
	got = read_memory((pid_t)req->pid, addr, &ss, (size_t)len, false);
	if (got < sizeof(sa_family_t))
		return 0;
	attempt->kind = SANDBOX_SECCOMP_NETWORK;
	switch (ss.ss_family) {
	case AF_INET:
		return got >= sizeof(struct sockaddr_in) &&
		       inspect_inet((pid_t)req->pid, &ss, attempt);
	case AF_INET6:
		return got >= sizeof(struct sockaddr_in6) &&
		       inspect_inet((pid_t)req->pid, &ss, attempt);
	case AF_UNIX:
		return inspect_unix((pid_t)req->pid, &ss, (socklen_t)got,
				    attempt);
	default:
		return 0;	/* AF_UNSPEC disconnects; others are denied */
	}
}

int sandbox_seccomp_inspect(int listener, const struct seccomp_notif *req,
			    struct sandbox_seccomp_attempt *attempt)
{
	uint64_t id = req->id;
	int nr = req->data.nr;
	int found;

	memset(attempt, 0, sizeof(*attempt));
	if (nr == __NR_connect || nr == __NR_sendto)
		found = inspect_network(req, attempt);
	else
		found = inspect_write(req, attempt);
	/* The pid may have died and been reused while it was read. */
	if (found && ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
		return 0;
	return found;
}
