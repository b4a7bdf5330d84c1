/*
 * record_trace.c - the tracer's events as bundle events, and the
 * executables that ran, for the fingerprint.
 *
 * Each exec (failed ones included) and each process end is one event,
 * which names the process, its parent and its start. A process start is
 * no event of its own, because each event costs a database insert.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/json_bytes.h"
#include "harness/tracer.h"
#include "record/record.h"
#include "sandbox/policy.h"

/* Bytes of argv copied into an exec event's data. */
#define MAX_INLINE_ARGV 4096

static cJSON *process_data(const struct harness_process *p)
{
	cJSON *data = cJSON_CreateObject();

	harness_json_add_integer(data, "index", p->index);
	harness_json_add_integer(data, "pid", p->pid);
	harness_json_add_integer(data, "ns_pid", p->ns_pid);
	harness_json_add_integer(data, "parent", p->parent);
	harness_json_add_integer(data, "start_us", p->start_us);
	return data;
}

static int on_started(struct record_session *s)
{
	record_count(s, &s->counts.processes, 1);
	return 0;
}

/*
 * Under the sandbox, EACCES from an exec is Landlock's execute right or a
 * masked binary: the policy denied it. The exception is a file whose own
 * mode rejects it (a directory, a script without its x bit), as it
 * would anywhere, which the tracer marks in exec->refusal. Without the
 * sandbox it is only the file's permissions. An exec that the tracer
 * killed because it ran a dynamic loader as its program is a violation
 * too.
 */
static int denied_exec(struct record_session *s,
		       const struct harness_process *p,
		       const struct harness_exec *exec)
{
	cJSON *data;

	if (!exec->forbidden &&
	    (s->config->no_sandbox || exec->error != EACCES ||
	     exec->refusal != HARNESS_REFUSAL_NONE))
		return 0;
	data = process_data(p);
	cJSON_AddStringToObject(data, "source", "exec");
	cJSON_AddItemToObject(data, "command",
			      harness_json_text(exec->attempted));
	if (exec->resolved)
		cJSON_AddItemToObject(data, "resolved",
				      harness_json_text(exec->resolved));
	if (exec->forbidden)
		cJSON_AddStringToObject(data, "reason", "a dynamic loader run "
					"as a program, which exec.allow does "
					"not list, can run any program");
	record_count(s, &s->counts.violations, 1);
	return record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
}

/* argv goes into the event itself while short; the object always has
 * it whole, with the environment. */
static void add_argv(cJSON *data, const struct harness_exec *exec,
		     const cJSON *object)
{
	size_t total = 0;

	for (size_t i = 0; i < exec->argc; i++)
		total += exec->argv[i].len + 1;
	if (total > MAX_INLINE_ARGV) {
		cJSON_AddBoolToObject(data, "argv_truncated", true);
		return;
	}
	cJSON_AddItemToObject(data, "argv",
			      cJSON_Duplicate(cJSON_GetObjectItem(object,
								  "argv"),
					      1));
}

/*
 * The environment goes in as an object of its own, the exec's second
 * reference. Most execs inherit it unchanged, so the tracer hands back
 * the text it made for the exec before, and the store keeps one copy
 * of identical content: it is encoded and compressed once.
 */
static int submit_exec(struct record_session *s, cJSON *data,
		       cJSON *object, const struct harness_exec *exec)
{
	const char *env = harness_tracer_env_text(s->tracer, exec);
	char *text = env ? strdup(env) : NULL;

	return record_submit(s, "exec", data, object, BUNDLE_JSON, text,
			     text ? strlen(text) : 0);
}

/* Note whether the agent itself started, for the closing message. The
 * tracer runs on the main thread, which reads these after the run. */
static void note_agent(struct record_session *s,
		       const struct harness_process *p,
		       const struct harness_exec *exec)
{
	if (p->index != 0)
		return;
	if (!exec->error)
		s->agent_ran = true;
	else if (s->agent_exec_error != EACCES) {
		s->agent_exec_error = exec->error;
		s->agent_refusal = exec->refusal;
	}
	if (exec->error == ENOENT && exec->interpreter &&
	    !s->agent_interpreter[0])
		snprintf(s->agent_interpreter, sizeof(s->agent_interpreter),
			 "%s", exec->interpreter);
}

