"""robocortex.client: a typed Python client for the brain service's REST API (sync and async)."""
