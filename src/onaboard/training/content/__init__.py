"""The course's Markdown modules (read by ``onaboard.training.course.load_course``)."""
