"""anchorrec.evaluation"""
