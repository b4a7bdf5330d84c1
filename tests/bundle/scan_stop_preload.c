/*
 * scan_stop_preload.c - an LD_PRELOAD library for the tests of readers
 * of a bundle that a writer appends to. The process stops itself with
 * SIGSTOP just before it prepares its first scan of the event log, so
 * that the writer can commit events between the reader's earlier reads
 * and that scan.
 */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

typedef int (*prepare_fn)(void *, const char *, int, void **,
			  const char **);

int sqlite3_prepare_v2(void *db, const char *sql, int len, void **stmt,
		       const char **tail)
{
	static const char scan[] = "SELECT seq, hash, event FROM events";
	static int stopped;
	/* runbundle loads SQLite with its commands module, RTLD_LOCAL, so
	 * RTLD_NEXT does not find it. */
	void *sqlite = dlopen("libsqlite3.so.0", RTLD_LAZY | RTLD_NOLOAD);
	prepare_fn real_prepare = (prepare_fn)dlsym(sqlite, "sqlite3_prepare_v2");

	if (!stopped && strncmp(sql, scan, sizeof(scan) - 1) == 0) {
		stopped = 1;
		raise(SIGSTOP);
	}
	return real_prepare(db, sql, len, stmt, tail);
}
