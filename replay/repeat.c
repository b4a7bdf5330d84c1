/*
 * repeat.c - many replays of one run (repeat.h). Each replay runs in a
 * child process of its own, so that -j can run several at once and a
 * replay's signal state and threads never meet another's. The parent
 * then loads every replay's bundle and counts, per step, the replays
 * that first diverged there (identical explanations grouped), and per
 * command the exit statuses it had.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle/checkout.h"
#include "cli/cli.h"
#include "record/record_run.h"
#include "replay/printed.h"
#include "replay/repeat.h"

#define MAX_VALUES 16

/* How often one value was seen. Values with the same key count as
 * one, and value is the first of them. */
struct tally {
	char *key;
	char *value;
	unsigned count;
	unsigned other_values; /* of the count, those with another value */
	unsigned first_run;    /* the replay of value, from 1 */
};

struct tallies {
	struct tally items[MAX_VALUES];
	size_t n;
	unsigned other; /* values past MAX_VALUES */
};

/* One command of the recording and the statuses it had in the replays. */
struct command_stats {
	const struct replay_proc *rec;
	char recorded[96];
	struct tallies statuses;
};

struct stats {
	unsigned requested; /* --repeat N */
	unsigned runs;	    /* the replays that finished, failed included */
	unsigned failed, identical, volatile_only, diverged;
	unsigned logs_removed; /* failed with no verdict and no log kept */
	unsigned interrupted, not_started; /* when a signal stopped it */
	int signal;
	struct tallies *steps; /* per step: first divergences */
	size_t n_steps;
	struct command_stats *commands;
	size_t n_commands;
	const struct replay_proc *procs; /* the recorded run's */
	size_t *slots; /* per recorded process: its entry in commands,
			* or SIZE_MAX before its first count */
	struct tallies files; /* --step: the file differences */
	struct tallies uncompared; /* entries left uncompared, by path */
	unsigned with_uncompared;  /* replays that left any */
	unsigned printed_other;	   /* replays whose output differed */
	unsigned printed_stream[2]; /* of them, per stream */
	char *printed_first;	   /* how the first of them differed */
	unsigned printed_first_run; /* and which replay it is, from 1 */
};

/* Count value under key, from replay run (from 1). */
static void tally_keyed(struct tallies *t, const char *key,
			const char *value, unsigned run)
{
	struct tally *item;

	for (size_t i = 0; i < t->n; i++) {
		item = &t->items[i];
		if (strcmp(item->key, key) != 0)
			continue;
		item->count++;
		if (strcmp(item->value, value) != 0)
			item->other_values++;
		return;
	}
	if (t->n == MAX_VALUES) {
		t->other++;
		return;
	}
	item = &t->items[t->n];
	item->key = strdup(key);
	item->value = strdup(value);
	if (!item->key || !item->value) {
		free(item->key);
		free(item->value);
		t->other++;
		return;
	}
	item->count = 1;
	item->other_values = 0;
	item->first_run = run;
	t->n++;
}

static void tally(struct tallies *t, const char *value)
{
	tally_keyed(t, value, value, 0);
}

static void tallies_free(struct tallies *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].key);
		free(t->items[i].value);
	}
}

/* Run one replay in a child, its output into LOG; never returns. The
 * child has a process group of its own, so that a Ctrl-C on the
 * terminal reaches the parent alone, which passes each signal on to
 * every running replay (stop() below), not twice. It exits 0 when the
 * replay ran to its end, 128 + the signal when one cut it short, and 3
 * when it could not run. */
static void child(struct replay_run *run, struct replay_options opts,
		  const char *dir, unsigned i, const sigset_t *mask)
{
	char out[4200], log[4200];
	struct replay_outcome res;
	int fd, rc;

	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, mask, NULL);
	snprintf(out, sizeof(out), "%s/replay-%u.rb", dir, i + 1);
	snprintf(log, sizeof(log), "%s/replay-%u.log", dir, i + 1);
	fd = open(log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	opts.output = out;
	rc = replay_session_run(run, &opts, &res);
	if (rc < 0)
		fprintf(stderr, "runbundle: %s\n", replay_error());
	if (rc < 0 && replay_error_hint())
		fprintf(stderr, "hint: %s\n", replay_error_hint());
	if (res.workdir[0] && !opts.keep)
		replay_remove_tree(res.workdir);
	if (opts.keep && res.workspace[0])
		fprintf(stderr, "workspace: %s\n", res.workspace);
	/* A replay that a signal from outside the batch stopped counts as
	 * failed, so the batch reads this line from the log as the reason. */
	if (rc == 0 && res.signal)
		fprintf(stderr, "runbundle: interrupted by SIG%s before the "
			"replay ended\n", sigabbrev_np(res.signal));
	fflush(NULL);
	if (rc == 0 && res.signal)
		_exit(128 + res.signal);
	_exit(rc < 0 ? CLI_EXIT_ERROR : 0);
}

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

/* The replays of a batch, and the signal that stopped it. */
struct batch {
	unsigned n, jobs, started, running;
	pid_t *pids;
	enum job_state *state;
	int *status;	/* wait status, once done */
	bool *cut;	/* running when the batch was stopped */
	int signal;	/* the first SIGINT, SIGTERM or SIGHUP, or 0 */
};

