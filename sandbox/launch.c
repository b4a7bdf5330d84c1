/*
 * launch.c - start a run, carry it through its states, and wait for it
 * (sandbox.h describes the states).
 *
 * Two processes besides the caller, and a third for a caller with
 * threads:
 *
 *   helper  forked by a caller with threads only (a single-threaded
 *	     caller clones init straight into the namespaces, and init then
 *	     does the helper's work itself). Closes every fd but the control
 *	     socket, replaces its command line with "sandbox-init",
 *	     unshares the namespaces, maps the ids, forks init and waits
 *	     for it.
 *   init    PID 1 of the new PID namespace. Sets up the network, the
 *	     mounts and the session, receives the run's cgroup from the
 *	     caller, forks the agent, forwards signals,
 *	     enforces the timeout, and reaps everything. When the agent
 *	     exits, init kills what is left, reaps it, reports the status
 *	     and exits. The kernel then tears the namespaces down.
 *   agent   vforked by init. Enters the run's cgroup, drops
 *	     privileges, applies Landlock and seccomp, runs the hook and
 *	     executes the command.
 *
 * They talk to the caller over one SOCK_SEQPACKET socketpair, one
 * message per packet: a 4-byte type, then the payload. The caller
 * writes one message, the run's cgroup (send_cgroup()); the rest come
 * from the sandbox side. The caller's end has SO_PASSCRED, so the
 * agent's "ready" carries its pid translated into the caller's PID
 * namespace by the kernel.
 *
 * The helper is forked, not cloned, because fork() in glibc leaves
 * malloc usable in a child of a multithreaded caller, and libseccomp
 * and cJSON allocate. Below, "the helper" means init where init was
 * cloned. With --sandbox none the helper skips the
 * namespaces and acts as init itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

extern char **environ;

enum msg_type {
	MSG_ERROR = 1,		/* message NUL hint NUL: setup failed */
	MSG_PORTS,		/* SCM_RIGHTS: the listening sockets */
	MSG_MOUNTS,		/* JSON array of the mounts; none without a
				 * description when no part was created */
	MSG_READY,		/* SCM_CREDENTIALS, optional listener fd */
	MSG_EXEC_FAILED,	/* errno, then the command name */
	MSG_EXIT,		/* struct exit_report */
	MSG_CGROUP,		/* from the caller: kind NUL path NUL, and
				 * the fd that moves a process into the
				 * cgroup; an empty kind for none */
};

struct exit_report {
	int status;
	int timed_out;
	int survivors;		/* processes that init could not kill */
	int survivor_pid;	/* the first of them */
	int unreaped;		/* processes that outlived SIGKILL */
	int unreaped_pid;	/* the first of them */
	int in_pid_namespace;	/* the pids are the new namespace's */
	int64_t cpu_us;		/* the agent's user and system time */
};

/* Status of a process that failed before the command ran. */
#define EXIT_SETUP 125

#define MAX_FDS (SANDBOX_MAX_PORTS + 1)

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static int send_msg(int sock, int type, const void *data, size_t len,
		    const int *fds, size_t nfds, bool creds)
{
	char buf[65536];
	union {
		char space[CMSG_SPACE(sizeof(int) * MAX_FDS) +
			   CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	size_t clen = 0;

	if (len > sizeof(buf) - 4)
		len = sizeof(buf) - 4;
	memcpy(buf, &type, 4);
	if (len)
		memcpy(buf + 4, data, len);
	iov.iov_len = len + 4;
	memset(&control, 0, sizeof(control));
	msg.msg_control = control.space;
	msg.msg_controllen = sizeof(control.space);
	cm = CMSG_FIRSTHDR(&msg);
	if (nfds) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		clen += CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_NXTHDR(&msg, cm);
	}
	if (creds) {
		struct ucred uc = { getpid(), getuid(), getgid() };

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
		clen += CMSG_SPACE(sizeof(uc));
	}
	msg.msg_controllen = clen;
	if (!clen)
		msg.msg_control = NULL;
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* One received packet, with its fds and credentials. */
struct packet {
	char data[65536];
	size_t len;
	int type;
	int fds[MAX_FDS];
	size_t nfds;
	pid_t pid;	/* sender, from SCM_CREDENTIALS, or -1 */
};

static void take_control(struct packet *p, struct msghdr *msg)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (n > MAX_FDS)
				n = MAX_FDS;
			memcpy(p->fds, CMSG_DATA(cm), n * sizeof(int));
			p->nfds = n;
		} else if (cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			p->pid = uc.pid;
		}
	}
}

/* Receive one packet. Returns 1, 0 at end of stream, or -1. */
static int recv_packet(int sock, struct packet *p, int flags)
{
	union {
		char space[CMSG_SPACE(sizeof(int) * MAX_FDS) +
			   CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = p->data,
			     .iov_len = sizeof(p->data) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.space,
		.msg_controllen = sizeof(control.space),
	};
	ssize_t n;

	p->nfds = 0;
	p->pid = -1;
	do {
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);

	/* A peer that exits with a message of ours unread (init failing
	 * before it reads the cgroup) makes the kernel report ECONNRESET
	 * once, ahead of what the peer sent before it exited. */
	if (n < 0 && errno == ECONNRESET)
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	take_control(p, &msg);
	if (n < 4) {
		p->type = 0;
		p->len = 0;
		return 1;
	}
	memcpy(&p->type, p->data, 4);
	p->len = (size_t)n - 4;
	memmove(p->data, p->data + 4, p->len);
	p->data[p->len] = '\0';
	return 1;
}

/* Report the stored error to the caller and end this process. */
static _Noreturn void child_fail(int sock)
{
	const char *hint = sandbox_error_hint();
	char buf[2048];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "%s", sandbox_error()) + 1;
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
				      hint ? hint : "") + 1;
	if (n > sizeof(buf))
		n = sizeof(buf);
	send_msg(sock, MSG_ERROR, buf, n, NULL, 0, false);
	_exit(EXIT_SETUP);
}

/*
 * Report a failed fork() of the sandbox's own processes. EAGAIN there
 * is most often limits.processes, which the helper, init and the
 * command count against from the start.
 */
