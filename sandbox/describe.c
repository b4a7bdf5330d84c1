/*
 * describe.c - the JSON description of what a sandbox enforced, and
 * the comparison of two descriptions.
 *
 * The description states facts of the running sandbox, not the policy
 * that asked for them: a Landlock ABI the kernel lacks shows as a lower
 * number, a limit without a cgroup shows as an rlimit. Keys whose names
 * start with "host_" hold host paths and ids that a replay on another
 * machine may change; the comparison skips them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

#define DESCRIPTION_VERSION 1

static cJSON *strings(const struct sandbox_strings *list)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < list->count; i++)
		cJSON_AddItemToArray(array,
				     cJSON_CreateString(list->items[i]));
	return array;
}

/*
 * List the supplementary groups that the command gets: the caller's,
 * which the sandbox keeps (sandbox_ns_map_ids() denies setgroups), with
 * the mapped gid shown as its inside gid and every other as the
 * kernel's overflow gid. Such a group still grants its access to host
 * files, so one that only one run has may change what the command can
 * open.
 */
static void add_groups(cJSON *g, const struct sandbox_plan *plan)
{
	cJSON *list = cJSON_AddArrayToObject(g, "supplementary");
	gid_t groups[256];
	char text[16];
	long overflow = 65534;
	int n = getgroups(256, groups);

	if (sandbox_read_text("/proc/sys/kernel/overflowgid", text,
			      sizeof(text)) > 0)
		overflow = strtol(text, NULL, 10);
	for (int i = 0; list && i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateNumber(
			groups[i] == plan->outside_gid ?
			(double)plan->inside_gid : (double)overflow));
}

static void add_ids(cJSON *d, const struct sandbox_plan *plan)
{
	cJSON *u = cJSON_AddObjectToObject(d, "uid_map");
	cJSON *g = cJSON_AddObjectToObject(d, "gid_map");

	if (u) {
		cJSON_AddNumberToObject(u, "inside", plan->inside_uid);
		cJSON_AddNumberToObject(u, "host_outside", plan->outside_uid);
		cJSON_AddNumberToObject(u, "count", 1);
	}
	if (g) {
		cJSON_AddNumberToObject(g, "inside", plan->inside_gid);
		cJSON_AddNumberToObject(g, "host_outside", plan->outside_gid);
		cJSON_AddNumberToObject(g, "count", 1);
		add_groups(g, plan);
	}
}

static void add_network(cJSON *d, const struct sandbox_plan *plan)
{
	const struct sandbox_config *c = plan->config;
	cJSON *n = cJSON_AddObjectToObject(d, "network");
	cJSON *ports;

	if (!n)
		return;
	cJSON_AddStringToObject(n, "interfaces", "lo");
	ports = cJSON_AddArrayToObject(n, "listening");
	for (size_t i = 0; ports && i < c->n_ports; i++)
		cJSON_AddItemToArray(ports, cJSON_CreateNumber(c->ports[i]));
	cJSON_AddNumberToObject(n, "proxy_port", c->proxy_port);
	cJSON_AddItemToObject(n, "proxy_allow",
			      strings(&plan->policy->network_allow));
}

/* The values of privileges.session. */
#define SESSION_NEW "new"
#define SESSION_INHERITED "inherited, no controlling terminal"

static void add_privileges(cJSON *d, bool nested_userns, bool new_session)
{
	cJSON *p = cJSON_AddObjectToObject(d, "privileges");

	if (!p)
		return;
	cJSON_AddBoolToObject(p, "no_new_privs", 1);
	cJSON_AddStringToObject(p, "capabilities", "none");
	cJSON_AddStringToObject(p, "securebits",
				"noroot,no_setuid_fixup,keep_caps_locked,"
				"no_cap_ambient_raise (all locked)");
	cJSON_AddBoolToObject(p, "setsid", new_session);
	cJSON_AddStringToObject(p, "session", new_session ? SESSION_NEW :
				SESSION_INHERITED);
	cJSON_AddNumberToObject(p, "fds_open_above_2", 0);
	cJSON_AddBoolToObject(p, "nested_userns", nested_userns);
}

