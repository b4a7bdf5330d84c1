/*
 * cmd_replay.c - "runbundle replay BUNDLE": run a recorded agent again
 * in the recorded sandbox against the recorded model responses, and
 * name the first step where the replay diverges from the recording.
 *
 * Exit status: 0 identical or volatile differences only, 1 diverged, 2
 * usage, 3 the replay could not run, 128 + the signal when one stopped
 * it (docs/replay.md).
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "harness/fingerprint.h"
#include "harness/error.h"
#include "harness/gateway.h"
#include "harness/normalize.h"
#include "record/record_gateway.h"
#include "record/record_run.h"
#include "replay/commands.h"
#include "replay/output.h"
#include "replay/printed.h"
#include "replay/repeat.h"
#include "replay/sandbox_hints.h"
#include "replay/session.h"
#include "replay/sockets.h"
#include "replay/trust.h"
#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

static int parse_number(const struct cli_command *self, const char *opt,
			const char *val, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long n = val ? strtoul(val, &end, 10) : 0;

	if (!val || !*val || *end || n == 0 || n > max)
		return cli_usage_error(self,
				       "invalid %s: '%s': expected a number "
				       "from 1 to %lu",
				       opt, val ? val : "", max);
	*out = n;
	return 0;
}

/* Step K of replay is the one that ends with inspect's step K, so
 * "final" and "latest" name the last one, as in the readers. Step 0,
 * the initial snapshot, ran no command. */
static int parse_step(const struct cli_command *self, struct replay_args *a,
		      const char *val)
{
	char *end = NULL;
	unsigned long n = strtoul(val, &end, 10);

	if (strcmp(val, "final") == 0 || strcmp(val, "latest") == 0) {
		a->step = REPLAY_STEP_FINAL;
		return 0;
	}
	if (!*val || *end || !isdigit((unsigned char)*val) || n > 100000) {
		if (strcmp(val, "initial") != 0)
			return cli_usage_error(self, "invalid --step: '%s': "
					       "expected a number from 1 to "
					       "100000, or 'final' for the "
					       "last step", val);
		n = 0;
	}
	if (n == 0)
		return cli_usage_error(self, "invalid --step: '%s': the "
				       "initial snapshot is taken before the "
				       "agent runs any command, so step 1 is "
				       "the first to re-run", val);
	a->step = n;
	return 0;
}

static int parse_choice(const struct cli_command *self, struct replay_args *a,
			const char *opt, const char *val)
{
	if (strcmp(opt, "--timing") == 0 && strcmp(val, "fast") == 0)
		a->opts.fast = true;
	else if (strcmp(opt, "--timing") == 0 && strcmp(val, "recorded") == 0)
		a->opts.fast = false;
	else if (strcmp(opt, "--on-mismatch") == 0 && strcmp(val, "stop") == 0)
		a->opts.on_mismatch = HARNESS_DIVERGE_STOP;
	else if (strcmp(opt, "--on-mismatch") == 0 &&
		 strcmp(val, "closest") == 0)
		a->opts.on_mismatch = HARNESS_DIVERGE_CLOSEST;
	else if (strcmp(opt, "--on-mismatch") == 0 &&
		 strcmp(val, "forward") == 0)
		a->opts.on_mismatch = HARNESS_DIVERGE_FORWARD;
	else
		return cli_usage_error(self, "invalid %s: '%s': expected %s",
				       opt, val,
				       strcmp(opt, "--timing") == 0
					       ? "'recorded' or 'fast'"
					       : "'stop', 'closest' or "
						 "'forward'");
	return 0;
}

/* --sandbox none accepts a run recorded without the sandbox. The other
 * mode, namespaces, is the one that every other replay runs in. */
static int parse_sandbox(const struct cli_command *self,
			 struct replay_args *a, const char *val)
{
	if (strcmp(val, "none") == 0)
		a->no_sandbox = true;
	else if (strcmp(val, "namespaces") != 0)
		return cli_usage_error(self, "invalid --sandbox: '%s': "
				       "expected 'namespaces' or 'none'", val);
	return 0;
}

