/*
 * printed.c - what the agent printed, compared between two runs
 * (printed.h). The two streams are read one stored piece at a time, so
 * an agent that printed gigabytes costs the memory of one piece of each
 * run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/printed.h"

/* The bytes of the line before the difference that a quote shows at
 * most, and the part of a quote that they may take. */
#define CONTEXT 32
#define CONTEXT_SHOWN (REPLAY_OUTPUT_QUOTED / 2)

/* One stream of one run, read byte by byte. */
struct cursor {
	const struct replay_run *run;
	int stream;
	size_t next; /* the next piece of run->output */
	unsigned char *data;
	size_t len, pos;
	uint64_t count; /* the bytes returned so far */
};

enum { END = -1, FAILED = -2 };

static int next_byte(struct cursor *c)
{
	while (c->pos == c->len) {
		const struct replay_run *run = c->run;
		void *data = NULL;
		size_t len = 0;

		free(c->data);
		c->data = NULL;
		c->len = c->pos = 0;
		while (c->next < run->n_output &&
		       run->output[c->next].stream != c->stream)
			c->next++;
		if (c->next == run->n_output)
			return END;
		if (bundle_get(run->bundle, &run->output[c->next].blob, &data,
			       &len, NULL) < 0) {
			replay_set_error("cannot compare what the agent "
					 "printed: %s", bundle_error());
			return FAILED;
		}
		c->next++;
		c->data = data;
		c->len = len;
	}
	c->count++;
	return c->data[c->pos++];
}

/* Read to the end, to count the stream's bytes. */
static int drain(struct cursor *c)
{
	int b;

	do {
		c->count += c->len - c->pos;
		c->pos = c->len;
		b = next_byte(c);
	} while (b >= 0);
	return b == FAILED ? -1 : 0;
}

/* The length of the UTF-8 sequence at s (n bytes) that a terminal shows
 * as text, or 0 for a byte to escape: invalid UTF-8, C1 controls and
 * the bidirectional overrides and isolates, which reorder the line. */
