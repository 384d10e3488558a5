"""Custom chat templates a model config can ask for by name (``chat_template: NAME``).

``qwen3_reasoning`` is the Qwen3-4B-Base GRPO recipe's template, defined beside its output
contract (:func:`strategy_gym.text_tasks.contracts.qwen3_chat_template`).

``chatml_tools`` is ChatML (``<|im_start|>role ... <|im_end|>``, SmolLM2's and Qwen's wire format)
with tool calling for multi-turn play: the tools' JSON schemas in the system turn, assistant
calls as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, results as ``tool`` turns.
SmolLM2's own template renders neither tools nor tool calls, and TRL refuses such a template.
``RESPONSE_TEMPLATES`` holds the matching parser spec (transformers' ``response_template``) so
the trainer can read tool calls back out of generated text.
"""

from __future__ import annotations

from typing import Any

from strategy_gym.text_tasks.contracts import qwen3_chat_template

TOOLS_SYSTEM = "You are a helpful assistant."
TOOLS_PREAMBLE = (
    "\n\nYou can call these tools:\n<tools>\n"
)
TOOLS_CALL_FORMAT = (
    "</tools>\n\nTo call a tool, write a JSON object with its name and arguments inside "
    "<tool_call></tool_call> tags, e.g.\n<tool_call>\n"
    '{"name": "tool_name", "arguments": {"argument_name": "value"}}\n</tool_call>'
)

# Every message renders on its own, in order: the template is prefix-preserving (a
# conversation's rendering starts with the rendering of any of its prefixes), which TRL's
# multi-turn loop relies on when it appends tool results to a generated turn.
_CHATML_TOOLS = (
    "{%- macro text_of(c) -%}{%- if c is string -%}{{ c }}{%- elif c -%}"
    "{%- for p in c if p['type'] == 'text' -%}{{ p['text'] }}{%- endfor -%}"
    "{%- endif -%}{%- endmacro -%}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = text_of(messages[0]['content']) -%}{%- set rest = messages[1:] -%}"
    "{%- else -%}{%- set system = default_system -%}{%- set rest = messages -%}{%- endif -%}"
    "{%- if tools or system -%}"
    "{{ '<|im_start|>system\n' + system }}"
    "{%- if tools -%}{{ preamble }}"
    "{%- for tool in tools -%}{{ (tool if tool['function'] is defined else "
    "{'type': 'function', 'function': tool}) | tojson }}{{ '\n' }}{%- endfor -%}"
    "{{ call_format }}{%- endif -%}"
    "{{ '<|im_end|>\n' }}"
    "{%- endif -%}"
    "{%- for message in rest -%}"
    "{{ '<|im_start|>' + message['role'] + '\n' + text_of(message['content']) }}"
    "{%- if message['role'] == 'assistant' and message['tool_calls'] -%}"
    "{%- for call in message['tool_calls'] -%}"
    "{%- set call = call['function'] if call['function'] is defined else call -%}"
    "{%- if text_of(message['content']) or not loop.first -%}{{ '\n' }}{%- endif -%}"
    "{{ '<tool_call>\n{\"name\": \"' + call['name'] + '\", \"arguments\": ' }}"
    "{{- call['arguments'] if call['arguments'] is string else call['arguments'] | tojson -}}"
    "{{ '}\n</tool_call>' }}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{ '<|im_end|>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}"
)

TEMPLATES: dict[str, str] = {
    # The Qwen3 recipe's template has one definition, beside its output contract.
    "qwen3_reasoning": qwen3_chat_template(),
    # default_system is bound as a Jinja variable so the template stays one readable string.
    "chatml_tools": "{%- set default_system = " + repr(TOOLS_SYSTEM) + " -%}"
    "{%- set preamble = " + repr(TOOLS_PREAMBLE) + " -%}"
    "{%- set call_format = " + repr(TOOLS_CALL_FORMAT) + " -%}" + _CHATML_TOOLS,
}

# transformers' response-template spec for reading a generated turn back into a message:
# tool calls are the JSON inside <tool_call> tags, the rest up to <|im_end|> is content.
RESPONSE_TEMPLATES: dict[str, dict] = {
    "chatml_tools": {
        "defaults": {"role": "assistant"},
        "start_anchor": "<|im_start|>assistant\n",
        "fields": {
            "tool_calls": {"open": "<tool_call>", "close_pattern": r"</tool_call>\s*",
                           "repeats": True, "content": "json",
                           "transform": {"type": "function", "function": "{content}"}},
            "content": {"close_pattern": r"<\|im_end\|>\s*", "content": "text"},
        },
    },
}


def chat_template(name: str) -> str:
    if name not in TEMPLATES:
        raise ValueError(f"unknown chat template {name!r}; known: {', '.join(sorted(TEMPLATES))}")
    return TEMPLATES[name]


def install_tool_template(tokenizer: Any, name: str = "chatml_tools") -> None:
    """Give ``tokenizer`` the named tool-calling template and its response parser.

    Args:
        tokenizer: A tokenizer (or a processor: its inner tokenizer gets the parser).
        name: A key of ``TEMPLATES`` that also has a ``RESPONSE_TEMPLATES`` entry.
    """
    if name not in RESPONSE_TEMPLATES:
        raise ValueError(f"chat template {name!r} has no tool-call parser; known: "
                         f"{', '.join(sorted(RESPONSE_TEMPLATES))}")
    text = getattr(tokenizer, "tokenizer", tokenizer)
    tokenizer.chat_template = text.chat_template = TEMPLATES[name]
    text.response_template = RESPONSE_TEMPLATES[name]
