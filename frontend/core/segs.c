// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: segment layout: which 512-byte sectors of
 * each 4 KiB granted page a request of N bytes uses.
 * Linked into splitkit_front.ko and built unchanged on the host by
 * tests/unit/front/ (unit test and libFuzzer target); see check.h.
 */
#include "check.h"

/**
 * skf_seg_sectors() - the sectors of page @page a request of @bytes uses.
 * @bytes: request length, a non-zero multiple of 512.
 * @page: page index, below skf_nr_pages(@bytes).
 * @first: first sector in the page (always 0: data is packed).
 * @last: last sector in the page, inclusive.
 *
 * Return: 0, or -EINVAL for a length or page index out of range.
 */
int skf_seg_sectors(u32 bytes, u32 page, u8 *first, u8 *last)
{
	u32 left;

	if (!bytes || bytes % 512 || page >= skf_nr_pages(bytes))
		return -EINVAL;
	left = bytes - page * SK_BLKIF_PAGE_SIZE;
	if (left > SK_BLKIF_PAGE_SIZE)
		left = SK_BLKIF_PAGE_SIZE;
	*first = 0;
	*last = (u8)((left >> SK_BLKIF_SECTOR_SHIFT) - 1);
	return 0;
}
