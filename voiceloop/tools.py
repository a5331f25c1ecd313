"""What each intent does: propose writes (never write unconfirmed), summarize, answer."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath

from voiceloop.confirm import Confirmer
from voiceloop.errors import LLMError, SandboxError
from voiceloop.intents import Action, Intent, strip_fences
from voiceloop.llm import LLMClient, Message, OnToken
from voiceloop.sandbox import Sandbox

CODE_PROMPT = (
    "You write one complete source file. Reply with only the code for the file, no explanation, "
    "no Markdown fences. Keep it short, correct and idiomatic, with a docstring or comment at the top."
)
SUMMARY_PROMPT = "Summarize the text in at most five short bullet points starting with '- '. No preamble."
CHAT_PROMPT = (
    "You are voiceloop, a helpful voice assistant running locally. Answer in one to three short "
    "spoken sentences: plain words, no Markdown, no lists, no code."
)
_LANGS = {
    ".py": "Python",
    ".js": "JavaScript",
    ".sh": "Bash",
    ".html": "HTML",
    ".md": "Markdown",
    ".json": "JSON",
    ".toml": "TOML",
    ".rs": "Rust",
    ".go": "Go",
    ".c": "C",
    ".ts": "TypeScript",
}


class Status(str, Enum):
    WRITTEN = "written"
    DECLINED = "declined"
    REFUSED = "refused"
    FAILED = "failed"
    ANSWERED = "answered"


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one intent."""

    action: Action
    status: Status
    target: str
    """The file path involved (written, declined or refused), or ""."""
    say: str
    """What to tell the person about it (spoken and printed)."""
    streamed: bool = False
    """`say` was already handed to the speech stream token by token while it was generated."""

    def to_json(self) -> dict[str, str]:
        return {"action": self.action.value, "status": self.status.value, "target": self.target, "message": self.say}


class Tools:
    """Carries out intents. Every write goes through the Confirmer, then the Sandbox."""

    def __init__(self, llm: LLMClient, sandbox: Sandbox, confirmer: Confirmer, num_predict: int = 512) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.confirmer = confirmer
        self.num_predict = num_predict

    def run(self, intent: Intent, history: list[Message], on_token: OnToken | None = None) -> ActionResult:
        """Carry out one intent; answers (chat, summaries) are streamed to on_token as they are written."""
        try:
            if intent.action is Action.CREATE_FILE:
                return self._write(intent, intent.content)
            if intent.action is Action.WRITE_CODE:
                code, problem = self.generate_code(intent)
                if problem:
                    return ActionResult(intent.action, Status.FAILED, intent.filename, problem)
                return self._write(intent, code)
            if intent.action is Action.SUMMARIZE:
                return self._summarize(intent, on_token)
            return self._chat(intent, history, on_token)
        except SandboxError as e:
            return ActionResult(intent.action, Status.REFUSED, intent.filename, str(e))
        except LLMError as e:
            return ActionResult(intent.action, Status.FAILED, intent.filename, str(e))

    def _write(self, intent: Intent, content: str) -> ActionResult:
        proposal = self.sandbox.propose(intent.filename, content)
        ok, why = self.confirmer.confirm(proposal)
        if not ok:
            return ActionResult(
                intent.action, Status.DECLINED, str(proposal.path), f"I did not write {proposal.rel}: {why}."
            )
        path = self.sandbox.write(proposal)
        verb = "updated" if proposal.is_overwrite else "wrote"
        return ActionResult(intent.action, Status.WRITTEN, str(path), f"I {verb} {proposal.rel}.")

    def _options(self, num_predict: int | None = None) -> dict[str, float | int]:
        return {"temperature": 0.2, "num_predict": num_predict or self.num_predict}

    def generate_code(self, intent: Intent) -> tuple[str, str]:
        """(code, problem): a second LLM call writes the file; Python is checked with ast.parse."""
        suffix = PurePosixPath(intent.filename).suffix.lower()
        lang = _LANGS.get(suffix, "plain text")
        ask = f"Write the {lang} file {intent.filename}: {intent.request or intent.content}"
        messages: list[Message] = [{"role": "system", "content": CODE_PROMPT}, {"role": "user", "content": ask}]
        for attempt in range(2):
            code = strip_fences(self.llm.chat(messages, options=self._options(1024)).content) + "\n"
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

    def _summarize(self, intent: Intent, on_token: OnToken | None) -> ActionResult:
        text = self.sandbox.read(intent.filename) if intent.filename else (intent.content or intent.request)
        if not text.strip():
            return ActionResult(intent.action, Status.FAILED, intent.filename, "There was nothing to summarize.")
        messages: list[Message] = [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": text[:12000]},
        ]
        summary = self.llm.chat(messages, options=self._options(256), on_token=on_token).content.strip()
        if not summary:
            raise LLMError("the model gave an empty summary; try again")
        return ActionResult(intent.action, Status.ANSWERED, intent.filename, summary, streamed=on_token is not None)

    def _chat(self, intent: Intent, history: list[Message], on_token: OnToken | None) -> ActionResult:
        question = intent.request or intent.content
        messages: list[Message] = [
            {"role": "system", "content": CHAT_PROMPT},
            *history,
            {"role": "user", "content": question},
        ]
        for _ in range(2):  # an empty answer gets one more try
            answer = self.llm.chat(messages, options=self._options(200), on_token=on_token).content.strip()
            if answer:
                return ActionResult(intent.action, Status.ANSWERED, "", answer, streamed=on_token is not None)
        raise LLMError("the model gave an empty answer twice; try again or use a bigger model")
