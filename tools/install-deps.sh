#!/bin/sh
# Install everything memoff needs to build, test and run its real-kernel suite
# on Debian 12: the build, the tests, the QEMU suite, the Debian package
# (tools/build-deb.sh: debhelper, lintian) and the full-system tier's root
# file system (mmdebstrap). Idempotent; needs root (or sudo).
set -eu
pkgs="gcc make autoconf automake pkg-config
      libudev-dev libsystemd-dev libnuma-dev libsmartcols-dev libinih-dev libjson-c-dev libcmocka-dev
      util-linux python3 systemd dbus-daemon
      qemu-system-x86 busybox-static cpio gzip zstd xz-utils
      clang libclang-rt-14-dev clang-tidy cppcheck valgrind libc6-dbg
      bash-completion
      debhelper dh-autoreconf dpkg-dev fakeroot lintian
      mmdebstrap"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $pkgs
