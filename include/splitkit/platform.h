/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Platform glue for splitkit's portable core.
 *
 * The ring index arithmetic, hold-off decisions, poll-window logic,
 * XenStore value parsing and the xenbus state machine (ring/core/) compile
 * unchanged in the kernel and in userspace unit tests.  This header is the
 * only place that differs: it supplies fixed-width types, single-access
 * loads and stores, and the three memory barriers the shared-ring protocol
 * needs.  Userspace builds define SPLITKIT_USERSPACE (tests/unit/Makefile
 * and ring/bench.mk do).
 *
 * The barriers are those of a shared-memory protocol between two CPUs that
 * may belong to different domains: sk_wmb() orders stores before stores,
 * sk_rmb() orders loads before loads, sk_mb() orders everything (in
 * particular a store before a later load).  In the kernel they are the
 * virt_*() barriers Xen's ring.h uses.
 */
#ifndef _SPLITKIT_PLATFORM_H
#define _SPLITKIT_PLATFORM_H

#ifdef SPLITKIT_USERSPACE

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* One load or store of exactly the given object, never torn or repeated. */
#define SK_READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define SK_WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#define sk_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define sk_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define sk_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

#define SK_STATIC_ASSERT(cond, msg)	_Static_assert(cond, msg)

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#else /* kernel */

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/barrier.h>

#define SK_READ_ONCE(x)		READ_ONCE(x)
#define SK_WRITE_ONCE(x, v)	WRITE_ONCE(x, v)

#define sk_rmb()	virt_rmb()
#define sk_wmb()	virt_wmb()
#define sk_mb()		virt_mb()

#define SK_STATIC_ASSERT(cond, msg)	static_assert(cond, msg)

#endif /* SPLITKIT_USERSPACE */

#endif /* _SPLITKIT_PLATFORM_H */
