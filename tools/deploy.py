"""Deploys a stage step by step: `make deploy STAGE=prod` (the code and the infra stack) and `make deploy-web
STAGE=prod` (the site). Every step says what it does, and stops with a clear message if it cannot.

    python -m tools.deploy api --stage prod [--parameter StickerDomain=q.qalqan.kz ...] [--skip-package]
    python -m tools.deploy web --stage prod --parameter DomainName=qalqan.kz --parameter CertificateArn=arn:...

`api`:
1. Preflight: a region is set explicitly (personal data must stay where the administrator chose; nothing
   defaults), the credentials work (STS), the stage exists in .chalice/config.json.
2. `make package` (tools/package.py): dist/<stage>/sam.json and the lean deployment.zip and reactions.zip.
3. The secret: CloudFormation cannot create an SSM SecureString, so this step does, once, with 64 random bytes;
   an existing one is never read or changed (rotation: docs/deploying.md).
4. The artifacts bucket `qalqan-<stage>-artifacts-<account>-<region>` (private, encrypted, versioned): each zip
   under its SHA-256 and the template (too big for an inline template body).
5. A change set on the stack `qalqan-<stage>` (created or updated; a package with no changes is not an error),
   executed and waited for; then the outputs: the API's URL and QR_BASE_URL (checked against config.json's).
`web`:
1. The API stack's EndpointURL gives the site's `config.js` and the `ApiOrigin` for the pages' connect-src.
2. The stack `qalqan-<stage>-web` from infra/web.json (bucket, CloudFront, security headers).
3. web/ is synced to the bucket (content types, no-cache for what must change at once, stale files removed)
   with `config.js` pointing at the stage's API, and CloudFront's cache is invalidated.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]  # roles, and the SAM transform
# Fetched on every visit: the pages, the API pointer, the service worker and manifest (a stale one would pin an old
# release). The rest changes only with a release and is invalidated then.
NO_CACHE = {".html", ".webmanifest"}
NO_CACHE_NAMES = {"config.js", "sw.js"}
TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".json": "application/json", ".geojson": "application/geo+json", ".svg": "image/svg+xml"}


class DeployError(RuntimeError):
    """A step that cannot go on; the message says what to do."""


def say(message: str) -> None:
    print(message, flush=True)


def stage_config(stage: str) -> dict:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config["stages"]:
        raise DeployError(f"no stage {stage!r} in .chalice/config.json")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def region_or_fail(explicit: str | None) -> str:
    region = explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise DeployError("set AWS_REGION (or --region): the region decides where complaints are stored; "
                          "see docs/deploying.md, 'Choosing the region'")
    return region


def parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DeployError(f"--parameter wants Key=Value, got {pair!r}")
        out[key] = value
    return out


def ensure_secret(ssm, name: str) -> bool:
    """Creates the tracking-token secret if it is missing; True if it was created. Never reads the value."""
    try:
        found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    except Exception as exc:  # noqa: BLE001 - say which permission is missing, not a traceback
        raise DeployError(f"cannot look up SSM parameter {name}: {exc}") from exc
    if found:
        if found[0]["Type"] != "SecureString":
            raise DeployError(f"SSM parameter {name} exists but is a {found[0]['Type']}, not a SecureString")
        return False
    ssm.put_parameter(Name=name, Type="SecureString", Value=secrets.token_urlsafe(64), Overwrite=False,
                      Description="Qalqan: derives tracking tokens and cursor signatures (tools/deploy.py)")
    return True


def artifacts_bucket(s3, stage: str, account: str, region: str) -> str:
    name = f"qalqan-{stage}-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=name)
        return name
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise DeployError(f"bucket {name} exists but is not ours or not reachable: {exc}") from exc
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **kwargs)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def publish_artifacts(s3, bucket: str, stage: str, package_dir: Path) -> str:
    """Uploads each zip a function's CodeUri names (deployment.zip, reactions.zip: tools/package.py) under its
    digest, points every function at its own, and uploads the template; returns the template's URL."""
    template = json.loads((package_dir / "sam.json").read_text(encoding="utf-8"))
    functions = [resource["Properties"] for resource in template["Resources"].values()
                 if resource["Type"] == "AWS::Serverless::Function"]
    if not functions:
        raise DeployError(f"{package_dir / 'sam.json'} has no functions: run make package again")
    uploaded: dict[str, dict] = {}
    for properties in functions:
        local = properties.get("CodeUri")
        if not isinstance(local, str) or local.startswith(("s3://", "/")) or ".." in Path(local).parts:
            raise DeployError(f"a function's CodeUri is {local!r}, not a zip of {package_dir}: run make package again")
        if local not in uploaded:
            path = package_dir / local
            if not path.is_file():
                raise DeployError(f"{path} is missing (the template names it): run make package again")
            archive = path.read_bytes()
            # named by content: unchanged code keeps its key, so CloudFormation updates no function for it
            key = f"{stage}/{path.stem}-{hashlib.sha256(archive).hexdigest()[:32]}.zip"
            s3.put_object(Bucket=bucket, Key=key, Body=archive)
            uploaded[local] = {"Bucket": bucket, "Key": key}
        properties["CodeUri"] = dict(uploaded[local])
    body = json.dumps(template, indent=1).encode()
    template_key = f"{stage}/template-{hashlib.sha256(body).hexdigest()[:32]}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body, ContentType="application/json")
    (package_dir / "packaged.json").write_bytes(body)
    region = s3.meta.region_name
    host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
    return f"https://{bucket}.{host}/{template_key}"


