"""Files in: discovery, hashing, batch orchestration and the command line."""
