/*
 * redact.c - masking credentials and secret values in exchanges.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "harness/decode.h"
#include "harness/error.h"
#include "harness/gateway.h"
#include "harness/redact.h"

/* The header that keeps the original Content-Encoding of a body that had
 * to be stored decoded. */
#define DECODED_HEADER "x-runbundle-decoded-content-encoding"

static const char *const credential_headers[] = {
	"authorization", "proxy-authorization", "x-api-key",	  "api-key",
	"cookie",	 "set-cookie",		"x-goog-api-key",
};

/* Append a copy of value, or with owned, value itself. */
static int store(struct harness_secrets *secrets, char *value, bool owned)
{
	char **values = realloc(secrets->values,
				(secrets->count + 1) * sizeof(*values));
	char *copy = NULL;

	if (values) {
		secrets->values = values;
		copy = owned ? value : strdup(value);
	}
	if (!copy) {
		if (owned)
			free(value);
		harness_set_error("cannot store secret: 'secret': out of "
				  "memory");
		return -1;
	}
	values[secrets->count++] = copy;
	return 0;
}

/*
 * Store the base64 of value as it appears inside longer base64 text, in
 * both alphabets (RFC 4648, sections 4 and 5). value can start at any of
 * the 3 byte positions of a group. Only the groups that contain value's
 * bytes alone encode the same whatever comes around it, so for each
 * position the whole groups from there on are encoded.
 */
static int store_base64(struct harness_secrets *secrets, const char *value)
{
	size_t len = strlen(value);

	for (size_t skip = 0; skip < 3; skip++) {
		size_t bytes = (len - skip) / 3 * 3;
		char *text;

		if (bytes / 3 * 4 < HARNESS_SECRET_MIN)
			continue;
		text = malloc(bytes / 3 * 4 + 1);
		if (!text)
			return store(secrets, NULL, true);
		EVP_EncodeBlock((unsigned char *)text,
				(const unsigned char *)value + skip,
				(int)bytes);
		if (store(secrets, strdup(text), true) < 0) {
			OPENSSL_cleanse(text, strlen(text));
			free(text);
			return -1;
		}
		for (char *p = text; *p; p++) {
			if (*p == '+')
				*p = '-';
			else if (*p == '/')
				*p = '_';
		}
		if (strcmp(text, secrets->values[secrets->count - 1]) == 0) {
			OPENSSL_cleanse(text, strlen(text));
			free(text);
		} else if (store(secrets, text, true) < 0)
			return -1;
	}
	return 0;
}

/* Store value percent-encoded as in a URL's query (RFC 3986, section
 * 2.1), when that differs from value. */
static int store_percent(struct harness_secrets *secrets, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(value);
	char *text = malloc(3 * len + 1), *out = text;

	if (!text)
		return store(secrets, NULL, true);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (strchr("-._~", *p) || (*p >= '0' && *p <= '9') ||
		    ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
			*out++ = (char)*p;
			continue;
		}
		*out++ = '%';
		*out++ = hex[*p >> 4];
		*out++ = hex[*p & 15];
	}
	*out = '\0';
	if ((size_t)(out - text) == len) {
		OPENSSL_cleanse(text, len);
		free(text);
		return 0;
	}
	return store(secrets, text, true);
}

int harness_secrets_add(struct harness_secrets *secrets, const char *value)
{
	if (strlen(value) < HARNESS_SECRET_MIN) {
		harness_set_error("invalid secret: '%zu characters': shorter "
				  "than %d, too short to mask safely",
				  strlen(value), HARNESS_SECRET_MIN);
		return -1;
	}

	/* A server that echoes the secret may encode it first, as in a
	 * Basic credential or a URL it logs, so those forms are masked
	 * too. */
	if (store(secrets, (char *)value, false) < 0 ||
	    store_base64(secrets, value) < 0 ||
	    store_percent(secrets, value) < 0)
		return -1;
	return 0;
}

