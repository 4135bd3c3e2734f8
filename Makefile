.PHONY: run test test-sqlite test-postgres lint down

# The app database of the second test run: the machine's PostgreSQL, with the role scripts/bootstrap.sh creates.
PG_TEST_URL ?= postgres://hapanel:hapanel@127.0.0.1:5432/hapanel

run:  ## the panel with its sandbox pair, worker and web server on http://127.0.0.1:8000
	./scripts/bootstrap.sh run
	./scripts/run.sh

test:  ## the whole suite twice: on SQLite, then on PostgreSQL (real sandbox pair, Redis, Celery workers, Chromium)
	./scripts/bootstrap.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)
	DATABASE_URL=$(PG_TEST_URL) .venv/bin/python -m pytest $(PYTEST_ARGS)

test-sqlite:
	./scripts/bootstrap.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

test-postgres:
	./scripts/bootstrap.sh test
	DATABASE_URL=$(PG_TEST_URL) .venv/bin/python -m pytest $(PYTEST_ARGS)

lint:
	./scripts/bootstrap.sh lint
	.venv/bin/ruff check .
	HAPANEL_DEVELOPMENT=1 .venv/bin/python manage.py makemigrations --check --dry-run

down:  ## stop the sandbox pair
	HAPANEL_DEVELOPMENT=1 .venv/bin/python manage.py sandbox down
