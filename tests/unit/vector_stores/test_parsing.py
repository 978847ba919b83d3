"""Text extraction from real files of every supported kind, built in the tests."""

from __future__ import annotations

import io
import zipfile

import docx
import orjson
import pytest
from pypdf import PdfReader, PdfWriter
from support.documents import pdf_bytes

from core.vector_stores.ingestion.parsing import (
    InvalidFileError,
    UnsupportedFileError,
    extract_text,
)


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Intro paragraph before the table.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Revenue"
    table.cell(1, 0).text = "Europe"
    table.cell(1, 1).text = "42 €"
    document.add_paragraph("Closing paragraph after the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_writer_bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# -- PDF -----------------------------------------------------------------------------


def test_pdf_pages_joined_by_blank_line() -> None:
    data = pdf_bytes(["Hello from page one (first)", "Second page text"])
    assert len(PdfReader(io.BytesIO(data)).pages) == 2  # the fixture itself is valid
    text = extract_text(data, "Report.PDF")
    assert text == "Hello from page one (first)\n\nSecond page text"


def test_pdf_with_empty_user_password_is_readable() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Open secret"]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    assert extract_text(_pdf_writer_bytes(writer), "doc.pdf") == "Open secret"


def test_encrypted_pdf_is_invalid() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Hidden"]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with pytest.raises(InvalidFileError, match="encrypted"):
        extract_text(_pdf_writer_bytes(writer), "locked.pdf")


def test_pdf_without_text_is_invalid() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with pytest.raises(InvalidFileError, match="no extractable text"):
        extract_text(_pdf_writer_bytes(writer), "scan.pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.4 truncated garbage", b"not a pdf at all", b""])
def test_corrupt_pdf_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidFileError):
        extract_text(data, "broken.pdf")


# -- DOCX ----------------------------------------------------------------------------


def test_docx_paragraphs_and_table_in_order() -> None:
    text = extract_text(_docx(), "report.docx")
    assert text == (
        "Quarterly report\n"
        "Intro paragraph before the table.\n"
        "Region\tRevenue\n"
        "Europe\t42 €\n"
        "Closing paragraph after the table."
    )


def test_docx_merged_cells_appear_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "Spanning header"
    for column, value in enumerate(["a1", "b2", "c3"]):
        table.cell(1, column).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    assert extract_text(buffer.getvalue(), "t.docx") == "Spanning header\na1\tb2\tc3"


def test_corrupt_docx_is_invalid() -> None:
    with pytest.raises(InvalidFileError):
        extract_text(b"PK\x03\x04 this is not really a zip", "broken.docx")
    # A real zip archive that is not a Word document.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InvalidFileError):
        extract_text(buffer.getvalue(), "notword.docx")


def test_empty_docx_is_invalid() -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with pytest.raises(InvalidFileError, match="no text"):
        extract_text(buffer.getvalue(), "empty.docx")


# -- HTML ----------------------------------------------------------------------------


def test_html_visible_text_only() -> None:
    markup = b"""<!DOCTYPE html>
<html><head><title>Page title</title>
<style>body { color: red; }</style>
<script>var secret = "do not index";</script></head>
<body>
  <h1>Main   heading</h1>
  <p>First paragraph with <b>bold</b> and
     an entity: caf&eacute; &amp; &#x263A;</p>
  <script type="text/javascript">if (a < b) { alert("x"); }</script>
  <ul><li>one</li><li>two</li></ul>
  <p>Line<br>break</p>
  <pre>  keep   spacing
    here</pre>
  <table><tr><td>cell a</td><td>cell b</td></tr></table>
</body></html>"""
    text = extract_text(markup, "page.HTML")
    assert "secret" not in text and "color" not in text and "alert" not in text
    assert "Page title" not in text
    lines = [line for line in text.split("\n") if line]
    assert lines == [
        "Main heading",
        "First paragraph with bold and an entity: café & ☺",
        "one",
        "two",
        "Line",
        "break",
        "  keep   spacing",
        "    here",
        "cell a\tcell b",
    ]


def test_html_without_closed_head() -> None:
    markup = "<html><head><title>T</title><body><p>Body text</p></body></html>"
    assert extract_text(markup.encode(), "x.htm") == "Body text"


def test_html_with_only_script_is_invalid() -> None:
    with pytest.raises(InvalidFileError):
        extract_text(b"<script>only code</script><style>p{}</style>", "x.html")


# -- JSON ----------------------------------------------------------------------------


def test_json_pretty_printed() -> None:
    data = b'{"name":"gw","tags":["a","b"],"nested":{"n":1}}'
    text = extract_text(data, "config.json")
    assert text.count("\n") >= 6  # one value per line, indented
    assert "\n  " in text
    assert orjson.loads(text) == orjson.loads(data)


def test_json_with_bom_and_non_ascii() -> None:
    data = '\ufeff{"greeting": "grüß dich"}'.encode()
    assert orjson.loads(extract_text(data, "x.json")) == {"greeting": "grüß dich"}


@pytest.mark.parametrize(
    "data", [b'{"unterminated": ', b"", '{"a": "Größe"}'.encode("latin-1"), b'{"a":\x00}']
)
def test_invalid_json_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidFileError, match="not valid JSON"):
        extract_text(data, "bad.json")


# -- text ----------------------------------------------------------------------------


def test_utf8_text_and_code() -> None:
    assert extract_text("naïve café ✓\r\nline two".encode(), "notes.md") == (
        "naïve café ✓\nline two"
    )
    assert extract_text(b"\xef\xbb\xbfdef f():\n    return 1\n", "m.py") == (
        "def f():\n    return 1\n"
    )


def test_latin1_text_falls_back() -> None:
    data = "Größe: 5 €uro-frei, café".replace("€", "E").encode("latin-1")
    assert extract_text(data, "legacy.TXT") == "Größe: 5 Euro-frei, café"


def test_nul_bytes_are_unsupported() -> None:
    with pytest.raises(UnsupportedFileError):
        extract_text(b"text\x00with nul", "data.txt")
    with pytest.raises(UnsupportedFileError):
        extract_text("utf-16 text".encode("utf-16"), "wide.txt")


def test_unknown_extension_utf8_is_text() -> None:
    assert extract_text(b"FROM python:3.11\nRUN true\n", "Dockerfile") == (
        "FROM python:3.11\nRUN true\n"
    )
    assert extract_text("ünïcödé".encode(), "notes.weird") == "ünïcödé"


def test_unknown_extension_binary_is_unsupported() -> None:
    with pytest.raises(UnsupportedFileError):
        extract_text(bytes(range(256)), "blob.bin")
    # Not UTF-8 and no NUL: latin-1 would accept it, but not for an unknown extension.
    with pytest.raises(UnsupportedFileError):
        extract_text("Größe".encode("latin-1"), "mystery.dat")


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "blank.csv", "nothing"])
@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n "])
def test_empty_text_is_invalid(name: str, data: bytes) -> None:
    with pytest.raises(InvalidFileError):
        extract_text(data, name)