/* --upstream NAME=URL, checked as record checks it. trust.c matches the
 * names with the recording's once the bundle is read. */
static int add_upstream(const struct cli_command *self,
			struct replay_args *a, const char *val)
{
	const char *eq = strchr(val, '=');

	if (!eq || eq == val)
		return cli_usage_error(self, "invalid --upstream: '%s': "
				       "expected NAME=URL", val);
	if (a->n_upstreams == RECORD_MAX_UPSTREAMS)
		return cli_usage_error(self, "too many --upstream options: "
				       "'%s'", val);
	if (record_gateway_check_pair(self, val))
		return CLI_EXIT_USAGE;
	a->upstreams[a->n_upstreams++] = val;
	return 0;
}

/* Apply one option, opt named as in the usage line, with val or NULL. */
static int parse_option(const struct cli_command *self, struct replay_args *a,
			const char *opt, const char *val)
{
	unsigned long n = 0;
	int rc;

	if (strcmp(opt, "--json") == 0) {
		a->json = true;
		return 0;
	}
	if (strcmp(opt, "--keep") == 0) {
		a->opts.keep = true;
		return 0;
	}
	if (strcmp(opt, "--allow-incomplete") == 0) {
		a->allow_incomplete = true;
		return 0;
	}
	if (strcmp(opt, "--strict-git-index") == 0) {
		a->strict_git_index = true;
		return 0;
	}
	if (strcmp(opt, "--compare-output") == 0) {
		a->compare_output = true;
		return 0;
	}
	if (strcmp(opt, "--trust-policy") == 0) {
		a->trust_policy = true;
		return 0;
	}
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0) {
		a->output = val;
		return 0;
	}
	if (strcmp(opt, "--policy") == 0) {
		a->opts.policy = val;
		return 0;
	}
	if (strcmp(opt, "--timing") == 0 || strcmp(opt, "--on-mismatch") == 0)
		return parse_choice(self, a, opt, val);
	if (strcmp(opt, "--sandbox") == 0)
		return parse_sandbox(self, a, val);
	if (strcmp(opt, "--upstream") == 0)
		return add_upstream(self, a, val);
	if (strcmp(opt, "--match-rule") == 0) {
		if (a->n_match_rules == REPLAY_MAX_MATCH_RULES)
			return cli_usage_error(self, "too many --match-rule "
						     "options: '%s'", val);
		if (harness_rule_check(val) < 0)
			return cli_usage_error(self, "invalid --match-rule: "
					       "%s", harness_error());
		a->match_rules[a->n_match_rules++] = val;
		return 0;
	}
	if (strcmp(opt, "--step") == 0)
		return parse_step(self, a, val);
	if (strcmp(opt, "--repeat") == 0 || strcmp(opt, "-j") == 0) {
		rc = parse_number(self, opt, val, 100000, &n);
		if (rc)
			return rc;
		if (strcmp(opt, "--repeat") == 0)
			a->repeat = (unsigned)n;
		else
			a->jobs = (unsigned)n;
		return 0;
	}
	return cli_usage_error(self, "unknown option: '%s'", opt);
}

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct replay_args *a)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 0 },
		{ "keep", no_argument, NULL, 0 },
		{ "allow-incomplete", no_argument, NULL, 0 },
		{ "strict-git-index", no_argument, NULL, 0 },
		{ "trust-policy", no_argument, NULL, 0 },
		{ "compare-output", no_argument, NULL, 0 },
		{ "output", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, 0 },
		{ "timing", required_argument, NULL, 0 },
		{ "on-mismatch", required_argument, NULL, 0 },
		{ "sandbox", required_argument, NULL, 0 },
		{ "upstream", required_argument, NULL, 0 },
		{ "match-rule", required_argument, NULL, 0 },
		{ "repeat", required_argument, NULL, 0 },
		{ "step", required_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	char opt[32];
	int c, k, rc;

	memset(a, 0, sizeof(*a));
	a->opts.fast = true;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:j:", options, &k)) != -1) {
		if (cli_short_value_check(self, options, c, argv))
			return CLI_EXIT_USAGE;
		if (c == 0)
			snprintf(opt, sizeof(opt), "--%s", options[k].name);
		else if (c == 'o' || c == 'j')
			snprintf(opt, sizeof(opt), "-%c", c);
		else
			return cli_option_error(self, c, argv);
		rc = parse_option(self, a, opt, optarg);
		if (rc)
			return rc;
	}
	if (cli_one_bundle(self, argc, argv, optind))
		return CLI_EXIT_USAGE;
	a->bundle = argv[optind];
	if (a->jobs && !a->repeat)
		return cli_usage_error(self, "invalid option: '-j %u': only "
				       "--repeat N runs replays in parallel",
				       a->jobs);
	if (a->compare_output && a->step)
		return cli_usage_error(self, "invalid option: "
				       "'--compare-output': --step re-runs "
				       "the step's commands without the agent, "
				       "so there is no agent output to "
				       "compare");
	if (a->n_upstreams && a->opts.on_mismatch != HARNESS_DIVERGE_FORWARD)
		return cli_usage_error(self, "invalid option: '--upstream %s': "
				       "a live upstream answers only with "
				       "--on-mismatch forward",
				       a->upstreams[0]);
	a->opts.upstreams = a->upstreams;
	a->opts.n_upstreams = a->n_upstreams;
	if (!a->repeat)
		a->repeat = a->step ? 1 : 0;
	if (!a->jobs)
		a->jobs = 1;
	return 0;
}

