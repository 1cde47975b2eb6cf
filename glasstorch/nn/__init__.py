"""glasstorch.nn"""
