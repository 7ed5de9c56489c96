#!/usr/bin/env bash
# CI leg: the Postman collection with newman, three times, each server on a free loopback port.
#
#   bash scripts/ci_newman.sh [USED_DB_DIR]
#
# 1. and 2. twice against one fresh server (the second run finds the first one's leftovers:
#    there must be none that matter);
# 3. against a used database: USED_DB_DIR as `scripts/readme_check.py --keep USED_DB_DIR` left it
#    (seed.py's data and everything the README's commands changed; made here when not given).
#    Before the run a country and a currency are added (as a user would), and after it the
#    lists of countries and currencies must be exactly what they were, those two included.
#
# newman comes from PATH, or is installed with npm into a temporary prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci_lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/openbank-newman.XXXXXX")
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

if command -v newman >/dev/null 2>&1; then
    newman=(newman)
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "== installing Node.js and npm (distribution packages)"
        as_root=()
        if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
            as_root=(sudo)
        fi
        "${as_root[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq nodejs npm >/dev/null
    fi
    echo "== installing newman (npm, into a temporary prefix)"
    npm install --silent --no-audit --no-fund --prefix "$work/npm" newman >/dev/null
    newman=("$work/npm/node_modules/.bin/newman")
fi
echo "newman $("${newman[@]}" --version)"

summaries=()

# run_newman NAME BASE_URL [newman options...]: one run; its figures go into `summaries`.
run_newman() {
    local name="$1" base="$2" status=0
    shift 2
    "${newman[@]}" run OpenBankAPI.postman_collection.json --env-var "baseUrl=$base" "$@" \
        --reporters cli,json --reporter-json-export "$work/$name.json" \
        --reporter-cli-no-success-assertions >"$work/$name.log" 2>&1 || status=$?
    local figures
    figures=$(python3 - "$work/$name.json" <<'EOF'
import json, sys
stats = json.load(open(sys.argv[1]))["run"]["stats"]
print(", ".join(f"{stats[k]['total']} {k} ({stats[k]['failed']} failed)"
                for k in ("requests", "assertions")))
EOF
    ) || figures="no report"
    summaries+=("$(printf '%-34s %s' "$name:" "$figures")")
    echo "$name: $figures"
    if [ "$status" -ne 0 ]; then
        cat "$work/$name.log"
        echo "newman failed ($name)"
        return 1
    fi
}

# --- 1 and 2: a fresh server ------------------------------------------------------------------
port=$(free_port)
echo "== newman: fresh server on 127.0.0.1:$port"
start_server "$work/fresh" "$port"
run_newman "fresh database, run 1" "http://127.0.0.1:$port"
run_newman "fresh database, run 2" "http://127.0.0.1:$port"
stop_server

# --- 3: a database in use -----------------------------------------------------------------------
used="${1:-}"
if [ -z "$used" ]; then
    used="$work/used"
    echo "== the README's commands, to make a used database"
    uv run python scripts/readme_check.py --keep "$used"
fi
port=$(free_port)
base="http://127.0.0.1:$port"
echo "== newman: seeded database changed by the README's commands, on 127.0.0.1:$port"
start_server "$used" "$port"

json_field() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
codes() {  # the sorted codes of a public list: codes countries iso_code
    curl -sf "$base/$1" | python3 -c 'import json, sys; print(" ".join(sorted(x[sys.argv[1]] for x in json.load(sys.stdin))))' "$2"
}
admin=$(curl -sf -X POST "$base/auth/logon" \
    -d 'username=admin&password=change-me-admin-password' | json_field access_token)
# What a user added: a country and a currency that the collection might otherwise pick
# (201, or 409 when an earlier run of this script added them already).
add() {  # add PATH JSON
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/$1" \
        -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "$2")
    case "$code" in 201 | 409) ;; *) echo "POST /$1 answered $code"; exit 1 ;; esac
}
add admin/countries '{"iso_code": "PT"}'
add admin/currencies '{"code": "SEK"}'
countries_before=$(codes countries iso_code)
currencies_before=$(codes currencies code)
echo "before: countries $countries_before; currencies $currencies_before"

run_newman "used database" "$base"

countries_after=$(codes countries iso_code)
currencies_after=$(codes currencies code)
echo "after:  countries $countries_after; currencies $currencies_after"
if [ "$countries_after" != "$countries_before" ] || [ "$currencies_after" != "$currencies_before" ]; then
    echo "the collection changed the user's reference data"
    exit 1
fi
case " $countries_after " in *" PT "*) ;; *) echo "the user's country PT is gone"; exit 1 ;; esac
case " $currencies_after " in *" SEK "*) ;; *) echo "the user's currency SEK is gone"; exit 1 ;; esac
stop_server

echo "== newman summary"
printf '%s\n' "${summaries[@]}"
echo "used database: countries and currencies as before the run, the user's PT and SEK included"
