/*
 * tracer.c - the parent side of the tracer: seize, then one wait4 loop
 * that turns ptrace stops into process records.
 *
 * The wait status distinguishes these stops:
 *
 *	status>>16 == PTRACE_EVENT_STOP	group-stop when the signal is a
 *		stop signal (resumed with PTRACE_LISTEN, so the process
 *		stays stopped until SIGCONT), else the first stop of an
 *		automatically attached thread or a SIGCONT notification
 *	status>>16 == PTRACE_EVENT_SECCOMP	entry of execve or execveat
 *	WSTOPSIG == SIGTRAP | 0x80	the syscall-exit stop of an exec,
 *		requested only after its seccomp stop, to learn its errno
 *	status>>16 == PTRACE_EVENT_EXEC	the exec succeeded
 *	status>>16 == PTRACE_EVENT_{FORK,VFORK,CLONE}
 *	status>>16 == PTRACE_EVENT_EXIT	the process is about to exit
 *	otherwise			signal-delivery-stop: the signal is
 *		injected unchanged
 *
 * A successful exec reports no syscall-exit stop: the PTRACE_CONT at its
 * exec event clears the syscall tracing that PTRACE_SYSCALL set. So each
 * process costs about seven stops: the fork event in the parent, the
 * child's first stop, the seccomp stop and exec event of each exec, the
 * exit event, the exit, and the parent's SIGCHLD.
 *
 * A new tid's first stop is resumed before the tid is recorded, so
 * that it does not wait for the tracer's reads of /proc. That happens at
 * its creator's fork event when the tid has stopped by then, else when
 * wait4 reports the stop.
 *
 * The exit event is resumed at once. A process ends when its last
 * thread does, so its end time, wait status and rusage all come from
 * wait4, not from the leader's exit event.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/tracer_internal.h"

#define PTRACE_OPTIONS                                                   \
	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL |    \
	 PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD)

struct harness_tracer *harness_tracer_new(
	const struct harness_tracer_options *options)
{
	struct harness_tracer *tracer = calloc(1, sizeof(*tracer));

	if (!tracer) {
		harness_set_error("cannot create the tracer: out of memory");
		return NULL;
	}
	if (options)
		tracer->options = *options;
	tracer->root.fd = -1;
	return tracer;
}

static struct tracee **bucket(struct harness_tracer *tracer, pid_t tid)
{
	return &tracer->tracees[(unsigned)tid % TRACEE_BUCKETS];
}

static struct tracee *find_tracee(struct harness_tracer *tracer, pid_t tid)
{
	struct tracee *t = *bucket(tracer, tid);

	while (t && t->tid != tid)
		t = t->next;
	return t;
}

/* Return the tracee of the leader of t's process when t is another
 * thread of it, else NULL. */
static struct tracee *leader_of(struct harness_tracer *tracer,
				const struct tracee *t)
{
	pid_t pid = tracer->processes[t->process]->pid;

	return pid != t->tid ? find_tracee(tracer, pid) : NULL;
}

static void drop_tracee(struct harness_tracer *tracer, pid_t tid)
{
	struct tracee **p = bucket(tracer, tid);

	while (*p && (*p)->tid != tid)
		p = &(*p)->next;
	if (*p) {
		struct tracee *t = *p;
		struct tracee *leader = leader_of(tracer, t);

		if (leader && leader->threads > 0)
			leader->threads--;
		*p = t->next;
		if (t->interrupting)
			tracer->n_interrupting--;
		tracer_exec_release(&t->pending);
		if (t->exec_fd >= 0)
			close(t->exec_fd);
		free(t);
	}
}

static struct tracee *add_tracee(struct harness_tracer *tracer, pid_t tid,
				 size_t process)
{
	struct tracee *t = calloc(1, sizeof(*t));
	struct tracee **b = bucket(tracer, tid), *leader;

	if (!t)
		return NULL;
	t->tid = tid;
	t->process = process;
	t->exec_fd = -1;
	t->next = *b;
	*b = t;
	leader = leader_of(tracer, t);
	if (leader)
		leader->threads++;
	return t;
}

static int emit(struct harness_tracer *tracer,
		enum harness_trace_event_kind kind,
		const struct harness_process *process,
		const struct harness_exec *exec)
{
	struct harness_trace_event event = { kind, process, exec };

	if (!tracer->options.on_event)
		return 0;
	return tracer->options.on_event(&event, tracer->options.userdata);
}

