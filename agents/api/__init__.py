"""The brain service's REST API (routers per resource, typed dependencies)."""
