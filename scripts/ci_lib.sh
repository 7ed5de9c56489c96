# Shared by the CI scripts (source it; it needs bash): a free loopback port, and an API server
# started in the background on a database of its own and stopped again.
#
#   start_server DIR PORT      # SQLite database and signing key in DIR, log in DIR/server.log
#   stop_server                # the server started last
#
# The server gets the bootstrap admin of the README and the Postman collection
# (ADMIN_USERNAME=admin, ADMIN_PASSWORD=change-me-admin-password) unless the caller set them,
# and the cheapest bcrypt cost, so that CI spends its time on requests, not on hashing.

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_pid=""

start_server() {
    local dir="$1" port="$2" tries=0
    mkdir -p "$dir"
    DATABASE_URL="sqlite:///$dir/openbank.db" \
        SECRET_KEY_FILE="$dir/openbank_secret" \
        ADMIN_USERNAME="${ADMIN_USERNAME:-admin}" \
        ADMIN_PASSWORD="${ADMIN_PASSWORD:-change-me-admin-password}" \
        BCRYPT_ROUNDS="${BCRYPT_ROUNDS:-4}" \
        uv run --quiet uvicorn app.main:app --host 127.0.0.1 --port "$port" \
        >"$dir/server.log" 2>&1 &
    server_pid=$!
    until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ! kill -0 "$server_pid" 2>/dev/null || [ "$tries" -gt 240 ]; then
            echo "the server on port $port did not start:" >&2
            cat "$dir/server.log" >&2
            stop_server
            return 1
        fi
        sleep 0.25
    done
}

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
