"""The one safe image loader: every page and every CLI command turns user bytes into pixels here.

``load_image(source)`` returns a plain, fully decoded **RGB** ``PIL.Image.Image`` (H×W×3 uint8 when
``np.asarray``-ed), upright according to its EXIF orientation, or raises :class:`ImageError` with a
message a student understands. Nothing else escapes for bad bytes.

What it defends against (see ``shared/docs/reliability.md`` §Images):

1. Files that are not images, or are images in a format we do not want to parse (PDF, PSD, EPS, ...):
   only an allowlist of decoders ever sees the bytes (``Image.open(fp, formats=[...])``).
2. Decompression bombs: a 50 000 × 50 000 PNG is a few hundred bytes on disk but 7.5 GB of RGB pixels.
   Its size is read from the header and refused *before* any pixel is decoded.
3. Truncated or corrupt files: ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False, so the decoder errors
   instead of quietly returning a half-grey picture.
4. Phone photos stored sideways with an EXIF ``Orientation`` tag (values 2–8).
5. Exotic pixel modes (palette with transparency, LA, RGBA, CMYK, 16-bit, float) -> correct RGB.
6. Animated GIF / WebP: the first frame only, so cost does not grow with the number of frames.

Gotcha worth knowing: Pillow's own ``convert("L")`` on a 16-bit image *clips* values to 0..255, so a
16-bit gradient comes out almost all white. We scale by the bit depth instead (see ``_to_rgb``).
"""
from __future__ import annotations

import html
import io
import numbers
import os
import re
import unicodedata
import warnings
from pathlib import PurePath
from typing import BinaryIO, Union

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, features

from core.errors import InputError, PlaygroundError

__all__ = [
    "ALLOWED_FORMATS",
    "ALLOWED_TEXT",
    "UPLOAD_EXTENSIONS",
    "ImageError",
    "image_to_png_bytes",
    "load_image",
    "safe_display_name",
]

ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]

# Pillow format ids (keys of ``Image.OPEN``) we agree to decode. Everything else Pillow could parse
# (PSD, EPS via Ghostscript, TGA, ICO, FITS, ...) is refused: fewer decoders, fewer ways to be hurt.
# JPEG also covers MPO (multi-picture JPEGs some cameras write): Pillow's JPEG factory returns them.
_BASE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
ALLOWED_FORMATS: tuple[str, ...] = _BASE_FORMATS + (("AVIF",) if features.check("avif") else ())
_FORMAT_LABELS = {"WEBP": "WebP"}
# The one list of what may be uploaded: file pickers (``type=``) and messages are both made from it, so the
# uploader never refuses a format the message offers (AVIF appears only where this Pillow can decode it).
_FORMAT_EXTENSIONS = {"PNG": ("png",), "JPEG": ("jpg", "jpeg", "jfif"), "GIF": ("gif",), "WEBP": ("webp",),
                      "BMP": ("bmp",), "TIFF": ("tif", "tiff"), "AVIF": ("avif",)}
UPLOAD_EXTENSIONS: tuple[str, ...] = tuple(e for f in ALLOWED_FORMATS for e in _FORMAT_EXTENSIONS[f])
ALLOWED_TEXT = ", ".join(_FORMAT_LABELS.get(f, f) for f in ALLOWED_FORMATS)
_ALLOWED_TEXT = ALLOWED_TEXT

# Never let a decoder silently hand back a partly decoded picture. We never *set* this flag (it is a
# process-wide global); load_image refuses to run if someone else turned it on.
_TRUNCATED_FLAG_HINT = "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; core.images requires it off"

# Magic numbers of things people commonly upload by mistake, only to give a better message.
_KNOWN_NON_IMAGES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF", 0, "a PDF document"),
    (b"8BPS", 0, "a Photoshop (PSD) file"),
    (b"%!PS", 0, "a PostScript / EPS file"),
    (b"\xc5\xd0\xd3\xc6", 0, "an EPS file"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"ftypheic", 4, "a HEIC photo (convert it to JPEG first)"),
    (b"ftypheix", 4, "a HEIC photo (convert it to JPEG first)"),
    (b"ftypmif1", 4, "a HEIF photo (convert it to JPEG first)"),
    (b"\x89HDF", 0, "an HDF5 file"),
    (b"\x00\x00\x01\x00", 0, "an icon (ICO) file"),
)


