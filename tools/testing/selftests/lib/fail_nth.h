/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The task's fault-injection counter, /proc/thread-self/fail-nth
 * (Documentation/fault-injection/fault-injection.rst): written N, the N-th
 * fault-injection point the task reaches fails; read back, 0 means it was.
 */
#ifndef RMDEV_FAIL_NTH_H
#define RMDEV_FAIL_NTH_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail_nth_fd = -1;

/* Arms the counter: the nth point from the next system call on fails. */
static inline int fail_nth_set(int nth)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%d", nth);

	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth_fd < 0 || write(fail_nth_fd, s, len) != len) {
		perror("fail-nth");
		return -1;
	}
	return 0;
}

/* Whether the armed point was reached; disarms the counter. */
static inline int fail_nth_reached(void)
{
	char s[16] = "";
	ssize_t n = pread(fail_nth_fd, s, sizeof(s) - 1, 0);
	int reached = n > 0 && s[0] == '0';

	/* Disarm (a no-op when it fired). */
	if (write(fail_nth_fd, "0", 1) < 0)
		reached = 0;
	close(fail_nth_fd);
	return reached;
}

#endif
