/*
 * test_sandbox.c - unit tests of the policy reader, the description
 * comparison and the launch API (real sandboxes, real sockets).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

static struct sandbox_policy *parse(const char *json)
{
	return sandbox_policy_parse(json, strlen(json), "policy.json");
}

/* The policy in json is rejected with message after the file's name. */
static void expect_error(const char *json, const char *message)
{
	struct sandbox_policy *p = parse(json);
	char want[1024];

	assert_null(p);
	snprintf(want, sizeof(want), "invalid policy: 'policy.json': %s",
		 message);
	assert_string_equal(sandbox_error(), want);
}

static void policy_port_out_of_range(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"a.org:443\", \"b.org:80\", \"example.com:99999\"]}}",
		     "network.allow[2]: \"example.com:99999\": "
		     "port out of range");
}

/* An entry that no request could match is rejected with the fix. */
static void policy_host_never_matched(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"*.npmjs.org:443\"]}}",
		     "network.allow[0]: \"*.npmjs.org:443\": "
		     "wildcards are not supported");
	assert_string_equal(sandbox_error_hint(),
			    "list each host name that the agent needs, such "
			    "as registry.npmjs.org");
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"b\u00fccher.example:443\"]}}",
		     "network.allow[0]: \"b\u00fccher.example:443\": "
		     "host name is not ASCII");
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"a%b.example:443\"]}}",
		     "network.allow[0]: \"a%b.example:443\": "
		     "invalid character in host");
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"127.1:80\"]}}",
		     "network.allow[0]: \"127.1:80\": "
		     "IPv4 address not in dotted-quad form");
	assert_string_equal(sandbox_error_hint(), "write it as 127.0.0.1");
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"0x7f000001:80\"]}}",
		     "network.allow[0]: \"0x7f000001:80\": "
		     "IPv4 address not in dotted-quad form");
}

/* Older versions recorded such entries, which act in a replay as they
 * did in the recording, so a recorded policy with one is still read. */
static void policy_recorded_host_never_matched(void **state)
{
	static const char *const hosts[] = {
		"*.npmjs.org:443", "b\u00fccher.example:443",
		"a%b.example:443", "127.1:80", "0x7f000001:80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char json[160];
		struct sandbox_policy *policy;

		snprintf(json, sizeof(json), "{\"version\": 1, \"network\": "
			 "{\"allow\": [\"%s\"]}}", hosts[i]);
		policy = sandbox_policy_parse_recorded(json, strlen(json),
						       "run.rb");
		if (!policy)
			fail_msg("%s: %s", hosts[i], sandbox_error());
		sandbox_policy_free(policy);
	}
}

static void policy_unknown_key(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"filesystem\": {\"readonly\": []}}",
		     "filesystem.readonly: unknown key");
	expect_error("{\"version\": 1, \"colour\": 1}",
		     "colour: unknown key");
	assert_string_equal(sandbox_error_hint(),
			    "docs/policy.md lists the keys of each section");
}

/* A recorded policy has no file of its own, so the messages name the
 * bundle that contains it. */
static void policy_recorded_names_bundle(void **state)
{
	const char *json = "{\"version\": 2}";

	(void)state;
	assert_null(sandbox_policy_parse_recorded(json, strlen(json),
						  "run.rb"));
	assert_string_equal(sandbox_error(),
			    "invalid recorded policy: 'run.rb': version: 2: "
			    "unsupported version (this runbundle reads "
			    "version 1)");
}

