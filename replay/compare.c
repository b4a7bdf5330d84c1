/*
 * compare.c - the step-by-step comparison of two runs (replay.h): the
 * request, the processes, the workspace, and at the end the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot.h"
#include "harness/decode.h"
#include "harness/error.h"
#include "harness/match.h"
#include "harness/normalize.h"
#include "replay/compare_internal.h"
#include "replay/pair.h"
#include "replay/replay.h"
#include "replay/sockets.h"

/* One entry of a flattened snapshot. */
struct flat_entry {
	char *path;
	int kind;
	uint32_t mode;
	struct bundle_id ref;
	char *text; /* symlink target and the like */
	uint64_t size;
	int sparse;
	struct bundle_extent *extents; /* of a sparse file, else NULL */
	uint32_t n_extents;
};

struct flat {
	struct flat_entry *items;
	size_t n, cap;
};


static int oom(void)
{
	replay_set_error("cannot compare the runs: out of memory");
	return -1;
}

static int flat_add(const unsigned char *path, size_t len,
		    enum bundle_change change,
		    const struct bundle_tree_entry *old,
		    const struct bundle_tree_entry *new, void *arg)
{
	struct flat *f = arg;
	struct flat_entry *e;

	(void)change;
	(void)old;
	/* A socket is a name for a listener, not content: both runs'
	 * sockets are left out (sockets.h). */
	if (replay_entry_is_socket(new))
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		void *grown = realloc(f->items, cap * sizeof(*f->items));

		if (!grown)
			return 1;
		f->items = grown;
		f->cap = cap;
	}
	e = &f->items[f->n];
	memset(e, 0, sizeof(*e));
	e->path = strndup((const char *)path, len);
	if (!e->path)
		return 1;
	e->kind = new->kind;
	e->mode = new->mode;
	e->ref = new->ref;
	e->size = new->size;
	e->sparse = new->sparse;
	f->n++;
	if (new->text &&
	    !(e->text = strndup((const char *)new->text, new->text_len)))
		return 1;
	if (new->n_extents) {
		e->extents = malloc(new->n_extents * sizeof(*e->extents));
		if (!e->extents)
			return 1;
		memcpy(e->extents, new->extents,
		       new->n_extents * sizeof(*e->extents));
		e->n_extents = new->n_extents;
	}
	return 0;
}

static void flat_free(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->items[i].path);
		free(f->items[i].text);
		free(f->items[i].extents);
	}
	free(f->items);
}

static int by_path(const void *x, const void *y)
{
	return strcmp(((const struct flat_entry *)x)->path,
		      ((const struct flat_entry *)y)->path);
}

static int flatten(const struct replay_run *run, const struct replay_step *step,
		   struct flat *f)
{
	struct bundle *objects = step->objects ? step->objects : run->bundle;

	memset(f, 0, sizeof(*f));
	if (bundle_snapshot_diff(objects, NULL, &step->root, flat_add, f) !=
	    0) {
		replay_set_error("cannot read a snapshot: '%s': %s", run->path,
				 bundle_error());
		flat_free(f);
		return -1;
	}
	if (f->n > 1) /* an empty snapshot has no array to sort */
		qsort(f->items, f->n, sizeof(*f->items), by_path);
	return 0;
}

static const char *entry_change(const struct flat_entry *x,
				const struct flat_entry *y)
{
	if (x->kind != y->kind)
		return "type";
	if (memcmp(&x->ref, &y->ref, sizeof(x->ref)) != 0 ||
	    (x->text && (!y->text || strcmp(x->text, y->text) != 0)))
		return "content";
	if (x->kind == BUNDLE_ENTRY_FILE &&
	    (x->size != y->size ||
	     !bundle_same_layout(x->sparse, x->extents, x->n_extents,
				 y->sparse, y->extents, y->n_extents)))
		return "content";
	if ((x->mode & 07777) != (y->mode & 07777))
		return "mode";
	return NULL;
}

