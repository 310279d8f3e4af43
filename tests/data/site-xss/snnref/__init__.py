"""Hostile fixture package (never imported)."""
