/*
 * cmd_demo.c - "runbundle demo": the main job on the bundled example, end
 * to end, in one directory.
 *
 * It records examples/shell-agent/agent.sh in the sandbox with the
 * scripted model, prints the summary and replays the bundle (identical).
 * Then it records a variant with a flaky test, makes the test fail by
 * planting a file, and replays the variant, which diverges at a known
 * step. Last it writes the HTML report. Each step runs this same
 * executable (/proc/self/exe) as a child, with the arguments a user
 * would type, so the demo shows the real commands and their output.
 *
 * Everything goes into the output directory, the temporary files of the
 * children too (TMPDIR points inside it):
 *
 *	agent/agent.sh	the agent, bound read-only into the sandbox
 *	flake/		bound read-only; flake/fail makes the flaky test fail
 *	policy.json	the default policy plus those two binds
 *	model-script.json, flaky-model-script.json	the scripted model
 *	workspace/	the example workspace, as the agent left it
 *	run.rb		the recording; record.log has the agent's output
 *	replay.txt	the replay's report; replay.log the agent's output
 *	flaky-workspace/, flaky.rb, flaky-record.log, flaky-replay.txt,
 *	flaky-replay.log	the same for the flaky variant
 *	report.html	the report of run.rb
 *	tmp/		TMPDIR of the commands, empty at the end
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "record/commands.h"

#ifndef RUNBUNDLE_EXAMPLES
#define RUNBUNDLE_EXAMPLES "examples"
#endif

#define DEMO_TASK "Make the tests in test_calc.py pass."

struct demo {
	char dir[PATH_MAX];	/* the output directory, absolute */
	char example[PATH_MAX];	/* examples/shell-agent */
};