int harness_secrets_copy(struct harness_secrets *secrets,
			 const struct harness_secrets *from)
{
	/* from contains the encoded forms already. */
	for (size_t i = 0; i < from->count; i++) {
		if (store(secrets, from->values[i], false) < 0)
			return -1;
	}
	return 0;
}

/* Add len bytes at value unless they are too short to mask safely. */
static int add_span(struct harness_secrets *secrets, const char *value,
		    size_t len)
{
	char *copy;
	int rc;

	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len < HARNESS_SECRET_MIN)
		return 0;
	copy = strndup(value, len);
	if (!copy) {
		harness_set_error("cannot store secret: 'credential': out of "
				  "memory");
		return -1;
	}
	rc = harness_secrets_add(secrets, copy);
	OPENSSL_cleanse(copy, len);
	free(copy);
	return rc;
}

/* "a=1; b=2" for Cookie, "a=1; Path=/; HttpOnly" for Set-Cookie: each
 * value after '=' is a credential. */
static int add_cookie_values(struct harness_secrets *secrets, const char *value)
{
	while (*value) {
		size_t len = strcspn(value, ";");
		const char *eq = memchr(value, '=', len);

		if (eq && add_span(secrets, eq + 1,
				   len - (size_t)(eq + 1 - value)) < 0)
			return -1;
		value += len;
		if (*value == ';')
			value++;
	}
	return 0;
}

int harness_secrets_add_credentials(struct harness_secrets *secrets,
				    const struct harness_headers *headers)
{
	for (size_t i = 0; i < headers->count; i++) {
		const char *name = headers->items[i].name;
		const char *value = headers->items[i].value;
		const char *space = strchr(value, ' ');

		if (!harness_is_credential_header(name))
			continue;
		if (strcasecmp(name, "cookie") == 0 ||
		    strcasecmp(name, "set-cookie") == 0) {
			if (add_cookie_values(secrets, value) < 0)
				return -1;
			continue;
		}
		if (add_span(secrets, value, strlen(value)) < 0 ||
		    (space &&
		     add_span(secrets, space + 1, strlen(space + 1)) < 0))
			return -1;
	}
	return 0;
}

void harness_secrets_release(struct harness_secrets *secrets)
{
	for (size_t i = 0; i < secrets->count; i++) {
		OPENSSL_cleanse(secrets->values[i], strlen(secrets->values[i]));
		free(secrets->values[i]);
	}
	free(secrets->values);
	memset(secrets, 0, sizeof(*secrets));
}

static void mask(unsigned char *at, size_t len)
{
	static const char marker[] = HARNESS_REDACTED;

	for (size_t i = 0; i < len; i++)
		at[i] = len >= sizeof(marker) - 1 && i < sizeof(marker) - 1
				? (unsigned char)marker[i]
				: '*';
}

/* A secret found in the data: len bytes at offset. */
struct hit {
	size_t offset, len;
};

/* Append a hit, or when memory runs out mask it at once, which is
 * what the caller does to every hit afterwards anyway. */
static void add_hit(struct hit **hits, size_t *n, size_t *cap,
		    unsigned char *data, size_t offset, size_t len)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 16;
		struct hit *grown = realloc(*hits, grown_cap * sizeof(**hits));

		if (!grown) {
			mask(data + offset, len);
			return;
		}
		*hits = grown;
		*cap = grown_cap;
	}
	(*hits)[(*n)++] = (struct hit){offset, len};
}

/*
 * A server that echoes a secret inside a JSON string may escape any of
 * its characters: '/' as "\/", '"' as "\"", or each one as "\u00XX" in
 * either case of hex. One that puts it in a URL may percent-encode some
 * of its characters and not others, as Python's quote() leaves '/', or
 * write the hex in lower case. So a secret is also found in any mix of
 * its bytes and such escapes, and the mask covers the escapes whole.
 */
enum escaped {
	ESC_MISMATCH,
	ESC_PARTIAL, /* the data ends first, and matches up to there */
	ESC_MATCH,
};

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Read the code unit of the "\uXXXX" at data. Returns 1, 0 when the
 * data ends inside it, or -1 when it is not such an escape. */
