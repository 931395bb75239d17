"""``python -m vislab serve ...`` — same as the ``vislab`` console script."""

import sys

from vislab.cli import main

sys.exit(main())