/* A forward needs an upstream, and a scripted recording has none: its
 * gateway served every response from the script. */
static int check_forward(const struct replay_run *a,
			 const struct replay_args *args)
{
	const cJSON *ups = cJSON_GetObjectItem(a->record, "upstreams");

	if (args->opts.on_mismatch != HARNESS_DIVERGE_FORWARD ||
	    cJSON_GetArraySize(ups) > 0)
		return 0;
	cli_error("cannot forward a request that matches no recording: '%s': "
		  "the run was recorded with a model script, so it has no "
		  "upstream to forward to", a->path);
	cli_hint("use --on-mismatch stop or closest, or record the run "
		 "with --upstream NAME=URL to replay it with forward");
	return CLI_EXIT_USAGE;
}

/* Note the sockets of the workspace, which no checkout recreates. */
static int note_sockets(const struct replay_run *a)
{
	char names[512];
	long n = a->has_initial ? replay_run_sockets(a, &a->initial, names,
						     sizeof(names))
				: 0;
	char *clean_names;

	if (n < 0)
		return cli_error_from(replay_error(), replay_error_hint());
	if (n == 0)
		return 0;
	clean_names = replay_clean(names, strlen(names));
	fprintf(stderr,
		"note: the workspace has %ld socket%s ('%s'): a socket cannot "
		"be restored with its listener, so the replay binds one that "
		"nothing listens on, and sockets are left out of the "
		"comparison\n",
		n, n == 1 ? "" : "s", clean_names ? clean_names : "?");
	free(clean_names);
	return 0;
}

/*
 * Print a note when the recorded agent could not write the workspace's
 * top directory because it belonged to another uid, as when root records
 * a checkout bound from the host. The replay's checkout is the agent's,
 * so the replayed agent can write where the recorded one failed.
 */
static void note_workspace_owner(const struct replay_run *a)
{
	const cJSON *u = cJSON_GetObjectItem(
		cJSON_GetObjectItem(a->description, "uid_map"), "inside");
	const cJSON *g = cJSON_GetObjectItem(
		cJSON_GetObjectItem(a->description, "gid_map"), "inside");
	struct bundle_snapshot snapshot;
	const struct bundle_root_meta *m = &snapshot.root_meta;

	if (!cJSON_IsNumber(u) || !cJSON_IsNumber(g) ||
	    a->initial_snapshot == 0 ||
	    bundle_snapshot_load(a->bundle, a->initial_snapshot,
				 &snapshot) < 0 ||
	    !m->have || m->uid == (uint32_t)u->valuedouble)
		return;
	if ((m->gid == (uint32_t)g->valuedouble && (m->mode & S_IWGRP)) ||
	    (m->mode & S_IWOTH))
		return;
	fprintf(stderr,
		"note: the recorded workspace belonged to uid %u, where the "
		"agent, as uid %u, could not write; the replay's workspace "
		"is the agent's, so a write that failed when recorded "
		"succeeds now and diverges\n",
		(unsigned)m->uid, (unsigned)u->valuedouble);
}

