"""The loop behind server-side tools (non-streaming): call, run the tool, call again.

The backend answers with a function call to a gateway tool; the gateway runs it, sends
the backend the same request extended with the call and its output, and repeats until
the model answers without one, a call waits for the client's approval, or
`max_tool_calls` is reached (the response is then `incomplete`). The client gets one
response whose output holds every turn in order, each internal function call shown as
the tool's own item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.tools.turns import ToolTurns

if TYPE_CHECKING:
    from core.responses.backend_client import BackendClient

__all__ = ["run_tool_loop"]


async def run_tool_loop(
    response: dict[str, Any],
    turns: ToolTurns,
    backend: BackendClient,
    authorization: str | None,
    leading: list[dict[str, Any]],
) -> dict[str, Any]:
    """The final response as the client sees it."""
    output: list[Any] = list(leading)
    while True:
        turns.add_usage(response.get("usage"))
        ran = False
        for item in response.get("output") or []:
            function = turns.function(item)
            if function is None:
                output.append(item)
                turns.keep(item)
            elif function.needs_approval():
                output.append(turns.approval_request(item, function))
            elif turns.admit():
                output.append(await turns.run(item, function))
                ran = True
        if not ran or turns.waiting or turns.limited:
            break
        model = response.get("model")
        model = model if isinstance(model, str) else None
        response = await backend.create(turns.follow_up(), authorization, model)
    for item in output:
        turns.cite(item)
    turns.finish(response, output)
    return response
