"""`python -m meditwin_desktop` runs the same command line as `meditwin`."""

import multiprocessing

from meditwin_desktop.cli import main

if __name__ == "__main__":  # worker processes (spawn) import this module too
    multiprocessing.freeze_support()  # PyInstaller bundles start workers through main
    raise SystemExit(main())
