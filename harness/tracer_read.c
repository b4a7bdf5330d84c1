/*
 * tracer_read.c - read a traced process's memory and its /proc entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "harness/tracer_internal.h"

/*
 * The kernel caps one argv or envp string at 32 pages (MAX_ARG_STRLEN)
 * and the arrays at a quarter of the stack limit. These caps are far
 * above that, and bound what a process that passes garbage to execve
 * can make the tracer allocate.
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

void tracer_mem_init(struct tracer_mem *mem, pid_t tid)
{
	memset(mem->valid, 0, sizeof(mem->valid));
	mem->tid = tid;
	mem->next = 0;
}

/* The page at base (page-aligned) of the tracee's memory, from the cache
 * or read whole: a page is mapped entirely or not at all. */
static const unsigned char *read_page(struct tracer_mem *mem, uint64_t base)
{
	struct iovec local, remote;
	unsigned slot;

	for (unsigned i = 0; i < TRACER_MEM_PAGES; i++) {
		if (mem->valid[i] && mem->base[i] == base)
			return mem->data[i];
	}
	slot = mem->next;
	mem->next = (slot + 1) % TRACER_MEM_PAGES;
	local.iov_base = mem->data[slot];
	local.iov_len = PAGE;
	remote.iov_base = (void *)(uintptr_t)base;
	remote.iov_len = PAGE;
	mem->valid[slot] = false;
	if (process_vm_readv(mem->tid, &local, 1, &remote, 1, 0) != PAGE)
		return NULL;
	mem->base[slot] = base;
	mem->valid[slot] = true;
	return mem->data[slot];
}

/* Return a free slot, so that the pages cached already stay, else the
 * next slot in turn. */
static unsigned take_slot(struct tracer_mem *mem)
{
	unsigned slot = mem->next;

	for (unsigned i = 0; i < TRACER_MEM_PAGES; i++) {
		unsigned at = (mem->next + i) % TRACER_MEM_PAGES;

		if (!mem->valid[at]) {
			slot = at;
			break;
		}
	}
	mem->next = (slot + 1) % TRACER_MEM_PAGES;
	return slot;
}

void tracer_mem_want(struct tracer_mem *mem, struct tracer_mem_batch *batch,
		     uint64_t addr)
{
	uint64_t base = addr & ~(uint64_t)(PAGE - 1);

	if (addr == 0 || batch->n == TRACER_MEM_PAGES)
		return;
	for (unsigned i = 0; i < TRACER_MEM_PAGES; i++) {
		if (mem->valid[i] && mem->base[i] == base)
			return;
	}
	for (unsigned i = 0; i < batch->n; i++) {
		if (batch->base[i] == base)
			return;
	}
	batch->base[batch->n++] = base;
}

/*
 * One process_vm_readv for the whole batch, each page its own iovec
 * element: the call transfers whole elements in order and stops at the
 * first it cannot read, so what it returns counts the pages read. A
 * page left out is read again, alone, when it is needed, and fails
 * there as it would have.
 */
void tracer_mem_fetch(struct tracer_mem *mem, struct tracer_mem_batch *batch)
{
	struct iovec local[TRACER_MEM_PAGES], remote[TRACER_MEM_PAGES];
	unsigned slot[TRACER_MEM_PAGES];
	ssize_t n;

	if (batch->n == 0)
		return;
	for (unsigned i = 0; i < batch->n; i++) {
		slot[i] = take_slot(mem);
		mem->valid[slot[i]] = false;
		local[i].iov_base = mem->data[slot[i]];
		local[i].iov_len = PAGE;
		remote[i].iov_base = (void *)(uintptr_t)batch->base[i];
		remote[i].iov_len = PAGE;
	}
	n = process_vm_readv(mem->tid, local, batch->n, remote, batch->n, 0);
	for (unsigned i = 0; n > 0 && i < (size_t)n / PAGE; i++) {
		mem->base[slot[i]] = batch->base[i];
		mem->valid[slot[i]] = true;
	}
	batch->n = 0;
}

char *tracer_read_string(struct tracer_mem *mem, uint64_t addr, size_t *len)
{
	size_t used = 0, capacity = 0;
	char *s = NULL;

	while (used < MAX_STRING) {
		uint64_t base = addr & ~(uint64_t)(PAGE - 1);
		size_t off = (size_t)(addr - base), n;
		const unsigned char *page = read_page(mem, base);
		const unsigned char *nul;

		if (!page)
			break;
		nul = memchr(page + off, '\0', PAGE - off);
		n = nul ? (size_t)(nul - (page + off)) : PAGE - off;
		if (used + n + 1 > capacity) {
			size_t want = used + n + 1;
			char *bigger = realloc(s, want);

			if (!bigger)
				break;
			s = bigger;
			capacity = want;
		}
		memcpy(s + used, page + off, n);
		used += n;
		if (nul) {
			s[used] = '\0';
			*len = used;
			return s;
		}
		addr += n;
	}
	free(s);
	return NULL;
}

