/*
 * trace_helper.c - small programs for the tracer's hard cases, one per
 * subcommand: trace_helper CASE [ARG...]. Each exits 0 when it ran as
 * intended, and 1 with a message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int die(const char *what)
{
	fprintf(stderr, "trace_helper: %s: %s\n", what, strerror(errno));
	return 1;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The state letter of /proc/PID/stat, or 0 when it is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] ? paren[2] : 0;
}

static char **exec_argv;

static void *exec_thread(void *arg)
{
	(void)arg;
	execv(exec_argv[0], exec_argv);
	die("execv from a thread");
	_exit(1);
}

/* A thread other than the leader calls execve; the leader waits. */
static int case_thread_exec(char **argv)
{
	pthread_t t;

	exec_argv = argv;
	if (pthread_create(&t, NULL, exec_thread, NULL) != 0)
		return die("pthread_create");
	for (;;)
		pause();
}

static void *idle_thread(void *arg)
{
	pause_ms(50);
	return arg;
}

/* Threads that start and end without becoming processes. */
static int case_threads(char **argv)
{
	int n = argv[0] ? atoi(argv[0]) : 4;
	pthread_t t[64];

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&t[i], NULL, idle_thread, NULL) != 0)
			return die("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int wait_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return die("waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int case_vfork(char **argv)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return die("vfork");
	return wait_ok(pid);
}

/* posix_spawn is a clone with CLONE_VM | CLONE_VFORK in glibc. */
static int case_spawn(char **argv)
{
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

	if (rc != 0) {
		errno = rc;
		return die("posix_spawn");
	}
	return wait_ok(pid);
}

static int case_execveat(char **argv)
{
	int fd = open(argv[0], O_PATH | O_CLOEXEC);

	if (fd < 0)
		return die("open");
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return die("execveat");
}

static int case_fexecve(char **argv)
{
	int fd = open(argv[0], O_RDONLY);

	if (fd < 0)
		return die("open");
	fexecve(fd, argv, environ);
	return die("fexecve");
}

/* Exec the file argv[0] with argv + 1 as its argv, so that the new
 * argv[0] can differ from the path. */
static int case_exec_as(char **argv)
{
	if (!argv[0] || !argv[1]) {
		fprintf(stderr, "usage: trace_helper exec-as PATH ARGV0 ...\n");
		return 2;
	}
	execve(argv[0], argv + 1, environ);
	return die("execve");
}

/* Exec argv, each path in turn, as a process that is not dumpable, so
 * that a tracer without CAP_SYS_PTRACE cannot read its memory. */
static int case_undumpable(char **argv)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return die("prctl");
	for (char **path = argv; *path; path++)
		execv(*path, path);
	return die("execv");
}

/*
 * Double fork and setsid, then the daemon runs argv. This process exits
 * once the daemon's exec has closed the close-on-exec pipe, so that the
 * exec is sure to happen before the traced command ends.
 */
static int case_daemon(char **argv)
{
	int fds[2];
	char byte;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return die("pipe2");
	pid = fork();
	if (pid < 0)
		return die("fork");
	if (pid > 0) {
		close(fds[1]);
		while (read(fds[0], &byte, 1) > 0)
			;
		return wait_ok(pid);
	}
	close(fds[0]);
	if (setsid() < 0)
		_exit(die("setsid"));
	pid = fork();
	if (pid != 0)
		_exit(pid < 0 ? 1 : 0);
	execv(argv[0], argv);
	_exit(die("execv"));
}

/* Leave a child unreaped until it is a zombie, then exit. */
static int case_zombie(char **argv)
{
	pid_t pid = fork();

	(void)argv;
	if (pid < 0)
		return die("fork");
	if (pid == 0)
		_exit(7);
	for (int i = 0; i < 5000 && proc_state(pid) != 'Z'; i++)
		pause_ms(1);
	if (proc_state(pid) != 'Z') {
		fprintf(stderr, "trace_helper: child never became a zombie\n");
		return 1;
	}
	return 0;
}

static void *sleep_long(void *arg)
{
	(void)arg;
	pause_ms(30000);
	return NULL;
}

/* A child whose leader thread exits while another thread sleeps for 30
 * seconds. This process returns once the leader is a zombie. */
