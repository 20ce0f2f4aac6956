#!/usr/bin/env bash
# Test a built dns image for real, by hand: start a container the way the
# harness does (a self-made CA and policy certificate copied in before
# start), apply plans with lab-dns-apply and look at the answers:
#   1. signed zone: A and TLSA answers carry the AD flag
#   2. unsigned zone: answers without AD
#   3. bogus zone (expired signatures): SERVFAIL
#   4. outside *.test: REFUSED (and unknown *.test: NXDOMAIN at once)
#   5. MTA-STS socketmap: enforce policy -> OK secure match=..., testing
#      policy / no policy -> NOTFOUND; after the policy file is removed and
#      the plan applied again -> NOTFOUND (the daemon's cache is gone)
#   6. how long lab-dns-apply takes (printed)
# Usage: docker/dns/selftest.sh IMAGE   (e.g. starttls-lab/dns:dev)
# Builds nothing; removes its container and files at the end.
set -euo pipefail
IMAGE=${1:?usage: selftest.sh IMAGE (e.g. starttls-lab/dns:dev)}
container=lab-dns-selftest-$$
work=$(mktemp -d)
failures=0

cleanup() { docker rm -f "$container" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
# check DESCRIPTION EXPECTED-REGEX ACTUAL
check() { if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1: expected /$2/, got: $(head -c 300 <<<"$3")"; fi; }

# --- A CA and the policy server's certificate, as the harness makes them ---
say "certificates"
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj '/CN=lab-dns selftest CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout policy.key -out policy.csr -subj '/CN=mta-sts.iroco.test' 2>/dev/null
printf 'subjectAltName=DNS:mta-sts.iroco.test,DNS:mta-sts.infomaniak.test,DNS:mta-sts.broken.test\nextendedKeyUsage=serverAuth\n' > policy.ext
openssl x509 -req -in policy.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile policy.ext -out policy.pem 2>/dev/null
pass "CA and policy certificate made"

# --- Start the container ----------------------------------------------------
say "start $IMAGE"
docker create --name "$container" "$IMAGE" >/dev/null
for file in ca.pem policy.pem policy.key; do docker cp "$file" "$container:/etc/lab-dns/tls/$file"; done
start=${EPOCHREALTIME/./}
docker start "$container" >/dev/null
for _ in $(seq 1 300); do
  docker logs "$container" 2>/dev/null | grep -qx 'lab-dns: ready' && break
  [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || break
  sleep 0.1
done
if ! docker logs "$container" 2>/dev/null | grep -qx 'lab-dns: ready'; then
  docker logs "$container" 2>&1 | tail -n 40
  echo "selftest: the container never printed 'lab-dns: ready'" >&2
  exit 1
fi
pass "ready after $(( (${EPOCHREALTIME/./} - start) / 1000 )) ms"
ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$container")
pass "container address $ip"

# Ask the resolver on the container's network address, as the providers do.
dig_() { docker exec "$container" kdig @"$ip" +dnssec +timeout=2 +retry=0 "$@"; }
flags() { dig_ "$@" | grep -E '^;; (Flags|->>HEADER)' | tr '\n' ' '; }
# The socketmap protocol Postfix speaks: "<len>:postfix <domain>," both ways.
socketmap() {
  docker exec -i "$container" python3 - "$ip" "$1" <<'PY'
import socket, sys
ip, domain = sys.argv[1], sys.argv[2]
request = ("postfix " + domain).encode()
with socket.create_connection((ip, 8461), timeout=10) as s:
    s.sendall(b"%d:%s," % (len(request), request))
    data = b""
    while not (b":" in data and len(data) >= int(data.split(b":")[0]) + len(data.split(b":")[0]) + 2):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
length, _, rest = data.partition(b":")
print(rest[: int(length)].decode())
PY
}
# Replace the container's plan with $work/plan (the harness rewrites the
# whole folder) and apply it; prints lab-dns-apply's line and the round trip.
apply() {
  docker exec "$container" sh -c 'rm -rf /etc/lab-dns/plan/* /etc/lab-dns/plan/.[!.]*'
  docker cp "$work/plan/." "$container:/etc/lab-dns/plan/"
  local t0=${EPOCHREALTIME/./} out
  out=$(docker exec "$container" lab-dns-apply) || { fail "lab-dns-apply failed"; return 1; }
  printf '  %s\n  (docker exec round trip: %d ms)\n' "$out" $(( (${EPOCHREALTIME/./} - t0) / 1000 ))
}
# zone NAME MX-HOST-ADDRESS: a zone in master-file format, as the harness
# writes it (no DNSSEC records, serial 1).
zone() {
  cat <<ZONE
\$ORIGIN $1.
\$TTL 5
@        IN SOA ns.$1. hostmaster.$1. 1 60 60 600 5
@        IN NS  ns.$1.
ns       IN A   $ip
@        IN MX  10 mx.$1.
mx       IN A   $2
_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_mta-sts IN TXT "v=STSv1; id=${3:-1}"
mta-sts  IN A   $ip
ZONE
}

# --- Plan 1 -------------------------------------------------------------------
say "plan 1: iroco.test signed (enforce policy), infomaniak.test unsigned (testing policy), broken.test bogus"
mkdir -p plan/mta-sts
printf 'iroco.test signed\ninfomaniak.test unsigned\nbroken.test bogus\n' > plan/zones
zone iroco.test 172.30.0.9 > plan/iroco.test.zone
zone infomaniak.test 172.30.0.8 > plan/infomaniak.test.zone
zone broken.test 172.30.0.7 > plan/broken.test.zone
printf 'version: STSv1\nmode: enforce\nmx: mx.iroco.test\nmax_age: 86400\n' > plan/mta-sts/iroco.test.txt
printf 'version: STSv1\nmode: testing\nmx: mx.infomaniak.test\nmax_age: 86400\n' > plan/mta-sts/infomaniak.test.txt
apply

say "1. signed zone"
check "mx.iroco.test A: NOERROR with ad" 'status: NOERROR.*Flags:.* ad' "$(flags mx.iroco.test A)"
check "mx.iroco.test A: the address" '172\.30\.0\.9' "$(dig_ +short mx.iroco.test A)"
check "_25._tcp.mx.iroco.test TLSA: NOERROR with ad" 'status: NOERROR.*Flags:.* ad' "$(flags _25._tcp.mx.iroco.test TLSA)"
check "mx.iroco.test A over TCP: NOERROR with ad" 'status: NOERROR.*Flags:.* ad' "$(flags +tcp mx.iroco.test A)"
check "iroco.test MX with ad" 'status: NOERROR.*Flags:.* ad' "$(flags iroco.test MX)"
check "no TLSA for a name without one: NOERROR/NXDOMAIN with ad (authenticated denial)" 'status: (NOERROR|NXDOMAIN).*Flags:.* ad' "$(flags _25._tcp.ns.iroco.test TLSA)"
say "2. unsigned zone"
answer=$(flags mx.infomaniak.test A)
check "mx.infomaniak.test A: NOERROR" 'status: NOERROR' "$answer"
if grep -q 'Flags:.* ad' <<<"$answer"; then fail "mx.infomaniak.test A has the ad flag"; else pass "mx.infomaniak.test A: no ad flag"; fi
say "3. bogus zone"
check "mx.broken.test A: SERVFAIL" 'status: SERVFAIL' "$(flags mx.broken.test A)"
check "the resolver log says why" 'validation failure <mx.broken.test. A IN>.*(expired|signature)' "$(docker logs "$container" 2>&1 | grep 'validation failure' | tail -n 3)"
say "4. only *.test"
check "example.com A: REFUSED" 'status: REFUSED' "$(flags example.com A)"
check "nothere.test A: NXDOMAIN" 'status: NXDOMAIN' "$(flags nothere.test A)"
check "the resolver logs queries and replies" "info: $ip mx\.iroco\.test\. A IN" "$(docker logs "$container" 2>&1)"
say "5. MTA-STS"
check "the policy server, through the trust store (Python, default context)" 'mode: enforce' \
  "$(docker exec "$container" python3 -c 'import urllib.request; print(urllib.request.urlopen("https://mta-sts.iroco.test/.well-known/mta-sts.txt", timeout=5).read().decode())' 2>&1)"
check "socketmap iroco.test (enforce): OK secure" '^OK secure match=mx\.iroco\.test servername=hostname$' "$(socketmap iroco.test)"
check "socketmap infomaniak.test (testing, not enforced): NOTFOUND" '^NOTFOUND $' "$(socketmap infomaniak.test)"
check "socketmap broken.test (SERVFAIL): NOTFOUND" '^NOTFOUND $' "$(socketmap broken.test)"
check "socketmap nothere.test: NOTFOUND" '^NOTFOUND $' "$(socketmap nothere.test)"
check "the daemon fetched over HTTPS from our server" 'mta-sts-policy: .* sni=mta-sts\.iroco\.test host=mta-sts\.iroco\.test "GET /\.well-known/mta-sts\.txt HTTP/1\.1" 200' "$(docker logs "$container" 2>&1)"

# --- Plan 2: the same world, other states -------------------------------
say "plan 2: iroco.test unsigned without policy, broken.test signed, infomaniak.test gone"
rm -f plan/mta-sts/iroco.test.txt plan/mta-sts/infomaniak.test.txt plan/infomaniak.test.zone
printf 'iroco.test unsigned\nbroken.test signed\n' > plan/zones
apply
answer=$(flags mx.iroco.test A)
check "mx.iroco.test A: NOERROR" 'status: NOERROR' "$answer"
if grep -q 'Flags:.* ad' <<<"$answer"; then fail "mx.iroco.test A still has the ad flag"; else pass "mx.iroco.test A: no ad flag any more (anchor removed)"; fi
check "mx.broken.test A: NOERROR with ad (same keys, valid signatures)" 'status: NOERROR.*Flags:.* ad' "$(flags mx.broken.test A)"
check "mx.infomaniak.test A: NXDOMAIN (zone removed)" 'status: NXDOMAIN' "$(flags mx.infomaniak.test A)"
check "knot no longer serves infomaniak.test" 'status: (NOTAUTH|REFUSED)' "$(docker exec "$container" kdig @127.0.0.1 -p 5300 infomaniak.test SOA)"
check "socketmap iroco.test after the policy was removed: NOTFOUND (cache cleared)" '^NOTFOUND $' "$(socketmap iroco.test)"

# --- Plan 3: back to plan 1's policy, then timings ----------------------
say "plan 3: iroco.test signed with its enforce policy again"
printf 'iroco.test signed\nbroken.test bogus\n' > plan/zones
printf 'version: STSv1\nmode: enforce\nmx: mx.iroco.test\nmax_age: 86400\n' > plan/mta-sts/iroco.test.txt
apply
check "mx.iroco.test A: ad again (same KSK as plan 1)" 'status: NOERROR.*Flags:.* ad' "$(flags mx.iroco.test A)"
check "mx.broken.test A: SERVFAIL again" 'status: SERVFAIL' "$(flags mx.broken.test A)"
check "socketmap iroco.test: OK secure again" '^OK secure' "$(socketmap iroco.test)"

say "6. apply times"
echo "  zone contents changed (MX address):"
zone iroco.test 172.30.0.19 2 > plan/iroco.test.zone
apply
check "the new MX address is served at once" '172\.30\.0\.19' "$(dig_ +short mx.iroco.test A)"
echo "  same plan again (zones unchanged, caches still cleared):"
apply
echo "  only a policy changed:"
printf 'version: STSv1\nmode: testing\nmx: mx.iroco.test\nmax_age: 86400\n' > plan/mta-sts/iroco.test.txt
apply
check "socketmap iroco.test (now testing): NOTFOUND" '^NOTFOUND $' "$(socketmap iroco.test)"
echo "  five zones, all signed, contents changed:"
: > plan/zones
for n in 1 2 3 4 5; do
  echo "zone$n.test signed" >> plan/zones
  zone "zone$n.test" "172.30.1.$n" > "plan/zone$n.test.zone"
done
apply
apply_again() { for n in 1 2 3 4 5; do zone "zone$n.test" "172.30.1.$n" "$1" > "plan/zone$n.test.zone"; done; apply; }
apply_again 7
check "zone5.test signed" 'status: NOERROR.*Flags:.* ad' "$(flags mx.zone5.test A)"

say "the daemon really verifies the policy server's certificate"
# Take the CA out of the trust store: the next fetch must fail, so the OK
# above came from a verified HTTPS fetch. Then put it back. The entrypoint
# appended it to the system bundle: the bundle's last bytes are the CA's.
docker exec "$container" sh -c 'truncate -s -"$(stat -c %s /etc/lab-dns/tls/ca.pem)" /etc/ssl/certs/ca-certificates.crt'
printf 'iroco.test signed\n' > plan/zones
printf 'version: STSv1\nmode: enforce\nmx: mx.iroco.test\nmax_age: 86400\n' > plan/mta-sts/iroco.test.txt
zone iroco.test 172.30.0.9 > plan/iroco.test.zone
apply
check "socketmap iroco.test without the CA: NOTFOUND" '^NOTFOUND $' "$(socketmap iroco.test)"
check "the daemon says why" 'CERTIFICATE_VERIFY_FAILED' "$(docker logs "$container" 2>&1 | grep 'STS policy fetch' | tail -n 1)"
docker exec "$container" sh -c 'cat /etc/lab-dns/tls/ca.pem >> /etc/ssl/certs/ca-certificates.crt'
apply
check "socketmap iroco.test with the CA back: OK secure" '^OK secure' "$(socketmap iroco.test)"

say "a resolver outage: unbound stops and starts again, the container stays"
check "lab-dns-resolver down" '^down in [0-9.]+ s$' "$(docker exec "$container" lab-dns-resolver down 2>&1)"
check "while down: port 53 refuses (a quick failure, no timeout)" "can't connect to .*@53\\(TCP\\)" "$(dig_ +tcp mx.iroco.test A 2>&1 || true)"
[ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] && pass "container still running" || fail "container stopped"
zone iroco.test 172.30.0.10 > plan/iroco.test.zone
check "a plan applied while down is only prepared" 'the resolver is down: read when it starts' "$(apply 2>&1)"
check "lab-dns-resolver up" '^up \(zones answering as planned: iroco.test signed\) in [0-9.]+ s$' "$(docker exec "$container" lab-dns-resolver up 2>&1)"
check "after the restart, validated again (ad)" 'status: NOERROR.*Flags:.* ad' "$(flags mx.iroco.test A)"
check "and the zone applied while it was down" '172\.30\.0\.10' "$(dig_ +short mx.iroco.test A)"

say "errors are reported"
printf 'iroco.test sigend\n' > plan/zones
out=$(docker exec "$container" sh -c 'rm -rf /etc/lab-dns/plan/*' && docker cp "$work/plan/." "$container:/etc/lab-dns/plan/" && docker exec "$container" lab-dns-apply 2>&1) && fail "a bad mode was accepted" || check "a bad mode: clear message, non-zero exit" 'mode of iroco.test must be signed, unsigned or bogus' "$out"
check "after a refused plan the old state still answers" 'status: NOERROR.*Flags:.* ad' "$(flags mx.iroco.test A)"
[ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] && pass "container still running" || fail "container stopped"

say "unbound ending without lab-dns-resolver is still a death"
docker exec "$container" sh -c 'kill -KILL "$(cat /run/lab-dns/unbound.pid)"'
timeout 15 docker wait "$container" >/dev/null || fail "the container still runs 15 s after unbound was killed"
check "the container ended, saying which service" '^lab-dns: unbound exited' "$(docker logs "$container" 2>&1 | grep '^lab-dns: ')"

say "result"
if [ "$failures" -gt 0 ]; then
  docker logs "$container" 2>&1 | tail -n 60
  echo "selftest: $failures check(s) failed" >&2
  exit 1
fi
echo "selftest: all checks passed"
