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
	out[10] = '\0';
}

static cJSON *entry_json(const char *path, const struct bundle_tree_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char mode[8], name[1024];

	bundle_name_escape(name, sizeof(name), (const unsigned char *)path,
			   strlen(path));
	snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
	cJSON_AddStringToObject(o, "path", name);
	cJSON_AddStringToObject(o, "kind", inspect_kind_name(e->kind));
	cJSON_AddStringToObject(o, "mode", mode);
	out_add_num(o, "size", e->size);
	if (e->text_len) {
		char text[1024];

		bundle_name_escape(text, sizeof(text), e->text, e->text_len);
		cJSON_AddStringToObject(o, "target", text);
	}
	return o;
}

static void print_entry(const char *path, const struct bundle_tree_entry *e)
{
	char mode[11], name[1024], text[1024] = "", line[2200];

	mode_string(mode, e);
	bundle_name_escape(name, sizeof(name), (const unsigned char *)path,
			   strlen(path));
	if (e->text_len)
		bundle_name_escape(text, sizeof(text), e->text, e->text_len);
	snprintf(line, sizeof(line), "%s %12llu  %s%s%s%s", mode,
		 (unsigned long long)e->size, name,
		 e->kind == BUNDLE_ENTRY_DIR ? "/" : "",
		 e->kind == BUNDLE_ENTRY_SYMLINK ? " -> " :
		 e->kind == BUNDLE_ENTRY_HARDLINK ? " => " :
		 e->kind == BUNDLE_ENTRY_ERROR ? " unreadable: " :
		 e->kind == BUNDLE_ENTRY_CHANGED ? " (kept changing)" : "",
		 text);
	out_field("", 0, line);
}

static int on_entry(const char *path, const struct bundle_tree_entry *e,
		    void *arg)
{
	struct ls_ctx *c = arg;

	if (c->entries)
		cJSON_AddItemToArray(c->entries, entry_json(path, e));
	else
		print_entry(path, e);
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
		char path[4096];

		snprintf(path, sizeof(path), "%s%s%.*s", prefix,
			 *prefix ? "/" : "", (int)t.entries[i].name_len,
			 (const char *)t.entries[i].name);
		rc = on_entry(path, &t.entries[i], c);
	}
	bundle_tree_release(&t);
	free(data);
	return rc;
}

/* Copy path into out without its empty and "." components, so that the
 * listing of "./src/" reads "src/a.c" as that of "src" does. */
static void clean_path(char *out, size_t len, const char *path)
{
	size_t at = 0;

	out[0] = '\0';
	while (*path) {
		size_t n = strcspn(path, "/");

		if (n && !(n == 1 && *path == '.'))
			at += (size_t)snprintf(out + at, len - at, "%s%.*s",
					       at ? "/" : "", (int)n, path);
		if (at >= len)
			break;
		path += n;
		path += *path == '/';
	}
}

static int run(char **words, int n, int json, int recursive, int checks)
{
	struct ls_ctx c = { json ? cJSON_CreateArray() : NULL, recursive };
	struct inspect_node node;
	struct inspect_view v;
	char shown[4096];
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
	clean_path(shown, sizeof(shown), path);
	if (!node.is_root && node.entry.kind != BUNDLE_ENTRY_DIR)
		rc = on_entry(shown, &node.entry, &c);
	else
		rc = list_one(v.bundle, &node.tree, shown, &c);
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
	inspect_view_close(&v);
	return rc;
fail:
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
	if (argc - optind < 1 || argc - optind > 3)
		return cli_usage_error(self, "expected BUNDLE [STEP] [PATH]");
	return run(argv + optind, argc - optind, json, recursive, checks);
}
