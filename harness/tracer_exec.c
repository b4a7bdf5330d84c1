/*
 * tracer_exec.c - decode an execve or execveat call at its seccomp stop,
 * and identify what it ran once it succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
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

/* The pointer arrays of an exec's argv and envp. */
struct exec_arrays {
	uint64_t *argv, *envp;
	long argc, envc;
};

/* Read both arrays, then the pages of every string they point to in one
 * batch: the strings of one exec mostly lie on a few pages. */
static int read_arrays(struct tracer_mem *mem, const struct exec_call *call,
		       struct exec_arrays *arrays)
{
	struct tracer_mem_batch batch = { .n = 0 };

	arrays->argc = tracer_read_pointers(mem, call->argv, call->ptr_size,
					    &arrays->argv);
	arrays->envc = tracer_read_pointers(mem, call->envp, call->ptr_size,
					    &arrays->envp);
	if (arrays->argc < 0 || arrays->envc < 0)
		return -1;
	for (long i = 0; i < arrays->argc; i++)
		tracer_mem_want(mem, &batch, arrays->argv[i]);
	for (long i = 0; i < arrays->envc; i++)
		tracer_mem_want(mem, &batch, arrays->envp[i]);
	if (batch.n > 0) {
		memcpy(mem->recent, batch.base, sizeof(batch.base));
		mem->n_recent = batch.n;
	}
	tracer_mem_fetch(mem, &batch);
	return 0;
}

/* Read the strings of argv. -1 when one of them cannot be read: those
 * before it are kept. */
static int read_argv(struct tracer_mem *mem, const struct exec_arrays *arrays,
		     struct harness_exec *exec)
{
	exec->argv = calloc((size_t)arrays->argc + 1, sizeof(*exec->argv));
	if (!exec->argv)
		return -1;
	for (long i = 0; i < arrays->argc; i++) {
		struct harness_bytes *b = &exec->argv[exec->argc];

		b->data = tracer_read_string(mem, arrays->argv[i], &b->len);
		if (!b->data)
			return -1;
		exec->argc++;
	}
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

static int read_env(struct harness_tracer *tracer, struct tracer_mem *mem,
		    const struct exec_arrays *arrays,
		    struct harness_exec *exec)
{
	exec->env = calloc((size_t)arrays->envc + 1, sizeof(*exec->env));
	if (!exec->env)
		return -1;
	for (long i = 0; i < arrays->envc; i++) {
		size_t len;
		char *s = tracer_read_string(mem, arrays->envp[i], &len);

		if (!s)
			return -1;
		split_env(tracer, s, len, &exec->env[exec->envc++]);
	}
	return 0;
}

/*
 * Read the path, argv and environment of call into exec. The first
 * batch has the pages of the path and of both arrays, then those where
 * the last exec's strings were: last, because the call stops at the
 * first page it cannot read. Another thread of the tracee can change
 * the strings before the kernel copies them, so a successful exec's
 * are read again from the new stack (tracer_exec_confirm()).
 */
static int read_call(struct harness_tracer *tracer, struct tracer_mem *mem,
		     const struct exec_call *call, struct harness_exec *exec,
		     bool *argv_whole)
{
	struct tracer_mem_batch batch = { .n = 0 };
	struct exec_arrays arrays = { NULL, NULL, 0, 0 };
	size_t len;
	int rc = -1;

	tracer_mem_want(mem, &batch, call->path);
	tracer_mem_want(mem, &batch, call->argv);
	tracer_mem_want(mem, &batch, call->envp);
	for (unsigned i = 0; i < mem->n_recent; i++)
		tracer_mem_want(mem, &batch, mem->recent[i]);
	tracer_mem_fetch(mem, &batch);
	exec->attempted = tracer_read_string(mem, call->path, &len);
	if (read_arrays(mem, call, &arrays) == 0) {
		int argv_rc = read_argv(mem, &arrays, exec);
		int env_rc = read_env(tracer, mem, &arrays, exec);

		rc = argv_rc == 0 && env_rc == 0 ? 0 : -1;
		*argv_whole = argv_rc == 0;
	}
	free(arrays.argv);
	free(arrays.envp);
	return rc;
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

/* Make the attempted path absolute. The cwd is exec->cwd, read
 * already. */
static void resolve(pid_t tid, const struct exec_call *call,
		    struct harness_exec *exec)
{
	char link[32];
	char *base;

	if (exec->attempted[0] == '/' && !exec->empty_path) {
		exec->resolved = strdup(exec->attempted);
		return;
	}
	/* An empty path without AT_EMPTY_PATH names no file: the kernel
	 * fails it with ENOENT, and the cwd joined to it would look like a
	 * path that was tried. */
	if (!exec->attempted[0] && !exec->empty_path)
		return;
	if (call->dirfd == AT_FDCWD) {
		base = exec->cwd ? strdup(exec->cwd) : NULL;
	} else {
		base_link(call, link, sizeof(link));
		base = tracer_proc_link(tid, link);
	}
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
 * the tracee's close-on-exec descriptors. Paths resolve inside the
 * tracee's root, so a sandboxed process's symlinks mean what they mean
 * to it. The kernel checks the file only after this, so it may be
 * a FIFO, whose blocking open would stop the tracer for ever, or a
 * terminal, which must not become the recorder's: hence O_NONBLOCK and
 * O_NOCTTY.
 */
static int open_target(struct harness_tracer *tracer, pid_t tid,
		       const struct exec_call *call,
		       const struct harness_exec *exec)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	struct open_how how = { .flags = flags };
	char path[64], link[32];
	int dirfd, fd;

	if (exec->empty_path) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid,
			 call->dirfd);
		return open(path, flags);
	}
	if (exec->attempted[0] == '/') {
		how.resolve = RESOLVE_IN_ROOT;
		dirfd = tracer_root_fd(&tracer->root, tid);
		if (dirfd < 0)
			return -1;
		return (int)syscall(SYS_openat2, dirfd, exec->attempted, &how,
				    sizeof(how));
	}
	base_link(call, link, sizeof(link));
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, link);
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	fd = tracer_walk(tracer, tid, dirfd, exec->attempted, flags);
	close(dirfd);
	return fd;
}

