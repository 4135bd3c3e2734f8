"""Alert channels (email, SNMP trap, syslog, webhook), routing and delivery of transitions."""
