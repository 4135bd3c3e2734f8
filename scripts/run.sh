#!/usr/bin/env bash
# Brings the whole panel up on this machine: sandbox pair, migrations, a Celery worker with beat,
# the web server on 127.0.0.1:8000. Ctrl-C stops the worker and the web server (the pair stays up:
# `make down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
export HAPANEL_DEVELOPMENT=${HAPANEL_DEVELOPMENT:-1} DEBUG=${DEBUG:-1}
PY=.venv/bin/python
$PY manage.py migrate -v0
$PY manage.py sandbox up
$PY manage.py ensureadmin
# Supervised: Celery's Redis transport can exit when the broker restarts; come back by ourselves.
(while true; do
  .venv/bin/celery -A hapanel worker -B --pool threads --concurrency 4 -l warning \
    --schedule var/celerybeat-schedule
  sleep 1
done) >var/worker.log 2>&1 &
worker=$!
trap 'kill -- -$worker 2>/dev/null || kill $worker 2>/dev/null || true' EXIT
echo "worker pid $worker (log: var/worker.log); panel at http://127.0.0.1:8000"
$PY manage.py runserver 127.0.0.1:8000
