/*
 * match.h - finding the recorded exchange whose response is served for
 * a replayed request.
 *
 * Two requests match when they have the same method and path and are
 * equal after these steps, applied to both:
 *  1. a compressed body is decoded (see decode.h);
 *  2. a JSON body is put in canonical form (see canon.h);
 *  3. transport headers (Host, Content-Length, Connection, credentials
 *     and the like) are dropped. Volatile headers, the built-in list in
 *     docs/matching.md plus the names the user adds, are compared, but a
 *     difference there is always volatile;
 *  4. the normalizer replaces volatile values in the body, the query and
 *     the remaining headers (a header whose value is JSON is compared as
 *     JSON).
 * Requests equal before step 4 are "identical"; equal only after it,
 * "volatile differences only"; otherwise the request "diverged".
 *
 * Invariants: each recorded exchange serves at most one request. Among
 * recorded exchanges that match, an identical one is preferred, then the
 * earliest unconsumed one (lowest seq). So the Nth identical request gets
 * the Nth response, and a request that arrives out of order still finds
 * its own recording. A matcher is safe to use from several threads at
 * once.
 *
 * Memory: the matcher copies what it needs from the exchanges it is given
 * and owns the copies. A struct harness_match owns its diff; release it
 * with harness_match_release(). Functions that fail return NULL or -1
 * with the message in harness_error().
 */
#ifndef HARNESS_MATCH_H
#define HARNESS_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/exchange.h"
#include "harness/jsondiff.h"
#include "harness/normalize.h"

enum harness_verdict {
	HARNESS_IDENTICAL,
	HARNESS_VOLATILE_ONLY,
	HARNESS_DIVERGED,
};

struct harness_match {
	enum harness_verdict verdict;
	/* The exchange chosen: the match, or for a divergence the closest
	 * recording with the same method and path; SIZE_MAX when there is
	 * none. An index into the array given to harness_matcher_new(). */
	size_t index;
	uint64_t seq;		/* that exchange's seq; 0 when none */
	bool consumed;		/* the exchange is used up: by this match,
				 * or for a divergence by an earlier one */
	/* For a divergence: how many leading conversation items ("messages"
	 * or "input") the closest recording shares with the request. */
	size_t common_prefix;
	/* The differences from the chosen exchange: volatile only, unless
	 * the verdict is HARNESS_DIVERGED. */
	struct harness_diff diff;
};

struct harness_matcher;

/* A matcher over n recorded exchanges that compares with normalizer,
 * which must outlive the matcher (NULL for none). The n_volatile names in
 * volatile_headers are volatile headers in addition to the built-in
 * list. They are compared without case, and a trailing '*' matches any
 * rest. Free the matcher with harness_matcher_free(). */
struct harness_matcher *harness_matcher_new(
	const struct harness_exchange *exchanges, size_t n,
	const struct harness_normalizer *normalizer,
	const char *const *volatile_headers, size_t n_volatile);

void harness_matcher_free(struct harness_matcher *matcher);

/* Find the recording for a live request and fill *match. A match (either
 * verdict but HARNESS_DIVERGED) is consumed at once. A divergence
 * consumes nothing: the closest recording is the one with the longest
 * common conversation prefix, then the fewest divergent differences,
 * then one not yet consumed, then the earliest. Only the first 32 that
 * share the longest prefix are diffed, unconsumed ones first.
 * harness_matcher_consume() takes the closest when the user chooses to
 * continue with it. Returns 0, or -1 when the request cannot be compared
 * (out of memory). */
int harness_matcher_find(struct harness_matcher *matcher,
			 const struct harness_request *request,
			 struct harness_match *match);

/* Diff two requests as a divergence is diffed: the query, the headers
 * and the body, with the matcher's normalizer and volatile headers, into
 * *diff (released by the caller). Method and path are not compared.
 * Returns 0, or -1 on error. */
int harness_matcher_diff(const struct harness_matcher *matcher,
			 const struct harness_request *recorded,
			 const struct harness_request *live,
			 struct harness_diff *diff);

/* Mark the exchange at index used. Returns 0, or -1 when it already was
 * or the index is out of range. */
int harness_matcher_consume(struct harness_matcher *matcher, size_t index);

/* How many recorded exchanges no request has consumed yet. */
size_t harness_matcher_remaining(const struct harness_matcher *matcher);

void harness_match_release(struct harness_match *match);

/* Whether a header is left out of matching (a transport header). */
bool harness_match_is_transport_header(const char *name);

/* Whether a header is volatile: built in, or one of the matcher's extra
 * names. */
bool harness_matcher_is_volatile_header(
	const struct harness_matcher *matcher, const char *name);

/* The stable name of a verdict: "identical", "volatile-only",
 * "diverged". */
const char *harness_verdict_name(enum harness_verdict verdict);

#endif
