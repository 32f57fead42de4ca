"""``python -m drs_provider.cli``: the same as ``drs-plan``."""

from __future__ import annotations

import sys

from drs_provider.cli import main

if __name__ == "__main__":
    sys.exit(main())