static void reap(struct batch *b)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < b->started; i++) {
			if (b->pids[i] == pid && b->state[i] == JOB_RUNNING) {
				b->status[i] = st;
				b->state[i] = JOB_DONE;
				b->running--;
			}
		}
	}
}

/* Pass a signal on to each running replay. The first one stops the
 * batch, and each replay stops its agent and finalizes its bundle. A
 * second one makes them kill their sandboxes at once. */
static void stop(struct batch *b, int sig)
{
	if (!b->signal)
		b->signal = sig;
	for (unsigned i = 0; i < b->started; i++) {
		if (b->state[i] != JOB_RUNNING)
			continue;
		b->cut[i] = true;
		kill(b->pids[i], sig);
	}
}

static int start_one(struct batch *b, struct replay_run *run,
		     const struct replay_options *o, const char *dir,
		     const sigset_t *mask)
{
	unsigned i = b->started;
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		/* A replay dies with the batch, as a recording does with
		 * the runbundle that started it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(CLI_EXIT_RUNBUNDLE);
		child(run, *o, dir, i, mask);
	}
	if (pid < 0)
		return -1;
	/* Also here, so that no signal meant for the parent alone reaches
	 * a child that has not run setpgid() yet. */
	setpgid(pid, pid);
	b->pids[i] = pid;
	b->state[i] = JOB_RUNNING;
	b->started++;
	b->running++;
	return 0;
}

/*
 * Run b->n replays, b->jobs at once. SIGINT, SIGTERM and SIGHUP, unless
 * the caller ignored them, are blocked here (record_signals_block()),
 * and SIGCHLD is blocked too while the batch runs, so that all four are
 * taken one at a time with sigwaitinfo(), without a handler.
 */
