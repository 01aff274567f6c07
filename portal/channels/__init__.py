"""Channel adapters (web, SMS, voice), the provider transports and the outbox."""
