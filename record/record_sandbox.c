/*
 * record_sandbox.c - run the agent in the sandbox: the gateway and the
 * egress proxy serve sockets that the sandbox opened inside its network
 * namespace, the seccomp supervisor counts denied calls, and the tracer
 * seizes the agent where the sandbox's hook stops it.
 *
 * The hook is the tracer's child side, which waits for PTRACE_SEIZE in
 * the tracer's own protocol. It loads no filter of its own: the
 * sandbox's filter, already loaded, carries the exec-tracing rule
 * (trace_exec). So every system call of the agent runs one BPF program.
 *
 * The agent inherits fds 0 to 2 and nothing above (sandbox.h, invariant
 * 2), so its stdin and the pipes of its output are put there for the
 * moment of the launch.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness/fingerprint.h"
#include "harness/tracer.h"
#include "record/record_gateway.h"
#include "record/record_run.h"
#include "sandbox/error.h"
#include "sandbox/proxy.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"

/* Ports inside the sandbox's own network namespace, where nothing else
 * listens. Fixed, so that a replay announces the same URLs. */
#define GATEWAY_PORT 8765
#define PROXY_PORT 3128

#define MAX_ENV 64

struct boxed {
	struct record_session *session;
	struct sandbox_policy policy;	/* the user's, with more env.set */
	struct sandbox_env_pair env[MAX_ENV];
	char *env_copy[MAX_ENV];
	struct sandbox_config config;
	struct sandbox_child child;
	struct sandbox_seccomp_supervisor *supervisor;
	struct sandbox_proxy *proxy;
	uint16_t ports[2];
	char **created_dirs;	/* session->created_dirs while they exist */
	size_t n_created_dirs;
	int gateway_fd;
	int helper_status;
	bool helper_reaped;
};

static void fail_sandbox(struct record_session *s)
{
	record_fail(s, sandbox_error(), sandbox_error_hint());
}

/*
 * The gateway's variables must reach the agent whatever env.pass lists,
 * so they join the policy's env.set in a shallow copy of the policy.
 */
static int extend_env(struct boxed *b, char *const *extra)
{
	const struct sandbox_policy *p = b->session->config->policy;
	size_t n = 0;

	b->policy = *p;
	for (size_t i = 0; i < p->env_set_count && n < MAX_ENV; i++)
		b->env[n++] = p->env_set[i];
	for (size_t i = 0; extra && extra[i]; i++) {
		char *copy = strdup(extra[i]), *eq;

		if (!copy || n == MAX_ENV) {
			free(copy);
			return -1;
		}
		b->env_copy[i] = copy;
		eq = strchr(copy, '=');
		*eq = '\0';
		b->env[n++] = (struct sandbox_env_pair){ copy, eq + 1 };
	}
	b->policy.env_set = b->env;
	b->policy.env_set_count = n;
	return 0;
}

static int prepare_for_tracer(void *arg)
{
	(void)arg;
	return harness_tracer_child_wait();
}

/* The data of an attempt that the sandbox reported and let go on, so
 * that Landlock, the mounts or the empty network decided it. */
static cJSON *attempt_data(const struct sandbox_seccomp_violation *v)
{
	const struct sandbox_seccomp_attempt *a = v->attempt;
	cJSON *data = cJSON_CreateObject();
	bool write = a->kind == SANDBOX_SECCOMP_WRITE;

	cJSON_AddStringToObject(data, "source", write ? "write" : "network");
	cJSON_AddNumberToObject(data, "pid", v->pid);
	cJSON_AddStringToObject(data, "syscall", v->syscall);
	if (write) {
		cJSON_AddStringToObject(data, "path", a->path);
		return data;
	}
	cJSON_AddStringToObject(data, "family", a->family);
	cJSON_AddStringToObject(data, "address", a->address);
	if (strcmp(a->family, "unix") != 0)
		cJSON_AddNumberToObject(data, "port", a->port);
	return data;
}

static void on_seccomp(const struct sandbox_seccomp_violation *v, void *arg)
{
	struct record_session *s = arg;
	cJSON *data, *args;

	if (v->attempt) {
		record_count(s, &s->counts.violations, 1);
		record_submit(s, "violation", attempt_data(v), NULL,
			      BUNDLE_BLOB, NULL, 0);
		return;
	}
	data = cJSON_CreateObject();
	args = cJSON_AddArrayToObject(data, "args");
	cJSON_AddStringToObject(data, "source", "seccomp");
	cJSON_AddNumberToObject(data, "pid", v->pid);
	cJSON_AddStringToObject(data, "syscall", v->syscall);
	cJSON_AddNumberToObject(data, "nr", v->nr);
	for (int i = 0; i < 6; i++) {
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%llx",
			 (unsigned long long)v->args[i]);
		cJSON_AddItemToArray(args, cJSON_CreateString(hex));
	}
	cJSON_AddStringToObject(data, "error", strerrorname_np(v->error));
	record_count(s, &s->counts.violations, 1);
	record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
}

