// SPDX-License-Identifier: GPL-2.0
/*
 * Write-back cache model of the disk under the image engine, for the unit
 * tests: records the engine's file I/O and replays every state a power cut
 * could leave (see wbcache.h for the interface).
 *
 * The model.  A disk with a volatile write cache makes a write durable only
 * once a flush of that file has completed after it; until then the write may
 * reach the medium or not, in any order relative to other unflushed writes.
 * Sectors (512 bytes) are the unit of atomicity, which is also what the
 * engine's crash-safety argument assumes (Documentation/image.rst).  So at a
 * cut after log entry k, the disk holds: each file's snapshot, plus every
 * write and truncate followed by a flush of its file before k, plus any
 * subset of the sectors written (and truncates issued) since, applied in
 * issue order (a later write to the same sector wins only if kept).
 *
 * The losses tried at every cut, over the window W of unflushed entries
 * (across all files, in issue order): none kept; each prefix of W (the cache
 * drained in order); all but one entry (each in turn); only one entry (each
 * in turn); for each write longer than a sector, the prefix before it plus
 * only its first sector, and all of W but its first sector (torn writes); and
 * a seeded random sample of sector subsets (SPLITKIT_WBC_SAMPLES per cut,
 * default 4).  States are deduplicated by a hash of their bytes, so each
 * distinct disk content is checked once (qemu-img check and our check are
 * cached per file content), whichever loss produced it.
 *
 * Recording needs no hook in platform_user.c: the test binary is linked with
 * -Wl,--wrap=skp_open,--wrap=skp_close,--wrap=skp_pwrite,--wrap=skp_flush,
 * --wrap=skp_truncate, and the wrappers below log what reaches the files
 * being watched, then call the real functions.
 */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/image.h"
#include "helpers.h"
#include "wbcache.h"

#define SECTOR		512ULL
#define MAX_OPEN	16
#define MAX_FAILURES	3

int __real_skp_open(const char *path, bool writable, struct skp_file **filep);
void __real_skp_close(struct skp_file *file);
int __real_skp_pwrite(struct skp_file *file, const void *buf, size_t len,
		      u64 off);
int __real_skp_flush(struct skp_file *file);
int __real_skp_truncate(struct skp_file *file, u64 size);

int __wrap_skp_open(const char *path, bool writable, struct skp_file **filep);
void __wrap_skp_close(struct skp_file *file);
int __wrap_skp_pwrite(struct skp_file *file, const void *buf, size_t len,
		      u64 off);
int __wrap_skp_flush(struct skp_file *file);
int __wrap_skp_truncate(struct skp_file *file, u64 size);

enum { E_WRITE, E_FLUSH, E_TRUNC, E_MARK };
static const char *const kind_names[] = { "write", "flush", "truncate",
					  "mark" };

struct entry {
	int kind;
	int file;
	u64 off;		/* write offset, or truncate size */
	size_t len;
	u8 *data;
	long mark;
};

struct wfile {
	char path[PATH_MAX];	/* real path of the watched file */
	const char *name;	/* its last component */
	char replay[PATH_MAX];	/* the replayed copy */
	u8 *base;
	u64 base_size;
	/* Replay state: contents, size, additive hash of the sectors. */
	u8 *buf;
	u64 size, cap;
	u64 sum;
	u64 disk_key;		/* what the replayed copy holds now */
	bool disk_valid;
	/* Sectors changed since the copy was last written. */
	u8 *dirty;
	u64 *dirty_list, nr_dirty, dirty_cap;
};

static struct {
	bool on;
	bool stray;		/* a write to a file nobody watches */
	unsigned int nr_files;
	struct wfile files[WBC_MAX_FILES];
	struct { struct skp_file *f; int idx; } open[MAX_OPEN];
	struct entry *log;
	long nr, cap;
} rec;

/* ---- recording ---------------------------------------------------------- */

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		abort();
	return p;
}

static void push(struct entry e)
{
	if (rec.nr == rec.cap) {
		rec.cap = rec.cap ? rec.cap * 2 : 256;
		rec.log = xrealloc(rec.log, rec.cap * sizeof(*rec.log));
	}
	rec.log[rec.nr++] = e;
}

static int watched(struct skp_file *f)
{
	int i;

	for (i = 0; i < MAX_OPEN; i++)
		if (rec.open[i].f == f)
			return rec.open[i].idx;
	return -1;
}

