// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit: command-line front end.  Dispatches "splitkit <area> ..." to
 * the area's handler; "img" (img.c) manages qcow2 disk images.
 */
#include <stdio.h>
#include <string.h>

#include "splitkit.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: splitkit img <command> [options] ...\n"
		"       splitkit img help\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "img"))
		return splitkit_img_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "splitkit: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
