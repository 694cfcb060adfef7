# Production image: compiled server, production dependencies, a mediasoup worker.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
COPY scripts scripts
# npm ci's postinstall provides the worker (scripts/mediasoup/setup-worker.sh: mediasoup's
# prebuilt download, else an offline build against Debian's libraries); --strict fails the image
# build rather than shipping an image without media.
RUN npm ci --no-audit --no-fund && scripts/mediasoup/setup-worker.sh --strict
COPY . .
RUN npm run compile && npm prune --omit=dev

FROM node:20-bookworm-slim
# The shared libraries an offline-built worker links against (the script names them), and
# ffmpeg, which records live rooms and packages videos (docs/vod.md).
COPY scripts/mediasoup/setup-worker.sh /tmp/setup-worker.sh
RUN apt-get update \
  && apt-get install -y --no-install-recommends $(bash /tmp/setup-worker.sh --runtime-packages) ffmpeg \
  && rm -rf /var/lib/apt/lists/* /tmp/setup-worker.sh
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
# Fail here, not at the first stream, if the worker cannot load a library in this image.
RUN ldd node_modules/mediasoup/worker/out/Release/mediasoup-worker \
  && ! ldd node_modules/mediasoup/worker/out/Release/mediasoup-worker | grep 'not found'
EXPOSE 3000
USER node
# A young generation of up to 3 × 32 MB: money storms allocate fast (docs/money.md#throughput).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/server/main.js"]
