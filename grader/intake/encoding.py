"""Decode source bytes: UTF-8 (with or without BOM), then CP949, EUC-KR, latin-1 as a last resort."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from grader.text import Msg

#: encodings tried in order after the BOM checks; latin-1 always succeeds, so it comes last
FALLBACKS = ("utf-8", "cp949", "euc-kr")
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes and the encoding that worked."""

    text: str
    encoding: str
    """``utf-8``, ``utf-8-sig`` (BOM), ``utf-16``, ``cp949``, ``euc-kr`` or ``latin-1``."""
    warning: Msg | None = None
    """Set when the file was not UTF-8 (a warning, never a failure)."""


def decode_source(data: bytes, label: str, *, honour_cookie: bool = False) -> Decoded:
    """Decode the bytes of a source file.

    Args:
        data: The raw file content.
        label: The file's name as shown in warnings.
        honour_cookie: Try a PEP 263 ``# -*- coding: ... -*-`` declaration first (``.py`` files).

    Returns:
        The text (BOM removed, newlines normalised to ``\\n``) and the encoding used.
    """
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(_newlines(data[3:].decode("utf-8", errors="replace")), "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return Decoded(_newlines(text), "utf-16", _warn(label, "utf-16"))
    order = list(FALLBACKS)
    cookie = _cookie(data) if honour_cookie else None
    if cookie and cookie not in order:
        order.insert(0, cookie)
    elif cookie:
        order.remove(cookie)
        order.insert(0, cookie)
    for enc in order:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return Decoded(_newlines(text), enc, None if enc == "utf-8" else _warn(label, enc))
    text = data.decode("latin-1")
    warning = Msg(f"{label} is not UTF-8, CP949 or EUC-KR text; it was read as latin-1, "
                   "so Korean text in it may look garbled.",
                   f"{label} 파일이 UTF-8, CP949, EUC-KR 중 어느 것도 아니어서 latin-1로 "
                   "읽었습니다. 한글이 깨져 보일 수 있습니다.")
    return Decoded(_newlines(text), "latin-1", warning)


def _cookie(data: bytes) -> str | None:
    for line in data.splitlines()[:2]:
        match = _COOKIE.match(line)
        if match:
            name = match.group(1).decode("ascii", errors="replace").lower()
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


def _warn(label: str, enc: str) -> Msg:
    return Msg(f"{label} is encoded as {enc}, not UTF-8; it was read as {enc}.",
                f"{label} 파일이 UTF-8이 아닌 {enc}로 인코딩되어 있어 {enc}로 읽었습니다.")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
