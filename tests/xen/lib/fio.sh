# SPDX-License-Identifier: GPL-2.0
#
# Sourced by scenario scripts on both sides (dom0 and guests): one fio job per
# disk region, so data written with verify headers (crc32c) on one side is
# verified by the very same job, in --verify_only mode, on the other.
#
# Disk layout (256 MiB): region A [0, 64M) written by dom0, region B
# [128M, 192M) written by the domU.

# sk_fio_region FILE REGION MODE: MODE is "write" or "verify".
sk_fio_region()
{
	local file=$1 region=$2 mode=$3 offset extra
	case "$region" in
	A) offset=0 ;;
	B) offset=128m ;;
	esac
	case "$mode" in
	write) extra="--do_verify=1" ;;
	verify) extra="--verify_only" ;;
	esac
	fio --name="region$region" --filename="$file" --rw=write --bs=64k \
	    --offset="$offset" --size=64m --ioengine=psync --direct=0 \
	    --verify=crc32c --verify_fatal=1 --randrepeat=1 --randseed=1$region \
	    --verify_state_save=0 --output=/dev/null $extra
}
