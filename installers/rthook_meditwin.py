"""PyInstaller run-time hook of the MEDITWIN bundle (installers/meditwin.spec).

matplotlib keeps its font cache in MPLCONFIGDIR. PyInstaller's own hook (dropped by the spec)
points it at a new temporary folder at every start, so each start rebuilt the font cache;
here it is the user's MEDITWIN cache folder (core/paths.py: MEDITWIN_HOME/cache, else the
platform's cache folder), kept between starts. Nothing is downloaded.
"""


def _meditwin_mplconfig() -> None:
    import os

    if os.environ.get("MPLCONFIGDIR"):
        return
    home = os.environ.get("MEDITWIN_HOME")
    if home:
        base = os.path.join(os.path.expanduser(home), "cache")
    else:
        import platformdirs

        base = platformdirs.user_cache_dir("meditwin", appauthor=False)
    path = os.path.join(base, "matplotlib")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:  # a read-only home: a temporary folder, as PyInstaller would
        import tempfile

        path = tempfile.mkdtemp(prefix="meditwin-mpl-")
    os.environ["MPLCONFIGDIR"] = path


_meditwin_mplconfig()
del _meditwin_mplconfig
