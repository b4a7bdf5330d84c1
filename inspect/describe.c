/*
 * describe.c - one-line descriptions of events, by kind (the kinds of
 * docs/record.md and docs/bundle-format.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/describe.h"
#include "inspect/output.h"

static const char *str(const cJSON *d, const char *name)
{
	const char *s = inspect_json_str(d, name);

	return s ? s : "?";
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static char *exec_line(const cJSON *d)
{
	const cJSON *argv = cJSON_GetObjectItem(d, "argv");
	char *words, *s;

	if (inspect_json_str(d, "error"))
		return fmt("[%.0f] %s %s", inspect_json_num(d, "index", -1),
			   str(d, "error"), str(d, "path"));
	words = argv ? out_argv(argv) : strdup(str(d, "path"));
	if (!words)
		return NULL;
	s = fmt("[%.0f] %s", inspect_json_num(d, "index", -1), words);
	free(words);
	return s;
}

/* Write the exit status of d as text: "?" when it has none that wait(2)
 * could have reported. */
static void exit_code_text(char *buf, size_t len, const cJSON *d)
{
	int code = inspect_json_exit_code(d);

	if (code >= 0)
		snprintf(buf, len, "%d", code);
	else
		snprintf(buf, len, "?");
}

static char *end_line(const cJSON *d)
{
	char code[16];

	if (inspect_json_str(d, "signal"))
		return fmt("[%.0f] pid %.0f %s by SIG%s",
			   inspect_json_num(d, "index", -1),
			   inspect_json_num(d, "ns_pid", -1), str(d, "end"),
			   str(d, "signal"));
	exit_code_text(code, sizeof(code), d);
	return fmt("[%.0f] pid %.0f %s %s", inspect_json_num(d, "index", -1),
		   inspect_json_num(d, "ns_pid", -1), str(d, "end"), code);
}

static char *exchange_line(const cJSON *d)
{
	const char *outcome = str(d, "outcome");
	/* A path that is not UTF-8 is stored as {"base64": ...}. */
	char *path = out_arg_text(cJSON_GetObjectItem(d, "path"));
	char dur[32], *line;

	if (!path)
		return NULL;
	out_duration(dur, sizeof(dur), inspect_json_num(d, "duration_us", -1));
	line = fmt("%.0f %s %s %s %.0f%s%s, %s",
		   inspect_json_num(d, "seq", -1), str(d, "upstream"),
		   str(d, "method"), path, inspect_json_num(d, "status", 0),
		   strcmp(outcome, "complete") == 0 ? "" : " ",
		   strcmp(outcome, "complete") == 0 ? "" : outcome, dur);
	free(path);
	return line;
}

static char *workspace_line(const cJSON *d)
{
	const cJSON *c = cJSON_GetObjectItem(d, "changes");

	return fmt("%s, snapshot %.0f: %.0f added, %.0f modified, %.0f "
		   "deleted, %.0f mode", str(d, "at"),
		   inspect_json_num(d, "snapshot", -1),
		   inspect_json_num(c, "added", 0),
		   inspect_json_num(c, "modified", 0),
		   inspect_json_num(c, "deleted", 0),
		   inspect_json_num(c, "mode", 0));
}

static char *output_line(const cJSON *d)
{
	const cJSON *chunk;
	double bytes = 0;

	cJSON_ArrayForEach(chunk, cJSON_GetObjectItem(d, "chunks"))
		bytes += cJSON_IsNumber(cJSON_GetArrayItem(chunk, 1)) ?
				 cJSON_GetArrayItem(chunk, 1)->valuedouble :
				 0;
	return fmt("%s, %.0f bytes", str(d, "stream"), bytes);
}

/* A divergence that a replay stored: a request that matched no
 * recording (no "source"), a step of the comparison, or the output. */
