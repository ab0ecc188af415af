"""anchorrec.data"""
