/*
 * pair.c - pair each process of one run with its counterpart in another.
 *
 * The tracer numbers siblings in the order they started, and concurrent
 * siblings can start in either order from one run to the next. A coding
 * agent may start a helper shell beside the command itself, and make -j
 * starts the next recipe when any running one ends. Compared by position
 * alone, two swapped siblings would be two divergences. So both trees
 * are walked from the agent down, and the children of each pair are
 * paired by key, in start order for each key: equal argv, then argv
 * equal after normalization, then the same executable. Only the rest
 * are paired by start order. So a command whose argv changed is still
 * compared with a command of the same program.
 *
 * Each key is looked up in a hash table of the other side's children,
 * because a parent of many children (a loop of execs) would cost n * n
 * comparisons otherwise.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness/error.h"
#include "harness/jsondiff.h"
#include "harness/normalize.h"
#include "replay/pair.h"
#include "replay/replay.h"

#define NONE SIZE_MAX

/* A run's process tree, as child and sibling links over its procs,
 * which load.c sorts by index. */
struct tree {
	const struct replay_run *run;
	size_t *first;	/* first child of each process, or NONE */
	size_t *next;	/* next younger sibling, or NONE */
	size_t root;	/* the agent, or NONE */
};

struct pairing {
	struct tree a, b;
	const struct harness_normalizer *normalizer;
	size_t *of_a;	/* b's proc paired with a's, or NONE */
	bool *b_used;
	size_t *queue;	/* a's procs whose children are still to pair */
	size_t n_queue;
};

/* Keys that identify a process, the most specific first. */
enum key {
	KEY_ARGV,
	KEY_NORMALIZED,	/* argv with volatile values replaced */
	KEY_EXE,
	N_KEYS,
};

/* The unpaired children of one parent on one side, in start order.
 * On b's side, chain links the children whose keys share a bucket. */
struct side {
	size_t *procs;
	char **keys;
	uint64_t *hashes;
	size_t *chain;	/* the next of b's with a key of the same bucket */
	size_t n;
};

static ssize_t position_of(const struct replay_run *run, int64_t index)
{
	const struct replay_proc *p = replay_run_by_index(run, index);

	return p ? p - run->procs : -1;
}

static int tree_build(struct tree *t, const struct replay_run *run)
{
	size_t n = run->n_procs, *last;

	t->run = run;
	t->root = NONE;
	t->first = malloc((n + 1) * sizeof(*t->first));
	t->next = malloc((n + 1) * sizeof(*t->next));
	last = malloc((n + 1) * sizeof(*last));
	if (!t->first || !t->next || !last) {
		free(last);
		return -1;
	}

	for (size_t i = 0; i < n; i++)
		t->first[i] = t->next[i] = last[i] = NONE;
	for (size_t i = 0; i < n; i++) {
		const struct replay_proc *p = &run->procs[i];
		ssize_t parent = p->parent < 0 ? -1
					       : position_of(run, p->parent);

		if (strcmp(p->position, "0") == 0)
			t->root = i;
		if (parent < 0)
			continue;
		if (last[parent] == NONE)
			t->first[parent] = i;
		else
			t->next[last[parent]] = i;
		last[parent] = i;
	}
	free(last);
	return 0;
}

static void tree_free(struct tree *t)
{
	free(t->first);
	free(t->next);
}

/* Return 1 when two argument vectors are equal but for volatile values,
 * 0 when they are not, -1 on failure. compare.c uses the same test. */
static int same_argv(const struct pairing *pr, const cJSON *x,
		     const cJSON *y)
{
	struct harness_diff d = {0};
	int rc;

	if (!x || !y)
		return x == y;
	if (cJSON_Compare(x, y, 1))
		return 1;
	if (!pr->normalizer)
		return 0;
	if (harness_jsondiff(x, y, pr->normalizer, "argv", &d) < 0) {
		replay_set_error("cannot compare argv: %s", harness_error());
		return -1;
	}
	rc = d.divergent == 0;
	harness_diff_release(&d);
	return rc;
}

/* Store p's key of kind in *out, or NULL when p has none (no
 * executable, or no normalizer). Returns 0, or -1 on failure. */
static int key_of(const struct pairing *pr, const struct replay_proc *p,
		  enum key kind, char **out)
{
	cJSON *copy;

