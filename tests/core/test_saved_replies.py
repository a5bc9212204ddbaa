"""Core and app: saved reply files parse and are checked with `file:line` problems; filling in and length limits."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.replies import (
    fill,
    load_saved_replies,
    parse_saved_reply,
    reply_length,
    reply_limit,
    saved_replies,
    too_long,
)

ROOT = Path(__file__).parents[2]
GOOD = """---
title: Order delayed
lang: en
networks: [x, bluesky]
---
Hi {name}, sorry your order hasn't arrived! Could you DM us your order number? ^{agent}
"""


def parse(text: str, name: str = "order-delayed-en.md"):
    return parse_saved_reply(Path("replies") / name, text)


def problems_of(text: str, name: str = "order-delayed-en.md") -> list[str]:
    return [str(p) for p in parse(text, name)[1]]


def test_a_good_reply_parses_with_its_title_language_networks_and_text():
    reply, problems = parse(GOOD)
    assert problems == []
    assert (reply.key, reply.title, reply.lang, reply.networks, reply.label) == (
        "order-delayed-en", "Order delayed", "en", ("x", "bluesky"), "Order delayed (EN)")
    assert reply.text == "Hi {name}, sorry your order hasn't arrived! Could you DM us your order number? ^{agent}"
    assert reply.offered_on("x") and not reply.offered_on("facebook")


def test_an_unknown_placeholder_is_named_with_its_line():
    text = GOOD.replace("order number?", "order number {order}?\nThanks, {Agent}")
    assert problems_of(text) == [
        "replies/order-delayed-en.md:6: unknown placeholder {order} (known: {name}, {handle}, {agent})",
        "replies/order-delayed-en.md:7: unknown placeholder {Agent} (known: {name}, {handle}, {agent})"]


@pytest.mark.parametrize(("change", "problem"), [
    (("title: Order delayed\n", ""), "replies/order-delayed-en.md:1: front matter is missing 'title'"),
    (("title: Order delayed", "title: ''"), "replies/order-delayed-en.md:2: title must be a non-empty text, not ''"),
    (("lang: en", "lang: de"), "replies/order-delayed-en.md:3: unknown lang 'de' (expected one of nl | en)"),
    (("lang: en\n", ""), "replies/order-delayed-en.md:1: front matter is missing 'lang' (one of nl | en)"),
    (("[x, bluesky]", "[x, twitter]"), "replies/order-delayed-en.md:4: unknown network 'twitter' (known: "),
    (("lang: en", "lang: en\ntone: friendly"), "replies/order-delayed-en.md:4: unknown front matter key 'tone'"),
    (("---\ntitle", "title"), "replies/order-delayed-en.md:1: missing front matter"),
    (("Hi {name}, sorry your order hasn't arrived! Could you DM us your order number? ^{agent}", ""),
     "replies/order-delayed-en.md:5: the reply text is empty"),
    (("Hi {name},", "Hi {name}," + " so sorry" * 30), "replies/order-delayed-en.md:6: the reply is too long even "
                                                      "before its placeholders are filled in: X allows 280 characters"),
], ids=["no-title", "empty-title", "bad-lang", "no-lang", "bad-network", "unknown-key", "no-front-matter",
        "empty", "too-long"])
def test_each_problem_is_named_with_file_and_line(change, problem):
    reply, problems = parse(GOOD.replace(*change))
    assert reply is None
    assert any(p.startswith(problem) for p in map(str, problems)), problems


def test_a_file_name_that_cannot_be_a_key_is_a_problem():
    assert problems_of(GOOD, "Order Delayed!.md")[0].startswith("replies/Order Delayed!.md:1: the file name")


def test_filling_in_keeps_customer_names_plain_words():
    text = "Hi {name} (@{handle}), ^{agent}"
    filled = fill(text, name="Sanne <!channel> @elonmusk #boycott www.evil.example [x](http://evil.example)",
                  handle="@sannedv", agent="Carla Smit")
    assert filled == "Hi Sanne !channel elonmusk boycott (@sannedv), ^Carla"
    assert fill("Hi {name}, ^{agent}", name=None, handle="sannedv", agent="Carla Smit") == "Hi sannedv, ^Carla"
    assert fill("Hoi {name}, ^{agent}", name="  ", handle=None, agent="Carla") == "Hoi, ^Carla"


@pytest.mark.parametrize(("network", "limit"), [("x", 280), ("bluesky", 300), ("mastodon", 500),
                                                ("instagram", 2200), ("facebook", 3000), ("rss", 3000)])
def test_each_network_has_its_reply_limit(network, limit):
    assert reply_limit(network) == limit
    assert too_long(network, "a" * limit) is None
    assert too_long(network, "a" * (limit + 32)) is not None


def test_a_reply_too_long_gives_the_limit_and_its_length():
    assert too_long("x", "a" * 312) == (280, 312)
    assert too_long("bluesky", "a" * 301) == (300, 301)
    assert too_long("rss", "a" * 3001) == (3000, 3001)


def test_mastodon_counts_links_as_23_remote_mentions_as_the_user_and_the_author_put_in_front():
    link = "https://example.com/" + "a" * 200
    assert reply_length("mastodon", "a" * 10 + link) == 33
    assert reply_length("mastodon", "@klant@mastodon.nl thanks") == len("@klant thanks")
    assert reply_length("mastodon", "a" * 495, to="@klant@mastodon.nl") == 502  # "@klant " goes in front
    assert reply_length("mastodon", "@Klant " + "a" * 488, to="@klant@mastodon.nl") == 495  # already named
    assert reply_length("x", "a" * 10, to="@klant") == 10  # only Mastodon replies are addressed


def test_x_counts_links_as_23_and_emoji_twice():
    link = "https://example.com/" + "a" * 200
    assert too_long("x", "a" * 257 + link) is None  # 257 + 23 = 280
    assert too_long("x", "😀" * 141) == (280, 282)
    assert too_long("mastodon", "😀" * 141) is None


def test_the_shipped_saved_replies_are_valid_in_both_languages():
    replies, problems = load_saved_replies(ROOT / "playbooks" / "replies")
    assert problems == []
    assert {r.lang for r in replies} == {"nl", "en"} and len(replies) >= 4
    for reply in replies:  # each fits X with a long name filled in
        assert too_long("x", fill(reply.text, name="N" * 60, handle="h" * 15, agent="Annemarie")) is None


def test_saved_replies_are_read_again_when_a_file_changes(tmp_path):
    (tmp_path / "thanks-en.md").write_text(GOOD.replace("Order delayed", "Thanks"), encoding="utf-8")
    assert [r.title for r in saved_replies(tmp_path)] == ["Thanks"]
    (tmp_path / "thanks-en.md").write_text(GOOD.replace("Order delayed", "Thank you!!"), encoding="utf-8")
    assert [r.title for r in saved_replies(tmp_path)] == ["Thank you!!"]
    (tmp_path / "broken-en.md").write_text("no front matter", encoding="utf-8")
    assert [r.title for r in saved_replies(tmp_path)] == ["Thank you!!"]  # a broken file is left out


def test_check_command_lists_saved_reply_problems_and_fails(tmp_path):
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "order-delayed-en.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "replies" / "bad-nl.md").write_text(GOOD.replace("lang: en", "lang: de").replace("{name}", "{naam}"),
                                                    encoding="utf-8")
    result = CliRunner().invoke(main, ["playbooks", "check", str(tmp_path)], env={"WEBCARE_CONFIG": ""})
    assert result.exit_code == 1
    bad = tmp_path / "replies" / "bad-nl.md"
    assert result.stdout.splitlines() == [
        f"{bad}:3: unknown lang 'de' (expected one of nl | en)",
        f"{bad}:6: unknown placeholder {{naam}} (known: {{name}}, {{handle}}, {{agent}})"]
    assert "2 saved replies, 2 problems" in result.stderr


def test_check_command_reports_the_shipped_replies_clean():
    result = CliRunner().invoke(main, ["playbooks", "check", str(ROOT / "playbooks")],
                                env={"WEBCARE_CONFIG": str(ROOT / "webcare.example.toml")})
    assert result.exit_code == 0, result.output
    assert "5 playbooks, 0 problems" in result.stderr and "8 saved replies, 0 problems" in result.stderr
