/*
 * cmd_cat.c - "runbundle cat": write one file of the workspace at one
 * step to stdout, byte for byte (a symlink's target, for a symlink).
 */
#include <getopt.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

/* The largest file --json puts in memory to encode. */
#define CAT_JSON_MAX ((size_t)256 << 20)

static int write_out(const void *data, size_t len, void *arg)
{
	(void)arg;
	if (fwrite(data, 1, len, stdout) != len) {
		inspect_set_error("cannot write: 'stdout': write failed");
		return -1;
	}
	return 0;
}

static int cat_json(struct bundle *b, const struct bundle_tree_entry *e,
		    const char *path, size_t step)
{
	unsigned char *data, *b64;
	size_t len;
	cJSON *o;

	if (inspect_content_read(b, e, CAT_JSON_MAX, &data, &len) < 0)
		return out_fail();
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64) {
		free(data);
		cli_error("cannot encode: out of memory");
		return CLI_EXIT_ERROR;
	}
	EVP_EncodeBlock(b64, data, (int)len);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", path);
	out_add_num(o, "step", step);
	out_add_num(o, "size", len);
	cJSON_AddStringToObject(o, "base64", (char *)b64);
	free(b64);
	free(data);
	return out_json(o);
}

/* Print why an entry that the snapshot could not read, or that kept
 * changing, has no content in the bundle, with the reason stored. */
static int print_unstored(const struct bundle_tree_entry *e,
			  const char *path)
{
	char reason[512];

	if (e->kind == BUNDLE_ENTRY_CHANGED) {
		cli_error("cannot print: '%s': it kept changing while the "
			  "snapshot read it, so its content was not stored",
			  path);
		cli_hint("print it from another step, or record again while "
			 "nothing else writes it");
		return CLI_EXIT_ERROR;
	}
	snprintf(reason, sizeof(reason), "%.*s",
		 (int)(e->text_len < sizeof(reason) ? e->text_len
						    : sizeof(reason) - 1),
		 e->text ? (const char *)e->text : "");
	cli_error("cannot print: '%s': it could not be read when the "
		  "snapshot was taken (%s), so its content was not stored",
		  path, reason[0] ? reason : "no reason stored");
	cli_hint("make it readable to the user who runs runbundle record, "
		 "and record again");
	return CLI_EXIT_ERROR;
}

static int cat(struct bundle *b, const struct inspect_node *node,
	       const char *path, size_t step, int json)
{
	const struct bundle_tree_entry *e = &node->entry;

	if (!node->is_root && (e->kind == BUNDLE_ENTRY_ERROR ||
			       e->kind == BUNDLE_ENTRY_CHANGED))
		return print_unstored(e, path);
	if (node->is_root || e->kind == BUNDLE_ENTRY_DIR) {
		cli_error("cannot print: '%s': it is a directory", path);
		cli_hint("'runbundle ls' lists a directory");
		return CLI_EXIT_ERROR;
	}
	if (e->kind != BUNDLE_ENTRY_FILE && e->kind != BUNDLE_ENTRY_SYMLINK) {
		cli_error("cannot print: '%s': it is a %s", path,
			  inspect_kind_name(e->kind));
		return CLI_EXIT_ERROR;
	}
	if (e->kind == BUNDLE_ENTRY_SYMLINK) {
		if (fwrite(e->text, 1, e->text_len, stdout) != e->text_len)
			return cli_error_from("cannot write: 'stdout': write "
					      "failed", NULL);
		return CLI_EXIT_OK;
	}
	if (json)
		return cat_json(b, e, path, step);
	if (inspect_content_stream(b, e, write_out, NULL) != 0 ||
	    fflush(stdout) != 0)
		return out_fail();
	return CLI_EXIT_OK;
}

/* A hardlink entry names the path of the first link to the same file,
 * which contains the content. */
static int follow_hardlink(struct bundle *b, const struct bundle_id *root,
			   struct inspect_node *node)
{
	struct inspect_node target;
	char *path;
	int rc;

	if (node->is_root || node->entry.kind != BUNDLE_ENTRY_HARDLINK)
		return 0;
	path = strndup((const char *)node->entry.text, node->entry.text_len);
	if (!path) {
		inspect_set_error("cannot print: out of memory");
		return -1;
	}
	rc = inspect_node_find(b, root, path, &target);
	free(path);
	if (rc < 0)
		return -1;
	inspect_node_release(node);
	*node = target;
	return 0;
}

static int run(char **words, int n, int json, int checks)
{
	struct inspect_node node;
	struct inspect_view v;
	const char *path;
	size_t step;
	int rc = out_open(&v, words[0]);

	if (rc)
		return rc;
	if (out_step_path(&v, words + 1, n - 1, &step, &path) < 0 ||
	    inspect_node_find(v.bundle, &v.steps[step].root, path, &node) < 0) {
		inspect_view_close(&v);
		return out_fail();
	}
	if (follow_hardlink(v.bundle, &v.steps[step].root, &node) < 0) {
		inspect_view_close(&v);
		return out_fail();
	}
	rc = cat(v.bundle, &node, path, step, json);
	inspect_node_release(&node);
	if (rc == CLI_EXIT_OK)
		rc = inspect_integrity_warn(&v, words[0], checks);
	inspect_view_close(&v);
	return rc;
}

int cmd_cat(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		INSPECT_CHECK_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const required[] = { "BUNDLE", "PATH", NULL };
	int c, json = 0, checks = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (!inspect_check_option(c, &checks))
			return cli_option_error(self, c, argv);
	}
	if (cli_operands(self, argc, argv, optind, required, 3,
			 "BUNDLE [STEP] PATH"))
		return CLI_EXIT_USAGE;
	if (argc - optind == 2) {
		char *words[3] = { argv[optind], (char *)"final",
				   argv[optind + 1] };

		return run(words, 3, json, checks);
	}
	return run(argv + optind, argc - optind, json, checks);
}