static void add_env(cJSON *d, const struct sandbox_plan *plan)
{
	cJSON *names = cJSON_AddArrayToObject(d, "env");

	/* Names only: values may be credentials that a pass pattern let
	 * in, and a description ends up in a bundle. */
	for (size_t i = 0; names && plan->envp && plan->envp[i]; i++) {
		const char *eq = strchr(plan->envp[i], '=');
		size_t len = eq ? (size_t)(eq - plan->envp[i])
				: strlen(plan->envp[i]);
		char name[256];

		if (len >= sizeof(name))
			continue;
		memcpy(name, plan->envp[i], len);
		name[len] = '\0';
		cJSON_AddItemToArray(names, cJSON_CreateString(name));
	}
}

/* The mounts, and the sysctls that init set, which come in the same
 * list from the sandbox. Takes ownership of mounts. */
static void add_mounts(cJSON *d, cJSON *mounts)
{
	cJSON *sysctls = cJSON_AddObjectToObject(d, "sysctls");
	cJSON *m = mounts->child;

	while (m) {
		cJSON *next = m->next;
		const char *type = cJSON_GetStringValue(
			cJSON_GetObjectItem(m, "type"));

		if (type && strcmp(type, "sysctl") == 0) {
			cJSON_DetachItemViaPointer(mounts, m);
			cJSON_AddStringToObject(sysctls,
				cJSON_GetStringValue(cJSON_GetObjectItem(
					m, "path")),
				cJSON_GetStringValue(cJSON_GetObjectItem(
					m, "options")));
			cJSON_Delete(m);
		}
		m = next;
	}
	cJSON_AddItemToObject(d, "mounts", mounts);
}

static cJSON *describe_none(const struct sandbox_plan *plan)
{
	cJSON *d = cJSON_CreateObject();

	if (!d)
		return NULL;
	cJSON_AddNumberToObject(d, "version", DESCRIPTION_VERSION);
	cJSON_AddStringToObject(d, "sandbox", "none");
	cJSON_AddItemToObject(d, "limits", sandbox_limits_describe(plan));
	cJSON_AddItemToObject(d, "inherited",
			      sandbox_limits_describe_inherited(plan));
	add_env(d, plan);
	return d;
}

cJSON *sandbox_describe(const struct sandbox_plan *plan, cJSON *mounts)
{
	static const char *const ns[] = { "user", "mount", "pid", "net",
					  "ipc", "uts" };
	const struct sandbox_policy *p = plan->policy;
	cJSON *d, *ws, *exec;

	if (plan->config->mode == SANDBOX_MODE_NONE)
		return describe_none(plan);
	d = cJSON_CreateObject();
	if (!d)
		return NULL;
	cJSON_AddNumberToObject(d, "version", DESCRIPTION_VERSION);
	cJSON_AddStringToObject(d, "sandbox", "namespaces");
	cJSON_AddItemToObject(d, "namespaces",
			      cJSON_CreateStringArray(ns, 6));
	add_ids(d, plan);
	cJSON_AddStringToObject(d, "hostname", p->hostname);
	ws = cJSON_AddObjectToObject(d, "workspace");
	if (ws) {
		cJSON_AddStringToObject(ws, "path", plan->inside);
		cJSON_AddStringToObject(ws, "host_source", plan->workspace);
	}
	cJSON_AddStringToObject(d, "home", p->home_path);
	cJSON_AddItemToObject(d, "landlock", sandbox_landlock_describe(plan));
	cJSON_AddItemToObject(d, "seccomp",
			      sandbox_seccomp_describe(&plan->seccomp));
	cJSON_AddItemToObject(d, "limits", sandbox_limits_describe(plan));
	cJSON_AddItemToObject(d, "inherited",
			      sandbox_limits_describe_inherited(plan));
	add_network(d, plan);
	exec = cJSON_AddObjectToObject(d, "exec");
	if (exec) {
		cJSON_AddItemToObject(exec, "allow", strings(&p->exec_allow));
		cJSON_AddItemToObject(exec, "deny", strings(&p->exec_deny));
	}
	add_privileges(d, p->allow_nested_userns, plan->new_session);
	add_env(d, plan);
	if (mounts)
		add_mounts(d, mounts);
	return d;
}

