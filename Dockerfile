# musicvideo-bot: python -m bot with the HTTP endpoint (callbacks, webhook, /healthz) on 8080.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/bot.sqlite3

# Fonts for rendered videos (README, "Fonts"): Noto for Latin and Cyrillic, Noto CJK for
# Chinese, Japanese and Korean, and fontconfig's configuration that the bundled ffmpeg reads.
# Versions follow the base image's Debian release, so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fontconfig-config fonts-noto-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The exact versions of requirements.txt (the lock, README "Reproducible installs"), checked
# against their hashes; then the project itself with --no-deps, so nothing else is resolved.
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --gid 10001 botuser \
    && useradd --create-home --uid 10001 --gid 10001 botuser \
    && mkdir -p /data \
    && chown 10001:10001 /data

# Numeric, so the host and Kubernetes' runAsNonRoot can tell it is not root (hadolint DL3066).
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/healthz', timeout=4)"]
CMD ["python", "-m", "bot"]