static _Noreturn void fork_failed(int sock, const char *what)
{
	int err = errno;

	sandbox_set_error("cannot start the sandbox: '%s': fork failed: %s",
			  what, strerror(err));
	if (err == EAGAIN)
		sandbox_set_hint("raise limits.processes in the policy: the "
				 "sandbox itself needs %d processes, and the "
				 "command needs more for its own children",
				 SANDBOX_MIN_PROCESSES);
	child_fail(sock);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

/* Set PR_SET_PDEATHSIG, then check that the parent did not die before
 * it was set. The parent keeps the write end of alive open. */
static void die_with_parent(int alive, int sock)
{
	struct pollfd p = { .fd = alive, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		sandbox_set_error("cannot tie the sandbox to its parent: "
				  "'%s': %s", "PR_SET_PDEATHSIG",
				  strerror(errno));
		child_fail(sock);
	}
	if (alive >= 0 && poll(&p, 1, 0) > 0)
		_exit(EXIT_SETUP);
}

/*
 * The agent is a vfork() child of init: it shares init's memory, and
 * init sleeps until it executes or exits. A fork would copy init's page
 * tables only for the exec to drop them again, which cost about 100 us
 * per start on a 2-core VM. The agent's fds, signal actions and mask,
 * credentials, rlimits and cwd are its own, but its writes to memory
 * change init's too. So it leaves the hidden command line alone (argv
 * reads the saved copy) and, like init after a raw clone, calls nothing
 * that trusts glibc's cached thread id, such as raise().
 */
static _Noreturn void run_agent(const struct sandbox_plan *plan, int sock,
				int cgroup_fd)
{
	const struct sandbox_config *c = plan->config;
	char **argv = plan->cmdline.argv;
	int listener = -1;
	sigset_t none;

	/* First, so that every process of the command is counted. */
	if (sandbox_limits_join_cgroup(plan, cgroup_fd) < 0)
		child_fail(sock);
	if (chdir(plan->inside) < 0) {
		sandbox_set_error("cannot enter the workspace: '%s': %s",
				  plan->inside, strerror(errno));
		child_fail(sock);
	}
	if (c->mode == SANDBOX_MODE_NAMESPACES &&
	    (sandbox_privs_drop() < 0 || sandbox_landlock_apply(plan) < 0))
		child_fail(sock);
	if (c->mode == SANDBOX_MODE_NAMESPACES &&
	    sandbox_seccomp_load(&plan->seccomp, &listener) < 0)
		child_fail(sock);
	/* Last, because a low address-space limit would make the
	 * allocations of libseccomp fail. The policy's limits go on top
	 * of the recorded ones. */
	if (sandbox_limits_restore(plan) < 0 || sandbox_limits_apply(plan) < 0)
		child_fail(sock);
	if (send_msg(sock, MSG_READY, NULL, 0, &listener, listener >= 0,
		     true) < 0)
		_exit(EXIT_SETUP);
	if (listener >= 0)
		close(listener);
	if (c->hook && c->hook(c->hook_arg) < 0) {
		sandbox_set_error("the launch hook failed: '%s': %s",
				  argv[0], strerror(errno));
		child_fail(sock);
	}
	/* init's environ changes too, but init reads it no more. */
	environ = plan->envp;
	/* Unblocked only now, after "ready", so that a signal held during
	 * the setup acts here as it would on the command (start_agent()). */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);

	int err = errno;
	char buf[600];

	memcpy(buf, &err, sizeof(err));
	snprintf(buf + sizeof(err), sizeof(buf) - sizeof(err), "%s",
		 argv[0]);
	send_msg(sock, MSG_EXEC_FAILED, buf,
		 sizeof(err) + strlen(buf + sizeof(err)) + 1, NULL, 0, false);
	_exit(err == ENOENT ? 127 : 126);
}

/*
 * Send sig to everything the run started but init: the whole PID
 * namespace, or the agent's process group with --sandbox none, where
 * kill_descendants() finds the rest.
 */
static void signal_rest(const struct sandbox_plan *plan, pid_t agent,
			int sig)
{
	if (plan->config->mode == SANDBOX_MODE_NAMESPACES)
		kill(-1, sig);
	else
		kill(-agent, sig);
}

/* The maximum number of children that one pass of kill_descendants()
 * reads; the next pass takes the rest. */
#define MAX_CHILDREN 1024

/*
 * Store the pids of init's children in pids, up to MAX_CHILDREN, from
 * /proc/PID/task/PID/children (init has one thread). Returns the count.
 * NOTE: a kernel without CONFIG_PROC_CHILDREN lacks that file, and then
 * only the agent's process group is killed.
 */
static size_t read_children(pid_t *pids)
{
	char path[64], buf[MAX_CHILDREN * 8], *p = buf;
	size_t n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
		 (int)getpid(), (int)getpid());
	len = sandbox_read_text(path, buf, sizeof(buf));
	while (len > 0 && n < MAX_CHILDREN) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[n++] = (pid_t)pid;
		p = end;
	}
	return n;
}

/*
 * Seconds that init waits for the run's processes to die of its
 * SIGKILL. A process in uninterruptible sleep outlives SIGKILL, such as
 * one whose request a FUSE server has read and never replies to.
 * Without the bound, init would wait with it, and the caller with init.
 */
#define REAP_SECONDS 5

static void reap_deadline(struct timespec *end)
{
	clock_gettime(CLOCK_MONOTONIC, end);
	end->tv_sec += REAP_SECONDS;
}

/* Reap one child, waiting until end at most. Returns 1, 0 when no
 * child is left, or -1 at end. SIGCHLD is blocked in init (run_init()),
 * which takes it here. */
static int reap_one(const struct timespec *end)
{
	sigset_t sigchld;

	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	for (;;) {
		struct timespec now, left;
		pid_t pid = waitpid(-1, NULL, __WALL | WNOHANG);

		if (pid > 0)
			return 1;
		if (pid < 0 && errno != EINTR)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end->tv_sec - now.tv_sec;
		left.tv_nsec = end->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		if (left.tv_sec < 0)
			return -1;
		sigtimedwait(&sigchld, NULL, &left);
	}
}

/*
 * Kill every process descended from the command, with --sandbox none.
 * Init is a child subreaper (run_init()), so a process whose parent
 * dies is reparented to init, however it daemonized. Killing init's
 * children and reaping them until none is left therefore kills the
 * whole tree, and no pid is reused meanwhile, because only init reaps
 * them. Stores in r the number of children that could not be killed (a
 * setuid program that changed its real uid, for a caller without
 * privilege) and the first one's pid, or else the number that did not
 * die within REAP_SECONDS.
 */
static void kill_descendants(struct exit_report *r)
{
	pid_t pids[MAX_CHILDREN];
	struct timespec end;
	size_t n;

	reap_deadline(&end);
	for (;;) {
		size_t killed = 0;

		n = read_children(pids);
		r->survivors = 0;
		for (size_t i = 0; i < n; i++) {
			if (kill(pids[i], SIGKILL) == 0) {
				killed++;
				continue;
			}
			if (errno != EPERM)
				continue;
			if (!r->survivors)
				r->survivor_pid = pids[i];
			r->survivors++;
		}
		if (!killed)
			return;
		/* One of them dies, and its children become init's. */
		if (reap_one(&end) < 0)
			break;
		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
	}
	n = read_children(pids);
	for (size_t i = 0; i < n; i++) {
		if (kill(pids[i], 0) == 0) {
			if (!r->unreaped)
				r->unreaped_pid = pids[i];
			r->unreaped++;
		}
	}
}

