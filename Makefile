.PHONY: run test lint down bench

run:  ## the panel with its sandbox pair, worker and web server on http://127.0.0.1:8000
	./scripts/bootstrap.sh
	./scripts/run.sh

test:  ## the whole test suite (starts the test sandbox pair, Redis if needed, Celery workers)
	./scripts/bootstrap.sh
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint:
	./scripts/bootstrap.sh
	.venv/bin/ruff check .
	HAPANEL_DEVELOPMENT=1 .venv/bin/python manage.py makemigrations --check --dry-run

down:  ## stop the sandbox pair
	HAPANEL_DEVELOPMENT=1 .venv/bin/python manage.py sandbox down
