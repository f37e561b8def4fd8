// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the splitkit tool's commands: error messages, sizes
 * with k/M/G/T suffixes, a progress bar on stderr (only when it is a
 * terminal) and JSON output (json-c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "splitkit.h"

/** sk_fail_errno() - report "@what: <errno text>"; Return: exit status 1 */
int sk_fail_errno(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", sk_prog(), what, strerror(-err));
	return 1;
}

/** sk_parse_size() - a number with an optional k, M, G or T suffix */
int sk_parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmgt";
	unsigned long long v;
	const char *suffix;
	int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	suffix = *end ? strchr(suffixes, *end | 0x20) : NULL;
	if (suffix) {
		shift = 10 * (int)(suffix - suffixes + 1);
		end++;
	}
	if (*end || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

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

/** sk_json_print() - print @obj on one line of stdout and drop it */
void sk_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

/**
 * sk_read_line() - the first line of a small file (a sysfs value)
 * @path: the file
 * @buf: gets the line, its newline dropped
 * @n: size of @buf
 *
 * Return: 0, or -errno (-EIO for an empty file).
 */
int sk_read_line(const char *path, char *buf, size_t n)
{
	size_t len;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)n, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return 0;
}
