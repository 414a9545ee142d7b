# syntax=docker/dockerfile:1
# everest-bootstrapd container image.
#   build:   Debian bookworm toolchain, Release build of the daemon
#   clis:    kubectl and everestctl at pinned versions, each checked with sha256sum -c
#   runtime: debian:bookworm-slim with only the runtime libraries, non-root (uid 10001)
#
#   docker build -t everest-bootstrapd .
#   docker build --build-arg KUBECTL_VERSION=v1.33.4 --build-arg KUBECTL_SHA256_AMD64=<digest> .
#
# About the default digests: they could NOT be verified here (the build machine has
# no network access to the release servers). They are the digests published for
# these exact versions: kubectl's is the value that many independent public pins of
# v1.36.0 agree on (dl.k8s.io publishes it as <url>.sha256); everestctl's comes from
# the OpenEverest Homebrew tap formula for v1.15.2 (the everestctl release itself
# ships no checksum file). A wrong digest fails the build at `sha256sum -c`; it never
# installs an unverified binary. When you change a *_VERSION, change its digests too:
#   curl -fsSL <url> | sha256sum

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost1.81-dev libboost-system1.81-dev \
      librdkafka-dev nlohmann-json3-dev libspdlog-dev prometheus-cpp-dev catch2 \
      libsqlite3-dev libsystemd-dev libssl-dev python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOOTSTRAPD_BUILD_TESTS=OFF \
 && ninja -C build everest-bootstrapd \
 && strip build/everest-bootstrapd

FROM debian:bookworm-slim AS clis
# TARGETARCH is set by BuildKit (amd64 or arm64); plain `docker build` gets amd64.
ARG TARGETARCH=amd64
# kubectl: keep it within one minor version of your cluster's API server.
ARG KUBECTL_VERSION=v1.36.0
ARG KUBECTL_SHA256_AMD64=123d8c8844f46b1244c547fffb3c17180c0c26dac9890589fe7e67763298748e
ARG KUBECTL_SHA256_ARM64=9f9d9c44a7b5264515ac9da5991584e2395bd50662e651132337e7b4d0c56f8f
# everestctl: URL pattern of EVERESTCTL.md section 5,
#   <releases>/download/v<X.Y.Z>/everestctl-linux-<arch>
# under the project's current name (openeverest/openeverest; older releases were
# published as percona/everest, which GitHub redirects).
ARG EVERESTCTL_VERSION=v1.15.2
ARG EVERESTCTL_SHA256_AMD64=6ed4f641c5230416e924666b3fe439b2b8b349c1d0cc6a61d00cf10f0e841b42
ARG EVERESTCTL_SHA256_ARM64=42314fe315b73b83e1537f0b0eaa39d657758990051442f2fec196afd94fc9d8
ARG EVERESTCTL_RELEASES=https://github.com/openeverest/openeverest/releases
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    case "${TARGETARCH}" in \
      amd64) kubectl_sha256="${KUBECTL_SHA256_AMD64}"; everestctl_sha256="${EVERESTCTL_SHA256_AMD64}" ;; \
      arm64) kubectl_sha256="${KUBECTL_SHA256_ARM64}"; everestctl_sha256="${EVERESTCTL_SHA256_ARM64}" ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    curl -fsSL -o /tmp/kubectl \
      "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl"; \
    echo "${kubectl_sha256}  /tmp/kubectl" | sha256sum -c -; \
    curl -fsSL -o /tmp/everestctl \
      "${EVERESTCTL_RELEASES}/download/${EVERESTCTL_VERSION}/everestctl-linux-${TARGETARCH}"; \
    echo "${everestctl_sha256}  /tmp/everestctl" | sha256sum -c -; \
    install -m 0555 /tmp/kubectl /usr/local/bin/kubectl; \
    install -m 0555 /tmp/everestctl /usr/local/bin/everestctl; \
    rm -f /tmp/kubectl /tmp/everestctl

FROM debian:bookworm-slim
# Runtime libraries of the binary (libc6, libstdc++6 and libgcc-s1 are in the base
# image), CA certificates for the CLIs' HTTPS, and tini as PID 1 so that processes
# orphaned by the CLIs are reaped.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libsqlite3-0 libssl3 libsystemd0 librdkafka1 \
      ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --gid 0 --home-dir /home/everest --no-create-home \
      --shell /usr/sbin/nologin everest \
 && install -d -m 0770 -o 10001 -g 0 /home/everest /home/everest/.kube /home/everest/.cache \
      /var/lib/everest-bootstrapd
COPY --from=clis /usr/local/bin/kubectl /usr/local/bin/everestctl /usr/local/bin/
COPY --from=build /src/build/everest-bootstrapd /usr/local/bin/everest-bootstrapd
# The writable directories belong to uid 10001 and group 0 (mode 0770), so the
# image also runs under another uid in group 0 (docker compose sets EVEREST_UID to
# your own uid so that a 0600 host kubeconfig stays readable; OpenShift does the same).
# Mount the kubeconfig read-only at $KUBECONFIG (everestctl has no in-cluster mode).
ENV BIND_ADDRESS=0.0.0.0 PORT=8080 \
    HOME=/home/everest XDG_CACHE_HOME=/home/everest/.cache \
    KUBECONFIG=/home/everest/.kube/config \
    JOB_DB_PATH=/var/lib/everest-bootstrapd/jobs.db
VOLUME ["/var/lib/everest-bootstrapd"]
WORKDIR /home/everest
USER 10001
EXPOSE 8080
STOPSIGNAL SIGTERM
# No curl in the runtime image: bash's /dev/tcp speaks HTTP/1.0 to /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q '^HTTP/1\\.[01] 200'"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/everest-bootstrapd"]
