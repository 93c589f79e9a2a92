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
 *
 * write_errno -s serves such writes without a process each (the fault loops
 * make a thousand): it reads requests "N FILE DATA" from standard input, one
 * per line, writes "DATA\n" to FILE as -f N would, and answers each with
 * the line above, until end of input.
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

/*
 * Writes len bytes of buf to path, the nth fault-injection point failing
 * (nth 0: none), and prints the result line. Returns 0, or 2 when the
 * fault injection cannot be armed.
 */
static int write_one(const char *path, int nth, size_t len)
{
	int fd, err;
	ssize_t n;

	fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	if (nth && fail_nth_set(nth)) {
		close(fd);
		return 2;
	}
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

/* -s: one request per line, "N FILE DATA"; answers flushed per line. */
static int serve(void)
{
	char line[4096], path[4096];
	int nth, off;

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%d %4095s %n", &nth, path, &off) != 2 || nth < 0) {
			fprintf(stderr, "write_errno -s: bad request: %s", line);
			return 2;
		}
		/* DATA keeps its newline, as `write_errno FILE <<<DATA` writes it. */
		snprintf(buf, sizeof(buf), "%s", line + off);
		if (write_one(path, nth, strlen(buf)))
			return 2;
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int nth = 0;
	size_t len = 0;
	ssize_t n;

	if (argc == 2 && !strcmp(argv[1], "-s"))
		return serve();
	if (argc == 4 && !strcmp(argv[1], "-f")) {
		nth = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || nth < 0) {
		fprintf(stderr, "usage: write_errno [-f N] FILE < DATA | write_errno -s\n");
		return 2;
	}
	while (len < sizeof(buf) && (n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	return write_one(argv[1], nth, len);
}
