"""`snnkb verify`: execute the notebooks. (Placeholder.)"""

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `verify` subcommand."""
