// SPDX-License-Identifier: GPL-2.0
/*
 * Opening and closing an image: the header, the features we accept, the
 * tables' caches (table.c, refcount.c) and the backing chain; what callers
 * may read of an open image.
 *
 * An image is opened by path (ski_open()) or from a file the caller has
 * already opened (ski_open_file(): splitkit_back hands over the struct file
 * it serves, userspace an fd); backing files are always opened by path,
 * relative to the image's name.
 */
#include "endian.h"
#include "image_priv.h"

static char *dup_str(const char *s)
{
	size_t len = strlen(s);
	char *copy = skp_zalloc(len + 1);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

/**
 * ski_drop_backing() - forget the backing file once nothing reads from it
 * @img: writable image
 *
 * The backing pointer (bytes 8-19) is cleared with one small write first, so
 * a crash leaves either the old chain or none; the rest of the header is
 * rewritten afterwards.
 */
int ski_drop_backing(struct ski_image *img)
{
	u8 zero[12] = { 0 };
	int err;

	/* unallocated clusters read zero from here: map what is written */
	err = ski_l2_sync(img);
	if (!err)
		err = skp_flush(img->file);
	if (!err)
		err = skp_pwrite(img->file, zero, sizeof(zero), 8);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	img->hdr.backing_file[0] = 0;
	img->hdr.backing_format[0] = 0;
	if (img->backing)
		ski_close(img->backing);
	if (img->backing_raw)
		skp_close(img->backing_raw);
	img->backing = NULL;
	img->backing_raw = NULL;
	return ski_update_header(img);
}

/** ski_backing_path() - the backing file's path, relative to the image's */
char *ski_backing_path(const struct ski_image *img)
{
	const char *slash = strrchr(img->path, '/');
	const char *name = img->hdr.backing_file;
	size_t dir_len, name_len = strlen(name);
	char *path;

	if (name[0] == '/' || !slash)
		return dup_str(name);
	dir_len = slash - img->path + 1;
	path = skp_zalloc(dir_len + name_len + 1);
	if (path) {
		memcpy(path, img->path, dir_len);
		memcpy(path + dir_len, name, name_len);
	}
	return path;
}

/*
 * SKI_OPEN_STRICT: the backing name stays in and under the naming image's
 * directory, and its format is recorded (or the caller said "raw").
 */
static int strict_backing_ok(struct ski_image *img, unsigned int flags)
{
	const char *name = img->hdr.backing_file, *p;

	if (!img->hdr.backing_format[0] && !(flags & SKI_OPEN_UNRECORDED_RAW)) {
		skp_log(SKP_LOG_ERR, "%s: backing file %s has no recorded "
			"format (qemu-img rebase -u -F <fmt>, or allow raw)",
			img->path, name);
		return -EPERM;
	}
	if (name[0] == '/') {
		skp_log(SKP_LOG_ERR, "%s: absolute backing file name %s "
			"refused (only names relative to the image)",
			img->path, name);
		return -EPERM;
	}
	for (p = name; *p; ) {
		if (p[0] == '.' && p[1] == '.' && (!p[2] || p[2] == '/')) {
			skp_log(SKP_LOG_ERR, "%s: backing file name %s leaves "
				"the image's directory ('..')", img->path,
				name);
			return -EPERM;
		}
		p = strchr(p, '/');
		if (!p)
			break;
		p++;
	}
	return 0;
}

static int open_backing(struct ski_image *img, unsigned int flags)
{
	char *path;
	u8 magic[4];
	bool raw;
	int err;

	if (img->depth + 1 >= SKI_MAX_CHAIN) {
		skp_log(SKP_LOG_ERR, "%s: backing chain too long", img->path);
		return -ELOOP;
	}
	if (flags & SKI_OPEN_STRICT) {
		err = strict_backing_ok(img, flags);
		if (err)
			return err;
	}
	path = ski_backing_path(img);
	if (!path)
		return -ENOMEM;
	if (img->hdr.backing_format[0] &&
	    strcmp(img->hdr.backing_format, "raw") &&
	    strcmp(img->hdr.backing_format, "qcow2")) {
		skp_log(SKP_LOG_ERR, "%s: backing format '%s' not supported",
			img->path, img->hdr.backing_format);
		err = -EOPNOTSUPP;
		goto free_path;
	}
	err = skp_open(path, false, &img->backing_raw);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: cannot open backing file %s",
			img->path, path);
		goto free_path;
	}
	err = skp_pread(img->backing_raw, magic, 4, 0);
	if (err)
		goto close_raw;
	if (img->hdr.backing_format[0])
		raw = !strcmp(img->hdr.backing_format, "raw");
	else if (flags & SKI_OPEN_STRICT)
		raw = true;	/* SKI_OPEN_UNRECORDED_RAW: strict_backing_ok() */
	else
		raw = ski_get_be32(magic) != QCOW2_MAGIC;
	if (raw) {
		err = skp_size(img->backing_raw, &img->backing_raw_size);
		if (err)
			goto close_raw;
		goto free_path;
	}
	skp_close(img->backing_raw);
	img->backing_raw = NULL;
	err = ski_open_depth(path, flags & ~SKI_OPEN_RW, img->depth + 1,
			     &img->backing);
	goto free_path;

