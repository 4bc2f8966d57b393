"""Audience Q&A's pages: the phones' "Ask" panel (panel.py, phones.py) and the presenter's
moderation queue and projector board (moderation.py). The rules are core/rules/qna.py's,
through core/services/qna.py; the JSON API is webapp/api/qna.py."""
