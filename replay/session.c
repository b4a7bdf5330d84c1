/*
 * session.c - one replay (session.h). The run goes through record/'s
 * session: the same bundle events, the same sandbox, the same tracer.
 * What a replay changes is set in struct record_config: the workspace
 * is a fresh checkout mounted at the recorded path, the environment and
 * the ids inside the sandbox are the recorded ones, and the gateway
 * serves the recorded exchanges.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/checkout.h"
#include "bundle/snapshot.h"
#include "record/record.h"
#include "record/record_gateway.h"
#include "record/record_run.h"
#include "replay/session.h"
#include "replay/hidden.h"
#include "replay/sockets.h"
#include "sandbox/error.h"
#include "sandbox/policy.h"

#define MAX_LIST	   4096

struct prepared {
	struct record_config config;
	struct sandbox_policy *policy;
	char *argv[MAX_LIST + 1];
	char *env[MAX_LIST + 1];
	char *upstreams[RECORD_MAX_UPSTREAMS];
	struct harness_exchange *exchanges;
	char policy_path[4200];
	char output[4200];
	char home[4200];
	char label[64];
	const char *made[MAX_LIST];	/* the parts the recording made */
	struct sandbox_inherit inherit;
};

static int fail_errno(const char *what, const char *value)
{
	replay_set_error("%s: '%s': %s", what, value, strerror(errno));
	return -1;
}

/* A directory on the path of the walk: its subdirectories, of which
 * names[next - 1] is the one being removed. */
struct level {
	char **names;
	size_t n, next;
};