/*
 * The open process record of pid: not yet ended. A process's leader is
 * tracked until its exit is reaped, so its tracee finds the record. A
 * scan of every process instead cost a run of n processes n * n / 2
 * comparisons when each child's first stop came before its parent's
 * fork event.
 */
static struct harness_process *live_process(struct harness_tracer *tracer,
					    pid_t pid)
{
	struct tracee *t = find_tracee(tracer, pid);
	struct harness_process *p;

	if (!t)
		return NULL;
	p = tracer->processes[t->process];
	if (p->pid != pid || p->end != HARNESS_END_RUNNING)
		return NULL;
	return p;
}

/*
 * Read the NSpid list of a new process. A process in the tracer's own
 * PID namespace has only its pid, which one readlink confirms. Otherwise
 * the status file has the list, for three system calls. A child can be
 * in that namespace only when its parent is, because a process never
 * creates a child in an outer namespace.
 */
static void read_ns_pids(struct harness_tracer *tracer,
			 struct harness_process *p)
{
	pid_t tgid = 0, ppid = 0;
	bool parent_in_own = p->parent >= 0 &&
			     tracer->processes[p->parent]->n_ns_pids == 1;

	if (parent_in_own && tracer_in_own_pid_ns(tracer, p->pid)) {
		p->ns_pids = malloc(sizeof(*p->ns_pids));
		if (p->ns_pids) {
			p->ns_pids[0] = p->pid;
			p->n_ns_pids = 1;
		}
		return;
	}
	tracer_proc_status(p->pid, &tgid, &ppid, &p->ns_pids, &p->n_ns_pids);
}

/* Record the new process pid. ns is its NSpid list when the caller has
 * read it already (the process then owns the list), else NULL. */
static struct harness_process *new_process(struct harness_tracer *tracer,
					   pid_t pid, long parent,
					   struct tracer_ns_pids *ns)
{
	struct harness_process *p;

	if (tracer->n_processes == tracer->capacity) {
		size_t n = tracer->capacity ? 2 * tracer->capacity : 64;
		void *bigger = realloc(tracer->processes, n * sizeof(p));

		if (!bigger)
			goto oom;
		tracer->processes = bigger;
		tracer->capacity = n;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->index = tracer->n_processes;
	p->pid = pid;
	p->ns_pid = pid;
	p->parent = parent;
	p->start_us = tracer_now_us();
	if (ns) {
		p->ns_pids = ns->pids;
		p->n_ns_pids = ns->n;
	} else {
		read_ns_pids(tracer, p);
	}
	if (p->n_ns_pids > 0)
		p->ns_pid = p->ns_pids[p->n_ns_pids - 1];
	tracer->processes[tracer->n_processes++] = p;
	tracer->n_live++;

	/* Born while the rest is being killed: a fork that was in
	 * progress. */
	if (tracer->draining)
		kill(pid, SIGKILL);
	return p;
oom:
	if (ns)
		free(ns->pids);
	return NULL;
}

static int note_early(struct harness_tracer *tracer, pid_t tid,
		      long process)
{
	if (tracer->n_early == tracer->early_capacity) {
		size_t n = tracer->early_capacity ? 2 * tracer->early_capacity
						  : 16;
		void *bigger =
			realloc(tracer->early, n * sizeof(*tracer->early));

		if (!bigger)
			return -1;
		tracer->early = bigger;
		tracer->early_capacity = n;
	}
	tracer->early[tracer->n_early++] = (struct early_tid){ tid, process };
	return 0;
}

/* Remove tid from the early list. Returns its entry's process, -1 for a
 * thread, or -2 when tid is not in the list. */
static long take_early(struct harness_tracer *tracer, pid_t tid)
{
	for (size_t i = 0; i < tracer->n_early; i++) {
		long process = tracer->early[i].process;

		if (tracer->early[i].tid != tid)
			continue;
		tracer->early[i] = tracer->early[--tracer->n_early];
		return process;
	}
	return -2;
}

/* Track tid, a new thread or process, created by the thread creator or
 * seen first in its own stop (creator 0). */
static struct tracee *adopt(struct harness_tracer *tracer, pid_t tid,
			    struct tracee *creator, bool is_process)
{
	struct harness_process *p;
	struct tracee *t;
	struct tracer_ns_pids ns = { NULL, 0 }, *known = NULL;
	pid_t tgid = tid, ppid = 0;
	long parent = creator ? (long)creator->process : -1;