static size_t since_of(const struct cmp_state *st, const char *path,
		       size_t step)
{
	for (size_t i = 0; i < st->n_prev; i++) {
		if (strcmp(st->prev[i].path, path) == 0)
			return st->prev[i].since;
	}
	return step;
}

static int add_file(struct cmp_state *st, struct replay_step_cmp *sc,
		    const char *path, const char *what)
{
	struct replay_file_diff *d;
	void *grown = realloc(sc->files, (sc->n_files + 1) * sizeof(*d));

	if (!grown)
		return oom();
	sc->files = grown;
	d = &sc->files[sc->n_files];
	d->path = strdup(path);
	d->what = strdup(what);
	d->since = since_of(st, path, sc->step);
	if (!d->path || !d->what) {
		free(d->path);
		free(d->what);
		return oom();
	}
	sc->n_files++;
	return 0;
}

/*
 * git rewrites an index with the ctime, inode and device of the files it
 * stats, which differ in every checkout, so `git status` alone changes
 * it. Its content counts as volatile unless the replay requests
 * strictness (--strict-git-index). A submodule's index
 * (.git/modules/NAME/index) and a nested repository's count the same.
 */
static bool volatile_index(const struct cmp_state *st, const char *path,
			   const char *what)
{
	const char *base = strrchr(path, '/');

	if (st->a->strict_git_index || strcmp(what, "content") != 0 || !base ||
	    strcmp(base, "/index") != 0)
		return false;
	return strncmp(path, ".git/", 5) == 0 || strstr(path, "/.git/");
}

static int add_uncompared(struct replay_step_cmp *sc, const char *path)
{
	void *grown = realloc(sc->uncompared,
			      (sc->n_uncompared + 1) * sizeof(char *));

	if (!grown)
		return oom();
	sc->uncompared = grown;
	sc->uncompared[sc->n_uncompared] = strdup(path);
	if (!sc->uncompared[sc->n_uncompared])
		return oom();
	sc->n_uncompared++;
	return 0;
}

/* An entry that the recording's snapshot could not read, or that kept
 * changing while it read it, has no content to compare with. */
static bool unknown_in_recording(const struct flat_entry *e)
{
	return e->kind == BUNDLE_ENTRY_ERROR ||
	       e->kind == BUNDLE_ENTRY_CHANGED;
}

/* Return whether the permission bits of x and of y, an entry that the
 * replay could not read, differ: both are known from lstat, which needs
 * no read permission. */
static bool mode_differs(const struct flat_entry *x,
			 const struct flat_entry *y)
{
	return (y->mode & S_IFMT) && (x->mode & 07777) != (y->mode & 07777);
}

/* Return whether path lies below the directory at the last entry of the
 * recording that could not be read, whose contents it never saw. */
static bool below_unknown(const char *path, const char *unknown)
{
	size_t n = unknown ? strlen(unknown) : 0;

	return n && strncmp(path, unknown, n) == 0 && path[n] == '/';
}

/*
 * Merge the two sorted lists: "added" is only in the replay. An entry
 * that the recording could not read (unknown_in_recording()) is listed
 * as uncompared, whatever the replay has there. What the replay has
 * below such a directory is skipped. So is an entry of both that the
 * replay could not read, which happens when another user replays, and
 * what the recording has below it.
 */
