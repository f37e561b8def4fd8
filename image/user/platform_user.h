/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace-only knobs of the image platform layer (platform_user.c):
 * how much the core logs to stderr, where a crash test kills it, and the
 * allocation accounting and failure injection of the memory tests, and
 * the counts of flushes, hole punches and large reads and writes.
 */
#ifndef _SPLITKIT_IMAGE_PLATFORM_USER_H
#define _SPLITKIT_IMAGE_PLATFORM_USER_H

void skp_user_set_log_level(int level);
/* The file descriptor behind @file (the tool compares files by fstat()). */
int skp_user_fd(const struct skp_file *file);
void skp_user_set_crash_after(long mutations);
/*
 * Fail the allocation after @nth more (0: the next one) among those whose
 * flags meet @flags (0: every allocation); @nth -1 stops failing.
 */
void skp_user_fail_alloc(long nth, unsigned int flags);
/* Bytes allocated through the platform now, their peak, calls counted. */
void skp_user_alloc_stats(u64 *live, u64 *peak, u64 *calls);
void skp_user_alloc_reset_peak(void);
/* Calls of skp_punch() so far (each a file-system transaction). */
u64 skp_user_punches(void);
/* Count from now on the file writes of at least @min_len bytes. */
void skp_user_count_writes(u64 min_len);
u64 skp_user_writes(void);
/* Calls of skp_flush() so far (each an fdatasync unless NOSYNC). */
u64 skp_user_flushes(void);
/* a model of the uncached primitives: at most @pages pages a call; 0 off */
void skp_user_set_uncached(unsigned int pages);
/* calls the model took (not refused) */
u64 skp_user_uncached_calls(void);
/* Count from now on the file reads of at least @min_len bytes. */
void skp_user_count_reads(u64 min_len);
u64 skp_user_reads(void);

#endif /* _SPLITKIT_IMAGE_PLATFORM_USER_H */
