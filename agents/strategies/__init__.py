"""Reference strategies as plain source files (``*.py``), read as text and run through the sandbox
exactly like model-written code. They are data, not imported modules. Each file is a whole
strategy, self-contained as model code must be (helpers inside ``def strategy``), so the files
repeat their board-reading helpers on purpose."""