static void policy_bad_values(void **state)
{
	(void)state;
	expect_error("{}", "version: missing (the current "
			   "version is 1)");
	expect_error("{\"version\": 2}", "version: 2: "
		     "unsupported version (this runbundle reads version 1)");
	expect_error("{\"version\": 1, \"filesystem\": {\"read_only\": "
		     "[\"usr\"]}}", "filesystem.read_only[0]: "
		     "\"usr\": not an absolute path");
	expect_error("{\"version\": 1, \"workspace\": {\"read_only\": "
		     "[\"../x\"]}}", "workspace.read_only[0]: "
		     "\"../x\": not a normalised path (no '.', '..', '//' or "
		     "trailing '/')");
	expect_error("{\"version\": 1, \"limits\": {\"processes\": -1}}",
		     "limits.processes: -1: not a non-negative "
		     "integer");
	expect_error("{\"version\": 1, \"exec\": {\"deny\": [\"bin/su\"]}}",
		     "exec.deny[0]: \"bin/su\": neither a "
		     "command name nor an absolute path");
	expect_error("{\"version\": 1, \"env\": {\"set\": {\"A B\": \"x\"}}}",
		     "env.set.A B: not a variable name");
	expect_error("{\"version\": 1, \"network\": {\"allow\": "
		     "[\"::1:80\"]}}", "network.allow[0]: "
		     "\"::1:80\": IPv6 address not in brackets");
	expect_error("[1]", "the policy must be a JSON object");
	expect_error("[]", "the policy must be a JSON object");
	expect_error("{\"version\": 1,", "invalid JSON near "
		     "byte 13: the text ends before the policy does: a "
		     "'}' or ']' is missing");
}

/* A syntax error names the mistake, not only the byte where cJSON
 * stopped. */
static void policy_syntax_reasons(void **state)
{
	struct sandbox_policy *p;

	(void)state;
	expect_error("", "invalid JSON near byte 0: the file is empty");
	expect_error(" \n", "invalid JSON near byte 1: the file is empty");
	expect_error("{\"version\": 1,}", "invalid JSON near byte 14: a "
		     "comma before the closing bracket");
	expect_error("{\"version\": 1 // one\n}", "invalid JSON near byte "
		     "14: a comment, which JSON does not allow");
	expect_error("{'version': 1}", "invalid JSON near byte 2: a single "
		     "quote: JSON strings take double quotes");
	expect_error("{\"version\": 1 \"hostname\": \"a\"}", "invalid JSON "
		     "near byte 14: a missing comma between two values");
	expect_error("{\"version\": 1, \"hostname\": \"a}", "invalid JSON "
		     "near byte 28: a string is not closed: a '\"' is "
		     "missing");
	expect_error("{\"version\": tru}", "invalid JSON near byte 12: a "
		     "word without quotes: strings take double quotes, and "
		     "the only bare words are true, false and null");
	expect_error("{\"env\": {\"set\": {\"A\": \"\\x\"}}}", "invalid "
		     "JSON near byte 23: an invalid escape in a string: JSON "
		     "has \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and "
		     "\\uXXXX");
	expect_error("{\"env\": {\"set\": {\"A\": \"\\u0041\\ud800\"}}}",
		     "invalid JSON near byte 29: an invalid \\u escape in a "
		     "string: four hex digits, and a surrogate (\\uD800 to "
		     "\\uDFFF) only as a pair of a high and a low one");
	/* A file ends with a newline, so cJSON stops past the '}'. */
	expect_error("{\"version\": 1,\n}\n", "invalid JSON near byte 16: "
		     "a comma before the closing bracket");
	expect_error("{\"version\" 1}", "invalid JSON near byte 11: a "
		     "missing colon after a key");
	expect_error("{\"version\": 1, \"hostname\" \"a\"}", "invalid "
		     "JSON near byte 26: a missing colon after a key");
	expect_error("{\"env\": {\"set\": [\"A\" \"B\"]}}", "invalid "
		     "JSON near byte 21: a missing comma between two values");
	expect_error("{\"version\": 1, \"filesystem\": {} {}}", "invalid "
		     "JSON near byte 32: a missing comma between two values");
	/* A '"' in a comment does not make the comment an open string. */
	expect_error("{\"version\": 1 // \"one\n}", "invalid JSON near "
		     "byte 14: a comment, which JSON does not allow");
	/* An open bracket at the end does not explain an earlier error. */
	expect_error("{\"version\": one, \"env\": {", "invalid JSON near "
		     "byte 12: a word without quotes: strings take double "
		     "quotes, and the only bare words are true, false and "
		     "null");
	p = parse("{\"version\": 1, \"env\": {\"set\": {\"A\": "
		  "\"\\ud83d\\ude00\"}}}");
	assert_non_null(p);
	sandbox_policy_free(p);
}

