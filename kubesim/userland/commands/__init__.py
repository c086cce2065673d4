"""Command implementations, grouped by kind (each module exports ``COMMANDS``)."""
