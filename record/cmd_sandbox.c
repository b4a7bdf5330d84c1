/*
 * cmd_sandbox.c - "runbundle sandbox": run one command in the sandbox
 * that a policy describes, the way bwrap runs one, and exit with its
 * status. When the policy allows network destinations, the egress
 * proxy runs here on the host side and serves a port inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "record/commands.h"
#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "sandbox/proxy.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"

/* The proxy's port inside the sandbox's own network namespace, where
 * nothing else listens. */
#define PROXY_PORT 3128

/* Violations printed one by one; the rest are only counted. */
#define MAX_PRINTED 20

struct run {
	struct sandbox_policy *policy;
	struct sandbox_config config;
	struct sandbox_child child;
	struct sandbox_result result;
	struct sandbox_proxy *proxy;
	struct sandbox_seccomp_supervisor *supervisor;
	const char *description_path;
	uint64_t violations;

	/* The write and network attempts, which the supervisor passes to
	 * its callback only: [{"kind", "what", "why"}], at most
	 * MAX_ATTEMPTS of them, guarded by attempts_lock. */
	pthread_mutex_t attempts_lock;
	cJSON *attempts;
	uint64_t attempts_dropped;	/* past MAX_ATTEMPTS */
};

/* The maximum number of attempts kept for the report; later ones are
 * only counted. */
#define MAX_ATTEMPTS 1024

/*
 * Signals. The sandbox's init (or the helper in front of it) passes the
 * first SIGINT, SIGTERM or SIGHUP on to the command and kills every
 * process of the run on a second one, as runbundle record does. So this
 * process sends each one to it. The same signal again within
 * 100 ms counts once (sandbox_signal_repeated()). Ctrl-Z (SIGTSTP) stops
 * the run's processes, then this process, and both resume on SIGCONT.
 * A signal ignored when runbundle started stays ignored.
 */
static volatile sig_atomic_t helper_pid;
static volatile sig_atomic_t signal_count;
static volatile sig_atomic_t second_signal;

static void on_signal(int sig)
{
	if (sandbox_signal_repeated(sig))
		return;
	if (++signal_count == 2)
		second_signal = sig;
	if (helper_pid > 0)
		kill((pid_t)helper_pid, sig);
}

/* Stop the run, then this process, the way the shell's job control
 * expects; continue both when the shell continues this one. */
static void on_stop(int sig)
{
	int saved = errno;
	sigset_t tstp;

	if (helper_pid > 0)
		kill((pid_t)helper_pid, SIGTSTP);
	signal(sig, SIG_DFL);
	sigemptyset(&tstp);
	sigaddset(&tstp, sig);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	raise(sig);
	/* Here after SIGCONT. */
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	if (helper_pid > 0)
		kill((pid_t)helper_pid, SIGCONT);
	signal(sig, on_stop);
	errno = saved;
}

/* Install handler for sig unless the caller ignored sig. */
static void catch_signal(int sig, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler }, old;

	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Fill set with the signals handled here. They stay blocked until
 * launch() has init's pid, so that none sent meanwhile is lost. */
static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTSTP);
}

/* Block the handled signals, store the old mask in saved, and then
 * install the handlers, because on_signal() drops a signal without
 * init's pid. */
static void install_signals(sigset_t *saved)
{
	sigset_t block;

	handled_set(&block);
	sigprocmask(SIG_BLOCK, &block, saved);
	catch_signal(SIGINT, on_signal);
	catch_signal(SIGTERM, on_signal);
	catch_signal(SIGHUP, on_signal);
	catch_signal(SIGTSTP, on_stop);
	signal(SIGPIPE, SIG_IGN);
}