class ImageError(PlaygroundError):
    """The input is not an image we can use. ``str(err)`` is meant for the student.

    ``reason`` is a short machine-readable code: ``"empty"``, ``"unsupported"``, ``"too_large"``,
    ``"corrupt"``, ``"unreadable"`` (path problems) or ``"mode"`` (a pixel format we cannot convert).
    """

    def __init__(self, message: str, *, reason: str = "corrupt") -> None:
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def load_image(
    source: ImageSource,
    *,
    name: str | None = None,
    max_megapixels: float = 40,
) -> Image.Image:
    """Decode ``source`` into a detached, fully loaded, upright RGB image.

    ``source`` may be raw ``bytes``, a path (``str`` / ``os.PathLike``) or a binary file object
    (``.read()``; e.g. Streamlit's ``UploadedFile``). Seekable file objects are read **from the start**
    (``seek(0)``): a Streamlit rerun hands back the same object, often already read to the end.
    ``name`` is only used in error messages (escaped with :func:`safe_display_name`, never as a path);
    it defaults to the path's or file object's own name.

    Returns ``PIL.Image.Image`` in mode ``"RGB"`` with no metadata left in ``.info``. Conversions:

    * transparency (RGBA, LA, PA, P or L/RGB with a ``transparency`` key) is **composited on white**,
      so transparent regions look like they do on a web page, not black;
    * CMYK -> RGB with Pillow's formula (no ICC colour management);
    * 1 / L -> grey RGB; 16-bit (I;16*, I) -> 8 bit by the bit depth (65535 -> 255), not clipped;
      F (float) -> 0..1 taken as is, any other range stretched min..max;
    * animated GIF / WebP / multi-page TIFF -> the first frame;
    * EXIF orientation 2–8 applied (``ImageOps.exif_transpose``).

    Raises :class:`ImageError` for anything wrong with the bytes: empty, not an allowed format,
    larger than ``max_megapixels`` (checked from the header before decoding; Pillow's own
    ``Image.MAX_IMAGE_PIXELS`` ≈ 89 MP bomb limit applies too), truncated or corrupt.
    """
    if isinstance(max_megapixels, bool) or not (
        isinstance(max_megapixels, numbers.Real) and max_megapixels > 0
    ):
        raise InputError(f"max_megapixels must be a positive number, got {max_megapixels!r}")
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone flipped the process-wide switch: refuse loudly
        raise RuntimeError(_TRUNCATED_FLAG_HINT)

    fp, display, close = _open_source(source, name)
    prefix = f"{display}: " if display else ""
    try:
        return _decode(fp, prefix, max_megapixels)
    finally:
        if close:
            fp.close()


def safe_display_name(name: object, *, max_chars: int = 80) -> str:
    """Make a user-supplied file name safe to *show* (HTML/markdown), never to use as a path.

    Drops directory parts (``../../x.png`` -> ``x.png``, also Windows ``\\``), control and format
    characters (NUL, newlines, right-to-left overrides), collapses whitespace, shortens to about
    ``max_chars`` characters keeping the extension, then HTML-escapes (``<img src=x onerror=...>``
    becomes inert text). Returns ``"(unnamed)"`` when nothing printable is left.
    Gotcha: the result is escaped, so show it with markdown/HTML (``st.markdown``, ``st.error``),
    not ``st.text`` (which would print ``&lt;`` literally).
    """
    if name is None:
        return "(unnamed)"
    if isinstance(name, (bytes, bytearray)):
        name = bytes(name).decode("utf-8", errors="replace")
    text = unicodedata.normalize("NFC", str(name))
    # Control (Cc), format (Cf: bidi overrides, zero-width), unassigned/surrogates/private use.
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"})
    parts = [p for p in re.split(r"[/\\]", text) if p.strip() not in {"", ".", ".."}]
    text = re.sub(r"\s+", " ", parts[-1]).strip() if parts else ""
    if not text:
        return "(unnamed)"
    if len(text) > max_chars:
        stem, dot, ext = text.rpartition(".")
        ext = f".{ext}" if dot and stem and 0 < len(ext) <= 10 else ""
        text = text[: max_chars - 1 - len(ext)].rstrip() + "…" + ext
    return html.escape(text, quote=True)


