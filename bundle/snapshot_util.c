/*
 * snapshot_util.c - the path buffer, the hardlink table and the sparse
 * file feeder of the snapshot walker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bundle/snapshot_internal.h"

int snapshot_path_push(struct snapshot_path *path, const char *name, size_t len)
{
	size_t need = path->len + 1 + len + 1;

	if (need > path->alloc) {
		size_t alloc = path->alloc ? path->alloc : 256;
		char *data;

		while (alloc < need)
			alloc *= 2;
		data = realloc(path->data, alloc);
		if (!data) {
			bundle_set_error("cannot snapshot: out of memory");
			return -1;
		}
		path->data = data;
		path->alloc = alloc;
	}
	if (path->len)
		path->data[path->len++] = '/';
	memcpy(path->data + path->len, name, len);
	path->len += len;
	path->data[path->len] = '\0';
	return 0;
}

void snapshot_path_pop(struct snapshot_path *path, size_t len)
{
	path->len = len;
	if (path->data)
		path->data[len] = '\0';
}

void snapshot_path_release(struct snapshot_path *path)
{
	free(path->data);
	memset(path, 0, sizeof(*path));
}

struct snapshot_link {
	dev_t dev;
	ino_t ino;
	char *path; /* NULL in an empty slot */
};

static size_t link_hash(dev_t dev, ino_t ino, size_t alloc)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (alloc - 1);
}

const char *snapshot_links_find(const struct snapshot_links *links,
				const struct stat *st)
{
	if (!links->alloc)
		return NULL;
	for (size_t i = link_hash(st->st_dev, st->st_ino, links->alloc);;
	     i = (i + 1) & (links->alloc - 1)) {
		const struct snapshot_link *l = &links->slots[i];

		if (!l->path)
			return NULL;
		if (l->dev == st->st_dev && l->ino == st->st_ino)
			return l->path;
	}
}

static void links_insert(struct snapshot_link *slots, size_t alloc,
			 struct snapshot_link link)
{
	size_t i = link_hash(link.dev, link.ino, alloc);

	while (slots[i].path)
		i = (i + 1) & (alloc - 1);
	slots[i] = link;
}

/* Keep the table at most half full, so probes stay short. */
static int links_grow(struct snapshot_links *links)
{
	size_t alloc = links->alloc ? links->alloc * 2 : 64;
	struct snapshot_link *slots = calloc(alloc, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < links->alloc; i++) {
		if (links->slots[i].path)
			links_insert(slots, alloc, links->slots[i]);
	}
	free(links->slots);
	links->slots = slots;
	links->alloc = alloc;
	return 0;
}

int snapshot_links_add(struct snapshot_links *links, const struct stat *st,
		       const char *path)
{
	struct snapshot_link link = {st->st_dev, st->st_ino, strdup(path)};

	if (!link.path ||
	    ((links->n + 1) * 2 > links->alloc && links_grow(links) < 0)) {
		free(link.path);
		bundle_set_error("cannot snapshot: out of memory");
		return -1;
	}
	links_insert(links->slots, links->alloc, link);
	links->n++;
	return 0;
}

void snapshot_links_release(struct snapshot_links *links)
{
	for (size_t i = 0; i < links->alloc; i++)
		free(links->slots[i].path);
	free(links->slots);
	memset(links, 0, sizeof(*links));
}

/* The feeder thread: copies the extents into one end of a socket pair
 * while bundle_put_fd reads the other. */
struct feeder {
	int fd, out;
	const struct bundle_extent *extents;
	size_t n;
	int error; /* errno of the first failure, or 0 */
};

static int send_all(int sock, const char *p, size_t n)
{
	while (n) {
		/* MSG_NOSIGNAL: a reader that gave up must not kill us with
		 * SIGPIPE. */
		ssize_t sent = send(sock, p, n, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0)
			return -1;
		p += sent;
		n -= (size_t)sent;
	}
	return 0;
}

static int feed_extent(struct feeder *f, const struct bundle_extent *ext,
		       char *buf, size_t buf_len)
{
	uint64_t done = 0;

	while (done < ext->length) {
		size_t want = ext->length - done < buf_len
				      ? (size_t)(ext->length - done)
				      : buf_len;
		ssize_t got =
			pread(f->fd, buf, want, (off_t)(ext->offset + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			return 0; /* truncated meanwhile: the caller sees it */
		if (send_all(f->out, buf, (size_t)got) < 0)
			return -1;
		done += (uint64_t)got;
	}
	return 0;
}

static void *feeder_run(void *arg)
{
	struct feeder *f = arg;
	size_t buf_len = 256 * 1024;
	char *buf = malloc(buf_len);

	if (!buf)
		f->error = ENOMEM;
	for (size_t i = 0; buf && i < f->n && !f->error; i++) {
		if (feed_extent(f, &f->extents[i], buf, buf_len) < 0)
			f->error = errno;
	}
	free(buf);
	close(f->out);
	return NULL;
}

int snapshot_put_extents(struct bundle *bundle, int fd,
			 const struct bundle_extent *extents, size_t n,
			 struct bundle_id *ref, struct bundle_id *content,
			 uint64_t *stored, int *read_errno)
{
	struct feeder f = {.fd = fd, .extents = extents, .n = n};
	pthread_t thread;
	int sv[2], rc, err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	f.out = sv[1];
	err = pthread_create(&thread, NULL, feeder_run, &f);
	if (err) {
		close(sv[0]);
		close(sv[1]);
		errno = err;
		goto fail;
	}
	*read_errno = 0;
	rc = bundle_put_fd(bundle, sv[0], ref, content, stored);

	/* Closing our end first unblocks a feeder whose reader failed. */
	close(sv[0]);
	pthread_join(thread, NULL);
	if (rc < 0)
		return -1;
	if (f.error) {
		/* A failed pread, or ENOMEM: the store itself is fine. */
		*read_errno = f.error;
		bundle_set_error("cannot read sparse file: %s",
				 strerror(f.error));
		return -1;
	}
	return 0;

fail:
	bundle_set_error("cannot read sparse file: %s", strerror(errno));
	return -1;
}
