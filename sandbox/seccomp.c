/*
 * seccomp.c - build, describe, digest and load the system call filter.
 *
 * The rules come from one table, built by collect_rules() for a set of
 * options, so the loaded program, its digest and its JSON description
 * cannot disagree. libseccomp compiles the rules to BPF, and this file
 * prepends a short guard of its own that kills the process on foreign
 * architectures and x32 numbers. The build compiles the program of
 * every combination of options once (seccomp_gen.c), and a run compiles
 * only when its libseccomp is not the one the build used. The combined
 * program is loaded with one seccomp() call. So the digest covers
 * exactly what the kernel runs, and a failed load leaves no partial
 * filter behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/digest.h"
#include "sandbox/error.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_internal.h"

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#define NATIVE_ARCH_NAME "x86_64"
#define X32_SYSCALL_BIT 0x40000000U
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#define NATIVE_ARCH_NAME "aarch64"
#else
#error "the seccomp guard knows only x86_64 and aarch64"
#endif

/* From the kernel's include/uapi/linux/memfd.h (Linux 6.3), which the
 * Debian 12 headers predate. */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* From the kernel's include/uapi/linux/ioprio.h, which glibc does not
 * include. */
#ifndef IOPRIO_WHO_PGRP
#define IOPRIO_WHO_PGRP 2
#endif

/* fchmodat2 (Linux 6.6) has this number on x86_64 and aarch64. Debian
 * 12's libseccomp 2.5.4 resolves the name, upstream 2.5.4 does not. */
#define NR_FCHMODAT2 452

/* The kernel's __O_TMPFILE. glibc's name for it includes O_DIRECTORY,
 * which a masked comparison would then require as well. */
#define TMPFILE_FLAG 020000000U

/* The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
#define MAX_INSNS 4096
#define MAX_RULES 160

/* One libseccomp rule and its description. */
struct filter_rule {
	const char *syscall;
	uint32_t action;
	unsigned int arg_count;
	struct scmp_arg_cmp args[2];
	const char *when;	/* the condition in words, or NULL */
	bool report;		/* rule 4b: notify, then continue */
};

struct rule_list {
	struct filter_rule rules[MAX_RULES];
	size_t count;
};

/* A call denied whatever its arguments. Those marked nested are allowed
 * when the policy allows nested user namespaces, because bubblewrap
 * needs them. */
struct denied_call {
	const char *syscall;
	bool nested;
};

static const struct denied_call denied_calls[] = {
	{ "ptrace", false },
	{ "process_vm_readv", false },
	{ "process_vm_writev", false },
	{ "pidfd_getfd", false },	/* takes another process's fds */
	{ "mount", true },
	{ "umount2", true },
	{ "pivot_root", true },
	{ "fsopen", true },
	{ "fsmount", true },
	{ "fsconfig", true },
	{ "move_mount", true },
	{ "open_tree", true },
	{ "fspick", true },
	{ "mount_setattr", true },
	{ "setns", true },
	{ "bpf", false },
	{ "perf_event_open", false },
	{ "kexec_load", false },
	{ "kexec_file_load", false },
	{ "init_module", false },
	{ "finit_module", false },
	{ "delete_module", false },
	{ "keyctl", false },
	{ "add_key", false },
	{ "request_key", false },
	{ "io_uring_setup", false },
	{ "io_uring_enter", false },
	{ "io_uring_register", false },
	{ "userfaultfd", false },
	{ "open_by_handle_at", false },
};

struct flag_name {
	uint64_t flag;
	const char *when;
};

/* CLONE_NEWTIME (0x80) is absent: for clone() that bit belongs to the
 * exit signal, and only unshare and clone3 take it as a flag. */
static const struct flag_name clone_ns_flags[] = {
	{ CLONE_NEWNS, "flags & CLONE_NEWNS" },
	{ CLONE_NEWCGROUP, "flags & CLONE_NEWCGROUP" },
	{ CLONE_NEWUTS, "flags & CLONE_NEWUTS" },
	{ CLONE_NEWIPC, "flags & CLONE_NEWIPC" },
	{ CLONE_NEWUSER, "flags & CLONE_NEWUSER" },
	{ CLONE_NEWPID, "flags & CLONE_NEWPID" },
	{ CLONE_NEWNET, "flags & CLONE_NEWNET" },
};

