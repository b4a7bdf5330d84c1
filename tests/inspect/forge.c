/*
 * forge.c - a test-only writer of bundles with chosen events, so that
 * the gate, apply and report tests can put any event into a bundle,
 * hostile ones included, without running an agent.
 *
 *	forge BUNDLE SPEC
 *
 * SPEC contains one JSON object a line, applied in order:
 *
 *	{"snapshot": DIR, "at": AT, "exchange": N}
 *		snapshot DIR, then a "workspace" event as record writes it
 *	{"kind": K, "data": D}
 *		append an event; "object" adds a JSON object it references,
 *		and "exchange" {"path", "request", "response", "status"}
 *		adds an exchange built from these bodies
 *	{"finalize": true}
 *
 * BUNDLE must not exist. Exits 0, or 1 with the library's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "bundle/snapshot.h"
#include "harness/exchange.h"
#include "harness/exchange_json.h"

static int failed(const char *what)
{
	fprintf(stderr, "forge: %s: %s\n", what, bundle_error());
	return -1;
}

static const char *str(const cJSON *obj, const char *name, const char *def)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : def;
}

static int put_json(struct bundle *bundle, const char *text,
		    struct bundle_id *id)
{
	if (bundle_put(bundle, BUNDLE_JSON, text, strlen(text), id) < 0)
		return failed("put");
	return 0;
}

static char *exchange_text(const cJSON *spec, double seq)
{
	struct harness_exchange ex = {0};
	const char *req = str(spec, "request", "{}");
	const char *resp = str(spec, "response", "{}");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(spec, "status");
	char *text;

	ex.seq = (uint64_t)seq;
	ex.upstream = strdup("script");
	ex.started_unix_us = 1700000000000000;
	ex.duration_us = 1500;
	ex.request.method = strdup("POST");
	ex.request.path = strdup(str(spec, "path", "/v1/chat/completions"));
	ex.request.body = (unsigned char *)strdup(req);
	ex.request.body_len = strlen(req);
	harness_headers_add(&ex.request.headers, "Content-Type",
			    "application/json");
	ex.response.status = cJSON_IsNumber(status) ? status->valueint : 200;
	harness_headers_add(&ex.response.headers, "Content-Type",
			    "application/json");
	harness_response_add_chunk(&ex.response, resp, strlen(resp), 900);
	text = harness_exchange_to_json(&ex);
	harness_exchange_release(&ex);
	return text;
}

static double data_seq(const cJSON *data)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(data, "seq");

	return cJSON_IsNumber(seq) ? seq->valuedouble : 1;
}

static int add_event(struct bundle *bundle, const cJSON *line)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(line, "data");
	const cJSON *object = cJSON_GetObjectItemCaseSensitive(line, "object");
	const cJSON *exchange = cJSON_GetObjectItemCaseSensitive(line,
								 "exchange");
	struct bundle_id ref;
	size_t n_refs = 0;
	char *text = NULL;
	int rc = -1;

	if (bundle_begin(bundle) < 0)
		return failed("begin");
	if (object)
		text = cJSON_PrintUnformatted(object);
	else if (exchange)
		text = exchange_text(exchange, data_seq(data));
	if (text) {
		if (put_json(bundle, text, &ref) < 0)
			goto out;
		n_refs = 1;
	}
	if (bundle_append_event(bundle, str(line, "kind", "note"), data,
				&ref, n_refs, NULL) < 0 ||
	    bundle_commit(bundle) < 0) {
		failed("append");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		bundle_rollback(bundle);
	free(text);
	return rc;
}

static int add_snapshot(struct bundle *bundle, const cJSON *line)
{
	const cJSON *exchange = cJSON_GetObjectItemCaseSensitive(line,
								 "exchange");
	struct bundle_snapshot snap;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	cJSON *data;
	int rc;

	if (bundle_snapshot_take(bundle, str(line, "snapshot", "."), NULL,
				 &snap) < 0)
		return failed("snapshot");
	bundle_id_to_hex(&snap.root, hex);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "at", str(line, "at", "initial"));
	cJSON_AddNumberToObject(data, "snapshot", (double)snap.seq);
	cJSON_AddStringToObject(data, "root", hex);
	cJSON_AddBoolToObject(data, "complete", snap.complete);
	if (cJSON_IsNumber(exchange))
		cJSON_AddNumberToObject(data, "exchange",
					exchange->valuedouble);
	rc = bundle_append_event(bundle, "workspace", data, NULL, 0, NULL);
	cJSON_Delete(data);
	return rc < 0 ? failed("workspace") : 0;
}

static int apply_line(struct bundle *bundle, const char *text)
{
	cJSON *line = cJSON_Parse(text);
	int rc;

	if (!cJSON_IsObject(line)) {
		fprintf(stderr, "forge: not a JSON object: %s\n", text);
		cJSON_Delete(line);
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(line, "snapshot"))
		rc = add_snapshot(bundle, line);
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line,
								"finalize")))
		rc = bundle_finalize(bundle, NULL) < 0 ? failed("finalize") : 0;
	else
		rc = add_event(bundle, line);
	cJSON_Delete(line);
	return rc;
}

int main(int argc, char **argv)
{
	struct bundle *bundle;
	char *line = NULL;
	size_t alloc = 0;
	FILE *spec;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: forge BUNDLE SPEC\n");
		return 2;
	}
	spec = fopen(argv[2], "r");
	if (!spec) {
		perror(argv[2]);
		return 1;
	}
	bundle = bundle_create(argv[1], NULL);
	if (!bundle) {
		failed(argv[1]);
		fclose(spec);
		return 1;
	}
	while (rc == 0 && getline(&line, &alloc, spec) > 0) {
		if (line[0] != '\n')
			rc = apply_line(bundle, line);
	}
	free(line);
	fclose(spec);
	bundle_close(bundle);
	return rc < 0 ? 1 : 0;
}
