#!/bin/sh
# Build the initramfs of the real-kernel VM suite.
#
#   mkinitramfs.sh OUTPUT [--add SRC:DEST]... [BINARY]...
#
# OUTPUT is a gzip'd cpio (newc) holding: busybox (static, with a link for
# every applet), each BINARY in /usr/bin with the shared libraries ldd names
# for it (and the dynamic loader), util-linux's lsmem and chmem from this
# machine with their libraries, the files given with --add (SRC copied to
# DEST inside the image), and an /init that mounts the pseudo file systems
# and runs the command loop of tests/vm/vm.py on the second serial port.
#
# Needs: busybox (busybox-static), cpio, gzip, ldd. lsmem/chmem are optional
# (a warning when missing). Exit 77 when a required tool is missing.
set -eu

say() { echo "mkinitramfs: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -ge 1 ] || { echo "usage: $0 OUTPUT [--add SRC:DEST]... [BINARY]..." >&2; exit 2; }
out=$1
shift

for t in cpio gzip ldd; do
	command -v "$t" >/dev/null 2>&1 || { say "SKIP: $t not found"; exit 77; }
done
busybox=
for b in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
	if [ -n "$b" ] && [ -x "$b" ]; then busybox=$b; break; fi
done
[ -n "$busybox" ] || { say "SKIP: busybox not found (apt-get install busybox-static)"; exit 77; }

root=$(mktemp -d "${TMPDIR:-/tmp}/memoff-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT INT TERM
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/lib "$root"/lib64 \
	"$root"/etc "$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/run "$root"/root \
	"$root"/var/tmp "$root"/mnt

# Copy a file to its own path inside the image, keeping what ldd says it is.
put() {
	src=$1
	dst=$root$2
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$src" "$dst"
}

# Copy a binary's shared libraries (and the loader) under their ldd paths.
put_libs() {
	ldd "$1" 2>/dev/null | while read -r a b c d; do
		case "$a" in
		linux-vdso.so*|linux-gate.so*) ;;
		/*) put "$a" "$a" ;;	# the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)"
		*)
			if [ "$b" = "=>" ] && [ -n "$c" ] && [ "${c#/}" != "$c" ]; then
				put "$c" "$c"
			elif [ "$b" = "=>" ] && [ "$c" = "not" ]; then
				say "warning: $1 needs $a, which ldd cannot find"
			fi
			;;
		esac
	done
}

put_binary() {
	src=$1
	dst=$2
	[ -f "$src" ] || die "$src: no such file"
	mkdir -p "$(dirname "$root$dst")"
	cp -L "$src" "$root$dst"
	chmod 0755 "$root$dst"
	put_libs "$src"
}

# busybox and its applets.
cp -L "$busybox" "$root/bin/busybox"
# A dynamic busybox works too, with its libraries (ldd fails on a static one).
if ldd "$busybox" >/dev/null 2>&1; then put_libs "$busybox"; fi
for applet in $("$busybox" --list-full); do
	case "$applet" in
	bin/busybox|linuxrc|init|sbin/init) continue ;;
	esac
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# util-linux's tools, for comparisons and the chmem benchmark.
for tool in lsmem chmem; do
	p=$(PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH command -v "$tool" 2>/dev/null || true)
	if [ -n "$p" ]; then
		rm -f "$root/usr/bin/$tool" "$root/usr/sbin/$tool" "$root/bin/$tool" "$root/sbin/$tool"
		put_binary "$p" "/usr/bin/$tool"
	else
		say "warning: $tool not found on this machine; the guest has none"
	fi
done

while [ $# -gt 0 ]; do
	case "$1" in
	--add)
		[ $# -ge 2 ] || die "--add needs SRC:DEST"
		src=${2%%:*}
		dst=${2#*:}
		[ -e "$src" ] || die "$src: no such file"
		mkdir -p "$(dirname "$root$dst")"
		cp -L "$src" "$root$dst"
		shift 2
		;;
	*)
		name=${1##*/}
		rm -f "$root/usr/bin/$name" "$root/bin/$name"
		put_binary "$1" "/usr/bin/$name"
		shift
		;;
	esac
done

# The command loop vm.py speaks to (shared with the full-system tier).
mkdir -p "$root/usr/lib/memoff-test"
cp "$(dirname "$0")/guest-loop.sh" "$root/usr/lib/memoff-test/guest-loop.sh"

echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
: > "$root/etc/fstab"

cat > "$root/init" <<'INIT'
#!/bin/sh
# memoff VM suite: PID 1 of the guest.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -c /dev/kmsg ] || mknod /dev/kmsg c 1 11
# Warnings and below stay in the kernel log (dmesg) and off the console;
# the command channel is ttyS1 anyway, which the kernel never writes.
dmesg -n 4
echo 1 > /proc/sys/kernel/sysrq	# vm.py's diagnose() uses SysRq w and t
hostname memoff-vm
echo "memoff-vm: init up $(cut -d' ' -f1 /proc/uptime)s" > /dev/kmsg

ch=/dev/ttyS1
if [ ! -c $ch ]; then
	echo "memoff-vm: no $ch: no command channel" > /dev/console
	sleep 5
	poweroff -f
fi
exec sh /usr/lib/memoff-test/guest-loop.sh $ch
INIT
chmod 0755 "$root/init"

tmp_out=$out.tmp.$$
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 > "$tmp_out"
mv "$tmp_out" "$out"
say "wrote $out ($(du -k "$out" | cut -f1) KiB)"