static const struct flag_name unshare_ns_flags[] = {
	{ CLONE_NEWNS, "flags & CLONE_NEWNS" },
	{ CLONE_NEWCGROUP, "flags & CLONE_NEWCGROUP" },
	{ CLONE_NEWUTS, "flags & CLONE_NEWUTS" },
	{ CLONE_NEWIPC, "flags & CLONE_NEWIPC" },
	{ CLONE_NEWUSER, "flags & CLONE_NEWUSER" },
	{ CLONE_NEWPID, "flags & CLONE_NEWPID" },
	{ CLONE_NEWNET, "flags & CLONE_NEWNET" },
	{ CLONE_NEWTIME, "flags & CLONE_NEWTIME" },
};

/* Socket families denied one by one: every family below AF_NETLINK
 * except AF_UNIX, AF_INET and AF_INET6. Those above it are denied by
 * one range rule. */
static const struct flag_name denied_families[] = {
	{ AF_UNSPEC, "domain == AF_UNSPEC" },
	{ AF_AX25, "domain == AF_AX25" },
	{ AF_IPX, "domain == AF_IPX" },
	{ AF_APPLETALK, "domain == AF_APPLETALK" },
	{ AF_NETROM, "domain == AF_NETROM" },
	{ AF_BRIDGE, "domain == AF_BRIDGE" },
	{ AF_ATMPVC, "domain == AF_ATMPVC" },
	{ AF_X25, "domain == AF_X25" },
	{ AF_ROSE, "domain == AF_ROSE" },
	{ AF_DECnet, "domain == AF_DECnet" },
	{ AF_NETBEUI, "domain == AF_NETBEUI" },
	{ AF_SECURITY, "domain == AF_SECURITY" },
	{ AF_KEY, "domain == AF_KEY" },
};

static int add_rule(struct rule_list *list, const char *syscall,
		    uint32_t action, const char *when, unsigned int arg_count,
		    struct scmp_arg_cmp a, struct scmp_arg_cmp b)
{
	struct filter_rule *rule;

	if (list->count == MAX_RULES) {
		sandbox_set_error("cannot build seccomp filter: '%s': "
				  "more than %d rules", syscall, MAX_RULES);
		return -1;
	}
	rule = &list->rules[list->count++];
	rule->syscall = syscall;
	rule->action = action;
	rule->when = when;
	rule->arg_count = arg_count;
	rule->args[0] = a;
	rule->args[1] = b;
	rule->report = false;
	return 0;
}

static int add_plain(struct rule_list *list, const char *syscall,
		     uint32_t action)
{
	struct scmp_arg_cmp none = { 0 };

	return add_rule(list, syscall, action, NULL, 0, none, none);
}

static int add_one(struct rule_list *list, const char *syscall,
		   uint32_t action, const char *when, struct scmp_arg_cmp a)
{
	struct scmp_arg_cmp none = { 0 };

	return add_rule(list, syscall, action, when, 1, a, none);
}

static int collect_flag_rules(struct rule_list *list, const char *syscall,
			      uint32_t deny, const struct flag_name *flags,
			      size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ,
						  flags[i].flag,
						  flags[i].flag);

		if (add_one(list, syscall, deny, flags[i].when, cmp) < 0)
			return -1;
	}
	return 0;
}

/*
 * The kernel reads the ioctl request as a 32-bit unsigned int, so the
 * mask drops the upper half: TIOCSTI | 1UL << 32 is still TIOCSTI.
 */
static int collect_ioctl_rules(struct rule_list *list, uint32_t deny)
{
	struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					  TIOCSTI);
	struct scmp_arg_cmp linux_ = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					     TIOCLINUX);

	if (add_one(list, "ioctl", deny, "request == TIOCSTI", sti) < 0)
		return -1;
	return add_one(list, "ioctl", deny, "request == TIOCLINUX", linux_);
}

/*
 * Init, PID 1 of the sandbox, runs as the agent's uid, so prlimit(2)
 * could lower its limits, and a CPU limit gets it killed. The kernel
 * reads the pid as an int, hence the mask. A NULL new limit only reads.
 */
static int collect_init_rules(struct rule_list *list, uint32_t deny)
{
	struct scmp_arg_cmp init = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					   1);
	struct scmp_arg_cmp sets = SCMP_A2(SCMP_CMP_NE, 0);

	return add_rule(list, "prlimit64", deny,
			"pid == 1 && new_limit != NULL", 2, init, sets);
}

/*
 * Without a terminal the agent stays in the caller's process group, on
 * the host. A group of 0 means the caller's own group, so these calls
 * would lower the priority of runbundle and the caller's shell. Any
 * other group is looked up in the sandbox's PID namespace.
 */
