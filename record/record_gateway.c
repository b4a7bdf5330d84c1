/*
 * record_gateway.c - the model gateway of a recording.
 *
 * Each upstream NAME=URL is reached at http://127.0.0.1:PORT/NAME, which
 * stands for URL: the gateway strips "/NAME" and puts the rest of the
 * path after URL's own. OPENAI_BASE_URL is announced for "openai",
 * ANTHROPIC_BASE_URL for "anthropic", RUNBUNDLE_<NAME>_BASE_URL for any
 * other name. The real key comes from runbundle's environment
 * (OPENAI_API_KEY, ANTHROPIC_API_KEY, <NAME>_API_KEY) and is injected by
 * the gateway; the agent gets a placeholder. A model script serves
 * every path, so both base URLs point at the gateway's root.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/gateway.h"
#include "harness/json_integer.h"
#include "harness/json_bytes.h"
#include "harness/model_script.h"
#include "record/record_gateway.h"
#include "sandbox/policy.h"

#define PLACEHOLDER_KEY "runbundle-placeholder-key"
#define MAX_ENV (2 * RECORD_MAX_UPSTREAMS + 8)

struct record_gateway {
	struct record_session *session;
	struct harness_gateway *gateway;
	struct harness_script *script;	/* the config's, borrowed */
	struct harness_upstream upstreams[RECORD_MAX_UPSTREAMS];
	char *names[RECORD_MAX_UPSTREAMS];
	char *env[MAX_ENV + 1];
	size_t n_env;
	int listen_fd;		/* owned, or -1 */
};

static void fail(struct record_session *s, const char *message,
		 const char *hint)
{
	pthread_mutex_lock(&s->lock);
	record_fail_locked(s, message, hint);
	pthread_mutex_unlock(&s->lock);
}

/* The state the model is asked about: a snapshot before forwarding. */
static int before_forward(void *ctx, const struct harness_exchange *ex)
{
	struct record_gateway *g = ctx;

	return record_snapshot_workspace(g->session, "request", ex->seq);
}

static cJSON *exchange_data(const struct harness_exchange *ex)
{
	cJSON *data = cJSON_CreateObject();

	cJSON_AddNumberToObject(data, "seq", (double)ex->seq);
	cJSON_AddStringToObject(data, "upstream", ex->upstream);
	cJSON_AddStringToObject(data, "method", ex->request.method);
	cJSON_AddItemToObject(data, "path",
			      harness_json_text(ex->request.path));
	cJSON_AddNumberToObject(data, "status", ex->response.status);
	cJSON_AddStringToObject(data, "outcome",
				harness_outcome_name(ex->outcome));
	if (ex->failure)
		cJSON_AddStringToObject(data, "failure", ex->failure);
	/* cJSON's %g would print a start time that ends in a zero in
	 * exponent form, which readers that expect an integer reject. */
	harness_json_add_integer(data, "started_unix_us",
				 ex->started_unix_us);
	harness_json_add_integer(data, "duration_us", ex->duration_us);
	return data;
}

/*
 * Return a copy of what failed in ex on the upstream's or the script's
 * side, or NULL when it completed or the agent left first. The
 * recording goes on after such a failure, and the agent got an error
 * that it may not show, so the recorder names it. The text was masked
 * by the gateway.
 */
static char *upstream_failure(const struct harness_exchange *ex)
{
	if (ex->outcome == HARNESS_COMPLETE ||
	    ex->outcome == HARNESS_CLIENT_ABORTED || !ex->failure)
		return NULL;
	return strdup(ex->failure);
}

/* The exchange goes in as its byte-exact JSON form (exchange_json.h). */
static void finished(void *ctx, struct harness_exchange *ex)
{
	struct record_gateway *g = ctx;
	struct record_session *s = g->session;
	char *text = harness_exchange_to_json(ex);
	cJSON *data = exchange_data(ex);
	uint64_t seq = ex->seq;
	char *failed = upstream_failure(ex);

	/* Released before the text is queued: a long response's chunks and
	 * their text need not be in memory together any longer. */
	harness_exchange_release(ex);
	free(ex);
	if (!text) {
		cJSON_Delete(data);
		free(failed);
		fail(s, harness_error(), NULL);
		return;
	}
	record_count(s, &s->counts.model_calls, 1);
	if (failed)
		cli_error("warning: model request %" PRIu64 " failed: %s",
			  seq, failed);
	free(failed);
	record_submit(s, "exchange", data, NULL, BUNDLE_JSON, text,
		      strlen(text));
}

