#!/usr/bin/env bash
# Builds the base every cardnet card and container starts from, without a container registry:
#   debootstrap --variant=minbase Debian bookworm + the tools the card and the lab need
#   + a jlinked JDK 25 runtime in /opt/java.
# The root filesystem is kept as a tarball in the cache (CARDNET_CACHE, default /var/cache/cardnet), named by a
# hash of the inputs (this script, the package list, the JDK's release file), so it is rebuilt only when one of
# them changes. The compose lab imports it into Docker as cardnet/base:<hash> (and :latest); the VM card's
# image (images/vm/build.sh) unpacks it.
#
#   images/base/build.sh            build what is missing, import into Docker, print the tag
#   images/base/build.sh --rootfs   only make sure the tarball exists and print its path (no Docker needed)
#   images/base/build.sh --force    build again even if the tag or tarball exists
#
# Needs root, debootstrap and a JDK 25 (JDK25_HOME, or the Temurin path below); docker (a running engine) unless
# --rootfs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
jdk=${JDK25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${CARDNET_CACHE:-/var/cache/cardnet}
suite=bookworm
# what the card, the host bridge, the wire peer and the tests run inside containers; kmod, qemu-guest-agent,
# busybox-static and pciutils are for the card as a virtual machine (modules, `cardnet card exec`, its initramfs,
# lspci); openssh-client makes the compose lab's console keys (ssh-keygen) and logs in from the host container
# (ssh), curl fetches the card's web pages from the wire container
packages=iproute2,nftables,iperf3,procps,iputils-ping,netcat-openbsd,ca-certificates,kmod,qemu-guest-agent,busybox-static,pciutils,openssh-client,curl
# what cardnet's own classes need (jdeps --print-module-deps on lab/target/cardnet.jar; jdk.net: SO_PEERCRED on the control socket)
modules=java.base,java.desktop,java.naming,java.rmi,java.security.jgss,java.sql,jdk.httpserver,jdk.jfr,jdk.management,jdk.net,jdk.unsupported

mode=docker force=""
for a in "$@"; do
  case "$a" in
    --rootfs) mode=rootfs ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "images/base: unknown option '$a' (--rootfs, --force)" >&2; exit 2 ;;
  esac
done

die() { echo "images/base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap makes device nodes)"
[ -x "$jdk/bin/jlink" ] || die "no JDK 25 at $jdk (set JDK25_HOME)"
if [ "$mode" = docker ]; then
  docker info >/dev/null 2>&1 || die "no Docker engine answers: start dockerd (or use --rootfs for the VM card only)"
fi

hash=$( { cat "$0"; echo "$packages $modules $suite"; cat "$jdk/release"; } | sha256sum | cut -c1-12)
tag=cardnet/base:$hash
tarball=$cache/base/base-$hash.tar

if [ -z "$force" ] && [ "$mode" = docker ] && docker image inspect "$tag" >/dev/null 2>&1; then
  docker tag "$tag" cardnet/base:latest
  echo "$tag"
  exit 0
fi

if [ -n "$force" ] || [ ! -s "$tarball" ]; then
  mkdir -p "$cache/base"
  root=""
  trap 'rm -rf "$root" "$tarball.tmp"' EXIT
  if [ -z "$force" ] && command -v docker >/dev/null && docker image inspect "$tag" >/dev/null 2>&1; then
    # The image exists but not its tarball (another cache, or a cleaned one): export it, faster than debootstrap.
    echo "images/base: exporting $tag to $tarball" >&2
    cid=$(docker create "$tag" /bin/true)
    docker export "$cid" > "$tarball.tmp" && docker rm "$cid" >/dev/null
  else
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
    root=$(mktemp -d /tmp/cardnet-base.XXXXXX)
    echo "images/base: debootstrap $suite into $root (about a minute)" >&2
    debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >&2
    echo "images/base: jlink $modules" >&2
    "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
      --compress=zip-6 --output "$root/opt/java"
    # an image needs no package caches, docs or locales
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
      "$root"/usr/share/man/* "$root"/usr/share/locale/*
    tar -C "$root" -c . > "$tarball.tmp"
  fi
  mv "$tarball.tmp" "$tarball"
  # older bases of this cache are superseded
  find "$cache/base" -maxdepth 1 -name 'base-*.tar' ! -name "base-$hash.tar" -delete
fi

if [ "$mode" = rootfs ]; then
  echo "$tarball"
  exit 0
fi

echo "images/base: docker import as $tag" >&2
# an imported image has no environment: set PATH (and JAVA_HOME) here
docker import \
  --change 'ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV JAVA_HOME=/opt/java' \
  --change 'ENV LANG=C.UTF-8' \
  "$tarball" "$tag" >/dev/null
docker tag "$tag" cardnet/base:latest
echo "$tag"