static char *divergence_line(const cJSON *d)
{
	const char *source = inspect_json_str(d, "source");
	const cJSON *streams = cJSON_GetObjectItem(d, "streams");
	const char *stream =
		cJSON_GetStringValue(cJSON_GetArrayItem(streams, 0));

	if (!source)
		return fmt("request %.0f: %s %s matched no recording",
			   inspect_json_num(d, "step", 0), str(d, "method"),
			   str(d, "path"));
	if (strcmp(source, "output") == 0)
		return fmt("the agent's %s differ%s from the recording's",
			   cJSON_GetArraySize(streams) == 2
				   ? "stdout and stderr"
				   : stream ? stream : "?",
			   cJSON_GetArraySize(streams) == 2 ? "" : "s");
	if (strcmp(str(d, "verdict"), "unknown") == 0)
		return fmt("not compared: %s", str(d, "error"));
	if (inspect_json_bool(d, "final", 0))
		return fmt("the final state diverged%s",
			   inspect_json_bool(d, "first", 0) ? ", first" : "");
	return fmt("step %.0f diverged%s", inspect_json_num(d, "step", 0),
		   inspect_json_bool(d, "first", 0) ? ", first" : "");
}

static char *end_event_line(const cJSON *d)
{
	int timed_out = inspect_json_bool(d, "timed_out", 0);
	char dur[32], code[16];

	out_duration(dur, sizeof(dur), inspect_json_num(d, "duration_us", -1));
	exit_code_text(code, sizeof(code), d);
	/* A recording stopped before the agent started has no agent
	 * status, whatever exit code the recorder chose for itself. */
	if (cJSON_IsFalse(cJSON_GetObjectItem(d, "started")))
		return fmt("stopped by SIG%s before the agent started, "
			   "after %s",
			   inspect_json_str(d, "stopped_by")
				   ? str(d, "stopped_by")
				   : "?",
			   dur);
	/* The sandbox's init kills every process with SIGKILL when the
	 * policy's wall-clock limit expires: not an ordinary kill. */
	if (timed_out && inspect_json_str(d, "signal"))
		return fmt("agent timed out after %s (policy limit)", dur);
	if (timed_out)
		return fmt("agent timed out after %s (policy limit), exited "
			   "%s", dur, code);
	if (inspect_json_str(d, "signal"))
		return fmt("agent killed by SIG%s after %s", str(d, "signal"),
			   dur);
	return fmt("agent exited %s after %s", code, dur);
}

/*
 * Write "host:port", or "[host]:port" for an IPv6 address so that its
 * colons do not run into the port's. The proxy stores an IPv6 literal in
 * its brackets already, and a connect report stores it bare. Port 0
 * marks a request without a host and port: a proxy's plain HTTP request
 * or malformed target, whose text is then the host. A proxy request cut
 * off before its target has neither.
 */
static void host_port(char *buf, size_t len, const char *host, double port)
{
	if (port == 0 && !*host)
		snprintf(buf, len, "(no target)");
	else if (port == 0)
		snprintf(buf, len, "%s", host);
	else if (strchr(host, ':') && host[0] != '[')
		snprintf(buf, len, "[%s]:%.0f", host, port);
	else
		snprintf(buf, len, "%s:%.0f", host, port);
}

void inspect_violation_target(char *buf, size_t len, const cJSON *d)
{
	const char *source = str(d, "source");
	const char *family = str(d, "family");

	if (strcmp(source, "exec") == 0)
		snprintf(buf, len, "%s", str(d, "command"));
	else if (strcmp(source, "seccomp") == 0)
		snprintf(buf, len, "%s", str(d, "syscall"));
	else if (strcmp(source, "write") == 0 || strcmp(source, "git") == 0)
		snprintf(buf, len, "%s", str(d, "path"));
	else if (strcmp(source, "proxy") == 0)
		host_port(buf, len, str(d, "host"),
			  inspect_json_num(d, "port", 0));
	else if (strcmp(source, "network") == 0 && strcmp(family, "unix"))
		host_port(buf, len, str(d, "address"),
			  inspect_json_num(d, "port", 0));
	else if (strcmp(source, "network") == 0)
		snprintf(buf, len, "%s", str(d, "address"));
	else if (strcmp(source, "limit") == 0)
		snprintf(buf, len, "%s", str(d, "limit"));
	else
		snprintf(buf, len, "%s", source);
}

