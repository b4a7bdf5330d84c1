/*
 * cmd_record.c - "runbundle record": run an agent with the tracer, the
 * gateway and workspace snapshots, and write one finalized bundle.
 *
 * Exits with the agent's status (128 + the signal that killed it), or
 * with CLI_EXIT_RUNBUNDLE when the recording itself failed: the bundle
 * then stays unfinalized and verifies up to its last committed event.
 * The closing lines go to stderr, because stdout is the agent's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/gateway.h"
#include "harness/model_script.h"
#include "harness/normalize.h"
#include "record/commands.h"
#include "record/record.h"
#include "record/record_gateway.h"
#include "record/record_run.h"
#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

struct record_args {
	struct record_config config;
	char output[PATH_MAX];	/* the default bundle */
	size_t dir_length;	/* of its directory, in output */
	char stamp[32];		/* its UTC time; "" when -o named it */
	unsigned number;	/* its number in that second, from 1 */
	char workspace[PATH_MAX];
};

/* Add value to list after checking that it has the form NAME=VALUE. */
static int add_pair(const struct cli_command *self, const char **list,
		    size_t *n, size_t max, const char *opt, const char *form,
		    const char *value)
{
	const char *eq = strchr(value, '=');

	if (!eq || eq == value)
		return cli_usage_error(self, "invalid %s: '%s': expected %s",
				       opt, value, form);
	if (*n == max)
		return cli_usage_error(self, "too many %s options", opt);
	list[(*n)++] = value;
	return 0;
}

/* --upstream NAME=URL, checked as the gateway command checks it, so a
 * URL the gateway would reject fails before the bundle exists. */
static int add_upstream(const struct cli_command *self,
			struct record_config *c, const char *value)
{
	int rc = add_pair(self, c->upstreams, &c->n_upstreams,
			  RECORD_MAX_UPSTREAMS, "--upstream", "NAME=URL",
			  value);

	return rc ? rc : record_gateway_check_pair(self, value);
}

/* Apply one option, as getopt_long() returned it, with its value. */
static int parse_option(const struct cli_command *self, struct record_args *a,
			int opt, const char *val)
{
	struct record_config *c = &a->config;

	if (opt == 'o')
		c->output = val;
	else if (opt == 'p')
		c->policy_path = val;
	else if (opt == 'w')
		c->workspace = val;
	else if (opt == 'm')
		c->model_script = val;
	else if (opt == 'u')
		return add_upstream(self, c, val);
	else if (opt == 'l')
		return add_pair(self, c->labels, &c->n_labels,
				RECORD_MAX_LABELS, "--label", "KEY=VALUE", val);
	else if (opt == 'r')
		return cli_parse_response_limit(self, val,
						&c->max_response_body);
	else if (strcmp(val, "none") == 0)
		c->no_sandbox = true;
	else if (strcmp(val, "namespaces") != 0)
		return cli_usage_error(self, "invalid --sandbox: '%s': "
				       "expected 'namespaces' or 'none'", val);
	return 0;
}

/* mkdir -p, with mode for the directories it makes. */
static int make_dirs(char *path, mode_t mode)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* The room for "/run-<UTC>-<number>.rb" in a default bundle's path. */
#define RUN_NAME_MAX 64

/* Whether a bundle, or the log that another run's bundle is created
 * with before it gets its name, takes the name at path. */
static bool name_taken(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char name[PATH_MAX + 8];
	struct stat st;

	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
		if (lstat(name, &st) == 0)
			return true;
	}
	return false;
}

/* Point output at the first free name from the current number on. After
 * 1000 taken names it stays at the last, which check_new_name()
 * rejects. */
static void number_output(struct record_args *a)
{
	char name[RUN_NAME_MAX];

	for (; a->number <= 1000; a->number++) {
		if (a->number == 1)
			snprintf(name, sizeof(name), "/run-%s.rb", a->stamp);
		else
			snprintf(name, sizeof(name), "/run-%s-%u.rb", a->stamp,
				 a->number);
		a->output[a->dir_length] = '\0';
		strcat(a->output, name);
		if (!name_taken(a->output))
			return;
	}
	a->number = 1000;
}