/* Reap every child left, which signal_rest() has killed, so that none of
 * them is still in the run's cgroup when init reports the status. The
 * kernel would wait for them all the same when init exits. Returns the
 * number left after REAP_SECONDS, and stores the first one's pid in
 * *first. */
static int reap_rest(pid_t *first)
{
	pid_t pids[MAX_CHILDREN];
	struct timespec end;
	size_t n;
	int rc;

	reap_deadline(&end);
	while ((rc = reap_one(&end)) > 0)
		;
	if (rc == 0)
		return 0;
	/* Without /proc/PID/task/PID/children, one at least. */
	n = read_children(pids);
	*first = n ? pids[0] : 0;
	return n ? (int)n : 1;
}

/*
 * Wait until the caller closes or shuts down its end of the control
 * socket, with SANDBOX_WAIT_STATUS. Init's exit then tears the
 * namespaces down, and that work in the kernel would otherwise hold the
 * CPU that the caller needs to finish with the status.
 */
static void wait_for_caller(int sock)
{
	char byte;

	while (recv(sock, &byte, 1, 0) < 0 && errno == EINTR)
		;
}

/* Reap what has ended. The agent's CPU time separates the SIGKILL of
 * the hard CPU limit from any other SIGKILL. */
static void reap(pid_t agent, struct exit_report *report, bool *done)
{
	struct rusage ru;
	pid_t pid;
	int st;

	while ((pid = wait4(-1, &st, WNOHANG, &ru)) > 0) {
		if (pid == agent) {
			report->status = st;
			report->cpu_us =
				(int64_t)(ru.ru_utime.tv_sec +
					  ru.ru_stime.tv_sec) * 1000000 +
				ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
			*done = true;
		}
	}
}

/* Kill the agent and, with it, everything the run started. */
static void kill_all(const struct sandbox_plan *plan, pid_t agent)
{
	kill(agent, SIGKILL);
	signal_rest(plan, agent, SIGKILL);
}

static void start_timer(uint64_t seconds)
{
	struct itimerval it = { .it_value.tv_sec = (time_t)seconds };

	if (seconds)
		setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * Wait for the agent while forwarding signals, and fill report with its
 * status, its CPU time and whether the timeout ended it. The first
 * forwarded signal goes to the agent, and a second one kills
 * everything, as runbundle record does. The same signal again within
 * 100 ms counts once (sandbox_signal_repeated()): a signal to the
 * caller's process group reaches init directly and forwarded. SIGTSTP
 * stops every process of the run (with --sandbox none, the agent's
 * process group) with SIGSTOP, which a program cannot ignore, and
 * SIGCONT resumes them.
 */
static void supervise(const struct sandbox_plan *plan, pid_t agent,
		      const sigset_t *set, struct exit_report *report)
{
	bool done = false;
	int forwards = 0;

	start_timer(plan->policy->limits.timeout_seconds);
	while (!done) {
		siginfo_t info;
		int sig = sigwaitinfo(set, &info);

		if (sig == SIGCHLD) {
			reap(agent, report, &done);
		} else if (sig == SIGALRM) {
			report->timed_out = 1;
			kill_all(plan, agent);
		} else if (sig == SIGTSTP || sig == SIGCONT) {
			kill(agent, sig == SIGTSTP ? SIGSTOP : SIGCONT);
			signal_rest(plan, agent,
				    sig == SIGTSTP ? SIGSTOP : SIGCONT);
		} else if (sig > 0 && sandbox_signal_repeated(sig)) {
			continue;
		} else if (sig > 0 && ++forwards > 1) {
			kill_all(plan, agent);
		} else if (sig > 0) {
			kill(agent, sig);
		}
	}
}

/*
 * Wait for the run's cgroup from the caller (send_cgroup()), and copy
 * it into plan, which is init's own copy of the caller's plan. Returns
 * the fd that moves a process into the cgroup, or -1 for none. Ends
 * init when the caller has gone.
 */
static int receive_cgroup(struct sandbox_plan *plan, int sock)
{
	struct packet *p = malloc(sizeof(*p));
	const char *path;
	int fd;

	if (!p || recv_packet(sock, p, 0) <= 0 || p->type != MSG_CGROUP) {
		sandbox_set_error("cannot start the command: '%s': %s",
				  "cgroup", "no message from the caller");
		child_fail(sock);
	}
	path = p->data + strlen(p->data) + 1;
	if (path > p->data + p->len)
		path = "";
	snprintf(plan->cgroup_kind, sizeof(plan->cgroup_kind), "%.*s",
		 (int)sizeof(plan->cgroup_kind) - 1, p->data);
	snprintf(plan->cgroup, sizeof(plan->cgroup), "%.*s",
		 (int)sizeof(plan->cgroup) - 1, path);
	fd = p->nfds ? p->fds[0] : -1;
	free(p);
	return fd;
}

/* Make the agent of --sandbox none a process group of its own, and
 * dumpable again, because a tracer without privilege can seize only a
 * dumpable process. */
static void start_unboxed_agent(int sock)
{
	setpgid(0, 0);
	if (prctl(PR_SET_DUMPABLE, 1) < 0) {
		sandbox_set_error("cannot start the command: '%s': %s",
				  "PR_SET_DUMPABLE", strerror(errno));
		child_fail(sock);
	}
}

/*
 * Start the agent with every signal blocked until it executes the
 * command (run_agent()). Without a terminal the agent is in the
 * caller's process group. A signal to that group would otherwise end
 * the agent before it reports ready or an error, and the caller, which
 * waits for "ready", would get init's report of the agent's status.
 */
static pid_t start_agent(const struct sandbox_plan *plan, int sock,
			 int cgroup_fd)
{
	sigset_t all, mask;
	pid_t agent;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &mask);
	/* Without the sandbox, init is not dumpable (sandbox_launch()).
	 * A vfork() child shares that flag with init, so it gets a fork(). */
	if (plan->config->mode == SANDBOX_MODE_NONE)
		agent = fork();
	else
		agent = vfork();
	if (agent < 0)
		fork_failed(sock, "the command");
	if (agent == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (plan->config->mode == SANDBOX_MODE_NONE)
			start_unboxed_agent(sock);
		run_agent(plan, sock, cgroup_fd);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	return agent;
}

static _Noreturn void run_init(const struct sandbox_plan *caller_plan,
			       int sock)
{
	struct sandbox_plan own = *caller_plan, *plan = &own;
	struct exit_report report = { 0 };
	sigset_t set, old;
	int cgroup_fd;
	pid_t agent;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGCONT);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* Every orphan of the command is then reparented to init, which
	 * kills it at the end (kill_descendants()). A PID namespace's init
	 * gets them without this. */
	if (plan->config->mode == SANDBOX_MODE_NONE &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		sandbox_set_error("cannot start the command: '%s': %s",
				  "PR_SET_CHILD_SUBREAPER", strerror(errno));
		child_fail(sock);
	}
	/* A new session, so that the agent has no controlling terminal and
	 * cannot push input into the caller's with TIOCSTI. A caller
	 * without one has none to pass on, so its session is kept, because
	 * a new session is a scheduling autogroup of its own, which slows
	 * down a tracer outside it (plan_session()). */
	if (plan->new_session && setsid() < 0 && getpid() != getsid(0)) {
		sandbox_set_error("cannot start a new session: '%s': %s",
				  "setsid", strerror(errno));
		child_fail(sock);
	}
	cgroup_fd = receive_cgroup(plan, sock);
	agent = start_agent(plan, sock, cgroup_fd);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	supervise(plan, agent, &set, &report);
	signal_rest(plan, agent, SIGKILL);
	report.in_pid_namespace =
		plan->config->mode == SANDBOX_MODE_NAMESPACES;
	if (report.in_pid_namespace)
		report.unreaped = reap_rest(&report.unreaped_pid);
	else
		kill_descendants(&report);
	send_msg(sock, MSG_EXIT, &report, sizeof(report), NULL, 0, false);
	if (plan->config->wait_mode == SANDBOX_WAIT_STATUS)
		wait_for_caller(sock);
	_exit(exit_code(report.status));
}

