"""The live results every page draws: the panel (panel.py) and each type's view (views.py)."""
