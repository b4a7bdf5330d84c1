/*
 * cmd_report.c - "runbundle report": write one self-contained HTML file
 * about a run for auditors.
 *
 * The page contains the data (report_data.h) as JSON in a
 * <script type="application/json"> element and a small inline script
 * that renders it (report_page.c). Escaping, because the bundle is
 * untrusted:
 *  - in the JSON, '<', '>' and '&' are written as \u003c, \u003e and
 *    \u0026, and U+2028 and U+2029 as escapes too, so no bundle string
 *    can close the element or start a comment; JSON has these bytes only
 *    inside strings, so the escapes keep the same value;
 *  - the few strings written into the HTML itself (the title and the
 *    header) are HTML-escaped;
 *  - a Content-Security-Policy allows only the page's own inline style
 *    and the one script whose SHA-256 it names, and no fetch at all.
 *
 * The file is written to a temporary name beside the output, synced and
 * renamed with RENAME_NOREPLACE, so a failed report never leaves half a
 * page. The rename fails when the name exists, so no report replaces a
 * file, the bundle itself included, even one created meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/options.h"
#include "inspect/output.h"
#include "inspect/report_data.h"
#include "inspect/report_page.h"
#include "inspect/summary.h"
#include "inspect/view.h"

static void put_html(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* JSON text safe inside a <script> element (see the top of the file). */
static void put_script_json(FILE *out, const char *s)
{
	for (; *s; s++) {
		const unsigned char *u = (const unsigned char *)s;

		if (*s == '<')
			fputs("\\u003c", out);
		else if (*s == '>')
			fputs("\\u003e", out);
		else if (*s == '&')
			fputs("\\u0026", out);
		else if (u[0] == 0xe2 && u[1] == 0x80 &&
			 (u[2] == 0xa8 || u[2] == 0xa9)) {
			fputs(u[2] == 0xa8 ? "\\u2028" : "\\u2029", out);
			s += 2;
		} else {
			fputc(*s, out);
		}
	}
}

/* The CSP source of the inline script: 'sha256-BASE64'. */
static void script_hash(char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(report_js, strlen(report_js), md, &len, EVP_sha256(),
		   NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)len);
}

static const char *summary_str(const cJSON *doc, const char *name)
{
	const char *s = inspect_json_str(cJSON_GetObjectItem(doc, "summary"),
					 name);

	return s ? s : "";
}

static void write_page(FILE *out, const cJSON *doc, const char *json,
		       const char *name)
{
	char hash[64];

	script_hash(hash);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "img-src data:; script-src 'sha256-", out);
	fputs(hash, out);
	fputs("'\">\n<title>runbundle report: ", out);
	put_html(out, name);
	fputs("</title>\n<style>\n", out);
	fputs(report_css, out);
	fputs("</style>\n</head>\n<body>\n<header>\n<h1>runbundle report</h1>"
	      "\n<span class=\"mono\">", out);
	put_html(out, name);
	fputs("</span>\n<span class=\"mono\">root ", out);
	put_html(out, summary_str(doc, "root"));
	fputs("</span>\n<input id=\"search\" type=\"search\" "
	      "placeholder=\"Search steps: commands, files, model text\" "
	      "aria-label=\"Search\">\n<span id=\"matches\"></span>\n"
	      "</header>\n<main id=\"app\">\n<noscript><p>This report "
	      "needs JavaScript to show the run; the data is in the "
	      "page source.</p></noscript>\n</main>\n"
	      "<script type=\"application/json\" id=\"data\">", out);
	put_script_json(out, json);
	fputs("</script>\n<script>", out);
	fputs(report_js, out);
	fputs("</script>\n</body>\n</html>\n", out);
}

/* A report never replaces a file, because -o may name the bundle or the
 * last copy of something else by mistake. */
static void exists_error(const char *path)
{
	cli_error("cannot create the report: '%s': it exists", path);
	cli_hint("remove it or name another file with -o");
}

/* Rename from to to unless to exists. A file system without
 * RENAME_NOREPLACE gets a hard link and an unlink, which fail the same
 * way. */
static int move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

