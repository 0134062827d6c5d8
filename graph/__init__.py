"""The support workflow: state, context, policy, nodes and the graph wiring."""
