"""Hearing tuned for commands: a Whisper prompt in the words people use with voiceloop, and the session's
file names, so that "summarize notes dot txt" is not heard as "some arise notes dot t x t".

Whisper reads the prompt as text that came before the audio: it makes the spelling and the words in it
more likely, and costs nothing when they are not said. Kept short (Whisper keeps the last 224 tokens).
"""

from __future__ import annotations

from collections.abc import Sequence

COMMAND_PROMPT = "Create a file called notes.txt. Summarize report.md."
"""Command vocabulary as Whisper should spell it. Measured (python -m voiceloop.devtools.wer, tiny.en): longer
prompts with more verbs and names helped commands a little more but cost words in general speech."""
MAX_FILES = 6  # the newest few: more names would crowd the prompt and nudge unrelated words toward them


def bias_prompt(files: Sequence[str] = ()) -> str:
    """The prompt for the next utterance: the command vocabulary, then the session's newest files."""
    names = [f for f in reversed(files) if f][:MAX_FILES]
    if not names:
        return COMMAND_PROMPT
    return f"{COMMAND_PROMPT} Files: {', '.join(names)}."
