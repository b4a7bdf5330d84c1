/*
 * cmd_show.c - "runbundle show": one event in full, with what it
 * references: JSON documents pretty-printed, exchanges with their
 * bodies decoded and the model's answer reassembled, output as text.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/decode.h"
#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/json_bytes.h"
#include "inspect/answer.h"
#include "inspect/commands.h"
#include "inspect/describe.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

/* Print NUL-free text from the bundle, keeping newlines and tabs. The
 * rest goes through cli_sanitize(), because the bundle is untrusted and
 * a control character or a bidirectional override would drive the
 * terminal. Each line is copied on its own, so that a body of hundreds
 * of MB is not copied whole twice. */
static void put_text(const unsigned char *p, size_t len)
{
	const char *at = (const char *)p, *end = at + len;
	char *line = NULL, *clean = NULL;
	size_t size = 0;

	for (;;) {
		size_t n = 0;
		char separator;

		while (at + n < end && at[n] != '\n' && at[n] != '\t' &&
		       at[n] != '\0')
			n++;
		if (n + 1 > size) {
			free(line);
			free(clean);
			size = n + 1;
			line = malloc(size);
			clean = malloc(size);
			if (!line || !clean) {
				printf("(%zu bytes of text: out of memory)\n",
				       len);
				break;
			}
		}
		memcpy(line, at, n);
		line[n] = '\0';
		cli_sanitize(clean, n + 1, line);
		fputs(clean, stdout);
		separator = at + n < end ? at[n] : '\0';
		if (!separator)
			break;
		putchar(separator);
		at += n + 1;
	}
	if (len && p[len - 1] != '\n')
		putchar('\n');
	free(line);
	free(clean);
}

static int is_text(const unsigned char *p, size_t len)
{
	return memchr(p, '\0', len) == NULL;
}

/* A body as JSON, a string or a note, for --json. */
static cJSON *body_json(const unsigned char *p, size_t len)
{
	cJSON *json = cJSON_ParseWithLength((const char *)p, len);
	char note[64];

	if (json)
		return json;
	if (is_text(p, len))
		return cJSON_CreateString((const char *)p);
	snprintf(note, sizeof(note), "(%zu bytes of binary data)", len);
	return cJSON_CreateString(note);
}

static void print_body(const unsigned char *p, size_t len)
{
	cJSON *json = cJSON_ParseWithLength((const char *)p, len);
	char *text = json ? out_json_text(json) : NULL;

	cJSON_Delete(json);
	if (text)
		put_text((const unsigned char *)text, strlen(text));
	else if (is_text(p, len))
		put_text(p, len);
	else
		printf("(%zu bytes of binary data)\n", len);
	free(text);
}

/* Decode a body for display; *out is a NUL-terminated copy. */
static int decoded(const struct harness_headers *h, const unsigned char *p,
		   size_t len, unsigned char **out, size_t *out_len)
{
	const char *enc = harness_headers_get(h, "Content-Encoding");
	int rc = harness_decode_body(enc, p, len, out, out_len);
	unsigned char *copy;

	if (rc < 0)
		return inspect_take_error(harness_error(),
					  harness_error_hint());
	if (rc == 0) {
		copy = realloc(*out, *out_len + 1);
		if (!copy) {
			free(*out);
			return inspect_take_error("cannot decode: out of "
						  "memory", NULL);
		}
		copy[*out_len] = '\0';
		*out = copy;
		return 0;
	}
	*out = malloc(len + 1);
	if (!*out)
		return inspect_take_error("cannot decode: out of memory",
					  NULL);
	if (len)
		memcpy(*out, p, len);
	(*out)[len] = '\0';
	*out_len = len;
	return 0;
}

static void print_headers(const struct harness_headers *h)
{
	for (size_t i = 0; i < h->count; i++)
		out_fieldf("  ", 2, "%s: %s", h->items[i].name,
			   h->items[i].value);
}

/* Join the chunks into *out, NUL-terminated, freeing each as it is
 * copied so that a long body is not held twice. The chunks are left
 * empty. */
static int take_body(struct harness_response *r, unsigned char **out,
		     size_t *len)
{
	size_t at = 0;

	*len = harness_response_body_len(r);
	*out = malloc(*len + 1);
	if (!*out)
		return inspect_take_error("cannot read body: out of memory",
					  NULL);
	for (size_t i = 0; i < r->n_chunks; i++) {
		if (r->chunks[i].len)
			memcpy(*out + at, r->chunks[i].data, r->chunks[i].len);
		at += r->chunks[i].len;
		free(r->chunks[i].data);
		r->chunks[i].data = NULL;
		r->chunks[i].len = 0;
	}
	(*out)[at] = '\0';
	return 0;
}

