#!/usr/bin/env bash
# Installs every Debian package venuecast needs (idempotent, quick when all are present), then builds.
#   scripts/setup.sh                 -> build/        (RelWithDebInfo)
#   scripts/setup.sh --sanitize      -> build-asan/   (AddressSanitizer + UBSan)
#   scripts/setup.sh --no-build      -> packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libavformat-dev libavcodec-dev libavutil-dev libavfilter-dev
  libboost-dev libspdlog-dev libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  ffmpeg nginx-light libnginx-mod-rtmp
  socat openssl procps
  fonts-dejavu-core fonts-wqy-microhei
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  # nginx is only a test/demo peer: never let the package start a system-wide service.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=build; cmake_args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-asan; cmake_args+=(-DVENUECAST_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
    --no-build) exit 0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
cmake -S . -B "$build_dir" "${cmake_args[@]}" > /dev/null
cmake --build "$build_dir" -j "$(nproc)"
