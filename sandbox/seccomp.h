/*
 * seccomp.h - the sandbox's system call filter, built with libseccomp.
 *
 * The filter is one classic BPF program, loaded by the sandbox's first
 * child just before it executes the agent, and inherited by every
 * process the agent starts. A guard of this library runs first (rules
 * 1 and 2), then libseccomp's program for the other rules:
 *
 *  1. A system call made through a foreign architecture (the i386 ABI
 *     through int 0x80 on x86_64, for example) kills the process.
 *  2. On x86_64, a system call number with the x32 bit (0x40000000) set
 *     kills the process. The architecture check cannot catch these,
 *     because x32 calls carry AUDIT_ARCH_X86_64, so they get a rule of
 *     their own.
 *  3. clone3 fails with ENOSYS, so that the C library falls back to
 *     clone, whose flags the filter can inspect. openat2 fails with
 *     ENOSYS too, so that a program falls back to openat, whose flags
 *     and mode the filter can inspect (rule 4c). This is routine
 *     behaviour and is not counted as a violation.
 *  4. The denied system calls (sandbox_seccomp_describe() lists them)
 *     fail with EPERM. When notification is on, the kernel suspends the
 *     caller and asks a supervisor on the host, which replies EPERM and
 *     records the call as a violation. When it is off, the filter
 *     returns EPERM itself and nothing is counted.
 *     So is prlimit64 when it sets a limit of PID 1, the sandbox's
 *     init, and setpriority and ioprio_set on process group 0, which
 *     may be the caller's on the host.
 *  4a. memfd_create without MFD_NOEXEC_SEAL fails with EPERM, uncounted,
 *     when the seal_memfd option is on (see the option).
 *  4b. With report on (and notify), the write-intent calls (open,
 *     openat and creat only when their flags ask for writing or
 *     creating; mkdir, unlink, rename, link, symlink, truncate,
 *     chmod, chown, utimes, setxattr and their *at variants), connect,
 *     and sendto with a destination address notify the supervisor for
 *     a report only: it records an attempt outside the writable paths
 *     or to a destination nobody listens on inside the sandbox, then
 *     lets the call go on, so that Landlock and the mounts decide.
 *  4c. chmod, fchmod, fchmodat, fchmodat2, creat, mknod and mknodat
 *     with S_ISUID or S_ISGID in their mode, and open and openat with
 *     either bit and O_CREAT or O_TMPFILE in their flags, are denied as
 *     in rule 4. The workspace is nosuid only inside the sandbox: on
 *     the host such a file runs as the agent's uid for every user.
 *  5. With exec tracing on, execve and execveat stop the process for a
 *     ptrace tracer (SECCOMP_RET_TRACE), as `strace --seccomp-bpf` does.
 *     NOTE: without an attached tracer the kernel fails these calls with
 *     ENOSYS, so turn it on only when a tracer attaches to the child
 *     before it loads the filter.
 *  6. Everything else is allowed.
 *
 * Denied calls are counted with SECCOMP_RET_USER_NOTIF rather than
 * SECCOMP_RET_LOG, because only a notification names the process and
 * carries the arguments, and because it needs neither the audit log nor
 * privilege. Invariants of the supervisor:
 *
 *  1. A notification of a denied call gets the reply -EPERM, never
 *     "continue", so a denied call never runs even if the supervisor
 *     misreads it. Only the calls of rule 4b get "continue". The
 *     system call number separates the two sets, and for the calls in
 *     both (rule 4c) the mode and flags do: register values, which the
 *     filter compared too. Rule 4b enforces nothing: Landlock and
 *     the mounts do, so a report read from a racing process's memory
 *     may be wrong but cannot open anything.
 *  2. The arguments of a denied call are copied from the notification,
 *     never read from the process's memory. For a report, the
 *     supervisor reads the path or address from the process's memory
 *     through process_vm_readv(2) and /proc/PID, which is racy: another
 *     thread may change the bytes after the kernel read them. That is
 *     fine for a report, and the reason rule 4b never denies.
 *  3. The number of violations stored is bounded; the count is not.
 *  4. If the supervisor's end of the listener closes, the kernel fails
 *     every pending and later denied call with ENOSYS: still denied.
 *
 * NOTE: the kernel allows one listener per filter chain, so an agent
 * that stacks its own filter with SECCOMP_FILTER_FLAG_NEW_LISTENER gets
 * EBUSY. Stacked filters without a listener work.
 *
 * Errors: functions return -1 (or NULL) and store a message that
 * sandbox_error() returns. Nothing here prints or exits.
 */