static void on_proxy(const struct sandbox_proxy_violation *v, void *arg)
{
	struct record_session *s = arg;
	cJSON *data = cJSON_CreateObject();

	cJSON_AddStringToObject(data, "source", "proxy");
	cJSON_AddStringToObject(data, "host", v->host);
	cJSON_AddNumberToObject(data, "port", v->port);
	cJSON_AddStringToObject(data, "reason", v->reason);
	record_count(s, &s->counts.violations, 1);
	record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
}

static bool wants_proxy(const struct boxed *b)
{
	return b->policy.network_allow.count > 0;
}

static void plan_ports(struct boxed *b, bool gateway)
{
	struct sandbox_config *c = &b->config;

	b->gateway_fd = -1;
	if (gateway)
		b->ports[c->n_ports++] = GATEWAY_PORT;
	if (wants_proxy(b)) {
		c->proxy_port = PROXY_PORT;
		b->ports[c->n_ports++] = PROXY_PORT;
	}
	c->ports = b->ports;
}

static void plan(struct boxed *b, bool gateway)
{
	const struct record_config *rc = b->session->config;
	struct sandbox_config *c = &b->config;

	c->policy = &b->policy;
	c->mode = SANDBOX_MODE_NAMESPACES;
	c->workspace = rc->workspace;
	c->workspace_inside = rc->workspace_inside;
	c->env = rc->env;
	c->set_ids = rc->set_ids;
	c->uid = rc->uid;
	c->gid = rc->gid;
	c->inherit = rc->inherit;
	c->argv = rc->argv;
	c->hook = prepare_for_tracer;
	c->trace_exec = true;
	c->seccomp_notify = true;
	/* The snapshots leave the parts made for the run out while they
	 * are empty (note_created), so the workspace is recorded as the
	 * user has it, and replay's sandbox makes them again. A replay
	 * names the parts its recording made in make_parts, because the
	 * snapshot of a later step may have the part's parent (.git,
	 * made for the run, then written to) but not the part. */
	c->create_missing_parts = true;
	c->make_parts = b->session->config->make_parts;
	c->n_make_parts = b->session->config->n_make_parts;
	plan_ports(b, gateway);
}

static int start_proxy(struct boxed *b, int fd)
{
	const struct sandbox_strings *allow = &b->policy.network_allow;

	b->proxy = sandbox_proxy_new(on_proxy, b->session);
	if (!b->proxy) {
		close(fd);
		return -1;
	}
	if (sandbox_proxy_add_listener(b->proxy, fd) < 0)
		return -1;
	for (size_t i = 0; i < allow->count; i++) {
		if (sandbox_proxy_allow(b->proxy, allow->items[i]) < 0)
			return -1;
	}
	return sandbox_proxy_start(b->proxy);
}

/* Take over what the launch handed out: sockets and the listener. */
static int serve(struct boxed *b, struct record_gateway *g)
{
	struct sandbox_child *ch = &b->child;
	size_t next = 0;

	if (g) {
		b->gateway_fd = ch->port_fds[next++];
		if (record_gateway_listen(g, b->gateway_fd) < 0)
			return -1;
	}
	if (wants_proxy(b) && start_proxy(b, ch->port_fds[next++]) < 0)
		goto fail;
	ch->n_port_fds = 0;
	if (ch->notify_fd >= 0) {
		b->supervisor = sandbox_seccomp_supervisor_start(
			ch->notify_fd, on_seccomp, b->session);
		ch->notify_fd = -1;
		if (!b->supervisor)
			goto fail;
	}
	return 0;
fail:
	fail_sandbox(b->session);
	return -1;
}

static int add_created_dir(struct boxed *b, const char *path, size_t len)
{
	char **grown = realloc(b->created_dirs, (b->n_created_dirs + 1) *
						       sizeof(*grown));

	if (!grown)
		return -1;
	b->created_dirs = grown;
	grown[b->n_created_dirs] = strndup(path, len);
	if (!grown[b->n_created_dirs])
		return -1;
	b->n_created_dirs++;
	return 0;
}

/* Add every directory of the part covers, from created (the first one
 * made) down to the part itself. */
