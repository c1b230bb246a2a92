// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VMM does first with /dev/ioasid: open it and ask the kernel
 * which version of the API it speaks and what it offers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ioasid_fd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char * const cap_names[] = {
	"test",
};

int main(void)
{
	struct ioasid_info info = { .size = sizeof(info) };
	unsigned int i;
	int fd;

	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open /dev/ioasid: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, IOASID_INFO, &info)) {
		fprintf(stderr, "IOASID_INFO: %s\n", strerror(errno));
		return 1;
	}
	printf("/dev/ioasid: API version %u, capabilities 0x%llx",
	       info.out_api_version,
	       (unsigned long long)info.out_capabilities);
	for (i = 0; i != ARRAY_SIZE(cap_names); i++)
		if (info.out_capabilities & (1ULL << i))
			printf(" %s", cap_names[i]);
	printf("\n");
	close(fd);
	return 0;
}
