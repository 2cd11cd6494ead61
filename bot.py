"""Entry point: python bot.py ask|reindex|eval|run|commands|sync (see README.md)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