static int read_unit(const unsigned char *data, size_t len, unsigned *unit)
{
	*unit = 0;
	if (len < 2)
		return len == 0 || data[0] == '\\' ? 0 : -1;
	if (data[0] != '\\' || data[1] != 'u')
		return -1;
	for (size_t i = 2; i < 6; i++) {
		int digit;

		if (i == len)
			return 0;
		digit = hex_digit(data[i]);
		if (digit < 0)
			return -1;
		*unit = *unit << 4 | (unsigned)digit;
	}
	return 1;
}

/* Write code point cp as UTF-8 to out, and return its length. */
static size_t utf8_encode(unsigned cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the escape at data, which starts with a backslash or '%', to
 * UTF-8: *n_out bytes in out, from *used bytes of data. A surrogate pair
 * is one escape. Returns 1, 0 when the data ends inside an escape that
 * is valid so far, or -1 when data starts no valid escape.
 */
static int read_escape(const unsigned char *data, size_t len,
		       unsigned char out[4], size_t *n_out, size_t *used)
{
	static const char letters[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";
	unsigned high, low;
	const char *letter;
	int rc;

	if (data[0] == '%') {
		for (size_t i = 1; i < 3; i++) {
			if (i == len)
				return 0;
			if (hex_digit(data[i]) < 0)
				return -1;
		}
		out[0] = (unsigned char)(hex_digit(data[1]) << 4 |
					 hex_digit(data[2]));
		*n_out = 1;
		*used = 3;
		return 1;
	}
	if (len < 2)
		return 0;
	if (data[1] != 'u') {
		letter = memchr(letters, data[1], sizeof(letters) - 1);
		if (!letter)
			return -1;
		out[0] = (unsigned char)decoded[letter - letters];
		*n_out = 1;
		*used = 2;
		return 1;
	}
	rc = read_unit(data, len, &high);
	if (rc <= 0)
		return rc;
	*used = 6;
	if (high >= 0xdc00 && high <= 0xdfff)
		return -1;
	if (high < 0xd800 || high > 0xdbff) {
		*n_out = utf8_encode(high, out);
		return 1;
	}
	rc = read_unit(data + 6, len - 6, &low);
	if (rc <= 0)
		return rc;
	if (low < 0xdc00 || low > 0xdfff)
		return -1;
	*n_out = utf8_encode(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00),
			     out);
	*used = 12;
	return 1;
}

/* Compare data with secret[j..n), decoding escapes. On a match, *used
 * is the number of bytes of data that spell the rest of the secret. */
static enum escaped match_escaped(const char *secret, size_t n, size_t j,
				  const unsigned char *data, size_t len,
				  size_t *used)
{
	size_t at = 0;

	while (j < n) {
		unsigned char bytes[4];
		size_t n_bytes, step;
		int rc;

		if (at == len)
			return ESC_PARTIAL;
		rc = data[at] == '\\' || data[at] == '%'
			     ? read_escape(data + at, len - at, bytes, &n_bytes,
					   &step)
			     : -1;
		if (rc == 0) {
			size_t rest;

			/* Data that ends in the secret's own '%' or backslash
			 * spells the secret, so it is masked now. Only the
			 * last 12 bytes get here, so this recurses at most 12
			 * levels deep. */
			if (data[at] == (unsigned char)secret[j] &&
			    match_escaped(secret, n, j + 1, data + at + 1,
					  len - at - 1, &rest) == ESC_MATCH) {
				*used = at + 1 + rest;
				return ESC_MATCH;
			}
			return ESC_PARTIAL;
		}
		if (rc > 0 && n_bytes <= n - j &&
		    memcmp(bytes, secret + j, n_bytes) == 0) {
			at += step;
			j += n_bytes;
			continue;
		}
		/* Not an escape, or an escape of other bytes: a '%' may
		 * still be one of the secret's own bytes. */
		if (data[at] != (unsigned char)secret[j])
			return ESC_MISMATCH;
		at++;
		j++;
	}
	*used = at;
	return ESC_MATCH;
}

/* Return whether the len bytes at data are the exact bytes of a secret,
 * which the search for the exact bytes finds. */
static bool is_exact(const struct harness_secrets *secrets,
		     const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < secrets->count; i++) {
		if (strlen(secrets->values[i]) == len &&
		    memcmp(secrets->values[i], data, len) == 0)
			return true;
	}
	return false;
}