#ifndef SANDBOX_SECCOMP_H
#define SANDBOX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* Options of the filter. Zero-initialised means no nested namespaces,
 * no exec tracing, denials returned as EPERM without a supervisor, no
 * reports and memfd_create() allowed. */
struct sandbox_seccomp_options {
	/* Allow unshare, setns and clone with namespace flags, and the
	 * mount system calls (mount, umount2, pivot_root and the new mount
	 * API), so that an agent can build nested sandboxes with
	 * bubblewrap. The kernel still limits each of these to namespaces
	 * the agent owns; docs/policy.md describes what it opens. */
	bool allow_nested_userns;

	/* execve and execveat return SECCOMP_RET_TRACE (see rule 5). */
	bool trace_exec;

	/* Denied calls go to a supervisor through a listener fd (rule 4). */
	bool notify;

	/* With notify, report write and network attempts (rule 4b). Every
	 * write-open then costs a round trip to the supervisor thread:
	 * docs/benchmarks.md has the measurement. */
	bool report;

	/* Deny memfd_create() without MFD_NOEXEC_SEAL (rule 4a). For an
	 * exec allowlist where vm.memfd_noexec cannot be 2 in the sandbox,
	 * because a memfd lies outside every Landlock rule: see
	 * sandbox_seccomp_memfd_sysctl(). */
	bool seal_memfd;
};

/*
 * Find the filter for these options: the program that the build
 * compiled (sandbox/seccomp_gen.c), or, when this process runs another
 * libseccomp than the build did, one compiled now and kept for the life
 * of the process. A later sandbox_seccomp_load() in a forked child and
 * sandbox_seccomp_digest() or sandbox_seccomp_describe() in the parent
 * reuse it instead of compiling again. The digest is computed
 * only when one of the last two needs it. Thread-safe, and safe to
 * read in a child forked while another thread prepares. Returns 0, or
 * -1 with a message.
 */
int sandbox_seccomp_prepare(const struct sandbox_seccomp_options *opts);

/*
 * Return whether vm.memfd_noexec will be 2 in a new PID namespace of
 * this caller. It will when the caller's own value is 2 already, which
 * a child namespace inherits, or when the caller may write the sysctl,
 * which only host root may, and the sandbox's init then sets it. False
 * on kernels before 6.3, which lack it.
 */
bool sandbox_seccomp_memfd_sysctl(void);

/*
 * Build the filter and load it into the calling thread, which must be
 * the only thread of its process (the sandbox's child before exec).
 * Sets no_new_privs first, as the kernel requires without CAP_SYS_ADMIN.
 *
 * With opts->notify, *listener receives the notification fd. The caller
 * passes it to the host side (over SCM_RIGHTS) and then closes it in the
 * child before executing anything, because a process holding it could
 * reply to its own notifications. A denied call blocks until the
 * supervisor replies. Without notify, *listener is set to -1, and
 * listener may be NULL.
 *
 * Returns 0, or -1 with a message. The filter is one program loaded by
 * one seccomp() call, so on failure no filter was loaded (no_new_privs
 * may be set).
 */
int sandbox_seccomp_load(const struct sandbox_seccomp_options *opts,
			 int *listener);

/*
 * Compute the SHA-256 digest of the exact BPF program that
 * sandbox_seccomp_load() would load with these options on this machine:
 * the architecture guard followed by libseccomp's program as
 * seccomp_export_bpf() writes it. Stores it in hex as 64 lowercase hex
 * digits and a NUL. Loads nothing. Returns 0, or -1 with a message. The
 * digest changes with the options, the libseccomp version and the
 * architecture.
 */
