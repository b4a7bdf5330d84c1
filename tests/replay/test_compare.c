/*
 * test_compare.c - unit tests of replay/: runs written as bundles with
 * the events that record writes, loaded back as steps and compared.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle/bundle.h"
#include "bundle/snapshot.h"
#include "harness/exchange_json.h"
#include "replay/replay.h"

/* What a synthetic run is made of: one request, one command, one file. */
struct spec {
	const char *body;     /* request 1's JSON body */
	const char *file;     /* the workspace's one file, at request 1 */
	const char *tool_sha; /* the command's executable */
	const char *tool_argv; /* its argv as JSON; NULL: ["tool"] */
	const char *gateway;   /* the agent's RUNBUNDLE_GATEWAY_URL, or
				* NULL for none */
	int tool_exit;
	int exit_code; /* the agent's */
};

static const struct spec base = {
	.body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"go\"},{\"role\":\"tool\",\"content\":\"ok\"}]}",
	.file = "one\n",
	.tool_sha = "aaaa",
	.tool_exit = 0,
	.exit_code = 0,
};

static char dir[] = "/tmp/rbtest-compare.XXXXXX";

static void event(struct bundle *b, const char *kind, cJSON *data,
		  const char *object)
{
	struct bundle_id ref;
	size_t n = 0;

	if (object) {
		assert_int_equal(bundle_put(b, BUNDLE_JSON, object,
					    strlen(object), &ref),
				 0);
		n = 1;
	}
	assert_int_equal(bundle_append_event(b, kind, data, &ref, n, NULL), 0);
	cJSON_Delete(data);
}

static void workspace(struct bundle *b, const char *at, const char *file,
		      int exchange)
{
	char ws[300], path[320], hex[BUNDLE_ID_HEX_LEN + 1];
	struct bundle_snapshot snap;
	cJSON *data = cJSON_CreateObject();
	FILE *f;

	snprintf(ws, sizeof(ws), "%s/ws-%s", dir, at);
	mkdir(ws, 0755);
	snprintf(path, sizeof(path), "%s/notes.txt", ws);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(file, f);
	fclose(f);
	assert_int_equal(bundle_snapshot_take(b, ws, NULL, &snap), 0);
	bundle_id_to_hex(&snap.root, hex);
	cJSON_AddStringToObject(data, "at", at);
	cJSON_AddStringToObject(data, "root", hex);
	if (exchange)
		cJSON_AddNumberToObject(data, "exchange", exchange);
	event(b, "workspace", data, NULL);
}

static cJSON *proc(int index, int parent)
{
	cJSON *data = cJSON_CreateObject();

	cJSON_AddNumberToObject(data, "index", index);
	cJSON_AddNumberToObject(data, "parent", parent);
	return data;
}

/* The hashes of the executables are in the run's fingerprint. argv is
 * a JSON array, or NULL for [argv0]; env an array of [name, value]
 * pairs, or NULL for none. */
static void exec_with(struct bundle *b, int index, int parent,
		      const char *argv0, const char *argv, const char *env)
{
	cJSON *data = proc(index, parent);
	char object[1024], path[64], one[128];

	snprintf(one, sizeof(one), "[\"%s\"]", argv0);
	snprintf(object, sizeof(object),
		 "{\"argv\":%s,\"error\":null,"
		 "\"cwd\":\"/w\"%s%s}",
		 argv ? argv : one, env ? ",\"env\":" : "", env ? env : "");
	snprintf(path, sizeof(path), "/bin/%s", argv0);
	cJSON_AddStringToObject(data, "path", path);
	event(b, "exec", data, object);
}


static void end(struct bundle *b, int index, int parent, int code)
{
	cJSON *data = proc(index, parent);

	cJSON_AddStringToObject(data, "end", "exited");
	cJSON_AddNumberToObject(data, "exit_code", code);
	event(b, "process-end", data, NULL);
}

static void exchange(struct bundle *b, const char *body)
{
	struct harness_exchange ex = {
		.seq = 1,
		.upstream = "script",
		.request = {.method = "POST",
			    .path = "/v1/chat/completions",
			    .body = (unsigned char *)body,
			    .body_len = strlen(body)},
		.response = {.status = 200},
	};
	char *text = harness_exchange_to_json(&ex);
	cJSON *data = cJSON_CreateObject();

	assert_non_null(text);
	cJSON_AddNumberToObject(data, "seq", 1);
	event(b, "exchange", data, text);
	free(text);
}

