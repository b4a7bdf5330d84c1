/*
 * main.c - the runbundle executable: parse the global options, then look
 * the subcommand up in the one table below and run it. Every subcommand
 * lives in the library of its folder; this file does nothing else.
 *
 * The executable links only the light commands (sandbox, help), so that
 * they start without loading libcurl, libmicrohttpd, libarchive and
 * SQLite. The others are in the commands module, which is opened with
 * dlopen() when one of them runs (docs/architecture.md).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "module_config.h"
#include "inspect/commands.h"
#include "record/commands.h"
#include "replay/commands.h"

static int cmd_help(int argc, char **argv, const struct cli_command *self);

/* A command in the commands module: the row has no function, and
 * load_command() finds cmd_NAME there ('-' in NAME read as '_'). */
#define IN_MODULE(fn) NULL

static const struct cli_command commands[] = {
	{ "record", IN_MODULE(cmd_record),
	  "runbundle record [-o FILE] [--policy FILE] [--workspace DIR] "
	  "[--upstream NAME=URL | --model-script FILE] [--label KEY=VALUE]... "
	  "[--sandbox none] [--max-response-body N] -- AGENT [ARG...]",
	  "Run an agent sandboxed, traced and recorded into one bundle.",
	  "  -o FILE               the bundle to write, outside the "
	  "workspace (default:\n"
	  "                        run-<UTC time>.rb in "
	  "$XDG_DATA_HOME/runbundle)\n"
	  "  --policy FILE         the sandbox policy (default: the built-in "
	  "one)\n"
	  "  --workspace DIR       the agent's workspace (default: the "
	  "current directory)\n"
	  "  --upstream NAME=URL   forward model requests to URL; "
	  "repeatable\n"
	  "  --model-script FILE   answer model requests from a script\n"
	  "  --label KEY=VALUE     store a label in the bundle; repeatable\n"
	  "  --sandbox none        run without the sandbox (recorded)\n"
	  "  --max-response-body N  cut a model response at N bytes, with K,"
	  " M or G\n"
	  "                        for KiB, MiB or GiB; 0 for no limit "
	  "(default: 256M)\n"
	  "Exits with the agent's status (128 + signal when killed), 125 "
	  "when the\nrecording itself failed, 2 for a bad command line and "
	  "3 when the workspace,\nthe policy, the model script, the bundle's "
	  "place or a key cannot be used.\n"
	  "docs/record.md has the details.\n" },
	{ "snapshot", IN_MODULE(cmd_snapshot),
	  "runbundle snapshot [--json] [--level N] [--exclude PATTERN]... "
	  "[--no-cache] [--finalize] BUNDLE DIR",
	  "Store a directory in a bundle (created when missing).",
	  "  --json             print the result as one JSON object\n"
	  "  --level N          zstd level 1 to 19 of a new bundle\n"
	  "  --exclude PATTERN  leave out names (or, with '/', paths from "
	  "DIR) matching\n"
	  "                     the fnmatch(3) pattern; may be repeated\n"
	  "  --no-cache         read every file, trusting no stat cache\n"
	  "  --finalize         finalize the bundle after the snapshot\n"
	  "Prints 'snapshot EVENT ROOT-TREE-ID' and 'digest HASH' (the root "
	  "digest when\nfinalized, else the hash of the last event).\n"
	  "Exit status: 0 complete, 1 stored but incomplete (unreadable or "
	  "changing\nfiles), 2 usage, 3 nothing stored.\n" },
	{ "checkout", IN_MODULE(cmd_checkout),
	  "runbundle checkout [--force] [--owner] [--keep-setuid] BUNDLE "
	  "SNAPSHOT DIR",
	  "Recreate a stored snapshot in a directory.",
	  "  --force        write into DIR even when it is not empty\n"
	  "  --owner        restore file owners too (needs root)\n"
	  "  --keep-setuid  restore the setuid and setgid bits of files, "
	  "which are\n                 cleared otherwise\n"
	  "SNAPSHOT is 'latest', the event number of a snapshot, or a prefix "
	  "of at least\n4 hex digits of its root tree id.\n"
	  "Exit status: 0 all recreated, 1 some entries skipped, 2 usage, "
	  "3 failed.\n" },
	{ "verify", IN_MODULE(cmd_verify),
	  "runbundle verify [--json] [--allow-incomplete] BUNDLE",
	  "Re-hash every object; check references and the event chain.",
	  "  --json              print the report as one JSON object\n"
	  "  --allow-incomplete  exit 0 for an unfinalized bundle whose "
	  "events are intact\n"
	  "Exit status: 0 intact, 1 problems found or incomplete, 2 usage, "
	  "3 cannot open.\n" },
	{ "sandbox", cmd_sandbox,
	  "runbundle sandbox [--policy FILE] [--workspace DIR] "
	  "[--description FILE] [--sandbox namespaces|none] -- COMMAND "
	  "[ARG...]",
	  "Run a command in the sandbox that a policy describes.",
	  "  --policy FILE       the policy (docs/policy.md); default: the "
	  "built-in one\n"
	  "  --workspace DIR     the directory bound read-write at the same "
	  "path inside;\n"
	  "                      default: the current directory\n"
	  "  --description FILE  write what was enforced, and at the end the "
	  "result\n"
	  "                      and the policy violations, as JSON\n"
	  "  --sandbox none      opt out of the sandbox: only the environment "
	  "filter,\n"
	  "                      the limits and fd closing apply\n"
	  "Exits with the command's status (128 + N when killed by signal "
	  "N), or 125\n"
	  "when the sandbox itself failed.\n" },
	{ "gateway", IN_MODULE(cmd_gateway),
	  "runbundle gateway [OPTION...] (--upstream NAME=URL... | "
	  "--model-script FILE | --replay FILE)",
	  "Serve the model gateway on its own, for testing agents.",
	  "  --listen HOST:PORT      numeric address to listen on (default: "
	  "127.0.0.1:0,\n"
	  "                          a free port)\n"
	  "  --listen-fd FD          serve on this already listening socket\n"
	  "  --upstream NAME=URL     forward requests under /NAME/ to URL "
	  "(the first\n"
	  "                          upstream takes the rest); repeatable\n"
	  "  --auth NAME=VAR[:HEADER]\n"
	  "                          send upstream NAME the key in the "
	  "environment\n"
	  "                          variable VAR (default header: "
	  "Authorization: Bearer)\n"
	  "  --redact-env VAR        also mask the value of VAR in records; "
	  "repeatable\n"
	  "  --model-script FILE     answer from a model script\n"
	  "  --replay FILE           serve the exchanges recorded in FILE\n"
	  "  --timing recorded|fast  replay pacing (default: recorded)\n"
	  "  --on-divergence stop|closest|forward\n"
	  "                          answer to an unmatched request in a "
	  "replay\n"
	  "                          (default: stop, a 400 error)\n"
	  "  --divergences FILE      write divergence reports there, one JSON "
	  "a line\n"
	  "  --ignore-header NAME    treat header NAME as volatile; "
	  "repeatable\n"
	  "  --match-rule RULE       volatile values: regex:PATTERN or "
	  "path:JSONPATH\n"
	  "  --record PATH           write exchanges to a JSON Lines file, or "
	  "one file\n"
	  "                          each when PATH is a directory\n"
	  "  --port-file FILE        write the port there once listening\n"
	  "  --max-request-body N    bytes; larger requests get 413 "
	  "(default: 64 MiB)\n"
	  "  --max-response-body N   cut a response at N bytes, with K, M "
	  "or G for KiB,\n"
	  "                          MiB or GiB; 0 for no limit (default: "
	  "256M)\n"
	  "  --connect-timeout MS    upstream connect timeout (default: "
	  "10000)\n"
	  "  --idle-timeout MS       end an upstream silent this long "
	  "(default: 300000)\n"
	  "  --agent-timeout MS      close an agent connection silent this "
	  "long while\n                          the gateway waits for it, "
	  "rounded up to\n                          whole seconds "
	  "(default: 60000)\n"
	  "Serves until SIGINT or SIGTERM, and exits 1 when a replay "
	  "diverged.\ndocs/gateway.md has the details.\n" },
	{ "trace", IN_MODULE(cmd_trace),
	  "runbundle trace [--json] [-o FILE] [--secret PATTERN]... -- "
	  "COMMAND [ARG...]",
	  "Run a command and print every process it executes.",
	  "  --json            print the process tree as JSON\n"
	  "  -o FILE           write the tree to FILE (default: stderr, "
	  "after the command)\n"
	  "  --secret PATTERN  redact environment values whose names match "
	  "this fnmatch\n"
	  "                    pattern; repeatable; replaces the default "
	  "list (*_KEY,\n"
	  "                    *TOKEN*, *SECRET*, *PASSWORD*, ...)\n"
	  "Exits with the command's status, or 128 + the signal that "
	  "killed it.\n" },
	{ "fingerprint", IN_MODULE(cmd_fingerprint),
	  "runbundle fingerprint [--json] [--compare FILE] "
	  "[--secret PATTERN]...",
	  "Print this machine's environment fingerprint.",
	  "  --json            print JSON\n"
	  "  --compare FILE    list what differs from the fingerprint in "
	  "FILE, and exit\n"
	  "                    with 1 when anything does\n"
	  "  --secret PATTERN  redact environment values whose names match "
	  "this fnmatch\n"
	  "                    pattern; repeatable; replaces the default "
	  "list\n" },
	{ "inspect", IN_MODULE(cmd_inspect),
	  "runbundle inspect [--json] [--allow-incomplete] BUNDLE",
	  "Summarize a run: model calls, processes, files, violations.",
	  "  --json              print the summary as one JSON object "
	  "(docs/inspect.md)\n"
	  "  --allow-incomplete  exit 0 for an intact bundle that was not "
	  "finalized\n" },
	{ "log", IN_MODULE(cmd_log),
	  "runbundle log [--json] [--kind KIND]... [--step STEP] "
	  "[--process PID] [--verify] [--allow-incomplete] BUNDLE",
	  "Print the timeline, one line per event, grouped by step.",
	  "  --json              print the timeline as one JSON object\n"
	  "  --kind KIND         only events of this kind (exec, exchange, "
	  "output, ...;\n"
	  "                      docs/record.md lists them); repeatable\n"
	  "  --step STEP         only this step: a number, 'initial' or "
	  "'final'\n"
	  "  --process PID       only events of this process (host or "
	  "sandbox pid)\n"
	  "  --verify            check every object too, as runbundle "
	  "verify does\n"
	  "  --allow-incomplete  accept a bundle that was not finalized\n"
	  "The event chain and root digest are always checked. Damage, and "
	  "a bundle\nthat was not finalized, is reported on stderr after the "
	  "output, with exit\nstatus 1.\n" },
	{ "show", IN_MODULE(cmd_show),
	  "runbundle show [--json] [--verify] [--allow-incomplete] BUNDLE "
	  "EVENT",
	  "Print one event in full, with its bodies decoded.",
	  "  --json              print the event and what it references as "
	  "JSON\n"
	  "  --verify            check every object too, as runbundle "
	  "verify does\n"
	  "  --allow-incomplete  accept a bundle that was not finalized\n"
	  "The event chain and root digest are always checked. Damage, and "
	  "a bundle\nthat was not finalized, is reported on stderr after the "
	  "output, with exit\nstatus 1.\n" },
	{ "patch", IN_MODULE(cmd_patch),
	  "runbundle patch [--json] [--from STEP] [--to STEP] [--verify] "
	  "[--allow-incomplete] BUNDLE [PATH...]",
	  "Print the workspace diff between two steps as a unified diff.",
	  "  --from STEP         the old side (default: initial)\n"
	  "  --to STEP           the new side (default: final)\n"
	  "  --json              print the changed files and the diff as "
	  "JSON\n"
	  "  --verify            check every object too, as runbundle "
	  "verify does\n"
	  "  --allow-incomplete  accept a bundle that was not finalized\n"
	  "PATH limits the diff to these files and directories.\n" },
	{ "ls", IN_MODULE(cmd_ls),
	  "runbundle ls [--json] [-r] [--verify] [--allow-incomplete] BUNDLE "
	  "[STEP] [PATH]",
	  "List a directory of the workspace at one step (default: final).",
	  "  -r, --recursive     list everything below PATH\n"
	  "  --json              print the entries as JSON\n"
	  "  --verify            check every object too, as runbundle "
	  "verify does\n"
	  "  --allow-incomplete  accept a bundle that was not finalized\n"
	  "The event chain and root digest are always checked. Damage, and "
	  "a bundle\nthat was not finalized, is reported on stderr after the "
	  "output, with exit\nstatus 1.\n" },
	{ "cat", IN_MODULE(cmd_cat),
	  "runbundle cat [--json] [--verify] [--allow-incomplete] BUNDLE "
	  "[STEP] PATH",
	  "Print one file of the workspace at one step (default: final).",
	  "  --json              print the content base64-encoded in a JSON "
	  "object\n"
	  "  --verify            check every object too, as runbundle "
	  "verify does\n"
	  "  --allow-incomplete  accept a bundle that was not finalized\n"
	  "The event chain and root digest are always checked. Damage, and "
	  "a bundle\nthat was not finalized, is reported on stderr after the "
	  "output, with exit\nstatus 1.\n" },
	{ "export", IN_MODULE(cmd_export),
	  "runbundle export [--json] --format tar|tar.zst|dir [--step STEP] "
	  "[--keep-setuid] [--allow-incomplete] -o OUT BUNDLE",
	  "Write the workspace at one step as a tar or a directory.",
	  "  --format FORMAT  tar, tar.zst or dir\n"
	  "  --step STEP      the step (default: final)\n"
	  "  -o OUT           the file or directory to create\n"
	  "  --json           print what was written as JSON\n"
	  "  --keep-setuid    with dir: restore the setuid and setgid bits "
	  "of files,\n                   which are cleared otherwise\n"
	  "  --allow-incomplete  export from a bundle that was not "
	  "finalized\n" },
	{ "export-bundle", IN_MODULE(cmd_export_bundle),
	  "runbundle export-bundle [--json] -o FILE.tar.zst BUNDLE",
	  "Write the whole bundle as a tar.zst of plain files.",
	  "  -o FILE  the tar.zst to create (docs/bundle-format.md, "
	  "\"Open layout\")\n"
	  "  --json   print what was written as JSON\n" },
	{ "import", IN_MODULE(cmd_import),
	  "runbundle import [--json] -o BUNDLE FILE.tar.zst",
	  "Turn an export-bundle archive back into a bundle.",
	  "  -o BUNDLE  the bundle to create\n"
	  "  --json     print what was imported as JSON\n" },
	{ "gate", IN_MODULE(cmd_gate),
	  "runbundle gate [--rules FILE] [--json] BUNDLE",
	  "Check a run against CI approval rules; exit 1 when one fails.",
	  "  --rules FILE  the rules (docs/gate.md); the built-in ones by "
	  "default\n"
	  "  --json        print every rule's result as one JSON object\n"
	  "Exit status: 0 all rules passed, 1 a rule failed, 2 usage, 3 "
	  "error.\n" },
	{ "apply", IN_MODULE(cmd_apply),
	  "runbundle apply [--to DIR] [--dry-run] [--json] BUNDLE",
	  "Apply the run's changes to a checkout of its initial state.",
	  "  --to DIR   the checkout to change (default: the current "
	  "directory)\n"
	  "  --dry-run  check the target and list the changes, write "
	  "nothing\n"
	  "  --json     print the changes and conflicts as JSON "
	  "(docs/gate.md)\n"
	  "Exit status: 0 applied (or applied already), 1 the target "
	  "differs from the\ninitial snapshot (nothing written), 2 usage, "
	  "3 error.\n" },
	{ "report", IN_MODULE(cmd_report),
	  "runbundle report [--json] [--allow-incomplete] -o FILE BUNDLE",
	  "Write one self-contained HTML report of a run for auditors.",
	  "  -o FILE             the HTML file to create, which must not "
	  "exist\n"
	  "                      (docs/gate.md, \"The report\")\n"
	  "  --json              also print the page's data as JSON\n"
	  "  --allow-incomplete  report a bundle that was not finalized\n" },
	{ "replay", IN_MODULE(cmd_replay),
	  "runbundle replay [-o OUT] [--json] [--timing recorded|fast] "
	  "[--on-mismatch stop|closest|forward [--upstream NAME=URL]...] "
	  "[--repeat N [-j J]] "
	  "[--step K] [--match-rule RULE]... [--strict-git-index] "
	  "[--compare-output] "
	  "[--allow-incomplete] [--sandbox none] [--policy FILE] "
	  "[--trust-policy] [--keep] BUNDLE",
	  "Re-run a recorded agent and name the first divergence.",
	  "  -o OUT                the replay's bundle (with --repeat or "
	  "--step: a\n"
	  "                        directory for replay-N.rb); default: kept "
	  "only with --keep\n"
	  "  --json                print the report as one JSON object\n"
	  "  --timing recorded|fast  model response pacing (default: fast)\n"
	  "  --on-mismatch stop|closest|forward\n"
	  "                        answer to a request that matches no "
	  "recording\n"
	  "                        (default: stop, a 400 error)\n"
	  "  --upstream NAME=URL   with forward: the URL that receives the "
	  "requests\n"
	  "                        of the recorded upstream NAME, and its "
	  "NAME_API_KEY\n"
	  "  --repeat N            replay N times and count where they "
	  "diverge\n"
	  "  -j J                  run J replays at once\n"
	  "  --step K              re-run only the commands of step K, from "
	  "the\n"
	  "                        snapshot before it (N times with "
	  "--repeat); K is\n"
	  "                        a number from 1, or 'final' for the "
	  "last step\n"
	  "  --match-rule RULE     also count as volatile: regex:PATTERN or "
	  "path:JSONPATH\n"
	  "                        (docs/matching.md), beside the policy's "
	  "rules\n"
	  "  --strict-git-index    a difference in .git/index diverges "
	  "(default:\n"
	  "                        volatile, since git status rewrites it)\n"
	  "  --compare-output      a difference in the agent's stdout or "
	  "stderr\n"
	  "                        diverges (default: a note on stderr)\n"
	  "  --allow-incomplete    replay a recording that was not finalized\n"
	  "  --policy FILE         run under this sandbox policy, not the "
	  "recorded one\n"
	  "                        (for a bundle from someone else)\n"
	  "  --trust-policy        run under a recorded policy that shows "
	  "the agent\n"
	  "                        more of this host than the default one\n"
	  "  --sandbox none        replay a run recorded with --sandbox none, "
	  "on this\n"
	  "                        host as you, without a sandbox\n"
	  "  --keep                keep the replay's workspace\n"
	  "Exit status: 0 identical or volatile differences only, 1 "
	  "diverged, 2 usage,\n3 the replay could not run, 128 + N "
	  "interrupted by signal N. docs/replay.md\nhas the details.\n" },
	{ "diff", IN_MODULE(cmd_diff),
	  "runbundle diff [--json] [--match-rule RULE]... "
	  "[--strict-git-index] [--compare-output] [--allow-incomplete] A B",
	  "Compare two recorded runs step by step, as replay does.",
	  "  --json              print the report as one JSON object\n"
	  "  --allow-incomplete  compare runs that were not finalized\n"
	  "  --match-rule RULE   also count as volatile (docs/matching.md), "
	  "beside A's\n"
	  "                      policy's rules\n"
	  "  --strict-git-index  a difference in .git/index diverges "
	  "(default: volatile)\n"
	  "  --compare-output    a difference in the agent's stdout or "
	  "stderr diverges\n"
	  "                      (default: a note on stderr)\n"
	  "Exit status: 0 identical or volatile differences only, 1 "
	  "diverged, 2 usage,\n3 a bundle cannot be read or is damaged.\n" },
	{ "demo", IN_MODULE(cmd_demo),
	  "runbundle demo [--output DIR] [--example DIR]",
	  "Record, inspect, replay and report the bundled example agent.",
	  "  --output DIR   where everything goes (default: a new "
	  "runbundle-demo-XXXXXX\n"
	  "                 in $TMPDIR or /tmp); must be new or empty\n"
	  "  --example DIR  the example (default: examples/shell-agent of "
	  "the source tree)\n"
	  "Exit status: 0 the demo ran as it should, 1 a step did not, 3 "
	  "error.\n" },
	{ "help", cmd_help,
	  "runbundle help [COMMAND]",
	  "Show the commands, or the options of one command.",
	  NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static void print_overview(FILE *out)
{
	fprintf(out, "usage: runbundle [--version] [--help] <command> "
		     "[<args>]\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nRun 'runbundle help <command>' for its options.\n");
}

static int cmd_help(int argc, char **argv, const struct cli_command *self)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		print_overview(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error(self, "unexpected argument: '%s': help "
				       "names one command", argv[2]);

	cmd = find_command(argv[1]);
	if (!cmd) {
		cli_error("unknown command: '%s'", argv[1]);
		cli_hint("run 'runbundle help' for the list of commands");
		return CLI_EXIT_USAGE;
	}
	cli_print_help(stdout, cmd);
	return CLI_EXIT_OK;
}

/*
 * Return why the module open on fd is not this executable's, or NULL.
 * The module runs with the caller's privileges, so one that another
 * user could have put beside a copy of the executable (in /tmp, say)
 * is rejected. Its owner must be root, the caller or the executable's
 * owner, and it must not be writable by every user. Write access for
 * its group is let through, because a build under umask 002 gives it
 * that. Its build id must be the executable's, so that a module left
 * by another build is not run.
 * module is NULL before the file is loaded: then only the file is
 * checked.
 */
static const char *untrusted(int fd, void *module, const char *exe,
			     char *reason, size_t len)
{
	struct stat st, exe_st;
	const char *build;

	if (fstat(fd, &st) < 0 || stat(exe, &exe_st) < 0)
		return strerror(errno);
	if (st.st_uid != 0 && st.st_uid != geteuid() &&
	    st.st_uid != exe_st.st_uid) {
		snprintf(reason, len, "it belongs to uid %u, not to root, you "
			 "or the owner of the executable",
			 (unsigned)st.st_uid);
		return reason;
	}
	if (st.st_mode & S_IWOTH)
		return "anyone may write it";
	if (!module)
		return NULL;
	build = dlsym(module, "runbundle_module_build");
	if (!build || strcmp(build, RUNBUNDLE_BUILD_ID) != 0)
		return "it was built with another runbundle executable";
	return NULL;
}

/*
 * Open the module at path through a file descriptor, so that the file
 * checked is the file loaded. Returns it, or NULL with *reason set.
 */
static void *open_checked(const char *path, const char *exe,
			  const char **reason, char *buffer, size_t len)
{
	char fd_path[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *module = NULL;

	*reason = fd < 0 ? strerror(errno) : untrusted(fd, NULL, exe, buffer,
						    len);
	if (*reason)
		goto out;

	/* RTLD_LAZY: a command calls a small part of the module, and
	 * binding all of its symbols and its libraries' up front cost
	 * about a fifth of a no-change re-snapshot's instructions. The
	 * module is built with this executable, so no symbol is missing. */
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	module = dlopen(fd_path, RTLD_LAZY | RTLD_LOCAL);
	if (!module) {
		*reason = dlerror();
		if (*reason && strncmp(*reason, fd_path, strlen(fd_path)) == 0 &&
		    strncmp(*reason + strlen(fd_path), ": ", 2) == 0)
			*reason += strlen(fd_path) + 2;
		if (!*reason)
			*reason = "it cannot be loaded";
		goto out;
	}
	*reason = untrusted(fd, module, exe, buffer, len);
	if (*reason) {
		dlclose(module);
		module = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	return module;
}

/* The module's path where meson install put it, beside an installed
 * executable in dir. */
static void installed_path(char *path, size_t len, const char *dir)
{
	if (RUNBUNDLE_MODULE_DIR[0] == '/')
		snprintf(path, len, "%s/%s", RUNBUNDLE_MODULE_DIR,
			 RUNBUNDLE_MODULE_NAME);
	else
		snprintf(path, len, "%s/%s/%s", dir, RUNBUNDLE_MODULE_DIR,
			 RUNBUNDLE_MODULE_NAME);
}

/*
 * Open the commands module: beside the executable in the build tree,
 * else where meson install put it, relative to the executable. Both
 * paths come from /proc/self/exe, never from PATH or the current
 * directory. The module is never closed: its command runs until the
 * process exits. Returns it, or NULL after printing the reason.
 */
static void *open_module(void)
{
	char exe[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 64], buffer[128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *reason = "cannot find the executable";
	void *module = NULL;
	char *slash;

	if (n >= 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", exe);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir,
			 RUNBUNDLE_MODULE_NAME);
		if (access(path, F_OK) != 0)
			installed_path(path, sizeof(path), dir);
		module = open_checked(path, exe, &reason, buffer,
				      sizeof(buffer));
	} else {
		snprintf(path, sizeof(path), "/proc/self/exe");
	}
	if (!module) {
		cli_error("cannot load the commands module: '%s': %s", path,
			  reason);
		/* dlopen() reports errno only in its text. */
		if (cli_fd_limit_hint(reason)[0]) {
			cli_hint("%s", cli_fd_limit_hint(reason));
			return NULL;
		}
		if (access(path, F_OK) == 0)
			cli_hint("runbundle loads only the module of its own "
				 "build or installation, owned by root, you or "
				 "its owner, and not writable by every user");
		cli_hint("build it with ninja, or install runbundle again "
			 "with meson install. A copied runbundle needs "
			 "%s beside it", RUNBUNDLE_MODULE_NAME);
	}
	return module;
}

void *cli_module_symbol(const char *symbol)
{
	static void *module;
	void *address;

	if (!module)
		module = open_module();
	if (!module)
		return NULL;
	address = dlsym(module, symbol);
	if (!address) {
		cli_error("cannot find the symbol in the commands module: "
			  "'%s'", symbol);
		cli_hint("the module does not belong to this executable; "
			 "install runbundle again with meson install");
	}
	return address;
}

/* Look up a command's function in the module. Returns it, or NULL after
 * printing the reason. */
static cli_command_fn load_command(const struct cli_command *cmd)
{
	char symbol[64];
	cli_command_fn fn = NULL;

	snprintf(symbol, sizeof(symbol), "cmd_%s", cmd->name);
	for (char *p = symbol; *p; p++) {
		if (*p == '-')
			*p = '_';
	}
	/* POSIX's way to turn dlsym()'s object pointer into a function. */
	*(void **)&fn = cli_module_symbol(symbol);
	return fn;
}

int main(int argc, char **argv)
{
	cli_command_fn run;
	const struct cli_command *cmd;

	if (argc < 2) {
		print_overview(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("runbundle %s\n", RUNBUNDLE_VERSION);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return CLI_EXIT_OK;
	}

	/* Past the file size limit (ulimit -f), a write then fails with
	 * EFBIG, which the command reports with the file's name, where
	 * SIGXFSZ would end runbundle without a word. The programs that
	 * runbundle runs get the default action back before their exec. */
	signal(SIGXFSZ, SIG_IGN);

	cmd = find_command(argv[1]);
	if (!cmd) {
		cli_error("unknown command: '%s'", argv[1]);
		cli_hint("run 'runbundle help' for the list of commands");
		return CLI_EXIT_USAGE;
	}
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 ||
			  strcmp(argv[2], "-h") == 0)) {
		cli_print_help(stdout, cmd);
		return CLI_EXIT_OK;
	}
	run = cmd->run ? cmd->run : load_command(cmd);
	if (!run)
		return CLI_EXIT_ERROR;
	return run(argc - 1, argv + 1, cmd);
}