static void level_free(struct level *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

static bool is_dir_entry(int fd, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Let the owner write to the directory at fd, so that its entries can
 * go: a workspace restored with the recorded root's mode may be 0555. */
static void open_up(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		fchmod(fd, (st.st_mode & 07777) | 0700);
}

/* Unlink every entry of the directory at fd except its subdirectories,
 * whose names go into l. Returns 0 or -1. */
static int clear_level(int fd, struct level *l)
{
	int copy = dup(fd);
	DIR *d = copy < 0 ? NULL : fdopendir(copy);
	struct dirent *e;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (!d) {
		if (copy >= 0)
			close(copy);
		return -1;
	}
	open_up(fd);
	while (rc == 0 && (e = readdir(d))) {
		char **grown;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!is_dir_entry(fd, e)) {
			unlinkat(fd, e->d_name, 0);
			continue;
		}
		grown = realloc(l->names, (l->n + 1) * sizeof(*grown));
		if (!grown || !(grown[l->n] = strdup(e->d_name))) {
			l->names = grown ? grown : l->names;
			rc = -1;
			break;
		}
		l->names = grown;
		l->n++;
	}
	closedir(d);
	return rc;
}

/* Open the subdirectory name of the directory at fd, after giving the
 * owner access when the agent left it with mode 0. */
static int open_child(int fd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int child = openat(fd, name, flags);

	if (child < 0 && errno == EACCES &&
	    fchmodat(fd, name, 0700, 0) == 0)
		child = openat(fd, name, flags);
	return child;
}

/*
 * The walk keeps one file descriptor open and the names of the
 * directories above it on the heap. A workspace can nest deeper than
 * PATH_MAX, where nftw() fails, and deeper than the limit of open files.
 */
void replay_remove_tree(const char *dir)
{
	struct level *levels = NULL;
	size_t depth = 0, cap = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	while (fd >= 0) {
		struct level *l;

		if (depth == cap) {
			struct level *grown = realloc(levels, (cap * 2 + 16) *
							      sizeof(*grown));

			if (!grown)
				break;
			levels = grown;
			cap = cap * 2 + 16;
		}
		if (clear_level(fd, &levels[depth]) < 0) {
			level_free(&levels[depth]);
			break;
		}
		depth++;
		/* Go down into the next subdirectory. When none is left,
		 * go up and remove the directory just emptied. */
		for (;;) {
			int next;

			l = &levels[depth - 1];
			if (l->next < l->n) {
				next = open_child(fd, l->names[l->next++]);
				if (next < 0)
					continue;
				close(fd);
				fd = next;
				break;
			}
			level_free(l);
			if (--depth == 0) {
				close(fd);
				fd = -1;
				rmdir(dir);
				goto out;
			}
			next = openat(fd, "..", O_RDONLY | O_DIRECTORY |
						    O_CLOEXEC);
			close(fd);
			fd = next;
			if (fd < 0)
				goto out;
			l = &levels[depth - 1];
			unlinkat(fd, l->names[l->next - 1], AT_REMOVEDIR);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	while (depth > 0)
		level_free(&levels[--depth]);
	free(levels);
}

static int make_workdir(struct replay_outcome *out)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(out->workdir, sizeof(out->workdir),
		 "%s/runbundle-replay-XXXXXX", tmp);
	/* The error names TMPDIR, because mkdtemp() leaves a random name
	 * in the template that the user never saw. */
	if (!mkdtemp(out->workdir)) {
		fail_errno("cannot create the replay's directory in TMPDIR",
			   tmp);
		replay_set_hint("set TMPDIR to a directory that you can "
				"write, where the replay rebuilds the "
				"workspace");
		return -1;
	}
	snprintf(out->workspace, sizeof(out->workspace), "%s/workspace",
		 out->workdir);
	return 0;
}

/* Set the checkout's hint, with TMPDIR in place of its "check out
 * somewhere else" for a full disk, because the replay chose the
 * directory. */
static void checkout_hint(const char *dir)
{
	const char *error = bundle_error();

	if (strstr(error, strerror(ENOSPC)) || strstr(error, strerror(EDQUOT)))
		replay_set_hint("free space on the file system of '%s', or set "
				"TMPDIR to a directory on another one, where "
				"the replay rebuilds the workspace", dir);
	else if (bundle_error_hint())
		replay_set_hint("%s", bundle_error_hint());
}

/*
 * The files belong to the user who replays, as they belonged to the one
 * who recorded: inside the sandbox both are the recorded uid. Restoring
 * the recorded owners would show files of the recording user as
 * unmapped (65534) when another user replays.
 * NOTE: a workspace whose files had several owners shows them all as
 * the agent's.
 */
static int checkout(struct replay_run *run, const struct bundle_id *root,
		    const char *dir)
{
	/* The setuid and setgid bits stay, because the replay compares
	 * modes. Only the caller can reach the private directory, and in
	 * the sandbox no_new_privs makes the kernel ignore them. */
	struct bundle_checkout_options o = {.keep_setid = 1};

	if (bundle_checkout(run->bundle, root, dir, &o, NULL) < 0) {
		replay_set_error("cannot rebuild the workspace: '%s': %s", dir,
				 bundle_error());
		checkout_hint(dir);
		return -1;
	}
	return 0;
}

/*
 * Give the workspace the recorded root's permission bits, last, after
 * everything made in it. In a workspace of mode 0555 the recorded agent
 * could not create a file at the top, and neither may the replayed one.
 * NOTE: only the initial snapshot's mode is known here, so a re-run of
 * one step (--step) keeps the checkout's mode.
 */
static int restore_root_mode(struct replay_run *run,
			     const struct bundle_id *start, const char *dir)
{
	struct bundle_snapshot snapshot;

	if (start != &run->initial || run->initial_snapshot == 0 ||
	    bundle_snapshot_load(run->bundle, run->initial_snapshot,
				 &snapshot) < 0 ||
	    !snapshot.root_meta.have)
		return 0;
	if (chmod(dir, snapshot.root_meta.mode & 07777) < 0)
		return fail_errno("cannot restore the workspace's mode", dir);
	return 0;
}

static const char *text_of(const cJSON *obj, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(obj, name));
}

/* Append the command line's matching rules to the policy's, for the
 * gateway. The policy file keeps the recorded text, so that its digest
 * stays the recorded one. */
static int add_rules(struct sandbox_policy *policy,
		     const struct replay_run *run)
{
	struct sandbox_strings *rules = &policy->match_rules;
	size_t n = rules->count + run->n_match_rules;
	char **items;

	if (run->n_match_rules == 0)
		return 0;
	items = realloc(rules->items, (n + 1) * sizeof(*items));
	if (!items)
		return fail_errno("cannot add the matching rules",
				  "--match-rule");
	rules->items = items;
	for (size_t i = 0; i < run->n_match_rules; i++) {
		items[rules->count] = strdup(run->match_rules[i]);
		if (!items[rules->count])
			return fail_errno("cannot add the matching rules",
					  run->match_rules[i]);
		rules->count++;
	}
	return 0;
}

/* The recorded policy, from the fingerprint, written to a file so that
 * the replay's fingerprint has the same digest, or the replayer's own
 * policy file. */
static int load_policy(struct prepared *p, struct replay_run *run,
		       const char *workdir, const char *own)
{
	const cJSON *pol = cJSON_GetObjectItem(run->fingerprint, "policy");
	const char *text = text_of(pol, "content");
	FILE *f;

	if (own) {
		snprintf(p->policy_path, sizeof(p->policy_path), "%s", own);
		p->policy = sandbox_policy_load(p->policy_path);
		p->config.policy_path = p->policy_path;
		goto check;
	}
	if (!text) {
		p->policy = sandbox_policy_default();
		goto check;
	}
	snprintf(p->policy_path, sizeof(p->policy_path), "%s/policy.json",
		 workdir);
	f = fopen(p->policy_path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return fail_errno("cannot write the recorded policy",
				  p->policy_path);
	p->policy = sandbox_policy_load_recorded(p->policy_path, run->path);
	p->config.policy_path = p->policy_path;
check:
	if (!p->policy) {
		const char *hint = sandbox_error_hint();

		replay_set_error("%s", sandbox_error());
		if (hint)
			replay_set_hint("%s", hint);
		return -1;
	}
	return add_rules(p->policy, run);
}

bool replay_policy_needs_cgroup(struct replay_run *run, const char *own)
{
	const cJSON *pol = cJSON_GetObjectItem(run->fingerprint, "policy");
	const char *text = text_of(pol, "content");
	struct sandbox_policy *policy;
	bool needs;

	if (own)
		policy = sandbox_policy_load(own);
	else if (text)
		policy = sandbox_policy_parse_recorded(text, strlen(text),
						       run->path);
	else
		policy = sandbox_policy_default();

	/* A policy that cannot be read fails each replay later, with its
	 * own message, so the result is not used then. */
	needs = !policy || sandbox_limits_need_cgroup(policy);
	sandbox_policy_free(policy);
	return needs;
}

static int seed_home(struct prepared *p, struct replay_run *run,
		     const char *workdir)
{
	if (!p->policy->home_seed)
		return 0;
	/* The seed's path names a directory of the host that recorded, and
	 * on this host it may be one of the replayer's private ones. */
	if (!run->has_home) {
		free(p->policy->home_seed);
		p->policy->home_seed = NULL;
		return 0;
	}
	snprintf(p->home, sizeof(p->home), "%s/home", workdir);
	if (checkout(run, &run->home, p->home) < 0)
		return -1;
	free(p->policy->home_seed);
	p->policy->home_seed = strdup(p->home);
	return p->policy->home_seed ? 0 : -1;
}

static int add_env(struct prepared *p, size_t *n, const char *name,
		   const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;

	if (*n == MAX_LIST || !(p->env[*n] = malloc(len)))
		return -1;
	snprintf(p->env[(*n)++], len, "%s=%s", name, value);
	return 0;
}

/* [name, value] pairs; null is a redacted secret. A value that is not
 * text (base64) cannot be given back and is left out. */
static int build_env(struct prepared *p, const cJSON *list)
{
	const cJSON *pair;
	size_t n = 0;

	if (!list)
		return 0;
	cJSON_ArrayForEach(pair, list)
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
		const cJSON *value = cJSON_GetArrayItem(pair, 1);

		if (!name || !value)
			continue;
		if (cJSON_IsNull(value) &&
		    add_env(p, &n, name, REPLAY_SECRET_PLACEHOLDER) < 0)
			return -1;
		if (cJSON_IsString(value) &&
		    add_env(p, &n, name, value->valuestring) < 0)
			return -1;
	}
	p->config.env = p->env;
	return 0;
}

static int build_argv(struct prepared *p, const cJSON *argv)
{
	const cJSON *a;
	size_t n = 0;

	cJSON_ArrayForEach(a, argv)
	{
		if (!cJSON_IsString(a) || n == MAX_LIST ||
		    !(p->argv[n++] = strdup(a->valuestring)))
			return -1;
	}
	if (n == 0) {
		replay_set_error("cannot replay: the recording names no "
				 "command");
		return -1;
	}
	p->config.argv = p->argv;
	return 0;
}

static int build_upstreams(struct prepared *p, const cJSON *obj)
{
	const cJSON *u;
	size_t n = 0;

	cJSON_ArrayForEach(u, obj)
	{
		size_t len;

		if (!cJSON_IsString(u) || n == RECORD_MAX_UPSTREAMS)
			continue;
		len = strlen(u->string) + strlen(u->valuestring) + 2;
		p->upstreams[n] = malloc(len);
		if (!p->upstreams[n])
			return -1;
		snprintf(p->upstreams[n], len, "%s=%s", u->string,
			 u->valuestring);
		p->config.upstreams[n] = p->upstreams[n];
		n++;
	}
	p->config.n_upstreams = n;
	return 0;
}

/* The ids the agent had inside the sandbox, from its description. */
static void set_ids(struct prepared *p, const struct replay_run *run)
{
	const cJSON *u = cJSON_GetObjectItem(
		cJSON_GetObjectItem(run->description, "uid_map"), "inside");
	const cJSON *g = cJSON_GetObjectItem(
		cJSON_GetObjectItem(run->description, "gid_map"), "inside");

	if (!cJSON_IsNumber(u) || !cJSON_IsNumber(g))
		return;
	p->config.set_ids = true;
	p->config.uid = (uid_t)u->valuedouble;
	p->config.gid = (gid_t)g->valuedouble;
}

/* Restore the umask and rlimits that the recorded agent got from the
 * user who ran runbundle: an agent may depend on them as on its
 * environment. */
static void set_inherited(struct prepared *p, const struct replay_run *run)
{
	sandbox_inherit_from_description(run->description, &p->inherit);
	p->config.inherit = &p->inherit;
}

static int agent_env(struct replay_run *run,
		     const struct replay_options *opts, const cJSON **env)
{
	*env = opts->env;
	return opts->env ? 0 : replay_run_agent_env(run, env);
}

static int gateway(struct prepared *p, struct replay_run *run,
		   const struct replay_options *opts)
{
	if (opts->no_gateway) {
		p->config.model_script = NULL;
		p->config.n_upstreams = 0;
		return 0;
	}
	p->exchanges = replay_run_exchanges(run, &p->config.n_replay);
	if (!p->exchanges)
		return -1;
	p->config.replay = p->config.n_replay ? p->exchanges : NULL;
	p->config.replay_fast = opts->fast;
	p->config.on_divergence = opts->on_mismatch;
	/* The command line names the same upstreams as the recording, with
	 * the URLs that the user chose (trust.h). */
	for (size_t i = 0; i < opts->n_upstreams; i++)
		p->config.upstreams[i] = opts->upstreams[i];
	if (opts->n_upstreams)
		p->config.n_upstreams = opts->n_upstreams;
	return 0;
}

/* Collect the read-only parts that the recording's sandbox made for
 * the run. The replay's sandbox makes them again, even where a step's
 * snapshot contains their first directory. */
static void made_parts(struct prepared *p, const struct replay_run *run)
{
	const cJSON *m;
	size_t n = 0;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(run->description,
						  "mounts")) {
		const char *covers = text_of(m, "covers");

		if (covers && text_of(m, "created") && n < MAX_LIST)
			p->made[n++] = covers;
	}
	p->config.make_parts = p->made;
	p->config.n_make_parts = n;
}

