/*
 * namespace.c - the sandbox's namespaces: create them, map the one uid
 * and gid, name the host, bring loopback up and open the listening
 * sockets that the parent serves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"


int sandbox_write_file(const char *path, const char *buf)
{
	size_t len = strlen(buf);
	ssize_t n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

ssize_t sandbox_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int read_sysctl(const char *path)
{
	char buf[32];

	if (sandbox_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return (int)strtol(buf, NULL, 10);
}

/*
 * Name the kernel setting that refused the user namespace, from the
 * three that distributions use, and the fix for each.
 */
void sandbox_ns_explain(int err, const char *step)
{
	const char *why = strerror(err);

	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0) {
		sandbox_set_error("cannot create the user namespace: '%s': "
				  "user.max_user_namespaces is 0", step);
		sandbox_set_hint("run 'sysctl -w user.max_user_namespaces="
				 "10000' as root, or run with --sandbox none");
	} else if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone")
		   == 0 && geteuid() != 0) {
		sandbox_set_error("cannot create the user namespace: '%s': "
				  "kernel.unprivileged_userns_clone is 0",
				  step);
		sandbox_set_hint("run 'sysctl -w kernel.unprivileged_userns_"
				 "clone=1' as root, or run with --sandbox "
				 "none");
	} else if (read_sysctl("/proc/sys/kernel/"
			       "apparmor_restrict_unprivileged_userns") == 1) {
		sandbox_set_error("cannot set up the user namespace: '%s': "
				  "AppArmor restricts unprivileged user "
				  "namespaces (%s)", step, why);
		sandbox_set_hint("add an AppArmor profile with 'userns,' for "
				 "runbundle, or run 'sysctl -w kernel."
				 "apparmor_restrict_unprivileged_userns=0' "
				 "as root");
	} else {
		sandbox_set_error("cannot set up the sandbox's namespaces: "
				  "'%s': %s", step, why);
		if (err == EPERM || err == ENOSPC || err == EUSERS)
			sandbox_set_hint("the kernel refuses unprivileged "
					 "user namespaces here; run with "
					 "--sandbox none to opt out");
	}
}

/*
 * The namespaces at once, from a process that the caller forked:
 * unshare(CLONE_NEWUSER) needs a single-threaded process, and the new
 * user namespace owns the others, so no privilege is needed.
 */
int sandbox_ns_unshare(void)
{
	if (unshare(SANDBOX_NS_FLAGS) < 0) {
		sandbox_ns_explain(errno, "unshare");
		return -1;
	}
	return 0;
}

/*
 * Map exactly one uid and one gid: the caller's own, seen inside as the
 * ids the plan names. setgroups is denied first, as the kernel requires
 * for an unprivileged gid map, so the agent cannot drop a group that
 * denies it access.
 */
int sandbox_ns_map_ids(const struct sandbox_plan *plan)
{
	char map[64];

	if (sandbox_write_file("/proc/self/setgroups", "deny") < 0 &&
	    errno != ENOENT)
		goto fail;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)plan->inside_gid,
		 (unsigned)plan->outside_gid);
	if (sandbox_write_file("/proc/self/gid_map", map) < 0)
		goto fail;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)plan->inside_uid,
		 (unsigned)plan->outside_uid);
	if (sandbox_write_file("/proc/self/uid_map", map) < 0)
		goto fail;
	return 0;
fail:
	sandbox_ns_explain(errno, "uid_map");
	return -1;
}

int sandbox_ns_setup_uts(const char *hostname)
{
	if (sethostname(hostname, strlen(hostname)) < 0 ||
	    setdomainname("(none)", 6) < 0) {
		sandbox_set_error("cannot set the hostname: '%s': %s",
				  hostname, strerror(errno));
		return -1;
	}
	return 0;
}

/* The new network namespace has only "lo", and it is down. */
int sandbox_ns_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, rc = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sandbox_set_error("cannot bring up the loopback interface: "
				  "'lo': %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * A listening TCP socket on 127.0.0.1:port inside the sandbox's network
 * namespace. The parent serves it, so the agent reaches a host-side
 * server without any route out. Returns the fd, or -1 with a message.
 */
int sandbox_ns_listen(uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	sandbox_set_error("cannot listen inside the sandbox: "
			  "'127.0.0.1:%u': %s", (unsigned)port,
			  strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}
