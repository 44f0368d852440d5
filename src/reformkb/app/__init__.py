"""App wing: one module per Streamlit page, the shared pieces (common) and display helpers."""
