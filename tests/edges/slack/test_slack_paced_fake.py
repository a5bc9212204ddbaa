"""The storm bench's Slack fake keeps Slack's pace: posts beyond ~1 a second per channel get 429 and Retry-After."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bench.paced_slack import PacedSlackFake

CHANNEL, OTHER = "C0TRIAGE01", "C0OTHER001"
CARD = {"event_type": "webcare_message", "event_payload": {"subject": "card:7"}}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_post_beyond_the_burst_is_refused_with_retry_after_until_that_time_has_passed() -> None:
    clock = Clock()
    async with PacedSlackFake(rate=1.0, burst=2, clock=clock) as fake:
        slack = AsyncWebClient(token=fake.token, base_url=fake.url, retry_handlers=[])
        for n in range(2):
            await slack.chat_postMessage(channel=CHANNEL, text=f"burst {n}")
        with pytest.raises(SlackApiError) as refused:
            await slack.chat_postMessage(channel=CHANNEL, text="one too many")
        assert refused.value.response.status_code == 429
        assert refused.value.response["error"] == "ratelimited"
        assert refused.value.response.headers["Retry-After"] == "1"
        await slack.chat_postMessage(channel=OTHER, text="another channel has its own pace")

        clock.now += 1.0
        await slack.chat_postMessage(channel=CHANNEL, text="after Retry-After")
        with pytest.raises(SlackApiError):
            await slack.chat_postMessage(channel=CHANNEL, text="again too soon")

    assert [m["text"] for m in fake.messages(CHANNEL)] == ["burst 0", "burst 1", "after Retry-After"]
    assert fake.limited == {CHANNEL: 2}


async def test_each_accepted_post_is_kept_with_the_subject_its_metadata_names_and_when() -> None:
    clock = Clock()
    async with PacedSlackFake(clock=clock) as fake:
        slack = AsyncWebClient(token=fake.token, base_url=fake.url, retry_handlers=[])
        await slack.chat_postMessage(channel=CHANNEL, text="card", metadata=CARD)
        clock.now += 0.25
        await slack.chat_postMessage(channel=CHANNEL, text="no metadata")

    assert [(p.channel, p.subject, p.at) for p in fake.posted] == [(CHANNEL, "card:7", 1000.0),
                                                                  (CHANNEL, "", 1000.25)]