/*
 * Choose run-<UTC>.rb in runbundle's directory under XDG_DATA_HOME, the
 * way rr keeps its traces. The current directory is the workspace by
 * default, where the agent could change or delete its own record.
 * Runs started in one second get run-<UTC>-2.rb and so on, because the
 * user did not choose the name and cannot avoid the collision.
 */
static int default_output(struct record_args *a)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	const char *base = home ? home : "";
	time_t now = time(NULL);
	struct tm tm;
	int n = -1;

	if (xdg && xdg[0] == '/') {
		base = xdg;
		n = snprintf(a->output, sizeof(a->output), "%s/runbundle", xdg);
	} else if (home && home[0] == '/') {
		base = home;
		n = snprintf(a->output, sizeof(a->output),
			     "%s/.local/share/runbundle", home);
	}
	if (n < 0 || (size_t)n >= sizeof(a->output) - RUN_NAME_MAX) {
		cli_error("cannot choose the bundle: '%s': neither "
			  "XDG_DATA_HOME nor HOME is a usable absolute path",
			  base);
		cli_hint("name the bundle with -o FILE");
		return CLI_EXIT_ERROR;
	}
	if (make_dirs(a->output, 0700) < 0) {
		cli_error("cannot create the directory for the bundle: '%s': "
			  "%m", a->output);
		cli_hint("name the bundle with -o FILE");
		return CLI_EXIT_ERROR;
	}
	gmtime_r(&now, &tm);
	strftime(a->stamp, sizeof(a->stamp), "%Y%m%dT%H%M%SZ", &tm);
	a->dir_length = strlen(a->output);
	a->number = 1;
	number_output(a);
	a->config.output = a->output;
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Return whether the directory at fd is the workspace or lies below it.
 * The walk up compares devices and inodes, so that neither a symlink nor
 * a second mount of the workspace hides it. Closes fd.
 */
static bool below(int fd, const struct stat *ws)
{
	struct stat st, up;
	bool found = false;

	while (fd >= 0 && fstat(fd, &st) == 0) {
		int parent;

		if (same_file(&st, ws)) {
			found = true;
			break;
		}
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) < 0 ||
		    same_file(&up, &st)) {
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/* record never replaces a file, and a symbolic link, dangling or not,
 * would make it write somewhere the name does not show. */
static int check_new_name(const char *out)
{
	struct stat st;

	if (!out[0]) {
		cli_error("invalid bundle name: '': empty");
		cli_hint("name the bundle file with -o FILE");
		return CLI_EXIT_ERROR;
	}
	if (lstat(out, &st) < 0)
		return 0;
	if (S_ISLNK(st.st_mode) && stat(out, &st) < 0)
		cli_error("cannot create the bundle: '%s': it is a dangling "
			  "symbolic link", out);
	else
		cli_error("cannot create the bundle: '%s': it exists", out);
	cli_hint("remove it, or choose a new name with -o");
	return CLI_EXIT_ERROR;
}

/* proc and sysfs reject new files, whatever their modes permit. */
static int check_file_system(int fd, const char *out, const char *dir)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0 ||
	    (fs.f_type != PROC_SUPER_MAGIC && fs.f_type != SYSFS_MAGIC))
		return 0;
	cli_error("cannot write the bundle: '%s': its directory '%s' is on "
		  "%s, where no file can be created", out, dir,
		  fs.f_type == PROC_SUPER_MAGIC ? "proc" : "sysfs");
	cli_hint("choose a place on a disk with -o");
	return CLI_EXIT_ERROR;
}

/* Suggest a bundle of that name beside the workspace, by absolute path:
 * a relative one such as ../NAME may lie inside the workspace too, when
 * it is a parent of the current directory. */
static void suggest_outside(const char *workspace, const char *name)
{
	const char *slash = strrchr(workspace, '/');
	int len = slash && slash != workspace ? (int)(slash - workspace) : 0;

	cli_hint("write it outside the workspace, for example with -o "
		 "%.*s/%s", len, workspace, name);
}

/* The agent can write anywhere in its workspace, so a bundle there would
 * be at its mercy: it could delete or replace its own record. */