static u8 *slurp(const char *path, u64 *size)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	if (!f)
		abort();
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xrealloc(NULL, n ? n : 1);
	if (n && fread(buf, 1, n, f) != (size_t)n)
		abort();
	fclose(f);
	*size = n;
	return buf;
}

/**
 * wbc_record_start() - snapshot @paths and log the I/O that reaches them
 * @paths: image files (a chain's files all, even those only read)
 * @nr: how many, at most WBC_MAX_FILES
 *
 * The files must be opened (by the engine) after this call.
 */
void wbc_record_start(const char *const *paths, unsigned int nr)
{
	unsigned int i;
	long e;

	for (e = 0; e < rec.nr; e++)
		free(rec.log[e].data);
	for (i = 0; i < rec.nr_files; i++) {
		free(rec.files[i].base);
		free(rec.files[i].buf);
	}
	free(rec.log);
	memset(&rec, 0, sizeof(rec));
	if (nr > WBC_MAX_FILES)
		abort();
	for (i = 0; i < nr; i++) {
		struct wfile *w = &rec.files[i];
		const char *slash;

		if (!realpath(paths[i], w->path))
			abort();
		slash = strrchr(w->path, '/');
		w->name = slash ? slash + 1 : w->path;
		w->base = slurp(w->path, &w->base_size);
	}
	rec.nr_files = nr;
	rec.on = true;
}

/** wbc_mark() - note a point in the test's own progress (no disk effect) */
void wbc_mark(long value)
{
	if (rec.on)
		push((struct entry){ .kind = E_MARK, .file = -1,
				     .mark = value });
}

void wbc_record_stop(void)
{
	rec.on = false;
}

long wbc_log_entries(void)
{
	return rec.nr;
}

int __wrap_skp_open(const char *path, bool writable, struct skp_file **filep)
{
	char real[PATH_MAX];
	unsigned int i;
	int err = __real_skp_open(path, writable, filep);
	int slot;

	if (err || !rec.on || !realpath(path, real))
		return err;
	for (i = 0; i < rec.nr_files; i++) {
		if (strcmp(real, rec.files[i].path))
			continue;
		for (slot = 0; slot < MAX_OPEN && rec.open[slot].f; slot++)
			;
		if (slot == MAX_OPEN)
			abort();
		rec.open[slot].f = *filep;
		rec.open[slot].idx = i;
	}
	return err;
}

void __wrap_skp_close(struct skp_file *file)
{
	int i;

	for (i = 0; file && i < MAX_OPEN; i++)
		if (rec.open[i].f == file)
			rec.open[i].f = NULL;
	__real_skp_close(file);
}

int __wrap_skp_pwrite(struct skp_file *file, const void *buf, size_t len,
		      u64 off)
{
	int idx = rec.on ? watched(file) : -1;

	if (rec.on && idx < 0)
		rec.stray = true;
	if (idx >= 0 && len) {
		u8 *copy = xrealloc(NULL, len);

		memcpy(copy, buf, len);
		push((struct entry){ .kind = E_WRITE, .file = idx, .off = off,
				     .len = len, .data = copy });
	}
	return __real_skp_pwrite(file, buf, len, off);
}

int __wrap_skp_flush(struct skp_file *file)
{
	int idx = rec.on ? watched(file) : -1;

	if (idx >= 0)
		push((struct entry){ .kind = E_FLUSH, .file = idx });
	return __real_skp_flush(file);
}

int __wrap_skp_truncate(struct skp_file *file, u64 size)
{
	int idx = rec.on ? watched(file) : -1;

	if (rec.on && idx < 0)
		rec.stray = true;
	if (idx >= 0)
		push((struct entry){ .kind = E_TRUNC, .file = idx,
				     .off = size });
	return __real_skp_truncate(file, size);
}

/* ---- replayed disk state ------------------------------------------------ */

