/*
 * cmd_gate.c - "runbundle gate": check a bundle against CI approval rules
 * (inspect/gate.h, docs/gate.md) and exit 1 with one line per failed rule.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bundle/snapshot.h"
#include "bundle/tree.h"
#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/describe.h"
#include "inspect/error.h"
#include "inspect/execs.h"
#include "inspect/gate.h"
#include "inspect/integrity.h"
#include "inspect/options.h"
#include "inspect/output.h"
#include "inspect/view.h"

/* Items kept per rule for --json and the human line; the count is kept
 * whole. */
#define GATE_MAX_ITEMS 1000
#define GATE_NAME_WIDTH 16

/* The value on_change returns to stop the diff after it stored its own
 * error, distinct from the diff's own -1. */
#define GATE_STOPPED (-2)

enum { DAMAGED, FILES, PROTECTED, OUTSIDE, COMMAND, NETWORK, INCOMPLETE,
       DIVERGED, TIMED_OUT, FAILED, N_RULES };

static const char *const rule_names[N_RULES] = {
	"damaged", "files-changed", "protected-path", "write-outside",
	"denied-command", "network", "incomplete", "diverged", "timed-out",
	"agent-failed",
};

struct rule {
	int enabled;
	uint64_t hits;
	char detail[160];
	cJSON *items; /* strings: paths, commands, destinations, reasons */
};

/* A symlink of the final state at a path that protected_paths cover,
 * and the path from the workspace root that it leads to. */
struct link {
	char *path;
	char *target;
};

struct gate {
	const struct inspect_gate_rules *rules;
	const struct inspect_view *view;
	struct rule r[N_RULES];
	uint64_t changed;
	uint64_t write_attempts; /* hits of write-outside that are refused
				  * writes, not changed paths */
	int wal_missing;	 /* no -wal beside the bundle, checked before
				  * it was opened */
	struct link *links;	 /* protected symlinks of the final state */
	size_t n_links;
};

/* Count a hit and keep its whole item as messages show a path: control
 * characters and bytes that are not UTF-8 as "\xHH", a backslash as
 * "\\", then what else could mislead a terminal (C1 controls,
 * bidirectional overrides) as '?'. */
static void hit(struct rule *rule, const char *item)
{
	size_t size = 4 * strlen(item) + 1; /* "\xHH" is the longest form */
	char *escaped, *clean;

	rule->hits++;
	if (cJSON_GetArraySize(rule->items) >= GATE_MAX_ITEMS)
		return;
	escaped = malloc(size);
	clean = malloc(size);
	if (escaped && clean) {
		bundle_name_escape(escaped, size, (const unsigned char *)item,
				   strlen(item));
		cli_sanitize(clean, size, escaped);
		cJSON_AddItemToArray(rule->items, cJSON_CreateString(clean));
	}
	free(escaped);
	free(clean);
}

static int any_match(const struct inspect_gate_list *list, const char *path,
		     int (*match)(const char *, const char *))
{
	for (size_t i = 0; i < list->count; i++) {
		if (match(list->items[i], path))
			return 1;
	}
	return 0;
}

/* Return whether dir (a path from the root, "" for the root) contains, in
 * the run's final state, an entry name of the given kind or a symlink,
 * which git follows. A hardlink counts as a file. A path that cannot be
 * held in memory counts as absent. */
static bool final_has(struct gate *g, const char *dir, const char *name,
		      enum bundle_entry_kind kind)
{
	const struct inspect_view *v = g->view;
	struct inspect_node node;
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *path = malloc(len);
	bool found = false;

	if (!path)
		return false;
	snprintf(path, len, "%s%s%s", dir, *dir ? "/" : "", name);
	if (inspect_node_find(v->bundle, &v->steps[v->n_steps - 1].root, path,
			      &node) == 0) {
		found = !node.is_root &&
			(node.entry.kind == kind ||
			 node.entry.kind == BUNDLE_ENTRY_SYMLINK ||
			 (kind == BUNDLE_ENTRY_FILE &&
			  node.entry.kind == BUNDLE_ENTRY_HARDLINK));
		inspect_node_release(&node);
	}
	free(path);
	return found;
}

/* Return whether the first len bytes of path (the root when len is 0)
 * name a git directory in the final state. git takes a directory with a
 * HEAD file and objects and refs directories for one. HEAD may be a
 * symlink into refs/, and objects and refs symlinks to directories, so
 * a symlink counts for each. A commondir file may replace objects
 * and refs, because git then looks for them where it points. */
