/*
 * env.c - the agent's environment: the variables the policy passes
 * through, then the ones it sets, then HOME and the proxy variables.
 * A secret never enters, even when a pass pattern matches it. PATH is
 * always set, to SANDBOX_DEFAULT_PATH when the policy sets none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

extern char **environ;

struct env {
	char **v;
	size_t n, cap;
};

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Add or replace NAME=VALUE; entry is copied. */
static int env_put(struct env *e, const char *entry)
{
	size_t len = name_len(entry);
	char *copy = strdup(entry);

	if (!copy)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		if (name_len(e->v[i]) == len &&
		    strncmp(e->v[i], entry, len) == 0) {
			free(e->v[i]);
			e->v[i] = copy;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **grown = realloc(e->v, cap * sizeof(*grown));

		if (!grown) {
			free(copy);
			return -1;
		}
		e->v = grown;
		e->cap = cap;
	}
	e->v[e->n++] = copy;
	e->v[e->n] = NULL;
	return 0;
}

static int env_put2(struct env *e, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;
	char *buf = malloc(len);
	int rc;

	if (!buf)
		return -1;
	snprintf(buf, len, "%s=%s", name, value);
	rc = env_put(e, buf);
	free(buf);
	return rc;
}

static bool is_secret(const struct sandbox_policy *p, const char *entry)
{
	char name[256];
	size_t len = name_len(entry);

	if (len >= sizeof(name))
		return true;
	memcpy(name, entry, len);
	name[len] = '\0';
	return sandbox_env_matches(&p->env_secrets, name);
}

static int add_passed(struct env *e, const struct sandbox_plan *plan)
{
	const struct sandbox_policy *p = plan->policy;
	char *const *host = plan->config->env ? plan->config->env : environ;
	char name[256];

	for (size_t i = 0; host && host[i]; i++) {
		size_t len = name_len(host[i]);

		if (len >= sizeof(name) || !strchr(host[i], '='))
			continue;
		memcpy(name, host[i], len);
		name[len] = '\0';
		if (sandbox_env_matches(&p->env_pass, name) &&
		    !is_secret(p, host[i]) && env_put(e, host[i]) < 0)
			return -1;
	}
	return 0;
}

static bool policy_sets(const struct sandbox_policy *p, const char *name)
{
	for (size_t i = 0; i < p->env_set_count; i++) {
		if (strcmp(p->env_set[i].name, name) == 0)
			return true;
	}
	return false;
}

/* NO_PROXY keeps the gateway off the proxy. A policy may set its own,
 * so that an allowed loopback service is reached through the proxy. */
static int add_no_proxy(struct env *e, const struct sandbox_policy *p,
			const char *name)
{
	if (policy_sets(p, name))
		return 0;
	return env_put2(e, name, "localhost,127.0.0.1,::1");
}

static int add_proxy(struct env *e, const struct sandbox_policy *p,
		     uint16_t port)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	return env_put2(e, "HTTPS_PROXY", url) < 0 ||
	       env_put2(e, "HTTP_PROXY", url) < 0 ||
	       env_put2(e, "https_proxy", url) < 0 ||
	       env_put2(e, "http_proxy", url) < 0 ||
	       add_no_proxy(e, p, "NO_PROXY") < 0 ||
	       add_no_proxy(e, p, "no_proxy") < 0 ? -1 : 0;
}

static bool has_path(const struct env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], "PATH=", 5) == 0)
			return true;
	}
	return false;
}

char **sandbox_env_build(const struct sandbox_plan *plan)
{
	const struct sandbox_policy *p = plan->policy;
	struct env e = { 0 };

	if (env_put2(&e, "HOME", p->home_path) < 0 || add_passed(&e, plan) < 0)
		goto fail;
	for (size_t i = 0; i < p->env_set_count; i++) {
		if (sandbox_env_matches(&p->env_secrets, p->env_set[i].name))
			continue;
		if (env_put2(&e, p->env_set[i].name, p->env_set[i].value) < 0)
			goto fail;
	}
	if (env_put2(&e, "HOME", p->home_path) < 0)
		goto fail;
	if (!has_path(&e) && env_put2(&e, "PATH", SANDBOX_DEFAULT_PATH) < 0)
		goto fail;
	if (plan->config->proxy_port &&
	    add_proxy(&e, p, plan->config->proxy_port))
		goto fail;
	return e.v;
fail:
	sandbox_env_free(e.v);
	sandbox_set_error("cannot build the environment: '%s': %s",
			  "env", strerror(ENOMEM));
	return NULL;
}

void sandbox_env_free(char **envp)
{
	for (size_t i = 0; envp && envp[i]; i++) {
		/* Values may be credentials that a pass pattern let in. */
		explicit_bzero(envp[i], strlen(envp[i]));
		free(envp[i]);
	}
	free(envp);
}

const char *sandbox_plan_path(const struct sandbox_plan *plan)
{
	for (size_t i = 0; plan->envp && plan->envp[i]; i++) {
		if (strncmp(plan->envp[i], "PATH=", 5) == 0)
			return plan->envp[i] + 5;
	}
	return SANDBOX_DEFAULT_PATH;
}
