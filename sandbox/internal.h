/*
 * internal.h - what the files of the sandbox library share. Nothing
 * here is part of the public interface (sandbox.h, policy.h).
 *
 * The parent computes a plan before it forks, so that the processes of
 * the sandbox only carry it out. Functions that run inside the sandbox
 * (marked "child") report failure like the rest of the library, and
 * their caller sends the stored message to the parent.
 */
#ifndef SANDBOX_INTERNAL_H
#define SANDBOX_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sandbox/policy.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"

/* Return the text of number, a value in the tree that cJSON parsed
 * from text, as the text writes it (policy_number.c). NULL when it is
 * not found; the caller frees. */
char *policy_number_text(const char *text, size_t len, const cJSON *root,
			 const cJSON *number);

/* Return why text is not JSON, from the byte at which cJSON stopped
 * (policy_syntax.c): a static string, or NULL when no rule names it. */
const char *policy_syntax_reason(const char *text, size_t len, size_t at);

/* The argument area of the caller, found and copied before the fork
 * (cmdline.c). */
struct sandbox_cmdline {
	char *area;		/* the same address in every fork */
	size_t len;
	char *saved;		/* a copy of the area, malloc()ed */
	char **argv;		/* the command's argv, with strings
				 * from saved where they lie in the area */
};

struct sandbox_plan {
	const struct sandbox_config *config;
	const struct sandbox_policy *policy;

	char workspace[PATH_MAX];	/* host path, resolved */
	char inside[PATH_MAX];		/* where it appears inside */

	uid_t outside_uid, inside_uid;
	gid_t outside_gid, inside_gid;

	char **envp;			/* the agent's environment */

	char cgroup[256];		/* the run's cgroup directory, or "" */
	char cgroup_kind[8];		/* "cgroup2", "cgroup1" or "" */

	int landlock_abi;		/* 0 when Landlock is missing */
	bool new_session;		/* init calls setsid(): the caller
					 * has a controlling terminal */
	long threads;			/* of the caller, or -1 */
	mode_t umask;			/* the command's */
	struct rlimit rlimits[RLIM_NLIMITS];	/* what the command gets
					 * where the policy sets no limit */
	struct sandbox_cmdline cmdline;
	struct sandbox_seccomp_options seccomp;
};

/* namespace.c. Five of the six namespaces of a run, created at once;
 * the network namespace is made beside the mounts (beside.c). */
#define SANDBOX_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | \
			  CLONE_NEWIPC | CLONE_NEWUTS)
int sandbox_ns_unshare(void);				/* child */
int sandbox_ns_map_ids(const struct sandbox_plan *plan); /* child */
int sandbox_ns_setup_uts(const char *hostname);		/* child */
int sandbox_ns_loopback_up(void);			/* child */
int sandbox_ns_listen(uint16_t port);			/* child */
void sandbox_ns_explain(int err, const char *step);

/* error_keep.c: an error kept while other steps run, which store their
 * own, or carried from the thread that failed to another (error.h
 * stores one per thread). keep() copies the current error into k, and
 * restore() makes k's the current error again and returns -1. */
struct sandbox_kept_error {
	char message[1024];
	char hint[512];
};
void sandbox_error_keep(struct sandbox_kept_error *k);
int sandbox_error_restore(const struct sandbox_kept_error *k);

/* beside.c: the thread beside init, which makes the network namespace.
 * start() starts it, and join() waits for it and moves the caller into
 * the namespace. Both return 0, or -1 with the error set. Both run in
 * init. */
struct sandbox_beside {
	pthread_t thread;
	bool started;
	int netns_fd;		/* the network namespace, or -1 */
	struct sandbox_kept_error error;	/* the thread's error */
};
int sandbox_beside_start(struct sandbox_beside *s);		/* child */
int sandbox_beside_join(struct sandbox_beside *s);		/* child */

/* Read a small text file such as one of /proc into buf, NUL-terminated:
 * the byte count, or -1 when it cannot be read or is empty. */
ssize_t sandbox_read_text(const char *path, char *buf, size_t size);

/* mounts.c: check before the run that no directory of a workspace part
 * is a symlink or a mount, which the build would reject: 0, or -1 with
 * the error and a hint set. A missing or unreadable part is left to the
 * build. */
int sandbox_mounts_check_parts(const struct sandbox_plan *plan);
/* mounts.c: assemble the root, pivot into it. Appends one object per
 * mount to mounts. */
int sandbox_mounts_build(const struct sandbox_plan *plan,
			 cJSON *mounts);			/* child */

/* landlock.c */
int sandbox_landlock_abi(void);
int sandbox_landlock_apply(const struct sandbox_plan *plan); /* child */
cJSON *sandbox_landlock_describe(const struct sandbox_plan *plan);

/* limits.c */
int sandbox_limits_prepare(struct sandbox_plan *plan);
int sandbox_limits_open_cgroup(const struct sandbox_plan *plan,
			       int *fd);			/* child */
int sandbox_limits_join_cgroup(const struct sandbox_plan *plan,
			       int fd);				/* child */
int sandbox_limits_apply(const struct sandbox_plan *plan);	/* child */
cJSON *sandbox_limits_describe(const struct sandbox_plan *plan);
/* The umask and rlimits that the command gets from the caller, or from
 * config->inherit: plan_inherited() fills them in the caller, restore()
 * sets the rlimits of config->inherit in the command, before the
 * policy's, and describe_inherited() lists them, with only the rlimits
 * that the policy does not set. */
