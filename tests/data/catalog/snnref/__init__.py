"""Fixture package: validation resolves impl paths against this tree."""
