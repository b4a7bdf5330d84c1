/*
 * cmd_snapshot.c - "runbundle snapshot": store a directory in a bundle.
 *
 * Prints the event number and root tree id of the new snapshot, and the
 * bundle's digest: the root digest when --finalize is given, otherwise
 * the hash of the last event, which finalizing would make the root
 * digest. Exit status 0 when the snapshot is complete, 1 when some entry
 * could not be read or kept changing (it is stored as an error entry and
 * the snapshot is marked incomplete), 2 for usage, 3 when nothing was
 * stored.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/bundle.h"
#include "bundle/snapshot.h"
#include "cli/cli.h"
#include "record/commands.h"
#include "record/record.h"
#include "record/record_progress.h"
#include "sandbox/policy.h"

/* The bundle's own files, excluded when they lie inside DIR. */
static const char *const bundle_suffixes[] = {"", "-wal", "-shm", "-journal"};
#define N_SUFFIXES (sizeof(bundle_suffixes) / sizeof(bundle_suffixes[0]))

struct snapshot_args {
	int json;
	int finalize;
	int level;
	int no_cache;
	const char **excludes;
	size_t n_excludes;
	char *own[N_SUFFIXES]; /* patterns for the bundle's own files */
	const char *bundle;
	const char *dir;
};

/* A problem clears the progress line, which the next update redraws. */
static void print_problem(const char *path, enum bundle_entry_kind kind,
			  const char *why, void *arg)
{
	record_progress_end(arg);
	if (kind == BUNDLE_ENTRY_CHANGED)
		cli_error("file kept changing while it was read: '%s': "
			  "recorded as changed",
			  path);
	else
		cli_error("cannot read: '%s': %s: recorded as an error entry",
			  path, why);
}

static void show_progress(const struct bundle_snapshot_stats *stats,
			  void *arg)
{
	record_progress_update(arg, stats);
}

static int parse_level(const struct cli_command *self, const char *text,
		       int *level)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < 1 || v > 19)
		return cli_usage_error(self,
				       "invalid zstd level: '%s': "
				       "expected 1 to 19",
				       text);
	*level = (int)v;
	return 0;
}

/* Reject a pattern that matches no path of a snapshot, by the rules of
 * a policy's snapshot.exclude. Otherwise a gitignore pattern such as
 * 'build/' would leave out nothing, silently. */
static int check_exclude(const struct cli_command *self, const char *s)
{
	const char *fix, *flaw = sandbox_exclude_flaw(s, &fix);

	if (!flaw)
		return 0;
	return cli_usage_hint(self, fix, "invalid --exclude: '%s': %s", s,
			      flaw);
}

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct snapshot_args *args)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"level", required_argument, NULL, 'l'},
		{"exclude", required_argument, NULL, 'x'},
		{"finalize", no_argument, NULL, 'f'},
		{"no-cache", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	static const char *const required[] = { "BUNDLE", "DIR", NULL };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			args->json = 1;
			break;
		case 'l':
			if (parse_level(self, optarg, &args->level))
				return CLI_EXIT_USAGE;
			break;
		case 'x':
			if (check_exclude(self, optarg))
				return CLI_EXIT_USAGE;
			args->excludes[args->n_excludes++] = optarg;
			break;
		case 'f':
			args->finalize = 1;
			break;
		case 'n':
			args->no_cache = 1;
			break;
		default:
			return cli_option_error(self, c, argv);
		}
	}
	if (cli_operands(self, argc, argv, optind, required, 2,
			 "BUNDLE DIR"))
		return CLI_EXIT_USAGE;
	args->bundle = argv[optind];
	args->dir = argv[optind + 1];
	return 0;
}

/*
 * Reject a bundle whose first event is not a snapshot, such as a
 * recording, because a snapshot of another directory would land among
 * its events, even while record still writes it. The check opens the
 * bundle read-only, so a rejected bundle stays unwritten.
 */
static int check_snapshots_only(const char *path)
{
	struct bundle *bundle = bundle_open(path, BUNDLE_READ);
	cJSON *first = NULL;
	const char *kind;
	int rc = 0;

	/* Opening it for appending reports why it cannot be opened. */
	if (!bundle)
		return 0;
	if (!bundle_is_finalized(bundle) && bundle_event_count(bundle) > 0)
		first = bundle_get_event(bundle, 1);
	kind = cJSON_GetStringValue(cJSON_GetObjectItem(first, "kind"));
	if (kind && strcmp(kind, "snapshot") != 0) {
		bundle_set_error("cannot snapshot into bundle: '%s': its first "
				 "event is '%s', not 'snapshot', so another "
				 "command writes it",
				 path, kind);
		bundle_set_hint("runbundle snapshot appends only to bundles "
				"that it wrote; give the name of a new bundle");
		rc = -1;
	}
	cJSON_Delete(first);
	bundle_close(bundle);
	return rc;
}