/* Join the network namespace that the thread beside init made, and
 * open the listening sockets that the parent serves in it. */
static void setup_network(const struct sandbox_plan *plan, int sock,
			  struct sandbox_beside *beside)
{
	const struct sandbox_config *c = plan->config;
	int fds[SANDBOX_MAX_PORTS];

	if (sandbox_beside_join(beside) < 0)
		child_fail(sock);
	for (size_t i = 0; i < c->n_ports; i++) {
		fds[i] = sandbox_ns_listen(c->ports[i]);
		if (fds[i] < 0)
			child_fail(sock);
	}
	if (c->n_ports && send_msg(sock, MSG_PORTS, NULL, 0, fds, c->n_ports,
				   false) < 0)
		_exit(EXIT_SETUP);
	for (size_t i = 0; i < c->n_ports; i++)
		close(fds[i]);
}

/*
 * Keep only the mounts of parts created for the run, which are all the
 * caller needs without a description, so that a 2 KiB list is neither
 * printed here nor parsed there.
 */
static void keep_created(cJSON *mounts)
{
	cJSON *m = mounts->child;

	while (m) {
		cJSON *next = m->next;

		if (!cJSON_GetObjectItemCaseSensitive(m, "created"))
			cJSON_Delete(cJSON_DetachItemViaPointer(mounts, m));
		m = next;
	}
}

/* Send the parts created before the build failed, so that the caller
 * removes them, then the build's error. */
static _Noreturn void mounts_fail(cJSON *mounts, int sock)
{
	char *text;

	keep_created(mounts);
	if (mounts->child) {
		text = cJSON_PrintUnformatted(mounts);
		if (text)
			send_msg(sock, MSG_MOUNTS, text, strlen(text) + 1,
				 NULL, 0, false);
		free(text);
	}
	child_fail(sock);
}

static void setup_mounts(const struct sandbox_plan *plan, int sock)
{
	cJSON *mounts = cJSON_CreateArray();
	char *text;

	if (!mounts)
		child_fail(sock);
	if (sandbox_mounts_build(plan, mounts) < 0)
		mounts_fail(mounts, sock);
	if (plan->config->skip_description)
		keep_created(mounts);
	/* Nothing to send then, and no reason to wake the caller. */
	if (plan->config->skip_description && !mounts->child) {
		cJSON_Delete(mounts);
		return;
	}
	text = cJSON_PrintUnformatted(mounts);
	if (!text || send_msg(sock, MSG_MOUNTS, text, strlen(text) + 1, NULL,
			      0, false) < 0)
		_exit(EXIT_SETUP);
	free(text);
	cJSON_Delete(mounts);
}

/* Start the thread beside init (beside.c), which makes the network
 * namespace while init goes on. */
static void start_beside(int sock, struct sandbox_beside *beside)
{
	if (sandbox_beside_start(beside) < 0)
		child_fail(sock);
}

/*
 * Init's work inside the new namespaces, from either way of making
 * them, once the thread beside init has started. Init joins the network
 * namespace that the thread made once the root is assembled.
 */
static _Noreturn void setup_namespaces(const struct sandbox_plan *plan,
				       int sock,
				       struct sandbox_beside *beside)
{
	if (sandbox_ns_setup_uts(plan->policy->hostname) < 0)
		child_fail(sock);
	setup_mounts(plan, sock);
	setup_network(plan, sock, beside);
	run_init(plan, sock);
}

static _Noreturn void run_namespaced_init(const struct sandbox_plan *plan,
					  int sock, int alive)
{
	struct sandbox_beside beside;

	die_with_parent(alive, sock);
	close(alive);
	start_beside(sock, &beside);
	setup_namespaces(plan, sock, &beside);
}

/* Whether sig is one of the signals that init forwards. */
static bool is_forwarded(int sig)
{
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++) {
		if (forwarded[i] == sig)
			return true;
	}
	return false;
}

/*
 * Give every signal its default action. The caller may ignore some
 * (SIGPIPE, often), and an ignored signal stays ignored across
 * execve(); an ignored SIGCHLD would also reap children behind init's
 * back. A forwarded signal that the caller ignores stays ignored, so
 * that the command inherits it as it would outside: nohup ignores
 * SIGHUP, and a shell's background job SIGINT and SIGQUIT.
 */
static void reset_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (is_forwarded(sig) && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		signal(sig, SIG_DFL);
	}
}

/* Close every fd above 2 except keep. */
static void close_inherited(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
}

/* The signals that the helper passes on to init: those that init
 * forwards or acts on, so that the caller may signal either. */
static void relay_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTSTP);
	sigaddset(set, SIGCONT);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaddset(set, forwarded[i]);
}

/* In the helper: pass signals on to init until it ends, and return its
 * wait status. */
static int relay_to_init(pid_t init, const sigset_t *set)
{
	int status;

	for (;;) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == SIGCHLD && waitpid(init, &status, WNOHANG) == init)
			return status;
		if (sig > 0 && sig != SIGCHLD)
			kill(init, sig);
	}
}

