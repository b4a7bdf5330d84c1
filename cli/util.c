/*
 * util.c - message printing shared by every subcommand.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* The length of the UTF-8 sequence that starts with byte c, or 0 when
 * no valid sequence starts with it. */
static size_t sequence_length(unsigned char c)
{
	if (c >= 0xf5)
		return 0;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc2)
		return 2;
	return 0;
}

/*
 * The length of the UTF-8 sequence at s that a terminal shows as text,
 * or 0 for one to mask. Masked are invalid UTF-8 and C1 controls (U+0080
 * to U+009F), which terminals may obey as ESC sequences. So are the
 * bidirectional overrides and isolates (U+202A to U+202E, U+2066 to
 * U+2069), which reorder what follows them on the line.
 */
static size_t shown_length(const unsigned char *s)
{
	size_t n = sequence_length(s[0]);

	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	}
	if (s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	if (s[0] == 0xe2 && ((s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae) ||
			     (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)))
		return 0;
	return n;
}

void cli_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;
	const unsigned char *s = (const unsigned char *)src;

	if (dstlen == 0)
		return;

	while (*s && i + 1 < dstlen) {
		size_t n = *s < 0x80 ? 1 : shown_length(s);

		if (n == 0 || *s < 0x20 || *s == 0x7f) {
			dst[i++] = '?';
			s++;
			continue;
		}
		/* A sequence that does not fit is left out whole. */
		if (i + n >= dstlen)
			break;
		memcpy(dst + i, s, n);
		i += n;
		s += n;
	}
	dst[i] = '\0';
}

/* Nonzero while the agent's output on our stderr ends mid-line. It is
 * set by the thread that copies the output and read by any thread that
 * prints a message. */
static int output_mid_line;

void cli_output_copied(const void *bytes, size_t len)
{
	const unsigned char *data = bytes;

	if (len > 0)
		__atomic_store_n(&output_mid_line, data[len - 1] != '\n',
				 __ATOMIC_RELAXED);
}

void cli_output_line_end(void)
{
	if (__atomic_exchange_n(&output_mid_line, 0, __ATOMIC_RELAXED))
		fputc('\n', stderr);
}

/* The line is as long as it needs to be: a message that names two long
 * paths must not lose its reason at the end. */
static void print_line(const char *prefix, const char *fmt, va_list ap)
{
	char *raw = NULL, *clean = NULL;
	int len = vasprintf(&raw, fmt, ap);

	/* Sanitizing never makes the text longer. */
	if (len < 0)
		raw = NULL;
	else
		clean = malloc((size_t)len + 1);
	if (!clean) {
		fprintf(stderr, "%s(message lost: out of memory)\n", prefix);
		free(raw);
		return;
	}
	cli_sanitize(clean, (size_t)len + 1, raw);
	cli_output_line_end();
	fprintf(stderr, "%s%s\n", prefix, clean);
	free(clean);
	free(raw);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("runbundle: ", fmt, ap);
	va_end(ap);
}

void cli_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("hint: ", fmt, ap);
	va_end(ap);
}

int cli_error_from(const char *message, const char *hint)
{
	cli_error("%s", message && *message ? message : "unknown error");
	if (hint && *hint)
		cli_hint("%s", hint);
	return CLI_EXIT_ERROR;
}

static int print_usage(const struct cli_command *self)
{
	fprintf(stderr, "usage: %s\n", self->usage);
	fprintf(stderr, "Run 'runbundle help %s' for the options.\n",
		self->name);
	return CLI_EXIT_USAGE;
}

int cli_usage_error(const struct cli_command *self, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("runbundle: ", fmt, ap);
	va_end(ap);
	return print_usage(self);
}

int cli_usage_hint(const struct cli_command *self, const char *hint,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("runbundle: ", fmt, ap);
	va_end(ap);
	if (hint)
		cli_hint("%s", hint);
	return print_usage(self);
}

