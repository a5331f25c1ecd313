"""Hearing tuned for commands: a Whisper prompt in the words people use with voiceloop, and the session's
file names, so that "summarize notes dot txt" is not heard as "some arise notes dot t x t".

Whisper reads the prompt as text that came before the audio: it makes the spelling and the words in it
more likely. That is not free when they are not said: unclear audio moves toward the prompt's words. With
"Create a file called notes.txt" in the prompt, espeak's "data dot csv" was heard as "notes.csv" and
"budget dot md" as "notes.md". So the prompt holds command words and the session's real files only, never
an example file name. Kept short (Whisper keeps the last 224 tokens).
"""

from __future__ import annotations

from collections.abc import Sequence

COMMAND_PROMPT = "Create a file, write a Python function, or summarize."
"""Command words as Whisper should spell them, and no file name. Measured with tiny.en on the 49 spoken eval
commands, 12 general speech clips and 24 commands naming files in no prompt (espeak-ng and Piper): word errors
26 %, 2.7 %, 20 % (no prompt: 32 %, 1.3 %, 26 %; the old prompt with notes.txt/report.md: 23 %, 1.3 %, 22 %,
and 3 of its 24 heard a prompt word as the file name). Prompts listing bare extensions (".txt, .md") made
Whisper loop on them; "Summarize the file." turned "songs dot txt" into Summarize.txt."""
MAX_FILES = 6  # the newest few: more names would crowd the prompt and nudge unrelated words toward them


def bias_prompt(files: Sequence[str] = ()) -> str:
    """The prompt for the next utterance: the command vocabulary, then the session's newest files."""
    names = [f for f in reversed(files) if f][:MAX_FILES]
    if not names:
        return COMMAND_PROMPT
    return f"{COMMAND_PROMPT} Files: {', '.join(names)}."
