"""Reference strategies as plain source files (``*.py``), read as text and run through the sandbox
exactly like model-written code. They are data, not imported modules."""
