"""Spoken answers across turns: what the last answer said, and carrying it on ("tell me more",
"go on", "the long version") from where it stopped, with the conversation kept."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from voiceloop.agent.commands import Command, Kind
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.tools import ANSWER_TEMPERATURE, ActionResult, Status, Tools, chat_prompt
from voiceloop.config import AnswerConfig
from voiceloop.errors import LLMError
from voiceloop.llm.ollama import Message, OnToken
from voiceloop.voice.budget import LOOP_NOTE, Cut
from voiceloop.voice.speech import SpeechStream

NOTHING_YET_REPLY = "There is nothing to go on with yet: ask me something first."
NOTHING_MORE_REPLY = "That is all I have to say about it."
BOLDER = 0.8  # the last try's temperature: a small model that keeps saying the same things says something else
ALSO = "Also,"  # a continuation's first words when the answer so far had come to an end
MORE_HINT = (
    " The person wants more of your last answer: carry on from where it stopped with what comes next, "
    "without repeating anything you already said."
)


@dataclass(frozen=True)
class LastAnswer:
    """The answer "tell me more" carries on."""

    ask: str
    """What the person asked."""
    said: str
    """Everything said in answer so far (the first answer and each continuation)."""
    sentences: int
    """The budget a continuation gets: the long one once the person asked for the long version."""


class Answers:
    """The session's last spoken answer, and carrying it on when the person asks for more."""

    def __init__(self, tools: Tools, cfg: AnswerConfig) -> None:
        self.tools = tools
        self.cfg = cfg
        self.last: LastAnswer | None = None

    def more(self, command: Command | None) -> Kind | None:
        """MORE or LONG_VERSION when the person asked for more (of the last answer), else None."""
        if command is None or command.kind not in (Kind.MORE, Kind.LONG_VERSION):
            return None
        return command.kind

    def act(
        self, said: str, intent: Intent, model: str, history: list[Message], on_token: OnToken, more: Kind | None
    ) -> ActionResult:
        """Run one intent (Tools.run), or carry the last answer on; a chat answer becomes the last answer."""
        if more is not None and self.last is None:
            return ActionResult(intent.action, Status.ANSWERED, "", NOTHING_YET_REPLY)
        if more is not None and self.last is not None:
            try:
                done, self.last = carry_on(self.tools, self.last, more, said, history, self.cfg, model, on_token)
            except LLMError as e:
                return ActionResult(intent.action, Status.FAILED, "", str(e), llm_failed=True)
            return done
        done = self.tools.run(intent, history, model, on_token=on_token)
        if intent.action is Action.GENERAL_CHAT and done.status is Status.ANSWERED:
            self.last = LastAnswer(said, done.say.removesuffix(LOOP_NOTE).strip(), self.cfg.sentences)
        return done

    def heard(self, results: list[ActionResult], interrupted: bool, spoken: str) -> None:
        """After a turn: an answer the person talked over goes on from what they really heard."""
        if interrupted and self.last is not None and any(r.action is Action.GENERAL_CHAT for r in results):
            self.last = dataclasses.replace(self.last, said=spoken.removesuffix(" …"))


def carry_on(
    tools: Tools,
    last: LastAnswer,
    kind: Kind,
    said_now: str,
    history: list[Message],
    answer: AnswerConfig,
    model: str,
    on_token: OnToken | None,
) -> tuple[ActionResult, LastAnswer]:
    """Go on with the last answer; returns the new part and the updated thread.

    The model is handed its own answer so far as the start of its reply and writes on from the last word
    (Ollama and llama.cpp continue a final assistant message): as it is, which suits an answer the budget
    cut off, then with "Also," added, which gets a small model past an answer it had finished. If neither
    says anything new (or the question was folded out of the history), it is asked as a new turn, and
    once more at a higher temperature before giving up.
    """
    sentences = answer.long_sentences if kind is Kind.LONG_VERSION else last.sentences
    system: list[Message] = [{"role": "system", "content": chat_prompt(sentences)}]
    attempts: list[tuple[list[Message], str, float]] = []
    thread = _thread(history, last)
    if thread is not None:
        *before, answer_so_far = thread
        attempts.append(([*system, *thread], "", ANSWER_TEMPERATURE))
        also = {"role": "assistant", "content": f"{answer_so_far['content']} {ALSO}"}
        attempts.append(([*system, *before, also], ALSO, ANSWER_TEMPERATURE))
    hint: list[Message] = [{"role": "system", "content": chat_prompt(sentences) + MORE_HINT}]
    asked = [*hint, *history, {"role": "user", "content": said_now}]
    attempts += [(asked, "", ANSWER_TEMPERATURE), (asked, "", BOLDER)]
    for messages, lead, temperature in attempts:
        done = tools.answer_with(messages, sentences, on_token, model, last.said, lead, temperature)
        if done is not None and done.say != LOOP_NOTE:  # a loop before anything new was said: try the next way
            break
    else:
        done = ActionResult(Action.GENERAL_CHAT, Status.ANSWERED, "", NOTHING_MORE_REPLY, cut=Cut.DONE)
        return done, last
    new = done.say.removesuffix(LOOP_NOTE).strip() if done.cut is Cut.LOOP else done.say
    return done, LastAnswer(last.ask, f"{last.said} {new}".strip(), sentences)


def _thread(history: list[Message], last: LastAnswer) -> list[Message] | None:
    """The history up to the question, then everything said in answer as one unfinished reply."""
    for i in range(len(history) - 1, -1, -1):
        if history[i]["role"] == "user" and history[i]["content"] == last.ask:
            return [*history[: i + 1], {"role": "assistant", "content": last.said}]
    return None


def speak_result(stream: SpeechStream, done: ActionResult) -> None:
    """Finish speaking one action's reply: a streamed answer is flushed (a looping one loses its unfinished
    sentence and says so instead); anything else is spoken whole."""
    if done.streamed and done.cut is Cut.LOOP:
        stream.drop_unfinished()
        stream.say(LOOP_NOTE)
    elif done.streamed:
        stream.flush()
    elif done.say:
        stream.say(done.say)
