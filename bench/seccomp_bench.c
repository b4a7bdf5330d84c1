/*
 * seccomp_bench.c - the cost of the sandbox's system call filter.
 *
 * Prints the fastest of 11 runs of the time per call, because on a
 * shared machine the other runs measure the neighbours as well:
 *
 *	getpid   allowed: bare, then under the filter
 *	ptrace   denied: EPERM from the filter itself, then through the
 *		 supervisor's listener (a round trip to another thread)
 *
 * and, as root, the number of BPF instructions the kernel runs for a few
 * common calls, which the load of the machine cannot blur. For that it
 * reads the loaded program back with PTRACE_SECCOMP_GET_FILTER and runs
 * it in a small classic BPF interpreter.
 *
 * Then it prints the cost of reporting write and network attempts
 * (seccomp.h, rule 4b) as a markdown table, with medians of interleaved
 * runs without a filter, with the filter, and with the filter and
 * reports. One case is a loop of write-opens in a directory, each of
 * which pays a round trip to the supervisor. The other is `make -j2` of
 * a generated project of small C files.
 *
 * Usage: seccomp_bench [CALLS]   (default 2000000 allowed calls; denied
 * calls through the supervisor run CALLS / 100 times, write-opens CALLS
 * / 100 times per run)
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/seccomp.h"

#define RUNS 11

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The minimum nanoseconds per call of syscall nr over RUNS runs. */
static double time_call(long nr, long calls)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double start = now_ns();

		for (long i = 0; i < calls; i++)
			syscall(nr, 0, 0, 0, 0);
		runs[r] = (now_ns() - start) / (double)calls;
	}
	qsort(runs, RUNS, sizeof(runs[0]), compare);
	return runs[0];
}

static int send_fd(int sock, int fd)
{
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(cmsg) = fd;
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	return cmsg ? *(int *)CMSG_DATA(cmsg) : -1;
}

/* Load the filter of opts in this child and hand the listener to the
 * parent over sock, or exit. */
static void load_and_send(const struct sandbox_seccomp_options *opts,
			  int sock)
{
	int listener;

	if (sandbox_seccomp_load(opts, &listener) < 0) {
		fprintf(stderr, "seccomp_bench: %s\n", sandbox_error());
		_exit(1);
	}
	if (send_fd(sock, listener) < 0)
		_exit(1);
	close(listener);
}

static void child(int sock, long calls)
{
	struct sandbox_seccomp_options opts = { .notify = true };
	double bare = time_call(SYS_getpid, calls);
	double filtered, denied;

	load_and_send(&opts, sock);
	filtered = time_call(SYS_getpid, calls);
	denied = time_call(SYS_ptrace, calls / 100);
	printf("getpid, no filter          %8.1f ns\n", bare);
	printf("getpid, filter             %8.1f ns\n", filtered);
	printf("ptrace denied, supervisor  %8.1f ns\n", denied);
	fflush(stdout);
	_exit(0);
}

static void child_errno(long calls)
{
	struct sandbox_seccomp_options opts = { .notify = false };

	if (sandbox_seccomp_load(&opts, NULL) < 0)
		_exit(1);
	printf("ptrace denied, filter only %8.1f ns\n",
	       time_call(SYS_ptrace, calls));
	fflush(stdout);
	_exit(0);
}

/* Run prog on data and return the number of instructions executed, or
 * -1 for an instruction this interpreter does not know. */
static int count_insns(const struct sock_filter *prog, long len,
		       const struct seccomp_data *data)
{
	uint32_t a = 0;
	int count = 0;

	for (long pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		bool taken;

		count++;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&a, (const char *)data + f->k, 4);
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			continue;
		case BPF_RET | BPF_K:
			return count;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			continue;
		case BPF_JMP | BPF_JEQ | BPF_K:
			taken = a == f->k;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			taken = a > f->k;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			taken = a >= f->k;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			taken = (a & f->k) != 0;
			break;
		default:
			return -1;
		}
		pc += taken ? f->jt : f->jf;
	}
	return -1;
}