static int run_all(struct replay_run *run, const struct replay_options *o,
		   const char *dir, struct batch *b)
{
	const struct timespec no_wait = {0, 0};
	sigset_t set, saved;
	int rc = 0, sig;

	record_signals_set(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &saved);
	if (replay_policy_needs_cgroup(run, o->policy))
		sandbox_limits_make_room();
	fflush(NULL);
	while (b->running > 0 || (!b->signal && b->started < b->n)) {
		sig = sigtimedwait(&set, NULL, &no_wait);
		if (sig < 0 && !b->signal && b->started < b->n &&
		    b->running < b->jobs) {
			if (start_one(b, run, o, dir, &saved) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (sig < 0)
			sig = sigwaitinfo(&set, NULL);
		if (sig == SIGCHLD)
			reap(b);
		else if (sig > 0)
			stop(b, sig);
	}
	while (b->running > 0 && waitpid(-1, NULL, 0) > 0)
		b->running--;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return rc;
}

static int init_stats(struct stats *s, const struct replay_run *run)
{
	memset(s, 0, sizeof(*s));
	s->n_steps = run->n_steps;
	s->steps = calloc(run->n_steps + 1, sizeof(*s->steps));
	s->commands = calloc(run->n_procs + 1, sizeof(*s->commands));
	s->slots = malloc((run->n_procs + 1) * sizeof(*s->slots));
	if (!s->steps || !s->commands || !s->slots)
		return -1;
	s->procs = run->procs;
	for (size_t i = 0; i < run->n_procs; i++)
		s->slots[i] = SIZE_MAX;
	return 0;
}

static void stats_free(struct stats *s)
{
	for (size_t i = 0; i < s->n_steps; i++)
		tallies_free(&s->steps[i]);
	for (size_t i = 0; i < s->n_commands; i++)
		tallies_free(&s->commands[i].statuses);
	tallies_free(&s->files);
	tallies_free(&s->uncompared);
	free(s->printed_first);
	free(s->steps);
	free(s->commands);
	free(s->slots);
}

static struct command_stats *command(struct stats *s,
				     const struct replay_proc *rec)
{
	size_t *slot = &s->slots[rec - s->procs];

	if (*slot == SIZE_MAX) {
		*slot = s->n_commands++;
		s->commands[*slot].rec = rec;
		replay_proc_status(rec, s->commands[*slot].recorded,
				   sizeof(s->commands[0].recorded));
	}
	return &s->commands[*slot];
}

/* Tally the status of the process paired with the recorded one. */
static void count_command(struct stats *s, const struct replay_proc *rec,
			  const struct replay_proc *p)
{
	char status[96] = "did not run";

	if (p)
		replay_proc_status(p, status, sizeof(status));
	tally(&command(s, rec)->statuses, status);
}

/* Count the entries that a replay left uncompared: its verdict covers
 * everything else. */
static void count_uncompared(struct stats *s,
			     const struct replay_comparison *cmp)
{
	const struct replay_step_cmp *widest = replay_most_uncompared(cmp);

	if (!widest)
		return;
	s->with_uncompared++;
	for (size_t i = 0; i < widest->n_uncompared; i++)
		tally(&s->uncompared, widest->uncompared[i]);
}

/*
 * Return the key that groups the first divergence of a replay with
 * those of other replays: what diverged, from the recording's side.
 * It leaves out the values that only the replay has: the argv that a
 * command ran as, the names of the files it added, the commands only
 * it ran. So a command that writes a random name into a file name or
 * an argv diverges in one group. A status of the replay stays in, and
 * whether its timeout ended it, because statuses are few and
 * distinguish failures. NULL when memory runs out.
 */
static char *divergence_key(const struct replay_comparison *cmp)
{
	const struct replay_step_cmp *sc = &cmp->steps[cmp->first - 1];
	const struct replay_cause *c = &sc->cause;
	size_t added = 0, extra = 0, len;
	char *key = NULL;
	FILE *f = open_memstream(&key, &len);

	if (!f)
		return NULL;
	fprintf(f, "%zu %d %d", sc->step, sc->final, cmp->timed_out_b);
	if (sc->request_note)
		fprintf(f, "\nnote %s", sc->request_note);
	fprintf(f, "\nreordered %zu", sc->reordered);
	for (size_t i = 0; i < sc->request.count; i++) {
		if (sc->request.entries[i].class == HARNESS_DIFF_DIVERGENT)
			fprintf(f, "\nrequest %s", sc->request.entries[i].path);
	}
	if (c->found)
		fprintf(f, "\ncause %s %zu %s %s %d", c->position, c->step,
			c->recorded, c->other, !c->tie);
	for (size_t i = 0; i < sc->n_procs; i++) {
		const cJSON *d = sc->procs[i].json;
		const char *kind = cJSON_GetStringValue(
			cJSON_GetObjectItem(d, "difference"));
		const char *other = cJSON_GetStringValue(
			cJSON_GetObjectItem(d, "other"));

		if (kind && strcmp(kind, "extra") == 0) {
			extra++;
			continue;
		}
		fprintf(f, "\nprocess %s %s", sc->procs[i].position,
			kind ? kind : "?");
		if (kind && strcmp(kind, "argv") != 0 && other)
			fprintf(f, " %s", other);
	}
	for (size_t i = 0; i < sc->n_files; i++) {
		if (strcmp(sc->files[i].what, "added") == 0)
			added++;
		else
			fprintf(f, "\nfile %s %s %zu", sc->files[i].path,
				sc->files[i].what, sc->files[i].since);
	}
	fprintf(f, "\nextra %zu added %zu", extra, added);
	if (sc->exit_differs)
		fprintf(f, "\nexit %d %d %d %d", sc->ended_a, sc->exit_a,
			sc->ended_b, sc->exit_b);
	if (fclose(f) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

static void count_whole(struct stats *s, const struct replay_run *a,
			const struct replay_run *b,
			const struct replay_comparison *cmp, unsigned run)
{
	char *why, *key;

	count_uncompared(s, cmp);

	if (cmp->verdict == REPLAY_IDENTICAL)
		s->identical++;
	else if (cmp->verdict == REPLAY_VOLATILE)
		s->volatile_only++;
	else
		s->diverged++;
	if (cmp->first && cmp->first <= s->n_steps) {
		why = replay_explain(cmp);
		key = divergence_key(cmp);
		tally_keyed(&s->steps[cmp->first - 1], key ? key : "?",
			    why ? why : "?", run);
		free(why);
		free(key);
	}
	/* Count the status of the counterpart that the comparison used,
	 * so that the table and the verdict name the same processes. */
	for (size_t i = 0; i < a->n_procs; i++) {
		size_t at = cmp->pairs ? cmp->pairs[i] : SIZE_MAX;

		count_command(s, &a->procs[i],
			      at < b->n_procs ? &b->procs[at] : NULL);
	}
}

/* The commands that --step K re-runs: the programs that the agent
 * started itself in step K and that had ended when the step's model
 * request came. One still running then is the one making the request
 * (curl in a shell agent), or a background job, and is left out. */
/* Whether the agent started p itself: p's parent is the agent, or a
 * fork of the agent that ran no program, as a shell's command
 * substitution `$(sh -c "$command")` is. */
static bool started_by_agent(const struct replay_run *a,
			     const struct replay_proc *p,
			     const struct replay_proc *agent)
{
	for (int depth = 0; p && depth < 64; depth++) {
		if (p->parent == agent->index)
			return true;
		p = replay_run_by_index(a, p->parent);
		if (p && p->exec_seq)
			return false;
	}
	return false;
}

static size_t step_commands(const struct replay_run *a, size_t k,
			    const struct replay_proc **out, size_t max)
{
	const struct replay_proc *agent = replay_run_find(a, "0");
	size_t n = 0;

	for (size_t i = 0; agent && i < a->n_procs && n < max; i++) {
		const struct replay_proc *p = &a->procs[i];

		if (p->step == k && p->end_step == k && p->argv &&
		    started_by_agent(a, p, agent))
			out[n++] = p;
	}
	return n;
}

static void count_step(struct stats *s, const struct replay_run *a,
		       const struct replay_run *b, size_t k)
{
	const struct replay_proc *cmds[256];
	size_t n = step_commands(a, k, cmds, 256);
	const struct replay_step *want = &a->steps[k - 1];
	const struct replay_step *got = &b->steps[b->n_steps - 1];
	struct replay_step_cmp sc = {.step = 1};
	bool same = true;
	char pos[32];

	for (size_t i = 0; i < n; i++) {
		char rec[96], now[96] = "did not run";
		const struct replay_proc *p;

		snprintf(pos, sizeof(pos), "0.%zu", i);
		p = replay_run_find(b, pos);
		if (p)
			replay_proc_status(p, now, sizeof(now));
		replay_proc_status(cmds[i], rec, sizeof(rec));
		same = same && strcmp(rec, now) == 0;
		tally(&command(s, cmds[i])->statuses, now);
	}
	if (want->has_root && got->has_root &&
	    replay_compare_trees(a, &want->root, b, &got->root, &sc) == 0) {
		/* The replays are grouped by this line, so it names every
		 * file whole: a cut one would put two sets of differences,
		 * deep in a workspace, in one group. */
		char *line = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&line, &len);

		for (size_t i = 0; out && i < sc.n_files; i++) {
			char *path = replay_clean(sc.files[i].path,
						  strlen(sc.files[i].path));

			fprintf(out, "%s%s (%s)", i ? ", " : "",
				path ? path : "?", sc.files[i].what);
			free(path);
		}
		if (out && fclose(out) == 0 && line)
			tally(&s->files, sc.n_files ? line : "as recorded");
		else
			s->files.other++;
		free(line);
		same = same && sc.n_files == 0;
	}
	replay_step_cmp_release(&sc);
	if (same)
		s->identical++;
	else
		s->diverged++;
}

/* Count a replay whose agent printed something else, which diverges
 * with --compare-output. Returns 0 or -1. */
static int count_printed(struct stats *s, const struct replay_run *a,
			 const struct replay_run *b, unsigned i,
			 struct replay_comparison *cmp)
{
	struct replay_output_cmp out;

	if (replay_compare_output(a, b, &out) < 0)
		return -1;
	if (replay_output_differs(&out)) {
		s->printed_other++;
		for (int k = 0; k < 2; k++)
			s->printed_stream[k] += out.streams[k].differs;
		if (!s->printed_first) {
			s->printed_first = replay_output_explain(&out);
			s->printed_first_run = i + 1;
		}
		if (a->compare_output)
			cmp->verdict = REPLAY_DIVERGED;
	}
	replay_output_release(&out);
	return 0;
}

/* Load replay i and add it to the statistics. */
static void count_one(struct stats *s, const struct replay_run *a,
		      const struct replay_args *args, const char *path,
		      unsigned i)
{
	struct replay_run *b = replay_run_load(path);
	struct replay_comparison cmp;

	if (!b) {
		cli_error_from(replay_error(), replay_error_hint());
		s->failed++;
		return;
	}
	if (args->step) {
		count_step(s, a, b, args->step);
	} else if (replay_compare(a, b, &cmp) == 0) {
		if (count_printed(s, a, b, i, &cmp) == 0) {
			count_whole(s, a, b, &cmp, i + 1);
		} else {
			cli_error_from(replay_error(), NULL);
			s->failed++;
		}
		replay_comparison_release(&cmp);
	} else {
		cli_error_from(replay_error(), NULL);
		s->failed++;
	}
	replay_run_free(b);
}

/* A command is worth a line when a replay saw it end otherwise. */
static bool varied(const struct command_stats *c)
{
	return c->statuses.other || c->statuses.n > 1 ||
	       (c->statuses.n == 1 &&
		strcmp(c->statuses.items[0].value, c->recorded) != 0);
}

static cJSON *tallies_json(const struct tallies *t, const char *key)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && i < t->n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, key, t->items[i].value);
		cJSON_AddNumberToObject(o, "count", t->items[i].count);
		cJSON_AddItemToArray(list, o);
	}
	return list;
}

