/*
 * cmd_log.c - "runbundle log": the timeline, one line per event, grouped
 * by step, with the model's text answers and tool calls under each
 * exchange.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "inspect/answer.h"
#include "inspect/commands.h"
#include "inspect/describe.h"
#include "inspect/error.h"
#include "inspect/execs.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

/* Columns: seq (6), time (12), kind (13), then the description. */
#define LOG_INDENT 36

/* After a failed exec that the same process follows with another
 * attempt (execs.h). */
#define LOG_LOOKUP " (PATH lookup)"

struct log_args {
	const char *path;
	const char *kinds[16];
	size_t n_kinds;
	const char *step;
	long long pid;
	int json;
	int checks; /* enum inspect_check_flags */
};

static int wanted(const struct log_args *a, const struct inspect_event *ev,
		  size_t step, int has_step)
{
	int kind_ok = a->n_kinds == 0;

	for (size_t i = 0; i < a->n_kinds; i++)
		kind_ok |= strcmp(a->kinds[i], ev->kind) == 0;
	if (!kind_ok || (has_step && ev->step != step))
		return 0;
	if (a->pid >= 0 &&
	    inspect_json_num(ev->data, "pid", -1) != (double)a->pid &&
	    inspect_json_num(ev->data, "ns_pid", -1) != (double)a->pid)
		return 0;
	return 1;
}

static cJSON *answer_json(const struct inspect_answer *an)
{
	cJSON *o = cJSON_CreateObject(), *calls;

	cJSON_AddStringToObject(o, "api", an->api);
	cJSON_AddBoolToObject(o, "streamed", an->streamed);
	if (an->model)
		cJSON_AddStringToObject(o, "model", an->model);
	else
		cJSON_AddNullToObject(o, "model");
	cJSON_AddStringToObject(o, "text", an->text);
	calls = cJSON_AddArrayToObject(o, "tool_calls");
	for (size_t i = 0; i < an->n_calls; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", an->calls[i].name);
		cJSON_AddStringToObject(c, "arguments",
					an->calls[i].arguments);
		if (an->calls[i].id)
			cJSON_AddStringToObject(c, "id", an->calls[i].id);
		cJSON_AddItemToArray(calls, c);
	}
	if (an->input_tokens >= 0)
		out_add_num(o, "input_tokens", an->input_tokens);
	else
		cJSON_AddNullToObject(o, "input_tokens");
	if (an->output_tokens >= 0)
		out_add_num(o, "output_tokens", an->output_tokens);
	else
		cJSON_AddNullToObject(o, "output_tokens");
	return o;
}

/* The exchanges whose response could not be read, reported after the
 * timeline. */
struct unreadable {
	size_t count;
	char first[512]; /* the first one's message */
};

/* The answer of an exchange event. When it cannot be read, the caller
 * shows why and the timeline goes on past the damaged exchange. */
static int load_answer(const struct inspect_view *v,
		       const struct inspect_event *ev,
		       struct inspect_answer *an, struct unreadable *bad)
{
	struct harness_exchange ex;
	int rc = -1;

	if (inspect_view_exchange(v, ev, &ex) == 0) {
		rc = inspect_answer_parse(&ex, an);
		harness_exchange_release(&ex);
	}
	if (rc < 0 && bad->count++ == 0)
		snprintf(bad->first, sizeof(bad->first), "%s",
			 inspect_error());
	return rc;
}

/* After the timeline: report the exchanges that could not be read, then
 * check the bundle. Returns the exit status. */
static int check(const struct inspect_view *v, const struct log_args *a,
		 const struct unreadable *bad)
{
	int rc;

	fflush(stdout);
	if (bad->count)
		cli_error("%s", bad->first);
	if (bad->count > 1)
		cli_error("cannot read exchanges: %zu more", bad->count - 1);
	rc = inspect_integrity_warn(v, a->path, a->checks);
	if (rc != CLI_EXIT_OK || !bad->count)
		return rc;
	cli_hint("runbundle verify %s", a->path);
	return CLI_EXIT_FAIL;
}

static void print_answer(const struct inspect_answer *an,
			 const struct out_style *st)
{
	char pad[LOG_INDENT + 1];

	memset(pad, ' ', LOG_INDENT);
	pad[LOG_INDENT] = '\0';
	if (an->text[0]) {
		printf("%s", st->cyan);
		out_fieldf(pad, LOG_INDENT, "text: %s", an->text);
		printf("%s", st->reset);
	}
	for (size_t i = 0; i < an->n_calls; i++) {
		printf("%s", st->yellow);
		out_fieldf(pad, LOG_INDENT, "call: %s %s", an->calls[i].name,
			   an->calls[i].arguments);
		printf("%s", st->reset);
	}
}

