# syntax=docker/dockerfile:1
#
# Image for the single `inbox` binary. The sub-command is chosen at run time:
#   docker run IMAGE serve | worker | migrate up | workspace create
# (see docker-compose.yml). Configuration comes only from environment variables.

# ---- build -----------------------------------------------------------------
# go.mod requires go 1.26.8; the golang:1.26 tag tracks the newest 1.26.x patch
# release (re-pull it if a cached copy is older).
FROM golang:1.26 AS build

WORKDIR /src

# Pure-Go build: the SQLite driver is modernc.org/sqlite, so cgo is not needed
# and the result is a static binary that runs on any base image.
ENV CGO_ENABLED=0

# Download modules in their own layer so code edits do not re-fetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/inbox ./cmd/inbox

# ---- runtime ---------------------------------------------------------------
# Debian slim rather than distroless: the compose healthcheck of `inbox serve`
# needs curl, and ca-certificates/tzdata are needed for HTTPS calls to OpenAI
# and for time zones.
FROM debian:trixie-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 inbox \
    && useradd --system --uid 10001 --gid inbox \
        --home-dir /home/inbox --create-home --shell /usr/sbin/nologin inbox

COPY --from=build /out/inbox /inbox

# Non-root (numeric, so runAsNonRoot-style checks can verify it).
USER 10001:10001
WORKDIR /home/inbox

# Inside a container the API must listen on all interfaces.
ENV INBOX_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080

ENTRYPOINT ["/inbox"]
CMD ["serve"]
