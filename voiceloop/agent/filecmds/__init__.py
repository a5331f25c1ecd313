"""The file commands people expect of a file agent: list_files, read_file, undo.

Intents as data: each request shape is a hassil sentence template in sentences/<intent>.yaml (words the
three share in sentences/_shared.yaml); matcher.py matches a part of a request against them, and the
intent's own module (list_files.py, read_file.py, undo.py) grounds the slots and carries it out. The model
never chooses these actions: a wrong guess at "undo" would take back a write, so only a sentence that
fits a template exactly does.
"""
