// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded, seeded fuzzer of /dev/ioasid: random and structure-aware
 * calls to every ioctl of the fd (and of the mock's IOASID_TEST), of the
 * VFIO ioctls that bind a group and attach a device, and reads and polls
 * of event queues.
 *
 * Environment (the harness owns argv):
 *   IOASID_FUZZ_SEED     the seed, random if unset; printed first, so
 *                        that a failure can be replayed
 *   IOASID_FUZZ_CALLS    how many calls at most, per test
 *   IOASID_FUZZ_SECONDS  how long at most, per test
 * The defaults take about 50 s for both tests on the normal kernel under
 * TCG; the debug kernel (found as ioasid_fd_stress.c finds it) gets
 * fewer calls.
 *
 * Deterministic: one thread, one PRNG, and every address the kernel
 * sees is fixed (the memory is mapped at a fixed address, since a
 * kernel-chosen IOVA is aligned like the user address); asynchronous
 * unmaps are held (IOASID_TEST_OP_ASYNC_HOLD) so that they complete at
 * calls, not in a work item whenever it runs. A seed makes the same calls
 * with the same results, unless the time limit cuts the run. The VFIO
 * fixture's real device reports its DMA faults from an interrupt: there
 * the event records may come at other times.
 *
 * A small model of what lives in each fd (IOASIDs and their mappings,
 * mock devices, event queues, destroyed IDs) makes most calls nearly
 * valid, so that they get past the argument checks, and lets some
 * answers be checked: a MAP that succeeds where the model has a mapping,
 * an UNMAP whose byte count is not what the model holds, a call that
 * succeeds on an ID that is no object, event records out of sequence
 * with no LOST record to explain the gap. Every result goes into a
 * histogram; an errno the uAPI does not document for that call, or a
 * positive return where 0 is expected, fails the test with the call
 * printed.
 *
 * At the end: every fd is closed, and no page may stay pinned, locked_vm
 * and VmPin must be back where they were, the mock must never have seen
 * a page unpinned before its IOTLB flush, and a plain map, attach and
 * DMA must still work.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "ioasid_fd_utils.h"
#include "edu_utils.h"

#define PAGE 4096UL
#define CALLS_NORMAL 45000
#define CALLS_DEBUG 15000
#define SECONDS_NORMAL 30
#define SECONDS_DEBUG 60

/*
 * One fixed reservation, PROT_NONE where nothing is mapped: argument
 * structures, batch operations, event records, read-only pages, a hole
 * and the buffer that MAP pins, 1GiB-aligned.
 */
#define FZ_BASE 0x5a0000000000UL
#define FZ_SPAN (2UL << 30)
#define ARG_OFF 0UL
#define ARG_SIZE (64 * 1024UL)
#define OPS_OFF 0x100000UL
#define OPS_SIZE (256 * 1024UL)
#define EV_OFF (2UL << 20)
#define EV_SIZE (64 * 1024UL)
#define RO_OFF (3UL << 20)
#define RO_PAGES 4
#define HOLE_OFF (4UL << 20)
#define BUF_OFF 0x40000000UL
#define BUF_PAGES 64
/* The fd's memlock limit above what was locked before: bounds the pins */
#define MEMLOCK_PAGES 2048

#define MAX_IOASIDS 6
#define MAX_MAPS 64
#define MAX_MOCKS 3
#define MAX_QUEUES 4
#define MAX_DEAD 16
#define MAX_BATCH 8
#define MAX_BAD_PRINTED 10
#define MAX_EDU_DMA 6

enum kind {
	K_INFO, K_DESTROY, K_ALLOC, K_RANGES, K_MAP, K_UNMAP, K_EVENTQ,
	K_DEVINFO, K_BATCH, K_BAD_NR, K_WRONG_FD,
	K_MOCK, K_ATTACH, K_DETACH, K_CHECK_MAP, K_PINNED, K_DMA, K_DSTATS,
	K_ISTATS, K_MEMLOCK, K_INJECT, K_HOLD, K_BAD_OP,
	K_READ, K_POLL,
	K_VBIND, K_VUNBIND, K_VGETDEV, K_VATTACH, K_VDETACH,
	NKINDS
};

/* What the uAPI documents for every ioctl of /dev/ioasid */
static const int common_errnos[] = {
	EINVAL, E2BIG, EOPNOTSUPP, EFAULT, ENOENT, ENOMEM, EOVERFLOW, EBUSY, 0
};

/* The extensible-structure rules of the VFIO ioctls of drivers/vfio/ioasid.c */
static const int vfio_errnos[] = { EINVAL, E2BIG, EOPNOTSUPP, EFAULT, ENOMEM, 0 };

static const struct fz_kind {
	const char *name;
	bool positive;		/* a positive return is an answer */
	const int *common;	/* what may come back: these, */
	int errnos[8];		/* and these, 0-terminated */
} kinds[NKINDS] = {
	[K_INFO] = { "IOASID_INFO", false, common_errnos },
	[K_DESTROY] = { "IOASID_DESTROY", false, common_errnos },
	[K_ALLOC] = { "IOASID_ALLOC", false, common_errnos },
	[K_RANGES] = { "IOASID_IOVA_RANGES", false, common_errnos,
		       { EMSGSIZE } },
	/* EINTR, EAGAIN: errors of pinning itself */
	[K_MAP] = { "IOASID_MAP", false, common_errnos,
		    { EEXIST, ERANGE, EINTR, EAGAIN } },
	[K_UNMAP] = { "IOASID_UNMAP", false, common_errnos },
	[K_EVENTQ] = { "IOASID_EVENTQ_ALLOC", false, common_errnos,
		       { EMFILE, ENFILE } },
	[K_DEVINFO] = { "IOASID_DEVICE_INFO", false, common_errnos,
			{ EMSGSIZE } },
	[K_BATCH] = { "IOASID_BATCH", false, common_errnos,
		      { EEXIST, ERANGE, EINTR, EAGAIN } },
	[K_BAD_NR] = { "unknown ioctl", false, NULL, { ENOTTY } },
	/* Another kind of file, or a closed one */
	[K_WRONG_FD] = { "ioctl on a wrong fd", false, NULL, { ENOTTY, EBADF } },
	/*
	 * IOASID_TEST: the kernel API's errnos for attach (iofd_device_attach;
	 * EINVAL is the mock IOMMU's refusal), the mock's for DMA (ENXIO:
	 * nothing there, EPERM: no permission), ENODEV for a mock device
	 * the IOMMU core would not take, EPERM for a memlock limit raised
	 * without CAP_IPC_LOCK.
	 */
	[K_MOCK] = { "TEST_OP_MOCK_DEVICE", false, common_errnos, { ENODEV } },
	[K_ATTACH] = { "TEST_OP_ATTACH", false, common_errnos,
		       { EEXIST, EADDRINUSE } },
	[K_DETACH] = { "TEST_OP_DETACH", false, common_errnos },
	[K_CHECK_MAP] = { "TEST_OP_CHECK_MAP", false, common_errnos },
	[K_PINNED] = { "TEST_OP_PINNED", false, common_errnos },
	[K_DMA] = { "TEST_OP_DMA", false, common_errnos, { ENXIO, EPERM } },
	[K_DSTATS] = { "TEST_OP_DOMAIN_STATS", false, common_errnos },
	[K_ISTATS] = { "TEST_OP_IOASID_STATS", false, common_errnos },
	[K_MEMLOCK] = { "TEST_OP_MEMLOCK", false, common_errnos, { EPERM } },
	[K_INJECT] = { "TEST_OP_INJECT_FAULTS", false, common_errnos },
	[K_HOLD] = { "TEST_OP_ASYNC_HOLD", false, common_errnos },
	[K_BAD_OP] = { "IOASID_TEST, unknown op", false, NULL,
		       { EOPNOTSUPP, EINVAL, E2BIG, EFAULT } },
	/* read() of an event queue: whole records, or these */
	[K_READ] = { "read(eventq)", true, NULL, { EINVAL, EAGAIN, EFAULT } },
	[K_POLL] = { "poll(eventq)", true },
	[K_VBIND] = { "VFIO_GROUP_BIND_IOASID_FD", false, vfio_errnos,
		      { EBADF, EBADFD, EBUSY, EPERM, ENODEV } },
	[K_VUNBIND] = { "VFIO_GROUP_UNBIND_IOASID_FD", false, vfio_errnos,
			{ EBUSY } },
	/* VFIO's own ioctl: no container, no ioasid fd, or a wrong name */
	[K_VGETDEV] = { "VFIO_GROUP_GET_DEVICE_FD", true, NULL,
			{ EINVAL, EBUSY, ENODEV, ENOMEM, EPERM, ENOENT, EFAULT } },
	[K_VATTACH] = { "VFIO_DEVICE_ATTACH_IOASID", false, vfio_errnos,
			{ ENOENT, EEXIST, EBUSY, EADDRINUSE } },
	[K_VDETACH] = { "VFIO_DEVICE_DETACH_IOASID", false, vfio_errnos,
			{ ENOENT } },
};

struct fz_map {
	uint64_t iova;
	uint64_t len;
};

struct fz_ioasid {
	uint32_t id;
	int nmaps;
	/* A success the model could not record: no exact checks until emptied */
	bool lost;
	struct fz_map maps[MAX_MAPS];
};

struct fz_mock {
	uint32_t id;
	uint32_t ioasid;	/* 0: not attached */
	uint64_t label;
};

struct fz_queue {
	uint32_t id;		/* 0 once destroyed */
	int fd;
	uint64_t next_seq;	/* of the next record, once one was seen */
	bool seen;
};

/* What one ioasid fd holds, as far as the fuzzer knows */
struct fz_ctx {
	int fd;
	int nioasids, nmocks, nqueues, ndead;
	struct fz_ioasid ioasids[MAX_IOASIDS];
	struct fz_mock mocks[MAX_MOCKS];
	struct fz_queue queues[MAX_QUEUES];
	uint32_t dead[MAX_DEAD];
};

struct fz {
	uint64_t rng;
	bool mock;		/* IOASID_TEST is there */
	bool vfio;
	struct fz_ctx ctx[2];	/* [1] is the foreign fd */
	char *base, *arg, *ops, *ev, *ro, *hole, *buf;
	size_t arg_dirty;
	int closed_fd, null_fd, event_fd;
	/* VFIO: the edu's group and device */
	const char *bdf;
	int group_fd, dev_fd;
	int bound;		/* ctx index the group is bound to, or -1 */
	int edu_dmas;
	/* The results */
	uint64_t calls, ok, bad, other_errno;
	uint64_t hist[256];
	uint64_t kind_calls[NKINDS], kind_ok[NKINDS];
	uint8_t last_in[256];
	size_t last_len;
};

/* xorshift64*: small, and the same everywhere */
static uint64_t rnd(struct fz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct fz *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

static bool chance(struct fz *f, unsigned int pct)
{
	return below(f, 100) < pct;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	uint64_t v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	return errno || *end ? def : v;
}

static bool debug_kernel(void)
{
	return !access("/sys/kernel/debug/kmemleak", F_OK);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *errno_name(int err)
{
	static const struct { int err; const char *name; } names[] = {
#define N(e) { e, #e }
		N(EPERM), N(ENOENT), N(EINTR), N(ENXIO), N(E2BIG), N(EBADF),
		N(EAGAIN), N(ENOMEM), N(EFAULT), N(EBUSY), N(EEXIST),
		N(ENODEV), N(EINVAL), N(ENFILE), N(EMFILE), N(ENOTTY),
		N(ERANGE), N(EOVERFLOW), N(EBADFD), N(EMSGSIZE),
		N(EOPNOTSUPP), N(EADDRINUSE), N(ETIMEDOUT), N(ENOSPC),
		N(EIO), N(EACCES), N(ENOSYS), N(ESRCH),
#undef N
	};
	static char other[16];
	size_t i;

	for (i = 0; i != ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(other, sizeof(other), "errno %d", err);
	return other;
}

static void fz_bad(struct fz *f, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	f->bad++;
	if (f->bad > MAX_BAD_PRINTED)
		return;
	printf("# FUZZ FAILURE at call %llu: ", (unsigned long long)f->calls);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n#   argument as passed (%zu bytes):", f->last_len);
	for (i = 0; i != f->last_len; i++)
		printf("%s%02x", i % 32 ? "" : "\n#   ", f->last_in[i]);
	printf("\n");
	fflush(stdout);
}

/* Count the result of a call of @kind; complain if the uAPI forbids it */
static void fz_record(struct fz *f, int kind, long rc, int err)
{
	const int *e;

	f->calls++;
	f->kind_calls[kind]++;
	if (rc >= 0) {
		f->ok++;
		f->kind_ok[kind]++;
		if (rc > 0 && !kinds[kind].positive)
			fz_bad(f, "%s returned %ld", kinds[kind].name, rc);
		return;
	}
	if (err > 0 && err < (int)ARRAY_SIZE(f->hist))
		f->hist[err]++;
	else
		f->other_errno++;
	for (e = kinds[kind].common; e && *e; e++)
		if (*e == err)
			return;
	for (e = kinds[kind].errnos; *e; e++)
		if (*e == err)
			return;
	fz_bad(f, "%s failed with %s (%d), which it does not document",
	       kinds[kind].name, errno_name(err), err);
}

/* Remember the argument as passed, for the report of a failure */
static void fz_note(struct fz *f, const void *arg, size_t len)
{
	f->last_len = 0;
	if (arg != f->arg)
		return;
	len = len < sizeof(f->last_in) ? len : sizeof(f->last_in);
	memcpy(f->last_in, arg, len);
	f->last_len = len;
}

static int fz_ioctl(struct fz *f, int kind, int fd, unsigned long req,
		    void *arg, size_t len)
{
	int rc, err;

	fz_note(f, arg, len);
	rc = ioctl(fd, req, arg);
	err = rc < 0 ? errno : 0;
	fz_record(f, kind, rc, err);
	errno = err;
	return rc;
}

/* A clean argument area for a structure of @len bytes */
static void *arg_begin(struct fz *f, size_t len)
{
	memset(f->arg, 0, f->arg_dirty);
	f->arg_dirty = len;
	return f->arg;
}

/*
 * The size to pass for a structure of @exact bytes whose first release
 * was @min: mostly exact; else 0, one short, the first release, a zero
 * or non-zero tail of 8 bytes, a page, 64KiB (the end of the area),
 * past the area, or anything.
 */
static uint32_t fz_size(struct fz *f, uint32_t min, uint32_t exact)
{
	uint32_t size;

	switch (below(f, 40)) {
	case 0:
		return 0;
	case 1:
		return min - 1;
	case 2:
		return min;
	case 3:
		size = exact + 8;
		break;
	case 4:
		size = PAGE;
		break;
	case 5:
		return ARG_SIZE;
	case 6:
		return chance(f, 50) ? UINT32_MAX : ARG_SIZE + PAGE;
	case 7:
		return below(f, exact + 16);
	default:
		return exact;
	}
	/* A non-zero byte where the kernel knows no field: E2BIG */
	if (chance(f, 40)) {
		uint32_t at = exact + below(f, size - exact);

		f->arg[at] = 1 + below(f, 255);
		if (at + 1 > f->arg_dirty)
			f->arg_dirty = at + 1;
	}
	return size;
}

/* The argument pointer: almost always the area, sometimes not memory */
static void *fz_argp(struct fz *f)
{
	switch (below(f, 100)) {
	case 0:
		return NULL;
	case 1:
		return f->hole;
	case 2:
		return (void *)-PAGE;
	default:
		return f->arg;
	}
}

/* Flags: mostly @valid, sometimes an unknown bit, rarely anything */
static uint32_t fz_flags(struct fz *f, uint32_t valid)
{
	switch (below(f, 20)) {
	case 0:
		return valid | 1U << below(f, 32);
	case 1:
		return rnd(f);
	default:
		return valid;
	}
}

static uint32_t fz_reserved(struct fz *f)
{
	return chance(f, 4) ? 1 + below(f, UINT32_MAX) : 0;
}

/* The model */

static struct fz_ioasid *find_ioasid(struct fz_ctx *c, uint32_t id)
{
	int i;

	for (i = 0; i != c->nioasids; i++)
		if (c->ioasids[i].id == id)
			return &c->ioasids[i];
	return NULL;
}

static struct fz_mock *find_mock(struct fz_ctx *c, uint32_t id)
{
	int i;

	for (i = 0; i != c->nmocks; i++)
		if (c->mocks[i].id == id)
			return &c->mocks[i];
	return NULL;
}

static struct fz_queue *find_queue(struct fz_ctx *c, uint32_t id)
{
	int i;

	for (i = 0; i != c->nqueues; i++)
		if (id && c->queues[i].id == id)
			return &c->queues[i];
	return NULL;
}

static bool is_object(struct fz_ctx *c, uint32_t id)
{
	return find_ioasid(c, id) || find_mock(c, id) || find_queue(c, id);
}

static void add_dead(struct fz_ctx *c, uint32_t id)
{
	if (c->ndead == MAX_DEAD)
		memmove(c->dead, c->dead + 1, --c->ndead * sizeof(c->dead[0]));
	c->dead[c->ndead++] = id;
}

enum { T_IOASID, T_MOCK, T_QUEUE };

/* An object ID: mostly a live one of @type, else stale, foreign or made up */
static uint32_t pick_id(struct fz *f, struct fz_ctx *c, int type)
{
	struct fz_ctx *other = &f->ctx[c == &f->ctx[0]];

	if (chance(f, 80)) {
		if (type == T_IOASID && c->nioasids)
			return c->ioasids[below(f, c->nioasids)].id;
		if (type == T_MOCK && c->nmocks)
			return c->mocks[below(f, c->nmocks)].id;
		if (type == T_QUEUE && c->nqueues) {
			uint32_t id = c->queues[below(f, c->nqueues)].id;

			if (id)
				return id;
		}
	}
	switch (below(f, 8)) {
	case 0:
		return 0;
	case 1:
		return c->ndead ? c->dead[below(f, c->ndead)] : 0;
	case 2:
		return c->nioasids ? c->ioasids[below(f, c->nioasids)].id : 1;
	case 3:
		return c->nmocks ? c->mocks[below(f, c->nmocks)].id : 2;
	case 4:
		return c->nqueues ? c->queues[below(f, c->nqueues)].id : 3;
	case 5:
		return other->nioasids ? other->ioasids[0].id : 4;
	case 6:
		return chance(f, 50) ? UINT32_MAX : 1U << 31;
	default:
		return 1 + below(f, 64);
	}
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* A MAP succeeded: it must not overlap what the model has mapped */
static void model_map(struct fz *f, struct fz_ctx *c, uint32_t id,
		      uint64_t iova, uint64_t len)
{
	struct fz_ioasid *io = find_ioasid(c, id);
	int i;

	if (!io) {
		fz_bad(f, "MAP succeeded on ID %u, which is no IOASID", id);
		return;
	}
	for (i = 0; i != io->nmaps && !io->lost; i++)
		if (overlaps(iova, len, io->maps[i].iova, io->maps[i].len))
			fz_bad(f, "MAP [%#llx +%#llx] in IOASID %u succeeded over [%#llx +%#llx]",
			       (unsigned long long)iova, (unsigned long long)len,
			       id, (unsigned long long)io->maps[i].iova,
			       (unsigned long long)io->maps[i].len);
	if (io->nmaps == MAX_MAPS) {
		io->lost = true;
		return;
	}
	io->maps[io->nmaps++] = (struct fz_map){ iova, len };
}

/*
 * An UNMAP of [iova, last] succeeded and said @unmapped bytes: the
 * model's mappings in the range go, and they must add up to that.
 */
static void model_unmap(struct fz *f, struct fz_ctx *c, uint32_t id,
			uint64_t iova, uint64_t last, uint64_t unmapped)
{
	struct fz_ioasid *io = find_ioasid(c, id);
	uint64_t sum = 0;
	int i;

	if (!io) {
		fz_bad(f, "UNMAP succeeded on ID %u, which is no IOASID", id);
		return;
	}
	for (i = 0; i != io->nmaps;) {
		struct fz_map *m = &io->maps[i];

		if (m->iova >= iova && m->iova + (m->len - 1) <= last) {
			sum += m->len;
			*m = io->maps[--io->nmaps];
		} else {
			i++;
		}
	}
	if (!io->lost && sum != unmapped)
		fz_bad(f, "UNMAP [%#llx, %#llx] of IOASID %u: %#llx bytes, the model %#llx",
		       (unsigned long long)iova, (unsigned long long)last, id,
		       (unsigned long long)unmapped, (unsigned long long)sum);
	if (iova == 0 && last == UINT64_MAX) {
		io->nmaps = 0;
		io->lost = false;
	}
}

static void model_destroy(struct fz *f, struct fz_ctx *c, uint32_t id)
{
	struct fz_ioasid *io = find_ioasid(c, id);
	struct fz_mock *m = find_mock(c, id);
	struct fz_queue *q = find_queue(c, id);
	int i;

	if (io) {
		for (i = 0; i != c->nmocks; i++)
			if (c->mocks[i].ioasid == id)
				fz_bad(f, "DESTROY of IOASID %u succeeded, mock %u attached",
				       id, c->mocks[i].id);
		*io = c->ioasids[--c->nioasids];
	} else if (m) {
		*m = c->mocks[--c->nmocks];
	} else if (q) {
		/* Its fd stays, to read what is left and then end of file */
		q->id = 0;
	} else {
		fz_bad(f, "DESTROY succeeded on ID %u, which is no object", id);
		return;
	}
	add_dead(c, id);
}

/* Where to map: an IOVA range MAP may accept, learnt from IOVA_RANGES */
/* On the stack: the call being built in the area is not touched */
static bool usable_range(struct fz *f, struct fz_ctx *c, uint32_t id,
			 struct ioasid_iova_range *out)
{
	struct ioasid_iova_range ranges[8];
	struct ioasid_iova_ranges r = {
		.size = sizeof(r),
		.ioasid = id,
		.num_ranges = 8,
		.ranges = (uintptr_t)ranges,
	};
	uint32_t n;

	if (fz_ioctl(f, K_RANGES, c->fd, IOASID_IOVA_RANGES, &r, sizeof(r)))
		return false;
	n = r.num_ranges;
	if (!n)
		return false;
	*out = ranges[below(f, n < 8 ? n : 8)];
	return true;
}

/* A user address and length for a MAP: mostly within the buffer */
static void pick_uva(struct fz *f, __u64 *va, __u64 *len)
{
	uint64_t off = below(f, BUF_PAGES);
	uint64_t n = 1 + below(f, BUF_PAGES - off < 16 ? BUF_PAGES - off : 16);

	*va = (uintptr_t)f->buf + off * PAGE;
	*len = n * PAGE;
	switch (below(f, 30)) {
	case 0:
		*va = (uintptr_t)f->ro;
		*len = (1 + below(f, RO_PAGES)) * PAGE;
		break;
	case 1:
		*va = (uintptr_t)f->hole;
		break;
	case 2:
		*va = 0;
		break;
	case 3:
		*va = -*len;
		break;
	case 4:
		*va = -PAGE;
		break;
	case 5:
		*va += 1 + below(f, PAGE - 1);
		break;
	case 6:
		*len = (BUF_PAGES - off + 1) * PAGE;
		break;
	case 7:
		*len = 0;
		break;
	case 8:
		*len += 1 + below(f, PAGE - 1);
		break;
	case 9:
		*len = 1ULL << (32 + below(f, 32));
		break;
	default:
		break;
	}
}

/* A fixed IOVA for @len bytes: free, at the edges of a range, or not valid */
static uint64_t pick_iova(struct fz *f, struct fz_ctx *c, uint32_t id,
			  uint64_t len)
{
	struct fz_ioasid *io = find_ioasid(c, id);
	struct ioasid_iova_range r = { 0, UINT64_MAX };
	uint64_t span;

	if (io && chance(f, 70))
		usable_range(f, c, id, &r);
	span = r.last - r.start;
	switch (below(f, 16)) {
	case 0:
		return r.start;
	case 1:
		return r.last - len + 1;
	case 2:
		return r.last - len + 1 + PAGE;
	case 3:
		return r.start - PAGE;
	case 4:
		return 0;
	case 5:
		return -len;
	case 6:
		return -PAGE;
	case 7:
		return (r.start & ~(PAGE - 1)) + 1 + below(f, PAGE - 1);
	case 8:
		if (io && io->nmaps) {
			struct fz_map *m = &io->maps[below(f, io->nmaps)];

			return m->iova + PAGE * below(f, m->len / PAGE + 1);
		}
		return r.start;
	default:
		/* The first 64MiB of the range, where mappings meet */
		span = span < (64UL << 20) ? span : (64UL << 20);
		return (r.start + below(f, span / PAGE + 1) * PAGE) &
		       ~(PAGE - 1);
	}
}

/* The ioctls */

static void op_info(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_info *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	if (fz_ioctl(f, K_INFO, c->fd, IOASID_INFO, p, sizeof(*cmd)) || p != f->arg)
		return;
	if (cmd->size >= offsetofend(struct ioasid_info, out_capabilities) &&
	    (cmd->out_api_version != IOASID_API_VERSION ||
	     cmd->out_capabilities & ~(uint64_t)(IOASID_CAP_TEST |
						 IOASID_CAP_EVENTS |
						 IOASID_CAP_BATCH)))
		fz_bad(f, "IOASID_INFO said version %u, capabilities %#llx",
		       cmd->out_api_version,
		       (unsigned long long)cmd->out_capabilities);
}

static void op_alloc(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_alloc *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);
	uint32_t id;

	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	if (fz_ioctl(f, K_ALLOC, c->fd, IOASID_ALLOC, p, sizeof(*cmd)))
		return;
	id = cmd->out_ioasid;
	if (!id || is_object(c, id)) {
		fz_bad(f, "IOASID_ALLOC gave ID %u, which is 0 or in use", id);
		return;
	}
	if (c->nioasids == MAX_IOASIDS) {
		/* No room in the model: give it back */
		if (_test_destroy(c->fd, id))
			fz_bad(f, "cannot destroy the new IOASID %u", id);
		return;
	}
	c->ioasids[c->nioasids++] = (struct fz_ioasid){ .id = id };
}

static void op_destroy(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_destroy *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	cmd->id = pick_id(f, c, below(f, 3));
	if (!fz_ioctl(f, K_DESTROY, c->fd, IOASID_DESTROY, p, sizeof(*cmd)))
		model_destroy(f, c, cmd->id);
}

static void op_iova_ranges(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_iova_ranges *cmd = arg_begin(f, sizeof(*cmd));
	struct ioasid_iova_range *ranges = (void *)(f->arg + 1024);
	void *p = fz_argp(f);
	uint32_t i, n;

	cmd->size = fz_size(f, offsetofend(struct ioasid_iova_ranges,
					   out_iova_alignment), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->ioasid = pick_id(f, c, T_IOASID);
	cmd->num_ranges = chance(f, 90) ? below(f, 5) : rnd(f);
	switch (below(f, 10)) {
	case 0:
		cmd->ranges = 0;
		break;
	case 1:
		cmd->ranges = (uintptr_t)f->hole;
		break;
	case 2:
		cmd->ranges = (uintptr_t)f->ro;
		break;
	default:
		cmd->ranges = (uintptr_t)ranges;
		break;
	}
	if (f->arg_dirty < 1024 + 4 * sizeof(*ranges))
		f->arg_dirty = 1024 + 4 * sizeof(*ranges);
	if (fz_ioctl(f, K_RANGES, c->fd, IOASID_IOVA_RANGES, p, sizeof(*cmd)) ||
	    p != f->arg || cmd->ranges != (uintptr_t)ranges)
		return;
	n = cmd->num_ranges < 4 ? cmd->num_ranges : 4;
	for (i = 0; i != n; i++)
		if (ranges[i].start > ranges[i].last ||
		    (i && ranges[i].start <= ranges[i - 1].last))
			fz_bad(f, "IOVA_RANGES gave range %u [%#llx, %#llx] out of order",
			       i, (unsigned long long)ranges[i].start,
			       (unsigned long long)ranges[i].last);
	if (cmd->out_iova_alignment != PAGE)
		fz_bad(f, "IOVA_RANGES gave alignment %#llx",
		       (unsigned long long)cmd->out_iova_alignment);
}

static uint32_t map_flags(struct fz *f)
{
	static const uint32_t rw[] = {
		IOASID_MAP_READ, IOASID_MAP_WRITE,
		IOASID_MAP_READ | IOASID_MAP_WRITE,
		IOASID_MAP_READ | IOASID_MAP_WRITE,
	};
	uint32_t flags = rw[below(f, 4)];

	if (chance(f, 65))
		flags |= IOASID_MAP_FIXED_IOVA;
	if (chance(f, 2))
		flags &= ~(IOASID_MAP_READ | IOASID_MAP_WRITE);
	return fz_flags(f, flags);
}

static void op_map(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_map *cmd = arg_begin(f, sizeof(*cmd));
	struct ioasid_map eff;
	void *p = fz_argp(f);
	__u64 va, len;

	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = map_flags(f);
	cmd->ioasid = pick_id(f, c, T_IOASID);
	cmd->__reserved = fz_reserved(f);
	pick_uva(f, &va, &len);
	cmd->user_va = va;
	cmd->length = len;
	cmd->iova = (cmd->flags & IOASID_MAP_FIXED_IOVA) || chance(f, 10) ?
		    pick_iova(f, c, cmd->ioasid, len) : 0;
	if (fz_ioctl(f, K_MAP, c->fd, IOASID_MAP, p, sizeof(*cmd)) ||
	    p != f->arg)
		return;
	eff = *cmd;
	if (eff.size < sizeof(eff))
		memset((char *)&eff + eff.size, 0, sizeof(eff) - eff.size);
	model_map(f, c, eff.ioasid, eff.iova, eff.length);
}

static void op_unmap(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_unmap *cmd = arg_begin(f, sizeof(*cmd));
	struct fz_ioasid *io;
	struct ioasid_unmap eff;
	void *p = fz_argp(f);
	uint32_t flags = 0;

	cmd->size = fz_size(f, offsetofend(struct ioasid_unmap, out_length),
			    sizeof(*cmd));
	cmd->ioasid = pick_id(f, c, T_IOASID);
	io = find_ioasid(c, cmd->ioasid);
	if (chance(f, 15))
		flags |= IOASID_UNMAP_ALL;
	if (chance(f, 25))
		flags |= IOASID_UNMAP_ASYNC;
	else if (chance(f, 10))
		flags = IOASID_UNMAP_COMPLETE_ASYNC;
	cmd->flags = fz_flags(f, flags);
	cmd->__reserved = fz_reserved(f);
	if (flags & IOASID_UNMAP_ASYNC || chance(f, 3))
		cmd->cookie = rnd(f);
	if (!(flags & IOASID_UNMAP_ALL) || chance(f, 5)) {
		if (io && io->nmaps && chance(f, 80)) {
			struct fz_map *m = &io->maps[below(f, io->nmaps)];

			cmd->iova = m->iova;
			cmd->length = m->len;
			switch (below(f, 8)) {
			case 0:
				cmd->length += PAGE;
				break;
				/* and past it */
			case 1:
				cmd->iova -= PAGE;
				cmd->length += 2 * PAGE;
				break;
			case 2:
				cmd->length = PAGE;
				break;
				/* a split when longer */
			case 3:
				cmd->length = 16UL << 20;
				break;
			default:
				break;
			}
		} else {
			cmd->iova = pick_iova(f, c, cmd->ioasid, PAGE);
			cmd->length = chance(f, 80) ? PAGE * (1 + below(f, 32)) :
				      rnd(f);
		}
	}
	if (fz_ioctl(f, K_UNMAP, c->fd, IOASID_UNMAP, p, sizeof(*cmd)) ||
	    p != f->arg)
		return;
	eff = *cmd;
	if (eff.size < sizeof(eff))
		memset((char *)&eff + eff.size, 0, sizeof(eff) - eff.size);
	/* Completing what is pending changes no mapping of the model's */
	if (eff.flags & IOASID_UNMAP_COMPLETE_ASYNC)
		return;
	if (eff.flags & IOASID_UNMAP_ALL)
		model_unmap(f, c, eff.ioasid, 0, UINT64_MAX, eff.out_length);
	else
		model_unmap(f, c, eff.ioasid, eff.iova,
			    eff.iova + eff.length - 1, eff.out_length);
}

static void op_eventq(struct fz *f, struct fz_ctx *c)
{
	static const uint64_t masks[] = {
		IOASID_EVENT_MASK(IOASID_EVENT_FAULT),
		IOASID_EVENT_MASK(IOASID_EVENT_INVAL),
		EVENTS_ALL, EVENTS_ALL,
	};
	struct ioasid_eventq_alloc *cmd;
	struct fz_queue *q;
	void *p;
	int i;

	/* Room first: the oldest queue goes, its fd and its ID */
	if (c->nqueues == MAX_QUEUES) {
		q = &c->queues[0];
		close(q->fd);
		if (q->id && _test_destroy(c->fd, q->id))
			fz_bad(f, "cannot destroy event queue %u", q->id);
		else if (q->id)
			add_dead(c, q->id);
		memmove(c->queues, c->queues + 1,
			--c->nqueues * sizeof(c->queues[0]));
	}
	cmd = arg_begin(f, sizeof(*cmd));
	p = fz_argp(f);
	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, chance(f, 50) ? IOASID_EVENTQ_NONBLOCK : 0);
	cmd->ioasid = chance(f, 50) ? 0 : pick_id(f, c, T_IOASID);
	/* Small queues overflow: their LOST records get exercised */
	switch (below(f, 12)) {
	case 0:
		cmd->depth = 0;
		break;
	case 1:
		cmd->depth = IOASID_EVENTQ_MAX_DEPTH + below(f, 2);
		break;
	case 2:
		cmd->depth = rnd(f);
		break;
	case 3:
	case 4:
	case 5:
		cmd->depth = 1 + below(f, 2);
		break;
	default:
		cmd->depth = 1 + below(f, 32);
		break;
	}
	cmd->event_mask = chance(f, 90) ? masks[below(f, 4)] :
			  chance(f, 50) ? 0 : rnd(f);
	cmd->out_fd = -1;
	if (fz_ioctl(f, K_EVENTQ, c->fd, IOASID_EVENTQ_ALLOC, p, sizeof(*cmd)) ||
	    p != f->arg)
		return;
	if (cmd->out_fd < 0 || !cmd->out_eventq_id ||
	    is_object(c, cmd->out_eventq_id)) {
		fz_bad(f, "EVENTQ_ALLOC gave fd %d, ID %u", cmd->out_fd,
		       cmd->out_eventq_id);
		return;
	}
	for (i = 0; i != c->nqueues; i++)
		if (c->queues[i].fd == cmd->out_fd)
			fz_bad(f, "EVENTQ_ALLOC gave fd %d twice", cmd->out_fd);
	c->queues[c->nqueues++] = (struct fz_queue){
		.id = cmd->out_eventq_id, .fd = cmd->out_fd,
	};
}

/* Mostly a few small ones, which collide; sometimes 0, which is refused */
static uint64_t pick_label(struct fz *f)
{
	if (chance(f, 3))
		return 0;
	return chance(f, 90) ? 1 + below(f, 6) : rnd(f);
}

static void op_device_info(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_device_info *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	cmd->label = c->nmocks && chance(f, 60) ?
		     c->mocks[below(f, c->nmocks)].label : pick_label(f);
	cmd->num_reserved = chance(f, 90) ? below(f, 4) : rnd(f);
	switch (below(f, 8)) {
	case 0:
		cmd->reserved = 0;
		break;
	case 1:
		cmd->reserved = (uintptr_t)f->hole;
		break;
	default:
		cmd->reserved = (uintptr_t)f->arg + 1024;
		break;
	}
	if (f->arg_dirty < 1024 + 3 * 16)
		f->arg_dirty = 1024 + 3 * 16;
	fz_ioctl(f, K_DEVINFO, c->fd, IOASID_DEVICE_INFO, p, sizeof(*cmd));
}

/*
 * A valid operation of a batch, as far as the model knows: a MAP of the
 * buffer at a kernel-chosen IOVA or in a usable range, or an UNMAP of a
 * mapping
 */
static bool batch_op_clean(struct fz *f, struct fz_ctx *c,
			   struct ioasid_batch_op *op)
{
	struct ioasid_iova_range r;
	struct fz_ioasid *io;
	uint64_t off;

	if (!c->nioasids)
		return false;
	io = &c->ioasids[below(f, c->nioasids)];
	op->ioasid = io->id;
	if (io->nmaps && chance(f, 45)) {
		struct fz_map *m = &io->maps[below(f, io->nmaps)];

		op->op = IOASID_BATCH_UNMAP;
		op->iova = m->iova;
		op->length = m->len;
		return true;
	}
	off = below(f, BUF_PAGES);
	op->op = IOASID_BATCH_MAP;
	op->flags = IOASID_MAP_READ | IOASID_MAP_WRITE;
	op->user_va = (uintptr_t)f->buf + off * PAGE;
	op->length = PAGE * (1 + below(f, BUF_PAGES - off));
	if (chance(f, 50) && usable_range(f, c, io->id, &r) &&
	    r.last - r.start >= op->length) {
		uint64_t span = r.last - r.start - op->length + 1;

		span = span < (64UL << 20) ? span : (64UL << 20);
		op->flags |= IOASID_MAP_FIXED_IOVA;
		op->iova = ((r.start + PAGE - 1) & ~(PAGE - 1)) +
			   PAGE * below(f, span / PAGE);
	}
	return true;
}

/* One operation of a batch: valid, or nearly */
static void batch_op(struct fz *f, struct fz_ctx *c, struct ioasid_batch_op *op)
{
	struct fz_ioasid *io;

	memset(op, 0, sizeof(*op));
	if (chance(f, 75) && batch_op_clean(f, c, op))
		return;
	op->ioasid = pick_id(f, c, T_IOASID);
	io = find_ioasid(c, op->ioasid);
	op->__reserved = fz_reserved(f);
	if (chance(f, 55)) {
		op->op = IOASID_BATCH_MAP;
		op->flags = map_flags(f);
		pick_uva(f, &op->user_va, &op->length);
		if (op->flags & IOASID_MAP_FIXED_IOVA)
			op->iova = pick_iova(f, c, op->ioasid, op->length);
	} else {
		op->op = IOASID_BATCH_UNMAP;
		op->flags = chance(f, 15) ? IOASID_UNMAP_ALL : 0;
		if (chance(f, 5))
			op->flags = fz_flags(f, op->flags | IOASID_UNMAP_ASYNC);
		if (!(op->flags & IOASID_UNMAP_ALL)) {
			if (io && io->nmaps && chance(f, 80)) {
				struct fz_map *m = &io->maps[below(f, io->nmaps)];

				op->iova = m->iova;
				op->length = chance(f, 85) ? m->len : PAGE;
			} else {
				op->iova = pick_iova(f, c, op->ioasid, PAGE);
				op->length = PAGE * (1 + below(f, 8));
			}
		}
		if (chance(f, 3))
			op->user_va = PAGE;
	}
	if (chance(f, 3))
		op->op = below(f, 2) ? 0 : rnd(f);
}

static void op_batch(struct fz *f, struct fz_ctx *c)
{
	const uint32_t op_min = offsetofend(struct ioasid_batch_op, out_length);
	uint32_t n = 1 + below(f, MAX_BATCH), stride, i;
	struct ioasid_batch *cmd;
	bool tail = false;
	void *p;

	switch (below(f, 24)) {
	case 0:
		stride = op_min - 8;
		break;
	case 1:
		stride = sizeof(struct ioasid_batch_op) + 8;
		break;
	case 2:
		stride = sizeof(struct ioasid_batch_op) + 8;
		tail = true;
		break;
	case 3:
		stride = 0;
		break;
	default:
		stride = sizeof(struct ioasid_batch_op);
		break;
	}
	memset(f->ops, 0, MAX_BATCH * (sizeof(struct ioasid_batch_op) + 8));
	for (i = 0; i != n; i++)
		batch_op(f, c, (void *)(f->ops + i * (stride ? stride :
						       sizeof(struct ioasid_batch_op))));
	if (tail)
		f->ops[(n - 1) * stride + sizeof(struct ioasid_batch_op)] = 1;
	cmd = arg_begin(f, sizeof(*cmd));
	p = fz_argp(f);
	cmd->size = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	cmd->op_size = stride;
	cmd->num_ops = chance(f, 97) ? n : chance(f, 50) ? 0 :
		       IOASID_BATCH_MAX_OPS + 1;
	switch (below(f, 40)) {
	case 0:
		cmd->ops = 0;
		break;
	case 1:
		cmd->ops = (uintptr_t)f->ro;
		break;
	case 2:
		cmd->ops = (uintptr_t)f->ops + OPS_SIZE - stride;
		break;
	default:
		cmd->ops = (uintptr_t)f->ops;
		break;
	}
	cmd->out_done = UINT32_MAX;
	if (fz_ioctl(f, K_BATCH, c->fd, IOASID_BATCH, p, sizeof(*cmd)) &&
	    cmd->out_done == UINT32_MAX)
		return;
	if (p != f->arg || cmd->ops != (uintptr_t)f->ops || !stride)
		return;
	if (cmd->out_done > cmd->num_ops) {
		fz_bad(f, "BATCH did %u of %u", cmd->out_done, cmd->num_ops);
		return;
	}
	for (i = 0; i != cmd->out_done; i++) {
		struct ioasid_batch_op op;

		memcpy(&op, f->ops + i * stride, sizeof(op));
		if (stride < sizeof(op))
			memset((char *)&op + stride, 0, sizeof(op) - stride);
		if (op.op == IOASID_BATCH_MAP)
			model_map(f, c, op.ioasid, op.iova, op.length);
		else if (op.flags & IOASID_UNMAP_ALL)
			model_unmap(f, c, op.ioasid, 0, UINT64_MAX,
				    op.out_length);
		else
			model_unmap(f, c, op.ioasid, op.iova,
				    op.iova + op.length - 1, op.out_length);
	}
}

static void op_bad_nr(struct fz *f, struct fz_ctx *c)
{
	unsigned long nr;

	switch (below(f, 4)) {
	case 0:
		nr = _IO(IOASID_FD_TYPE, IOASID_CMD_BATCH + 1 + below(f, 0x30));
		break;
	case 1:
		nr = _IOWR(IOASID_FD_TYPE, below(f, 9), struct ioasid_map);
		break;
	case 2:
		nr = _IO(IOASID_FD_TYPE + 1, below(f, 9));
		break;
	default:
		nr = _IO(IOASID_FD_TYPE, 0x40 + below(f, 0xc0));
		break;
	}
	arg_begin(f, 64);
	*(uint32_t *)f->arg = 64;
	fz_ioctl(f, K_BAD_NR, c->fd, nr, f->arg, 64);
}

/* An ioasid ioctl on what is not an ioasid fd; a VFIO one on an ioasid fd */
static void op_wrong_fd(struct fz *f, struct fz_ctx *c)
{
	static const unsigned long nrs[] = {
		IOASID_INFO, IOASID_ALLOC, IOASID_MAP, IOASID_TEST,
		VFIO_DEVICE_ATTACH_IOASID, VFIO_GROUP_BIND_IOASID_FD,
	};
	int fds[6] = { f->closed_fd, f->null_fd, f->event_fd, c->fd, -1, -1 };
	unsigned long nr = nrs[below(f, ARRAY_SIZE(nrs))];
	int n = 3, fd;

	if (c->nqueues)
		fds[n++] = c->queues[below(f, c->nqueues)].fd;
	fd = fds[below(f, n)];
	/* The ioasid fd only gets the VFIO numbers, which are not its own */
	if (fd == c->fd && _IOC_TYPE(nr) == IOASID_FD_TYPE)
		fd = f->null_fd;
	arg_begin(f, 64);
	*(uint32_t *)f->arg = 64;
	fz_ioctl(f, K_WRONG_FD, fd, nr, f->arg, 64);
}

/* IOASID_TEST */

static struct ioasid_test_cmd *test_begin(struct fz *f, uint32_t op)
{
	struct ioasid_test_cmd *cmd = arg_begin(f, sizeof(*cmd));

	cmd->size = fz_size(f, offsetofend(struct ioasid_test_cmd, last),
			    sizeof(*cmd));
	cmd->op = op;
	cmd->__reserved = fz_reserved(f);
	return cmd;
}

static int test_call(struct fz *f, struct fz_ctx *c, int kind,
		     struct ioasid_test_cmd *cmd)
{
	return fz_ioctl(f, kind, c->fd, IOASID_TEST, fz_argp(f), sizeof(*cmd));
}

/* The call succeeded on the area: its results are there */
static bool test_ok(struct fz *f, int rc)
{
	return !rc && f->last_len;
}

static void op_mock(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd;
	uint32_t id;
	int rc;

	if (c->nmocks == MAX_MOCKS) {
		/* Room first: a mock device goes (and detaches) */
		struct fz_mock *m = &c->mocks[below(f, c->nmocks)];

		id = m->id;
		if (_test_destroy(c->fd, id)) {
			fz_bad(f, "cannot destroy mock device %u", id);
			return;
		}
		model_destroy(f, c, id);
	}
	cmd = test_begin(f, IOASID_TEST_OP_MOCK_DEVICE);
	cmd->mock_device.iommu = chance(f, 95) ? below(f, 2) : rnd(f);
	rc = test_call(f, c, K_MOCK, cmd);
	if (!test_ok(f, rc))
		return;
	id = cmd->mock_device.out_device_id;
	if (!id || is_object(c, id)) {
		fz_bad(f, "MOCK_DEVICE gave ID %u, which is 0 or in use", id);
		return;
	}
	c->mocks[c->nmocks++] = (struct fz_mock){ .id = id };
}

static void op_attach(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_ATTACH);
	struct fz_mock *m;
	int rc, i;

	cmd->id = pick_id(f, c, T_MOCK);
	cmd->attach.ioasid = pick_id(f, c, T_IOASID);
	cmd->attach.label = pick_label(f);
	cmd->attach.__reserved = fz_reserved(f);
	rc = test_call(f, c, K_ATTACH, cmd);
	if (rc || f->last_len == 0)
		return;
	/* The command as passed: sizes short of it mean zeroes */
	m = find_mock(c, cmd->id);
	if (!m || !find_ioasid(c, cmd->attach.ioasid)) {
		if (cmd->size >= offsetofend(struct ioasid_test_cmd, attach.label))
			fz_bad(f, "ATTACH of %u to %u succeeded", cmd->id,
			       cmd->attach.ioasid);
		return;
	}
	if (cmd->size < offsetofend(struct ioasid_test_cmd, attach.label))
		return;
	if (!cmd->attach.label)
		fz_bad(f, "ATTACH took label 0");
	/* Detached devices keep theirs: unique among all of them */
	for (i = 0; i != c->nmocks; i++)
		if (&c->mocks[i] != m &&
		    c->mocks[i].label == cmd->attach.label)
			fz_bad(f, "ATTACH gave label %#llx to a second device",
			       (unsigned long long)cmd->attach.label);
	m->ioasid = cmd->attach.ioasid;
	m->label = cmd->attach.label;
}

static void op_detach(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_DETACH);
	struct fz_mock *m;

	cmd->id = pick_id(f, c, T_MOCK);
	if (test_call(f, c, K_DETACH, cmd) || f->last_len == 0)
		return;
	m = find_mock(c, cmd->id);
	if (!m || !m->ioasid)
		fz_bad(f, "DETACH of %u succeeded, %s", cmd->id,
		       m ? "not attached" : "no mock device");
	else
		m->ioasid = 0;
	/* A detached device keeps its label: its faults still carry it */
}

/* The mock's page tables must match what the model says is mapped */
static void op_check_map(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_CHECK_MAP);
	struct fz_ioasid *io;

	cmd->id = pick_id(f, c, T_IOASID);
	io = find_ioasid(c, cmd->id);
	if (io && io->nmaps && chance(f, 80)) {
		struct fz_map *m = &io->maps[below(f, io->nmaps)];

		cmd->check_map.iova = m->iova;
		cmd->check_map.length = m->len;
	} else {
		cmd->check_map.iova = pick_iova(f, c, cmd->id, PAGE);
		cmd->check_map.length = PAGE * below(f, 4);
	}
	/* Which memory is behind it is not modelled: only the errno counts */
	cmd->check_map.uptr = (uintptr_t)f->buf + PAGE * below(f, BUF_PAGES);
	test_call(f, c, K_CHECK_MAP, cmd);
}

static void op_pinned(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_PINNED);

	cmd->pinned.uptr = chance(f, 90) ? (uintptr_t)f->buf :
			   (uintptr_t)f->hole + below(f, 2);
	cmd->pinned.length = chance(f, 90) ? PAGE * below(f, BUF_PAGES + 2) :
			     rnd(f);
	test_call(f, c, K_PINNED, cmd);
}

