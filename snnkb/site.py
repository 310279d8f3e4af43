"""`snnkb site`: build (and serve) the trilingual site. (Placeholder until the site builder lands.)"""

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `site` subcommand."""
