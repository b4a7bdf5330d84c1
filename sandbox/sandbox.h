/*
 * sandbox.h - run one command in a least-privilege Linux sandbox built
 * from a policy, without privilege, and describe what was enforced.
 *
 * A run goes through these states:
 *
 *   launch: the caller forks a helper, which unshares the user, mount,
 *	PID, network, IPC and UTS namespaces, maps one uid and one gid,
 *	and forks the sandbox's init (PID 1 of the new PID namespace).
 *	Init brings loopback up, opens the requested listening sockets
 *	and passes them out, assembles the new root on tmpfs, pivots into
 *	it, and forks the agent process.
 *   ready: the agent drops every capability, sets no_new_privs, applies
 *	Landlock, the seccomp filter and the rlimits, and sends "ready"
 *	with its own pid. sandbox_launch() returns here.
 *   running: the agent runs the caller's hook, then execve(). Init
 *	forwards the first SIGTERM, SIGINT, SIGHUP or SIGQUIT to it, and
 *	kills the whole run on a second one. SIGTSTP to init stops every
 *	process of the run with SIGSTOP, and SIGCONT resumes them.
 *   done: the agent exits, or the timeout expires. Init kills every
 *	other process of the namespace, reaps them, reports the agent's
 *	status and exits. With --sandbox none, init is a child subreaper
 *	and kills every process descended from the agent.
 *   torn down: the kernel has removed the namespaces with init's exit,
 *	and the caller has reaped init. sandbox_wait() returns the
 *	agent's status here, or already at done (enum sandbox_wait_mode).
 *
 * Invariants:
 *
 *  1. The host's root is not visible to the agent. Its root is a
 *     read-only tmpfs with read-only binds of the policy's directories, the
 *     workspace, a private /tmp and HOME, a minimal /dev and a /proc of
 *     its own PID namespace.
 *  2. No file descriptor of the caller above 2 reaches the agent.
 *  3. If the caller dies, the helper, init and so the whole tree die
 *     (PR_SET_PDEATHSIG at each step). PR_SET_PDEATHSIG fires when the
 *     thread that forked exits, so call sandbox_launch() from a thread
 *     that outlives the sandbox.
 *  4. Secrets (policy env.secrets) are removed from the environment
 *     before anything runs inside.
 *
 * Errors: functions return -1 and store a message that sandbox_error()
 * returns, with a hint when the fix is known. Nothing here prints or
 * exits.
 */
#ifndef SANDBOX_SANDBOX_H
#define SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sandbox/policy.h"

/* The largest number of loopback ports one launch opens. */
#define SANDBOX_MAX_PORTS 16

enum sandbox_mode {
	SANDBOX_MODE_NAMESPACES = 0,	/* the whole sandbox */
	SANDBOX_MODE_NONE,		/* explicit opt-out: environment
					 * filtering, limits and fd closing
					 * only; recorded as "none" */
};

/*
 * When sandbox_wait() returns. At "done" (the states above), every
 * process of the command has been reaped, but the kernel still tears
 * down the namespaces, the mount namespace's mounts among them. With
 * the default policy that took 0.3 to 0.5 ms (bench/sandbox.sh, on the
 * machine of docs/benchmarks.md).
 */
enum sandbox_wait_mode {
	/* At "torn down": nothing of the run is left when sandbox_wait()
	 * returns. The recorder needs it, because its last snapshot of the
	 * workspace must not race a process that is still dying, and the
	 * replay for the same reason. */
	SANDBOX_WAIT_TEARDOWN = 0,
	/* At "done", once the parts created for the run
	 * (config.create_missing_parts) and the run's cgroup are removed,
	 * which works there because init has reaped every process of the
	 * command. When a removal fails with EBUSY, it waits as
	 * SANDBOX_WAIT_TEARDOWN does.
	 * Init then exits, and the kernel tears the namespaces down, only
	 * when the caller exits and so closes the control socket, which
	 * sandbox_child_release() leaves open: the teardown then competes
	 * with none of the caller's work. Init is left unreaped too, so
	 * this mode suits a caller that exits right after, as
	 * `runbundle sandbox` does, and as bwrap does. */
	SANDBOX_WAIT_STATUS,
};

/*
 * Run in the agent process after every restriction is in place, as the
 * last step before execve(). The process tracer uses it to stop the
 * process for PTRACE_SEIZE, which also suits the seccomp exec-tracing
 * rule: the tracer is attached before the first execve(). Return 0 to
 * go on, or -1 with errno set to abort the run (the agent exits with
 * status 125).
 */
typedef int (*sandbox_hook_fn)(void *arg);

/*
 * The umask and the rlimits that the command would otherwise inherit
 * from the caller, as a replay restores them from the recorded
 * description. A hard limit is not raised, because that needs
 * CAP_SYS_RESOURCE on the host: a limit above this caller's is cut to
 * it (sandbox_limits_plan_inherited()), and the description shows the
 * value that the command got.
 */