static int prepare(struct prepared *p, struct replay_run *run,
		   const struct replay_options *opts,
		   struct replay_outcome *out)
{
	struct record_config *c = &p->config;
	const cJSON *rec = run->record;
	const char *sandbox = text_of(rec, "sandbox");
	const cJSON *env;

	c->workspace = out->workspace;
	c->workspace_inside = text_of(rec, "workspace");
	c->model_script = text_of(rec, "model_script");
	c->no_sandbox = sandbox && strcmp(sandbox, "none") == 0;
	if (c->no_sandbox)
		c->workspace_inside = NULL;
	if (opts->output)
		snprintf(p->output, sizeof(p->output), "%s", opts->output);
	else
		snprintf(p->output, sizeof(p->output), "%s/replay.rb",
			 out->workdir);
	c->output = p->output;
	c->replaying = true;
	snprintf(p->label, sizeof(p->label), "replay=1");
	c->labels[c->n_labels++] = p->label;
	if (load_policy(p, run, out->workdir, opts->policy) < 0 ||
	    seed_home(p, run, out->workdir) < 0 ||
	    agent_env(run, opts, &env) < 0)
		return -1;
	c->policy = p->policy;
	if ((opts->argv ? 0 : build_argv(p, cJSON_GetObjectItem(rec, "argv"))) <
		    0 ||
	    build_env(p, env) < 0 ||
	    build_upstreams(p, cJSON_GetObjectItem(rec, "upstreams")) < 0)
		goto oom;
	if (opts->argv)
		c->argv = (char **)opts->argv;
	set_ids(p, run);
	set_inherited(p, run);
	made_parts(p, run);
	return gateway(p, run, opts);
oom:
	if (!replay_error()[0])
		replay_set_error("cannot prepare the replay: out of memory");
	return -1;
}

