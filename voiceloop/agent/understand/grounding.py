"""Grounded slots: what the model proposes is checked against what was said before anyone acts on it.

- A file name must have been said, or be in the session log ("it" = the newest file).
- A part that names a file keeps its own name, even a misheard one ("... in math underscore U does.py" is
  not an edit of the notes.txt the first part created); a file an earlier part of the same request made
  is only taken when this part points to it ("it", "that", its words).
- Dictated content must be the person's own words; a described wish ("with a shopping list") is
  generated from their request; nothing else goes into a file (a bare "create groceries.txt" is empty).
- A question is never a write; a write with no name asks for one.
- A name nobody made, read, summarized or changed before is matched to the session's files and the names said
  earlier in the turn: a near one is taken ("whether.py" -> weather.py), a farther one is asked about
  ("Did you mean weather.py?"); a new file's name is never changed. A name said that is already in output/
  is that file, never a near one (the classifier counts it as known: quotes.txt is not the session's notes.txt).
- A language is not a file: "In Python, ..." never writes a file called python.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath

from voiceloop.agent.intents import PROSE, WRITES, Action, Intent, Via, normalize_filename
from voiceloop.agent.understand.clarify import ask_for_file, ask_for_name, ask_if_meant
from voiceloop.agent.understand.prompt import ModelIntent
from voiceloop.agent.understand.words import (
    LANGUAGES,
    closest,
    describes,
    escapes,
    has_pronoun,
    is_code,
    is_question,
    known_by_words,
    mentioned,
    names_in,
    session_file,
    squash,
    strip_lead,
    words,
)
from voiceloop.vocabulary import after, contains, find, phrase_set, phrases, starts


def ground(m: ModelIntent, part: str, known: list[str], earlier: tuple[str, ...] = ()) -> Intent:
    """One model intent made safe to act on; the part is the words it came from. earlier: the files the
    parts before this one in the same request named (also in known)."""
    action = Action(m.action)
    said = strip_lead(part)
    if is_question(said) and action is not Action.SUMMARIZE:
        return _chat(part)
    name = normalize_filename(m.filename) if m.filename else ""
    if name and action in (Action.EDIT_FILE, Action.SUMMARIZE) and session_file(name, known):
        name = session_file(name, known)  # heard a little wrong, but plainly a file of this session
    if name and not (mentioned(name, part) or name in known or escapes(name)):
        name = ""  # a name nobody said
    if name.lower() in LANGUAGES:
        name = ""  # "In Python, ...": a language, not a file called python
    own = names_in(part)
    whole = _whole(name, own)
    if name and own and not escapes(name) and (whole or not mentioned(name, part)):
        name = whole or session_file(own[0], known) or own[0]  # the part said which file: that one, not the model's
    if not name and action in (*WRITES, Action.SUMMARIZE) and (has_pronoun(said) or action is Action.EDIT_FILE):
        name = known_by_words(said, known) or (known[-1] if known and has_pronoun(said) else "")
    if name in earlier and not mentioned(name, part) and not _points_to(said, name, known):
        name = ""  # made by another part of this request, and this part does not refer to it
    if not name and (said_names := names_in(part)) and action in WRITES:
        name = said_names[0]
    if action is Action.SUMMARIZE:
        return _summary(name, m.content, part, known)
    if action is Action.GENERAL_CHAT:
        return _chat(part)
    if not name:
        if action is Action.EDIT_FILE and has_pronoun(said):
            return ask_for_file(part, "change", Via.MODEL)
        return ask_for_name(part, Via.MODEL) if _wants_file(said) else _chat(part)
    if action is Action.WRITE_CODE and PurePosixPath(name).suffix.lower() in PROSE:
        action = Action.CREATE_FILE  # a poem in sea.txt is prose: written by the text writer, not the coder
    if action is Action.EDIT_FILE and name not in known and not mentioned(name, part):
        return ask_for_file(part, "change", Via.MODEL)
    if action is Action.EDIT_FILE and name not in known and starts(said, "new_work"):
        action = Action.WRITE_CODE if is_code(name) else Action.CREATE_FILE  # "write ... in x.py": a new file
    if action in (Action.CREATE_FILE, Action.WRITE_CODE) and name in known and not mentioned(name, part):
        action = Action.EDIT_FILE  # "the function should also handle negatives": a change to the file we made
    content = m.content if action is Action.CREATE_FILE else ""
    request = _request(m.request, part)
    if content and not dictated(content, part):
        content = ""  # words nobody said: the model's, not the person's
    if content and describes(content):
        request, content = content, ""  # "with a shopping list" asks for a list; it is not the list
    if action is Action.CREATE_FILE and not content and not _wish(part, name):
        request = ""  # nothing asked for: an empty file
    return Intent(action, name, content, request, Via.MODEL)


_FINDS = (Action.EDIT_FILE, Action.SUMMARIZE, Action.READ_FILE)
"""Actions on a file that must already exist: its heard name is matched to the known files."""


def settle_name(intent: Intent, part: str, known: list[str]) -> Intent:
    """The intent on the known file its heard name is close to, or the question "Did you mean ...?" when the
    name is only a guess. known: the session's files and the names said earlier in this turn."""
    heard = intent.filename
    if intent.action not in _FINDS or not heard or heard in known or escapes(heard):
        return intent
    near = closest(heard, known)
    if near is None:
        return intent
    if near.sure:
        return dataclasses.replace(intent, filename=near.name)
    return ask_if_meant(part, heard, near.name, intent.via)


