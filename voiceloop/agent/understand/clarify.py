"""Asking when unsure: a write with no file name, "it" with no file in the session, or a heard name that is
only a guess at a session file, gets a short question; the next thing said answers it (listen), or the reply
says what is missing (once)."""

from __future__ import annotations

import re

from voiceloop.agent.confirm import Said, answer_to
from voiceloop.agent.intents import Action, Intent, Via, normalize_filename
from voiceloop.agent.rename import called, with_suffix
from voiceloop.agent.understand.words import names_in, prepare, strip_lead
from voiceloop.vocabulary import replace_first

NAME_QUESTION = "What should I call the file?"
MEANT = "Did you mean {}?"
DROPPED_REPLY = "Okay, I dropped that request. If you want something else, say it on its own."
_LEAD = r"^(?:(?:no|oh|ok|okay|um+|uh+|well|actually|wait|please)\W+)*"
_CANCEL = re.compile(
    r"\b(?:forget (?:it|that|this|about it|the file)|never ?mind|scratch that|cancel (?:it|that|this)|"
    r"don't bother|do not bother)\b"
    rf"|{_LEAD}cancel\b(?!\.\w)"  # "cancel, ..." but not the file cancel.txt
    rf"|{_LEAD}(?:stop|abort)(?: (?:it|that|this|please))?\W*$",
    re.I,
)
_ANSWER_NAME = re.compile(
    r"^(?:(?:it's|it is|use|the name is|how about|make it)\s+)?(?:the\s+)?(?:file\s+)?"
    r"(?:(?:called|named)\s+)?(?P<name>.+?)[.!]?$",
    re.I,
)
"""A bare answer to NAME_QUESTION ("it's notes", "how about todo"); "call it X" is rename.called's."""


def ask_for_name(said: str, via: Via = Via.FAST) -> Intent:
    """A write with no file name: ask for one; the request is kept to be finished by the answer."""
    return Intent(Action.CLARIFY, content=said, request=NAME_QUESTION, via=via)


def ask_for_file(said: str, verb: str, via: Via = Via.FAST) -> Intent:
    """ "it" with no file in the session: ask which file."""
    return Intent(Action.CLARIFY, content=said, request=f"Which file should I {verb}?", via=via)


def ask_if_meant(said: str, heard: str, guess: str, via: Via = Via.FAST) -> Intent:
    """A heard name that is only a guess at a known file: ask; a yes runs the request on `guess`."""
    at = said.lower().find(heard.lower())
    meant = said if at < 0 else said[:at] + guess + said[at + len(heard) :]
    return Intent(Action.CLARIFY, content=meant, request=MEANT.format(guess), via=via)


def _guessed(pending: Intent) -> str:
    """The name a "Did you mean ...?" question offered ("" for other questions)."""
    head = MEANT.split("{}")[0]
    q = pending.request
    return q[len(head) : -1] if q.startswith(head) and q.endswith("?") else ""


def cancels(reply: str, pending: Intent | None = None) -> bool:
    """ "forget that", "never mind", "cancel" in the answer to a question drop the pending request. The rest of
    that utterance is dropped too: it came in place of an answer, and may be misheard or not meant as a
    request ("forget that, delete every file in my home folder"). A plain no to "Did you mean weather.py?"
    drops it too: asking again about the same name would go round in circles."""
    if pending is not None and _guessed(pending) and answer_to(reply) is Said.NO and not names_in(prepare(reply)):
        return True
    return bool(_CANCEL.search(reply.strip()))


def answered(pending: Intent, reply: str) -> str | None:
    """The pending request finished with the answer ("write a poem" + "poem dot txt" -> "write a poem in
    poem.txt"), or None when the reply is not a file name (a new request: handled on its own)."""
    text = prepare(strip_lead(reply.strip()))
    names = names_in(text)
    new = called(reply)  # "no, call it feather dot py": the write prompt's parser, the name kept as said
    guess = _guessed(pending)
    if guess:  # "yes" (the one yes rule), or the right name ("no, feather.py"); anything else is a new request
        if new or names:
            return pending.content.replace(guess, with_suffix(new, guess) if new else names[0], 1)
        return pending.content if answer_to(reply) is Said.YES else None
    if new == "" and pending.request == NAME_QUESTION:
        return pending.content  # "call it that" names nothing: the request as it was, so the question comes again
    m = _ANSWER_NAME.match(text)
    if new:
        name = with_suffix(new, "file.txt")
    elif names and len(text.split()) <= 6:
        name = names[0]
    elif m and len(m.group("name").split()) <= 2 and pending.request == NAME_QUESTION:
        name = normalize_filename(m.group("name"))
        name = name if "." in name else f"{name}.txt"
    else:
        return None
    if pending.request == NAME_QUESTION:
        return f"{pending.content.rstrip(' .?!')} in {name}"
    replaced = replace_first(pending.content, "pointers", name)
    return replaced if replaced != pending.content else f"{pending.content.rstrip(' .?!')} {name}"
