#!/bin/sh
# Fetch Debian's stock kernel for the real-kernel VM suite, cached.
#
#   fetch-kernel.sh [CACHE_DIR]
#
# Prints the path of a bootable vmlinuz on stdout (nothing else goes there).
# CACHE_DIR defaults to $MEMOFF_VM_CACHE, else tests/vm/cache under the build
# tree ($top_builddir) or, failing that, beside this script. $MEMOFF_VM_KERNEL,
# when set to an existing file, is used as is.
#
# The kernel comes from the linux-image-amd64 metapackage's dependency
# (linux-image-6.1.0-N-amd64 on Debian 12), fetched with `apt-get download`
# and its /boot unpacked with `dpkg-deb --fsys-tarfile`; nothing is installed on this machine. A
# cache that already holds a kernel is reused without asking apt anything.
#
# Exit status: 0 with the path printed; 77 when no kernel can be had (no
# apt, no package list, download refused), so the suite can SKIP loudly.
set -eu

say() { echo "fetch-kernel: $*" >&2; }
skip() { say "SKIP: $*"; exit 77; }

if [ -n "${MEMOFF_VM_KERNEL:-}" ]; then
	[ -f "$MEMOFF_VM_KERNEL" ] || skip "MEMOFF_VM_KERNEL=$MEMOFF_VM_KERNEL: no such file"
	echo "$MEMOFF_VM_KERNEL"
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
	cache=$1
elif [ -n "${MEMOFF_VM_CACHE:-}" ]; then
	cache=$MEMOFF_VM_CACHE
elif [ -n "${top_builddir:-}" ]; then
	cache=$top_builddir/tests/vm/cache
else
	cache=$here/cache
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The kernel's own configuration must provide everything the suite relies
# on, built in: the guest has no modules.
check_config() {
	cfg=$1
	missing=
	for opt in MEMORY_HOTPLUG MEMORY_HOTREMOVE ACPI_HOTPLUG_MEMORY MIGRATION \
	           SERIAL_8250 SERIAL_8250_CONSOLE DEVTMPFS BLK_DEV_INITRD RD_GZIP \
	           PROC_PAGE_MONITOR TMPFS; do
		grep -q "^CONFIG_$opt=y\$" "$cfg" || missing="$missing $opt"
	done
	[ -z "$missing" ] || { say "kernel config $cfg lacks (built in):$missing"; return 1; }
}

if [ -f "$cache/vmlinuz" ] && [ -f "$cache/config" ]; then
	check_config "$cache/config" || skip "cached kernel in $cache is unusable"
	echo "$cache/vmlinuz"
	exit 0
fi

command -v apt-cache >/dev/null 2>&1 || skip "no apt-cache: cannot fetch Debian's kernel"
command -v apt-get >/dev/null 2>&1 || skip "no apt-get: cannot fetch Debian's kernel"
command -v dpkg-deb >/dev/null 2>&1 || skip "no dpkg-deb: cannot unpack Debian's kernel"

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || skip "apt-cache knows no linux-image-amd64 (run apt-get update?)"
say "kernel package: $pkg"

tmp=$cache/.download.$$
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
# apt-get download drops root to _apt when it can; a cache dir that _apt
# cannot write only costs a warning, which we spare the log.
if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); then
	skip "apt-get download $pkg failed"
fi
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || skip "apt-get download $pkg produced no .deb"
# Only /boot is needed: the guest loads no modules.
mkdir -p "$tmp/root"
dpkg-deb --fsys-tarfile "$deb" | (cd "$tmp/root" && tar -x --wildcards './boot/*') ||
	skip "cannot unpack /boot from $deb"
vmlinuz=$(ls "$tmp"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
config=$(ls "$tmp"/root/boot/config-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] && [ -n "$config" ] || skip "$deb has no /boot/vmlinuz-* or /boot/config-*"
check_config "$config" || skip "Debian's kernel $pkg lacks what the suite needs"

version=$(dpkg-deb -f "$deb" Version)
cp "$config" "$cache/config.new"
cp "$vmlinuz" "$cache/vmlinuz.new"
mv "$cache/config.new" "$cache/config"
mv "$cache/vmlinuz.new" "$cache/vmlinuz"
echo "$pkg $version ${vmlinuz##*/}" > "$cache/kernel-version"
say "cached $pkg $version in $cache"
echo "$cache/vmlinuz"