/* Return the groups of a step's first divergences, each with the replay
 * that its explanation is quoted from and how many read otherwise. */
static cJSON *groups_json(const struct tallies *t)
{
	cJSON *list = tallies_json(t, "explanation");
	cJSON *o;
	size_t i = 0;

	cJSON_ArrayForEach(o, list)
	{
		cJSON_AddNumberToObject(o, "replay", t->items[i].first_run);
		cJSON_AddNumberToObject(o, "other_values",
					t->items[i].other_values);
		i++;
	}
	return list;
}

static cJSON *commands_json(const struct stats *s, bool all)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && i < s->n_commands; i++) {
		const struct command_stats *c = &s->commands[i];
		cJSON *o;

		if (!all && !varied(c))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(
			o, "command", c->rec->command ? c->rec->command : "?");
		cJSON_AddStringToObject(o, "position", c->rec->position);
		cJSON_AddNumberToObject(o, "step", (double)c->rec->step);
		cJSON_AddStringToObject(o, "recorded", c->recorded);
		cJSON_AddItemToObject(o, "statuses",
				      tallies_json(&c->statuses, "status"));
		cJSON_AddNumberToObject(o, "unlisted", c->statuses.other);
		cJSON_AddItemToArray(list, o);
	}
	return list;
}

/* "interrupted": null, or what a signal left of the batch. */
static void add_interrupted(cJSON *o, const struct stats *s)
{
	char name[32];
	cJSON *i;

	if (!s->signal) {
		cJSON_AddNullToObject(o, "interrupted");
		return;
	}
	snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(s->signal));
	i = cJSON_AddObjectToObject(o, "interrupted");
	cJSON_AddStringToObject(i, "signal", name);
	cJSON_AddNumberToObject(i, "finished", s->runs);
	cJSON_AddNumberToObject(i, "cut_short", s->interrupted);
	cJSON_AddNumberToObject(i, "not_started", s->not_started);
}

