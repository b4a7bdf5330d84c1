/*
 * address.c - the other run's commands with the address of its gateway
 * replaced by the recording's (replay.h).
 *
 * Without the sandbox (record --sandbox none) the gateway listens on a
 * free port of 127.0.0.1, another one in each run, and the agent gets
 * its URL in RUNBUNDLE_GATEWAY_URL, OPENAI_BASE_URL and the like. A
 * shell agent passes that URL to curl, so the argv of the same command
 * differs between two runs by runbundle's choice of port, not by the
 * agent's doing. Inside the sandbox the port is fixed, and both runs
 * have the same address already.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

/* Return a copy of text with each from replaced by to, or NULL when
 * memory runs out. An address followed by a digit is part of a longer
 * port, and stays. *changed is set when one was replaced. */
static char *replace_address(const char *text, const char *from,
			     const char *to, bool *changed)
{
	size_t n = strlen(from);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *at;

	if (!f)
		return NULL;
	while ((at = strstr(text, from))) {
		bool whole = !isdigit((unsigned char)at[n]);

		fwrite(text, 1, (size_t)(at - text), f);
		fputs(whole ? to : from, f);
		*changed = *changed || whole;
		text = at + n;
	}
	fputs(text, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Replace the address in p's argv and command line, in new copies that
 * p then owns. Returns 0, or -1 when memory runs out. */
static int map_proc(struct replay_proc *p, const char *from, const char *to)
{
	cJSON *argv = cJSON_CreateArray();
	const cJSON *arg;
	bool changed = false;
	char *command = NULL;

	cJSON_ArrayForEach(arg, p->argv) {
		char *mapped = cJSON_IsString(arg)
				       ? replace_address(arg->valuestring,
							 from, to, &changed)
				       : NULL;

		cJSON_AddItemToArray(argv, mapped ? cJSON_CreateString(mapped)
						  : cJSON_Duplicate(arg, 1));
		free(mapped);
	}
	if (p->command)
		command = replace_address(p->command, from, to, &changed);
	if (!argv || !changed || (p->command && !command)) {
		cJSON_Delete(argv);
		free(command);
		return argv && (!p->command || command) ? 0 : -1;
	}
	p->argv = argv;
	p->command = command;
	return 0;
}

int replay_gateway_view(const struct replay_run *a, const struct replay_run *b,
			struct replay_run *view)
{
	char *from = replay_run_gateway(b), *to = replay_run_gateway(a);
	int rc = 0;

	*view = *b;
	if (!from || !to || strcmp(from, to) == 0 || !b->n_procs)
		goto out;
	view->procs = malloc(b->n_procs * sizeof(*view->procs));
	if (!view->procs) {
		view->procs = b->procs;
		rc = -1;
		goto out;
	}
	memcpy(view->procs, b->procs, b->n_procs * sizeof(*view->procs));
	for (size_t i = 0; rc == 0 && i < b->n_procs; i++) {
		if (b->procs[i].argv)
			rc = map_proc(&view->procs[i], from, to);
	}
	if (rc < 0) {
		replay_gateway_view_release(view, b);
		*view = *b;
	}
out:
	free(from);
	free(to);
	if (rc < 0)
		replay_set_error("cannot compare the runs: out of memory");
	return rc;
}

void replay_gateway_view_release(struct replay_run *view,
				 const struct replay_run *b)
{
	if (view->procs == b->procs)
		return;
	for (size_t i = 0; i < b->n_procs; i++) {
		if (view->procs[i].argv == b->procs[i].argv)
			continue;
		cJSON_Delete(view->procs[i].argv);
		free(view->procs[i].command);
	}
	free(view->procs);
	view->procs = b->procs;
}
