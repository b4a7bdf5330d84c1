/*
 * tracer_internal.h - what the tracer's files share; not a public API.
 */
#ifndef HARNESS_TRACER_INTERNAL_H
#define HARNESS_TRACER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness/tracer.h"

/* One traced thread. A process's leader has tid == its pid. */
struct tracee {
	pid_t tid;
	size_t process;			/* index into tracer->processes */
	bool in_exec;			/* between the seccomp stop of an
					 * exec and its end */
	struct harness_exec pending;	/* the exec being attempted */
	bool argv_whole;		/* whether every string of pending's
					 * argv was read at the seccomp stop */
	bool path_unread;		/* whether pending's path could not
					 * be read there; it is "" then */
	int exec_fd;			/* the file being executed, opened at
					 * the seccomp stop; -1 when none */
	bool locate;			/* the exec's cwd, resolved path and
					 * exec_fd are yet to be read, after
					 * its seccomp stop is resumed */
	bool interrupting;		/* PTRACE_INTERRUPT sent, no stop
					 * seen since */
	bool exited;			/* past its exit event, so it never
					 * stops again */
	bool vforking;			/* no stop seen since its vfork
					 * event: it may wait for the child,
					 * in a wait that no stop ends */
	unsigned threads;		/* of a leader: the other tracees of
					 * its process */
	bool ending;			/* of a leader: its process was dying
					 * when the root began to exit */
	struct tracee *next;		/* hash chain */
};

#define TRACEE_BUCKETS 1024

/* One file hash, keyed by the file's stat data. */
struct hash_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
	char sha256[65];
	struct hash_entry *next;
};

/*
 * Whether an environment name is a secret, remembered by name, because
 * nearly every exec passes the same names, and matching each against
 * every pattern with fnmatch(3) took more instructions than reading the
 * environment (callgrind). The table uses open addressing. Once
 * SECRET_SLOTS * 3 / 4 names are known, new ones are matched without
 * being remembered.
 */
#define SECRET_SLOTS 1024
struct secret_slot {
	char *name;		/* NULL when the slot is free */
	uint32_t hash;
	bool secret;
};

/*
 * A cache of pages of one tracee's memory, because the strings of an
 * argv or environment mostly share a few pages. The execs of a make -j2
 * of C files need more than 8: with 8 pages, each of its execs took 3.7
 * process_vm_readv calls on average, with 32 pages 1.6 (strace -c).
 */
#define TRACER_MEM_PAGES 32
struct tracer_mem {
	pid_t tid;
	unsigned next;
	uint64_t base[TRACER_MEM_PAGES];
	bool valid[TRACER_MEM_PAGES];
	unsigned char data[TRACER_MEM_PAGES][4096];
	/* The pages of the last exec's strings, at the same addresses in
	 * the next exec of a child of the same parent, so read with its
	 * first pages. Kept across tracer_mem_init(). */
	uint64_t recent[TRACER_MEM_PAGES];
	unsigned n_recent;
};

/* A tracee's root directory, open, and what identifies it. */
struct tracer_root {
	int fd;			/* O_PATH; -1 when none */
	bool known;		/* the fields below are valid; else the fd
				 * is opened again for each exec */
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint64_t mnt_id;
};

/* Pages of a tracee's memory that are wanted soon, to read them in one
 * system call. */
struct tracer_mem_batch {
	uint64_t base[TRACER_MEM_PAGES];
	unsigned n;
};

/* One environment flattened, to compare it with the one before. */
struct tracer_env_key {
	char *data;
	size_t len, capacity;
};

/* The last environment's key and JSON text, and scratch for the next
 * key. */
struct tracer_env_cache {
	struct tracer_env_key last, next;
	char *text;		/* NULL before the first */
};