/* "output": how many replays printed something else than the
 * recording, in all and per stream. */
static void add_printed(cJSON *o, const struct stats *s,
			const struct replay_args *a)
{
	cJSON *p = cJSON_AddObjectToObject(o, "output");

	cJSON_AddBoolToObject(p, "compared", a->compare_output);
	cJSON_AddNumberToObject(p, "differed", s->printed_other);
	for (int k = 0; k < 2; k++)
		cJSON_AddNumberToObject(p, replay_stream_name(k),
					s->printed_stream[k]);
	if (s->printed_first) {
		cJSON_AddNumberToObject(p, "first_replay",
					s->printed_first_run);
		cJSON_AddStringToObject(p, "first", s->printed_first);
	} else {
		cJSON_AddNullToObject(p, "first_replay");
		cJSON_AddNullToObject(p, "first");
	}
}

static void print_json(const struct stats *s, const struct replay_args *a,
		       const cJSON *host)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	char *text;

	cJSON_AddNumberToObject(o, "replays", s->runs);
	cJSON_AddNumberToObject(o, "requested", s->requested);
	add_interrupted(o, s);
	cJSON_AddNumberToObject(o, "failed", s->failed);
	cJSON_AddNumberToObject(o, "identical", s->identical);
	cJSON_AddNumberToObject(o, "volatile_only", s->volatile_only);
	cJSON_AddNumberToObject(o, "diverged", s->diverged);
	if (a->step) {
		cJSON_AddNumberToObject(o, "step", (double)a->step);
		cJSON_AddItemToObject(o, "files",
				      tallies_json(&s->files, "files"));
	}
	cJSON_AddItemToObject(o, "uncompared_files",
			      tallies_json(&s->uncompared, "file"));
	if (!a->step)
		add_printed(o, s, a);
	for (size_t i = 0; steps && i < s->n_steps; i++) {
		const struct tallies *t = &s->steps[i];
		cJSON *st;
		unsigned n = t->other;

		if (!t->n)
			continue;
		for (size_t j = 0; j < t->n; j++)
			n += t->items[j].count;
		st = cJSON_CreateObject();
		cJSON_AddNumberToObject(st, "step", (double)(i + 1));
		cJSON_AddNumberToObject(st, "diverged", n);
		cJSON_AddItemToObject(st, "how", groups_json(t));
		cJSON_AddNumberToObject(st, "unlisted", t->other);
		cJSON_AddItemToArray(steps, st);
	}
	cJSON_AddItemToObject(o, "commands", commands_json(s, a->step != 0));
	cJSON_AddItemToObject(o, "host", cJSON_Duplicate(host, 1));
	text = cJSON_Print(o);
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}

static void print_command(const struct command_stats *c)
{
	const char *command = c->rec->command ? c->rec->command : "?";
	/* A command line can contain a whole request body (curl -d), so
	 * the table quotes it as an explanation does. The position then
	 * distinguishes two commands with the same start. */
	char *excerpt = replay_command_excerpt(command, 0,
					       REPLAY_COMMAND_MAX);
	unsigned unlisted = c->statuses.other;

	printf("%s (step %zu, process %s):", excerpt ? excerpt : "?",
	       c->rec->step, c->rec->position);
	free(excerpt);
	for (size_t j = 0; j < c->statuses.n; j++)
		printf("%s %s %u time%s", j ? "," : "",
		       c->statuses.items[j].value, c->statuses.items[j].count,
		       c->statuses.items[j].count == 1 ? "" : "s");
	if (unlisted)
		printf(", another status %u time%s", unlisted,
		       unlisted == 1 ? "" : "s");
	printf("; recorded %s\n", c->recorded);
}

/* Print which entries the replays left uncompared, which their
 * verdicts do not cover. */
static void print_uncompared(const struct stats *s)
{
	size_t listed = s->uncompared.n;

	if (listed > REPLAY_UNCOMPARED_LISTED)
		listed = REPLAY_UNCOMPARED_LISTED;
	if (!s->with_uncompared)
		return;
	printf("not compared in %u of %u replays: entries that the "
	       "recording or the replay could not read (", s->with_uncompared,
	       s->runs);
	for (size_t i = 0; i < listed; i++) {
		char *path = replay_clean(s->uncompared.items[i].value,
					  strlen(s->uncompared.items[i].value));

		printf("%s%s", i ? ", " : "", path ? path : "?");
		free(path);
	}
	printf("%s)\n", s->uncompared.n > listed || s->uncompared.other ?
			      ", ..." : "");
}

