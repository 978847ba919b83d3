"""Test support: real processes (Redis, Envoy, the sidecar), scripted fakes of a model
backend, an embeddings server and MCP servers, and shared helpers."""
