/*
 * cmd_gateway.c - "runbundle gateway": the model gateway on its own, for
 * testing agents. It serves until SIGINT or SIGTERM and writes each
 * finished exchange to a JSON Lines file or a directory (one JSON file
 * per exchange), in the form that exchange_json.h describes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/gateway.h"
#include "harness/json_bytes.h"
#include "harness/model_script.h"
#include "harness/normalize.h"
#include "harness/redact.h"
#include "record/commands.h"

#define MAX_LIST 32

struct options {
	const char *listen;
	int listen_fd;
	struct harness_upstream upstreams[MAX_LIST];
	size_t n_upstreams;
	const char *auth[MAX_LIST];
	size_t n_auth;
	const char *secrets[MAX_LIST];
	size_t n_secrets;
	const char *ignore_headers[MAX_LIST];
	size_t n_ignore_headers;
	const char *match_rules[MAX_LIST];
	size_t n_match_rules;
	const char *script;
	const char *replay;
	const char *record;
	const char *divergences;
	const char *port_file;
	int fast;
	enum harness_divergence_action on_divergence;
	size_t max_request_body;
	size_t max_response_body;
	unsigned connect_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned agent_timeout_ms;
};

/* The destinations of finished exchanges and divergence reports. */
struct output {
	FILE *record;		/* JSON Lines, or NULL */
	const char *record_dir; /* one file per exchange, or NULL */
	FILE *divergences;
	size_t exchanges;	    /* finished so far */
	int failed;		    /* writes that failed, reported at exit */
	char failed_path[PATH_MAX]; /* the first one */
	char failed_why[256];
};

enum {
	OPT_LISTEN_FD = 256,
	OPT_AUTH,
	OPT_REDACT_ENV,
	OPT_IGNORE_HEADER,
	OPT_MATCH_RULE,
	OPT_MODEL_SCRIPT,
	OPT_REPLAY,
	OPT_RECORD,
	OPT_DIVERGENCES,
	OPT_PORT_FILE,
	OPT_TIMING,
	OPT_ON_DIVERGENCE,
	OPT_MAX_BODY,
	OPT_MAX_RESPONSE,
	OPT_CONNECT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_AGENT_TIMEOUT,
};

static const struct option long_options[] = {
	{"listen", required_argument, NULL, 'l'},
	{"listen-fd", required_argument, NULL, OPT_LISTEN_FD},
	{"upstream", required_argument, NULL, 'u'},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"redact-env", required_argument, NULL, OPT_REDACT_ENV},
	{"ignore-header", required_argument, NULL, OPT_IGNORE_HEADER},
	{"match-rule", required_argument, NULL, OPT_MATCH_RULE},
	{"model-script", required_argument, NULL, OPT_MODEL_SCRIPT},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"record", required_argument, NULL, OPT_RECORD},
	{"divergences", required_argument, NULL, OPT_DIVERGENCES},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"timing", required_argument, NULL, OPT_TIMING},
	{"on-divergence", required_argument, NULL, OPT_ON_DIVERGENCE},
	{"max-request-body", required_argument, NULL, OPT_MAX_BODY},
	{"max-response-body", required_argument, NULL, OPT_MAX_RESPONSE},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT},
	{NULL, 0, NULL, 0},
};

static int add_to_list(const struct cli_command *self, const char **list,
		       size_t *count, const char *value)
{
	if (*count == MAX_LIST)
		return cli_usage_error(self,
				       "too many values: '%s': at most "
				       "%d of each option",
				       value, MAX_LIST);
	list[(*count)++] = value;
	return 0;
}

static int parse_upstream(const struct cli_command *self, struct options *o,
			  char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1])
		return cli_usage_error(self,
				       "invalid upstream: '%s': "
				       "expected NAME=URL",
				       arg);
	if (o->n_upstreams == MAX_LIST)
		return cli_usage_error(self, "too many upstreams: '%s'", arg);
	*eq = '\0';
	o->upstreams[o->n_upstreams].name = arg;
	o->upstreams[o->n_upstreams].url = eq + 1;
	if (harness_upstream_check(&o->upstreams[o->n_upstreams]) < 0)
		return cli_usage_hint(self, harness_error_hint(), "%s",
				      harness_error());
	o->n_upstreams++;
	return 0;
}

