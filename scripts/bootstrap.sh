#!/usr/bin/env bash
# Installs what hapanel needs on a fresh clone (idempotent): system packages when root on Debian,
# the virtualenv with the pinned packages, a running Redis. Sourced by the Makefile targets.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need_pkgs+=(mariadb-server)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v chromium >/dev/null || need_pkgs+=(chromium)
command -v node >/dev/null || need_pkgs+=(nodejs)
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need_pkgs+=(iptables)
command -v snmptrapd >/dev/null || [ -x /usr/sbin/snmptrapd ] || need_pkgs+=(snmptrapd snmp)
command -v promtool >/dev/null || need_pkgs+=(prometheus)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "bootstrap: missing ${need_pkgs[*]}: install them (apt-get install ${need_pkgs[*]})" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Redis: the machine's own on 127.0.0.1:6379 if it runs, else start one that keeps nothing on disk.
if ! .venv/bin/python -c "import redis,sys; redis.Redis.from_url('${REDIS_URL:-redis://127.0.0.1:6379/0}', socket_connect_timeout=1).ping()" 2>/dev/null; then
  echo "bootstrap: starting redis-server on 127.0.0.1:6379"
  mkdir -p var
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir "$PWD/var" --logfile "$PWD/var/redis.log"
  for _ in $(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
mkdir -p var var/static

# PostgreSQL for the second test run: the machine's own server; start it if it is installed but down.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "bootstrap: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