int sandbox_limits_plan_inherited(struct sandbox_plan *plan);
int sandbox_limits_restore(const struct sandbox_plan *plan);	/* child */
cJSON *sandbox_limits_describe_inherited(const struct sandbox_plan *plan);
uint64_t sandbox_limits_process_hits(const char *cgroup);
uint64_t sandbox_limits_memory_kills(const char *cgroup);
void sandbox_limits_remove(const char *cgroup);
/* Remove the cgroup once, without waiting: 0 when it is gone or there
 * is none, -1 with errno set (EBUSY while a process is in it). */
int sandbox_limits_try_remove(const char *cgroup);

/* env.c: the agent's environment. The caller frees it with
 * sandbox_env_free(). Returns NULL with a message. */
char **sandbox_env_build(const struct sandbox_plan *plan);
void sandbox_env_free(char **envp);

/* privs.c: drop every capability and set no_new_privs. */
int sandbox_privs_drop(void);				/* child */
/* privs.c: with on false, take CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
 * and CAP_FOWNER out of the effective set, so that the file modes apply
 * as they do to the agent. With on true, put back those of them that
 * are permitted. */
int sandbox_privs_file_override(bool on);		/* child */

/* created.c: sandbox_created_collect() keeps the parts that the
 * mounts list as created for the run, and sandbox_created_remove()
 * removes them from the host's workspace after it, if still empty. */
int sandbox_created_collect(struct sandbox_child *child, const cJSON *mounts,
			    const char *workspace);
void sandbox_created_remove(struct sandbox_child *child);
/* sandbox_created_remove_early() does the same once init has reaped the
 * agent's processes, before the teardown. It returns -1, and keeps the
 * parts for sandbox_created_remove(), when a directory was busy. */
int sandbox_created_remove_early(struct sandbox_child *child);
/* git_redirect.c: note the files by which a git directory takes its
 * config from elsewhere, when the policy protects the workspace's git
 * config or hooks, and store in r the first that the run created or
 * changed. */
void sandbox_git_watch_start(struct sandbox_child *child,
			     const struct sandbox_policy *policy,
			     const char *workspace);
void sandbox_git_watch_check(const struct sandbox_child *child,
			     struct sandbox_result *r);

/* created.c: sandbox_created_lock() takes a shared flock() on the
 * workspace for the run. The removal needs it as the only lock on the
 * workspace, and releases it, as sandbox_created_unlock() does. Neither
 * fails, because without the lock the parts are removed as before. */
void sandbox_created_lock(struct sandbox_child *child, const char *workspace);
void sandbox_created_unlock(struct sandbox_child *child);

/* placement.c: sandbox_path_within() returns whether path equals dir
 * or lies inside it (both normalised and absolute).
 * sandbox_placement_conflict() returns the system, read-only or (with
 * hidden_too) hidden path of p that path equals, contains or lies
 * inside (a hidden path only counts when path equals or contains it),
 * or NULL; resolve also compares the paths of p that exist on the host
 * as realpath() resolves them. sandbox_placement_check() rejects a
 * workspace or HOME that would cover a system path or each other,
 * with a message and a hint. */
bool sandbox_path_within(const char *path, const char *dir);
const char *sandbox_placement_conflict(const char *path,
				       const struct sandbox_policy *p,
				       bool resolve, bool hidden_too);
int sandbox_placement_check(const struct sandbox_plan *plan);

/* cmdline.c: sandbox_cmdline_save() finds this process's argument
 * area in stat, the text of /proc/self/stat, and copies it before the
 * fork, with argv, the command to run, whose strings may point into the
 * area. sandbox_cmdline_hide() overwrites the area with name and sets
 * the command name, so that /proc/PID/cmdline shows no host detail.
 * The agent shares init's memory until it executes, so it leaves the
 * area hidden and runs c->argv, an argv whose strings lie in the copy.
 * sandbox_stat_field() returns the text after field number field (3 or
 * more) of stat, or NULL. */
const char *sandbox_stat_field(const char *stat, int field);
int sandbox_cmdline_save(struct sandbox_cmdline *c, const char *stat,
			 char *const *argv);
int sandbox_cmdline_hide(const struct sandbox_cmdline *c,
			 const char *name);			/* child */
void sandbox_cmdline_free(struct sandbox_cmdline *c);

/* describe.c */
cJSON *sandbox_describe(const struct sandbox_plan *plan, cJSON *mounts);

#define SANDBOX_DEFAULT_PATH \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The PATH inside the sandbox, from env.set or the default. */
const char *sandbox_plan_path(const struct sandbox_plan *plan);

/* cgroup2.c: return the directory below which the run's cgroup v2 goes
 * (own itself, or the cgroup it was moved out of) once its
 * cgroup.subtree_control enables pids and memory, or NULL. Sets no
 * error, because the run then takes the next kind of limit. */
const char *sandbox_cgroup2_room(const char *own);

/* Write all of buf to path (a file under /proc or a cgroup). Returns 0
 * or -1 with errno set. */
int sandbox_write_file(const char *path, const char *buf);

#endif
