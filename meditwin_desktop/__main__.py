"""`python -m meditwin_desktop` runs the same command line as `meditwin`."""

from meditwin_desktop.cli import main

raise SystemExit(main())
