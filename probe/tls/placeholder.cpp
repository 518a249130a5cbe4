// Replaced by the TLS phase sources.
