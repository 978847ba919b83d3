"""Turning uploaded files into searchable chunks: text extraction, token chunking,
lexical sparse vectors and an embeddings client.

Import the submodules directly; this package re-exports nothing so that importing one
step (say, chunking) does not pull in the PDF and DOCX parsers.
"""

__all__: list[str] = []
