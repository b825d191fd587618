"""The web shell: FastAPI app (`app.create_app`), REST API (`api/`), server-rendered pages
(`pages/`), security (sessions, CSRF, rate limits, headers) and the one error envelope.

No clinical logic lives here: requests are parsed, the core is called, results rendered.
"""
