"""Speaking: TTS engines and the sentence-by-sentence speech stream."""
