"""The 2048 prompt: the notebook's wording, parameterised by size and target."""

import pytest

from strategy_gym.text_tasks.prompts_2048 import prompt_messages, strategy_prompt

NOTEBOOK_PROMPT = """Create a new short 2048 strategy using only native Python code.
You are given a list of list of numbers for the current board state.
Output one action for "W", "A", "S", "D" on what is the optimal next step.
Output your new short function in backticks using the format below:
```python
def strategy(board):
    return "W" # Example
```
All helper functions should be inside def strategy. Only output the short function `strategy`."""


def test_notebook_exact_style_reproduces_the_notebook_prompt():
    assert strategy_prompt(6, 2048, "notebook_exact") == NOTEBOOK_PROMPT


def test_default_style_names_size_and_target():
    text = strategy_prompt(5, 512)
    assert "5x5 board" in text and "512 tile" in text
    assert text.splitlines()[0] == NOTEBOOK_PROMPT.splitlines()[0]
    assert text.endswith("Only output the short function `strategy`.")


def test_messages_with_and_without_system():
    assert [m["role"] for m in prompt_messages(4, 256)] == ["user"]
    with_system = prompt_messages(4, 256, system="Be brief.")
    assert with_system[0] == {"role": "system", "content": "Be brief."}


@pytest.mark.parametrize("size, target, style", [(1, 256, "notebook"), (4, 300, "notebook"), (4, 256, "x")])
def test_bad_arguments(size, target, style):
    with pytest.raises(ValueError):
        strategy_prompt(size, target, style)