static size_t text_length(const unsigned char *s, size_t n)
{
	size_t len = 2;
	uint32_t cp;

	if (s[0] >= 0xf0)
		len = 4;
	else if (s[0] >= 0xe0)
		len = 3;
	if (s[0] < 0xc2 || s[0] > 0xf4 || len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

/*
 * Append raw (n bytes) to out escaped, unit by unit: printable ASCII and
 * shown UTF-8 as they are, a backslash as "\\", any other byte as
 * "\xHH". Stop before a unit that would make out longer than limit.
 * Returns the bytes of raw consumed.
 */
static size_t escape(const unsigned char *raw, size_t n, char *out,
		     size_t *used, size_t limit)
{
	size_t i = 0;

	while (i < n) {
		size_t len = raw[i] >= 0x80 ? text_length(raw + i, n - i) : 0;
		char piece[8];
		size_t piece_len;

		if (len) {
			memcpy(piece, raw + i, len);
			piece_len = len;
		} else if (raw[i] == '\\') {
			memcpy(piece, "\\\\", 2);
			piece_len = 2;
			len = 1;
		} else if (raw[i] >= 0x20 && raw[i] < 0x7f) {
			piece[0] = (char)raw[i];
			piece_len = 1;
			len = 1;
		} else {
			snprintf(piece, sizeof(piece), "\\x%02x", raw[i]);
			piece_len = 4;
			len = 1;
		}
		if (*used + piece_len > limit)
			break;
		memcpy(out + *used, piece, piece_len);
		*used += piece_len;
		i += len;
	}
	out[*used] = '\0';
	return i;
}

/* The line of the run that c reads, around the difference: the bytes of
 * the line before it (before, n_before, of column in all) and what c
 * gives from the byte first on, up to the line's end. */
static char *show(struct cursor *c, int first, const unsigned char *before,
		  size_t n_before, uint64_t column, bool *unended,
		  bool *failed)
{
	unsigned char raw[CONTEXT + REPLAY_OUTPUT_QUOTED + 1];
	char out[REPLAY_OUTPUT_QUOTED * 2 + 16], probe[CONTEXT * 4 + 1];
	size_t n = 0, used = 0, skip = 0, consumed;
	int b = first;

	if (first == END && column == 0)
		return NULL; /* the output ended before the line */
	/* Drop the oldest bytes of the context until it leaves room for
	 * the difference. */
	for (;; skip++) {
		size_t probe_used = 0;

		if (escape(before + skip, n_before - skip, probe, &probe_used,
			   sizeof(probe) - 1) == n_before - skip &&
		    probe_used <= CONTEXT_SHOWN)
			break;
	}
	memcpy(raw, before + skip, n_before - skip);
	n = n_before - skip;
	while (b >= 0 && b != '\n' && n < sizeof(raw)) {
		raw[n++] = (unsigned char)b;
		if (n < sizeof(raw))
			b = next_byte(c);
	}
	if (b == FAILED) {
		*failed = true;
		return NULL;
	}
	*unended = b == END;
	if (skip || column > n_before) {
		memcpy(out, "...", 3);
		used = 3;
	}
	consumed = escape(raw, n, out, &used, used + REPLAY_OUTPUT_QUOTED);
	if (consumed < n || n == sizeof(raw))
		strcpy(out + used, "...");
	return strdup(out);
}

static int compare_stream(const struct replay_run *a,
			  const struct replay_run *b, int stream,
			  struct replay_stream_cmp *sc)
{
	struct cursor x = {.run = a, .stream = stream};
	struct cursor y = {.run = b, .stream = stream};
	unsigned char line[CONTEXT * 2];
	size_t n_line = 0;
	uint64_t lines = 1, column = 0;
	bool failed = false;
	int p, q, rc = -1;

	for (;;) {
		p = next_byte(&x);
		q = next_byte(&y);
		if (p == FAILED || q == FAILED)
			goto out;
		if (p != q)
			break;
		if (p == END) {
			sc->bytes_a = x.count;
			sc->bytes_b = y.count;
			rc = 0;
			goto out;
		}
		if (p == '\n') {
			lines++;
			column = 0;
			n_line = 0;
			continue;
		}
		column++;
		if (n_line == sizeof(line)) {
			memmove(line, line + CONTEXT, CONTEXT);
			n_line = CONTEXT;
		}
		line[n_line++] = (unsigned char)p;
	}
	sc->differs = true;
	sc->line = lines;
	sc->column = column + 1;
	{
		size_t keep = n_line < CONTEXT ? n_line : CONTEXT;
		const unsigned char *ctx = line + n_line - keep;

		sc->excerpt_a = show(&x, p, ctx, keep, column, &sc->unended_a,
				   &failed);
		sc->excerpt_b = show(&y, q, ctx, keep, column, &sc->unended_b,
				   &failed);
	}
	if (failed || ((p != END || column) && !sc->excerpt_a) ||
	    ((q != END || column) && !sc->excerpt_b)) {
		if (!failed)
			replay_set_error("cannot compare what the agent "
					 "printed: out of memory");
		goto out;
	}
	if (drain(&x) < 0 || drain(&y) < 0)
		goto out;
	sc->bytes_a = x.count;
	sc->bytes_b = y.count;
	rc = 0;
out:
	free(x.data);
	free(y.data);
	return rc;
}

bool replay_output_unended(const struct replay_run *run)
{
	void *data = NULL;
	size_t len = 0;
	bool unended;

	if (!run->n_output ||
	    bundle_get(run->bundle, &run->output[run->n_output - 1].blob,
		       &data, &len, NULL) < 0)
		return false;
	unended = len && ((const char *)data)[len - 1] != '\n';
	free(data);
	return unended;
}

const char *replay_stream_name(int stream)
{
	return stream ? "stderr" : "stdout";
}

int replay_compare_output(const struct replay_run *a,
			  const struct replay_run *b,
			  struct replay_output_cmp *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2; i++) {
		if (compare_stream(a, b, i, &out->streams[i]) < 0) {
			replay_output_release(out);
			return -1;
		}
	}
	return 0;
}

void replay_output_release(struct replay_output_cmp *cmp)
{
	for (int i = 0; i < 2; i++) {
		free(cmp->streams[i].excerpt_a);
		free(cmp->streams[i].excerpt_b);
	}
	memset(cmp, 0, sizeof(*cmp));
}

bool replay_output_differs(const struct replay_output_cmp *cmp)
{
	return cmp->streams[0].differs || cmp->streams[1].differs;
}

/* Return one run's line as the note and the explanation quote it. A
 * line that ends the output without a newline is marked, because it may
 * differ from the other run's in that alone. */
static char *quoted(const char *excerpt, bool unended, uint64_t line)
{
	const char *mark = unended ? " (the output ends, with no newline)"
				   : "";
	char *text = NULL;
	int n;

	if (excerpt)
		n = asprintf(&text, "'%s'%s", excerpt, mark);
	else
		n = asprintf(&text, "nothing (the output ends before line "
			     "%llu)", (unsigned long long)line);
	return n < 0 ? NULL : text;
}

static char *stream_explain(int stream, const struct replay_stream_cmp *sc)
{
	char *a = quoted(sc->excerpt_a, sc->unended_a, sc->line);
	char *b = quoted(sc->excerpt_b, sc->unended_b, sc->line);
	char *text = NULL;

	if (a && b &&
	    asprintf(&text, "the agent's %s differs at line %llu, byte %llu: "
			    "recorded %s, replayed %s",
		     replay_stream_name(stream), (unsigned long long)sc->line,
		     (unsigned long long)sc->column, a, b) < 0)
		text = NULL;
	free(a);
	free(b);
	return text;
}

char *replay_output_explain(const struct replay_output_cmp *cmp)
{
	for (int i = 0; i < 2; i++) {
		if (cmp->streams[i].differs)
			return stream_explain(i, &cmp->streams[i]);
	}
	return NULL;
}

void replay_output_note(FILE *f, const struct replay_output_cmp *cmp,
			bool counted)
{
	for (int i = 0; i < 2; i++) {
		const struct replay_stream_cmp *sc = &cmp->streams[i];
		char *a, *b;

		if (!sc->differs)
			continue;
		a = quoted(sc->excerpt_a, sc->unended_a, sc->line);
		b = quoted(sc->excerpt_b, sc->unended_b, sc->line);
		fprintf(f,
			"note: the agent's %s differs from the recording's "
			"at line %llu, byte %llu (%llu bytes recorded, %llu "
			"replayed)%s:\n  recorded: %s\n  replayed: %s\n",
			replay_stream_name(i), (unsigned long long)sc->line,
			(unsigned long long)sc->column,
			(unsigned long long)sc->bytes_a,
			(unsigned long long)sc->bytes_b,
			counted ? ""
				: ", which is no divergence without "
				  "--compare-output",
			a ? a : "?", b ? b : "?");
		free(a);
		free(b);
	}
}

cJSON *replay_output_json(const struct replay_output_cmp *cmp, bool counted)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddBoolToObject(obj, "compared", counted);
	for (int i = 0; obj && i < 2; i++) {
		const struct replay_stream_cmp *sc = &cmp->streams[i];
		cJSON *s = cJSON_AddObjectToObject(obj, replay_stream_name(i));

		cJSON_AddBoolToObject(s, "identical", !sc->differs);
		cJSON_AddNumberToObject(s, "recorded_bytes",
					(double)sc->bytes_a);
		cJSON_AddNumberToObject(s, "replayed_bytes",
					(double)sc->bytes_b);
		if (!sc->differs)
			continue;
		cJSON_AddNumberToObject(s, "line", (double)sc->line);
		cJSON_AddNumberToObject(s, "byte", (double)sc->column);
		if (sc->excerpt_a)
			cJSON_AddStringToObject(s, "recorded", sc->excerpt_a);
		else
			cJSON_AddNullToObject(s, "recorded");
		if (sc->excerpt_b)
			cJSON_AddStringToObject(s, "replayed", sc->excerpt_b);
		else
			cJSON_AddNullToObject(s, "replayed");
	}
	return obj;
}

int replay_check_output(const struct replay_run *a,
			const struct replay_run *b,
			struct replay_comparison *cmp, cJSON *extra, char **why)
{
	struct replay_output_cmp out;
	bool counted = a->compare_output;

	*why = NULL;
	if (replay_compare_output(a, b, &out) < 0)
		return -1;
	replay_output_note(stderr, &out, counted);
	cJSON_AddItemToObject(extra, "output",
			      replay_output_json(&out, counted));
	if (counted && replay_output_differs(&out)) {
		cmp->verdict = REPLAY_DIVERGED;
		if (!cmp->first)
			*why = replay_output_explain(&out);
	}
	replay_output_release(&out);
	return 0;
}