static void release(struct prepared *p)
{
	for (size_t i = 0; p->argv[i]; i++)
		free(p->argv[i]);
	for (size_t i = 0; p->env[i]; i++)
		free(p->env[i]);
	for (size_t i = 0; i < RECORD_MAX_UPSTREAMS; i++)
		free(p->upstreams[i]);
	free(p->exchanges);
	sandbox_policy_free(p->policy);
}

/*
 * The number of the signal that stopped the agent. record/'s handler
 * forwards a signal and counts it, and on_stop_signal(), put in front of
 * it while the agent runs, stores its number. record_trace_agent() puts
 * record/'s handler back when the agent has ended.
 */
static volatile sig_atomic_t last_signal;
static void (*record_handler)(int, siginfo_t *, void *);

static void on_stop_signal(int sig, siginfo_t *info, void *context)
{
	last_signal = sig;
	record_handler(sig, info, context);
}

static void catch_stop_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_sigaction = on_stop_signal,
			       .sa_flags = SA_SIGINFO}, old;

	sigemptyset(&sa.sa_mask);
	/* A signal that the caller ignored has no handler to wrap. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) < 0 ||
		    !(old.sa_flags & SA_SIGINFO) ||
		    old.sa_sigaction == on_stop_signal)
			continue;
		record_handler = old.sa_sigaction;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* The signal that cut the run short, or 0 when none came. */
