"""What puts numbers and figures into the book: glue (``report``), figures (``plots``), numbers that
carry their rounding tolerance (``checks``) and the measurement of those tolerances (``sensitivity``)."""
