/*
 * cmd_inspect.c - "runbundle inspect": the summary of one run. The
 * summary is built as one JSON object, which --json prints and the
 * text output lays out, so both always show the same numbers (docs/inspect.md
 * has the schema).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "inspect/answer.h"
#include "inspect/commands.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"
#include "inspect/patch.h"
#include "inspect/summary.h"

static void print_model(const cJSON *model)
{
	const cJSON *row;
	char lat[32], unreadable[64] = "";
	double n_unreadable = inspect_json_num(model, "unreadable", 0);

	if (n_unreadable > 0)
		snprintf(unreadable, sizeof(unreadable), ", %.0f exchange%s "
			 "unreadable", n_unreadable,
			 n_unreadable == 1 ? "" : "s");
	printf("model calls %.0f, %.0f input and %.0f output tokens%s\n",
	       inspect_json_num(model, "calls", 0),
	       inspect_json_num(model, "input_tokens", 0),
	       inspect_json_num(model, "output_tokens", 0), unreadable);
	if (!cJSON_GetArraySize(cJSON_GetObjectItem(model, "by_endpoint")))
		return;
	printf("  %-28s %-16s %5s %7s %7s %9s\n", "ENDPOINT", "MODEL",
	       "CALLS", "IN", "OUT", "LATENCY");
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(model, "by_endpoint")) {
		char ep[64], name[64];

		out_trim(ep, sizeof(ep), inspect_json_str(row, "endpoint"),
			 28);
		out_trim(name, sizeof(name), inspect_json_str(row, "model"),
			 16);
		out_duration(lat, sizeof(lat),
			     inspect_json_num(row, "latency_us", -1));
		printf("  %-28s %-16s %5.0f %7.0f %7.0f %9s\n", ep,
		       name[0] ? name : "-", inspect_json_num(row, "calls", 0),
		       inspect_json_num(row, "input_tokens", 0),
		       inspect_json_num(row, "output_tokens", 0), lat);
	}
}

static void print_processes(const cJSON *p)
{
	const cJSON *row;
	char line[512] = "";
	size_t at = 0;

	printf("processes   %.0f, %.0f execs, %.0f failed execs, %.0f PATH "
	       "lookups\n",
	       inspect_json_num(p, "count", 0),
	       inspect_json_num(p, "execs", 0),
	       inspect_json_num(p, "failed_execs", 0),
	       inspect_json_num(p, "path_lookups", 0));
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(p, "top")) {
		at += (size_t)snprintf(line + at, sizeof(line) - at,
				       "%s%s %.0f", at ? ", " : "",
				       inspect_json_str(row, "command"),
				       inspect_json_num(row, "count", 0));
		if (at >= sizeof(line))
			break;
	}
	if (line[0])
		out_field("  top", 12, line);
}

/* "  unread    steps 0, 2: unreadable or changing entries, see runbundle
 * log": the steps whose snapshot misses entries, which gate fails. */
static void print_incomplete_steps(const cJSON *steps)
{
	const cJSON *step;
	const char *sep = "";
	int n = cJSON_GetArraySize(steps), shown = 0;

	if (n == 0)
		return;
	printf("  unread    step%s ", n == 1 ? "" : "s");
	cJSON_ArrayForEach(step, steps)
	{
		if (shown == 10) {
			printf(" and %d more", n - shown);
			break;
		}
		printf("%s%.0f", sep, cJSON_GetNumberValue(step));
		sep = ", ";
		shown++;
	}
	printf(": unreadable or changing entries, see runbundle log\n");
}

static void print_files(const cJSON *f)
{
	if (inspect_json_str(f, "error")) {
		out_fieldf("files", 12, "unreadable: %s",
			   inspect_json_str(f, "error"));
		return;
	}
	printf("files       %.0f changed: %.0f added, %.0f modified, %.0f "
	       "deleted, %.0f mode\n",
	       inspect_json_num(f, "changed", 0),
	       inspect_json_num(f, "added", 0),
	       inspect_json_num(f, "modified", 0),
	       inspect_json_num(f, "deleted", 0),
	       inspect_json_num(f, "mode", 0));
	/* record's summary and gate count these paths as changed too. */
	if (inspect_json_num(f, "not_files", 0) > 0)
		printf("  others    %.0f directories, fifos or other entries "
		       "changed\n", inspect_json_num(f, "not_files", 0));
	printf("  lines     +%.0f -%.0f%s\n",
	       inspect_json_num(f, "lines_added", 0),
	       inspect_json_num(f, "lines_removed", 0),
	       inspect_json_num(f, "binary", 0) > 0 ? ", binary files too" :
						       "");
}

