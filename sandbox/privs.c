/*
 * privs.c - drop every privilege the agent could use, in stages.
 *
 * After unshare(CLONE_NEWUSER) the process has every capability in
 * its own user namespace (none on the host). Before execve() they all
 * go: the securebits first, so that a uid of 0 inside the namespace
 * never regains capabilities through execve(); then the bounding and
 * ambient sets; then the effective, permitted and inheritable sets;
 * and no_new_privs, so that setuid and file capabilities are ignored.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

static int fail(const char *what)
{
	sandbox_set_error("cannot drop privileges: '%s': %s", what,
			  strerror(errno));
	return -1;
}

static int last_cap(void)
{
	int cap = CAP_LAST_CAP;

	/* A newer kernel may know more capabilities than these headers. */
	while (prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
		cap++;
	return cap;
}

/* The capabilities that let a process write where the file modes
 * would not let it. */
static const int dac_caps[] = {
	CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
};

int sandbox_privs_file_override(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return fail("capget");
	for (size_t i = 0; i < sizeof(dac_caps) / sizeof(dac_caps[0]); i++) {
		int cap = dac_caps[i];
		uint32_t bit = 1u << (cap % 32);

		if (on)
			data[cap / 32].effective |= bit &
						    data[cap / 32].permitted;
		else
			data[cap / 32].effective &= ~bit;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail("capset");
	return 0;
}

int sandbox_privs_drop(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int top = last_cap();

	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			  SECBIT_NO_SETUID_FIXUP |
			  SECBIT_NO_SETUID_FIXUP_LOCKED |
			  SECBIT_KEEP_CAPS_LOCKED |
			  SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0)
		return fail("securebits");
	for (int cap = 0; cap <= top; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return fail("bounding set");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return fail("ambient set");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail("capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("no_new_privs");
	return 0;
}
