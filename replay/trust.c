/*
 * trust.c - the checks of a bundle before a replay or a comparison uses
 * it (trust.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/error.h"
#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/integrity.h"
#include "record/record_gateway.h"
#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "replay/trust.h"

/*
 * Accept an unfinalized bundle only with allow_incomplete, and never
 * one that has no event while its -wal is missing. Until a bundle is
 * finalized, its committed events can be in that file, so a copy made
 * without it can lack all of them.
 */
static int check_finalized(const char *path,
			   const struct bundle_verify_report *vr,
			   bool wal_missing, bool allow_incomplete)
{
	if (vr->finalized)
		return CLI_EXIT_OK;
	if (wal_missing && (!allow_incomplete || vr->n_events == 0))
		inspect_wal_warn(path);
	if (wal_missing && vr->n_events == 0)
		return CLI_EXIT_ERROR;
	if (!allow_incomplete) {
		cli_error("the bundle is incomplete: '%s': it was not "
			  "finalized, so its run has no end to compare "
			  "with", path);
		cli_hint("pass --allow-incomplete to use it all the same, "
			 "or check it first with 'runbundle verify "
			 "--allow-incomplete %s'", path);
		return CLI_EXIT_ERROR;
	}
	fprintf(stderr, "note: '%s' was not finalized: its run has no end, so "
			"its last step is compared as far as it goes\n",
		path);
	return CLI_EXIT_OK;
}

int replay_check_intact(const char *path, bool allow_incomplete)
{
	/* Before the bundle is opened, which may create an empty -wal. */
	bool wal_missing = inspect_wal_missing(path);
	struct bundle_verify_report vr;
	size_t n;
	int rc;

	if (bundle_verify(path, &vr) < 0)
		return cli_error_from(bundle_error(), bundle_error_hint());
	n = vr.n_problems;
	rc = n ? CLI_EXIT_ERROR
	       : check_finalized(path, &vr, wal_missing, allow_incomplete);
	bundle_verify_release(&vr);
	if (n == 0)
		return rc;
	cli_error("the bundle is damaged: '%s': %zu problem%s", path, n,
		  n == 1 ? "" : "s");
	cli_hint("'runbundle verify %s' lists them; use an intact copy of "
		 "the bundle", path);
	return CLI_EXIT_ERROR;
}

int replay_check_sandbox(const struct replay_run *run, bool no_sandbox)
{
	const char *mode = cJSON_GetStringValue(
		cJSON_GetObjectItem(run->record, "sandbox"));
	bool recorded_none = mode && strcmp(mode, "none") == 0;

	if (recorded_none == no_sandbox)
		return CLI_EXIT_OK;
	if (no_sandbox) {
		cli_error("cannot replay without a sandbox: '%s': the run was "
			  "recorded in the sandbox, and a replay runs it in "
			  "the recorded one", run->path);
		cli_hint("drop --sandbox none");
		return CLI_EXIT_USAGE;
	}
	cli_error("cannot replay without a sandbox: '%s': the run was "
		  "recorded with --sandbox none, so its replay would run the "
		  "recorded command on this host as you, with your files and "
		  "network", run->path);
	cli_hint("read what it runs with 'runbundle log %s', then replay "
		 "with --sandbox none if you trust whoever recorded it",
		 run->path);
	return CLI_EXIT_USAGE;
}

/* The command line's upstream named name, or NULL. */
static const char *find_upstream(const char *const *upstreams, size_t n,
				 const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (strncmp(upstreams[i], name, len) == 0 &&
		    upstreams[i][len] == '=')
			return upstreams[i];
	}
	return NULL;
}

static int reject_upstream(const char *pair, const char *why,
			   const char *hint)
{
	cli_error("cannot forward to an upstream: '%s': %s", pair, why);
	if (hint)
		cli_hint("%s", hint);
	return CLI_EXIT_USAGE;
}