static int parse_number(const struct cli_command *self, const char *option,
			const char *arg, unsigned long long max,
			unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || *out > max)
		return cli_usage_error(self,
				       "invalid %s: '%s': expected a "
				       "whole number up to %llu",
				       option, arg, max);
	return 0;
}

static int parse_choice(const struct cli_command *self, struct options *o,
			int opt, const char *arg)
{
	if (opt == OPT_TIMING) {
		if (strcmp(arg, "recorded") == 0 || strcmp(arg, "fast") == 0) {
			o->fast = strcmp(arg, "fast") == 0;
			return 0;
		}
		return cli_usage_error(self,
				       "invalid --timing: '%s': expected "
				       "'recorded' or 'fast'",
				       arg);
	}
	if (strcmp(arg, "stop") == 0)
		o->on_divergence = HARNESS_DIVERGE_STOP;
	else if (strcmp(arg, "closest") == 0)
		o->on_divergence = HARNESS_DIVERGE_CLOSEST;
	else if (strcmp(arg, "forward") == 0)
		o->on_divergence = HARNESS_DIVERGE_FORWARD;
	else
		return cli_usage_error(self,
				       "invalid --on-divergence: '%s': "
				       "expected 'stop', 'closest' or "
				       "'forward'",
				       arg);
	return 0;
}

static int parse_limit(const struct cli_command *self, struct options *o,
		       int opt, const char *arg)
{
	unsigned long long n;

	if (opt == OPT_MAX_RESPONSE) {
		if (cli_parse_response_limit(self, arg,
					     &o->max_response_body) != 0)
			return CLI_EXIT_USAGE;
		return 0;
	}
	if (opt == OPT_MAX_BODY) {
		if (parse_number(self, "--max-request-body", arg, SIZE_MAX / 2,
				 &n) != 0)
			return CLI_EXIT_USAGE;
		/* A limit of 0 would reject every request that has a body
		 * with 413, so it is rejected rather than given a meaning. */
		if (n == 0) {
			cli_usage_error(self,
					"invalid --max-request-body: '%s': "
					"must be at least 1 byte",
					arg);
			cli_hint("give the limit in bytes, or leave the "
				 "option out for the default of 64 MiB");
			return CLI_EXIT_USAGE;
		}
		o->max_request_body = (size_t)n;
		return 0;
	}
	if (parse_number(self,
			 opt == OPT_CONNECT_TIMEOUT ? "--connect-timeout"
			 : opt == OPT_IDLE_TIMEOUT  ? "--idle-timeout"
						    : "--agent-timeout",
			 arg, UINT_MAX, &n) != 0)
		return CLI_EXIT_USAGE;
	if (n == 0)
		return cli_usage_error(self,
				       "invalid timeout: '%s': must be "
				       "at least 1 ms",
				       arg);
	if (opt == OPT_CONNECT_TIMEOUT)
		o->connect_timeout_ms = (unsigned)n;
	else if (opt == OPT_IDLE_TIMEOUT)
		o->idle_timeout_ms = (unsigned)n;
	else
		o->agent_timeout_ms = (unsigned)n;
	return 0;
}

static int parse_option(const struct cli_command *self, struct options *o,
			int opt, char *arg)
{
	unsigned long long fd;

	switch (opt) {
	case 'l':
		o->listen = arg;
		return 0;
	case OPT_LISTEN_FD:
		if (parse_number(self, "--listen-fd", arg, INT_MAX, &fd) != 0)
			return CLI_EXIT_USAGE;
		o->listen_fd = (int)fd;
		return 0;
	case 'u':
		return parse_upstream(self, o, arg);
	case OPT_AUTH:
		return add_to_list(self, o->auth, &o->n_auth, arg);
	case OPT_REDACT_ENV:
		return add_to_list(self, o->secrets, &o->n_secrets, arg);
	case OPT_IGNORE_HEADER:
		return add_to_list(self, o->ignore_headers,
				   &o->n_ignore_headers, arg);
	case OPT_MATCH_RULE:
		/* Checked here, as replay and diff check it: only a replay
		 * compiles the rules, and a mistake is a bad command line
		 * in every mode. */
		if (harness_rule_check(arg) < 0)
			return cli_usage_error(self, "invalid --match-rule: "
					       "%s", harness_error());
		return add_to_list(self, o->match_rules, &o->n_match_rules,
				   arg);
	case OPT_MODEL_SCRIPT:
		o->script = arg;
		return 0;
	case OPT_REPLAY:
		o->replay = arg;
		return 0;
	case OPT_RECORD:
		o->record = arg;
		return 0;
	case OPT_DIVERGENCES:
		o->divergences = arg;
		return 0;
	case OPT_PORT_FILE:
		o->port_file = arg;
		return 0;
	case OPT_TIMING:
	case OPT_ON_DIVERGENCE:
		return parse_choice(self, o, opt, arg);
	default:
		return parse_limit(self, o, opt, arg);
	}
}