def image_to_png_bytes(img: Image.Image) -> bytes:
    """Encode ``img`` as PNG bytes (for ``st.download_button`` and the CLI), without metadata.

    Only the pixels are written: no EXIF, text chunks or ICC profile carried over from an upload.
    """
    if not isinstance(img, Image.Image):
        raise InputError(f"expected a PIL image, got {type(img).__name__}")
    clean = img if img.mode in {"1", "L", "LA", "I;16", "P", "RGB", "RGBA"} else img.convert("RGBA")
    clean = clean.copy()
    keep = {k: v for k, v in clean.info.items() if k == "transparency"}
    clean.info = keep
    buf = io.BytesIO()
    clean.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Reading the source
# --------------------------------------------------------------------------------------------------


def _open_source(source: ImageSource, name: str | None) -> tuple[BinaryIO, str, bool]:
    """Return (seekable binary file, escaped display name, whether we must close it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), _display(name), False

    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        display = _display(name if name is not None else PurePath(path).name)
        prefix = f"{display}: " if display else ""
        try:
            fp = open(path, "rb")  # noqa: SIM115 - closed by load_image
        except FileNotFoundError:
            raise ImageError(f"{prefix}file not found", reason="unreadable") from None
        except IsADirectoryError:
            raise ImageError(f"{prefix}is a folder, not an image file", reason="unreadable") from None
        except PermissionError:
            raise ImageError(f"{prefix}permission denied", reason="unreadable") from None
        except (OSError, ValueError) as err:  # ValueError: embedded NUL in the path
            raise ImageError(f"{prefix}cannot open the file", reason="unreadable") from err
        return fp, display, True

    if hasattr(source, "read"):
        own_name = getattr(source, "name", None)
        if name is None and isinstance(own_name, str):
            name = own_name
        display = _display(name)
        try:
            seekable = bool(getattr(source, "seekable", lambda: hasattr(source, "seek"))())
            if seekable:
                source.seek(0)
                return source, display, False  # type: ignore[return-value]
            # A pipe or a socket: Pillow needs to seek, so buffer it.
            return io.BytesIO(source.read()), display, False
        except (OSError, ValueError) as err:  # closed file, unsupported operation
            prefix = f"{display}: " if display else ""
            raise ImageError(f"{prefix}cannot read the file", reason="unreadable") from err

    raise InputError(
        f"load_image expects bytes, a path or a binary file object, got {type(source).__name__}"
    )


def _display(name: object) -> str:
    return "" if name is None or name == "" else safe_display_name(name)


# --------------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------------


def _decode(fp: BinaryIO, prefix: str, max_megapixels: float) -> Image.Image:
    head = fp.read(16)
    fp.seek(0)
    if not head:
        raise ImageError(f"{prefix}empty file", reason="empty")

    unsupported = _unsupported_message(prefix, head)
    # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; make the warning an error so a
    # 100-megapixel bomb cannot slip through as a log line when a caller raises max_megapixels.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(fp, formats=list(ALLOWED_FORMATS))
        except Image.UnidentifiedImageError:
            raise ImageError(unsupported, reason="unsupported") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise ImageError(_too_large_from_pillow(prefix, err, max_megapixels),
                             reason="too_large") from None
        except Exception as err:  # noqa: BLE001 - plugins raise anything on crafted headers
            raise ImageError(f"{prefix}file is truncated or corrupted", reason="corrupt") from err

    with im:  # closes the file only if Pillow opened it; a caller's file object stays open
        _check_size(im.size, prefix, max_megapixels)
        try:
            im.load()  # first frame only: we never seek further
        except Exception as err:  # noqa: BLE001 - OSError, SyntaxError, struct.error, zlib.error, ...
            raise ImageError(f"{prefix}file is truncated or corrupted", reason="corrupt") from err
        _check_size(im.size, prefix, max_megapixels)  # GIF frames may grow the canvas on load

        upright = _exif_upright(im)
        try:
            rgb = _to_rgb(upright)
        except Exception as err:  # noqa: BLE001 - the pixels are there, but in a mode we cannot map
            raise ImageError(f"{prefix}unsupported colour mode {upright.mode}", reason="mode") from err

    rgb.info = {}  # detach: no EXIF / ICC / text chunks travel further
    return rgb


def _check_size(size: tuple[int, int], prefix: str, max_megapixels: float) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"{prefix}file is truncated or corrupted (size {w}×{h})", reason="corrupt")
    if w * h > max_megapixels * 1_000_000:
        raise ImageError(
            f"{prefix}image too large: {w}×{h} is {w * h / 1e6:.1f} megapixels "
            f"(max {max_megapixels:g})",
            reason="too_large",
        )


def _too_large_from_pillow(prefix: str, err: Exception, max_megapixels: float) -> str:
    # Pillow refused in Image.open, so we never saw .size; its message carries the pixel count.
    m = re.search(r"\((\d+) pixels\)", str(err))
    pillow_limit = Image.MAX_IMAGE_PIXELS / 1e6 if Image.MAX_IMAGE_PIXELS else max_megapixels
    limit = min(max_megapixels, pillow_limit)
    if m:
        return (f"{prefix}image too large: {int(m.group(1)) / 1e6:.1f} megapixels "
                f"(max {limit:g})")
    return f"{prefix}image too large (max {limit:g} megapixels)"


def _unsupported_message(prefix: str, head: bytes) -> str:
    what = next((label for magic, at, label in _KNOWN_NON_IMAGES
                 if head[at:at + len(magic)] == magic), None)
    looks = f"this looks like {what}; " if what else ""
    return f"{prefix}not a supported image ({looks}allowed: {_ALLOWED_TEXT})"


def _exif_upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a malformed EXIF block must not cost the user their picture.

    Returns ``im`` itself when there is nothing to do (``_to_rgb`` makes the one copy we need), so a
    40-megapixel upload is held at most twice in memory, not three times.
    """
    try:
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
        if orientation in range(2, 9):
            return ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - broken EXIF: pixels are fine, show them unrotated
        pass
    return im


