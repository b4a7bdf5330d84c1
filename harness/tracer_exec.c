/*
 * tracer_exec.c - decode an execve or execveat call at its seccomp stop,
 * and identify what it ran once it succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness/tracer_internal.h"

/* x32 system calls carry this bit in their number. */
#define X32_SYSCALL_BIT 0x40000000u

/* The exec call that a seccomp stop reports. */
struct exec_call {
	bool at;		/* execveat */
	unsigned ptr_size;	/* 4 for the 32-bit ABIs */
	int dirfd;
	uint64_t path, argv, envp;
	int flags;
};

/* Decode execve(path, argv, envp) and execveat(dirfd, path, argv, envp,
 * flags) for x86-64, x32 and i386. -1 for any other call. */
static int decode_call(const struct __ptrace_syscall_info *info,
		       struct exec_call *call)
{
	uint64_t nr = info->seccomp.nr;
	const uint64_t *a = info->seccomp.args;

	memset(call, 0, sizeof(*call));
	call->ptr_size = 8;
	if (info->arch == AUDIT_ARCH_I386) {
		call->ptr_size = 4;
		if (nr != 11 && nr != 358)
			return -1;
		call->at = nr == 358;
	} else if (info->arch == AUDIT_ARCH_X86_64) {
		if (nr & X32_SYSCALL_BIT) {
			call->ptr_size = 4;
			nr &= ~(uint64_t)X32_SYSCALL_BIT;
		}
		if (nr != 59 && nr != 520 && nr != 322 && nr != 545)
			return -1;
		call->at = nr == 322 || nr == 545;
	} else {
		return -1;
	}

	if (call->at) {
		call->dirfd = (int)a[0];
		call->path = a[1];
		call->argv = a[2];
		call->envp = a[3];
		call->flags = (int)a[4];
	} else {
		call->dirfd = AT_FDCWD;
		call->path = a[0];
		call->argv = a[1];
		call->envp = a[2];
	}
	return 0;
}

static int read_argv(struct tracer_mem *mem, const struct exec_call *call,
		     struct harness_exec *exec)
{
	uint64_t *ptrs;
	long n = tracer_read_pointers(mem, call->argv, call->ptr_size, &ptrs);

	if (n < 0)
		return -1;
	exec->argv = calloc((size_t)n + 1, sizeof(*exec->argv));
	if (!exec->argv) {
		free(ptrs);
		return -1;
	}
	for (long i = 0; i < n; i++) {
		struct harness_bytes *b = &exec->argv[exec->argc];

		b->data = tracer_read_string(mem, ptrs[i], &b->len);
		if (!b->data)
			break;
		exec->argc++;
	}
	free(ptrs);
	return 0;
}

/* Split one "NAME=VALUE" string into e in place, so that the value
 * stays in the name's allocation, and wipe the value of a secret. Takes
 * ownership of s. */
static void split_env(struct harness_tracer *tracer, char *s,
		      size_t len, struct harness_env_entry *e)
{
	char *eq = strchr(s, '=');

	e->name = s;
	if (!eq)
		return;
	*eq = '\0';
	e->has_value = true;
	if (tracer_is_secret(tracer, s)) {
		explicit_bzero(eq + 1, len - (size_t)(eq + 1 - s));
		e->redacted = true;
		return;
	}
	e->value = eq + 1;
}

static int read_env(struct harness_tracer *tracer,
		    struct tracer_mem *mem, const struct exec_call *call,
		    struct harness_exec *exec)
{
	uint64_t *ptrs;
	long n = tracer_read_pointers(mem, call->envp, call->ptr_size, &ptrs);

	if (n < 0)
		return -1;
	exec->env = calloc((size_t)n + 1, sizeof(*exec->env));
	if (!exec->env) {
		free(ptrs);
		return -1;
	}
	for (long i = 0; i < n; i++) {
		size_t len;
		char *s = tracer_read_string(mem, ptrs[i], &len);

		if (!s)
			break;
		split_env(tracer, s, len, &exec->env[exec->envc++]);
	}
	free(ptrs);
	return 0;
}

