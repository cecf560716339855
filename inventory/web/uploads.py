"""Upload handling shared by the web screens and the API: the capped upload handler, and the
files that wait on disk between an import's preview and its confirmation."""

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

# Uploaded files wait this long between their preview and the confirmation.
PENDING_SECONDS = 24 * 3600


class CappedUpload(FileUploadHandler):
    """Stops receiving an upload once it passes the import limit: an oversized file is neither
    kept in memory nor written to a temporary file, and the parser never sees it."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


# Between an import's preview and its confirmation the bytes wait on disk under their SHA-256,
# not in the session: a 5 MB file has no place in a cookie or a session row, and the
# confirmation re-reads exactly what was previewed. The digest is checked to be hexadecimal
# by the confirmation forms before it names a path.


def _pending_dir() -> Path:
    directory = Path(settings.DATA_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def pending_store(sha256: str, content: bytes) -> None:
    directory = _pending_dir()
    now = time.time()
    for old in directory.iterdir():
        # Previews never confirmed are cleared on the way.
        try:
            if old.is_file() and now - old.stat().st_mtime > PENDING_SECONDS:
                old.unlink()
        except OSError:
            continue
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    os.replace(temporary, directory / sha256)


def pending_load(sha256: str) -> bytes | None:
    path = _pending_dir() / sha256
    try:
        if time.time() - path.stat().st_mtime > PENDING_SECONDS:
            return None
        return path.read_bytes()
    except OSError:
        return None


def pending_drop(sha256: str) -> None:
    (_pending_dir() / sha256).unlink(missing_ok=True)


def upload_content(request, form, *, max_bytes: int, megabytes) -> tuple[bytes, str] | None:
    """The bytes and name of the form's `file` once the form is valid (or the upload was
    stopped), or None with the form's error when the file is above `max_bytes`: refused before
    a byte is parsed, whether CappedUpload stopped the upload or not (the view answers 413)."""
    too_large = getattr(request, "upload_too_large", False)
    upload = None if too_large else form.cleaned_data.get("file")
    if too_large or upload.size > max_bytes:
        form.errors.pop("file", None)
        form.add_error(
            "file",
            _("The file is larger than %(size)s MB: split it into several files.")
            % {"size": megabytes},
        )
        return None
    return upload.read(), upload.name