static int merge_files(struct cmp_state *st, struct replay_step_cmp *sc,
		       const struct flat *x, const struct flat *y)
{
	const char *unknown = NULL, *unread = NULL;
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < x->n || j < y->n)) {
		int c = i == x->n ? 1
			: j == y->n
				? -1
				: strcmp(x->items[i].path, y->items[j].path);
		const char *what;

		if (c <= 0 && unknown_in_recording(&x->items[i])) {
			unknown = x->items[i].path;
			rc = add_uncompared(sc, x->items[i++].path);
			j += c == 0;
		} else if (c > 0 && below_unknown(y->items[j].path, unknown)) {
			j++;
		} else if (c == 0 && y->items[j].kind == BUNDLE_ENTRY_ERROR &&
			   mode_differs(&x->items[i], &y->items[j])) {
			/* Its mode, which lstat gave, shows a difference
			 * without the content. */
			rc = add_file(st, sc, x->items[i++].path, "mode");
			unread = y->items[j++].path;
		} else if (c >= 0 && y->items[j].kind == BUNDLE_ENTRY_ERROR &&
			   (c == 0 || below_unknown(x->items[i].path,
						    y->items[j].path))) {
			/* A directory has no entry of its own, only those of
			 * its files, when it could be read. */
			unread = y->items[j].path;
			rc = add_uncompared(sc, y->items[j++].path);
			i += c == 0;
		} else if (c < 0 && below_unknown(x->items[i].path, unread)) {
			i++;
		} else if (c < 0) {
			rc = add_file(st, sc, x->items[i++].path, "deleted");
		} else if (c > 0) {
			rc = add_file(st, sc, y->items[j++].path, "added");
		} else {
			what = entry_change(&x->items[i], &y->items[j]);
			if (what && volatile_index(st, x->items[i].path, what))
				sc->volatile_files++;
			else if (what)
				rc = add_file(st, sc, x->items[i].path, what);
			i++;
			j++;
		}
	}
	return rc;
}

static int compare_files(struct cmp_state *st, struct replay_step_cmp *sc,
			 const struct replay_step *x,
			 const struct replay_step *y)
{
	struct flat fx, fy;
	int rc;

	if (!x || !y || !x->has_root || !y->has_root ||
	    memcmp(&x->root, &y->root, sizeof(x->root)) == 0)
		return 0;
	if (flatten(st->a, x, &fx) < 0)
		return -1;
	if (flatten(st->b, y, &fy) < 0) {
		flat_free(&fx);
		return -1;
	}
	rc = merge_files(st, sc, &fx, &fy);
	flat_free(&fx);
	flat_free(&fy);
	return rc;
}

cJSON *replay_request_json(const struct harness_request *r)
{
	const char *enc = harness_headers_get(&r->headers, "content-encoding");
	unsigned char *plain = NULL;
	size_t len = 0;
	cJSON *json;

	if (!r->body)
		return NULL;
	if (enc &&
	    harness_decode_body(enc, r->body, r->body_len, &plain, &len) == 0) {
		json = cJSON_ParseWithLength((const char *)plain, len);
		free(plain);
		return json;
	}
	return cJSON_ParseWithLength((const char *)r->body, r->body_len);
}

static int note(struct replay_step_cmp *sc, const char *text)
{
	sc->request_note = strdup(text);
	return sc->request_note ? 0 : oom();
}

/* The step of a whose request the matching pairs with y's, or 0. */
static size_t served_by(const struct cmp_state *st,
			const struct replay_step *y)
{
	if (!y || !y->has_exchange || y < st->b->steps ||
	    y >= st->b->steps + st->b->n_steps)
		return 0;
	return st->served[y - st->b->steps];
}

/* The step of b whose request the matching paired with a's step k. */
static size_t served_to(const struct cmp_state *st, size_t k)
{
	for (size_t i = 0; i < st->b->n_steps; i++) {
		if (st->served[i] == k)
			return i + 1;
	}
	return 0;
}

static int diff_requests(struct cmp_state *st, struct replay_step_cmp *sc,
			 const struct harness_request *rx,
			 const struct harness_request *ry)
{
	/* The gateway compares headers and the query too, and rejects a
	 * request that differs there, so the report compares them as well.
	 * Otherwise it names a later step as the first divergence. */
	if (harness_matcher_diff(st->matcher, rx, ry, &sc->request) < 0) {
		replay_set_error("cannot compare request %zu: %s", sc->step,
				 harness_error());
		return -1;
	}
	return 0;
}