/*
 * Return the first backslash or '%' from from on, or NULL. next keeps
 * the next of each found so far (NULL when there is none), so that the
 * data is searched once for each, however the two alternate.
 */
static unsigned char *next_escape(unsigned char *next[2], unsigned char *from,
				  const unsigned char *end)
{
	static const unsigned char marks[2] = {'\\', '%'};

	for (size_t i = 0; i < 2; i++) {
		if (next[i] && next[i] < from)
			next[i] = from < end ? memchr(from, marks[i],
						      (size_t)(end - from))
					     : NULL;
	}
	if (!next[0] || (next[1] && next[1] < next[0]))
		return next[1];
	return next[0];
}

/*
 * Find the secrets spelt with escapes, starting at each backslash and
 * '%'. Such a spelling has a first escape, with the secret's first k
 * bytes as they are before it, so it is found from that escape. Without
 * hits, return 1 at the first one found, and leave data as it is.
 */
static size_t find_escaped(const struct harness_secrets *secrets,
			   unsigned char *data, size_t len, struct hit **hits,
			   size_t *n_hits, size_t *cap)
{
	unsigned char *end = data + len;
	unsigned char *next[2] = {memchr(data, '\\', len),
				  memchr(data, '%', len)};
	size_t found = 0;
	/* The escapes common in text, "\n" and "\"", decode to a byte that
	 * few secrets contain, so they are skipped at once. */
	bool in_secret[256] = {false};

	if (!next[0] && !next[1])
		return 0;
	for (size_t i = 0; i < secrets->count; i++) {
		for (const char *c = secrets->values[i]; *c; c++)
			in_secret[(unsigned char)*c] = true;
	}
	for (unsigned char *escape = next_escape(next, data, end); escape;
	     escape = next_escape(next, escape + 1, end)) {
		size_t rest = (size_t)(end - escape);
		size_t before = (size_t)(escape - data);
		unsigned char bytes[4];
		size_t n_bytes, step;

		if (read_escape(escape, rest, bytes, &n_bytes, &step) != 1 ||
		    !in_secret[bytes[0]])
			continue;
		for (size_t i = 0; i < secrets->count; i++) {
			const char *secret = secrets->values[i];
			size_t n = strlen(secret), used;

			/* Each place where the secret has the escape's
			 * bytes, after k bytes that come before it as they
			 * are. */
			for (const char *at = memchr(secret, bytes[0], n); at;
			     at = memchr(at + 1, bytes[0],
					 (size_t)(secret + n - at - 1))) {
				size_t k = (size_t)(at - secret);

				if (k > before || n_bytes > n - k ||
				    memcmp(at, bytes, n_bytes) != 0 ||
				    memcmp(escape - k, secret, k) != 0 ||
				    match_escaped(secret, n, k, escape, rest,
						  &used) != ESC_MATCH)
					continue;
				if (!hits)
					return 1;
				/* Found already: a secret's percent-encoding
				 * is stored as a secret too. */
				if (is_exact(secrets, escape - k, k + used))
					continue;
				add_hit(hits, n_hits, cap, data, before - k,
					k + used);
				found++;
			}
		}
	}
	return found;
}

/*
 * Every secret is looked for in the data as it came, and only then are
 * the hits masked. Masking one secret first would hide a longer one that
 * contains or overlaps it from the search, and leave its other bytes in
 * the clear: "abcdefgh" masked in "abcdefgh12345678" leaves "12345678".
 * The encoded forms of each secret make such overlaps likelier.
 */
