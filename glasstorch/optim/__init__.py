"""glasstorch.optim"""