static char *join_path(const char *dir, const char *name)
{
	size_t dlen = dir ? strlen(dir) : 0;
	char *s = malloc(dlen + strlen(name) + 2);

	if (!s)
		return NULL;
	if (dlen > 1 || (dlen == 1 && dir[0] != '/'))
		sprintf(s, "%s/%s", dir, name);
	else
		sprintf(s, "/%s", name);
	return s;
}

/* The directory a relative path starts from, as a /proc link name. */
static void base_link(const struct exec_call *call, char *buf, size_t len)
{
	if (call->dirfd == AT_FDCWD)
		snprintf(buf, len, "cwd");
	else
		snprintf(buf, len, "fd/%d", call->dirfd);
}

static void resolve(pid_t tid, const struct exec_call *call,
		    struct harness_exec *exec)
{
	char link[32];
	char *base;

	exec->empty_path = call->at && (call->flags & AT_EMPTY_PATH) &&
			   exec->attempted[0] == '\0';
	if (exec->attempted[0] == '/' && !exec->empty_path) {
		exec->resolved = strdup(exec->attempted);
		return;
	}
	base_link(call, link, sizeof(link));
	base = tracer_proc_link(tid, link);
	if (!base)
		return;
	if (exec->empty_path)
		exec->resolved = base;
	else {
		exec->resolved = join_path(base, exec->attempted);
		free(base);
	}
}

/*
 * Open the file the call names, from the tracer, before the exec closes
 * the tracee's close-on-exec descriptors. Absolute paths resolve inside
 * the tracee's root, so a sandboxed process's symlinks mean what they
 * mean to it.
 */
static int open_target(pid_t tid, const struct exec_call *call,
		       const struct harness_exec *exec)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	char path[64], link[32];
	int dirfd, fd;

	if (exec->empty_path) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid,
			 call->dirfd);
		return open(path, O_RDONLY | O_CLOEXEC);
	}
	if (exec->attempted[0] == '/') {
		snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
		how.resolve = RESOLVE_IN_ROOT;
	} else {
		base_link(call, link, sizeof(link));
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, link);
	}
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dirfd, exec->attempted, &how,
			  sizeof(how));
	close(dirfd);
	return fd;
}

int tracer_exec_enter(struct harness_tracer *tracer, struct tracee *t)
{
	struct __ptrace_syscall_info info;
	struct harness_exec *exec = &t->pending;
	struct exec_call call;
	struct tracer_mem *mem;
	size_t len;
	long n;

	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info);
	if (n <= 0 || info.op != PTRACE_SYSCALL_INFO_SECCOMP ||
	    decode_call(&info, &call) < 0)
		return -1;

	mem = &tracer->mem;
	tracer_mem_init(mem, t->tid);
	memset(exec, 0, sizeof(*exec));
	exec->time_us = tracer_now_us();
	exec->attempted = tracer_read_string(mem, call.path, &len);
	if (!exec->attempted)
		exec->attempted = strdup("");
	if (!exec->attempted)
		return -1;
	if (read_argv(mem, &call, exec) < 0 ||
	    read_env(tracer, mem, &call, exec) < 0) {
		tracer_exec_release(exec);
		return -1;
	}
	exec->cwd = tracer_proc_link(t->tid, "cwd");
	resolve(t->tid, &call, exec);
	t->exec_fd = open_target(t->tid, &call, exec);
	t->in_exec = true;
	return 0;
}

static void file_from_fd(struct harness_tracer *tracer, int fd,
			 struct harness_file *file)
{
	char link[64];
	char buf[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n >= 0) {
		buf[n] = '\0';
		file->path = strdup(buf);
	}
	tracer_hash_fd(tracer, fd, file->sha256);
}

