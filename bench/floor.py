"""The rules' floor: the bank's own app with one more route, `GET /bench/floor`, that does what
every authenticated request of the bank must do and nothing more. It takes the Bearer
credential, opens its session and unit of work in one worker-thread step, and reads the caller
afresh with their session (a logout or a deleted user refuses the token at once). Then it
answers `{"status": "ok"}`.

`bench.http` serves it beside the bank on the same database, so the benchmark shows two things
apart: what those rules cost (this route's share of the ceiling) and what a busy route adds on
top of them. The route comes first in the route table: what matching a path costs grows with the
routes before it, and the floor is what the rules cost at the least.
"""

from __future__ import annotations

from sqlmodel import Session

from app.api.deps import CredentialDep, EngineDep
from app.api.routing import in_worker_thread
from app.main import create_app

app = create_app()


@app.get("/bench/floor", include_in_schema=False)
async def floor(credential: CredentialDep, engine: EngineDep) -> dict[str, str]:
    def read(session: Session) -> dict[str, str]:
        credential.user(session)
        return {"status": "ok"}

    return await in_worker_thread(engine, read)


app.router.routes.insert(0, app.router.routes.pop())