/* Joins a and b into out. A path longer than PATH_MAX is an error. */
static int join(char out[PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	if (n < 0 || n >= PATH_MAX) {
		cli_error("path too long: '%s/%s'", a, b);
		return -1;
	}
	return 0;
}

static int redirect(int fd, const char *path)
{
	int f;

	if (!path)
		return 0;
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/*
 * Run PROGRAM with argv in cwd (NULL: ours), stdout and stderr into the
 * named files (NULL: ours). Returns the exit status, 128 + the signal,
 * or -1 when it could not start.
 */
static int run(const char *program, char *const argv[], const char *cwd,
	       const char *out, const char *err)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		cli_error("cannot fork: '%s': %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((cwd && chdir(cwd) < 0) || redirect(1, out) < 0)
			_exit(127);

		/* One file for both streams must be one open file, so
		 * that the two writers share its offset. */
		if (err && out && strcmp(err, out) == 0) {
			if (dup2(1, 2) < 0)
				_exit(127);
		} else if (redirect(2, err) < 0) {
			_exit(127);
		}
		execvp(program, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Run "runbundle ARGS..." from this very executable. */
static int run_self(char *const argv[], const char *cwd, const char *out,
		    const char *err)
{
	return run("/proc/self/exe", argv, cwd, out, err);
}

static int copy_tree(const char *from, const char *to)
{
	char *argv[] = { "cp", "-R", (char *)from, (char *)to, NULL };

	if (run("cp", argv, NULL, NULL, NULL) != 0) {
		cli_error("cannot copy: '%s': cp failed", from);
		return -1;
	}
	return 0;
}

static int make_dir(const struct demo *d, const char *name)
{
	char path[PATH_MAX];

	if (join(path, d->dir, name) < 0)
		return -1;
	if (mkdir(path, 0755) < 0) {
		cli_error("cannot create directory: '%s': %s", path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* Reuses an existing, empty DIR: rmdir fails on one that is not. */
static int reuse_empty(const char *dir)
{
	if (errno == EEXIST && rmdir(dir) == 0 && mkdir(dir, 0755) == 0)
		return 1;
	if (errno == ENOTEMPTY || errno == EEXIST) {
		cli_error("output directory is not empty: '%s'", dir);
		cli_hint("name a new or empty directory with --output");
	} else {
		cli_error("cannot create directory: '%s': %s", dir,
			  strerror(errno));
	}
	return 0;
}

/* Opens DIR, new or empty, or else a new directory in TMPDIR. */
static int open_output(struct demo *d, const char *dir)
{
	char tmpl[PATH_MAX];
	const char *tmp = getenv("TMPDIR");

	if (!dir) {
		if (!tmp || !*tmp)
			tmp = "/tmp";
		if (join(tmpl, tmp, "runbundle-demo-XXXXXX") < 0)
			return -1;
		if (!mkdtemp(tmpl)) {
			cli_error("cannot create directory: '%s': %s", tmpl,
				  strerror(errno));
			return -1;
		}
		dir = tmpl;
	} else if (mkdir(dir, 0755) < 0 && !reuse_empty(dir)) {
		return -1;
	}
	if (!realpath(dir, d->dir)) {
		cli_error("cannot resolve: '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes the default policy plus read-only binds of agent/ and flake/. */
static int write_policy(const struct demo *d)
{
	static const char *system[] = { "/usr", "/bin", "/sbin", "/lib",
		"/lib32", "/lib64", "/libx32", "/etc", "/opt" };
	char path[PATH_MAX], agent[PATH_MAX], flake[PATH_MAX];
	cJSON *policy = cJSON_CreateObject(), *fs, *ro;
	char *text = NULL;
	FILE *f = NULL;
	int rc = -1;

	if (join(path, d->dir, "policy.json") < 0 ||
	    join(agent, d->dir, "agent") < 0 ||
	    join(flake, d->dir, "flake") < 0 || !policy)
		goto out;
	cJSON_AddNumberToObject(policy, "version", 1);
	fs = cJSON_AddObjectToObject(policy, "filesystem");
	ro = fs ? cJSON_AddArrayToObject(fs, "read_only") : NULL;
	if (!ro)
		goto out;
	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		cJSON_AddItemToArray(ro, cJSON_CreateString(system[i]));
	cJSON_AddItemToArray(ro, cJSON_CreateString(agent));
	cJSON_AddItemToArray(ro, cJSON_CreateString(flake));

	text = cJSON_Print(policy);
	f = text ? fopen(path, "w") : NULL;
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
		f = NULL;
		cli_error("cannot write: '%s': %s", path, strerror(errno));
		goto out;
	}
	f = NULL;
	rc = 0;
out:
	if (f)
		fclose(f);
	free(text);
	cJSON_Delete(policy);
	return rc;
}

/* Creates agent/, flake/, tmp/, policy.json and both workspaces. */
static int lay_out(const struct demo *d)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (make_dir(d, "agent") < 0 || make_dir(d, "flake") < 0 ||
	    make_dir(d, "tmp") < 0 || write_policy(d) < 0)
		return -1;
	if (join(from, d->example, "agent.sh") < 0 ||
	    join(to, d->dir, "agent/agent.sh") < 0 || copy_tree(from, to) < 0)
		return -1;
	if (join(from, d->example, "workspace") < 0 ||
	    join(to, d->dir, "workspace") < 0 || copy_tree(from, to) < 0)
		return -1;
	if (join(to, d->dir, "flaky-workspace") < 0 ||
	    copy_tree(from, to) < 0)
		return -1;
	/* The printed record commands name only files of the directory,
	 * so that a user can run them again from there. */
	if (join(from, d->example, "model-script.json") < 0 ||
	    join(to, d->dir, "model-script.json") < 0 ||
	    copy_tree(from, to) < 0)
		return -1;
	if (join(from, d->example, "flaky/model-script.json") < 0 ||
	    join(to, d->dir, "flaky-model-script.json") < 0 ||
	    copy_tree(from, to) < 0)
		return -1;
	if (join(from, d->example, "flaky/test_flaky.py") < 0 ||
	    join(to, d->dir, "flaky-workspace/test_flaky.py") < 0)
		return -1;
	return copy_tree(from, to);
}

/* Prints one word of a command so that a POSIX shell reads it back. */
static void print_word(const char *word)
{
	if (*word && strspn(word, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-") ==
			     strlen(word)) {
		fputs(word, stdout);
		return;
	}
	putchar('\'');
	for (; *word; word++) {
		if (*word == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*word);
	}
	putchar('\'');
}

/* Prints "$ cd CWD" and "$ runbundle ARGS...", as a user would type
 * them. */
static void print_command(char *const argv[], const char *cwd)
{
	printf("$ cd ");
	print_word(cwd);
	printf("\n$");
	for (int i = 0; argv[i]; i++) {
		putchar(' ');
		print_word(argv[i]);
	}
	putchar('\n');
}

/* Record the agent in workspace NAME into BUNDLE with the model SCRIPT. */
static int record(const struct demo *d, const char *name,
		  const char *bundle, const char *script, const char *log)
{
	char ws[PATH_MAX], out[PATH_MAX], policy[PATH_MAX], agent[PATH_MAX];
	char model[PATH_MAX], logpath[PATH_MAX];
	char *argv[] = { "runbundle", "record", "-o", out, "--policy", policy,
		"--model-script", model, "--label", "demo=1", "--", agent,
		DEMO_TASK, NULL };
	int status;

	if (join(ws, d->dir, name) < 0 || join(out, d->dir, bundle) < 0 ||
	    join(policy, d->dir, "policy.json") < 0 ||
	    join(agent, d->dir, "agent/agent.sh") < 0 ||
	    join(model, d->dir, script) < 0 ||
	    join(logpath, d->dir, log) < 0)
		return -1;
	print_command(argv, ws);
	status = run_self(argv, ws, logpath, logpath);
	if (status != 0) {
		cli_error("recording failed: '%s': exit status %d", out,
			  status);
		cli_hint("see %s", logpath);
		return -1;
	}
	printf("recorded %s (the agent's output is in %s)\n", out, logpath);
	return 0;
}

static int print_file(const char *path)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		cli_error("cannot open: '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

/*
 * Replays BUNDLE with the report in TXT and the agent's output in LOG.
 * Returns the replay's status (0 or 1), or -1 when it could not run.
 */
static int replay(const struct demo *d, const char *bundle, const char *txt,
		  const char *log)
{
	char in[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	/* The demo's policy binds its own agent/ and flake/ read-only, which
	 * a replay accepts only with --trust-policy. */
	char *argv[] = { "runbundle", "replay", "--trust-policy", in, NULL };
	int status;

	if (join(in, d->dir, bundle) < 0 || join(out, d->dir, txt) < 0 ||
	    join(err, d->dir, log) < 0)
		return -1;
	printf("\n$ runbundle replay --trust-policy %s\n", in);
	status = run_self(argv, NULL, out, err);
	if (status != 0 && status != 1) {
		cli_error("replay failed: '%s': exit status %d", in, status);
		cli_hint("see %s", err);
		return -1;
	}
	if (print_file(out) < 0)
		return -1;
	return status;
}

static int inspect(const struct demo *d)
{
	char bundle[PATH_MAX];
	char *argv[] = { "runbundle", "inspect", bundle, NULL };

	if (join(bundle, d->dir, "run.rb") < 0)
		return -1;
	printf("\n$ runbundle inspect %s\n", bundle);
	return run_self(argv, NULL, NULL, NULL) == 0 ? 0 : -1;
}

static int plant_flake(const struct demo *d)
{
	char path[PATH_MAX];
	FILE *f;

	if (join(path, d->dir, "flake/fail") < 0)
		return -1;
	f = fopen(path, "w");
	if (!f || fclose(f) != 0) {
		cli_error("cannot create: '%s': %s", path, strerror(errno));
		return -1;
	}
	printf("\nplanted %s: test_flaky.py fails from now on\n", path);
	return 0;
}

static int report(const struct demo *d)
{
	char bundle[PATH_MAX], html[PATH_MAX];
	char *argv[] = { "runbundle", "report", "-o", html, bundle, NULL };

	if (join(bundle, d->dir, "run.rb") < 0 ||
	    join(html, d->dir, "report.html") < 0)
		return -1;
	printf("\n$ runbundle report -o %s %s\n", html, bundle);
	return run_self(argv, NULL, NULL, NULL) == 0 ? 0 : -1;
}

static int parse(int argc, char **argv, const struct cli_command *self,
		 const char **output, const char **example)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "example", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:o:", options, NULL)) != -1) {
		if (cli_short_value_check(self, options, c, argv))
			return CLI_EXIT_USAGE;
		if (c == 'o')
			*output = optarg;
		else if (c == 'e')
			*example = optarg;
		else
			return cli_option_error(self, c, argv);
	}
	if (optind < argc)
		return cli_usage_error(self, "unexpected argument: '%s'",
				       argv[optind]);
	return 0;
}

static int set_up(struct demo *d, const char *output, const char *example)
{
	char tmp[PATH_MAX];

	if (!realpath(example, d->example)) {
		cli_error("cannot find the example: '%s': %s", example,
			  strerror(errno));
		cli_hint("name examples/shell-agent of the source tree with "
			 "--example");
		return -1;
	}
	if (open_output(d, output) < 0 || lay_out(d) < 0 ||
	    join(tmp, d->dir, "tmp") < 0)
		return -1;
	/* The replays' own directories go here too, not into /tmp. */
	setenv("TMPDIR", tmp, 1);
	printf("demo directory: %s\n\n", d->dir);
	return 0;
}

static int steps(struct demo *d)
{
	int status;

	if (record(d, "workspace", "run.rb", "model-script.json",
		   "record.log") < 0 || inspect(d) < 0)
		return -1;
	status = replay(d, "run.rb", "replay.txt", "replay.log");
	if (status != 0) {
		if (status > 0)
			cli_error("the replay diverged: '%s/run.rb'", d->dir);
		return -1;
	}
	printf("\n");
	if (record(d, "flaky-workspace", "flaky.rb",
		   "flaky-model-script.json", "flaky-record.log") < 0 ||
	    plant_flake(d) < 0)
		return -1;
	status = replay(d, "flaky.rb", "flaky-replay.txt",
			"flaky-replay.log");
	if (status != 1) {
		if (status == 0)
			cli_error("the flaky variant did not diverge: "
				  "'%s/flaky.rb'", d->dir);
		return -1;
	}
	return report(d);
}

int cmd_demo(int argc, char **argv, const struct cli_command *self)
{
	const char *output = NULL;
	const char *example = RUNBUNDLE_EXAMPLES "/shell-agent";
	struct demo d;
	int rc = parse(argc, argv, self, &output, &example);

	if (rc != 0)
		return rc;
	if (set_up(&d, output, example) < 0)
		return CLI_EXIT_ERROR;
	if (steps(&d) < 0) {
		cli_hint("everything so far is in %s", d.dir);
		return CLI_EXIT_FAIL;
	}
	printf("\neverything is in %s:\n"
	       "  run.rb, record.log          the recording and the agent's "
	       "output\n"
	       "  replay.txt                  its replay: identical\n"
	       "  flaky.rb, flaky-replay.txt  the flaky variant and its "
	       "divergence\n"
	       "  report.html                 the HTML report of run.rb\n",
	       d.dir);
	return CLI_EXIT_OK;
}
