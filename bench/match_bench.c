/*
 * match_bench.c - the cost of replay matching and of the scripted model.
 *
 * usage: match_bench [EXCHANGES [MESSAGES [OUT.json]]]
 *
 * Builds EXCHANGES recorded Anthropic Messages requests (default 200),
 * each a conversation of up to MESSAGES turns (default 40) with a system
 * prompt that carries the date, a session UUID in metadata.user_id and
 * tool output of about 1 KiB a message. Every live request differs from
 * its recording in those volatile values only. Prints the time to build
 * the matcher, the find rate on one and two threads, and the scripted
 * model's rate. Times are CPU seconds of the process, except for the
 * two-thread run, which is timed on the wall clock. OUT.json, when
 * given, receives the largest request body, for comparing canonical JSON
 * with other tools.
 *
 * The one-thread find rate repeats the whole set of finds, each round on
 * a new matcher, until at least 20,000 requests were found, so that a
 * small recording is timed as long as a large one. MATCH_BENCH_ONE=1
 * skips the two-thread run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/match.h"
#include "harness/model_script.h"

/* Wall-clock seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the process, which other load on the machine changes
 * less than the wall clock. */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tool output of the kind agents send back: compiler and test lines. */
static const char tool_output[] =
	"src/parse.c:120:5: warning: unused variable 'len' [-Wunused]\n"
	"  120 |     size_t len = strlen(name);\n"
	"test_parse.py::test_empty PASSED                     [ 12%]\n"
	"test_parse.py::test_nested FAILED                    [ 25%]\n"
	"E   AssertionError: expected 3 items, got 2 at line 48\n"
	"make: *** [Makefile:31: check] Error 1\n"
	"The function returns the number of tokens it consumed, or -1 "
	"when the input ends inside a string; callers check for that.\n";


/* The body of request i of a run; day and session make the volatile
 * parts differ between the recorded and the live run. */
static char *conversation(int i, int messages, int day, int session)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *list, *system;
	char text[1400], id[160];
	int turns = 1 + i % messages;

	cJSON_AddStringToObject(body, "model", "claude-bench");
	cJSON_AddNumberToObject(body, "max_tokens", 8192);
	snprintf(id, sizeof(id), "user_%064d_account__session_%08x-58cc-4372-"
		 "a567-0e02b2c3d479", 7, session);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "metadata"),
				"user_id", id);
	system = cJSON_AddArrayToObject(body, "system");
	snprintf(text, sizeof(text), "You are a coding agent. Today's date "
		 "is 2025-06-%02d. Work in /tmp/tmp.%06d/src.", day,
		 session % 1000000);
	cJSON_AddItemToArray(system, cJSON_CreateString(text));

	list = cJSON_AddArrayToObject(body, "messages");
	for (int t = 0; t < turns; t++) {
		cJSON *m = cJSON_CreateObject();

		snprintf(text, sizeof(text), "%s%s conversation %d turn %d "
			 "ran in 0.%02ds", tool_output, tool_output, i, t,
			 (day * 7 + t) % 100);
		cJSON_AddStringToObject(m, "role",
					t % 2 ? "assistant" : "user");
		cJSON_AddStringToObject(m, "content", text);
		cJSON_AddItemToArray(list, m);
	}
	char *printed = cJSON_PrintUnformatted(body);

	cJSON_Delete(body);
	return printed;
}

static void fill(struct harness_request *r, char *body)
{
	memset(r, 0, sizeof(*r));
	r->method = strdup("POST");
	r->path = strdup("/v1/messages");
	r->body = (unsigned char *)body;
	r->body_len = strlen(body);
	harness_headers_add(&r->headers, "User-Agent", "bench/1.0");
	harness_headers_add(&r->headers, "Anthropic-Version", "2023-06-01");
}

struct job {
	struct harness_matcher *matcher;
	struct harness_request *live;
	int from, to, step;
	int mismatches;
};

static void *run_job(void *arg)
{
	struct job *job = arg;

	for (int i = job->from; i < job->to; i += job->step) {
		struct harness_match match;

		if (harness_matcher_find(job->matcher, &job->live[i], &match) ||
		    match.verdict == HARNESS_DIVERGED ||
		    match.index != (size_t)i)
			job->mismatches++;
		harness_match_release(&match);
	}
	return NULL;
}

static double find_round(const struct harness_exchange *exchanges, int n,
			 struct harness_normalizer *normalizer,
			 struct harness_request *live, int threads)
{
	struct harness_matcher *m = harness_matcher_new(exchanges, (size_t)n,
							normalizer, NULL, 0);
	pthread_t ids[2];
	struct job jobs[2];
	double start, seconds;
	int bad = 0;

	/* Only the finds are timed, not building the matcher. One thread
	 * is timed in CPU seconds, two on the wall clock. */
	start = threads == 1 ? cpu() : now();

