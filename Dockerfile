# backend-health-exporter container image.
#
#   docker build -t backend-health-exporter:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#   docker run --rm -p 9985:9985 backend-health-exporter:0.1.0
#
# Stage 1 builds with the same setup script and CMake preset as the README; stage 2 is
# debian:bookworm-slim with only the runtime shared libraries (Debian packages), the CA bundle,
# the binary and the default config, running as uid/gid 65532. Both stages use the same dated
# base tag so the libraries built against are the ones run against. Checked without Docker by the
# `deploy` and `replay` CTest labels (deploy/README.md, "How this is tested").

FROM debian:bookworm-20250520-slim AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# Build dependencies first, so this layer is reused until the setup script changes.
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN deploy/docker/build.sh /staging

FROM debian:bookworm-20250520-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="backend-health-exporter" \
      org.opencontainers.image.description="Prometheus exporter that actively probes backend servers the way Azure Application Gateway health probes do, and exports their health and the reason of every failure." \
      org.opencontainers.image.url="https://github.com/backend-health-exporter/backend-health-exporter" \
      org.opencontainers.image.source="https://github.com/backend-health-exporter/backend-health-exporter" \
      org.opencontainers.image.documentation="https://github.com/backend-health-exporter/backend-health-exporter/blob/main/deploy/README.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-20250520-slim"
# Runtime libraries of the binary (deploy.image.runtime-libraries checks this list against `ldd`)
# and the well-known CA bundle (/etc/ssl/certs/ca-certificates.crt).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libc-ares2 \
      libc6 \
      libcivetweb1 \
      libcrypt1 \
      libgcc-s1 \
      libhttp-parser2.9 \
      libprometheus-cpp-core1.0 \
      libstdc++6 \
      libtomlplusplus3 \
      libuv1 \
      libwolfssl35 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/usr/local/bin/backend-health-exporter /usr/local/bin/backend-health-exporter
COPY config/default.toml /etc/backend-health-exporter/config.toml
USER 65532:65532
EXPOSE 9985
ENTRYPOINT ["/usr/local/bin/backend-health-exporter"]
CMD ["--config.file=/etc/backend-health-exporter/config.toml"]