	if (!creator || !is_process) {
		if (tracer_proc_status(tid, &tgid, &ppid, &ns.pids, &ns.n) < 0)
			goto gone;
		known = &ns;
	}
	if (tgid != tid) {
		free(ns.pids);
		p = live_process(tracer, tgid);
		if (!p || (!creator && note_early(tracer, tid, -1) < 0))
			return NULL;
		return add_tracee(tracer, tid, p->index);
	}
	if (!creator) {
		p = live_process(tracer, ppid);
		parent = p ? (long)p->index : -1;
	}
	p = new_process(tracer, tid, parent, known);
	if (!p || (!creator && note_early(tracer, tid, (long)p->index) < 0))
		goto oom;
	if (emit(tracer, HARNESS_TRACE_STARTED, p, NULL) < 0)
		return NULL;
	t = add_tracee(tracer, tid, p->index);
	if (t)
		return t;
oom:
	harness_set_error("cannot record process: '%d': out of memory",
			  (int)tid);
	return NULL;
gone:
	harness_set_error("cannot read process: '%d': %s", (int)tid,
			  strerror(errno));
	return NULL;
}

/* Return the new tid of a fork, vfork or clone event, read while its
 * creator is stopped, or 0 when the creator is gone. */
static pid_t new_child_tid(struct tracee *t)
{
	unsigned long msg = 0;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return 0;
	return (pid_t)msg;
}

/*
 * Record the new tid of a fork, vfork or clone event. It is already
 * known when its own first stop came first, but only the event names
 * its parent. Called with the creator running again: the new tid waits
 * in its first stop until this loop resumes it, so it cannot exec
 * meanwhile, and its pid stays its own until this loop reaps it.
 */
static int on_new_child(struct harness_tracer *tracer, struct tracee *t,
			pid_t tid, int event)
{
	long early;

	if (tid <= 0)
		return 0;

	/* Seen already, and perhaps ended already: only the parent is
	 * new information. */
	early = take_early(tracer, tid);
	if (early >= 0)
		tracer->processes[early]->parent = (long)t->process;
	if (early != -2)
		return 0;
	return adopt(tracer, tid, t, event != PTRACE_EVENT_CLONE) ? 0 : -1;
}

static int finish_exec(struct harness_tracer *tracer, struct tracee *t,
		       int error)
{
	struct harness_process *p = tracer->processes[t->process];
	struct harness_exec *slot;
	int rc;

	if (p->n_execs == p->exec_capacity) {
		size_t n = p->exec_capacity ? 2 * p->exec_capacity : 2;
		void *bigger = realloc(p->execs, n * sizeof(*p->execs));

		if (!bigger) {
			harness_set_error("cannot record exec: '%d': out of "
					  "memory", (int)p->pid);
			return -1;
		}
		p->execs = bigger;
		p->exec_capacity = n;
	}
	/* A script that exists fails with ENOENT when its "#!" interpreter
	 * is missing, which its path alone does not explain. */
	if (error == ENOENT && t->exec_fd >= 0)
		tracer_read_interpreter(t);
	slot = &p->execs[p->n_execs++];
	*slot = t->pending;
	slot->error = error;
	if (error == EACCES && t->exec_fd >= 0)
		slot->refusal = tracer_refusal(t->tid, t->exec_fd);
	memset(&t->pending, 0, sizeof(t->pending));
	t->in_exec = false;
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	t->exec_fd = -1;
	rc = emit(tracer, HARNESS_TRACE_EXEC, p, slot);
	return rc;
}

/*
 * Prepare the record of a successful exec while the tracee is stopped.
 * When a thread other than the leader called it, the kernel has given
 * that thread the leader's tid. The old tid is never reported again, so
 * its pending exec moves to the leader. An exec that had no seccomp
 * stop is recorded from the new program alone.
 */
static void on_exec(struct harness_tracer *tracer, struct tracee *t)
{
	unsigned long former = (unsigned long)t->tid;
	struct tracee *caller = t;

	/* Every thread is tracked before it can run, so a leader without
	 * other threads made the call itself. */
	if (t->threads > 0 || tracer->processes[t->process]->pid != t->tid)
		ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former);
	if ((pid_t)former != t->tid) {
		struct tracee *old = find_tracee(tracer, (pid_t)former);

		if (old && old->in_exec) {
			tracer_exec_release(&t->pending);
			if (t->exec_fd >= 0)
				close(t->exec_fd);
			t->pending = old->pending;
			t->exec_fd = old->exec_fd;
			t->in_exec = true;
			memset(&old->pending, 0, sizeof(old->pending));
			old->exec_fd = -1;
		}
		drop_tracee(tracer, (pid_t)former);
	}
	if (!caller->in_exec)
		tracer_exec_unstopped(caller);
}

