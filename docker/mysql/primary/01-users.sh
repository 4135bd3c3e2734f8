#!/bin/bash
# First start of mysql-primary only (/docker-entrypoint-initdb.d, run against the entrypoint's temporary
# server). A shell script rather than a .sql file because the passwords come from the environment
# (HAPANEL_REPL_PASSWORD, HAPANEL_MONITOR_PASSWORD; see docker-compose.yml).
#
# These statements are written to the primary's binary log with GTIDs, so the secondary, which starts
# replicating with SOURCE_AUTO_POSITION=1 from an empty GTID set, gets the same users, schema and table.
#
# The entrypoint sources .sh files that are not executable (then docker_process_sql exists); the
# fallback below lets the script also be run as a program.
set -eo pipefail

: "${HAPANEL_REPL_PASSWORD:?HAPANEL_REPL_PASSWORD is not set}"
: "${HAPANEL_MONITOR_PASSWORD:?HAPANEL_MONITOR_PASSWORD is not set}"

# SQL string literal contents: double the single quotes and backslashes.
hapanel_sql_quote() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//\'/\'\'}"
}
repl_pw=$(hapanel_sql_quote "$HAPANEL_REPL_PASSWORD")
monitor_pw=$(hapanel_sql_quote "$HAPANEL_MONITOR_PASSWORD")

if declare -F docker_process_sql >/dev/null; then
	hapanel_sql() { docker_process_sql "$@"; }
else
	hapanel_sql() { mysql --protocol=socket -uroot --password="$MYSQL_ROOT_PASSWORD" "$@"; }
fi

hapanel_sql <<-EOSQL
	-- Replication account used by mysql-secondary (CHANGE REPLICATION SOURCE ... SOURCE_SSL=1).
	CREATE USER IF NOT EXISTS 'hapanel_repl'@'%' IDENTIFIED BY '${repl_pw}' REQUIRE SSL;
	GRANT REPLICATION SLAVE ON *.* TO 'hapanel_repl'@'%';

	-- The account hapanel polls both nodes with.
	CREATE USER IF NOT EXISTS 'hapanel_monitor'@'%' IDENTIFIED BY '${monitor_pw}';
	-- SHOW REPLICA STATUS, SHOW BINARY LOG STATUS (statements as monitor/server_sql.py gives them).
	GRANT REPLICATION CLIENT ON *.* TO 'hapanel_monitor'@'%';
	-- MySQL 8.4 keeps the replication details (heartbeat period, per-worker errors, connection state)
	-- in performance_schema; those tables need an explicit SELECT (no wildcards in table grants).
	GRANT SELECT ON performance_schema.replication_connection_configuration TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_connection_status TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_configuration TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_status TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_status_by_coordinator TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_status_by_worker TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_filters TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_applier_global_filters TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_asynchronous_connection_failover TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_group_members TO 'hapanel_monitor'@'%';
	GRANT SELECT ON performance_schema.replication_group_member_stats TO 'hapanel_monitor'@'%';

	-- Heartbeat rows: hapanel writes one row per origin on the writable node and reads its age on the
	-- other to measure end-to-end lag (statements as monitor/server_sql.py gives them).
	CREATE DATABASE IF NOT EXISTS `hapanel_monitor`;
	CREATE TABLE IF NOT EXISTS `hapanel_monitor`.heartbeat ( origin VARCHAR(255) NOT NULL PRIMARY KEY, server_id INT UNSIGNED NOT NULL, ts DOUBLE NOT NULL) ENGINE=InnoDB;
	GRANT SELECT, INSERT, UPDATE ON `hapanel_monitor`.* TO 'hapanel_monitor'@'%';
EOSQL

unset repl_pw monitor_pw
unset -f hapanel_sql hapanel_sql_quote
