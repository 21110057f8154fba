#!/usr/bin/env bash
# Builds the base image every cardnet container starts from, without a container registry:
#   debootstrap --variant=minbase Debian bookworm + the tools the card and the lab need
#   + a jlinked JDK 25 runtime in /opt/java, imported with `docker import`.
# The tag is a hash of the inputs (this script, the package list, the JDK's release file), so the image is
# rebuilt only when one of them changes; cardnet/base:latest points at the newest build.
#
#   images/base/build.sh            build if needed, print the tag
#   images/base/build.sh --force    build even if the tag exists
#
# Needs root, debootstrap, docker (a running engine) and a JDK 25 (JDK25_HOME, or the Temurin path below).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
jdk=${JDK25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# what the card, the host bridge, the wire peer and the tests run inside containers
packages=iproute2,nftables,iperf3,procps,iputils-ping,netcat-openbsd,ca-certificates
# what cardnet's own classes need (jdeps --print-module-deps on lab/target/cardnet.jar)
modules=java.base,java.desktop,java.naming,java.sql,jdk.httpserver,jdk.jfr,jdk.management,jdk.unsupported

die() { echo "images/base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap makes device nodes)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
docker info >/dev/null 2>&1 || die "no Docker engine answers: start dockerd"
[ -x "$jdk/bin/jlink" ] || die "no JDK 25 at $jdk (set JDK25_HOME)"

hash=$( { cat "$0"; echo "$packages $modules $suite"; cat "$jdk/release"; } | sha256sum | cut -c1-12)
tag=cardnet/base:$hash
if [ "${1:-}" != "--force" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  docker tag "$tag" cardnet/base:latest
  echo "$tag"
  exit 0
fi

root=$(mktemp -d /tmp/cardnet-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "images/base: debootstrap $suite into $root (about a minute)" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >&2
echo "images/base: jlink $modules" >&2
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-6 --output "$root/opt/java"
# an image needs no package caches, docs or locales
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/locale/*
echo "images/base: docker import as $tag" >&2
# an imported image has no environment: set PATH (and JAVA_HOME) here
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV JAVA_HOME=/opt/java' \
  --change 'ENV LANG=C.UTF-8' \
  - "$tag" >/dev/null
docker tag "$tag" cardnet/base:latest
echo "$tag"
