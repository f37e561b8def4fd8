// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the splitkit tool's commands: a progress bar on
 * stderr (only when it is a terminal) and JSON string quoting.
 */
#include <unistd.h>

#include "splitkit.h"

static int progress_shown;

void sk_progress(const char *what, uint64_t done, uint64_t total)
{
	int width = 40, filled;

	if (!isatty(2))
		return;
	if (!total)
		total = 1;
	if (done > total)
		done = total;
	filled = (int)(done * width / total);
	fprintf(stderr, "\r%-10s [%.*s%*s] %3d%%", what, filled,
		"########################################", width - filled, "",
		(int)(done * 100 / total));
	progress_shown = 1;
}

void sk_progress_end(void)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = 0;
}

void sk_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