/* Each command-line upstream names a recorded one, once. */
static int check_names(const cJSON *recorded, const char *const *upstreams,
		       size_t n)
{
	char name[128];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%.*s",
			 (int)strcspn(upstreams[i], "="), upstreams[i]);
		if (!cJSON_GetObjectItem(recorded, name))
			return reject_upstream(upstreams[i], "the recording "
					       "has no upstream of that name",
					       "name only the upstreams of the "
					       "record event, which 'runbundle "
					       "show BUNDLE 1' prints");
		if (find_upstream(upstreams, i, name))
			return reject_upstream(upstreams[i], "it is given "
					       "twice", NULL);
	}
	return CLI_EXIT_OK;
}

/* Print the URL that receives the key, before the replay starts. */
static void note_forward(const char *pair)
{
	char key[160];

	record_gateway_key_name(key, sizeof(key), pair);
	fprintf(stderr, "note: a request that matches no recording goes to "
			"upstream '%.*s' at '%s', %s %s\n",
		(int)strcspn(pair, "="), pair, strchr(pair, '=') + 1,
		getenv(key) ? "with the key in" : "without a key, since "
		"this environment has no", key);
}

int replay_check_upstreams(const struct replay_run *run,
			   const char *const *upstreams, size_t n)
{
	const cJSON *recorded = cJSON_GetObjectItem(run->record, "upstreams");
	const cJSON *u;
	char pair[4096], hint[256];
	int rc = check_names(recorded, upstreams, n);

	if (rc)
		return rc;
	cJSON_ArrayForEach(u, recorded) {
		const char *url = cJSON_GetStringValue(u);

		if (find_upstream(upstreams, n, u->string))
			continue;
		snprintf(pair, sizeof(pair), "%s=%s", u->string,
			 url ? url : "");
		record_gateway_key_name(hint, sizeof(hint), pair);
		cli_error("cannot forward to an upstream of the bundle: '%s': "
			  "forwarding sends the key in %s from this "
			  "environment there, and whoever recorded the "
			  "bundle chose that URL", pair, hint);
		cli_hint("name the upstream yourself with --upstream %s=URL, "
			 "and give the recorded URL only if you trust it",
			 u->string);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		note_forward(upstreams[i]);
	return CLI_EXIT_OK;
}

/* The lines that list what the recorded policy adds, whole: the
 * replayer reads them to decide whether to trust the bundle. */
struct widening {
	FILE *out;		/* writes text while collect() runs */
	char *text;
	size_t len;
	bool failed;		/* out of memory: the list is incomplete */
	size_t lines;
	size_t host_lines;	/* of them, those that show the agent more
				 * of this host: paths, the network, user
				 * namespaces */
};

/* Append fmt with arg, whose control characters become '?': the
 * bundle's author wrote the policy, and the text goes to a terminal. */
static void add_text(struct widening *w, const char *fmt, const char *arg)
{
	size_t n = strlen(arg) + 1;
	char *clean = malloc(n);

	if (!clean) {
		w->failed = true;
		return;
	}
	cli_sanitize(clean, n, arg);
	if (fprintf(w->out, fmt, clean) < 0)
		w->failed = true;
	free(clean);
}

static bool listed(const struct sandbox_strings *list, const char *item)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i], item) == 0)
			return true;
	}
	return false;
}

/* Add one line for the items of list that base lacks, if any. Returns
 * the number of lines added. */
static size_t add_extra(struct widening *w, const char *key,
			const struct sandbox_strings *list,
			const struct sandbox_strings *base, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < list->count; i++) {
		if (listed(base, list->items[i]))
			continue;
		if (n++ == 0)
			add_text(w, "  %s: ", key);
		else
			add_text(w, "%s", ", ");
		add_text(w, "'%s'", list->items[i]);
	}
	if (!n)
		return 0;
	add_text(w, " (%s)\n", why);
	w->lines++;
	return 1;
}