static int compare_request(struct cmp_state *st, struct replay_step_cmp *sc,
			   const struct replay_step *x,
			   const struct replay_step *y)
{
	const struct harness_request *rx, *ry;
	size_t j = served_by(st, y), k;
	char buf[1024];

	if ((!x || !x->has_exchange) && (!y || !y->has_exchange))
		return 0;
	/* Parallel requests can come in another order than recorded. The
	 * gateway serves each its own recording, so compare it with that. */
	if (j && j != sc->step) {
		sc->reordered = j;
		if (diff_requests(st, sc,
				  &st->a->steps[j - 1].exchange.request,
				  &y->exchange.request) < 0)
			return -1;
		/* Swapped requests leave no recorded request unmatched. A
		 * skipped or added one does, so the runs part at this step. */
		if (!x || !x->has_exchange) {
			snprintf(buf, sizeof(buf),
				 "the recording made no request here, and "
				 "this one is the recording's request %zu", j);
			return note(sc, buf);
		}
		if (!served_to(st, sc->step)) {
			snprintf(buf, sizeof(buf),
				 "the recording's request %zu matches no "
				 "request of the other run, whose request "
				 "here is the recording's request %zu",
				 sc->step, j);
			return note(sc, buf);
		}
		return 0;
	}
	if (!y || !y->has_exchange)
		return note(sc, "the other run made no request here");
	if (!x || !x->has_exchange)
		return note(sc, "the other run made a request that the "
				"recording does not have");
	rx = &x->exchange.request;
	ry = &y->exchange.request;
	if (strcmp(rx->method, ry->method) != 0 ||
	    strcmp(rx->path, ry->path) != 0) {
		snprintf(buf, sizeof(buf),
			 "the request went to %s %s, "
			 "recorded %s %s",
			 ry->method, ry->path, rx->method, rx->path);
		return note(sc, buf);
	}
	if (diff_requests(st, sc, rx, ry) < 0)
		return -1;
	/* The request recorded here matched an earlier request already, so
	 * the gateway found no recording for this one, though they are
	 * equal. */
	if (!j && !sc->request.divergent && (k = served_to(st, sc->step))) {
		snprintf(buf, sizeof(buf),
			 "the request is the recording's request %zu, which "
			 "the other run's request %zu matched already",
			 sc->step, k);
		return note(sc, buf);
	}
	return 0;
}

/* Pair each request of b with a recorded one as the gateway's matcher
 * does, in b's order, so that requests that came in another order are
 * compared with their own recording. */
static int pair_requests(struct cmp_state *st)
{
	const struct replay_run *a = st->a, *b = st->b;
	struct harness_exchange *ex = calloc(a->n_steps + 1, sizeof(*ex));
	size_t *step_of = calloc(a->n_steps + 1, sizeof(*step_of));
	struct harness_matcher *m = NULL;
	size_t n = 0;
	int rc = 0;

	st->served = calloc(b->n_steps + 1, sizeof(*st->served));
	if (!ex || !step_of || !st->served) {
		free(ex);
		free(step_of);
		return oom();
	}
	for (size_t i = 0; i < a->n_steps; i++) {
		if (!a->steps[i].has_exchange)
			continue;
		ex[n] = a->steps[i].exchange;
		step_of[n++] = i + 1;
	}
	/* The same matcher diffs the requests afterwards: its recordings'
	 * used-up marks play no part in a diff. */
	m = st->matcher = harness_matcher_new(ex, n, st->normalizer, NULL, 0);
	rc = m ? 0 : -1;
	for (size_t k = 0; rc == 0 && k < b->n_steps; k++) {
		struct harness_match match;

		if (!b->steps[k].has_exchange)
			continue;
		rc = harness_matcher_find(m, &b->steps[k].exchange.request,
					  &match);
		if (rc == 0 && match.verdict != HARNESS_DIVERGED &&
		    match.index < n)
			st->served[k] = step_of[match.index];
		if (rc == 0)
			harness_match_release(&match);
	}
	if (rc < 0)
		replay_set_error("cannot compare the requests: %s",
				 harness_error());
	free(ex);
	free(step_of);
	return rc;
}

