"""Search wing: segmentation and glossary for the keyword side, embedding and the vector index for
the semantic side, and fusion of the two into ranked hits."""