/* The differences found so far, one line each. */
struct diff {
	FILE *out;
	int count;
};

static void print_value(FILE *out, const cJSON *v)
{
	char *text;

	if (!v) {
		fputs("missing", out);
		return;
	}
	text = cJSON_PrintUnformatted(v);
	fputs(text ? text : "?", out);
	free(text);
}

static void report(struct diff *d, const char *path, const cJSON *a,
		   const cJSON *b)
{
	d->count++;
	if (!d->out)
		return;
	fprintf(d->out, "%s: recorded ", path[0] ? path : "(top)");
	print_value(d->out, a);
	fputs(", present ", d->out);
	print_value(d->out, b);
	fputc('\n', d->out);
}

static void compare(struct diff *d, const char *path, const cJSON *a,
		    const cJSON *b);

/* The session of privileges p: its "session", or "new" in a description
 * written before that key, whose init always called setsid(). NULL when
 * p has neither key. */
static const char *session_of(const cJSON *p)
{
	const cJSON *session = cJSON_GetObjectItemCaseSensitive(p, "session");

	if (session)
		return cJSON_GetStringValue(session);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "setsid")))
		return SESSION_NEW;
	return NULL;
}

static bool is_known_session(const char *session)
{
	return session && (strcmp(session, SESSION_NEW) == 0 ||
			   strcmp(session, SESSION_INHERITED) == 0);
}

static bool is_session_key(const char *path, const char *key)
{
	return strcmp(path, "privileges") == 0 &&
	       (strcmp(key, "setsid") == 0 || strcmp(key, "session") == 0);
}

/*
 * Compare privileges.setsid and privileges.session as one fact. A new
 * session and a caller's session without a controlling terminal are
 * reported as one line, and called the same protection: in both, the
 * agent has no controlling terminal, so TIOCSTI reaches no terminal of
 * the caller. Only the session ids that the agent sees differ.
 */
static void compare_session(struct diff *d, const cJSON *a, const cJSON *b)
{
	const char *x = session_of(a), *y = session_of(b);

	if ((!x && !y) || (x && y && strcmp(x, y) == 0))
		return;
	if (!is_known_session(x) || !is_known_session(y)) {
		report(d, "privileges.session",
		       cJSON_GetObjectItemCaseSensitive(a, "session"),
		       cJSON_GetObjectItemCaseSensitive(b, "session"));
		return;
	}
	d->count++;
	if (d->out)
		fprintf(d->out, "privileges.session: recorded \"%s\", present "
			"\"%s\" (the same protection: in both, the agent has "
			"no controlling terminal)\n", x, y);
}

/* A description written before "inherited" or the supplementary
 * groups has nothing to compare them with. */
static bool is_newer_key(const char *path, const char *key)
{
	return (!path[0] && strcmp(key, "inherited") == 0) ||
	       (strcmp(path, "gid_map") == 0 &&
		strcmp(key, "supplementary") == 0);
}

static void compare_objects(struct diff *d, const char *path,
			    const cJSON *a, const cJSON *b)
{
	const cJSON *item;
	char sub[512];

	if (strcmp(path, "privileges") == 0)
		compare_session(d, a, b);
	cJSON_ArrayForEach(item, a) {
		if (strncmp(item->string, "host_", 5) == 0 ||
		    is_session_key(path, item->string))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
			 item->string);
		compare(d, sub, item,
			cJSON_GetObjectItemCaseSensitive(b, item->string));
	}
	cJSON_ArrayForEach(item, b) {
		if (strncmp(item->string, "host_", 5) == 0 ||
		    is_session_key(path, item->string) ||
		    is_newer_key(path, item->string) ||
		    cJSON_GetObjectItemCaseSensitive(a, item->string))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
			 item->string);
		report(d, sub, NULL, item);
	}
}

/* True when a and b differ in a key other than the host_ ones. */
static bool items_differ(const cJSON *a, const cJSON *b)
{
	struct diff probe = { 0 };

	compare(&probe, "", a, b);
	return probe.count > 0;
}

