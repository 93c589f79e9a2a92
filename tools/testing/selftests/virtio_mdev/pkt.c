// SPDX-License-Identifier: GPL-2.0
/*
 * pkt: frames through a loopback network interface (mvnet), over AF_PACKET.
 *
 *   pkt IF loop COUNT LEN      sends COUNT frames of LEN bytes (Ethernet
 *                              header included, 60..1514) to IF's own MAC,
 *                              at most 32 outstanding, and checks that each
 *                              comes back byte-identical, in order
 *   pkt IF pingpong COUNT LEN  one frame at a time; prints the median
 *                              round trip in microseconds
 *   pkt IF send COUNT LEN      sends COUNT frames, receives nothing
 *   pkt IF info                prints IF's driver and bus-info (ethtool -i)
 *
 * Frames carry the local experimental EtherType 0x88b5, a 32-bit sequence
 * number and a pattern derived from it. Prints one line of counts; exits 0
 * when every frame came back intact (loop, pingpong) or was sent (send).
 * A frame that does not come back within 2 s ends the run, and so does a
 * send queue that stays full (ENOBUFS) for 2 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE 0x88b5
#define WINDOW 32
#define TIMEOUT_MS 2000

static unsigned char mac[6];

static void fill(unsigned char *f, unsigned int len, unsigned int seq)
{
	unsigned int i;

	memcpy(f, mac, 6);
	memcpy(f + 6, mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (unsigned char)(seq * 7 + i);
}

/* Receives the next looped frame; returns its length, 0 on timeout. */
static ssize_t receive(int fd, unsigned char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, TIMEOUT_MS) <= 0)
			return 0;
		n = recv(fd, buf, size, 0);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned char out[1514], in[2048];
	unsigned long count, sent = 0, got = 0, intact = 0, bytes = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned int len;
	struct ifreq ifr;
	const char *mode;
	double *rtt = NULL, stalled = 0;
	int fd, one = 1;

	if (argc == 3 && !strcmp(argv[2], "info")) {
		struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
		ifr.ifr_data = (void *)&info;
		if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
			perror("pkt: SIOCETHTOOL");
			return 1;
		}
		printf("driver %s bus-info %s\n", info.driver, info.bus_info);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: pkt IF loop|pingpong|send COUNT LEN | pkt IF info\n");
		return 2;
	}
	mode = argv[2];
	count = strtoul(argv[3], NULL, 0);
	len = strtoul(argv[4], NULL, 0);
	if (len < 60 || len > sizeof(out)) {
		fprintf(stderr, "pkt: LEN must be 60..1514\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE));
	if (fd < 0) {
		perror("pkt: socket");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("pkt: SIOCGIFHWADDR");
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = htons(ETHERTYPE);
	sll.sll_ifindex = if_nametoindex(argv[1]);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		perror("pkt: bind");
		return 1;
	}
	if (!strcmp(mode, "pingpong")) {
		rtt = calloc(count ? count : 1, sizeof(*rtt));
		if (!rtt)
			return 1;
	}

	/* send: until every frame is out; loop, pingpong: until all came back. */
	while (!strcmp(mode, "send") ? sent < count : got < count) {
		/* Send while the window has room. */
		while (sent < count &&
		       (!strcmp(mode, "send") || sent - got < (rtt ? 1 : WINDOW))) {
			fill(out, len, sent);
			if (rtt)
				rtt[sent] = now_us();
			if (send(fd, out, len, 0) != (ssize_t)len) {
				if (errno == ENOBUFS || errno == EAGAIN) {
					if (!stalled)
						stalled = now_us();
					if (now_us() - stalled > TIMEOUT_MS * 1000.0)
						goto done;
					usleep(100);
					continue;
				}
				perror("pkt: send");
				goto done;
			}
			sent++;
			stalled = 0;
		}
		if (!strcmp(mode, "send"))
			continue;
		ssize_t n = receive(fd, in, sizeof(in));

		if (n <= 0)
			break;
		fill(out, len, got);
		if (rtt)
			rtt[got] = now_us() - rtt[got];
		if ((size_t)n == len && !memcmp(in, out, len))
			intact++;
		got++;
		bytes += n;
	}
done:
	if (!strcmp(mode, "send")) {
		printf("sent %lu\n", sent);
		return sent == count ? 0 : 1;
	}
	printf("sent %lu received %lu intact %lu bytes %lu", sent, got, intact, bytes);
	if (rtt && got) {
		qsort(rtt, got, sizeof(*rtt), cmp_double);
		printf(" rtt_median_us %.0f", rtt[got / 2]);
	}
	printf("\n");
	return sent == count && got == count && intact == count ? 0 : 1;
}