static bool is_git_dir(struct gate *g, const char *path, size_t len)
{
	char *dir = strndup(path, len);
	bool found;

	/* Out of memory counts as a git directory, so the rule fails closed. */
	if (!dir)
		return true;
	found = final_has(g, dir, "HEAD", BUNDLE_ENTRY_FILE) &&
		((final_has(g, dir, "objects", BUNDLE_ENTRY_DIR) &&
		  final_has(g, dir, "refs", BUNDLE_ENTRY_DIR)) ||
		 final_has(g, dir, "commondir", BUNDLE_ENTRY_FILE));
	free(dir);
	return found;
}

/*
 * Return whether path is the config, config.worktree, commondir or
 * hooks of a git directory that is not named .git: a bare repository
 * (src/app.git), whose config can name programs that git runs there
 * (core.fsmonitor) as a .git's can. commondir names the directory whose
 * config and hooks git uses instead. Each "hooks" component is checked,
 * because a directory above the repository may have that name too
 * (tools/hooks/app.git/hooks).
 */
static bool in_git_dir(struct gate *g, const char *path)
{
	const char *base = strrchr(path, '/');
	const char *name = base ? base + 1 : path;

	if ((strcmp(name, "config") == 0 ||
	     strcmp(name, "config.worktree") == 0 ||
	     strcmp(name, "commondir") == 0) &&
	    is_git_dir(g, path, base ? (size_t)(base - path) : 0))
		return true;
	for (const char *p = path; p; p = strchr(p, '/')) {
		p += *p == '/';
		if (strncmp(p, "hooks", 5) == 0 &&
		    (p[5] == '\0' || p[5] == '/') &&
		    is_git_dir(g, path, p == path ? 0 :
				       (size_t)(p - 1 - path)))
			return true;
	}
	return false;
}

/*
 * Resolve the relative target of the symlink at path into a path from
 * the workspace root. Return it (malloc'd), or NULL when it is absolute
 * or leaves the workspace.
 * NOTE: the target is resolved by its text alone, so a link through
 * another symlink (.github -> ci, ci -> src/ci) is not followed.
 */
static char *link_target(const char *path, const unsigned char *text,
			 size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path) : 0;
	char *out = malloc(dir + len + 2);
	size_t at = dir;

	if (!out || (len && text[0] == '/')) {
		free(out);
		return NULL;
	}
	memcpy(out, path, dir);
	for (size_t i = 0; i < len;) {
		size_t n = 0;

		while (i + n < len && text[i + n] != '/')
			n++;
		if (n == 2 && text[i] == '.' && text[i + 1] == '.') {
			if (at == 0) {
				free(out);
				return NULL;
			}
			while (at > 0 && out[at - 1] != '/')
				at--;
			at -= at > 0;
		} else if (n && !(n == 1 && text[i] == '.')) {
			if (at)
				out[at++] = '/';
			memcpy(out + at, text + i, n);
			at += n;
		}
		i += n + 1;
	}
	out[at] = '\0';
	return out;
}

/* Return whether the initial state has the symlink entry at path. */
static bool initial_has(struct gate *g, const char *path,
			const struct bundle_tree_entry *entry)
{
	const struct inspect_view *v = g->view;
	struct inspect_node node;
	bool found = false;

	if (inspect_node_find(v->bundle, &v->steps[0].root, path, &node) == 0) {
		found = !node.is_root &&
			node.entry.kind == BUNDLE_ENTRY_SYMLINK &&
			node.entry.text_len == entry->text_len &&
			memcmp(node.entry.text, entry->text,
			       entry->text_len) == 0;
		inspect_node_release(&node);
	}
	return found;
}

/* Keep each symlink that protected_paths cover and the run left as it
 * was. One that the run made or changed is a protected change itself. */
