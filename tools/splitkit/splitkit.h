/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit tool: entry points of its command areas and shared helpers
 * (progress bar, JSON string output) used by them.
 */
#ifndef _SPLITKIT_TOOL_H
#define _SPLITKIT_TOOL_H

#include <stdio.h>
#include <stdint.h>

int splitkit_img_main(int argc, char **argv);

void sk_progress(const char *what, uint64_t done, uint64_t total);
void sk_progress_end(void);
void sk_json_string(FILE *out, const char *s);

#endif /* _SPLITKIT_TOOL_H */
