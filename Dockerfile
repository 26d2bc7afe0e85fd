# A production-like image: gunicorn serving the app, translations compiled at build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 sharing

COPY setup.cfg pyproject.toml README.md ./
COPY sharing ./sharing
RUN pip install . && pybabel compile --directory sharing/translations \
    && pip install . --no-deps --force-reinstall
COPY migrations ./migrations
COPY alembic.ini wsgi.py gunicorn.conf.py ./

RUN mkdir /app/instance && chown sharing /app/instance
USER sharing
EXPOSE 8000
# Migrate, then serve. With several replicas, run the migration as a one-off task instead.
CMD ["sh", "-c", "alembic upgrade head && exec gunicorn -c gunicorn.conf.py wsgi:app"]
