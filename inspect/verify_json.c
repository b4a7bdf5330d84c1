/*
 * verify_json.c - the result of "runbundle verify" as one JSON object,
 * for the commands that show a bundle to a person (inspect, report), so
 * that a damaged bundle is shown as damaged whatever its events contain.
 */
#include "bundle/error.h"
#include "bundle/verify.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"
#include "inspect/summary.h"

/* The problems listed; the count goes on. */
#define VERIFY_MAX_LISTED 20

static cJSON *verify_json(const char *path)
{
	struct bundle_verify_report vr;
	cJSON *v, *list;

	if (bundle_verify(path, &vr) < 0) {
		inspect_take_error(bundle_error(), bundle_error_hint());
		return NULL;
	}
	v = cJSON_CreateObject();
	cJSON_AddBoolToObject(v, "damaged", vr.n_problems > 0);
	out_add_num(v, "n_problems", (double)vr.n_problems);
	out_add_num(v, "verified_events", (double)vr.verified_events);
	list = cJSON_AddArrayToObject(v, "problems");
	for (size_t i = 0; i < vr.n_problems && i < VERIFY_MAX_LISTED; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(
						   vr.problems[i].message));
	bundle_verify_release(&vr);
	return v;
}

int inspect_summary_verify(cJSON *summary, const char *path,
			   const struct inspect_bundle_state *b, int flags)
{
	cJSON *verify = verify_json(path);
	int ok;

	if (!verify)
		return -1;
	ok = !cJSON_IsTrue(cJSON_GetObjectItem(verify, "damaged")) &&
	     !inspect_incomplete_fails(!b->finalized, b->wal_missing,
				       b->n_events, flags);
	cJSON_AddBoolToObject(verify, "incomplete", !b->finalized);
	cJSON_AddBoolToObject(verify, "wal_missing", b->wal_missing);
	cJSON_AddBoolToObject(verify, "ok", ok);
	cJSON_AddItemToObject(summary, "verify", verify);
	cJSON_AddBoolToObject(summary, "wal_missing", b->wal_missing);
	return ok;
}
