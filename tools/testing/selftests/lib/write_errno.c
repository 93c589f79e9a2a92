// SPDX-License-Identifier: GPL-2.0
/*
 * write_errno [-f N] FILE: writes standard input (at most 64 KiB) to FILE
 * with one write(2), never creating FILE, and prints "OK" or the name of the
 * errno that open(2) or write(2) returned (EINVAL, EEXIST, ...). The rmdev
 * kselftests check sysfs writes with it.
 *
 * -f N makes the N-th fault-injection point reached by the write(2) fail
 * (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION) and adds to the line
 * whether it was reached: "injected", or "untouched" when the write finished
 * before its N-th point.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fail_nth.h"

static char buf[64 * 1024];

int main(int argc, char **argv)
{
	int fd, err, nth = 0;
	size_t len = 0;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "-f")) {
		nth = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || nth < 0) {
		fprintf(stderr, "usage: write_errno [-f N] FILE < DATA\n");
		return 2;
	}
	while (len < sizeof(buf) && (n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	if (nth && fail_nth_set(nth))
		return 2;
	n = write(fd, buf, len);
	err = errno;
	if (n < 0)
		printf("%s", strerrorname_np(err));
	else if ((size_t)n != len)
		printf("SHORT(%zd of %zu)", n, len);
	else
		printf("OK");
	printf("%s\n", nth ? (fail_nth_reached() ? " injected" : " untouched") : "");
	close(fd);
	return 0;
}
