"""The model's part: one part of a request -> one intent, as JSON checked against a pydantic schema."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from voiceloop.agent.intents import MODEL_ACTIONS, IntentParseError, strip_fences

_CHOICES: list[JsonValue] = [a.value for a in MODEL_ACTIONS]


class ModelIntent(BaseModel):
    """What the model may answer: one intent, four string fields (the schema it is held to is made from this)."""

    # every field is in the schema's "required": a grammar built from it then always writes all four, in order
    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, json_schema_serialization_defaults_required=True
    )

    action: str = Field(json_schema_extra={"enum": _CHOICES})
    filename: str = ""
    content: str = ""
    request: str = ""

    @field_validator("action")
    @classmethod
    def _one_of_ours(cls, action: str) -> str:
        if action not in _CHOICES:
            raise ValueError(f"must be one of {', '.join(map(str, _CHOICES))}")
        return action


SCHEMA: dict[str, Any] = ModelIntent.model_json_schema(mode="serialization")
"""The JSON schema the server constrains the answer to (Ollama `format`, OpenAI `response_format`)."""

SYSTEM_PROMPT = """You turn ONE spoken request into ONE JSON intent. Actions:
- create_file: make a text file. filename = the file name said. content = words the person dictated for it, else "".
  request = what should be in it.
- write_code: write a new source code file. filename = the file name said; request = what the code must do.
- edit_file: change an existing file. filename = that file ("it" = the first of "Files so far"). request = the change.
- summarize: summarize text. content = the text said, or filename = the file to summarize.
- general_chat: anything else: questions, greetings, jokes, opinions. request = the question.
Never invent a file name. Answer only with JSON."""

EXAMPLES: list[tuple[str, str, str]] = [
    (
        "",
        "put together a quick packing list for a beach trip in beach.md",
        '{"action":"create_file","filename":"beach.md","content":"","request":"a quick packing list for a beach trip"}',
    ),
    (
        "",
        "i need a script in fizz.py that does fizzbuzz up to fifty",
        '{"action":"write_code","filename":"fizz.py","content":"","request":"fizzbuzz up to fifty"}',
    ),
    (
        "fizz.py (write_code, 09:12)",
        "the output should go to a file instead",
        '{"action":"edit_file","filename":"fizz.py","content":"","request":"the output should go to a file instead"}',
    ),
    (
        "",
        "give me the short version of this: the train is late again and the meeting moved to noon",
        '{"action":"summarize","filename":"","content":"the train is late again and the meeting moved to noon",'
        '"request":"summarize"}',
    ),
    (
        "",
        "good morning, I think I need a coffee first",
        '{"action":"general_chat","filename":"","content":"","request":"good morning, I think I need a coffee first"}',
    ),
]
"""(files so far, request, answer): few-shot turns; none of their words may leak into a real answer
(grounding drops anything that was not said)."""


def user_message(text: str, files: str = "") -> str:
    """The part as the model sees it, with the session's files so far (newest first)."""
    return f"Files so far: {files or 'none'}\nRequest: {text}"


def prompt_messages(text: str, files: str = "") -> list[dict[str, str]]:
    """System rules, the examples as earlier chat turns (small models copy those best), then the part."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for ex_files, ex_text, ex_answer in EXAMPLES:
        messages += [
            {"role": "user", "content": user_message(ex_text, ex_files)},
            {"role": "assistant", "content": ex_answer},
        ]
    return [*messages, {"role": "user", "content": user_message(text, files)}]


def parse_answer(text: str) -> ModelIntent:
    """The model's answer validated (a fence, or {"intents": [..]} from a chatty model, are accepted);
    IntentParseError says what is wrong, for the retry prompt."""
    try:
        data = json.loads(strip_fences(text))
    except json.JSONDecodeError as e:
        raise IntentParseError(f"not valid JSON ({e.msg} at char {e.pos})") from e
    if isinstance(data, dict) and isinstance(data.get("intents"), list) and data["intents"]:
        data = data["intents"][0]
    try:
        return ModelIntent.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise IntentParseError(f"{where}: {first['msg']}") from e