/* Create the bundle of run name in dir, with its record event and an
 * empty initial workspace. *path is set to its path, which the caller
 * frees. */
static struct bundle *begin_run(const char *name, char **path)
{
	struct bundle *b;
	cJSON *data;

	*path = malloc(300);
	assert_non_null(*path);
	snprintf(*path, 300, "%s/%s.rb", dir, name);
	b = bundle_create(*path, NULL);
	assert_non_null(b);
	data = cJSON_CreateObject();
	cJSON_AddItemToObject(
		data, "argv",
		cJSON_CreateStringArray((const char *[]){"agent"}, 1));
	cJSON_AddStringToObject(data, "workspace", "/w");
	event(b, "record", data, NULL);
	workspace(b, "initial", "", 0);
	return b;
}

/* End a run whose agent exited 0 with an empty final workspace, and
 * close its bundle. */
static void finish_run(struct bundle *b)
{
	cJSON *data = cJSON_CreateObject();

	workspace(b, "final", "", 0);
	cJSON_AddNumberToObject(data, "exit_code", 0);
	event(b, "end", data, NULL);
	assert_int_equal(bundle_finalize(b, NULL), 0);
	bundle_close(b);
}

/* Write a run: the agent runs a tool, sends one model request, ends. */
static char *write_run(const char *name, const struct spec *s)
{
	char *path, fingerprint[256], env[256];
	struct bundle *b = begin_run(name, &path);
	cJSON *data;

	snprintf(env, sizeof(env), "[[\"RUNBUNDLE_GATEWAY_URL\",\"%s\"]]",
		 s->gateway ? s->gateway : "");
	exec_with(b, 0, -1, "agent", NULL, s->gateway ? env : NULL);
	exec_with(b, 1, 0, "tool", s->tool_argv, NULL);
	end(b, 1, 0, s->tool_exit);
	workspace(b, "request", s->file, 1);
	exchange(b, s->body);
	end(b, 0, -1, s->exit_code);
	workspace(b, "final", s->file, 0);
	snprintf(fingerprint, sizeof(fingerprint),
		 "{\"executables\":["
		 "{\"path\":\"/bin/agent\",\"sha256\":\"cccc\"},"
		 "{\"path\":\"/bin/tool\",\"sha256\":\"%s\"}]}",
		 s->tool_sha);
	event(b, "fingerprint", NULL, fingerprint);
	data = cJSON_CreateObject();
	cJSON_AddNumberToObject(data, "exit_code", s->exit_code);
	event(b, "end", data, NULL);
	assert_int_equal(bundle_finalize(b, NULL), 0);
	bundle_close(b);
	return path;
}

/* Free two loaded runs and remove their bundles at pa and pb. */
static void drop_runs(struct replay_run *a, struct replay_run *b, char *pa,
		      char *pb)
{
	replay_run_free(a);
	replay_run_free(b);
	unlink(pa);
	unlink(pb);
	free(pa);
	free(pb);
}

/* Compare a run written from spec s with one written from a. */
static void compare_specs(const struct spec *sa, const char *name,
			  const struct spec *s, struct replay_comparison *cmp)
{
	char *pa = write_run("base", sa), *pb = write_run(name, s);
	struct replay_run *a = replay_run_load(pa);
	struct replay_run *b = replay_run_load(pb);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(replay_compare(a, b, cmp), 0);
	drop_runs(a, b, pa, pb);
}

static void compare_with_base(const char *name, const struct spec *s,
			      struct replay_comparison *cmp)
{
	compare_specs(&base, name, s, cmp);
}

static void load_steps_and_positions(void **state)
{
	char *path = write_run("load", &base);
	struct replay_run *run = replay_run_load(path);

	(void)state;
	assert_non_null(run);
	assert_int_equal(run->n_steps, 2);
	assert_true(run->steps[0].has_exchange);
	assert_false(run->steps[1].has_exchange);
	assert_true(run->ended);
	assert_int_equal(run->n_procs, 2);
	assert_string_equal(run->procs[0].position, "0");
	assert_string_equal(run->procs[1].position, "0.0");
	assert_int_equal(run->procs[1].step, 1);
	assert_int_equal(run->procs[0].end_step, 2);
	assert_string_equal(run->procs[1].command, "tool");
	assert_string_equal(run->procs[1].exe_sha256, "aaaa");
	replay_run_free(run);
	unlink(path);
	free(path);
}

