"""Understanding and acting: intents, tools, the sandbox, confirmation, memory, one turn."""
