"""What each intent does: propose writes (never write unconfirmed), summarize, answer."""

from __future__ import annotations

import ast
import os
from pathlib import PurePosixPath

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.filecmds.run import run_file_command
from voiceloop.agent.intents import FILE_COMMANDS, PROSE, Action, Intent, strip_fences
from voiceloop.agent.rename import ask_by_name
from voiceloop.agent.results import ActionResult as ActionResult
from voiceloop.agent.results import Status as Status
from voiceloop.agent.sandbox import Sandbox
from voiceloop.config import AnswerConfig
from voiceloop.errors import LLMError, SandboxError
from voiceloop.llm.ollama import LLMClient, Message, OnToken
from voiceloop.llm.repetition import penalties
from voiceloop.vocabulary import contains, only_words_of
from voiceloop.voice.budget import LOOP_NOTE, AnswerGuard, Cut, Enough
from voiceloop.voice.speech import CUT_NOTE, clip_reply

CODE_PROMPT = (
    "You write one complete source file. Reply with only the code for the file, no explanation, "
    "no Markdown fences. Keep it short, correct and idiomatic, with a docstring or comment at the top."
)
TEXT_PROMPT = (
    "You write the content of one text file. Reply with only that content, no preamble, no explanation, "
    "no Markdown fences around it. Keep it short and useful."
)
EDIT_PROMPT = (
    "You change one existing file as asked. Reply with the whole new file and nothing else: no explanation, "
    "no Markdown fences. Keep everything the change does not touch exactly as it was."
)
SUMMARY_PROMPT = "Summarize the text in at most five short bullet points starting with '- '. No preamble."
MAX_BULLETS = 5
CHAT_PROMPT = (
    "You are voiceloop, a helpful voice assistant running locally. Answer in one to three short "
    "spoken sentences: plain words, no Markdown, no lists, no code."
)
LONG_PROMPT = (
    "You are voiceloop, a helpful voice assistant running locally. Answer in up to {n} short "
    "spoken sentences: plain words, no Markdown, no lists, no code."
)
ANSWER_TEMPERATURE = 0.2
TOKENS_PER_SENTENCE = 50  # room to finish the last budgeted sentence; the guard stops the stream sooner
_LANGS = {".py": "Python", ".js": "JavaScript", ".sh": "Bash", ".html": "HTML", ".md": "Markdown", ".json": "JSON"}
_LANGS |= {".toml": "TOML", ".rs": "Rust", ".go": "Go", ".c": "C", ".ts": "TypeScript"}