static int collect_group_rules(struct rule_list *list, uint32_t deny)
{
	struct scmp_arg_cmp nice_group = SCMP_A0(SCMP_CMP_MASKED_EQ,
						 0xffffffffU, PRIO_PGRP);
	struct scmp_arg_cmp io_group = SCMP_A0(SCMP_CMP_MASKED_EQ,
					       0xffffffffU, IOPRIO_WHO_PGRP);
	struct scmp_arg_cmp own = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					  0);

	if (add_rule(list, "setpriority", deny,
		     "which == PRIO_PGRP && who == 0", 2, nice_group,
		     own) < 0)
		return -1;
	return add_rule(list, "ioprio_set", deny,
			"which == IOPRIO_WHO_PGRP && who == 0", 2, io_group,
			own);
}

/*
 * Families are compared on all 64 bits, so that a value with any upper
 * bit set is caught by the "domain > AF_NETLINK" rule even though the
 * kernel would truncate it to an allowed family or a denied one.
 * AF_NETLINK is allowed with NETLINK_ROUTE only: getaddrinfo() and ip(8)
 * need it to list interfaces and addresses.
 */
static int collect_socket_rules(struct rule_list *list, const char *syscall,
				uint32_t deny)
{
	size_t count = sizeof(denied_families) / sizeof(denied_families[0]);
	struct scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, AF_NETLINK);
	struct scmp_arg_cmp netlink = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
	struct scmp_arg_cmp not_route = SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE);

	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_EQ,
						  denied_families[i].flag);

		if (add_one(list, syscall, deny, denied_families[i].when,
			    cmp) < 0)
			return -1;
	}
	if (add_one(list, syscall, deny, "domain > AF_NETLINK", above) < 0)
		return -1;
	return add_rule(list, syscall, deny,
			"domain == AF_NETLINK && protocol != NETLINK_ROUTE",
			2, netlink, not_route);
}

/*
 * The calls that set a file's mode, and the argument that contains it
 * (rule 4c). open and openat use the mode only when their flags create
 * a file. openat2 passes its mode in memory, which the filter cannot
 * read, so it fails with ENOSYS instead, as clone3 does.
 */
struct mode_call {
	const char *syscall;
	int nr;
	unsigned int mode_arg;
	int flags_arg;		/* -1: the mode is always used */
};

static const struct mode_call mode_calls[] = {
#ifdef __NR_chmod
	{ "chmod", __NR_chmod, 1, -1 },
	{ "creat", __NR_creat, 1, -1 },
	{ "mknod", __NR_mknod, 1, -1 },
	{ "open", __NR_open, 2, 1 },
#endif
	{ "fchmod", __NR_fchmod, 1, -1 },
	{ "fchmodat", __NR_fchmodat, 2, -1 },
	{ "fchmodat2", NR_FCHMODAT2, 2, -1 },
	{ "mknodat", __NR_mknodat, 2, -1 },
	{ "openat", __NR_openat, 3, 2 },
};

/* The conditions of rule 4c, one rule each: a comparison can test one
 * bit of an argument, and a rule can only require all of its
 * comparisons. */
struct id_bit_rule {
	uint64_t create;	/* an open flag, or 0 for the other calls */
	uint64_t bit;
	const char *when;
};

static const struct id_bit_rule id_bit_rules[] = {
	{ 0, S_ISUID, "mode & S_ISUID" },
	{ 0, S_ISGID, "mode & S_ISGID" },
	{ O_CREAT, S_ISUID, "flags & O_CREAT && mode & S_ISUID" },
	{ O_CREAT, S_ISGID, "flags & O_CREAT && mode & S_ISGID" },
	{ TMPFILE_FLAG, S_ISUID, "flags & O_TMPFILE && mode & S_ISUID" },
	{ TMPFILE_FLAG, S_ISGID, "flags & O_TMPFILE && mode & S_ISGID" },
};

static struct scmp_arg_cmp masked(unsigned int arg, uint64_t bit)
{
	return (struct scmp_arg_cmp){
		.arg = arg, .op = SCMP_CMP_MASKED_EQ,
		.datum_a = bit, .datum_b = bit,
	};
}