static int parse_mode(const char *arg, enum sandbox_mode *mode)
{
	if (strcmp(arg, "none") == 0)
		*mode = SANDBOX_MODE_NONE;
	else if (strcmp(arg, "namespaces") == 0)
		*mode = SANDBOX_MODE_NAMESPACES;
	else
		return -1;
	return 0;
}

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct run *run, const char **policy_path)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "description", required_argument, NULL, 'd' },
		{ "sandbox", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
		switch (c) {
		case 'p': *policy_path = optarg; break;
		case 'w': run->config.workspace = optarg; break;
		case 'd': run->description_path = optarg; break;
		case 's':
			if (parse_mode(optarg, &run->config.mode) < 0)
				return cli_usage_error(self, "invalid "
					"--sandbox: '%s': expected "
					"'namespaces' or 'none'", optarg);
			break;
		default:
			return cli_option_error(self, c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "missing command");
	run->config.argv = argv + optind;
	return 0;
}

static int write_description(const struct run *run, cJSON *result)
{
	cJSON *copy = cJSON_Duplicate(run->child.description, 1);
	char *text;
	FILE *f;
	int rc = 0;

	if (!run->description_path || !copy) {
		cJSON_Delete(copy);
		cJSON_Delete(result);
		return 0;
	}
	if (result)
		cJSON_AddItemToObject(copy, "result", result);
	text = cJSON_Print(copy);
	f = fopen(run->description_path, "w");
	if (!f || !text || fprintf(f, "%s\n", text) < 0)
		rc = -1;
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		cli_error("cannot write the description: '%s': %s",
			  run->description_path, strerror(errno));
	free(text);
	cJSON_Delete(copy);
	return rc;
}

/*
 * Check that the description file can be created, before anything
 * runs. The file is written again after the command has run, and a
 * failure then would replace the command's status with 125.
 */
static int check_description_path(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			cli_error("cannot create the description: '%s': %s",
				  path, strerror(EISDIR));
			cli_hint("name a file, for example '%s/description"
				 ".json'", path);
			return -1;
		}
		/* A FIFO would block the open until a reader comes, and a
		 * device such as /dev/full fails only at the write. */
		if (!S_ISREG(st.st_mode)) {
			cli_error("cannot create the description: '%s': not a "
				  "regular file", path);
			cli_hint("name a regular file, or a new one");
			return -1;
		}
		/* Opened without O_TRUNC, so a file that exists stays as it
		 * is until the run writes it. */
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC |
			      O_NOCTTY);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
	} else if (errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%.*s", slash ?
			 (int)(slash - path) + (slash == path) : 1,
			 slash ? path : ".");
		if (access(dir, W_OK) == 0)
			return 0;
	}
	cli_error("cannot create the description: '%s': %s", path,
		  strerror(errno));
	if (errno == ENOENT || errno == ENOTDIR)
		cli_hint("create its directory first, or name a file in an "
			 "existing directory");
	else
		cli_hint("name a file in a directory that you can write to");
	return -1;
}

static int start_proxy(struct run *run)
{
	const struct sandbox_strings *allow = &run->policy->network_allow;

	run->proxy = sandbox_proxy_new(NULL, NULL);
	if (!run->proxy)
		return -1;
	for (size_t i = 0; i < allow->count; i++) {
		if (sandbox_proxy_allow(run->proxy, allow->items[i]) < 0)
			return -1;
	}
	/* The proxy owns the listener from here on, even when adding it
	 * fails, so cleanup must not close it again. */
	run->child.n_port_fds = 0;
	if (sandbox_proxy_add_listener(run->proxy, run->child.port_fds[0]) < 0)
		return -1;
	return sandbox_proxy_start(run->proxy);
}

static void violation(struct run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(struct run *run, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (++run->violations > MAX_PRINTED)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cli_error("policy violation: %s", text);
}

static void add_violation(cJSON *list, const char *kind, const char *what,
			  const char *why)
{
	cJSON *v = cJSON_CreateObject();

	if (!v)
		return;
	cJSON_AddStringToObject(v, "kind", kind);
	cJSON_AddStringToObject(v, "what", what);
	cJSON_AddStringToObject(v, "why", why);
	cJSON_AddItemToArray(list, v);
}

/* Keep one attempt for the report. Runs on the supervisor thread. */
static void on_attempt(const struct sandbox_seccomp_violation *v, void *arg)
{
	const struct sandbox_seccomp_attempt *a = v->attempt;
	struct run *run = arg;
	char what[4200], why[96];
	const char *kind;

	if (!a)
		return;
	if (a->kind == SANDBOX_SECCOMP_WRITE) {
		kind = "write";
		snprintf(what, sizeof(what), "%s", a->path);
		snprintf(why, sizeof(why), "outside the writable paths (%s, "
			 "pid %d)", v->syscall, (int)v->pid);
	} else {
		kind = "network";
		if (strcmp(a->family, "unix") == 0)
			snprintf(what, sizeof(what), "%s", a->address);
		else if (strcmp(a->family, "inet6") == 0)
			snprintf(what, sizeof(what), "[%s]:%d", a->address,
				 a->port);
		else
			snprintf(what, sizeof(what), "%s:%d", a->address,
				 a->port);
		snprintf(why, sizeof(why), "not the gateway or the proxy "
			 "(%s, pid %d)", v->syscall, (int)v->pid);
	}

	pthread_mutex_lock(&run->attempts_lock);
	if (run->attempts && cJSON_GetArraySize(run->attempts) < MAX_ATTEMPTS)
		add_violation(run->attempts, kind, what, why);
	else
		run->attempts_dropped++;
	pthread_mutex_unlock(&run->attempts_lock);
}

static void report_attempts(struct run *run, cJSON *list)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, run->attempts) {
		const char *kind = cJSON_GetStringValue(
			cJSON_GetObjectItem(a, "kind"));
		const char *what = cJSON_GetStringValue(
			cJSON_GetObjectItem(a, "what"));
		const char *why = cJSON_GetStringValue(
			cJSON_GetObjectItem(a, "why"));

		violation(run, "%s attempt: '%s': %s", kind, what, why);
		add_violation(list, kind, what, why);
	}
	run->violations += run->attempts_dropped;
}