/* Read the errno of a failed exec at the syscall-exit stop after its
 * seccomp stop. Returns true when the tracee has an exec to finish. */
static bool on_syscall_exit(struct tracee *t, int *error)
{
	struct __ptrace_syscall_info info;
	long n;

	if (!t->in_exec)
		return false;
	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info);

	/* A success reports an exec event instead of this stop
	 * (PTRACE_O_TRACEEXEC). Should one end here, it is recorded as a
	 * success. */
	if (n > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT &&
	    info.exit.is_error)
		*error = (int)-info.exit.rval;
	return true;
}

/* The task flag of a process that has begun to exit, in the flags field
 * of /proc/PID/stat (include/linux/sched.h). */
#define PF_EXITING 0x4

/* Return whether the process pid is dying: a SIGKILL is pending, or
 * each of its threads has begun to exit or has ended. */
static bool is_dying(pid_t pid)
{
	char text[TRACER_STATUS_BYTES], path[300];
	const char *fields[] = { "SigPnd:", "ShdPnd:" };
	struct dirent *entry;
	bool dying = true;
	DIR *tasks;

	if (tracer_status_text(pid, text, sizeof(text)) < 0)
		return false;
	for (size_t i = 0; i < 2; i++) {
		const char *set = tracer_status_field(text, fields[i]);

		if (set && (strtoull(set, NULL, 16) >> (SIGKILL - 1)) & 1)
			return true;
	}

	/* A SIGKILL leaves the pending set only once the process has
	 * begun to exit, so reading the threads after status misses
	 * none. */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (!tasks)
		return false;
	while (dying && (entry = readdir(tasks))) {
		FILE *file;
		char state = 0;
		unsigned long flags = 0;

		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid,
			 entry->d_name);
		file = fopen(path, "re");
		if (!file)
			continue;
		if (fgets(text, sizeof(text), file) && strrchr(text, ')'))
			sscanf(strrchr(text, ')') + 1,
			       " %c %*d %*d %*d %*d %*d %lu", &state, &flags);
		fclose(file);
		dying = state == 'Z' || state == 'X' || (flags & PF_EXITING);
	}
	closedir(tasks);
	return dying;
}

/*
 * Mark every other process that is dying already, at the root's exit
 * event. drain() has killed nothing yet, and the sandbox's init kills
 * only once it has reaped the root, which it can do after the tracer
 * has. So a marked process was killed by the run itself.
 */
static void mark_dying(struct harness_tracer *tracer)
{
	for (size_t i = 0; i < tracer->n_processes; i++) {
		struct harness_process *p = tracer->processes[i];
		struct tracee *t;

		if (p->end != HARNESS_END_RUNNING || p->pid == tracer->root_pid)
			continue;
		t = find_tracee(tracer, p->pid);
		if (t && is_dying(p->pid))
			t->ending = true;
	}
}