/* A line for the replays whose agent printed something else, which
 * the counts above include as diverged only with --compare-output. */
static void print_printed(const struct stats *s, const struct replay_args *a)
{
	if (!s->printed_other)
		return;
	printf("output differed in %u of %u replays (stdout in %u, stderr "
	       "in %u)%s; first in replay %u: %s\n",
	       s->printed_other, s->runs, s->printed_stream[0],
	       s->printed_stream[1],
	       a->compare_output ? "" : ", which is no divergence without "
					"--compare-output",
	       s->printed_first_run,
	       s->printed_first ? s->printed_first : "?");
}

/* Print one group of first divergences. Its explanation is its first
 * replay's, and the others can name other files and argv. */
static void print_group(const struct tally *group)
{
	printf("  %u time%s: %s", group->count, group->count == 1 ? "" : "s",
	       group->value);
	if (group->other_values)
		printf(" (as in replay %u; %u of the %u read otherwise, in "
		       "names and argv that only their replay has)",
		       group->first_run, group->other_values, group->count);
	printf("\n");
}

static void print_text(const struct stats *s, const struct replay_args *a)
{
	if (s->signal)
		printf("interrupted by SIG%s after %u of %u replays: %u cut "
		       "short, %u not started; what follows is the %u that "
		       "finished\n",
		       sigabbrev_np(s->signal), s->runs, s->requested,
		       s->interrupted, s->not_started, s->runs);
	if (a->step)
		printf("step %zu re-run %u time%s: %u as recorded, %u "
		       "differed, %u failed to run\n",
		       a->step, s->runs, s->runs == 1 ? "" : "s",
		       s->identical, s->diverged, s->failed);
	else
		printf("%u replay%s: %u identical, %u volatile differences "
		       "only, %u diverged, %u failed to run\n",
		       s->runs, s->runs == 1 ? "" : "s", s->identical,
		       s->volatile_only, s->diverged, s->failed);
	print_uncompared(s);
	print_printed(s, a);
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct tallies *t = &s->steps[i];
		unsigned n = t->other;

		for (size_t j = 0; j < t->n; j++)
			n += t->items[j].count;
		if (n)
			printf("step %zu diverged in %u of %u replays:\n",
			       i + 1, n, s->runs);
		for (size_t j = 0; j < t->n; j++)
			print_group(&t->items[j]);
		/* Count the unlisted ones too, so that the lines add up to
		 * the step's total. */
		if (t->other)
			printf("  %u time%s: another explanation (only the "
			       "first %d distinct ones are listed)\n",
			       t->other, t->other == 1 ? "" : "s",
			       MAX_VALUES);
	}
	for (size_t i = 0; i < s->n_commands; i++) {
		if (a->step || varied(&s->commands[i]))
			print_command(&s->commands[i]);
	}
	for (size_t i = 0; i < s->files.n; i++)
		printf("files: %s, %u time%s\n", s->files.items[i].value,
		       s->files.items[i].count,
		       s->files.items[i].count == 1 ? "" : "s");
	if (s->files.other)
		printf("files: another set of differences, %u time%s\n",
		       s->files.other, s->files.other == 1 ? "" : "s");
}

/* Append 'text' to buf, quoted for sh. */
static int quote(char **buf, size_t *len, const char *text)
{
	size_t need = strlen(text) * 4 + 3;
	char *grown = realloc(*buf, *len + need + 2);
	char *p;

	if (!grown)
		return -1;
	*buf = grown;
	p = grown + *len;
	*p++ = '\'';
	for (; *text; text++) {
		if (*text == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *text;
		}
	}
	*p++ = '\'';
	*p = '\0';
	*len = (size_t)(p - grown);
	return 0;
}

static int append(char **buf, size_t *len, const char *text)
{
	size_t n = strlen(text);
	char *grown = realloc(*buf, *len + n + 1);

	if (!grown)
		return -1;
	memcpy(grown + *len, text, n + 1);
	*buf = grown;
	*len += n;
	return 0;
}

/* Append "NAME=VALUE" for each variable of a recorded exec's env list,
 * quoted. A secret gets the placeholder, and a value that is not text
 * is left out, as in a whole replay. */
static int append_env(char **buf, size_t *len, const cJSON *env)
{
	const cJSON *pair;
	int rc = 0;

	cJSON_ArrayForEach(pair, env)
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
		const cJSON *value = cJSON_GetArrayItem(pair, 1);
		const char *text = cJSON_IsNull(value)
					   ? REPLAY_SECRET_PLACEHOLDER
					   : cJSON_GetStringValue(value);
		char *entry;

		if (!name || !text || !*name || strchr(name, '='))
			continue;
		entry = malloc(strlen(name) + strlen(text) + 2);
		if (!entry)
			return -1;
		sprintf(entry, "%s=%s", name, text);
		rc |= append(buf, len, " ");
		rc |= quote(buf, len, entry);
		free(entry);
	}
	return rc;
}

/* One command in a subshell, in its recorded cwd, with its recorded
 * environment alone (env -i) and its recorded argv. */
