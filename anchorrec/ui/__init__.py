"""anchorrec.ui"""
