"""The fi/sv/en message catalogs, shipped as package data."""
