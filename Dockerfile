# Multi-stage build: Debian bookworm toolchain -> slim runtime.
# (Pinned, sha256-verified everestctl/kubectl downloads arrive with the
# packaging work; until then mount or add the CLIs yourself.)
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost1.81-dev libboost-system1.81-dev \
      librdkafka-dev nlohmann-json3-dev libspdlog-dev prometheus-cpp-dev catch2 \
      libsqlite3-dev libsystemd-dev libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOOTSTRAPD_BUILD_TESTS=OFF \
 && ninja -C build everest-bootstrapd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libsqlite3-0 libssl3 libsystemd0 \
      ca-certificates curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /home/everest --create-home everest
COPY --from=build /src/build/everest-bootstrapd /usr/local/bin/everest-bootstrapd
ENV BIND_ADDRESS=0.0.0.0 PORT=8080 JOB_DB_PATH=/home/everest/var/jobs.db \
    KUBECONFIG=/home/everest/.kube/config
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/everest-bootstrapd"]
