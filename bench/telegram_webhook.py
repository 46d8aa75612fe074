"""How long the Telegram webhook takes to answer, per step, on the local stack.

    python -m bench.telegram_webhook [--conversations 20]

Starts `python -m local` on a free 127.0.0.1 port and drives whole conversations with the recorded updates in
tests/functional/events/telegram/ (/start <code>, the text, "without a number", "publish: yes", "Send"), reading
the buttons back from GET /_local/outbox as a client would. Prints the answer time per step (median, p95, max).
The figures describe this machine's embedded stack (moto, the fake Bot API, 2 shared cores), not AWS.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "functional" / "events" / "telegram"
STEPS = ("start", "text", "no number", "publish", "send")


def _update(name: str, update_id: int, chat: int, **changes) -> dict:
    data = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    body = data.get("message") or data.get("callback_query")
    data["update_id"] = update_id
    (body["message"]["chat"] if "callback_query" in data else body["chat"])["id"] = chat
    body["from"]["id"] = chat
    body.update(changes)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_webhook", description=__doc__)
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.e2e.conftest import start_stack

    stack, _ = start_stack(Path(tempfile.mkdtemp()))
    timings: dict[str, list[float]] = {step: [] for step in STEPS}
    headers = {"X-Telegram-Bot-Api-Secret-Token": stack.demo["telegram"]["secret_token"]}
    code = stack.demo["outlets"][0]["code"]

    def post(step: str, update: dict) -> None:
        started = time.perf_counter()
        status, _, _ = stack.request("POST", "/channels/telegram/webhook", update, headers)
        timings[step].append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"{step}: HTTP {status}")

    def last_button() -> str:
        items = stack.json("GET", "/_local/outbox")[1]["items"]
        return [item for item in items if item["channel"] == "telegram"][-1]["buttons"][0]["callback_data"]

    try:
        for n in range(max(1, args.conversations)):
            chat, base = 800_000_000 + n, 10_000 * (n + 1)
            post("start", _update("start_deep_link", base + 1, chat, text=f"/start {code}"))
            post("text", _update("text", base + 2, chat))
            post("no number", _update("text", base + 3, chat, text="/skip"))
            post("publish", _update("callback_send", base + 4, chat, data=last_button()))
            post("send", _update("callback_send", base + 5, chat, data=last_button()))
    finally:
        stack.process.terminate()
        stack.process.wait(timeout=20)
    print(f"{args.conversations} conversations, webhook answer time in ms (median / p95 / max):")
    for step, values in timings.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"  {step:<10} {statistics.median(values) * 1000:7.1f} {p95 * 1000:7.1f} {values[-1] * 1000:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