static int end_process(struct harness_tracer *tracer, struct tracee *t,
		       int status, const struct rusage *ru)
{
	struct harness_process *p = tracer->processes[t->process];

	if (p->end != HARNESS_END_RUNNING || p->pid != t->tid)
		return 0;
	p->end_us = tracer_now_us();
	p->rusage = *ru;
	if (WIFEXITED(status)) {
		p->end = HARNESS_END_EXITED;
		p->exit_code = WEXITSTATUS(status);
	} else {
		p->end = HARNESS_END_SIGNALED;
		p->signal = WTERMSIG(status);
		p->core_dumped = WCOREDUMP(status);
		/* The sandbox's init kills the processes left as soon as
		 * it reaps the root, before drain() can. Either kill ends
		 * the run, so both count as killed. */
		if ((tracer->draining || tracer->root_ended) &&
		    p->signal == SIGKILL && p->pid != tracer->root_pid &&
		    !t->ending)
			p->end = HARNESS_END_KILLED;
	}
	tracer->n_live--;
	if (p->pid == tracer->root_pid) {
		tracer->root_ended = true;
		tracer->root_status = status;
	}
	return emit(tracer, HARNESS_TRACE_EXITED, p, NULL);
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

static int on_wait(struct harness_tracer *tracer, pid_t pid, int status,
		   const struct rusage *ru);

/* Return whether status is the stop that a new tid starts with. */
static bool is_first_stop(int status)
{
	return WIFSTOPPED(status) &&
	       (unsigned)status >> 16 == PTRACE_EVENT_STOP &&
	       !is_stop_signal(WSTOPSIG(status));
}

/* Resume child from its first stop before the tracer records it, so
 * that it does not wait for the records. Returns 1 when it was resumed,
 * 0 when it has not stopped yet, or -1 when it reported another status,
 * which is then left in *status and *ru. */
static int resume_first_stop(pid_t child, int *status, struct rusage *ru)
{
	if (wait4(child, status, WNOHANG | __WALL, ru) != child)
		return 0;
	if (!is_first_stop(*status))
		return -1;
	ptrace(PTRACE_CONT, child, 0, 0);
	return 1;
}

static int on_stop(struct harness_tracer *tracer, struct tracee *t,
		   int status)
{
	int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
	int inject = 0, rc = 0, error = 0;
	enum __ptrace_request resume = PTRACE_CONT;
	bool finish = false, succeeded = false;
	pid_t child = 0;
	int first = 0, child_status = 0;
	struct rusage child_ru;

	if (sig == (SIGTRAP | 0x80)) {
		finish = on_syscall_exit(t, &error);
	} else if (event == PTRACE_EVENT_STOP) {
		if (is_stop_signal(sig))
			resume = PTRACE_LISTEN;
	} else if (event == PTRACE_EVENT_SECCOMP) {
		if (tracer_exec_enter(tracer, t) == 0)
			resume = PTRACE_SYSCALL;
	} else if (event == PTRACE_EVENT_EXEC) {
		on_exec(tracer, t);
		finish = succeeded = true;
		tracer_exec_confirm(tracer, t);
		if (tracer->options.n_forbidden)
			tracer_exec_forbid(tracer, t);
	} else if (event == PTRACE_EVENT_FORK ||
		   event == PTRACE_EVENT_VFORK ||
		   event == PTRACE_EVENT_CLONE) {
		child = new_child_tid(t);
		t->vforking = event == PTRACE_EVENT_VFORK;
	} else if (event == PTRACE_EVENT_EXIT) {
		t->exited = true;
		if (t->tid == tracer->root_pid)
			mark_dying(tracer);
	} else if (event == 0) {
		inject = sig;
	}

	/* ESRCH: the tracee was killed meanwhile; its exit comes next. */
	ptrace(resume, t->tid, 0, (void *)(long)inject);
	if (child > 0 && !find_tracee(tracer, child))
		first = resume_first_stop(child, &child_status, &child_ru);

	/* What is left needs nothing more from the stop, so it runs with
	 * the tracee already running. t stays valid until this loop reaps
	 * the tracee's exit, later. */
	if (t->locate)
		tracer_exec_locate(tracer, t);
	if (child)
		rc = on_new_child(tracer, t, child, event);
	if (rc == 0 && first < 0)
		rc = on_wait(tracer, child, child_status, &child_ru);
	if (succeeded)
		tracer_exec_succeeded(tracer, t, t->tid);
	if (finish)
		rc = finish_exec(tracer, t, error);
	return rc;
}

static int on_wait(struct harness_tracer *tracer, pid_t pid, int status,
		   const struct rusage *ru)
{
	struct tracee *t = find_tracee(tracer, pid);
	int rc = 0;

	if (!t && is_first_stop(status)) {
		/* A new tid seen before its creator's event. Recording it
		 * reads /proc, so it is resumed first. Its creator waits in
		 * that event, so /proc still shows the same parent. */
		ptrace(PTRACE_CONT, pid, 0, 0);

		/* On failure its next stop is again of an unknown tid,
		 * which is detached below. */
		(void)adopt(tracer, pid, NULL, true);
		return 0;
	}
	if (!t && WIFSTOPPED(status)) {
		t = adopt(tracer, pid, NULL, true);
		if (!t) {
			/* Not ours to follow; let it go. */
			ptrace(PTRACE_DETACH, pid, 0, 0);
			return 0;
		}
	}
	if (!t) {
		if (tracer->options.on_untraced)
			tracer->options.on_untraced(pid, status,
						    tracer->options.userdata);
		return 0;
	}
	if (WIFSTOPPED(status)) {
		t->vforking = false;
		if (t->interrupting) {
			t->interrupting = false;
			tracer->n_interrupting--;
		}
		return on_stop(tracer, t, status);
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		rc = end_process(tracer, t, status, ru);
		drop_tracee(tracer, pid);
	}
	return rc;
}

/* Whether the hex signal set after "Sig...:" in a status line has sig. */
static bool has_signal(const char *line, int sig)
{
	unsigned long long set = strtoull(strchr(line, ':') + 1, NULL, 16);

	return (set >> (sig - 1)) & 1;
}

/*
 * Wait until pid waits in harness_tracer_child_prepare(), which shows in
 * /proc/PID/status as SIGCONT caught. The child blocks SIGCONT before it
 * installs the handler, so a SIGCONT sent from then on is not lost.
 * /proc is read because pid need not be a child of ours. Polls every
 * millisecond, for up to 10 seconds.
 */
static int wait_ready(pid_t pid)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "re");
		bool caught = false, dead = false;

		/* No /proc entry: the process has been reaped already. */
		if (!f && errno == ENOENT)
			errno = ESRCH;
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "State:", 6) == 0)
				dead = strpbrk(line + 6, "ZX") != NULL;
			else if (strncmp(line, "SigCgt:", 7) == 0)
				caught = has_signal(line, SIGCONT);
		}
		fclose(f);
		if (dead) {
			errno = ESRCH;
			return -1;
		}
		if (caught)
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

