"""The `lstmcast` command line: commands, options, rendering, documents and progress."""

from lstmcast.cli.app import app

__all__ = ["app"]
