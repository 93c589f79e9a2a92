// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_ring: a hostile driver of a virtio-net device behind the vhost-vdpa
 * uAPI. It brings the device up the way DPDK does (owner, IOTLB v2 messages
 * of its own memory, split rings of 16 entries, kick and call eventfds,
 * DRIVER_OK), sends one frame broken as CASE asks, and prints what the
 * device did:
 *
 *   vdpa_ring DEV CASE
 *     good           a well-formed frame (it must come back on RX)
 *     shared-eventfd a good frame, each queue's kick and call one eventfd
 *                    (the device's call wakes the kick poll: a kick from
 *                    inside a device callback)
 *     loop           a descriptor chain that loops (0 -> 1 -> 0)
 *     avail-idx      an available index 100 entries ahead of the ring
 *     bad-head       an available entry naming descriptor 99 of 16
 *     long-chain     16 chained descriptors of 4 KiB: a 64 KiB frame
 *     buf-unmapped   a buffer at an address the IOTLB does not map
 *     desc-unmapped  the descriptor table unmapped after DRIVER_OK
 *     used-unmapped  the TX used ring unmapped after DRIVER_OK
 *     used-ro        the TX used ring remapped read-only after DRIVER_OK
 *
 * Output, one line each: "status 0xNN" (after the frame is processed),
 * "config-call N" (times the config eventfd fired), "tx-used N" (TX used
 * index), "rx-used N" (RX used index), "rx-match yes|no", then, after a
 * reset and a clean bring-up, "recovered yes|no" (a good frame came back).
 * Exit status 2 when the bring-up itself fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define QSIZE 16
#define PAGE 4096
/* Pages: per queue desc, avail, used (0-5); TX buffer 6; RX buffers 7-14. */
#define NPAGES 16
#define HDR 12	/* struct virtio_net_hdr_v1 */
#define FRAME 64

static int fd, kick[2], call[2], cfg;
static uint8_t *mem;

#define PG(n) (mem + (n) * PAGE)
#define DESC(q) ((struct vring_desc *)PG(3 * (q)))
#define AVAIL(q) ((struct vring_avail *)PG(3 * (q) + 1))
#define USED(q) ((volatile struct vring_used *)PG(3 * (q) + 2))
#define RXQ 0
#define TXQ 1