static void op_dma(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_DMA);
	struct fz_mock *m;
	struct fz_ioasid *io;

	cmd->id = pick_id(f, c, T_MOCK);
	m = find_mock(c, cmd->id);
	io = m ? find_ioasid(c, m->ioasid) : NULL;
	if (io && io->nmaps && chance(f, 80)) {
		struct fz_map *map = &io->maps[below(f, io->nmaps)];

		cmd->dma.iova = map->iova + below(f, map->len);
		cmd->dma.length = 1 + below(f, 2 * PAGE);
	} else {
		cmd->dma.iova = chance(f, 50) ? pick_iova(f, c, 0, PAGE) : rnd(f);
		cmd->dma.length = chance(f, 90) ? 1 + below(f, PAGE) : rnd(f);
	}
	cmd->dma.uptr = chance(f, 95) ? (uintptr_t)f->ev : (uintptr_t)f->hole;
	cmd->dma.flags = fz_flags(f, chance(f, 50) ? IOASID_TEST_DMA_WRITE : 0);
	cmd->dma.__reserved = fz_reserved(f);
	test_call(f, c, K_DMA, cmd);
}

static void op_domain_stats(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_DOMAIN_STATS);

	cmd->id = pick_id(f, c, T_MOCK);
	cmd->domain_stats.flags = fz_flags(f, chance(f, 30) ?
					   IOASID_TEST_STATS_RESET : 0);
	cmd->domain_stats.__reserved = fz_reserved(f);
	if (test_ok(f, test_call(f, c, K_DSTATS, cmd)) &&
	    cmd->domain_stats.out_late_unpins)
		fz_bad(f, "mock device %u's page table saw %llu late unpins",
		       cmd->id,
		       (unsigned long long)cmd->domain_stats.out_late_unpins);
}

