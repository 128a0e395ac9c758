"""Reading the student's figures as data: sample grids (tiles), history plots (curves).

Trusted code: it reads pixels only (PIL, numpy), never student code. Submodules:
``plots`` (a history plot image -> the curves drawn in it).
"""
