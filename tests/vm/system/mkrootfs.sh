#!/bin/sh
# Build (once) the Debian 12 root file system of the full-system VM tier.
#
#   mkrootfs.sh CACHE_DIR
#
# Prints the path of a gzip'd newc cpio on stdout (nothing else goes there):
# a minbase Debian 12 made by mmdebstrap with systemd as init, udev, the
# system bus, and the libraries memoff's package depends on, but not memoff
# itself: the tier installs the project's own .deb into the booted guest, the
# way an operator would. The kernel boots it as its initramfs (an initramfs
# may be several cpio archives one after the other: the tier appends the
# .deb, the test helpers and the command channel's unit, see run-system.py).
#
# The archive is cached in CACHE_DIR under a name that is a hash of what goes
# into it (this script, the package list, the suite and the mirror apt is
# configured with), so a change to any of them builds a new one. mmdebstrap
# fetches from the Debian mirrors of this machine's apt sources (apt-get
# update first).
#
# Needs root (mmdebstrap's root mode keeps ownership and device nodes),
# mmdebstrap, cpio, gzip: exit 77 without them. A failed mmdebstrap (no
# mirror) is an error, exit 1.
set -eu

say() { echo "mkrootfs: $*" >&2; }
skip() { say "SKIP: $*"; exit 77; }

[ $# -eq 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
cache=$1
suite=${MEMOFF_SYSTEM_SUITE_DIST:-bookworm}

# What the scenarios use: systemd as PID 1 (systemd-sysv), udevd, the system
# bus, memoff's shared libraries (so that its .deb installs without network),
# procps (kill for ExecReload=), qemu-guest-agent (virtio-serial agent
# for the cloud scenarios) and kmod (depmod and modprobe for the kernel's
# virtio modules that agent needs, which run-system.py adds).
packages="systemd-sysv udev dbus procps kmod libinih1 libsmartcols1 libsystemd0 libudev1 qemu-guest-agent"

here=$(cd "$(dirname "$0")" && pwd)
# The Debian mirror(s) this machine's apt uses for the suite (and its
# -updates and -security), as sources.list lines: the guest comes from where
# this machine's packages come from. None known: mmdebstrap's default,
# deb.debian.org.
# shellcheck disable=SC2016
sources=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null |
	awk -v s="$suite" '($2 == s || $2 == s "-updates" || $2 == s "-security") && $3 == "main" {
		print "deb " $1 " " $2 " main" }' | LC_ALL=C sort -u)
key=$( { cat "$here/mkrootfs.sh"; echo "$suite $packages"; echo "$sources"; } | sha256sum | cut -c1-16)
out=$cache/rootfs-$suite-$key.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || skip "building the Debian root file system needs root (mmdebstrap)"
command -v mmdebstrap >/dev/null 2>&1 || skip "mmdebstrap not found (apt-get install mmdebstrap)"
for t in cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found"
done
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

say "building a $suite root file system ($packages) with mmdebstrap from: $(echo "$sources" | tr '\n' ';')"
# One mirror argument per sources.list line.
IFS='
'

# No documentation, translations or hardware database in a test guest: the
# image is smaller and the kernel unpacks it faster.
# shellcheck disable=SC2016
# shellcheck disable=SC2086
if ! mmdebstrap --quiet --variant=minbase --mode=root --components=main \
	--include="$(echo "$packages" | tr ' ' ',')" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--customize-hook='rm -f "$1"/usr/lib/udev/hwdb.bin "$1"/etc/udev/hwdb.bin' \
	--customize-hook='echo memoff-system > "$1"/etc/hostname' \
	--customize-hook=': > "$1"/etc/fstab' \
	--customize-hook='ln -sf /lib/systemd/systemd "$1"/init' \
	"$suite" "$tmp/root" $sources >&2; then
	say "mmdebstrap $suite failed (is the mirror reachable? apt-get update first)"
	exit 1
fi
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc) | gzip -1 > "$tmp/rootfs.cpio.gz"
mv "$tmp/rootfs.cpio.gz" "$out"
say "cached $out ($(du -m "$out" | cut -f1) MiB)"
echo "$out"