size_t harness_redact_bytes(const struct harness_secrets *secrets,
			    unsigned char *data, size_t len)
{
	struct hit *hits = NULL;
	size_t n_hits = 0, cap = 0, masked = 0;

	for (size_t i = 0; i < secrets->count; i++) {
		const char *secret = secrets->values[i];
		size_t n = strlen(secret);
		unsigned char *p = data, *end = data + len;

		while ((size_t)(end - p) >= n) {
			unsigned char *hit =
				memmem(p, (size_t)(end - p), secret, n);

			if (!hit)
				break;
			add_hit(&hits, &n_hits, &cap, data,
				(size_t)(hit - data), n);
			masked++;
			/* Overlapping hits of one secret count too. */
			p = hit + 1;
		}
	}
	/* Data without a backslash or '%', as most of what passes is, costs
	 * two memchr() more than the search for the exact bytes. */
	masked += find_escaped(secrets, data, len, &hits, &n_hits, &cap);

	for (size_t i = 0; i < n_hits; i++)
		mask(data + hits[i].offset, hits[i].len);
	free(hits);
	return masked;
}

int harness_contains_secret(const struct harness_secrets *secrets,
			    const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < secrets->count; i++) {
		const char *secret = secrets->values[i];

		if (memmem(data, len, secret, strlen(secret)))
			return 1;
	}
	return find_escaped(secrets, (unsigned char *)data, len, NULL, NULL,
			    NULL) > 0;
}

/*
 * An end without a backslash or '%' can only begin the exact bytes,
 * which the caller checks. An escaped spelling is at most 6 bytes for
 * each byte of the secret: "\u00XX" for 1 byte, "\uXXXX" for 2 or 3,
 * and a surrogate pair for 4.
 */
size_t harness_escaped_start_len(const struct harness_secrets *secrets,
				 const unsigned char *data, size_t len)
{
	size_t window = 0, longest = 0;
	const unsigned char *last, *percent;

	for (size_t i = 0; i < secrets->count; i++) {
		size_t n = strlen(secrets->values[i]);

		if (window < 6 * n)
			window = 6 * n;
	}
	if (window > len)
		window = len;
	last = memrchr(data + len - window, '\\', window);
	percent = memrchr(data + len - window, '%', window);
	if (!last || (percent && percent > last))
		last = percent;
	if (!last)
		return 0;
	for (size_t i = 0; i < secrets->count; i++) {
		const char *secret = secrets->values[i];
		size_t n = strlen(secret), from = 6 * n, used;

		if (from > len)
			from = len;
		/* A start at or before the last escape, longest first. */
		for (size_t p = len - from;
		     p <= (size_t)(last - data) && len - p > longest; p++) {
			if ((data[p] == (unsigned char)secret[0] ||
			     data[p] == '\\' || data[p] == '%') &&
			    match_escaped(secret, n, 0, data + p, len - p,
					  &used) == ESC_PARTIAL) {
				longest = len - p;
				break;
			}
		}
	}
	return longest;
}

int harness_is_credential_header(const char *name)
{
	size_t n = sizeof(credential_headers) / sizeof(*credential_headers);

	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(name, credential_headers[i]) == 0)
			return 1;
	}
	return 0;
}

/* Mask s, drop its spaces and tabs in place, and return how many
 * secrets the result still contains. */
static size_t count_split(const struct harness_secrets *secrets, char *s)
{
	size_t len = strlen(s), n = 0;

	harness_redact_bytes(secrets, (unsigned char *)s, len);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			s[n++] = s[i];
	}
	return harness_redact_bytes(secrets, (unsigned char *)s, n);
}

int harness_has_split_secret(const struct harness_secrets *secrets,
			     const char *text)
{
	char *copy;
	size_t n;

	if (secrets->count == 0)
		return 0;
	copy = strdup(text);
	if (!copy)
		return 1;
	n = count_split(secrets, copy);
	OPENSSL_cleanse(copy, strlen(copy));
	free(copy);
	return n > 0;
}

int harness_header_hides_secret(const struct harness_secrets *secrets,
				const struct harness_header *header)
{
	for (size_t i = 0; i < secrets->count; i++) {
		if (strstr(header->name, secrets->values[i]))
			return 1;
	}
	return harness_has_split_secret(secrets, header->value);
}

