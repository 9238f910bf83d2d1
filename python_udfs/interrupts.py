"""Stopping a `dbt build` cleanly on SIGINT (Ctrl-C) or SIGTERM.

Left to dbt, a signal during embedding is swallowed for as long as the model runs: Python delivers
signals to the main thread only, where dbt raises KeyboardInterrupt and asks dbt-duckdb to cancel
the running queries; but dbt-duckdb interrupts the node's own cursor, while the Python model runs
on a child cursor of it (`run_python_job`), so nothing stops. Nor could DuckDB stop sooner: it
checks for an interrupt between the record batches it pulls from the model's stream, and each is
1,024 texts (more than a minute of embedding on a small machine). dbt waits for the whole model,
then exits with a stack trace. SIGTERM is not handled at all: the process dies where it stands.

Here the plugin watches dbt's events (`watch_dbt_events`); on the first one fired in the main
thread it installs handlers for SIGINT and SIGTERM (`install_signal_handlers`). A signal then
sets the stop flag, which the embedding stream checks before every forward pass, and raises
`BuildInterrupted` in the main thread: a KeyboardInterrupt, so dbt cancels its queue as for
Ctrl-C, and a dbt exception, so dbt ends with its one-line message instead of a stack trace. A
second signal stops the process at once. When dbt cancels for another reason (its own
KeyboardInterrupt, before the handlers are installed), its cancel event sets the flag too.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from dbt_common.exceptions import DbtRuntimeError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# dbt's event when it cancels a connection after a KeyboardInterrupt (dbt.events.types.LogCancelLine).
CANCEL_EVENT = "LogCancelLine"
# dbt's last event of a command: the handlers are handed back (an application running dbt in-process).
COMMAND_DONE_EVENT = "CommandCompleted"

_stop = threading.Event()
_reason: list[str] = []
_previous_handlers: dict[int, Any] = {}
_watched: set[int] = set()
_install_tried: list[bool] = []  # non-empty once the main thread tried to install (per invocation)


class BuildInterrupted(DbtRuntimeError, KeyboardInterrupt):
    """Raised in dbt's main thread by SIGINT/SIGTERM: dbt cancels the run as for Ctrl-C
    (KeyboardInterrupt) and reports it as one line, like any dbt error (DbtRuntimeError)."""

    def __str__(self, prefix: str = "") -> str:
        return str(self.msg)


def request_stop(reason: str) -> None:
    """Ask the running embedding to stop before its next forward pass (`reason`: e.g. SIGINT)."""
    if not _stop.is_set():
        _reason.append(reason)
        _stop.set()


def stop_requested() -> bool:
    """True once a stop was asked for in this process (until `clear_stop`)."""
    return _stop.is_set()


def stop_reason() -> str | None:
    """What asked for the stop (a signal name, or dbt's cancel), None when none did."""
    return _reason[0] if _reason else None


def clear_stop() -> None:
    """Forget a stop request (a new dbt invocation in the same process)."""
    _stop.clear()
    _reason.clear()


def interrupted_message(reason: str) -> str:
    """The one line dbt ends with after a stop."""
    return (
        f"docvec: build interrupted by {reason}: stopped cleanly; every committed table is kept (with the vectors "
        "embedded before the stop); run `dbt build` again to finish"
    )


def _note(message: str) -> None:
    """One line in dbt's console and log."""
    from dbt_common.events.functions import fire_event
    from dbt_common.events.types import Note

    fire_event(Note(msg=message))


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGINT/SIGTERM: the first asks for a stop and unwinds dbt's main thread; a second kills now."""
    name = signal.Signals(signum).name
    if stop_requested():
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    request_stop(name)
    _note(
        f"docvec: {name} received: stopping the build (embedding stops after its current batch); "
        f"send {name} again to stop at once"
    )
    raise BuildInterrupted(interrupted_message(name))


def install_signal_handlers(handler: Callable[[int, FrameType | None], None] = _on_signal) -> bool:
    """In the main thread: SIGINT and SIGTERM call `handler`, where they still have Python's
    default (a signal someone ignores or handles otherwise is left alone). True if installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    installed = False
    for signum in STOP_SIGNALS:
        current = signal.getsignal(signum)
        if signum in _previous_handlers or current not in (signal.default_int_handler, signal.SIG_DFL):
            continue
        _previous_handlers[signum] = current
        signal.signal(signum, handler)
        installed = True
    return installed


def restore_signal_handlers() -> None:
    """Hand SIGINT and SIGTERM back to the handlers they had before `install_signal_handlers`."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, previous in list(_previous_handlers.items()):
        signal.signal(signum, previous)
        del _previous_handlers[signum]


def on_dbt_event(event: Any) -> None:
    """dbt event callback: installs the handlers from the main thread, hands them back at the
    end of the command, and turns dbt's own cancel into a stop request."""
    name = getattr(getattr(event, "info", None), "name", "")
    if name == CANCEL_EVENT:
        request_stop("a dbt cancel")
    elif name == COMMAND_DONE_EVENT:
        restore_signal_handlers()
    elif not _install_tried and threading.current_thread() is threading.main_thread():
        _install_tried.append(True)
        install_signal_handlers()


def watch_dbt_events() -> None:
    """Start of a dbt invocation: forget any old stop, and register `on_dbt_event` with dbt's event
    manager (once per manager)."""
    from dbt_common.events.event_manager_client import add_callback_to_manager, get_event_manager

    clear_stop()
    _install_tried.clear()
    manager = id(get_event_manager())
    if manager not in _watched:
        _watched.add(manager)
        add_callback_to_manager(on_dbt_event)