/*
 * Store a replayed request that matched no recording as a "divergence"
 * event, with the gateway's report as its object, so that the replay's
 * bundle records on its own that it diverged (gate reads it).
 */
static void diverged(void *ctx, const struct harness_exchange *ex,
		     const char *report)
{
	struct record_gateway *g = ctx;
	cJSON *data = cJSON_CreateObject();
	char *bytes = strdup(report);

	if (!data || !bytes) {
		cJSON_Delete(data);
		free(bytes);
		fail(g->session, "cannot record a divergence: out of memory",
		     NULL);
		return;
	}
	cJSON_AddStringToObject(data, "verdict", "diverged");
	/* Request k of a run ends its step k (replay/replay.h). */
	cJSON_AddNumberToObject(data, "step", (double)ex->seq);
	cJSON_AddStringToObject(data, "method", ex->request.method);
	cJSON_AddItemToObject(data, "path",
			      harness_json_text(ex->request.path));
	record_submit(g->session, "divergence", data, NULL, BUNDLE_JSON,
		      bytes, strlen(bytes));
}

static int add_env(struct record_gateway *g, const char *name,
		   const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;
	char *entry = malloc(len);

	if (!entry || g->n_env == MAX_ENV) {
		free(entry);
		return -1;
	}
	snprintf(entry, len, "%s=%s", name, value);
	g->env[g->n_env++] = entry;
	return 0;
}

/* "openai" -> "OPENAI"; other characters become '_'. */
static void upper_name(char *dst, size_t len, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		dst[i] = isalnum((unsigned char)name[i])
				 ? (char)toupper((unsigned char)name[i])
				 : '_';
	dst[i] = '\0';
}

void record_gateway_key_name(char *dst, size_t len, const char *pair)
{
	char name[128], upper[128];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(pair, "="), pair);
	upper_name(upper, sizeof(upper), name);
	snprintf(dst, len, "%s_API_KEY", upper);
}

int record_gateway_check_pair(const struct cli_command *self,
			      const char *pair)
{
	const char *eq = strchr(pair, '=');
	char name[128], key[160], hint[512];
	struct harness_upstream up = {.name = name};

	snprintf(name, sizeof(name), "%.*s",
		 (int)(eq ? eq - pair : (ptrdiff_t)strlen(pair)), pair);
	up.url = eq ? eq + 1 : NULL;
	if (harness_upstream_check(&up) == 0)
		return 0;
	if (!strstr(harness_error(), "password"))
		return cli_usage_hint(self, harness_error_hint(), "%s",
				      harness_error());
	record_gateway_key_name(key, sizeof(key), pair);
	snprintf(hint, sizeof(hint), "drop the credentials from the URL and "
		 "set %s in runbundle's environment to the key, which "
		 "runbundle sends upstream (docs/record.md)", key);
	return cli_usage_hint(self, hint, "%s", harness_error());
}

int record_gateway_check_keys(const struct record_config *config)
{
	char key[160];

	for (size_t i = 0; i < config->n_upstreams; i++) {
		const char *pair = config->upstreams[i];
		const char *value;

		record_gateway_key_name(key, sizeof(key), pair);
		value = getenv(key);
		if (!value) {
			cli_error("warning: %s is not set, so the requests to "
				  "upstream '%.*s' go without a key", key,
				  (int)strcspn(pair, "="), pair);
			continue;
		}
		if (harness_secret_bad_byte(value) >= 0) {
			cli_error("cannot use the key of upstream '%.*s': "
				  "'%s': byte %ld is a control character, "
				  "which cannot go into a header",
				  (int)strcspn(pair, "="), pair, key,
				  harness_secret_bad_byte(value) + 1);
			cli_hint("remove the line end from %s (a key file "
				 "saved with CRLF line ends adds a CR)", key);
			return -1;
		}
		if (strlen(value) >= HARNESS_SECRET_MIN)
			continue;
		cli_error("cannot use the key of upstream '%.*s': '%s': "
			  "%zu characters, too short to mask in the bundle",
			  (int)strcspn(pair, "="), pair, key, strlen(value));
		cli_hint("set %s to the real key (at least %d characters), "
			 "or unset it", key, HARNESS_SECRET_MIN);
		return -1;
	}
	return 0;
}

