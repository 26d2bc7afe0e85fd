"""Reading back what our PDFs show, for tests."""

from __future__ import annotations

import base64
import re
import zlib


def pdf_text(pdf: bytes) -> str:
    """The strings a PDF shows, from reportlab's own streams (ASCII85, then Flate): enough to read
    our reports' figures back without a PDF library."""
    shown = []
    for header, body in re.findall(rb"<<([^>]*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.strip().removeprefix(b"<~").removesuffix(b"~>"))
        if b"FlateDecode" in header:
            body = zlib.decompress(body)
        shown += re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", body)

    def unescape(string: bytes) -> str:  # \ddd in octal, \( and \) as themselves (the standard fonts: WinAnsi)
        return re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1).isdigit()
                      else m.group(1), string).decode("cp1252")

    return " ".join(unescape(string) for string in shown).replace("\u00a0", " ")
