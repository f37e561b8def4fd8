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

/**
 * sk_parse_size() - a decimal number with an optional k, M, G or T suffix
 * @s: the argument: digits only (no sign, space, or 0x), then the suffix.
 * @out: the value, in bytes for a size (the suffixes are powers of 1024).
 *
 * Return: 0, or -EINVAL for anything else or a value past 2^64 - 1.
 */
int sk_parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmgt";
	unsigned long long v;
	const char *suffix;
	int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
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

/**
 * sk_put_text() - print a string an image file or XenStore gave us.
 * @out: the stream.
 * @s: the string (hostile: any bytes but NUL).
 * @always: escape even when @out is no terminal (human-readable output);
 *	false: only on a terminal (a value a script may read back as it is).
 *
 * Control characters are printed as \xNN, so that an image cannot send
 * escape sequences to the terminal: C0 (below 0x20) and DEL, C1 as a byte
 * (0x80-0x9f outside a UTF-8 sequence) and as UTF-8 (U+0080-U+009F, which
 * some terminals take as CSI and the like); other bytes (the rest of
 * UTF-8) as they are.
 */
void sk_put_text(FILE *out, const char *s, bool always)
{
	bool escape = always || isatty(fileno(out));
	unsigned int cont = 0;	/* continuation bytes a lead byte promised */

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool ctl = c < 0x20 || c == 0x7f ||
			   (c >= 0x80 && c <= 0x9f && !cont) ||
			   (c == 0xc2 && (unsigned char)s[1] >= 0x80 &&
			    (unsigned char)s[1] <= 0x9f);

		if (escape && ctl) {
			fprintf(out, "\\x%02x", c);
			if (c == 0xc2)
				fprintf(out, "\\x%02x", (unsigned char)*++s);
			cont = 0;
			continue;
		}
		fputc(c, out);
		if (c >= 0xc0)
			cont = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		else if (c >= 0x80 && cont)
			cont--;
		else
			cont = 0;
	}
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
