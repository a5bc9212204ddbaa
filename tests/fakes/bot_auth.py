"""Offline Bot Framework identity: OpenID metadata, JWKS and a token endpoint over local TLS, and channel JWTs.

Two halves of Bot Framework authentication, both played locally:

* **channel → bot**: Teams signs every activity it POSTs to the bot with a JWT (`iss`
  `https://api.botframework.com`, `aud` = the bot's app id, `serviceurl` claim). botbuilder checks it
  against the keys listed at `jwks_uri` in the OpenID metadata. `make_channel_token` builds such
  tokens with this kit's key, and its variants build the ones botbuilder must refuse.
* **bot → channel**: before calling the Bot Connector, botbuilder (through MSAL) fetches an access
  token by client credentials. The token endpoint here checks the app id and password and issues a
  JWT with `aud` `https://api.botframework.com`; `verify_access_token` is what the fake connector uses.

The server runs in its **own thread with its own event loop**, because botbuilder reads the OpenID
metadata with blocking `requests.get` on the event loop and MSAL fetches tokens with blocking
`requests` inside the connector's credential policy: a server on the test's loop would deadlock.

MSAL accepts only `https` authorities, so the kit serves TLS with a throw-away local CA; point
`requests` at it with `REQUESTS_CA_BUNDLE=kit.ca_bundle` (`monkeypatch.setenv`). `login_url` has the
ADFS shape (`https://127.0.0.1:<port>/adfs`) because that is the one authority MSAL takes without
asking `login.microsoftonline.com` for instance discovery (botbuilder gives MSAL no way to turn it off).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import datetime as dt
import functools
import ipaddress
import itertools
import os
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support import TEAMS_APP_PASSWORD

DEFAULT_APP_ID = "00000000-0000-0000-0000-00000000b075"  # the bot of tests/fixtures/teams: recipient "28:<app id>"
DEFAULT_APP_PASSWORD = TEAMS_APP_PASSWORD
CHANNEL_ISSUER = "https://api.botframework.com"  # `iss` of tokens Teams sends to bots
CONNECTOR_SCOPE = "https://api.botframework.com"  # `aud` of tokens bots send to the Bot Connector
GRAPH_AUDIENCE = "https://graph.microsoft.com"  # `aud` of app-only Graph tokens (scope `<it>/.default`)
ACCESS_TOKEN_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"  # Bot Framework's AAD tenant
WRONG_APP_ID = "ffffffff-0000-0000-0000-0000000bad00"

Claims = dict[str, Any]

_KID_SEQ = itertools.count(1)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One call to the token endpoint, the secret replaced by whether it was right."""

    client_id: str
    scope: str
    grant_type: str
    secret_ok: bool
    status: int


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    error: str
    description: str