static void identical_runs(void **state)
{
	struct replay_comparison cmp;

	(void)state;
	compare_with_base("same", &base, &cmp);
	assert_int_equal(cmp.verdict, REPLAY_IDENTICAL);
	assert_int_equal(cmp.first, 0);
	assert_null(replay_explain(&cmp));
	replay_comparison_release(&cmp);
}

static void request_diverges_at_path(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;
	char *why;

	(void)state;
	s.body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"go\"},{\"role\":\"tool\",\"content\":\"no\"}]}";
	compare_with_base("body", &s, &cmp);
	assert_int_equal(cmp.verdict, REPLAY_DIVERGED);
	assert_int_equal(cmp.first, 1);
	assert_int_equal(cmp.steps[0].request.divergent, 1);
	assert_string_equal(cmp.steps[0].request.entries[0].path,
			    "messages[1].content");
	why = replay_explain(&cmp);
	assert_string_equal(why, "step 1: the request differs at "
				 "messages[1].content, which is probably "
				 "the output of `tool` (exit 0, as recorded; "
				 "a guess: no tool call id ties them)");
	free(why);
	replay_comparison_release(&cmp);
}

static void cause_names_failed_tool(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;
	const struct replay_cause *c;
	char *why;

	(void)state;
	s.body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"go\"},{\"role\":\"tool\",\"content\":\"no\"}]}";
	s.tool_exit = 1;
	compare_with_base("cause", &s, &cmp);
	c = &cmp.steps[0].cause;
	assert_true(c->found);
	assert_string_equal(c->path, "messages[1].content");
	assert_string_equal(c->command, "tool");
	assert_string_equal(c->position, "0.0");
	assert_string_equal(c->recorded, "exit 0");
	assert_string_equal(c->other, "exit 1");
	assert_null(c->tie);
	why = replay_explain(&cmp);
	assert_string_equal(why, "step 1: the request differs at "
				 "messages[1].content, which is probably "
				 "the output of `tool` (exit 1, recorded "
				 "exit 0; a guess: no tool call id ties "
				 "them)");
	free(why);
	replay_comparison_release(&cmp);
}

static void uuid_is_volatile(void **state)
{
	struct spec x = base, y = base;
	struct replay_comparison cmp;

	(void)state;
	x.body = "{\"metadata\":{\"id\":"
		 "\"0b9e6d8c-2a8f-4c1e-9d7b-3f5a6e7c8d9e\"}}";
	y.body = "{\"metadata\":{\"id\":"
		 "\"5d2c1b0a-9e8f-4a7b-8c6d-1e2f3a4b5c6d\"}}";
	compare_specs(&x, "uuid", &y, &cmp);
	assert_int_equal(cmp.verdict, REPLAY_VOLATILE);
	assert_int_equal(cmp.first, 0);
	assert_int_equal(cmp.steps[0].request.total, 1);
	assert_int_equal(cmp.steps[0].request.divergent, 0);
	replay_comparison_release(&cmp);
}

static void exit_status_in_final_step(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;
	char *why;

	(void)state;
	s.exit_code = 1;
	compare_with_base("exit", &s, &cmp);
	assert_int_equal(cmp.first, 2);
	assert_true(cmp.steps[1].final);
	assert_true(cmp.steps[1].exit_differs);
	why = replay_explain(&cmp);
	assert_string_equal(why, "step 2 (final): `agent` exit 1, recorded "
				 "exit 0; the exit status is 1, recorded 0");
	free(why);
	replay_comparison_release(&cmp);
}

static void binary_and_status_of_command(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;

	(void)state;
	s.tool_sha = "bbbb";
	s.tool_exit = 2;
	compare_with_base("tool", &s, &cmp);
	assert_int_equal(cmp.first, 1);
	assert_int_equal(cmp.steps[0].n_procs, 2);
	assert_string_equal(cmp.steps[0].procs[0].position, "0.0");
	assert_string_equal(cmp.steps[0].procs[0].what,
			    "ran another binary: /bin/tool has sha256 bbbb, "
			    "recorded aaaa");
	assert_string_equal(cmp.steps[0].procs[1].what,
			    "exit 2, recorded exit 0");
	replay_comparison_release(&cmp);
}