static int collect_mode_call(struct rule_list *list,
			     const struct mode_call *call, uint32_t deny)
{
	size_t count = sizeof(id_bit_rules) / sizeof(id_bit_rules[0]);

	for (size_t i = 0; i < count; i++) {
		const struct id_bit_rule *r = &id_bit_rules[i];
		struct scmp_arg_cmp mode = masked(call->mode_arg, r->bit);
		int rc;

		if ((r->create != 0) != (call->flags_arg >= 0))
			continue;
		if (r->create)
			rc = add_rule(list, call->syscall, deny, r->when, 2,
				      masked((unsigned int)call->flags_arg,
					     r->create), mode);
		else
			rc = add_one(list, call->syscall, deny, r->when,
				     mode);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * A file that the agent makes set-user-ID or set-group-ID keeps the bit
 * on the host, where its mount is not nosuid. So a copy of a shell made
 * by an agent that runs as root would give any local user a root shell.
 * The mode is a register value, which the kernel copies before the
 * filter runs, so another thread cannot change it after the check.
 */
static int collect_mode_rules(struct rule_list *list, uint32_t deny)
{
	size_t count = sizeof(mode_calls) / sizeof(mode_calls[0]);

	for (size_t i = 0; i < count; i++) {
		if (collect_mode_call(list, &mode_calls[i], deny) < 0)
			return -1;
	}
	return 0;
}

bool sandbox_seccomp_sets_id_bits(const struct seccomp_data *data)
{
	size_t count = sizeof(mode_calls) / sizeof(mode_calls[0]);
	const struct mode_call *call = NULL;

	for (size_t i = 0; i < count && !call; i++) {
		if (mode_calls[i].nr == data->nr)
			call = &mode_calls[i];
	}
	if (!call)
		return false;
	if (call->flags_arg >= 0 &&
	    !(data->args[call->flags_arg] & (O_CREAT | TMPFILE_FLAG)))
		return false;
	return (data->args[call->mode_arg] & (S_ISUID | S_ISGID)) != 0;
}

static int collect_namespace_rules(struct rule_list *list, uint32_t deny)
{
	size_t clone_count = sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]);
	size_t unshare_count =
		sizeof(unshare_ns_flags) / sizeof(unshare_ns_flags[0]);

	if (collect_flag_rules(list, "clone", deny, clone_ns_flags,
			       clone_count) < 0)
		return -1;
	return collect_flag_rules(list, "unshare", deny, unshare_ns_flags,
				  unshare_count);
}

/* Calls that notify for a report whatever their arguments (rule 4b).
 * Those that take a path, or a pointer to flags, cannot be filtered on
 * it, so the supervisor reads it. The names the x86_64 ABI lacks on
 * aarch64 (open, mkdir and the like) are skipped there. */
static const char *const reported_calls[] = {
	"creat", "mkdir", "mkdirat", "mknod", "mknodat",
	"unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2",
	"link", "linkat", "symlink", "symlinkat", "truncate", "chmod",
	"fchmodat", "chown", "lchown", "fchownat", "utime", "utimes",
	"futimesat", "setxattr", "lsetxattr", "removexattr", "lremovexattr",
	"connect",
};

/* The open flags that ask for writing or creating. O_TMPFILE and
 * O_APPEND need O_WRONLY or O_RDWR, so these four catch them too. */
static const struct flag_name write_flags[] = {
	{ O_WRONLY, "flags & O_WRONLY" },
	{ O_RDWR, "flags & O_RDWR" },
	{ O_CREAT, "flags & O_CREAT" },
	{ O_TRUNC, "flags & O_TRUNC" },
};

static int collect_open_rules(struct rule_list *list, const char *syscall,
			      unsigned int flags_arg)
{
	size_t count = sizeof(write_flags) / sizeof(write_flags[0]);

	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = {
			.arg = flags_arg, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = (scmp_datum_t)write_flags[i].flag,
			.datum_b = (scmp_datum_t)write_flags[i].flag,
		};

		if (add_one(list, syscall, SCMP_ACT_NOTIFY,
			    write_flags[i].when, cmp) < 0)
			return -1;
	}
	return 0;
}

