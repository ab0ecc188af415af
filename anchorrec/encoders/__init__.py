"""anchorrec.encoders"""
