#!/usr/bin/env bash
# Builds the card's virtual-machine image for one firmware, offline from what the project already has, and
# caches it by a hash of its inputs (like the base image):
#   the base root filesystem (images/base/build.sh --rootfs: debootstrap + jlinked JDK 25)
#   + card-node (lab/target/cardnet.jar, with a JDK AOT cache trained on it) + the firmware's files
#   + a Debian kernel (linux-image-*.deb, fetched once and cached; extracted, never installed on this machine)
#     with the modules the card uses and a small busybox initramfs that mounts the root disk
#   = CACHE/vm/HASH/{vmlinuz, initrd.img, rootfs.img (ext4, made with mke2fs -d: nothing is mounted), manifest.json}
#
#   images/vm/build.sh --firmware DIR [--kernel SPEC] [--jar JAR]   build if needed; print the image directory
#   images/vm/build.sh --kernel SPEC --kernel-only                  fetch a kernel; print its directory
#
# SPEC is what firmware.yaml's `kernel:` says (docs/firmware.md): a Debian series (6.1 = bookworm's, 6.12 =
# trixie's), a package version (6.1.0-57-amd64) or a path (an extracted package or a .deb). Without --kernel the
# firmware's own one-line `kernel:` is used. Progress goes to stderr, the result path to stdout.
# Needs root (the AOT training runs in a chroot), dpkg-deb, apt-get, depmod (kmod), cpio, mke2fs (e2fsprogs),
# unshare (util-linux).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${CARDNET_CACHE:-/var/cache/cardnet}
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
jar=$top/lab/target/cardnet.jar
firmware="" spec="" kernel_only=""

die() { echo "images/vm: $*" >&2; exit 1; }
say() { echo "images/vm: $*" >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --firmware) firmware=$(cd "$2" && pwd) || die "no firmware directory '$2'"; shift 2 ;;
    --kernel) spec=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --kernel-only) kernel_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (--firmware DIR, --kernel SPEC, --jar JAR, --kernel-only)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "needs root"
for t in dpkg-deb apt-get depmod modprobe cpio mke2fs sha256sum unshare; do
  command -v "$t" >/dev/null || die "$t is missing: apt-get install dpkg apt kmod cpio e2fsprogs util-linux"
