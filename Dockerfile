# hookgraph: one image, one binary, four roles (serve | api | worker | migrate).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY admin ./admin
COPY test ./test
COPY bench ./bench
COPY schema ./schema
# The runtime keeps production dependencies only. Optional ones go too: embedded
# PostgreSQL (~60 MB of binaries) is for `npm start` on a laptop; the image needs DATABASE_URL.
RUN npm run build && npm prune --omit=dev --omit=optional

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/admin/dist ./admin/dist
USER node
EXPOSE 4000
ENTRYPOINT ["node", "--max-semi-space-size=16", "--heap-growing-percent=50", "dist/src/main.js"]
CMD ["serve"]
