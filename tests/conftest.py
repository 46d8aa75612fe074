"""Test settings are set before anything imports the app: pynamodb reads table names at import."""
import os

os.environ.update({
    "QALQAN_STAGE": "test",
    "TABLE_PREFIX": "qalqan-test",
    "QALQAN_SECRET": "test-secret-test-secret-test-secret-0001",
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "WEB_BASE_URL": "http://127.0.0.1:8000/",
    "QR_BASE_URL": "http://127.0.0.1:8000/q",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOG_LEVEL": "INFO",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("QALQAN_SECRET_PARAMETER", None)