/* Add the lines for what policy grants beyond base. */
static void add_widening(struct widening *w, const struct replay_run *run,
			 const struct sandbox_policy *policy,
			 const struct sandbox_policy *base)
{
	w->host_lines += add_extra(w, "filesystem.read_only",
				   &policy->read_only, &base->read_only,
				   "host paths that the agent can read");
	w->host_lines += add_extra(w, "filesystem.hidden lacks",
				   &base->hidden, &policy->hidden,
				   "paths that the default policy hides");
	if (policy->home_seed) {
		add_text(w, "  home.seed: '%s' ", policy->home_seed);
		add_text(w, "%s\n", run->has_home
			 ? "(HOME starts as the bundle's copy of it)"
			 : "(not copied: the bundle has no copy of it, and a "
			   "replay never reads it from this host)");
		w->lines++;
	}
	w->host_lines += add_extra(w, "network.allow", &policy->network_allow,
				   &base->network_allow,
				   "destinations that the agent can reach "
				   "through the proxy");
	if (policy->allow_nested_userns) {
		add_text(w, "  %s\n", "nested_userns: true (the agent can "
			 "create user namespaces)");
		w->lines++;
		w->host_lines++;
	}
	add_extra(w, "env.pass", &policy->env_pass, &base->env_pass,
		  "variables that the agent gets from the recorded "
		  "environment");
}

/* Write the lines of what policy grants beyond base into w->text.
 * Returns 0, or -1 when memory ran out. */
static int collect(struct widening *w, const struct replay_run *run,
		   const struct sandbox_policy *policy,
		   const struct sandbox_policy *base)
{
	w->out = open_memstream(&w->text, &w->len);
	if (!w->out)
		return -1;
	add_widening(w, run, policy, base);
	if (fclose(w->out) != 0)
		w->failed = true;
	w->out = NULL;
	return w->failed ? -1 : 0;
}

/*
 * Print what the recorded policy adds. Without trusted, reject a policy
 * that shows the agent more of this host, as a recording without the
 * sandbox is rejected. The bundle's author chose those paths and hosts,
 * and a note scrolls past before the replayer can read it.
 */
static int judge(const struct replay_run *run, const struct widening *w,
		 bool trusted)
{
	if (!w->lines)
		return CLI_EXIT_OK;
	if (trusted || !w->host_lines) {
		fprintf(stderr, "note: the recorded policy grants more than "
				"runbundle's default policy, and the replay "
				"runs the recorded command under it:\n%s",
			w->text);
		return CLI_EXIT_OK;
	}
	cli_error("cannot replay under the recorded policy: '%s': it shows "
		  "the agent more of this host than runbundle's default "
		  "policy:", run->path);
	fputs(w->text, stderr);
	cli_hint("read the list, then replay with --trust-policy if you "
		 "trust whoever recorded the bundle, or under a policy of "
		 "your own with --policy FILE ('{\"version\": 1}' is the "
		 "default)");
	return CLI_EXIT_USAGE;
}

int replay_note_policy(const struct replay_run *run, bool trusted)
{
	const cJSON *recorded = cJSON_GetObjectItem(run->fingerprint,
						    "policy");
	const char *text = cJSON_GetStringValue(
		cJSON_GetObjectItem(recorded, "content"));
	struct sandbox_policy *policy, *base;
	struct widening *w;
	int rc = CLI_EXIT_OK;

	/* A recording without a policy file ran under the default. */
	if (!text)
		return CLI_EXIT_OK;
	policy = sandbox_policy_parse_recorded(text, strlen(text), run->path);
	if (!policy)
		return cli_error_from(sandbox_error(), NULL);
	base = sandbox_policy_default();
	w = calloc(1, sizeof(*w));
	if (!base || !w || collect(w, run, policy, base) < 0)
		rc = cli_error_from("cannot compare the recorded policy with "
				    "the default: out of memory", NULL);
	else
		rc = judge(run, w, trusted);
	if (w)
		free(w->text);
	free(w);
	sandbox_policy_free(base);
	sandbox_policy_free(policy);
	return rc;
}
