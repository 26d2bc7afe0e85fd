"""Upload benchmark: the peak memory of a process encoding the worst photos the app accepts.

Each case runs in a fresh Python process that imports the app's photo rules, notes its
resident size (VmRSS), encodes the upload (one, or six at once in threads, as six requests to
one worker would), and notes its high-water mark (VmHWM): the growth is what the upload costs
a worker (at least the brief peak of importing the app, about 50 MB above the resident size).
The uploads are the largest pictures the default limits let through, made without decoding
(PNG rows written straight to zlib), so the parent stays small. Prints its figures, and last
one line of JSON.

    make bench-uploads
"""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import io, resource, sys, threading, time
from pathlib import Path

def status_kb(field):
    # The process's own figures: ru_maxrss would also count the parent's, kept across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

from sharing.catalog.photos import rules as photos
from sharing.errors import DomainError

data = Path(sys.argv[1]).read_bytes()
copies = int(sys.argv[2])
store = photos.PhotoStore(Path(sys.argv[3]))
before = status_kb("VmRSS")  # resident now (importing peaks higher, briefly)
outcome = []

def one():
    try:
        photos.encode(photos.Upload("x", io.BytesIO(data)), store)
        outcome.append("accepted")
    except DomainError as refused:
        outcome.append("refused: " + refused.message[:40])

started = time.perf_counter()
threads = [threading.Thread(target=one) for _ in range(copies)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
seconds = time.perf_counter() - started
after = status_kb("VmHWM")
print(before, after, round(seconds, 2), outcome[0])
"""


def png(width: int, height: int, color_type: int = 6, bit_depth: int = 8) -> bytes:
    """A PNG of one colour, written row by row (never held decoded)."""
    channels = {0: 1, 2: 3, 3: 1, 6: 4}[color_type]
    row = b"\x00" + bytes(math.ceil(width * channels * bit_depth / 8))
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    extra = chunk(b"PLTE", b"\x00\x00\x00" * 2) + chunk(b"tRNS", b"\x00") if color_type == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "steelblue").save(out, "JPEG", quality=80)
    return out.getvalue()


def webp(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 20, 30, 128)).save(out, "WEBP", quality=50)
    return out.getvalue()


def measure(data: bytes, copies: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(copies), folder],
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout.split(maxsplit=3)
    before, after = int(out[0]) // 1024, int(out[1]) // 1024
    return {"base_mb": before, "peak_mb": after, "growth_mb": after - before, "seconds": float(out[2]),
            "outcome": out[3].strip()}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from sharing.catalog.photos.rules import PhotoStore

    most = PhotoStore(Path(".")).max_pixels
    side = math.isqrt(most)
    cases = {
        "png_7000_rgba": png(7000, 7000),  # the reviewer's file
        f"png_{side}_rgba": png(side, side),
        f"png_{side}_palette_transparent": png(side, side, color_type=3),
        f"png_{side}_rgb16": png(side, side, color_type=2, bit_depth=16),
        "jpeg_8000x6000": jpeg(8000, 6000),
        f"webp_{math.isqrt(most // 3)}_rgba": webp(math.isqrt(most // 3), math.isqrt(most // 3)),
    }
    results: dict[str, dict[str, object]] = {}
    print(f"default pixel limit: {most:,} ({side} x {side})")
    print(f"{'upload':36} {'bytes':>10} {'copies':>6} {'peak growth':>12} {'seconds':>8}  outcome")
    for name, data in cases.items():
        for copies in (1, 6) if name.startswith(("png_7000", f"png_{side}_rgba")) else (1,):
            result = measure(data, copies)
            results[f"{name}x{copies}"] = result
            print(f"{name:36} {len(data):>10,} {copies:>6} {result['growth_mb']:>9} MB {result['seconds']:>8}  "
                  f"{result['outcome']}")
    print(json.dumps({"max_pixels": most, "results": results}))


if __name__ == "__main__":
    main()
