/*
 * record_run.c - start the agent under the tracer, pump its output, and
 * turn SIGINT and SIGTERM into a stop that still finalizes the bundle.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP, unless the caller ignored them,
 * are blocked from the start (record_signals_block()), before the
 * gateway and the output pump create their threads, which inherit the
 * mask. Only the main thread unblocks
 * them, while it waits in the tracer loop, so the handler runs there. The
 * agent runs in a session of its own, so the terminal's Ctrl-C reaches
 * runbundle only, which forwards the first one and kills the tree on the
 * second. Before the agent starts, the main thread takes them with
 * record_signals_poll() between its steps and after each directory of a
 * snapshot: the first ends the session before the agent runs, the second
 * ends runbundle at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/tracer.h"
#include "record/record.h"
#include "record/record_gateway.h"
#include "record/record_run.h"

static struct record_session *signal_session;
static volatile sig_atomic_t signal_count;

static void on_signal(int sig, siginfo_t *info, void *context)
{
	struct record_session *s = signal_session;

	(void)context;
	if (record_signal_is_copy(sig, info))
		return;
	signal_count++;
	if (!s || !s->tracer)
		return;
	s->stop_requested = 1;
	harness_tracer_signal_root(s->tracer,
				   signal_count > 1 ? SIGKILL : sig);
	if (signal_count > 1 && s->kill_pid > 0)
		kill(s->kill_pid, SIGKILL);
}

/*
 * The stop signals that the caller did not ignore, read once, before
 * any handler is installed. A signal ignored at the start stays
 * ignored, as nohup and a shell's background job expect: it is never
 * blocked here, because a blocked signal is queued even while its
 * disposition is SIG_IGN, and sigwaitinfo() would then take it.
 */
void record_signals_set(sigset_t *set)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	static sigset_t handled;
	static bool known;

	if (!known) {
		sigemptyset(&handled);
		for (size_t i = 0; i < sizeof(stop) / sizeof(*stop); i++) {
			struct sigaction old;

			if (sigaction(stop[i], NULL, &old) == 0 &&
			    old.sa_handler == SIG_IGN)
				continue;
			sigaddset(&handled, stop[i]);
		}
		known = true;
	}
	*set = handled;
}

