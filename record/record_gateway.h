/*
 * record_gateway.h - the model gateway of a recording: started when
 * --upstream or --model-script requests it, announced to the agent
 * through the base URL variables that agents read, and feeding the
 * session a snapshot before each request and an "exchange" event after.
 */
#ifndef RECORD_RECORD_GATEWAY_H
#define RECORD_RECORD_GATEWAY_H

#include "record/record.h"

/*
 * Prepare the gateway when the command line requests one: the
 * upstreams and their keys, or the model script. *out is NULL when none
 * was requested. Returns 0, or -1 with the failure stored in the
 * session.
 */
int record_gateway_new(struct record_session *session,
		       struct record_gateway **out);

/*
 * Check each upstream's key, NAME_API_KEY in runbundle's environment,
 * before the bundle exists: warn on stderr about a key that is not set
 * (the requests then go without one), and reject one too short to mask
 * in the bundle. Returns 0, or -1 after printing the error.
 */
int record_gateway_check_keys(const struct record_config *config);

/* Write into dst (len bytes) the name of the environment variable that
 * contains the key of pair's upstream (NAME=URL). It is NAME_API_KEY
 * with NAME in upper case, so "openai=URL" gives OPENAI_API_KEY. */
void record_gateway_key_name(char *dst, size_t len, const char *pair);

/*
 * Check --upstream pair (NAME=URL) of command self as the gateway checks
 * an upstream, so that a URL it would reject fails before anything
 * starts. A URL with credentials gets the hint to set NAME_API_KEY,
 * which runbundle sends upstream. Returns 0, or CLI_EXIT_USAGE after
 * the usage error.
 */
struct cli_command;
int record_gateway_check_pair(const struct cli_command *self,
			      const char *pair);

/*
 * Start serving on listen_fd (a socket the sandbox passed out, which the
 * gateway owns from now on, also on failure) or, when it is -1, on a
 * free port of 127.0.0.1. Returns 0, or -1 with the failure stored in
 * the session.
 */
int record_gateway_listen(struct record_gateway *gateway, int listen_fd);

/*
 * "NAME=VALUE" entries that announce the gateway to the agent
 * (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, placeholder keys, ...),
 * NULL-terminated, owned by the gateway; NULL without a gateway. port
 * is the port the agent connects to; 0 means the port the gateway
 * listens on, and then it must be listening already.
 */
char *const *record_gateway_env(struct record_gateway *gateway,
				unsigned short port);

/* Stop serving, wait for the exchanges in flight, and free. NULL is
 * ignored. */
void record_gateway_stop(struct record_gateway *gateway);

#endif
