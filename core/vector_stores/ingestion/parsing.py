"""Text extraction from uploaded files, chosen by the file name's extension.

Plain text, markdown, source code and configuration files are decoded as text; JSON is
re-indented; HTML is reduced to its visible text; PDF goes through pypdf and DOCX through
python-docx. Anything that yields no text is an `InvalidFileError`; content we cannot read
as text at all is an `UnsupportedFileError`.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any

import orjson

__all__ = ["InvalidFileError", "UnsupportedFileError", "extract_text"]


class UnsupportedFileError(Exception):
    """The file is of a kind we do not extract text from (e.g. binary content)."""


class InvalidFileError(Exception):
    """The file claims a supported kind but is corrupt, encrypted or has no text."""


_TEXT_EXTENSIONS = frozenset(
    {
        ".txt", ".md", ".markdown", ".rst", ".csv", ".tsv", ".log",
        ".py", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt",
        ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rb", ".php", ".sh", ".sql",
        ".yaml", ".yml", ".toml", ".ini", ".xml", ".css", ".scss", ".swift", ".scala",
        ".r", ".lua", ".pl", ".tex",
    }
)  # fmt: skip
_HTML_EXTENSIONS = frozenset({".html", ".htm"})

# Three or more line breaks (possibly with blanks between) collapse to one empty line.
_BLANK_LINES_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_SPACES_RE = re.compile(r"[ \t\f\v\r\n]+")
_CELL_GAP_RE = re.compile(r" *\t *")


def extract_text(data: bytes, filename: str) -> str:
    """The text of `data`, parsed according to `filename`'s extension (case-insensitive)."""
    ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if ext in _TEXT_EXTENSIONS:
        text = _decode_text(data, filename, allow_latin1=True)
    elif ext == ".json":
        text = _json_text(data, filename)
    elif ext in _HTML_EXTENSIONS:
        text = _html_text(_decode_text(data, filename, allow_latin1=True))
    elif ext == ".pdf":
        text = _pdf_text(data, filename)
    elif ext == ".docx":
        text = _docx_text(data, filename)
    else:
        # Unknown extensions get the strict check only: latin-1 accepts any byte string,
        # so falling back to it would let arbitrary binary files through as "text".
        text = _decode_text(data, filename, allow_latin1=False)
    if not text.strip():
        raise InvalidFileError(f"The file {filename!r} contains no text.")
    return text


def _decode_text(data: bytes, filename: str, *, allow_latin1: bool) -> str:
    # A NUL byte is the surest sign of binary content (or UTF-16, which we do not guess at).
    if b"\x00" in data:
        raise UnsupportedFileError(
            f"The file {filename!r} looks binary and is not a supported text format."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if not allow_latin1:
            raise UnsupportedFileError(
                f"The file {filename!r} is not UTF-8 text and is not a supported format."
            ) from None
        text = data.decode("latin-1")
    # One line-break convention keeps chunk boundaries and token counts platform-neutral.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _json_text(data: bytes, filename: str) -> str:
    # JSON is UTF-8 by definition (RFC 8259); anything else is a broken JSON file.
    try:
        value = orjson.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        raise InvalidFileError(f"The file {filename!r} is not valid JSON: {exc}") from None
    # Minified JSON is one enormous line; indenting gives chunks readable, local context.
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


# -- HTML ---------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})


class _HTMLText(HTMLParser):
    """Collects visible text; block elements become line breaks, cells tab-separated."""

    def __init__(self) -> None:
        # convert_charrefs unescapes entities (&amp;, &#233;, ...) in the text we receive.
        super().__init__(convert_charrefs=True)
        # (text, inside <pre>): preformatted text keeps its spacing, the rest is reflowed.
        self.parts: list[tuple[str, bool]] = []
        self._skip: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            # A <head> never closed explicitly ends where the body starts.
            self._skip = [t for t in self._skip if t not in ("head", "title")]
        if tag in _SKIPPED_TAGS:
            self._skip.append(tag)
        elif tag in _BLOCK_TAGS:
            self.parts.append(("\n", False))
            if tag == "pre":
                self._pre += 1
        elif tag in _CELL_TAGS:
            self.parts.append(("\t", False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Self-closing tags (<br/>, <hr/>) open nothing that a closing tag would end.
        if tag in _BLOCK_TAGS:
            self.parts.append(("\n", False))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            # Pop back to the matching open tag; stray closing tags are ignored.
            if tag in self._skip:
                while self._skip.pop() != tag:
                    pass
        elif tag in _BLOCK_TAGS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self.parts.append(("\n", False))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self.parts.append((data, True))
        else:
            # Outside <pre>, HTML whitespace (including source line breaks) is one space.
            self.parts.append((_SPACES_RE.sub(" ", data), False))


def _html_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    out: list[str] = []
    for pre, group in itertools.groupby(parser.parts, key=lambda part: part[1]):
        text = "".join(part[0] for part in group)
        if not pre:
            # Block tags made the line breaks; trim the edges of each reflowed line.
            lines = (_CELL_GAP_RE.sub("\t", line).strip(" \t") for line in text.split("\n"))
            text = "\n".join(lines)
        out.append(text)
    # Only line breaks are trimmed at the ends: a leading <pre> keeps its indentation.
    return _BLANK_LINES_RE.sub("\n\n", "".join(out)).strip("\n")


def _tidy_lines(lines: Iterable[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return _BLANK_LINES_RE.sub("\n\n", text).strip()


# -- PDF ----------------------------------------------------------------------------


def _pdf_text(data: bytes, filename: str) -> str:
    from pypdf import PdfReader  # imported lazily: only PDF uploads pay for it

    pages: list[str] = []
    # pypdf raises a wide, undocumented range of exceptions (PdfReadError, ValueError,
    # KeyError, struct errors, ...) on damaged files; all of them mean "unreadable".
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            # Many PDFs are "encrypted" with an empty user password only; those open fine.
            raise InvalidFileError(f"The PDF {filename!r} is encrypted and cannot be read.")
        for page in reader.pages:
            text = page.extract_text().replace("\x00", "").strip()
            if text:
                pages.append(text)
    except InvalidFileError:
        raise
    except Exception as exc:
        raise InvalidFileError(f"The PDF {filename!r} could not be read: {exc}") from None
    if not pages:
        raise InvalidFileError(
            f"The PDF {filename!r} has no extractable text (it may be scanned images; "
            "OCR is not supported)."
        )
    return "\n\n".join(pages)


# -- DOCX ---------------------------------------------------------------------------


def _docx_text(data: bytes, filename: str) -> str:
    import docx  # imported lazily: only DOCX uploads pay for it

    # Corrupt archives surface as BadZipFile, KeyError, lxml syntax errors or
    # PackageNotFoundError depending on where they break; all mean "unreadable".
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(document))
    except Exception as exc:
        raise InvalidFileError(f"The DOCX {filename!r} could not be read: {exc}") from None
    return _tidy_lines(blocks)


def _docx_blocks(container: Any) -> Iterable[str]:
    """Paragraph texts and table rows of a document body or table cell, in order."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            yield from _docx_table(block)
        else:
            yield str(block.text)


def _docx_table(table: Any) -> Iterable[str]:
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A horizontally merged cell is reported once per grid column it spans.
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append("\n".join(_docx_blocks(cell)).strip())
        yield "\t".join(cells)