void record_signals_block(void)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_sigaction = on_signal,
				.sa_flags = SA_SIGINFO };
	sigset_t set;

	record_signals_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop) / sizeof(*stop); i++) {
		if (sigismember(&set, stop[i]))
			sigaction(stop[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
}

/*
 * A second signal before the agent started: the snapshot under way
 * cannot be cut short, so runbundle exits now. What was committed stays
 * verifiable, as after SIGKILL.
 */
static _Noreturn void stop_now(struct record_session *s, int sig)
{
	/* -pgid names the agent's group, which exists only once the
	 * agent's process has made it: kill the process too. */
	if (s->kill_pid)
		kill(s->kill_pid, SIGKILL);
	if (s->kill_pid < 0)
		kill(-s->kill_pid, SIGKILL);

	/* The parts made for the run go, as after a whole run. */
	if (s->sandbox)
		sandbox_child_release(s->sandbox);
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	cli_error("recording stopped: '%s': a second SIG%s before the "
		  "agent started", s->config->output, sigabbrev_np(sig));
	cli_hint("the bundle is incomplete: 'runbundle verify "
		 "--allow-incomplete %s' checks what was committed",
		 s->config->output);
	_exit(CLI_EXIT_RUNBUNDLE);
}

/* Return the next pending signal of the set, leaving out the copies that
 * record_signal_is_copy() names, or 0 when none is pending. */
static int pending_signal(void)
{
	const struct timespec no_wait = { 0, 0 };
	siginfo_t info;
	sigset_t set;
	int sig;

	record_signals_set(&set);
	do
		sig = sigtimedwait(&set, &info, &no_wait);
	while (sig > 0 && record_signal_is_copy(sig, &info));
	return sig > 0 ? sig : 0;
}

int record_signals_poll(struct record_session *s)
{
	int sig;

	while ((sig = pending_signal())) {
		signal_count++;
		if (s->stop_signal)
			stop_now(s, sig);
		s->stop_signal = sig;
	}
	return s->stop_signal;
}

int record_signals_take(void)
{
	while (pending_signal())
		signal_count++;
	return signal_count;
}

void record_signals_poll_ending(struct record_session *s)
{
	const char *name;
	int sig;

	while ((sig = pending_signal())) {
		signal_count++;
		if (s->config->replaying)
			continue;
		name = sigabbrev_np(sig);
		if (isatty(STDERR_FILENO))
			fputs("\r\033[K", stderr);
		if (s->ending_signals++) {
			cli_error("recording stopped: '%s': a second SIG%s "
				  "during the final snapshot",
				  s->config->output, name);
			cli_hint("the bundle is incomplete: 'runbundle verify "
				 "--allow-incomplete %s' checks what was "
				 "committed", s->config->output);
			_exit(CLI_EXIT_RUNBUNDLE);
		}
		fprintf(stderr, "note: SIG%s during the final snapshot: the "
			"bundle is finalized when it ends; a second SIG%s "
			"stops runbundle and leaves the bundle incomplete\n",
			name, name);
	}
}

static void signals_unblock(void)
{
	sigset_t set;

	record_signals_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* The child gets the signal dispositions and mask a shell would give:
 * a stop signal that the caller ignored stays ignored. */
static void child_signals_reset(void)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t set;

	record_signals_set(&set);
	for (size_t i = 0; i < sizeof(stop) / sizeof(*stop); i++) {
		if (sigismember(&set, stop[i]))
			signal(stop[i], SIG_DFL);
	}
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static bool is_secret_name(const char *entry, const char *const *secret)
{
	const char *eq = strchr(entry, '=');
	char name[256];

	if (!eq || (size_t)(eq - entry) >= sizeof(name))
		return false;
	memcpy(name, entry, (size_t)(eq - entry));
	name[eq - entry] = '\0';
	for (size_t i = 0; secret[i]; i++) {
		if (fnmatch(secret[i], name, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

static bool overridden(const char *entry, char *const *extra)
{
	size_t len = strcspn(entry, "=");

	for (size_t i = 0; extra && extra[i]; i++) {
		if (strncmp(extra[i], entry, len) == 0 &&
		    extra[i][len] == '=')
			return true;
	}
	return false;
}

char **record_agent_env(char *const *extra, const char *const *secret)
{
	extern char **environ;
	size_t n = 0, k = 0, m = 0;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!is_secret_name(environ[i], secret) &&
		    !overridden(environ[i], extra))
			env[k++] = environ[i];
	}
	for (size_t i = 0; i < m; i++)
		env[k++] = extra[i];
	return env;
}

/* In the child: never returns. */
static void run_child(struct record_session *s, struct record_stdio *io,
		      char **env)
{
	char **argv = s->config->argv;

	child_signals_reset();

	/* A process group of its own, for kill(-pid). A new session only
	 * while the recorder has the caller's terminal (record_detach.c):
	 * a session is a scheduling autogroup too. */
	if (record_detached)
		setpgid(0, 0);
	else
		setsid();
	if (dup2(io->in, STDIN_FILENO) < 0 ||
	    dup2(io->out[1], STDOUT_FILENO) < 0 ||
	    dup2(io->err[1], STDERR_FILENO) < 0)
		_exit(CLI_EXIT_RUNBUNDLE);
	if (chdir(s->config->workspace) < 0) {
		cli_error("cannot enter the workspace: '%s': %s",
			  s->config->workspace, strerror(errno));
		_exit(CLI_EXIT_RUNBUNDLE);
	}
	/* main() ignores it for runbundle alone. */
	signal(SIGXFSZ, SIG_DFL);
	/* The recorder is not dumpable (run_direct()), and a tracer without
	 * privilege can seize only a dumpable process. */
	if (prctl(PR_SET_DUMPABLE, 1) < 0) {
		cli_error("cannot start the agent: '%s': %s",
			  "PR_SET_DUMPABLE", strerror(errno));
		_exit(CLI_EXIT_RUNBUNDLE);
	}
	if (harness_tracer_child_prepare() < 0) {
		cli_error_from(harness_error(), harness_error_hint());
		_exit(CLI_EXIT_RUNBUNDLE);
	}
	execvpe(argv[0], argv, env);
	cli_error("cannot run the agent: '%s': %s", argv[0],
		  strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* A terminal stdin goes to the agent. Any other stdin would not be
 * recorded, so the agent reads /dev/null, as a replay can give it. */
static int agent_stdin(void)
{
	if (isatty(STDIN_FILENO))
		return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void record_fail(struct record_session *s, const char *message,
		 const char *hint)
{
	pthread_mutex_lock(&s->lock);
	record_fail_locked(s, message, hint);
	pthread_mutex_unlock(&s->lock);
}

static void fail_errno(struct record_session *s, const char *what)
{
	char message[512];

	snprintf(message, sizeof(message), "%s: %s", what, strerror(errno));
	record_fail(s, message, NULL);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int record_stdio_open(struct record_session *s, struct record_stdio *io)
{
	io->in = agent_stdin();
	io->out[0] = io->out[1] = io->err[0] = io->err[1] = -1;
	io->output = NULL;
	if (io->in < 0 || pipe2(io->out, O_CLOEXEC) < 0 ||
	    pipe2(io->err, O_CLOEXEC) < 0) {
		fail_errno(s, "cannot prepare the agent's input and output");
		record_stdio_close(io);
		return -1;
	}
	return 0;
}

int record_stdio_pump(struct record_session *s, struct record_stdio *io)
{
	close_fd(&io->in);
	close_fd(&io->out[1]);
	close_fd(&io->err[1]);
	io->output = record_output_start(s, (int[2]){ io->out[0],
						      io->err[0] });
	io->out[0] = io->err[0] = -1;
	if (!io->output) {
		fail_errno(s, "cannot read the agent's output");
		return -1;
	}
	return 0;
}

void record_stdio_close(struct record_stdio *io)
{
	close_fd(&io->in);
	close_fd(&io->out[1]);
	close_fd(&io->err[1]);
	record_output_finish(io->output);
	io->output = NULL;
	close_fd(&io->out[0]);
	close_fd(&io->err[0]);
}

void record_warn_unstopped(const struct harness_tracer *tracer)
{
	char *pids = harness_tracer_unstopped_pids(tracer);

	if (pids)
		cli_error("warning: traced processes did not stop within 2 s "
			  "at the end of the run: '%s': an exec they had "
			  "under way may be missing from the process tree",
			  pids);
	free(pids);
	pids = harness_tracer_unkilled_pids(tracer);
	if (!pids)
		return;
	cli_error("warning: traced processes did not exit within 5 s of "
		  "SIGKILL: '%s': they are recorded as lost and may still "
		  "run", pids);
	free(pids);
}

int record_trace_agent(struct record_session *s, pid_t pid,
		       struct record_result *r)
{
	if (harness_tracer_attach(s->tracer, pid) < 0) {
		record_fail(s, harness_error(), harness_error_hint());
		return -1;
	}
	r->started = true;
	signal_session = s;
	signals_unblock();
	if (harness_tracer_run(s->tracer, &r->wait_status) < 0 && !s->failed)
		record_fail(s, harness_error(), harness_error_hint());
	record_warn_unstopped(s->tracer);
	record_signals_block();
	r->agent_interrupts = signal_count;
	signal_session = NULL;
	return 0;
}

void record_result_close(struct record_result *r)
{
	int st = r->wait_status;

	r->interrupts = signal_count;
	r->end_us = record_now_us();
	if (!r->started && r->stop_signal)
		r->exit_code = 128 + r->stop_signal;
	else if (!r->started)
		r->exit_code = CLI_EXIT_RUNBUNDLE;
	else if (WIFSIGNALED(st))
		r->exit_code = 128 + WTERMSIG(st);
	else
		r->exit_code = WEXITSTATUS(st);
}

struct harness_tracer *record_tracer_new(struct record_session *s,
					 harness_untraced_fn on_untraced)
{
	struct harness_tracer_options to = {
		.secret_names = s->secret_names,
		.on_event = record_on_trace,
		.on_untraced = on_untraced,
		.userdata = s,
		.forbidden = s->forbidden,
		.n_forbidden = s->n_forbidden,
	};

	s->tracer = harness_tracer_new(&to);
	if (!s->tracer)
		record_fail(s, "cannot start the tracer: out of memory",
			    NULL);
	return s->tracer;
}

/* Kill the agent's process, which never ran: it waits for the tracer. */
static void kill_unstarted(struct record_session *s, pid_t pid,
			   struct record_result *r)
{
	r->stop_signal = s->stop_signal;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * The policy's wall-clock limit without the sandbox, whose init keeps it
 * otherwise. A thread waits for it and then kills the agent, as a second
 * signal does, and the tracer kills the rest of the tree when the agent
 * has ended.
 */
struct deadline {
	struct record_session *session;
	pid_t group;		/* the agent's process group */
	struct timespec at;	/* CLOCK_MONOTONIC */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;		/* the thread exists */
	bool done;		/* the agent ended first */
	bool expired;
};

static void *deadline_main(void *arg)
{
	struct deadline *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->done && !d->expired) {
		if (pthread_cond_timedwait(&d->cond, &d->lock, &d->at) ==
		    ETIMEDOUT && !d->done) {
			d->expired = true;
			harness_tracer_signal_root(d->session->tracer,
						   SIGKILL);
			kill(-d->group, SIGKILL);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Start the limit's clock for the agent whose process group is group.
 * Without a limit, or without a thread, the agent runs until it ends. */
static void deadline_start(struct deadline *d, struct record_session *s,
			   pid_t group)
{
	uint64_t seconds = s->config->policy->limits.timeout_seconds;
	pthread_condattr_t attr;

	memset(d, 0, sizeof(*d));
	/* Beyond 68 years the sum could overflow time_t, so such a limit
	 * counts as no limit. */
	if (!seconds || seconds > INT32_MAX)
		return;
	d->session = s;
	d->group = group;
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += (time_t)seconds;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &attr);
	pthread_condattr_destroy(&attr);
	d->running = pthread_create(&d->thread, NULL, deadline_main, d) == 0;
	if (!d->running) {
		cli_error("warning: cannot keep the policy's wall-clock "
			  "limit: '%llu s': no thread; the agent runs "
			  "without it", (unsigned long long)seconds);
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
	}
}

/* Stop the clock, and return whether the limit ended the run. */
static bool deadline_stop(struct deadline *d)
{
	if (!d->running)
		return false;
	pthread_mutex_lock(&d->lock);
	d->done = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	d->running = false;
	return d->expired;
}

/* Serve the gateway on gateway_fd (owned, -1 for none) once the
 * session has started and no signal stopped it. */
static void serve_direct(struct record_session *s, struct record_gateway *g,
			 int gateway_fd)
{
	if (record_session_start(s) == 0 && !s->stop_signal && g) {
		record_gateway_listen(g, gateway_fd);
		gateway_fd = -1;
	}
	if (gateway_fd >= 0)
		close(gateway_fd);
}

static int run_direct(struct record_session *s, int gateway_fd,
		      struct record_gateway *g, char **env,
		      struct record_result *r)
{
	struct record_stdio io;
	pid_t pid;

	if (!record_tracer_new(s, NULL) || record_stdio_open(s, &io) < 0)
		goto fail;
	/* The agent could read the recorder's memory and environ in /proc,
	 * which contain the gateway's keys. Not dumpable, both belong to
	 * root. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		fail_errno(s, "cannot hide the recorder's memory");
		record_stdio_close(&io);
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		run_child(s, &io, env);
	if (pid < 0) {
		fail_errno(s, "cannot start the agent");
		record_stdio_close(&io);
		goto fail;
	}
	s->kill_pid = -pid;
	serve_direct(s, g, gateway_fd);
	if (s->failed || s->stop_signal) {
		kill_unstarted(s, pid, r);
	} else {
		struct deadline deadline;

		record_stdio_pump(s, &io);
		deadline_start(&deadline, s, pid);
		if (record_trace_agent(s, pid, r) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		r->timed_out = deadline_stop(&deadline);
	}
	s->kill_pid = 0;
	record_stdio_close(&io);
	return s->failed ? -1 : 0;
fail:
	if (gateway_fd >= 0)
		close(gateway_fd);
	return -1;
}

/* A listening socket on a free port of 127.0.0.1, for the gateway to
 * serve once the agent's process exists. Returns the fd, or -1. */
static int listen_loopback(unsigned short *port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(addr.sin_port);
	return fd;
}

int record_run_direct(struct record_session *s, struct record_gateway *g,
		      struct record_result *r)
{
	unsigned short port = 0;
	int fd = -1;
	char **env = NULL;

	memset(r, 0, sizeof(*r));
	if (g && (fd = listen_loopback(&port)) < 0) {
		fail_errno(s, "cannot start the model gateway");
		goto out;
	}
	env = record_agent_env(record_gateway_env(g, port), s->secret_names);
	if (!env) {
		record_fail(s, "cannot prepare the agent's environment: out "
			    "of memory", NULL);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	run_direct(s, fd, g, env, r);
out:
	free(env);
	record_result_close(r);
	return s->failed ? -1 : 0;
}
