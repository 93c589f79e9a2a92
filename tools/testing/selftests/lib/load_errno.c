// SPDX-License-Identifier: GPL-2.0
/*
 * load_errno [-f N] MODULE.ko [PARAMS]: loads a module with finit_module(2)
 * (its dependencies must be loaded) and prints "OK" or the errno's name;
 * with -f N, the N-th fault-injection point reached by the load fails and
 * the line says whether it was reached ("injected" or "untouched"), as
 * write_errno -f.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail_nth.h"

int main(int argc, char **argv)
{
	int fd, err, nth = 0;
	long ret;

	if (argc >= 3 && !strcmp(argv[1], "-f")) {
		nth = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || argc > 3 || nth < 0) {
		fprintf(stderr, "usage: load_errno [-f N] MODULE.ko [PARAMS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	if (nth && fail_nth_set(nth))
		return 2;
	ret = syscall(SYS_finit_module, fd, argc == 3 ? argv[2] : "", 0);
	err = errno;
	printf("%s", ret ? strerrorname_np(err) : "OK");
	printf("%s\n", nth ? (fail_nth_reached() ? " injected" : " untouched") : "");
	close(fd);
	return 0;
}
