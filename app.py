"""Qalqan's Chalice app: builds `app`, registers the rooms by audience, the middleware, the QR resolver,
the scheduled deadline sweep and the reactions on the complaints table's stream. Nothing else lives here."""
from chalicelib.coldstart import hold_collector, release_after_first_event

hold_collector()  # before the imports below: a cold start's objects are made without the collector (coldstart.py)

from aws_lambda_powertools import Logger
from chalice import Chalice, Cron, Rate

from chalicelib.api.admin import admin_api
from chalicelib.api.agency import agency_api
from chalicelib.api.analytics import analytics_api
from chalicelib.api.business import business_api
from chalicelib.api.channels import channels_api
from chalicelib.api.http import http_middleware
from chalicelib.api.open311 import open311_api
from chalicelib.api.public import public_api
from chalicelib.api.push import push_api
from chalicelib.api.ratings import ratings_api
from chalicelib.api.resolver import resolve
from chalicelib.api.telegram import telegram_api
from chalicelib.api.transparency import transparency_api
from chalicelib.bootstrap import container
from chalicelib.settings import get_settings

settings = get_settings()
logger = Logger(service="qalqan", level=settings.log_level)
app = Chalice(app_name="qalqan")
app.api.binary_types.append("application/pdf")
app.register_middleware(http_middleware(logger), "http")
app.register_middleware(release_after_first_event, "all")
app.register_blueprint(public_api)
app.register_blueprint(admin_api, url_prefix="/admin")
app.register_blueprint(agency_api, url_prefix="/agency")
app.register_blueprint(business_api, url_prefix="/business")
app.register_blueprint(ratings_api)
app.register_blueprint(analytics_api)
app.register_blueprint(channels_api)
app.register_blueprint(transparency_api)
app.register_blueprint(open311_api)
app.register_blueprint(push_api)
app.register_blueprint(telegram_api)


@app.lambda_function(name="qr_resolver")
def qr_resolver(event, context):
    """Function URL handler for QR_BASE_URL/<code>."""
    # The container is built inside the lookup, so even a wiring failure ends in the form, not a 5xx.
    return resolve(event, find_outlet=lambda code: container().outlets.get(code), settings=settings, logger=logger)


@app.schedule(Rate(1, unit=Rate.HOURS), name="deadline_sweep")
def deadline_sweep(event):
    """Flag overdue business answers and agency decisions (the same sweep as POST /admin/jobs/deadlines)."""
    from chalicelib.services.cases import sweep_deadlines

    c = container()
    report = sweep_deadlines(c.clock.now(), complaints=c.complaints, clock=c.clock)
    logger.info("deadline sweep", extra={"checked": report.checked, "business_overdue": report.business_overdue,
                                         "agency_overdue": report.agency_overdue})
    return {"checked": report.checked, "business_overdue": report.business_overdue,
            "agency_overdue": report.agency_overdue}


# 01:30 in Kazakhstan (UTC+5): yesterday is over there, and the night is quiet.
@app.schedule(Cron(30, 20, "*", "*", "?", "*"), name="open_data_export")
def open_data_export(event):
    """The daily open-data export (docs/open-data.md): yesterday's files and the refresh window's."""
    from chalicelib.services.open_data import run_nightly

    done = run_nightly(c=container())
    logger.info("open data export", extra={"days": len(done), "rows": sum(d.rows for d in done),
                                           "with_text": sum(d.with_text for d in done)})
    return {"days": len(done), "rows": sum(d.rows for d in done)}


@app.on_dynamodb_record(stream_arn=settings.complaints_stream_arn, batch_size=100, starting_position="TRIM_HORIZON",
                        name="reactions")
def reactions(event):
    """Agency, business and consumer notifications, ratings and analytics counters, exactly once per event.

    A record that keeps failing is parked in SQS and the batch goes on; the handler raises (and Lambda
    retries the batch) only if a record can be neither processed nor parked. See chalicelib/streams/processor.py.
    """
    from chalicelib.streams.processor import process_records

    from chalicelib.streams.processor import RESERVE_SECONDS

    context = getattr(event, "context", None)
    time_left = None
    # The time budget needs a real timeout (120 s as deployed); a harness's short default context
    # (chalice.test gives 3 s) is not a deadline to plan a batch around.
    if context is not None and context.get_remaining_time_in_millis() > 2000 * RESERVE_SECONDS:
        time_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    report = process_records(event.to_dict().get("Records", []), container(), logger=logger, time_left=time_left)
    logger.info("stream batch", extra={"records": report.records, "reactions": report.reactions,
                                       "skipped": report.skipped, "parked": report.parked})
    return {"records": report.records, "reactions": report.reactions, "skipped": report.skipped,
            "parked": report.parked}