static int on_link(const char *path, const struct bundle_tree_entry *entry,
		   void *arg)
{
	struct gate *g = arg;
	const struct inspect_gate_list *protected = &g->rules->protected_paths;
	struct link *links;
	char *target;

	if (entry->kind != BUNDLE_ENTRY_SYMLINK ||
	    (!any_match(protected, path, inspect_gate_protected_match) &&
	     !any_match(protected, path, inspect_gate_path_above)) ||
	    !initial_has(g, path, entry))
		return 0;
	target = link_target(path, entry->text, entry->text_len);
	if (!target)
		return 0;
	links = realloc(g->links, (g->n_links + 1) * sizeof(*links));
	if (links)
		g->links = links;
	if (!links || !(links[g->n_links].path = strdup(path))) {
		free(target);
		inspect_set_error("cannot check the protected paths: out of "
				  "memory");
		return -1;
	}
	links[g->n_links++].target = target;
	return 0;
}

/* Return whether path lies at or below the target of a protected
 * symlink, at a path that a protected pattern covers through it: with
 * .github -> ci/github, ci/github/workflows/ci.yml is what a later job
 * reads as .github/workflows/ci.yml. */
static bool via_link(struct gate *g, const char *path)
{
	for (size_t i = 0; i < g->n_links; i++) {
		const struct link *l = &g->links[i];
		size_t n = strlen(l->target);
		char *seen;
		bool found;

		if (n && (strncmp(path, l->target, n) != 0 ||
			  (path[n] && path[n] != '/')))
			continue;
		/* A link to the root (target "") leads to every path. Out of
		 * memory counts as a match, so the rule fails closed. */
		if (asprintf(&seen, "%s%s%s", l->path, n ? "" : "/",
			     path + n) < 0)
			return true;
		found = any_match(&g->rules->protected_paths, seen,
				  inspect_gate_protected_match);
		free(seen);
		if (found)
			return true;
	}
	return false;
}

static int on_change(const unsigned char *path, size_t path_len,
		     enum bundle_change change,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new, void *arg)
{
	struct gate *g = arg;
	bool link = (old && old->kind == BUNDLE_ENTRY_SYMLINK) ||
		    (new && new->kind == BUNDLE_ENTRY_SYMLINK);
	char *raw;

	(void)change;

	/* Copy the whole path, because a rule may match only its last
	 * components, which can lie beyond any fixed length. */
	raw = strndup((const char *)path, path_len);
	if (!raw) {
		inspect_set_error("cannot check the changed paths: "
				  "out of memory");
		return GATE_STOPPED;
	}
	g->changed++;
	/* A symlink .runbundle -> src/rb changes no path below .runbundle,
	 * yet a later job that reads .runbundle/gate.json reads src/rb.
	 * Removing such a symlink changes what those paths lead to too. */
	if (any_match(&g->rules->protected_paths, raw,
		      inspect_gate_protected_match) ||
	    (link && any_match(&g->rules->protected_paths, raw,
			       inspect_gate_path_above)) ||
	    (g->r[PROTECTED].enabled && (in_git_dir(g, raw) ||
					 via_link(g, raw))))
		hit(&g->r[PROTECTED], raw);
	if (!any_match(&g->rules->allowed_paths, raw, inspect_gate_path_match))
		hit(&g->r[OUTSIDE], raw);
	free(raw);
	return 0;
}

static int check_changes(struct gate *g)
{
	const struct inspect_view *v = g->view;
	int rc;

	if (v->n_steps < 2)
		return 0;
	if (g->r[PROTECTED].enabled &&
	    inspect_tree_walk(v->bundle, &v->steps[v->n_steps - 1].root, "",
			      on_link, g) != 0)
		return -1;
	rc = bundle_snapshot_diff(v->bundle, &v->steps[0].root,
				  &v->steps[v->n_steps - 1].root, on_change, g);
	if (rc == GATE_STOPPED)
		return -1;
	if (rc < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (g->rules->max_files_changed >= 0 &&
	    g->changed > (uint64_t)g->rules->max_files_changed)
		g->r[FILES].hits = g->changed;
	return 0;
}

/* Return whether the exec event ev ran a denied command, counting it. */
static bool check_exec(struct gate *g, const struct inspect_event *ev)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(ev->data, "argv");
	const cJSON *arg0 = cJSON_GetArrayItem(argv, 0);
	const char *path = inspect_json_str(ev->data, "path");
	const char *attempted = inspect_json_str(ev->data, "attempted");
	const struct inspect_gate_list *deny = &g->rules->denied_commands;

	/* The program, the path the call gave (a script's path, whose
	 * program is its interpreter), or argv[0]. */
	if (path && any_match(deny, path, inspect_gate_command_match))
		hit(&g->r[COMMAND], path);
	else if (attempted &&
		 any_match(deny, attempted, inspect_gate_command_match))
		hit(&g->r[COMMAND], attempted);
	else if (cJSON_IsString(arg0) &&
		 any_match(deny, arg0->valuestring,
			   inspect_gate_command_match))
		hit(&g->r[COMMAND], arg0->valuestring);
	else
		return false;
	return true;
}

