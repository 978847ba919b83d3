"""Compaction: a long context's older part replaced by a summary the gateway seals.

`POST /v1/responses/compact` (compact_api) and `context_management` on create
(automatic) both summarise through the backend (summarise) and hand the client one
`compaction` item whose `encrypted_content` only this gateway, for this tenant, can open
(seal). Wherever such an item comes back (input, a chain, a conversation) the backend
sees the summary and what was kept in its place, and nothing before it (window).
"""

__all__: list[str] = []
