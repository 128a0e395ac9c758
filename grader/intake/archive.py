"""Unpack a ``.zip`` submission safely: no path escapes, no links, bounded size and count."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.intake.submission import SubmissionError
from grader.text import Msg

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 5_000
#: a member this much bigger than its compressed size (and over MIN_RATIO_BYTES) is a zip bomb
MAX_RATIO = 200
MIN_RATIO_BYTES = 5 * 1024 * 1024
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")


@dataclass
class Unpacked:
    """Where a zip was unpacked and what was refused."""

    root: Path
    """The submission folder: the single top-level folder of the zip, or the unpack folder."""
    files: int = 0
    warnings: list[Msg] = field(default_factory=list)


def unpack_zip(zip_path: Path, dest: Path) -> Unpacked:
    """Unpack ``zip_path`` into ``dest`` (emptied first), refusing anything unsafe.

    Members with absolute paths, ``..`` parts, links or encryption are skipped with a warning.
    The whole zip is refused when it has more than :data:`MAX_MEMBERS` members, unpacks to
    more than :data:`MAX_UNPACKED_BYTES`, or a member is compressed suspiciously well.

    Args:
        zip_path: The ``.zip`` file.
        dest: The folder to unpack into (inside the work folder).

    Raises:
        SubmissionError: The file is not a zip, or it is refused as a whole.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(Msg(
            f"{zip_path.name} is not a valid zip file; zip the folder again and resubmit.",
            f"{zip_path.name}은(는) 올바른 zip 파일이 아닙니다. 폴더를 다시 압축해 제출해 주세요."),
            str(exc)) from exc
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    result = Unpacked(root=dest)
    with zf:
        infos = zf.infolist()
        _check_limits(zip_path, infos)
        written = 0
        real_dest = dest.resolve()
        for info in infos:
            name = _member_name(info)
            problem = _refusal(info, name)
            if problem == "junk":
                continue
            if problem:
                result.warnings.append(f"Skipped {name!r} in {zip_path.name}: {problem}.")
                continue
            target = (real_dest / name).resolve()
            if real_dest not in target.parents:
                result.warnings.append(Msg(
                    f"Skipped {name!r} in {zip_path.name}: it points outside the folder.",
                    f"{zip_path.name}의 {name!r}은(는) 폴더 밖을 가리켜 건너뛰었습니다."))
                continue
            if name.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                continue
            try:
                written += _extract(zf, info, target, MAX_UNPACKED_BYTES - written, zip_path)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
                    zlib.error) as exc:
                target.unlink(missing_ok=True)
                result.warnings.append(f"Skipped {name!r} in {zip_path.name}: it could not be "
                                       f"unpacked ({type(exc).__name__}).")
                continue
            result.files += 1
    result.root = _single_folder(dest)
    return result


def _check_limits(zip_path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise SubmissionError(Msg(
            f"{zip_path.name} holds more than {MAX_MEMBERS} files; submit only "
            "your notebook, code and result images.",
            f"{zip_path.name}에 파일이 {MAX_MEMBERS}개보다 많습니다. 노트북, 코드, 결과 이미지만 "
            "제출해 주세요."), f"{len(infos)} members")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        raise SubmissionError(Msg(
            f"{zip_path.name} is too large when unpacked (over "
            f"{MAX_UNPACKED_BYTES // 2**20} MB); leave out data sets and large checkpoints.",
            f"{zip_path.name}은(는) 압축을 풀면 너무 큽니다({MAX_UNPACKED_BYTES // 2**20} MB 초과). "
            "데이터셋과 큰 체크포인트는 빼 주세요."), f"{total} bytes declared")
    for info in infos:
        if info.file_size > MIN_RATIO_BYTES and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise SubmissionError(Msg(
                f"{zip_path.name} looks like a zip bomb and was not unpacked.",
                f"{zip_path.name}은(는) 압축 폭탄으로 보여 풀지 않았습니다."),
                f"{info.filename}: {info.file_size} bytes from {info.compress_size}")


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member name, repaired when a Korean Windows zip stored CP949 without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = b""
        for enc in ("utf-8", "cp949"):
            try:
                name = raw.decode(enc) if raw else name
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


def _refusal(info: zipfile.ZipInfo, name: str) -> str | None:
    if any(part in name for part in _JUNK) or name.split("/")[-1].startswith("._"):
        return "junk"
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or path.is_absolute():
        return "absolute paths are not allowed"
    if ".." in path.parts:
        return "paths with '..' are not allowed"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "links are not allowed"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    return None


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int,
             zip_path: Path) -> int:
    """Copy one member, counting real bytes (headers can lie); returns bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zf.open(info) as src, open(target, "wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > budget or written > info.file_size:
                out.close()
                target.unlink(missing_ok=True)
                raise SubmissionError(Msg(
                    f"{zip_path.name} is too large when unpacked or is damaged; "
                    "zip the folder again and resubmit.",
                    f"{zip_path.name}은(는) 압축을 풀면 너무 크거나 손상되었습니다. 폴더를 다시 "
                    "압축해 제출해 주세요."), info.filename)
            out.write(chunk)
    return written


def _single_folder(dest: Path) -> Path:
    entries = [e for e in dest.iterdir() if not e.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return dest
