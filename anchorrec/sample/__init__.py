"""anchorrec.sample"""
