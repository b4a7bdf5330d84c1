/*
 * link_kill_preload.c - an LD_PRELOAD library for the creation tests.
 * The process kills itself with SIGKILL as soon as link() succeeds, the
 * moment a new bundle gets its name, before anything opens it there.
 */
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

typedef int (*link_fn)(const char *, const char *);

int link(const char *from, const char *to)
{
	link_fn real = (link_fn)dlsym(RTLD_NEXT, "link");
	int rc = real(from, to);

	if (rc == 0)
		raise(SIGKILL);
	return rc;
}
