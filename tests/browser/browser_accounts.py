"""Accounts the browser journeys sign in with (import by name)."""

PASSWORD = "correct horse battery"