static void op_ioasid_stats(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_IOASID_STATS);

	cmd->id = pick_id(f, c, T_IOASID);
	test_call(f, c, K_ISTATS, cmd);
}

static void op_memlock(struct fz *f, struct fz_ctx *c, uint64_t cap)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_MEMLOCK);

	/* Setting it is for the fd's own limit: never above the cap, never 0 */
	cmd->memlock.flags = chance(f, 30) ? IOASID_TEST_MEMLOCK_SET : 0;
	if (chance(f, 5))
		cmd->memlock.flags |= 2;
	cmd->memlock.__reserved = fz_reserved(f);
	cmd->memlock.pages = cap - below(f, 64);
	test_call(f, c, K_MEMLOCK, cmd);
}

static void op_inject(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_INJECT_FAULTS);

	cmd->id = pick_id(f, c, T_MOCK);
	cmd->inject.iova = chance(f, 50) ? pick_iova(f, c, 0, PAGE) : rnd(f);
	switch (below(f, 20)) {
	case 0:
		cmd->inject.count = 0;
		break;
	case 1:
		cmd->inject.count = IOASID_TEST_MAX_INJECT + 1;
		break;
	case 2:
		cmd->inject.count = 300 + below(f, 300);
		break;
	default:
		cmd->inject.count = 1 + below(f, 16);
		break;
	}
	cmd->inject.flags = fz_flags(f, chance(f, 50) ? IOASID_TEST_INJECT_WRITE : 0);
	cmd->inject.__reserved = fz_reserved(f);
	test_call(f, c, K_INJECT, cmd);
}

