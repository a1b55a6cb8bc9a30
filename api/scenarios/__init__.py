"""What-if planning in the service: scenario schemas, the scenario service, its runs and their
store.
"""
