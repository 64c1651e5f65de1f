"""Design-space exploration: sweep definitions, vectorised pricing over design points, executors, results store."""