static int write_file(const char *path, const cJSON *doc, const char *json,
		      const char *name)
{
	size_t len = strlen(path) + 32;
	char *tmp = malloc(len);
	FILE *out;
	int fd, rc = -1;

	if (!tmp)
		return -1;
	snprintf(tmp, len, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		cli_error("cannot write the report: '%s': %s", path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	write_page(out, doc, json, name);
	if (fflush(out) != 0 || fsync(fd) < 0 || fchmod(fd, 0644) < 0) {
		cli_error("cannot write the report: '%s': %s", path,
			  strerror(errno));
		fclose(out);
		unlink(tmp);
		goto out;
	}
	fclose(out);
	if (move_noreplace(tmp, path) < 0) {
		if (errno == EEXIST)
			exists_error(path);
		else
			cli_error("cannot write the report: '%s': %s", path,
				  strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

/* The --json result: where the page went, its size, and the document
 * that the page renders. */
static int print_json(const char *output, cJSON *doc)
{
	cJSON *out = cJSON_CreateObject();
	struct stat st;

	cJSON_AddStringToObject(out, "output", output);
	out_add_num(out, "bytes", stat(output, &st) == 0 ? st.st_size : 0);
	out_add_num(out, "steps",
		    cJSON_GetArraySize(cJSON_GetObjectItem(doc, "steps")));
	out_add_num(out, "violations",
		    cJSON_GetArraySize(cJSON_GetObjectItem(doc,
							   "violations")));
	cJSON_AddItemToObject(out, "data", doc);
	return out_json(out);
}

/*
 * Add runbundle verify's result to the page's summary as inspect --json
 * has it, and to the data as "verify", so that an auditor who opens the
 * page finds a damaged bundle marked damaged, whatever its events
 * contain. Returns whether runbundle verify with the same
 * --allow-incomplete would pass, or -1 when the bundle cannot be
 * verified.
 */
static int add_verify(cJSON *doc, const char *bundle,
		      const struct inspect_bundle_state *state, int flags)
{
	cJSON *summary = cJSON_GetObjectItem(doc, "summary");
	int ok = inspect_summary_verify(summary, bundle, state, flags);

	if (ok < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		return -1;
	}
	cJSON_AddItemToObject(doc, "verify", cJSON_Duplicate(
		cJSON_GetObjectItem(summary, "verify"), 1));
	return ok;
}

/* Print on stderr the lines about an unfinalized bundle, as inspect
 * prints them. */
static void warn_incomplete(const struct inspect_bundle_state *state,
			    const char *bundle, int flags)
{
	char hint[512];

	snprintf(hint, sizeof(hint), "pass --allow-incomplete to report the "
		 "events it has; 'runbundle verify %s' checks them", bundle);
	inspect_incomplete_warn(state, bundle, flags, hint);
}

/* Open the bundle and gather the page's data. An unfinalized bundle is
 * reported only with --allow-incomplete, as the other reading commands
 * do, because no root digest covers its last events. Returns the data,
 * or NULL with *rc set after printing the error. */
static cJSON *gather(const char *bundle, struct inspect_bundle_state *state,
		     int flags, int *rc)
{
	struct inspect_view view;
	/* Before the bundle is opened, which may create an empty -wal. */
	int wal_missing = inspect_wal_missing(bundle);
	cJSON *doc;

	*rc = CLI_EXIT_ERROR;
	if (inspect_view_open(&view, bundle) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		return NULL;
	}
	inspect_bundle_state_set(state, &view, wal_missing);
	if (!(flags & INSPECT_CHECK_ALLOW_INCOMPLETE) && !view.finalized) {
		inspect_view_close(&view);
		warn_incomplete(state, bundle, flags);
		*rc = CLI_EXIT_FAIL;
		return NULL;
	}
	doc = inspect_report_data(&view, bundle);
	inspect_view_close(&view);
	if (!doc)
		cli_error_from(inspect_error(), inspect_error_hint());
	return doc;
}

static int run(const char *bundle, const char *output, int json_out,
	       int flags)
{
	struct inspect_bundle_state state;
	const char *name = strrchr(bundle, '/');
	struct stat st;
	char *json;
	cJSON *doc;
	double problems;
	int rc, ok;

	if (lstat(output, &st) == 0) {
		exists_error(output);
		return CLI_EXIT_ERROR;
	}
	doc = gather(bundle, &state, flags, &rc);
	if (!doc)
		return rc;
	ok = add_verify(doc, bundle, &state, flags);
	if (ok < 0) {
		cJSON_Delete(doc);
		return CLI_EXIT_ERROR;
	}
	problems = inspect_json_num(cJSON_GetObjectItem(doc, "verify"),
				    "n_problems", 0);
	json = out_json_utf8(doc) == 0 ? cJSON_PrintUnformatted(doc) : NULL;
	if (!json) {
		cJSON_Delete(doc);
		return cli_error_from("cannot build the report: out of memory",
				      NULL);
	}
	rc = write_file(output, doc, json, name ? name + 1 : bundle);
	free(json);
	if (rc < 0) {
		cJSON_Delete(doc);
		return CLI_EXIT_ERROR;
	}
	fprintf(stderr, "report: %s\n", output);
	if (problems > 0)
		cli_error("the bundle is damaged: '%s': %.0f problem%s, which "
			  "the report lists at the top",
			  bundle, problems, problems == 1 ? "" : "s");
	warn_incomplete(&state, bundle, flags);
	rc = ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (json_out && print_json(output, doc) != CLI_EXIT_OK)
		return CLI_EXIT_ERROR;
	if (!json_out)
		cJSON_Delete(doc);
	return rc;
}

int cmd_report(int argc, char **argv, const struct cli_command *self)
{
	const char *output = NULL;
	int json = 0, allow_incomplete = 0, first, flags;
	const struct inspect_option options[] = {
		{ "output", 'o', &output, NULL },
		{ "json", 0, NULL, &json },
		{ "allow-incomplete", 0, NULL, &allow_incomplete },
		{ NULL, 0, NULL, NULL },
	};

	first = inspect_options_parse(argc, argv, self, options);
	if (first < 0)
		return CLI_EXIT_USAGE;
	if (!output)
		return cli_usage_error(self, "missing -o: give the "
				       "file to write");
	flags = allow_incomplete ? INSPECT_CHECK_ALLOW_INCOMPLETE : 0;
	return run(argv[first], output, json, flags);
}
