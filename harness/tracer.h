/*
 * tracer.h - record every process that a command starts, with ptrace.
 *
 * The tracer follows a process tree from the host side. The child side
 * (harness_tracer_child_prepare(), called as the last step before execve)
 * installs a seccomp filter that returns SECCOMP_RET_TRACE for execve and
 * execveat only, and waits for the tracer's SIGCONT. The parent side
 * (harness_tracer_attach() and harness_tracer_run()) seizes the waiting
 * child with PTRACE_SEIZE and follows forks, vforks, clones, execs and
 * exits. No other system call stops, which is what keeps the overhead low
 * (the technique of "strace --seccomp-bpf").
 *
 * A run goes through these states:
 *
 *	created -> attached -> running -> draining -> finished
 *
 * "draining" starts when the root process exits. Every process still
 * traced (daemons that outlived the root) is interrupted once, so that
 * an exec under way is recorded, then killed with SIGKILL and recorded
 * as killed by the tracer. The wait for those stops ends after 2
 * seconds, because a process in a sleep that only a fatal signal ends
 * never stops. One that has not stopped by then is marked unstopped. A
 * failing event callback starts it too, and
 * then the root is killed as well, without the interruption.
 *
 * Invariants:
 *  1. A process is a thread group. Threads are followed, so that a thread
 *     that calls execve is seen, but they are never recorded as
 *     processes.
 *  2. Every traced process is recorded once, from its fork (or the attach,
 *     for the root) to its exit, even when it is still running when the
 *     root exits.
 *  3. Environment values whose names match a secret pattern never leave
 *     the tracer: they are replaced by NULL as soon as they are read.
 *  4. Every stop is resumed as soon as it is seen, in any order of
 *     events: a vfork child runs before its parent's event is read.
 *
 * Errors: functions returning int return 0, or -1 with the message in
 * harness_error(). The tracer never prints and never exits.
 */
#ifndef HARNESS_TRACER_H
#define HARNESS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "harness/json_integer.h"

struct cJSON;

/* A string that came from a traced process, as raw bytes. */
struct harness_bytes {
	char *data;		/* NUL-terminated; may hold any other byte */
	size_t len;
};

/* One environment entry of an exec. */
struct harness_env_entry {
	char *name;		/* the bytes before the first '=' */
	char *value;		/* NULL when redacted, or when the entry has
				 * no '=' at all (then has_value is false);
				 * else it points into name's allocation,
				 * after the name's NUL */
	bool has_value;
	bool redacted;
};

/* A file by the device and inode that stat(2) gives. */
struct harness_file_id {
	dev_t dev;
	ino_t ino;
};

/* A file that an exec ran: the executable, or the script it named. */
struct harness_file {
	char *path;		/* resolved, absolute; NULL when unknown */
	char sha256[65];	/* lowercase hex; "" when unreadable */
};

/*
 * The reason that a file rejects an exec by its own mode, which no
 * policy decides. It is set for an exec that failed with EACCES.
 */
enum harness_refusal {
	HARNESS_REFUSAL_NONE = 0,	/* none seen, so a policy may have
					 * denied it: a program masked with
					 * /dev/null, or one that Landlock's
					 * execute right leaves out */
	HARNESS_REFUSAL_DIRECTORY,	/* the path names a directory */
	HARNESS_REFUSAL_MODE,		/* a regular file whose mode gives
					 * the process no execute bit */
};

/* One execve or execveat call, successful or not. */
struct harness_exec {
	int64_t time_us;		/* wall clock at the call, Unix us */
	char *attempted;		/* the path argument as given */
	char *resolved;			/* attempted, made absolute against
					 * the cwd or the directory fd; for
					 * AT_EMPTY_PATH the fd's target */
	bool empty_path;		/* execveat with AT_EMPTY_PATH, the way
					 * fexecve works */
	int error;			/* 0 on success, else the errno */
	enum harness_refusal refusal;	/* for EACCES: the file's own */
	struct harness_bytes *argv;
	size_t argc;
	struct harness_env_entry *env;
	size_t envc;
	char *cwd;
	struct harness_file exe;	/* what the kernel runs: the binary,
					 * or the interpreter of a script */
	struct harness_file script;	/* the #! file; path NULL when the
					 * exec ran a binary */
	char *interpreter;		/* the #! line's path as written; for
					 * an ENOENT, the script's missing
					 * interpreter */
	bool forbidden;			/* its program is one of the options'
					 * forbidden files, so the tracer
					 * killed it before it ran */
};