int harness_tracer_attach(struct harness_tracer *tracer, pid_t pid)
{
	struct harness_process *p;

	if (wait_ready(pid) < 0) {
		harness_set_error(
			"cannot attach to process: '%d': %s", (int)pid,
			errno == ESRCH ? "it exited before it was ready"
				       : strerror(errno));
		harness_set_hint("the process must call "
				 "harness_tracer_child_prepare() first");
		return -1;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_OPTIONS) < 0) {
		harness_set_error("cannot trace process: '%d': %s", (int)pid,
				  strerror(errno));
		harness_set_hint("ptrace needs the same user or "
				 "CAP_SYS_PTRACE, and Yama's ptrace_scope "
				 "at 0 or 1 for a child");
		return -1;
	}
	p = new_process(tracer, pid, -1, NULL);
	if (!p || !add_tracee(tracer, pid, p->index)) {
		harness_set_error("cannot trace process: '%d': out of memory",
				  (int)pid);
		return -1;
	}
	tracer->root_pid = pid;

	/* Ends the wait in harness_tracer_child_prepare(). The tracee
	 * reports the SIGCONT, which is injected like any signal. */
	kill(pid, SIGCONT);
	return emit(tracer, HARNESS_TRACE_STARTED, p, NULL);
}

/*
 * How long interrupt_all() waits for the stops it requested. A tracee
 * that can stop does so once it is scheduled, within milliseconds even
 * with hundreds of runnable processes on each CPU. One in a sleep that
 * only a fatal signal ends (a FUSE request while its server never
 * replies) stops only when the sleep ends, which may be never, so the
 * kill after the wait is what ends such a sleep. The policy's timeout is no
 * bound: it limits the agent, which has ended, and may be hours.
 */
#define STOP_WAIT_US 2000000

/* How long the loop waits for the exits after the kill. A process in a
 * sleep that not even SIGKILL ends (a FUSE request that its server has
 * read and never replies to) would hold the run until the sleep ends. */
#define KILL_WAIT_US 5000000

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* wait4 for any tracee until deadline (monotonic_us()); 0 when nothing
 * came by then. The events come back to back while tracees stop, so
 * the pause between polls grows only while none comes. */
