"""anchorrec.models"""