class BotFrameworkAuthFake:
    """OpenID metadata, JWKS and client-credentials token endpoint on https://127.0.0.1, in a thread.

    Use as `with BotFrameworkAuthFake() as kit:` or `async with …` (or `start()`/`close()`).
    `openid_metadata_url` carries a per-instance nonce, so botbuilder's process-wide metadata cache
    (`JwtTokenExtractor.metadataCache`, keyed by URL, refreshed daily) never mixes two kits.
    """

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_password: str = DEFAULT_APP_PASSWORD,
        endorsements: tuple[str, ...] = ("msteams",),
        token_lifetime: int = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.endorsements = list(endorsements)
        self.token_lifetime = token_lifetime
        self.kid = f"fake-bf-key-{next(_KID_SEQ)}"
        self.key = _rsa_key("channel")
        self.token_key = _rsa_key("aad")
        self.token_kid = f"fake-aad-key-{self.kid.rsplit('-', 1)[1]}"
        self.token_requests: list[TokenRequest] = []
        self.metadata_requests = 0
        self.issued: list[str] = []
        self.url = ""  # https://127.0.0.1:<port>
        self._nonce = uuid.uuid4().hex[:12]
        self._host, self._port = host, port
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None

    # -- URLs ---------------------------------------------------------------------------------

    @property
    def openid_metadata_url(self) -> str:
        """Where botbuilder reads the channel's OpenID metadata (`TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`)."""
        return f"{self.url}/{self._nonce}/v1/.well-known/openidconfiguration"

    @property
    def jwks_uri(self) -> str:
        """The key set the metadata points to."""
        return f"{self.url}/{self._nonce}/v1/.well-known/keys"

    @property
    def login_url(self) -> str:
        """The MSAL authority for outgoing calls (`TO_CHANNEL_FROM_BOT_LOGIN_URL`)."""
        return f"{self.url}/adfs"

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint the authority's metadata names."""
        return f"{self.url}/botframework.com/oauth2/v2.0/token"

    @property
    def ca_bundle(self) -> str:
        """PEM file of the local CA that signed the server's certificate (for `REQUESTS_CA_BUNDLE`)."""
        return _tls_material().ca_path

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> str:
        """Serve in a background thread and return the base URL."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # noqa: BLE001 — handed to the starting thread
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"bot-auth-fake-{self.kid}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError("the Bot Framework auth fake did not start") from failure[0]
        return self.url

    def close(self) -> None:
        """Stop serving and join the thread."""
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already gone
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> BotFrameworkAuthFake:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> BotFrameworkAuthFake:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        app = web.Application()
        app.router.add_get(f"/{self._nonce}/v1/.well-known/openidconfiguration", self._openid_metadata)
        app.router.add_get(f"/{self._nonce}/v1/.well-known/keys", self._jwks)
        app.router.add_get("/adfs/.well-known/openid-configuration", self._authority_metadata)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._authority_metadata)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port, ssl_context=_tls_material().server_context()).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"https://{host}:{port}"
        ready.set()
        await self._stopped.wait()
        await self._runner.cleanup()

    # -- channel tokens (what Teams sends) ----------------------------------------------------

    def make_channel_token(
        self,
        app_id: str | None,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        expires_in: int = 3600,
        not_before: int | None = None,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        extra_claims: Claims | None = None,
    ) -> str:
        """Build the JWT the Bot Connector puts in `Authorization: Bearer …` when it POSTs an activity.

        `aud` is `audience` or `app_id` (default: the kit's app id); `serviceurl` must equal the
        activity's `serviceUrl`. `expires_in` may be negative; `kid`/`key` default to the published key.
        """
        now = int(time.time())
        claims: Claims = {
            "serviceurl": service_url,
            "nbf": now - 300 if not_before is None else not_before,
            "exp": now + expires_in,
            "iss": issuer,
            "aud": audience or app_id or self.app_id,
        }
        claims.update(extra_claims or {})
        headers = {"kid": kid or self.kid, "x5t": self.kid, "typ": "JWT"}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers=headers)

    def auth_header(self, service_url: str, **kwargs: Any) -> str:
        """`Bearer <make_channel_token(self.app_id, service_url, **kwargs)>`."""
        return f"Bearer {self.make_channel_token(self.app_id, service_url, **kwargs)}"

    def wrong_audience_token(self, service_url: str) -> str:
        """A well-signed token for another bot."""
        return self.make_channel_token(WRONG_APP_ID, service_url)

    def expired_token(self, service_url: str) -> str:
        """A well-signed token that expired an hour ago (botbuilder allows 5 minutes of clock skew)."""
        return self.make_channel_token(self.app_id, service_url, expires_in=-3600, not_before=int(time.time()) - 7200)

    def unknown_key_token(self, service_url: str) -> str:
        """A token signed by a key the JWKS does not list (its `kid` is unknown too)."""
        return self.make_channel_token(self.app_id, service_url, kid="unknown-key", key=_rsa_key("stranger"))

    def forged_token(self, service_url: str) -> str:
        """A token that names the published `kid` but is signed by another key."""
        return self.make_channel_token(self.app_id, service_url, key=_rsa_key("stranger"))

    # -- access tokens (what the bot sends to the connector) -----------------------------------

    def fail_next_token(self, *, status: int = 401, error: str = "invalid_client", times: int = 1,
                        description: str = "AADSTS7000215: Invalid client secret provided.") -> None:
        """Answer the next `times` token requests with an OAuth error instead of a token."""
        with self._lock:
            self._faults.extend([_Fault(status, error, description)] * times)

    def verify_access_token(self, token: str, audience: str = CONNECTOR_SCOPE) -> Claims:
        """Return the claims of an access token this kit issued for `audience`; `jwt.InvalidTokenError` otherwise."""
        public = self.token_key.public_key()
        return jwt.decode(token, public, algorithms=["RS256"], audience=audience, issuer=ACCESS_TOKEN_ISSUER)

    def is_issued(self, token: str, audience: str = CONNECTOR_SCOPE) -> bool:
        """Whether `token` is a valid, unexpired access token from this kit for `audience`."""
        try:
            self.verify_access_token(token, audience)
        except jwt.InvalidTokenError:
            return False
        return True

    # -- wire ---------------------------------------------------------------------------------

    def _jwk(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {**jwk, "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
                "endorsements": list(self.endorsements)}

    async def _openid_metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        return web.json_response({
            "issuer": CHANNEL_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.jwks_uri,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self._jwk()]})

    async def _authority_metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": f"{self.url}/botframework.com/v2.0",
            "authorization_endpoint": f"{self.url}/botframework.com/oauth2/v2.0/authorize",
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "token"],
            "jwks_uri": f"{self.url}/botframework.com/discovery/v2.0/keys",
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):  # client_secret_basic
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        scope, grant_type = str(form.get("scope", "")), str(form.get("grant_type", ""))
        status, body = self._token_answer(client_id, secret, scope, grant_type)
        with self._lock:
            self.token_requests.append(TokenRequest(client_id, scope, grant_type, secret == self.app_password, status))
        return web.json_response(body, status=status)

    def _token_answer(self, client_id: str, secret: str, scope: str, grant_type: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            return fault.status, _oauth_error(fault.error, fault.description)
        if grant_type != "client_credentials":
            return 400, _oauth_error("unsupported_grant_type", "AADSTS70003: grant type not supported.")
        if client_id != self.app_id:
            return 400, _oauth_error("unauthorized_client", f"AADSTS700016: Application '{client_id}' not found.")
        if secret != self.app_password:
            return 401, _oauth_error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
        if not scope.endswith("/.default"):
            return 400, _oauth_error("invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
        now = int(time.time())
        claims = {"aud": scope.removesuffix("/.default"), "iss": ACCESS_TOKEN_ISSUER, "iat": now, "nbf": now,
                  "exp": now + self.token_lifetime, "appid": client_id, "tid": "d6d49420-f39b-4df7-a1dc-d59a935871db",
                  "ver": "1.0", "jti": uuid.uuid4().hex}
        token = jwt.encode(claims, self.token_key, algorithm="RS256", headers={"kid": self.token_kid})
        with self._lock:
            self.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": self.token_lifetime,
                     "ext_expires_in": self.token_lifetime, "access_token": token}


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    """An Entra ID (AAD) token endpoint error body."""
    code = re.match(r"AADSTS(\d+)", description)
    return {"error": error, "error_description": description, "error_codes": [int(code[1])] if code else [],
            "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}


@functools.cache
def _rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per role per process (generating keys is the slow part of this kit)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True, slots=True)
class _Tls:
    ca_path: str
    cert_path: str
    key_path: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


@functools.cache
def _tls_material() -> _Tls:
    """A local CA and a server certificate for 127.0.0.1/localhost, written to a private temp dir."""
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = _rsa_key("tls-ca"), _rsa_key("tls-leaf")
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webcare tests local CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
        .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory = tempfile.mkdtemp(prefix="webcare-bot-auth-")
    atexit.register(_remove_tree, directory)
    pem = serialization.Encoding.PEM
    files = {
        "ca.pem": ca.public_bytes(pem),
        "server.pem": leaf.public_bytes(pem),
        "server.key": leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    }
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
    return _Tls(*(os.path.join(directory, name) for name in files))


def _remove_tree(directory: str) -> None:
    for name in os.listdir(directory):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, name))
    with contextlib.suppress(OSError):
        os.rmdir(directory)
