"""Model directory uploads: size limit and tarball checks happen before the runtime sees them."""

from __future__ import annotations

import io
import os
import tarfile

from api_support import Api


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _create(api: Api, data: bytes) -> tuple[int, str]:
    response = api.post(
        "/experiments",
        data={"config": "name: x\n"},
        files={"model_def": ("m.tar.gz", data, "application/gzip")},
    )
    return response.status_code, response.json()["detail"]


def test_oversized_model_dir_gets_413_with_the_fix(api: Api) -> None:
    limit = api.settings.max_model_dir_bytes
    data = _tarball({"data.bin": os.urandom(limit + 1024)})
    status, detail = _create(api, data)
    assert status == 413
    assert detail.startswith(f"model directory is {len(data) / 1e6:.1f} MB compressed")
    assert ".trainyardignore" in detail and "max_model_dir_bytes" in detail


def test_not_a_tarball_is_400(api: Api) -> None:
    status, detail = _create(api, b"plain text, not gzip")
    assert status == 400
    assert detail.startswith("model_def: not a gzip tarball")


def test_member_escaping_the_directory_is_400(api: Api) -> None:
    status, detail = _create(api, _tarball({"../evil.py": b"x"}))
    assert status == 400
    assert "escapes the model directory" in detail