class Tools:
    """Carries out intents. Every write goes through the Confirmer, then the Sandbox."""

    def __init__(
        self,
        llm: LLMClient,
        sandbox: Sandbox,
        confirmer: Confirmer,
        num_predict: int = 512,
        answer: AnswerConfig | None = None,
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.confirmer = confirmer
        self.num_predict = num_predict
        self.answer = answer or AnswerConfig()
        """The spoken answer's budget and repetition penalties."""
        self.model: str | None = None
        """The model for the intent being run (set by run())."""

    def run(
        self, intent: Intent, history: list[Message], model: str | None = None, on_token: OnToken | None = None
    ) -> ActionResult:
        """Carry out one intent; model: which model writes, summarizes or answers (None = the client's);
        a chat answer is streamed to on_token as it is written."""
        self.model = model
        try:
            if intent.action in (Action.CREATE_FILE, Action.WRITE_CODE, Action.EDIT_FILE):
                return self._create_or_edit(intent)
            if intent.action is Action.SUMMARIZE:
                return self._summarize(intent)
            if intent.action in FILE_COMMANDS:  # list, read, undo: one module each in agent/filecmds
                return run_file_command(intent, self.sandbox, self.confirmer)
            if intent.action is Action.CLARIFY:  # the question is the reply; the answer comes next turn
                return ActionResult(intent.action, Status.ANSWERED, "", intent.request)
            return self._chat(intent, history, on_token)
        except SandboxError as e:
            return ActionResult(intent.action, Status.REFUSED, intent.filename, str(e))
        except LLMError as e:
            return ActionResult(intent.action, Status.FAILED, intent.filename, str(e), llm_failed=True)

    def exists(self, name: str) -> bool:
        """Whether anything is at name in output/ now: grounding takes a said name that exists as itself."""
        try:
            return os.path.lexists(self.sandbox.root.joinpath(*self.sandbox.check_name(name).parts))
        except SandboxError:
            return False

    def _create_or_edit(self, intent: Intent) -> ActionResult:
        """Dictated text as said; otherwise a generated file, rewritten from its current content if it
        exists (so write_code on an existing file is an edit, and an edit of a missing file writes it new)."""
        current = self.sandbox.propose(intent.filename, "").old  # also refuses bad names before any LLM call
        if intent.action is Action.CREATE_FILE and (intent.content or wants_empty(intent)):
            return self._write(intent, intent.content)
        content, problem = self.generate_code(intent, current)
        if problem:
            return ActionResult(intent.action, Status.FAILED, intent.filename, problem)
        return self._write(intent, content)

    def _write(self, intent: Intent, content: str) -> ActionResult:
        shown = self.sandbox.propose(intent.filename, content)
        if shown.old == content:  # nothing to ask about: an edit the model left as it was
            return ActionResult(intent.action, Status.ANSWERED, str(shown.path), f"{shown.rel} needs no change.")
        ok, why, asked = ask_by_name(self.confirmer, self.sandbox, shown)  # "no, call it list.md": asked again
        if not ok:
            return ActionResult(intent.action, Status.DECLINED, str(asked.path), f"I did not write {asked.rel}: {why}.")
        path = self.sandbox.write(asked)
        verb = "updated" if asked.is_overwrite else "wrote"
        return ActionResult(intent.action, Status.WRITTEN, str(path), f"I {verb} {asked.rel}.", written_as=asked.rel)

    def _ask(self, messages: list[Message], num_predict: int, on_token: OnToken | None = None) -> str:
        return self.llm.chat(messages, options=self._options(num_predict), model=self.model, on_token=on_token).content

    def _options(self, num_predict: int | None = None) -> dict[str, float | int]:
        return {"temperature": 0.2, "num_predict": num_predict or self.num_predict}

    def generate_code(self, intent: Intent, current: str | None = None) -> tuple[str, str]:
        """(content, problem): a second LLM call writes the file, or rewrites `current` with the change.

        Python is checked with ast.parse and gets one retry with the SyntaxError.
        """
        suffix = PurePosixPath(intent.filename).suffix.lower()
        lang = _LANGS.get(suffix, "plain text")
        wish = intent.request or intent.content
        if current is not None:
            system = EDIT_PROMPT
            ask = f"The {lang} file {intent.filename} is now:\n{current[:12000]}\n\nChange it like this: {wish}"
        else:
            system = TEXT_PROMPT if suffix in PROSE else CODE_PROMPT
            ask = f"Write the {lang} file {intent.filename}: {wish}"
        messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": ask}]
        for attempt in range(2):
            code = strip_fences(self._ask(messages, 1024)) + "\n"
            if suffix != ".py":
                return code, ""
            try:
                ast.parse(code)
                return code, ""
            except SyntaxError as e:
                problem = f"the generated Python does not parse (line {e.lineno}: {e.msg})"
                if attempt == 0:
                    messages += [
                        {"role": "assistant", "content": code},
                        {
                            "role": "user",
                            "content": f"That has a SyntaxError at line {e.lineno}: {e.msg}. "
                            "Reply with the corrected file only.",
                        },
                    ]
        return "", f"I did not write {intent.filename}: {problem}."

    def _summarize(self, intent: Intent) -> ActionResult:
        text = self.sandbox.read(intent.filename) if intent.filename else (intent.content or intent.request)
        if not text.strip():
            return ActionResult(intent.action, Status.FAILED, intent.filename, "There was nothing to summarize.")
        messages: list[Message] = [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": text[:12000]},
        ]
        summary = clip_reply(bullets(self._ask(messages, 256)))  # tidied before it is spoken, so not streamed
        if not summary:
            raise LLMError("the model gave an empty summary; try again")
        return ActionResult(intent.action, Status.ANSWERED, intent.filename, summary)

    def _chat(self, intent: Intent, history: list[Message], on_token: OnToken | None) -> ActionResult:
        question = intent.request or intent.content
        return self.reply(question, history, self.answer.sentences, on_token, model=self.model)

    def reply(
        self,
        ask: str,
        history: list[Message],
        sentences: int,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ActionResult:
        """A spoken answer to `ask` of at most `sentences` sentences, stopped early if it starts looping."""
        messages: list[Message] = [
            {"role": "system", "content": chat_prompt(sentences)},
            *history,
            {"role": "user", "content": ask},
        ]
        for _ in range(2):  # an empty answer gets one more try
            done = self.answer_with(messages, sentences, on_token, model)
            if done is not None:
                return done
        raise LLMError("the model gave an empty answer twice; try again or use a bigger model")

    def answer_with(
        self,
        messages: list[Message],
        sentences: int,
        on_token: OnToken | None = None,
        model: str | None = None,
        already_said: str = "",
        lead: str = "",
        temperature: float = ANSWER_TEMPERATURE,
    ) -> ActionResult | None:
        """One streamed answer through the AnswerGuard (budget, run-on, loop); None when nothing was said.

        already_said: what was said before when this goes on with an answer; sentences repeated from it
        are skipped. lead: words the messages already put in the model's mouth (the end of a final
        assistant message it continues), spoken before what it writes, if it writes anything.
        """
        options = {
            "temperature": temperature,
            "num_predict": min(self.num_predict, max(200, TOKENS_PER_SENTENCE * (sentences + 1))),
            **penalties(self.answer),
        }
        guard = AnswerGuard(sentences, on_token, already_said)
        start = [lead]

        def feed(piece: str) -> None:
            if start[0] and piece.strip():
                piece, start[0] = start[0] + piece, ""
            guard.feed(piece)

        try:
            self.llm.chat(messages, options=options, model=model, on_token=feed)
            guard.finish()
        except Enough:
            pass  # the guard closed the stream: budget spent, a run-on sentence, or a loop
        said = guard.said
        if guard.cut is Cut.LOOP:
            said = f"{said} {LOOP_NOTE}".strip()
        if not said and guard.cut is Cut.RUN_ON:  # one endless sentence: nothing fit to say; say it was cut
            return ActionResult(Action.GENERAL_CHAT, Status.ANSWERED, "", CUT_NOTE, cut=guard.cut)
        if not said:
            return None
        streamed = on_token is not None
        return ActionResult(Action.GENERAL_CHAT, Status.ANSWERED, "", said, streamed=streamed, cut=guard.cut)


def chat_prompt(sentences: int) -> str:
    """The answer's system prompt, asking for as many sentences as the budget allows."""
    if sentences >= 4:
        return LONG_PROMPT.format(n=sentences)
    return CHAT_PROMPT.replace("one to three", {1: "one", 2: "one or two"}.get(sentences, "one to three"))


def bullets(answer: str) -> str:
    """At most MAX_BULLETS '- ' lines; small models add a preamble or number their points."""
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    points = [point for line in lines if (point := _point(line)) is not None]
    if not points:
        return answer.strip()
    return "\n".join(f"- {p}" for p in points[:MAX_BULLETS])


def _point(line: str) -> str | None:
    """ "- a point", "2) a point" -> "a point"; None for a line that is no list item."""
    digits = len(line) - len(line.lstrip("0123456789"))
    mark = 1 if line[:1] in ("-", "*", "•") else digits + 1 if digits and line[digits : digits + 1] in (".", ")") else 0
    return line[mark:].lstrip() if mark and line[mark : mark + 1].isspace() else None


def wants_empty(intent: Intent) -> bool:
    """True when a create_file asks for no content: it says "empty", or only repeats "create file X"."""
    return contains(intent.request, "empty") or only_words_of(
        intent.request.replace(intent.filename, ""), "just_create", ".,!"
    )