def deploy_stack(cfn, name: str, params: dict[str, str], *, template_url: str | None = None,
                 template_body: str | None = None, poll: float = 5.0) -> dict[str, str]:
    """Creates or updates `name` through a change set; returns the stack's outputs."""
    status = stack_status(cfn, name)
    if status == "REVIEW_IN_PROGRESS":
        status = None  # a change set that was never executed: create again
    if status and status.endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {name} is {status}; wait for it to finish")
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {name} is ROLLBACK_COMPLETE (its first creation failed): read its events, "
                          f"delete it (`aws cloudformation delete-stack --stack-name {name}`) and deploy again")
    change_type = "UPDATE" if status else "CREATE"
    source = {"TemplateURL": template_url} if template_url else {"TemplateBody": template_body}
    change_set = f"qalqan-{int(time.time())}"
    cfn.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType=change_type,
                          Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
                          Capabilities=CAPABILITIES, **source)
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(poll)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            say(f"  {name}: no changes")
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return outputs(cfn, name)
        raise DeployError(f"change set for {name} failed: {reason}")
    say(f"  {name}: {change_type.lower()} with {len(described.get('Changes', []))} changes")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(poll)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise DeployError(f"stack {name} ended {status}: `aws cloudformation describe-stack-events --stack-name {name}`")
    return outputs(cfn, name)


def described(cfn, name: str) -> dict | None:
    """The stack as DescribeStacks gives it, or None if there is none."""
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        return None


def stack_status(cfn, name: str) -> str | None:
    return (described(cfn, name) or {}).get("StackStatus")


def outputs(cfn, name: str) -> dict[str, str]:
    stack = described(cfn, name)
    if stack is None:
        raise DeployError(f"there is no stack {name}")
    return outputs_of(stack)


def outputs_of(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def content_type(path: Path) -> str:
    if path.name.startswith(("LICENSE", "NOTICE")):
        return "text/plain; charset=utf-8"  # the vendored libraries' licences travel with them
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def cache_control(path: Path) -> str:
    if path.suffix in NO_CACHE or path.name in NO_CACHE_NAMES:
        return "no-cache"
    return "public, max-age=3600"


def web_files(web: Path = WEB):
    for path in sorted(web.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and "__pycache__" not in path.parts:
            yield path.relative_to(web).as_posix(), path


def sync_web(s3, bucket: str, api_base: str, web: Path = WEB) -> dict[str, int]:
    """Uploads web/ with config.js pointing at `api_base`; removes what web/ no longer has."""
    config = f'window.QALQAN_API = {json.dumps(api_base.rstrip("/"))};\n'.encode()
    wanted = {}
    for key, path in web_files(web):
        body = config if key == "config.js" else path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(path),
                      CacheControl=cache_control(path))
        wanted[key] = len(body)
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in wanted]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})
    return {"uploaded": len(wanted), "removed": len(stale), "bytes": sum(wanted.values())}


def invalidate(cloudfront, distribution_id: str, reference: str) -> str:
    result = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": reference})
    return result["Invalidation"]["Id"]


def _session(region: str):
    import boto3

    return boto3.session.Session(region_name=region)


