"""The deterministic fast path: the common shapes of a request, understood without a model call.

Conservative by design: a part that does not fit one shape exactly returns None and goes to the model.
Questions are never commands ("how do I create a file in python" is answered, not acted on).
"""

from __future__ import annotations

from voiceloop.agent.filecmds.matcher import match_file_command
from voiceloop.agent.intents import Action, Intent, Via, normalize_filename
from voiceloop.agent.understand import shapes
from voiceloop.agent.understand.clarify import ask_for_file, ask_for_name
from voiceloop.agent.understand.words import (
    describes,
    has_pronoun,
    is_code,
    is_name,
    is_question,
    known_by_words,
    names_in,
    session_file,
    strip_lead,
)
from voiceloop.vocabulary import contains, is_one, leading, phrases, replace_first, starts


def fast_path(part: str, known: list[str]) -> list[Intent] | None:
    """Intents for one part when it has a common shape; None sends it to the model.

    known: the session's files, oldest first, with those named earlier in the same utterance.
    """
    said = part.strip()
    got = match_file_command(said, known)  # intents as data (agent/filecmds) before the regex shapes below
    if got is not None:
        return got
    s = strip_lead(said).rstrip("?!. ") or said
    for shape in (_summary, _question, _create, _write, _edit, _unnamed_write):
        got = shape(s, said, known)
        if got is not None:
            return got
    return None


def _fast(action: Action, filename: str = "", content: str = "", request: str = "") -> Intent:
    return Intent(action, filename, content.strip(), request.strip(), Via.FAST)


def _summary(s: str, said: str, known: list[str]) -> list[Intent] | None:
    m = shapes.match("summary", s)
    if m is None:
        return None
    rest = m.get("rest", "").strip()
    lead = shapes.match("text_to_summarize", rest)
    if lead:
        return [_fast(Action.SUMMARIZE, content=lead["x"], request=said)]
    plain = _without_tail(rest)
    names = names_in(plain)
    if len(names) == 1 and _just_named(plain):
        return [_fast(Action.SUMMARIZE, session_file(names[0], known) or names[0], request=said)]
    if _is_ref(plain) or m.get("pro"):
        if m.get("pro") and plain and not _is_ref(plain):
            return [_fast(Action.SUMMARIZE, content=plain, request=said)]
        return [_fast(Action.SUMMARIZE, known[-1], request=said)] if known else [ask_for_file(said, "summarize")]
    if len(plain.split()) >= 12:  # a long text said right after "summarize" is the text itself
        return [_fast(Action.SUMMARIZE, content=plain, request=said)]
    named = known_by_words(plain, known)
    if named and len(plain.split()) <= 5:
        return [_fast(Action.SUMMARIZE, named, request=said)]
    return None


def _question(s: str, said: str, known: list[str]) -> list[Intent] | None:
    return [_fast(Action.GENERAL_CHAT, request=said)] if is_question(s) else None


def _create(s: str, said: str, known: list[str]) -> list[Intent] | None:
    m = shapes.match("create_file", s)
    if m is not None and "bare" in m and not _ends_a_bare_name(m.get("rest", "")):
        m = None
    m = m or shapes.match("create_name", s)
    if m is None:
        return None
    names = names_in(m["names"]) if "names" in m else [normalize_filename(m["bare"]) + ".txt"]
    rest = m.get("rest", "").strip(" ,")
    if not rest or is_one(rest, "empty_rest") or ("empty" in m and not rest):
        return [_fast(Action.CREATE_FILE, n) for n in names]
    dictated = shapes.match("dictated", rest)
    if dictated:
        text = dictated["x"].strip().strip("\"'“”")
        return [_fast(Action.CREATE_FILE, n, content=text, request=said) for n in names]
    wish = shapes.match("wished", rest)
    if not wish:
        return None
    x = wish["x"].strip()
    if len(x) > 2 and x[0] in "\"“'" and x[-1] in "\"”'":
        return [_fast(Action.CREATE_FILE, n, content=x[1:-1]) for n in names]
    if rest.lower().startswith("with") and not describes(x, "described") and not any(is_code(n) for n in names):
        return [_fast(Action.CREATE_FILE, n, content=x, request=said) for n in names]  # "with buy milk and eggs"
    return [_fast(Action.WRITE_CODE if is_code(n) else Action.CREATE_FILE, n, request=rest) for n in names]