static void print_violations(const cJSON *v, const struct out_style *st)
{
	const cJSON *row;
	int n = cJSON_GetArraySize(v);

	printf("violations  %s%d%s\n", n ? st->red : "", n, n ? st->reset : "");
	cJSON_ArrayForEach(row, v) {
		printf("%s", st->red);
		out_fieldf("  ", 2, "%s: %s", inspect_json_str(row, "source"),
			   inspect_json_str(row, "what"));
		printf("%s", st->reset);
	}
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static void print_sandbox(const cJSON *sb)
{
	const cJSON *ns;
	char line[512];
	size_t at = 0;

	if (inspect_json_str(sb, "error")) {
		out_fieldf("sandbox", 12, "unreadable: %s",
			   inspect_json_str(sb, "error"));
		return;
	}
	line[0] = '\0';
	cJSON_ArrayForEach(ns, cJSON_GetObjectItem(sb, "namespaces")) {
		if (cJSON_IsString(ns) && at < sizeof(line))
			at += (size_t)snprintf(line + at, sizeof(line) - at,
					       "%s%s", at ? " " : "",
					       ns->valuestring);
	}
	if (!inspect_json_str(sb, "mode")) {
		out_field("sandbox", 12, "none recorded");
		return;
	}
	out_field("sandbox", 12, inspect_json_str(sb, "mode"));
	out_field("  ns", 12, line[0] ? line : "none");
	snprintf(line, sizeof(line), "Landlock ABI %.0f, %.0f seccomp rules",
		 inspect_json_num(sb, "landlock_abi", 0),
		 inspect_json_num(sb, "seccomp_rules", 0));
	out_field("  limits", 12, line);
}

static void print_machine(const cJSON *fp)
{
	char line[512];

	if (inspect_json_str(fp, "error")) {
		out_fieldf("machine", 12, "unreadable: %s",
			   inspect_json_str(fp, "error"));
		return;
	}
	out_field("machine", 12, or_dash(inspect_json_str(fp, "os")));
	snprintf(line, sizeof(line), "Linux %s %s, glibc %s",
		 or_dash(inspect_json_str(fp, "kernel")),
		 or_dash(inspect_json_str(fp, "arch")),
		 or_dash(inspect_json_str(fp, "libc")));
	out_field("  kernel", 12, line);
	snprintf(line, sizeof(line), "%.0f x %s, host %s",
		 inspect_json_num(fp, "cpus", 0),
		 or_dash(inspect_json_str(fp, "cpu")),
		 or_dash(inspect_json_str(fp, "hostname")));
	out_field("  cpu", 12, line);
}

static void print_labels(const cJSON *labels)
{
	const cJSON *l;
	char buf[512] = "";
	size_t at = 0;

	cJSON_ArrayForEach(l, labels) {
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s=%s",
				       at ? " " : "", l->string,
				       cJSON_IsString(l) ? l->valuestring : "");
		if (at >= sizeof(buf))
			break;
	}
	out_field("labels", 12, buf[0] ? buf : "-");
}

/* One line: intact, damaged with the count, or incomplete, in red on a
 * terminal when runbundle verify would fail. */
