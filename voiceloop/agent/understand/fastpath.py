"""The deterministic fast path: the common shapes of a request, understood without a model call.

Conservative by design: a part that does not fit one shape exactly returns None and goes to the model.
Questions are never commands ("how do I create a file in python" is answered, not acted on).
"""

from __future__ import annotations

import re

from voiceloop.agent.filecmds.matcher import match_file_command
from voiceloop.agent.intents import Action, Intent, Via, normalize_filename
from voiceloop.agent.understand.clarify import ask_for_file, ask_for_name
from voiceloop.agent.understand.words import (
    NAME,
    has_pronoun,
    is_code,
    is_question,
    known_by_words,
    names_in,
    session_file,
    strip_lead,
)

_NAMES = rf"(?P<names>{NAME}(?:\s*(?:,\s*|\s+and\s+|,\s*and\s+){NAME})*)"
_FILE_WORD = r"(?:(?:text|txt|markdown|python|json|csv|bash|shell|html|empty|blank|new|plain|notes?|todo)\s+)*file"
_CREATE_HEAD = (
    r"^(?:(?:create|make|start|open|set up|add|generate|give me|i need|i want)\s+(?:me\s+|us\s+)?)?"
    r"(?:a\s+|an\s+|the\s+)?(?:brand\s+)?(?:new\s+)?(?P<empty>(?:empty|blank)\s+)?(?:new\s+)?"
)
_CREATE_FILE = re.compile(
    _CREATE_HEAD + _FILE_WORD + r"\s*,?\s*(?:(?:called|named|titled|with the name)\s+)?"
    rf"(?:{_NAMES}|(?P<bare>[a-z][\w-]*)(?=\s*$|\s*[.,]|\s+(?:with|containing|that|which|saying)\b))(?P<rest>.*)$",
    re.I,
)
_CREATE_NAME = re.compile(
    r"^(?:create|make|new|touch)\s+(?:me\s+)?(?:a\s+|an\s+)?(?:new\s+)?(?P<empty>(?:empty|blank)\s+)?"
    rf"{_NAMES}(?P<rest>.*)$",
    re.I,
)
_DICTATE = re.compile(
    r"^(?:(?:with|containing|and put|and write)\s+(?:the\s+)?(?:text|words?|line|sentence|phrase|content)s?"
    r"\s*(?:of\s+)?:?"
    r"|that\s+(?:says|reads)|which\s+(?:says|reads)|saying|reading|with\s*:|and\s+in\s+it\s+(?:write|put))\s+(?P<x>.+)$",
    re.I,
)
_WISH = re.compile(
    r"^(?:with|containing|that\s+(?:has|contains|holds|lists)|which\s+(?:has|contains|lists)|about|for|listing|"
    r"that|which|to)\s+(?P<x>.+)$",
    re.I,
)
_DESCRIBED = re.compile(
    r"^(?:a|an|some|something|my|our|the|few|several|many|\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"ideas?|notes about|prints?|returns?|checks?|computes?|counts?|reads?|lists?|says? hello|greets?|"
    r"takes?|adds?|sorts?|parses?|converts?|calculates?|generates?|fetch(?:es)?|downloads?|defines?)\b",
    re.I,
)
_EMPTY_REST = re.compile(
    r"^(?:please|for me|now|right now|thanks|thank you|with nothing in it|with no content|empty)?$", re.I
)
_WRITE = re.compile(
    r"^(?P<verb>write|generate|code|code up|create|make|build|implement|draft|compose|produce|whip up|put|"
    r"give me|add|jot down|note down|write down|type)\s+(?:me\s+|up\s+|down\s+)?(?P<what>.+?)\s*,?\s+"
    r"(?:and\s+)?(?:(?:save|store|put) (?:it|that|this)\s+)?"
    r"(?:(?:call|name) it\s+|(?:in|into|to|inside|as|called|named|"
    r"under|on)\s+(?:a\s+|the\s+)?(?:new\s+)?(?:(?:python|text|markdown|bash|shell|javascript|js)\s+)?"
    r"(?:file|script|module|program)?\s*,?\s*(?:(?:called|named)\s+)?)(?P<name>" + NAME + r")(?P<tail>.*)$",
    re.I,
)
_WRITE_NAMED = re.compile(
    r"^(?P<verb>write|generate|code|create|make|build|implement)\s+(?:me\s+)?(?:a\s+|an\s+)?(?:new\s+)?"
    r"(?:(?:python|bash|shell|javascript)\s+)?(?:script|file|program|module)?\s*(?:(?:called|named)\s+)?"
    r"(?P<name>" + NAME + r")\s*,?\s+(?:that|which|to|with|for|containing|so that)\s+(?P<what>.+)$",
    re.I,
)
_SUMMARY = re.compile(
    r"^(?:summari[sz]e|sum up|recap|condense|boil down|tl;? ?dr|tldr|too long didn'?t read|"
    r"(?:give|get) me (?:a |the )?(?:short |quick |brief |one line )?"
    r"(?:summary|gist|tl;?dr|tldr|rundown|recap|overview) (?:of|for)|"
    r"(?:write|make|do) (?:me )?(?:a |the )?(?:short |quick |brief )?summary (?:of|for)|"
    r"what(?:'s| is) the (?:gist|summary|tl;?dr|tldr|short version|upshot) of|(?:the )?gist of|"
    r"(?:a |the )?(?:short |quick |brief )?summary of|"
    r"(?:sum|boil|break) (?P<pro>this|it|that|these|them|the following) (?:up|down))\b"
    r"[,:.]?\s*(?P<rest>.*)$",
    re.I | re.S,
)
_LEAD_TEXT = re.compile(
    r"^(?:(?:of|on|for)\s+)?"
    r"(?:(?:this|the following|these|the text|this text|the following text|what i say next|these notes)\s*"
    r"(?:for me|please)?\s*[:.,-]|(?:for me|please)?\s*[:,-])\s*(?P<x>.+)$",
    re.I | re.S,
)
_TAIL = re.compile(r"\s*(?:for me|please|now|quickly|briefly|real quick)?\s*[.!]*$", re.I)
_REF = re.compile(
    r"^(?:(?:the )?file\s+)?(?P<ref>it|that|this|them|that file|this file|the file|that one|what i just wrote|"
    r"the (?:notes|list|text|document|doc))?$",
    re.I,
)
_EDIT = re.compile(
    r"^(?P<verb>add|change|rename|update|fix|edit|modify|remove|delete|refactor|rewrite|append|insert|replace|"
    r"convert|turn|make|put|include|improve|clean up|sort|reformat|extend|translate|capitalize|shorten|expand)\b",
    re.I,
)
_STRONG_EDIT = re.compile(
    r"^(?:add|change|rename|update|fix|edit|modify|remove|delete|refactor|rewrite|append|insert|replace|include|"
    r"capitalize|shorten|expand|reformat|sort|improve|clean up)\b",
    re.I,
)
_JUST_A_FILE = re.compile(
    r"^(?:a |an |another |the |one more )?(?:new |empty |blank )?(?:one|file|text file|markdown file|python file)$",
    re.I,
)
_NO_NAME_WRITE = re.compile(
    r"^(?:create|make|write|generate|save|code|build)\s+(?:me\s+)?(?:a|an|some|the)?\s*(?:new\s+)?(?:\w+\s+){0,3}?"
    r"(?:file|script|program|module|function|class)\b",
    re.I,
)


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
    m = _SUMMARY.match(s)
    if not m:
        return None
    rest = (m.group("rest") or "").strip()
    lead = _LEAD_TEXT.match(rest)
    if lead:
        return [_fast(Action.SUMMARIZE, content=lead.group("x"), request=said)]
    plain = _TAIL.sub("", rest)
    names = names_in(plain)
    if len(names) == 1 and re.fullmatch(rf"(?:(?:the )?file\s+)?{NAME}(?:\s+file)?", plain, re.I):
        return [_fast(Action.SUMMARIZE, session_file(names[0], known) or names[0], request=said)]
    if _REF.match(plain) or m.group("pro"):
        if m.group("pro") and plain and not _REF.match(plain):
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
    m = _CREATE_FILE.match(s) or _CREATE_NAME.match(s)
    if not m:
        return None
    bare = [normalize_filename(m.groupdict().get("bare") or "") + ".txt"]
    names = names_in(m.group("names")) if m.group("names") else bare
    rest = m.group("rest").strip(" ,")
    if _EMPTY_REST.match(rest) or (m.group("empty") and not rest):
        return [_fast(Action.CREATE_FILE, n) for n in names]
    dictated = _DICTATE.match(rest)
    if dictated:
        text = dictated.group("x").strip().strip("\"'“”")
        return [_fast(Action.CREATE_FILE, n, content=text, request=said) for n in names]
    wish = _WISH.match(rest)
    if not wish:
        return None
    x = wish.group("x").strip()
    quoted = re.fullmatch(r"[\"“'](.+)[\"”']", x)
    if quoted:
        return [_fast(Action.CREATE_FILE, n, content=quoted.group(1)) for n in names]
    if rest.lower().startswith("with") and not _DESCRIBED.match(x) and not any(is_code(n) for n in names):
        return [_fast(Action.CREATE_FILE, n, content=x, request=said) for n in names]  # "with buy milk and eggs"
    return [_fast(Action.WRITE_CODE if is_code(n) else Action.CREATE_FILE, n, request=rest) for n in names]