struct sandbox_inherit {
	bool set_umask;
	mode_t umask;
	bool set_rlimit[RLIM_NLIMITS];
	struct rlimit rlimit[RLIM_NLIMITS];
};

struct sandbox_config {
	const struct sandbox_policy *policy;
	enum sandbox_mode mode;

	const char *workspace;		/* host directory */
	const char *workspace_inside;	/* absolute path inside; NULL: the
					 * same as workspace */
	char *const *argv;		/* argv[0] is looked up in the
					 * sandbox's PATH */
	char *const *env;		/* host environment to filter;
					 * NULL: environ */

	const uint16_t *ports;		/* 127.0.0.1 ports to listen on */
	size_t n_ports;
	uint16_t proxy_port;		/* one of ports, announced through
					 * HTTPS_PROXY and HTTP_PROXY; 0:
					 * none */

	bool set_ids;			/* use uid and gid below; otherwise
					 * the caller's own */
	uid_t uid;			/* inside the user namespace */
	gid_t gid;
	const struct sandbox_inherit *inherit;	/* NULL: the caller's
					 * umask and rlimits */

	sandbox_hook_fn hook;		/* may be NULL */
	void *hook_arg;
	bool trace_exec;		/* the seccomp exec-tracing rule */
	bool seccomp_notify;		/* count denials through a listener */
	bool skip_description;		/* leave child->description NULL,
					 * which spares computing the
					 * seccomp filter's digest */
	bool create_missing_parts;	/* create a read-only part whose
					 * first component is missing in
					 * the host's workspace for the
					 * run, to protect it; see
					 * docs/policy.md */
	const char *const *make_parts;	/* read-only parts to create as
					 * above wherever they are missing
					 * below an existing directory, as
					 * a recording made them; only for
					 * a private copy of a workspace */
	size_t n_make_parts;
	enum sandbox_wait_mode wait_mode;
};

/* The state of a file of the workspace before the run, as far as a
 * change shows in it (git_redirect.c). */
struct sandbox_file_state {
	bool exists;
	ino_t ino;
	off_t size;
	struct timespec ctime;
};

/* The files of a git directory that the sandbox watches. */
#define SANDBOX_GIT_WATCHED 2

struct sandbox_child {
	pid_t pid;		/* init, or the helper that forked it for a
				 * caller with threads: kill it to end the
				 * run */
	pid_t agent_pid;	/* the command, in the caller's PID namespace */
	int port_fds[SANDBOX_MAX_PORTS];	/* listening, in the order of
						 * config->ports; owned by
						 * the caller */
	size_t n_port_fds;
	int notify_fd;		/* seccomp listener, owned by the caller, or
				 * -1 */
	cJSON *description;	/* what is enforced, or NULL with
				 * config->skip_description; owned by the
				 * child, freed by sandbox_child_release() */

	/* Private to the library. */
	int control;
	char cgroup[256];
	char cgroup_kind[8];
	cJSON *created;		/* parts created in the workspace for the
				 * run: [{"covers", "created"}], or NULL */
	char workspace[4096];	/* the workspace's host path */
	int workspace_lock;	/* the workspace, with a flock() held; -1
				 * without, -2 when it could not be taken
				 * (created.c) */
	enum sandbox_wait_mode wait_mode;
	bool ended_at_status;	/* sandbox_wait() returned at "done" */
	bool git_watched;
	struct sandbox_file_state git_before[SANDBOX_GIT_WATCHED];
};

struct sandbox_result {
	int status;		/* the agent's wait status */
	int exit_code;		/* 0 to 255: the status as a shell reports
				 * it, 128 + signal when killed */
	int64_t cpu_us;		/* the agent's own user and system time,
				 * in microseconds, without its children's */
	bool timed_out;
	bool exec_failed;	/* execve() failed: message says why */
	uint64_t process_limit_hits;	/* forks refused by a cgroup */
	uint64_t memory_limit_kills;	/* processes that the OOM killer
					 * ended in the run's cgroup */
	int survivors;		/* with --sandbox none: processes of the
				 * command's tree that init could not kill
				 * (EPERM), left running */
	pid_t survivor_pid;	/* the first of them */
	int unreaped;		/* processes of the run that did not die
				 * within 5 s of init's SIGKILL, left
				 * behind: a process in uninterruptible
				 * sleep outlives SIGKILL */
	pid_t unreaped_pid;	/* the first of them, in the caller's PID
				 * namespace, or 0 when unknown */
	char git_redirect[32];	/* ".git/commondir" or
				 * ".git/config.worktree" when the run
				 * created or changed it, else "": git then
				 * takes config and hooks from elsewhere
				 * (docs/policy.md) */
	const char *git_redirect_change; /* "created" or "changed" */
	char message[512];
};

