/*
 * limits.c - the resource limits of a run: a cgroup where one is
 * writable, rlimits otherwise.
 *
 * The parent looks for a cgroup it can create a child in, first under
 * its own cgroup v2 directory, whose cgroup.subtree_control must enable
 * pids and memory (cgroup2.c makes room in a delegated one), then, for
 * the process limit only, under its cgroup v1 pids hierarchy. The agent
 * moves itself into that cgroup as its first step, so every process
 * that runs the command or descends from it is counted. The sandbox's
 * own processes, init and the helper, stay outside, and pids.max leaves
 * room for them, so that limits.processes still counts every process of
 * the run. The cgroup is then empty once init has reaped the rest, and
 * the caller can remove it before init has exited. What no cgroup
 * covers is set as an rlimit in the agent just before execve().
 *
 * NOTE: RLIMIT_NPROC is not enforced for processes whose real uid is
 * the host's root, so a root caller without a writable pids cgroup has
 * no process limit, and the description then reads "rlimit (not
 * enforced for root)".
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * The directory of this process's cgroup in the hierarchy mounted at
 * mnt: the line of cgroups, the text of /proc/self/cgroup, that starts
 * with prefix ("0::" for v2, or ":pids:" inside a v1 line).
 */
static int own_cgroup(const char *cgroups, const char *mnt, const char *key,
		      char *out, size_t len)
{
	char buf[4096], *line, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", cgroups);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, key);

		if (!p)
			continue;
		if (strcmp(key, "0::") == 0 && p != line)
			continue;
		p += strlen(key);
		snprintf(out, len, "%s%s", mnt, strcmp(p, "/") ? p : "");
		return 0;
	}
	return -1;
}

/* The number of names make_cgroup() tries. */
#define CGROUP_NAME_TRIES 8