struct harness_tracer {
	struct harness_tracer_options options;
	struct harness_process **processes;
	size_t n_processes;
	size_t capacity;
	struct tracee *tracees[TRACEE_BUCKETS];
	size_t n_live;			/* processes not yet ended */
	volatile pid_t root_pid;	/* 0 before attach */
	bool root_ended;
	bool draining;
	int64_t kill_deadline;		/* monotonic us; set by drain() */
	size_t n_interrupting;		/* tracees with interrupting set */
	/* Tids whose own first stop came before their creator's fork,
	 * vfork or clone event, so that the late event neither records
	 * them twice nor revives one that has already ended. */
	struct early_tid {
		pid_t tid;
		long process;		/* its process, or -1 for a thread */
	} *early;
	size_t n_early, early_capacity;
	int root_status;
	struct hash_entry *hashes;
	struct secret_slot *secrets;	/* SECRET_SLOTS; NULL until used */
	size_t n_secrets;
	struct tracer_mem mem;		/* scratch for one exec's strings */
	struct tracer_env_cache env_cache; /* harness_tracer_env_text() */
	/* readlink(/proc/self/ns/pid) when /proc shows the tracer's own PID
	 * namespace; own_pid_ns_state is 0 before the first look, 1 when
	 * own_pid_ns is set, -1 when it cannot be used. */
	char own_pid_ns[64];
	int own_pid_ns_state;
	struct tracer_root root;	/* the last tracee root used */
};

/* Wall clock in Unix microseconds. */
int64_t tracer_now_us(void);

/* tracer_read.c: the tracee's memory and /proc. */

void tracer_mem_init(struct tracer_mem *mem, pid_t tid);

/* Add the page of addr to batch, unless it is cached, in batch already,
 * or batch is full. */
void tracer_mem_want(struct tracer_mem *mem, struct tracer_mem_batch *batch,
		     uint64_t addr);

/* Read the pages of batch into the cache, which evicts as many, and
 * empty batch. Pages that cannot be read are left out. */
void tracer_mem_fetch(struct tracer_mem *mem,
		      struct tracer_mem_batch *batch);

/* Read a NUL-terminated string at addr. NULL on failure; the caller
 * frees. */
char *tracer_read_string(struct tracer_mem *mem, uint64_t addr, size_t *len);

/* Read the word of ptr_size bytes (4 or 8) at addr into *out. It may
 * lie across a page end: x86 reads unaligned memory, and so does the
 * kernel when it copies an exec's arrays. -1 when a page cannot be
 * read. */
int tracer_read_word(struct tracer_mem *mem, uint64_t addr,
		     unsigned ptr_size, uint64_t *out);

/* Read a NULL-terminated array of pointers of ptr_size bytes. Returns
 * the count, or -1; *out is the caller's to free. */
long tracer_read_pointers(struct tracer_mem *mem, uint64_t addr,
			  unsigned ptr_size, uint64_t **out);

/* readlink(/proc/PID/WHAT); NULL on failure; the caller frees. */
char *tracer_proc_link(pid_t pid, const char *what);

/* A process's pids from /proc/PID/status NSpid, host first. */
struct tracer_ns_pids {
	pid_t *pids;		/* malloc'd; NULL when there are none */
	size_t n;
};

/* Whether pid is in the tracer's own PID namespace, and that is the one
 * /proc shows, so that pid is its only pid. False when unknown. */
bool tracer_in_own_pid_ns(struct harness_tracer *tracer, pid_t pid);

/* Parse /proc/TID/status: Tgid, PPid and NSpid. -1 when it is gone. */
int tracer_proc_status(pid_t tid, pid_t *tgid, pid_t *ppid,
		       pid_t **ns_pids, size_t *n_ns_pids);

/* The size of a buffer for /proc/TID/status, which is a few KiB. */
#define TRACER_STATUS_BYTES 8192

/* Read /proc/TID/status into text, NUL-terminated. -1 when it is gone.
 * tracer_status_field() returns what follows key at the start of a line
 * of that text, or NULL. */
int tracer_status_text(pid_t tid, char *text, size_t size);
const char *tracer_status_field(const char *text, const char *key);

/* tracer_exec.c: decoding exec calls. */

/*
 * At the seccomp stop of an exec: fill t->pending. -1 when the call
 * cannot be read (the tracee died), and then the exec is skipped. Its
 * strings may be read in part. When
 * a leader execs a path without a descriptor of its own, t->locate is
 * set, and the cwd, the resolved path and exec_fd are left for
 * tracer_exec_locate(). Such an exec closes no descriptor that the path
 * needs and changes neither cwd nor root, and the tracee stops again
 * (exec event or syscall exit) before it runs code of its own.
 */