static void judge(struct replay_step_cmp *sc)
{
	if (sc->request_note || sc->request.divergent || sc->n_procs ||
	    sc->n_files || sc->exit_differs)
		sc->verdict = REPLAY_DIVERGED;
	else if (sc->request.total || sc->reordered || sc->volatile_procs ||
		 sc->volatile_files)
		sc->verdict = REPLAY_VOLATILE;
	else
		sc->verdict = REPLAY_IDENTICAL;
}

/* Step numbers of the final step differ when one run made more
 * requests: final is compared with final. */
static const struct replay_step *step_at(const struct replay_run *run, size_t k,
					 bool final)
{
	if (final)
		return &run->steps[run->n_steps - 1];
	return k < run->n_steps ? &run->steps[k - 1] : NULL;
}

static void keep_files(struct cmp_state *st, const struct replay_step_cmp *sc)
{
	st->prev = sc->files;
	st->n_prev = sc->n_files;
}

static int compare_step(struct cmp_state *st, struct replay_step_cmp *sc,
			size_t n)
{
	const struct replay_step *x, *y;

	sc->final = sc->step == n;
	x = step_at(st->a, sc->step, sc->final);
	y = step_at(st->b, sc->step, sc->final);
	if (compare_request(st, sc, x, y) < 0 ||
	    replay_compare_procs(st, sc, n) < 0 ||
	    compare_files(st, sc, x, y) < 0 ||
	    replay_find_cause(st->a, st->b, st->pairs, x, y, sc) < 0)
		return -1;
	if (sc->final) {
		sc->ended_a = st->a->ended;
		sc->ended_b = st->b->ended;
		sc->exit_a = st->a->exit_code;
		sc->exit_b = st->b->exit_code;
		sc->exit_differs = sc->ended_a != sc->ended_b ||
				   (sc->ended_a && sc->exit_a != sc->exit_b);
	}
	judge(sc);
	/* A step that one run lacks compares no files, so the steps since
	 * which each file has differed carry over to the next step. */
	if (x && y && x->has_root && y->has_root)
		keep_files(st, sc);
	return 0;
}

static void summarize(struct replay_comparison *out)
{
	for (size_t i = 0; i < out->n_steps; i++) {
		enum replay_verdict v = out->steps[i].verdict;

		if (v == REPLAY_DIVERGED && !out->first)
			out->first = out->steps[i].step;
		if (v > out->verdict)
			out->verdict = v;
	}
}

/*
 * Add the matching rules of the policy recorded in run and those given
 * on the command line. The replay's gateway applied the same rules to
 * the requests, so a value it served as volatile is not reported as a
 * divergence here.
 */
static int add_policy_rules(struct harness_normalizer *normalizer,
			    const struct replay_run *run)
{
	const cJSON *pol = cJSON_GetObjectItem(run->fingerprint, "policy");
	const char *text = cJSON_GetStringValue(
		cJSON_GetObjectItem(pol, "content"));
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	const cJSON *rules, *rule;
	int rc = 0;

	rules = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "matching"),
				    "rules");
	cJSON_ArrayForEach(rule, rules) {
		const char *r = cJSON_GetStringValue(rule);

		if (r && harness_normalizer_add_rule(normalizer, r) < 0) {
			replay_set_error("invalid matching rule in the "
					 "recorded policy: '%s': %s", r,
					 harness_error());
			rc = -1;
			break;
		}
	}
	cJSON_Delete(root);

	for (size_t i = 0; rc == 0 && i < run->n_match_rules; i++) {
		if (harness_normalizer_add_rule(normalizer,
						run->match_rules[i]) < 0) {
			replay_set_error("invalid matching rule: '%s': %s",
					 run->match_rules[i], harness_error());
			rc = -1;
		}
	}
	return rc;
}

/* The normalizer with the recorded rules, the other run with the
 * recording's gateway address, and the pairs of processes. */
