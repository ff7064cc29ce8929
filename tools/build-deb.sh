#!/bin/sh
# Build memoff's Debian package from a clean copy of the tree and check it
# with lintian.
#
#   tools/build-deb.sh [BUILDDIR [OUTDIR]]
#
# BUILDDIR is a configured build tree (default ./build); what its `make dist`
# would put in the tarball is the clean copy: unpacked in a scratch directory, built with
# `dpkg-buildpackage -us -uc -b`, the .debs and .changes moved to OUTDIR
# (default BUILDDIR/deb). lintian must report no error and no warning.
# Prints the path of memoff_*.deb last. DEB_BUILD_OPTIONS is passed on
# (tools/check.sh sets nocheck: it has just run the tests).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
out=${2:-$build/deb}
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "build-deb: $t not found (tools/install-deps.sh installs it)" >&2; exit 77; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/memoff-deb.XXXXXX")
# The tests run programs as nobody: the tree must be reachable.
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"' EXIT INT TERM

# `make distdir` writes what `make dist` would put in the tarball.
make -C "$build" -s distdir distdir="$scratch/memoff" >&2 ||
	{ echo "build-deb: make distdir failed" >&2; exit 1; }
(cd "$scratch/memoff" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log" >&2; echo "build-deb: dpkg-buildpackage failed ($out/build.log)" >&2; exit 1; }
rm -f "$out"/memoff*.deb "$out"/memoff*.changes "$out"/memoff*.buildinfo
mv "$scratch"/memoff*.deb "$scratch"/memoff*.changes "$scratch"/memoff*.buildinfo "$out"/
changes=$(ls "$out"/memoff_*.changes)
# Errors, warnings and (shown, not failing) information tags.
lintian --allow-root --display-info --fail-on error,warning "$changes" > "$out/lintian.txt" 2>&1 ||
	{ cat "$out/lintian.txt" >&2; echo "build-deb: lintian is not clean" >&2; exit 1; }
sed 's/^/lintian: /' "$out/lintian.txt" >&2
ls "$out"/memoff_*.deb