static void op_hold(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, IOASID_TEST_OP_ASYNC_HOLD);

	cmd->async_hold.flags = fz_flags(f, chance(f, 50) ?
					 IOASID_TEST_ASYNC_HOLD : 0);
	cmd->async_hold.__reserved = fz_reserved(f);
	test_call(f, c, K_HOLD, cmd);
	/* Letting go completed them; the next ones are held again */
	if (_test_async_hold(c->fd, true))
		fz_bad(f, "cannot hold the async unmaps");
}

/*
 * IOASID_TEST_OP_BUSY is not fuzzed: it sleeps a minute, by design; nor
 * IOASID_TEST_OP_SKIP_IDS: used up, the ID space refuses every ALLOC
 */
static void op_bad_op(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd *cmd = test_begin(f, 0);

	cmd->op = chance(f, 50) ? 0 : IOASID_TEST_OP_SKIP_IDS + 1 +
				       below(f, 1000);
	test_call(f, c, K_BAD_OP, cmd);
}

/* Event queues: read() and poll() */

static void check_records(struct fz *f, struct fz_queue *q, ssize_t n)
{
	struct ioasid_event *ev = (void *)f->ev;
	ssize_t i;

	for (i = 0; i != n / IOASID_EVENT_SIZE; i++, ev++) {
		bool bad = ev->type < IOASID_EVENT_FAULT ||
			   ev->type > IOASID_EVENT_LOST || ev->__reserved;

		if (ev->type == IOASID_EVENT_FAULT)
			bad |= ev->fault.__reserved != 0;
		if (ev->type == IOASID_EVENT_INVAL)
			bad |= ev->inval.__reserved || ev->inval.last < ev->inval.iova;
		/* Consecutive, or a LOST record says how many are missing */
		if (q->seen && ev->seq != q->next_seq)
			bad = true;
		if (bad) {
			fz_bad(f, "event queue fd %d: bad record type %u seq %llu (expected %llu)",
			       q->fd, ev->type, (unsigned long long)ev->seq,
			       (unsigned long long)q->next_seq);
			q->seen = false;
			return;
		}
		q->next_seq = ev->seq + (ev->type == IOASID_EVENT_LOST ?
					 ev->lost.count : 1);
		q->seen = true;
	}
}