static void check_violation(struct gate *g, const struct inspect_event *ev)
{
	const char *source = inspect_json_str(ev->data, "source");
	char target[600];

	if (!source)
		return;
	inspect_violation_target(target, sizeof(target), ev->data);
	if (strcmp(source, "exec") == 0) {
		hit(&g->r[COMMAND], strcmp(target, "?") ? target :
							  "(unnamed command)");
	} else if (strcmp(source, "write") == 0) {
		g->write_attempts++;
		hit(&g->r[OUTSIDE], target);
	} else if (strcmp(source, "proxy") == 0 ||
		   strcmp(source, "network") == 0) {
		hit(&g->r[NETWORK], target);
	}
}

static int diverged(const struct inspect_event *ev)
{
	const char *verdict = inspect_json_str(ev->data, "verdict");

	return strcmp(ev->kind, "divergence") == 0 ||
	       (verdict && strcmp(verdict, "diverged") == 0);
}

/*
 * Count the exec attempts. A failed exec that the same process follows
 * with an attempt at the same name is a PATH lookup (execs.h), and a
 * search of PATH is one attempt. An exec that the sandbox refused has an
 * exec event and a violation event, and counts once, at its violation.
 * A search counts once when the sandbox refused any of its attempts,
 * even when a later one ran a program of that name from another
 * directory: pending[index] keeps the first refusal of the process's
 * search under way until the attempt that ends it.
 */
static void count_execs(struct gate *g, const unsigned char *lookups,
			const size_t *pairs,
			const struct inspect_event **pending)
{
	const struct inspect_view *v = g->view;

	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		bool exec = strcmp(ev->kind, "exec") == 0;
		long index = inspect_exec_process(v, ev);

		if (exec && !lookups[i] && !pairs[i] && !check_exec(g, ev) &&
		    index >= 0 && pending[index])
			check_violation(g, pending[index]);
		if (exec && !lookups[i] && index >= 0)
			pending[index] = NULL;
		if (strcmp(ev->kind, "violation") != 0)
			continue;
		if (!pairs[i] || !lookups[pairs[i] - 1])
			check_violation(g, ev);
		else if (index >= 0 && !pending[index])
			pending[index] = ev;
	}

	/* A search that the run's end cut short. */
	for (size_t k = 0; k < v->n_events; k++) {
		if (pending[k])
			check_violation(g, pending[k]);
	}
}

static int check_events(struct gate *g)
{
	const struct inspect_view *v = g->view;
	size_t n = v->n_events ? v->n_events : 1;
	unsigned char *lookups = inspect_exec_lookups(v);
	size_t *pairs = inspect_exec_violations(v);
	const struct inspect_event **pending = calloc(n, sizeof(*pending));
	int rc = -1;

	if (lookups && pairs && pending) {
		count_execs(g, lookups, pairs, pending);
		for (size_t i = 0; i < v->n_events; i++) {
			if (diverged(&v->events[i]))
				hit(&g->r[DIVERGED], v->events[i].kind);
		}
		rc = 0;
	} else if (!pending) {
		inspect_set_error("cannot count the execs: out of memory");
	}
	free(lookups);
	free(pairs);
	free(pending);
	return rc;
}

/* The end event records whether the policy's wall-clock limit ended the
 * run; the limit itself is in the sandbox's description. */
static void check_timeout(struct gate *g)
{
	const struct inspect_event *end = inspect_view_last(g->view, "end");
	const struct inspect_event *sb = inspect_view_first(g->view,
							    "sandbox");
	struct rule *r = &g->r[TIMED_OUT];
	cJSON *desc = NULL;
	double limit = 0;
	char dur[32];

	if (!end || !inspect_json_bool(end->data, "timed_out", 0))
		return;
	if (sb && inspect_view_ref_json(g->view, sb, 0, &desc) == 0)
		limit = inspect_json_num(cJSON_GetObjectItem(
			cJSON_GetObjectItem(desc, "limits"), "timeout_seconds"),
			"value", 0);
	cJSON_Delete(desc);
	out_duration(dur, sizeof(dur),
		     inspect_json_num(end->data, "duration_us", -1));
	if (limit > 0)
		snprintf(r->detail, sizeof(r->detail), "the run timed out "
			 "after %s (policy limit %.0f s)", dur, limit);
	else
		snprintf(r->detail, sizeof(r->detail), "the run timed out "
			 "after %s (policy limit)", dur);
	hit(r, r->detail);
}