static _Noreturn void run_helper(const struct sandbox_plan *plan, int sock,
				 pid_t parent)
{
	int alive[2], status;
	sigset_t relayed;
	pid_t init;

	close_inherited(sock);
	reset_signals();
	/* Before the mounts, which make directories for the run. */
	umask(plan->umask);
	/* Blocked before init exists, so that none is lost; init blocks
	 * them too, and the agent unblocks every signal. */
	relay_set(&relayed);
	sigprocmask(SIG_BLOCK, &relayed, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_SETUP);
	/* Before init is forked, so that init inherits the new area. */
	if (sandbox_cmdline_hide(&plan->cmdline, "sandbox-init") < 0)
		child_fail(sock);
	if (plan->config->mode == SANDBOX_MODE_NONE)
		run_init(plan, sock);
	if (sandbox_ns_unshare() < 0 || sandbox_ns_map_ids(plan) < 0)
		child_fail(sock);
	/* Gaining the new namespace's capabilities is a credential change,
	 * which clears the parent-death signal of an unprivileged caller. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_SETUP);
	if (pipe2(alive, O_CLOEXEC) < 0) {
		sandbox_set_error("cannot create a pipe: '%s': %s", "pipe2",
				  strerror(errno));
		child_fail(sock);
	}
	init = fork();
	if (init == 0) {
		close(alive[1]);
		run_namespaced_init(plan, sock, alive[0]);
	}
	if (init < 0)
		fork_failed(sock, "init");
	close(alive[0]);
	close(sock);
	status = relay_to_init(init, &relayed);
	_exit(exit_code(status));
}

/* Whether the parent end of the control socket was closed: the caller
 * died before PR_SET_PDEATHSIG was in place. */
static bool caller_gone(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLHUP);
}

/*
 * Init cloned by the caller straight into the new namespaces, with no
 * helper between them. It maps its own ids, as the helper did after
 * unshare().
 */
static _Noreturn void run_cloned_init(const struct sandbox_plan *plan,
				      int sock)
{
	struct sandbox_beside beside;

	/* Before the thread starts, which opens descriptors of its own. The
	 * thread already has the capabilities that the clone gave, so it
	 * does not wait for the ids to be mapped. */
	close_inherited(sock);
	start_beside(sock, &beside);
	reset_signals();
	umask(plan->umask);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || caller_gone(sock))
		_exit(EXIT_SETUP);
	if (sandbox_cmdline_hide(&plan->cmdline, "sandbox-init") < 0 ||
	    sandbox_ns_map_ids(plan) < 0)
		child_fail(sock);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || caller_gone(sock))
		_exit(EXIT_SETUP);
	setup_namespaces(plan, sock, &beside);
}

/*
 * Read /proc/self/stat once for what the fork needs: the number of
 * threads (field 20), and the argument area, which is copied here so
 * that init can hide it without allocating.
 */
static int plan_process(struct sandbox_plan *plan)
{
	char stat[2048];
	const char *threads;

	if (sandbox_read_text("/proc/self/stat", stat, sizeof(stat)) < 0) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "/proc/self/stat", strerror(errno));
		return -1;
	}
	threads = sandbox_stat_field(stat, 20);
	plan->threads = threads ? strtol(threads, NULL, 10) : -1;
	return sandbox_cmdline_save(&plan->cmdline, stat, plan->config->argv);
}

/*
 * Clone init into the new namespaces at once, as bubblewrap does, which
 * saves the helper process. A raw clone() runs none of glibc's fork
 * handlers, so malloc stays usable in the child only when no other
 * thread could hold its locks: a caller with threads gets the helper.
 * Returns the pid, -1 with a message when the kernel refused, or -2
 * when the caller has threads; the child never returns.
 *
 * NOTE: glibc still holds the caller's thread id in the child, as after
 * any raw clone(), so init must not call what relies on it (raise(),
 * abort(), error-checking mutexes). It ends with _exit(). Creating and
 * joining a thread (beside.c) does not use that id: the kernel writes
 * the new thread's id, and pthread_join() waits on that.
 */
static pid_t clone_init(const struct sandbox_plan *plan, int sock)
{
	long pid;

	if (plan->config->mode != SANDBOX_MODE_NAMESPACES ||
	    plan->threads != 1)
		return -2;
	pid = syscall(SYS_clone, (unsigned long)SANDBOX_NS_FLAGS | SIGCHLD,
		      NULL, NULL, NULL, NULL);
	if (pid == 0)
		run_cloned_init(plan, sock);
	if (pid < 0) {
		sandbox_ns_explain(errno, "clone");
		return -1;
	}
	return (pid_t)pid;
}

static bool path_is_clean(const char *path)
{
	return path[0] == '/' && !strstr(path, "//") && !strstr(path, "/./") &&
	       !strstr(path, "/../") &&
	       (strlen(path) < 3 || strcmp(path + strlen(path) - 3, "/..")) &&
	       (strlen(path) < 2 || strcmp(path + strlen(path) - 2, "/."));
}

static int check_config(const struct sandbox_config *c)
{
	if (!c->policy || !c->argv || !c->argv[0] || !c->workspace) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "config",
				  "policy, argv or workspace missing");
		return -1;
	}
	if (c->n_ports > SANDBOX_MAX_PORTS) {
		sandbox_set_error("cannot start the sandbox: '%zu ports': "
				  "more than %d", c->n_ports,
				  SANDBOX_MAX_PORTS);
		return -1;
	}
	for (size_t i = 0; c->proxy_port && i <= c->n_ports; i++) {
		if (i == c->n_ports) {
			sandbox_set_error("cannot start the sandbox: "
					  "'proxy port %u': not among the "
					  "ports to open",
					  (unsigned)c->proxy_port);
			return -1;
		}
		if (c->ports[i] == c->proxy_port)
			break;
	}
	if (c->workspace_inside && (!path_is_clean(c->workspace_inside) ||
				    strcmp(c->workspace_inside, "/") == 0)) {
		sandbox_set_error("cannot start the sandbox: '%s': the "
				  "workspace path inside must be absolute, "
				  "normalised and not '/'",
				  c->workspace_inside);
		return -1;
	}
	return 0;
}

/* The checks of a launch that need no resources: the config, the
 * workspace and where it would be placed. */
static int plan_paths(struct sandbox_plan *plan, const struct sandbox_config *c)
{
	memset(plan, 0, sizeof(*plan));
	plan->config = c;
	plan->policy = c->policy;
	if (check_config(c) < 0)
		return -1;
	if (!realpath(c->workspace, plan->workspace)) {
		sandbox_set_error("cannot open the workspace: '%s': %s",
				  c->workspace, strerror(errno));
		return -1;
	}
	snprintf(plan->inside, sizeof(plan->inside), "%s",
		 c->workspace_inside ? c->workspace_inside : plan->workspace);
	if (strcmp(plan->inside, "/") == 0) {
		sandbox_set_error("cannot start the sandbox: '%s': the "
				  "workspace cannot be the root directory",
				  plan->inside);
		return -1;
	}
	if (sandbox_placement_check(plan) < 0)
		return -1;
	return sandbox_mounts_check_parts(plan);
}

