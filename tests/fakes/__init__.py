"""Fakes for the outer edges: in-memory ports for domain tests, fake servers for HTTP tests."""
