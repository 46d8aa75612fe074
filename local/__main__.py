"""The embedded local stack: `python -m local [--port 8000]`.

One process, one port on 127.0.0.1: moto's server (in-memory DynamoDB, SNS, SQS, SES) on a private port,
the contact vault's own DynamoDB on a second private port (in a child process: see start_vault), the Chalice app with every route, the QR resolver at /q/<code> fed function-URL events, and web/ as static
files. A stream pump reads the complaints table's stream and calls the `reactions` handler Lambda would call;
every message it sends is listed at /_local/outbox. Data lives in memory and is gone when the process stops.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SECRET = "local-development-secret-never-used-in-aws-0001"
LOCAL_BOT_TOKEN = "100000001:local-fake-token-never-valid-at-telegram"
LOCAL_BOT_USERNAME = "qalqan_local_bot"


def configure_environment(port: int, moto_endpoint: str, vault_endpoint: str) -> None:
    """Everything the app reads at import time, pointed at the embedded services."""
    os.environ.update({
        "AWS_ENDPOINT_URL": moto_endpoint,
        # The vault's table is created and read on its own endpoint (tables._vault_meta gives pynamodb `host`),
        # as a store in Kazakhstan would be; everything else stays on the AWS-side endpoint.
        "CONTACT_VAULT_ENDPOINT": vault_endpoint,
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "QALQAN_STAGE": "local", "TABLE_PREFIX": "qalqan-local",
        "WEB_BASE_URL": f"http://127.0.0.1:{port}/", "QR_BASE_URL": f"http://127.0.0.1:{port}/q",
        "QALQAN_SECRET": os.environ.get("QALQAN_SECRET", LOCAL_SECRET),
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Qalqan",
    })
    # The Telegram bot against the fake Bot API (local/telegram.py): a token Telegram would refuse, a secret
    # token new on every run (it is in the demo file), a bot name for the outlets' deep links.
    os.environ.update({"TELEGRAM_BOT_TOKEN": LOCAL_BOT_TOKEN, "TELEGRAM_BOT_USERNAME": LOCAL_BOT_USERNAME,
                       "TELEGRAM_SECRET_TOKEN": secrets.token_urlsafe(24)})
    os.environ.pop("TELEGRAM_BOT_TOKEN_PARAMETER", None)
    os.environ.pop("TELEGRAM_SECRET_TOKEN_PARAMETER", None)
    # Web Push against the fake push service (local/push.py): a VAPID key new on every run (push
    # subscriptions live in memory like everything else), and this server's fake endpoints allowed.
    vapid_private, vapid_public = local_vapid_keys()
    os.environ.update({"VAPID_PRIVATE_KEY": vapid_private, "VAPID_PUBLIC_KEY": vapid_public,
                       "VAPID_SUBJECT": "mailto:push@qalqan.local",
                       "PUSH_ENDPOINT_PREFIXES": f"http://127.0.0.1:{port}/_local/push/"})
    os.environ.pop("VAPID_PRIVATE_KEY_PARAMETER", None)
    # Writes and reads share one process and moto has no index lag: a short settle keeps queues snappy.
    os.environ.setdefault("QUEUE_SETTLE_SECONDS", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def local_vapid_keys() -> tuple[str, str]:
    """A fresh VAPID pair as VAPID_PRIVATE_KEY (base64url raw scalar) and VAPID_PUBLIC_KEY (base64url point) take it."""
    from tools.admin import new_vapid_keys

    return new_vapid_keys()


TOPIC_NAME = "qalqan-local-notifications"
PARKED_QUEUE_NAME = "qalqan-local-parked"
EMAIL_SENDER = "Qalqan <no-reply@qalqan.local>"
STREAM_POLL_SECONDS = 0.25  # a reaction shows up within about a second of the write


def create_messaging() -> dict:
    """The SNS topic, the SQS parking queue and a verified SES sender, in moto, and the settings that name
    them (set before the app is imported: settings are read once). Returns those settings."""
    import boto3
    from email.utils import parseaddr

    topic = boto3.client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
    queue = boto3.client("sqs").create_queue(QueueName=PARKED_QUEUE_NAME)["QueueUrl"]
    # SES refuses a sender that is not a verified identity, in moto as in AWS.
    boto3.client("ses").verify_email_identity(EmailAddress=parseaddr(EMAIL_SENDER)[1])
    names = {"NOTIFICATIONS_TOPIC_ARN": topic, "PARKED_QUEUE_URL": queue, "EMAIL_SENDER": EMAIL_SENDER}
    os.environ.update(names)
    return names


OPEN_DATA_BUCKET = "qalqan-local-open-data"
OPEN_DATA_EVERY_SECONDS = 600.0  # the nightly export, every ten minutes here, so GET /open-data/ has files to list


def create_open_data_bucket() -> None:
    """The open data's bucket in moto, named before the app is imported (settings are read once)."""
    import boto3

    boto3.client("s3").create_bucket(Bucket=OPEN_DATA_BUCKET,
                                     CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
    os.environ["OPEN_DATA_BUCKET"] = OPEN_DATA_BUCKET


def export_open_data_every(seconds: float, stop: threading.Event, *, first_after: float = 20.0) -> None:
    """What the scheduled `open_data_export` function does in AWS once a night (`chalice local` runs no
    schedules). The first run waits for the pump to react to the seeded complaints."""
    from chalicelib.bootstrap import container
    from chalicelib.services.open_data import run_nightly

    wait = first_after
    while not stop.wait(wait):
        wait = seconds
        try:
            run_nightly(c=container())
        except Exception as exc:  # retried next time; the server keeps serving
            print(f"open data export failed: {exc.__class__.__name__}", file=sys.stderr, flush=True)


def start_pump(c, stop: threading.Event):
    """The stream pump on the complaints table, calling the handler Chalice registered as `reactions`."""
    from app import app
    from local.streams import StreamPump, StreamReader

    pump = StreamPump(StreamReader(c.settings.table_name("complaints")), app.handler_map["reactions"],
                      interval=STREAM_POLL_SECONDS)
    thread = threading.Thread(target=pump.run, args=(stop,), name="stream-pump", daemon=True)
    thread.start()
    return pump, thread


# The vault's moto runs in a child process, not as a second ThreadedMotoServer here: moto keeps its state in
# module-level backends, so two servers in one process answer from the same tables and would prove nothing
# about the separation. The child exits when its stdin closes, so it never outlives this process (even a
# SIGKILLed one): the operating system closes the pipe.
VAULT_SERVER = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("http://%s:%d" % server.get_host_and_port(), flush=True)
sys.stdin.read()
server.stop()
"""


def start_vault():
    """Start the vault's store: a moto of its own, as the Kazakhstan-hosted store would be in production."""
    import subprocess

    return subprocess.Popen([sys.executable, "-c", VAULT_SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def vault_endpoint(process) -> str:
    line = process.stdout.readline().strip()
    if not line.startswith("http://"):
        raise RuntimeError(f"the contact vault's store did not start (exit code {process.poll()})")
    return line


def stop_vault(process) -> None:
    import subprocess

    process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


def start_moto():
    from moto.server import ThreadedMotoServer

    from local.moto_patches import install

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
    install()  # transactions cost what they touch, not the whole table (local/moto_patches.py)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def sweep_every(seconds: float, stop: threading.Event) -> None:
    """What the scheduled Lambda does in AWS: the deadline sweep, here every minute."""
    from chalicelib.bootstrap import container
    from chalicelib.services.cases import sweep_deadlines

    while not stop.wait(seconds):
        c = container()
        try:
            sweep_deadlines(c.clock.now(), complaints=c.complaints, clock=c.clock)
        except Exception as exc:  # a failed sweep is retried next minute; the server keeps serving
            print(f"deadline sweep failed: {exc.__class__.__name__}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--demo-file", default=str(ROOT / ".local" / "demo.json"))
    # `make run` asks for a few thousand; the test stacks start without (their tests make their own data).
    parser.add_argument("--history", type=int, default=int(os.environ.get("QALQAN_DEMO_HISTORY", "0")),
                        metavar="N", help="seed N synthetic complaints over three months into the analytics")
    args = parser.parse_args(argv)
    started = time.monotonic()

    vault = start_vault()  # first: its interpreter starts while this one starts moto
    moto, endpoint = start_moto()
    try:
        vault_url = vault_endpoint(vault)
    except RuntimeError as exc:
        moto.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_environment(args.port, endpoint, vault_url)
    messaging = create_messaging()
    create_open_data_bucket()
    sys.path.insert(0, str(ROOT))
    from local.server import LocalApi, build_server  # imports app: only after the environment is set
    from chalicelib.adapters.tables import create_tables
    from chalicelib.bootstrap import container
    from local.outbox import install
    from local.seed import seed_demo
    from local.telegram import install as install_fake_bot

    local_api = LocalApi()
    try:
        server = build_server(args.port, local_api=local_api)
    except OSError as exc:
        moto.stop()
        stop_vault(vault)
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); set PORT to a free port", file=sys.stderr)
        return 2
    create_tables()
    demo = seed_demo(container())
    if args.history > 0:
        from local.moto_patches import put_items
        from local.seed import seed_history

        history = seed_history(container(), complaints=args.history,
                               put_items=put_items(container().settings.table_name("analytics")))
        print(f"demo history: {history['complaints']} complaints in the analytics ({history['items']} items, "
              f"{history['seconds']}s)", flush=True)
    base = f"http://127.0.0.1:{args.port}"
    # dynamodb_endpoint: so the admin CLI (create-key, revoke-key) can reach this stack's in-memory tables.
    # vault_endpoint: the contact vault's own store (CONTACT_VAULT_ENDPOINT), apart from dynamodb_endpoint.
    # parked_queue_url: with AWS_ENDPOINT_URL=dynamodb_endpoint, `tools.admin replay-parked` replays this stack's.
    demo = {"api": base, "web": f"{base}/", "qr_base": f"{base}/q", "outbox": f"{base}/_local/outbox",
            "dynamodb_endpoint": endpoint, "vault_endpoint": vault_url, "parked_queue_url": messaging["PARKED_QUEUE_URL"],
            "notifications_topic_arn": messaging["NOTIFICATIONS_TOPIC_ARN"],
            "telegram": {"secret_token": os.environ["TELEGRAM_SECRET_TOKEN"], "bot_username": LOCAL_BOT_USERNAME,
                         "webhook": f"{base}/channels/telegram/webhook"}, **demo}
    demo_file = Path(args.demo_file)
    demo_file.parent.mkdir(parents=True, exist_ok=True)
    demo_file.write_text(json.dumps(demo, ensure_ascii=False, indent=2), encoding="utf-8")

    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # What would be sent is sent to moto and listed in the outbox; the pump then reacts like Lambda.
    local_api.outbox = install(container()).outbox
    from local.push import FakePushService

    server.push_service = FakePushService(local_api.outbox)  # pushes arrive there, decrypted, into the outbox
    install_fake_bot(container(), local_api.outbox)  # what the bot sends goes to the outbox too
    local_api.pump, pump_thread = start_pump(container(), stop)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    first = demo["outlets"][0]["code"]
    print(f"ready in {time.monotonic() - started:.1f}s  form {base}/  api {base}/health  "
          f"sticker {base}/q/{first}  outbox {base}/_local/outbox  demo {demo_file}", flush=True)
    print(f"  example form link: {base}/?o={first}&ch=qr", flush=True)
    print(f"  analytics console: {base}/analytics.html (the analyst key in {demo_file})", flush=True)
    print(f"  consoles: agency {base}/agency.html  business {base}/business.html  "
          f"(demo keys for every agency and business in {demo_file})", flush=True)
    print(f"  dynamodb {endpoint}  contact vault {vault_url} (its own store: names, phones, emails only there)",
          flush=True)
    print(f"  admin key (demo only): {demo['keys']['admin']}", flush=True)
    print(f"  outbox: every notification the stream reactions sent (SNS, SMS and email go to moto; webhooks are "
          f"recorded, not delivered: no public https here), ?complaint_id= filters; pump {base}/_local/streams",
          flush=True)
    print(f"  telegram: @{LOCAL_BOT_USERNAME} webhook {base}/channels/telegram/webhook (secret token in {demo_file}); "
          f"the fake Bot API writes the bot's messages to the outbox (docs/telegram.md)", flush=True)
    sweeper = threading.Thread(target=sweep_every, args=(60.0, stop), name="deadline-sweep", daemon=True)
    sweeper.start()
    threading.Thread(target=export_open_data_every, args=(OPEN_DATA_EVERY_SECONDS, stop), name="open-data",
                     daemon=True).start()
    # Wake up twice a second: a SIGTERM delivered to another thread (the pump, the HTTP workers) sets only
    # a flag that the main thread notices when it runs, and an untimed wait would never run it.
    while not stop.wait(timeout=0.5):
        pass
    print("stopping", flush=True)
    pump_thread.join(timeout=5)  # let a batch in flight finish before moto goes away
    server.shutdown()
    server.server_close()
    moto.stop()
    stop_vault(vault)
    return 0


if __name__ == "__main__":
    sys.exit(main())