int sandbox_check(const struct sandbox_config *config)
{
	struct sandbox_plan plan;

	return plan_paths(&plan, config);
}

/*
 * Return whether init must start a new session. It need not only when
 * this process has no controlling terminal, which open("/dev/tty")
 * reports with ENXIO. Any other result, an error included, means a new
 * session.
 */
static bool plan_session(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENXIO;
}

static int plan_init(struct sandbox_plan *plan, const struct sandbox_config *c)
{
	if (plan_paths(plan, c) < 0)
		return -1;
	plan->outside_uid = geteuid();
	plan->outside_gid = getegid();
	plan->inside_uid = c->set_ids ? c->uid : plan->outside_uid;
	plan->inside_gid = c->set_ids ? c->gid : plan->outside_gid;
	if (sandbox_limits_plan_inherited(plan) < 0)
		return -1;
	plan->landlock_abi = sandbox_landlock_abi();
	plan->new_session = plan_session();
	plan->seccomp.allow_nested_userns = c->policy->allow_nested_userns;
	plan->seccomp.trace_exec = c->trace_exec;
	plan->seccomp.notify = c->seccomp_notify;
	/* NOTE: with reports, a caller that asks for notification must run
	 * the supervisor, or every write-open waits for it and then fails
	 * with ENOSYS when the listener closes. */
	plan->seccomp.report = c->seccomp_notify;
	plan->seccomp.seal_memfd = c->policy->exec_allow.count > 0 &&
				   !sandbox_seccomp_memfd_sysctl();
	/* Compiled once here: the agent inherits it, and the description
	 * reuses its digest. */
	if (c->mode == SANDBOX_MODE_NAMESPACES &&
	    sandbox_seccomp_prepare(&plan->seccomp) < 0)
		return -1;
	if (plan_process(plan) < 0)
		return -1;
	plan->envp = sandbox_env_build(plan);
	if (!plan->envp) {
		sandbox_cmdline_free(&plan->cmdline);
		return -1;
	}
	return 0;
}

static void child_init(struct sandbox_child *child)
{
	memset(child, 0, sizeof(*child));
	child->pid = -1;
	child->agent_pid = -1;
	child->notify_fd = -1;
	child->control = -1;
	child->workspace_lock = -1;
}

static void close_fds(struct packet *p)
{
	for (size_t i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	p->nfds = 0;
}

static void store_remote_error(const struct packet *p)
{
	const char *hint = p->data + strlen(p->data) + 1;

	sandbox_set_error("%s", p->data);
	if (hint < p->data + p->len && *hint)
		sandbox_set_hint("%s", hint);
}

/*
 * Store the error for init's report of the agent's status before
 * "ready". The agent then died during its setup without an error
 * message, of a signal that it cannot block (start_agent()), such as
 * SIGKILL.
 */
static void store_early_exit(const struct packet *p)
{
	struct exit_report rep = { 0 };
	const char *name;
	char what[32];

	if (p->len >= sizeof(rep))
		memcpy(&rep, p->data, sizeof(rep));
	name = WIFSIGNALED(rep.status) ?
	       sigabbrev_np(WTERMSIG(rep.status)) : NULL;
	if (name)
		snprintf(what, sizeof(what), "SIG%s", name);
	else if (WIFSIGNALED(rep.status))
		snprintf(what, sizeof(what), "signal %d",
			 WTERMSIG(rep.status));
	else
		snprintf(what, sizeof(what), "status %d",
			 exit_code(rep.status));
	sandbox_set_error("cannot start the command: '%s': its process "
			  "ended before the command ran", what);
}

static int handle_setup_packet(struct sandbox_child *child,
			       struct packet *p, cJSON **mounts)
{
	switch (p->type) {
	case MSG_ERROR:
		store_remote_error(p);
		close_fds(p);
		return -1;
	case MSG_EXIT:
		store_early_exit(p);
		close_fds(p);
		return -1;
	case MSG_PORTS:
		memcpy(child->port_fds, p->fds, p->nfds * sizeof(int));
		child->n_port_fds = p->nfds;
		p->nfds = 0;
		return 0;
	case MSG_MOUNTS:
		cJSON_Delete(*mounts);
		*mounts = cJSON_Parse(p->data);
		return 0;
	case MSG_READY:
		child->agent_pid = p->pid;
		if (p->nfds)
			child->notify_fd = p->fds[0];
		for (size_t i = 1; i < p->nfds; i++)
			close(p->fds[i]);
		p->nfds = 0;
		return 1;
	default:
		close_fds(p);
		sandbox_set_error("cannot start the sandbox: '%d': unexpected "
				  "message from the sandbox", p->type);
		return -1;
	}
}

/* Read setup messages until the agent is ready. Returns 0 or -1. */
static int await_ready(struct sandbox_child *child, cJSON **mounts)
{
	struct packet *p = malloc(sizeof(*p));
	int rc = -1;

	if (!p) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "packet", strerror(ENOMEM));
		return -1;
	}
	for (;;) {
		int got = recv_packet(child->control, p, 0);

		if (got <= 0) {
			sandbox_set_error("cannot start the sandbox: '%s': %s",
					  "helper", got == 0 ?
					  "it exited during setup" :
					  strerror(errno));
			break;
		}
		rc = handle_setup_packet(child, p, mounts);
		if (rc != 0)
			break;
	}
	free(p);
	return rc > 0 ? 0 : -1;
}

static void reap_helper(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

static void abort_launch(struct sandbox_child *child,
			 const struct sandbox_plan *plan)
{
	int status;

	kill(child->pid, SIGKILL);
	reap_helper(child->pid, &status);
	sandbox_created_remove(child);
	for (size_t i = 0; i < child->n_port_fds; i++)
		close(child->port_fds[i]);
	if (child->notify_fd >= 0)
		close(child->notify_fd);
	close(child->control);
	sandbox_limits_remove(plan->cgroup);
	child_init(child);
}

static int open_control(int sv[2])
{
	int one = 1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) <
		    0) {
		sandbox_set_error("cannot create the control socket: '%s': "
				  "%s", "socketpair", strerror(errno));
		return -1;
	}
	return 0;
}

