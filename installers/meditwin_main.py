"""Entry script of the PyInstaller bundle (installers/meditwin.spec): `meditwin` itself.

Kept outside the package so that PyInstaller does not put meditwin_desktop/ on the search
path (its modules would then also import as top-level names); everything is imported from
the installed, non-editable package.
"""

import multiprocessing
import os
import sys

if __name__ == "__main__":  # the twins' worker processes start through this script too
    multiprocessing.freeze_support()
    from meditwin_desktop.cli import main

    # Windows/macOS also have a windowed `meditwin-gui` (no console): started from a menu,
    # with no arguments, it opens the desktop application
    if len(sys.argv) == 1 and os.path.basename(sys.executable).lower().startswith("meditwin-gui"):
        sys.argv.append("gui")

    raise SystemExit(main())
