"""The domain core imports nothing from infrastructure; lower layers never import the API."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
INFRA = {"boto3", "botocore", "pynamodb", "chalice", "aws_lambda_powertools", "pydantic", "PIL", "qrcode"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_no_infrastructure():
    for path in (ROOT / "domain").glob("*.py"):
        bad = {name for name in _imports(path) if name.split(".")[0] in INFRA}
        assert not bad, f"{path.name} imports {bad}"


def test_domain_and_services_never_import_the_api_or_adapters():
    for layer in ("domain", "services"):
        for path in (ROOT / layer).glob("*.py"):
            bad = {n for n in _imports(path) if n.startswith(("chalicelib.api", "chalicelib.adapters"))}
            assert not bad, f"{layer}/{path.name} imports {bad}"