/* Write the name of try i below dir into plan->cgroup. */
static int cgroup_name(struct sandbox_plan *plan, const char *dir, int i)
{
	uint32_t suffix;
	int n;

	if (i == 0)
		n = snprintf(plan->cgroup, sizeof(plan->cgroup),
			     "%s/runbundle-%d", dir, (int)getpid());
	else if (getrandom(&suffix, sizeof(suffix), 0) != sizeof(suffix))
		return -1;
	else
		n = snprintf(plan->cgroup, sizeof(plan->cgroup),
			     "%s/runbundle-%d-%08" PRIx32, dir, (int)getpid(),
			     suffix);
	if (n < 0 || (size_t)n >= sizeof(plan->cgroup)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Create the run's cgroup below dir, named after this process. A
 * runbundle killed with SIGKILL leaves its empty cgroup behind, and PIDs
 * repeat (every container's entrypoint is PID 1), so a name that exists
 * gets a random suffix. A directory that exists may belong to a live
 * run in another PID namespace, so it is never removed here. Returns 0,
 * or -1 with errno set.
 */
static int make_cgroup(struct sandbox_plan *plan, const char *dir)
{
	for (int i = 0; i < CGROUP_NAME_TRIES; i++) {
		if (cgroup_name(plan, dir, i) < 0)
			return -1;
		if (mkdir(plan->cgroup, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/*
 * Create the run's cgroup of kind below dir. Returns 0, 1 when dir is
 * not writable, so that the run takes the next kind or rlimits, or -1
 * with the error set when dir is writable but the cgroup cannot be
 * made: falling back then would leave a root caller without a process
 * limit, and without a word.
 */
static int try_cgroup(struct sandbox_plan *plan, const char *dir,
		      const char *kind)
{
	char path[300];

	if (access(dir, W_OK) < 0)
		return 1;
	if (make_cgroup(plan, dir) < 0) {
		sandbox_set_error("cannot create the run's cgroup: '%s': %s",
				  plan->cgroup, strerror(errno));
		sandbox_set_hint("remove the empty runbundle-* cgroups that "
				 "runs killed with SIGKILL left in '%s' (with "
				 "rmdir), or set limits.processes and "
				 "limits.memory_bytes to 0", dir);
		plan->cgroup[0] = '\0';
		return -1;
	}
	/* The file that sandbox_limits_open_cgroup() opens. */
	snprintf(path, sizeof(path), "%s/%s", plan->cgroup,
		 strcmp(kind, "cgroup1") == 0 ? "tasks" : "cgroup.procs");
	if (access(path, W_OK) < 0) {
		rmdir(plan->cgroup);
		plan->cgroup[0] = '\0';
		return 1;
	}
	snprintf(plan->cgroup_kind, sizeof(plan->cgroup_kind), "%s", kind);
	return 0;
}

static int write_limit(const char *cgroup, const char *file, uint64_t value)
{
	char path[320], buf[32];

	snprintf(path, sizeof(path), "%s/%s", cgroup, file);
	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return sandbox_write_file(path, buf);
}

/* Turn swap off in the cgroup, because memory.max counts only memory in
 * RAM and a command could swap out what goes past it. A kernel without
 * swap accounting (swapaccount=0) has no memory.swap.max. */
static int no_swap(const char *cgroup)
{
	if (write_limit(cgroup, "memory.swap.max", 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* The sandbox's processes outside the run's cgroup: init, and the
 * helper when there is one (launch.c). */
static uint64_t own_processes(const struct sandbox_plan *plan)
{
	if (plan->config->mode == SANDBOX_MODE_NAMESPACES &&
	    plan->threads != 1)
		return 2;
	return 1;
}

/* Where cgroup v2 may be mounted: beside v1 controllers, then alone. */
static const char *const v2_mounts[] = {
	"/sys/fs/cgroup/unified",
	"/sys/fs/cgroup",
};

#define N_V2_MOUNTS (sizeof(v2_mounts) / sizeof(v2_mounts[0]))

/* Return the directory below which the run's cgroup v2 can go, from this
 * process's cgroup in the hierarchy mounted at mnt, or NULL. dir is
 * where own_cgroup() writes that cgroup. */
static const char *v2_room(const char *cgroups, const char *mnt, char *dir,
			   size_t len)
{
	if (own_cgroup(cgroups, mnt, "0::", dir, len) < 0)
		return NULL;
	return sandbox_cgroup2_room(dir);
}

bool sandbox_limits_need_cgroup(const struct sandbox_policy *policy)
{
	return policy->limits.processes || policy->limits.memory_bytes;
}

void sandbox_limits_make_room(void)
{
	char cgroups[4096], dir[256];

	if (read_line("/proc/self/cgroup", cgroups, sizeof(cgroups)) < 0)
		return;
	for (size_t i = 0; i < N_V2_MOUNTS; i++) {
		if (v2_room(cgroups, v2_mounts[i], dir, sizeof(dir)))
			return;
	}
}

int sandbox_limits_prepare(struct sandbox_plan *plan)
{
	const struct sandbox_limits *l = &plan->policy->limits;
	char cgroups[4096], dir[256];
	const char *room;
	int rc = 1;

	plan->cgroup[0] = '\0';
	plan->cgroup_kind[0] = '\0';
	if (!sandbox_limits_need_cgroup(plan->policy))
		return 0;
	if (read_line("/proc/self/cgroup", cgroups, sizeof(cgroups)) < 0)
		cgroups[0] = '\0';
	for (size_t i = 0; rc > 0 && i < N_V2_MOUNTS; i++) {
		room = v2_room(cgroups, v2_mounts[i], dir, sizeof(dir));
		if (room)
			rc = try_cgroup(plan, room, "cgroup2");
	}
	if (rc > 0 && l->processes &&
	    own_cgroup(cgroups, "/sys/fs/cgroup/pids", ":pids:", dir,
		       sizeof(dir)) == 0)
		rc = try_cgroup(plan, dir, "cgroup1");
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* The policy rejects a limit below SANDBOX_MIN_PROCESSES, which is
	 * more than these. */
	if ((l->processes &&
	     write_limit(plan->cgroup, "pids.max",
			 l->processes - own_processes(plan)) < 0) ||
	    (l->memory_bytes && strcmp(plan->cgroup_kind, "cgroup2") == 0 &&
	     (write_limit(plan->cgroup, "memory.max", l->memory_bytes) < 0 ||
	      no_swap(plan->cgroup) < 0))) {
		int err = errno;

		sandbox_set_error("cannot set the cgroup limits: '%s': %s",
				  plan->cgroup, strerror(err));
		/* pids.max takes at most kernel.pid_max. */
		if (err == EINVAL && l->processes)
			sandbox_set_hint("limits.processes (%" PRIu64 ") "
					 "may be above the kernel's pid_max "
					 "(/proc/sys/kernel/pid_max); lower it",
					 l->processes);
		rmdir(plan->cgroup);
		return -1;
	}
	return 0;
}

/*
 * Open the file that moves a process into the run's cgroup, before the
 * new root hides the host's cgroup file system. *fd is -1 when the run
 * has no cgroup.
 */
int sandbox_limits_open_cgroup(const struct sandbox_plan *plan, int *fd)
{
	bool version1 = strcmp(plan->cgroup_kind, "cgroup1") == 0;
	char path[320];

	*fd = -1;
	if (!plan->cgroup[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%s", plan->cgroup,
		 version1 ? "tasks" : "cgroup.procs");
	*fd = open(path, O_WRONLY | O_CLOEXEC);
	if (*fd < 0) {
		sandbox_set_error("cannot enter the cgroup: '%s': %s",
				  plan->cgroup, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Move the calling process, the agent, into the run's cgroup through
 * fd, and close fd. The agent is a single thread (fork() copies only
 * the calling thread), so moving the thread moves the process. In
 * cgroup v1 the write goes to "tasks", because a write to cgroup.procs
 * takes the kernel's global threadgroup lock, which waits for an RCU
 * grace period: 6 to 14 ms on Linux 6.18 here. Moving the writer's own
 * thread skips that lock and took about 0.05 ms. cgroup v2 accepts
 * threads only in threaded subtrees, so it keeps cgroup.procs.
 */
int sandbox_limits_join_cgroup(const struct sandbox_plan *plan, int fd)
{
	ssize_t n;

	if (fd < 0)
		return 0;
	n = write(fd, "0", 1);
	if (n != 1) {
		sandbox_set_error("cannot enter the cgroup: '%s': %s",
				  plan->cgroup, n < 0 ? strerror(errno) :
				  "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static bool memory_in_cgroup(const struct sandbox_plan *plan)
{
	return strcmp(plan->cgroup_kind, "cgroup2") == 0;
}

static int set_rlimit(int resource, uint64_t value, const char *name)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };
	struct rlimit hard;
	int err;

	if (!value || setrlimit(resource, &rl) == 0)
		return 0;
	err = errno;
	sandbox_set_error("cannot set the limit: 'limits.%s = %" PRIu64 "': "
			  "%s", name, value, strerror(err));

	/* Raising a hard limit needs CAP_SYS_RESOURCE. */
	if (err == EPERM && getrlimit(resource, &hard) == 0 &&
	    hard.rlim_max != RLIM_INFINITY && value > hard.rlim_max)
		sandbox_set_hint("it is above this process's hard limit of "
				 "%llu (ulimit -H); lower limits.%s to that, "
				 "or raise the hard limit first",
				 (unsigned long long)hard.rlim_max, name);
	return -1;
}

/*
 * At a hard RLIMIT_CPU the kernel sends SIGKILL, which reads like any
 * other kill. With the hard limit a second above the soft one, a process
 * gets SIGXCPU at the soft limit, which names the cause in its end, and
 * SIGKILL a second later only if it handles SIGXCPU.
 */
static int set_cpu_limit(uint64_t seconds)
{
	struct rlimit rl = { .rlim_cur = seconds, .rlim_max = seconds + 1 };
	struct rlimit hard;

	if (!seconds || getrlimit(RLIMIT_CPU, &hard) < 0 ||
	    hard.rlim_max <= seconds || setrlimit(RLIMIT_CPU, &rl) < 0)
		return set_rlimit(RLIMIT_CPU, seconds, "cpu_seconds");
	return 0;
}

/*
 * The hard limit's SIGKILL ends a process that ignored SIGXCPU. The
 * rusage at its end can be under the kernel's count (0.91 s at a limit
 * of 1 s in one run), so a SIGKILL counts from the soft limit on, a
 * second's margin below the hard one.
 */
bool sandbox_limits_cpu_ended(const struct sandbox_limits *limits,
			      int signal, int64_t cpu_us)
{
	if (!limits->cpu_seconds)
		return false;
	return signal == SIGXCPU ||
	       (signal == SIGKILL &&
		cpu_us >= (int64_t)limits->cpu_seconds * 1000000);
}

int sandbox_limits_apply(const struct sandbox_plan *plan)
{
	const struct sandbox_limits *l = &plan->policy->limits;

	if (set_cpu_limit(l->cpu_seconds) < 0 ||
	    set_rlimit(RLIMIT_FSIZE, l->file_size_bytes,
		       "file_size_bytes") < 0 ||
	    set_rlimit(RLIMIT_NOFILE, l->open_files, "open_files") < 0)
		return -1;
	if (!memory_in_cgroup(plan) &&
	    set_rlimit(RLIMIT_AS, l->memory_bytes, "memory_bytes") < 0)
		return -1;
	if (!plan->cgroup[0] &&
	    set_rlimit(RLIMIT_NPROC, l->processes, "processes") < 0)
		return -1;
	return 0;
}

/* Whether the policy sets resource in the command, so that what the
 * caller passes on does not count. As sandbox_limits_apply(). */
static bool policy_sets(const struct sandbox_plan *plan, int resource)
{
	const struct sandbox_limits *l = &plan->policy->limits;

	switch (resource) {
	case RLIMIT_CPU:
		return l->cpu_seconds;
	case RLIMIT_FSIZE:
		return l->file_size_bytes;
	case RLIMIT_NOFILE:
		return l->open_files;
	case RLIMIT_AS:
		return l->memory_bytes && !memory_in_cgroup(plan);
	case RLIMIT_NPROC:
		return l->processes && !plan->cgroup[0];
	}
	return false;
}

/* The caller's umask, from /proc where reading it changes nothing for
 * the caller's other threads. */
static mode_t caller_umask(void)
{
	char buf[4096];
	const char *line;
	mode_t mask;

	if (sandbox_read_text("/proc/self/status", buf, sizeof(buf)) > 0 &&
	    (line = strstr(buf, "\nUmask:")) != NULL)
		return (mode_t)strtoul(line + 7, NULL, 8) & 0777;
	mask = umask(022);
	umask(mask);
	return mask;
}

int sandbox_limits_plan_inherited(struct sandbox_plan *plan)
{
	const struct sandbox_inherit *in = plan->config->inherit;

	plan->umask = in && in->set_umask ? in->umask & 0777 : caller_umask();
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit *rl = &plan->rlimits[r];

		if (getrlimit(r, rl) < 0) {
			sandbox_set_error("cannot read the limit: '%d': %s", r,
					  strerror(errno));
			return -1;
		}
		if (!in || !in->set_rlimit[r])
			continue;
		/* RLIM_INFINITY is the largest value, so min() is right. */
		if (in->rlimit[r].rlim_max < rl->rlim_max)
			rl->rlim_max = in->rlimit[r].rlim_max;
		rl->rlim_cur = in->rlimit[r].rlim_cur < rl->rlim_max ?
			       in->rlimit[r].rlim_cur : rl->rlim_max;
	}
	return 0;
}

int sandbox_limits_restore(const struct sandbox_plan *plan)
{
	const struct sandbox_inherit *in = plan->config->inherit;

	for (int r = 0; in && r < RLIM_NLIMITS; r++) {
		if (in->set_rlimit[r] &&
		    setrlimit(r, &plan->rlimits[r]) < 0) {
			sandbox_set_error("cannot restore the recorded limit: "
					  "'%d': %s", r, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static const char *const rlimit_names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = "cpu", [RLIMIT_FSIZE] = "fsize",
	[RLIMIT_DATA] = "data", [RLIMIT_STACK] = "stack",
	[RLIMIT_CORE] = "core", [RLIMIT_RSS] = "rss",
	[RLIMIT_NPROC] = "nproc", [RLIMIT_NOFILE] = "nofile",
	[RLIMIT_MEMLOCK] = "memlock", [RLIMIT_AS] = "as",
	[RLIMIT_LOCKS] = "locks", [RLIMIT_SIGPENDING] = "sigpending",
	[RLIMIT_MSGQUEUE] = "msgqueue", [RLIMIT_NICE] = "nice",
	[RLIMIT_RTPRIO] = "rtprio", [RLIMIT_RTTIME] = "rttime",
};

/* Read a value that add_rlim() wrote; false when item is not one. */
static bool read_rlim(const cJSON *item, rlim_t *value)
{
	if (cJSON_IsString(item) && strcmp(item->valuestring,
					   "unlimited") == 0) {
		*value = RLIM_INFINITY;
		return true;
	}
	/* A number above 2^53 reads back rounded, a little off the limit
	 * that was set; none of the usual limits is that large. */
	if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
	    item->valuedouble >= 18446744073709551615.0)
		return false;
	*value = (rlim_t)item->valuedouble;
	return true;
}

void sandbox_inherit_from_description(const cJSON *description,
				      struct sandbox_inherit *in)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(description,
							  "inherited");
	const cJSON *mask = cJSON_GetObjectItemCaseSensitive(o, "umask");
	const cJSON *rl = cJSON_GetObjectItemCaseSensitive(o, "rlimits");

	memset(in, 0, sizeof(*in));
	if (cJSON_IsString(mask)) {
		char *end;
		unsigned long v = strtoul(mask->valuestring, &end, 8);

		if (!*end && end != mask->valuestring && v <= 0777) {
			in->set_umask = true;
			in->umask = (mode_t)v;
		}
	}
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		const cJSON *item = rlimit_names[r] ?
			cJSON_GetObjectItemCaseSensitive(rl, rlimit_names[r]) :
			NULL;
		struct rlimit v;

		if (item &&
		    read_rlim(cJSON_GetObjectItemCaseSensitive(item, "soft"),
			      &v.rlim_cur) &&
		    read_rlim(cJSON_GetObjectItemCaseSensitive(item, "hard"),
			      &v.rlim_max) && v.rlim_cur <= v.rlim_max) {
			in->set_rlimit[r] = true;
			in->rlimit[r] = v;
		}
	}
}

static void add_rlim(cJSON *o, const char *name, rlim_t value)
{
	char digits[24];

	if (value == RLIM_INFINITY) {
		cJSON_AddStringToObject(o, name, "unlimited");
		return;
	}
	/* Raw digits, as describe_one() writes them. */
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)value);
	cJSON_AddRawToObject(o, name, digits);
}

cJSON *sandbox_limits_describe_inherited(const struct sandbox_plan *plan)
{
	cJSON *o = cJSON_CreateObject(), *rl;
	char mask[8];

	if (!o)
		return NULL;
	snprintf(mask, sizeof(mask), "%04o", (unsigned)plan->umask);
	cJSON_AddStringToObject(o, "umask", mask);
	rl = cJSON_AddObjectToObject(o, "rlimits");
	for (int r = 0; rl && r < RLIM_NLIMITS; r++) {
		cJSON *item;

		if (!rlimit_names[r] || policy_sets(plan, r))
			continue;
		item = cJSON_AddObjectToObject(rl, rlimit_names[r]);
		if (!item)
			continue;
		add_rlim(item, "soft", plan->rlimits[r].rlim_cur);
		add_rlim(item, "hard", plan->rlimits[r].rlim_max);
	}
	return o;
}

static void describe_one(cJSON *o, const char *name, uint64_t value,
			 const char *via)
{
	cJSON *item = cJSON_AddObjectToObject(o, name);
	char digits[24];

	if (!item)
		return;
	/* cJSON prints a double, which rounds a count above 2^53, and its
	 * 15-digit 2^53 - 1 reads back as 2^53 - 2. So the digits go raw. */
	snprintf(digits, sizeof(digits), "%" PRIu64, value);
	cJSON_AddRawToObject(item, "value", digits);
	cJSON_AddStringToObject(item, "via", value ? via : "none");
}

/*
 * Return whether a root caller's command cannot write to the
 * workspace's top directory, which belongs to another user. The command
 * runs as uid 0 without capabilities, so only the bits for gid 0 and
 * for others let it write. A directory of root's own without a write
 * bit is no surprise to its owner.
 */
static bool root_loses_write(const struct stat *st)
{
	if (st->st_uid == 0)
		return false;
	if (st->st_gid == 0 && (st->st_mode & S_IWGRP))
		return false;
	return !(st->st_mode & S_IWOTH);
}

void sandbox_print_notes(const struct sandbox_config *config,
			 const struct sandbox_child *child, FILE *out)
{
	struct stat st;

	if (getuid() != 0)
		return;
	if (config->policy->limits.processes && !child->cgroup[0])
		fprintf(out, "note: limits.processes is not enforced: for "
			"root it needs a cgroup, and none could be made here; "
			"run runbundle in a cgroup of its own, as with "
			"'systemd-run --scope -p Delegate=yes runbundle "
			"...'\n");
	if (config->mode == SANDBOX_MODE_NAMESPACES &&
	    child->workspace[0] && stat(child->workspace, &st) == 0 &&
	    root_loses_write(&st))
		fprintf(out, "note: the command cannot write to the workspace: "
			"'%s': it belongs to uid %u, and as root the command "
			"runs as uid 0 without capabilities; run runbundle as "
			"uid %u (for example with 'setpriv --reuid'), or give "
			"the workspace to root\n", child->workspace,
			(unsigned)st.st_uid, (unsigned)st.st_uid);
}

cJSON *sandbox_limits_describe(const struct sandbox_plan *plan)
{
	const struct sandbox_limits *l = &plan->policy->limits;
	const char *procs = plan->cgroup[0] ? plan->cgroup_kind :
			    plan->outside_uid == 0 ?
			    "rlimit (not enforced for root)" : "rlimit";
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	describe_one(o, "timeout_seconds", l->timeout_seconds, "init timer");
	describe_one(o, "cpu_seconds", l->cpu_seconds,
		     "rlimit (per process)");
	describe_one(o, "memory_bytes", l->memory_bytes,
		     memory_in_cgroup(plan) ? "cgroup2" :
		     "rlimit (address space, per process)");
	describe_one(o, "processes", l->processes, procs);
	describe_one(o, "file_size_bytes", l->file_size_bytes, "rlimit");
	describe_one(o, "open_files", l->open_files,
		     "rlimit (per process)");
	return o;
}

/* Return the count of key in the events file of the run's cgroup, or 0.
 * Keys match at the start of a line, so "oom_kill" skips
 * "oom_group_kill". */
static uint64_t cgroup_event(const char *cgroup, const char *file,
			     const char *key)
{
	char path[320], buf[512];
	size_t len = strlen(key);

	if (!cgroup[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%s", cgroup, file);
	if (read_line(path, buf, sizeof(buf)) < 0)
		return 0;
	for (const char *line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, len) == 0 && line[len] == ' ')
			return strtoull(line + len + 1, NULL, 10);
	}
	return 0;
}

uint64_t sandbox_limits_process_hits(const char *cgroup)
{
	return cgroup_event(cgroup, "pids.events", "max");
}

/*
 * Return the processes that the OOM killer ended in the run's cgroup.
 * oom_kill counts the kills of any OOM killer, the host's too, and oom
 * the times that the cgroup reached memory.max (cgroup-v2.rst in the
 * kernel's documentation). So the kills count only when oom is not 0.
 * A cgroup v1 run has no memory.events, and counts none.
 */
uint64_t sandbox_limits_memory_kills(const char *cgroup)
{
	if (!cgroup_event(cgroup, "memory.events", "oom"))
		return 0;
	return cgroup_event(cgroup, "memory.events", "oom_kill");
}

/* The run's processes are gone when the helper is reaped, but the
 * kernel may free the cgroup a moment later: retry for up to 100 ms. */
void sandbox_limits_remove(const char *cgroup)
{
	if (!cgroup[0])
		return;
	for (int i = 0; i < 100; i++) {
		if (rmdir(cgroup) == 0 || errno != EBUSY)
			return;
		usleep(1000);
	}
}

int sandbox_limits_try_remove(const char *cgroup)
{
	if (!cgroup[0] || rmdir(cgroup) == 0 || errno == ENOENT)
		return 0;
	return -1;
}