static void policy_duplicate_key(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"limits\": {\"timeout_seconds\": 2}, "
		     "\"limits\": {}}", "limits: duplicate key");
	expect_error("{\"version\": 1, \"hostname\": \"first\", "
		     "\"hostname\": \"second\"}",
		     "hostname: duplicate key");
	expect_error("{\"version\": 1, \"env\": {\"set\": {\"A\": \"1\", "
		     "\"A\": \"2\"}}}",
		     "env.set.A: duplicate key");
	assert_string_equal(sandbox_error_hint(), "keep one 'A' in the object");
}

static void policy_trailing_text(void **state)
{
	(void)state;
	expect_error("{\"version\":1} x", "invalid JSON near "
		     "byte 14: text after the end of the policy");
	expect_error("{\"version\":1}{}", "invalid JSON near "
		     "byte 13: text after the end of the policy");
	assert_string_equal(sandbox_error_hint(),
			    "a policy is one JSON object: remove what "
			    "follows it");
	assert_null(sandbox_policy_parse("{\"version\":1}\0x", 15,
					 "policy.json"));

	struct sandbox_policy *p = parse("{\"version\":1}\n\t \n");

	assert_non_null(p);
	sandbox_policy_free(p);
}

static void policy_home_over_read_only(void **state)
{
	struct sandbox_policy *p;

	(void)state;
	expect_error("{\"version\": 1, \"home\": {\"path\": \"/etc\"}}",
		     "home.path: \"/etc\": HOME cannot be, "
		     "contain or lie inside the system or read-only path "
		     "'/etc'");
	expect_error("{\"version\": 1, \"home\": {\"path\": \"/opt/h\"}}",
		     "home.path: \"/opt/h\": HOME cannot be, "
		     "contain or lie inside the system or read-only path "
		     "'/opt'");
	expect_error("{\"version\": 1, \"home\": {\"path\": \"/srv\"}, "
		     "\"filesystem\": {\"read_only\": [\"/srv/tools\"]}}",
		     "home.path: \"/srv\": HOME cannot be, "
		     "contain or lie inside the system or read-only path "
		     "'/srv/tools'");
	p = parse("{\"version\": 1, \"home\": {\"path\": \"/srv/h\"}}");
	assert_non_null(p);
	sandbox_policy_free(p);
}

static void policy_hostname_label(void **state)
{
	static const char *const bad_names[] = {
		"\"a\\u0000b\"", "\"a/b\"", "\"a b\"", "\"a\\nb\"", "\"\"",
		"\"-a\"", "\"a-\"", "\"a.b\"",
		/* 64 letters, one more than a label may have */
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	};
	struct sandbox_policy *p;
	char json[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		snprintf(json, sizeof(json), "{\"version\": 1, "
			 "\"hostname\": %s}", bad_names[i]);
		assert_null(parse(json));
		assert_non_null(strstr(sandbox_error(),
				       "invalid policy: 'policy.json': "));
	}
	expect_error("{\"version\": 1, \"hostname\": \"a b\"}",
		     "hostname: \"a b\": not a host name label "
		     "(1 to 63 letters, digits and '-', not starting or ending "
		     "with '-')");
	expect_error("{\"version\": 1, \"hostname\": \"a\\u0000b\"}",
		     "invalid JSON near byte 29: a NUL character "
		     "(\\u0000), which no policy value may contain");
	p = parse("{\"version\": 1, \"hostname\": \"build-01\"}");
	assert_non_null(p);
	assert_string_equal(p->hostname, "build-01");
	sandbox_policy_free(p);
}

static void policy_nested_too_deep(void **state)
{
	char json[4096];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(json, sizeof(json), "{\"version\": 1, \"x\": ");
	for (int i = 0; i < 2000 && n < sizeof(json) - 1; i++)
		json[n++] = '[';
	json[n] = '\0';
	expect_error(json, "invalid JSON near byte 35: nested "
			   "too deep (more than 16 levels)");
	expect_error("{\"version\": 1, \"x\": \"[[[[[[[[[[[[[[[[[[[[\"}",
		     "x: unknown key");
}

