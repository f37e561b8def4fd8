/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wire format of splitkit's "ping" test service, shared by front.c (domU)
 * and back.c (dom0).  The frontend sends numbered requests whose payload is
 * a function of the sequence number; the backend checks order and content
 * and answers with a checksum the frontend checks in turn.  Each queue
 * numbers its requests from 0.
 */
#ifndef _SPLITKIT_PING_H
#define _SPLITKIT_PING_H

#include <linux/types.h>

#define SK_PING_DEVTYPE		"splitkit-ping"
#define SK_PING_PAYLOAD		48
#define SK_PING_MAX_QUEUES	4

/**
 * struct sk_ping_req - one ping.
 * @seq: per-queue sequence number, from 0.
 * @len: payload bytes used, at most SK_PING_PAYLOAD.
 * @csum: sk_ping_csum() of the payload.
 * @payload: sk_ping_fill() of @seq.
 */
struct sk_ping_req {
	__u64 seq;
	__u32 len;
	__u32 csum;
	__u8 payload[SK_PING_PAYLOAD];
};

/**
 * struct sk_ping_rsp - one pong.
 * @seq: the request's sequence number.
 * @csum: bitwise NOT of the request's checksum.
 * @status: 0, or -EIO if the backend found the request out of order or
 *	    corrupt.
 */
struct sk_ping_rsp {
	__u64 seq;
	__u32 csum;
	__s32 status;
};

static inline u32 sk_ping_len(u64 seq)
{
	return 1 + (u32)(seq % SK_PING_PAYLOAD);
}

static inline void sk_ping_fill(u8 *p, u64 seq, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seq * 7 + i * 13);
}

/* FNV-1a over the payload and the sequence number. */
static inline u32 sk_ping_csum(const u8 *p, u32 len, u64 seq)
{
	u32 h = 2166136261u ^ (u32)seq ^ (u32)(seq >> 32);
	u32 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#endif /* _SPLITKIT_PING_H */