static void file_differs_since_step(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;

	(void)state;
	s.file = "two\n";
	compare_with_base("file", &s, &cmp);
	assert_int_equal(cmp.first, 1);
	assert_int_equal(cmp.steps[0].n_files, 1);
	assert_string_equal(cmp.steps[0].files[0].path, "notes.txt");
	assert_string_equal(cmp.steps[0].files[0].what, "content");
	assert_int_equal(cmp.steps[1].files[0].since, 1);
	replay_comparison_release(&cmp);
}

static void json_report_shape(void **state)
{
	struct spec s = base;
	struct replay_comparison cmp;
	cJSON *json, *first;

	(void)state;
	s.file = "two\n";
	compare_with_base("json", &s, &cmp);
	json = replay_comparison_json(&cmp);
	assert_string_equal(cJSON_GetObjectItem(json, "verdict")->valuestring,
			    "diverged");
	first = cJSON_GetObjectItem(json, "first_divergence");
	assert_int_equal(cJSON_GetObjectItem(first, "step")->valueint, 1);
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(first, "files"),
					   0),
			"path")
			->valuestring,
		"notes.txt");
	cJSON_Delete(json);
	replay_comparison_release(&cmp);
}

static void not_a_bundle(void **state)
{
	char path[300];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/junk.rb", dir);
	f = fopen(path, "w");
	fputs("not sqlite", f);
	fclose(f);
	assert_null(replay_run_load(path));
	assert_non_null(strstr(replay_error(), path));
	unlink(path);
}

