#!/usr/bin/env bash
# Installs what hapanel needs on a fresh clone (idempotent), for one Makefile target:
#   scripts/bootstrap.sh run    the panel with its sandbox pair: MariaDB, Redis, the runtime Python packages
#   scripts/bootstrap.sh test   and what the tests drive: Chromium, iptables, snmptrapd and the IETF MIBs,
#                               promtool, Node.js, nginx (the tests' reverse proxy, never started as a service),
#                               PostgreSQL with a role for the second run, the dev packages
#   scripts/bootstrap.sh lint   the dev packages
#   scripts/bootstrap.sh --packages <target>   names the Debian packages of a target, installs nothing
# System packages are installed when run as root on Debian; otherwise the missing ones are named.
set -euo pipefail
cd "$(dirname "$0")/.."
list_only=0
if [ "${1:-}" = --packages ]; then list_only=1; shift; fi
target=${1:-test}
case "$target" in run|test|lint) ;; *) echo "bootstrap: unknown target $target (run, test, lint)" >&2; exit 2;; esac

have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
# SNMPv2-SMI, -TC and -CONF, which docs/HAPANEL-MIB.txt imports: Net-SNMP's own copies are non-free in Debian
# (snmp-mibs-downloader fetches them from the internet); Erlang's SNMP package ships them.
ietf_mibs() { ls /usr/share/snmp/mibs/ietf/SNMPv2-SMI* /usr/lib/erlang/lib/snmp-*/mibs/SNMPv2-SMI.mib >/dev/null 2>&1; }
need_pkgs=()
want() {  # want <package> <command that succeeds when it is there>
  if [ "$list_only" = 1 ] || ! "${@:2}"; then need_pkgs+=("$1"); fi
}
if [ "$target" != lint ]; then
  want mariadb-server have mariadbd
  want redis-server have redis-server
fi
if [ "$target" = test ]; then
  want mariadb-backup have mariabackup  # the rebuild tests copy a node with it
  want chromium have chromium
  want nodejs have node
  want iptables have iptables
  want snmptrapd have snmptrapd
  want snmp have snmptranslate
  want erlang-snmp ietf_mibs
  want prometheus have promtool
  want postgresql have pg_ctlcluster
  # NetfilterQueue (the network lab's WAN delay on a kernel without netem) builds against it, with a C compiler
  want libnetfilter-queue-dev test -e /usr/include/libnetfilter_queue/libnetfilter_queue.h
  want gcc have gcc
  want nginx have nginx  # the reverse proxy of tests/test_reverse_proxy.py, run there as a child process
fi
if [ "$list_only" = 1 ]; then echo "${need_pkgs[*]}"; exit 0; fi
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
# Stamps: .installed-<hash> after the dev install, .installed-<hash>-run after the runtime one. The dev install
# holds the runtime packages too, so `make run` after `make test` installs nothing.
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ "$target" = run ]; then extras="" wanted="$stamp-run"; else extras="[dev]" wanted="$stamp"; fi
if [ ! -f "$stamp" ] && [ ! -f "$wanted" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".$extras"
  rm -f .venv/.installed-*
  touch "$wanted"
fi
mkdir -p var var/static
[ "$target" = lint ] && exit 0

# Redis: the machine's own on 127.0.0.1:6379 if it runs, else start one that keeps nothing on disk.
if ! .venv/bin/python -c "import redis,sys; redis.Redis.from_url('${REDIS_URL:-redis://127.0.0.1:6379/0}', socket_connect_timeout=1).ping()" 2>/dev/null; then
  echo "bootstrap: starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir "$PWD/var" --logfile "$PWD/var/redis.log"
  for _ in $(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
[ "$target" = run ] && exit 0

# PostgreSQL for the second test run: the machine's own server, started if it is down, with a role that may
# create the test databases (PG_TEST_URL in the Makefile uses it).
if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  cluster=$(ls /etc/postgresql | sort -V | tail -1)
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "bootstrap: starting PostgreSQL $cluster"
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  pg() { runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
  pg -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hapanel') THEN
           CREATE ROLE hapanel LOGIN CREATEDB PASSWORD 'hapanel'; END IF; END \$\$;"
  [ -n "$(pg -tAc "SELECT 1 FROM pg_database WHERE datname = 'hapanel'")" ] \
    || runuser -u postgres -- createdb -O hapanel hapanel
elif ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "bootstrap: PostgreSQL is not running on 127.0.0.1:5432: the PostgreSQL test run needs it (PG_TEST_URL)" >&2
fi