static void print_verify(const cJSON *v, const char *path,
			 const struct out_style *st)
{
	double n = inspect_json_num(v, "n_problems", 0);
	double events = inspect_json_num(v, "verified_events", 0);
	int ok = cJSON_IsTrue(cJSON_GetObjectItem(v, "ok"));
	char name[512];

	if (cJSON_IsTrue(cJSON_GetObjectItem(v, "damaged"))) {
		printf("%-12s%sdamaged: %.0f problem%s, which runbundle "
		       "verify lists%s\n", "verify", st->red, n,
		       n == 1 ? "" : "s", st->reset);
	} else if (!cJSON_IsTrue(cJSON_GetObjectItem(v, "incomplete"))) {
		printf("%-12s%sintact%s\n", "verify", st->green, st->reset);
	} else if (events == 0 &&
		   cJSON_IsTrue(cJSON_GetObjectItem(v, "wal_missing"))) {
		cli_sanitize(name, sizeof(name), path);
		printf("%-12s%sincomplete: no events, and its committed events "
		       "may be in the missing '%s-wal'%s\n", "verify", st->red,
		       name, st->reset);
	} else if (events == 0) {
		/* An empty range "events 1 to 0" reads like a miscount. */
		printf("%-12s%sincomplete: not finalized, and no events%s\n",
		       "verify", ok ? st->yellow : st->red, st->reset);
	} else {
		printf("%-12s%sincomplete: not finalized, events 1 to %.0f are "
		       "intact%s\n", "verify", ok ? st->yellow : st->red,
		       events, st->reset);
	}
}

/* "timed out after 2.03 s (policy limit 2 s), killed by SIGKILL": the
 * sandbox's init kills every process when the policy's wall-clock limit
 * expires, so the signal alone would read as an ordinary kill. */
static void timed_out_text(char *buf, size_t len, const cJSON *run,
			   const cJSON *sandbox)
{
	double limit = inspect_json_num(sandbox, "timeout_seconds", 0);
	char dur[32], lim[48] = "";

	out_duration(dur, sizeof(dur), inspect_json_num(run, "duration_us",
							-1));
	if (limit > 0)
		snprintf(lim, sizeof(lim), " %.0f s", limit);
	snprintf(buf, len, "timed out after %s (policy limit%s)%s%s", dur,
		 lim, inspect_json_str(run, "signal") ? ", killed by SIG" : "",
		 inspect_json_str(run, "signal") ?
			 inspect_json_str(run, "signal") : "");
}

static void print_text(const cJSON *s)
{
	const cJSON *run = cJSON_GetObjectItem(s, "run");
	const char *state = inspect_json_str(s, "state");
	struct out_style st;
	char buf[160];
	double code = inspect_json_num(run, "exit_code", -1);

	out_style_init(&st);
	out_field("bundle", 12, inspect_json_str(s, "bundle"));
	printf("%-12s%s%s%s\n", "state",
	       strcmp(state, "finalized") == 0 ? st.green : st.yellow, state,
	       st.reset);
	print_verify(cJSON_GetObjectItem(s, "verify"),
		     inspect_json_str(s, "bundle"), &st);
	out_field("root", 12, inspect_json_str(s, "root") ?
				      inspect_json_str(s, "root") : "-");
	print_labels(cJSON_GetObjectItem(run, "labels"));
	out_field("command", 12, inspect_json_str(run, "command"));
	out_field("workspace", 12, inspect_json_str(run, "workspace"));
	out_field("started", 12, inspect_json_str(run, "started"));
	out_field("ended", 12, inspect_json_str(run, "ended"));
	out_duration(buf, sizeof(buf), inspect_json_num(run, "duration_us",
							-1));
	out_field("duration", 12, buf);
	if (inspect_json_str(run, "stopped_before_start"))
		snprintf(buf, sizeof(buf), "none: stopped by SIG%s before "
			 "the agent started",
			 inspect_json_str(run, "stopped_before_start"));
	else if (inspect_json_bool(run, "timed_out", 0))
		timed_out_text(buf, sizeof(buf), run,
			       cJSON_GetObjectItem(s, "sandbox"));
	else if (inspect_json_str(run, "signal"))
		snprintf(buf, sizeof(buf), "killed by SIG%s",
			 inspect_json_str(run, "signal"));
	else if (code >= 0)
		snprintf(buf, sizeof(buf), "%.0f", code);
	else
		snprintf(buf, sizeof(buf), "unknown");
	out_field("exit", 12, buf);
	print_model(cJSON_GetObjectItem(s, "model"));
	print_processes(cJSON_GetObjectItem(s, "processes"));
	print_files(cJSON_GetObjectItem(s, "files"));
	print_incomplete_steps(cJSON_GetObjectItem(
		cJSON_GetObjectItem(s, "files"), "incomplete_steps"));
	print_violations(cJSON_GetObjectItem(s, "violations"), &st);
	print_sandbox(cJSON_GetObjectItem(s, "sandbox"));
	print_machine(cJSON_GetObjectItem(s, "fingerprint"));
}