int cli_open_parent(const char *path, const char *what, char *dir,
		    size_t len)
{
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s",
			 slash == path ? 1 : (int)(slash - path), path);

	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && faccessat(fd, "", W_OK | X_OK, AT_EMPTY_PATH) == 0)
		return fd;
	cli_error("cannot write the %s: '%s': %s: %m", what, path,
		  fd < 0 ? "its directory cannot be opened"
			 : "its directory is not writable");
	cli_hint("create the directory '%s' or make it writable, or choose "
		 "another place with -o", dir);
	if (fd >= 0)
		close(fd);
	return -1;
}

int cli_parse_response_limit(const struct cli_command *self,
			     const char *arg, size_t *out)
{
	unsigned long long n;
	unsigned shift = 0;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end == 'K' && end[1] == '\0')
		shift = 10;
	else if (*end == 'M' && end[1] == '\0')
		shift = 20;
	else if (*end == 'G' && end[1] == '\0')
		shift = 30;
	if (errno || end == arg || arg[0] == '-' || (*end && !shift) ||
	    n > (SIZE_MAX / 2) >> shift)
		return cli_usage_error(self, "invalid --max-response-body: "
				       "'%s': expected bytes, with K, M or G "
				       "for KiB, MiB or GiB, up to %zu bytes, "
				       "or 0 for no limit", arg, SIZE_MAX / 2);
	*out = n ? (size_t)(n << shift) : SIZE_MAX;
	return 0;
}

int cli_one_bundle(const struct cli_command *self, int argc, char **argv,
		   int first)
{
	if (first >= argc)
		return cli_usage_error(self, "missing bundle: none follows "
				       "the options");
	if (argc - first > 1)
		return cli_usage_error(self, "unexpected argument: '%s': the "
				       "command reads one bundle",
				       argv[first + 1]);
	return 0;
}

const char *cli_fd_limit_hint(const char *message)
{
	/* ENFILE's text starts with EMFILE's, so it is checked first. */
	if (strstr(message, strerror(ENFILE)))
		return "the system is out of open files; run it again when "
		       "fewer are open";
	if (strstr(message, strerror(EMFILE)))
		return "raise the limit of open files (ulimit -n)";
	return "";
}

int cli_operands(const struct cli_command *self, int argc, char **argv,
		 int first, const char *const *required, int max,
		 const char *synopsis)
{
	int n = argc - first;

	for (int i = 0; required[i]; i++) {
		if (i >= n)
			return cli_usage_error(self, "missing %s: expected %s",
					       required[i], synopsis);
	}
	if (n > max)
		return cli_usage_error(self, "unexpected argument: '%s': "
				       "expected %s", argv[first + max],
				       synopsis);
	return 0;
}

/*
 * Return the option that getopt_long() rejected, as the user wrote it.
 * Inside a cluster ("-xr") optind stays on the cluster, so argv[optind
 * - 1] is the word before it, and only optopt names the option.
 */
static const char *failed_option(char **argv, char *buffer)
{
	const char *word = argv[optind - 1];
	const char *next = argv[optind];
	int in_cluster = next && next[0] == '-' && next[1] &&
			 next[1] != '-' && strchr(next + 1, optopt);

	if (optopt <= 0 || optopt >= 0x7f || optopt == '-')
		return word;
	if (in_cluster || (word[0] == '-' && word[1] != '-')) {
		buffer[0] = '-';
		buffer[1] = (char)optopt;
		buffer[2] = '\0';
		return buffer;
	}
	return word;
}

/*
 * Return whether the usage line of self names the long option "--NAME",
 * NAME being the n bytes at name.
 */
static bool usage_names(const struct cli_command *self, const char *name,
			size_t n)
{
	const char *usage = self->usage ? self->usage : "";

	for (const char *at = strstr(usage, "--"); at;
	     at = strstr(at + 2, "--")) {
		char before = at == usage ? ' ' : at[-1];

		if (strncmp(at + 2, name, n) == 0 &&
		    strchr(" []|(", before) && strchr(" []|=)", at[2 + n]))
			return true;
	}
	return false;
}

