/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace-only knobs of the image platform layer (platform_user.c):
 * how much the core logs to stderr, and where a crash test kills it.
 */
#ifndef _SPLITKIT_IMAGE_PLATFORM_USER_H
#define _SPLITKIT_IMAGE_PLATFORM_USER_H

void skp_user_set_log_level(int level);
void skp_user_set_crash_after(long mutations);

#endif /* _SPLITKIT_IMAGE_PLATFORM_USER_H */