static struct harness_upstream *find_upstream(struct options *o,
					      const char *name, size_t len)
{
	for (size_t i = 0; i < o->n_upstreams; i++) {
		if (strlen(o->upstreams[i].name) == len &&
		    strncmp(o->upstreams[i].name, name, len) == 0)
			return &o->upstreams[i];
	}
	return NULL;
}

/* Reject value, of the environment variable name, when it is unset or
 * too short to mask in the records. what is "credential" or "secret".
 * Returns 0 or CLI_EXIT_ERROR. */
static int check_variable(const char *what, const char *name,
			  const char *value, const char *fix)
{
	if (!value || !*value) {
		cli_error("missing %s: '%s': the environment variable is "
			  "not set",
			  what, name);
		cli_hint("%s", fix);
		return CLI_EXIT_ERROR;
	}
	if (strlen(value) < HARNESS_SECRET_MIN) {
		cli_error("invalid %s: '%s': its value has %zu characters, "
			  "fewer than the %d needed to mask it in records",
			  what, name, strlen(value), HARNESS_SECRET_MIN);
		cli_hint("%s", fix);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

/* --auth NAME=VAR[:HEADER]: the upstream NAME gets the value of the
 * environment variable VAR in HEADER, "Authorization: Bearer" by
 * default. */
static int apply_auth(const struct cli_command *self, struct options *o,
		      const char *arg)
{
	const char *eq = strchr(arg, '='), *colon, *value;
	struct harness_upstream *up;
	static char names[MAX_LIST][256];
	static size_t n_names;
	char fix[320];
	size_t len;

	if (!eq || eq == arg || !eq[1])
		return cli_usage_error(self,
				       "invalid --auth: '%s': expected "
				       "NAME=VARIABLE[:HEADER]",
				       arg);
	up = find_upstream(o, arg, (size_t)(eq - arg));
	if (!up)
		return cli_usage_error(self,
				       "invalid --auth: '%s': no "
				       "--upstream has that name",
				       arg);
	colon = strchr(eq + 1, ':');
	len = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
	if (len == 0 || len >= sizeof(names[0]) || n_names == MAX_LIST)
		return cli_usage_error(self,
				       "invalid --auth: '%s': expected "
				       "NAME=VARIABLE[:HEADER]",
				       arg);
	memcpy(names[n_names], eq + 1, len);
	names[n_names][len] = '\0';
	value = getenv(names[n_names]);
	snprintf(fix, sizeof(fix), "export %s with the upstream's API key",
		 names[n_names]);
	if (check_variable("credential", names[n_names], value, fix))
		return CLI_EXIT_ERROR;
	n_names++;
	up->secret = value;
	up->auth_header = colon && colon[1] ? colon + 1 : "Authorization";
	up->auth_prefix = strcasecmp(up->auth_header, "authorization") == 0
				  ? "Bearer "
				  : "";
	return 0;
}

static int resolve_secrets(const struct cli_command *self, struct options *o)
{
	int rc;

	for (size_t i = 0; i < o->n_auth; i++) {
		rc = apply_auth(self, o, o->auth[i]);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < o->n_secrets; i++) {
		const char *value = getenv(o->secrets[i]);
		char fix[320];

		snprintf(fix, sizeof(fix), "export it, or drop --redact-env %s",
			 o->secrets[i]);
		if (check_variable("secret", o->secrets[i], value, fix))
			return CLI_EXIT_ERROR;
		o->secrets[i] = value;
	}
	return 0;
}

static int check_mode(const struct cli_command *self, const struct options *o)
{
	int modes =
		(o->n_upstreams > 0 && !o->replay) + !!o->script + !!o->replay;

	if (modes == 0)
		return cli_usage_error(self, "missing mode: give --upstream, "
					     "--model-script or --replay");
	if (modes > 1 || (o->script && o->n_upstreams))
		return cli_usage_error(self, "conflicting modes: give one of "
					     "--upstream, --model-script and "
					     "--replay");
	if (o->on_divergence == HARNESS_DIVERGE_FORWARD && !o->n_upstreams)
		return cli_usage_error(self, "--on-divergence forward needs "
					     "an --upstream to forward to");
	return 0;
}

static int parse_options(const struct cli_command *self, struct options *o,
			 int argc, char **argv)
{
	int opt, rc;

	o->listen_fd = -1;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:l:u:", long_options, NULL)) !=
	       -1) {
		if (opt == '?' || opt == ':')
			return cli_option_error(self, opt, argv);
		if (cli_short_value_check(self, long_options, opt, argv))
			return CLI_EXIT_USAGE;
		rc = parse_option(self, o, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(self, "unexpected argument: '%s'",
				       argv[optind]);
	rc = check_mode(self, o);
	return rc ? rc : resolve_secrets(self, o);
}

/* Split "HOST:PORT", "[V6]:PORT" or ":PORT" into host and port. */
static int parse_listen(const struct cli_command *self, const char *arg,
			char *host, size_t host_len, unsigned short *port)
{
	const char *colon = strrchr(arg, ':');
	const char *start = arg, *end = colon;
	struct in6_addr addr;
	unsigned long long n;

	if (!colon)
		return cli_usage_error(self,
				       "invalid --listen: '%s': expected "
				       "HOST:PORT",
				       arg);
	if (*arg == '[' && colon > arg && colon[-1] == ']') {
		start = arg + 1;
		end = colon - 1;
	}
	if ((size_t)(end - start) >= host_len)
		return cli_usage_error(self,
				       "invalid --listen: '%s': host "
				       "too long",
				       arg);
	snprintf(host, host_len, "%.*s", (int)(end - start), start);
	if (!*host || strcmp(host, "localhost") == 0)
		snprintf(host, host_len, "127.0.0.1");
	/* Checked here, before any file is opened; the gateway binds only
	 * numeric addresses, so that no name lookup leaves the machine. */
	if (inet_pton(AF_INET, host, &addr) != 1 &&
	    inet_pton(AF_INET6, host, &addr) != 1)
		return cli_usage_error(self,
				       "invalid --listen: '%s': the host is "
				       "not a numeric IP address",
				       arg);
	if (parse_number(self, "--listen port", colon + 1, 65535, &n) != 0)
		return CLI_EXIT_USAGE;
	*port = (unsigned short)n;
	return 0;
}

static void note_failure(struct output *out, const char *what, const char *why)
{
	if (out->failed++)
		return;
	snprintf(out->failed_path, sizeof(out->failed_path), "%s", what);
	snprintf(out->failed_why, sizeof(out->failed_why), "%s", why);
}

static void write_to_dir(struct output *out, const struct harness_exchange *ex,
			 const char *json)
{
	char path[PATH_MAX];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%06" PRIu64 ".json", out->record_dir,
		 ex->seq);
	file = fopen(path, "w");
	if (!file) {
		note_failure(out, path, strerror(errno));
		return;
	}
	if (fprintf(file, "%s\n", json) < 0)
		note_failure(out, path, strerror(errno));
	if (fclose(file) != 0)
		note_failure(out, path, strerror(errno));
}

/* Log an exchange that did not complete; its failure text is redacted
 * already. */
static void log_failure(const struct harness_exchange *ex)
{
	char path[256], failure[512];

	if (ex->outcome == HARNESS_COMPLETE)
		return;
	cli_sanitize(path, sizeof(path), ex->request.path);
	cli_sanitize(failure, sizeof(failure), ex->failure ? ex->failure : "");
	fprintf(stderr, "gateway: exchange %" PRIu64 " (%s %s): %s: %s\n",
		ex->seq, ex->request.method, path,
		harness_outcome_name(ex->outcome), failure);
}

static void on_finished(void *ctx, struct harness_exchange *ex)
{
	struct output *out = ctx;
	char *json = harness_exchange_to_json(ex);

	out->exchanges++;
	log_failure(ex);
	if (!json) {
		note_failure(out, "exchange", harness_error());
	} else if (out->record_dir) {
		write_to_dir(out, ex, json);
	} else if (out->record) {
		if (fprintf(out->record, "%s\n", json) < 0 ||
		    fflush(out->record) != 0)
			note_failure(out, "record file", strerror(errno));
	}
	free(json);
	harness_exchange_release(ex);
	free(ex);
}

/* Return a new copy of a diff entry's path, which is in base64 under
 * path_base64 when it is not UTF-8, or NULL. */
static char *diff_path(const cJSON *diff)
{
	const cJSON *path = cJSON_GetObjectItem(diff, "path");
	const cJSON *b64 = cJSON_GetObjectItem(diff, "path_base64");
	unsigned char *bytes;
	size_t len;

	if (cJSON_IsString(path))
		return strdup(path->valuestring);
	if (!cJSON_IsString(b64) ||
	    harness_base64_decode(b64->valuestring, &bytes, &len) < 0)
		return NULL;
	return (char *)bytes;
}

static void print_divergence(const struct harness_exchange *ex,
			     const char *report)
{
	cJSON *root = cJSON_Parse(report);
	const cJSON *closest = cJSON_GetObjectItem(root, "closest");
	const cJSON *diffs = cJSON_GetObjectItem(root, "differences");
	const cJSON *diff;
	char target[256];

	cli_sanitize(target, sizeof(target), ex->request.path);
	if (cJSON_IsObject(closest))
		cli_error("replay diverged: '%s %s': closest recording is "
			  "exchange %.0f%s",
			  ex->request.method, target,
			  cJSON_GetObjectItem(closest, "seq")->valuedouble,
			  cJSON_IsTrue(cJSON_GetObjectItem(closest, "used")) ?
			  ", served to an earlier request already" : "");
	else
		cli_error("replay diverged: '%s %s': no recording for this "
			  "endpoint",
			  ex->request.method, target);
	cJSON_ArrayForEach(diff, diffs)
	{
		const cJSON *class = cJSON_GetObjectItem(diff, "class");
		char *path = diff_path(diff);

		if (path && cJSON_IsString(class)) {
			cli_sanitize(target, sizeof(target), path);
			fprintf(stderr, "  %s %s\n", class->valuestring,
				target);
		}
		free(path);
	}
	cJSON_Delete(root);
}

static void on_diverged(void *ctx, const struct harness_exchange *ex,
			const char *report)
{
	struct output *out = ctx;

	print_divergence(ex, report);
	if (out->divergences &&
	    (fprintf(out->divergences, "%s\n", report) < 0 ||
	     fflush(out->divergences) != 0))
		note_failure(out, "divergence file", strerror(errno));
}

static int open_outputs(const struct options *o, struct output *out)
{
	struct stat st;

	if (o->record && stat(o->record, &st) == 0 && S_ISDIR(st.st_mode)) {
		out->record_dir = o->record;
	} else if (o->record) {
		out->record = fopen(o->record, "w");
		if (!out->record) {
			cli_error("cannot open record file: '%s': %s",
				  o->record, strerror(errno));
			return CLI_EXIT_ERROR;
		}
	}
	if (o->divergences) {
		out->divergences = fopen(o->divergences, "w");
		if (!out->divergences) {
			cli_error("cannot open divergence file: '%s': %s",
				  o->divergences, strerror(errno));
			return CLI_EXIT_ERROR;
		}
	}
	return 0;
}

static void close_outputs(struct output *out)
{
	if (out->record && fclose(out->record) != 0)
		note_failure(out, "record file", strerror(errno));
	if (out->divergences && fclose(out->divergences) != 0)
		note_failure(out, "divergence file", strerror(errno));
	out->record = out->divergences = NULL;
}

static int write_port_file(const char *path, unsigned short port)
{
	char tmp[PATH_MAX];
	FILE *file;

	/* Written whole under a temporary name, so that a script polling
	 * for the file never reads half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	file = fopen(tmp, "w");
	if (!file || fprintf(file, "%u\n", port) < 0 || fclose(file) != 0 ||
	    rename(tmp, path) != 0) {
		cli_error("cannot write port file: '%s': %s", path,
			  strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static void fill_config(const struct options *o, struct output *out,
			struct harness_gateway_config *config)
{
	config->listen_fd = o->listen_fd;
	config->upstreams = o->upstreams;
	config->n_upstreams = o->n_upstreams;
	config->secrets = o->secrets;
	config->n_secrets = o->n_secrets;
	config->max_request_body = o->max_request_body;
	config->max_response_body = o->max_response_body;
	config->connect_timeout_ms = o->connect_timeout_ms;
	config->idle_timeout_ms = o->idle_timeout_ms;
	config->agent_timeout_ms = o->agent_timeout_ms;
	config->fast = o->fast;
	config->on_divergence = o->on_divergence;
	config->ignore_headers = o->ignore_headers;
	config->n_ignore_headers = o->n_ignore_headers;
	config->match_rules = o->match_rules;
	config->n_match_rules = o->n_match_rules;
	config->sink.finished = on_finished;
	config->sink.diverged = on_diverged;
	config->sink.ctx = out;
}

/* Print the base URL, and the one of each upstream for the agent's
 * OPENAI_BASE_URL and the like. */
static void print_addresses(const struct harness_gateway_config *c,
			    const struct harness_gateway *gw)
{
	const char *host = *harness_gateway_host(gw) ? harness_gateway_host(gw)
			   : c->listen_host ? c->listen_host : "127.0.0.1";
	unsigned short port = harness_gateway_port(gw);
	char base[300];

	snprintf(base, sizeof(base),
		 strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
		 port);
	printf("gateway: listening on %s\n", base);
	for (size_t i = 0; i < c->n_upstreams; i++)
		printf("gateway: upstream '%s' at %s/%s\n",
		       c->upstreams[i].name, base, c->upstreams[i].name);
	fflush(stdout);
}

/* Serve until SIGINT or SIGTERM, which are blocked in every thread and
 * taken here with sigwait(). */
static int serve(const struct options *o, struct harness_gateway_config *c,
		 struct output *out, const sigset_t *stop)
{
	struct harness_gateway *gw;
	size_t diverged, unused;
	int sig;

	gw = harness_gateway_start(c);
	if (!gw)
		return cli_error_from(harness_error(), harness_error_hint());
	print_addresses(c, gw);
	if (o->port_file &&
	    write_port_file(o->port_file, harness_gateway_port(gw)) != 0) {
		harness_gateway_stop(gw);
		return CLI_EXIT_ERROR;
	}
	sigwait(stop, &sig);
	diverged = harness_gateway_divergences(gw);
	unused = harness_gateway_unused(gw);
	harness_gateway_stop(gw);
	fprintf(stderr, "gateway: stopped after %zu exchange%s", out->exchanges,
		out->exchanges == 1 ? "" : "s");
	if (c->recorded)
		fprintf(stderr, "; %zu diverged, %zu recordings unused",
			diverged, unused);
	fputc('\n', stderr);
	return diverged > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int load_inputs(const struct options *o,
		       struct harness_gateway_config *config,
		       struct harness_exchange **recorded)
{
	size_t n = 0;

	if (o->script) {
		config->script = harness_script_load(o->script);
		if (!config->script)
			return cli_error_from(harness_error(),
					      harness_error_hint());
	}
	if (o->replay) {
		if (harness_exchanges_load(o->replay, recorded, &n) < 0)
			return cli_error_from(harness_error(),
					      harness_error_hint());
		config->recorded = *recorded;
		config->n_recorded = n;
		config->replay = 1;
	}
	return 0;
}

static int run(const struct cli_command *self, struct options *o)
{
	struct harness_gateway_config config = {0};
	struct output out = {0};
	struct harness_exchange *recorded = NULL;
	char host[256] = "127.0.0.1";
	sigset_t stop;
	int rc;

	if (o->listen && (rc = parse_listen(self, o->listen, host, sizeof(host),
					    &config.port)))
		return rc;
	config.listen_host = host;
	fill_config(o, &out, &config);
	rc = load_inputs(o, &config, &recorded);
	if (rc == 0)
		rc = open_outputs(o, &out);
	if (rc == 0) {
		sigemptyset(&stop);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &stop, NULL);
		rc = serve(o, &config, &out, &stop);
	}
	close_outputs(&out);
	if (out.failed && rc != CLI_EXIT_USAGE) {
		cli_error("cannot write exchange: '%s': %s (%d writes "
			  "failed)",
			  out.failed_path, out.failed_why, out.failed);
		rc = CLI_EXIT_ERROR;
	}
	harness_exchanges_free(recorded, config.n_recorded);
	harness_script_free(config.script);
	return rc;
}

int cmd_gateway(int argc, char **argv, const struct cli_command *self)
{
	struct options o = {0};
	int rc = parse_options(self, &o, argc, argv);

	return rc ? rc : run(self, &o);
}
