/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace-only knobs of the image platform layer (platform_user.c):
 * how much the core logs to stderr.
 */
#ifndef _SPLITKIT_IMAGE_PLATFORM_USER_H
#define _SPLITKIT_IMAGE_PLATFORM_USER_H

void skp_user_set_log_level(int level);

#endif /* _SPLITKIT_IMAGE_PLATFORM_USER_H */