static int set_upstream(struct record_gateway *g, size_t i, const char *pair)
{
	struct harness_upstream *u = &g->upstreams[i];
	const char *eq = strchr(pair, '=');
	char key[160];

	g->names[i] = strndup(pair, (size_t)(eq - pair));
	if (!g->names[i])
		return -1;
	u->name = g->names[i];
	u->url = eq + 1;
	record_gateway_key_name(key, sizeof(key), pair);
	u->secret = getenv(key);
	if (!u->secret)
		return 0;
	if (strlen(u->secret) >= HARNESS_SECRET_MIN &&
	    harness_secrets_add(&g->session->secrets, u->secret) < 0)
		return -1;
	if (strcmp(u->name, "anthropic") == 0) {
		u->auth_header = "x-api-key";
		u->auth_prefix = "";
	} else {
		u->auth_header = "Authorization";
		u->auth_prefix = "Bearer ";
	}
	return 0;
}

static int announce(struct record_gateway *g, unsigned short port)
{
	const struct record_config *c = g->session->config;
	char url[256], name[192], upper[128];
	int rc = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	rc |= add_env(g, "RUNBUNDLE_GATEWAY_URL", url);
	rc |= add_env(g, "OPENAI_API_KEY", PLACEHOLDER_KEY);
	rc |= add_env(g, "ANTHROPIC_API_KEY", PLACEHOLDER_KEY);
	if (c->model_script) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1",
			 (unsigned)port);
		rc |= add_env(g, "OPENAI_BASE_URL", url);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u",
			 (unsigned)port);
		return rc | add_env(g, "ANTHROPIC_BASE_URL", url);
	}
	for (size_t i = 0; i < c->n_upstreams; i++) {
		const char *n = g->upstreams[i].name;

		upper_name(upper, sizeof(upper), n);
		snprintf(name, sizeof(name), "%s%s_BASE_URL",
			 strcmp(n, "openai") && strcmp(n, "anthropic")
				 ? "RUNBUNDLE_" : "", upper);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/%s",
			 (unsigned)port, n);
		rc |= add_env(g, name, url);
	}
	return rc;
}

static int prepare(struct record_gateway *g)
{
	const struct record_config *c = g->session->config;

	for (size_t i = 0; i < c->n_upstreams; i++) {
		if (set_upstream(g, i, c->upstreams[i]) < 0)
			return -1;
	}
	if (!c->replay && !c->replaying)
		g->script = c->script;
	return 0;
}

int record_gateway_new(struct record_session *s, struct record_gateway **out)
{
	const struct record_config *c = s->config;
	struct record_gateway *g;

	*out = NULL;
	if (!c->model_script && c->n_upstreams == 0 && !c->replay)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g) {
		fail(s, "cannot start the model gateway: out of memory", NULL);
		return -1;
	}
	g->session = s;
	g->listen_fd = -1;
	if (prepare(g) < 0) {
		fail(s, harness_error(), harness_error_hint());
		record_gateway_stop(g);
		return -1;
	}
	*out = g;
	return 0;
}

int record_gateway_listen(struct record_gateway *g, int listen_fd)
{
	const struct sandbox_strings *rules =
		&g->session->config->policy->match_rules;
	struct harness_gateway_config gc = {
		.listen_fd = listen_fd,
		.upstreams = g->upstreams,
		.n_upstreams = g->session->config->n_upstreams,
		.script = g->script,
		.recorded = g->session->config->replay,
		.n_recorded = g->session->config->n_replay,
		.replay = g->session->config->replaying,
		.fast = g->session->config->replay_fast,
		.max_response_body = g->session->config->max_response_body,
		.on_divergence = g->session->config->on_divergence,
		.match_rules = (const char *const *)rules->items,
		.n_match_rules = rules->count,
		.sink = { .before_forward = before_forward,
			  .finished = finished,
			  .diverged = diverged,
			  .ctx = g },
	};

	g->listen_fd = listen_fd;
	g->gateway = harness_gateway_start(&gc);
	if (!g->gateway) {
		fail(g->session, harness_error(), harness_error_hint());
		return -1;
	}
	return 0;
}

char *const *record_gateway_env(struct record_gateway *g,
				unsigned short port)
{
	if (!g)
		return NULL;
	if (g->n_env == 0 &&
	    announce(g, port ? port : harness_gateway_port(g->gateway)) < 0)
		return NULL;
	return g->env;
}

void record_gateway_stop(struct record_gateway *g)
{
	if (!g)
		return;
	harness_gateway_stop(g->gateway);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	for (size_t i = 0; i < RECORD_MAX_UPSTREAMS; i++)
		free(g->names[i]);
	for (size_t i = 0; i < g->n_env; i++)
		free(g->env[i]);
	free(g);
}
