/*
 * tracer_read.c - read a traced process's memory and its /proc entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "harness/tracer_internal.h"

/*
 * The kernel caps one argv or envp string at 32 pages (MAX_ARG_STRLEN)
 * and the arrays at a quarter of the stack limit, so these caps are far
 * above anything an exec can pass; they bound what a process that lies
 * at the seccomp stop can make the tracer allocate.
 */
#define MAX_STRING (1u << 20)
#define MAX_POINTERS (1u << 20)
#define PAGE 4096u

int64_t tracer_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Read up to len bytes at addr, never across a page end, so that an
 * unmapped next page cannot fail the read of this one. */
static ssize_t read_chunk(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	size_t to_page_end = PAGE - (addr % PAGE);
	struct iovec local, remote;

	if (len > to_page_end)
		len = to_page_end;
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = len;
	return process_vm_readv(tid, &local, 1, &remote, 1, 0);
}

char *tracer_read_string(pid_t tid, uint64_t addr, size_t *len)
{
	size_t used = 0, capacity = 2 * PAGE;
	char *s = malloc(capacity);

	while (s) {
		ssize_t n;
		char *nul;

		/* capacity - used >= PAGE holds at every read. */
		if (capacity - used < PAGE) {
			char *bigger = realloc(s, capacity * 2);

			if (!bigger)
				break;
			s = bigger;
			capacity *= 2;
		}
		n = read_chunk(tid, addr + used, s + used, PAGE);
		if (n <= 0)
			break;
		nul = memchr(s + used, '\0', (size_t)n);
		if (nul) {
			*len = used + (size_t)(nul - (s + used));
			return s;
		}
		used += (size_t)n;
		if (used >= MAX_STRING)
			break;
	}
	free(s);
	return NULL;
}

static uint64_t pointer_at(const unsigned char *p, unsigned ptr_size)
{
	uint32_t p32;
	uint64_t p64;

	if (ptr_size == 4) {
		memcpy(&p32, p, 4);
		return p32;
	}
	memcpy(&p64, p, 8);
	return p64;
}

long tracer_read_pointers(pid_t tid, uint64_t addr, unsigned ptr_size,
			  uint64_t **out)
{
	size_t count = 0, capacity = 64;
	uint64_t *v = malloc(capacity * sizeof(*v));
	unsigned char buf[PAGE];

	*out = NULL;
	if (addr == 0) {
		*out = v;
		return v ? 0 : -1;
	}
	while (v && count < MAX_POINTERS) {
		uint64_t at = addr + count * ptr_size;
		ssize_t n = read_chunk(tid, at, buf, sizeof(buf));

		if (n < (ssize_t)ptr_size)
			break;
		for (size_t i = 0; i + ptr_size <= (size_t)n; i += ptr_size) {
			uint64_t p = pointer_at(buf + i, ptr_size);

			if (p == 0) {
				*out = v;
				return (long)count;
			}
			if (count == capacity) {
				uint64_t *bigger;

				bigger = realloc(v, 2 * capacity * sizeof(*v));
				if (!bigger)
					goto fail;
				v = bigger;
				capacity *= 2;
			}
			v[count++] = p;
		}
	}
fail:
	free(v);
	return -1;
}

char *tracer_proc_link(pid_t pid, const char *what)
{
	char path[64], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static int parse_ns_pids(const char *list, pid_t **ns_pids, size_t *n)
{
	size_t count = 0;
	pid_t *v = NULL;
	const char *p = list;

	for (;;) {
		char *end;
		long value = strtol(p, &end, 10);
		pid_t *bigger;

		if (end == p)
			break;
		bigger = realloc(v, (count + 1) * sizeof(*v));
		if (!bigger) {
			free(v);
			return -1;
		}
		v = bigger;
		v[count++] = (pid_t)value;
		p = end;
	}
	*ns_pids = v;
	*n = count;
	return 0;
}

int tracer_proc_status(pid_t tid, pid_t *tgid, pid_t *ppid,
		       pid_t **ns_pids, size_t *n_ns_pids)
{
	char path[64], line[512];
	FILE *f;
	int rc = 0;

	*ns_pids = NULL;
	*n_ns_pids = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Tgid:", 5) == 0)
			*tgid = (pid_t)atoi(line + 5);
		else if (strncmp(line, "PPid:", 5) == 0)
			*ppid = (pid_t)atoi(line + 5);
		else if (strncmp(line, "NSpid:", 6) == 0)
			rc = parse_ns_pids(line + 6, ns_pids, n_ns_pids);
	}
	fclose(f);
	return rc;
}