static void print_path_lengths(const struct sandbox_seccomp_options *opts,
			       const char *label)
{
	static const struct {
		const char *name;
		int nr;
	} calls[] = {
		{ "read", SYS_read }, { "write", SYS_write },
		{ "openat", SYS_openat }, { "futex", SYS_futex },
		{ "getpid", SYS_getpid }, { "ioctl", SYS_ioctl },
		{ "ptrace", SYS_ptrace },
	};
	static struct sock_filter prog[4096];
	int go[2];
	long len;
	char byte;
	pid_t pid;

	if (geteuid() != 0 || pipe(go) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int listener;

		if (sandbox_seccomp_load(opts, &listener) < 0 ||
		    write(go[1], "l", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(go[0], &byte, 1) != 1 ||
	    ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, NULL, 0) != pid)
		return;
	len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, prog);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (len <= 0)
		return;

	printf("%s:\n", label);
	printf("program                    %8ld instructions\n", len);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct seccomp_data data = {
			.nr = calls[i].nr,
			.arch = AUDIT_ARCH_X86_64,
		};

		printf("path of %-18s %8d instructions\n", calls[i].name,
		       count_insns(prog, len, &data));
	}
}

/* The three filters of the reporting table. */
enum mode { NO_FILTER, FILTER, REPORT, MODES };

static const char *const mode_names[MODES] = {
	"no filter", "filter", "filter, reports",
};

#define MEDIAN_RUNS 9
#define MAKE_RUNS 5
#define MAKE_FILES 60

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), compare);
	return v[n / 2];
}

/* Load the filter of mode in a fresh child and hand the listener to the
 * parent over sock. */
static void load_mode(enum mode mode, int sock)
{
	struct sandbox_seccomp_options opts = {
		.notify = true, .report = mode == REPORT,
	};

	if (mode != NO_FILTER)
		load_and_send(&opts, sock);
}

static double write_opens(const char *dir, long calls)
{
	char path[4096];
	double start = now_ns();

	snprintf(path, sizeof(path), "%s/file", dir);
	for (long i = 0; i < calls; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		if (fd < 0)
			_exit(1);
		close(fd);
	}
	return (now_ns() - start) / (double)calls;
}

static double cpu_of(const struct rusage *ru)
{
	return ((double)ru->ru_utime.tv_sec + (double)ru->ru_stime.tv_sec) *
		       1e9 +
	       ((double)ru->ru_utime.tv_usec + (double)ru->ru_stime.tv_usec) *
		       1e3;
}

/* One timed child: write-opens in dir, or make in dir. */
struct job {
	enum mode mode;
	const char *dir;
	long calls;
	bool make;
};

static _Noreturn void run_job(const struct job *job, int sock, int out)
{
	load_mode(job->mode, sock);
	if (job->make) {
		dup2(open("/dev/null", O_WRONLY), 1);
		execlp("make", "make", "-s", "-j2", "-C", job->dir, "all",
		       (char *)NULL);
		_exit(127);
	}
	double ns = write_opens(job->dir, job->calls);

	if (write(out, &ns, sizeof(ns)) != sizeof(ns))
		_exit(1);
	_exit(0);
}

/*
 * Fork a child that loads the job's filter and runs it, supervised by
 * this process. Returns the ns per write-open, or make's wall time in
 * ns, and the CPU time of the child and its descendants in *cpu_ns.
 */
static double time_job(const struct job *job, double *cpu_ns)
{
	struct sandbox_seccomp_supervisor *sup = NULL;
	double start = now_ns(), wall, result = 0;
	int sv[2], pipefd[2], status;
	struct rusage ru, self_start, self_end;
	pid_t pid;

	getrusage(RUSAGE_SELF, &self_start);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(pipefd, O_CLOEXEC) < 0)
		exit(1);
	pid = fork();
	if (pid == 0)
		run_job(job, sv[1], pipefd[1]);
	close(sv[1]);
	close(pipefd[1]);
	if (job->mode != NO_FILTER)
		sup = sandbox_seccomp_supervisor_start(recv_fd(sv[0]), NULL,
						       NULL);
	if (!job->make && read(pipefd[0], &result, sizeof(result)) !=
			  sizeof(result))
		result = -1;
	wait4(pid, &status, 0, &ru);
	wall = now_ns() - start;
	sandbox_seccomp_supervisor_free(sup);
	close(sv[0]);
	close(pipefd[0]);
	getrusage(RUSAGE_SELF, &self_end);
	/* The supervisor thread's time counts too: it is this process's. */
	*cpu_ns = cpu_of(&ru) + cpu_of(&self_end) - cpu_of(&self_start);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "seccomp_bench: a %s job failed\n",
			mode_names[job->mode]);
		exit(1);
	}
	return job->make ? wall : result;
}

