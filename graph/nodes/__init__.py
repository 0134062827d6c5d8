"""One module per node of the support workflow."""