static u64 mix(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Hash of sector @s of @w; an all-zero sector hashes to 0. */
static u64 sector_hash(const struct wfile *w, u64 s)
{
	const u8 *p = w->buf + s * SECTOR;
	u64 h = mix(s + 1), word, nz = 0;
	unsigned int i;

	for (i = 0; i < SECTOR; i += 8) {
		memcpy(&word, p + i, 8);
		nz |= word;
		h = mix(h ^ word);
	}
	return nz ? h : 0;
}

static void reserve(struct wfile *w, u64 size)
{
	u64 cap = w->cap ? w->cap : SECTOR;

	if (size <= w->cap)
		return;
	while (cap < size)
		cap *= 2;
	w->buf = xrealloc(w->buf, cap);
	memset(w->buf + w->cap, 0, cap - w->cap);
	w->dirty = xrealloc(w->dirty, cap / SECTOR);
	memset(w->dirty + w->cap / SECTOR, 0, (cap - w->cap) / SECTOR);
	w->cap = cap;
}

static void mark_dirty(struct wfile *w, u64 s)
{
	if (w->dirty[s])
		return;
	w->dirty[s] = 1;
	if (w->nr_dirty == w->dirty_cap) {
		w->dirty_cap = w->dirty_cap ? w->dirty_cap * 2 : 256;
		w->dirty_list = xrealloc(w->dirty_list,
					 w->dirty_cap * sizeof(u64));
	}
	w->dirty_list[w->nr_dirty++] = s;
}

struct undo {
	int file;
	u64 off, len, old_size;
	u8 *saved;
};

static struct {
	struct undo *u;
	long nr, cap;
} undo;

/* Replace bytes [@off, @off + @len) of @w (beyond size: zeroes) by @src. */
static void put_bytes(struct wfile *w, u64 off, u64 len, const u8 *src)
{
	u64 s, first = off / SECTOR, last = (off + len - 1) / SECTOR;

	reserve(w, (last + 1) * SECTOR);
	for (s = first; s <= last; s++)
		w->sum -= sector_hash(w, s);
	if (src)
		memcpy(w->buf + off, src, len);
	else
		memset(w->buf + off, 0, len);
	for (s = first; s <= last; s++) {
		w->sum += sector_hash(w, s);
		mark_dirty(w, s);
	}
}

static void save(int file, u64 off, u64 len)
{
	struct wfile *w = &rec.files[file];
	struct undo *u;

	if (undo.nr == undo.cap) {
		undo.cap = undo.cap ? undo.cap * 2 : 64;
		undo.u = xrealloc(undo.u, undo.cap * sizeof(*undo.u));
	}
	u = &undo.u[undo.nr++];
	reserve(w, off + len);
	u->file = file;
	u->off = off;
	u->len = len;
	u->old_size = w->size;
	u->saved = xrealloc(NULL, len ? len : 1);
	memcpy(u->saved, w->buf + off, len);
}

static void apply_write(int file, u64 off, u64 len, const u8 *data)
{
	struct wfile *w = &rec.files[file];

	save(file, off, len);
	put_bytes(w, off, len, data);
	if (off + len > w->size)
		w->size = off + len;
}

static void apply_truncate(int file, u64 size)
{
	struct wfile *w = &rec.files[file];

	if (size < w->size) {
		save(file, size, w->size - size);
		put_bytes(w, size, w->size - size, NULL);
	} else {
		save(file, size, 0);
	}
	w->size = size;
}

static void undo_all(void)
{
	while (undo.nr) {
		struct undo *u = &undo.u[--undo.nr];
		struct wfile *w = &rec.files[u->file];

		if (u->len)
			put_bytes(w, u->off, u->len, u->saved);
		w->size = u->old_size;
		free(u->saved);
	}
}

static void forget_undo(void)
{
	while (undo.nr)
		free(undo.u[--undo.nr].saved);
}

static u64 file_key(const struct wfile *w, unsigned int i)
{
	return mix(w->sum + mix(w->size ^ 0x5157ULL) + i * 0x9e3779b97f4a7c15ULL);
}

/* ---- sets of 64-bit keys (open addressing) ------------------------------ */

struct keyset {
	u64 *k;
	u8 *v;
	u64 cap, nr;
};

/* Returns the slot of @key, inserting it (with value 0) when new. */
static u64 keyset_slot(struct keyset *s, u64 key, bool *fresh)
{
	u64 i;

	key |= 1;		/* 0 marks an empty slot */
	if (2 * (s->nr + 1) > s->cap) {
		struct keyset big = { .cap = s->cap ? s->cap * 2 : 1024 };
		bool dummy;

		big.k = calloc(big.cap, 8);
		big.v = calloc(big.cap, 1);
		if (!big.k || !big.v)
			abort();
		for (i = 0; i < s->cap; i++)
			if (s->k[i])
				big.v[keyset_slot(&big, s->k[i], &dummy)] =
					s->v[i];
		free(s->k);
		free(s->v);
		*s = big;
	}
	for (i = key & (s->cap - 1); s->k[i]; i = (i + 1) & (s->cap - 1))
		if (s->k[i] == key) {
			*fresh = false;
			return i;
		}
	s->k[i] = key;
	s->nr++;
	*fresh = true;
	return i;
}

static void keyset_free(struct keyset *s)
{
	free(s->k);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- checking one state ------------------------------------------------- */

/* Bring the replayed copy up to date: whole, or only the sectors changed. */
static int write_file(struct wfile *w)
{
	int fd = open(w->replay, O_WRONLY | O_CREAT, 0644);
	u64 i, from, len;
	int err = 0;

	if (fd < 0)
		return -1;
	for (i = 0; i < w->nr_dirty; i++) {
		u64 s = w->dirty_list[i];

		w->dirty[s] = 0;
		from = s * SECTOR;
		if (!w->disk_valid || from >= w->size)
			continue;	/* written below, or cut off */
		len = w->size - from < SECTOR ? w->size - from : SECTOR;
		if (pwrite(fd, w->buf + from, len, from) != (ssize_t)len)
			err = -1;
	}
	w->nr_dirty = 0;
	for (from = 0; !w->disk_valid && !err && from < w->size;
	     from += len) {
		len = w->size - from;
		if (pwrite(fd, w->buf + from, len, from) != (ssize_t)len)
			err = -1;
	}
	if (!err && ftruncate(fd, w->size))
		err = -1;
	if (close(fd))
		err = -1;
	return err;
}

extern char **environ;

/* qemu-img check: 0 (clean) and 3 (leaks only) are consistent images. */
static bool qemu_img_ok(const char *path, int *status)
{
	char *argv[] = { "qemu-img", "check", "-q", "-f", "qcow2",
			 (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	/* posix_spawn, not fork: copying an ASan process's maps is slow. */
	fflush(stdout);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	st = posix_spawnp(&pid, "qemu-img", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (st) {
		*status = -st;
		return false;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		*status = -1;
		return false;
	}
	*status = WEXITSTATUS(st);
	return *status == 0 || *status == 3;
}

struct replay {
	const struct wbc_scenario *sc;
	struct wbc_stats *stats;
	struct keyset states, verdicts;
	long cut;
	long nr_marks;
	const long *marks;
	long *window;
	long nr_window;
	long resume_every;
};

static void describe_window(const struct replay *r)
{
	long i;

	printf("#   unflushed at the cut (issue order):\n");
	for (i = 0; i < r->nr_window && i < 40; i++) {
		const struct entry *e = &rec.log[r->window[i]];

		printf("#     [%ld] %s %s off %llu len %zu\n", r->window[i],
		       kind_names[e->kind], rec.files[e->file].name,
		       (unsigned long long)e->off, e->len);
	}
}

/* SPLITKIT_WBC_KEEP=DIR: copy the first failing state there to look at. */
static void keep_failed(const struct replay *r)
{
	const char *keep = getenv("SPLITKIT_WBC_KEEP");
	char cmd[PATH_MAX * 2 + 64];
	unsigned int i;

	if (!keep || !*keep || r->stats->failures > 1)
		return;
	for (i = 0; i < rec.nr_files; i++) {
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s' '%s'/",
			 keep, rec.files[i].replay, keep);
		if (system(cmd))
			printf("# could not keep %s\n", rec.files[i].replay);
	}
}

static void fail(struct replay *r, const char *variant, const char *what,
		 const char *file)
{
	r->stats->failures++;
	if (r->stats->failures > MAX_FAILURES)
		return;
	printf("# %s: cut before log entry %ld, %s: %s%s%s\n", r->sc->name,
	       r->cut, variant, what, file ? " " : "", file ? file : "");
	describe_window(r);
	keep_failed(r);
}

static void check_state(struct replay *r, const char *variant, bool torn)
{
	struct wbc_state st = { .cut = r->cut, .marks = r->marks,
				.nr_marks = r->nr_marks, .variant = variant };
	u64 key = mix(r->nr_marks + 1), slot;
	unsigned int i;
	bool fresh, ok = true;

	r->stats->variants++;
	for (i = 0; i < rec.nr_files; i++)
		key = mix(key ^ file_key(&rec.files[i], i));
	keyset_slot(&r->states, key, &fresh);
	if (!fresh)
		return;
	r->stats->states++;
	if (torn)
		r->stats->torn++;

	for (i = 0; i < rec.nr_files; i++) {
		struct wfile *w = &rec.files[i];
		u64 fk = file_key(w, i);

		st.paths[i] = w->replay;
		if (!w->disk_valid || w->disk_key != fk) {
			if (write_file(w)) {
				fail(r, variant, "cannot write", w->replay);
				return;
			}
			w->disk_key = fk;
			w->disk_valid = true;
		}
	}
	for (i = 0; i < rec.nr_files; i++) {
		struct wfile *w = &rec.files[i];
		int status;

		slot = keyset_slot(&r->verdicts, w->disk_key, &fresh);
		if (fresh) {
			r->stats->checks++;
			if (!qemu_img_ok(w->replay, &status)) {
				char what[64];

				snprintf(what, sizeof(what),
					 "qemu-img check exit %d on", status);
				r->verdicts.v[slot] = 1;
				fail(r, variant, what, w->name);
			} else if (!imgt_check_ok(w->replay, true)) {
				r->verdicts.v[slot] = 1;
				fail(r, variant, "our check found errors in",
				     w->name);
			}
		}
		ok = ok && !r->verdicts.v[slot];
	}
	if (!ok)
		return;
	if (!r->sc->verify(r->sc->ctx, &st)) {
		fail(r, variant, "content check failed", NULL);
		return;
	}
	if (r->sc->resume && r->stats->states % r->resume_every == 0) {
		r->stats->resumed++;
		ok = r->sc->resume(r->sc->ctx, &st);
		for (i = 0; i < rec.nr_files; i++)
			rec.files[i].disk_valid = false;
		if (!ok)
			fail(r, variant, "resume after the cut failed", NULL);
	}
}

/* ---- the losses tried at one cut ---------------------------------------- */

enum variant { V_NONE, V_PREFIX, V_DROP, V_ONLY, V_TORN_HEAD, V_TORN_TAIL,
	       V_RANDOM };

static u64 rng_state;

static bool rng_bit(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng_state >> 63;
}

static bool keep(enum variant v, long j, long e, u64 piece)
{
	switch (v) {
	case V_NONE:
		return false;
	case V_PREFIX:
		return e < j;
	case V_DROP:
		return e != j;
	case V_ONLY:
		return e == j;
	case V_TORN_HEAD:
		return e < j || (e == j && piece == 0);
	case V_TORN_TAIL:
		return e != j || piece != 0;
	case V_RANDOM:
		return rng_bit();
	}
	return false;
}

static u64 pieces(const struct entry *e)
{
	if (e->kind != E_WRITE)
		return 1;
	return (e->off + e->len - 1) / SECTOR - e->off / SECTOR + 1;
}

static void apply_entry_piece(const struct entry *e, u64 piece)
{
	u64 start, end;

	if (e->kind == E_TRUNC) {
		apply_truncate(e->file, e->off);
		return;
	}
	start = (e->off / SECTOR + piece) * SECTOR;
	if (start < e->off)
		start = e->off;
	end = (e->off / SECTOR + piece + 1) * SECTOR;
	if (end > e->off + e->len)
		end = e->off + e->len;
	apply_write(e->file, start, end - start, e->data + (start - e->off));
}

static void try_variant(struct replay *r, enum variant v, long j,
			const char *name)
{
	char label[64];
	long e;
	u64 p;

	for (e = 0; e < r->nr_window; e++) {
		const struct entry *ent = &rec.log[r->window[e]];

		for (p = 0; p < pieces(ent); p++)
			if (keep(v, j, e, p))
				apply_entry_piece(ent, p);
	}
	snprintf(label, sizeof(label), "%s %ld", name, j);
	check_state(r, label, v == V_TORN_HEAD || v == V_TORN_TAIL ||
		    v == V_RANDOM);
	undo_all();
}

static void try_cut(struct replay *r, long samples)
{
	long j, m = r->nr_window;

	r->stats->cuts++;
	try_variant(r, V_NONE, 0, "all unflushed lost");
	for (j = 1; j <= m; j++)
		try_variant(r, V_PREFIX, j, "first entries kept:");
	for (j = 0; m > 1 && j < m; j++) {
		try_variant(r, V_DROP, j, "all kept but");
		try_variant(r, V_ONLY, j, "only kept:");
	}
	for (j = 0; j < m; j++) {
		if (pieces(&rec.log[r->window[j]]) < 2)
			continue;
		try_variant(r, V_TORN_HEAD, j, "torn, first sector only of");
		try_variant(r, V_TORN_TAIL, j, "torn, all but first sector of");
	}
	rng_state = mix(r->cut * 7919 + 17);
	for (j = 0; m > 1 && j < samples; j++)
		try_variant(r, V_RANDOM, j, "random sector subset");
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 10) : dflt;
}

/**
 * wbc_replay() - check every state a cut could leave in the recorded log
 * @sc: the scenario: name, content callback, optional resume callback
 * @stats: filled with counts
 *
 * Return: 0 when every state passed, -1 otherwise (reasons printed as
 * KTAP diagnostics).
 */
int wbc_replay(const struct wbc_scenario *sc, struct wbc_stats *stats)
{
	struct replay r = { .sc = sc, .stats = stats };
	long samples = env_long("SPLITKIT_WBC_SAMPLES", 4);
	char dir[] = "/tmp/sk-wbc.XXXXXX";
	long k, i, *marks;
	unsigned int f;

	memset(stats, 0, sizeof(*stats));
	rec.on = false;
	if (rec.stray) {
		printf("# %s: the engine wrote to a file not watched\n",
		       sc->name);
		stats->failures++;
		return -1;
	}
	r.resume_every = env_long("SPLITKIT_WBC_RESUME_EVERY", 16);
	if (r.resume_every < 1)
		r.resume_every = 1;
	if (!mkdtemp(dir))
		abort();
	r.window = xrealloc(NULL, (rec.nr + 1) * sizeof(long));
	marks = xrealloc(NULL, (rec.nr + 1) * sizeof(long));
	r.marks = marks;
	for (f = 0; f < rec.nr_files; f++) {
		struct wfile *w = &rec.files[f];

		snprintf(w->replay, sizeof(w->replay), "%s/%s", dir, w->name);
		w->buf = NULL;
		w->dirty = NULL;
		w->dirty_list = NULL;
		w->nr_dirty = 0;
		w->dirty_cap = 0;
		w->cap = 0;
		w->size = 0;
		w->sum = 0;
		w->disk_valid = false;
		if (w->base_size)
			put_bytes(w, 0, w->base_size, w->base);
		w->size = w->base_size;
	}

	for (k = 0; k <= rec.nr; k++) {
		const struct entry *e;

		r.cut = k;
		try_cut(&r, samples);
		if (k == rec.nr)
			break;
		e = &rec.log[k];
		switch (e->kind) {
		case E_MARK:
			marks[r.nr_marks++] = e->mark;
			break;
		case E_WRITE:
		case E_TRUNC:
			r.window[r.nr_window++] = k;
			break;
		case E_FLUSH: {
			long kept = 0;

			/* Everything unflushed on this file is durable. */
			for (i = 0; i < r.nr_window; i++) {
				const struct entry *w = &rec.log[r.window[i]];
				u64 p;

				if (w->file != e->file) {
					r.window[kept++] = r.window[i];
					continue;
				}
				for (p = 0; p < pieces(w); p++)
					apply_entry_piece(w, p);
			}
			forget_undo();
			r.nr_window = kept;
			break;
		}
		}
	}

	for (f = 0; f < rec.nr_files; f++) {
		struct wfile *w = &rec.files[f];

		unlink(w->replay);
		free(w->buf);
		free(w->dirty);
		free(w->dirty_list);
		w->buf = NULL;
		w->dirty = NULL;
		w->dirty_list = NULL;
		w->nr_dirty = 0;
		w->dirty_cap = 0;
	}
	rmdir(dir);
	keyset_free(&r.states);
	keyset_free(&r.verdicts);
	free(r.window);
	free(marks);
	printf("# %s: %ld log entries, %ld cuts, %ld losses tried, %ld distinct states (%ld torn or sampled), %ld image checks, %ld resumed, %ld failures\n",
	       sc->name, rec.nr, stats->cuts, stats->variants, stats->states,
	       stats->torn, stats->checks, stats->resumed, stats->failures);
	return stats->failures ? -1 : 0;
}