done
if [ -z "$spec" ] && [ -n "$firmware" ]; then
  # `kernel: SPEC`, or `kernel:` with an indented `version: SPEC` under it (docs/firmware.md)
  spec=$(awk '/^kernel:/ { v = $2; sub(/#.*/, "", v); if (v != "") { print v; exit } k = 1; next }
              k && /^[^ ]/ { exit }
              k && /^ +version:/ { v = $2; sub(/#.*/, "", v); print v; exit }' "$firmware/firmware.yaml")
  spec=${spec:-6.1}
fi
[ -n "$spec" ] || die "--kernel SPEC or --firmware DIR is needed"
mkdir -p "$cache/kernels" "$cache/vm"

# ---------------------------------------------------------------- the kernel
# One-off apt sources for a Debian suite: the machine's own apt configuration is never changed.
apt_for() {
  local suite=$1 dir=$cache/kernels/apt-$1
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb $mirror $suite main" > "$dir/sources.list"
  apt_opts=(-o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$dir/lists"
            -o Dir::Cache="$dir/cache" -o APT::Sandbox::User=root -qq)
  if [ -z "$(ls "$dir/lists" 2>/dev/null | grep -v partial)" ] || [ -n "${2:-}" ]; then
    say "reading Debian $suite's package index ($mirror)"
    apt-get "${apt_opts[@]}" update >&2 || die "cannot read $suite's package index from $mirror (no network? set DEBIAN_MIRROR)"
  fi
}
suite_of_series() {
  case "$1" in
    6.1) echo bookworm ;;
    6.12) echo trixie ;;
    *) die "kernel series $1: this build knows 6.1 (bookworm) and 6.12 (trixie); name a package version or a path" ;;
  esac
}
# Prints the directory of an extracted kernel: boot/vmlinuz-ABI, lib/modules/ABI with modules.dep.
fetch_kernel() {
  local spec=$1 abi="" suite deb dir
  case "$spec" in
    */*|*.deb)
      local path=$spec
      [ -n "$firmware" ] && [ "${spec#/}" = "$spec" ] && path=$firmware/$spec
      [ -e "$path" ] || die "kernel '$spec': $path does not exist"
      if [ -f "$path" ]; then
        dir=$cache/kernels/deb-$(sha256sum "$path" | cut -c1-12)
        if [ ! -d "$dir" ]; then
          dpkg-deb -x "$path" "$dir.tmp" || die "kernel '$spec' is not a Debian package"
          mv "$dir.tmp" "$dir"
        fi
      else
        dir=$(cd "$path" && pwd)
      fi
      ;;
    *)
      if [[ $spec =~ ^[0-9]+\.[0-9]+$ ]]; then
        suite=$(suite_of_series "$spec")
        if [ -s "$cache/kernels/series-$spec" ]; then
          abi=$(cat "$cache/kernels/series-$spec")
        else
          apt_for "$suite"
          abi=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1)
          [ -n "$abi" ] || die "Debian $suite names no linux-image-amd64 kernel"
          echo "$abi" > "$cache/kernels/series-$spec"
          say "kernel series $spec is $abi (Debian $suite)"
        fi
      else
        abi=$spec
      fi
      dir=$cache/kernels/$abi
      if [ ! -d "$dir" ]; then
        local scratch found=""
        scratch=$(mktemp -d "$cache/kernels/fetch.XXXXXX")
        for suite in ${suite:-bookworm trixie}; do
          apt_for "$suite"
          say "fetching linux-image-$abi from Debian $suite"
          if (cd "$scratch" && apt-get "${apt_opts[@]}" download "linux-image-$abi" >&2); then found=1; break; fi
        done
        [ -n "$found" ] || { rm -rf "$scratch"; die "no package linux-image-$abi in Debian bookworm or trixie ($mirror): name a kernel that exists (apt-cache search linux-image) or a path"; }
        deb=$(ls "$scratch"/*.deb)
        dpkg-deb -x "$deb" "$scratch/x"
        mv "$scratch/x" "$dir"
        rm -rf "$scratch"
      fi
      ;;
  esac
  # usr-merged packages (trixie) keep their modules in usr/lib/modules
  if [ ! -d "$dir/lib/modules" ] && [ -d "$dir/usr/lib/modules" ]; then
    ln -s usr/lib "$dir/lib"
  fi
  local v
  v=$(ls "$dir/lib/modules" 2>/dev/null | head -1)
  [ -n "$v" ] && [ -n "$(ls "$dir"/boot/vmlinuz-* 2>/dev/null)" ] || die "kernel '$spec' ($dir) has no boot/vmlinuz-* and lib/modules/*"
  [ -s "$dir/lib/modules/$v/modules.dep" ] || depmod -b "$dir" "$v"
  echo "$dir"
}

kdir=$(fetch_kernel "$spec")
release=$(ls "$kdir/lib/modules" | head -1)
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -1)
if [ -n "$kernel_only" ]; then
  echo "$kdir"
  exit 0
fi
[ -n "$firmware" ] || die "--firmware DIR is needed to build an image"
[ -f "$firmware/firmware.yaml" ] || die "$firmware has no firmware.yaml"
[ -f "$jar" ] || die "no $jar: build cardnet first (./mvnw -DskipTests package, or run ./cardnet once)"
version=$(basename "$firmware")

# Copies module MOD and what it needs (modprobe's own resolution), decompressed, into DIR; appends to DIR/modules.order.
copy_with_deps() {
  local dir=$1; shift
  for m in "$@"; do
    modprobe -d "$kdir" -S "$release" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' | while read -r ko; do
    local b
    b=$(basename "$ko")
    case "$b" in
      *.xz) xz -dc "$ko" > "$dir/${b%.xz}"; b=${b%.xz} ;;
      *.zst) zstd -qdc "$ko" > "$dir/${b%.zst}"; b=${b%.zst} ;;
      *) cp "$ko" "$dir/$b" ;;
    esac
    echo "$b" >> "$dir/modules.order"
  done
}

base=$("$top/images/base/build.sh" --rootfs)
firmware_hash=$(tar -C "$firmware" -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner . | sha256sum | cut -c1-16)
hash=$( { cat "$0" "$here/initramfs-init" "$here/cardnet-init"; basename "$base"; echo "$release"; sha256sum < "$vmlinuz";
          sha256sum < "$jar"; echo "$version $firmware_hash"; } | sha256sum | cut -c1-16)
out=$cache/vm/$hash
if [ -s "$out/manifest.json" ]; then
  echo "$out"
  exit 0
fi

work=$(mktemp -d "$cache/vm/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "building the VM image of firmware $version on kernel $release (into $out)"

# the initramfs: busybox from the base, the root disk's drivers, the init above
mkdir -p "$work/initrd/bin" "$work/initrd/lib/modules" "$work/initrd/dev" "$work/initrd/proc" "$work/initrd/sys" "$work/initrd/root"
tar -xf "$base" -C "$work/initrd" --wildcards --no-anchored 'bin/busybox' 2>/dev/null || true
bb=$(find "$work/initrd" -name busybox -type f | head -1)
[ -n "$bb" ] || die "the base root filesystem has no busybox (busybox-static): rebuild it with images/base/build.sh --rootfs --force"
mv "$bb" "$work/initrd/bin/busybox.real" && rm -rf "$work/initrd/usr" && mv "$work/initrd/bin/busybox.real" "$work/initrd/bin/busybox"
for a in sh mount umount insmod switch_root sleep cat cut tr grep echo uname; do ln -s busybox "$work/initrd/bin/$a"; done
: > "$work/initrd/lib/modules/modules.order"
copy_with_deps "$work/initrd/lib/modules" virtio_pci virtio_blk ext4
mv "$work/initrd/lib/modules/modules.order" "$work/initrd/modules.order"
install -m 0755 "$here/initramfs-init" "$work/initrd/init"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.img"

# the root filesystem
say "unpacking the base $(basename "$base")"
mkdir "$work/root"
tar -xf "$base" -C "$work/root"
src=$kdir/lib/modules/$release
dst=$work/root/lib/modules/$release
mkdir -p "$dst/kernel/drivers/net"
cp "$src"/modules.order "$src"/modules.builtin* "$dst/" 2>/dev/null || true
for d in arch block crypto fs lib mm net virt; do
  [ -d "$src/kernel/$d" ] && cp -a "$src/kernel/$d" "$dst/kernel/"
done
for d in virtio char block firmware; do
  [ -d "$src/kernel/drivers/$d" ] && cp -a "$src/kernel/drivers/$d" "$dst/kernel/drivers/"
done
find "$src/kernel/drivers/net" -maxdepth 1 -name '*.ko*' -exec cp {} "$dst/kernel/drivers/net/" \;
depmod -b "$work/root" "$release"
mkdir -p "$work/root/opt/cardnet/firmware"
cp "$jar" "$work/root/opt/cardnet/cardnet.jar"
cp -a "$firmware" "$work/root/opt/cardnet/firmware/$version"
[ -d "$firmware/overlay" ] && cp -a "$firmware/overlay/." "$work/root/"
install -m 0755 "$here/cardnet-init" "$work/root/sbin/cardnet-init"
echo card > "$work/root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 card\n' > "$work/root/etc/hosts"
echo "$version" > "$work/root/etc/cardnet-firmware"

# A JDK AOT cache (JEP 483/515) trained on card-node's own start-up classes: in a TCG guest a cold JVM start is
# tens of seconds. Trained here in a chroot of the same root filesystem, with the flags cardnet-init uses
# (jvm_flags there: classes and profiles only, no machine code, since this machine's CPU is not the card's).
say "training card-node's AOT cache"
# The JVM finds itself through /proc/self/exe: /proc is mounted for it in a mount namespace of its own, which
# vanishes with it.
read -r -a jvm_flags <<< "$(sed -n 's/^jvm_flags=(\(.*\))$/\1/p' "$here/cardnet-init")"
[ ${#jvm_flags[@]} -gt 0 ] || die "images/vm/cardnet-init has no jvm_flags=(...) line"
if unshare --mount --pid --fork --mount-proc="$work/root/proc" chroot "$work/root" /opt/java/bin/java "${jvm_flags[@]}" \
    -XX:AOTCacheOutput=/opt/cardnet/cardnet.aot -jar /opt/cardnet/cardnet.jar aot-train \
    "/opt/cardnet/firmware/$version" > "$work/aot.log" 2>&1; then
  :
else
  say "AOT training failed (the card still boots, only slower):"; tail -5 "$work/aot.log" >&2
  rm -f "$work/root/opt/cardnet/cardnet.aot"
fi
rm -f "$work/root/opt/cardnet/cardnet.aot.config"

size=$(( $(du -sm "$work/root" | cut -f1) * 13 / 10 + 256 ))
mke2fs -q -F -t ext4 -L cardroot -d "$work/root" "$work/rootfs.img" "${size}M" >&2

mkdir "$work/out"
mv "$work/rootfs.img" "$work/initrd.img" "$work/out/"
cp "$vmlinuz" "$work/out/vmlinuz"
cat > "$work/out/manifest.json" <<JSON
{"hash": "$hash", "firmware": "$version", "kernelRelease": "$release", "kernelSpec": "$spec",
 "base": "$(basename "$base")", "rootfsMiB": $size, "builtAt": "$(date -u +%FT%TZ)"}
JSON
mv "$work/out" "$out"
say "image ready: firmware $version, kernel $release, root disk ${size} MiB"

# Older images of this firmware (an earlier cardnet.jar, base or kernel) go, except the newest two and any that a
# running lab's slot still boots (its qcow2 disk is an overlay on the image).
in_use=$(cat /run/cardnet/*/lab.json 2>/dev/null || true)
for old in $(ls -dt "$cache"/vm/*/ 2>/dev/null); do
  old=${old%/}
  [ "$old" = "$out" ] && continue
  grep -q "\"firmware\": \"$version\"" "$old/manifest.json" 2>/dev/null || continue
  keep=$((${keep:-1} - 1))
  [ "$keep" -ge 0 ] && continue
  case "$in_use" in *"$old"*) continue ;; esac
  rm -rf "$old"
done
echo "$out"
