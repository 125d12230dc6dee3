"""Notebook tools: refresh stored outputs, generate exercises/, write navigation, benchmark."""