static int add_created_chain(struct boxed *b, const char *covers,
			     const char *created)
{
	size_t len = strlen(created);

	if (strncmp(covers, created, len) != 0 ||
	    (covers[len] != '/' && covers[len] != '\0'))
		return 0;
	for (;; len++) {
		if (covers[len] != '/' && covers[len] != '\0')
			continue;
		if (add_created_dir(b, covers, len) < 0)
			return -1;
		if (covers[len] == '\0')
			return 0;
	}
}

/*
 * Hand the session the directories that the sandbox made in the
 * workspace, which its description lists under "created" in the mounts,
 * so that the snapshots taken while they exist leave them out while
 * they are empty (bundle/snapshot.h, invariant 5). The sandbox removes
 * them again before the final snapshot.
 */
static int note_created(struct boxed *b)
{
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(
		b->child.description, "mounts");
	const cJSON *m;

	cJSON_ArrayForEach(m, mounts) {
		const char *covers = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "covers"));
		const char *created = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "created"));

		if (covers && created &&
		    add_created_chain(b, covers, created) < 0) {
			record_fail(b->session, "cannot note the parts made "
				    "for the run: out of memory", NULL);
			return -1;
		}
	}
	pthread_mutex_lock(&b->session->lock);
	b->session->created_dirs = (const char *const *)b->created_dirs;
	b->session->n_created_dirs = b->n_created_dirs;
	pthread_mutex_unlock(&b->session->lock);
	return 0;
}

/* The teardown has removed what it could of the directories: later
 * snapshots record whatever is left of them. */
static void forget_created(struct boxed *b)
{
	pthread_mutex_lock(&b->session->lock);
	b->session->created_dirs = NULL;
	b->session->n_created_dirs = 0;
	pthread_mutex_unlock(&b->session->lock);
	for (size_t i = 0; i < b->n_created_dirs; i++)
		free(b->created_dirs[i]);
	free(b->created_dirs);
	b->created_dirs = NULL;
	b->n_created_dirs = 0;
}

/* The description goes into the fingerprint and into its own event. */
static void describe(struct boxed *b)
{
	struct record_session *s = b->session;
	cJSON *copy = cJSON_Duplicate(b->child.description, 1);
	cJSON *event = cJSON_Duplicate(b->child.description, 1);

	pthread_mutex_lock(&s->lock);
	harness_fingerprint_set_sandbox(s->fingerprint, copy);
	pthread_mutex_unlock(&s->lock);
	record_submit(s, "sandbox", NULL, event, BUNDLE_BLOB, NULL, 0);
}

/* Put the agent's stdio on fds 0 to 2 for the launch only. */
static int launch(struct boxed *b, struct record_stdio *io)
{
	int saved[3], rc = -1, dup_error = 0;

	for (int i = 0; i < 3; i++)
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
	/* No thread runs yet (record.h, invariant 4): the sandbox's
	 * processes allocate memory before they execute the agent. */
	if (saved[0] >= 0 && saved[1] >= 0 && saved[2] >= 0 &&
	    dup2(io->in, 0) == 0 && dup2(io->out[1], 1) == 1 &&
	    dup2(io->err[1], 2) == 2)
		rc = sandbox_launch(&b->config, &b->child);
	else
		dup_error = errno;
	for (int i = 0; i < 3; i++) {
		if (saved[i] >= 0) {
			dup2(saved[i], i);
			close(saved[i]);
		}
	}
	if (dup_error) {
		char message[256];

		/* A low RLIMIT_NOFILE leaves no room for the copies. */
		snprintf(message, sizeof(message), "cannot prepare the "
			 "agent's input and output: %s", strerror(dup_error));
		record_fail(b->session, message, dup_error == EMFILE ?
			    "raise the limit of open files (ulimit -n)" :
			    NULL);
	} else if (rc < 0) {
		fail_sandbox(b->session);
	}
	else
		sandbox_print_notes(&b->config, &b->child, stderr);
	return rc;
}

static struct boxed *helper_box;

/* The tracer's wait4 may reap the sandbox's helper, our only other
 * child; sandbox_wait() then reads the agent's status from its socket. */
static void on_untraced(pid_t pid, int status, void *arg)
{
	(void)arg;
	if (helper_box && pid == helper_box->child.pid) {
		helper_box->helper_status = status;
		helper_box->helper_reaped = true;
	}
}

/* Store a limit that the run's cgroup enforced as one violation, as
 * runbundle sandbox reports it: key names what hits counts. */
static void limit_hit(struct record_session *s, const char *limit,
		      uint64_t value, const char *key, uint64_t hits)
{
	cJSON *data;

	if (!hits)
		return;
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "source", "limit");
	cJSON_AddStringToObject(data, "limit", limit);
	harness_json_add_integer(data, "value", (int64_t)value);
	harness_json_add_integer(data, key, (int64_t)hits);
	record_count(s, &s->counts.violations, 1);
	record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
}

