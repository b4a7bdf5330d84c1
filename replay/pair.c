/*
 * pair.c - pair each process of one run with its counterpart in another.
 *
 * The tracer numbers siblings in the order they started, and concurrent
 * siblings can start in either order from one run to the next: a coding
 * agent may start a helper shell beside the command itself. Compared by
 * position alone, two swapped siblings would be two divergences. So both
 * trees are walked from the agent down, and the children of each pair
 * are paired first by equal argv, after normalization and in start
 * order, and only then the rest by start order. A command whose argv
 * really changed is still compared with the one that took its place.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness/error.h"
#include "harness/jsondiff.h"
#include "replay/pair.h"
#include "replay/replay.h"

/* A run's process tree, as child and sibling links over its procs,
 * which load.c sorts by index. */
struct tree {
	const struct replay_run *run;
	size_t *first;	/* first child of each process, or SIZE_MAX */
	size_t *next;	/* next younger sibling, or SIZE_MAX */
	size_t root;	/* the agent, or SIZE_MAX */
};

struct pairing {
	struct tree a, b;
	const struct harness_normalizer *normalizer;
	size_t *of_a;	/* b's proc paired with a's, or SIZE_MAX */
	bool *b_used;
	size_t *queue;	/* a's procs whose children are still to pair */
	size_t n_queue;
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
	t->root = SIZE_MAX;
	t->first = malloc((n + 1) * sizeof(*t->first));
	t->next = malloc((n + 1) * sizeof(*t->next));
	last = malloc((n + 1) * sizeof(*last));
	if (!t->first || !t->next || !last) {
		free(last);
		return -1;
	}

	for (size_t i = 0; i < n; i++)
		t->first[i] = t->next[i] = last[i] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct replay_proc *p = &run->procs[i];
		ssize_t parent = p->parent < 0 ? -1
					       : position_of(run, p->parent);

		if (strcmp(p->position, "0") == 0)
			t->root = i;
		if (parent < 0)
			continue;
		if (last[parent] == SIZE_MAX)
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
 * 0 when they are not, -1 on failure. */
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

static void pair(struct pairing *pr, size_t x, size_t y)
{
	pr->of_a[x] = y;
	pr->b_used[y] = true;
	pr->queue[pr->n_queue++] = x;
}

/* Find the first unpaired child of b's proc parent whose argv matches
 * that of a's proc x, or with any, the first unpaired child at all.
 * Returns its position, -1 when there is none, -2 on failure. */
static ssize_t find_child(struct pairing *pr, size_t parent, size_t x,
			  bool any)
{
	const cJSON *argv = pr->a.run->procs[x].argv;
	size_t *first = &pr->b.first[parent];

	/* Children are mostly paired in order, so a used one at the head of
	 * the list leaves it for good. A parent of n children would cost
	 * n * n steps otherwise. b's lists serve this search alone. */
	while (*first != SIZE_MAX && pr->b_used[*first])
		*first = pr->b.next[*first];
	for (size_t c = *first; c != SIZE_MAX; c = pr->b.next[c]) {
		int same;

		if (pr->b_used[c])
			continue;
		if (any)
			return (ssize_t)c;
		same = same_argv(pr, argv, pr->b.run->procs[c].argv);
		if (same < 0)
			return -2;
		if (same)
			return (ssize_t)c;
	}
	return -1;
}

/* Pair the children of a's proc x with those of its counterpart. */
static int pair_children(struct pairing *pr, size_t x)
{
	size_t y = pr->of_a[x];

	for (int pass = 0; pass < 2; pass++) {
		for (size_t c = pr->a.first[x]; c != SIZE_MAX;
		     c = pr->a.next[c]) {
			ssize_t d;

			if (pr->of_a[c] != SIZE_MAX)
				continue;
			d = find_child(pr, y, c, pass == 1);
			if (d == -2)
				return -1;
			if (d >= 0)
				pair(pr, c, (size_t)d);
		}
	}
	return 0;
}

/* Pair the processes whose parent the tracer never saw ("?N") by equal
 * positions, since they have no parent to pair under. */
static void pair_orphans(struct pairing *pr)
{
	const struct replay_run *a = pr->a.run, *b = pr->b.run;

	for (size_t i = 0; i < a->n_procs; i++) {
		if (a->procs[i].position[0] != '?')
			continue;
		for (size_t j = 0; j < b->n_procs; j++) {
			if (!pr->b_used[j] &&
			    strcmp(a->procs[i].position,
				   b->procs[j].position) == 0) {
				pair(pr, i, j);
				break;
			}
		}
	}
}

static int walk(struct pairing *pr)
{
	if (pr->a.root != SIZE_MAX && pr->b.root != SIZE_MAX)
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
		pr.of_a[i] = SIZE_MAX;

	if (walk(&pr) < 0)
		goto out;
	for (size_t i = 0; i < a->n_procs; i++)
		out[i] = pr.of_a[i] == SIZE_MAX ? NULL
						: &b->procs[pr.of_a[i]];
	rc = 0;
out:
	tree_free(&pr.a);
	tree_free(&pr.b);
	free(pr.of_a);
	free(pr.b_used);
	free(pr.queue);
	return rc;
}