static void die(const char *what)
{
	fprintf(stderr, "vdpa_ring: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void ioc(unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg) < 0)
		die(what);
}

static int msg(uint8_t type, void *addr, uint64_t size, uint8_t perm)
{
	struct vhost_msg_v2 m;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.iova = (uint64_t)(uintptr_t)addr;
	m.iotlb.size = size;
	m.iotlb.uaddr = (uint64_t)(uintptr_t)addr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	return write(fd, &m, sizeof(m)) == sizeof(m) ? 0 : -1;
}

static uint8_t get_status(void)
{
	uint8_t s;

	ioc(VHOST_VDPA_GET_STATUS, &s, "GET_STATUS");
	return s;
}

static void set_status(uint8_t s)
{
	ioc(VHOST_VDPA_SET_STATUS, &s, "SET_STATUS");
}

/*
 * Reset, map our memory (after the reset, as DPDK: without
 * VHOST_BACKEND_F_IOTLB_PERSIST mainline drops the parent's mappings on
 * reset), negotiate, place the rings and start: the device runs.
 */
static void bring_up(void)
{
	uint64_t features, ours;
	int i, q;

	static int mapped;

	set_status(0);
	/* Size 0 from 0: everything (there is nothing before the first map). */
	if (mapped && msg(VHOST_IOTLB_INVALIDATE, (void *)0, 0, 0))
		die("IOTLB invalidate all");
	mapped = 1;
	/* One IOTLB entry per page: each can go or change alone. */
	for (i = 0; i < NPAGES; i++)
		if (msg(VHOST_IOTLB_UPDATE, PG(i), PAGE, VHOST_ACCESS_RW))
			die("IOTLB update");
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	ioc(VHOST_GET_FEATURES, &features, "GET_FEATURES");
	ours = features & (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_ACCESS_PLATFORM);
	ioc(VHOST_SET_FEATURES, &ours, "SET_FEATURES");
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(get_status() & VIRTIO_CONFIG_S_FEATURES_OK)) {
		errno = EPROTO;
		die("FEATURES_OK");
	}
	memset(mem, 0, 6 * PAGE);
	for (q = 0; q < 2; q++) {
		struct vhost_vring_state st = { .index = q, .num = QSIZE };
		struct vhost_vring_addr a = {
			.index = q,
			.desc_user_addr = (uint64_t)(uintptr_t)DESC(q),
			.avail_user_addr = (uint64_t)(uintptr_t)AVAIL(q),
			.used_user_addr = (uint64_t)(uintptr_t)USED(q),
		};
		struct vhost_vring_file k = { .index = q, .fd = kick[q] };
		struct vhost_vring_file c = { .index = q, .fd = call[q] };

		ioc(VHOST_SET_VRING_NUM, &st, "SET_VRING_NUM");
		st.num = 0;
		ioc(VHOST_SET_VRING_BASE, &st, "SET_VRING_BASE");
		ioc(VHOST_SET_VRING_ADDR, &a, "SET_VRING_ADDR");
		ioc(VHOST_SET_VRING_KICK, &k, "SET_VRING_KICK");
		ioc(VHOST_SET_VRING_CALL, &c, "SET_VRING_CALL");
		st.num = 1;
		ioc(VHOST_VDPA_SET_VRING_ENABLE, &st, "SET_VRING_ENABLE");
	}
	ioc(VHOST_VDPA_SET_CONFIG_CALL, &cfg, "SET_CONFIG_CALL");
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Offers RX buffers 7.. and writes a frame to the device's MAC at page 6. */
static void prepare(const uint8_t *mac)
{
	struct vring_desc *rx = DESC(RXQ);
	int i;

	for (i = 0; i < 8; i++) {
		rx[i].addr = (uint64_t)(uintptr_t)PG(7 + i);
		rx[i].len = PAGE;
		rx[i].flags = VRING_DESC_F_WRITE;
		AVAIL(RXQ)->ring[i] = i;
	}
	__atomic_store_n(&AVAIL(RXQ)->idx, 8, __ATOMIC_RELEASE);
	memset(PG(6), 0, PAGE);
	memcpy(PG(6) + HDR, mac, 6);
	for (i = 6; i < FRAME; i++)
		PG(6)[HDR + i] = (uint8_t)(i * 7 + 1);
}

static void kick_and_wait(int q, int ms)
{
	uint64_t one = 1, n;
	struct pollfd p[2] = { { .fd = call[RXQ], .events = POLLIN },
			       { .fd = cfg, .events = POLLIN } };

	if (write(kick[q], &one, sizeof(one)) != sizeof(one))
		die("kick");
	/* The RX call (a frame) or the config call (a failure), or time. */
	poll(p, 2, ms);
	/* Let the device finish the batch it is in. */
	usleep(200 * 1000);
	if (read(call[RXQ], &n, sizeof(n)) < 0 && errno != EAGAIN)
		die("read call");
}

/* A TX frame in descriptor 0, at available entry 0 (not yet published). */
static void offer_tx(void)
{
	struct vring_desc *tx = DESC(TXQ);

	tx[0].addr = (uint64_t)(uintptr_t)PG(6);
	tx[0].len = HDR + FRAME;
	tx[0].flags = 0;
	AVAIL(TXQ)->ring[0] = 0;
}

/* Publishes available entries up to IDX: the device may take them now. */
static void publish_tx(uint16_t idx)
{
	__atomic_store_n(&AVAIL(TXQ)->idx, idx, __ATOMIC_RELEASE);
}

static int rx_match(void)
{
	volatile struct vring_used *u = USED(RXQ);

	return u->idx >= 1 && u->ring[0].len == HDR + FRAME &&
	       !memcmp(PG(7) + HDR, PG(6) + HDR, FRAME);
}

static uint64_t config_calls(void)
{
	uint64_t n = 0;

	if (read(cfg, &n, sizeof(n)) < 0 && errno != EAGAIN)
		die("read config call");
	return n;
}

int main(int argc, char **argv)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t mac[6];
	} c = { .hdr = { .off = 0, .len = 6 } };
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint16_t avail = 1;
	const char *what;
	struct vring_desc *tx;
	int i, q;

	if (argc != 3) {
		fprintf(stderr, "usage: vdpa_ring DEV CASE\n");
		return 2;
	}
	what = argv[2];
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		die("open");
	for (q = 0; q < 2; q++) {
		kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		call[q] = strcmp(what, "shared-eventfd") ?
			  eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : kick[q];
	}
	cfg = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (posix_memalign((void **)&mem, PAGE, NPAGES * PAGE))
		die("memory");
	memset(mem, 0, NPAGES * PAGE);
	ioc(VHOST_SET_OWNER, NULL, "SET_OWNER");
	ioc(VHOST_SET_BACKEND_FEATURES, &backend, "SET_BACKEND_FEATURES");
	ioc(VHOST_VDPA_GET_CONFIG, &c, "GET_CONFIG");

	bring_up();
	prepare(c.mac);
	offer_tx();
	tx = DESC(TXQ);
	if (!strcmp(what, "good") || !strcmp(what, "shared-eventfd")) {
	} else if (!strcmp(what, "loop")) {
		tx[0].flags = VRING_DESC_F_NEXT;
		tx[0].next = 1;
		tx[1] = tx[0];
		tx[1].next = 0;
	} else if (!strcmp(what, "avail-idx")) {
		avail = 100;
	} else if (!strcmp(what, "bad-head")) {
		AVAIL(TXQ)->ring[0] = 99;
	} else if (!strcmp(what, "long-chain")) {
		for (i = 0; i < QSIZE; i++) {
			tx[i].addr = (uint64_t)(uintptr_t)PG(6);
			tx[i].len = PAGE;
			tx[i].flags = i < QSIZE - 1 ? VRING_DESC_F_NEXT : 0;
			tx[i].next = i + 1;
		}
	} else if (!strcmp(what, "buf-unmapped")) {
		tx[0].addr = 0xdead0000;
	} else if (!strcmp(what, "desc-unmapped")) {
		if (msg(VHOST_IOTLB_INVALIDATE, DESC(TXQ), PAGE, 0))
			die("IOTLB invalidate");
	} else if (!strcmp(what, "used-unmapped") || !strcmp(what, "used-ro")) {
		if (msg(VHOST_IOTLB_INVALIDATE, (void *)USED(TXQ), PAGE, 0))
			die("IOTLB invalidate");
		if (!strcmp(what, "used-ro") &&
		    msg(VHOST_IOTLB_UPDATE, (void *)USED(TXQ), PAGE, VHOST_ACCESS_RO))
			die("IOTLB update");
	} else {
		fprintf(stderr, "vdpa_ring: unknown case %s\n", what);
		return 2;
	}
	publish_tx(avail);
	kick_and_wait(TXQ, 3000);
	printf("status %#x\n", get_status());
	printf("config-call %llu\n", (unsigned long long)config_calls());
	printf("tx-used %u\n", USED(TXQ)->idx);
	printf("rx-used %u\n", USED(RXQ)->idx);
	printf("rx-match %s\n", rx_match() ? "yes" : "no");

	/* Whatever happened, a reset and a clean start work again. */
	bring_up();
	prepare(c.mac);
	offer_tx();
	publish_tx(1);
	kick_and_wait(TXQ, 3000);
	printf("recovered %s\n", rx_match() && !(get_status() & VIRTIO_CONFIG_S_NEEDS_RESET) ?
	       "yes" : "no");
	set_status(0);
	close(fd);
	return 0;
}