static void compare_by_position(struct diff *d, const char *path,
				const cJSON *a, const cJSON *b)
{
	int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
	char sub[512];

	for (int i = 0; i < (na > nb ? na : nb); i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		compare(d, sub, cJSON_GetArrayItem(a, i),
			cJSON_GetArrayItem(b, i));
	}
}

/* A run of items that only one list has, between two equal items. */
struct gap {
	int a, na; /* the index of its first recorded item, and the count */
	int b, nb; /* the same for the present list */
};

/* Compare the items of a gap: pairs by position, field by field, and
 * what is left over as missing or extra, each named by its own index. */
static void compare_gap(struct diff *d, const char *path, const cJSON **a,
			const cJSON **b, const struct gap *g)
{
	char sub[512];

	for (int k = 0; k < (g->na > g->nb ? g->na : g->nb); k++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path,
			 k < g->na ? g->a + k : g->b + k);
		compare(d, sub, k < g->na ? a[g->a + k] : NULL,
			k < g->nb ? b[g->b + k] : NULL);
	}
}

/* Fill common[i][j] with the length of the longest common subsequence
 * of x[i..] and y[j..]. */
static void fill_common(int *common, const cJSON **x, int na,
			const cJSON **y, int nb)
{
	for (int i = na - 1; i >= 0; i--) {
		for (int j = nb - 1; j >= 0; j--) {
			int *cell = &common[i * (nb + 1) + j];
			int down = common[(i + 1) * (nb + 1) + j];
			int right = common[i * (nb + 1) + j + 1];

			if (!items_differ(x[i], y[j]))
				*cell = common[(i + 1) * (nb + 1) + j + 1] + 1;
			else
				*cell = down >= right ? down : right;
		}
	}
}

/*
 * Compare two lists along their longest common subsequence, so that one
 * item added, such as the seccomp rule that a replay as another user
 * adds, is one line and not a shift of every later item.
 */
static void compare_arrays(struct diff *d, const char *path, const cJSON *a,
			   const cJSON *b)
{
	int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
	const cJSON **x = NULL, **y = NULL;
	int *common = NULL;
	struct gap g = { 0 };
	int i = 0, j = 0;

	/* The table has (na + 1) * (nb + 1) cells. Lists that would need
	 * more than 2^20 are compared by position. */
	if ((long)(na + 1) * (nb + 1) <= 1L << 20) {
		x = calloc((size_t)na + 1, sizeof(*x));
		y = calloc((size_t)nb + 1, sizeof(*y));
		common = calloc((size_t)(na + 1) * (size_t)(nb + 1),
				sizeof(*common));
	}
	if (!x || !y || !common) {
		compare_by_position(d, path, a, b);
		goto out;
	}
	for (int k = 0; k < na; k++)
		x[k] = cJSON_GetArrayItem(a, k);
	for (int k = 0; k < nb; k++)
		y[k] = cJSON_GetArrayItem(b, k);
	fill_common(common, x, na, y, nb);
	while (i < na || j < nb) {
		if (i < na && j < nb && !items_differ(x[i], y[j])) {
			compare_gap(d, path, x, y, &g);
			i++;
			j++;
			g = (struct gap){ .a = i, .b = j };
		} else if (j == nb || (i < na &&
				       common[(i + 1) * (nb + 1) + j] >=
					       common[i * (nb + 1) + j + 1])) {
			i++;
			g.na++;
		} else {
			j++;
			g.nb++;
		}
	}
	compare_gap(d, path, x, y, &g);
out:
	free(x);
	free(y);
	free(common);
}

/* Print a mount as "OPTIONS TYPE", then its keys other than path and
 * the host_ ones, such as "ro,nosuid,nodev bind covers .git/hooks". */
static void print_mount(FILE *out, const cJSON *m)
{
	const char *options, *type;
	const cJSON *item;

	if (!m) {
		fputs("missing", out);
		return;
	}
	options = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(m, "options"));
	type = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(m, "type"));
	fprintf(out, "%s%s%s", options ? options : "", options ? " " : "",
		type ? type : "mount");
	cJSON_ArrayForEach(item, m) {
		if (!item->string || strcmp(item->string, "path") == 0 ||
		    strcmp(item->string, "type") == 0 ||
		    strcmp(item->string, "options") == 0 ||
		    strncmp(item->string, "host_", 5) == 0)
			continue;
		fprintf(out, " %s ", item->string);
		if (cJSON_IsString(item))
			fputs(item->valuestring, out);
		else
			print_value(out, item);
	}
}

