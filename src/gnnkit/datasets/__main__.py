"""``python -m gnnkit.datasets list|info NAME [--root DIR]`` (same as ``gnnkit data ...``)."""
import sys

from gnnkit.datasets.cli import main

sys.exit(main())
