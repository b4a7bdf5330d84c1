/*
 * integrity.c - the quick and the full check of a bundle that a reading
 * command has printed from, and the warning lines it prints for them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/chain.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

static void add_problem(struct inspect_integrity *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_problem(struct inspect_integrity *out, const char *fmt, ...)
{
	va_list ap;

	if (out->n_problems < INSPECT_INTEGRITY_LISTED) {
		va_start(ap, fmt);
		vsnprintf(out->problems[out->n_problems],
			  sizeof(out->problems[0]), fmt, ap);
		va_end(ap);
	}
	out->n_problems++;
}

/* Check event i of the view against its row, links[i], and its prev
 * link against the row before. */
static void check_link(const struct inspect_view *view,
		       const struct inspect_chain_link *links, size_t i,
		       struct inspect_integrity *out)
{
	const struct inspect_event *ev = &view->events[i];
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(ev->json, "prev");
	unsigned long long seq = (unsigned long long)ev->seq;
	struct bundle_id linked;

	if (links[i].seq != ev->seq)
		add_problem(out, "the row of event %llu has seq %llu", seq,
			    (unsigned long long)links[i].seq);
	if (!links[i].hash_matches)
		add_problem(out, "the stored hash of event %llu does not "
			    "match its text", seq);
	if (inspect_json_num(ev->json, "seq", 0) != (double)ev->seq)
		add_problem(out, "the seq in event %llu does not match its "
			    "row", seq);
	if (i == 0) {
		if (link)
			add_problem(out, "event 1 has a prev link, but the "
				    "first event has none");
		return;
	}
	if (!cJSON_IsString(link) ||
	    bundle_id_from_hex(&linked, link->valuestring) < 0 ||
	    memcmp(linked.bytes, links[i - 1].hash.bytes, BUNDLE_ID_LEN) != 0)
		add_problem(out, "the prev link of event %llu is not the hash "
			    "of event %llu, so the chain is broken", seq,
			    seq - 1);
}

/* Check the root digest against head, the hash of the last event. A
 * bundle without events has the SHA-256 of the empty string as its root
 * digest, and head is then NULL. */
static int check_root(const struct inspect_view *view,
		      const struct bundle_id *head,
		      struct inspect_integrity *out)
{
	struct bundle_id empty;

	if (!view->finalized)
		return 0;
	if (!view->has_root) {
		add_problem(out, "the bundle is finalized, but its root digest "
			    "is missing or invalid");
		return 0;
	}
	if (!EVP_Digest("", 0, empty.bytes, NULL, EVP_sha256(), NULL)) {
		inspect_set_error("cannot check root digest: SHA-256 failed");
		return -1;
	}
	if (memcmp(view->root.bytes, head ? head->bytes : empty.bytes,
		   BUNDLE_ID_LEN) != 0)
		add_problem(out, "the root digest is not the hash of the last "
			    "event, so events were changed or removed");
	return 0;
}

static int quick_check(const struct inspect_view *view, const char *path,
		       struct inspect_integrity *out)
{
	struct inspect_chain_link *links;
	size_t n;
	int rc;

	if (inspect_chain_read(path, view->n_events, &links, &n) < 0)
		return -1;
	if (n < view->n_events)
		add_problem(out, "%zu of its %zu events are in the events "
			    "table", n, view->n_events);
	for (size_t i = 0; i < n; i++)
		check_link(view, links, i, out);
	rc = check_root(view, n ? &links[n - 1].hash : NULL, out);
	free(links);
	return rc;
}

/* bundle_verify()'s problems, each with the event and object it
 * names, as runbundle verify prints them. */
static int full_check(const char *path, struct inspect_integrity *out)
{
	struct bundle_verify_report vr;

	if (bundle_verify(path, &vr) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	for (size_t i = 0; i < vr.n_problems; i++) {
		const struct bundle_verify_problem *p = &vr.problems[i];
		char event[32] = "", object[BUNDLE_ID_HEX_LEN + 16] = "";

		if (p->event)
			snprintf(event, sizeof(event), "event %llu: ",
				 (unsigned long long)p->event);
		if (p->has_object) {
			char hex[BUNDLE_ID_HEX_LEN + 1];

			bundle_id_to_hex(&p->object, hex);
			snprintf(object, sizeof(object), "object %s: ", hex);
		}
		add_problem(out, "%s%s%s", event, object, p->message);
	}
	bundle_verify_release(&vr);
	return 0;
}

int inspect_integrity_check(const struct inspect_view *view, const char *path,
			    int full, struct inspect_integrity *out)
{
	memset(out, 0, sizeof(*out));
	out->incomplete = !view->finalized;
	return full ? full_check(path, out) : quick_check(view, path, out);
}

int inspect_check_option(int c, int *flags)
{
	if (c == INSPECT_CHECK_OPT_VERIFY)
		*flags |= INSPECT_CHECK_FULL;
	else if (c == INSPECT_CHECK_OPT_ALLOW)
		*flags |= INSPECT_CHECK_ALLOW_INCOMPLETE;
	else
		return 0;
	return 1;
}

int inspect_integrity_warn(const struct inspect_view *view, const char *path,
			   int flags)
{
	struct inspect_integrity check;
	size_t listed;

	fflush(stdout);
	if (inspect_integrity_check(view, path, flags & INSPECT_CHECK_FULL,
				    &check) < 0)
		return out_fail();
	if (flags & INSPECT_CHECK_ALLOW_INCOMPLETE)
		check.incomplete = 0;
	if (!check.incomplete && !check.n_problems)
		return CLI_EXIT_OK;
	listed = check.n_problems < INSPECT_INTEGRITY_LISTED ?
			 check.n_problems : INSPECT_INTEGRITY_LISTED;
	for (size_t i = 0; i < listed; i++)
		cli_error("the bundle is damaged: '%s': %s", path,
			  check.problems[i]);
	if (check.n_problems > listed)
		cli_error("the bundle is damaged: '%s': %zu more problems",
			  path, check.n_problems - listed);
	if (check.incomplete)
		cli_error("the bundle is incomplete: '%s': it was not "
			  "finalized, so no root digest covers its last "
			  "events", path);
	cli_hint("runbundle verify %s", path);
	return CLI_EXIT_FAIL;
}
