"""Request models of the Web Push routes (chalicelib/api/push.py), imported by the views when they run: pydantic
costs a cold start about 0.2 s, and the QR resolver imports app.py too."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KeysIn(BaseModel):
    model_config = _STRICT
    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=16, max_length=32)


class SubscriptionIn(BaseModel):
    model_config = _STRICT
    endpoint: str = Field(min_length=12, max_length=2000)
    # PushSubscription.toJSON() carries it; the push service enforces it, so it is accepted and not stored.
    expirationTime: Optional[float] = None  # noqa: N815 - the browser's own name
    keys: KeysIn


class SubscribeIn(BaseModel):
    model_config = _STRICT
    subscription: SubscriptionIn
    lang: Optional[Literal["kk", "ru", "en"]] = None


class EndpointIn(BaseModel):
    """What an unsubscription needs: the endpoint (the same body as the subscription is accepted)."""
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    endpoint: str = Field(min_length=12, max_length=2000)


class UnsubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    subscription: EndpointIn
    lang: Optional[Literal["kk", "ru", "en"]] = None