# Modes that carry an alpha channel; composited on white.
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB (see load_image's docstring for the rules)."""
    mode = im.mode
    if mode.startswith("I") or mode == "F":  # before the alpha rule: convert("RGBA") would clip them
        return Image.fromarray(_scale_to_uint8(im)).convert("RGB")
    if mode == "RGB" and "transparency" not in im.info:
        return im.copy()
    palette_alpha = mode == "P" and im.palette is not None and "A" in im.palette.mode
    if mode in _ALPHA_MODES or palette_alpha or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    # 1, L, P, CMYK, YCbCr, HSV, ...: Pillow's own mapping (raises ValueError for modes it cannot map)
    return im.convert("RGB")


def _scale_to_uint8(im: Image.Image) -> np.ndarray:
    """Integer/float grey images -> uint8 [H, W], scaled by the bit depth rather than clipped."""
    arr = np.asarray(im)
    if im.mode == "F":
        data = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(data.min()), float(data.max())
        if lo < 0.0 or hi > 1.0:  # arbitrary range (depth maps, scientific data): stretch it
            data = (data - lo) / (hi - lo) if hi > lo else np.zeros_like(data)
        return np.rint(np.clip(data, 0.0, 1.0) * 255.0).astype(np.uint8)
    bits = _bit_depth(im, arr)
    data = np.clip(arr.astype(np.float64), 0, None)
    return np.rint(np.clip(data * (255.0 / (2**bits - 1)), 0, 255)).astype(np.uint8)


def _bit_depth(im: Image.Image, arr: np.ndarray) -> int:
    """The nominal bit depth of an integer image: from the file when it says, else from the data."""
    tags = getattr(im, "tag_v2", None)  # TIFF: BitsPerSample (e.g. 12-bit camera data in 16-bit words)
    if tags is not None:
        bps = tags.get(258)
        if isinstance(bps, tuple):
            bps = bps[0] if bps else None
        # Trust it up to 16 bits; a 32-bit integer TIFF rarely uses its range, so infer below.
        if isinstance(bps, int) and 1 <= bps <= 16:
            return bps
    if im.mode.startswith("I;16") or im.format == "PNG":  # PNG has no 32-bit greys: "I" means 16-bit
        return 16
    top = int(arr.max()) if arr.size else 0
    return 8 if top < 256 else 16 if top < 65536 else 32

