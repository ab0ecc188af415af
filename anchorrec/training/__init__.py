"""anchorrec.training"""