/* The end state of a process. */
enum harness_end {
	HARNESS_END_RUNNING = 0,	/* not yet ended */
	HARNESS_END_EXITED,		/* exit_code is valid */
	HARNESS_END_SIGNALED,		/* signal is valid */
	HARNESS_END_KILLED,		/* still running when the root ended,
					 * so the tracer killed it */
	HARNESS_END_LOST,		/* vanished without an exit report:
					 * wait4 had no tracees left, which
					 * happens only after a detach, or
					 * it outlived the kill (unkilled) */
};

/* One process (a thread group). */
struct harness_process {
	size_t index;			/* position in the run, from 0 */
	pid_t pid;			/* host pid */
	pid_t ns_pid;			/* the pid in the innermost PID
					 * namespace, as the process saw it */
	pid_t *ns_pids;			/* from /proc/PID/status NSpid:
					 * host first, innermost last */
	size_t n_ns_pids;
	long parent;			/* index of the creating process, or
					 * -1 for the root */
	int64_t start_us;		/* wall clock, Unix microseconds */
	int64_t end_us;
	enum harness_end end;
	int exit_code;
	int signal;
	bool core_dumped;
	struct rusage rusage;		/* from wait4; zero until it ends */
	bool unstopped;			/* a thread of it did not stop when
					 * interrupted as the root ended, so
					 * an exec under way then may be
					 * missing from execs */
	bool unkilled;			/* lost because it had not exited 5
					 * seconds after the kill */
	struct harness_exec *execs;	/* in order; failed ones included */
	size_t n_execs;
	size_t exec_capacity;
};

enum harness_trace_event_kind {
	HARNESS_TRACE_STARTED,		/* a new process; exec is NULL */
	HARNESS_TRACE_EXEC,		/* exec->error tells success */
	HARNESS_TRACE_EXITED,		/* the process has ended */
};

struct harness_trace_event {
	enum harness_trace_event_kind kind;
	const struct harness_process *process;
	const struct harness_exec *exec;
};

/*
 * Called for each event, in the order the tracer receives them, on the
 * thread that runs the tracer. event->process and the strings of
 * event->exec stay valid until harness_tracer_free(). event->exec itself
 * moves when the process execs again, and the tracer keeps writing the
 * process record (parent, end, rusage, execs), so a callback that hands
 * an event to another thread copies the fields it needs. An exec event,
 * and a start that the creator's fork event reports, come after the
 * stopped process is resumed, so the callback's time adds no stop to it.
 * Return 0 to go on, or -1 to stop: then every traced process is killed
 * and harness_tracer_run() fails with the message that the callback
 * stored with harness_set_error().
 */
typedef int (*harness_trace_fn)(const struct harness_trace_event *event,
				void *userdata);

/*
 * Called when wait4 reports a child of this process that is not traced,
 * so that a caller with other children (a sandbox launcher) still gets
 * their status.
 */
typedef void (*harness_untraced_fn)(pid_t pid, int status, void *userdata);

struct harness_tracer_options {
	/* fnmatch(3) patterns of environment names whose values are
	 * secrets, NULL-terminated; NULL for none. */
	const char *const *secret_names;
	harness_trace_fn on_event;		/* may be NULL */
	harness_untraced_fn on_untraced;	/* may be NULL */
	void *userdata;

	/* Files that no exec may run as its program (the dynamic loaders
	 * under an exec allowlist), owned by the caller; NULL for none.
	 * An exec of one is killed with SIGKILL at its exec event, before
	 * the program runs any code, and reported with forbidden set. */
	const struct harness_file_id *forbidden;
	size_t n_forbidden;
};

struct harness_tracer;

/*
 * Child side: install the seccomp filter that stops execs, then wait (with a
 * SIGCONT handler, in sigsuspend) until the tracer has seized this
 * process and sent SIGCONT. Works in the init of a new PID namespace.
 * Call it in the child as the last step before execve, after any
 * namespace or privilege change. The SIGCONT disposition and the signal
 * mask are restored before it returns. Sets no_new_privs only when
 * installing the filter needs it (without CAP_SYS_ADMIN). It allocates
 * memory, so call it in a single-threaded child. It waits for as long
 * as no tracer comes, so a parent whose attach fails must kill the
 * child. Returns 0 once the tracer has resumed the process, or -1 with
 * errno set and harness_error() filled.
 */
