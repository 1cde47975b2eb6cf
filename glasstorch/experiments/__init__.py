"""glasstorch.experiments"""