static void op_read(struct fz *f, struct fz_ctx *c)
{
	static const size_t sizes[] = {
		0, 1, IOASID_EVENT_SIZE - 1, IOASID_EVENT_SIZE,
		IOASID_EVENT_SIZE + 1, 2 * IOASID_EVENT_SIZE, 4096, EV_SIZE,
	};
	struct fz_queue *q;
	size_t len;
	void *to;
	ssize_t n;
	int fl;

	if (!c->nqueues)
		return;
	q = &c->queues[below(f, c->nqueues)];
	fl = fcntl(q->fd, F_GETFL);
	if (fl < 0) {
		fz_bad(f, "event queue fd %d is not open", q->fd);
		return;
	}
	/* Flip O_NONBLOCK now and then; a blocking read only of a ready queue */
	if (chance(f, 10))
		fcntl(q->fd, F_SETFL, fl ^ O_NONBLOCK);
	fl = fcntl(q->fd, F_GETFL);
	if (!(fl & O_NONBLOCK) && !(poll_now(q->fd) & (POLLIN | POLLHUP)))
		fcntl(q->fd, F_SETFL, fl | O_NONBLOCK);
	len = chance(f, 90) ? sizes[below(f, ARRAY_SIZE(sizes))] :
	      IOASID_EVENT_SIZE * below(f, 200);
	to = chance(f, 85) ? f->ev : chance(f, 50) ? NULL : (void *)f->ro;
	if (to == f->ev && len > EV_SIZE)
		len = EV_SIZE;
	f->last_len = 0;
	n = read(q->fd, to, len);
	fz_record(f, K_READ, n < 0 ? -1 : 0, n < 0 ? errno : 0);
	if (n < 0)
		return;
	if (n % IOASID_EVENT_SIZE || (size_t)n > len)
		fz_bad(f, "read(%zu) of event queue fd %d returned %zd", len,
		       q->fd, n);
	else if (to == f->ev)
		check_records(f, q, n);
}