int harness_tracer_child_prepare(void);

/*
 * Child side, for a process whose seccomp filter already returns
 * SECCOMP_RET_TRACE for execve and execveat, such as the sandbox's with
 * trace_exec. Wait for the tracer the way harness_tracer_child_prepare()
 * does, without a filter of its own, so that every system call runs one
 * BPF program instead of two. Returns 0 once the tracer has resumed the
 * process, or -1 with errno set and harness_error() filled.
 */
int harness_tracer_child_wait(void);

/* Allocate a tracer. Copies nothing from options but the pointers, which
 * must stay valid until harness_tracer_free(). NULL when out of memory. */
struct harness_tracer *harness_tracer_new(
	const struct harness_tracer_options *options);

/*
 * Parent side: wait until pid waits in harness_tracer_child_prepare()
 * (for up to 10 seconds), seize it, and let it continue. pid is
 * a host pid; it may live in other PID and user namespaces, and need not
 * be a child of the caller. Returns 0, or -1 when it cannot be seized
 * (the hint then names the usual cause).
 */
int harness_tracer_attach(struct harness_tracer *tracer, pid_t pid);

/*
 * Run the event loop until the root process has ended and every
 * remaining process has been killed and reaped. Returns 0 with the
 * root's wait status in *status, or -1 when waiting failed or the
 * callback stopped the run (the traced processes are killed then too).
 * A signal that interrupts wait4 is not an error: the loop goes on, and
 * the caller's handler may call harness_tracer_kill().
 */
int harness_tracer_run(struct harness_tracer *tracer, int *status);

/* The pids of the processes marked unstopped, separated by spaces, for
 * a warning. NULL when there are none, or when out of memory. The
 * caller frees. */
char *harness_tracer_unstopped_pids(const struct harness_tracer *tracer);

/* The same for the processes marked unkilled. */
char *harness_tracer_unkilled_pids(const struct harness_tracer *tracer);

/* Send sig to the root process (for forwarding SIGTERM). Safe to call
 * from a signal handler. */
void harness_tracer_signal_root(struct harness_tracer *tracer, int sig);

/* The processes recorded so far, in order of their start; the tracer owns
 * them. */
size_t harness_tracer_count(const struct harness_tracer *tracer);
const struct harness_process *harness_tracer_process(
	const struct harness_tracer *tracer, size_t index);

/*
 * Write the process tree as compact JSON text: the root process's
 * object, with its children in "children", recursively. The text is
 * built one process at a time, so that a run of many processes needs
 * memory for the text, not for a cJSON item per value. The text is
 * "null" when no process was traced. Sets *len to its length without
 * the final NUL. The caller owns the result (free). NULL when out of
 * memory. docs/tracing.md describes the fields.
 */
char *harness_tracer_tree_text(const struct harness_tracer *tracer,
			       size_t *len);

/* One process as a JSON object, without its children. The caller owns
 * the result. */
struct cJSON *harness_process_json(const struct harness_process *process);

/* One exec as a JSON object, as it appears in its process's "execs",
 * without its "env" unless with_env. The caller owns the result. */
struct cJSON *harness_exec_json(const struct harness_exec *exec,
				bool with_env);

/*
 * The environment of exec as JSON text: the "env" array of
 * harness_exec_json(). Successive execs mostly pass the same
 * environment, and then the text is the one returned before, found by
 * comparing bytes. The tracer owns the text, which stays valid until
 * the next call or harness_tracer_free(). Call it from the thread that
 * runs the tracer (the event callback). NULL when out of memory.
 */
const char *harness_tracer_env_text(struct harness_tracer *tracer,
				    const struct harness_exec *exec);

/* Release the tracer and every record. Kills nothing: call it after
 * harness_tracer_run(). NULL is fine. */
void harness_tracer_free(struct harness_tracer *tracer);

/* The name of an end state as stored in JSON: "running", "exited",
 * "signaled", "killed", "lost". */
const char *harness_end_name(enum harness_end end);

#endif
