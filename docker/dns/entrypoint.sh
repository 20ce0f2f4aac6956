#!/bin/bash
# Start the DNS side of the test world: knot (authoritative, 127.0.0.1@5300),
# unbound (validating resolver, :53), the MTA-STS policy web server (:443)
# and the MTA-STS daemon (:8461), all in this one container, all logging to
# its stdout/stderr. Prints "lab-dns: ready" once all four answer; then
# watches them: if one dies, the container exits non-zero (unbound stopped
# by lab-dns-resolver, a resolver outage, is the exception).
# The zones start empty: the harness runs lab-dns-apply right after start.
set -euo pipefail
TLS=/etc/lab-dns/tls
STATE=/var/lib/lab-dns
RUN=/run/lab-dns

say() { printf 'lab-dns: %s\n' "$*"; }
die() { printf 'lab-dns: error: %s\n' "$*" >&2; exit 64; }

for file in ca.pem policy.pem policy.key; do
  [ -s "$TLS/$file" ] || die "$TLS/$file is missing; the harness copies it before start"
done

mkdir -p "$RUN"

# Everything in this container resolves through our own resolver, so the
# MTA-STS daemon finds _mta-sts.<domain> and mta-sts.<domain> in the test
# zones. trust-ad: glibc passes on the AD bit of a local validating resolver.
printf 'nameserver 127.0.0.1\noptions trust-ad\n' > /etc/resolv.conf

# The harness CA into the system trust store: the daemon fetches policies
# over HTTPS with Python's default context, which reads this bundle
# (lab-dns-mta-sts-daemon also points SSL_CERT_FILE at it). Appended, not
# through update-ca-certificates, which rehashes every certificate of the
# system (about a second of each world start); nothing here looks
# certificates up by hash.
cat "$TLS/ca.pem" >> /etc/ssl/certs/ca-certificates.crt
openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt "$TLS/policy.pem" >/dev/null \
  || die "$TLS/policy.pem is not issued by $TLS/ca.pem"

# A fresh start serves no zones, even when the container is restarted:
# forget what a previous plan left (the keys stay; they are per zone).
mkdir -p "$STATE/zones" "$STATE/keys" "$STATE/applied/mta-sts" /var/lib/knot/run
echo '# no zones yet' > "$STATE/knot-zones.conf"
echo '# no zones yet' > "$STATE/unbound-zones.conf"
rm -f "$STATE/zones"/*.zone "$STATE/zones.sum" "$RUN/knot-warnings.log"
rm -rf "$STATE/applied"/* && mkdir -p "$STATE/applied/mta-sts"

knotd -c /etc/knot/knot.conf &
knot_pid=$!
unbound -d -c /etc/unbound/unbound.conf &
unbound_pid=$!
lab-dns-policy-server &
policy_pid=$!
# The MTA-STS daemon, under a small supervisor that restarts it with an
# empty cache on lab-dns-apply's request (see lab-dns-mta-sts-daemon).
lab-dns-mta-sts-daemon &
sts_pid=$!
declare -A name=([$knot_pid]=knotd [$unbound_pid]=unbound [$policy_pid]=lab-dns-policy-server [$sts_pid]=mta-sts-daemon)

stop_all() {
  kill -TERM "${!name[@]}" 2>/dev/null || true
  wait || true
}
trap 'stop_all; exit 0' TERM INT

# Ready means: each of the four answers on its port. A DNS answer of any
# status counts (with no zones, knot refuses and unbound says NXDOMAIN).
dns_answers() { kdig @127.0.0.1 -p "$1" +timeout=1 +retry=0 test. SOA 2>/dev/null | grep -q 'status: '; }
tcp_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ready=no
for _ in $(seq 1 300); do
  for pid in "${!name[@]}"; do
    kill -0 "$pid" 2>/dev/null || { printf 'lab-dns: %s exited during start\n' "${name[$pid]}" >&2; stop_all; exit 1; }
  done
  # Slowest first (the Python daemons): a DNS probe sent before its server
  # has bound the port costs kdig's whole one-second timeout.
  if tcp_accepts 8461 && tcp_accepts 443 && dns_answers 5300 && dns_answers 53; then
    ready=yes
    break
  fi
  sleep 0.1
done
[ "$ready" = yes ] || { printf 'lab-dns: not every service answered within 30 s\n' >&2; stop_all; exit 1; }
say ready

# Supervise: the first of the four to end ends the container, non-zero,
# except unbound stopped at the harness's request (lab-dns-resolver down, a
# resolver outage): then a reader of $RUN/resolver-start-request takes its
# place among the watched, and lab-dns-resolver up writing there starts
# unbound again (its cache empty, the zones and anchors as last applied).
mkfifo "$RUN/resolver-start-request"
while :; do
  status=0
  ended=''
  wait -n -p ended "${!name[@]}" || status=$?
  if [ "${name[$ended]:-}" = unbound ] && [ -e "$RUN/resolver-stop-requested" ]; then
    unset "name[$ended]"
    say "unbound stopped at the harness's request"
    read -r _ < "$RUN/resolver-start-request" &
    name[$!]=resolver-start-request
    : > "$RUN/resolver-stopped"
    continue
  fi
  if [ "${name[$ended]:-}" = resolver-start-request ]; then
    unset "name[$ended]"
    rm -f "$RUN/resolver-stop-requested"
    unbound -d -c /etc/unbound/unbound.conf &
    name[$!]=unbound
    rm -f "$RUN/resolver-stopped"
    say "unbound started again at the harness's request"
    continue
  fi
  break
done
printf 'lab-dns: %s exited (status %s); stopping\n' "${name[$ended]:-a service}" "$status" >&2
stop_all
exit 1