/* Read the cwd, resolve the path, and open the file it names. */
static void locate(struct harness_tracer *tracer, struct tracee *t,
		   const struct exec_call *call)
{
	struct harness_exec *exec = &t->pending;

	exec->cwd = tracer_proc_link(t->tid, "cwd");

	/* The cwd joined to "" would look like the file's path. */
	if (t->path_unread && !exec->empty_path)
		return;
	resolve(t->tid, call, exec);
	t->exec_fd = open_target(tracer, t->tid, call, exec);
}

int tracer_exec_enter(struct harness_tracer *tracer, struct tracee *t)
{
	struct __ptrace_syscall_info info;
	struct harness_exec *exec = &t->pending;
	struct exec_call call;
	struct tracer_mem *mem;
	long n;

	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info);
	if (n <= 0 || info.op != PTRACE_SYSCALL_INFO_SECCOMP ||
	    decode_call(&info, &call) < 0)
		return -1;

	mem = &tracer->mem;
	tracer_mem_init(mem, t->tid);
	memset(exec, 0, sizeof(*exec));
	exec->time_us = tracer_now_us();

	/* A call whose strings cannot be read whole may still run, because
	 * the memory can change before the kernel copies it. So it is kept
	 * with what was read, and tracer_exec_confirm() reads a successful
	 * one again. */
	t->argv_whole = false;
	read_call(tracer, mem, &call, exec, &t->argv_whole);
	t->path_unread = !exec->attempted;
	if (t->path_unread)
		exec->attempted = strdup("");
	if (!exec->attempted) {
		tracer_exec_release(exec);
		return -1;
	}
	exec->empty_path = call.at && (call.flags & AT_EMPTY_PATH) &&
			   exec->attempted[0] == '\0';
	t->in_exec = true;
	t->locate = call.dirfd == AT_FDCWD && !exec->empty_path &&
		    tracer->processes[t->process]->pid == t->tid;
	if (!t->locate)
		locate(tracer, t, &call);
	return 0;
}

static void free_argv(struct harness_exec *exec)
{
	for (size_t i = 0; i < exec->argc; i++)
		free(exec->argv[i].data);
	free(exec->argv);
	exec->argv = NULL;
	exec->argc = 0;
}

static void free_env(struct harness_exec *exec)
{
	for (size_t i = 0; i < exec->envc; i++)
		free(exec->env[i].name);	/* the value with it */
	free(exec->env);
	exec->env = NULL;
	exec->envc = 0;
}

static char *shebang_path(const char *head, size_t len);

/* Set the interpreter of t's exec from the "#!" line of the file that it
 * opened, or leave it NULL for a file that is not a script. The head is
 * read once here, for the argv below and for the script's record. */
void tracer_read_interpreter(struct tracee *t)
{
	char head[256];
	ssize_t n;

	if (t->exec_fd < 0)
		return;
	n = pread(t->exec_fd, head, sizeof(head), 0);
	free(t->pending.interpreter);
	t->pending.interpreter = shebang_path(head, n > 0 ? (size_t)n : 0);
}

