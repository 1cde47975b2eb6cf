"""glasstorch.viz"""
