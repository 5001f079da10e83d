"""Who is acting, for the audit log: set once where a request is authenticated (a workspace
page, an API token, the command line), read wherever an audit event is written.

A context variable, so it follows the request into the worker thread that runs its domain
operation (Starlette copies the context there) and never leaks to another request.
"""

from __future__ import annotations

from contextvars import ContextVar

ACTOR: ContextVar[str] = ContextVar("actor", default="")


def act_as(actor: str) -> None:
    """Names who acts from here to the end of the current request or command."""
    ACTOR.set(actor[:254])


def current_actor() -> str:
    """A member's e-mail address, ``api:<token name>``, ``cli``, or "" for the platform."""
    return ACTOR.get()
