// SPDX-License-Identifier: GPL-2.0
/*
 * write_errno FILE: writes standard input (at most 64 KiB) to FILE with one
 * write(2), never creating FILE, and prints "OK" or the name of the errno
 * that open(2) or write(2) returned (EINVAL, EEXIST, ...). The rmdev
 * kselftests check sysfs writes with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(int argc, char **argv)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE < DATA\n", argv[0]);
		return 2;
	}
	while (len < sizeof(buf) && (n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	n = write(fd, buf, len);
	if (n < 0)
		printf("%s\n", strerrorname_np(errno));
	else if ((size_t)n != len)
		printf("SHORT(%zd of %zu)\n", n, len);
	else
		printf("OK\n");
	close(fd);
	return 0;
}