/* Leave out every header that hides a secret where it cannot be masked.
 * A replay could not serve a masked name, and no API names a header
 * after a credential or folds one across lines. */
static void drop_hiding_headers(const struct harness_secrets *secrets,
				struct harness_headers *headers)
{
	size_t n_kept = 0;

	for (size_t i = 0; i < headers->count; i++) {
		struct harness_header *h = &headers->items[i];

		if (!harness_header_hides_secret(secrets, h)) {
			headers->items[n_kept++] = *h;
			continue;
		}
		OPENSSL_cleanse(h->value, strlen(h->value));
		free(h->name);
		free(h->value);
	}
	headers->count = n_kept;
}

static int redact_headers(const struct harness_secrets *secrets,
			  struct harness_headers *headers)
{
	drop_hiding_headers(secrets, headers);
	for (size_t i = 0; i < headers->count; i++) {
		struct harness_header *h = &headers->items[i];
		char *value;

		if (!harness_is_credential_header(h->name)) {
			harness_redact_bytes(secrets, (unsigned char *)h->value,
					     strlen(h->value));
			continue;
		}
		value = strdup(HARNESS_REDACTED);
		if (!value) {
			harness_set_error("cannot redact header: '%s': out of "
					  "memory",
					  h->name);
			return -1;
		}
		OPENSSL_cleanse(h->value, strlen(h->value));
		free(h->value);
		h->value = value;
	}
	return 0;
}

static void rename_encoding(struct harness_headers *headers)
{
	for (size_t i = 0; i < headers->count; i++) {
		struct harness_header *h = &headers->items[i];
		char *name;

		if (strcasecmp(h->name, "content-encoding") != 0)
			continue;
		name = strdup(DECODED_HEADER);
		if (name) {
			free(h->name);
			h->name = name;
		}
	}
}

/* The form in which redact_encoded() has a compressed body stored. */
enum stored_as {
	STORED_MASKED,	/* as sent, with its raw bytes masked */
	STORED_DECODED, /* decoded and masked, in *decoded */
	STORED_EMPTY,	/* dropped: it holds a secret and cannot be decoded */
};

/*
 * A compressed body is scanned decoded. When it hides a secret, storing
 * it compressed would keep the secret, so the decoded, masked body takes
 * its place. The original bytes are decoded, before any masking. A
 * secret masked where the raw bytes show it (a gzip comment, a stored
 * block) breaks the checksum, so the decoder would give up on the rest,
 * where another copy may be compressed. For the same reason a body that
 * shows a secret and cannot be decoded is not stored at all.
 */
static enum stored_as redact_encoded(const struct harness_secrets *secrets,
				     const struct harness_headers *headers,
				     const unsigned char *body, size_t len,
				     unsigned char **decoded,
				     size_t *decoded_len)
{
	char *encoding = harness_headers_join(headers, "content-encoding");
	bool in_raw;
	int rc;

	if (!encoding || secrets->count == 0) {
		free(encoding);
		return STORED_MASKED;
	}
	in_raw = harness_contains_secret(secrets, body, len);
	rc = harness_decode_body(encoding, body, len, decoded, decoded_len);
	free(encoding);
	if (rc == 1)
		return STORED_MASKED;
	if (rc < 0)
		return in_raw ? STORED_EMPTY : STORED_MASKED;
	if (harness_redact_bytes(secrets, *decoded, *decoded_len) == 0 &&
	    !in_raw) {
		free(*decoded);
		return STORED_MASKED;
	}
	return STORED_DECODED;
}

/* Rename the Content-Encoding, and add the header that marks a body
 * left out by STORED_EMPTY. */
static void mark_dropped(struct harness_headers *headers)
{
	rename_encoding(headers);
	harness_headers_add(headers, "x-runbundle-dropped-body",
			    "it could not be decoded and showed a secret");
}

int harness_redact_request(const struct harness_secrets *secrets,
			   struct harness_request *request)
{
	unsigned char *decoded;
	size_t decoded_len;

