// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VMM sample, samples/ioasid_fd/ioasid-vmm, run as its reader would
 * run it, on the root-bus edu: it must exit 0, tell each step of its
 * story (the device attached under its label, the DMA jobs' data in
 * guest RAM, the unplugged DIMM's invalidation, the fault of the DMA
 * into it, named by the label, the clean exit), and leave nothing
 * pinned. The sample checks each step itself; these tests check that it
 * says so, and that it fails, and says why, when it cannot do its job.
 *
 * The guest has the samples in /samples. The edu's DMA needs an IOMMU
 * that isolates MSIs (the default or amd profile), as in vfio_ioasid.c;
 * elsewhere the tests skip. The sample's story ends with the fault of its
 * refused DMA: where the IOMMU reports no such fault (QEMU's AMD-Vi, see
 * iommu_faults_unreported()) the sample cannot tell it, and the tests
 * that run it to its end skip.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ioasid_fd_utils.h"
#include "edu_utils.h"

#define SAMPLE "/samples/ioasid-vmm"
#define RUN_MS 60000
#define NEEDS "needs an IOMMU that isolates MSIs (the default or amd profile)"

struct run {
	int status;		/* from waitpid() */
	char out[16384];	/* stdout and stderr, in the order written */
};

/*
 * Run the sample on the edu @bdf, with -q if @quiet, its output into @r,
 * for at most RUN_MS: a sample that hangs is killed (and then did not
 * exit 0). Returns 0, or -1 if it could not be started.
 */
static int run_sample(struct run *r, const char *bdf, bool quiet)
{
	uint64_t deadline = now_ms() + RUN_MS;
	size_t len = 0;
	char *argv[5];
	int pipefd[2];
	pid_t pid;

	argv[0] = SAMPLE;
	argv[1] = "-d";
	argv[2] = (char *)bdf;
	argv[3] = quiet ? "-q" : NULL;
	argv[4] = NULL;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(SAMPLE, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < sizeof(r->out) - 1) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) != 1) {
			kill(pid, SIGKILL);
			break;
		}
		n = read(pipefd[0], r->out + len, sizeof(r->out) - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	r->out[len] = 0;
	close(pipefd[0]);
	return waitpid(pid, &r->status, 0) == pid ? 0 : -1;
}

/* How many times the sample said @needle */
static int said(const char *out, const char *needle)
{
	int n = 0;

	for (; (out = strstr(out, needle)); out += strlen(needle))
		n++;
	return n;
}

#define EXITED_WITH(code, st) (WIFEXITED(st) && WEXITSTATUS(st) == (code))

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && !strcmp(s + n - m, end);
}

/* What the sample said, into the test's log: a TAP comment a line */
static void log_output(struct __test_metadata *_metadata, const char *out)
{
	while (*out) {
		size_t len = strcspn(out, "\n");

		TH_LOG("| %.*s", (int)len, out);
		out += len + (out[len] == '\n');
	}
}

FIXTURE(vmm_sample)
{
	struct edu edus[NUM_EDUS];
	int64_t pins;		/* FOLL_PIN pages before the test, or -1 */
	char driver[NAME_MAX + 1];	/* of the other root-bus edu */
};

FIXTURE_SETUP(vmm_sample)
{
	self->pins = -1;
	if (!have_isolated_msi())
		SKIP(return, NEEDS);
	ASSERT_EQ(0, access(SAMPLE, X_OK));
	ASSERT_EQ(NUM_EDUS, find_edus(self->edus, NUM_EDUS));
	ASSERT_EQ(0, bind_driver(self->edus[EDU_ROOT_A].bdf, "vfio-pci"));
	driver_of(self->edus[EDU_ROOT_B].bdf, self->driver,
		  sizeof(self->driver));
	self->pins = foll_pins();
	ASSERT_LE(0, self->pins);
}

/* Whatever the sample did, once it is gone nothing stays pinned */
FIXTURE_TEARDOWN(vmm_sample)
{
	if (self->pins < 0)
		return;
	EXPECT_EQ(self->pins, foll_pins());
	bind_driver(self->edus[EDU_ROOT_B].bdf, self->driver);
}

TEST_F_TIMEOUT(vmm_sample, tells_the_whole_story_and_exits_0, 90)
{
	const char *out;
	struct run r;
	char line[384];

	SKIP_IF_FAULTS_UNREPORTED(return);
	ASSERT_EQ(0, run_sample(&r, self->edus[EDU_ROOT_A].bdf, false));
	log_output(_metadata, r.out);
	out = r.out;
	EXPECT_TRUE(EXITED_WITH(0, r.status));
	EXPECT_EQ(0, said(out, "FAILED"));

	snprintf(line, sizeof(line), "vmm: edu %s attached to IOASID ",
		 self->edus[EDU_ROOT_A].bdf);
	EXPECT_EQ(1, said(out, line));
	EXPECT_EQ(1, said(out, " as label 0x6e6963 (\"nic\")\n"));
	EXPECT_EQ(1, said(out, "vmm: guest RAM pinned: 65536 kB"));
	EXPECT_EQ(3, said(out, ", data ok\n"));
	EXPECT_EQ(1, said(out, "vmm: job 4: guest unplugs DIMM 1: "));
	EXPECT_EQ(1, said(out, "vmm: event: INVALIDATE iova 0x5000000-0x5ffffff, cookie 4: "));
	EXPECT_EQ(1, said(out, " -> 0x5004000: not guest RAM, memory unchanged\n"));
	EXPECT_EQ(1, said(out, "vmm: event: FAULT label \"nic\" iova 0x5004000 write, "));
	EXPECT_EQ(1, said(out, "the event queue ended\n"));
	/* The last line, once everything was closed */
	EXPECT_TRUE(ends_with(out, "\nvmm: clean exit, 0 pages pinned\n"));
}

TEST_F_TIMEOUT(vmm_sample, is_silent_with_q_and_still_exits_0, 90)
{
	struct run r;

	SKIP_IF_FAULTS_UNREPORTED(return);
	ASSERT_EQ(0, run_sample(&r, self->edus[EDU_ROOT_A].bdf, true));
	EXPECT_TRUE(EXITED_WITH(0, r.status));
	EXPECT_STREQ("", r.out);
}

/* A device that VFIO does not own: exit 1, saying what is missing */
TEST_F_TIMEOUT(vmm_sample, fails_on_a_device_not_bound_to_vfio_pci, 90)
{
	struct run r;

	ASSERT_EQ(0, bind_driver(self->edus[EDU_ROOT_B].bdf, ""));
	ASSERT_EQ(0, run_sample(&r, self->edus[EDU_ROOT_B].bdf, false));
	log_output(_metadata, r.out);
	EXPECT_TRUE(EXITED_WITH(1, r.status));
	/* One line, the error, and no step of the story */
	EXPECT_EQ(1, said(r.out, "\n"));
	EXPECT_EQ(1, said(r.out, "is the device bound to vfio-pci?"));
}

TEST_HARNESS_MAIN