/* Reject word, a long option written with one dash, with the fix. */
static int one_dash_error(const struct cli_command *self, const char *word)
{
	return cli_usage_error(self, "unknown option: '%s': a long option "
			       "starts with two dashes: '-%.*s'", word,
			       (int)strcspn(word, "="), word);
}

/*
 * Return the word that contains the rejected short option when that
 * word, with a second dash, is a long option of the command. getopt
 * reads "-rules" as -r -u -l -e -s and would name only '-r'.
 */
static const char *one_dash_long(const struct cli_command *self,
				 char **argv)
{
	const char *next = argv[optind];
	const char *word = argv[optind - 1];
	size_t n;

	/* Inside a cluster, optind stays on it, as in failed_option(). */
	if (next && next[0] == '-' && next[1] && next[1] != '-' &&
	    optopt > 0 && strchr(next + 1, optopt))
		word = next;

	if (word[0] != '-' || word[1] == '-' || strlen(word) < 3)
		return NULL;
	n = strcspn(word + 1, "=");
	return usage_names(self, word + 1, n) ? word : NULL;
}

int cli_short_value_check(const struct cli_command *self,
			  const struct option *longopts, int c, char **argv)
{
	const char *word = argv[optind - 1];
	bool long_name;
	size_t n;

	/* Only a value in the option's own word, "-ovalue": a value in the
	 * next word is the whole of it, and "--name=value" is checked by
	 * getopt_long. */
	if (!optarg || c <= 0 || c >= 0x7f || word[0] != '-' ||
	    word[1] == '-' || optarg <= word || optarg > word + strlen(word))
		return 0;

	n = strcspn(word + 1, "=");
	long_name = usage_names(self, word + 1, n);
	for (const struct option *o = longopts; o && o->name; o++)
		long_name |= strlen(o->name) == n &&
			     strncmp(o->name, word + 1, n) == 0;
	if (long_name)
		return one_dash_error(self, word);
	if (optarg[0] == '=')
		return cli_usage_error(self, "invalid -%c: '%s': a short "
				       "option takes its value without '=': "
				       "write '-%c %s'", c, optarg, c,
				       optarg + 1);
	return 0;
}

int cli_option_error(const struct cli_command *self, int c, char **argv)
{
	char buffer[3];
	const char *opt = failed_option(argv, buffer);
	const char *word = NULL;

	if (c != ':')
		word = one_dash_long(self, argv);
	if (word)
		return one_dash_error(self, word);

	if (c == ':')
		return cli_usage_error(self, "missing value: '%s'", opt);

	/* A "--help" among other arguments ("record -o x.rbundle --help")
	 * requests the help. getopt_long returned it as an option, so it
	 * is not an option's value, and nothing has been created yet. */
	if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
		cli_print_help(stdout, self);
		exit(fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR);
	}

	/* getopt_long sets optopt to a known long option's value when it
	 * was given "=VALUE" but takes none; an unknown one leaves 0. */
	if (optopt > 0 && strncmp(opt, "--", 2) == 0 && strchr(opt, '='))
		return cli_usage_error(self, "unexpected value: '%s': the "
				       "option takes none", opt);
	return cli_usage_error(self, "unknown option: '%s'", opt);
}

void cli_print_help(FILE *out, const struct cli_command *self)
{
	fprintf(out, "usage: %s\n\n%s\n", self->usage, self->summary);
	if (self->help && *self->help)
		fprintf(out, "\n%s", self->help);
}

int cli_use_color(FILE *stream)
{
	const char *no_color = getenv("NO_COLOR");

	if (no_color && *no_color)
		return 0;
	return isatty(fileno(stream));
}