def _ends_a_bare_name(rest: str) -> bool:
    """What follows a file named by one bare word ("a file called shopping"): nothing, a mark, or "with ..."."""
    return not rest or rest[0] in ".," or starts(rest, "bare_name_end")


def _write(s: str, said: str, known: list[str]) -> list[Intent] | None:
    m = shapes.match("write_into", s)
    if m is None:
        return None
    name = normalize_filename(m["name"])
    what = m["what"].strip()
    tail = m.get("tail", "")
    wish = f"{what} {tail.strip(' ,')}".strip()
    if names_in(what):  # "write notes.txt ... in b.py": two names, not one shape
        return None
    verb = m["verb"].lower()
    said_text = shapes.match("dictated", tail.strip(" ,"))
    if said_text and not is_code(name):
        return [_fast(Action.CREATE_FILE, name, content=said_text["x"].strip("\"'“”"), request=said)]
    if is_one(what, "just_a_file"):  # "make another one called bye.txt", "create a new file named x.md"
        return _create(f"create a file called {name} {tail.strip(' ,')}".strip(), said, known)
    if name in known and starts(verb, "strong_edit"):
        return [_fast(Action.EDIT_FILE, name, request=_resolve_it(f"{verb} {wish}", known))]
    if verb in ("add", "put") and not is_code(name):
        return [_fast(Action.EDIT_FILE if name in known else Action.CREATE_FILE, name, request=f"{verb} {wish}")]
    if is_code(name):
        return [_fast(Action.WRITE_CODE, name, request=_resolve_it(wish, known))]
    lead = leading(what, "text_lead")
    text = what[len(lead) :].strip() if lead and what[len(lead) : len(lead) + 1].isspace() else ""
    if text or (not describes(what, "described") and not contains(what, "wish_words")):
        return [_fast(Action.CREATE_FILE, name, content=(text or what).strip("\"'“”"))]
    return [_fast(Action.CREATE_FILE, name, request=wish)]


def _edit(s: str, said: str, known: list[str]) -> list[Intent] | None:
    if not starts(s, "edit"):
        return None
    names = names_in(s)
    if len(names) > 1:
        return None
    if names:
        return [_fast(Action.EDIT_FILE, session_file(names[0], known) or names[0], request=_resolve_it(s, known))]
    named = known_by_words(s, known)
    pronoun = has_pronoun(s)
    if named and (pronoun or starts(s, "strong_edit") or " file" in s.lower()):
        return [_fast(Action.EDIT_FILE, named, request=s)]
    if pronoun:
        return [_fast(Action.EDIT_FILE, known[-1], request=s)] if known else [ask_for_file(said, "change")]
    if known and starts(s, "strong_edit"):
        return [_fast(Action.EDIT_FILE, known[-1], request=s)]
    return None


def _unnamed_write(s: str, said: str, known: list[str]) -> list[Intent] | None:
    if shapes.starts("no_name_write", s) and not names_in(s):
        return [ask_for_name(said)]
    return None


def _resolve_it(request: str, known: list[str]) -> str:
    """ "a test for it" -> "a test for math_utils.py": the code writer does not see the session."""
    if not known:
        return request
    return replace_first(request, "resolved_it", known[-1])


def _without_tail(rest: str) -> str:
    """ "notes.txt for me, please." -> "notes.txt": the words said after what to summarize."""
    plain = rest.rstrip(" .!")
    for tail in phrases("summary_tail"):
        if plain.lower().endswith(tail) and (len(plain) == len(tail) or plain[-len(tail) - 1].isspace()):
            return plain[: -len(tail)].rstrip(" .!")
    return plain


def _is_ref(plain: str) -> bool:
    """ "it", "that file", "the notes", or nothing: the session's newest file."""
    return not plain or is_one(plain, "the_file")


def _just_named(plain: str) -> bool:
    """ "notes.txt", "the file notes.txt", "notes.txt file": one name and nothing else."""
    said = plain.split()
    said = said[2:] if [w.lower() for w in said[:2]] == ["the", "file"] else said
    said = said[1:] if [w.lower() for w in said[:1]] == ["file"] else said
    said = said[:-1] if len(said) > 1 and said[-1].lower() == "file" else said
    return len(said) == 1 and is_name(said[0])