static int collect_report_calls(struct rule_list *list)
{
	size_t count = sizeof(reported_calls) / sizeof(reported_calls[0]);
	struct scmp_arg_cmp has_path = SCMP_A1(SCMP_CMP_NE, 0);
	struct scmp_arg_cmp has_dest = SCMP_A4(SCMP_CMP_NE, 0);

	for (size_t i = 0; i < count; i++) {
		if (seccomp_syscall_resolve_name(reported_calls[i]) < 0)
			continue;
		if (add_plain(list, reported_calls[i], SCMP_ACT_NOTIFY) < 0)
			return -1;
	}
	if (seccomp_syscall_resolve_name("open") >= 0 &&
	    collect_open_rules(list, "open", 1) < 0)
		return -1;
	if (collect_open_rules(list, "openat", 2) < 0)
		return -1;
	/* utimensat with a NULL path works on the fd, opened before. */
	if (add_one(list, "utimensat", SCMP_ACT_NOTIFY, "path != NULL",
		    has_path) < 0)
		return -1;
	return add_one(list, "sendto", SCMP_ACT_NOTIFY, "dest_addr != NULL",
		       has_dest);
}

static int collect_report_rules(struct rule_list *list)
{
	size_t first = list->count;

	if (collect_report_calls(list) < 0)
		return -1;
	for (size_t i = first; i < list->count; i++)
		list->rules[i].report = true;
	return 0;
}

/*
 * MFD_NOEXEC_SEAL makes the memfd non-executable for good (mode 0666
 * and F_SEAL_EXEC), which is what vm.memfd_noexec = 2 does to every
 * memfd. The flags are a register value, so the check cannot race.
 */
static int collect_memfd_rule(struct rule_list *list)
{
	struct scmp_arg_cmp unsealed = SCMP_A1(SCMP_CMP_MASKED_EQ,
					       MFD_NOEXEC_SEAL, 0);

	return add_one(list, "memfd_create", SCMP_ACT_ERRNO(EPERM),
		       "!(flags & MFD_NOEXEC_SEAL)", unsealed);
}

/* A child made with CLONE_UNTRACED escapes the tracer: it would run,
 * and write files, outside the recorded process tree. */
static const struct flag_name untraced = {
	CLONE_UNTRACED, "flags & CLONE_UNTRACED"
};

static int collect_rules(const struct sandbox_seccomp_options *opts,
			 struct rule_list *list)
{
	uint32_t deny = opts->notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	size_t count = sizeof(denied_calls) / sizeof(denied_calls[0]);

	list->count = 0;
	for (size_t i = 0; i < count; i++) {
		if (denied_calls[i].nested && opts->allow_nested_userns)
			continue;
		if (add_plain(list, denied_calls[i].syscall, deny) < 0)
			return -1;
	}
	if (!opts->allow_nested_userns &&
	    collect_namespace_rules(list, deny) < 0)
		return -1;
	/* ENOSYS, not EPERM, makes callers fall back: the C library to
	 * clone, a program that tries openat2 first to openat. */
	if (add_plain(list, "clone3", SCMP_ACT_ERRNO(ENOSYS)) < 0 ||
	    add_plain(list, "openat2", SCMP_ACT_ERRNO(ENOSYS)) < 0 ||
	    collect_ioctl_rules(list, deny) < 0 ||
	    collect_init_rules(list, deny) < 0 ||
	    collect_group_rules(list, deny) < 0 ||
	    collect_socket_rules(list, "socket", deny) < 0 ||
	    collect_socket_rules(list, "socketpair", deny) < 0 ||
	    collect_mode_rules(list, deny) < 0)
		return -1;
	if (opts->seal_memfd && collect_memfd_rule(list) < 0)
		return -1;
	if (opts->notify && opts->report && collect_report_rules(list) < 0)
		return -1;
	if (opts->trace_exec &&
	    (add_plain(list, "execve", SCMP_ACT_TRACE(0)) < 0 ||
	     add_plain(list, "execveat", SCMP_ACT_TRACE(0)) < 0 ||
	     collect_flag_rules(list, "clone", deny, &untraced, 1) < 0))
		return -1;
	return 0;
}

/* The number of a system call on this architecture, or
 * __NR_SCMP_ERROR. A libseccomp older than the kernel does not know
 * fchmodat2, and a filter without it would let it set any mode. */
static int syscall_number(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR && strcmp(name, "fchmodat2") == 0)
		return NR_FCHMODAT2;
	return nr;
}

static int apply_rule(scmp_filter_ctx ctx, const struct filter_rule *rule)
{
	int nr = syscall_number(rule->syscall);
	int rc;

	if (nr == __NR_SCMP_ERROR) {
		sandbox_set_error("cannot build seccomp filter: '%s': "
				  "system call unknown to libseccomp %u.%u",
				  rule->syscall, seccomp_version()->major,
				  seccomp_version()->minor);
		sandbox_set_hint("install libseccomp 2.5.4 or later");
		return -1;
	}
	rc = seccomp_rule_add_array(ctx, rule->action, nr, rule->arg_count,
				    rule->args);
	if (rc < 0) {
		sandbox_set_error("cannot add seccomp rule: '%s': %s",
				  rule->syscall, strerror(-rc));
		return -1;
	}
	return 0;
}

