/*
 * record_detach.c - run a recording or a replay in a session of its own.
 *
 * The agent must not have the caller's terminal as its controlling
 * terminal, or it could push input into it with TIOCSTI. A new session
 * has none. But a session is also a scheduling autogroup
 * (/proc/sys/kernel/sched_autogroup_enabled), and when only the agent
 * is in a new one, every ptrace stop wakes the tracer thread in another
 * group. On 2 CPUs a shell loop of 2,000 execs of /bin/true took 2,015 ms
 * under the tracer with the command in a session of its own, against
 * 1,700 ms with tracer and command in one new session (medians of 9).
 *
 * So the recorder moves itself into a new session before it starts any
 * thread, and the agent inherits it: the sandbox's init calls setsid()
 * only when its caller still has a controlling terminal. The process
 * that the caller started stays behind in the caller's session, where
 * the terminal's SIGINT reaches it. It passes SIGINT, SIGTERM and SIGHUP
 * on to the recorder and stops it on Ctrl-Z (SIGTSTP), except a signal
 * that the caller ignores, which stays ignored. It exits with the
 * recorder's status, or dies of the recorder's signal.
 *
 * NOTE: the recorder is now a session leader without a controlling
 * terminal, and such a process acquires any terminal it opens without
 * O_NOCTTY. It opens no terminal, and the snapshot opens the files the
 * agent controls with O_NOCTTY.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "record/record_run.h"

bool record_detached;

/* The signals that the recorder takes itself (record_signals_block()),
 * without those that the caller ignores. */
static void stop_set(sigset_t *set)
{
	record_signals_set(set);
}

/* SIGTSTP only when the caller does not ignore it, as a shell without
 * job control has its background jobs do. */
static void relay_set(sigset_t *set)
{
	struct sigaction tstp;

	stop_set(set);
	sigaddset(set, SIGCHLD);
	if (sigaction(SIGTSTP, NULL, &tstp) == 0 &&
	    tstp.sa_handler != SIG_IGN)
		sigaddset(set, SIGTSTP);
}

/*
 * Ctrl-Z: stop the recorder, and so the tracer, which keeps every agent
 * process waiting at its next ptrace stop, then stop this process for
 * the shell's job control. Both go on when the shell continues this one.
 */
static void suspend(pid_t recorder)
{
	sigset_t tstp;

	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	kill(recorder, SIGSTOP);
	raise(SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	kill(recorder, SIGCONT);
}

/* End this process the way the recorder ended. */
static _Noreturn void end_like(int status)
{
	sigset_t all;

	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	signal(WTERMSIG(status), SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(WTERMSIG(status));
	exit(128 + WTERMSIG(status));
}

/* Pass a signal on with the pid of its sender, so that the recorder can
 * pair it with the copy that the sender may have sent it directly
 * (record_signal_is_copy()). A signal from the kernel or a terminal has
 * no sender: 0. */
static void pass_on(pid_t recorder, int sig, const siginfo_t *info)
{
	union sigval from = { .sival_int = 0 };

	if (info->si_code == SI_USER || info->si_code == SI_QUEUE)
		from.sival_int = info->si_pid;
	if (sigqueue(recorder, sig, from) < 0)
		kill(recorder, sig);
}

/* In the process left behind: relay signals until the recorder ends. */
static _Noreturn void relay(pid_t recorder, const sigset_t *set)
{
	int status;

	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(set, &info);

		if (sig == SIGCHLD) {
			if (waitpid(recorder, &status, WNOHANG) == recorder)
				end_like(status);
		} else if (sig == SIGTSTP) {
			suspend(recorder);
		} else if (sig > 0) {
			pass_on(recorder, sig, &info);
		}
	}
}

void record_detach(void)
{
	pid_t caller = getpid(), recorder;
	sigset_t set, old;

	/* Blocked before the fork, so that no signal falls between the
	 * two processes. */
	relay_set(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	recorder = fork();
	if (recorder < 0) {
		/* The sandbox's init then makes the session itself, at the
		 * tracer's cost. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	/* The caller's environ contains the gateway's keys, which an agent
	 * of --sandbox none could read in /proc unless it belongs to root. */
	if (recorder > 0) {
		prctl(PR_SET_DUMPABLE, 0);
		relay(recorder, &set);
	}

	/* The recorder dies with the process that the caller waits for,
	 * and the sandbox with the recorder. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != caller)
		_exit(CLI_EXIT_RUNBUNDLE);
	record_relay_pid = caller;
	record_detached = setsid() > 0;

	/* What the recorder takes itself stays blocked, so that a signal
	 * before its handlers exist is not lost. */
	stop_set(&set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
}