static int stop_signal_of(const struct record_result *r)
{
	if (r->stop_signal)
		return r->stop_signal;
	if (!r->agent_interrupts)
		return 0;
	return last_signal ? last_signal : SIGINT;
}

/* Store why an interrupted replay is not compared. */
static int store_not_compared(struct record_session *s, int sig)
{
	char why[128];

	snprintf(why, sizeof(why), "interrupted by SIG%s before the replay "
		 "ended", sigabbrev_np(sig));
	return replay_store_not_compared(s, why);
}

/* The session as cmd_record.c drives it. A whole replay stores its
 * divergences in its bundle before the session finishes it. */
static int run_session(struct record_session *s, const struct record_config *c,
		       const struct replay_run *run, const char *dir,
		       struct replay_outcome *out)
{
	struct record_result result = {.end_us = record_now_us()};
	struct record_gateway *gw = NULL;
	struct bundle_id root;
	int rc;

	if (record_session_open(s, c) < 0 || record_gateway_new(s, &gw) < 0)
		return -1;
	catch_stop_signals();
	if (c->no_sandbox)
		rc = record_run_direct(s, gw, &result);
	else
		rc = record_run_sandbox(s, gw, &result);
	record_gateway_stop(gw);
	out->signal = stop_signal_of(&result);
	out->started = result.started;
	if (rc == 0 && run && out->signal &&
	    store_not_compared(s, out->signal)) {
		record_fail(s, replay_error(), NULL);
		rc = -1;
	} else if (rc == 0 && run && !out->signal &&
		   replay_store_divergences(s, run, result.exit_code, dir,
					    out) < 0) {
		record_fail(s, replay_error(), NULL);
		rc = -1;
	}
	if (rc == 0)
		rc = record_session_finish(s, &result, &root);
	if (rc == 0)
		record_note_wal(s->bundle, c->output);
	return rc;
}

