#!/usr/bin/env bash
# The README's walk-through, run against a fresh server with the requests in docs/examples/, every
# answer checked: refund only through to the refund paid and the order REFUNDED; return and refund
# with a service fee through to the order RETURNED. Exits non-zero at the first answer that is not
# what the README says. Needs a debug or release build (swift build) and python3.
#
#   scripts/walkthrough.sh [BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$(swift build --show-bin-path)}
examples=docs/examples
data=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-walk.XXXXXX")
log="$data/server.log"
"$bin/aftersaled" --listen 127.0.0.1:0 --data-dir "$data" --log-level warning >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "aftersaled ready" "$log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
[ -n "$port" ] || { cat "$log"; echo "walkthrough: the server did not start" >&2; exit 1; }
export AFTERSALE_SERVER="127.0.0.1:$port"
# The server made a development key pair in its data directory; --as mints tokens with it.
export AFTERSALE_DATA_DIR="$data"
CTL="$bin/aftersalectl"
SYS="--as system:order-system"
BUYER="--as buyer:b-1"
MERCHANT="--as merchant:s-1"
WORKER="--as system:pay-worker-1"

step() { printf '\n== %s\n' "$*"; }
# check JSON EXPRESSION...: each Python expression over `r` (the answer) must hold.
check() {
  local json=$1; shift
  python3 - "$json" "$@" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for expression in sys.argv[2:]:
    if not eval(expression, {"r": r}):
        sys.exit(f"walkthrough: {expression} does not hold for {json.dumps(r, ensure_ascii=False)}")
    print(f"   ok: {expression}")
PY
}
field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2], {"r": r}))' "$1" "$2"; }
now_ms=$(($(date +%s) * 1000))
day=86400000

step "0. Callers are authenticated: --as mints a token; a merely stated x-caller-role is refused"
if $CTL -H x-caller-role=system -H x-caller-id=order-system call aftersale.v1.OrderBridge/GetOrderAfterSaleState '{"orderId": "o-1"}' 2>"$data/refused.txt"; then
  echo "walkthrough: a stated identity was accepted" >&2; exit 1
fi
grep -q UNAUTHENTICATED "$data/refused.txt" || { cat "$data/refused.txt" >&2; exit 1; }
echo "   ok: x-caller-role without a token is UNAUTHENTICATED"

step "1. Refund only: the order system sends a paid order"
answer=$($CTL $SYS call aftersale.v1.OrderBridge/UpsertOrder - <"$examples/order.json")
check "$answer" 'r["outcome"] == "UPSERT_ORDER_OUTCOME_APPLIED"'

step "   the buyer applies for a refund of the whole order: approved at once"
answer=$($CTL $BUYER -H idempotency-key=walk-1 call aftersale.v1.AfterSaleService/CreateAfterSale - <"$examples/create-refund-only.json")
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_PENDING_REFUND"' \
  'r["afterSale"]["approvedAmount"]["amountMinor"] == "4780"' 'r["afterSale"]["shippingRefund"]["amountMinor"] == "800"'
case1=$(field "$answer" 'r["afterSale"]["caseNumber"]')
again=$($CTL $BUYER -H idempotency-key=walk-1 call aftersale.v1.AfterSaleService/CreateAfterSale - <"$examples/create-refund-only.json")
check "$again" "r[\"afterSale\"][\"caseNumber\"] == \"$case1\"" 'r["replayed"] == True'

step "   a payment worker claims the refund, pays it and reports the success"
claim=$($CTL $WORKER call aftersale.v1.RefundBridge/ClaimRefunds - <"$examples/claim.json")
check "$claim" 'len(r["leases"]) == 1' 'r["leases"][0]["refund"]["amount"]["amountMinor"] == "4780"'
report=$(python3 -c 'import json,sys; l=json.loads(sys.argv[1])["leases"][0]; print(json.dumps({"refundId": l["refund"]["refundId"], "leaseToken": l["leaseToken"], "outcome": "REFUND_OUTCOME_SUCCEEDED", "channelTransactionId": "ch-walk-1", "refundedAmount": l["refund"]["amount"]}))' "$claim")
answer=$($CTL $WORKER call aftersale.v1.RefundBridge/ReportRefundResult "$report")
check "$answer" 'r["disposition"] == "REFUND_REPORT_DISPOSITION_APPLIED"' 'r["refund"]["status"] == "REFUND_STATUS_SUCCEEDED"'

step "   the order's after-sale state: refunded in whole, shipping included"
answer=$($CTL $SYS call aftersale.v1.OrderBridge/GetOrderAfterSaleState '{"orderId": "o-1"}')
check "$answer" 'r["state"]["state"] == "ORDER_AFTER_SALE_STATE_REFUNDED"' 'r["state"]["scope"] == "AFTER_SALE_SCOPE_WHOLE"' \
  'r["state"]["refundedTotal"]["amountMinor"] == "4780"'