int tracer_exec_enter(struct harness_tracer *tracer, struct tracee *t);

/*
 * At the exec event of a successful exec: read its argv and environment
 * again from the new program's stack, where the kernel copied them, and
 * keep those. The seccomp stop's read may have failed in part, and
 * another thread can change the strings after it. Returns 0, or -1 when
 * the stack cannot be read, and then the seccomp stop's read stays.
 */
int tracer_exec_confirm(struct harness_tracer *tracer, struct tracee *t);

/* At an exec event that no seccomp stop came before: start t->pending
 * empty, for tracer_exec_confirm() to fill from the new program. */
void tracer_exec_unstopped(struct tracee *t);

/* After the seccomp stop is resumed, when t->locate is set: read the
 * cwd, resolve the path, and open the file. */
void tracer_exec_locate(struct harness_tracer *tracer, struct tracee *t);

/* After a successful exec, once its exec event stop has been resumed:
 * fill in the executable and its hash. */
void tracer_exec_succeeded(struct harness_tracer *tracer,
			   struct tracee *t, pid_t pid);

/* Return a descriptor of tid's root directory, kept in root, or -1.
 * The descriptor stays root's. */
int tracer_root_fd(struct tracer_root *root, pid_t tid);

/* Close the root that tracer_root_fd() keeps. */
void tracer_root_release(struct tracer_root *root);

/* Open name, relative to the directory dirfd of tid, with flags, as
 * tid's path lookup finds it. Returns the new descriptor (the caller's),
 * or -1 when the walk fails or cannot follow the lookup. */
int tracer_walk(struct harness_tracer *tracer, pid_t tid, int dirfd,
		const char *name, int flags);

/* Set t's pending interpreter from the "#!" line of the file that its
 * exec opened, or leave it NULL when that file is not a script. */
void tracer_read_interpreter(struct tracee *t);

/* tracer_refusal.c: tell whether the file open at fd rejects an exec
 * by thread tid by its own mode. */
enum harness_refusal tracer_refusal(pid_t tid, int fd);

/* Release an exec record's contents. */
void tracer_exec_release(struct harness_exec *exec);

/* Hash the file open at fd, using the cache. "" in out on failure. */
void tracer_hash_fd(struct harness_tracer *tracer, int fd, char out[65]);

/* The cached hash of the file at path, found by its stat data. -1 when
 * the cache has none: then hash the file with tracer_hash_fd(). */
int tracer_hash_stat(struct harness_tracer *tracer, const char *path,
		     char out[65]);

void tracer_hashes_free(struct harness_tracer *tracer);

/* Whether the value of the environment variable name is a secret, by
 * the options' patterns. */
bool tracer_is_secret(struct harness_tracer *tracer, const char *name);

void tracer_secrets_free(struct harness_tracer *tracer);

/* tracer_sched.c: the tracer thread's scheduling while the loop runs. */

/* The calling thread's scheduling as it was before tracer_sched_begin. */
struct tracer_sched {
	bool changed;		/* a short slice was set, so end restores */
	uint32_t policy;
	int32_t nice;
	uint64_t runtime;
	uint64_t flags;
};

/* Request the shortest slice for the calling thread, when its policy is
 * SCHED_NORMAL or SCHED_BATCH. Best effort: a kernel or a seccomp
 * profile that rejects it leaves the scheduling as it was. */
void tracer_sched_begin(struct tracer_sched *saved);

/* Restore what tracer_sched_begin changed. */
void tracer_sched_end(const struct tracer_sched *saved);

/* tracer_exec.c: kill t when its exec, at the exec event's stop, runs
 * one of the options' forbidden files, and mark its pending exec. */
void tracer_exec_forbid(struct harness_tracer *tracer, struct tracee *t);

/* tracer_json.c */
void tracer_env_cache_release(struct tracer_env_cache *cache);

/* One process's object without its children, as harness_process_json()
 * builds it. With a cache, each "env" is a raw item with the cache's
 * text. The caller owns the result; NULL when out of memory. */
struct cJSON *tracer_process_object(const struct harness_process *p,
				    struct tracer_env_cache *cache);

#endif
