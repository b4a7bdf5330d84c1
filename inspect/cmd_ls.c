/*
 * cmd_ls.c - "runbundle ls": list a directory of the workspace at one
 * step, like "ls -l" without owners and times.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

struct ls_ctx {
	cJSON *entries; /* --json, else NULL */
	int recursive;
};

static void mode_string(char out[11], const struct bundle_tree_entry *e)
{
	static const char kinds[] = "?-dlh-pscb";
	uint32_t m = e->mode;

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' :
		 S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
		 S_ISREG(m) ? '-' : kinds[0];
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m >> (8 - i)) & 1 ? "rwxrwxrwx"[i] : '-';
	/* The special bits, as ls(1) shows them, so that a setuid file
	 * in the workspace is visible without --json. */
	if (m & S_ISUID)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

static cJSON *entry_json(const char *path, const struct bundle_tree_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char mode[8], *name = bundle_name_escape_dup((const unsigned char *)
						     path, strlen(path));

	if (!name) {
		cJSON_Delete(o);
		return NULL;
	}
	snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
	cJSON_AddStringToObject(o, "path", name);
	free(name);
	cJSON_AddStringToObject(o, "kind", inspect_kind_name(e->kind));
	cJSON_AddStringToObject(o, "mode", mode);
	out_add_num(o, "size", e->size);
	if (e->text_len) {
		char *text = bundle_name_escape_dup(e->text, e->text_len);

		if (!text) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddStringToObject(o, "target", text);
		free(text);
	}
	return o;
}

static int print_entry(const char *path, const struct bundle_tree_entry *e)
{
	char mode[11], *name, *text, *line;

	mode_string(mode, e);
	name = bundle_name_escape_dup((const unsigned char *)path,
				      strlen(path));
	text = bundle_name_escape_dup(e->text, e->text_len);
	if (!name || !text || asprintf(&line, "%s %12llu  %s%s%s%s", mode,
			      (unsigned long long)e->size, name,
			      e->kind == BUNDLE_ENTRY_DIR ? "/" : "",
			      e->kind == BUNDLE_ENTRY_SYMLINK ? " -> " :
			      e->kind == BUNDLE_ENTRY_HARDLINK ? " => " :
			      e->kind == BUNDLE_ENTRY_ERROR ? " unreadable: " :
			      e->kind == BUNDLE_ENTRY_CHANGED ?
			      " (kept changing)" : "", text) < 0) {
		free(name);
		free(text);
		inspect_set_error("cannot list: out of memory");
		return -1;
	}
	out_field("", 0, line);
	free(line);
	free(name);
	free(text);
	return 0;
}

static int on_entry(const char *path, const struct bundle_tree_entry *e,
		    void *arg)
{
	struct ls_ctx *c = arg;
	cJSON *o;

	if (!c->entries)
		return print_entry(path, e);
	o = entry_json(path, e);
	if (!o) {
		inspect_set_error("cannot list: out of memory");
		return -1;
	}
	cJSON_AddItemToArray(c->entries, o);
	/* Without --recursive, print a directory but do not enter it. */
	return 0;
}

static int list_one(struct bundle *b, const struct bundle_id *tree,
		    const char *prefix, struct ls_ctx *c)
{
	struct bundle_tree t;
	void *data;
	int rc = 0;

	if (c->recursive)
		return inspect_tree_walk(b, tree, prefix, on_entry, c);
	if (inspect_tree_load(b, tree, &t, &data) < 0)
		return -1;
	for (size_t i = 0; i < t.n_entries && rc == 0; i++) {
		char *path;

		if (asprintf(&path, "%s%s%.*s", prefix, *prefix ? "/" : "",
			     (int)t.entries[i].name_len,
			     (const char *)t.entries[i].name) < 0) {
			inspect_set_error("cannot list: out of memory");
			rc = -1;
			break;
		}
		rc = on_entry(path, &t.entries[i], c);
		free(path);
	}
	bundle_tree_release(&t);
	free(data);
	return rc;
}

/* Copy path into out (as long as path) without its empty and "."
 * components, so that the listing of "./src/" reads "src/a.c" as that
 * of "src" does. */
static void clean_path(char *out, const char *path)
{
	size_t at = 0;

	while (*path) {
		size_t n = strcspn(path, "/");

		if (n && !(n == 1 && *path == '.')) {
			if (at)
				out[at++] = '/';
			memcpy(out + at, path, n);
			at += n;
		}
		path += n;
		path += *path == '/';
	}
	out[at] = '\0';
}

static int run(char **words, int n, int json, int recursive, int checks)
{
	struct ls_ctx c = { json ? cJSON_CreateArray() : NULL, recursive };
	struct inspect_node node;
	struct inspect_view v;
	char *clean = NULL;
	const char *path;
	size_t step;
	int rc = out_open(&v, words[0]);

	if (rc) {
		cJSON_Delete(c.entries);
		return rc;
	}
	if (out_step_path(&v, words + 1, n - 1, &step, &path) < 0 ||
	    inspect_node_find(v.bundle, &v.steps[step].root, path, &node) < 0)
		goto fail;
	clean = malloc(strlen(path) + 1);
	if (!clean) {
		inspect_set_error("cannot list: out of memory");
		inspect_node_release(&node);
		goto fail;
	}
	clean_path(clean, path);
	if (!node.is_root && node.entry.kind != BUNDLE_ENTRY_DIR)
		rc = on_entry(clean, &node.entry, &c);
	else
		rc = list_one(v.bundle, &node.tree, clean, &c);
	inspect_node_release(&node);
	if (rc)
		goto fail;
	if (json) {
		cJSON *o = cJSON_CreateObject();

		out_add_num(o, "step", step);
		cJSON_AddItemToObject(o, "entries", c.entries);
		rc = out_json(o);
	}
	if (rc == CLI_EXIT_OK)
		rc = inspect_integrity_warn(&v, words[0], checks);
	free(clean);
	inspect_view_close(&v);
	return rc;
fail:
	free(clean);
	cJSON_Delete(c.entries);
	inspect_view_close(&v);
	return out_fail();
}

int cmd_ls(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "recursive", no_argument, NULL, 'r' },
		INSPECT_CHECK_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const required[] = { "BUNDLE", NULL };
	int c, json = 0, recursive = 0, checks = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r", long_options, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'r')
			recursive = 1;
		else if (!inspect_check_option(c, &checks))
			return cli_option_error(self, c, argv);
	}
	if (cli_operands(self, argc, argv, optind, required, 3,
			 "BUNDLE [STEP] [PATH]"))
		return CLI_EXIT_USAGE;
	return run(argv + optind, argc - optind, json, recursive, checks);
}
