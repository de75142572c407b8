"""Who may write: API tokens for API clients, and signed-in users with CSRF for the browser.

Reads stay public. A domain app marks a view with `access.decorators.write_access`;
this app imports neither the project package nor any other app.
"""