char *inspect_violation_text(const cJSON *d)
{
	const char *source = str(d, "source");
	char target[600];

	inspect_violation_target(target, sizeof(target), d);
	if (strcmp(source, "exec") == 0 && inspect_json_str(d, "reason"))
		return fmt("exec of '%s' denied: %s", target, str(d, "reason"));
	if (strcmp(source, "exec") == 0)
		return fmt("exec of '%s' denied", target);
	if (strcmp(source, "seccomp") == 0)
		return fmt("system call %s denied", target);
	if (strcmp(source, "write") == 0)
		return fmt("write to '%s' denied (%s)", target,
			   str(d, "syscall"));
	if (strcmp(source, "git") == 0)
		return fmt("'%s' %s in the workspace's git directory: %s",
			   target, str(d, "change"), str(d, "reason"));
	if (strcmp(source, "proxy") == 0)
		return fmt("connection to %s refused: %s", target,
			   str(d, "reason"));
	if (strcmp(source, "network") == 0)
		return fmt("%s to %s denied%s", str(d, "syscall"), target,
			   strcmp(str(d, "family"), "unix") ? "" :
							      " (unix socket)");
	if (strcmp(source, "limit") == 0 && inspect_json_str(d, "signal"))
		return fmt("limits.%s (%.0f) reached: process [%.0f] killed "
			   "by SIG%s", target, inspect_json_num(d, "value", 0),
			   inspect_json_num(d, "index", -1),
			   str(d, "signal"));
	if (strcmp(source, "limit") == 0 && inspect_json_num(d, "killed", 0)) {
		double killed = inspect_json_num(d, "killed", 0);

		return fmt("limits.%s (%.0f) reached: %.0f process%s killed "
			   "by the OOM killer", target,
			   inspect_json_num(d, "value", 0), killed,
			   killed == 1 ? "" : "es");
	}
	if (strcmp(source, "limit") == 0) {
		double refused = inspect_json_num(d, "refused", 0);

		return fmt("limits.%s (%.0f) reached: %.0f fork%s refused",
			   target, inspect_json_num(d, "value", 0), refused,
			   refused == 1 ? "" : "s");
	}
	return fmt("%s", "unknown violation");
}

char *inspect_describe(const struct inspect_event *ev)
{
	const cJSON *d = ev->data;
	const char *k = ev->kind;

	if (strcmp(k, "record") == 0) {
		const cJSON *argv = cJSON_GetObjectItem(d, "argv");

		return argv ? out_argv(argv) : strdup("");
	}
	if (strcmp(k, "exec") == 0)
		return exec_line(d);
	if (strcmp(k, "process-start") == 0 &&
	    inspect_json_num(d, "parent", -1) < 0)
		return fmt("[%.0f] pid %.0f, the agent",
			   inspect_json_num(d, "index", -1),
			   inspect_json_num(d, "ns_pid", -1));
	if (strcmp(k, "process-start") == 0)
		return fmt("[%.0f] pid %.0f, child of [%.0f]",
			   inspect_json_num(d, "index", -1),
			   inspect_json_num(d, "ns_pid", -1),
			   inspect_json_num(d, "parent", -1));
	if (strcmp(k, "process-end") == 0)
		return end_line(d);
	if (strcmp(k, "exchange") == 0)
		return exchange_line(d);
	if (strcmp(k, "workspace") == 0 || strcmp(k, "home") == 0)
		return workspace_line(d);
	if (strcmp(k, "snapshot") == 0)
		return fmt("%.12s, %.0f file%s, %.0f bytes%s", str(d, "root"),
			   inspect_json_num(d, "files", 0),
			   inspect_json_num(d, "files", 0) == 1 ? "" : "s",
			   inspect_json_num(d, "bytes", 0),
			   inspect_json_bool(d, "complete", 1)
				   ? ""
				   : ", incomplete");
	if (strcmp(k, "output") == 0)
		return output_line(d);
	if (strcmp(k, "divergence") == 0)
		return divergence_line(d);
	if (strcmp(k, "violation") == 0)
		return inspect_violation_text(d);
	if (strcmp(k, "fingerprint") == 0)
		return fmt("at %s", str(d, "at"));
	if (strcmp(k, "process-tree") == 0)
		return fmt("%.0f processes",
			   inspect_json_num(d, "processes", 0));
	if (strcmp(k, "end") == 0)
		return end_event_line(d);
	if (strcmp(k, "sandbox") == 0)
		return strdup("what the sandbox enforced");
	return strdup("");
}