close_raw:
	skp_close(img->backing_raw);
	img->backing_raw = NULL;
free_path:
	skp_free(path);
	return err;
}

/*
 * The L1 and refcount tables of a chain are held in memory whole: a
 * chain's together may take SKI_CHAIN_TABLE_BYTES (one image at the
 * format's largest takes 40 MiB), so that a crafted chain of sixteen
 * links at the largest cannot take 640 MiB of kernel memory per attach.
 * (A file that names itself fails at the depth limit before any link
 * loads its tables: open_image() opens the chain first.)
 */
static int chain_tables_fit(struct ski_image *img)
{
	u64 own = (u64)img->hdr.l1_size * 8 +
		  ((u64)img->hdr.refcount_table_clusters << img->cluster_bits);

	img->chain_table_bytes = own + (img->backing ?
					img->backing->chain_table_bytes : 0);
	if (img->chain_table_bytes <= SKI_CHAIN_TABLE_BYTES)
		return 0;
	skp_log(SKP_LOG_ERR, "%s: the tables of its backing chain take over %llu MiB",
		img->path, SKI_CHAIN_TABLE_BYTES >> 20);
	return -EFBIG;
}

static int refuse(struct ski_image *img, const char *why)
{
	skp_log(SKP_LOG_ERR, "%s: %s", img->path, why);
	return -EOPNOTSUPP;
}