static void report_seccomp(struct run *run, cJSON *list)
{
	struct sandbox_seccomp_violation *v = NULL;
	ssize_t n;

	if (!run->supervisor)
		return;
	sandbox_seccomp_supervisor_stop(run->supervisor);
	n = sandbox_seccomp_supervisor_violations(run->supervisor, &v);
	for (ssize_t i = 0; i < n; i++) {
		char why[64];

		snprintf(why, sizeof(why), "denied by seccomp (pid %d)",
			 (int)v[i].pid);
		violation(run, "system call: '%s': %s", v[i].syscall, why);
		add_violation(list, "syscall", v[i].syscall, why);
	}
	free(v);
	report_attempts(run, list);
}

static void report_proxy(struct run *run, cJSON *list)
{
	struct sandbox_proxy_violation *v = NULL;
	ssize_t n;

	if (!run->proxy)
		return;
	sandbox_proxy_stop(run->proxy);
	n = sandbox_proxy_violations(run->proxy, &v);
	for (ssize_t i = 0; i < n; i++) {
		char what[300];

		/* A request without a valid target has port 0. Its host is
		 * then a plain HTTP request's URL, or empty. */
		if (v[i].port)
			snprintf(what, sizeof(what), "%s:%u", v[i].host,
				 v[i].port);
		else
			snprintf(what, sizeof(what), "%s", v[i].host);
		if (what[0])
			violation(run, "egress proxy: '%s': %s", what,
				  v[i].reason);
		else
			violation(run, "egress proxy: %s", v[i].reason);
		add_violation(list, "network", what, v[i].reason);
	}
	free(v);
}

/* Report a command that the signal of its CPU time or file size limit
 * ended. Only the command's own status is known here, while record's
 * tracer reports the processes below it too. */
static void report_rlimit_signal(struct run *run, cJSON *list)
{
	const struct sandbox_limits *l = &run->policy->limits;
	int status = run->result.status;
	char what[64];

	if (run->result.timed_out || !WIFSIGNALED(status))
		return;
	if (sandbox_limits_cpu_ended(l, WTERMSIG(status),
				     run->result.cpu_us)) {
		snprintf(what, sizeof(what), "%llu",
			 (unsigned long long)l->cpu_seconds);
		violation(run, "cpu_seconds: '%s': the command used its CPU "
			       "time and was killed by SIG%s", what,
			  sigabbrev_np(WTERMSIG(status)));
		add_violation(list, "limit", "cpu_seconds", what);
	} else if (WTERMSIG(status) == SIGXFSZ && l->file_size_bytes) {
		snprintf(what, sizeof(what), "%llu",
			 (unsigned long long)l->file_size_bytes);
		violation(run, "file_size_bytes: '%s': the command wrote "
			       "past it and was killed by SIGXFSZ", what);
		add_violation(list, "limit", "file_size_bytes", what);
	}
}