/* Store the forks that the cgroup rejected and the processes that its
 * OOM killer ended. */
static void limit_hits(struct record_session *s,
		       const struct sandbox_result *res)
{
	const struct sandbox_limits *limits = &s->config->policy->limits;

	limit_hit(s, "processes", limits->processes, "refused",
		  res->process_limit_hits);
	limit_hit(s, "memory_bytes", limits->memory_bytes, "killed",
		  res->memory_limit_kills);
}

/* Store a git directory that the run redirected as a violation. */
static void git_redirect(struct record_session *s,
			 const struct sandbox_result *res)
{
	cJSON *data;

	if (!res->git_redirect[0])
		return;
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "source", "git");
	cJSON_AddStringToObject(data, "path", res->git_redirect);
	cJSON_AddStringToObject(data, "change", res->git_redirect_change);
	cJSON_AddStringToObject(data, "reason",
				sandbox_git_redirect_reason(res->git_redirect));
	record_count(s, &s->counts.violations, 1);
	record_submit(s, "violation", data, NULL, BUNDLE_BLOB, NULL, 0);
	cli_error("policy violation: workspace.read_only: '%s': the agent "
		  "%s it, and %s; check it and remove it before running git "
		  "in this workspace", res->git_redirect,
		  res->git_redirect_change,
		  sandbox_git_redirect_reason(res->git_redirect));
}

static void finish(struct boxed *b, struct record_result *r)
{
	struct sandbox_result res;

	if (b->child.pid > 0 && sandbox_wait(&b->child, &res) == 0) {
		r->timed_out = res.timed_out;
		limit_hits(b->session, &res);
		git_redirect(b->session, &res);
		sandbox_print_unreaped(&res, stderr);
	}
	if (b->supervisor)
		sandbox_seccomp_supervisor_stop(b->supervisor);
	if (b->proxy)
		sandbox_proxy_stop(b->proxy);
}

static void release(struct boxed *b)
{
	sandbox_seccomp_supervisor_free(b->supervisor);
	sandbox_proxy_free(b->proxy);
	for (size_t i = 0; i < b->child.n_port_fds; i++)
		close(b->child.port_fds[i]);
	b->child.n_port_fds = 0;
	if (b->child.pid > 0 && b->helper_reaped)
		b->child.pid = -1;
	sandbox_child_release(&b->child);
	forget_created(b);
	for (size_t i = 0; i < MAX_ENV; i++)
		free(b->env_copy[i]);
}

static void run(struct boxed *b, struct record_gateway *g,
		struct record_result *r)
{
	struct record_session *s = b->session;
	struct record_stdio io;

	if (extend_env(b, record_gateway_env(g, GATEWAY_PORT)) < 0) {
		record_fail(s, "cannot prepare the agent's environment: out "
			    "of memory", NULL);
		return;
	}
	plan(b, g != NULL);
	if (record_forbid_loaders(s) < 0 ||
	    !record_tracer_new(s, on_untraced) ||
	    record_stdio_open(s, &io) < 0)
		return;
	if (launch(b, &io) < 0) {
		record_stdio_close(&io);
		return;
	}
	helper_box = b;
	s->kill_pid = b->child.pid;
	s->sandbox = &b->child;
	if (note_created(b) == 0 && record_session_start(s) == 0 &&
	    !s->stop_signal &&
	    record_stdio_pump(s, &io) == 0 && serve(b, g) == 0)
		describe(b);
	r->stop_signal = s->failed ? 0 : s->stop_signal;
	if (s->failed || s->stop_signal ||
	    record_trace_agent(s, b->child.agent_pid, r) < 0)
		sandbox_kill(&b->child);
	s->kill_pid = 0;
	s->sandbox = NULL;
	finish(b, r);
	helper_box = NULL;
	record_stdio_close(&io);
}

int record_run_sandbox(struct record_session *s, struct record_gateway *g,
		       struct record_result *r)
{
	struct boxed *b = calloc(1, sizeof(*b));

	memset(r, 0, sizeof(*r));
	if (!b) {
		record_fail(s, "cannot start the sandbox: out of memory",
			    NULL);
		record_result_close(r);
		return -1;
	}
	b->session = s;
	b->child.pid = -1;
	b->child.control = -1;
	b->child.notify_fd = -1;
	run(b, g, r);
	release(b);
	free(b);
	record_result_close(r);
	return s->failed ? -1 : 0;
}
