"""Pure domain core: no boto3, pynamodb or chalice imports (tests/unit/test_layering.py enforces it)."""