static pid_t wait_until(int *status, struct rusage *ru, int64_t deadline)
{
	long pause_ns = 20000;

	for (;;) {
		pid_t pid = wait4(-1, status, __WALL | WNOHANG, ru);

		if (pid != 0 || monotonic_us() >= deadline)
			return pid;
		nanosleep(&(struct timespec){ 0, pause_ns }, NULL);
		if (pause_ns < 1000000)
			pause_ns *= 2;
	}
}

/*
 * Kill every process still running: the root has ended, or the run is
 * being stopped.
 * NOTE: a tracee killed while its fork event is pending dies without
 * reporting it, and its child, traced from birth, then waits in its
 * first stop, before running any code of its own. The loop ends without
 * knowing it, so it is not recorded, and the kernel kills it when the
 * tracer exits (PTRACE_O_EXITKILL) or the sandbox's PID namespace ends.
 */
static void drain(struct harness_tracer *tracer)
{
	tracer->draining = true;
	tracer->kill_deadline = monotonic_us() + KILL_WAIT_US;
	for (size_t i = 0; i < tracer->n_processes; i++) {
		struct harness_process *p = tracer->processes[i];

		if (p->end == HARNESS_END_RUNNING)
			kill(p->pid, SIGKILL);
	}
}

/* Close the records still open as lost: wait4 has no more tracees (a
 * detach elsewhere lost them), or, with unkilled, they outlived the
 * kill by KILL_WAIT_US. */
static void close_lost(struct harness_tracer *tracer, bool unkilled)
{
	for (size_t i = 0; i < tracer->n_processes; i++) {
		struct harness_process *p = tracer->processes[i];

		if (p->end == HARNESS_END_RUNNING) {
			p->end = HARNESS_END_LOST;
			p->unkilled = unkilled;
			p->end_us = tracer_now_us();
			tracer->n_live--;
		}
	}
}

/* Return whether t, which has vforked, still waits for its child: the
 * wait is uninterruptible but killable, so /proc shows state D. */
static bool waits_for_vfork(const struct tracee *t)
{
	char text[TRACER_STATUS_BYTES];
	const char *state;

	if (tracer_status_text(t->tid, text, sizeof(text)) < 0)
		return false;
	state = tracer_status_field(text, "State:");
	return state && state[strspn(state, " \t")] == 'D';
}

/*
 * Stop every tracee once before the kill. A daemon whose exec was under
 * way when the root exited reports its exec event before the stop that
 * PTRACE_INTERRUPT requests, and SIGKILL alone would discard that event.
 * A tracee that has not stopped by STOP_WAIT_US is marked unstopped and
 * killed with the rest.
 */
static int interrupt_all(struct harness_tracer *tracer)
{
	int64_t deadline;

	for (size_t i = 0; i < TRACEE_BUCKETS; i++) {
		for (struct tracee *t = tracer->tracees[i]; t; t = t->next) {
			/* A leader that has exited before its other threads
			 * is reported only once they have all ended, and a
			 * vfork parent stops only once its child has
			 * exec'd or ended. The kill after this ends both
			 * waits, and neither tracee is in an exec.
			 * NOTE: a leader that exited before another thread
			 * exec'd keeps its mark after the exec, so its new
			 * program is skipped here too, and an exec of it in
			 * flight could go unrecorded. Found by reading, not
			 * reproduced. */
			if (t->exited || (t->vforking && waits_for_vfork(t)))
				continue;
			if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0) {
				t->interrupting = true;
				tracer->n_interrupting++;
			}
		}
	}
	deadline = monotonic_us() + STOP_WAIT_US;
	while (tracer->n_interrupting > 0) {
		struct rusage ru;
		int st;
		pid_t pid = wait_until(&st, &ru, deadline);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return 0;
		if (pid == 0)
			break;
		if (on_wait(tracer, pid, st, &ru) < 0)
			return -1;
	}
	for (size_t i = 0; i < TRACEE_BUCKETS; i++) {
		for (struct tracee *t = tracer->tracees[i]; t; t = t->next) {
			if (!t->interrupting)
				continue;
			tracer->processes[t->process]->unstopped = true;
			t->interrupting = false;
			tracer->n_interrupting--;
		}
	}
	return 0;
}