	for (int t = 0; t < threads; t++) {
		jobs[t] = (struct job){ m, live, t, n, threads, 0 };
		pthread_create(&ids[t], NULL, run_job, &jobs[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(ids[t], NULL);
		bad += jobs[t].mismatches;
	}
	seconds = (threads == 1 ? cpu() : now()) - start;
	if (bad)
		fprintf(stderr, "match_bench: %d requests did not match\n",
			bad);
	harness_matcher_free(m);
	return seconds;
}

/* The seconds of *found finds: one round on two threads, enough rounds
 * for 20,000 finds on one. */
static double find_all(const struct harness_exchange *exchanges, int n,
		       struct harness_normalizer *normalizer,
		       struct harness_request *live, int threads, long *found)
{
	double seconds = 0;

	*found = 0;
	do {
		seconds += find_round(exchanges, n, normalizer, live, threads);
		*found += n;
	} while (threads == 1 && *found < 20000);
	return seconds;
}

static void bench_script(void)
{
	static const char text[] =
		"{\"turns\":[{\"text\":\"I will run the tests now.\","
		"\"tool_calls\":[{\"name\":\"bash\",\"arguments\":"
		"{\"command\":\"make test\"}}]}]}";
	int n = 20000;
	double start = cpu(), seconds;

	for (int i = 0; i < n; i++) {
		struct harness_script *s = harness_script_parse(
			text, sizeof(text) - 1, "bench.json");
		struct harness_request r = { 0 };
		struct harness_response response = { 0 };
		enum harness_outcome outcome;

		r.method = "POST";
		r.path = "/v1/messages";
		r.body = (unsigned char *)"{\"stream\":true}";
		r.body_len = 15;
		harness_script_respond(s, &r, &response, &outcome);
		harness_response_release(&response);
		harness_script_free(s);
	}
	seconds = cpu() - start;
	printf("scripted model: %d streamed responses in %.3f s, %.0f/s\n",
	       n, seconds, n / seconds);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int messages = argc > 2 ? atoi(argv[2]) : 40;
	struct harness_exchange *exchanges = calloc((size_t)n,
						    sizeof(*exchanges));
	struct harness_request *live = calloc((size_t)n, sizeof(*live));
	struct harness_normalizer *normalizer =
		harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	struct harness_matcher *m;
	size_t bytes = 0, largest = 0;
	double start, seconds;

	if (!exchanges || !live || !normalizer || n < 1 || messages < 1) {
		fprintf(stderr, "usage: match_bench [EXCHANGES [MESSAGES "
			"[OUT.json]]]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		exchanges[i].seq = (uint64_t)i + 1;
		fill(&exchanges[i].request,
		     conversation(i, messages, 1, 0x1111));
		fill(&live[i], conversation(i, messages, 2, 0x2222));
		bytes += live[i].body_len;
		if (live[i].body_len > live[largest].body_len)
			largest = (size_t)i;
	}
	printf("requests: %d, %.1f KiB on average, largest %.1f KiB\n", n,
	       bytes / 1024.0 / n, live[largest].body_len / 1024.0);

	start = cpu();
	m = harness_matcher_new(exchanges, (size_t)n, normalizer, NULL, 0);
	seconds = cpu() - start;
	printf("matcher_new: %.3f s, %.2f ms a recording\n", seconds,
	       seconds * 1000 / n);
	harness_matcher_free(m);

	for (int threads = 1; threads <= 2; threads++) {
		long found;

		if (threads == 2 && getenv("MATCH_BENCH_ONE"))
			break;
		seconds = find_all(exchanges, n, normalizer, live, threads,
				   &found);
		printf("find, %d thread%s: %ld in %.3f s, %.0f requests/s, "
		       "%.1f MB/s\n", threads, threads > 1 ? "s" : "", found,
		       seconds, found / seconds,
		       (double)bytes * found / n / seconds / 1e6);
	}

	start = cpu();
	for (int i = 0; i < n; i++)
		free(harness_canon_text(live[i].body, live[i].body_len));
	seconds = cpu() - start;
	printf("canonical JSON alone: %.0f requests/s, %.1f MB/s\n",
	       n / seconds, bytes / seconds / 1e6);

	start = cpu();
	for (int i = 0; i < 200; i++)
		free(harness_canon_text(live[largest].body,
					live[largest].body_len));
	seconds = cpu() - start;
	printf("canonical JSON of the largest body, 200 times: %.0f "
	       "bodies/s, %.1f MB/s\n", 200 / seconds,
	       200 * live[largest].body_len / seconds / 1e6);

	if (getenv("MATCH_BENCH_NO_SCRIPT") == NULL)
		bench_script();
	if (argc > 3) {
		FILE *out = fopen(argv[3], "w");

		if (!out)
			return 1;
		fwrite(live[largest].body, 1, live[largest].body_len, out);
		fclose(out);
	}

	for (int i = 0; i < n; i++) {
		harness_exchange_release(&exchanges[i]);
		harness_request_release(&live[i]);
	}
	free(exchanges);
	free(live);
	harness_normalizer_free(normalizer);
	return 0;
}
