"""Asking when unsure: a write with no file name, "it" with no file in the session, or a heard name that is
only a guess at a session file, gets a short question; the next thing said answers it (listen), or the reply
says what is missing (once)."""

from __future__ import annotations

from voiceloop.agent.confirm import Said, answer_to
from voiceloop.agent.intents import Action, Intent, Via, normalize_filename
from voiceloop.agent.rename import called, with_suffix
from voiceloop.agent.understand import shapes
from voiceloop.agent.understand.words import names_in, prepare, strip_lead
from voiceloop.vocabulary import contains, is_one, leading, replace_first

NAME_QUESTION = "What should I call the file?"
MEANT = "Did you mean {}?"
DROPPED_REPLY = "Okay, I dropped that request. If you want something else, say it on its own."


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
    if contains(reply, "cancel"):
        return True
    reply = reply.strip()
    while (lead := leading(reply, "answer_lead")) and not _word(reply[len(lead) : len(lead) + 1]):
        reply = _marks_off(reply[len(lead) :])  # "no, um, cancel": the lead words and the marks after each
    cancel = leading(reply, "cancel_word")
    if cancel and not (reply[len(cancel) : len(cancel) + 1] == "." and _word(reply[len(cancel) + 1 : len(cancel) + 2])):
        return True  # "cancel, ..." but not the file cancel.txt
    return is_one(_marks_off(reply[::-1])[::-1], "stop")  # "stop!", "abort that."


def _marks_off(text: str) -> str:
    """text from its first letter or digit on."""
    at = next((i for i, ch in enumerate(text) if _word(ch)), len(text))
    return text[at:]


def _word(ch: str) -> bool:
    return bool(ch) and (ch.isalnum() or ch == "_")


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
    m = shapes.match("bare_answer", text)
    if new:
        name = with_suffix(new, "file.txt")
    elif names and len(text.split()) <= 6:
        name = names[0]
    elif m and len(m["answer"].split()) <= 2 and pending.request == NAME_QUESTION:
        name = normalize_filename(m["answer"])
        name = name if "." in name else f"{name}.txt"
    else:
        return None
    if pending.request == NAME_QUESTION:
        return f"{pending.content.rstrip(' .?!')} in {name}"
    replaced = replace_first(pending.content, "pointers", name)
    return replaced if replaced != pending.content else f"{pending.content.rstrip(' .?!')} {name}"
