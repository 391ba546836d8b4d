# The tracker, one replica per container. Fly-style hosts and any container
# platform run it as is; set REDIS_URL to share swarms between replicas.
#   docker build -t videoswarm-tracker .
#   docker run -p 8000:8000 -e REDIS_URL=redis://redis:6379/0 videoswarm-tracker
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
# The locked versions, hash-checked (requirements-tracker.lock, see scripts/upgrade), then the
# tracker itself with no dependency resolution of its own.
COPY requirements-tracker.lock ./
RUN pip install --require-hashes -r requirements-tracker.lock
COPY pyproject.toml README.md ./
COPY tracker_app ./tracker_app
COPY videoswarm_compat ./videoswarm_compat
COPY videoswarm_extras.py ./
RUN pip install --no-deps . && useradd --system --no-create-home tracker
USER tracker

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=2)"
CMD ["sh", "-c", "exec tracker --host \"$HOST\" --port \"$PORT\""]