/* A project of MAKE_FILES small C files and a Makefile that builds them
 * into one program. */
static void write_project(const char *dir)
{
	char path[4096];
	FILE *f;

	for (int i = 0; i < MAKE_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d.c", dir, i);
		f = fopen(path, "w");
		if (!f)
			exit(1);
		fprintf(f, "#include <stdio.h>\n#include <string.h>\n"
			   "int f%d(const char *s)\n{\n\tint n = 0;\n"
			   "\tfor (size_t i = 0; i < strlen(s); i++)\n"
			   "\t\tn += s[i] * %d;\n\treturn n;\n}\n", i,
			i + 1);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/main.c", dir);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	fprintf(f, "int main(void)\n{\n\treturn 0;\n}\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/Makefile", dir);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	fprintf(f, "OBJS = main.o $(patsubst %%.c,%%.o,$(wildcard f*.c))\n"
		   "all: prog\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n"
		   "%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\n"
		   "clean:\n\trm -f prog *.o\n");
	fclose(f);
}

static void make_clean(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "make -s -C '%s' clean", dir);
	if (system(cmd) != 0)
		exit(1);
}

static void print_row(const char *what, const char *unit,
		      const double v[MODES])
{
	printf("| %s | %.1f %s | %.1f %s | %.1f %s | %.3f |\n", what,
	       v[NO_FILTER], unit, v[FILTER], unit, v[REPORT], unit,
	       v[REPORT] / v[FILTER]);
}

static void print_report_table(long calls)
{
	char dir[] = "/tmp/seccomp_bench.XXXXXX";
	double opens[MODES][MEDIAN_RUNS], wall[MODES][MAKE_RUNS];
	double cpu[MODES][MAKE_RUNS], cpu_open, med[3][MODES];
	char cmd[4200];

	if (!mkdtemp(dir))
		exit(1);
	/* Interleaved, so that a change in the machine's load hits every
	 * mode alike. */
	for (int r = 0; r < MEDIAN_RUNS; r++) {
		for (int m = 0; m < MODES; m++) {
			struct job job = { (enum mode)m, dir, calls, false };

			opens[m][r] = time_job(&job, &cpu_open);
		}
	}
	write_project(dir);
	for (int r = 0; r < MAKE_RUNS; r++) {
		for (int m = 0; m < MODES; m++) {
			struct job job = { (enum mode)m, dir, 0, true };

			make_clean(dir);
			wall[m][r] = time_job(&job, &cpu[m][r]) / 1e6;
			cpu[m][r] /= 1e6;
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	for (int m = 0; m < MODES; m++) {
		med[0][m] = median(opens[m], MEDIAN_RUNS);
		med[1][m] = median(wall[m], MAKE_RUNS);
		med[2][m] = median(cpu[m], MAKE_RUNS);
	}
	printf("\n| case | %s | %s | %s | reports / filter |\n",
	       mode_names[NO_FILTER], mode_names[FILTER], mode_names[REPORT]);
	printf("|---|---|---|---|---|\n");
	print_row("write-open + close, median of 9", "us", (double[MODES]){
		med[0][0] / 1e3, med[0][1] / 1e3, med[0][2] / 1e3 });
	print_row("make -j2, 61 files, wall, median of 5", "ms", med[1]);
	print_row("make -j2, 61 files, CPU with the supervisor's, median of 5",
		  "ms", med[2]);
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 2000000;
	struct sandbox_seccomp_supervisor *sup;
	int sv[2];
	pid_t pid;

	if (calls < 100 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 2;
	pid = fork();
	if (pid == 0)
		child(sv[1], calls);
	sup = sandbox_seccomp_supervisor_start(recv_fd(sv[0]), NULL, NULL);
	if (!sup) {
		fprintf(stderr, "seccomp_bench: %s\n", sandbox_error());
		return 1;
	}
	waitpid(pid, NULL, 0);
	sandbox_seccomp_supervisor_free(sup);

	pid = fork();
	if (pid == 0)
		child_errno(calls);
	waitpid(pid, NULL, 0);

	print_path_lengths(&(struct sandbox_seccomp_options){ .notify = true },
			   "filter");
	print_path_lengths(&(struct sandbox_seccomp_options){ .notify = true,
							      .report = true },
			   "filter with reports");
	print_report_table(calls / 100);
	return 0;
}