/* Open the bundle, or create it when missing. A finalized bundle fails
 * to open for appending, with its own hint. created receives the stat()
 * of a bundle that this call created, with st_ino 0 otherwise. */
static struct bundle *open_or_create(const struct snapshot_args *args,
				     struct stat *created)
{
	struct bundle_options options = {.zstd_level = args->level};
	struct bundle *bundle;
	struct stat st;

	created->st_ino = 0;
	/* Another snapshot that creates the bundle meanwhile wins, and this
	 * one appends to it, as it would a moment later. */
	if (access(args->bundle, F_OK) != 0) {
		bundle = bundle_create(args->bundle, &options);
		if (bundle && stat(args->bundle, created) != 0)
			created->st_ino = 0;
		if (bundle || lstat(args->bundle, &st) != 0)
			return bundle;
	}
	if (check_snapshots_only(args->bundle) < 0)
		return NULL;
	return bundle_open(args->bundle, BUNDLE_APPEND);
}

/*
 * The hash of the last event: SHA-256 of its stored text, which is
 * cJSON's unformatted printing of the event, so printing the parsed event
 * again gives the same bytes. tests/bundle/snapshot_cli.sh compares it
 * with the hash column.
 */
static int head_digest(struct bundle *bundle, struct bundle_id *digest)
{
	cJSON *event = bundle_get_event(bundle, bundle_event_count(bundle));
	char *text = event ? cJSON_PrintUnformatted(event) : NULL;
	unsigned int len = 0;
	int ok;

	cJSON_Delete(event);
	if (!text)
		return -1;
	ok = EVP_Digest(text, strlen(text), digest->bytes, &len, EVP_sha256(),
			NULL);
	cJSON_free(text);
	if (!ok || len != BUNDLE_ID_LEN) {
		bundle_set_error("cannot compute digest: SHA-256 failed");
		return -1;
	}
	return 0;
}

static void print_result(const struct snapshot_args *args,
			 const struct bundle_snapshot *s,
			 const struct bundle_id *digest)
{
	char root[BUNDLE_ID_HEX_LEN + 1], hex[BUNDLE_ID_HEX_LEN + 1];
	const struct bundle_snapshot_stats *st = &s->stats;

	bundle_id_to_hex(&s->root, root);
	bundle_id_to_hex(digest, hex);
	if (!args->json) {
		printf("snapshot %llu %s\n", (unsigned long long)s->seq, root);
		printf("digest %s\n", hex);
		return;
	}
	printf("{\"event\":%llu,\"root\":\"%s\",\"digest\":\"%s\","
	       "\"finalized\":%s,\"complete\":%s,\"files\":%llu,"
	       "\"dirs\":%llu,\"symlinks\":%llu,\"specials\":%llu,"
	       "\"errors\":%llu,\"changed\":%llu,\"bytes\":%llu,"
	       "\"bytes_read\":%llu,\"cached\":%llu}\n",
	       (unsigned long long)s->seq, root, hex,
	       args->finalize ? "true" : "false",
	       s->complete ? "true" : "false", (unsigned long long)st->files,
	       (unsigned long long)st->dirs, (unsigned long long)st->symlinks,
	       (unsigned long long)st->specials, (unsigned long long)st->errors,
	       (unsigned long long)st->changed, (unsigned long long)st->bytes,
	       (unsigned long long)st->bytes_read,
	       (unsigned long long)st->cached);
}

/* An fnmatch(3) pattern that matches exactly path from the root. */
static char *anchored_pattern(const char *path, const char *suffix)
{
	size_t len = strlen(path) + strlen(suffix);
	char *pattern = malloc(2 * len + 2);
	char *p = pattern;

	if (!pattern)
		return NULL;
	*p++ = '/';
	for (const char *s = path; *s; s++) {
		if (strchr("*?[\\", *s))
			*p++ = '\\';
		*p++ = *s;
	}
	for (const char *s = suffix; *s; s++)
		*p++ = *s;
	*p = '\0';
	return pattern;
}

/*
 * Snapshotting a directory that holds the bundle would read the bundle
 * while it is written, so its files are excluded and the exclusion is
 * recorded like any other. The bundle must exist already.
 */
