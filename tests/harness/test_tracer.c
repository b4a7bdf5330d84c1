/*
 * test_tracer.c - the tracer's library interface: the child and parent
 * sides, the event callback, redaction in the records, and failures.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/tracer.h"

#define MAX_EVENTS 64

struct log {
	char kinds[MAX_EVENTS + 1];	/* S started, E exec, X exited */
	size_t n;
	int fail_on_exec;
};

static int record_event(const struct harness_trace_event *event, void *data)
{
	struct log *log = data;
	static const char letters[] = { 'S', 'E', 'X' };

	if (log->n < MAX_EVENTS)
		log->kinds[log->n++] = letters[event->kind];
	if (event->kind == HARNESS_TRACE_EXEC && log->fail_on_exec) {
		harness_set_error("cannot store event: 'test': disk full");
		return -1;
	}
	return 0;
}

/* Fork a child that prepares for tracing and runs sh -c script. */
static pid_t start(const char *script, char *const env[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (harness_tracer_child_prepare() < 0)
			_exit(99);
		execle("/bin/sh", "sh", "-c", script, (char *)NULL, env);
		_exit(98);
	}
	return pid;
}

static struct harness_tracer *run(const char *script, char *const env[],
				  struct log *log, int *rc, int *status)
{
	static const char *secrets[] = { "*_SECRET", NULL };
	struct harness_tracer_options o = {
		.secret_names = secrets,
		.on_event = record_event,
		.userdata = log,
	};
	struct harness_tracer *tracer = harness_tracer_new(&o);
	pid_t pid = start(script, env);

	assert_non_null(tracer);
	assert_int_equal(harness_tracer_attach(tracer, pid), 0);
	*rc = harness_tracer_run(tracer, status);
	return tracer;
}

static void events_come_in_order(void **state)
{
	char *env[] = { "PATH=/bin:/usr/bin", NULL };
	struct log log = { 0 };
	int rc, status = 0;
	struct harness_tracer *t = run("/bin/true; exit 5", env, &log, &rc,
				       &status);
	const struct harness_process *root, *child;

	(void)state;
	assert_int_equal(rc, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 5);
	assert_string_equal(log.kinds, "SESEXX");
	assert_int_equal(harness_tracer_count(t), 2);
	root = harness_tracer_process(t, 0);
	child = harness_tracer_process(t, 1);
	assert_int_equal(root->parent, -1);
	assert_int_equal(child->parent, 0);
	assert_int_equal(root->end, HARNESS_END_EXITED);
	assert_int_equal(root->exit_code, 5);
	assert_int_equal(child->n_execs, 1);
	assert_string_equal(child->execs[0].attempted, "/bin/true");
	assert_int_equal(child->execs[0].error, 0);
	assert_int_equal(strlen(child->execs[0].exe.sha256), 64);
	assert_true(child->end_us >= child->start_us);
	assert_null(harness_tracer_process(t, 2));
	harness_tracer_free(t);
}

static void records_redact_secret_values(void **state)
{
	char *env[] = { "DB_SECRET=hunter2", "OTHER=ok", "BARE", NULL };
	struct log log = { 0 };
	int rc, status;
	struct harness_tracer *t = run("exit 0", env, &log, &rc, &status);
	const struct harness_exec *e = &harness_tracer_process(t, 0)->execs[0];
	cJSON *tree;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(e->envc, 3);
	assert_string_equal(e->env[0].name, "DB_SECRET");
	assert_true(e->env[0].redacted);
	assert_null(e->env[0].value);
	assert_string_equal(e->env[1].value, "ok");
	assert_false(e->env[2].has_value);
	text = harness_tracer_tree_text(t, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	tree = cJSON_Parse(text);
	assert_non_null(tree);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "[\"DB_SECRET\",null]"));
	assert_non_null(strstr(text, "[\"BARE\"]"));
	free(text);
	cJSON_Delete(tree);
	harness_tracer_free(t);
}

/*
 * The script execs sleep in place of forking it. A child forked while
 * the kill is on its way stays traced by this process, unknown to the
 * tracer (see drain() in harness/tracer.c). The next test's tracer then
 * reports it as a process of its own.
 */
static void failing_callback_stops_the_run(void **state)
{
	char *env[] = { NULL };
	struct log log = { .fail_on_exec = 1 };
	int rc, status;
	struct harness_tracer *t = run("exec /bin/sleep 60", env, &log, &rc,
				       &status);

	(void)state;
	assert_int_equal(rc, -1);
	assert_string_equal(harness_error(),
			    "cannot store event: 'test': disk full");
	assert_int_equal(harness_tracer_process(t, 0)->end,
			 HARNESS_END_SIGNALED);
	harness_tracer_free(t);
}

