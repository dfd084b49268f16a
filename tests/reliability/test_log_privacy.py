"""The log holds no patient names, IDs, birth dates, image paths or UIDs (case ids only),
also in tracebacks; it is private to the user (0600)."""

from __future__ import annotations

import logging
import stat

from meditwin_desktop.core import logs


def test_identifiers_paths_and_uids_never_reach_the_log(tmp_path):
    path = tmp_path / "meditwin.log"
    logs.protect("DOE^JANE^MARIE", "PID-4711", "19610302", "NG^WU")
    logs.setup_logging(path=path)
    log = logging.getLogger("meditwin.test")
    folder = "/data/pacs export/DOE_JANE/IM0001.dcm"
    log.warning("opened %s for Jane Doe (PID-4711, born 19610302), series %s", folder,
                "1.2.840.113619.2.55.3.604688119")  # fmt: skip
    log.warning("series of Ng_Wu and DOE_JANE")  # underscores join words in file names
    try:
        raise OSError(2, "No such file or directory", "/mnt/usb/Marie/scan")
    except OSError:
        log.exception("reading failed for DOE^JANE^MARIE")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    for secret in ("Jane", "JANE", "Doe", "DOE", "Marie", "PID-4711", "19610302",
                   "pacs export", "/mnt/usb", "113619", "Ng_", "_Wu"):  # fmt: skip
        assert secret not in text, secret
    assert "[patient]" in text and "[path]" in text and "[uid]" in text
    assert "Traceback" in text  # the traceback is kept, scrubbed
    assert "test_log_privacy.py" in text  # code paths stay: they name no patient
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "baseFilename", None) == str(path):
            logging.getLogger().removeHandler(handler)
            handler.close()
