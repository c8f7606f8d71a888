"""Records across documents and years: matching, the canonical register, review queue, export."""
