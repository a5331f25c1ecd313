"""Language models: the LLMClient protocol, Ollama, OpenAI-compatible, embedded llama.cpp, cache."""
