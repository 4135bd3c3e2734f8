"""Pure parsing and classification for what a MySQL/MariaDB server answers: no Django, no sockets."""
