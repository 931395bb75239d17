"""``python -m vislab.catalogue [README.md]``: regenerate the README's endpoint tables."""

import sys

from vislab.catalogue import sync_readme

path = sys.argv[1] if len(sys.argv) > 1 else "README.md"
print(f"{path}: {'updated' if sync_readme(path) else 'already in step'}")