def _write(s: str, said: str, known: list[str]) -> list[Intent] | None:
    m = _WRITE.match(s) or _WRITE_NAMED.match(s)
    if not m:
        return None
    name = normalize_filename(m.group("name"))
    what = m.group("what").strip()
    tail = m.groupdict().get("tail") or ""
    wish = f"{what} {tail.strip(' ,')}".strip()
    if names_in(what):  # "write notes.txt ... in b.py": two names, not one shape
        return None
    verb = m.group("verb").lower()
    said_text = _DICTATE.match(tail.strip(" ,"))
    if said_text and not is_code(name):
        return [_fast(Action.CREATE_FILE, name, content=said_text.group("x").strip("\"'“”"), request=said)]
    if _JUST_A_FILE.match(what):  # "make another one called bye.txt", "create a new file named x.md"
        return _create(f"create a file called {name} {tail.strip(' ,')}".strip(), said, known)
    if name in known and _STRONG_EDIT.match(verb):
        return [_fast(Action.EDIT_FILE, name, request=_resolve_it(f"{verb} {wish}", known))]
    if verb in ("add", "put") and not is_code(name):
        return [_fast(Action.EDIT_FILE if name in known else Action.CREATE_FILE, name, request=f"{verb} {wish}")]
    if is_code(name):
        return [_fast(Action.WRITE_CODE, name, request=_resolve_it(wish, known))]
    text = re.match(r"^(?:the\s+)?(?:text|words?|line|sentence|phrase)\s+(?P<x>.+)$", what, re.I)
    if text or (not _DESCRIBED.match(what) and not re.search(r"\b(?:about|for|that|which|describing)\b", what)):
        return [_fast(Action.CREATE_FILE, name, content=(text.group("x") if text else what).strip("\"'“”"))]
    return [_fast(Action.CREATE_FILE, name, request=wish)]