static void report_limits(struct run *run, cJSON *list)
{
	const struct sandbox_result *r = &run->result;
	char what[64];

	if (r->timed_out) {
		snprintf(what, sizeof(what), "%llu",
			 (unsigned long long)
				 run->policy->limits.timeout_seconds);
		if (r->survivors)
			violation(run, "timeout_seconds: '%s': the command was "
				       "killed, but %d of its processes could "
				       "not be", what, r->survivors);
		else
			violation(run, "timeout_seconds: '%s': the command and "
				       "every process descended from it were "
				       "killed", what);
		add_violation(list, "limit", "timeout_seconds", what);
	}
	report_rlimit_signal(run, list);
	if (!r->timed_out && WIFSIGNALED(r->status) &&
	    WTERMSIG(r->status) == SIGSYS) {
		violation(run, "system call: '%s': killed by seccomp (a "
			       "foreign architecture or x32 number)", "SIGSYS");
		add_violation(list, "syscall", "SIGSYS",
			      "foreign architecture or x32 number");
	}
	if (r->process_limit_hits) {
		snprintf(what, sizeof(what), "%llu forks refused",
			 (unsigned long long)r->process_limit_hits);
		violation(run, "process limit: '%llu': %s",
			  (unsigned long long)run->policy->limits.processes,
			  what);
		add_violation(list, "limit", "processes", what);
	}
	/* The OOM killer's SIGKILL reads like any other kill, and it may
	 * end a process that the command waits for, as in a pipe. So the
	 * command's own status does not show it. */
	if (r->memory_limit_kills) {
		snprintf(what, sizeof(what), "%llu process%s killed by the "
			 "OOM killer",
			 (unsigned long long)r->memory_limit_kills,
			 r->memory_limit_kills == 1 ? "" : "es");
		violation(run, "memory limit: '%llu': %s",
			  (unsigned long long)
				  run->policy->limits.memory_bytes,
			  what);
		add_violation(list, "limit", "memory_bytes", what);
	}
}

/* Report a git directory that the run redirected. Git runs outside
 * the sandbox after it, so the user must see this before running git
 * in the workspace. */
static void report_git_redirect(struct run *run, cJSON *list)
{
	const struct sandbox_result *r = &run->result;
	const char *why;

	if (!r->git_redirect[0])
		return;
	why = sandbox_git_redirect_reason(r->git_redirect);
	violation(run, "workspace.read_only: '%s': the command %s it, and "
		       "%s; check it and remove it before running git in "
		       "this workspace", r->git_redirect,
		  r->git_redirect_change, why);
	add_violation(list, "workspace", r->git_redirect, why);
}

static cJSON *report(struct run *run)
{
	cJSON *result = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();

	report_seccomp(run, list);
	report_proxy(run, list);
	report_limits(run, list);
	report_git_redirect(run, list);
	if (run->violations > MAX_PRINTED)
		cli_error("policy violation: %llu in all, %d shown",
			  (unsigned long long)run->violations, MAX_PRINTED);
	if (run->result.exec_failed)
		cli_error("%s", run->result.message);
	if (run->result.survivors) {
		cli_error("warning: cannot kill a process that the command "
			  "started: '%d': %s (%d in all)",
			  (int)run->result.survivor_pid, strerror(EPERM),
			  run->result.survivors);
		cli_hint("it runs as another user, such as a setuid program; "
			 "kill it as that user or as root");
	}
	sandbox_print_unreaped(&run->result, stderr);
	if (!result || !list) {
		cJSON_Delete(result);
		cJSON_Delete(list);
		return NULL;
	}
	cJSON_AddNumberToObject(result, "exit_code", run->result.exit_code);
	cJSON_AddBoolToObject(result, "timed_out", run->result.timed_out);
	cJSON_AddNumberToObject(result, "violation_count",
				(double)run->violations);
	cJSON_AddItemToObject(result, "violations", list);
	return result;
}

/* Launch the sandbox. The handled signals are blocked from
 * install_signals() on, and saved is the mask to restore after it. */
static int launch(struct run *run, const sigset_t *saved)
{
	static const uint16_t ports[] = { PROXY_PORT };
	bool proxy = run->policy->network_allow.count &&
		     run->config.mode == SANDBOX_MODE_NAMESPACES;

	run->config.policy = run->policy;
	run->config.seccomp_notify = true;
	if (proxy) {
		run->config.ports = ports;
		run->config.n_ports = 1;
		run->config.proxy_port = PROXY_PORT;
	}
	if (sandbox_launch(&run->config, &run->child) < 0) {
		sigprocmask(SIG_SETMASK, saved, NULL);
		return -1;
	}
	helper_pid = run->child.pid;
	sigprocmask(SIG_SETMASK, saved, NULL);
	sandbox_print_notes(&run->config, &run->child, stderr);
	if (run->child.notify_fd >= 0) {
		run->supervisor = sandbox_seccomp_supervisor_start(
			run->child.notify_fd, on_attempt, run);
		run->child.notify_fd = -1;
		if (!run->supervisor)
			return -1;
	}
	if (proxy && start_proxy(run) < 0)
		return -1;
	return 0;
}

