"""The tools the model can call. One tool per module; its description in a sibling .md."""
