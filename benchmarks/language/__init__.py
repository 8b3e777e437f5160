"""The instruction corpus: sentences with the goals a person means, and the canonical comparison."""