static int fork_helper(struct sandbox_child *child,
		       const struct sandbox_plan *plan)
{
	pid_t parent = getpid();
	int sv[2];

	if (open_control(sv) < 0)
		return -1;
	child->pid = clone_init(plan, sv[1]);
	if (child->pid == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (child->pid == -2)
		child->pid = fork();
	if (child->pid == 0) {
		close(sv[0]);
		run_helper(plan, sv[1], parent);
	}
	close(sv[1]);
	if (child->pid < 0) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "fork", strerror(errno));
		close(sv[0]);
		return -1;
	}
	child->control = sv[0];
	return 0;
}

/*
 * Make the run's cgroup and send init the fd that moves the agent into
 * it, or an empty kind when the run gets rlimits only. This runs after
 * the clone, so that the cgroup is made while init assembles the root
 * (an estimated 0.05 ms as root, from probes). Init waits for the
 * message before it starts the agent, and reads end of stream when
 * this fails. Returns 0, or -1 with the error set.
 */
static int send_cgroup(struct sandbox_child *child, struct sandbox_plan *plan)
{
	char buf[sizeof(plan->cgroup_kind) + sizeof(plan->cgroup)];
	size_t kind_len, path_len;
	int fd = -1, rc;

	if (sandbox_limits_prepare(plan) < 0 ||
	    sandbox_limits_open_cgroup(plan, &fd) < 0) {
		shutdown(child->control, SHUT_WR);
		return -1;
	}
	kind_len = strlen(plan->cgroup_kind) + 1;
	path_len = strlen(plan->cgroup) + 1;
	memcpy(buf, plan->cgroup_kind, kind_len);
	memcpy(buf + kind_len, plan->cgroup, path_len);
	rc = send_msg(child->control, MSG_CGROUP, buf, kind_len + path_len,
		      &fd, fd >= 0, false);
	if (fd >= 0)
		close(fd);
	/* Init has ended already: its own error follows in the socket. */
	if (rc < 0 && (errno == EPIPE || errno == ECONNRESET))
		return 0;
	if (rc < 0) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "cgroup", strerror(errno));
		shutdown(child->control, SHUT_WR);
	}
	return rc;
}

int sandbox_launch(const struct sandbox_config *config,
		   struct sandbox_child *child)
{
	struct sandbox_plan plan;
	struct sandbox_kept_error failed;
	cJSON *mounts = NULL;
	int rc, cgroup_rc;

	child_init(child);
	if (plan_init(&plan, config) < 0)
		return -1;
	/* Without the sandbox, the agent could read this process's memory
	 * and environ in /proc, which contain env.secrets and the gateway's
	 * keys. Not dumpable, both belong to root, and init inherits that. */
	if (config->mode == SANDBOX_MODE_NONE &&
	    prctl(PR_SET_DUMPABLE, 0) < 0) {
		sandbox_set_error("cannot start the command: '%s': %s",
				  "PR_SET_DUMPABLE", strerror(errno));
		goto fail;
	}
	if (config->mode == SANDBOX_MODE_NAMESPACES) {
		sandbox_created_lock(child, plan.workspace);
		sandbox_git_watch_start(child, config->policy,
					plan.workspace);
	}
	if (fork_helper(child, &plan) < 0)
		goto fail;
	cgroup_rc = send_cgroup(child, &plan);
	if (cgroup_rc < 0)
		sandbox_error_keep(&failed);
	/* Parts may have been created even when a later step failed. After
	 * a failed send_cgroup(), init reads end of stream where it waits
	 * for the cgroup and fails, once it has sent the parts. */
	rc = await_ready(child, &mounts);
	if (sandbox_created_collect(child, mounts, plan.workspace) < 0)
		rc = -1;
	if (cgroup_rc < 0)
		rc = sandbox_error_restore(&failed);
	if (rc < 0) {
		abort_launch(child, &plan);
		goto fail;
	}
	/* sandbox_describe() takes ownership of mounts. */
	if (config->skip_description)
		cJSON_Delete(mounts);
	else
		child->description = sandbox_describe(&plan, mounts);
	snprintf(child->cgroup, sizeof(child->cgroup), "%s", plan.cgroup);
	snprintf(child->cgroup_kind, sizeof(child->cgroup_kind), "%s",
		 plan.cgroup_kind);
	child->wait_mode = config->wait_mode;
	sandbox_env_free(plan.envp);
	sandbox_cmdline_free(&plan.cmdline);
	return 0;
fail:
	cJSON_Delete(mounts);
	sandbox_created_unlock(child);
	sandbox_limits_remove(plan.cgroup);
	sandbox_env_free(plan.envp);
	sandbox_cmdline_free(&plan.cmdline);
	return -1;
}

static void handle_final_packet(struct packet *p, struct sandbox_result *r,
				bool *have_exit)
{
	if (p->type == MSG_EXIT && p->len >= sizeof(struct exit_report)) {
		struct exit_report rep;

		memcpy(&rep, p->data, sizeof(rep));
		r->status = rep.status;
		r->cpu_us = rep.cpu_us;
		r->timed_out = rep.timed_out != 0;
		r->survivors = rep.survivors;
		r->survivor_pid = rep.survivor_pid;
		r->unreaped = rep.unreaped;
		r->unreaped_pid = rep.in_pid_namespace ? 0 : rep.unreaped_pid;
		*have_exit = true;
	} else if (p->type == MSG_EXEC_FAILED && p->len > sizeof(int)) {
		int err;

		memcpy(&err, p->data, sizeof(err));
		r->exec_failed = true;
		snprintf(r->message, sizeof(r->message),
			 "cannot run the command: '%s': %s",
			 p->data + sizeof(int), strerror(err));
	} else if (p->type == MSG_ERROR) {
		snprintf(r->message, sizeof(r->message), "%.400s", p->data);
	}
	close_fds(p);
}

/* Read what the run's cgroup stopped, before the cgroup is removed, and
 * what the run changed in the workspace's git directory. */
static void read_findings(const struct sandbox_child *child,
			    struct sandbox_result *r)
{
	r->process_limit_hits = sandbox_limits_process_hits(child->cgroup);
	r->memory_limit_kills = sandbox_limits_memory_kills(child->cgroup);
	sandbox_git_watch_check(child, r);
}

/*
 * Read the sandbox's last messages up to init's report, and return
 * whether the run can end there. It can when the created parts and the
 * run's cgroup can be removed at once, which they can because init has
 * reaped every process of the command. Init is left unreaped.
 */
static bool finish_at_status(struct sandbox_child *child, struct packet *p,
			     struct sandbox_result *result, bool *have_exit)
{
	if (child->wait_mode != SANDBOX_WAIT_STATUS)
		return false;
	while (!*have_exit && recv_packet(child->control, p, 0) > 0)
		handle_final_packet(p, result, have_exit);
	if (!*have_exit)
		return false;
	read_findings(child, result);
	if (sandbox_created_remove_early(child) < 0 ||
	    sandbox_limits_try_remove(child->cgroup) < 0)
		return false;
	child->cgroup[0] = '\0';
	child->pid = -1;
	child->ended_at_status = true;
	return true;
}

