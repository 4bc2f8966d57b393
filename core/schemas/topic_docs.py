"""How the topic bodies (TopicIn, NewTopicIn) are documented in OpenAPI: one example
body per question type, the rules a body alone decides in JSON Schema, and `choices`
required only where those rules say (a body whose type takes none may leave it out).
"""

from __future__ import annotations

from core.rules.question_types import body_rules_schema

# One topic body per question type (the OpenAPI examples of TopicIn).
TOPIC_EXAMPLES = [
    {"title": "Tabs or spaces?", "choices": [{"description": "Tabs"},
                                             {"description": "Spaces"}]},
    {"title": "Pick up to two", "type": "multiple", "max_choices": 2,
     "choices": [{"description": d} for d in ("Go", "Rust", "Zig")]},
    {"title": "Rank the talks", "type": "ranking", "rank_top": 2,
     "choices": [{"description": d} for d in ("Keynote", "Panel", "Demo")]},
    {"title": "How was it?", "type": "rating", "scale_min": 1, "scale_max": 5},
    {"title": "Rate each talk", "type": "rating", "rate_each": True,
     "choices": [{"description": d} for d in ("Keynote", "Demo")]},
    {"title": "One word for this talk", "type": "text", "blocked_answers": ["boring"]},
    {"title": "Tug of war", "type": "game",
     "choices": [{"description": "Cats"}, {"description": "Dogs"}]},
]  # fmt: skip


def documented(new: bool):
    """The body's JSON Schema as documented: the examples, the rules a body alone
    decides, and `choices` required only by those rules (`_choices_left_out`)."""

    def document(schema: dict) -> None:
        schema["required"] = [name for name in schema.get("required", []) if name != "choices"]
        schema["examples"] = TOPIC_EXAMPLES
        schema["allOf"] = body_rules_schema(new=new)

    return document
