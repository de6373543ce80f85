"""Sopu in Microsoft Teams: the HTTP app, the Teams handler, the notifier and the CLI.

Every botbuilder import stays inside this package, so moving to the Microsoft 365 Agents
SDK touches one folder.
"""
