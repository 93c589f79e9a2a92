// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_ioctl DEV: runs a fixed battery of vhost-vdpa uAPI calls, good and
 * bad, on a vhost-vdpa char device and prints one line per case:
 *
 *	<case> <errno name, or OK>
 *
 * then, after "--", the values the device reported (device id, counts,
 * sizes). Run against vhost_mdev and against mainline vhost_vdpa in the
 * same boot, the first part must be identical: that is the errno parity.
 * The cases follow drivers/vhost/vdpa.c and drivers/vhost/vhost.c of 7.3.
 *
 * vdpa_ioctl fd:N: one VHOST_VDPA_GET_DEVICE_ID on the inherited fd N, and
 * its errno (a revoked file answers ENODEV).
 *
 * vdpa_ioctl race:DEV: 8 processes open at once (single open: one wins).
 * vdpa_ioctl kill:DEV: a process with pinned mappings dies with the file
 * open (the pins must come back).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

/* Newer than the build host's uAPI headers (include/uapi/linux/vhost*.h). */
#ifndef VHOST_BACKEND_F_DESC_ASID
#define VHOST_BACKEND_F_DESC_ASID 0x7
#endif
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME _IO(VHOST_VIRTIO, 0x7E)
#endif
#ifndef VHOST_VDPA_GET_VQS_COUNT
#define VHOST_VDPA_GET_VQS_COUNT _IOR(VHOST_VIRTIO, 0x80, __u32)
#endif
#ifndef VHOST_VDPA_GET_VRING_DESC_GROUP
#define VHOST_VDPA_GET_VRING_DESC_GROUP _IOWR(VHOST_VIRTIO, 0x7F, struct vhost_vring_state)
#endif
#ifndef VHOST_VDPA_GET_VRING_SIZE
#define VHOST_VDPA_GET_VRING_SIZE _IOWR(VHOST_VIRTIO, 0x82, struct vhost_vring_state)
#endif
#ifndef VHOST_VDPA_GET_GROUP_NUM
#define VHOST_VDPA_GET_GROUP_NUM _IOR(VHOST_VIRTIO, 0x81, __u32)
#endif

static const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOBUFS: return "ENOBUFS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case ENODEV: return "ENODEV";
	case EBADF: return "EBADF";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}

static int fd;

/* case NAME RESULT: prints the case and the errno of RESULT (< 0: failed). */
static void report(const char *name, long r)
{
	printf("%s %s\n", name, ename(r < 0 ? errno : 0));
}

#define IOC(name, cmd, arg) report(name, ioctl(fd, cmd, arg))

/* iotlb NAME TYPE IOVA SIZE UADDR PERM: writes one vhost_msg_v2. */
static void iotlb(const char *name, uint8_t type, uint64_t iova, uint64_t size,
		  void *uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m;
	long r;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = (uint64_t)(uintptr_t)uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	r = write(fd, &m, sizeof(m));
	if (r >= 0 && r != sizeof(m))
		printf("%s SHORT(%ld)\n", name, r);
	else
		report(name, r);
}

