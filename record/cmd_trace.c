/*
 * cmd_trace.c - "runbundle trace": run a command under the process
 * tracer, exit with its status, and print the process tree.
 *
 * The tree goes to stderr after the command has ended (stdout belongs to
 * the command), or to the file that -o names.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/tracer.h"
#include "record/commands.h"
#include "record/record_run.h"

#define MAX_SECRETS 64

struct trace_args {
	bool json;
	const char *output;
	const char *secrets[MAX_SECRETS + 1];
	size_t n_secrets;
	char **command;
};

static struct harness_tracer *active_tracer;
static volatile sig_atomic_t attached, pending_signal, signal_count;
static volatile sig_atomic_t second_signal;

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct trace_args *args)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "secret", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(args, 0, sizeof(*args));
	opterr = 0;
	optind = 1;
	/* '+': the traced command's own options follow it. */
	while ((c = getopt_long(argc, argv, "+:o:", options, NULL)) != -1) {
		if (cli_short_value_check(self, options, c, argv))
			return CLI_EXIT_USAGE;
		if (c == 'j') {
			args->json = true;
		} else if (c == 'o') {
			args->output = optarg;
		} else if (c == 's') {
			if (args->n_secrets == MAX_SECRETS)
				return cli_usage_error(self, "too many "
						       "--secret options");
			args->secrets[args->n_secrets++] = optarg;
		} else {
			return cli_option_error(self, c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "no command to trace");
	args->command = argv + optind;
	return 0;
}

/* The command's path, searched in PATH the way execvp does; NULL when
 * not found. The caller frees. */
static char *find_command(const char *name)
{
	const char *path = getenv("PATH");
	struct stat st;

	if (strchr(name, '/'))
		return strdup(name);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char *full = malloc(len + strlen(name) + 3);

		if (!full)
			return NULL;
		snprintf(full, len + strlen(name) + 3, "%.*s/%s", (int)len,
			 len ? path : ".", name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return full;
		free(full);
		path += len + (path[len] == ':');
	}
	return NULL;
}

/*
 * Pass a signal on to the command. A signal that comes before the attach
 * waits for it, so that none is lost between the fork and the tracer's
 * first stop. A second signal kills the command with SIGKILL, and the
 * tracer then kills every process left, as runbundle record does, so
 * that a command that ignores signals cannot keep runbundle running.
 * SIGINT from the terminal reaches the command already, so the first
 * one is not passed on.
 */
static void forward_signal(int sig)
{
	if (sandbox_signal_repeated(sig))
		return;
	if (++signal_count > 1) {
		second_signal = sig;
		sig = SIGKILL;
	} else if (sig == SIGINT) {
		return;
	}
	if (attached)
		harness_tracer_signal_root(active_tracer, sig);
	else
		pending_signal = sig;
}

/* Catch sig with forward_signal(), unless the caller ignored it: the
 * command inherits the ignore, and so does runbundle. */
static void catch_signal(int sig)
{
	struct sigaction sa = { .sa_handler = forward_signal }, old;

	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Ctrl-\ reaches the command from the terminal already; a SIGTERM or
 * SIGHUP sent to runbundle alone is passed on. */
static void setup_signals(void)
{
	signal(SIGQUIT, SIG_IGN);
	catch_signal(SIGINT);
	catch_signal(SIGTERM);
	catch_signal(SIGHUP);
}

static pid_t start_child(const char *path, char **command)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* main() ignores it for runbundle alone. */
	signal(SIGXFSZ, SIG_DFL);
	if (harness_tracer_child_prepare() < 0) {
		cli_error_from(harness_error(), harness_error_hint());
		_exit(CLI_EXIT_RUNBUNDLE);
	}
	execv(path, command);
	cli_error("cannot run command: '%s': %s", path, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Print s with control characters as '?', and at most max bytes. */
static void put_clean(FILE *out, const char *s, size_t len, size_t max)
{
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
	if (len > max)
		fputs("...", out);
}

static void print_exec(FILE *out, const struct harness_exec *exec,
		       int depth)
{
	const char *path = exec->exe.path ? exec->exe.path : exec->attempted;

	fprintf(out, "%*s", 2 * depth + 2, "");
	if (exec->error) {
		const char *name = strerrorname_np(exec->error);

		fprintf(out, "exec failed %s: ", name ? name : "?");
		put_clean(out, exec->resolved ? exec->resolved
					      : exec->attempted,
			  strlen(exec->resolved ? exec->resolved
						: exec->attempted), 4096);
		fputc('\n', out);
		return;
	}
	fputs("exec ", out);
	put_clean(out, path, strlen(path), 4096);
	fputc(':', out);
	for (size_t i = 0; i < exec->argc; i++) {
		fputc(' ', out);
		put_clean(out, exec->argv[i].data, exec->argv[i].len, 200);
	}
	fputc('\n', out);
}

static void print_end(FILE *out, const struct harness_process *p)
{
	switch (p->end) {
	case HARNESS_END_EXITED:
		fprintf(out, "exit %d", p->exit_code);
		break;
	case HARNESS_END_SIGNALED:
		fprintf(out, "signal %s", sigabbrev_np(p->signal));
		break;
	default:
		fputs(harness_end_name(p->end), out);
	}
}

static void print_process(FILE *out, const struct harness_tracer *tracer,
			  size_t index, int depth)
{
	const struct harness_process *p = harness_tracer_process(tracer,
								 index);
	size_t n = harness_tracer_count(tracer);

	fprintf(out, "%*spid %d", 2 * depth, "", (int)p->pid);
	if (p->ns_pid != p->pid)
		fprintf(out, " (ns pid %d)", (int)p->ns_pid);
	fputs(": ", out);
	print_end(out, p);
	fputc('\n', out);
	for (size_t i = 0; i < p->n_execs; i++)
		print_exec(out, &p->execs[i], depth);
	for (size_t i = index + 1; i < n; i++) {
		const struct harness_process *c;

		c = harness_tracer_process(tracer, i);
		if (c->parent == (long)index ||
		    (index == 0 && c->parent < 0))
			print_process(out, tracer, i, depth + 1);
	}
}

static int write_json(FILE *out, const struct harness_tracer *tracer)
{
	size_t len;
	char *text = harness_tracer_tree_text(tracer, &len);
	int rc = text && fwrite(text, 1, len, out) == len &&
			 fputc('\n', out) != EOF
		 ? 0
		 : -1;

	free(text);
	return rc;
}

/* Write the tree to out. The caller closes out. */
static int trace_write_tree(const struct harness_tracer *tracer, bool json,
			    FILE *out)
{
	int rc = 0;

	if (harness_tracer_count(tracer) == 0)
		return 0;
	if (json)
		rc = write_json(out, tracer);
	else
		print_process(out, tracer, 0, 0);
	if (fflush(out) != 0)
		rc = -1;
	return rc;
}

/* The exit status of runbundle trace for the root's wait status. */
static int exit_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Run path traced and write the tree to out. Returns the exit status. */
static int trace_command(const struct trace_args *args, const char *path,
			 FILE *out)
{
	struct harness_tracer_options options = { 0 };
	struct harness_tracer *tracer;
	int rc = CLI_EXIT_RUNBUNDLE, status = 0;
	pid_t pid;

	options.secret_names = args->n_secrets ? args->secrets
					       : harness_default_secret_names;
	tracer = harness_tracer_new(&options);
	if (!tracer)
		return cli_error_from(harness_error(), NULL);
	pid = start_child(path, args->command);
	if (pid < 0) {
		cli_error("cannot start command: '%s': %s", args->command[0],
			  strerror(errno));
		goto done;
	}

	active_tracer = tracer;
	setup_signals();
	if (harness_tracer_attach(tracer, pid) < 0) {
		cli_error_from(harness_error(), harness_error_hint());
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto done;
	}
	attached = 1;
	if (pending_signal)
		harness_tracer_signal_root(tracer, pending_signal);
	if (harness_tracer_run(tracer, &status) < 0) {
		cli_error_from(harness_error(), harness_error_hint());
		goto done;
	}
	record_warn_unstopped(tracer);
	if (second_signal)
		cli_error("trace killed: 'SIG%s': a second signal kills the "
			  "command and every process descended from it",
			  sigabbrev_np(second_signal));

	if (trace_write_tree(tracer, args->json, out) == 0)
		rc = exit_status(status);
	else
		cli_error("cannot write the process tree: '%s': %s",
			  args->output ? args->output : "stderr",
			  strerror(errno));
done:
	attached = 0;
	harness_tracer_free(tracer);
	return rc;
}

int cmd_trace(int argc, char **argv, const struct cli_command *self)
{
	struct trace_args args;
	char *path;
	FILE *out;
	int rc;

	rc = parse_args(argc, argv, self, &args);
	if (rc)
		return rc;
	path = find_command(args.command[0]);
	if (!path) {
		cli_error("command not found: '%s'", args.command[0]);
		cli_hint("give a path, or check PATH");
		return 127;
	}

	/* Opened first, so that a bad -o fails before the command runs. */
	out = args.output ? fopen(args.output, "we") : stderr;
	if (!out) {
		cli_error("cannot write the process tree: '%s': %s",
			  args.output, strerror(errno));
		free(path);
		return CLI_EXIT_ERROR;
	}
	rc = trace_command(&args, path, out);
	free(path);
	if (args.output && fclose(out) != 0 && rc != CLI_EXIT_RUNBUNDLE) {
		cli_error("cannot write the process tree: '%s': %s",
			  args.output, strerror(errno));
		rc = CLI_EXIT_RUNBUNDLE;
	}
	return rc;
}
