"""The collector is paused through a Lambda cold start and back after the first event (chalicelib/coldstart.py)."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import coldstart

REPO = Path(__file__).resolve().parents[2]

PROBE = r'''
import gc, json, sys
from chalice.test import Client
import app
after_import = gc.isenabled()
with Client(app.app) as client:
    status = client.http.get("/health").status_code
print(json.dumps({"after_import": after_import, "after_event": gc.isenabled(), "status": status,
                  "frozen": gc.get_freeze_count()}))
'''


def _run(lambda_name: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QALQAN_"))}
    env.update({"QALQAN_SECRET": "test-secret-test-secret-test-secret-0001", "AWS_REGION": "eu-central-1",
                "AWS_DEFAULT_REGION": "eu-central-1", "TABLE_PREFIX": "qalqan-coldstart-test",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    if lambda_name:
        env["AWS_LAMBDA_FUNCTION_NAME"] = lambda_name
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_in_lambda_the_collector_waits_for_the_first_event():
    seen = _run("qalqan-dev-APIHandler")
    assert seen["status"] == 200
    assert seen["after_import"] is False
    assert seen["after_event"] is True
    assert seen["frozen"] > 10_000  # the cold start's objects, out of the collector's way from now on


def test_outside_lambda_nothing_changes():
    seen = _run(None)
    assert seen == {"after_import": True, "after_event": True, "status": 200, "frozen": 0}


def test_an_event_that_raises_still_releases_the_collector(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "qalqan-dev-reactions")
    monkeypatch.setattr(coldstart, "_held", False)
    try:
        coldstart.hold_collector()
        assert not gc.isenabled()

        def failing(event):
            raise RuntimeError("the batch failed")

        with pytest.raises(RuntimeError):
            coldstart.release_after_first_event({}, failing)
        assert gc.isenabled()
        # only the first event releases: later ones leave the collector alone
        gc.disable()
        assert coldstart.release_after_first_event({}, lambda event: "ok") == "ok"
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