/* Which features let us open the image at all, and which only read-only. */
static int check_features(struct ski_image *img)
{
	struct ski_header *h = &img->hdr;

	if (h->crypt_method || h->has_crypto)
		return refuse(img, "encrypted images are not supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE ||
	    h->has_data_file)
		return refuse(img, "external data files are not supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_EXTL2)
		return refuse(img, "extended L2 entries are not supported");
	if (!img->writable)
		return 0;
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		return refuse(img, "image is marked corrupt; repair it with "
			      "qemu-img check -r all (read-only open works)");
	if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
		return refuse(img, "image is dirty (lazy refcounts); repair it "
			      "with qemu-img check -r all first");
	if (h->nb_snapshots)
		return refuse(img, "images with internal snapshots open "
			      "read-only only");
	if (h->has_bitmaps || h->autoclear_features & QCOW2_AUTOCLEAR_BITMAPS)
		return refuse(img, "images with persistent bitmaps open "
			      "read-only only");
	if (h->refcount_order != 4)
		return refuse(img, "only 16-bit refcounts are writable");
	return 0;
}

static int load_vminfo(struct ski_image *img)
{
	const char *reason = "";
	int err;

	if (!img->hdr.vminfo) {
		if (img->hdr.incompatible_features &
		    QCOW2_INCOMPAT_SPLITKIT_REQUIRED)
			return refuse(img, "required VM information missing");
		return 0;
	}
	err = ski_vminfo_decode(img->hdr.vminfo, img->hdr.vminfo_len,
				&img->vminfo, &reason);
	if (!err) {
		img->has_vminfo = true;
		return 0;
	}
	ski_vminfo_free(&img->vminfo);
	if (err == -ENOMEM)
		return err;
	if (img->hdr.incompatible_features & QCOW2_INCOMPAT_SPLITKIT_REQUIRED)
		return refuse(img, reason);
	skp_log(SKP_LOG_WARN, "%s: ignoring VM information: %s", img->path,
		reason);
	img->vminfo_unread = true;
	return 0;
}

static int read_header(struct ski_image *img, u64 file_size,
		       const char **reason)
{
	u64 len = 512;
	u8 first[512];
	u8 *buf;
	int err;

	err = skp_pread(img->file, first, sizeof(first), 0);
	if (err)
		return err;
	if (file_size >= 24) {
		u32 bits = ski_get_be32(first + 20);

		if (bits >= QCOW2_MIN_CLUSTER_BITS &&
		    bits <= QCOW2_MAX_CLUSTER_BITS)
			len = 1ULL << bits;
	}
	if (len > file_size)
		len = file_size;
	buf = skp_zalloc(len);
	if (!buf)
		return -ENOMEM;
	err = skp_pread(img->file, buf, len, 0);
	if (!err)
		err = ski_header_parse(buf, len, &img->hdr, reason);
	skp_free(buf);
	return err;
}

/*
 * Open the image in @file (ours from now on, released on failure too) as
 * link @depth of a chain; @name locates it for messages and relative
 * backing names.
 */
static int open_image(struct skp_file *file, const char *name,
		      unsigned int flags, unsigned int depth,
		      struct ski_image **imgp)
{
	const char *reason = "";
	struct ski_image *img;
	u64 file_size;
	int err;

	img = skp_zalloc(sizeof(*img));
	if (!img) {
		skp_close(file);
		return -ENOMEM;
	}
	img->file = file;
	img->depth = depth;
	img->writable = flags & SKI_OPEN_RW;
	img->punch = img->writable && (flags & SKI_OPEN_PUNCH);
	img->open_flags = flags & (SKI_OPEN_STRICT | SKI_OPEN_UNRECORDED_RAW |
				   SKI_OPEN_PUNCH);
	img->path = dup_str(name);
	if (!img->path) {
		err = -ENOMEM;
		goto free_img;
	}
	err = skp_size(img->file, &file_size);
	if (err)
		goto free_img;

	/* The header cluster: its size is in the first sector. */
	err = read_header(img, file_size, &reason);
	if (err == -EINVAL)
		skp_log(SKP_LOG_ERR, "%s: %s", name, reason);
	if (err)
		goto free_img;

	img->cluster_bits = img->hdr.cluster_bits;
	img->cluster_size = 1ULL << img->cluster_bits;
	img->l2_entries = img->cluster_size / 8;
	img->rb_entries = (img->cluster_size * 8) >> img->hdr.refcount_order;
	img->guest_clusters = (img->hdr.size + img->cluster_size - 1) >>
			      img->cluster_bits;
	img->scratch = skp_zalloc(img->cluster_size);
	img->inflate_buf = skp_zalloc(img->cluster_size);
	img->cow_buf = skp_zalloc(img->cluster_size);
	img->pending = skp_zalloc(SKI_WRITE_BATCH * sizeof(*img->pending));
	img->l2_defer_max = SKI_L2_DEFER_BYTES >> img->cluster_bits;
	if (img->l2_defer_max > SKI_L2_DEFER_MAX)
		img->l2_defer_max = SKI_L2_DEFER_MAX;
	if (!img->l2_defer_max)
		img->l2_defer_max = 1;
	img->l2_deferred = skp_zalloc(img->l2_defer_max *
				      sizeof(*img->l2_deferred));
	if (!img->scratch || !img->inflate_buf || !img->cow_buf ||
	    !img->pending || !img->l2_deferred) {
		err = -ENOMEM;
		goto free_img;
	}
	err = check_features(img);
	if (err)
		goto free_img;
	err = load_vminfo(img);
	if (err)
		goto free_img;
	/* the chain first: its tables count before this link loads its own */
	if (img->hdr.backing_file[0] && !(flags & SKI_OPEN_NO_BACKING)) {
		err = open_backing(img, flags);
		if (err)
			goto free_img;
	}
	err = chain_tables_fit(img);
	if (!err && img->writable)
		err = ski_meta_filter_init(img);
	if (err)
		goto free_img;
	err = ski_load_l1(img, file_size);
	if (err)
		goto free_img;
	err = ski_load_reftable(img, file_size);
	if (!err && img->writable)
		err = ski_meta_distinct(img);
	if (err)
		goto free_img;
	err = ski_file_clusters(img, &img->end_cluster);
	if (err)
		goto free_img;
	img->free_hint = 1;
	/* Clear autoclear bits we do not maintain before we write anything. */
	if (img->writable && img->hdr.autoclear_features) {
		u8 zero[8] = { 0 };

		img->hdr.autoclear_features = 0;
		err = skp_pwrite(img->file, zero, 8, 88);
		if (!err)
			err = skp_flush(img->file);
		if (err)
			goto free_img;
	}
	*imgp = img;
	return 0;

free_img:
	ski_close(img);
	return err;
}

int ski_open_depth(const char *path, unsigned int flags, unsigned int depth,
		   struct ski_image **imgp)
{
	struct skp_file *file;
	int err;

	err = skp_open(path, flags & SKI_OPEN_RW, &file);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: cannot open", path);
		return err;
	}
	return open_image(file, path, flags, depth, imgp);
}

