"""The garbage collector through a Lambda cold start.

Importing the app and serving its first event allocate the process's long-lived objects (modules, classes,
botocore's service model, the request models' validators) and almost no garbage, yet the cyclic collector
walks them again and again while they are made: ~40 ms of CPU on a cold POST /complaints
(bench/cold_start_packaged.py, docs/cold-start.md). So in a Lambda execution environment app.py pauses
the collector first thing, and the first event, whatever its type, ends by moving everything that exists
then into the permanent generation (`gc.freeze()`, never scanned again: it lives as long as the process)
and starting the collector again with its usual thresholds. Later events are collected as always.

Outside Lambda (tests, the local stack, the CLI) nothing changes: those processes import the app without
necessarily sending it an event, and must not run without a collector.
"""
from __future__ import annotations

import gc
import os

_held = False


def hold_collector() -> None:
    """Pause the collector until the first event is served, in Lambda only."""
    global _held
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        gc.disable()
        _held = True


def release_collector() -> None:
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def release_after_first_event(event, get_response):
    """Chalice middleware for every event type: whatever the first event does, even raise, the collector
    runs again afterwards."""
    try:
        return get_response(event)
    finally:
        release_collector()
