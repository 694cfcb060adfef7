#!/usr/bin/env bash
# Provide the mediasoup-worker binary that the installed `mediasoup` npm package runs.
#
# mediasoup's own postinstall downloads a prebuilt worker from GitHub and otherwise pip-installs
# its build tools; neither works on a machine that reaches only the npm registry and apt. So the
# project installs mediasoup with its install script denied (package.json `allowScripts`) and
# this script provides the worker, cheapest first:
#   1. MEDIASOUP_WORKER_BIN, if set and runnable (mediasoup reads that variable itself);
#   2. a worker already in node_modules/mediasoup/worker/out/Release/;
#   3. a cached build, keyed by mediasoup version + this recipe + the system libraries;
#   4. mediasoup's own prebuilt download, when GitHub answers;
#   5. an offline build of the sources shipped inside the npm package, against Debian's
#      libraries, with shims/ replacing mediasoup's download-only meson subprojects.
#
# A worker found in node_modules (2, 4, 5) is also put in the cache when the cache has none, so
# the next clean clone on this machine takes seconds.
#
# usage: scripts/mediasoup/setup-worker.sh [--strict | --cache-path | --runtime-packages]
#   Without --strict, any failure, expected or not, is a warning and exit 0 (npm ci goes on and
#   the server runs with media UNAVAILABLE); with --strict (CI), failure exits non-zero.
#   --cache-path prints where the worker for this mediasoup version, recipe and set of system
#   libraries is (or would be) cached, and exits. --runtime-packages prints the Debian packages an
#   offline-built worker needs at run time (for a slim image) and exits.
# env:   LECTERN_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/lectern)
#        LECTERN_NO_APT=1   never apt-get install missing build packages
set -Eeuo pipefail

# Run-time libraries of the offline build; their versions are part of the cache key so that a
# system upgrade that changes an ABI triggers a rebuild.
RUNTIME_LIBS="libssl3 libuv1 libsrtp2-1 libusrsctp2 libabsl20220623"
[ "${1:-}" = "--runtime-packages" ] && { echo "$RUNTIME_LIBS"; exit 0; }

STRICT=0
[ "${1:-}" = "--strict" ] && STRICT=1
PRINT_CACHE_PATH=0
[ "${1:-}" = "--cache-path" ] && PRINT_CACHE_PATH=1
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PKG="$ROOT/node_modules/mediasoup"
DEST="$PKG/worker/out/Release/mediasoup-worker"