static int finish(struct run *run)
{
	int status;

	if (sandbox_wait(&run->child, &run->result) < 0) {
		cli_error_from(sandbox_error(), sandbox_error_hint());
		return CLI_EXIT_RUNBUNDLE;
	}
	helper_pid = 0;
	status = run->result.exit_code;
	if (second_signal)
		cli_error("sandbox killed: 'SIG%s': a second signal kills the "
			  "command and every process descended from it",
			  sigabbrev_np(second_signal));
	if (write_description(run, report(run)) < 0)
		status = CLI_EXIT_RUNBUNDLE;
	return status;
}

/*
 * Compile the policy's matching rules, as `runbundle record` does, so
 * that a rule the recorder would reject is rejected here too. The
 * regular expression engine lives in the commands module, which is
 * opened only when the policy has rules.
 */
static int check_rules(const struct sandbox_policy *policy, const char *path)
{
	const struct sandbox_strings *rules = &policy->match_rules;
	int (*rule_check)(const char *rule);
	const char *(*rule_error)(void);

	if (!rules->count)
		return 0;
	*(void **)&rule_check = cli_module_symbol("harness_rule_check");
	*(void **)&rule_error = cli_module_symbol("harness_error");
	if (!rule_check || !rule_error)
		return -1;
	for (size_t i = 0; i < rules->count; i++) {
		if (rule_check(rules->items[i]) == 0)
			continue;
		cli_error("invalid policy: '%s': matching.rules[%zu]: "
			  "\"%s\": %s", path, i, rules->items[i],
			  rule_error());
		cli_hint("fix the rule; docs/matching.md describes them");
		return -1;
	}
	return 0;
}

static void cleanup(struct run *run)
{
	sandbox_proxy_free(run->proxy);
	sandbox_seccomp_supervisor_free(run->supervisor);
	for (size_t i = 0; i < run->child.n_port_fds; i++)
		close(run->child.port_fds[i]);
	sandbox_child_release(&run->child);
	sandbox_policy_free(run->policy);
	cJSON_Delete(run->attempts);
	pthread_mutex_destroy(&run->attempts_lock);
}

int cmd_sandbox(int argc, char **argv, const struct cli_command *self)
{
	struct run run = { 0 };
	const char *policy_path = NULL, *name;
	sigset_t saved;
	int rc;

	rc = parse_args(argc, argv, self, &run, &policy_path);
	if (rc)
		return rc;
	if (!run.config.workspace)
		run.config.workspace = ".";
	run.config.skip_description = !run.description_path;
	run.config.create_missing_parts = true;
	/* Exit as soon as init reports the status, as bwrap does: nothing
	 * here reads the workspace after the run, and the kernel finishes
	 * the teardown alone. */
	run.config.wait_mode = SANDBOX_WAIT_STATUS;
	run.policy = policy_path ? sandbox_policy_load(policy_path)
				 : sandbox_policy_default();
	if (!run.policy) {
		cli_error_from(sandbox_error(), sandbox_error_hint());
		return CLI_EXIT_RUNBUNDLE;
	}
	if (policy_path && check_rules(run.policy, policy_path) < 0) {
		sandbox_policy_free(run.policy);
		return CLI_EXIT_RUNBUNDLE;
	}
	for (size_t i = 0;
	     (name = sandbox_policy_missing_exec(run.policy, &i));)
		cli_error("warning: exec.allow: '%s': %s, so this entry "
			  "allows nothing", name,
			  sandbox_policy_missing_exec_reason(name));
	if (run.description_path &&
	    check_description_path(run.description_path) < 0) {
		sandbox_policy_free(run.policy);
		return CLI_EXIT_RUNBUNDLE;
	}
	run.child.pid = -1;
	run.child.control = -1;
	pthread_mutex_init(&run.attempts_lock, NULL);
	run.attempts = cJSON_CreateArray();
	install_signals(&saved);
	if (launch(&run, &saved) < 0) {
		cli_error_from(sandbox_error(), sandbox_error_hint());
		cleanup(&run);
		return CLI_EXIT_RUNBUNDLE;
	}
	if (write_description(&run, NULL) < 0) {
		sandbox_kill(&run.child);
		cleanup(&run);
		return CLI_EXIT_RUNBUNDLE;
	}
	rc = finish(&run);
	cleanup(&run);
	return rc;
}
