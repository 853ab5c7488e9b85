"""The HTTP API: FastAPI routers over the use cases, with accounts, roles and tenant isolation."""