static int append_command(char **buf, size_t *len, const cJSON *exec,
			  const struct replay_proc *p, const char *workspace)
{
	const char *cwd =
		cJSON_GetStringValue(cJSON_GetObjectItem(exec, "cwd"));
	const cJSON *env = cJSON_GetObjectItem(exec, "env");
	const cJSON *arg;
	int rc = 0;

	rc |= append(buf, len, "(cd ");
	rc |= quote(buf, len, cwd ? cwd : workspace);
	rc |= append(buf, len, " && exec");
	if (cJSON_IsArray(env)) {
		rc |= append(buf, len, " /usr/bin/env -i");
		rc |= append_env(buf, len, env);
	}
	cJSON_ArrayForEach(arg, p->argv)
	{
		rc |= append(buf, len, " ");
		rc |= quote(buf, len,
			    cJSON_GetStringValue(arg) ? arg->valuestring : "");
	}
	return rc | append(buf, len, ")\n");
}

/*
 * The script that --step runs: each command in a subshell of its own,
 * so that each is one child of the shell at the position "0.N". The
 * final ':' keeps the shell from replacing itself with the last
 * command.
 */
static char *step_script(const struct replay_run *run,
			 const struct replay_proc **cmds, size_t n,
			 const char *workspace)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		cJSON *exec = replay_run_exec(run, cmds[i]);

		/* Without its exec (a damaged bundle), the command runs
		 * with the shell's environment in the workspace. */
		rc = append_command(&buf, &len, exec, cmds[i], workspace);
		cJSON_Delete(exec);
	}
	rc |= append(&buf, &len, ":\n");
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Print why step k has nothing to re-run, and the steps that have. */
static void no_commands(const struct replay_run *a, size_t k)
{
	const struct replay_proc *cmds[1];
	char list[256] = "";
	size_t len = 0, listed = 0;

	if (k == a->n_steps && k > 1)
		cli_error("cannot re-run step %zu: '%s': the agent ran no "
			  "command after its last model request", k, a->path);
	else
		cli_error("cannot re-run step %zu: '%s': the agent ran no "
			  "command that ended in it", k, a->path);
	for (size_t i = 1; i <= a->n_steps && len < sizeof(list); i++) {
		if (step_commands(a, i, cmds, 1) == 0)
			continue;
		if (++listed > 8) {
			snprintf(list + len, sizeof(list) - len, ", ...");
			break;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%zu", listed > 1 ? ", " : "", i);
	}
	if (listed)
		cli_hint("re-run a step that ran commands: %s", list);
	else
		cli_hint("the agent ran no command in any step; replay the "
			 "whole run without --step");
}

struct step_plan {
	char *script;
	char *argv[4];
};

static int plan_step(struct replay_run *a, struct replay_args *args,
		     struct step_plan *plan)
{
	const struct replay_proc *cmds[256];
	size_t k = args->step, n;
	const char *ws = cJSON_GetStringValue(
		cJSON_GetObjectItem(a->record, "workspace"));

	if (k == REPLAY_STEP_FINAL)
		k = args->step = a->n_steps;
	if (k > a->n_steps) {
		cli_error("no such step: '%zu': the run has %zu step%s", k,
			  a->n_steps, a->n_steps == 1 ? "" : "s");
		cli_hint("the last step is the final one, %zu", a->n_steps);
		return CLI_EXIT_USAGE;
	}
	n = step_commands(a, k, cmds, 256);
	if (n == 0) {
		no_commands(a, k);
		return CLI_EXIT_ERROR;
	}
	plan->script = step_script(a, cmds, n, ws ? ws : "/");
	if (!plan->script) {
		cli_error("cannot re-run step %zu: out of memory", k);
		return CLI_EXIT_ERROR;
	}
	plan->argv[0] = "/bin/sh";
	plan->argv[1] = "-c";
	plan->argv[2] = plan->script;
	args->opts.argv = plan->argv;
	args->opts.start = k == 1 ? &a->initial : &a->steps[k - 2].root;
	args->opts.no_gateway = true;
	return 0;
}

/* Replays never write over another batch's bundles and logs. */
int replay_check_empty(const char *dir)
{
	int empty = bundle_dir_is_empty(dir);

	if (empty < 0) {
		cli_error("cannot open the directory: '%s': %m", dir);
		return -1;
	}
	if (empty)
		return 0;
	cli_error("cannot write the replays into directory: '%s': not empty",
		  dir);
	cli_hint("name a new or empty directory for replay-N.rb and "
		 "replay-N.log");
	return -1;
}

static int make_dir(const struct replay_args *args, char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	if (args->output) {
		snprintf(dir, len, "%s", args->output);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			cli_error("cannot create the directory: '%s': %m", dir);
			return -1;
		}
		return replay_check_empty(dir);
	}
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(dir, len, "%s/runbundle-repeat-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		cli_error("cannot create the replays' directory in TMPDIR: "
			  "'%s': %m", tmp);
		cli_hint("set TMPDIR to a directory that you can write, "
			 "where the replays rebuild the workspace");
		return -1;
	}
	return 0;
}

/* The last "runbundle: " line of a replay's log, the reason it failed;
 * empty when the log has none. */
