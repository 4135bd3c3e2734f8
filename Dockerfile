# hapanel: web (gunicorn), Celery worker and Celery beat all run from this one image.
FROM python:3.11-slim

# PYTHONPATH: import hapanel/ and the apps from /app, not from site-packages, because settings.BASE_DIR
# (templates/, static/, var/) is the parent directory of the imported hapanel package.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=hapanel.settings \
    STATIC_ROOT=/app/var/static

WORKDIR /app

# Only what the application needs (there is no .dockerignore: a plain `COPY . .` would also copy a
# local .venv/ and var/).
COPY pyproject.toml manage.py ./
COPY hapanel/ hapanel/
COPY monitor/ monitor/
COPY board/ board/
COPY pairs/ pairs/
COPY alerts/ alerts/
COPY emergency/ emergency/
COPY templates/ templates/
COPY static/ static/

# The project and its pinned dependencies; psycopg is the driver for the postgres:// DATABASE_URL of
# docker-compose.yml (pyproject.toml lists only the MySQL client).
RUN pip install . "psycopg[binary]>=3.2,<4" \
    && rm -rf build *.egg-info

# devtools/ (the sandbox pair, the demo vault) is not copied: production settings do not install it.
# Settings refuse to load without SECRET_KEY and the encryption key outside development; collectstatic
# needs neither the real keys nor a database.
RUN SECRET_KEY=collectstatic-only HAPANEL_ENCRYPTION_KEY=collectstatic-only HAPANEL_VAULT_KEY=collectstatic-only \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hapanel \
    && mkdir -p /app/var \
    && chown -R hapanel:hapanel /app/var
USER hapanel

EXPOSE 8000

CMD ["gunicorn", "hapanel.wsgi:application", "-b", "0.0.0.0:8000", "-w", "3"]
