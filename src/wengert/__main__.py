"""``python -m wengert``: the ``wengert`` command."""

import sys

from wengert.cli import main

sys.exit(main())
