"""The pipeline's logic, shared by noxfile.py and tasks.py.

Entry files stay thin: they call functions here. Pure decisions (which
versions, which arguments) are separated from effects (running processes).
"""
