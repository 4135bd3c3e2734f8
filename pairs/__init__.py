"""Admins configure pairs: forms, test connection, setup assistant, change log."""
