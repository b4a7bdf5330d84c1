/*
 * execs.c - tell PATH lookups from failed execs, and pair a refused
 * exec's two events (execs.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/error.h"
#include "inspect/execs.h"

long inspect_exec_process(const struct inspect_view *v,
			  const struct inspect_event *ev)
{
	long long index;

	if (inspect_json_int(ev->data, "index", 0, (long long)v->n_events - 1,
			     &index) < 0)
		return -1;
	return (long)index;
}

/* Return the last component of path, or NULL. */
static const char *last_component(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* Return whether the exec event ev tried name: the last component of
 * the path that the call gave. A bundle written before "attempted" has
 * only the resolved path of a successful exec, so argv[0] counts too. */
static bool tried(const struct inspect_event *ev, const char *name)
{
	const char *attempted = inspect_json_str(ev->data, "attempted");
	const cJSON *argv = cJSON_GetObjectItem(ev->data, "argv");
	const cJSON *first = cJSON_GetArrayItem(argv, 0);
	const char *path = inspect_json_str(ev->data, "path");

	if (attempted)
		return strcmp(last_component(attempted), name) == 0;
	if (path && strcmp(last_component(path), name) == 0)
		return true;
	return !inspect_json_str(ev->data, "error") && cJSON_IsString(first) &&
	       strcmp(last_component(first->valuestring), name) == 0;
}

/* Return whether the exec event ev tried path itself: the same file
 * again, which a retry does, and a search of PATH only when PATH names
 * one directory twice in a row. */
static bool tried_path(const struct inspect_event *ev, const char *path)
{
	const char *attempted = inspect_json_str(ev->data, "attempted");

	if (!attempted)
		attempted = inspect_json_str(ev->data, "path");
	return attempted && strcmp(attempted, path) == 0;
}

unsigned char *inspect_exec_lookups(const struct inspect_view *v)
{
	size_t n = v->n_events ? v->n_events : 1;
	unsigned char *lookups = calloc(n, 1);
	const struct inspect_event **next = calloc(n, sizeof(*next));

	if (!lookups || !next) {
		free(lookups);
		free(next);
		inspect_set_error("cannot count the execs: out of memory");
		return NULL;
	}

	/* Backwards, so next[index] is the process's next exec attempt
	 * after the event at hand. A search of PATH tries one name in each
	 * directory, so a failed attempt followed by one at another name
	 * is no part of a search: an agent could otherwise hide a refused
	 * exec by running anything after it. Nor is one followed by the
	 * same path, which is a second attempt that counts on its own. */
	for (size_t i = v->n_events; i-- > 0;) {
		const struct inspect_event *ev = &v->events[i];
		const char *path, *name;
		long index;

		if (strcmp(ev->kind, "exec") != 0)
			continue;
		index = inspect_exec_process(v, ev);
		if (index < 0)
			continue;
		path = inspect_json_str(ev->data, "path");
		name = last_component(path);
		if (inspect_json_str(ev->data, "error") && name &&
		    next[index] && tried(next[index], name) &&
		    !tried_path(next[index], path))
			lookups[i] = 1;
		next[index] = ev;
	}
	free(next);
	return lookups;
}

/* Return whether the failed exec event ev is the attempt that the exec
 * violation viol reports. */
static int reports(const struct inspect_event *viol,
		   const struct inspect_event *ev)
{
	const char *path = inspect_json_str(ev->data, "path");
	const char *command = inspect_json_str(viol->data, "command");

	return path && command && inspect_json_str(ev->data, "error") &&
	       strcmp(path, command) == 0;
}

size_t *inspect_exec_violations(const struct inspect_view *v)
{
	size_t n = v->n_events ? v->n_events : 1;
	size_t *pairs = calloc(n, sizeof(*pairs));
	size_t *last = calloc(n, sizeof(*last));

	if (!pairs || !last) {
		free(pairs);
		free(last);
		inspect_set_error("cannot count the execs: out of memory");
		return NULL;
	}

	/* last[index] is the position plus 1 of that process's last exec
	 * event that no violation has claimed yet. */
	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		long index = inspect_exec_process(v, ev);
		const char *source = inspect_json_str(ev->data, "source");

		if (index < 0)
			continue;
		if (strcmp(ev->kind, "exec") == 0) {
			last[index] = i + 1;
		} else if (strcmp(ev->kind, "violation") == 0 && source &&
			   strcmp(source, "exec") == 0 && last[index] &&
			   reports(ev, &v->events[last[index] - 1])) {
			pairs[i] = last[index];
			pairs[last[index] - 1] = i + 1;
			last[index] = 0;
		}
	}
	free(last);
	return pairs;
}