	if (redact_headers(secrets, &request->headers) < 0)
		return -1;
	/* Some APIs take a token in the path ("/bot<token>/..."). */
	if (request->path)
		harness_redact_bytes(secrets, (unsigned char *)request->path,
				     strlen(request->path));
	if (request->query)
		harness_redact_bytes(secrets, (unsigned char *)request->query,
				     strlen(request->query));
	switch (redact_encoded(secrets, &request->headers, request->body,
			       request->body_len, &decoded, &decoded_len)) {
	case STORED_DECODED:
		free(request->body);
		request->body = decoded;
		request->body_len = decoded_len;
		rename_encoding(&request->headers);
		break;
	case STORED_EMPTY:
		OPENSSL_cleanse(request->body, request->body_len);
		request->body_len = 0;
		mark_dropped(&request->headers);
		break;
	case STORED_MASKED:
		harness_redact_bytes(secrets, request->body,
				     request->body_len);
		break;
	}
	return 0;
}

/* Mask secrets across the whole body, so that one split over two chunks
 * is found too, then copy the bytes back at the same boundaries. */
static int redact_chunks(const struct harness_secrets *secrets,
			 struct harness_response *response)
{
	size_t len = harness_response_body_len(response), at = 0;
	unsigned char *body;

	if (response->n_chunks == 1) {
		harness_redact_bytes(secrets, response->chunks[0].data, len);
		return 0;
	}
	body = malloc(len ? len : 1);
	if (!body) {
		harness_set_error("cannot redact response: '%zu bytes': out "
				  "of memory",
				  len);
		return -1;
	}
	for (size_t i = 0; i < response->n_chunks; i++) {
		memcpy(body + at, response->chunks[i].data,
		       response->chunks[i].len);
		at += response->chunks[i].len;
	}
	if (harness_redact_bytes(secrets, body, len) > 0) {
		at = 0;
		for (size_t i = 0; i < response->n_chunks; i++) {
			memcpy(response->chunks[i].data, body + at,
			       response->chunks[i].len);
			at += response->chunks[i].len;
		}
	}
	free(body);
	return 0;
}

static int replace_chunks(struct harness_response *response,
			  unsigned char *decoded, size_t decoded_len)
{
	uint64_t offset =
		response->n_chunks
			? response->chunks[response->n_chunks - 1].offset_us
			: 0;

	for (size_t i = 0; i < response->n_chunks; i++)
		free(response->chunks[i].data);
	response->n_chunks = 0;
	if (harness_response_add_chunk(response, decoded, decoded_len, offset) <
	    0) {
		free(decoded);
		return -1;
	}
	free(decoded);
	rename_encoding(&response->headers);
	return 0;
}

int harness_redact_response(const struct harness_secrets *secrets,
			    struct harness_response *response)
{
	unsigned char *body, *decoded;
	size_t len = harness_response_body_len(response), decoded_len, at = 0;
	enum stored_as stored;

	if (redact_headers(secrets, &response->headers) < 0)
		return -1;
	if (secrets->count == 0 ||
	    !harness_headers_get(&response->headers, "content-encoding"))
		return redact_chunks(secrets, response);

	body = malloc(len ? len : 1);
	if (!body) {
		harness_set_error("cannot redact response: '%zu bytes': out "
				  "of memory",
				  len);
		return -1;
	}
	for (size_t i = 0; i < response->n_chunks; i++) {
		memcpy(body + at, response->chunks[i].data,
		       response->chunks[i].len);
		at += response->chunks[i].len;
	}
	stored = redact_encoded(secrets, &response->headers, body, len,
				&decoded, &decoded_len);
	OPENSSL_cleanse(body, len);
	free(body);
	if (stored == STORED_DECODED)
		return replace_chunks(response, decoded, decoded_len);
	if (stored == STORED_EMPTY) {
		mark_dropped(&response->headers);
		return replace_chunks(response, calloc(1, 1), 0);
	}
	return redact_chunks(secrets, response);
}
