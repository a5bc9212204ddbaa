"""Edge tests for the Mastodon reply connector against a real mastodon-mock server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.replies.base import DeliveryError, MentionRef, ReplyRequest
from bot.replies.mastodon import MastodonConnector, addressed_text, reply_visibility
from tests.fakes.mastodon_server import MastodonMock, MockAccount, lossy_proxy, running_mastodon_mock

STATUSES = "/api/v1/statuses"


@pytest.fixture(scope="module")
def mock() -> Iterator[MastodonMock]:
    with running_mastodon_mock() as server:
        yield server


@pytest.fixture
def server(mock: MastodonMock) -> Iterator[MastodonMock]:
    mock.clear_faults()
    yield mock
    mock.clear_faults()


@pytest.fixture
def brand(server: MastodonMock) -> MockAccount:
    return server.create_account("acmewebcare")


@pytest.fixture
def customer(server: MastodonMock) -> MockAccount:
    return server.create_account("sanne")


def request_for(
    status: dict[str, Any], *, text: str = "Sorry! Your parcel ships today.", key: str = "reply-1"
) -> ReplyRequest:
    return ReplyRequest(
        mention=MentionRef(
            source="mastodon",
            source_mention_id=f"notification:{status['id']}",
            network="mastodon",
            network_item_id=status["id"],
            url=status["url"],
            author_handle=status["account"]["acct"],
        ),
        text=text,
        agent="Anna de Vries",
        idempotency_key=key,
    )


def connector(base_url: str, account: MockAccount, **kwargs: Any) -> MastodonConnector:
    return MastodonConnector(base_url, account.token, **{"base_wait": 0.01, "max_wait": 2.0, **kwargs})


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
async def test_reply_lands_once_in_the_thread_with_the_originals_visibility(
    server: MastodonMock, brand: MockAccount, customer: MockAccount, visibility: str
) -> None:
    original = server.post_status(customer, f"@{brand.acct} my order #48213 never arrived", visibility=visibility)

    receipt = await connector(server.base_url, brand).deliver(request_for(original))

    [reply] = server.replies(original["id"], viewer=customer)
    assert reply["id"] == receipt.remote_id
    assert reply["url"] == receipt.url
    assert reply["account"]["acct"] == brand.acct
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["visibility"] == visibility
    assert f"@{customer.acct}" in reply["content"]
    assert "Sorry! Your parcel ships today." in reply["content"]
    assert [m["acct"] for m in reply["mentions"]] == [customer.acct]


async def test_text_that_already_mentions_the_author_is_not_prefixed_again(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "where is my order?")
    text = f"Hi @{customer.acct}, it ships today."

    await connector(server.base_url, brand).deliver(request_for(original, text=text))

    [reply] = server.replies(original["id"], viewer=customer)
    assert reply["content"] == f"<p>Hi @{customer.acct}, it ships today.</p>"
    assert [m["acct"] for m in reply["mentions"]] == [customer.acct]


async def test_failed_posts_are_retried_and_the_reply_lands_once(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")
    server.fail_next("GET", f"{STATUSES}/{original['id']}", status=500, count=1)
    server.fail_next("POST", STATUSES, status=503, count=2, headers={"Retry-After": "0"})

    await connector(server.base_url, brand, attempts=3).deliver(request_for(original))

    assert server.pending_faults() == [], "the injected failures did not all fire"
    assert len(server.replies(original["id"], viewer=customer)) == 1


async def test_a_lost_answer_after_posting_does_not_post_twice(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")

    async with lossy_proxy(server.base_url, method="POST", path=STATUSES, lose=1) as proxy:
        receipt = await connector(proxy.base_url, brand).deliver(request_for(original))

    assert proxy.lost == 1, "the proxy never lost an answer (else this test proves little)"
    [reply] = server.replies(original["id"], viewer=customer)
    assert reply["id"] == receipt.remote_id


async def test_delivering_the_same_reply_again_returns_the_first_status(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")
    hook = connector(server.base_url, brand)

    first = await hook.deliver(request_for(original, key="reply-7"))
    again = await hook.deliver(request_for(original, key="reply-7"))
    other = await hook.deliver(request_for(original, text="A second, different answer.", key="reply-8"))

    assert again == first
    assert other.remote_id != first.remote_id
    assert len(server.replies(original["id"], viewer=customer)) == 2


async def test_persistent_unavailability_is_transient_and_posts_nothing(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")
    server.fail_next("POST", STATUSES, status=502, count=3)

    with pytest.raises(DeliveryError) as caught:
        await connector(server.base_url, brand, attempts=3).deliver(request_for(original))

    assert caught.value.transient
    assert "Mastodon is unavailable (HTTP 502 Bad Gateway)" in caught.value.reason
    assert server.replies(original["id"], viewer=customer) == []


async def test_rate_limit_with_a_long_retry_after_is_handed_back(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")
    server.fail_next("POST", STATUSES, status=429, count=1, headers={"Retry-After": "300"})

    with pytest.raises(DeliveryError) as caught:
        await connector(server.base_url, brand, max_wait=5.0).deliver(request_for(original))

    assert caught.value.transient
    assert caught.value.retry_after == 300


async def test_a_deleted_original_is_a_permanent_error(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "never mind")
    server.delete_status(customer, original["id"])

    with pytest.raises(DeliveryError) as caught:
        await connector(server.base_url, brand).deliver(request_for(original))

    assert not caught.value.transient
    assert "the original post is gone" in caught.value.reason
    assert server.statuses_of(brand) == []


async def test_a_refused_reply_is_permanent_with_mastodons_reason(
    server: MastodonMock, brand: MockAccount, customer: MockAccount
) -> None:
    original = server.post_status(customer, "hello?")

    with pytest.raises(DeliveryError) as caught:
        await connector(server.base_url, brand).deliver(request_for(original, text="x" * 600))

    assert not caught.value.transient
    assert caught.value.reason.startswith("Mastodon refused the reply (HTTP 422")
    assert "Text is too long" in caught.value.reason


async def test_a_bad_token_never_shows_in_repr_errors_or_logs(
    server: MastodonMock, customer: MockAccount, caplog: pytest.LogCaptureFixture
) -> None:
    original = server.post_status(customer, "hello?")
    token = "not-a-valid-token-5f2b9c"
    hook = MastodonConnector(server.base_url, token, base_wait=0.01)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError) as caught:
        await hook.deliver(request_for(original))

    assert not caught.value.transient
    assert "401" in caught.value.reason
    for text in (repr(hook), str(caught.value), repr(caught.value), caplog.text):
        assert token not in text
    assert "GET" in caplog.text, "nothing was logged (else this test proves little)"


async def test_a_mention_without_a_status_id_is_refused() -> None:
    ref = MentionRef("mastodon", "n:1", "mastodon", None, None, "sanne")
    hook = MastodonConnector("http://127.0.0.1:9", "token")

    with pytest.raises(DeliveryError) as caught:
        await hook.deliver(ReplyRequest(ref, "hi", "Anna", "reply-1"))

    assert not caught.value.transient


@pytest.mark.parametrize(
    ("text", "acct", "expected"),
    [
        ("Thanks!", "sanne", "@sanne Thanks!"),
        ("Thanks @sanne.", "sanne", "Thanks @sanne."),
        ("Thanks @Sanne", "sanne", "Thanks @Sanne"),
        ("Thanks @sanne_b", "sanne", "@sanne Thanks @sanne_b"),
        ("Thanks @sanne@other.social", "sanne", "@sanne Thanks @sanne@other.social"),
        ("Thanks @sanne@mastodon.nl!", "sanne@mastodon.nl", "Thanks @sanne@mastodon.nl!"),
        ("Thanks @sanne", "sanne@mastodon.nl", "@sanne@mastodon.nl Thanks @sanne"),
    ],
)
def test_addressed_text(text: str, acct: str, expected: str) -> None:
    assert addressed_text(text, acct) == expected


def test_reply_visibility_is_never_more_public_than_the_original() -> None:
    assert [reply_visibility(v) for v in ("public", "unlisted", "private", "direct", "limited", None)] == [
        "public",
        "unlisted",
        "private",
        "direct",
        "direct",
        "direct",
    ]
