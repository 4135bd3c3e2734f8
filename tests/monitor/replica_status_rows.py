"""Status rows as MariaDB 10.11, MySQL 5.7 and MySQL 8.0/8.4 return them, and the channel a healthy row reads as."""

from __future__ import annotations

from monitor.readings import ReplicationChannel

# Column names and order exactly as MariaDB 10.11.19 (Debian 12) describes SHOW ALL SLAVES STATUS
# (read from cursor.description on the lab machine): the 54 of SHOW SLAVE STATUS plus
# Connection_name, Slave_SQL_State, Slave_received_heartbeats, Slave_heartbeat_period and the
# columns 10.11 added (Gtid_Slave_Pos, Max_relay_log_size, ...).
MARIADB_1011_COLUMNS = (
    "Connection_name Slave_SQL_State Slave_IO_State Master_Host Master_User Master_Port Connect_Retry "
    "Master_Log_File Read_Master_Log_Pos Relay_Log_File Relay_Log_Pos Relay_Master_Log_File "
    "Slave_IO_Running Slave_SQL_Running Replicate_Do_DB Replicate_Ignore_DB Replicate_Do_Table "
    "Replicate_Ignore_Table Replicate_Wild_Do_Table Replicate_Wild_Ignore_Table Last_Errno Last_Error "
    "Skip_Counter Exec_Master_Log_Pos Relay_Log_Space Until_Condition Until_Log_File Until_Log_Pos "
    "Master_SSL_Allowed Master_SSL_CA_File Master_SSL_CA_Path Master_SSL_Cert Master_SSL_Cipher "
    "Master_SSL_Key Seconds_Behind_Master Master_SSL_Verify_Server_Cert Last_IO_Errno Last_IO_Error "
    "Last_SQL_Errno Last_SQL_Error Replicate_Ignore_Server_Ids Master_Server_Id Master_SSL_Crl "
    "Master_SSL_Crlpath Using_Gtid Gtid_IO_Pos Replicate_Do_Domain_Ids Replicate_Ignore_Domain_Ids "
    "Parallel_Mode SQL_Delay SQL_Remaining_Delay Slave_SQL_Running_State Slave_DDL_Groups "
    "Slave_Non_Transactional_Groups Slave_Transactional_Groups Replicate_Rewrite_DB Retried_transactions "
    "Max_relay_log_size Executed_log_entries Slave_received_heartbeats Slave_heartbeat_period Gtid_Slave_Pos"
).split()

SQL_WAITING = "Slave has read all relay log; waiting for more updates"
REFUSED_IO_ERROR = (
    "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
    "message: Can't connect to server on '127.0.0.2' (111 \"Connection refused\")"
)
DUPLICATE_SQL_ERROR = (
    "Could not execute Write_rows_v1 event on table t.t; Duplicate entry '1' for key 'PRIMARY', "
    "Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mariadb-bin.000002, "
    "end_log_pos 2187"
)


# The replication filters and the last error, in the place and with the names all three shapes give them:
# no filter set, nothing failed.
NO_FILTERS_NO_ERROR = {
    "Replicate_Do_DB": "",
    "Replicate_Ignore_DB": "",
    "Replicate_Do_Table": "",
    "Replicate_Ignore_Table": "",
    "Replicate_Wild_Do_Table": "",
    "Replicate_Wild_Ignore_Table": "",
    "Last_Errno": 0,
    "Last_Error": "",
    "Skip_Counter": 0,
}


def mariadb_row(**changes: object) -> dict:
    """A healthy row of MariaDB 10.11 SHOW ALL SLAVES STATUS, typed as PyMySQL returns it."""
    row = {
        "Connection_name": "",
        "Slave_SQL_State": SQL_WAITING,
        "Slave_IO_State": "Waiting for master to send event",
        "Master_Host": "127.0.0.2",
        "Master_User": "repl",
        "Master_Port": 3307,
        "Connect_Retry": 1,
        "Master_Log_File": "mariadb-bin.000002",
        "Read_Master_Log_Pos": 1893,
        "Relay_Log_File": "relay-bin.000004",
        "Relay_Log_Pos": 1190,
        "Relay_Master_Log_File": "mariadb-bin.000002",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
        **NO_FILTERS_NO_ERROR,
        "Exec_Master_Log_Pos": 1893,
        "Relay_Log_Space": 1797,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Master_SSL_Allowed": "Yes",
        "Master_SSL_CA_File": "/etc/mysql/tls/ca.pem",
        "Master_SSL_CA_Path": "",
        "Master_SSL_Cert": "",
        "Master_SSL_Cipher": "",
        "Master_SSL_Key": "",
        "Seconds_Behind_Master": 0,
        "Master_SSL_Verify_Server_Cert": "Yes",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Master_Server_Id": 2,
        "Master_SSL_Crl": "",
        "Master_SSL_Crlpath": "",
        "Using_Gtid": "Slave_Pos",
        "Gtid_IO_Pos": "1-1-12,2-2-57",
        "Replicate_Do_Domain_Ids": "",
        "Replicate_Ignore_Domain_Ids": "",
        "Parallel_Mode": "optimistic",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Slave_SQL_Running_State": SQL_WAITING,
        "Slave_DDL_Groups": 3,
        "Slave_Non_Transactional_Groups": 0,
        "Slave_Transactional_Groups": 54,
        "Replicate_Rewrite_DB": "",
        "Retried_transactions": 0,
        "Max_relay_log_size": 1073741824,
        "Executed_log_entries": 412,
        "Slave_received_heartbeats": 37,
        "Slave_heartbeat_period": 1.0,
        "Gtid_Slave_Pos": "1-1-12,2-2-57",
    }
    for key, value in changes.items():
        assert key in row, key  # a typo in a test must not pass as an "extra column"
        row[key] = value
    return row


