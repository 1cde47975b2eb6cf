"""glasstorch.datasets"""
