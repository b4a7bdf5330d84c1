/*
 * cli.h - what every runbundle subcommand shares: the command table entry,
 * exit statuses, and the one shape of user-facing messages.
 *
 * Only the command layer (cli/, record/, replay/, inspect/) prints or
 * chooses exit statuses. The libraries below it (bundle/, sandbox/,
 * harness/) return -1 and store a message that the command prints with
 * cli_error_from().
 *
 * Messages go to stderr as
 *
 *	runbundle: <what failed>: '<value>': <why>
 *	hint: <the fix>
 *
 * lowercase, with no full stop. Control characters in the text are
 * replaced by '?', because values in messages often come from untrusted
 * bundles and file names.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses shared by all subcommands. Each command's help and its
 * page in docs/ list the ones it uses. */
enum cli_exit {
	CLI_EXIT_OK = 0,	/* success, or "identical" */
	CLI_EXIT_FAIL = 1,	/* the check ran and failed: verify found
				 * problems, replay diverged, a gate rule
				 * failed */
	CLI_EXIT_USAGE = 2,	/* bad command line */
	CLI_EXIT_ERROR = 3,	/* runtime error: cannot open, invalid input */
	CLI_EXIT_RUNBUNDLE = 125, /* record, sandbox: runbundle itself failed,
				   * so the agent's own status is unknown */
};

struct cli_command;
typedef int (*cli_command_fn)(int argc, char **argv,
			      const struct cli_command *self);

/* One row of the subcommand table in cli/main.c. */
struct cli_command {
	const char *name;
	cli_command_fn run;
	const char *usage;	/* "runbundle verify [--json] BUNDLE" */
	const char *summary;	/* one line for "runbundle help" */
	const char *help;	/* option list for "runbundle help NAME" */
};

/* Print "runbundle: <formatted>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "hint: <formatted>" on stderr. */
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Record the bytes that a run's output copy just wrote to stderr, or to
 * the same file through stdout. When they end mid-line, the next
 * cli_error() or cli_hint() message starts a new line. Thread-safe.
 */
void cli_output_copied(const void *bytes, size_t len);

/* End with a newline on stderr the line that the copied output left
 * unfinished, if any, so that what follows starts a line of its own. */
void cli_output_line_end(void);

/*
 * Print a library's stored message, and its hint when there is one.
 * Either may be NULL. Returns CLI_EXIT_ERROR so callers can write
 * "return cli_error_from(bundle_error(), bundle_error_hint());".
 */
int cli_error_from(const char *message, const char *hint);

/*
 * Print "runbundle: <formatted>" and the command's usage line on stderr.
 * Returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const struct cli_command *self, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print as cli_usage_error() does, with "hint: <hint>" after the error
 * when hint is not NULL. Returns CLI_EXIT_USAGE. */
int cli_usage_hint(const struct cli_command *self, const char *hint,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Print the usage error for c, what getopt_long(3) returned in place of
 * an option: ':' is a missing value (the option string must start with
 * ':', after any '+'), anything else an unknown option. Returns
 * CLI_EXIT_USAGE. An unknown "--help" or "-h" prints the command's help
 * on stdout and exits the process with CLI_EXIT_OK instead.
 */
int cli_option_error(const struct cli_command *self, int c, char **argv);

/*
 * Check the value of the short option c, as getopt_long(3) has just
 * returned it with optarg, against two slips. "-json" parses as -j with
 * the value "son", and "-output" as -o with "utput". Such a word is
 * rejected as cli_option_error() rejects "-rules" when, with one more
 * dash, it names a long option of longopts (NULL for none) or of the
 * usage line. "-o=r.html" gives -o the value "=r.html", and is rejected
 * with the fix "-o r.html". Returns 0, or CLI_EXIT_USAGE after the
 * usage error.
 */
struct option;
int cli_short_value_check(const struct cli_command *self,
			  const struct option *longopts, int c, char **argv);

/*
 * Check that one operand, the bundle, follows the options, which end at
 * argv[first]. Returns 0, or CLI_EXIT_USAGE after the usage error that
 * names a missing bundle or the first extra argument.
 */
int cli_one_bundle(const struct cli_command *self, int argc, char **argv,
		   int first);

/*
 * Return the hint for a message that ends in the text of EMFILE or
 * ENFILE, or "" for any other. Callers that kept only a message's text,
 * such as dlerror()'s, tell a lack of file descriptors from it.
 */
const char *cli_fd_limit_hint(const char *message);

/*
 * Check the operands that follow the options, which end at argv[first]:
 * the names in required, ended by NULL, then up to max in all. synopsis
 * is how the usage line writes them ("BUNDLE [STEP] PATH"). Returns 0,
 * or CLI_EXIT_USAGE after the usage error that names the first missing
 * operand or the first extra argument.
 */
int cli_operands(const struct cli_command *self, int argc, char **argv,
		 int first, const char *const *required, int max,
		 const char *synopsis);

/*
 * Parse the value of --max-response-body, a number of bytes with an
 * optional K, M or G (powers of 1024), into *out: SIZE_MAX for 0, which
 * means no limit. Returns 0, or CLI_EXIT_USAGE after the usage error.
 */
int cli_parse_response_limit(const struct cli_command *self,
			     const char *arg, size_t *out);

/*
 * Open the directory that the new file path goes into, as O_PATH, and
 * check that the caller may create files there. Returns the descriptor,
 * which the caller closes, or -1 after an error that names path, what
 * it is ("bundle", say) and the directory. dir receives the directory
 * (len bytes).
 */
int cli_open_parent(const char *path, const char *what, char *dir,
		    size_t len);

/* Print the usage line and the help text of one command on out. */
void cli_print_help(FILE *out, const struct cli_command *self);

/*
 * Copy src into dst (dstlen bytes, always NUL-terminated, truncated when
 * longer) with every ASCII and C1 control character, bidirectional
 * override and byte of invalid UTF-8 replaced by '?', for echoing
 * untrusted text.
 */
void cli_sanitize(char *dst, size_t dstlen, const char *src);

/* Nonzero when colored output may go to stream: a terminal and no
 * NO_COLOR in the environment. */
int cli_use_color(FILE *stream);

/*
 * Open the commands module and look up one of the symbols it exports
 * (cli/module.map). Returns its address, or NULL after printing the
 * reason and the fix. Defined by the executable only, so code in the
 * module itself cannot call it.
 */
void *cli_module_symbol(const char *symbol);

#endif
