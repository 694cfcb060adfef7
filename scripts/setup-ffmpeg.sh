#!/usr/bin/env bash
# Provide ffmpeg and ffprobe (Debian's `ffmpeg` package: libx264, libvpx, opus, aac), which record
# live rooms and package videos into HLS (docs/vod.md). Run by `npm ci` (postinstall) and
# `npm run setup:media`: installs the package with apt when run as root and it is missing.
#
# usage: scripts/setup-ffmpeg.sh [--strict]
#   Without --strict a failure is a warning and exit 0: the server then runs without recordings
#   and uploads and says so in its log and /healthz. With --strict (CI), it exits non-zero.
# env:   LECTERN_NO_APT=1   never apt-get install
set -Eeuo pipefail
STRICT=0
[ "${1:-}" = "--strict" ] && STRICT=1
log() { echo "[ffmpeg] $*" >&2; }
fail() {
  log "$*"
  [ "$STRICT" = 1 ] && exit 1
  log "continuing without ffmpeg: no recordings, replays or video uploads on this machine"
  exit 0
}
present() {
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || return 1
  local encoders
  encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null)" || return 1
  [[ "$encoders" == *libx264* ]]
}

if present; then
  log "present: $(ffmpeg -hide_banner -version | head -n1)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${LECTERN_NO_APT:-}" ]; then
  log "installing Debian's ffmpeg"
  (apt-get install -y -q --no-install-recommends ffmpeg || { apt-get update -q && apt-get install -y -q --no-install-recommends ffmpeg; }) >&2 \
    || fail "apt-get install ffmpeg failed"
  present || fail "ffmpeg was installed but is not usable (no libx264?)"
  log "installed: $(ffmpeg -hide_banner -version | head -n1)"
  exit 0
fi
fail "ffmpeg is missing; install it: apt-get install ffmpeg (or set FFMPEG_PATH / FFPROBE_PATH)"