/* A run that timed out is timed-out's alone, and one without an end
 * event is incomplete's, so that allow_timeout and require_complete
 * decide them. */
static void check_failed(struct gate *g)
{
	const struct inspect_event *end = inspect_view_last(g->view, "end");
	const char *signal, *stopped_by;
	struct rule *r = &g->r[FAILED];
	char name[64];
	int code;

	if (!end || inspect_json_bool(end->data, "timed_out", 0))
		return;
	signal = inspect_json_str(end->data, "signal");
	stopped_by = inspect_json_str(end->data, "stopped_by");
	code = inspect_json_exit_code(end->data);
	/* The detail line is printed as it is, so a signal name from the
	 * bundle gets its control characters replaced as log shows them. */
	if (cJSON_IsFalse(cJSON_GetObjectItem(end->data, "started"))) {
		cli_sanitize(name, sizeof(name), stopped_by ? stopped_by : "?");
		snprintf(r->detail, sizeof(r->detail), "the agent did not "
			 "start: SIG%s stopped the recording", name);
	} else if (signal) {
		cli_sanitize(name, sizeof(name), signal);
		snprintf(r->detail, sizeof(r->detail), "the agent was killed "
			 "by SIG%s", name);
	} else if (code < 0) {
		snprintf(r->detail, sizeof(r->detail), "the end event has no "
			 "valid exit_code");
	} else if (code != 0) {
		snprintf(r->detail, sizeof(r->detail), "the agent exited with "
			 "status %d", code);
	} else {
		return;
	}
	hit(r, r->detail);
}

static void check_complete(struct gate *g)
{
	const struct inspect_view *v = g->view;
	struct rule *r = &g->r[INCOMPLETE];

	if (!v->finalized)
		hit(r, "the bundle is not finalized");
	if (!v->finalized && g->wal_missing)
		hit(r, "its -wal file is missing, which can contain its last "
		    "events");
	if (!inspect_view_last(v, "end"))
		hit(r, "the run has no end event");
	if (v->n_steps == 0)
		hit(r, "the run has no snapshot");
	for (size_t i = 0; i < v->n_steps; i++) {
		if (!v->steps[i].complete) {
			hit(r, "a snapshot has unreadable or changing files");
			break;
		}
	}
}

/* A bundle that fails verification is never approved, whatever the
 * rules file sets, because its events may not be what was recorded. */