static int case_leader_exits(char **argv)
{
	pid_t pid = fork();

	(void)argv;
	if (pid < 0)
		return die("fork");
	if (pid == 0) {
		pthread_t thread;

		if (pthread_create(&thread, NULL, sleep_long, NULL) != 0)
			_exit(die("pthread_create"));
		pthread_exit(NULL);
	}
	for (int i = 0; i < 5000 && proc_state(pid) != 'Z'; i++)
		pause_ms(1);
	if (proc_state(pid) != 'Z') {
		fprintf(stderr, "trace_helper: the leader never exited\n");
		return 1;
	}
	return 0;
}

/* A child that vforks a grandchild, which sleeps for 30 seconds instead
 * of exec'ing. This process returns once the child waits for it. */
static int case_vfork_waits(char **argv)
{
	pid_t pid = fork();

	(void)argv;
	if (pid < 0)
		return die("fork");
	if (pid == 0) {
		if (vfork() == 0) {
			pause_ms(30000);
			_exit(0);
		}
		_exit(0);
	}
	for (int i = 0; i < 5000 && proc_state(pid) != 'D'; i++)
		pause_ms(1);
	if (proc_state(pid) != 'D') {
		fprintf(stderr, "trace_helper: the child never waited\n");
		return 1;
	}
	return 0;
}

/* Exec /bin/true with N arguments of 100 bytes each. */
static int case_long_argv(char **argv)
{
	int n = atoi(argv[0]);
	char **args = calloc((size_t)n + 2, sizeof(*args));

	if (!args)
		return die("calloc");
	args[0] = "/bin/true";
	for (int i = 1; i <= n; i++) {
		args[i] = malloc(101);
		if (!args[i])
			return die("malloc");
		memset(args[i], 'a' + i % 26, 100);
		args[i][100] = '\0';
	}
	execv(args[0], args);
	return die("execv");
}

static long *counter;

static void count_forever(void)
{
	for (;;) {
		__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
		pause_ms(1);
	}
}

static long counter_after(long ms)
{
	pause_ms(ms);
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * Stop a process group of two with SIGSTOP and check that it stays
 * stopped (a tracer that resumes a group-stop with PTRACE_CONT would let
 * it run), then SIGCONT and check that it runs again.
 */
static int case_stop_group(char **argv)
{
	pid_t kids[2];
	int status;
	long before, after;

	(void)argv;
	counter = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		return die("mmap");
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			setpgid(0, i ? kids[0] : 0);
			count_forever();
		}
		setpgid(kids[i], kids[0]);
	}
	counter_after(100);
	if (kill(-kids[0], SIGSTOP) < 0)
		return die("kill SIGSTOP");
	for (int i = 0; i < 2; i++) {
		if (waitpid(kids[i], &status, WUNTRACED) < 0 ||
		    !WIFSTOPPED(status)) {
			fprintf(stderr, "trace_helper: child not stopped\n");
			return 1;
		}
	}
	before = counter_after(50);
	after = counter_after(300);
	if (before != after) {
		fprintf(stderr, "trace_helper: stopped children ran: "
				"%ld then %ld\n", before, after);
		return 1;
	}
	kill(-kids[0], SIGCONT);
	for (int i = 0; i < 2000 && counter_after(1) == after; i++)
		;
	if (__atomic_load_n(counter, __ATOMIC_RELAXED) == after) {
		fprintf(stderr, "trace_helper: children did not continue\n");
		return 1;
	}
	kill(-kids[0], SIGTERM);
	for (int i = 0; i < 2; i++)
		waitpid(kids[i], &status, 0);
	puts("stopped and continued");
	return 0;
}

/*
 * One exec of a missing path fails first, as in a PATH search. Then,
 * with "-r DIR", chroot to DIR and change to its top. Then exec each
 * PATH, with AT_SYMLINK_NOFOLLOW after "-n", or a path string that runs
 * into an unmapped page for "@unmapped". Prints the errno of each
 * failure, one per line, as its number.
 */
static int case_after_failure(char **argv)
{
	char *args[] = { "after-failure", NULL };
	int flags = 0;

	execve("/nonexistent-after-failure/first", args, environ);
	for (; *argv; argv++) {
		char *path = *argv;

		if (strcmp(path, "-r") == 0 && argv[1]) {
			if (chroot(*++argv) < 0 || chdir("/") < 0)
				return die("chroot");
			continue;
		}
		if (strcmp(path, "-n") == 0) {
			flags = AT_SYMLINK_NOFOLLOW;
			continue;
		}
		if (strcmp(path, "@unmapped") == 0) {
			path = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (path == MAP_FAILED || munmap(path + 4096, 4096))
				return die("mmap");
			memset(path, 'a', 4096);
			path[0] = '/';
		}
		syscall(SYS_execveat, AT_FDCWD, path, args, environ, flags);
		printf("%d\n", errno);
		fflush(stdout);
	}
	return 0;
}

