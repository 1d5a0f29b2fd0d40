"""The real rules of QBO's entity types, as named hooks the declarations in `entities.py` point at."""
