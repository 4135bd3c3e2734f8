"""Emergency read-only access to the vault on the secondary, with its audit outbox."""