/*
 * Exec PROGRAM ARG... with its argv array one byte off the alignment of
 * a pointer, and laid across a page end, which the kernel accepts.
 */
static int case_misaligned(char **argv)
{
	size_t n = 0;
	char *page, **array;

	while (argv[n])
		n++;
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return die("mmap");
	array = (char **)(page + 4096 - sizeof(char *) - 1);
	memcpy(array, argv, (n + 1) * sizeof(char *));
	execve(argv[0], array, environ);
	return die("execve");
}

/*
 * Exec PROGRAM ARG... with the strings of the arguments in a page of
 * memfd_secret(2), which the kernel copies but process_vm_readv cannot
 * read. Exits 77 where memfd_secret is not available.
 */
static int case_unreadable_args(char **argv)
{
	size_t n = 0, used = 0;
	char *page, **array;
	int fd = (int)syscall(SYS_memfd_secret, 0);

	if (fd < 0 || ftruncate(fd, 65536) < 0)
		return 77;
	page = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return 77;
	while (argv[n])
		n++;
	array = calloc(n + 1, sizeof(*array));
	if (!array)
		return die("calloc");
	array[0] = argv[0];
	for (size_t i = 1; i < n; i++) {
		size_t len = strlen(argv[i]) + 1;

		if (used + len > 65536)
			return die("arguments");
		memcpy(page + used, argv[i], len);
		array[i] = page + used;
		used += len;
	}
	execve(argv[0], array, environ);
	return die("execve");
}

static char racing[16] = "benign";

static void *flip_racing(void *arg)
{
	(void)arg;
	for (;;) {
		memcpy(racing, "EVILXX", 7);
		memcpy(racing, "benign", 7);
	}
	return NULL;
}

/*
 * Exec /bin/echo with an argument that another thread keeps rewriting,
 * so that the kernel may copy another value than a read before it saw.
 */
static int case_racing_argv(char **argv)
{
	char *args[] = { "/bin/echo", racing, NULL };
	pthread_t thread;

	(void)argv;
	if (pthread_create(&thread, NULL, flip_racing, NULL) != 0)
		return die("pthread_create");
	execve(args[0], args, environ);
	return die("execve");
}

/*
 * Swap the directories A and B (RENAME_EXCHANGE) until killed, so that
 * a path through A names B's contents half the time.
 */
static int case_swap_dirs(char **argv)
{
	if (!argv[0] || !argv[1]) {
		fprintf(stderr, "usage: trace_helper swap-dirs A B\n");
		return 2;
	}
	for (;;) {
		if (syscall(SYS_renameat2, AT_FDCWD, argv[0], AT_FDCWD,
			    argv[1], RENAME_EXCHANGE) < 0)
			return die("renameat2");
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(char **argv);
	} cases[] = {
		{ "thread-exec", case_thread_exec },
		{ "threads", case_threads },
		{ "vfork", case_vfork },
		{ "spawn", case_spawn },
		{ "execveat", case_execveat },
		{ "fexecve", case_fexecve },
		{ "exec-as", case_exec_as },
		{ "undumpable", case_undumpable },
		{ "leader-exits", case_leader_exits },
		{ "vfork-waits", case_vfork_waits },
		{ "daemon", case_daemon },
		{ "zombie", case_zombie },
		{ "long-argv", case_long_argv },
		{ "stop-group", case_stop_group },
		{ "after-failure", case_after_failure },
		{ "misaligned", case_misaligned },
		{ "racing-argv", case_racing_argv },
		{ "unreadable-args", case_unreadable_args },
		{ "swap-dirs", case_swap_dirs },
	};

	if (argc < 2) {
		fprintf(stderr, "usage: trace_helper CASE [ARG...]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name) == 0)
			return cases[i].run(argv + 2);
	}
	fprintf(stderr, "trace_helper: unknown case: '%s'\n", argv[1]);
	return 2;
}