/* Read the replayer's own policy before saying that the replay uses it:
 * a missing or broken file stops the replay first. */
static int note_own_policy(const char *path)
{
	struct sandbox_policy *own = sandbox_policy_load(path);

	if (!own)
		return cli_error_from(sandbox_error(), sandbox_error_hint());
	sandbox_policy_free(own);
	fprintf(stderr, "note: replaying under the policy '%s', not the "
			"recorded one: the sandbox differs from the "
			"recording's where the two differ\n",
		path);
	return CLI_EXIT_OK;
}

/* What makes a replay of this recording refused before it starts. */
static int check_run(const struct replay_run *a,
		     const struct replay_args *args)
{
	int rc = replay_check_sandbox(a, args->no_sandbox);

	if (!rc && args->no_sandbox && args->opts.policy) {
		cli_error("cannot replay under a policy: '%s': --sandbox none "
			  "runs no sandbox to apply it", args->opts.policy);
		rc = CLI_EXIT_USAGE;
	} else if (!rc && args->opts.policy)
		rc = note_own_policy(args->opts.policy);
	else if (!rc && !args->no_sandbox)
		rc = replay_note_policy(a, args->trust_policy);
	if (!rc)
		rc = check_forward(a, args);
	if (!rc && args->opts.on_mismatch == HARNESS_DIVERGE_FORWARD)
		rc = replay_check_upstreams(a, args->upstreams,
					    args->n_upstreams);
	if (!rc && !args->no_sandbox)
		note_workspace_owner(a);
	return rc ? rc : note_sockets(a);
}

/* Print every difference of this host that could change the run. */
static cJSON *check_host(struct replay_run *run)
{
	struct replay_host_map map = {
		.inside = cJSON_GetStringValue(
			cJSON_GetObjectItem(run->record, "workspace")),
	};
	const cJSON *env = NULL;
	cJSON *diff, *clean_diff;
	char *text;

	if (replay_run_agent_env(run, &env) < 0) {
		cli_error_from(replay_error(), replay_error_hint());
		return NULL;
	}
	map.recorded_env = env != NULL;
	diff = replay_host_differences(run->fingerprint, &map);
	if (!diff) {
		cli_error_from(replay_error(), NULL);
		return NULL;
	}
	if (cJSON_GetArraySize(diff) == 0)
		return diff;
	/* The recorded values are the bundle author's text. */
	clean_diff = replay_clean_json(diff);
	text = clean_diff ? harness_fingerprint_diff_text(clean_diff) : NULL;
	cJSON_Delete(clean_diff);
	fprintf(stderr,
		"note: this host differs from the recording where "
		"the run may notice:\n%s",
		text ? text : "");
	if (text && text[0] && text[strlen(text) - 1] != '\n')
		fputc('\n', stderr);
	free(text);
	return diff;
}

/*
 * Report where the replay's sandbox enforced something else than the
 * recorded one (a lower Landlock ABI, say), on stderr and as the
 * "sandbox" member. Only the launch can tell, so this runs afterwards.
 */
