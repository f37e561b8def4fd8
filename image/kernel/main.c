// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_image.ko: the portable qcow2 core as a library module.
 *
 * The core (image/core/) is plain C shared with the splitkit tool and the
 * unit tests, so it carries no kernel export macros; this file is where the
 * module offers its public interface (image/core/image.h, ops.h, vminfo.h)
 * and the kernel platform layer's file wrapper to the other splitkit
 * modules, in the SPLITKIT namespace.  The module holds no state of its
 * own: every image is owned by whoever opened it.
 */
#include <linux/module.h>
#include <splitkit/export.h>

#include "../core/image.h"
#include "../core/ops.h"

/* image.h */
SPLITKIT_EXPORT(ski_open);
SPLITKIT_EXPORT(ski_open_file);
SPLITKIT_EXPORT(ski_close);
SPLITKIT_EXPORT(ski_flush);
SPLITKIT_EXPORT(ski_drop_backing);
SPLITKIT_EXPORT(ski_image_path);
SPLITKIT_EXPORT(ski_image_file);
SPLITKIT_EXPORT(ski_image_backing);
SPLITKIT_EXPORT(ski_image_commit_to);
SPLITKIT_EXPORT(ski_image_header);
SPLITKIT_EXPORT(ski_image_vminfo);
SPLITKIT_EXPORT(ski_image_file_size);
SPLITKIT_EXPORT(ski_set_cache_budget);
SPLITKIT_EXPORT(ski_create);
SPLITKIT_EXPORT(ski_read);
SPLITKIT_EXPORT(ski_write);
SPLITKIT_EXPORT(ski_discard);
SPLITKIT_EXPORT(ski_write_zeroes);
SPLITKIT_EXPORT(ski_grow);
SPLITKIT_EXPORT(ski_block_status);
SPLITKIT_EXPORT(ski_map_data);
SPLITKIT_EXPORT(ski_map_data_in);
SPLITKIT_EXPORT(ski_set_free_hook);
SPLITKIT_EXPORT(ski_update_header);
SPLITKIT_EXPORT(ski_set_vminfo);
SPLITKIT_EXPORT(ski_vminfo_forget);
SPLITKIT_EXPORT(ski_note_history);
SPLITKIT_EXPORT(ski_check);

/* ops.h */
SPLITKIT_EXPORT(ski_op_begin);
SPLITKIT_EXPORT(ski_op_step);
SPLITKIT_EXPORT(ski_op_set_unlock);
SPLITKIT_EXPORT(ski_op_end);

/* vminfo.h */
SPLITKIT_EXPORT(ski_vminfo_decode);
SPLITKIT_EXPORT(ski_vminfo_encode);
SPLITKIT_EXPORT(ski_vminfo_free);
SPLITKIT_EXPORT(ski_vminfo_copy);
SPLITKIT_EXPORT(ski_vminfo_get);
SPLITKIT_EXPORT(ski_vminfo_set);
SPLITKIT_EXPORT(ski_vminfo_remove);
SPLITKIT_EXPORT(ski_vminfo_has_tag);
SPLITKIT_EXPORT(ski_vminfo_add_history);

/* platform.h: handing ski_open_file() a struct file */
SPLITKIT_EXPORT(skp_file_from_filp);
SPLITKIT_EXPORT(skp_file_filp);
SPLITKIT_EXPORT(skp_close);

MODULE_DESCRIPTION("splitkit qcow2 image engine core");
MODULE_LICENSE("GPL");