static void op_poll(struct fz *f, struct fz_ctx *c)
{
	struct pollfd pfd;
	int rc;

	if (!c->nqueues)
		return;
	pfd.fd = c->queues[below(f, c->nqueues)].fd;
	pfd.events = chance(f, 80) ? POLLIN : rnd(f);
	pfd.revents = 0;
	f->last_len = 0;
	rc = poll(&pfd, 1, 0);
	fz_record(f, K_POLL, rc < 0 ? -1 : 0, rc < 0 ? errno : 0);
	if (rc > 0 && pfd.revents & ~(POLLIN | POLLRDNORM | POLLHUP))
		fz_bad(f, "poll of event queue fd %d said %#x", pfd.fd,
		       pfd.revents);
}

/* VFIO: the edu's group bound to one of the fds, its device attached */

static int pick_fd(struct fz *f)
{
	int fds[] = {
		f->ctx[0].fd, f->ctx[0].fd, f->ctx[0].fd, f->ctx[1].fd,
		f->closed_fd, f->null_fd, f->event_fd, f->group_fd, -1,
		f->ctx[0].nqueues ? f->ctx[0].queues[0].fd : 1,
	};

	return fds[below(f, ARRAY_SIZE(fds))];
}

static void op_vbind(struct fz *f)
{
	struct vfio_group_bind_ioasid_fd *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	cmd->argsz = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	cmd->ioasid_fd = pick_fd(f);
	if (fz_ioctl(f, K_VBIND, f->group_fd, VFIO_GROUP_BIND_IOASID_FD, p,
		     sizeof(*cmd)))
		return;
	if (f->bound >= 0)
		fz_bad(f, "a second BIND_IOASID_FD succeeded");
	else if (cmd->ioasid_fd == f->ctx[0].fd)
		f->bound = 0;
	else if (cmd->ioasid_fd == f->ctx[1].fd)
		f->bound = 1;
	else
		fz_bad(f, "BIND_IOASID_FD succeeded with fd %d", cmd->ioasid_fd);
}

static void op_vunbind(struct fz *f)
{
	struct vfio_group_unbind_ioasid_fd *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	cmd->argsz = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	if (fz_ioctl(f, K_VUNBIND, f->group_fd, VFIO_GROUP_UNBIND_IOASID_FD, p,
		     sizeof(*cmd)))
		return;
	if (f->bound < 0 || f->dev_fd >= 0)
		fz_bad(f, "UNBIND_IOASID_FD succeeded %s",
		       f->bound < 0 ? "unbound" : "with the device open");
	f->bound = -1;
}

