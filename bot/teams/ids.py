"""Verbs and input ids shared by the Teams renderer and the translator of card actions.

Every `Action.Execute` carries `data` of `{"mention_id": n}` (card actions; a digest line's Claim adds
`"digest": minute`, so the click is answered with the digest's card), `{"draft_id": n}`
(draft actions), `{"crisis_id": n, "step": id}` (checklist actions) or `{"storm_id": n}` (storm
card actions) and its `verb`; the `Action.Submit` put in its `fallback` carries the same data
plus `"verb"`, so one translator reads both an `adaptiveCard/action` invoke and a message
activity's `value`. Input values arrive beside the data, under the `Input` ids.
"""

from enum import StrEnum

PLATFORM = "teams"  # how this edge is named in stored keys, chat ids and job kinds
DIGEST = "digest"  # in a digest line's action data: the digest's minute (`2026-11-20T10:31`)


class Verb(StrEnum):
    """`verb` of an `Action.Execute`, repeated as `data.verb` in its `Action.Submit` fallback."""

    CLAIM = "webcare.claim"
    ESCALATE = "webcare.escalate"
    ANSWER = "webcare.answer"
    FILL_REPLY = "webcare.fill_reply"  # data: mention id; the input `saved_reply`: the card comes back filled in
    DISMISS = "webcare.dismiss"
    UNCLAIM = "webcare.unclaim"
    REOPEN = "webcare.reopen"
    CLOSE = "webcare.close"
    APPROVE = "webcare.approve"  # data: draft id
    REQUEST_CHANGES = "webcare.request_changes"  # data: draft id
    RETRY = "webcare.retry"  # data: draft id
    RETRY_REPLY = "webcare.retry_reply"  # on the card: retry its mention's failed reply
    LINK = "webcare.link"  # data: mention id and crisis id
    UNLINK = "webcare.unlink"
    CRISIS_DONE = "webcare.crisis_done"  # data: crisis id and step
    CRISIS_SKIP = "webcare.crisis_skip"  # data: crisis id and step; the reason is the input `skip_reason(step)`
    SPIKE_START = "webcare.spike_start"  # data: spike alert id (`spike_id`)
    SPIKE_NOT_NOW = "webcare.spike_not_now"  # data: spike alert id
    CLAIM_STORM = "webcare.claim_storm"  # data: storm id (`storm_id`)
    ANSWER_STORM = "webcare.answer_storm"  # data: storm id; the reply is the input `reply_text`
    DISMISS_STORM = "webcare.dismiss_storm"  # data: storm id; the input `reason`
    STORM_MEMBERS = "webcare.storm_members"  # data: storm id; answered privately with the list
    STORM_CRISIS = "webcare.storm_crisis"  # data: storm id; the inputs `playbook` and `note`


class Input(StrEnum):
    """`id`s of card inputs; Teams merges their values into the action's data under these keys."""

    DEPARTMENTS = "departments"  # comma-separated department keys (multi-select choice set)
    NOTE = "note"
    REPLY_TEXT = "reply_text"
    REASON = "reason"  # a DismissReason value
    PLAYBOOK = "playbook"  # a playbook's key (Start crisis… on a storm card)
    SAVED_REPLY = "saved_reply"  # a saved reply's key (the Answer form's list)


def skip_reason(step: str) -> str:
    """The id of a step's Skip reason input: one per step, as input ids must be unique in a card."""
    return f"reason-{step}"