struct bodies {
	unsigned char *req, *resp;
	size_t req_len, resp_len;
};

/* Load the bodies for display. Joining the response's chunks frees
 * them, so the caller parses the model's reply from them first. */
static int load_bodies(struct harness_exchange *ex, struct bodies *b)
{
	unsigned char *raw;
	size_t len;
	int rc;

	memset(b, 0, sizeof(*b));
	if (decoded(&ex->request.headers, ex->request.body,
		    ex->request.body_len, &b->req, &b->req_len) < 0)
		return -1;
	if (take_body(&ex->response, &raw, &len) < 0)
		return -1;
	if (!harness_headers_get(&ex->response.headers, "Content-Encoding")) {
		b->resp = raw;
		b->resp_len = len;
		return 0;
	}
	rc = decoded(&ex->response.headers, raw, len, &b->resp, &b->resp_len);
	free(raw);
	return rc;
}

/* A token count, or "-" when the response gave none (-1). */
static void format_tokens(char *buf, size_t len, long long count)
{
	if (count < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", count);
}

static void print_exchange(const struct harness_exchange *ex,
			   const struct bodies *b,
			   const struct inspect_answer *an)
{
	char in[24], out[24];

	out_fieldf("request     ", 12, "%s %s%s%s (upstream %s)",
		   ex->request.method, ex->request.path,
		   ex->request.query ? "?" : "",
		   ex->request.query ? ex->request.query : "", ex->upstream);
	print_headers(&ex->request.headers);
	print_body(b->req, b->req_len);
	out_fieldf("response    ", 12, "%d, %s, %zu chunks, %llu us",
		   ex->response.status, harness_outcome_name(ex->outcome),
		   ex->response.n_chunks, (unsigned long long)ex->duration_us);
	if (ex->failure)
		out_field("failure     ", 12, ex->failure);
	print_headers(&ex->response.headers);
	print_body(b->resp, b->resp_len);
	format_tokens(in, sizeof(in), an->input_tokens);
	format_tokens(out, sizeof(out), an->output_tokens);
	out_fieldf("answer      ", 12, "%s%s, model %s, tokens in %s out %s",
		   an->api, an->streamed ? " (streamed)" : "",
		   an->model ? an->model : "-", in, out);
	if (an->text[0]) {
		printf("text\n");
		put_text((const unsigned char *)an->text, strlen(an->text));
	}
	for (size_t i = 0; i < an->n_calls; i++)
		out_fieldf("tool call   ", 12, "%s %s", an->calls[i].name,
			   an->calls[i].arguments);
}

static cJSON *exchange_json(const struct harness_exchange *ex,
			    const struct bodies *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *req = cJSON_AddObjectToObject(o, "request");
	cJSON *resp = cJSON_AddObjectToObject(o, "response");

	cJSON_AddStringToObject(req, "method", ex->request.method);
	cJSON_AddItemToObject(req, "path", harness_json_text(ex->request.path));
	cJSON_AddItemToObject(req, "headers",
			      harness_headers_json(&ex->request.headers));
	cJSON_AddItemToObject(req, "body", body_json(b->req, b->req_len));
	out_add_num(resp, "status", ex->response.status);
	cJSON_AddStringToObject(resp, "outcome",
				harness_outcome_name(ex->outcome));
	cJSON_AddItemToObject(resp, "headers",
			      harness_headers_json(&ex->response.headers));
	out_add_num(resp, "chunks", ex->response.n_chunks);
	cJSON_AddItemToObject(resp, "body", body_json(b->resp, b->resp_len));
	return o;
}

static int show_exchange(const struct inspect_view *v,
			 const struct inspect_event *ev, cJSON *json)
{
	struct harness_exchange ex;
	struct inspect_answer an;
	struct bodies b;
	int rc = -1;

	if (inspect_view_exchange(v, ev, &ex) < 0)
		return -1;
	memset(&b, 0, sizeof(b));
	if (inspect_answer_parse(&ex, &an) < 0)
		goto out;
	if (load_bodies(&ex, &b) < 0) {
		inspect_answer_release(&an);
		goto out;
	}
	if (json) {
		cJSON *o = exchange_json(&ex, &b);

		cJSON_AddStringToObject(o, "answer_text", an.text);
		cJSON_AddItemToObject(json, "exchange", o);
	} else {
		print_exchange(&ex, &b, &an);
	}
	inspect_answer_release(&an);
	rc = 0;
out:
	free(b.req);
	free(b.resp);
	harness_exchange_release(&ex);
	return rc;
}

static int show_refs(const struct inspect_view *v,
		     const struct inspect_event *ev, cJSON *json)
{
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(ev->json, "refs"));
	cJSON *objects = json ? cJSON_AddArrayToObject(json, "objects") : NULL;

	for (int i = 0; i < n; i++) {
		const char *id = cJSON_GetArrayItem(
			cJSON_GetObjectItem(ev->json, "refs"), i)->valuestring;
		void *data;
		size_t len;

		if (strcmp(ev->kind, "snapshot") == 0) {
			if (!json)
				printf("object %s: the root tree; 'runbundle "
				       "ls' lists it\n", id ? id : "?");
			continue;
		}
		if (inspect_view_ref(v, ev, (size_t)i, &data, &len) < 0)
			return -1;
		if (json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "id", id);
			out_add_num(o, "size", len);
			cJSON_AddItemToObject(o, "content",
					      body_json(data, len));
			cJSON_AddItemToArray(objects, o);
		} else {
			printf("object %s, %zu bytes\n", id, len);
			print_body(data, len);
		}
		free(data);
	}
	return 0;
}

