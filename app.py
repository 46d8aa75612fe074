"""Qalqan's Chalice app: builds `app`, registers the blueprints, the middleware and the QR resolver."""
from aws_lambda_powertools import Logger
from chalice import Chalice

from chalicelib.api.admin import admin_api
from chalicelib.api.deps import container
from chalicelib.api.http import http_middleware
from chalicelib.api.public import public_api
from chalicelib.api.resolver import resolve
from chalicelib.settings import get_settings

settings = get_settings()
logger = Logger(service="qalqan", level=settings.log_level)
app = Chalice(app_name="qalqan")
app.api.binary_types.append("application/pdf")
app.register_middleware(http_middleware(logger), "http")
app.register_blueprint(public_api)
app.register_blueprint(admin_api, url_prefix="/admin")


@app.lambda_function(name="qr_resolver")
def qr_resolver(event, context):
    """Function URL handler for QR_BASE_URL/<code>."""
    # The container is built inside the lookup, so even a wiring failure ends in the form, not a 5xx.
    return resolve(event, find_outlet=lambda code: container().outlets.get(code), settings=settings, logger=logger)