/**
 * ski_open() - open a qcow2 image and its backing chain
 * @path: image file
 * @flags: SKI_OPEN_RW, SKI_OPEN_NO_BACKING
 * @imgp: set to the open image
 *
 * Return: 0, or a negative errno after logging why.
 */
int ski_open(const char *path, unsigned int flags, struct ski_image **imgp)
{
	return ski_open_depth(path, flags, 0, imgp);
}

/**
 * ski_open_file() - open a qcow2 image in a file the caller opened
 * @file: from skp_file_from_fd() or skp_file_from_filp(); the image owns
 *	it from now on (ski_close() or a failed open releases it, which
 *	leaves the caller's fd or struct file open)
 * @name: the file's path, for messages and to find a relative backing
 *	file; NULL for none (then backing names resolve as given)
 * @flags: SKI_OPEN_RW (the file must be open for writing),
 *	SKI_OPEN_NO_BACKING
 * @imgp: set to the open image
 *
 * Return: 0, or a negative errno after logging why.
 */
int ski_open_file(struct skp_file *file, const char *name,
		  unsigned int flags, struct ski_image **imgp)
{
	return open_image(file, name ? name : "", flags, 0, imgp);
}

/**
 * ski_flush() - make every write so far durable
 * @img: open image
 *
 * Return: 0 or a negative errno.
 */
int ski_flush(struct ski_image *img)
{
	int err = 0;

	/* A commit's parent holds guest writes too (io.c). */
	if (img->commit_to)
		err = ski_flush(img->commit_to);
	/* a commit cut short leaves its parent writable, with guest writes */
	else if (img->backing && img->backing->writable)
		err = ski_flush(img->backing);
	if (!err && img->writable)
		err = ski_l2_sync(img);
	if (!err && img->writable)
		err = skp_flush(img->file);
	return err;
}

/** ski_close() - flush a writable image and free it and its chain */
void ski_close(struct ski_image *img)
{
	if (!img)
		return;
	if (img->backing)
		ski_close(img->backing);
	if (img->backing_raw)
		skp_close(img->backing_raw);
	/* best effort: unwritten mappings are lost, their clusters leaked */
	if (img->writable && img->file)
		ski_l2_sync(img);
	ski_table_free(img);
	ski_refcount_free(img);
	ski_meta_filter_free(img);
	if (img->has_vminfo)
		ski_vminfo_free(&img->vminfo);
	skp_free(img->pending);
	skp_free(img->l2_deferred);
	skp_free(img->cow_buf);
	skp_free(img->inflate_buf);
	skp_free(img->scratch);
	ski_header_release(&img->hdr);
	if (img->file) {
		if (img->writable)
			skp_flush(img->file);
		skp_close(img->file);
	}
	skp_free(img->path);
	skp_free(img);
}