/* The agent's stdout goes to stderr while it runs: stdout is the
 * report's. */
static int run_quietly(struct record_session *s, const struct record_config *c,
		       const struct replay_run *run, const char *dir,
		       struct replay_outcome *out)
{
	int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	int rc;

	fflush(stdout);
	if (saved >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	rc = run_session(s, c, run, dir, out);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (rc < 0) {
		replay_set_error("%s", s->failure);
		if (s->failure_hint[0])
			replay_set_hint("%s", s->failure_hint);
	}
	return rc;
}

int replay_session_run(struct replay_run *run,
		       const struct replay_options *opts,
		       struct replay_outcome *out)
{
	struct prepared *p = calloc(1, sizeof(*p));
	const struct bundle_id *start =
		opts->start ? opts->start : &run->initial;
	struct record_session session;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!p) {
		replay_set_error("cannot prepare the replay: out of memory");
		return -1;
	}
	if (!run->has_initial && !opts->start) {
		replay_set_error("cannot replay: '%s': the bundle has no "
				 "initial workspace snapshot",
				 run->path);
		free(p);
		return -1;
	}
	if (make_workdir(out) < 0)
		goto out;
	if (checkout(run, start, out->workspace) == 0 &&
	    replay_make_sockets(run, start, out->workspace) == 0 &&
	    replay_make_hidden(run, out->workspace) == 0 &&
	    restore_root_mode(run, start, out->workspace) == 0 &&
	    prepare(p, run, opts, out) == 0) {
		/* A re-run of one step is compared by repeat.c. */
		rc = run_quietly(&session, &p->config,
				 opts->argv ? NULL : run, out->workdir, out);
		record_session_close(&session);
	}
	if (rc == 0 && out->not_run) {
		replay_set_error("%s", out->why);
		replay_set_hint("install it at that path on this machine: a "
				"replay runs the recorded command in the "
				"recorded policy's sandbox, which binds that "
				"path from this host");
		rc = -1;
	}
	out->kept = opts->keep;
out:
	release(p);
	free(p);
	return rc;
}
