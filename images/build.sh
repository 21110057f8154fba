#!/usr/bin/env bash
# Builds every image of the compose lab into the local Docker engine, with no registry:
#   cardnet/base            images/base/build.sh (debootstrap + jlinked JDK 25; rebuilt only when its inputs change)
#   cardnet/pci-link-sim, cardnet/host-bridge, cardnet/wire-peer      Jib (./mvnw -Pimages)
#   cardnet/card-firmware:<version>   Jib, one per directory in images/card-firmware/
#   cardnet/prometheus      Debian's prometheus package on the base (images/prometheus/Dockerfile)
# Then `docker compose up -d --wait` (with PROMETHEUS_IMAGE=cardnet/prometheus:latest where no registry is
# reachable). Needs root, a running Docker engine, debootstrap and JDK 25.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

step "base image"
# Jib is given the base by its content tag, not :latest: Jib's cache keeps a daemon image it has seen under a
# tag, so a rebuilt base behind the same tag would be missed
base=$(images/base/build.sh | tail -1)

step "cardnet classes (./mvnw install -DskipTests)"
./mvnw -B -q install -DskipTests

step "pci-link-sim, host-bridge and wire-peer images (Jib)"
./mvnw -B -q -Pimages -pl lab package -DskipTests -Dbase.image="docker://$base"

for dir in images/card-firmware/*/; do
  version=$(basename "$dir")
  step "card-firmware:$version (Jib)"
  ./mvnw -B -q -Pimages -pl lab jib:dockerBuild@card-firmware -Dcard.firmware="$version" -Dbase.image="docker://$base"
done

step "prometheus image (Debian's package on the base)"
docker build -q -t cardnet/prometheus:latest images/prometheus >/dev/null

docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^cardnet/' | sort