/*
 * Replace the new stack's argv in copy with the call's argv. For a
 * script, the kernel puts the interpreter, its "#!" argument and the
 * script's path in place of argv[0], once for each "#!" in a chain.
 * The call's other arguments are the last ones on the stack, and its
 * argv[0], which the kernel dropped, comes from the seccomp stop.
 */
static void keep_script_argv(struct harness_exec *call,
			     struct harness_exec *copy)
{
	size_t tail = call->argc > 0 ? call->argc - 1 : 0;
	size_t skip;

	/* The kernel added no words, so the file changed after the exec
	 * and this is not a script's argv. */
	if (copy->argc <= tail)
		return;
	skip = copy->argc - tail;
	for (size_t i = 0; i < skip; i++)
		free(copy->argv[i].data);
	memmove(copy->argv + (call->argc > 0), copy->argv + skip,
		tail * sizeof(*copy->argv));
	if (call->argc > 0) {
		copy->argv[0] = call->argv[0];
		call->argv[0].data = NULL;
	}
	copy->argc = call->argc;
	copy->argv[copy->argc] = (struct harness_bytes){ NULL, 0 };
}

/* The maximum number of auxiliary vector entries read. Linux 6.x writes
 * about 20, an estimate. */
#define MAX_AUXV 64

/*
 * Take the path of t's exec from AT_EXECFN in the auxiliary vector at
 * auxv. The seccomp stop cannot read a process that is not dumpable
 * without CAP_SYS_PTRACE, but the exec makes it dumpable again. The
 * kernel writes the path as given, or /dev/fd/N/PATH for a descriptor,
 * so a relative one starts at the cwd.
 */
static void take_execfn(struct tracer_mem *mem, struct tracee *t,
			uint64_t auxv, unsigned ptr_size)
{
	struct harness_exec *exec = &t->pending;

	for (unsigned i = 0; i < MAX_AUXV; i++) {
		uint64_t type, value;
		size_t len;
		char *path;

		if (tracer_read_word(mem, auxv + 2 * i * ptr_size, ptr_size,
				     &type) < 0 || type == 0)
			return;
		if (type != AT_EXECFN)
			continue;
		if (tracer_read_word(mem, auxv + (2 * i + 1) * ptr_size,
				     ptr_size, &value) < 0)
			return;
		path = tracer_read_string(mem, value, &len);
		if (!path)
			return;
		free(exec->attempted);
		exec->attempted = path;
		free(exec->resolved);
		exec->resolved = NULL;
		if (path[0] == '/')
			exec->resolved = strdup(path);
		else if (exec->cwd)
			exec->resolved = join_path(exec->cwd, path);
		t->path_unread = false;
		return;
	}
}

int tracer_exec_confirm(struct harness_tracer *tracer, struct tracee *t)
{
	struct __ptrace_syscall_info info;
	struct harness_exec copy = { 0 };
	struct exec_call call = { 0 };
	struct exec_arrays arrays = { NULL, NULL, 0, 0 };
	uint64_t recent[TRACER_MEM_PAGES], argc = 0;
	unsigned n_recent;
	int rc = -1;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0)
		return -1;
	call.ptr_size = info.arch == AUDIT_ARCH_I386 ? 4 : 8;

	/* The new stack: argc, then argv's pointers and NULL, then the
	 * environment's. The pages of the next exec's strings are likely
	 * where the last one's were, in the parent, not on this stack. */
	memcpy(recent, tracer->mem.recent, sizeof(recent));
	n_recent = tracer->mem.n_recent;
	tracer_mem_init(&tracer->mem, t->tid);
	if (tracer_read_word(&tracer->mem, info.stack_pointer,
			     call.ptr_size, &argc) < 0 || argc > 1u << 20)
		return -1;
	call.argv = info.stack_pointer + call.ptr_size;
	call.envp = call.argv + (argc + 1) * call.ptr_size;
	if (read_arrays(&tracer->mem, &call, &arrays) == 0 &&
	    read_argv(&tracer->mem, &arrays, &copy) == 0 &&
	    read_env(tracer, &tracer->mem, &arrays, &copy) == 0)
		rc = 0;
	if (rc == 0 && t->path_unread)
		take_execfn(&tracer->mem, t,
			    call.envp + ((uint64_t)arrays.envc + 1) *
						call.ptr_size,
			    call.ptr_size);
	free(arrays.argv);
	free(arrays.envp);
	memcpy(tracer->mem.recent, recent, sizeof(recent));
	tracer->mem.n_recent = n_recent;

	/* The copy replaces what the seccomp stop read, in part or whole. */
	tracer_read_interpreter(t);
	if (rc == 0) {
		if (t->argv_whole && t->pending.interpreter)
			keep_script_argv(&t->pending, &copy);
		free_argv(&t->pending);
		free_env(&t->pending);
		t->pending.argv = copy.argv;
		t->pending.argc = copy.argc;
		t->pending.env = copy.env;
		t->pending.envc = copy.envc;
		return 0;
	}
	free_argv(&copy);
	free_env(&copy);
	return -1;
}

