"""Custom chat templates a model config can ask for by name (``chat_template: NAME``).

``qwen3_reasoning`` follows the Qwen3-4B-Base GRPO recipe: the system text then EOS, user turns
raw, assistant turns followed by EOS, and the generation prompt pre-filled with the
reasoning-start tag so a base model starts inside its working-out section.
"""

from __future__ import annotations

REASONING_START = "<start_working_out>"
REASONING_END = "<end_working_out>"
SOLUTION_START = "<SOLUTION>"
SOLUTION_END = "</SOLUTION>"
QWEN3_REASONING_SYSTEM = (
    "You are given a problem.\nThink about the problem and provide your working out.\n"
    f"Place it between {REASONING_START} and {REASONING_END}.\n"
    f"Then, provide your solution between {SOLUTION_START}{SOLUTION_END}"
)

_QWEN3_REASONING = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{{ messages[0]['content'] + eos_token }}"
    "{%- set rest = messages[1:] -%}"
    "{%- else -%}"
    "{{ default_system + eos_token }}"
    "{%- set rest = messages -%}"
    "{%- endif -%}"
    "{%- for message in rest -%}"
    "{%- if message['role'] == 'user' -%}{{ message['content'] }}"
    "{%- elif message['role'] == 'assistant' -%}{{ message['content'] + eos_token }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}" + REASONING_START + "{%- endif -%}"
)

TEMPLATES: dict[str, str] = {
    # default_system is bound as a Jinja variable so the template stays one readable string.
    "qwen3_reasoning": "{%- set default_system = " + repr(QWEN3_REASONING_SYSTEM) + " -%}"
    + _QWEN3_REASONING,
}


def chat_template(name: str) -> str:
    if name not in TEMPLATES:
        raise ValueError(f"unknown chat template {name!r}; known: {', '.join(sorted(TEMPLATES))}")
    return TEMPLATES[name]
