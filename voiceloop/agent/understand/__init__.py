"""From what was said to intents: split, fast path, model, grounding, clarification."""