static int run_loop(struct harness_tracer *tracer, int *status)
{
	int failed = 0;
	char message[1024] = "";

	while (tracer->n_live > 0) {
		struct rusage ru;
		int st;
		pid_t pid;

		if ((tracer->root_ended || failed) && !tracer->draining) {
			if (!failed && interrupt_all(tracer) < 0) {
				failed = 1;
				snprintf(message, sizeof(message), "%s",
					 harness_error());
			}
			drain(tracer);
		}
		if (tracer->draining)
			pid = wait_until(&st, &ru, tracer->kill_deadline);
		else
			pid = wait4(-1, &st, __WALL, &ru);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid == 0) {
			close_lost(tracer, true);
			break;
		}
		if (pid < 0 && errno == ECHILD) {
			close_lost(tracer, false);
			break;
		}
		if (pid < 0) {
			harness_set_error("cannot wait for traced processes: "
					  "%s", strerror(errno));
			drain(tracer);
			return -1;
		}
		if (on_wait(tracer, pid, st, &ru) < 0 && !failed) {
			failed = 1;
			snprintf(message, sizeof(message), "%s",
				 harness_error());
		}
	}
	if (failed) {
		harness_set_error("%s", message);
		return -1;
	}
	*status = tracer->root_status;
	return 0;
}

int harness_tracer_run(struct harness_tracer *tracer, int *status)
{
	struct tracer_sched saved;
	int rc;

	tracer_sched_begin(&saved);
	rc = run_loop(tracer, status);
	tracer_sched_end(&saved);

	/* No exec comes any more, and the descriptor would keep a mount of
	 * the sandbox's namespace after its teardown. */
	tracer_root_release(&tracer->root);
	return rc;
}

/* The pids of the processes whose flag at offset is set, or NULL. */
static char *flagged_pids(const struct harness_tracer *tracer, size_t offset)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	for (size_t i = 0; i < tracer->n_processes; i++) {
		const struct harness_process *p = tracer->processes[i];

		if (*(const bool *)((const char *)p + offset))
			fprintf(out, "%s%d", len ? " " : "", (int)p->pid);
		fflush(out);
	}
	if (fclose(out) != 0 || !len) {
		free(text);
		return NULL;
	}
	return text;
}

char *harness_tracer_unstopped_pids(const struct harness_tracer *tracer)
{
	return flagged_pids(tracer, offsetof(struct harness_process,
					     unstopped));
}

char *harness_tracer_unkilled_pids(const struct harness_tracer *tracer)
{
	return flagged_pids(tracer, offsetof(struct harness_process,
					     unkilled));
}

void harness_tracer_signal_root(struct harness_tracer *tracer, int sig)
{
	if (tracer->root_pid > 0)
		kill(tracer->root_pid, sig);
}

size_t harness_tracer_count(const struct harness_tracer *tracer)
{
	return tracer->n_processes;
}

const struct harness_process *harness_tracer_process(
	const struct harness_tracer *tracer, size_t index)
{
	return index < tracer->n_processes ? tracer->processes[index] : NULL;
}

void harness_tracer_free(struct harness_tracer *tracer)
{
	if (!tracer)
		return;
	for (size_t i = 0; i < TRACEE_BUCKETS; i++) {
		while (tracer->tracees[i])
			drop_tracee(tracer, tracer->tracees[i]->tid);
	}
	for (size_t i = 0; i < tracer->n_processes; i++) {
		struct harness_process *p = tracer->processes[i];

		for (size_t j = 0; j < p->n_execs; j++)
			tracer_exec_release(&p->execs[j]);
		free(p->execs);
		free(p->ns_pids);
		free(p);
	}
	free(tracer->processes);
	free(tracer->early);
	tracer_hashes_free(tracer);
	tracer_secrets_free(tracer);
	tracer_env_cache_release(&tracer->env_cache);
	tracer_root_release(&tracer->root);
	free(tracer);
}

const char *harness_end_name(enum harness_end end)
{
	switch (end) {
	case HARNESS_END_RUNNING:
		return "running";
	case HARNESS_END_EXITED:
		return "exited";
	case HARNESS_END_SIGNALED:
		return "signaled";
	case HARNESS_END_KILLED:
		return "killed";
	case HARNESS_END_LOST:
		return "lost";
	}
	return "unknown";
}
