/*
 * tracer_child.c - the child side of the tracer: the seccomp filter that
 * stops execs, and the stop that lets the parent seize.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "harness/error.h"
#include "harness/tracer.h"

/*
 * The 32-bit ABIs are in the filter too: without them libseccomp would
 * kill a 32-bit program outright (its default bad-arch action), and with
 * them their execs are traced like native ones.
 */
static int add_arches(scmp_filter_ctx ctx)
{
	static const uint32_t extra[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	uint32_t native = seccomp_arch_native();

	if (native != SCMP_ARCH_X86_64)
		return 0;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		int rc = seccomp_arch_add(ctx, extra[i]);

		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	return 0;
}

static scmp_filter_ctx build_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (!ctx)
		return NULL;

	/* no_new_privs is set below only when the filter needs it; the
	 * kernel's own errno is wanted, not libseccomp's ECANCELED. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc == 0)
		rc = add_arches(ctx);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0),
				      SCMP_SYS(execve), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0),
				      SCMP_SYS(execveat), 0);
	/* A child made with CLONE_UNTRACED is not attached, so nothing it
	 * ran would be recorded. clone3 passes its flags in memory, where
	 * no filter can read them, so it fails and the C library falls
	 * back to clone. The sandbox's own filter denies both this way. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ,
					      CLONE_UNTRACED, CLONE_UNTRACED));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      SCMP_SYS(clone3), 0);
	if (rc < 0) {
		seccomp_release(ctx);
		errno = -rc;
		return NULL;
	}
	return ctx;
}

/*
 * Loading a filter needs CAP_SYS_ADMIN or no_new_privs. Without the
 * capability, no_new_privs is set: a setuid program then runs without
 * its privileges, which ptrace would deny it anyway.
 */
static int load_filter(scmp_filter_ctx ctx)
{
	int rc = seccomp_load(ctx);

	if (rc == -EACCES || rc == -EPERM) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -errno;
		rc = seccomp_load(ctx);
	}
	return rc;
}

static volatile sig_atomic_t resumed;

static void on_sigcont(int sig)
{
	(void)sig;
	resumed = 1;
}

/*
 * Wait for the tracer's SIGCONT with a handler, not in a SIGSTOP: the
 * init of a PID namespace ignores a SIGSTOP that it sends itself, and
 * the sandbox's child is often that init. SIGCONT stays blocked outside
 * sigsuspend(), so that it cannot come between the check and the wait.
 * The tracer sees the handler in /proc/PID/status (SigCgt) and only then
 * seizes and signals.
 */
static int wait_for_tracer(void)
{
	struct sigaction sa = { .sa_handler = on_sigcont }, old_action;
	sigset_t block, old_mask, wait_mask;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGCONT);
	if (sigprocmask(SIG_BLOCK, &block, &old_mask) < 0)
		return -1;
	resumed = 0;
	if (sigaction(SIGCONT, &sa, &old_action) < 0) {
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		return -1;
	}
	wait_mask = old_mask;
	sigdelset(&wait_mask, SIGCONT);
	while (!resumed)
		sigsuspend(&wait_mask);

	/* The caller's own disposition and mask carry over to the exec. */
	sigaction(SIGCONT, &old_action, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return 0;
}

int harness_tracer_child_wait(void)
{
	if (wait_for_tracer() < 0) {
		harness_set_error("cannot wait for the tracer: %s",
				  strerror(errno));
		return -1;
	}
	return 0;
}

int harness_tracer_child_prepare(void)
{
	scmp_filter_ctx ctx = build_filter();
	int rc;

	if (!ctx) {
		harness_set_error("cannot build the exec filter: %s",
				  strerror(errno));
		return -1;
	}
	rc = load_filter(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		harness_set_error("cannot install the exec filter: %s",
				  strerror(errno));
		return -1;
	}

	/* From here on every execve without a tracer fails with ENOSYS. */
	return harness_tracer_child_wait();
}
