/*
 * redact.h - removing secrets from exchanges before they are stored.
 *
 * A secret is masked in place by bytes of the same length (the start of
 * "[REDACTED]", then '*'), so chunk boundaries and lengths survive and
 * a masked body still parses where the secret sat inside a string.
 */
#ifndef HARNESS_REDACT_H
#define HARNESS_REDACT_H

#include <stddef.h>

#include "harness/exchange.h"

/* Secrets shorter than this are rejected: masking them would damage
 * ordinary text. */
#define HARNESS_SECRET_MIN 8

struct harness_secrets {
	char **values;
	size_t count;
};

/* Add a copy of value. Returns 0, or -1 with a message in harness_error()
 * when the value is shorter than HARNESS_SECRET_MIN or memory runs out.
 * The message never contains the value. */
int harness_secrets_add(struct harness_secrets *secrets, const char *value);

/* Add copies of every value in from. Returns 0 or -1 as above. */
int harness_secrets_copy(struct harness_secrets *secrets,
			 const struct harness_secrets *from);

/* Add the credentials that headers carry, so that they are masked in
 * bodies too: the values of the credential headers (see below), the token
 * after an authorization scheme such as "Bearer", and each cookie value.
 * Values shorter than HARNESS_SECRET_MIN are skipped. Returns 0, or -1
 * when memory runs out. */
int harness_secrets_add_credentials(struct harness_secrets *secrets,
				    const struct harness_headers *headers);

/* Wipe and free the stored values. */
void harness_secrets_release(struct harness_secrets *secrets);

/* Mask every occurrence of every secret in data, also where JSON
 * escapes ("\/", "\u002f") spell some of its bytes: the mask then covers
 * the escapes whole. Returns how many were masked. */
size_t harness_redact_bytes(const struct harness_secrets *secrets,
			    unsigned char *data, size_t len);

/* Nonzero when data contains a secret that harness_redact_bytes() would
 * mask. */
int harness_contains_secret(const struct harness_secrets *secrets,
			    const unsigned char *data, size_t len);

/* Return how many bytes at the end of data could begin a secret spelt
 * with JSON or percent escapes: the longest end that contains a
 * backslash or '%' and that such a spelling starts with. A stream delays
 * them until more data arrives, because a secret is masked only whole. */
size_t harness_escaped_start_len(const struct harness_secrets *secrets,
				 const unsigned char *data, size_t len);

/* Return nonzero when text contains a secret split by spaces or tabs,
 * which masking in place cannot hide, or when memory runs out. */
int harness_has_split_secret(const struct harness_secrets *secrets,
			     const char *text);

/*
 * Nonzero when the header must be left out whole, because masking in
 * place cannot hide a secret in it. Either its name contains one, which
 * masked would not be a valid name. Or its value contains one split by
 * spaces or tabs, as a folded header line arrives joined. Also nonzero
 * when memory runs out, so that the header is left out, not kept.
 */
int harness_header_hides_secret(const struct harness_secrets *secrets,
				const struct harness_header *header);

/* Nonzero when the header's value is a credential that is always
 * replaced by HARNESS_REDACTED, whatever it contains. */
int harness_is_credential_header(const char *name);

/*
 * Redact a request or a response in place: credential headers, secrets
 * in other headers, the path and the query, and secrets in the body,
 * also inside a compressed body (which is then stored decoded, see
 * gateway.h). Returns 0, or -1 with a message in harness_error() when
 * memory runs out.
 */
int harness_redact_request(const struct harness_secrets *secrets,
			   struct harness_request *request);
int harness_redact_response(const struct harness_secrets *secrets,
			    struct harness_response *response);

#endif
