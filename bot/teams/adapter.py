"""The Bot Framework adapter and connector clients, configured from Settings (public cloud or overrides)."""

from __future__ import annotations

from types import SimpleNamespace

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)

from bot.settings import Settings

CONNECTOR_AUDIENCE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE


def _configuration(settings: Settings) -> SimpleNamespace:
    """What botbuilder's configuration-based authentication reads (attribute names, not the .NET keys)."""
    password = settings.microsoft_app_password
    values: dict[str, object] = {
        "APP_ID": settings.microsoft_app_id, "APP_PASSWORD": password.get_secret_value() if password else None,
        "APP_TYPE": settings.microsoft_app_type or "MultiTenant", "APP_TENANTID": settings.microsoft_app_tenant_id}
    if settings.microsoft_login_url or settings.microsoft_openid_metadata_url:
        # Overriding any endpoint switches botbuilder to "parameterized" mode, where all must be given.
        metadata = (settings.microsoft_openid_metadata_url
                    or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
        values.update(
            TO_CHANNEL_FROM_BOT_LOGIN_URL=(settings.microsoft_login_url
                                           or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX),
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=CONNECTOR_AUDIENCE,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=metadata,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL)
    return SimpleNamespace(**values)


class _CachedCredentials(ServiceClientCredentialsFactory):
    """botbuilder builds new credentials (and so fetches a new token) per turn; keep them instead."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._cache: dict[tuple[str, str, str], AppCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        key = (app_id, oauth_scope, login_endpoint)
        if key not in self._cache:
            self._cache[key] = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint,
                                                                    validate_authority)
        return self._cache[key]


class _CachedConnectors(ConnectorFactory):
    """Connector clients are reusable; botbuilder would build two per turn (5 ms of CPU each in msrest)."""

    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str | None], ConnectorClient]) -> None:
        self._inner, self._cache = inner, cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        if key not in self._cache:
            self._cache[key] = await self._inner.create(service_url, audience)
        return self._cache[key]


class _Authentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication, handing out cached connector and user-token clients."""

    def __init__(self, configuration: SimpleNamespace, credentials: ServiceClientCredentialsFactory) -> None:
        super().__init__(configuration, credentials_factory=credentials)
        self._connectors: dict[tuple[str, str | None], ConnectorClient] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity: Activity, auth_header: str | None) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        result.connector_factory = _CachedConnectors(result.connector_factory, self._connectors)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachedConnectors(super().create_connector_factory(claims_identity), self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or ""
        if key not in self._token_clients:
            self._token_clients[key] = await super().create_user_token_client(claims_identity)
        return self._token_clients[key]


def create_adapter(settings: Settings) -> CloudAdapter:
    """A CloudAdapter that validates incoming JWTs (unless no app id is set, in development)."""
    configuration = _configuration(settings)
    credentials = _CachedCredentials(ConfigurationServiceClientCredentialFactory(configuration))
    return CloudAdapter(_Authentication(configuration, credentials))


async def connector_client(adapter: CloudAdapter, app_id: str | None, service_url: str) -> ConnectorClient:
    """A Bot Connector client for proactive sends; its own retries are off (ours honour Retry-After)."""
    identity = adapter.create_claims_identity(app_id or "")
    factory = adapter.bot_framework_authentication.create_connector_factory(identity)
    client = await factory.create(service_url, CONNECTOR_AUDIENCE)
    # msrest would retry inside a blocking call (and, with retries at 0 but its status list kept, turn
    # a 502 into a connection error); the poster retries itself, honouring Retry-After.
    client.config.retry_policy.retries = 0
    client.config.retry_policy.policy.status_forcelist = frozenset()
    return client
