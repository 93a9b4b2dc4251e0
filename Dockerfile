# The gateway and the simulator share one image: build once, run either entry point.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY deploy/docker/image-manifest.mjs ./deploy/docker/
# package.json is the library's manifest (the gateway's packages are devDependencies there): the
# image keeps what dist/ requires and drops the tooling.
RUN npm run build && node deploy/docker/image-manifest.mjs && npm prune --omit=dev --no-fund --no-audit

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
