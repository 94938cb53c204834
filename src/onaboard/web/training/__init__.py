"""Training for injectors: course, quizzes, site trainer, graded cases, live sessions, certificates."""