	*out = NULL;
	switch (kind) {
	case KEY_ARGV:
		/* A fork that ran no program has no argv, so forks pair
		 * with forks. */
		*out = p->argv ? cJSON_PrintUnformatted(p->argv) : strdup("");
		break;
	case KEY_NORMALIZED:
		if (!pr->normalizer || !p->argv)
			return 0;
		copy = cJSON_Duplicate(p->argv, 1);
		if (!copy)
			break;
		if (harness_normalize_json(pr->normalizer, copy) < 0) {
			cJSON_Delete(copy);
			replay_set_error("cannot compare argv: %s",
					 harness_error());
			return -1;
		}
		*out = cJSON_PrintUnformatted(copy);
		cJSON_Delete(copy);
		break;
	case KEY_EXE:
		if (!p->exe_path)
			return 0;
		*out = strdup(p->exe_path);
		break;
	default:
		return 0;
	}
	if (*out)
		return 0;
	replay_set_error("cannot pair processes: out of memory");
	return -1;
}

/* Return the FNV-1a hash of s. */
static uint64_t hash_of(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void side_free(struct side *s)
{
	for (size_t i = 0; s->keys && i < s->n; i++)
		free(s->keys[i]);
	free(s->procs);
	free(s->keys);
	free(s->hashes);
	free(s->chain);
	memset(s, 0, sizeof(*s));
}

/* Collect the children of parent that are not paired yet. */
static int side_collect(struct side *s, const struct tree *t, size_t parent,
			const size_t *of, const bool *used)
{
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (size_t c = t->first[parent]; c != NONE; c = t->next[c])
		n++;
	s->procs = malloc((n + 1) * sizeof(*s->procs));
	s->keys = calloc(n + 1, sizeof(*s->keys));
	s->hashes = malloc((n + 1) * sizeof(*s->hashes));
	s->chain = malloc((n + 1) * sizeof(*s->chain));
	if (!s->procs || !s->keys || !s->hashes || !s->chain)
		return -1;
	for (size_t c = t->first[parent]; c != NONE; c = t->next[c]) {
		if (of ? of[c] == NONE : !used[c])
			s->procs[s->n++] = c;
	}
	return 0;
}

/* Drop the procs that were paired, keeping the order of the rest. */
static void side_keep(struct side *s, const size_t *of, const bool *used)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		size_t c = s->procs[i];

		free(s->keys[i]);
		s->keys[i] = NULL;
		if (of ? of[c] == NONE : !used[c])
			s->procs[n++] = c;
	}
	s->n = n;
}

static int side_keys(const struct pairing *pr, struct side *s,
		     const struct replay_run *run, enum key kind)
{
	for (size_t i = 0; i < s->n; i++) {
		if (key_of(pr, &run->procs[s->procs[i]], kind,
			   &s->keys[i]) < 0)
			return -1;
		s->hashes[i] = s->keys[i] ? hash_of(s->keys[i]) : 0;
	}
	return 0;
}

static void pair(struct pairing *pr, size_t x, size_t y)
{
	pr->of_a[x] = y;
	pr->b_used[y] = true;
	pr->queue[pr->n_queue++] = x;
}

/*
 * Pair each of xs, in order, with the first of ys whose key of kind is
 * equal. Each bucket lists ys's procs in start order, and a paired one
 * leaves it. So n children with one argv cost n steps, not n * n.
 */
static int pair_by(struct pairing *pr, struct side *xs, struct side *ys,
		   enum key kind)
{
	size_t n_buckets = 1, *head = NULL, *tail = NULL;
	int rc = -1;