/*
 * Print to out, after sandbox_launch(), a note for each surprise of the
 * run. One is a limit of the policy that is not enforced (the process
 * limit of a root caller without a cgroup). The other is a workspace
 * that belongs to another user, where a root caller's command cannot
 * write.
 */
void sandbox_print_notes(const struct sandbox_config *config,
			 const struct sandbox_child *child, FILE *out);

/* Return whether policy has a limit that needs a cgroup: a process or a
 * memory limit. */
bool sandbox_limits_need_cgroup(const struct sandbox_policy *policy);

/* Return why a file of sandbox_result.git_redirect matters, for a
 * message: a static string. */
const char *sandbox_git_redirect_reason(const char *file);

/*
 * Return whether a process that signal ended, after cpu_us microseconds
 * of user and system time, was ended by the CPU time limit of limits:
 * SIGXCPU at the soft limit, or the SIGKILL of the hard one.
 */
bool sandbox_limits_cpu_ended(const struct sandbox_limits *limits,
			      int signal, int64_t cpu_us);

/*
 * Make room for the cgroups of sandboxes in a delegated cgroup v2, as
 * sandbox_launch() does on its first run (docs/policy.md, "Limits").
 * Call it before forking workers that each launch a sandbox: each
 * worker would otherwise find the others in the cgroup, which it cannot
 * move, and get rlimits. Call it only for a policy whose limits need a
 * cgroup (sandbox_limits_need_cgroup()), because the move changes the
 * agent's cgroup. Best effort, so it reports nothing.
 */
void sandbox_limits_make_room(void);

/*
 * Whether another process holds a flock() on the workspace directory, as
 * every run in the sandbox does while it runs: that run's changes then
 * show in the caller's workspace. Waits for nothing; false when the
 * directory cannot be opened.
 */
bool sandbox_workspace_shared(const char *workspace);

/*
 * Return whether sig repeats the signal that the last call counted, within
 * 100 ms, so that it counts once. One event can deliver a signal twice.
 * killall and service managers signal both of runbundle's processes. A
 * signal to runbundle's process group reaches the sandbox's init both
 * directly and forwarded. A closed terminal sends SIGHUP from the
 * kernel and from the shell. Async-signal-safe, for one signal handler
 * or one signal loop of a process.
 */
bool sandbox_signal_repeated(int sig);

/*
 * Call fn with the real path of each dynamic loader on this host, which
 * an exec allowlist lets the kernel execute as the interpreter of every
 * dynamic program, until fn returns nonzero. Returns that value, or 0.
 * Run as a program, a loader runs any readable ELF file named as its
 * argument, which the allowlist cannot stop (docs/policy.md).
 */
int sandbox_each_loader(int (*fn)(const char *path, void *arg), void *arg);

/*
 * Check what sandbox_launch() would check before it starts anything:
 * the config, the workspace and where it would lie. Returns 0, or -1
 * with the same message and hint that sandbox_launch() would give.
 */
int sandbox_check(const struct sandbox_config *config);

/*
 * Start config->argv in the sandbox. On success, fills *child (the
 * caller releases it with sandbox_child_release() after
 * sandbox_wait()) and returns 0. On failure returns -1 with a message,
 * nothing is left running, and *child holds nothing to release.
 */
int sandbox_launch(const struct sandbox_config *config,
		   struct sandbox_child *child);

/*
 * Wait for the run to end, as config->wait_mode selects, and fill
 * *result. A caller that reaps the helper itself (with waitpid(-1),
 * say) may still call this: the status then comes from init's report
 * over the control socket, or is 125 when init left none. Returns 0, or
 * -1 with a message when waiting failed.
 */
int sandbox_wait(struct sandbox_child *child, struct sandbox_result *result);

/* Print to out, after sandbox_wait(), a warning about the processes
 * of the run that outlived init's SIGKILL, if any. */
void sandbox_print_unreaped(const struct sandbox_result *result, FILE *out);

/* End the run now: child->pid is killed, and with it the whole tree. */
void sandbox_kill(struct sandbox_child *child);

/* Free what sandbox_launch() allocated, and remove its cgroup. */
void sandbox_child_release(struct sandbox_child *child);

/*
 * Compare a recorded description with the present one. Keys whose names
 * start with "host_" (host paths and ids that replay may change) are
 * ignored. Returns
 * the number of differences, and when report is not NULL stores in it
 * one line per difference ("landlock.abi: recorded 7, present 5"),
 * which the caller frees. Returns -1 with a message when memory runs
 * out.
 */
int sandbox_description_compare(const cJSON *recorded, const cJSON *present,
				char **report);

/*
 * Fill in the umask and the rlimits that a recorded description lists
 * under "inherited", for a replay's config->inherit. A description
 * written before that key leaves in empty, and the command gets the
 * caller's.
 */
void sandbox_inherit_from_description(const cJSON *description,
				      struct sandbox_inherit *in);

#endif
