# One image for both processes of Voting Game.
#   web (default):  docker run -p 8000:8000 --env-file app.env IMAGE
#   worker:         docker run --env-file app.env IMAGE python worker.py
#   tables/queue:   docker run --env-file app.env IMAGE flask --app webapp init-aws
# Configuration comes only from the environment at run time (docs/deploy.md):
# no key, secret or credential is ever written into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    APP_HOME=/app \
    PORT=8000 \
    METRICS_PORT=9191
ENV PATH="$VIRTUAL_ENV/bin:$PATH"

# An unprivileged user to run as; it owns nothing in the image.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app

WORKDIR $APP_HOME

# Dependencies first, from the pinned lock, so this layer is rebuilt only when
# they change. pyproject.toml lists the runtime dependencies (no test tools);
# constraints.txt pins every package of the tree to the tested version.
COPY pyproject.toml constraints.txt ./
RUN python -m venv "$VIRTUAL_ENV" \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -c constraints.txt -r requirements.txt \
 && rm requirements.txt

# Then the code: changes here reuse the dependency layer.
# local/ (make run only) is left out on purpose.
COPY webapp ./webapp
COPY core ./core
COPY templates ./templates
COPY translations ./translations
COPY static ./static
COPY ddl ./ddl
COPY worker.py healthcheck.py gunicorn.conf.py Procfile ./

USER app

# 8000: the web app (PORT). 9191: the worker's /metrics and /healthz (METRICS_PORT).
EXPOSE 8000 9191
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "healthcheck.py"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "webapp:create_app()"]