static void check_sandbox(const struct replay_run *a,
			  const struct replay_run *b, cJSON *extra)
{
	cJSON *recorded, *present;
	char *report = NULL, *hints;
	int n;

	if (!a->description || !b->description)
		return;
	/* The report quotes the recorded description, the bundle author's
	 * text, so both sides are compared cleaned. */
	recorded = replay_clean_json(a->description);
	present = replay_clean_json(b->description);
	n = recorded && present ? sandbox_description_compare(recorded,
							      present, &report)
				: -1;
	hints = n > 0 && report ? replay_sandbox_hints(recorded, present)
				: NULL;
	cJSON_Delete(recorded);
	cJSON_Delete(present);
	/* The hints follow the lines that they explain, in JSON too. */
	if (hints && hints[0]) {
		char *both = NULL;

		if (asprintf(&both, "%s%s%s", report,
			     report[0] && report[strlen(report) - 1] != '\n'
				     ? "\n" : "",
			     hints) >= 0) {
			free(report);
			report = both;
		}
	}
	free(hints);
	if (n > 0 && report) {
		fprintf(stderr, "note: the sandbox differs from the "
				"recording's:\n%s",
			report);
		if (report[strlen(report) - 1] != '\n')
			fputc('\n', stderr);
		cJSON_AddStringToObject(extra, "sandbox", report);
	}
	free(report);
}

/* Print the mounts of the recorded sandbox that this one lacks, since an
 * agent that could not run often needs one. The bundle is finalized. */
static void note_sandbox(const struct replay_run *a, const char *path)
{
	char why[1024], hint[1024];
	struct replay_run *b;
	cJSON *extra;

	snprintf(why, sizeof(why), "%s", replay_error());
	snprintf(hint, sizeof(hint), "%s",
		 replay_error_hint() ? replay_error_hint() : "");
	b = replay_run_load(path);
	extra = cJSON_CreateObject();
	if (b && extra)
		check_sandbox(a, b, extra);
	cJSON_Delete(extra);
	replay_run_free(b);
	replay_set_error("%s", why);
	replay_set_hint("%s", hint);
}

static int compare_and_print(const struct replay_run *a, const char *path,
			     bool json, cJSON *extra)
{
	struct replay_run *b = replay_run_load(path);
	int rc;

	if (!b) {
		cJSON_Delete(extra);
		return cli_error_from(replay_error(), replay_error_hint());
	}

	/* The agent's output went to stderr, and the notes start lines. */
	if (replay_output_unended(b))
		fputc('\n', stderr);
	check_sandbox(a, b, extra);
	rc = replay_compare_and_print(a, b, json, extra);
	replay_run_free(b);
	return rc;
}

/* The step that the replay had reached, from its bundle: the one after
 * its last request. 0 when the bundle cannot be read. */
static size_t step_reached(const char *path)
{
	struct replay_run *b = replay_run_load(path);
	size_t step = b ? b->n_steps : 0;

	replay_run_free(b);
	return step;
}

/*
 * A replay that a signal cut short has no verdict: the steps it did not
 * reach would all count as divergences.
 */
static int print_interrupted(const struct replay_run *a,
			     const struct replay_outcome *out, const char *path,
			     bool json, cJSON *extra)
{
	size_t step = out->started ? step_reached(path) : 0;
	char where[96] = "before the agent started";

	if (step)
		snprintf(where, sizeof(where), "at step %zu of %zu", step,
			 a->n_steps);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *item;
		char name[32];

		snprintf(name, sizeof(name), "SIG%s",
			 sigabbrev_np(out->signal));
		cJSON_AddStringToObject(o, "verdict", "interrupted");
		cJSON_AddStringToObject(o, "signal", name);
		cJSON_AddNumberToObject(o, "steps", (double)a->n_steps);
		if (step)
			cJSON_AddNumberToObject(o, "step", (double)step);
		else
			cJSON_AddNullToObject(o, "step");
		while (o && (item = extra->child)) {
			cJSON_DetachItemViaPointer(extra, item);
			cJSON_AddItemToObject(o, item->string, item);
		}
		cJSON_Delete(extra);
		replay_print_json(o);
	} else {
		cJSON_Delete(extra);
		printf("interrupted by SIG%s %s: no verdict, because the "
		       "replay did not run to its end\n",
		       sigabbrev_np(out->signal), where);
	}
	fflush(stdout);
	return 128 + out->signal;
}

