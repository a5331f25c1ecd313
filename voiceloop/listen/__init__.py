"""The always-listening loop: early start, barge-in, the live view."""