static void print_step(const struct inspect_view *v, size_t i,
		       const struct out_style *st)
{
	const struct inspect_step *s = &v->steps[i];
	char root[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(&s->root, root);
	if (s->exchange >= 0)
		printf("%sstep %zu: %s %lld, snapshot %llu (%.12s)%s\n",
		       st->bold, i, s->at, (long long)s->exchange,
		       (unsigned long long)s->snapshot, root, st->reset);
	else
		printf("%sstep %zu: %s, snapshot %llu (%.12s)%s\n", st->bold,
		       i, s->at, (unsigned long long)s->snapshot, root,
		       st->reset);
}

static void print_event(const struct inspect_view *v,
			const struct inspect_event *ev, int lookup,
			const struct out_style *st, struct unreadable *bad)
{
	char *text = inspect_describe(ev);
	char kind[32];
	const char *t = strchr(ev->time, 'T');
	struct inspect_answer an;
	int red = strcmp(ev->kind, "violation") == 0;

	cli_sanitize(kind, sizeof(kind), ev->kind);
	printf("%s", red ? st->red : "");
	out_fieldf("", 0, "%6llu  %-12.12s  %-13s %s%s",
		   (unsigned long long)ev->seq, t ? t + 1 : ev->time, kind,
		   text ? text : "", lookup ? LOG_LOOKUP : "");
	free(text);
	printf("%s", red ? st->reset : "");
	if (strcmp(ev->kind, "exchange") != 0)
		return;
	if (load_answer(v, ev, &an, bad) < 0) {
		out_fieldf("", 0, "%*s(unreadable: %s)", LOG_INDENT, "",
			   inspect_error());
		return;
	}
	print_answer(&an, st);
	inspect_answer_release(&an);
}

static cJSON *event_json(const struct inspect_view *v,
			 const struct inspect_event *ev, int lookup,
			 struct unreadable *bad)
{
	cJSON *o = cJSON_CreateObject();
	char *text = inspect_describe(ev);
	struct inspect_answer an;
	char *summary = NULL;

	out_add_num(o, "seq", ev->seq);
	cJSON_AddStringToObject(o, "kind", ev->kind);
	cJSON_AddStringToObject(o, "time", ev->time);
	out_add_num(o, "step", ev->step);
	if (text && lookup &&
	    asprintf(&summary, "%s%s", text, LOG_LOOKUP) < 0)
		summary = NULL;
	cJSON_AddStringToObject(o, "summary", summary ? summary :
					      text ? text : "");
	free(summary);
	free(text);
	if (strcmp(ev->kind, "exec") == 0)
		cJSON_AddBoolToObject(o, "path_lookup", lookup);
	if (ev->data)
		cJSON_AddItemToObject(o, "data", cJSON_Duplicate(ev->data, 1));
	if (strcmp(ev->kind, "exchange") != 0)
		return o;
	if (load_answer(v, ev, &an, bad) < 0) {
		cJSON_AddStringToObject(o, "answer_error", inspect_error());
		return o;
	}
	cJSON_AddItemToObject(o, "answer", answer_json(&an));
	inspect_answer_release(&an);
	return o;
}

static cJSON *step_json(const struct inspect_view *v, size_t i)
{
	const struct inspect_step *s = &v->steps[i];
	char root[BUNDLE_ID_HEX_LEN + 1];
	cJSON *o = cJSON_CreateObject();

	bundle_id_to_hex(&s->root, root);
	out_add_num(o, "step", i);
	cJSON_AddStringToObject(o, "at", s->at);
	out_add_num(o, "snapshot", s->snapshot);
	cJSON_AddStringToObject(o, "root", root);
	if (s->exchange >= 0)
		out_add_num(o, "exchange", s->exchange);
	else
		cJSON_AddNullToObject(o, "exchange");
	cJSON_AddBoolToObject(o, "complete", s->complete);
	return o;
}

/*
 * The JSON of log, {"steps": [{STEP, "events": [EVENT, ...]}, ...]},
 * is printed a step's head and an event at a time, so that a long run
 * is never in memory as one document. The output is the same as
 * out_json() of the whole: steps sit 2 levels deep, their members 3 and
 * their events 4.
 */
struct json_log {
	int in_step;	/* a step's events array is open */
	int any_step;
	int any_event;	/* in the open step */
};

static void json_log_begin(void)
{
	fputs("{\n  \"steps\": [", stdout);
}

static void json_log_close_step(struct json_log *j)
{
	if (j->in_step)
		fputs("]\n    }", stdout);
	j->in_step = 0;
}

/* Open a step with the members of head, which it deletes. A bundle
 * without snapshots has one step of events only, with no head. */
static int json_log_step(struct json_log *j, cJSON *head, int has_head)
{
	int members, rc = 0;

	if (has_head && !head) {
		cli_error("cannot print JSON: out of memory");
		return CLI_EXIT_ERROR;
	}
	json_log_close_step(j);
	if (j->any_step)
		fputs(", ", stdout);
	members = head ? cJSON_GetArraySize(head) : 0;
	if (head)
		rc = out_json_nested(head, 2, 1);
	else
		fputs("{", stdout);
	cJSON_Delete(head);
	fputs(members ? ",\n      \"events\": [" : "\n      \"events\": [",
	      stdout);
	j->in_step = j->any_step = 1;
	j->any_event = 0;
	return rc;
}

static int json_log_event(struct json_log *j, cJSON *event)
{
	int rc;

	if (j->any_event)
		fputs(", ", stdout);
	j->any_event = 1;
	rc = event ? out_json_nested(event, 4, 0) : CLI_EXIT_ERROR;
	cJSON_Delete(event);
	return rc;
}

static void json_log_end(struct json_log *j)
{
	json_log_close_step(j);
	fputs("]\n}\n", stdout);
}

static int run(const struct log_args *a)
{
	struct inspect_view v;
	struct out_style st;
	size_t step = 0, shown = (size_t)-1;
	struct json_log j = { 0 };
	struct unreadable bad = { 0 };
	unsigned char *lookups;
	int rc = out_open(&v, a->path);

	if (rc)
		return rc;
	lookups = inspect_exec_lookups(&v);
	if (!lookups ||
	    (a->step && inspect_view_step(&v, a->step, &step) < 0)) {
		free(lookups);
		inspect_view_close(&v);
		return out_fail();
	}
	out_style_init(&st);
	if (a->json)
		json_log_begin();
	for (size_t i = 0; i < v.n_events && rc == CLI_EXIT_OK; i++) {
		const struct inspect_event *ev = &v.events[i];

		if (!wanted(a, ev, step, a->step != NULL))
			continue;
		if (ev->step != shown && v.n_steps) {
			shown = ev->step;
			if (a->json)
				rc = json_log_step(&j, step_json(&v, shown), 1);
			else
				print_step(&v, shown, &st);
		}
		/* The events of a bundle without snapshots. */
		if (a->json && !j.in_step && rc == CLI_EXIT_OK)
			rc = json_log_step(&j, NULL, 0);
		if (a->json && rc == CLI_EXIT_OK)
			rc = json_log_event(&j, event_json(&v, ev, lookups[i],
							   &bad));
		else if (!a->json)
			print_event(&v, ev, lookups[i], &st, &bad);
	}
	free(lookups);
	if (a->json && rc == CLI_EXIT_OK)
		json_log_end(&j);
	if (rc == CLI_EXIT_OK)
		rc = check(&v, a, &bad);
	inspect_view_close(&v);
	return rc;
}

/* The event kinds that record and replay write (docs/record.md), and
 * "process-start", which inspect and the replay loader also read. */
static const char *const known_kinds[] = {
	"record",      "fingerprint",  "snapshot", "workspace",
	"home",        "sandbox",      "exec",     "process-start",
	"process-end", "exchange",     "divergence", "output",
	"violation",   "process-tree", "end",
};

#define N_KNOWN_KINDS (sizeof(known_kinds) / sizeof(known_kinds[0]))

static int known_kind(const char *kind)
{
	for (size_t i = 0; i < N_KNOWN_KINDS; i++) {
		if (strcmp(known_kinds[i], kind) == 0)
			return 1;
	}
	return 0;
}

static int unknown_kind(const struct cli_command *self, const char *kind)
{
	char list[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < N_KNOWN_KINDS && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%s", i ? ", " : "", known_kinds[i]);
	return cli_usage_error(self, "unknown event kind: '%s': expected "
			       "one of %s", kind, list);
}

/* Parse a pid: decimal digits only, from 0 to INT_MAX (a pid_t). The
 * first-character check rejects the sign and spaces that strtoll takes. */
static int parse_pid(const char *s, long long *pid)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*pid = strtoll(s, &end, 10);
	if (errno || *end || *pid > INT_MAX)
		return -1;
	return 0;
}

static int invalid_pid(const struct cli_command *self, const char *value)
{
	return cli_usage_error(self, "invalid pid: '%s': expected a number "
			       "from 0 to %d", value, INT_MAX);
}

int cmd_log(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "step", required_argument, NULL, 's' },
		{ "process", required_argument, NULL, 'p' },
		INSPECT_CHECK_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct log_args a = { .pid = -1 };
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (inspect_check_option(c, &a.checks))
			continue;
		switch (c) {
		case 'j':
			a.json = 1;
			break;
		case 'k':
			if (a.n_kinds == sizeof(a.kinds) / sizeof(a.kinds[0]))
				return cli_usage_error(self, "too many --kind");
			if (!known_kind(optarg))
				return unknown_kind(self, optarg);
			a.kinds[a.n_kinds++] = optarg;
			break;
		case 's':
			a.step = optarg;
			break;
		case 'p':
			if (parse_pid(optarg, &a.pid) < 0)
				return invalid_pid(self, optarg);
			break;
		default:
			return cli_option_error(self, c, argv);
		}
	}
	if ((rc = cli_one_bundle(self, argc, argv, optind)) != 0)
		return rc;
	a.path = argv[optind];
	return run(&a);
}