/* How long the caller waits for init to exit once init has reported
 * processes that outlived its SIGKILL. Init of a PID namespace cannot
 * exit before every process of the namespace has. */
#define ABANDON_MS 1000

/*
 * Wait until the helper, or the cloned init, can be reaped, and read
 * init's last messages meanwhile. Returns false when init reported
 * processes that outlived SIGKILL and has not exited ABANDON_MS later.
 * Returns false too when init ended without a report (killed by the
 * caller) and has not exited REAP_SECONDS later. The kernel then kills
 * the processes of its PID namespace and waits for them, as init would
 * have. Without pidfd_open() (Linux 5.3), returns true at once.
 */
static bool await_exit(struct sandbox_child *child, struct packet *p,
		       struct sandbox_result *r, bool *have_exit)
{
	int pidfd = (int)syscall(SYS_pidfd_open, child->pid, 0);
	bool readable = true;

	if (pidfd < 0)
		return true;
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = readable ? child->control : -1,
			  .events = POLLIN },
		};
		int timeout = -1, n;

		if (*have_exit && r->unreaped)
			timeout = ABANDON_MS;
		else if (!readable && !*have_exit)
			timeout = REAP_SECONDS * 1000;
		n = poll(fds, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fds[0].revents) {
			close(pidfd);
			return n != 0;
		}
		n = recv_packet(child->control, p, MSG_DONTWAIT);
		if (n > 0)
			handle_final_packet(p, r, have_exit);
		else if (n == 0 || errno != EAGAIN)
			readable = false;
	}
}

/* Count the pids of /proc/PID/task/PID/children, and store the first
 * in *first. */
static int count_children(pid_t pid, pid_t *first)
{
	char path[64], buf[4096], *at = buf, *end;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	if (sandbox_read_text(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (;;) {
		long child = strtol(at, &end, 10);

		if (end == at)
			return n;
		if (!n)
			*first = (pid_t)child;
		n++;
		at = end;
	}
}

/* Whether pid is the init of a PID namespace below ours: the last pid
 * of its NSpid line is 1. */
static bool is_namespace_init(pid_t pid)
{
	char path[64], buf[4096], *line, *end;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (sandbox_read_text(path, buf, sizeof(buf)) <= 0)
		return false;
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return false;
	end = strchr(line + 1, '\n');
	if (end)
		*end = '\0';
	end = strrchr(line, '\t');
	return end && strcmp(end + 1, "1") == 0;
}

/*
 * Give up on a run whose init cannot exit: processes of its PID
 * namespace outlived SIGKILL. The helper is killed and left unreaped,
 * as is a cloned init, whose waitpid() would last until they die. The
 * pid stored is the first of them, which is init's child.
 */
static void abandon(struct sandbox_child *child, struct sandbox_result *r)
{
	pid_t init = child->pid, first = 0;
	int n = 0;

	if (!is_namespace_init(init) && count_children(init, &init) == 0)
		init = 0;
	if (init > 0)
		n = count_children(init, &first);
	if (!r->unreaped_pid)
		r->unreaped_pid = first;
	if (!r->unreaped)
		r->unreaped = n ? n : 1;
	kill(child->pid, SIGKILL);
	sandbox_created_remove(child);
	read_findings(child, r);
	child->pid = -1;
}

int sandbox_wait(struct sandbox_child *child, struct sandbox_result *result)
{
	struct packet *p = malloc(sizeof(*p));
	bool have_exit = false;
	int status;

	memset(result, 0, sizeof(*result));
	if (!p) {
		sandbox_set_error("cannot wait for the sandbox: '%s': %s",
				  "packet", strerror(ENOMEM));
		return -1;
	}
	if (finish_at_status(child, p, result, &have_exit)) {
		free(p);
		result->exit_code = exit_code(result->status);
		return 0;
	}
	/* Init waits for this before it exits (wait_for_caller()). */
	if (child->wait_mode == SANDBOX_WAIT_STATUS)
		shutdown(child->control, SHUT_WR);
	if (!await_exit(child, p, result, &have_exit)) {
		abandon(child, result);
		free(p);
		result->exit_code = exit_code(result->status);
		return 0;
	}
	while (waitpid(child->pid, &status, 0) < 0) {
		if (errno == EINTR)
			continue;
		/* A caller's wait for any child (a ptrace tracer's, say) may
		 * have reaped the helper already. Init's report of the
		 * agent's status is then in the socket. */
		if (errno == ECHILD) {
			status = EXIT_SETUP << 8;
			break;
		}
		sandbox_set_error("cannot wait for the sandbox: '%d': %s",
				  (int)child->pid, strerror(errno));
		free(p);
		return -1;
	}
	/* The helper, or the cloned init, was the last process of the
	 * sandbox, so its mounts are gone and the parts it created can be
	 * removed. */
	sandbox_created_remove(child);
	while (recv_packet(child->control, p, MSG_DONTWAIT) > 0)
		handle_final_packet(p, result, &have_exit);
	free(p);
	if (!have_exit)
		result->status = status;
	result->exit_code = exit_code(result->status);
	read_findings(child, result);
	child->pid = -1;
	return 0;
}

void sandbox_print_unreaped(const struct sandbox_result *r, FILE *out)
{
	char pid[32] = "?";

	if (!r->unreaped)
		return;
	if (r->unreaped_pid > 0)
		snprintf(pid, sizeof(pid), "%d", (int)r->unreaped_pid);
	fprintf(out, "runbundle: warning: processes of the run did not exit "
		"within %d s of SIGKILL: '%s': they are left behind (%d in "
		"all)\n", REAP_SECONDS,
		pid, r->unreaped);
	fprintf(out, "hint: a process in uninterruptible sleep (state D in "
		"ps) outlives SIGKILL, such as one waiting for a FUSE server "
		"or an NFS mount; it ends when that wait does\n");
}

void sandbox_kill(struct sandbox_child *child)
{
	if (child->pid > 0)
		kill(child->pid, SIGKILL);
}

void sandbox_child_release(struct sandbox_child *child)
{
	int status;

	if (child->pid > 0) {
		kill(child->pid, SIGKILL);
		reap_helper(child->pid, &status);
	}
	sandbox_created_remove(child);
	/* After a run that ended at the status, the caller's exit closes
	 * the socket, and init exits then (enum sandbox_wait_mode). */
	if (child->control >= 0 && !child->ended_at_status)
		close(child->control);
	sandbox_limits_remove(child->cgroup);
	cJSON_Delete(child->description);
	child_init(child);
}
