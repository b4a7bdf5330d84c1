/*
 * record_progress.c - the progress line of a long snapshot
 * (record_progress.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "record/record_progress.h"

#define NS_PER_SEC	  1000000000LL
#define INTERVAL_NS	  (NS_PER_SEC / 4)
#define DEFAULT_DELAY_SEC 1

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t delay_ns(void)
{
	const char *text = getenv("RUNBUNDLE_PROGRESS_DELAY");
	char *end;
	long sec;

	if (!text || !*text)
		return DEFAULT_DELAY_SEC * NS_PER_SEC;
	sec = strtol(text, &end, 10);
	if (*end || sec < 0 || sec > 86400)
		return DEFAULT_DELAY_SEC * NS_PER_SEC;
	return sec * NS_PER_SEC;
}

void record_progress_begin(struct record_progress *p, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->tty = isatty(STDERR_FILENO);
	if (!p->tty)
		return;
	p->start_ns = now_ns();
	p->next_ns = p->start_ns + delay_ns();
}

/* The columns of the terminal on stderr, less one, so that the line
 * never wraps: a wrapped line cannot be rewritten after "\r". */
static size_t line_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col - 1;
	return 79;
}

void record_progress_update(struct record_progress *p,
			    const struct bundle_snapshot_stats *st)
{
	char line[512];
	size_t width = line_width();
	int64_t now;

	if (!p->tty)
		return;
	now = now_ns();
	if (now < p->next_ns)
		return;
	p->next_ns = now + INTERVAL_NS;
	snprintf(line, sizeof(line),
		 "snapshot of %s: %llu file%s, %llu director%s, %.1f MiB "
		 "read, %.0f s",
		 p->what, (unsigned long long)st->files,
		 st->files == 1 ? "" : "s", (unsigned long long)st->dirs,
		 st->dirs == 1 ? "y" : "ies",
		 (double)st->bytes_read / (1024.0 * 1024.0),
		 (double)(now - p->start_ns) / NS_PER_SEC);
	if (width < sizeof(line))
		line[width] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->shown = true;
}

void record_progress_end(struct record_progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}