static int check_verified(struct gate *g, const char *path)
{
	struct bundle_verify_report report;

	if (bundle_verify(path, &report) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	for (size_t i = 0; i < report.n_problems; i++)
		hit(&g->r[DAMAGED], report.problems[i].message);
	bundle_verify_release(&report);
	return 0;
}

/* Return the tail of item in at most room bytes, less 3 for "...", cut
 * where a UTF-8 sequence starts. The end of a deep path names the file. */
static const char *item_tail(const char *item, size_t room)
{
	size_t len = strlen(item);
	const char *tail;

	if (len <= room)
		return item;
	tail = item + len - (room > 3 ? room - 3 : 0);
	while (*tail && ((unsigned char)*tail & 0xc0) == 0x80)
		tail++;
	return tail;
}

/* Join the first items into the detail line after a lead-in. A first
 * item too long for the line is shown by its end. */
static void describe_items(struct rule *r, const char *lead)
{
	size_t len = (size_t)snprintf(r->detail, sizeof(r->detail), "%s",
				      lead);
	const cJSON *item;

	cJSON_ArrayForEach(item, r->items) {
		bool first = item == r->items->child;
		const char *text = item->valuestring;
		size_t room = sizeof(r->detail) - len - 5;

		if (len + 5 >= sizeof(r->detail))
			break;
		if (strlen(text) > room && !first)
			break;
		text = item_tail(text, room);
		len += (size_t)snprintf(r->detail + len,
					sizeof(r->detail) - len, "%s'%s%s'",
					first ? ": " : ", ",
					text == item->valuestring ? "" : "...",
					text);
	}
}

/* write-outside counts two things: changed paths that no allowed
 * pattern covers, which come first in its items, and writes that the
 * sandbox refused. */
static void describe_outside(struct gate *g)
{
	struct rule *r = &g->r[OUTSIDE];
	uint64_t changed = r->hits - g->write_attempts;
	uint64_t attempts = g->write_attempts;
	char lead[128];

	if (attempts == 0)
		snprintf(lead, sizeof(lead), "%llu path%s changed outside "
			 "the allowed ones", (unsigned long long)changed,
			 changed == 1 ? "" : "s");
	else if (changed == 0)
		snprintf(lead, sizeof(lead), "%llu write%s refused",
			 (unsigned long long)attempts,
			 attempts == 1 ? "" : "s");
	else
		snprintf(lead, sizeof(lead), "%llu path%s changed outside "
			 "the allowed ones, %llu write%s refused",
			 (unsigned long long)changed, changed == 1 ? "" : "s",
			 (unsigned long long)attempts,
			 attempts == 1 ? "" : "s");
	describe_items(r, lead);
}

static void describe(struct gate *g)
{
	const struct inspect_gate_rules *rules = g->rules;
	char lead[96];

	snprintf(g->r[FILES].detail, sizeof(g->r[FILES].detail),
		 "%llu file%s changed, more than the %lld allowed",
		 (unsigned long long)g->changed, g->changed == 1 ? "" : "s",
		 (long long)rules->max_files_changed);
	snprintf(lead, sizeof(lead), "%llu protected path%s changed",
		 (unsigned long long)g->r[PROTECTED].hits,
		 g->r[PROTECTED].hits == 1 ? "" : "s");
	describe_items(&g->r[PROTECTED], lead);
	describe_outside(g);
	snprintf(lead, sizeof(lead), "%llu denied command%s attempted",
		 (unsigned long long)g->r[COMMAND].hits,
		 g->r[COMMAND].hits == 1 ? "" : "s");
	describe_items(&g->r[COMMAND], lead);
	snprintf(lead, sizeof(lead), "%llu network access%s refused",
		 (unsigned long long)g->r[NETWORK].hits,
		 g->r[NETWORK].hits == 1 ? "" : "es");
	describe_items(&g->r[NETWORK], lead);
	describe_items(&g->r[INCOMPLETE], "the run is incomplete");
	snprintf(lead, sizeof(lead), "verification found %llu problem%s",
		 (unsigned long long)g->r[DAMAGED].hits,
		 g->r[DAMAGED].hits == 1 ? "" : "s");
	describe_items(&g->r[DAMAGED], lead);
	snprintf(g->r[DIVERGED].detail, sizeof(g->r[DIVERGED].detail),
		 "the replay recorded %llu divergence%s",
		 (unsigned long long)g->r[DIVERGED].hits,
		 g->r[DIVERGED].hits == 1 ? "" : "s");
}

static int evaluate(struct gate *g, const char *path)
{
	const struct inspect_gate_rules *rules = g->rules;

	for (int i = 0; i < N_RULES; i++) {
		g->r[i].enabled = 1;
		g->r[i].items = cJSON_CreateArray();
		if (!g->r[i].items) {
			inspect_set_error("cannot check the rules: out of "
					  "memory");
			return -1;
		}
	}
	g->r[FILES].enabled = rules->max_files_changed >= 0;
	g->r[PROTECTED].enabled = rules->protected_paths.count > 0;
	g->r[COMMAND].enabled = 1;
	g->r[NETWORK].enabled = !rules->allow_network;
	g->r[INCOMPLETE].enabled = rules->require_complete;
	g->r[DIVERGED].enabled = rules->require_identical;
	g->r[TIMED_OUT].enabled = !rules->allow_timeout;
	g->r[FAILED].enabled = !rules->allow_failure;
	if (check_verified(g, path) < 0 || check_changes(g) < 0 ||
	    check_events(g) < 0)
		return -1;
	check_complete(g);
	check_timeout(g);
	check_failed(g);
	describe(g);
	return 0;
}

static int failed(const struct rule *r)
{
	return r->enabled && r->hits > 0;
}

static int print_json(const struct gate *g, const char *path, int n_failed)
{
	cJSON *out = cJSON_CreateObject(), *list;
	char *text;

	cJSON_AddStringToObject(out, "bundle", path);
	cJSON_AddBoolToObject(out, "passed", n_failed == 0);
	cJSON_AddNumberToObject(out, "failed", n_failed);
	cJSON_AddNumberToObject(out, "files_changed", (double)g->changed);
	list = cJSON_AddArrayToObject(out, "rules");
	for (int i = 0; i < N_RULES; i++) {
		const struct rule *r = &g->r[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "rule", rule_names[i]);
		cJSON_AddBoolToObject(o, "enabled", r->enabled);
		cJSON_AddBoolToObject(o, "passed", !failed(r));
		cJSON_AddNumberToObject(o, "count", (double)r->hits);
		cJSON_AddStringToObject(o, "detail",
					failed(r) ? r->detail : "");
		cJSON_AddItemToObject(o, "items",
				      cJSON_Duplicate(r->items, 1));
		cJSON_AddItemToArray(list, o);
	}
	text = cJSON_Print(out);
	cJSON_Delete(out);
	if (!text)
		return cli_error_from("cannot print the result: out of memory",
				      NULL);
	printf("%s\n", text);
	free(text);
	return n_failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* On a terminal, each line is cut to 80 columns. A pipe or a file (a
 * CI log) gets the whole detail, as --json does. */
static int print_human(const struct gate *g, int n_failed)
{
	int color = cli_use_color(stdout);
	int tty = isatty(STDOUT_FILENO);

	for (int i = 0; i < N_RULES; i++) {
		const struct rule *r = &g->r[i];
		char line[sizeof(r->detail)];

		if (!failed(r))
			continue;
		/* Cut by columns, never inside a UTF-8 sequence, which
		 * would print a broken character before the "...". */
		if (tty)
			out_trim(line, sizeof(line), r->detail,
				 80 - GATE_NAME_WIDTH - 1);
		else
			snprintf(line, sizeof(line), "%s", r->detail);
		printf("%s%-*s%s %s\n", color ? "\033[31m" : "",
		       GATE_NAME_WIDTH, rule_names[i], color ? "\033[0m" : "",
		       line);
	}
	if (n_failed)
		fprintf(stderr, "gate: %d of %d rules failed\n", n_failed,
			N_RULES);
	else
		printf("gate: all %d rules passed\n", N_RULES);
	return n_failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int run(const char *path, const char *rules_path, int json)
{
	struct inspect_gate_rules rules;
	struct inspect_view view;
	struct gate g;
	int rc = CLI_EXIT_ERROR, n_failed = 0;

	memset(&g, 0, sizeof(g));
	if (inspect_gate_rules_default(&rules) < 0)
		return cli_error_from(inspect_error(), inspect_error_hint());
	if (rules_path && inspect_gate_rules_load(&rules, rules_path) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		inspect_gate_rules_release(&rules);
		return CLI_EXIT_ERROR;
	}
	/* Before the bundle is opened, which may create an empty -wal. */
	g.wal_missing = inspect_wal_missing(path);
	if (inspect_view_open(&view, path) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		inspect_gate_rules_release(&rules);
		return CLI_EXIT_ERROR;
	}
	g.rules = &rules;
	g.view = &view;
	if (evaluate(&g, path) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
	} else {
		for (int i = 0; i < N_RULES; i++)
			n_failed += failed(&g.r[i]);
		/* The note's hint names the file to copy, which the rule's
		 * line has no room for. */
		if (g.wal_missing && !view.finalized)
			inspect_wal_warn(path);
		rc = json ? print_json(&g, path, n_failed) :
			    print_human(&g, n_failed);
	}
	for (int i = 0; i < N_RULES; i++)
		cJSON_Delete(g.r[i].items);
	for (size_t i = 0; i < g.n_links; i++) {
		free(g.links[i].path);
		free(g.links[i].target);
	}
	free(g.links);
	inspect_view_close(&view);
	inspect_gate_rules_release(&rules);
	return rc;
}

int cmd_gate(int argc, char **argv, const struct cli_command *self)
{
	const char *rules = NULL;
	int json = 0, first;
	const struct inspect_option options[] = {
		{ "rules", 0, &rules, NULL },
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};

	first = inspect_options_parse(argc, argv, self, options);
	return first < 0 ? CLI_EXIT_USAGE : run(argv[first], rules, json);
}