/*
 * A filter that the tracee stacks itself takes precedence for an exec:
 * SECCOMP_RET_USER_NOTIF ranks above SECCOMP_RET_TRACE, and its
 * supervisor may let the call continue. No seccomp stop comes then, but
 * the exec event does, and the new program's stack and AT_EXECFN show
 * what ran.
 */
void tracer_exec_unstopped(struct tracee *t)
{
	tracer_exec_release(&t->pending);
	t->pending.time_us = tracer_now_us();
	t->pending.cwd = tracer_proc_link(t->tid, "cwd");
	t->pending.attempted = strdup("");
	t->argv_whole = false;
	t->path_unread = true;
	t->in_exec = true;
}

void tracer_exec_locate(struct harness_tracer *tracer, struct tracee *t)
{
	struct exec_call call = { .dirfd = AT_FDCWD };

	t->locate = false;
	locate(tracer, t, &call);
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

/*
 * /proc/PID/exe names the file that the kernel executes, so an agent
 * cannot change it the way it could change the exec's path argument in
 * its memory. The stat costs a few microseconds of the stop, which only
 * a run with forbidden files pays.
 */
void tracer_exec_forbid(struct harness_tracer *tracer, struct tracee *t)
{
	const struct harness_tracer_options *o = &tracer->options;
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->tid);
	if (stat(path, &st) < 0)
		return;
	for (size_t i = 0; i < o->n_forbidden; i++) {
		if (o->forbidden[i].dev != st.st_dev ||
		    o->forbidden[i].ino != st.st_ino)
			continue;
		kill(t->tid, SIGKILL);
		t->pending.forbidden = true;
		t->pending.exe.path = tracer_proc_link(t->tid, "exe");
		return;
	}
}

/*
 * Called with the tracee running again, so that hashing a new file
 * delays no process. /proc/PID/exe still names what this exec ran,
 * because the process cannot exec again without a seccomp stop, which
 * the tracer handles only after this. It also keeps its memory, and
 * with it the link, until its exit event stop. Only a SIGKILL skips
 * that stop, and then the executable stays unknown, as it does when the
 * SIGKILL comes during the exec event's stop.
 */
/*
 * Return whether the interpreter that a script's "#!" line names is the
 * program that the kernel ran, as far as the tracer can tell. The
 * tracer opens the script by its path when the exec has begun, so
 * another process can put a different file there in between.
 */
static bool interpreter_ran(struct harness_tracer *tracer, pid_t pid,
			    const char *interpreter)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT,
	};
	struct stat named, ran;
	char path[64], head[2];
	int root, fd;
	bool same;

	/* A relative "#!" path starts at the exec's cwd, which may have
	 * changed since, so it is not checked. */
	root = interpreter[0] == '/' ? tracer_root_fd(&tracer->root, pid)
				     : -1;
	if (root < 0)
		return true;
	fd = (int)syscall(SYS_openat2, root, interpreter, &how, sizeof(how));
	if (fd < 0)
		return false;

	/* An interpreter that is a script itself runs its own "#!". */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (pread(fd, head, sizeof(head), 0) == 2 && head[0] == '#' &&
	    head[1] == '!')
		same = true;
	else
		same = fstat(fd, &named) == 0 && stat(path, &ran) == 0 &&
		       named.st_dev == ran.st_dev && named.st_ino == ran.st_ino;
	close(fd);
	return same;
}

void tracer_exec_succeeded(struct harness_tracer *tracer, struct tracee *t,
			   pid_t pid)
{
	struct harness_exec *exec = &t->pending;
	char path[64];
	int fd;

	/* Killed, so /proc/PID/exe may be gone already, and nothing ran. */
	if (exec->forbidden) {
		free(exec->interpreter);
		exec->interpreter = NULL;
		return;
	}
	if (exec->interpreter)
		file_from_fd(tracer, t->exec_fd, &exec->script);

	/* Not the script that ran: its path stays, its hash is unknown. */
	if (exec->interpreter &&
	    !interpreter_ran(tracer, pid, exec->interpreter)) {
		free(exec->interpreter);
		exec->interpreter = NULL;
		exec->script.sha256[0] = '\0';
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
	free_argv(exec);
	free_env(exec);
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