/* The summary with runbundle verify's result as "verify", or NULL after
 * storing the error. b->wal_missing is checked before the bundle is
 * opened. */
static cJSON *build_summary(const char *path, struct inspect_bundle_state *b,
			    int flags, int *ok)
{
	struct inspect_view view;
	cJSON *summary;

	if (inspect_view_open(&view, path) < 0)
		return NULL;
	inspect_bundle_state_set(b, &view, b->wal_missing);
	summary = inspect_summary(&view, path);
	b->changed_while_read = bundle_read_changed(view.bundle);
	inspect_view_close(&view);
	if (!summary)
		return NULL;
	*ok = inspect_summary_verify(summary, path, b, flags);
	if (*ok < 0) {
		cJSON_Delete(summary);
		return NULL;
	}
	return summary;
}

/* Print on stderr, after the summary, the parts that could not be read
 * (the summary's "errors"), as log does for its exchanges. Returns the
 * number of parts. */
static size_t warn_unreadable(const cJSON *errors, double total,
			      const char *path, int changed_while_read)
{
	size_t listed = 0;
	const cJSON *e;

	if (total < 1)
		return 0;
	fflush(stdout);
	cJSON_ArrayForEach(e, errors) {
		if (listed == INSPECT_INTEGRITY_LISTED)
			break;
		cli_error("cannot read part of the bundle: '%s': %s", path,
			  cJSON_GetStringValue(e));
		listed++;
	}
	if (total > listed)
		cli_error("cannot read part of the bundle: '%s': %.0f more "
			  "parts", path, total - (double)listed);
	if (changed_while_read)
		cli_hint("another process wrote the bundle while it was "
			 "read: run the command again once it is done");
	else
		cli_hint("runbundle verify %s", path);
	return (size_t)total;
}

/* Count the parts of the summary that could not be read: the exchanges,
 * the diff of the files, the sandbox's description and the fingerprint. */
static double count_unreadable(const cJSON *summary)
{
	static const char *const parts[] = { "files", "sandbox",
					     "fingerprint" };
	double n = inspect_json_num(cJSON_GetObjectItem(summary, "model"),
				    "unreadable", 0);

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (inspect_json_str(cJSON_GetObjectItem(summary, parts[i]),
				     "error"))
			n++;
	}
	return n;
}

int cmd_inspect(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "allow-incomplete", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_bundle_state state = {0};
	cJSON *summary, *errors;
	const char *path;
	double unreadable;
	int c, json = 0, flags = 0, rc = 0, ok = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'a')
			flags |= INSPECT_CHECK_ALLOW_INCOMPLETE;
		else
			return cli_option_error(self, c, argv);
	}
	if ((rc = cli_one_bundle(self, argc, argv, optind)) != 0)
		return rc;
	path = argv[optind];
	/* Before the bundle is opened, which may create an empty -wal. */
	state.wal_missing = inspect_wal_missing(path);
	summary = build_summary(path, &state, flags, &ok);
	if (!summary)
		return out_fail();
	/* Kept apart, because printing the JSON frees the summary. */
	errors = cJSON_DetachItemFromObject(summary, "errors");
	unreadable = count_unreadable(summary);
	cJSON_AddItemToObject(summary, "errors",
			      cJSON_Duplicate(errors, 1));
	if (json) {
		rc = out_json(summary);
	} else {
		print_text(summary);
		cJSON_Delete(summary);
	}
	if (rc == 0 &&
	    warn_unreadable(errors, unreadable, path, state.changed_while_read))
		ok = 0;
	cJSON_Delete(errors);
	if (rc)
		return rc;
	inspect_incomplete_warn(&state, path, flags,
				"pass --allow-incomplete to accept an intact "
				"prefix of an unfinalized bundle");
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
