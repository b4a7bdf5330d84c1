/*
 * link_stop_preload.c - an LD_PRELOAD library for the creation tests.
 * The process stops itself with SIGSTOP just before link(), when its
 * new bundle has its empty -wal but not yet its name, so that another
 * process can try to create the same bundle then.
 */
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

typedef int (*link_fn)(const char *, const char *);

int link(const char *from, const char *to)
{
	link_fn real = (link_fn)dlsym(RTLD_NEXT, "link");

	raise(SIGSTOP);
	return real(from, to);
}
