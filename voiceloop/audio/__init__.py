"""Audio in and out: formats, microphone sources, the player, devices, VAD, smart turn."""