/* True when the mounts differ in a key other than the host_ ones. */
static bool mounts_differ(const cJSON *a, const cJSON *b)
{
	struct diff probe = { 0 };

	compare_objects(&probe, "", a, b);
	return probe.count > 0;
}

/* The mount with the given path, the nth of those with it (from 0), in
 * a list of mounts; NULL when there is none. */
static const cJSON *find_mount(const cJSON *mounts, const char *path,
			       int nth)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, mounts) {
		const char *p = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "path"));

		if (p && strcmp(p, path) == 0 && nth-- == 0)
			return m;
	}
	return NULL;
}

/* How many mounts before m in its list have the same path. */
static int occurrence(const cJSON *mounts, const cJSON *m, const char *path)
{
	const cJSON *other;
	int n = 0;

	cJSON_ArrayForEach(other, mounts) {
		const char *p;

		if (other == m)
			break;
		p = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(other, "path"));
		n += p && strcmp(p, path) == 0;
	}
	return n;
}

static void report_mount(struct diff *d, const char *path, const cJSON *a,
			 const cJSON *b)
{
	d->count++;
	if (!d->out)
		return;
	fprintf(d->out, "mounts %s: recorded ", path);
	print_mount(d->out, a);
	fputs(", now ", d->out);
	print_mount(d->out, b);
	fputc('\n', d->out);
}

/*
 * Compare the mount lists by the path of each mount inside the sandbox,
 * so that one mount missing is one line and not a shift of every later
 * entry. A path that appears more than once pairs its first occurrence
 * with the other list's first, and so on. Entries without a path are
 * compared by position, as any array.
 */
static void compare_mounts(struct diff *d, const cJSON *a, const cJSON *b)
{
	const cJSON *m;
	int i = 0;

	cJSON_ArrayForEach(m, a) {
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "path"));
		const cJSON *other;
		char sub[64];

		if (!path) {
			snprintf(sub, sizeof(sub), "mounts[%d]", i++);
			compare(d, sub, m, cJSON_GetArrayItem(b, i - 1));
			continue;
		}
		i++;
		other = find_mount(b, path, occurrence(a, m, path));
		if (!other || mounts_differ(m, other))
			report_mount(d, path, m, other);
	}
	i = 0;
	cJSON_ArrayForEach(m, b) {
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "path"));
		char sub[64];

		if (!path && !cJSON_GetArrayItem(a, i)) {
			snprintf(sub, sizeof(sub), "mounts[%d]", i);
			report(d, sub, NULL, m);
		}
		i++;
		if (path && !find_mount(a, path, occurrence(b, m, path)))
			report_mount(d, path, NULL, m);
	}
}

static void compare(struct diff *d, const char *path, const cJSON *a,
		    const cJSON *b)
{
	if (!a || !b) {
		report(d, path, a, b);
	} else if (strcmp(path, "mounts") == 0 && cJSON_IsArray(a) &&
		   cJSON_IsArray(b)) {
		compare_mounts(d, a, b);
	} else if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		compare_objects(d, path, a, b);
	} else if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		compare_arrays(d, path, a, b);
	} else if (!cJSON_Compare(a, b, 1)) {
		report(d, path, a, b);
	}
}

int sandbox_description_compare(const cJSON *recorded, const cJSON *present,
				char **text)
{
	struct diff d = { 0 };
	size_t len = 0;

	if (text) {
		*text = NULL;
		d.out = open_memstream(text, &len);
		if (!d.out) {
			sandbox_set_error("cannot compare the descriptions: "
					  "'%s': %s", "memstream",
					  strerror(errno));
			return -1;
		}
	}
	compare(&d, "", recorded, present);
	if (d.out && fclose(d.out) != 0) {
		free(*text);
		*text = NULL;
		sandbox_set_error("cannot compare the descriptions: '%s': %s",
				  "memstream", strerror(ENOMEM));
		return -1;
	}
	return d.count;
}