static void log_reason(const char *log, char *buf, size_t len)
{
	FILE *f = fopen(log, "re");
	char line[1024];

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "runbundle: ", 11) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		cli_sanitize(buf, len, line + 11);
	}
	if (f)
		fclose(f);
}

/* Count replay i, which ended with status, as failed and print why.
 * kept is false when the batch's directory, with the log, is removed at
 * the end (no -o or --keep), so the message then names no path. */
static void count_failed(struct stats *s, const char *dir, unsigned i,
			 int status, bool kept)
{
	char log[4200], why[1024], end[96] = "it ended without a verdict";

	snprintf(log, sizeof(log), "%s/replay-%u.log", dir, i + 1);
	log_reason(log, why, sizeof(why));
	/* A signal that the replay cannot catch, such as SIGKILL, leaves
	 * no reason in its log, but its status names the signal. */
	if (WIFSIGNALED(status))
		snprintf(end, sizeof(end), "killed by SIG%s before the replay "
			 "ended", sigabbrev_np(WTERMSIG(status)));
	if (why[0]) {
		cli_error("replay %u could not run: %s", i + 1, why);
	} else if (kept) {
		cli_error("replay %u failed: '%s': %s, and this log has its "
			  "output", i + 1, log, end);
	} else {
		cli_error("replay %u failed: 'replay-%u.log': %s, and that "
			  "log is removed with the replays' directory", i + 1,
			  i + 1, end);
		s->logs_removed++;
	}
	s->failed++;
}

/* Return whether the batch's own signal cut replay i short. A replay
 * that a signal sent to it alone stopped is not cut short but failed,
 * because the batch went on and reports no interrupt. */
static bool was_cut(const struct batch *b, unsigned i)
{
	int st = b->status[i];

	return b->cut[i] && !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int batch_init(struct batch *b, const struct replay_args *args)
{
	memset(b, 0, sizeof(*b));
	b->n = args->repeat;
	b->jobs = args->jobs;
	b->pids = calloc(b->n, sizeof(*b->pids));
	b->state = calloc(b->n, sizeof(*b->state));
	b->status = calloc(b->n, sizeof(*b->status));
	b->cut = calloc(b->n, sizeof(*b->cut));
	return b->pids && b->state && b->status && b->cut ? 0 : -1;
}

static void batch_free(struct batch *b)
{
	free(b->pids);
	free(b->state);
	free(b->status);
	free(b->cut);
}

static int run_and_count(struct replay_run *a, struct replay_args *args,
			 const char *dir, struct stats *s)
{
	struct batch b;
	char path[4200];

	if (batch_init(&b, args) < 0 || run_all(a, &args->opts, dir, &b) < 0) {
		batch_free(&b);
		cli_error("cannot start the replays: '%s': %m", dir);
		return -1;
	}
	s->requested = args->repeat;
	s->signal = b.signal;
	for (unsigned i = 0; i < b.n; i++) {
		snprintf(path, sizeof(path), "%s/replay-%u.rb", dir, i + 1);
		if (b.state[i] != JOB_DONE)
			s->not_started++;
		else if (was_cut(&b, i))
			s->interrupted++;
		else if (WIFEXITED(b.status[i]) &&
			 WEXITSTATUS(b.status[i]) == 0)
			count_one(s, a, args, path, i);
		else
			count_failed(s, dir, i, b.status[i],
				     args->output || args->opts.keep);
	}
	if (s->logs_removed)
		cli_hint("run it again with -o DIR to keep the log of each "
			 "replay in DIR");
	s->runs = b.n - s->not_started - s->interrupted;
	batch_free(&b);
	return 0;
}

int replay_repeat(struct replay_run *a, struct replay_args *args,
		  const cJSON *host)
{
	struct step_plan plan = {0};
	const cJSON *env;
	struct stats s;
	char dir[4096];
	int rc;

	/* Read the agent's exec before the replays fork, so that they share
	 * it instead of each reading it again. */
	if (replay_run_agent_env(a, &env) < 0)
		return cli_error_from(replay_error(), replay_error_hint());
	if (args->step && (rc = plan_step(a, args, &plan)) != 0)
		return rc;
	if (init_stats(&s, a) < 0 || make_dir(args, dir, sizeof(dir)) < 0) {
		free(plan.script);
		stats_free(&s);
		return CLI_EXIT_ERROR;
	}
	rc = run_and_count(a, args, dir, &s);
	if (rc == 0 && args->json)
		print_json(&s, args, host);
	else if (rc == 0)
		print_text(&s, args);
	if (!args->output && !args->opts.keep)
		replay_remove_tree(dir);
	/* Without -o, the kept directory has a random name, and each log in
	 * it names its replay's workspace. */
	if (!args->output && args->opts.keep)
		fprintf(stderr, "replays: %s\n", dir);
	if (rc == 0 && s.signal)
		rc = 128 + s.signal;
	else
		rc = rc < 0 || s.failed ? CLI_EXIT_ERROR
		     : s.diverged	? CLI_EXIT_FAIL
					: CLI_EXIT_OK;
	free(plan.script);
	stats_free(&s);
	return rc;
}