static scmp_filter_ctx build_context(const struct rule_list *list)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "seccomp_init", strerror(ENOMEM));
		return NULL;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS) < 0) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "SCMP_FLTATR_ACT_BADARCH", "rejected");
		seccomp_release(ctx);
		return NULL;
	}
	/* A binary tree of system call numbers instead of a linear list:
	 * an allowed call like read runs 16 instructions instead of 46
	 * (bench/seccomp_bench). */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "SCMP_FLTATR_CTL_OPTIMIZE", "rejected");
		seccomp_release(ctx);
		return NULL;
	}
	for (size_t i = 0; i < list->count; i++) {
		if (apply_rule(ctx, &list->rules[i]) < 0) {
			seccomp_release(ctx);
			return NULL;
		}
	}
	return ctx;
}

/*
 * The guard runs before libseccomp's program and falls through into it.
 * libseccomp emits an x32 check of its own today, but that is an
 * implementation detail of its x86_64 code generator, so the guard does
 * not rely on it. A system call number of -1 is what a tracer leaves
 * when it skips a call; it passes, as in libseccomp's own check.
 */
static const struct sock_filter guard[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#ifdef X32_SYSCALL_BIT
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
};

#define GUARD_LEN (sizeof(guard) / sizeof(guard[0]))

/* A compiled program: the guard followed by libseccomp's instructions. */
struct program {
	struct sock_filter insns[MAX_INSNS];
	size_t len;
};

static int read_exported(int fd, struct program *prog)
{
	size_t room = (MAX_INSNS - GUARD_LEN) * sizeof(struct sock_filter);
	char *dst = (char *)&prog->insns[GUARD_LEN];
	size_t got = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, dst + got, room - got)) > 0)
		got += (size_t)n;
	if (n < 0)
		return -1;
	if (got == room || got % sizeof(struct sock_filter) != 0) {
		errno = E2BIG;
		return -1;
	}
	prog->len = GUARD_LEN + got / sizeof(struct sock_filter);
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor, so a memfd carries
 * the program into memory. */
static int export_program(scmp_filter_ctx ctx, struct program *prog)
{
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	int rc;

	if (fd < 0) {
		sandbox_set_error("cannot export seccomp filter: '%s': %s",
				  "memfd_create", strerror(errno));
		return -1;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		sandbox_set_error("cannot export seccomp filter: '%s': %s",
				  "seccomp_export_bpf", strerror(-rc));
		close(fd);
		return -1;
	}
	memcpy(prog->insns, guard, sizeof(guard));
	if (read_exported(fd, prog) < 0) {
		sandbox_set_error("cannot export seccomp filter: '%s': %s",
				  "read", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int compile(const struct sandbox_seccomp_options *opts,
		   struct program *prog)
{
	struct rule_list *list = malloc(sizeof(*list));
	scmp_filter_ctx ctx = NULL;
	int rc = -1;

	if (!list) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "rules", strerror(ENOMEM));
		return -1;
	}
	if (collect_rules(opts, list) < 0)
		goto out;
	ctx = build_context(list);
	if (!ctx)
		goto out;
	rc = export_program(ctx, prog);
out:
	if (ctx)
		seccomp_release(ctx);
	free(list);
	return rc;
}

int sandbox_seccomp_compile(const struct sandbox_seccomp_options *opts,
			    struct sandbox_seccomp_program *out)
{
	struct program *prog = malloc(sizeof(*prog));
	struct sock_filter *insns;

	if (!prog) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "program", strerror(ENOMEM));
		return -1;
	}
	if (compile(opts, prog) < 0) {
		free(prog);
		return -1;
	}
	insns = malloc(prog->len * sizeof(*insns));
	if (!insns) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "program", strerror(ENOMEM));
		free(prog);
		return -1;
	}
	memcpy(insns, prog->insns, prog->len * sizeof(*insns));
	out->insns = insns;
	out->len = prog->len;
	free(prog);
	return 0;
}

unsigned int sandbox_seccomp_option_index(
	const struct sandbox_seccomp_options *o)
{
	return (unsigned int)o->allow_nested_userns |
	       (unsigned int)o->trace_exec << 1 |
	       (unsigned int)o->notify << 2 | (unsigned int)o->report << 3 |
	       (unsigned int)o->seal_memfd << 4;
}

