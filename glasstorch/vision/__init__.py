"""glasstorch.vision"""