answer=$($CTL $BUYER call aftersale.v1.AfterSaleService/GetAfterSale "{\"caseNumber\": \"$case1\"}")
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_COMPLETED"' 'r["afterSale"]["refundedAmount"]["amountMinor"] == "4780"'

step "2. Return and refund with a fee: a delivered order"
sed -e "s/\"NOW_MINUS_3D\"/\"$((now_ms - 3 * day))\"/g" -e "s/\"NOW_MINUS_2D\"/\"$((now_ms - 2 * day))\"/g" \
    -e "s/\"NOW_MINUS_1D\"/\"$((now_ms - day))\"/g" "$examples/order-delivered.json" >"$data/order-delivered.json"
answer=$($CTL $SYS call aftersale.v1.OrderBridge/UpsertOrder - <"$data/order-delivered.json")
check "$answer" 'r["outcome"] == "UPSERT_ORDER_OUTCOME_APPLIED"'

step "   the buyer applies; the merchant approves with a 10.00 fee"
answer=$($CTL $BUYER -H idempotency-key=walk-2 call aftersale.v1.AfterSaleService/CreateAfterSale - <"$examples/create-return.json")
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_PENDING_REVIEW"' 'r["afterSale"]["computedAmount"]["amountMinor"] == "19900"'
case2=$(field "$answer" 'r["afterSale"]["caseNumber"]')
answer=$(sed "s/CASE/$case2/" "$examples/approve-with-fee.json" | $CTL $MERCHANT call aftersale.v1.AfterSaleService/ReviewAfterSale -)
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_AWAITING_RETURN"' 'r["afterSale"]["approvedAmount"]["amountMinor"] == "18900"'

step "   the buyer ships the goods back; the merchant confirms receipt, which requests the refund"
answer=$(sed "s/CASE/$case2/" "$examples/ship-return.json" | $CTL $BUYER call aftersale.v1.AfterSaleService/SubmitReturnShipment -)
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_RETURN_SHIPPED"'
answer=$(sed "s/CASE/$case2/" "$examples/confirm-received.json" | $CTL $MERCHANT call aftersale.v1.AfterSaleService/ConfirmReturnReceived -)
check "$answer" 'r["afterSale"]["status"] == "CASE_STATUS_PENDING_REFUND"' 'r["afterSale"]["refund"]["amount"]["amountMinor"] == "18900"'

step "   a worker pays the refund; the order shows RETURNED"
claim=$($CTL $WORKER call aftersale.v1.RefundBridge/ClaimRefunds - <"$examples/claim.json")
check "$claim" 'len(r["leases"]) == 1' 'r["leases"][0]["refund"]["amount"]["amountMinor"] == "18900"'
report=$(python3 -c 'import json,sys; l=json.loads(sys.argv[1])["leases"][0]; print(json.dumps({"refundId": l["refund"]["refundId"], "leaseToken": l["leaseToken"], "outcome": "REFUND_OUTCOME_SUCCEEDED", "channelTransactionId": "ch-walk-2", "refundedAmount": l["refund"]["amount"]}))' "$claim")
answer=$($CTL $WORKER call aftersale.v1.RefundBridge/ReportRefundResult "$report")
check "$answer" 'r["refund"]["status"] == "REFUND_STATUS_SUCCEEDED"'
answer=$($CTL $SYS call aftersale.v1.OrderBridge/GetOrderAfterSaleState '{"orderId": "o-2"}')
check "$answer" 'r["state"]["state"] == "ORDER_AFTER_SALE_STATE_RETURNED"' 'r["state"]["refundedTotal"]["amountMinor"] == "18900"'

step "The feed tells the other systems: every event, in order"
answer=$($CTL $SYS call aftersale.v1.AfterSaleService/Subscribe '{"consumerName": "walkthrough", "fromCursor": "0", "stopAtHead": true}' \
  | python3 -c 'import json,sys; d=json.JSONDecoder(); t=sys.stdin.read(); i=0; out=[]
while True:
    while i < len(t) and t[i].isspace(): i += 1
    if i >= len(t): break
    o, i = d.raw_decode(t, i); out.append(o["eventType"])
print(json.dumps(out))')
check "{\"types\": $answer}" 'r["types"][:4] == ["EVENT_TYPE_CASE_CREATED", "EVENT_TYPE_CASE_APPROVED", "EVENT_TYPE_REFUND_REQUESTED", "EVENT_TYPE_ORDER_AFTER_SALE_STATE_CHANGED"]' \
  '"EVENT_TYPE_REFUND_SUCCEEDED" in r["types"]' '"EVENT_TYPE_RETURN_RECEIVED" in r["types"]'

printf '\nwalkthrough: every answer as the README says\n'