int sandbox_seccomp_digest(const struct sandbox_seccomp_options *opts,
			   char hex[65]);

/*
 * Describe the rules as JSON for the sandbox description: the options,
 * the architecture, the actions for foreign architectures and x32, each
 * denied call with its condition and errno, and the digest. The caller
 * owns the object (cJSON_Delete). Returns NULL with a message on
 * failure.
 */
cJSON *sandbox_seccomp_describe(const struct sandbox_seccomp_options *opts);

enum sandbox_seccomp_attempt_kind {
	SANDBOX_SECCOMP_WRITE = 1,	/* outside the writable paths */
	SANDBOX_SECCOMP_NETWORK,	/* to nobody listening inside */
};

/* The target of a reported attempt (rule 4b), as read from the
 * process's memory. */
struct sandbox_seccomp_attempt {
	enum sandbox_seccomp_attempt_kind kind;
	/* write: the absolute path inside the sandbox, with symbolic links
	 * resolved as far as they resolve from the host */
	char path[4096];
	/* network: "inet", "inet6" or "unix" */
	char family[8];
	/* network: an IP address, or "@name" for an abstract socket */
	char address[112];
	int port;		/* network, inet and inet6 only; else 0 */
};

/* One denied system call, or one reported attempt, as the supervisor
 * saw it. */
struct sandbox_seccomp_violation {
	pid_t pid;		/* in the supervisor's PID namespace */
	int nr;			/* native system call number */
	char syscall[32];	/* its name, or "syscall_<nr>" */
	uint64_t args[6];	/* raw register values, never dereferenced */
	int error;		/* errno the call returned: EPERM, or 0 for
				 * an attempt, which went on */
	/* An attempt's target, or NULL for a denied call. It points into
	 * the supervisor and is valid only during the callback. */
	const struct sandbox_seccomp_attempt *attempt;
};

/* Called on the supervisor thread for each denied call, after it is
 * stored, and for each reported attempt, which is counted apart and
 * not stored. It must not call back into the supervisor. */
typedef void (*sandbox_seccomp_violation_fn)(
	const struct sandbox_seccomp_violation *violation, void *arg);

/* The host-side supervisor: one thread that replies to notifications. */
struct sandbox_seccomp_supervisor;

/* The number of violations a supervisor stores; later ones are counted
 * and passed to the callback, but not stored. */
#define SANDBOX_SECCOMP_MAX_STORED 1024

/*
 * Start a supervisor thread on listener, which it owns from now on
 * (also on failure). on_violation may be NULL. Returns the supervisor,
 * or NULL with a message. Free it with sandbox_seccomp_supervisor_free().
 */
struct sandbox_seccomp_supervisor *
sandbox_seccomp_supervisor_start(int listener,
				 sandbox_seccomp_violation_fn on_violation,
				 void *arg);

/* The number of denied calls so far, including those not stored. Safe
 * to call while the supervisor runs. */
uint64_t sandbox_seccomp_supervisor_count(
	struct sandbox_seccomp_supervisor *sup);

/* The number of attempts reported so far (rule 4b). Safe to call while
 * the supervisor runs. */
uint64_t sandbox_seccomp_supervisor_attempts(
	struct sandbox_seccomp_supervisor *sup);

/*
 * Copy the stored violations, oldest first, into a new array that the
 * caller frees with free(). *out is NULL when there are none. Safe to
 * call while the supervisor runs. Returns the number copied, or -1 with
 * a message when memory ran out.
 */
ssize_t sandbox_seccomp_supervisor_violations(
	struct sandbox_seccomp_supervisor *sup,
	struct sandbox_seccomp_violation **out);

/*
 * Stop the thread and close the listener, so that pending and later
 * denied calls fail with ENOSYS. The stored violations stay readable.
 * Calling it twice is harmless.
 */
void sandbox_seccomp_supervisor_stop(struct sandbox_seccomp_supervisor *sup);

/* Stop the supervisor if needed and free it. NULL is ignored. */
void sandbox_seccomp_supervisor_free(struct sandbox_seccomp_supervisor *sup);

#endif
