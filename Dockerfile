FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FEEDWATCH_CONFIG=/app/config/feeds.yaml

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin feedwatch

WORKDIR /app

COPY pyproject.toml README.md ./
COPY worker/ worker/
COPY tasks/ tasks/
COPY config/ config/

RUN pip install --no-cache-dir .

USER feedwatch

# The worker; docker-compose.yml runs beat from the same image with its own command.
CMD ["celery", "-A", "worker.celery_app", "worker", "--loglevel", "INFO"]