def _edit(s: str, said: str, known: list[str]) -> list[Intent] | None:
    m = _EDIT.match(s)
    if not m:
        return None
    names = names_in(s)
    if len(names) > 1:
        return None
    if names:
        return [_fast(Action.EDIT_FILE, session_file(names[0], known) or names[0], request=_resolve_it(s, known))]
    named = known_by_words(s, known)
    pronoun = has_pronoun(s)
    if named and (pronoun or _STRONG_EDIT.match(s) or " file" in s.lower()):
        return [_fast(Action.EDIT_FILE, named, request=s)]
    if pronoun:
        return [_fast(Action.EDIT_FILE, known[-1], request=s)] if known else [ask_for_file(said, "change")]
    if known and _STRONG_EDIT.match(s):
        return [_fast(Action.EDIT_FILE, known[-1], request=s)]
    return None


def _unnamed_write(s: str, said: str, known: list[str]) -> list[Intent] | None:
    if _NO_NAME_WRITE.match(s) and not names_in(s):
        return [ask_for_name(said)]
    return None


def _resolve_it(request: str, known: list[str]) -> str:
    """ "a test for it" -> "a test for math_utils.py": the code writer does not see the session."""
    if not known:
        return request
    return re.sub(r"\b(?:it|that file|that code|this file)\b", known[-1], request, count=1, flags=re.I)
