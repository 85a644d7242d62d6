# Passerelle's image: Debian 12 slim, its Python 3.11, WeasyPrint's system libraries and fonts,
# the locked dependencies (requirements.lock, hashes checked), gunicorn, a non-root user.
#   docker build -t passerelle .            (compose.yaml builds it for you)
# The `static` target is nginx with deploy/nginx.conf and the app's static files (compose.yaml).

FROM debian:bookworm-slim AS base
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 LANG=C.UTF-8
# WeasyPrint (PDF reports, commission packs) needs Pango, HarfBuzz and fontconfig; the fonts
# are the ones the PDFs are laid out with. tzdata: Europe/Paris dates.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates tzdata \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
      fonts-dejavu-core fonts-liberation2 \
 && rm -rf /var/lib/apt/lists/*

FROM base AS build
WORKDIR /src
# Dependencies first, from the lock file only: this layer is rebuilt when the lock changes.
COPY requirements.lock ./
RUN python3 -m venv /opt/passerelle/venv \
 && /opt/passerelle/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY matching ./matching
COPY migrations ./migrations
COPY models ./models
COPY services ./services
COPY web ./web
# The app itself, not editable, without touching the locked dependencies.
RUN /opt/passerelle/venv/bin/pip install --no-deps . \
 && /opt/passerelle/venv/bin/passerelle --help >/dev/null

FROM base AS app
COPY --from=build /opt/passerelle/venv /opt/passerelle/venv
RUN useradd --system --create-home --home-dir /data --shell /usr/sbin/nologin passerelle
ENV PATH=/opt/passerelle/venv/bin:$PATH PASSERELLE_INSTANCE_PATH=/data/instance
USER passerelle
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# Port 8000 is reached only by nginx on the compose network: gunicorn may trust its headers;
# the app itself trusts PASSERELLE_PROXIES=1 hop (web/proxies.py).
CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "--forwarded-allow-ips=*", "--access-logfile", "-", "web:create_app()"]

FROM nginx:1.26-bookworm AS static
# deploy/nginx.conf as it is, but for the upstream: the `web` service instead of 127.0.0.1.
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
RUN sed -i 's/server 127.0.0.1:8000;/server web:8000;/' /etc/nginx/conf.d/default.conf \
 && grep -q 'server web:8000;' /etc/nginx/conf.d/default.conf
COPY --from=build /opt/passerelle/venv/lib/python3.11/site-packages/web/static \
     /opt/passerelle/venv/lib/python3.11/site-packages/web/static