log() { echo "[mediasoup-worker] $*" >&2; }
fail() {
  log "$*"
  if [ "$STRICT" = 1 ]; then exit 1; fi
  log "continuing without a worker: the server will answer media requests with UNAVAILABLE"
  exit 0
}
# Anything that fails unexpectedly goes through fail() too. In a subshell or $(…) the failure is
# passed up instead, where the script's own trap handles it.
on_error() {
  [ "$BASH_SUBSHELL" -gt 0 ] && exit "$1"
  fail "unexpected failure (status $1) at line $2: $3"
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
# Runnable here: an executable whose shared libraries all resolve.
usable() { [ -x "$1" ] && ! ldd "$1" 2>/dev/null | grep -q 'not found'; }
install_to_dest() {
  mkdir -p "$(dirname "$DEST")" && cp "$1" "$DEST.tmp.$$" && chmod +x "$DEST.tmp.$$" && mv -f "$DEST.tmp.$$" "$DEST"
}

[ -f "$PKG/package.json" ] || fail "node_modules/mediasoup is not installed (run npm ci first)"
VER="$(node -p "require('$PKG/package.json').version")"

if [ -n "${MEDIASOUP_WORKER_BIN:-}" ] && [ "$PRINT_CACHE_PATH" = 0 ]; then
  usable "$MEDIASOUP_WORKER_BIN" && { log "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN"; exit 0; }
  log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not runnable here; looking further"
fi

BUILD_PKGS="meson ninja-build pkg-config g++ libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler"
lib_versions() { dpkg-query -W -f '${Package}=${Version}\n' $RUNTIME_LIBS 2>/dev/null || true; }
# The build steps below are versioned by hand (bump RECIPE when they change what is built);
# the shims are hashed. Editing comments or messages in this script keeps the cache.
RECIPE=1
recipe_hash() { { echo "recipe $RECIPE"; (cd "$HERE/shims" && find . -type f | LC_ALL=C sort | xargs sha256sum); } | sha256sum | cut -c1-16; }
# Sets KEY, CACHE_DIR and CACHED. Computed again after apt, which may install the libraries.
cache_key() {
  KEY="$(printf '%s\n' "$VER" "$(recipe_hash)" "$(lib_versions)" "$(uname -m)" | sha256sum | cut -c1-16)"
  CACHE_DIR="${LECTERN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lectern}/mediasoup-worker/$VER-$KEY"
  CACHED="$CACHE_DIR/mediasoup-worker"
}
install_cached() { usable "$CACHED" && install_to_dest "$CACHED" && log "installed cached worker ($VER-$KEY)"; }
# Keeps a worker that works here for the next install; never fails the install.
remember() {
  usable "$CACHED" && return 0
  { mkdir -p "$CACHE_DIR" && cp "$1" "$CACHED.tmp.$$" && mv -f "$CACHED.tmp.$$" "$CACHED" && log "cached: $CACHED"; } ||
    log "could not cache the worker in $CACHE_DIR"
}
cache_key
[ "$PRINT_CACHE_PATH" = 1 ] && { echo "$CACHED"; exit 0; }

if usable "$DEST"; then
  log "worker present: $DEST"
  remember "$DEST"
  exit 0
fi
install_cached && exit 0

if command -v curl >/dev/null && curl -fsS -m 5 -o /dev/null https://github.com 2>/dev/null; then
  log "GitHub reachable: trying mediasoup's own prebuilt worker"
  (cd "$PKG" && env -u MEDIASOUP_WORKER_BIN -u MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD timeout 300 node npm-scripts.mjs postinstall) >&2 || true
  usable "$DEST" && { log "prebuilt worker installed"; remember "$DEST"; exit 0; }
fi

# Offline build. Install the build packages when we may (root with apt), else name them.
missing=""
for tool in meson ninja pkg-config g++ flatc; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
for lib in openssl libuv libsrtp2 usrsctp absl_strings flatbuffers; do
  pkg-config --exists "$lib" 2>/dev/null || missing="$missing $lib"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${LECTERN_NO_APT:-}" ]; then
    log "installing build packages (missing:$missing)"
    (apt-get install -y -q $BUILD_PKGS || { apt-get update -q && apt-get install -y -q $BUILD_PKGS; }) >&2 \
      || fail "apt-get install failed; install: $BUILD_PKGS"
    # apt brings the run-time libraries too: the build is cached under the key that the next
    # install, with those libraries present, computes (and may already be there).
    cache_key
    install_cached && exit 0
  else
    fail "cannot build the worker, missing:$missing; install: apt-get install $BUILD_PKGS"
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lectern-mediasoup.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log "building mediasoup-worker $VER offline (about 7 minutes on 2 cores), to be cached as $CACHED"
start=$(date +%s)
cp -r "$PKG/worker" "$WORK/worker"
cd "$WORK/worker"
# 1. Every wrap subproject (downloads) is replaced by a shim around the Debian library.
rm -rf subprojects/*.wrap subprojects/packagecache
cp -r "$HERE"/shims/* subprojects/
# 2. Debian 12 ships meson 1.0.1; mediasoup asks for >= 1.1.0 but builds with 1.0.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" meson.build
# 3. Debian's OpenSSL has KTLS: mediasoup's BIO callback answers 1 to every BIO_CB_RETURN|op
#    query, so BIO_get_ktls_send() reads 1, libssl skips its DTLS write buffer and the worker
#    segfaults writing ServerHello. Make the callback return the real value.
sed -i 's/(operationType == BIO_CB_RETURN)/((operationType \& BIO_CB_RETURN) != 0)/' src/RTC/DtlsTransport.cpp
grep -q 'BIO_CB_RETURN) != 0' src/RTC/DtlsTransport.cpp || fail "DtlsTransport.cpp fix did not apply to $VER"
# 4. The generated FlatBuffers headers first (nothing orders them before the compile).
meson setup --wrap-mode=nodownload --buildtype release -Db_ndebug=true -Dms_disable_liburing=true \
  "$WORK/build" >&2 || fail "meson setup failed"
ninja -C "$WORK/build" fbs/FBS >&2 || fail "flatbuffers generation failed"
ninja -C "$WORK/build" mediasoup-worker >&2 || fail "worker compile failed"
mkdir -p "$CACHE_DIR"
strip -o "$CACHED.tmp.$$" "$WORK/build/mediasoup-worker" && mv -f "$CACHED.tmp.$$" "$CACHED"
usable "$CACHED" || fail "built worker is not runnable"
install_to_dest "$CACHED"
log "built and cached in $(( $(date +%s) - start )) s: $CACHED"
