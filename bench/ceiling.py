"""The ceiling: a bare FastAPI app with nothing but `GET /health`, served by the same uvicorn as
the bank, so `bench.http` can give each endpoint's throughput as a share of it."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