	if (!xs->n || !ys->n)
		return 0;
	if (side_keys(pr, xs, pr->a.run, kind) < 0 ||
	    side_keys(pr, ys, pr->b.run, kind) < 0)
		return -1;
	while (n_buckets < 2 * ys->n)
		n_buckets *= 2;
	head = malloc(n_buckets * sizeof(*head));
	tail = malloc(n_buckets * sizeof(*tail));
	if (!head || !tail) {
		replay_set_error("cannot pair processes: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_buckets; i++)
		head[i] = tail[i] = NONE;
	for (size_t j = 0; j < ys->n; j++) {
		size_t bucket = ys->hashes[j] & (n_buckets - 1);

		ys->chain[j] = NONE;
		if (!ys->keys[j])
			continue;
		if (tail[bucket] == NONE)
			head[bucket] = j;
		else
			ys->chain[tail[bucket]] = j;
		tail[bucket] = j;
	}

	for (size_t i = 0; i < xs->n; i++) {
		size_t bucket = xs->hashes[i] & (n_buckets - 1);
		size_t *link = &head[bucket];
		const cJSON *argv = pr->a.run->procs[xs->procs[i]].argv;

		if (!xs->keys[i])
			continue;
		for (size_t j = *link; j != NONE; j = *link) {
			size_t y = ys->procs[j];
			int same = ys->hashes[j] == xs->hashes[i] &&
				   strcmp(ys->keys[j], xs->keys[i]) == 0;

			/* Equal normalized keys suggest a pair, and
			 * same_argv() confirms it as compare.c would. */
			if (same && kind == KEY_NORMALIZED)
				same = same_argv(pr, argv,
						 pr->b.run->procs[y].argv);
			if (same < 0)
				goto out;
			if (same) {
				pair(pr, xs->procs[i], y);
				*link = ys->chain[j];
				break;
			}
			link = &ys->chain[j];
		}
	}
	rc = 0;
out:
	free(head);
	free(tail);
	return rc;
}

/* Pair the children of a's proc x with those of its counterpart, by
 * each key in turn, and the rest in start order. */
static int pair_children(struct pairing *pr, size_t x)
{
	size_t y = pr->of_a[x];
	struct side xs = {0}, ys = {0};
	int rc = -1;

	if (pr->a.first[x] == NONE || pr->b.first[y] == NONE)
		return 0;
	if (side_collect(&xs, &pr->a, x, pr->of_a, NULL) < 0 ||
	    side_collect(&ys, &pr->b, y, NULL, pr->b_used) < 0) {
		replay_set_error("cannot pair processes: out of memory");
		goto out;
	}
	for (enum key kind = 0; kind < N_KEYS; kind++) {
		if (pair_by(pr, &xs, &ys, kind) < 0)
			goto out;
		side_keep(&xs, pr->of_a, NULL);
		side_keep(&ys, NULL, pr->b_used);
	}
	for (size_t i = 0; i < xs.n && i < ys.n; i++)
		pair(pr, xs.procs[i], ys.procs[i]);
	rc = 0;
out:
	side_free(&xs);
	side_free(&ys);
	return rc;
}

/* Pair the processes whose parent the tracer never saw ("?N") by equal
 * positions, since they have no parent to pair under. Both runs sort
 * them by index, which is N, so one merge finds the equal ones. */
static void pair_orphans(struct pairing *pr)
{
	const struct replay_run *a = pr->a.run, *b = pr->b.run;
	size_t i = 0, j = 0;

	while (i < a->n_procs && j < b->n_procs) {
		const struct replay_proc *p = &a->procs[i], *q = &b->procs[j];

		if (p->position[0] != '?') {
			i++;
		} else if (q->position[0] != '?' || pr->b_used[j] ||
			   q->index < p->index) {
			j++;
		} else if (p->index < q->index) {
			i++;
		} else {
			pair(pr, i++, j++);
		}
	}
}

static int walk(struct pairing *pr)
{
	if (pr->a.root != NONE && pr->b.root != NONE)
		pair(pr, pr->a.root, pr->b.root);
	pair_orphans(pr);

	for (size_t q = 0; q < pr->n_queue; q++) {
		if (pair_children(pr, pr->queue[q]) < 0)
			return -1;
	}
	return 0;
}

int replay_pair_procs(const struct replay_run *a, const struct replay_run *b,
		      const struct harness_normalizer *normalizer,
		      const struct replay_proc **out)
{
	struct pairing pr = { .normalizer = normalizer };
	int rc = -1;

	pr.of_a = malloc((a->n_procs + 1) * sizeof(*pr.of_a));
	pr.b_used = calloc(b->n_procs + 1, sizeof(*pr.b_used));
	pr.queue = malloc((a->n_procs + 1) * sizeof(*pr.queue));
	if (!pr.of_a || !pr.b_used || !pr.queue ||
	    tree_build(&pr.a, a) < 0 || tree_build(&pr.b, b) < 0) {
		replay_set_error("cannot pair processes: out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->n_procs; i++)
		pr.of_a[i] = NONE;

	if (walk(&pr) < 0)
		goto out;
	for (size_t i = 0; i < a->n_procs; i++)
		out[i] = pr.of_a[i] == NONE ? NULL : &b->procs[pr.of_a[i]];
	rc = 0;
out:
	tree_free(&pr.a);
	tree_free(&pr.b);
	free(pr.of_a);
	free(pr.b_used);
	free(pr.queue);
	return rc;
}
