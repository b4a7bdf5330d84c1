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
	char lat[32];

	printf("model calls %d, %.0f input and %.0f output tokens\n",
	       (int)inspect_json_num(model, "calls", 0),
	       inspect_json_num(model, "input_tokens", 0),
	       inspect_json_num(model, "output_tokens", 0));
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
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s %.0f",
				       at ? ", " : "",
				       inspect_json_str(row, "command"),
				       inspect_json_num(row, "count", 0));
		if (at >= sizeof(line))
			break;
	}
	if (line[0])
		out_field("  top", 12, line);
}

static void print_files(const cJSON *f)
{
	printf("files       %.0f changed: %.0f added, %.0f modified, %.0f "
	       "deleted, %.0f mode\n",
	       inspect_json_num(f, "changed", 0),
	       inspect_json_num(f, "added", 0),
	       inspect_json_num(f, "modified", 0),
	       inspect_json_num(f, "deleted", 0),
	       inspect_json_num(f, "mode", 0));
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

/* One line: intact, or damaged with the count, in red on a terminal. */
static void print_verify(const cJSON *v, const struct out_style *st)
{
	double n = inspect_json_num(v, "n_problems", 0);

	if (!cJSON_IsTrue(cJSON_GetObjectItem(v, "damaged"))) {
		printf("%-12s%sintact%s\n", "verify", st->green, st->reset);
		return;
	}
	printf("%-12s%sdamaged: %.0f problem%s, which runbundle verify "
	       "lists%s\n", "verify", st->red, n, n == 1 ? "" : "s",
	       st->reset);
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
	print_verify(cJSON_GetObjectItem(s, "verify"), &st);
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
	print_violations(cJSON_GetObjectItem(s, "violations"), &st);
	print_sandbox(cJSON_GetObjectItem(s, "sandbox"));
	print_machine(cJSON_GetObjectItem(s, "fingerprint"));
}

int cmd_inspect(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_view view;
	cJSON *summary, *verify;
	int c, json = 0, rc, damaged, wal_missing;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(self, "unknown option: '%s'",
					       argv[optind - 1]);
		json = 1;
	}
	if (argc - optind != 1)
		return cli_usage_error(self, "expected one BUNDLE");
	/* Before the bundle is opened, which may create an empty -wal. */
	wal_missing = inspect_wal_missing(argv[optind]);
	rc = out_open(&view, argv[optind]);
	if (rc)
		return rc;
	wal_missing = wal_missing && !view.finalized;
	summary = inspect_summary(&view, argv[optind]);
	inspect_view_close(&view);
	if (!summary)
		return out_fail();
	verify = inspect_verify_json(argv[optind]);
	if (!verify) {
		cJSON_Delete(summary);
		return out_fail();
	}
	damaged = cJSON_IsTrue(cJSON_GetObjectItem(verify, "damaged"));
	cJSON_AddItemToObject(summary, "verify", verify);
	cJSON_AddBoolToObject(summary, "wal_missing", wal_missing);
	if (json) {
		rc = out_json(summary);
	} else {
		print_text(summary);
		cJSON_Delete(summary);
	}
	if (rc)
		return rc;
	if (wal_missing) {
		fflush(stdout);
		inspect_wal_warn(argv[optind]);
	}
	return damaged ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