int tracer_read_word(struct tracer_mem *mem, uint64_t addr,
		     unsigned ptr_size, uint64_t *out)
{
	unsigned char bytes[8];
	uint32_t p32;

	for (unsigned done = 0; done < ptr_size;) {
		uint64_t at = addr + done;
		uint64_t base = at & ~(uint64_t)(PAGE - 1);
		const unsigned char *page = read_page(mem, base);
		size_t n = PAGE - (size_t)(at - base);

		if (!page)
			return -1;
		if (n > ptr_size - done)
			n = ptr_size - done;
		memcpy(bytes + done, page + (at - base), n);
		done += (unsigned)n;
	}
	if (ptr_size == 4) {
		memcpy(&p32, bytes, 4);
		*out = p32;
	} else {
		memcpy(out, bytes, 8);
	}
	return 0;
}

long tracer_read_pointers(struct tracer_mem *mem, uint64_t addr,
			  unsigned ptr_size, uint64_t **out)
{
	size_t count = 0, capacity = 64;
	uint64_t *v = malloc(capacity * sizeof(*v));

	*out = NULL;
	while (v && count < MAX_POINTERS) {
		uint64_t p;

		if (addr == 0)
			break;
		if (tracer_read_word(mem, addr + count * ptr_size, ptr_size,
				     &p) < 0)
			goto fail;
		if (p == 0)
			break;
		if (count == capacity) {
			uint64_t *bigger = realloc(v, 2 * capacity *
							      sizeof(*v));

			if (!bigger)
				goto fail;
			v = bigger;
			capacity *= 2;
		}
		v[count++] = p;
	}
	if (!v || count >= MAX_POINTERS)
		goto fail;
	*out = v;
	return (long)count;
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

const char *tracer_status_field(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, len) == 0)
			return line + len;
	}
	return NULL;
}

/*
 * One read(2) returns the whole of a /proc file that fits the buffer.
 * Each new process reads its status in its creator's stop, where fopen's
 * fstat and second read cost two more system calls.
 */
int tracer_status_text(pid_t tid, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	text[n] = '\0';
	return 0;
}

int tracer_proc_status(pid_t tid, pid_t *tgid, pid_t *ppid,
		       pid_t **ns_pids, size_t *n_ns_pids)
{
	char text[TRACER_STATUS_BYTES];
	const char *field;

	*ns_pids = NULL;
	*n_ns_pids = 0;
	if (tracer_status_text(tid, text, sizeof(text)) < 0)
		return -1;

	field = tracer_status_field(text, "Tgid:");
	if (field)
		*tgid = (pid_t)atoi(field);
	field = tracer_status_field(text, "PPid:");
	if (field)
		*ppid = (pid_t)atoi(field);
	field = tracer_status_field(text, "NSpid:");
	return field ? parse_ns_pids(field, ns_pids, n_ns_pids) : 0;
}

/* Read the link /proc/PID/ns/pid into buf. Returns 0, or -1. */
static int pid_ns_link(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Check that /proc shows the tracer's own PID namespace, where the
 * tracer's NSpid is its getpid() alone. Returns 1 when it does, else -1. */
static int own_pid_ns(struct harness_tracer *tracer)
{
	pid_t self = getpid(), tgid = 0, ppid = 0, *ns = NULL;
	size_t n = 0;
	bool usable;

	usable = tracer_proc_status(self, &tgid, &ppid, &ns, &n) == 0 &&
		 n == 1 && ns[0] == self &&
		 pid_ns_link(self, tracer->own_pid_ns,
			     sizeof(tracer->own_pid_ns)) == 0;
	free(ns);
	return usable ? 1 : -1;
}

bool tracer_in_own_pid_ns(struct harness_tracer *tracer, pid_t pid)
{
	char link[sizeof(tracer->own_pid_ns)];

	if (tracer->own_pid_ns_state == 0)
		tracer->own_pid_ns_state = own_pid_ns(tracer);
	if (tracer->own_pid_ns_state < 0 ||
	    pid_ns_link(pid, link, sizeof(link)) < 0)
		return false;
	return strcmp(link, tracer->own_pid_ns) == 0;
}
