"""One module per tab of the gallery: plain handler functions first, then ``create_demo()``."""
