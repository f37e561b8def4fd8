# SPDX-License-Identifier: GPL-2.0
#
# hvm-smoke (dom0 half): proves the harness can run HVM guests, which the
# shunt needs: an emulated disk and a PV path to the same disk.
#
#   dom0: /run/hvm-smoke.img -- QEMU (IDE emulation) --> sda  :HVM domU
#                            \-- QEMU qdisk ==ring==> xvda    :HVM domU
#
# dom0 writes 16 MiB of random data at offset 0 (region A) and hands its
# checksum to the guest on the kernel command line; the guest checks it
# through both paths, writes 16 MiB at 64 MiB (region B) through the PV
# path, reads it back through the emulated one and prints its checksum,
# which dom0 compares with the file's once the guest is gone.

img=/run/hvm-smoke.img
cfg=/run/hvm-smoke.cfg
rm -f "$img"
truncate -s 128M "$img"
dd if=/dev/urandom of="$img" bs=1M count=16 conv=notrunc 2>/dev/null
md5a=$(dd if="$img" bs=1M count=16 2>/dev/null | md5sum | cut -d' ' -f1)
sed "s/@MD5A@/$md5a/" domU.cfg.in >"$cfg"
# What the toolstack published for the PV path, taken when the guest has
# looked for its PV disk (its result line for xvda, either way) and the
# disk is still attached: an event, not a delay.
hvm_diag()
{
	local log=/var/log/xen/console/guest-hvm-smoke.log n=0
	until grep -q 'PV disk /dev/xvda appeared' "$log" 2>/dev/null; do
		[ "$n" -lt 600 ] || return
		sleep 1
		n=$((n + 1))
	done
	xenstore-ls -f /local/domain/0/backend 2>&1 | grep -E 'vbd|qdisk' |
		grep -E '/(state|type|params|frontend) ' |
		while IFS= read -r l; do
			sk_comment "xenstore: $l"
		done
}
hvm_diag &
diag=$!
sk_hvm_run "$cfg" "$(sk_guard 600)"
kill "$diag" 2>/dev/null
md5b_guest=$(sed -n 's/^SKU: # md5 of region B: \([0-9a-f]*\).*/\1/p' \
	/var/log/xen/console/guest-hvm-smoke.log | tr -d '\r' | head -n 1)
md5b=$(dd if="$img" bs=1M skip=64 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
sk_check "dom0 reads region B as the guest wrote it" \
	test -n "$md5b_guest" -a "$md5b_guest" = "$md5b"
rm -f "$img" "$cfg"