static void policy_processes_minimum(void **state)
{
	struct sandbox_policy *p;

	(void)state;
	expect_error("{\"version\": 1, \"limits\": {\"processes\": 2}}",
		     "limits.processes: 2: too small: the "
		     "sandbox's helper, init and the command count against "
		     "it, so raise it to at least 3, or 0 for no limit");
	p = parse("{\"version\": 1, \"limits\": {\"processes\": 0}}");
	assert_non_null(p);
	sandbox_policy_free(p);
	p = parse("{\"version\": 1, \"limits\": {\"processes\": 3}}");
	assert_non_null(p);
	sandbox_policy_free(p);
}

static void policy_defaults_and_sizes(void **state)
{
	struct sandbox_policy *p;

	(void)state;
	p = parse("{\"version\": 1, \"limits\": {\"memory_bytes\": \"4G\", "
		  "\"processes\": 10}}");
	assert_non_null(p);
	assert_int_equal(p->limits.memory_bytes, 4ULL << 30);
	assert_int_equal(p->limits.processes, 10);
	assert_int_equal(p->limits.timeout_seconds, 3600);
	assert_string_equal(p->read_only.items[0], "/usr");
	assert_string_equal(p->home_path, "/home/agent");
	assert_true(sandbox_env_matches(&p->env_pass, "LC_ALL"));
	assert_false(sandbox_env_matches(&p->env_pass, "OPENAI_API_KEY"));
	sandbox_policy_free(p);
}

static void policy_round_trip(void **state)
{
	struct sandbox_policy *a = sandbox_policy_default(), *b;
	cJSON *ja, *jb;
	char *text;

	(void)state;
	ja = sandbox_policy_to_json(a);
	text = cJSON_PrintUnformatted(ja);
	b = parse(text);
	assert_non_null(b);
	jb = sandbox_policy_to_json(b);
	assert_true(cJSON_Compare(ja, jb, 1));
	free(text);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	sandbox_policy_free(a);
	sandbox_policy_free(b);
}