static int check_output(const struct record_args *a)
{
	const char *out = a->config.output, *slash = strrchr(out, '/');
	char dir[PATH_MAX];
	struct stat ws;
	int fd;

	if (check_new_name(out))
		return CLI_EXIT_ERROR;
	if (stat(a->workspace, &ws) < 0)
		return 0;

	fd = cli_open_parent(out, "bundle", dir, sizeof(dir));
	if (fd < 0)
		return CLI_EXIT_ERROR;
	if (check_file_system(fd, out, dir)) {
		close(fd);
		return CLI_EXIT_ERROR;
	}
	if (!below(fd, &ws))
		return 0;
	cli_error("cannot write the bundle: '%s': it lies inside the "
		  "workspace '%s', where the agent could change or delete it",
		  out, a->workspace);
	suggest_outside(a->workspace, slash ? slash + 1 : out);
	return CLI_EXIT_ERROR;
}

/* The snapshots read the whole workspace as the caller, so it must be a
 * directory that the caller can list and enter. */
static int check_workspace(const char *path, const char *name)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		cli_error("cannot use the workspace: '%s': %m", name);
		cli_hint("give an existing directory with --workspace");
		return CLI_EXIT_ERROR;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_error("cannot use the workspace: '%s': not a directory",
			  name);
		cli_hint("give a directory with --workspace");
		return CLI_EXIT_ERROR;
	}
	if (access(path, R_OK | X_OK) < 0) {
		cli_error("cannot use the workspace: '%s': %m", name);
		cli_hint("make it readable and searchable for you, for "
			 "example with chmod u+rx, or give another directory "
			 "with --workspace");
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static int resolve_workspace(struct record_args *a)
{
	const char *dir = a->config.workspace ? a->config.workspace : ".";

	if (!realpath(dir, a->workspace)) {
		cli_error("cannot use the workspace: '%s': %m", dir);
		cli_hint("give an existing directory with --workspace");
		return CLI_EXIT_ERROR;
	}
	a->config.workspace = a->workspace;
	return check_workspace(a->workspace, dir);
}

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct record_args *a)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, 'p' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "model-script", required_argument, NULL, 'm' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "label", required_argument, NULL, 'l' },
		{ "sandbox", required_argument, NULL, 's' },
		{ "max-response-body", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	optind = 1;
	/* '+': the agent's own options follow it. */
	while ((c = getopt_long(argc, argv, "+:o:", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_option_error(self, c, argv);
		if (cli_short_value_check(self, options, c, argv))
			return CLI_EXIT_USAGE;
		rc = parse_option(self, a, c, optarg);
		if (rc)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error(self, "missing agent command: none "
				       "follows the options");
	if (a->config.model_script && a->config.n_upstreams)
		return cli_usage_error(self, "--upstream and --model-script "
				       "exclude each other");
	a->config.argv = argv + optind;
	rc = resolve_workspace(a);
	if (!rc && !a->config.output)
		rc = default_output(a);
	return rc ? rc : check_output(a);
}

static void print_summary(const struct record_session *s,
			  const struct record_result *r)
{
	const struct record_counts *c = &s->counts;
	/* A recording that failed before its end has no end time. */
	double secs = r->end_us > s->start_us
			      ? (double)(r->end_us - s->start_us) / 1e6
			      : 0.0;

	fprintf(stderr,
		"summary: %.1f s, %llu model call%s, %llu process%s, "
		"%llu file%s changed, %llu policy violation%s\n",
		secs, (unsigned long long)c->model_calls,
		c->model_calls == 1 ? "" : "s",
		(unsigned long long)c->processes,
		c->processes == 1 ? "" : "es",
		(unsigned long long)c->files_changed,
		c->files_changed == 1 ? "" : "s",
		(unsigned long long)c->violations,
		c->violations == 1 ? "" : "s");
}

static void print_done(const struct record_session *s,
		       const struct record_result *r,
		       const struct bundle_id *root)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(root, hex);
	fprintf(stderr, "bundle: %s\nroot: %s\n", s->config->output, hex);
	record_note_wal(s->bundle, s->config->output);
	if (r->stop_signal)
		fprintf(stderr, "stopped: SIG%s before the agent started\n",
			sigabbrev_np(r->stop_signal));
	if (r->timed_out)
		fprintf(stderr, "stopped: timed out after %llu s (the policy's "
			"limits.timeout_seconds)\n",
			(unsigned long long)s->config->policy->limits
				.timeout_seconds);
	print_summary(s, r);
}

/* An agent that the sandbox could not execute exits 126 or 127, which
 * alone is no reason: name the command and the errno. Without the
 * sandbox, the child prints it itself (record_run.c). */
static void print_not_run(const struct record_session *s)
{
	const char *agent = s->config->argv[0];

	if (s->config->no_sandbox || s->agent_ran || !s->agent_exec_error)
		return;
	cli_error("cannot run the agent: '%s': %s", agent,
		  strerror(s->agent_exec_error));
	if (s->agent_refusal == HARNESS_REFUSAL_DIRECTORY)
		cli_hint("'%s' is a directory; name the program in it to "
			 "run", agent);
	else if (s->agent_refusal == HARNESS_REFUSAL_MODE)
		cli_hint("'%s' has no execute permission; make it "
			 "executable (chmod +x), or name its interpreter "
			 "first", agent);
	else if (s->agent_exec_error == ENOENT && s->agent_interpreter[0])
		cli_hint("'%s' is a script for '%s', which the sandbox does "
			 "not show; list its folder in the policy's "
			 "filesystem.read_only (docs/policy.md), or name "
			 "an interpreter that the sandbox has first", agent,
			 s->agent_interpreter);
	else if (strchr(agent, '/'))
		cli_hint("the sandbox shows the workspace and the policy's "
			 "read-only paths (docs/policy.md); name a program "
			 "there");
	else
		cli_hint("the sandbox looks it up in its PATH; for a program "
			 "in the workspace, write ./%s", agent);
}

/* A run that failed before its bundle had a start left no bundle
 * (record.c), which docs/record.md gives status 3. */
static int print_failed(struct record_session *s,
			const struct record_result *r)
{
	cli_error_from(s->failure, s->failure_hint[0] ? s->failure_hint
						       : NULL);
	if (!s->bundle)
		return CLI_EXIT_ERROR;
	fprintf(stderr, "bundle: %s (incomplete: %llu events committed)\n",
		s->config->output,
		(unsigned long long)bundle_event_count(s->bundle));
	print_summary(s, r);
	return CLI_EXIT_RUNBUNDLE;
}

/* Note another run in the workspace, whose changes would show in this
 * recording's snapshots. */
static void note_shared(const struct record_config *c)
{
	if (sandbox_workspace_shared(c->workspace))
		fprintf(stderr,
			"note: another process holds the lock of the "
			"workspace '%s', as a runbundle run in it does: "
			"what it changes there shows in this "
			"recording's snapshots\n",
			c->workspace);
}

/*
 * Create the bundle. Another run can take a default name after this run
 * chose it. The creation fails then, because it is atomic, and this run
 * takes the next free number: the user chose no name to keep.
 */
static int open_session(struct record_session *s, struct record_args *a)
{
	while (record_session_open(s, &a->config) < 0) {
		if (!a->stamp[0] || a->number >= 1000 ||
		    !name_taken(a->output))
			return -1;
		record_session_close(s);
		number_output(a);
	}
	return 0;
}

static int record(struct record_session *s, struct record_args *a)
{
	const struct record_config *c = &a->config;
	struct record_result result = { .end_us = record_now_us() };
	struct record_gateway *gateway = NULL;
	struct bundle_id root;
	int rc;

	note_shared(c);
	if (open_session(s, a) < 0 || record_gateway_new(s, &gateway) < 0)
		return print_failed(s, &result);
	if (c->no_sandbox)
		rc = record_run_direct(s, gateway, &result);
	else
		rc = record_run_sandbox(s, gateway, &result);
	record_gateway_stop(gateway);
	if (rc == 0)
		rc = record_session_finish(s, &result, &root);
	if (rc < 0)
		return print_failed(s, &result);
	print_not_run(s);
	print_done(s, &result, &root);
	return result.exit_code;
}

/*
 * Compile the policy's matching rules, although only a replay applies
 * them, so that a broken rule stops this run before its bundle exists
 * instead of every later replay of it. The sandbox checks only their
 * form, because it does not link the regular expression engine.
 */
static int check_rules(const struct sandbox_policy *policy, const char *path)
{
	const struct sandbox_strings *rules = &policy->match_rules;

	/* Only a policy file has rules, so path is set when one fails. */
	for (size_t i = 0; i < rules->count; i++) {
		if (harness_rule_check(rules->items[i]) == 0)
			continue;
		cli_error("invalid policy: '%s': matching.rules[%zu]: "
			  "\"%s\": %s", path, i, rules->items[i],
			  harness_error());
		cli_hint("fix the rule; docs/matching.md describes them");
		return -1;
	}
	return 0;
}

/*
 * Check the policy's HOME seed before the bundle exists: the sandbox
 * opens it only when it starts, after the bundle's first event. Replay
 * restores the seed from the bundle instead, so the policy loader
 * cannot check it for every caller.
 */
static int check_seed(const struct sandbox_policy *policy, const char *path)
{
	const char *reason;
	struct stat st;

	if (!policy->home_seed)
		return 0;
	if (stat(policy->home_seed, &st) < 0)
		reason = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		reason = "not a directory";
	else if (access(policy->home_seed, R_OK | X_OK) < 0)
		reason = strerror(errno);
	else
		return 0;
	cli_error("invalid policy: '%s': home.seed: '%s': %s", path,
		  policy->home_seed, reason);
	cli_hint("create the directory that seeds HOME, or take home.seed out "
		 "of the policy");
	return -1;
}

static struct sandbox_policy *load_policy(const char *path)
{
	struct sandbox_policy *policy = path ? sandbox_policy_load(path)
					     : sandbox_policy_default();
	const char *name;

	if (!policy) {
		cli_error_from(sandbox_error(), sandbox_error_hint());
		return NULL;
	}
	if (check_rules(policy, path) < 0 || check_seed(policy, path) < 0) {
		sandbox_policy_free(policy);
		return NULL;
	}
	for (size_t i = 0; (name = sandbox_policy_missing_exec(policy, &i));)
		cli_error("warning: exec.allow: '%s': %s, so this entry "
			  "allows nothing", name,
			  sandbox_policy_missing_exec_reason(name));
	return policy;
}

/*
 * Load the model script before the bundle exists and before the signals
 * are blocked, so that a bad script leaves no bundle and a FIFO cannot
 * hang the run. The gateway serves this copy.
 */
static int load_script(struct record_config *c)
{
	if (!c->model_script)
		return 0;
	c->script = harness_script_load(c->model_script);
	if (!c->script) {
		cli_error_from(harness_error(), harness_error_hint());
		return -1;
	}
	return 0;
}

/* Reject a workspace that the sandbox would reject, such as one inside
 * a read-only path, before the bundle exists. The launch checks again
 * with the recorder's own additions to the policy. */
static int check_placement(const struct record_config *c)
{
	struct sandbox_config check = {
		.policy = c->policy,
		.workspace = c->workspace,
		.workspace_inside = c->workspace_inside,
		.argv = c->argv,
	};

	if (c->no_sandbox || sandbox_check(&check) == 0)
		return 0;
	cli_error_from(sandbox_error(), sandbox_error_hint());
	return -1;
}

int cmd_record(int argc, char **argv, const struct cli_command *self)
{
	struct record_session session;
	struct sandbox_policy *policy;
	struct record_args args;
	int rc;

	rc = parse_args(argc, argv, self, &args);
	if (rc)
		return rc;
	if (load_script(&args.config) < 0)
		return CLI_EXIT_ERROR;
	policy = load_policy(args.config.policy_path);
	if (!policy) {
		harness_script_free(args.config.script);
		return CLI_EXIT_ERROR;
	}
	args.config.policy = policy;
	if (check_placement(&args.config) < 0 ||
	    record_gateway_check_keys(&args.config) < 0) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	record_detach();
	record_signals_block();
	rc = record(&session, &args);
	record_session_close(&session);
out:
	sandbox_policy_free(policy);
	harness_script_free(args.config.script);
	return rc;
}