HEALTHY = ReplicationChannel(
    name="",
    source_host="127.0.0.2",
    source_port=3307,
    io_running="Yes",
    sql_running="Yes",
    io_state="Waiting for master to send event",
    sql_state=SQL_WAITING,
    last_io_errno=0,
    last_io_error="",
    last_sql_errno=0,
    last_sql_error="",
    seconds_behind=0,
    gtid_io_pos="1-1-12,2-2-57",
    ssl_verify=True,
    ssl_allowed=True,
    connect_retry=1,
    heartbeat_period=1.0,
    # What the IO thread has received: the heartbeat counter and Master_Log_File:Read_Master_Log_Pos.
    received_heartbeats=37,
    read_position="mariadb-bin.000002:1893",
)

MYSQL57_GTID = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3"


def mysql57_row(**changes: object) -> dict:
    """A healthy row of MySQL 5.7.44 SHOW SLAVE STATUS (single default channel)."""
    row = {
        "Slave_IO_State": "Waiting for master to send event",
        "Master_Host": "10.0.0.1",
        "Master_User": "repl",
        "Master_Port": 3306,
        "Connect_Retry": 60,
        "Master_Log_File": "mysql-bin.000012",
        "Read_Master_Log_Pos": 154,
        "Relay_Log_File": "relay-bin.000031",
        "Relay_Log_Pos": 367,
        "Relay_Master_Log_File": "mysql-bin.000012",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
        **NO_FILTERS_NO_ERROR,
        "Exec_Master_Log_Pos": 154,
        "Relay_Log_Space": 741,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Master_SSL_Allowed": "No",
        "Master_SSL_CA_File": "",
        "Master_SSL_CA_Path": "",
        "Master_SSL_Cert": "",
        "Master_SSL_Cipher": "",
        "Master_SSL_Key": "",
        "Seconds_Behind_Master": 3,
        "Master_SSL_Verify_Server_Cert": "No",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Master_Server_Id": 1,
        "Master_UUID": "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "Master_Info_File": "mysql.slave_master_info",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Slave_SQL_Running_State": "Slave has read all relay log; waiting for more updates",
        "Master_Retry_Count": 86400,
        "Master_Bind": "",
        "Last_IO_Error_Timestamp": "",
        "Last_SQL_Error_Timestamp": "",
        "Master_SSL_Crl": "",
        "Master_SSL_Crlpath": "",
        "Retrieved_Gtid_Set": MYSQL57_GTID,
        "Executed_Gtid_Set": MYSQL57_GTID,
        "Auto_Position": 1,
        "Replicate_Rewrite_DB": "",
        "Channel_Name": "",
        "Master_TLS_Version": "",
    }
    row.update(changes)
    return row


def mysql80_row(**changes: object) -> dict:
    """A row of MySQL 8.0.22+ / 8.4 SHOW REPLICA STATUS, renamed columns included."""
    row = {
        "Replica_IO_State": "Waiting for source to send event",
        "Source_Host": "db-a.internal",
        "Source_User": "repl",
        "Source_Port": 3306,
        "Connect_Retry": 60,
        "Source_Log_File": "binlog.000007",
        "Read_Source_Log_Pos": 1307,
        "Relay_Log_File": "replica-relay-bin.000003",
        "Relay_Log_Pos": 1508,
        "Relay_Source_Log_File": "binlog.000007",
        "Replica_IO_Running": "Yes",
        "Replica_SQL_Running": "Yes",
        **NO_FILTERS_NO_ERROR,
        "Exec_Source_Log_Pos": 1307,
        "Relay_Log_Space": 1858,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Source_SSL_Allowed": "Yes",
        "Source_SSL_CA_File": "/etc/mysql/ca.pem",
        "Source_SSL_CA_Path": "",
        "Source_SSL_Cert": "",
        "Source_SSL_Cipher": "",
        "Source_SSL_Key": "",
        "Seconds_Behind_Source": 0,
        "Source_SSL_Verify_Server_Cert": "Yes",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Source_Server_Id": 1,
        "Source_UUID": "8a94f357-aab4-11df-86ab-c80aa9429562",
        "Source_Info_File": "mysql.slave_master_info",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Replica_SQL_Running_State": "Replica has read all relay log; waiting for more updates",
        "Source_Retry_Count": 86400,
        "Source_Bind": "",
        "Last_IO_Error_Timestamp": "",
        "Last_SQL_Error_Timestamp": "",
        "Source_SSL_Crl": "",
        "Source_SSL_Crlpath": "",
        "Retrieved_Gtid_Set": "8a94f357-aab4-11df-86ab-c80aa9429562:1-9",
        "Executed_Gtid_Set": "8a94f357-aab4-11df-86ab-c80aa9429562:1-9",
        "Auto_Position": 1,
        "Replicate_Rewrite_DB": "",
        "Channel_Name": "",
        "Source_TLS_Version": "TLSv1.3",
        "Source_public_key_path": "",
        "Get_Source_public_key": 0,
        "Network_Namespace": "",
    }
    row.update(changes)
    return row
