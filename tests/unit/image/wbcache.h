/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Write-back cache model for the image engine's crash tests (wbcache.c).
 *
 * A process crash (skp_user_set_crash_after) loses nothing the process
 * wrote; a power cut under a volatile disk cache can lose, or reorder, any
 * write issued since the file's last flush.  wbc_record_start() snapshots the
 * image files and then logs every skp_pwrite/skp_flush/skp_truncate the
 * engine issues on them (the test binary is linked with
 * -Wl,--wrap=skp_pwrite and friends, so platform_user.c is not touched).
 * wbc_replay() then rebuilds what the disk could hold at every cut point and
 * under a bounded, deterministic set of losses, and checks each distinct
 * result with qemu-img check, our own check and the test's content callback.
 */
#ifndef _SPLITKIT_TEST_WBCACHE_H
#define _SPLITKIT_TEST_WBCACHE_H

#include <stdbool.h>

#define WBC_MAX_FILES	4

/* What the content callback sees of one replayed state. */
struct wbc_state {
	long cut;			/* log entries issued before the cut */
	const char *paths[WBC_MAX_FILES]; /* replayed copies, same names */
	const long *marks;		/* wbc_mark() values before the cut */
	unsigned int nr_marks;
	const char *variant;		/* which loss, for messages */
};

struct wbc_scenario {
	const char *name;
	/* true when the state reads as it must; may print a "# " reason. */
	bool (*verify)(void *ctx, const struct wbc_state *st);
	/* Optional: finish the interrupted work on the replayed files. */
	bool (*resume)(void *ctx, const struct wbc_state *st);
	void *ctx;
};

struct wbc_stats {
	long cuts;
	long variants;
	long states;			/* distinct (disk, marks) states */
	long checks;			/* qemu-img check runs */
	long resumed;
	long failures;
	long torn;			/* states from a torn or sampled loss */
};

void wbc_record_start(const char *const *paths, unsigned int nr);
void wbc_mark(long value);
void wbc_record_stop(void);
long wbc_log_entries(void);
int wbc_replay(const struct wbc_scenario *sc, struct wbc_stats *stats);

#endif /* _SPLITKIT_TEST_WBCACHE_H */
