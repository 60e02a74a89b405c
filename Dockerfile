# Dockerfile - the lockwarden image: build/lockwarden on debian:12-slim, run as UID 65532.
#   docker build -t lockwarden:0.1.0 .
# The build stage's packages are scripts/deps.sh's BUILD_PKGS and the runtime stage's are
# the libraries `ldd build/lockwarden` needs; tests/integration/test_chart.py checks both.

FROM debian:12-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc make pkg-config libc6-dev libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev \
        libpcre2-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all \
    && strip build/lockwarden \
    && build/lockwarden version

FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libgnutls30 libssl3 libcjson1 libyaml-0-2 libpcre2-8-0 libcurl4 zlib1g libzstd1 \
        ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/lockwarden /usr/local/bin/lockwarden
# A fixed non-root UID/GID, matching the chart's runAsUser/runAsGroup (65532).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/lockwarden"]
CMD ["--help"]