static void attach_fails_on_exited_process(void **state)
{
	struct harness_tracer *t = harness_tracer_new(NULL);
	siginfo_t info;
	pid_t pid = fork();

	(void)state;
	if (pid == 0)
		_exit(0);
	/* Leave it a zombie: it exited before it ever stopped. */
	assert_int_equal(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
	assert_int_equal(harness_tracer_attach(t, pid), -1);
	assert_non_null(strstr(harness_error(), "cannot attach to process"));
	assert_non_null(harness_error_hint());
	waitpid(pid, NULL, 0);
	harness_tracer_free(t);
}

static void note_untraced(pid_t pid, int status, void *data)
{
	int *count = data;

	(void)pid;
	(void)status;
	(*count)++;
}

/*
 * The sandbox's pattern: an intermediate process enters new user and
 * PID namespaces and forks pid 1 there, which prepares and execs. The
 * tracer attaches to that grandchild by its host pid.
 */
static pid_t start_in_namespaces(int *ready)
{
	int fds[2];
	pid_t mid, inner;

	assert_int_equal(pipe(fds), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		int status;

		close(fds[0]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
			_exit(77);
		inner = fork();
		if (inner == 0) {
			if (harness_tracer_child_prepare() < 0)
				_exit(99);
			execl("/bin/sh", "sh", "-c", "/bin/true; exit 4",
			      (char *)NULL);
			_exit(98);
		}
		if (write(fds[1], &inner, sizeof(inner)) != sizeof(inner))
			_exit(97);
		waitpid(inner, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 96);
	}
	close(fds[1]);
	if (read(fds[0], &inner, sizeof(inner)) != sizeof(inner))
		inner = -1;
	close(fds[0]);
	*ready = inner > 0;
	return inner;
}

static void attach_in_other_namespaces(void **state)
{
	int untraced = 0, ready, status = 0;
	struct harness_tracer_options o = {
		.on_untraced = note_untraced,
		.userdata = &untraced,
	};
	struct harness_tracer *t = harness_tracer_new(&o);
	pid_t pid = start_in_namespaces(&ready);
	const struct harness_process *root, *child;

	(void)state;
	if (!ready) {
		harness_tracer_free(t);
		skip();
	}
	assert_int_equal(harness_tracer_attach(t, pid), 0);
	assert_int_equal(harness_tracer_run(t, &status), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 4);
	assert_int_equal(harness_tracer_count(t), 2);
	root = harness_tracer_process(t, 0);
	child = harness_tracer_process(t, 1);
	assert_int_equal(root->pid, pid);
	assert_int_equal(root->ns_pid, 1);
	assert_int_equal(root->n_ns_pids, 2);
	assert_int_equal(root->ns_pids[0], pid);
	assert_int_equal(child->ns_pid, 2);
	assert_int_equal(child->parent, 0);
	assert_string_equal(child->execs[0].attempted, "/bin/true");
	/* The intermediate is a child of this process, not a tracee. */
	while (untraced == 0 && waitpid(-1, NULL, 0) > 0)
		untraced++;
	assert_int_equal(untraced, 1);
	harness_tracer_free(t);
}

/* An exec with the environment given as NAME=VALUE, NAME (no '='), or
 * NAME=- (redacted). */
static struct harness_exec env_exec(struct harness_env_entry *entries,
				    const char *const *list)
{
	struct harness_exec e = { .env = entries };

	for (; *list; list++, e.envc++) {
		struct harness_env_entry *x = &entries[e.envc];
		const char *eq = strchr(*list, '=');

		*x = (struct harness_env_entry){ .name = (char *)*list };
		if (!eq)
			continue;
		x->name = strndup(*list, (size_t)(eq - *list));
		x->has_value = true;
		x->redacted = strcmp(eq + 1, "-") == 0;
		x->value = x->redacted ? NULL : (char *)eq + 1;
	}
	return e;
}

static void env_exec_free(struct harness_exec *e)
{
	for (size_t i = 0; i < e->envc; i++) {
		if (e->env[i].has_value)
			free(e->env[i].name);
	}
}

static void env_text_is_reused_only_when_equal(void **state)
{
	static const char *const a[] = { "A=1", "B=2", NULL };
	static const char *const b[] = { "A=1", "B=3", NULL };
	static const char *const c[] = { "A=1", "B", NULL };
	static const char *const d[] = { "A=1", "B=-", NULL };
	static const char *const e[] = { "A=1B", "=2", NULL };
	struct harness_env_entry ea[2], eb[2], ec[2], ed[2], ee[2];
	struct harness_exec xa = env_exec(ea, a), xb = env_exec(eb, b);
	struct harness_exec xc = env_exec(ec, c), xd = env_exec(ed, d);
	struct harness_exec xe = env_exec(ee, e);
	struct harness_tracer *t = harness_tracer_new(NULL);
	const char *first;

	(void)state;
	first = harness_tracer_env_text(t, &xa);
	assert_string_equal(first, "[[\"A\",\"1\"],[\"B\",\"2\"]]");
	assert_ptr_equal(harness_tracer_env_text(t, &xa), first);
	assert_string_equal(harness_tracer_env_text(t, &xb),
			    "[[\"A\",\"1\"],[\"B\",\"3\"]]");
	assert_string_equal(harness_tracer_env_text(t, &xc),
			    "[[\"A\",\"1\"],[\"B\"]]");
	assert_string_equal(harness_tracer_env_text(t, &xd),
			    "[[\"A\",\"1\"],[\"B\",null]]");
	assert_string_equal(harness_tracer_env_text(t, &xe),
			    "[[\"A\",\"1B\"],[\"\",\"2\"]]");
	assert_string_equal(harness_tracer_env_text(t, &xa),
			    "[[\"A\",\"1\"],[\"B\",\"2\"]]");
	harness_tracer_free(t);
	env_exec_free(&xa);
	env_exec_free(&xb);
	env_exec_free(&xc);
	env_exec_free(&xd);
	env_exec_free(&xe);
}

static void end_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(harness_end_name(HARNESS_END_EXITED), "exited");
	assert_string_equal(harness_end_name(HARNESS_END_SIGNALED),
			    "signaled");
	assert_string_equal(harness_end_name(HARNESS_END_KILLED), "killed");
	assert_string_equal(harness_end_name(HARNESS_END_LOST), "lost");
	assert_string_equal(harness_end_name(HARNESS_END_RUNNING), "running");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_come_in_order),
		cmocka_unit_test(records_redact_secret_values),
		cmocka_unit_test(failing_callback_stops_the_run),
		cmocka_unit_test(attach_fails_on_exited_process),
		cmocka_unit_test(attach_in_other_namespaces),
		cmocka_unit_test(env_text_is_reused_only_when_equal),
		cmocka_unit_test(end_names_are_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
