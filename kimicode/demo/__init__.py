"""`kimicode demo`: a real swarm on a sample project, against the bundled replay model."""