/* Write text into ws/name, creating ws and ws/.git first. */
static void write_at(const char *ws, const char *name, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.git", ws);
	mkdir(ws, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s", ws, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void bind_socket(const char *ws, const char *name)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", ws,
			 name);

	assert_true(fd >= 0);
	assert_true(n > 0 && (size_t)n < sizeof(addr.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
}

/* Compare the snapshots of two workspaces, with strictness or not. */
static void compare_dirs(const char *x, const char *y, bool strict,
			 struct replay_step_cmp *sc)
{
	char path[300];
	struct bundle_snapshot sx, sy;
	struct replay_run run = {.path = path, .strict_git_index = strict};

	snprintf(path, sizeof(path), "%s/trees.rb", dir);
	unlink(path);
	run.bundle = bundle_create(path, NULL);
	assert_non_null(run.bundle);
	assert_int_equal(bundle_snapshot_take(run.bundle, x, NULL, &sx), 0);
	assert_int_equal(bundle_snapshot_take(run.bundle, y, NULL, &sy), 0);
	memset(sc, 0, sizeof(*sc));
	sc->step = 1;
	assert_int_equal(replay_compare_trees(&run, &sx.root, &run, &sy.root,
					      sc),
			 0);
	bundle_close(run.bundle);
}

static void git_index_is_volatile(void **state)
{
	char x[300], y[300];
	struct replay_step_cmp sc;

	(void)state;
	snprintf(x, sizeof(x), "%s/idx-a", dir);
	snprintf(y, sizeof(y), "%s/idx-b", dir);
	write_at(x, ".git/index", "stat data of the recording");
	write_at(y, ".git/index", "stat data of the checkout");

	compare_dirs(x, y, false, &sc);
	assert_int_equal(sc.n_files, 0);
	assert_int_equal(sc.volatile_files, 1);
	replay_step_cmp_release(&sc);

	compare_dirs(x, y, true, &sc);
	assert_int_equal(sc.n_files, 1);
	assert_string_equal(sc.files[0].path, ".git/index");
	assert_string_equal(sc.files[0].what, "content");
	replay_step_cmp_release(&sc);
}

static void git_index_added_diverges(void **state)
{
	char x[300], y[300];
	struct replay_step_cmp sc;

	(void)state;
	snprintf(x, sizeof(x), "%s/idx-c", dir);
	snprintf(y, sizeof(y), "%s/idx-d", dir);
	write_at(x, ".git/HEAD", "ref: refs/heads/main\n");
	write_at(y, ".git/HEAD", "ref: refs/heads/main\n");
	write_at(y, ".git/index", "new");
	write_at(x, "index", "one");
	write_at(y, "index", "two");

	compare_dirs(x, y, false, &sc);
	/* An index outside .git is a file like any other. */
	assert_int_equal(sc.n_files, 2);
	assert_string_equal(sc.files[0].path, ".git/index");
	assert_string_equal(sc.files[0].what, "added");
	assert_string_equal(sc.files[1].path, "index");
	assert_int_equal(sc.volatile_files, 0);
	replay_step_cmp_release(&sc);
}

static void sockets_left_out(void **state)
{
	char x[300], y[300];
	struct replay_step_cmp sc;

	(void)state;
	snprintf(x, sizeof(x), "%s/sock-a", dir);
	snprintf(y, sizeof(y), "%s/sock-b", dir);
	write_at(x, "f", "same");
	write_at(y, "f", "same");
	bind_socket(x, "s");

	compare_dirs(x, y, true, &sc);
	assert_int_equal(sc.n_files, 0);
	replay_step_cmp_release(&sc);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Return whether text has a byte that a terminal takes as control. */
static bool has_control(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

static void control_characters_replaced(void **state)
{
	struct spec x = base, y = base;
	struct replay_comparison cmp;
	char *why, *text;

	(void)state;
	x.tool_argv = "[\"tool\",\"x\\u001b]0;pwned\\u0007\\r\\nFAKE\"]";
	y.tool_argv = "[\"tool\",\"y\\u001b]0;pwned\\u0007\\r\\nFAKE\"]";
	compare_specs(&x, "control", &y, &cmp);
	assert_int_equal(cmp.first, 1);
	why = replay_explain(&cmp);
	text = replay_comparison_text(&cmp);
	assert_non_null(why);
	assert_non_null(text);
	assert_false(has_control(why));
	assert_non_null(strstr(why, "`tool x?]0;pwned??...` ran as "
				    "`tool y?]0;pwned??...`"));
	assert_non_null(strstr(text, "`tool x?]0;pwned???FAKE`"));
	assert_null(strstr(text, "\nFAKE"));
	/* The text report ends its lines, and has no other control. */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_false(has_control(line));
	free(why);
	free(text);
	replay_comparison_release(&cmp);
}

static void argv_excerpt_shows_difference(void **state)
{
	struct spec x = base, y = base;
	struct replay_comparison cmp;
	char *why;

	(void)state;
	x.tool_argv = "[\"tool\",\"a long constant prefix that fills the "
		      "first seventy-two bytes of the line\",\"then-xxxx\","
		      "\"and-a-tail-that-is-the-same-in-both-runs\"]";
	y.tool_argv = "[\"tool\",\"a long constant prefix that fills the "
		      "first seventy-two bytes of the line\",\"then-yyyy\","
		      "\"and-a-tail-that-is-the-same-in-both-runs\"]";
	compare_specs(&x, "excerpt", &y, &cmp);
	assert_int_equal(cmp.first, 1);
	why = replay_explain(&cmp);
	assert_non_null(why);
	assert_non_null(strstr(why,
			       "`... bytes of the line then-xxxx "
			       "and-a-tail-that-is-the-same-in-both-runs` "
			       "ran as `... bytes of the line then-yyyy "
			       "and-a-tail-that-is-the-same-in-both-runs`"));
	free(why);
	replay_comparison_release(&cmp);
}

static void gateway_address_no_difference(void **state)
{
	const char *differing[] = {
		"[\"curl\",\"http://127.0.0.1:40003/v1/chat\"]",
		"[\"curl\",\"http://127.0.0.1:400021/v1/chat\"]",
	};
	struct spec x = base, y = base;
	struct replay_comparison cmp;

	(void)state;
	x.gateway = "http://127.0.0.1:40001";
	x.tool_argv = "[\"curl\",\"http://127.0.0.1:40001/v1/chat\"]";
	y.gateway = "http://127.0.0.1:40002";
	y.tool_argv = "[\"curl\",\"http://127.0.0.1:40002/v1/chat\"]";
	compare_specs(&x, "gateway", &y, &cmp);
	assert_int_equal(cmp.verdict, REPLAY_IDENTICAL);
	replay_comparison_release(&cmp);

	/* Another port than the gateway's is a difference, and so is a
	 * longer port that starts with the gateway's. */
	for (size_t i = 0; i < sizeof(differing) / sizeof(*differing); i++) {
		y.tool_argv = differing[i];
		compare_specs(&x, "other", &y, &cmp);
		assert_int_equal(cmp.verdict, REPLAY_DIVERGED);
		assert_int_equal(cmp.steps[0].n_procs, 1);
		assert_string_equal(cmp.steps[0].procs[0].position, "0.0");
		replay_comparison_release(&cmp);
	}
}

/* Write a run of an agent that starts n children, the tool with argv
 * ["tool", "xI"] for I from 0 up, or from n - 1 down. */
static char *write_many(const char *name, int n, bool down)
{
	char *path, arg[32];
	struct bundle *b = begin_run(name, &path);
	cJSON *data;

	exec_with(b, 0, -1, "agent", NULL, NULL);
	assert_int_equal(bundle_begin(b), 0);
	for (int i = 0; i < n; i++) {
		const char *argv[2] = {"tool", arg};

		snprintf(arg, sizeof(arg), "x%d", down ? n - 1 - i : i);
		data = proc(i + 1, 0);
		cJSON_AddStringToObject(data, "path", "/bin/tool");
		cJSON_AddItemToObject(data, "argv",
				      cJSON_CreateStringArray(argv, 2));
		event(b, "exec", data, NULL);
		end(b, i + 1, 0, 0);
	}
	assert_int_equal(bundle_commit(b), 0);
	end(b, 0, -1, 0);
	finish_run(b);
	return path;
}

/* Pair a loop of execs that ran in the reverse order, each with its
 * own. A search of all the other run's children for each child would
 * take minutes here, past the test's timeout. */
static void pair_many_reversed_children(void **state)
{
	enum { N = 20000 };
	char *pa = write_many("up", N, false), *pb = write_many("down", N,
								 true);
	struct replay_run *a = replay_run_load(pa);
	struct replay_run *b = replay_run_load(pb);
	struct replay_comparison cmp;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->n_procs, N + 1);
	assert_int_equal(replay_compare(a, b, &cmp), 0);
	assert_int_equal(cmp.verdict, REPLAY_IDENTICAL);
/*PAIRS*/
	replay_comparison_release(&cmp);
	drop_runs(a, b, pa, pb);
}

static void clean_json_strings(void **state)
{
	cJSON *raw = cJSON_Parse("{\"path\\u001b[2J\": \"x\\u0007y\","
				 "\"list\": [\"\\r\\nFAKE\", 1]}");
	cJSON *clean = replay_clean_json(raw);
	char *text = cJSON_PrintUnformatted(clean);

	(void)state;
	assert_string_equal(text, "{\"path?[2J\":\"x?y\","
				  "\"list\":[\"??FAKE\",1]}");
	free(text);
	cJSON_Delete(clean);
	cJSON_Delete(raw);
}

/* Five processes differ in status, and the cause names the last: the
 * explanation names three and counts one more, not the cause's. */
static void more_procs_leave_out_cause(void **state)
{
	struct replay_proc_diff procs[5];
	struct replay_step_cmp sc = {.step = 1, .procs = procs, .n_procs = 5};
	struct replay_comparison cmp = {.verdict = REPLAY_DIVERGED,
					.first = 1, .steps = &sc,
					.n_steps = 1};
	char positions[5][8], commands[5][8];
	char *why;

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(positions[i], sizeof(positions[i]), "0.%d", i);
		snprintf(commands[i], sizeof(commands[i]), "tool%d", i);
		procs[i] = (struct replay_proc_diff){
			.position = positions[i], .command = commands[i],
			.what = "exit 1, recorded exit 0",
			.json = cJSON_Parse("{\"difference\":\"status\"}")};
		assert_non_null(procs[i].json);
	}
	sc.cause = (struct replay_cause){.found = true, .step = 1,
					 .position = positions[4]};
	why = replay_explain(&cmp);
	assert_non_null(why);
	assert_non_null(strstr(why, "tool2"));
	assert_null(strstr(why, "tool3"));
	assert_null(strstr(why, "tool4"));
	assert_non_null(strstr(why, "; 1 more process differs"));
	free(why);
	for (int i = 0; i < 5; i++)
		cJSON_Delete(procs[i].json);
}

/* An exec event as record writes it: the exec's object, then its
 * environment as a second object. */
static void exec_env(struct bundle *b, int index, int parent,
		     const char *env)
{
	const char *object = "{\"argv\":[\"tool\"],\"cwd\":\"/w\"}";
	cJSON *data = proc(index, parent);
	struct bundle_id refs[2];

	cJSON_AddStringToObject(data, "path", "/bin/tool");
	assert_int_equal(bundle_put(b, BUNDLE_JSON, object, strlen(object),
				    &refs[0]),
			 0);
	assert_int_equal(bundle_put(b, BUNDLE_JSON, env, strlen(env),
				    &refs[1]),
			 0);
	assert_int_equal(bundle_append_event(b, "exec", data, refs, 2, NULL),
			 0);
	cJSON_Delete(data);
}

/* A run whose agent has environment env and a tool tool_env, and a
 * second tool, with env, below two forks that name each other as
 * parent, which only a damaged bundle has. */
static char *write_env_run(const char *name, const char *env,
			   const char *tool_env)
{
	char *path;
	struct bundle *b = begin_run(name, &path);

	exec_env(b, 0, -1, env);
	exec_env(b, 1, 0, tool_env);
	event(b, "process-start", proc(2, 3), NULL);
	event(b, "process-start", proc(3, 2), NULL);
	exec_env(b, 4, 3, env);
	end(b, 4, 3, 0);
	end(b, 1, 0, 0);
	end(b, 0, -1, 0);
	finish_run(b);
	return path;
}

/* A variable that differs is named at the agent, not again at the tool
 * that inherits it, and the tool's own variable that differs is named
 * at the tool. A loop of parents in a damaged bundle ends the search
 * for a parent instead of holding the comparison. */
static void env_named_once(void **state)
{
	char *pa = write_env_run("env-a", "[[\"LANG\",\"C\"],[\"X\",\"1\"]]",
				 "[[\"LANG\",\"C\"],[\"X\",\"1\"],"
				 "[\"Y\",\"a\"]]");
	char *pb = write_env_run("env-b", "[[\"LANG\",\"C\"],[\"X\",\"2\"]]",
				 "[[\"LANG\",\"C\"],[\"X\",\"2\"],"
				 "[\"Y\",\"b\"]]");
	struct replay_run *a = replay_run_load(pa);
	struct replay_run *b = replay_run_load(pb);
	struct replay_comparison cmp;
	const struct replay_step_cmp *sc;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(replay_compare(a, b, &cmp), 0);
	assert_int_equal(cmp.verdict, REPLAY_DIVERGED);
	sc = &cmp.steps[cmp.first - 1];
	/* The agent, the tool, and the tool below the loop, whose parent
	 * is not found. */
	assert_int_equal(sc->n_procs, 3);
	assert_string_equal(sc->procs[0].position, "0");
	assert_string_equal(sc->procs[0].what, "ran with X=2, recorded X=1");
	assert_string_equal(sc->procs[1].position, "0.0");
	assert_string_equal(sc->procs[1].what, "ran with Y=b, recorded Y=a");
	assert_string_equal(sc->procs[2].what, "ran with X=2, recorded X=1");
	replay_comparison_release(&cmp);
	drop_runs(a, b, pa, pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_steps_and_positions),
		cmocka_unit_test(identical_runs),
		cmocka_unit_test(request_diverges_at_path),
		cmocka_unit_test(cause_names_failed_tool),
		cmocka_unit_test(uuid_is_volatile),
		cmocka_unit_test(exit_status_in_final_step),
		cmocka_unit_test(binary_and_status_of_command),
		cmocka_unit_test(file_differs_since_step),
		cmocka_unit_test(json_report_shape),
		cmocka_unit_test(not_a_bundle),
		cmocka_unit_test(git_index_is_volatile),
		cmocka_unit_test(git_index_added_diverges),
		cmocka_unit_test(sockets_left_out),
		cmocka_unit_test(control_characters_replaced),
		cmocka_unit_test(argv_excerpt_shows_difference),
		cmocka_unit_test(gateway_address_no_difference),
		cmocka_unit_test(clean_json_strings),
		cmocka_unit_test(pair_many_reversed_children),
		cmocka_unit_test(more_procs_leave_out_cause),
		cmocka_unit_test(env_named_once),
	};
	int rc;

	assert_non_null(mkdtemp(dir));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}
