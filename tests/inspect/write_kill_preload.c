/*
 * write_kill_preload.c - an LD_PRELOAD library that stops the process
 * in the middle of its output. Once write() has written more than
 * RB_KILL_AFTER bytes in all, the process raises the signal numbered
 * RB_KILL_SIGNAL (default SIGKILL), as a CI job's timeout would.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static unsigned long long written;

ssize_t write(int fd, const void *buf, size_t len)
{
	write_fn real = (write_fn)dlsym(RTLD_NEXT, "write");
	const char *after = getenv("RB_KILL_AFTER");
	const char *sig = getenv("RB_KILL_SIGNAL");
	ssize_t n = real(fd, buf, len);

	if (n > 0)
		written += (unsigned long long)n;
	if (after && written > strtoull(after, NULL, 10))
		raise(sig ? atoi(sig) : SIGKILL);
	return n;
}
