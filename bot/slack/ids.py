"""Action, view and block ids shared by the Slack renderer and the listeners."""

from enum import StrEnum

PLATFORM = "slack"  # how this edge is named in stored keys, chat ids and job kinds


class Action(StrEnum):
    """`action_id`s of interactive elements; each button's `value` is the mention id (or draft id)."""

    CLAIM = "webcare.claim"
    ESCALATE = "webcare.escalate"
    ANSWER = "webcare.answer"
    DISMISS = "webcare.dismiss"
    MORE = "webcare.more"            # overflow menu on the card; option values below
    APPROVE = "webcare.approve"      # value: draft id
    REQUEST_CHANGES = "webcare.request_changes"  # value: draft id
    RETRY = "webcare.retry"          # value: draft id
    OPEN_POST = "webcare.open_post"  # link button, acknowledged and ignored
    # Checklist buttons: `<id>:<step index>` keeps action_ids unique per message; value `<crisis id>:<step id>`.
    CRISIS_DONE = "webcare.crisis_done"
    CRISIS_SKIP = "webcare.crisis_skip"  # opens the Skip modal
    SPIKE_START = "webcare.spike_start"  # a spike alert's Start crisis; value: the alert id
    SPIKE_NOT_NOW = "webcare.spike_not_now"  # value: the alert id
    # A storm card's buttons; value: the storm id.
    STORM_CLAIM = "webcare.storm_claim"
    STORM_ANSWER = "webcare.storm_answer"  # opens the Answer all modal
    STORM_DISMISS = "webcare.storm_dismiss"  # opens the storm's Dismiss modal
    STORM_CRISIS = "webcare.storm_crisis"  # opens the Start crisis… modal
    STORM_MEMBERS = "webcare.storm_members"  # answers privately with the list


class MoreOption(StrEnum):
    """Overflow menu option values are `<option>:<mention id>` (`link:<mention id>:<crisis id>`)."""

    UNCLAIM = "unclaim"
    REOPEN = "reopen"
    CLOSE = "close"
    LINK = "link"
    UNLINK = "unlink"


class View(StrEnum):
    """`callback_id`s of modals; `private_metadata` is the mention id (or draft id, or `<crisis id>:<step id>`)."""

    ESCALATE = "webcare.escalate_modal"
    ANSWER = "webcare.answer_modal"
    DISMISS = "webcare.dismiss_modal"
    REQUEST_CHANGES = "webcare.request_changes_modal"
    CRISIS_SKIP = "webcare.crisis_skip_modal"
    STORM_ANSWER = "webcare.storm_answer_modal"  # private_metadata: the storm id (so are the two below)
    STORM_DISMISS = "webcare.storm_dismiss_modal"
    STORM_CRISIS = "webcare.storm_crisis_modal"


class Block(StrEnum):
    """`block_id` / `action_id` pairs of modal inputs (block and action share the name)."""

    DEPARTMENTS = "departments"
    NOTE = "note"
    REPLY_TEXT = "reply_text"
    REASON = "reason"
    PLAYBOOK = "playbook"
    SAVED_REPLY = "saved_reply"  # the Answer dialog's menu of saved replies: a pick fills the reply (block_actions)