static int on_exec(struct record_session *s, const struct harness_process *p,
		   const struct harness_exec *exec)
{
	cJSON *data = process_data(p);
	cJSON *object = harness_exec_json(exec, false);
	int rc;

	note_agent(s, p, exec);

	if (object)
		add_argv(data, exec, object);

	harness_json_add_integer(data, "time_us", exec->time_us);
	cJSON_AddItemToObject(data, "path",
			      harness_json_text(exec->exe.path ? exec->exe.path
							       : exec->attempted));

	/* A PATH search tries one name in each directory, and the readers
	 * tell its attempts by that name (inspect/execs.h), which the
	 * executable's resolved path need not end in: sh runs dash. */
	if (exec->exe.path && exec->attempted)
		cJSON_AddItemToObject(data, "attempted",
				      harness_json_text(exec->attempted));
	/* Replay compares each process's cwd, which the event carries so
	 * that a reader needs no object per exec. */
	if (exec->cwd)
		cJSON_AddItemToObject(data, "cwd",
				      harness_json_text(exec->cwd));
	if (exec->error) {
		const char *name = strerrorname_np(exec->error);

		cJSON_AddStringToObject(data, "error", name ? name : "?");
	}
	rc = submit_exec(s, data, object, exec);
	if (rc == 0)
		rc = denied_exec(s, p, exec);
	return rc;
}

static int64_t tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The execs are in their own events and the whole record is in the
 * process tree at the end, so this event carries only the outcome. */
static int on_exited(struct record_session *s,
		     const struct harness_process *p)
{
	cJSON *data = process_data(p);

	harness_json_add_integer(data, "end_us", p->end_us);
	cJSON_AddStringToObject(data, "end", harness_end_name(p->end));
	if (p->end == HARNESS_END_EXITED)
		harness_json_add_integer(data, "exit_code", p->exit_code);
	else if (p->end != HARNESS_END_LOST)
		cJSON_AddStringToObject(data, "signal",
					sigabbrev_np(p->signal));
	harness_json_add_integer(data, "user_us", tv_us(p->rusage.ru_utime));
	harness_json_add_integer(data, "system_us",
				 tv_us(p->rusage.ru_stime));
	harness_json_add_integer(data, "max_rss_kib", p->rusage.ru_maxrss);
	return record_submit(s, "process-end", data, NULL, BUNDLE_BLOB, NULL,
			     0);
}

/*
 * Store a process that the kernel ended for its CPU time or file size
 * limit as a violation. A process that sends itself SIGXCPU or SIGXFSZ
 * counts as over the limit too, because only the signal marks the end.
 */
static int limit_signal(struct record_session *s,
			const struct harness_process *p)
{
	const struct sandbox_limits *l = &s->config->policy->limits;
	const char *limit = NULL;
	uint64_t value = 0;
	cJSON *data;

	if (p->end != HARNESS_END_SIGNALED)
		return 0;
	if (sandbox_limits_cpu_ended(l, p->signal,
				     tv_us(p->rusage.ru_utime) +
					     tv_us(p->rusage.ru_stime))) {
		limit = "cpu_seconds";
		value = l->cpu_seconds;
	} else if (p->signal == SIGXFSZ && l->file_size_bytes) {
		limit = "file_size_bytes";
		value = l->file_size_bytes;
	}
	if (!limit)
		return 0;

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "source", "limit");
	cJSON_AddStringToObject(data, "limit", limit);
	harness_json_add_integer(data, "value", (int64_t)value);
	harness_json_add_integer(data, "index", p->index);
	cJSON_AddStringToObject(data, "signal", sigabbrev_np(p->signal));
	record_count(s, &s->counts.violations, 1);
	return record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
}

int record_on_trace(const struct harness_trace_event *event, void *arg)
{
	struct record_session *s = arg;
	int rc = 0;

	switch (event->kind) {
	case HARNESS_TRACE_STARTED:
		rc = on_started(s);
		break;
	case HARNESS_TRACE_EXEC:
		rc = on_exec(s, event->process, event->exec);
		break;
	case HARNESS_TRACE_EXITED:
		rc = on_exited(s, event->process);
		if (rc == 0)
			rc = limit_signal(s, event->process);
		break;
	}
	if (rc < 0)
		harness_set_error("%s", s->failure);
	return rc;
}

static int add_file(struct record_session *s, const struct harness_file *f)
{
	if (!f->path || !f->sha256[0])
		return 0;
	return harness_fingerprint_add_executable(s->fingerprint, f->path,
						  f->sha256);
}

int record_add_executables(struct record_session *s)
{
	size_t n = s->tracer ? harness_tracer_count(s->tracer) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct harness_process *p;

		p = harness_tracer_process(s->tracer, i);
		for (size_t k = 0; k < p->n_execs; k++) {
			const struct harness_exec *e = &p->execs[k];

			if (e->error)
				continue;
			if (add_file(s, &e->exe) < 0 ||
			    add_file(s, &e->script) < 0)
				return -1;
		}
	}
	return 0;
}
