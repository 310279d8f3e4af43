"""Fixture stand-in for snnref (read by the site builder, never imported)."""