/* The one-line summary of a violation, red on a terminal, above its
 * event. */
static void print_violation(const struct inspect_event *ev)
{
	struct out_style st;
	char *text = inspect_violation_text(ev->data);

	out_style_init(&st);
	printf("%s", st.red);
	out_fieldf("", 0, "violation: %s", text ? text : "?");
	printf("%s", st.reset);
	free(text);
}

static int run(const char *path, const char *name, int json, int checks)
{
	struct inspect_view v;
	const struct inspect_event *ev;
	cJSON *out = json ? cJSON_CreateObject() : NULL;
	char *end;
	unsigned long long seq;
	int is_number = name[0] >= '0' && name[0] <= '9';
	int rc = out_open(&v, path);

	if (rc) {
		cJSON_Delete(out);
		return rc;
	}
	/* strtoull() accepts a sign and leading spaces, and returns
	 * ULLONG_MAX for a number that does not fit, so the error names
	 * the argument itself. */
	errno = 0;
	seq = is_number ? strtoull(name, &end, 10) : 0;
	if (!is_number || *end) {
		ev = NULL;
		inspect_set_error("no such event: '%s': not a number", name);
	} else if (errno == ERANGE) {
		ev = NULL;
		inspect_set_error("no such event: '%s': the bundle has events "
				  "1 to %zu", name, v.n_events);
		inspect_set_hint("'runbundle log' lists the events");
	} else {
		ev = inspect_view_event(&v, seq);
	}
	if (!ev)
		goto fail;
	if (json)
		cJSON_AddItemToObject(out, "event",
				      cJSON_Duplicate(ev->json, 1));
	else {
		char *text = out_json_text(ev->json);

		if (strcmp(ev->kind, "violation") == 0)
			print_violation(ev);

		if (text)
			put_text((unsigned char *)text, strlen(text));
		free(text);
	}
	if (strcmp(ev->kind, "exchange") == 0 ? show_exchange(&v, ev, out) :
						show_refs(&v, ev, out))
		goto fail;
	rc = json ? out_json(out) : CLI_EXIT_OK;
	if (rc == CLI_EXIT_OK)
		rc = inspect_integrity_warn(&v, path, checks);
	inspect_view_close(&v);
	return rc;
fail:
	cJSON_Delete(out);
	inspect_view_close(&v);
	return out_fail();
}

int cmd_show(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		INSPECT_CHECK_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const required[] = { "BUNDLE", "EVENT", NULL };
	int c, json = 0, checks = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (!inspect_check_option(c, &checks))
			return cli_option_error(self, c, argv);
	}
	if (cli_operands(self, argc, argv, optind, required, 2,
			 "BUNDLE EVENT"))
		return CLI_EXIT_USAGE;
	return run(argv[optind], argv[optind + 1], json, checks);
}
