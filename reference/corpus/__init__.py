"""A corpus of realistic student notebooks whose rubric truth is known by construction."""