/** ski_image_path() - the name the image was opened by */
const char *ski_image_path(const struct ski_image *img)
{
	return img->path;
}

/** ski_image_file() - the file an open image reads and writes */
struct skp_file *ski_image_file(const struct ski_image *img)
{
	return img->file;
}

/**
 * ski_image_backing() - the qcow2 image @img reads through
 * @img: an open image
 *
 * Under the caller's lock on @img (a stream's end drops it).
 *
 * Return: @img's qcow2 backing image, or NULL when it has none or a raw
 * backing file.  It stays open while @img keeps it.
 */
struct ski_image *ski_image_backing(const struct ski_image *img)
{
	return img->backing;
}

/**
 * ski_image_backing_raw() - the raw backing file @img reads through
 * @img: an open image
 *
 * Under the caller's lock on @img (a stream's end drops it).
 *
 * Return: @img's raw backing file, or NULL when it has none or a qcow2
 * backing image (ski_image_backing()).  It stays open while @img keeps it.
 */
struct skp_file *ski_image_backing_raw(const struct ski_image *img)
{
	return img->backing_raw;
}

/**
 * ski_image_commit_to() - the image a commit of @img writes guest data into
 * @img: an open image
 *
 * Under the caller's lock on @img (the core is not thread-safe).
 *
 * Return: the writable parent that a running or finished commit of @img
 * sends guest writes, discards and zeroes to (below its cursor, or all of
 * them once it has finished), or NULL when no commit of @img runs or has
 * finished (one cut short sends nothing there any more).  It stays open
 * until @img is closed.
 */
struct ski_image *ski_image_commit_to(const struct ski_image *img)
{
	return img->commit_to;
}

/** ski_image_header() - the parsed header of an open image */
const struct ski_header *ski_image_header(const struct ski_image *img)
{
	return &img->hdr;
}

/** ski_image_vminfo() - the image's VM information, NULL when it has none */
const struct ski_vminfo *ski_image_vminfo(const struct ski_image *img)
{
	return img->has_vminfo ? &img->vminfo : NULL;
}

/**
 * ski_image_vminfo_unread() - whether the image carries VM information this
 *	version could not read (a newer version's, or damaged)
 * @img: open image
 *
 * ski_image_vminfo() then says none; a warning said why at open.
 *
 * Return: true for such unread VM information.
 */
bool ski_image_vminfo_unread(const struct ski_image *img)
{
	return img->vminfo_unread;
}

/**
 * ski_image_file_size() - bytes in the file holding the image
 * @img: open image
 * @size: set to the size
 *
 * Return: 0 or a negative errno.
 */
int ski_image_file_size(struct ski_image *img, u64 *size)
{
	return skp_size(img->file, size);
}

/**
 * ski_set_cache_budget() - memory for the image's metadata caches
 * @img: open image
 * @l2_bytes: L2 tables cached at most, in bytes (0: the default, 1 MiB)
 * @refblock_bytes: refcount blocks cached at most (0: default, 256 KiB)
 *
 * Each cache holds at least two tables whatever the budget, and evicts the
 * least recently used table when full; the tables are read caches, so the
 * budget changes only how often metadata is read again.  Changing it drops
 * what is cached.
 *
 * Return: 0, -ENOMEM (a cache that could not be set up keeps its old
 * budget and contents), or the error of writing out the mappings only the
 * cache held (ski_l2_sync(); nothing changed then).
 */
int ski_set_cache_budget(struct ski_image *img, u64 l2_bytes,
			 u64 refblock_bytes)
{
	int err;

	/* the cache is dropped: what only it holds goes to the file first */
	err = ski_l2_sync(img);
	if (err)
		return err;
	img->l2_budget = l2_bytes;
	img->rb_budget = refblock_bytes;
	err = ski_l2_cache_init(img);
	if (!err)
		err = ski_refcount_cache_init(img);
	return err;
}