def _whole(name: str, said: list[str]) -> str:
    """The name said whole that name is only a piece of (test_timer.py for timer.py in "a test for it and
    test_timer.py"); "" when there is none."""
    if not name or name in said:
        return ""
    return next((whole for whole in said if squash(name) in squash(whole)), "")


def _points_to(said: str, name: str, known: list[str]) -> bool:
    """True when the words refer to `name`: "it" / "that" for the newest file, or the file's own words."""
    return (contains(said, "refers") and bool(known) and known[-1] == name) or known_by_words(said, known) == name


def dictated(content: str, said: str) -> bool:
    """True when content is the person's own words, in their order (punctuation and case aside)."""
    return bool(squash(content)) and squash(content) in squash(said)


def _chat(part: str) -> Intent:
    return Intent(Action.GENERAL_CHAT, request=part, via=Via.MODEL)


def _summary(name: str, content: str, part: str, known: list[str]) -> Intent:
    if name:
        return Intent(Action.SUMMARIZE, name, request=part, via=Via.MODEL)
    if content and dictated(content, part) and len(words(content)) >= 4:
        return Intent(Action.SUMMARIZE, content=content, request=part, via=Via.MODEL)
    text = _text_after_lead(part)
    if len(words(text)) >= 4:
        return Intent(Action.SUMMARIZE, content=text.strip(), request=part, via=Via.MODEL)
    if known and has_pronoun(part):
        return Intent(Action.SUMMARIZE, known[-1], request=part, via=Via.MODEL)
    return ask_for_file(part, "summarize", Via.MODEL)


def _request(request: str, part: str) -> str:
    """The model's request when it is the person's words; otherwise what they said."""
    said = set(words(part))
    own = [w for w in words(request) if w not in phrase_set("request_words")]
    if own and sum(w in said for w in own) >= 0.7 * len(own):
        return request
    return part


def _wish(part: str, name: str) -> bool:
    """True when the part asks for something to be in the file, beyond creating it."""
    rest = part.replace(name, " ")
    cut = after(rest, "content_leads")
    rest = cut.lstrip() if cut is not None and cut[:1].isspace() else rest
    stem = set(words(PurePosixPath(name).stem.replace("_", " ")))
    return any(w not in phrase_set("request_words") and w not in stem for w in words(rest))


def _wants_file(said: str) -> bool:
    """True when the words ask for a file: "file", "script", "save" (and "files", "saved"), or an extension."""
    low = said.lower()
    for at, ch in enumerate(low):
        if not _word(low[at - 1 : at]) and low.startswith(phrases("wants_file"), at):
            return True
        if ch == "." and _word(low[at - 1 : at]):
            ext = 0
            while _word(low[at + 1 + ext : at + 2 + ext]):
                ext += 1
            if 1 <= ext <= 4:  # "notes.txt", not "2.71828"
                return True
    return False


def _word(ch: str) -> bool:
    return bool(ch) and (ch.isalnum() or ch == "_")


def _text_after_lead(part: str) -> str:
    """The text after "summarize this:" / "the following" ("" when there is no such lead)."""
    spots = []
    if ":" in part:
        spots.append((part.index(":"), part[part.index(":") + 1 :]))
    lead = find(part, "text_follows")
    if lead is not None:
        rest = part[lead[1] :]
        rest = rest[1:] if rest[:1] in (".", ",") else rest
        if rest[:1].isspace():
            spots.append((lead[0], rest))
    return min(spots)[1] if spots else ""