/* Open the device fd, or close it (which detaches and unbinds it) */
static void op_vdevice(struct fz *f)
{
	const size_t name = 64;
	int fd;

	if (f->dev_fd >= 0) {
		close(f->dev_fd);
		f->dev_fd = -1;
		return;
	}
	arg_begin(f, name);
	snprintf(f->arg, name, "%s",
		 chance(f, 90) ? f->bdf : "0000:00:1f.7");
	fd = fz_ioctl(f, K_VGETDEV, f->group_fd, VFIO_GROUP_GET_DEVICE_FD,
		      f->arg, name);
	if (fd < 0)
		return;
	if (f->bound < 0)
		fz_bad(f, "GET_DEVICE_FD succeeded on an unbound group");
	f->dev_fd = fd;
}

static void op_vattach(struct fz *f)
{
	struct vfio_device_attach_ioasid *cmd;
	struct fz_ctx *c = &f->ctx[f->bound >= 0 ? f->bound : 0];
	int fd = f->dev_fd >= 0 ? f->dev_fd : f->group_fd;
	void *p;

	cmd = arg_begin(f, sizeof(*cmd));
	p = fz_argp(f);
	cmd->argsz = fz_size(f, offsetofend(struct vfio_device_attach_ioasid,
					    out_blocking_dev), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	cmd->__reserved = fz_reserved(f);
	cmd->ioasid = pick_id(f, c, T_IOASID);
	cmd->label = pick_label(f);
	if (fd == f->group_fd) {
		fz_ioctl(f, K_WRONG_FD, fd, VFIO_DEVICE_ATTACH_IOASID, p,
			 sizeof(*cmd));
		return;
	}
	fz_ioctl(f, K_VATTACH, fd, VFIO_DEVICE_ATTACH_IOASID, p, sizeof(*cmd));
}

static void op_vdetach(struct fz *f)
{
	struct vfio_device_detach_ioasid *cmd = arg_begin(f, sizeof(*cmd));
	void *p = fz_argp(f);

	if (f->dev_fd < 0)
		return;
	cmd->argsz = fz_size(f, sizeof(*cmd), sizeof(*cmd));
	cmd->flags = fz_flags(f, 0);
	fz_ioctl(f, K_VDETACH, f->dev_fd, VFIO_DEVICE_DETACH_IOASID, p,
		 sizeof(*cmd));
}

/* A real DMA of the edu, now and then: it takes 100ms of the device's time */
static void op_vdma(struct fz *f)
{
	struct edu_ctx e;
	uint64_t iova = PAGE * below(f, EDU_DMA_LIMIT / PAGE - 1);

	if (f->dev_fd < 0 || f->edu_dmas == MAX_EDU_DMA)
		return;
	f->edu_dmas++;
	edu_ctx_init(&e, BACKEND_IOASID);
	e.dev_fd = f->dev_fd;
	if (region_offset(e.dev_fd, VFIO_PCI_BAR0_REGION_INDEX, &e.bar0, NULL) ||
	    region_offset(e.dev_fd, VFIO_PCI_CONFIG_REGION_INDEX, &e.config,
			  NULL) || edu_enable_dma(&e) ||
	    edu_dma(&e, iova, 0, 64, chance(f, 50)))
		fz_bad(f, "the edu did not complete a DMA at %#llx",
		       (unsigned long long)iova);
}

/* The VFIO calls; without VFIO, their share goes to MAP */
static void op_vfio(struct fz *f, struct fz_ctx *c)
{
	unsigned int r = below(f, 100);

	if (!f->vfio)
		op_map(f, c);
	else if (r < 15)
		op_vbind(f);
	else if (r < 25)
		op_vunbind(f);
	else if (r < 45)
		op_vdevice(f);
	else if (r < 75)
		op_vattach(f);
	else if (r < 95)
		op_vdetach(f);
	else if (chance(f, 20))
		op_vdma(f);
}

/* One call, chosen by weight */
static void fz_step(struct fz *f, uint64_t memlock_cap)
{
	struct fz_ctx *c = &f->ctx[chance(f, 90) ? 0 : 1];
	unsigned int r = below(f, f->vfio ? 116 : 100);

	if (r < 2)
		op_info(f, c);
	else if (r < 6)
		op_alloc(f, c);
	else if (r < 9)
		op_destroy(f, c);
	else if (r < 13)
		op_iova_ranges(f, c);
	else if (r < 29)
		op_map(f, c);
	else if (r < 41)
		op_unmap(f, c);
	else if (r < 44)
		op_eventq(f, c);
	else if (r < 47)
		op_device_info(f, c);
	else if (r < 53)
		op_batch(f, c);
	else if (r < 54)
		op_bad_nr(f, c);
	else if (r < 55)
		op_wrong_fd(f, c);
	else if (r < 63)
		op_read(f, c);
	else if (r < 65)
		op_poll(f, c);
	else if (!f->mock || r >= 100)
		op_vfio(f, c);
	else if (r < 68)
		op_mock(f, c);
	else if (r < 76)
		op_attach(f, c);
	else if (r < 79)
		op_detach(f, c);
	else if (r < 82)
		op_check_map(f, c);
	else if (r < 84)
		op_pinned(f, c);
	else if (r < 89)
		op_dma(f, c);
	else if (r < 92)
		op_domain_stats(f, c);
	else if (r < 94)
		op_ioasid_stats(f, c);
	else if (r < 95)
		op_memlock(f, c, memlock_cap);
	else if (r < 97)
		op_inject(f, c);
	else if (r < 99)
		op_hold(f, c);
	else
		op_bad_op(f, c);
}

static void fz_print(struct fz *f, double secs)
{
	int i;

	printf("# calls: %llu\n", (unsigned long long)f->calls);
	printf("# seconds: %.1f\n", secs);
	printf("# ok: %llu\n", (unsigned long long)f->ok);
	for (i = 1; i != (int)ARRAY_SIZE(f->hist); i++)
		if (f->hist[i])
			printf("# errno %s: %llu\n", errno_name(i),
			       (unsigned long long)f->hist[i]);
	if (f->other_errno)
		printf("# errno other: %llu\n",
		       (unsigned long long)f->other_errno);
	for (i = 0; i != NKINDS; i++)
		if (f->kind_calls[i])
			printf("# %s: %llu calls, %llu ok\n", kinds[i].name,
			       (unsigned long long)f->kind_calls[i],
			       (unsigned long long)f->kind_ok[i]);
	fflush(stdout);
}

/* The memory every call points into, at a fixed address */
static int fz_map_memory(struct fz *f)
{
	size_t i;

	f->base = mmap((void *)FZ_BASE, FZ_SPAN, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		       MAP_FIXED_NOREPLACE, -1, 0);
	if (f->base != (void *)FZ_BASE)
		return -1;
	f->arg = f->base + ARG_OFF;
	f->ops = f->base + OPS_OFF;
	f->ev = f->base + EV_OFF;
	f->ro = f->base + RO_OFF;
	f->hole = f->base + HOLE_OFF;
	f->buf = f->base + BUF_OFF;
	if (mprotect(f->arg, ARG_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(f->ops, OPS_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(f->ev, EV_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(f->ro, RO_PAGES * PAGE, PROT_READ | PROT_WRITE) ||
	    mprotect(f->buf, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE))
		return -1;
	/* Small pages: a pin holds a whole folio */
	if (madvise(f->buf, BUF_PAGES * PAGE, MADV_NOHUGEPAGE))
		return -1;
	for (i = 0; i != BUF_PAGES * PAGE; i++)
		f->buf[i] = i * 7;
	memset(f->ro, 0x3c, RO_PAGES * PAGE);
	return mprotect(f->ro, RO_PAGES * PAGE, PROT_READ);
}

/*
 * The seed, the limits, and the fds everything starts from. The default
 * number of calls is divided by @share.
 */
static int fz_init(struct fz *f, uint64_t *calls, double *secs,
		   unsigned int share)
{
	bool debug = debug_kernel();
	uint64_t seed;
	int fd;

	memset(f, 0, sizeof(*f));
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = time(NULL);
	seed = env_u64("IOASID_FUZZ_SEED", seed);
	*calls = env_u64("IOASID_FUZZ_CALLS",
			 (debug ? CALLS_DEBUG : CALLS_NORMAL) / share);
	*secs = env_u64("IOASID_FUZZ_SECONDS",
			debug ? SECONDS_DEBUG : SECONDS_NORMAL);
	printf("# seed: %llu (IOASID_FUZZ_SEED=%llu replays it), at most %llu calls in %.0fs\n",
	       (unsigned long long)seed, (unsigned long long)seed,
	       (unsigned long long)*calls, *secs);
	fflush(stdout);
	/* xorshift must not start from 0 */
	f->rng = seed ^ 0x9e3779b97f4a7c15ULL;
	if (!f->rng)
		f->rng = 1;
	f->group_fd = -1;
	f->dev_fd = -1;
	f->bound = -1;
	f->ctx[0].fd = open(IOASID_DEV, O_RDWR);
	f->ctx[1].fd = open(IOASID_DEV, O_RDWR);
	f->null_fd = open("/dev/null", O_RDWR);
	f->event_fd = eventfd(0, 0);
	/* A number no open() will come back with during the run */
	fd = open("/dev/null", O_RDONLY);
	f->closed_fd = dup2(fd, 1000);
	close(fd);
	close(f->closed_fd);
	if (f->ctx[0].fd < 0 || f->ctx[1].fd < 0 || f->null_fd < 0 ||
	    f->event_fd < 0 || f->closed_fd < 0)
		return -1;
	return fz_map_memory(f);
}

static void fz_close_ctx(struct fz_ctx *c)
{
	int i;

	for (i = 0; i != c->nqueues; i++)
		close(c->queues[i].fd);
	c->nqueues = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * What must hold once the fuzzing is over, before anything is closed:
 * no late unpin in any attached mock's page table, and the mappings
 * each IOASID holds are the model's (after every async unmap is done).
 */
static void fz_check_model(struct fz *f, struct fz_ctx *c)
{
	struct ioasid_test_cmd cmd;
	int i;

	if (_test_async_hold(c->fd, false))
		fz_bad(f, "cannot let go of the async unmaps");
	for (i = 0; i != c->nmocks; i++) {
		if (!c->mocks[i].ioasid)
			continue;
		if (_test_domain_stats(c->fd, c->mocks[i].id, false, &cmd))
			fz_bad(f, "no stats for attached mock device %u",
			       c->mocks[i].id);
		else if (cmd.domain_stats.out_late_unpins)
			fz_bad(f, "mock device %u: %llu late unpins",
			       c->mocks[i].id,
			       (unsigned long long)cmd.domain_stats.out_late_unpins);
	}
	for (i = 0; i != c->nioasids; i++) {
		struct fz_ioasid *io = &c->ioasids[i];
		int64_t n = _test_mappings(c->fd, io->id);

		if (!io->lost && n != io->nmaps)
			fz_bad(f, "IOASID %u holds %lld mappings, the model %d",
			       io->id, (long long)n, io->nmaps);
	}
}

/* The run: the loop, then the checks that need the fds open */
static void fz_run(struct fz *f, uint64_t calls, double secs,
		   uint64_t memlock_cap)
{
	double start = now_s(), elapsed;

	while (f->calls < calls) {
		fz_step(f, memlock_cap);
		/* The clock only every 64 calls: it costs a syscall */
		if (!(f->calls & 63) && now_s() - start > secs)
			break;
	}
	elapsed = now_s() - start;
	if (f->mock) {
		fz_check_model(f, &f->ctx[0]);
		fz_check_model(f, &f->ctx[1]);
	}
	fz_print(f, elapsed);
}

FIXTURE(fuzz)
{
	struct fz f;
	uint64_t calls;
	double secs;
	int64_t pins, locked, vmpin;
	int probe_fd;
};

FIXTURE_SETUP(fuzz)
{
	struct ioasid_info info;

	self->pins = foll_pins();
	ASSERT_LE(0, self->pins);
	self->vmpin = vm_pin_kb(getpid());
	ASSERT_LE(0, self->vmpin);
	ASSERT_EQ(0, fz_init(&self->f, &self->calls, &self->secs, 1));
	/* The fd that measures, untouched by the fuzzing */
	self->probe_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, self->probe_fd);
	ASSERT_EQ(0, _test_cmd_info(self->probe_fd, &info));
	ASSERT_TRUE(info.out_capabilities & IOASID_CAP_TEST);
	self->f.mock = true;
	self->locked = _test_locked(self->probe_fd);
	ASSERT_LE(0, self->locked);
	/* The pins of the run are bounded: MAP gets ENOMEM beyond */
	ASSERT_EQ(0, _test_memlock_set(self->f.ctx[0].fd,
				       self->locked + MEMLOCK_PAGES));
	ASSERT_EQ(0, _test_memlock_set(self->f.ctx[1].fd,
				       self->locked + MEMLOCK_PAGES));
	ASSERT_EQ(0, _test_async_hold(self->f.ctx[0].fd, true));
	ASSERT_EQ(0, _test_async_hold(self->f.ctx[1].fd, true));
}

FIXTURE_TEARDOWN(fuzz)
{
	fz_close_ctx(&self->f.ctx[0]);
	fz_close_ctx(&self->f.ctx[1]);
	close(self->probe_fd);
	if (self->f.base)
		munmap(self->f.base, FZ_SPAN);
}

/*
 * Everything is closed: nothing pinned, nothing charged. The pins are
 * global, the charge the user's: nothing else runs meanwhile.
 */
#define fz_check_released(_pins, _locked, _vmpin, _probe_fd)                 \
	do {                                                                  \
		EXPECT_EQ(_pins, foll_pins());                                \
		EXPECT_EQ(_locked, _test_locked(_probe_fd));                  \
		EXPECT_EQ(_vmpin, vm_pin_kb(getpid()));                               \
	} while (0)

TEST_F_TIMEOUT(fuzz, random_calls_leave_the_kernel_consistent, 600)
{
	uint32_t ioasid, dev;
	char out[256];
	int fd;

	fz_run(&self->f, self->calls, self->secs,
	       self->locked + MEMLOCK_PAGES);
	EXPECT_EQ(0, self->f.bad);

	fz_close_ctx(&self->f.ctx[0]);
	fz_close_ctx(&self->f.ctx[1]);
	fz_check_released(self->pins, self->locked, self->vmpin,
			  self->probe_fd);
	EXPECT_EQ(0, _test_pinned(self->probe_fd, self->f.buf,
				  BUF_PAGES * PAGE));

	/* A plain map, attach and DMA still work */
	fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _test_alloc(fd, &ioasid));
	ASSERT_EQ(0, _test_mock_device(fd, IOASID_MOCK_IOMMU_A, &dev));
	ASSERT_EQ(0, _test_attach(fd, dev, ioasid, 1));
	ASSERT_EQ(0, _test_map(fd, ioasid, self->f.buf, 4 * PAGE,
			       &(uint64_t){ 1UL << 20 }, MAP_FIXED_RW));
	ASSERT_EQ(0, _test_dma(fd, dev, (1UL << 20) + PAGE + 8, out,
			       sizeof(out), false));
	EXPECT_EQ(0, memcmp(out, self->f.buf + PAGE + 8, sizeof(out)));
	close(fd);
	fz_check_released(self->pins, self->locked, self->vmpin,
			  self->probe_fd);
}

/*
 * The same with the VFIO calls, on the root-bus edu bound to vfio-pci:
 * where there is no IOMMU that isolates MSIs (the other profiles) the
 * group cannot be bound and the fixture skips.
 */
FIXTURE(fuzz_vfio)
{
	struct fz f;
	struct edu edus[NUM_EDUS];
	uint64_t calls;
	double secs;
	int64_t pins, locked, vmpin;
	int probe_fd;
};

FIXTURE_SETUP(fuzz_vfio)
{
	struct ioasid_info info;

	self->probe_fd = -1;
	memset(&self->f, 0, sizeof(self->f));
	self->f.ctx[0].fd = -1;
	self->f.ctx[1].fd = -1;
	self->f.group_fd = -1;
	self->f.dev_fd = -1;
	if (!have_isolated_msi())
		SKIP(return, "needs an IOMMU that isolates MSIs (the default profile)");
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[EDU_ROOT_A].bdf, "vfio-pci"));
	self->pins = foll_pins();
	ASSERT_LE(0, self->pins);
	self->vmpin = vm_pin_kb(getpid());
	ASSERT_LE(0, self->vmpin);
	/* Half the calls: the mock fixture covers the rest */
	ASSERT_EQ(0, fz_init(&self->f, &self->calls, &self->secs, 2));
	self->f.vfio = true;
	self->f.bdf = self->edus[EDU_ROOT_A].bdf;
	self->f.group_fd = open_vfio_group(self->f.bdf);
	ASSERT_LE(0, self->f.group_fd);
	self->probe_fd = open(IOASID_DEV, O_RDWR);
	ASSERT_LE(0, self->probe_fd);
	ASSERT_EQ(0, _test_cmd_info(self->probe_fd, &info));
	self->f.mock = info.out_capabilities & IOASID_CAP_TEST;
	if (self->f.mock) {
		self->locked = _test_locked(self->probe_fd);
		ASSERT_LE(0, self->locked);
		ASSERT_EQ(0, _test_memlock_set(self->f.ctx[0].fd,
					       self->locked + MEMLOCK_PAGES));
		ASSERT_EQ(0, _test_memlock_set(self->f.ctx[1].fd,
					       self->locked + MEMLOCK_PAGES));
		ASSERT_EQ(0, _test_async_hold(self->f.ctx[0].fd, true));
		ASSERT_EQ(0, _test_async_hold(self->f.ctx[1].fd, true));
	}
}

FIXTURE_TEARDOWN(fuzz_vfio)
{
	close_fd(&self->f.dev_fd);
	close_fd(&self->f.group_fd);
	fz_close_ctx(&self->f.ctx[0]);
	fz_close_ctx(&self->f.ctx[1]);
	close_fd(&self->probe_fd);
	if (self->f.base)
		munmap(self->f.base, FZ_SPAN);
}

TEST_F_TIMEOUT(fuzz_vfio, random_calls_with_a_vfio_device_leave_it_working, 600)
{
	struct edu_ctx c;
	char *a, *b;

	fz_run(&self->f, self->calls, self->secs,
	       self->locked + MEMLOCK_PAGES);
	EXPECT_EQ(0, self->f.bad);

	close_fd(&self->f.dev_fd);
	close_fd(&self->f.group_fd);
	fz_close_ctx(&self->f.ctx[0]);
	fz_close_ctx(&self->f.ctx[1]);
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(self->vmpin, vm_pin_kb(getpid()));
	if (self->f.mock)
		EXPECT_EQ(self->locked, _test_locked(self->probe_fd));

	/* The edu still does DMA through a fresh ioasid fd: a round trip */
	a = self->f.buf;
	b = self->f.buf + 16 * PAGE;
	memset(b, 0, 2048);
	ASSERT_EQ(0, edu_open(&c, BACKEND_IOASID, self->f.bdf, 0xf022));
	ASSERT_EQ(0, edu_map(&c, a, 32 * PAGE, 1UL << 20));
	ASSERT_EQ(0, edu_dma(&c, 1UL << 20, 0, 2048, false));
	ASSERT_EQ(0, edu_dma(&c, (1UL << 20) + 16 * PAGE, 0, 2048, true));
	EXPECT_EQ(0, memcmp(a, b, 2048));
	edu_close(&c);
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(self->vmpin, vm_pin_kb(getpid()));
}

TEST_HARNESS_MAIN
