// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit: command-line front end.  "splitkit <area> <command> ..." runs
 * a command of one area; the areas are listed here (img: qcow2 disk
 * images, img.c; negotiate: splitkit_negotiate, negotiate.c; vbd:
 * disks served by splitkit_back and their online image operations, vbd.c;
 * shunt: splitkit_shunt in an HVM guest, shunt.c).  A new area is one more struct sk_area and one line in
 * the table below; cli.c does the rest.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "splitkit.h"

static const struct sk_area *const areas[] = {
	&sk_img_area,
	&sk_negotiate_area,
	&sk_vbd_area,
	&sk_shunt_area,
};

#define NR_AREAS	(sizeof(areas) / sizeof(areas[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: splitkit <area> <command> [options] ...\n"
		"       splitkit <area> help [command]\n"
		"       splitkit help [area]\nareas:\n");
	for (i = 0; i < NR_AREAS; i++)
		fprintf(out, "  %-10s %s\n", areas[i]->name,
			areas[i]->summary);
}

static const struct sk_area *find_area(const char *name)
{
	size_t i;

	for (i = 0; i < NR_AREAS; i++)
		if (!strcmp(areas[i]->name, name))
			return areas[i];
	return NULL;
}

/*
 * Standard input, output and error open.  A program the kernel starts (the
 * negotiate module's mem_helper) has none: a library's handle (libxl's
 * XenStore connection) would become stderr.  Its messages go to the kernel
 * log then, where the administrator looks for the helper's failure.
 */
static void std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			continue;
		if (fd == 2 && open("/dev/kmsg", O_WRONLY | O_CLOEXEC) == 2)
			continue;
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(127);
	}
}

int main(int argc, char **argv)
{
	const struct sk_area *area;

	std_fds();
	if (argc < 2) {
		usage(stderr);
		return SK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		area = argc > 2 ? find_area(argv[2]) : NULL;
		if (area)
			sk_area_help(stdout, area);
		else
			usage(stdout);
		return 0;
	}
	area = find_area(argv[1]);
	if (area)
		return sk_run_area(area, argc - 1, argv + 1);
	fprintf(stderr, "splitkit: unknown area '%s'\n", argv[1]);
	usage(stderr);
	return SK_EXIT_USAGE;
}