static int exclude_own_files(struct snapshot_args *args)
{
	char *dir = realpath(args->dir, NULL);
	char *bundle = realpath(args->bundle, NULL);
	size_t len = dir ? strlen(dir) : 0;
	int rc = 0;

	if (dir && bundle && strncmp(bundle, dir, len) == 0 &&
	    bundle[len] == '/') {
		for (size_t i = 0; i < N_SUFFIXES && rc == 0; i++) {
			args->own[i] = anchored_pattern(bundle + len + 1,
							bundle_suffixes[i]);
			if (!args->own[i])
				rc = -1;
			else
				args->excludes[args->n_excludes++] =
					args->own[i];
		}
	}
	free(dir);
	free(bundle);
	if (rc < 0)
		bundle_set_error("cannot snapshot: out of memory");
	return rc;
}

/* Check DIR before a new bundle is created, so that a typo leaves no
 * empty bundle behind. */
static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		cli_error("cannot snapshot directory: '%s': %s", dir,
			  strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_error("cannot snapshot directory: '%s': not a directory",
			  dir);
		cli_hint("name the directory to store, not a file in it");
		return -1;
	}
	return 0;
}

/* The clause that bundle/store.c ends its hint with after a failed
 * write, such as one past the file size limit or onto a full disk. */
#define KEPT_CLAUSE "; everything committed before stays intact"

/* Print the failure and close the bundle. A bundle that this command
 * created and that has no events is removed, as record removes its own,
 * so the store's hint that committed events stay is changed. */
static void fail_snapshot(const struct snapshot_args *args,
			  struct bundle *bundle, const struct stat *created)
{
	char message[4096], hint[4096], *kept_clause;
	int discard, disk_full;

	/* Counting the events may store an error of its own. */
	snprintf(message, sizeof(message), "%s", bundle_error());
	snprintf(hint, sizeof(hint), "%s",
		 bundle_error_hint() ? bundle_error_hint() : "");
	discard = created->st_ino != 0 && bundle_event_count(bundle) == 0;
	disk_full = bundle_error_is_disk_full(message);
	if (discard && disk_full)
		snprintf(hint, sizeof(hint), "free space on the file system "
			 "of '%s', or create the bundle on another one",
			 args->bundle);
	else if (discard && (kept_clause = strstr(hint, KEPT_CLAUSE)))
		*kept_clause = '\0';
	cli_error_from(message, hint[0] ? hint : NULL);
	if (!discard)
		bundle_leave_wal(bundle);
	bundle_close(bundle);
	if (discard && bundle_remove_created(args->bundle, created) < 0)
		cli_error("warning: %s", bundle_error());
}

static int run(struct snapshot_args *args)
{
	struct record_progress progress;
	struct bundle_snapshot_options options = {
		.no_cache = args->no_cache,
		.on_problem = print_problem,
		.on_progress = show_progress,
		.arg = &progress,
	};
	struct bundle_snapshot snapshot;
	struct bundle_id digest;
	struct bundle *bundle;
	struct stat created;
	int rc;

	if (check_dir(args->dir) < 0)
		return CLI_EXIT_ERROR;
	bundle = open_or_create(args, &created);
	if (!bundle)
		return cli_error_from(bundle_error(), bundle_error_hint());
	if (exclude_own_files(args) < 0) {
		bundle_close(bundle);
		return cli_error_from(bundle_error(), NULL);
	}
	options.excludes = args->excludes;
	options.n_excludes = args->n_excludes;
	record_progress_begin(&progress, args->dir);
	rc = bundle_snapshot_take(bundle, args->dir, &options, &snapshot);
	record_progress_end(&progress);
	if (rc == 0 && args->finalize)
		rc = bundle_finalize(bundle, &digest);
	else if (rc == 0)
		rc = head_digest(bundle, &digest);
	if (rc < 0) {
		fail_snapshot(args, bundle, &created);
		return CLI_EXIT_ERROR;
	}
	if (args->finalize)
		record_note_wal(bundle, args->bundle);
	/* An unfinalized bundle left in WAL mode without its -wal file
	 * looks to readers like a copy that lost that file. */
	if (!args->finalize) {
		bundle_leave_wal(bundle);
		record_note_wal(bundle, args->bundle);
	}
	bundle_close(bundle);
	print_result(args, &snapshot, &digest);
	return snapshot.complete ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_snapshot(int argc, char **argv, const struct cli_command *self)
{
	struct snapshot_args args = {0};
	int rc;

	/* Every argument could be an --exclude, so argc bounds them, plus
	 * the patterns for the bundle's own files. */
	args.excludes =
		calloc((size_t)argc + N_SUFFIXES, sizeof(*args.excludes));
	if (!args.excludes) {
		cli_error("cannot snapshot: out of memory");
		return CLI_EXIT_ERROR;
	}
	rc = parse_args(argc, argv, self, &args);
	if (rc == 0)
		rc = run(&args);
	for (size_t i = 0; i < N_SUFFIXES; i++)
		free(args.own[i]);
	free(args.excludes);
	return rc;
}
