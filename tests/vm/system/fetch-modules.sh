#!/bin/sh
# The kernel modules the full-system tier's guest loads, cached.
#
#   fetch-modules.sh CACHE_DIR
#
# Prints the path of a gzip'd newc cpio on stdout (nothing else goes there):
# /usr/lib/modules/KVER/kernel/drivers/virtio/*.ko and virtio_console.ko of
# the very kernel package fetch-kernel.sh cached (CACHE_DIR/kernel-version
# names it). Debian builds virtio-pci and virtio-console as modules
# (CONFIG_VIRTIO_PCI=m, CONFIG_VIRTIO_CONSOLE=m); qemu-guest-agent needs
# them for its virtio-serial port. The guest runs depmod (kmod is in the
# root file system) and modprobe.
#
# Cached as CACHE_DIR/modules-VERSION.cpio.gz. Exit 77 when they cannot be
# had (no kernel-version, apt-get download refused).
set -eu

say() { echo "fetch-modules: $*" >&2; }
skip() { say "SKIP: $*"; exit 77; }

[ $# -eq 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
cache=$(cd "$1" && pwd)
[ -f "$cache/kernel-version" ] || skip "no $cache/kernel-version (fetch-kernel.sh writes it)"
read -r pkg version _ < "$cache/kernel-version"
out=$cache/modules-$version.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
for t in apt-get dpkg-deb cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found"
done

tmp=$(mktemp -d "$cache/.modules.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >&2) ||
	skip "apt-get download $pkg=$version failed"
set -- "$tmp"/*.deb
deb=$1
[ -f "$deb" ] || skip "apt-get download $pkg=$version produced no .deb"
mkdir -p "$tmp/root/usr"
dpkg-deb --fsys-tarfile "$deb" | (cd "$tmp/root/usr" && tar -x --wildcards \
	'./lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/drivers/char/virtio_console.ko*') ||
	skip "cannot unpack the virtio modules from $deb"
ls "$tmp"/root/usr/lib/modules/*/kernel/drivers/char/virtio_console.ko* >/dev/null 2>&1 ||
	skip "$deb has no virtio_console module"
# Directories as the root file system has them; "." left out (/ keeps its mode).
(cd "$tmp/root" && find . -mindepth 1 -type d -exec chmod 0755 {} + &&
	find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 > "$tmp/modules.cpio.gz"
mv "$tmp/modules.cpio.gz" "$out"
say "cached the virtio modules of $pkg $version in $out"
echo "$out"
