/*
 * patch.c - write the diff between two snapshots in git's format, with
 * the hunks from diff(1). patch.h explains why diff(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/patch.h"

/* The largest file content held in memory to be diffed; a larger file
 * is noted as binary. */
#define PATCH_MAX_FILE ((size_t)1 << 30)
/* git looks for a NUL byte in this many leading bytes (xdiff's
 * FIRST_FEW_BYTES) to call content binary. */
#define PATCH_BINARY_PROBE 8000

extern char **environ;

struct side {
	unsigned char *data;
	size_t len;
	const char *mode; /* "100644", "100755", "120000" */
};

struct patch_ctx {
	struct bundle *bundle;
	const struct bundle_id *old_root, *new_root;
	const struct inspect_patch_options *opts;
	struct inspect_patch_stats *stats;
	uint64_t lines_added, lines_removed;
	int binary;
	int failed; /* a callback failed: the message is in inspect_error() */
};

static int need_quote(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c >= 0x80 || c == '"' ||
		    c == '\\')
			return 1;
	}
	return 0;
}

/* git's quote_c_style: C escapes and octal for the rest. */
static void put_quoted(FILE *out, const char *prefix, const char *name,
		       int tab_after_space)
{
	const char *s;

	if (!need_quote(name)) {
		fprintf(out, "%s%s%s", prefix, name,
			tab_after_space && strchr(name, ' ') ? "\t" : "");
		return;
	}
	fprintf(out, "\"%s", prefix);
	for (s = name; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = strchr("\a\b\t\n\v\f\r\"\\", c);

		if (esc && c)
			fprintf(out, "\\%c",
				"abtnvfr\"\\"[esc - "\a\b\t\n\v\f\r\"\\"]);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static char *label(const char *prefix, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	put_quoted(f, prefix, name, 1);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int in_paths(const struct inspect_patch_options *o, const char *path)
{
	if (!o->n_paths)
		return 1;
	for (size_t i = 0; i < o->n_paths; i++) {
		const char *p = o->paths[i];
		size_t n = strlen(p);

		while (n && p[n - 1] == '/')
			n--;
		if (n == 0 || (strncmp(path, p, n) == 0 &&
			       (path[n] == '\0' || path[n] == '/')))
			return 1;
	}
	return 0;
}

static int is_file(const struct bundle_tree_entry *e)
{
	return e && (e->kind == BUNDLE_ENTRY_FILE ||
		     e->kind == BUNDLE_ENTRY_HARDLINK);
}

static int is_diffable(const struct bundle_tree_entry *e)
{
	return is_file(e) || (e && e->kind == BUNDLE_ENTRY_SYMLINK);
}

static const char *git_mode(const struct bundle_tree_entry *e)
{
	return e->kind == BUNDLE_ENTRY_SYMLINK ? "120000" :
	       (e->mode & 0100) ? "100755" : "100644";
}

static int load_side(struct patch_ctx *c, const struct bundle_id *root,
		     const struct bundle_tree_entry *e, struct side *s)
{
	struct inspect_node node;
	char *path;
	int rc;

	s->mode = git_mode(e);
	if (e->kind == BUNDLE_ENTRY_SYMLINK) {
		s->data = malloc(e->text_len + 1);
		if (!s->data) {
			inspect_set_error("cannot diff: out of memory");
			return -1;
		}
		memcpy(s->data, e->text, e->text_len);
		s->data[e->text_len] = '\0';
		s->len = e->text_len;
		return 0;
	}
	if (e->kind == BUNDLE_ENTRY_FILE)
		return inspect_content_read(c->bundle, e, PATCH_MAX_FILE,
					    &s->data, &s->len);
	/* A hardlink names the path of the first link to the same file. */
	path = strndup((const char *)e->text, e->text_len);
	if (!path) {
		inspect_set_error("cannot diff: out of memory");
		return -1;
	}
	rc = inspect_node_find(c->bundle, root, path, &node);
	free(path);
	if (rc < 0)
		return -1;
	rc = node.is_root || node.entry.kind != BUNDLE_ENTRY_FILE ?
		     (inspect_set_error("cannot diff: a hardlink to something "
					"that is not a file"), -1) :
		     inspect_content_read(c->bundle, &node.entry,
					  PATCH_MAX_FILE, &s->data, &s->len);
	inspect_node_release(&node);
	return rc;
}

static int is_binary(const struct side *s)
{
	size_t n = s->len < PATCH_BINARY_PROBE ? s->len : PATCH_BINARY_PROBE;

	return s->data && memchr(s->data, '\0', n) != NULL;
}

static int write_temp(const struct side *s, char *path, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	size_t at = 0;
	int fd;

	snprintf(path, cap, "%s/runbundle-patch.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		inspect_set_error("cannot diff: '%s': %s", path,
				  strerror(errno));
		return -1;
	}
	while (at < s->len) {
		ssize_t n = write(fd, s->data + at, s->len - at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			inspect_set_error("cannot diff: '%s': %s", path,
					  strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		at += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Copy diff's output past its own "---" and "+++" lines, counting the
 * added and removed lines of the hunks. */
static int copy_hunks(struct patch_ctx *c, int fd)
{
	FILE *in = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;

	if (!in) {
		close(fd);
		inspect_set_error("cannot diff: %s", strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (++lineno <= 2)
			continue;
		if (line[0] == '+')
			c->lines_added++;
		else if (line[0] == '-')
			c->lines_removed++;
		if (c->opts->out && c->opts->put_line)
			c->opts->put_line(line, (size_t)n, c->opts->out);
		else if (c->opts->out)
			fwrite(line, 1, (size_t)n, c->opts->out);
	}
	free(line);
	fclose(in);
	return 0;
}

static int spawn_diff(struct patch_ctx *c, const char *old_file,
		      const char *new_file)
{
	char *argv[] = { "diff", "-u", "--label", "a", "--label", "b",
			 (char *)old_file, (char *)new_file, NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, rc;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		inspect_set_error("cannot run diff: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, "diff", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		inspect_set_error("cannot run diff: 'diff': %s", strerror(rc));
		inspect_set_hint("install diffutils");
		return -1;
	}
	rc = copy_hunks(c, pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) > 1)) {
		inspect_set_error("cannot run diff: 'diff': it failed");
		rc = -1;
	}
	return rc;
}

static void put_hunk_line(struct patch_ctx *c, const char *line, size_t len)
{
	if (c->opts->out && c->opts->put_line)
		c->opts->put_line(line, len, c->opts->out);
	else if (c->opts->out)
		fwrite(line, 1, len, c->opts->out);
}

/* Write the hunk of a file added or deleted whole, as diff -u prints it
 * against /dev/null. A diff process per file costs milliseconds, so a
 * run that added tens of thousands of files took minutes to report. */
static int whole_hunk(struct patch_ctx *c, const struct side *s, char sign)
{
	static const char no_newline[] = "\\ No newline at end of file\n";
	const char *at = (const char *)s->data, *end = at + s->len;
	uint64_t lines = 0;
	char head[64], range[32];
	char *line = NULL;
	size_t line_cap = 0;

	for (const char *q = at; q < end; q++)
		lines += *q == '\n';
	if (s->len && end[-1] != '\n')
		lines++;
	if (sign == '+')
		c->lines_added += lines;
	else
		c->lines_removed += lines;
	if (!c->opts->out)
		return 0;

	if (lines == 1)
		snprintf(range, sizeof(range), "1");
	else
		snprintf(range, sizeof(range), "1,%llu",
			 (unsigned long long)lines);
	if (sign == '+')
		snprintf(head, sizeof(head), "@@ -0,0 +%s @@\n", range);
	else
		snprintf(head, sizeof(head), "@@ -%s +0,0 @@\n", range);
	put_hunk_line(c, head, strlen(head));

	while (at < end) {
		const char *newline = memchr(at, '\n', (size_t)(end - at));
		size_t len = newline ? (size_t)(newline - at) :
				       (size_t)(end - at);

		if (len + 2 > line_cap) {
			char *grown = realloc(line, len + 2);

			if (!grown) {
				free(line);
				inspect_set_error("cannot diff: out of memory");
				return -1;
			}
			line = grown;
			line_cap = len + 2;
		}
		line[0] = sign;
		memcpy(line + 1, at, len);
		line[len + 1] = '\n';
		put_hunk_line(c, line, len + 2);
		if (!newline) {
			put_hunk_line(c, no_newline, sizeof(no_newline) - 1);
			break;
		}
		at = newline + 1;
	}
	free(line);
	return 0;
}

static int hunks(struct patch_ctx *c, const struct side *old,
		 const struct side *new)
{
	char old_file[4096], new_file[4096];
	int rc = -1;

	if (!old || !new)
		return whole_hunk(c, old ? old : new, old ? '-' : '+');
	if (write_temp(old, old_file, sizeof(old_file)) < 0)
		return -1;
	if (write_temp(new, new_file, sizeof(new_file)) < 0)
		goto out;
	rc = spawn_diff(c, old_file, new_file);
	unlink(new_file);
out:
	unlink(old_file);
	return rc;
}

static void file_lines(FILE *out, const char *path, const struct side *old,
		       const struct side *new)
{
	fputs("--- ", out);
	if (old)
		put_quoted(out, "a/", path, 1);
	else
		fputs("/dev/null", out);
	fputs("\n+++ ", out);
	if (new)
		put_quoted(out, "b/", path, 1);
	else
		fputs("/dev/null", out);
	fputc('\n', out);
}

static void header(FILE *out, const char *path, const struct side *old,
		   const struct side *new)
{
	fputs("diff --git ", out);
	put_quoted(out, "a/", path, 0);
	fputc(' ', out);
	put_quoted(out, "b/", path, 0);
	fputc('\n', out);
	if (!old)
		fprintf(out, "new file mode %s\n", new->mode);
	else if (!new)
		fprintf(out, "deleted file mode %s\n", old->mode);
	else if (strcmp(old->mode, new->mode) != 0)
		fprintf(out, "old mode %s\nnew mode %s\n", old->mode,
			new->mode);
}

/* A binary file is only noted: without git's "index" line of blob ids
 * neither tool can apply it, and git apply refuses a whole patch with
 * one such entry inside. Outside a "diff --git" header both tools skip
 * the line as text between patches. */
static void note_binary(struct patch_ctx *c, const char *path,
			const struct side *old, const struct side *new)
{
	char *a = old ? label("a/", path) : strdup("/dev/null");
	char *b = new ? label("b/", path) : strdup("/dev/null");

	c->binary = 1;
	if (c->opts->out)
		fprintf(c->opts->out, "Binary files %s and %s differ\n",
			a ? a : "?", b ? b : "?");
	free(a);
	free(b);
}

static int emit(struct patch_ctx *c, const char *path, const struct side *old,
		const struct side *new)
{
	FILE *out = c->opts->out;
	const struct side *some = old ? old : new;
	int same_bytes = old && new && old->len == new->len &&
			 memcmp(old->data, new->data, old->len) == 0;

	/* A change of permission bits that git's modes do not show (0644
	 * to 0600) has no line in the diff, because git apply and patch(1)
	 * reject a diff that is a header alone. */
	if (same_bytes && strcmp(old->mode, new->mode) == 0)
		return 0;
	if ((old && is_binary(old)) || (new && is_binary(new))) {
		note_binary(c, path, old, new);
		return 0;
	}
	if (out)
		header(out, path, old, new);
	if (same_bytes)
		return 0;
	if (!(old && new) && some->len == 0)
		return 0;
	if (out)
		file_lines(out, path, old, new);
	return hunks(c, old, new);
}

static int too_large(const struct bundle_tree_entry *e)
{
	return e && e->kind == BUNDLE_ENTRY_FILE && e->size > PATCH_MAX_FILE;
}

/* The leading bytes of a file, where is_binary() looks for a NUL. */
struct probe {
	unsigned char data[PATCH_BINARY_PROBE];
	size_t len;
};

static int probe_bytes(const void *data, size_t len, void *arg)
{
	struct probe *p = arg;
	size_t n = sizeof(p->data) - p->len;

	if (n > len)
		n = len;
	memcpy(p->data + p->len, data, n);
	p->len += n;
	return p->len == sizeof(p->data);
}

static int probe_binary(struct patch_ctx *c,
			const struct bundle_tree_entry *e)
{
	struct probe p = { .len = 0 };

	if (inspect_content_stream(c->bundle, e, probe_bytes, &p) < 0)
		return -1;
	return memchr(p.data, '\0', p.len) != NULL;
}

/* Note a binary regular file from its leading bytes, so that its whole
 * content, up to PATCH_MAX_FILE on each side, is never loaded only to
 * be skipped. A change that may keep the bytes and the git mode is left
 * to emit(), which prints nothing for it. Hardlinks are left too,
 * because their content is found by path. Returns 1 when noted, 0 when
 * not and -1 on error. */
static int note_if_binary(struct patch_ctx *c, const char *path,
			  const struct bundle_tree_entry *old,
			  const struct bundle_tree_entry *new)
{
	struct side stub = { .mode = "100644" };
	int binary = 0;

	if ((old && old->kind != BUNDLE_ENTRY_FILE) ||
	    (new && new->kind != BUNDLE_ENTRY_FILE))
		return 0;
	if (old && new && old->size == new->size &&
	    strcmp(git_mode(old), git_mode(new)) == 0)
		return 0;
	if (old)
		binary = probe_binary(c, old);
	if (new && binary == 0)
		binary = probe_binary(c, new);
	if (binary <= 0)
		return binary;
	note_binary(c, path, old ? &stub : NULL, new ? &stub : NULL);
	return 1;
}

static int change(struct patch_ctx *c, const char *path,
		  const struct bundle_tree_entry *old,
		  const struct bundle_tree_entry *new)
{
	struct side o = { 0 }, n = { 0 };
	int rc = -1;

	/* Noted like a binary file, so that the rest of the diff applies. */
	if (too_large(old) || too_large(new)) {
		struct side stub = { .mode = "100644" };

		note_binary(c, path, old ? &stub : NULL, new ? &stub : NULL);
		return 0;
	}

	rc = note_if_binary(c, path, old, new);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = -1;
	if (old && load_side(c, c->old_root, old, &o) < 0)
		goto out;
	if (new && load_side(c, c->new_root, new, &n) < 0)
		goto out;
	/* A symlink that changes is deleted and added again, with its mode
	 * on both: patch(1) refuses to patch a symlink in place. */
	if (old && new && (old->kind == BUNDLE_ENTRY_SYMLINK ||
			   new->kind == BUNDLE_ENTRY_SYMLINK) &&
	    (old->kind != new->kind || o.len != n.len ||
	     memcmp(o.data, n.data, o.len) != 0)) {
		rc = emit(c, path, &o, NULL);
		if (rc == 0)
			rc = emit(c, path, NULL, &n);
		goto out;
	}
	rc = emit(c, path, old ? &o : NULL, new ? &n : NULL);
out:
	free(o.data);
	free(n.data);
	return rc;
}

static void count(struct patch_ctx *c, enum bundle_change kind)
{
	struct inspect_patch_stats *s = c->stats;

	switch (kind) {
	case BUNDLE_CHANGE_ADDED: s->added++; break;
	case BUNDLE_CHANGE_DELETED: s->deleted++; break;
	case BUNDLE_CHANGE_MODIFIED: s->modified++; break;
	case BUNDLE_CHANGE_MODE: s->mode++; break;
	}
	s->binary += c->binary ? 1 : 0;
	s->lines_added += c->lines_added;
	s->lines_removed += c->lines_removed;
}

static int on_change(const unsigned char *raw, size_t len,
		     enum bundle_change kind,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new, void *arg)
{
	struct patch_ctx *c = arg;
	char *path = strndup((const char *)raw, len);
	int rc = 0;

	if (!path) {
		inspect_set_error("cannot diff: out of memory");
		return -1;
	}
	if (!in_paths(c->opts, path))
		goto out;
	if (!is_diffable(old))
		old = NULL;
	if (!is_diffable(new))
		new = NULL;
	if (!old && !new) {
		c->stats->skipped++;
		goto out;
	}
	c->lines_added = c->lines_removed = 0;
	c->binary = 0;
	rc = change(c, path, old, new);
	if (rc == 0) {
		count(c, kind);
		if (c->opts->on_file)
			c->opts->on_file(path, kind, c->binary,
					 c->lines_added, c->lines_removed,
					 c->opts->arg);
	}
out:
	free(path);
	if (rc < 0)
		c->failed = 1;
	return rc;
}

int inspect_patch(struct bundle *bundle, const struct bundle_id *old_root,
		  const struct bundle_id *new_root,
		  const struct inspect_patch_options *options,
		  struct inspect_patch_stats *stats)
{
	struct patch_ctx c = { .bundle = bundle, .old_root = old_root,
			       .new_root = new_root, .opts = options,
			       .stats = stats };
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = bundle_snapshot_diff(bundle, old_root, new_root, on_change, &c);
	if (rc < 0 && !c.failed)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	return rc < 0 ? -1 : 0;
}
