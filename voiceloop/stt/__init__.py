"""Speech to text: Whisper engines (faster-whisper, openai-whisper), Moonshine, model lookup."""
