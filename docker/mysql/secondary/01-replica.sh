#!/bin/bash
# First start of mysql-secondary only (/docker-entrypoint-initdb.d, run against the entrypoint's
# temporary server). Waits for mysql-primary to accept the replication account over TLS, then starts
# GTID replication from it and makes this server super_read_only.
#
# Users, the hapanel_monitor schema and its heartbeat table are NOT created here: they arrive from the
# primary's binary log (auto-position from an empty GTID set). The replica threads keep running after
# the entrypoint restarts the server for real: connection settings are stored in mysql.* tables.
set -eo pipefail

: "${HAPANEL_REPL_PASSWORD:?HAPANEL_REPL_PASSWORD is not set}"
HAPANEL_SOURCE_HOST=${HAPANEL_SOURCE_HOST:-mysql-primary}
HAPANEL_SOURCE_WAIT=${HAPANEL_SOURCE_WAIT:-180}  # seconds

hapanel_sql_quote() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//\'/\'\'}"
}

if declare -F docker_process_sql >/dev/null; then
	hapanel_sql() { docker_process_sql "$@"; }
else
	hapanel_sql() { mysql --protocol=socket -uroot --password="$MYSQL_ROOT_PASSWORD" "$@"; }
fi

hapanel_wait_for_source() {
	local deadline=$((SECONDS + HAPANEL_SOURCE_WAIT))
	# The primary's own first start runs its init scripts on a socket-only temporary server, so a
	# successful TCP login as hapanel_repl means the primary is up *and* its accounts exist.
	until mysql --protocol=tcp -h "$HAPANEL_SOURCE_HOST" -P 3306 -u hapanel_repl \
		--password="$HAPANEL_REPL_PASSWORD" --ssl-mode=REQUIRED --connect-timeout=3 -N -e 'SELECT 1' >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "01-replica.sh: ${HAPANEL_SOURCE_HOST} did not accept hapanel_repl within ${HAPANEL_SOURCE_WAIT}s" >&2
			return 1
		fi
		echo "01-replica.sh: waiting for ${HAPANEL_SOURCE_HOST} ..."
		sleep 2
	done
}

hapanel_wait_for_source

repl_pw=$(hapanel_sql_quote "$HAPANEL_REPL_PASSWORD")
source_host=$(hapanel_sql_quote "$HAPANEL_SOURCE_HOST")

hapanel_sql <<-EOSQL
	-- Forget this server's own GTIDs so that auto-positioning fetches the primary's whole history
	-- (the accounts and the heartbeat table included). 8.4 name of RESET MASTER.
	RESET BINARY LOGS AND GTIDS;
	CHANGE REPLICATION SOURCE TO
		SOURCE_HOST='${source_host}',
		SOURCE_PORT=3306,
		SOURCE_USER='hapanel_repl',
		SOURCE_PASSWORD='${repl_pw}',
		SOURCE_SSL=1,
		SOURCE_AUTO_POSITION=1,
		SOURCE_CONNECT_RETRY=1,
		SOURCE_HEARTBEAT_PERIOD=1,
		GET_SOURCE_PUBLIC_KEY=1;
	START REPLICA;
	-- Survives the entrypoint's restart (mysqld-auto.cnf in the data directory); implies read_only.
	SET PERSIST super_read_only = ON;
EOSQL

unset repl_pw source_host
unset -f hapanel_sql hapanel_sql_quote hapanel_wait_for_source