/* The path on a "#!" line, or NULL when head is not a script. */
static char *shebang_path(const char *head, size_t len)
{
	size_t i = 2, start;

	if (len < 2 || head[0] != '#' || head[1] != '!')
		return NULL;
	while (i < len && (head[i] == ' ' || head[i] == '\t'))
		i++;
	start = i;
	while (i < len && head[i] != ' ' && head[i] != '\t' &&
	       head[i] != '\n' && head[i] != '\0')
		i++;
	return strndup(head + start, i - start);
}

void tracer_exec_succeeded(struct harness_tracer *tracer, struct tracee *t,
			   pid_t pid)
{
	struct harness_exec *exec = &t->pending;
	char path[64], head[256];
	int fd;

	if (t->exec_fd >= 0) {
		ssize_t n = pread(t->exec_fd, head, sizeof(head), 0);

		exec->interpreter = shebang_path(head, n > 0 ? (size_t)n : 0);
		if (exec->interpreter)
			file_from_fd(tracer, t->exec_fd, &exec->script);
	}

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	exec->exe.path = tracer_proc_link(pid, "exe");

	/* Most execs run a file that was hashed before, and its stat data
	 * finds the hash without opening it. */
	if (tracer_hash_stat(tracer, path, exec->exe.sha256) == 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		tracer_hash_fd(tracer, fd, exec->exe.sha256);
		close(fd);
	}
}

void tracer_exec_release(struct harness_exec *exec)
{
	for (size_t i = 0; i < exec->argc; i++)
		free(exec->argv[i].data);
	free(exec->argv);
	for (size_t i = 0; i < exec->envc; i++)
		free(exec->env[i].name);	/* the value with it */
	free(exec->env);
	free(exec->attempted);
	free(exec->resolved);
	free(exec->cwd);
	free(exec->exe.path);
	free(exec->script.path);
	free(exec->interpreter);
	memset(exec, 0, sizeof(*exec));
}

static int64_t ns_of(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hash_contents(int fd, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n;
	off_t at = 0;

	out[0] = '\0';
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto done;
	while ((n = pread(fd, buf, sizeof(buf), at)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		at += n;
	}
	if (n < 0 || !EVP_DigestFinal_ex(ctx, md, &md_len))
		goto done;
	for (unsigned int i = 0; i < md_len && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
done:
	EVP_MD_CTX_free(ctx);
}

/*
 * A file whose device, inode, size, mtime and ctime are unchanged is
 * taken to have unchanged content, so that a shell loop running the same
 * binary thousands of times hashes it once. Any write changes ctime.
 */
static bool cached_hash(const struct harness_tracer *tracer,
			const struct stat *st, char out[65])
{
	for (struct hash_entry *e = tracer->hashes; e; e = e->next) {
		if (e->dev == st->st_dev && e->ino == st->st_ino &&
		    e->size == st->st_size &&
		    e->mtime_ns == ns_of(st->st_mtim) &&
		    e->ctime_ns == ns_of(st->st_ctim)) {
			memcpy(out, e->sha256, 65);
			return true;
		}
	}
	return false;
}

int tracer_hash_stat(struct harness_tracer *tracer, const char *path,
		     char out[65])
{
	struct stat st;

	out[0] = '\0';
	if (stat(path, &st) < 0 || !cached_hash(tracer, &st, out))
		return -1;
	return 0;
}

void tracer_hash_fd(struct harness_tracer *tracer, int fd, char out[65])
{
	struct hash_entry *e;
	struct stat st;

	out[0] = '\0';
	if (fstat(fd, &st) < 0 || cached_hash(tracer, &st, out))
		return;
	hash_contents(fd, out);
	e = calloc(1, sizeof(*e));
	if (!e || !out[0]) {
		free(e);
		return;
	}
	*e = (struct hash_entry){ st.st_dev, st.st_ino, st.st_size,
				  ns_of(st.st_mtim), ns_of(st.st_ctim), "",
				  tracer->hashes };
	memcpy(e->sha256, out, 65);
	tracer->hashes = e;
}

void tracer_hashes_free(struct harness_tracer *tracer)
{
	while (tracer->hashes) {
		struct hash_entry *next = tracer->hashes->next;

		free(tracer->hashes);
		tracer->hashes = next;
	}
}