def deploy_api(stage: str, region: str, params: dict[str, str], *, skip_package: bool = False, session=None) -> dict:
    session = session or _session(region)
    env = stage_config(stage)
    say(f"1/5 preflight: stage {stage}, region {region}")
    account = session.client("sts").get_caller_identity()["Account"]
    package_dir = ROOT / "dist" / stage
    if skip_package:
        say("2/5 package: reusing " + str(package_dir))
    else:
        say("2/5 package: python -m tools.package --stage " + stage)
        subprocess.run([sys.executable, "-m", "tools.package", "--stage", stage], cwd=ROOT, check=True)
    if not (package_dir / "sam.json").exists():
        raise DeployError(f"{package_dir}/sam.json is missing: run make package STAGE={stage}")
    name = env.get("QALQAN_SECRET_PARAMETER")
    if not name:
        raise DeployError(f"stage {stage} has no QALQAN_SECRET_PARAMETER in .chalice/config.json")
    created = ensure_secret(session.client("ssm"), name)
    say(f"3/5 secret {name}: {'created (SecureString, 64 random bytes)' if created else 'exists, left as is'}")
    s3 = session.client("s3")
    bucket = artifacts_bucket(s3, stage, account, region)
    url = publish_artifacts(s3, bucket, stage, package_dir)
    say(f"4/5 artifacts: s3://{bucket} ({url.rsplit('/', 1)[-1]})")
    say(f"5/5 stack qalqan-{stage}")
    out = deploy_stack(session.client("cloudformation"), f"qalqan-{stage}", {"Stage": stage, **params},
                       template_url=url)
    printed = out.get("StickerBaseUrl")
    if printed and printed.rstrip("/") != env.get("QR_BASE_URL", "").rstrip("/"):
        say(f"WARNING: the stack's sticker URL is {printed} but QR_BASE_URL in .chalice/config.json is "
            f"{env.get('QR_BASE_URL')}: stickers print QR_BASE_URL; set it to the stack's and deploy again")
    return out


def deploy_web(stage: str, region: str, params: dict[str, str], *, session=None) -> dict:
    session = session or _session(region)
    cfn = session.client("cloudformation")
    say(f"1/3 the API of stage {stage}")
    api = outputs_of(described(cfn, f"qalqan-{stage}") or {}).get("EndpointURL")
    if not api:
        raise DeployError(f"stack qalqan-{stage} has no EndpointURL: run make deploy STAGE={stage} first")
    parts = urlparse(api)
    say(f"2/3 stack qalqan-{stage}-web (ApiOrigin {parts.scheme}://{parts.netloc})")
    out = deploy_stack(cfn, f"qalqan-{stage}-web",
                       {"Stage": stage, "ApiOrigin": f"{parts.scheme}://{parts.netloc}", **params},
                       template_body=(ROOT / "infra" / "web.json").read_text(encoding="utf-8"))
    report = sync_web(session.client("s3"), out["WebBucketName"], api)
    # CloudFront wants a new CallerReference per invalidation; a deploy's clock is one.
    invalidation = invalidate(session.client("cloudfront"), out["WebDistributionId"], f"deploy-web-{time.time_ns()}")
    say(f"3/3 web/: {report['uploaded']} files ({report['bytes']} bytes), {report['removed']} stale removed; "
        f"invalidation {invalidation}; site at https://{params.get('DomainName') or out['WebDistributionDomainName']}/")
    return {**out, **report, "invalidation": invalidation}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("api", "web"))
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    parser.add_argument("--region", help="default: AWS_REGION / AWS_DEFAULT_REGION (one of them is required)")
    parser.add_argument("--parameter", action="append", default=[], metavar="Key=Value",
                        help="a stack parameter (repeatable), e.g. StickerDomain=q.qalqan.kz")
    parser.add_argument("--skip-package", action="store_true", help="deploy dist/<stage>/ as it is")
    args = parser.parse_args(argv)
    try:
        region = region_or_fail(args.region)
        params = parameters(args.parameter)
        if args.what == "api":
            out = deploy_api(args.stage, region, params, skip_package=args.skip_package)
        else:
            out = deploy_web(args.stage, region, params)
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    for key, value in sorted(out.items()):
        say(f"  {key}: {value}")
    if args.what == "api":
        say("next: the first admin key (python -m tools.admin create-key --role admin ...), then "
            f"make deploy-web STAGE={args.stage}; see docs/deploying.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
