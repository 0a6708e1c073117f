#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

# A developer's machine keeps its settings (e.g. DEBUG=1) in a git-ignored .env beside this file,
# written by `make .env`. Only manage.py reads it, never the WSGI entry point, so a stray file
# cannot turn a production server into a debug one; variables already set always win.
DOT_ENV = Path(__file__).resolve().parent / ".env"


def read_dot_env(path: Path = DOT_ENV) -> None:
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            sys.exit(f"{path}:{number}: expected NAME=value, got {line!r}")
        os.environ.setdefault(name.strip(), value.strip())


def main():
    """Run administrative tasks."""
    read_dot_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
