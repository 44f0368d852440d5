"""Ingest wing: files become text (documents), text becomes draft records (bulletin), drafts are
completed with places, topics, metrics and titles (enrich), and the pipeline stores them."""
