"""The interface's words for the pages' scripts, translated on the server like the templates.

Scripts call ``Hub.t("English text", {name: value})``; the page carries this table for the active
language (``ui-strings``), so a script needs no catalogue of its own and falls back to English.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

SCRIPT_STRINGS = [
    # the live connection
    _("connecting…"),
    _("live"),
    _("offline — will reconnect"),
    _("signed out"),
    # rooms
    _("Warning"),
    _("Feedback"),
    _("Alert"),
    _("edited"),
    _("Feedback on warning"),
    _("Reply to"),
    _("an earlier message"),
    _("To: {names}"),
    _("Acknowledge"),
    _("Reply"),
    _("Reply to #{seq}"),
    _("Send feedback"),
    _("Feedback on warning #{seq}"),
    _("Edit"),
    _("Edit message"),
    _("Withdraw"),
    _("Withdraw this message?"),
    _("(withdrawn by the author)"),
    _("former member"),
    _("hub only"),
    _("acknowledged"),
    _("sending…"),
    _("not sent yet — retrying"),
    _("failed: {error}"),
    _("refused"),
    _("Discard"),
    _("{kind} from {name}: "),
    _("No messages yet."),
    _("Start of the room."),
    _("Loading earlier messages…"),
    _("Loading…"),
    _("Your messages waiting to be sent: {n}"),
    # the post form
    _("Choose…"),
    _("(this device's time, {zone})"),
    _("Result posted"),
    _("A result saved earlier was refused: {detail}"),
    _("Please correct the marked fields."),
    _("Saved on this device; it will be sent when the network is back."),
    _("no network"),
    _("server said {status}"),
    _("Could not load the result: {error}"),
    # alerts on every page (alerts.js) and reminders in rooms
    _("To acknowledge"),
    _("Open in Rooms"),
    _("Notify me on this device when the page is in the background"),
    _("{count} to acknowledge"),
    _("Reminder of #{seq}"),
    _("Reminder"),
    _("{count} member(s) who had not acknowledged"),
    # the results list
    _("Nil return recorded for {day}."),
    _("Uploading…"),
    # the board
    _("not given"),
    _("litres"),
    _("voided"),
    _("nothing yet"),
    _("late"),
    _("Entry point"),
    _("Units"),
    # commodity categories
    _("Renamed {code} to {name}."),
    _("Added {name}."),
    _("{count} result(s) reclassified, each as a new version."),
    # a report's progress (reports: the worker's stages)
    _("queued"),
    _("Started"),
    _("Queued again"),
    _("Reading the record and checking the chain"),
    _("Record read and chain checked"),
    _("Drawing the charts"),
    _("Writing the tables"),
    _("Laying out the PDF"),
    _("Storing"),
]


def ui_strings(request: HttpRequest) -> dict[str, Any]:
    """Template context: ``ui_strings`` (English → the active language) for ``Hub.t``."""
    return {"ui_strings": {text: gettext(text) for text in SCRIPT_STRINGS}}
