# outreach: one image for `outreach migrate`, `outreach serve --no-worker` and `outreach worker`.
# Build: docker build -t outreach:latest .   (see docs/deploy.md; CI does not build it)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OUTREACH_CONFIG_DIR=/etc/outreach

# WeasyPrint (letters) needs Pango; HarfBuzz-Subset makes PDFs ~6x faster; the letter
# templates use DejaVu Sans.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY outreach ./outreach
RUN pip install . && rm -rf /src

# The shipped configuration, for a first start; mount your own over /etc/outreach.
COPY config/outreach.toml config/policy.yaml /etc/outreach/
COPY config/campaigns /etc/outreach/campaigns

# Non-root. Relative paths in outreach.toml (letters: var/letters) resolve under the home;
# the folder exists here so a fresh named volume mounted on it belongs to this user.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/outreach --create-home outreach \
    && mkdir -p /var/lib/outreach/var/letters \
    && chown -R outreach:outreach /var/lib/outreach
USER outreach
WORKDIR /var/lib/outreach

EXPOSE 8000 9100
CMD ["outreach", "--log-format", "json", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
