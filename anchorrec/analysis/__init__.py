"""anchorrec.analysis"""
