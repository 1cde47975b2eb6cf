"""glasstorch.utils.data"""