void sandbox_seccomp_option_set(unsigned int index,
				struct sandbox_seccomp_options *o)
{
	o->allow_nested_userns = index & 1;
	o->trace_exec = index & 2;
	o->notify = index & 4;
	o->report = index & 8;
	o->seal_memfd = index & 16;
}

/*
 * Whether the programs compiled at build time (seccomp_builtin.c) came
 * from the libseccomp that this process runs. Another version may emit
 * other instructions for the same rules, so its programs are compiled
 * here instead.
 */
static bool builtin_matches(void)
{
	const struct scmp_version *v = seccomp_version();
	char version[32];

	snprintf(version, sizeof(version), "%u.%u.%u", v->major, v->minor,
		 v->micro);
	return strcmp(version, sandbox_seccomp_builtin_version) == 0;
}

/* Programs compiled in this process, one slot per combination of
 * options, kept for the life of the process. */
static _Atomic(struct sandbox_seccomp_program *)
	compiled_cache[SANDBOX_SECCOMP_COMBINATIONS];

/*
 * Return the program for opts: the one compiled at build time, or one
 * compiled here on first use. The slot is filled with a
 * compare-and-swap, so two threads that compile at once both succeed:
 * the first keeps its program and the second frees its own. A child
 * forked meanwhile finds either an empty slot, and compiles, or a
 * complete program.
 */
static const struct sandbox_seccomp_program *
compiled_get(const struct sandbox_seccomp_options *opts)
{
	unsigned int index = sandbox_seccomp_option_index(opts);
	const struct sandbox_seccomp_program *builtin =
		&sandbox_seccomp_builtins[index];
	_Atomic(struct sandbox_seccomp_program *) *slot =
		&compiled_cache[index];
	struct sandbox_seccomp_program *c = atomic_load(slot);
	struct sandbox_seccomp_program *expected = NULL;

	if (builtin->len && builtin_matches())
		return builtin;
	if (c)
		return c;
	c = malloc(sizeof(*c));
	if (!c) {
		sandbox_set_error("cannot build seccomp filter: '%s': %s",
				  "program", strerror(ENOMEM));
		return NULL;
	}
	if (sandbox_seccomp_compile(opts, c) < 0) {
		free(c);
		return NULL;
	}
	if (!atomic_compare_exchange_strong(slot, &expected, c)) {
		free((void *)c->insns);
		free(c);
		return expected;
	}
	return c;
}

int sandbox_seccomp_prepare(const struct sandbox_seccomp_options *opts)
{
	return compiled_get(opts) ? 0 : -1;
}

bool sandbox_seccomp_memfd_sysctl(void)
{
	const char *path = "/proc/sys/vm/memfd_noexec";
	char value[16] = "";
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, value, sizeof(value) - 1);
	close(fd);
	if (n > 0 && atoi(value) >= 2)
		return true;
	return access(path, W_OK) == 0;
}

