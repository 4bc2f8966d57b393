"""The formats beyond a poll: audience Q&A (qna.py) and the quiz (quiz.py), as pure rules."""
