/*
 * no_link_preload.c - an LD_PRELOAD library that makes the file system
 * look like one without RENAME_NOREPLACE and without hard links, as some
 * FUSE file systems are: renameat2() fails with EINVAL, and
 * link() with EPERM.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd,
	      const char *newpath, unsigned int flags)
{
	(void)olddirfd;
	(void)oldpath;
	(void)newdirfd;
	(void)newpath;
	(void)flags;
	errno = EINVAL;
	return -1;
}

int link(const char *from, const char *to)
{
	(void)from;
	(void)to;
	errno = EPERM;
	return -1;
}
