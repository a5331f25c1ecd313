"""A compound request becomes its parts, in order, so that each is understood on its own.

Conservative: a sentence is cut only where a new request clearly starts ("... and tell me a joke",
"..., then create notes.md", ". Summarize it"). Words that only continue a list or dictated text
("with the text buy apples and milk", "create a.txt and b.txt") stay in their part.
"""

from __future__ import annotations

from voiceloop.agent.filecmds.matcher import match_file_command
from voiceloop.agent.understand import shapes
from voiceloop.agent.understand.words import is_context, is_question, names_in, strip_lead
from voiceloop.vocabulary import after, is_one, phrase_set, phrases, starts

SENTENCE_END = ".;!?"
"""Marks that end a sentence (a cut when white space follows them)."""


def joints(text: str) -> list[tuple[int, int]]:
    """(start, end) of each place text could be cut, in order: a sentence's end (". "), a comma with the
    comma_joint words after it (", and then "), or white space around a joint phrase (" and ", " plus ")."""
    found: list[tuple[int, int]] = []
    while (joint := _next_joint(text, found[-1][1] if found else 0)) is not None:
        found.append(joint)
    return found


def _next_joint(text: str, at: int) -> tuple[int, int] | None:
    """(start, end) of the first joint at or after text[at]; None when there is none."""
    for start in range(at, len(text)):
        if (end := _joint_at(text, start)) is not None:
            return start, end
    return None


def _joint_at(text: str, at: int) -> int | None:
    """Where the joint that starts at text[at] ends; None when none starts there."""
    mark = _spaces_end(text, at)
    stop = mark
    while stop < len(text) and text[stop] in SENTENCE_END:
        stop += 1
    if stop > mark:
        return end if (end := _spaces_end(text, stop)) > stop else None
    if text[mark : mark + 1] == ",":
        mark = _spaces_end(text, mark + 1)
        return _phrase_end(text, mark, "comma_joint") or mark
    return _phrase_end(text, mark, "joint") if mark > at else None


def _phrase_end(text: str, at: int, name: str) -> int | None:
    """The end of the spaces after the longest phrase of `name` that text[at:] starts with, word by word with
    white space between (a mark in the phrase is glued on: "after that,"); None when no phrase and space follow."""
    for phrase in phrases(name):
        end = at
        for n, word in enumerate(phrase.split()):
            if n and word.isalnum():  # words have white space between them; a mark is glued on
                if _spaces_end(text, end) == end:
                    break
                end = _spaces_end(text, end)
            if text[end : end + len(word)].lower() != word:
                break
            end += len(word)
        else:
            if (spaced := _spaces_end(text, end)) > end:
                return spaced
    return None


def _spaces_end(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def split(text: str) -> list[str]:
    """The parts of one utterance, in order (one part when it asks for one thing)."""
    parts: list[str] = []
    start = 0
    verb = ""
    for cut, end in joints(text):
        left, right, joint = text[start:cut].strip(), text[end:].strip(), text[cut:end]
        if not (left and right):
            continue
        if _starts_request(left, right, joint):
            parts.append(left + ("?" if "?" in joint else ""))
            start, verb = end, ""
        elif (said := _shared_verb(left, right)) and _next_name_before(text[end:]):
            # "write fizz.py and a test for it in test_fizz.py": the second request borrows the verb
            parts.append((verb + " " + left).strip() if verb else left)
            start, verb = end, said
    parts.append(f"{verb} {text[start:].strip()}".strip())
    return [p.strip(" ,.;?") + ("?" if p.rstrip().endswith("?") else "") for p in parts if p.strip(" ,.;!?")]


def _shared_verb(left: str, right: str) -> str:
    """The verb of `left` when `right` is a second thing to make with it, else ""."""
    head = strip_lead(left).split(" ", 1)[0].lower()
    if head not in phrase_set("make_verbs") or not names_in(left) or is_question(strip_lead(left)):
        return ""
    if shapes.fits("only_names", right.strip(" .!")) or not right.lower().startswith(
        ("a ", "an ", "another ", "one ", "some ")
    ):
        return ""
    return head


def _next_name_before(rest: str) -> bool:
    """True when the rest names a file before the next place it could be cut."""
    return bool(names_in(_up_to_a_joint(rest)))


def _up_to_a_joint(text: str) -> str:
    cut = _next_joint(text, 0)
    return text[: cut[0]] if cut else text


def _file_command(right: str) -> str:
    """`right` up to the next place it could be cut, when that is a whole file command sentence; else ""."""
    head = _up_to_a_joint(right)
    return head if match_file_command(head, []) is not None else ""


def _starts_request(left: str, right: str, joint: str) -> bool:
    """True when `right` begins a request of its own after `left`."""
    head = strip_lead(right)
    if not head.strip(" ,.;!?"):
        return False  # "Summarize report.txt, please.": only fillers after the cut, nothing more asked
    if not strip_lead(left).strip(" ,.!?"):
        return False  # "Okay, ..." / "Right, ...": nothing was asked before the comma
    if is_context(strip_lead(left)):
        return False  # "In Python, what matches a slash?": the lead-in belongs to the request it opens
    strong = _strong(joint)
    if rest := _file_command(right):  # "..., then read me notes.txt", "... and undo that": the file commands' templates
        if match_file_command(f"{left}{joint}{rest}", []) is not None:
            return False  # "oh no, take that back" is one command with its lead-in
        return strong or not _dictating(left)
    lead, comma, after = head.partition(",")
    if comma and is_context(lead):
        head = after.strip()  # "..., then in Python, what is a list?": the request after its lead-in
    if not starts(right, "opener") and not starts(head, "opener"):
        return False
    if head.lower().startswith(("it ", "them ", "that ")) or starts(head, "same_thing"):
        return False  # "... and it should print hi", "... and save it as x.js": the same request goes on
    if _dictating(left) and not strong:
        return False  # inside dictated words only "then" or a new sentence ends them
    if is_question(strip_lead(left)) and not strong:
        # "how do I create a file and write to it" is one question; "what is 2 and 2, and create a.txt" is two
        return bool(names_in(right))
    return True


def _strong(joint: str) -> bool:
    """A joint that surely ends a request: a new sentence (". "), or "then" ("..., and then ...")."""
    marks = joint.strip()
    if marks and set(marks) <= set(".;!?"):
        return joint[-1:].isspace()
    return joint[-1:].isspace() and is_one(marks.removeprefix(",").strip(), "strong_joint")


def _dictating(left: str) -> bool:
    """True when left dictates words ("... that says", "with the text", a colon) and some follow: those go on
    until "then" or a new sentence."""
    said = after(left, "dictation")
    return bool(left.partition(":")[2].strip() or (said and said.strip()))