static void compare_reports_each_difference(void **state)
{
	cJSON *a = cJSON_Parse("{\"landlock\": {\"abi\": 7}, \"hostname\": "
			       "\"x\", \"mounts\": [{\"path\": \"/w\", "
			       "\"host_source\": \"/a\"}]}");
	cJSON *b = cJSON_Parse("{\"landlock\": {\"abi\": 5}, \"hostname\": "
			       "\"x\", \"mounts\": [{\"path\": \"/w\", "
			       "\"host_source\": \"/b\"}, "
			       "{\"path\": \"/z\"}]}");
	char *text = NULL;

	(void)state;
	assert_int_equal(sandbox_description_compare(a, a, NULL), 0);
	assert_int_equal(sandbox_description_compare(a, b, &text), 2);
	assert_non_null(strstr(text, "landlock.abi: recorded 7, present 5\n"));
	assert_non_null(strstr(text, "mounts /z: recorded missing, now "
				     "mount\n"));
	free(text);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* A temporary workspace that every identity can use. */
static char *make_workspace(void)
{
	char *dir = strdup("/tmp/rbtest-launch.XXXXXX");

	assert_non_null(mkdtemp(dir));
	chmod(dir, 0777);
	return dir;
}

static char *read_text(const char *dir, const char *name)
{
	static char buf[4096];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void remove_workspace(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static int run(struct sandbox_config *c, struct sandbox_result *r)
{
	struct sandbox_child child;

	if (sandbox_launch(c, &child) < 0)
		return -1;
	assert_true(child.agent_pid > 0);
	assert_true(child.agent_pid != child.pid);
	assert_int_equal(sandbox_wait(&child, r), 0);
	sandbox_child_release(&child);
	return 0;
}

/* The number of PID namespaces that pid is in, from NSpid in its
 * status file. */
static int pid_namespace_depth(pid_t pid)
{
	char path[64], line[256];
	int depth = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		for (char *t = strtok(line + 6, " \t\n"); t;
		     t = strtok(NULL, " \t\n"))
			depth++;
	}
	fclose(f);
	return depth;
}

/* Launch cat reading a pipe, so the run lasts until the write end is
 * closed, and return how deep child.pid is in PID namespaces. */
static int launch_and_inspect(void)
{
	struct sandbox_policy *p = sandbox_policy_default();
	char *ws = make_workspace();
	char *argv[] = { "cat", NULL };
	struct sandbox_config c = { .policy = p, .workspace = ws,
				    .argv = argv };
	struct sandbox_child child;
	struct sandbox_result r;
	int fds[2], saved, depth;

	assert_int_equal(pipe(fds), 0);
	saved = dup(0);
	assert_int_equal(dup2(fds[0], 0), 0);
	close(fds[0]);
	assert_int_equal(sandbox_launch(&c, &child), 0);
	dup2(saved, 0);
	close(saved);
	depth = pid_namespace_depth(child.pid);
	close(fds[1]);
	assert_int_equal(sandbox_wait(&child, &r), 0);
	assert_int_equal(r.exit_code, 0);
	sandbox_child_release(&child);
	remove_workspace(ws);
	sandbox_policy_free(p);
	return depth;
}

/* The read end of a pipe, and a semaphore that the thread posts once it
 * runs. */
struct blocker {
	int fd;
	sem_t running;
};

static void *block_on_pipe(void *arg)
{
	struct blocker *b = arg;
	char byte;

	sem_post(&b->running);
	(void)!read(b->fd, &byte, 1);
	return NULL;
}

/* A single-threaded caller clones init itself, which is then PID 1 of
 * a new namespace; a caller with threads forks a helper outside it. */
static void launch_clones_init_or_forks_helper(void **state)
{
	struct blocker b;
	pthread_t thread;
	int fds[2];

	(void)state;
	assert_int_equal(launch_and_inspect(), 2);
	assert_int_equal(pipe(fds), 0);
	b.fd = fds[0];
	assert_int_equal(sem_init(&b.running, 0, 0), 0);
	assert_int_equal(pthread_create(&thread, NULL, block_on_pipe, &b), 0);

	/* ASan's allocator is not fork-safe: a fork while the new thread
	 * still sets itself up with the allocator's lock held leaves the
	 * child's first allocation waiting for ever. glibc's allocator,
	 * which a release build uses, is. */
	sem_wait(&b.running);
	assert_int_equal(launch_and_inspect(), 1);
	close(fds[1]);
	pthread_join(thread, NULL);
	sem_destroy(&b.running);
	close(fds[0]);
}

static void launch_maps_ids_and_workspace(void **state)
{
	struct sandbox_policy *p = sandbox_policy_default();
	char *ws = make_workspace();
	char *argv[] = { "sh", "-c", "echo $(id -u) $(id -g) $(pwd) "
		"$(hostname) > out; exit 7", NULL };
	struct sandbox_config c = {
		.policy = p, .workspace = ws,
		.workspace_inside = "/work/replayed", .argv = argv,
		.set_ids = true, .uid = 1234, .gid = 2345,
	};
	struct sandbox_result r;

	(void)state;
	assert_int_equal(run(&c, &r), 0);
	assert_int_equal(r.exit_code, 7);
	assert_false(r.timed_out);
	assert_string_equal(read_text(ws, "out"),
			    "1234 2345 /work/replayed runbundle\n");
	remove_workspace(ws);
	sandbox_policy_free(p);
}

/* The parent serves a port that the agent connects to inside. */
static void launch_passes_listening_sockets(void **state)
{
	struct sandbox_policy *p = sandbox_policy_default();
	char *ws = make_workspace();
	char *argv[] = { "/usr/bin/python3", "-c",
		"import socket\n"
		"s = socket.create_connection(('127.0.0.1', 4711))\n"
		"open('out', 'wb').write(s.recv(5))\n", NULL };
	static const uint16_t ports[] = { 4711, 4712 };
	struct sandbox_config c = {
		.policy = p, .workspace = ws, .argv = argv,
		.ports = ports, .n_ports = 2,
	};
	struct sandbox_child child;
	struct sandbox_result r;
	int conn;

	(void)state;
	assert_int_equal(sandbox_launch(&c, &child), 0);
	assert_int_equal(child.n_port_fds, 2);
	conn = accept(child.port_fds[0], NULL, NULL);
	assert_true(conn >= 0);
	assert_int_equal(write(conn, "hello", 5), 5);
	close(conn);
	assert_int_equal(sandbox_wait(&child, &r), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(read_text(ws, "out"), "hello");
	close(child.port_fds[0]);
	close(child.port_fds[1]);
	sandbox_child_release(&child);
	remove_workspace(ws);
	sandbox_policy_free(p);
}

static int failing_hook(void *arg)
{
	(void)arg;
	errno = EPROTO;
	return -1;
}

static void launch_reports_hook_and_exec_failures(void **state)
{
	struct sandbox_policy *p = sandbox_policy_default();
	char *ws = make_workspace();
	char *argv[] = { "no-such-command-here", NULL };
	char *argv_true[] = { "true", NULL };
	struct sandbox_config c = { .policy = p, .workspace = ws,
				    .argv = argv };
	struct sandbox_result r;

	(void)state;
	assert_int_equal(run(&c, &r), 0);
	assert_int_equal(r.exit_code, 127);
	assert_true(r.exec_failed);
	assert_string_equal(r.message, "cannot run the command: "
			    "'no-such-command-here': No such file or "
			    "directory");

	c.argv = argv_true;
	c.hook = failing_hook;
	assert_int_equal(run(&c, &r), 0);
	assert_int_equal(r.exit_code, 125);
	assert_non_null(strstr(r.message, "the launch hook failed"));
	remove_workspace(ws);
	sandbox_policy_free(p);
}

static void launch_filters_secrets(void **state)
{
	struct sandbox_policy *p = parse("{\"version\": 1, \"env\": {"
		"\"pass\": [\"RB_*\"], \"secrets\": [\"RB_SECRET\"], "
		"\"set\": {\"RB_SET\": \"v\"}}}");
	char *ws = make_workspace();
	char *env[] = { "RB_PLAIN=1", "RB_SECRET=hunter2", "OTHER=x", NULL };
	char *argv[] = { "sh", "-c", "env | sort | grep -v '^PWD=' > out",
			 NULL };
	struct sandbox_config c = { .policy = p, .workspace = ws,
				    .argv = argv, .env = env };
	struct sandbox_result r;

	(void)state;
	assert_non_null(p);
	assert_int_equal(run(&c, &r), 0);
	assert_string_equal(read_text(ws, "out"),
			    "HOME=/home/agent\nPATH=/usr/local/sbin:/usr/local/"
			    "bin:/usr/sbin:/usr/bin:/sbin:/bin\nRB_PLAIN=1\n"
			    "RB_SET=v\n");
	remove_workspace(ws);
	sandbox_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_port_out_of_range),
		cmocka_unit_test(policy_host_never_matched),
		cmocka_unit_test(policy_recorded_host_never_matched),
		cmocka_unit_test(policy_unknown_key),
		cmocka_unit_test(policy_recorded_names_bundle),
		cmocka_unit_test(policy_bad_values),
		cmocka_unit_test(policy_duplicate_key),
		cmocka_unit_test(policy_trailing_text),
		cmocka_unit_test(policy_syntax_reasons),
		cmocka_unit_test(policy_home_over_read_only),
		cmocka_unit_test(policy_hostname_label),
		cmocka_unit_test(policy_nested_too_deep),
		cmocka_unit_test(policy_processes_minimum),
		cmocka_unit_test(policy_defaults_and_sizes),
		cmocka_unit_test(policy_round_trip),
		cmocka_unit_test(compare_reports_each_difference),
		cmocka_unit_test(launch_maps_ids_and_workspace),
		cmocka_unit_test(launch_clones_init_or_forks_helper),
		cmocka_unit_test(launch_passes_listening_sockets),
		cmocka_unit_test(launch_reports_hook_and_exec_failures),
		cmocka_unit_test(launch_filters_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
