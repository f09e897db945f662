# One image for every role of nano-modal: `serve`, `worker`, `autoscaler`, `status`, `run`.
#
#   docker build -t nano-modal:latest .          # where a registry is reachable
#   deno task image                              # here: everything built locally, nothing pulled
#
# BASE is any Debian image with Deno on PATH (and ldd, which workers use to build the Deno base of
# function images). `deno task image` builds one from debootstrap and this host's Deno binary and
# passes it here, along with a prepared deno_dir/ (the project's dependencies), so that the
# `deno cache` below needs no network.
ARG BASE=denoland/deno:debian-2.9.6
FROM ${BASE}

ENV DENO_DIR=/opt/nano-modal/deno_dir \
    DENO_NO_UPDATE_CHECK=1 \
    NO_COLOR=1 \
    NANO_MODAL_CACHE=/tmp/nano-modal
WORKDIR /opt/nano-modal
COPY . /opt/nano-modal
# The subcommands and dockerode load by specifiers built at run time (cli/_lazy.ts,
# runner/docker/_docker.ts): name them to cache them.
RUN deno cache main.ts $(ls cli/*.ts | grep -v _test) runner/docker/_dockerode.ts sdk/mod.ts \
      sdk/_session.ts runner/entrypoint.ts \
 && printf '#!/bin/sh\nexec deno run -A --cached-only --v8-flags=--heap-growing-percent=20 /opt/nano-modal/main.ts "$@"\n' \
      > /usr/local/bin/nano-modal \
 && chmod 0755 /usr/local/bin/nano-modal \
 && (getent passwd nanomodal >/dev/null || useradd --system --uid 10001 --home-dir /opt/nano-modal nanomodal) \
 && chown -R nanomodal /opt/nano-modal/deno_dir

# Control planes and process-driver autoscalers run as this user. Workers and docker-driver
# autoscalers need the engine's socket and run as root (`user: root` in docker-compose.yml);
# the function containers they start run as nobody, without the socket.
USER nanomodal
EXPOSE 50051

# Healthy when the control plane answers: its own (a server) or the one it serves.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD nano-modal status --server "${NANO_MODAL_SERVER:-http://127.0.0.1:50051}" >/dev/null || exit 1

ENTRYPOINT ["nano-modal"]
CMD ["--help"]
