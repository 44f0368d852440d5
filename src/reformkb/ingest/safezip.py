"""Opening zip containers (.docx, .ofd) with decompression limits enforced while reading.

A zip's headers can lie about sizes, so nothing here trusts them: every member is decompressed in
chunks and the bytes actually produced are counted against :class:`ReadLimits` (per XML member, in
all, and as a ratio to the packed size). The first limit crossed stops reading at once, so a zip bomb
costs one chunk of memory, not its unpacked size. A member whose bytes do not match its checksum is
refused as damaged.
"""
from __future__ import annotations

import io
import zipfile

from reformkb.errors import InputError
from reformkb.ingest.limits import DEFAULT_LIMITS, MIB, RATIO_GRACE, ReadLimits

CHUNK = 1 * MIB


class SafeZip:
    """A zip whose every member has been read once within the limits (see :func:`open_zip`)."""

    def __init__(self, zf: zipfile.ZipFile, name: str, label: str, limits: ReadLimits):
        self.zf, self.name, self.label, self.limits = zf, name, label, limits
        self._names = {info.filename: info for info in zf.infolist()}

    def names(self) -> list[str]:
        return list(self._names)

    def find(self, path: str) -> str | None:
        """The member called ``path`` (case-insensitive, leading ``/`` and ``./`` ignored), else None."""
        wanted = path.replace("\\", "/").lstrip("/")
        while wanted.startswith("./"):
            wanted = wanted[2:]
        if wanted in self._names:
            return wanted
        lower = wanted.lower()
        return next((n for n in self._names if n.lower() == lower), None)

    def read(self, member: str) -> bytes:
        """The bytes of ``member``, read again within the same limits."""
        info = self._names[member]
        return b"".join(_chunks(self.zf, info, self.name, self.label, self.limits))


def _too_big(name: str, label: str, produced: int) -> InputError:
    return InputError(
        f"{name} 解压后过大（已超过 {produced // MIB} MB），疑似异常文件（“压缩炸弹”），已拒绝：请检查文件来源，"
        f"或用原软件重新导出{label}后再导入。"
    )


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, label: str, limits: ReadLimits,
            produced_before: int = 0):
    """Yield the decompressed bytes of ``info`` chunk by chunk, counting the bytes actually produced."""
    is_xml = info.filename.lower().endswith((".xml", ".rels", ".res"))
    produced = 0
    try:
        with zf.open(info) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    return
                produced += len(chunk)
                if produced_before + produced > limits.max_unpacked_bytes:
                    raise _too_big(name, label, produced_before + produced)
                if is_xml and produced > limits.max_xml_bytes:
                    raise _too_big(name, label, produced)
                if produced > RATIO_GRACE and produced > limits.max_zip_ratio * max(info.compress_size, 1):
                    raise _too_big(name, label, produced)
                yield chunk
    except InputError:
        raise
    except RuntimeError as exc:  # a member protected by a password
        raise InputError(f"{name} 已加密（{info.filename} 需要密码）：请先解除密码保护再导入。") from exc
    except NotImplementedError as exc:  # an unsupported compression method
        raise InputError(f"{name} 无法作为 {label}读取：使用了不支持的压缩方式（{exc}）。请用原软件另存后再导入。") from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:  # bad checksum, truncated data …
        raise InputError(
            f"{name} 无法作为 {label}读取：压缩包中的 {info.filename} 已损坏（{exc}）。请确认文件完整，或用原软件另存后再导入。"
        ) from exc


def open_zip(data: bytes, name: str, label: str, kind: str, limits: ReadLimits = DEFAULT_LIMITS) -> SafeZip:
    """Open ``data`` as a zip and read every member once within ``limits`` (nothing is kept).

    ``label`` and ``kind`` name the form in messages ("Word 文档", ".docx"; "OFD 文件", "OFD"). Raises InputError when the data is
    not a zip, has too many members, is damaged or encrypted, or crosses a decompression limit.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(
            f"{name} 不是有效的 {kind} 文件（压缩包结构已损坏，或文件已加密、只是改了扩展名）：请用原软件打开后另存，再导入。"
        ) from exc
    if len(infos) > limits.max_zip_members:
        raise InputError(f"{name} 含有 {len(infos)} 个部件，超过上限 {limits.max_zip_members}，疑似异常文件，已拒绝。")
    produced = 0
    for info in infos:
        if info.is_dir():
            continue
        for chunk in _chunks(zf, info, name, label, limits, produced):
            produced += len(chunk)
    return SafeZip(zf, name, label, limits)