/* VmPin of this process, kB. */
static long vmpin(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * race:DEV: 8 processes open DEV at once (released together through a
 * pipe) and hold it until all tried; prints how many opened and how many
 * got EBUSY.
 */
static int race(const char *dev)
{
	int go[2], done[2], res[2], i, ok = 0, busy = 0, other = 0;
	char c;

	if (pipe(go) || pipe(done) || pipe(res))
		return 1;
	for (i = 0; i < 8; i++) {
		if (fork() == 0) {
			int f;

			close(go[1]);
			close(done[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(1);
			f = open(dev, O_RDWR);
			c = f >= 0 ? 'o' : errno == EBUSY ? 'b' : 'x';
			if (write(res[1], &c, 1) != 1)
				_exit(1);
			/* Hold the device until every process has tried. */
			if (read(done[0], &c, 1) != 0)
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);
	close(done[0]);
	close(res[1]);
	close(go[1]);
	for (i = 0; i < 8 && read(res[0], &c, 1) == 1; i++)
		c == 'o' ? ok++ : c == 'b' ? busy++ : other++;
	close(done[1]);
	while (wait(NULL) > 0)
		;
	printf("opened %d busy %d other %d\n", ok, busy, other);
	return 0;
}

/* Pages pinned in the system: /proc/vmstat's FOLL_PIN counters. */
static long pins(void)
{
	long acquired = 0, released = 0, v;
	char name[64];
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	if (f)
		fclose(f);
	return acquired - released;
}

/*
 * kill:DEV: a child opens DEV, becomes its owner, maps 1 MiB of its memory
 * (256 pages, pinned) and is killed with the file open; prints the child's
 * VmPin, and the pages pinned in the system (/proc/vmstat, whose per-CPU
 * counters lag by a few dozen) while it lives and once it is gone, each
 * relative to before.
 */
static int killed(const char *dev)
{
	int p[2], status;
	long kb = -1, before, during, after;
	pid_t pid;

	if (pipe(p))
		return 1;
	before = pins();
	pid = fork();
	if (pid == 0) {
		void *m;

		fd = open(dev, O_RDWR);
		if (fd < 0 || ioctl(fd, VHOST_SET_OWNER, NULL) ||
		    posix_memalign(&m, 4096, 1 << 20))
			_exit(1);
		struct vhost_msg_v2 msg = { .type = VHOST_IOTLB_MSG_V2 };

		memset(m, 1, 1 << 20);
		/* Silent: the child's output would be the parent's first line. */
		msg.iotlb.iova = 0x100000;
		msg.iotlb.size = 1 << 20;
		msg.iotlb.uaddr = (uint64_t)(uintptr_t)m;
		msg.iotlb.perm = VHOST_ACCESS_RW;
		msg.iotlb.type = VHOST_IOTLB_UPDATE;
		if (write(fd, &msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		kb = vmpin();
		if (write(p[1], &kb, sizeof(kb)) != sizeof(kb))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &kb, sizeof(kb)) != sizeof(kb))
		kb = -1;
	during = pins();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* The file's release runs in the child's exit, before the wait ends. */
	after = pins();
	printf("child-vmpin-kb %ld killed %d pinned-while-alive %ld pinned-after %ld\n", kb,
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, during - before,
	       after - before);
	return 0;
}

int main(int argc, char **argv)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t buf[256];
	} cfg;
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[2];
	} mem;
	struct vhost_vring_state st;
	struct vhost_vdpa_iova_range range;
	uint64_t features, u64;
	uint32_t id, cfgsize, nvqs, u32, groups, as;
	uint16_t vringnum;
	uint8_t status;
	char buf[8];
	uint8_t *mem4;
	long pin_mapped, pin_unmapped, perm0;
	struct vhost_vring_state vring_size = { .index = 1 };
	int vring_size_err, mmap_err;
	struct rlimit rl, small;
	int fd2;
	struct vhost_vring_file vf;
	int efd = eventfd(0, EFD_CLOEXEC);

	if (argc != 2) {
		fprintf(stderr, "usage: vdpa_ioctl DEV | fd:N | race:DEV | kill:DEV\n");
		return 2;
	}
	if (!strncmp(argv[1], "fd:", 3)) {
		fd = atoi(argv[1] + 3);
		IOC("get-device-id", VHOST_VDPA_GET_DEVICE_ID, &id);
		return 0;
	}
	if (!strncmp(argv[1], "race:", 5))
		return race(argv[1] + 5);
	if (!strncmp(argv[1], "kill:", 5))
		return killed(argv[1] + 5);
	fd = open(argv[1], O_RDWR);
	report("open", fd);
	if (fd < 0)
		return 1;
	fd2 = open(argv[1], O_RDWR);
	report("open-second", fd2);
	if (fd2 >= 0)
		close(fd2);

	IOC("get-device-id", VHOST_VDPA_GET_DEVICE_ID, &id);
	IOC("get-device-id-badptr", VHOST_VDPA_GET_DEVICE_ID, (void *)8);
	IOC("get-status", VHOST_VDPA_GET_STATUS, &status);
	printf("status-after-open %u\n", status);
	IOC("get-features", VHOST_GET_FEATURES, &features);
	IOC("get-config-size", VHOST_VDPA_GET_CONFIG_SIZE, &cfgsize);
	IOC("get-vqs-count", VHOST_VDPA_GET_VQS_COUNT, &nvqs);
	IOC("get-vring-num", VHOST_VDPA_GET_VRING_NUM, &vringnum);
	IOC("get-iova-range", VHOST_VDPA_GET_IOVA_RANGE, &range);
	IOC("get-group-num", VHOST_VDPA_GET_GROUP_NUM, &groups);
	IOC("get-as-num", VHOST_VDPA_GET_AS_NUM, &as);
	IOC("get-backend-features", VHOST_GET_BACKEND_FEATURES, &u64);

	/* Backend features (no owner needed). */
	u64 = 1ULL << 40;
	IOC("set-backend-features-unknown", VHOST_SET_BACKEND_FEATURES, &u64);
	u64 = 1ULL << VHOST_BACKEND_F_DESC_ASID;
	IOC("set-backend-features-desc-asid-alone", VHOST_SET_BACKEND_FEATURES, &u64);
	IOC("set-backend-features-badptr", VHOST_SET_BACKEND_FEATURES, (void *)8);
	u64 = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) | (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	IOC("set-backend-features-v2-batch", VHOST_SET_BACKEND_FEATURES, &u64);

	iotlb("iotlb-not-owner", VHOST_IOTLB_INVALIDATE, 0, 4096, NULL, 0);

	/* Owner: the vhost_dev commands need it. */
	st.index = 0;
	st.num = 256;
	IOC("set-vring-num-not-owner", VHOST_SET_VRING_NUM, &st);
	IOC("set-mem-table-not-owner", VHOST_SET_MEM_TABLE, &mem);
	vf.index = 0;
	vf.fd = efd;
	IOC("set-vring-kick-not-owner", VHOST_SET_VRING_KICK, &vf);
	IOC("set-vring-call-not-owner", VHOST_SET_VRING_CALL, &vf);
	IOC("set-owner", VHOST_SET_OWNER, NULL);
	IOC("set-owner-again", VHOST_SET_OWNER, NULL);
	st.index = 1000;
	IOC("set-vring-num-bad-index", VHOST_SET_VRING_NUM, &st);
	u32 = 1000;
	IOC("unknown-cmd-bad-index", _IO(VHOST_VIRTIO, 0x99), &u32);
	u32 = 0;
	IOC("unknown-cmd-index-0", _IO(VHOST_VIRTIO, 0x99), &u32);
	IOC("unknown-cmd-badptr", _IO(VHOST_VIRTIO, 0x99), (void *)8);
	IOC("unknown-type", _IO(0x42, 0x01), &u32);
	u64 = 0;
	IOC("set-log-base", VHOST_SET_LOG_BASE, &u64);
	memset(&mem, 0, sizeof(mem));
	mem.hdr.padding = 1;
	IOC("set-mem-table-padding", VHOST_SET_MEM_TABLE, &mem);
	mem.hdr.padding = 0;
	mem.hdr.nregions = 65;
	IOC("set-mem-table-65-regions", VHOST_SET_MEM_TABLE, &mem);
	mem.hdr.nregions = 0;
	IOC("set-mem-table-empty", VHOST_SET_MEM_TABLE, &mem);

	/* Eventfds: kick (polled), call, error, config. */
	{
		static const unsigned long cmds[] = {
			VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR,
		};
		static const char *const names[] = { "kick", "call", "err" };
		char name[64];
		uint64_t one = 1;
		unsigned int i;

		/* Already signalled when polling starts. */
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			return 1;
		for (i = 0; i < 3; i++) {
			vf.index = 0;
			vf.fd = 1000;
			snprintf(name, sizeof(name), "set-vring-%s-bad-fd", names[i]);
			IOC(name, cmds[i], &vf);
			vf.fd = fd;
			snprintf(name, sizeof(name), "set-vring-%s-not-eventfd", names[i]);
			IOC(name, cmds[i], &vf);
			vf.fd = -2;
			snprintf(name, sizeof(name), "set-vring-%s-fd-minus-2", names[i]);
			IOC(name, cmds[i], &vf);
			vf.fd = efd;
			snprintf(name, sizeof(name), "set-vring-%s", names[i]);
			IOC(name, cmds[i], &vf);
			snprintf(name, sizeof(name), "set-vring-%s-again", names[i]);
			IOC(name, cmds[i], &vf);
			vf.index = 1;
			snprintf(name, sizeof(name), "set-vring-%s-queue-1", names[i]);
			IOC(name, cmds[i], &vf);
			vf.index = 1000;
			snprintf(name, sizeof(name), "set-vring-%s-bad-index", names[i]);
			IOC(name, cmds[i], &vf);
			snprintf(name, sizeof(name), "set-vring-%s-badptr", names[i]);
			IOC(name, cmds[i], (void *)8);
			vf.index = 1;
			vf.fd = VHOST_FILE_UNBIND;
			snprintf(name, sizeof(name), "set-vring-%s-unbind", names[i]);
			IOC(name, cmds[i], &vf);
		}
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			return 1;
		i = 1000;
		IOC("set-config-call-bad-fd", VHOST_VDPA_SET_CONFIG_CALL, &i);
		i = fd;
		IOC("set-config-call-not-eventfd", VHOST_VDPA_SET_CONFIG_CALL, &i);
		IOC("set-config-call-badptr", VHOST_VDPA_SET_CONFIG_CALL, (void *)8);
		i = efd;
		IOC("set-config-call", VHOST_VDPA_SET_CONFIG_CALL, &i);
		i = VHOST_FILE_UNBIND;
		IOC("set-config-call-unbind", VHOST_VDPA_SET_CONFIG_CALL, &i);
		i = efd;
		IOC("set-config-call-again", VHOST_VDPA_SET_CONFIG_CALL, &i);
	}

	/* Virtqueues. */
	st.index = 0;
	st.num = 0;
	IOC("set-vring-num-0", VHOST_SET_VRING_NUM, &st);
	st.num = 100;
	IOC("set-vring-num-not-pow2", VHOST_SET_VRING_NUM, &st);
	st.num = 1 << 16;
	IOC("set-vring-num-64k", VHOST_SET_VRING_NUM, &st);
	st.num = 512;
	IOC("set-vring-num-above-max", VHOST_SET_VRING_NUM, &st);
	st.num = 64;
	IOC("set-vring-num-64", VHOST_SET_VRING_NUM, &st);
	IOC("set-vring-num-badptr", VHOST_SET_VRING_NUM, (void *)8);
	st.num = 0x10000;
	IOC("set-vring-base-above-16-bits", VHOST_SET_VRING_BASE, &st);
	st.num = 7;
	IOC("set-vring-base-7", VHOST_SET_VRING_BASE, &st);
	IOC("get-vring-base", VHOST_GET_VRING_BASE, &st);
	printf("vring-base %u\n", st.num);
	/* A parent's op in vDPA (vdpa_sim's batch-mapping ops lack it): after "--". */
	vring_size_err = ioctl(fd, VHOST_VDPA_GET_VRING_SIZE, &vring_size) < 0 ? errno : 0;
	st.index = 1;
	IOC("get-vring-group", VHOST_VDPA_GET_VRING_GROUP, &st);
	printf("vring-group %u %u\n", st.index, st.num);
	st.index = 0;
	IOC("get-vring-desc-group", VHOST_VDPA_GET_VRING_DESC_GROUP, &st);
	st.index = 7;
	st.num = 0;
	IOC("set-group-asid-bad-group", VHOST_VDPA_SET_GROUP_ASID, &st);
	st.index = 0;
	st.num = 7;
	IOC("set-group-asid-bad-asid", VHOST_VDPA_SET_GROUP_ASID, &st);
	st.num = 0;
	IOC("set-group-asid-0-0", VHOST_VDPA_SET_GROUP_ASID, &st);
	st.index = 0;
	st.num = 50;
	IOC("set-busyloop-timeout", VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st);
	st.num = 0;
	IOC("get-busyloop-timeout", VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &st);
	printf("busyloop-timeout %u\n", st.num);
	IOC("set-vring-endian", VHOST_SET_VRING_ENDIAN, &st);
	IOC("get-vring-endian", VHOST_GET_VRING_ENDIAN, &st);
	st.num = 1;
	IOC("set-vring-enable-unplaced", VHOST_VDPA_SET_VRING_ENABLE, &st);
	st.index = 1000;
	IOC("set-vring-enable-bad-index", VHOST_VDPA_SET_VRING_ENABLE, &st);
	{
		struct vhost_vring_addr a = { .index = 0 };

		a.flags = 2;
		IOC("set-vring-addr-bad-flags", VHOST_SET_VRING_ADDR, &a);
		a.flags = 0;
		a.avail_user_addr = 0x1001;
		IOC("set-vring-addr-avail-odd", VHOST_SET_VRING_ADDR, &a);
		a.avail_user_addr = 0x1000;
		a.used_user_addr = 0x2002;
		IOC("set-vring-addr-used-unaligned", VHOST_SET_VRING_ADDR, &a);
		a.used_user_addr = 0x2000;
		a.desc_user_addr = 0x3001;
		IOC("set-vring-addr-desc-odd", VHOST_SET_VRING_ADDR, &a);
		a.desc_user_addr = 0x3000;
		IOC("set-vring-addr", VHOST_SET_VRING_ADDR, &a);
		IOC("set-vring-addr-badptr", VHOST_SET_VRING_ADDR, (void *)8);
	}

	/* IOTLB messages: four pages of our own memory. */
	if (posix_memalign((void **)&mem4, 4096, 4 * 4096))
		return 1;
	memset(mem4, 0x5a, 4 * 4096);
	iotlb("iotlb-invalidate-before-update", VHOST_IOTLB_INVALIDATE, 0, 4096, NULL, 0);
	u32 = 3;
	report("iotlb-bad-version", write(fd, &u32, sizeof(u32)));
	{
		uint32_t hdr[2] = { VHOST_IOTLB_MSG_V2, 0 };

		report("iotlb-short", write(fd, hdr, sizeof(hdr)));
	}
	iotlb("iotlb-update-size-0", VHOST_IOTLB_UPDATE, 0x100000, 0, mem4, VHOST_ACCESS_RW);
	iotlb("iotlb-update-unmapped", VHOST_IOTLB_UPDATE, 0x100000, 4096, (void *)4096,
	      VHOST_ACCESS_RW);
	iotlb("iotlb-update-wraps", VHOST_IOTLB_UPDATE, ~0ULL - 0xfff, 0x2000, mem4,
	      VHOST_ACCESS_RW);
	iotlb("iotlb-miss-type", VHOST_IOTLB_MISS, 0x100000, 4096, mem4, VHOST_ACCESS_RW);
	iotlb("iotlb-update", VHOST_IOTLB_UPDATE, 0x100000, 2 * 4096, mem4, VHOST_ACCESS_RW);
	iotlb("iotlb-update-overlap", VHOST_IOTLB_UPDATE, 0x101000, 4096, mem4 + 3 * 4096,
	      VHOST_ACCESS_RW);
	iotlb("iotlb-batch-begin", VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0);
	iotlb("iotlb-update-ro", VHOST_IOTLB_UPDATE, 0x200000, 4096, mem4 + 2 * 4096,
	      VHOST_ACCESS_RO);
	iotlb("iotlb-batch-end", VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0);
	iotlb("iotlb-batch-end-again", VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0);
	pin_mapped = vmpin();
	iotlb("iotlb-invalidate-not-mapped", VHOST_IOTLB_INVALIDATE, 0x800000, 4096, NULL, 0);
	iotlb("iotlb-invalidate-size-0-not-0", VHOST_IOTLB_INVALIDATE, 0x100000, 0, NULL, 0);
	iotlb("iotlb-invalidate-all", VHOST_IOTLB_INVALIDATE, 0, 0, NULL, 0);
	pin_unmapped = vmpin();
	getrlimit(RLIMIT_MEMLOCK, &rl);
	small = rl;
	small.rlim_cur = 4096;
	setrlimit(RLIMIT_MEMLOCK, &small);
	iotlb("iotlb-update-over-memlock", VHOST_IOTLB_UPDATE, 0x100000, 2 * 4096, mem4,
	      VHOST_ACCESS_RW);
	setrlimit(RLIMIT_MEMLOCK, &rl);
	iotlb("iotlb-update-again", VHOST_IOTLB_UPDATE, 0x100000, 4 * 4096, mem4, VHOST_ACCESS_RO);

	/* Config space. */
	cfg.hdr.off = 0;
	cfg.hdr.len = 0;
	IOC("get-config-len-0", VHOST_VDPA_GET_CONFIG, &cfg);
	cfg.hdr.off = cfgsize + 1;
	cfg.hdr.len = 1;
	IOC("get-config-off-beyond", VHOST_VDPA_GET_CONFIG, &cfg);
	cfg.hdr.off = 0;
	cfg.hdr.len = cfgsize + 1;
	IOC("get-config-len-beyond", VHOST_VDPA_GET_CONFIG, &cfg);
	cfg.hdr.off = cfgsize;
	cfg.hdr.len = 1;
	IOC("get-config-at-end", VHOST_VDPA_GET_CONFIG, &cfg);
	cfg.hdr.off = 0;
	cfg.hdr.len = 6;
	IOC("get-config-mac", VHOST_VDPA_GET_CONFIG, &cfg);
	IOC("get-config-badptr", VHOST_VDPA_GET_CONFIG, (void *)8);
	cfg.hdr.len = 0;
	IOC("set-config-len-0", VHOST_VDPA_SET_CONFIG, &cfg);

	/* Status and features. */
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	IOC("set-status-ack", VHOST_VDPA_SET_STATUS, &status);
	status = VIRTIO_CONFIG_S_DRIVER;
	IOC("set-status-drops-ack", VHOST_VDPA_SET_STATUS, &status);
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	IOC("set-status-ack-driver", VHOST_VDPA_SET_STATUS, &status);
	IOC("set-status-badptr", VHOST_VDPA_SET_STATUS, (void *)8);
	IOC("suspend-not-driver-ok", VHOST_VDPA_SUSPEND, NULL);
	IOC("resume-not-driver-ok", VHOST_VDPA_RESUME, NULL);
	/* As DPDK and QEMU: ACCESS_PLATFORM forced (vdpa_sim requires it). */
	u64 = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	IOC("set-features-version-1", VHOST_SET_FEATURES, &u64);
	IOC("set-features-badptr", VHOST_SET_FEATURES, (void *)8);
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	IOC("set-status-features-ok", VHOST_VDPA_SET_STATUS, &status);
	IOC("get-status-2", VHOST_VDPA_GET_STATUS, &status);
	printf("status-features-ok %u\n", status);
	IOC("set-features-after-features-ok", VHOST_SET_FEATURES, &u64);

	/* Running (DRIVER_OK): ring addresses, bases and groups are fixed... */
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	IOC("set-status-driver-ok", VHOST_VDPA_SET_STATUS, &status);
	{
		struct vhost_vring_addr a = { .index = 1, .desc_user_addr = 0x3000,
					      .avail_user_addr = 0x1000,
					      .used_user_addr = 0x2000 };

		IOC("set-vring-addr-running", VHOST_SET_VRING_ADDR, &a);
		st.index = 1;
		st.num = 3;
		IOC("set-vring-base-running", VHOST_SET_VRING_BASE, &st);
		st.index = 0;
		st.num = 0;
		IOC("set-group-asid-running", VHOST_VDPA_SET_GROUP_ASID, &st);
		IOC("set-features-running", VHOST_SET_FEATURES, &u64);
		/* ... until suspended. */
		IOC("suspend", VHOST_VDPA_SUSPEND, NULL);
		IOC("suspend-again", VHOST_VDPA_SUSPEND, NULL);
		IOC("set-vring-addr-suspended", VHOST_SET_VRING_ADDR, &a);
		st.index = 1;
		st.num = 3;
		IOC("set-vring-base-suspended", VHOST_SET_VRING_BASE, &st);
		IOC("get-vring-base-suspended", VHOST_GET_VRING_BASE, &st);
		printf("vring-base-suspended %u\n", st.num);
		IOC("resume", VHOST_VDPA_RESUME, NULL);
		IOC("set-vring-addr-resumed", VHOST_SET_VRING_ADDR, &a);
	}
	/* No doorbell page to map: compared after "--". */
	{
		void *p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, 0);

		mmap_err = p == MAP_FAILED ? errno : 0;
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	status = 0;
	IOC("set-status-reset", VHOST_VDPA_SET_STATUS, &status);
	IOC("get-status-3", VHOST_VDPA_GET_STATUS, &status);
	printf("status-after-reset %u\n", status);

	/* read() and write() with nonsense. */
	report("read", read(fd, buf, sizeof(buf)));
	report("write-short", write(fd, buf, 4));

	/* Not mainline's: it takes any permission; rmdev refuses 0 (after "--"). */
	{
		struct vhost_msg_v2 m;

		memset(&m, 0, sizeof(m));
		m.type = VHOST_IOTLB_MSG_V2;
		m.iotlb.iova = 0x900000;
		m.iotlb.size = 4096;
		m.iotlb.uaddr = (uint64_t)(uintptr_t)mem4;
		m.iotlb.type = VHOST_IOTLB_UPDATE;
		perm0 = write(fd, &m, sizeof(m)) < 0 ? errno : 0;
	}

	report("close", close(fd));
	fd = open(argv[1], O_RDWR);
	report("reopen", fd);
	close(fd);

	printf("--\n");
	printf("device-id %u\nconfig-size %u\nvqs-count %u\nvring-num %u\n",
	       id, cfgsize, nvqs, vringnum);
	printf("iova-range %#llx-%#llx\ngroups %u\naddress-spaces %u\n",
	       (unsigned long long)range.first, (unsigned long long)range.last, groups, as);
	printf("features %#llx\n", (unsigned long long)features);
	printf("vmpin-kb mapped %ld unmapped %ld closed %ld\n", pin_mapped, pin_unmapped, vmpin());
	printf("iotlb-update-perm-0 %s\n", ename(perm0));
	printf("get-vring-size %s %u %u\n", ename(vring_size_err), vring_size.index, vring_size.num);
	printf("mmap-doorbell %s\n", ename(mmap_err));
	return 0;
}
