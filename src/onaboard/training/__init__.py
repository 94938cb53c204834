"""Training for injectors, taught from the clinic's own engine so the course can never disagree with the rules.

Pure Python, no Django: the course (Markdown files with front matter in ``content/``, read by ``course``), quizzes
whose answers and explanations the engine computes (``quiz``), the site trainer's scoring (``sites``), graded
synthetic cases (``cases``) and what a certificate needs (``certificate``). Every clinical number comes from
``onaboard.clinical``.
"""