static int state_init(struct cmp_state *st)
{
	const struct replay_run *a = st->a, *b;

	if (replay_gateway_view(a, st->b_run, &st->b_view) < 0)
		return -1;
	st->b = b = &st->b_view;

	st->normalizer = harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	st->pairs = calloc(a->n_procs + 1, sizeof(*st->pairs));
	st->b_paired = calloc(b->n_procs + 1, sizeof(*st->b_paired));
	if (!st->normalizer || !st->pairs || !st->b_paired)
		return oom();

	if (add_policy_rules(st->normalizer, a) < 0 ||
	    replay_pair_procs(a, b, st->normalizer, st->pairs) < 0)
		return -1;
	if (pair_requests(st) < 0)
		return -1;
	st->out->pairs = malloc((a->n_procs + 1) * sizeof(*st->out->pairs));
	if (!st->out->pairs)
		return oom();
	for (size_t i = 0; i < a->n_procs; i++) {
		st->out->pairs[i] = SIZE_MAX;
		if (!st->pairs[i])
			continue;
		st->b_paired[st->pairs[i] - b->procs] = true;
		st->out->pairs[i] = (size_t)(st->pairs[i] - b->procs);
	}
	return 0;
}

static void state_release(struct cmp_state *st)
{
	if (st->b == &st->b_view)
		replay_gateway_view_release(&st->b_view, st->b_run);
	harness_matcher_free(st->matcher);
	free(st->served);
	harness_normalizer_free(st->normalizer);
	free(st->pairs);
	free(st->b_paired);
	replay_compare_procs_release(st);
}

int replay_compare(const struct replay_run *a, const struct replay_run *b,
		   struct replay_comparison *out)
{
	struct cmp_state st = {.a = a, .b = b, .b_run = b, .out = out};
	size_t n = a->n_steps > b->n_steps ? a->n_steps : b->n_steps;

	memset(out, 0, sizeof(*out));
	out->timed_out_a = a->ended && a->timed_out;
	out->timed_out_b = b->ended && b->timed_out;
	out->steps = calloc(n, sizeof(*out->steps));
	if (!out->steps || state_init(&st) < 0) {
		if (!out->steps)
			oom();
		state_release(&st);
		free(out->steps);
		free(out->pairs);
		out->steps = NULL;
		out->pairs = NULL;
		return -1;
	}

	for (size_t k = 1; k <= n; k++) {
		struct replay_step_cmp *sc = &out->steps[k - 1];

		sc->step = k;
		out->n_steps = k;
		if (compare_step(&st, sc, n) < 0) {
			state_release(&st);
			replay_comparison_release(out);
			return -1;
		}
	}
	state_release(&st);
	summarize(out);
	return 0;
}

void replay_comparison_release(struct replay_comparison *cmp)
{
	for (size_t i = 0; i < cmp->n_steps; i++)
		replay_step_cmp_release(&cmp->steps[i]);
	free(cmp->steps);
	free(cmp->pairs);
	memset(cmp, 0, sizeof(*cmp));
}

void replay_step_cmp_release(struct replay_step_cmp *sc)
{
	free(sc->request_note);
	harness_diff_release(&sc->request);
	replay_cause_release(&sc->cause);
	for (size_t j = 0; j < sc->n_procs; j++) {
		free(sc->procs[j].position);
		free(sc->procs[j].command);
		free(sc->procs[j].what);
		cJSON_Delete(sc->procs[j].json);
	}
	free(sc->procs);
	for (size_t j = 0; j < sc->n_files; j++) {
		free(sc->files[j].path);
		free(sc->files[j].what);
	}
	free(sc->files);
	for (size_t j = 0; j < sc->n_uncompared; j++)
		free(sc->uncompared[j]);
	free(sc->uncompared);
	memset(sc, 0, sizeof(*sc));
}

int replay_compare_trees(const struct replay_run *a, const struct bundle_id *ra,
			 const struct replay_run *b, const struct bundle_id *rb,
			 struct replay_step_cmp *sc)
{
	struct cmp_state st = {.a = a, .b = b};
	struct replay_step x = {.has_root = true, .root = *ra};
	struct replay_step y = {.has_root = true, .root = *rb};

	return compare_files(&st, sc, &x, &y);
}
