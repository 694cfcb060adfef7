# Production image: compiled server, production dependencies, a mediasoup worker.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
COPY scripts scripts
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run compile && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 3000
USER node
CMD ["node", "--enable-source-maps", "dist/server/main.js"]