static int install(const struct sandbox_seccomp_program *prog, bool notify)
{
	struct sock_fprog fprog = {
		.len = (unsigned short)prog->len,
		.filter = (struct sock_filter *)prog->insns,
	};
	unsigned long flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long rc;

	/* Without CAP_SYS_ADMIN the kernel accepts a filter only under
	 * no_new_privs, and the sandbox wants it anyway. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sandbox_set_error("cannot set no_new_privs: '%s': %s",
				  "PR_SET_NO_NEW_PRIVS", strerror(errno));
		return -1;
	}
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	if (rc < 0) {
		sandbox_set_error("cannot load seccomp filter: '%zu "
				  "instructions': %s", prog->len,
				  strerror(errno));
		if (errno == EBUSY)
			sandbox_set_hint("another filter of this process "
					 "already has a listener");
		return -1;
	}
	return (int)rc;
}

int sandbox_seccomp_load(const struct sandbox_seccomp_options *opts,
			 int *listener)
{
	const struct sandbox_seccomp_program *compiled;
	int rc;

	if (listener)
		*listener = -1;
	if (opts->notify && !listener) {
		sandbox_set_error("cannot load seccomp filter: '%s': %s",
				  "notify", "no place for the listener");
		return -1;
	}
	compiled = compiled_get(opts);
	if (!compiled)
		return -1;
	rc = install(compiled, opts->notify);
	if (rc < 0)
		return -1;
	if (opts->notify)
		*listener = rc;
	return 0;
}

int sandbox_seccomp_digest(const struct sandbox_seccomp_options *opts,
			   char hex[65])
{
	const struct sandbox_seccomp_program *compiled = compiled_get(opts);

	if (!compiled)
		return -1;
	return sandbox_sha256_hex(compiled->insns,
				  compiled->len *
					  sizeof(struct sock_filter),
				  hex);
}

static const char *action_name(const struct filter_rule *rule)
{
	uint32_t action = rule->action;

	if (rule->report)
		return "report";
	if (action == SCMP_ACT_NOTIFY || action == SCMP_ACT_ERRNO(EPERM))
		return "deny";
	if (action == SCMP_ACT_ERRNO(ENOSYS))
		return "enosys";
	if (action == SCMP_ACT_TRACE(0))
		return "trace";
	return "other";
}

static cJSON *describe_rule(const struct filter_rule *rule)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "syscall", rule->syscall);
	cJSON_AddStringToObject(obj, "action", action_name(rule));
	if (!rule->report && (rule->action == SCMP_ACT_NOTIFY ||
			      rule->action == SCMP_ACT_ERRNO(EPERM)))
		cJSON_AddStringToObject(obj, "errno", "EPERM");
	else if (rule->action == SCMP_ACT_ERRNO(ENOSYS))
		cJSON_AddStringToObject(obj, "errno", "ENOSYS");
	cJSON_AddBoolToObject(obj, "counted", rule->action == SCMP_ACT_NOTIFY);
	if (rule->when)
		cJSON_AddStringToObject(obj, "when", rule->when);
	return obj;
}

static cJSON *describe_rules(const struct rule_list *list)
{
	cJSON *rules = cJSON_CreateArray();

	if (!rules)
		return NULL;
	for (size_t i = 0; i < list->count; i++) {
		cJSON *rule = describe_rule(&list->rules[i]);

		if (!rule) {
			cJSON_Delete(rules);
			return NULL;
		}
		cJSON_AddItemToArray(rules, rule);
	}
	return rules;
}

static cJSON *describe_options(const struct sandbox_seccomp_options *opts)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddBoolToObject(obj, "allow_nested_userns",
			      opts->allow_nested_userns);
	cJSON_AddBoolToObject(obj, "trace_exec", opts->trace_exec);
	cJSON_AddBoolToObject(obj, "notify", opts->notify);
	cJSON_AddBoolToObject(obj, "report", opts->report);
	cJSON_AddBoolToObject(obj, "seal_memfd", opts->seal_memfd);
	return obj;
}

static int describe_into(cJSON *root,
			 const struct sandbox_seccomp_options *opts)
{
	const struct scmp_version *version = seccomp_version();
	struct rule_list *list = malloc(sizeof(*list));
	char libseccomp[32];
	char hex[65];
	cJSON *rules;

	if (!list) {
		sandbox_set_error("cannot describe seccomp filter: '%s': %s",
				  "rules", strerror(ENOMEM));
		return -1;
	}
	if (collect_rules(opts, list) < 0 ||
	    sandbox_seccomp_digest(opts, hex) < 0) {
		free(list);
		return -1;
	}
	rules = describe_rules(list);
	free(list);
	if (!rules) {
		sandbox_set_error("cannot describe seccomp filter: '%s': %s",
				  "rules", strerror(ENOMEM));
		return -1;
	}
	snprintf(libseccomp, sizeof(libseccomp), "%u.%u.%u", version->major,
		 version->minor, version->micro);
	cJSON_AddStringToObject(root, "libseccomp", libseccomp);
	cJSON_AddStringToObject(root, "arch", NATIVE_ARCH_NAME);
	cJSON_AddItemToObject(root, "options", describe_options(opts));
	cJSON_AddStringToObject(root, "default", "allow");
	cJSON_AddStringToObject(root, "foreign_arch", "kill_process");
#ifdef X32_SYSCALL_BIT
	cJSON_AddStringToObject(root, "x32", "kill_process");
#endif
	cJSON_AddItemToObject(root, "rules", rules);
	cJSON_AddStringToObject(root, "sha256", hex);
	return 0;
}

cJSON *sandbox_seccomp_describe(const struct sandbox_seccomp_options *opts)
{
	cJSON *root = cJSON_CreateObject();

	if (!root) {
		sandbox_set_error("cannot describe seccomp filter: '%s': %s",
				  "root", strerror(ENOMEM));
		return NULL;
	}
	if (describe_into(root, opts) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