static int replay_once(struct replay_run *a, struct replay_args *args,
		       cJSON *host)
{
	struct replay_outcome out;
	char path[4200];
	cJSON *extra = cJSON_CreateObject();
	int rc;

	args->opts.output = args->output;
	rc = replay_session_run(a, &args->opts, &out);
	snprintf(path, sizeof(path), "%s",
		 args->output ? args->output : out.workdir);
	if (!args->output)
		strncat(path, "/replay.rb", sizeof(path) - strlen(path) - 1);
	if (rc < 0) {
		if (out.not_run)
			note_sandbox(a, path);
		cJSON_Delete(extra);
		rc = cli_error_from(replay_error(), replay_error_hint());
		goto out;
	}
	cJSON_AddStringToObject(extra, "bundle", path);
	if (args->opts.keep)
		cJSON_AddStringToObject(extra, "workspace", out.workspace);
	cJSON_AddItemToObject(extra, "host", cJSON_Duplicate(host, 1));
	if (out.signal)
		rc = print_interrupted(a, &out, path, args->json, extra);
	else
		rc = compare_and_print(a, path, args->json, extra);
	if (args->opts.keep)
		fprintf(stderr, "workspace: %s\n", out.workspace);
out:
	if (out.workdir[0] && !args->opts.keep)
		replay_remove_tree(out.workdir);
	return rc;
}

/* Reject an -o that exists, or whose directory does not let the caller
 * create it, before the notes on the policy and the host, which would
 * otherwise bury the error. A bundle is never replaced, and a batch's
 * directory must be empty or new. */
static int check_output_path(const struct replay_args *args)
{
	char dir[PATH_MAX];
	struct stat st;
	int fd;

	if (!args->output)
		return 0;
	if (lstat(args->output, &st) < 0) {
		fd = cli_open_parent(args->output, args->repeat ? "replays"
							       : "bundle",
				     dir, sizeof(dir));
		if (fd < 0)
			return CLI_EXIT_ERROR;
		close(fd);
		return 0;
	}
	if (args->repeat) {
		if (!S_ISDIR(st.st_mode)) {
			cli_error("cannot write the replays into directory: "
				  "'%s': not a directory", args->output);
			cli_hint("name a new or empty directory for "
				 "replay-N.rb and replay-N.log");
			return CLI_EXIT_ERROR;
		}
		return replay_check_empty(args->output) < 0 ? CLI_EXIT_ERROR
							    : 0;
	}
	if (S_ISLNK(st.st_mode) && stat(args->output, &st) < 0)
		cli_error("cannot create the bundle: '%s': it is a dangling "
			  "symbolic link", args->output);
	else
		cli_error("cannot create the bundle: '%s': it exists",
			  args->output);
	cli_hint("remove it, or choose a new name with -o");
	return CLI_EXIT_ERROR;
}

int cmd_replay(int argc, char **argv, const struct cli_command *self)
{
	struct replay_args args;
	struct replay_run *a;
	cJSON *host;
	int rc;

	rc = parse_args(argc, argv, self, &args);
	if (rc == 0)
		rc = check_output_path(&args);
	if (rc)
		return rc;
	/* Before anything reads the recording, as in runbundle diff. */
	rc = replay_check_intact(args.bundle, args.allow_incomplete);
	if (rc)
		return rc;
	a = replay_run_load(args.bundle);
	if (!a)
		return cli_error_from(replay_error(), replay_error_hint());
	a->match_rules = args.match_rules;
	a->n_match_rules = args.n_match_rules;
	a->strict_git_index = args.strict_git_index;
	a->compare_output = args.compare_output;
	rc = check_run(a, &args);
	if (rc) {
		replay_run_free(a);
		return rc;
	}
	host = check_host(a);
	if (!host) {
		replay_run_free(a);
		return CLI_EXIT_ERROR;
	}
	record_detach();
	record_signals_block();
	if (args.repeat)
		rc = replay_repeat(a, &args, host);
	else
		rc = replay_once(a, &args, host);
	cJSON_Delete(host);
	replay_run_free(a);
	return rc;
}
