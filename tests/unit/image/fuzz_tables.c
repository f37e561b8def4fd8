// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a whole hostile image file, and everything an attach
 * reads from it.  The input is written to a temporary file and opened
 * (header, extensions, the VM information, L1 and refcount tables); the
 * backing name is resolved against the image's path as an attach would
 * before confining it, and the VM information is queried for the policy
 * fields and re-encoded; the L1, L2 and refcount tables are walked through
 * two-table caches (so hostile tables also go through eviction) by reading
 * the first guest clusters, mapping them and running the consistency
 * check, then the image is written to (a copy-on-write that allocates
 * through the refcount structures, and a zeroed range across clusters) and
 * checked again.  Half the inputs are opened as splitkit_back opens an
 * image at attach.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/image_priv.h"
#include "user/platform_user.h"

static char path[64];

static void put_file(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!path[0]) {
		/* tmpfs when there is one; never fsync per input. */
		snprintf(path, sizeof(path), "%s/sk-fuzz-tables.%d",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm",
			 (int)getpid());
		setenv("SPLITKIT_IMG_NOSYNC", "1", 1);
		skp_user_set_log_level(-1);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

/* What splitkit_back reads at attach besides the tables. */
static void attach_reads(struct ski_image *img)
{
	const struct ski_vminfo *info = ski_image_vminfo(img);
	const struct ski_header *hdr = ski_image_header(img);
	static u8 enc[SKI_VMINFO_MAX_LEN];
	struct ski_vminfo again;
	const char *reason;
	size_t used;
	char *backing;

	if (hdr->backing_file[0]) {
		backing = ski_backing_path(img);
		if (backing && strlen(backing) > 2 * QCOW2_MAX_BACKING_NAME + 64)
			abort();
		skp_free(backing);
	}
	if (!info)
		return;
	ski_vminfo_get(info, "expires");
	ski_vminfo_get(info, "name");
	ski_vminfo_has_tag(info, "prod");
	/* What the engine decoded, it must be able to write back. */
	memset(&again, 0, sizeof(again));
	if (!ski_vminfo_encode(info, enc, sizeof(enc), &used)) {
		if (ski_vminfo_decode(enc, used, &again, &reason) ||
		    again.nr != info->nr)
			abort();
		ski_vminfo_free(&again);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 buf[1 << 17];
	struct ski_check_result res;
	enum ski_cluster_kind kind;
	struct ski_image *img;
	u64 gc, host, n;

	put_file(data, size);
	/*
	 * Odd sizes open the way splitkit_back does (backend/qcow2.c): the
	 * backing chain under SKI_OPEN_STRICT (the name's and format's checks,
	 * then relative names opened next to the scratch file, at most
	 * SKI_MAX_CHAIN deep) and freed clusters punched; even sizes as the
	 * tool's maintenance commands, without the chain.
	 */
	if (ski_open(path, size & 1 ? SKI_OPEN_RW | SKI_OPEN_STRICT |
		     SKI_OPEN_PUNCH : SKI_OPEN_RW | SKI_OPEN_NO_BACKING, &img))
		return 0;
	attach_reads(img);
	ski_set_cache_budget(img, 1, 1);
	for (gc = 0; gc < img->guest_clusters && gc < 8; gc++)
		ski_block_status(img, gc, &kind, &host);
	n = img->hdr.size < sizeof(buf) ? img->hdr.size : sizeof(buf);
	n = n < img->cluster_size * 2 ? n : img->cluster_size * 2;
	ski_read(img, buf, n, 0);
	if (!ski_check(img, 0, &res) && !res.errors && !res.leaks && n) {
		/* Only write where the tables are sound, as the tool does. */
		memset(buf, 0xa5, n);
		ski_write(img, buf, n, 0);
		ski_write_zeroes(img, n / 3, n / 2);
		ski_check(img, 0, &res);
	}
	ski_close(img);
	return 0;
}

/* Remove the scratch file when the run ends. */
static void __attribute__((destructor)) remove_scratch(void)
{
	if (path[0])
		unlink(path);
}
